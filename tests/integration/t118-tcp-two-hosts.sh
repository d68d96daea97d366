#!/bin/bash
# TCP connections between two hosts across a dump and a restore: two
# network namespaces joined by a veth pair (made here), a peer in one, the
# program dumped in the other, with connections over IPv4 and IPv6 in every
# state a program can hold one in: established with bytes in flight both
# ways (sent, not read yet); half closed by the program (FIN_WAIT2), by
# the peer (CLOSE_WAIT), by the program while the peer's window is full
# (FIN_WAIT1, its FIN not sent yet), by both (LAST_ACK, ours not sent yet);
# and a connection that ended (both FINs: reads give end of file, writes
# EPIPE); and UDP sockets with datagrams from the peer queued (IPv4, IPv6,
# IPv4 on an IPv6 socket), sent again from the peer's
# addresses at restore. Without --tcp-established one line says to add it. With it,
# the network lock holds between the dump and the restore: the peer keeps
# sending, its segments are dropped, nothing resets (its sockets stay
# where they were, no reset counted on either side). After the restore
# each connection goes on byte for byte in the directions still open, and
# ends as it would have. Then a listener with a connection from the peer
# waiting in its backlog is refused with one line (connections not
# accepted yet are not kept: the peer's would be reset). A stale lock (its
# image gone) is removed by the next dump --tcp-established and by the
# restore, each saying so.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"
command -v ip >/dev/null || skip "no ip (iproute2)"
command -v nft >/dev/null || skip "no nft"

A=sdtA$$
B=sdtB$$
n=$(($$ % 200 + 20))
ip netns add "$A" || skip "cannot make a network namespace"
NETNS_CLEAN=("ip netns del $A")
ip netns add "$B" || skip "cannot make a network namespace"
NETNS_CLEAN+=("ip netns del $B")
trap 'for c in "${NETNS_CLEAN[@]}"; do $c 2>/dev/null || true; done; cleanup' EXIT
ip -n "$A" link add vt$$a type veth peer name vt$$b netns "$B" || skip "cannot make a veth pair"
for ns in "$A" "$B"; do ip -n "$ns" link set lo up; done
ip -n "$A" addr add "10.214.$n.1/24" dev vt$$a
ip -n "$A" addr add "fd5d:$n::1/64" dev vt$$a nodad
ip -n "$B" addr add "10.214.$n.2/24" dev vt$$b
ip -n "$B" addr add "fd5d:$n::2/64" dev vt$$b nodad
ip -n "$A" link set vt$$a up
ip -n "$B" link set vt$$b up
ip netns exec "$B" nft list tables >/dev/null 2>&1 || skip "nft does not work here"
PEER4=10.214.$n.1
PEER6=fd5d:$n::1
inB() { ip netns exec "$B" "$@"; }
# the resets a namespace counted: established connections reset (EstabResets:
# also a socket in repair mode closed, as the dump's end does), RSTs sent
resets() { ip netns exec "$1" awk -v f="${2:-}" '/^Tcp:/ { if (h) print (f ? $9 " " : "") $15; h = 1 }' /proc/net/snmp; }

cat >"$WORK/common.py" <<'PYEOF'
import os, socket, time
W = os.environ["W"]
def pat(n, k):
    return bytes((i * k + i // 251) & 255 for i in range(n))
def wait_file(name):
    while not os.path.exists(os.path.join(W, name)):
        time.sleep(0.02)
def put(name, text):
    with open(os.path.join(W, name + ".tmp"), "w") as f:
        f.write(str(text))
    os.rename(os.path.join(W, name + ".tmp"), os.path.join(W, name))
def get(name):
    return open(os.path.join(W, name)).read()
def recv_all(s, want=None):
    got = bytearray()
    while want is None or len(got) < want:
        b = s.recv(1 << 16)
        if not b:
            break
        got += b
    return bytes(got)
def state(s):
    o = [s.getsockopt(*a) for a in [(socket.SOL_SOCKET, socket.SO_SNDBUF), (socket.SOL_SOCKET, socket.SO_RCVBUF),
                                    (socket.IPPROTO_TCP, socket.TCP_NODELAY), (socket.SOL_SOCKET, socket.SO_KEEPALIVE)]]
    return "%d" % s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] + "".join("/%d" % v for v in o)
PYEOF

# the peer: one listener per connection, each with its part
cat >"$WORK/peer.py" <<'PYEOF'
import sys, threading, traceback
from common import *
ip4, ip6, base = sys.argv[1], sys.argv[2], int(sys.argv[3])
res = {}
def run(k, fn, fam, ip, rcvbuf=0):
    l = socket.socket(fam)
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        l.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    l.bind((ip, base + k))
    l.listen(1)
    put("listen%d" % k, 1)
    c, _ = l.accept()
    c.settimeout(60)
    try:
        res[k] = fn(c)
    except Exception:
        res[k] = "error " + traceback.format_exc().replace("\n", " | ")
# 1, 2: established, bytes both ways; the peer sends more while the program is dumped
def est(k, n, extra):
    def fn(c):
        c.sendall(pat(n, 7))
        wait_file("dumped")
        if extra:
            c.sendall(pat(extra, 11))
        wait_file("go")
        want = int(get("sent%d" % k))
        got = recv_all(c, want)
        return "ok" if got == pat(want, 13) else "bad %d" % len(got)
    return fn
# 3: the program shut down writing after 5000 bytes: the peer sends on, then closes
def p3(c):
    got = recv_all(c)
    c.sendall(pat(50000, 7))
    wait_file("go")
    c.sendall(pat(1000, 11))
    c.close()
    return "ok" if got == pat(5000, 13) else "bad %d" % len(got)
# 4: the peer shuts down writing after 40000 bytes: the program sends later
def p4(c):
    c.sendall(pat(40000, 7))
    c.shutdown(socket.SHUT_WR)
    wait_file("go")
    got = recv_all(c)
    return "ok" if got == pat(20000, 13) else "bad %d" % len(got)
# 5: a small window, not read until after the restore: the program's FIN waits behind its bytes
def p5(c):
    wait_file("go")
    want = int(get("sent5"))
    got = recv_all(c)
    return "ok" if got == pat(want, 13) else "bad %d of %d" % (len(got), want)
# 6: the peer shuts down, then the program, its window full: LAST_ACK
def p6(c):
    c.sendall(pat(3000, 7))
    c.shutdown(socket.SHUT_WR)
    wait_file("go")
    want = int(get("sent6"))
    got = recv_all(c)
    return "ok" if got == pat(want, 13) else "bad %d of %d" % (len(got), want)
# 7: both shut down, everything read: ended
def p7(c):
    c.shutdown(socket.SHUT_WR)
    got = recv_all(c)
    return "ok" if got == pat(100, 13) else "bad %d" % len(got)
# 8, 9, 10: the program's FIN (and the bytes before it) lost on the way (the
# test's firewall in the peer's host), not acked: FIN_WAIT1, CLOSING, LAST_ACK
def p8(c):
    wait_file("go")
    got = recv_all(c)
    return "ok" if got == pat(2000, 13) else "bad %d" % len(got)
def p9(c):
    wait_file("shut9")
    c.shutdown(socket.SHUT_WR)
    wait_file("go")
    got = recv_all(c)
    return "ok" if got == b"" else "bad %d" % len(got)
def p10(c):
    c.shutdown(socket.SHUT_WR)
    wait_file("go")
    got = recv_all(c)
    return "ok" if got == pat(500, 13) else "bad %d" % len(got)
# datagrams to the program's UDP sockets, from two of the peer's
def udp():
    # on one CPU: a datagram sent from another CPU may overtake the one
    # before it, whose delivery waits in the first CPU's backlog under load
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    wait_file("udp")
    # once the program's IPv4 and IPv6 connections are made: the first
    # datagram to an address waits for its neighbour (ARP, NDP), and one of
    # the other family overtook it (u4 before u3, in the program's own queue)
    wait_file("sent2")
    u4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u4.bind((ip4, base + 22))
    u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    u6.bind((ip6, base + 23))
    u4.sendto(b"u1", (get("udp").split()[0], base + 20))
    u4.sendto(b"u2" * 700, (get("udp").split()[0], base + 20))
    u6.sendto(b"u3", (get("udp").split()[1], base + 21))
    u4.sendto(b"u4", (get("udp").split()[0], base + 21))
    time.sleep(0.2)
    put("udp.sent", 1)
    res[0] = "ok"
big = 100000 if not os.environ.get("SDUMP_QUICK") else 50000
ts = [threading.Thread(target=udp)] + [threading.Thread(target=run, args=a) for a in [
    (1, est(1, big, 1000), socket.AF_INET, ip4), (2, est(2, 30000, 0), socket.AF_INET6, ip6),
    (3, p3, socket.AF_INET, ip4), (4, p4, socket.AF_INET6, ip6),
    (5, p5, socket.AF_INET, ip4, 4096), (6, p6, socket.AF_INET6, ip6, 4096), (7, p7, socket.AF_INET, ip4),
    (8, p8, socket.AF_INET, ip4), (9, p9, socket.AF_INET6, ip6), (10, p10, socket.AF_INET, ip4),
    (11, est(11, 20000, 500), socket.AF_INET, ip4)]]
for t in ts:
    t.start()
for t in ts:
    t.join()
put("peer.res", " ".join("%d:%s" % (k, res.get(k)) for k in sorted(res) if k))
PYEOF

# the program dumped: it sets the connections up, then waits for "go"
cat >"$WORK/app.py" <<'PYEOF'
import sys, errno
from common import *
ip4, ip6, base = sys.argv[1], sys.argv[2], int(sys.argv[3])
big = 100000 if not os.environ.get("SDUMP_QUICK") else 50000
def conn(k, fam, ip):
    wait_file("listen%d" % k)
    return socket.create_connection((ip, base + k))
def fill(s, data):
    s.setblocking(False)
    sent, t0 = 0, time.time()
    while sent < len(data) and time.time() - t0 < 2:
        try:
            sent += s.send(data[sent:sent + 65536])
        except BlockingIOError:
            time.sleep(0.02)
    s.setblocking(True)
    return sent
# UDP sockets on the wildcard addresses (the IPv6 one takes IPv4 too)
ua = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ua.bind(("0.0.0.0", base + 20))
ub = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
ub.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
ub.bind(("::", base + 21))
put("udp", "%s %s" % (sys.argv[4], sys.argv[5]))
c = {}
for k, fam, ip in [(1, socket.AF_INET, ip4), (2, socket.AF_INET6, ip6), (3, socket.AF_INET, ip4),
                   (4, socket.AF_INET6, ip6), (5, socket.AF_INET, ip4), (6, socket.AF_INET6, ip6),
                   (7, socket.AF_INET, ip4), (8, socket.AF_INET, ip4), (9, socket.AF_INET6, ip6),
                   (10, socket.AF_INET, ip4), (11, socket.AF_INET6, "::ffff:" + ip4)]:
    c[k] = conn(k, fam, ip)
put("sent1", fill(c[1], pat(1 << 20, 13)))
put("sent2", fill(c[2], pat(20000, 13)))
put("sent11", fill(c[11], pat(10000, 13)))
c[3].sendall(pat(5000, 13))
c[3].shutdown(socket.SHUT_WR)
put("sent5", fill(c[5], pat(4 << 20, 13)))
c[5].shutdown(socket.SHUT_WR)
recv_all(c[6], 3000)
while c[6].recv(1) != b"":
    pass
put("sent6", fill(c[6], pat(4 << 20, 13)))
c[6].shutdown(socket.SHUT_WR)
c[7].sendall(pat(100, 13))
c[7].shutdown(socket.SHUT_WR)
assert recv_all(c[7]) == b""
c[1].setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
c[2].setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
c[4].setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 30000)
wait_file("fw")
wait_file("udp.sent")
c[8].sendall(pat(2000, 13))
c[8].shutdown(socket.SHUT_WR)
c[9].shutdown(socket.SHUT_WR)
put("shut9", 1)
recv_all(c[10])
c[10].sendall(pat(500, 13))
c[10].shutdown(socket.SHUT_WR)
time.sleep(0.5)
put("states", " ".join("%d:%s" % (k, state(c[k])) for k in sorted(c)))
print("ready", os.getpid(), flush=True)
# restored: the states again, before the peer moves
wait_file("restored")
put("states2", " ".join("%d:%s" % (k, state(c[k])) for k in sorted(c)))
wait_file("go")
res = {}
for s in c.values():
    s.settimeout(60)
def chk(k, got, want):
    res[k] = "ok" if got == want else "bad %d" % len(got)
chk(1, recv_all(c[1], big + 1000), pat(big, 7) + pat(1000, 11))
chk(2, recv_all(c[2], 30000), pat(30000, 7))
chk(11, recv_all(c[11], 20500), pat(20000, 7) + pat(500, 11))
def drain(u, n):
    u.settimeout(5)
    got = []
    try:
        while len(got) < n:
            d, a = u.recvfrom(2000)
            got.append((d, a[:2]))
    except socket.timeout:
        pass
    return got
got = drain(ua, 2) + drain(ub, 2)
want = [(b"u1", (ip4, base + 22)), (b"u2" * 700, (ip4, base + 22)), (b"u3", (ip6, base + 23)), (b"u4", ("::ffff:" + ip4, base + 22))]
res["udp"] = "ok" if got == want else "bad %r" % got
got = recv_all(c[3])
chk(3, got, pat(50000, 7) + pat(1000, 11))
try:
    c[3].send(b"x")
    res[3] += " but wrote"
except BrokenPipeError:
    pass
chk(4, recv_all(c[4]), pat(40000, 7))
c[4].sendall(pat(20000, 13))
c[4].close()
chk(7, recv_all(c[7]), b"")
try:
    c[7].send(b"x")
    res[7] += " but wrote"
except BrokenPipeError:
    pass
for k in (1, 2, 3, 5, 6, 8, 9, 10, 11):
    c[k].close()
put("app.res", " ".join("%s:%s" % (k, res[k]) for k in [1, 2, 3, 4, 7, 11, "udp"]))
time.sleep(3600)
PYEOF

port=$((20000 + RANDOM % 20000))
export W="$WORK"
export PYTHONPATH="$WORK"
ip netns exec "$A" python3 "$WORK/peer.py" "$PEER4" "$PEER6" "$port" >"$WORK/peer.out" 2>&1 &
TARGET_PIDS+=($!)
ppid=$!
# the program's FINs on connections 8 to 10 lost in the peer's host, until after the restore
ip netns exec "$A" nft -f - <<NFTEOF || fail "nft in the peer's namespace"
table inet t118 {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport { $((port + 8)), $((port + 9)), $((port + 10)) } tcp flags & fin == fin drop
	}
}
NFTEOF
touch "$WORK/fw"
ip netns exec "$B" python3 "$WORK/app.py" "$PEER4" "$PEER6" "$port" "10.214.$n.2" "fd5d:$n::2" >"$WORK/app.out" 2>&1 </dev/null &
apid=$!
TARGET_PIDS+=($apid)
for ((i = 0; i < 400; i++)); do grep -q ready "$WORK/app.out" 2>/dev/null && break; sleep 0.05; done
grep -q ready "$WORK/app.out" || fail "the program did not start: $(cat "$WORK/app.out" "$WORK/peer.out")"
# ESTABLISHED 1, FIN_WAIT1 4, FIN_WAIT2 5, CLOSE 7, CLOSE_WAIT 8, LAST_ACK 9, CLOSING 11
[ "$(sed 's|/[0-9/]*||g' "$WORK/states")" = "1:1 2:1 3:5 4:8 5:4 6:9 7:7 8:4 9:11 10:9 11:1" ] ||
	fail "the connections are not in the states the test wants: $(cat "$WORK/states")"

expect_error "cannot dump pid $apid: fd [0-9]+ is an IPv4 TCP socket connected \($PEER4|10\.214.*--tcp-established saves it" \
	inB "$SDUMP" dump -t "$apid" -D "$WORK/d0"
assert_running "$apid"
echo "refused: $(cat "$WORK/stderr")"

# stale_lock PID: a lock a dump that died left (its image gone), which the next command removes
stale_lock() {
	inB nft -f - <<NFTEOF
table inet sdump_lock_$1 {
	chain info {
		counter comment "sdump $1 image $WORK/gone-$1"
	}
}
NFTEOF
}
stale_gone() {
	grep -q "a stale network lock of pid $1 .* removed" "$WORK/err" || fail "$2 does not say it removed the stale lock: $(cat "$WORK/err")"
	! inB nft list tables | grep -q "sdump_lock_$1\$" || fail "$2 left the stale lock"
}
# dump -R: the connections out of repair mode, in the states they were in
tcp_states() { inB ss -tanH "( dport >= :$((port + 1)) and dport <= :$((port + 11)) )" | awk '{ print $1, $5 }' | sort; }
tcp_states >"$WORK/ss.before"
inB "$SDUMP" dump -t "$apid" -D "$WORK/d0r" --tcp-established -R 2>"$WORK/err" || fail "dump -R: $(cat "$WORK/err")"
assert_running "$apid"
! inB nft list tables | grep -q "sdump_lock_$apid\$" || fail "dump -R left the network lock"
tcp_states >"$WORK/ss.after"
cmp -s "$WORK/ss.before" "$WORK/ss.after" || fail "dump -R changed the connections: $(cat "$WORK/ss.before") now $(cat "$WORK/ss.after")"
[ "$(wc -l <"$WORK/ss.after")" = 10 ] || fail "ss lists $(cat "$WORK/ss.after")"
stale_lock 4194301
state_record "$apid" "$WORK/a.state"
resA=$(resets "$A" 1)
resB=$(resets "$B")
inB "$SDUMP" dump -t "$apid" -D "$WORK/d1" --tcp-established 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
stale_gone 4194301 "the dump"
wait_gone "$apid"
wait_pid_free "$apid"
inB nft list tables | grep -q "sdump_lock_$apid\$" || fail "no network lock after the dump: $(inB nft list tables) $(cat "$WORK/err")"
# the peer sends meanwhile: its segments are dropped, not answered
touch "$WORK/dumped"
sleep 1.5
for k in 1 11; do
	ss=$(ip netns exec "$A" ss -tn state established "( sport = :$((port + k)) )" | tail -n +2)
	[ -n "$ss" ] || fail "the peer's connection $k left ESTABLISHED while the program was dumped: $(ip netns exec "$A" ss -tan)"
	ip netns exec "$A" ss -tin "( sport = :$((port + k)) )" | grep -q "unacked" ||
		fail "the peer's bytes sent on connection $k during the lock were acked: $(ip netns exec "$A" ss -tin)"
done
stale_lock 4194302
inB "$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
stale_gone 4194302 "the restore"
[ "$(wc -l <"$WORK/err")" = 1 ] || fail "restore said: $(cat "$WORK/err")"
! inB nft list tables | grep -q "sdump_lock_$apid\$" || fail "the network lock is left after the restore"
state_check "$apid" "$WORK/a.state" 'vmas'
touch "$WORK/restored"
for ((i = 0; i < 400; i++)); do [ -s "$WORK/states2" ] && break; sleep 0.05; done
[ "$(cat "$WORK/states2" 2>/dev/null)" = "$(cat "$WORK/states")" ] ||
	fail "the states and options after the restore: $(cat "$WORK/states2" "$WORK/app.out" 2>/dev/null), before: $(cat "$WORK/states")"
ip netns exec "$A" nft delete table inet t118
touch "$WORK/go"
for ((i = 0; i < 1200; i++)); do [ -s "$WORK/peer.res" ] && [ -s "$WORK/app.res" ] && break; sleep 0.05; done
[ "$(cat "$WORK/app.res" 2>/dev/null)" = "1:ok 2:ok 3:ok 4:ok 7:ok 11:ok udp:ok" ] ||
	fail "the program after the restore: $(cat "$WORK/app.res" "$WORK/app.out" 2>/dev/null)"
[ "$(cat "$WORK/peer.res" 2>/dev/null)" = "1:ok 2:ok 3:ok 4:ok 5:ok 6:ok 7:ok 8:ok 9:ok 10:ok 11:ok" ] ||
	fail "the peer after the restore: $(cat "$WORK/peer.res" "$WORK/peer.out" 2>/dev/null)"
[ "$(resets "$A" 1)" = "$resA" ] || fail "the peer's host sent or counted resets: $resA, now $(resets "$A" 1)"
[ "$(resets "$B")" = "$resB" ] || fail "the program's host sent resets: $resB, now $(resets "$B")"
echo "two hosts: 11 connections (IPv4, IPv6, IPv4 on an IPv6 socket; established, FIN_WAIT1, FIN_WAIT2, CLOSE_WAIT, LAST_ACK, CLOSING, ended; their options) went on byte for byte, no reset"
kill "$apid"
wait_gone "$apid"
wait "$ppid" 2>/dev/null || true

# a listener with a connection from the other host waiting in its backlog
ip netns exec "$B" python3 -c '
import socket, sys, time
l = socket.socket()
l.bind(("0.0.0.0", int(sys.argv[1])))
l.listen(4)
print("ready", flush=True)
time.sleep(3600)' "$port" >"$WORK/lst.out" 2>&1 </dev/null &
lpid=$!
TARGET_PIDS+=($lpid)
for ((i = 0; i < 200; i++)); do grep -q ready "$WORK/lst.out" 2>/dev/null && break; sleep 0.05; done
ip netns exec "$A" python3 -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
time.sleep(3600)' "10.214.$n.2" "$port" &
TARGET_PIDS+=($!)
for ((i = 0; i < 200; i++)); do inB ss -tn state established | grep -q ":$port " && break; sleep 0.05; done
expect_error "cannot dump pid $lpid: fd [0-9]+ is an IPv4 TCP socket listening on 0\.0\.0\.0:$port with 1 connections not accepted yet" \
	inB "$SDUMP" dump -t "$lpid" -D "$WORK/d2" --tcp-established
assert_running "$lpid"
echo "a backlog: $(cat "$WORK/stderr")"
echo ok
