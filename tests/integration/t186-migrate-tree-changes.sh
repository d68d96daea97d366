#!/bin/bash
# A process tree built at the destination while the source runs, and
# changing between rounds (migtarget --children 2: each member checks its
# own memory while it writes 1 % a second). The receiver makes the whole
# tree at the first pass and applies each next pass to every member; a
# pass whose tree is not the one built (a child ended, or one more forked,
# while the round before was sent) has it all made again from that pass,
# said at -v, and the passes after it applied to that. A tree whose
# children have all ended moves as a process alone. After each, exactly
# one copy of every member left runs, at the destination, untraced, with
# its pid, its parent and its memory exact; none at the source.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
export TMPDIR=$WORK
KIDS=2
mig_netns
PORT=$((7900 + $$ % 90))

# start_tree NAME: the tree, statuses in $WORK/NAME.st and .st.K; TPID the root, PIDS all
start_tree() {
	local st=$WORK/$1.st i k
	rm -f "$st"*
	setsid "$TARGETS_DIR/migtarget" --mib 2 --dirty 10 --sweep 1 --children $KIDS --status "$st" </dev/null >/dev/null 2>"$WORK/$1.err" &
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

end_copies() {
	local f p
	for f in "$WORK"/*.st; do
		mig_copies "$f"
		for p in "${MIG_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	done
	return 0
}
MIG_CLEANUP+=(end_copies)

# move NAME CHANGE [ARGS...]: NAME's tree migrated in 3 rounds (migrate ARGS too), the first slowed
# (--bandwidth) and CHANGE (a command) run while it is sent; NAME's statuses expected at the
# destination in WANT (files)
move() {
	local name=$1 change=$2 st p i h
	shift 2
	rm -rf "$WORK/dst"
	mig_dest "$SDUMP" -v receive -D "$WORK/dst" --listen "$MIG_PEER:$PORT" --insecure --restore 2>"$WORK/$name.recv" &
	RPID=$!
	mig_wait_listen "$PORT" "$WORK/$name.recv"
	"$SDUMP" -v migrate -t "$TPID" --to "$MIG_PEER:$PORT" --downtime 1 --max-rounds 3 --bandwidth 3M "$@" \
		--json >"$WORK/$name.json" 2>"$WORK/$name.send" &
	SPID=$!
	# the first pass is dumped before it is sent: it arrives while the tree changes
	for ((i = 0; i < 200; i++)); do
		[ -e "$WORK/dst/.1.part" ] || [ -e "$WORK/dst/1" ] && break
		sleep 0.05
	done
	[ -e "$WORK/dst/.1.part" ] || [ -e "$WORK/dst/1" ] || fail "$name: the first pass is not being received: $(cat "$WORK/$name.send")"
	$change
	wait "$SPID" || fail "$name: migrate: $(cat "$WORK/$name.send") / $(tail -5 "$WORK/$name.recv")"
	st=0
	wait "$TPID" 2>/dev/null || st=$?
	[ "$st" = 137 ] || fail "$name: the source root ended with status $st, not killed (137)"
	for p in "${PIDS[@]}"; do
		wait_gone "$p" || fail "$name: pid $p of the source still runs"
	done
	[ "$(json_get "$WORK/$name.json" 'd["rounds"]')" = 3 ] || fail "$name: not 3 rounds: $(cat "$WORK/$name.json")"
	# (the children are forks: every member's command line names the root's status)
	mig_copies "$WORK/$name.st"
	[ "$MIG_NCOPIES" = "${#WANT[@]}" ] || fail "$name: $MIG_NCOPIES processes of the tree (${MIG_PIDS[*]}), not ${#WANT[@]}: $(grep -E '^(restore [0-9]+: [a-z]|receive)' "$WORK/$name.recv" | grep -vE ': (map|memory|read|process|threads) ' | tail -12)"
	local ns=()
	for h in "${MIG_PIDS[@]}"; do
		for p in "${PIDS[@]}"; do [ "$h" != "$p" ] || fail "$name: host pid $h of the source runs"; done
		assert_running "$h"
		ns+=("$(awk '/^NSpid:/ {print $NF}' "/proc/$h/status")")
	done
	for f in "${WANT[@]}"; do
		mig_status "$f"
		printf '%s\n' "${ns[@]}" | grep -qx "${MS[pid]}" || fail "$name: pid ${MS[pid]} of $f is none of the copies (${ns[*]})"
		[ "$f" = "$WORK/$name.st" ] || [ "${MS[ppid]}" = "$TPID" ] ||
			fail "$name: $f's parent is ${MS[ppid]}, not $TPID"
		mig_swept "$f"
	done
	"$SDUMP" verify -D "$WORK/dst/3" >/dev/null || fail "$name: the chain at the destination does not verify"
	grep -q "restored, held until the sender lets go" "$WORK/$name.recv" || fail "$name: not held for the sender's word"
	end_copies
	wait "$RPID" 2>/dev/null || true
}

# --- a child ends while the first round is sent: pass 2 is of a tree of 2, made again ---
start_tree gone
gone_kid() { kill -TERM "${PIDS[2]}"; }
WANT=("$WORK/gone.st" "$WORK/gone.st.1")
move gone gone_kid
grep -q "a tree of 3 processes made at the first pass," "$WORK/gone.recv" || fail "gone: not made at the first pass: $(grep restore "$WORK/gone.recv")"
grep -q "pass 2 is of a tree that changed: what was built is dropped, made again from it" "$WORK/gone.recv" ||
	fail "gone: the tree was not made again at pass 2: $(grep restore "$WORK/gone.recv")"
grep -q "a tree of 2 processes made again at pass 2," "$WORK/gone.recv" || fail "gone: not made at pass 2: $(grep restore "$WORK/gone.recv")"
grep -q "the final pass onto the tree of 2 made at pass 2:" "$WORK/gone.recv" || fail "gone: the final pass not applied to the tree built: $(grep restore "$WORK/gone.recv")"
echo "a child ended between rounds: the tree made again from the next pass, 2 members moved"

# --- one more child forked while the first round is sent ---
# (tracked by uffd-wp: the child gets a userfaultfd of its own, t187)
start_tree more
more_kid() { kill -USR2 "$TPID"; }
WANT=("$WORK/more.st" "$WORK/more.st.1" "$WORK/more.st.2" "$WORK/more.st.3")
move more more_kid
grep -q "a tree of 4 processes made again at pass 2," "$WORK/more.recv" || fail "more: not made again at pass 2: $(grep restore "$WORK/more.recv")"
grep -q "the final pass onto the tree of 4 made at pass 2:" "$WORK/more.recv" || fail "more: the final pass not applied to the tree built: $(grep restore "$WORK/more.recv")"
echo "a child forked between rounds: the tree of 4 made from the next pass and moved"

# --- every child ends: the root moves as a process alone ---
start_tree alone
alone_kids() { kill -TERM "${PIDS[1]}" "${PIDS[2]}"; }
WANT=("$WORK/alone.st")
move alone alone_kids
grep -q "pass 2 is of a process alone: what was built is dropped, made again from it" "$WORK/alone.recv" ||
	fail "alone: not made again as a process alone: $(grep restore "$WORK/alone.recv")"
grep -q "made again at pass 2," "$WORK/alone.recv" || fail "alone: not made at pass 2: $(grep restore "$WORK/alone.recv")"
grep -q "the final pass onto the process made at pass 2:" "$WORK/alone.recv" || fail "alone: the final pass not applied: $(grep restore "$WORK/alone.recv")"
echo "every child ended between rounds: the root moved alone, built from the next pass"
echo ok
