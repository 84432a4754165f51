"""What touch types cost: ``from_events`` with and without a ``touch_type`` column (one window or
one per type), pandas and DuckDB, and click-priority rule models against the plain ones.

Not a test. Prints a markdown table and writes it to ``benchmarks/results/touch_types.md``.

    python benchmarks/bench_touch_types.py                 # 10^6 touch rows
    python benchmarks/bench_touch_types.py --touches 200000
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from attribution import Journeys
from attribution.models import get_model

from bench_journeys import make_events


def best_of(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--touches", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--engines", default="pandas,duckdb")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    tp, cv = make_events(args.touches)
    rng = np.random.default_rng(1)
    typed = tp.assign(touch_type=np.where(rng.random(len(tp)) < 0.6, "impression", "click"))
    rows = []
    variants = [
        ("no types, lookback 30D", tp, {"lookback": "30D"}),
        ("types, lookback 30D", typed, {"lookback": "30D"}),
        ("types, click 30D / impression 1D", typed, {"lookback": {"click": "30D", "impression": "1D"}}),
    ]
    journeys = {}
    for engine in args.engines.split(","):
        for label, touches, kw in variants:
            sec, j = best_of(lambda: Journeys.from_events(touches, cv, engine=engine, **kw), args.repeat)
            journeys[(engine, label)] = j
            kept = int((j.lengths * (j.conversions + j.nulls)).sum())  # the engines return unique paths with counts
            rows.append(f"| from_events ({engine}) | {label} | {sec:.2f} s | {kept:,} touches kept |")
    j = journeys[("pandas", "types, click 30D / impression 1D")]
    for spec in ["last_touch", "last_touch:click_priority=True", "linear", "linear:click_priority=True",
                 "time_decay", "time_decay:click_priority=True"]:
        sec, m = best_of(lambda: get_model(spec).fit(j), args.repeat)
        rows.append(f"| fit (pandas journeys) | {spec} | {sec:.3f} s | {j.n_touches:,} touches |")
    head = (f"Touch types, {args.touches:,} touch rows (bench_journeys.make_events, 60 % impressions), "
            f"best of {args.repeat}, 2 shared cores\n\n| step | variant | time | |\n|---|---|---|---|\n")
    text = head + "\n".join(rows) + "\n"
    print(text)
    out = Path(__file__).parent / "results" / "touch_types.md"
    out.write_text(text)


if __name__ == "__main__":
    main()
