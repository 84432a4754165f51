"""Importer throughput: a GA4-shaped export (nested Parquet) -> EventTables -> Journeys -> Markov ->
credit per journey, whole steps timed in one process (imports excluded).

    PYTHONPATH=$PWD:tests python benchmarks/bench_importers.py --users 20000

Prints events, touches, conversions and seconds per step; checks purchases and revenue are conserved.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    import pyarrow as pa
    import pyarrow.parquet as pq
    from warehouse_fixtures import ga4_events

    from attribution import Markov
    from attribution.io import read_ga4

    rows, tot = ga4_events(n_users=args.users, seed=args.seed)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "events.parquet"
        pq.write_table(pa.Table.from_pylist(rows), path)
        del rows
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        tables = read_ga4(path, warn=False)
        t1 = time.perf_counter()
        journeys = tables.journeys(warn=False)
        t2 = time.perf_counter()
        model = Markov().fit(journeys)
        t3 = time.perf_counter()
        jc = model.journey_credits(journeys)
        t4 = time.perf_counter()
    assert len(tables.conversions) == tot["purchases"]
    assert abs(jc["value"].sum() - tot["revenue"]) <= 1e-9 * tot["revenue"]
    print(f"events {tot['events']:,}  touches {len(tables.touchpoints):,}  conversions {tot['purchases']:,}")
    print(f"read_ga4 {t1 - t0:.2f} s | journeys {t2 - t1:.2f} s | Markov fit {t3 - t2:.2f} s | "
          f"journey_credits {t4 - t3:.2f} s ({len(jc):,} rows, untouched share {jc.attrs['untouched_share']:.2e})")


if __name__ == "__main__":
    main()
