#!/bin/bash
# A process stopped at the dump with signals pending whose handlers are set
# (SIGUSR1, SIGCHLD; one queued for its thread, one for the process) comes
# back stopped with them still pending: SigPnd, ShdPnd and SigBlk as they
# were, no handler entered (its mask would be in SigBlk); at SIGCONT each
# handler runs once. Alone, and as a tree whose members are both so; a
# pre-dump first, which must leave them pending in the live process.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
T="$TARGETS_DIR/sigpendtarget"

wait_file() {
	local i
	for ((i = 0; i < 200; i++)); do [ -s "$1" ] && return 0; sleep 0.02; done
	fail "no $1"
}
wait_stopped() {
	local i
	for ((i = 0; i < 200; i++)); do [ "$(proc_state "$1")" = T ] && return 0; sleep 0.01; done
	fail "pid $1 did not stop ($(proc_state "$1"))"
}
status_of() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

for how in alone tree; do
	rm -rf "$WORK/d" "$WORK/p1" "$WORK"/h*
	args=()
	[ "$how" = tree ] && args=(--child)
	"$T" "$WORK/h" "${args[@]}" </dev/null >/dev/null 2>&1 &
	root=$!
	TARGET_PIDS+=("$root")
	wait_file "$WORK/h.ready"
	pids=("$root") outs=("$WORK/h")
	if [ "$how" = tree ]; then
		wait_file "$WORK/h.child.ready"
		pids+=("$(cat "$WORK/h.child.ready")") outs+=("$WORK/h.child")
		TARGET_PIDS+=("${pids[1]}")
	fi
	for ((k = ${#pids[@]} - 1; k >= 0; k--)); do
		p=${pids[$k]}
		kill -STOP "$p"
		wait_stopped "$p"
		# the root: SIGCHLD its thread's, SIGUSR1 the process's; the child the other way round
		if [ "$k" = 0 ]; then
			"$T" tgkill "$p" 17 && kill -USR1 "$p"
		else
			"$T" tgkill "$p" 10 && kill -CHLD "$p"
		fi || fail "cannot queue the signals for $p"
		[ "$(status_of "$p" SigPnd)" != 0000000000000000 ] && [ "$(status_of "$p" ShdPnd)" != 0000000000000000 ] ||
			fail "$how: no signal pending for the stopped $p"
		state_record "$p" "$WORK/state.$p"
		before[$k]="$(status_of "$p" SigPnd) $(status_of "$p" ShdPnd) $(status_of "$p" SigBlk)"
	done
	# a pre-dump leaves them so (its injected calls took them out of the queue)
	"$SDUMP" -q pre-dump -t "$root" -D "$WORK/p1" 2>"$WORK/err" || fail "$how: pre-dump: $(cat "$WORK/err")"
	for k in "${!pids[@]}"; do
		p=${pids[$k]}
		now="$(status_of "$p" SigPnd) $(status_of "$p" ShdPnd) $(status_of "$p" SigBlk)"
		[ "$now" = "${before[$k]}" ] && [ "$(proc_state "$p")" = T ] ||
			fail "$how: $p's SigPnd ShdPnd SigBlk are $now after the pre-dump, not ${before[$k]} ($(proc_state "$p"))"
	done
	"$SDUMP" -q dump -t "$root" -D "$WORK/d" --parent "$WORK/p1" 2>"$WORK/err" ||
		fail "$how: dump: $(cat "$WORK/err")"
	wait "$root" 2>/dev/null || true
	for p in "${pids[@]}"; do wait_pid_free "$p"; done
	"$SDUMP" -q restore -D "$WORK/d" -d 2>"$WORK/err" || fail "$how: restore: $(cat "$WORK/err")"
	for k in "${!pids[@]}"; do
		p=${pids[$k]}
		wait_stopped "$p"
		now="$(status_of "$p" SigPnd) $(status_of "$p" ShdPnd) $(status_of "$p" SigBlk)"
		[ "$now" = "${before[$k]}" ] ||
			fail "$how: $p's SigPnd ShdPnd SigBlk are $now after the restore, not ${before[$k]}"
		state_check "$p" "$WORK/state.$p"
		[ ! -e "${outs[$k]}" ] || fail "$how: a handler of $p ran while it was stopped: $(cat "${outs[$k]}")"
	done
	kill -CONT "${pids[@]}"
	for k in "${!pids[@]}"; do
		for ((i = 0; i < 200; i++)); do [ "$(wc -l <"${outs[$k]}" 2>/dev/null)" = 2 ] && break; sleep 0.02; done
		sleep 0.2
		got=$(sort -n "${outs[$k]}" 2>/dev/null | tr '\n' ' ')
		[ "$got" = "10 17 " ] || fail "$how: after SIGCONT ${pids[$k]}'s handlers ran for '$got', not once each for 10 17"
	done
	echo "$how: stopped with SIGUSR1 and SIGCHLD pending, restored so, each handler once at SIGCONT"
	kill -KILL "${pids[@]}"
	wait "$root" 2>/dev/null || true
done
echo ok
