#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/scenarios.sh - one tool through the benchmark's scenarios; called by
# bench/run, on the host and inside the VM (so: bash and busybox tools only,
# no python).
#
#   scenarios.sh --tool sdump|criu --track TRACKER --sizes "MIB..." \
#                --dirty "PERMILLE..." --work DIR --env host|vm \
#                --target MEMTARGET --rusage RUSAGE [--fill heap|mix]
#                [--sdump SDUMP] [--sdump-args "ARGS"] [--criu CRIU] [--frozen]
#                [--warm WARM]
#                [--tree N]
#
# For each size and dirty rate, one target (memtarget --ticker) and one chain:
#   full         pre-dump                      (the first, full pass)
#   incremental  pre-dump --parent full        (after dirtying PERMILLE/1000 of its pages)
#   dump         dump --parent incremental     (after dirtying again; kills the target)
#   restore      restore -d --shell-job of the chain, then the restored
#                process must answer a command
# With --frozen instead, one target per size and no chain (what a tool
# without page tracking can do, CRIU on a kernel without soft-dirty):
#   frozen          dump -R with no parent: the target frozen while all its
#                   memory is saved (its ticker measures it), then killed
#                   (a tree: a dump that kills it, its stall sdump's freeze)
#   frozen-restore  restore -d --shell-job of that image; the process must answer
# With --warm (bench/warm), memory is warmed before each timed command: twice
# the target's size written and given back, so that a host that reclaims
# free memory has backed it again. Each row has reclaim_kib: what the
# kernel reported free to the host meanwhile (free page reporting; null
# where there is none).
# With --tree N every target is a tree of N processes (memtarget --tree N),
# each of the size given, and every pass takes the whole tree (sdump -t);
# the rows say "members":N and give mem_mib as the tree's total, and every
# stall of a tree row, pre-dumps included, is sdump's freeze of the whole
# tree (from its first seize to its last member's resume, sdump -v's "the
# tree of N processes frozen"): the root's ticker sees its own stall only.
# And one JSON object per scenario on stdout, prefixed "BENCHJSON " (the VM
# console mixes other lines in). Progress goes to stderr. A step that fails
# gives a row with "error" and ends that chain: no number is made up.
set -u -o pipefail

tool=sdump track=uffd-wp sizes=256 dirties=10 work='' envname=host
target='' rusage='' sdump=sdump criu=criu fill=heap sdump_args='' frozen=0 tree=1 warm=
# the pass counters, set by stats() through eval
S_freeze_us='' S_seize_us='' S_collect_us='' S_copy_us='' S_write_us='' S_total_us=''
S_pages_scanned='' S_pages_written='' S_pages_in_parent='' S_pages_zero='' S_bytes_written=''
while [ $# -gt 0 ]; do
	case $1 in
	--tool) tool=$2 ;;
	--track) track=$2 ;;
	--sizes) sizes=$2 ;;
	--dirty) dirties=$2 ;;
	--work) work=$2 ;;
	--env) envname=$2 ;;
	--target) target=$2 ;;
	--rusage) rusage=$2 ;;
	--sdump) sdump=$2 ;;
	--criu) criu=$2 ;;
	--fill) fill=$2 ;;
	--sdump-args) sdump_args=$2 ;;
	--warm) warm=$2 ;;
	--tree) tree=$2 ;;
	--frozen)
		frozen=1
		shift
		continue
		;;
	*)
		echo "scenarios.sh: bad argument $1" >&2
		exit 2
		;;
	esac
	shift 2
done
if [ -z "$work" ] || [ ! -x "$target" ] || [ ! -x "$rusage" ]; then
	echo "scenarios.sh: --work, --target and --rusage are needed" >&2
	exit 2
fi
mkdir -p "$work"
export SDUMP_STATE_DIR=$work/state

log() { echo "[$envname $tool/$track] $*" >&2; }

# ms US: microseconds as a JSON number of milliseconds ("null" if empty).
ms() {
	case ${1:-} in
	'' | null) echo null ;;
	*) printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)) ;;
	esac
}
num() { [ -n "${1:-}" ] && echo "$1" || echo null; }
jstr() { [ -n "${1:-}" ] && printf '"%s"' "$1" || echo null; }

# json_int FILE KEY: the first integer field KEY (this pass's stats come first).
# shellcheck disable=SC2317 # called through eval
json_int() {
	grep -o "\"$2\":[0-9]*" "$1" 2>/dev/null | head -n 1 | cut -d: -f2
}

# img_bytes DIR...: apparent bytes of the regular files (symlinks such as
# "parent" and logs left out; a tree's members' pid-PID/ too); img_kib
# DIR...: du -sk (space on disk).
img_bytes() {
	local d f n=0 s
	for d in "$@"; do
		for f in "$d"/* "$d"/pid-*/*; do
			if [ ! -f "$f" ] || [ -L "$f" ]; then continue; fi
			case ${f##*/} in *.log | stats.json | rusage.txt | stdout.txt) continue ;; esac
			s=$(stat -c %s "$f") || continue
			n=$((n + s))
		done
	done
	echo "$n"
}
img_kib() {
	local n=0 d k
	for d in "$@"; do
		k=$(du -sk "$d" | cut -f1)
		n=$((n + k))
	done
	echo "$n"
}

# --- the target, driven like tests/lib.sh does

TPID=
start_target() {
	rm -f "$work/target.in" "$work/target.out"
	mkfifo "$work/target.in" "$work/target.out"
	# stderr to a file that stays unchanged: a restore refuses a changed file;
	# no other fd inherited (one to a file since replaced could not be restored)
	(
		for f in "/proc/$BASHPID/fd/"*; do
			f=${f##*/}
			[ "$f" -gt 2 ] 2>/dev/null && eval "exec $f>&-"
		done
		exec "$target" --mib "$1" --ticker --fill "$fill" --dir "$work" --tree "$tree"
	) <"$work/target.in" >"$work/target.out" 2>"$work/target.err" &
	exec 7>"$work/target.in" 8<"$work/target.out"
	local word pid
	read -r -t 600 word pid <&8 || return 1
	[ "$word" = ready ] || return 1
	TPID=$pid
}

# tcmd LINE [TIMEOUT]: one reply line in REPLY.
tcmd() {
	echo "$1" >&7 || return 1
	read -r -t "${2:-300}" REPLY <&8
}

stop_target() {
	[ -n "$TPID" ] && kill -KILL "$TPID" 2>/dev/null
	wait 2>/dev/null
	exec 7>&- 8<&-
	TPID=
}

# gone PID: wait until PID is gone or a zombie (a restored process is not our child).
gone() {
	local st
	for _ in $(seq 1 300); do
		st=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null)
		case "$st" in "" | Z | X) return 0 ;; esac
		sleep 0.1
	done
	return 1
}

# --- running the tool

# tree_cpu_ms ROOT: ms of CPU (user + system, all threads) that process ROOT
# and its descendants have used so far, from /proc/PID/stat; empty if ROOT is
# gone. After a restore it is the restored processes' share of the restore:
# CRIU's restorer runs in the restored process (its page faults and reads are
# billed there, not to `criu restore`), sdump places the memory from its own.
tree_cpu_ms() {
	local hz
	hz=$(getconf CLK_TCK 2>/dev/null) || hz=100
	[ -r "/proc/$1/stat" ] || return 0
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" -v hz="${hz:-100}" '
		{ line = $0; pid = $1; sub(/^.*\) /, "", line); split(line, f, " ")
		  pp[pid] = f[2]; t[pid] = f[12] + f[13] }
		END { n = 0
		      for (p in t) { q = p; for (d = 0; d < 64 && q != "" && q != 0 && q != root; d++) q = pp[q]
				     if (q == root) n += t[p] }
		      printf "%d\n", n * 1000 / hz }'
}


# cpu_busy: jiffies (1/100 s) all CPUs spent not idle, and stolen by the
# hypervisor, so far: "BUSY STEAL".
cpu_busy() {
	local u n s irq sirq st
	read -r _ u n s _ _ irq sirq st _ </proc/stat
	echo "$((u + n + s + irq + sirq)) ${st:-0}"
}

# reported_kib: KiB the kernel reported free to the host so far (free page
# reporting), empty without it.
REPORTED=/sys/module/page_reporting/parameters/reported_kib
reported_kib() { [ -r $REPORTED ] && cat $REPORTED; }

# measure OUTDIR CMD...: run under rusage; sets WALL USER SYS RSS RC, and
# OTHER (ms of CPU that everything else on the machine used meanwhile: the
# target, other jobs; a busy machine skews the numbers), STEAL and RECLAIM
# (KiB reported free to the host meanwhile). With --warm, memory warmed first.
measure() {
	local out=$1 b0 s0 b1 s1 k0 k1
	shift
	RC=0
	[ -n "$warm" ] && "$warm" $((MIB * 2)) >/dev/null
	k0=$(reported_kib)
	read -r b0 s0 <<<"$(cpu_busy)"
	"$rusage" "$out.rusage" "$@" >"$out.stdout" 2>"$out.stderr" || RC=$?
	read -r b1 s1 <<<"$(cpu_busy)"
	k1=$(reported_kib)
	RECLAIM=
	[ -n "$k0" ] && [ -n "$k1" ] && RECLAIM=$((k1 - k0))
	read -r WALL USER SYS RSS RC2 <"$out.rusage" || { WALL='' USER='' SYS='' RSS=''; }
	[ -n "${RC2:-}" ] && RC=$RC2
	OTHER='' STEAL=$(((s1 - s0) * 10))
	if [ -n "$USER" ]; then
		OTHER=$(((b1 - b0) * 10 - (USER + SYS) / 1000))
		[ "$OTHER" -lt 0 ] && OTHER=0
	fi
}

# pass KIND DIR [PARENT]: KIND is pre-dump or dump.
pass() {
	local kind=$1 dir=$2 parent=${3:-}
	if [ "$tool" = sdump ]; then
		# shellcheck disable=SC2086 # extra arguments, split on purpose
		set -- "$sdump" "$kind" -t "$TPID" -D "$dir" --track "$track" $sdump_args
		# a tree's freeze is in -v's last line only
		[ "$tree" -gt 1 ] && set -- "$@" -v
		[ -n "$parent" ] && set -- "$@" --parent "$parent"
		# a frozen dump of one process lets it run on (its ticker measures the stall); a tree's is killed
		[ $frozen = 1 ] && [ "$tree" = 1 ] && set -- "$@" -R
	else
		mkdir -p "$dir"
		set -- "$criu" "$kind" -t "$TPID" -D "$dir" --display-stats -o "$kind.log"
		# memory tracking for a chain only: it needs soft-dirty
		[ $frozen = 1 ] || set -- "$@" --track-mem
		[ "$kind" = dump ] && set -- "$@" --shell-job
		[ $frozen = 1 ] && set -- "$@" -R
		# --prev-images-dir is relative to -D
		[ -n "$parent" ] && set -- "$@" --prev-images-dir "../${parent##*/}"
	fi
	measure "$dir.cmd" "$@"
}

# stats DIR: sets the counters of the pass in DIR (S_* variables).
stats() {
	local dir=$1 k
	for k in freeze_us seize_us collect_us copy_us write_us total_us pages_scanned \
		pages_written pages_in_parent pages_zero bytes_written; do
		eval "S_$k="
	done
	if [ "$tool" = sdump ] && [ "$tree" -gt 1 ]; then
		# every member's counters summed; the freeze is the whole tree's
		local m v ms
		for m in "$dir"/pid-*; do
			"$sdump" show -D "$m" --json >"$m.show.json" 2>"$dir.show.err" || return 1
			for k in seize_us collect_us copy_us write_us total_us pages_scanned \
				pages_written pages_in_parent pages_zero bytes_written; do
				v=$(json_int "$m.show.json" $k)
				eval "S_$k=\$(( \${S_$k:-0} + ${v:-0} ))"
			done
		done
		ms=$(sed -n 's/.*: the tree of [0-9]* processes frozen \([0-9]*\)\.\([0-9]\) ms.*/\1\2/p' "$dir.cmd.stderr" | tail -n 1)
		[ -n "$ms" ] || { echo "no tree freeze in sdump -v's output" >"$dir.show.err"; return 1; }
		S_freeze_us=$((ms * 100))
	elif [ "$tool" = sdump ]; then
		"$sdump" show -D "$dir" --json >"$dir.show.json" 2>"$dir.show.err" || return 1
		for k in freeze_us seize_us collect_us copy_us write_us total_us pages_scanned \
			pages_written pages_in_parent pages_zero bytes_written; do
			eval "S_$k=\$(json_int \"\$dir.show.json\" $k)"
		done
	else
		# criu --display-stats: "Frozen time: N us", "Memory pages written: N (0x..)"
		local f=$dir.cmd.stdout v
		crit_val() { grep -i "^$1:" "$f" 2>/dev/null | head -n 1 | sed 's/^[^:]*: *\([0-9]*\).*/\1/'; }
		S_freeze_us=$(crit_val "Frozen time")
		S_copy_us=$(crit_val "Memory dump time")
		S_write_us=$(crit_val "Memory write time")
		S_pages_scanned=$(crit_val "Memory pages scanned")
		S_pages_in_parent=$(crit_val "Memory pages skipped from parent")
		S_pages_written=$(crit_val "Memory pages written")
		v=0
		for k in "$dir"/pages-*.img; do
			[ -f "$k" ] && v=$((v + $(stat -c %s "$k")))
		done
		S_bytes_written=$v
	fi
}

REP=0
# row SCENARIO DIRTY_PERMILLE STALL_US STALL_SRC IMAGE_BYTES DISK_KIB [EXTRA_JSON]
row() {
	local pct
	pct="$(($2 / 10)).$(($2 % 10))"
	printf 'BENCHJSON {"env":"%s","scenario":"%s","tool":"%s","tracker":"%s","mem_mib":%d,"dirty_pct":%s,"rep":%d,"fill":"%s",' \
		"$envname" "$1" "$tool" "$track" $((MIB * tree)) "$pct" "$REP" "$fill"
	[ "$tree" -gt 1 ] && printf '"members":%d,"member_mib":%d,' "$tree" "$MIB"
	printf '"stall_ms":%s,"stall_src":%s,"wall_ms":%s,"user_ms":%s,"sys_ms":%s,"peak_rss_kib":%s,' \
		"$(ms "$3")" "$(jstr "$4")" "$(ms "$WALL")" "$(ms "$USER")" "$(ms "$SYS")" "$(num "$RSS")"
	printf '"image_bytes":%s,"disk_kib":%s,"pages_written":%s,"bytes_written":%s,' \
		"$(num "$5")" "$(num "$6")" "$(num "$S_pages_written")" "$(num "$S_bytes_written")"
	printf '"pages_scanned":%s,"pages_in_parent":%s,"pages_zero":%s,' \
		"$(num "$S_pages_scanned")" "$(num "$S_pages_in_parent")" "$(num "$S_pages_zero")"
	printf '"freeze_ms":%s,"seize_ms":%s,"collect_ms":%s,"copy_ms":%s,"write_ms":%s,"total_ms":%s,' \
		"$(ms "$S_freeze_us")" "$(ms "$S_seize_us")" "$(ms "$S_collect_us")" "$(ms "$S_copy_us")" \
		"$(ms "$S_write_us")" "$(ms "$S_total_us")"
	printf '"other_cpu_ms":%s,"steal_ms":%s,"reclaim_kib":%s,"load1":%s%s}\n' "$(num "$OTHER")" \
		"$(num "$STEAL")" "$(num "${RECLAIM:-}")" "$(cut -d' ' -f1 /proc/loadavg)" "${7:-}"
}

# fail_row SCENARIO DIRTY MESSAGE
fail_row() {
	local msg
	# shellcheck disable=SC1003
	msg=$(printf '%s' "$3" | tr -d '"\\' | tr '\n\t' '  ' | cut -c1-300)
	printf 'BENCHJSON {"env":"%s","scenario":"%s","tool":"%s","tracker":"%s","mem_mib":%d,"members":%d,"dirty_pct":%s,"rep":%d,"stall_ms":null,"wall_ms":null,"image_bytes":null,"error":"%s"}\n' \
		"$envname" "$1" "$tool" "$track" $((MIB * tree)) "$tree" "$(($2 / 10)).$(($2 % 10))" "$REP" "$msg"
	log "FAILED $1: $msg"
}

# what a pre-dump's stall is: the target's ticker, or a tree's freeze
stall_src() { [ "$tree" -gt 1 ] && echo tree_freeze_us || echo ticker; }

errmsg() { tail -n 3 "$1.cmd.stderr" 2>/dev/null; [ "$tool" = criu ] && grep -h Error "$1"/*.log 2>/dev/null | tail -n 2; }

chain() {
	local p=$1 d=$work/img gap dirtied extra
	rm -rf "$d"
	mkdir -p "$d"
	log "$MIB MiB, dirty $p permille: starting the target"
	start_target "$MIB" || { fail_row full "$p" "target did not start: $(cat "$work/target.err")"; stop_target; return; }

	# full pass
	gap=
	tcmd stall || { fail_row full "$p" "target does not answer"; stop_target; return; }
	pass pre-dump "$d/1"
	tcmd stall && gap=${REPLY#ok }
	if [ "$RC" != 0 ] || ! stats "$d/1"; then
		fail_row full "$p" "pre-dump exited $RC: $(errmsg "$d/1")"
		stop_target
		return
	fi
	[ "$tree" -gt 1 ] && gap=$S_freeze_us
	row full "$p" "$gap" "$(stall_src)" "$(img_bytes "$d/1")" "$(img_kib "$d/1")"
	log "full pass ${WALL}us"

	# incremental pass
	gap='' dirtied=''
	tcmd "dirty anon $p 1" && dirtied=${REPLY#ok }
	tcmd stall
	pass pre-dump "$d/2" "$d/1"
	tcmd stall && gap=${REPLY#ok }
	if [ "$RC" != 0 ] || ! stats "$d/2"; then
		fail_row incremental "$p" "pre-dump --parent exited $RC: $(errmsg "$d/2")"
		stop_target
		return
	fi
	[ "$tree" -gt 1 ] && gap=$S_freeze_us
	row incremental "$p" "$gap" "$(stall_src)" "$(img_bytes "$d/2")" "$(img_kib "$d/2")" ",\"dirtied_pages\":$(num "$dirtied")"
	log "incremental pass ${WALL}us"

	# final dump: the target is frozen until the image is written and then
	# killed, so its stall is the tool's own freeze time
	dirtied=
	tcmd "dirty anon $p 2" && dirtied=${REPLY#ok }
	tcmd stall
	pass dump "$d/3" "$d/2" 2>/dev/null # (bash says "Killed" as it reaps the target)
	if [ "$RC" != 0 ]; then
		fail_row dump "$p" "dump exited $RC: $(errmsg "$d/3")"
		stop_target
		return
	fi
	local pid=$TPID m_dump
	if ! gone "$pid" 2>/dev/null; then # (bash would say "Killed" as it reaps it)
		fail_row dump "$p" "the target still runs 30 s after the dump"
		stop_target
		return
	fi
	{ wait "$pid"; } 2>/dev/null # reap it: restore wants its PID free
	m_dump="$WALL,$USER,$SYS,$RSS,$OTHER,$STEAL"

	# restore of the chain at once, as a migration would: the downtime
	# counts whatever runs in between (the dump's statistics are read after)
	if [ "$tool" = sdump ]; then
		measure "$d/restore" "$sdump" restore -D "$d/3" --shell-job -d
	else
		measure "$d/restore" "$criu" restore -D "$d/3" --shell-job -d --display-stats -o restore.log
	fi
	local m_rst="$WALL,$USER,$SYS,$RSS,$OTHER,$STEAL" rc_rst=$RC rcpu
	rcpu=$(tree_cpu_ms "$pid")
	IFS=, read -r WALL USER SYS RSS OTHER STEAL <<<"$m_dump"
	if stats "$d/3"; then
		row dump "$p" "$S_freeze_us" "$([ "$tool" = sdump ] && echo freeze_us || echo criu_frozen_time)" \
			"$(img_bytes "$d/3")" "$(img_kib "$d/3")" ",\"dirtied_pages\":$(num "$dirtied")"
		log "final dump ${WALL}us"
	else
		fail_row dump "$p" "no statistics in the dump's image: $(cat "$d/3.show.err" 2>/dev/null)"
	fi
	IFS=, read -r WALL USER SYS RSS OTHER STEAL <<<"$m_rst"
	RC=$rc_rst
	for k in freeze_us seize_us collect_us copy_us write_us total_us pages_scanned \
		pages_written pages_in_parent pages_zero bytes_written; do
		eval "S_$k="
	done
	if [ "$RC" != 0 ]; then
		fail_row restore "$p" "restore exited $RC: $(tail -n 3 "$d/restore.stderr"; grep -h Error "$d"/3/restore.log 2>/dev/null | tail -n 2)"
		stop_target
		return
	fi
	# the ticker's longest gap since the "stall" before the dump: the time
	# the process did not run, from the dump's freeze to the restored process
	# the process, not its ticker thread, may answer first: ask again a moment later
	if tcmd stall 60 && [ "${REPLY%% *}" = ok ]; then
		gap=${REPLY#ok }
		sleep 0.2
		tcmd stall 60 && [ "${REPLY%% *}" = ok ] && [ "${REPLY#ok }" -gt "$gap" ] && gap=${REPLY#ok }
		extra=",\"downtime_ms\":$(ms "$gap"),\"answers\":true"
	else
		extra=",\"downtime_ms\":null,\"answers\":false"
	fi
	extra="$extra,\"restored_cpu_ms\":$(num "$rcpu")"
	row restore "$p" "" "" "$(img_bytes "$d/1" "$d/2" "$d/3")" "$(img_kib "$d/1" "$d/2" "$d/3")" "$extra"
	log "restore ${WALL}us ($extra)"
	kill -KILL "$pid" 2>/dev/null
	gone "$pid" || log "restored pid $pid does not go away"
	TPID=
	stop_target
	rm -rf "$d" "$work/state"
}

# frozen_dump: a full dump with no parent, then its restore (--frozen).
frozen_dump() {
	local d=$work/img pid extra gap src
	rm -rf "$d"
	mkdir -p "$d"
	log "$MIB MiB frozen: starting the target"
	start_target "$MIB" || { fail_row frozen 0 "target did not start: $(cat "$work/target.err")"; stop_target; return; }
	tcmd stall || { fail_row frozen 0 "target does not answer"; stop_target; return; }
	pass dump "$d/3" 2>/dev/null
	if [ "$RC" != 0 ]; then
		fail_row frozen 0 "dump exited $RC: $(errmsg "$d/3")"
		stop_target
		return
	fi
	# one process: -R, it runs on, and its ticker says how long it was
	# frozen; a tree is killed by the dump, its stall is sdump's freeze
	gap='' src=ticker
	pid=$TPID
	if [ "$tree" = 1 ]; then
		tcmd stall && gap=${REPLY#ok }
		kill -KILL "$pid" 2>/dev/null
	fi
	if ! gone "$pid" 2>/dev/null; then
		fail_row frozen 0 "the target still runs 30 s after the dump"
		stop_target
		return
	fi
	{ wait "$pid"; } 2>/dev/null
	local m_dump="$WALL,$USER,$SYS,$RSS,$OTHER,$STEAL,$RECLAIM"
	if stats "$d/3"; then
		[ "$tree" = 1 ] || { gap=$S_freeze_us src=freeze_us; }
		row frozen 0 "$gap" "$src" "$(img_bytes "$d/3")" "$(img_kib "$d/3")"
	else
		fail_row frozen 0 "no statistics in the dump's image: $(cat "$d/3.show.err" 2>/dev/null)"
	fi
	for k in freeze_us seize_us collect_us copy_us write_us total_us pages_scanned \
		pages_written pages_in_parent pages_zero bytes_written; do
		eval "S_$k="
	done
	if [ "$tool" = sdump ]; then
		measure "$d/restore" "$sdump" restore -D "$d/3" --shell-job -d
	else
		measure "$d/restore" "$criu" restore -D "$d/3" --shell-job -d --display-stats -o restore.log
	fi
	local rcpu
	rcpu=$(tree_cpu_ms "$pid")
	if [ "$RC" != 0 ]; then
		fail_row frozen-restore 0 "restore exited $RC: $(tail -n 3 "$d/restore.stderr"; grep -h Error "$d"/3/restore.log 2>/dev/null | tail -n 2)"
		IFS=, read -r WALL USER SYS RSS OTHER STEAL RECLAIM <<<"$m_dump"
		stop_target
		return
	fi
	if tcmd stall 60 && [ "${REPLY%% *}" = ok ]; then
		gap=${REPLY#ok }
		extra=",\"downtime_ms\":$(ms "$gap"),\"answers\":true"
	else
		extra=",\"downtime_ms\":null,\"answers\":false"
	fi
	extra="$extra,\"restored_cpu_ms\":$(num "$rcpu")"
	row frozen-restore 0 "" "" "$(img_bytes "$d/3")" "$(img_kib "$d/3")" "$extra"
	log "frozen dump, then restore ${WALL}us ($extra)"
	kill -KILL "$pid" 2>/dev/null
	gone "$pid" || log "restored pid $pid does not go away"
	TPID=
	stop_target
	rm -rf "$d" "$work/state"
}

for MIB in $sizes; do
	if [ $frozen = 1 ]; then
		REP=$((REP + 1))
		frozen_dump
		continue
	fi
	for p in $dirties; do
		REP=$((REP + 1))
		chain "$p"
	done
done
exit 0
