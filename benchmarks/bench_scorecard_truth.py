"""Does the validity scorecard hold the channels whose estimates are wrong, and only those?

For each confounding regime of :func:`attribution.datasets.simulate` and each seed, the default
causal model (``get_model("causal")``) is fitted on ``sim.journeys(lookback=None)`` and graded by
``at.validity(model, journeys)``. Each channel's estimate is compared with the simulator's truth
(``truth()["conversions"]``, the exact Shapley value of the true game): it counts as *right* when
the estimate is within a factor of 2 of the truth or within 1 % of all conversions of it (the
scale at which a budget plan's direction changes; ``benchmarks/bench_plan_direction.py`` checks
the directions themselves). The table gives, per channel, the grade, the checks that failed
(``!``) or warned (``?``), and estimate / truth.

Beside the default calls, the cases the scorecard must catch (a model whose assumption is
violated): ``episodes:time`` is the hazard model forced on the world of purchase episodes
(``Causal(unit="time")``: people are not always in market), ``episodes:aipw`` the doubly robust
AIPW estimator, which adjusts only for the touch counts, on the same world, where brand search
and retargeting are targeted on an intent it cannot see.

Run::

    PYTHONPATH=. nice -n 5 python benchmarks/bench_scorecard_truth.py --seeds 3 --customers 20000

It writes ``benchmarks/results/scorecard_truth.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from attribution import validity
from attribution.datasets import simulate
from attribution.models import get_model

CASES = ("episodes", "always_in_market", "randomised", "episodes:time", "episodes:aipw")


def run_case(case: str, seed: int, n: int) -> pd.DataFrame:
    regime, _, variant = case.partition(":")
    sim = simulate(n, regime=regime, random_state=seed)
    truth = sim.truth()["conversions"]
    j = sim.journeys(lookback=None, warn=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if variant == "aipw":
            model = get_model("aipw").fit(j)
        else:
            model = get_model("causal", **({"unit": variant} if variant else {})).fit(j)
        t0 = time.perf_counter()
        card = validity(model, j)
        secs = time.perf_counter() - t0
    t = card.table.set_index("channel")
    total = float(j.total_conversions)
    est, tru = t["estimate"].astype(float), truth.reindex(t.index).astype(float).fillna(0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = est / tru
    right = ((ratio >= 0.5) & (ratio <= 2.0)) | ((est - tru).abs() < 0.01 * total)
    checks = [c for c in t.columns if c.startswith("check_")]
    flags = t[checks].apply(lambda r: " ".join(
        ("!" if v == "fail" else "?") + k.removeprefix("check_") for k, v in r.items() if v in ("fail", "warn")), axis=1)
    out = pd.DataFrame({"case": case, "seed": seed, "grade": t["grade"], "estimate": est, "truth": tru,
                        "ratio": ratio, "right": right, "flags": flags})
    print(f"{case:18s} seed {seed}: " + " ".join(f"{c}={g}{'' if r else '*'}" for c, g, r in
                                                 zip(out.index, out["grade"], out["right"])) + f"  ({secs:.0f} s)", flush=True)
    return out.reset_index()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--customers", type=int, default=20000)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "scorecard_truth.md"))
    args = ap.parse_args(argv)
    cases = args.cases.split(",")
    res = pd.concat([run_case(c, s, args.customers) for c in cases for s in range(1, args.seeds + 1)], ignore_index=True)
    lines = ["# The validity scorecard against the truth", "",
             (f"`simulate({args.customers}, regime=..., random_state=seed)`, seeds 1-{args.seeds}; the default causal "
              "model graded by `at.validity(model, journeys)`. An estimate is *right* when it is within a factor of 2 of "
              "`truth()['conversions']` or within 1 % of all conversions of it. `episodes:time`: `Causal(unit='time')` "
              "forced on the episode world; `episodes:aipw`: the AIPW estimator on it (both must be caught)."), "",
             ("Command: `PYTHONPATH=. nice -n 5 python benchmarks/bench_scorecard_truth.py "
              + " ".join(sys.argv[1:] if argv is None else argv) + "`"), "",
             "## Summary (channels summed over seeds)", "",
             "| case | channels | D (held) | D, estimate right | D, estimate wrong | not D, estimate wrong | C | C, estimate right |",
             "|---|---|---|---|---|---|---|---|"]
    for case in cases:
        g = res[res["case"] == case]
        d, c = g["grade"] == "D", g["grade"] == "C"
        lines.append(f"| {case} | {len(g)} | {int(d.sum())} | {int((d & g['right']).sum())} | {int((d & ~g['right']).sum())} | "
                     f"{int((~d & ~g['right']).sum())} | {int(c.sum())} | {int((c & g['right']).sum())} |")
    lines += ["", "## Per channel", "", "Grade, estimate / truth (`*` wrong), and the checks that failed (`!`) or warned (`?`).", ""]
    for case in cases:
        g = res[res["case"] == case]
        seeds = sorted(g["seed"].unique())
        lines += [f"### {case}", "", "| channel | " + " | ".join(f"seed {s}" for s in seeds) + " |", "|---|" + "---|" * len(seeds)]
        for ch in dict.fromkeys(g["channel"]):
            cells = []
            for s in seeds:
                r = g[(g["seed"] == s) & (g["channel"] == ch)].iloc[0]
                rt = "n/a" if not np.isfinite(r["ratio"]) else f"{r['ratio']:.2f}"
                cells.append(f"**{r['grade']}** {rt}{'' if r['right'] else '*'} {r['flags']}".strip())
            lines.append(f"| {ch} | " + " | ".join(cells) + " |")
        lines.append("")
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines[: lines.index("## Per channel")]))


if __name__ == "__main__":
    main()
