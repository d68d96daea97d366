#!/bin/bash
# What a program reads of the inodes sdump makes again comes back exactly:
# a pty slave chmod'ed and chown'ed (0600, another owner and group; zdtm's
# pty01), a deleted file open and written, with esoteric permissions (06604),
# another owner and modification and access times of its own (zdtm's
# file_attr), a removed directory open with its mode, owner and times. The
# state checker compares each fd's inode, and the program its own fstat().
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

cat >"$WORK/inodes.py" <<'EOF'
import json, os, pty, sys
d = sys.argv[1]
m, s = pty.openpty()
os.dup2(m, 20); os.dup2(s, 21); os.close(m); os.close(s)
os.fchown(21, 1234, 5)
os.fchmod(21, 0o600)
fd = os.open(d + "/file", os.O_CREAT | os.O_RDWR, 0o600)
os.dup2(fd, 22); os.close(fd)
os.write(22, b"attributes" * 1000)
os.fchown(22, 321, 654)
os.fchmod(22, 0o6604)
os.utime(22, ns=(111111111111111111, 123456000000000))
os.unlink(d + "/file")
os.mkdir(d + "/dir")
fd = os.open(d + "/dir", os.O_RDONLY | os.O_DIRECTORY)
os.dup2(fd, 23); os.close(fd)
os.chown(d + "/dir", 77, 88)
os.chmod(d + "/dir", 0o1705)
os.utime(d + "/dir", ns=(222222222222222222, 654321000000000))
os.rmdir(d + "/dir")
def facts():
    out = {}
    for n in (21, 22, 23):
        st = os.fstat(n)
        out[n] = [oct(st.st_mode), st.st_uid, st.st_gid, st.st_nlink] + \
                 ([st.st_mtime_ns, st.st_atime_ns, st.st_size] if n != 21 else [])
    return json.dumps(out, sort_keys=True)
print("ready", os.getpid(), flush=True)
for line in sys.stdin:
    print(facts(), flush=True)
EOF
mkdir "$WORK/d"
TARGETS_DIR=$(dirname "$(command -v python3)") start_target_quiet python3 "$WORK/inodes.py" "$WORK/d"
pid=$TPID
tcmd facts
f1=$REPLY
want='{"21": ["0o20600", 1234, 5, 1], "22": ["0o106604", 321, 654, 0, 123456000000000, 111111111111111111, 10000], "23": ["0o41705", 77, 88, 0, 654321000000000, 222222222222222222'
[ "${f1#"$want"}" != "$f1" ] || fail "the target did not set its inodes up: $f1"
state_record "$pid" "$WORK/before.state"
"$SDUMP" dump -t "$pid" -D "$WORK/img" 2>"$WORK/dump.err" || fail "dump: $(cat "$WORK/dump.err")"
wait_gone "$pid"
wait_pid_free "$pid" 10
"$SDUMP" restore -D "$WORK/img" -d 2>"$WORK/restore.err" || fail "restore: $(cat "$WORK/restore.err")"
TARGET_PIDS+=("$pid")
assert_threads_running "$pid"
state_check "$pid" "$WORK/before.state"
tcmd facts
f2=$REPLY
[ "$f1" = "$f2" ] || fail "the inodes differ after the restore: before $f1, after $f2"
[ -z "$(ls -A "$WORK/d")" ] || fail "the restore left files behind: $(ls -A "$WORK/d")"
echo "restored: pty slave 0600 1234:5, deleted file 06604 321:654 with its times, removed directory 01705 77:88 with its times"
