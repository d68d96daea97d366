#!/bin/bash
# A real program: python3 with an event loop of its own on select.epoll,
# waiting on its stdin (a FIFO), an os.eventfd, a pipe given to
# signal.set_wakeup_fd, a periodic timerfd (100 ms) and an inotify on a
# directory (both through ctypes: python 3.11 has no module for them).
# Dumped, restored, compared with statecheck, and seen to go on working:
# the timer keeps firing every 100 ms, a SIGUSR1 reaches the wakeup pipe,
# a file made in the directory is seen, an eventfd write wakes the loop.
# (asyncio, whose self-pipe is a socketpair(): t111.)
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"

mkdir "$WORK/watched"
cat >"$WORK/loop.py" <<'PYEOF'
import ctypes, os, select, signal, struct, sys

libc = ctypes.CDLL(None, use_errno=True)
IN_CREATE = 0x100
ep = select.epoll()
efd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
signal.set_wakeup_fd(w)
signal.signal(signal.SIGUSR1, lambda s, f: None)
tfd = libc.timerfd_create(1, os.O_NONBLOCK | os.O_CLOEXEC)  # CLOCK_MONOTONIC
assert libc.timerfd_settime(tfd, 0, struct.pack("qqqq", 0, 100000000, 0, 100000000), None) == 0
ino = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
assert libc.inotify_add_watch(ino, sys.argv[1].encode(), IN_CREATE) == 1
for fd in (0, efd, r, tfd, ino):
    ep.register(fd, select.EPOLLIN)
ticks = wakes = signals = created = 0
buf = b""
print("ready", os.getpid(), flush=True)
while True:
    for fd, ev in ep.poll():
        if fd == tfd:
            ticks += struct.unpack("Q", os.read(tfd, 8))[0]
        elif fd == efd:
            wakes += os.eventfd_read(efd)
        elif fd == r:
            signals += len(os.read(r, 64))
        elif fd == ino:
            data = os.read(ino, 4096)
            while data:
                wd, mask, cookie, n = struct.unpack("iIII", data[:16])
                created += wd == 1 and bool(mask & IN_CREATE)
                data = data[16 + n:]
        elif fd == 0:
            buf += os.read(0, 4096)
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if line == b"state":
                    print(ticks, wakes, signals, created, flush=True)
                elif line == b"wake":
                    os.eventfd_write(efd, 3)
                    print("ok", flush=True)
                elif line == b"exit":
                    sys.exit(0)
PYEOF
rm -f "$WORK/target.in" "$WORK/target.out"
mkfifo "$WORK/target.in" "$WORK/target.out"
python3 "$WORK/loop.py" "$WORK/watched" <"$WORK/target.in" >"$WORK/target.out" 2>"$WORK/target.err" &
TARGET_PIDS+=($!)
exec 7>"$WORK/target.in" 8<"$WORK/target.out"
read -r -t 60 word pid <&8 || fail "python3 did not start: $(cat "$WORK/target.err")"
# state: ticks wakes signals created, once the loop has taken what was sent
state() {
	local i
	for ((i = 0; i < 50; i++)); do
		tcmd state
		read -r T W S C <<<"$REPLY"
		[ "$W" -ge "$1" ] && [ "$S" -ge "$2" ] && [ "$C" -ge "$3" ] && return 0
		sleep 0.1
	done
	fail "python3's loop did not see it: ticks $T, eventfd $W (want $1), signals $S (want $2), files $C (want $3)"
}
sleep 0.5
state 0 0 0
[ "$T" -ge 3 ] || fail "the timer fired $T times in half a second"
tcmd wake
state 3 0 0
state_record "$pid" "$WORK/before.state"
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump of python3: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore of python3: $(cat "$WORK/err")"
assert_threads_running "$pid"
state_check "$pid" "$WORK/before.state"
state 3 0 0
t0=$T s0=$(date +%s%N)
sleep 1
state 3 0 0
n=$((T - t0)) ms=$((($(date +%s%N) - s0) / 1000000))
[ "$n" -ge $((ms / 100 - 2)) ] && [ "$n" -le $((ms / 100 + 2)) ] ||
	fail "after the restore the 100 ms timer fired $n times in $ms ms"
kill -USR1 "$pid"
state 3 1 0
touch "$WORK/watched/new"
state 3 1 1
tcmd wake
state 6 1 1
echo "restored python3: its timer fires every 100 ms, the signal, the new file and the eventfd reach its epoll loop"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-

echo ok
