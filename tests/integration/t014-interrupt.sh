#!/bin/bash
# SIGINT, SIGTERM or SIGHUP at any moment of a pass: sdump stops with one
# line, leaves no image, and the target runs on, untraced, its memory and
# registers as they were (it goes on answering, and a later pass of it
# extracts exactly its memory).
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
mib=256
[ -n "${SDUMP_QUICK:-}" ] && mib=128
start_target memtarget --mib "$mib" --threads 2 --dir "$WORK"
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/base" || fail "first pass"

i=0
for sig in INT TERM HUP INT TERM HUP INT TERM; do
	for delay in 0 0.001 0.003 0.01 0.03 0.1; do
		i=$((i + 1))
		kind=pre-dump
		args=(--parent "$WORK/base")
		# every third round: a final dump that leaves the target running
		if [ $((i % 3)) = 0 ]; then
			kind=dump
			args=(-R)
		fi
		st=0
		"$SDUMP" -q "$kind" -t "$TPID" -D "$WORK/x$i" "${args[@]}" 2>"$WORK/err" &
		sp=$!
		sleep "$delay"
		kill -s "$sig" "$sp" 2>/dev/null || true
		wait "$sp" || st=$?
		assert_running "$TPID"
		for t in /proc/"$TPID"/task/*; do
			[ "$(awk '/^TracerPid:/ {print $2}' "$t/status")" = 0 ] || fail "thread $t left traced"
		done
		if [ "$st" = 0 ]; then
			[ -f "$WORK/x$i/inventory.img" ] || fail "exit 0 without an image"
		elif [ "$st" -gt 128 ]; then
			# killed before sdump could even install its handlers
			[ ! -e "$WORK/x$i" ] || fail "$kind killed by SIG$sig at once, yet it made a directory"
		else
			[ "$st" = 1 ] || fail "$kind after SIG$sig: exit $st"
			[ "$(wc -l <"$WORK/err")" = 1 ] || fail "more than one line: $(cat "$WORK/err")"
			grep -q "^sdump: interrupted" "$WORK/err" || fail "$(cat "$WORK/err")"
			[ ! -e "$WORK/x$i/inventory.img" ] || fail "an interrupted pass left an inventory"
		fi
		tcmd "dirty anon 5 $i"
		case "$REPLY" in ok*) ;; *) fail "the target no longer answers after round $i" ;; esac
	done
done
# the target is whole: a full pass of it extracts its exact memory
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/final" --track none || fail "final pass"
load_regions
verify_extract "$WORK/final"
stop_target
echo ok
