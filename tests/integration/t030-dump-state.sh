#!/bin/bash
# The final pass (dump --leave-running) of a target whose threads, signals,
# files, limits and registers are set to known values: show --json reports
# each of them as the target itself sees it, and the target runs on
# untouched (same facts, its pipe still full, its xmm registers intact).
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

start_target statetarget --dir "$WORK"
tfacts "$WORK/facts.json"
"$SDUMP" dump --leave-running -t "$TPID" -D "$WORK/img" 2>"$WORK/dump.err" ||
	fail "dump failed: $(cat "$WORK/dump.err")"
[ ! -s "$WORK/dump.err" ] && echo "dump: no messages" || echo "note: dump said: $(cat "$WORK/dump.err")"
assert_running "$TPID"
assert_threads_running "$TPID"
[ -f "$WORK/img/inventory.img" ] || fail "no inventory.img"
[ -z "$(find "$WORK/img" -name '*.tmp')" ] || fail "temporary files left"
"$SDUMP" show -D "$WORK/img" --json >"$WORK/show.json" || fail "show failed"

python3 - "$WORK/facts.json" "$WORK/show.json" <<'EOF' || fail "show --json does not match the target"
import json, os, sys

f = json.load(open(sys.argv[1]))
d = json.load(open(sys.argv[2]))
errors = []


def check(cond, what):
    if not cond:
        errors.append(what)
    return cond


def get(obj, *path):
    """obj[path...] or None, noting a missing key once."""
    for k in path:
        try:
            obj = obj[k]
        except (KeyError, IndexError, TypeError):
            errors.append("missing key %s" % "/".join(map(str, path)))
            return None
    return obj


SA_SIGINFO, SA_RESTART = 0x4, 0x10000000
O_APPEND, O_CLOEXEC, O_ACCMODE = 0o2000, 0o2000000, 3

check(d.get("kind") == "dump", "kind is %r, not dump" % d.get("kind"))
check(d.get("pid") == f["pid"], "pid %r" % d.get("pid"))

# --- threads ---
threads = {t.get("tid"): t for t in (get(d, "threads") or [])}
check(sorted(threads) == sorted(f["tids"]),
      "threads %s, the target has %s" % (sorted(threads), sorted(f["tids"])))
roles = {v: k for k, v in f["thread_tids"].items() if k != "xmm"}
for tid in f["tids"]:
    t = threads.get(tid)
    if t is None:
        continue
    s, name = str(tid), "thread %d (%s)" % (tid, roles.get(tid))
    regs = get(t, "regs") or {}
    for r in "r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags rsp ss fs_base gs_base ds es fs gs".split():
        check(isinstance(regs.get(r), int), "%s: regs.%s missing or not an integer" % (name, r))
    check(regs.get("fs_base") == f["fs_base"][s],
          "%s: fs_base %r, the thread says %d" % (name, regs.get("fs_base"), f["fs_base"][s]))
    check(regs.get("cs") == 0x33 and regs.get("ss") == 0x2b, "%s: cs/ss %r/%r" % (name, regs.get("cs"), regs.get("ss")))
    check(regs.get("rip", 0) > 0 and regs.get("rsp", 0) > 0, "%s: rip/rsp zero" % name)
    nr = f["syscalls"][s]
    want = (35, 230) if nr in (35, 230) else (nr,)
    check(regs.get("orig_rax") in want, "%s: orig_rax %r, blocked in syscall %s" % (name, regs.get("orig_rax"), want))
    check(t.get("sigmask") == f["sigmask"][s],
          "%s: sigmask %r, the thread says %#x" % (name, t.get("sigmask"), f["sigmask"][s]))
    check(t.get("comm") == "statetarget", "%s: comm %r" % (name, t.get("comm")))
    pend = f["pending"].get(s, [])
    check(sorted(t.get("pending") or []) == sorted(pend), "%s: pending %r, expected %r" % (name, t.get("pending"), pend))
    check(t.get("robust_list") == f["robust_list"][s],
          "%s: robust_list %r, the thread says %d" % (name, t.get("robust_list"), f["robust_list"][s]))
    if f["clear_child_tid"][s]:
        check(t.get("clear_child_tid") == f["clear_child_tid"][s],
              "%s: clear_child_tid %r, the thread says %d" % (name, t.get("clear_child_tid"), f["clear_child_tid"][s]))
    if f["rseq"][s]:
        rs = t.get("rseq") or {}
        check(rs.get("addr") == f["rseq"][s], "%s: rseq.addr %r, the thread says %d" % (name, rs.get("addr"), f["rseq"][s]))
        check(rs.get("sig") == 0x53053053, "%s: rseq.sig %r" % (name, rs.get("sig")))
        check(isinstance(rs.get("size"), int) and rs.get("size") >= 20, "%s: rseq.size %r" % (name, rs.get("size")))
    check(t.get("nice") == f["nice"][s], "%s: nice %r, the thread says %d" % (name, t.get("nice"), f["nice"][s]))
    check(t.get("sched_policy") == f["sched_policy"][s],
          "%s: sched_policy %r, the thread says %d" % (name, t.get("sched_policy"), f["sched_policy"][s]))
    check(t.get("sched_priority") == 0, "%s: sched_priority %r" % (name, t.get("sched_priority")))
    xmm = get(t, "xmm") or []
    check(len(xmm) == 16 and all(isinstance(x, str) and len(x) == 32 and x == x.lower() for x in xmm),
          "%s: xmm is not 16 strings of 32 lowercase hex digits: %r" % (name, xmm))
    check(isinstance(t.get("xsave_size"), int) and t.get("xsave_size") >= 512,
          "%s: xsave_size %r" % (name, t.get("xsave_size")))
    alt = get(t, "altstack") or {}
    if tid == f["thread_tids"]["main"]:
        check(alt.get("sp") == f["altstack"]["sp"] and alt.get("size") == f["altstack"]["size"]
              and alt.get("flags") == f["altstack"]["flags"],
              "main thread altstack %r, the thread says %r" % (alt, f["altstack"]))
    else:
        check(alt.get("size") == 0, "%s: an altstack %r it never set" % (name, alt))

x = threads.get(f["thread_tids"]["xmm"])
if x:
    got = (x.get("xmm") or [])[:8]
    check(got == f["xmm_pattern"], "xmm thread: xmm0..7 %r, expected %r" % (got, f["xmm_pattern"]))

# --- process ---
p = get(d, "process") or {}
for k in ("pid", "ppid", "pgid", "sid"):
    check(p.get(k) == f[k], "process.%s %r, the target says %d" % (k, p.get(k), f[k]))
acts = {a.get("sig"): a for a in (p.get("sigactions") or [])}
u1 = acts.get(10)
if check(u1 is not None, "no sigaction for SIGUSR1 (sigactions: %r)" % sorted(acts)):
    check(u1.get("handler") == f["handlers"]["10"], "SIGUSR1 handler %r, expected %d" % (u1.get("handler"), f["handlers"]["10"]))
    check((u1.get("flags", 0) & (SA_SIGINFO | SA_RESTART)) == SA_SIGINFO | SA_RESTART,
          "SIGUSR1 flags %#x lack SA_SIGINFO|SA_RESTART" % u1.get("flags", 0))
    check(isinstance(u1.get("restorer"), int) and isinstance(u1.get("mask"), int), "SIGUSR1: restorer/mask")
hup = acts.get(1)
if check(hup is not None, "no sigaction for SIGHUP"):
    check(hup.get("handler") == f["handlers"]["1"], "SIGHUP handler %r" % hup.get("handler"))
    check(hup.get("mask", 0) & (1 << (2 - 1)), "SIGHUP mask %#x lacks SIGINT" % hup.get("mask", 0))
alrm = acts.get(14)
check(alrm is not None and alrm.get("handler") == f["handlers"]["14"], "SIGALRM sigaction %r" % alrm)
term = acts.get(15)
check(term is not None and term.get("handler") == 1, "SIGTERM sigaction %r, expected handler 1 (SIG_IGN)" % term)
check(all(a.get("handler") != 0 or a.get("flags") for a in acts.values()), "a SIG_DFL sigaction without flags is listed")
want = {a["sig"]: a for a in f["sigactions"]}
check(sorted(acts) == sorted(want), "sigactions for signals %s, the kernel has %s" % (sorted(acts), sorted(want)))
for sig in sorted(set(acts) & set(want)):
    check(acts[sig] == want[sig], "signal %d: sigaction %r, the kernel has %r" % (sig, acts[sig], want[sig]))
check(p.get("shared_pending") == [], "shared_pending %r" % p.get("shared_pending"))
check(p.get("umask") == 0o27, "umask %r" % p.get("umask"))
check(p.get("cwd") == f["cwd"], "cwd %r, expected %r" % (p.get("cwd"), f["cwd"]))
check(p.get("root") == "/", "root %r" % p.get("root"))
uid, gid = p.get("uid") or [], p.get("gid") or []
check(len(uid) == 4 and uid[:3] == f["uid"] and uid[3] == f["uid"][1], "uid %r, the target has %r" % (uid, f["uid"]))
check(len(gid) == 4 and gid[:3] == f["gid"] and gid[3] == f["gid"][1], "gid %r, the target has %r" % (gid, f["gid"]))
check(sorted(p.get("groups") or []) == sorted(f["groups"]), "groups %r" % p.get("groups"))
check(p.get("thp_disabled") is True, "thp_disabled %r" % p.get("thp_disabled"))
check(p.get("dumpable") == 1, "dumpable %r" % p.get("dumpable"))
check(p.get("personality") == f["personality"], "personality %r" % p.get("personality"))
mm = get(p, "mm") or {}
for k in "start_code end_code start_data end_data start_brk brk start_stack arg_start arg_end env_start env_end vdso auxv_len".split():
    check(isinstance(mm.get(k), int), "mm.%s %r" % (k, mm.get(k)))
if all(isinstance(mm.get(k), int) for k in "start_code end_code start_brk brk arg_start arg_end env_start env_end auxv_len".split()):
    check(mm["brk"] == f["brk"], "mm.brk %#x, the target's sbrk(0) is %#x" % (mm["brk"], f["brk"]))
    check(mm["start_code"] < mm["end_code"] and mm["start_brk"] <= mm["brk"]
          and mm["arg_start"] < mm["arg_end"] and mm["env_start"] <= mm["env_end"], "mm: %r" % mm)
    check(mm["auxv_len"] > 0, "mm.auxv_len %r" % mm["auxv_len"])
check(isinstance(mm.get("exe"), str) and mm["exe"].endswith("/statetarget"), "mm.exe %r" % mm.get("exe"))

NOFILE, CORE = 7, 4
names = {NOFILE: ("NOFILE", "RLIMIT_NOFILE", "nofile"), CORE: ("CORE", "RLIMIT_CORE", "core")}
lim = {}
for r in p.get("rlimits") or []:
    res = r.get("resource")
    for k, v in names.items():
        if res == k or res in v:
            lim[k] = r
check(lim.get(NOFILE, {}).get("cur") == 1000 and lim.get(NOFILE, {}).get("max") == f["nofile_hard"],
      "RLIMIT_NOFILE %r, expected cur 1000 max %d" % (lim.get(NOFILE), f["nofile_hard"]))
check(lim.get(CORE, {}).get("cur") == 0 and lim.get(CORE, {}).get("max") == f["core_hard"],
      "RLIMIT_CORE %r, expected cur 0 max %d" % (lim.get(CORE), f["core_hard"]))
check(len(p.get("rlimits") or []) == 16, "%d rlimits, expected 16" % len(p.get("rlimits") or []))
its = {i.get("which"): i for i in (p.get("itimers") or [])}
real = its.get(0) or {}
check(real.get("interval_us") == f["itimer_interval_us"], "ITIMER_REAL %r, interval expected %d" % (real, f["itimer_interval_us"]))
check(0 < (real.get("value_us") or 0) <= 1000 * 1000000, "ITIMER_REAL value %r" % real.get("value_us"))
check(its.get(1, {}).get("interval_us") == 0 and its.get(1, {}).get("value_us") == 0, "ITIMER_VIRTUAL %r" % its.get(1))

# --- files ---
files = {x.get("fd"): x for x in (get(d, "files") or [])}
fds = f["fds"]
path = os.path.realpath(f["file_path"])
fl = files.get(fds["file"]) or {}
check(fl.get("kind") == "file" and fl.get("path") == path and fl.get("pos") == 1234,
      "fd %d: %r, expected a file %s at 1234" % (fds["file"], fl, path))
check((fl.get("flags", 0) & O_ACCMODE) == 2 and fl.get("flags", 0) & O_CLOEXEC,
      "fd %d flags %#o, expected O_RDWR|O_CLOEXEC" % (fds["file"], fl.get("flags", 0)))
ap = files.get(fds["append"]) or {}
check(ap.get("kind") == "file" and ap.get("path") == path and ap.get("pos") == 0, "fd %d: %r" % (fds["append"], ap))
check(ap.get("flags", 0) & O_APPEND and (ap.get("flags", 0) & O_ACCMODE) == 1 and not ap.get("flags", 0) & O_CLOEXEC,
      "fd %d flags %#o, expected O_WRONLY|O_APPEND" % (fds["append"], ap.get("flags", 0)))
dr = files.get(fds["dir"]) or {}
check(dr.get("kind") == "dir" and dr.get("path") == f["cwd"], "fd %d: %r, expected dir %s" % (fds["dir"], dr, f["cwd"]))
nl = files.get(fds["null"]) or {}
check(nl.get("kind") == "chr" and nl.get("path") == "/dev/null", "fd %d: %r, expected chr /dev/null" % (fds["null"], nl))
pr, pw = files.get(fds["pipe_r"]) or {}, files.get(fds["pipe_w"]) or {}
check(pr.get("kind") == "pipe" and pw.get("kind") == "pipe", "the hello pipe: %r %r" % (pr, pw))
check(pr.get("pipe_id") and pr.get("pipe_id") == pw.get("pipe_id"), "pipe ends with pipe_id %r and %r" % (pr.get("pipe_id"), pw.get("pipe_id")))
check(pr.get("pipe_data_len") == 5 and pw.get("pipe_data_len") == 5,
      "pipe_data_len %r/%r, the pipe holds 5" % (pr.get("pipe_data_len"), pw.get("pipe_data_len")))
rr, rw = files.get(fds["rpipe_r"]) or {}, files.get(fds["rpipe_w"]) or {}
check(rr.get("kind") == "pipe" and rr.get("pipe_id") == rw.get("pipe_id") and rr.get("pipe_id") != pr.get("pipe_id")
      and rr.get("pipe_data_len") == 0, "the empty pipe: %r %r" % (rr, rw))
for fd, name in ((0, "target.in"), (1, "target.out")):
    x = files.get(fd) or {}
    check(x.get("kind") == "fifo" and (x.get("path") or "").endswith("/" + name) and x.get("pipe_id"),
          "fd %d: %r, expected the fifo %s" % (fd, x, name))
for x in files.values():
    for k in ("fd", "kind", "path", "flags", "pos", "pipe_id", "pipe_data_len"):
        check(k in x, "fd %r: no key %s" % (x.get("fd"), k))
    if x.get("kind") not in ("pipe", "fifo"):
        check(x.get("pipe_id") == 0, "fd %r (%s): pipe_id %r" % (x.get("fd"), x.get("kind"), x.get("pipe_id")))
# the target's fds but the userfaultfd sdump itself leaves in it to track the next pass
real = sorted(int(n) for n in os.listdir("/proc/%d/fd" % f["pid"])
              if os.readlink("/proc/%d/fd/%s" % (f["pid"], n)) != "anon_inode:[userfaultfd]")
check(sorted(files) == real, "files list fds %s, the target has %s" % (sorted(files), real))

st = d.get("stats") or {}
check(st.get("pages_written", 0) > 0 and st.get("freeze_us", 0) > 0, "stats %r" % st)

for e in errors:
    print("  " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF

# memory of the dumped moment: the static buffer, each thread's TLS value
addr=$(json_get "$WORK/facts.json" 'd["membuf"]["addr"]')
"$SDUMP" extract -D "$WORK/img" --addr "$addr" --len 4096 -o "$WORK/membuf" || fail "extract membuf"
python3 -c 'import sys; b=open(sys.argv[1],"rb").read(); sys.exit(b != bytes((i*7+3)&255 for i in range(4096)))' "$WORK/membuf" ||
	fail "the static buffer differs in the image"
for tid in $(json_get "$WORK/facts.json" '" ".join(map(str, d["tids"]))'); do
	a=$(json_get "$WORK/facts.json" "d['tls_addr']['$tid']")
	v=$(json_get "$WORK/facts.json" "d['tls_value']['$tid']")
	"$SDUMP" extract -D "$WORK/img" --addr "$a" --len 8 -o "$WORK/tls" || fail "extract tls of $tid"
	[ "$(python3 -c 'import sys; print(int.from_bytes(open(sys.argv[1],"rb").read(),"little"))' "$WORK/tls")" = "$v" ] ||
		fail "thread $tid: its __thread value differs in the image"
done

# the target runs on as it was
assert_running "$TPID"
assert_threads_running "$TPID"
tfacts "$WORK/facts2.json"
python3 - "$WORK/facts.json" "$WORK/facts2.json" <<'EOF' || fail "the target's facts changed across the dump"
import json, sys
a, b = (json.load(open(x)) for x in sys.argv[1:3])
diff = [k for k in set(a) | set(b) if a.get(k) != b.get(k)]
for k in diff:
    print("  %s: %r -> %r" % (k, a.get(k), b.get(k)), file=sys.stderr)
sys.exit(1 if diff else 0)
EOF
tcmd pipebytes
[ "$REPLY" = "ok 5" ] || fail "the pipe lost its bytes: $REPLY"
tcmd xmmcheck
[ "$REPLY" = ok ] || fail "xmm registers changed across the dump: $REPLY"
stop_target
echo ok
