#!/bin/bash
# What a dump refuses of anonymous inodes, each named for what it is in
# one line: an io_uring instance, a userfaultfd of the process's own, a
# perf event, a BPF map, a fanotify group of a permission class or with a
# mark of nothing left (its ignored mask cleared), a pidfd of another
# process
# (named: only a pidfd of the process itself or of a member of its tree is restored).
# Exit 1, no image; the process, which holds one of each kind sdump takes
# as well, is left running, untraced, and its eventfds, signalfds,
# timerfds, epolls and inotifys are as they were (its own check passes
# afterwards). A kind this kernel will not make here is skipped, said so.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"

n=0
refused() { # KIND WHAT [REST]: "fd N is WHAT (anon_inode:...), not supported yet", or "fd N is WHAT REST"
	mkdir -p "$WORK/$1"
	start_target_quiet evtarget --dir "$WORK/$1" --with "$1"
	tfacts "$WORK/f.json"
	fd=$(json_get "$WORK/f.json" 'd["with"]')
	if [ "$fd" = -1 ]; then
		echo "$1: this kernel will not make one here, case skipped"
		stop_target
		return 0
	fi
	# not state_record: it takes any userfaultfd for sdump's tracker; nothing here was pre-dumped
	python3 "$STATECHECK" record "$TPID" -o "$WORK/before.state" || fail "statecheck cannot record pid $TPID"
	expect_error "cannot dump pid $TPID: fd $fd is $2${3:- \(anon_inode:.*\), not supported yet}" \
		"$SDUMP" dump -t "$TPID" -D "$WORK/img-$1"
	echo "$1: $(cat "$WORK/stderr")"
	[ ! -e "$WORK/img-$1/inventory.img" ] || fail "$1: an image was left"
	assert_running "$TPID"
	assert_threads_running "$TPID"
	state_check "$TPID" "$WORK/before.state"
	tcmd check
	[ "$REPLY" = ok ] || fail "$1: after the refused dump the target sees: $REPLY"
	stop_target
	n=$((n + 1))
}
refused io_uring "an io_uring instance, whose rings and requests in flight sdump cannot save"
refused userfaultfd "a userfaultfd of the process's own"
refused perf_event "a perf event"
refused bpf_map "a BPF map"
refused fanotify_perm "a fanotify group of a permission class" " \(FAN_CLASS_CONTENT or FAN_CLASS_PRE_CONTENT\), whose events read and not answered yet sdump cannot see"
refused fanotify_cleared "a fanotify group" " with a mark whose ignored mask a modification cleared, leaving a mark of no events that fanotify_mark\(\) cannot make again"
refused pidfd_parent "a pidfd" " of process $$; only a pidfd of the process itself or of a member of its tree is restored"
[ "$n" -ge 3 ] || skip "only $n of the refused kinds could be made here"
echo ok
