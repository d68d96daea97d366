#!/bin/bash
# Fault injection over whole restores: the N-th write into the new process's
# memory, ptrace request or system call injected into it (mmap, open, the
# thread creations, ...) fails, N walked over the whole restore (at most 120
# points per kind, SDUMP_QUICK 24, SDUMP_FAULT_ALL=1 every one; every ptrace
# request of the last eighth, where the threads are made). After each:
# one line and exit 1, no process with the dumped PID or any of its thread
# ids left, the image files as they were; and the image still restores.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/faults.sh"
export SDUMP_STATE_DIR="$WORK/state"

start_target_quiet memtarget --mib 16 --threads 2 --ticker --dir "$WORK"
pid=$TPID
# only its stdin, stdout and stderr: nothing the test's runner left open
tcmd "closefrom 3"
"$SDUMP" -q pre-dump -t "$pid" -D "$WORK/1" || fail "pre-dump"
tcmd "dirty anon 100 3"
TIDS=$(tids_of "$pid")
"$SDUMP" -q dump -t "$pid" -D "$WORK/2" --parent "$WORK/1" || fail "dump"
wait "$pid" 2>/dev/null || true
wait_pid_free "$pid"
sum1=$(dir_sum "$WORK/1")
sum2=$(dir_sum "$WORK/2")

# nothing_left WHAT: no process or thread of the dump exists
nothing_left() {
	local t
	for t in $TIDS; do
		[ ! -e "/proc/$t" ] || fail "$1: pid $t is left ($(proc_state "$t"), $(cat "/proc/$t/comm" 2>/dev/null))"
	done
}

# restored_ok WHAT: a restore succeeded: the process runs and answers; end it
restored_ok() {
	wait_restored "$pid" 4 memtarget # main, 2 threads, ticker
	tcmd ticks
	case "$REPLY" in "ok "*) ;; *) fail "$1: the restored target answers '$REPLY'" ;; esac
	kill -KILL "$pid"
	wait_pid_free "$pid"
}

for spec in write:EIO ptrace:EIO inject:ENOMEM procread:EIO; do
	kind=${spec%:*}
	errno=${spec#*:}
	SDUMP_FAULT_COUNT=1 "$SDUMP" -q restore -D "$WORK/2" --shell-job -d 2>"$WORK/count.err" ||
		fail "restore: $(cat "$WORK/count.err")"
	restored_ok "counting run"
	count=$(grep -o "$kind=[0-9]*" "$WORK/count.err" | cut -d= -f2)
	if [ "$count" = 0 ]; then
		echo "restore: no $kind calls"
		continue
	fi
	nfail=0
	nok=0
	points=$(fault_points "$count")
	# and every ptrace request of the last eighth: the threads' creation and
	# start (a clone3 that went through while its injection failed once left
	# a traced thread that the unwind did not reap, and it hung)
	[ "$kind" = ptrace ] && points=$({ echo "$points"; seq $((count - count / 8)) "$count"; } | sort -nu)
	for n in $points; do
		st=0
		SDUMP_FAULT="$kind:$n:$errno" "$SDUMP" -q restore -D "$WORK/2" --shell-job -d 2>"$WORK/err" || st=$?
		if [ "$st" = 0 ]; then
			restored_ok "restore $kind:$n"
			nok=$((nok + 1))
		else
			[ "$st" = 1 ] || fail "restore $kind:$n: exit $st: $(cat "$WORK/err")"
			[ "$(wc -l <"$WORK/err")" = 1 ] || fail "restore $kind:$n: not one line: $(cat "$WORK/err")"
			grep -q '^sdump: ' "$WORK/err" || fail "restore $kind:$n: $(cat "$WORK/err")"
			nothing_left "restore $kind:$n ($(cat "$WORK/err"))"
			nfail=$((nfail + 1))
		fi
		[ "$(dir_sum "$WORK/1")" = "$sum1" ] && [ "$(dir_sum "$WORK/2")" = "$sum2" ] ||
			fail "restore $kind:$n: the image changed"
	done
	[ "$nfail" -gt 0 ] || fail "restore: no $kind fault failed it"
	echo "restore: $kind 1..$count ($errno): $nfail failed cleanly, $nok succeeded (an optional call)"
done
# the image is whole: it restores, and the process runs
"$SDUMP" -q restore -D "$WORK/2" --shell-job -d || fail "the last restore"
restored_ok "the last restore"
exec 7>&- 8<&-
echo ok
