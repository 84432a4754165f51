"""The engine-neutral driver of the SQL journey rules.

An SQL engine supplies a small *backend* (run a query and fetch a small result, register a
small pandas table, create a view or a table) and views over the user's tables carrying an
input row number (:data:`attribution.engines._sql.ROW`). Everything else lives here, once:
parameter and data validation with the pandas engine's messages, the channel and identity
maps, the call of the SQL generator (:mod:`attribution.engines._sql`), and turning the
aggregates that come back into :class:`~attribution.Journeys`,
:class:`~attribution.graph.TransitionCounts` and credit tables.

Only aggregates cross from the engine to Python: validation counts (a few rows per channel),
at most three example rows per error, the identity links (O(ids), for connected components
with scipy), the path table and the aggregates computed from it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from .._validation import (
    TIME_MAX,
    TIME_MIN,
    as_name_set,
    check_channel_names,
    check_time_options,
    guess_time_unit,
    parse_duration,
    require_columns,
)
from ..exceptions import JourneyValidationError, ParameterError
from ..journeys import LEVEL_SEP, NOT_SET
from . import _sql
from ._sql import trim

#: The column holding "channel :: campaign" at ``level="campaign"``.
_LABEL = "__attribution_channel"

__all__ = ["Backend", "Source", "PathAggregates", "build_paths"]

#: Conversion time of converting journeys built with ages: touch times are this minus their age.
AGE_ANCHOR = np.datetime64("2000-01-01T00:00:00", "ns")

_NUMERIC_TYPES = {
    "BOOLEAN", "BOOL", "TINYINT", "SMALLINT", "INTEGER", "INT", "BIGINT", "HUGEINT", "UTINYINT",
    "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "REAL", "DOUBLE", "BYTE", "SHORT",
    "LONG", "INT2", "INT4", "INT8", "FLOAT4", "FLOAT8",
}


def is_numeric_type(type_name: str) -> bool:
    """Whether an SQL column type is numeric or boolean (DuckDB and Spark spellings)."""
    t = str(type_name).upper()
    return t in _NUMERIC_TYPES or t.startswith("DECIMAL") or t.startswith("NUMERIC")


class Backend(Protocol):
    """What an SQL engine provides to the driver.

    ``dialect`` is ``"duckdb"`` or ``"spark"``. ``fetch`` runs a query whose result is small
    and returns it as a pandas DataFrame; ``fetch_arrow`` the same as a ``pyarrow.Table``;
    ``register`` makes a small pandas DataFrame queryable under ``name``; ``create_view`` and
    ``create_table`` define a (temporary) view or materialised table from a query; ``drop``
    removes what was made under a name.
    """

    dialect: str

    def fetch(self, sql: str) -> pd.DataFrame: ...

    def fetch_arrow(self, sql: str): ...

    def register(self, name: str, df: pd.DataFrame) -> None: ...

    def create_view(self, name: str, sql: str) -> None: ...

    def create_table(self, name: str, sql: str) -> None: ...

    def drop(self, name: str) -> None: ...


@dataclass(frozen=True)
class Source:
    """A view over a user's table: its name, and its columns with their SQL types (in order).

    ``dense_rows``: the view's :data:`~attribution.engines._sql.ROW` counts 1, 2, ... (else it
    only increases in input order, e.g. (file, row in file) packed, and error examples number
    the rows themselves).
    """

    view: str
    columns: dict[str, str]
    dense_rows: bool = True


# ---------------------------------------------------------------------------------------------
# Validation helpers (the pandas engine's messages, with SQL counts and example rows)
# ---------------------------------------------------------------------------------------------


def _frame(columns) -> pd.DataFrame:
    """An empty DataFrame with these columns, for :func:`require_columns`'s message."""
    return pd.DataFrame(columns=list(columns))


def _opt(columns, name, default):
    """An optional column: absent is fine when the parameter was left at its default."""
    if name is None:
        return None
    if name not in columns and name == default:
        return None
    return name


class _Checker:
    """Builds example rows for error messages from a source view."""

    def __init__(self, backend: Backend, dialect: str):
        self.backend = backend
        self.d = dialect

    def examples(self, source: Source, where: str, columns, total: int, n: int = 3) -> str:
        q = lambda c: _sql.ident(c, self.d)  # noqa: E731
        cols = ", ".join(f"CAST({q(c)} AS STRING) AS {q(c)}" for c in columns)
        view = source.view
        if not source.dense_rows:  # the input row number, counted in scan order (error paths only)
            view = f"(SELECT *, row_number() OVER () AS __dense_row FROM {source.view}) AS numbered"
        index = f"{_sql.ROW} - 1" if source.dense_rows else "__dense_row - 1"
        df = self.backend.fetch(
            f"SELECT {index} AS row_index, {cols} FROM {view} WHERE {where} "
            f"ORDER BY {_sql.ROW} LIMIT {n}"
        )
        df = df.set_index("row_index")
        df.index.name = None
        more = f"\n... and {total - n} more" if total > n else ""
        return df.to_string() + more


# ---------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------


def _check_numeric_time(backend, chk, src, types, time, what, time_unit, d) -> None:
    """Numbers as timestamps: refuse without ``time_unit`` (show the likely unit) or with mixed units."""
    if not is_numeric_type(types[time]) or str(types[time]).upper() in ("BOOLEAN", "BOOL"):
        return
    q = _sql.ident(time, d)
    x = f"abs(CAST({q} AS DOUBLE))"
    if time_unit is None:
        med = backend.fetch(f"SELECT AVG({x}) AS m, COUNT({q}) AS n FROM {src.view}")
        if int(med["n"].iloc[0]) == 0:
            return
        unit = guess_time_unit([float(med["m"].iloc[0])])
        from .._validation import _UNIT_NAMES

        rows = chk.examples(src, f"{q} IS NOT NULL", list(src.columns), 3)
        raise JourneyValidationError(
            f"Column {time!r} of {what} holds numbers, not timestamps; their unit is unknown. Example "
            f"rows:\n{rows}\nBy their size they look like epoch {_UNIT_NAMES[unit]} since 1970-01-01 UTC: "
            f"pass time_unit={unit!r} (CLI: --time-unit {unit}), or convert the column to timestamps yourself."
        )
    klass = f"(CASE WHEN {x} < 1e11 THEN 0 WHEN {x} < 1e14 THEN 1 WHEN {x} < 1e17 THEN 2 ELSE 3 END)"
    k = backend.fetch(f"SELECT COUNT(DISTINCT {klass}) AS k, MIN({klass}) AS lo FROM {src.view} WHERE {q} IS NOT NULL")
    if int(k["k"].iloc[0]) > 1:
        lo = int(k["lo"].iloc[0])
        rows = chk.examples(src, f"{q} IS NOT NULL AND {klass} <> {lo}", list(src.columns), 3)
        raise JourneyValidationError(
            f"Column {time!r} of {what} mixes epoch numbers of different units (by their size). Example rows:\n"
            f"{rows}\nConvert every value to one unit (seconds, ms, us or ns) and pass it as time_unit=."
        )


def _fail_time(backend, chk, src, where, texpr, cols, n, time, what, topts, d) -> None:
    """Raise the pandas engine's error for unreadable timestamps: out of range, ambiguous, or unparseable."""
    q = _sql.ident(time, d)
    kind = str(src.columns[time]).upper()
    text = f"CAST({q} AS STRING)"
    fmt = topts.get("time_format")
    if not is_numeric_type(kind) and fmt is None:
        if kind.startswith("TIMESTAMP") or kind == "DATE":
            parsed = f"CAST({q} AS TIMESTAMP)"
        else:
            parsed = f"TRY_CAST({text} AS TIMESTAMP)" if d == "duckdb" else f"try_cast({text} AS TIMESTAMP)"
        oor = f"({where}) AND {parsed} IS NOT NULL AND {texpr} IS NULL"
        m = int(backend.fetch(f"SELECT COUNT(*) AS n FROM {src.view} WHERE {oor}")["n"].iloc[0])
        if m:
            rows = chk.examples(src, oor, cols, m)
            raise JourneyValidationError(
                f"Column {time!r} of {what} has {m} timestamp(s) out of range. Example rows:\n{rows}\n"
                f"Timestamps must lie between {TIME_MIN.date()} and {TIME_MAX.date()} (placeholders such as "
                "9999-12-31 or 0001-01-01 are not dates): fix or remove the rows shown."
            )
        rx = _sql.literal(r"^\s*\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}", d)
        amb = f"({where}) AND {texpr} IS NULL AND regexp_matches({text}, {rx})" if d == "duckdb" else (
            f"({where}) AND {texpr} IS NULL AND {text} RLIKE {rx}")
        m = int(backend.fetch(f"SELECT COUNT(*) AS n FROM {src.view} WHERE {amb}")["n"].iloc[0])
        if m and topts.get("dayfirst") is None:
            rows = chk.examples(src, amb, cols, m)
            raise JourneyValidationError(
                f"Column {time!r} of {what} has {m} timestamp(s) like '01/03/2026' that could be day-first "
                f"or month-first. Example rows:\n{rows}\nPass dayfirst=True (CLI: --dayfirst) or False, or "
                "time_format= such as '%d/%m/%Y'."
            )
    if is_numeric_type(kind):
        fix = (f"Timestamps must lie between {TIME_MIN.date()} and {TIME_MAX.date()}; check "
               f"time_unit={topts.get('time_unit')!r} and the rows shown.")
        head = f"missing, non-finite or out-of-range epoch value(s) for time_unit={topts.get('time_unit')!r}"
    else:
        fix = ("Use ISO-8601 timestamps such as '2026-03-01T10:15:00Z' (naive times are read as UTC)."
               if fmt is None else f"Check time_format={fmt!r} against the rows shown.")
        head = "missing or unparseable timestamp(s)"
    rows = chk.examples(src, f"({where}) AND {texpr} IS NULL", cols, n)
    raise JourneyValidationError(f"Column {time!r} of {what} has {n} {head}. Example rows:\n{rows}\n{fix}")



def _check_params(lookback, lookback_touches, max_length, unknown_customers, age_resolution, owner):
    lookback_td = parse_duration(lookback, "lookback", owner)
    if lookback_touches is not None and (
        isinstance(lookback_touches, bool) or not isinstance(lookback_touches, (int, np.integer))
        or lookback_touches < 1
    ):
        raise ParameterError(
            f"The 'lookback_touches' parameter of {owner} must be a positive "
            f"integer or None. Got {lookback_touches!r} instead."
        )
    if unknown_customers not in ("keep", "raise"):
        raise ParameterError(
            f"The 'unknown_customers' parameter of {owner} must be 'keep' or "
            f"'raise'. Got {unknown_customers!r} instead."
        )
    if max_length is not None and (
        isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)) or max_length < 1
    ):
        raise ParameterError(
            f"The 'max_length' parameter must be a positive integer or None. Got {max_length!r} instead."
        )
    age_td = parse_duration(age_resolution, "age_resolution", owner)
    return lookback_td, age_td


def build_paths(
    backend: Backend,
    touchpoints: Source,
    conversions: Source | None,
    *,
    customer: str = "customer_id",
    time: str = "timestamp",
    channel: str = "channel",
    value: str | None = "value",
    place: str | None = "place",
    lookback="30D",
    lookback_touches: int | None = None,
    identities: pd.DataFrame | None = None,
    conversion_flag: str | None = None,
    conversion_touch: bool = True,
    exclude=None,
    collapse_repeats: bool = False,
    max_length: int | None = None,
    sep: str = ">",
    unknown_customers: str = "keep",
    age_resolution=None,
    owner: str = "Journeys.from_events",
    on_close=None,
    time_unit: str | None = None,
    time_format: str | None = None,
    dayfirst: bool | None = None,
    touch_type: str | None = "touch_type",
    campaign: str | None = "campaign",
    level: str = "channel",
) -> "PathAggregates":
    """Run the journey rules in the engine and keep the path table there.

    Parameters are those of :meth:`attribution.Journeys.from_events` (same meaning, same
    checks, same messages), plus ``age_resolution`` (see :func:`attribution.engines.duckdb.aggregate_events`).
    ``touchpoints`` and ``conversions`` are :class:`Source` views; ``identities`` a pandas
    DataFrame of id links (small: O(ids)). ``on_close`` is called by
    :meth:`PathAggregates.close` (the engine's own clean-up).
    """
    d = backend.dialect
    q = lambda c: _sql.ident(c, d)  # noqa: E731
    what_t, what_c = "touchpoints", "conversions"
    tcols = touchpoints.columns
    require_columns(_frame(tcols), {"customer": customer, "time": time, "channel": channel}, what_t)
    from collections.abc import Mapping

    by_type = isinstance(lookback, Mapping)
    lookback_td, age_td = _check_params(None if by_type else lookback, lookback_touches, max_length,
                                        unknown_customers, age_resolution, owner)
    tt_col = _opt(tcols, touch_type, "touch_type")
    require_columns(_frame(tcols), {"touch_type": tt_col}, what_t)
    if level not in ("channel", "campaign"):
        raise ParameterError(f"The 'level' parameter of {owner} must be 'channel' or 'campaign'. Got {level!r} instead.")
    if level == "campaign":
        require_columns(_frame(tcols), {"campaign": campaign}, what_t)
    check_time_options(time_unit, time_format, dayfirst, owner)
    if d == "spark" and (time_format is not None or dayfirst is not None):
        raise ParameterError(
            f"The 'time_format' and 'dayfirst' parameters of {owner} are not supported by the Spark engine. "
            "Parse the column with Spark's to_timestamp(col, format) first, or use ISO-8601 text."
        )
    topts = {"time_unit": time_unit, "time_format": time_format, "dayfirst": dayfirst}
    chk = _Checker(backend, d)
    prefix = f"__attribution_{uuid.uuid4().hex[:10]}_"
    made: list[str] = []
    group_sql = None
    if level == "campaign":  # channel := "channel :: campaign" (a view with one more column)
        ch_text, camp_text = trim(f"CAST({q(channel)} AS STRING)", d), trim(f"CAST({q(campaign)} AS STRING)", d)
        label = (f"CASE WHEN {q(channel)} IS NULL OR {ch_text} = '' THEN NULL ELSE concat({ch_text}, "
                 f"{_sql.literal(LEVEL_SEP, d)}, COALESCE(NULLIF({camp_text}, ''), {_sql.literal(NOT_SET, d)})) END")
        # a sub-query, not a view: nothing to drop when validation fails
        labelled = f"(SELECT *, {label} AS {q(_LABEL)} FROM {touchpoints.view}) AS {prefix}labelled"
        group_sql = (f"SELECT DISTINCT {label} AS label, CAST({q(channel)} AS STRING) AS parent "
                     f"FROM {touchpoints.view}")
        touchpoints = Source(labelled, {**touchpoints.columns, _LABEL: "VARCHAR"}, touchpoints.dense_rows)
        tcols = touchpoints.columns
        channel = _LABEL

    # --- where conversions come from
    fcol = None
    if conversions is None:
        csrc = touchpoints
        fcol = conversion_flag
        if fcol is None:
            if "interaction" in tcols:
                fcol = "interaction"
            elif "conversion" in tcols:
                fcol = "conversion"
            else:
                raise JourneyValidationError(
                    "No conversions were given and none could be found in the touchpoints: expected an "
                    f"'interaction' column (value 'conversion') or a 'conversion' flag column. Columns "
                    f"found: {list(map(str, tcols))}. Pass conversions=<table> or conversion_flag='<column>'."
                )
        require_columns(_frame(tcols), {"conversion_flag": fcol}, what_t)
        val_col = _opt(tcols, value, "value")
        if val_col is None and "conversion_value" in tcols and value == "value":
            val_col = "conversion_value"
        plc_col = _opt(tcols, place, "place")
        require_columns(_frame(tcols), {"value": val_col, "place": plc_col}, what_t)
    else:
        csrc = conversions
        ccols = conversions.columns
        require_columns(_frame(ccols), {"customer": customer, "time": time}, what_c)
        val_col = _opt(ccols, value, "value")
        plc_col = _opt(ccols, place, "place")
        require_columns(_frame(ccols), {"value": val_col, "place": plc_col}, what_c)
    what_cv = what_c if conversions is not None else what_t
    ccol_types = csrc.columns

    # --- one scan of each table: rows per distinct channel (and flag) value, and counts of
    # every kind of bad value; the checks then run on these few rows in Python
    for src, types, what in ((touchpoints, tcols, what_t), (csrc, ccol_types, what_cv)):
        _check_numeric_time(backend, chk, src, types, time, what, time_unit, d)
    t_time = _sql.time_ns(q(time), d, tcols[time], **topts)
    c_time = _sql.time_ns(q(time), d, ccol_types[time], **topts)
    vexpr = f"try_cast({q(val_col)} AS DOUBLE)" if val_col else None
    bad = {
        "bad_customer": _sql.missing(q(customer), d),
        "bad_time": f"{t_time} IS NULL",
    }
    cbad = {"bad_customer": bad["bad_customer"], "bad_time": f"{c_time} IS NULL"}
    if val_col:
        cbad["nonnumeric"] = f"{q(val_col)} IS NOT NULL AND {vexpr} IS NULL"
        cbad["bad_value"] = f"{vexpr} IS NULL OR isnan({vexpr}) OR {vexpr} < 0"
        cbad["inf_value"] = f"{vexpr} = CAST('Infinity' AS DOUBLE)"
    if plc_col:
        cbad["bad_place"] = _sql.missing(q(plc_col), d)

    def counts(conditions):
        return ", ".join(f"SUM(CASE WHEN {c} THEN 1 ELSE 0 END) AS {k}" for k, c in conditions.items())

    ch_raw = f"CAST({q(channel)} AS STRING)"
    if fcol is None:
        stats = backend.fetch(
            f"SELECT {ch_raw} AS ch, COUNT(*) AS n, {counts(bad)} FROM {touchpoints.view} GROUP BY {ch_raw}"
        )
        cstats = backend.fetch(f"SELECT COUNT(*) AS n, {counts(cbad)} FROM {csrc.view}")
        cstats = {k: int(0 if pd.isna(v) else v) for k, v in cstats.iloc[0].items()}
        flag = None
        touch_where = conv_where = "TRUE"
    else:
        numeric = is_numeric_type(tcols[fcol])
        fkey = f"CAST({q(fcol)} AS DOUBLE) <> 0" if numeric else f"CAST({q(fcol)} AS STRING)"
        both = dict(bad)
        both.update({f"c_{k}": c for k, c in cbad.items() if k not in bad})
        groups = backend.fetch(
            f"SELECT {ch_raw} AS ch, {fkey} AS fl, COUNT(*) AS n, {counts(both)} FROM {touchpoints.view} "
            f"GROUP BY {ch_raw}, {fkey}"
        )
        if numeric:
            null_flag = groups["fl"].isna().to_numpy(dtype=bool)
            if null_flag.any():
                n = int(groups.loc[null_flag, "n"].sum())
                rows = chk.examples(touchpoints, f"{q(fcol)} IS NULL", list(tcols), n)
                raise JourneyValidationError(
                    f"Column {fcol!r} of touchpoints has missing conversion flags. Example rows:\n"
                    f"{rows}\nFill them with 0 (not a conversion) or 1."
                )
            is_conv = groups["fl"].astype(bool).to_numpy()
            flag = _sql.flag_sql(fcol, d, True)
        else:
            words = {"conversion", "1", "true", "yes"}
            is_conv = np.asarray(
                [isinstance(v, str) and v.strip().lower() in words for v in groups["fl"].tolist()], dtype=bool
            )
            true_values = sorted({v for v, c in zip(groups["fl"].tolist(), is_conv) if c})
            flag = _sql.flag_sql(fcol, d, False, true_values)
        in_touches = ~is_conv | (groups["ch"].notna().to_numpy() & conversion_touch)
        stats = groups.loc[in_touches].groupby("ch", dropna=False, as_index=False)[["n", "bad_customer", "bad_time"]].sum()
        conv_groups = groups.loc[is_conv]
        cstats = {"n": int(conv_groups["n"].sum())}
        for k in cbad:
            cstats[k] = int(conv_groups[f"c_{k}" if k not in bad else k].sum())
        touch_where = f"NOT ({flag})" + (f" OR {q(channel)} IS NOT NULL" if conversion_touch else "")
        conv_where = flag

    def fail_missing(src, where, column, n, what, fix, cols):
        rows = chk.examples(src, f"({where}) AND {_sql.missing(q(column), d)}", cols, n)
        raise JourneyValidationError(
            f"Column {column!r} of {what} has {n} missing or empty value(s). Example rows:\n{rows}\n{fix}"
        )

    tshow = list(tcols)
    cshow = list(ccol_types)
    raw = stats["ch"].tolist()
    stripped = [None if pd.isna(r) else str(r).strip() for r in raw]
    no_channel = np.asarray([s is None or s == "" for s in stripped], dtype=bool)
    n_bad = int(stats["bad_customer"].sum())
    if n_bad:
        fail_missing(touchpoints, touch_where, customer, n_bad, what_t, "Every touch needs a customer id.", tshow)
    n_bad = int(stats.loc[no_channel, "n"].sum())
    if n_bad:
        empty_raw = [r for r, s in zip(raw, stripped) if s == ""]
        cond = f"{q(channel)} IS NULL" + (
            f" OR {ch_raw} IN ({', '.join(_sql.literal(r, d) for r in empty_raw)})" if empty_raw else ""
        )
        rows = chk.examples(touchpoints, f"({touch_where}) AND ({cond})", tshow, n_bad)
        raise JourneyValidationError(
            f"Column {channel!r} of {what_t} has {n_bad} missing or empty value(s). Example rows:\n{rows}\n"
            "Fill or remove touches without a channel."
        )
    if cstats["bad_customer"]:
        fail_missing(csrc, conv_where, customer, cstats["bad_customer"], what_cv, "Every conversion needs a customer id.", cshow)
    for src, where, n, what, texpr, cols in (
        (touchpoints, touch_where, int(stats["bad_time"].sum()), what_t, t_time, tshow),
        (csrc, conv_where, cstats["bad_time"], what_cv, c_time, cshow),
    ):
        if n:
            _fail_time(backend, chk, src, where, texpr, cols, n, time, what, topts, d)
    bad_sep = [r for r, s in zip(raw, stripped) if s is not None and sep in s]
    if bad_sep:
        n = int(stats.loc[stats["ch"].isin(bad_sep), "n"].sum())
        cond = f"{ch_raw} IN ({', '.join(_sql.literal(r, d) for r in bad_sep)})"
        rows = chk.examples(touchpoints, f"({touch_where}) AND {cond}", [customer, time, channel], n)
        raise JourneyValidationError(
            f"Column {channel!r} of {what_t} has channel names containing the path separator "
            f"{sep!r}. Example rows:\n{rows}\n"
            f"Rename these channels, or pass another sep= (it is used when journeys are written as paths)."
        )
    if val_col and cstats["nonnumeric"]:
        n = cstats["nonnumeric"]
        rows = chk.examples(csrc, f"({conv_where}) AND {cbad['nonnumeric']}", cshow, n)
        raise JourneyValidationError(
            f"Column {val_col!r} of {what_cv} must be numeric; {n} value(s) are not. "
            f"Example rows:\n{rows}\nConvert the column to a number type and fix or remove the rows shown."
        )
    if val_col and cstats.get("inf_value"):
        n = cstats["inf_value"]
        rows = chk.examples(csrc, f"({conv_where}) AND ({cbad['inf_value']})", cshow, n)
        raise JourneyValidationError(
            f"Column {val_col!r} of {what_cv} has {n} infinite value(s). Example rows:\n{rows}\n"
            "Every count, value and cost must be a finite number: fix or remove these rows."
        )
    if val_col and cstats["bad_value"]:
        n = cstats["bad_value"]
        rows = chk.examples(csrc, f"({conv_where}) AND ({cbad['bad_value']})", cshow, n)
        raise JourneyValidationError(
            f"Column {val_col!r} of {what_cv} must hold non-negative numbers; {n} "
            f"value(s) are negative or missing. Example rows:\n{rows}\n"
            "Fill missing values with 0 and fix negative values at the source."
        )
    if plc_col and cstats["bad_place"]:
        fail_missing(csrc, conv_where, plc_col, cstats["bad_place"], what_cv,
                     "Every conversion needs a place, e.g. 'online' or 'store'.", cshow)

    # --- channels: stripped in Python (exactly as pandas), codes in sorted name order (the
    # pandas engine's codes); the map is keyed by the raw text; excluded channels get -1
    names = sorted(set(s for s in stripped if s is not None))
    check_channel_names(names, channel)
    drop = as_name_set(exclude)
    if drop:
        unknown = drop - set(names)
        if group_sql is not None:  # channel names are known too at the campaign level
            unknown = {u for u in unknown if not any(n.startswith(u + LEVEL_SEP) for n in names)}
        if unknown:
            from .._warnings import warn_user

            warn_user(f"exclude names channel(s) not in the data: {sorted(unknown)}.", UserWarning)
    kept = [c for c in names if c not in drop]
    group_of = None
    if group_sql is not None:
        g = backend.fetch(group_sql)
        group_of = {str(lb).strip(): str(pa).strip() for lb, pa in zip(g["label"].tolist(), g["parent"].tolist())
                    if lb is not None and not pd.isna(lb)}
        if drop:  # a channel name excludes all its campaigns
            drop = drop | {c for c in names if group_of.get(c) in drop}
            kept = [c for c in names if c not in drop]
    code_of = {c: i for i, c in enumerate(kept)}
    channel_map = pd.DataFrame({
        "raw": pd.Series([str(r) for r, s in zip(raw, stripped) if s is not None], dtype=object),
        "code": np.asarray([code_of.get(s, -1) for s in stripped if s is not None], dtype=np.int32),
    })
    # --- touch types: the distinct raw values (a few), normalised in Python as pandas does
    tt_names, tt_codes, visit_code = None, {}, 0
    if tt_col is not None:
        from_conv = flag if (flag is not None and conversion_touch) else "FALSE"
        qt = q(tt_col)
        tstats = backend.fetch(
            f"SELECT CAST({qt} AS STRING) AS ty, {from_conv} AS fc, {_sql.missing(qt, d)} AS miss, COUNT(*) AS n "
            f"FROM {touchpoints.view} WHERE {touch_where} GROUP BY CAST({qt} AS STRING), {from_conv}, {_sql.missing(qt, d)}"
        )
        fc = tstats["fc"].fillna(False).astype(bool).to_numpy()
        miss = tstats["miss"].astype(bool).to_numpy()
        nul = tstats["ty"].isna().to_numpy()
        bad = miss & ~(fc & nul)  # a conversion-row touch without a type is a visit
        if bad.any():
            n = int(tstats.loc[bad, "n"].sum())
            cond = f"({touch_where}) AND {_sql.missing(qt, d)}" + (f" AND NOT ({from_conv} AND {qt} IS NULL)")
            rows = chk.examples(touchpoints, cond, tshow, n)
            raise JourneyValidationError(
                f"Column {tt_col!r} of {what_t} has {n} missing or empty value(s). Example rows:\n{rows}\n"
                "Give every touch a type such as 'click' or 'impression' (or touch_type=None)."
            )
        raws = tstats.loc[~nul, "ty"].tolist()
        normal = {r: str(r).strip().lower() for r in raws}
        want = set(normal.values()) | ({"visit"} if (fc & nul).any() else set())
        tt_names = sorted(want)
        code_of_type = {n: i for i, n in enumerate(tt_names)}
        tt_codes = {r: code_of_type[v] for r, v in normal.items()}
        visit_code = code_of_type.get("visit", 0)
    type_ns = None
    if by_type:
        from ..journeys import type_windows

        type_ns = tuple(int(x) for x in type_windows(lookback, tt_names, owner)[0])

    try:
        backend.register(prefix + "channels", channel_map)
        made.append(prefix + "channels")

        # --- identities: connected components on the driver (links are O(ids), not O(events))
        id_map = None
        id_table = None
        if identities is not None:
            from ..journeys import _persons

            empty = pd.Series([], dtype=object)
            _, _, _, id_map = _persons(empty, empty, identities)
            if len(id_map):
                id_table = prefix + "ids"
                backend.register(id_table, pd.DataFrame({
                    "id": pd.Series(id_map.index.to_numpy(dtype=object), dtype=object),
                    "person": pd.Series(id_map.to_numpy(dtype=object), dtype=object),
                }))
                made.append(id_table)

        # --- staged events
        tview, cview = prefix + "touches", prefix + "conversions"
        tkw = dict(customer=customer, time=time, channel=channel, dialect=d, time_type=tcols[time], flag=flag,
                   conversion_touch=conversion_touch, channel_map=prefix + "channels", id_map=id_table,
                   customer_type=tcols[customer], time_options=topts,
                   touch_type=tt_col, type_codes=tt_codes, visit_code=visit_code)
        ckw = dict(customer=customer, time=time, dialect=d, value=val_col, place=plc_col, time_type=ccol_types[time],
                   flag=flag, id_map=id_table, customer_type=ccol_types[customer], time_options=topts)
        codes = None
        if getattr(backend, "dense_persons", False):
            # persons as dense integers (a dictionary of the distinct ids, numbered in text
            # order): the journey query's windows then partition and sort by one integer
            codes = prefix + "persons"
            backend.create_table(codes, _sql.person_codes_sql(
                _sql.touches_sql(touchpoints.view, ids_only=True, **tkw),
                _sql.conversions_sql(csrc.view, ids_only=True, **ckw), id_table,
            ))
            made.append(codes)
            n_persons = int(backend.fetch(f"SELECT MAX(pc) AS n FROM {codes}")["n"].fillna(0).iloc[0])
            if n_persons < 2**31:  # 4-byte codes: narrower rows to sort and spill
                backend.create_table(codes + "_i", f"SELECT id, CAST(pc AS INTEGER) AS pc, has_touch FROM {codes}")
                backend.drop(codes)
                made[-1] = codes = codes + "_i"
        backend.create_view(tview, _sql.touches_sql(touchpoints.view, person_codes=codes, **tkw))
        backend.create_view(cview, _sql.conversions_sql(csrc.view, person_codes=codes, **ckw))
        made += [tview, cview]
        n_touch_rows = int(stats["n"].sum())
        n_conv_rows = int(cstats["n"])

        if codes is None:
            cond = f"SELECT c.o FROM {cview} AS c WHERE NOT EXISTS (SELECT 1 FROM {tview} AS t WHERE t.p = c.p)"
        else:
            cond = f"SELECT o FROM {cview} WHERE has_touch = 0"
        n = int(backend.fetch(f"SELECT COUNT(*) AS n FROM ({cond}) AS u")["n"].iloc[0])
        if unknown_customers != "raise" and n_conv_rows:
            from ..journeys import warn_unmatched

            kind = lambda t: "floats" if str(t).upper() in ("FLOAT", "DOUBLE", "REAL") else (  # noqa: E731
                "integers" if is_numeric_type(t) else "text")
            warn_unmatched(n, n_conv_rows, kind(tcols[customer]), kind(ccol_types[customer]), customer,
                           identities is not None, n_touch_rows)
        if unknown_customers == "raise":
            if n:
                rows = chk.examples(csrc, f"{_sql.ROW} IN ({cond})", cshow, n)
                raise JourneyValidationError(
                    f"Column {customer!r} of {what_cv} has {n} conversion(s) of customers "
                    f"with no touch. Example rows:\n{rows}\n"
                    "Pass identities= to link their ids, or unknown_customers='keep' to keep them as "
                    "journeys without touches."
                )

        # --- the journey rules, in one query; the path table stays in the engine
        rules = _sql.JourneyRules(
            n_codes=len(kept),
            lookback_ns=None if lookback_td is None else int(lookback_td.value),
            lookback_touches=None if lookback_touches is None else int(lookback_touches),
            collapse_repeats=bool(collapse_repeats),
            max_length=None if max_length is None else int(max_length),
            age_step_ns=None if age_td is None else int(age_td.value),
            n_types=0 if tt_names is None else len(tt_names), type_lookback_ns=type_ns,
        )
        paths = prefix + "paths"
        n_buckets = 1
        if codes is not None and getattr(backend, "bucket_events", None):
            n_events = n_touch_rows + n_conv_rows
            if n_events > int(backend.bucket_events):
                per = int(backend.bucket_events)
                if _numpy_route(backend, rules):
                    per = min(per, _numpy_bucket_size(backend))
                n_buckets = min(-(-n_events // per), max(n_persons, 1))
        if n_buckets == 1:
            backend.create_table(paths, _sql.journey_paths_sql(tview, cview, rules, d))
        else:
            _bucketed_paths(backend, paths, n_buckets, n_persons, codes, tview, cview, rules, prefix, made)
        made.append(paths)
        sums = ", ".join(f"SUM({c}) AS {c}" for c in _sql.EXCLUSION_COLUMNS.values())
        xs = backend.fetch(f"SELECT {sums} FROM {paths}").iloc[0]
        exclusions = {rule: int(0 if pd.isna(xs[c]) else xs[c]) for rule, c in _sql.EXCLUSION_COLUMNS.items()}
    except BaseException:
        for name in reversed(made):  # leave nothing behind on the engine
            try:
                backend.drop(name)
            except Exception:  # noqa: BLE001
                pass
        raise
    return PathAggregates(
        backend=backend, table=paths, channels=np.asarray(kept, dtype=object),
        has_place=plc_col is not None, exclusions=exclusions,
        n_input={"touch_rows": n_touch_rows, "conversion_rows": n_conv_rows},
        id_map=id_map, age_resolution=age_td, made=made, prefix=prefix, on_close=on_close,
        touch_types=None if tt_names is None else np.asarray(tt_names, dtype=object),
        channel_groups=None if group_of is None else np.asarray([group_of[c] for c in kept], dtype=object),
    )


def _bucketed_paths(backend, paths, n_buckets, n_persons, codes, tview, cview, rules, prefix, made):
    """The path table by buckets of persons (DuckDB, event logs beyond ``backend.bucket_events``).

    One pass stages every event as narrow integers (person code, time, input row, channel and
    type codes; conversions with value and place) with its bucket ``(p - 1) // size``, persons
    being numbered 1..n in the text order of their ids. Each bucket then runs the journey rules
    on its persons' events only (:func:`attribution.engines._sql.journey_rows_sql`: the window
    sort and the per-journey lists of a few million events stay in memory instead of
    spilling) and adds its counts and its converting journeys' values to two tables
    (:func:`~attribution.engines._sql.bucket_parts_sql`); the path table is made from those
    (:func:`~attribution.engines._sql.path_table_from_parts_sql`): the same table, bit for bit,
    as one pass over every person. With the default rules the buckets' journeys are made in numpy
    instead (:func:`_numpy_bucketed_paths`, about 2.5 times less CPU at 10^8 events).
    """
    if _numpy_route(backend, rules):
        return _numpy_bucketed_paths(backend, paths, n_buckets, n_persons, codes, tview, cview, rules, prefix, made)
    d = "duckdb"
    st, sc = prefix + "stage_t", prefix + "stage_c"
    tb, cb, jt = prefix + "tb", prefix + "cb", prefix + "jb"
    counts, values = prefix + "part_counts", prefix + "part_values"
    made += [st, sc, tb, cb, jt, counts, values]
    size = -(-n_persons // n_buckets)
    bucket = f"CAST((p - 1) // {size} AS INTEGER) AS b"
    backend.create_table(st, f"SELECT {bucket}, p, t, CAST(src AS TINYINT) AS src, o, CAST(code AS INTEGER) AS code, "
                             f"CAST(ty AS TINYINT) AS ty FROM {tview}")
    backend.create_table(sc, f"SELECT {bucket}, p, t, o, value, place FROM {cview}")
    backend.drop(codes)  # the staged rows carry the person codes: the id dictionary is done
    for b in range(n_buckets):
        backend.create_view(tb, f"SELECT p, t, src, o, code, ty FROM {st} WHERE b = {b}")
        backend.create_view(cb, f"SELECT p, t, o, value, place FROM {sc} WHERE b = {b}")
        backend.create_table(jt, _sql.journey_rows_sql(tb, cb, rules, d))
        csql, vsql = _sql.bucket_parts_sql(jt, rules)
        if b == 0:
            backend.create_table(counts, csql)
            backend.create_table(values, vsql)
        else:
            backend.append(counts, csql)
            backend.append(values, vsql)
        backend.drop(jt)
    for name in (tb, cb, st, sc):  # free the staged events before the path table is made
        backend.drop(name)
    backend.create_table(paths, _sql.path_table_from_parts_sql(counts, values, rules))
    backend.drop(counts)
    backend.drop(values)
    for name in (st, sc, tb, cb, jt, counts, values):
        made.remove(name)


def _numpy_route(backend, rules) -> bool:
    """Whether the buckets' journeys are made in numpy (:mod:`._numpy_paths`): the rules of the
    list route (no lookback_touches, collapse_repeats, max_length or touch types) on a backend
    that hands sorted events over as Arrow (DuckDB)."""
    return (getattr(backend, "numpy_buckets", False) and _sql._LIST_ROUTE and rules.lookback_touches is None
            and not rules.collapse_repeats and rules.max_length is None and not rules.n_types
            and rules.type_lookback_ns is None)


def _numpy_budget(backend) -> int:
    """Bytes Python may take beside the engine (numpy's arrays, the Arrow batches and what the
    allocator keeps): ``numpy_memory_share`` of the engine's memory limit."""
    limit = backend.memory_limit_bytes()
    return 0 if not limit else int(limit * backend.numpy_memory_share)


def _numpy_bucket_size(backend) -> int:
    """Events per bucket on the numpy route: what the budget holds, at most ``numpy_bucket_events``."""
    per = backend.numpy_bucket_events
    budget = _numpy_budget(backend)
    if budget:
        per = min(per, max(budget // backend.numpy_bytes_per_event, 100_000))
    return per


def _numpy_bucketed_paths(backend, paths, n_buckets, n_persons, codes, tview, cview, rules, prefix, made):
    """The path table by buckets of persons, each bucket's journeys made in numpy.

    The events are staged once as narrow integers (a bucket is a range of person codes); each
    bucket's events then come back sorted by (person, time, kind, input row) as Arrow columns, and :func:`._numpy_paths.bucket_groups` applies the
    journey rules and groups the journeys by (path, ages, place) key, exactly (hashes are
    checked element by element). The buckets' groups are merged, and the path table is made in
    the engine from the unique keys and the converting journeys' values: each path's
    value is the same compensated sum, in the same (person, journey) order, as the one-pass
    query's, so the table is the same bit for bit.
    """
    from . import _numpy_paths as npp

    st, sc, pls = prefix + "stage_t", prefix + "stage_c", prefix + "places"
    gt, cj = prefix + "groups", prefix + "conv_journeys"
    made += [st, sc, pls, gt, cj]
    size = -(-n_persons // n_buckets)  # bucket b: persons b * size + 1 .. (b + 1) * size
    backend.create_table(st, f"SELECT p, t, CAST(src AS TINYINT) AS src, o, CAST(code AS INTEGER) AS code FROM {tview}")
    backend.create_table(sc, f"SELECT p, t, o, value, place FROM {cview}")
    backend.drop(codes)  # the staged rows carry the person codes: the id dictionary is done
    backend.create_table(pls, f"SELECT place, CAST(ROW_NUMBER() OVER (ORDER BY place) - 1 AS INTEGER) AS pl "
                              f"FROM (SELECT DISTINCT place FROM {sc} WHERE place IS NOT NULL) AS u")
    places = backend.fetch(f"SELECT place FROM {pls} ORDER BY pl")["place"].tolist()
    parts, conv_g, conv_v = [], [], []

    def bucket(b):
        within = lambda a: f"{a}p > {b * size} AND {a}p <= {(b + 1) * size}"  # noqa: E731
        return backend.fetch_arrow(
            f"SELECT p, t, kind, code, pl, value FROM (SELECT p, t, src AS kind, code, o, -1 AS pl, "
            f"CAST(NULL AS DOUBLE) AS value FROM {st} WHERE {within('')} UNION ALL SELECT s.p, s.t, CAST(2 AS TINYINT) AS kind, "
            f"-1 AS code, s.o, COALESCE(x.pl, -1) AS pl, s.value FROM {sc} AS s LEFT JOIN {pls} AS x "
            f"ON s.place = x.place WHERE {within('s.')}) AS e ORDER BY p, t, kind, o")

    def journeys(ev):
        col = lambda name: ev.column(name).to_numpy(zero_copy_only=False)  # noqa: E731
        return npp.bucket_groups(col("p"), col("t"), col("kind"), col("code"), col("pl"), ev.column("value"),
                                 rules.lookback_ns, rules.age_step_ns)

    def merge():
        # the parts so far become one (memory stays near the number of unique keys); the
        # converting journeys' group numbers follow
        merged, gmap = npp.merge_groups(parts)
        done = gmap[np.concatenate(conv_g)] if conv_g else np.zeros(0, dtype=np.int64)
        parts[:] = [merged]
        conv_g[:] = [done]

    # the engine sorts bucket b + 1 while numpy works on bucket b (both release the GIL); the
    # engine's memory limit is lowered by what numpy may hold meanwhile
    from concurrent.futures import ThreadPoolExecutor

    with backend.memory_for_python(_numpy_budget(backend)), ThreadPoolExecutor(1) as pool:
        pending = None
        for b in range(n_buckets + 1):
            ev = bucket(b) if b < n_buckets else None
            if pending is not None:
                groups, g, v = pending.result()
                conv_g.append(g + sum(len(q) for q in parts))
                conv_v.append(v)
                parts.append(groups)
                if len(parts) > 4:
                    merge()
            pending = pool.submit(journeys, ev) if ev is not None else None
            del ev
        backend.drop(st)
        merge()
    merged, = parts
    import pyarrow as pa

    g = conv_g[0]
    v = pa.concat_arrays([c for part in conv_v for c in part.chunks]) if conv_v else pa.array([], pa.float64())
    backend.register_arrow(gt, npp.groups_table(merged, places))
    # each path's value: the compensated sum of its converting journeys' values in (person,
    # journey) order, the one-pass query's ORDER BY p, k
    backend.register_arrow(cj, pa.table({"gid": g, "seq": np.arange(g.size, dtype=np.int64), "value": v}))
    keys = _sql._keys(rules)
    x = _sql.EXCLUSION_COLUMNS
    value = _sql.fixed_order_sum("COALESCE(value, 0)", "seq", "duckdb")
    backend.create_table(prefix + "values", f"SELECT gid, {value} AS value FROM {cj} GROUP BY gid")
    made.append(prefix + "values")
    backend.create_table(paths, (
        f"SELECT rid, {keys}, CAST(n_conv AS DOUBLE) AS total_conversions, "
        "CAST(COALESCE(v.value, 0) AS DOUBLE) AS total_conversion_value, CAST(n_null AS DOUBLE) AS total_null, "
        f"CAST(x_excluded AS HUGEINT) AS {x['excluded_channels']}, CAST(x_lookback AS HUGEINT) AS {x['lookback']}, "
        f"CAST(0 AS HUGEINT) AS {x['lookback_touches']}, CAST(0 AS HUGEINT) AS {x['collapsed_repeats']}, "
        f"CAST(0 AS HUGEINT) AS {x['max_length']} FROM {gt} LEFT JOIN {prefix}values AS v USING (gid)"))
    backend.drop(prefix + "values")
    made.remove(prefix + "values")
    for name in (sc, pls, gt, cj):
        backend.drop(name)
    for name in (st, sc, pls, gt, cj):
        made.remove(name)


# ---------------------------------------------------------------------------------------------
# The result: the path table in the engine, and what the models need, computed from it
# ---------------------------------------------------------------------------------------------


class PathAggregates:
    """The journey rules' result, held in the engine: one row per unique path × place.

    Made by :func:`attribution.engines.duckdb.aggregate_events` and
    :func:`attribution.engines.spark.aggregate_spark`. The path table stays in the
    engine (a temporary table named :attr:`table`, columns ``rid, path[, ages], place,
    total_conversions, total_conversion_value, total_null`` and the exclusion counts); the
    methods compute what the models need from it in SQL and bring back only those aggregates.
    Use it as a context manager, or call :meth:`close`, to drop the engine's tables.

    Attributes
    ----------
    table : str
        Name of the path table in the engine.
    connection : duckdb.DuckDBPyConnection
        (DuckDB engine) the connection holding it, for your own SQL on the path table.
    spark : pyspark.sql.SparkSession
        (Spark engine) the session holding it (a temporary view), for your own Spark SQL.
    channels : ndarray of str
        The channels (sorted; excluded channels left out). Path codes index this list.
    places : list of str
        The conversion places (sorted); empty without a place column.
    exclusions : dict
        Touches excluded by each journey rule (as :attr:`attribution.Journeys.exclusions`).
    n_input : dict
        Input ``touch_rows`` and ``conversion_rows``.
    id_map : Series or None
        Input id -> person, for ids merged by identities.
    age_resolution : Timedelta or None
        The resolution of the touch ages kept in the path table (None: no ages).
    touch_types : ndarray of str or None
        The touch types (sorted); the path table then has a ``types`` column (codes into
        this list, in path order) as one more key.
    channel_groups : ndarray of str or None
        At ``level="campaign"``: the channel of each campaign in :attr:`channels`.
    """

    def __init__(self, *, backend, table, channels, has_place, exclusions, n_input, id_map,
                 age_resolution, made, prefix, on_close=None, touch_types=None, channel_groups=None):
        self.touch_types = touch_types
        self.channel_groups = channel_groups
        self.backend = backend
        self.table = table
        self.channels = channels
        self.has_place = has_place
        self.exclusions = exclusions
        self.n_input = n_input
        self.id_map = id_map
        self.age_resolution = age_resolution
        self._made = made
        self._prefix = prefix
        self._on_close = on_close
        self._touches = None
        self._places = None
        self.closed = False

    # -- housekeeping --------------------------------------------------------------------------

    def close(self) -> None:
        """Drop the engine's tables and views (and the engine's own connection, if it made one)."""
        if self.closed:
            return
        self.closed = True
        for name in reversed(self._made):
            try:
                self.backend.drop(name)
            except Exception:  # noqa: BLE001 - best effort: the connection may be gone
                pass
        if self._on_close is not None:
            self._on_close()

    def __enter__(self) -> "PathAggregates":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _check_open(self):
        if self.closed:
            raise ParameterError("These path aggregates are closed; build them again with aggregate_events(...).")

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"table {self.table}"
        return f"<PathAggregates ({self.backend.dialect}): {len(self.channels)} channels, {state}>"

    @property
    def places(self) -> list[str]:
        """The distinct conversion places, sorted (empty without places)."""
        if self._places is None:
            if not self.has_place:
                self._places = []
            else:
                self._check_open()
                df = self.backend.fetch(f"SELECT DISTINCT place FROM {self.table} WHERE place IS NOT NULL")
                self._places = sorted(str(p) for p in df["place"].tolist())
        return self._places

    def _touch_table(self) -> str:
        """The path table's touches (``rid, pos, n, code[, age]``), materialised once."""
        self._check_open()
        if self._touches is None:
            name = self._prefix + "path_touches"
            self.backend.create_table(
                name, _sql.path_touches_sql(self.table, self.backend.dialect, self.age_resolution is not None,
                                            self.touch_types is not None)
            )
            self._made.append(name)
            self._touches = name
        return self._touches

    def _place_index(self, place_values) -> np.ndarray:
        """Place code (index in :attr:`places`) of each value; missing places get 0."""
        if not self.has_place:
            return np.zeros(len(place_values), dtype=np.int64)
        lookup = {p: i for i, p in enumerate(self.places)}
        return np.asarray([lookup.get(p, 0) if isinstance(p, str) else 0 for p in place_values], dtype=np.int64)

    # -- the journeys --------------------------------------------------------------------------

    def to_journeys(self, warn: bool = False):
        """The path table as :class:`~attribution.Journeys` (one journey row per path × place).

        Rows are in (path, ages, place) order. ``exclusions`` and the input row counts are set,
        so :meth:`~attribution.Journeys.describe` reports the same exclusions as the pandas
        engine; ``journey rows`` and ``touches`` there count path-table rows. With
        ``age_resolution``, converting journeys end at :data:`AGE_ANCHOR` and each touch is its
        age before it (non-converting journeys: before their last touch); otherwise the
        journeys carry no timestamps.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        from ..journeys import Journeys

        self._check_open()
        ages = self.age_resolution is not None
        types = self.touch_types is not None and len(self.touch_types) > 0  # an empty touch table has no types column
        cols = ("path" + (", ages" if ages else "") + (", types" if types else "")
                + ", place, total_conversions, total_conversion_value, total_null")
        tbl = self.backend.fetch_arrow(f"SELECT {cols} FROM {self.table} ORDER BY rid")

        def split(column):
            strings = tbl.column(column).combine_chunks().cast(pa.large_string())
            empty = pc.equal(strings, "").to_numpy(zero_copy_only=False)
            lists = pc.split_pattern(strings, " ")
            lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int64)
            lengths[empty] = 0
            tokens = pc.list_flatten(lists.filter(pa.array(~empty)))
            return lengths, pc.cast(tokens, pa.int64()).to_numpy(zero_copy_only=False)

        lengths, codes = split("path")
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        conv = tbl.column("total_conversions").to_numpy().astype(np.float64)
        kw = {}
        if self.has_place:
            kw["place"] = np.asarray(tbl.column("place").to_pylist(), dtype=object)
        if types:
            _, ty = split("types")
            kw["touch_type"] = ty.astype(np.int8)
            kw["touch_types"] = self.touch_types
        elif self.touch_types is not None:  # a type column with no touch at all: no types, as in pandas
            kw["touch_type"] = np.zeros(len(codes), dtype=np.int8)
            kw["touch_types"] = self.touch_types
        if self.channel_groups is not None:
            kw["channel_groups"] = self.channel_groups
        if ages:
            _, age = split("ages")
            step = np.int64(self.age_resolution.value)
            kw["touch_time"] = AGE_ANCHOR - (age * step).astype("timedelta64[ns]")
            kw["conversion_time"] = np.where(conv > 0, AGE_ANCHOR, np.datetime64("NaT", "ns"))
        journeys = Journeys(
            self.channels, codes.astype(np.int32), offsets, conv,
            tbl.column("total_null").to_numpy().astype(np.float64),
            tbl.column("total_conversion_value").to_numpy().astype(np.float64),
            exclusions=self.exclusions, id_map=self.id_map, **kw,
        )
        journeys._n_input = dict(self.n_input)
        if warn:
            journeys._warn_exclusions()
        return journeys

    def to_paths(self, sep: str = " > ") -> pd.DataFrame:
        """The path table in the ChannelAttribution layout (as :meth:`attribution.Journeys.to_paths`)."""
        return self.to_journeys().to_paths(sep)

    # -- aggregates computed in the engine ----------------------------------------------------

    def transition_counts(self, order: int = 1, by_place: bool = False):
        """Order-``order`` transition counts, computed in SQL.

        Equal to ``journeys.transition_counts(order)`` of the pandas engine's journeys (with
        ``by_place=True``: to :func:`attribution.graph.transition_counts` with the conversion
        place as outcome, as :class:`~attribution.models.Markov` builds its chain).

        Returns
        -------
        attribution.graph.TransitionCounts
        """
        from ..graph import TransitionCounts, _check_order

        order = _check_order(order)
        C = len(self.channels)
        if order * np.log2(C + 1) >= 62:
            raise ParameterError(
                f"order={order} with {C} channels gives more states than fit a 64-bit key; "
                "lower the order or group channels."
            )
        edges_sql, outcomes_sql = _sql.transition_counts_sql(self.table, self._touch_table(), order, C)
        e = self.backend.fetch(edges_sql)
        o = self.backend.fetch(outcomes_sql)
        src_k = e["src"].to_numpy(dtype=np.int64)
        dst_k = e["dst"].to_numpy(dtype=np.int64)
        cnt = e["count"].to_numpy(dtype=np.float64)
        uniq = np.unique(dst_k[dst_k >= 0])
        S = len(uniq)
        n = S + 3

        def node(keys):
            out = np.searchsorted(uniq, keys) + 1
            out = np.where(keys == _sql.START_KEY, 0, out)
            out = np.where(keys == _sql.CONVERSION_KEY, S + 1, out)
            return np.where(keys == _sql.NULL_KEY, S + 2, out).astype(np.int64)

        src, dst = node(src_k), node(dst_k)
        edge_key = src * n + dst
        order_e = np.argsort(edge_key, kind="stable")
        edge_key, cnt = edge_key[order_e], cnt[order_e]
        keep = cnt > 0
        edge_key, cnt = edge_key[keep], cnt[keep]

        base = C + 1
        names = self.channels
        if S:
            digits = np.stack([(uniq // base**k) % base for k in range(order)][::-1], axis=1) - 1
        else:
            digits = np.zeros((0, order), np.int64)
        if order == 1:
            states = names[digits[:, 0]].tolist() if S else []
        else:
            padded = np.append(names, None).astype(object)
            states = list(zip(*(padded[digits[:, i]] for i in range(order)))) if S else []
            for i in np.flatnonzero((digits < 0).any(axis=1)).tolist():
                states[i] = tuple(c for c in states[i] if c is not None)

        P = len(self.places) if (by_place and self.places) else 1
        last = node(o["last"].to_numpy(dtype=np.int64))
        pcode = self._place_index(o["place"].tolist()) if P > 1 else np.zeros(len(o), dtype=np.int64)
        key = last * P + pcode
        outcome_count = np.bincount(key, weights=o["conversions"].to_numpy(dtype=np.float64), minlength=(S + 1) * P)
        outcome_value = np.bincount(key, weights=o["value"].to_numpy(dtype=np.float64), minlength=(S + 1) * P)
        return TransitionCounts(
            order=order, channels=names, states=states, state_channels=digits.astype(np.int64),
            src=edge_key // n, dst=edge_key % n, count=cnt,
            outcome_count=outcome_count.reshape(S + 1, P), outcome_value=outcome_value.reshape(S + 1, P),
        )

    def channel_set_counts(self) -> pd.DataFrame:
        """Journeys, conversions and value per channel set, computed in SQL.

        Returns
        -------
        DataFrame
            Columns ``mask`` (bit ``c`` set when the journeys touch channel ``channels[c]``; 0 for
            journeys without touches), ``place`` (None for non-converting journeys; only with
            places), ``journeys`` (conversions + non-converting), ``conversions``, ``value``;
            one row per mask and place, sorted.
        """
        if len(self.channels) > 62:
            raise ParameterError(f"Channel-set bitmasks hold at most 62 channels; these journeys have {len(self.channels)}.")
        df = self.backend.fetch(_sql.channel_set_counts_sql(self.table, self._touch_table(), self.backend.dialect))
        df["mask"] = df["mask"].astype(np.int64)
        df = df.sort_values(["mask", "place"], na_position="first", kind="stable").reset_index(drop=True)
        if not self.has_place:
            df = df.drop(columns="place")
        return df

    def mask_totals(self) -> tuple[np.ndarray, np.ndarray]:
        """Dense channel-set totals over all ``2**C`` masks, as the Shapley model builds them.

        Returns ``(count, num)``: ``count[mask]`` journeys (conversions + nulls) and
        ``num[mask]`` conversions per place then value per place (``2P`` columns, places
        sorted; ``P = 1`` without places) — the arrays of
        ``attribution.models.shapley._mask_totals``.
        """
        C = len(self.channels)
        if C > 30:
            raise ParameterError(f"Dense totals need 2**{C} rows; use channel_set_counts() for more than 30 channels.")
        df = self.channel_set_counts()
        P = max(len(self.places), 1)
        mask = df["mask"].to_numpy(dtype=np.int64)
        size = 1 << C
        count = np.bincount(mask, weights=df["journeys"].to_numpy(dtype=np.float64), minlength=size)
        num = np.zeros((size, 2 * P))
        pcode = self._place_index(df["place"].tolist()) if self.has_place else np.zeros(len(df), np.int64)
        for p in range(P):  # one column per place: a loop over places, not data
            at = pcode == p
            num[:, p] = np.bincount(mask[at], weights=df["conversions"].to_numpy(dtype=np.float64)[at], minlength=size)
            num[:, P + p] = np.bincount(mask[at], weights=df["value"].to_numpy(dtype=np.float64)[at], minlength=size)
        return count, num

    def rule_credits(self, model="linear", by_place: bool = False) -> pd.DataFrame:
        """Credits of a rule model, from per-touch weights summed per channel in SQL.

        Parameters
        ----------
        model : str or RuleModel
            ``"first_touch"``, ``"last_touch"``, ``"linear"``, ``"position_based"``,
            ``"last_non_direct"`` or ``"time_decay"`` (needs ``age_resolution``), as a name, a
            spec string (``"position_based:first=0.3,last=0.5"``) or a model instance.
        by_place : bool, default False
            Return the long table ``channel, place, conversions, value`` (the model's
            ``place_credits_``) instead of ``credits_``.

        Returns
        -------
        DataFrame
            The ``credits_`` (or ``place_credits_``) the Python model gives on
            :meth:`to_journeys`: conversions, value and share per channel, ``"(no touch)"`` last
            when journeys without touches carry conversions.
        """
        from ..exceptions import DataQualityWarning
        from ..models.base import NO_TOUCH, _warn_user, get_model
        from ..models.rules import FirstTouch, LastNonDirect, LastTouch, Linear, PositionBased, TimeDecay, _parse_half_life

        self._check_open()
        m = get_model(model)
        m._validate_params()
        names = self.channels
        if isinstance(m, FirstTouch):
            rule, params = "first_touch", {}
        elif isinstance(m, LastTouch):
            rule, params = "last_touch", {}
        elif isinstance(m, Linear):
            rule, params = "linear", {}
        elif isinstance(m, PositionBased):
            rule, params = "position_based", {"first": m.first, "last": m.last}
        elif isinstance(m, LastNonDirect):
            direct = m._direct_names()
            labels = names if self.channel_groups is None else self.channel_groups  # campaign level: by channel
            is_direct = [str(c).strip().lower() in direct for c in labels.tolist()]
            if direct and not any(is_direct) and len(names):
                _warn_user(
                    f"None of the direct channels {sorted(direct)} occurs in the journeys' channels "
                    f"{names.tolist()[:10]}; LastNonDirect gives the same credit as "
                    "LastTouch. Pass direct=<the name of your direct channel>.",
                    DataQualityWarning,
                )
            rule, params = "last_non_direct", {"direct_codes": [i for i, d in enumerate(is_direct) if d]}
        elif isinstance(m, TimeDecay):
            if self.age_resolution is None:
                raise ParameterError(
                    "TimeDecay needs touch ages; these path aggregates were built without them. "
                    "Pass age_resolution='1s' (or another step) to aggregate_events(...)."
                )
            H = _parse_half_life(m, m.half_life).value
            rule, params = "time_decay", {"half_life_ns": H, "age_step_ns": self.age_resolution.value}
        else:
            raise ParameterError(
                f"{type(m).__name__} has no SQL weights. Computed in the engine: first_touch, last_touch, "
                "linear, position_based, last_non_direct, time_decay. Fit other models on .to_journeys()."
            )
        click_codes = None
        if m._check_click_priority():
            if self.touch_types is None:
                _warn_user(
                    f"{type(m).__name__}(click_priority=True): the journeys carry no touch types, so every touch "
                    "counts as a click and click_priority has no effect. Build them with "
                    "Journeys.from_events(..., touch_type='<column>').",
                    DataQualityWarning,
                )
            else:
                from ..journeys import is_impression_type

                click_codes = np.flatnonzero(~is_impression_type(self.touch_types)).tolist()
        df = self.backend.fetch(_sql.rule_credits_sql(self.table, self._touch_table(), rule, params, click_codes))
        nt = self.backend.fetch(
            f"SELECT place, SUM(total_conversions) AS conversions, SUM(total_conversion_value) AS value "
            f"FROM {self.table} WHERE path = '' GROUP BY place"
        )
        P = max(len(self.places), 1)
        C = len(names)
        conv = np.zeros((C, P))
        val = np.zeros((C, P))
        pc_ = self._place_index(df["place"].tolist())
        code = df["code"].to_numpy(dtype=np.int64)
        np.add.at(conv, (code, pc_), df["conversions"].to_numpy(dtype=np.float64))
        np.add.at(val, (code, pc_), df["value"].to_numpy(dtype=np.float64))
        nt_conv = np.bincount(self._place_index(nt["place"].tolist()), weights=nt["conversions"].to_numpy(dtype=np.float64), minlength=P)
        nt_val = np.bincount(self._place_index(nt["place"].tolist()), weights=nt["value"].to_numpy(dtype=np.float64), minlength=P)
        labels = np.asarray(names, dtype=object)
        if np.any(nt_conv != 0) or np.any(nt_val != 0):
            conv = np.vstack([conv, nt_conv[None, :]])
            val = np.vstack([val, nt_val[None, :]])
            labels = np.append(labels, NO_TOUCH).astype(object)
        if by_place:
            if not self.has_place:
                raise ParameterError("by_place=True needs conversion places; these journeys have none.")
            return pd.DataFrame({
                "channel": np.repeat(labels, P),
                "place": np.tile(np.asarray(self.places, dtype=object), len(labels)),
                "conversions": conv.ravel(),
                "value": val.ravel(),
            })
        conv_ch, val_ch = conv.sum(axis=1), val.sum(axis=1)
        total = conv_ch.sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            share = conv_ch / total if total != 0 else np.full(len(labels), np.nan)
        return pd.DataFrame(
            {"conversions": conv_ch, "value": val_ch, "share": share},
            index=pd.Index(labels, name="channel", dtype=object),
        )
