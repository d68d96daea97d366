/* SPDX-License-Identifier: MIT */
/* The network lock: nftables tables that drop the packets of dumped TCP connections, through nft(8). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "netlock: "
#include "ctx.h"
#include "netlock.h"
#include "util.h"

extern char **environ;

#define TABLE_PREFIX "sdump_lock_"
#define OUT_MAX (1u << 20)

/*
 * nft with @args, @in on its stdin; what it prints on stdout in *@ret_out
 * (when not NULL), its first line of stderr in @err. Its exit status, or
 * -errno (-ENOENT: no nft).
 */
static int run_nft(const char *const *args, const char *in, char **ret_out, char *err, size_t errsz)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 }, st = 0, r = 0;
	posix_spawn_file_actions_t fa;
	char *out = NULL;
	size_t len = 0, elen = 0;
	pid_t pid;

	err[0] = '\0';
	if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
	posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
	posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
	r = -posix_spawnp(&pid, "nft", &fa, NULL, (char *const *)args, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r < 0)
		goto out;
	(void)close(pin[0]);
	(void)close(pout[1]);
	(void)close(perr[1]);
	pin[0] = pout[1] = perr[1] = -1;
	{
		/* nft reads all of its script before it writes much: write, then read */
		struct sigaction ign = { .sa_handler = SIG_IGN }, old;

		/* no fault point (util.h's are for sdump's output): a lock's removal must not fail half way */
		(void)sigaction(SIGPIPE, &ign, &old);
		for (size_t done = 0, len_in = in ? strlen(in) : 0; done < len_in;) {
			ssize_t n = write(pin[1], in + done, len_in - done);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			done += (size_t)n;
		}
		(void)sigaction(SIGPIPE, &old, NULL);
	}
	(void)close(pin[1]);
	pin[1] = -1;
	out = malloc(OUT_MAX + 1);
	for (ssize_t n = 1; out && n > 0 && len < OUT_MAX;) {
		n = read(pout[0], out + len, OUT_MAX - len);
		len += n > 0 ? (size_t)n : 0;
	}
	for (ssize_t n = 1; n > 0 && elen + 1 < errsz;) {
		n = read(perr[0], err + elen, errsz - 1 - elen);
		elen += n > 0 ? (size_t)n : 0;
	}
	err[elen] = '\0';
	err[strcspn(err, "\n")] = '\0';
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	if (out)
		out[len] = '\0';
	if (ret_out) {
		*ret_out = out;
		out = NULL;
	}
out:
	free(out);
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0)
			(void)close(pin[i]);
		if (pout[i] >= 0)
			(void)close(pout[i]);
		if (perr[i] >= 0)
			(void)close(perr[i]);
	}
	return r;
}

static int script(struct sdump_ctx *ctx, const char *what, pid_t pid, const char *text)
{
	static const char *const args[] = { "nft", "-f", "-", NULL };
	char err[512];
	int r = run_nft(args, text, NULL, err, sizeof(err));

	if (r == -ENOENT)
		return sd_errx(ctx, -ENOENT, "cannot %s the network lock of pid %d: no nft command (apt-get install nftables)",
			       what, pid);
	if (r < 0)
		return sd_err(ctx, r, "cannot %s the network lock of pid %d", what, pid);
	if (r)
		return sd_errx(ctx, -EIO, "cannot %s the network lock of pid %d: nft: %s", what, pid, err);
	return 0;
}

/* One rule: the packets from @sa:@sp to @da:@dp dropped, but sdump's own (SD_NETLOCK_MARK). */
static size_t rule(char *buf, size_t size, int family, const uint8_t *sa, uint16_t sp, const uint8_t *da,
		   uint16_t dp)
{
	const char *ip = family == AF_INET ? "ip" : "ip6";
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	(void)inet_ntop(family, sa, s, sizeof(s));
	(void)inet_ntop(family, da, d, sizeof(d));
	return (size_t)snprintf(buf, size, "\t\t%s saddr %s tcp sport %u %s daddr %s tcp dport %u meta mark != 0x%x drop\n",
				ip, s, sp, ip, d, dp, SD_NETLOCK_MARK);
}

int sd_netlock_add(struct sdump_ctx *ctx, pid_t pid, const char *image_dir, const struct netlock_conn *c,
		   size_t n)
{
	size_t size = 1024 + strlen(image_dir) + n * 400, k = 0;
	_cleanup_free_ char *s = malloc(size);
	char dir[4096];
	int r;

	if (!s)
		return sd_err(ctx, -ENOMEM, "cannot lock the network of pid %d", pid);
	if (!realpath(image_dir, dir))
		(void)snprintf(dir, sizeof(dir), "%s", image_dir);
	/* a name nft takes in a quoted string */
	for (char *p = dir; *p; p++)
		if (*p == '"' || *p == '\\' || *p == '\n')
			*p = '?';
	k += (size_t)snprintf(s + k, size - k,
			      "add table inet " TABLE_PREFIX "%d\nflush table inet " TABLE_PREFIX "%d\n"
			      "table inet " TABLE_PREFIX "%d {\n\tchain info {\n\t\tcounter comment \"sdump %d image %s\"\n\t}\n"
			      "\tchain input {\n\t\ttype filter hook input priority -300; policy accept;\n",
			      pid, pid, pid, (int)getpid(), dir);
	for (size_t i = 0; i < n; i++)
		k += rule(s + k, size - k, c[i].family, c[i].peer, c[i].pport, c[i].local, c[i].lport);
	k += (size_t)snprintf(s + k, size - k,
			      "\t}\n\tchain output {\n\t\ttype filter hook output priority -300; policy accept;\n");
	for (size_t i = 0; i < n; i++)
		k += rule(s + k, size - k, c[i].family, c[i].local, c[i].lport, c[i].peer, c[i].pport);
	(void)snprintf(s + k, size - k, "\t}\n}\n");
	r = script(ctx, "take", pid, s);
	if (r == 0)
		pr_info(ctx, "pid %d: network lock taken (table inet " TABLE_PREFIX "%d, %zu connections)", pid, pid, n);
	return r;
}

int sd_netlock_remove(struct sdump_ctx *ctx, pid_t pid)
{
	char s[160];
	int r;

	/* add first: a delete of a table that is not there fails */
	(void)snprintf(s, sizeof(s), "add table inet " TABLE_PREFIX "%d\ndelete table inet " TABLE_PREFIX "%d\n", pid,
		       pid);
	r = script(ctx, "remove", pid, s);
	if (r == 0)
		pr_info(ctx, "pid %d: network lock removed", pid);
	return r;
}

/* Whether process @pid is an sdump still. */
static bool sdump_alive(pid_t pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	(void)snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	(void)fclose(f);
	return !strncmp(comm, "sdump", 5);
}

/* The comment of table @pid's info rule into @i. */
static void read_info(pid_t pid, struct netlock_info *i)
{
	char table[64], err[256], *out = NULL, *c;
	const char *args[] = { "nft", "list", "table", "inet", table, NULL };
	struct stat st;
	char inv[4200];

	(void)snprintf(table, sizeof(table), TABLE_PREFIX "%d", (int)pid);
	i->pid = pid;
	if (run_nft(args, NULL, &out, err, sizeof(err)) == 0 && out && (c = strstr(out, "comment \"sdump "))) {
		int sp = 0, len = 0;

		if (sscanf(c, "comment \"sdump %d image %n", &sp, &len) >= 1 && len) {
			size_t e = strcspn(c + len, "\"");

			i->sdump_pid = sp;
			(void)snprintf(i->image, sizeof(i->image), "%.*s", (int)e, c + len);
		}
	}
	free(out);
	(void)snprintf(inv, sizeof(inv), "%s/inventory.img", i->image);
	i->stale = !i->image[0] || stat(i->image, &st) < 0 ||
		   (stat(inv, &st) < 0 && !sdump_alive(i->sdump_pid));
}

int sd_netlock_list(struct netlock_info **ret, size_t *ret_n)
{
	static const char *const args[] = { "nft", "list", "tables", NULL };
	struct netlock_info *v = NULL;
	char err[256], *out = NULL, *p;
	size_t n = 0;
	int r = run_nft(args, NULL, &out, err, sizeof(err));

	*ret = NULL;
	*ret_n = 0;
	if (r != 0) {
		free(out);
		return r < 0 ? r : -EIO;
	}
	for (p = out; p && (p = strstr(p, "table inet " TABLE_PREFIX)); p++) {
		int pid = atoi(p + strlen("table inet " TABLE_PREFIX));
		struct netlock_info *w = realloc(v, (n + 1) * sizeof(*v));

		if (!w) {
			free(v);
			free(out);
			return -ENOMEM;
		}
		v = w;
		memset(&v[n], 0, sizeof(v[n]));
		read_info(pid, &v[n]);
		n++;
	}
	free(out);
	*ret = v;
	*ret_n = n;
	return 0;
}

void sd_netlock_sweep(struct sdump_ctx *ctx)
{
	struct netlock_info *v;
	size_t n;

	if (sd_netlock_list(&v, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].stale)
			continue;
		pr_warn(ctx, "a stale network lock of pid %d (image %s, no dump committed there) removed", v[i].pid,
			v[i].image[0] ? v[i].image : "unknown");
		(void)sd_netlock_remove(ctx, v[i].pid);
	}
	free(v);
}
