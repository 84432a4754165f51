"""``attribution import``: warehouse exports (GA4, Segment, Snowplow, Adobe, Criteo) to journeys."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from ._args import _common
from ._inputs import _DATA_FLAGS, _add_source_options, _read_source

IMPORT_EXAMPLES = """examples:
  attribution import ga4 events_20241027.parquet --out events.parquet
  attribution import adobe hit_data.tsv.gz --column-headers column_headers.tsv \\
      --marketing-channels marketing_channels.tsv --out adobe.parquet
  attribution import segment pages.parquet --orders order_completed.parquet --identifies identifies.parquet
  attribution compare events_20241027.parquet --format ga4 --models last_touch,markov --journey-credits
"""


def add_parser(sub, fmt) -> None:
    i = sub.add_parser(
        "import", help="read a warehouse export (GA4, Adobe, Snowplow, Segment, Criteo) into touch/conversion tables",
        description="Normalise a raw export into the toolkit's tables: OUT (touchpoints: customer_id, timestamp,\n"
                    "channel, source, medium, campaign, touch_type, session_id), OUT's .conversions.parquet\n"
                    "(customer_id, timestamp, value, transaction_id, event) and, with stitching links,\n"
                    ".identities.parquet. Point compare (or a batch config) at them with --conversions and\n"
                    "--identities. Dropped rows (duplicates, excluded hits, ...) are counted on the terminal.",
        epilog=IMPORT_EXAMPLES, formatter_class=fmt,
    )
    i.add_argument("source", choices=("ga4", "adobe", "snowplow", "segment", "criteo"), metavar="SOURCE",
                   help="ga4, adobe, snowplow, segment or criteo")
    i.add_argument("input", metavar="INPUT", help="the export: Parquet, NDJSON, CSV or TSV (as the source writes it)")
    i.add_argument("--out", default="events.parquet", metavar="FILE", help="touchpoints file (default events.parquet)")
    _add_source_options(i.add_argument_group("source options"))
    _common(i, suppress=True)
    i.set_defaults(func=cmd_import)


def cmd_import(args) -> int:
    ns = SimpleNamespace(format=args.source, **{k: getattr(args, k, None) for k in _DATA_FLAGS if k != "format"})
    tables = _read_source(args.source, args.input, ns)
    out = Path(args.out)
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    paths = tables.to_parquet(out)
    if not args.quiet:
        summ = tables.summary()
        excluded = ", ".join(f"{int(v):,} {k[len('excluded_'):]}" for k, v in summ.items()
                             if str(k).startswith("excluded_") and v)
        print(f"{args.source}: {int(summ['input_rows']):,} rows -> {int(summ['touches']):,} touches, "
              f"{int(summ['conversions']):,} conversions (value {summ['value']:,.2f})"
              + (f"; excluded {excluded}" if excluded else ""))
        for role, path in paths.items():
            print(f"  {role:12s} {path}")
    return 0
