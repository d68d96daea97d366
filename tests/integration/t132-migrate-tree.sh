#!/bin/bash
# A process tree migrates: migtarget --children 3 (a root and three
# children, each checking its own copy of the memory while it writes 1 %
# a second) moves, every member's passes round after round and the tree's
# image at the end, into new PID, mount and network namespaces joined by a
# veth pair. There every member runs with its PID and its parent, memory
# exact, one copy of each, untraced; the whole tree was killed at the
# source only once the destination's ran; the chain verifies. Before that,
# a tree whose restore the destination refuses (it leads no session) runs
# on at the source, every member untraced, nothing left at the destination.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
export TMPDIR=$WORK
KIDS=3
mig_netns
PORT=$((7600 + $$ % 300))

# start_tree NAME [setsid]: the tree, its statuses in $WORK/NAME.st and .st.K; TPID the root, PIDS all
start_tree() {
	local st=$WORK/$1.st i k
	rm -f "$st"*
	if [ "${2:-}" = setsid ]; then
		setsid "$TARGETS_DIR/migtarget" --mib 16 --dirty 10 --children $KIDS --status "$st" </dev/null >/dev/null 2>"$WORK/$1.err" &
	else
		"$TARGETS_DIR/migtarget" --mib 16 --dirty 10 --children $KIDS --status "$st" </dev/null >/dev/null 2>"$WORK/$1.err" &
	fi
	TPID=$!
	TARGET_PIDS+=("$TPID")
	for ((i = 0; i < 300; i++)); do
		PIDS=("$TPID")
		for ((k = 1; k <= KIDS; k++)); do
			mig_status "$st.$k" && [ "${MS[state]}" = ok ] || break
			PIDS+=("${MS[pid]}")
		done
		[ "${#PIDS[@]}" = $((KIDS + 1)) ] && mig_status "$st" && [ "${MS[state]}" = ok ] && break
		sleep 0.1
	done
	[ "${#PIDS[@]}" = $((KIDS + 1)) ] || fail "$1: the tree did not start: $(cat "$WORK/$1.err")"
	TARGET_PIDS+=("${PIDS[@]}")
}

# sweeps_on FILE: the member with status FILE checks its memory twice more, finding it right
sweeps_on() {
	local i s0
	mig_status "$1"
	s0=${MS[sweeps]}
	for ((i = 0; i < 100; i++)); do
		mig_status "$1"
		[ "${MS[state]}" = ok ] || fail "$1: the member found its memory wrong: $(cat "$1")"
		[ "${MS[sweeps]}" -ge $((s0 + 2)) ] && return 0
		sleep 0.1
	done
	fail "$1: the member does not sweep its memory: $(cat "$1")"
}

# on any end: the tree's copies, wherever they run (a failed test leaves the destination's)
end_copies() {
	local p
	mig_copies "$WORK/mig.st"
	for p in "${MIG_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	return 0
}
MIG_CLEANUP+=(end_copies)

# --- a refused restore (no session of its own): the source tree runs on, untraced ---
start_tree refuse
mig_dest "$SDUMP" receive -D "$WORK/dst" --listen "$MIG_PEER:$PORT" --insecure --restore 2>"$WORK/recv.err" &
RPID=$!
mig_wait_listen "$PORT" "$WORK/recv.err"
expect_error "the receiver gave up: cannot restore" "$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" --max-rounds 2
wait "$RPID" && fail "receive succeeded with a refused restore"
[ ! -e "$WORK/dst" ] || fail "a refused restore left $WORK/dst: $(ls -laR "$WORK/dst")"
for p in "${PIDS[@]}"; do
	kill -0 "$p" || fail "member $p of the source is gone after a refused restore"
	assert_running "$p"
	ls -l "/proc/$p/fd/" | grep -q userfaultfd && fail "member $p keeps sdump's tracking userfaultfd"
done
sweeps_on "$WORK/refuse.st"
sweeps_on "$WORK/refuse.st.$KIDS"
echo "a refused restore: the source tree (${PIDS[*]}) runs on, untraced, nothing at the destination"
kill "$TPID"
wait "$TPID" || true

# --- the migration ---
start_tree mig setsid
root=$TPID
src=("${PIDS[@]}")
mig_dest "$SDUMP" -v receive -D "$WORK/dst" --listen "$MIG_PEER:$PORT" --insecure --restore 2>"$WORK/recv.err" &
RPID=$!
mig_wait_listen "$PORT" "$WORK/recv.err"
"$SDUMP" -v migrate -t "$root" --to "$MIG_PEER:$PORT" --downtime 1 --max-rounds 3 --json >"$WORK/mig.json" 2>"$WORK/migrate.err" ||
	fail "migrate: $(cat "$WORK/migrate.err") / $(tail -5 "$WORK/recv.err")"
st=0
wait "$root" 2>/dev/null || st=$?
[ "$st" = 137 ] || fail "the source root ended with status $st, not killed (137)"
for p in "${src[@]}"; do
	wait_gone "$p" || fail "member $p of the source still runs"
done
rounds=$(json_get "$WORK/mig.json" 'd["rounds"]')
[ "$rounds" = 3 ] || fail "not 3 rounds: $(cat "$WORK/mig.json")"
[ "$(json_get "$WORK/mig.json" 'd["dest_pid"]')" = "$root" ] || fail "the destination's root is not $root: $(cat "$WORK/mig.json")"
grep -q "the destination did not take over" "$WORK/migrate.err" && fail "a member was resumed: $(cat "$WORK/migrate.err")"
# one copy of each member, at the destination, untraced, with its pid and its parent
mig_copies "$WORK/mig.st"
[ "$MIG_NCOPIES" = $((KIDS + 1)) ] || fail "$MIG_NCOPIES processes of the tree after the migration (${MIG_PIDS[*]}), not $((KIDS + 1))"
for h in "${MIG_PIDS[@]}"; do
	for p in "${src[@]}"; do [ "$h" != "$p" ] || fail "host pid $h of the source runs"; done
	assert_running "$h"
	ns=$(awk '/^NSpid:/ {print $NF}' "/proc/$h/status")
	printf '%s\n' "${src[@]}" | grep -qx "$ns" || fail "host pid $h is pid $ns in its namespace, none of ${src[*]}"
done
mig_status "$WORK/mig.st"
[ "${MS[pid]}" = "$root" ] || fail "the root sees itself as pid ${MS[pid]}, not $root"
sweeps_on "$WORK/mig.st"
for ((k = 1; k <= KIDS; k++)); do
	mig_status "$WORK/mig.st.$k"
	[ "${MS[pid]}" = "${src[k]}" ] || fail "child $k sees itself as pid ${MS[pid]}, not ${src[k]}"
	[ "${MS[ppid]}" = "$root" ] || fail "child $k's parent is ${MS[ppid]}, not $root"
	sweeps_on "$WORK/mig.st.$k"
done
for ((n = 1; n <= rounds; n++)); do
	[ -f "$WORK/dst/$n/tree.img" ] || fail "pass $n at the destination is no tree: $(ls -R "$WORK/dst")"
	for p in "${src[@]}"; do
		[ -f "$WORK/dst/$n/pid-$p/inventory.img" ] || fail "no pass of member $p in pass $n: $(ls -R "$WORK/dst/$n")"
	done
done
[ -L "$WORK/dst/$rounds/pid-${src[1]}/parent" ] || fail "member ${src[1]}'s final pass has no parent link"
"$SDUMP" verify -D "$WORK/dst/$rounds" >"$WORK/verify.out" || fail "the chain at the destination does not verify"
[ "$(grep -c '^dump ' "$WORK/verify.out")" = $((KIDS + 1)) ] || fail "verify did not check every member's dump: $(cat "$WORK/verify.out")"
grep -q "restored, held until the sender lets go" "$WORK/recv.err" || fail "the tree was not held for the sender's word"
# built while the source ran: made at the first pass, each next one applied, the final onto it
grep -q "a tree of $((KIDS + 1)) processes made at the first pass," "$WORK/recv.err" || fail "the tree was not made at the first pass: $(grep restore "$WORK/recv.err")"
grep -q "pass 2 in, every member of the tree of $((KIDS + 1))" "$WORK/recv.err" || fail "pass 2 was not applied to the tree: $(grep restore "$WORK/recv.err")"
grep -q "the final pass onto the tree of $((KIDS + 1)) made at the first pass:" "$WORK/recv.err" || fail "the final pass was not applied to the tree built: $(grep restore "$WORK/recv.err")"
echo "a tree of $((KIDS + 1)) moved in $rounds rounds: pids ${src[*]} run at the destination (host ${MIG_PIDS[*]}), each with its parent, memory exact; downtime $(($(json_get "$WORK/mig.json" 'd["downtime_us"]') / 1000)) ms frozen at the source"
kill -TERM "${MIG_PIDS[@]}" 2>/dev/null
st=0
wait "$RPID" || st=$?
echo ok
