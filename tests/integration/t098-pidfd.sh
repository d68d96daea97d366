#!/bin/bash
# A pidfd of the process itself across a dump and a restore: it comes back
# naming the process (its pid is its own again), with its flags
# (PIDFD_NONBLOCK); from inside it does not poll readable and
# pidfd_send_signal() through it works. A fanotify group of
# FAN_CLASS_NOTIF: its flags, event flags and marks (an inode's, one with
# an ignored mask only, a mount's, a file system's), compared with
# statecheck; from inside a write to the marked file is reported with an
# fd of it. Then every kind sdump takes at once in one process (eventfds,
# signalfds, timerfds, epolls, inotifys, the pidfd, the fanotify group),
# compared with statecheck and checked from inside.
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
	state_check "$pid" "$WORK/before.state"
	tcmd check
	[ "$REPLY" = ok ] || fail "inside the restored target ($1): $REPLY"
	echo exit >&7
	wait_gone "$pid"
	exec 7>&- 8<&-
}
one pidfd
grep -q "pidfd" "$WORK/before.state" || fail "statecheck saw no pidfd"
echo "restored: the pidfd of the process itself"
one fanotify
grep -q '"fanotify flags: 13 event-flags:88000"' "$WORK/before.state" || fail "statecheck saw no fanotify group: $(grep fanotify "$WORK/before.state")"
grep -q '"fanotify mnt_id:' "$WORK/before.state" || fail "statecheck saw no mount mark"
echo "restored: the fanotify group with its marks"
one eventfd,signalfd,timerfd,epoll,inotify,pidfd,fanotify
echo "restored: every kind at once"
echo ok
