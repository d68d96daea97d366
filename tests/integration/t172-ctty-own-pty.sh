#!/bin/bash
# A controlling terminal that is a pty of the dump, restored without
# --shell-job: a session leader whose terminal is its own pty's slave, with
# no fd on the slave but one of /dev/tty (ptytarget --ctty-nofd): after
# the restore the slave is its controlling terminal again, its group in the
# foreground, and /dev/tty is that terminal (a write to the master reads
# from it). Then a tree (python): the parent holds the master, its child a
# session leader whose terminal is that pty with no fd on it: the child has
# it back, and the master's close hangs it up (SIGHUP kills the child);
# and so once more with the master shared by the child too (one open file
# description, made once).
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"
[ -c /dev/ptmx ] || skip "no /dev/ptmx"

# tty_nr PID: field 7 of /proc/PID/stat
tty_nr() { python3 -c 'import sys; s=open("/proc/%s/stat" % sys.argv[1]).read(); print(s[s.rindex(")")+2:].split()[4])' "$1"; }

start_target_quiet ptytarget --ctty-nofd
pid=$TPID
tcmd check
[ "$REPLY" = ok ] || fail "before the dump: $REPLY"
state_record "$pid" "$WORK/before.state"
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
state_check "$pid" "$WORK/before.state"
tcmd check
[ "$REPLY" = ok ] || fail "inside the restored target: $REPLY"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-
echo "alone: its pty the controlling terminal again, /dev/tty on it"

cat >"$WORK/tree.py" <<'PY'
import os, signal, sys, time
m, s = os.openpty()
name = os.ttyname(s)
os.close(s)
c = os.fork()
if c == 0:
    if sys.argv[1] != "keep":
        os.close(m)
    os.setsid()
    os.close(os.open(name, os.O_RDWR))   # the controlling terminal, no fd kept
    while True:
        time.sleep(1)
print(os.getpid(), c, name, flush=True)
while True:
    time.sleep(1)
PY
for how in close keep; do
	rm -f "$WORK/tree.out"
	python3 "$WORK/tree.py" "$how" >"$WORK/tree.out" 2>&1 </dev/null &
	TARGET_PIDS+=($!)
	for ((i = 0; i < 100; i++)); do [ -s "$WORK/tree.out" ] && break; sleep 0.05; done
	read -r par ch name <"$WORK/tree.out"
	TARGET_PIDS+=("$ch")
	for ((i = 0; i < 100; i++)); do [ "$(tty_nr "$ch")" != 0 ] && break; sleep 0.05; done
	nr=$(tty_nr "$ch")
	[ "$nr" != 0 ] || fail "the child has no controlling terminal"
	for p in $par $ch; do state_record "$p" "$WORK/before.$how.$p.state"; done
	"$SDUMP" dump -t "$par" -D "$WORK/d2.$how" 2>"$WORK/err" || fail "dump of the tree: $(cat "$WORK/err")"
	wait_gone "$par"
	for p in $par $ch; do wait_pid_free "$p"; done
	"$SDUMP" restore -D "$WORK/d2.$how" -d 2>"$WORK/err" || fail "restore of the tree: $(cat "$WORK/err")"
	for p in $par $ch; do state_check "$p" "$WORK/before.$how.$p.state"; done
	[ "$(tty_nr "$ch")" = "$nr" ] || fail "the child's terminal is $(tty_nr "$ch"), it was $nr ($name)"
	if [ "$how" = close ]; then
		kill -KILL "$par"
		wait_gone "$ch"
	else
		kill -KILL "$par" "$ch"
	fi
	echo "tree ($how): the child's terminal $name is back"
done
echo ok
