#!/bin/bash
# sdump migrate and sdump receive on one machine: the destination is new
# network, PID and mount namespaces joined to ours by a veth pair. A
# self-checking target (migtarget: every page's contents follow from its
# index and generation, checked sweep after sweep while it keeps writing
# 1 % of its pages a second) moves over TLS and runs on there with its PID
# and exact memory, exactly one copy, untraced; the chain at the
# destination verifies. Refused, each with one line and nothing written:
# a sender whose certificate another CA signed, one with no certificate, a
# sender talking plain TCP to a TLS receiver, and a receiver without TLS
# off loopback unless --insecure. A restore the destination refuses
# leaves the source running, untraced, and nothing at the destination.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
# the sender's work directories (a sender killed leaves its own behind)
export TMPDIR=$WORK
MIB=1024
[ "${SDUMP_QUICK:-}" = 1 ] && MIB=128
mig_netns
mig_certs "$WORK/pki"
K=$WORK/pki
RTLS=(--tls-cert "$K/recv.pem" --tls-key "$K/recv.key" --tls-ca "$K/ca.pem")
STLS=(--tls-cert "$K/send.pem" --tls-key "$K/send.key" --tls-ca "$K/ca.pem")
PORT=$((7000 + $$ % 1000))

# start_mig NAME MIB [setsid]: a migtarget, its status in $WORK/NAME.st; TPID
start_mig() {
	local st=$WORK/$1.st i
	rm -f "$st"
	if [ "${3:-}" = setsid ]; then
		setsid "$TARGETS_DIR/migtarget" --mib "$2" --dirty 10 --status "$st" </dev/null >/dev/null 2>"$WORK/$1.err" &
	else
		"$TARGETS_DIR/migtarget" --mib "$2" --dirty 10 --status "$st" </dev/null >/dev/null 2>"$WORK/$1.err" &
	fi
	TPID=$!
	TARGET_PIDS+=("$TPID")
	for ((i = 0; i < 600; i++)); do
		mig_status "$st" && [ "${MS[state]}" = ok ] && return 0
		sleep 0.1
	done
	fail "$1: migtarget did not start: $(cat "$WORK/$1.err")"
}

# wait_listen: the receiver in the namespace listens on PORT
wait_listen() {
	local i
	for ((i = 0; i < 100; i++)); do
		ip netns exec "$MIG_NS" ss -Hltn "sport = :$PORT" | grep -q . && return 0
		sleep 0.1
	done
	fail "the receiver does not listen on $PORT: $(cat "$WORK/recv.err")"
}

# refused WHAT: the receiver (background, RPID) said one line and wrote nothing; the target runs on
refused() {
	local st=0
	wait "$RPID" || st=$?
	[ "$st" = 1 ] || fail "$1: receive exited $st, expected 1: $(cat "$WORK/recv.err")"
	[ "$(wc -l <"$WORK/recv.err")" = 1 ] || fail "$1: receive said more than one line: $(cat "$WORK/recv.err")"
	[ ! -e "$WORK/dst" ] || fail "$1: receive wrote $WORK/dst: $(ls -la "$WORK/dst")"
	kill -0 "$TPID" 2>/dev/null || fail "$1: the target is gone"
	assert_running "$TPID"
	echo "$1: refused: $(cat "$WORK/recv.err")"
}

# --- no TLS off loopback: refused unless --insecure ---
expect_error "without TLS.*--insecure" mig_dest "$SDUMP" receive -D "$WORK/dst" --listen "$MIG_PEER:$PORT"
[ ! -e "$WORK/dst" ] || fail "a refused receive made its directory"
expect_error "is not empty" "$SDUMP" receive -D "$WORK" --listen "127.0.0.1:$PORT"

# --- TLS refusals ---
start_mig refuse 16
# a sender whose certificate another CA signed
mig_dest "$SDUMP" receive -D "$WORK/dst" --listen "$MIG_PEER:$PORT" "${RTLS[@]}" 2>"$WORK/recv.err" &
RPID=$!
wait_listen
expect_error "refused us" "$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" \
	--tls-cert "$K/other.pem" --tls-key "$K/other.key" --tls-ca "$K/ca.pem"
refused "another CA's certificate"
grep -qi "TLS handshake failed.*not trusted" "$WORK/recv.err" || fail "another CA: '$(cat "$WORK/recv.err")'"
# a TLS client with no certificate
mig_dest "$SDUMP" receive -D "$WORK/dst" --listen "$MIG_PEER:$PORT" "${RTLS[@]}" 2>"$WORK/recv.err" &
RPID=$!
wait_listen
python3 - "$MIG_PEER" "$PORT" "$K/ca.pem" <<'PYEOF' || fail "a TLS client without a certificate got through"
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(sys.argv[3])
ctx.check_hostname = False
s = ctx.wrap_socket(socket.create_connection((sys.argv[1], int(sys.argv[2]))))
s.settimeout(10)
try:
    s.sendall(b"SDMG" + bytes(12))
    sys.exit(1 if s.recv(16) else 0)
except (ssl.SSLError, OSError):
    sys.exit(0)
PYEOF
refused "no certificate"
grep -qi "TLS handshake failed.*certificate is required" "$WORK/recv.err" || fail "no certificate: '$(cat "$WORK/recv.err")'"
# plain TCP to a TLS receiver
mig_dest "$SDUMP" receive -D "$WORK/dst" --listen "$MIG_PEER:$PORT" "${RTLS[@]}" 2>"$WORK/recv.err" &
RPID=$!
wait_listen
expect_error "refused us" "$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT"
refused "plain TCP"
grep -q "TLS handshake failed" "$WORK/recv.err" || fail "plain TCP: '$(cat "$WORK/recv.err")'"

# --- a restore the destination refuses (the target leads no session of its
# --- own: a restore needs --shell-job for that): the source runs on
mig_dest "$SDUMP" receive -D "$WORK/dst" --listen "$MIG_PEER:$PORT" "${RTLS[@]}" --restore 2>"$WORK/recv.err" &
RPID=$!
wait_listen
expect_error "the receiver gave up: cannot restore" "$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" "${STLS[@]}"
wait "$RPID" && fail "receive succeeded with a refused restore"
[ ! -e "$WORK/dst" ] || fail "a refused restore left $WORK/dst: $(ls -la "$WORK/dst")"
kill -0 "$TPID" || fail "the source is gone after a refused restore"
assert_running "$TPID"
ls -l "/proc/$TPID/fd/" | grep -q "userfaultfd" && fail "the source keeps sdump's tracking userfaultfd"
mig_copies "$WORK/refuse.st"
[ "$MIG_NCOPIES" = 1 ] || fail "a refused restore: $MIG_NCOPIES copies (${MIG_PIDS[*]})"
s0=${MS[sweeps]}
sleep 1
mig_status "$WORK/refuse.st"
[ "${MS[state]}" = ok ] || fail "the source after a refused restore: $(cat "$WORK/refuse.st")"
echo "a refused restore: the source runs on, untraced, nothing at the destination"
kill "$TPID"
wait "$TPID" || true

# --- a migration over TLS ---
start_mig mig "$MIB" setsid
pid=$TPID
mig_dest "$SDUMP" -v receive -D "$WORK/dst" --listen "$MIG_PEER:$PORT" "${RTLS[@]}" --restore 2>"$WORK/recv.err" &
RPID=$!
wait_listen
"$SDUMP" -v migrate -t "$pid" --to "$MIG_PEER:$PORT" "${STLS[@]}" --json >"$WORK/mig.json" 2>"$WORK/migrate.err" ||
	fail "migrate: $(cat "$WORK/migrate.err")"
st=0
wait "$pid" 2>/dev/null || st=$?
[ "$st" = 137 ] || fail "the source ended with status $st, not killed (137)"
rounds=$(json_get "$WORK/mig.json" 'd["rounds"]')
[ "$rounds" -ge 2 ] || fail "one round only: $(cat "$WORK/mig.json")"
[ "$(json_get "$WORK/mig.json" 'd["dest_pid"]')" = "$pid" ] || fail "the destination's pid is not $pid: $(cat "$WORK/mig.json")"
# one copy, at the destination, untraced, with its PID there, checking and writing on
mig_copies "$WORK/mig.st"
[ "$MIG_NCOPIES" = 1 ] || fail "$MIG_NCOPIES copies after the migration (${MIG_PIDS[*]})"
hpid=${MIG_PIDS[0]}
[ "$hpid" != "$pid" ] || fail "the copy that runs is the source's"
assert_running "$hpid"
kill -0 "$RPID" || fail "receive --restore did not stay the process's parent: $(cat "$WORK/recv.err")"
mig_status "$WORK/mig.st"
[ "${MS[pid]}" = "$pid" ] || fail "the restored process sees itself as pid ${MS[pid]}, not $pid"
w0=${MS[writes]} s0=${MS[sweeps]}
for ((i = 0; i < 600; i++)); do
	mig_status "$WORK/mig.st"
	[ "${MS[state]}" = ok ] || fail "the migrated target found its memory wrong: $(cat "$WORK/mig.st")"
	[ "${MS[sweeps]}" -ge $((s0 + 2)) ] && break
	sleep 0.1
done
[ "${MS[sweeps]}" -ge $((s0 + 2)) ] || fail "the migrated target does not sweep its memory: $(cat "$WORK/mig.st")"
[ "${MS[writes]}" -gt "$w0" ] || fail "the migrated target does not write: $(cat "$WORK/mig.st")"
for ((n = 1; n <= rounds; n++)); do
	[ -f "$WORK/dst/$n/inventory.img" ] || fail "no pass $n at the destination: $(ls "$WORK/dst")"
done
[ "$(ls -A "$WORK/dst" | wc -l)" = "$rounds" ] || fail "the destination holds more than the passes: $(ls -A "$WORK/dst")"
"$SDUMP" verify -D "$WORK/dst/$rounds" >/dev/null || fail "the chain at the destination does not verify"
echo "migrated ${MIB} MiB in $rounds rounds over TLS: pid $pid runs at the destination (host pid $hpid), memory exact over two sweeps; downtime $((MS[maxgap_us] / 1000)) ms as the target saw it, $(($(json_get "$WORK/mig.json" 'd["downtime_us"]') / 1000)) ms frozen at the source"
kill -TERM "$hpid"
st=0
wait "$RPID" || st=$?
[ "$st" = 0 ] || fail "receive exited $st after its process exited 0: $(cat "$WORK/recv.err")"

# --- without TLS, --insecure: plain TCP off loopback ---
rm -rf "$WORK/dst"
start_mig plain 16 setsid
pid=$TPID
mig_dest "$SDUMP" receive -D "$WORK/dst" --listen "$MIG_PEER:$PORT" --insecure --restore -d 2>"$WORK/recv.err" &
RPID=$!
wait_listen
"$SDUMP" migrate -t "$pid" --to "$MIG_PEER:$PORT" --max-rounds 2 --json >"$WORK/plain.json" 2>"$WORK/migrate.err" ||
	fail "migrate --insecure: $(cat "$WORK/migrate.err")"
[ "$(json_get "$WORK/plain.json" 'd["rounds"]')" = 2 ] || fail "--max-rounds 2: $(cat "$WORK/plain.json")"
wait "$RPID" || fail "receive -d: $(cat "$WORK/recv.err")"
echo "--insecure: plain TCP off loopback, --max-rounds 2 kept (receive -d returned; its PID namespace ended with it)"
echo ok
