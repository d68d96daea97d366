/* SPDX-License-Identifier: MIT */
/*
 * sdump coredump: an ELF core file of the moment of a final dump, as the
 * kernel would have written it then, so that gdb and friends can look at a
 * checkpoint: a PT_NOTE segment (NT_PRPSINFO, per thread NT_PRSTATUS,
 * NT_PRFPREG and NT_X86_XSTATE, NT_AUXV, NT_FILE) and one PT_LOAD per VMA
 * with its memory read through the chain.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array.h"
#include "sdump.h"
#define LOG_PREFIX "coredump: "
#include "ctx.h"
#include "chain.h"
#include "pstate.h"
#include "state_img.h"
#include "util.h"

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif
#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif

#define CHUNK (1u << 16)

struct notebuf {
	uint8_t *p;
	size_t len, cap;
};

static int note_add(struct notebuf *nb, const char *name, uint32_t type, const void *desc,
		    size_t dlen)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	size_t need = 12 + ((namesz + 3) & ~3u) + ((dlen + 3) & ~(size_t)3);
	uint32_t hdr[3] = { namesz, (uint32_t)dlen, type };

	if (ARRAY_RESERVE(nb->p, nb->cap, nb->len + need, 4096) < 0)
		return -ENOMEM;
	memset(nb->p + nb->len, 0, need);
	memcpy(nb->p + nb->len, hdr, 12);
	memcpy(nb->p + nb->len + 12, name, namesz);
	memcpy(nb->p + nb->len + 12 + ((namesz + 3) & ~3u), desc, dlen);
	nb->len += need;
	return 0;
}

/* The process's command line, from its own memory in the image. */
static void psargs(struct sdump_ctx *ctx, struct chain *c, const struct process_state *ps,
		   char *out, size_t size)
{
	size_t len = (size_t)MIN(ps->mm.arg_end - ps->mm.arg_start, (uint64_t)size - 1);

	memset(out, 0, size);
	if (ps->mm.arg_end <= ps->mm.arg_start ||
	    !sd_vma_list_find(&c->p[0].vmas, ps->mm.arg_start) ||
	    sd_chain_read_range(ctx, c, ps->mm.arg_start, out, len, true) < 0) {
		sdump_ctx_clear_error(ctx);
		return;
	}
	for (size_t i = 0; i + 1 < len; i++)
		if (!out[i])
			out[i] = ' ';
}

static int build_notes(struct sdump_ctx *ctx, struct chain *c, const struct process_state *ps,
		       struct notebuf *nb)
{
	const struct vma_list *vl = &c->p[0].vmas;
	struct elf_prpsinfo info = { 0 };
	uint8_t *files = NULL;
	size_t flen = 0, count = 0;
	int r = 0;

	info.pr_state = 0;
	info.pr_sname = 'R';
	info.pr_uid = ps->uid[1];
	info.pr_gid = ps->gid[1];
	info.pr_pid = ps->pid;
	info.pr_ppid = ps->ppid;
	info.pr_pgrp = ps->pgid;
	info.pr_sid = ps->sid;
	(void)snprintf(info.pr_fname, sizeof(info.pr_fname), "%s", ps->threads[0].comm);
	psargs(ctx, c, ps, info.pr_psargs, sizeof(info.pr_psargs));
	r = note_add(nb, "CORE", NT_PRPSINFO, &info, sizeof(info));

	/* gdb takes the first NT_PRSTATUS as the thread that "crashed": the leader */
	for (size_t i = 0; r == 0 && i < ps->nthreads; i++) {
		const struct thread_state *t = &ps->threads[i];
		struct elf_prstatus st = { 0 };

		st.pr_pid = t->tid;
		st.pr_ppid = ps->ppid;
		st.pr_pgrp = ps->pgid;
		st.pr_sid = ps->sid;
		st.pr_sighold = t->sigmask;
		memcpy(&st.pr_reg, &t->regs, sizeof(st.pr_reg));
		st.pr_fpvalid = 1;
		r = note_add(nb, "CORE", NT_PRSTATUS, &st, sizeof(st));
		if (r == 0)
			r = note_add(nb, "CORE", NT_PRFPREG, &t->fpregs, sizeof(t->fpregs));
		if (r == 0 && t->xsave)
			r = note_add(nb, "LINUX", NT_X86_XSTATE, t->xsave, t->xsave_len);
	}
	if (r == 0)
		r = note_add(nb, "CORE", NT_AUXV, ps->mm.auxv, ps->mm.auxv_len);

	/* NT_FILE: count, page size, then (start, end, offset in pages) each, then the names */
	for (size_t i = 0; i < vl->n; i++)
		if (vl->v[i].path && vl->v[i].path[0] == '/')
			count++;
	flen = 16 + count * 24;
	for (size_t i = 0; i < vl->n; i++)
		if (vl->v[i].path && vl->v[i].path[0] == '/')
			flen += strlen(vl->v[i].path) + 1;
	files = calloc(1, flen);
	if (!files)
		r = -ENOMEM;
	if (r == 0) {
		uint64_t *w = (uint64_t *)files;
		char *names = (char *)(files + 16 + count * 24);
		size_t k = 0;

		w[0] = count;
		w[1] = c->p[0].meta.page_size;
		for (size_t i = 0; i < vl->n; i++) {
			const struct vma *v = &vl->v[i];

			if (!v->path || v->path[0] != '/')
				continue;
			w[2 + k * 3] = v->start;
			w[3 + k * 3] = v->end;
			w[4 + k * 3] = v->pgoff / c->p[0].meta.page_size;
			k++;
			strcpy(names, v->path);
			names += strlen(v->path) + 1;
		}
		r = note_add(nb, "CORE", NT_FILE, files, flen);
	}
	free(files);
	return r < 0 ? sd_err(ctx, r, "cannot build the core notes") : 0;
}

/*
 * Where a VMA stops showing its file: its end for a file of unknown size,
 * the page after the file's last byte (as it was at the dump); its start
 * for memory that is no file's.
 */
static uint64_t file_end(const struct vma *v, size_t psz)
{
	uint64_t fend, size = v->file_size;
	struct stat st;

	if (v->kind != VK_FILE && v->kind != VK_FILE_SHARED)
		return v->start;
	if (!v->has_file_size) {
		/* an older image: the file as it is now, which the core shows anyway */
		if (!v->path || stat(v->path, &st) < 0 || !S_ISREG(st.st_mode))
			return v->start;
		size = (uint64_t)st.st_size;
	}
	if (size <= v->pgoff)
		return v->start;
	fend = (size - v->pgoff + psz - 1) & ~(uint64_t)(psz - 1);
	return fend >= v->end - v->start ? v->end : v->start + fend;
}

/* Memory the core holds: everything but vvar, which no one can read. */
static bool in_core(const struct vma *v)
{
	return v->kind != VK_VVAR && v->kind != VK_VSYSCALL;
}

SDUMP_API int sdump_coredump(struct sdump_ctx *ctx, const char *dir, int out_fd)
{
	struct chain c = { 0 };
	struct process_state ps = { 0 };
	struct files_state fs = { 0 };
	struct notebuf nb = { 0 };
	Elf64_Phdr *ph = NULL;
	Elf64_Ehdr eh = { 0 };
	uint8_t *buf = NULL;
	size_t nload = 0, psz;
	uint64_t off;
	int r;

	r = sd_chain_open(ctx, dir, &c);
	if (r < 0)
		return r;
	if (c.p[0].meta.kind != PASS_KIND_DUMP) {
		r = sd_errx(ctx, -EINVAL,
			    "image '%s' is a pre-dump: a core file needs a final dump (sdump dump)", dir);
		goto out;
	}
	r = sd_stateimg_read(ctx, &c.p[0].dir, &ps, &fs);
	if (r < 0)
		goto out;
	psz = c.p[0].meta.page_size;
	r = build_notes(ctx, &c, &ps, &nb);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < c.p[0].vmas.n; i++)
		nload += in_core(&c.p[0].vmas.v[i]);
	ph = calloc(nload + 1, sizeof(*ph));
	buf = malloc(CHUNK);
	if (!ph || !buf) {
		r = sd_err(ctx, -ENOMEM, "cannot write a core file");
		goto out;
	}

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (Elf64_Half)(nload + 1);

	off = sizeof(eh) + (nload + 1) * sizeof(Elf64_Phdr);
	ph[0] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = off, .p_filesz = nb.len, .p_align = 4 };
	off = (off + nb.len + psz - 1) & ~(uint64_t)(psz - 1);
	for (size_t i = 0, k = 1; i < c.p[0].vmas.n; i++) {
		const struct vma *v = &c.p[0].vmas.v[i];

		if (!in_core(v))
			continue;
		ph[k++] = (Elf64_Phdr){
			.p_type = PT_LOAD,
			.p_flags = ((v->prot & PROT_READ) ? PF_R : 0) | ((v->prot & PROT_WRITE) ? PF_W : 0) |
				   ((v->prot & PROT_EXEC) ? PF_X : 0),
			.p_offset = off,
			.p_vaddr = v->start,
			.p_filesz = v->end - v->start,
			.p_memsz = v->end - v->start,
			.p_align = psz,
		};
		off += v->end - v->start;
	}
	r = sd_pwrite_all(out_fd, &eh, sizeof(eh), 0);
	if (r == 0)
		r = sd_pwrite_all(out_fd, ph, (nload + 1) * sizeof(*ph), sizeof(eh));
	if (r == 0)
		r = sd_pwrite_all(out_fd, nb.p, nb.len, ph[0].p_offset);
	for (size_t k = 1; r == 0 && k <= nload; k++) {
		uint64_t a = ph[k].p_vaddr, end = a + ph[k].p_memsz, o = ph[k].p_offset;
		uint64_t fend = file_end(sd_vma_list_find(&c.p[0].vmas, a), psz);

		while (r == 0 && a < end) {
			size_t n = (size_t)MIN(end - a, (uint64_t)CHUNK);
			uint64_t next = sd_chain_next_recorded(&c, a);

			/*
			 * Nothing recorded in [a, next): zeros, or in a file mapping the
			 * file's pages, zeros too past the end the file had. A hole in
			 * the core, jumped over at once whatever its size.
			 */
			if (next > a && a >= fend) {
				uint64_t skip = MIN(next, end) - a;

				a += skip;
				o += skip;
				continue;
			}

			/* unsaved pages of files that changed or vanished read as zeros */
			r = sd_chain_read_range(ctx, &c, a, buf, n, true);
			if (r < 0)
				goto out;
			/* zeros stay holes: reservations and fresh memory cost no disk */
			if (!sd_page_is_zero(buf, n))
				r = sd_pwrite_all(out_fd, buf, n, o);
			a += n;
			o += n;
		}
	}
	if (r == 0 && nload && ftruncate(out_fd, (off_t)(ph[nload].p_offset + ph[nload].p_filesz)) < 0)
		r = -errno;
	if (r < 0)
		r = sd_err(ctx, r, "cannot write the core file");
out:
	free(nb.p);
	free(ph);
	free(buf);
	sd_process_state_release(&ps);
	sd_files_state_release(&fs);
	sd_chain_release(&c);
	return r;
}
