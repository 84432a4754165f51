"""Whole-process benchmark cells: each run a fresh interpreter timing the whole script.

Used by ``bench_markov.py --process``. A *script* is the code a user runs: imports, CSV read,
the model, credits written to a CSV. The parent starts it with ``subprocess.Popen``, times it
from spawn to exit (``time.perf_counter``) and takes its peak RSS, user and system time from
``os.wait4`` (the child's own ``rusage``: ``ru_maxrss`` as ``getrusage(RUSAGE_CHILDREN)``
reports it, but for this child only). The scripts also write the time of the model step alone
(the "warm" figure: data already loaded, libraries imported) to a side file.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Whole scripts, formatted with csv, order, out (credits CSV) and side (JSON with the model-step time).
SCRIPTS = {
    "ours": """
import time, json
import pandas as pd
from attribution import Journeys, Markov
df = pd.read_csv({csv!r}, sep=";")
t = time.perf_counter()
m = Markov(order={order}).fit(Journeys.from_paths(df))
fit = time.perf_counter() - t
m.credits_.to_csv({out!r})
json.dump({{"fit_s": fit}}, open({side!r}, "w"))
""",
    "ca": """
import time, json
import pandas as pd
from ChannelAttribution import markov_model
df = pd.read_csv({csv!r}, sep=";")
t = time.perf_counter()
r = markov_model(df, "path", "total_conversions", var_value="total_conversion_value", var_null="total_null",
                 order={order}, out_more=True, verbose=False, seed=0, flg_pro=False)
fit = time.perf_counter() - t
r["result"].to_csv({out!r})
json.dump({{"fit_s": fit}}, open({side!r}, "w"))
""",
    "shapley": """
import time, json
import pandas as pd
from attribution import Journeys, Shapley
df = pd.read_csv({csv!r}, sep=";")
t = time.perf_counter()
m = Shapley(method="conversion_rate").fit(Journeys.from_paths(df))
fit = time.perf_counter() - t
m.credits_.to_csv({out!r})
json.dump({{"fit_s": fit}}, open({side!r}, "w"))
""",
    # the floor: the bare imports plus Arrow read + split + dictionary encode of the paths
    "floor": """
import numpy, scipy.sparse.linalg
import pyarrow.compute as pc, pyarrow.csv as pcsv
t = pcsv.read_csv({csv!r}, parse_options=pcsv.ParseOptions(delimiter=";"))
enc = pc.dictionary_encode(pc.list_flatten(pc.split_pattern(t["path"], ">")))
""",
}

STARTUP = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import numpy, scipy.sparse, pyarrow": [sys.executable, "-c", "import numpy, scipy.sparse, pyarrow"],
    "import pandas": [sys.executable, "-c", "import pandas"],
    "import attribution": [sys.executable, "-c", "import attribution"],
    "attribution --help": [sys.executable, "-m", "attribution.cli", "--help"],
    "attribution compare missing.csv (user error)": [sys.executable, "-m", "attribution.cli", "compare",
                                                     "missing.csv"],
    "from attribution import Journeys, Markov": [sys.executable, "-c",
                                                 "from attribution import Journeys, Markov"],
    "import ChannelAttribution": [sys.executable, "-c", "import ChannelAttribution"],
}


def run_process(cmd: list[str], cwd: Path, env: dict | None = None, timeout: float = 900.0) -> dict:
    """Run ``cmd`` to completion; wall time, peak RSS (MB), user and system CPU seconds."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    return {"wall_s": wall, "peak_mb": ru.ru_maxrss / 1024, "user_s": ru.ru_utime, "sys_s": ru.ru_stime,
            "rc": proc.returncode, "stderr": err[-2000:]}


def run_script(tool: str, csv: Path, order: int, root: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out, side = os.path.join(tmp, "credits.csv"), os.path.join(tmp, "side.json")
        code = SCRIPTS[tool].format(csv=str(csv), order=order, out=out, side=side)
        env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        res = run_process([sys.executable, "-c", code], root, env)
        if res["rc"] != 0:
            raise RuntimeError(f"{tool} on {csv.name} order {order} failed:\n{res['stderr']}")
        if os.path.exists(side):
            res.update(json.load(open(side)))
    return res


def load_average() -> str:
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def process_benchmark(cells, tools, repeats: int, root: Path, dataset_path, log=print) -> dict:
    """Interleaved runs: for each cell, ``repeats`` rounds of every tool in turn (A B C A B C ...)."""
    results = {}
    loads = [load_average()]
    floor_done = set()  # the floor does not depend on the order: measured once per data set
    for ds, order in cells:
        csv = dataset_path(ds)
        runs = {t: [] for t in tools}
        cell_tools = [t for t in tools if not (t == "floor" and ds in floor_done)]
        for _ in range(repeats):
            for t in cell_tools:
                runs[t].append(run_script(t, csv, order, root))
            loads.append(load_average())
        floor_done.add(ds)
        for t in tools:
            if runs[t]:
                results[f"{ds}|{order}|{t}"] = runs[t]
        msg = ", ".join(f"{t} {median([x['wall_s'] for x in runs[t]]):.2f} s" for t in tools if runs[t])
        log(f"  {ds} order {order}: {msg} (load {loads[-1]})")
    return {"runs": results, "loads": loads}


def shapley_benchmark(csv: Path, repeats: int, root: Path, log=print) -> dict:
    """Exact Shapley (conversion-rate game) whole process, interleaved with the floor."""
    runs = {"shapley": [], "floor": []}
    loads = [load_average()]
    for _ in range(repeats):
        for t in runs:
            runs[t].append(run_script(t, csv, 1, root))
        loads.append(load_average())
    log("  " + ", ".join(f"{t} {median([x['wall_s'] for x in v]):.2f} s" for t, v in runs.items()))
    return {"runs": runs, "loads": loads}


def shapley_table(res: dict, label: str) -> list[str]:
    s, f = res["runs"]["shapley"], res["runs"]["floor"]
    sw, fw = median([x["wall_s"] for x in s]), median([x["wall_s"] for x in f])
    return ["| data | ours s | ours peak MB | ours user+sys s | model step s | floor s | ours / floor |",
            "|---|---|---|---|---|---|---|",
            f"| {label} | {_fmt_s(sw)} | {median([x['peak_mb'] for x in s]):,.0f} | "
            f"{median([x['user_s'] + x['sys_s'] for x in s]):.2f} | {_fmt_s(median([x['fit_s'] for x in s]))} | "
            f"{_fmt_s(fw)} | {sw / fw:.2f}× |"]


def startup_benchmark(repeats: int, root: Path, log=print) -> dict:
    env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    runs = {k: [] for k in STARTUP}
    loads = [load_average()]
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            for k, cmd in STARTUP.items():
                runs[k].append(run_process(cmd, Path(tmp), env))
            loads.append(load_average())
    for k, v in runs.items():
        log(f"  {k}: {median([x['wall_s'] for x in v]):.3f} s")
    return {"runs": runs, "loads": loads}


def _fmt_s(x: float) -> str:
    return f"{x:.2f}" if x >= 0.095 else f"{x:.3f}"


def process_tables(res: dict, label) -> list[str]:
    runs = res["runs"]
    cells = []
    for key in runs:
        ds, order, _ = key.split("|")
        if (ds, order) not in cells:
            cells.append((ds, order))
    floor = {}
    for key, v in runs.items():
        ds, _, t = key.split("|")
        if t == "floor":
            floor[ds] = median([x["wall_s"] for x in v])
    out = ["| data | order | ours s | ours peak MB | ours user+sys s | ChannelAttribution s | CA peak MB | "
           "CA user+sys s | speed-up (CA / ours) | floor s | ours / floor |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    warm = ["| data | order | ours model step s | ChannelAttribution model step s | speed-up |", "|---|---|---|---|---|"]
    for ds, order in cells:
        o = runs.get(f"{ds}|{order}|ours", [])
        c = runs.get(f"{ds}|{order}|ca", [])
        if not o:
            continue
        ow, om = median([x["wall_s"] for x in o]), median([x["peak_mb"] for x in o])
        ou = median([x["user_s"] + x["sys_s"] for x in o])
        row = f"| {label(ds)} | {order} | {_fmt_s(ow)} | {om:,.0f} | {ou:.2f} | "
        if c:
            cw, cm = median([x["wall_s"] for x in c]), median([x["peak_mb"] for x in c])
            cu = median([x["user_s"] + x["sys_s"] for x in c])
            row += f"{_fmt_s(cw)} | {cm:,.0f} | {cu:.2f} | **{cw / ow:.2f}×** | "
        else:
            row += "– | – | – | – | "
        f = floor.get(ds)
        row += (f"{_fmt_s(f)} | {ow / f:.2f}× |" if f else "– | – |")
        out.append(row)
        if c and "fit_s" in o[0] and "fit_s" in c[0]:
            of, cf = median([x["fit_s"] for x in o]), median([x["fit_s"] for x in c])
            warm.append(f"| {label(ds)} | {order} | {_fmt_s(of)} | {_fmt_s(cf)} | {cf / of:.2f}× |")
    return out, warm


def startup_table(res: dict) -> list[str]:
    runs = res["runs"]
    base = median([x["wall_s"] for x in runs["import numpy, scipy.sparse, pyarrow"]])
    out = ["| command (fresh process) | median s | peak MB | vs `import numpy, scipy.sparse, pyarrow` |",
           "|---|---|---|---|"]
    for k, v in runs.items():
        w = median([x["wall_s"] for x in v])
        out.append(f"| `{k}` | {w:.3f} | {median([x['peak_mb'] for x in v]):,.0f} | {w / base:.2f}× |")
    return out
