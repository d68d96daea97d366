#!/bin/bash
# Private pages a tree shares copy-on-write after fork (zdtm's cow00,
# cow01): cowtree's root, child and grandchild share a 16 MiB heap.
# - a pre-dump of the tree does not copy those pages for the members (it
#   reads them through /proc/PID/mem: process_vm_readv pins a page, and
#   the kernel copies a shared page before it pins it): the members'
#   memory (the sum of their Pss) grows by less than 2 MiB;
# - the members then write, the root some pages, the child others, both
#   some, the grandchild none; a dump on top of the pre-dump, a restore:
#   every member reads what it wrote and, elsewhere, the heap as it was
#   before the forks; the same by a dump alone.
# After a restore each member has a copy of its own of every page (the
# members' memory grows to about three heaps); measured and printed.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

# pss PID...: the sum of their Pss, KiB
pss() {
	local p sum=0 v
	for p in "$@"; do
		v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup") || fail "no smaps_rollup of pid $p"
		sum=$((sum + v))
	done
	echo "$sum"
}

# start_tree: cowtree started, its members in PIDS
start_tree() {
	start_target_quiet cowtree --mib 16
	tcmd pids
	local w
	read -r -a w <<<"$REPLY"
	PIDS=("${w[@]:1}")
	[ "${w[0]}" = pids ] && [ "${#PIDS[@]}" = 3 ] || fail "cowtree said '$REPLY' to pids"
	TARGET_PIDS+=("${PIDS[@]}")
}

# restore_and_check DIR: the tree restored from DIR checks itself
restore_and_check() {
	local p
	for p in "${PIDS[@]}"; do wait_gone "$p"; done
	for p in "${PIDS[@]}"; do wait_pid_free "$p"; done
	"$SDUMP" restore -D "$1" -d 2>"$WORK/err" || fail "restore of $1: $(cat "$WORK/err")"
	for p in "${PIDS[@]}"; do assert_threads_running "$p"; done
	echo "after the restore of $1: the members' Pss is $(pss "${PIDS[@]}") KiB"
	tcmd check
	[ "$REPLY" = ok ] || fail "the restored tree: $REPLY"
	echo exit >&7
	for p in "${PIDS[@]}"; do wait_gone "$p"; done
	exec 7>&- 8<&-
}

start_tree
before=$(pss "${PIDS[@]}")
"$SDUMP" pre-dump -t "${PIDS[0]}" -D "$WORK/p1" 2>"$WORK/err" || fail "pre-dump: $(cat "$WORK/err")"
after=$(pss "${PIDS[@]}")
echo "the members' Pss: $before KiB before the pre-dump, $after KiB after it"
((after - before < 2048)) || fail "the pre-dump copied the members' shared pages: their Pss grew from $before to $after KiB"
tcmd touch
[ "$REPLY" = ok ] || fail "touch: $REPLY"
tcmd check
[ "$REPLY" = ok ] || fail "the tree before its dump: $REPLY"
"$SDUMP" dump -t "${PIDS[0]}" -D "$WORK/p2" --parent "$WORK/p1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
restore_and_check "$WORK/p2"

start_tree
tcmd touch
[ "$REPLY" = ok ] || fail "touch: $REPLY"
"$SDUMP" dump -t "${PIDS[0]}" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
restore_and_check "$WORK/d1"
echo ok
