#!/bin/bash
# dump -R --live: a target that rewrites every page of its region without
# pause (sweeptarget) is dumped while it runs, and each image is still one
# instant (one sweep boundary); the freeze is shorter than a frozen dump's,
# as the target measures it; write faults are served and shown; a later pass
# with --parent saves exactly what changed since the instant; the image
# restores; SIGKILL of sdump or the target's exit during the copy leave the
# target unharmed or no image; no userfaultfd: one clear refusal.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
mib=256
[ -n "${SDUMP_QUICK:-}" ] && mib=128

# region: ADDR and LEN of the target's swept region
region() {
	tcmd region
	read -r _ ADDR LEN <<<"$REPLY"
}

# consistent DIR: the region extracted from DIR is one instant
consistent() {
	"$SDUMP" extract -D "$1" --addr "$ADDR" --len "$LEN" -o "$WORK/got" || fail "extract of $1"
	"$TARGETS_DIR/sweeptarget" --check "$WORK/got" >"$WORK/check" ||
		fail "$1 is not one instant: $(cat "$WORK/check")"
	rm -f "$WORK/got"
}

# sweeping: the target's sweeper runs on
sweeping() {
	counter_grows sweeps 50 0.1 ||
		fail "the target stopped sweeping ($COUNTER_FROM, then $COUNTER_TO)${1:-}"
}

stall() {
	tcmd stall
	STALL=${REPLY#ok }
}

start_target_quiet sweeptarget --mib "$mib"
region
sleep 0.3
sweeping

# --- a frozen dump -R, for comparison
stall
"$SDUMP" dump -t "$TPID" -D "$WORK/frozen" -R --track none 2>"$WORK/err" || fail "dump -R: $(cat "$WORK/err")"
stall
frozen_stall=$STALL
consistent "$WORK/frozen"

# --- live dumps, each one instant, a chain of them
stalls=()
for i in 1 2 3; do
	parent=()
	[ "$i" -gt 1 ] && parent=(--parent "$WORK/live$((i - 1))")
	stall
	"$SDUMP" dump -t "$TPID" -D "$WORK/live$i" -R --live "${parent[@]}" 2>"$WORK/err" ||
		fail "dump --live $i: $(cat "$WORK/err")"
	stall
	live_stall=$STALL
	assert_running "$TPID"
	assert_threads_running "$TPID"
	sweeping " after live dump $i"
	consistent "$WORK/live$i"
	"$SDUMP" show -D "$WORK/live$i" --json >"$WORK/show.json" || fail "show live$i"
	[ "$(json_get "$WORK/show.json" 'd["stats"]["live"]')" = True ] || fail "show: live$i is not a live dump"
	faults=$(json_get "$WORK/show.json" 'd["stats"]["live_faults"]')
	[ "$faults" -gt 0 ] || fail "live$i: no write fault served, yet the target writes without pause"
	# through a file: with pipefail, grep -q ending early fails a show whose
	# output (over 4 KiB here) is still being written (SIGPIPE)
	"$SDUMP" show -D "$WORK/live$i" >"$WORK/show.txt" || fail "show live$i"
	grep -q "^live .* write faults served" "$WORK/show.txt" || fail "show does not report the faults"
	echo "live $i: $(cat "$WORK/check"); $faults faults; stall ${live_stall} us (frozen dump: ${frozen_stall} us)"
	stalls+=("$live_stall")
done
# the median of the three, against the frozen dump's (one run may meet a busy machine)
median=$(printf '%s\n' "${stalls[@]}" | sort -n | sed -n 2p)
[ "$median" -lt "$frozen_stall" ] ||
	fail "live dumps stalled the target ${stalls[*]} us, a frozen dump ${frozen_stall} us"

# --- the next pass saves exactly what changed since the live dump's instant:
# --- the sweeper pauses, and a pass with --parent must give its exact memory
tcmd pause
"$SDUMP" dump -t "$TPID" -D "$WORK/after" -R --parent "$WORK/live3" 2>"$WORK/err" ||
	fail "dump --parent live3: $(cat "$WORK/err")"
tcmd "save $WORK/want"
"$SDUMP" extract -D "$WORK/after" --addr "$ADDR" --len "$LEN" -o "$WORK/got" || fail "extract after"
cmp -s "$WORK/want" "$WORK/got" || fail "the pass after a live dump misses writes: $(cmp "$WORK/want" "$WORK/got")"
"$SDUMP" show -D "$WORK/after" --json >"$WORK/show.json"
inpar=$(json_get "$WORK/show.json" 'd["stats"]["pages_in_parent"]')
echo "pass after the live chain: exact, $inpar pages from the parent"
# a live dump of a paused target, then a pass after it: nothing written, all in parent
"$SDUMP" dump -t "$TPID" -D "$WORK/quiet" -R --live --parent "$WORK/after" 2>"$WORK/err" || fail "quiet live: $(cat "$WORK/err")"
# few pages to save: copied while frozen, no userfaultfd, no second freeze
"$SDUMP" show -D "$WORK/quiet" --json >"$WORK/show.json"
[ "$(json_get "$WORK/show.json" 'd["stats"]["live_faults"] == 0 and d["stats"]["refreeze_us"] == 0 and d["stats"]["live_pages_frozen"] == d["stats"]["pages_written"]')" = True ] ||
	fail "a live dump of few written pages did not copy them frozen: $(json_get "$WORK/show.json" 'd["stats"]')"
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/quiet2" --parent "$WORK/quiet" 2>"$WORK/err" || fail "pre-dump after quiet: $(cat "$WORK/err")"
"$SDUMP" show -D "$WORK/quiet2" --json >"$WORK/show.json"
[ "$(json_get "$WORK/show.json" 'd["stats"]["pages_in_parent"] >= '"$((LEN / 4096))")" = True ] ||
	fail "after a live dump of an idle region, the next pass copied it again: $(json_get "$WORK/show.json" 'd["stats"]')"
tcmd resume

# --- --track none and soft-dirty-less kernels: the copier lifts protection as it goes
"$SDUMP" dump -t "$TPID" -D "$WORK/none" -R --live --track none 2>"$WORK/err" || fail "live --track none: $(cat "$WORK/err")"
consistent "$WORK/none"

# --- SIGKILL of sdump during the copy: the target runs on unharmed
# (a slow copy: one thread at the highest level). The copy starts after
# the "collect" line of -v; before it, during the freeze, sdump may be
# changing a thread's registers (see README, Guarantees).
# copy_started FILE: wait until the pass logged the end of its freeze
copy_started() {
	local i
	for ((i = 0; i < 300; i++)); do
		grep -q ": collect " "$1" 2>/dev/null && return 0
		sleep 0.01
	done
	fail "the pass never reached its copy: $(cat "$1")"
}
for round in KILL:0 KILL:0.05 KILL:0.2 INT:0.1 TERM:0.02; do
	sig=${round%:*} delay=${round#*:}
	rm -rf "$WORK/k"
	"$SDUMP" -v dump -t "$TPID" -D "$WORK/k" -R --live --threads 1 --compress-level 19 2>"$WORK/err" &
	sp=$!
	copy_started "$WORK/err"
	sleep "$delay"
	kill -s "$sig" "$sp" 2>/dev/null || true
	st=0
	wait "$sp" 2>/dev/null || st=$?
	if grep -q ": commit " "$WORK/err"; then
		echo "note: the pass ended before its SIG$sig at ${delay}s"
	elif [ "$sig" != KILL ]; then
		[ "$st" = 1 ] && grep -q "^sdump: interrupted" "$WORK/err" ||
			fail "SIG$sig during the live copy: exit $st, $(cat "$WORK/err")"
	fi
	assert_running "$TPID"
	assert_threads_running "$TPID"
	sweeping " after SIG$sig of sdump at ${delay}s"
	[ -e "$WORK/k/inventory.img" ] && ! grep -q ": commit " "$WORK/err" && fail "a killed pass left an inventory"
	tcmd pause
	tcmd "save $WORK/now"
	"$TARGETS_DIR/sweeptarget" --check "$WORK/now" >"$WORK/check" || fail "the target's memory is damaged: $(cat "$WORK/check")"
	tcmd resume
done
echo "SIGKILL, SIGINT, SIGTERM during the copy: the target sweeps on, its memory whole"

# --- no userfaultfd: one clear line, nothing made, the target untouched
expect_error "live.*userfaultfd" "$TARGETS_DIR/nouffd" "$SDUMP" dump -t "$TPID" -D "$WORK/nouffd" -R --live
"$TARGETS_DIR/nouffd" "$SDUMP" check | grep -q "^uffd-wp-sync *missing" || fail "check does not say --live cannot work"
"$SDUMP" check | grep -q "^uffd-wp-sync *found" || fail "check does not find what --live needs"
[ ! -e "$WORK/nouffd/inventory.img" ] || fail "a refused live dump left an image"
st=0
"$SDUMP" dump -t "$TPID" -D "$WORK/nor" --live 2>"$WORK/err" || st=$?
[ "$st" = 2 ] && grep -q "needs -R" "$WORK/err" || fail "--live without -R: exit $st, $(cat "$WORK/err")"
assert_running "$TPID"

# --- restore of a live image: the process comes back and sweeps on
tcmd sweeps
before=${REPLY#ok }
"$SDUMP" dump -t "$TPID" -D "$WORK/last" -R --live --parent "$WORK/live3" 2>"$WORK/err" || fail "last live: $(cat "$WORK/err")"
consistent "$WORK/last"
img_s=$(awk '{print $3}' "$WORK/check")
tcmd sweeps
after=${REPLY#ok }
# the instant was between the two counts
[ "$img_s" -ge "$before" ] && [ "$img_s" -le $((after + 1)) ] ||
	fail "the image holds sweep $img_s, not one between $before and $((after + 1))"
pid=$TPID
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
exec 7>&- 8<&-
wait_pid_free "$pid"
start_restore() {
	"$SDUMP" restore -D "$WORK/last" --shell-job -d 2>"$WORK/restore.err" ||
		fail "restore of a live image: $(cat "$WORK/restore.err")"
}
# the restored target reopens its fifos: keep both ends open meanwhile
exec 7<>"$WORK/target.in" 8<>"$WORK/target.out"
start_restore
assert_running "$pid"
tcmd pause
tcmd "save $WORK/now"
"$TARGETS_DIR/sweeptarget" --check "$WORK/now" >"$WORK/check" || fail "restored memory: $(cat "$WORK/check")"
tcmd resume
sweeping " after the restore"
s=$(awk '{print $3}' "$WORK/check")
[ "$s" -ge "$img_s" ] || fail "the restored target is at sweep $s, the image at $img_s"
echo "restored: pid $pid sweeps on ($(cat "$WORK/check"))"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-

# --- the target unmaps and moves memory during the copy: either the pass
# --- had copied it (an image of one instant) or it says the instant is lost
start_target_quiet memtarget --mib "$mib" --dir "$WORK"
load_regions
for cmd in "munmap anon" "mremap sparse"; do
	"$SDUMP" -v dump -t "$TPID" -D "$WORK/moved" -R --live --threads 1 --compress-level 19 2>"$WORK/err" &
	sp=$!
	copy_started "$WORK/err"
	tcmd "$cmd"
	[ "$REPLY" = ok ] || fail "$cmd during the live copy: $REPLY"
	st=0
	wait "$sp" || st=$?
	if [ "$st" = 0 ]; then
		echo "$cmd during the copy: after the copy of that memory, image made"
	else
		grep -q "^sdump: pid $TPID unmapped memory at 0x[0-9a-f]* before it was copied" "$WORK/err" ||
			fail "$cmd during the live copy: exit $st, $(cat "$WORK/err")"
		[ ! -e "$WORK/moved/inventory.img" ] || fail "a pass that lost its instant left an inventory"
		echo "$cmd during the copy: $(grep '^sdump:' "$WORK/err")"
	fi
	rm -rf "$WORK/moved"
	assert_running "$TPID"
	assert_threads_running "$TPID"
done
load_regions
verify_extract "$(mkdir -p "$WORK/x" && "$SDUMP" pre-dump -t "$TPID" -D "$WORK/x/1" --track none && echo "$WORK/x/1")"
stop_target

# --- the target exits during the copy: an error, no image
start_target_quiet sweeptarget --mib "$mib"
"$SDUMP" dump -t "$TPID" -D "$WORK/gone" -R --live --threads 1 --compress-level 19 2>"$WORK/err" &
sp=$!
sleep 0.2
kill -KILL "$TPID"
st=0
wait "$sp" || st=$?
[ "$st" = 1 ] || fail "sdump exited $st when its target died during the live copy: $(cat "$WORK/err")"
grep -q "^sdump: " "$WORK/err" || fail "no error line: $(cat "$WORK/err")"
[ ! -e "$WORK/gone/inventory.img" ] || fail "a pass whose target died left an inventory"
echo "target killed during the copy: $(cat "$WORK/err")"
echo ok
