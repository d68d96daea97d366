#!/bin/bash
# sdump restore of a memory target after a chain (pre-dump, pre-dump
# --parent, dump --parent): the process comes back with its PID and TIDs
# (its anonymous memory placed with UFFDIO_COPY),
# its memory map and every byte of every region as the target saved them just
# before the dump (and as /proc/PID/mem reads them, PROT_NONE included); it
# answers, writes memory, and "exit" ends it with status 0 (restore without
# -d exits with it). Then checkpoints twice: a restored process is dumped
# again (another chain) and restored again, where userfaultfd is denied.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
NTHREADS=3 # memtarget --threads 2: the main thread and two more
STATE_IGNORE=()
STATE_WRAPPED=() # what a restore under nouffd has of nouffd, checked apart

# save_all PREFIX: every region as the target saves it, to $WORK/PREFIX.NAME
save_all() {
	local r
	load_regions
	for r in "${!REG_ADDR[@]}"; do
		tcmd "save $r $WORK/$1.$r"
		[ "$REPLY" = ok ] || fail "target could not save $r: $REPLY"
	done
}

# check_memory PID WANT GOT: each region of PID, saved by the (restored)
# target and read through /proc/PID/mem, equals what was saved as WANT
check_memory() {
	local pid=$1 r
	for r in "${!REG_ADDR[@]}"; do
		tcmd "save $r $WORK/$3.$r"
		[ "$REPLY" = ok ] || fail "restored target could not save $r: $REPLY"
		cmp -s "$WORK/$2.$r" "$WORK/$3.$r" ||
			fail "region $r (${REG_ADDR[$r]}, ${REG_LEN[$r]} bytes): the restored target's copy differs from the dumped one ($(cmp "$WORK/$2.$r" "$WORK/$3.$r" 2>&1 | head -n 1))"
		read_mem "$pid" "${REG_ADDR[$r]}" "${REG_LEN[$r]}" "$WORK/$3.mem.$r" || fail "cannot read region $r of $pid"
		cmp -s "$WORK/$2.$r" "$WORK/$3.mem.$r" ||
			fail "region $r (${REG_ADDR[$r]}): the restored memory differs from the dumped one ($(cmp "$WORK/$2.$r" "$WORK/$3.mem.$r" 2>&1 | head -n 1))"
		rm -f "$WORK/$3.$r" "$WORK/$3.mem.$r"
	done
}

# dump_chain NAME: pre-dump, dirty, pre-dump --parent, dirty, save every
# region, dump --parent (the target is killed). Sets TIDS, MAPS, DUMP.
dump_chain() { # NAME SEED
	local n=$1 s=$2
	"$SDUMP" pre-dump -t "$TPID" -D "$WORK/$n.1" 2>"$WORK/err" || fail "$n: pre-dump: $(cat "$WORK/err")"
	tcmd "dirty anon 100 $((s + 1))"
	tcmd "dirty thread0 300 $((s + 2))"
	tcmd "dirty shmem 500 $((s + 3))"
	"$SDUMP" pre-dump -t "$TPID" -D "$WORK/$n.2" --parent "$WORK/$n.1" 2>"$WORK/err" ||
		fail "$n: pre-dump --parent: $(cat "$WORK/err")"
	tcmd "dirty anon 100 $((s + 4))"
	tcmd "dirty heap 300 $((s + 5))"
	tcmd "dirty filepriv 500 $((s + 6))"
	tcmd "dirty thread1 200 $((s + 7))"
	save_all "$n.want"
	TIDS=$(tids_of "$TPID")
	MAPS=$(maps_of "$TPID")
	state_record "$TPID" "$WORK/$n.state"
	"$SDUMP" dump -t "$TPID" -D "$WORK/$n.3" --parent "$WORK/$n.2" 2>"$WORK/err" ||
		fail "$n: dump --parent: $(cat "$WORK/err")"
	DUMP=$WORK/$n.3
	wait_gone "$TPID"
}

# check_restored NAME PID: same TIDs, same memory map, same memory, running
check_restored() {
	local n=$1 pid=$2 got
	[ -d "/proc/$pid" ] || fail "$n: pid $pid is not there after the restore"
	assert_running "$pid"
	assert_threads_running "$pid"
	[ "$(cat "/proc/$pid/comm")" = memtarget ] || fail "$n: pid $pid is '$(cat "/proc/$pid/comm")', not memtarget"
	got=$(tids_of "$pid")
	[ "$got" = "$TIDS" ] || fail "$n: restored threads '$got', dumped '$TIDS'"
	got=$(maps_of "$pid")
	[ "$got" = "$MAPS" ] || fail "$n: the memory map differs: $(diff <(echo "$MAPS") <(echo "$got"))"
	state_check "$pid" "$WORK/$n.state" "${STATE_IGNORE[@]}" "${STATE_WRAPPED[@]}"
	check_memory "$pid" "$n.want" "$n.got"
	# it runs on: commands, new writes, a new mapping
	tcmd "dirty anon 200 99"
	case "$REPLY" in "ok "[1-9]*) ;; *) fail "$n: dirty after the restore: $REPLY" ;; esac
	tcmd "dirty thread0 500 98"
	case "$REPLY" in "ok "[1-9]*) ;; *) fail "$n: dirty thread0 after the restore: $REPLY" ;; esac
	tcmd "mmap fresh$n 16"
	[ "$REPLY" = ok ] || fail "$n: mmap after the restore: $REPLY"
	tcmd "munmap fresh$n"
	[ "$REPLY" = ok ] || fail "$n: munmap after the restore: $REPLY"
	assert_threads_running "$pid"
}

# --- restore -d of a chain ---
start_target_quiet memtarget --mib 64 --threads 2 --dir "$WORK"
pid=$TPID
dump_chain a 10
st=0
wait "$pid" 2>/dev/null || st=$?
[ "$st" = 137 ] || fail "the dump did not kill the target (status $st)"
"$SDUMP" show -D "$DUMP" --json >"$WORK/a.json" || fail "show"
[ "$(json_get "$WORK/a.json" 'len(d["chain"])')" = 3 ] || fail "the chain is not 3 passes"
# fds 7 and 8 stay open: the restored target reopens its FIFOs
"$SDUMP" -v restore -D "$DUMP" --shell-job -d 2>"$WORK/restore.err" || fail "restore -d: $(cat "$WORK/restore.err")"
# the big anonymous region was placed with UFFDIO_COPY, where this kernel
# gives a user-mode userfaultfd (as uffd-wp-async needs one)
if "$SDUMP" check | grep -q "^uffd-wp-async *found"; then
	grep -Eq "memory .*\([1-9][0-9]* by UFFDIO_COPY\)" "$WORK/restore.err" ||
		fail "restore -d: no page placed with UFFDIO_COPY: $(grep memory "$WORK/restore.err")"
fi
check_restored a "$pid"
echo "restore -d: pid $pid, threads $TIDS, memory equal"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-
wait_pid_free "$pid"

# --- restore in the foreground (in the background here): its exit status
# --- is the target's; checkpoints twice
start_target_quiet memtarget --mib 64 --threads 2 --dir "$WORK"
pid=$TPID
dump_chain b 20
wait "$pid" 2>/dev/null || true
"$SDUMP" restore -D "$DUMP" --shell-job 2>"$WORK/restore.b.err" &
RPID=$!
wait_restored "$pid" "$NTHREADS" memtarget
kill -0 "$RPID" 2>/dev/null || fail "sdump restore (no -d) did not stay: $(cat "$WORK/restore.b.err")"
[ "$(awk '/^PPid:/ {print $2}' "/proc/$pid/status")" = "$RPID" ] || fail "the restored process is not a child of sdump restore"
check_restored b "$pid"
echo "restore (no -d): pid $pid restored, memory equal"

# dump the restored process again, another chain, and restore that
dump_chain c 30
st=0
wait "$RPID" || st=$?
[ "$st" = 137 ] || fail "sdump restore exited $st when its process was killed by the second dump, expected 137; stderr: $(cat "$WORK/restore.b.err")"
wait_pid_free "$pid"
# where userfaultfd fails (a seccomp filter), every page is written without it
"$TARGETS_DIR/nouffd" "$SDUMP" -v restore -D "$DUMP" --shell-job 2>"$WORK/restore.c.err" &
RPID=$!
wait_restored "$pid" "$NTHREADS" memtarget
# on purpose: the restored process is a child of sdump under nouffd, and
# keeps nouffd's seccomp filter and no_new_privs (checked here instead)
STATE_WRAPPED=('status.NoNewPrivs' 'status.Seccomp' 'threads.*.NoNewPrivs' 'threads.*.Seccomp')
check_restored c "$pid"
for t in /proc/"$pid"/task/*; do
	got=$(awk '/^(NoNewPrivs|Seccomp|Seccomp_filters):/ {printf "%s%s ", $1, $2}' "$t/status")
	[ "$got" = "NoNewPrivs:1 Seccomp:2 Seccomp_filters:1 " ] ||
		fail "thread ${t##*/} restored under nouffd has '$got', expected nouffd's one filter"
done
grep -q "sdump restore runs under seccomp, which the restored process keeps beneath its own" "$WORK/restore.c.err" ||
	fail "a restore under seccomp does not say that the process keeps its filter: $(cat "$WORK/restore.c.err")"
grep -Eq "memory .*\(0 by UFFDIO_COPY\)" "$WORK/restore.c.err" ||
	fail "restore without userfaultfd: $(grep memory "$WORK/restore.c.err")"
echo "second checkpoint: pid $pid restored again (without userfaultfd), memory equal"
echo exit >&7
st=0
wait "$RPID" || st=$?
[ "$st" = 0 ] || fail "sdump restore exited $st after the target's exit 0; stderr: $(cat "$WORK/restore.c.err")"
[ ! -e "/proc/$pid" ] || fail "pid $pid is still there after sdump restore returned"
exec 7>&- 8<&-
echo ok
