#!/bin/bash
# Fault walks over a migration (the destination in new network, PID and
# mount namespaces, a veth pair): the connection cut at calls spread over
# the whole stream, on the sender's side and on the receiver's
# (SDUMP_FAULT=net:N), the receiver killed and the sender killed (SIGKILL)
# at moments spread over it. After each, exactly one copy of the process
# runs, untraced (or, cut right after the sender told the destination to
# run its copy, that copy runs and the source is left stopped: never two
# running); the destination keeps no pass of a migration that did not end,
# or, for a receiver killed, marks them and the next receive removes them.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
# the sender's work directories (a sender killed leaves its own behind)
export TMPDIR=$WORK
MIB=32
POINTS=8
[ "${SDUMP_QUICK:-}" = 1 ] && POINTS=5
mig_netns
PORT=$((8000 + $$ % 1000))
ST=$WORK/t.st
. "$(dirname "$0")/migwalk.sh"

# --- the walk's length: net calls on each side of a whole migration ---
count_walk
NS=$(sed -n 's/.* net=\([0-9]*\).*/\1/p' "$WORK/send.err")
KILLED=
outcome "no fault"
[ "$RESULT" = destination ] || fail "a migration without a fault did not move"
[ -n "$NS" ] && [ "$NS" -gt 4 ] || fail "no count of the sender's net calls: $(cat "$WORK/send.err")"
echo "a whole migration: $NS net calls on the sender's side"

# spread POINTS calls over 1..N, the last ones (the handover) always in
spread() {
	local n=$1 i
	for ((i = 0; i < POINTS - 3; i++)); do echo $((1 + i * (n - 4) / (POINTS - 3))); done
	echo $((n - 2)) $((n - 1)) "$n"
}

# --- the connection cut on the sender's side ---
for k in $(spread "$NS"); do
	KILLED=
	start_t
	start_recv
	SDUMP_FAULT=net:$k:ECONNRESET "$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" 2>"$WORK/send.err" || true
	outcome "sender's net call $k/$NS cut"
done

# --- the connection cut on the receiver's side (its calls: about as many) ---
for k in $(spread "$NS"); do
	KILLED=
	start_t
	start_recv SDUMP_FAULT=net:$k:ECONNRESET
	"$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" 2>"$WORK/send.err" || true
	outcome "receiver's net call $k cut"
done

# --- the receiver killed, the sender killed, at moments over the migration ---
for ms in 100 300 600 900 1300 1800 2500; do
	[ "${SDUMP_QUICK:-}" = 1 ] && [ "$ms" -gt 1300 ] && continue
	for who in receiver sender; do
		KILLED=$who
		start_t
		start_recv
		"$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" 2>"$WORK/send.err" &
		SPID=$!
		sleep "$(printf '0.%03d' "$ms" | sed 's/^0\.\([0-9]\)\([0-9][0-9][0-9]\)$/\1.\2/')"
		if [ "$who" = receiver ]; then
			r=$(recv_pid) && kill -KILL "$r" 2>/dev/null || true
		else
			kill -KILL "$SPID" 2>/dev/null || true
		fi
		while kill -0 "$SPID" 2>/dev/null; do sleep 0.1; done
		outcome "$who killed at $ms ms"
	done
done
echo ok
