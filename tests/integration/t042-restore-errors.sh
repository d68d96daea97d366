#!/bin/bash
# sdump restore refuses, with one line and exit status 1, and leaves nothing
# running with the dumped PID: a PID (or a thread id) in use, a file changed
# since the dump (appended to, truncated, replaced), a damaged image, a
# missing parent, a pre-dump, a terminal fd without --shell-job. After all
# that the good image still restores. A PID still held by the dumped
# process as a zombie its parent has not reaped: the restore waits for it
# a moment (2 s), then says so, naming the parent; it goes through when the
# parent reaps it within that time.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

flip() { # FILE OFFSET
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $(((b ^ 0x20) & 0xff)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# refused PATTERN PID DIR [OPTIONS...]: restore of DIR fails with PATTERN and
# leaves no process with PID (a restore stuck for 120 s fails too)
refused() {
	local pat=$1 pid=$2 dir=$3
	shift 3
	expect_error "$pat" timeout -k 5 120 "$SDUMP" restore -D "$dir" "$@"
	echo "  $(cat "$WORK/stderr")"
	[ ! -e "/proc/$pid" ] || fail "after a refused restore of $dir, pid $pid exists ($(proc_state "$pid"), $(cat "/proc/$pid/comm"))"
}

# --- memtarget: a chain pre-dump, dump -R, dump; then broken copies of it ---
start_target_quiet memtarget --mib 8 --threads 2 --dir "$WORK"
pid=$TPID
tids=$(tids_of "$pid")
start_time=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $20}')
mkdir "$WORK/c"
"$SDUMP" pre-dump -t "$pid" -D "$WORK/c/p1" || fail "pre-dump"
tcmd "dirty anon 200 1"
"$SDUMP" dump -R -t "$pid" -D "$WORK/c/r1" --parent "$WORK/c/p1" || fail "dump -R"
assert_running "$pid"

echo "the PID is in use (dump -R left the process running):"
expect_error "in use" timeout -k 5 120 "$SDUMP" restore -D "$WORK/c/r1" --shell-job -d
echo "  $(cat "$WORK/stderr")"
grep -q "$pid" "$WORK/stderr" || fail "the message does not name pid $pid"
[ "$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $20}')" = "$start_time" ] || fail "pid $pid is not the same process"
[ "$(tids_of "$pid")" = "$tids" ] || fail "the running process's threads changed: $(tids_of "$pid")"
assert_running "$pid"
assert_threads_running "$pid"
tcmd "dirty heap 100 2"
case "$REPLY" in "ok "*) ;; *) fail "the running process does not answer: $REPLY" ;; esac

load_regions
state_record "$pid" "$WORK/c.state"
"$SDUMP" dump -t "$pid" -D "$WORK/c/d1" --parent "$WORK/c/r1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait "$pid" 2>/dev/null || true
datafile=$(ls "$WORK"/memtarget-"$pid".dat) || fail "no data file of the memtarget"
cp -p "$datafile" "$WORK/data.orig"

echo "a pre-dump:"
refused "pre-dump" "$pid" "$WORK/c/p1" --shell-job

echo "a missing parent:"
rm -rf "$WORK/m" && cp -a "$WORK/c" "$WORK/m" && rm -rf "$WORK/m/r1"
refused "missing" "$pid" "$WORK/m/d1" --shell-job
rm -rf "$WORK/m" && cp -a "$WORK/c" "$WORK/m" && rm -rf "$WORK/m/p1"
refused "missing" "$pid" "$WORK/m/d1" --shell-job

echo "a damaged image:"
damaged() { # PASS FILE: a byte flipped in the middle of FILE of PASS (of a copy of the chain)
	local size
	rm -rf "$WORK/b" && cp -a "$WORK/c" "$WORK/b"
	[ -f "$WORK/b/$1/$2" ] || fail "no $1/$2 in the image"
	size=$(stat -c %s "$WORK/b/$1/$2")
	flip "$WORK/b/$1/$2" $((size / 2))
	refused "corrupt" "$pid" "$WORK/b/d1" --shell-job
}
damaged d1 pages.img
damaged d1 "core-$pid.img"
damaged d1 "core-$(echo "$tids" | awk '{print $2}').img"
damaged d1 process.img
damaged d1 files.img
damaged d1 mm.img
damaged d1 pagemap.img
damaged r1 pages.img
damaged p1 pages.img
rm -rf "$WORK/b"

echo "a thread id in use:"
tid1=$(echo "$tids" | awk '{print $2}')
placed=
for ((i = 0; i < 5; i++)); do
	echo $((tid1 - 1)) >/proc/sys/kernel/ns_last_pid 2>/dev/null || break
	sleep 1000 </dev/null >/dev/null 2>&1 &
	if [ "$!" = "$tid1" ]; then
		placed=$!
		break
	fi
	kill "$!"
	wait "$!" 2>/dev/null || true
done
if [ -n "$placed" ]; then
	refused "in use" "$pid" "$WORK/c/d1" --shell-job
	grep -q "$tid1" "$WORK/stderr" || fail "the message does not name thread id $tid1"
	kill -0 "$placed" || fail "the process holding tid $tid1 is gone"
	kill "$placed"
	wait "$placed" 2>/dev/null || true
else
	echo "  note: could not start a process with pid $tid1 (ns_last_pid), case skipped"
fi

echo "the mapped data file changed:"
# shorter, but still holding the pages of it the dump saved (copy-on-write
# pages of the private mapping): the shared mapping's last pages are gone
truncate -s 65536 "$datafile"
refused "changed since the dump" "$pid" "$WORK/c/d1" --shell-job
cat "$WORK/data.orig" >"$datafile"
truncate -s 4096 "$datafile"
refused "changed since the dump" "$pid" "$WORK/c/d1" --shell-job
cat "$WORK/data.orig" >"$datafile"
printf 'more' >>"$datafile"
refused "changed since the dump" "$pid" "$WORK/c/d1" --shell-job
cat "$WORK/data.orig" >"$datafile"
cmp -s "$WORK/data.orig" "$datafile" || fail "could not put the data file back"
mv "$datafile" "$WORK/data.inode"
cp -p "$WORK/data.inode" "$datafile" # same bytes, another inode
refused "changed since the dump" "$pid" "$WORK/c/d1" --shell-job
mv -f "$WORK/data.inode" "$datafile"

echo "after all that the image restores:"
"$SDUMP" restore -D "$WORK/c/d1" --shell-job -d 2>"$WORK/err" || fail "restore of the good image: $(cat "$WORK/err")"
[ "$(tids_of "$pid")" = "$tids" ] || fail "restored threads $(tids_of "$pid"), dumped $tids"
state_check "$pid" "$WORK/c.state"
tcmd "dirty anon 100 3"
case "$REPLY" in "ok "*) ;; *) fail "the restored process does not answer: $REPLY" ;; esac
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-
wait_pid_free "$pid"

# --- statetarget: its O_RDWR data file appended to, truncated ---
start_target_quiet statetarget --dir "$WORK"
pid=$TPID
tfacts "$WORK/facts.json"
datafile=$(json_get "$WORK/facts.json" 'd["file_path"]')
"$SDUMP" dump -t "$pid" -D "$WORK/s" 2>"$WORK/err" || fail "dump of statetarget: $(cat "$WORK/err")"
wait_gone "$pid"
wait "$pid" 2>/dev/null || true
cp -p "$datafile" "$WORK/sdata.orig"
echo "the O_RDWR file appended to:"
printf 'more' >>"$datafile"
refused "changed since the dump" "$pid" "$WORK/s" --shell-job
grep -q "$(basename "$datafile")" "$WORK/stderr" || fail "the message does not name the file"
cat "$WORK/sdata.orig" >"$datafile"
echo "the O_RDWR file truncated:"
truncate -s 1000 "$datafile"
refused "changed since the dump" "$pid" "$WORK/s" --shell-job
cat "$WORK/sdata.orig" >"$datafile"
exec 7>&- 8<&-

# --- a terminal fd, without --shell-job ---
echo "a terminal fd without --shell-job:"
if [ ! -e /dev/ptmx ] || ! python3 -c 'import os, pty; m, s = pty.openpty(); os.ttyname(s)' 2>/dev/null; then
	echo "  note: no pseudo-terminal here, case skipped"
else
	python3 - "$WORK/tty.pid" "$WORK/tty.stop" <<'EOF' &
import os, pty, subprocess, sys, time
m, s = pty.openpty()
p = subprocess.Popen(["sleep", "1000"], stdin=s, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(s)
open(sys.argv[1] + ".tmp", "w").write("%d\n" % p.pid)
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
# reap sleep as soon as it dies (its PID must be free for the restore)
for _ in range(3000):
    if os.path.exists(sys.argv[2]):
        break
    p.poll()
    time.sleep(0.1)
if p.poll() is None:
    p.kill()
    p.wait()
EOF
	HOLDER=$!
	TARGET_PIDS+=("$HOLDER")
	for ((i = 0; i < 100; i++)); do [ -e "$WORK/tty.pid" ] && break; sleep 0.1; done
	read -r spid <"$WORK/tty.pid" || fail "the pty helper did not start"
	TARGET_PIDS+=("$spid")
	for ((i = 0; i < 100; i++)); do [ "$(cat "/proc/$spid/comm" 2>/dev/null)" = sleep ] && break; sleep 0.1; done
	case "$(readlink "/proc/$spid/fd/0")" in /dev/pts/*) ;; *) fail "sleep's stdin is $(readlink "/proc/$spid/fd/0"), not a pty" ;; esac
	if "$SDUMP" dump -t "$spid" -D "$WORK/tty" 2>"$WORK/err"; then
		wait_pid_free "$spid"
		refused "terminal|shell-job" "$spid" "$WORK/tty"
	else
		echo "  note: dump of a process with a pty fd refused ($(cat "$WORK/err")), case skipped"
	fi
	touch "$WORK/tty.stop"
	wait "$HOLDER" 2>/dev/null || true
fi
# --- the dumped process still a zombie: its parent reaps it late, or not yet ---
echo "the killed original not reaped yet by its parent:"
rm -f "$WORK/reaper.in" "$WORK/reaper.out"
mkfifo "$WORK/reaper.in" "$WORK/reaper.out"
# a parent that reaps its child only when told, after the delay it is told
python3 -c '
import os, sys, time
pid = os.fork()
if pid == 0:
    os.execvp("sleep", ["sleep", "1000"])
print(pid, flush=True)
for line in sys.stdin:
    time.sleep(float(line))
    os.waitpid(pid, 0)
    print("reaped", flush=True)
' <"$WORK/reaper.in" >"$WORK/reaper.out" 2>/dev/null &
reaper=$!
TARGET_PIDS+=("$reaper")
exec 5>"$WORK/reaper.in" 6<"$WORK/reaper.out"
read -r -t 60 zpid <&6 || fail "the reaping parent did not start"
TARGET_PIDS+=("$zpid")
for ((i = 0; i < 100; i++)); do [ "$(proc_state "$zpid")" = S ] && [ "$(cat "/proc/$zpid/comm")" = sleep ] && break; sleep 0.1; done
state_record "$zpid" "$WORK/z.state"
"$SDUMP" dump -t "$zpid" -D "$WORK/z" 2>"$WORK/err" || fail "dump of the sleep: $(cat "$WORK/err")"
[ "$(proc_state "$zpid")" = Z ] || fail "the dumped sleep is '$(proc_state "$zpid")', not a zombie"
t0=$(date +%s%N)
expect_error "cannot restore pid $zpid: pid $zpid is a zombie waiting for its parent \(pid $reaper\) to reap it" \
	timeout -k 5 60 "$SDUMP" restore -D "$WORK/z" --shell-job -d
waited=$((($(date +%s%N) - t0) / 1000000))
echo "  after $waited ms: $(cat "$WORK/stderr")"
[ "$waited" -ge 1500 ] || fail "the restore gave up after $waited ms, without waiting for the zombie to go"
[ "$(proc_state "$zpid")" = Z ] || fail "the zombie is '$(proc_state "$zpid")' after the refused restore"
# the parent reaps it half a second from now: the restore waits for that
echo 0.5 >&5
"$SDUMP" restore -D "$WORK/z" --shell-job -d 2>"$WORK/err" || fail "restore while the parent reaps: $(cat "$WORK/err")"
read -r -t 10 word <&6 && [ "$word" = reaped ] || fail "the parent did not say it reaped"
[ "$(cat "/proc/$zpid/comm" 2>/dev/null)" = sleep ] || fail "pid $zpid is not the restored sleep"
assert_running "$zpid"
state_check "$zpid" "$WORK/z.state"
echo "  restored once its parent had reaped it"
kill -KILL "$zpid"
exec 5>&- 6<&-
wait "$reaper" 2>/dev/null || true
echo ok
