/* SPDX-License-Identifier: MIT */
/* The fuzzer's base chain: a pre-dump and a final dump, made with the library's writers. */
#include "fuzz_image.h"

void die(const char *what)
{
	(void)fprintf(stderr, "fuzz_image: cannot build the base image: %s: %s\n", what,
		      ctx && sdump_ctx_last_error(ctx) ? sdump_ctx_last_error(ctx) : "");
	abort();
}

void fill_pattern(uint8_t *p, size_t len, uint64_t seed)
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

	struct ghost_file other = meta;
	uint32_t other_id = 0;

	/* and a file another member of a tree saves: a record without data */
	other.ino++;
	other.shared_pid = TID + 1;
	if (sd_ghost_writer_new(ctx, dir, 1, 1, &gw) < 0 ||
	    sd_ghost_writer_add(gw, ghost_fd, &meta, SDUMP_GHOST_LIMIT_DEFAULT, &id) < 0 ||
	    sd_ghost_writer_add(gw, -1, &other, SDUMP_GHOST_LIMIT_DEFAULT, &other_id) < 0 ||
	    sd_ghost_writer_finish(gw, &size) < 0 || id == 0 || other_id == 0)
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
void build_pass(int n, const char *file_path, const struct stat *file_st)
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
	vl.v = calloc(6, sizeof(*vl.v));
	vl.cap = 6;
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
	/* shared memory a member before it in a tree maps too, and saves */
	add_vma(&vl, SHM_START, SHM_START + 2 * PSZ, PROT_READ | PROT_WRITE, VK_SHMEM,
		"/dev/zero (deleted)", NULL);
	vl.v[vl.n - 1].shared = true;
	vl.v[vl.n - 1].dev_minor = 1;
	vl.v[vl.n - 1].ino = 77;
	vl.v[vl.n - 1].shared_pid = TID + 1;
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
		/* a tree.img beside it (a tree image's top has one): the process, a child, a zombie */
		{
			struct tree_member tm[3] = {
				{ .pid = TID, .ppid = 1, .pgid = TID, .sid = TID, .exit_signal = 17 },
				{ .pid = TID + 1, .ppid = TID, .pgid = TID + 1, .sid = TID, .exit_signal = 17,
				  .stopped = true },
				{ .pid = TID + 2, .ppid = TID + 1, .pgid = TID + 1, .sid = TID, .exit_signal = 17,
				  .zombie = true, .exit_status = 7 << 8, .comm = "zombie" },
			};
			struct proc_tree t = { .n = 3, .m = tm };

			if (sd_treeimg_write(ctx, &dir, &t, NULL) < 0)
				die("treeimg_write");
		}
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

/*
 * The deleted file: written with its hole, opened, its name removed, as a
 * process has a file it maps after it was deleted. Its path is recorded as
 * /proc shows it then, " (deleted)" added; only messages print it.
 */
void make_ghost_file(void)
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
