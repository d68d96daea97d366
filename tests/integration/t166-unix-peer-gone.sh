#!/bin/bash
# Unix sockets whose other side has gone, across a dump and a restore
# (skgonetarget): a named datagram socket whose named peer has closed (its
# datagram from the peer's name, getpeername, ECONNREFUSED on a send), a
# connection accepted from a listener it keeps whose client wrote and
# closed, connections accepted from listeners the process closed since
# (the file removed, its client kept; the file left, the client closed).
# The target checks every name, byte and end from inside; a file left
# by a closed listener is the same file after the restore. Then files in
# flight (SCM_RIGHTS) kept and refused.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

start_target_quiet skgonetarget --dir "$WORK"
pid=$TPID
state_record "$pid" "$WORK/before.state"
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
[ -s "$WORK/err" ] && fail "restore said: $(cat "$WORK/err")"
# fixed by the fidelity work: VmFlags (ac gained and lost; whole VMAs joined otherwise)
state_check "$pid" "$WORK/before.state" 'vmas'
tcmd check
[ "$REPLY" = ok ] || fail "inside the restored target: $REPLY"
ls -a "$WORK" | grep -q 'sdump-' && fail "a file moved aside was left: $(ls -a "$WORK")"
echo "restored: peers closed, listeners closed, names, bytes and ends as they were"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-

# files in flight (SCM_RIGHTS, zdtm's scm00, scm03): both ends of a pipe
# holding bytes, in two datagrams, the program's own ends closed; a
# regular file at offset 4 with the pipe's write end in one message; a
# file on a stream followed by bytes without one; received after the
# restore with the same boundaries, bytes, offset and end of file
command -v python3 >/dev/null || skip "no python3"
mkdir "$WORK/r"
python3 -c '
import os, socket, sys, time
d = sys.argv[1]
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
r, w = os.pipe()
os.write(w, b"inpipe")
f = open(d + "/file", "w+b"); f.write(b"0123456789"); f.flush(); f.seek(4)
socket.send_fds(a, [b"one"], [r])
socket.send_fds(a, [b"two"], [w, f.fileno()])
os.close(r); os.close(w); f.close()
sa, sb = socket.socketpair()
socket.send_fds(sa, [b"three"], [os.open(d + "/file", os.O_RDONLY)])
sa.send(b"plain")
open(d + "/ready", "w").write("ready")
while not os.path.exists(d + "/go"): time.sleep(0.05)
m1, f1, _, _ = socket.recv_fds(b, 100, 4)
m2, f2, _, _ = socket.recv_fds(b, 100, 4)
m3, f3, _, _ = socket.recv_fds(sb, 100, 4)
rest = sb.recv(100)
os.close(f2[0])
res = [m1, len(f1), m2, len(f2), m3, len(f3), rest, os.read(f1[0], 100), os.lseek(f2[1], 0, os.SEEK_CUR),
       os.read(f2[1], 100), os.read(f3[0], 100), os.read(f1[0], 100)]
open(d + "/out", "w").write(repr(res))
' "$WORK/r" </dev/null >/dev/null 2>"$WORK/r.err" &
scm=$!
TARGET_PIDS+=("$scm")
for ((i = 0; i < 200; i++)); do [ -s "$WORK/r/ready" ] && break; sleep 0.05; done
[ -s "$WORK/r/ready" ] || fail "the python program did not start: $(cat "$WORK/r.err")"
"$SDUMP" dump -t "$scm" -D "$WORK/d2" 2>"$WORK/err" || fail "dump with files in flight: $(cat "$WORK/err")"
wait_gone "$scm"
wait_pid_free "$scm"
"$SDUMP" restore -D "$WORK/d2" -d 2>"$WORK/err" || fail "restore with files in flight: $(cat "$WORK/err")"
[ -s "$WORK/err" ] && fail "restore said: $(cat "$WORK/err")"
touch "$WORK/r/go"
for ((i = 0; i < 200; i++)); do [ -s "$WORK/r/out" ] && break; sleep 0.05; done
want="[b'one', 1, b'two', 2, b'three', 1, b'plain', b'inpipe', 4, b'456789', b'0123456789', b'']"
[ "$(cat "$WORK/r/out" 2>/dev/null)" = "$want" ] ||
	fail "received after the restore: '$(cat "$WORK/r/out" 2>/dev/null)', not '$want' ($(cat "$WORK/r.err"))"
echo "files in flight: received again with their boundaries, bytes and offsets"

# a pipe end in flight whose other end the process holds: refused, left running
python3 -c '
import os, socket, sys, time
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
r, w = os.pipe()
socket.send_fds(a, [b"x"], [r])
open(sys.argv[1], "w").write("ready")
time.sleep(300)
' "$WORK/held.ready" </dev/null >/dev/null 2>&1 &
held=$!
TARGET_PIDS+=("$held")
for ((i = 0; i < 200; i++)); do [ -s "$WORK/held.ready" ] && break; sleep 0.05; done
expect_error "cannot dump pid $held: fd [0-9]+ is a unix datagram socket with the read end of pipe:\[[0-9]+\] in flight in its queue \(SCM_RIGHTS\), whose other end a process holds, not supported yet; dump once the program has received it" \
	"$SDUMP" dump -t "$held" -D "$WORK/d3"
assert_running "$held"
echo "refused: $(cat "$WORK/stderr")"
echo ok
