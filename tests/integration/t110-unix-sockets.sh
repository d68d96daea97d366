#!/bin/bash
# Unix sockets of one process across a dump and a restore (socktarget):
# socketpairs of the three types with bytes queued both ways (a stream's
# 100000 bytes, datagram boundaries and an empty datagram, a seqpacket
# whose writing is shut down), a listener bound to a path with a
# connection accepted and one waiting in its backlog, datagram sockets
# bound to abstract names with datagrams from a named and an unbound
# sender queued, an unbound socket, a socket whose peer closed with bytes
# left, a half shut down, options (buffer sizes, SO_PASSCRED with the
# sender's credentials, SO_PEEK_OFF, SO_RCVTIMEO). statecheck compares
# the fds before and after; the target checks every queue, option and
# connection from inside. Then what a dump refuses with one line, the
# target left running (and listed by check -t): a FIFO in flight
# (SCM_RIGHTS; regular files and pipes in flight are kept: t166), and a socket whose
# peer is outside the process, which --external unix:INODE takes and the
# restore connects to the same path again.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"

start_target_quiet socktarget --dir "$WORK"
pid=$TPID
tfacts "$WORK/f1.json"
sock=$(json_get "$WORK/f1.json" 'd["path"]')
state_record "$pid" "$WORK/before.state"
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
[ -S "$sock" ] || fail "the listener's path $sock is gone after the dump"
"$SDUMP" show -D "$WORK/d1" >"$WORK/show" || fail "show"
[ "$(grep -c ' unix ' "$WORK/show")" = 16 ] || fail "show does not list the sockets: $(cat "$WORK/show")"
"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
[ -s "$WORK/err" ] && fail "restore said: $(cat "$WORK/err")"
assert_threads_running "$pid"
# fixed by the fidelity work: VmFlags (ac gained and lost; whole VMAs joined otherwise)
state_check "$pid" "$WORK/before.state" 'vmas'
tcmd check
[ "$REPLY" = ok ] || fail "inside the restored target: $REPLY"
echo "restored: every queue, option, name and connection as it was"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-

# a FIFO in flight, of a kind not kept
start_target_quiet socktarget --dir "$WORK" --with rights
expect_error "cannot dump pid $TPID: fd [0-9]+ is a unix stream socket with $WORK/target.in in flight in its queue \(SCM_RIGHTS\), which sdump does not save \(regular files and pipes in flight it does\); dump once the program has received it" \
	"$SDUMP" dump -t "$TPID" -D "$WORK/d2"
assert_running "$TPID"
echo "refused: $(cat "$WORK/stderr")"
st=0
"$SDUMP" check -t "$TPID" >"$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q "^  fd [0-9]* is a unix stream socket with $WORK/target.in in flight" "$WORK/out" ||
	fail "check -t does not list the fds in flight: $(cat "$WORK/out")"
assert_running "$TPID"
echo exit >&7
wait_gone "$TPID"
exec 7>&- 8<&-

# a peer outside: a datagram socket of the test's own
python3 - "$WORK/out.sock" "$WORK/out.got" >"$WORK/srv.out" 2>&1 <<'PYEOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
s.settimeout(120)
open(sys.argv[2], "wb").write(s.recv(100))
PYEOF
TARGET_PIDS+=($!)
srv=$!
for ((i = 0; i < 200; i++)); do grep -q ready "$WORK/srv.out" 2>/dev/null && break; sleep 0.05; done
start_target_quiet socktarget --dir "$WORK" --with "outside:$WORK/out.sock"
pid=$TPID
tfacts "$WORK/f3.json"
ofd=$(json_get "$WORK/f3.json" 'd["fds"]["rights"]')
ino=$(stat -L -c %i "/proc/$pid/fd/$ofd")
expect_error "cannot dump pid $pid: fd $ofd is a unix datagram socket connected to a peer outside the process \(socket:\[[0-9]+\], '$WORK/out.sock'\); --external unix:$ino connects it to '$WORK/out.sock' again at restore" \
	"$SDUMP" dump -t "$pid" -D "$WORK/d3"
assert_running "$pid"
echo "refused: $(cat "$WORK/stderr")"
st=0
"$SDUMP" check -t "$pid" >"$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q "^  fd $ofd is a unix datagram socket connected to a peer outside the process" "$WORK/out" ||
	fail "check -t does not list the peer outside: $(cat "$WORK/out")"
state_record "$pid" "$WORK/before3.state"
"$SDUMP" dump -t "$pid" -D "$WORK/d3" --external "unix:$ino" 2>"$WORK/err" || fail "dump --external: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" restore -D "$WORK/d3" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
state_check "$pid" "$WORK/before3.state" 'vmas'
tcmd send-out
[ "$REPLY" = ok ] || fail "send-out: $REPLY"
for ((i = 0; i < 200; i++)); do [ -s "$WORK/out.got" ] && break; sleep 0.05; done
[ "$(cat "$WORK/out.got" 2>/dev/null)" = out ] || fail "the socket outside did not get the datagram"
echo "--external: connected to $WORK/out.sock again, its datagram arrives"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-

# a socketpair between a process and its child, the child dumped alone (its
# peer outside the dump): refused with one line that offers no --external
# (an unbound peer has no name to connect to); t115 dumps the whole tree
command -v python3 >/dev/null || skip "no python3"
python3 -c '
import os, socket, sys, time
a, b = socket.socketpair()
if os.fork() == 0:
    a.close()
    while b.recv(100): pass
    os._exit(0)
b.close()
open(sys.argv[1], "w").write("ready")
while True:
    a.send(b"x"); time.sleep(0.1)
' "$WORK/sp.ready" </dev/null >/dev/null 2>&1 &
sp=$!
TARGET_PIDS+=("$sp")
for ((i = 0; i < 200; i++)); do [ -s "$WORK/sp.ready" ] && break; sleep 0.05; done
[ -s "$WORK/sp.ready" ] || fail "the socketpair program did not start"
spc=$(cat "/proc/$sp/task/$sp/children")
spc=${spc%% *}
[ -n "$spc" ] || fail "the socketpair program has no child"
expect_error "cannot dump pid $spc: fd [0-9]+ is a unix stream socket connected to a peer outside the process \(socket:\[[0-9]+\], unbound\), which a restore cannot connect to again; a socketpair shared with a process outside the dump is not supported \(dump the tree they share\)" \
	"$SDUMP" dump -t "$spc" -D "$WORK/sp"
! grep -q -- "--external" "$WORK/stderr" || fail "an unbound peer is offered --external: $(cat "$WORK/stderr")"
[ ! -e "$WORK/sp" ] || fail "a refused dump left an image"
assert_running "$sp"
assert_running "$spc"
echo "a socketpair shared with a parent outside the dump: refused with one line, both left running"

# --- a client shut down for reading before it connected: its peer mirrors nothing; ---
# --- a datagram socket a closed sender had connected to (its state ESTABLISHED) ---
cat >"$WORK/preshut.py" <<'PYEOF'
import os, socket, sys
path = sys.argv[1]
l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
l.bind(path)
l.listen(1)
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.shutdown(socket.SHUT_RD)
c.connect(path)
a, _ = l.accept()
# a datagram socket a sender connected to, sent one datagram and closed
d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
d.bind(path + ".dg")
if os.fork() == 0:
    x = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    x.connect(path + ".dg")
    x.send(b"dg")
    os._exit(0)
os.wait()
print("ready", flush=True)
sys.stdin.readline()
if d.recv(8) != b"dg":
    print("bad: the datagram of the closed sender", flush=True)
c.send(b"x")
got = a.recv(1)
try:
    a.send(b"y")
    print("bad: the peer of a reader shut down could send", flush=True)
except BrokenPipeError:
    print("ok" if got == b"x" else "bad: %r" % got, flush=True)
PYEOF
rm -f "$WORK/ps.in"
mkfifo "$WORK/ps.in"
python3 "$WORK/preshut.py" "$WORK/preshut.sock" <"$WORK/ps.in" >"$WORK/ps.out" 2>&1 &
ps=$!
TARGET_PIDS+=("$ps")
exec 7>"$WORK/ps.in"
for ((i = 0; i < 200; i++)); do grep -q ready "$WORK/ps.out" 2>/dev/null && break; sleep 0.05; done
state_record "$ps" "$WORK/ps.state"
"$SDUMP" dump -t "$ps" -D "$WORK/ps" 2>"$WORK/err" || fail "dump of a client shut down before its connect: $(cat "$WORK/err")"
wait "$ps" 2>/dev/null || true
wait_pid_free "$ps"
"$SDUMP" restore -D "$WORK/ps" -d 2>"$WORK/err" || fail "restore of a client shut down before its connect: $(cat "$WORK/err")"
state_check "$ps" "$WORK/ps.state"
echo go >&7
for ((i = 0; i < 100; i++)); do [ "$(wc -l <"$WORK/ps.out")" -ge 2 ] && break; sleep 0.05; done
[ "$(tail -n 1 "$WORK/ps.out")" = ok ] || fail "the client shut down before its connect: $(cat "$WORK/ps.out")"
exec 7>&-
wait_gone "$ps"
echo "restored: a client shut down before its connect, its peer not; a datagram socket a closed sender connected to"
echo ok
