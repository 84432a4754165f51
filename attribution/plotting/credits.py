"""Credit over time: small multiples of each channel's credit per period."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["plot_credits_by_period"]


def plot_credits_by_period(table, *, ax=None, ncols: int = 3, what: str = "conversions",
                           title: str | None = None, max_channels: int | None = None, fig=None):
    """One small panel per channel: its credit per period (from
    :func:`attribution.credits.credits_by_period`), on a shared time axis.

    Parameters
    ----------
    table : DataFrame or dict of DataFrame
        Periods × channels, as returned by ``credits_by_period``; or a dict ``model label ->
        table`` (one per model, e.g. every model of a comparison): each panel then draws a line
        per model, in the models' colours of :func:`attribution.plotting.decisions.plot_credits`.
    ax : array of Axes, optional
        One Axes per channel (e.g. from ``plt.subplots``); created when None.
    ncols : int, default 3
        Panels per row when creating the figure.
    what : str, default "conversions"
        The unit shown on the y axes ("conversions" or "value").
    title : str, optional
    max_channels : int, optional
        Draw only the first ``max_channels`` channels (in table column order; the first table's
        for a dict) and say so in the title.
    fig : matplotlib Figure, optional
        With ``ax=None``: draw the panels on this (empty) figure instead of a new pyplot figure.

    Returns
    -------
    ndarray of Axes
        One per channel drawn (in table column order).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> t = pd.DataFrame({"a": [1.0, 2.0], "b": [0.0, 1.0]},
    ...                  index=pd.period_range("2026-03-02", periods=2, freq="W", name="period"))
    >>> axes = plot_credits_by_period({"linear": t, "markov": t * 1.1})
    >>> [a.get_title() for a in axes], len(axes[0].get_lines())
    (['a', 'b'], 2)
    """
    import matplotlib.pyplot as plt

    from .journeys import channel_colors

    by_model = dict(table) if isinstance(table, dict) else None
    if by_model is not None:
        if not by_model:
            raise ValueError("plot_credits_by_period got an empty dict of tables; give at least one model's table.")
        first = next(iter(by_model.values()))
        channels = list(first.columns)
        for t in list(by_model.values())[1:]:
            channels += [c for c in t.columns if c not in channels]
        index = first.index
        for t in list(by_model.values())[1:]:
            index = index.union(t.index)
    else:
        channels = list(table.columns)
        index = table.index
    total = len(channels)
    if max_channels is not None and total > max_channels:
        channels = channels[: int(max_channels)]
    n = max(len(channels), 1)
    freq = _freq_name(index)
    if ax is None:
        ncols = max(1, min(ncols, n))
        nrows = int(np.ceil(n / ncols))
        if fig is None:
            fig = plt.figure(figsize=(3.6 * ncols, 2.3 * nrows + 0.9 + 0.5 * (by_model is not None)))
        # a fixed grid in inches instead of constrained layout: as legible, and several times faster
        # to save with a dozen panels
        fig.set_layout_engine(None)
        w, h = fig.get_figwidth(), fig.get_figheight()
        legend_h = 0.55 if by_model is not None else 0.0
        axes = fig.subplots(nrows, ncols, sharex=True, sharey=False, squeeze=False, gridspec_kw=dict(
            left=0.75 / w, right=1 - 0.2 / w, top=1 - 0.6 / h, bottom=(0.5 + legend_h) / h,
            wspace=0.75 / max(3.6 - 0.75, 0.5), hspace=0.75 / max((h - 1.1 - legend_h) / nrows - 0.75, 0.5)))
        for extra in axes.ravel()[n:]:
            extra.set_visible(False)
        for a in axes.ravel()[max(n - ncols, 0):n]:  # the lowest panel of each column shows the dates
            a.xaxis.set_tick_params(labelbottom=True)
        axes = axes.ravel()[:n]
        shown = f" (the first {len(channels)} of {total} channels)" if len(channels) < total else ""
        kind = "Credited" if by_model is not None else "Attributed"
        fig.suptitle((title or f"{kind} {what} per {freq} by channel" + (", by model" if by_model else "")) + shown)
    else:
        axes = np.atleast_1d(ax).ravel()
        if len(axes) < len(channels):
            raise ValueError(f"Need one Axes per channel ({len(channels)}); got {len(axes)}.")
    if by_model is None:
        colors = channel_colors(channels)
        series = {None: table}
    else:
        from .decisions import _colors

        palette = _colors(len(by_model))
        series = by_model
    x_of = {key: (t.index.to_timestamp() if isinstance(t.index, pd.PeriodIndex) else t.index)
            for key, t in series.items()}
    tick_pos, tick_labels = _date_ticks(index)
    for a, ch in zip(axes, channels):
        low = 0.0
        for i, (key, t) in enumerate(series.items()):
            if ch not in t.columns:
                continue
            y = t[ch].to_numpy(dtype=float)
            if len(y):
                low = min(low, float(np.nanmin(y)))
            if key is None:
                a.plot(x_of[key], y, color=colors[ch], marker="o", ms=3, lw=1.5)
                a.fill_between(x_of[key], 0, y, color=colors[ch], alpha=0.15)
            else:
                a.plot(x_of[key], y, color=palette[i], marker="o", ms=2.5, lw=1.4, label=str(key))
        a.set_title(str(ch)[:40], fontsize=10)
        a.set_ylim(bottom=low)
        a.grid(alpha=0.3)
        a.set_xticks(tick_pos, tick_labels)  # fixed ticks: one computation for every panel (fast)
        a.tick_params(axis="x", labelsize=8)
        a.tick_params(axis="y", labelsize=8)
        a.set_ylabel(what, fontsize=8)
    if by_model is not None and ax is None and len(axes):
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], color=palette[i], marker="o", ms=2.5, lw=1.4, label=str(key))
                   for i, key in enumerate(by_model)]
        fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncols=min(len(handles), 6),
                   frameon=False, fontsize=9, title="model", title_fontsize=9)
    return axes


def _date_ticks(index, most: int = 5):
    """At most ``most`` evenly spaced period starts and their labels (``Mar 02``; ``2026-03`` for
    months and longer; the year is added to the first label)."""
    x = index.to_timestamp() if isinstance(index, pd.PeriodIndex) else pd.DatetimeIndex(index)
    if len(x) == 0:
        return [], []
    step = max(1, int(np.ceil(len(x) / most)))
    pos = list(x[::step])
    monthly = isinstance(index, pd.PeriodIndex) and index.freqstr.split("-")[0].upper() in ("M", "ME", "Q", "QE", "Y", "YE")
    fmt = "%Y-%m" if monthly else "%b %d"
    labels = [p.strftime(fmt) for p in pos]
    if not monthly:
        labels[0] = pos[0].strftime("%b %d\n%Y")
    return pos, labels


def _freq_name(index) -> str:
    if isinstance(index, pd.PeriodIndex):
        code = index.freqstr.split("-")[0].upper()
        return {"D": "day", "W": "week", "M": "month", "ME": "month", "Q": "quarter", "QE": "quarter",
                "Y": "year", "YE": "year"}.get(code, index.freqstr)
    return "period"
