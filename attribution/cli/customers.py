"""``attribution customers``: customer value, retention, churn and lifetime value."""

from __future__ import annotations

from pathlib import Path

from ._args import UserError, _common, _split_list, parse_models, pd
from ._inputs import _require, read_table

CUSTOMERS_EXAMPLES = """\
examples:
  attribution customers ../shared/data/omnichannel/online_offline_customers.csv.gz --out flo-customers
      a customer summary (the FLO layout: online/offline order counts and values, first/last order dates)
  attribution customers data/samples/conversions.csv --identities data/samples/identities.csv --out cust
      one row per order (customer_id, timestamp, value, place), ids stitched through the identity links
  attribution customers data/samples/conversions.csv --identities data/samples/identities.csv \\
      --touchpoints data/samples/touchpoints.csv --costs data/samples/costs.csv --out cust
      plus the acquisition channel of each customer and ROI on order value and on lifetime value
"""


def add_parser(sub, fmt) -> None:
    cu = sub.add_parser(
        "customers", help="customer value: segment KPIs, omnichannel vs single-channel, retention, churn, CLV",
        description="Customer KPIs per segment (online-only, store-only, omnichannel, or by online share), a\n"
                    "permutation test of omnichannel vs single-channel customers, cohort retention, a churn flag and\n"
                    "BG/NBD + Gamma-Gamma lifetime value. INPUT is one row per order or one row per customer\n"
                    "(a summary in the FLO layout, recognised by its columns).",
        epilog=CUSTOMERS_EXAMPLES, formatter_class=fmt,
    )
    cu.add_argument("input", metavar="INPUT", help="orders or a customer summary: CSV (.gz allowed) or Parquet")
    g = cu.add_argument_group("orders input")
    g.add_argument("--identities", metavar="FILE", help="id links: the ids on a row are one person")
    g.add_argument("--customer", default="customer_id", metavar="COLUMN", help="customer id column (default customer_id)")
    g.add_argument("--time", default="timestamp", metavar="COLUMN", help="order time column (default timestamp)")
    g.add_argument("--value", default="value", metavar="COLUMN", help="order value column (default value)")
    g.add_argument("--place", default="place", metavar="COLUMN", help="order place column (default place)")
    g.add_argument("--store-places", default="store", metavar="PLACES", help="places that are stores (default store)")
    g.add_argument("--touchpoints", metavar="FILE",
                   help="touch events (customer, timestamp, channel): acquisition channel per customer and, with "
                        "--costs, ROI on order value and on lifetime value")
    g.add_argument("--channel", default="channel", metavar="COLUMN", help="channel column of --touchpoints (default channel)")
    g.add_argument("--costs", metavar="FILE", help="costs per channel (channel, cost[, day]) for lifetime ROI")
    g.add_argument("--model", default="markov", metavar="SPEC", help="model of the lifetime ROI (default markov)")
    o = cu.add_argument_group("analysis and output")
    o.add_argument("--horizon", type=float, default=52, metavar="WEEKS", help="CLV horizon in weeks (default 52)")
    o.add_argument("--no-clv", action="store_true", help="skip the BG/NBD + Gamma-Gamma lifetime value")
    o.add_argument("--n-boot", type=int, default=200, metavar="N", help="bootstrap replicates (default 200)")
    o.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    o.add_argument("--out", default="attribution-customers", metavar="DIR", help="output folder (default attribution-customers)")
    o.add_argument("--title", help="title of the report")
    _common(cu, suppress=True)
    cu.set_defaults(func=cmd_customers)


def cmd_customers(args) -> int:
    from ..customers import CustomerTable, customer_table

    df = read_table(args.input, "INPUT")
    if "order_num_total_ever_online" in df.columns:
        table = CustomerTable.from_summary(df)
    else:
        for flag, col in (("--customer", args.customer), ("--time", args.time)):
            _require(df, col, flag, args.input, flag.strip("-"))
        ids = read_table(args.identities, "--identities") if args.identities else None
        journeys = None
        if args.touchpoints:
            from ..journeys import Journeys

            tp = read_table(args.touchpoints, "--touchpoints")
            for flag, col in (("--customer", args.customer), ("--time", args.time), ("--channel", args.channel)):
                _require(tp, col, flag, args.touchpoints, flag.strip("-"))
            journeys = Journeys.from_events(tp, df, customer=args.customer, time=args.time, channel=args.channel,
                                            value=args.value, place=args.place, identities=ids)
        table = customer_table(df, ids, customer=args.customer, time=args.time, value=args.value, place=args.place,
                               store_places=tuple(_split_list(args.store_places)), journeys=journeys)
    if args.n_boot < 0:
        raise UserError(f"--n-boot must be 0 or more; got {args.n_boot}.")
    costs = None
    if args.costs:
        if table.source != "orders" or not args.touchpoints:
            raise UserError("--costs needs order-level INPUT and --touchpoints (the journeys the lifetime ROI is attributed on).")
        costs = read_table(args.costs, "--costs")
    model = parse_models(args.model, "--model")[0]
    analysis = table.analyse(n_boot=args.n_boot, random_state=args.seed, horizon=args.horizon, clv=not args.no_clv,
                             journeys=journeys if costs is not None else None, costs=costs, model=model)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = analysis.write(out)
    if args.title:
        (out / "customers.html").write_text(analysis.to_html(args.title), encoding="utf-8")
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        print(repr(table))
        print(analysis.kpis.summary())
        for t in analysis.tests:
            print("\n" + t.note())
        if analysis.clv is not None:
            print("\n" + analysis.clv.summary())
        if analysis.roi is not None:
            print(f"\nROI on order value and on lifetime value ({model}):")
            print(analysis.roi.round(2).to_string())
    print(f"\nWrote {len(files)} files to {out}/ -- open {out / 'customers.html'}")
    return 0
