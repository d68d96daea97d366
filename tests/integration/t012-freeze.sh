#!/bin/bash
# The freeze of an incremental pass does not grow with the target's memory:
# a 512 MiB target with 1% of its pages written stalls well under 50 ms, as
# the target itself measures it (a thread that wakes every 100 us).
. "$(dirname "$0")/../lib.sh"
"$SDUMP" check | grep -q '^track-auto *found' || skip "no page tracking on this kernel"
export SDUMP_STATE_DIR="$WORK/state"

start_target memtarget --mib 512 --ticker --dir "$WORK"
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/1" || fail "pass 1"
worst=0
for i in 2 3 4; do
	tcmd "dirty anon 10 $i"
	tcmd stall # reset the ticker's record
	"$SDUMP" pre-dump -t "$TPID" -D "$WORK/$i" --parent "$WORK/$((i - 1))" || fail "pass $i"
	tcmd stall
	gap=${REPLY#ok }
	"$SDUMP" show -D "$WORK/$i" --json >"$WORK/$i.json"
	echo "pass $i: target stalled $gap us at most; sdump froze it $(json_int "$WORK/$i.json" freeze_us) us"
	[ "$gap" -gt "$worst" ] && worst=$gap
done
[ "$worst" -lt 50000 ] || fail "the target stalled $worst us in an incremental pass"
stop_target
echo ok
