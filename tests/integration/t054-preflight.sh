#!/bin/bash
# sdump check -t PID, the preflight: every obstacle a final dump would meet
# is listed, not only the first the dump names (a child, sockets, an
# io_uring, a deleted file, and one only the injected calls find), with
# the tracker pre-dumps use; exit 1 then, 0 for a target a dump takes (and
# the dump then goes through). A process with children is checked as the
# tree a dump takes: every member's obstacles, each naming its member (a
# child holding an io_uring, a child alone with a unix socket to a peer
# outside the tree), and trees that pass (treetarget; socktreetarget, its
# unix sockets between members checked in one table) are dumped. --json says the same as one object. The
# target is left as it was: running (or stopped, if it was), untraced,
# unchanged, with no image or state file made. On redis-server (TCP, then a
# unix socket) the check's verdict is the dump's.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

unchanged() { # WHAT: the target as before the check
	kill -0 "$TPID" 2>/dev/null || fail "$1: the target was killed"
	assert_running "$TPID"
	assert_threads_running "$TPID"
	tfacts "$WORK/facts2.json"
	cmp -s "$WORK/facts.json" "$WORK/facts2.json" ||
		fail "$1: the target changed: $(diff "$WORK/facts.json" "$WORK/facts2.json")"
	tcmd pipebytes
	[ "$REPLY" = "ok 5" ] || fail "$1: the pipe: $REPLY"
	tcmd xmmcheck
	[ "$REPLY" = ok ] || fail "$1: xmm registers changed: $REPLY"
	[ -z "$(ls -A "$SDUMP_STATE_DIR" 2>/dev/null)" ] || fail "$1: a state file was made"
}

# --- several obstacles at once ---
with=socket,child,deleted,restoreids
uring=0
if python3 -c 'import ctypes,sys; l=ctypes.CDLL(None); sys.exit(0 if l.syscall(425, 4, ctypes.create_string_buffer(120)) >= 0 else 1)'; then
	with=socket,io_uring,child,deleted,restoreids
	uring=1
fi
start_target statetarget --dir "$WORK" --with "$with"
tfacts "$WORK/facts.json"
child=$(json_get "$WORK/facts.json" 'd["child_pid"]')
st=0
"$SDUMP" check -t "$TPID" >"$WORK/out" 2>"$WORK/err" || st=$?
cat "$WORK/out"
[ "$st" = 1 ] || fail "check of a target with obstacles exited $st: $(cat "$WORK/err")"
[ ! -s "$WORK/err" ] || fail "check printed on stderr: $(cat "$WORK/err")"
unchanged "check"
assert_running "$child"
# with a child, a dump takes the tree: every member's obstacles, each after its pid
# (the child holds the socket and the io_uring too: it was forked after them)
n=0
for p in "$TPID" "$child"; do
	socks=0
	for l in /proc/"$p"/fd/*; do
		fd=${l##*/}
		link=$(readlink "$l")
		case $link in
		socket:*) want="fd $fd is a netlink socket"; socks=$((socks + 1)) ;;
		anon_inode:\[io_uring\]) want="fd $fd is an io_uring" ;;
		*" (deleted)") want="fd $fd is a deleted file" ;;
		*) continue ;;
		esac
		grep -q "^  pid $p: $want\b" "$WORK/out" || fail "'pid $p: $want' not listed"
		n=$((n + 1))
	done
	[ "$socks" = 1 ] || fail "pid $p has $socks sockets, expected its netlink one"
done
! grep -q "child processes" "$WORK/out" || fail "the child is an obstacle: a dump takes the tree"
grep -q "^  pid $TPID: it has PR_TIMER_CREATE_RESTORE_IDS on" "$WORK/out" || fail "the state the injected calls find not listed"
n=$((n + 1))
[ "$n" = $((2 * (1 + uring) + 2)) ] || fail "$n obstacles found in /proc, expected $((2 * (1 + uring) + 2))"
grep -q "^pid $TPID (statetarget) and its tree of 2 processes: $n obstacles to a dump$" "$WORK/out" || fail "not $n obstacles counted"
[ "$(grep -c '^  ' "$WORK/out")" = "$n" ] || fail "not one line per obstacle"
! grep -q "cannot dump pid" "$WORK/out" || fail "the pid repeated on each line"
grep -Eq "^pre-dumps track writes with (uffd-wp|soft-dirty|none)$" "$WORK/out" || fail "no tracker line"
# the dump itself (of the tree: t080) still names the first one, with the target left running
expect_error "cannot dump pid" "$SDUMP" dump -t "$TPID" -D "$WORK/img"
line=$(sed 's/^sdump: cannot dump pid \([0-9]*\): /pid \1: /' "$WORK/stderr")
grep -qxF "  $line" "$WORK/out" || fail "the dump refused '$line', which check did not list"
unchanged "dump"

# --json: the same as one object
st=0
"$SDUMP" check --json -t "$TPID" >"$WORK/json" || st=$?
[ "$st" = 1 ] || fail "check --json exited $st"
[ "$(wc -l <"$WORK/json")" = 1 ] || fail "check --json is not one line"
python3 - "$WORK/json" "$WORK/out" "$TPID" <<'PY' || fail "check --json: $(cat "$WORK/json")"
import json, sys
j = json.load(open(sys.argv[1]))
text = [l[2:].rstrip("\n") for l in open(sys.argv[2]) if l.startswith("  ")]
assert j["pid"] == int(sys.argv[3]) and j["comm"] == "statetarget", j
assert j["dump_possible"] is False and j["complete"] is True and j["members"] == 2, j
assert j["obstacles"] == text, (j["obstacles"], text)
assert j["tracker"] in ("uffd-wp", "soft-dirty", "none") and j["tracked"] is False, j
import os
kids = open("/proc/%s/task/%s/children" % (sys.argv[3], sys.argv[3])).read().split()
assert j["threads"] == sum(len(os.listdir("/proc/%s/task" % p)) for p in [sys.argv[3]] + kids), j
PY
unchanged "check --json"

# a stopped target stays stopped, and is not traced
kill -STOP "$TPID"
for _ in $(seq 50); do [ "$(proc_state "$TPID")" = T ] && break; sleep 0.1; done
"$SDUMP" check -t "$TPID" >/dev/null || true
[ "$(proc_state "$TPID")" = T ] || fail "a stopped target was resumed by check"
[ "$(awk '/^TracerPid:/ {print $2}' "/proc/$TPID/status")" = 0 ] || fail "a stopped target left traced"
kill -CONT "$TPID"
unchanged "check of a stopped target"
tid=$(ls "/proc/$TPID/task" | grep -vx "$TPID" | head -n 1)
expect_error "thread of process $TPID" "$SDUMP" check -t "$tid"
unchanged "check of a thread"
stop_target

# --- a target a dump takes: exit 0, and the dump then goes through ---
start_target statetarget --dir "$WORK"
tfacts "$WORK/facts.json"
"$SDUMP" check -t "$TPID" >"$WORK/out" || fail "check of a clean target: $(cat "$WORK/out")"
grep -q "^pid $TPID (statetarget): a dump would go through$" "$WORK/out" || fail "clean: $(cat "$WORK/out")"
"$SDUMP" check --json -t "$TPID" >"$WORK/json" || fail "check --json of a clean target"
[ "$(json_get "$WORK/json" 'd["dump_possible"] and d["obstacles"] == []')" = True ] || fail "clean json: $(cat "$WORK/json")"
unchanged "clean"
# after a pre-dump: tracked, and the check arms nothing, ends nothing
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/p1" || fail "pre-dump"
tracker=$(json_get "$WORK/json" 'd["tracker"]')
cp -a "$SDUMP_STATE_DIR" "$WORK/state.before"
"$SDUMP" check --json -t "$TPID" >"$WORK/json" || fail "check after a pre-dump"
if [ "$tracker" != none ]; then
	[ "$(json_get "$WORK/json" 'd["tracked"]')" = True ] || fail "not tracked after a pre-dump: $(cat "$WORK/json")"
	"$SDUMP" check -t "$TPID" | grep -q "armed by an earlier pass" || fail "the text does not say it is tracked"
fi
diff -r "$WORK/state.before" "$SDUMP_STATE_DIR" >/dev/null || fail "check changed the state files"
"$SDUMP" pre-dump -v -t "$TPID" -D "$WORK/p2" --parent "$WORK/p1" 2>"$WORK/v" || fail "pre-dump 2"
if [ "$tracker" != none ]; then
	grep -q "incremental" "$WORK/v" || fail "the check broke the tracking: $(cat "$WORK/v")"
fi
"$SDUMP" dump -t "$TPID" -D "$WORK/d" --parent "$WORK/p2" || fail "the dump a check said would go through"
wait "$TPID" 2>/dev/null || true

# --- the memory map's obstacles too: a VMA registered with the process's own userfaultfd ---
start_target_quiet vmatarget --uffd
load_regions
u=${REG_ADDR[uffd]}
st=0
"$SDUMP" check -t "$TPID" >"$WORK/out" || st=$?
[ "$st" = 1 ] || fail "check of vmatarget --uffd exited $st"
grep -q "^  0x${u#0x}-$(printf '0x%x' $((u + 4 * 4096))) is registered with a userfaultfd of the process's own" "$WORK/out" ||
	fail "the registered VMA not listed: $(cat "$WORK/out")"
grep -q "^  fd [0-9]* is a userfaultfd of the process's own" "$WORK/out" || fail "its userfaultfd not listed: $(cat "$WORK/out")"
assert_running "$TPID"
tcmd check
[ "$REPLY" = ok ] || fail "vmatarget after the check: $REPLY"
stop_target

# --- a real program: the check's verdict is the dump's ---
# agree PID WHAT: check -t exits 0 exactly when a dump -R goes through, and
# the one line a refused dump says is one of the obstacles check listed
agree() {
	local pid=$1 what=$2 cst=0 dst=0 line
	"$SDUMP" check -t "$pid" >"$WORK/agree.out" 2>&1 || cst=$?
	rm -rf "$WORK/agree.img"
	"$SDUMP" dump -R -t "$pid" -D "$WORK/agree.img" 2>"$WORK/agree.err" || dst=$?
	echo "$what: check $cst, dump $dst: $(head -n 1 "$WORK/agree.out")"
	case "$cst.$dst" in
	0.0) ;;
	1.1)
		# of a tree, each member's obstacle names it: "pid N: what"
		line=$(sed 's/^sdump: cannot dump pid [0-9]*: //' "$WORK/agree.err")
		[ "$(head -n 1 "$WORK/agree.out" | grep -c "its tree of")" = 0 ] || grep -q "^pid [0-9]* of its tree" <<<"$line" ||
			line=$(sed 's/^sdump: cannot dump pid \([0-9]*\): /pid \1: /' "$WORK/agree.err")
		grep -qxF "  $line" "$WORK/agree.out" ||
			fail "$what: the dump refused '$line', which check did not list: $(cat "$WORK/agree.out")" ;;
	*) fail "$what: check exited $cst, the dump $dst: $(cat "$WORK/agree.out" "$WORK/agree.err")" ;;
	esac
	assert_running "$pid"
	assert_threads_running "$pid"
}
if command -v redis-server >/dev/null; then
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no >"$WORK/redis.log" 2>&1 &
	rpid=$!
	TARGET_PIDS+=("$rpid")
	for _ in $(seq 100); do grep -q "Ready to accept" "$WORK/redis.log" && break; sleep 0.05; done
	agree "$rpid" "redis-server on TCP"
	kill "$rpid"
	wait "$rpid" 2>/dev/null || true
	redis-server --port 0 --unixsocket "$WORK/redis.sock" --save "" --appendonly no >"$WORK/redis.log" 2>&1 &
	rpid=$!
	TARGET_PIDS+=("$rpid")
	for _ in $(seq 100); do grep -q "Ready to accept" "$WORK/redis.log" && break; sleep 0.05; done
	agree "$rpid" "redis-server on a unix socket"
	kill "$rpid"
	wait "$rpid" 2>/dev/null || true
else
	echo "note: no redis-server here, the real program not tried"
fi

# --- a tree whose child alone has an obstacle: a unix socket to a peer outside the tree ---
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4)
c, _ = s.accept(); time.sleep(600)' "$WORK/peer.sock" &
TARGET_PIDS+=($!)
for _ in $(seq 100); do [ -S "$WORK/peer.sock" ] && break; sleep 0.05; done
python3 -c '
import os, socket, sys, time
if os.fork() == 0:
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
    print("ready", os.getpid(), flush=True)
    time.sleep(600)
    os._exit(0)
time.sleep(600)' "$WORK/peer.sock" >"$WORK/tree.out" &
troot=$!
TARGET_PIDS+=("$troot")
for _ in $(seq 100); do grep -q ready "$WORK/tree.out" && break; sleep 0.05; done
tchild=$(awk '{print $2}' "$WORK/tree.out")
TARGET_PIDS+=("$tchild")
st=0
"$SDUMP" check -t "$troot" >"$WORK/out" 2>"$WORK/err" || st=$?
[ "$st" = 1 ] || fail "check of a tree whose child has an outside peer exited $st: $(cat "$WORK/out" "$WORK/err")"
grep -q "^pid $troot (python3) and its tree of 2 processes: 1 obstacle to a dump$" "$WORK/out" || fail "tree: $(cat "$WORK/out")"
grep -q "^  pid $tchild: fd 3 is a unix stream socket connected to a peer outside the process .*--external unix:" "$WORK/out" ||
	fail "the child's socket not listed: $(cat "$WORK/out")"
"$SDUMP" check --json -t "$troot" >"$WORK/json" || true
[ "$(json_get "$WORK/json" 'd["members"] == 2 and not d["dump_possible"] and d["obstacles"][0].startswith("pid %d: fd 3" % '"$tchild"')')" = True ] ||
	fail "tree json: $(cat "$WORK/json")"
for p in "$troot" "$tchild"; do assert_running "$p"; done
agree "$troot" "a tree whose child has an outside peer"
kill "$troot" "$tchild"

# --- a tree a dump takes (treetarget: zombies, a stopped member): exit 0, and the dump goes through ---
start_target_quiet treetarget "$WORK"
"$SDUMP" check -t "$TPID" >"$WORK/out" || fail "check of treetarget: $(cat "$WORK/out")"
grep -q "^pid $TPID (treetarget) and its tree of 9 processes: a dump would go through$" "$WORK/out" || fail "treetarget: $(cat "$WORK/out")"
grep -c " T " <(for p in $(cat /proc/"$TPID"/task/*/children); do sed 's/.*) / /' "/proc/$p/stat" | cut -c1-3; done) | grep -qx 1 ||
	fail "the stopped member of treetarget was resumed by check"
agree "$TPID" "treetarget"
rm -rf "$WORK/agree.img"
tcmd check
[ "$REPLY" = ok ] || fail "treetarget after the check and a dump -R: $REPLY"
echo quit >&7
wait_gone "$TPID"
exec 7>&- 8<&-

# unix sockets between members (socktreetarget): checked in one table of the tree's, as the dump does
start_target_quiet socktreetarget --dir "$WORK"
"$SDUMP" check -t "$TPID" >"$WORK/out" || fail "check of socktreetarget: $(cat "$WORK/out")"
grep -q "^pid $TPID (socktreetarget) and its tree of 2 processes: a dump would go through$" "$WORK/out" ||
	fail "socktreetarget: $(cat "$WORK/out")"
agree "$TPID" "socktreetarget"
stop_target

# errors are errors, not obstacles
expect_error "no such process" "$SDUMP" check -t 999999999
echo ok
