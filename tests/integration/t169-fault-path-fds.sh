#!/bin/bash
# Fault injection over a dump and a restore of a process holding one of
# each kind of fd t168 restores by path or makes again at it (a
# nodetarget): a deleted FIFO with bytes in it at three fds, a deleted
# device node and symlink, O_PATH fds, a deleted file linked elsewhere, a
# pidfd of an exited child, namespace fds, /proc/1/status. faults.sh
# fault_walk_target: a dump -R failed at any point leaves the process as it
# was; a restore failed at any point leaves no process and none of the
# FIFOs, nodes and links it makes for a moment in their directory; the
# image then restores, and the process checks every kind from inside.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/faults.sh"
# quick (CI): 8 points per kind (t065-t067 walk what every dump and
# restore shares at 24; this walk is for what the node kinds add)
FAULT_QUICK_POINTS=8
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"
FILES=$WORK/files
mkdir -p "$FILES" "$WORK/keep"

fault_walk_target nodetarget --dir "$FILES" --keep "$WORK/keep"
[ "$(ls "$WORK/keep" | wc -l)" = 4 ] || fail "the restores left files beside the kept ones: $(ls "$WORK/keep")"
echo ok
