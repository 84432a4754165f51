"""Argument helpers shared by the sub-commands: the lazy pandas, model/lookback/bounds parsing,
the common flags, progress, the output-folder check, :class:`UserError` and how a failure
ends (one line and exit code 2 for a user's mistake, 1 for a defect)."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path


class _LazyPandas:
    """``pd`` that imports pandas on first use, so ``--help`` and argument errors stay instant."""

    def __getattr__(self, name):
        import pandas

        globals()["pd"] = pandas  # later uses go straight to the module
        return getattr(pandas, name)


pd = _LazyPandas()


#: The models ``attribution compare`` fits when ``--models`` is not given.
DEFAULT_MODELS = "first_touch,last_touch,last_non_direct,linear,position_based,time_decay,markov"


#: Column flags shared by every sub-command that reads events: (flag, default, help).
COLUMN_FLAGS = (
    ("customer", "customer_id", "person / cookie id column of the touchpoints and conversions"),
    ("time", "timestamp", "timestamp column (ISO 8601; naive times are read as UTC)"),
    ("channel", "channel", "channel column of the touchpoints"),
    ("value", "value", "conversion value column (optional: absent means 0)"),
    ("place", "place", "conversion place column, e.g. online / store (optional)"),
)


class UserError(Exception):
    """A mistake in the command line, the config or the input files: reported in one line."""


def parse_models(text: str, where: str = "--models") -> list[str]:
    """Split a comma-separated list of model specs and check every spec.

    Parameters of a spec continue after its comma (``markov:order=2,collapse_repeats=true,linear``
    is two specs): a piece with ``=`` and no ``:`` belongs to the spec before it.
    """
    from ..models import get_model

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


def check_out(out, force: bool, name: str = "report.html") -> None:
    """Refuse to overwrite an earlier report in ``out`` unless ``force``."""
    p = Path(out) / name
    if p.exists() and not force:
        raise UserError(f"{p} already exists: pass --force to overwrite it, or choose another --out folder.")


def argv_has(argv, flag: str) -> bool:
    items = sys.argv[1:] if argv is None else list(argv)
    return any(a == flag or a.startswith(flag + "=") for a in items)


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
    from ..exceptions import AttributionError

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

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the attribution package
    return os.path.abspath(last.tb_frame.f_code.co_filename).startswith(here + os.sep)
