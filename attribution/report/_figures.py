"""The report's figures: one Agg canvas per figure (no pyplot state, mathtext off), label
shortening, the axis cut for outlying bars, and the list of figures a report draws."""

from __future__ import annotations

import io
from collections.abc import Callable

import pandas as pd


def _png(draw: Callable, figsize: tuple[float, float]) -> bytes:
    """Draw on a new Agg figure and return the PNG bytes (no pyplot, mathtext off)."""
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with mpl.rc_context({"text.parse_math": False, "font.size": 10}):
        fig = Figure(figsize=figsize, layout="constrained", dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        draw(ax)
        _truncate_labels(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, facecolor="white", metadata={"Software": None})
    return buf.getvalue()


#: Longest label drawn in a figure (longer names are cut with an ellipsis; tables keep them whole).
MAX_LABEL = 40
#: Most channels drawn in the credits figure; the rest are summed into one "(other N channels)" bar.
MAX_FIGURE_CHANNELS = 40


def _short(text: str, n: int = MAX_LABEL) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def _note_top(ax, shown: int, total: int) -> None:
    """Say in the title when a figure shows only the first ``shown`` of ``total`` channels."""
    if shown < total:
        ax.set_title((ax.get_title() + "\n" if ax.get_title() else "")
                     + f"(the first {shown} of {total:,} channels; the tables list all)", fontsize=9)


def _truncate_labels(fig) -> None:
    """Cut every tick label, legend entry and annotation of ``fig`` to :data:`MAX_LABEL` characters."""
    from matplotlib.ticker import FuncFormatter

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            fmt = axis.get_major_formatter()
            axis.set_major_formatter(FuncFormatter(lambda x, pos, f=fmt: _short(f(x, pos))))
        legend = ax.get_legend()
        texts = list(ax.texts) + (list(legend.get_texts()) if legend is not None else [])
        for t in texts:
            if len(t.get_text()) > MAX_LABEL:
                t.set_text(_short(t.get_text()))


def _cut_outliers(ax, ratio: float = 2.5) -> None:
    """When one channel's bars dwarf the others (an ROI of 150 beside ROIs of 2-10), cut the
    axis at 1.3 × the runner-up and print the cut bars' values at the edge."""
    from matplotlib.container import BarContainer

    bars = [p for c in ax.containers if isinstance(c, BarContainer) for p in c.patches]
    if not bars:
        return
    rows: dict[int, float] = {}
    for p in bars:
        row = round(p.get_y() + p.get_height() / 2)
        rows[row] = max(rows.get(row, 0.0), p.get_width())
    tops = sorted(rows.values(), reverse=True)
    if len(tops) < 2 or tops[1] <= 0 or tops[0] <= ratio * tops[1]:
        return
    cut = tops[1] * 1.3
    low = min(0.0, min(p.get_width() for p in bars))
    ax.set_xlim(low - 0.04 * (cut - low), cut)
    cut_rows: dict[int, list[float]] = {}
    for p in bars:
        if p.get_width() > cut:
            cut_rows.setdefault(round(p.get_y() + p.get_height() / 2), []).append(p.get_width())
    for row, ws in cut_rows.items():
        text = f"{min(ws):,.0f} to {max(ws):,.0f} ▸" if len(ws) > 1 and min(ws) != max(ws) else f"{max(ws):,.0f} ▸"
        ax.text(cut, row, text + " ", ha="right", va="center", fontsize=8, color="0.1",
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "0.6", "alpha": 0.9})
    ax.set_xlabel(ax.get_xlabel() + "\n(axis cut: the bars that run off it carry their values)")


def _bar_height(n_rows: int, n_bars: int = 1) -> float:
    # as attribution.plotting.decisions._axes
    return max(3.0, min(0.22 * n_rows * max(n_bars, 1) ** 0.5 + 1.6, 30.0))




class FigureSpecs:
    """Which figures a report draws, how and at what size (a part of :class:`~attribution.report.Report`)."""

    def _figure_specs(self) -> list[tuple[str, Callable, tuple[float, float]]]:
        from ..plotting import decisions, omnichannel
        from ..plotting import journeys as jplots

        specs = []
        if self.comparison is not None:
            order = self.channel_order
            credits = self.comparison.credits
            if self.truth is not None:
                t = self.truth.reindex(order).fillna(0.0)
                credits = pd.concat([credits, pd.DataFrame({"model": "truth", "channel": t.index, "conversions": t.to_numpy()})],
                                    ignore_index=True)
            if len(order) > MAX_FIGURE_CHANNELS:  # draw the top channels, sum the rest into one bar
                rest = order[MAX_FIGURE_CHANNELS - 1:]
                other = f"(other {len(rest):,} channels)"
                credits = credits.assign(channel=credits["channel"].where(~credits["channel"].isin(rest), other))
                credits = credits.groupby(["model", "channel"], as_index=False, sort=False)[["conversions"]].sum()
                order = list(order[: MAX_FIGURE_CHANNELS - 1]) + [other]
            credits["channel"] = pd.Categorical(credits["channel"], categories=order, ordered=True)
            credits = credits.sort_values(["channel"], kind="stable")
            credits["channel"] = credits["channel"].astype(str)
            n_models = credits["model"].nunique()
            specs.append(("credits", lambda ax, c=credits: decisions.plot_credits(c, ax=ax),
                          (10.0, _bar_height(len(order), n_models))))
            if len(self.comparison.labels) > 1:
                n = len(self.comparison.labels)
                specs.append(("rank_agreement",
                              lambda ax: decisions.plot_rank_agreement(self.comparison.rank_agreement, ax=ax),
                              (max(5.4, 0.5 * n + 2.8), max(4.2, 0.45 * n + 2.2))))
            if self.has_costs:
                roi = self.comparison.roi
                paid = [c for c in self._roi_order() if (roi.loc[roi["channel"] == c, "cost"] > 0).any()]
                n_paid = len(paid)
                paid = paid[:MAX_FIGURE_CHANNELS]  # the first in the table's order; the table lists all
                if paid:
                    roi = roi[roi["channel"].isin(paid)].copy()
                    roi["channel"] = pd.Categorical(roi["channel"], categories=paid, ordered=True)
                    roi = roi.sort_values("channel", kind="stable")
                    roi["channel"] = roi["channel"].astype(str)

                    def draw_roi(ax, r=roi, n_paid=n_paid):
                        decisions.plot_roi(r, ax=ax)
                        _cut_outliers(ax)
                        _note_top(ax, len(paid), n_paid)

                    specs.append(("roi", draw_roi, (10.0, _bar_height(len(paid), roi["model"].nunique()))))
        if self.validity is not None:
            specs.append(("validity", lambda ax: decisions.plot_validity(self.validity, ax=ax),
                          (10.0, _bar_height(len(self.validity.table), 1))))
        if self.plan is not None:
            n = len(self.plan.allocation)

            def draw_budget(ax, n=n):
                plan = self._plan_sorted()
                plan.allocation = plan.allocation.head(MAX_FIGURE_CHANNELS)
                plan.rule_based = plan.rule_based.head(MAX_FIGURE_CHANNELS)
                decisions.plot_budget(plan, rule_based=False, ax=ax)
                _note_top(ax, min(n, MAX_FIGURE_CHANNELS), n)

            specs.append(("budget", draw_budget, (10.0, _bar_height(min(n, MAX_FIGURE_CHANNELS), 2))))
        if self.ropo is not None:
            online = self.ropo.by_channel[self.ropo.by_channel["group"] == "online"]
            specs.append(("ropo", lambda ax: omnichannel.plot_place_credit(online, ax=ax),
                          (10.0, 0.35 * len(online) + 1.8)))
        if self.kpis is not None:
            k = MAX_FIGURE_CHANNELS
            by = self.kpis.by_channel
            n = len(by)
            if n > k and "journeys" in by.columns:  # the channels in most journeys
                by = by.loc[by["journeys"].sort_values(ascending=False, kind="stable").index[:k]]
            drop = self.kpis.drop_off
            n_drop = len(drop)
            drop = drop.head(k) if n_drop > k else drop

            def draw_positions(ax, by=by, n=n):
                jplots.plot_positions(by, ax=ax)
                _note_top(ax, len(by), n)

            def draw_drop(ax, drop=drop, n=n_drop):
                jplots.plot_drop_off(drop, ax=ax)
                _note_top(ax, len(drop), n)

            specs.append(("kpi_positions", draw_positions, (10.0, max(3.0, 0.36 * len(by) + 1.4) + 0.5)))
            specs.append(("kpi_drop_off", draw_drop, (10.0, max(3.0, 0.36 * len(drop) + 1.4))))
        return specs
