#!/bin/bash
# pidfds of one process that has exited, held by two members of a tree
# (the root one, the child two of its own: deadpidtarget), are one pidfs
# inode; after a pre-dump, a dump and a restore they are one inode again
# (not one per member), each still of a process gone (fdinfo Pid: -1),
# each member's state as before.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

start_target deadpidtarget
root=$TPID
tcmd fds
read -r w child rfd cfd1 cfd2 <<<"$REPLY"
[ "$w" = fds ] || fail "deadpidtarget said '$REPLY' to fds"
TARGET_PIDS+=("$child")

# check WHEN: the three pidfds one inode, each of a process gone
check() {
	local a b c
	a=$(stat -L -c %i "/proc/$root/fd/$rfd") && b=$(stat -L -c %i "/proc/$child/fd/$cfd1") &&
		c=$(stat -L -c %i "/proc/$child/fd/$cfd2") || fail "$1: cannot stat the pidfds"
	[ "$a" = "$b" ] && [ "$b" = "$c" ] ||
		fail "$1: the pidfds of the dead process are inodes $a (root), $b and $c (child), not one"
	for f in "$root/fdinfo/$rfd" "$child/fdinfo/$cfd1" "$child/fdinfo/$cfd2"; do
		[ "$(awk '$1 == "Pid:" {print $2}' "/proc/$f")" = -1 ] || fail "$1: /proc/$f: $(grep Pid: "/proc/$f")"
	done
}
check "before the dump"
state_record "$root" "$WORK/state.root"
state_record "$child" "$WORK/state.child"

"$SDUMP" -q pre-dump -t "$root" -D "$WORK/p1" || fail "pre-dump"
"$SDUMP" -q dump -t "$root" -D "$WORK/d" --parent "$WORK/p1" || fail "dump"
wait "$root" 2>/dev/null || true
wait_pid_free "$root"
wait_pid_free "$child"
"$SDUMP" -q restore -D "$WORK/d" -d || fail "restore"
check "after the restore"
state_check "$root" "$WORK/state.root"
state_check "$child" "$WORK/state.child"
tcmd fds
[ "$REPLY" = "fds $child $rfd $cfd1 $cfd2" ] || fail "the restored target says '$REPLY'"
echo "exit" >&7
for ((i = 0; i < 100; i++)); do [ -e "/proc/$root" ] || break; sleep 0.05; done
echo ok
