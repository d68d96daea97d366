#!/bin/bash
# sdump restore of programs nobody here wrote: sleep(1) comes back sleeping;
# a python3 interpreter with 50 MB of state and an open log file comes back
# mid-loop, goes on logging where it stopped, and ends with exit status 0 and
# the checksum its state must have. The state checker sees each as before
# the dump (python3 paused between two ticks for that).
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

# --- sleep 1000 ---
sleep 1000 </dev/null >/dev/null 2>&1 &
pid=$!
TARGET_PIDS+=("$pid")
for ((i = 0; i < 100; i++)); do [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sleep ] && break; sleep 0.1; done
for ((i = 0; i < 100; i++)); do [ "$(proc_state "$pid")" = S ] && break; sleep 0.1; done
state_record "$pid" "$WORK/sleep.state"
"$SDUMP" dump -t "$pid" -D "$WORK/sleep" 2>"$WORK/err" || fail "dump of sleep: $(cat "$WORK/err")"
st=0
wait "$pid" 2>/dev/null || st=$?
[ "$st" = 137 ] || fail "the dump did not kill sleep (status $st)"
"$SDUMP" restore -D "$WORK/sleep" --shell-job -d 2>"$WORK/err" || fail "restore of sleep: $(cat "$WORK/err")"
[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sleep ] || fail "pid $pid is not sleep after the restore"
sleep 0.3
st=$(proc_state "$pid")
[ "$st" = S ] || fail "the restored sleep is in state '$st', not S"
case "$(cut -d' ' -f1 "/proc/$pid/syscall")" in
35 | 230) ;;
*) fail "the restored sleep is not in nanosleep: $(cat "/proc/$pid/syscall")" ;;
esac
assert_running "$pid"
state_check "$pid" "$WORK/sleep.state"
echo "sleep: pid $pid restored, sleeping"
kill "$pid"
wait_gone "$pid"

# --- python3 with 50 MB of state and a log file ---
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 || true)
[ -n "$PY" ] && [ -x "$PY" ] || skip "no python3"
cat >"$WORK/prog.py" <<'EOF'
import os, sys, time, zlib

work = sys.argv[1]
MB = 50 << 20
base = bytes((i * 131 + 7) & 255 for i in range(256))
state = bytearray(base * (MB // 256))          # byte i = (i * 131 + 7) & 255
words = {i: "w%07d" % i for i in range(200000)}  # a heap of small objects
total = sum(base) * (MB // 256)
log = open(os.path.join(work, "py.log"), "a")
n = 0
while not os.path.exists(os.path.join(work, "stop")):
    while os.path.exists(os.path.join(work, "pause")):
        time.sleep(0.05)
    n += 1
    pos = (n * 4099) % MB
    old = state[pos]
    state[pos] = (old + 1) & 255
    total += state[pos] - old
    log.write("tick %d %d\n" % (n, total))
    log.flush()
    time.sleep(0.1)
wc = zlib.crc32("".join(words[i] for i in range(len(words))).encode())
log.write("final %d %d %d %d\n" % (n, zlib.crc32(state), total, wc))
log.close()
sys.exit(0)
EOF
ticks() { # the tick lines in the log so far
	local n
	n=$(grep -c '^tick' "$WORK/py.log" 2>/dev/null) || true
	echo "${n:-0}"
}
"$PY" "$WORK/prog.py" "$WORK" </dev/null >"$WORK/py.out" 2>"$WORK/py.err" &
pid=$!
TARGET_PIDS+=("$pid")
for ((i = 0; i < 600; i++)); do
	[ "$(ticks)" -ge 5 ] && break
	kill -0 "$pid" 2>/dev/null || fail "python3 ended early: $(cat "$WORK/py.err")"
	sleep 0.1
done
[ "$(ticks)" -ge 5 ] || fail "python3 does not tick"
nthreads=$(ls "/proc/$pid/task" | wc -l)
tids=$(tids_of "$pid")
comm=$(cat "/proc/$pid/comm")
"$SDUMP" pre-dump -t "$pid" -D "$WORK/py1" 2>"$WORK/err" || fail "pre-dump of python3: $(cat "$WORK/err")"
sleep 0.5
# paused (between two ticks, its log where it is) from the record of its
# state to the check of it after the restore
touch "$WORK/pause"
paused=$(ticks)
for ((i = 0; i < 50; i++)); do
	sleep 0.2
	[ "$(ticks)" = "$paused" ] && break
	paused=$(ticks)
done
state_record "$pid" "$WORK/py.state"
"$SDUMP" dump -t "$pid" -D "$WORK/py2" --parent "$WORK/py1" 2>"$WORK/err" || fail "dump of python3: $(cat "$WORK/err")"
st=0
wait "$pid" 2>/dev/null || st=$?
[ "$st" = 137 ] || fail "the dump did not kill python3 (status $st)"
at_dump=$(ticks)
echo "python3: pid $pid dumped after $at_dump ticks"
sleep 0.5 # time passes: a restored sleep must still end

"$SDUMP" restore -D "$WORK/py2" --shell-job 2>"$WORK/restore.err" &
RPID=$!
wait_restored "$pid" "$nthreads" "$comm"
[ "$(tids_of "$pid")" = "$tids" ] || fail "python3's threads: $(tids_of "$pid"), dumped $tids"
state_check "$pid" "$WORK/py.state"
rm "$WORK/pause"
for ((i = 0; i < 600; i++)); do
	[ "$(ticks)" -ge $((at_dump + 10)) ] && break
	kill -0 "$RPID" 2>/dev/null || fail "sdump restore ended early: $(cat "$WORK/restore.err"); python3: $(cat "$WORK/py.err")"
	sleep 0.1
done
[ "$(ticks)" -ge $((at_dump + 10)) ] || fail "the restored python3 does not tick on"
touch "$WORK/stop"
st=0
wait "$RPID" || st=$?
[ "$st" = 0 ] || fail "sdump restore exited $st, expected python3's 0; restore: $(cat "$WORK/restore.err"); python3: $(tail -n 5 "$WORK/py.err")"
[ ! -e "/proc/$pid" ] || fail "pid $pid is still there after sdump restore returned"

"$PY" - "$WORK/py.log" "$at_dump" <<'EOF' || fail "the log of the restored python3 is wrong (above)"
import sys, zlib
lines = open(sys.argv[1]).read().splitlines()
at_dump = int(sys.argv[2])
MB = 50 << 20
base = bytes((i * 131 + 7) & 255 for i in range(256))
total = sum(base) * (MB // 256)
err = []
ticks = [l for l in lines if l.startswith("tick ")]
changed = {}
for k, l in enumerate(ticks):
    n = k + 1
    pos = (n * 4099) % MB
    old = changed.get(pos, base[pos % 256])
    new = (old + 1) & 255
    changed[pos] = new
    total += new - old
    if l != "tick %d %d" % (n, total):
        err.append("line %d: %r, expected %r" % (n, l, "tick %d %d" % (n, total)))
        break
if len(ticks) <= at_dump:
    err.append("no tick after the dump (%d ticks, %d at the dump)" % (len(ticks), at_dump))
if not lines or not lines[-1].startswith("final "):
    err.append("no final line: %r" % lines[-1:])
elif len(lines) != len(ticks) + 1:
    err.append("%d lines neither tick nor final" % (len(lines) - len(ticks) - 1))
else:
    state = bytearray(base * (MB // 256))
    for pos, v in changed.items():
        state[pos] = v
    wc = zlib.crc32("".join("w%07d" % i for i in range(200000)).encode())
    want = "final %d %d %d %d" % (len(ticks), zlib.crc32(state), total, wc)
    if lines[-1] != want:
        err.append("final line %r, expected %r" % (lines[-1], want))
for e in err:
    print("  " + e, file=sys.stderr)
if not err:
    print("python3: %d ticks, %d of them after the restore, final checksum as expected" % (len(ticks), len(ticks) - at_dump))
sys.exit(1 if err else 0)
EOF
echo ok
