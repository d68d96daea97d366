#!/bin/bash
# Calls the kernel restarts through a restart block: a poll() without a
# timeout, poll(), clock_nanosleep(), nanosleep() and sem_timedwait() with
# one, and a futex wait made through syscall() (restarttarget). Stopped
# and let go again (by the pre-dump, then by SIGSTOP and SIGCONT right
# before the dump), each thread is on its way back through
# restart_syscall; a restored thread has no restart block, and its
# restart_syscall would fail with EINTR (tail -f dies of it). The dump
# says which call each restarts and the restore starts that call again:
# no EINTR after the restore, the poll() without a timeout still wakes
# for its pipe. A poll() made through syscall(), whose call the code does
# not say, is refused with one line, the target left running.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

stats() { tcmd stats; read -r _ EINTR WOKEN ROUNDS <<<"$REPLY"; }
# stop_cont: stopped by SIGSTOP (every thread in the stop), then SIGCONT
stop_cont() {
	local i
	kill -STOP "$TPID"
	for ((i = 0; i < 100; i++)); do
		[ "$(awk '{print $3}' /proc/"$TPID"/task/*/stat | sort -u)" = T ] && break
		sleep 0.01
	done
	kill -CONT "$TPID"
}
# in_calls N: N threads of the target blocked in their calls (poll, clock_nanosleep, futex)
in_calls() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(cat /proc/"$TPID"/task/*/syscall 2>/dev/null | grep -Ec "^(7|230|202) ")" -ge "$1" ] && return 0
		sleep 0.01
	done
	fail "not $1 threads in their calls"
}
# in_restart N: N threads of the target back in restart_syscall (219) after the SIGCONT
in_restart() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(cat /proc/"$TPID"/task/*/syscall 2>/dev/null | grep -c "^219 ")" -ge "$1" ] && return 0
		sleep 0.01
	done
	fail "not $1 threads in restart_syscall: $(cat /proc/"$TPID"/task/*/syscall | cut -d' ' -f1 | tr '\n' ' ')"
}

start_target_quiet restarttarget
stats
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/p1" 2>"$WORK/err" || fail "pre-dump: $(cat "$WORK/err")"
sleep 0.2
stats
[ "$EINTR" = 0 ] || fail "EINTR seen after the pre-dump, before any restore: $REPLY"
grep -q "^219 " "/proc/$TPID/task/$(ls "/proc/$TPID/task" | sed -n 2p)/syscall" ||
	fail "the untimed poll() is not in restart_syscall after the pre-dump: $(cat "/proc/$TPID/task/"*/syscall)"
state_record "$TPID" "$WORK/state.rec"
stop_cont
in_restart 5
"$SDUMP" dump -t "$TPID" -D "$WORK/d" --parent "$WORK/p1" -vv 2>"$WORK/log" || fail "dump: $(tail -1 "$WORK/log")"
n=$(grep -c "in restart_syscall, restarting syscall" "$WORK/log" || true)
grep -q "in restart_syscall, restarting syscall 7$" "$WORK/log" || fail "the dump did not see the poll() restarting: $(grep restart "$WORK/log")"
[ "$n" -ge 3 ] || fail "fewer than three threads in restart_syscall at the dump: $(grep restart "$WORK/log")"
echo "dumped: $n threads in restart_syscall with their calls told"
wait "$TPID" 2>/dev/null || true
wait_pid_free "$TPID"

"$SDUMP" restore -D "$WORK/d" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
assert_running "$TPID"
state_check "$TPID" "$WORK/state.rec"
before=$ROUNDS
sleep 3.5
stats
[ "$EINTR" = 0 ] || fail "EINTR seen after the restore: $REPLY"
[ "$ROUNDS" -gt "$before" ] || fail "the timed calls made no rounds after the restore: $REPLY"
w=$WOKEN
tcmd poke
for ((i = 0; i < 50; i++)); do
	stats
	[ "$WOKEN" -gt "$w" ] && break
	sleep 0.1
done
[ "$WOKEN" -gt "$w" ] || fail "the untimed poll() did not wake for its pipe after the restore: $REPLY"
echo "restored: no EINTR, the poll() wakes for its pipe, $((ROUNDS - before)) rounds of the timed calls"
echo exit >&7

# a poll() made through syscall(): refused, left running
start_target restarttarget --generic
stop_cont
in_restart 7
if "$SDUMP" dump -R -t "$TPID" -D "$WORK/g" 2>"$WORK/err"; then
	fail "a thread in restart_syscall of a call sdump cannot tell was dumped"
fi
grep -Eq "^sdump: cannot dump pid $TPID: thread [0-9]+ is stopped on its way back into a call interrupted before \(restart_syscall\)" "$WORK/err" ||
	fail "unexpected refusal: $(cat "$WORK/err")"
[ "$(wc -l <"$WORK/err")" = 1 ] || fail "more than one line: $(cat "$WORK/err")"
assert_running "$TPID"
stats
[ "$EINTR" = 0 ] || fail "EINTR after the refused dump: $REPLY"
echo "refused: $(cat "$WORK/err")"
echo exit >&7
