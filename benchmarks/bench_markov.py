"""Side-by-side benchmark of Markov removal-effect attribution: ours vs ChannelAttribution vs DP6 MAM.

Not a test. Tools compared (each through its public API only):

* ``ours``: ``attribution.models.markov.Markov(order=k)``: exact removal effects (sparse LU).
* ``ca``: ChannelAttribution's ``markov_model`` (PyPI ``channelattribution``): Monte-Carlo
  simulation with its defaults (``nsim_start=1e5``, ``nfold=10``, ``ncore=1``, ``seed=0``).
* ``mam``: DP6 marketing-attribution-models ``MAM(...).run_markov()`` (exact, first order only),
  fed the path table as ``grouped_journey`` (one converted and one non-converted row per path,
  with ``occurrences``; rows with 0 occurrences dropped).

Data sets
---------
* ``Data.csv``: ChannelAttribution's example table (``../shared/data/pathdata/Data.csv``,
  10,000 rows, 5,408 distinct paths, 12 channels).
* ``gen_<n>_<C>ch``: generated path tables of exactly ``n`` **unique** paths over ``C``
  channels (``n`` in 1e4, 1e5, 1e6; ``C`` in 10, 20), seeded numpy: geometric path lengths
  (mean about 4.5 before de-duplication), channels with Zipf-like popularity plus sequential
  structure (repeat the previous channel, or follow a sparse channel-to-channel preference
  matrix, or draw by popularity), conversions ~ Poisson with a rate set by the channels in the
  path, nulls ~ Poisson(3) (at least one of the two positive), value ~ Gamma per conversion.
  Written once to ``benchmarks/_data/`` (gitignored) in the ChannelAttribution layout
  (``path;total_conversions;total_conversion_value;total_null``, channels joined by " > ") and
  reused by later runs.

What is measured, per (data set, order, tool)
---------------------------------------------
Each measurement runs in a fresh subprocess (``--one TOOL DATASET ORDER``) that imports its
libraries first (imports are not timed) and reports:

* **end-to-end s**: CSV file in -> credits out. ours: ``pd.read_csv`` + ``Journeys.from_paths``
  + ``Markov.fit``; ca: ``pd.read_csv`` + ``markov_model``; mam: ``pd.read_csv`` + building the
  grouped table + ``MAM(...)`` + ``run_markov()``.
* **prepared s**: the model step alone on data already in the tool's input form. ours:
  ``Markov(order).fit(journeys)`` with the ``Journeys`` already built; ca: the
  ``markov_model`` call on the loaded DataFrame (it has no separate preparation step); mam:
  ``run_markov()`` on an already constructed ``MAM`` object. Phases are timed inside the
  same single run (no warm second run).
* **peak MB**: the child's ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (includes the
  interpreter and imported libraries, ~100-250 MB).
* **max |dRE|**: the largest absolute difference, over channels, between the tool's
  conversion removal effects and ours (ours is exact: ``1 - P(conv | channel removed) /
  P(conv)``). ca: its ``removal_effects_conversion`` (``out_more=True``); mam: its
  ``metadata["removal_effect"]``.
* **speed-up** (on peer rows): peer time / our time, end to end and prepared.

Runs are interleaved (ours, ca, mam for one cell, then the next cell); cells faster than 5 s
are repeated three times and cells under 60 s twice (fresh processes), keeping the fastest
time. A child is killed if its resident memory passes 15 GB or it runs past 10 minutes, and
a cell is skipped up front (said so in the table) when extrapolating the 10x smaller data
set predicts more than 15 GB, or when that smaller data set was already stopped. MAM runs above 1e5 paths only when the
extrapolated peak is under 40 % of the memory available at that moment.

Whole-process mode (``--process``)
----------------------------------
What users run is a script or a CLI call: a fresh process that pays for its imports. With
``--process`` every run is a fresh ``python -c SCRIPT`` (imports, ``pd.read_csv``, the model,
credits written to CSV), timed by the parent from spawn to exit, with the child's peak RSS and
CPU from ``os.wait4``; ours, ChannelAttribution and the *floor* (bare ``numpy``,
``scipy.sparse.linalg`` and ``pyarrow.compute`` imports plus an Arrow read, split and dictionary
encode of the paths) are interleaved, ``--repeats`` times each, and medians are reported. The
same command also times exact Shapley (10^6 journeys, 20 channels) whole process, and start-up
(``import attribution``, ``attribution --help``, ...) against bare imports. It writes
``benchmarks/results/markov_process.md`` (raw runs in ``benchmarks/_data/markov_process.json``);
the scripts are in ``benchmarks/_process_bench.py``::

    python benchmarks/bench_markov.py --process                      # ~20 min on a quiet 2-core machine
    python benchmarks/bench_markov.py --process --repeats 3 --cells gen_1e5_12ch:1+2

Run (from the repository root; several hours with everything)::

    python benchmarks/bench_markov.py                        # everything
    python benchmarks/bench_markov.py --quick                # Data.csv and 1e4 paths only
    python benchmarks/bench_markov.py --sizes 1e4,1e5 --orders 1,2 --tools ours,ca
    python benchmarks/bench_markov.py --update --sizes 1e6 --channels 20 --orders 4 --tools ca
                                                             # re-run cells, keep the others

Prints a Markdown table and writes it, with accuracy and data-set notes, to
``benchmarks/results/markov.md``; raw results are kept in ``benchmarks/_data/markov_results.json``
(``--update`` merges into them, ``--report`` rewrites the table from them without measuring).
The report records the commit and a digest of the timed files of ``attribution/`` and warns
when they changed during the run or when saved cells come from different versions.
"""

from __future__ import annotations

import argparse
import contextlib
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
DATA_DIR = HERE / "_data"
RESULTS_MD = HERE / "results" / "markov.md"
RAW_JSON = DATA_DIR / "markov_results.json"
DATA_CSV = (ROOT / ".." / "shared" / "data" / "pathdata" / "Data.csv").resolve()

MARKER = "@@RESULT@@ "
#: The package files whose code is timed (their digest is recorded with the results; the
#: package ``__init__`` files only run at import, which is not timed).
MARKOV_FILES = ("_validation.py", "exceptions.py", "journeys.py", "graph.py", "models/base.py",
                "models/markov.py")
RAW_META = DATA_DIR / "markov_meta.json"
MEM_LIMIT_MB = 15 * 1024
TIME_LIMIT_S = 600.0
TOOLS = ("ours", "ca", "mam")
TOOL_LABEL = {"ours": "ours", "ca": "ChannelAttribution", "mam": "MAM"}

CHANNEL_NAMES = [
    "paid_search", "organic_search", "display", "social", "email", "direct", "video", "affiliate",
    "retargeting", "referral", "push", "sms", "shopping", "podcast", "tv", "radio", "print",
    "partner", "app", "influencer",
]


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------


def dataset_name(n: int, n_channels: int) -> str:
    return f"gen_{n:.0e}_{n_channels}ch".replace("+0", "")  # gen_1e4_10ch


def dataset_path(name: str) -> Path:
    return DATA_CSV if name == "Data.csv" else DATA_DIR / f"{name}.csv"


def parse_dataset(name: str) -> tuple[int, int]:
    _, n, ch = name.split("_")
    return int(float(n)), int(ch[:-2])


def _draw_paths(rng: np.random.Generator, m: int, n_channels: int, pop, trans_cum):
    """``m`` random channel sequences: (codes, offsets)."""
    lengths = np.minimum(rng.geometric(0.22, m), 60)
    L = int(lengths.max())
    seq = np.full((m, L), -1, dtype=np.int16)
    pop_cum = np.cumsum(pop)
    seq[:, 0] = np.searchsorted(pop_cum, rng.random(m) * pop_cum[-1], side="right")
    for t in range(1, L):
        act = np.flatnonzero(lengths > t)
        prev = seq[act, t - 1].astype(np.int64)
        u = rng.random(len(act))
        nxt = np.searchsorted(pop_cum, rng.random(len(act)) * pop_cum[-1], side="right")
        follow = (u >= 0.2) & (u < 0.65)  # 45 %: the preference matrix of the previous channel
        cum = trans_cum[prev[follow]]
        nxt[follow] = (rng.random(int(follow.sum()))[:, None] > cum).sum(axis=1)
        repeat = u < 0.2  # 20 %: the same channel again
        nxt[repeat] = prev[repeat]
        seq[act, t] = np.minimum(nxt, n_channels - 1)
    mask = np.arange(L)[None, :] < lengths[:, None]
    codes = seq[mask].astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return codes, offsets


def generate(n_paths: int, n_channels: int):
    """A path table of exactly ``n_paths`` unique paths over ``n_channels`` channels (seeded)."""
    import pandas as pd

    rng = np.random.default_rng([n_paths, n_channels, 2024])
    names = np.array(CHANNEL_NAMES[:n_channels], dtype=object)
    pop = 1.0 / np.arange(1, n_channels + 1) ** 0.9
    pop /= pop.sum()
    trans = rng.dirichlet(np.full(n_channels, 0.3), n_channels)  # sparse-ish preferences
    trans_cum = np.cumsum(trans, axis=1)
    trans_cum[:, -1] = 1.0
    beta = rng.normal(0.0, 0.6, n_channels)  # channel effect on the conversion rate

    seen: dict[str, None] = {}
    all_codes, all_len = [], []
    while len(seen) < n_paths:
        m = int((n_paths - len(seen)) * 1.4) + 1000
        codes, offsets = _draw_paths(rng, m, n_channels, pop, trans_cum)
        tokens = names[codes]
        for i in range(m):
            a, b = offsets[i], offsets[i + 1]
            s = " > ".join(tokens[a:b])
            if s not in seen:
                seen[s] = None
                all_codes.append(codes[a:b])
                all_len.append(b - a)
                if len(seen) == n_paths:
                    break
    paths = list(seen)
    lengths = np.asarray(all_len)
    codes = np.concatenate(all_codes)
    jid = np.repeat(np.arange(n_paths), lengths)
    mean_beta = np.bincount(jid, weights=beta[codes], minlength=n_paths) / lengths
    rate = 0.35 * np.exp(mean_beta + 0.08 * np.minimum(lengths - 1, 10))
    conv = rng.poisson(rate)
    nulls = rng.poisson(3.0, n_paths)
    nulls[(conv == 0) & (nulls == 0)] = 1
    value = np.where(conv > 0, rng.gamma(2.0 * np.maximum(conv, 1), 40.0), 0.0).round(2)
    return pd.DataFrame({"path": paths, "total_conversions": conv, "total_conversion_value": value,
                         "total_null": nulls})


def _parent_peak_mb() -> float:
    """This process's peak RSS in MB (a floor under every child's ``ru_maxrss`` on Linux)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ensure_dataset(name: str) -> Path:
    path = dataset_path(name)
    if path.exists():
        return path
    n, ch = parse_dataset(name)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    df = generate(n, ch)
    assert df["path"].is_unique and len(df) == n
    tmp = path.with_suffix(".tmp")
    df.to_csv(tmp, sep=";", index=False)
    tmp.replace(path)
    lengths = df["path"].str.count(" > ") + 1
    print(f"  generated {name}: {n:,} unique paths, {ch} channels, mean length {lengths.mean():.2f}, "
          f"{df.total_conversions.sum():,} conversions, {df.total_null.sum():,} nulls "
          f"({time.perf_counter() - t:.0f} s)", flush=True)
    return path


# ---------------------------------------------------------------------------------------------
# one measurement (child process)
# ---------------------------------------------------------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


@contextlib.contextmanager
def _quiet_stdout():
    """Silence Python- and C-level stdout (ChannelAttribution's banner)."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        with contextlib.redirect_stdout(open(os.devnull, "w")):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def run_one(tool: str, dataset: str, order: int) -> dict:
    import pandas as pd

    csv = dataset_path(dataset)
    out = {"tool": tool, "dataset": dataset, "order": order}
    perf = time.perf_counter
    if tool == "ours":
        import pyarrow  # noqa: F401  (imported lazily by from_paths; keep imports out of the timing)
        import pyarrow.compute  # noqa: F401
        import scipy.sparse.linalg  # noqa: F401

        from attribution import Journeys
        from attribution.models.markov import Markov

        out["import_mb"] = _peak_mb()
        t0 = perf()
        df = pd.read_csv(csv, sep=";")
        t1 = perf()
        j = Journeys.from_paths(df)
        t2 = perf()
        m = Markov(order=order).fit(j)
        credits = m.credits_
        t3 = perf()
        re = m.removal_effects_
        out["re"] = re["conversions"].astype(float).to_dict()
        out["re_value"] = re["value"].astype(float).to_dict()
        out["credits"] = credits["conversions"].astype(float).to_dict()
        out["n_states"] = int(m._tc.n_states) if "_tc" in m.__dict__ else None
    elif tool == "ca":
        with _quiet_stdout():
            from ChannelAttribution import markov_model
        out["import_mb"] = _peak_mb()
        t0 = perf()
        df = pd.read_csv(csv, sep=";")
        t1 = t2 = perf()
        with _quiet_stdout():
            r = markov_model(df, "path", "total_conversions", var_value="total_conversion_value",
                             var_null="total_null", order=order, out_more=True, verbose=False, seed=0,
                             flg_pro=False)
        t3 = perf()
        re = r["removal_effects"].set_index("channel_name")
        out["re"] = re["removal_effects_conversion"].astype(float).to_dict()
        out["re_value"] = re["removal_effects_conversion_value"].astype(float).to_dict()
        out["credits"] = r["result"].set_index("channel_name")["total_conversions"].astype(float).to_dict()
    elif tool == "mam":
        if order != 1:
            raise SystemExit("MAM's Markov model is first order only")
        import polars  # noqa: F401
        from mam import MAM

        out["import_mb"] = _peak_mb()
        t0 = perf()
        df = pd.read_csv(csv, sep=";")
        t1 = perf()
        grouped = pd.concat(
            [pd.DataFrame({"path": df["path"], "converted": True, "occurrences": df["total_conversions"]}),
             pd.DataFrame({"path": df["path"], "converted": False, "occurrences": df["total_null"]})],
            ignore_index=True,
        )
        grouped = grouped[grouped["occurrences"] > 0].reset_index(drop=True)
        model = MAM(grouped, "grouped_journey", "path", "converted", occurrences_colname="occurrences")
        t2 = perf()
        res = model.run_markov()
        credits = res.to_pandas()
        t3 = perf()
        re = res.metadata["removal_effect"]["removal_effect"]
        out["re"] = re.astype(float).to_dict()
        out["credits"] = credits.set_index("channels")["attribution"].astype(float).to_dict()
    else:
        raise SystemExit(f"unknown tool {tool!r}")
    out.update(read_s=t1 - t0, prepare_s=t2 - t1, fit_s=t3 - t2, e2e_s=t3 - t0, prepared_s=t3 - t2,
               peak_mb=_peak_mb(), n_rows=len(df))
    return out


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


def _mem_available_mb() -> float:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    return float("inf")


def measure(tool: str, dataset: str, order: int) -> dict:
    """Run one measurement in a fresh subprocess; kill it past 15 GB RSS or 10 minutes."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", tool, dataset, str(order)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            start_new_session=True)
    killed = None
    rss_max = 0.0
    try:
        while proc.poll() is None:
            rss = _rss_mb(proc.pid)
            rss_max = max(rss_max, rss)
            if rss > MEM_LIMIT_MB:
                killed = f"stopped (memory: passed {MEM_LIMIT_MB / 1024:.0f} GB)"
            elif time.perf_counter() - t0 > TIME_LIMIT_S:
                killed = f"stopped (time: passed {TIME_LIMIT_S / 60:.0f} min)"
            if killed:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                break
            time.sleep(0.1)
    finally:  # interrupted (Ctrl-C, SIGTERM): do not leave the child running
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    stdout, stderr = proc.communicate()
    if killed:
        return {"tool": tool, "dataset": dataset, "order": order, "skipped": killed,
                "peak_mb": rss_max, "e2e_s": time.perf_counter() - t0}
    for line in stdout.splitlines()[::-1]:
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER):])
    return {"tool": tool, "dataset": dataset, "order": order,
            "skipped": f"failed (exit {proc.returncode}): {stderr.strip().splitlines()[-1] if stderr.strip() else ''}"}


def _key(r) -> str:
    return f"{r['dataset']}|{r['order']}|{r['tool']}"


def predicted_skip(tool: str, dataset: str, order: int, results: dict) -> str | None:
    """Skip reason from extrapolating the 10x smaller generated data set (same tool/channels/order)."""
    if dataset == "Data.csv":
        return None
    n, ch = parse_dataset(dataset)
    smaller = results.get(f"{dataset_name(n // 10, ch)}|{order}|{tool}")
    if smaller is None:
        return None
    if "skipped" in smaller:
        if "time" in smaller["skipped"] or "memory" in smaller["skipped"]:
            return f"skipped ({smaller['skipped'].split('(')[1].split(':')[0]}: smaller data set already stopped)"
        return None
    base = smaller.get("import_mb", 200.0)
    est_mb = base + 10 * (smaller["peak_mb"] - base)
    if est_mb > MEM_LIMIT_MB:
        return f"skipped (memory: ~{est_mb / 1024:.0f} GB extrapolated > 15 GB)"
    if tool == "mam" and est_mb > 0.4 * _mem_available_mb():
        return (f"skipped (memory: ~{est_mb / 1024:.1f} GB extrapolated, more than 40 % of the "
                f"{_mem_available_mb() / 1024:.0f} GB available)")
    # no skip on extrapolated time: run time follows the state graph (orders, channels, fill-in of
    # the LU factors), not the row count, so it is left to the 10-minute watchdog
    return None


def repeats_for(seconds: float) -> int:
    return 3 if seconds < 5 else 2 if seconds < 60 else 1


def merge_runs(runs: list[dict]) -> dict:
    ok = [r for r in runs if "skipped" not in r]
    if not ok:
        return runs[0]
    best = dict(min(ok, key=lambda r: r["e2e_s"]))
    best["prepared_s"] = min(r["prepared_s"] for r in ok)
    best["peak_mb"] = max(r["peak_mb"] for r in ok)
    best["runs"] = len(ok)
    best["e2e_all"] = [round(r["e2e_s"], 3) for r in ok]
    return best


def run_cell(dataset: str, order: int, tools: list[str], results: dict) -> None:
    """Measure every tool on one (data set, order), interleaved, with repeats for fast cells."""
    todo = [t for t in tools if not (t == "mam" and order != 1)]
    runs: dict[str, list[dict]] = {t: [] for t in todo}
    active = []
    for tool in todo:
        why = predicted_skip(tool, dataset, order, results)
        if why:
            runs[tool].append({"tool": tool, "dataset": dataset, "order": order, "skipped": why})
            print(f"  {dataset:>14} order {order} {TOOL_LABEL[tool]:>18}: {why}", flush=True)
        else:
            active.append(tool)
    rnd = 0
    while active:
        rnd += 1
        still = []
        for tool in active:
            r = measure(tool, dataset, order)
            runs[tool].append(r)
            if "skipped" in r:
                print(f"  {dataset:>14} order {order} {TOOL_LABEL[tool]:>18}: {r['skipped']}", flush=True)
                continue
            print(f"  {dataset:>14} order {order} {TOOL_LABEL[tool]:>18}: run {rnd}: end-to-end "
                  f"{r['e2e_s']:8.3f} s, prepared {r['prepared_s']:8.3f} s, peak {r['peak_mb']:7.0f} MB",
                  flush=True)
            if rnd < repeats_for(min(x["e2e_s"] for x in runs[tool] if "skipped" not in x)):
                still.append(tool)
        active = still
    for tool in todo:
        results[f"{dataset}|{order}|{tool}"] = merge_runs(runs[tool])


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------


def max_abs_diff(re_peer: dict, re_ours: dict) -> tuple[float, str]:
    worst, where = 0.0, ""
    for ch in set(re_ours) | set(re_peer):
        d = abs(re_peer.get(ch, 0.0) - re_ours.get(ch, 0.0))
        if d > worst:
            worst, where = d, ch
    return worst, where


def _fmt_s(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def table(results: dict, datasets: list[str], orders: list[int], tools: list[str]) -> list[str]:
    head = ["data", "paths", "channels", "order", "tool", "end-to-end s", "prepared s", "peak MB",
            "max |ΔRE|", "speed-up (tool / ours: e2e, prepared)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for ds in datasets:
        for k in orders:
            ours = results.get(f"{ds}|{k}|ours")
            for tool in tools:
                r = results.get(f"{ds}|{k}|{tool}")
                if r is None:
                    continue
                paths = f"{r['n_rows']:,}" if "n_rows" in r else (
                    f"{parse_dataset(ds)[0]:,}" if ds != "Data.csv" else "10,000")
                ch = str(parse_dataset(ds)[1]) if ds != "Data.csv" else "12"
                row = [ds, paths, ch, str(k), TOOL_LABEL[tool]]
                if "skipped" in r:
                    row += [r["skipped"], "", "", "", ""]
                else:
                    ok_ours = ours is not None and "skipped" not in ours
                    if tool == "ours":
                        dre = "0 (exact)"
                        spd = ""
                    elif ok_ours:
                        d, where = max_abs_diff(r["re"], ours["re"])
                        dre = f"{d:.2e} ({where})"
                        spd = f"{r['e2e_s'] / ours['e2e_s']:.1f}×, {r['prepared_s'] / ours['prepared_s']:.1f}×"
                    else:
                        dre, spd = "n/a", "n/a"
                    row += [_fmt_s(r["e2e_s"]), _fmt_s(r["prepared_s"]), f"{r['peak_mb']:,.0f}", dre, spd]
                lines.append("| " + " | ".join(row) + " |")
    return lines


def value_re_notes(results: dict) -> list[str]:
    """Largest conversion-value removal-effect difference of ChannelAttribution per cell."""
    out = []
    for key, r in sorted(results.items()):
        ds, k, tool = key.split("|")
        ours = results.get(f"{ds}|{k}|ours")
        if tool != "ca" or "skipped" in r or ours is None or "skipped" in ours:
            continue
        d, where = max_abs_diff(r.get("re_value", {}), ours.get("re_value", {}))
        out.append(f"{ds} order {k}: {d:.2e} ({where})")
    return out


def accuracy_notes(results: dict) -> list[str]:
    """Summary of the peers' removal-effect and credit differences from ours, over all cells."""
    import numpy as np

    out = []
    for tool in ("ca", "mam"):
        diffs, credit_rel, n = [], [], 0
        for key, r in results.items():
            ds, k, t = key.split("|")
            ours = results.get(f"{ds}|{k}|ours")
            if t != tool or "skipped" in r or ours is None or "skipped" in ours:
                continue
            n += 1
            chs = sorted(ours["re"])
            diffs += [r["re"].get(c, 0.0) - ours["re"][c] for c in chs]
            total = sum(ours["credits"].get(c, 0.0) for c in chs)
            if total > 0:
                credit_rel.append(max(abs(r["credits"].get(c, 0.0) - ours["credits"].get(c, 0.0))
                                      for c in chs) / total)
        if not n:
            continue
        d = np.asarray(diffs)
        line = (f"{TOOL_LABEL[tool]} vs ours over {n} cells, {len(d)} channel removal effects: "
                f"mean signed difference {d.mean():+.1e}, SD {d.std():.1e}, max |difference| "
                f"{np.abs(d).max():.1e}; largest per-channel conversion-credit difference "
                f"{100 * max(credit_rel):.2f} % of total conversions")
        if tool == "ca":
            line += (" (its Monte-Carlo answer is one fold of ~10,000 simulated walks, so the error does "
                     "not shrink with more data)")
        if tool == "mam":
            line += (" (same removal effects; MAM spreads each journey's conversions over its touches in "
                     "proportion to their removal effects, repeats counted, instead of total × RE / ΣRE)")
        out.append(line + ".")
    return out


def dataset_notes(results: dict) -> list[str]:
    """One line per data set: size, path lengths, conversions, and our chain's states per order."""
    import pandas as pd

    names = sorted({k.split("|")[0] for k in results},
                   key=lambda d: (d != "Data.csv", parse_dataset(d) if d != "Data.csv" else (0, 0)))
    out = ["| data | rows | distinct paths | channels | mean length | conversions | nulls | states at order 1/2/3/4 |",
           "|---|---|---|---|---|---|---|---|"]
    for ds in names:
        path = dataset_path(ds)
        if not path.exists():
            continue
        df = pd.read_csv(path, sep=";")
        toks = df["path"].str.split(">")
        n_ch = len({t.strip() for row in toks for t in row}) if len(df) <= 10**5 else parse_dataset(ds)[1]
        states = "/".join(str(results.get(f"{ds}|{k}|ours", {}).get("n_states", "?")) for k in (1, 2, 3, 4))
        out.append(f"| {ds} | {len(df):,} | {df['path'].nunique():,} | {n_ch} | {toks.str.len().mean():.2f} | "
                   f"{df['total_conversions'].sum():,} | {df['total_null'].sum():,} | {states} |")
    return out


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
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GB RAM, shared and noisy; Python {platform.python_version()}"


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for pkg in ("numpy", "scipy", "pandas", "pyarrow", "channelattribution", "marketing-attribution-models",
                "polars"):
        try:
            out.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            pass
    return ", ".join(out)


def code_version() -> dict:
    """Commit of the repository and a digest of the files the Markov model runs on (read-only)."""
    import hashlib

    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        head = "unknown"
    h = hashlib.sha256()
    for name in MARKOV_FILES:
        f = ROOT / "attribution" / name
        h.update(f.read_bytes() if f.exists() else b"")
    return {"commit": head or "unknown", "attribution_sha256": h.hexdigest()[:12]}


def write_report(lines: list[str], results: dict, total_s: float, argv: list[str],
                 version: dict | None = None) -> None:
    RESULTS_MD.parent.mkdir(parents=True, exist_ok=True)
    vnotes = value_re_notes(results)
    text = [
        "# Markov benchmark: ours vs ChannelAttribution vs MAM",
        "",
        f"Date: {_dt.date.today().isoformat()}. Machine: {machine_note()}.",
        f"Versions: {versions()}.",
        *([f"Code: commit {version['commit']}, digest of the timed files of attribution/ "
           f"{version['attribution_sha256']}"
           + (" (CHANGED during the run: timings mix code versions)" if version.get("changed") else "")
           + "." + (f" {version['note']}." if version.get("note") else "")] if version else []),
        "Command: `" + ("python benchmarks/bench_markov.py " + " ".join(argv)).strip() + "` (wall time of the run: "
        f"{total_s / 60:.1f} min). See the module docstring of `benchmarks/bench_markov.py` for the method.",
        "",
        "* end-to-end: CSV file in -> credits out (read_csv included, imports not); prepared: the "
        "model step alone (ours: `Markov.fit` on built `Journeys`; ChannelAttribution: the "
        "`markov_model` call on the loaded DataFrame; MAM: `run_markov()` on a built `MAM`).",
        "* Each measurement in a fresh process; fastest of 3 runs below 5 s, of 2 below 60 s. Peak MB is "
        "the child's `ru_maxrss` (interpreter and libraries included).",
        "* max |ΔRE|: largest absolute difference of the conversion removal effects from ours (exact), "
        "with the channel where it occurs. ChannelAttribution: `removal_effects_conversion` "
        "(Monte-Carlo, defaults nsim_start=1e5, nfold=10, ncore=1, seed=0); MAM: "
        "`metadata['removal_effect']` (first order only).",
        "* speed-up: the tool's time divided by ours (above 1 = ours faster).",
        "",
        *lines,
        "",
    ]
    text += ["## Accuracy", "", *[f"* {x}" for x in accuracy_notes(results)]]
    if vnotes:
        text += ["* ChannelAttribution, largest |ΔRE| of the conversion-value removal effects: "
                 + "; ".join(vnotes) + "."]
    text += ["", "## Data sets", "",
             "Generated tables: exactly n unique paths; lengths are drawn geometric with mean 4.5 before "
             "de-duplication, and de-duplication keeps mostly longer paths (there are only C + C² paths of "
             "length ≤ 2), hence the longer means below.", "", *dataset_notes(results), ""]
    RESULTS_MD.write_text("\n".join(text))


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------


def _ints(s: str) -> list[int]:
    return [int(float(x)) for x in s.split(",") if x]


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--one"]:
        tool, dataset, order = argv[1], argv[2], int(argv[3])
        res = run_one(tool, dataset, order)
        sys.stdout.flush()
        print(MARKER + json.dumps(res), flush=True)
        return

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1e4,1e5,1e6", help="generated table sizes (unique paths)")
    p.add_argument("--channels", default="10,20", help="channel counts of the generated tables")
    p.add_argument("--orders", default="1,2,3,4")
    p.add_argument("--tools", default="ours,ca,mam")
    p.add_argument("--quick", action="store_true", help="Data.csv and 1e4 paths only")
    p.add_argument("--no-datacsv", action="store_true", help="leave out Data.csv")
    p.add_argument("--update", action="store_true",
                   help="merge into the saved raw results (re-run some cells, keep the rest)")
    p.add_argument("--report", action="store_true",
                   help="only rewrite the table and results/markov.md from the saved raw results")
    p.add_argument("--process", action="store_true",
                   help="whole-process mode: every run a fresh script (imports, CSV read, fit, credits "
                        "written), ours / ChannelAttribution / the floor interleaved; writes "
                        "results/markov_process.md (see benchmarks/_process_bench.py)")
    p.add_argument("--repeats", type=int, default=5, help="runs per tool and cell in --process mode")
    p.add_argument("--cells", default=PROCESS_CELLS,
                   help="--process cells as DATASET:ORDER[+ORDER...] separated by commas")
    args = p.parse_args(argv)
    if args.process:
        process_main(args, argv)
        return
    if args.report:
        report(json.loads(RAW_JSON.read_text()),
               json.loads(RAW_META.read_text()) if RAW_META.exists() else {})
        return

    sizes = [10_000] if args.quick else _ints(args.sizes)
    channels = _ints(args.channels)
    orders = _ints(args.orders)
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    bad = [t for t in tools if t not in TOOLS]
    if bad:
        p.error(f"unknown tools {bad}; choose from {TOOLS}")
    datasets = ([] if args.no_datacsv else ["Data.csv"]) + [
        dataset_name(n, c) for n in sorted(sizes) for c in channels]

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the children's clean-up
    version = code_version()
    t_start = time.perf_counter()
    results: dict = {}
    if args.update and RAW_JSON.exists():
        results = json.loads(RAW_JSON.read_text())
        for ds in datasets:  # the cells re-run now are measured afresh
            for k in orders:
                for t in tools:
                    results.pop(f"{ds}|{k}|{t}", None)
    print(f"Markov benchmark: {', '.join(datasets)}; orders {orders}; tools {tools}", flush=True)
    for ds in datasets:
        ensure_dataset(ds)
        for k in orders:
            run_cell(ds, k, tools, results)
            for t in tools:
                if f"{ds}|{k}|{t}" in results:
                    results[f"{ds}|{k}|{t}"].setdefault("code", version["attribution_sha256"])
            DATA_DIR.mkdir(parents=True, exist_ok=True)
            RAW_JSON.write_text(json.dumps(results, indent=1))
    total = time.perf_counter() - t_start
    after = code_version()
    meta = {"argv": argv, "total_s": total, "version": version, "date": _dt.date.today().isoformat()}
    if after["attribution_sha256"] != version["attribution_sha256"]:
        meta["version"] = {**after, "changed": True}
        print(f"WARNING: the timed files of attribution/ changed during the run ({after}); timings "
              "mix code versions", flush=True)
    if args.update and RAW_META.exists():
        old_meta = json.loads(RAW_META.read_text())
        meta["argv"] = old_meta.get("argv", []) + ["+"] + argv
        meta["total_s"] = old_meta.get("total_s", 0.0) + total
    RAW_META.write_text(json.dumps(meta, indent=1))
    report(results, meta)


#: Default cells of --process mode: the sizes of issue 18's table.
PROCESS_CELLS = "gen_1e5_12ch:1+2+3,gen_1e5_20ch:1,gen_1e6_20ch:1+2+3"
PROCESS_MD = HERE / "results" / "markov_process.md"
PROCESS_JSON = DATA_DIR / "markov_process.json"


def ensure_shapley_table() -> Path:
    """The path table of bench_shapley.py's 10^6 journeys over 20 channels, as a CSV (written once)."""
    path = DATA_DIR / "shapley_1e6_20ch.csv"
    if not path.exists():
        sys.path.insert(0, str(HERE))
        import bench_shapley

        table, _ = bench_shapley.generate(10**6, 20)
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        table.to_csv(path.with_suffix(".tmp"), sep=";", index=False)
        path.with_suffix(".tmp").replace(path)
    return path


def process_main(args, argv) -> None:
    """``--process``: whole-process timings (fresh interpreter per run), then the startup table."""
    sys.path.insert(0, str(HERE))
    import _process_bench as pb

    cells = []
    for item in args.cells.split(","):
        ds, _, orders = item.strip().partition(":")
        cells += [(ds, int(k)) for k in (orders or "1").split("+")]
    tools = [t for t in ("ours", "ca", "floor") if t == "ours" or t == "floor" or "ca" in args.tools]
    for ds in dict.fromkeys(c[0] for c in cells):
        ensure_dataset(ds)
    version = code_version()
    t0 = time.perf_counter()
    print(f"Whole-process Markov benchmark: {cells}; tools {tools}; {args.repeats} interleaved runs each "
          f"(load average {open('/proc/loadavg').read().split()[:3]})", flush=True)
    res = pb.process_benchmark(cells, tools, args.repeats, ROOT, dataset_path)
    print("Exact Shapley, 10^6 journeys, 20 channels:", flush=True)
    shap_csv = ensure_shapley_table()
    shap = pb.shapley_benchmark(shap_csv, args.repeats, ROOT)
    print("Startup:", flush=True)
    start = pb.startup_benchmark(max(args.repeats, 5), ROOT)
    total = time.perf_counter() - t0
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    PROCESS_JSON.write_text(json.dumps({"markov": res, "shapley": shap, "startup": start, "version": version},
                                       indent=1))

    def label(ds):
        if ds == "Data.csv":
            return "Data.csv (10,000 rows, 12 channels)"
        n, c = parse_dataset(ds)
        return f"{n:,} unique paths, {c} channels"

    main_rows, warm_rows = pb.process_tables(res, label)
    shap_rows = sum(1 for _ in open(shap_csv)) - 1
    loads = res["loads"] + shap["loads"] + start["loads"]
    text = [
        "# Markov, whole process: ours vs ChannelAttribution",
        "",
        f"Date: {_dt.date.today().isoformat()}. Machine: {machine_note()}. Load average (1/5/15 min) during the "
        f"run: from {loads[0]} to {loads[-1]}, highest 1-min {max(float(x.split()[0]) for x in loads):.1f}.",
        f"Versions: {versions()}. Code: commit {version['commit']}.",
        "Command: `python benchmarks/bench_markov.py " + " ".join(argv) + f"` ({total / 60:.1f} min).",
        "",
        "Every run is a fresh `python -c SCRIPT`: imports, `pd.read_csv`, the model, credits written to a CSV "
        "(ours: `Markov(order).fit(Journeys.from_paths(df))`; ChannelAttribution 2.x: `markov_model(df, ..., "
        "order, out_more=True, seed=0)`, its defaults: Monte Carlo, nsim_start=1e5). Time: wall clock from "
        "spawn to exit in the parent; peak MB: the child's `ru_maxrss` (`os.wait4`); user+sys: the child's CPU "
        f"seconds. Medians of {args.repeats} runs per tool, interleaved (ours, ChannelAttribution, floor, ours, "
        "...). Floor: `import numpy, scipy.sparse.linalg, pyarrow.compute` plus an Arrow CSV read, split and "
        "dictionary encode of the paths (once per data set). "
        f"This parent's own peak RSS was {_parent_peak_mb():,.0f} MB: on Linux a child's `ru_maxrss` starts "
        "from its parent's peak at spawn, so a peak column equal to that figure everywhere is the parent's, not "
        "the tool's (generate the data sets in an earlier run, then measure).",
        "",
        *main_rows,
        "",
        "## Model step only (warm: data loaded, libraries imported)",
        "",
        "Measured inside the same runs: ours `Markov.fit(Journeys.from_paths(df))` (path parsing included); "
        "ChannelAttribution the `markov_model` call.",
        "",
        *warm_rows,
        "",
        "## Exact Shapley, whole process",
        "",
        "`Shapley(method=\"conversion_rate\").fit(Journeys.from_paths(df))` (the exact Shapley value of the "
        "conversion-rate game over all 2^20 coalitions) on the path table of `bench_shapley.py`'s 10^6 "
        f"journeys over 20 channels ({shap_rows:,} unique paths), same script shape as above; interleaved with "
        "the floor.",
        "",
        *pb.shapley_table(shap, "10^6 journeys, 20 channels"),
        "",
        "## Start-up",
        "",
        f"Fresh processes, medians of {max(args.repeats, 5)} interleaved runs. `attribution compare missing.csv` "
        "is a user-error path (exit code 2).",
        "",
        *pb.startup_table(start),
        "",
    ]
    PROCESS_MD.parent.mkdir(parents=True, exist_ok=True)
    PROCESS_MD.write_text("\n".join(text))
    print("\n".join(text))


def report(results: dict, meta: dict) -> None:
    """Print the table of every saved cell and write ``results/markov.md``."""
    version = dict(meta.get("version") or {})
    codes = {r.get("code") for r in results.values()}
    if len(codes) > 1:
        print(f"WARNING: the saved cells were measured on {len(codes)} versions of the timed files "
              "(re-run without --update for one version)", flush=True)
        version["changed"] = True
    keys = [k.split("|") for k in results]
    order_ds = ["Data.csv"] + [dataset_name(n, c) for n in (10**4, 10**5, 10**6) for c in (10, 20)]
    all_ds = [d for d in order_ds if any(k[0] == d for k in keys)]
    all_orders = sorted({int(k[1]) for k in keys})
    all_tools = [t for t in TOOLS if any(k[2] == t for k in keys)]
    lines = table(results, all_ds, all_orders, all_tools)
    print()
    print("\n".join(lines))
    vnotes = value_re_notes(results)
    if vnotes:
        print("\nChannelAttribution |ΔRE| of value removal effects: " + "; ".join(vnotes))
    total = meta.get("total_s", 0.0)
    print(f"\nTotal run time: {total / 60:.1f} min. Written to {RESULTS_MD.relative_to(ROOT)}")
    write_report(lines, results, total, meta.get("argv", []), version)

if __name__ == "__main__":
    main()
