#!/bin/bash
# sdump release ends the tracking pre-dumps keep in a process: its tracking
# userfaultfd closed there (no VMA write-protected any more), sdump's state
# file removed, the process running on untraced; the next pre-dump saves
# everything. Any pass removes the state files of processes that are gone.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
"$SDUMP" check | grep -q "^uffd-wp-async *found" || skip "no uffd-wp here"

uffds() { # PID: its userfaultfd fds
	local f
	for f in /proc/"$1"/fd/*; do
		[ "$(readlink "$f" 2>/dev/null)" = "anon_inode:[userfaultfd]" ] && echo "${f##*/}"
	done
	true
}

start_target memtarget --mib 16 --dir "$WORK"
load_regions
"$SDUMP" pre-dump --track uffd-wp -t "$TPID" -D "$WORK/p1" || fail "pre-dump"
fd=$(uffds "$TPID")
[ -n "$fd" ] || fail "no tracking userfaultfd after a pre-dump"
ls "$WORK/state"/track-"$TPID"-* >/dev/null 2>&1 || fail "no state file after a pre-dump"
grep -q "^VmFlags:.* uw" "/proc/$TPID/smaps" || fail "no VMA registered for write-protection (uw)"

# a state file of a process that is gone (a pid that cannot exist) and one of
# this pid with another start time: the next pass removes both
: >"$WORK/state/track-4194304-12345"
: >"$WORK/state/track-$TPID-1"
tcmd "dirty anon 50 1" >/dev/null
"$SDUMP" pre-dump --track uffd-wp -t "$TPID" -D "$WORK/p2" --parent "$WORK/p1" || fail "pre-dump 2"
[ ! -e "$WORK/state/track-4194304-12345" ] || fail "the state file of a process that is gone stayed"
[ ! -e "$WORK/state/track-$TPID-1" ] || fail "the state file of an earlier process of this pid stayed"
ls "$WORK/state"/track-"$TPID"-* >/dev/null 2>&1 || fail "the live process's state file was removed"

"$SDUMP" release -t "$TPID" >"$WORK/out" || fail "release: $(cat "$WORK/out")"
grep -Eq "^pid $TPID: tracking ended: its userfaultfd \\(fd $fd\\) closed, sdump's state removed$" "$WORK/out" ||
	fail "release said: $(cat "$WORK/out")"
[ -z "$(uffds "$TPID")" ] || fail "the userfaultfd is still there: $(uffds "$TPID")"
! ls "$WORK/state"/track-"$TPID"-* >/dev/null 2>&1 || fail "the state file is still there"
! grep -q "^VmFlags:.* uw" "/proc/$TPID/smaps" || fail "a VMA is still registered for write-protection"
assert_running "$TPID"
tcmd "dirty anon 50 2"
case "$REPLY" in "ok "[1-9]*) ;; *) fail "the target does not answer after release: $REPLY" ;; esac

# the next pre-dump on p2 finds no tracking: it saves everything and says so
"$SDUMP" pre-dump --track uffd-wp -t "$TPID" -D "$WORK/p3" --parent "$WORK/p2" 2>"$WORK/err" || fail "pre-dump 3: $(cat "$WORK/err")"
grep -q "this pass saves every" "$WORK/err" || fail "pre-dump 3 did not say it saves everything: $(cat "$WORK/err")"
"$SDUMP" show --json -D "$WORK/p3" >"$WORK/p3.json"
[ "$(json_int "$WORK/p3.json" pages_in_parent)" = 0 ] || fail "pre-dump 3 left pages to its parent"
verify_extract "$WORK/p3" anon

# nothing left to release: said so, exit 0; then a pre-dump with no tracker
"$SDUMP" release -t "$TPID" >/dev/null || fail "release after pre-dump 3"
"$SDUMP" release -t "$TPID" >"$WORK/out" || fail "release with nothing to release"
grep -q "^pid $TPID: no tracking of sdump's to end$" "$WORK/out" || fail "release said: $(cat "$WORK/out")"
"$SDUMP" -q release -t "$TPID" >"$WORK/out" || fail "release -q"
[ ! -s "$WORK/out" ] || fail "release -q printed: $(cat "$WORK/out")"

# errors: one line, exit 1; usage: exit 2
expect_error "cannot release pid 4194304: no such process" "$SDUMP" release -t 4194304
st=0; "$SDUMP" release 2>/dev/null || st=$?
[ "$st" = 2 ] || fail "release without -t: exit $st, not 2"
stop_target
echo ok
