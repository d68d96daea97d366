#!/bin/bash
# What a lazy restore does when its fill cannot go on. restore --lazy -d:
# its helper process is named sdump-lazy; SIGKILL of the helper while pages
# are missing (stopped first, so that it cannot finish) kills the restored
# process, which never runs on with missing memory, and its guard says so;
# SIGKILL of the guard makes the helper kill the process and say so. And a
# fault walk: the N-th write into the process (UFFDIO_COPY) fails, N walked
# over the whole lazy restore (without -d: the fill is part of the command):
# one line "sdump: ...", exit 1, nothing of the dump left running, the image
# as it was; or, where the fault hit nothing needed, a process that answers.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lazy.sh"
. "$(dirname "$0")/faults.sh"

# restore_stopped NAME: a lazy restore -d of $WORK/img whose helper is
# stopped before its memory is complete (tried a few times: a fill faster
# than our SIGSTOP is no test); sets HELPER. The target's check is queued.
restore_stopped() {
	local try
	for try in 1 2 3 4 5; do
		lazy_queue check
		"$SDUMP" -v restore -D "$WORK/img" --lazy --shell-job -d 2>"$WORK/$1.err" ||
			fail "$1: restore --lazy -d: $(cat "$WORK/$1.err")"
		HELPER=$(lazy_helper "$WORK/$1.err")
		[ -n "$HELPER" ] || fail "$1: no helper named: $(cat "$WORK/$1.err")"
		if kill -STOP "$HELPER" 2>/dev/null && ! grep -q "memory complete" "$WORK/$1.err"; then
			[ "$(cat "/proc/$HELPER/comm")" = sdump-lazy ] || fail "$1: the helper is '$(cat "/proc/$HELPER/comm")', not sdump-lazy"
			return 0
		fi
		echo "$1: the fill was done before the helper could be stopped; again"
		lazy_reply
		echo exit >&7
		wait_pid_free "$pid"
	done
	fail "$1: the fill always ended before the helper could be stopped"
}

# killed PID WHAT: PID is gone (or a zombie) within 10 s
killed() {
	local i st
	for ((i = 0; i < 100; i++)); do
		st=$(proc_state "$1")
		case "$st" in "" | Z | X) return 0 ;; esac
		sleep 0.1
	done
	fail "$2: pid $1 still $st"
}

lazy_start_target --mib 256
pid=$TPID
TIDS=$(tids_of "$pid")
"$SDUMP" dump -t "$pid" -D "$WORK/img" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait "$pid" 2>/dev/null || true
sum=$(dir_sum "$WORK/img")

# --- SIGKILL of the helper ---
restore_stopped helper
kill -KILL "$HELPER"
killed "$pid" "SIGKILL of the helper"
wait_pid_free "$HELPER"
for i in $(seq 100); do grep -q "ended before its memory was in" "$WORK/helper.err" && break; sleep 0.1; done
grep -q "^sdump: the lazy fill of pid $pid ended before its memory was in: pid $pid is killed" "$WORK/helper.err" ||
	fail "SIGKILL of the helper: not said: $(cat "$WORK/helper.err")"
wait_pid_free "$pid"
echo "SIGKILL of the helper: pid $pid killed, said"

# --- SIGKILL of the guard ---
restore_stopped guard
guard=
for p in $(pgrep -x sdump-lazyguard); do
	ls -l "/proc/$p/fd" 2>/dev/null | grep -q userfaultfd && guard=$p
done
[ -n "$guard" ] || fail "no guard process (sdump-lazyguard) holds a userfaultfd"
kill -KILL "$guard"
kill -CONT "$HELPER"
killed "$pid" "SIGKILL of the guard"
wait_pid_free "$HELPER"
for i in $(seq 100); do grep -q "the lazy fill failed" "$WORK/guard.err" && break; sleep 0.1; done
grep -q "restore $pid: the lazy fill failed, the process was killed: the lazy fill of pid $pid lost its guard" "$WORK/guard.err" ||
	fail "SIGKILL of the guard: not said: $(cat "$WORK/guard.err")"
wait_pid_free "$pid"
echo "SIGKILL of the guard: pid $pid killed, said"

# --- the N-th UFFDIO_COPY fails (a smaller target: the walk restores it often) ---
exec 7>&- 8<&- 9<&-
lazy_start_target --mib 16
pid=$TPID
TIDS=$(tids_of "$pid")
rm -rf "$WORK/img"
"$SDUMP" dump -t "$pid" -D "$WORK/img" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait "$pid" 2>/dev/null || true
wait_pid_free "$pid"
sum=$(dir_sum "$WORK/img")
SDUMP_FAULT_COUNT=1 "$SDUMP" -q restore -D "$WORK/img" --lazy --shell-job 2>"$WORK/count.err" &
rpid=$!
wait_restored "$pid" 1 lazytarget
lazy_queue answer
lazy_reply
[ "$REPLY" = ok ] || fail "counting run: the target answers '$REPLY'"
echo exit >&7
wait "$rpid" || fail "counting run: $(cat "$WORK/count.err")"
count=$(grep -o "write=[0-9]*" "$WORK/count.err" | cut -d= -f2)
[ "${count:-0}" -gt 0 ] || fail "no writes counted: $(cat "$WORK/count.err")"
wait_pid_free "$pid"
nfail=0
nok=0
for n in $(fault_points "$count"); do
	lazy_queue check
	SDUMP_FAULT="write:$n:EIO" "$SDUMP" -v restore -D "$WORK/img" --lazy --shell-job 2>"$WORK/err" &
	rpid=$!
	# it fails (exit 1), or its memory is all in and the target runs on (the fault hit beyond the writes)
	for ((i = 0; i < 600; i++)); do
		kill -0 "$rpid" 2>/dev/null || break
		grep -q "memory complete" "$WORK/err" && break
		sleep 0.1
	done
	if grep -q "memory complete" "$WORK/err"; then
		echo exit >&7
		wait "$rpid" || fail "write:$n: the restore that succeeded exited $?: $(cat "$WORK/err")"
		nok=$((nok + 1))
	else
		st=0
		wait "$rpid" || st=$?
		[ "$st" = 1 ] || fail "write:$n: exit $st: $(cat "$WORK/err")"
		[ "$(grep -c '^sdump: ' "$WORK/err")" = 1 ] && tail -n 1 "$WORK/err" | grep -q '^sdump: ' ||
			fail "write:$n: not one error line, last: $(cat "$WORK/err")"
		for t in $TIDS; do
			[ ! -e "/proc/$t" ] || fail "write:$n: pid $t is left ($(proc_state "$t")): $(tail -n 1 "$WORK/err")"
		done
		nfail=$((nfail + 1))
		lazy_failed_line=$(tail -n 1 "$WORK/err")
	fi
	wait_pid_free "$pid"
	[ "$(dir_sum "$WORK/img")" = "$sum" ] || fail "write:$n: the image changed"
done
[ "$nfail" -gt 0 ] || fail "no write fault failed a lazy restore"
echo "lazy restore: write 1..$count (EIO): $nfail failed cleanly ($lazy_failed_line), $nok succeeded"
exec 7>&- 8<&- 9<&-
echo ok
