#!/bin/bash
# A pidfd of another member of a process tree: a python3 process holding a
# pidfd of its child (os.pidfd_open) and one of itself is dumped with its
# child and restored; the pidfd refers to the restored child again (its
# fdinfo's Pid:, and from inside: not readable while the child lives, a
# SIGTERM sent through it with pidfd_send_signal() ends the child, which
# makes it readable, and waitpid() gets that status). A pidfd of a process
# outside the tree is refused with one line, the process left running.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"
python3 -c 'import os; os.pidfd_open(os.getpid())' 2>/dev/null || skip "no pidfd_open"

cat >"$WORK/pf.py" <<'PYEOF'
import os, select, signal, sys, time
pid = os.fork()
if pid == 0:
    while True:
        time.sleep(1)
fd = os.pidfd_open(pid)
own = os.pidfd_open(os.getpid(), os.PIDFD_NONBLOCK if hasattr(os, "PIDFD_NONBLOCK") else 0)
print("ready", os.getpid(), pid, fd, own, flush=True)
for line in sys.stdin:
    if line.strip() == "check":
        p = select.poll()
        p.register(fd, select.POLLIN)
        alive = not p.poll(0)
        signal.pidfd_send_signal(fd, signal.SIGTERM)
        ended = bool(p.poll(5000))
        _, st = os.waitpid(pid, 0)
        ok = alive and ended and os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGTERM
        print("ok" if ok else "bad: alive %s ended %s status %d" % (alive, ended, st), flush=True)
    elif line.strip() == "exit":
        break
PYEOF
rm -f "$WORK/target.in" "$WORK/target.out"
mkfifo "$WORK/target.in" "$WORK/target.out"
python3 "$WORK/pf.py" <"$WORK/target.in" >"$WORK/target.out" 2>"$WORK/target.err" &
TARGET_PIDS+=($!)
exec 7>"$WORK/target.in" 8<"$WORK/target.out"
read -r -t 60 word pid kid fd own <&8 || fail "the python3 program did not start: $(cat "$WORK/target.err")"
[ "$word" = ready ] || fail "the python3 program: '$word'"
TARGET_PIDS+=("$kid")
grep -q "^Pid:[[:space:]]*$kid$" "/proc/$pid/fdinfo/$fd" || fail "fd $fd is no pidfd of $kid: $(cat "/proc/$pid/fdinfo/$fd")"
state_record "$pid" "$WORK/before.state"
state_record "$kid" "$WORK/before.kid.state"
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
wait_pid_free "$kid"
"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
state_check "$pid" "$WORK/before.state"
state_check "$kid" "$WORK/before.kid.state"
grep -q "^Pid:[[:space:]]*$kid$" "/proc/$pid/fdinfo/$fd" || fail "the restored fd $fd is no pidfd of $kid: $(cat "/proc/$pid/fdinfo/$fd")"
grep -q "^Pid:[[:space:]]*$pid$" "/proc/$pid/fdinfo/$own" || fail "the restored fd $own is no pidfd of itself"
tcmd check
[ "$REPLY" = ok ] || fail "the restored pidfd of the child: $REPLY"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-
echo "a pidfd of a child of the tree: the restored child's, its signal and its end reach the parent"

# a pidfd of a process outside the dump: refused, the process left running
python3 -c '
import os, sys, time
fd = os.pidfd_open(int(sys.argv[1]))
open(sys.argv[2], "w").write(str(fd))
while True: time.sleep(1)
' "$$" "$WORK/out.ready" </dev/null >/dev/null 2>&1 &
out=$!
TARGET_PIDS+=("$out")
for ((i = 0; i < 200; i++)); do [ -s "$WORK/out.ready" ] && break; sleep 0.05; done
ofd=$(cat "$WORK/out.ready")
expect_error "cannot dump pid $out: fd $ofd is a pidfd of process $$; only a pidfd of the process itself or of a member of its tree is restored" \
	"$SDUMP" dump -t "$out" -D "$WORK/out"
[ ! -e "$WORK/out" ] || fail "a refused dump left an image"
assert_running "$out"
kill "$out"
echo "a pidfd of a process outside: refused with one line, the process left running"
echo ok
