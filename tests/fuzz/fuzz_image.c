/* SPDX-License-Identifier: MIT */
/*
 * Fuzzing the image reader: the input replaces one file of an otherwise
 * valid two-pass chain (a pre-dump and a final dump on top of it), then the
 * read paths run in-process: sdump_image_info_load() (sdump show: every
 * record file, every frame checksum, the chain, the process state) with its
 * text and JSON output, sdump_chain_verify() (sdump verify: every frame
 * decompressed, every run left to a parent), sdump_extract() over the
 * recorded VMAs, and sdump_coredump() (the state and memory that a restore
 * reads too). The base chain is built in fuzz_base.c, files of frames are
 * rewritten in fuzz_frames.c.
 *
 * The final dump maps a deleted file (private, 7 pages, a hole in it, a
 * page of it written by the process in each pass), its contents saved in
 * ghosts.img and ghost-data.img by the library's ghost writer from a file
 * made and deleted at start-up, as a real dump saves one: extract and
 * coredump read its unsaved pages from there.
 *
 * Input: byte 0 chooses the file (low nibble, modulo the number of files:
 * 16, of at most 16; the last, tree.img, is read as a tree's restore reads
 * it) and how the rest becomes that file (bits 4-5):
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
#include <unistd.h>

#include "fuzz_image.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

char base_dir[256];
static pid_t base_pid;
char pass_path[2][300];
#define F(pass, name) { pass, name, NULL, 0 }
struct base_file files[] = {
	F("2", "inventory.img"), F("2", "mm.img"),	 F("2", "pagemap.img"), F("2", "stats.img"),
	F("2", "pages.img"),	 F("2", "process.img"), F("2", "core-4242.img"), F("2", "files.img"),
	F("1", "inventory.img"), F("1", "mm.img"),	 F("1", "pagemap.img"), F("1", "stats.img"),
	F("1", "pages.img"),
	/* new files go last: the selector of every input kept stays the same */
	F("2", "ghosts.img"),	 F("2", "ghost-data.img"), F("2", "tree.img"),
};

const size_t nfiles = ARRAY_SIZE(files);
const struct frames_file frames_files[2] = {
	{ "pages.img", "pagemap.img", IMGF_PAGES, FRAME_SIZE },
	{ "ghost-data.img", "ghosts.img", IMGF_GHOST_DATA, GHOST_FRAME_SIZE },
};

/* The deleted file, open, its name gone */
int ghost_fd = -1;
struct stat ghost_st;
char ghost_path[320];
struct sdump_ctx *ctx;
static FILE *devnull;
static bool verbose;
static int devnull_fd = -1, core_fd = -1;

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
	if (!strcmp(name, "tree.img"))
		return IMG_TREE;
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

/* What show, verify, extract and coredump do with the image, as far as it lets them. */
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
	{
		struct sdump_verify_report *rep = NULL;

		r = sdump_chain_verify(ctx, dir, &rep);
		outcome("verify", r);
		if (r == 0) {
			sdump_verify_report_write_text(rep, devnull);
			sdump_verify_report_write_json(rep, devnull);
			sdump_verify_report_free(rep);
		}
	}
	sdump_ctx_clear_error(ctx);
	outcome("coredump", sdump_coredump(ctx, dir, core_fd));
	(void)ftruncate(core_fd, 0);
	sdump_ctx_clear_error(ctx);
	/* tree.img, as a tree's restore reads it first */
	{
		struct proc_tree t = { 0 };

		r = sd_treeimg_read(ctx, dir, &t);
		outcome("tree", r);
		sd_tree_release(&t);
	}
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
