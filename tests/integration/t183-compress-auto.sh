#!/bin/bash
# --compress-level auto fits the sink: the same memory dumped onto a disk
# limited to a few MiB/s (a loop device under a cgroup's write limit) gets
# a higher zstd level than onto the same disk without the limit, each pass
# says the level(s) it chose, the sink it measured and its compressors'
# CPU (--json, show), the slow pass takes no longer than writing its pages
# raw would have, and the image restores exact (memtarget's sum).
. "$(dirname "$0")/../lib.sh"

command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null || skip "needs losetup and mkfs.ext4"
LIMIT=$((8 << 20)) # bytes per second the slow sink takes

LOOP=
CG=
zl_cleanup() {
	cleanup
	mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"
	[ -n "$LOOP" ] && losetup -d "$LOOP" 2>/dev/null
	[ -n "$CG" ] && rmdir "$CG" 2>/dev/null
	true
}
MNT=$(mktemp -d "${TMPDIR:-/tmp}/sdump-t183.XXXXXX")
trap 'zl_cleanup; rmdir "$MNT" 2>/dev/null || true' EXIT
truncate -s 256M "$MNT.img"
LOOP=$(losetup -f --show "$MNT.img") || skip "no loop device"
rm -f "$MNT.img" # the loop device holds it
mkfs.ext4 -q "$LOOP" && mount "$LOOP" "$MNT" || skip "cannot make a file system on $LOOP"
majmin=$(lsblk -dno MAJ:MIN "$LOOP" | tr -d ' ')

# the write limit: cgroup v2's io.max, or v1's blkio throttle
if [ -d /sys/fs/cgroup/blkio ] && [ -e /sys/fs/cgroup/blkio/blkio.throttle.write_bps_device ]; then
	CG=/sys/fs/cgroup/blkio/sdump-t183.$$
	mkdir "$CG"
	echo "$majmin $LIMIT" >"$CG/blkio.throttle.write_bps_device" || skip "blkio throttle refused"
elif grep -qw io /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	# writeback is charged to a cgroup with both controllers
	echo "+io +memory" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
	CG=/sys/fs/cgroup/sdump-t183.$$
	mkdir "$CG"
	echo "$majmin wbps=$LIMIT" >"$CG/io.max" || skip "io.max refused"
else
	skip "no cgroup write limit (io.max or blkio) here"
fi
# the limit holds for a file written and synced from the cgroup (4 MiB: about 0.5 s)
t0=$(date +%s%N)
sh -c 'echo $$ >"$1/cgroup.procs" && exec dd if=/dev/urandom of="$2" bs=1M count=4 conv=fsync status=none' \
	sh "$CG" "$MNT/probe" || fail "cannot write the loop device"
[ $((($(date +%s%N) - t0) / 1000000)) -ge 250 ] || skip "the cgroup's write limit does not hold for this file system"
rm -f "$MNT/probe"

start_target_quiet memtarget --mib 48 --dir "$WORK"
load_regions
tcmd sum
sum0=${REPLY#ok }

# fast: the disk as it is (its pages then cost more to compress than to write)
"$SDUMP" dump -R -t "$TPID" -D "$MNT/fast" --compress-level auto --json -v >"$WORK/fast.json" \
	2>"$WORK/fast.err" || fail "dump -R onto the disk: $(cat "$WORK/fast.err")"
verify_extract "$MNT/fast"
# slow: the same disk limited by the cgroup the dump runs in
sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$CG" \
	"$SDUMP" dump -t "$TPID" -D "$MNT/slow" --compress-level auto --json -v >"$WORK/slow.json" \
	2>"$WORK/slow.err" || fail "dump onto the limited disk: $(cat "$WORK/slow.err")"
wait "$TPID" 2>/dev/null || true
wait_pid_free "$TPID"

st() { json_get "$WORK/$1.json" "d['stats']['$2']"; }
fast=$(st fast compress_level)
slow=$(st slow compress_level)
echo "fast: level $fast ($(st fast compress_level_min) to $(st fast compress_level_max)), sink $(st fast sink_rate) B/s"
echo "slow: level $slow ($(st slow compress_level_min) to $(st slow compress_level_max)), sink $(st slow sink_rate) B/s"
[ "$slow" -gt "$fast" ] || fail "level $slow under the slow sink, $fast under the fast one"
# the sinks as measured: the limit, and far more than it
rate=$(st slow sink_rate)
[ "$rate" -gt $((LIMIT / 2)) ] && [ "$rate" -lt $((LIMIT * 2)) ] || fail "slow sink measured $rate B/s, limit $LIMIT"
[ "$(st fast sink_rate)" -gt $((LIMIT * 4)) ] || fail "fast sink measured $(st fast sink_rate) B/s"
[ "$(st slow compress_cpu_us)" -gt 0 ] || fail "no compress_cpu_us"
# no longer than the raw pages would have taken to write at the limit
raw_us=$(($(st slow pages_written) * 4096 * 1000000 / LIMIT))
[ "$(st slow write_us)" -le "$raw_us" ] || fail "the slow pass wrote for $(st slow write_us) us, raw $raw_us us"
grep -q "compress level auto: $slow " "$WORK/slow.err" || fail "-v says nothing of the level: $(cat "$WORK/slow.err")"
"$SDUMP" show -D "$MNT/slow" >"$WORK/show.txt" || fail "show"
grep -q "^compress  level $slow .*auto for a sink of" "$WORK/show.txt" || fail "show: $(cat "$WORK/show.txt")"

# a fixed level is said as such
"$SDUMP" show -D "$MNT/fast" --json >"$WORK/fshow.json" || fail "show --json"
[ "$(json_get "$WORK/fshow.json" "d['stats']['compress_level']")" = "$fast" ] || fail "show --json's level"

# the image of the slow pass, its frames of several levels, restores exact
# (fds 7 and 8 stay open: the restored target reopens its FIFOs)
"$SDUMP" restore -D "$MNT/slow" -d --shell-job 2>"$WORK/restore.err" ||
	fail "restore: $(cat "$WORK/restore.err")"
tcmd sum
[ "${REPLY#ok }" = "$sum0" ] || fail "the restored process's sum is not the one dumped"
echo exit >&7
wait_gone "$TPID"

st=0
"$SDUMP" pre-dump -t $$ -D "$WORK/x" --compress-level fast 2>"$WORK/usage.err" || st=$?
[ "$st" = 2 ] && grep -q "compression level 'fast' (auto, or" "$WORK/usage.err" || fail "--compress-level fast: $st"
echo ok
