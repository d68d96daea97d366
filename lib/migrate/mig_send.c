/* SPDX-License-Identifier: MIT */
/*
 * sdump migrate: the source. Each round is an ordinary pass (a pre-dump,
 * the last one the final dump) made into a work directory and sent file by
 * file as it is on disk (its zstd frames as they are), then committed by
 * the receiver. The final dump's handover hook sends the last pass with the
 * target still frozen and lets the dump kill it only once the receiver says
 * its copy runs; on any failure before that the target is resumed and its
 * tracking ended.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "migrate: "
#include "array.h"
#include "ctx.h"
#include "util.h"
#include "mig_net.h"
#include "mig_pass.h"
#include "mig_throttle.h"
#include "mig_lazy.h"
#include "ptree.h"

struct sender {
	struct sdump_ctx *ctx;
	const struct sdump_migrate_opts *o;
	struct mig_conn c;
	char work[PATH_MAX - 32];	/* the work directory, "" until made */
	unsigned int n;			/* passes made so far */
	struct sdump_migrate_stats st;
	uint64_t t_round;		/* start of the current round */
	uint64_t pass_bytes, pass_pages;
	uint64_t send_us;
	bool dest_runs;			/* the receiver said its copy runs */
	bool unsure;			/* the receiver went silent after GO: ours left stopped */
	struct mig_throttle thr;	/* auto-converge: slowing it down while rounds are sent */
	unsigned int thr_pct;		/* its CPU share asked, 0: not slowed */
	bool postcopy;			/* the receiver asked for it (mig_lazy.h) */
};

static void pass_dir(const struct sender *s, unsigned int n, char *buf, size_t size)
{
	(void)snprintf(buf, size, "%s/%u", s->work, n);
}

/* Send pass @n (its directory as the dump left it), then wait until the receiver committed it. */
static int send_pass(struct sender *s, unsigned int n, bool final)
{
	char dir[PATH_MAX];
	uint8_t msg[MIG_MSG_MAX];
	size_t len;
	uint64_t t = now_us(), before = s->c.sent;
	int r;

	pass_dir(s, n, dir, sizeof(dir));
	put_le32(msg, n);
	put_le32(msg + 4, final);
	r = sd_mig_send_msg(&s->c, MIG_PASS, msg, 8);
	if (r == 0)
		r = sd_mig_send_dir(&s->c, dir, s->o->pid);
	if (r == 0)
		r = sd_mig_send_msg(&s->c, MIG_PASS_END, NULL, 0);
	/* a receiver verifies the whole pass before it answers: give it time */
	s->c.idle_ms = 600000;
	if (r == 0)
		r = sd_mig_expect(&s->c, MIG_ACK, msg, &len);
	s->c.idle_ms = 120000;
	if (r == 0 && (len < 4 || get_le32(msg) != n))
		r = sd_errx(s->ctx, -EPROTO, "%s acknowledged another pass than %u", s->c.peer, n);
	if (r < 0)
		return r;
	s->pass_bytes = s->c.sent - before;
	s->send_us = now_us() - t;
	return 0;
}

/* The round just done into the statistics; the rate of writes and the bandwidth measured. */
static void account(struct sender *s, const struct sdump_stats *ds, uint64_t dump_us)
{
	struct sdump_migrate_round *rd = &s->st.round[s->n - 1];
	uint64_t bytes = 0, us = 0;
	char b[32], d[32];

	rd->pages = ds->pages_written;
	rd->bytes = s->pass_bytes;
	rd->dump_us = dump_us;
	rd->send_us = s->send_us;
	rd->freeze_us = ds->freeze_us;
	rd->compress_level = ds->compress_level;
	rd->compress_level_min = ds->compress_level_min;
	rd->compress_level_max = ds->compress_level_max;
	rd->compress_cpu_us = ds->compress_cpu_us;
	s->st.rounds = s->n;
	for (unsigned int i = 0; i < s->n; i++) {
		bytes += s->st.round[i].bytes;
		us += s->st.round[i].send_us;
	}
	if (us)
		s->st.bandwidth = bytes / (us / 1e6);
	sd_fmt_size(b, sizeof(b), rd->bytes);
	sd_fmt_duration(d, sizeof(d), dump_us + s->send_us);
	pr_info(s->ctx, "round %u: %" PRIu64 " pages, %s sent in %s (%.1f MiB/s)", s->n, rd->pages, b,
		d, s->send_us ? rd->bytes / (s->send_us / 1e6) / (1 << 20) : 0.0);
}

/* Auto-converge: the first CPU share a process that does not converge gets, halved down to the last. */
#define AC_FIRST 50
#define AC_MIN 3

/* The throttle as s->thr_pct says, for the time a round is sent (the dump seizes the process itself). */
static void throttle(struct sender *s, bool on)
{
	if (!on || !s->thr_pct) {
		sd_mig_throttle_stop(&s->thr);
		return;
	}
	if (s->thr.helper)
		return;
	if (sd_mig_throttle_start(s->ctx, s->o->pid, s->thr_pct, &s->thr) < 0) {
		pr_warn(s->ctx, "%s", sdump_ctx_last_error(s->ctx));
		sdump_ctx_clear_error(s->ctx);
		return;
	}
	s->st.throttle_pct = s->thr_pct;
	(void)snprintf(s->st.throttle_how, sizeof(s->st.throttle_how), "%s", s->thr.how);
	pr_info(s->ctx, "pid %d slowed down to %u %% of its CPU (%s)", s->o->pid, s->thr_pct, s->thr.how);
}

/*
 * After pre-dump round n: whether the next round is the last. The next
 * pass holds what the target writes during a round; at the rate measured
 * over the last round, sent at the bandwidth measured, it must fit the
 * downtime.
 */
static bool last_round_due(struct sender *s, uint64_t round_us)
{
	const struct sdump_migrate_round *rd = &s->st.round[s->n - 1];
	uint64_t budget = (s->o->downtime_ms ? s->o->downtime_ms : 300) * 1000;
	unsigned int max = s->o->max_rounds ? s->o->max_rounds : 30;
	double expect_us;

	if (s->n >= 2 && round_us)
		s->st.dirty_rate = rd->bytes / (round_us / 1e6);
	expect_us = s->st.bandwidth > 0 ? rd->bytes / s->st.bandwidth * 1e6 : 1e12;
	if (s->n >= 2 && expect_us <= (double)budget) {
		s->st.converged = true;
		(void)snprintf(s->st.why_last, sizeof(s->st.why_last), "fits the downtime");
		pr_info(s->ctx, "the last round should take %.0f ms, within the %" PRIu64 " ms asked",
			expect_us / 1000, budget / 1000);
		return true;
	}
	if (s->n >= 3 && rd->bytes * 10 >= s->st.round[s->n - 2].bytes * 9 && s->o->auto_converge &&
	    s->thr_pct != AC_MIN && s->n + 1 < max) {
		/* auto-converge: slower, and another round */
		s->thr_pct = s->thr_pct ? MAX(s->thr_pct / 2, AC_MIN) : AC_FIRST;
		pr_warn(s->ctx,
			"pid %d does not converge: round %u sent %" PRIu64 " bytes, round %u %" PRIu64 " (it writes %.1f MiB/s, %.1f MiB/s sent): slowed down to %u %% of its CPU",
			s->o->pid, s->n, rd->bytes, s->n - 1, s->st.round[s->n - 2].bytes,
			s->st.dirty_rate / (1 << 20), s->st.bandwidth / (1 << 20), s->thr_pct);
		return false;
	}
	if (s->n >= 3 && rd->bytes * 10 >= s->st.round[s->n - 2].bytes * 9) {
		(void)snprintf(s->st.why_last, sizeof(s->st.why_last), "rounds stopped shrinking");
		pr_warn(s->ctx,
			"pid %d does not converge: round %u sent %" PRIu64 " bytes, round %u %" PRIu64 " (it writes %.1f MiB/s, %.1f MiB/s sent): the last round now, expected to take %.0f ms",
			s->o->pid, s->n, rd->bytes, s->n - 1, s->st.round[s->n - 2].bytes,
			s->st.dirty_rate / (1 << 20), s->st.bandwidth / (1 << 20), expect_us / 1000);
		return true;
	}
	if (s->n + 1 >= max || s->n + 1 >= SDUMP_MIGRATE_MAX_ROUNDS) {
		(void)snprintf(s->st.why_last, sizeof(s->st.why_last), "--max-rounds");
		if (s->n >= 2)
			pr_warn(s->ctx, "pid %d did not converge in %u rounds: the last round now, expected to take %.0f ms",
				s->o->pid, s->n + 1, expect_us / 1000);
		return true;
	}
	return false;
}

/*
 * The final dump is committed, the target frozen: send it, and hand over.
 * Until GO is sent any failure resumes the target (the receiver, without
 * GO, drops its copy). From GO on, ours dies with us (armed just before),
 * and a failure without the receiver's word leaves it stopped: the
 * receiver may have got GO and run its copy, or not; nobody can tell.
 */
static int handover(void *data, const char *dir, struct sdump_handover *h)
{
	struct sender *s = data;
	uint8_t msg[MIG_MSG_MAX];
	size_t len;
	int r;

	(void)dir;
	if (s->postcopy) {
		char pd[PATH_MAX];

		/* the state now, the pages as the receiver's copy runs */
		s->c.pages_later = true;
		r = send_pass(s, s->n, true);
		s->c.pages_later = false;
		pass_dir(s, s->n, pd, sizeof(pd));
		if (r == 0)
			r = sd_mig_lazy_serve(&s->c, pd, s->o->pid, h, &s->st.dest_pid);
		s->unsure = r == SDUMP_HANDOVER_UNSURE;
		s->dest_runs = r == 0;
		return r;
	}
	r = send_pass(s, s->n, true);
	/* the receiver restores now, and holds the process until we say */
	s->c.idle_ms = 600000;
	if (r == 0)
		r = sd_mig_expect(&s->c, MIG_READY, msg, &len);
	s->c.idle_ms = 120000;
	if (r == 0)
		r = sdump_handover_arm(h);
	if (r == 0)
		r = sd_mig_send_msg(&s->c, MIG_GO, NULL, 0);
	if (r < 0)
		return r;
	r = sd_mig_expect(&s->c, MIG_RUNNING, msg, &len);
	if (r < 0 && s->c.peer_failed)
		return r; /* it said its copy failed: ours goes on */
	if (r < 0) {
		char line[512];

		(void)snprintf(line, sizeof(line), "%s", sdump_ctx_last_error(s->ctx));
		sdump_ctx_clear_error(s->ctx);
		(void)sd_errx(s->ctx, -ENOTCONN,
			      "pid %d: %s after it was told to run its copy: it may run there; left stopped here (SIGSTOP): kill -CONT %d if it does not",
			      s->o->pid, line, s->o->pid);
		s->unsure = true;
		return SDUMP_HANDOVER_UNSURE;
	}
	if (len >= 4)
		s->st.dest_pid = (pid_t)get_le32(msg);
	s->dest_runs = true;
	return 0;
}

/*
 * The rate a round will be sent at, for --compress-level auto: what the
 * rounds before it were sent at, at most --bandwidth; 0 before anything was
 * sent without a limit (the default level then).
 */
static uint64_t send_rate(const struct sender *s)
{
	uint64_t measured = (uint64_t)s->st.bandwidth;

	if (s->o->bandwidth && (!measured || s->o->bandwidth < measured))
		return s->o->bandwidth;
	return measured;
}

static int run_rounds(struct sender *s)
{
	const struct sdump_migrate_opts *o = s->o;
	uint8_t msg[MIG_MSG_MAX];
	size_t len;
	uint64_t t_prev = 0;
	/* --max-rounds 1: the final dump alone (post-copy sends all its memory after) */
	bool last = o->max_rounds == 1;
	int r;

	put_le32(msg, MIG_PROTO_VERSION);
	put_le32(msg + 4, (uint32_t)sysconf(_SC_PAGESIZE));
	r = sd_mig_send_msg(&s->c, MIG_HELLO, msg, 8);
	if (r == 0)
		r = sd_mig_expect(&s->c, MIG_HELLO, msg, &len);
	if (r == 0 && len >= 12 && (get_le32(msg + 8) & MIG_HELLO_POSTCOPY)) {
		s->postcopy = true;
		pr_info(s->ctx, "%s asks for post-copy: its copy runs before its memory is there", s->c.peer);
	}
	if (r == -ECONNRESET) {
		/* it hung up on us before a word: it refused us, its own line says why */
		sdump_ctx_clear_error(s->ctx);
		return sd_errx(s->ctx, r, "%s hung up before it answered: it refused us (%s)", s->c.peer,
			       o->tls.ca ? "is our certificate signed by its CA?" : "does it want TLS?");
	}
	if (r < 0)
		return r;
	for (;;) {
		char dir[PATH_MAX], parent[PATH_MAX];
		struct sdump_dump_opts d = {
			.pid = o->pid,
			.dir = dir,
			.parent = s->n ? parent : NULL,
			.track = o->track,
			.threads = o->threads,
			.compress_level = o->compress_level,
			/* sent, then removed: the receiver's copy is the one made durable */
			.scratch = true,
			.sink_rate = send_rate(s),
		};
		struct sdump_stats ds = { 0 };
		uint64_t t0 = now_us();

		pass_dir(s, s->n, parent, sizeof(parent));
		s->n++;
		pass_dir(s, s->n, dir, sizeof(dir));
		s->t_round = t0;
		if (last) {
			d.tcp_established = o->tcp_established;
			d.handover = handover;
			d.handover_data = s;
			r = sdump_dump(s->ctx, &d, &ds);
			if (r < 0)
				return r;
			account(s, &ds, ds.total_us);
			s->st.downtime_us = ds.freeze_us;
			return 0;
		}
		r = sdump_pre_dump(s->ctx, &d, &ds);
		/* slowed down (auto-converge) while the round goes, never while a pass is made */
		throttle(s, true);
		if (r == 0)
			r = send_pass(s, s->n, false);
		throttle(s, false);
		if (r < 0)
			return r;
		account(s, &ds, now_us() - t0 - s->send_us);
		last = last_round_due(s, t_prev ? t0 - t_prev : 0);
		t_prev = t0;
	}
}

/* The work directory and every pass in it. */
static void remove_work(struct sender *s)
{
	char dir[PATH_MAX];

	if (!s->work[0])
		return;
	for (unsigned int i = 1; i <= s->n; i++) {
		pass_dir(s, i, dir, sizeof(dir));
		sd_mig_remove_pass(dir);
	}
	if (rmdir(s->work) < 0 && errno != ENOENT)
		pr_warn(s->ctx, "cannot remove the work directory '%s': %s", s->work, strerror(errno));
}

/* The process and every process below it (a tree's members): no tracking left in any. */
static void release_tree(struct sdump_ctx *ctx, pid_t root)
{
	_cleanup_free_ pid_t *q = NULL;
	size_t n = 0, cap = 0;

	if (ARRAY_RESERVE(q, cap, 1, 16) < 0)
		return;
	q[n++] = root;
	for (size_t i = 0; i < n && n < TREE_MAX_MEMBERS; i++) {
		struct sdump_release_info ri;

		if (kill(q[i], 0) < 0)
			continue;
		if (sdump_release(ctx, q[i], &ri) < 0) {
			pr_warn(ctx, "cannot end the tracking of pid %d: %s", q[i], sdump_ctx_last_error(ctx));
			sdump_ctx_clear_error(ctx);
		}
		(void)sd_proc_children(q[i], &q, &n, &cap);
	}
}

SDUMP_API int sdump_migrate(struct sdump_ctx *ctx, const struct sdump_migrate_opts *opts,
			    struct sdump_migrate_stats *ret_stats)
{
	struct sender *s;
	struct mig_tls tls = { opts->tls.cert, opts->tls.key, opts->tls.ca };
	const char *tmp = opts->work_dir ? opts->work_dir : getenv("TMPDIR");
	uint64_t t0 = now_us();
	int r;

	if (opts->pid <= 0 || !opts->to)
		return sd_errx(ctx, -EINVAL, "migrate needs a pid and a destination");
	if ((opts->tls.cert || opts->tls.key || opts->tls.ca) &&
	    !(opts->tls.cert && opts->tls.key && opts->tls.ca))
		return sd_errx(ctx, -EINVAL, "TLS needs all three of the certificate, its key and the CA");
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ctx = ctx;
	s->o = opts;
	s->c.fd = -1;
	if (kill(opts->pid, 0) < 0 && errno == ESRCH) {
		free(s);
		return sd_errx(ctx, -ESRCH, "cannot migrate pid %d: no such process", opts->pid);
	}
	if (snprintf(s->work, sizeof(s->work), "%s/sdump-migrate.XXXXXX", tmp && tmp[0] ? tmp : "/tmp") >=
		    (int)sizeof(s->work) ||
	    !mkdtemp(s->work)) {
		r = sd_err(ctx, -errno, "cannot make a work directory in '%s'", tmp ? tmp : "/tmp");
		free(s);
		return r;
	}
	r = sd_mig_connect(ctx, opts->to, opts->tls.ca ? &tls : NULL, &s->c);
	if (r == 0) {
		s->c.rate = opts->bandwidth;
		r = run_rounds(s);
	}
	if (r < 0 && !s->dest_runs && !s->unsure) {
		char line[512];

		(void)snprintf(line, sizeof(line), "%s",
			       sdump_ctx_last_error(ctx) ? sdump_ctx_last_error(ctx) : strerror(-r));
		sd_mig_send_fail(&s->c, "the sender gave up: %s", line);
		/* the process runs on here, as it was: no tracking left in it */
		release_tree(ctx, opts->pid);
		pr_info(ctx, "pid %d runs on here", opts->pid);
	}
	if (r == 0) {
		/* ours is gone: the receiver may let go */
		(void)sd_mig_send_msg(&s->c, MIG_DONE, NULL, 0);
		s->st.bytes_sent = s->c.sent;
		s->st.total_us = now_us() - t0;
		pr_info(ctx, "pid %d moved to %s in %u rounds, %.2f s, downtime %.1f ms", opts->pid,
			opts->to, s->st.rounds, s->st.total_us / 1e6, s->st.downtime_us / 1000.0);
		if (ret_stats)
			*ret_stats = s->st;
	}
	sd_mig_close(&s->c);
	remove_work(s);
	free(s);
	return r;
}
