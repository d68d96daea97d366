#!/bin/bash
# eventfds across a dump and a restore: a counter above 32 bits (eventfd2()
# takes only 32), EFD_SEMAPHORE, EFD_NONBLOCK and close-on-exec, and a dup
# sharing the same eventfd. statecheck compares their fdinfo (counter,
# semaphore flag, flags) before and after; from inside the restored target
# reads the whole counter back, counts the semaphore down one by one, and
# writes through the dup what the other fd then reads. sdump show names the
# counter.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"

start_target_quiet evtarget --kinds eventfd
pid=$TPID
tfacts "$WORK/f1.json"
efd=$(json_get "$WORK/f1.json" 'd["fds"]["efd"]')
state_record "$pid" "$WORK/before.state"
grep -q '"eventfd-count: 123456789abcdef"' "$WORK/before.state" || fail "the target's eventfd does not hold its count"

"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" show -D "$WORK/d1" >"$WORK/show" || fail "show"
grep -q "counter 81985529216486895$" "$WORK/show" || fail "show does not name the counter: $(cat "$WORK/show")"
grep -q "counter 5, EFD_SEMAPHORE" "$WORK/show" || fail "show does not name the semaphore: $(cat "$WORK/show")"
"$SDUMP" show -D "$WORK/d1" --json >"$WORK/show.json" || fail "show --json"
[ "$(json_get "$WORK/show.json" "[x['anon'] for x in d['files'] if x['fd'] == $efd]")" = "[{'count': 81985529216486895, 'semaphore': False}]" ] ||
	fail "show --json of fd $efd: $(json_get "$WORK/show.json" "[x for x in d['files'] if x['fd'] == $efd]")"

"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
assert_threads_running "$pid"
state_check "$pid" "$WORK/before.state"
tcmd check
[ "$REPLY" = ok ] || fail "inside the restored target: $REPLY"
echo "restored: the counters, the semaphore, the flags and the dup as they were"
# not our child any more: it ends at "exit"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-
echo ok
