"""``attribution kpis``: journey KPIs before any model."""

from __future__ import annotations

from pathlib import Path

from ._args import (
    UserError,
    _common,
    _input_options,
    _Progress,
    _progress_enabled,
    check_out,
    pd,
)
from ._config import _namespace_from_args
from ._inputs import _require, load_journeys, read_table

KPIS_EXAMPLES = """\
writes to --out: report.html, kpis_by_channel.csv, kpis_overall.csv, kpis_top_paths.csv,
kpis_drop_off.csv, kpis_drop_off_steps.csv, kpis_touches_distribution.csv (and kpis_funnel.csv
with --stages) and the figures as PNG.

examples:
  attribution kpis data/samples/touchpoints.csv --conversions data/samples/conversions.csv \\
      --identities data/samples/identities.csv --out kpis
  attribution kpis data/samples/paths.csv --paths --top 20 --out kpis
  attribution kpis events.csv --stages stages.csv --out kpis     # stages.csv: channel,stage
"""


def cmd_kpis(args) -> int:
    ns = _namespace_from_args(args)  # argument and file checks first: a mistake loads nothing heavy
    check_out(args.out, args.force)
    from ..journey_kpis import kpis
    from ..report import build_report

    progress = _Progress(_progress_enabled(args))
    try:
        progress.stage("reading inputs", 0, 5)
        journeys, inputs, settings, notes = load_journeys(ns)
        stages = None
        if args.stages:
            table = read_table(args.stages, "--stages")
            for col in ("channel", "stage"):
                _require(table, col, "--stages (needs channel, stage)", args.stages, col)
            stages = dict(zip(table["channel"].astype(str), table["stage"].astype(str)))
            inputs["stages"] = str(args.stages)
        if args.top < 1:
            raise UserError(f"--top must be at least 1; got {args.top}.")
        progress.stage("journey KPIs", 1, 5)
        report_kpis = kpis(journeys, stages=stages, top=args.top)
        report = build_report(journeys, False, budget=False, ropo=False, kpis=report_kpis,
                              title=args.title or f"Journey KPIs: {Path(ns.input).name}", inputs=inputs,
                              settings=settings, notes=notes, progress=progress.report_callback(2))
        progress.stage("writing files")
        files = report.write(args.out)
    finally:
        progress.close()
    o = report_kpis.overall
    print(f"{o['journeys']:,.0f} journeys, {o['conversions']:,.6g} conversions, conversion rate "
          f"{o['conversion_rate']:.2%}, {o['touches_per_journey_mean']:.2f} touches per journey.")
    cols = [c for c in ("touches", "reach", "journeys", "conversion_rate", "share_first", "share_last")
            if c in report_kpis.by_channel.columns]
    from .._terminal import format_table

    print("\nPer channel (counts weighted; rates and shares in %):")
    with pd.option_context("display.width", 200, "display.max_columns", 50, "display.max_colwidth", 80):
        print(format_table(report_kpis.by_channel[cols].sort_values("journeys", ascending=False)).to_string())
        print("\nMost frequent paths:")
        print(format_table(report_kpis.top_paths).to_string())
    print(f"\nWrote {len(files)} files to {args.out}/ -- open {Path(args.out) / 'report.html'}")
    return 0


def add_parser(sub, fmt) -> None:
    """The arguments of ``attribution kpis``."""
    k = sub.add_parser(
        "kpis", help="journey KPIs: reach, positions, conversion rates, top paths, drop-off",
        description="Journey KPIs before any model: per channel (touches, reach, conversion rate of journeys\n"
                    "containing it, positions), per journey set, most frequent paths and drop-off points.",
        epilog=KPIS_EXAMPLES, formatter_class=fmt,
    )
    _input_options(k)
    ko = k.add_argument_group("KPIs and output")
    ko.add_argument("--top", type=int, default=10, metavar="N", help="number of most frequent paths (default 10)")
    ko.add_argument("--stages", metavar="FILE", help="funnel stages: a table with columns channel, stage")
    ko.add_argument("--out", default="attribution-kpis", metavar="DIR", help="output folder (default attribution-kpis)")
    ko.add_argument("--force", action="store_true", help="overwrite an earlier report in the --out folder")
    ko.add_argument("--title", help="title of the report")
    _common(k, suppress=True)
    k.set_defaults(func=cmd_kpis)
