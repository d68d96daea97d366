#!/bin/bash
# A tree that forks between two pre-dumps, tracked by uffd-wp. The child's
# copy of its parent's tracking userfaultfd (fork() copies every fd) is the
# parent's, of the parent's memory: used for the child, its protection of
# the pages the child saved fell on the parent's pages, already running
# again, and erased writes the parent made since its own scan (the chain
# lacked them, found by migtarget at times). Here: the new child gets a
# userfaultfd of its own, its copy of the parent's closed, its VMAs
# registered with its own (VmFlags uw); the chain restores every member
# with exact memory (each checks its own, writing 1 % a second), none left
# with a userfaultfd. Twice, the loss being a race.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/faults.sh"
export SDUMP_STATE_DIR="$WORK/state"
"$SDUMP" check | grep -q "^uffd-wp-async *found" || skip "no uffd-wp here"

# wait_ok FILE: migtarget's status FILE says ok
wait_ok() {
	local i
	for ((i = 0; i < 100; i++)); do
		mig_status "$1" && [ "${MS[state]}" = ok ] && return 0
		sleep 0.05
	done
	fail "no ok in $1: $(cat "$1" 2>/dev/null)"
}

for round in 1 2; do
	d=$WORK/r$round st=$WORK/r$round.st
	mkdir -p "$d"
	setsid "$TARGETS_DIR/migtarget" --mib 2 --dirty 10 --sweep 1 --children 1 --status "$st" \
		</dev/null >/dev/null 2>"$d.err" &
	root=$!
	TARGET_PIDS+=("$root")
	wait_ok "$st"
	wait_ok "$st.1"
	"$SDUMP" pre-dump --track uffd-wp -t "$root" -D "$d/1" 2>"$d/e1" || fail "pre-dump 1: $(cat "$d/e1")"
	kill -USR2 "$root"
	wait_ok "$st.2"
	mig_status "$st.2"
	kid=${MS[pid]}
	TARGET_PIDS+=("$kid")
	[ "$(uffds_of "$kid")" = 1 ] || fail "the new child holds $(uffds_of "$kid") userfaultfds before the pass, not its parent's copy"
	sleep 0.3
	"$SDUMP" -vv pre-dump --track uffd-wp -t "$root" -D "$d/2" --parent "$d/1" 2>"$d/e2" ||
		fail "pre-dump 2: $(tail -3 "$d/e2")"
	grep -q "pid $kid: fd [0-9]*, its parent's userfaultfd, closed" "$d/e2" ||
		fail "the child's copy of its parent's userfaultfd was not closed: $(grep "pid $kid" "$d/e2" | grep -i uffd | head -3)"
	[ "$(uffds_of "$kid")" = 1 ] || fail "the new child holds $(uffds_of "$kid") userfaultfds after the pass, not one"
	grep -q '^VmFlags:.* uw' "/proc/$kid/smaps" || fail "no VMA of the new child is registered with a userfaultfd of its own"
	sleep 0.3
	"$SDUMP" dump --track uffd-wp -t "$root" -D "$d/3" --parent "$d/2" 2>"$d/e3" || fail "dump: $(cat "$d/e3")"
	wait_gone "$root"
	"$SDUMP" restore -D "$d/3" -d 2>"$d/er" || fail "restore: $(cat "$d/er")"
	for f in "$st" "$st.1" "$st.2"; do
		mig_swept "$f"
		mig_status "$f"
		TARGET_PIDS+=("${MS[pid]}")
		[ "$(uffds_of "${MS[pid]}")" = 0 ] || fail "restored pid ${MS[pid]} holds a userfaultfd"
	done
	mig_status "$st"
	kill -TERM "${MS[pid]}"
	wait_gone "${MS[pid]}"
done
echo "ok: a child forked between passes tracks its own memory, and the tree comes back exact (twice)"
