#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/migrate-vm.sh - live migrations inside the VM (soft-dirty), sdump
# and CRIU side by side; run there by bench/run --vm (bash and busybox
# only: no python, no veth).
#
#   migrate-vm.sh --sdump SDUMP --criu CRIU --target MIGTARGET --rusage RUSAGE \
#                 --sizes "MIB..." --dirty "PERMILLE..." --work DIR [--rounds N]
#
# For each size and dirty rate, per tool, a migtarget (memory that checks
# itself while it writes PERMILLE/1000 of its pages a second) moved over
# loopback in N rounds (default 3: N-1 pre-copy rounds, then the final):
#   sdump  `sdump receive --restore` in new PID and mount namespaces
#          (unshare), `sdump migrate --max-rounds N --json` here;
#   criu   its page-server migration: for each round `criu page-server` at
#          the destination directory (with --prev-images-dir from the
#          second), `criu pre-dump --page-server --track-mem` rounds, then
#          `criu dump --page-server`, the images copied to the destination
#          and `criu restore -d` (the PIDs are free once the dump killed
#          the source).
# Reported for both, from the target's own measure: downtime_ms, the
# longest gap between two turns of its loop over the whole migration (every
# round's freeze and the switch), and switch_ms, the longest since the
# last round began (SIGUSR1 resets it: sent before CRIU's final dump; for
# sdump, whose rounds run by themselves, the same as downtime_ms); total_ms
# (the tool's commands' wall time, first round to the process running at
# the destination); bytes (the destination's images). One JSON object per
# migration on stdout, "BENCHJSON " first, scenario "migrate", env "vm".
set -u -o pipefail

sdump='' criu='' target='' rusage='' sizes=64 dirties=10 work='' rounds=3
while [ $# -gt 0 ]; do
	case $1 in
	--sdump) sdump=$2 ;;
	--criu) criu=$2 ;;
	--target) target=$2 ;;
	--rusage) rusage=$2 ;;
	--sizes) sizes=$2 ;;
	--dirty) dirties=$2 ;;
	--work) work=$2 ;;
	--rounds) rounds=$2 ;;
	*)
		echo "migrate-vm.sh: bad argument $1" >&2
		exit 2
		;;
	esac
	shift 2
done
[ -n "$target" ] && [ -n "$rusage" ] && [ -n "$work" ] || {
	echo "migrate-vm.sh: --target, --rusage and --work are needed" >&2
	exit 2
}
log() { echo "[vm migrate] $*" >&2; }
PORT=27000
st=$work/mig.st

st_field() { # KEY: the field of the target's status line
	sed -n "s/.* $1=\([0-9]*\).*/\1/p" "$st" 2>/dev/null
}
# listening PORT: something listens on it (busybox netstat)
listening() {
	local i
	for i in $(seq 1 100); do
		netstat -ltn 2>/dev/null | grep -q ":$1 " && return 0
		sleep 0.1
	done
	return 1
}
# copies: the pids of every process of the target (at the source or the destination)
copies() {
	local p
	for p in $(pidof migtarget); do
		tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -qF -- "--status $st" && echo "$p"
	done
}
end_copies() {
	local p
	for p in $(copies); do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
}
start_target() { # MIB PERMILLE [setsid]: with setsid, in a session of its own
	rm -f "$st" "$st.tmp"
	if [ "${3:-}" = setsid ]; then
		setsid "$target" --mib "$1" --dirty "$2" --status "$st" </dev/null >/dev/null 2>"$work/target.err" &
	else
		"$target" --mib "$1" --dirty "$2" --status "$st" </dev/null >/dev/null 2>"$work/target.err" &
	fi
	TPID=$!
	for _ in $(seq 1 600); do
		grep -q '^ok' "$st" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# after: the copy at the destination answers (its status ok and rewritten): DOWN and SWITCH in us
after() {
	local w0 i
	DOWN='' SWITCH=''
	w0=$(st_field writes)
	for i in $(seq 1 100); do
		grep -q '^ok' "$st" 2>/dev/null && [ "$(st_field writes)" != "$w0" ] && break
		sleep 0.1
	done
	sleep 1
	grep -q '^ok' "$st" 2>/dev/null || return 1
	DOWN=$(st_field maxgap_us)
	SWITCH=$(st_field lastgap_us)
	[ -n "$DOWN" ]
}
row() { # TOOL MIB PERMILLE TOTAL_US BYTES [EXTRA]
	local pct
	pct=$(awk "BEGIN { print $3 / 10 }")
	printf 'BENCHJSON {"env":"vm","scenario":"migrate","tool":"%s","tracker":"soft-dirty","mem_mib":%s,"dirty_pct":%s,"downtime_ms":%s,"stall_ms":%s,"switch_ms":%s,"total_ms":%s,"wall_ms":%s,"rounds":%s,"bytes_sent":%s,"image_bytes":%s%s}\n' \
		"$1" "$2" "$pct" "$(awk "BEGIN { print $DOWN / 1000 }")" "$(awk "BEGIN { print $DOWN / 1000 }")" \
		"$(awk "BEGIN { print $SWITCH / 1000 }")" "$(awk "BEGIN { print $4 / 1000 }")" \
		"$(awk "BEGIN { print $4 / 1000 }")" "$rounds" "$5" "$5" "${6:-}"
}
fail_row() { # TOOL MIB PERMILLE WHY
	printf 'BENCHJSON {"env":"vm","scenario":"migrate","tool":"%s","tracker":"soft-dirty","mem_mib":%s,"dirty_pct":%s,"stall_ms":null,"wall_ms":null,"image_bytes":null,"error":"%s"}\n' \
		"$1" "$2" "$(awk "BEGIN { print $3 / 10 }")" "$(echo "$4" | tr -d '"\\' | tr '\n' ' ')"
}
bytes() { du -sk "$1" 2>/dev/null | awk '{ print $1 * 1024 }'; }
wall_of() { read -r w _ <"$1" 2>/dev/null && echo "$w"; }

with_sdump() { # MIB PERMILLE
	local mib=$1 pm=$2 rpid total
	rm -rf "$work/dst"
	start_target "$mib" "$pm" setsid || { fail_row sdump "$mib" "$pm" "the target did not start: $(cat "$work/target.err")"; return; }
	unshare -p -f -m --mount-proc "$sdump" -v receive -D "$work/dst" --listen "127.0.0.1:$PORT" --restore \
		2>"$work/recv.err" &
	rpid=$!
	listening "$PORT" || { fail_row sdump "$mib" "$pm" "the receiver does not listen: $(tail -n 2 "$work/recv.err")"; end_copies; return; }
	TMPDIR=$work "$rusage" "$work/mig.rusage" "$sdump" -v migrate -t "$TPID" --to "127.0.0.1:$PORT" \
		--track soft-dirty --max-rounds "$rounds" --json >"$work/mig.json" 2>"$work/migrate.err"
	{ wait "$TPID"; } 2>/dev/null
	if ! grep -q '"total_us"' "$work/mig.json" || ! after; then
		fail_row sdump "$mib" "$pm" "migrate: $(tail -n 2 "$work/migrate.err") / $(tail -n 2 "$work/recv.err") / $(cat "$st")"
		end_copies
		return
	fi
	total=$(sed -n 's/.*"total_us":\([0-9]*\).*/\1/p' "$work/mig.json")
	# (its own rounds: they stop when the last fits the downtime asked)
	rounds_done=$(sed -n 's/.*"rounds":\([0-9]*\).*/\1/p' "$work/mig.json")
	SWITCH=$DOWN
	row sdump "$mib" "$pm" "$total" "$(sed -n 's/.*"bytes_sent":\([0-9]*\).*/\1/p' "$work/mig.json")" \
		",\"frozen_ms\":$(awk "BEGIN { print $(sed -n 's/.*"downtime_us":\([0-9]*\).*/\1/p' "$work/mig.json") / 1000 }"),\"rounds_done\":$rounds_done"
	log "sdump $mib MiB, $pm permille/s: downtime $DOWN us, total $total us, $rounds_done rounds"
	end_copies
	wait "$rpid" 2>/dev/null
}

# criu_round K KIND: page-server for round K at the destination, then KIND (pre-dump, dump) here
criu_round() {
	local k=$1 kind=$2 ps prev=()
	mkdir -p "$work/c/src/$k" "$work/c/dst/$k"
	[ "$k" -gt 1 ] && prev=(--prev-images-dir "../$((k - 1))")
	"$criu" page-server -D "$work/c/dst/$k" "${prev[@]}" --address 127.0.0.1 --port "$PORT" \
		-o ps.log 2>>"$work/c/err" &
	ps=$!
	listening "$PORT" || { echo "round $k: the page server does not listen" >>"$work/c/err"; kill "$ps"; return 1; }
	set -- "$criu" "$kind" -t "$TPID" -D "$work/c/src/$k" "${prev[@]}" --page-server --address 127.0.0.1 \
		--port "$PORT" --track-mem -o "$kind.log"
	[ "$kind" = dump ] && set -- "$@" --shell-job --display-stats
	"$rusage" "$work/c/$k.rusage" "$@" >"$work/c/$k.out" 2>>"$work/c/err" || { kill "$ps"; return 1; }
	wait "$ps"
}

with_criu() { # MIB PERMILLE
	local mib=$1 pm=$2 k total=0 w f fz
	rm -rf "$work/c"
	mkdir -p "$work/c"
	start_target "$mib" "$pm" || { fail_row criu "$mib" "$pm" "the target did not start: $(cat "$work/target.err")"; return; }
	for k in $(seq 1 $((rounds - 1))); do
		criu_round "$k" pre-dump || break
	done
	if [ -z "$(ls "$work/c/src/$((rounds - 1))" 2>/dev/null)" ] || {
		kill -USR1 "$TPID"
		sleep 0.05
		! criu_round "$rounds" dump
	}; then
		fail_row criu "$mib" "$pm" "$(tail -n 2 "$work/c/err"; grep -h Error "$work"/c/src/*/*.log "$work"/c/dst/*/*.log 2>/dev/null | tail -n 2)"
		end_copies
		return
	fi
	{ wait "$TPID"; } 2>/dev/null
	# the images the dump wrote here (its pages went to the page server) go beside them
	for f in "$work/c/src/$rounds"/*.img; do
		[ -e "$work/c/dst/$rounds/${f##*/}" ] || cp "$f" "$work/c/dst/$rounds/"
	done
	"$rusage" "$work/c/restore.rusage" "$criu" restore -D "$work/c/dst/$rounds" --shell-job -d -o restore.log \
		>"$work/c/restore.out" 2>>"$work/c/err"
	if ! after; then
		fail_row criu "$mib" "$pm" "restore: $(tail -n 2 "$work/c/err"; grep -h Error "$work/c/dst/$rounds/restore.log" 2>/dev/null | tail -n 2) / $(cat "$st")"
		end_copies
		return
	fi
	for f in "$work"/c/*.rusage; do
		w=$(wall_of "$f")
		total=$((total + ${w:-0}))
	done
	fz=$(sed -n 's/.*Frozen time: *\([0-9]*\).*/\1/p' "$work/c/$rounds.out" | head -n 1)
	row criu "$mib" "$pm" "$total" "$(bytes "$work/c/dst")" \
		",\"frozen_ms\":$([ -n "$fz" ] && awk "BEGIN { print $fz / 1000 }" || echo null)"
	log "criu $mib MiB, $pm permille/s: downtime $DOWN us (switch $SWITCH us), total $total us (commands)"
	end_copies
}

mkdir -p "$work"
# the trackers' state between passes (the initramfs has no /var/lib/sdump)
export SDUMP_STATE_DIR=${SDUMP_STATE_DIR:-$work/state}
for mib in $sizes; do
	for pm in $dirties; do
		[ -n "$sdump" ] && with_sdump "$mib" "$pm"
		[ -n "$criu" ] && [ -x "$criu" ] && with_criu "$mib" "$pm"
	done
done
exit 0
