#!/bin/bash
# timerfds across a dump and a restore: relative and absolute timers
# (TFD_TIMER_ABSTIME with TFD_TIMER_CANCEL_ON_SET), one-shot and
# periodic, disarmed with an interval, on CLOCK_MONOTONIC, CLOCK_REALTIME
# and CLOCK_BOOTTIME, with expirations not read yet (a periodic timer
# nobody reads, whose expirations pile up, and 5 set with
# TFD_IOC_SET_TICKS). statecheck compares their fdinfo (clock, flags,
# interval, the ticks of one-shot timers; the time left may only shrink,
# by as much as the test lasts: see timer_same in statecheck.py); from
# inside the restored target the relative timer has a little less left,
# the absolute one fires at the very time it was set to, the periodic one
# reads every expiration due before the dump and then one every 50 ms, the
# ticks set are read. Then a python3 program's absolute timer whose time
# passed between the dump and the restore fires at once after it.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"

start_target_quiet evtarget --kinds timerfd
pid=$TPID
tfacts "$WORK/f1.json"
per=$(json_get "$WORK/f1.json" 'd["fds"]["tfd_per"]')
ticks=$(json_get "$WORK/f1.json" 'd["fds"]["tfd_ticks"]')
state_record "$pid" "$WORK/before.state"
grep -q '"settime flags: 03"' "$WORK/before.state" || fail "the absolute timer has not its flags"
# expirations of the periodic timer pile up for a second
sleep 1
tcmd mark
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" show -D "$WORK/d1" >"$WORK/show" || fail "show"
grep -q "CLOCK_MONOTONIC, disarmed, 5 expirations not read" "$WORK/show" || fail "show does not name the ticks: $(cat "$WORK/show")"
grep -Eq "CLOCK_REALTIME, at [0-9]+\.[0-9]+ s \(cancelled if the clock is set\), every 7.000000000 s" "$WORK/show" ||
	fail "show does not name the absolute timer: $(cat "$WORK/show")"
"$SDUMP" show -D "$WORK/d1" --json >"$WORK/show.json" || fail "show --json"
n=$(json_get "$WORK/show.json" "[x['anon']['ticks'] for x in d['files'] if x['fd'] == $per][0]")
[ "$n" -ge 15 ] || fail "the dump saw $n expirations of the periodic timer after a second of 50 ms periods"

"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
assert_threads_running "$pid"
state_check "$pid" "$WORK/before.state"
grep -q "ticks: 5" "/proc/$pid/fdinfo/$ticks" || fail "the ticks set are not back: $(cat "/proc/$pid/fdinfo/$ticks")"
tcmd check
[ "$REPLY" = ok ] || fail "inside the restored target: $REPLY"
echo "restored: clocks, flags, intervals, times left and absolute, pending expirations; the timers go on firing"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-

# an absolute timer whose time passed between the dump and the restore fires at once
python3 - "$WORK" <<'PYEOF' &
import os, sys, time, ctypes, struct
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.timerfd_create(0, 0)  # CLOCK_REALTIME
at = time.time() + 2
its = struct.pack("qqqq", 0, 0, int(at), int((at % 1) * 1e9))
assert libc.timerfd_settime(fd, 1, its, None) == 0  # TFD_TIMER_ABSTIME
open(sys.argv[1] + "/abs.ready", "w").write(str(os.getpid()))
n = struct.unpack("Q", os.read(fd, 8))[0]
open(sys.argv[1] + "/abs.out", "w").write("%d %.3f\n" % (n, time.time() - at))
PYEOF
TARGET_PIDS+=($!)
for ((i = 0; i < 100; i++)); do [ -s "$WORK/abs.ready" ] && break; sleep 0.05; done
apid=$(cat "$WORK/abs.ready")
"$SDUMP" dump -t "$apid" -D "$WORK/d2" 2>"$WORK/err" || fail "dump of python3: $(cat "$WORK/err")"
wait_gone "$apid"
wait_pid_free "$apid"
sleep 2.5
"$SDUMP" restore -D "$WORK/d2" 2>"$WORK/err" || fail "restore of python3: $(cat "$WORK/err")"
read -r n late <"$WORK/abs.out"
[ "$n" = 1 ] || fail "the passed absolute timer read $n expirations"
python3 -c "import sys; sys.exit(0 if -0.05 < $late < 1.5 else 1)" ||
	fail "the passed absolute timer fired $late s after its time, expected at once after the restore"
echo "an absolute timer whose time passed while it was dumped fires at once after the restore"
echo ok
