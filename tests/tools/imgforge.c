/* SPDX-License-Identifier: MIT */
/*
 * imgforge: turn a real image into a hostile one whose checksums are all
 * valid, so that what is tested is the reader's handling of absurd values,
 * not its CRC checks. Records are rewritten with the library's own encoder.
 *
 *   imgforge DIR SCENARIO
 *
 * Scenarios (DIR is a final dump; only the named file changes):
 *   mm-high          mm.img: a VMA added at 0x800000000000, above user space
 *   mm-start-gt-end  mm.img: the first VMA's start and end swapped
 *   mm-pgoff-wrap    mm.img: a VMA whose file offset + length overflows
 *   mm-million       mm.img: 1048577 VMAs (one page each)
 *   mm-huge-hole     mm.img: a valid 16 TiB PROT_NONE reservation, nothing saved of it
 *   pm-high          pagemap.img: a run of zero pages at 0x800000000000
 *   pm-npages-wrap   pagemap.img: the first run's page count * page size wraps
 *   pm-off-wrap      pagemap.img: a data run whose stream offset + length wraps
 *   pm-drop-data     pagemap.img: the first run of stored pages left out (in a
 *                    parent pass, a hole its child's runs may fall into)
 *   frame-huge       pagemap.img: a frame size of 2 GiB
 *   frame-csize      pagemap.img: the first frame's compressed size 4 GiB - 1
 *   frames-million   pagemap.img: a million more frames than the stream has
 *   tids-many        process.img: 70000 thread ids
 *   fds-million      files.img: 1048577 fds
 *   sk-name-long     files.img: a unix socket more added, bound to a name of 109 bytes
 *   sk-queue-many    files.img: a unix socket more added, 65537 messages queued on it
 *   sk-inet-opt      files.img: a TCP socket more added, with an option sdump does not set
 *   pidfd-pid-chr    files.img: the first fd names a process as a pidfd of a member would
 *                    (pidfd_pid), and is no pidfd
 *   pending-many     core-<leader>.img: 5000 pending signals
 *   cpus-absent      core-<leader>.img: a CPU affinity of CPU 8191 alone
 *
 *   imgforge DIR paths PATH
 *                    PATH as the executable (process.img), the cwd, the path
 *                    of every fd and of every file VMA (mm.img): a path from
 *                    an image is data, never something to run
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdump.h"
#include "core.pb-c.h"
#include "files.pb-c.h"
#include "image.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "process.pb-c.h"

/*
 * A one-shot tool that forges one file and exits: what it unpacked is left
 * to the exit, so leak checking (a -DSDUMP_SANITIZE=ON build) is off for it.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

static struct sdump_ctx *ctx;
static struct img_dir dir = { .dirfd = -1 };

static void die(const char *what)
{
	const char *e = sdump_ctx_last_error(ctx);

	(void)fprintf(stderr, "imgforge: %s%s%s\n", what, e ? ": " : "", e ? e : "");
	exit(1);
}

static void *read_one(const char *name, enum img_type type, const ProtobufCMessageDescriptor *desc)
{
	ProtobufCMessage *m;

	if (sd_img_read_one(ctx, &dir, name, type, desc, &m) < 0)
		die(name);
	return m;
}

static void write_one(const char *name, enum img_type type, const ProtobufCMessage *m)
{
	if (sd_img_write_one(ctx, &dir, name, type, m, NULL) < 0)
		die(name);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		die("out of memory");
	return p;
}

/* pagemap.img: its head and entries, changed by @fn, written back. */
struct pagemap {
	PagemapHead *head;
	PagemapEntry **e;
	size_t n;
};

static void pagemap_read(struct pagemap *pm)
{
	struct img_rec_reader rd;
	ProtobufCMessage *m;
	size_t cap = 0;
	int r;

	if (sd_img_rec_open(ctx, &dir, "pagemap.img", IMG_PAGEMAP, &rd) < 0)
		die("pagemap.img");
	if (sd_img_rec_next(&rd, &pagemap_head__descriptor, &m) != 1)
		die("pagemap.img head");
	pm->head = (PagemapHead *)m;
	while ((r = sd_img_rec_next(&rd, &pagemap_entry__descriptor, &m)) == 1) {
		if (pm->n == cap) {
			cap = cap ? cap * 2 : 64;
			pm->e = realloc(pm->e, cap * sizeof(*pm->e));
			if (!pm->e)
				die("out of memory");
		}
		pm->e[pm->n++] = (PagemapEntry *)m;
	}
	if (r < 0)
		die("pagemap.img entries");
	sd_img_rec_reader_release(&rd);
}

static void pagemap_write(const struct pagemap *pm, const PagemapEntry *extra)
{
	struct img_rec_writer w = { 0 };

	if (sd_img_rec_add(&w, &pm->head->base) < 0)
		die("pagemap.img");
	for (size_t i = 0; i < pm->n; i++)
		if (sd_img_rec_add(&w, &pm->e[i]->base) < 0)
			die("pagemap.img");
	if (extra && sd_img_rec_add(&w, &extra->base) < 0)
		die("pagemap.img");
	if (sd_img_rec_commit(ctx, &dir, "pagemap.img", IMG_PAGEMAP, &w, NULL) < 0)
		die("pagemap.img");
	sd_img_rec_writer_release(&w);
}

static void mm_scenario(const char *s)
{
	Mm *mm = read_one("mm.img", IMG_MM, &mm__descriptor);
	Vma extra = VMA__INIT, *vs = NULL, **vp = NULL;
	size_t n = mm->n_vmas;

	if (!strcmp(s, "mm-start-gt-end")) {
		uint64_t t = mm->vmas[0]->start;

		mm->vmas[0]->start = mm->vmas[0]->end;
		mm->vmas[0]->end = t;
		write_one("mm.img", IMG_MM, &mm->base);
		return;
	}
	if (!strcmp(s, "mm-pgoff-wrap")) {
		for (size_t i = 0; i < n; i++)
			if (mm->vmas[i]->kind == VMA_KIND__VMA_FILE) {
				mm->vmas[i]->pgoff = 0xfffffffffffff000ull;
				write_one("mm.img", IMG_MM, &mm->base);
				return;
			}
		die("no file VMA");
	}
	if (!strcmp(s, "mm-shared-pid")) {
		/* another member's memory, on private anonymous memory */
		for (size_t i = 0; i < n; i++)
			if (mm->vmas[i]->kind == VMA_KIND__VMA_ANON) {
				mm->vmas[i]->has_shared_pid = true;
				mm->vmas[i]->shared_pid = 1;
				write_one("mm.img", IMG_MM, &mm->base);
				return;
			}
		die("no anonymous VMA");
	}
	if (!strcmp(s, "mm-million")) {
		/* one page each, from 1 TiB up: sorted, not overlapping, all valid but their number */
		size_t many = (1u << 20) + 1;

		vs = xcalloc(many, sizeof(*vs));
		vp = xcalloc(many, sizeof(*vp));
		for (size_t i = 0; i < many; i++) {
			vma__init(&vs[i]);
			vs[i].start = (1ull << 40) + i * 4096;
			vs[i].end = vs[i].start + 4096;
			vs[i].prot = 3;
			vs[i].kind = VMA_KIND__VMA_ANON;
			vp[i] = &vs[i];
		}
		mm->n_vmas = many;
		mm->vmas = vp;
		write_one("mm.img", IMG_MM, &mm->base);
		return;
	}
	/* the rest add one VMA, kept in address order */
	extra.prot = 3;
	extra.kind = VMA_KIND__VMA_ANON;
	if (!strcmp(s, "mm-high")) {
		extra.start = 0x800000000000ull;
		extra.end = extra.start + 4096;
	} else if (!strcmp(s, "mm-huge-hole")) {
		extra.start = 0x100000000000ull;
		extra.end = extra.start + (16ull << 40);
		extra.prot = 0;
	} else {
		die("unknown scenario");
	}
	vp = xcalloc(n + 1, sizeof(*vp));
	for (size_t i = 0, k = 0; k < n; k++) {
		if (i == k && mm->vmas[k]->start > extra.start)
			vp[i++] = &extra;
		vp[i++] = mm->vmas[k];
	}
	if (vp[n] == NULL)
		vp[n] = &extra;
	mm->n_vmas = n + 1;
	mm->vmas = vp;
	write_one("mm.img", IMG_MM, &mm->base);
}

static void pm_scenario(const char *s)
{
	struct pagemap pm = { 0 };
	PagemapEntry extra = PAGEMAP_ENTRY__INIT;
	PagesFrame *fr, **frp;

	pagemap_read(&pm);
	if (!strcmp(s, "pm-high")) {
		extra.vaddr = 0x800000000000ull;
		extra.nr_pages = 1;
		extra.kind = PAGES_KIND__PAGES_ZERO;
		pagemap_write(&pm, &extra);
		return;
	}
	if (!strcmp(s, "pm-npages-wrap")) {
		pm.e[0]->nr_pages = (1ull << 52) + 1;
	} else if (!strcmp(s, "pm-drop-data")) {
		size_t i = 0;

		while (i < pm.n && pm.e[i]->kind != PAGES_KIND__PAGES_DATA)
			i++;
		if (i == pm.n)
			die("no run of stored pages");
		memmove(&pm.e[i], &pm.e[i + 1], (pm.n - i - 1) * sizeof(*pm.e));
		pm.n--;
	} else if (!strcmp(s, "pm-off-wrap")) {
		for (size_t i = 0; i < pm.n; i++)
			if (pm.e[i]->kind == PAGES_KIND__PAGES_DATA) {
				pm.e[i]->off = 0xfffffffffffff000ull;
				pm.e[i]->nr_pages = 2;
				break;
			}
	} else if (!strcmp(s, "frame-huge")) {
		pm.head->frame_size = 1u << 31;
	} else if (!strcmp(s, "frame-csize")) {
		pm.head->frames[0]->csize = 0xffffffffu;
	} else if (!strcmp(s, "frames-million")) {
		size_t n = pm.head->n_frames, many = n + 1000000;

		fr = xcalloc(many, sizeof(*fr));
		frp = xcalloc(many, sizeof(*frp));
		for (size_t i = 0; i < many; i++) {
			pages_frame__init(&fr[i]);
			fr[i] = i < n ? *pm.head->frames[i] : (PagesFrame){ fr[0].base, 1, 0, 0, 0 };
			frp[i] = &fr[i];
		}
		pm.head->n_frames = many;
		pm.head->frames = frp;
	} else {
		die("unknown scenario");
	}
	pagemap_write(&pm, NULL);
}

static void state_scenario(const char *s)
{
	Process *p = read_one("process.img", IMG_PROCESS, &process__descriptor);

	if (!strcmp(s, "tids-many")) {
		size_t many = 70000;
		int32_t *tids = xcalloc(many, sizeof(*tids));

		for (size_t i = 0; i < many; i++)
			tids[i] = i ? (int32_t)(100000 + i) : p->tids[0];
		p->n_tids = many;
		p->tids = tids;
		write_one("process.img", IMG_PROCESS, &p->base);
	} else if (!strcmp(s, "fds-million")) {
		Files *f = read_one("files.img", IMG_FILES, &files__descriptor);
		size_t many = (1u << 20) + 1;
		Fd *fd = xcalloc(many, sizeof(*fd));
		Fd **fdp = xcalloc(many, sizeof(*fdp));

		for (size_t i = 0; i < many; i++) {
			fd__init(&fd[i]);
			fd[i].fd = (int32_t)i;
			fd[i].kind = FD_KIND__FD_CHR;
			fd[i].path = "/dev/null";
			fdp[i] = &fd[i];
		}
		f->n_fds = many;
		f->fds = fdp;
		write_one("files.img", IMG_FILES, &f->base);
	} else if (!strcmp(s, "sk-name-long") || !strcmp(s, "sk-queue-many") || !strcmp(s, "sk-inet-opt")) {
		static uint8_t name[109] = "/tmp/x";
		Files *f = read_one("files.img", IMG_FILES, &files__descriptor);
		Fd **fdp = xcalloc(f->n_fds + 1, sizeof(*fdp));
		Fd *fd = xcalloc(1, sizeof(*fd));
		Socket *k = xcalloc(1, sizeof(*k));
		size_t many = 65537;

		memcpy(fdp, f->fds, f->n_fds * sizeof(*fdp));
		fd__init(fd);
		fd->fd = f->n_fds ? f->fds[f->n_fds - 1]->fd + 1 : 0;
		fd->kind = FD_KIND__FD_UNIX;
		fd->path = "socket:[4242]";
		socket__init(k);
		k->family = 1; /* AF_UNIX */
		k->type = 2;   /* SOCK_DGRAM */
		k->state = 7;  /* not connected */
		k->ino = 4242;
		if (!strcmp(s, "sk-inet-opt")) {
			static SockOpt o = SOCK_OPT__INIT;
			static SockOpt *op = &o;

			fd->kind = FD_KIND__FD_INET;
			k->family = 2; /* AF_INET */
			k->type = 1;   /* SOCK_STREAM */
			k->has_protocol = true;
			k->protocol = 6; /* IPPROTO_TCP */
			o.level = 6;
			o.name = 9999;
			k->n_opts = 1;
			k->opts = &op;
		} else if (!strcmp(s, "sk-name-long")) {
			k->has_name = true;
			k->name = (ProtobufCBinaryData){ sizeof(name), name };
		} else {
			SockPacket *q = xcalloc(many, sizeof(*q));
			SockPacket **qp = xcalloc(many, sizeof(*qp));

			for (size_t i = 0; i < many; i++) {
				sock_packet__init(&q[i]);
				qp[i] = &q[i];
			}
			k->n_queue = many;
			k->queue = qp;
		}
		fd->sk = k;
		fdp[f->n_fds] = fd;
		f->n_fds++;
		f->fds = fdp;
		write_one("files.img", IMG_FILES, &f->base);
	} else if (!strcmp(s, "pidfd-pid-chr")) {
		Files *f = read_one("files.img", IMG_FILES, &files__descriptor);

		if (!f->n_fds || f->fds[0]->kind == FD_KIND__FD_PIDFD)
			die("no fd to forge");
		f->fds[0]->has_pidfd_pid = true;
		f->fds[0]->pidfd_pid = 1;
		write_one("files.img", IMG_FILES, &f->base);
	} else if (!strcmp(s, "pending-many")) {
		char name[64];
		ThreadCore *c;
		size_t many = 5000;
		SigInfo *si, **sip;

		(void)snprintf(name, sizeof(name), "core-%d.img", p->tids[0]);
		c = read_one(name, IMG_CORE, &thread_core__descriptor);
		si = xcalloc(many, sizeof(*si));
		sip = xcalloc(many, sizeof(*sip));
		for (size_t i = 0; i < many; i++) {
			sig_info__init(&si[i]);
			sip[i] = &si[i];
		}
		c->n_pending = many;
		c->pending = sip;
		write_one(name, IMG_CORE, &c->base);
	} else if (!strcmp(s, "cpus-absent")) {
		static uint8_t mask[1024];
		char name[64];
		ThreadCore *c;

		(void)snprintf(name, sizeof(name), "core-%d.img", p->tids[0]);
		c = read_one(name, IMG_CORE, &thread_core__descriptor);
		if (!c->attrs)
			die("no attrs in the image");
		mask[sizeof(mask) - 1] = 0x80;
		c->attrs->cpus = (ProtobufCBinaryData){ sizeof(mask), mask };
		write_one(name, IMG_CORE, &c->base);
	} else {
		die("unknown scenario");
	}
}

static void paths_scenario(char *path)
{
	Process *p = read_one("process.img", IMG_PROCESS, &process__descriptor);
	Files *f = read_one("files.img", IMG_FILES, &files__descriptor);
	Mm *mm = read_one("mm.img", IMG_MM, &mm__descriptor);

	p->mm->exe = path;
	p->cwd = path;
	write_one("process.img", IMG_PROCESS, &p->base);
	for (size_t i = 0; i < f->n_fds; i++)
		f->fds[i]->path = path;
	write_one("files.img", IMG_FILES, &f->base);
	for (size_t i = 0; i < mm->n_vmas; i++)
		if (mm->vmas[i]->kind == VMA_KIND__VMA_FILE || mm->vmas[i]->kind == VMA_KIND__VMA_FILE_SHARED)
			mm->vmas[i]->path = path;
	write_one("mm.img", IMG_MM, &mm->base);
}

int main(int argc, char **argv)
{
	const char *s;

	if (argc < 3 || (argc != 4 && !strcmp(argv[2], "paths")) ||
	    (argc != 3 && strcmp(argv[2], "paths"))) {
		(void)fprintf(stderr, "usage: imgforge DIR SCENARIO | imgforge DIR paths PATH\n");
		return 2;
	}
	s = argv[2];
	if (sdump_ctx_new(&ctx) < 0 || sd_img_dir_open(ctx, argv[1], &dir) < 0)
		die(argv[1]);
	if (!strcmp(s, "paths"))
		paths_scenario(argv[3]);
	else if (!strncmp(s, "mm-", 3))
		mm_scenario(s);
	else if (!strncmp(s, "pm-", 3) || !strncmp(s, "frame", 5))
		pm_scenario(s);
	else
		state_scenario(s);
	sd_img_dir_release(&dir);
	sdump_ctx_free(ctx);
	return 0;
}
