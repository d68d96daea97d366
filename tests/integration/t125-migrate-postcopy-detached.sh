#!/bin/bash
# sdump receive -d --restore --lazy (post-copy, detached): the command
# returns once the process runs at the destination, while its memory is
# still coming (throttled), and a helper process, sdump-lazy, named by the
# command, fetches the rest and exits once every page is there; the copy
# there is right, the source killed, one copy running. Then the link is
# cut during the fill, after the command returned: the helper kills the
# copy at the destination, the source resumes (untraced, its memory
# right), and the helper says so on the command's stderr, and exits.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
export TMPDIR=$WORK
MIB=64
BW=16M
mig_netns
PORT=$((6000 + $$ % 1000))
ST=$WORK/t.st
. "$(dirname "$0")/migwalk.sh"
MIGRATE=(--max-rounds 1 --bandwidth "$BW")

# the receiver's exit status into $WORK/rc once it returns (the helper writes on to recv.err)
RECV_WRAP=(sh -c 'x=0; "$@" || x=$?; echo "$x" >"$0"' "$WORK/rc")
RECV_ARGS=(-v --lazy -d)
start_recv_d() {
	rm -f "$WORK/rc"
	start_recv
}

# helper_ends WHAT: the helper is gone within 30 s
helper_ends() {
	local i
	for ((i = 0; i < 300; i++)); do
		[ -e "/proc/$HELPER" ] || return 0
		sleep 0.1
	done
	fail "$1: the helper does not end: $(cat "$WORK/recv.err")"
}

# returned WHAT: the command returned 0 while the helper fetches; HELPER its host pid
returned() {
	local i h
	for ((i = 0; i < 600; i++)); do
		[ -s "$WORK/rc" ] && break
		sleep 0.05
	done
	[ "$(cat "$WORK/rc" 2>/dev/null)" = 0 ] || fail "$1: receive -d exited '$(cat "$WORK/rc" 2>/dev/null)': $(cat "$WORK/recv.err")"
	grep -q "every page of pid .* here" "$WORK/recv.err" &&
		fail "$1: the command returned only once the memory was all here: $(cat "$WORK/recv.err")"
	grep -q "receive: pid $TPID runs; its memory follows (helper process [0-9]*, sdump-lazy, fetches it" "$WORK/recv.err" ||
		fail "$1: the command does not name its helper: $(cat "$WORK/recv.err")"
	HELPER=
	for h in $(pgrep -x sdump-lazy); do
		tr '\0' ' ' <"/proc/$h/cmdline" 2>/dev/null | grep -qF -- "receive -D $WORK/dst " && HELPER=$h
	done
	[ -n "$HELPER" ] || fail "$1: no helper process sdump-lazy fetches the memory: $(cat "$WORK/recv.err")"
}

# --- the memory follows the command's return ---
start_t
start_recv_d
"$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" "${MIGRATE[@]}" 2>"$WORK/send.err" &
SPID=$!
returned "post-copy -d"
echo "post-copy -d: the command returned, helper $HELPER fetches"
wait "$SPID" || fail "migrate: $(cat "$WORK/send.err"); receiver: $(cat "$WORK/recv.err")"
helper_ends "once the memory is in"
grep -q "post-copy: every page of pid $TPID here" "$WORK/recv.err" ||
	fail "the helper does not say the memory is all here: $(cat "$WORK/recv.err")"
sleep 1
mig_copies "$ST"
mig_status "$ST"
[ "${MS[state]}" = ok ] || fail "the copy at the destination finds its memory wrong: $(cat "$ST")"
outcome "post-copy -d"
[ "$RESULT" = destination ] || fail "post-copy -d: the $RESULT runs"

# --- the link cut once the command returned, during the fill ---
start_t
start_recv_d
"$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" "${MIGRATE[@]}" 2>"$WORK/send.err" &
SPID=$!
returned "link cut"
sleep 0.3
ip link set "${MIG_VETH}h" down
while kill -0 "$SPID" 2>/dev/null; do sleep 0.1; done
ip link set "${MIG_VETH}h" up
helper_ends "link cut"
grep -q "killed (it cannot go on without them); the sender resumes its copy" "$WORK/recv.err" ||
	fail "link cut: the helper does not say it killed the copy: $(cat "$WORK/recv.err")"
grep -q "^sdump: receive (helper [0-9]*): .*pid $TPID was killed" "$WORK/recv.err" ||
	fail "link cut: no error line from the helper: $(cat "$WORK/recv.err")"
outcome "link cut after the return"
[ "$RESULT" = source ] || fail "link cut: the $RESULT runs, not the source"
mig_status "$ST"
[ "${MS[state]}" = ok ] || fail "link cut: the source resumed finds its memory wrong: $(cat "$ST")"
echo ok
