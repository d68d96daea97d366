#!/bin/bash
# Established TCP connections with dump --tcp-established (TCP repair):
# redis-server with a client outside whose connection stays open across
# the dump and the restore (an INCR on the same connection gives the next
# value); a program of the test's with bytes in flight both ways (4 MiB
# it sent that its peer has not read, most still in its own send queue,
# and 100000 bytes its peer sent that it has not read) that arrive after
# the restore byte for byte. Between the dump and the restore a network
# lock (nftables) drops the connections' packets: the peer sees no reset,
# sdump check names the lock, and it is gone after the restore. Then:
# without --tcp-established one line says to add it; dump -R takes the
# connections out of repair mode and removes the lock (the process goes on
# talking); --tcp-close restores them closed (redis takes new clients); a
# stale lock (its image gone) is found and removed by sdump check.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"
command -v redis-server >/dev/null || skip "no redis-server"
command -v nft >/dev/null || skip "no nft"
nft list tables >/dev/null 2>&1 || skip "nft does not work here"

# no lock of pid PID is left
no_lock() {
	! nft list tables 2>/dev/null | grep -q "sdump_lock_$1\$" || fail "$2: the network lock of pid $1 is left"
}

port=$((20000 + RANDOM % 20000))
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
	>"$WORK/redis.log" 2>&1 </dev/null &
TARGET_PIDS+=($!)
rpid=$!
for ((i = 0; i < 200; i++)); do grep -q "Ready to accept" "$WORK/redis.log" 2>/dev/null && break; sleep 0.05; done
cat >"$WORK/cli.py" <<'PYEOF'
import os, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(60)
def cmd(c):
    s.sendall(c)
    return s.recv(100).decode().strip()
print("first", cmd(b"INCR k\r\n"), flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.02)
print("after", cmd(b"INCR k\r\n"), flush=True)
# the connection stays until the test has compared redis's fds
while len(sys.argv) > 3 and not os.path.exists(sys.argv[3]):
    time.sleep(0.02)
PYEOF
python3 "$WORK/cli.py" "$port" "$WORK/go" "$WORK/done" >"$WORK/cli.out" 2>&1 &
cpid=$!
TARGET_PIDS+=($cpid)
for ((i = 0; i < 200; i++)); do grep -q first "$WORK/cli.out" 2>/dev/null && break; sleep 0.05; done
[ "$(cat "$WORK/cli.out")" = "first :1" ] || fail "redis does not answer: $(cat "$WORK/cli.out")"

expect_error "cannot dump pid $rpid: fd [0-9]+ is an IPv4 TCP socket connected \(127\.0\.0\.1:$port to 127\.0\.0\.1:[0-9]+\); --tcp-established saves it \(TCP repair\)" \
	"$SDUMP" dump -t "$rpid" -D "$WORK/r0"
assert_running "$rpid"
no_lock "$rpid" "a refused dump"
echo "refused: $(cat "$WORK/stderr")"

state_record "$rpid" "$WORK/r.state"
"$SDUMP" dump -t "$rpid" -D "$WORK/r1" --tcp-established 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$rpid"
wait_pid_free "$rpid"
nft list tables | grep -q "sdump_lock_$rpid\$" || fail "no network lock after the dump"
"$SDUMP" check >"$WORK/check" 2>&1 || true
grep -q "network-lock .*held: pid $rpid" "$WORK/check" || fail "check does not name the lock: $(cat "$WORK/check")"
# the client talks meanwhile: its packets are dropped, not answered with a reset
touch "$WORK/go"
sleep 1
kill -0 "$cpid" 2>/dev/null || fail "the client's connection ended while redis was dumped: $(cat "$WORK/cli.out")"
rc=0
"$SDUMP" restore -D "$WORK/r1" -d --tcp-established --tcp-close 2>"$WORK/err" || rc=$?
[ "$rc" = 2 ] || fail "restore --tcp-established --tcp-close: exit $rc, not a usage error"
# --tcp-established on restore, as a CRIU user types it
"$SDUMP" restore -D "$WORK/r1" -d --tcp-established 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
no_lock "$rpid" "the restore"
state_check "$rpid" "$WORK/r.state" 'vmas'
touch "$WORK/done"
wait "$cpid" || fail "the client failed: $(cat "$WORK/cli.out")"
[ "$(sed -n 2p "$WORK/cli.out")" = "after :2" ] || fail "INCR on the same connection after the restore: $(cat "$WORK/cli.out")"
echo "redis-server: the client's connection went on across the dump and the restore (INCR gave 2)"

# --tcp-close: the connection comes back closed, new clients are served
rm -f "$WORK/go"
rm -f "$WORK/cli.out" # the last client's "first" must not be taken for this one's
python3 "$WORK/cli.py" "$port" "$WORK/go" >"$WORK/cli.out" 2>&1 &
cpid=$!
TARGET_PIDS+=($cpid)
for ((i = 0; i < 200; i++)); do grep -q first "$WORK/cli.out" 2>/dev/null && break; sleep 0.05; done
"$SDUMP" dump -t "$rpid" -D "$WORK/r2" --tcp-established 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$rpid"
wait_pid_free "$rpid"
"$SDUMP" restore -D "$WORK/r2" -d --tcp-close 2>"$WORK/err" || fail "restore --tcp-close: $(cat "$WORK/err")"
no_lock "$rpid" "a restore with --tcp-close"
touch "$WORK/go"
wait "$cpid" && fail "the client's connection went on after --tcp-close: $(cat "$WORK/cli.out")"
python3 - "$port" <<'PYEOF' || fail "redis does not take a new client after --tcp-close"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(b"INCR k\r\n")
r = s.recv(100)
assert r == b":4\r\n", r
PYEOF
echo "--tcp-close: the client's connection ended, a new one is served"
kill "$rpid"
wait_gone "$rpid"

# bytes in flight both ways
cat >"$WORK/peer.py" <<'PYEOF'
import os, socket, sys, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
l.bind(("127.0.0.1", 0))
l.listen(1)
open(sys.argv[1] + ".port", "w").write(str(l.getsockname()[1]))
c, _ = l.accept()
c.sendall(bytes((i * 7 + i // 251) & 255 for i in range(100000)))
while not os.path.exists(sys.argv[2]):
    time.sleep(0.02)
c.settimeout(60)
want = int(open(sys.argv[2]).read())
got = bytearray()
while len(got) < want:
    b = c.recv(1 << 20)
    if not b:
        break
    got += b
ok = got == bytes((i * 13 + i // 509) & 255 for i in range(want))
open(sys.argv[1], "w").write("ok %d" % len(got) if ok else "bad %d" % len(got))
PYEOF
cat >"$WORK/app.py" <<'PYEOF'
import os, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(open(sys.argv[1]).read())))
s.setblocking(False)
data = bytes((i * 13 + i // 509) & 255 for i in range(4 << 20))
sent = 0
t0 = time.time()
while sent < len(data) and time.time() - t0 < 3:
    try:
        sent += s.send(data[sent:])
    except BlockingIOError:
        time.sleep(0.05)
open(sys.argv[2], "w").write(str(sent))
print("ready", os.getpid(), sent, flush=True)
while not os.path.exists(sys.argv[3]):
    time.sleep(0.02)
s.setblocking(True)
s.settimeout(60)
got = bytearray()
while len(got) < 100000:
    got += s.recv(100000 - len(got))
ok = got == bytes((i * 7 + i // 251) & 255 for i in range(100000))
open(sys.argv[3] + ".res", "w").write("ok" if ok else "bad")
time.sleep(3600)
PYEOF
python3 "$WORK/peer.py" "$WORK/peer.res" "$WORK/sent" >"$WORK/peer.out" 2>&1 &
ppid=$!
TARGET_PIDS+=($ppid)
for ((i = 0; i < 200; i++)); do [ -s "$WORK/peer.res.port" ] && break; sleep 0.05; done
python3 "$WORK/app.py" "$WORK/peer.res.port" "$WORK/sent.tmp" "$WORK/go2" >"$WORK/app.out" 2>&1 </dev/null &
TARGET_PIDS+=($!)
apid=$!
for ((i = 0; i < 200; i++)); do grep -q ready "$WORK/app.out" 2>/dev/null && break; sleep 0.05; done
sent=$(cat "$WORK/sent.tmp")
[ "$sent" -gt 1000000 ] || fail "the program sent only $sent bytes"
# dump -R: the connection leaves repair mode, the lock goes, the program goes on
"$SDUMP" dump -t "$apid" -D "$WORK/a0" --tcp-established -R 2>"$WORK/err" || fail "dump -R: $(cat "$WORK/err")"
assert_running "$apid"
no_lock "$apid" "dump -R"
state_record "$apid" "$WORK/a.state"
"$SDUMP" dump -t "$apid" -D "$WORK/a1" --tcp-established 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$apid"
wait_pid_free "$apid"
"$SDUMP" show -D "$WORK/a1" >"$WORK/show" || fail "show"
"$SDUMP" restore -D "$WORK/a1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
no_lock "$apid" "the restore"
state_check "$apid" "$WORK/a.state" 'vmas'
echo "$sent" >"$WORK/sent"
touch "$WORK/go2"
for ((i = 0; i < 600; i++)); do [ -s "$WORK/peer.res" ] && [ -s "$WORK/go2.res" ] && break; sleep 0.05; done
[ "$(cat "$WORK/peer.res" 2>/dev/null)" = "ok $sent" ] || fail "the peer got: $(cat "$WORK/peer.res" "$WORK/peer.out" 2>/dev/null)"
[ "$(cat "$WORK/go2.res" 2>/dev/null)" = ok ] || fail "the program got: $(cat "$WORK/go2.res" "$WORK/app.out" 2>/dev/null)"
echo "in flight: the $sent bytes the program sent and the 100000 its peer sent arrived after the restore, byte for byte"
kill "$apid"
wait_gone "$apid"
wait "$ppid" 2>/dev/null || true

# a stale lock: its image gone
nft -f - <<'NFTEOF'
table inet sdump_lock_4194303 {
	chain info {
		counter comment "sdump 4194303 image /nonexistent/sdump-image"
	}
}
NFTEOF
"$SDUMP" check >"$WORK/check" 2>"$WORK/check.err" || true
grep -q "stale network lock of pid 4194303" "$WORK/check.err" || fail "check does not say it removed the stale lock: $(cat "$WORK/check.err")"
no_lock 4194303 "check"
echo "a stale lock: removed by sdump check ($(cat "$WORK/check.err"))"
echo ok
