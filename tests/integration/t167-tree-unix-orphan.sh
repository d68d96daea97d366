#!/bin/bash
# zdtm's deleted_unix_sock as a tree: a parent accepts its child's
# connection, then closes its listener and removes the socket's file;
# the tree is dumped and restored, the connection accepted again from a
# listener made for the moment in the parent (the child's SO_PEERCRED
# names it, as before), then the child writes 1000 bytes that the parent
# reads, and the file stays removed.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"

python3 -c '
import os, socket, sys, time
path, ready, go, out = sys.argv[1:5]
l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); l.bind(path); l.listen(1)
pid = os.fork()
if pid == 0:
    l.close()
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); c.connect(path)
    while not os.path.exists(go): time.sleep(0.05)
    c.sendall(bytes(range(250)) * 4); c.close(); os._exit(0)
a, _ = l.accept(); l.close(); os.unlink(path)
cred = a.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
open(ready, "w").write("ready")
while not os.path.exists(go): time.sleep(0.05)
data = b""
while True:
    b = a.recv(4096)
    if not b: break
    data += b
same = a.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12) == cred
open(out, "w").write("%d %s %s %s" % (len(data), data == bytes(range(250)) * 4, a.getsockname(), same))
os.waitpid(pid, 0)
' "$WORK/o.sock" "$WORK/ready" "$WORK/go" "$WORK/out" </dev/null >/dev/null 2>"$WORK/py.err" &
pid=$!
TARGET_PIDS+=("$pid")
for ((i = 0; i < 200; i++)); do [ -s "$WORK/ready" ] && break; sleep 0.05; done
[ -s "$WORK/ready" ] || fail "the python tree did not start: $(cat "$WORK/py.err")"
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
[ -s "$WORK/err" ] && fail "restore said: $(cat "$WORK/err")"
[ -e "$WORK/o.sock" ] && fail "the removed socket file is back"
touch "$WORK/go"
for ((i = 0; i < 200; i++)); do [ -s "$WORK/out" ] && break; sleep 0.05; done
[ "$(cat "$WORK/out" 2>/dev/null)" = "1000 True $WORK/o.sock True" ] ||
	fail "the parent read '$(cat "$WORK/out" 2>/dev/null)'"
ls -a "$WORK" | grep -q 'sdump-' && fail "a file moved aside was left: $(ls -a "$WORK")"
echo "restored: the connection of a closed listener, between the members of a tree"
echo ok
