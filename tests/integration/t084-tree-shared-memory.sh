#!/bin/bash
# Memory the members of a process tree share, dumped once and restored
# shared: shmtree (three levels, pipes between members) maps, before its
# forks, shared anonymous memory, /dev/zero MAP_SHARED, a memfd (mapped
# again in one member), a deleted file and a file with a name, all shared;
# shared anonymous memory the root unmapped half of after the forks (the
# first member that maps the other half saves it), and one a child made
# for its own child. Every member writes its slot in each and checks the
# others' before the dump; after the restore the values are still there,
# and a new round shows every write of one member to the others (the
# grandchild's to the root). Each object's pages are in one member's
# pass only, each deleted file's data too. Every member's state is the
# one recorded before the dump; a member's pass read alone (extract
# --pid) reads what another member saves. Then the refusal: a subtree whose shared
# memory its parent maps too is refused with one line, left running.
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
# inodes PID: the shared anonymous objects PID maps ("/dev/zero (deleted)" inodes)
inodes() {
	awk '$6 == "/dev/zero" {print $5}' "/proc/$1/maps" | sort -u | tr '\n' ' '
}

start_target_quiet shmtree "$WORK"
root=$TPID
mapfile -t pids < <(members "$root")
TARGET_PIDS+=("${pids[@]}")
[ "${#pids[@]}" = 4 ] || fail "shmtree has ${#pids[@]} processes, expected 4: ${pids[*]}"
# A (R's child with a child G), B
for p in "${pids[@]:1}"; do
	pp=$(awk '{print $4}' "/proc/$p/stat")
	if [ "$pp" != "$root" ]; then g=$p; elif [ -n "$(cat "/proc/$p/task/$p/children")" ]; then a=$p; else b=$p; fi
done
[ -n "$a" ] && [ -n "$g" ] && [ -n "$b" ] || fail "shmtree is not R, A, G, B: ${pids[*]}"
tcmd "round 7"
[ "$REPLY" = ok ] || fail "shmtree before the dump: $REPLY"
for p in "${pids[@]}"; do state_record "$p" "$WORK/state.$p"; done

# --- a subtree whose memory its parent shares: refused, it runs on ---
expect_error "cannot dump pid $a: its shared memory at 0x[0-9a-f]+-0x[0-9a-f]+ \\(/dev/zero \\(deleted\\)\\) is mapped by pid $root too, which is not dumped with it" \
	"$SDUMP" dump -t "$a" -D "$WORK/sub"
[ ! -e "$WORK/sub" ] || fail "a refused dump left '$WORK/sub'"
for p in "${pids[@]}"; do assert_running "$p"; done
tcmd "round 8"
[ "$REPLY" = ok ] || fail "shmtree after the refusal: $REPLY"
for p in "${pids[@]}"; do inodes "$p"; echo; done >"$WORK/inodes.before"

# --- the dump: each object saved once ---
"$SDUMP" -v dump -t "$root" -D "$WORK/img" 2>"$WORK/err" || fail "dump of the tree: $(cat "$WORK/err")"
grep -q "^dump $root: 2 deleted files saved" "$WORK/err" || fail "the root did not save the deleted file and the memfd: $(grep 'deleted' "$WORK/err")"
grep "deleted files saved" "$WORK/err" | grep -qv "^dump $root:" && fail "a member saved a deleted file again: $(grep 'deleted files saved' "$WORK/err")"
for p in "${pids[@]}"; do
	"$SDUMP" show -D "$WORK/img/pid-$p" --json >"$WORK/show.$p" 2>"$WORK/err" || fail "show of pid $p's pass: $(cat "$WORK/err")"
done
"$SDUMP" show -D "$WORK/img/pid-$g" >"$WORK/show.txt" 2>&1 || fail "show: $(cat "$WORK/show.txt")"
grep -q "shared with pid $a of the tree" "$WORK/show.txt" || fail "show does not say what the grandchild shares with its parent: $(cat "$WORK/show.txt")"
# the pages of a shared object in the first member's pass only (A: the
# half of "part" the root unmapped: 4 pages), the
# deleted files' contents in the root's
python3 - "$WORK" "$root" "$a" "$g" "$b" <<'PYEOF' || fail "shared memory saved more than once"
import json, sys
work, pids = sys.argv[1], sys.argv[2:]
root, a, g, b = pids
def vmas(pid):
    return json.load(open("%s/show.%s" % (work, pid)))["vmas"]
def shm(pid):
    return [v for v in vmas(pid) if v["path"] == "/dev/zero (deleted)"]
bad = []
if any(v["shared_pid"] for v in vmas(root)):
    bad.append("the root shares another's")
for pid in (a, g, b):
    for v in shm(pid):
        size = (v["end"] - v["start"]) // 4096
        if not v["shared_pid"] and not (pid == a and size == 2):
            bad.append("pid %s: %x not shared" % (pid, v["start"]))
        elif v["shared_pid"] and v["pages_data"] and not (pid == a and size == 8 and v["pages_data"] == 4):
            bad.append("pid %s: %x saved %d pages of another's" % (pid, v["start"], v["pages_data"]))
    for v in vmas(pid):
        if v["deleted"] and (v["shared_pid"] != int(root) or (v["ghost"] or {}).get("data_bytes")):
            bad.append("pid %s: the deleted %s saved again" % (pid, v["path"]))
late = [v for v in shm(g) if v["end"] - v["start"] == 2 * 4096]
if len(late) != 1 or late[0]["shared_pid"] != int(a):
    bad.append("G's share of A's memory")
part = [v for v in shm(a) if v["end"] - v["start"] == 8 * 4096]
if len(part) != 1 or part[0]["pages_data"] != 4:
    bad.append("A's half of part: %s" % part)
if bad:
    sys.exit("; ".join(bad))
PYEOF
# a member's pass read alone: the shared memory and the deleted file read
# from the member that saves them, as the root's pass reads them
python3 - "$WORK" "$root" "$a" "$g" "$b" >"$WORK/ranges" <<'PYEOF' || fail "no ranges to extract"
import json, sys
work, root, a, g, b = sys.argv[1:]
vm = {p: json.load(open("%s/show.%s" % (work, p)))["vmas"] for p in (root, b)}
for v in vm[root]:
    if v["path"] == "/dev/zero (deleted)" and v["end"] - v["start"] == 16 * 4096 or (v["path"] or "").endswith(".del (deleted)"):
        print(b, v["start"], v["end"] - v["start"])
for v in vm[b]:
    if v["path"] == "/dev/zero (deleted)" and v["end"] - v["start"] == 8 * 4096:
        print(b, v["start"], v["end"] - v["start"])
PYEOF
[ "$(wc -l <"$WORK/ranges")" = 3 ] || fail "not the three ranges: $(cat "$WORK/ranges")"
while read -r p addr len; do
	"$SDUMP" extract -D "$WORK/img" --pid "$p" --addr "$addr" --len "$len" -o "$WORK/x.$p" 2>"$WORK/err" || fail "extract of pid $p at $addr: $(cat "$WORK/err")"
	"$SDUMP" extract -D "$WORK/img" --pid "$a" --addr "$addr" --len "$len" -o "$WORK/x.$a" 2>"$WORK/err" || fail "extract of pid $a at $addr: $(cat "$WORK/err")"
	cmp -s "$WORK/x.$p" "$WORK/x.$a" || fail "pid $p's pass and pid $a's read $addr differently"
	[ "$(tr -d '\0' <"$WORK/x.$p" | wc -c)" -gt 0 ] || fail "pid $p's pass reads zeros at $addr"
done <"$WORK/ranges"
exec 7>&- 8<&-
wait "$root" 2>/dev/null || true
for p in "${pids[@]}"; do wait_pid_free "$p"; done

# --- the restore: one object each, shared again ---
exec 7<>"$WORK/target.in" 8<>"$WORK/target.out"
"$SDUMP" restore -D "$WORK/img" -d 2>"$WORK/err" || fail "restore of the tree: $(cat "$WORK/err")"
for p in "${pids[@]}"; do
	assert_running "$p"
	state_check "$p" "$WORK/state.$p"
done
for p in "${pids[@]}"; do inodes "$p"; echo; done >"$WORK/inodes.after"
# the same objects in the same members: as many inodes, and those of R among everyone's
[ "$(awk '{print NF}' "$WORK/inodes.before")" = "$(awk '{print NF}' "$WORK/inodes.after")" ] ||
	fail "the members map other numbers of shared objects: $(cat "$WORK/inodes.before") / $(cat "$WORK/inodes.after")"
for i in $(head -1 "$WORK/inodes.after"); do
	for p in "${pids[@]:1}"; do
		inodes "$p" | grep -qw "$i" || fail "pid $p does not map the root's shared object $i after the restore"
	done
done
tcmd "check 8"
[ "$REPLY" = ok ] || fail "the restored tree: what it wrote before the dump: $REPLY"
tcmd "round 9"
[ "$REPLY" = ok ] || fail "the restored tree: one member's writes seen by the others: $REPLY"
echo quit >&7
wait_gone "$root"
echo "a tree sharing anonymous, /dev/zero, memfd, deleted and named file memory: dumped once, restored shared"
