"""DuckDB engine at 10^7 - 10^8 events: this tree against a baseline commit, same memory limit.

Not a test. Input: the Parquet event log written by ``benchmarks/make_events.py`` (by default
``benchmarks/_data/events/``: 100 part files of about 10^6 simulated touch rows each, string
cookie / loyalty ids such as ``c000000123456``, with their conversions). A size is a number of
leading part files, so every size holds whole simulated populations.

What is measured, per (size, code), each run in a fresh subprocess::

    Journeys.from_events(touch_files, conversion_files, lookback="30D", engine="duckdb",
                         engine_options={"memory_limit": M, "threads": T, "temp_directory": D})

* ``new``: the package of this tree (persons numbered by a dictionary pass in text order;
  beyond 8M events, one staging pass of narrow integer rows and the journey query run bucket
  by bucket of persons, see ``attribution.engines._common._bucketed_paths``; Parquet rows
  numbered from a parallel scan), copied
  to ``benchmarks/_data/current_tree_<pid>/`` when the benchmark starts, so edits made while it runs
  do not change what is timed.
* ``old``: the package at ``--baseline`` (default ``b749bcf``, main before that change),
  extracted with ``git archive`` into ``benchmarks/_data/baseline_<rev>/`` and put first on
  the child's ``PYTHONPATH``.

Per run: wall time of the call (files read inside it), the child's CPU time (user + system)
and peak RSS (``ru_maxrss``) right after the call, and the largest size of DuckDB's spill
directory (polled every 0.5 s). Runs are interleaved (old, new, old, new, ...) so both codes
see the same load; the machine's load average is recorded. After timing, each child writes its
path table (``to_paths()``) to Parquet and the parent checks that old and new are identical
(paths, places, conversions, nulls and value, bitwise).

Run from the repository root::

    python benchmarks/make_events.py                         # once: 10^8 rows, ~1 GiB
    python benchmarks/bench_duckdb_scale.py                  # 10^7 and 10^8, 1 run each
    python benchmarks/bench_duckdb_scale.py --sizes 1e7,3e7 --repeats 2

Prints a Markdown table and writes ``benchmarks/results/duckdb_scale.md`` (raw runs in
``benchmarks/_data/duckdb_scale.json``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "_data"
RESULTS = HERE / "results" / "duckdb_scale.md"
RAW = DATA / "duckdb_scale.json"

CHILD = r"""
import glob, json, os, resource, sys, time
args = json.loads(sys.argv[1])
t0 = time.perf_counter()
# the tree given runs: first on the path (the child's working directory, the project root, would
# otherwise come first and hide it), and no editable install's import hook
sys.path.insert(0, args["tree"])
sys.meta_path = [f for f in sys.meta_path if "__editable__" not in str(getattr(f, "__module__", ""))]
import attribution
from attribution import Journeys
assert os.path.realpath(attribution.__file__).startswith(os.path.realpath(args["tree"])), attribution.__file__
tf = sorted(glob.glob(os.path.join(args["events"], "touchpoints", "*.parquet")))[: args["parts"]]
cf = sorted(glob.glob(os.path.join(args["events"], "conversions", "*.parquet")))[: args["parts"]]
t1 = time.perf_counter()
j = Journeys.from_events(tf, cf, lookback="30D", engine="duckdb", warn=False,
                         engine_options={"memory_limit": args["memory_limit"], "threads": args["threads"],
                                         "temp_directory": args["spill"]})
t2 = time.perf_counter()
ru = resource.getrusage(resource.RUSAGE_SELF)
out = {"wall_s": t2 - t1, "process_s": t2 - t0, "cpu_s": ru.ru_utime + ru.ru_stime, "peak_gib": ru.ru_maxrss / 2**20,
       "journeys": float(j.conversions.sum() + j.nulls.sum()), "conversions": float(j.conversions.sum())}
pt = j.to_paths()
pt.to_parquet(args["paths_out"])
out["unique_paths"] = len(pt)
json.dump(out, open(args["result"], "w"))
"""


def _count(text: str) -> int:
    return int(float(text))


def baseline_tree(rev: str) -> Path:
    """The package at ``rev`` extracted under benchmarks/_data (once)."""
    full = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    dest = DATA / f"baseline_{full}"
    if not (dest / "attribution" / "__init__.py").exists():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", full, "attribution"], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def snapshot_tree() -> Path:
    """A copy of this tree's package (what ``new`` runs), taken once at start (one folder per
    benchmark process, so two runs side by side do not share it)."""
    dest = DATA / f"current_tree_{os.getpid()}"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(ROOT / "attribution", dest / "attribution", ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def dir_size(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def load() -> float:
    return float(open("/proc/loadavg").read().split()[0])


def run_one(code: str, tree: Path, parts: int, args) -> dict:
    spill = Path(tempfile.mkdtemp(prefix="spill-", dir=args.spill_root))
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        spec = {"events": str(args.events), "parts": parts, "tree": str(tree), "memory_limit": args.memory_limit,
                "threads": args.threads, "spill": str(spill), "paths_out": str(DATA / f"duckdb_scale_{code}_{parts}.parquet"),
                "result": os.path.join(tmp, "r.json")}
        env = dict(os.environ, PYTHONPATH=str(tree) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        peak_spill, loads, stop = [0], [load()], threading.Event()

        def poll():
            while not stop.wait(0.5):
                peak_spill[0] = max(peak_spill[0], dir_size(spill))
                loads.append(load())

        th = threading.Thread(target=poll, daemon=True)
        th.start()
        t0 = time.perf_counter()
        errfile = open(os.path.join(tmp, "stderr"), "w+")
        proc = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(spec)], cwd=ROOT, env=env,
                                stderr=errfile)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        stop.set()
        th.join()
        shutil.rmtree(spill, ignore_errors=True)
        errfile.seek(0)
        err = errfile.read()
        errfile.close()
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"{code} at {parts} parts failed:\n{err[-3000:]}")
        res = json.load(open(spec["result"]))
    res.update({"code": code, "parts": parts, "child_wall_s": wall, "child_peak_gib": ru.ru_maxrss / 2**20,
                "spill_gib": peak_spill[0] / 2**30, "load_max": max(loads), "load_mean": statistics.mean(loads)})
    return res


def same_tables(parts: int) -> str:
    import numpy as np
    import pandas as pd

    a = pd.read_parquet(DATA / f"duckdb_scale_old_{parts}.parquet")
    b = pd.read_parquet(DATA / f"duckdb_scale_new_{parts}.parquet")
    if a.shape != b.shape or list(a.columns) != list(b.columns):
        return f"different shapes {a.shape} / {b.shape}"
    for c in a.columns:
        x, y = a[c].to_numpy(), b[c].to_numpy()
        same = np.array_equal(x, y) if x.dtype.kind == "f" else bool((a[c].astype(str) == b[c].astype(str)).all())
        if not same:
            return f"column {c!r} differs"
    return f"identical ({len(a):,} unique paths, every column bitwise)"


def fmt(x: float) -> str:
    return f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=Path, default=DATA / "events")
    p.add_argument("--sizes", default="1e7,1e8", help="touch rows (about 10^6 per part file)")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--memory-limit", default="4GB")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--baseline", default="b749bcf")
    p.add_argument("--codes", default="old,new")
    p.add_argument("--spill-root", type=Path, default=DATA)
    p.add_argument("--raw", type=Path, default=RAW, help="JSON file of saved runs (appended to)")
    p.add_argument("--report", action="store_true", help="only rewrite the report from the saved runs")
    args = p.parse_args(argv)
    if args.report:
        report(json.loads(args.raw.read_text()), args)
        return
    if not (args.events / "touchpoints").is_dir():
        sys.exit(f"No event log at {args.events}: run python benchmarks/make_events.py first.")
    n_files = len(list((args.events / "touchpoints").glob("*.parquet")))
    trees = {"old": baseline_tree(args.baseline), "new": snapshot_tree()}
    codes = args.codes.split(",")
    runs = json.loads(args.raw.read_text()) if args.raw.exists() else []
    started = _dt.datetime.now(_dt.timezone.utc)
    for size in [_count(s) for s in args.sizes.split(",")]:
        parts = max(1, min(n_files, round(size / 1e6)))
        for r in range(args.repeats):
            for code in codes:
                res = run_one(code, trees[code], parts, args)
                res.update({"memory_limit": args.memory_limit, "threads": args.threads, "baseline": args.baseline,
                            "date": started.isoformat(timespec="minutes")})
                runs.append(res)
                args.raw.write_text(json.dumps(runs, indent=1))
                print(f"{parts:4d} parts {code}: wall {res['wall_s']:.1f} s, cpu {res['cpu_s']:.1f} s, peak "
                      f"{res['child_peak_gib']:.2f} GiB, spill {res['spill_gib']:.2f} GiB, load {res['load_mean']:.1f}",
                      flush=True)
    report(runs, args)


def report(runs, args) -> None:
    import duckdb

    sizes = sorted({r["parts"] for r in runs})
    lines = [
        "# DuckDB engine at scale: buckets of persons vs one pass keyed by the string id",
        "",
        f"Date: {runs[-1]['date'][:10]}. Machine: {os.cpu_count()} cores, shared with other jobs "
        f"(load averages below); Python {platform.python_version()}, duckdb {duckdb.__version__}.",
        f"Command: `python benchmarks/bench_duckdb_scale.py --sizes {args.sizes} --repeats {args.repeats}` "
        "(method in the module docstring).",
        "",
        "* Data: `benchmarks/make_events.py` (random state 0): simulated touch rows with string ids "
        "(`c` / `L` + 12 digits), the first n part files of 10^6 rows each.",
        "* Call: `Journeys.from_events(touch_files, conversion_files, lookback=\"30D\", engine=\"duckdb\", "
        "engine_options={memory_limit, threads, temp_directory})`, fresh process per run, old and new interleaved.",
        "* `old`: main at the baseline commit (one query, windows partitioned by the string id); `new`: this "
        "tree (a dictionary of distinct ids numbered in text order; beyond 8M events one staging pass of "
        "narrow integer rows, then bucket by bucket of persons DuckDB sorts the bucket's events and numpy "
        "applies the journey rules to the sorted columns, overlapped with the next bucket's sort, numpy's "
        "share of the memory limit taken off DuckDB's meanwhile; Parquet rows numbered from a parallel scan).",
        "* Each child imports the package from its own tree (`old`: `git archive` of the baseline, `new`: a "
        "copy of this tree taken at start) and asserts it did. Earlier versions of this script ran the "
        "children in the project root, whose package hid the baseline's: both codes were this tree, and "
        "their tables compared a tree with itself.",
        "* process: the whole child process (imports included); wall: the call; CPU: the child's user + "
        "system time (what the call cost, whatever the load); "
        "peak RSS: the child's `ru_maxrss`; spill: largest size of the temp directory.",
        "",
        "| touch rows | code | memory limit | runs | process s (median) | wall s (median) | CPU s (median) | "
        "peak RSS GiB | spill GiB | load (mean) | speed-up process | speed-up CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    checks = []
    limits = sorted({r["memory_limit"] for r in runs})
    for parts, limit in [(p, m) for p in sizes for m in limits]:
        by = {}
        for code in ("old", "new"):
            rs = [r for r in runs if r["parts"] == parts and r["code"] == code and r["memory_limit"] == limit]
            if rs:
                by[code] = rs
        for code, rs in by.items():
            w = statistics.median(r["wall_s"] for r in rs)
            pw = statistics.median(r["process_s"] for r in rs)
            c = statistics.median(r["cpu_s"] for r in rs)
            sp = ""
            if code == "new" and "old" in by:
                op = statistics.median(r["process_s"] for r in by["old"])
                oc = statistics.median(r["cpu_s"] for r in by["old"])
                sp = f"**{op / pw:.2f}×** | **{oc / c:.2f}×**"
            else:
                sp = " | "
            lines.append(
                f"| {parts * 1e6:.0e} ({parts} parts) | {code} | {rs[0]['memory_limit']} | {len(rs)} | {fmt(pw)} | {fmt(w)} | {fmt(c)} | "
                f"{max(r['child_peak_gib'] for r in rs):.2f} | {max(r['spill_gib'] for r in rs):.2f} | "
                f"{statistics.mean(r['load_mean'] for r in rs):.1f} | {sp} |"
            )
        if "old" in by and "new" in by and limit == limits[0]:
            checks.append(f"* {parts} parts: old vs new path tables {same_tables(parts)}; journeys "
                          f"{by['new'][0]['journeys']:,.0f}, conversions {by['new'][0]['conversions']:,.0f}.")
    lines += ["", "## Agreement", ""] + checks
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
