"""``attribution compare``: fit several models on one input (or a batch) and write the report."""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path

from ._args import (
    DEFAULT_BOUNDS,
    UserError,
    _common,
    _input_options,
    _one_line,
    _parse_bounds,
    _Progress,
    _progress_enabled,
    _split_list,
    check_out,
    pd,
)
from ._config import _namespace_from_args, load_config
from ._inputs import _add_data_options, _require, load_journeys, read_table
from .calibrate import _calibrate_run

COMPARE_EXAMPLES = """\
what is written to --out:
  report.html      one self-contained page: data summary, model comparison, ROI and budget plan
                   (with --costs), ROPO (conversions with a store place), journey KPIs, method notes
  credits.csv      model, estimand, channel, conversions, value, share (credits_wide.csv: channel x model)
  journey_credits.parquet, credits_by_touch_type.csv (post-click / post-view; touches with a type)
                   with --journey-credits
  roi.csv          channel, model, estimand, cost, conversions, value, roi, roas, cpa (with --costs)
  validity.csv     the validity scorecard of an incremental model: grade A-D per channel and why
  budget_plan.csv  today's spend, the plan and the expected outcome per channel (with --costs)
  *.png            every figure of the report; other tables as CSV (ropo_*, kpis_*)

default models (the same as Python's compare): first_touch, last_touch, last_non_direct, linear,
position_based, time_decay (skipped on path tables), markov and shapley.

model specs (--models): names or name:key=value,key=value, separated by commas, e.g.
  last_touch,linear,markov:order=2,shapley:method=conversion_rate
  position_based:first=0.3,last=0.5   time_decay:half_life=3D   markov:order=auto
  models: first_touch last_touch last_non_direct linear position_based time_decay custom
          markov shapley logistic probabilistic fractribution
  incremental (estimand: what channels cause, with a '(baseline)' row): causal aipw

examples:
  attribution compare data/samples/touchpoints.csv --conversions data/samples/conversions.csv \\
      --identities data/samples/identities.csv --costs data/samples/costs.csv \\
      --customers data/samples/customers.csv --truth data/samples/truth.csv --out results
  attribution compare events.parquet --customer user_id --time ts --channel source \\
      --models last_touch,markov:order=2 --lookback 14D --out results
  attribution compare data/samples/paths.csv --paths --models linear,markov,shapley --out paths-results
  attribution compare 'events/touchpoints/*.parquet' --conversions 'events/conversions/*.parquet' \\
      --engine duckdb --models linear,markov --out big-results     # out of core
  attribution compare --config runs.toml

batch runs (--config runs.toml): every input x every model set, one folder each
(OUT/<input>/<model set>/, the same files as above) and OUT/summary.csv with one row per
run x model x channel. Relative paths are relative to the TOML file.

  out = "batch-results"              # optional (default "attribution-runs"); --out overrides it

  [defaults]                         # optional: keys applied to every input
  lookback = "30D"

  [inputs.sample]                    # one table per input; the name names its folder
  input = "data/samples/touchpoints.csv"     # required; every other key is optional
  conversions = "data/samples/conversions.csv"
  identities = "data/samples/identities.csv"
  costs = "data/samples/costs.csv"

  [inputs.paths]
  input = "data/samples/paths.csv"
  paths = true

  [inputs.big]                       # engine = "duckdb": input and conversions may be globs
  input = "events/touchpoints/*.parquet"
  conversions = "events/conversions/*.parquet"
  engine = "duckdb"

  [models]                           # model sets: name = [specs] (or one comma-separated string)
  rules = ["last_touch", "linear", "position_based"]
  data_driven = ["markov", "markov:order=2", "shapley"]

  input keys: input, conversions, identities, costs, truth, customers (files); paths (true/false);
  lookback, customer, time, channel, value, place, path_column, sep, cost_column, customer_id,
  budget_model, title (text); offline, store_places (lists); budget (number); bounds ([low, high]);
  journey rules: exclude (list), collapse_repeats (true/false), max_length, lookback_touches (whole
  numbers); bootstrap (replicates, e.g. 100: intervals of credit and ROI).

lookback: 30D unless --lookback is given; none when a model needs every touch (causal: its exposure
histories must not be cut), for every model of the run (one journey set, comparable credits).
"""


def _run_compare(ns, out: Path, progress: _Progress, *, label: str = ""):
    """Build journeys, fit, report and write one output folder; returns (report, files)."""
    from ..report import build_report

    progress.stage("reading inputs", 0, 10)
    journeys, inputs, settings, notes = load_journeys(ns, label=label)
    specs = ns.model_specs
    if not journeys.has_time:
        dropped = [s for s in specs if s.split(":")[0].strip() == "time_decay"]
        if dropped and ns.models_default:
            warnings.warn("time_decay skipped: path tables have no timestamps.")
            notes.append("time_decay skipped: path tables have no timestamps.")
            specs = [s for s in specs if s not in dropped]
        elif dropped:
            raise UserError(f"{dropped[0]} needs timestamps, but {ns.input} is a path table: leave it out of --models.")
    costs = truth = customers = None
    if ns.costs:
        costs = read_table(ns.costs, "--costs")
        inputs["costs"] = str(ns.costs)
        if ns.cost_column:
            _require(costs, ns.cost_column, "--cost-column", ns.costs, "cost")
            costs = costs.rename(columns={ns.cost_column: "cost"})
        if "channel" not in costs.columns and ns.channel in costs.columns:
            costs = costs.rename(columns={ns.channel: "channel"})
        _require(costs, "channel", "--channel", ns.costs, "channel")
        if not {"cost", "spend", "costs", "amount"} & set(costs.columns):
            raise UserError(f"{ns.costs} has no cost column (cost, spend, costs or amount); columns found: "
                            f"{[str(c) for c in costs.columns]}; name it with --cost-column COLUMN.")
    if ns.truth:
        truth = read_table(ns.truth, "--truth")
        inputs["truth"] = str(ns.truth)
        for col in ("channel", "conversions"):
            _require(truth, col, "--truth (needs channel, conversions)", ns.truth, col)
    if ns.customers:
        customers = read_table(ns.customers, "--customers")
        inputs["customers"] = str(ns.customers)
        _require(customers, ns.customer_id, "--customer-id", ns.customers, "customer id")
    offline = _split_list(ns.offline) if ns.offline is not None else None
    if ns.budget is not None and not (math.isfinite(ns.budget) and round(ns.budget, 2) >= 0.01):
        raise UserError(f"--budget must be a finite amount of at least 0.01 (plans are made in whole cents); "
                        f"got {ns.budget!r}.")
    if ns.budget is not None and not ns.costs:
        raise UserError("--budget needs --costs FILE (today's spend per channel) to plan from.")
    if ns.budget_model is not None and ns.budget_model not in specs:
        raise UserError(f"--budget-model {ns.budget_model!r} is not one of the compared models {specs}.")
    bounds = _parse_bounds(ns.bounds)
    boot = getattr(ns, "bootstrap", None) or None
    if boot is not None:
        if isinstance(boot, bool) or not isinstance(boot, int) or boot < 0:
            raise UserError(f"--bootstrap must be a whole number of replicates (e.g. 100; 0: none); got {boot!r}.")
        settings["bootstrap"] = f"{boot:,} replicates, 90% percentile intervals"
    try:
        report = build_report(
            journeys, specs, costs=costs, truth=truth,
            budget=ns.budget if ns.budget is not None else "auto", budget_model=ns.budget_model, bounds=bounds,
            offline=offline, customers=customers, customer_id=ns.customer_id,
            store_places=tuple(_split_list(ns.store_places)) or ("store",),
            title=ns.title or f"Attribution report: {Path(ns.input).name}", bootstrap=boot,
            inputs=inputs, settings=settings, notes=notes, progress=progress.report_callback(2),
        )
    except ValueError as exc:
        if "bounds make the plan infeasible" in str(exc):
            raise UserError(f"{_one_line(exc)[0]} Set them with --bounds LOW,HIGH (now {ns.bounds}), or change "
                            "--budget.") from exc
        raise
    extra = _calibrate_run(ns, report, out) if getattr(ns, "tests_file", None) else []
    progress.stage("writing files")
    files = report.write(out) + extra
    if getattr(ns, "journey_credits", False):
        files = _write_journey_credits(report, out, files)
    return report, files


def _print_compare(report, out: Path, files, *, truth_note: bool = True) -> None:
    j = report.journeys
    table = report.credits_table()
    print(f"{j.total_conversions + j.total_nulls:,.0f} journeys ({j.total_conversions:,.6g} conversions, value {j.total_value:,.2f}), "
          f"{j.n_channels} channels, {len(report.comparison.labels)} models.")
    print("\nConversions credited to each channel by each model:")
    print(report.comparison._estimand_note())
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        print(table.round(1).to_string())
    if report.truth is not None and truth_note:
        base = j.total_conversions - float(report.truth.sum())
        print(f"\n'truth' is each channel's true incremental conversions (simulated data); the other {base:,.1f} "
              "conversions would have happened with every channel switched off, so the models sum to more.")
    if report.has_costs:
        primary = report.meta.get("primary")
        roi = report.comparison.roi
        part = roi[(roi["model"] == primary) & (roi["cost"] > 0)].sort_values("roi", ascending=False)
        if len(part):
            from .._display import _metric_name

            print(f"\n{_metric_name('roi', part['estimand'])} under {primary} (value - cost) / cost: "
                  + ", ".join(f"{c} {v:.2f}" for c, v in zip(part["channel"], part["roi"])))
    if report.validity is not None:
        v = report.validity
        print(f"Validity of {v.model}'s incremental credit: "
              + ", ".join(f"{c} {g}" for c, g in v.grades.items())
              + (f"; graded D (held at today's spend): {v.flagged}" if v.flagged else "") + "; see validity.csv.")
    if report.plan is not None:
        t = report.plan.totals
        obj = report.plan.objective
        gain = t.loc["plan", obj] / t.loc["today", obj] - 1 if t.loc["today", obj] else float("nan")
        kind = "incremental" if report.plan.estimand == "incremental" else "attributed"
        print(f"Budget plan ({report.plan.total_budget:,.2f}, {report.meta.get('bounds', '')}): expected {kind} {obj} "
              f"{gain:+.1%} under {report.plan.model}; see budget_plan.csv.")
        for head in (getattr(report.plan, "caveat", ""), getattr(report.plan, "marginal_note", "")):
            if head:  # weak or assumed response curves; every extra unit losing money
                print(head)
        direction = report.plan_direction()
        if direction is not None and direction.attrs.get("required"):
            wrong = direction.index[direction["verdict"] == "wrong"].tolist()
            held = direction.attrs.get("held", [])
            print(f"Against --truth: the plan moves {direction.attrs['share_right']:.0%} of the "
                  f"{direction.attrs['required']} channels whose true incremental return differs from the median by "
                  "more than 25% in the right direction" + (f" (wrong: {wrong})" if wrong else "")
                  + (f" (held at today's spend by the validity scorecard or hold=, so not moved: {held})" if held else "")
                  + "; see budget_vs_truth.csv.")
    if report.ropo is not None:
        s = report.ropo.summary
        print(f"ROPO: {s['ropo_rate']:.1%} of {s['store_conversions']:,.0f} store purchases had online research before.")
    print(f"\nWrote {len(files)} files to {out}/ -- open {out / 'report.html'}")


def cmd_compare(args) -> int:
    if args.config:
        if args.input:
            raise UserError("give either INPUT or --config runs.toml, not both.")
        return _cmd_batch(args)
    if not args.input:
        raise UserError("compare needs an INPUT file (touchpoints or a path table) or --config runs.toml; "
                        "see 'attribution compare --help'.")
    ns = _namespace_from_args(args)
    out = Path(args.out)
    check_out(out, args.force)
    progress = _Progress(_progress_enabled(args))
    try:
        report, files = _run_compare(ns, out, progress)
    finally:
        progress.close()
    _print_compare(report, out, files)
    return 0


def _cmd_batch(args) -> int:
    out_dir, runs = load_config(args.config)
    if args.out_given:
        out_dir = Path(args.out)
    else:
        base = Path(args.config).resolve().parent
        target = out_dir.resolve()
        if target != base and base not in target.parents:
            print(f"note: the config's out points outside the config's folder {base}: writing to {target}.",
                  file=sys.stderr)
    for name, set_name, _ in runs:
        check_out(out_dir / name / set_name, args.force)
    rows = []
    progress = _Progress(_progress_enabled(args))
    try:
        for i, (name, set_name, ns) in enumerate(runs, 1):
            progress.prefix = f"run {i}/{len(runs)} {name}/{set_name}: "
            folder = out_dir / name / set_name
            try:
                report, _ = _run_compare(ns, folder, progress, label=f"[inputs.{name}]")
            except UserError as exc:
                raise UserError(f"run {name}/{set_name}: {exc}") from exc
            credits = report.comparison.credits[["model", "estimand", "channel", "conversions", "value", "share"]]
            if report.has_costs:
                roi = report.comparison.roi[["model", "channel", "cost", "roi", "roas", "cpa"]]
                credits = credits.merge(roi, on=["model", "channel"], how="left")
            credits.insert(0, "model_set", set_name)
            credits.insert(0, "input", name)
            credits.insert(0, "run", f"{name}/{set_name}")
            rows.append(credits)
            progress.bar.write(f"{name}/{set_name}: {len(report.comparison.labels)} models, "
                               f"{report.journeys.total_conversions:,.6g} conversions -> {folder}/report.html",
                               file=sys.stdout)
    finally:
        progress.close()
    summary = pd.concat(rows, ignore_index=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    from .._csvwrite import write_csv

    write_csv(summary, out_dir / "summary.csv", index=False)  # rounded: money to cents, the rest to 1e-6
    wide = summary.pivot_table(index="channel", columns=["run", "model"], values="share", sort=False)
    print(f"\nShare of conversions per channel in %, every run and model ({len(runs)} runs; "
          f"{len(summary)} rows in {out_dir / 'summary.csv'}):")
    with pd.option_context("display.width", 160, "display.max_columns", 60):
        print((wide * 100).round(1).to_string())
    return 0


def _write_journey_credits(report, out: Path, files):
    """journey_credits.parquet: credit per journey x channel for every compared model."""
    from ..credits import journey_credits

    comparison = getattr(report, "comparison", None)
    if comparison is None:
        return files
    frames = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for label, model in comparison.models.items():
            frames.append(journey_credits(model, report.journeys).assign(model=label))
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    table = pd.concat(frames, ignore_index=True)
    path = Path(out) / "journey_credits.parquet"
    table.to_parquet(path, index=False)
    written = {"journey_credits": path}
    if report.journeys.touch_type is not None:  # the post-click / post-view split of every model
        from ..credits import credits_by_touch_type

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the same notes as journey_credits above
            split = pd.concat([credits_by_touch_type(model, report.journeys).reset_index().assign(model=label)
                               for label, model in comparison.models.items()], ignore_index=True)
        split.columns.name = None
        split = split[["model", *[c for c in split.columns if c != "model"]]].fillna(0.0)
        written["credits_by_touch_type"] = Path(out) / "credits_by_touch_type.csv"
        split.to_csv(written["credits_by_touch_type"], index=False)
    if isinstance(files, dict):
        files = {**files, **written}
    elif isinstance(files, list):
        files = [*files, *written.values()]
    return files


def add_parser(sub, fmt) -> None:
    """The arguments of ``attribution compare``."""
    c = sub.add_parser(
        "compare", help="fit several models and compare their credits, ROI and budget plan; writes report.html",
        description="Fit several attribution models on the same journeys and write credits, ROI, a budget plan,\n"
                    "figures and one self-contained report.html to --out; a short table goes to the terminal.",
        epilog=COMPARE_EXAMPLES, formatter_class=fmt,
    )
    _input_options(c, optional=True)
    m = c.add_argument_group("models and decisions")
    m.add_argument("--models", metavar="SPECS",
                   help="comma-separated model specs such as last_touch,markov:order=2 (default: the eight "
                        "models listed below, as in Python)")
    m.add_argument("--costs", metavar="FILE",
                   help="costs: channel,cost per channel, or date,channel,cost per day -> roi.csv and a budget plan")
    m.add_argument("--cost-column", metavar="COLUMN", help="cost column of --costs (default: cost, spend, costs or amount)")
    m.add_argument("--budget", type=float, metavar="AMOUNT", help="budget to plan (default: today's total spend)")
    m.add_argument("--bounds", default=DEFAULT_BOUNDS, metavar="LOW,HIGH",
                   help=f"each channel's planned spend stays within LOW..HIGH x today's spend (default {DEFAULT_BOUNDS})")
    m.add_argument("--budget-model", metavar="SPEC",
                   help="the model whose credit drives the budget plan and ROPO (default: the first incremental "
                        "model such as causal or aipw, else the first markov, else the last)")
    m.add_argument("--truth", metavar="FILE", help="true conversions per channel (channel, conversions), e.g. the simulator's truth.csv")
    m.add_argument("--bootstrap", type=int, metavar="N", default=None,
                   help="N bootstrap replicates per model: 90%% intervals of credit and ROI in the tables, figures "
                        "and CSVs (customers resampled; the causal model uses its own person bootstrap)")
    r = c.add_argument_group("omnichannel (conversions with a place)")
    r.add_argument("--customers", metavar="FILE", help="customer base (id + numeric covariates) for ROPO's incrementality estimate")
    r.add_argument("--customer-id", default="loyalty_id", metavar="COLUMN", help="id column of --customers (default loyalty_id)")
    r.add_argument("--offline", metavar="CHANNELS", help="offline channels, comma-separated (default: names like store_visit)")
    r.add_argument("--store-places", default="store", metavar="PLACES", help="conversion places that are stores (default store)")
    o = c.add_argument_group("output")
    o.add_argument("--out", default="attribution-results", metavar="DIR", help="output folder (default attribution-results)")
    o.add_argument("--force", action="store_true", help="overwrite an earlier report in the --out folder")
    o.add_argument("--title", help="title of the report")
    o.add_argument("--config", metavar="TOML", help="run a batch: several inputs x several model sets (schema below)")
    _common(c, suppress=True)
    _add_data_options(c)
    c.set_defaults(func=cmd_compare)
