#!/bin/bash
# An established TCP connection to a third host survives a migration
# (migrate --tcp-established). Three namespaces besides ours: the
# destination (mig_netns), and a switch, a bridge holding the peer's
# address, to which our side and the destination's are each joined by a
# veth pair. The program's address is ours, and the destination has the
# same address (and MAC address) on a port of the switch that is down:
# what a user moving a service address does. The program and the peer
# each send a numbered byte stream and check the other's, byte by byte,
# all the time. The program moves; once the destination runs it, the test
# moves the address over (our port of the switch down, the destination's
# up). The network lock drops the connection's packets here from the
# freeze on and still after (nothing here answers the peer with a reset),
# and the connection goes on from the destination: no byte lost, none out
# of order, no reset on either side.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
export TMPDIR=$WORK
command -v python3 >/dev/null || skip "needs python3"
command -v nft >/dev/null || skip "needs nft"
command -v nstat >/dev/null || skip "needs nstat (iproute2)"
mig_netns
PORT=$((7900 + $$ % 90))
SW=sdsw$$
n=$(($$ % 200 + 20))
SVC=10.216.$n.10
PEER=10.216.$n.1
SPORT=$((8100 + $$ % 900))
ip netns add "$SW" || skip "cannot make a network namespace"
MIG_CLEANUP+=("ip netns del $SW")
ip -n "$SW" link add br0 type bridge
ip -n "$SW" link set lo up
ip -n "$SW" addr add "$PEER/24" dev br0
ip -n "$SW" link set br0 up
# ours: sdc$$h here, sdc$$a on the switch
ip link add "sdc$$h" type veth peer name "sdc$$a" netns "$SW" || skip "cannot make a veth pair"
MIG_CLEANUP+=("ip link del sdc$$h")
ip addr add "$SVC/24" dev "sdc$$h"
ip link set "sdc$$h" up
ip -n "$SW" link set "sdc$$a" master br0 up
# the destination's: sdc$$d there, with our MAC and address, sdc$$b on the switch, down
mac=$(cat "/sys/class/net/sdc$$h/address")
ip -n "$SW" link add "sdc$$b" type veth peer name "sdc$$d" netns "$MIG_NS"
ip -n "$MIG_NS" link set "sdc$$d" address "$mac"
ip -n "$MIG_NS" addr add "$SVC/24" dev "sdc$$d"
ip -n "$MIG_NS" link set "sdc$$d" up
ip -n "$SW" link set "sdc$$b" master br0
# the switch forwards between its ports at once (no learning delay, no STP)
ip -n "$SW" link set br0 type bridge forward_delay 0 stp_state 0 2>/dev/null || true

# on any end: the program's copies, wherever they run (a failed test leaves the destination's)
end_copies() {
	local p
	for p in $(pgrep -x python3); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF "$WORK/stream.py" && kill -KILL "$p"
	done
	return 0
}
MIG_CLEANUP+=(end_copies)

cat >"$WORK/stream.py" <<'PYEOF'
# stream.py STATUS connect|listen ADDR PORT [SOURCE]: a numbered byte stream
# each way on one TCP connection, every byte received checked
import os, socket, sys, time
st, mode, addr, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if mode == "listen":
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((addr, port))
    l.listen(1)
    s, _ = l.accept()
    l.close()
else:
    s = socket.create_connection((addr, port), source_address=(sys.argv[5], 0))
s.setblocking(False)
def pat(off, n):
    return bytes((off + i) * 7 % 251 for i in range(n))
sent = recv = 0
t_st = 0
def put(line):
    with open(st + ".tmp", "w") as f:
        f.write(line + "\n")
    os.rename(st + ".tmp", st)
while True:
    try:
        sent += s.send(pat(sent, 256))
    except BlockingIOError:
        pass
    except OSError as e:
        put("bad send %s pid=%d sent=%d recv=%d" % (e, os.getpid(), sent, recv))
        sys.exit(1)
    try:
        d = s.recv(65536)
        if not d:
            put("bad eof pid=%d sent=%d recv=%d" % (os.getpid(), sent, recv))
            sys.exit(1)
        if d != pat(recv, len(d)):
            put("bad bytes at %d pid=%d sent=%d recv=%d" % (recv, os.getpid(), sent, recv))
            sys.exit(1)
        recv += len(d)
    except BlockingIOError:
        pass
    except OSError as e:
        put("bad recv %s pid=%d sent=%d recv=%d" % (e, os.getpid(), sent, recv))
        sys.exit(1)
    if time.monotonic() - t_st > 0.1:
        t_st = time.monotonic()
        put("ok pid=%d sent=%d recv=%d" % (os.getpid(), sent, recv))
    time.sleep(0.01)
PYEOF

# counters FILE: its status line's fields into MS
counters() { mig_status "$1" || fail "no status in $1"; }
# grows FILE SENT RECV: FILE's counts pass SENT and RECV by 20 KiB, its state ok
grows() {
	local i
	for ((i = 0; i < 150; i++)); do
		mig_status "$1" || { sleep 0.1; continue; }
		[ "${MS[state]}" = ok ] || fail "$1: $(cat "$1")"
		[ "${MS[sent]}" -ge $(($2 + 20480)) ] && [ "${MS[recv]}" -ge $(($3 + 20480)) ] && return 0
		sleep 0.1
	done
	fail "$1: the stream does not go on: $(cat "$1") (from sent=$2 recv=$3)"
}

ip netns exec "$SW" python3 "$WORK/stream.py" "$WORK/peer.st" listen "$PEER" "$SPORT" </dev/null >/dev/null 2>"$WORK/peer.err" &
PPID_=$!
TARGET_PIDS+=("$PPID_")
for ((i = 0; i < 50; i++)); do
	ip netns exec "$SW" ss -Hltn "sport = :$SPORT" | grep -q . && break
	sleep 0.1
done
setsid python3 "$WORK/stream.py" "$WORK/prog.st" connect "$PEER" "$SPORT" "$SVC" </dev/null >/dev/null 2>"$WORK/prog.err" &
TPID=$!
TARGET_PIDS+=("$TPID")
grows "$WORK/prog.st" 0 0
grows "$WORK/peer.st" 0 0
ip netns exec "$SW" nstat -n

mig_dest "$SDUMP" -v receive -D "$WORK/dst" --listen "$MIG_PEER:$PORT" --insecure --restore 2>"$WORK/recv.err" &
RPID=$!
mig_wait_listen "$PORT" "$WORK/recv.err"
MIG_CLEANUP+=("nft delete table inet sdump_lock_$TPID")
# without --tcp-established: refused at the final dump, the program and its connection run on
expect_error "tcp-established" "$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" --max-rounds 2
wait "$RPID" && fail "receive succeeded with a refused dump"
[ ! -e "$WORK/dst" ] || fail "a refused dump left $WORK/dst"
counters "$WORK/peer.st"
grows "$WORK/peer.st" "${MS[sent]}" "${MS[recv]}"
echo "without --tcp-established: refused, the connection goes on"

mig_dest "$SDUMP" -v receive -D "$WORK/dst" --listen "$MIG_PEER:$PORT" --insecure --restore 2>"$WORK/recv.err" &
RPID=$!
mig_wait_listen "$PORT" "$WORK/recv.err"
"$SDUMP" -v migrate -t "$TPID" --to "$MIG_PEER:$PORT" --tcp-established --max-rounds 2 --json >"$WORK/mig.json" 2>"$WORK/migrate.err" ||
	fail "migrate: $(cat "$WORK/migrate.err") / $(tail -5 "$WORK/recv.err")"
# a second with the address still here: the peer's packets come here, and the lock drops them (no reset)
sleep 1
# the address moves: the destination's port of the switch up, ours down
ip -n "$SW" link set "sdc$$a" down
ip -n "$SW" link set "sdc$$b" up
t_moved=$(date +%s.%N)
st=0
wait "$TPID" 2>/dev/null || st=$?
[ "$st" = 137 ] || fail "the source ended with status $st, not killed (137)"
nft list table inet "sdump_lock_$TPID" >/dev/null 2>&1 ||
	fail "the network lock is not held at the source after the handover"
counters "$WORK/peer.st"
ps=${MS[sent]} pr=${MS[recv]}
grows "$WORK/peer.st" "$ps" "$pr"
counters "$WORK/prog.st"
[ "${MS[pid]}" = "$TPID" ] || fail "the stream's status is not written by the restored pid $TPID: $(cat "$WORK/prog.st")"
grows "$WORK/prog.st" "${MS[sent]}" "${MS[recv]}"
# the peer's side saw no reset (the destination's namespace also holds the migration's own connection:
# the program's stream going on there, checked above, says its connection had none)
rst=$(ip netns exec "$SW" nstat -az TcpEstabResets TcpOutRsts | awk '/^Tcp/ {s += $2} END {print s + 0}')
[ "$rst" = 0 ] || fail "resets at the peer: $(ip netns exec "$SW" nstat -az TcpEstabResets TcpOutRsts)"
grep -q "network lock" "$WORK/migrate.err" || fail "no network lock taken at the source: $(cat "$WORK/migrate.err")"
echo "the connection moved with its program (pid $TPID): the peer sent and received 20 KiB more from the destination, every byte in order, no reset ($(awk -v a="$t_moved" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s after the address moved)"
kill "$PPID_" 2>/dev/null
wait "$RPID" 2>/dev/null || true
echo ok
