#!/bin/bash
# sdump restore of the attribute target: every process and thread attribute
# it set (oom_score_adj, coredump_filter, autogroup nice, child subreaper,
# membarrier registrations, KSM merging, AMX permission, futex hash size,
# memory-deny-write-execute, THP disabled except where advised; per thread
# CPU affinity, NUMA memory policy, personality,
# parent-death signal, timer slack and its default, I/O priority, TSC and
# CPUID modes, machine-check policy, keepcaps, SCHED_DEADLINE and a fair
# time slice, the audit login uid) is in the image and reads back the same after the restore,
# although the sdump that restores it runs with other values of its own
# (pinned to one CPU, idle I/O class, oom_score_adj 100, another timer
# slack) for the new process to inherit. READ_IMPLIES_EXEC still makes
# readable memory executable and MDWE still refuses W+X memory. A restore
# that cannot give its autogroup back (--shell-job) or its CPU mask (a forged
# image naming CPU 8191) fails with one line and leaves nothing behind; a thread with syscall user dispatch on is refused
# by the dump, and left running.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
STATECHECK="$(dirname "$0")/../tools/statecheck.py"

start_target_quiet attrtarget
pid=$TPID
tfacts "$WORK/f1.json"
python3 "$STATECHECK" record "$pid" -o "$WORK/before.json"
tcmd rie
[ "$REPLY" = "ok r-xp" ] || fail "READ_IMPLIES_EXEC before the dump: $REPLY"

"$SDUMP" dump -t "$pid" -D "$WORK/img" 2>"$WORK/dump.err" || fail "dump: $(cat "$WORK/dump.err")"
wait_gone "$pid"

# the dump half: show --json holds what the target says of itself
"$SDUMP" show -D "$WORK/img" --json >"$WORK/show.json" || fail "show --json"
python3 - "$WORK/f1.json" "$WORK/show.json" <<'EOF' || fail "show --json does not hold the target's attributes"
import json, sys
f, s = (json.load(open(x)) for x in sys.argv[1:3])
p = s["process"]["attrs"]
err = []
def want(what, got, exp):
    if got != exp:
        err.append("%s: image %r, target %r" % (what, got, exp))
want("oom_score_adj", p["oom_score_adj"], f["oom_score_adj"])
want("coredump_filter", p["coredump_filter"], f["coredump_filter"])
want("autogroup_nice", p["autogroup_nice"], None if f["autogroup_nice"] == -100 else f["autogroup_nice"])
want("child_subreaper", p["child_subreaper"], bool(f["subreaper"]))
want("membarrier", p["membarrier"], max(f["membarrier"], 0))
want("memory_merge", p["memory_merge"], f["ksm"] == 1)
want("xcomp_perm", p["xcomp_perm"], f["xcomp_perm"])
want("futex_slots", p["futex_slots"], f["futex_slots"] if f["futex_slots"] >= 0 else -1)
want("mdwe", p["mdwe"], max(f["mdwe"], 0))
want("thp_disable", p["thp_disable"], f["thp_disable"])
want("mcl_future", p["mcl_future"], f["mcl_future"])
want("loginuid", p.get("loginuid"), f["loginuid"] if f["loginuid"] >= 0 else None)
if f["mcl_future"] != 6:
    err.append("the target does not lock its future mappings on fault: %r" % f["mcl_future"])
byid = {t["tid"]: t["attrs"] for t in s["threads"]}
for role, t in f["threads"].items():
    a = byid.get(t["tid"])
    if a is None:
        err.append("%s: thread %d not in the image" % (role, t["tid"]))
        continue
    cpus = ",".join(str(c) for r in a["cpus"].split(",") for c in
                    (range(int(r.split("-")[0]), int(r.split("-")[-1]) + 1)))
    want(role + " cpus", cpus, t["cpus"])
    for k, e in (("pdeathsig", "pdeathsig"), ("timerslack_ns", "slack"), ("personality", "personality"),
                 ("ioprio", "ioprio"), ("tsc", "tsc"), ("mce_kill", "mce"), ("sched_runtime", "runtime"),
                 ("sched_deadline", "deadline"), ("sched_period", "period")):
        want(role + " " + k, a[k], t[e])
    want(role + " keepcaps", a["keepcaps"], bool(t["keepcaps"]))
    want(role + " cpuid", a["cpuid"], bool(t["cpuid"]))
    want(role + " mempolicy", a["mempolicy"], t["mempolicy"])
    want(role + " mempolicy_nodes", a["mempolicy_nodes"], "0" if t["mempolicy_nodes"] == 1 else "none")
    want(role + " timerslack_default_ns", a["timerslack_default_ns"],
         None if t["slack_default"] < 0 else t["slack_default"])
for e in err:
    print("  " + e, file=sys.stderr)
sys.exit(1 if err else 0)
EOF
echo "dump: the image holds the attributes the target set"

# --- a restore that cannot give them back: one line, nothing left ---
# (--shell-job puts it in our session's autogroup, whose nice is not 5)
if [ -e /proc/self/autogroup ] && ! grep -q ' nice 5$' /proc/self/autogroup; then
	expect_error "autogroup had nice 5" "$SDUMP" restore -D "$WORK/img" --shell-job -d
	wait_pid_free "$pid" 10
else
	echo "note: no autogroups here, or ours has nice 5: the refused restore is not tried"
fi

# a CPU mask naming only CPUs this machine lacks
cp -a "$WORK/img" "$WORK/cpus"
"$TARGETS_DIR/imgforge" "$WORK/cpus" cpus-absent || fail "imgforge cpus-absent"
expect_error "cannot restore the CPU affinity of thread $pid \(CPUs 8191\): CPUs 8191 are not online here" \
	"$SDUMP" restore -D "$WORK/cpus" -d
wait_pid_free "$pid" 10

# --- the restore, by an sdump whose own values differ ---
ncpu=$(nproc)
(
	echo 100 >/proc/self/oom_score_adj
	exec ionice -c 3 taskset -c $((ncpu - 1)) python3 -c 'import ctypes, os, sys
ctypes.CDLL(None).prctl(29, 99999, 0, 0, 0)
os.execv(sys.argv[1], sys.argv[1:])' "$SDUMP" restore -D "$WORK/img"
) 2>"$WORK/restore.err" &
rpid=$!
TARGET_PIDS+=("$rpid")
wait_restored "$pid" 3 attrtarget
kill -0 "$rpid" 2>/dev/null || fail "sdump restore ended: $(cat "$WORK/restore.err")"
[ ! -s "$WORK/restore.err" ] || echo "note: restore said: $(cat "$WORK/restore.err")"
assert_threads_running "$pid"

tfacts "$WORK/f2.json"
python3 - "$WORK/f1.json" "$WORK/f2.json" <<'EOF' || fail "the target's attributes differ after the restore"
import json, sys
a, b = (json.load(open(x)) for x in sys.argv[1:3])
def flat(d, p=""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from flat(v, p + k + ".")
        else:
            yield p + k, v
fa, fb = dict(flat(a)), dict(flat(b))
diff = [k for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)]
for k in diff:
    print("  %s: %r -> %r" % (k, fa.get(k), fb.get(k)), file=sys.stderr)
sys.exit(1 if diff else 0)
EOF
python3 "$STATECHECK" check "$pid" "$WORK/before.json" >"$WORK/statecheck.out" ||
	fail "what /proc shows of the target differs after the restore:
$(cat "$WORK/statecheck.out")"
tcmd rie
[ "$REPLY" = "ok r-xp" ] || fail "READ_IMPLIES_EXEC after the restore: $REPLY"
tcmd wx
[ "$REPLY" = "ok denied" ] || fail "memory-deny-write-execute after the restore: $REPLY"
echo "restored: pid $pid, its attributes and /proc state as before"
# sdump restore is its parent now, and exits with its status
echo exit >&7
st=0
wait "$rpid" || st=$?
[ "$st" = 0 ] || fail "sdump restore exited $st, expected the target's exit 0: $(cat "$WORK/restore.err")"
exec 7>&- 8<&-
wait_pid_free "$pid" 10

# --- syscall user dispatch: refused, the target left running ---
start_target_quiet attrtarget --with sud
expect_error "thread [0-9]+ uses syscall user dispatch" "$SDUMP" dump -t "$TPID" -D "$WORK/sud"
[ ! -e "$WORK/sud/inventory.img" ] || fail "a refused dump left an image"
assert_running "$TPID"
assert_threads_running "$TPID"
tfacts "$WORK/f3.json"
stop_target
echo ok
