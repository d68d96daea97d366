#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The table (or JSON lines) of bench/run from its results.jsonl.

    report.py [--json] RESULTS.jsonl

Rows of the same scenario, tool, tracker, size and dirty rate are shown as
their median in the table (n = how many); --json prints every row as it was
measured, plus the ratios to the baselines and one row per project target.
"""
import json
import signal
import statistics
import sys

PAGE = 4096
MiB = 1 << 20

# The project's targets for a 1 GiB process on the host (auto tracker).
TARGETS = [
    ("full_wall", "first full pass of 1 GiB: wall < 2500 ms", "full", None, "wall_ms", 2500),
    ("full_stall", "first full pass of 1 GiB: target stall < 100 ms", "full", None, "stall_ms", 100),
    ("incr_wall", "incremental pass, 1% of 1 GiB dirty: wall < 300 ms", "incremental", 1.0, "wall_ms", 300),
    ("dump_wall", "final dump, 1% of 1 GiB dirty: wall < 500 ms", "dump", 1.0, "wall_ms", 500),
    ("restore_wall", "restore of a 1 GiB chain: wall < 3000 ms", "restore", 1.0, "wall_ms", 3000),
    ("image_half", "image of the full pass <= 1/2 of the raw size", "full", None, "image_ratio", 0.5),
]


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                rows.append({"env": "?", "scenario": "unparsable", "tool": None, "mem_mib": None,
                             "dirty_pct": None, "stall_ms": None, "wall_ms": None,
                             "image_bytes": None, "error": "%s: %s" % (e, line[:200])})
    return rows


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def baselines(rows):
    b = {}
    for r in rows:
        if r.get("scenario") != "baseline":
            continue
        key = r["tool"]
        if "threads" in r and r["tool"].startswith(("zstd", "unzstd")):
            key += "/%d" % r["threads"]
        # measured twice (start, end): the better one is the machine's
        if key not in b or (r.get("mib_per_s") or 0) > (b[key].get("mib_per_s") or 0):
            b[key] = r
    return b


def bounds(b, nproc):
    """MiB/s a pass could reach at best: reading the pages and compressing them."""
    pvr = b.get("process_vm_readv", {}).get("mib_per_s")
    zmt = b.get("zstd/%d" % nproc, b.get("zstd/1", {})).get("mib_per_s")
    z1 = b.get("zstd/1", {})
    ratio = z1["compressed_bytes"] / z1["input_bytes"] if z1.get("input_bytes") else None
    umt = b.get("unzstd/%d" % nproc, b.get("unzstd/1", {})).get("mib_per_s")
    mem = b.get("proc_pid_mem", {}).get("mib_per_s")
    dump = min(x for x in (pvr, zmt) if x) if (pvr or zmt) else None
    restore = min(x for x in (umt, mem) if x) if (umt or mem) else None
    return {"dump": dump, "restore": restore, "zstd_ratio": ratio, "pvr": pvr, "zstd_mt": zmt,
            "unzstd_mt": umt, "proc_pid_mem": mem}


def enrich(r, bd):
    """Ratios of a scenario row to the baselines (added to its JSON)."""
    if r.get("error") or r.get("wall_ms") is None:
        return r
    sc = r["scenario"]
    if sc in ("full", "incremental", "dump", "frozen"):
        raw = (r.get("pages_written") or 0) * PAGE
        if raw and r.get("image_bytes") is not None:
            r["image_ratio"] = round(r["image_bytes"] / raw, 4)
            if bd["zstd_ratio"]:
                r["image_vs_zstd1"] = round(r["image_ratio"] / bd["zstd_ratio"], 3)
        if raw and r["env"] == "host" and bd["dump"]:
            ideal = raw / MiB / bd["dump"] * 1000
            r["ideal_ms"] = round(ideal, 3)
            r["wall_vs_ideal"] = round(r["wall_ms"] / ideal, 2) if ideal else None
            r["mib_per_s"] = round(raw / MiB / (r["wall_ms"] / 1000), 1)
    elif sc in ("restore", "frozen-restore"):
        raw = r["mem_mib"] * MiB
        if r.get("image_bytes") is not None:
            r["image_ratio"] = round(r["image_bytes"] / raw, 4)
        if r["env"] == "host" and bd["restore"]:
            ideal = r["mem_mib"] / bd["restore"] * 1000
            r["ideal_ms"] = round(ideal, 3)
            r["wall_vs_ideal"] = round(r["wall_ms"] / ideal, 2)
            r["mib_per_s"] = round(r["mem_mib"] / (r["wall_ms"] / 1000), 1)
    if r.get("user_ms") is not None and r.get("sys_ms") is not None:
        r["cpu_ms"] = round(r["user_ms"] + r["sys_ms"], 3)
        # a restore's CPU with the restored process's own (CRIU's restorer runs there)
        if r.get("restored_cpu_ms") is not None:
            r["restore_cpu_ms"] = round(r["cpu_ms"] + r["restored_cpu_ms"], 3)
    if r.get("other_cpu_ms") is not None and r["wall_ms"]:
        # CPUs' worth of everything else (the target's ticker included) while it ran
        r["others_cpus"] = round(r["other_cpu_ms"] / r["wall_ms"], 2)
    return r


def tracker_label(r):
    """The tracker, and for a process tree (bench/run's BENCH_TREE) its size: "uffd-wp x10"."""
    n = r.get("members") or 1
    return r.get("tracker") if n == 1 else "%s x%d" % (r.get("tracker"), n)


def tree_vs_single(rows):
    """Per tracker and scenario: the tree's freeze (all members) beside one process's of about its total size."""
    out = []
    trees = [r for r in rows if r.get("env") == "host" and (r.get("members") or 1) > 1 and not r.get("error")
             and r.get("scenario") in ORDER]
    for key in sorted({(r.get("tracker"), r["scenario"], r["members"], r["mem_mib"]) for r in trees},
                      key=lambda k: (k[0] or "", ORDER[k[1]])):
        tr, sc, n, mib = key
        t = [r for r in trees if (r.get("tracker"), r["scenario"], r["members"], r["mem_mib"]) == key]
        one = [r for r in rows if r.get("env") == "host" and r.get("tool") == "sdump" and (r.get("members") or 1) == 1
               and r.get("tracker") == tr and r.get("scenario") == sc and not r.get("error")
               and r.get("mem_mib") and abs(r["mem_mib"] - mib) <= mib * 0.1
               and (sc in ("full", "frozen", "frozen-restore") or r.get("dirty_pct") == t[0].get("dirty_pct"))]
        # sdump's own freeze on both sides (a single process's pre-dump stall is its ticker's)
        k = "wall_ms" if sc in ("restore", "frozen-restore") else "freeze_ms"
        out.append({"tracker": tr, "scenario": sc, "members": n, "mem_mib": mib, "what": k,
                    "tree": agg(t, k), "single": agg(one, k), "single_mib": one[0]["mem_mib"] if one else None})
    return out


def groups(rows, env, tool=None):
    g = {}
    for r in rows:
        if r.get("env") != env or r.get("scenario") not in ORDER:
            continue
        if tool and r.get("tool") != tool:
            continue
        dp = None if r["scenario"] in ("full", "frozen", "frozen-restore") else r.get("dirty_pct")
        key = (r["tool"], tracker_label(r), r["mem_mib"], r["scenario"], dp)
        g.setdefault(key, []).append(r)
    return g


ORDER = {"full": 0, "incremental": 1, "dump": 2, "restore": 3, "frozen": 4, "frozen-restore": 5}


def f(v, fmt="%.1f"):
    return "-" if v is None else fmt % v


def agg(rs, k):
    return med([r.get(k) for r in rs if not r.get("error")])


def target_rows(rows, auto):
    out = []
    g = groups(rows, "host", "sdump")
    for tid, desc, sc, dp, key, lim in TARGETS:
        rs = g.get(("sdump", auto, 1024, sc, dp), [])
        ok_rows = [r for r in rs if not r.get("error")]
        val = agg(rs, key)
        if sc == "restore":
            ok_rows = [r for r in ok_rows if r.get("answers")]
        row = {"env": "host", "scenario": "target", "tool": "sdump", "tracker": auto, "mem_mib": 1024,
               "dirty_pct": dp, "stall_ms": None, "wall_ms": None, "image_bytes": None,
               "target": tid, "description": desc, "value": val, "limit": lim,
               "n": len(ok_rows), "worst": None, "met": None}
        if val is not None:
            vals = [r.get(key) for r in ok_rows if r.get(key) is not None]
            row["worst"] = max(vals)
            row["best"] = min(vals)
            row["others_cpus_max"] = max((r.get("others_cpus") or 0) for r in ok_rows)
            row["met"] = val < lim if key != "image_ratio" else val <= lim
        out.append(row)
    return out


def where(rows, auto, sc, dp):
    """Where the time of the median-ish row of a scenario went."""
    g = groups(rows, "host", "sdump").get(("sdump", auto, 1024, sc, dp), [])
    g = [r for r in g if not r.get("error")]
    if not g:
        return None
    r = sorted(g, key=lambda x: x["wall_ms"])[len(g) // 2]
    if sc == "restore":
        return ("wall %.0f ms, cpu %.0f ms (user %.0f, sys %.0f), %.0f MiB/s, ideal %s ms" %
                (r["wall_ms"], r["user_ms"] + r["sys_ms"], r["user_ms"], r["sys_ms"],
                 r.get("mib_per_s") or 0, f(r.get("ideal_ms"), "%.0f")))
    return ("wall %.0f ms = total %s (freeze %s [seize %s, collect %s], copy %s, write %s) ms; "
            "cpu %.0f ms (user %.0f, sys %.0f); %s pages -> %.1f MiB; ideal %s ms" %
            (r["wall_ms"], f(r.get("total_ms"), "%.0f"), f(r.get("freeze_ms"), "%.0f"),
             f(r.get("seize_ms"), "%.1f"), f(r.get("collect_ms"), "%.0f"), f(r.get("copy_ms"), "%.0f"),
             f(r.get("write_ms"), "%.0f"), r["user_ms"] + r["sys_ms"], r["user_ms"], r["sys_ms"],
             r.get("pages_written"), (r.get("image_bytes") or 0) / MiB, f(r.get("ideal_ms"), "%.0f")))


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = sys.argv[1:]
    as_json = "--json" in args
    args = [a for a in args if a != "--json"]
    rows = load(args[0])
    machine = next((r for r in rows if r.get("scenario") == "machine"), {})
    end = next((r for r in rows if r.get("scenario") == "end"), {})
    check = next((r for r in rows if r.get("scenario") == "check"), {})
    nproc = machine.get("nproc", 1)
    auto = check.get("track_auto", "uffd-wp")
    b = baselines(rows)
    bd = bounds(b, nproc)
    for r in rows:
        enrich(r, bd)
    trows = target_rows(rows, auto) if check and not machine.get("smoke") else []

    if as_json:
        for r in rows + trows:
            print(json.dumps(r, sort_keys=False))
        return

    p = print
    p("sdump benchmark  %s  (git %s)" % (machine.get("date", "?"), machine.get("git", "?")))
    p("targets' data: --fill %s (see bench/README.md)" % machine.get("fill", "mix"))
    p("machine: %s CPUs, %s, kernel %s, %.1f GiB RAM; images in %s (%s); load %s -> %s" %
      (nproc, machine.get("cpu", "?"), machine.get("kernel", "?"), (machine.get("ram_mib") or 0) / 1024,
       machine.get("tmpdir", "?"), machine.get("fs", "?"), machine.get("loadavg_start", "?"),
       end.get("loadavg_end", "?")))
    if b:
        p("")
        bmib = next(iter(b.values())).get("mem_mib")
        zl = "level %s" % b.get("zstd/1", {}).get("level", "?")
        p("Baselines (%s MiB; zstd on the target's own data, independent 1 MiB frames as sdump writes them)" % bmib)
        for k, label in (("memcpy", "memcpy, 1 thread"),
                         ("process_vm_readv", "process_vm_readv, 1 MiB chunks"),
                         ("proc_pid_mem", "pread /proc/PID/mem, 1 MiB chunks"),
                         ("zstd/1", "zstd %s, 1 thread" % zl),
                         ("zstd/%d" % nproc, "zstd %s, %d threads" % (zl, nproc)),
                         ("unzstd/1", "zstd -d, 1 thread"),
                         ("unzstd/%d" % nproc, "zstd -d, %d threads" % nproc),
                         ("disk_write", "write + fsync to the images' fs")):
            if k in b and (k != "zstd/%d" % nproc or nproc > 1) and (k != "unzstd/%d" % nproc or nproc > 1):
                extra = ""
                if k.startswith("zstd"):
                    extra = "  (output %.1f%% of input)" % (100 * b[k]["compressed_bytes"] / b[k]["input_bytes"])
                p("  %-36s %7.0f MiB/s%s" % (label, b[k]["mib_per_s"], extra))
        p("  => a pass can copy+compress at most %s MiB/s = min(process_vm_readv, zstd %s x %d threads);"
          % (f(bd["dump"], "%.0f"), zl, nproc))
        p("     a restore can decompress+write at most %s MiB/s = min(zstd -d x %d, /proc/PID/mem)"
          % (f(bd["restore"], "%.0f"), nproc))

    errors = [r for r in rows if r.get("error")]
    for env, title in (("host", "Host (%s)" % machine.get("kernel", "?")), ("vm", "VM")):
        g = groups(rows, env)
        if not g:
            continue
        p("")
        if env == "vm":
            p("VM: Debian's kernel under qemu TCG (absolute times mean little there; compare the tools)")
        else:
            p("%s: medians of n runs; 'x ideal' = wall / (data / the bound above)" % title)
        hdr = ("%-14s %-5s %-13s %5s %5s %2s %8s %9s %8s %7s %8s %9s %6s %7s %7s %7s %7s %8s %6s" %
               ("scenario", "tool", "tracker", "MiB", "dirty%", "n", "stall_ms", "wall_ms", "cpu_ms", "peakMiB",
                "pages", "imageMiB", "i/raw", "freeze", "collect", "copy", "write", "x ideal", "others"))
        p(hdr)
        p("-" * len(hdr))
        for key in sorted(g, key=lambda k: (k[0], k[1] or "", k[2], -1 if k[4] is None else k[4], ORDER[k[3]])):
            tool, tr, mib, sc, dp = key
            rs = g[key]
            ok = [r for r in rs if not r.get("error")]
            if not ok:
                p("%-14s %-5s %-13s %5d %5s %2d  FAILED: %s" % (sc, tool, tr, mib, f(dp, "%.1f"), len(rs),
                                                             rs[0]["error"][:90]))
                continue
            peak = agg(ok, "peak_rss_kib")
            stall = agg(ok, "stall_ms")
            if sc in ("restore", "frozen-restore"):
                stall = agg(ok, "downtime_ms")
            p("%-14s %-5s %-13s %5d %5s %2d %8s %9s %8s %7s %8s %9s %6s %7s %7s %7s %7s %8s %6s%s" %
              (sc, tool, tr, mib, f(dp, "%.1f"), len(ok),
               f(stall, "%.1f") + ("d" if sc in ("restore", "frozen-restore")
                                   else ("f" if sc == "dump" else " ")),
               f(agg(ok, "wall_ms"), "%.1f"), f(agg(ok, "cpu_ms"), "%.0f"),
               f(peak / 1024 if peak else None, "%.0f"), f(agg(ok, "pages_written"), "%.0f"),
               f((agg(ok, "image_bytes") or 0) / MiB, "%.1f"), f(agg(ok, "image_ratio"), "%.3f"),
               f(agg(ok, "freeze_ms"), "%.1f"), f(agg(ok, "collect_ms"), "%.1f"),
               f(agg(ok, "copy_ms"), "%.1f"), f(agg(ok, "write_ms"), "%.1f"),
               f(agg(ok, "wall_vs_ideal"), "%.2f"), f(agg(ok, "others_cpus"), "%.2f"),
               "" if len(ok) == len(rs) else "  (%d failed)" % (len(rs) - len(ok))))
        p("  stall: ms the target's ticker thread saw no time pass; 'f' = the tool's own freeze time")
        p("  (the target is killed by a dump); 'd' on restore = downtime, dump freeze to restored process running;")
        p("  others = CPUs' worth of time everything else used meanwhile (the target's ticker ~0.1; more = a busy machine)")
        if env == "host" and [r for r in rows if (r.get("members") or 1) > 1]:
            p("  'xN' = a process tree of N (MiB: their total); its stall is sdump's freeze of the whole tree,")
            p("  from the first member seized to the last resumed (pre-dumps too); cpu, pages, phases summed over members")
            tv = tree_vs_single(rows)
            if tv:
                p("")
                p("The tree against one process of its total size (host): freeze, or a restore's wall time, ms")
                p("%-10s %-22s %8s %8s %10s %10s %7s" % ("tracker", "scenario", "members", "MiB", "tree", "single", "ratio"))
                for x in tv:
                    p("%-10s %-22s %8d %8d %10s %10s %7s" % (
                        x["tracker"], x["scenario"] + ("" if x["what"] == "freeze_ms" else " (wall)"), x["members"],
                        x["mem_mib"], f(x["tree"]), f(x["single"]),
                        "-" if not x["tree"] or not x["single"] else "%.2f" % (x["tree"] / x["single"])))

        # sdump against CRIU: in the VM every scenario; on the host (BENCH_CRIU)
        # the frozen dump and its restore, which CRIU can do without soft-dirty
        if g:
            sd = {(k[2], k[3], k[4]): v for k, v in g.items() if k[0] == "sdump" and " x" not in (k[1] or "")}
            cr = {(k[2], k[3], k[4]): v for k, v in g.items() if k[0] == "criu"}
            common = sorted(set(sd) & set(cr), key=lambda k: (k[0], -1 if k[2] is None else k[2], ORDER[k[1]]))
            if common:
                p("")
                p("sdump / CRIU %s (< 1: sdump is lower/faster/smaller; cpu counts the tool's own,"
                  " cpu+rst for a restore also the restored process's)"
                  % ("in the VM" if env == "vm" else "on the host"))
                p("%-14s %5s %5s %10s %10s %10s %10s %10s %10s %10s %12s" % ("scenario", "MiB", "dirty", "stall",
                                                                             "freeze", "wall", "cpu", "cpu+rst",
                                                                             "image", "downtime", "reclaimMiB"))

                def ratio(a, c, k):
                    x, y = agg(a, k), agg(c, k)
                    return "-" if x is None or not y else "%.2f" % (x / y)

                for k in common:
                    a, c = sd[k], cr[k]
                    if not [r for r in a if not r.get("error")] or not [r for r in c if not r.get("error")]:
                        continue
                    rst = k[1] in ("restore", "frozen-restore")
                    ra, rc = agg(a, "reclaim_kib"), agg(c, "reclaim_kib")
                    p("%-14s %5d %5s %10s %10s %10s %10s %10s %10s %10s %12s" %
                      (k[1], k[0], f(k[2], "%.1f"), ratio(a, c, "stall_ms") if not rst else "-",
                       ratio(a, c, "freeze_ms") if not rst else "-",
                       ratio(a, c, "wall_ms"), ratio(a, c, "cpu_ms"),
                       ratio(a, c, "restore_cpu_ms") if rst else "-", ratio(a, c, "image_bytes"),
                       ratio(a, c, "downtime_ms") if rst else "-",
                       "-" if ra is None or rc is None else "%.0f/%.0f" % (ra / 1024, rc / 1024)))
                p("  reclaimMiB: what the kernel reported free to the host during the commands, sdump/CRIU"
                  " (memory warmed before each)")
    lazy = [r for r in rows if r.get("scenario") in ("eager-restore", "lazy-restore") and not r.get("error")]
    if lazy:
        p("")
        p("Lazy restore beside eager (restore -d; ms from the command's start; targets: running"
          " within 20 ms, complete within 1.2x the eager restore)")
        p("%-14s %6s %10s %10s %10s" % ("restore", "MiB", "running", "answer", "complete"))
        for r in sorted(lazy, key=lambda r: (r["mem_mib"], r["scenario"])):
            p("%-14s %6d %10.1f %10.1f %10.1f" % (r["scenario"], r["mem_mib"], r["running_ms"], r["answer_ms"],
                                                 r["complete_ms"]))
        runs = sorted(r["running_ms"] for r in lazy if r["scenario"] == "lazy-restore")
        if runs:
            p("  lazy running: %.1f to %.1f ms, median %.1f [%s within 20 ms]" %
              (runs[0], runs[-1], runs[len(runs) // 2],
               "met" if runs[len(runs) // 2] <= 20 else "NOT MET"))
        for r in rows:
            if r.get("scenario") == "lazy-ratio":
                p("  %d MiB: lazy memory complete / eager %.2f [%s], lazy running / eager %.3f" %
                  (r["mem_mib"], r["complete_over_eager"], "met" if r["complete_over_eager"] <= 1.2 else "NOT MET",
                   r["running_over_eager"]))
    mig = [r for r in rows if r.get("scenario") == "migrate" and not r.get("error") and r.get("env") != "vm"]
    vmig = [r for r in rows if r.get("scenario") == "migrate" and not r.get("error") and r.get("env") == "vm"]
    if mig:
        p("")
        p("Live migration over a veth pair (plain TCP; downtime: the longest gap the target saw in its loop;"
          " targets at 1 GiB, 1 %/s: downtime < 50 ms, total < 2x one copy)")
        p("%6s %8s %6s %10s %10s %10s %7s %12s %10s %8s" %
          ("MiB", "members", "dirty%", "downtime", "frozen", "total", "rounds", "bytes sent", "one copy", "total/1"))
        for r in sorted(mig, key=lambda r: (r.get("members", 1), r["mem_mib"], r["dirty_pct"])):
            p("%6d %8d %6.1f %10s %10.1f %10.1f %7d %12d %10.1f %8.2f" %
              (r["mem_mib"], r.get("members", 1), r["dirty_pct"],
               "-" if r["downtime_ms"] is None else "%.1f" % r["downtime_ms"],
               r["frozen_ms"], r["total_ms"], r["rounds"], r["bytes_sent"], r["copy_once_ms"],
               r["total_over_once"]))
        p("  veth: %.0f MiB/s; CRIU's page-server migration (soft-dirty): in the VM, below"
          % (mig[0]["veth_bw"] / 1048576))
    lv = [r for r in rows if r.get("scenario") == "level" and not r.get("error")]
    if lv:
        p("")
        p("Compression levels against the sink (bench/levels.sh; dump -R onto a disk, a migration made then sent;"
          " medians; raw: level -1000; auto must take no longer than raw)")
        p("%-13s %9s %6s %6s %9s %10s %10s %9s %10s" %
          ("sink", "limit", "level", "got", "wall_ms", "total_ms", "imageMiB", "cpuS/GiB", "sinkMiB/s"))
        keys = []
        for r in lv:
            k = (r["sink"], r.get("limit_bps"), r["level"])
            if k not in keys:
                keys.append(k)
        for k in keys:
            g = [r for r in lv if (r["sink"], r.get("limit_bps"), r["level"]) == k]
            got = "%s" % g[len(g) // 2]["compress_level"]
            if any(r["compress_level_min"] != r["compress_level_max"] for r in g):
                got += "*"
            sink = [r["sink_rate"] for r in g if r.get("sink_rate")]
            p("%-13s %9s %6s %6s %9.0f %10.0f %10.1f %9.2f %10s" %
              (k[0], "-" if k[1] is None else "%.0fM" % (k[1] / 1048576), k[2], got, agg(g, "wall_ms"),
               agg(g, "total_ms"), agg(g, "image_bytes") / 1048576, agg(g, "cpu_s_per_gib"),
               "%.0f" % (med(sink) / 1048576) if sink else "-"))
        p("  got: the level most pages got (* several); wall_ms: the command (a migration: made and sent)")
    if vmig:
        p("")
        p("Live migration in the VM over loopback, sdump and CRIU's page-server migration (soft-dirty;"
          " downtime: the target's longest gap over the migration, switch: since CRIU's last round began)")
        p("%6s %6s %-6s %10s %10s %10s %10s %7s %12s" %
          ("MiB", "dirty%", "tool", "downtime", "switch", "frozen", "total", "rounds", "bytes"))
        key = lambda r: (r["mem_mib"], r["dirty_pct"])
        for r in sorted(vmig, key=lambda r: (key(r), r["tool"])):
            p("%6d %6.1f %-6s %10.1f %10.1f %10s %10.1f %7s %12d" %
              (r["mem_mib"], r["dirty_pct"], r["tool"], r["downtime_ms"], r["switch_ms"],
               "-" if r.get("frozen_ms") is None else "%.1f" % r["frozen_ms"], r["total_ms"],
               r.get("rounds_done", r["rounds"]), r["bytes_sent"]))
        for k in sorted({key(r) for r in vmig}):
            a = [r for r in vmig if key(r) == k and r["tool"] == "sdump"]
            b = [r for r in vmig if key(r) == k and r["tool"] == "criu"]
            if a and b and b[0]["downtime_ms"] and b[0]["total_ms"]:
                p("  %d MiB, %.1f %%/s: sdump / CRIU downtime %.2f, total %.2f, bytes %.2f" %
                  (k[0], k[1], a[0]["downtime_ms"] / b[0]["downtime_ms"], a[0]["total_ms"] / b[0]["total_ms"],
                   a[0]["bytes_sent"] / b[0]["bytes_sent"] if b[0]["bytes_sent"] else float("nan")))
    skipped = [r for r in rows if r.get("scenario") == "skipped"]
    for r in skipped:
        p("")
        p("%s %s: %s" % (r.get("env"), r.get("tool"), r.get("error")))
    if errors:
        p("")
        p("Failures:")
        for r in errors:
            if r.get("scenario") == "skipped":
                continue
            p("  %s %s %s/%s %s MiB dirty %s: %s" % (r.get("env"), r.get("scenario"), r.get("tool"),
                                                     r.get("tracker"), r.get("mem_mib"), r.get("dirty_pct"),
                                                     r.get("error")))
    if trows:
        p("")
        p("Targets (1 GiB, host, --track %s; value = median over the runs)" % auto)
        for t in trows:
            if t["value"] is None:
                p("  [ n/a  ] %s: not measured" % t["description"])
                continue
            fmt = "%.3f" if t["target"] == "image_half" else "%.0f"
            p("  [%s] %-52s %s (best %s, worst %s, n=%d%s)" %
              (" met  " if t["met"] else "NOT MET", t["description"], fmt % t["value"], fmt % t["best"],
               fmt % t["worst"], t["n"],
               ", busy machine: others up to %.2f CPUs" % t["others_cpus_max"]
               # (a dump's "others" is mostly the killed target freeing its memory)
               if t["others_cpus_max"] > 0.5 and t["target"] not in ("dump_wall", "image_half") else ""))
        for sc, dp, label in (("full", None, "full pass"), ("incremental", 1.0, "incremental 1%"),
                              ("dump", 1.0, "final dump 1%"), ("restore", 1.0, "restore")):
            w = where(rows, auto, sc, dp)
            if w:
                p("  %-15s %s" % (label + ":", w))
        if bd.get("zstd_ratio"):
            p("  zstd at sdump's level itself makes this data %.1f%% of its size (independent 1 MiB frames)"
              % (100 * bd["zstd_ratio"]))


if __name__ == "__main__":
    main()
