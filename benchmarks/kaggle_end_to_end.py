"""End to end on real public data: Kaggle-layout events + daily costs -> comparison, ROI, plan.

Data (not shipped with the package; see ``../shared/data/README.md``):
``../shared/data/events/kaggle_schema_events.csv.gz`` (62,483 events, 5 channels, July 2018) and
``../shared/data/costs/daily_cost_5_channels.csv`` (daily cost of the same 5 channels).

Run: ``python benchmarks/kaggle_end_to_end.py [--bootstrap 200] [--figures DIR]``. Prints the
comparison, the ROI table and a budget plan at today's total spend (the figures quoted in the
project notes come from this script).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from attribution.decisions.budget import plan_budget
from attribution.decisions.comparison import compare
from attribution.journeys import Journeys

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MODELS = ["first_touch", "last_touch", "linear", "position_based", "time_decay", "markov", "markov:order=2"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--bootstrap", type=int, default=200, help="replicates per model (0: none)")
    p.add_argument("--plan-model", default="markov")
    p.add_argument("--figures", type=Path, default=None, help="write PNG figures here")
    args = p.parse_args()
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 30)

    t0 = time.perf_counter()
    events = pd.read_csv(args.data / "events" / "kaggle_schema_events.csv.gz")
    costs = pd.read_csv(args.data / "costs" / "daily_cost_5_channels.csv")
    journeys = Journeys.from_events(events, time="time")
    print(journeys)
    print(f"costs: {len(costs)} rows, {costs['day'].min()} .. {costs['day'].max()}, total {costs['cost'].sum():,.2f}\n")

    models = MODELS + [m for m in ("shapley",) if _available(m)]
    comp = compare(journeys, models, costs=costs, bootstrap=args.bootstrap or None, random_state=0, progress=False)
    t1 = time.perf_counter()
    print(comp.summary())

    roi = comp.roi
    cols = ["channel", "model", "cost", "conversions", "value", "roi", "roas", "cpa"]
    if "roi_low" in roi.columns:
        cols += ["roi_low", "roi_high"]
    print("\nROI table (long):")
    print(roi[cols].round(3).to_string(index=False))

    budget = float(comp.costs["cost"].sum())
    plan = plan_budget(comp, None, round(budget, 2), model=args.plan_model)
    t2 = time.perf_counter()
    print()
    print(plan.summary())
    print("\nRule-based reallocation (floor 10%, 30% reallocated by ROAS index):")
    print(plan.rule_based.round(3).to_string())
    print(f"\nplanned total: {plan.allocation['planned'].sum():.2f} (budget {budget:.2f})")
    print(f"time: comparison{' + bootstrap' if args.bootstrap else ''} {t1 - t0:.1f} s, plan {t2 - t1:.1f} s")

    if args.figures:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        args.figures.mkdir(parents=True, exist_ok=True)
        for name, draw in (("credits", comp.plot), ("roi", comp.plot_roi), ("agreement", comp.plot_rank_agreement),
                           ("plan", plan.plot), ("curves", plan.plot_curves)):
            ax = draw()
            ax.figure.savefig(args.figures / f"kaggle_{name}.png", dpi=100)
            plt.close(ax.figure)
        print(f"figures written to {args.figures}")


def _available(name: str) -> bool:
    from attribution.models import MODELS as registry

    return name in registry


if __name__ == "__main__":
    main()
