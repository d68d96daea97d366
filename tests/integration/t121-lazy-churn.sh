#!/bin/bash
# sdump restore --lazy of a target that changes its memory map while it is
# being filled: queued before the restore, it forks a child that checks
# every page (served through the child's own userfaultfd, from the fork
# event), moves a region (mremap), unmaps half of another (munmap) and
# drops a quarter of a third (MADV_DONTNEED: zeros, never the image's
# data), and checks all of it at once; then again once every page is in.
# The events are counted, a fork among them; nothing is left attached.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lazy.sh"
MIB=256
[ -n "${SDUMP_QUICK:-}" ] && MIB=64

for round in 1 2 3; do
	lazy_start_target --mib "$MIB"
	pid=$TPID
	lazy_chain "r$round"
	lazy_queue churn
	"$SDUMP" -v restore -D "$WORK/r$round.3" --lazy --shell-job -d 2>"$WORK/r$round.err" ||
		fail "round $round: restore --lazy -d: $(cat "$WORK/r$round.err")"
	lazy_reply
	[ "$REPLY" = ok ] || fail "round $round: the target found its memory wrong during the fill: $REPLY"
	lazy_stats "$WORK/r$round.err"
	[ "$LAZY_FAULTS" -gt 0 ] || fail "round $round: no fault served: $(grep lazy: "$WORK/r$round.err")"
	# a fork, an mremap (its unmaps), an munmap, a MADV_DONTNEED, unless the fill was done first
	if [ "$LAZY_EVENTS" -lt 4 ] || [ "$LAZY_FORKS" -lt 1 ]; then
		echo "round $round: the fill ended before the churn: $(grep -o 'lazy:.*' "$WORK/r$round.err")"
	else
		EVENTS_SEEN=1
	fi
	tcmd check
	case "$REPLY" in "ok "[1-9]*) ;; *) fail "round $round: check once the memory is in: $REPLY" ;; esac
	lazy_check_detached "$pid"
	echo "round $round: $(grep -o 'running after.*' "$WORK/r$round.err")"
	echo exit >&7
	wait_pid_free "$pid"
	exec 7>&- 8<&- 9<&-
done
[ -n "${EVENTS_SEEN:-}" ] || fail "in no round did the events come before the fill's end"
echo ok
