#!/bin/bash
# Raw frames: a pass at --compress-level -1000 stores its pages as they are
# (pages.img is its header and whole pages, nothing compressed), and a
# restore places them straight from the file. A chain of such a pre-dump and
# a final dump at the default level restores every byte of every region; a
# byte changed in a raw frame (no zstd to notice) is refused with one line
# naming the frame, and no process is left behind; the image put right
# restores. Extract and verify read raw frames too.
. "$(dirname "$0")/../lib.sh"

# save_all PREFIX: every region as the target saves it, to $WORK/PREFIX.NAME
save_all() {
	local r
	load_regions
	for r in "${!REG_ADDR[@]}"; do
		tcmd "save $r $WORK/$1.$r"
		[ "$REPLY" = ok ] || fail "target could not save $r: $REPLY"
	done
}

start_target_quiet memtarget --mib 12 --threads 2 --fill heap --dir "$WORK"
pid=$TPID
"$SDUMP" pre-dump -t "$pid" -D "$WORK/p1" --compress-level -1000 2>"$WORK/err" ||
	fail "pre-dump --compress-level -1000: $(cat "$WORK/err")"
tcmd "dirty anon 100 7"
tcmd "dirty thread1 300 8"
save_all want
TIDS=$(tids_of "$pid")
MAPS=$(maps_of "$pid")
"$SDUMP" dump -t "$pid" -D "$WORK/p2" --parent "$WORK/p1" 2>"$WORK/err" || fail "dump --parent: $(cat "$WORK/err")"
wait_gone "$pid"
wait "$pid" 2>/dev/null || true

# pass 1 holds whole pages, as they are: zstd's frames (even at -1000, its
# block headers) would not make the file its 16-byte header and pages
size=$(stat -c %s "$WORK/p1/pages.img")
"$SDUMP" show --json -D "$WORK/p1" >"$WORK/p1.json" || fail "show p1"
written=$(json_get "$WORK/p1.json" 'd["stats"]["pages_written"] - d["stats"]["pages_zero"]')
[ "$(json_get "$WORK/p1.json" 'd["stats"]["compress_level"]')" = -1000 ] || fail "pass 1 is not at level -1000"
[ $(((size - 16) % 4096)) = 0 ] && [ $((size - 16)) -ge $((12 << 20)) ] ||
	fail "pass 1's pages.img is $size bytes: not a header and whole pages ($written pages written)"
# the final dump at the default level is compressed
[ "$(stat -c %s "$WORK/p2/pages.img")" -lt $((size / 2)) ] || fail "pass 2 is not compressed"
"$SDUMP" verify -D "$WORK/p2" >"$WORK/verify.out" 2>&1 || fail "verify: $(cat "$WORK/verify.out")"
# extract reads them in order, through its read-ahead
for r in "${!REG_ADDR[@]}"; do
	"$SDUMP" extract -D "$WORK/p2" --addr "${REG_ADDR[$r]}" --len "${REG_LEN[$r]}" -o "$WORK/x.$r" ||
		fail "extract of $r failed"
	cmp -s "$WORK/want.$r" "$WORK/x.$r" || fail "region $r as extract reads it differs"
done

# one byte changed in the fourth raw frame (the big region's pages, which
# pass 2 keeps from pass 1 for the most part): refused, nothing left running
off=$((16 + 3 * 1048576 + 5000))
orig=$(dd if="$WORK/p1/pages.img" bs=1 skip=$off count=1 status=none | od -An -tu1 | tr -d ' ')
printf "\\x$(printf %02x $(((orig + 1) % 256)))" |
	dd of="$WORK/p1/pages.img" bs=1 seek=$off count=1 conv=notrunc status=none
expect_error "pages.img' is corrupt: checksum mismatch in frame 3" \
	"$SDUMP" restore -D "$WORK/p2" --shell-job -d
[ ! -e "/proc/$pid" ] || fail "a refused restore left pid $pid ($(proc_state "$pid"))"
printf "\\x$(printf %02x "$orig")" | dd of="$WORK/p1/pages.img" bs=1 seek=$off count=1 conv=notrunc status=none

# put right, it restores: same threads, map and bytes of every region
"$SDUMP" -v restore -D "$WORK/p2" --shell-job -d 2>"$WORK/restore.err" ||
	fail "restore -d: $(cat "$WORK/restore.err")"
assert_running "$pid"
[ "$(tids_of "$pid")" = "$TIDS" ] || fail "restored threads '$(tids_of "$pid")', dumped '$TIDS'"
got=$(maps_of "$pid")
[ "$got" = "$MAPS" ] || fail "the memory map differs: $(diff <(echo "$MAPS") <(echo "$got"))"
for r in "${!REG_ADDR[@]}"; do
	tcmd "save $r $WORK/got.$r"
	[ "$REPLY" = ok ] || fail "restored target could not save $r: $REPLY"
	cmp -s "$WORK/want.$r" "$WORK/got.$r" || fail "region $r differs after the restore ($(cmp "$WORK/want.$r" "$WORK/got.$r" 2>&1 | head -n 1))"
	read_mem "$pid" "${REG_ADDR[$r]}" "${REG_LEN[$r]}" "$WORK/mem.$r" || fail "cannot read region $r of $pid"
	cmp -s "$WORK/want.$r" "$WORK/mem.$r" || fail "region $r as /proc/$pid/mem reads it differs"
done
tcmd "dirty anon 200 99"
case "$REPLY" in "ok "[1-9]*) ;; *) fail "dirty after the restore: $REPLY" ;; esac
echo "restored from raw and zstd frames: ${#REG_ADDR[@]} regions equal"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-
echo ok
