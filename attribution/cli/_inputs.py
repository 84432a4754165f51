"""Reading the inputs: tables, journeys from events or path tables (pandas or DuckDB), warehouse
formats (:mod:`attribution.io`) and the data flags shared by compare, import and the batch config."""

from __future__ import annotations

import difflib
import warnings
import zlib
from pathlib import Path

from ._args import (
    COLUMN_FLAGS,
    UserError,
    _is_user_error,
    _one_line,
    _split_list,
    parse_lookback,
    pd,
)

_PATH_COUNT_COLUMN = "total_conversions"


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


def load_journeys(ns, *, label: str = ""):
    """Journeys from the input flags (or a config entry with the same names).

    Returns ``(journeys, inputs, settings, notes)``: the input files by role, the settings that
    differ from the defaults, and the notes (warnings) raised while building the journeys.
    """
    from ..journeys import Journeys

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
            rules = journey_rules(ns, paths=True)
            try:
                journeys = Journeys.from_paths(table, path=ns.path_column, conversions=count_col,
                                               value=value_col, nulls=nulls_col, sep=ns.sep, **rules)
            except (ValueError, TypeError) as exc:
                if not _is_user_error(exc):
                    raise
                raise UserError(f"cannot read the path table {ns.input}: {_one_line(exc)[0]}") from exc
            settings["layout"] = "path table"
            settings.update(_rule_settings(rules))
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
            lookback, lookback_note = _lookback(ns)
            rules = journey_rules(ns)
            try:
                journeys = Journeys.from_events(
                    table, conversions, customer=ns.customer, time=ns.time, channel=ns.channel,
                    value=ns.value, place=ns.place, lookback=lookback, identities=identities, sep=ns.sep or ">",
                    **_time_options(ns), **_event_options(ns), **_type_options(ns), **rules,
                )
            except (ValueError, TypeError, KeyError) as exc:
                if not _is_user_error(exc):  # raised inside pandas or numpy: a defect, not dressed up
                    raise
                where = ns.input + (f" / {ns.conversions}" if ns.conversions else "")
                raise UserError(f"cannot build journeys from {where}: {_one_line(exc)[0]}") from exc
            settings["lookback"] = (str(lookback) if lookback else "none") + lookback_note
            settings.update(_rule_settings(rules))
            if identities is not None:
                settings["identity links"] = f"{len(identities):,}"
        for flag, default, _ in COLUMN_FLAGS:
            if getattr(ns, flag) != default and not paths:
                settings[f"--{flag}"] = str(getattr(ns, flag))
    notes = list(dict.fromkeys(str(w.message) for w in caught))
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return journeys, inputs, settings, notes


#: The journey rules of the command line / config: key -> (flag, kind).
JOURNEY_RULES = {
    "exclude": ("--exclude", "list"),
    "collapse_repeats": ("--collapse-repeats", "bool"),
    "max_length": ("--max-length", "int"),
    "lookback_touches": ("--lookback-touches", "int"),
}


def journey_rules(ns, *, paths: bool = False) -> dict:
    """``exclude``, ``collapse_repeats``, ``max_length`` and ``lookback_touches`` for
    ``Journeys.from_events`` / ``from_paths`` from the flags (or config keys), checked."""
    out = {}
    exclude = _split_list(getattr(ns, "exclude", None))
    if exclude:
        out["exclude"] = exclude
    if getattr(ns, "collapse_repeats", None):
        out["collapse_repeats"] = True
    for key in ("max_length", "lookback_touches"):
        v = getattr(ns, key, None)
        if v is None:
            continue
        flag = JOURNEY_RULES[key][0]
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise UserError(f"{flag} must be a whole number of touches of at least 1; got {v!r}.")
        out[key] = int(v)
    if paths and "lookback_touches" in out:
        raise UserError(
            "--lookback-touches counts touches back from a conversion's time, but a path table has no times: "
            "use --max-length N (keeps the last N touches of every path) instead."
        )
    return out


def _rule_settings(rules: dict) -> dict:
    """The journey rules as report settings (flag -> text)."""
    out = {}
    for key, value in rules.items():
        flag = JOURNEY_RULES[key][0]
        out[flag] = ", ".join(value) if isinstance(value, list) else ("on" if value is True else f"{value:,}")
    return out


def needs_full_history(specs) -> list[str]:
    """The model specs among ``specs`` that need every touch (``_requires_full_history``, e.g. causal)."""
    from ..models import get_model

    out = []
    for spec in specs or ():
        try:
            model = get_model(spec)
        except (ValueError, TypeError):  # checked elsewhere with a better message
            continue
        if getattr(model, "_requires_full_history", False):
            out.append(spec)
    return out


def _lookback(ns) -> tuple:
    """The lookback of the journeys and a note for the report settings.

    ``--lookback`` when given; else 30 days, unless a model of the run needs every touch of a
    person (the causal model's exposure histories): then none, so that no touch is cut. The
    path models of the same run see the same, uncut journeys (one journey set for every model,
    so their credits stay comparable); ``--lookback 30D`` restores the window for all.
    """
    if ns.lookback_given:
        return parse_lookback(ns.lookback, "--lookback"), ""
    full = needs_full_history(getattr(ns, "model_specs", None))
    if full:
        return None, f" ({full[0]} needs every touch; --lookback sets a window for all models)"
    return "30D", ""


def _time_options(ns) -> dict:
    """``time_unit``, ``time_format`` and ``dayfirst`` from the flags (or config keys)."""
    out = {}
    for key in ("time_unit", "time_format", "dayfirst"):
        v = getattr(ns, key, None)
        if v is not None and v is not False:
            out[key] = v
    return out


#: File flags whose files must exist: checked by :func:`check_files` before anything heavy loads.
_FILE_FLAGS = (("input", "INPUT"), ("conversions", "--conversions"), ("identities", "--identities"),
               ("costs", "--costs"), ("customers", "--customers"), ("truth", "--truth"), ("tests", "--tests"),
               ("stages", "--stages"))


def check_files(args) -> None:
    """Fail fast on a file flag that names no file, before pandas or the models are imported.

    The same messages as the readers give later (:func:`read_table`, :func:`_existing_files`);
    inputs of ``--engine duckdb`` may be globs, ``--format`` exports are left to their importer.
    """
    if getattr(args, "format", None):
        return
    globs = getattr(args, "engine", "pandas") == "duckdb" and not getattr(args, "paths", False)
    for attr, flag in _FILE_FLAGS:
        value = getattr(args, attr, None)
        if not isinstance(value, str) or not value:
            continue
        if globs and attr in ("input", "conversions"):
            _existing_files(value, flag)
        elif not Path(value).exists():
            raise UserError(f"file not found: {value} ({flag}). Check the path; relative paths start from "
                            f"{Path.cwd()}.")


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
    from ..journeys import Journeys

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
    rules = journey_rules(ns)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            journeys = Journeys.from_events(
                touch, conversions, customer=ns.customer, time=ns.time, channel=ns.channel,
                value=ns.value, place=ns.place, lookback=lookback, identities=identities, sep=ns.sep or ">",
                engine="duckdb", **_time_options(ns), **_type_options(ns), **rules,
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
    settings = {"engine": "duckdb (aggregated path table)", "lookback": str(lookback) if lookback else "none",
                **_rule_settings(rules)}
    if identities is not None:
        settings["identity links"] = f"{len(identities):,}"
    for flag, default, _ in COLUMN_FLAGS:
        if getattr(ns, flag) != default:
            settings[f"--{flag}"] = str(getattr(ns, flag))
    notes = list(dict.fromkeys(str(w.message) for w in caught))
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return journeys, inputs, settings, notes


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


def _type_options(ns) -> dict:
    """``touch_type``, ``campaign`` and ``level`` from the flags (or config keys)."""
    return {key: getattr(ns, key) for key in ("touch_type", "campaign", "level") if getattr(ns, key, None) is not None}


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
    from ..io import READERS

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
        kw = dict(journey_rules(ns))
        note = ""
        if ns.lookback_given:
            kw["lookback"] = parse_lookback(ns.lookback, "--lookback")
        elif needs_full_history(getattr(ns, "model_specs", None)) and tables.journey_options.get("lookback", "30D"):
            kw["lookback"], note = _lookback(ns)
        try:
            if getattr(ns, "sep", None):
                kw["sep"] = ns.sep
            if getattr(ns, "level", "channel") != "channel":
                kw["level"] = ns.level
            journeys = tables.journeys(**kw)
        except (ValueError, TypeError, KeyError) as exc:
            raise UserError(f"cannot build journeys from {ns.input}: {_one_line(exc)[0]}") from exc
    inputs = {"input": str(ns.input)}
    lb = kw["lookback"] if "lookback" in kw else tables.journey_options.get("lookback", "30D")
    settings = {"format": ns.format, "lookback": (str(lb) if lb else "none") + note,
                **_rule_settings({k: v for k, v in kw.items() if k in JOURNEY_RULES})}
    for key, value in tables.summary().items():
        if str(key).startswith("excluded_") and value:
            settings[str(key).replace("_", " ", 1)] = f"{int(value):,}"
    notes = list(dict.fromkeys(str(w.message) for w in caught))
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return journeys, inputs, settings, notes


def _read_tests(path, flag: str = "--tests"):
    from ..experiments import read_lift_tests

    if not Path(path).is_file():
        raise UserError(f"{flag}: file not found: {path}.")
    return read_lift_tests(path)
