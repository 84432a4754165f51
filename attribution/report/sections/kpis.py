"""The report's "Journey KPIs" section."""

from __future__ import annotations

from .._page import _facts, _fmt, _is_missing, _notes_list, _p, _table


class KpiSection:
    """The report's "Journey KPIs" section (a part of :class:`~attribution.report.Report`)."""

    def _kpi_section(self) -> str:
        k = self.kpis
        o = k.overall
        facts = []
        spec = [("conversion_rate", "conversion rate", "pct"), ("customers", "customers", "num0"),
                ("touches_per_journey_mean", "touches per journey (mean)", "num2"),
                ("touches_to_conversion_median", "touches to conversion (median)", "num0"),
                ("time_to_conversion_days_median", "days from first touch to conversion (median)", "num1"),
                ("last_touch_to_conversion_days_median", "days from last touch to conversion (median)", "num2"),
                ("channel_switching_rate", "channel switching rate", "pct"),
                ("cross_channel_share", "journeys with several channels", "pct"),
                ("distinct_paths", "distinct paths", "num0")]
        for key, label, kind in spec:
            if key in o.index and not _is_missing(o[key]):
                facts.append((label, _fmt(o[key], kind)))
        bc = k.by_channel
        cols = {"touches": ("touches", "num0"), "reach": ("reach", "num0"), "journeys": ("journeys", "num0"),
                "conversion_rate": ("conv. rate", "pct"), "share_first": ("first", "pct0"),
                "share_middle": ("middle", "pct0"), "share_last": ("last", "pct0"), "share_only": ("only", "pct0")}
        keep = [c for c in cols if c in bc.columns]
        show = bc[keep].rename(columns={c: cols[c][0] for c in keep})
        show = show.reindex([c for c in self.channel_order if c in show.index] + [c for c in show.index if c not in self.channel_order])
        kinds = {cols[c][0]: cols[c][1] for c in keep}
        tp = k.top_paths
        tp_cols = [c for c in ("journeys", "conversions", "conversion_rate") if c in tp.columns]
        parts = ["<section id='kpis'><h2>Journey KPIs</h2>",
                 "<div class='grid'><div><h3>Journey set</h3>", _facts(facts), "</div><div><h3>Most frequent paths</h3>",
                 _table(tp[tp_cols].rename(columns={"conversion_rate": "conv. rate"}),
                        {"journeys": "num0", "conversions": "num0", "conv. rate": "pct"}, index_name="path"),
                 "</div></div>",
                 _table(show, kinds, index_name="channel", caption="Per channel"),
                 _p("conv. rate: conversion rate of the journeys containing the channel; first / middle / last / "
                    "only: where the channel's touches sit in their journeys (only: one-touch journeys).", "hint"),
                 self._img("kpi_positions", "Position of each channel's touches in the journeys"),
                 self._img("kpi_drop_off", "Last channel of non-converting journeys")]
        if k.notes:
            parts.append(_notes_list(k.notes))
        parts.append("</section>")
        return "".join(parts)
