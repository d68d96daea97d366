#!/bin/bash
# Unix sockets whose other side has gone, across a dump and a restore
# (skgonetarget): a named datagram socket whose named peer has closed (its
# datagram from the peer's name, getpeername, ECONNREFUSED on a send), a
# connection accepted from a listener it keeps whose client wrote and
# closed, connections accepted from listeners the process closed since
# (the file removed, its client kept; the file left, the client closed).
# The target checks every name, byte and end from inside; a file left
# by a closed listener is the same file after the restore.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

start_target_quiet skgonetarget --dir "$WORK"
pid=$TPID
state_record "$pid" "$WORK/before.state"
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
[ -s "$WORK/err" ] && fail "restore said: $(cat "$WORK/err")"
# fixed by the fidelity work: VmFlags (ac gained and lost; whole VMAs joined otherwise)
state_check "$pid" "$WORK/before.state" 'vmas'
tcmd check
[ "$REPLY" = ok ] || fail "inside the restored target: $REPLY"
ls -a "$WORK" | grep -q 'sdump-' && fail "a file moved aside was left: $(ls -a "$WORK")"
echo "restored: peers closed, listeners closed, names, bytes and ends as they were"
echo exit >&7
wait_gone "$pid"
echo ok
