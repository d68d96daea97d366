#!/bin/bash
# sdump restore of POSIX timers, capabilities, no_new_privs and seccomp
# filters. sectarget (tests/targets/sectarget.c) runs as uid 65534 with
# capabilities kept, dropped from the bounding set and one ambient, its own
# securebits, no_new_privs, a seccomp filter shared by its two threads and
# one more in its worker (getppid fails with EPERM, with EACCES there), and
# five timers with ids 0-5 but 2 (monotonic, periodic, into a handler;
# boottime to the worker thread in an hour; realtime disarmed; the
# process's and the worker's CPU-time clocks). After dump and restore the
# target finds from inside every id, time left, interval, signal value,
# capability set and filter as before, its periodic timer goes on firing,
# and the state checker sees the same /proc/PID/timers and status of every
# thread. Refused, with one line and the target left running or nothing
# left behind: a timer on CLOCK_THREAD_CPUTIME_ID of a threaded process (at
# the dump), a restore by an sdump under seccomp itself (it could not
# install the filters). Then the same for python3, which sets its timer,
# filter, no_new_privs and bounding set through ctypes.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
[ "$(id -u)" = 0 ] || skip "needs root (the target drops root's capabilities)"
grep -q '^Seccomp:' /proc/self/status || skip "no seccomp on this kernel"
python3 -c 'import ctypes, sys; sys.exit(ctypes.CDLL(None).prctl(77, 2, 0, 0, 0) < 0)' ||
	skip "no PR_TIMER_CREATE_RESTORE_IDS (Linux 6.16) here"

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

# --- dump and restore ---
start_target_quiet sectarget
pid=$TPID
counter_grows fired 50 0.1 || fail "timer 0 does not fire"
tcmd check
[ "$REPLY" = ok ] || fail "the target before the dump: $REPLY"
state_record "$pid" "$WORK/before.state"
"$SDUMP" dump -t "$pid" -D "$WORK/img" 2>"$WORK/dump.err" || fail "dump: $(cat "$WORK/dump.err")"
wait_gone "$pid"
wait_pid_free "$pid" 10

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
state_check "$pid" "$WORK/before.state" 'vmas[*].flags.ac' 'vmas[*].flags.nh' 'vmas[*].flags.nr'
echo "restored: timers with their ids, times and signals, capabilities, no_new_privs and seccomp filters as before"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-
