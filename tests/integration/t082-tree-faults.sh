#!/bin/bash
# Fault injection over whole passes of a process tree (treetarget): the
# N-th write, read of a process, ptrace request, injected system call or
# image file creation fails, N walked over a dump -R of the tree (at most
# 40 points per kind, SDUMP_QUICK 10, SDUMP_FAULT_ALL=1 every one), then
# over the restore of another tree's dump. After a failed dump: one line,
# exit 1, no directory, every member as it was (running, the stopped one
# stopped, the zombies zombies, parents, groups and sessions), none
# traced; the tree still checks itself. After a failed restore: one line,
# exit 1, no member left (every pid free again), the image unchanged; a
# restore the fault did not fail brought the whole tree back as it was
# dumped, and the last one checks itself. A restore whose pidfile cannot be
# written leaves no member either.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/faults.sh"
. "$(dirname "$0")/members.sh"
export SDUMP_STATE_DIR="$WORK/state"
FAULT_QUICK_POINTS=10
# nine walks over a tree of seven processes: 40 points each stay under ctest's 900 s
FAULT_MAX_POINTS=40

start_target_quiet treetarget "$WORK"
root=$TPID
mapfile -t PIDS < <(tree_members "$root")
TARGET_PIDS+=("${PIDS[@]}")
[ "${#PIDS[@]}" = 9 ] || fail "treetarget: ${#PIDS[@]} members, not 9"
before=$(tree_snapshot "${PIDS[@]}")

# --- dump -R of the tree ---
dir=$WORK/w
for spec in write:ENOSPC procread:EIO ptrace:ESRCH inject:ENOMEM open:EIO; do
	kind=${spec%:*} errno=${spec#*:} nfail=0 nok=0
	count=$(fault_count "$kind" "$SDUMP" -q dump -R -t "$root" -D "$WORK/count")
	rm -rf "$WORK/count"
	for n in $(fault_points "$count"); do
		st=0
		SDUMP_FAULT="$kind:$n:$errno" "$SDUMP" -q dump -R -t "$root" -D "$dir" >/dev/null 2>"$WORK/werr" || st=$?
		if [ "$st" = 0 ]; then
			[ -f "$dir/tree.img" ] || fail "dump $kind:$n: exit 0 without a tree image"
			"$SDUMP" -q verify -D "$dir/pid-$root" >/dev/null || fail "dump $kind:$n: exit 0 with an image verify refuses"
			rm -rf "$dir"
			nok=$((nok + 1))
		else
			check_failed "dump $kind:$n" "$st" "$WORK/werr" "$dir"
			nfail=$((nfail + 1))
		fi
		now=$(tree_snapshot "${PIDS[@]}")
		[ "$now" = "$before" ] || fail "dump $kind:$n ($(cat "$WORK/werr")): the tree changed: $(diff <(echo "$before") <(echo "$now"))"
	done
	[ "$nfail" -gt 0 ] || fail "dump: no $kind fault failed the pass"
	echo "dump -R of the tree: $kind 1..$count ($errno): $nfail failed cleanly, $nok succeeded"
done
# (check reaps the zombies and continues the stopped member: the tree is not the same after it)
tcmd check
[ "$REPLY" = ok ] || fail "the tree after the fault walk: $REPLY"
echo quit >&7
wait_gone "$root"
exec 7>&- 8<&-
wait "$root" 2>/dev/null || true

# --- the restore of a new tree's dump ---
start_target_quiet treetarget "$WORK"
root=$TPID
mapfile -t PIDS < <(tree_members "$root")
TARGET_PIDS+=("${PIDS[@]}")
before=$(tree_snapshot "${PIDS[@]}")
"$SDUMP" -q dump -t "$root" -D "$WORK/img" || fail "dump of the tree"
exec 7>&- 8<&-
wait "$root" 2>/dev/null || true
for p in "${PIDS[@]}"; do wait_pid_free "$p"; done
# both ends held open here, so that the restored root finds its FIFOs as they were
exec 7<>"$WORK/target.in" 8<>"$WORK/target.out"
sum=$(dir_sum "$WORK/img")
for spec in write:EIO ptrace:ESRCH inject:ENOMEM procread:EIO; do
	kind=${spec%:*} errno=${spec#*:} nfail=0 nok=0
	count=$(fault_count "$kind" "$SDUMP" -q restore -d -D "$WORK/img")
	tree_kill "${PIDS[@]}"
	[ "$count" -gt 0 ] || { echo "restore of the tree: no $kind calls"; continue; }
	for n in $(fault_points "$count"); do
		st=0
		SDUMP_FAULT="$kind:$n:$errno" "$SDUMP" -q restore -d -D "$WORK/img" >/dev/null 2>"$WORK/werr" || st=$?
		if [ "$st" = 0 ]; then
			now=$(tree_snapshot "${PIDS[@]}")
			[ "$now" = "$before" ] || fail "restore $kind:$n: exit 0, but the tree is not the one dumped: $(diff <(echo "$before") <(echo "$now"))"
			tree_kill "${PIDS[@]}"
			nok=$((nok + 1))
		else
			[ "$st" = 1 ] || fail "restore $kind:$n: exit status $st: $(cat "$WORK/werr")"
			[ "$(wc -l <"$WORK/werr")" = 1 ] || fail "restore $kind:$n: not one line: $(cat "$WORK/werr")"
			tree_none_left "restore $kind:$n ($(cat "$WORK/werr"))" "${PIDS[@]}"
			nfail=$((nfail + 1))
		fi
		[ "$(dir_sum "$WORK/img")" = "$sum" ] || fail "restore $kind:$n: the image changed"
	done
	[ "$nfail" -gt 0 ] || fail "restore: no $kind fault failed it"
	echo "restore of the tree: $kind 1..$count ($errno): $nfail failed cleanly, $nok succeeded"
done
# a pidfile it cannot write: the tree runs, but nobody could know it: it goes, all of it
st=0
"$SDUMP" -q restore -d -D "$WORK/img" --pidfile "$WORK/none/pid" 2>"$WORK/werr" || st=$?
[ "$st" = 1 ] && [ "$(wc -l <"$WORK/werr")" = 1 ] && grep -q "cannot write the pidfile" "$WORK/werr" ||
	fail "restore with a pidfile it cannot write: exit $st: $(cat "$WORK/werr")"
tree_none_left "restore with a pidfile it cannot write" "${PIDS[@]}"
"$SDUMP" -q restore -d -D "$WORK/img" --pidfile "$WORK/tree.pid" || fail "the image no longer restores"
[ "$(cat "$WORK/tree.pid")" = "$root" ] || fail "the pidfile holds '$(cat "$WORK/tree.pid")', not the root $root"
now=$(tree_snapshot "${PIDS[@]}")
[ "$now" = "$before" ] || fail "the last restore: the tree is not the one dumped: $(diff <(echo "$before") <(echo "$now"))"
tcmd check
[ "$REPLY" = ok ] || fail "the tree restored after the walk: $REPLY"
echo quit >&7
wait_gone "$root"
echo ok
