"""Start-up of the command line and of ``import attribution``: fresh processes against ``import pandas``.

Not a test. Every command runs in a fresh interpreter (``python -c ...`` or ``python -m
attribution.cli ...``) from a scratch folder; the commands are interleaved (A B C ... A B C ...)
``--repeats`` times and the median wall time is kept, so all of them see the same load. The
ratio column divides by the median of ``python -c "import pandas"`` (issue 16: ``attribution
--help`` and every user-error path within 3x of it); a second column divides by ``import numpy,
scipy.sparse, pyarrow`` (issue 18's floor). The user-error paths are the commonest mistakes:
a missing input file, a missing ``--conversions`` file, a missing ``--config``, an unknown model
and a bad ``--lookback`` (each must exit with code 2).

It also runs ``python -X importtime -c "import attribution.cli"`` and lists which of the heavy
packages (scikit-learn, matplotlib, the simulator, pyarrow, scipy, pandas, tqdm) that import
loaded: none should be.

Run from the repository root::

    python benchmarks/bench_startup.py               # 7 interleaved rounds
    python benchmarks/bench_startup.py --repeats 15

Prints a Markdown table and writes ``benchmarks/results/startup.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import _process_bench as pb  # noqa: E402

PY = sys.executable
CLI = [PY, "-m", "attribution.cli"]
SAMPLE = ROOT / "data" / "samples"

#: (label, command, expected exit code)
COMMANDS = [
    ("python -c pass", [PY, "-c", "pass"], 0),
    ("import pandas", [PY, "-c", "import pandas"], 0),
    ("import numpy, scipy.sparse, pyarrow", [PY, "-c", "import numpy, scipy.sparse, pyarrow"], 0),
    ("import attribution", [PY, "-c", "import attribution"], 0),
    ("attribution --help", CLI + ["--help"], 0),
    ("attribution compare --help", CLI + ["compare", "--help"], 0),
    ("attribution compare missing.csv", CLI + ["compare", "missing.csv"], 2),
    ("attribution compare IN --conversions missing.csv",
     CLI + ["compare", str(SAMPLE / "touchpoints.csv"), "--conversions", "missing.csv"], 2),
    ("attribution compare --config missing.toml", CLI + ["compare", "--config", "missing.toml"], 2),
    ("attribution kpis missing.csv", CLI + ["kpis", "missing.csv"], 2),
    ("attribution compare IN --models nosuch", CLI + ["compare", str(SAMPLE / "paths.csv"), "--paths",
                                                      "--models", "nosuch"], 2),
    ("attribution compare IN --lookback 3", CLI + ["compare", str(SAMPLE / "touchpoints.csv"), "--lookback", "3"], 2),
]

HEAVY = ("sklearn", "matplotlib", "attribution.datasets._simulate", "pyarrow", "scipy", "pandas", "tqdm")


def heavy_imports(env) -> list[str]:
    """Heavy top-level packages loaded by ``import attribution.cli`` (from ``-X importtime``)."""
    res = subprocess.run([PY, "-X", "importtime", "-c", "import attribution.cli"], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True)
    names = {line.rsplit("|", 1)[-1].strip() for line in res.stderr.splitlines() if line.startswith("import time:")}
    return sorted(h for h in HEAVY if h in names or any(n.startswith(h + ".") for n in names))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args(argv)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    runs = {label: [] for label, _, _ in COMMANDS}
    loads = [pb.load_average()]
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):
            for label, cmd, code in COMMANDS:
                r = pb.run_process(cmd, Path(tmp), env)
                if r["rc"] != code:
                    raise RuntimeError(f"{label}: exit code {r['rc']} (expected {code}):\n{r['stderr']}")
                runs[label].append(r)
            loads.append(pb.load_average())
    heavy = heavy_imports(env)
    med = {k: statistics.median(x["wall_s"] for x in v) for k, v in runs.items()}
    pandas_s, floor_s = med["import pandas"], med["import numpy, scipy.sparse, pyarrow"]
    lines = [
        "# Start-up: fresh processes",
        "",
        f"Date: {_dt.date.today()}. Machine: {os.cpu_count()} cores shared with other jobs; Python "
        f"{platform.python_version()}. Command: `python benchmarks/bench_startup.py --repeats {args.repeats}` "
        f"(medians of {args.repeats} interleaved rounds; 1-minute load average {min(loads)} to {max(loads)}).",
        "",
        "| command (fresh process) | exit code | median s | peak MB | vs `import pandas` | vs `import numpy, scipy.sparse, pyarrow` |",
        "|---|---|---|---|---|---|",
    ]
    for label, _, code in COMMANDS:
        v = runs[label]
        lines.append(f"| `{label}` | {code} | {med[label]:.3f} | {statistics.median(x['peak_mb'] for x in v):,.0f} | "
                     f"{med[label] / pandas_s:.2f}× | {med[label] / floor_s:.2f}× |")
    worst = max((label for label, _, code in COMMANDS if label.startswith("attribution")), key=lambda k: med[k])
    lines += [
        "",
        f"Slowest `attribution` command: `{worst}`, {med[worst] / pandas_s:.2f}× `import pandas` (goal: within 3×).",
        "",
        "`python -X importtime -c \"import attribution.cli\"` loads of "
        f"{', '.join(HEAVY)}: {', '.join(heavy) if heavy else 'none'}.",
    ]
    out = HERE / "results" / "startup.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
