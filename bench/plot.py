#!/usr/bin/python3
"""The benchmark's results as pictures (PNG, matplotlib).

    bench/plot.py RESULTS.jsonl OUTDIR

Writes into OUTDIR:
  freeze.png   how long the target was frozen against its memory size, for
               each pass (first full pass, incremental pass, final dump),
               one line per tool and tracker (CRIU's rows too, from --vm or
               BENCH_CRIU)
  restore.png  the restore's wall time against memory size, per tool
  image.png    the image's size as a share of the memory, per pass and tool
  tree.png     a process tree (bench/run's BENCH_TREE, 10 x 100 MiB) against one
               process of about its total size: the whole tree's freeze in each
               pass, and the restore's wall time, per tracker (when the run has
               tree rows)

Each point is the median of the runs of that scenario, tool, tracker and
size. Run by bench/run at its end when matplotlib is there (Debian's
python3-matplotlib); bench/README.md shows the pictures of a run.
"""
import json
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PASSES = (("full", "first full pass"), ("incremental", "incremental pass"),
          ("dump", "final dump after a pre-dump"))


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    pass
    return [r for r in rows if not r.get("error")]


def label(r):
    where = "" if r.get("env") in (None, "host") else " (%s)" % r["env"]
    tr = " %s" % r["tracker"] if r.get("tracker") else ""
    tree = " tree of %d" % r["members"] if (r.get("members") or 1) > 1 else ""
    return "%s%s%s%s" % (r.get("tool"), tr, tree, where)


def series(rows, scenario, key):
    """{label: [(mem_mib, median of key)]} for one scenario."""
    pts = {}
    for r in rows:
        if r.get("scenario") != scenario or r.get(key) is None or not r.get("mem_mib"):
            continue
        pts.setdefault(label(r), {}).setdefault(r["mem_mib"], []).append(r[key])
    return {lab: sorted((m, statistics.median(v)) for m, v in by.items()) for lab, by in pts.items()}


def draw(ax, data, title, ylabel, logy=True):
    for lab in sorted(data):
        xs, ys = zip(*data[lab])
        ax.plot(xs, ys, marker="o", label=lab)
    ax.set_xscale("log", base=2)
    if logy:
        ax.set_yscale("log")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("memory of the target (MiB)")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    if data:
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "no runs", ha="center", va="center", transform=ax.transAxes)


TREE_SCENARIOS = (("full", "first pre-dump", "freeze_ms"), ("incremental", "pre-dump, 1 % written", "freeze_ms"),
                  ("dump", "final dump after it", "freeze_ms"), ("frozen", "frozen dump, no parent", "freeze_ms"),
                  ("restore", "restore of the chain (wall)", "wall_ms"),
                  ("frozen-restore", "restore of the frozen dump (wall)", "wall_ms"))


def draw_tree(rows, out, note):
    """Bars: per scenario and tracker, the tree against the one process nearest its total size."""
    trees = [r for r in rows if (r.get("members") or 1) > 1 and r.get("env") in (None, "host")]
    if not trees:
        return None
    n, mib, dp = trees[0]["members"], trees[0]["mem_mib"], None
    dp = next((r.get("dirty_pct") for r in trees if r.get("scenario") == "incremental"), None)
    singles = [r for r in rows if (r.get("members") or 1) == 1 and r.get("env") in (None, "host")
               and r.get("tool") == "sdump" and r.get("mem_mib")]
    if not singles:
        return None
    one = min({r["mem_mib"] for r in singles}, key=lambda m: abs(m - mib))
    trackers = sorted({r.get("tracker") for r in trees})
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [4, 2]})
    for ax, scs, ylabel in ((axes[0], TREE_SCENARIOS[:4], "frozen (ms), the whole tree"),
                            (axes[1], TREE_SCENARIOS[4:], "wall time (ms)")):
        bars = []
        for tr in trackers:
            for kind, rs in (("tree of %d x %d MiB" % (n, mib // n), trees), ("1 process of %d MiB" % one, singles)):
                vals = []
                for sc, _, key in scs:
                    v = [r.get(key) for r in rs if r.get("scenario") == sc and r.get("tracker") == tr
                         and (rs is trees or r["mem_mib"] == one)
                         and (sc in ("full", "frozen", "frozen-restore") or dp is None or r.get("dirty_pct") == dp)
                         and r.get(key) is not None]
                    vals.append(statistics.median(v) if v else 0)
                if any(vals):
                    bars.append(("%s, %s" % (tr, kind), vals))
        width = 0.8 / max(1, len(bars))
        for k, (lab, vals) in enumerate(bars):
            xs = [i + k * width for i in range(len(scs))]
            b = ax.bar(xs, vals, width, label=lab)
            ax.bar_label(b, labels=["%.0f" % v if v else "" for v in vals], fontsize=6, rotation=90, padding=2)
        ax.set_xticks([i + width * (len(bars) - 1) / 2 for i in range(len(scs))])
        ax.set_xticklabels([t for _, t, _ in scs], fontsize=8)
        ax.set_ylabel(ylabel)
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(fontsize=7)
        ax.margins(y=0.15)
    fig.suptitle("A tree of %d processes against one process of %d MiB (%s)" % (n, one, note), fontsize=9)
    fig.tight_layout()
    path = os.path.join(out, "tree.png")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def machine_note(rows):
    m = next((r for r in rows if r.get("scenario") == "machine"), {})
    return "%s, %s CPUs, kernel %s, %s" % (m.get("cpu", "?"), m.get("nproc", "?"),
                                           m.get("kernel", "?"), m.get("date", "?"))


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    rows = load(sys.argv[1])
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    note = machine_note(rows)

    fig, axes = plt.subplots(1, len(PASSES), figsize=(15, 4.5))
    for ax, (sc, title) in zip(axes, PASSES):
        draw(ax, series(rows, sc, "stall_ms"), title, "target frozen (ms)")
    fig.suptitle("Freeze against memory size (%s)" % note, fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "freeze.png"), dpi=90)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4.5))
    draw(ax, series(rows, "restore", "wall_ms"), "restore of the final dump", "wall time (ms)")
    fig.suptitle(note, fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "restore.png"), dpi=90)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, sc in zip(axes, ("full", "dump")):
        ratio = []
        for r in rows:
            if r.get("scenario") == sc and r.get("image_bytes") and r.get("mem_mib"):
                q = dict(r)
                q["ratio"] = r["image_bytes"] / (r["mem_mib"] << 20)
                ratio.append(q)
        draw(ax, series(ratio, sc, "ratio"),
             "image of the %s" % dict(PASSES)[sc], "image bytes / memory bytes")
    fig.suptitle(note, fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "image.png"), dpi=90)
    plt.close(fig)
    drawn = [os.path.join(out, n) for n in ("freeze.png", "restore.png", "image.png")]
    tree = draw_tree(rows, out, note)
    if tree:
        drawn.append(tree)
    print("pictures: %s" % " ".join(drawn))
    return 0


if __name__ == "__main__":
    sys.exit(main())
