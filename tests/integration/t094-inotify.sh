#!/bin/bash
# inotifys across a dump and a restore: watches on a directory, a file
# (IN_ONESHOT) and a symbolic link itself (IN_DONT_FOLLOW,
# IN_EXCL_UNLINK), with the same watch descriptors (one removed before
# the dump leaves a gap the restore keeps; one is on /, so that the
# restore's placeholder for the gap is another directory), and a second,
# blocking inotify on the same directory. statecheck compares their
# fdinfo (watch descriptors, masks, inodes, file handles); from inside the
# restored target a write to the file is reported on its watch descriptor
# once, then IN_IGNORED; a file made in the directory is reported with its
# name to both inotifys; a new watch gets a descriptor above the others.
# A dump refuses an inotify holding events not read yet, with one line,
# and leaves the process running.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"

start_target_quiet evtarget --kinds inotify --dir "$WORK"
pid=$TPID
tfacts "$WORK/f1.json"
in=$(json_get "$WORK/f1.json" 'd["fds"]["in"]')
state_record "$pid" "$WORK/before.state"
grep -q '"inotify wd: 4 ' "$WORK/before.state" || fail "the target's inotify has not its watches: $(grep inotify "$WORK/before.state")"

"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" show -D "$WORK/d1" >"$WORK/show" || fail "show"
grep -q "watch 4 on $WORK/ev-$pid.f (inode .*), mask 0x80000002" "$WORK/show" || fail "show does not name the watch: $(cat "$WORK/show")"
grep -q "watch 5 on $WORK/ev-$pid.l (inode .*), mask 0x4000004" "$WORK/show" || fail "show does not name the link's watch: $(cat "$WORK/show")"
"$SDUMP" show -D "$WORK/d1" --json >"$WORK/show.json" || fail "show --json"
[ "$(json_get "$WORK/show.json" "[w['wd'] for w in [x for x in d['files'] if x['fd'] == $in][0]['anon']['watches']]")" = "[1, 3, 4, 5]" ] ||
	fail "show --json of the inotify: $(json_get "$WORK/show.json" "[x for x in d['files'] if x['fd'] == $in]")"

"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
assert_threads_running "$pid"
state_check "$pid" "$WORK/before.state"
tcmd check
[ "$REPLY" = ok ] || fail "inside the restored target: $REPLY"
echo "restored: every watch with its descriptor and mask; writes and new files are reported"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-

mkdir "$WORK/q"
start_target_quiet evtarget --kinds inotify --dir "$WORK/q" --with queued
tfacts "$WORK/f2.json"
in=$(json_get "$WORK/f2.json" 'd["fds"]["in"]')
expect_error "cannot dump pid $TPID: fd $in is an inotify with [0-9]+ bytes of events not read yet, which a restore would lose" \
	"$SDUMP" dump -t "$TPID" -D "$WORK/d2"
assert_running "$TPID"
[ ! -e "$WORK/d2/inventory.img" ] || fail "an image was left"
stop_target
echo "refused: an inotify holding events not read"
echo ok
