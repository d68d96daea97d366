/* SPDX-License-Identifier: MIT */
/*
 * The terminal of a restored process. A terminal is not something a restore
 * can make again: with --shell-job ours stands in for it. The process joins
 * our session (rst_process.c: a group leader leads a group of its own in
 * it), its terminal fds are dups of our fd on our controlling terminal
 * (rst_files.c), our terminal takes the settings the process's had
 * (termios: an interactive shell or an editor leaves it in raw mode, echo
 * off, and reads on as if it still were; the window size), and if its group
 * was the foreground group of its terminal it becomes ours: else a shell's
 * first tcsetpgrp() to its own group fails, its next read gets EIO and it
 * exits. Once the process is gone the foreground comes back to our group.
 *
 * Without --shell-job a process with a terminal fd is refused, and so is one
 * whose controlling terminal the restored process would not have: a session
 * leader (it comes back as the leader of a new session, which has none), or
 * one in our session while we have another terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "proc.h"
#include "procfs.h"
#include "pstate.h"
#include "restore.h"
#include "util.h"

#define DEV_TTY ((uint64_t)5 << 32 | 0)

/* "/dev/pts/3" for a pty, "terminal 4:1" for another */
static void tty_name(uint64_t dev, char *buf, size_t size)
{
	unsigned int maj = (unsigned int)(dev >> 32), min = (unsigned int)dev;

	if (maj >= 136 && maj <= 143)
		(void)snprintf(buf, size, "/dev/pts/%u", (maj - 136) * 256 + min);
	else
		(void)snprintf(buf, size, "terminal %u:%u", maj, min);
}

/* Our controlling terminal (major << 32 | minor), 0 for none. */
static uint64_t our_ctty(void)
{
	_cleanup_free_ char *stat = NULL;
	uint64_t f[8] = { 0 };

	if (sd_read_file(AT_FDCWD, "/proc/self/stat", &stat, NULL) < 0 ||
	    sd_proc_stat_fields(stat, f, 8) < 8 || !f[7])
		return 0;
	return (uint64_t)major((dev_t)f[7]) << 32 | minor((dev_t)f[7]);
}

/* A terminal fd the process gets a dup of our terminal for: not inherited, not /dev/tty. */
static bool stands_in(const struct rst *r, size_t i)
{
	const struct fd_state *d = &r->fs.fds[i];

	return d->kind == FDK_TTY && r->src[i] < 0 && d->rdev != DEV_TTY;
}

int sd_rst_check_terminal(struct rst *r)
{
	const struct fd_state *first = NULL;
	uint64_t ours = our_ctty();
	char a[64];
	bool need = r->ps.ctty != 0;

	r->tty_fd = -1;
	for (size_t i = 0; i < r->fs.n; i++) {
		const struct fd_state *d = &r->fs.fds[i];

		if (d->kind != FDK_TTY || r->src[i] >= 0)
			continue;
		/* /dev/tty of a controlling terminal the restore makes again: opened once it is */
		if (d->rdev == DEV_TTY && sd_rst_pty_ctty_here(r))
			continue;
		if (!r->opts->shell_job)
			return sd_errx(r->ctx, -EINVAL,
				       "cannot restore pid %d: fd %d is a terminal (%s); restore it with --shell-job",
				       r->pid, d->fd, d->path);
		need = true;
		if (!stands_in(r, i))
			continue;
		if (first && first->rdev != d->rdev)
			return sd_errx(r->ctx, -EINVAL,
				       "cannot restore pid %d: fds %d and %d are on two terminals (%s, %s), and --shell-job stands in for one; give the other with --inherit-fd 'fd[N]:%s'",
				       r->pid, first->fd, d->fd, first->path, d->path, d->path);
		if (!first)
			first = d;
	}
	if (!r->opts->shell_job) {
		if (!r->ps.ctty || (r->ps.sid != r->ps.pid && r->ps.ctty == ours) || sd_rst_pty_ctty_fd(r) >= 0 ||
		    sd_rst_pty_ctty_here(r))
			return 0;
		tty_name(r->ps.ctty, a, sizeof(a));
		return sd_errx(r->ctx, -EINVAL,
			       "cannot restore pid %d: it had a controlling terminal (%s), which only --shell-job gives it (this terminal standing in)",
			       r->pid, a);
	}
	if (!need)
		return 0;
	/* ours: the first of 0-2 on our controlling terminal, else the first terminal */
	for (int fd = 0; fd < 3; fd++) {
		struct stat st;

		if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || !isatty(fd))
			continue;
		if (ours && ((uint64_t)major(st.st_rdev) << 32 | minor(st.st_rdev)) == ours) {
			r->tty_fd = fd;
			r->tty_is_ctty = true;
			break;
		}
		if (r->tty_fd < 0)
			r->tty_fd = fd;
	}
	/* only a controlling terminal, no fd on it: it has ours by joining our session */
	if (r->tty_fd >= 0 || !first)
		return 0;
	return sd_errx(r->ctx, -EINVAL,
		       "cannot restore pid %d with --shell-job: fd %d is a terminal (%s), and none of sdump's stdin, stdout and stderr is one to stand in for it; run the restore from a terminal",
		       r->pid, first->fd, first->path);
}

/* The settings the image has for the terminal that stands in: of the controlling one if it can. */
static const struct tty_state *settings(const struct rst *r)
{
	const struct tty_state *t = NULL;

	for (size_t i = 0; i < r->fs.n; i++) {
		const struct fd_state *d = &r->fs.fds[i];

		if (!d->has_tty || (!stands_in(r, i) && d->rdev != DEV_TTY))
			continue;
		if (d->rdev == r->ps.ctty)
			return &d->tty;
		if (!t)
			t = &d->tty;
	}
	return t;
}

int sd_rst_termios_of(struct rst *r, const struct tty_state *s, struct termios *t)
{
	t->c_iflag = s->iflag;
	t->c_oflag = s->oflag;
	t->c_cflag = s->cflag;
	t->c_lflag = s->lflag;
	t->c_line = (cc_t)s->line;
	memcpy(t->c_cc, s->cc, MIN(s->ncc, sizeof(t->c_cc)));
	if (cfsetispeed(t, s->ispeed) < 0 || cfsetospeed(t, s->ospeed) < 0)
		return sd_errx(r->ctx, -EINVAL, "cannot restore pid %d: its terminal's speed %u is none this one has",
			       r->pid, s->ospeed);
	return 0;
}

static int set_settings(struct rst *r, const struct tty_state *s)
{
	struct termios t;
	struct winsize ws = { .ws_row = s->rows, .ws_col = s->cols,
			      .ws_xpixel = s->xpixel, .ws_ypixel = s->ypixel };
	int e;

	if (tcgetattr(r->tty_fd, &r->tty_saved) < 0 || ioctl(r->tty_fd, TIOCGWINSZ, &r->ws_saved) < 0)
		return sd_err(r->ctx, -errno, "cannot read the settings of our terminal (fd %d)", r->tty_fd);
	t = r->tty_saved;
	e = sd_rst_termios_of(r, s, &t);
	if (e < 0)
		return e;
	r->tty_set = true;
	if (tcsetattr(r->tty_fd, TCSANOW, &t) < 0 || ioctl(r->tty_fd, TIOCSWINSZ, &ws) < 0)
		return sd_err(r->ctx, -errno, "cannot give our terminal the settings of pid %d's", r->pid);
	return 0;
}

int sd_rst_tty_start(struct rst *r)
{
	const struct tty_state *s;
	sigset_t ttou;
	pid_t fg;
	int e;

	if (r->tty_fd < 0)
		return 0;
	/*
	 * From here on we may be in the background of our own terminal: a
	 * blocked SIGTTOU lets tcsetpgrp() and our last messages through
	 * (even with TOSTOP in the settings just given).
	 */
	(void)sigemptyset(&ttou);
	(void)sigaddset(&ttou, SIGTTOU);
	if (sigprocmask(SIG_BLOCK, &ttou, &r->ttou_oldmask) == 0)
		r->ttou_blocked = true;
	s = settings(r);
	if (s) {
		e = set_settings(r, s);
		if (e < 0)
			return e;
	}
	/* its group in the foreground, if it was; a group leader's group is its own here */
	if (!r->ps.ctty || r->ps.ctty_fg_pgrp != r->ps.pgid || !r->tty_is_ctty)
		return 0;
	fg = r->ps.pgid == r->pid ? r->pid : getpgrp();
	r->fg_saved = tcgetpgrp(r->tty_fd);
	if (r->fg_saved < 0)
		return sd_err(r->ctx, -errno, "cannot read the foreground group of our terminal");
	if (fg == r->fg_saved)
		return 0;
	if (tcsetpgrp(r->tty_fd, fg) < 0)
		return sd_err(r->ctx, -errno, "cannot make group %d of pid %d the foreground of our terminal",
			      fg, r->pid);
	r->fg_set = true;
	return 0;
}

void sd_rst_tty_undo(struct rst *r)
{
	if (r->fg_set && tcsetpgrp(r->tty_fd, r->fg_saved) < 0)
		pr_warn(r->ctx, "cannot give the foreground of our terminal back to group %d, ignoring: %s",
			r->fg_saved, strerror(errno));
	if (r->tty_set && (tcsetattr(r->tty_fd, TCSANOW, &r->tty_saved) < 0 ||
			   ioctl(r->tty_fd, TIOCSWINSZ, &r->ws_saved) < 0))
		pr_warn(r->ctx, "cannot put our terminal's settings back, ignoring: %s", strerror(errno));
	r->fg_set = r->tty_set = false;
}

void sd_rst_tty_end(struct rst *r, bool gone)
{
	/* the process gone, its group was in the foreground: ours again, as a shell would take it */
	if (gone && r->fg_set && tcgetpgrp(r->tty_fd) != getpgrp())
		(void)tcsetpgrp(r->tty_fd, getpgrp());
	if (r->ttou_blocked)
		(void)sigprocmask(SIG_SETMASK, &r->ttou_oldmask, NULL);
	r->ttou_blocked = false;
}
