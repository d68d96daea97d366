#!/bin/bash
# A chain of passes over a tree whose members share memory: shmtree
# (shared anonymous memory, /dev/zero MAP_SHARED, a memfd mapped in
# several members, a deleted file and a named file mapped shared)
# pre-dumped, written to, pre-dumped again on top, written to, dumped on
# top: every pass saves each shared object once, whole, in the first
# member that maps it (so the newest pass alone holds its latest
# contents), and the tree restored from the chain holds what it wrote
# last, shared again: a new round's writes of each member are seen by
# the others. Every member's state is the one recorded before the dump.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

members() {
	local q=("$1") i=0 p t c
	while [ "$i" -lt "${#q[@]}" ]; do
		p=${q[$i]}
		echo "$p"
		for t in /proc/"$p"/task/*; do
			for c in $(cat "$t/children" 2>/dev/null); do q+=("$c"); done
		done
		i=$((i + 1))
	done
}

start_target_quiet shmtree "$WORK"
root=$TPID
mapfile -t pids < <(members "$root")
TARGET_PIDS+=("${pids[@]}")
[ "${#pids[@]}" = 4 ] || fail "shmtree has ${#pids[@]} processes, expected 4: ${pids[*]}"
tcmd "round 1"
[ "$REPLY" = ok ] || fail "shmtree before the passes: $REPLY"
"$SDUMP" pre-dump -t "$root" -D "$WORK/1" 2>"$WORK/err" || fail "pre-dump of the tree: $(cat "$WORK/err")"
for p in "${pids[@]}"; do assert_running "$p"; done
tcmd "round 2"
[ "$REPLY" = ok ] || fail "shmtree after the first pre-dump: $REPLY"
"$SDUMP" -v pre-dump -t "$root" -D "$WORK/2" --parent "$WORK/1" 2>"$WORK/err" || fail "second pre-dump: $(cat "$WORK/err")"
grep -q "incremental" "$WORK/err" || fail "the second pre-dump of the tree is not incremental: $(cat "$WORK/err")"
tcmd "round 3"
[ "$REPLY" = ok ] || fail "shmtree after the second pre-dump: $REPLY"
for p in "${pids[@]}"; do state_record "$p" "$WORK/state.$p"; done
"$SDUMP" dump -t "$root" -D "$WORK/3" --parent "$WORK/2" 2>"$WORK/err" || fail "dump on the chain: $(cat "$WORK/err")"
# each pass: the shared objects' pages in the root's pass (the half of
# one only A maps in A's), none in G's and B's
for d in 1 2 3; do
	for p in "${pids[@]:1}"; do
		"$SDUMP" show -D "$WORK/$d/pid-$p" --json >"$WORK/show.$d.$p" 2>"$WORK/err" || fail "show of pass $d of pid $p: $(cat "$WORK/err")"
	done
done
python3 - "$WORK" "$root" "${pids[@]:1}" <<'PYEOF' || fail "a pass saved shared memory twice"
import json, sys
work, root, kids = sys.argv[1], sys.argv[2], sys.argv[3:]
bad = []
for d in "123":
    for pid in kids:
        for v in json.load(open("%s/show.%s.%s" % (work, d, pid)))["vmas"]:
            if v["path"] != "/dev/zero (deleted)" or not v["shared_pid"]:
                continue
            if v["pages_parent"] or (v["pages_data"] and v["end"] - v["start"] != 8 * 4096):
                bad.append("pass %s, pid %s: %x: %d saved, %d in parent" % (d, pid, v["start"], v["pages_data"], v["pages_parent"]))
if bad:
    sys.exit("; ".join(bad))
PYEOF
exec 7>&- 8<&-
wait "$root" 2>/dev/null || true
for p in "${pids[@]}"; do wait_pid_free "$p"; done

exec 7<>"$WORK/target.in" 8<>"$WORK/target.out"
"$SDUMP" restore -D "$WORK/3" -d 2>"$WORK/err" || fail "restore of the chain: $(cat "$WORK/err")"
for p in "${pids[@]}"; do
	assert_running "$p"
	state_check "$p" "$WORK/state.$p"
done
tcmd "check 3"
[ "$REPLY" = ok ] || fail "the tree restored from the chain: what it wrote last: $REPLY"
tcmd "round 4"
[ "$REPLY" = ok ] || fail "the tree restored from the chain: one member's writes seen by the others: $REPLY"
echo quit >&7
wait_gone "$root"
echo "pre-dump, pre-dump, dump of a tree sharing memory, written between the passes: restored with the last writes, shared"
