"""BG/NBD + Gamma-Gamma fit time: attribution.clv vs the lifetimes package, up to 10^6 customers.

Each fit runs in a fresh process (imports included) and the two tools are interleaved; the data are
simulated RFM summaries with known parameters (attribution.datasets.simulate_customers at small n,
a direct BG/NBD draw at large n). Writes benchmarks/results/clv.md.

    python benchmarks/bench_clv.py [--sizes 10000 100000 1000000] [--no-lifetimes]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORKER = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
tool, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
r, alpha, a, b = 0.8, 8.0, 0.6, 3.0
lam = rng.gamma(r, 1 / alpha, n); p = rng.beta(a, b, n)
T = np.round(rng.uniform(26, 104, n), 1)
# BG/NBD draw: repeat purchases until death or T (vectorised rounds)
x = np.zeros(n); tx = np.zeros(n); cur = np.zeros(n); idx = np.arange(n); first = True
while idx.size:
    if not first:
        idx = idx[rng.random(idx.size) >= p[idx]]
    first = False
    nxt = cur[idx] + rng.exponential(1.0, idx.size) / lam[idx]
    ok = nxt < T[idx]; idx, nxt = idx[ok], nxt[ok]
    cur[idx] = nxt; x[idx] += 1; tx[idx] = np.round(nxt, 1)
m = np.where(x > 0, rng.gamma(6.0 * np.maximum(x, 1), 1 / rng.gamma(4.0, 1 / 15.0, n)) / np.maximum(x, 1), np.nan)
if tool == "attribution":
    from attribution.clv import BetaGeoModel, GammaGammaModel
else:
    from lifetimes import BetaGeoFitter, GammaGammaFitter
t1 = time.perf_counter()
if tool == "attribution":
    bg = BetaGeoModel().fit(x, tx, T); t2 = time.perf_counter()
    gg = GammaGammaModel().fit(x, m); t3 = time.perf_counter()
    params = bg.params_.round(4).tolist()
else:
    bg = BetaGeoFitter().fit(x, tx, T); t2 = time.perf_counter()
    GammaGammaFitter().fit(x[x > 0], m[x > 0]); t3 = time.perf_counter()
    params = bg.params_[["r", "alpha", "a", "b"]].round(4).tolist()
from attribution.clv import bgnbd_loglik
ll = float(bgnbd_loglik(params, x, tx, T).sum())
print(json.dumps({"bgnbd_s": t2 - t1, "gg_s": t3 - t2, "total_s": time.perf_counter() - t0, "params": params, "ll": ll}))
"""


def run(tool: str, n: int) -> dict:
    out = subprocess.run([sys.executable, "-c", WORKER, tool, str(n)], capture_output=True, text=True,
                         cwd=ROOT, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)}, timeout=3600)
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--no-lifetimes", action="store_true")
    ap.add_argument("--lifetimes-max", type=int, default=100_000, help="largest size also run with lifetimes")
    args = ap.parse_args()
    tools = ["attribution"] + ([] if args.no_lifetimes else ["lifetimes"])
    rows = []
    for n in args.sizes:
        for tool in [t for t in tools if t == "attribution" or n <= args.lifetimes_max]:  # interleaved
            res = run(tool, n)
            rows.append((n, tool, res))
            print(n, tool, res, flush=True)
    lines = ["# BG/NBD + Gamma-Gamma fit: attribution.clv vs lifetimes", "",
             "Simulated BG/NBD customers (r=0.8, alpha=8, a=0.6, b=3, weeks, times rounded to 0.1 week); each fit in a "
             "fresh process, tools interleaved; times are the fits alone (BG/NBD, Gamma-Gamma) and the whole process "
             "(imports and simulation included). Log-likelihood: the BG/NBD log-likelihood of each tool's "
             "parameters, evaluated by the same function.", "",
             "| customers | tool | BG/NBD fit (s) | Gamma-Gamma fit (s) | whole process (s) | r, alpha, a, b | log-likelihood |",
             "|---:|---|---:|---:|---:|---|---:|"]
    for n, tool, res in rows:
        if "error" in res:
            lines.append(f"| {n:,} | {tool} | failed: {res['error']} | | | | |")
        else:
            lines.append(f"| {n:,} | {tool} | {res['bgnbd_s']:.2f} | {res['gg_s']:.2f} | {res['total_s']:.1f} | "
                         f"{', '.join(f'{v:.3f}' for v in res['params'])} | {res['ll']:,.1f} |")
    lines += ["", f"Command: `python benchmarks/bench_clv.py --sizes {' '.join(map(str, args.sizes))}`; "
              "machine: 2 shared cores (other jobs running), so read the ratios more than the seconds."]
    out = ROOT / "benchmarks" / "results" / "clv.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
