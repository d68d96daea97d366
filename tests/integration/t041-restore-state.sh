#!/bin/bash
# sdump restore of the state target: what it knows of itself is the same
# after the restore (threads and TIDs, fs_base, TLS, signal masks, pending
# signals, handlers, altstack, umask, cwd, file offsets, the pipe's bytes,
# xmm registers, limits, timers), the system calls its threads were blocked
# in go on (read gets the bytes written later, a futex wait returns 0 on a
# wake and waits again, nanosleep sleeps on until a signal interrupts it), a
# PI mutex held across the dump is still held and passes to another thread,
# the handlers run, and a file it writes without O_APPEND goes on where it
# stopped.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

# thread_status PID: per thread, what /proc says of its signals, scheduling
# and the system call it is blocked in
thread_status() {
	local t
	for t in /proc/"$1"/task/*; do
		printf '%s %s' "${t##*/}" "$(cat "$t/comm")"
		awk '/^(SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt):/ {printf " %s%s", $1, $2}' "$t/status"
		# nice (19) and policy (41) of stat, after the ")" of comm
		sed 's/^.*) //' "$t/stat" | awk '{printf " nice=%s policy=%s", $17, $39}'
		echo " syscall=$(cut -d' ' -f1 "$t/syscall")"
	done
}

start_target_quiet statetarget --dir "$WORK" --more
pid=$TPID
tcmd "log a"
[ "$REPLY" = "ok 1235" ] || fail "log a: $REPLY"
tfacts "$WORK/f1.json"
datafile=$(json_get "$WORK/f1.json" 'd["file_path"]')
cp "$datafile" "$WORK/data.before"
nt=$(json_get "$WORK/f1.json" 'len(d["tids"])')
[ "$nt" = 7 ] || fail "statetarget --more has $nt threads, expected 7"
tid() { json_get "$WORK/f1.json" "d['thread_tids']['$1']"; }
t_sleep2=$(tid nanosleep2)
t_floop=$(tid futexloop)
thread_status "$pid" >"$WORK/status.before"
state_record "$pid" "$WORK/before.state"

"$SDUMP" dump -t "$pid" -D "$WORK/img" 2>"$WORK/dump.err" || fail "dump: $(cat "$WORK/dump.err")"
wait_gone "$pid"
st=0
wait "$pid" 2>/dev/null || st=$?
[ "$st" = 137 ] || fail "the dump did not kill the target (status $st)"
cmp -s "$datafile" "$WORK/data.before" || fail "the data file changed in the dump"

# fds 7 and 8 stay open: the restored target reopens its FIFOs
"$SDUMP" restore -D "$WORK/img" --shell-job -d 2>"$WORK/restore.err" || fail "restore: $(cat "$WORK/restore.err")"
[ ! -s "$WORK/restore.err" ] || echo "note: restore said: $(cat "$WORK/restore.err")"
[ -d "/proc/$pid" ] || fail "pid $pid is not there after the restore"
assert_running "$pid"
assert_threads_running "$pid"
state_check "$pid" "$WORK/before.state"
thread_status "$pid" >"$WORK/status.after"
diff "$WORK/status.before" "$WORK/status.after" >"$WORK/status.diff" ||
	fail "the threads' signals, scheduling or system calls differ after the restore (before < > after):
$(cat "$WORK/status.diff")"

tfacts "$WORK/f2.json"
python3 - "$WORK/f1.json" "$WORK/f2.json" <<'EOF' || fail "the target's facts changed across the dump and restore"
import json, sys
a, b = (json.load(open(x)) for x in sys.argv[1:3])
# the parent is sdump restore now (then init); everything else as it was
diff = [k for k in sorted(set(a) | set(b)) if k != "ppid" and a.get(k) != b.get(k)]
for k in diff:
    print("  %s: %r -> %r" % (k, a.get(k), b.get(k)), file=sys.stderr)
sys.exit(1 if diff else 0)
EOF
echo "restored: pid $pid, $nt threads, facts and per-thread /proc status as before"

tcmd pipebytes
[ "$REPLY" = "ok 5" ] || fail "the hello pipe after the restore: $REPLY"
# the main thread's three queued SIGRTMIN+5, each with its own siginfo, in order
tcmd rtcheck
[ "$REPLY" = "ok -10:100 -11:101 -12:102" ] ||
	fail "the queued signals after the restore: '$REPLY', expected 'ok -10:100 -11:101 -12:102'"
tcmd rseqcheck
case "$REPLY" in "ok "*) echo "rseq: $REPLY" ;; *) fail "rseq after the restore: $REPLY" ;; esac
tcmd mutexheld
[ "$REPLY" = "ok busy" ] || fail "the PI mutex held across the dump: $REPLY"

# read(): the thread blocked in it gets what is written now
tcmd "readwake wake"
[ "$REPLY" = "ok wake" ] || fail "readwake: $REPLY"
# futex: a wake returns 0 from the wait, and the thread waits again
tcmd futexwake
[ "$REPLY" = "ok 1 0 1" ] || fail "futexwake (woken, returned, returns so far): '$REPLY', expected 'ok 1 0 1'"
tcmd futexwake
[ "$REPLY" = "ok 1 0 2" ] || fail "second futexwake: '$REPLY', expected 'ok 1 0 2'"
sleep 0.2
[ "$(cut -d' ' -f1 "/proc/$pid/task/$t_floop/syscall")" = 202 ] ||
	fail "the futexloop thread is not back in its futex wait: $(cat "/proc/$pid/task/$t_floop/syscall")"
# nanosleep: still sleeping (never returned), until SIGUSR1 interrupts it
case "$(cut -d' ' -f1 "/proc/$pid/task/$t_sleep2/syscall")" in
35 | 230) ;;
*) fail "the nanosleep2 thread is not sleeping: $(cat "/proc/$pid/task/$t_sleep2/syscall")" ;;
esac
tcmd sleepwake
read -r ok r e rem n <<<"$REPLY"
[ "$ok $r $e $n" = "ok -1 EINTR 1" ] ||
	fail "sleepwake: '$REPLY', expected 'ok -1 EINTR <seconds left> 1' (the first return, by the signal)"
[ "$rem" -gt 999000 ] || fail "nanosleep2 had $rem s left, it sleeps 1000000 s"
sleep 0.2
case "$(cut -d' ' -f1 "/proc/$pid/task/$t_sleep2/syscall")" in
35 | 230) ;;
*) fail "the nanosleep2 thread did not sleep again: $(cat "/proc/$pid/task/$t_sleep2/syscall")" ;;
esac

# the handlers run (SIGUSR1's ran once already, in nanosleep2, for sleepwake)
tfacts "$WORK/f3.json"
counts=$(json_get "$WORK/f3.json" '(d["hup_count"], d["usr1_count"])')
[ "$counts" = "(0, 1)" ] || fail "(SIGHUP, SIGUSR1) handler runs before kill: $counts, expected (0, 1)"
kill -HUP "$pid"
kill -USR1 "$pid"
for ((i = 0; i < 100; i++)); do
	tfacts "$WORK/f3.json"
	counts=$(json_get "$WORK/f3.json" '(d["hup_count"], d["usr1_count"])')
	[ "$counts" = "(1, 2)" ] && break
	sleep 0.1
done
[ "$counts" = "(1, 2)" ] || fail "after kill -HUP and -USR1 the handlers have run $counts times, expected (1, 2)"

# the mutex: its holder lets go, the main thread takes it
tcmd unlock
[ "$REPLY" = ok ] || fail "unlock: $REPLY"
tcmd mutexheld
[ "$REPLY" = "bad trylock gave 0 (it was free)" ] || fail "the mutex after unlock: $REPLY"
tcmd xmmcheck
[ "$REPLY" = ok ] || fail "xmm registers after the restore: $REPLY"

# a file written at its offset goes on where it stopped
tcmd "log b"
[ "$REPLY" = "ok 1236" ] || fail "log b: $REPLY"
python3 - "$datafile" <<'EOF' || fail "the data file is not its content with 'a' then 'b' at 1234"
import sys
b = open(sys.argv[1], "rb").read()
want = b"x" * 1234 + b"ab" + b"x" * (8192 - 1236)
if b != want:
    print("  %d bytes, around 1234: %r" % (len(b), b[1228:1242]), file=sys.stderr)
    sys.exit(1)
EOF

# every thread woken reported itself again, live: as before the dump
tfacts "$WORK/f4.json"
python3 - "$WORK/f1.json" "$WORK/f4.json" <<'EOF' || fail "a woken thread's own values differ from the dumped ones"
import json, sys
a, b = (json.load(open(x)) for x in sys.argv[1:3])
err = []
for k in ("fs_base", "sigmask", "tls_addr", "tls_value", "robust_list", "clear_child_tid", "rseq", "nice", "sched_policy"):
    for tid, role in ((str(v), r) for r, v in a["thread_tids"].items()):
        if a[k].get(tid) != b[k].get(tid):
            err.append("%s thread %s: %s %r -> %r" % (role, tid, k, a[k].get(tid), b[k].get(tid)))
for k in ("umask", "cwd", "altstack", "sigactions", "nofile_soft", "itimer_interval_us", "tids"):
    if a[k] != b[k]:
        err.append("%s: %r -> %r" % (k, a[k], b[k]))
if b["read_got"] != "wake":
    err.append("read_got %r" % b["read_got"])
for e in err:
    print("  " + e, file=sys.stderr)
sys.exit(1 if err else 0)
EOF

# it ends as it should: exit 0 after deleting its data file
echo exit >&7
wait_gone "$pid"
[ ! -e "$datafile" ] || fail "the target did not get to the end of main (its data file is still there)"
exec 7>&- 8<&-
echo ok
