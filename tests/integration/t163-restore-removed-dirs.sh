#!/bin/bash
# Removed directories held as the cwd and as fds come back as they were
# (zdtm's cwd02 and rmdir_open): the cwd in a directory removed with its
# parent; an fd opened on "." and one on ".." before the removal, which are
# the cwd's directory and its parent again after the restore (the same
# inodes, not copies); an O_DIRECTORY fd of a removed directory whose
# parent is there; one of a directory removed with its parent, which a
# restore failed to make. Each has its mode and owner, its link count of
# 0, fstat, fchdir into it, openat relative to it (ENOENT, as in any
# removed directory) and getcwd (ENOENT) as before; nothing is left.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

cat >"$WORK/dirs.py" <<'EOF'
import json, os, sys
d = sys.argv[1]
os.makedirs(d + "/a/b")
os.makedirs(d + "/p/q")
os.mkdir(d + "/e")
for path, mode, uid, gid in (("a", 0o751, 0, 0), ("a/b", 0o710, 123, 456), ("e", 0o705, 77, 88),
                             ("p", 0o753, 5, 6), ("p/q", 0o1750, 7, 8)):
    os.chown(d + "/" + path, uid, gid)
    os.chmod(d + "/" + path, mode)
os.chdir(d + "/a/b")
for n, path in ((20, "."), (21, ".."), (22, d + "/e"), (23, d + "/p/q")):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    os.dup2(fd, n)
    os.close(fd)
for path in ("a/b", "a", "e", "p/q", "p"):
    os.rmdir(d + "/" + path)
def st(s):
    return [oct(s.st_mode), s.st_uid, s.st_gid, s.st_nlink]
def facts():
    c, u = os.stat("."), os.stat("..")
    out = {"cwd": st(c), "up": st(u)}
    for n in (20, 21, 22, 23):
        f = os.fstat(n)
        out[str(n)] = st(f) + [os.readlink("/proc/self/fd/%d" % n)]
        out["%d.up" % n] = st(os.stat("..", dir_fd=n))
        try:
            os.open("x", os.O_CREAT | os.O_WRONLY, dir_fd=n)
            out["%d.openat" % n] = "made"
        except OSError as e:
            out["%d.openat" % n] = e.errno
        here = os.open(".", os.O_RDONLY)
        os.fchdir(n)
        out["%d.fchdir" % n] = st(os.stat("."))
        os.fchdir(here)
        os.close(here)
    out["20 is cwd"] = (os.fstat(20).st_ino, os.fstat(20).st_dev) == (c.st_ino, c.st_dev)
    out["21 is cwd/.."] = (os.fstat(21).st_ino, os.fstat(21).st_dev) == (u.st_ino, u.st_dev)
    try:
        os.getcwd()
        out["getcwd"] = "ok"
    except OSError as e:
        out["getcwd"] = e.errno
    out["cwd link"] = os.readlink("/proc/self/cwd")
    return json.dumps(out, sort_keys=True)
print("ready", os.getpid(), flush=True)
for line in sys.stdin:
    print(facts(), flush=True)
EOF
mkdir "$WORK/d"
TARGETS_DIR=$(dirname "$(command -v python3)") start_target_quiet python3 "$WORK/dirs.py" "$WORK/d"
pid=$TPID
tcmd facts
f1=$REPLY
python3 - "$f1" <<'EOF' || fail "the target's removed directories are not as it made them: $f1"
import json, sys
f = json.loads(sys.argv[1])
assert f["cwd"] == ["0o40710", 123, 456, 0] and f["up"] == ["0o40751", 0, 0, 0]
assert f["20 is cwd"] and f["21 is cwd/.."] and f["getcwd"] == 2
assert f["22"][:4] == ["0o40705", 77, 88, 0] and f["23"][:4] == ["0o41750", 7, 8, 0]
assert f["23.up"] == ["0o40753", 5, 6, 0] and f["23.openat"] == 2
EOF
state_record "$pid" "$WORK/before.state"
"$SDUMP" dump -t "$pid" -D "$WORK/img" 2>"$WORK/dump.err" || fail "dump: $(cat "$WORK/dump.err")"
wait_gone "$pid"
wait_pid_free "$pid" 10
[ -z "$(ls -A "$WORK/d")" ] || fail "the directories are there before the restore: $(ls -A "$WORK/d")"
"$SDUMP" restore -D "$WORK/img" -d 2>"$WORK/restore.err" || fail "restore: $(cat "$WORK/restore.err")"
TARGET_PIDS+=("$pid")
assert_threads_running "$pid"
[ -z "$(ls -A "$WORK/d")" ] || fail "the restore left directories behind: $(ls -A "$WORK/d")"
state_check "$pid" "$WORK/before.state"
tcmd facts
[ "$REPLY" = "$f1" ] || fail "the removed directories differ after the restore:
before $f1
after  $REPLY"
echo "restored: a removed cwd with its removed parent, fds of both (the same directories), of a removed directory and of one removed with its parent"
