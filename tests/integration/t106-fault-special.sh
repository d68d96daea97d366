#!/bin/bash
# Fault injection over a dump and a restore of a process holding one of
# each kind of special file t102-t104 restore (a memfdtarget): deleted
# files (one mapped too), an O_TMPFILE, a removed directory, memfds
# (mapped shared and privately, sealed), shared anonymous memory split and
# mapped twice and a deleted /dev/shm file (the ptys of t105: t107).
# faults.sh fault_walk_target: dump -R: the
# N-th read of the process, ptrace request, system call injected, image
# write or file creation fails, N walked over the whole pass (faults.sh
# fault_points): one line and exit 1, no directory, the process running,
# untraced, and what statecheck sees of it as before; a dump the fault did
# not fail made an image that restores. Restore: the N-th write into the
# new process, ptrace request or injected call fails: one line, exit 1, no
# process left and no file left in the deleted files' directory; the image
# then restores, and the process checks every kind from inside.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/faults.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"
[ -d /dev/shm ] && [ -w /dev/shm ] || skip "no writable /dev/shm"
FILES=$WORK/files
mkdir -p "$FILES"

fault_walk_target memfdtarget --kinds deleted,memfd,shm --dir "$FILES"
echo ok
