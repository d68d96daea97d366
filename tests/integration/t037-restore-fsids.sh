#!/bin/bash
# The file-system ids (setfsuid, setfsgid) of a process, apart from its
# effective ones: a restore gives them back; a thread whose credentials
# differ from the process's (setfsuid in one thread only, which glibc does
# not spread) is restored with its own, the others with the process's.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"

# fsids PID: each thread's Uid and Gid lines, one line per thread
fsids() {
	local t
	for t in /proc/"$1"/task/*; do
		awk '/^(Uid|Gid):/ {printf "%s%s,%s,%s,%s ", $1, $2, $3, $4, $5}' "$t/status"
		echo
	done
}

# start_py MODE: a python3 target that sets its fs ids (all threads: "process",
# or in a second thread only: "thread"), then prints "ready" and sleeps
start_py() {
	python3 - "$1" >"$WORK/py.out" 2>"$WORK/py.err" <<'PYEOF' &
import ctypes, sys, threading, time
libc = ctypes.CDLL(None, use_errno=True)
def setfs():
    libc.setfsgid(4321)
    libc.setfsuid(1234)
if sys.argv[1] == "process":
    setfs()
else:
    threading.Thread(target=lambda: (setfs(), time.sleep(3600)), daemon=True).start()
    time.sleep(0.3)
print("ready", flush=True)
while True:
    time.sleep(0.05)
PYEOF
	TPID=$!
	TARGET_PIDS+=("$TPID")
	for ((i = 0; i < 100; i++)); do
		grep -q ready "$WORK/py.out" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "the python target did not start: $(cat "$WORK/py.err")"
}

# a process with fs ids of its own: dumped, restored, the same ids
start_py process
pid=$TPID
want="Uid:0,0,0,1234 Gid:0,0,0,4321 "
[ "$(fsids "$pid")" = "$want" ] || fail "the target's ids before the dump: $(fsids "$pid")"
state_record "$pid" "$WORK/before.state"
"$SDUMP" dump -t "$pid" -D "$WORK/img" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait "$pid" 2>/dev/null || true
wait_pid_free "$pid"
"$SDUMP" restore -D "$WORK/img" --shell-job -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
assert_running "$pid"
[ "$(fsids "$pid")" = "$want" ] || fail "the restored ids: $(fsids "$pid"), want $want"
state_check "$pid" "$WORK/before.state"
kill -KILL "$pid"
echo "restored: fsuid 1234, fsgid 4321"

# a thread with its own fs ids: restored with them, the other threads with the process's
start_py thread
pid=$TPID
tid=$(for t in /proc/"$pid"/task/*; do awk -v t="${t##*/}" '/^Uid:/ && $5 == 1234 { print t }' "$t/status"; done)
[ -n "$tid" ] || fail "no thread with fsuid 1234: $(fsids "$pid")"
before=$(fsids "$pid")
"$SDUMP" dump -t "$pid" -D "$WORK/img2" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait "$pid" 2>/dev/null || true
wait_pid_free "$pid"
"$SDUMP" restore -D "$WORK/img2" --shell-job -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
assert_running "$pid"
[ "$(fsids "$pid")" = "$before" ] || fail "the restored threads' ids: $(fsids "$pid"), want $before"
awk '/^Uid:/ && $5 == 1234 { f = 1 } END { exit !f }' "/proc/$pid/task/$tid/status" || fail "thread $tid lost its fsuid"
kill -KILL "$pid"
echo ok
