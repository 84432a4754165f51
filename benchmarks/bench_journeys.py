"""Time journey building: ``from_events`` on 10 million touch rows, ``from_paths`` on 1 million paths.

Not a test. Prints one line per measurement. Targets (2-core machine): from_events under 30 s,
from_paths under 10 s.

    python benchmarks/bench_journeys.py                # full sizes
    python benchmarks/bench_journeys.py --scale 0.1    # a tenth, for a quick look
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings

import numpy as np
import pandas as pd

from attribution import Journeys

CHANNELS = np.array(["paid_search", "display", "social", "email", "video", "affiliate", "retargeting",
                     "direct", "organic", "referral"], dtype=object)


def make_events(n_touches: int, seed: int = 0):
    """Synthetic events: ~n/8 customers, 60 days, one conversion per ~5 customers (some repeat)."""
    rng = np.random.default_rng(seed)
    n_cust = max(n_touches // 8, 1)
    ids = pd.Index([f"c{i:09d}" for i in range(n_cust)])
    start = np.datetime64("2026-01-01T00:00:00", "s").astype("datetime64[ns]")
    t_seconds = rng.integers(0, 60 * 86400, n_touches)
    touches = pd.DataFrame({
        "customer_id": ids[rng.integers(0, n_cust, n_touches)],
        "timestamp": pd.DatetimeIndex(start + t_seconds.astype("timedelta64[s]")).tz_localize("UTC"),
        "channel": pd.Categorical.from_codes(rng.integers(0, len(CHANNELS), n_touches), CHANNELS),
    })
    n_conv = n_cust // 4
    conversions = pd.DataFrame({
        "customer_id": ids[rng.integers(0, n_cust, n_conv)],
        "timestamp": pd.DatetimeIndex(start + rng.integers(0, 60 * 86400, n_conv).astype("timedelta64[s]")).tz_localize("UTC"),
        "value": rng.gamma(2.0, 40.0, n_conv).round(2),
        "place": np.where(rng.random(n_conv) < 0.3, "store", "online"),
    })
    return touches, conversions


def make_paths(n_paths: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lengths = rng.geometric(0.25, n_paths)
    codes = rng.integers(0, len(CHANNELS), lengths.sum())
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    j = Journeys(CHANNELS, codes, offsets, rng.poisson(1.0, n_paths), rng.poisson(4.0, n_paths))
    df = j.to_paths(aggregate=False)
    return df


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    n_ev = int(10_000_000 * args.scale)
    n_paths = int(1_000_000 * args.scale)

    t = time.perf_counter()
    touches, conversions = make_events(n_ev)
    print(f"generated {len(touches):,} touches, {len(conversions):,} conversions in {time.perf_counter() - t:.1f} s")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        j = Journeys.from_events(touches, conversions, lookback="30D")
        dt = time.perf_counter() - t
    print(f"from_events: {len(touches):,} touch rows -> {j.n_journeys:,} journeys, {j.n_touches:,} touches "
          f"in {dt:.1f} s (target < 30 s at 10M); conversions kept {j.total_conversions:,.0f} of {len(conversions):,}")
    assert j.total_conversions == len(conversions)

    # the same log with ISO-8601 strings, as read from a CSV without date parsing
    touches["timestamp"] = touches["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        Journeys.from_events(touches, conversions, lookback="30D")
        dt = time.perf_counter() - t
    print(f"from_events with string timestamps: {dt:.1f} s")
    del touches, conversions, j

    df = make_paths(n_paths)
    t = time.perf_counter()
    jp = Journeys.from_paths(df)
    dt = time.perf_counter() - t
    print(f"from_paths: {len(df):,} path rows, {jp.n_touches:,} touches in {dt:.2f} s (target < 10 s at 1M)")
    t = time.perf_counter()
    out = jp.to_paths()
    print(f"to_paths (aggregated to {len(out):,} unique paths): {time.perf_counter() - t:.2f} s")
    print(f"peak memory of this process: {peak_mb():,.0f} MB")


if __name__ == "__main__":
    main()
