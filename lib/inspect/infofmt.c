/* SPDX-License-Identifier: MIT */
/* sdump show: an image described as text or as one JSON object. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>

#include "sdump.h"
#include "info_tree.h"
#include "infofmt.h"
#include "pstate.h"
#include "util.h"

void sd_json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(f, "\\u%04x", *p); /* bytes, not UTF-8: a path is any bytes */
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

SDUMP_API void sdump_stats_write_json(const struct sdump_stats *s, FILE *out)
{
	fprintf(out, "{\"freeze_us\":%" PRIu64 ",\"seize_us\":%" PRIu64 ",\"collect_us\":%" PRIu64
	       ",\"copy_us\":%" PRIu64 ",\"write_us\":%" PRIu64 ",\"total_us\":%" PRIu64
	       ",\"vmas\":%" PRIu64 ",\"pages_scanned\":%" PRIu64 ",\"pages_written\":%" PRIu64
	       ",\"pages_in_parent\":%" PRIu64 ",\"pages_zero\":%" PRIu64 ",\"pages_lost\":%" PRIu64
	       ",\"bytes_written\":%" PRIu64 ",\"live\":%s,\"live_faults\":%" PRIu64
	       ",\"refreeze_us\":%" PRIu64 ",\"live_pages_frozen\":%" PRIu64
	       ",\"held_bytes\":%" PRIu64 ",\"cpu_us\":%" PRIu64 ",\"compress_level\":%" PRId32
	       ",\"compress_level_min\":%" PRId32 ",\"compress_level_max\":%" PRId32
	       ",\"compress_cpu_us\":%" PRIu64 ",\"sink_rate\":%" PRIu64 "}",
	       s->freeze_us, s->seize_us, s->collect_us, s->copy_us, s->write_us, s->total_us,
	       s->vmas, s->pages_scanned, s->pages_written, s->pages_in_parent, s->pages_zero,
	       s->pages_lost, s->bytes_written, s->live ? "true" : "false", s->live_faults,
	       s->refreeze_us, s->live_pages_frozen, s->held_bytes, s->cpu_us, s->compress_level,
	       s->compress_level_min, s->compress_level_max, s->compress_cpu_us, s->sink_rate);
}

static const char *const reg_names[] = {
	"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi",
	"rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
};

static int siginfo_signo(const uint8_t *si)
{
	int signo;

	memcpy(&signo, si, sizeof(signo));
	return signo;
}

static void threads_json(FILE *out, const struct process_state *ps)
{
	fprintf(out, ",\"threads\":[");
	for (size_t i = 0; i < ps->nthreads; i++) {
		const struct thread_state *t = &ps->threads[i];
		const uint64_t *regs = (const uint64_t *)&t->regs;
		const uint8_t *xmm = (const uint8_t *)t->fpregs.xmm_space;

		fprintf(out, "%s{\"tid\":%d,\"comm\":", i ? "," : "", t->tid);
		sd_json_str(out, t->comm);
		fprintf(out, ",\"regs\":{");
		for (size_t r = 0; r < ARRAY_SIZE(reg_names); r++)
			fprintf(out, "%s\"%s\":%llu", r ? "," : "", reg_names[r], (unsigned long long)regs[r]);
		fprintf(out, "},\"sigmask\":%" PRIu64 ",\"pending\":[", t->sigmask);
		for (size_t k = 0; k < t->npending; k++)
			fprintf(out, "%s%d", k ? "," : "", siginfo_signo(t->pending[k]));
		fprintf(out, "],\"stop_signal\":");
		if (t->has_stop_signal)
			fprintf(out, "%d", siginfo_signo(t->stop_signal));
		else
			fprintf(out, "null");
		fprintf(out, ",\"altstack\":{\"sp\":%" PRIu64 ",\"size\":%" PRIu64 ",\"flags\":%d}",
			t->altstack_sp, t->altstack_size, t->altstack_flags);
		fprintf(out, ",\"robust_list\":%" PRIu64 ",\"clear_child_tid\":%" PRIu64 ",\"rseq\":",
			t->robust_list, t->clear_child_tid);
		if (t->has_rseq)
			fprintf(out, "{\"addr\":%" PRIu64 ",\"size\":%u,\"sig\":%u}", t->rseq_abi,
				t->rseq_size, t->rseq_sig);
		else
			fprintf(out, "null");
		fprintf(out, ",\"sched_policy\":%d,\"sched_priority\":%d,\"nice\":%d,\"xmm\":[",
			t->sched_policy, t->sched_priority, t->nice);
		for (int x = 0; x < 16; x++) {
			fprintf(out, "%s\"", x ? "," : "");
			for (int b = 0; b < 16; b++)
				fprintf(out, "%02x", xmm[x * 16 + b]);
			fprintf(out, "\"");
		}
		fprintf(out, "],\"xsave_size\":%zu", t->xsave_len);
		sd_attrs_thread_json(out, &t->attrs);
		sd_sec_thread_json(out, &t->sec);
		fputc('}', out);
	}
	fprintf(out, "]");
}

static void process_json(FILE *out, const struct process_state *ps)
{
	const struct mm_fields *mm = &ps->mm;
	bool first = true;

	fprintf(out, ",\"process\":{\"pid\":%d,\"ppid\":%d,\"pgid\":%d,\"sid\":%d,\"sigactions\":[",
		ps->pid, ps->ppid, ps->pgid, ps->sid);
	for (int i = 0; i < NSIG_MAX; i++) {
		const struct ksigaction *a = &ps->sigactions[i];

		if (!a->handler && !a->flags)
			continue;
		fprintf(out, "%s{\"sig\":%d,\"handler\":%" PRIu64 ",\"flags\":%" PRIu64
			",\"restorer\":%" PRIu64 ",\"mask\":%" PRIu64 "}",
			first ? "" : ",", i + 1, a->handler, a->flags, a->restorer, a->mask);
		first = false;
	}
	fprintf(out, "],\"shared_pending\":[");
	for (size_t k = 0; k < ps->nshared; k++)
		fprintf(out, "%s%d", k ? "," : "", siginfo_signo(ps->shared[k]));
	fprintf(out, "],\"mm\":{\"start_code\":%" PRIu64 ",\"end_code\":%" PRIu64
		",\"start_data\":%" PRIu64 ",\"end_data\":%" PRIu64 ",\"start_brk\":%" PRIu64
		",\"brk\":%" PRIu64 ",\"start_stack\":%" PRIu64 ",\"arg_start\":%" PRIu64
		",\"arg_end\":%" PRIu64 ",\"env_start\":%" PRIu64 ",\"env_end\":%" PRIu64 ",\"exe\":",
		mm->start_code, mm->end_code, mm->start_data, mm->end_data, mm->start_brk, mm->brk,
		mm->start_stack, mm->arg_start, mm->arg_end, mm->env_start, mm->env_end);
	sd_json_str(out, mm->exe);
	fprintf(out, ",\"vdso\":%" PRIu64 ",\"vvar\":%" PRIu64 ",\"auxv_len\":%zu}", mm->vdso,
		mm->vvar, mm->auxv_len);
	fprintf(out, ",\"personality\":%u,\"rlimits\":[", ps->personality);
	for (int i = 0; i < NRLIMITS; i++)
		fprintf(out, "%s{\"resource\":%d,\"cur\":%" PRIu64 ",\"max\":%" PRIu64 "}", i ? "," : "",
			i, ps->rlimits[i].cur, ps->rlimits[i].max);
	fprintf(out, "],\"itimers\":[");
	for (int i = 0; i < 3; i++)
		fprintf(out, "%s{\"which\":%d,\"interval_us\":%" PRIu64 ",\"value_us\":%" PRIu64 "}",
			i ? "," : "", i, ps->itimer_interval_us[i], ps->itimer_value_us[i]);
	fprintf(out, "],\"umask\":%u,\"cwd\":", ps->umask);
	sd_json_str(out, ps->cwd);
	fprintf(out, ",\"root\":");
	sd_json_str(out, ps->root);
	fprintf(out, ",\"uid\":[%u,%u,%u,%u],\"gid\":[%u,%u,%u,%u],\"groups\":[", ps->uid[0],
		ps->uid[1], ps->uid[2], ps->uid[3], ps->gid[0], ps->gid[1], ps->gid[2], ps->gid[3]);
	for (size_t i = 0; i < ps->ngroups; i++)
		fprintf(out, "%s%u", i ? "," : "", ps->groups[i]);
	fprintf(out, "],\"thp_disabled\":%s,\"dumpable\":%d", ps->thp_disabled ? "true" : "false",
		ps->dumpable);
	if (ps->ctty)
		fprintf(out, ",\"ctty\":{\"major\":%u,\"minor\":%u,\"fg_pgrp\":%d}",
			(unsigned int)(ps->ctty >> 32), (unsigned int)ps->ctty, ps->ctty_fg_pgrp);
	else
		fprintf(out, ",\"ctty\":null");
	sd_attrs_process_json(out, &ps->attrs);
	sd_sec_timers_json(out, ps->timers, ps->ntimers);
	fputc('}', out);
}

/* The flags by name, the owner and signal, the shared description and the locks of @d. */
static void fd_extra_json(FILE *out, const struct fd_state *d)
{
	char names[FD_FLAGS_NAME_MAX];

	sd_fd_flags_name(d->flags, names);
	fprintf(out, ",\"flag_names\":\"%s\",\"owner\":{\"type\":%d,\"pid\":%d},\"signal\":%d,\"dup_of\":",
		names, d->owner_type, d->owner_pid, d->signum);
	if (d->has_dup_of)
		fprintf(out, "%d", d->dup_of);
	else
		fprintf(out, "null");
	fprintf(out, ",\"locks\":[");
	for (size_t k = 0; k < d->nlocks; k++) {
		const struct lock_state *l = &d->locks[k];

		fprintf(out, "%s{\"kind\":\"%s\",\"write\":%s,\"start\":%" PRIu64 ",\"end\":", k ? "," : "",
			sd_lock_kind_name(l->kind), l->write ? "true" : "false", l->start);
		if (l->end == LOCK_EOF)
			fprintf(out, "null}");
		else
			fprintf(out, "%" PRIu64 "}", l->end);
	}
	fprintf(out, "],\"external\":%s", d->external ? "true" : "false");
	if (d->ghost)
		fprintf(out, ",\"ghost\":%u", d->ghost);
	if (d->has_tty) {
		const struct tty_state *t = &d->tty;

		fprintf(out, ",\"tty\":{\"iflag\":%u,\"oflag\":%u,\"cflag\":%u,\"lflag\":%u,\"line\":%u,"
			"\"rows\":%u,\"cols\":%u,\"xpixel\":%u,\"ypixel\":%u}",
			t->iflag, t->oflag, t->cflag, t->lflag, t->line, t->rows, t->cols, t->xpixel, t->ypixel);
	}
}

static void files_json(FILE *out, const struct files_state *fs)
{
	fprintf(out, ",\"files\":[");
	for (size_t i = 0; i < fs->n; i++) {
		const struct fd_state *d = &fs->fds[i];
		bool pipe = d->kind == FDK_PIPE || d->kind == FDK_FIFO;
		size_t len = 0;

		/* the bytes of a pipe are kept on one of its fds: count them on all */
		for (size_t k = 0; pipe && k < fs->n; k++)
			if (fs->fds[k].has_pipe_data && fs->fds[k].ino == d->ino)
				len = fs->fds[k].pipe_data_len;
		fprintf(out, "%s{\"fd\":%d,\"kind\":\"%s\",\"path\":", i ? "," : "", d->fd,
			sd_fd_kind_name(d->kind));
		sd_json_str(out, d->path);
		fprintf(out, ",\"flags\":%u,\"pos\":%" PRIu64 ",\"pipe_id\":%" PRIu64
			",\"pipe_data_len\":%zu", d->flags, d->pos, pipe ? d->ino : 0, len);
		fd_extra_json(out, d);
		sd_anon_json(out, d);
		fprintf(out, "}");
	}
	fprintf(out, "]");
}

SDUMP_API void sdump_image_info_write_json(const struct sdump_image_info *in, FILE *out)
{
	fprintf(out, "{\"format_version\":%u,\"kind\":", in->format_version);
	sd_json_str(out, in->kind);
	fprintf(out, ",\"pass_id\":");
	sd_json_str(out, in->pass_id);
	fprintf(out, ",\"parent\":");
	sd_json_str(out, in->parent_path);
	fprintf(out, ",\"parent_pass_id\":");
	sd_json_str(out, in->parent_pass_id);
	fprintf(out, ",\"pid\":%d,\"comm\":", (int)in->pid);
	sd_json_str(out, in->comm);
	fprintf(out, ",\"start_time\":%" PRIu64 ",\"tracker\":", in->start_time);
	sd_json_str(out, in->tracker);
	fprintf(out, ",\"page_size\":%u,\"kernel\":", in->page_size);
	sd_json_str(out, in->kernel);
	fprintf(out, ",\"time_start_ns\":%" PRIu64 ",\"time_end_ns\":%" PRIu64 ",\"stats\":",
	       in->time_start_ns, in->time_end_ns);
	sdump_stats_write_json(&in->stats, out);
	fprintf(out, ",\"vmas\":[");
	for (size_t i = 0; i < in->nr_vmas; i++) {
		const struct sdump_vma_info *v = &in->vmas[i];

		fprintf(out, "%s{\"start\":%" PRIu64 ",\"end\":%" PRIu64 ",\"pgoff\":%" PRIu64 ",\"prot\":",
		       i ? "," : "", v->start, v->end, v->pgoff);
		sd_json_str(out, v->prot);
		fprintf(out, ",\"path\":");
		sd_json_str(out, v->path);
		fprintf(out, ",\"pages_data\":%" PRIu64 ",\"pages_parent\":%" PRIu64 ",\"open\":",
		       v->pages_data, v->pages_parent);
		sd_json_str(out, v->open[0] ? v->open : NULL);
		fprintf(out, ",\"deleted\":%s,\"ghost\":", v->deleted ? "true" : "false");
		if (v->ghost_saved)
			fprintf(out, "{\"size\":%" PRIu64 ",\"data_bytes\":%" PRIu64 "}", v->ghost_size,
				v->ghost_data);
		else
			fprintf(out, "null");
		fprintf(out, ",\"shared_pid\":%d,\"vmflags\":", v->shared_pid);
		sd_json_str(out, v->has_vmflags ? v->vmflags : NULL);
		fprintf(out, ",\"guards\":[");
		for (size_t g = 0; g < v->nguards; g++)
			fprintf(out, "%s[%" PRIu64 ",%" PRIu64 "]", g ? "," : "", v->guards[2 * g],
				v->guards[2 * g + 1]);
		fprintf(out, "]}");
	}
	fprintf(out, "],\"chain\":[");
	for (size_t i = 0; i < in->chain_len; i++) {
		const struct sdump_pass_summary *c = &in->chain[i];

		fprintf(out, "%s{\"dir\":", i ? "," : "");
		sd_json_str(out, c->dir);
		fprintf(out, ",\"pass_id\":");
		sd_json_str(out, c->pass_id);
		fprintf(out, ",\"kind\":");
		sd_json_str(out, c->kind);
		fprintf(out, ",\"tracker\":");
		sd_json_str(out, c->tracker);
		fprintf(out, ",\"time_start_ns\":%" PRIu64 ",\"stats\":", c->time_start_ns);
		sdump_stats_write_json(&c->stats, out);
		fprintf(out, "}");
	}
	fprintf(out, "]");
	if (in->state) {
		threads_json(out, &in->state->ps);
		process_json(out, &in->state->ps);
		files_json(out, &in->state->fs);
	}
	sd_tree_json(out, in);
	fprintf(out, "}\n");
}

/* "2026-11-26 10:00:01", UTC, of a CLOCK_REALTIME time in ns; "?" if it cannot be. */
static void fmt_date(char *buf, size_t size, uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm))
		(void)snprintf(buf, size, "?");
}

/* After the notes: the VmFlags saved and the guard pages, " {lo ac; 2 guard ranges}". */
static void vma_flags_note(const struct sdump_vma_info *v, char *buf, size_t size)
{
	buf[0] = '\0';
	if (!v->vmflags[0] && !v->nguards)
		return;
	if (!v->nguards)
		(void)snprintf(buf, size, " {%s}", v->vmflags);
	else
		(void)snprintf(buf, size, " {%s%s%zu guard range%s}", v->vmflags, v->vmflags[0] ? "; " : "",
			       v->nguards, v->nguards == 1 ? "" : "s");
}

/*
 * After a file mapping's path: how its file was open and, for a deleted
 * file, whether this pass holds its contents: " [open rw]", " [open r;
 * contents saved: 1.0 MiB, 12.0 KiB of data]".
 */
static void vma_notes(const struct sdump_vma_info *v, char *buf, size_t size)
{
	char sz[24], data[24];

	buf[0] = '\0';
	if (v->shared_pid && !v->deleted) {
		(void)snprintf(buf, size, " [shared with pid %d of the tree, which saves what it maps]",
			       v->shared_pid);
		return;
	}
	if (!v->open[0] && !v->deleted)
		return;
	if (!v->deleted) {
		(void)snprintf(buf, size, " [open %s]", v->open);
		return;
	}
	sd_fmt_size(sz, sizeof(sz), v->ghost_size);
	sd_fmt_size(data, sizeof(data), v->ghost_data);
	if (v->ghost_saved && v->shared_pid)
		(void)snprintf(buf, size, " [open %s; contents saved by pid %d of the tree]",
			       v->open[0] ? v->open : "?", v->shared_pid);
	else if (v->ghost_saved)
		(void)snprintf(buf, size, " [open %s; contents saved: %s, %s of data]",
			       v->open[0] ? v->open : "?", sz, data);
	else
		(void)snprintf(buf, size, " [open %s; contents saved by the final dump only]",
			       v->open[0] ? v->open : "?");
}

const char *sd_vis(char *buf, size_t size, const char *s)
{
	size_t i = 0;

	for (; s && s[i] && i + 1 < size; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

/*
 * One fd: number, kind, path, then its flags by name; below it what it
 * shares, its owner and signal, its locks, one line each.
 */
static void fd_text(FILE *out, const struct fd_state *d)
{
	static const char *const types[] = { "thread", "process", "process group" };
	char v[VIS_MAX], names[FD_FLAGS_NAME_MAX], what[LOCK_DESCRIBE_MAX];

	sd_fd_flags_name(d->flags, names);
	fprintf(out, "  %-4d %-5s %s  %s\n", d->fd, sd_fd_kind_name(d->kind), sd_vis(v, sizeof(v), d->path),
		names);
	if (d->has_dup_of)
		fprintf(out, "             its open file description is fd %d's\n", d->dup_of);
	if (d->owner_pid || d->signum)
		fprintf(out, "             I/O signals: %s %d, signal %d\n",
			(unsigned int)d->owner_type < ARRAY_SIZE(types) ? types[d->owner_type] : "owner",
			d->owner_pid, d->signum ? d->signum : SIGIO);
	for (size_t k = 0; k < d->nlocks; k++) {
		sd_lock_describe(&d->locks[k], what);
		fprintf(out, "             holds a%s %s\n", what[0] == 'O' ? "n" : "", what);
	}
	if (d->external)
		fprintf(out, "             its other end was outside the process (restore: --inherit-fd)\n");
	if (d->ghost)
		fprintf(out, "             its contents saved: file %u of ghosts.img\n", d->ghost);
	if (d->has_tty)
		fprintf(out, "             terminal %ux%u, %s, %s\n", d->tty.cols, d->tty.rows,
			(d->tty.lflag & ICANON) ? "canonical" : "raw", (d->tty.lflag & ECHO) ? "echo" : "no echo");
	sd_anon_text(out, d);
}

SDUMP_API void sdump_image_info_write_chain(const struct sdump_image_info *in, FILE *out)
{
	fprintf(out, "%-8s  %-19s  %-10s  %14s  %10s  %10s  %s\n", "kind", "started (UTC)",
		"tracker", "written", "on disk", "frozen", "directory");
	for (size_t i = 0; i < in->chain_len; i++) {
		const struct sdump_pass_summary *c = &in->chain[i];
		char date[32], on_disk[32], frozen[32], pages[32], tr[32], d[VIS_MAX];

		fmt_date(date, sizeof(date), c->time_start_ns);
		sd_fmt_size(on_disk, sizeof(on_disk), c->stats.bytes_written);
		sd_fmt_duration(frozen, sizeof(frozen), c->stats.freeze_us);
		(void)snprintf(pages, sizeof(pages), "%" PRIu64 " pages", c->stats.pages_written);
		fprintf(out, "%-8s  %-19s  %-10s  %14s  %10s  %10s  %s\n", c->kind, date,
			sd_vis(tr, sizeof(tr), c->tracker), pages, on_disk, frozen, sd_vis(d, sizeof(d), c->dir));
	}
}

/* "compress": the levels the frames got, the compressors' CPU, the sink auto fitted. */
static void write_levels_text(const struct sdump_stats *s, FILE *out)
{
	if (!s->compress_level && !s->compress_level_min && !s->compress_level_max)
		return; /* a pass made before these were kept */
	fprintf(out, "compress  level %" PRId32, s->compress_level);
	if (s->compress_level_min != s->compress_level_max)
		fprintf(out, " (%" PRId32 " to %" PRId32 ")", s->compress_level_min,
			s->compress_level_max);
	if (s->sink_rate)
		fprintf(out, ", auto for a sink of %.1f MiB/s", s->sink_rate / 1048576.0);
	fprintf(out, "; %.2f s of CPU\n", s->compress_cpu_us / 1e6);
}

SDUMP_API void sdump_stats_write_text(const struct sdump_stats *s, uint32_t page_size, FILE *out)
{
	char size[32], scanned[32], written[32], freeze[32], seize[32], collect[32], copy[32];
	char write[32];

	sd_fmt_size(size, sizeof(size), s->bytes_written);
	sd_fmt_size(scanned, sizeof(scanned), s->pages_scanned * page_size);
	sd_fmt_size(written, sizeof(written), s->pages_written * page_size);
	sd_fmt_duration(freeze, sizeof(freeze), s->freeze_us);
	sd_fmt_duration(seize, sizeof(seize), s->seize_us);
	sd_fmt_duration(collect, sizeof(collect), s->collect_us);
	sd_fmt_duration(copy, sizeof(copy), s->copy_us);
	sd_fmt_duration(write, sizeof(write), s->write_us);
	fprintf(out, "frozen    %s (seize %s, collect %s)\n", freeze, seize, collect);
	if (s->live) {
		char refreeze[32];

		sd_fmt_duration(refreeze, sizeof(refreeze), s->refreeze_us);
		fprintf(out, "live      %" PRIu64 " page%s copied frozen, the rest while running: %" PRIu64
			" write fault%s served%s%s\n",
			s->live_pages_frozen, s->live_pages_frozen == 1 ? "" : "s", s->live_faults,
			s->live_faults == 1 ? "" : "s",
			s->refreeze_us ? ", tracking handed back in a second freeze of " : "",
			s->refreeze_us ? refreeze : "");
	}
	fprintf(out, "pages     %s scanned; %" PRIu64 " written (%s, %" PRIu64 " zero), %" PRIu64
	       " in parent, %" PRIu64 " lost\n",
	       scanned, s->pages_written, written, s->pages_zero, s->pages_in_parent, s->pages_lost);
	fprintf(out, "on disk   %s (copy %s, compress and write %s)\n", size, copy, write);
	if (s->held_bytes) {
		char held[32];

		sd_fmt_size(held, sizeof(held), s->held_bytes);
		fprintf(out, "memory    %s copied frozen into memory, compressed once resumed\n", held);
	}
	if (s->cpu_us) {
		char cpu[32];

		sd_fmt_duration(cpu, sizeof(cpu), s->cpu_us);
		fprintf(out, "cpu       %s", cpu);
		if (s->pages_written)
			fprintf(out, " (%.2f s per GiB written)",
				s->cpu_us / 1e6 / ((double)s->pages_written * page_size / (1 << 30)));
		fputc('\n', out);
	}
	write_levels_text(s, out);
}

SDUMP_API void sdump_image_info_write_text(const struct sdump_image_info *in, FILE *out)
{
	char when[32], total[32], v1[VIS_MAX], v2[VIS_MAX];

	fmt_date(when, sizeof(when), in->time_start_ns);
	sd_fmt_duration(total, sizeof(total), in->stats.total_us);
	sd_tree_text(out, in);
	fprintf(out, "image     %s\n", sd_vis(v1, sizeof(v1), in->dir));
	fprintf(out, "kind      %s (format %u)\n", in->kind, in->format_version);
	fprintf(out, "pass      %s\n", in->pass_id);
	if (in->parent_pass_id)
		fprintf(out, "parent    %s (pass %s)\n",
			sd_vis(v1, sizeof(v1), in->parent_path ? in->parent_path : "?"), in->parent_pass_id);
	else
		fprintf(out, "parent    none\n");
	fprintf(out, "process   %d (%s)\n", (int)in->pid, sd_vis(v1, sizeof(v1), in->comm));
	fprintf(out, "tracker   %s\n", sd_vis(v1, sizeof(v1), in->tracker));
	fprintf(out, "kernel    %s\n", sd_vis(v1, sizeof(v1), in->kernel));
	fprintf(out, "taken     %s UTC, %s\n", when, total);
	sdump_stats_write_text(&in->stats, in->page_size, out);
	fprintf(out, "chain     %zu pass%s, newest first\n", in->chain_len, in->chain_len == 1 ? "" : "es");
	for (size_t i = 0; i < in->chain_len; i++) {
		const struct sdump_pass_summary *c = &in->chain[i];
		char on_disk[32], frozen[32];

		sd_fmt_size(on_disk, sizeof(on_disk), c->stats.bytes_written);
		sd_fmt_duration(frozen, sizeof(frozen), c->stats.freeze_us);
		fprintf(out, "  %-8s  %-10s %9" PRIu64 " written %9" PRIu64 " in parent %10s  frozen %9s  %s\n",
		       c->kind, sd_vis(v1, sizeof(v1), c->tracker), c->stats.pages_written,
		       c->stats.pages_in_parent, on_disk, frozen, sd_vis(v2, sizeof(v2), c->dir));
	}
	if (in->chain_len > 1)
		fprintf(out, "checked   this pass's record files and the checksum of every frame; of its %zu parent%s the record files and links only (sdump verify reads every byte of the chain)\n",
			in->chain_len - 1, in->chain_len == 2 ? "" : "s");
	else
		fprintf(out, "checked   every record file and the checksum of every frame (sdump verify also decompresses every frame)\n");
	if (in->state) {
		const struct process_state *ps = &in->state->ps;
		const struct files_state *fs = &in->state->fs;

		fprintf(out, "threads   %zu\n", ps->nthreads);
		for (size_t i = 0; i < ps->nthreads; i++) {
			const struct thread_state *th = &ps->threads[i];

			fprintf(out, "  %-7d %-16s rip %016llx rsp %016llx%s\n", th->tid,
				sd_vis(v1, sizeof(v1), th->comm),
				(unsigned long long)th->regs.rip, (unsigned long long)th->regs.rsp,
				(long long)th->regs.orig_rax >= 0 ? " (in a system call)" : "");
		}
		fprintf(out, "files     %zu\n", fs->n);
		for (size_t i = 0; i < fs->n; i++)
			fd_text(out, &fs->fds[i]);
	}
	fprintf(out, "vmas      %zu\n", in->nr_vmas);
	fprintf(out, "  %-25s %-4s %10s %9s %9s  %s\n", "address", "prot", "size", "saved", "in parent",
	       "path");
	for (size_t i = 0; i < in->nr_vmas; i++) {
		const struct sdump_vma_info *v = &in->vmas[i];
		char range[40], vsize[32], notes[128], flags[160];

		(void)snprintf(range, sizeof(range), "%012" PRIx64 "-%012" PRIx64, v->start, v->end);
		sd_fmt_size(vsize, sizeof(vsize), v->end - v->start);
		vma_notes(v, notes, sizeof(notes));
		vma_flags_note(v, flags, sizeof(flags));
		fprintf(out, "  %-25s %-4s %10s %9" PRIu64 " %9" PRIu64 "  %s%s%s\n", range, v->prot, vsize,
		       v->pages_data, v->pages_parent, sd_vis(v1, sizeof(v1), v->path ? v->path : ""),
		       notes, flags);
	}
}

