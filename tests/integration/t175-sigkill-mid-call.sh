#!/bin/bash
# sdump killed with SIGKILL in the middle of a system call it injected into
# the target (SDUMP_FAULT=die:N: sdump kills itself with the target's thread
# at the N-th call's entry stop), N walked over a final dump -R, which reads
# the process's state through some 120 of them. The kernel detaches a dead
# tracer's threads and they run from wherever their registers point: the
# calls go through the trampoline (a page of code mapped before them), which
# returns the thread to its own registers. After each: the target runs,
# untraced, every thread; its memory, fds and ticking as they were; the map
# as it was but for the trampoline page and scratch area the dead sdump could
# not unmap (4 and 8 KiB, sdump(1); two runs' may lie side by side, merged).
# Most of the calls run in batches (one resume of the thread for many):
# killed in one, the thread ends the batch untraced and returns the same way. The two calls that map and unmap the
# trampoline go through the vdso and are not walked (die:N counts only the
# calls through the trampoline): killed in those, the thread runs on with
# sdump's registers (sdump(1) says so).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/faults.sh"
export SDUMP_STATE_DIR="$WORK/state"

start_target memtarget --mib 16 --threads 2 --ticker --dir "$WORK"
target_snapshot
count=$(fault_count die "$SDUMP" -q dump -R --track none -t "$TPID" -D "$WORK/count")
[ "$count" -gt 40 ] || fail "only $count injected calls in a final dump"
n=0
for k in $(fault_points "$count"); do
	rm -rf "$WORK/d"
	st=0
	SDUMP_FAULT=die:$k "$SDUMP" -q dump -R --track none -t "$TPID" -D "$WORK/d" 2>/dev/null || st=$?
	[ "$st" = 137 ] || fail "die:$k: sdump exited $st, not killed"
	sleep 0.05
	assert_running "$TPID"
	assert_threads_running "$TPID"
	extra=$(diff <(echo "$SNAP_MAPS") "/proc/$TPID/maps" | grep '^[<>]' || true)
	bad=$(grep -v '^> [0-9a-f]*-[0-9a-f]* [-r][-w][-x]p 00000000 00:00 0 *$' <<<"$extra" || true)
	[ -z "$bad" ] || fail "die:$k: the target's map changed beyond sdump's pages: $bad"
	while read -r _ range _; do
		[ $((0x${range#*-} - 0x${range%-*})) -le 16384 ] || fail "die:$k: a mapping of $range left"
	done <<<"$(grep '^>' <<<"$extra" || true)"
	[ "$(fds_of "$TPID")" = "$SNAP_FDS" ] || fail "die:$k: the target's fds changed"
	[ "$(masks_of "$TPID")" = "$SNAP_MASKS" ] || fail "die:$k: the target's signal masks changed: $(masks_of "$TPID")"
	tcmd sum
	[ "$REPLY" = "$SNAP_SUM" ] || fail "die:$k: the target's memory changed ($REPLY, was $SNAP_SUM)"
	counter_grows ticks 100 0.01 || fail "die:$k: the target's ticker thread stopped"
	n=$((n + 1))
done
echo "sdump killed in $n of the $count injected calls of a final dump: the target ran on each time"
# and the next dump of that process goes through
"$SDUMP" -q dump -t "$TPID" -D "$WORK/last" || fail "a dump after those"
echo ok
