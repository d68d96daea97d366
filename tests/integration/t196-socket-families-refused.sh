#!/bin/bash
# Socket state of other families than unix, TCP and UDP that sdump cannot
# save, refused at the dump with one line naming the fd and what the user
# can do, the target left running with its state untouched: a netlink
# socket with the kernel's answer queued (read whole by the target after
# the refusal), a UDP-Lite datagram from a sender outside the process, an
# ICMP socket with an echo reply queued (each read by the target after the
# refusal), a netlink socket and a UDP-Lite one of another network
# namespace than sdump's.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

refused() { refused_by skfamtarget "$@"; }

refused nlqueue "a netlink socket \(protocol 0, port id [0-9]+\) with messages from the kernel queued"
refused liteout "an IPv4 UDP-Lite socket with a datagram queued from 127\.0\.0\.1:[0-9]+, a sender outside the process"
read -r lo hi </proc/sys/net/ipv4/ping_group_range
if [ "$lo" -le "$(id -g)" ] && [ "$(id -g)" -le "$hi" ]; then
	refused pingqueue "an IPv4 ICMP socket with echo replies queued"
fi

command -v unshare >/dev/null || skip "no unshare(1)"
unshare -n "$TARGETS_DIR/skfamtarget" --refuse nlqueue <"$WORK/target.in" >"$WORK/target.out" 2>"$WORK/target.err" &
TARGET_PIDS+=($!)
exec 7>"$WORK/target.in" 8<"$WORK/target.out"
read -r -t 60 word pid <&8 || fail "skfamtarget in a network namespace did not start: $(cat "$WORK/target.err")"
expect_error "cannot dump pid $pid: fd 3 is a netlink socket \(protocol 0\) of another network namespace than sdump's" \
	"$SDUMP" dump -t "$pid" -D "$WORK/d-netns"
assert_running "$pid"
echo "refused: $(cat "$WORK/stderr")"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-

# an inet socket too (lo up there, for its address)
unshare -n sh -c 'ip link set lo up && exec "$0" --refuse liteout' "$TARGETS_DIR/skfamtarget" \
	<"$WORK/target.in" >"$WORK/target.out" 2>"$WORK/target.err" &
TARGET_PIDS+=($!)
exec 7>"$WORK/target.in" 8<"$WORK/target.out"
read -r -t 60 word pid <&8 || fail "skfamtarget in a network namespace did not start: $(cat "$WORK/target.err")"
expect_error "cannot dump pid $pid: fd 3 is an IPv4 UDP-Lite socket of another network namespace than sdump's" \
	"$SDUMP" dump -t "$pid" -D "$WORK/d-netns-inet"
assert_running "$pid"
echo "refused: $(cat "$WORK/stderr")"
echo exit >&7
wait_gone "$pid"
echo ok
