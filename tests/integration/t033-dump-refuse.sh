#!/bin/bash
# dump refuses what it cannot restore: an fd that is a socket,
# an io_uring or a deleted file that another name still links (a copy
# would no longer be that file; one with no name left is saved: t102),
# and a live dump of a process with children (a dump takes its tree: t080).
# One line naming the fd and its kind, exit 1,
# no image; the target is not killed (not even without --leave-running) and
# is left running, untraced, unchanged.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

refuse() { # KIND PATTERN [DUMP OPTIONS...]
	local kind=$1 pat=$2 fd child
	shift 2
	start_target statetarget --dir "$WORK" --with "$kind"
	tfacts "$WORK/facts.json"
	fd=$(json_get "$WORK/facts.json" 'd["with_fd"]')
	child=$(json_get "$WORK/facts.json" 'd["child_pid"]')
	if [ "$kind" = io_uring ] && [ "$fd" = -1 ]; then
		echo "io_uring: not available here, case skipped"
		stop_target
		return 0
	fi
	pat=${pat//FD/$fd}
	rm -rf "$WORK/img"
	expect_error "$pat" "$SDUMP" "${SUBCMD:-dump}" "$@" -t "$TPID" -D "$WORK/img"
	echo "$kind: $(cat "$WORK/stderr")"
	[ ! -e "$WORK/img/inventory.img" ] || fail "$kind: an inventory.img was written"
	[ -z "$(find "$WORK/img" -name '*.img' 2>/dev/null)" ] || fail "$kind: image files left: $(ls "$WORK/img")"
	kill -0 "$TPID" 2>/dev/null || fail "$kind: the target was killed"
	assert_running "$TPID"
	assert_threads_running "$TPID"
	if [ "$child" != 0 ]; then
		kill -0 "$child" 2>/dev/null || fail "$kind: the child was killed"
		assert_running "$child"
	fi
	tfacts "$WORK/facts2.json"
	cmp -s "$WORK/facts.json" "$WORK/facts2.json" || fail "$kind: the target changed: $(diff "$WORK/facts.json" "$WORK/facts2.json")"
	tcmd pipebytes
	[ "$REPLY" = "ok 5" ] || fail "$kind: the pipe: $REPLY"
	tcmd xmmcheck
	[ "$REPLY" = ok ] || fail "$kind: xmm registers changed: $REPLY"
	stop_target
}

refuse socket 'fd FD\b.*socket'
refuse deleted 'fd FD is a deleted file \(.*statetarget-[0-9]+\.del \(deleted\)\), not supported yet'
refuse child 'it has child processes, and a live dump of a process tree is not supported yet' -R --live
refuse io_uring 'fd FD\b.*io_uring'
# the same with --leave-running, and after a pre-dump (which has no such rule)
refuse socket 'fd FD\b.*socket' --leave-running
start_target statetarget --dir "$WORK" --with socket
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/pre" || fail "pre-dump of a target with a socket"
tfacts "$WORK/f.json"
fd=$(json_get "$WORK/f.json" 'd["with_fd"]')
expect_error "fd $fd\\b.*socket" "$SDUMP" dump -t "$TPID" -D "$WORK/img2" --parent "$WORK/pre"
[ ! -e "$WORK/img2/inventory.img" ] || fail "an inventory.img was written"
kill -0 "$TPID" 2>/dev/null || fail "the target was killed"
assert_running "$TPID"
assert_threads_running "$TPID"
stop_target
echo ok
