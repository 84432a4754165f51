"""Input checks whose messages say what is wrong, where, and how to fix it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .exceptions import JourneyValidationError

__all__ = [
    "example_rows",
    "require_columns",
    "check_no_missing",
    "check_non_negative",
    "parse_duration",
    "parse_timestamps",
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
        raise TypeError(f"{what} must be a pandas DataFrame. Got {type(df).__name__} instead.")
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
    return x


def parse_duration(value, name: str, owner: str) -> pd.Timedelta | None:
    """Parse a positive duration such as ``'30D'``, ``'12h'`` or a ``Timedelta``; ``None`` passes."""
    if value is None:
        return None
    try:
        td = pd.Timedelta(value)
    except (TypeError, ValueError):
        td = None
    if td is None or pd.isna(td) or td <= pd.Timedelta(0) or isinstance(value, (int, float)):
        raise ValueError(
            f"The {name!r} parameter of {owner} must be a positive duration such as '30D' or "
            f"'12h', or None. Got {value!r} instead."
        )
    return td


def parse_timestamps(df: pd.DataFrame, column: str, what: str) -> np.ndarray:
    """Parse ``df[column]`` to UTC ``datetime64[ns]`` (returned without time zone).

    Time-zone-aware values are converted to UTC; naive values are taken as UTC. Values that
    cannot be parsed, or are missing, raise with example rows.
    """
    s = df[column]
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        ts = s.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_any_dtype(s.dtype):
        ts = s
    else:
        try:  # the fast path: ISO-8601 throughout
            ts = pd.to_datetime(s, utc=True, format="ISO8601")
        except (ValueError, TypeError):
            ts = pd.to_datetime(s, utc=True, errors="coerce", format="mixed")
    bad = ts.isna().to_numpy()
    if bad.any():
        raise JourneyValidationError(
            f"Column {column!r} of {what} has {int(bad.sum())} missing or unparseable "
            f"timestamp(s). Example rows:\n{example_rows(df, bad)}\n"
            "Use ISO-8601 timestamps such as '2026-03-01T10:15:00Z' (naive times are read as UTC)."
        )
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    return ts.to_numpy(dtype="datetime64[ns]")


def as_name_set(values: Iterable[str] | str | None) -> frozenset[str]:
    """Normalise a channel list parameter (None, one name, or an iterable of names)."""
    if values is None:
        return frozenset()
    if isinstance(values, str):
        return frozenset([values])
    return frozenset(str(v) for v in values)
