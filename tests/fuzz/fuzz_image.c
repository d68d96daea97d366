/* SPDX-License-Identifier: MIT */
/*
 * Fuzzing the image reader: the input replaces one file of an otherwise
 * valid two-pass chain (a pre-dump and a final dump on top of it), then the
 * read paths run in-process: sdump_image_info_load() (sdump show: every
 * record file, every frame checksum, the chain, the process state) with its
 * text and JSON output, sdump_extract() over the recorded VMAs, and
 * sdump_coredump() (the state and memory that a restore reads too).
 *
 * The final dump maps a deleted file (private, 7 pages, a hole in it, a
 * page of it written by the process in each pass), its contents saved in
 * ghosts.img and ghost-data.img by the library's ghost writer from a file
 * made and deleted at start-up, as a real dump saves one: extract and
 * coredump read its unsaved pages from there.
 *
 * Input: byte 0 chooses the file (low nibble, modulo the number of files:
 * 15, of at most 16) and how the rest becomes that file (bits 4-5):
 *   0  the rest is the uncompressed records (u32 length + protobuf, repeated),
 *      encoded by the harness with a valid header, zstd frame and trailer;
 *      for a file of frames (pages.img, ghost-data.img), the raw stream, cut
 *      into frames by the harness, with the frame table its index keeps
 *      (pagemap.img, ghosts.img) rewritten to match; ghost-data.img's stream
 *      is cut or padded with zeros to the length ghosts.img's files take;
 *   1  the rest is the file itself, its checksums fixed up (the header CRC,
 *      the trailer's length and CRC; for a file of frames, the frame CRCs
 *      that its index keeps, for the frame sizes it records);
 *   2  the rest is the file itself, written as is (the checksums must catch it).
 * Modes 0 and 1 get the fuzzer past the CRC-32C checks, so that the parsers
 * behind them see what it makes.
 *
 * Linked with libFuzzer (LLVMFuzzerTestOneInput) or, through afl_driver.c,
 * with AFL++. The base image is built at start-up with the library's own
 * writers, in a temporary directory, the same on every run but for the
 * deleted file's path, device and inode (no read path opens a deleted
 * file: its contents come from the image). SDUMP_FUZZ_VERBOSE=1 prints the
 * library's log and how each read path ended, to see what an input reaches.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <zstd.h>

#include "sdump.h"
#include "ctx.h"
#include "crc32c.h"
#include "ghost.pb-c.h"
#include "ghost_img.h"
#include "image.h"
#include "img_files.h"
#include "pages_img.h"
#include "pass_img.h"
#include "pagemap_img.h"
#include "pstate.h"
#include "state_img.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PSZ 4096u
#define TID 4242
#define ANON_START 0x10000000ull
#define ANON_PAGES 512u
#define FILE_START 0x400000ull
#define FILE_PAGES 4u
#define VDSO_START 0x7ffff7ff0000ull
#define STACK_START 0x7ffffffde000ull
#define STACK_END 0x7ffffffff000ull
#define FRAME_SIZE (16 * PSZ)
/*
 * The deleted file: data in [0, 3 pages) and [5 pages, GHOST_SIZE), a hole
 * between; mapped from its second page on, to its last (partial) page.
 */
#define GHOST_START 0x500000ull
#define GHOST_PAGES 7u
#define GHOST_PGOFF PSZ
#define GHOST_HOLE_START (3 * PSZ)
#define GHOST_HOLE_END (5 * PSZ)
#define GHOST_SIZE (7 * PSZ + 123)
#define GHOST_FRAME_SIZE (2 * PSZ) /* ghost-data.img's frames: several, however small */

struct base_file {
	const char *pass;	/* "1" (pre-dump) or "2" (dump) */
	const char *name;
	uint8_t *data;		/* pristine contents */
	size_t len;
};

static char base_dir[256];
static pid_t base_pid;
static char pass_path[2][300];
#define F(pass, name) { pass, name, NULL, 0 }
static struct base_file files[] = {
	F("2", "inventory.img"), F("2", "mm.img"),	 F("2", "pagemap.img"), F("2", "stats.img"),
	F("2", "pages.img"),	 F("2", "process.img"), F("2", "core-4242.img"), F("2", "files.img"),
	F("1", "inventory.img"), F("1", "mm.img"),	 F("1", "pagemap.img"), F("1", "stats.img"),
	F("1", "pages.img"),
	/* new files go last: the selector of every input kept stays the same */
	F("2", "ghosts.img"),	 F("2", "ghost-data.img"),
};

/* A file of frames and the file that keeps its frame table. */
struct frames_file {
	const char *name, *index;
	enum img_file f;
	uint32_t frame_size;	/* the harness's framing, base image and mode 0 */
};
static const struct frames_file frames_files[] = {
	{ "pages.img", "pagemap.img", IMGF_PAGES, FRAME_SIZE },
	{ "ghost-data.img", "ghosts.img", IMGF_GHOST_DATA, GHOST_FRAME_SIZE },
};

/* The deleted file, open, its name gone */
static int ghost_fd = -1;
static struct stat ghost_st;
static char ghost_path[320];
static struct sdump_ctx *ctx;
static FILE *devnull;
static bool verbose;
static int devnull_fd = -1, core_fd = -1;

static void die(const char *what)
{
	(void)fprintf(stderr, "fuzz_image: cannot build the base image: %s: %s\n", what,
		      ctx && sdump_ctx_last_error(ctx) ? sdump_ctx_last_error(ctx) : "");
	abort();
}

static void fill_pattern(uint8_t *p, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((seed * 131 + i * 7 + (i >> 12)) & 0xff);
}

/* Write @npages of pattern into the pass's stream; returns the stream offset. */
static uint64_t put_pages(struct pagestore_writer *w, size_t npages, uint64_t seed)
{
	uint64_t first = UINT64_MAX;

	while (npages > 0) {
		uint8_t *buf;
		size_t room, n;
		uint64_t off;

		if (sd_pagestore_reserve(w, &buf, &room, &off) < 0)
			die("reserve");
		if (first == UINT64_MAX)
			first = off;
		n = MIN(room / PSZ, npages);
		fill_pattern(buf, n * PSZ, seed + off);
		if (sd_pagestore_commit(w, n * PSZ) < 0)
			die("commit");
		npages -= n;
	}
	return first;
}

static void add_vma(struct vma_list *l, uint64_t start, uint64_t end, uint32_t prot,
		    enum vma_kind kind, const char *path, const struct stat *st)
{
	struct vma *v = &l->v[l->n++];

	*v = (struct vma){ .start = start, .end = end, .prot = prot, .kind = kind };
	if (path) {
		v->path = strdup(path);
		if (!v->path)
			die("strdup");
	}
	if (st) {
		v->dev_major = major(st->st_dev);
		v->dev_minor = minor(st->st_dev);
		v->ino = st->st_ino;
		v->has_file_size = true;
		v->file_size = (uint64_t)st->st_size;
	}
}

static void build_state(struct process_state *ps, struct files_state *fs)
{
	struct thread_state *t;
	uint64_t auxv[4] = { 6 /* AT_PAGESZ */, PSZ, 0, 0 };
	struct fd_state *d;

	ps->pid = ps->pgid = ps->sid = TID;
	ps->ppid = 1;
	ps->sigactions[1] = (struct ksigaction){ 0x401000, 0x04000000, 0x401100, 0 };
	ps->mm.start_code = FILE_START;
	ps->mm.end_code = FILE_START + PSZ;
	ps->mm.start_brk = ps->mm.brk = ANON_START;
	ps->mm.start_stack = STACK_END - 0x100;
	ps->mm.arg_start = STACK_END - 0x80;
	ps->mm.arg_end = STACK_END - 0x70;
	ps->mm.env_start = ps->mm.arg_end;
	ps->mm.env_end = STACK_END - 0x10;
	ps->mm.auxv = malloc(sizeof(auxv));
	if (!ps->mm.auxv)
		die("malloc");
	memcpy(ps->mm.auxv, auxv, sizeof(auxv));
	ps->mm.auxv_len = sizeof(auxv);
	(void)snprintf(ps->mm.exe, sizeof(ps->mm.exe), "/bin/true");
	ps->mm.vdso = VDSO_START;
	for (int i = 0; i < NRLIMITS; i++)
		ps->rlimits[i] = (struct rlimit64_s){ UINT64_MAX, UINT64_MAX };
	ps->umask = 022;
	(void)snprintf(ps->cwd, sizeof(ps->cwd), "/");
	(void)snprintf(ps->root, sizeof(ps->root), "/");
	ps->ngroups = 1;
	ps->dumpable = 1;
	ps->nthreads = 1;
	ps->threads = calloc(1, sizeof(*ps->threads));
	ps->nshared = 1;
	ps->shared = calloc(1, SIGINFO_SIZE);
	if (!ps->threads || !ps->shared)
		die("calloc");
	ps->shared[0][0] = 10; /* SIGUSR1 */
	t = &ps->threads[0];
	t->tid = TID;
	t->regs.rip = FILE_START + 0x10;
	t->regs.rsp = STACK_END - 0x200;
	t->regs.orig_rax = (unsigned long long)-1;
	t->xsave_len = 576;
	t->xsave = calloc(1, t->xsave_len);
	t->npending = 1;
	t->pending = calloc(1, SIGINFO_SIZE);
	if (!t->xsave || !t->pending)
		die("calloc");
	t->pending[0][0] = 12; /* SIGUSR2 */
	t->has_rseq = true;
	t->rseq_abi = STACK_END - 0x400;
	t->rseq_size = 32;
	t->rseq_sig = 0x53053053;
	(void)snprintf(t->comm, sizeof(t->comm), "fuzzed");

	fs->n = 2;
	fs->fds = calloc(2, sizeof(*fs->fds));
	if (!fs->fds)
		die("calloc");
	d = &fs->fds[0];
	d->fd = 0;
	d->kind = FDK_CHR;
	d->path = strdup("/dev/null");
	d->flags = O_RDWR;
	d = &fs->fds[1];
	d->fd = 3;
	d->kind = FDK_PIPE;
	d->path = strdup("pipe:[1234]");
	d->has_pipe_data = true;
	d->pipe_data_len = 5;
	d->pipe_data = malloc(5);
	if (!d->pipe_data || !fs->fds[0].path || !d->path)
		die("malloc");
	memcpy(d->pipe_data, "hello", 5);
}

/* The deleted file saved into @dir's ghosts.img and ghost-data.img; its id. */
static uint32_t save_ghost(struct img_dir *dir)
{
	struct ghost_writer *gw = NULL;
	struct ghost_file meta = {
		.path = ghost_path,
		.size = (uint64_t)ghost_st.st_size,
		.mode = ghost_st.st_mode,
		.uid = ghost_st.st_uid,
		.gid = ghost_st.st_gid,
		.dev_major = major(ghost_st.st_dev),
		.dev_minor = minor(ghost_st.st_dev),
		.ino = ghost_st.st_ino,
	};
	uint64_t size;
	uint32_t id = 0;

	if (sd_ghost_writer_new(ctx, dir, 1, 1, &gw) < 0 ||
	    sd_ghost_writer_add(gw, ghost_fd, &meta, SDUMP_GHOST_LIMIT_DEFAULT, &id) < 0 ||
	    sd_ghost_writer_finish(gw, &size) < 0 || id == 0)
		die("ghost writer");
	sd_ghost_writer_free(gw);
	return id;
}

/*
 * One pass. Pass 1 (pre-dump): anon pages 0-299 stored, 300-399 zero; the
 * file's first page written; page 1 of the deleted file's VMA written; the
 * vdso; the stack. Pass 2 (dump): the deleted file's contents saved, page 3
 * of its VMA (in the hole) written, the others read from ghost-data.img,
 * every frame of it; anon pages 0-9 stored, 10-399 in the parent, the stack
 * again, and the process state.
 */
static void build_pass(int n, const char *file_path, const struct stat *file_st)
{
	struct img_dir dir = { .dirfd = -1 };
	struct pass_meta m = { 0 };
	struct vma_list vl = { 0 };
	struct pmimg pm = { .page_size = PSZ, .frame_size = PAGESTORE_FRAME_SIZE };
	struct pagestore_writer *w = NULL;
	struct sdump_stats st = { 0 };
	struct vma *gv;
	uint64_t off;

	if (sd_img_dir_create(ctx, pass_path[n - 1], &dir) < 0)
		die("img_dir_create");
	vl.v = calloc(5, sizeof(*vl.v));
	vl.cap = 5;
	if (!vl.v)
		die("calloc");
	add_vma(&vl, FILE_START, FILE_START + FILE_PAGES * PSZ, PROT_READ | PROT_EXEC, VK_FILE,
		file_path, file_st);
	add_vma(&vl, GHOST_START, GHOST_START + GHOST_PAGES * PSZ, PROT_READ | PROT_WRITE, VK_FILE,
		ghost_path, &ghost_st);
	/* as dump_mapped_files.c records it: open mode, size, deleted, and at a dump its id */
	gv = &vl.v[vl.n - 1];
	gv->pgoff = GHOST_PGOFF;
	gv->has_file_flags = true;
	gv->file_flags = O_RDONLY;
	gv->deleted = true;
	if (n == 2)
		gv->ghost = save_ghost(&dir);
	add_vma(&vl, ANON_START, ANON_START + ANON_PAGES * PSZ, PROT_READ | PROT_WRITE, VK_ANON,
		"[heap]", NULL);
	add_vma(&vl, VDSO_START, VDSO_START + 2 * PSZ, PROT_READ | PROT_EXEC, VK_VDSO, "[vdso]",
		NULL);
	add_vma(&vl, STACK_START, STACK_END, PROT_READ | PROT_WRITE, VK_ANON, "[stack]", NULL);

	if (sd_pagestore_writer_new(ctx, &dir, 1, 1, &w) < 0)
		die("pagestore_writer_new");
	if (n == 1) {
		off = put_pages(w, 1, 1);
		(void)sd_pm_list_add(&pm.list, FILE_START, 1, PM_DATA, off, PSZ);
		off = put_pages(w, 1, 7);
		(void)sd_pm_list_add(&pm.list, GHOST_START + PSZ, 1, PM_DATA, off, PSZ);
		off = put_pages(w, 300, 2);
		(void)sd_pm_list_add(&pm.list, ANON_START, 300, PM_DATA, off, PSZ);
		(void)sd_pm_list_add(&pm.list, ANON_START + 300 * PSZ, 100, PM_ZERO, 0, PSZ);
		off = put_pages(w, 2, 3);
		(void)sd_pm_list_add(&pm.list, VDSO_START, 2, PM_DATA, off, PSZ);
	} else {
		(void)sd_pm_list_add(&pm.list, FILE_START, 1, PM_PARENT, 0, PSZ);
		(void)sd_pm_list_add(&pm.list, GHOST_START + PSZ, 1, PM_PARENT, 0, PSZ);
		off = put_pages(w, 1, 8);
		(void)sd_pm_list_add(&pm.list, GHOST_START + 3 * PSZ, 1, PM_DATA, off, PSZ);
		off = put_pages(w, 10, 4);
		(void)sd_pm_list_add(&pm.list, ANON_START, 10, PM_DATA, off, PSZ);
		(void)sd_pm_list_add(&pm.list, ANON_START + 10 * PSZ, 390, PM_PARENT, 0, PSZ);
		(void)sd_pm_list_add(&pm.list, VDSO_START, 2, PM_PARENT, 0, PSZ);
	}
	off = put_pages(w, 8, 5 + (uint64_t)n);
	(void)sd_pm_list_add(&pm.list, STACK_END - 8 * PSZ, 8, PM_DATA, off, PSZ);
	if (sd_pagestore_writer_finish(w, &pm.frames, &pm.nframes, &pm.stream_bytes,
				    &pm.pages_file_size) < 0)
		die("pagestore_writer_finish");
	sd_pagestore_writer_free(w);
	if (sd_pmimg_write(ctx, &dir, &pm, NULL) < 0 || sd_passimg_write_mm(ctx, &dir, &vl, NULL) < 0)
		die("pagemap/mm");
	if (n == 2) {
		struct process_state ps = { 0 };
		struct files_state fs = { 0 };

		build_state(&ps, &fs);
		if (sd_stateimg_write(ctx, &dir, &ps, &fs, NULL) < 0)
			die("stateimg_write");
		sd_process_state_release(&ps);
		sd_files_state_release(&fs);
		if (symlinkat("../1", dir.dirfd, "parent") < 0)
			die("symlink");
	}
	st.vmas = vl.n;
	st.pages_written = n == 1 ? 312 : 19;
	if (sd_passimg_write_stats(ctx, &dir, &st) < 0)
		die("stats");
	m.format_version = SDUMP_IMAGE_VERSION;
	(void)snprintf(m.pass_id, sizeof(m.pass_id), "%032x", n);
	if (n == 2) {
		(void)snprintf(m.parent_pass_id, sizeof(m.parent_pass_id), "%032x", 1);
		(void)snprintf(m.parent_path, sizeof(m.parent_path), "../1");
	}
	m.kind = n == 1 ? PASS_KIND_PRE_DUMP : PASS_KIND_DUMP;
	m.pid = TID;
	m.start_time = 12345;
	(void)snprintf(m.tracker, sizeof(m.tracker), "none");
	m.page_size = PSZ;
	(void)snprintf(m.kernel, sizeof(m.kernel), "6.18.0");
	(void)snprintf(m.comm, sizeof(m.comm), "fuzzed");
	m.boot_id_hi = 0x1111;
	m.boot_id_lo = 0x2222;
	if (sd_passimg_write_inventory(ctx, &dir, &m) < 0)
		die("inventory");
	sd_pmimg_release(&pm);
	sd_vma_list_release(&vl);
	sd_img_dir_release(&dir);
}

static uint8_t *read_whole(const char *path, size_t *ret_len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		die(path);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf || sd_pread_all(fd, buf, (size_t)st.st_size, 0) != st.st_size)
		die(path);
	(void)close(fd);
	*ret_len = (size_t)st.st_size;
	return buf;
}

static void write_whole(const char *pass, const char *name, const uint8_t *data, size_t len)
{
	char path[512];
	int fd;

	(void)snprintf(path, sizeof(path), "%s/%s/%s", base_dir, pass, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || sd_write_all(fd, data, len) < 0)
		die(path);
	(void)close(fd);
}

static struct base_file *find_file(const char *pass, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (!strcmp(files[i].pass, pass) && !strcmp(files[i].name, name))
			return &files[i];
	return NULL;
}

/* The directory of pass "1" or "2". */
static const char *pass_dir(const char *pass)
{
	return pass_path[pass[0] - '1'];
}

/* The file of frames named @name, or NULL. */
static const struct frames_file *frames_file_of(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(frames_files); i++)
		if (!strcmp(frames_files[i].name, name))
			return &frames_files[i];
	return NULL;
}

/* A frame table, as an index keeps it. */
struct frame_table {
	struct pagestore_frame *frames;
	size_t nframes;
	uint32_t frame_size;
	uint64_t stream_bytes, file_size;
};

/* The frame table of @ff in the pass at @dirpath (its index read and checked): -errno. */
static int read_table(const struct frames_file *ff, const char *dirpath, struct frame_table *t)
{
	struct img_dir dir = { .dirfd = -1 };
	int r = sd_img_dir_open(ctx, dirpath, &dir);

	*t = (struct frame_table){ 0 };
	if (r == 0 && ff->f == IMGF_PAGES) {
		struct pmimg pm = { 0 };

		r = sd_pmimg_read(ctx, &dir, &pm);
		if (r == 0) {
			*t = (struct frame_table){ pm.frames, pm.nframes, pm.frame_size, pm.stream_bytes,
						   pm.pages_file_size };
			pm.frames = NULL;
		}
		sd_pmimg_release(&pm);
	} else if (r == 0) {
		struct ghost_set gs = { 0 };

		r = sd_ghost_set_read(ctx, &dir, &gs);
		if (r == 0 && !gs.present)
			r = -ENOENT;
		if (r == 0) {
			*t = (struct frame_table){ gs.frames, gs.nframes, gs.frame_size, gs.stream_bytes,
						   gs.data_file_size };
			gs.frames = NULL;
		}
		sd_ghost_set_release(&gs);
	}
	sd_img_dir_release(&dir);
	return r;
}

/* The whole stream of @ff in the pass at @dirpath, into *ret (malloc'd): -errno. */
static int read_stream(const struct frames_file *ff, const char *dirpath, uint8_t **ret,
		       size_t *ret_len)
{
	struct pagestore_reader rd = { .fd = -1 };
	struct img_dir dir = { .dirfd = -1 };
	struct frame_table t;
	uint8_t *buf = NULL;
	int r = read_table(ff, dirpath, &t);

	if (r == 0)
		r = sd_img_dir_open(ctx, dirpath, &dir);
	if (r == 0)
		r = sd_pagestore_reader_open_file(ctx, &dir, ff->f, t.frames, t.nframes, t.frame_size,
					       t.stream_bytes, t.file_size, &rd);
	if (r == 0) {
		buf = malloc(t.stream_bytes ? t.stream_bytes : 1);
		r = buf ? sd_pagestore_read(ctx, &rd, 0, buf, t.stream_bytes) : -ENOMEM;
		sd_pagestore_reader_release(&rd);
	}
	sd_img_dir_release(&dir);
	free(t.frames);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = t.stream_bytes;
	return 0;
}

/* Rewrite @pass's pagemap.img with a new frame table, its runs as they were. */
static void rewrite_pagemap(const char *pass, const struct pagestore_frame *frames, size_t nframes,
			    uint32_t frame_size, uint64_t stream_bytes, uint64_t file_size)
{
	struct img_dir dir = { .dirfd = -1 };
	struct pmimg pm = { 0 };

	if (sd_img_dir_open(ctx, pass_dir(pass), &dir) < 0 || sd_pmimg_read(ctx, &dir, &pm) < 0)
		die("pagemap.img");
	free(pm.frames);
	pm.frames = (struct pagestore_frame *)frames;
	pm.nframes = nframes;
	if (stream_bytes != UINT64_MAX) {
		pm.frame_size = frame_size;
		pm.stream_bytes = stream_bytes;
		pm.pages_file_size = file_size;
	}
	if (sd_pmimg_write(ctx, &dir, &pm, NULL) < 0)
		die("pagemap.img");
	pm.frames = NULL;
	sd_pmimg_release(&pm);
	sd_img_dir_release(&dir);
}

/* Rewrite @pass's ghosts.img with a new frame table in its GhostHead, its files as they were. */
static void rewrite_ghost_head(const char *pass, const struct pagestore_frame *frames,
			       size_t nframes, uint32_t frame_size, uint64_t stream_bytes,
			       uint64_t file_size)
{
	GhostFrame *fr = calloc(nframes + 1, sizeof(*fr));
	GhostFrame **frp = calloc(nframes + 1, sizeof(*frp)), **old_frames;
	uint8_t *file, *recs = NULL, *out, *enc;
	size_t len, rlen = 0, hlen = 0, plen, rest, elen, old_n;
	GhostHead *h = NULL;
	char path[512];

	(void)snprintf(path, sizeof(path), "%s/ghosts.img", pass_dir(pass));
	file = read_whole(path, &len);
	if (sd_img_rec_decode(IMG_GHOSTS, file, len, &recs, &rlen) < 0 || rlen < 4 ||
	    (hlen = get_le32(recs)) > rlen - 4 || !(h = ghost_head__unpack(NULL, hlen, recs + 4)) ||
	    !fr || !frp)
		die("ghosts.img");
	for (size_t i = 0; i < nframes; i++) {
		ghost_frame__init(&fr[i]);
		fr[i].csize = frames[i].csize;
		fr[i].crc32c = frames[i].crc32c;
		frp[i] = &fr[i];
	}
	old_n = h->n_frames;
	old_frames = h->frames;
	h->n_frames = nframes;
	h->frames = frp;
	if (stream_bytes != UINT64_MAX) {
		h->frame_size = frame_size;
		h->stream_bytes = stream_bytes;
		h->data_file_size = file_size;
	}
	plen = ghost_head__get_packed_size(h);
	rest = rlen - 4 - hlen;
	out = malloc(4 + plen + rest);
	if (!out)
		die("malloc");
	put_le32(out, (uint32_t)plen);
	(void)ghost_head__pack(h, out + 4);
	memcpy(out + 4 + plen, recs + 4 + hlen, rest);
	h->n_frames = old_n;
	h->frames = old_frames;
	ghost_head__free_unpacked(h, NULL);
	if (sd_img_rec_encode(IMG_GHOSTS, out, 4 + plen + rest, &enc, &elen) < 0)
		die("ghosts.img");
	write_whole(pass, "ghosts.img", enc, elen);
	free(enc);
	free(out);
	free(recs);
	free(file);
	free(fr);
	free(frp);
}

/*
 * Give @ff's index in @pass a new frame table; with @stream_bytes
 * UINT64_MAX, only the frames (the frame size, stream and file sizes as
 * they were).
 */
static void rewrite_frames(const struct frames_file *ff, const char *pass,
			   const struct pagestore_frame *frames, size_t nframes,
			   uint64_t stream_bytes, uint64_t file_size)
{
	if (ff->f == IMGF_PAGES)
		rewrite_pagemap(pass, frames, nframes, ff->frame_size, stream_bytes, file_size);
	else
		rewrite_ghost_head(pass, frames, nframes, ff->frame_size, stream_bytes, file_size);
}

/*
 * Mode 0 for a file of frames: the input is the stream; compress it into
 * frames of the harness's size (the base image's too: small frames, so
 * that a read decompresses little and the fuzzer runs fast, and
 * ghost-data.img's few pages make several). ghost-data.img's stream is
 * first cut or padded to the length that ghosts.img's files take: any
 * other is refused before a frame is read.
 */
static void write_stream(const struct frames_file *ff, const char *pass, const uint8_t *data,
			 size_t len)
{
	size_t cap, n = 0, flen = IMG_HEADER_SIZE;
	struct pagestore_frame *frames;
	uint8_t *file, *sized = NULL;

	if (ff->f == IMGF_GHOST_DATA) {
		struct frame_table t;

		if (read_table(ff, pass_dir(pass), &t) < 0)
			die("ghosts.img");
		free(t.frames);
		sized = calloc(1, t.stream_bytes + 1);
		if (!sized)
			die("calloc");
		memcpy(sized, data, MIN(len, (size_t)t.stream_bytes));
		data = sized;
		len = t.stream_bytes;
	}
	cap = len / ff->frame_size + 1;
	frames = calloc(cap, sizeof(*frames));
	file = malloc(IMG_HEADER_SIZE + cap * ZSTD_compressBound(ff->frame_size));
	if (!frames || !file)
		die("malloc");
	sd_img_header_fill(file, sd_imgfile(ff->f)->type);
	for (size_t off = 0; off < len; off += ff->frame_size) {
		size_t in = MIN(len - off, (size_t)ff->frame_size);
		size_t z = ZSTD_compress(file + flen, ZSTD_compressBound(in), data + off, in, 1);

		if (ZSTD_isError(z))
			die("zstd");
		frames[n++] = (struct pagestore_frame){ (uint32_t)z, sd_crc32c(0, file + flen, z) };
		flen += z;
	}
	write_whole(pass, ff->name, file, flen);
	rewrite_frames(ff, pass, frames, n, len, flen);
	free(frames);
	free(file);
	free(sized);
}

/* Mode 1 for a file of frames: the file as given, with frame CRCs for the sizes its index has. */
static void write_fixed(const struct frames_file *ff, const char *pass, uint8_t *f, size_t len)
{
	struct pagestore_frame *frames;
	uint64_t off = IMG_HEADER_SIZE;
	struct frame_table t;

	if (len >= IMG_HEADER_SIZE)
		put_le32(f + 12, sd_crc32c(0, f, 12));
	write_whole(pass, ff->name, f, len);
	if (read_table(ff, pass_dir(pass), &t) < 0)
		die(ff->index);
	frames = calloc(t.nframes + 1, sizeof(*frames));
	if (!frames)
		die("calloc");
	for (size_t i = 0; i < t.nframes; i++) {
		uint32_t cs = t.frames[i].csize;

		frames[i].csize = cs;
		if (off <= len && cs <= len - off)
			frames[i].crc32c = sd_crc32c(0, f + off, cs);
		off += cs;
	}
	rewrite_frames(ff, pass, frames, t.nframes, UINT64_MAX, 0);
	free(frames);
	free(t.frames);
}

/* The base pass @n's files of frames cut again into frames of the harness's sizes. */
static void reframe(int n)
{
	for (size_t i = 0; i < ARRAY_SIZE(frames_files); i++) {
		const struct frames_file *ff = &frames_files[i];
		const char *pass = n == 1 ? "1" : "2";
		uint8_t *stream;
		size_t len;

		if (!find_file(pass, ff->name))
			continue;
		if (read_stream(ff, pass_path[n - 1], &stream, &len) < 0)
			die("reframe");
		write_stream(ff, pass, stream, len);
		free(stream);
	}
}

static void cleanup(void)
{
	char cmd[128];

	/* only the process that made it: a forked one (AFL's fork server) leaves it */
	if (!base_dir[0] || getenv("SDUMP_FUZZ_KEEP") || getpid() != base_pid)
		return;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base_dir);
	(void)!system(cmd);
}

static void quiet_log(void *userdata, enum sdump_log_level level, const char *msg)
{
	(void)userdata;
	(void)level;
	(void)msg;
}

static enum img_type type_of(const char *name)
{
	if (!strcmp(name, "inventory.img"))
		return IMG_INVENTORY;
	if (!strcmp(name, "mm.img"))
		return IMG_MM;
	if (!strcmp(name, "pagemap.img"))
		return IMG_PAGEMAP;
	if (!strcmp(name, "stats.img"))
		return IMG_STATS;
	if (!strcmp(name, "pages.img"))
		return IMG_PAGES;
	if (!strcmp(name, "process.img"))
		return IMG_PROCESS;
	if (!strcmp(name, "files.img"))
		return IMG_FILES;
	if (!strcmp(name, "ghosts.img"))
		return IMG_GHOSTS;
	if (!strcmp(name, "ghost-data.img"))
		return IMG_GHOST_DATA;
	return IMG_CORE;
}

static void write_seed(const char *out, const char *tag, size_t idx, unsigned int mode,
		       const uint8_t *data, size_t len)
{
	char path[512];
	uint8_t sel = (uint8_t)(idx | mode << 4);
	int fd;

	(void)snprintf(path, sizeof(path), "%s/%s-%s-%s-%u", out, tag, files[idx].pass,
		       files[idx].name, mode);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || sd_write_all(fd, &sel, 1) < 0 || sd_write_all(fd, data, len) < 0)
		die(path);
	(void)close(fd);
}

/* The seeds of one file: its records (mode 0; a file of frames: its stream), itself (1, 2). */
static void seeds_of(const char *out, const char *tag, const char *dirpath, size_t idx,
		     const uint8_t *f, size_t len)
{
	const struct frames_file *ff = frames_file_of(files[idx].name);
	uint8_t *recs = NULL;
	size_t rlen = 0;

	if (ff) {
		if (read_stream(ff, dirpath, &recs, &rlen) < 0) {
			recs = NULL;
			rlen = 0;
		}
	} else if (sd_img_rec_decode(type_of(files[idx].name), f, len, &recs, &rlen) < 0) {
		recs = NULL;
		rlen = 0;
	}
	if (recs)
		write_seed(out, tag, idx, 0, recs, rlen);
	free(recs);
	write_seed(out, tag, idx, 1, f, len);
	write_seed(out, tag, idx, 2, f, len);
}

/*
 * Write a seed corpus into @out: from the base image, and from the files of
 * the real chains in @from (a list of directories separated by ':', each
 * with a pre-dump/ and a dump/; may be NULL or empty) under the base file
 * of the same name (the files of a pre-dump under pass 1, of a dump under
 * pass 2), tagged "real-" and the chain directory's name.
 */
static void write_seeds(const char *out, const char *from)
{
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		seeds_of(out, "base", pass_path[files[i].pass[0] - '1'], i, files[i].data,
			 files[i].len);
	while (from && *from) {
		const char *colon = strchr(from, ':');
		size_t clen = colon ? (size_t)(colon - from) : strlen(from);
		const char *base = memrchr(from, '/', clen);
		char tag[64];

		base = base ? base + 1 : from;
		(void)snprintf(tag, sizeof(tag), "real-%.*s", (int)(from + clen - base), base);
		for (int pass = 0; pass < 2; pass++) {
			char dir[512];

			(void)snprintf(dir, sizeof(dir), "%.*s/%s", (int)clen, from,
				       pass ? "dump" : "pre-dump");
			for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
				char path[768];
				const char *name = files[i].name;
				struct stat st;
				uint8_t *f;
				size_t len;

				if (files[i].pass[0] != (pass ? '2' : '1'))
					continue;
				if (!strncmp(name, "core-", 5))
					name = "core.img"; /* the first thread's, linked by make-corpus */
				(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
				if (stat(path, &st) < 0)
					continue;
				f = read_whole(path, &len);
				seeds_of(out, tag, dir, i, f, len);
				free(f);
			}
		}
		from += clen + (colon != NULL);
	}
}

/*
 * The deleted file: written with its hole, opened, its name removed, as a
 * process has a file it maps after it was deleted. Its path is recorded as
 * /proc shows it then, " (deleted)" added; only messages print it.
 */
static void make_ghost_file(void)
{
	uint8_t buf[GHOST_SIZE];
	char name[300];
	int fd;

	(void)snprintf(name, sizeof(name), "%s/deleted-file", base_dir);
	fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		die(name);
	fill_pattern(buf, GHOST_HOLE_START, 42);
	if (sd_pwrite_all(fd, buf, GHOST_HOLE_START, 0) < 0)
		die(name);
	fill_pattern(buf, GHOST_SIZE - GHOST_HOLE_END, 43);
	if (sd_pwrite_all(fd, buf, GHOST_SIZE - GHOST_HOLE_END, GHOST_HOLE_END) < 0)
		die(name);
	if (unlink(name) < 0 || fstat(fd, &ghost_st) < 0)
		die(name);
	(void)snprintf(ghost_path, sizeof(ghost_path), "%s (deleted)", name);
	ghost_fd = fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char file_path[128];
	uint8_t page[FILE_PAGES * PSZ];
	struct stat st;
	int fd;

	(void)argc;
	(void)argv;
	if (sdump_ctx_new(&ctx) < 0)
		abort();
	sdump_ctx_set_log(ctx, quiet_log, NULL);
	verbose = getenv("SDUMP_FUZZ_VERBOSE") != NULL;
	if (verbose)
		sdump_ctx_set_log(ctx, NULL, NULL);
	/* in $TMPDIR: tests/fuzz/run points it into the build tree and empties it after */
	(void)snprintf(base_dir, sizeof(base_dir), "%s/sdump-fuzz-XXXXXX",
		       getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(base_dir))
		die("mkdtemp");
	base_pid = getpid();
	(void)atexit(cleanup);
	/*
	 * The mapped file: one path for every run and every job, so that an input
	 * naming it (mm.img records its path, device and inode) reproduces. It is
	 * left behind; made once, atomically.
	 */
	(void)snprintf(file_path, sizeof(file_path), "/tmp/sdump-fuzz-mapped-file");
	if (stat(file_path, &st) < 0 || st.st_size != (off_t)sizeof(page)) {
		char tmp[300];

		(void)snprintf(tmp, sizeof(tmp), "%s/mapped-file", base_dir);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		fill_pattern(page, sizeof(page), 99);
		if (fd < 0 || sd_write_all(fd, page, sizeof(page)) < 0 || rename(tmp, file_path) < 0)
			die(file_path);
		(void)close(fd);
	}
	if (stat(file_path, &st) < 0)
		die(file_path);
	make_ghost_file();
	for (int n = 1; n <= 2; n++) {
		(void)snprintf(pass_path[n - 1], sizeof(pass_path[n - 1]), "%s/%d", base_dir, n);
		build_pass(n, file_path, &st);
	}
	(void)close(ghost_fd);
	ghost_fd = -1;
	for (int n = 1; n <= 2; n++)
		reframe(n);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char path[512];

		(void)snprintf(path, sizeof(path), "%s/%s/%s", base_dir, files[i].pass, files[i].name);
		files[i].data = read_whole(path, &files[i].len);
	}
	devnull = fopen("/dev/null", "we");
	devnull_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	core_fd = memfd_create("core", MFD_CLOEXEC);
	if (!devnull || devnull_fd < 0 || core_fd < 0)
		die("/dev/null");
	if (getenv("SDUMP_FUZZ_SEEDS_OUT")) {
		write_seeds(getenv("SDUMP_FUZZ_SEEDS_OUT"), getenv("SDUMP_FUZZ_SEEDS_FROM"));
		exit(0);
	}
	return 0;
}

/* A record file whose header and trailer checksums match what it holds. */
static void fix_record_file(uint8_t *f, size_t len)
{
	if (len < IMG_HEADER_SIZE + IMG_TRAILER_SIZE)
		return;
	put_le32(f + 12, sd_crc32c(0, f, 12));
	put_le64(f + len - 16, len - IMG_HEADER_SIZE - IMG_TRAILER_SIZE);
	put_le32(f + len - 8, sd_crc32c(0, f, len - 8));
	put_le32(f + len - 4, IMG_TRAILER_MAGIC);
}

static void restore_base(const struct base_file *bf)
{
	write_whole(bf->pass, bf->name, bf->data, bf->len);
	const struct frames_file *ff = frames_file_of(bf->name);

	if (ff) {
		const struct base_file *idx = find_file(bf->pass, ff->index);

		write_whole(idx->pass, idx->name, idx->data, idx->len);
	}
}

/* With SDUMP_FUZZ_VERBOSE, how each read path ended, to see what an input reaches. */
static void outcome(const char *what, int r)
{
	if (verbose)
		(void)fprintf(stderr, "fuzz_image: %s: %s\n", what,
			      r == 0 ? "ok" : sdump_ctx_last_error(ctx) ? sdump_ctx_last_error(ctx) : "failed");
}

/* What show, extract and coredump do with the image, as far as it lets them. */
static void exercise(void)
{
	struct sdump_image_info *info = NULL;
	const char *dir = pass_path[1];
	int r;

	r = sdump_image_info_load(ctx, dir, &info);
	outcome("show", r);
	if (r == 0) {
		sdump_image_info_write_text(info, devnull);
		sdump_image_info_write_json(info, devnull);
		sdump_image_info_write_chain(info, devnull);
		/* at most 16 VMAs, 64 KiB of each, start and end: enough to walk every path */
		for (size_t i = 0; i < info->nr_vmas && i < 16; i++) {
			const struct sdump_vma_info *v = &info->vmas[i];
			uint64_t len = MIN(v->end - v->start, (uint64_t)65536);

			sdump_ctx_clear_error(ctx);
			outcome("extract (a VMA's start)",
				sdump_extract(ctx, dir, v->start, len, devnull_fd));
			sdump_ctx_clear_error(ctx);
			outcome("extract (a VMA's end)",
				sdump_extract(ctx, dir, v->end - len, len, devnull_fd));
		}
		sdump_image_info_free(info);
	}
	/* these whatever show says: extract reads no state files, nor ghosts.img but for a deleted file */
	sdump_ctx_clear_error(ctx);
	outcome("extract (the heap)", sdump_extract(ctx, dir, ANON_START, ANON_PAGES * PSZ, devnull_fd));
	sdump_ctx_clear_error(ctx);
	outcome("extract (the deleted file)",
		sdump_extract(ctx, dir, GHOST_START, GHOST_PAGES * PSZ, devnull_fd));
	sdump_ctx_clear_error(ctx);
	outcome("coredump", sdump_coredump(ctx, dir, core_fd));
	(void)ftruncate(core_fd, 0);
	sdump_ctx_clear_error(ctx);
	/* the parent alone, as a pass of its own */
	r = sdump_image_info_load(ctx, pass_path[0], &info);
	outcome("show (the parent)", r);
	if (r == 0)
		sdump_image_info_free(info);
	sdump_ctx_clear_error(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct frames_file *ff;
	struct base_file *bf;
	unsigned int mode;
	uint8_t *copy;

	if (size < 1)
		return 0;
	bf = &files[(data[0] & 0x0f) % ARRAY_SIZE(files)];
	mode = (data[0] >> 4) & 3;
	data++;
	size--;
	copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	if (size)
		memcpy(copy, data, size);
	if ((ff = frames_file_of(bf->name))) {
		if (mode == 0)
			write_stream(ff, bf->pass, copy, size);
		else if (mode == 1)
			write_fixed(ff, bf->pass, copy, size);
		else
			write_whole(bf->pass, bf->name, copy, size);
	} else if (mode == 0) {
		uint8_t *file;
		size_t flen;

		if (sd_img_rec_encode(type_of(bf->name), copy, size, &file, &flen) < 0)
			abort();
		write_whole(bf->pass, bf->name, file, flen);
		free(file);
	} else {
		if (mode == 1)
			fix_record_file(copy, size);
		write_whole(bf->pass, bf->name, copy, size);
	}
	free(copy);
	exercise();
	restore_base(bf);
	return 0;
}
