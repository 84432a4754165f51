"""Validity scorecard study: grades per channel in each simulator regime, and what the
diagnostics-only estimator choice (``select_estimator``) picks.

For each regime and seed, the default causal model (``get_model("causal")``) and AIPW are fitted
and scored with ``at.validity``; the grades are tallied per channel beside the channel's true
incremental conversions. Then ``select_estimator`` chooses between the causal model's two units
(``unit="time"``, ``unit="journey"``) by statistics of the data only (the unit check against
market persistence, then the scorecards); the truth (TVD of each unit's
shares to the true incremental shares) is reported next to the choice, never used by it.

Run::

    PYTHONPATH=. nice -n 5 python benchmarks/bench_validity.py --seeds 5 --customers 3000

It writes ``benchmarks/results/validity.md``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import attribution as at
from attribution.decisions.scorecard import select_estimator


def markdown(df: pd.DataFrame, index: bool = True) -> str:
    """A DataFrame as a GitHub markdown table (no tabulate needed)."""
    d = df.reset_index() if index else df
    cols = [str(c) for c in d.columns]
    rows = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in d.itertuples(index=False):
        rows.append("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in r) + " |")
    return "\n".join(rows)


def tvd(est: pd.Series, truth: pd.Series) -> float:
    a = est.reindex(truth.index).fillna(0).clip(lower=0)
    if not a.sum() > 0:  # nothing credited to any channel: no shares, the maximum distance
        return 1.0
    return float(0.5 * np.abs(a / a.sum() - truth / truth.sum()).sum())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--customers", type=int, default=3000)
    ap.add_argument("--regimes", default="episodes,always_in_market,randomised")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "validity.md"))
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    grade_rows, pick_rows = [], []
    t0 = time.perf_counter()
    for regime in args.regimes.split(","):
        for seed in range(args.seeds):
            sim = at.datasets.simulate(args.customers, random_state=seed, regime=regime)
            j = sim.journeys(lookback=None, warn=False)  # every touch kept, as the causal model needs
            truth = sim.truth()["conversions"]
            for name in ("causal", "aipw"):
                m = at.get_model(name).fit(j)
                card = at.validity(m, j, random_state=seed)
                for c, g in card.grades.items():
                    grade_rows.append({"regime": regime, "seed": seed, "model": name, "channel": c, "grade": g,
                                       "truth": float(truth.get(c, np.nan)), "placebo": card.placebo["status"]})
            cands = {u: at.get_model("causal", unit=u).fit(j) for u in ("time", "journey")}
            pick, table = select_estimator(cands, j, random_state=seed)
            row = {"regime": regime, "seed": seed, "picked": pick}
            for u, m in cands.items():
                row[f"tvd_{u}"] = tvd(m.incremental_credits_["conversions"], truth)
                row[f"score_{u}"] = table.loc[u, "score"]
                row[f"unit_fit_{u}"] = table.loc[u, "unit_fit"]
            row["picked_better"] = row[f"tvd_{pick}"] <= min(row["tvd_time"], row["tvd_journey"]) + 1e-12
            pick_rows.append(row)
            print(regime, seed, f"{time.perf_counter() - t0:.0f}s", "picked", pick,
                  {k: round(v, 3) for k, v in row.items() if k.startswith(("tvd", "score"))}, flush=True)
    grades = pd.DataFrame(grade_rows)
    picks = pd.DataFrame(pick_rows)
    lines = [f"# Validity scorecard by regime ({args.seeds} seeds, {args.customers} customers)", "",
             "Command: `PYTHONPATH=. nice -n 5 python benchmarks/bench_validity.py "
             f"--seeds {args.seeds} --customers {args.customers}`", ""]
    for (regime, model), part in grades.groupby(["regime", "model"], sort=False):
        tab = part.pivot_table(index="channel", columns="grade", values="seed", aggfunc="count", fill_value=0)
        tab = tab.reindex(columns=list("ABCD"), fill_value=0)
        tab.insert(0, "true incremental conv. (mean)", part.groupby("channel")["truth"].mean().round(1))
        lines += [f"## {regime}: {model}", "",
                  f"Placebo passed in {(part.groupby('seed')['placebo'].first() == 'pass').mean():.0%} of seeds. "
                  "Grade counts per channel:", "", markdown(tab), ""]
    lines += ["## Estimator choice by data statistics only (causal unit='time' vs 'journey')", "",
              "`select_estimator`: the unit check against market persistence (`unit_fit_*`: 1 fits, 0 contradicts), "
              "then placebo, then the scorecard score. The TVD columns are the truth, never used by the choice.", "",
              markdown(picks, index=False), "",
              f"The pick had the lower TVD in {picks['picked_better'].mean():.0%} of runs.", ""]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
