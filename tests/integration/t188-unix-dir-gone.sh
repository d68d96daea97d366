#!/bin/bash
# Unix sockets bound to paths whose files were removed and then their
# directories too (zdtm's sk-unix01): a python3 target binds a listener,
# a datagram socket and a seqpacket listener in DIR/a/b, connects a client
# to each (the stream and seqpacket ones accepted), removes the files and
# rmdirs DIR/a/b and DIR/a. The restore failed: bind ENOENT.
# - the restore makes DIR/a/b again for the binds and removes it after:
#   DIR/a is gone again, the target's sockets have their names, and their
#   clients and peers talk as before;
# - a file at DIR/a now (not a directory): the restore fails with one
#   line, no process left, the file as it was.
. "$(dirname "$0")/../lib.sh"
command -v python3 >/dev/null || skip "no python3"
export SDUMP_STATE_DIR="$WORK/state"

cat >"$WORK/t.py" <<'PYEOF'
import os, socket, sys
d = sys.argv[1]
os.makedirs(d + "/a/b")
p = d + "/a/b/"
lis = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); lis.bind(p + "l.sock"); lis.listen(4)
cli = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); cli.connect(p + "l.sock")
acc, _ = lis.accept()
dg = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); dg.bind(p + "d.sock")
dgc = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); dgc.connect(p + "d.sock")
sq = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); sq.bind(p + "s.sock"); sq.listen(4)
sqc = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); sqc.connect(p + "s.sock")
sqa, _ = sq.accept()
for n in ("l", "d", "s"):
    os.unlink(p + n + ".sock")
os.rmdir(d + "/a/b"); os.rmdir(d + "/a")
print("ready %d" % os.getpid(), flush=True)
for line in sys.stdin:
    if line.strip() != "check":
        break
    bad = []
    for s, n in ((lis, "l"), (dg, "d"), (sq, "s")):
        if s.getsockname() != p + n + ".sock":
            bad.append("%s named %r" % (n, s.getsockname()))
    cli.send(b"one"); acc.send(b"two"); dgc.send(b"three"); sqc.send(b"four")
    got = [acc.recv(9), cli.recv(9), dg.recv(9), sqa.recv(9)]
    if got != [b"one", b"two", b"three", b"four"]:
        bad.append("read %r" % got)
    print("bad " + ", ".join(bad) if bad else "ok", flush=True)
PYEOF

start_py() {
	rm -f "$WORK/in" "$WORK/out"
	mkfifo "$WORK/in" "$WORK/out"
	python3 "$WORK/t.py" "$1" <"$WORK/in" >"$WORK/out" 2>"$WORK/py.err" &
	TARGET_PIDS+=($!)
	exec 7>"$WORK/in" 8<"$WORK/out"
	read -r -t 60 word TPID <&8 || fail "python3 did not start: $(cat "$WORK/py.err")"
	[ "$word" = ready ] || fail "python3: '$word'"
}

mkdir -p "$WORK/s"
start_py "$WORK/s"
pid=$TPID
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"

# a file where the directory was: refused, nothing left
echo keep >"$WORK/s/a"
expect_error "cannot restore pid $pid: " "$SDUMP" restore -D "$WORK/d1" -d
[ ! -e "/proc/$pid" ] || fail "a failed restore left pid $pid"
[ "$(cat "$WORK/s/a")" = keep ] || fail "the file at $WORK/s/a changed"
echo "refused: $(cat "$WORK/stderr")"
rm "$WORK/s/a"

"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
assert_running "$pid"
[ ! -e "$WORK/s/a" ] || fail "the restore left $(find "$WORK/s/a")"
tcmd check
[ "$REPLY" = ok ] || fail "the restored target: $REPLY"
kill -KILL "$pid"
echo "restored: names in removed directories, the directories removed again, every peer talking"
