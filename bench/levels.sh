#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/levels.sh - compression levels against the sink; called by bench/run.
#
#   levels.sh --sdump SDUMP --target MEMTARGET --rusage RUSAGE --work DIR --mib N
#             [--fill heap|mix] [--levels "auto -1000 -10 -1 3 9"] [--limit BYTES_PER_S]
#             [--bandwidths "4M 64M"] [--reps N] [--warm WARM] [--env NAME]
#
# A memtarget of N MiB dumped (dump -R) at each level onto the disk under
# DIR; with --limit (root, losetup and mkfs.ext4, a cgroup write limit:
# v2's io.max or v1's blkio throttle) also onto a loop device limited to
# that rate; then moved at each level through a loopback migration
# (`receive` without restore, `migrate --max-rounds 1`) at each of
# --bandwidths. The levels run one after the other in each of --reps
# rounds (interleaved: each sees the same machine), memory warmed before
# each command (--warm). One JSON object per command on stdout, prefixed
# "BENCHJSON ", scenario "level": the sink ("disk", "disk-limited",
# "migrate"), its rate where known (limit_bps: the limit or --bandwidth),
# the level asked and the levels the pages got (compress_level, _min,
# _max), wall_ms (the command), total_ms and write_ms (the pass's own), the
# image's bytes (a migration's bytes sent), cpu_ms of the command (user
# and system) and per GiB of pages, the compressors' CPU, the sink
# measured (sink_rate), and reclaim_kib (what the kernel reported free to
# the host meanwhile).
set -euo pipefail

sdump=sdump target='' rusage='' work='' mib=64 fill=heap levels="auto -1000 -10 -1 3 9" limit=''
bandwidths="4M 64M" reps=1 warm='' envname=host
while [ $# -gt 0 ]; do
	case $1 in
	--sdump) sdump=$2 ;;
	--target) target=$2 ;;
	--rusage) rusage=$2 ;;
	--work) work=$2 ;;
	--mib) mib=$2 ;;
	--fill) fill=$2 ;;
	--levels) levels=$2 ;;
	--limit) limit=$2 ;;
	--bandwidths) bandwidths=$2 ;;
	--reps) reps=$2 ;;
	--warm) warm=$2 ;;
	--env) envname=$2 ;;
	*)
		echo "levels.sh: unknown option $1" >&2
		exit 2
		;;
	esac
	shift 2
done
[ -n "$target" ] && [ -n "$rusage" ] && [ -n "$work" ] || {
	echo "levels.sh: --target, --rusage and --work are needed" >&2
	exit 2
}
mkdir -p "$work"
log() { echo "levels: $*" >&2; }
REPORTED=/sys/module/page_reporting/parameters/reported_kib
reported_kib() { [ -r $REPORTED ] && cat $REPORTED; }
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$1" "$2"; }

TPID='' LOOP='' MNT='' CG=''
cleanup() {
	[ -n "$TPID" ] && kill -KILL "$TPID" 2>/dev/null
	[ -n "$MNT" ] && mountpoint -q "$MNT" && umount "$MNT"
	[ -n "$LOOP" ] && losetup -d "$LOOP"
	[ -n "$CG" ] && rmdir "$CG"
	rm -rf "$work/lv"
	true
}
trap cleanup EXIT

start_target() {
	rm -f "$work/t.in" "$work/t.out"
	mkfifo "$work/t.in" "$work/t.out"
	"$target" --mib "$mib" --fill "$fill" --dir "$work" <"$work/t.in" >"$work/t.out" 2>/dev/null &
	exec 7>"$work/t.in" 8<"$work/t.out"
	read -r -t 120 _ TPID <&8 || { log "the target did not start"; exit 1; }
}
stop_target() {
	kill -KILL "$TPID" 2>/dev/null || true
	wait "$TPID" 2>/dev/null || true
	exec 7>&- 8<&-
	TPID=''
}

# timed OUT CMD...: CMD under rusage, memory warmed first; WALL USER SYS RC, RECLAIM
timed() {
	local out=$1 k0 k1
	shift
	[ -n "$warm" ] && "$warm" $((mib * 2)) >/dev/null
	k0=$(reported_kib)
	RC=0
	"$rusage" "$out.ru" "$@" >"$out.json" 2>"$out.err" || RC=$?
	k1=$(reported_kib)
	RECLAIM=null
	[ -n "$k0" ] && [ -n "$k1" ] && RECLAIM=$((k1 - k0))
	read -r WALL USER SYS _ _ <"$out.ru"
}

# row SINK LIMIT LEVEL STATS_JSON IMAGE_BYTES: one result (stats from a pass's JSON)
row() {
	local s=$4 pages cpu
	pages=$(json "$s" "d['stats']['pages_written']")
	cpu=$(((USER + SYS) / 1000))
	printf 'BENCHJSON {"env":"%s","scenario":"level","tool":"sdump","sink":"%s","limit_bps":%s,"mem_mib":%d,"dirty_pct":null,"fill":"%s","level":"%s",' \
		"$envname" "$1" "${2:-null}" "$mib" "$fill" "$3"
	printf '"compress_level":%s,"compress_level_min":%s,"compress_level_max":%s,"sink_rate":%s,' \
		"$(json "$s" "d['stats']['compress_level']")" "$(json "$s" "d['stats']['compress_level_min']")" \
		"$(json "$s" "d['stats']['compress_level_max']")" "$(json "$s" "d['stats']['sink_rate']")"
	printf '"stall_ms":null,"wall_ms":%s,"total_ms":%s,"write_ms":%s,"image_bytes":%s,"cpu_ms":%s,"cpu_s_per_gib":%s,"compress_cpu_ms":%s,"reclaim_kib":%s}\n' \
		"$((WALL / 1000))" "$(($(json "$s" "d['stats']['total_us']") / 1000))" \
		"$(($(json "$s" "d['stats']['write_us']") / 1000))" "$5" "$cpu" \
		"$(python3 -c "print(round($cpu / 1000 / ($pages * 4096 / 2**30), 2) if $pages else 'null')")" \
		"$(($(json "$s" "d['stats']['compress_cpu_us']") / 1000))" "$RECLAIM"
}

# disk SINK DIR: each level's dump -R of the target into DIR, in each round
disk() {
	local sink=$1 dir=$2 rep l
	shift 2
	for ((rep = 1; rep <= reps; rep++)); do
		for l in $levels; do
			rm -rf "$dir/img"
			timed "$work/lv" "$@" "$sdump" dump -R -t "$TPID" -D "$dir/img" --compress-level "$l" --json
			[ "$RC" = 0 ] || { log "$sink, level $l: $(tail -n 1 "$work/lv.err")"; continue; }
			row "$sink" "$LIMIT_ROW" "$l" "$work/lv.json" "$(json "$work/lv.json" "d['stats']['bytes_written']")"
		done
	done
	rm -rf "$dir/img"
}

start_target
LIMIT_ROW=null
log "dump -R of $mib MiB ($fill) at levels $levels onto the disk under $work"
disk disk "$work"
stop_target

# the limited disk: a loop device under a cgroup write limit
if [ -n "$limit" ] && command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null; then
	MNT=$work/mnt
	mkdir -p "$MNT"
	truncate -s $((mib * 3 + 64))M "$work/loop.img"
	if LOOP=$(losetup -f --show "$work/loop.img") && mkfs.ext4 -q "$LOOP" && mount "$LOOP" "$MNT"; then
		majmin=$(lsblk -dno MAJ:MIN "$LOOP" | tr -d ' ')
		if [ -e /sys/fs/cgroup/blkio/blkio.throttle.write_bps_device ]; then
			CG=/sys/fs/cgroup/blkio/sdump-levels.$$
			mkdir "$CG" && echo "$majmin $limit" >"$CG/blkio.throttle.write_bps_device" || CG=''
		elif grep -qw io /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
			echo "+io +memory" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
			CG=/sys/fs/cgroup/sdump-levels.$$
			mkdir "$CG" && echo "$majmin wbps=$limit" >"$CG/io.max" || CG=''
		fi
	fi
	rm -f "$work/loop.img"
	if [ -n "$CG" ]; then
		start_target
		LIMIT_ROW=$limit
		log "the same onto a loop device limited to $limit B/s"
		disk disk-limited "$MNT" sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$CG"
		stop_target
	else
		log "no loop device under a cgroup write limit here: no disk-limited rows"
	fi
fi

# migrations over loopback at each bandwidth
port=$((7600 + $$ % 300))
for bw in $bandwidths; do
	bps=$(numfmt --from=iec "$bw")
	for ((rep = 1; rep <= reps; rep++)); do
		for l in $levels; do
			port=$((port + 1))
			rm -rf "$work/lv"
			"$sdump" receive -D "$work/lv" --listen "127.0.0.1:$port" 2>"$work/recv.err" &
			rpid=$!
			for ((i = 0; i < 100; i++)); do
				ss -Hltn "sport = :$port" | grep -q . && break
				sleep 0.1
			done
			start_target
			timed "$work/mig" "$sdump" migrate -t "$TPID" --to "127.0.0.1:$port" --bandwidth "$bw" \
				--max-rounds 1 --compress-level "$l" --json
			wait "$rpid" || RC=1
			stop_target
			[ "$RC" = 0 ] || { log "migrate at $bw, level $l: $(tail -n 1 "$work/mig.err")"; continue; }
			"$sdump" show -D "$work/lv/1" --json >"$work/lv.show.json"
			row migrate "$bps" "$l" "$work/lv.show.json" "$(json "$work/mig.json" "d['bytes_sent']")"
		done
	done
done
