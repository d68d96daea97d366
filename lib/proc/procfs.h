/* SPDX-License-Identifier: MIT */
/*
 * The paths of a process's /proc files: the one place "/proc/PID/..." is
 * spelled. Callers read them with sd_read_file() (whose /proc reads are fault
 * points of kind procread) or sd_readlink_str() of base/util.h, and name the
 * path in their messages.
 */
#ifndef SDUMP_PROCFS_H
#define SDUMP_PROCFS_H

#include <sys/types.h>

/* Room for "/proc/<pid>/task/<tid>/children" and "/proc/<pid>/map_files/<a>-<b>". */
#define PROC_PATH_MAX 96

/* "/proc/@pid/" followed by @fmt, into @buf; returns @buf. */
const char *sd_proc_path(char buf[PROC_PATH_MAX], pid_t pid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* SDUMP_PROCFS_H */
