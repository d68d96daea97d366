#!/bin/bash
# sdump restore --lazy of a process tree: lazytarget --kids 3, four
# members, each with regions of its own (private, written after the fork:
# no page the same in two members) and a MAP_SHARED region all share. Its
# chain of three passes restored lazily; a "check" queued before the
# restore is read at once: every member, four threads each, touches every
# page in a random order of its own while the memory comes in, and finds
# every byte right (the shared region too, which is filled before the tree
# runs). With -d one helper, sdump-lazy, fills every member and exits; then
# "churn": each member forks a child that checks everything, moves a
# region, unmaps half of one and drops a quarter of another, during the
# fill of a second restore. Without -d the command itself fills every
# member and says so. No member is left registered with a userfaultfd.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lazy.sh"
MIB=64
[ -n "${SDUMP_QUICK:-}" ] && MIB=32
KIDS=3

lazy_start_target --mib "$MIB" --kids "$KIDS"
root=$TPID
mapfile -t members < <(lazy_members "$root")
TARGET_PIDS+=("${members[@]}")
[ "${#members[@]}" = $((KIDS + 1)) ] || fail "lazytarget --kids $KIDS has ${#members[@]} processes: ${members[*]}"
want=$(lazy_tree_pages "$MIB" "$KIDS" 4)
lazy_chain tree
pid=$root

# members_done ERR: every member runs, untraced, none registered with a userfaultfd, the helper gone
members_done() {
	local m
	for m in "${members[@]}"; do lazy_check_detached "$m"; done
}

# --- -d: check queued; one helper fills all ---
lazy_queue check
"$SDUMP" -v restore -D "$WORK/tree.3" --lazy --shell-job -d 2>"$WORK/d.err" ||
	fail "restore --lazy -d: $(cat "$WORK/d.err")"
grep -q "restore $root: lazy: a tree of $((KIDS + 1)) processes running after .*, the memory follows (helper process [0-9]*, sdump-lazy" "$WORK/d.err" ||
	fail "restore --lazy -d of the tree: no helper named: $(cat "$WORK/d.err")"
helper=$(lazy_helper "$WORK/d.err")
lazy_reply
[ "$REPLY" = "ok $want" ] || fail "-d: the tree found its memory wrong during the fill: '$REPLY' (want ok $want)"
for ((i = 0; i < 600; i++)); do
	grep -q "the memory of the tree's $((KIDS + 1)) processes complete after" "$WORK/d.err" && break
	sleep 0.1
done
grep -q "lazy (helper $helper): the memory of the tree's $((KIDS + 1)) processes complete after" "$WORK/d.err" ||
	fail "-d: the helper did not say the tree's memory is complete: $(cat "$WORK/d.err")"
[ "$(grep -c "lazy (helper $helper): running after .* memory complete after" "$WORK/d.err")" = $((KIDS + 1)) ] ||
	fail "-d: not one line per member from the helper: $(cat "$WORK/d.err")"
faults=$(grep -o "lazy (helper $helper): running after .*: [0-9]* faults" "$WORK/d.err" | grep -o '[0-9]* faults' | awk '{s += $1} END {print s + 0}')
[ "$faults" -gt 0 ] || fail "-d: no fault served in any member: $(cat "$WORK/d.err")"
wait_pid_free "$helper"
members_done
for m in "${members[@]}"; do
	[ "$(lazy_members "$root" | grep -cx "$m")" = 1 ] || fail "-d: member $m is not in the restored tree"
done
tcmd check
[ "$REPLY" = "ok $want" ] || fail "-d: check once the memory is in: '$REPLY'"
echo "-d: every member right ($faults faults served), $(grep -o 'complete after [^:]*' "$WORK/d.err" | tail -n 1)"
echo exit >&7
for m in "${members[@]}"; do wait_pid_free "$m"; done

# --- -d again, with churn in every member during the fill ---
lazy_queue churn
"$SDUMP" -v restore -D "$WORK/tree.3" --lazy --shell-job -d 2>"$WORK/c.err" ||
	fail "restore --lazy -d (churn): $(cat "$WORK/c.err")"
lazy_reply
[ "$REPLY" = ok ] || fail "churn: the tree found its memory wrong during the fill: $REPLY"
for ((i = 0; i < 600; i++)); do
	grep -q "processes complete after" "$WORK/c.err" && break
	sleep 0.1
done
grep -q "processes complete after" "$WORK/c.err" || fail "churn: the fill did not end: $(cat "$WORK/c.err")"
events=$(grep -o '[0-9]* events' "$WORK/c.err" | awk '{s += $1} END {print s + 0}')
members_done
tcmd check
case "$REPLY" in "ok "[1-9]*) ;; *) fail "churn: check once the memory is in: $REPLY" ;; esac
echo "churn: every member right, $events events seen"
echo exit >&7
for m in "${members[@]}"; do wait_pid_free "$m"; done

# --- without -d: the command fills every member, then waits for the root ---
lazy_queue check
"$SDUMP" -v restore -D "$WORK/tree.3" --lazy --shell-job 2>"$WORK/w.err" &
rpid=$!
lazy_reply
[ "$REPLY" = "ok $want" ] || fail "no -d: the tree found its memory wrong during the fill: '$REPLY'"
lazy_wait_complete "$WORK/w.err"
grep -q "restore $root: lazy: a tree of $((KIDS + 1)) processes running after .*, memory complete after" "$WORK/w.err" ||
	fail "no -d: the tree's fill not said: $(cat "$WORK/w.err")"
members_done
echo exit >&7
wait "$rpid" || fail "no -d: restore exited $?: $(cat "$WORK/w.err")"
echo "no -d: $(grep -o 'a tree of .*complete after [^:]*' "$WORK/w.err")"
echo ok
