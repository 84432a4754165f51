"""Time the rule-based models on 10 million journeys, and beside ChannelAttribution's heuristics.

Not a test. Prints one line per model.

    python benchmarks/bench_rules.py               # 10 million journeys
    python benchmarks/bench_rules.py --journeys 1e6
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time
import warnings

import numpy as np

from attribution import Journeys, get_model

MODELS = ["first_touch", "last_touch", "last_non_direct", "linear", "position_based", "time_decay", "custom:weights=0.5|0.2|0.3"]


def make_journeys(n: int, n_channels: int = 12, seed: int = 0) -> Journeys:
    """``n`` event-like journeys (geometric lengths, mean 4) with touch and conversion times."""
    rng = np.random.default_rng(seed)
    lengths = rng.geometric(0.25, n)
    T = int(lengths.sum())
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    conv = (rng.random(n) < 0.2).astype(float)
    start = np.datetime64("2026-01-01T00:00:00", "ns")
    conv_time = start + rng.integers(30, 60, n).astype("timedelta64[D]")
    jid = np.repeat(np.arange(n), lengths)
    touch_time = conv_time[jid] - rng.integers(0, 30 * 86400, T).astype("timedelta64[s]")
    names = np.array([f"ch{i:02d}" for i in range(n_channels - 1)] + ["direct"], dtype=object)
    return Journeys(
        names, rng.integers(0, n_channels, T), offsets, conv, 1 - conv, conv * rng.gamma(2, 40, n),
        touch_time=touch_time, conversion_time=np.where(conv > 0, conv_time, np.datetime64("NaT")),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=float, default=1e7)
    args = parser.parse_args()
    n = int(args.journeys)
    t = time.perf_counter()
    j = make_journeys(n)
    print(f"generated {j.n_journeys:,} journeys, {j.n_touches:,} touches in {time.perf_counter() - t:.1f} s")
    for spec in MODELS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            m = get_model(spec).fit(j)
            dt = time.perf_counter() - t
        ok = abs(m.credits_["conversions"].sum() - j.total_conversions) <= 1e-9 * j.total_conversions
        print(f"{spec:28s} {dt:6.2f} s   conserved: {ok}")

    # side by side with ChannelAttribution's heuristic_models on a path table of 1M rows
    try:
        from ChannelAttribution import heuristic_models
    except ImportError:
        print("ChannelAttribution not installed: pip install '.[bench]' for the side-by-side run")
        return
    paths = make_journeys(min(n, 1_000_000)).to_paths(aggregate=False)
    t = time.perf_counter()
    jp = Journeys.from_paths(paths)
    parse = time.perf_counter() - t
    t = time.perf_counter()
    for spec in ("first_touch", "last_touch", "linear"):
        get_model(spec).fit(jp)
    ours = time.perf_counter() - t
    with contextlib.redirect_stdout(io.StringIO()):
        t = time.perf_counter()
        heuristic_models(paths, "path", "total_conversions", var_value="total_conversion_value")
        theirs = time.perf_counter() - t
    print(f"first+last+linear on {len(paths):,} path rows: ours {ours:.2f} s on prepared journeys, "
          f"{parse + ours:.2f} s with parsing; ChannelAttribution heuristic_models {theirs:.2f} s "
          f"(ratio end to end {theirs / (parse + ours):.1f}x)")


if __name__ == "__main__":
    main()
