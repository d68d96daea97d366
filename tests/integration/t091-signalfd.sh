#!/bin/bash
# signalfds across a dump and a restore: the mask of each (one of two
# signals, O_NONBLOCK and close-on-exec; one blocking of a third signal),
# compared by statecheck (fdinfo sigmask and flags, the signal masks of the
# threads); from inside the restored target the signal queued before the
# dump is read with its value, a signal outside the mask is not read, and
# each signal sent after the restore is read by the signalfd whose mask
# holds it. sdump show names the mask.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"

start_target_quiet evtarget --kinds signalfd
pid=$TPID
tfacts "$WORK/f1.json"
sfd=$(json_get "$WORK/f1.json" 'd["fds"]["sfd"]')
state_record "$pid" "$WORK/before.state"
grep -q '"sigmask: 0000000400000200"' "$WORK/before.state" || fail "the target's signalfd has not its mask"

"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" show -D "$WORK/d1" >"$WORK/show" || fail "show"
grep -q "signals 0x400000200 (bit sig - 1)" "$WORK/show" || fail "show does not name the mask: $(cat "$WORK/show")"
"$SDUMP" show -D "$WORK/d1" --json >"$WORK/show.json" || fail "show --json"
[ "$(json_get "$WORK/show.json" "[x['anon'] for x in d['files'] if x['fd'] == $sfd]")" = "[{'sigmask': 17179869696}]" ] ||
	fail "show --json of fd $sfd: $(json_get "$WORK/show.json" "[x for x in d['files'] if x['fd'] == $sfd]")"

"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
assert_threads_running "$pid"
state_check "$pid" "$WORK/before.state"
tcmd check
[ "$REPLY" = ok ] || fail "inside the restored target: $REPLY"
echo "restored: the masks, the flags and the pending signal, each signal read where it belongs"
# not our child any more: it ends at "exit"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-
echo ok
