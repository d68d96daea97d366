#!/bin/bash
# Unix socket names across a dump and a restore (skreltarget): sockets
# bound to relative paths (a stream listener with a connection accepted
# and a message queued, a datagram socket of mode 0604) keep their
# relative names (getsockname) and their files; datagrams queued from
# senders that have closed since, bound to an absolute and a relative
# path whose files they left, come again from those names, in order,
# without the files being touched; a live sender's as well. Then a
# socket bound to a relative path whose file is not where the process
# can be seen to look (it changed directory since) is refused with one
# line, the target left running.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

start_target_quiet skreltarget --dir "$WORK"
pid=$TPID
state_record "$pid" "$WORK/before.state"
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
[ -S "$WORK/sub/rel.sock" ] && [ -S "$WORK/gone.sock" ] || fail "a socket file went with the dump"
"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
[ -s "$WORK/err" ] && fail "restore said: $(cat "$WORK/err")"
# fixed by the fidelity work: VmFlags (ac gained and lost; whole VMAs joined otherwise)
state_check "$pid" "$WORK/before.state" 'vmas'
tcmd check
[ "$REPLY" = ok ] || fail "inside the restored target: $REPLY"
[ ! -e "$WORK/tx.sock" ] && [ ! -e "tx.sock" ] || fail "a relative name was bound in the wrong directory"
echo "restored: relative names, files and modes; datagrams from gone senders with their names"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-

# two listeners bound to one path, the first's file put back over the
# second's (zdtm's del_standalone_un): after the restore the path is the
# first's file again, and a client connecting there waits in its backlog
python3 -c '
import os, socket, sys, time
a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); a.bind(sys.argv[1]); a.listen(1)
os.rename(sys.argv[1], sys.argv[1] + ".t")
b = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); b.bind(sys.argv[1]); b.listen(1)
os.rename(sys.argv[1] + ".t", sys.argv[1])
open(sys.argv[2], "w").write("%d %d" % (os.stat("/proc/self/fd/%d" % a.fileno()).st_ino, a.fileno()))
time.sleep(300)
' "$WORK/two.sock" "$WORK/two.ready" </dev/null >/dev/null 2>"$WORK/two.err" &
two=$!
TARGET_PIDS+=("$two")
for ((i = 0; i < 200; i++)); do [ -s "$WORK/two.ready" ] && break; sleep 0.05; done
afd=$(awk '{print $2}' "$WORK/two.ready" 2>/dev/null)
[ -n "$afd" ] || fail "the two listeners did not start: $(cat "$WORK/two.err")"
"$SDUMP" dump -t "$two" -D "$WORK/d3" 2>"$WORK/err" || fail "dump of two listeners: $(cat "$WORK/err")"
wait_gone "$two"
wait_pid_free "$two"
"$SDUMP" restore -D "$WORK/d3" -d 2>"$WORK/err" || fail "restore of two listeners: $(cat "$WORK/err")"
[ -S "$WORK/two.sock" ] || fail "the path of the two listeners is gone after the restore"
ls -a "$WORK" | grep -q '\.s[0-9]' && fail "a file moved aside was left: $(ls -a "$WORK")"
python3 -c '
import socket, sys
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); c.connect(sys.argv[1])
' "$WORK/two.sock" || fail "cannot connect to the path of the two listeners"
ino=$(stat -L -c %i "/proc/$two/fd/$afd")
ss -xl | grep -E " $ino " | grep -q "LISTEN 0 " && fail "the client went to the second listener, whose file was gone"
kill "$two"
echo "two listeners on one path: the path is the first's again"

# zdtm's fifo_upon_unix_socket: a datagram socket's file removed and a
# FIFO made at its path (held open): the FIFO stays, the socket's client
# still sends to it
python3 -c '
import os, socket, sys, time
p, d = sys.argv[1], sys.argv[2]
x = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); x.bind(p)
y = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); y.connect(p)
os.unlink(p); os.mkfifo(p); f = os.open(p, os.O_RDWR)
y.send(b"before")
open(d + "/fifo.ready", "w").write("ready")
while not os.path.exists(d + "/fifo.go"): time.sleep(0.05)
y.send(b"after")
open(d + "/fifo.out", "w").write(repr([x.recv(10), x.recv(10), x.getsockname()]))
' "$WORK/ff.sock" "$WORK" </dev/null >/dev/null 2>"$WORK/fifo.err" &
ff=$!
TARGET_PIDS+=("$ff")
for ((i = 0; i < 200; i++)); do [ -s "$WORK/fifo.ready" ] && break; sleep 0.05; done
[ -s "$WORK/fifo.ready" ] || fail "the FIFO program did not start: $(cat "$WORK/fifo.err")"
fino=$(stat -c %i "$WORK/ff.sock")
"$SDUMP" dump -t "$ff" -D "$WORK/d4" 2>"$WORK/err" || fail "dump of a FIFO upon a socket: $(cat "$WORK/err")"
wait_gone "$ff"
wait_pid_free "$ff"
"$SDUMP" restore -D "$WORK/d4" -d 2>"$WORK/err" || fail "restore of a FIFO upon a socket: $(cat "$WORK/err")"
[ -p "$WORK/ff.sock" ] && [ "$(stat -c %i "$WORK/ff.sock")" = "$fino" ] || fail "the FIFO at the socket's path changed"
touch "$WORK/fifo.go"
for ((i = 0; i < 200; i++)); do [ -s "$WORK/fifo.out" ] && break; sleep 0.05; done
[ "$(cat "$WORK/fifo.out" 2>/dev/null)" = "[b'before', b'after', '$WORK/ff.sock']" ] ||
	fail "the socket under the FIFO got '$(cat "$WORK/fifo.out" 2>/dev/null)'"
ls -a "$WORK" | grep -q 'sdump-\|\.s[0-9]' && fail "a file moved aside was left: $(ls -a "$WORK")"
echo "a FIFO upon a socket's path: kept, the socket still reached by its client"

# a relative path whose file is not in the process's cwd nor a directory it holds
python3 -c '
import os, socket, sys, time
os.chdir(sys.argv[1])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("moved.sock")
s.listen(1)
os.chdir("/")
open(sys.argv[2], "w").write("ready")
time.sleep(300)
' "$WORK/sub" "$WORK/mv.ready" </dev/null >/dev/null 2>&1 &
mv=$!
TARGET_PIDS+=("$mv")
for ((i = 0; i < 200; i++)); do [ -s "$WORK/mv.ready" ] && break; sleep 0.05; done
[ -s "$WORK/mv.ready" ] || fail "the python program did not start"
expect_error "cannot dump pid $mv: fd [0-9]+ is a unix stream socket bound to the relative path 'moved.sock', whose file is neither in its working directory nor in a directory it holds open \(removed, or the process changed directory since the bind\), not supported" \
	"$SDUMP" dump -t "$mv" -D "$WORK/d2"
[ ! -e "$WORK/d2" ] || fail "a refused dump left an image"
assert_running "$mv"
echo "refused: $(cat "$WORK/stderr")"
echo ok
