#!/bin/bash
# A final dump reads most of its process's state through batches of
# injected calls: one resume of the thread for many calls, run by the
# trampoline, which ends each batch on a signal the thread ignores (SIGURG,
# SIGWINCH or SIGCHLD) so that it stops for sdump. Here: batches are used;
# sdump killed (SDUMP_FAULT=die:N) in the middle of one leaves the target
# running on as it was, the trampoline's tail putting the thread's registers
# back; with all three signals caught by the process none is free, every
# call goes one at a time, and the image still holds what the batches would
# have read (the restored process catches the same signals).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/faults.sh"
export SDUMP_STATE_DIR="$WORK/state"

start_target memtarget --mib 16 --threads 1 --ticker --dir "$WORK"
target_snapshot

# batches, and how many calls they hold
"$SDUMP" -vv dump -R --track none -t "$TPID" -D "$WORK/b" 2>"$WORK/b.err" || fail "dump -R: $(cat "$WORK/b.err")"
nb=$(grep -c ': syscall [0-9]* = .* (batch)$' "$WORK/b.err" || true)
[ "$nb" -ge 60 ] || fail "only $nb calls in batches"
! grep -q "no signal to end a batch on" "$WORK/b.err" || fail "a batch fell back with the signals free"

# killed in the middle of a batch: the 19th call through the trampoline (die:N
# counts no other) is the first batch's 18th (after the scratch area's mmap)
st=0
SDUMP_FAULT=die:19 "$SDUMP" -vv dump -R --track none -t "$TPID" -D "$WORK/d" 2>"$WORK/d.err" || st=$?
[ "$st" = 137 ] || fail "die:19: sdump exited $st, not killed"
grep -q "killed (SDUMP_FAULT) in a batch of [0-9]* calls, after its call 17$" "$WORK/d.err" ||
	fail "die:19 did not land in the middle of a batch: $(grep -i 'batch\|killed' "$WORK/d.err" | tail -3)"
sleep 0.05
assert_running "$TPID"
assert_threads_running "$TPID"
extra=$(diff <(echo "$SNAP_MAPS") "/proc/$TPID/maps" | grep '^[<>]' || true)
bad=$(grep -v '^> [0-9a-f]*-[0-9a-f]* [-r][-w][-x]p 00000000 00:00 0 *$' <<<"$extra" || true)
[ -z "$bad" ] || fail "die:19: the target's map changed beyond sdump's pages: $bad"
[ "$(fds_of "$TPID")" = "$SNAP_FDS" ] || fail "die:19: the target's fds changed"
[ "$(masks_of "$TPID")" = "$SNAP_MASKS" ] || fail "die:19: the target's signal masks changed: $(masks_of "$TPID")"
tcmd sum
[ "$REPLY" = "$SNAP_SUM" ] || fail "die:19: the target's memory changed"
counter_grows ticks 100 0.01 || fail "die:19: the ticker thread stopped"
for t in /proc/"$TPID"/task/*; do
	grep -q '^SigPnd:	0*$' "$t/status" || fail "a signal left pending in thread ${t##*/}: $(grep SigPnd "$t/status")"
done

# no signal free: one call at a time, and the answers in the image
tcmd catch
[ "$REPLY" = ok ] || fail "catch: $REPLY"
cgt=$(awk '/^SigCgt:/ {print $2}' "/proc/$TPID/status")
nthreads=$(ls "/proc/$TPID/task" | wc -l)
"$SDUMP" -vv dump -t "$TPID" -D "$WORK/f" 2>"$WORK/f.err" || fail "dump: $(cat "$WORK/f.err")"
grep -q "no signal to end a batch on: one call at a time" "$WORK/f.err" || fail "no fallback to one call at a time"
! grep -q '(batch)$' "$WORK/f.err" || fail "a batch ran with every signal caught"
st=0
wait "$TPID" 2>/dev/null || st=$?
[ "$st" = 137 ] || fail "the dump did not kill the target (status $st)"
# fds 7 and 8 stay open: the restored target reopens its FIFOs
"$SDUMP" restore -D "$WORK/f" --shell-job -d 2>"$WORK/r.err" || fail "restore: $(cat "$WORK/r.err")"
wait_restored "$TPID" "$nthreads" memtarget
[ "$(awk '/^SigCgt:/ {print $2}' "/proc/$TPID/status")" = "$cgt" ] ||
	fail "the restored process catches $(awk '/^SigCgt:/ {print $2}' "/proc/$TPID/status"), not $cgt"
tcmd sum
[ "$REPLY" = "$SNAP_SUM" ] || fail "the restored process's memory differs"
echo exit >&7
wait_gone "$TPID"
echo "ok: $nb calls in batches, killed in one with the target intact, one at a time with no signal free"
