"""Side-by-side benchmark of Shapley attribution: ours vs shapley-attribution vs DP6 MAM.

Not a test. Tools compared (each through its public API only):

* ``ours:conversion_rate``: ``Shapley(method="conversion_rate")``: the exact Shapley value of
  the conversion-rate game over all ``2**n`` coalitions (subset transforms).
* ``ours:simplified``: ``Shapley()`` (Zhao's simplified Shapley, closed form).
* ``sa:simplified``: shapley-attribution's ``SimplifiedShapleyAttribution().fit(X, y)`` (the
  same game as ``ours:simplified``), fed one list of channel ids per journey (it takes no
  counts, so the path table is expanded to one row per journey).
* ``sa:montecarlo``: shapley-attribution's ``MonteCarloShapleyAttribution(n_iter=2000,
  random_state=0)``: a gradient-boosting classifier on channel presence, v(S) = predicted
  conversion probability, permutation sampling (its conversion-probability game).
* ``mam:shapley``: marketing-attribution-models ``MAM(...).run_shapley(max_size=n,
  value_column="conv_rate")``: the conversion rate of each exact channel set (0 if unseen),
  Shapley over the subsets of every observed set in Python, rescaled per set. ``max_size=n``
  keeps every channel (exact for its game).
* ``mam:shapley4``: the same with MAM's default ``max_size=4`` (each journey cut to the 4
  alphabetically last channels: fast, but not the same game).

Data: 10**6 journeys over n = 10, 15, 20, 22 channels, generated with a fixed seed in every
child (no files written): geometric path lengths (mean 4, at most 40), Zipf-like channel
popularity, conversions Bernoulli with a logistic rate in the journey's distinct channels
(random channel lifts; about 14 % convert). The journeys are aggregated into a path table
(unique paths with conversion and non-conversion counts) in the ChannelAttribution layout; that
table is every tool's common input.

Per (tool, n), in a fresh subprocess (imports not timed):

* **prepare s**: path table -> the tool's input (ours: ``Journeys.from_paths``; sa: one list of
  channel ids and one 0/1 label per journey; MAM: the ``grouped_journey`` table and the ``MAM``
  constructor).
* **fit s**: the model call on the prepared input, until the credits are out.
* **peak MB**: the child's ``ru_maxrss`` (interpreter and libraries included).
* **max |Δshare|**: the largest difference of conversion shares from ``ours`` on the same game
  (sa:simplified vs ours:simplified; the others vs ours:conversion_rate, different games: shown
  to say how far apart the answers are, not as an error).

Each child is killed after ``--timeout`` seconds (default 300) or past 12 GB of resident memory;
the table then says "did not finish in N s". Fast cells (< 5 s) are repeated 3 times, keeping
the fastest.

Run (from the repository root)::

    python benchmarks/bench_shapley.py                     # everything (up to ~1 h)
    python benchmarks/bench_shapley.py --channels 10,15 --tools ours:conversion_rate,sa:simplified
    python benchmarks/bench_shapley.py --timeout 120

Prints a Markdown table and writes it to ``benchmarks/results/shapley.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS_MD = HERE / "results" / "shapley.md"
MARKER = "@@RESULT@@ "
MEM_LIMIT_MB = 12 * 1024
N_JOURNEYS = 1_000_000
CHANNELS = (10, 15, 20, 22)
TOOLS = ("ours:conversion_rate", "ours:simplified", "sa:simplified", "sa:montecarlo", "mam:shapley", "mam:shapley4")
REFERENCE = {"sa:simplified": "ours:simplified"}  # same game; everything else vs conversion_rate
LABEL = {
    "ours:conversion_rate": "ours, conversion_rate (exact)",
    "ours:simplified": "ours, simplified (exact)",
    "sa:simplified": "shapley-attribution, Simplified",
    "sa:montecarlo": "shapley-attribution, MonteCarlo (GBM, 2000 orders)",
    "mam:shapley": "MAM, run_shapley(max_size=n)",
    "mam:shapley4": "MAM, run_shapley(max_size=4) (truncated)",
}


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------


def generate(n_journeys: int, n_channels: int):
    """Seeded journeys aggregated into a path table (DataFrame: path, total_conversions,
    total_null), plus the channel names."""
    import pandas as pd

    from attribution import Journeys

    rng = np.random.default_rng([n_journeys, n_channels, 7])
    names = np.array([f"ch{i:02d}" for i in range(n_channels)], dtype=object)
    pop = 1.0 / np.arange(1, n_channels + 1) ** 0.8
    pop /= pop.sum()
    lengths = np.minimum(rng.geometric(0.25, n_journeys), 40)
    codes = rng.choice(n_channels, size=int(lengths.sum()), p=pop).astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    lift = rng.normal(0.0, 0.5, n_channels)
    jid = np.repeat(np.arange(n_journeys), lengths)
    pairs = np.unique(jid.astype(np.int64) * n_channels + codes)
    z = -2.2 + np.bincount(pairs // n_channels, weights=lift[pairs % n_channels], minlength=n_journeys)
    conv = (rng.random(n_journeys) < 1.0 / (1.0 + np.exp(-z))).astype(float)
    j = Journeys(names, codes, offsets, conv, 1.0 - conv)
    table = (
        pd.DataFrame({"path": j.path_strings(" > "), "total_conversions": conv, "total_null": 1.0 - conv})
        .groupby("path", sort=True, as_index=False)
        .sum()
    )
    return table, names


# ---------------------------------------------------------------------------------------------
# one measurement (child process)
# ---------------------------------------------------------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class _TimeUp(Exception):
    pass


def _alarm(signum, frame):
    raise _TimeUp


def run_one(tool: str, n_channels: int, timeout: float) -> dict:
    """Generate the data, then time ``tool``; past ``timeout`` s (SIGALRM) report it unfinished."""
    table, names = generate(N_JOURNEYS, n_channels)
    out = {"tool": tool, "channels": n_channels, "paths": len(table),
           "journeys": int(table["total_conversions"].sum() + table["total_null"].sum())}
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(max(1, int(np.ceil(timeout))))
    try:
        out.update(_measure(tool, table, names, n_channels))
    except _TimeUp:
        out["skipped"] = f"did not finish in {timeout:.0f} s"
    finally:
        signal.alarm(0)
    out["peak_mb"] = _peak_mb()
    return out


def _measure(tool: str, table, names, n_channels: int) -> dict:
    import pandas as pd

    out: dict = {}
    perf = time.perf_counter
    if tool.startswith("ours:"):
        import pyarrow.compute  # noqa: F401  (imported lazily by from_paths: keep out of the timing)

        from attribution import Journeys
        from attribution.models.shapley import Shapley

        t0 = perf()
        j = Journeys.from_paths(table, value=None)
        t1 = perf()
        m = Shapley(method=tool.split(":")[1]).fit(j)
        credit = m.credits_["conversions"]
        t2 = perf()
        out["credits"] = credit.astype(float).to_dict()
        out["exact"] = bool(m.exact_)
    elif tool.startswith("sa:"):
        from shapley_attribution import MonteCarloShapleyAttribution, SimplifiedShapleyAttribution

        code = {name: i for i, name in enumerate(names)}
        t0 = perf()
        split = [[code[c] for c in p.split(" > ")] for p in table["path"]]
        X, y = [], []
        for path, c, n in zip(split, table["total_conversions"].astype(int), table["total_null"].astype(int)):
            X.extend([path] * (c + n))
            y.extend([1] * c + [0] * n)
        t1 = perf()
        if tool == "sa:simplified":
            model = SimplifiedShapleyAttribution()
        else:
            model = MonteCarloShapleyAttribution(n_iter=2000, random_state=0)
        model.fit(X, y)
        raw = model.get_attribution()
        t2 = perf()
        total = float(sum(raw.values()))
        conversions = float(sum(y))
        out["credits"] = {str(names[k]): float(v) / total * conversions for k, v in raw.items()}
    elif tool.startswith("mam:"):
        from mam import MAM

        t0 = perf()
        grouped = pd.concat(
            [pd.DataFrame({"path": table["path"], "converted": True, "occurrences": table["total_conversions"]}),
             pd.DataFrame({"path": table["path"], "converted": False, "occurrences": table["total_null"]})],
            ignore_index=True,
        )
        grouped = grouped[grouped["occurrences"] > 0].reset_index(drop=True)
        grouped["occurrences"] = grouped["occurrences"].astype(int)
        model = MAM(grouped, "grouped_journey", "path", "converted", occurrences_colname="occurrences")
        t1 = perf()
        res = model.run_shapley(max_size=n_channels if tool == "mam:shapley" else 4, value_column="conv_rate")
        credit = res.to_pandas().set_index("channels")["attribution"]
        t2 = perf()
        out["credits"] = credit.astype(float).to_dict()
    else:
        raise SystemExit(f"unknown tool {tool!r}")
    out.update(prepare_s=t1 - t0, fit_s=t2 - t1)
    return out


# ---------------------------------------------------------------------------------------------
# parent: children with a watchdog
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


def measure(tool: str, n_channels: int, timeout: float) -> dict:
    """One measurement in a fresh subprocess.

    The child generates its data (not timed), then stops itself with SIGALRM after ``timeout``
    seconds of measured work. The parent kills it past 12 GB resident, or as a backstop when
    code that does not return to the interpreter ignores the alarm (``timeout`` + 3 min)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", tool, str(n_channels), "--timeout", str(timeout)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            start_new_session=True)
    t0 = time.perf_counter()
    killed = None
    try:
        while proc.poll() is None:
            if _rss_mb(proc.pid) > MEM_LIMIT_MB:
                killed = f"stopped (memory: passed {MEM_LIMIT_MB // 1024} GB)"
            elif time.perf_counter() - t0 > timeout + 180:  # + data generation in the child
                killed = f"did not finish in {timeout:.0f} s"
            if killed:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                break
            time.sleep(0.2)
    finally:  # interrupted: do not leave the child running
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    stdout, stderr = proc.communicate()
    if killed:
        return {"tool": tool, "channels": n_channels, "skipped": killed}
    for line in stdout.splitlines()[::-1]:
        if line.startswith(MARKER):
            r = json.loads(line[len(MARKER):])
            if "skipped" not in r and r["prepare_s"] + r["fit_s"] > timeout:
                r["skipped"] = f"did not finish in {timeout:.0f} s"
            return r
    last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    return {"tool": tool, "channels": n_channels, "skipped": f"failed (exit {proc.returncode}): {last}"}


def shares(credits: dict) -> dict:
    total = sum(credits.values())
    return {k: v / total for k, v in credits.items()} if total else credits


def max_share_diff(a: dict, b: dict) -> tuple[float, str]:
    sa, sb = shares(a), shares(b)
    keys = sorted(set(sa) | set(sb))
    diffs = {k: abs(sa.get(k, 0.0) - sb.get(k, 0.0)) for k in keys}
    k = max(diffs, key=diffs.get)
    return diffs[k], k


def fmt_s(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def table_md(results: list[dict]) -> str:
    by = {(r["tool"], r["channels"]): r for r in results}
    lines = [
        "| channels | paths | tool | prepare s | fit s | total s | peak MB | max \\|Δshare\\| (vs) | speed-up (tool / ours, fit) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n in sorted({r["channels"] for r in results}):
        for tool in TOOLS:
            r = by.get((tool, n))
            if r is None:
                continue
            paths = next((x["paths"] for x in results if x["channels"] == n and "paths" in x), "")
            paths = f"{paths:,}" if paths != "" else ""
            if "skipped" in r:
                mb = f"{r['peak_mb']:.0f}" if "peak_mb" in r else ""
                lines.append(f"| {n} | {paths} | {LABEL[tool]} | | | {r['skipped']} | {mb} | | |")
                continue
            ref_tool = tool if tool.startswith("ours:") else REFERENCE.get(tool, "ours:conversion_rate")
            ref = by.get((ref_tool, n))
            diff = ""
            if ref_tool != tool and ref is not None and "credits" in ref:
                d, ch = max_share_diff(r["credits"], ref["credits"])
                diff = f"{d:.2e} ({ch}; vs {ref_tool.split(':')[1]})"
            elif tool.startswith("ours:"):
                diff = "exact" if r.get("exact") else "sampled"
            speed = ""
            if not tool.startswith("ours") and ref is not None and "fit_s" in ref:
                speed = f"{r['fit_s'] / ref['fit_s']:.0f}×"
            lines.append(
                f"| {n} | {paths} | {LABEL[tool]} | {fmt_s(r['prepare_s'])} | {fmt_s(r['fit_s'])} | "
                f"{fmt_s(r['prepare_s'] + r['fit_s'])} | {r['peak_mb']:.0f} | {diff} | {speed} |"
            )
    return "\n".join(lines)


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for pkg in ("numpy", "pandas", "pyarrow", "scikit-learn", "shapley-attribution", "marketing-attribution-models", "polars"):
        try:
            out.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            out.append(f"{pkg} (not installed)")
    return ", ".join(out)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--channels", default=",".join(map(str, CHANNELS)))
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per peer run (prepare + fit)")
    ap.add_argument("--one", nargs=2, metavar=("TOOL", "CHANNELS"), help=argparse.SUPPRESS)
    ap.add_argument("--no-write", action="store_true", help="print only; do not write results/shapley.md")
    args = ap.parse_args(argv)
    if args.one:
        result = run_one(args.one[0], int(args.one[1]), args.timeout)
        print(MARKER + json.dumps(result), flush=True)
        return
    channels = [int(c) for c in args.channels.split(",")]
    tools = [t for t in args.tools.split(",") if t]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        raise SystemExit(f"unknown tools {sorted(unknown)}; choose from {list(TOOLS)}")
    started = time.perf_counter()
    results = []
    for n in channels:
        for tool in tools:
            runs = []
            for rep in range(3):
                r = measure(tool, n, args.timeout)
                runs.append(r)
                if "skipped" in r or r["prepare_s"] + r["fit_s"] >= 5:
                    break
            ok = [r for r in runs if "skipped" not in r]
            best = min(ok, key=lambda r: r["fit_s"]) if ok else runs[0]
            results.append(best)
            status = best.get("skipped") or f"prepare {fmt_s(best['prepare_s'])} s, fit {fmt_s(best['fit_s'])} s"
            print(f"  {n:>2} channels  {tool:<22} {status}", flush=True)
    md = table_md(results)
    wall = (time.perf_counter() - started) / 60
    header = (
        "# Shapley benchmark: ours vs shapley-attribution vs MAM\n\n"
        f"Date: {_dt.date.today().isoformat()}. Machine: {os.cpu_count()} cores, shared with other jobs; "
        f"Python {platform.python_version()}.\n"
        f"Versions: {versions()}.\n"
        f"Command: `python benchmarks/bench_shapley.py {' '.join(sys.argv[1:])}`".rstrip() + f" (wall time {wall:.0f} min). "
        "See the module docstring of `benchmarks/bench_shapley.py` for the method.\n\n"
        f"* Data: {N_JOURNEYS:,} generated journeys per channel count (seeded), aggregated into a path table "
        "(`paths` = distinct paths); every tool starts from that table.\n"
        "* prepare: path table -> the tool's input; fit: the model call until credits are out. "
        "Fresh process per measurement, fastest of 3 for cells under 5 s; peak MB = the child's `ru_maxrss`.\n"
        f"* Peer runs are stopped after {args.timeout:.0f} s (\"did not finish\").\n"
        "* max |Δshare|: largest difference of conversion shares from ours on the same game "
        "(shapley-attribution Simplified vs our simplified); MAM and the GBM Monte Carlo play other games "
        "than our conversion_rate estimator, so their differences show disagreement, not error.\n"
        "* speed-up: the tool's fit time divided by ours on the same row's reference game (above 1 = ours faster).\n\n"
    )
    text = header + md + "\n"
    print()
    print(text)
    if not args.no_write:
        RESULTS_MD.parent.mkdir(parents=True, exist_ok=True)
        RESULTS_MD.write_text(text)
        print(f"written to {RESULTS_MD.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
