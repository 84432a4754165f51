"""The ``attribution`` command line: thin argument parsing over the Python API.

Sub-commands: ``compare`` (one input, or a batch from a TOML file), ``kpis``, ``ropo`` and
``simulate``. The work is done by :mod:`attribution.report` (``build_report``) and the analysis
functions it calls; this module reads files, checks the arguments with messages that name the
flag to fix, prints short tables and writes the output folder. User mistakes end in one line on
stderr and exit code 2 (``--verbose`` adds the traceback); unexpected failures exit with 1.
"""

from __future__ import annotations

import argparse
import difflib
import math
import zlib
import re
import sys
import traceback
import warnings
from pathlib import Path
from types import SimpleNamespace

from . import _defaults


class _LazyPandas:
    """``pd`` that imports pandas on first use, so ``--help`` and argument errors stay instant."""

    def __getattr__(self, name):
        import pandas

        globals()["pd"] = pandas  # later uses go straight to the module
        return getattr(pandas, name)


pd = _LazyPandas()

#: The models ``attribution compare`` fits when ``--models`` is not given: the library's one
#: default set (:data:`attribution._defaults.MODELS`), as in Python's ``compare``.
DEFAULT_MODELS = ",".join(_defaults.MODELS)
#: The plan's bounds when ``--bounds`` is not given (:data:`attribution._defaults.PLAN_BOUNDS`).
DEFAULT_BOUNDS = "{:g},{:g}".format(*_defaults.PLAN_BOUNDS)
#: Column flags shared by every sub-command that reads events: (flag, default, help).
COLUMN_FLAGS = (
    ("customer", "customer_id", "person / cookie id column of the touchpoints and conversions"),
    ("time", "timestamp", "timestamp column (ISO 8601; naive times are read as UTC)"),
    ("channel", "channel", "channel column of the touchpoints"),
    ("value", "value", "conversion value column (optional: absent means 0)"),
    ("place", "place", "conversion place column, e.g. online / store (optional)"),
)
_PATH_COUNT_COLUMN = "total_conversions"

EXAMPLES = """\
examples:
  # the bundled sample: events, identities, costs and the simulator's truth -> results/report.html
  attribution compare data/samples/touchpoints.csv --conversions data/samples/conversions.csv \\
      --identities data/samples/identities.csv --costs data/samples/costs.csv \\
      --customers data/samples/customers.csv --truth data/samples/truth.csv --out results

  # an aggregated path table (path;total_conversions;total_conversion_value;total_null)
  attribution compare data/samples/paths.csv --paths --models last_touch,linear,markov:order=2,shapley

  # several inputs x several model sets, one folder each and a combined summary.csv
  attribution compare --config runs.toml

  attribution kpis data/samples/touchpoints.csv --conversions data/samples/conversions.csv --out kpis
  attribution ropo data/samples/touchpoints.csv --conversions data/samples/conversions.csv \\
      --identities data/samples/identities.csv --customers data/samples/customers.csv --out ropo
  attribution calibrate data/samples/touchpoints.csv --conversions data/samples/conversions.csv \\
      --identities data/samples/identities.csv --costs data/samples/costs.csv --tests tests.csv --out calibration
  attribution simulate --out my-sample

Run 'attribution COMMAND --help' for every option of a command.
"""

COMPARE_EXAMPLES = """\
what is written to --out:
  report.html      one self-contained page: data summary, model comparison, ROI and budget plan
                   (with --costs), ROPO (conversions with a store place), journey KPIs, method notes
  credits.csv      model, estimand, channel, conversions, value, share (credits_wide.csv: channel x model)
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
  budget_model, title (text); offline, store_places (lists); budget (number); bounds ([low, high]).
"""

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

SIMULATE_EXAMPLES = """\
writes touchpoints.csv, conversions.csv, identities.csv, customers.csv, costs.csv, truth.csv and
paths.csv. With the defaults it reproduces data/samples/ byte for byte.

examples:
  attribution simulate --out my-sample
  attribution simulate --out big --customers 50000 --days 90 --seed 7
"""


class UserError(Exception):
    """A mistake in the command line, the config or the input files: reported in one line."""


# ---------------------------------------------------------------------------------------------
# reading and checking inputs
# ---------------------------------------------------------------------------------------------


def read_table(path, flag: str = "INPUT", text_columns=()) -> pd.DataFrame:
    """Read CSV (``,``, ``;``, tab or ``|`` separated, optionally gzip-compressed) or Parquet.

    ``text_columns`` (id columns) are read from CSV as text, so that ids such as GA4's
    ``1197745347.1690000012`` are not parsed as floats and merged.
    """
    p = Path(path)
    if not p.exists():
        raise UserError(f"file not found: {path} ({flag}). Check the path; relative paths start from "
                        f"{Path.cwd()}.")
    if not p.is_file():
        raise UserError(f"{path} ({flag}) is a folder, not a file: give the CSV or Parquet file inside it.")
    suffixes = [s.lower() for s in p.suffixes]
    try:
        if suffixes and suffixes[-1] in (".parquet", ".pq"):
            return pd.read_parquet(p)
        import gzip

        opener = gzip.open if suffixes and suffixes[-1] == ".gz" else open
        with opener(p, "rt", encoding="utf-8") as fh:
            head = fh.readline()
        sep = max((",", ";", "\t", "|"), key=head.count)
        dtype = {c: str for c in text_columns} if text_columns is not True else str
        return pd.read_csv(p, sep=sep, dtype=dtype or None)
    except UserError:
        raise
    except (ValueError, OSError, ImportError, EOFError, zlib.error) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"cannot read {path} ({flag}): {first}. Give a CSV (',' ';' or tab separated, "
                        "UTF-8, optionally .gz) or a Parquet file.") from exc


def _require(df: pd.DataFrame, column: str, flag: str, path, what: str) -> None:
    if column in df.columns:
        return
    found = [str(c) for c in df.columns]
    close = difflib.get_close_matches(column, found, n=1, cutoff=0.5)
    fix = f"did you mean {flag} {close[0]}?" if close else f"name the column with {flag} COLUMN."
    if len(found) == 1:
        for sep in ("|", ";", "\t", ",", " "):
            if sep in found[0]:
                fix = (f"the file looks {sep!r}-separated, which was not recognised: write it with ',' ';' or "
                       "tab between columns.")
                break
    raise UserError(f"{path} has no {what} column {column!r} ({flag}); columns found: {found}; {fix}")


def parse_models(text: str, where: str = "--models") -> list[str]:
    """Split a comma-separated list of model specs and check every spec.

    Parameters of a spec continue after its comma (``markov:order=2,collapse_repeats=true,linear``
    is two specs): a piece with ``=`` and no ``:`` belongs to the spec before it.
    """
    from .models import get_model

    specs: list[str] = []
    for piece in re.split(r"[,;]", text):
        piece = piece.strip()
        if not piece:
            continue
        if "=" in piece and ":" not in piece and specs and ":" in specs[-1]:
            specs[-1] += "," + piece
        else:
            specs.append(piece)
    if not specs:
        raise UserError(f"{where} names no model; give e.g. {where} last_touch,linear,markov.")
    for spec in specs:
        try:
            get_model(spec)
        except (ValueError, TypeError) as exc:
            raise UserError(f"bad model spec {spec!r} in {where}: {exc}") from None
    return specs


def parse_lookback(text, where: str = "--lookback"):
    """``None`` for ``none``, else the duration text after checking it."""
    if text is None:
        return None
    t = str(text).strip()
    if t.lower() in ("none", "off", "no"):
        return None
    try:
        td = pd.Timedelta(t)
        ok = not pd.isna(td) and td > pd.Timedelta(0) and not re.fullmatch(r"[0-9.]+", t)
    except (ValueError, TypeError):
        ok = False
    if not ok:
        raise UserError(
            f"bad lookback {text!r} ({where}): use a positive duration such as 30D, 12h or 2W (or 'none' "
            "for no window)."
        )
    return t


def _split_list(text) -> list[str]:
    if text is None:
        return []
    if isinstance(text, (list, tuple)):
        return [str(x).strip() for x in text if str(x).strip()]
    return [x.strip() for x in str(text).split(",") if x.strip()]


def _parse_bounds(text, where: str = "--bounds") -> tuple[float, float]:
    vals = text if isinstance(text, (list, tuple)) else str(text).split(",")
    try:
        low, high = (float(v) for v in vals)
    except (TypeError, ValueError):
        raise UserError(f"bad bounds {text!r} ({where}): give two multipliers of today's spend, e.g. 0.5,2.") from None
    if not (0 <= low <= 1 <= high):
        raise UserError(f"bad bounds {text!r} ({where}): need 0 <= low <= 1 <= high, e.g. 0.5,2 "
                        "(half to twice today's spend).")
    return low, high


def load_journeys(ns, *, label: str = ""):
    """Journeys from the input flags (or a config entry with the same names).

    Returns ``(journeys, inputs, settings, notes)``: the input files by role, the settings that
    differ from the defaults, and the notes (warnings) raised while building the journeys.
    """
    from .journeys import Journeys

    if getattr(ns, "engine", "pandas") == "duckdb" and not ns.paths:
        return _load_journeys_duckdb(ns, label=label)
    if getattr(ns, "format", None):
        return _load_journeys_from_source(ns, label=label)
    table = read_table(ns.input, "INPUT" if not label else f"{label} input", text_columns=(ns.customer,))
    paths = bool(ns.paths) or ("path" in table.columns and ns.conversions is None and ns.path_column == "path")
    inputs = {"input": str(ns.input)}
    settings: dict[str, str] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if paths:
            _require(table, ns.path_column, "--path-column", ns.input, "path")
            count_col, value_col, nulls_col = _path_table_columns(ns, table)
            if ns.lookback_given:
                warnings.warn("lookback is ignored for path tables (they have no timestamps).")
            try:
                journeys = Journeys.from_paths(table, path=ns.path_column, conversions=count_col,
                                               value=value_col, nulls=nulls_col, sep=ns.sep)
            except (ValueError, TypeError) as exc:
                if not _is_user_error(exc):
                    raise
                raise UserError(f"cannot read the path table {ns.input}: {_one_line(exc)[0]}") from exc
            settings["layout"] = "path table"
        else:
            conversions = None
            if ns.conversions:
                conversions = read_table(ns.conversions, "--conversions", text_columns=(ns.customer,))
                inputs["conversions"] = str(ns.conversions)
            identities = None
            if ns.identities:
                identities = read_table(ns.identities, "--identities", text_columns=True)
                inputs["identities"] = str(ns.identities)
            for flag in ("customer", "time", "channel"):
                _require(table, getattr(ns, flag), f"--{flag}", ns.input, flag)
            if conversions is not None:
                for flag in ("customer", "time"):
                    _require(conversions, getattr(ns, flag), f"--{flag}", ns.conversions, flag)
            elif not ({"interaction", "conversion"} & set(table.columns)) and not getattr(ns, "conversion_events", None):
                raise UserError(
                    f"{ns.input} has no conversions: give them with --conversions FILE, add an 'interaction' "
                    "column with 'conversion' rows or a 'conversion' flag column, or pass --paths for a path table."
                )
            for flag, default, _ in COLUMN_FLAGS[3:]:  # value and place: optional unless named
                if getattr(ns, flag) != default:
                    where = conversions if conversions is not None else table
                    _require(where, getattr(ns, flag), f"--{flag}", ns.conversions or ns.input, flag)
            lookback = parse_lookback(ns.lookback, "--lookback") if ns.lookback_given else "30D"
            try:
                journeys = Journeys.from_events(
                    table, conversions, customer=ns.customer, time=ns.time, channel=ns.channel,
                    value=ns.value, place=ns.place, lookback=lookback, identities=identities, sep=ns.sep or ">",
                    **_time_options(ns), **_event_options(ns),
                )
            except (ValueError, TypeError, KeyError) as exc:
                if not _is_user_error(exc):  # raised inside pandas or numpy: a defect, not dressed up
                    raise
                where = ns.input + (f" / {ns.conversions}" if ns.conversions else "")
                raise UserError(f"cannot build journeys from {where}: {_one_line(exc)[0]}") from exc
            settings["lookback"] = str(lookback) if lookback else "none"
            if identities is not None:
                settings["identity links"] = f"{len(identities):,}"
        for flag, default, _ in COLUMN_FLAGS:
            if getattr(ns, flag) != default and not paths:
                settings[f"--{flag}"] = str(getattr(ns, flag))
    notes = list(dict.fromkeys(str(w.message) for w in caught))
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return journeys, inputs, settings, notes


def _time_options(ns) -> dict:
    """``time_unit``, ``time_format`` and ``dayfirst`` from the flags (or config keys)."""
    out = {}
    for key in ("time_unit", "time_format", "dayfirst"):
        v = getattr(ns, key, None)
        if v is not None and v is not False:
            out[key] = v
    return out


def _existing_files(pattern, flag: str) -> str:
    """A file path or glob that matches at least one file (the DuckDB engine reads it itself)."""
    import glob

    text = str(pattern)
    if not glob.glob(text):
        raise UserError(f"file not found: {text} ({flag}): no file matches. Check the path or glob; relative "
                        f"paths start from {Path.cwd()}.")
    return text


def _load_journeys_duckdb(ns, *, label: str = ""):
    """:func:`load_journeys` with ``--engine duckdb``: files go to DuckDB unread, only aggregates come back."""
    from .journeys import Journeys

    touch = _existing_files(ns.input, "INPUT" if not label else f"{label} input")
    conversions = _existing_files(ns.conversions, "--conversions") if ns.conversions else None
    inputs = {"input": touch}
    if conversions:
        inputs["conversions"] = conversions
    identities = None
    if ns.identities:
        identities = read_table(ns.identities, "--identities", text_columns=True)
        inputs["identities"] = str(ns.identities)
    lookback = parse_lookback(ns.lookback, "--lookback") if ns.lookback_given else "30D"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            journeys = Journeys.from_events(
                touch, conversions, customer=ns.customer, time=ns.time, channel=ns.channel,
                value=ns.value, place=ns.place, lookback=lookback, identities=identities, sep=ns.sep or ">",
                engine="duckdb", **_time_options(ns),
            )
        except ImportError as exc:
            raise UserError(f"--engine duckdb: {_one_line(exc)[0]}") from exc
        except (ValueError, TypeError, KeyError) as exc:
            if not _is_user_error(exc):
                raise
            where = touch + (f" / {conversions}" if conversions else "")
            raise UserError(f"cannot build journeys from {where}: {_one_line(exc)[0]}") from exc
        except Exception as exc:
            if "duckdb" not in type(exc).__module__:
                raise
            where = touch + (f" / {conversions}" if conversions else "")
            raise UserError(f"--engine duckdb cannot read {where}: {_one_line(exc)[0]} Check that the files are "
                            "complete CSV (optionally .gz) or Parquet.") from exc
    settings = {"engine": "duckdb (aggregated path table)", "lookback": str(lookback) if lookback else "none"}
    if identities is not None:
        settings["identity links"] = f"{len(identities):,}"
    for flag, default, _ in COLUMN_FLAGS:
        if getattr(ns, flag) != default:
            settings[f"--{flag}"] = str(getattr(ns, flag))
    notes = list(dict.fromkeys(str(w.message) for w in caught))
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return journeys, inputs, settings, notes


# ---------------------------------------------------------------------------------------------
# progress
# ---------------------------------------------------------------------------------------------


class _Progress:
    """Stages of a long command on a tqdm bar (stderr; off when not a TTY or with --quiet)."""

    def __init__(self, enabled: bool, desc: str = "", total: int = 1):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc=desc, file=sys.stderr, disable=not enabled, leave=False,
                        bar_format="{desc:<40.40}{percentage:3.0f}%|{bar:20}| {elapsed}")
        self.prefix = desc
        self.base = 0

    def stage(self, name: str, done: int | None = None, total: int | None = None) -> None:
        if total is not None:
            self.bar.total = total
        if done is not None:
            self.bar.n = done
        self.bar.set_description_str(f"{self.prefix}{name}" if self.prefix else name)
        self.bar.refresh()

    def report_callback(self, start: int, extra: int = 1):
        def callback(stage, done, total):
            self.stage(stage, start + done, start + total + extra)

        return callback

    def close(self) -> None:
        self.bar.close()


def _progress_enabled(args) -> bool:
    return not args.quiet and sys.stderr.isatty()


# ---------------------------------------------------------------------------------------------
# compare (one input, or a batch)
# ---------------------------------------------------------------------------------------------


def _run_compare(ns, out: Path, progress: _Progress, *, label: str = ""):
    """Build journeys, fit, report and write one output folder; returns (report, files)."""
    from .report import build_report

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
    try:
        report = build_report(
            journeys, specs, costs=costs, truth=truth,
            budget=ns.budget if ns.budget is not None else "auto", budget_model=ns.budget_model, bounds=bounds,
            offline=offline, customers=customers, customer_id=ns.customer_id,
            store_places=tuple(_split_list(ns.store_places)) or ("store",),
            title=ns.title or f"Attribution report: {Path(ns.input).name}",
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
            from .roi import _metric_name

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
            print(f"Against --truth: the plan moves {direction.attrs['share_right']:.0%} of the "
                  f"{direction.attrs['required']} channels whose true incremental return differs from the median by "
                  "more than 25% in the right direction" + (f" (wrong: {wrong})" if wrong else "")
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


def _namespace_from_args(args) -> SimpleNamespace:
    """The input settings of the command line, checked before any file is read."""
    ns = SimpleNamespace(**{k: getattr(args, k, _INPUT_DEFAULTS.get(k)) for k in _INPUT_KEYS})
    _data_flags_to_namespace(args, ns)
    ns.lookback_given = args.lookback is not None
    if ns.lookback_given:
        parse_lookback(args.lookback)
    if args.command == "compare":
        ns.models_default = args.models is None
        ns.model_specs = parse_models(DEFAULT_MODELS if args.models is None else args.models)
        _parse_bounds(args.bounds)
    return ns


# -- batch ------------------------------------------------------------------------------------

#: Config keys of an input (also the CLI dests) -> kind.
_INPUT_KEYS = {
    "input": "file", "conversions": "file", "identities": "file", "costs": "file", "truth": "file",
    "customers": "file", "paths": "bool", "lookback": "str", "customer": "str", "time": "str",
    "channel": "str", "value": "str", "place": "str", "path_column": "str", "sep": "str",
    "cost_column": "str", "customer_id": "str", "budget_model": "str", "title": "str",
    "offline": "list", "store_places": "list", "budget": "number", "bounds": "pair", "engine": "str",
    "time_unit": "str", "time_format": "str", "dayfirst": "bool",
}
_INPUT_DEFAULTS = {
    "conversions": None, "identities": None, "costs": None, "truth": None, "customers": None, "paths": False,
    "lookback": None, "customer": "customer_id", "time": "timestamp", "channel": "channel", "value": "value",
    "place": "place", "path_column": "path", "sep": None, "cost_column": None, "customer_id": "loyalty_id",
    "budget_model": None, "title": None, "offline": None, "store_places": "store", "budget": None,
    "bounds": DEFAULT_BOUNDS, "engine": "pandas", "time_unit": None, "time_format": None, "dayfirst": None,
}
_TOP_KEYS = ("out", "defaults", "inputs", "models", "tests")
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


def _config_error(path, where: str, message: str) -> UserError:
    return UserError(f"{path}: {where}: {message}")


def _check_keys(path, where: str, table: dict, allowed) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), list(allowed), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else f" Allowed: {', '.join(allowed)}."
            raise _config_error(path, where, f"unknown key {key!r}.{hint}")


def _check_value(path, where: str, key: str, value, kind: str, base: Path):
    def bad(expected):
        return _config_error(path, where, f"{key!r} must be {expected}; got {value!r}.")

    if kind == "file":
        if not isinstance(value, str) or not value:
            raise bad("a file path (text)")
        p = Path(value)
        p = p if p.is_absolute() else base / p
        if not p.exists():
            import glob

            if not (key in ("input", "conversions") and glob.glob(str(p))):  # globs: engine = "duckdb"
                raise _config_error(path, where, f"{key!r}: file not found: {p}.")
        return str(p)
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise bad("text in quotes")
        if key == "engine" and value not in ("pandas", "duckdb"):
            raise bad("'pandas' or 'duckdb'")
        if key == "time_unit" and value not in ("s", "ms", "us", "ns"):
            raise bad("one of 's', 'ms', 'us', 'ns'")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise bad("a positive number")
        return float(value)
    if kind == "list":
        if isinstance(value, str):
            return value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad("a list of names, e.g. [\"store_visit\"]")
        return ",".join(value)
    if kind == "pair":
        if not isinstance(value, list) or len(value) != 2 or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            raise bad("two numbers, e.g. [0.5, 2]")
        return ",".join(str(v) for v in value)
    raise AssertionError(kind)  # pragma: no cover


def load_config(path) -> tuple[Path, list[tuple[str, str, SimpleNamespace]]]:
    """Read and check a batch config; returns the output folder and the runs.

    Each run is ``(input name, model set name, namespace of input settings with model_specs)``.
    Every error names the file and the key to fix.
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            raise UserError("--config needs Python 3.11+ (tomllib) or the 'tomli' package: pip install tomli.") from None
    p = Path(path)
    if not p.is_file():
        raise UserError(f"config file not found: {path} (--config).")
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML: {exc}.") from None
    base = p.resolve().parent
    _check_keys(path, "top level", data, _TOP_KEYS)
    out = data.get("out", "attribution-runs")
    if not isinstance(out, str) or not out:
        raise _config_error(path, "top level", f"'out' must be a folder name in quotes; got {out!r}.")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise _config_error(path, "[defaults]", "must be a table of input keys, e.g. lookback = \"30D\".")
    _check_keys(path, "[defaults]", defaults, [k for k in _INPUT_KEYS if k != "input"])
    inputs = data.get("inputs")
    if not isinstance(inputs, dict) or not inputs:
        raise _config_error(path, "[inputs]", "missing: add at least one [inputs.NAME] table with input = \"FILE\".")
    models = data.get("models")
    if not isinstance(models, dict) or not models:
        raise _config_error(path, "[models]", "missing: add at least one model set, e.g. rules = [\"last_touch\", \"linear\"].")
    model_sets = {}
    for name, specs in models.items():
        where = f"[models] {name}"
        if not _NAME_RE.match(name):
            raise _config_error(path, where, "model set names may use letters, digits, '_', '-' and '.' only.")
        if isinstance(specs, str):
            text = specs
        elif isinstance(specs, list) and specs and all(isinstance(s, str) for s in specs):
            text = ",".join(specs)
        else:
            raise _config_error(path, where, f"must be a list of model specs such as [\"linear\", \"markov:order=2\"]; got {specs!r}.")
        try:
            model_sets[name] = parse_models(text, where="the config")
        except UserError as exc:
            raise _config_error(path, where, str(exc)) from None
    tests_table = _config_tests(path, data.get("tests"), base)
    runs = []
    for name, entry in inputs.items():
        where = f"[inputs.{name}]"
        if not _NAME_RE.match(name) or name in (".", ".."):
            raise _config_error(path, where, "input names may use letters, digits, '_', '-' and '.' only.")
        if not isinstance(entry, dict):
            raise _config_error(path, where, "must be a table with at least input = \"FILE\".")
        _check_keys(path, where, entry, list(_INPUT_KEYS))
        merged = {**defaults, **entry}
        if "input" not in merged:
            raise _config_error(path, where, "no 'input' key: give the touchpoints or path table, input = \"FILE\".")
        values = dict(_INPUT_DEFAULTS)
        for key, value in merged.items():
            src = where if key in entry else "[defaults]"
            values[key] = _check_value(path, src, key, value, _INPUT_KEYS[key], base)
        ns = SimpleNamespace(**values)
        ns.lookback_given = ns.lookback is not None
        if ns.lookback_given:
            parse_lookback(ns.lookback, f"{path}: {where} 'lookback'")
        _parse_bounds(ns.bounds, f"{path}: {where} 'bounds'")
        for set_name, specs in model_sets.items():
            run = SimpleNamespace(**vars(ns))
            run.model_specs = list(specs)
            run.models_default = False
            run.tests_file, run.tests_model, run.tests_n_boot = tests_table
            if run.tests_model is not None and run.tests_model not in specs:
                raise _config_error(path, "[tests]", f"model {run.tests_model!r} is not in model set {set_name!r} {specs}.")
            if run.budget_model is not None and run.budget_model not in specs:
                raise _config_error(path, where, f"budget_model {run.budget_model!r} is not in model set {set_name!r} {specs}.")
            runs.append((name, set_name, run))
    return (base / out), runs


def _config_tests(path, table, base: Path):
    """The [tests] table of a batch config: (file, model spec or None, n_boot); (None, None, 0) if absent."""
    if table is None:
        return None, None, 0
    where = "[tests]"
    if not isinstance(table, dict):
        raise _config_error(path, where, "must be a table, e.g. [tests] file = \"tests.csv\".")
    _check_keys(path, where, table, ["file", "model", "n_boot"])
    if "file" not in table:
        raise _config_error(path, where, "no 'file' key: give the test table, file = \"tests.csv\".")
    file = _check_value(path, where, "file", table["file"], "file", base)
    try:
        _read_tests(file)
    except Exception as exc:  # the library's message names the column, rows and fix
        raise _config_error(path, where, f"{file}: {exc}") from None
    model = table.get("model")
    if model is not None:
        if not isinstance(model, str):
            raise _config_error(path, where, f"'model' must be a model spec in quotes; got {model!r}.")
        model = parse_models(model, where="[tests] model")[0]
    n_boot = table.get("n_boot", 100)
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 0:
        raise _config_error(path, where, f"'n_boot' must be a non-negative integer; got {n_boot!r}.")
    return file, model, n_boot


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
    from ._validation import csv_safe

    csv_safe(summary).to_csv(out_dir / "summary.csv", index=False)
    wide = summary.pivot_table(index="channel", columns=["run", "model"], values="share", sort=False)
    print(f"\nShare of conversions per channel in %, every run and model ({len(runs)} runs; "
          f"{len(summary)} rows in {out_dir / 'summary.csv'}):")
    with pd.option_context("display.width", 160, "display.max_columns", 60):
        print((wide * 100).round(1).to_string())
    return 0


# ---------------------------------------------------------------------------------------------
# kpis, ropo, simulate
# ---------------------------------------------------------------------------------------------


def cmd_kpis(args) -> int:
    from .kpis import kpis
    from .report import build_report

    ns = _namespace_from_args(args)
    check_out(args.out, args.force)
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
    print("\nPer channel:")
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        print(report_kpis.by_channel[cols].sort_values("journeys", ascending=False).round(3).to_string())
        print("\nMost frequent paths:")
        print(report_kpis.top_paths.round(3).to_string())
    print(f"\nWrote {len(files)} files to {args.out}/ -- open {Path(args.out) / 'report.html'}")
    return 0


def cmd_ropo(args) -> int:
    from .omnichannel import ropo
    from .report import build_report, guess_offline

    ns = _namespace_from_args(args)
    model = parse_models(args.model, "--model")
    if len(model) != 1:
        raise UserError(f"--model takes one model spec; got {model}.")
    window = parse_lookback(args.research_window, "--research-window") or None
    if args.n_boot < 0:
        raise UserError(f"--n-boot must be 0 or more; got {args.n_boot}.")
    check_out(args.out, args.force)
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


def _read_tests(path, flag: str = "--tests"):
    from .experiments import read_lift_tests

    if not Path(path).is_file():
        raise UserError(f"{flag}: file not found: {path}.")
    return read_lift_tests(path)


def _calibration_files(cal, plan, out: Path) -> list[Path]:
    """Write the calibration tables and figure to ``out``; returns the files."""
    out.mkdir(parents=True, exist_ok=True)
    files = []

    def put(name, frame, index=True):
        path = out / name
        frame.to_csv(path, index=index)
        files.append(path)

    put("calibration_credits.csv", cal.credits)
    put("calibration_factors.csv", cal.factors)
    put("calibration_tests.csv", cal.tests, index=False)
    if cal.costs is not None:
        put("calibration_roi.csv", cal.roi().table, index=False)
        put("calibration_next_tests.csv", cal.next_tests())
    if plan is not None:
        put("calibration_plan.csv", plan.allocation)
    from . import report as _report

    (out / "calibration.png").write_bytes(_report._png(lambda ax: cal.plot(ax=ax), (7.5, 0.42 * len(cal.factors) + 1.6)))
    files.append(out / "calibration.png")
    return files


def _calibrate_run(ns, report, out: Path) -> list[Path]:
    """Batch runs with a [tests] table: calibrate the run's model and add the Calibration section."""
    from .calibration import calibrate

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
    from .calibration import calibrate
    from .compare import compare
    from .report import build_report

    ns = _namespace_from_args(args)
    spec = parse_models(args.model, "--model")
    if len(spec) != 1:
        raise UserError(f"--model takes one model spec; got {spec}.")
    if args.n_boot < 0:
        raise UserError(f"--n-boot must be 0 or more; got {args.n_boot}.")
    tests = _read_tests(args.tests)
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


def cmd_simulate(args) -> int:
    from .datasets import SAMPLE_PARAMS, simulate

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


# ---------------------------------------------------------------------------------------------
# the parser
# ---------------------------------------------------------------------------------------------


def _common(parser, *, suppress: bool) -> None:
    """--verbose and --quiet, accepted before and after the sub-command."""
    default = argparse.SUPPRESS if suppress else False
    parser.add_argument("--verbose", "-v", action="store_true", default=default,
                        help="show the full traceback when an error stops the command")
    parser.add_argument("--quiet", "-q", action="store_true", default=default,
                        help="no progress bar and no notes on stderr (results and errors are still printed)")


def _input_options(p, *, optional: bool = False) -> None:
    p.add_argument("input", nargs="?" if optional else None, metavar="INPUT",
                   help="touchpoints (events) or a path table: CSV (',' ';' or tab separated, .gz allowed) or Parquet")
    g = p.add_argument_group("input")
    g.add_argument("--conversions", metavar="FILE",
                   help="conversions table (customer, timestamp[, value, place]); default: conversion rows inside INPUT")
    g.add_argument("--identities", metavar="FILE",
                   help="id links, e.g. cookie_id,loyalty_id: the ids on a row are one person")
    g.add_argument("--paths", action="store_true",
                   help="INPUT is an aggregated path table (path, total_conversions[, total_conversion_value, total_null])")
    g.add_argument("--lookback", metavar="DURATION",
                   help="touches older than this before a conversion are excluded: 30D (default), 12h, 2W or none")
    g.add_argument("--engine", choices=("pandas", "duckdb"), default="pandas",
                   help="how journeys are built from events: pandas (in memory, default) or duckdb (out of core; "
                        "INPUT and --conversions may be Parquet/CSV globs such as 'events/*.parquet'; "
                        "needs pip install \"attribution[duckdb]\")")
    cols = p.add_argument_group("columns", "names of the columns in the input files")
    for name, default, help_text in COLUMN_FLAGS:
        cols.add_argument(f"--{name}", default=default, metavar="COLUMN", help=f"{help_text} (default {default})")
    cols.add_argument("--path-column", default="path", metavar="COLUMN", help="path column of a path table (default path)")
    cols.add_argument("--sep", default=None, metavar="TEXT",
                      help="channel separator in paths (default: sniffed from a path table, '>' for events); "
                           "channel names may not contain it")
    t = p.add_argument_group("timestamps")
    t.add_argument("--time-unit", dest="time_unit", choices=("s", "ms", "us", "ns"), default=None,
                   help="unit of numeric (epoch) timestamps, e.g. us for GA4's event_timestamp")
    t.add_argument("--time-format", dest="time_format", metavar="FORMAT", default=None,
                   help="strftime format of non-ISO timestamps, e.g. '%%d/%%m/%%Y %%H:%%M'")
    t.add_argument("--dayfirst", action="store_true", default=None,
                   help="read ambiguous dates such as 01/03/2026 day first (1 March)")


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="attribution",
        description=(
            "Multi-touch marketing attribution: compare models on event logs or path tables, with ROI,\n"
            "budget plans, ROPO and journey KPIs, in one self-contained HTML report."
        ),
        epilog=EXAMPLES, formatter_class=fmt,
    )
    _common(parser, suppress=False)
    parser.add_argument("--version", action="version", version=f"attribution {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    _add_customers_parser(sub, fmt)
    _add_import_parser(sub, fmt)
    return parser


# ---------------------------------------------------------------------------------------------
# attribution customers
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


def _add_customers_parser(sub, fmt) -> None:
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
    o.add_argument("--n-boot", type=int, default=_defaults.N_BOOT, metavar="N",
                   help=f"bootstrap replicates (default {_defaults.N_BOOT})")
    o.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    o.add_argument("--out", default="attribution-customers", metavar="DIR", help="output folder (default attribution-customers)")
    o.add_argument("--title", help="title of the report")
    _common(cu, suppress=True)
    cu.set_defaults(func=cmd_customers)


def cmd_customers(args) -> int:
    from .customers import CustomerTable, customer_table

    df = read_table(args.input, "INPUT")
    if "order_num_total_ever_online" in df.columns:
        table = CustomerTable.from_summary(df)
    else:
        for flag, col in (("--customer", args.customer), ("--time", args.time)):
            _require(df, col, flag, args.input, flag.strip("-"))
        ids = read_table(args.identities, "--identities") if args.identities else None
        journeys = None
        if args.touchpoints:
            from .journeys import Journeys

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


def _version() -> str:
    try:
        from . import __version__

        return __version__
    except ImportError:  # pragma: no cover
        return "unknown"


# ---------------------------------------------------------------------------------------------
# warehouse formats, path-table columns, credit per journey (attribution.io, attribution.credits)
# ---------------------------------------------------------------------------------------------

IMPORT_EXAMPLES = """examples:
  attribution import ga4 events_20241027.parquet --out events.parquet
  attribution import adobe hit_data.tsv.gz --column-headers column_headers.tsv \\
      --marketing-channels marketing_channels.tsv --out adobe.parquet
  attribution import segment pages.parquet --orders order_completed.parquet --identifies identifies.parquet
  attribution compare events_20241027.parquet --format ga4 --models last_touch,markov --journey-credits
"""


def _add_source_options(g) -> None:
    g.add_argument("--conversion-events", metavar="NAMES",
                   help="event names that are conversions, comma-separated: rows of INPUT whose event_name (or "
                        "event) column holds one are conversions, the rest touches (GA4 default purchase; "
                        "Snowplow default transaction)")
    g.add_argument("--channel-by", metavar="HOW",
                   help="channel naming for GA4/Snowplow/Segment: default_channel_group (default), source_medium, "
                        "source, medium or campaign")
    g.add_argument("--traffic-source", choices=("collected", "session_last_click"),
                   help="GA4: event-scoped collected_traffic_source (default) or session_traffic_source_last_click")
    g.add_argument("--column-headers", metavar="FILE", help="Adobe: the feed's column_headers.tsv")
    g.add_argument("--marketing-channels", metavar="FILE", help="Adobe: marketing-channel lookup (id, name)")
    g.add_argument("--orders", metavar="FILE", help="Segment: the order_completed table")
    g.add_argument("--identifies", metavar="FILE", help="Segment: the identifies table (stitching)")
    g.add_argument("--tracks", metavar="FILE", help="Segment: the tracks table (orders, when --orders is absent)")


def _event_options(ns) -> dict:
    """``conversion_events`` and ``drop_missing_channel`` for a plain event table (no --format)."""
    out = {}
    if getattr(ns, "conversion_events", None) and not getattr(ns, "format", None):
        out["conversion_events"] = _split_list(ns.conversion_events)
    if getattr(ns, "drop_missing_channel", None):
        out["drop_missing_channel"] = True
    return out


def _add_data_options(c) -> None:
    """compare's flags for warehouse formats, path-table columns and per-journey credit."""
    g = c.add_argument_group("warehouse formats (INPUT is a raw export; see 'attribution import --help')")
    g.add_argument("--format", choices=("ga4", "adobe", "snowplow", "segment", "criteo"),
                   help="read INPUT with this importer instead of as touchpoints")
    _add_source_options(g)
    g.add_argument("--drop-missing-channel", action="store_true",
                   help="drop touch rows without a channel (counted and reported) instead of stopping")
    p = c.add_argument_group("path table columns")
    p.add_argument("--conversions-column", metavar="COLUMN", help="conversion counts (default total_conversions)")
    p.add_argument("--value-column", metavar="COLUMN", help="conversion value (default total_conversion_value, if present)")
    p.add_argument("--nulls-column", metavar="COLUMN", help="non-converting journeys (default total_null, if present)")
    o = c.add_argument_group("credit per journey")
    o.add_argument("--journey-credits", action="store_true",
                   help="also write journey_credits.parquet: credit per journey x channel for every model")


_DATA_FLAGS = ("format", "conversion_events", "channel_by", "traffic_source", "column_headers", "marketing_channels",
               "orders", "identifies", "tracks", "conversions_column", "value_column", "nulls_column", "journey_credits",
               "drop_missing_channel")


# the same settings as batch-config keys ([defaults] / [inputs.NAME] in runs.toml)
_INPUT_KEYS.update({
    "format": "str", "conversion_events": "str", "channel_by": "str", "traffic_source": "str",
    "column_headers": "file", "marketing_channels": "file", "orders": "file", "identifies": "file", "tracks": "file",
    "conversions_column": "str", "value_column": "str", "nulls_column": "str", "journey_credits": "bool",
    "drop_missing_channel": "bool",
})
_INPUT_DEFAULTS.update({key: None for key in _DATA_FLAGS})
_INPUT_DEFAULTS.update({"journey_credits": False, "drop_missing_channel": False})


def _data_flags_to_namespace(args, ns) -> None:
    for key in _DATA_FLAGS:
        setattr(ns, key, getattr(args, key, None))


def _path_table_columns(ns, table):
    """The count, value and null columns of a path table (flags, else the defaults if present)."""
    count = getattr(ns, "conversions_column", None) or _PATH_COUNT_COLUMN
    if not getattr(ns, "conversions_column", None) and count not in table.columns:
        raise UserError(
            f"{ns.input} has no {_PATH_COUNT_COLUMN!r} column; a path table needs one (conversions per path; "
            f"total_null and total_conversion_value are optional); columns found: "
            f"{[str(c) for c in table.columns]}; rename the count column to {_PATH_COUNT_COLUMN} or name it with "
            "--conversions-column COLUMN."
        )
    _require(table, count, "--conversions-column", ns.input, "conversion count")
    cols = []
    for flag, default in (("value_column", "total_conversion_value"), ("nulls_column", "total_null")):
        given = getattr(ns, flag, None)
        if given:
            _require(table, given, "--" + flag.replace("_", "-"), ns.input, flag.split("_")[0])
            cols.append(given)
        else:
            cols.append(default)
    return count, cols[0], cols[1]


def _source_options(ns) -> dict:
    """Importer keyword arguments from the flags (only those the importer takes)."""
    fmt = ns.format
    opts = {}
    if getattr(ns, "conversion_events", None):
        if fmt not in ("ga4", "snowplow"):
            raise UserError(f"--conversion-events applies to --format ga4 or snowplow, not {fmt}.")
        opts["conversion_events"] = _split_list(ns.conversion_events)
    if getattr(ns, "channel_by", None):
        if fmt not in ("ga4", "snowplow", "segment"):
            raise UserError(f"--channel-by applies to --format ga4, snowplow or segment, not {fmt}.")
        opts["channel"] = ns.channel_by
    if getattr(ns, "traffic_source", None):
        if fmt != "ga4":
            raise UserError("--traffic-source applies to --format ga4.")
        opts["traffic_source"] = ns.traffic_source
    for flag, key, owner in (("column_headers", "column_headers", "adobe"), ("marketing_channels", "marketing_channels", "adobe"),
                             ("orders", "orders", "segment"), ("identifies", "identifies", "segment"),
                             ("tracks", "tracks", "segment")):
        value = getattr(ns, flag, None)
        if value:
            if fmt != owner:
                raise UserError(f"--{flag.replace('_', '-')} applies to --format {owner}, not {fmt}.")
            if not Path(value).exists():
                raise UserError(f"file not found: {value} (--{flag.replace('_', '-')}).")
            opts[key] = value
    return opts


def _read_source(fmt: str, path, ns):
    from .io import READERS

    if not Path(path).exists():
        raise UserError(f"file not found: {path} (INPUT). Relative paths start from {Path.cwd()}.")
    try:
        return READERS[fmt](path, **_source_options(ns))
    except UserError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise UserError(f"cannot read {path} as {fmt}: {_one_line(exc)[0]}") from exc


def _load_journeys_from_source(ns, *, label: str = ""):
    """load_journeys for --format SOURCE: the importer, then Journeys.from_events."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tables = _read_source(ns.format, ns.input, ns)
        kw = {}
        if ns.lookback_given:
            kw["lookback"] = parse_lookback(ns.lookback, "--lookback")
        try:
            if getattr(ns, "sep", None):
                kw["sep"] = ns.sep
            journeys = tables.journeys(**kw)
        except (ValueError, TypeError, KeyError) as exc:
            raise UserError(f"cannot build journeys from {ns.input}: {_one_line(exc)[0]}") from exc
    inputs = {"input": str(ns.input)}
    settings = {"format": ns.format, "lookback": str(kw.get("lookback", tables.journey_options.get("lookback", "30D")))}
    for key, value in tables.summary().items():
        if str(key).startswith("excluded_") and value:
            settings[str(key).replace("_", " ", 1)] = f"{int(value):,}"
    notes = list(dict.fromkeys(str(w.message) for w in caught))
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return journeys, inputs, settings, notes


def _write_journey_credits(report, out: Path, files):
    """journey_credits.parquet: credit per journey x channel for every compared model."""
    from .credits import journey_credits

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
    if isinstance(files, dict):
        files = {**files, "journey_credits": path}
    elif isinstance(files, list):
        files = [*files, path]
    return files


def _add_import_parser(sub, fmt) -> None:
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


# ---------------------------------------------------------------------------------------------
# errors and the entry point
# ---------------------------------------------------------------------------------------------


def _one_line(exc: BaseException) -> tuple[str, list[str]]:
    """The message of ``exc`` as one line, plus any example rows it carried (to indent below)."""
    msg = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    lines = [ln.rstrip() for ln in msg.strip().splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__, []
    if len(lines) == 1:
        return lines[0], []
    head = lines[0]
    if head.rstrip().endswith("Example rows:"):
        head = head.rstrip()[: -len("Example rows:")].rstrip()
        return f"{head} {lines[-1]}", lines[1:-1]
    return " ".join(lines), []


def _user_errors() -> tuple[type[BaseException], ...]:
    from .exceptions import AttributionError

    return (UserError, AttributionError, OSError, EOFError)


def _is_user_error(exc: BaseException) -> bool:
    """A mistake in the input (exit 2) or a defect (exit 1)?

    The package's own exceptions, :class:`UserError` and file errors are user mistakes; so is a
    ``ValueError`` / ``TypeError`` / ``KeyError`` raised on purpose by this package's code (the
    innermost frame is in the package). The same errors raised inside pandas, numpy or scipy
    are defects: they are not dressed as user errors.
    """
    if isinstance(exc, _user_errors()):
        return True
    if not isinstance(exc, (ValueError, TypeError, KeyError)):
        return False
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return False
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.abspath(last.tb_frame.f_code.co_filename).startswith(here + os.sep)


def check_out(out, force: bool, name: str = "report.html") -> None:
    """Refuse to overwrite an earlier report in ``out`` unless ``force``."""
    p = Path(out) / name
    if p.exists() and not force:
        raise UserError(f"{p} already exists: pass --force to overwrite it, or choose another --out folder.")


def main(argv=None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 usage or input error, 1 unexpected)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors (argparse printed them)
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    args.out_given = argv_has(argv, "--out")
    caught: list = []
    code = 0
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = args.func(args)
    except KeyboardInterrupt:
        print("attribution: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (e.g. '| head'): stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # noqa: BLE001 - every failure ends in one line and an exit code
        _print_notes(caught, args)
        user = _is_user_error(exc)
        head, rows = _one_line(exc)
        if args.verbose:
            traceback.print_exc()
        if user:
            print(f"attribution {args.command}: error: {head}", file=sys.stderr)
            for row in rows:
                print(f"    {row}", file=sys.stderr)
        else:
            print(f"attribution {args.command}: unexpected error: {type(exc).__name__}: {head} -- this is a bug, please "
                  "report it" + ("" if args.verbose else " with the output of --verbose"), file=sys.stderr)
        return 2 if user else 1
    _print_notes(caught, args)
    return code


def argv_has(argv, flag: str) -> bool:
    items = sys.argv[1:] if argv is None else list(argv)
    return any(a == flag or a.startswith(flag + "=") for a in items)


def _print_notes(caught, args) -> None:
    if args.quiet:
        return
    for message in dict.fromkeys(str(w.message) for w in caught or []):
        first = message.strip().splitlines()[0] if message.strip() else message
        print(f"note: {first}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
