"""The ``attribution`` command line: thin argument parsing over the Python API."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import pandas as pd

DEFAULT_MODELS = "first_touch,last_touch,last_non_direct,linear,position_based,time_decay,markov"

EXAMPLES = """\
examples:
  attribution compare data/samples/touchpoints.csv --conversions data/samples/conversions.csv \\
      --identities data/samples/identities.csv --truth data/samples/truth.csv --out results
  attribution compare ../shared/data/pathdata/Data.csv --paths --models linear,markov:order=2
  attribution simulate --out data/samples
"""


class UserError(Exception):
    """A mistake in the command line or the input files: reported in one line."""


def read_table(path: str) -> pd.DataFrame:
    """Read CSV (``,`` or ``;`` separated, optionally compressed) or Parquet."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"file not found: {path}")
    if p.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(p)
    import gzip

    opener = gzip.open if p.suffix.lower() == ".gz" else open
    with opener(p, "rt", encoding="utf-8") as fh:
        head = fh.readline()
    sep = ";" if head.count(";") > head.count(",") else ","
    return pd.read_csv(p, sep=sep)


def _journeys_from_args(args):
    from .journeys import Journeys

    table = read_table(args.input)
    paths = args.paths or ("path" in table.columns and args.conversions is None)
    if paths:
        return Journeys.from_paths(table, path=args.path_column, sep=args.sep)
    conversions = read_table(args.conversions) if args.conversions else None
    identities = read_table(args.identities) if args.identities else None
    return Journeys.from_events(
        table, conversions, customer=args.customer, time=args.time, channel=args.channel,
        value=args.value, place=args.place, lookback=args.lookback, identities=identities,
    )


def cmd_compare(args) -> int:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        journeys = _journeys_from_args(args)
        specs = [s.strip() for s in args.models.split(",") if s.strip()]
        if not journeys.has_time:
            dropped = [s for s in specs if s.split(":")[0] == "time_decay"]
            if dropped and args.models == DEFAULT_MODELS:
                warnings.warn("time_decay skipped: path tables have no timestamps.")
                specs = [s for s in specs if s not in dropped]
        from .compare import compare

        comparison = compare(journeys, specs, progress=False)
    for message in dict.fromkeys(str(w.message) for w in caught):
        print(f"note: {message}", file=sys.stderr)
    long = comparison.credits
    wide = comparison.credits_wide.copy()
    if args.truth:
        truth = read_table(args.truth).set_index("channel")
        wide["(truth)"] = truth["conversions"].reindex(wide.index)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    long.to_csv(out / "credits.csv", index=False)
    wide.to_csv(out / "credits_wide.csv")
    print(journeys)
    print(f"\nConversions credited to each channel by each model (written to {out}/):")
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        print(wide.round(1).to_string())
    if args.truth:
        baseline = journeys.total_conversions - wide["(truth)"].sum()
        print(
            f"\n(truth) is each channel's true incremental conversions (Shapley value of the simulated "
            f"world); the other {baseline:,.1f} conversions would have happened with every channel "
            "switched off, so the models' columns sum to more."
        )
    return 0


def cmd_simulate(args) -> int:
    from .datasets import simulate

    data = simulate(n_customers=args.customers, random_state=args.seed)
    for path in data.to_csv(args.out):
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attribution",
        description="Multi-touch marketing attribution: compare models on event logs or path tables.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--verbose", action="store_true", help="show the full traceback on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    c = sub.add_parser(
        "compare", help="fit several models and compare their credits", epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument("input", help="touchpoints (events) or a path table: CSV or Parquet")
    c.add_argument("--conversions", help="conversions table (events); default: found inside INPUT")
    c.add_argument("--identities", help="id links (e.g. cookie_id, loyalty_id), one link per row")
    c.add_argument("--paths", action="store_true", help="INPUT is an aggregated path table")
    c.add_argument("--models", default=DEFAULT_MODELS, help=f"comma-separated model specs (default: {DEFAULT_MODELS})")
    c.add_argument("--lookback", default="30D", help="lookback window, e.g. 30D (default 30D)")
    c.add_argument("--truth", help="true credits per channel (the simulator's truth.csv) to show beside the models")
    c.add_argument("--out", default="attribution-results", help="output folder (default attribution-results)")
    for name, default in [("customer", "customer_id"), ("time", "timestamp"), ("channel", "channel"),
                          ("value", "value"), ("place", "place")]:
        c.add_argument(f"--{name}", default=default, help=f"{name} column of the events (default {default})")
    c.add_argument("--path-column", default="path", help="path column of a path table (default path)")
    c.add_argument("--sep", default=">", help="channel separator in paths (default '>')")
    c.set_defaults(func=cmd_compare)

    s = sub.add_parser("simulate", help="write a simulated omnichannel data set with known truth")
    s.add_argument("--out", required=True, help="output folder")
    s.add_argument("--customers", type=int, default=3000, help="number of customers (default 3000)")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    s.set_defaults(func=cmd_simulate)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (UserError, ValueError, TypeError, KeyError, OSError) as exc:
        if args.verbose:
            raise
        print(f"attribution: error: {exc}\n(run with --verbose for the traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
