#!/bin/bash
# Fds a restore opens by path or makes again at it (nodetarget): a deleted
# FIFO held at three fds with bytes in it, a deleted device node, a deleted
# symlink and a symlink open O_PATH | O_NOFOLLOW, O_PATH fds of a file, a
# directory, a device and a socket file, a file open after its name was
# removed but that is linked at another, a pidfd of a child that has exited, fds of the
# process's own network and pid_for_children namespaces, and a file of
# another process's /proc. Each comes back as it was (statecheck from
# outside, the target from inside: names, types, modes, flags, offsets, the
# FIFO's bytes, a symlink's target, the pidfd readable and its signal
# ESRCH), and what the restore made is gone again from the directory. The
# /proc file of a process that exits before the restore fails the restore
# with one line; a deleted FIFO another process holds too and a namespace
# fd of a namespace the process left are refused at the dump with one (a
# cwd in /proc of a process that has ended: t161).
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"
FILES="$WORK/files"
mkdir -p "$FILES"

start_target_quiet nodetarget --dir "$FILES"
pid=$TPID
tfacts "$WORK/f1.json"
ro=$(json_get "$WORK/f1.json" 'd["fds"]["fifo_ro"]')
# the deleted FIFO held by another process too (this shell): refused, the target untouched
exec 9<"/proc/$pid/fd/$ro"
expect_error "cannot dump pid $pid: fd [0-9]+ is the deleted FIFO '$FILES/nt-$pid.fifo', which pid $$ holds too" \
	"$SDUMP" dump -t "$pid" -D "$WORK/d0"
exec 9<&-
assert_threads_running "$pid"
ls "$FILES" >"$WORK/before.ls"
state_record "$pid" "$WORK/before.state"
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" show -D "$WORK/d1" >"$WORK/show" || fail "show"
for k in node path ns pidfd; do
	grep -Eq "^ +[0-9]+ +$k " "$WORK/show" || fail "show has no fd of kind $k: $(cat "$WORK/show")"
done
"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
assert_threads_running "$pid"
ls "$FILES" >"$WORK/after.ls"
cmp -s "$WORK/before.ls" "$WORK/after.ls" || fail "the restore left files in $FILES: $(cat "$WORK/after.ls")"
state_check "$pid" "$WORK/before.state"
tcmd check
[ "$REPLY" = ok ] || fail "inside the restored target: $REPLY"
echo "restored: deleted FIFO, device node and symlink, O_PATH fds, a linked file, a dead pidfd, namespaces, /proc/1"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-

# a file of another process's /proc: that process gone by the restore
sleep 600 &
other=$!
TARGET_PIDS+=("$other")
start_target_quiet nodetarget --dir "$FILES" --proc "$other"
pid=$TPID
"$SDUMP" dump -t "$pid" -D "$WORK/d2" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
kill -KILL "$other"
wait "$other" 2>/dev/null || true
expect_error "cannot restore pid $pid: fd [0-9]+ is a file of /proc/$other \(/proc/$other/status\), and that process has exited since the dump" \
	"$SDUMP" restore -D "$WORK/d2" -d
exec 7>&- 8<&-

# refused at the dump, the target running on
start_target_quiet nodetarget --kinds nsother
pid=$TPID
expect_error "cannot dump pid $pid: fd 3 is a namespace fd \(uts:\[[0-9]+\]\) of a namespace the process is not in" \
	"$SDUMP" dump -t "$pid" -D "$WORK/d3"
assert_threads_running "$pid"
stop_target
echo ok
