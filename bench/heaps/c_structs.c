/* a C program's heap: a hash table of malloc'd records with strdup'd strings, and a tree */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static const char *W[] = {"alpha","bravo","charlie","delta","echo","foxtrot","golf","hotel","india","juliet","kilo","lima","mike","november","oscar","papa","quebec","romeo","sierra","tango","uniform","victor","whiskey","xray","yankee","zulu"};
struct rec { struct rec *next; char *name; char *email; int id, age; double score; int ntags; const char **tags; long visits[4]; };
struct node { struct node *l, *r; long key; struct rec *rec; };
static unsigned long s = 6; static unsigned long rnd(void) { s = s * 6364136223846793005ul + 1442695040888963407ul; return s >> 33; }
static struct node *ins(struct node *t, struct node *n) { if (!t) return n; if (n->key < t->key) t->l = ins(t->l, n); else t->r = ins(t->r, n); return t; }
int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 2000000, nb = n / 2;
	struct rec **tab = calloc(nb, sizeof(*tab)); struct node *root = NULL; char buf[256];
	for (long i = 0; i < n; i++) {
		struct rec *r = malloc(sizeof(*r)); const char *a = W[rnd() % 26], *b = W[rnd() % 26];
		snprintf(buf, sizeof buf, "%s %s", a, b); r->name = strdup(buf);
		snprintf(buf, sizeof buf, "%s.%s.%ld@example.com", a, b, i); r->email = strdup(buf);
		r->id = (int)i; r->age = 18 + (int)(rnd() % 72); r->score = (rnd() % 100000) / 1000.0;
		r->ntags = (int)(rnd() % 5); r->tags = malloc(sizeof(char *) * (r->ntags + 1));
		for (int k = 0; k < r->ntags; k++) r->tags[k] = W[rnd() % 26];
		for (int k = 0; k < 4; k++) r->visits[k] = (rnd() % 3) ? (long)(rnd() % 1000000) : 0;
		unsigned long h = (unsigned long)i * 2654435761u % nb; r->next = tab[h]; tab[h] = r;
		if (i % 4 == 0) { struct node *nd = calloc(1, sizeof(*nd)); nd->key = (long)rnd(); nd->rec = r; root = ins(root, nd); }
	}
	printf("ready\n"); fflush(stdout); getchar(); return root == NULL;
}
