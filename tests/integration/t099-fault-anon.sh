#!/bin/bash
# Fault injection over a dump and a restore of a process holding one of
# each kind of anonymous inode sdump takes (eventfds, signalfds, timerfds,
# epolls, inotifys, a pidfd of itself). Dump -R: the N-th read of the
# process, ptrace request, system call injected, image write or file
# creation fails, N walked over the whole pass (faults.sh fault_points):
# one line and exit 1, no directory, the process running, untraced, and
# what statecheck sees of it (every fd, its fdinfo: counters, masks,
# timers, watches) as before; a dump the fault did not fail made an image
# that restores. Restore: the N-th write into the new process, ptrace
# request or injected call fails: one line, exit 1, no process left; the
# image then restores, and the process checks every kind from inside.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/faults.sh"
# quick (CI): 12 points per kind, half the general walks' (t065-t067 walk
# what every dump and restore shares at 24)
FAULT_QUICK_POINTS=12
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"

start_target_quiet evtarget --dir "$WORK"
pid=$TPID
# the first dump -R arms sdump's tracking (its userfaultfd, the uw VmFlag): left out of the records
"$SDUMP" -q dump -R -t "$pid" -D "$WORK/first" || fail "dump -R"
state_record "$pid" "$WORK/before.state"
for spec in procread:EIO ptrace:ESRCH inject:ENOMEM write:ENOSPC open:EIO; do
	kind=${spec%:*} errno=${spec#*:} nfail=0 nok=0
	count=$(fault_count "$kind" "$SDUMP" -q dump -R -t "$pid" -D "$WORK/count")
	rm -rf "$WORK/count"
	[ "$count" -gt 0 ] || fail "dump -R: no $kind calls to fail"
	for n in $(fault_points "$count"); do
		st=0
		SDUMP_FAULT="$kind:$n:$errno" "$SDUMP" -q dump -R -t "$pid" -D "$WORK/w" 2>"$WORK/werr" || st=$?
		if [ "$st" = 0 ]; then
			"$SDUMP" show -D "$WORK/w" >/dev/null || fail "dump -R $kind:$n: exit 0 with an image show refuses"
			rm -rf "$WORK/w"
			nok=$((nok + 1))
		else
			check_failed "dump -R $kind:$n" "$st" "$WORK/werr" "$WORK/w"
			nfail=$((nfail + 1))
		fi
		assert_running "$pid"
		assert_threads_running "$pid"
		# the timers' time left shrinks, within statecheck's tolerance
		state_record "$pid" "$WORK/after.state"
		python3 "$STATECHECK" compare "$WORK/before.state" "$WORK/after.state" >"$WORK/sc" 2>&1 ||
			fail "dump -R $kind:$n ($(cat "$WORK/werr")): the process changed: $(cat "$WORK/sc")"
	done
	[ "$nfail" -gt 0 ] || fail "dump -R: no $kind fault failed it"
	echo "dump -R: $kind 1..$count ($errno): $nfail failed cleanly, $nok succeeded; the process as it was"
done

tcmd mark
"$SDUMP" -q dump -t "$pid" -D "$WORK/d" || fail "dump"
wait_gone "$pid"
wait_pid_free "$pid"
sum=$(dir_sum "$WORK/d")
for spec in write:EIO ptrace:EIO inject:ENOMEM procread:EIO; do
	kind=${spec%:*} errno=${spec#*:} nfail=0 nok=0
	SDUMP_FAULT_COUNT=1 "$SDUMP" -q restore -D "$WORK/d" -d 2>"$WORK/count.err" || fail "restore: $(cat "$WORK/count.err")"
	wait_restored "$pid" 1 evtarget
	kill -KILL "$pid"
	wait_pid_free "$pid"
	count=$(grep -o "$kind=[0-9]*" "$WORK/count.err" | cut -d= -f2)
	[ "${count:-0}" -gt 0 ] || { echo "restore: no $kind calls"; continue; }
	for n in $(fault_points "$count"); do
		st=0
		SDUMP_FAULT="$kind:$n:$errno" "$SDUMP" -q restore -D "$WORK/d" -d 2>"$WORK/err" || st=$?
		if [ "$st" = 0 ]; then
			wait_restored "$pid" 1 evtarget
			kill -KILL "$pid"
			nok=$((nok + 1))
		else
			[ "$st" = 1 ] && [ "$(wc -l <"$WORK/err")" = 1 ] && grep -q '^sdump: ' "$WORK/err" ||
				fail "restore $kind:$n: exit $st: $(cat "$WORK/err")"
			nfail=$((nfail + 1))
		fi
		wait_pid_free "$pid"
		[ "$(dir_sum "$WORK/d")" = "$sum" ] || fail "restore $kind:$n: the image changed"
	done
	[ "$nfail" -gt 0 ] || fail "restore: no $kind fault failed it"
	echo "restore: $kind 1..$count ($errno): $nfail failed cleanly, $nok succeeded; nothing left behind"
done
"$SDUMP" -q restore -D "$WORK/d" -d || fail "the last restore"
assert_threads_running "$pid"
tcmd check
[ "$REPLY" = ok ] || fail "inside the last restored target: $REPLY"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-
echo ok
