#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/migrate.sh - live migrations over a veth pair; called by bench/run.
#
#   migrate.sh --sdump SDUMP --target MIGTARGET --sizes "MIB..." --dirty "PERMILLE..." --work DIR [--env NAME] [--warm WARM]
#              [--children N] [--downtime MS]
#
# The destination is new network, PID and mount namespaces joined to ours
# by a veth pair made here (plain TCP, --insecure: TLS is measured by the
# tests, not here). First the veth's bandwidth: 512 MiB (64 MiB with
# BENCH_QUICK_MIG=1) through one TCP connection, python's sendall. Then for
# each size and dirty rate (permille of the target's pages written a
# second): a migtarget, `sdump receive --restore -d` there and `sdump
# migrate --json` here. Reported: the downtime the target measured (the
# longest gap between two turns of its loop, read from the copy that runs
# at the destination), the source's frozen time, the total time, rounds,
# bytes sent, and the time one copy of the memory takes at the veth's
# bandwidth. One JSON object per migration on stdout, prefixed
# "BENCHJSON ", scenario "migrate". With --warm (bench/warm), memory is
# warmed before each migration (twice the target's size written and given
# back), and each row has reclaim_kib: what the kernel reported free to the
# host during it (free page reporting; null without it). With --children N
# each target is a process tree (migtarget --children N: a root and N
# children, each MIB MiB of its own): the row's mem_mib is the tree's total,
# members and member_mib say the rest, and the downtime is the longest any
# member saw. With --downtime MS, `sdump migrate --downtime MS` (the row's
# downtime_asked_ms; the default, 300, without it).
set -euo pipefail

sdump= target= sizes= dirty= work= envname=host warm= kids=0 downtime=
REPORTED=/sys/module/page_reporting/parameters/reported_kib
reported_kib() { [ -r $REPORTED ] && cat $REPORTED; }
while [ $# -gt 0 ]; do
	case $1 in
	--warm) warm=$2 ;;
	--sdump) sdump=$2 ;;
	--target) target=$2 ;;
	--sizes) sizes=$2 ;;
	--dirty) dirty=$2 ;;
	--work) work=$2 ;;
	--env) envname=$2 ;;
	--children) kids=$2 ;;
	--downtime) downtime=$2 ;;
	*)
		echo "migrate.sh: bad argument $1" >&2
		exit 2
		;;
	esac
	shift 2
done
[ -n "$sdump" ] && [ -n "$target" ] && [ -n "$sizes" ] && [ -n "$dirty" ] && [ -n "$work" ] || {
	echo "migrate.sh: --sdump, --target, --sizes, --dirty and --work are needed" >&2
	exit 2
}
log() { echo "[$envname migrate] $*" >&2; }
mkdir -p "$work"
command -v ip >/dev/null && command -v unshare >/dev/null || {
	log "needs ip and unshare: skipped"
	exit 0
}
n=$(($$ % 200 + 20))
NS=sdbm$$ VETH=sdb$$ HOST=10.214.$n.1 PEER=10.214.$n.2 PORT=$((9000 + $$ % 1000))
cleanup() {
	[ -n "${TPID:-}" ] && kill -KILL "$TPID" 2>/dev/null
	pkill_ns
	ip netns del "$NS" 2>/dev/null || true
	ip link del "${VETH}h" 2>/dev/null || true
}
# the copy at the destination ends, and with it the receiver (its parent, its PID namespace's init)
pkill_ns() {
	local p
	for p in $(pgrep -x migtarget); do
		tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -qF -- "--status $work/mig.st " && kill -KILL "$p"
	done
	wait 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$NS"
ip link add "${VETH}h" type veth peer name "${VETH}n"
ip link set "${VETH}n" netns "$NS"
ip addr add "$HOST/24" dev "${VETH}h"
ip link set "${VETH}h" up
ip netns exec "$NS" ip addr add "$PEER/24" dev "${VETH}n"
ip netns exec "$NS" ip link set "${VETH}n" up
ip netns exec "$NS" ip link set lo up
dest() { ip netns exec "$NS" unshare -p -f -m --mount-proc "$@"; }

# the veth's bandwidth, bytes a second
vmib=512
[ "${BENCH_QUICK_MIG:-}" = 1 ] && vmib=64
ip netns exec "$NS" python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1); c, _ = s.accept()
while c.recv(1 << 20): pass
' "$PEER" "$PORT" &
sink=$!
# (a loaded machine starts python slowly: connected to before it listens, the probe fails)
for ((i = 0; i < 100; i++)); do
	ip netns exec "$NS" ss -Hltn "sport = :$PORT" | grep -q . && break
	sleep 0.1
done
bw=$(python3 -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
buf = bytes(1 << 20); n = int(sys.argv[3]); t = time.monotonic()
for _ in range(n): s.sendall(buf)
s.shutdown(socket.SHUT_WR); s.recv(1); print(int(n * len(buf) / (time.monotonic() - t)))
' "$PEER" "$PORT" "$vmib")
wait "$sink" || true
log "veth bandwidth $((bw / 1048576)) MiB/s"

st_field() { # FILE KEY
	sed -n "s/.* $2=\([0-9]*\).*/\1/p" "$1" 2>/dev/null
}
# the longest gap any member of the tree at the destination saw, or nothing if one is not ok
tree_gap() { # ST
	local f g max=0
	for f in "$1" $(seq -f "$1.%g" 1 "$kids"); do
		grep -q '^ok' "$f" 2>/dev/null || return 0
		g=$(st_field "$f" maxgap_us)
		[ -n "$g" ] || return 0
		[ "$g" -gt "$max" ] && max=$g
	done
	echo "$max"
}
for mib in $sizes; do
	for pm in $dirty; do
		st=$work/mig.st
		rm -rf "$work/dst" "$st"*
		setsid "$target" --mib "$mib" --dirty "$pm" --children "$kids" --status "$st" </dev/null >/dev/null 2>"$work/target.err" &
		TPID=$!
		for ((i = 0; i < 1200; i++)); do
			[ -n "$(tree_gap "$st")" ] && break
			sleep 0.1
		done
		dest "$sdump" -v receive -D "$work/dst" --listen "$PEER:$PORT" --insecure --restore 2>"$work/recv.err" &
		RPID=$!
		for ((i = 0; i < 100; i++)); do
			ip netns exec "$NS" ss -Hltn "sport = :$PORT" | grep -q . && break
			sleep 0.1
		done
		ok=true
		[ -n "$warm" ] && "$warm" $((mib * 2)) >/dev/null
		k0=$(reported_kib)
		TMPDIR=$work "$sdump" -v migrate -t "$TPID" --to "$PEER:$PORT" ${downtime:+--downtime "$downtime"} --json >"$work/mig.json" 2>"$work/migrate.err" || ok=false
		k1=$(reported_kib)
		rk=null
		[ -n "$k0" ] && [ -n "$k1" ] && rk=$((k1 - k0))
		wait "$TPID" 2>/dev/null || true
		TPID=
		gap=null
		if $ok; then
			# the copy at the destination: its status file, its longest gap since its start
			for ((i = 0; i < 50; i++)); do
				[ -n "$(tree_gap "$st")" ] && break
				sleep 0.1
			done
			sleep 1
			g=$(tree_gap "$st")
			[ -n "$g" ] && gap=$g
			[ -n "$g" ] || { ok=false; log "the copy at the destination: $(cat "$st"*)"; }
		else
			log "migrate failed: $(tail -n 3 "$work/migrate.err")"
		fi
		pkill_ns
		RPID=
		if $ok; then
			python3 - "$work/mig.json" "$envname" "$mib" "$pm" "$gap" "$bw" "$rk" "$kids" "${downtime:-300}" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
rk = None if sys.argv[7] == "null" else int(sys.argv[7])
member, pm, gap, bw, kids = int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], int(sys.argv[6]), int(sys.argv[8])
mib = member * (kids + 1)
once = mib * 1048576 / bw * 1000
down = None if gap == "null" else int(gap) / 1000
row = {"env": sys.argv[2], "scenario": "migrate", "tool": "sdump", "mem_mib": mib,
       "dirty_pct": pm / 10, "downtime_ms": down, "stall_ms": down, "wall_ms": d["total_us"] / 1000,
       "image_bytes": d["bytes_sent"],
       "frozen_ms": d["downtime_us"] / 1000, "total_ms": d["total_us"] / 1000,
       "rounds": d["rounds"], "bytes_sent": d["bytes_sent"], "converged": d["converged"],
       "why_last": d["why_last"], "veth_bw": bw, "copy_once_ms": round(once, 1),
       "total_over_once": round(d["total_us"] / 1000 / once, 2), "reclaim_kib": rk,
       "downtime_asked_ms": int(sys.argv[9])}
if kids:
    row.update(members=kids + 1, member_mib=member)
print("BENCHJSON " + json.dumps(row))
EOF
			log "$mib MiB$([ "$kids" = 0 ] || echo " x $((kids + 1))"), $pm permille/s: downtime $gap us (target), total $(sed -n 's/.*"total_us":\([0-9]*\).*/\1/p' "$work/mig.json") us"
		else
			printf 'BENCHJSON {"env":"%s","scenario":"migrate","tool":"sdump","mem_mib":%s,"dirty_pct":%s,"stall_ms":null,"wall_ms":null,"image_bytes":null,"error":"migration failed"}\n' \
				"$envname" "$((mib * (kids + 1)))" "$(python3 -c "print($pm/10)")"
		fi
		cp "$work/recv.err" "$work/recv-$mib-$pm.err" 2>/dev/null || true
		cp "$work/migrate.err" "$work/migrate-$mib-$pm.err" 2>/dev/null || true
	done
done
