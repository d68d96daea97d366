#!/bin/bash
# epolls across a dump and a restore: the watches of each (their fd,
# events and data) on a pipe, eventfds and a timerfd, level- and
# edge-triggered, EPOLLONESHOT armed, EPOLLEXCLUSIVE, a watch whose fd
# was moved by dup() since it was added (its first number now another
# file: kcmp KCMP_EPOLL_TFD finds the fd holding it), and an epoll
# watching another. statecheck compares their fdinfo (the "tfd:" lines
# but the inodes); from inside the restored target each watch reports its
# file when ready, the one-shot watch once only, the moved one once its
# pipe is written to, and the outer epoll the inner one. A dump refuses an
# EPOLLONESHOT watch that fired and was not armed again, with one line,
# and leaves the process running.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"

start_target_quiet evtarget --kinds epoll
pid=$TPID
tfacts "$WORK/f1.json"
ep=$(json_get "$WORK/f1.json" 'd["fds"]["ep"]')
was=$(json_get "$WORK/f1.json" 'd["fds"]["ep_moved_was"]')
moved=$(json_get "$WORK/f1.json" 'd["fds"]["ep_moved"]')
state_record "$pid" "$WORK/before.state"
grep -q "\"tfd $was events 19 data 6666 pos 0\"" "$WORK/before.state" || fail "the moved watch is not in the epoll: $(grep tfd "$WORK/before.state")"

"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" show -D "$WORK/d1" >"$WORK/show" || fail "show"
grep -q "watches fd $was (its file at fd $moved now), events 0x19, data 0x6666" "$WORK/show" ||
	fail "show does not name the moved watch: $(cat "$WORK/show")"
grep -q "events 0x40000019, data 0x4444" "$WORK/show" || fail "show does not name the one-shot watch: $(cat "$WORK/show")"
"$SDUMP" show -D "$WORK/d1" --json >"$WORK/show.json" || fail "show --json"
[ "$(json_get "$WORK/show.json" "len([x for x in d['files'] if x['fd'] == $ep][0]['anon']['watches'])")" = 6 ] ||
	fail "show --json of the epoll: $(json_get "$WORK/show.json" "[x for x in d['files'] if x['fd'] == $ep]")"

"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
assert_threads_running "$pid"
state_check "$pid" "$WORK/before.state"
tcmd check
[ "$REPLY" = ok ] || fail "inside the restored target: $REPLY"
echo "restored: every watch with its events and data, the moved one through its first number; each reports"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-

start_target_quiet evtarget --kinds epoll --with disarmed
tfacts "$WORK/f2.json"
once=$(json_get "$WORK/f2.json" 'd["fds"]["ep_once"]')
ep=$(json_get "$WORK/f2.json" 'd["fds"]["ep"]')
expect_error "cannot dump pid $TPID: fd $ep is an epoll whose EPOLLONESHOT watch of fd $once has fired and is not armed again" \
	"$SDUMP" dump -t "$TPID" -D "$WORK/d2"
assert_running "$TPID"
[ ! -e "$WORK/d2/inventory.img" ] || fail "an image was left"
tcmd facts
[ "${REPLY:0:1}" = "{" ] || fail "the refused target does not answer: $REPLY"
stop_target
echo "refused: a fired EPOLLONESHOT watch not armed again"
echo ok
