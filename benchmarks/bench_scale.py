"""Journeys from 1 M to 100 M touch events on Parquet: pandas engine vs DuckDB engine, time and peak memory.

Not a test. Input: the Parquet event log written by ``benchmarks/make_events.py`` (by default
``benchmarks/_data/events/``: 100 part files of about 1 M simulated touch rows each, with their
conversions). A size is a number of leading part files (1, 3, 10, 30, 50, 100 by default), so every
size is a prefix of the next and holds whole simulated populations.

What is measured, per (size, engine), each in a fresh subprocess (``--one ENGINE N_PARTS``):

* ``pandas``: ``pd.read_parquet`` of the size's touchpoint and conversion files, then
  ``Journeys.from_events(touchpoints, conversions, lookback="30D")`` (the default engine);
  "read s" and "build s" are the two steps, "wall s" their sum.
* ``duckdb``: ``Journeys.from_events(TOUCH_GLOB, CONVERSION_GLOB, lookback="30D",
  engine="duckdb", engine_options={"memory_limit": "4GB", "threads": 2, "temp_directory":
  "benchmarks/_data/duckdb_spill"})`` on the file globs directly (a size below 100 parts reads
  a directory of symbolic links, ``benchmarks/_data/scale_subsets/``); "wall s" is that one
  call, Parquet reading included. ``--memory-limit`` and ``--threads`` change the options; a
  memory limit other than 4GB is recorded as its own row label (``duckdb 2GB``). "spill GiB"
  is the largest size of the temp directory seen during the run (polled every 0.5 s).
* **peak RSS**: the child's ``ru_maxrss`` taken in the child right after the journeys are built
  (interpreter, libraries and DuckDB's native memory included). After that, the child builds the
  aggregated path table (``to_paths()``) for the checks; the child's overall peak, read by the
  parent with ``os.wait4``, is kept as "peak RSS with checks".
* journeys (conversions + non-converting journeys: the DuckDB engine returns one weighted row
  per unique path and place, pandas one row per journey), conversions, value and unique paths
  of the result; the path table is saved
  (``benchmarks/_data/scale_paths/``) and the two engines' tables are compared row by row on
  every size both ran (paths, conversions and nulls exactly, value to 1e-6 relative).

Runs under 10 s are repeated three times, under 60 s twice (fresh processes), keeping the
fastest. A child is killed past ``--kill-gib`` (default 18 GiB) resident memory or
``--time-limit`` seconds. The pandas engine is skipped (and the reason printed) when a linear
extrapolation of its peak at the largest size it already ran predicts more than
``--pandas-max-gib`` (default 16 GiB) or more than 80 % of the memory available at that moment;
the DuckDB engine is skipped with a message while ``engine="duckdb"`` is not importable.
Only one child runs at a time: sizes in increasing order, both engines at a size before the
next size, so the two rows of a size ran close in time; the machine's load average is recorded
with each run (other jobs share the two cores, and a multi-threaded engine suffers more from them).

Run from the repository root::

    python benchmarks/make_events.py                            # once: 100 M rows, ~3 min, ~1 GiB
    python benchmarks/bench_scale.py                            # every size, both engines
    python benchmarks/bench_scale.py --engines pandas           # one engine
    python benchmarks/bench_scale.py --engines duckdb --update  # add runs, keep the saved ones
    python benchmarks/bench_scale.py --sizes 1e6,3e6 --update   # a quick look
    python benchmarks/bench_scale.py --engines duckdb --sizes 1e8 --memory-limit 2GB --update
    python benchmarks/bench_scale.py --report                   # rewrite results/scale.md from saved runs
    python benchmarks/bench_scale.py --report --note "..."      # add a sentence to the report's Notes

Prints a Markdown table and writes it to ``benchmarks/results/scale.md``; raw results are kept
in ``benchmarks/_data/scale_results.json``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import inspect
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA_DIR = HERE / "_data"
DEFAULT_EVENTS = DATA_DIR / "events"
SUBSETS = DATA_DIR / "scale_subsets"
PATHS_DIR = DATA_DIR / "scale_paths"
SPILL_DIR = DATA_DIR / "duckdb_spill"
RAW_JSON = DATA_DIR / "scale_results.json"
NOTES_JSON = DATA_DIR / "scale_notes.json"
RESULTS_MD = HERE / "results" / "scale.md"
MARKER = "@@RESULT@@ "
ENGINES = ("pandas", "duckdb")
LOOKBACK = "30D"
#: files of attribution/ whose code each engine runs (a digest of their code goes into the report)
TIMED_FILES = {
    "pandas": ("journeys.py", "_validation.py"),
    "duckdb": ("journeys.py", "_validation.py", "engines/__init__.py", "engines/_common.py", "engines/_sql.py",
               "engines/duckdb.py"),
}
GIB = 2**30
DEFAULT_MEMORY_LIMIT = "4GB"


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------


def load_manifest(events: Path) -> dict:
    path = events / "manifest.json"
    if not path.exists():
        sys.exit(f"No {path}: write the data set first with `python benchmarks/make_events.py`.")
    manifest = json.loads(path.read_text())
    if not manifest.get("complete"):
        sys.exit(f"{path} says the data set is incomplete: rerun `python benchmarks/make_events.py --overwrite`.")
    return manifest


def part_files(events: Path, table: str, n_parts: int) -> list[str]:
    return [str(events / table / f"part-{k:05d}.parquet") for k in range(n_parts)]


def glob_for(events: Path, table: str, n_parts: int, total_parts: int) -> str:
    """A glob matching exactly the first ``n_parts`` files of ``table``.

    All parts: ``events/table/part-*.parquet``; fewer: a directory of symbolic links
    (``benchmarks/_data/scale_subsets/n00030/table/``) made on first use.
    """
    if n_parts == total_parts:
        return str(events / table / "part-*.parquet")
    d = SUBSETS / f"n{n_parts:05d}" / table
    d.mkdir(parents=True, exist_ok=True)
    want = {f"part-{k:05d}.parquet" for k in range(n_parts)}
    for f in d.iterdir():
        if f.name not in want or not f.resolve().exists() or f.resolve() != (events / table / f.name).resolve():
            f.unlink()
    for name in sorted(want):
        link = d / name
        if not link.is_symlink():
            link.symlink_to((events / table / name).resolve())
    return str(d / "*.parquet")


def sizes_to_parts(sizes: list[float], manifest: dict) -> list[int]:
    per_part = manifest["totals"]["touchpoints"] / len(manifest["parts"])
    total = len(manifest["parts"])
    out = []
    for s in sizes:
        n = max(1, min(total, round(s / per_part)))
        if n not in out:
            out.append(n)
    return out


def rows_of(manifest: dict, n_parts: int, table: str = "touchpoints") -> int:
    return sum(p[table] for p in manifest["parts"][:n_parts])


def bytes_of(manifest: dict, n_parts: int, tables=("touchpoints", "conversions")) -> int:
    return sum(p[f"{t}_bytes"] for p in manifest["parts"][:n_parts] for t in tables)


def size_label(rows: int) -> str:
    return f"{rows / 1e6:.0f}M" if rows >= 1e6 else f"{rows / 1e3:.0f}k"


# ---------------------------------------------------------------------------------------------
# one measurement (child process)
# ---------------------------------------------------------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def duckdb_options(args_json: dict) -> dict:
    """The DuckDB options from_events accepts (memory limit, threads, spill directory), by its signature."""
    from attribution import Journeys

    params = inspect.signature(Journeys.from_events).parameters
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    wanted = {"memory_limit": args_json["memory_limit"], "threads": args_json["threads"],
              "temp_directory": str(SPILL_DIR)}
    opts = {k: v for k, v in wanted.items() if v is not None and (k in params or accepts_any)}
    if "engine_options" in params and not accepts_any:  # an options dict instead of keywords
        opts = {"engine_options": {k: v for k, v in wanted.items() if v is not None}}
    return opts


def run_one(engine: str, n_parts: int, events: Path, total_parts: int, opts: dict) -> dict:
    import warnings

    import numpy as np
    import pandas as pd

    from attribution import Journeys

    rec: dict = {"engine": engine, "n_parts": n_parts}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if engine == "pandas":
            t0 = time.perf_counter()
            tp = pd.read_parquet(part_files(events, "touchpoints", n_parts))
            cv = pd.read_parquet(part_files(events, "conversions", n_parts))
            t1 = time.perf_counter()
            j = Journeys.from_events(tp, cv, lookback=LOOKBACK, warn=False)
            t2 = time.perf_counter()
            rec.update(read_s=t1 - t0, build_s=t2 - t1, wall_s=t2 - t0, touch_rows=len(tp), conversion_rows=len(cv))
            del tp, cv
        elif engine == "duckdb":
            tp_glob = glob_for(events, "touchpoints", n_parts, total_parts)
            cv_glob = glob_for(events, "conversions", n_parts, total_parts)
            kwargs = duckdb_options(opts)
            SPILL_DIR.mkdir(parents=True, exist_ok=True)
            rec["options"] = {k: (v if isinstance(v, (str, int, float, dict)) else repr(v)) for k, v in kwargs.items()}
            t0 = time.perf_counter()
            j = Journeys.from_events(tp_glob, cv_glob, lookback=LOOKBACK, engine="duckdb", warn=False, **kwargs)
            t2 = time.perf_counter()
            rec.update(read_s=None, build_s=None, wall_s=t2 - t0, touch_rows=None, conversion_rows=None)
        else:
            raise ValueError(engine)
    rec["peak_build_mb"] = _peak_mb()
    n_in = getattr(j, "_n_input", None) or {}
    rec["touch_rows"] = rec["touch_rows"] or n_in.get("touch_rows")
    rec["conversion_rows"] = rec["conversion_rows"] or n_in.get("conversion_rows")
    # the DuckDB engine returns one journey row per unique path x place, weighted by its
    # conversions and nulls; pandas one row per journey (weight 1): count journeys by weight
    weight = np.asarray(j.conversions, dtype=np.float64) + np.asarray(j.nulls, dtype=np.float64)
    rec.update(journey_rows=int(j.n_journeys), journeys=round(float(weight.sum())),
               touches=round(float(weight @ j.lengths)), conversions=float(j.total_conversions),
               value=float(j.total_value), nulls=float(j.total_nulls))
    t3 = time.perf_counter()
    paths = j.to_paths()
    rec["to_paths_s"] = time.perf_counter() - t3
    rec["unique_paths"] = len(paths)
    paths = paths.sort_values("path", kind="mergesort").reset_index(drop=True)
    PATHS_DIR.mkdir(parents=True, exist_ok=True)
    out = PATHS_DIR / f"{engine}_{n_parts:05d}.parquet"
    paths.to_parquet(out, index=False)
    rec["paths_file"] = str(out.relative_to(ROOT))
    rec["paths_sha256"] = _paths_digest(paths)
    rec["peak_mb"] = _peak_mb()
    return rec


def _paths_digest(paths) -> str:
    """Digest of the sorted path table: paths, conversions and nulls exactly, value in cents."""
    import numpy as np

    h = hashlib.sha256()
    h.update("\n".join(paths["path"].astype(str)).encode())
    for col in ("total_conversions", "total_null"):
        h.update(np.ascontiguousarray(paths[col].to_numpy(dtype=np.float64)).tobytes())
    h.update(np.round(paths["total_conversion_value"].to_numpy(dtype=np.float64) * 100).astype(np.int64).tobytes())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# parent: run children with a watchdog
# ---------------------------------------------------------------------------------------------


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _dir_bytes(path: Path) -> int:
    total = 0
    try:
        for root, _, files in os.walk(path):
            for f in files:
                try:
                    total += os.stat(os.path.join(root, f)).st_size
                except OSError:
                    pass
    except OSError:
        pass
    return total


def _mem_available_mb() -> float:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    return float("inf")


def engine_available(engine: str) -> str | None:
    """None if the engine can run, else why not (checked in a fresh interpreter)."""
    if engine == "pandas":
        return None
    code = ("import duckdb, inspect; from attribution import Journeys; "
            "import attribution.engines.duckdb; "
            "assert 'engine' in inspect.signature(Journeys.from_events).parameters, 'no engine= parameter'")
    r = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, capture_output=True, text=True)
    if r.returncode:
        last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}"
        return f"engine='duckdb' not importable yet ({last})"
    return None


def measure(engine: str, n_parts: int, args) -> dict:
    """One fresh child; its own rusage comes from os.wait4, so the peak is this run's alone."""
    opts = {"memory_limit": args.memory_limit, "threads": args.threads}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", engine, str(n_parts),
           "--events", str(args.events), "--child-opts", json.dumps(opts)]
    kill_mb = args.kill_gib * 1024
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, cwd=ROOT, start_new_session=True)
        killed = None
        rss_max = spill_max = load_max = 0.0
        next_spill = 0.0
        status = ru = None
        try:
            while True:
                if time.perf_counter() >= next_spill:
                    if engine != "pandas":
                        spill_max = max(spill_max, _dir_bytes(SPILL_DIR))
                    load_max = max(load_max, os.getloadavg()[0])
                    next_spill = time.perf_counter() + 0.5
                pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    proc.returncode = os.waitstatus_to_exitcode(status)
                    break
                rss = _rss_mb(proc.pid)
                rss_max = max(rss_max, rss)
                if rss > kill_mb:
                    killed = f"stopped (memory: passed {args.kill_gib:g} GiB)"
                elif time.perf_counter() - t0 > args.time_limit:
                    killed = f"stopped (time: passed {args.time_limit:g} s)"
                if killed:
                    os.killpg(proc.pid, signal.SIGKILL)
                    _, status, ru = os.wait4(proc.pid, 0)
                    proc.returncode = os.waitstatus_to_exitcode(status)
                    break
                time.sleep(0.1)
        finally:  # interrupted (Ctrl-C, SIGTERM): do not leave the child running
            if proc.returncode is None:
                os.killpg(proc.pid, signal.SIGKILL)
                os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    child_peak = ru.ru_maxrss / 1024 if ru is not None else rss_max
    base = {"engine": engine, "n_parts": n_parts, "child_s": elapsed, "child_peak_mb": child_peak,
            "spill_gib": spill_max / GIB if engine != "pandas" else None, "load_max": load_max}
    if killed:
        return {**base, "skipped": killed, "peak_mb": child_peak}
    for line in stdout.splitlines()[::-1]:
        if line.startswith(MARKER):
            return {**json.loads(line[len(MARKER):]), **base}
    last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    return {**base, "skipped": f"failed (exit {proc.returncode}): {last}"}


def repeats_for(seconds: float) -> int:
    return 3 if seconds < 10 else 2 if seconds < 60 else 1


def label_of(engine: str, memory_limit: str | None) -> str:
    """The row label: the engine, plus DuckDB's memory limit when it is not the default."""
    if engine == "duckdb" and memory_limit and memory_limit != DEFAULT_MEMORY_LIMIT:
        return f"duckdb {memory_limit}"
    return engine


def _key(label: str, n_parts: int) -> str:
    return f"{label}:{n_parts}"


def _labels(results: dict) -> list[str]:
    found = {r.get("label", r["engine"]) for r in results.values()}
    return [x for x in ENGINES if x in found] + sorted(found - set(ENGINES))


def pandas_skip(n_parts: int, manifest: dict, results: dict, max_gib: float) -> str | None:
    """Why the pandas engine should not run this size (linear extrapolation of its peak), or None."""
    done = [r for r in results.values() if r["engine"] == "pandas" and "skipped" not in r and r["n_parts"] < n_parts]
    stopped = [r for r in results.values() if r["engine"] == "pandas" and "skipped" in r
               and r["n_parts"] < n_parts and r["skipped"].startswith(("stopped", "skipped"))]
    if stopped:
        return f"skipped: a smaller size was {stopped[0]['skipped']}"
    if not done:
        return None
    ref = max(done, key=lambda r: r["n_parts"])
    base_mb = 250.0  # interpreter + libraries
    ratio = rows_of(manifest, n_parts) / rows_of(manifest, ref["n_parts"])
    est_mb = base_mb + (ref["child_peak_mb"] - base_mb) * ratio
    avail = _mem_available_mb()
    if est_mb > max_gib * 1024:
        return (f"skipped: estimated peak {est_mb / 1024:.1f} GiB (x{ratio:.1f} of "
                f"{ref['child_peak_mb'] / 1024:.1f} GiB at {size_label(rows_of(manifest, ref['n_parts']))}) "
                f"> the {max_gib:g} GiB allowed on this 24 GiB machine")
    if est_mb > 0.8 * avail:
        return (f"skipped: estimated peak {est_mb / 1024:.1f} GiB > 80 % of the {avail / 1024:.1f} GiB "
                "available right now (shared machine)")
    return None


def run_cell(engine: str, n_parts: int, args, manifest: dict, results: dict) -> dict:
    label = size_label(rows_of(manifest, n_parts))
    code_before = code_version(engine)
    runs = []
    while True:
        r = measure(engine, n_parts, args)
        runs.append(r)
        if "skipped" in r:
            print(f"  {label:>5} {engine:<7} {r['skipped']} (after {r['child_s']:.0f} s, "
                  f"peak {r['child_peak_mb'] / 1024:.1f} GiB)", flush=True)
            break
        print(f"  {label:>5} {engine:<7} wall {r['wall_s']:8.1f} s  peak {r['peak_build_mb'] / 1024:6.2f} GiB "
              f"(with checks {r['child_peak_mb'] / 1024:.2f})  journeys {r['journeys']:,}  "
              f"paths {r['unique_paths']:,}", flush=True)
        if len(runs) >= repeats_for(min(x["wall_s"] for x in runs)):
            break
    ok = [x for x in runs if "skipped" not in x]
    best = dict(min(ok, key=lambda x: x["wall_s"])) if ok else runs[-1]
    best["runs"] = len(runs)
    best["all_wall_s"] = [round(x["wall_s"], 2) for x in ok]
    best["touch_rows"] = best.get("touch_rows") or rows_of(manifest, n_parts)
    best["date"] = _dt.datetime.now().isoformat(timespec="seconds")
    best["code"] = code_before
    if code_version(engine) != code_before:  # the timed files were edited while this cell ran
        best["code_changed"] = True
    return best


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------


def agreement(results: dict, manifest: dict) -> list[str]:
    """Compare the two engines on every size both ran: totals and the full path table."""
    import numpy as np
    import pandas as pd

    notes = []
    sizes = sorted({r["n_parts"] for r in results.values()})
    others = [x for x in _labels(results) if x != "pandas"]
    ok = lambda r: bool(r) and "skipped" not in r
    for n, other in ((n, o) for n in sizes for o in others):
        # each DuckDB row against pandas; where pandas did not run, a variant against "duckdb"
        ref = "pandas" if ok(results.get(_key("pandas", n))) else "duckdb"
        if ref == other:
            continue
        a, b = results.get(_key(ref, n)), results.get(_key(other, n))
        if not ok(a) or not ok(b):
            continue
        label = f"{size_label(rows_of(manifest, n))}, {ref} vs {other}"
        diffs = [f"{k} {a[k]:,} vs {b[k]:,}" for k in ("journeys", "touches", "conversions", "nulls", "unique_paths")
                 if a.get(k) != b.get(k)]
        if abs(a["value"] - b["value"]) > 1e-6 * max(1.0, abs(a["value"])):
            diffs.append(f"value {a['value']:,.2f} vs {b['value']:,.2f}")
        try:
            pa_, pb_ = (pd.read_parquet(ROOT / r["paths_file"]) for r in (a, b))
            same_paths = len(pa_) == len(pb_) and bool((pa_["path"].astype(str).to_numpy() == pb_["path"].astype(str).to_numpy()).all())
            if not same_paths:
                diffs.append("path tables list different paths")
            else:
                for col in ("total_conversions", "total_null"):
                    if not np.array_equal(pa_[col].to_numpy(float), pb_[col].to_numpy(float)):
                        diffs.append(f"{col} differs on {(pa_[col].to_numpy(float) != pb_[col].to_numpy(float)).sum():,} paths")
                va, vb = pa_["total_conversion_value"].to_numpy(float), pb_["total_conversion_value"].to_numpy(float)
                if not np.allclose(va, vb, rtol=1e-6, atol=1e-6):
                    diffs.append("total_conversion_value differs beyond 1e-6")
        except (OSError, KeyError, ValueError) as e:
            diffs.append(f"path tables not compared ({e})")
        if diffs:
            notes.append(f"{label}: the engines DISAGREE: " + "; ".join(diffs) + ".")
        else:
            notes.append(f"{label}: same journeys ({a['journeys']:,}), conversions ({a['conversions']:,.0f}), "
                         f"value and path table ({a['unique_paths']:,} unique paths, compared row by row).")
    return notes


def table(results: dict, manifest: dict) -> list[str]:
    lines = ["| size | touch rows | engine | wall s | read s | build s | peak RSS GiB | peak RSS with checks GiB "
             "| spill GiB | journeys | conversions | unique paths | rows returned | load |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    sizes = sorted({r["n_parts"] for r in results.values()})
    for n in sizes:
        rows = rows_of(manifest, n)
        for engine in _labels(results):
            r = results.get(_key(engine, n))
            if r is None:
                continue
            head = f"| {size_label(rows)} | {rows:,} | {engine} |"
            if "skipped" in r:
                lines.append(f"{head} {r['skipped']} | | | | | | | | | | |")
                continue
            fmt = lambda x, d=1: "" if x is None else f"{x:,.{d}f}"
            lines.append(f"{head} {fmt(r['wall_s'])} | {fmt(r.get('read_s'))} | {fmt(r.get('build_s'))} | "
                         f"{r['peak_build_mb'] / 1024:.2f} | {r['child_peak_mb'] / 1024:.2f} | "
                         f"{fmt(r.get('spill_gib'), 2)} | {r['journeys']:,} | "
                         f"{r['conversions']:,.0f} | {r['unique_paths']:,} | {r.get('journey_rows', r['journeys']):,} | {fmt(r.get('load_max'))} |")
    return lines


def machine_note() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, shared with other jobs and noisy; Python {platform.python_version()}"


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for pkg in ("numpy", "pandas", "pyarrow", "duckdb"):
        try:
            out.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            pass
    return ", ".join(out)


def code_version(engine: str) -> dict:
    """Commit and a digest of the files of attribution/ the engine runs (read-only git)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False, cwd=ROOT, capture_output=True,
                              text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        head = ""
    h = hashlib.sha256()
    for name in TIMED_FILES[engine]:
        f = ROOT / "attribution" / name
        h.update(name.encode())
        h.update(_code_of(f).encode() if f.exists() else b"")
    return {"commit": head or "unknown", "digest": h.hexdigest()[:12]}


def _code_of(path: Path) -> str:
    """The file's syntax tree without docstrings: edits to documentation do not change it."""
    import ast

    try:
        tree = ast.parse(path.read_text())
    except SyntaxError:  # mid-edit: the raw text
        return path.read_text()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def write_report(results: dict, manifest: dict, events: Path) -> str:
    totals = manifest["totals"]
    cfg = manifest["config"]
    n_all = len(manifest["parts"])
    codes = sorted({(r["engine"], r["code"]["commit"], r["code"]["digest"]) for r in results.values() if "code" in r})
    changed = sorted(f"{size_label(rows_of(manifest, r['n_parts']))} {r.get('label', r['engine'])}"
                     for r in results.values() if r.get("code_changed"))
    opts = sorted({json.dumps(r["options"]).replace(str(ROOT) + "/", "") for r in results.values()
                   if r.get("options")})
    skipped_notes = [f"{size_label(rows_of(manifest, r['n_parts']))} {r.get('label', r['engine'])}: {r['skipped']}"
                     for r in sorted(results.values(), key=lambda r: (r["n_parts"], r["engine"])) if "skipped" in r]
    dates = sorted(r["date"][:10] for r in results.values() if "date" in r)
    text = [
        "# Journeys at scale: pandas engine vs DuckDB engine on Parquet",
        "",
        f"Date: {dates[0] if dates else _dt.date.today().isoformat()}"
        + (f" to {dates[-1]}" if dates and dates[-1] != dates[0] else "") + f". Machine: {machine_note()}.",
        f"Versions: {versions()}.",
        "Code (engine, commit, digest of the code, docstrings left out, of the files of attribution/ the engine "
        "runs: journeys.py, _validation.py, and engines/{__init__, _common, _sql, duckdb}.py for DuckDB): "
        + "; ".join(f"{e} {c} {d}" for e, c, d in codes)
        + (" (runs from different code versions)" if len({e for e, _, _ in codes}) < len({(e, d) for e, _, d in codes})
           else "") + "."
        + (f" The timed files changed while these cells ran: {', '.join(changed)}." if changed else ""),
        "Commands: `python benchmarks/make_events.py` then `python benchmarks/bench_scale.py` "
        "(see the module docstrings for the method).",
        "",
        f"Data: `{events.relative_to(ROOT) if events.is_relative_to(ROOT) else events}`, made by "
        f"`benchmarks/make_events.py` (random state {cfg['random_state']}): {totals['touchpoints']:,} touch rows, "
        f"{totals['conversions']:,} conversions ({totals['identities']:,} identity links, not used here) in "
        f"{n_all} part files per table, {manifest['bytes'] / GIB:.2f} GiB of Parquet "
        f"(zstd; touchpoints {bytes_of(manifest, n_all, ('touchpoints',)) / GIB:.2f} GiB); each part is one "
        f"`simulate({cfg['people_per_part']:,})` population over 60 days, made in {manifest['wall_s']:.0f} s. "
        "A size is the first n part files.",
        "",
        "* `pandas`: `pd.read_parquet` of the files, then `Journeys.from_events(touchpoints, conversions, "
        "lookback=\"30D\")`; wall = read + build. `duckdb`: `Journeys.from_events(touch_glob, conversion_glob, "
        "lookback=\"30D\", engine=\"duckdb\", ...)` with " + (" or ".join(f"`{o}`" for o in opts) if opts else "its defaults")
        + "; wall = that call. Spill: the largest size of DuckDB's temp directory during the run.",
        "* Peak RSS: the child's `ru_maxrss` right after the journeys are built (interpreter, libraries and "
        "DuckDB's own memory included); 'with checks' adds building the aggregated path table for the "
        "comparison. Each run in a fresh process, one at a time; fastest of 3 runs under 10 s, of 2 under 60 s.",
        "* journeys: conversions + non-converting journeys; unique paths: rows of the aggregated path table "
        "(`to_paths()`); rows returned: rows of the `Journeys` the engine hands back (pandas: one per journey; "
        "DuckDB: one per unique path and conversion place, weighted by its conversions and nulls). load: the "
        "highest 1-minute load average of the machine seen during the kept run (2 cores; other jobs share it).",
        "",
        *table(results, manifest),
        "",
    ]
    agree = agreement(results, manifest)
    if agree:
        text += ["## Agreement of the engines", "", *[f"* {x}" for x in agree], ""]
    if skipped_notes:
        text += ["## Skipped or stopped", "", *[f"* {x}" for x in skipped_notes], ""]
    notes = json.loads(NOTES_JSON.read_text()) if NOTES_JSON.exists() else []
    if notes:
        text += ["## Notes", "", *[f"* {x}" for x in notes], ""]
    RESULTS_MD.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_MD.write_text("\n".join(text))
    return "\n".join(text)


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------


def _floats(s: str) -> list[float]:
    return [float(x) for x in s.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=Path, default=DEFAULT_EVENTS, help="output directory of make_events.py")
    p.add_argument("--sizes", type=_floats, default=[1e6, 3e6, 1e7, 3e7, 5e7, 1e8], help="touch rows (rounded to part files)")
    p.add_argument("--engines", default="pandas,duckdb")
    p.add_argument("--memory-limit", default=DEFAULT_MEMORY_LIMIT, help="DuckDB memory limit (passed if the engine accepts it)")
    p.add_argument("--threads", type=int, default=2, help="DuckDB threads (passed if the engine accepts it)")
    p.add_argument("--pandas-max-gib", type=float, default=16.0)
    p.add_argument("--kill-gib", type=float, default=18.0)
    p.add_argument("--time-limit", type=float, default=3600.0, help="seconds per child")
    p.add_argument("--update", action="store_true", help="merge into the saved results instead of starting afresh")
    p.add_argument("--report", action="store_true", help="only rewrite results/scale.md from the saved results")
    p.add_argument("--note", action="append", default=[],
                   help="a sentence for the report's Notes (kept with the results; a run without --update clears them)")
    p.add_argument("--one", nargs=2, metavar=("ENGINE", "N_PARTS"), help=argparse.SUPPRESS)
    p.add_argument("--child-opts", default="{}", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.events = args.events.resolve()

    if str(ROOT) not in sys.path:  # run from a checkout without installing
        sys.path.insert(0, str(ROOT))
    manifest = load_manifest(args.events)
    total_parts = len(manifest["parts"])

    if args.one:
        engine, n = args.one[0], int(args.one[1])
        rec = run_one(engine, n, args.events, total_parts, json.loads(args.child_opts))
        print(MARKER + json.dumps(rec), flush=True)
        return

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    bad = [e for e in engines if e not in ENGINES]
    if bad:
        sys.exit(f"unknown engine(s) {bad}; choose from {list(ENGINES)}")
    results = json.loads(RAW_JSON.read_text()) if (args.update or args.report) and RAW_JSON.exists() else {}
    notes = json.loads(NOTES_JSON.read_text()) if (args.update or args.report) and NOTES_JSON.exists() else []
    NOTES_JSON.parent.mkdir(parents=True, exist_ok=True)
    NOTES_JSON.write_text(json.dumps(notes + args.note, indent=1) + "\n")
    if args.report:
        print(write_report(results, manifest, args.events))
        return

    parts = sizes_to_parts(args.sizes, manifest)
    print(f"data: {args.events} ({total_parts} parts, {manifest['totals']['touchpoints']:,} touch rows); sizes: "
          + ", ".join(f"{size_label(rows_of(manifest, n))} ({n} parts)" for n in parts), flush=True)
    t_start = time.perf_counter()
    unavailable = {e: engine_available(e) for e in engines}
    for engine in engines:
        if unavailable[engine]:
            print(f"{engine}: skipped, {unavailable[engine]}", flush=True)
    engines = [e for e in engines if not unavailable[e]]
    # size by size, the engines one after the other: runs compared side by side are close in time
    # (the machine is shared and its load changes)
    for n in sorted(parts):
        for engine in engines:
            label = label_of(engine, args.memory_limit)
            why = pandas_skip(n, manifest, results, args.pandas_max_gib) if engine == "pandas" else None
            if why:
                print(f"  {size_label(rows_of(manifest, n)):>5} {label:<7} {why}", flush=True)
                results[_key(label, n)] = {"engine": engine, "label": label, "n_parts": n, "skipped": why,
                                           "date": _dt.datetime.now().isoformat(timespec="seconds")}
            else:
                results[_key(label, n)] = {**run_cell(engine, n, args, manifest, results), "label": label}
            RAW_JSON.parent.mkdir(parents=True, exist_ok=True)
            RAW_JSON.write_text(json.dumps(results, indent=1) + "\n")
            write_report(results, manifest, args.events)
    print(f"\n(total {time.perf_counter() - t_start:.0f} s)\n")
    print(write_report(results, manifest, args.events))


if __name__ == "__main__":
    main()
