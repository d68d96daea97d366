#!/bin/bash
# Socket state sdump cannot save, refused at the dump with one line naming
# the fd, the target left running: an eBPF socket filter (SO_ATTACH_BPF),
# a multicast group membership, a unix seqpacket socket whose peer closed
# with bytes unread (an error the process has not read yet, which a peek
# would have consumed: the target still sees it after the refusal; a
# stream's is kept, t150).
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

refused() {
	local what=$1 pat=$2
	start_target_quiet sockopttarget --refuse "$what"
	expect_error "cannot dump pid $TPID: fd 3 is $pat" "$SDUMP" dump -t "$TPID" -D "$WORK/d-$what"
	assert_running "$TPID"
	tcmd check
	[ "$REPLY" = ok ] || fail "$what: the target after the refusal: $REPLY"
	echo "refused: $(cat "$WORK/stderr")"
	echo exit >&7
	wait_gone "$TPID"
	exec 7>&- 8<&-
}

refused ebpf "a socket with an eBPF filter \(SO_ATTACH_BPF\)"
refused mcast "a socket that joined the multicast group 239\.1\.2\.3 on lo"
refused reset "a unix seqpacket socket with an error the process has not read yet"
echo ok
