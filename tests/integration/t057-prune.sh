#!/bin/bash
# sdump prune --keep N DIR...: periodic checkpoints (dump -R --parent PREV)
# make a chain without end; prune keeps the newest N passes restorable (each
# gives the memory it gave before, the oldest kept one now without a
# parent, the newest restores the process) and removes the older ones; a
# pass another chain given still needs stays. A prune that fails (every
# write and file creation failed in turn) or is killed (SIGKILL at any
# moment) leaves every chain restorable, as it was or pruned.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/faults.sh"
export SDUMP_STATE_DIR="$WORK/state"

# --- periodic checkpoints, and a branch from the second one ---
start_target_quiet memtarget --mib 4 --threads 1 --dir "$WORK"
mkdir "$WORK/ck"
prev=
for n in 1 2 3 4 5 6; do
	args=(dump -R -t "$TPID" -D "$WORK/ck/$n")
	[ -n "$prev" ] && args+=(--parent "$prev")
	[ "$n" = 6 ] && state_record "$TPID" "$WORK/state.json"
	"$SDUMP" "${args[@]}" || fail "checkpoint $n"
	tcmd sum
	sum[$n]=$REPLY
	prev=$WORK/ck/$n
	tcmd "dirty anon $((100 * n)) $n"
	tcmd "dirty heap 150 $((n + 10))"
	[ "$n" = 2 ] && { "$SDUMP" pre-dump -t "$TPID" -D "$WORK/ck/b1" --parent "$WORK/ck/2" || fail "the branch"; }
done
kill -KILL "$TPID"
wait "$TPID" 2>/dev/null || true
wait_pid_free "$TPID"
cp -a "$WORK/ck" "$WORK/orig"

# kept: restorable, the same memory and state as before (the core file of
# each, which reads every byte of its memory through its chain)
core_sum() { # DIR
	"$SDUMP" coredump -D "$1" -o "$WORK/core" || fail "coredump of $1"
	sha256sum <"$WORK/core"
	rm -f "$WORK/core"
}
want_core=$(core_sum "$WORK/orig/4")
want56=$(dir_sum "$WORK/orig/5")$(dir_sum "$WORK/orig/6")
# the whole chain of ck/6 sound, 5 and 6 as they were, 4 (squashed or not)
# the memory and state it had
check_kept() { # WHAT
	"$SDUMP" verify -D "$WORK/ck/6" >"$WORK/v" || fail "$1: verify ck/6: $(cat "$WORK/v")"
	[ "$(dir_sum "$WORK/ck/5")$(dir_sum "$WORK/ck/6")" = "$want56" ] || fail "$1: ck/5 or ck/6 changed"
	[ "$(core_sum "$WORK/ck/4")" = "$want_core" ] || fail "$1: ck/4 gives other memory than before"
}

st=0
"$SDUMP" prune "$WORK/ck/6" 2>/dev/null || st=$?
[ "$st" = 2 ] || fail "prune without --keep exited $st"
st=0
"$SDUMP" prune --keep 0 "$WORK/ck/6" 2>/dev/null || st=$?
[ "$st" = 2 ] || fail "prune --keep 0 exited $st"

# --- every write and file creation failed in turn: the chains whole ---
for kind in write:ENOSPC open:EIO; do
	k=${kind%%:*}
	count=$(fault_count "$k" "$SDUMP" -q prune --keep 3 "$WORK/ck/6" "$WORK/ck/b1")
	rm -rf "$WORK/ck" && cp -a "$WORK/orig" "$WORK/ck"
	nfail=0
	for n in $(fault_points "$count"); do
		st=0
		SDUMP_FAULT="$k:$n:${kind#*:}" "$SDUMP" -q prune --keep 3 "$WORK/ck/6" "$WORK/ck/b1" 2>"$WORK/werr" || st=$?
		if [ "$st" != 0 ]; then
			[ "$st" = 1 ] && [ "$(wc -l <"$WORK/werr")" = 1 ] ||
				fail "prune $k:$n: exit $st, not one line: $(cat "$WORK/werr")"
			nfail=$((nfail + 1))
		fi
		check_kept "prune $k:$n"
		"$SDUMP" verify -D "$WORK/ck/b1" >/dev/null || fail "prune $k:$n: the branch broke"
		rm -rf "$WORK/ck" && cp -a "$WORK/orig" "$WORK/ck"
	done
	[ "$nfail" -gt 0 ] || fail "no $k fault failed the prune"
	echo "prune: $k 1..$count: $nfail failed, every chain whole"
done

# --- killed at any moment ---
for delay in 0 0.01 0.03 0.06 0.1 0.2 0.4 0.8 1.5; do
	"$SDUMP" -q prune --keep 3 "$WORK/ck/6" "$WORK/ck/b1" 2>/dev/null &
	pr=$!
	sleep "$delay"
	kill -KILL "$pr" 2>/dev/null || true
	wait "$pr" 2>/dev/null || true
	check_kept "prune killed after $delay s"
	[ -e "$WORK/ck/3" ] || echo "killed after $delay s: pruned already"
	"$SDUMP" verify -D "$WORK/ck/b1" >/dev/null || fail "prune killed after $delay s: the branch broke"
	rm -rf "$WORK/ck" && cp -a "$WORK/orig" "$WORK/ck"
done

# --- the prune itself ---
"$SDUMP" prune --keep 3 "$WORK/ck/6" "$WORK/ck/b1" >"$WORK/out" || fail "prune"
grep -q "^2 chains: 1 pass removed, 1 made self-contained$" "$WORK/out" || fail "prune said: $(cat "$WORK/out")"
# 3 goes; 1 and 2 stay for the branch
[ ! -e "$WORK/ck/3" ] || fail "ck/3 was not removed"
for d in 1 2 4 5 6 b1; do [ -d "$WORK/ck/$d" ] || fail "ck/$d was removed"; done
[ -z "$(ls -A "$WORK/ck" | grep '^\.')" ] || fail "leftovers: $(ls -A "$WORK/ck")"
check_kept "pruned"
for d in 4 5 6; do same_image_memory "$WORK/orig/$d" "$WORK/ck/$d"; done
"$SDUMP" verify -D "$WORK/ck/b1" >/dev/null || fail "the branch broke"
[ ! -e "$WORK/ck/4/parent" ] || fail "the oldest kept pass still has a parent link"
"$SDUMP" show --json -D "$WORK/ck/6" >"$WORK/6.json"
[ "$(json_get "$WORK/6.json" 'len(d["chain"])')" = 3 ] || fail "the chain of ck/6 is not 3 passes"
# again: nothing to do (1 and 2 are the branch's only now)
"$SDUMP" prune --keep 3 "$WORK/ck/6" >"$WORK/out" || fail "prune 2"
grep -q "0 passes removed, 0 made self-contained" "$WORK/out" || fail "prune 2 said: $(cat "$WORK/out")"
"$SDUMP" -q prune --keep 1 "$WORK/ck/b1" || fail "prune --keep 1 of the branch"
[ "$(ls "$WORK/ck" | tr '\n' ' ')" = "4 5 6 b1 " ] || fail "after pruning the branch: $(ls "$WORK/ck")"
same_image_memory "$WORK/orig/b1" "$WORK/ck/b1"
"$SDUMP" -q prune --keep 1 "$WORK/ck/6" || fail "prune --keep 1"
[ "$(ls "$WORK/ck" | tr '\n' ' ')" = "6 b1 " ] || fail "after --keep 1: $(ls "$WORK/ck")"
same_image_memory "$WORK/orig/6" "$WORK/ck/6"

# --- the newest pass restores the process it dumped ---
# fds 7 and 8 stay open: the restored target reopens its FIFOs
"$SDUMP" restore -j -d -D "$WORK/ck/6" 2>"$WORK/rerr" || fail "restore of the pruned chain: $(cat "$WORK/rerr")"
tcmd sum
[ "$REPLY" = "${sum[6]}" ] || fail "the restored process has other memory ($REPLY, dumped ${sum[6]})"
state_check "$TPID" "$WORK/state.json"
kill -KILL "$TPID"
wait_pid_free "$TPID"
exec 7>&- 8<&-
echo ok
