#!/bin/bash
# dump -R copies the pages into memory while the target is frozen, resumes
# it, and compresses and writes them after: the target runs (and writes)
# while the image is still being written, and the image is still the
# moment of the freeze. --memory-budget too small, or 0, streams the pages
# as before; the image is the same either way, and restores. zstd's fast
# levels (down to -131072) are taken.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

start_target_quiet memtarget --mib 8 --threads 1 --ticker --dir "$WORK"
load_regions
for r in "${!REG_ADDR[@]}"; do
	tcmd "save $r $WORK/freeze.$r"
	[ "$REPLY" = ok ] || fail "target could not save $r"
done
tcmd sum
sum0=${REPLY#ok }
state_record "$TPID" "$WORK/state.before"
tcmd stall
# slow compression (level 19, one thread): the writing outlasts the freeze by far
"$SDUMP" dump -R -t "$TPID" -D "$WORK/held" --compress-level 19 --threads 1 -v \
	2>"$WORK/held.err" &
dpid=$!
# the target runs again while the dump still works (-v says when): it
# rewrites all its memory then
for ((i = 0; i < 3000; i++)); do
	grep -q "resumed after the copy" "$WORK/held.err" 2>/dev/null && break
	kill -0 "$dpid" 2>/dev/null || break
	sleep 0.01
done
assert_running "$TPID"
running=0
kill -0 "$dpid" 2>/dev/null && running=1
tcmd "dirty anon 1000 9"
tcmd "dirty thread0 1000 9"
kill -0 "$dpid" 2>/dev/null || running=0
wait "$dpid" || fail "dump -R failed: $(cat "$WORK/held.err")"
"$SDUMP" show -D "$WORK/held" --json >"$WORK/held.json" || fail "show"
[ $running = 1 ] || skip "the dump ended before the target had rewritten its memory (machine too fast for this test?)"
grep -q "resumed after the copy" "$WORK/held.err" || fail "no early resume in -v: $(cat "$WORK/held.err")"
# the freeze it reports ended at that resume, long before the dump did
freeze=$(json_int "$WORK/held.json" freeze_us)
total=$(json_int "$WORK/held.json" total_us)
[ "$((freeze * 2))" -lt "$total" ] || fail "frozen $freeze us of a pass of $total us"
held=$(json_int "$WORK/held.json" held_bytes)
[ "$held" -gt $((8 << 20)) ] || fail "held_bytes $held: the pages did not wait in memory"
[ "$(json_int "$WORK/held.json" cpu_us)" -gt 0 ] || fail "no cpu_us"
"$SDUMP" show -D "$WORK/held" >"$WORK/held.show" || fail "show"
grep -q '^memory .* copied frozen into memory' "$WORK/held.show" || fail "show says nothing of the memory held"
grep -q '^cpu .* per GiB written' "$WORK/held.show" || fail "show says nothing of the CPU"
# the image holds the memory of the freeze, not what the target wrote since
for r in "${!REG_ADDR[@]}"; do
	"$SDUMP" extract -D "$WORK/held" --addr "${REG_ADDR[$r]}" --len "${REG_LEN[$r]}" -o "$WORK/got.$r" ||
		fail "extract of $r failed"
	cmp -s "$WORK/freeze.$r" "$WORK/got.$r" || fail "region $r of the image is not the one of the freeze"
done
tcmd sum
[ "${REPLY#ok }" != "$sum0" ] || fail "the target did not change its memory after the freeze"

# streamed: a budget of 1 MiB is too small for it, 0 takes none
for b in 1M 0; do
	tcmd stall
	"$SDUMP" dump -R -t "$TPID" -D "$WORK/s$b" --memory-budget "$b" --json >"$WORK/s$b.json" ||
		fail "dump -R --memory-budget $b"
	[ "$(json_int "$WORK/s$b.json" held_bytes)" = 0 ] || fail "--memory-budget $b held the pages"
	verify_extract "$WORK/s$b" anon
done
# zstd's fast levels: -1000 stores the pages nearly raw, -20 compresses some
for l in -1000 -20; do
	"$SDUMP" pre-dump -t "$TPID" -D "$WORK/l$l" --compress-level "$l" --json >"$WORK/l$l.json" ||
		fail "pre-dump --compress-level $l"
	verify_extract "$WORK/l$l" anon
done
raw=$(($(json_int "$WORK/l-1000.json" pages_written) * 4096))
[ "$(json_int "$WORK/l-1000.json" bytes_written)" -gt $((raw * 9 / 10)) ] || fail "level -1000 compressed the pages"
[ "$(json_int "$WORK/l-20.json" bytes_written)" -lt "$(json_int "$WORK/l-1000.json" bytes_written)" ] ||
	fail "level -20 made no smaller image than -1000"

# usage errors: status 2, one line
for args in "dump -t $TPID -D $WORK/x --memory-budget 1G" "dump -R -t $TPID -D $WORK/x --memory-budget lots" \
	"pre-dump -t $TPID -D $WORK/x --compress-level -131073"; do
	st=0
	# shellcheck disable=SC2086 # the arguments, split on purpose
	"$SDUMP" $args 2>"$WORK/usage.err" || st=$?
	[ "$st" = 2 ] || fail "sdump $args exited $st, not 2"
	grep -Eq "memory-budget|compression level" "$WORK/usage.err" || fail "sdump $args said: $(cat "$WORK/usage.err")"
done

# the held image restores: the process of the freeze, its memory and state as they were
pid=$TPID
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
wait_pid_free "$pid"
# fds 7 and 8 stay open: the restored target reopens its FIFOs
"$SDUMP" restore -D "$WORK/held" -d --shell-job 2>"$WORK/restore.err" ||
	fail "restore: $(cat "$WORK/restore.err")"
state_check "$pid" "$WORK/state.before"
for r in "${!REG_ADDR[@]}"; do
	tcmd "save $r $WORK/got.$r"
	cmp -s "$WORK/freeze.$r" "$WORK/got.$r" || fail "region $r of the restored process is not the one of the freeze"
done
tcmd sum
[ "${REPLY#ok }" = "$sum0" ] || fail "the restored process's checksum is not the one of the freeze"
echo exit >&7
wait_gone "$pid"
echo ok
