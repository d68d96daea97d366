#!/usr/bin/env python3
"""The state checker: every piece of a process's kernel state that can be seen
from outside it, recorded so that the same process before a dump and after its
restore can be compared.

    statecheck.py record PID [-o FILE] [--tracked]
                                             JSON of what PID looks like now
    statecheck.py compare BEFORE AFTER       one line per difference, exit 1 if any
    statecheck.py check PID BEFORE           record PID and compare it with BEFORE

What is recorded, per process: its status (credentials, capabilities,
no_new_privs, seccomp mode and filter count, signal masks, umask, THP), its
stat fields that are state (pgid, sid, tty, nice, policy, rt priority), its
limits, cgroups, personality, oom_score_adj, timerslack, coredump_filter, autogroup
nice, KSM merge-any, cwd, root and exe, its POSIX
timers (by id: signal and sigev_value, notification and its target,
clock), the VMAs with every VmFlag smaps shows (but the two below) and
their guard pages (neighbours the kernel could have merged joined), every
fd (what it is, its
flags, position, and its locks, from fdinfo and /proc/locks; a pty slave's
permissions and owner, a deleted file's or removed directory's with its
times and link count; a terminal's
settings: termios flags, control characters, speeds and window size; of
anonymous inodes what their fdinfo shows: an eventfd's counter, a
signalfd's mask, a timerfd's clock, flags, interval and expirations, with
its time left compared with a tolerance, see timer_same; an epoll's
watches; an inotify's watches, their descriptors, masks, inodes and file
handles), whether its terminal's foreground group is its own; per thread its
name, signal mask, CPU affinity, scheduling (policy with reset-on-fork,
sched_getattr's flags, deadline parameters, slice and utilization clamps,
the I/O priority), cgroups, personality, machine-check kill
policy, capability sets (effective, permitted, inheritable, bounding,
ambient), no_new_privs and seccomp state (mode, filter count). Counters that
change by themselves (times, faults, context switches, memory use) are not
state and are left out. Whatever a test knows to differ on purpose it names
with --ignore KEY (a prefix of the dotted key, where * stands for any
characters but a dot: vmas[*].flags.ac is the VmFlag ac of every VMA).

Terminals are recorded relative to the process: an fd on its controlling
terminal has the target "<controlling terminal>" whatever the terminal's
name, and stat.tty_fg says whether that terminal's foreground group is the
process's own group, so that a process restored with --shell-job on another
terminal compares equal but for stat.tty_nr, which names the terminal.
"""
import argparse
import fcntl
import json
import os
import re
import stat as statmod
import struct
import sys
import termios
import time

STATUS_KEYS = (
    "Umask", "Uid", "Gid", "Groups", "NoNewPrivs", "Seccomp", "Seccomp_filters",
    "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "SigIgn", "SigCgt",
    "ShdPnd", "THP_enabled", "Speculation_Store_Bypass", "SpeculationIndirectBranch",
    "Threads", "untag_mask", "x86_Thread_features", "x86_Thread_features_locked",
)
THREAD_STATUS_KEYS = ("SigBlk", "SigPnd", "NoNewPrivs", "Seccomp", "Seccomp_filters",
                      "Cpus_allowed_list", "CapEff", "CapPrm", "CapInh", "CapAmb", "CapBnd")
# /proc/PID/stat fields (proc(5) numbering) that are state, not counters
STAT_FIELDS = {5: "pgrp", 6: "session", 7: "tty_nr", 19: "nice", 40: "rt_priority", 41: "policy"}
THREAD_STAT_FIELDS = {19: "nice", 40: "rt_priority", 41: "policy"}


def read(path, default=None):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return default


def link(path):
    try:
        return os.readlink(path)
    except OSError:
        return None


def status_fields(text, keys):
    out = {}
    for line in (text or "").splitlines():
        k, _, v = line.partition(":")
        if k in keys:
            out[k] = " ".join(v.split())
    return out


def stat_fields(text, fields):
    rest = text[text.rindex(")") + 2:].split()
    # rest[0] is field 3
    return {name: rest[n - 3] for n, name in fields.items() if n - 3 < len(rest)}


# VmFlags that are no state of the process, left out of the record:
#   sd  soft-dirty: set on new VMAs and cleared by a soft-dirty tracker's
#       clear_refs; whoever tracks the process owns it (sdump's own
#       tracking is soft-dirty on kernels without uffd-wp)
#   gu  "guard pages may be here": the kernel's hint that a VMA had guard
#       pages installed, kept after they are removed and spread by merges
#       to a neighbour that never had one; the guard pages themselves are
#       recorded (from pagemap) and compared instead
# Every other flag is compared, ac and nr (the commit charge) included.
NOT_STATE_FLAGS = ("sd", "gu")
PM_GUARD = 1 << 58


def guard_pages(pid, start, end):
    """The guard pages of [start, end) of pid, as "a-b" ranges (pagemap bit 58)."""
    psz = os.sysconf("SC_PAGE_SIZE")
    out = []
    try:
        with open(f"/proc/{pid}/pagemap", "rb") as f:
            f.seek(start // psz * 8)
            data = f.read((end - start) // psz * 8)
    except OSError:
        return out
    run = None
    for i in range(len(data) // 8):
        g = int.from_bytes(data[8 * i:8 * i + 8], "little") & PM_GUARD
        a = start + i * psz
        if g and run is not None and run[1] == a:
            run[1] = a + psz
        elif g:
            run = [a, a + psz]
            out.append(run)
    return ["%x-%x" % (a, b) for a, b in out]


def vmas(pid, tracked=False):
    out = []
    cur = None
    for line in (read(f"/proc/{pid}/smaps") or "").splitlines():
        m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) (\S+) (\d+)\s*(.*)$", line)
        if m:
            start, end, perms, off, dev, ino, path = m.groups()
            path = tmpfile_name(path)
            cur = {"range": f"{start}-{end}", "perms": perms, "offset": off, "path": path}
            if path and not path.startswith("["):
                cur["dev"] = dev
                # shared anonymous memory restored is a new shmem object, with
                # an inode number of its own (as a new pipe has), and so is a
                # deleted file or a memfd: a new file holding its contents
                if not path.endswith(" (deleted)"):
                    cur["inode"] = ino
            out.append(cur)
        elif line.startswith("VmFlags:") and cur is not None:
            # one key per flag, so that a test can name one flag it knows differs
            flags = line.split()[1:]
            cur["flags"] = {f: True for f in flags
                            if not (tracked and f == "uw") and f not in NOT_STATE_FLAGS}
            if "gu" in flags:
                start, end = (int(x, 16) for x in cur["range"].split("-"))
                g = guard_pages(pid, start, end)
                if g:
                    cur["guards"] = g
    return merge_vmas(out)


def merge_vmas(vmas):
    """Neighbours alike in everything the kernel merges on, joined: whether it
    merged them (two mmap() calls' anonymous memory, say, has two anon_vmas
    until a restore maps it at once) is no state of the process."""
    out = []
    for v in vmas:
        p = out[-1] if out else None
        if p is not None:
            pstart, pend = (int(x, 16) for x in p["range"].split("-"))
            start, end = (int(x, 16) for x in v["range"].split("-"))
            same = {k: x for k, x in p.items() if k not in ("range", "offset")} == \
                {k: x for k, x in v.items() if k not in ("range", "offset")}
            # private anonymous memory (the heap too: a brk() after a fork
            # may start a VMA of its own), or the next pages of the same file
            follows = v["path"] in ("", "[heap]") or (
                not v["path"].startswith("[") and "inode" in v and
                int(p["offset"], 16) + (pend - pstart) == int(v["offset"], 16))
            if pend == start and same and follows:
                p["range"] = "%s-%s" % (p["range"].split("-")[0], v["range"].split("-")[1])
                continue
        out.append(dict(v))
    return out


def locks(pid):
    """The lines of /proc/locks held by pid (or, OFD locks, by no pid: -1)."""
    out = []
    for line in (read("/proc/locks") or "").splitlines():
        f = line.split()
        # "1: POSIX  ADVISORY  WRITE 1234 08:01:5678 0 EOF"
        if len(f) >= 8 and f[1] != "->" and f[4] == str(pid):
            out.append(" ".join([f[1], f[2], f[3], f[5].split(":")[-1]] + f[6:8]))
    return sorted(out)


def tty_settings(path):
    """The settings of the terminal at @path (a /proc/PID/fd link), opened
    without becoming anyone's controlling terminal; None if it is none."""
    try:
        st = os.stat(path)
        # pty slaves, virtual consoles, serial lines; never /dev/tty (5:0),
        # which would be our own controlling terminal
        if not statmod.S_ISCHR(st.st_mode) or not (
                136 <= os.major(st.st_rdev) <= 143 or os.major(st.st_rdev) == 4):
            return None
        fd = os.open(path, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        iflag, oflag, cflag, lflag, ispeed, ospeed, cc = termios.tcgetattr(fd)
        ws = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    except (OSError, termios.error):
        return None
    finally:
        os.close(fd)
    return {"rdev": st.st_rdev, "iflag": iflag, "oflag": oflag, "cflag": cflag, "lflag": lflag,
            "ispeed": ispeed, "ospeed": ospeed,
            "cc": [c if isinstance(c, int) else ord(c) for c in cc], "winsize": list(ws)}


def ctty_of(pid):
    """The rdev of pid's controlling terminal (0: none)."""
    st = read(f"/proc/{pid}/stat") or ""
    f = st[st.rfind(")") + 2:].split()
    return int(f[4]) if len(f) > 4 else 0


def tmpfile_name(path):
    """An O_TMPFILE's /proc name is "#" and its inode number, which a file
    made again for it cannot have: the number left out."""
    return re.sub(r"/#\d+ \(deleted\)$", "/#[] (deleted)", path)


def inode_of(path, target):
    """What a program reads of the inode of an fd sdump makes again: a pty
    slave's permissions and owner, a deleted file's or removed directory's
    too, with its times (a memfd's are a new memfd's)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if statmod.S_ISCHR(st.st_mode) and 136 <= os.major(st.st_rdev) <= 143:
        return {"mode": oct(st.st_mode), "uid": st.st_uid, "gid": st.st_gid}
    if target and target.endswith(" (deleted)") and not target.startswith("/memfd:") and \
            (statmod.S_ISREG(st.st_mode) or statmod.S_ISDIR(st.st_mode)):
        return {"mode": oct(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
                "mtime_ns": st.st_mtime_ns, "atime_ns": st.st_atime_ns, "nlink": st.st_nlink}
    return None


def fds(pid, tracked=False):
    out = {}
    ctty = ctty_of(pid)
    base = f"/proc/{pid}/fd"
    try:
        names = sorted(os.listdir(base), key=int)
    except OSError:
        return out
    for n in names:
        target = link(f"{base}/{n}")
        info = {}
        extra = []
        for line in (read(f"/proc/{pid}/fdinfo/{n}") or "").splitlines():
            k, _, v = line.partition(":")
            v = " ".join(v.split())
            if k in ("pos", "flags"):
                info[k] = v
            elif k in ("mnt_id", "ino"):
                continue  # the same file has them, a new pipe or anon inode does not
            elif k == "eventfd-id":
                continue  # a number the kernel gives each new eventfd: no process's state
            elif k == "lock":
                extra.append("lock " + " ".join(v.split()[1:4] + v.split()[5:]))
            else:
                extra.append(f"{k}: {v}")
        if tracked and target == "anon_inode:[userfaultfd]":
            continue
        if target == "anon_inode:[timerfd]":
            extra, info["timer_left"] = timerfd_lines(extra)
        if target == "anon_inode:[eventpoll]":
            extra = epoll_lines(extra)
        if target == "anon_inode:inotify":
            extra = sorted(extra)  # the kernel lists the newest watch first: no state
        if target:
            target = tmpfile_name(target)
        if target and re.match(r"^(pipe|socket|anon_inode):\[\d+\]$", target):
            target = re.sub(r"\[\d+\]", "[]", target)
        out[n] = {"target": target, **info, "fdinfo": extra}
        inode = inode_of(f"{base}/{n}", target)
        if inode:
            out[n]["inode"] = inode
        tty = tty_settings(f"{base}/{n}")
        if tty:
            if ctty and tty.pop("rdev") == ctty:
                out[n]["target"] = "<controlling terminal>"
            tty.pop("rdev", None)
            out[n]["tty"] = tty
    return out


def epoll_lines(extra):
    """An epoll's watches ("tfd:" lines) without the inode and device of
    their files (a restored pipe is a new one), sorted: the kernel lists
    them in the order of its files' addresses."""
    out = []
    for x in extra:
        m = re.match(r"^tfd: (\d+) events: ([0-9a-f]+) data: ([0-9a-f]+) pos:(\d+)", x)
        out.append(f"tfd {m.group(1)} events {m.group(2)} data {m.group(3)} pos {m.group(4)}"
                   if m else x)
    return sorted(out)


def ns(pair):
    """ "(SEC, NSEC)" of a timerfd's fdinfo, in nanoseconds."""
    sec, nsec = pair.strip("()").split(",")
    return int(sec) * 1000000000 + int(nsec)


def timerfd_lines(extra):
    """A timerfd's fdinfo lines but it_value, which shrinks by itself, and
    for a periodic timer its ticks, which grow by themselves; and what is
    left of it_value for compare() to judge: "left N interval M" (ns)."""
    lines = dict(x.split(": ", 1) for x in extra if ": " in x)
    interval = ns(lines.get("it_interval", "(0, 0)"))
    left = ns(lines.get("it_value", "(0, 0)"))
    # a periodic timer that expired shows 0 left (and a tick) until read: armed
    if interval and not left and lines.get("ticks", "0") != "0":
        left = 1
    keep = [x for x in extra if not x.startswith("it_value:") and
            not (interval and x.startswith("ticks:"))]
    return keep, f"left {left} interval {interval}"


# A timer's time left may shrink between two records by as much as the time
# between them (and a second more), never grow (a restore counts a relative
# timer's time left from the restore: the time in between does not count;
# an absolute one keeps its time); a periodic timer's goes round and is
# only armed or not.
TIMER_SLACK_NS = 1000000000


def timer_same(a, b, elapsed):
    if a is None or b is None:
        return a == b
    la, ia = (int(x) for x in a.split()[1::2])
    lb, ib = (int(x) for x in b.split()[1::2])
    if ia != ib or (la == 0) != (lb == 0):
        return False
    return bool(ia) or la == lb or 0 <= la - lb <= elapsed + TIMER_SLACK_NS


SYS_IOPRIO_GET, SYS_SCHED_GETATTR = 252, 315  # x86-64
_libc = None


def sched_of(tid):
    """What the scheduler holds of a thread beyond stat's policy and
    priorities: the policy as sched_getscheduler gives it (with
    SCHED_RESET_ON_FORK), its I/O priority, and sched_getattr's flags,
    deadline parameters (a fair thread's runtime is its slice) and
    utilization clamps."""
    global _libc
    import ctypes
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    out = {}
    try:
        out["policy_raw"] = os.sched_getscheduler(int(tid))
    except OSError:
        return out
    out["ioprio"] = _libc.syscall(SYS_IOPRIO_GET, 1, int(tid))
    buf = ctypes.create_string_buffer(56)
    if _libc.syscall(SYS_SCHED_GETATTR, int(tid), buf, 56, 0) == 0:
        f = struct.unpack("=IIQiIQQQII", buf.raw[:56])
        out.update(sched_flags=f[2], sched_runtime=f[5], sched_deadline=f[6], sched_period=f[7],
                   util_min=f[8], util_max=f[9])
    return out


def mounted_hierarchies():
    """The controller lists of the cgroup hierarchies mounted where we run
    ("" for v2): one mounted elsewhere (another mount namespace's) can come
    and go between two records, and is not compared."""
    out = set()
    for line in (read("/proc/self/mountinfo") or "").splitlines():
        pre, _, post = line.partition(" - ")
        f = post.split()
        if len(f) >= 3 and f[0] == "cgroup2":
            out.add("")
        elif len(f) >= 3 and f[0] == "cgroup":
            out.add(",".join(o for o in f[2].split(",") if o not in ("rw", "ro") and
                             not o.startswith(("release_agent", "clone_children", "noprefix",
                                               "xattr", "cpuset_v2_mode", "favordynmods"))))
    return out


def cgroups(path):
    """/proc/PID/cgroup (or a thread's): the path in each hierarchy mounted
    here, by its controllers ("" for v2)."""
    mounted = mounted_hierarchies()
    out = {}
    for line in (read(path) or "").splitlines():
        f = line.split(":", 2)
        if len(f) == 3 and (f[1] in mounted or set(f[1].split(",")) in
                            [set(m.split(",")) for m in mounted]):
            out[f[1] or "v2"] = f[2]
    return out


def threads(pid):
    out = {}
    try:
        tids = sorted(os.listdir(f"/proc/{pid}/task"), key=int)
    except OSError:
        return out
    for i, tid in enumerate(tids):
        t = f"/proc/{pid}/task/{tid}"
        st = read(f"{t}/stat")
        if st is None:
            continue
        rec = {"tid": tid, "comm": (read(f"{t}/comm") or "").strip()}
        rec.update(status_fields(read(f"{t}/status"), THREAD_STATUS_KEYS))
        rec.update(stat_fields(st, THREAD_STAT_FIELDS))
        rec["sched"] = sched_of(tid)
        rec["cgroup"] = cgroups(f"{t}/cgroup")
        out[str(i) if i else "leader"] = rec
    return out


def timers(pid):
    """/proc/PID/timers by timer id: the order of the file is the kernel's
    list, not state."""
    out = {}
    cur = None
    for line in (read(f"/proc/{pid}/timers") or "").splitlines():
        k, _, v = line.partition(":")
        if k == "ID":
            cur = out.setdefault(v.strip(), {})
        elif cur is not None:
            cur[k] = " ".join(v.split())
    return out


def attrs(pid):
    """Process and thread attributes /proc shows that the rest leaves out:
    coredump_filter, the audit login uid, the autogroup's nice value (not its id: a restored
    session leader has a new one), whether KSM merges all of it, and per
    thread its personality and machine-check kill policy (PF_MCE_PROCESS
    and PF_MCE_EARLY of the stat flags)."""
    p = f"/proc/{pid}"
    ag = (read(f"{p}/autogroup") or "").split()
    ksm = status_fields(read(f"{p}/ksm_stat"), ("ksm_merge_any",))
    rec = {
        "coredump_filter": (read(f"{p}/coredump_filter") or "").strip(),
        "loginuid": (read(f"{p}/loginuid") or "").strip(),
        "autogroup_nice": ag[-1] if len(ag) == 3 else None,
        "ksm_merge_any": ksm.get("ksm_merge_any"),
        "threads": {},
    }
    try:
        tids = sorted(os.listdir(f"{p}/task"), key=int)
    except OSError:
        tids = []
    for i, tid in enumerate(tids):
        st = read(f"{p}/task/{tid}/stat")
        if st is None:
            continue
        flags = int(st[st.rindex(")") + 2:].split()[6])
        rec["threads"][str(i) if i else "leader"] = {
            "personality": (read(f"{p}/task/{tid}/personality") or "").strip(),
            "mce_kill": {0: "default", 0x80: "late", 0x08000080: "early"}.get(
                flags & 0x08000080, hex(flags & 0x08000080)),
        }
    return rec


def tty_fg(st):
    """Whether the foreground group of the process's terminal is its own group."""
    f = st[st.rfind(")") + 2:].split()
    return len(f) > 5 and f[4] != "0" and f[5] == f[2]


def record(pid, tracked=False):
    """tracked: pid is tracked by sdump (pre-dumped, or dumped with -R): its
    userfaultfd is sdump's uffd-wp tracker (a dump refuses any other), and
    the uw VmFlag marks what that tracker protects; neither is the process's
    state, which no image holds and no restore brings back."""
    p = f"/proc/{pid}"
    st = read(f"{p}/stat")
    if st is None:
        sys.exit(f"statecheck: no process {pid}")
    rec = {
        "status": status_fields(read(f"{p}/status"), STATUS_KEYS),
        "stat": {**stat_fields(st, STAT_FIELDS), "tty_fg": tty_fg(st)},
        "comm": (read(f"{p}/comm") or "").strip(),
        "cmdline": (read(f"{p}/cmdline") or "").split("\0"),
        "limits": (read(f"{p}/limits") or "").splitlines(),
        "personality": (read(f"{p}/personality") or "").strip(),
        "oom_score_adj": (read(f"{p}/oom_score_adj") or "").strip(),
        "timerslack_ns": (read(f"{p}/timerslack_ns") or "").strip(),
        "cgroup": cgroups(f"{p}/cgroup"),
        "cwd": link(f"{p}/cwd"),
        "root": link(f"{p}/root"),
        "exe": link(f"{p}/exe"),
        "timers": timers(pid),
        "vmas": vmas(pid, tracked),
        "fds": fds(pid, tracked),
        "locks": locks(pid),
        "threads": threads(pid),
        "attrs": attrs(pid),
        "recorded_ns": time.monotonic_ns(),
    }
    return rec


def flatten(obj, prefix=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from flatten(v, f"{prefix}.{k}" if prefix else k)
    elif isinstance(obj, list) and obj and all(isinstance(x, dict) for x in obj):
        for i, v in enumerate(obj):
            key = v.get("range", str(i)) if isinstance(v, dict) else str(i)
            yield from flatten(v, f"{prefix}[{key}]")
    else:
        yield prefix, obj


def ignored(key, patterns):
    """Whether key starts with one of the patterns, where a * in a pattern
    stands for any characters but a dot (vmas[*].flags.ac: that flag of
    every VMA)."""
    for p in patterns:
        rx = "[^.]*".join(re.escape(part) for part in p.split("*"))
        if re.match(rx, key):
            return True
    return False


def without_ignored_flags(rec, ignore):
    """rec with the VmFlags ignore names taken out, and the VMAs that then
    differ in nothing joined (a flag ignored must not show as a split)."""
    rec = dict(rec)
    vs = []
    for v in rec.get("vmas", []):
        v = dict(v)
        if "flags" in v:
            v["flags"] = {f: x for f, x in v["flags"].items()
                          if not ignored(f"vmas[{v['range']}].flags.{f}", ignore)}
        vs.append(v)
    rec["vmas"] = merge_vmas(vs)
    return rec


def compare(before, after, ignore):
    a = dict(flatten(without_ignored_flags(before, ignore)))
    b = dict(flatten(without_ignored_flags(after, ignore)))
    # when each was recorded: no state, but how far a timer may have run meanwhile
    elapsed = max(0, b.pop("recorded_ns", 0) - a.pop("recorded_ns", 0))
    diffs = []
    for k in sorted(set(a) | set(b)):
        if ignored(k, ignore):
            continue
        if k.endswith(".timer_left") and timer_same(a.get(k), b.get(k), elapsed):
            continue
        if a.get(k) != b.get(k):
            diffs.append(f"{k}: before {json.dumps(a.get(k))}, after {json.dumps(b.get(k))}")
    return diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("pid", type=int)
    r.add_argument("-o", "--output")
    r.add_argument("--tracked", action="store_true",
                   help="leave out sdump's uffd-wp tracking (pid was pre-dumped)")
    c = sub.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    c.add_argument("--ignore", action="append", default=[])
    k = sub.add_parser("check")
    k.add_argument("pid", type=int)
    k.add_argument("before")
    k.add_argument("--ignore", action="append", default=[])
    args = ap.parse_args()

    if args.cmd == "record":
        text = json.dumps(record(args.pid, args.tracked), indent=1, sort_keys=True)
        if args.output:
            with open(args.output, "w") as f:
                f.write(text + "\n")
        else:
            print(text)
        return 0
    with open(args.before) as f:
        before = json.load(f)
    if args.cmd == "compare":
        with open(args.after) as f:
            after = json.load(f)
    else:
        after = record(args.pid)
    diffs = compare(before, after, args.ignore)
    for d in diffs:
        print(f"statecheck: {d}")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
