#!/bin/bash
# memfds across a dump and a restore: one of 5 pages with a hole, at an
# offset, close-on-exec and sealable, mapped shared whole and privately
# (a page of its own written there), sealed against shrinking and
# growing; one made MFD_NOEXEC_SEAL and sealed shut; one mapped shared
# and then sealed F_SEAL_FUTURE_WRITE; one sealed F_SEAL_WRITE and then
# mapped shared read-only (no VmFlag mw: it can never be made writable,
# and its copy is mapped after its seals so). Each comes back one memfd of its
# name with its contents, holes, size, mode, seals, offset and flags,
# which its fd and its mappings share again (a write through the fd shows
# in both mappings where they have no page of their own, one through the
# shared mapping in the fd): statecheck compares the fds and the mappings,
# the target checks the rest from inside. A hugetlb memfd is refused with
# one line (where this machine can make one).
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"

start_target_quiet memfdtarget --kinds hugetlb
tfacts "$WORK/f0.json"
huge=$(json_get "$WORK/f0.json" 'd["fds"].get("huge", -1)')
if [ "$huge" = -1 ]; then
	echo "no hugetlb memfd here: that case skipped"
else
	expect_error "cannot dump pid $TPID: the memfd 'huge' open as fd $huge is a hugetlb one \(MFD_HUGETLB\), not supported yet" \
		"$SDUMP" dump -t "$TPID" -D "$WORK/huge"
	assert_threads_running "$TPID"
fi
stop_target

start_target_quiet memfdtarget --kinds memfd
pid=$TPID
tfacts "$WORK/f1.json"
mfd=$(json_get "$WORK/f1.json" 'd["fds"]["mfd"]')
state_record "$pid" "$WORK/before.state"
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" show -D "$WORK/d1" >"$WORK/show" || fail "show"
grep -Eq "^ *$mfd +memfd .*/memfd:mftarget \(deleted\)" "$WORK/show" || fail "show does not list the memfd: $(cat "$WORK/show")"
grep -A1 -E "^ *$mfd +memfd" "$WORK/show" | grep -q "its contents saved: file [0-9]* of ghosts.img" || fail "show does not say where the memfd's contents are: $(cat "$WORK/show")"

"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
assert_threads_running "$pid"
state_check "$pid" "$WORK/before.state"
tcmd check
[ "$REPLY" = ok ] || fail "inside the restored target: $REPLY"
echo "restored: memfds with their names, contents, holes, seals, modes and mappings shared with their fds"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-

# a memfd holding a script, run through its fd after the restore: the fd
# is the memfd itself, not one opened again for writing (which the kernel
# would count as a writer and refuse to run: ETXTBSY)
cat >"$WORK/mexec.py" <<'EOF'
import os, sys, time
fd = os.memfd_create("script", 0)
os.write(fd, b"#!/bin/sh\nexit 7\n")
def run():
    pid = os.fork()
    if pid == 0:
        try:
            os.execv("/proc/self/fd/%d" % fd, ["script"])
        except OSError as e:
            os._exit(100 + e.errno)
    return os.waitpid(pid, 0)[1] >> 8
print("ready", os.getpid(), run(), flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.05)
print("after", run(), flush=True)
EOF
rm -f "$WORK/mexec.go"
python3 "$WORK/mexec.py" "$WORK/mexec.go" >"$WORK/mexec.out" 2>&1 </dev/null &
TARGET_PIDS+=($!)
mpid=$!
for ((i = 0; i < 200; i++)); do grep -q ready "$WORK/mexec.out" && break; sleep 0.05; done
grep -q "^ready $mpid 7$" "$WORK/mexec.out" || fail "the memfd script does not run before the dump: $(cat "$WORK/mexec.out")"
"$SDUMP" dump -t "$mpid" -D "$WORK/mexec" 2>"$WORK/err" || fail "dump of the memfd script: $(cat "$WORK/err")"
wait_gone "$mpid"
wait_pid_free "$mpid"
"$SDUMP" restore -D "$WORK/mexec" -d 2>"$WORK/err" || fail "restore of the memfd script: $(cat "$WORK/err")"
touch "$WORK/mexec.go"
wait_gone "$mpid"
[ "$(tail -n 1 "$WORK/mexec.out")" = "after 7" ] ||
	fail "the memfd script after the restore: $(tail -n 1 "$WORK/mexec.out") (126: ETXTBSY)"
echo "a memfd script runs through its fd after the restore"
echo ok
