#!/bin/bash
# TCP and UDP sockets, IPv4 and IPv6, across a dump and a restore: TCP
# listeners bound to the same address and port with their options (one
# with SO_REUSEPORT turned off once listening, the port still shared)
# (SO_REUSEADDR, SO_REUSEPORT, TCP_DEFER_ACCEPT, IPV6_V6ONLY) and backlog,
# UDP sockets bound and connected with the datagrams queued between them,
# an unbound TCP socket with its keepalive options (socktarget --inet,
# checked from inside, statecheck before and after). Then real programs:
# python3 -m http.server on 127.0.0.1 and on [::1] answers a request
# after the restore. Refused with one line, the program left running: an
# established TCP connection without --tcp-established (t113 has it), a
# listener with a connection not accepted yet.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"

start_target_quiet socktarget --dir "$WORK" --inet
pid=$TPID
state_record "$pid" "$WORK/before.state"
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" show -D "$WORK/d1" >"$WORK/show" || fail "show"
[ "$(grep -c ' inet ' "$WORK/show")" = 7 ] || fail "show does not list the inet sockets: $(cat "$WORK/show")"
"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
[ -s "$WORK/err" ] && fail "restore said: $(cat "$WORK/err")"
assert_threads_running "$pid"
# fixed by the fidelity work: VmFlags (ac gained and lost; whole VMAs joined otherwise)
state_check "$pid" "$WORK/before.state" 'vmas'
tcmd check
[ "$REPLY" = ok ] || fail "inside the restored target: $REPLY"
echo "restored: the listeners, UDP sockets and their datagrams, options as they were"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-

# get URL: the body of an HTTP GET, or nothing
get() {
	python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=20).read().decode())' "$1" 2>/dev/null
}

mkdir "$WORK/www"
echo "hello from sdump" >"$WORK/www/index.txt"
for bind in 127.0.0.1 ::1; do
	host=$bind
	[ "$bind" = ::1 ] && host="[::1]"
	: >"$WORK/http.out"
	python3 -u -m http.server 0 --bind "$bind" -d "$WORK/www" >"$WORK/http.out" 2>"$WORK/http.err" </dev/null &
	TARGET_PIDS+=($!)
	hpid=$!
	for ((i = 0; i < 200; i++)); do grep -q "port [0-9]" "$WORK/http.out" 2>/dev/null && break; sleep 0.05; done
	port=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$WORK/http.out")
	[ -n "$port" ] || fail "http.server on $bind did not start: $(cat "$WORK/http.out" "$WORK/http.err")"
	[ "$(get "http://$host:$port/index.txt")" = "hello from sdump" ] || fail "http.server on $bind does not answer"
	state_record "$hpid" "$WORK/h.state"
	"$SDUMP" dump -t "$hpid" -D "$WORK/h-$bind" 2>"$WORK/err" || fail "dump of http.server: $(cat "$WORK/err")"
	wait_gone "$hpid"
	wait_pid_free "$hpid"
	"$SDUMP" restore -D "$WORK/h-$bind" -d 2>"$WORK/err" || fail "restore of http.server: $(cat "$WORK/err")"
	state_check "$hpid" "$WORK/h.state" 'vmas'
	[ "$(get "http://$host:$port/index.txt")" = "hello from sdump" ] || fail "the restored http.server on $bind does not answer"
	echo "restored python3 -m http.server on $host:$port answers"
	kill "$hpid"
	wait_gone "$hpid"
done

# an established connection, a connection not accepted
cat >"$WORK/tcp.py" <<'PYEOF'
import os, socket, sys
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(4)
c = socket.create_connection(l.getsockname())
if sys.argv[1] == "established":
    a, _ = l.accept()
    l.close()
print("ready", os.getpid(), c.fileno(), flush=True)
sys.stdin.read()
PYEOF
for how in established backlog; do
	rm -f "$WORK/tcp.in"
	mkfifo "$WORK/tcp.in"
	python3 "$WORK/tcp.py" "$how" <"$WORK/tcp.in" >"$WORK/tcp.out" 2>&1 &
	TARGET_PIDS+=($!)
	tpid=$!
	exec 7>"$WORK/tcp.in"
	for ((i = 0; i < 200; i++)); do grep -q ready "$WORK/tcp.out" 2>/dev/null && break; sleep 0.05; done
	if [ "$how" = established ]; then
		expect_error "cannot dump pid $tpid: fd [0-9]+ is an IPv4 TCP socket connected \(127\.0\.0\.1:[0-9]+ to 127\.0\.0\.1:[0-9]+\); --tcp-established saves it \(TCP repair\)" \
			"$SDUMP" dump -t "$tpid" -D "$WORK/t-$how"
	else
		expect_error "cannot dump pid $tpid: fd [0-9]+ is an IPv4 TCP socket listening on 127\.0\.0\.1:[0-9]+ with 1 connections not accepted yet" \
			"$SDUMP" dump -t "$tpid" -D "$WORK/t-$how"
	fi
	assert_running "$tpid"
	echo "refused: $(cat "$WORK/stderr")"
	exec 7>&-
	wait_gone "$tpid"
done
echo ok
