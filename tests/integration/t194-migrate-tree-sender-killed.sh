#!/bin/bash
# The sender of a process tree's migration (migtarget --children 2: a root
# and two children, each checking its own memory) killed with SIGKILL at
# moments spread over it, the walk t134 leaves out: in the N-th system call
# it injects into a member (SDUMP_FAULT=die:N, N spread over every round's
# calls, the final dump's into all three members among them), just after
# its N-th send or receive of the stream (SDUMP_FAULT=netkill:N, N spread
# over the whole stream, the handover's last calls always in), and at
# moments in time over the migration. The receiver killed the same way
# just after its N-th send or receive. After each, exactly one copy of the
# whole tree runs: every member at the source, each running and untraced
# (the tracking userfaultfd a killed sender leaves is allowed, sdump(1)),
# or every member at the destination and none at the source; no half image
# at the destination (a killed receiver's passes marked, and removed by the
# next receive).
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
export TMPDIR=$WORK
MIB=8
KIDS=2
POINTS=6
[ "${SDUMP_QUICK:-}" = 1 ] && POINTS=4
mig_netns
PORT=$((8100 + $$ % 400))
ST=$WORK/t.st
. "$(dirname "$0")/migwalk.sh"

# the walk's length: injected calls and net calls of a whole migration
start_t
start_recv SDUMP_FAULT_COUNT=1
t0=$(date +%s%N)
SDUMP_FAULT_COUNT=1 "$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" 2>"$WORK/send.err" ||
	fail "migrate: $(cat "$WORK/send.err")"
MS_ALL=$((($(date +%s%N) - t0) / 1000000))
NDIE=$(sed -n 's/.* die=\([0-9]*\).*/\1/p' "$WORK/send.err")
NNET=$(sed -n 's/.* net=\([0-9]*\).*/\1/p' "$WORK/send.err")
KILLED=
outcome "no fault"
[ "$RESULT" = destination ] || fail "a migration of the tree without a fault did not move"
NRNET=$(sed -n 's/.* net=\([0-9]*\).*/\1/p' "$WORK/recv.err")
[ -n "$NDIE" ] && [ "$NDIE" -gt 30 ] || fail "only '$NDIE' injected calls in the migration of a tree: $(cat "$WORK/send.err")"
[ -n "$NNET" ] && [ "$NNET" -gt 4 ] || fail "no count of the sender's net calls: $(cat "$WORK/send.err")"
[ -n "$NRNET" ] && [ "$NRNET" -gt 4 ] || fail "no count of the receiver's net calls: $(cat "$WORK/recv.err")"
echo "a whole migration: $NDIE injected calls, $NNET net calls on the sender's side, $NRNET on the receiver's, $MS_ALL ms"

# spread N: POINTS values over 1..N, the last three always in
spread() {
	local n=$1 i
	for ((i = 0; i < POINTS - 3; i++)); do echo $((1 + i * (n - 4) / (POINTS - 3))); done
	echo $((n - 2)) $((n - 1)) "$n"
}

# killed KILLED WHAT [ENV...]: a migration whose sender (or receiver, ENV
# its environment) is to die; the sender's own environment in SEND_ENV
killed() {
	local who=$1 what=$2 st=0
	shift 2
	KILLED=$who
	start_t
	start_recv "$@"
	env "${SEND_ENV[@]}" "$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" 2>"$WORK/send.err" || st=$?
	if [ "$who" = sender ]; then
		[ "$st" = 137 ] || fail "$what: the sender was not killed (exit $st): $(cat "$WORK/send.err")"
	fi
	outcome "$what"
}

# --- in an injected call: every round's, the final dump's of every member ---
for k in $(spread "$NDIE"); do
	SEND_ENV=(SDUMP_FAULT=die:$k)
	killed sender "sender killed in injected call $k/$NDIE"
done

# --- just after a send or receive, the handover's among them ---
for k in $(spread "$NNET"); do
	SEND_ENV=(SDUMP_FAULT=netkill:$k)
	killed sender "sender killed after net call $k/$NNET"
done
for k in $(spread "$NRNET"); do
	SEND_ENV=()
	killed receiver "receiver killed after net call $k/$NRNET" SDUMP_FAULT=netkill:$k
done

# --- at moments in time over the whole migration ---
for ((i = 1; i <= POINTS; i++)); do
	ms=$((MS_ALL * i / (POINTS + 1)))
	KILLED=sender
	start_t
	start_recv
	"$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" 2>"$WORK/send.err" &
	SPID=$!
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -KILL "$SPID" 2>/dev/null || true
	wait "$SPID" 2>/dev/null || true
	outcome "sender killed at $ms ms"
done
echo ok
