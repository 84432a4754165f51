"""Bootstrap intervals: speed, calibration, and coverage of the simulator's causal truth.

Two different questions, kept apart:

1. **Calibration** -- do 90% intervals cover the quantity the *model* estimates (its credit shares
   on infinitely many journeys from the same world) 90% of the time? The estimand is the model
   fitted on a very large simulation (``--big`` customers); the intervals come from many small
   simulations (``--customers`` each, one seed per run) with the customer bootstrap. A path-table
   population with known probabilities checks the multinomial (journey) scheme the same way, with
   the estimand computed exactly from expected counts.
2. **Truth coverage** -- do the same intervals cover the simulator's true *incremental* shares
   (exact Shapley values of the simulated world)? Only a model that is unbiased for the causal
   effect can reach the nominal rate. Shares are compared among the real channels (the
   ``"(no touch)"`` row is dropped and the rest renormalised; truth shares are truth / sum truth),
   because the truth counts incremental conversions only while models share out every conversion.

Run: ``python benchmarks/bench_bootstrap.py [--seeds 20] [--n 200]`` (about 2-3 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from attribution.datasets import simulate
from attribution.journeys import Journeys
from attribution.models import MODELS, NO_TOUCH, get_model
from attribution.decisions.uncertainty import bootstrap

LEVEL = 0.9
# every registered model that refits in well under a second ("logistic" refits a regularised
# regression per replicate, ~0.7 s each: run it separately with --models logistic)
CANDIDATES = ["first_touch", "last_touch", "last_non_direct", "linear", "position_based", "time_decay", "markov",
              "shapley", "fractribution", "probabilistic"]


def real_shares(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows = replicates (or one estimate), columns = channels; drop (no touch), renormalise."""
    f = frame.drop(columns=[NO_TOUCH], errors="ignore")
    return f.div(f.sum(axis=1), axis=0)


def interval(res, channels) -> tuple[pd.Series, pd.Series]:
    s = real_shares(res.replicates("conversions"))
    a = (1 - LEVEL) / 2
    return s.quantile(a).reindex(channels).fillna(0.0), s.quantile(1 - a).reindex(channels).fillna(0.0)


def simulator_study(models, seeds, n, customers, big):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        world = simulate(big, random_state=10_000)
        jb = world.journeys(warn=False)
        print(f"estimands: simulate({big:,}) -> {jb.n_journeys:,} journeys, {jb.total_conversions:,.0f} conversions "
              f"({time.perf_counter() - t:.1f} s)")
        channels = list(world.channels)
        estimand = {m: real_shares(get_model(m).fit(jb).credits_[["conversions"]].T).iloc[0].reindex(channels).fillna(0.0)
                    for m in models}
        big_truth = world.truth()["conversions"]
        big_truth = big_truth / big_truth.sum()
        rows = []
        seconds = {m: 0.0 for m in models}
        for seed in range(seeds):
            sim = simulate(customers, random_state=seed)
            j = sim.journeys(warn=False)
            truth = sim.truth()["conversions"].reindex(channels)
            truth = truth / truth.sum()
            for m in models:
                t = time.perf_counter()
                res = bootstrap(m, j, n=n, level=LEVEL, random_state=seed, progress=False)
                seconds[m] += time.perf_counter() - t
                lo, hi = interval(res, channels)
                est = real_shares(res.model.credits_[["conversions"]].T).iloc[0].reindex(channels).fillna(0.0)
                for c in channels:
                    rows.append({
                        "model": m, "seed": seed, "channel": c, "estimate": est[c], "low": lo[c], "high": hi[c],
                        "truth": truth[c], "estimand": estimand[m][c],
                    })
    df = pd.DataFrame(rows)
    df["covers_truth"] = (df["low"] <= df["truth"]) & (df["truth"] <= df["high"])
    df["covers_estimand"] = (df["low"] <= df["estimand"]) & (df["estimand"] <= df["high"])
    df["abs_error"] = (df["estimate"] - df["truth"]).abs()
    out = df.groupby("model", sort=False).agg(
        calibration=("covers_estimand", "mean"),
        truth_coverage=("covers_truth", "mean"),
        mean_abs_share_error=("abs_error", "mean"),
        mean_width=("high", "mean"),
    )
    out["mean_width"] = df.assign(w=df["high"] - df["low"]).groupby("model", sort=False)["w"].mean()
    out["bias_vs_truth"] = [
        float((estimand[m] - big_truth.reindex(channels)).abs().sum() / 2) for m in out.index
    ]  # total-variation distance between the model's estimand shares and the true shares
    out["s_per_bootstrap"] = [seconds[m] / seeds for m in out.index]
    per_channel = df.pivot_table(index="channel", columns="model", values="covers_truth", aggfunc="mean").reindex(channels)
    return out, per_channel[list(out.index)], big_truth, estimand


# -- a path-table population with known probabilities (the journey / multinomial scheme) --------
POP_PATHS = [[0], [1], [0, 1], [2, 0, 1], [1, 2], [2]]
POP_P = np.array([0.25, 0.2, 0.2, 0.1, 0.15, 0.1])
POP_CONV = np.array([0.05, 0.08, 0.2, 0.3, 0.12, 0.02])


def _pop(conv, nulls):
    lengths = [len(p) for p in POP_PATHS]
    return Journeys(np.array(["a", "b", "c"], dtype=object), np.concatenate(POP_PATHS),
                    np.concatenate([[0], np.cumsum(lengths)]), conv, nulls, conv * 10.0)


def path_table_study(models, sets, n, N=3000):
    rows = []
    for m in models:
        truth = get_model(m).fit(_pop(POP_P * POP_CONV, POP_P * (1 - POP_CONV))).credits_["share"]
        rng = np.random.default_rng(0)
        cells = np.concatenate([POP_P * POP_CONV, POP_P * (1 - POP_CONV)])
        hits = []
        t = time.perf_counter()
        for _ in range(sets):
            d = rng.multinomial(N, cells).astype(float)
            cr = bootstrap(m, _pop(d[:6], d[6:]), n=n, level=LEVEL, random_state=rng, progress=False).credits
            hits.extend(((cr["share_low"] <= truth) & (truth <= cr["share_high"])).tolist())
        rows.append({"model": m, "coverage": float(np.mean(hits)), "trials": len(hits),
                     "seconds": time.perf_counter() - t})
    return pd.DataFrame(rows).set_index("model")


def speed(n):
    sim = simulate(3000, random_state=0)
    j = sim.journeys(warn=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the empty path of touchless store purchases
        paths = Journeys.from_paths(j.to_paths(), warn=False)
    out = []
    for m in ("linear", "markov"):
        for name, jj in (("events by customer", j), ("path table (multinomial)", paths)):
            t = time.perf_counter()
            bootstrap(m, jj, n=n, progress=False)
            out.append({"model": m, "journeys": name, "rows": jj.n_journeys, "replicates": n,
                        "seconds": round(time.perf_counter() - t, 3)})
    return pd.DataFrame(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--customers", type=int, default=3000)
    p.add_argument("--big", type=int, default=100_000)
    p.add_argument("--sets", type=int, default=100, help="path-table data sets per model")
    p.add_argument("--models", default=None, help="comma-separated model names (default: the fast ones registered)")
    args = p.parse_args()
    models = [m for m in (args.models.split(",") if args.models else CANDIDATES) if m in MODELS]
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 30)

    print("== speed ==")
    print(speed(args.n).to_string(index=False))

    print(f"\n== calibration on a path-table population (multinomial scheme), {args.sets} data sets of 3,000 journeys ==")
    print(path_table_study(["linear", "last_touch", "markov"], args.sets, min(args.n, 100)).round(3).to_string())

    print(f"\n== simulator: {args.seeds} seeds x {args.customers:,} customers, {args.n} replicates, {LEVEL:.0%} intervals ==")
    out, per_channel, big_truth, estimand = simulator_study(models, args.seeds, args.n, args.customers, args.big)
    print(out.round(3).to_string())
    print("\ncalibration: how often the interval covers the model's own large-sample shares (nominal 0.90)")
    print("truth_coverage: how often it covers the true incremental shares (nominal only for an unbiased model)")
    print("bias_vs_truth: total-variation distance between the model's large-sample shares and the true shares")
    print("\ntruth coverage per channel:")
    print(per_channel.round(2).to_string())
    print("\nlarge-sample shares (simulate(%d)) vs truth:" % args.big)
    table = pd.DataFrame(estimand)
    table.insert(0, "truth", big_truth.reindex(table.index))
    print(table.round(3).to_string())


if __name__ == "__main__":
    main()
