#!/bin/bash
# A process group whose leader is gone (python, a child subreaper: its
# child made a group of its own, forked a grandchild into it and ended;
# the grandchild, now the subreaper's child, lives on in that group): the
# tree is dumped and restored, the grandchild in the same group, whose
# pid no process has (the helper that made it again is gone), and a
# signal to the group reaches it. Then the same with a session whose
# leader is gone (the child called setsid()): the grandchild comes back in
# that session and group, the subreaper's child.
. "$(dirname "$0")/../lib.sh"
command -v python3 >/dev/null || skip "no python3"

cat >"$WORK/t.py" <<'PY'
import ctypes, os, signal, sys, time
work, mode = sys.argv[1], sys.argv[2]
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)    # PR_SET_CHILD_SUBREAPER
r, w = os.pipe()
c = os.fork()
if c == 0:
    if mode == "session":
        os.setsid()
    else:
        os.setpgid(0, 0)
    if os.fork() == 0:
        os.close(r)
        def usr1(s, f):
            open(work + "/got", "w").write("%d\n" % os.getpgid(0))
        signal.signal(signal.SIGUSR1, usr1)
        os.write(w, b"%d\n" % os.getpid())
        os.close(w)
        while True:
            time.sleep(1)
    os._exit(0)
os.close(w)
os.waitpid(c, 0)
g = int(os.read(r, 32))
os.close(r)
print(os.getpid(), c, g, flush=True)
while True:
    time.sleep(1)
PY
# start MODE: the tree started, its pids in P (the subreaper), C (the leader gone) and G
start() {
	rm -f "$WORK/py.out"
	python3 "$WORK/t.py" "$WORK" "$1" >"$WORK/py.out" 2>&1 </dev/null &
	TARGET_PIDS+=($!)
	for ((i = 0; i < 100; i++)); do [ -s "$WORK/py.out" ] && break; sleep 0.05; done
	read -r P C G <"$WORK/py.out"
	[ -n "$G" ] || fail "the tree did not start: $(cat "$WORK/py.out")"
	TARGET_PIDS+=("$G")
}

for how in group session; do
	start "$how"
	[ "$(ps -o pgid= -p "$G" | tr -d ' ')" = "$C" ] || fail "pid $G is not in group $C"
	[ ! -e "/proc/$C" ] || fail "the group's leader $C is there"
	"$SDUMP" dump -t "$P" -D "$WORK/d.$how" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
	wait_gone "$P"
	for p in $P $G; do wait_pid_free "$p"; done
	"$SDUMP" restore -D "$WORK/d.$how" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
	assert_running "$G"
	[ "$(ps -o pgid= -p "$G" | tr -d ' ')" = "$C" ] || fail "pid $G is in group $(ps -o pgid= -p "$G"), not $C"
	[ "$how" = group ] || [ "$(ps -o sid= -p "$G" | tr -d ' ')" = "$C" ] || fail "pid $G is in session $(ps -o sid= -p "$G"), not $C"
	[ ! -e "/proc/$C" ] || fail "pid $C, the helper that made the group again, is still there"
	[ "$(ps -o ppid= -p "$G" | tr -d ' ')" = "$P" ] || fail "pid $G's parent is not $P"
	kill -USR1 -- "-$C"
	for ((i = 0; i < 100; i++)); do [ -s "$WORK/got" ] && break; sleep 0.05; done
	[ "$(cat "$WORK/got" 2>/dev/null)" = "$C" ] || fail "the group's signal did not reach pid $G"
	kill -KILL "$G" "$P"
	rm -f "$WORK/got"
	echo "$how $C restored without its leader, pid $G in it"
done
echo ok
