"""Input checks whose messages say what is wrong, where, and how to fix it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .exceptions import JourneyValidationError, ParameterError, ParameterTypeError

__all__ = [
    "example_rows",
    "require_columns",
    "check_no_missing",
    "check_non_negative",
    "parse_duration",
    "parse_timestamps",
    "check_time_options",
    "guess_time_unit",
]


def example_rows(df: pd.DataFrame, mask, columns: Sequence[str] | None = None, n: int = 3) -> str:
    """Render up to ``n`` offending rows of ``df`` (where ``mask`` is true) for an error message."""
    mask = np.asarray(mask, dtype=bool)
    bad = df.loc[mask, list(columns) if columns is not None else df.columns]
    shown = bad.head(n).to_string()
    more = f"\n... and {mask.sum() - n} more" if mask.sum() > n else ""
    return shown + more


def require_columns(df: pd.DataFrame, columns: dict[str, str | None], what: str) -> None:
    """Raise if any of ``columns`` (parameter name -> column name) is not in ``df``.

    The message lists the columns found and suggests close matches and the parameter to pass.
    """
    if not isinstance(df, pd.DataFrame):
        raise ParameterTypeError(f"{what} must be a pandas DataFrame. Got {type(df).__name__} instead.")
    found = [str(c) for c in df.columns]
    for param, col in columns.items():
        if col is None or col in df.columns:
            continue
        close = difflib.get_close_matches(str(col), found, n=3, cutoff=0.5)
        hint = f" Did you mean {param}={close[0]!r}?" if close else f" Pass {param}='<column name>'."
        if len(found) == 1:
            for sep in (";", "\t", "|", ","):
                if sep in found[0]:
                    hint = f" The file looks {sep!r}-separated: read it with pd.read_csv(..., sep={sep!r})."
                    break
        raise JourneyValidationError(
            f"{what} has no column {col!r} (the {param!r} parameter). "
            f"Columns found: {found}.{hint}"
        )


def check_no_missing(df: pd.DataFrame, column: str, what: str, fix: str) -> None:
    """Raise if ``df[column]`` has missing values or empty strings."""
    s = df[column]
    bad = s.isna().to_numpy(dtype=bool).copy()
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        bad |= (s.astype("string").str.strip() == "").fillna(False).to_numpy(dtype=bool)
    if bad.any():
        raise JourneyValidationError(
            f"Column {column!r} of {what} has {int(bad.sum())} missing or empty value(s). "
            f"Example rows:\n{example_rows(df, bad)}\n{fix}"
        )


def check_non_negative(df: pd.DataFrame, column: str, what: str) -> np.ndarray:
    """Return ``df[column]`` as float64, raising if it is non-numeric, NaN or negative."""
    s = df[column]
    try:
        x = pd.to_numeric(s, errors="raise").to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        num = pd.to_numeric(s, errors="coerce")
        bad = (num.isna() & s.notna()).to_numpy()
        raise JourneyValidationError(
            f"Column {column!r} of {what} must be numeric; {int(bad.sum())} value(s) are not. "
            f"Example rows:\n{example_rows(df, bad)}\nConvert the column with pd.to_numeric "
            "and fix or remove the rows shown."
        ) from None
    bad = np.isnan(x) | (x < 0)
    if bad.any():
        raise JourneyValidationError(
            f"Column {column!r} of {what} must hold non-negative numbers; {int(bad.sum())} "
            f"value(s) are negative or missing. Example rows:\n{example_rows(df, bad)}\n"
            "Fill missing counts with 0 (df[col].fillna(0)) and fix negative values at the source."
        )
    check_finite(x, column, what, df)
    return x


def check_finite(x: np.ndarray, column: str, what: str, df: pd.DataFrame | None = None) -> None:
    """Raise if ``x`` holds infinite values or its sum overflows float64."""
    bad = np.isinf(x)
    if bad.any():
        rows = f" Example rows:\n{example_rows(df, bad)}\n" if df is not None else " "
        raise JourneyValidationError(
            f"Column {column!r} of {what} has {int(bad.sum())} infinite value(s).{rows}"
            "Every count, value and cost must be a finite number: fix or remove these rows."
        )
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(np.sum(x, dtype=np.float64))
    if not np.isfinite(total):
        raise JourneyValidationError(
            f"Column {column!r} of {what} sums to more than the largest float ({np.finfo(np.float64).max:.3g}). "
            "Rescale the column (e.g. to thousands) or fix the huge values at the source."
        )


def parse_duration(value, name: str, owner: str) -> pd.Timedelta | None:
    """Parse a positive duration such as ``'30D'``, ``'12h'`` or a ``Timedelta``; ``None`` passes."""
    if value is None:
        return None
    try:
        td = pd.Timedelta(value)
    except (TypeError, ValueError):
        td = None
    if td is None or pd.isna(td) or td <= pd.Timedelta(0) or isinstance(value, (int, float)):
        raise ParameterError(
            f"The {name!r} parameter of {owner} must be a positive duration such as '30D' or "
            f"'12h', or None. Got {value!r} instead."
        )
    return td


#: The range of ``datetime64[ns]``: timestamps outside it cannot be held and are refused.
TIME_MIN = pd.Timestamp("1677-09-22")
TIME_MAX = pd.Timestamp("2262-04-11")
#: Nanoseconds per unit of ``time_unit``.
TIME_UNITS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
#: Upper bounds of ``|value|`` for guessing the unit of epoch numbers (year ~5000 in each unit).
_UNIT_BOUNDS = (("s", 1e11), ("ms", 1e14), ("us", 1e17), ("ns", float("inf")))
_AMBIGUOUS = r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})\b"
_TIME_FIX = "Use ISO-8601 timestamps such as '2026-03-01T10:15:00Z' (naive times are read as UTC)."


def guess_time_unit(values) -> str:
    """The epoch unit ("s", "ms", "us" or "ns") whose magnitude fits ``values`` (their median)."""
    x = np.abs(np.asarray(values, dtype=np.float64))
    x = x[np.isfinite(x)]
    med = float(np.median(x)) if len(x) else 0.0
    for unit, bound in _UNIT_BOUNDS:
        if med < bound:
            return unit
    return "ns"  # pragma: no cover


def _unit_of_each(x: np.ndarray) -> np.ndarray:
    """The guessed unit of each value (index into :data:`_UNIT_BOUNDS`)."""
    a = np.abs(x)
    return np.searchsorted(np.array([b for _, b in _UNIT_BOUNDS[:-1]]), a, side="right")


def check_time_options(time_unit, time_format, dayfirst, owner: str = "Journeys.from_events") -> None:
    """Check the timestamp parameters of ``owner``."""
    if time_unit is not None and time_unit not in TIME_UNITS:
        raise ParameterError(
            f"The 'time_unit' parameter of {owner} must be one of {list(TIME_UNITS)} (the unit of epoch "
            f"numbers) or None. Got {time_unit!r} instead."
        )
    if time_format is not None and (not isinstance(time_format, str) or "%" not in time_format):
        raise ParameterError(
            f"The 'time_format' parameter of {owner} must be a strftime format such as '%d/%m/%Y %H:%M' "
            f"or None. Got {time_format!r} instead."
        )
    if dayfirst is not None and not isinstance(dayfirst, (bool, np.bool_)):
        raise ParameterError(f"The 'dayfirst' parameter of {owner} must be True, False or None. Got {dayfirst!r} instead.")


def _numeric_times(df, s, column, what, time_unit):
    x = pd.to_numeric(s, errors="coerce")
    xv = x.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = np.isfinite(xv)
    if time_unit is None:
        unit = guess_time_unit(xv[finite])
        raise JourneyValidationError(
            f"Column {column!r} of {what} holds numbers, not timestamps; their unit is unknown. Example "
            f"rows:\n{example_rows(df, finite, n=3)}\nBy their size they look like epoch {_UNIT_NAMES[unit]} "
            f"since 1970-01-01 UTC: pass time_unit={unit!r} (CLI: --time-unit {unit}), or convert the "
            "column to timestamps yourself."
        )
    kinds = _unit_of_each(xv[finite])
    if len(np.unique(kinds)) > 1:
        mask = np.zeros(len(xv), dtype=bool)
        first = kinds[0]
        idx = np.flatnonzero(finite)
        mask[idx[kinds != first]] = True
        mask[idx[np.argmax(kinds == first)]] = True
        names = sorted({_UNIT_BOUNDS[k][0] for k in np.unique(kinds).tolist()})
        raise JourneyValidationError(
            f"Column {column!r} of {what} mixes epoch numbers of different units (by their size: "
            f"{names}). Example rows:\n{example_rows(df, mask)}\nConvert every value to one unit "
            "(seconds, ms, us or ns) and pass it as time_unit=."
        )
    factor = TIME_UNITS[time_unit]
    with np.errstate(invalid="ignore", over="ignore"):
        ns = xv * factor
    lo, hi = TIME_MIN.value, TIME_MAX.value
    bad = ~finite | ~((ns >= lo) & (ns <= hi))
    if bad.any():
        raise JourneyValidationError(
            f"Column {column!r} of {what} has {int(bad.sum())} missing, non-finite or out-of-range epoch "
            f"value(s) for time_unit={time_unit!r}. Example rows:\n{example_rows(df, bad)}\nTimestamps must "
            f"lie between {TIME_MIN.date()} and {TIME_MAX.date()}; check time_unit= and the rows shown."
        )
    if pd.api.types.is_integer_dtype(s.dtype):
        out = s.to_numpy(dtype=np.int64) * np.int64(factor)
    else:
        out = np.round(xv * factor).astype(np.int64)
    return out.view("datetime64[ns]")


_UNIT_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}


def parse_timestamps(
    df: pd.DataFrame, column: str, what: str, *, time_unit: str | None = None,
    time_format: str | None = None, dayfirst: bool | None = None,
) -> np.ndarray:
    """Parse ``df[column]`` to UTC ``datetime64[ns]`` (returned without time zone).

    Time-zone-aware values are converted to UTC; naive values are taken as UTC. Numbers are
    epoch times and need ``time_unit``; day-month-ambiguous strings ("01/03/2026") need
    ``time_format`` or ``dayfirst``. Values that cannot be parsed, are missing, lie outside
    the ``datetime64[ns]`` range (1677-09-22 to 2262-04-11), mix numbers and text or mix
    epoch units raise :class:`JourneyValidationError` with example rows.
    """
    s = df[column]
    if len(s) == 0:
        return np.zeros(0, dtype="datetime64[ns]")
    if pd.api.types.is_bool_dtype(s.dtype):
        raise JourneyValidationError(
            f"Column {column!r} of {what} holds true/false values, not timestamps. Example rows:\n"
            f"{example_rows(df, np.ones(len(s), bool))}\nPass the timestamp column as time=."
        )
    if pd.api.types.is_numeric_dtype(s.dtype):
        return _numeric_times(df, s, column, what, time_unit)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        ts = s.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_any_dtype(s.dtype):
        ts = s
    else:
        obj = s.astype(object)
        is_num = obj.map(lambda v: isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                         and v == v).to_numpy(dtype=bool)
        text = s.astype("string")
        digits = text.str.fullmatch(r"\s*-?\d+(\.\d+)?\s*").fillna(False).to_numpy(dtype=bool) & ~is_num
        numberish = is_num | digits
        present = s.notna().to_numpy(dtype=bool)
        if numberish.any():
            if (numberish | ~present).all():
                return _numeric_times(df, pd.to_numeric(s, errors="coerce"), column, what, time_unit)
            mask = numberish.copy()
            mask[np.argmax(~numberish & present)] = True
            raise JourneyValidationError(
                f"Column {column!r} of {what} mixes numbers (epoch times) and text timestamps. Example rows:\n"
                f"{example_rows(df, mask)}\nWrite every value one way: all ISO-8601 text, or all epoch "
                "numbers with time_unit=."
            )
        ts = None
        if time_format is not None:
            ts = pd.to_datetime(s, utc=True, errors="coerce", format=time_format)
        else:
            try:  # the fast path: ISO-8601 throughout
                ts = pd.to_datetime(s, utc=True, format="ISO8601")
            except (ValueError, TypeError, OverflowError):
                amb = text.str.match(_AMBIGUOUS).fillna(False).to_numpy(dtype=bool)
                if amb.any() and dayfirst is None:
                    parts = text[amb].str.extract(_AMBIGUOUS).astype(float)
                    hint = ""
                    if (parts[0] > 12).any():
                        hint = " Values such as these, with a first number above 12, suggest day first."
                    elif (parts[1] > 12).any():
                        hint = " Values with a second number above 12 suggest month first."
                    raise JourneyValidationError(
                        f"Column {column!r} of {what} has {int(amb.sum())} timestamp(s) like '01/03/2026' "
                        f"that could be day-first or month-first. Example rows:\n{example_rows(df, amb)}\n"
                        f"Pass dayfirst=True (CLI: --dayfirst) or False, or time_format= such as '%d/%m/%Y'.{hint}"
                    )
                ts = pd.to_datetime(s, utc=True, errors="coerce", format="mixed", dayfirst=bool(dayfirst))
    bad = ts.isna().to_numpy()
    if bad.any():
        raise JourneyValidationError(
            f"Column {column!r} of {what} has {int(bad.sum())} missing or unparseable "
            f"timestamp(s). Example rows:\n{example_rows(df, bad)}\n"
            + (_TIME_FIX if time_format is None else f"Check time_format={time_format!r} against the rows shown.")
        )
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    out = (ts < TIME_MIN) | (ts > TIME_MAX)
    out = out.to_numpy(dtype=bool)
    if out.any():
        raise JourneyValidationError(
            f"Column {column!r} of {what} has {int(out.sum())} timestamp(s) out of range. Example rows:\n"
            f"{example_rows(df, out)}\nTimestamps must lie between {TIME_MIN.date()} and {TIME_MAX.date()} "
            "(placeholders such as 9999-12-31 or 0001-01-01 are not dates): fix or remove the rows shown."
        )
    return ts.to_numpy(dtype="datetime64[ns]")


#: Names of internal states and pseudo-channels; no channel may be called so.
RESERVED_NAMES = ("(no touch)", "(start)", "(conversion)", "(null)", "(other)", "(baseline)", "(unmatched)")


def check_channel_names(channels, column: str = "channel") -> None:
    """Raise if a channel is named like an internal state (``"(start)"``, ``"(no touch)"``, ...)."""
    names = {str(c).strip().lower() for c in channels}
    clash = sorted(n for n in RESERVED_NAMES if n in names)
    if clash:
        raise JourneyValidationError(
            f"Channel name(s) {clash} (column {column!r}) are reserved for internal states and "
            f"pseudo-channels ({', '.join(RESERVED_NAMES)}); a channel of that name would be merged "
            "with them. Rename the channel, e.g. df[col] = df[col].replace({'(start)': 'start'})."
        )


def id_strings(ids) -> pd.Series:
    """Customer ids as text, with numbers normalised: an integral float equals its int ("1.0" -> "1").

    Text ids are kept as they are (``"1.0"`` stays ``"1.0"``); only numeric values change.
    """
    s = ids if isinstance(ids, pd.Series) else pd.Series(ids)
    if pd.api.types.is_float_dtype(s.dtype):
        x = s.to_numpy(dtype=np.float64, na_value=np.nan)
        out = s.astype(str).to_numpy(dtype=object)
        integral = np.isfinite(x) & (np.abs(x) < 2.0**63)
        integral[integral] = x[integral] == np.round(x[integral])
        out[integral] = x[integral].astype(np.int64).astype(str)
        return pd.Series(out, index=s.index, dtype=object)
    if s.dtype == object:
        def norm(v):
            if isinstance(v, (float, np.floating)) and np.isfinite(v) and float(v).is_integer() and abs(v) < 2.0**63:
                return str(int(v))
            return str(v)
        return s.map(norm).astype(object)
    return s.astype(str)


#: First characters that make a spreadsheet read a cell as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells, index and column names cannot run as spreadsheet formulas.

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading
    apostrophe (``=HYPERLINK(...)`` is written as ``'=HYPERLINK(...)``), the usual defence
    against CSV injection; spreadsheets then show the text as typed. Numbers are unchanged.
    """
    def fix(values):
        s = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values
        if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
            return values
        text = s.astype(object)
        bad = text.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_START)).to_numpy(dtype=bool)
        if not bad.any():
            return values
        text = text.copy()
        text[bad] = "'" + text[bad].astype(str)
        return text.to_numpy(dtype=object) if not isinstance(values, pd.Series) else text

    out = df.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            out.isetitem(i, fix(col.reset_index(drop=True)).to_numpy(dtype=object))
    out.columns = _fix_index(out.columns, fix)
    out.index = _fix_index(out.index, fix)
    return out


def _fix_index(index: pd.Index, fix) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        return pd.MultiIndex.from_arrays(
            [_fix_index(index.get_level_values(i), fix) for i in range(index.nlevels)], names=index.names
        )
    if index.dtype == object or pd.api.types.is_string_dtype(index.dtype):
        return pd.Index(fix(pd.Series(index.to_numpy(dtype=object), dtype=object)).to_numpy(dtype=object),
                        name=index.name)
    return index


def as_name_set(values: Iterable[str] | str | None) -> frozenset[str]:
    """Normalise a channel list parameter (None, one name, or an iterable of names)."""
    if values is None:
        return frozenset()
    if isinstance(values, str):
        return frozenset([values])
    return frozenset(str(v) for v in values)
