"""``attribution simulate``: write a simulated omnichannel data set with known truth."""

from __future__ import annotations

import sys

from ._args import UserError, _common, _Progress, _progress_enabled

SIMULATE_EXAMPLES = """\
writes touchpoints.csv, conversions.csv, identities.csv, customers.csv, costs.csv, truth.csv and
paths.csv. With the defaults it reproduces data/samples/ byte for byte.

examples:
  attribution simulate --out my-sample
  attribution simulate --out big --customers 50000 --days 90 --seed 7
"""


def cmd_simulate(args) -> int:
    from ..datasets import SAMPLE_PARAMS, simulate

    if args.n_customers < 1:
        raise UserError(f"--customers must be at least 1; got {args.n_customers}.")
    if args.days < 1:
        raise UserError(f"--days must be at least 1; got {args.days}.")
    progress = _Progress(_progress_enabled(args), total=2)
    try:
        progress.stage("simulating", 0)
        data = simulate(args.n_customers, start=args.start, days=args.days, random_state=args.seed)
        progress.stage("writing CSV files", 1)
        files = data.to_csv(args.out, paths=not args.no_paths)
    finally:
        progress.close()
    for path in files:
        print(f"{path}  ({path.stat().st_size:,} bytes)")
    same = (args.n_customers, args.start, args.days, args.seed) == (
        SAMPLE_PARAMS["n_customers"], SAMPLE_PARAMS["start"], SAMPLE_PARAMS["days"], SAMPLE_PARAMS["random_state"])
    if same and not args.quiet:
        print("(the same data as data/samples/)", file=sys.stderr)
    return 0


def add_parser(sub, fmt) -> None:
    """The arguments of ``attribution simulate``."""
    s = sub.add_parser(
        "simulate", help="write a simulated omnichannel data set with known true channel effects",
        description="Simulate an omnichannel retailer (online and store purchases, cookies and loyalty cards,\n"
                    "daily costs) whose true incremental conversions per channel are known (truth.csv).",
        epilog=SIMULATE_EXAMPLES, formatter_class=fmt,
    )
    s.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    s.add_argument("--customers", "--n-customers", dest="n_customers", type=int, default=3000, metavar="N",
                   help="number of simulated people (default 3000)")
    s.add_argument("--days", type=int, default=60, metavar="N", help="length of the window in days (default 60)")
    s.add_argument("--start", default="2026-03-01", metavar="DATE", help="first day, UTC (default 2026-03-01)")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    s.add_argument("--no-paths", action="store_true", help="do not write paths.csv")
    _common(s, suppress=True)
    s.set_defaults(func=cmd_simulate)
