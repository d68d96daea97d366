/* The paths of a process's /proc files (see procfs.h). */
#include <stdarg.h>
#include <stdio.h>

#include "procfs.h"

const char *sd_proc_path(char buf[PROC_PATH_MAX], pid_t pid, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(buf, PROC_PATH_MAX, "/proc/%d/", (int)pid);

	va_start(ap, fmt);
	(void)vsnprintf(buf + n, PROC_PATH_MAX - (size_t)n, fmt, ap);
	va_end(ap);
	return buf;
}
