#!/bin/bash
# Auto-converge: a process that rewrites its memory faster than the rounds
# send it (a python loop over 1 MiB of random pages, --bandwidth 2M) does
# not converge. Without --auto-converge it is switched over with the
# warning; with it, it is slowed down (its cgroup's cpu.max where it has
# one of its own, else short freezes: here a cgroup v2 of its own when the
# machine has one, else the freezes), said in a warning and in the
# statistics, and moves with exact memory. A migration the receiver
# refuses after the process was slowed leaves it running, untraced, not
# stopped, its cgroup's cpu.max as it was; a sender killed while it slows
# the process down leaves it the same.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
export TMPDIR=$WORK
command -v python3 >/dev/null || skip "needs python3"
mig_netns
PORT=$((7500 + $$ % 400))

cat >"$WORK/busy.py" <<'PYEOF'
import os, sys
st = sys.argv[1]
P, N = 4096, 256
m = bytearray(os.urandom(N * P))
cnt = [m[p * P] for p in range(N)]
i = 0
while True:
    p = (i * 7919) % N
    m[p * P] = (m[p * P] + 1) % 256
    cnt[p] = (cnt[p] + 1) % 256
    i += 1
    if i % 2000 == 0:
        bad = [p for p in range(N) if m[p * P] != cnt[p]]
        with open(st + ".tmp", "w") as f:
            f.write("%s pid=%d writes=%d\n" % ("bad" if bad else "ok", os.getpid(), i))
        os.rename(st + ".tmp", st)
        if bad:
            sys.exit(1)
PYEOF

start_busy() { # NAME [setsid]: TPID, its status in $WORK/NAME.st
	local i
	ST=$WORK/$1.st
	rm -f "$ST"
	if [ "${2:-}" = setsid ]; then
		setsid python3 "$WORK/busy.py" "$ST" </dev/null >/dev/null 2>&1 &
	else
		python3 "$WORK/busy.py" "$ST" </dev/null >/dev/null 2>&1 &
	fi
	TPID=$!
	TARGET_PIDS+=("$TPID")
	for ((i = 0; i < 100; i++)); do
		grep -q '^ok' "$ST" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "the target did not start"
}
start_recv() {
	local i
	mig_dest "$SDUMP" -v receive -D "$WORK/dst" --listen "$MIG_PEER:$PORT" --insecure --restore 2>"$WORK/recv.err" &
	RPID=$!
	for ((i = 0; i < 100; i++)); do
		ip netns exec "$MIG_NS" ss -Hltn "sport = :$PORT" | grep -q . && return 0
		sleep 0.1
	done
	fail "the receiver does not listen: $(cat "$WORK/recv.err")"
}
# untouched NAME: the target runs, untraced, not stopped, writing on
untouched() {
	local w0 w1 i
	kill -0 "$TPID" || fail "$1: the target is gone"
	# the slowing helper, woken by the sender's end, detaches and goes (at once but for the machine's load)
	for ((i = 0; i < 30; i++)); do
		grep -q '^TracerPid:[[:space:]]*0$' "/proc/$TPID/status" && break
		sleep 0.1
	done
	grep -q '^TracerPid:[[:space:]]*0$' "/proc/$TPID/status" || fail "$1: the target is still traced"
	for ((i = 0; i < 20; i++)); do
		[ "$(awk '/^State:/ {print $2}' "/proc/$TPID/status")" != T ] && break
		sleep 0.1
	done
	[ "$(awk '/^State:/ {print $2}' "/proc/$TPID/status")" != T ] || fail "$1: the target is left stopped"
	w0=$(sed -n 's/.* writes=\([0-9]*\).*/\1/p' "$ST")
	for ((i = 0; i < 50; i++)); do
		sleep 0.1
		w1=$(sed -n 's/.* writes=\([0-9]*\).*/\1/p' "$ST")
		[ "$w1" != "$w0" ] && break
	done
	[ "$w1" != "$w0" ] || fail "$1: the target does not run"
	grep -q '^ok' "$ST" || fail "$1: $(cat "$ST")"
	if [ -n "${CG:-}" ]; then
		[ "$(cat "$CG/cpu.max")" = "$CPUMAX0" ] || fail "$1: cpu.max left at $(cat "$CG/cpu.max")"
	fi
}
# in_cgroup: the target in a cgroup v2 of its own (CG), when the machine has them with cpu
CG=
in_cgroup() {
	CG=
	[ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] || return 0
	grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || return 0
	CG=/sys/fs/cgroup/sdump-t131-$$
	mkdir "$CG" || { CG=; return 0; }
	MIG_CLEANUP+=("rmdir $CG")
	echo "$TPID" >"$CG/cgroup.procs"
	CPUMAX0=$(cat "$CG/cpu.max")
}
MIG=("$SDUMP" -v migrate --to "$MIG_PEER:$PORT" --bandwidth 2M --max-rounds 6 --json)

# --- without --auto-converge: switched over with the warning
start_busy plain setsid
start_recv
"${MIG[@]}" -t "$TPID" >"$WORK/plain.json" 2>"$WORK/plain.err" || fail "migrate: $(cat "$WORK/plain.err")"
grep -q "does not converge\|did not converge" "$WORK/plain.err" || fail "no warning that it does not converge: $(cat "$WORK/plain.err")"
[ "$(json_get "$WORK/plain.json" 'd["throttle_pct"]')" = 0 ] || fail "slowed down without --auto-converge"
kill -KILL "$(sed -n 's/.* pid=\([0-9]*\).*/\1/p' "$ST")" 2>/dev/null || true
for p in $(pgrep -x python3); do
	{ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -qF "busy.py $ST " && kill -KILL "$p"
done
wait "$RPID" || true
rm -rf "$WORK/dst"

# --- with it: slowed down, said, moved with exact memory
start_busy ac setsid
in_cgroup
start_recv
"${MIG[@]}" -t "$TPID" --auto-converge >"$WORK/ac.json" 2>"$WORK/ac.err" || fail "migrate --auto-converge: $(cat "$WORK/ac.err")"
pct=$(json_get "$WORK/ac.json" 'd["throttle_pct"]')
how=$(json_get "$WORK/ac.json" 'd["throttle_how"]')
[ "$pct" -gt 0 ] || fail "not slowed down: $(cat "$WORK/ac.err")"
grep -q "slowed down to $pct % of its CPU" "$WORK/ac.err" || fail "not said: $(cat "$WORK/ac.err")"
if [ -n "$CG" ]; then want="cpu.max of its cgroup"; else want="short freezes"; fi
[ "$how" = "$want" ] || fail "slowed down by '$how', not '$want'"
w0=$(sed -n 's/.* writes=\([0-9]*\).*/\1/p' "$ST")
for ((i = 0; i < 100; i++)); do
	grep -q '^bad' "$ST" && fail "the migrated target found its memory wrong: $(cat "$ST")"
	w=$(sed -n 's/.* writes=\([0-9]*\).*/\1/p' "$ST")
	[ "$w" -ge $((w0 + 4000)) ] && break
	sleep 0.1
done
[ "$w" -ge $((w0 + 4000)) ] || fail "the migrated target does not go on"
[ "$(sed -n 's/.* pid=\([0-9]*\).*/\1/p' "$ST")" = "$TPID" ] || fail "the copy has another pid"
echo "does not converge: slowed down to $pct % ($how), moved in $(json_get "$WORK/ac.json" 'd["rounds"]') rounds, memory exact there"
for p in $(pgrep -x python3); do
	{ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -qF "busy.py $ST " && kill -KILL "$p"
done
wait "$RPID" || true
rm -rf "$WORK/dst"

# --- refused after it was slowed down (no --shell-job for a process in our session): untouched
start_busy refused
in_cgroup
start_recv
"${MIG[@]}" -t "$TPID" --auto-converge >/dev/null 2>"$WORK/refused.err" && fail "a refused migration succeeded"
grep -q "slowed down" "$WORK/refused.err" || fail "never slowed down before the refusal: $(cat "$WORK/refused.err")"
wait "$RPID" || true
untouched "refused"
echo "refused after it was slowed down: it runs on here, untraced, not stopped${CG:+, cpu.max as it was}"

# --- the sender killed while it slows the process down: untouched
start_recv
"${MIG[@]}" -t "$TPID" --auto-converge >/dev/null 2>"$WORK/killed.err" &
SPID=$!
for ((i = 0; i < 300; i++)); do
	grep -q "slowed down to" "$WORK/killed.err" && break
	sleep 0.05
done
grep -q "slowed down to" "$WORK/killed.err" || fail "never slowed down: $(cat "$WORK/killed.err")"
kill -KILL "$SPID"
wait "$SPID" 2>/dev/null || true
kill -KILL "$RPID" 2>/dev/null || true
wait "$RPID" 2>/dev/null || true
untouched "sender killed"
echo "the sender killed while slowing it down: it runs on, untraced, not stopped"
echo ok
