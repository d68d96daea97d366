#!/bin/bash
# Fault injection over a dump and a restore of a process holding the ptys
# of t105 (a ptytarget): both ends of a pty in packet mode, a locked
# master, a pty whose slave is the controlling terminal.
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
# quick (CI): 12 points per kind, half the general walks' (t065-t067 walk
# what every dump and restore shares at 24)
FAULT_QUICK_POINTS=12
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"
[ -c /dev/ptmx ] || skip "no /dev/ptmx"
FILES=$WORK/files
mkdir -p "$FILES"

fault_walk_target ptytarget --ctty
echo ok
