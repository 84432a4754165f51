"""Shapes and path rules that need no glue: one-row-per-journey ("wide") tables and
Fractribution's path transforms.

* :func:`from_wide`: ``channel_1, channel_2, ...`` columns (blanks ignored) -> Journeys.
* :func:`path_transform`: ``unique``, ``exposure``, ``first``, ``frequency``,
  ``remove_if_not_all``, ``remove_if_last_and_not_all`` (Google Fractribution's names).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .exceptions import JourneyValidationError
from .journeys import Journeys

__all__ = ["PATH_TRANSFORMS", "from_wide", "path_transform"]

#: Fractribution's path transforms.
PATH_TRANSFORMS = ("unique", "exposure", "first", "frequency", "remove_if_not_all", "remove_if_last_and_not_all")


def _natural_key(name: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(name))]


def from_wide(
    df: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    prefix: str | None = None,
    conversions: str | None = None,
    value: str | None = None,
    nulls: str | None = None,
    warn: bool = True,
) -> Journeys:
    """Journeys from a one-row-per-journey table whose channels sit in several columns.

    Parameters
    ----------
    df : DataFrame
        One row per journey (or per distinct path, with counts).
    columns : list of str, optional
        The channel columns, first touch first.
    prefix : str, optional
        Instead of ``columns``: every column whose name starts with ``prefix`` (e.g.
        ``"channel_"``), in natural order (``channel_2`` before ``channel_10``).
    conversions : str, optional
        Column with each row's conversion count. Default: every row is one converting journey
        (a converters-only table; models that learn from non-converters need ``nulls``).
    value : str, optional
        Column with each row's conversion value (default 0).
    nulls : str, optional
        Column with each row's non-converting count (default 0).
    warn : bool, default True

    Returns
    -------
    Journeys
        No timestamps. Blank cells (missing, empty or whitespace) are skipped wherever they
        are, so ``["a", None, "b"]`` is the path ``a > b``; a row with no channel at all is an
        empty journey (its conversions go to ``"(no touch)"``).

    Examples
    --------
    >>> import pandas as pd
    >>> from attribution.shapes import from_wide
    >>> wide = pd.DataFrame({"channel_1": ["email", "search"], "channel_2": ["search", None],
    ...                      "orders": [2, 1], "revenue": [30.0, 10.0]})
    >>> j = from_wide(wide, prefix="channel_", conversions="orders", value="revenue")
    >>> j.to_paths(aggregate=False)["path"].tolist()
    ['email > search', 'search']
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"from_wide expects a DataFrame. Got {type(df).__name__} instead.")
    if (columns is None) == (prefix is None):
        raise ValueError("from_wide needs exactly one of columns=[...] or prefix='channel_'.")
    if prefix is not None:
        columns = sorted((c for c in df.columns if str(c).startswith(prefix)), key=_natural_key)
        if not columns:
            raise JourneyValidationError(
                f"No column starts with prefix {prefix!r}. Columns found: {[str(c) for c in df.columns]}."
            )
    missing = [c for c in columns if c not in df.columns]
    for name, col in (("conversions", conversions), ("value", value), ("nulls", nulls)):
        if col is not None and col not in df.columns:
            missing.append(col)
    if missing:
        raise JourneyValidationError(
            f"from_wide: no column(s) {missing}. Columns found: {[str(c) for c in df.columns]}."
        )
    cells = df[list(columns)].astype(object).to_numpy()
    stripped = pd.DataFrame(cells).apply(lambda s: s.astype("string").str.strip())
    present = (stripped.notna() & (stripped != "")).to_numpy(dtype=bool)
    text = stripped.astype(object).to_numpy(dtype=object)
    flat = text[present]  # row-major: journeys back to back, in column order
    codes, names = pd.factorize(pd.Series(flat, dtype=object), sort=True)
    lengths = present.sum(axis=1)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    n = len(df)

    def numbers(col, default):
        if col is None:
            return np.full(n, default, dtype=np.float64)
        v = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(v) | (v < 0)
        if bad.any():
            raise JourneyValidationError(
                f"Column {col!r} must hold non-negative numbers; {int(bad.sum())} row(s) do not. "
                f"Example rows:\n{df.loc[bad].head(3).to_string()}"
            )
        return v

    conv = numbers(conversions, 1.0)
    return Journeys(
        np.asarray(names, dtype=object), codes.astype(np.int32), offsets, conv, numbers(nulls, 0.0),
        numbers(value, 0.0),
    )


def _codes_of(journeys: Journeys, channels) -> np.ndarray:
    names = [channels] if isinstance(channels, str) else list(channels or ())
    return np.isin(np.asarray(journeys.channels, dtype=object), names)


def path_transform(journeys: Journeys, how, *, channels: Iterable[str] | str | None = None) -> Journeys:
    """Fractribution's path transforms.

    Parameters
    ----------
    journeys : Journeys
    how : str or list of str
        One transform or several applied in order:

        ``"unique"``
            The path as it is (Fractribution's name for the identity).
        ``"exposure"``
            Consecutive repeats collapsed: ``a > a > b > a`` -> ``a > b > a``.
        ``"first"``
            Only the first touch of each channel: ``a > b > a > c`` -> ``a > b > c``.
        ``"frequency"``
            The first touch of each channel, renamed with the channel's count in the journey:
            ``d > a > b > b > c > d > c > c`` -> ``d(2) > a(1) > b(2) > c(3)`` (new channel
            names).
        ``"remove_if_not_all"``
            Touches of ``channels`` removed unless the journey consists only of them:
            ``direct > a > direct`` -> ``a``; ``direct > direct`` stays.
        ``"remove_if_last_and_not_all"``
            The trailing run of ``channels`` removed unless the journey consists only of them:
            ``a > direct > b > direct > direct`` -> ``a > direct > b``.
    channels : str or list of str, optional
        The channels of the two ``remove_*`` transforms (e.g. ``"direct"``).

    Returns
    -------
    Journeys
        Removed touches are counted in ``exclusions["path_transform"]``; conversions, values and
        non-converting counts never change.

    References
    ----------
    Google, Fractribution (github.com/google/fractribution), ``path_transforms.sql``.
    """
    steps = [how] if isinstance(how, str) else list(how)
    out = journeys
    for step in steps:
        if step not in PATH_TRANSFORMS:
            raise ValueError(f"The 'how' parameter of path_transform must be one of {list(PATH_TRANSFORMS)}. Got {step!r} instead.")
        if step.startswith("remove") and not channels:
            raise ValueError(f"path_transform {step!r} needs channels=, e.g. channels='direct'.")
        out = _apply(out, step, channels)
    return out


def _apply(j: Journeys, step: str, channels) -> Journeys:
    tc = j.touch_channel.astype(np.int64)
    jid = j.journey_index
    pos = j.position
    T = len(tc)
    if step == "unique":
        return j
    if step == "exposure":
        repeat = np.zeros(T, dtype=bool)
        repeat[1:] = (tc[1:] == tc[:-1]) & (pos[1:] > 0)
        return j._keep_touches(~repeat, "path_transform")
    if step in ("first", "frequency"):
        key = jid.astype(np.int64) * max(j.n_channels, 1) + tc
        uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        keep = np.zeros(T, dtype=bool)
        keep[first] = True
        if step == "first":
            return j._keep_touches(keep, "path_transform")
        counts = np.bincount(inverse.ravel(), minlength=len(uniq))[inverse.ravel()]
        out = j._keep_touches(keep, "path_transform")
        k_ch, k_cnt = tc[keep], counts[keep]
        pair = k_ch * (int(k_cnt.max(initial=0)) + 1) + k_cnt
        pu, pinv = np.unique(pair, return_inverse=True)
        base = np.asarray(j.channels, dtype=object)
        span = int(k_cnt.max(initial=0)) + 1
        labels = np.array([f"{base[p // span]}({p % span})" for p in pu], dtype=object)  # distinct pairs only
        order = np.argsort(labels.astype(str), kind="stable")
        rank = np.empty(len(order), dtype=np.int32)
        rank[order] = np.arange(len(order), dtype=np.int32)
        return out._replace(channels=labels[order], touch_channel=rank[pinv.ravel()])
    is_x = _codes_of(j, channels)[tc] if T else np.zeros(0, dtype=bool)
    n_x = np.bincount(jid, weights=is_x, minlength=j.n_journeys)
    all_x = (n_x == j.lengths)[jid]
    if step == "remove_if_not_all":
        return j._keep_touches(~is_x | all_x, "path_transform")
    # remove_if_last_and_not_all: touches of the trailing run of `channels`
    nonx = (~is_x).astype(np.int64)
    c = np.cumsum(nonx)
    end = j.offsets[1:][jid] - 1
    nonx_from_here = c[end] - c + nonx if T else np.zeros(0, np.int64)
    trailing = is_x & (nonx_from_here == 0)
    return j._keep_touches(~trailing | all_x, "path_transform")
