"""Writing result tables as CSV: safe text and numbers without float noise.

Sums of floats carry representation noise (``629.79`` becomes ``629.7900000000001``); written
as is, every spreadsheet shows it. :func:`write_csv` (used by the report, the CLI and every
``write`` method that saves result tables) rounds on write, to a documented precision:

- **money** (columns named like ``value``, ``cost``, ``spend``, ``revenue``, ``budget``,
  ``cpa``, ``price``, ``amount`` and the budget plan's ``current`` / ``planned`` / ``change`` /
  ``lower`` / ``upper``, with their ``_low`` / ``_high`` interval ends): to cents,
  :data:`MONEY_DECIMALS` = 2 decimals;
- **every other number** (shares, rates, ROI, credited conversions, days, and the mixed
  ``value`` column of key/value summaries): to :data:`DECIMALS` = 6 decimals (shares to 1e-6).

Only the written text changes: the DataFrames in memory (``credits_``, ``Comparison.roi``,
...) keep full precision. Integers and text are written unchanged (text through
:func:`attribution._validation.csv_safe`, which defuses spreadsheet formulas); ``-0.0`` left
by rounding a tiny negative is written as ``0.0``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["DECIMALS", "MONEY_DECIMALS", "is_money_column", "round_for_csv", "write_csv"]

#: Decimals of money columns (cents).
MONEY_DECIMALS = 2
#: Decimals of every other float (shares to 1e-6).
DECIMALS = 6

_MONEY_WORDS = frozenset({"value", "cost", "costs", "spend", "revenue", "budget", "cpa", "price", "amount",
                          "current", "planned", "change", "lower", "upper"})
# a name with any of these words is a count, a ratio or a statistic, never money
_NOT_MONEY_WORDS = frozenset({"pct", "percent", "share", "rate", "roi", "roas", "ratio", "conversions",
                              "conv", "journeys", "touches", "z", "se", "sd", "std", "days", "factor", "p"})


def is_money_column(name) -> bool:
    """Whether a column name reads as an amount of money (see the module docstring).

    >>> [is_money_column(c) for c in ("value", "value_low", "cost", "marginal_cpa", "change_pct",
    ...                               "current_conversions", "roi", "share")]
    [True, True, True, True, False, False, False, False]
    """
    words = set(re.split(r"[^a-z0-9]+", str(name).lower())) - {""}
    return bool(words & _MONEY_WORDS) and not (words & _NOT_MONEY_WORDS)


def _round_array(values: np.ndarray, decimals: int) -> np.ndarray:
    return np.round(values, decimals) + 0.0  # + 0.0: no "-0.0"


def _round_cell(v, decimals: int):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (float, np.floating)):
        return v
    if not np.isfinite(v):
        return v
    return float(round(float(v), decimals)) + 0.0


def round_for_csv(df: pd.DataFrame, money=None) -> pd.DataFrame:
    """A copy of ``df`` with floats rounded for writing (money to cents, the rest to 1e-6).

    Parameters
    ----------
    df : DataFrame
    money : iterable of column names, optional
        The money columns; default: those :func:`is_money_column` recognises, and none in a
        key/value summary (a frame whose only column is ``value``: it mixes counts, rates
        and amounts, so every number is written to 1e-6).

    Returns
    -------
    DataFrame
        Same shape, index and dtypes; float columns (and float cells of object columns)
        rounded.

    Examples
    --------
    >>> import pandas as pd
    >>> round_for_csv(pd.DataFrame({"value": [629.7900000000001], "share": [0.123456789]})).iloc[0].tolist()
    [629.79, 0.123457]
    """
    if money is None and list(map(str, df.columns)) == ["value"]:
        money = ()  # a key/value summary: its one column mixes counts, rates and amounts
    money_cols = None if money is None else {str(c) for c in money}
    out = df.copy()
    for i in range(out.shape[1]):
        name = out.columns[i]
        is_money = is_money_column(name) if money_cols is None else str(name) in money_cols
        decimals = MONEY_DECIMALS if is_money else DECIMALS
        col = out.iloc[:, i]
        if pd.api.types.is_float_dtype(col.dtype):
            out.isetitem(i, pd.Series(_round_array(col.to_numpy(), decimals), index=col.index, dtype=col.dtype))
        elif col.dtype == object:
            out.isetitem(i, col.map(lambda v, d=decimals: _round_cell(v, d)))
    return out


def write_csv(df: pd.DataFrame, path, *, index: bool | None = None, money=None) -> Path:
    """Write ``df`` as CSV with :func:`round_for_csv` and :func:`~attribution._validation.csv_safe`.

    Parameters
    ----------
    df : DataFrame
    path : str or Path
    index : bool, optional
        Write the index; default: unless it is a plain ``RangeIndex``.
    money : iterable of column names, optional
        See :func:`round_for_csv`.

    Returns
    -------
    Path
    """
    from ._validation import csv_safe

    path = Path(path)
    if index is None:
        index = not isinstance(df.index, pd.RangeIndex)
    csv_safe(round_for_csv(df, money=money)).to_csv(path, index=index)
    return path

