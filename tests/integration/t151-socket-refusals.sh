#!/bin/bash
# Socket state sdump cannot save, refused at the dump with one line naming
# the fd, the target left running: an eBPF socket filter (SO_ATTACH_BPF),
# a multicast group membership, a unix seqpacket socket whose peer closed
# with bytes unread (an error the process has not read yet, which a peek
# would have consumed: the target still sees it after the refusal; a
# stream's is kept, t150).
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

refused() { refused_by sockopttarget "$@"; }

refused ebpf "a socket with an eBPF filter \(SO_ATTACH_BPF\)"
refused mcast "a socket that joined the multicast group 239\.1\.2\.3 on lo"
refused reset "a unix seqpacket socket with an error the process has not read yet"
echo ok
