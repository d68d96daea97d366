#!/bin/bash
# A pidfd of the process itself across a dump and a restore: it comes back
# naming the process (its pid is its own again), with its flags
# (PIDFD_NONBLOCK); from inside it does not poll readable and
# pidfd_send_signal() through it works. Then every kind sdump takes at
# once in one process (eventfds, signalfds, timerfds, epolls, inotifys and
# the pidfd), compared with statecheck and checked from inside.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"

one() { # KINDS
	start_target_quiet evtarget --kinds "$1" --dir "$WORK"
	pid=$TPID
	state_record "$pid" "$WORK/before.state"
	sleep 0.3
	tcmd mark
	"$SDUMP" dump -t "$pid" -D "$WORK/d-$1" 2>"$WORK/err" || fail "dump ($1): $(cat "$WORK/err")"
	wait_gone "$pid"
	wait_pid_free "$pid"
	"$SDUMP" restore -D "$WORK/d-$1" -d 2>"$WORK/err" || fail "restore ($1): $(cat "$WORK/err")"
	assert_threads_running "$pid"
	# fixed by the fidelity work: VmFlags (ac gained and lost; whole VMAs joined otherwise)
	state_check "$pid" "$WORK/before.state" 'vmas'
	tcmd check
	[ "$REPLY" = ok ] || fail "inside the restored target ($1): $REPLY"
	echo exit >&7
	wait_gone "$pid"
	exec 7>&- 8<&-
}
one pidfd
grep -q "pidfd" "$WORK/before.state" || fail "statecheck saw no pidfd"
echo "restored: the pidfd of the process itself"
one eventfd,signalfd,timerfd,epoll,inotify,pidfd
echo "restored: every kind at once"
echo ok
