#!/bin/bash
# sdump restore --lazy: the process of a chain (pre-dump, pre-dump --parent,
# dump --parent) runs before its anonymous memory is in. A check queued
# before the restore makes the restored target touch every page at once,
# from four threads in random orders, and compare every word with what it
# wrote: its faults are served from the image (some are counted), the rest
# is pushed, and once every page is in nothing of sdump is attached (no
# userfaultfd registration left, none in sdump). With -d and without
# (sdump restore stays the parent and exits with the status); the process
# state is as before the dump; and where no userfaultfd can be had, one
# line says so and no process is left.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lazy.sh"
MIB=256
[ -n "${SDUMP_QUICK:-}" ] && MIB=64

# --- restore --lazy -d ---
lazy_start_target --mib "$MIB"
pid=$TPID
lazy_chain a
lazy_queue check
"$SDUMP" -v restore -D "$WORK/a.3" --lazy --shell-job -d --json 2>"$WORK/a.err" >"$WORK/a.json" ||
	fail "restore --lazy -d: $(cat "$WORK/a.err")"
helper=$(lazy_helper "$WORK/a.err")
[ -n "$helper" ] || fail "restore --lazy -d names no helper: $(cat "$WORK/a.err")"
lazy_reply
case "$REPLY" in "ok "[1-9]*) ;; *) fail "the restored target's check right after the restore: $REPLY" ;; esac
lazy_stats "$WORK/a.err"
grep -q "lazy (helper $helper): running after" "$WORK/a.err" || fail "the helper did not say it was done: $(cat "$WORK/a.err")"
wait_pid_free "$helper"
[ "$LAZY_FAULTS" -gt 0 ] || fail "no fault served: the memory was all in before the process ran? $(grep lazy: "$WORK/a.err")"
echo "restore --lazy -d: $(grep -o 'running after.*' "$WORK/a.err")"
[ "$(json_get "$WORK/a.json" '"lazy" in d["stats"] and d["stats"]["total_us"] > 0')" = True ] ||
	fail "--json says nothing of the lazy restore: $(cat "$WORK/a.json")"
lazy_check_detached "$pid"
state_check "$pid" "$WORK/a.state"
tcmd check
case "$REPLY" in "ok "[1-9]*) ;; *) fail "check once the memory is in: $REPLY" ;; esac

# --- the restored process dumped again, restored --lazy without -d ---
TIDS=$(tids_of "$pid")
state_record "$pid" "$WORK/b.state"
"$SDUMP" dump -t "$pid" -D "$WORK/b" 2>"$WORK/err" || fail "dump of the restored target: $(cat "$WORK/err")"
wait_pid_free "$pid"
lazy_queue check
"$SDUMP" -v restore -D "$WORK/b" --lazy --shell-job --json 2>"$WORK/b.err" >"$WORK/b.json" &
RPID=$!
lazy_reply
case "$REPLY" in "ok "[1-9]*) ;; *) fail "(no -d) the check right after the restore: $REPLY" ;; esac
[ "$(awk '/^PPid:/ {print $2}' "/proc/$pid/status")" = "$RPID" ] || fail "the restored process is not a child of sdump restore"
lazy_stats "$WORK/b.err"
lazy_check_detached "$pid"
if ls -l "/proc/$RPID/fd" 2>/dev/null | grep -q userfaultfd; then
	fail "sdump restore still holds a userfaultfd once the memory is in"
fi
state_check "$pid" "$WORK/b.state"
echo exit >&7
st=0
wait "$RPID" || st=$?
[ "$st" = 0 ] || fail "sdump restore --lazy exited $st after the target's exit 0: $(cat "$WORK/b.err")"
wait_pid_free "$pid"
echo "restore --lazy (no -d): $(grep -o 'running after.*' "$WORK/b.err")"
[ "$(json_get "$WORK/b.json" 'd["stats"]["lazy"]["faults"]')" = "$LAZY_FAULTS" ] ||
	fail "--json does not give the faults served: $(cat "$WORK/b.json")"
[ "$(json_get "$WORK/b.json" 'd["stats"]["lazy"]["complete_us"] >= d["stats"]["total_us"]')" = True ] ||
	fail "--json: memory complete before the process ran: $(cat "$WORK/b.json")"

# --- no userfaultfd (a seccomp filter): one line, nothing left ---
st=0
"$TARGETS_DIR/nouffd" "$SDUMP" restore -D "$WORK/b" --lazy --shell-job 2>"$WORK/c.err" || st=$?
[ "$st" = 1 ] || fail "restore --lazy without userfaultfd exited $st: $(cat "$WORK/c.err")"
grep -q "^sdump: cannot restore pid $pid lazily: " "$WORK/c.err" || fail "restore --lazy without userfaultfd: $(cat "$WORK/c.err")"
# (beside the warning that a restore under seccomp gives its filter to the process)
[ "$(grep -vc "runs under seccomp" "$WORK/c.err")" = 1 ] || fail "more than one line: $(cat "$WORK/c.err")"
[ ! -e "/proc/$pid" ] || fail "a failed restore --lazy left pid $pid"
exec 7>&- 8<&- 9<&-
echo ok
