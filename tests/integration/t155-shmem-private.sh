#!/bin/bash
# Private mappings of shmem objects (privtarget): shared anonymous memory
# opened through /proc/self/map_files and mapped privately from it (zdtm's
# shmemfd-priv), a memfd and a deleted /dev/shm file, each mapped shared
# too. After a restore each private mapping keeps the pages it copied on
# write and still sees, in the pages it never wrote, the object's writes
# made after the restore through its shared mapping and through its fd;
# the shared mappings, the fd and the private mapping are one object
# again. Once by a dump alone, once by a pre-dump, writes of both kinds
# (a new copy, a write to the object), and a dump on top of it.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"
[ -d /dev/shm ] && [ -w /dev/shm ] || skip "no writable /dev/shm"

# restored_check PID: the restored target's own check
restored_check() {
	assert_threads_running "$1"
	state_check "$1" "$WORK/before.state"
	tcmd check
	[ "$REPLY" = ok ] || fail "inside the restored target: $REPLY"
	echo exit >&7
	wait_gone "$1"
	exec 7>&- 8<&-
}

start_target_quiet privtarget
pid=$TPID
state_record "$pid" "$WORK/before.state"
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
restored_check "$pid"
echo "dump: every private mapping sees its object's writes, keeps its own copies"

start_target_quiet privtarget
pid=$TPID
"$SDUMP" pre-dump -t "$pid" -D "$WORK/p1" 2>"$WORK/err" || fail "pre-dump: $(cat "$WORK/err")"
tcmd touch
[ "$REPLY" = ok ] || fail "touch: $REPLY"
state_record "$pid" "$WORK/before.state"
"$SDUMP" dump -t "$pid" -D "$WORK/p2" --parent "$WORK/p1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" restore -D "$WORK/p2" -d 2>"$WORK/err" || fail "restore of the chain: $(cat "$WORK/err")"
restored_check "$pid"
echo "pre-dump and dump: the same, with the copies and writes made in between"
echo ok
