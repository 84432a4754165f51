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


def _short_formatter(inner):
    """A tick formatter that shortens the labels of ``inner`` and passes it the tick locations
    (a ``ScalarFormatter`` prints nothing until it has them: wrapping it in a plain
    ``FuncFormatter`` blanked every numeric axis of the report)."""
    from matplotlib.ticker import Formatter

    class _Short(Formatter):
        def __call__(self, x, pos=None):
            return _short(inner(x, pos))

        def set_locs(self, locs):
            inner.set_locs(locs)

        def format_ticks(self, values):  # formatters that see every tick at once (dates)
            return [_short(t) for t in inner.format_ticks(values)]

        def set_axis(self, axis):
            super().set_axis(axis)
            inner.set_axis(axis)

        def get_offset(self):
            return inner.get_offset()

        def format_data_short(self, value):
            return inner.format_data_short(value)

    return _Short()


def _truncate_labels(fig) -> None:
    """Cut every tick label, legend entry and annotation of ``fig`` to :data:`MAX_LABEL` characters."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(_short_formatter(axis.get_major_formatter()))
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




#: Most channels (panels) of the credit-over-time figure; most models drawn as lines in each.
MAX_OVER_TIME_CHANNELS = 12
MAX_OVER_TIME_MODELS = 6


def _period_freq(times) -> str | None:
    """Days for a span under 4 weeks, weeks up to a year, months beyond; None under 3 days."""
    t = pd.DatetimeIndex(pd.Series(times).dropna())
    if len(t) == 0:
        return None
    span = (t.max() - t.min()).days
    if span < 3:
        return None
    return "D" if span < 28 else "W" if span <= 366 else "M"


class FigureSpecs:
    """Which figures a report draws, how and at what size (a part of :class:`~attribution.report.Report`)."""

    def _credit_over_time(self):
        """``(tables, freq, channels)`` for the credit-over-time small multiples, or None when the
        journeys carry no conversion times (path tables) or span less than three days.

        ``tables``: model label -> :func:`attribution.credits.credits_by_period` (every model when
        there are at most :data:`MAX_OVER_TIME_MODELS`, else the primary model); ``channels``: the
        first :data:`MAX_OVER_TIME_CHANNELS` real channels in report order (``(no touch)`` and
        ``(baseline)`` are not channels and stay in the tables).
        """
        cached = self.__dict__.get("_over_time_cache")
        if cached is not None and cached[0] is self.comparison:
            return cached[1]
        result = None
        ct = getattr(self.journeys, "conversion_time", None)
        freq = _period_freq(ct[self.journeys.conversions > 0]) if ct is not None else None
        if self.comparison is not None and freq is not None:
            from ..credits import credits_by_period
            from ..models.base import PSEUDO_CHANNELS

            labels = list(self.comparison.labels)
            primary = self.meta.get("primary")
            if len(labels) > MAX_OVER_TIME_MODELS:
                labels = [primary] if primary in labels else labels[:1]
            tables = {}
            import warnings

            for label in labels:
                try:
                    with warnings.catch_warnings():  # how global models split a journey: see journey_credits
                        warnings.simplefilter("ignore")
                        tables[label] = credits_by_period(self.comparison.models[label], self.journeys, freq)
                except (ValueError, TypeError, NotImplementedError) as exc:  # a model without per-journey credit
                    self.notes.append(f"Credit over time left out for {label}: {str(exc).splitlines()[0]}")
            channels = [c for c in self.channel_order if c not in PSEUDO_CHANNELS
                        and any(c in t.columns for t in tables.values())][:MAX_OVER_TIME_CHANNELS]
            if tables and channels:
                result = (tables, freq, channels)
        self.__dict__["_over_time_cache"] = (self.comparison, result)
        return result

    def _over_time_title(self, freq: str, n_shown: int) -> str:
        word = {"D": "day", "W": "week", "M": "month"}[freq]
        n_all = sum(1 for c in self.channel_order if c not in ("(no touch)", "(baseline)"))
        shown = f" (the first {n_shown} of {n_all} channels)" if n_shown < n_all else ""
        return f"Credited conversions per {word} of conversion, by channel{shown}"

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
            over_time = self._credit_over_time()
            if over_time is not None:
                tables, freq, channels = over_time
                nrows = -(-len(channels) // 3)

                def draw_over_time(ax, tables=tables, channels=channels):
                    from ..plotting.credits import plot_credits_by_period

                    fig = ax.figure
                    fig.delaxes(ax)
                    est = self.comparison.estimands
                    named = {(f"{k} (incremental)" if est.get(k) == "incremental" else k): t for k, t in tables.items()}
                    plot_credits_by_period({k: t[[c for c in channels if c in t.columns]] for k, t in named.items()},
                                           fig=fig, ncols=3, title=self._over_time_title(freq, len(channels)))

                specs.append(("credits_over_time", draw_over_time, (10.8, 2.3 * nrows + 1.4)))
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
