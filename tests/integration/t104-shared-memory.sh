#!/bin/bash
# Shared memory across a dump and a restore, each object one again: shared
# anonymous memory split in three VMAs by an mprotect (one object: the
# parts keep their offsets in it and their map_files links one inode),
# shared anonymous memory mapped twice (mremap with an old size of 0: a
# write through one mapping shows in the other), a file of /dev/shm
# mapped shared, open and unlinked (one deleted file with its fd).
# statecheck compares the mappings (offsets included) and the fds, the
# target checks the rest from inside. A part of a System V segment left
# attached (its other page unmapped) is refused with one line naming it,
# the target left running (whole segments: t164).
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"
[ -d /dev/shm ] && [ -w /dev/shm ] || skip "no writable /dev/shm"

start_target_quiet memfdtarget --kinds sysv
expect_error "cannot dump pid $TPID: 0x[0-9a-f]+-0x[0-9a-f]+ is a part of the System V shared memory segment [0-9]+ \(key 0x00000000, 8192 bytes\) as mprotect\(\) or munmap\(\) left it, not supported yet; attach it whole" \
	"$SDUMP" dump -t "$TPID" -D "$WORK/sysv"
assert_threads_running "$TPID"
expect_error "System V shared memory segment" "$SDUMP" pre-dump -t "$TPID" -D "$WORK/sysv-pre"
assert_threads_running "$TPID"
stop_target

start_target_quiet memfdtarget --kinds shm
pid=$TPID
state_record "$pid" "$WORK/before.state"
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
assert_threads_running "$pid"
state_check "$pid" "$WORK/before.state"
tcmd check
[ "$REPLY" = ok ] || fail "inside the restored target: $REPLY"
echo "restored: shared anonymous memory split and mapped twice, one object each; a deleted /dev/shm file with its fd"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-
echo ok
