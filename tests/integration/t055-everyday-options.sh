#!/bin/bash
# CRIU's everyday options, as CRIU means them: -j is --shell-job on dump and
# pre-dump too (accepted; the thread count is --threads, and an old "-j N"
# is a usage error, never a thread count nor a pid), -s/--leave-stopped
# leaves the dumped process in a job-control stop, untraced and still
# tracked (SIGCONT resumes it where it was); restore --display-stats and
# --json give the restore's counters; and the advice of a refused seize
# fits who asks: root is told who traces the process already, never to
# "run as the process's user or with CAP_SYS_PTRACE".
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

# --- -j and --threads ---
start_target_quiet memtarget --mib 8 --threads 2 --ticker --dir "$WORK"
"$SDUMP" pre-dump -j -t "$TPID" -D "$WORK/p1" --threads 2 || fail "pre-dump -j --threads 2"
st=0
"$SDUMP" pre-dump -j 1 -t "$TPID" -D "$WORK/px" 2>"$WORK/err" || st=$?
[ "$st" = 2 ] || fail "pre-dump -j 1 exited $st, expected a usage error: $(cat "$WORK/err")"
grep -q "unexpected argument '1'" "$WORK/err" || fail "pre-dump -j 1: $(cat "$WORK/err")"
[ ! -e "$WORK/px" ] || fail "pre-dump -j 1 made an image"
st=0
"$SDUMP" dump -s -R -t "$TPID" -D "$WORK/px" 2>"$WORK/err" || st=$?
[ "$st" = 2 ] || fail "dump -s -R exited $st"
st=0
"$SDUMP" pre-dump -s -t "$TPID" -D "$WORK/px" 2>"$WORK/err" || st=$?
[ "$st" = 2 ] || fail "pre-dump -s exited $st"
assert_running "$TPID"

# --- dump -j -s: left stopped, untraced, tracked; SIGCONT resumes it ---
tcmd "dirty anon 200 5"
load_regions
for r in "${!REG_ADDR[@]}"; do
	tcmd "save $r $WORK/want.$r"
	[ "$REPLY" = ok ] || fail "save $r"
done
tcmd ticks
before=${REPLY#ok }
"$SDUMP" dump -j -s -t "$TPID" -D "$WORK/d1" --parent "$WORK/p1" || fail "dump -j -s"
for t in /proc/"$TPID"/task/*; do
	[ "$(awk '/^State:/ {print $2}' "$t/status")" = T ] || fail "thread ${t##*/} not stopped after dump -s"
	[ "$(awk '/^TracerPid:/ {print $2}' "$t/status")" = 0 ] || fail "thread ${t##*/} still traced after dump -s"
done
sleep 0.3
[ "$(awk '/^State:/ {print $2}' "/proc/$TPID/status")" = T ] || fail "the process did not stay stopped"
for r in "${!REG_ADDR[@]}"; do
	"$SDUMP" extract -D "$WORK/d1" --addr "${REG_ADDR[$r]}" --len "${REG_LEN[$r]}" -o "$WORK/got.$r" ||
		fail "extract $r"
	cmp -s "$WORK/want.$r" "$WORK/got.$r" || fail "region $r differs from the dump -s image"
done
"$SDUMP" show --json -D "$WORK/d1" >"$WORK/d1.json" || fail "show d1"
[ "$(json_get "$WORK/d1.json" 'd["kind"]')" = dump ] || fail "d1 is no dump"
kill -CONT "$TPID"
counter_grows ticks 50 0.1 || fail "the ticker did not run on after SIGCONT"
[ "$COUNTER_FROM" -ge "$before" ] || fail "ticks went back: $before then $COUNTER_FROM"
assert_running "$TPID"
assert_threads_running "$TPID"
# still tracked: the next pass is incremental
tcmd "dirty anon 50 6"
"$SDUMP" -v pre-dump -t "$TPID" -D "$WORK/p2" --parent "$WORK/d1" 2>"$WORK/v" || fail "pre-dump after dump -s"
grep -Eq "(uffd-wp|soft-dirty) incremental" "$WORK/v" || grep -q "none full" "$WORK/v" ||
	fail "not incremental after dump -s: $(cat "$WORK/v")"

# --- restore --display-stats, --json ---
state_record "$TPID" "$WORK/state.json"
"$SDUMP" dump -t "$TPID" -D "$WORK/d2" --parent "$WORK/p2" || fail "final dump"
wait "$TPID" 2>/dev/null || true
wait_pid_free "$TPID"
# fds 7 and 8 stay open: the restored target reopens its FIFOs
"$SDUMP" restore -j -d -D "$WORK/d2" --json >"$WORK/rst.json" || fail "restore --json"
[ "$(wc -l <"$WORK/rst.json")" = 1 ] || fail "restore --json is not one line: $(cat "$WORK/rst.json")"
python3 - "$WORK/rst.json" "$TPID" <<'PY' || fail "restore --json: $(cat "$WORK/rst.json")"
import json, sys
j = json.load(open(sys.argv[1]))
s = j["stats"]
assert j["op"] == "restore" and j["pid"] == int(sys.argv[2]) == s["pid"], j
assert s["passes"] == 4 and s["threads"] == 4 and s["fds"] >= 3 and s["vmas"] > 10, s
assert s["pages_restored"] > 2000 and s["bytes_restored"] == s["pages_restored"] * 4096, s
assert s["frames"] > 0 and 0 < s["read_us"] <= s["total_us"] and 0 < s["memory_us"] <= s["total_us"], s
PY
state_check "$TPID" "$WORK/state.json"
counter_grows ticks 50 0.1 || fail "the restored ticker does not run"
kill -KILL "$TPID"
wait_pid_free "$TPID"
"$SDUMP" restore -j -d -D "$WORK/d2" --display-stats >"$WORK/rst.txt" || fail "restore --display-stats"
grep -q "^restored  pid $TPID, 4 threads, [0-9]* fds, [0-9]* VMAs, from 4 passes$" "$WORK/rst.txt" ||
	fail "restore --display-stats: $(cat "$WORK/rst.txt")"
grep -q "^memory    [0-9]* pages" "$WORK/rst.txt" || fail "no memory line: $(cat "$WORK/rst.txt")"
grep -q "^time      " "$WORK/rst.txt" || fail "no time line: $(cat "$WORK/rst.txt")"
kill -KILL "$TPID"
wait_pid_free "$TPID"

# --- a refused seize, as root: who traces it already, not a capability to get ---
sleep 1000 &
sl=$!
TARGET_PIDS+=("$sl")
python3 - "$sl" >"$WORK/tracer.out" <<'PY' &
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
if libc.ptrace(0x4206, int(sys.argv[1]), None, None) != 0:  # PTRACE_SEIZE
    print("seize failed", ctypes.get_errno(), flush=True)
    sys.exit(1)
print("traced", flush=True)
time.sleep(1000)
PY
tracer=$!
TARGET_PIDS+=("$tracer")
for _ in $(seq 100); do [ -s "$WORK/tracer.out" ] && break; sleep 0.05; done
[ "$(cat "$WORK/tracer.out")" = traced ] || fail "the test's tracer: $(cat "$WORK/tracer.out")"
expect_error "cannot seize pid $sl: Operation not permitted; it is traced already, by pid $tracer \\(python3\\)" \
	"$SDUMP" pre-dump -t "$sl" -D "$WORK/traced"
! grep -q "CAP_SYS_PTRACE" "$WORK/stderr" || fail "root told to get CAP_SYS_PTRACE: $(cat "$WORK/stderr")"
expect_error "traced already, by pid $tracer" "$SDUMP" check -t "$sl"
kill "$tracer" "$sl"
echo ok
