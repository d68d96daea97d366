#!/bin/bash
# A final dump of a process alone looks for other users of its shared
# anonymous memory before the freeze, and at the freeze only at what may
# have changed since (an object not looked for then, a process made
# since). shmtree's grandchild shares /dev/zero memory with its parent:
# its dump is refused with one line naming the parent, with and without
# -R, and it runs on.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/members.sh"
export SDUMP_STATE_DIR="$WORK/state"

start_target_quiet shmtree "$WORK"
root=$TPID
mapfile -t pids < <(tree_members "$root")
TARGET_PIDS+=("${pids[@]}")
[ "${#pids[@]}" = 4 ] || fail "shmtree has ${#pids[@]} processes, expected 4: ${pids[*]}"
for p in "${pids[@]:1}"; do
	pp=$(awk '{print $4}' "/proc/$p/stat")
	[ "$pp" != "$root" ] && g=$p && a=$pp
done
[ -n "$g" ] || fail "shmtree has no grandchild: ${pids[*]}"
tcmd "round 3"
[ "$REPLY" = ok ] || fail "shmtree before the dump: $REPLY"

for opt in "" -R; do
	expect_error "cannot dump pid $g: its shared memory at 0x[0-9a-f]+-0x[0-9a-f]+ \\(/dev/zero \\(deleted\\)\\) is mapped by pid ($a|$root) too, which is not dumped with it" \
		"$SDUMP" dump $opt -t "$g" -D "$WORK/img$opt"
	[ ! -e "$WORK/img$opt" ] || fail "a refused dump left '$WORK/img$opt'"
	assert_running "$g"
done
tcmd "round 4"
[ "$REPLY" = ok ] || fail "shmtree after the refusals: $REPLY"
echo quit >&7
wait_gone "$root"
echo "a process alone whose shared memory its parent maps: refused at the final dump, with and without -R, left running"
