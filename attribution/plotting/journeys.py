"""Pictures of journeys: the channel-path graph, Sankey-style flows, the transition heatmap, and
the charts of the journey-KPI report (:func:`attribution.journey_kpis.kpis`).

Contract (as everywhere in :mod:`attribution.plotting`): matplotlib is imported inside each
function, ``ax=None`` creates a figure (constrained layout) only when no Axes is given, and the
function returns the ``Axes``. Figures stay legible with 20 channels: sizes grow with the number
of channels, long labels are shortened, and channel colours are the same in every picture.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "channel_colors",
    "plot_channel_metric",
    "plot_drop_off",
    "plot_drop_off_steps",
    "plot_flows",
    "plot_funnel",
    "plot_graph",
    "plot_lengths",
    "plot_positions",
    "plot_top_paths",
    "plot_transition_heatmap",
]

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
CONVERSION_COLOR = "#1a9850"
NULL_COLOR = "#7f7f7f"
START_COLOR = "#4d4d4d"
# conversion places: greens and teals, far from the grey of "no conversion"
PLACE_COLORS = ("#1a9850", "#00796b", "#66bd63", "#004d40", "#a6d96a", "#26a69a")


# ---------------------------------------------------------------------------- helpers
def _axes(ax, figsize):
    """The given Axes, or a new figure's Axes (constrained layout) when ``ax`` is None."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def channel_colors(names) -> dict:
    """A colour per channel, stable for a given channel list.

    Up to 20 channels get distinct colours without grey and green (reserved for "no conversion"
    and conversions): tab10's eight other hues, their light tab20 variants, then four dark tab20b
    hues; beyond 20, evenly spaced hues of the ``turbo`` colour map.
    """
    import matplotlib as mpl

    names = list(names)
    n = len(names)
    if n <= 20:
        tab10 = mpl.colormaps["tab10"].colors
        tab20 = mpl.colormaps["tab20"].colors
        tab20b = mpl.colormaps["tab20b"].colors
        hues = (0, 1, 3, 4, 5, 6, 8, 9)  # tab10 without green (2) and grey (7)
        palette = [tab10[i] for i in hues] + [tab20[2 * i + 1] for i in hues] + [tab20b[i] for i in (0, 8, 12, 16)]
        colors = palette[:n]
    else:
        colors = [mpl.colormaps["turbo"](x) for x in np.linspace(0.05, 0.95, n)]
    return dict(zip(names, colors))


def _short(text: str, width: int = 48) -> str:
    """Shorten a long label in the middle (keeps both ends of a path)."""
    text = str(text)
    if len(text) <= width:
        return text
    keep = (width - 1) // 2
    return text[:keep] + "…" + text[-(width - 1 - keep):]


def _state_label(state) -> str:
    if isinstance(state, tuple):
        return " > ".join(map(str, state))
    return str(state)


def _percent_axis(axis):
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))


def _no_data(ax, message: str):
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, wrap=True, color="0.3")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


_METRIC_LABELS = {
    "touches": ("Touches per channel", "touches (weighted count)", False),
    "share_of_touches": ("Share of all touches", "share of touches", True),
    "reach": ("Reach per channel", "distinct customers touched", False),
    "reach_share": ("Reach per channel", "share of all customers touched", True),
    "journeys": ("Journeys containing each channel", "journeys (weighted count)", False),
    "share_of_journeys": ("Journeys containing each channel", "share of all journeys", True),
    "journey_conversions": ("Conversions of journeys containing each channel", "conversions", False),
    "conversion_rate": ("Conversion rate of journeys containing each channel", "conversion rate", True),
    "share_first": ("Share of the channel's touches that open a journey", "share of touches", True),
    "share_middle": ("Share of the channel's touches in the middle of a journey", "share of touches", True),
    "share_last": ("Share of the channel's touches that close a journey", "share of touches", True),
    "share_only": ("Share of the channel's touches that are a whole 1-touch journey", "share of touches", True),
    "mean_position": ("Mean position of each channel's touches", "mean position (1 = first touch)", False),
    "mean_relative_position": (
        "Mean relative position of each channel's touches", "relative position (0 = first, 1 = last touch)", False,
    ),
}


def _barh_height(n: int) -> float:
    return max(3.0, 0.36 * n + 1.4)


# ---------------------------------------------------------------------------- KPI charts
def plot_channel_metric(by_channel: pd.DataFrame, metric: str = "journeys", ax=None):
    """Horizontal bars of one per-channel KPI, largest on top.

    Parameters
    ----------
    by_channel : DataFrame
        :attr:`attribution.journey_kpis.JourneyKPIs.by_channel`.
    metric : str, default "journeys"
        A column of ``by_channel``.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    if metric not in by_channel.columns:
        raise ValueError(
            f"The 'metric' parameter of plot_channels must be a column of by_channel. Got {metric!r}; "
            f"choose from {list(by_channel.columns)}."
        )
    title, xlabel, is_share = _METRIC_LABELS.get(metric, (metric, metric, False))
    values = by_channel[metric].astype(float)
    ax = _axes(ax, (8, _barh_height(len(values))))
    if values.notna().sum() == 0:
        why = " (the journeys carry no customer ids)" if metric.startswith("reach") else ""
        ax.set_title(title)
        return _no_data(ax, f"{metric} is not available{why}.")
    values = values.sort_values(ascending=True, na_position="first")
    colors = channel_colors(by_channel.index)
    y = np.arange(len(values))
    ax.barh(y, values.fillna(0).to_numpy(), color=[colors[c] for c in values.index], height=0.7)
    ax.set_yticks(y, [_short(c, 32) for c in values.index])
    ax.set_ylim(-0.6, len(values) - 0.4)
    for yi, v in zip(y, values.to_numpy()):
        if np.isfinite(v):
            ax.annotate(f"{v:.0%}" if is_share else f"{v:,.3g}" if abs(v) < 100 else f"{v:,.0f}",
                        (v, yi), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    if is_share:
        _percent_axis(ax.xaxis)
    ax.margins(x=0.12)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("channel")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    return ax


def plot_positions(by_channel: pd.DataFrame, ax=None):
    """Stacked bars: each channel's touches split into first / middle / last / only.

    Channels are sorted from early (top) to late (bottom) by their mean relative position.

    Parameters
    ----------
    by_channel : DataFrame
        :attr:`attribution.journey_kpis.JourneyKPIs.by_channel`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is created when None.

    Returns
    -------
    matplotlib.axes.Axes
    """
    cols = ["share_first", "share_middle", "share_last", "share_only"]
    names = ["first touch", "middle touch", "last touch", "only touch (1-touch journey)"]
    palette = ["#2166ac", "#d1e5f0", "#d6604d", "#8073ac"]
    df = by_channel[cols].astype(float)
    order = by_channel["mean_relative_position"].astype(float).fillna(by_channel["mean_position"]).fillna(0)
    df = df.loc[order.sort_values(ascending=False, kind="stable").index]
    ax = _axes(ax, (9, _barh_height(len(df)) + 0.5))
    y = np.arange(len(df))
    left = np.zeros(len(df))
    for col, name, color in zip(cols, names, palette):
        v = df[col].fillna(0).to_numpy()
        ax.barh(y, v, left=left, color=color, label=name, height=0.75, edgecolor="white", linewidth=0.5)
        for yi, (l0, vi) in enumerate(zip(left, v)):
            if vi >= 0.07:
                ax.text(l0 + vi / 2, yi, f"{vi:.0%}", ha="center", va="center", fontsize=8,
                        color="black" if color == "#d1e5f0" else "white")
        left += v
    ax.set_yticks(y, [_short(c, 32) for c in df.index])
    ax.set_ylim(-0.6, len(df) - 0.4)
    ax.set_xlim(0, 1)
    _percent_axis(ax.xaxis)
    ax.set_xlabel("share of the channel's touches (weighted)")
    ax.set_ylabel("channel (early in journeys at the top)")
    ax.set_title("Where each channel appears in the journey")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=4, frameon=False, fontsize=8)
    return ax


def plot_lengths(touches_distribution: pd.DataFrame, max_touches: int = 15, ax=None):
    """Converting and non-converting journeys by number of touches, with the conversion rate.

    Journeys with ``max_touches`` or more touches are pooled into one bar. The conversion rate
    (right axis) is drawn on a twin Axes; the main Axes is returned.

    Parameters
    ----------
    touches_distribution : DataFrame
        :attr:`attribution.journey_kpis.JourneyKPIs.touches_distribution`.
    max_touches : int, default 15
        Journeys with this many touches or more share the last bar.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is created when None.

    Returns
    -------
    matplotlib.axes.Axes
    """
    d = touches_distribution
    ax = _axes(ax, (9, 4.5))
    if d.empty:
        ax.set_title("Journeys by number of touches")
        return _no_data(ax, "No journeys.")
    k = d.index.to_numpy()
    bucket = np.minimum(k, max_touches)
    conv = np.bincount(bucket, weights=d["conversions"].to_numpy(), minlength=max_touches + 1)
    null = np.bincount(bucket, weights=d["non_converting"].to_numpy(), minlength=max_touches + 1)
    x = np.arange(max_touches + 1)
    keep = (conv + null) > 0
    x, conv, null = x[keep], conv[keep], null[keep]
    labels = [f"{v}+" if v == max_touches and k.max() > max_touches else str(v) for v in x]
    ax.bar(x, null, color=NULL_COLOR, alpha=0.75, label="non-converting journeys")
    ax.bar(x, conv, bottom=null, color=CONVERSION_COLOR, label="converting journeys")
    ax.set_xticks(x, labels)
    ax.set_xlabel("touches in the journey")
    ax.set_ylabel("journeys (weighted count)")
    ax.set_title("Journeys by number of touches, and their conversion rate")
    ax2 = ax.twinx()
    rate = conv / (conv + null)
    ax2.plot(x, rate, color="black", marker="o", lw=1.5, ms=4, label="conversion rate (right axis)")
    ax2.set_ylim(0, max(1e-9, float(np.nanmax(rate))) * 1.15)
    _percent_axis(ax2.yaxis)
    ax2.set_ylabel("conversion rate")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper right", fontsize=8, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    return ax


def plot_top_paths(top_paths: pd.DataFrame, ax=None):
    """The most frequent paths as bars split into converting / non-converting journeys.

    Parameters
    ----------
    top_paths : DataFrame
        :attr:`attribution.journey_kpis.JourneyKPIs.top_paths`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is created when None.

    Returns
    -------
    matplotlib.axes.Axes
    """
    df = top_paths.iloc[::-1]
    ax = _axes(ax, (10, _barh_height(len(df))))
    if df.empty:
        ax.set_title("Most frequent paths")
        return _no_data(ax, "No paths.")
    y = np.arange(len(df))
    null = df["non_converting"].to_numpy(float)
    conv = df["conversions"].to_numpy(float)
    ax.barh(y, null, color=NULL_COLOR, alpha=0.75, label="non-converting", height=0.7)
    ax.barh(y, conv, left=null, color=CONVERSION_COLOR, label="converting", height=0.7)
    for yi, tot, rate in zip(y, null + conv, df["conversion_rate"].to_numpy(float)):
        ax.annotate(f"{rate:.0%} convert" if np.isfinite(rate) else "", (tot, yi), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=8)
    ax.set_yticks(y, [_short(p, 56) for p in df.index])
    ax.set_ylim(-0.6, len(df) - 0.4)
    ax.margins(x=0.15)
    ax.set_xlabel("journeys following the path (weighted count)")
    ax.set_title(f"The {len(df)} most frequent paths")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    return ax


def plot_drop_off(drop_off: pd.DataFrame, ax=None):
    """Non-converting journeys by their last channel, annotated with the drop-off rate.

    Parameters
    ----------
    drop_off : DataFrame
        :attr:`attribution.journey_kpis.JourneyKPIs.drop_off`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is created when None.

    Returns
    -------
    matplotlib.axes.Axes
    """
    df = drop_off.iloc[::-1]
    ax = _axes(ax, (9, _barh_height(len(df))))
    ax.set_title("Drop-off points: last touch of non-converting journeys")
    if df.empty or float(df["non_converting"].sum()) == 0:
        return _no_data(ax, "No non-converting journeys.")
    colors = channel_colors([c for c in drop_off.index if c != "(no touch)"])
    y = np.arange(len(df))
    v = df["non_converting"].to_numpy(float)
    ax.barh(y, v, color=[colors.get(c, NULL_COLOR) for c in df.index], height=0.7)
    for yi, vi, share, rate in zip(y, v, df["share"].to_numpy(float), df["drop_off_rate"].to_numpy(float)):
        text = f"{share:.0%} of drop-offs" + (f" · {rate:.0%} of journeys ending here" if np.isfinite(rate) else "")
        ax.annotate(text, (vi, yi), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_yticks(y, [_short(c, 32) for c in df.index])
    ax.set_ylim(-0.6, len(df) - 0.4)
    ax.margins(x=0.45)
    ax.set_xlim(left=0)
    ax.set_xlabel("non-converting journeys ending after this channel (weighted count)")
    ax.set_ylabel("last channel")
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    return ax


def plot_drop_off_steps(drop_off_steps: pd.DataFrame, max_steps: int = 15, ax=None):
    """The moments of silence: after each touch, the share of journeys that convert there, go
    silent there, or continue (steps from ``max_steps`` on are pooled).

    Parameters
    ----------
    drop_off_steps : DataFrame
        :attr:`attribution.journey_kpis.JourneyKPIs.drop_off_steps`.
    max_steps : int, default 15
        Steps from this one on share the last bar.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is created when None.

    Returns
    -------
    matplotlib.axes.Axes
    """
    d = drop_off_steps
    ax = _axes(ax, (9, 4.5))
    ax.set_title("After the k-th touch: converted, went silent, or continued")
    if d.empty or float(d["reached"].iloc[0]) == 0:
        return _no_data(ax, "No journeys with touches.")
    k = d.index.to_numpy()
    head = k < max_steps
    reached = np.r_[d["reached"].to_numpy(float)[head], d["reached"].to_numpy(float)[~head][:1]]
    conv = np.r_[d["converted"].to_numpy(float)[head], d["converted"].to_numpy(float)[~head].sum()]
    drop = np.r_[d["dropped"].to_numpy(float)[head], d["dropped"].to_numpy(float)[~head].sum()]
    labels = [str(v) for v in k[head]] + ([f"{max_steps}+"] if (~head).any() else [])
    n = len(labels)
    reached, conv, drop = reached[:n], conv[:n], drop[:n]
    with np.errstate(invalid="ignore", divide="ignore"):
        p_drop = np.where(reached > 0, drop / reached, 0.0)
        p_conv = np.where(reached > 0, conv / reached, 0.0)
    x = np.arange(n)
    ax.bar(x, p_drop, color=NULL_COLOR, alpha=0.85, label="went silent (no conversion) after this touch")
    ax.bar(x, p_conv, bottom=p_drop, color=CONVERSION_COLOR, label="converted after this touch")
    ax.bar(x, 1 - p_drop - p_conv, bottom=p_drop + p_conv, color="#deebf7", label="continued to another touch")
    for xi, r in zip(x, reached):
        ax.text(xi, 1.01, f"{r:,.0f}", ha="center", va="bottom", fontsize=7, rotation=90 if n > 12 else 0)
    ax.set_xticks(x, labels)
    ax.set_ylim(0, 1.12 if n <= 12 else 1.2)
    _percent_axis(ax.yaxis)
    ax.set_xlabel("touch number k (numbers above bars: journeys reaching it, weighted)")
    ax.set_ylabel("share of journeys reaching touch k")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=8, frameon=False)
    return ax


def plot_funnel(funnel: pd.DataFrame, ax=None):
    """The funnel by stage: centred bars of journeys reaching each stage, with the drop between
    stages and the conversion rate of journeys reaching each stage.

    Parameters
    ----------
    funnel : DataFrame
        :attr:`attribution.journey_kpis.JourneyKPIs.funnel`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is created when None.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax, (9, max(3.0, 0.9 * len(funnel) + 1.2)))
    ax.set_title("Funnel: journeys reaching each stage (deepest stage touched)")
    if funnel.empty:
        return _no_data(ax, "No stages.")
    reached = funnel["reached"].to_numpy(float)
    top = max(float(reached.max()), 1e-12)
    y = np.arange(len(funnel))[::-1]
    cmap_colors = ["#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef", "#deebf7"]
    for i, (stage, yi, r) in enumerate(zip(funnel.index, y, reached)):
        color = cmap_colors[min(i, len(cmap_colors) - 1)]
        ax.barh(yi, r, left=(top - r) / 2, color=color, height=0.8)
        share = funnel["share_of_journeys"].iloc[i]
        rate = funnel["conversion_rate"].iloc[i]
        ax.text(top / 2, yi + 0.08, f"{_short(stage, 28)}: {r:,.0f} journeys ({share:.0%})",
                ha="center", va="center", fontsize=9, color="white" if i < 3 else "black", fontweight="bold")
        ax.text(top / 2, yi - 0.22, f"conversion rate {rate:.1%}" if np.isfinite(rate) else "",
                ha="center", va="center", fontsize=8, color="white" if i < 3 else "black")
        drop = funnel["drop_from_previous"].iloc[i]
        if i > 0 and np.isfinite(drop):
            ax.annotate(f"−{drop:.0%}", (top * 1.02, yi + 0.5), ha="left", va="center", fontsize=9, color="#b2182b")
    ax.set_xlim(0, top * 1.12)
    ax.set_ylim(-0.6, len(funnel) - 0.4)
    ax.set_yticks([])
    ax.set_xlabel("journeys (weighted count); red: drop from the stage above")
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    return ax


# ---------------------------------------------------------------------------- graph
def _top_states(tc, max_states):
    """Node numbers of the channel states kept (highest traffic first) and the total number."""
    S = tc.n_states
    inflow = np.bincount(tc.dst, weights=tc.count, minlength=tc.n_nodes)[1 : S + 1]
    order = np.argsort(-inflow, kind="stable")
    if max_states is not None:
        order = order[: int(max_states)]
    return order + 1, S


def plot_graph(journeys, order: int = 1, min_probability: float = 0.05, max_states: int | None = 30,
               ax=None):
    """The channel-path graph: ``(start)`` on the left, channel states in the middle,
    ``(conversion)`` and ``(null)`` on the right.

    Edges are the transitions of :meth:`Journeys.transition_counts` with probability at least
    ``min_probability``; their width is proportional to traffic (weighted journeys taking the
    edge), edges into ``(conversion)`` are green and into ``(null)`` grey, edges out of
    ``(start)`` take the colour of the channel they enter and the others the colour of their
    source channel. Node area grows with the journeys passing through. Channel states are laid
    out on an ellipse, early-in-journey states (much traffic from ``(start)``, little into the
    absorbing states) on the left. Repeats of the same state (self-loops) are not drawn as
    edges: their probability is written in the state's label, e.g. ``display ↻40%``.

    Parameters
    ----------
    journeys : Journeys
    order : int, default 1
        Markov order of the states (a state is a window of ``order`` touches).
    min_probability : float, default 0.05
        Edges with a smaller transition probability are not drawn.
    max_states : int or None, default 30
        Draw only the states with the most traffic (None: all).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from attribution import Journeys
    >>> from attribution.plotting.journeys import plot_graph
    >>> j = Journeys.from_paths(pd.DataFrame({"path": ["a > b", "b > c", "a"],
    ...     "total_conversions": [3, 1, 0], "total_null": [1, 3, 2]}))
    >>> ax = plot_graph(j, min_probability=0.1)
    >>> sorted(t.get_text() for t in ax.texts)
    ['(conversion)', '(null)', '(start)', 'a', 'b', 'c']
    """
    import networkx as nx
    from matplotlib.lines import Line2D

    if not 0 <= float(min_probability) <= 1:
        raise ValueError(
            f"The 'min_probability' parameter of plot_graph must be in [0, 1]. Got {min_probability!r} instead."
        )
    tc = journeys.transition_counts(order)
    kept, S = _top_states(tc, max_states)
    n_kept = len(kept)
    ax = _axes(ax, (12, 7.5 if n_kept <= 12 else 10.5))
    labels = tc.labels
    start, conv_node, null_node = 0, S + 1, S + 2
    keep_node = np.zeros(tc.n_nodes, dtype=bool)
    keep_node[[start, conv_node, null_node]] = True
    keep_node[kept] = True
    prob = tc.probability()
    e = keep_node[tc.src] & keep_node[tc.dst] & (prob >= min_probability) & (tc.src != tc.dst)

    # layout: order states by how late they sit in journeys (share of their traffic that starts
    # there vs ends there), then place them left to right on an ellipse, alternating top / bottom
    out_tot = np.bincount(tc.src, weights=tc.count, minlength=tc.n_nodes)
    in_tot = np.bincount(tc.dst, weights=tc.count, minlength=tc.n_nodes)
    from_start = np.bincount(tc.dst[tc.src == start], weights=tc.count[tc.src == start], minlength=tc.n_nodes)
    absorbed = np.bincount(tc.src[tc.dst >= conv_node], weights=tc.count[tc.dst >= conv_node], minlength=tc.n_nodes)
    with np.errstate(invalid="ignore", divide="ignore"):
        lateness = np.nan_to_num(absorbed / out_tot) - np.nan_to_num(from_start / in_tot)
    ranked = kept[np.argsort(lateness[kept], kind="stable")]
    pos, phi = {}, {}
    rx, ry = 1.25, 1.0
    for r, node in enumerate(ranked.tolist()):
        theta = np.pi * (r + 0.5) / max(n_kept, 1)
        sign = 1 if r % 2 == 0 else -1
        if n_kept <= 2:
            theta = np.pi / 2
        pos[labels[node]] = (-rx * np.cos(theta), sign * ry * np.sin(theta))
        phi[labels[node]] = np.arctan2(sign * np.sin(theta), -np.cos(theta))  # angle on the ellipse
    pos[START] = (-2.1, 0.0)
    pos[CONVERSION] = (2.1, 0.5)
    pos[NULL] = (2.1, -0.5)

    g = nx.DiGraph()
    node_names = [labels[i] for i in np.flatnonzero(keep_node)]
    g.add_nodes_from(node_names)
    src, dst, cnt = tc.src[e], tc.dst[e], tc.count[e]
    g.add_edges_from((labels[s], labels[d]) for s, d in zip(src.tolist(), dst.tolist()))

    # all states (so a channel keeps its colour across pictures), or the drawn ones beyond 20
    colors = channel_colors([_state_label(labels[i]) for i in (range(1, S + 1) if S <= 20 else kept)])

    def node_color(i):
        if i == start:
            return START_COLOR
        if i == conv_node:
            return CONVERSION_COLOR
        if i == null_node:
            return NULL_COLOR
        return colors.get(_state_label(labels[i]), "#999999")

    traffic = np.maximum(in_tot, out_tot)
    tmax = max(float(traffic[kept].max()) if n_kept else 1.0, 1e-12)
    nodes_idx = np.flatnonzero(keep_node)
    big = 1400.0 * min(1.0, 12.0 / max(n_kept, 1))
    sizes = np.where(
        np.isin(nodes_idx, [start, conv_node, null_node]), 900.0, 150 + big * np.sqrt(traffic[nodes_idx] / tmax)
    )
    size_of = dict(zip([labels[i] for i in nodes_idx], sizes))
    # edges: width by traffic; draw thin ones first
    cmax = max(float(cnt.max()) if len(cnt) else 1.0, 1e-12)
    widths = 0.4 + 9.0 * cnt / cmax
    # into (conversion): green; into (null): grey; out of (start): the colour of the first channel;
    # between channels: the colour of the source
    ecolors = [CONVERSION_COLOR if d == conv_node else NULL_COLOR if d == null_node
               else node_color(d) if s == start else node_color(s)
               for s, d in zip(src.tolist(), dst.tolist())]
    by_width = np.argsort(widths, kind="stable")
    edgelist = [(labels[src[i]], labels[dst[i]]) for i in by_width]
    nx.draw_networkx_edges(
        g, pos, edgelist=edgelist, width=widths[by_width].tolist(),
        edge_color=[ecolors[i] for i in by_width], alpha=0.55, arrows=True, arrowsize=9,
        connectionstyle="arc3,rad=0.12", node_size=[size_of[u] for u in g.nodes], ax=ax,
        min_source_margin=6, min_target_margin=10,
    )
    nx.draw_networkx_nodes(
        g, pos, nodelist=[labels[i] for i in nodes_idx], node_size=sizes.tolist(),
        node_color=[node_color(i) for i in nodes_idx], edgecolors="white", linewidths=1.5, ax=ax,
    )
    # self-loops are not drawn: their probability goes into the label
    loop = (tc.src == tc.dst) & keep_node[tc.src]
    repeat = {labels[i]: p for i, p in zip(tc.src[loop].tolist(), prob[loop].tolist())}
    # labels: channels outside the ellipse (radial text when crowded), special states beside them
    radial = n_kept > 12
    for name, (x, y) in pos.items():
        if name in (START, CONVERSION, NULL):
            ha = "right" if name == START else "left"
            dx = -0.14 if name == START else 0.14
            ax.text(x + dx, y, name, ha=ha, va="center", fontsize=10, fontweight="bold")
            continue
        ux, uy = np.cos(phi[name]), np.sin(phi[name])
        text = _short(_state_label(name), 26)
        if repeat.get(name, 0.0) >= max(min_probability, 0.005):
            text += f" ↻{repeat[name]:.0%}"
        box = dict(boxstyle="round,pad=0.12", fc="white", ec="none", alpha=0.8)
        if radial:
            angle = np.degrees(phi[name])
            if ux < 0:
                angle -= 180
            ax.text(x + 0.1 * ux, y + 0.1 * uy, text, rotation=angle, rotation_mode="anchor",
                    ha="left" if ux >= 0 else "right", va="center", fontsize=8.5, bbox=box)
        else:
            ax.text(x + 0.13 * ux, y + 0.11 * uy, text,
                    ha="left" if ux > 0.25 else "right" if ux < -0.25 else "center",
                    va="bottom" if uy > 0 else "top", fontsize=9, bbox=box)
    ax.set_xlim(-2.7, 2.8)
    ax.set_ylim(*((-2.05, 2.05) if radial else (-1.35, 1.35)))
    ax.axis("off")
    shown = f"top {n_kept} of {S} states by traffic, " if n_kept < S else ""
    ax.set_title(
        f"Channel-path graph (order {order}): {shown}edges with transition probability ≥ {min_probability:.0%}; "
        "width ∝ journeys taking the edge",
        fontsize=10,
    )
    handles = [
        Line2D([], [], color=CONVERSION_COLOR, lw=3, label="into (conversion)"),
        Line2D([], [], color=NULL_COLOR, lw=3, label="into (null): no conversion"),
        Line2D([], [], color="#1f77b4", lw=3, label="from (start) or a channel (colour of the channel)"),
        Line2D([], [], color="black", lw=0.4 + 9.0, alpha=0.4, label=f"{cmax:,.0f} journeys"),
        Line2D([], [], color="black", lw=0.4 + 9.0 * 0.25, alpha=0.4, label=f"{cmax / 4:,.0f} journeys"),
        Line2D([], [], color="none", label="↻ n%: the state repeats (loop not drawn)"),
    ]
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, -0.08), ncol=3, fontsize=8, frameon=False)
    return ax


# ---------------------------------------------------------------------------- heatmap
def plot_transition_heatmap(journeys, order: int = 1, max_states: int | None = 30, annotate: bool | None = None,
                            ax=None):
    """Transition probabilities between states as a heatmap with a colour bar.

    Rows are the states a transition leaves (``(start)`` and the channel states), columns the
    states it enters (channel states, ``(conversion)``, ``(null)``); each full row sums to 1.
    The diagonal holds repeats of the same state.

    Parameters
    ----------
    journeys : Journeys
    order : int, default 1
    max_states : int or None, default 30
        Show only the channel states with the most traffic (None: all); rows then sum to less
        than 1 and the title says how many states are shown.
    annotate : bool, optional
        Write the probability in each cell (default: when at most 16 states are shown).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from attribution import Journeys
    >>> from attribution.plotting.journeys import plot_transition_heatmap
    >>> j = Journeys.from_paths(pd.DataFrame({"path": ["a > b", "b > c", "a"],
    ...     "total_conversions": [3, 1, 0], "total_null": [1, 3, 2]}))
    >>> ax = plot_transition_heatmap(j)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['(start)', 'a', 'b', 'c']
    """
    tc = journeys.transition_counts(order)
    kept, S = _top_states(tc, max_states)
    kept = np.sort(kept)
    labels = tc.labels
    rows = np.r_[0, kept]
    cols = np.r_[kept, S + 1, S + 2]
    prob = tc.probability()
    full = np.zeros((tc.n_nodes, tc.n_nodes))
    np.add.at(full, (tc.src, tc.dst), prob)
    m = full[np.ix_(rows, cols)]
    n = len(kept)
    size = max(6.0, 0.42 * (n + 2) + 3)
    ax = _axes(ax, (size + 1.2, size))
    vmax = float(m.max()) if m.size and m.max() > 0 else 1.0
    im = ax.imshow(m, cmap="Blues", vmin=0, vmax=vmax, aspect="auto")
    fig = ax.figure
    cbar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02)
    cbar.set_label("transition probability (row → column)")
    row_labels = [_short(_state_label(labels[i]), 28) for i in rows]
    col_labels = [_short(_state_label(labels[i]), 28) for i in cols]
    ax.set_xticks(np.arange(len(cols)), col_labels, rotation=60, ha="right", rotation_mode="anchor", fontsize=9)
    ax.set_yticks(np.arange(len(rows)), row_labels, fontsize=9)
    for tick in ax.get_xticklabels()[-2:]:
        tick.set_fontweight("bold")
    ax.get_yticklabels()[0].set_fontweight("bold")
    # separate the absorbing columns and the start row
    ax.axvline(n - 0.5, color="black", lw=1)
    ax.axhline(0.5, color="black", lw=1)
    if annotate is None:
        annotate = n <= 16
    if annotate:
        r, c = np.nonzero(m >= 0.005)
        for ri, ci in zip(r.tolist(), c.tolist()):
            v = m[ri, ci]
            ax.text(ci, ri, f"{v:.2f}"[1:] if v < 1 else "1", ha="center", va="center", fontsize=7,
                    color="white" if v > 0.6 * vmax else "black")
    ax.set_xlabel("to state")
    ax.set_ylabel("from state")
    shown = f", top {n} of {S} states by traffic" if n < S else ""
    ax.set_title(f"Transition probabilities (order {order}{shown})")
    return ax


# ---------------------------------------------------------------------------- flows
def _outcomes(journeys):
    """Outcome labels and, per journey row, the weight going to each outcome: (labels, W[J, K])."""
    J = journeys.n_journeys
    if journeys.has_place:
        places = journeys.places
        place = journeys.place
        labels = [f"conversion: {p}" for p in places]
        codes = pd.Categorical(place, categories=places).codes.astype(np.int64)
        unknown = (codes < 0) & (journeys.conversions > 0)
        if unknown.any():
            labels.append("conversion: unknown place")
            codes = np.where(unknown, len(labels) - 1, codes)
        K = len(labels) + 1
        W = np.zeros((J, K))
        has = codes >= 0
        W[np.flatnonzero(has), codes[has]] = journeys.conversions[has]
    else:
        labels = ["conversion"]
        K = 2
        W = np.zeros((J, K))
        W[:, 0] = journeys.conversions
    W[:, -1] = journeys.nulls
    return labels + ["no conversion"], W


def _band_polygons(x0, x1, y0a, y0b, y1a, y1b, n=24):
    """Vertices of bands from [y0a, y0b] at x0 to [y1a, y1b] at x1 (smoothstep curves)."""
    t = np.linspace(0, 1, n)
    s = t * t * (3 - 2 * t)
    xs = x0 + (x1 - x0) * t
    top = y0a[:, None] + (y1a - y0a)[:, None] * s
    bot = y0b[:, None] + (y1b - y0b)[:, None] * s
    xs_all = np.broadcast_to(xs, top.shape)
    upper = np.stack([xs_all, top], axis=-1)
    lower = np.stack([xs_all[:, ::-1], bot[:, ::-1]], axis=-1)
    return np.concatenate([upper, lower], axis=1)


def plot_flows(journeys, steps: int = 4, min_label_share: float = 0.025, ax=None):
    """A Sankey-style flow of journeys across their first ``steps`` touches.

    Column ``k`` (``k = 1..steps``) stacks the journeys by the channel of their ``k``-th touch;
    bands (coloured by the channel they leave) carry the journeys to the channel of their next
    touch. Journeys that end after touch ``k`` flow into outcome nodes in the next column:
    conversion by place (when conversions carry a place) or no conversion. After column
    ``steps`` every remaining journey flows to its outcome (after any further touches). Heights
    are weighted journey counts (``conversions + nulls``), on one scale for the whole figure.
    Journeys without touches are not drawn.

    Parameters
    ----------
    journeys : Journeys
    steps : int, default 4
        Number of touch columns.
    min_label_share : float, default 0.025
        Nodes smaller than this share of all journeys are not labelled (colours: see legend).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from attribution import Journeys
    >>> from attribution.plotting.journeys import plot_flows
    >>> j = Journeys.from_paths(pd.DataFrame({"path": ["a > b", "b > c", "a"],
    ...     "total_conversions": [3, 1, 0], "total_null": [1, 3, 2]}))
    >>> ax = plot_flows(j, steps=2)
    >>> [t.get_text() for t in ax.get_xticklabels()][0]
    'touch 1'
    """
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"The 'steps' parameter of plot_flows must be a positive integer. Got {steps!r} instead.")
    C = journeys.n_channels
    out_labels, W = _outcomes(journeys)
    K = len(out_labels)
    w = journeys.conversions + journeys.nulls
    L = journeys.lengths
    tc = journeys.touch_channel.astype(np.int64)
    colors = channel_colors(journeys.channels)
    ch_colors = [colors[c] for c in journeys.channels]
    place_cols = list(PLACE_COLORS[: K - 1]) if K - 1 <= len(PLACE_COLORS) else [CONVERSION_COLOR] * (K - 1)
    out_colors = place_cols + [NULL_COLOR]

    ax = _axes(ax, (13, max(6.5, 0.28 * C + 4.5)))
    total = float(w[L > 0].sum())
    if total <= 0:
        ax.set_title("Journey flows")
        return _no_data(ax, "No journeys with touches.")

    # node weights: column k (touch k + 1) has C channel nodes, then K outcome nodes holding the
    # journeys that ended after touch k (the last column: every journey with >= steps touches)
    starts = journeys.offsets[:-1]
    node_w = np.zeros((steps + 1, C + K))
    for k in range(steps):
        jk = np.flatnonzero(L > k)
        node_w[k, :C] = np.bincount(tc[starts[jk] + k], weights=w[jk], minlength=C)
        if k > 0:
            node_w[k, C:] = W[L == k].sum(axis=0)
    node_w[steps, C:] = W[L >= steps].sum(axis=0)

    # layout: channels ordered by total traffic, the same order in every column; outcomes below
    ch_order = np.argsort(-node_w[:, :C].sum(axis=0), kind="stable")
    order = np.r_[ch_order, C + np.arange(K)]
    gap = 0.012 * total
    heights = node_w[:, order]
    # space above every node but the column's first; three gaps above the first outcome node
    space = np.zeros_like(heights)
    for k in range(steps + 1):
        present = np.flatnonzero(heights[k] > 0)
        space[k, present[1:]] = gap
        outs = present[present >= C]
        if len(outs) and outs[0] != present[0]:
            space[k, outs[0]] = 3 * gap
    col_height = heights.sum(axis=1) + space.sum(axis=1)
    scale_h = col_height.max()
    # top y of every node, stacked downwards from the column's top (columns centred vertically)
    y_top = (scale_h + col_height[:, None]) / 2 - (np.cumsum(heights + space, axis=1) - heights)
    node_top = np.zeros_like(y_top)
    node_top[:, order] = y_top

    node_wd = 0.06
    xs = np.arange(steps + 1, dtype=float)
    polys, pcolors = [], []
    for k in range(steps):
        jk = np.flatnonzero(L > k)
        src = tc[starts[jk] + k]
        cont = L[jk] > k + 1 if k + 1 < steps else np.zeros(len(jk), dtype=bool)
        # continuing journeys: channel of touch k + 1 -> channel of touch k + 2
        keys = [src[cont] * (C + K) + tc[starts[jk[cont]] + k + 1]]
        wts = [w[jk[cont]]]
        # ending journeys: channel of touch k + 1 -> the outcome nodes of the next column
        end_rows = jk[~cont]
        for o in range(K):
            keys.append(src[~cont] * (C + K) + C + o)
            wts.append(W[end_rows, o])
        flow = np.bincount(np.concatenate(keys), weights=np.concatenate(wts), minlength=C * (C + K)).reshape(C, C + K)
        s_idx, d_idx = np.nonzero(flow > 0)
        if not len(s_idx):
            continue
        f = flow[s_idx, d_idx]
        # order bands at the source by destination position, at the destination by source position
        rank = np.empty(C + K, dtype=np.int64)
        rank[order] = np.arange(C + K)
        o_src = np.lexsort((rank[d_idx], rank[s_idx]))
        y0a = np.empty(len(f))
        y0a[o_src] = _stacked(node_top[k, s_idx[o_src]], f[o_src], s_idx[o_src])
        o_dst = np.lexsort((rank[s_idx], rank[d_idx]))
        y1a = np.empty(len(f))
        y1a[o_dst] = _stacked(node_top[k + 1, d_idx[o_dst]], f[o_dst], d_idx[o_dst])
        polys.append(_band_polygons(xs[k] + node_wd / 2, xs[k + 1] - node_wd / 2, y0a, y0a - f, y1a, y1a - f))
        pcolors += [ch_colors[s] for s in s_idx.tolist()]
    if polys:
        ax.add_collection(PolyCollection(np.concatenate(polys), facecolors=pcolors, alpha=0.35, edgecolors="none"))

    # nodes and labels
    for k in range(steps + 1):
        for node in order.tolist():
            h = node_w[k, node]
            if h <= 0:
                continue
            top_y = node_top[k, node]
            is_out = node >= C
            color = out_colors[node - C] if is_out else ch_colors[node]
            ax.add_patch(_rect(xs[k] - node_wd / 2, top_y - h, node_wd, h, color))
            if h / total >= min_label_share or (is_out and h / total >= min_label_share / 3):
                name = out_labels[node - C] if is_out else journeys.channels[node]
                ax.text(xs[k] + node_wd / 2 + 0.02, top_y - h / 2, f"{_short(name, 22)} ({h / total:.0%})",
                        ha="left", va="center", fontsize=8 if not is_out else 8.5,
                        fontweight="bold" if is_out else "normal",
                        bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="none", alpha=0.7))
    ax.set_xlim(-0.15, steps + 0.75)
    ax.set_ylim(-0.02 * scale_h, scale_h * 1.02)
    ax.set_xticks(xs, ["touch 1"] + [f"touch {k + 1}\n(or ended after {k})" for k in range(1, steps)]
                  + [f"outcome\n(after {steps}+ touches)"])
    ax.tick_params(axis="x", length=0)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("Outcome nodes (bold) in a column: journeys that ended after the previous touch, by outcome")
    ax.set_title(f"Journey flows over the first {steps} touches (band height ∝ journeys, {total:,.0f} in all)")
    handles = [Patch(color=ch_colors[c], label=_short(journeys.channels[c], 24)) for c in ch_order.tolist()]
    handles += [Patch(color=out_colors[o], label=out_labels[o]) for o in range(K)]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False,
              title="channel / outcome", title_fontsize=8)
    return ax


def _stacked(top, f, group):
    """Top y of consecutive bands stacked downwards within each group (rows sorted by group)."""
    cum = np.cumsum(f)
    start = np.r_[True, group[1:] != group[:-1]]
    base = np.maximum.accumulate(np.where(start, cum - f, 0.0))
    return top - (cum - f - base)


def _rect(x, y, w, h, color):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=color, edgecolor="white", linewidth=0.5)
