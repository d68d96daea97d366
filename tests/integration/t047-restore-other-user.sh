#!/bin/bash
# sdump restore, as root, of a multithreaded process of another user
# (nobody, through setpriv): it comes back with every thread, each with
# nobody's user and group ids and no supplementary groups (the threads are
# made while the restore is privileged, the credentials dropped last, in
# every thread); the threads run (the ticker ticks, every thread wakes to
# end), and the state checker sees the process as before the dump.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v setpriv >/dev/null || skip "no setpriv (util-linux)"
nobody_uid=$(id -u nobody 2>/dev/null) || skip "no user nobody"
nobody_gid=$(id -g nobody)
NOBODY=(setpriv --reuid="$nobody_uid" --regid="$nobody_gid" --clear-groups)
# nobody must reach its directory and the target
chmod 0711 "$WORK"
"${NOBODY[@]}" test -x "$TARGETS_DIR/memtarget" || skip "nobody cannot run memtarget (a directory on its path is private)"
mkdir "$WORK/nb"
chown nobody "$WORK/nb"

# the memtarget as nobody, driven over fifos as start_target_quiet does
rm -f "$WORK/target.in" "$WORK/target.out"
mkfifo "$WORK/target.in" "$WORK/target.out"
chown nobody "$WORK/target.in" "$WORK/target.out"
"${NOBODY[@]}" "$TARGETS_DIR/memtarget" --mib 4 --threads 2 --ticker --dir "$WORK/nb" \
	<"$WORK/target.in" >"$WORK/target.out" 2>"$WORK/target.err" &
TARGET_PIDS+=($!)
exec 7>"$WORK/target.in" 8<"$WORK/target.out"
read -r -t 120 word pid <&8 || fail "memtarget did not start: $(cat "$WORK/target.err")"
[ "$word" = ready ] || fail "memtarget: unexpected '$word'"
TPID=$pid
nthreads=4 # main, two threads, the ticker

# creds PID: per thread, its ids and groups as /proc says
creds() {
	local t
	for t in /proc/"$1"/task/*; do
		awk '/^(Uid|Gid|Groups):/ {printf "%s%s,%s,%s,%s ", $1, $2, $3, $4, $5}' "$t/status"
		echo
	done
}
want=$(printf "Uid:%s,%s,%s,%s Gid:%s,%s,%s,%s Groups:,,, \n" \
	"$nobody_uid" "$nobody_uid" "$nobody_uid" "$nobody_uid" \
	"$nobody_gid" "$nobody_gid" "$nobody_gid" "$nobody_gid")
[ "$(ls "/proc/$pid/task" | wc -l)" = "$nthreads" ] || fail "memtarget has $(ls "/proc/$pid/task" | wc -l) threads"
[ "$(creds "$pid" | sort -u)" = "$want" ] || fail "the target does not run as nobody: $(creds "$pid" | sort -u)"
tids=$(tids_of "$pid")
state_record "$pid" "$WORK/before.state"

"$SDUMP" dump -t "$pid" -D "$WORK/img" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait "$pid" 2>/dev/null || true
wait_pid_free "$pid"

# in the foreground (here in the background): its exit status is the target's
"$SDUMP" restore -D "$WORK/img" --shell-job 2>"$WORK/restore.err" &
RPID=$!
for ((i = 0; i < 600; i++)); do
	kill -0 "$RPID" 2>/dev/null || fail "restore: $(cat "$WORK/restore.err")"
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = memtarget ] && break
	sleep 0.1
done
wait_restored "$pid" "$nthreads" memtarget
assert_running "$pid"
assert_threads_running "$pid"
[ "$(tids_of "$pid")" = "$tids" ] || fail "restored threads '$(tids_of "$pid")', dumped '$tids'"
got=$(creds "$pid")
[ "$(echo "$got" | wc -l)" = "$nthreads" ] && [ "$(echo "$got" | sort -u)" = "$want" ] ||
	fail "the restored threads' credentials, one line each:
$got
expected each:
$want"
state_check "$pid" "$WORK/before.state"
echo "restored: pid $pid, threads $tids, each uid $nobody_uid gid $nobody_gid, no groups"

# the threads run: the ticker ticks, the others wake up to end with main
counter_grows ticks 50 0.1 || fail "the restored ticker thread does not tick ($COUNTER_FROM, $COUNTER_TO)"
tcmd "dirty thread1 500 7"
case "$REPLY" in "ok "[1-9]*) ;; *) fail "dirty thread1 after the restore: $REPLY" ;; esac
# main wakes every thread and joins it before its exit 0
echo exit >&7
st=0
timeout 60 tail --pid="$RPID" -f /dev/null || fail "the restored target did not end"
wait "$RPID" || st=$?
exec 7>&- 8<&-
[ "$st" = 0 ] || fail "the restored target exited $st, expected 0; restore: $(cat "$WORK/restore.err")"
echo "the restored target joined its threads and exited 0"
echo ok
