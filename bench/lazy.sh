#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/lazy.sh - lazy restores beside eager ones; called by bench/run.
#
#   lazy.sh --sdump SDUMP --target LAZYTARGET --sizes "MIB..." --work DIR [--env NAME] [--warm WARM]
#
# For each size: a lazytarget of that many MiB, dumped once; then restored
# (-d --shell-job) eagerly once and with --lazy three times, its "answer"
# queued before the restore. Times from the start of the command: to the
# process running (the command's return for an eager restore; for a lazy
# one its "running after", from the library's start, plus the command's
# own start-up: the shortest of five 'sdump --version', its exec and
# dynamic linking, as startup_ms), to its first answer, to its memory
# complete (the eager restore's return; the lazy helper's "memory complete
# after", plus the start-up). One JSON object per restore on stdout,
# prefixed "BENCHJSON ", scenario "lazy-restore" or "eager-restore", and per
# size a "lazy-ratio" row: the median lazy restore's memory complete over
# the eager restore's time, running over it. With --warm (bench/warm), memory
# is warmed before each restore (twice its size written and given back: a
# host that reclaims free memory has backed it again), and each row has
# reclaim_kib: what the kernel reported free to the host during the restore
# (free page reporting; null without it).
set -euo pipefail

sdump= target= sizes= work= envname=host warm=
while [ $# -gt 0 ]; do
	case $1 in
	--warm) warm=$2 ;;
	--sdump) sdump=$2 ;;
	--target) target=$2 ;;
	--sizes) sizes=$2 ;;
	--work) work=$2 ;;
	--env) envname=$2 ;;
	*)
		echo "lazy.sh: bad argument $1" >&2
		exit 2
		;;
	esac
	shift 2
done
[ -n "$sdump" ] && [ -n "$target" ] && [ -n "$sizes" ] && [ -n "$work" ] || {
	echo "lazy.sh: --sdump, --target, --sizes and --work are needed" >&2
	exit 2
}
mkdir -p "$work"
log() { echo "[$envname lazy] $*" >&2; }
# microseconds, without a fork (bash 5's EPOCHREALTIME)
now_us() { local t=${EPOCHREALTIME/[.,]/}; echo $((10#$t)); }
# us "12.3 ms" / "1.20 s" / "800 us": microseconds
us() {
	awk -v v="$1" -v u="$2" 'BEGIN { m = (u == "s") ? 1e6 : (u == "ms") ? 1e3 : 1; printf "%d\n", v * m }'
}

start_target() {
	rm -f "$work/target.in" "$work/target.out"
	mkfifo "$work/target.in" "$work/target.out"
	(
		for f in "/proc/$BASHPID/fd/"*; do
			f=${f##*/}
			[ "$f" -gt 2 ] 2>/dev/null && eval "exec $f>&-"
		done
		exec "$target" --mib "$1" --threads 2
	) <"$work/target.in" >"$work/target.out" 2>"$work/target.err" &
	exec 7>"$work/target.in" 8<"$work/target.out" 9<>"$work/target.in"
	local word pid
	read -r -t 600 word pid <&8 || return 1
	[ "$word" = ready ] || return 1
	TPID=$pid
}

gone() {
	local st
	for _ in $(seq 1 300); do
		st=$(awk "/^State:/ {print \$2}" "/proc/$1/status" 2>/dev/null || true)
		case "$st" in "" | Z | X) return 0 ;; esac
		sleep 0.05
	done
	return 1
}

# reply: the target's next line (its output FIFO gives EOF until the restored process opens it)
reply() {
	for _ in $(seq 1 6000); do
		read -r -t 60 REPLY <&8 && return 0
		sleep 0.001
	done
	return 1
}

# restore_one MODE: eager or lazy; sets RUN_US ANSWER_US COMPLETE_US
restore_one() {
	local mode=$1 t0 t1 args=() line
	[ "$mode" = lazy ] && args=(--lazy)
	[ -n "$warm" ] && "$warm" $((MIB * 2)) >/dev/null
	K0=$(reported_kib)
	echo answer >&7
	t0=$(now_us)
	"$sdump" -v restore -D "$work/img" --shell-job -d "${args[@]}" 2>"$work/$mode.err" || return 1
	t1=$(now_us)
	reply || return 1
	ANSWER_US=$(($(now_us) - t0))
	if [ "$mode" = eager ]; then
		RUN_US=$((t1 - t0))
		COMPLETE_US=$RUN_US
	else
		line=$(grep -o 'lazy: running after [0-9.]* [mu]*s' "$work/$mode.err") || return 1
		# the command's own start is a few ms before the library's
		RUN_US=$(($(us $(echo "$line" | awk '{print $4, $5}')) + STARTUP_US))
		for _ in $(seq 1 1200); do grep -q "memory complete after" "$work/$mode.err" && break; sleep 0.05; done
		line=$(grep -o 'memory complete after [0-9.]* [mu]*s' "$work/$mode.err") || return 1
		COMPLETE_US=$(($(us $(echo "$line" | awk '{print $4, $5}')) + STARTUP_US))
	fi
	K1=$(reported_kib)
	echo exit >&7
	gone "$TPID"
	for _ in $(seq 1 100); do [ -e "/proc/$TPID" ] || break; sleep 0.05; done
}

REPORTED=/sys/module/page_reporting/parameters/reported_kib
reported_kib() { [ -r $REPORTED ] && cat $REPORTED; }
K0='' K1=''
row() { # SCENARIO
	local rk=null
	[ -n "$K0" ] && [ -n "$K1" ] && rk=$((K1 - K0))
	printf 'BENCHJSON {"env":"%s","scenario":"%s","tool":"sdump","mem_mib":%d,"dirty_pct":null,"stall_ms":null,"wall_ms":%s,"image_bytes":null,"running_ms":%s,"answer_ms":%s,"complete_ms":%s,"startup_ms":%s,"reclaim_kib":%s}\n' \
		"$envname" "$1" "$MIB" "$(ms "$COMPLETE_US")" "$(ms "$RUN_US")" "$(ms "$ANSWER_US")" "$(ms "$COMPLETE_US")" "$(ms "$STARTUP_US")" "$rk"
}

# the command's own start-up (exec, dynamic linking, exit): the shortest of five
STARTUP_US=
for _ in 1 2 3 4 5; do
	t0=$(now_us)
	"$sdump" --version >/dev/null
	t1=$((  $(now_us) - t0 ))
	[ -z "$STARTUP_US" ] || [ "$t1" -lt "$STARTUP_US" ] && STARTUP_US=$t1
done
log "sdump's own start-up: ${STARTUP_US} us"
# median N...: the middle one of an odd count
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }

for MIB in $sizes; do
	log "$MIB MiB: target, dump"
	rm -rf "$work/img"
	start_target "$MIB" || { log "target did not start"; continue; }
	"$sdump" -q dump -t "$TPID" -D "$work/img" || { log "dump failed"; kill -KILL "$TPID"; continue; }
	gone "$TPID"
	wait "$TPID" 2>/dev/null || true
	for _ in $(seq 1 100); do [ -e "/proc/$TPID" ] || break; sleep 0.05; done
	lruns=() lcompletes=()
	eager_run= eager_complete=
	for mode in eager lazy lazy lazy; do
		if restore_one "$mode"; then
			row "$mode-restore"
			log "$mode: running ${RUN_US} us, answer ${ANSWER_US} us, complete ${COMPLETE_US} us"
			if [ "$mode" = eager ]; then
				eager_run=$RUN_US eager_complete=$COMPLETE_US
			else
				lruns+=("$RUN_US") lcompletes+=("$COMPLETE_US")
			fi
		else
			log "$mode restore failed: $(tail -n 2 "$work/$mode.err")"
			kill -KILL "$TPID" 2>/dev/null || true
			gone "$TPID" || true
			[ "$mode" = eager ] && break
		fi
	done
	lazy_run= lazy_complete=
	[ ${#lruns[@]} -gt 0 ] && lazy_run=$(median "${lruns[@]}") lazy_complete=$(median "${lcompletes[@]}")
	if [ -n "${eager_complete:-}" ] && [ -n "${lazy_complete:-}" ]; then
		printf 'BENCHJSON {"env":"%s","scenario":"lazy-ratio","tool":"sdump","mem_mib":%d,"dirty_pct":null,"stall_ms":null,"wall_ms":null,"image_bytes":null,"complete_over_eager":%s,"running_over_eager":%s}\n' \
			"$envname" "$MIB" "$(awk -v a="$lazy_complete" -v b="$eager_complete" 'BEGIN { printf "%.2f", a / b }')" \
			"$(awk -v a="$lazy_run" -v b="$eager_run" 'BEGIN { printf "%.3f", a / b }')"
	fi
	exec 7>&- 8<&- 9<&-
	rm -rf "$work/img"
done
exit 0
