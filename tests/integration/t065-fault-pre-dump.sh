#!/bin/bash
# Fault injection over whole pre-dumps (SDUMP_FAULT=<kind>:<n>[:<errno>]):
# for every kind of call (image writes, reads of the process, ptrace,
# system calls injected into it, creating image files) and every N from the
# first call of that kind to the last one a pass makes (at most 120 of them
# spread over the pass, SDUMP_QUICK 24, SDUMP_FAULT_ALL=1 every one), the
# N-th call fails. Each run either fails with one line and exit 1, leaving
# no directory, the target running, untraced, with the same
# memory, map and fds, answering and ticking, and the parent image as it
# was; or, when the call was an optional one, succeeds with a right image.
# Both a first pass and a pass with --parent.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/faults.sh"
export SDUMP_STATE_DIR="$WORK/state"

start_target memtarget --mib 16 --threads 2 --ticker --dir "$WORK"

first() { :; }
# a fresh target each time: only a first pass of a new process creates the
# tracking userfaultfd (later ones take it again)
fresh() {
	stop_target
	start_target memtarget --mib 16 --threads 2 --ticker --dir "$WORK"
}
# a parent to build on, and writes since it
parent() {
	rm -rf "$WORK/base"
	"$SDUMP" -q pre-dump -t "$TPID" -D "$WORK/base" || fail "pre-dump of the parent"
	# the same pages each time: every run makes the same calls
	tcmd "dirty anon 30 7"
	tcmd "dirty thread0 200 8"
	PARENT=$WORK/base
}

walk_pass "pre-dump" first write ENOSPC pre-dump -t @PID@
walk_pass "pre-dump" first procread EIO pre-dump -t @PID@
walk_pass "pre-dump" first ptrace EIO pre-dump -t @PID@
walk_pass "pre-dump" first open EACCES pre-dump -t @PID@
walk_pass "pre-dump (new process)" fresh inject ENOMEM pre-dump -t @PID@
walk_pass "pre-dump --parent" parent write EDQUOT pre-dump -t @PID@ --parent "$WORK/base"
walk_pass "pre-dump --parent" parent procread EIO pre-dump -t @PID@ --parent "$WORK/base"
walk_pass "pre-dump --parent" parent ptrace EIO pre-dump -t @PID@ --parent "$WORK/base"
walk_pass "pre-dump --parent" parent open EIO pre-dump -t @PID@ --parent "$WORK/base"
stop_target
echo ok
