#!/bin/bash
# Fault injection over dump -R --tcp-established and over the restore of a
# process holding an established TCP connection to a peer outside (an
# echo server of the test's). Dump -R: the N-th read of the process,
# ptrace request, injected call, image write or file creation fails, N
# walked over the whole pass: one line, exit 1, no directory; whatever
# failed, the process keeps its connection (its pings are echoed on, out
# of repair mode) and no network lock is left. Restore: the N-th write,
# ptrace request or injected call fails: one line, exit 1, no process and
# no lock left behind.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/faults.sh"
# quick (CI): 12 points per kind, half the general walks' (t065-t067 walk
# what every dump and restore shares at 24)
FAULT_QUICK_POINTS=12
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"
command -v nft >/dev/null && nft list tables >/dev/null 2>&1 || skip "no working nft"

no_lock() {
	! nft list tables 2>/dev/null | grep -q "sdump_lock_$1\$" || fail "$2: the network lock of pid $1 is left"
}

cat >"$WORK/echo.py" <<'PYEOF'
import os, socket, sys
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(1)
open(sys.argv[1], "w").write(str(l.getsockname()[1]))
c, _ = l.accept()
n = 0
# the pings echoed, counted here: the pinger keeps no file open (one open at
# the dump, renamed by a restored copy, is a file a later restore finds gone)
while b := c.recv(4096):
    c.sendall(b)
    n += b.count(b"\n")
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write(str(n))
    os.replace(sys.argv[2] + ".tmp", sys.argv[2])
PYEOF
cat >"$WORK/pinger.py" <<'PYEOF'
import os, socket, sys, time, traceback
def log(what):
    with open(sys.argv[2] + ".log", "a") as f:
        f.write(what)
sys.excepthook = lambda *e: log("".join(traceback.format_exception(*e)))
s = socket.create_connection(("127.0.0.1", int(open(sys.argv[1]).read())))
s.settimeout(120)
n = 0
while True:
    s.sendall(b"ping %08d\n" % n)
    got = b""
    while len(got) < 14:
        got += s.recv(14 - len(got))
    if got != b"ping %08d\n" % n:
        log("bad echo %r for %d\n" % (got, n))
        sys.exit(1)
    n += 1
    time.sleep(0.01)
PYEOF
python3 "$WORK/echo.py" "$WORK/port" "$WORK/n" >"$WORK/echo.out" 2>&1 &
TARGET_PIDS+=($!)
for ((i = 0; i < 200; i++)); do [ -s "$WORK/port" ] && break; sleep 0.05; done
# its output goes nowhere: a restored one whose peer has gone writes there, a file a restore then finds changed
python3 "$WORK/pinger.py" "$WORK/port" "$WORK/n" >/dev/null 2>&1 </dev/null &
TARGET_PIDS+=($!)
pid=$!
for ((i = 0; i < 200; i++)); do [ -s "$WORK/n" ] && break; sleep 0.05; done

# pings_go_on WHAT: the pinger's count grows: its connection works
pings_go_on() {
	local a b i
	a=$(cat "$WORK/n")
	for ((i = 0; i < 200; i++)); do
		b=$(cat "$WORK/n")
		[ "$b" -gt $((a + 2)) ] && return 0
		sleep 0.05
	done
	fail "$1: the process's connection stopped ($a pings, then $b): $(cat "$WORK/n.log" 2>/dev/null)"
}

"$SDUMP" -q dump -R --tcp-established -t "$pid" -D "$WORK/first" || fail "dump -R"
pings_go_on "dump -R"
for spec in procread:EIO ptrace:ESRCH inject:ENOMEM write:ENOSPC open:EIO; do
	kind=${spec%:*} errno=${spec#*:} nfail=0 nok=0
	count=$(fault_count "$kind" "$SDUMP" -q dump -R --tcp-established -t "$pid" -D "$WORK/count")
	rm -rf "$WORK/count"
	for n in $(fault_points "$count"); do
		st=0
		SDUMP_FAULT="$kind:$n:$errno" "$SDUMP" -q dump -R --tcp-established -t "$pid" -D "$WORK/w" 2>"$WORK/werr" || st=$?
		if [ "$st" = 0 ]; then
			rm -rf "$WORK/w"
			nok=$((nok + 1))
		else
			check_failed "dump -R $kind:$n" "$st" "$WORK/werr" "$WORK/w"
			nfail=$((nfail + 1))
		fi
		kill -0 "$pid" 2>/dev/null || fail "dump -R $kind:$n ($(cat "$WORK/werr")): the process is gone: $(cat "$WORK/n.log" 2>/dev/null)"
		assert_running "$pid"
		assert_threads_running "$pid"
		no_lock "$pid" "dump -R $kind:$n"
		pings_go_on "dump -R $kind:$n ($(cat "$WORK/werr"))"
	done
	[ "$nfail" -gt 0 ] || fail "dump -R: no $kind fault failed it"
	echo "dump -R: $kind 1..$count ($errno): $nfail failed cleanly, $nok succeeded; the connection went on, no lock left"
done

"$SDUMP" -q dump --tcp-established -t "$pid" -D "$WORK/d" || fail "dump"
wait_gone "$pid"
wait_pid_free "$pid"
sum=$(dir_sum "$WORK/d")
for spec in write:EIO ptrace:EIO inject:ENOMEM; do
	kind=${spec%:*} errno=${spec#*:} nfail=0
	# counted on a copy of the lock, made again each time: a restore removes it
	SDUMP_FAULT_COUNT=1 "$SDUMP" -q restore -D "$WORK/d" -d 2>"$WORK/count.err" || fail "restore: $(cat "$WORK/count.err")"
	kill -KILL "$pid"
	wait_pid_free "$pid"
	count=$(grep -o "$kind=[0-9]*" "$WORK/count.err" | cut -d= -f2)
	[ "${count:-0}" -gt 0 ] || { echo "restore: no $kind calls"; continue; }
	for n in $(fault_points "$count"); do
		st=0
		SDUMP_FAULT="$kind:$n:$errno" "$SDUMP" -q restore -D "$WORK/d" -d 2>"$WORK/err" || st=$?
		if [ "$st" = 0 ]; then
			kill -KILL "$pid"
		else
			[ "$st" = 1 ] && [ "$(wc -l <"$WORK/err")" = 1 ] && grep -q '^sdump: ' "$WORK/err" ||
				fail "restore $kind:$n: exit $st: $(cat "$WORK/err")"
			nfail=$((nfail + 1))
		fi
		wait_pid_free "$pid"
		no_lock "$pid" "restore $kind:$n"
		[ "$(dir_sum "$WORK/d")" = "$sum" ] || fail "restore $kind:$n: the image changed"
	done
	[ "$nfail" -gt 0 ] || fail "restore: no $kind fault failed it"
	echo "restore: $kind 1..$count ($errno): $nfail failed cleanly; no process and no lock left"
done
echo ok
