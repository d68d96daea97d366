#!/bin/bash
# The final pass ends the target by default: after a pre-dump and some
# writes, "dump --parent" saves what changed, kills the target (exit 0) and
# the chain gives back the memory it had. With --leave-running the target
# runs on, and dumps chain into periodic consistent checkpoints.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

# wait_dead PID: it dies within 10 s; reaped, it must have died of SIGKILL.
wait_dead() {
	local i st=0 state
	for ((i = 0; i < 100; i++)); do
		state=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null || true)
		case "$state" in "" | Z | X) break ;; esac
		sleep 0.1
	done
	case "$state" in "" | Z | X) ;; *) fail "pid $1 still alive ($state) after the dump" ;; esac
	wait "$1" 2>/dev/null || st=$?
	[ "$st" = 137 ] || fail "pid $1 ended with status $st, not killed by SIGKILL (137)"
	! kill -0 "$1" 2>/dev/null || fail "pid $1 still exists"
}

# --- dump after a pre-dump: the target is killed ---
start_target memtarget --mib 8 --dir "$WORK"
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/pre" || fail "pre-dump"
tcmd "dirty anon 100 7"
tcmd "dirty heap 300 8"
load_regions
# it dies in the dump: save its memory now (nothing runs in it in between)
for r in "${!REG_ADDR[@]}"; do
	tcmd "save $r $WORK/want.$r"
	[ "$REPLY" = ok ] || fail "target could not save $r"
done
"$SDUMP" dump -t "$TPID" -D "$WORK/final" --parent "$WORK/pre" 2>"$WORK/dump.err" ||
	fail "dump failed: $(cat "$WORK/dump.err")"
wait_dead "$TPID"
exec 7>&- 8<&-
[ -f "$WORK/final/inventory.img" ] || fail "no inventory.img"
"$SDUMP" show -D "$WORK/final" --json >"$WORK/final.json" || fail "show final"
[ "$(json_get "$WORK/final.json" 'd["kind"]')" = dump ] || fail "kind is not dump"
[ "$(json_get "$WORK/final.json" 'd["pid"]')" = "$TPID" ] || fail "pid"
[ "$(json_int "$WORK/final.json" pages_in_parent)" -gt 0 ] || fail "no pages in parent"
[ "$(json_get "$WORK/final.json" 'len(d["chain"])')" = 2 ] || fail "the chain is not dump + pre-dump"
for r in "${!REG_ADDR[@]}"; do
	"$SDUMP" extract -D "$WORK/final" --addr "${REG_ADDR[$r]}" --len "${REG_LEN[$r]}" \
		-o "$WORK/got.$r" || fail "extract of $r failed"
	cmp -s "$WORK/want.$r" "$WORK/got.$r" || fail "region $r differs from the final dump"
done
[ "$(json_get "$WORK/final.json" '[t["tid"] for t in d["threads"]]')" = "[$TPID]" ] || fail "threads"

# --- periodic checkpoints: dump --leave-running, chained ---
start_target memtarget --mib 8 --threads 2 --dir "$WORK"
prev=
for n in 1 2 3; do
	args=(dump --leave-running -t "$TPID" -D "$WORK/c$n")
	[ -n "$prev" ] && args+=(--parent "$prev")
	"$SDUMP" "${args[@]}" 2>"$WORK/dump.err" || fail "checkpoint $n: $(cat "$WORK/dump.err")"
	assert_running "$TPID"
	assert_threads_running "$TPID"
	"$SDUMP" show -D "$WORK/c$n" --json >"$WORK/c$n.json" || fail "show c$n"
	[ "$(json_get "$WORK/c$n.json" 'd["kind"]')" = dump ] || fail "checkpoint $n: kind is not dump"
	[ "$(json_get "$WORK/c$n.json" 'len(d["threads"])')" = 3 ] || fail "checkpoint $n: not 3 threads"
	if [ -n "$prev" ]; then
		[ "$(json_int "$WORK/c$n.json" pages_in_parent)" -gt 0 ] || fail "checkpoint $n: no pages in parent"
	fi
	load_regions
	verify_extract "$WORK/c$n"
	tcmd "dirty anon 50 $n"
	tcmd "dirty thread0 200 $n"
	prev="$WORK/c$n"
done
# the earlier checkpoints still read as they were: c1 is not c3
"$SDUMP" extract -D "$WORK/c1" --addr "${REG_ADDR[anon]}" --len "${REG_LEN[anon]}" -o "$WORK/c1.anon" || fail "extract c1"
"$SDUMP" extract -D "$WORK/c3" --addr "${REG_ADDR[anon]}" --len "${REG_LEN[anon]}" -o "$WORK/c3.anon" || fail "extract c3"
! cmp -s "$WORK/c1.anon" "$WORK/c3.anon" || fail "checkpoints 1 and 3 hold the same anon region"
stop_target
echo ok
