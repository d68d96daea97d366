#!/bin/bash
# The sender of a process tree's migration (migtarget --children 2: a root
# and two children, each checking its own memory) killed with SIGKILL at
# moments spread over it, the walk t134 leaves out: in the N-th system call
# it injects into a member (SDUMP_FAULT=die:N, N spread over every round's
# calls, the final dump's into all three members among them), just after
# its N-th send or receive of the stream (SDUMP_FAULT=netkill:N, N spread
# over the whole stream, the handover's last calls always in). The
# receiver killed the same way just after its N-th send or receive. (Not
# at moments in time: a SIGKILL can land in one of the two calls a final
# dump makes through the vdso in each member, mapping and unmapping its
# trampoline, and that member may crash, as sdump(1) says. Once, in some
# twenty kills at moments over a tree's migration, a member of the source
# was gone after it, the others running: that window, most likely, not
# seen again in forty more.) After each, exactly one copy of the
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
count_walk
NDIE=$(sed -n 's/.* die=\([0-9]*\).*/\1/p' "$WORK/send.err")
NNET=$(sed -n 's/.* net=\([0-9]*\).*/\1/p' "$WORK/send.err")
KILLED=
outcome "no fault"
[ "$RESULT" = destination ] || fail "a migration of the tree without a fault did not move"
NRNET=$(sed -n 's/.* net=\([0-9]*\).*/\1/p' "$WORK/recv.err")
[ -n "$NDIE" ] && [ "$NDIE" -gt 30 ] || fail "only '$NDIE' injected calls in the migration of a tree: $(cat "$WORK/send.err")"
[ -n "$NNET" ] && [ "$NNET" -gt 4 ] || fail "no count of the sender's net calls: $(cat "$WORK/send.err")"
[ -n "$NRNET" ] && [ "$NRNET" -gt 4 ] || fail "no count of the receiver's net calls: $(cat "$WORK/recv.err")"
echo "a whole migration: $NDIE injected calls, $NNET net calls on the sender's side, $NRNET on the receiver's"

# spread N: POINTS values over 1..N, the last three always in
spread() {
	local n=$1 i
	for ((i = 0; i < POINTS - 3; i++)); do echo $((1 + i * (n - 4) / (POINTS - 3))); done
	echo $((n - 2)) $((n - 1)) "$n"
}

# killed WHO WHAT [ENV...]: a migration whose sender (or receiver, ENV
# its environment) is to die; the sender's own environment in SEND_ENV.
# Sets SST (the sender's exit status) and COUNT (the net calls of the side
# that was to die, when it did not: SDUMP_FAULT_COUNT).
killed() {
	local who=$1 what=$2
	shift 2
	KILLED=$who
	start_t
	start_recv SDUMP_FAULT_COUNT=1 "$@"
	SST=0
	env SDUMP_FAULT_COUNT=1 "${SEND_ENV[@]}" "$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" 2>"$WORK/send.err" || SST=$?
	outcome "$what"
	COUNT=$(sed -n 's/.* net=\([0-9]*\).*/\1/p' "$WORK/$([ "$who" = sender ] && echo send || echo recv).err")
}

# --- in an injected call: every round's, the final dump's of every member ---
for k in $(spread "$NDIE"); do
	SEND_ENV=(SDUMP_FAULT=die:$k)
	killed sender "sender killed in injected call $k/$NDIE"
	[ "$SST" = 137 ] || fail "die:$k: the sender was not killed (exit $SST): $(cat "$WORK/send.err")"
done

# --- just after a send or receive, the handover's among them ---
# (a stream's calls vary by a few from run to run, as reads return what
# has come: a point past this run's end is taken again as far from it)
netwalk() { # WHO N
	local who=$1 n=$2 k d tries
	for k in $(spread "$n"); do
		d=$((n - k))
		for ((tries = 0; tries < 4; tries++)); do
			if [ "$who" = sender ]; then
				SEND_ENV=(SDUMP_FAULT=netkill:$k)
				killed sender "sender killed after net call $k/$n"
				[ "$SST" = 137 ] && break
			else
				SEND_ENV=()
				killed receiver "receiver killed after net call $k/$n" SDUMP_FAULT=netkill:$k
				[ -z "$COUNT" ] && break
			fi
			[ -n "$COUNT" ] && [ "$COUNT" -lt "$k" ] ||
				fail "netkill:$k did not kill the $who (exit $SST): $(cat "$WORK/send.err")"
			k=$((COUNT - d))
		done
		[ "$tries" -lt 4 ] || fail "netkill: the $who's stream kept ending before call $k"
	done
}
netwalk sender "$NNET"
netwalk receiver "$NRNET"

echo ok
