#!/bin/bash
# A process in a job-control stop at the dump comes back stopped (a tree's
# members by their own stop signal: t080), and runs on at SIGCONT; one
# running comes back running.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

for how in stopped running; do
	# alone (a tree's stop is t080's)
	setsid python3 -c '
import os, sys, time
i = 0
while True:
    i += 1
    open(sys.argv[1] + ".tmp", "w").write("%d" % i)
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    time.sleep(0.05)' "$WORK/count" </dev/null >/dev/null 2>&1 &
	pid=$!
	TARGET_PIDS+=("$pid")
	for ((i = 0; i < 100; i++)); do [ -s "$WORK/count" ] && break; sleep 0.05; done
	[ "$how" = stopped ] && kill -STOP "$pid"
	for ((i = 0; i < 100; i++)); do [ "$how" = running ] || [ "$(proc_state "$pid")" = T ] && break; sleep 0.02; done
	rm -rf "$WORK/d"
	"$SDUMP" -q dump -t "$pid" -D "$WORK/d" || fail "dump of the $how process"
	"$SDUMP" -q restore -D "$WORK/d" -d || fail "restore of the $how process"
	sleep 0.3
	st=$(proc_state "$pid")
	if [ "$how" = stopped ]; then
		[ "$st" = T ] || fail "the process stopped at the dump is '$st' after the restore"
		a=$(cat "$WORK/count")
		sleep 0.3
		[ "$(cat "$WORK/count")" = "$a" ] || fail "the stopped process counts on"
		kill -CONT "$pid"
	fi
	sleep 0.3
	a=$(cat "$WORK/count")
	sleep 0.3
	[ "$(cat "$WORK/count")" != "$a" ] || fail "the $how process does not run on after the restore ($(proc_state "$pid"))"
	echo "a $how process: restored $how, runs on"
	kill -KILL "$pid"
done
echo ok
