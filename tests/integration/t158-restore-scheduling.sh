#!/bin/bash
# Each thread's scheduling comes back exactly: SCHED_FIFO with
# reset-on-fork, SCHED_RR, SCHED_BATCH and SCHED_IDLE with their priorities,
# a nice value per thread (one below 0), an I/O priority per thread (the
# real-time, best-effort and idle classes) and a CPU affinity of its own, all
# set from outside on a running target; the state checker compares every
# thread's policy (as sched_getscheduler gives it), sched_getattr and
# ioprio_get before the dump and after the restore. A restore by an sdump
# that may not give a thread its real-time policy (no CAP_SYS_NICE,
# RLIMIT_RTPRIO 0) fails with one line naming the thread and the policy,
# where it only warned before, and leaves nothing behind; so does one by
# an sdump that may not raise a hard resource limit above its own (no
# CAP_SYS_RESOURCE), where the limit was quietly lowered to sdump's.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

# the target lacks CAP_SYS_NICE and CAP_SYS_RESOURCE too: the refused
# restores below are then not refused for a capability the restore could
# not give back
TARGETS_DIR=$(dirname "$(command -v capsh)") start_target_quiet capsh --drop=cap_sys_nice,cap_sys_resource -- -c "exec $TARGETS_DIR/memtarget --mib 1 --threads 4"
pid=$TPID
read -r -a tids <<<"$(tids_of "$pid")"
[ "${#tids[@]}" = 5 ] || fail "memtarget has ${#tids[@]} threads, expected 5"
renice -n 5 -p "${tids[0]}" >/dev/null
ionice -c 2 -n 2 -p "${tids[0]}"
chrt -f -R -p 10 "${tids[1]}"
taskset -p -c 0 "${tids[1]}" >/dev/null
chrt -r -p 5 "${tids[2]}"
ionice -c 1 -n 3 -p "${tids[2]}"
chrt -b -p 0 "${tids[3]}"
renice -n -3 -p "${tids[3]}" >/dev/null
ionice -c 2 -n 7 -p "${tids[3]}"
chrt -i -p 0 "${tids[4]}"
prlimit --pid "$pid" --nofile=1000:5000
ionice -c 3 -p "${tids[4]}"
state_record "$pid" "$WORK/before.state"
python3 - "$WORK/before.state" <<'EOF' || fail "the target's threads do not hold what was set"
import json, sys
t = json.load(open(sys.argv[1]))["threads"]
want = {"leader": (0, 5), "1": (1 | 0x40000000, None), "2": (2, None), "3": (3, -3), "4": (5, None)}
for k, (pol, nice) in want.items():
    s = t[k]["sched"]
    if s["policy_raw"] != pol or (nice is not None and int(t[k]["nice"]) != nice):
        sys.exit("thread %s: policy %#x nice %s" % (k, s["policy_raw"], t[k]["nice"]))
EOF

"$SDUMP" dump -t "$pid" -D "$WORK/img" 2>"$WORK/dump.err" || fail "dump: $(cat "$WORK/dump.err")"
wait_gone "$pid"
wait_pid_free "$pid" 10

# an sdump that cannot raise the hard limit: one line, nothing left
expect_error "cannot restore pid $pid: its resource limit 7 \(RLIMIT_NOFILE\) of 1000/5000 cannot be set: .*needs CAP_SYS_RESOURCE" \
	prlimit --nofile=1000:4000 capsh --drop=cap_sys_nice,cap_sys_resource -- -c "exec $SDUMP restore -D $WORK/img -d"
wait_pid_free "$pid" 10
# one that cannot make a thread real-time: the same
expect_error "cannot restore the scheduling policy of thread ${tids[1]} \(SCHED_FIFO, priority 10, reset-on-fork\)" \
	prlimit --rtprio=0 capsh --drop=cap_sys_nice,cap_sys_resource -- -c "exec $SDUMP restore -D $WORK/img -d"
wait_pid_free "$pid" 10

"$SDUMP" restore -D "$WORK/img" -d 2>"$WORK/restore.err" || fail "restore: $(cat "$WORK/restore.err")"
[ ! -s "$WORK/restore.err" ] || echo "note: restore said: $(cat "$WORK/restore.err")"
TARGET_PIDS+=("$pid")
assert_threads_running "$pid"
state_check "$pid" "$WORK/before.state"
[ "$(tids_of "$pid")" = "${tids[*]} " ] || fail "threads after the restore: $(tids_of "$pid")"
echo "restored: FIFO/RR/BATCH/IDLE, reset-on-fork, nice, I/O priorities and affinity per thread as before"
