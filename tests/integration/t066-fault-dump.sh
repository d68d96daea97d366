#!/bin/bash
# Fault injection over whole final dumps that leave the target running
# (dump -R --parent): the N-th write, read of the process, ptrace request,
# system call injected into the target (its state is read through some 90
# of them) or image file creation fails, N walked over the whole pass (at
# most 120 points per kind, SDUMP_QUICK 24, SDUMP_FAULT_ALL=1 every one).
# After each: one line and exit 1, no directory, the target running,
# untraced, its memory, map (no scratch page left) and fds as they were, its
# threads ticking; the parent as it was. A dump the fault did not fail (an
# optional call) made a right image. The same for live dumps (dump -R
# --live of all the memory: the userfaultfd's creation, registration and
# the copy by the fault handler and the copier are in the walk).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/faults.sh"
export SDUMP_STATE_DIR="$WORK/state"

# fds 7 and 8 of the test, the target's stdin and stdout, are FIFOs: a dump takes them
start_target memtarget --mib 16 --threads 2 --ticker --dir "$WORK"

parent() {
	rm -rf "$WORK/base"
	"$SDUMP" -q pre-dump -t "$TPID" -D "$WORK/base" || fail "pre-dump of the parent"
	tcmd "dirty anon 30 7"
	tcmd "dirty thread1 200 8"
	PARENT=$WORK/base
}

nothing() { :; }
for spec in write:ENOSPC procread:EIO ptrace:ESRCH inject:ENOMEM open:EIO; do
	walk_pass "dump -R --parent" parent "${spec%:*}" "${spec#*:}" dump -R -t @PID@ --parent "$WORK/base"
	# live: every page is copied after the freeze, under copy-before-write
	walk_pass "dump -R --live" nothing "${spec%:*}" "${spec#*:}" dump -R --live -t @PID@
done
stop_target
echo ok
