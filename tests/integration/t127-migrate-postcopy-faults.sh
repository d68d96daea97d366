#!/bin/bash
# Fault walks over a post-copy migration (receive --restore --lazy, the
# final dump alone: all the memory follows once the process runs at the
# destination, throttled so that the fill lasts): the connection cut at
# calls spread over the stream on the sender's side and on the
# receiver's (SDUMP_FAULT=net:N), the link itself cut (the veth down: both
# sides' waits end), the receiver killed and the sender killed (SIGKILL)
# while the destination's copy runs with pages missing. After each, never
# two copies run: the copy at the destination, killed when its pages
# cannot all come, the source then resumed, untraced, its memory right; or
# the destination's copy with every page, the source gone (or, cut once
# every byte was sent, left stopped with a line saying so); and no half
# image: a receiver that did not end keeps no pass, a killed one leaves
# them marked for the next receive to remove.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
export TMPDIR=$WORK
MIB=48
POINTS=6
BW=24M
[ "${SDUMP_QUICK:-}" = 1 ] && POINTS=4
mig_netns
PORT=$((8000 + $$ % 1000))
ST=$WORK/t.st
. "$(dirname "$0")/migwalk.sh"
RECV_ARGS=(--lazy -v)
MIGRATE=(--max-rounds 1 --bandwidth "$BW")

# postcopy_runs: until the receiver says its copy runs with pages missing (RPID's receiver)
postcopy_runs() {
	local i
	for ((i = 0; i < 300; i++)); do
		grep -q "post-copy: pid [0-9]* runs before its memory is here" "$WORK/recv.err" && return 0
		sleep 0.05
	done
	fail "the receiver's copy does not run: $(cat "$WORK/recv.err"); sender: $(cat "$WORK/send.err")"
}

# --- the walk's length: net calls on each side of a whole post-copy migration ---
start_t
start_recv SDUMP_FAULT_COUNT=1
SDUMP_FAULT_COUNT=1 "$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" "${MIGRATE[@]}" 2>"$WORK/send.err" ||
	fail "migrate: $(cat "$WORK/send.err")"
NS=$(sed -n 's/.* net=\([0-9]*\).*/\1/p' "$WORK/send.err")
grep -q "post-copy: pid $TPID runs at" "$WORK/send.err" || fail "not a post-copy migration: $(cat "$WORK/send.err")"
KILLED=
outcome "no fault"
[ "$RESULT" = destination ] || fail "a post-copy migration without a fault did not move"
[ -n "$NS" ] && [ "$NS" -gt 20 ] || fail "no count of the sender's net calls: $(cat "$WORK/send.err")"
echo "a whole post-copy migration: $NS net calls on the sender's side"

# spread POINTS calls over the second tenth of 1..N to N (the post-copy fill: nearly all of it)
spread() {
	local n=$1 i
	for ((i = 0; i < POINTS; i++)); do echo $((n / 10 + i * (n - n / 10) / POINTS)); done
	echo $((n - 1))
}

# --- the connection cut on the sender's side ---
for k in $(spread "$NS"); do
	KILLED=
	start_t
	start_recv
	SDUMP_FAULT=net:$k:ECONNRESET "$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" "${MIGRATE[@]}" \
		2>"$WORK/send.err" || true
	outcome "sender's net call $k/$NS cut"
done

# --- the connection cut on the receiver's side (two calls a block, as the sender) ---
for k in $(spread "$NS"); do
	KILLED=
	start_t
	start_recv SDUMP_FAULT=net:$k:ECONNRESET
	"$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" "${MIGRATE[@]}" 2>"$WORK/send.err" || true
	outcome "receiver's net call $k cut"
done

# --- the link cut while the destination's copy runs with pages missing ---
KILLED=
start_t
start_recv
"$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" "${MIGRATE[@]}" 2>"$WORK/send.err" &
SPID=$!
postcopy_runs
sleep 0.3
ip link set "${MIG_VETH}h" down
while kill -0 "$SPID" 2>/dev/null; do sleep 0.1; done
ip link set "${MIG_VETH}h" up
grep -q "killed (it cannot go on without them); the sender resumes its copy" "$WORK/recv.err" ||
	fail "the link cut: the receiver does not say it killed its copy: $(cat "$WORK/recv.err")"
outcome "the link cut during the fill"
[ "$RESULT" = source ] || fail "the link cut during the fill: the $RESULT runs, not the source"

# --- the receiver killed, the sender killed, while the copy there runs with pages missing ---
for ms in 0 300 900; do
	[ "${SDUMP_QUICK:-}" = 1 ] && [ "$ms" = 300 ] && continue
	for who in receiver sender; do
		KILLED=$who
		start_t
		start_recv
		"$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" "${MIGRATE[@]}" 2>"$WORK/send.err" &
		SPID=$!
		postcopy_runs
		sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
		if [ "$who" = receiver ]; then
			r=$(recv_pid) && kill -KILL "$r" 2>/dev/null || true
		else
			kill -KILL "$SPID" 2>/dev/null || true
		fi
		while kill -0 "$SPID" 2>/dev/null; do sleep 0.1; done
		outcome "$who killed $ms ms into the fill"
		# the sender pushes from the final pass's commit on: under load the
		# receiver's restore may outlast the fill, and its copy then has every page
		[ "$RESULT" = source ] || grep -q "post-copy: every page of pid [0-9]* here" "$WORK/recv.err" ||
			fail "$who killed $ms ms into the fill: the $RESULT runs, not the source, with pages missing"
	done
done
echo ok
