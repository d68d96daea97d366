#!/bin/bash
# A thread with credentials of its own (python: raw setgroups, setresgid,
# setresuid and setfsuid system calls in one thread, which glibc's
# wrappers would have spread to all): after the restore each thread has
# the uids, gids and groups it had (/proc/PID/task/TID/status), and the
# thread itself reads its own back (getresuid, getresgid, getgroups).
. "$(dirname "$0")/../lib.sh"
command -v python3 >/dev/null || skip "no python3"

# creds PID: each thread's Uid, Gid and Groups lines, by tid
creds() {
	local t
	for t in $(ls "/proc/$1/task" | sort -n); do
		echo "$t $(grep -E '^(Uid|Gid|Groups):' "/proc/$1/task/$t/status" | tr -s '\t\n' '  ')"
	done
}

cat >"$WORK/t.py" <<'PY'
import ctypes, os, sys, threading, time
libc = ctypes.CDLL(None, use_errno=True)
work = sys.argv[1]
ready = threading.Event()
def apart():
    g = (ctypes.c_uint * 2)(5, 6)
    # setgroups 116, setresgid 119, setresuid 117, setfsuid 122 (x86-64)
    for nr, args in ((116, (2, g)), (119, (99, 98, 97)), (117, (99, 96, 95)), (122, (95,))):
        if libc.syscall(nr, *args) < 0 and nr != 122:
            print("syscall", nr, ctypes.get_errno(), flush=True)
            os._exit(1)
    ready.set()
    while not os.path.exists(work + "/go"):
        time.sleep(0.05)
    with open(work + "/thread.out", "w") as f:
        f.write("%s %s %s\n" % (os.getresuid(), os.getresgid(), sorted(os.getgroups())))
threading.Thread(target=apart).start()
ready.wait()
print(os.getpid(), threading.get_native_id(), flush=True)
while True:
    time.sleep(1)
PY
: >"$WORK/thread.out"
chmod 666 "$WORK/thread.out"
chmod 777 "$WORK"
python3 "$WORK/t.py" "$WORK" >"$WORK/py.out" 2>&1 </dev/null &
TARGET_PIDS+=($!)
for ((i = 0; i < 100; i++)); do [ -s "$WORK/py.out" ] && break; sleep 0.05; done
read -r pid _ <"$WORK/py.out"
[ -d "/proc/$pid" ] || fail "the target did not start: $(cat "$WORK/py.out")"
creds "$pid" >"$WORK/before"
grep -q "Uid: 99 96 95 95" "$WORK/before" || fail "no thread apart: $(cat "$WORK/before")"
"$SDUMP" dump -t "$pid" -D "$WORK/d" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" restore -D "$WORK/d" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
creds "$pid" >"$WORK/after"
diff "$WORK/before" "$WORK/after" >&2 || fail "the threads' credentials differ after the restore"
touch "$WORK/go"
for ((i = 0; i < 100; i++)); do [ -s "$WORK/thread.out" ] && break; sleep 0.05; done
[ "$(cat "$WORK/thread.out")" = "(99, 96, 95) (99, 98, 97) [5, 6]" ] ||
	fail "the thread reads its credentials as: $(cat "$WORK/thread.out")"
kill -KILL "$pid"
echo "a thread's own credentials restored: $(grep -c . "$WORK/after") threads as they were"
echo ok
