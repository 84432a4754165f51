"""``attribution ropo``: research online, purchase offline."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from .. import _defaults
from ._args import (
    UserError,
    _common,
    _input_options,
    _Progress,
    _progress_enabled,
    _split_list,
    check_out,
    parse_lookback,
    parse_models,
    pd,
)
from ._config import _namespace_from_args
from ._inputs import _require, load_journeys, read_table

ROPO_EXAMPLES = """\
ROPO needs conversions with a place column (e.g. online / store); store purchases gain their
online history through --identities. Offline channels default to those named like store_visit.
writes to --out: report.html, ropo_summary.csv, ropo_by_channel.csv (ropo_incrementality.csv
with --customers) and ropo.png.

examples:
  attribution ropo data/samples/touchpoints.csv --conversions data/samples/conversions.csv \\
      --identities data/samples/identities.csv --customers data/samples/customers.csv --out ropo
  attribution ropo events.csv --conversions orders.csv --offline store_visit,call_centre \\
      --store-places store,outlet --model markov:order=2 --out ropo
"""


def cmd_ropo(args) -> int:
    ns = _namespace_from_args(args)  # argument and file checks first: a mistake loads nothing heavy
    model = parse_models(args.model, "--model")
    ns.model_specs = list(model)  # a model needing full histories (causal) gets journeys without lookback
    if len(model) != 1:
        raise UserError(f"--model takes one model spec; got {model}.")
    window = parse_lookback(args.research_window, "--research-window") or None
    if args.n_boot < 0:
        raise UserError(f"--n-boot must be 0 or more; got {args.n_boot}.")
    check_out(args.out, args.force)
    from ..omnichannel import ropo
    from ..report import build_report, guess_offline

    progress = _Progress(_progress_enabled(args))
    try:
        progress.stage("reading inputs", 0, 5)
        journeys, inputs, settings, notes = load_journeys(ns)
        if not journeys.has_place:
            raise UserError(
                f"ROPO needs the place of each conversion (e.g. online / store): no column {ns.place!r} in "
                f"{ns.conversions or ns.input}; name it with --place COLUMN."
            )
        stores = _split_list(args.store_places) or ["store"]
        places = [str(p) for p in journeys.places]
        if not set(stores) & set(places):
            raise UserError(f"no conversion happened at a store place {stores} (--store-places); places found: "
                            f"{places}. Name the store places with --store-places, e.g. --store-places {places[-1]}.")
        if args.offline is None:
            offline = guess_offline(journeys.channels)
            settings["offline channels"] = (", ".join(offline) or "none") + " (guessed from the names; set with --offline)"
        else:
            offline = _split_list(args.offline)
            settings["offline channels"] = ", ".join(offline) or "none"
        customers = None
        if args.customers:
            customers = read_table(args.customers, "--customers")
            inputs["customers"] = str(args.customers)
            _require(customers, args.customer_id, "--customer-id", args.customers, "customer id")
        progress.stage("ROPO", 1, 5)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = ropo(journeys, model[0], offline=offline, customers=customers, customer_id=args.customer_id,
                          research_window=window, store_places=tuple(stores), n_boot=args.n_boot)
        notes += [str(w.message) for w in caught]
        report = build_report(journeys, False, budget=False, ropo=result, kpis=False, budget_model=model[0],
                              offline=offline, title=args.title or f"ROPO report: {Path(ns.input).name}",
                              inputs=inputs, settings=settings, notes=notes, progress=progress.report_callback(2))
        progress.stage("writing files")
        files = report.write(args.out)
    finally:
        progress.close()
    s = result.summary
    print(f"Store purchases: {s['store_conversions']:,.0f}; ROPO rate {s['ropo_rate']:.1%} (online research within "
          f"{args.research_window} before); showrooming rate {s['showrooming_rate']:.1%}.")
    print(f"Online channels earn {s['store_conversions_credited_to_online']:,.1f} store conversions under {model[0]} "
          f"({s['online_credit_store_share']:.1%} of their credit).")
    if result.incrementality is not None:
        inc = result.incrementality
        print(f"Incremental store purchases from online research (IPW, observational): "
              f"{inc['incremental_store_conversions']:,.1f} [{inc['incremental_low']:,.1f}, {inc['incremental_high']:,.1f}].")
    print("\nCredit by place of purchase:")
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        print(result.by_channel.round(2).to_string())
    for n in result.notes:
        print(f"note: {n}", file=sys.stderr)
    print(f"\nWrote {len(files)} files to {args.out}/ -- open {Path(args.out) / 'report.html'}")
    return 0


def add_parser(sub, fmt) -> None:
    """The arguments of ``attribution ropo``."""
    rp = sub.add_parser(
        "ropo", help="research online, purchase offline: store credit of online channels",
        description="ROPO: how many store purchases had online research before them, how much store credit each\n"
                    "online channel earns under a model, and (with --customers) an incrementality estimate.",
        epilog=ROPO_EXAMPLES, formatter_class=fmt,
    )
    _input_options(rp)
    ro = rp.add_argument_group("ROPO and output")
    ro.add_argument("--model", default="markov", metavar="SPEC", help="attribution model (default markov)")
    ro.add_argument("--offline", metavar="CHANNELS", help="offline channels, comma-separated (default: names like store_visit)")
    ro.add_argument("--store-places", default="store", metavar="PLACES", help="conversion places that are stores (default store)")
    ro.add_argument("--research-window", default="30D", metavar="DURATION",
                    help="online touches up to this long before a store purchase count as research (default 30D)")
    ro.add_argument("--customers", metavar="FILE", help="customer base (id + numeric covariates) for the incrementality estimate")
    ro.add_argument("--customer-id", default="loyalty_id", metavar="COLUMN", help="id column of --customers (default loyalty_id)")
    ro.add_argument("--n-boot", type=int, default=_defaults.N_BOOT, metavar="N",
                    help=f"bootstrap replicates of the incrementality interval (default {_defaults.N_BOOT})")
    ro.add_argument("--out", default="attribution-ropo", metavar="DIR", help="output folder (default attribution-ropo)")
    ro.add_argument("--force", action="store_true", help="overwrite an earlier report in the --out folder")
    ro.add_argument("--title", help="title of the report")
    _common(rp, suppress=True)
    rp.set_defaults(func=cmd_ropo)
