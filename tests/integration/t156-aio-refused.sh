#!/bin/bash
# An aio context (io_setup), whose ring the kernel maps into the process:
# a dump, a pre-dump and a check each refuse it with one line naming the
# ring's addresses and what to do; the target is left running, untraced,
# its aio context still working (io_submit, io_getevents), and no image
# is written.
. "$(dirname "$0")/../lib.sh"

start_target_quiet aiotarget
pid=$TPID
ring=$(awk '$6 == "/[aio]" {print $1}' "/proc/$pid/maps")
[ -n "$ring" ] || skip "no aio ring in the maps (CONFIG_AIO off?)"
a=0x${ring%-*} b=0x${ring#*-}
msg="cannot dump pid $pid: $a-$b is the ring of an aio context \(io_setup\), not supported yet; destroy it \(io_destroy\) before the dump"
expect_error "$msg" "$SDUMP" dump -t "$pid" -D "$WORK/d"
assert_threads_running "$pid"
[ ! -e "$WORK/d/inventory.img" ] || fail "the refused dump wrote an inventory.img"
expect_error "$msg" "$SDUMP" pre-dump -t "$pid" -D "$WORK/p"
assert_threads_running "$pid"
"$SDUMP" check -t "$pid" >"$WORK/check" 2>&1 && fail "check found no obstacle"
grep -q "is the ring of an aio context (io_setup)" "$WORK/check" || fail "check: $(cat "$WORK/check")"
tcmd check
[ "$REPLY" = ok ] || fail "the refused target's aio: $REPLY"
stop_target
echo ok
