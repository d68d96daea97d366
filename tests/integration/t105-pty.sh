#!/bin/bash
# ptys whose both ends one process holds (openpty()), across a dump and a
# restore: a master in packet mode with its slave raw, VMIN 1, VINTR ^G,
# 40x132 and non-blocking; a master never unlocked; the slave of a third
# as the controlling terminal of the process (a session leader) with its
# group in the foreground. Each pty comes back with its number (the
# /proc/PID/fd links the same: statecheck compares them and the settings),
# its settings, window size, packet mode and lock, master and slave
# connected (a write to one reads from the other, from inside the target),
# and the controlling terminal is the slave again. A pty with bytes in
# flight between its two ends (written, not read yet) is refused at dump
# with one line, the target left running with its bytes still to read
# (the restored pty started empty, a reader of them waited for ever: zdtm's
# pty00, pty02).
# A number in use at restore refuses it with one line; a master whose
# slave a process outside the dump holds is refused at dump with one line
# (t116 dumps a tree holding both ends); so is a slave whose master was
# closed (hung up).
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"
[ -c /dev/ptmx ] || skip "no /dev/ptmx"

start_target_quiet ptytarget --inflight
pid=$TPID
tfacts "$WORK/f0.json"
ptm=$(json_get "$WORK/f0.json" 'd["fds"]["ptm"]')
n=$(json_get "$WORK/f0.json" 'd["pts"]["ptm"]')
expect_error "cannot dump pid $pid: fd $ptm is a pty master whose pty /dev/pts/$n holds 9 bytes not read yet \\(0 for the master, 9 for the slave\\), which sdump cannot save without taking them; dump it once they are read" \
	"$SDUMP" dump -t "$pid" -D "$WORK/inflight"
assert_threads_running "$pid"
[ ! -e "$WORK/inflight/inventory.img" ] || fail "the refused dump left an image"
# the bytes are still there to read (TIOCINQ on the slave, as the target sees it)
fd=$(json_get "$WORK/f0.json" 'd["fds"]["pts"]')
q=$(python3 -c 'import fcntl,struct,sys; print(struct.unpack("i", fcntl.ioctl(int(sys.argv[1]), 0x541B, b"\0"*4))[0])' 3<>"/proc/$pid/fd/$fd" 3)
[ "$q" = 9 ] || fail "after the refusal the slave holds $q bytes to read, not 9"
echo "refused: $(cat "$WORK/stderr")"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-

start_target_quiet ptytarget --ctty
pid=$TPID
tfacts "$WORK/f1.json"
ptm=$(json_get "$WORK/f1.json" 'd["fds"]["ptm"]')
n=$(json_get "$WORK/f1.json" 'd["pts"]["ptm"]')
# its slave held by another process too (this shell): refused, the target left as it was
exec 9<>"/dev/pts/$n"
expect_error "cannot dump pid $pid: fd $ptm is a pty master whose slave pid $$ holds, outside the dump; dump the tree they share" \
	"$SDUMP" dump -t "$pid" -D "$WORK/held"
exec 9>&-
assert_threads_running "$pid"
state_record "$pid" "$WORK/before.state"
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" show -D "$WORK/d1" >"$WORK/show" || fail "show"
grep -Eq "^ *$ptm +ptmx +/dev/ptmx" "$WORK/show" || fail "show does not list the master: $(cat "$WORK/show")"

# its number taken: one line, no process
exec 9<>/dev/ptmx
# TIOCGPTN, _IOR('T', 0x30, unsigned int)
n9=$(python3 -c 'import fcntl,struct; print(struct.unpack("I", fcntl.ioctl(9, 0x80045430, b"\0\0\0\0"))[0])')
if [ "$n9" = "$n" ]; then
	expect_error "cannot restore pid $pid: its pty /dev/pts/$n \(fd $ptm\) is in use here" "$SDUMP" restore -D "$WORK/d1" -d
	[ ! -e "/proc/$pid" ] || fail "a refused restore left pid $pid"
else
	echo "the pty number $n was not the first free one here ($n9): that case skipped"
fi
exec 9>&-

"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
assert_threads_running "$pid"
state_check "$pid" "$WORK/before.state"
tcmd check
[ "$REPLY" = ok ] || fail "inside the restored target: $REPLY"
echo "restored: ptys with their numbers, settings, packet mode, lock and the controlling terminal"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-
echo ok

# a slave whose master was closed (zdtm's pty04): hung up, its /dev/pts
# node gone; the dump took it as a deleted device node, which the restore
# could not make (EPERM): refused at dump, one line, the process running
python3 -c '
import os, signal, sys, time
signal.signal(signal.SIGHUP, signal.SIG_IGN)
m, s = os.openpty()
os.close(m)
print("ready %d %d" % (os.getpid(), s), flush=True)
time.sleep(1000)
' </dev/null >"$WORK/hup.out" 2>&1 &
TARGET_PIDS+=($!)
hp=$!
for _ in $(seq 100); do grep -q ready "$WORK/hup.out" && break; sleep 0.1; done
read -r _ _ hfd <"$WORK/hup.out"
[ -n "$hfd" ] || fail "python3 did not start: $(cat "$WORK/hup.out")"
expect_error "cannot dump pid $hp: fd $hfd is a terminal whose pty master was closed \\(hung up, its /dev/pts node gone\\) \\(/dev/pts/[0-9]+ \\(deleted\\)\\), not supported yet" \
	"$SDUMP" dump -t "$hp" -D "$WORK/hup"
assert_running "$hp"
[ ! -e "$WORK/hup/inventory.img" ] || fail "the refused dump left an image"
echo "refused: $(cat "$WORK/stderr")"
