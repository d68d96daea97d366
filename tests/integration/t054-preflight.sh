#!/bin/bash
# sdump check -t PID, the preflight: every obstacle a final dump would meet
# is listed, not only the first the dump names (a child, sockets, an
# io_uring, a deleted file, and one only the injected calls find), with
# the tracker pre-dumps use; exit 1 then, 0 for a target a dump takes (and
# the dump then goes through). --json says the same as one object. The
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
socks=0
for l in /proc/"$TPID"/fd/*; do
	fd=${l##*/}
	link=$(readlink "$l")
	case $link in
	socket:*) want="fd $fd is a netlink socket"; socks=$((socks + 1)) ;;
	anon_inode:\[io_uring\]) want="fd $fd is an io_uring" ;;
	*" (deleted)") want="fd $fd is a deleted file" ;;
	*) continue ;;
	esac
	grep -q "^  $want\b" "$WORK/out" || fail "'$want' not listed"
done
[ "$socks" = 1 ] || fail "the target has $socks sockets, expected its netlink one"
grep -q "^  it has child processes ($child)" "$WORK/out" || fail "the child not listed"
grep -q "^  it has PR_TIMER_CREATE_RESTORE_IDS on" "$WORK/out" || fail "the state the injected calls find not listed"
n=$((socks + uring + 3))
grep -q "^pid $TPID (statetarget): $n obstacles to a dump$" "$WORK/out" || fail "not $n obstacles counted"
[ "$(grep -c '^  ' "$WORK/out")" = "$n" ] || fail "not one line per obstacle"
! grep -q "cannot dump pid" "$WORK/out" || fail "the pid repeated on each line"
grep -Eq "^pre-dumps track writes with (uffd-wp|soft-dirty|none)$" "$WORK/out" || fail "no tracker line"
# the dump itself (of the tree: t080) still names the first one, with the target left running
expect_error "is an IPv4 TCP socket" "$SDUMP" dump -t "$TPID" -D "$WORK/img"
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
assert j["dump_possible"] is False and j["complete"] is True, j
assert j["obstacles"] == text, (j["obstacles"], text)
assert j["tracker"] in ("uffd-wp", "soft-dirty", "none") and j["tracked"] is False, j
import os
assert j["threads"] == len(os.listdir("/proc/%s/task" % sys.argv[3])), j
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
		line=$(sed 's/^sdump: cannot dump pid [0-9]*: //' "$WORK/agree.err")
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

# errors are errors, not obstacles
expect_error "no such process" "$SDUMP" check -t 999999999
echo ok
