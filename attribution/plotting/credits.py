"""Credit over time: small multiples of each channel's credit per period."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["plot_credits_by_period"]


def plot_credits_by_period(table: pd.DataFrame, *, ax=None, ncols: int = 3, what: str = "conversions",
                           title: str | None = None):
    """One small panel per channel: its credit per period (from
    :func:`attribution.credits.credits_by_period`), on a shared time axis.

    Parameters
    ----------
    table : DataFrame
        Periods × channels, as returned by ``credits_by_period``.
    ax : array of Axes, optional
        One Axes per channel (e.g. from ``plt.subplots``); created when None.
    ncols : int, default 3
        Panels per row when creating the figure.
    what : str, default "conversions"
        The unit shown on the y axes ("conversions" or "value").
    title : str, optional

    Returns
    -------
    ndarray of Axes
        One per channel (in table column order).
    """
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    from .journeys import channel_colors

    channels = list(table.columns)
    n = max(len(channels), 1)
    if ax is None:
        ncols = max(1, min(ncols, n))
        nrows = int(np.ceil(n / ncols))
        fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.3 * nrows + 0.6), sharex=True,
                                 sharey=False, squeeze=False, layout="constrained")
        for extra in axes.ravel()[n:]:
            extra.set_visible(False)
        axes = axes.ravel()[:n]
        fig.suptitle(title or f"Attributed {what} per {_freq_name(table.index)} by channel")
    else:
        axes = np.atleast_1d(ax).ravel()
        if len(axes) < len(channels):
            raise ValueError(f"Need one Axes per channel ({len(channels)}); got {len(axes)}.")
    colors = channel_colors(channels)
    x = table.index.to_timestamp() if isinstance(table.index, pd.PeriodIndex) else table.index
    for a, ch in zip(axes, channels):
        y = table[ch].to_numpy(dtype=float)
        a.plot(x, y, color=colors[ch], marker="o", ms=3, lw=1.5)
        a.fill_between(x, 0, y, color=colors[ch], alpha=0.15)
        a.set_title(str(ch)[:40], fontsize=10)
        a.set_ylim(bottom=min(0.0, float(np.nanmin(y)) if len(y) else 0.0))
        a.grid(alpha=0.3)
        loc = mdates.AutoDateLocator(minticks=3, maxticks=6)
        a.xaxis.set_major_locator(loc)
        a.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
        a.tick_params(axis="x", labelsize=8)
        a.set_ylabel(what, fontsize=8)
    return axes


def _freq_name(index) -> str:
    if isinstance(index, pd.PeriodIndex):
        code = index.freqstr.split("-")[0].upper()
        return {"D": "day", "W": "week", "M": "month", "ME": "month", "Q": "quarter", "QE": "quarter",
                "Y": "year", "YE": "year"}.get(code, index.freqstr)
    return "period"
