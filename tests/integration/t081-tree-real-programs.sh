#!/bin/bash
# Process trees of programs nobody here wrote, each dumped with a child
# alive and restored, then seen to go on working: a bash loop running
# external commands (its /bin/sleep child comes back, bash reaps it and
# runs the next /bin/date); python3 with a subprocess child that it later
# waits for (and gets its exit status); a pipeline inside the tree, bash
# running producer | consumer with bytes in the pipe between them, every
# line reaching the consumer once, in order. Every member's state is
# checked against the record made before the dump.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
PY=$(command -v python3 || true)
[ -n "$PY" ] || skip "no python3"

members() {
	local q=("$1") i=0 p t c
	while [ "$i" -lt "${#q[@]}" ]; do
		p=${q[$i]}
		echo "$p"
		for t in /proc/"$p"/task/*; do
			for c in $(cat "$t/children" 2>/dev/null); do q+=("$c"); done
		done
		i=$((i + 1))
	done
}
# tree_dump NAME ROOT: every member recorded, the tree dumped (and gone);
# the python3 programs hold still while $WORK/pause is there
tree_dump() {
	local name=$1 root=$2 p
	touch "$WORK/pause"
	sleep 0.3
	mapfile -t MEMBERS < <(members "$root")
	TARGET_PIDS+=("${MEMBERS[@]}")
	[ "${#MEMBERS[@]}" -ge 2 ] || fail "$name: no child at the dump (${MEMBERS[*]})"
	for p in "${MEMBERS[@]}"; do state_record "$p" "$WORK/$name.state.$p"; done
	"$SDUMP" dump -t "$root" -D "$WORK/$name" 2>"$WORK/err" || fail "dump of $name: $(cat "$WORK/err")"
	wait "$root" 2>/dev/null || true
	for p in "${MEMBERS[@]}"; do wait_pid_free "$p"; done
}
# tree_restore NAME: restored, detached, every member as it was
tree_restore() {
	local name=$1 p
	"$SDUMP" restore -D "$WORK/$name" -d 2>"$WORK/err" || fail "restore of $name: $(cat "$WORK/err")"
	for p in "${MEMBERS[@]}"; do
		[ -e "/proc/$p" ] || fail "$name: member $p is not there after the restore"
		assert_running "$p"
	done
	for p in "${MEMBERS[@]}"; do state_check "$p" "$WORK/$name.state.$p"; done
	rm -f "$WORK/pause"
}
lines() { { wc -l <"$1"; } 2>/dev/null || echo 0; }
grows() { # FILE N SECONDS: FILE reaches N lines in time
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[ "$(lines "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# --- a bash loop running /bin/date and /bin/sleep ---
bash -c 'while :; do /bin/date +%s%N >>"$1"; /bin/sleep 3; done' loop "$WORK/date.log" \
	</dev/null >/dev/null 2>&1 &
root=$!
grows "$WORK/date.log" 2 30 || fail "the bash loop does not run"
# right after a date: its sleep has just begun
n=$(lines "$WORK/date.log")
grows "$WORK/date.log" $((n + 1)) 30 || fail "the bash loop does not run"
for ((i = 0; i < 100; i++)); do
	kid=$(cat "/proc/$root/task/$root/children")
	[ -n "$kid" ] && [ "$(cat "/proc/${kid% }/comm" 2>/dev/null)" = sleep ] && break
	sleep 0.02
done
tree_dump loop "$root"
n=$(lines "$WORK/date.log")
[ "${#MEMBERS[@]}" = 2 ] || fail "the bash loop had ${#MEMBERS[@]} processes at the dump"
tree_restore loop
grows "$WORK/date.log" $((n + 3)) 30 || fail "the restored bash loop does not go on ($(lines "$WORK/date.log") lines, $n at the dump)"
[ ! -e "/proc/${MEMBERS[1]}" ] || fail "the restored bash never reaped its sleep ${MEMBERS[1]}"
kill "$root"
wait_gone "$root"
echo "bash loop: restored with its child ${MEMBERS[1]}, $(lines "$WORK/date.log") dates"

# --- python3 waiting for a subprocess ---
cat >"$WORK/sub.py" <<'PYEOF'
import os, subprocess, sys, time
log = open(sys.argv[1], "a", buffering=1)
pause = os.path.join(os.path.dirname(sys.argv[1]), "pause")
p = subprocess.Popen(["/bin/sh", "-c", "sleep 8; exit 3"])
log.write("started %d\n" % p.pid)
while True:
    while os.path.exists(pause):
        time.sleep(0.05)
    if p.poll() is not None:
        break
    log.write("tick\n")
    time.sleep(0.1)
log.write("child exited %d\n" % p.returncode)
PYEOF
"$PY" "$WORK/sub.py" "$WORK/sub.log" </dev/null >/dev/null 2>&1 &
root=$!
grows "$WORK/sub.log" 3 30 || fail "python3 does not run"
tree_dump sub "$root"
grep -q "child exited" "$WORK/sub.log" && fail "python3's child ended before the dump"
tree_restore sub
for ((i = 0; i < 600; i++)); do grep -q "child exited" "$WORK/sub.log" && break; sleep 0.1; done
grep -qx "child exited 3" "$WORK/sub.log" || fail "the restored python3 did not see its child's exit 3: $(tail -n 2 "$WORK/sub.log")"
wait_gone "$root"
echo "python3: restored with its subprocess, waited for it: $(tail -n 1 "$WORK/sub.log")"

# --- producer | consumer, bytes in the pipe ---
cat >"$WORK/prod.py" <<'PYEOF'
import os, sys, time
pause = os.path.join(os.path.dirname(sys.argv[0]), "pause")
for i in range(1, 4001):
    sys.stdout.write("line %06d\n" % i)
    if i % 100 == 0:
        sys.stdout.flush()
        time.sleep(0.05)
        while os.path.exists(pause):
            time.sleep(0.05)
PYEOF
cat >"$WORK/cons.py" <<'PYEOF'
import os, sys, time
out = open(sys.argv[1], "a", buffering=1)
pause = os.path.join(os.path.dirname(sys.argv[1]), "pause")
for line in sys.stdin:
    out.write(line)
    time.sleep(0.002)
    while os.path.exists(pause):
        time.sleep(0.05)
out.write("end\n")
PYEOF
bash -c '"$1" "$2" | "$1" "$3" "$4"' pipe "$PY" "$WORK/prod.py" "$WORK/cons.py" "$WORK/cons.log" \
	</dev/null >/dev/null 2>&1 &
root=$!
grows "$WORK/cons.log" 200 30 || fail "the pipeline does not run"
tree_dump pipe "$root"
grep -q '^end$' "$WORK/cons.log" && fail "the pipeline ended before the dump"
tree_restore pipe
for ((i = 0; i < 600; i++)); do grep -q '^end$' "$WORK/cons.log" && break; sleep 0.1; done
grep -q '^end$' "$WORK/cons.log" || fail "the restored pipeline does not end ($(lines "$WORK/cons.log") lines)"
"$PY" - "$WORK/cons.log" <<'PYEOF' || fail "the consumer's lines are wrong (above)"
import sys
lines = open(sys.argv[1]).read().splitlines()
want = ["line %06d" % i for i in range(1, 4001)] + ["end"]
if lines != want:
    for k, (a, b) in enumerate(zip(lines, want)):
        if a != b:
            sys.exit("line %d: %r, expected %r (%d lines)" % (k + 1, a, b, len(lines)))
    sys.exit("%d lines, expected %d" % (len(lines), len(want)))
PYEOF
wait_gone "$root"
echo "pipeline: restored with bytes in its pipe, 4000 lines through, in order"
