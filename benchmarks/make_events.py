"""Write a large simulated event log as Parquet: touchpoints, conversions and identities in part files.

Not a test. Makes the input of ``benchmarks/bench_scale.py`` (default: 100 million touch rows,
``benchmarks/_data/events/``, gitignored)::

    python benchmarks/make_events.py                              # 100 M touch rows, ~3 min, ~1 GiB
    python benchmarks/make_events.py --rows 1e7 --out benchmarks/_data/events_10M
    python benchmarks/make_events.py --overwrite                  # regenerate

Every part is one full call of the package's simulator (:func:`attribution.datasets.simulate`),
not a replica: the simulator makes about 650,000 touch rows per second on this machine, so
100 M rows take a few minutes and no replication trick is needed. Part ``k`` simulates its own
population of ``n_customers`` people (chosen so that a part holds about ``--rows-per-file``
touch rows, by default 1 M) over the same 60-day window, with a seed spawned from one
``--random-state`` (``numpy.random.SeedSequence(random_state).spawn(n_parts)[k]``), so the
whole data set is reproduced byte for byte by the same arguments and parts can be made in any
order. One part at a time is held in memory (about 0.5 GB at 1 M rows).

Ids are made disjoint across parts: the simulator's ``c000123`` (cookie) / ``L000123``
(loyalty card) become ``c`` / ``L`` followed by 12 digits, ``k * 10**7 + 123``. Journeys,
repeat purchases, two-device people and cookie-card links therefore stay exactly as simulated,
within each part; there is no person spanning two parts.

Layout (one file per part and table, same columns as ``data/samples/*.csv``)::

    OUT/touchpoints/part-00000.parquet   customer_id string, timestamp timestamp[us, UTC], channel string
    OUT/conversions/part-00000.parquet   customer_id string, timestamp timestamp[us, UTC], value double, place string
    OUT/identities/part-00000.parquet    cookie_id string, loyalty_id string
    OUT/manifest.json                    arguments, per-part rows / people / bytes, totals

Rows within a file are sorted by customer id, time and channel (the simulator's order); the
files are in increasing id ranges. Files are written with pyarrow (zstd, row groups of
``--row-group`` rows, 262,144 by default: four per 1 M-row file, so a reader has parallel
units). The simulator's timestamps (whole seconds, ``datetime64[s, UTC]``) are cast losslessly
to ``timestamp[us, UTC]`` (Parquet has no second unit). Ids and channels are plain Arrow
strings (the Parquet writer dictionary-encodes them on disk). Prints rows, files, bytes and
wall time.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

from attribution.datasets import simulate  # noqa: E402

DEFAULT_OUT = HERE / "_data" / "events"
#: touch rows per simulated person with the simulator's defaults (measured: 4.789-4.791 at 209 k
#: people, 4.80 at 2.1 M), a little low so that parts hold at least --rows-per-file on average
TOUCHES_PER_PERSON = 4.785
ID_STRIDE = 10**7  # per-part id offset; a part must have fewer cookies (and cards) than this
ID_DIGITS = 12
TABLES = ("touchpoints", "conversions", "identities")
TS = pa.timestamp("us", tz="UTC")
SCHEMAS = {
    "touchpoints": pa.schema([("customer_id", pa.string()), ("timestamp", TS), ("channel", pa.string())]),
    "conversions": pa.schema([("customer_id", pa.string()), ("timestamp", TS), ("value", pa.float64()),
                              ("place", pa.string())]),
    "identities": pa.schema([("cookie_id", pa.string()), ("loyalty_id", pa.string())]),
}
SIM_ARGS = {"start": "2026-03-01", "days": 60}


def _count(text: str) -> int:
    return int(float(text.replace("_", "")))


def relabel(ids: pa.ChunkedArray | pa.Array, part: int) -> pa.Array:
    """``c000123`` -> ``c`` + 12 digits of ``part * 10**7 + 123`` (same for ``L``): disjoint across parts."""
    ids = pa.chunked_array([ids]) if isinstance(ids, pa.Array) else ids
    ids = ids.cast(pa.string()).combine_chunks()
    prefix = pc.utf8_slice_codeunits(ids, 0, 1)
    number = pc.cast(pc.utf8_slice_codeunits(ids, 1, 64), pa.int64())
    if len(number) and pc.max(number).as_py() >= ID_STRIDE:
        raise ValueError(f"a part has {pc.max(number).as_py() + 1:,} ids of one kind; lower --rows-per-file")
    digits = pc.utf8_lpad(pc.cast(pc.add(number, part * ID_STRIDE), pa.string()), ID_DIGITS, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def part_tables(sim, part: int) -> dict[str, pa.Table]:
    """The simulator's frames as Arrow tables in the output schema, with part-disjoint ids."""
    out = {}
    for name in TABLES:
        frame = getattr(sim, name)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        cols = {}
        for field in SCHEMAS[name]:
            col = table.column(field.name)
            if field.name in ("customer_id", "cookie_id", "loyalty_id"):
                col = relabel(col, part)
            cols[field.name] = col.cast(field.type)  # timestamp[s, UTC] -> [us, UTC] is exact
        out[name] = pa.table(cols, schema=SCHEMAS[name])
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=_count, default=100_000_000, help="touch rows in total (about; default 1e8)")
    p.add_argument("--rows-per-file", type=_count, default=1_000_000, help="touch rows per part (about; default 1e6)")
    p.add_argument("--random-state", type=int, default=0)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--row-group", type=_count, default=262_144, help="rows per Parquet row group")
    p.add_argument("--compression", default="zstd")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output directory")
    args = p.parse_args(argv)

    n_parts = max(1, math.ceil(args.rows / args.rows_per_file))
    people = max(1, round(args.rows / n_parts / TOUCHES_PER_PERSON))
    config = {"rows_requested": args.rows, "n_parts": n_parts, "people_per_part": people,
              "random_state": args.random_state, "row_group": args.row_group, "compression": args.compression,
              "simulate": {**SIM_ARGS, "n_customers": people}}
    out: Path = args.out
    manifest_path = out / "manifest.json"
    if out.exists() and any(out.iterdir()):
        if manifest_path.exists() and not args.overwrite:
            old = json.loads(manifest_path.read_text())
            if old.get("config") == config and old.get("complete"):
                print(f"{out} already holds this data set ({old['totals']['touchpoints']:,} touch rows); "
                      "--overwrite to regenerate")
                return
        if not args.overwrite:
            sys.exit(f"{out} is not empty; pass --overwrite to replace it")
        shutil.rmtree(out)
    for name in TABLES:
        (out / name).mkdir(parents=True, exist_ok=True)

    seeds = np.random.SeedSequence(args.random_state).spawn(n_parts)
    parts = []
    totals = {name: 0 for name in TABLES}
    total_bytes = 0
    t_sim = t_write = 0.0
    t0 = time.perf_counter()
    print(f"writing {n_parts} part(s) of {people:,} simulated people (~{people * TOUCHES_PER_PERSON:,.0f} touch "
          f"rows each) to {out}", flush=True)
    for k in range(n_parts):
        t = time.perf_counter()
        sim = simulate(people, random_state=np.random.default_rng(seeds[k]), **SIM_ARGS)
        tables = part_tables(sim, k)
        del sim
        t_sim += time.perf_counter() - t
        t = time.perf_counter()
        entry = {"part": k, "people": people}
        for name, table in tables.items():
            path = out / name / f"part-{k:05d}.parquet"
            pq.write_table(table, path, row_group_size=args.row_group, compression=args.compression)
            size = path.stat().st_size
            entry[name] = table.num_rows
            entry[f"{name}_bytes"] = size
            totals[name] += table.num_rows
            total_bytes += size
        t_write += time.perf_counter() - t
        parts.append(entry)
        del tables
        if k == 0 or (k + 1) % 10 == 0 or k + 1 == n_parts:
            el = time.perf_counter() - t0
            print(f"  part {k + 1:>4}/{n_parts}: {totals['touchpoints']:>13,} touch rows, "
                  f"{total_bytes / 2**20:>8,.0f} MiB, {el:6.0f} s elapsed", flush=True)
        # keep the manifest current so an interrupted run shows how far it got
        if k + 1 == n_parts or (k + 1) % 10 == 0:
            wall = time.perf_counter() - t0
            manifest = {"config": config, "complete": k + 1 == n_parts, "parts": parts, "totals": totals,
                        "bytes": total_bytes, "wall_s": round(wall, 1), "simulate_s": round(t_sim, 1),
                        "write_s": round(t_write, 1)}
            manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")

    wall = time.perf_counter() - t0
    print(f"done: {totals['touchpoints']:,} touch rows, {totals['conversions']:,} conversions, "
          f"{totals['identities']:,} identity links in {3 * n_parts} files ({n_parts} per table), "
          f"{total_bytes:,} bytes ({total_bytes / 2**30:.2f} GiB) in {wall:.0f} s "
          f"(simulate {t_sim:.0f} s, write {t_write:.0f} s; {totals['touchpoints'] / wall:,.0f} touch rows/s)")


if __name__ == "__main__":
    main()
