#!/bin/bash
# fd flags and file locks across a dump and a restore. The lock target's
# fds come back with their exact flags (fdinfo "flags:", FD_CLOEXEC
# included: O_APPEND, O_NONBLOCK, O_DIRECT, O_NOATIME, O_SYNC, O_DSYNC,
# O_PATH, a read-write pipe end, a dup sharing its open file description),
# the owner and signal of their I/O signals (a write into the FIFO signals
# the owner thread with si_fd; a lease break signals the process), and
# every lock it held (POSIX read and write ranges, OFD, flock, a lease),
# which another process then cannot take, until the target lets go. After
# a dump -R the original keeps its locks and a restore is refused by the
# first of them; a lock someone else holds refuses the restore too: one
# line, and no process. A dump refuses an owner outside the process, a
# lock no fd shows and a packet-mode pipe holding bytes. Then the same
# with a real program: python3's sqlite3 holding BEGIN EXCLUSIVE. Both
# restores are compared with statecheck: fds, flags, positions, locks.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"

# probe.py CHECK...: from another process, each lock is "busy" (cannot be
# taken now) or "free" as CHECK says; every mismatch one line, status 1.
#   posix:PATH:r|w:START:LEN:want  ofd:PATH:r|w:START:LEN:want
#   flock:PATH:sh|ex:want          lease:PATH:want (an open for writing)
# probe.py hold flock:PATH:ex: take it, say "ready", hold it until stdin ends.
cat >"$WORK/probe.py" <<'EOF'
import errno, fcntl, os, struct, sys

def take(spec):
    kind, path, rest = spec.split(":", 2)
    if kind in ("posix", "ofd"):
        rw, start, length = rest.split(":")[:3]
        fd = os.open(path, os.O_RDWR)
        t = fcntl.F_WRLCK if rw == "w" else fcntl.F_RDLCK
        cmd = fcntl.F_SETLK if kind == "posix" else fcntl.F_OFD_SETLK
        fl = struct.pack("hhxxxxqqixxxx", t, os.SEEK_SET, int(start), int(length), 0)
        fcntl.fcntl(fd, cmd, fl)
    elif kind == "flock":
        fd = os.open(path, os.O_RDONLY)
        fcntl.flock(fd, (fcntl.LOCK_EX if rest.startswith("ex") else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    else:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    return fd

if sys.argv[1] == "hold":
    fd = take(sys.argv[2])
    print("ready", os.getpid(), flush=True)
    sys.stdin.read()
    sys.exit(0)
bad = 0
for spec in sys.argv[1:]:
    want = spec.rsplit(":", 1)[1]
    try:
        os.close(take(spec))
        got = "free"
    except OSError as e:
        if e.errno not in (errno.EAGAIN, errno.EACCES):
            raise
        got = "busy"
    if got != want:
        print("  %s: %s" % (spec, got), file=sys.stderr)
        bad = 1
sys.exit(bad)
EOF
probe() { python3 "$WORK/probe.py" "$@"; }

start_target_quiet locktarget --dir "$WORK"
pid=$TPID
tfacts "$WORK/f1.json"
fd() { json_get "$WORK/f1.json" "d['fds']['$1']"; }
dat=$WORK/lt-$pid.dat flk=$WORK/lt-$pid.flk shf=$WORK/lt-$pid.shf lse=$WORK/lt-$pid.lse
fifo=$WORK/lt-$pid.fifo
held() {
	probe "posix:$dat:w:0:100:busy" "posix:$dat:r:0:1:busy" "posix:$dat:w:100:100:free" \
		"posix:$dat:r:1000:10:free" "posix:$dat:w:1000:10:busy" "posix:$dat:w:5000:1:busy" \
		"ofd:$dat:w:250:1:busy" "ofd:$dat:r:200:100:free" "posix:$dat:w:150:50:free" \
		"flock:$flk:sh:busy" "flock:$shf:sh:free" "flock:$shf:ex:busy"
}
held || fail "another process could take a lock the target holds, before any dump"
state_record "$pid" "$WORK/before.state"

# --- dump -R: the original runs on with its locks; a restore now is refused by the first ---
"$SDUMP" dump -R -t "$pid" -D "$WORK/r1" 2>"$WORK/err" || fail "dump -R: $(cat "$WORK/err")"
assert_running "$pid"
expect_error "cannot restore pid $pid: cannot take the POSIX write lock on bytes 0-99 again, through fd $(fd data) on '$dat': pid $pid holds a POSIX write lock on bytes 0-99 there now" \
	"$SDUMP" restore -D "$WORK/r1" -d
assert_running "$pid"
held || fail "the original lost a lock to the refused restore"
echo "dump -R: the restore is refused while the original holds its locks"

# --- dump: the original dies with its locks; another holder refuses the restore ---
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
st=0
wait "$pid" 2>/dev/null || st=$?
[ "$st" = 137 ] || fail "the dump did not kill the target (status $st)"
wait_pid_free "$pid"
"$SDUMP" show -D "$WORK/d1" --json >"$WORK/show.json" || fail "show --json"
json_get "$WORK/show.json" "[(x['fd'], x['flag_names'], x['dup_of'], x['owner'], x['signal'], x['locks']) for x in d['files']]" \
	>"$WORK/show.files"
grep -q "($(fd data), 'O_RDWR|O_LARGEFILE|O_CLOEXEC', None, {'type': 0, 'pid': 0}, 0, \[{'kind': 'posix', 'write': True, 'start': 0, 'end': 99}, {'kind': 'posix', 'write': False, 'start': 1000, 'end': None}\])" \
	"$WORK/show.files" || fail "show --json of the data fd: $(cat "$WORK/show.files")"
grep -q "($(fd data_dup), 'O_RDWR|O_LARGEFILE', $(fd data), " "$WORK/show.files" ||
	fail "show --json: fd $(fd data_dup) is no dup of fd $(fd data): $(cat "$WORK/show.files")"

coproc HOLDER { python3 "$WORK/probe.py" hold "flock:$shf:ex"; }
read -r -t 30 word hpid <&"${HOLDER[0]}" || fail "the holder did not start"
expect_error "cannot restore pid $pid: cannot take the flock shared lock again, through fd $(fd shflock) on '$shf': pid $hpid holds a flock exclusive lock there now" \
	"$SDUMP" restore -D "$WORK/d1" -d
[ ! -e "/proc/$pid" ] || fail "the refused restore left pid $pid behind ($(proc_state "$pid"))"
eval "exec ${HOLDER[1]}>&-"
wait "$HOLDER_PID" 2>/dev/null || true

"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
assert_threads_running "$pid"
state_check "$pid" "$WORK/before.state"
tfacts "$WORK/f2.json"
python3 - "$WORK/f1.json" "$WORK/f2.json" <<'EOF' || fail "fcntl() inside the target sees other fd flags, owners or signals"
import json, sys
a, b = (json.load(open(x)) for x in sys.argv[1:3])
for k in sorted(set(a["fd"]) | set(b["fd"])):
    if a["fd"].get(k) != b["fd"].get(k):
        print("  fd %s: [F_GETFD, F_GETFL, owner type, owner pid, F_GETSIG] %r -> %r"
              % (k, a["fd"].get(k), b["fd"].get(k)), file=sys.stderr)
        sys.exit(1)
EOF
held || fail "another process could take a lock the restored target holds"
echo "restored: flags, owners, signals and locks as before (statecheck, fcntl inside, others locked out)"

# the FIFO's signal (for the write, and for the writer's close): to the
# owner thread, with the fd's number as si_fd
[ "$(json_get "$WORK/f2.json" 'd["io_sigs"]')" = 0 ] || fail "the FIFO signalled before anything was written"
printf x >"$fifo"
for ((i = 0; i < 100; i++)); do
	tfacts "$WORK/f3.json"
	[ "$(json_get "$WORK/f3.json" 'd["io_sigs"]')" -ge 1 ] && break
	sleep 0.1
done
got=$(json_get "$WORK/f3.json" '(d["io_sigs"] > 0, d["io_fd"], d["io_tid"])')
[ "$got" = "(True, $(fd fifo), $(json_get "$WORK/f1.json" 'd["sig_tid"]'))" ] ||
	fail "a write into the O_ASYNC FIFO: (signalled, si_fd, thread) $got, expected (True, $(fd fifo), sig_tid)"
# the lease: an open for writing is refused, the break signal reaches the target, which lets go
probe "lease:$lse:busy" || fail "the restored lease did not hold off an open for writing"
for ((i = 0; i < 100; i++)); do
	tfacts "$WORK/f3.json"
	[ "$(json_get "$WORK/f3.json" 'd["lease_breaks"]')" = 1 ] && break
	sleep 0.1
done
[ "$(json_get "$WORK/f3.json" 'd["lease_breaks"]')" = 1 ] || fail "the lease break signal never reached the target"
probe "lease:$lse:free" || fail "the lease was not given up"
tcmd unlock
[ "$REPLY" = ok ] || fail "unlock: $REPLY"
probe "posix:$dat:w:0:0:free" "ofd:$dat:w:0:0:free" "flock:$flk:ex:free" "flock:$shf:ex:free" ||
	fail "a lock stayed after the target let go"
# not our child any more: it ends at "exit", its files removed
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-
[ ! -e "$dat" ] || fail "the restored target did not get to the end of main"
echo "the FIFO signals its owner thread, the lease breaks, the locks go when let go"

# --- what a dump refuses: one line, the process left running ---
refused() { # KIND PATTERN
	mkdir -p "$WORK/$1"
	start_target_quiet locktarget --dir "$WORK/$1" --with "$1"
	expect_error "$2" "$SDUMP" dump -t "$TPID" -D "$WORK/ref-$1"
	assert_running "$TPID"
	[ ! -e "$WORK/ref-$1/inventory.img" ] || fail "--with $1: an image was left"
	stop_target
}
refused owner "cannot dump pid [0-9]+: fd [0-9]+ \(/dev/null\) sends its I/O signals \(F_SETOWN\) to process $$, outside the process"
refused given "cannot dump pid [0-9]+: it holds a flock exclusive lock on inode [0-9a-f]+:[0-9a-f]+:[0-9]+ that none of its fds shows"
refused packet "cannot dump pid [0-9]+: fd [0-9]+ is a pipe in packet mode \(O_DIRECT\) holding 3 bytes"
echo "refused: an owner outside, a lock whose fd another process holds, a packet pipe holding bytes"

# --- a flock() held through a mapping only (its fd closed), as the JVM's hsperfdata: restored ---
mkdir -p "$WORK/mapped"
start_target_quiet locktarget --dir "$WORK/mapped" --with mapped
MAPPED=$WORK/mapped/lt-$TPID.map
ino=$(stat -c %i "$MAPPED")
grep -Eq "FLOCK +ADVISORY +WRITE +$TPID +[0-9a-f:]+:$ino " /proc/locks || fail "the target holds no flock on its mapped file"
"$SDUMP" dump -t "$TPID" -D "$WORK/mapped-img" 2>"$WORK/err" || fail "dump with a lock held through a mapping: $(cat "$WORK/err")"
wait "$TPID" 2>/dev/null || true
wait_pid_free "$TPID"
flock -n "$MAPPED" true || fail "the mapped file is locked with the target gone"
"$SDUMP" restore -D "$WORK/mapped-img" -d 2>"$WORK/err" || fail "restore with a lock held through a mapping: $(cat "$WORK/err")"
assert_running "$TPID"
grep -Eq "FLOCK +ADVISORY +WRITE +$TPID +[0-9a-f:]+:$ino " /proc/locks || fail "the restored target holds no flock on its mapped file: $(grep FLOCK /proc/locks)"
flock -n "$MAPPED" true 2>/dev/null && fail "another process could take the lock the restored target holds"
[ -z "$(ls -l "/proc/$TPID/fd" | grep "lt-$TPID.map")" ] || fail "the restored target holds an fd of its mapped file"
echo exit >&7
exec 7>&- 8<&-
wait_gone "$TPID"
flock -n "$MAPPED" true || fail "the lock outlived the restored target"
echo "restored: a flock() held through a mapping only, no fd of it"

# --- python3's sqlite3 holding BEGIN EXCLUSIVE across a dump and a restore ---
python3 -c 'import sqlite3' 2>/dev/null || skip "python3 has no sqlite3 module"
db=$WORK/t.db
cat >"$WORK/sql.py" <<'EOF'
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)
db.execute("create table t(x)")
db.execute("insert into t values (1)")
db.execute("begin exclusive")
db.execute("insert into t values (2)")
print("ready", os.getpid(), flush=True)
for line in sys.stdin:
    if line.strip() == "commit":
        db.execute("commit")
        print("ok", flush=True)
    elif line.strip() == "exit":
        break
EOF
# other CHECK: what another connection gets, "locked" or the row count
other() {
	python3 - "$db" <<'EOF'
import sqlite3, sys
try:
    print(sqlite3.connect(sys.argv[1], timeout=0).execute("select count(*) from t").fetchone()[0])
except sqlite3.OperationalError as e:
    print("locked" if "locked" in str(e) else e)
EOF
}
rm -f "$WORK/sql.in" "$WORK/sql.out"
mkfifo "$WORK/sql.in" "$WORK/sql.out"
python3 "$WORK/sql.py" "$db" <"$WORK/sql.in" >"$WORK/sql.out" 2>"$WORK/sql.err" &
TARGET_PIDS+=($!)
exec 7>"$WORK/sql.in" 8<"$WORK/sql.out"
read -r -t 60 word spid <&8 || fail "python3 sqlite did not start: $(cat "$WORK/sql.err")"
[ "$(other)" = locked ] || fail "another connection is not locked out before the dump: $(other)"
"$SDUMP" dump -R -t "$spid" -D "$WORK/s1" 2>"$WORK/err" || fail "dump -R of python3: $(cat "$WORK/err")"
expect_error "cannot restore pid $spid: cannot take the POSIX write lock on bytes [0-9]+-[0-9]+ again, through fd [0-9]+ on '$db': pid $spid holds" \
	"$SDUMP" restore -D "$WORK/s1" -d
assert_running "$spid"
state_record "$spid" "$WORK/sql.state"
"$SDUMP" dump -t "$spid" -D "$WORK/s2" 2>"$WORK/err" || fail "dump of python3: $(cat "$WORK/err")"
wait_gone "$spid"
wait_pid_free "$spid"
"$SDUMP" restore -D "$WORK/s2" -d 2>"$WORK/err" || fail "restore of python3: $(cat "$WORK/err")"
[ "$(other)" = locked ] || fail "another connection is not locked out after the restore: $(other)"
state_check "$spid" "$WORK/sql.state"
tcmd commit
[ "$REPLY" = ok ] || fail "commit in the restored python3: $REPLY"
[ "$(other)" = 2 ] || fail "after the restored commit another connection sees $(other) rows, expected 2"
echo exit >&7
wait_gone "$spid"
exec 7>&- 8<&-
echo "sqlite3: the exclusive lock held across the dump and restore, the transaction commits"

# a pipe made 1 MiB large (F_SETPIPE_SZ) holding 600 KiB: the same capacity
# and every byte after the restore (more than a restore's scratch area takes)
cat >"$WORK/bigpipe.py" <<'EOF'
import fcntl, os, sys, time
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 1 << 20)
data = bytes((i * 7 + 3) & 0xff for i in range(600 * 1024))
os.set_blocking(w, False)
n = 0
while n < len(data):
    n += os.write(w, data[n:])
print("ready", os.getpid(), flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.05)
os.set_blocking(r, False)
got = b""
while True:
    try:
        b = os.read(r, 1 << 20)
    except BlockingIOError:
        break
    got += b
print(fcntl.fcntl(w, fcntl.F_GETPIPE_SZ), len(got), got == data, flush=True)
EOF
rm -f "$WORK/bigpipe.go"
python3 "$WORK/bigpipe.py" "$WORK/bigpipe.go" >"$WORK/bigpipe.out" 2>&1 </dev/null &
TARGET_PIDS+=($!)
bpid=$!
for ((i = 0; i < 200; i++)); do grep -q ready "$WORK/bigpipe.out" && break; sleep 0.05; done
state_record "$bpid" "$WORK/bigpipe.state"
"$SDUMP" dump -t "$bpid" -D "$WORK/bigpipe" 2>"$WORK/err" || fail "dump of the big pipe: $(cat "$WORK/err")"
wait_gone "$bpid"
wait_pid_free "$bpid"
"$SDUMP" restore -D "$WORK/bigpipe" -d 2>"$WORK/err" || fail "restore of the big pipe: $(cat "$WORK/err")"
state_check "$bpid" "$WORK/bigpipe.state"
touch "$WORK/bigpipe.go"
wait_gone "$bpid"
[ "$(tail -n 1 "$WORK/bigpipe.out")" = "1048576 614400 True" ] ||
	fail "the big pipe after the restore (capacity, bytes, same): $(tail -n 1 "$WORK/bigpipe.out"), expected 1048576 614400 True"
echo "a pipe of 1 MiB holding 600 KiB: its capacity and bytes came back"

# its own /proc/PID/maps open (at an offset): opened again once the restored
# process exists, whose own maps it then reads (a file of another
# process's /proc: t168)
cat >"$WORK/procfd.py" <<'EOF'
import os, sys, time
f = open("/proc/self/maps")
f.readline()
print("ready", os.getpid(), flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.05)
f.seek(0)
print("maps", "[stack]" in f.read(), os.readlink("/proc/self/fd/%d" % f.fileno()) == "/proc/%d/maps" % os.getpid(), flush=True)
EOF
rm -f "$WORK/procfd.go"
python3 "$WORK/procfd.py" "$WORK/procfd.go" >"$WORK/procfd.out" 2>&1 </dev/null &
TARGET_PIDS+=($!)
ppid=$!
for ((i = 0; i < 200; i++)); do grep -q ready "$WORK/procfd.out" && break; sleep 0.05; done
"$SDUMP" dump -t "$ppid" -D "$WORK/procfd" 2>"$WORK/err" || fail "dump with /proc/PID/maps open: $(cat "$WORK/err")"
wait_gone "$ppid"
wait_pid_free "$ppid"
"$SDUMP" restore -D "$WORK/procfd" -d 2>"$WORK/err" || fail "restore with /proc/PID/maps open: $(cat "$WORK/err")"
touch "$WORK/procfd.go"
wait_gone "$ppid"
[ "$(tail -n 1 "$WORK/procfd.out")" = "maps True True" ] ||
	fail "/proc/PID/maps after the restore: $(tail -n 1 "$WORK/procfd.out")"
echo "its own /proc/PID/maps open: opened again, reads the restored process's maps"
echo ok

# --- a flock() whose fd a child inherited and the parent closed: restored through the child's fd ---
mkdir -p "$WORK/inh"
start_target_quiet locktarget --dir "$WORK/inh" --with inherited
INH=$WORK/inh/lt-$TPID.inh
KID=$(awk '{print $1}' "/proc/$TPID/task/$TPID/children")
TARGET_PIDS+=($KID)
grep -q "lock:.*FLOCK.*WRITE" "/proc/$KID/fdinfo/"* || fail "the child's fd shows no flock (child $KID: $(grep -h lock /proc/$KID/fdinfo/* | tr "\n" " "))"
"$SDUMP" dump -t "$TPID" -D "$WORK/inh-img" 2>"$WORK/err" || fail "dump with a lock held through a child's fd: $(cat "$WORK/err")"
wait "$TPID" 2>/dev/null || true
wait_pid_free "$TPID"
wait_pid_free "$KID"
"$SDUMP" restore -D "$WORK/inh-img" -d 2>"$WORK/err" || fail "restore with a lock held through a child's fd: $(cat "$WORK/err")"
grep -q "lock:.*FLOCK.*WRITE" "/proc/$KID/fdinfo/"* || fail "the restored child's fd shows no flock"
flock -n "$INH" true 2>/dev/null && fail "another process could take the lock the restored child holds"
echo exit >&7
exec 7>&- 8<&-
wait_gone "$TPID"
wait_gone "$KID"
flock -n "$INH" true || fail "the lock outlived the restored tree"
echo "restored: a flock() held through the fd a child inherited"

