#!/bin/bash
# sdump restore of POSIX timers, capabilities, no_new_privs and seccomp.
# sectarget (tests/targets/sectarget.c) runs as uid 65534 with capabilities
# kept, dropped from the bounding set and one ambient, its own securebits,
# no_new_privs, a seccomp filter shared by its two threads (getppid fails
# with EPERM, and getitimer, which only a dump calls: sdump's own calls
# must pass by it) and one more in its worker (getppid: EACCES), and five
# timers with ids 0-5 but 2 (monotonic, every 100 ms into a handler: not
# faster, a signal pending as the state checker looks would show; boottime
# to the worker thread in an hour; realtime, disarmed; the process's and
# the worker's CPU-time clocks). show --json holds all of it; after the
# restore the target finds from inside every id, time left, interval,
# signal value, capability set and filter as before, its timer goes on
# firing, and the state checker sees the same timers and status of every
# thread. Refused with one line, the target left running or nothing left
# behind: a CLOCK_THREAD_CPUTIME_ID timer of a threaded process or a
# SECCOMP_RET_USER_NOTIF filter (dump), a
# restore by an sdump lacking a capability the threads had, or under
# seccomp itself. A thread in strict mode comes back in it (a getppid()
# then kills it); python3 comes back with the timer, filter, no_new_privs
# and bounding set it set through ctypes.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
[ "$(id -u)" = 0 ] || skip "needs root (the target drops root's capabilities)"
grep -q '^Seccomp:' /proc/self/status || skip "no seccomp on this kernel"
python3 -c 'import ctypes, sys; sys.exit(ctypes.CDLL(None).prctl(77, 2, 0, 0, 0) < 0)' ||
	skip "no PR_TIMER_CREATE_RESTORE_IDS (Linux 6.16) here"

# state_check_timed PID FILE [KEY...]: state_check of a process whose timer
# signals it every 100 ms: from its expiry until a thread of it runs the
# handler (milliseconds, more on a loaded machine) the signal shows
# pending, which is no state; a difference that lasts five looks 70 ms
# apart is.
state_check_timed() {
	local i k args=()
	for k in "${@:3}"; do args+=(--ignore "$k"); done
	for i in 1 2 3 4; do
		python3 "$STATECHECK" check "$1" "$2" "${args[@]}" >"$WORK/statecheck.try" 2>&1 && return 0
		sleep 0.07
	done
	echo "note: the state checker saw four times: $(cat "$WORK/statecheck.try")"
	state_check "$@"
}

# --- refused: a timer whose thread /proc does not name ---
start_target_quiet sectarget --thread-clock
pid=$TPID
expect_error "POSIX timer 6 counts the CPU time of the thread that created it \(CLOCK_THREAD_CPUTIME_ID\)" \
	"$SDUMP" dump -t "$pid" -D "$WORK/refused"
[ ! -e "$WORK/refused/inventory.img" ] || fail "a refused dump left an image"
assert_running "$pid"
counter_grows fired 50 0.1 || fail "timer 0 does not fire after a refused dump"
tcmd check
[ "$REPLY" = ok ] || fail "the target after a refused dump: $REPLY"
stop_target
echo "refused: a CLOCK_THREAD_CPUTIME_ID timer in a threaded process, the target running on"

# --- refused: a filter that hands calls to a supervisor ---
start_target_quiet sectarget --notify
pid=$TPID
expect_error "seccomp filter 1 of thread $pid hands system calls to a supervisor \(SECCOMP_RET_USER_NOTIF\)" \
	"$SDUMP" dump -t "$pid" -D "$WORK/refused2"
[ ! -e "$WORK/refused2/inventory.img" ] || fail "a refused dump left an image"
assert_running "$pid"
counter_grows fired 50 0.1 || fail "timer 0 does not fire after a refused dump"
tcmd check
[ "$REPLY" = ok ] || fail "the target after a refused dump: $REPLY"
stop_target
echo "refused: a SECCOMP_RET_USER_NOTIF filter, the target running on"

# --- dump and restore ---
start_target_quiet sectarget
pid=$TPID
counter_grows fired 50 0.1 || fail "timer 0 does not fire"
tcmd check
[ "$REPLY" = ok ] || fail "the target before the dump: $REPLY"
state_record "$pid" "$WORK/before.state"
tids=$(tids_of "$pid")
"$SDUMP" dump -t "$pid" -D "$WORK/img" 2>"$WORK/dump.err" || fail "dump: $(cat "$WORK/dump.err")"
wait_gone "$pid"
wait_pid_free "$pid" 10

# the dump half: show --json holds what the target set
"$SDUMP" show -D "$WORK/img" --json >"$WORK/show.json" || fail "show --json"
python3 - "$WORK/show.json" $tids <<'PYEOF' || fail "show --json does not hold the target's timers and security state"
import json, sys
s = json.load(open(sys.argv[1]))
main, worker = (int(x) for x in sys.argv[2:4])
err = []
def want(what, got, exp):
    if got != exp:
        err.append("%s: image %r, expected %r" % (what, got, exp))
t = {x["id"]: x for x in s["process"]["posix_timers"]}
want("timer ids", sorted(t), [0, 1, 3, 4, 5])
want("timer clocks", [t[i]["clock"] for i in (0, 1, 3, 4)], [1, 7, 0, -6])
want("timer 5 clock", t[5]["clock"], (~worker << 3) | 6)
want("timer notify", [t[i]["notify"] for i in (0, 1, 3, 4, 5)], [0, 4, 1, 1, 1])
want("timer targets", [t[i]["target"] for i in (0, 1, 3)], [main, worker, main])
want("timer 0 signal", (t[0]["signo"], t[0]["value"], t[0]["interval_ns"]), (34, 0x5eed, 100000000))
want("timer 1 left", 1800e9 < t[1]["value_ns"] <= 3600e9, True)
want("timer 3 disarmed", (t[3]["value_ns"], t[3]["interval_ns"]), (0, 0))
want("timer 4 interval", t[4]["interval_ns"], 5000000000)
th = {x["tid"]: x["sec"] for x in s["threads"]}
C = lambda *c: sum(1 << x for x in c)
for tid, eff, flags in ((main, C(10, 5), [0]), (worker, C(10), [0, 2])):
    x = th[tid]
    want("%d caps" % tid, (x["cap_eff"], x["cap_prm"], x["cap_inh"], x["cap_amb"]),
         (eff, C(10, 13, 5), C(10, 13), C(10)))
    want("%d bounding" % tid, x["cap_bnd"] & C(22, 27), 0)
    want("%d securebits" % tid, x["securebits"], 0x10 | 0x40)
    want("%d nnp, seccomp" % tid, (x["no_new_privs"], x["seccomp_mode"]), (True, 2))
    want("%d filters" % tid, [f["flags"] for f in x["seccomp_filters"]], flags)
for e in err:
    print("  " + e, file=sys.stderr)
sys.exit(1 if err else 0)
PYEOF

# an sdump without a capability the threads had (in its bounding set) cannot give it
expect_error "thread $pid had capability 13, which sdump restore does not have" \
	setpriv --bounding-set -net_raw "$SDUMP" restore -D "$WORK/img" -d
[ ! -e "/proc/$pid" ] || fail "a refused restore left pid $pid"
# an sdump under seccomp (nouffd's filter) cannot let its calls pass by the filters
expect_error "it has seccomp filters, and sdump restore can only install them" \
	"$TARGETS_DIR/nouffd" "$SDUMP" restore -D "$WORK/img" -d
[ ! -e "/proc/$pid" ] || fail "a refused restore left pid $pid"

"$SDUMP" restore -D "$WORK/img" -d 2>"$WORK/restore.err" || fail "restore: $(cat "$WORK/restore.err")"
wait_restored "$pid" 2 sectarget
assert_threads_running "$pid"
tcmd check
[ "$REPLY" = ok ] || fail "the target after the restore: $REPLY"
counter_grows fired 50 0.1 || fail "timer 0 does not fire after the restore"
# fixed by the fidelity work: VmFlags (ac gained and lost, nh lost, nr gained on PROT_NONE)
state_check_timed "$pid" "$WORK/before.state"
echo "restored: timers with their ids, times and signals, capabilities, no_new_privs and seccomp filters as before"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-

# --- strict mode: restored, it holds from the first instruction ---
start_target_quiet sectarget --strict
pid=$TPID
tcmd ping
[ "$REPLY" = ok ] || fail "the strict target: $REPLY"
state_record "$pid" "$WORK/strict.state"
"$SDUMP" dump -t "$pid" -D "$WORK/strict" 2>"$WORK/dump.err" || fail "dump in strict mode: $(cat "$WORK/dump.err")"
wait_gone "$pid"
wait_pid_free "$pid" 10
"$SDUMP" restore -D "$WORK/strict" -d 2>"$WORK/restore.err" || fail "restore in strict mode: $(cat "$WORK/restore.err")"
wait_restored "$pid" 1 sectarget
tcmd ping
[ "$REPLY" = ok ] || fail "the strict target after the restore: $REPLY"
# fixed by the fidelity work: VmFlags (ac gained and lost)
state_check "$pid" "$WORK/strict.state"
echo getppid >&7
wait_gone "$pid" 10
echo "strict mode: restored, and a getppid() after it kills the process"
exec 7>&- 8<&-

# --- python3: a timer, a filter, no_new_privs and the bounding set through ctypes ---
cat >"$WORK/sec.py" <<'PYEOF'
import ctypes, errno, os, signal, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
SYS_timer_create, SYS_timer_settime, SYS_timer_gettime, SYS_getppid, SYS_seccomp = 222, 223, 224, 110, 317
fired = 0
def on_usr1(sig, frame):
    global fired
    fired += 1
signal.signal(signal.SIGUSR1, on_usr1)
if libc.prctl(24, 22, 0, 0, 0) or libc.prctl(38, 1, 0, 0, 0):  # PR_CAPBSET_DROP CAP_SYS_BOOT, PR_SET_NO_NEW_PRIVS
    sys.exit("prctl: %s" % os.strerror(ctypes.get_errno()))
class SigEvent(ctypes.Structure):
    _fields_ = [("value", ctypes.c_uint64), ("signo", ctypes.c_int), ("notify", ctypes.c_int),
                ("pad", ctypes.c_int * 12)]
ids = []
for clock, sev, its in ((1, SigEvent(0x77, signal.SIGUSR1, 0), (0, 100000000, 0, 100000000)),
                        (0, SigEvent(0, 0, 1), (0, 0, 7200, 0))):
    tid = ctypes.c_int(-1)
    if libc.syscall(SYS_timer_create, clock, ctypes.byref(sev), ctypes.byref(tid)) or \
       libc.syscall(SYS_timer_settime, tid, 0, (ctypes.c_long * 4)(*its), None):
        sys.exit("timer: %s" % os.strerror(ctypes.get_errno()))
    ids.append(tid.value)
# getppid() fails with EPERM
insns = b"".join(struct.pack("<HBBI", *i) for i in
                 ((0x20, 0, 0, 0), (0x15, 0, 1, SYS_getppid), (0x06, 0, 0, 0x50000 | errno.EPERM),
                  (0x06, 0, 0, 0x7fff0000)))
buf = ctypes.create_string_buffer(insns, len(insns))
class Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
if libc.syscall(SYS_seccomp, 1, 0, ctypes.byref(Prog(4, ctypes.addressof(buf)))):
    sys.exit("seccomp: %s" % os.strerror(ctypes.get_errno()))
print("ready", os.getpid(), flush=True)
for line in sys.stdin:
    cmd = line.strip()
    if cmd == "fired":
        print("ok", fired, flush=True)
    elif cmd == "check":
        bad = []
        r = libc.syscall(SYS_getppid)
        if r != -1 or ctypes.get_errno() != errno.EPERM:
            bad.append("getppid=%d" % r)
        if libc.prctl(39, 0, 0, 0, 0) != 1:
            bad.append("nnp")
        if libc.prctl(23, 22, 0, 0, 0) != 0 or libc.prctl(23, 21, 0, 0, 0) != 1:
            bad.append("bounding")
        for tid, lo, hi, iv in ((ids[0], 0, 0.101, 100000000), (ids[1], 3600, 7200, 0)):
            g = (ctypes.c_long * 4)()
            if libc.syscall(SYS_timer_gettime, tid, g) or not lo <= g[2] + g[3] / 1e9 <= hi or g[1] != iv:
                bad.append("timer%d" % tid)
        print("bad " + " ".join(bad) if bad else "ok", flush=True)
    elif cmd == "exit":
        sys.exit(0)
PYEOF
rm -f "$WORK/target.in" "$WORK/target.out"
mkfifo "$WORK/target.in" "$WORK/target.out"
python3 "$WORK/sec.py" <"$WORK/target.in" >"$WORK/target.out" 2>"$WORK/py.err" &
TARGET_PIDS+=($!)
exec 7>"$WORK/target.in" 8<"$WORK/target.out"
read -r -t 60 word pid <&8 || fail "python3 did not start: $(cat "$WORK/py.err")"
[ "$word" = ready ] || fail "python3: unexpected '$word'"
counter_grows fired 50 0.1 || fail "python3's timer does not fire"
tcmd check
[ "$REPLY" = ok ] || fail "python3 before the dump: $REPLY"
state_record "$pid" "$WORK/py.state"
"$SDUMP" dump -t "$pid" -D "$WORK/py" 2>"$WORK/dump.err" || fail "dump of python3: $(cat "$WORK/dump.err")"
wait_gone "$pid"
wait_pid_free "$pid" 10
"$SDUMP" restore -D "$WORK/py" -d 2>"$WORK/restore.err" || fail "restore of python3: $(cat "$WORK/restore.err")"
wait_restored "$pid" 1 python3
tcmd check
[ "$REPLY" = ok ] || fail "python3 after the restore: $REPLY"
counter_grows fired 50 0.1 || fail "python3's timer does not fire after the restore"
# fixed by the fidelity work: VmFlags (ac gained and lost)
state_check_timed "$pid" "$WORK/py.state"
echo "python3: restored with its timers, seccomp filter, no_new_privs and bounding set"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-
