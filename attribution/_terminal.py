"""Tables for the terminal: counts as whole numbers, rates and shares as percentages.

``DataFrame.round(3).to_string()`` prints weighted counts as ``3043.0`` and rates as ``0.200``
under headers such as ``conversion_rate``. :func:`format_table` writes what a reader expects:
``3,043`` for counts (one decimal only when a column holds fractional counts), ``20.0%`` for
rates and shares (columns named ``*rate*``, ``share*``, ``*_pct``, ``*_share``), and plain
numbers with a fixed number of decimals otherwise (means, positions, days).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["format_table", "is_share_column"]

_SHARE_WORDS = frozenset({"rate", "share", "pct", "percent"})
_MEAN_WORDS = frozenset({"mean", "median", "position", "days", "avg", "average", "roi", "roas"})


def is_share_column(name) -> bool:
    """Whether a column holds a rate or share in [0, 1] (printed as a percentage)."""
    words = set(re.split(r"[^a-z0-9]+", str(name).lower())) - {""}
    return bool(words & _SHARE_WORDS)


def _fmt_count(v: float, decimals: int) -> str:
    return "–" if not np.isfinite(v) else f"{v:,.{decimals}f}"


def format_table(df: pd.DataFrame, *, decimals: int = 2, percent_decimals: int = 1) -> pd.DataFrame:
    """``df`` as text for printing: counts, percentages and other numbers each in their form.

    Parameters
    ----------
    df : DataFrame
    decimals : int, default 2
        Decimals of numbers that are neither counts nor shares (means, positions, days).
    percent_decimals : int, default 1
        Decimals of percentages.

    Returns
    -------
    DataFrame
        Same index, columns renamed with spaces for underscores, every cell a string (missing
        values as ``–``); print it with ``to_string()``.

    Notes
    -----
    A numeric column is a *share* when its name contains ``rate``, ``share``, ``pct`` or
    ``percent`` (printed as ``20.0%``); a *count* when every value is a whole number, or its
    name is not a mean, median, position or number of days (printed with thousands separators,
    one decimal when some counts are fractional, e.g. weighted); else a number with
    ``decimals`` decimals.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"touches": [3043.0, 12.0], "conversion_rate": [0.2, 0.0512],
    ...                   "mean_position": [1.5, 2.25]}, index=["display", "email"])
    >>> print(format_table(t).to_string())
            touches conversion rate mean position
    display   3,043           20.0%          1.50
    email        12            5.1%          2.25
    """
    out = {}
    for col in df.columns:
        s = df[col]
        label = str(col).replace("_", " ")
        if not (pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)):
            out[label] = s.map(lambda v: "–" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
            continue
        v = s.to_numpy(dtype=float)
        finite = v[np.isfinite(v)]
        words = set(re.split(r"[^a-z0-9]+", str(col).lower())) - {""}
        if is_share_column(col):
            out[label] = [f"{x:.{percent_decimals}%}" if np.isfinite(x) else "–" for x in v]
        elif finite.size == 0 or np.all(finite == np.round(finite)):
            out[label] = [_fmt_count(x, 0) for x in v]
        elif not (words & _MEAN_WORDS):
            out[label] = [_fmt_count(x, 1) for x in v]
        else:
            out[label] = [_fmt_count(x, decimals) for x in v]
    return pd.DataFrame(out, index=df.index)
