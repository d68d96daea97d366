/* SPDX-License-Identifier: MIT */
/*
 * A process of sdump's own that is nobody's child (orphan.c): the lazy
 * fill's guard and helper, a detached receiver. Forked twice: the middle
 * one exits at once and is reaped here, so that no caller (a program that
 * restores through the library, say) has a child it never reaps, and the
 * new process ends as init's.
 */
#ifndef SDUMP_ORPHAN_H
#define SDUMP_ORPHAN_H

#include <sys/types.h>

/*
 * @fn(@arg) in such a process; @fn never returns (it _exit()s: the
 * caller's atexit handlers and stdio buffers are not its own). Its pid,
 * or -errno. Called single threaded, or with the other threads' locks in
 * mind: only the calling thread goes on in the new process.
 */
pid_t sd_orphan_spawn(void (*fn)(void *arg), void *arg);
/*
 * The same without waiting for the middle one: its pid, to be given to
 * sd_orphan_reap later (it exits as soon as it has forked), or -errno.
 * Whether @fn runs at all is for the caller to learn by other means (a
 * socket whose other end only @fn holds).
 */
pid_t sd_orphan_spawn_nowait(void (*fn)(void *arg), void *arg);
void sd_orphan_reap(pid_t middle);

#endif /* SDUMP_ORPHAN_H */
