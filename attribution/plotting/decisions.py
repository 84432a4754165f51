"""Plots for decisions: model comparison, ROI, bootstrap intervals and budget plans.

One contract (see :mod:`attribution.plotting`): matplotlib is imported inside each function,
``ax=None`` creates a figure sized for the number of channels, and the function returns the
``Axes``. Channels run down the vertical axis (horizontal bars), so their names stay legible
with 20 channels and more; models are told apart by colour with a legend.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "plot_bootstrap",
    "plot_budget",
    "plot_credits",
    "plot_rank_agreement",
    "plot_response_curves",
    "plot_roi",
    "plot_validity",
]

_METRIC_LABELS = {
    "conversions": "Attributed conversions",
    "value": "Attributed value (currency)",
    "share": "Share of conversions",
    "roi": "ROI = (value − cost) / cost",
    "roas": "ROAS = value / cost",
    "cpa": "CPA = cost / conversion (currency)",
}


def _axes(ax, n_rows: int, n_bars: int = 1, width: float = 8.0):
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax
    height = max(3.0, min(0.22 * n_rows * max(n_bars, 1) ** 0.5 + 1.6, 30.0))
    _, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return ax


def _colors(n: int):
    import matplotlib as mpl

    cmap = mpl.colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _grouped_barh(ax, wide: pd.DataFrame, low: pd.DataFrame | None, high: pd.DataFrame | None):
    """Horizontal grouped bars: one group per row (channel, top to bottom), one bar per column."""
    n_rows, n_cols = wide.shape
    y = np.arange(n_rows)
    height = 0.8 / max(n_cols, 1)
    colors = _colors(n_cols)
    for i, col in enumerate(wide.columns):
        pos = y - 0.4 + height * (i + 0.5)
        vals = wide[col].to_numpy(dtype=float)
        xerr = None
        if low is not None and high is not None and col in low.columns:
            lo = low[col].to_numpy(dtype=float)
            hi = high[col].to_numpy(dtype=float)
            ok = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(vals)
            if ok.any():
                xerr = np.vstack([np.where(ok, np.maximum(vals - lo, 0), 0), np.where(ok, np.maximum(hi - vals, 0), 0)])
        ax.barh(pos, np.nan_to_num(vals, nan=0.0, posinf=0.0, neginf=0.0), height=height, color=colors[i],
                label=str(col), xerr=xerr, error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "0.2"})
    ax.set_yticks(y)
    ax.set_yticklabels([str(c) for c in wide.index])
    ax.set_ylim(n_rows - 0.5, -0.5)  # first channel on top
    ax.grid(axis="x", color="0.9")
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _legend(ax, n: int, title: str = "model"):
    ax.legend(title=title, fontsize="small", title_fontsize="small", frameon=False,
              loc="upper left", bbox_to_anchor=(1.0, 1.0), ncols=1 if n <= 12 else 2)


def _estimand_labels(table: pd.DataFrame, models: list) -> tuple[str, list[str]]:
    """(kind, legend labels): kind is "attributed", "incremental" or "mixed"; with mixed
    estimands each legend label names its model's estimand."""
    if "estimand" not in table.columns:
        return "attributed", [str(m) for m in models]
    est = table.groupby("model", sort=False)["estimand"].first()
    kinds = set(est.dropna().astype(str))  # rows without an estimand (the truth column) do not count
    kind = kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "attributed")

    def label(m) -> str:
        e = est.get(m)
        if e is None or pd.isna(e):  # the simulator's truth: true incremental credit
            return f"{m} (true incremental)" if str(m) == "truth" else str(m)
        return f"{m} ({e})" if kind == "mixed" else str(m)

    return kind, [label(m) for m in models]


_KIND_WORD = {"attributed": "Attributed", "incremental": "Incremental", "mixed": "Attributed or incremental"}


def plot_credits(credits: pd.DataFrame, metric: str = "conversions", *, ax=None):
    """Grouped horizontal bars: attributed credit per channel, one bar per model.

    Parameters
    ----------
    credits : DataFrame
        Long table ``model, channel, <metric>`` (e.g. :attr:`Comparison.credits`); columns
        ``<metric>_low``/``<metric>_high`` add interval whiskers.
    metric : {"conversions", "value", "share"}
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    if metric not in ("conversions", "value", "share"):
        raise ValueError(f"The 'metric' parameter of plot_credits must be 'conversions', 'value' or 'share'. Got {metric!r} instead.")
    from ..models.base import PSEUDO_CHANNELS

    models = list(dict.fromkeys(credits["model"]))
    channels = list(dict.fromkeys(credits["channel"]))
    if metric == "share":  # shares are over the channels: the pseudo-channels have none
        channels = [c for c in channels if c not in PSEUDO_CHANNELS]
    # the baseline (conversions expected with no channel on) is no channel: its bar would dwarf
    # every channel's; it stays in the tables
    baseline = [c for c in channels if c == PSEUDO_CHANNELS[-1]]
    channels = [c for c in channels if c not in baseline]

    def wide(col):
        return credits.pivot(index="channel", columns="model", values=col).reindex(index=channels, columns=models)

    w = wide(metric)
    lo = wide(f"{metric}_low") if f"{metric}_low" in credits.columns else None
    hi = wide(f"{metric}_high") if f"{metric}_high" in credits.columns else None
    if lo is not None and not (np.isfinite(lo.to_numpy(dtype=float)).any()):
        lo = hi = None
    kind, legend = _estimand_labels(credits, models)
    w.columns = legend
    if lo is not None:
        lo.columns = legend
        hi.columns = legend
    ax = _axes(ax, len(channels), len(models))
    _grouped_barh(ax, w, lo, hi)
    label = _METRIC_LABELS[metric].replace("Attributed", _KIND_WORD[kind])
    if metric == "share" and "estimand" in credits.columns:
        label = f"Share of the channels' {_KIND_WORD[kind].lower()} conversions"
    if metric == "share":
        from matplotlib.ticker import PercentFormatter

        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(label)
    ax.set_ylabel("channel")
    whisk = ""
    if lo is not None:
        whisk = " (whiskers: bootstrap interval)"
    extra = "\n(attributed: observed conversions split over touching channels; incremental: caused)" if kind == "mixed" else ""
    if baseline:
        extra += "\n('(baseline)' of the incremental models left out: see the table)"
    ax.set_title(f"{label} per channel, by model{whisk}{extra}")
    _legend(ax, len(models))
    return ax


#: A channel whose largest bar exceeds the next channel's by this factor is cut off the axis.
CUT_RATIO = 2.5


def _axis_cut(values: pd.DataFrame, ratio: float = CUT_RATIO) -> float | None:
    """Where to cut the value axis so that a few outlying channels do not flatten the rest.

    Each channel's largest bar is its height; sorted from the top, the first drop by more than
    ``ratio`` (within the top third of the channels) marks the outliers, and the axis is cut at
    1.3 × the largest channel below the drop. ``None`` when nothing stands out.
    """
    tops = np.sort(np.nan_to_num(values.to_numpy(dtype=float), nan=-np.inf).max(axis=1))[::-1]
    tops = tops[np.isfinite(tops)]
    for i in range(1, max(2, len(tops) // 3 + 1)):
        if i < len(tops) and tops[i] > 0 and tops[i - 1] > ratio * tops[i]:
            return 1.3 * float(tops[i])
    return None


def _draw_cut(ax, values: pd.DataFrame, cut: float, low: float) -> None:
    """Mark bars clipped at ``cut``: a break on each, and the true values beyond the cut, in a
    margin left free of bars."""
    n_rows, n_cols = values.shape
    height = 0.8 / max(n_cols, 1)
    span = cut - low
    v = values.to_numpy(dtype=float)
    for r in range(n_rows):
        over = np.flatnonzero(np.isfinite(v[r]) & (v[r] > cut))
        if not len(over):
            continue
        for j in over:  # a white break near the end of each clipped bar
            y = r - 0.4 + height * (j + 0.5)
            ax.plot([cut - 0.035 * span, cut - 0.02 * span], [y + 0.45 * height, y - 0.45 * height],
                    color="white", linewidth=2.2, solid_capstyle="butt", zorder=3)
        ws = v[r, over]
        text = f"{ws.min():,.0f} to {ws.max():,.0f}" if len(ws) > 1 and ws.min() != ws.max() else f"{ws.max():,.0f}"
        ax.text(cut + 0.015 * span, r, f"▸ {text}", ha="left", va="center", fontsize=8, color="0.1")
    ax.set_xlim(low - 0.04 * span, cut + 0.2 * span)
    ax.axvline(cut, color="0.55", linewidth=0.8, linestyle=":")
    ticks = [t for t in ax.get_xticks() if low - 0.04 * span <= t <= cut]
    ax.set_xticks(ticks)


def plot_roi(table: pd.DataFrame, metric: str = "roi", *, scale: str = "cut", ax=None):
    """ROI (or ROAS, CPA) per channel, one bar per model, so that disagreements stand out.

    Channels without a defined figure (no cost, or an infinite CPA) show no bar and are marked
    in their tick label (``no cost`` / ``no conversions``).

    Parameters
    ----------
    table : DataFrame
        Long ROI table (:attr:`Comparison.roi` or :attr:`ROIResult.table`).
    metric : {"roi", "roas", "cpa"}
    scale : {"cut", "symlog", "linear"}, default "cut"
        ``"cut"``: when a few channels' bars dwarf the others (an ROI of 176 beside ROIs of 2 to
        10), the axis stops at 1.3 × the largest of the others; the longer bars are clipped
        there, marked with a break, and their values are printed beyond the dotted cut line, in
        a margin free of bars. ``"symlog"``: a symmetric log axis (linear within ±1).
        ``"linear"``: the plain axis.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    The cut: with each channel's largest bar sorted from the top, the first drop by more than
    :data:`CUT_RATIO` = 2.5 within the top third of the channels marks the outliers.
    """
    if metric not in ("roi", "roas", "cpa"):
        raise ValueError(f"The 'metric' parameter of plot_roi must be 'roi', 'roas' or 'cpa'. Got {metric!r} instead.")
    if scale not in ("cut", "symlog", "linear"):
        raise ValueError(f"The 'scale' parameter of plot_roi must be 'cut', 'symlog' or 'linear'. Got {scale!r} instead.")
    from ..models.base import BASELINE, NO_TOUCH

    models = list(dict.fromkeys(table["model"]))
    # the baseline of an incremental model and the conversions without touches are no channels:
    # nothing is spent on them
    channels = [c for c in dict.fromkeys(table["channel"]) if c not in (BASELINE, NO_TOUCH)]

    def wide(col):
        return table.pivot(index="channel", columns="model", values=col).reindex(index=channels, columns=models)

    w = wide(metric)
    lo = wide(f"{metric}_low") if f"{metric}_low" in table.columns else None
    hi = wide(f"{metric}_high") if f"{metric}_high" in table.columns else None
    if lo is not None and not (np.isfinite(lo.to_numpy(dtype=float)).any()):
        lo = hi = None
    cost = table.groupby("channel", sort=False)["cost"].first().reindex(channels)
    kind, legend = _estimand_labels(table, models)
    w.columns = legend
    if lo is not None:
        lo.columns = legend
        hi.columns = legend
    flagged = set()
    if "grade" in table.columns:
        flagged = set(table.loc[table["grade"].astype(str) == "D", "channel"])
    ax = _axes(ax, len(channels), len(models))
    finite = w.replace([np.inf, -np.inf], np.nan)
    cut = _axis_cut(finite) if scale == "cut" else None
    shown = finite
    if cut is not None:
        shown = finite.clip(upper=cut)
        if lo is not None:  # no whiskers on clipped bars; none beyond the cut
            clipped = finite > cut
            lo, hi = lo.mask(clipped), hi.mask(clipped).clip(upper=cut)
    _grouped_barh(ax, shown, lo, hi)
    if cut is not None:
        ends = [shown.to_numpy(dtype=float)] + ([lo.to_numpy(dtype=float)] if lo is not None else [])
        ends = np.concatenate([e.ravel() for e in ends])
        low = min(0.0, float(ends[np.isfinite(ends)].min())) if np.isfinite(ends).any() else 0.0
        _draw_cut(ax, finite, cut, low)
    elif scale == "symlog":
        ax.set_xscale("symlog", linthresh=1.0)
    conv = table.pivot(index="channel", columns="model", values="conversions").reindex(index=channels)
    labels = []
    for c in channels:
        if np.isnan(cost[c]):
            labels.append(f"{c} (no cost data)")
        elif cost[c] == 0:
            labels.append(f"{c} (unpaid)")
        elif not (conv.loc[c].to_numpy(dtype=float) > 0).any():
            labels.append(f"{c} (no conversions)")
        else:
            labels.append(str(c))
        if c in flagged:
            labels[-1] += " [grade D: not trusted]"
    ax.set_yticklabels(labels)
    from .._display import _metric_name

    label = _METRIC_LABELS[metric]
    label = _metric_name(metric, [kind] if kind != "mixed" else ["attributed", "incremental"]) + " =" + label.split("=", 1)[1]
    if metric in ("roi", "roas"):
        even = 0.0 if metric == "roi" else 1.0
        ax.axvline(even, color="0.3", linewidth=0.9, linestyle="--")
        ax.set_xlabel(f"{label}   (dashed line: break-even, {even:g})")
    else:
        ax.set_xlabel(label)
    if cut is not None:
        ax.set_xlabel(ax.get_xlabel() + f"\n(axis cut at {cut:,.3g}: longer bars are broken off; their values follow ▸)")
    elif scale == "symlog":
        ax.set_xlabel(ax.get_xlabel() + "\n(symmetric log axis: linear within ±1)")
    ax.set_ylabel("channel")
    whisk = " (whiskers: bootstrap interval)" if lo is not None else ""
    ax.set_title(f"{label.split(' =')[0]} per channel, by model{whisk}")
    _legend(ax, len(models))
    return ax


def plot_bootstrap(result, metric: str = "conversions", *, truth=None, ax=None):
    """A model's credit per channel with its bootstrap percentile interval.

    Parameters
    ----------
    result : BootstrapResult
    metric : {"conversions", "value", "share"}
    truth : Series, optional
        A known truth per channel on the same scale (e.g. the simulator's true shares), drawn as
        diamonds.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    if metric not in ("conversions", "value", "share"):
        raise ValueError(f"The 'metric' parameter of plot_bootstrap must be 'conversions', 'value' or 'share'. Got {metric!r} instead.")
    cr = result.credits
    ax = _axes(ax, len(cr))
    y = np.arange(len(cr))
    v = cr[metric].to_numpy(dtype=float)
    err = np.vstack([v - cr[f"{metric}_low"].to_numpy(dtype=float), cr[f"{metric}_high"].to_numpy(dtype=float) - v])
    ax.barh(y, v, color=_colors(1)[0], alpha=0.75, height=0.6, label=f"{result.label} (all journeys)")
    ax.errorbar(v, y, xerr=np.maximum(err, 0), fmt="none", ecolor="0.15", elinewidth=1.2, capsize=3,
                label=f"{result.level:.0%} interval ({result.n} replicates)")
    if truth is not None:
        t = pd.Series(truth).reindex(cr.index).to_numpy(dtype=float)
        ax.scatter(t, y, marker="D", color="crimson", zorder=3, s=22, label="truth")
    ax.set_yticks(y)
    ax.set_yticklabels([str(c) for c in cr.index])
    ax.set_ylim(len(cr) - 0.5, -0.5)
    if metric == "share":
        from matplotlib.ticker import PercentFormatter

        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(_METRIC_LABELS[metric])
    ax.set_ylabel("channel")
    unit = "customers" if result.scheme == "customer" else "journeys"
    ax.set_title(f"{_METRIC_LABELS[metric]} under {result.label}, bootstrap over {unit}")
    ax.grid(axis="x", color="0.9")
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(fontsize="small", frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def plot_budget(plan, *, rule_based: bool = True, ax=None):
    """Spend per channel today, under the rule-based reallocation, and in the plan.

    Parameters
    ----------
    plan : BudgetPlan
    rule_based : bool, default True
        Also show the rule-based reallocation.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    a = plan.allocation
    cols = {"today": a["current"], "plan": a["planned"]}
    if rule_based:
        cols = {"today": a["current"], "rule-based": plan.rule_based["planned"].reindex(a.index), "plan": a["planned"]}
    w = pd.DataFrame(cols)
    ax = _axes(ax, len(w), w.shape[1])
    _grouped_barh(ax, w, None, None)
    colors = {"today": "0.65", "rule-based": "#8da0cb", "plan": "#1b9e77"}
    for container, name in zip(ax.containers, w.columns):
        for patch in container:
            patch.set_color(colors[name])
    # annotate the change of each channel next to its plan bar
    xmax = float(np.nanmax(w.to_numpy()))
    for i, (c, row) in enumerate(a.iterrows()):
        pct = row["change_pct"]
        txt = f"{pct:+.0%}" if np.isfinite(pct) else "new"
        ax.text(row["planned"] + 0.01 * xmax, i + 0.4 - 0.8 / w.shape[1] / 2, txt,
                va="center", fontsize="small", color="#137a5c")
    ax.set_xlim(0, xmax * 1.12)
    ax.set_xlabel("Spend (currency, same period as the costs)")
    ax.set_ylabel("channel")
    t = plan.totals
    gain = t.loc["plan", plan.objective] / t.loc["today", plan.objective] - 1.0 if t.loc["today", plan.objective] else np.nan
    ax.set_title(
        f"Spend today ({t.loc['today', 'spend']:,.0f}) vs plan ({plan.total_budget:,.0f}): "
        f"expected {plan.objective} {gain:+.1%} under {plan.model}"
    )
    _legend(ax, w.shape[1], title="")
    return ax


def plot_response_curves(plan, *, ax=None):
    """Each channel's response curve, with today's spend (circle) and the plan (triangle).

    Parameters
    ----------
    plan : BudgetPlan
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    a = plan.allocation
    obj = plan.objective
    curves = plan._val_curves if obj == "value" else plan._conv_curves
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(9.0, max(4.5, 0.2 * len(a) + 2.0)), layout="constrained")
    top = float(max(a["planned"].max(), a["current"].max())) * 1.3
    s = np.linspace(0.0, top, 200)
    colors = _colors(len(a))
    ys = curves.value(s[:, None])  # (grid, channels)
    for i, c in enumerate(a.index):
        ax.plot(s, ys[:, i], color=colors[i], linewidth=1.5, label=str(c))
        cur = a.loc[c, "current"]
        pl = a.loc[c, "planned"]
        y_cur = a.loc[c, f"current_{obj}"]
        y_pl = a.loc[c, f"expected_{obj}"]
        ax.plot([cur], [y_cur], "o", color=colors[i], markersize=6)
        ax.plot([pl], [y_pl], "^", color=colors[i], markersize=7, markeredgecolor="k", markeredgewidth=0.5)
    ax.set_xlabel("Spend (currency, same period as the costs)")
    ax.set_ylabel(f"Expected attributed {obj}" + (" (currency)" if obj == "value" else ""))
    ax.set_title(f"Response curves ({plan.response}) under {plan.model}: ● today, ▲ plan")
    ax.grid(color="0.92")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    _legend(ax, len(a), title="channel")
    return ax


def plot_rank_agreement(agreement: pd.DataFrame, *, ax=None):
    """Heat map of the Spearman rank agreement between models (−1 to 1), the correlation written
    in each cell at a size that fits it (none when the cells are too small to read).

    Parameters
    ----------
    agreement : DataFrame
        Model × model correlations (:attr:`Comparison.rank_agreement`).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    n = len(agreement)
    if ax is None:
        side = max(3.5, 0.6 * n + 2.0)
        _, ax = plt.subplots(figsize=(side + 1.0, side), layout="constrained")
    m = agreement.to_numpy(dtype=float)
    im = ax.imshow(m, vmin=-1, vmax=1, cmap="RdBu")
    ax.set_xticks(range(n))
    ax.set_xticklabels([str(c) for c in agreement.columns], rotation=45, ha="right")
    ax.set_yticks(range(n))
    ax.set_yticklabels([str(c) for c in agreement.index])
    ax.figure.colorbar(im, ax=ax, label="Spearman ρ of channel credits")
    ax.set_title("Rank agreement between models")
    from .journeys import cell_fontsize

    size = cell_fontsize(ax, n, n, chars=5)  # "-0.27"; no numbers when the cells are too small
    if size is not None:
        for i in range(n):
            for j in range(n):
                if np.isfinite(m[i, j]):
                    ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=size,
                            color="white" if abs(m[i, j]) > 0.6 else "black")
    return ax


_GRADE_COLORS = {"A": "#1a9850", "B": "#91cf60", "C": "#fc8d59", "D": "#d73027"}


def plot_validity(result, *, ax=None):
    """Validity scorecard: each channel's incremental credit with its interval, coloured by grade,
    and the AIPW cross-check as a hollow marker.

    Parameters
    ----------
    result : ValidityResult
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from scipy import stats

    t = result.table
    n = len(t)
    ax = _axes(ax, n, 1, width=8.5)
    y = np.arange(n)
    z = stats.norm.ppf(0.5 + result.level / 2)
    est = t["estimate"].to_numpy(dtype=float)
    se = t["se"].to_numpy(dtype=float)
    colors = [_GRADE_COLORS.get(g, "0.5") for g in t["grade"]]
    ax.barh(y, np.nan_to_num(est), height=0.6, color=colors, alpha=0.85)
    ok = np.isfinite(se)
    if ok.any():
        ax.errorbar(est[ok], y[ok], xerr=z * se[ok], fmt="none", ecolor="0.2", elinewidth=0.9, capsize=2)
    # the cross-check that graded the agreement: the refit at doubled half-lives for the hazard
    # model, the AIPW estimate otherwise
    by_decay = getattr(result, "unit", None) == "time" and "decay_refit" in t.columns
    cross = t["decay_refit"] if by_decay else t["aipw"]
    ax.plot(cross.to_numpy(dtype=float), y, "o", mfc="none", mec="0.1", ms=6)
    ax.axvline(0, color="0.3", linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{c}  [{g}]" for c, g in zip(t["channel"], t["grade"])])
    ax.set_ylim(n - 0.5, -0.5)
    ax.grid(axis="x", color="0.9")
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    word = "Incremental" if result.estimand == "incremental" else "Attributed"
    whisk = f" (whiskers: {result.level:.0%} interval)" if ok.any() else " (the model gives no interval)"
    ax.set_xlabel(f"{word} conversions per channel{whisk}")
    ax.set_ylabel("channel  [grade]")
    ax.set_title(f"Validity scorecard of {result.model}: grade A (trusted) to D (not trusted)")
    handles = [Patch(color=c, label=f"grade {g}") for g, c in _GRADE_COLORS.items()]
    handles.append(Line2D([], [], marker="o", mfc="none", mec="0.1", ls="none",
                          label="half-lives doubled" if by_decay else "AIPW cross-check"))
    ax.legend(handles=handles, fontsize="small", frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax
