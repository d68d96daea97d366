#!/bin/bash
# Post-copy migration (sdump receive --restore --lazy), the destination in
# new network, PID and mount namespaces joined to ours by a veth pair. A
# self-checking target (migtarget: every page's contents follow from its
# index and generation, checked sweep after sweep while it writes on)
# moves over TLS in one round (its whole memory after it runs there) and
# in rounds (pre-copy, then the final pass's pages after): it runs at the
# destination with its PID before its memory is there, both sides say
# what post-copy risks, its memory is exact over two sweeps, the source is
# killed only then, exactly one copy runs, untraced, and the chain at the
# destination verifies whole.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
export TMPDIR=$WORK
MIB=256
[ "${SDUMP_QUICK:-}" = 1 ] && MIB=64
mig_netns
mig_certs "$WORK/pki"
K=$WORK/pki
RTLS=(--tls-cert "$K/recv.pem" --tls-key "$K/recv.key" --tls-ca "$K/ca.pem")
STLS=(--tls-cert "$K/send.pem" --tls-key "$K/send.key" --tls-ca "$K/ca.pem")
PORT=$((7000 + $$ % 1000))

x=0
"$SDUMP" receive -D "$WORK/dst" --listen "127.0.0.1:$PORT" --lazy 2>"$WORK/err" || x=$?
[ "$x" = 2 ] && grep -q "lazy is for --restore" "$WORK/err" || fail "receive --lazy without --restore: $x $(cat "$WORK/err")"

# postcopy NAME MIB [MIGRATE ARGS...]
postcopy() {
	local name=$1 mib=$2 st=$WORK/$1.st pid hpid rounds i s0 w0 x
	shift 2
	rm -rf "$WORK/dst" "$st"
	setsid "$TARGETS_DIR/migtarget" --mib "$mib" --dirty 10 --status "$st" </dev/null >/dev/null 2>"$WORK/$name.err" &
	pid=$!
	TARGET_PIDS+=("$pid")
	for ((i = 0; i < 600; i++)); do
		mig_status "$st" && [ "${MS[state]}" = ok ] && break
		sleep 0.1
	done
	[ "${MS[state]:-}" = ok ] || fail "$name: migtarget did not start: $(cat "$WORK/$name.err")"
	mig_dest "$SDUMP" -v receive -D "$WORK/dst" --listen "$MIG_PEER:$PORT" "${RTLS[@]}" --restore --lazy \
		2>"$WORK/$name.recv" &
	RPID=$!
	for ((i = 0; i < 100; i++)); do
		ip netns exec "$MIG_NS" ss -Hltn "sport = :$PORT" | grep -q . && break
		sleep 0.1
	done
	"$SDUMP" -v migrate -t "$pid" --to "$MIG_PEER:$PORT" "${STLS[@]}" --json "$@" >"$WORK/$name.json" \
		2>"$WORK/$name.send" || fail "$name: migrate: $(cat "$WORK/$name.send"); receiver: $(cat "$WORK/$name.recv")"
	x=0
	wait "$pid" 2>/dev/null || x=$?
	[ "$x" = 137 ] || fail "$name: the source ended with status $x, not killed (137)"
	grep -q "post-copy: pid $pid runs before its memory is here.*if the connection dies before every page arrived, it is killed and the sender resumes its copy" \
		"$WORK/$name.recv" || fail "$name: the receiver does not say what post-copy risks: $(cat "$WORK/$name.recv")"
	grep -q "post-copy: pid $pid runs at $MIG_PEER:$PORT before its memory is there.*the copy there is killed and this one, still frozen, resumed" \
		"$WORK/$name.send" || fail "$name: the sender does not say what post-copy risks: $(cat "$WORK/$name.send")"
	grep -q "post-copy: every page of pid $pid here" "$WORK/$name.recv" ||
		fail "$name: the receiver does not say its memory is all here: $(cat "$WORK/$name.recv")"
	rounds=$(json_get "$WORK/$name.json" 'd["rounds"]')
	[ "$(json_get "$WORK/$name.json" 'd["dest_pid"]')" = "$pid" ] || fail "$name: the destination's pid: $(cat "$WORK/$name.json")"
	mig_copies "$st"
	[ "$MIG_NCOPIES" = 1 ] || fail "$name: $MIG_NCOPIES copies after the migration (${MIG_PIDS[*]})"
	hpid=${MIG_PIDS[0]}
	assert_running "$hpid"
	ls -l "/proc/$hpid/fd/" | grep -q userfaultfd && fail "$name: the migrated process holds a userfaultfd"
	mig_status "$st"
	[ "${MS[pid]}" = "$pid" ] || fail "$name: the restored process sees itself as pid ${MS[pid]}, not $pid"
	w0=${MS[writes]} s0=${MS[sweeps]}
	for ((i = 0; i < 600; i++)); do
		mig_status "$st"
		[ "${MS[state]}" = ok ] || fail "$name: the migrated target found its memory wrong: $(cat "$st")"
		[ "${MS[sweeps]}" -ge $((s0 + 2)) ] && break
		sleep 0.1
	done
	[ "${MS[sweeps]}" -ge $((s0 + 2)) ] || fail "$name: the migrated target does not sweep its memory: $(cat "$st")"
	[ "${MS[writes]}" -gt "$w0" ] || fail "$name: the migrated target does not write: $(cat "$st")"
	"$SDUMP" verify -D "$WORK/dst/$rounds" >/dev/null || fail "$name: the chain at the destination does not verify"
	[ "$(ls -A "$WORK/dst" | wc -l)" = "$rounds" ] || fail "$name: the destination holds more than the passes: $(ls -A "$WORK/dst")"
	echo "$name: ${mib} MiB in $rounds round(s), post-copy: pid $pid runs at the destination, memory exact over two sweeps; frozen at the source $(($(json_get "$WORK/$name.json" 'd["downtime_us"]') / 1000)) ms, the target's longest gap $((MS[maxgap_us] / 1000)) ms; $(grep -o 'every page of pid.*' "$WORK/$name.recv")"
	kill -TERM "$hpid"
	x=0
	wait "$RPID" || x=$?
	[ "$x" = 0 ] || fail "$name: receive exited $x after its process exited 0: $(cat "$WORK/$name.recv")"
}

postcopy one "$MIB" --max-rounds 1
postcopy rounds 32
echo ok
