#!/bin/bash
# sdump dump -t of a process with children dumps its whole tree, and restore
# makes it again: treetarget (three levels, pipes between members holding
# bytes, a log whose open file description every member shares, sessions
# and groups made after fork, a stopped member, two zombies with their exit
# status) comes back with the same pids, parents, sessions and groups,
# zombies as zombies, the stopped one stopped; every member's state is the
# one recorded before the dump; the tree then checks itself (each member its
# ids and its pipe's bytes, one offset for all on the log, the root reaps
# its zombies and finds their status); show of the image lists the tree as
# it was, each member's pages. Then the refusals, each one line,
# with the tree left running: a live dump, a member traced by another tracer.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

# members PID: every process of the tree at PID, parents first, one per line
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
# ids PID: "pid ppid pgid sid state comm" of PID (the root's parent is
# the restore's, not the test's: "-")
ids() {
	python3 - "$1" "$root" <<'PYEOF'
import sys
s = open("/proc/%s/stat" % sys.argv[1]).read()
comm = s[s.index("(") + 1:s.rindex(")")]
f = s[s.rindex(")") + 2:].split()
print(sys.argv[1], "-" if sys.argv[1] == sys.argv[2] else f[1], f[2], f[3], f[0], comm)
PYEOF
}

start_target treetarget "$WORK"
root=$TPID
mapfile -t pids < <(members "$root")
TARGET_PIDS+=("${pids[@]}")
[ "${#pids[@]}" = 9 ] || fail "treetarget has ${#pids[@]} processes, expected 9: ${pids[*]}"
for p in "${pids[@]}"; do ids "$p"; done | sort -n >"$WORK/ids.before"
grep -c ' Z ' "$WORK/ids.before" | grep -qx 2 || fail "no two zombies: $(cat "$WORK/ids.before")"
grep -c ' T ' "$WORK/ids.before" | grep -qx 1 || fail "no stopped member: $(cat "$WORK/ids.before")"
for p in "${pids[@]}"; do
	[ "$(proc_state "$p")" = Z ] || state_record "$p" "$WORK/state.$p"
done

# --- refusals: nothing of the tree changes ---
expect_error "cannot dump pid $root live: it has child processes" \
	"$SDUMP" dump -R --live -t "$root" -D "$WORK/pre"
[ ! -e "$WORK/pre" ] || fail "a refused live dump left '$WORK/pre'"
a=${pids[1]}
if command -v gdb >/dev/null 2>&1; then
	gdb -q -batch -ex "shell sleep 3" -p "$a" >/dev/null 2>&1 &
	gdbpid=$!
	for ((i = 0; i < 100; i++)); do
		[ "$(awk '/^TracerPid:/ {print $2}' "/proc/$a/status")" != 0 ] && break
		sleep 0.05
	done
	expect_error "cannot dump pid $root: pid $a of its tree is traced by pid" \
		"$SDUMP" dump -t "$root" -D "$WORK/traced"
	[ ! -e "$WORK/traced" ] || fail "a refused dump left '$WORK/traced'"
	wait "$gdbpid" || true
fi
for p in "${pids[@]}"; do
	[ "$(awk '/^TracerPid:/ {print $2}' "/proc/$p/status")" = 0 ] || fail "pid $p left traced"
done
for p in "${pids[@]}"; do ids "$p"; done | sort -n >"$WORK/ids.still"
diff "$WORK/ids.before" "$WORK/ids.still" >/dev/null || fail "a refusal changed the tree: $(diff "$WORK/ids.before" "$WORK/ids.still")"

# --- the dump: every member goes ---
"$SDUMP" dump -t "$root" -D "$WORK/img" --json >"$WORK/dump.json" 2>"$WORK/err" || fail "dump of the tree: $(cat "$WORK/err")"
[ -f "$WORK/img/tree.img" ] || fail "no tree.img"
for p in "${pids[@]}"; do
	grep -q "^$p .* Z " "$WORK/ids.before" && continue
	[ -f "$WORK/img/pid-$p/inventory.img" ] || fail "no pass for member $p"
done
exec 7>&- 8<&-
wait "$root" 2>/dev/null || true
for p in "${pids[@]}"; do wait_pid_free "$p"; done

# --- a member's pass read alone: --pid; the tree itself is no pass ---
a=${pids[1]}
"$SDUMP" coredump -D "$WORK/img" --pid "$a" -o "$WORK/core.$a" 2>"$WORK/err" || fail "coredump --pid $a: $(cat "$WORK/err")"
[ "$(head -c4 "$WORK/core.$a" | od -An -c | tr -d ' ')" = "177ELF" ] || fail "coredump --pid wrote no ELF file"
"$SDUMP" show -D "$WORK/img/pid-$a" >/dev/null 2>"$WORK/err" || fail "show of member $a's pass: $(cat "$WORK/err")"
# show of the tree: every member as it was (ids, stopped, zombies with their status), each one's pages
"$SDUMP" show -D "$WORK/img" --json >"$WORK/show.json" 2>"$WORK/err" || fail "show --json of the tree: $(cat "$WORK/err")"
python3 - "$WORK/show.json" "$WORK/ids.before" "$WORK/dump.json" "$root" <<'PYEOF' || fail "show --json of the tree is not the tree dumped"
import json, sys
show = json.load(open(sys.argv[1]))
dump = json.load(open(sys.argv[3]))
want = {}
for line in open(sys.argv[2]):
    pid, ppid, pgid, sid, st = line.split()[:5]
    want[int(pid)] = (ppid, int(pgid), int(sid), {"T": "stopped", "Z": "zombie"}.get(st, "running"))
tree = show["tree"]
assert tree[0]["pid"] == int(sys.argv[4]) and show["pid"] == tree[0]["pid"], "the root is not first"
got = {m["pid"]: ("-" if m["pid"] == tree[0]["pid"] else str(m["ppid"]), m["pgid"], m["sid"], m["state"]) for m in tree}
assert got == want, "tree %s, the processes were %s" % (got, want)
exits = sorted(json.dumps(m["exit"], sort_keys=True) for m in tree if m["state"] == "zombie")
assert exits == ['{"code": 7}', '{"core": false, "signal": 15}'], "zombie exits %s" % exits
for m in tree:
    if m["state"] == "zombie":
        assert m["dir"] is None and m["stats"] is None, m
    else:
        assert m["dir"].endswith("/pid-%d" % m["pid"]) and m["stats"]["pages_written"] > 0, m
pages = sum(m["stats"]["pages_written"] for m in tree if m["stats"])
assert pages == dump["stats"]["pages_written"], "members' pages %d, the dump wrote %d" % (pages, dump["stats"]["pages_written"])
PYEOF
"$SDUMP" show -D "$WORK/img" >"$WORK/show.txt" || fail "show of the tree"
for p in "${pids[@]}"; do
	grep -Eq "^  $p +" "$WORK/show.txt" || fail "show of the tree does not list member $p: $(cat "$WORK/show.txt")"
done
grep -q "^tree      9 processes (2 zombies, 1 stopped)" "$WORK/show.txt" || fail "show of the tree: $(head -n 1 "$WORK/show.txt")"
[ "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["tree"])' <<<"$("$SDUMP" show --json -D "$WORK/img/pid-$a")")" = None ] ||
	fail "show --json of one pass has a tree"
expect_error "pid 1 is no member of the tree" "$SDUMP" extract -D "$WORK/img" --pid 1 --addr 0x1000 --len 4096 -o "$WORK/x"
z=$(awk '$5 == "Z" {print $1; exit}' "$WORK/ids.before")
expect_error "pid $z of the tree .* is a zombie" "$SDUMP" coredump -D "$WORK/img" --pid "$z" -o "$WORK/core.z"

# --- the restore: the same tree ---
exec 7<>"$WORK/target.in" 8<>"$WORK/target.out"
"$SDUMP" restore -D "$WORK/img" -d 2>"$WORK/err" || fail "restore of the tree: $(cat "$WORK/err")"
for p in "${pids[@]}"; do ids "$p"; done | sort -n >"$WORK/ids.after"
diff "$WORK/ids.before" "$WORK/ids.after" >"$WORK/ids.diff" ||
	fail "the restored tree differs (pid ppid pgid sid state comm): $(cat "$WORK/ids.diff")"
for p in "${pids[@]}"; do
	[ "$(awk '/^TracerPid:/ {print $2}' "/proc/$p/status")" = 0 ] || fail "pid $p is still traced"
	[ -e "$WORK/state.$p" ] && state_check "$p" "$WORK/state.$p"
done
tcmd check
[ "$REPLY" = ok ] || fail "the restored tree checks itself: $REPLY"
tcmd pids
echo quit >&7
wait_gone "$root"
echo "a tree of ${#pids[@]} processes dumped and restored"
