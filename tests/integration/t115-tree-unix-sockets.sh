#!/bin/bash
# Unix sockets between the members of a process tree across a dump and a
# restore: socktreetarget (socketpairs of the three types split between a
# process and its child with bytes queued both ways, a listener of the
# parent with a connection of the child accepted and one waiting in its
# backlog, a named datagram socket of the child with a datagram queued)
# comes back with every socket connected to the same member, its queue and
# its peer credentials; each member checks itself, and they talk on. Then
# a real program: a python3 server and its client, both children of one
# shell (subprocess over a unix socket path), dumped as one tree in the
# middle of their exchange, go on talking after the restore.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"

start_target_quiet socktreetarget --dir "$WORK"
pid=$TPID
kid=$(cat "/proc/$pid/task/$pid/children")
kid=${kid%% *}
[ -n "$kid" ] || fail "socktreetarget has no child"
TARGET_PIDS+=("$kid")
state_record "$pid" "$WORK/before.state"
state_record "$kid" "$WORK/before.kid.state"
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
wait_pid_free "$kid"
"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
! grep -q "SO_PEERCRED" "$WORK/err" || fail "the restore changed peer credentials: $(cat "$WORK/err")"
state_check "$pid" "$WORK/before.state"
state_check "$kid" "$WORK/before.kid.state"
tcmd check
[ "$REPLY" = ok ] || fail "the restored tree checks its sockets: $REPLY"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-
echo "restored: socketpairs, a listener, its accepted and waiting clients, across two members"

# --- a python3 server and its client, two children of one shell ---
cat >"$WORK/server.py" <<'PYEOF'
import os, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
open(path + ".up", "w").close()
c, _ = s.accept()
f = c.makefile("rwb", buffering=0)
for line in f:
    n = int(line)
    f.write(b"%d\n" % (n * 2))
PYEOF
cat >"$WORK/client.py" <<'PYEOF'
import socket, sys, time
path, log = sys.argv[1], sys.argv[2]
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(path)
f = c.makefile("rwb", buffering=0)
n = 1
while True:
    f.write(b"%d\n" % n)
    got = int(f.readline())
    if got != n * 2:
        open(log, "a").write("bad %d for %d\n" % (got, n))
        sys.exit(1)
    open(log, "a").write("%d\n" % n)
    n += 1
    time.sleep(0.05)
PYEOF
sh -c 'python3 "$1/server.py" "$1/srv.sock" & while [ ! -e "$1/srv.sock.up" ]; do sleep 0.05; done
python3 "$1/client.py" "$1/srv.sock" "$1/client.log" & wait' sh "$WORK" </dev/null >/dev/null 2>"$WORK/py.err" &
sh=$!
TARGET_PIDS+=("$sh")
for ((i = 0; i < 200; i++)); do [ -s "$WORK/client.log" ] && break; sleep 0.05; done
[ -s "$WORK/client.log" ] || fail "the python client did not talk: $(cat "$WORK/py.err")"
kids=$(cat "/proc/$sh/task/$sh/children")
TARGET_PIDS+=($kids)
for p in $sh $kids; do state_record "$p" "$WORK/py.$p.state"; done
"$SDUMP" dump -t "$sh" -D "$WORK/py" 2>"$WORK/err" || fail "dump of the python tree: $(cat "$WORK/err")"
wait_gone "$sh"
for p in $sh $kids; do wait_pid_free "$p"; done
last=$(tail -n1 "$WORK/client.log")
"$SDUMP" restore -D "$WORK/py" -d 2>"$WORK/err" || fail "restore of the python tree: $(cat "$WORK/err")"
for p in $sh $kids; do state_check "$p" "$WORK/py.$p.state"; done
for ((i = 0; i < 200; i++)); do
	[ "$(tail -n1 "$WORK/client.log")" -gt $((last + 5)) ] 2>/dev/null && break
	sleep 0.05
done
[ "$(tail -n1 "$WORK/client.log")" -gt $((last + 5)) ] ||
	fail "the restored client and server do not talk on: $(tail -n3 "$WORK/client.log") $(cat "$WORK/py.err")"
! grep -q bad "$WORK/client.log" || fail "the server answered wrong: $(grep bad "$WORK/client.log")"
kill $sh $kids 2>/dev/null || true
wait_gone "$sh"
echo "python3 server and client over a unix socket: they talk on after the restore (from $last to $(tail -n1 "$WORK/client.log"))"
echo ok
