"""The Spark engine end to end: Parquet events -> Spark (local mode) -> aggregates -> models, vs pandas.

Not a test. Simulates a retailer (``attribution.datasets.simulate``), writes its touchpoints,
conversions and identity links as Parquet, starts a local SparkSession and runs the journey
rules in Spark (``aggregate_spark``). Spark keeps the path table cached and computes what the
models need from it: the path table itself, order-1 and order-2 transition counts (removal
effects are solved from them on the driver), channel-set counts and rule-based credits. The
driver then fits Markov and Shapley on the aggregated journeys. The same data go through the
pandas engine, and the script checks that path tables and credits agree. Every step is timed.

    python benchmarks/spark_end_to_end.py                        # 60,000 customers (~290 k touches)
    python benchmarks/spark_end_to_end.py --customers 200000 --cores 2 --memory 2g

Needs ``pip install "attribution[spark]"`` and Java 17+.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import attribution as at
from attribution.engines import spark as sp
from attribution.models.markov import absorption

RULES = ["last_touch", "linear", "position_based"]
DRIVER_MODELS = ["markov", "markov:order=2", "shapley"]


class Clock:
    """Times named steps; prints each as it ends and a table at the end."""

    def __init__(self):
        self.steps: list[tuple[str, float]] = []

    def __call__(self, name, fn, *args, **kwargs):
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        self.steps.append((name, time.perf_counter() - t))
        print(f"  {name:<58} {self.steps[-1][1]:7.2f} s", flush=True)
        return out

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.steps, columns=["step", "seconds"]).set_index("step").round(2)


def removal_effects(tc) -> pd.Series:
    """Removal effects (conversions) from transition counts: P(conversion) without each channel's states."""
    p = absorption(tc)[0].sum()
    effects = {}
    for c, name in enumerate(tc.channels):
        removed = (tc.state_channels == c).any(axis=1)
        effects[name] = 1.0 - absorption(tc, removed)[0].sum() / p
    return pd.Series(effects, name="removal_effect")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=60_000)
    p.add_argument("--cores", type=int, default=2, help="local[cores]")
    p.add_argument("--memory", default="2g", help="Spark driver memory")
    p.add_argument("--data", type=Path, default=None, help="write the Parquet files here (default: a temp dir)")
    p.add_argument("--lookback", default="30D")
    args = p.parse_args()
    pd.set_option("display.width", 200)
    warnings.simplefilter("ignore", category=FutureWarning)  # pyspark on pandas 3
    clock = Clock()
    options = dict(lookback=args.lookback, collapse_repeats=True)

    with tempfile.TemporaryDirectory(prefix="attribution-spark-") as tmp:
        data = args.data or Path(tmp)
        data.mkdir(parents=True, exist_ok=True)
        print(f"data: {args.customers:,} simulated customers -> Parquet in {data}")
        sim = clock("simulate", at.datasets.simulate, args.customers, random_state=1)

        def write():
            sim.touchpoints.to_parquet(data / "touchpoints.parquet", index=False)
            sim.conversions.to_parquet(data / "conversions.parquet", index=False)
            sim.identities.to_parquet(data / "identities.parquet", index=False)

        clock("write Parquet", write)
        print(f"  {len(sim.touchpoints):,} touches, {len(sim.conversions):,} conversions, "
              f"{len(sim.identities):,} identity links")

        print(f"\nSpark (local[{args.cores}], driver memory {args.memory}):")
        spark = clock("start the SparkSession", sp.local_session, cores=args.cores, memory=args.memory,
                      shuffle_partitions=2 * args.cores)
        print(f"  Spark {spark.version}, Java via {sp._java()[1] or 'unknown'}")
        tp = spark.read.parquet(str(data / "touchpoints.parquet"))
        cv = spark.read.parquet(str(data / "conversions.parquet"))
        ids = spark.read.parquet(str(data / "identities.parquet"))
        agg = clock("journey rules in Spark (validate, build, cache path table)", sp.aggregate_spark,
                    tp, cv, identities=ids, **options)
        with agg:
            journeys = clock("path table to the driver (to_journeys)", agg.to_journeys)
            tcs = {k: clock(f"order-{k} transition counts in Spark", agg.transition_counts, k) for k in (1, 2)}
            sets = clock("channel-set (bitmask) counts in Spark", agg.channel_set_counts)
            rules = {m: clock(f"{m} credits in Spark", agg.rule_credits, m) for m in RULES}
        print(f"  path table: {journeys.n_journeys:,} rows (unique path x place) for "
              f"{journeys.total_conversions:,.0f} conversions and {journeys.nulls.sum():,.0f} non-converting journeys; "
              f"{len(sets)} channel sets; exclusions {journeys.exclusions}")
        fitted = {m: clock(f"fit {m} on the driver", at.get_model(m).fit, journeys) for m in DRIVER_MODELS}
        re_spark = {k: clock(f"removal effects from the Spark order-{k} counts", removal_effects, tc) for k, tc in tcs.items()}
        spark.stop()

        print("\npandas engine on the same data:")
        ptp = clock("read Parquet (pandas)", pd.read_parquet, data / "touchpoints.parquet")
        pcv = pd.read_parquet(data / "conversions.parquet")
        pids = pd.read_parquet(data / "identities.parquet")
        pj = clock("Journeys.from_events (pandas)", at.Journeys.from_events, ptp, pcv, identities=pids, warn=False, **options)
        pfitted = {m: clock(f"fit {m} (pandas journeys)", at.get_model(m).fit, pj) for m in RULES + DRIVER_MODELS}

    # --- the figures
    shares = pd.DataFrame({m: r["share"] for m, r in rules.items()})
    for m, model in fitted.items():
        shares[m] = model.credits_["share"]
    print("\nCredit shares (rules computed in Spark; Markov and Shapley fitted on the driver from the Spark path table):")
    print(shares.round(4).to_string())
    re = pd.DataFrame({"order 1 (Spark counts)": re_spark[1], "order 2 (Spark counts)": re_spark[2],
                       "Markov order 2 (driver)": fitted["markov:order=2"].removal_effects_["conversions"]})
    print("\nRemoval effects:")
    print(re.round(4).to_string())

    pa_, pb = pj.to_paths(), journeys.to_paths()
    same_paths = (pa_["path"].tolist() == pb["path"].tolist()
                  and np.array_equal(pa_["total_conversions"], pb["total_conversions"])
                  and np.array_equal(pa_["total_null"], pb["total_null"])
                  and np.allclose(pa_["total_conversion_value"], pb["total_conversion_value"], rtol=1e-12))
    diffs = {m: float(np.abs(rules[m][["conversions", "value"]].to_numpy()
                             - pfitted[m].credits_[["conversions", "value"]].to_numpy()).max()) for m in RULES}
    diffs.update({m: float(np.abs(fitted[m].credits_[["conversions", "value"]].to_numpy()
                                  - pfitted[m].credits_[["conversions", "value"]].to_numpy()).max()) for m in DRIVER_MODELS})
    re_diff = float(np.abs(re_spark[2] - fitted["markov:order=2"].removal_effects_["conversions"]).max())
    print(f"\nSpark vs pandas: path tables identical: {same_paths}; exclusions identical: "
          f"{journeys.exclusions == pj.exclusions}")
    print("largest credit difference (conversions, value) per model: "
          + ", ".join(f"{m} {d:.1e}" for m, d in diffs.items()))
    print(f"removal effects from the Spark order-2 counts vs the driver's Markov: {re_diff:.1e}")
    print("\nTimes (seconds):")
    print(clock.table().to_string())


if __name__ == "__main__":
    main()
