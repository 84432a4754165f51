"""``attribution calibrate``: correct a model's credit with lift and geo tests."""

from __future__ import annotations

import warnings
from pathlib import Path

from ._args import (
    UserError,
    _common,
    _input_options,
    _Progress,
    _progress_enabled,
    parse_models,
    pd,
)
from ._config import _namespace_from_args
from ._inputs import _read_tests, _require, load_journeys, read_table

CALIBRATE_EXAMPLES = """\
tests.csv, one row per lift or geo test (spend, kind, outcome, name optional):
  channel,start,end,incremental,se,spend,kind,outcome,name
  display,2026-04-02,2026-04-29,512.0,140.0,3300.5,holdout,conversions,display 10% holdout
  video,2026-03-01,2026-03-28,9800.0,2500.0,12000.0,geo,store_value,video geo test
incremental = the outcome the channel caused over the test in the scope of spend; se its
standard error; spend the channel's spend in the same scope (scales the test to the data's period).

writes to --out: report.html (with a Calibration section), calibration_credits.csv,
calibration_factors.csv, calibration_tests.csv, calibration.png and, with --costs,
calibration_roi.csv, calibration_next_tests.csv and calibration_plan.csv.

In batch configs (compare --config), a [tests] table calibrates every run:
  [tests]
  file = "tests.csv"        # required
  model = "markov"          # optional: the model to calibrate (default: the budget model)
  n_boot = 100              # optional: bootstrap replicates for the model's own interval

examples:
  attribution calibrate data/samples/touchpoints.csv --conversions data/samples/conversions.csv \\
      --identities data/samples/identities.csv --costs data/samples/costs.csv --tests tests.csv --out calibration
"""


def _calibration_files(cal, plan, out: Path) -> list[Path]:
    """Write the calibration tables and figure to ``out``; returns the files."""
    from .._csvwrite import write_csv

    out.mkdir(parents=True, exist_ok=True)
    files = []

    def put(name, frame, index=True):
        path = out / name
        write_csv(frame, path, index=index)  # rounded: money to cents, the rest to 1e-6
        files.append(path)

    put("calibration_credits.csv", cal.credits)
    put("calibration_factors.csv", cal.factors)
    put("calibration_tests.csv", cal.tests, index=False)
    if cal.costs is not None:
        put("calibration_roi.csv", cal.roi().table, index=False)
        put("calibration_next_tests.csv", cal.next_tests())
    if plan is not None:
        put("calibration_plan.csv", plan.allocation)
    from .. import report as _report

    (out / "calibration.png").write_bytes(_report._png(lambda ax: cal.plot(ax=ax), (7.5, 0.42 * len(cal.factors) + 1.6)))
    files.append(out / "calibration.png")
    return files


def _calibrate_run(ns, report, out: Path) -> list[Path]:
    """Batch runs with a [tests] table: calibrate the run's model and add the Calibration section."""
    from ..calibration import calibrate

    tests = _read_tests(ns.tests_file, "[tests] file")
    spec = ns.tests_model or report.meta.get("primary")
    if spec not in report.comparison.models:
        raise UserError(f"[tests] model {spec!r} is not among the run's models {report.comparison.labels}.")
    costs = report.comparison.costs
    cal = calibrate(report.comparison.models[spec], tests, journeys=report.journeys, costs=costs, n_boot=ns.tests_n_boot)
    plan = None
    if costs is not None:
        plan = cal.plan_budget(float(report.plan.total_budget) if report.plan is not None else
                               float(pd.to_numeric(costs["cost"]).sum()), n_draws=50)
    report.calibration, report.calibration_plan = cal, plan
    return _calibration_files(cal, plan, out)


def cmd_calibrate(args) -> int:
    ns = _namespace_from_args(args)  # argument and file checks first: a mistake loads nothing heavy
    spec = parse_models(args.model, "--model")
    ns.model_specs = list(spec)  # a model needing full histories (causal) gets journeys without lookback
    if len(spec) != 1:
        raise UserError(f"--model takes one model spec; got {spec}.")
    if args.n_boot < 0:
        raise UserError(f"--n-boot must be 0 or more; got {args.n_boot}.")
    tests = _read_tests(args.tests)
    from ..calibration import calibrate
    from ..decisions.comparison import compare
    from ..report import build_report

    progress = _Progress(_progress_enabled(args))
    try:
        progress.stage("reading inputs", 0, 5)
        journeys, inputs, settings, notes = load_journeys(ns)
        inputs["tests"] = str(args.tests)
        costs = None
        if args.costs:
            costs = read_table(args.costs, "--costs")
            inputs["costs"] = str(args.costs)
            if args.cost_column:
                _require(costs, args.cost_column, "--cost-column", args.costs, "cost")
                costs = costs.rename(columns={args.cost_column: "cost"})
        if args.budget is not None and costs is None:
            raise UserError("--budget needs --costs FILE (today's spend per channel) to plan from.")
        progress.stage(f"fitting {spec[0]}", 1, 5)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            comparison = compare(journeys, spec, costs=costs, progress=False)
            model = comparison.models[comparison.labels[0]]
            progress.stage("calibrating", 2, 5)
            cal = calibrate(model, tests, journeys=journeys, costs=costs, n_boot=args.n_boot)
            plan = None
            budget = args.budget
            if costs is not None:
                budget = budget if budget is not None else float(pd.to_numeric(comparison.roi_result.costs["cost"]).sum())
                plan = cal.plan_budget(budget, n_draws=args.draws)
        notes += [str(w.message) for w in caught]
        settings["calibrated model"] = spec[0]
        report = build_report(comparison, budget=budget if costs is not None else False,
                              budget_model=comparison.labels[0], ropo=False, kpis=False, calibration=cal,
                              title=args.title or f"Calibration report: {Path(ns.input).name}",
                              inputs=inputs, settings=settings, notes=notes, progress=progress.report_callback(3))
        report.calibration_plan = plan
        progress.stage("writing files")
        out = Path(args.out)
        files = report.write(out) + _calibration_files(cal, plan, out)
    finally:
        progress.close()
    h = cal.hyper
    print(f"{len(cal.tests)} test(s) on {int(h['tested_channels'])} channel(s) calibrate {spec[0]} ({cal.estimand}) "
          f"-> incremental credit. Mean incrementality factor {h['mu']:.3f} (sd {h['mu_sd']:.3f}), "
          f"between-channel sd {h['tau']:.3f}.")
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        print(cal.comparison.round(3).to_string())
    if plan is not None:
        print(f"\nCalibrated budget plan ({plan.total_budget:,.2f}): see calibration_plan.csv.")
        nt = cal.next_tests()
        print(f"Test next: {nt.index[0]} (factor sd {nt['factor_sd'].iloc[0]:.3f}, {nt['spend_share'].iloc[0]:.0%} of spend).")
    print(f"\nWrote {len(files)} files to {out}/ -- open {out / 'report.html'}")
    return 0


def add_parser(sub, fmt) -> None:
    """The arguments of ``attribution calibrate``."""
    cb = sub.add_parser(
        "calibrate", help="correct a model's credit with lift and geo tests (incremental credit, ROI, plan)",
        description="Fit one model, correct its credit with experiments (tests.csv) and write the calibrated\n"
                    "incremental credit, factors, ROI, a budget plan with intervals and report.html to --out.",
        epilog=CALIBRATE_EXAMPLES, formatter_class=fmt,
    )
    _input_options(cb)
    cbo = cb.add_argument_group("calibration and output")
    cbo.add_argument("--tests", required=True, metavar="FILE", help="lift and geo test results (CSV layout below)")
    cbo.add_argument("--model", default="markov", metavar="SPEC", help="the model to calibrate (default markov)")
    cbo.add_argument("--costs", metavar="FILE", help="costs per channel (or per day): scale the tests, ROI and the plan")
    cbo.add_argument("--cost-column", metavar="COLUMN", help="cost column of --costs (default: cost, spend, costs or amount)")
    cbo.add_argument("--budget", type=float, metavar="AMOUNT", help="budget to plan (default: today's total spend)")
    cbo.add_argument("--n-boot", type=int, default=100, metavar="N",
                     help="bootstrap replicates for the model's own interval when it has none (default 100; 0: none)")
    cbo.add_argument("--draws", type=int, default=100, metavar="N", help="posterior draws for the plan's interval (default 100)")
    cbo.add_argument("--out", default="attribution-calibration", metavar="DIR", help="output folder (default attribution-calibration)")
    cbo.add_argument("--title", help="title of the report")
    _common(cb, suppress=True)
    cb.set_defaults(func=cmd_calibrate)
