"""The report's "ROI" section: ROI, ROAS and CPA per channel and model."""

from __future__ import annotations

import pandas as pd

from ..._display import _estimand_sentence, _metric_name
from .._page import _notes_list, _p, _table


class RoiSection:
    """The report's "ROI" section: ROI, ROAS and CPA per channel and model (a part of :class:`~attribution.report.Report`)."""

    def _roi_section(self) -> str:
        cmp = self.comparison
        rr = cmp.roi_result
        order = self._roi_order()
        costs = cmp.costs
        total = float(costs["cost"].sum())
        span = ""
        if "period" in costs.columns and pd.api.types.is_datetime64_any_dtype(costs["period"]):
            span = f" from {costs['period'].min():%Y-%m-%d} to {costs['period'].max():%Y-%m-%d}"
        roi = rr.wide("roi").reindex(order)
        cost = rr.table.groupby("channel", sort=False)["cost"].first().reindex(order)
        roi.insert(0, "cost", cost)
        roi.columns.name = None
        kinds = {c: "ratio" for c in roi.columns}
        kinds["cost"] = "money"
        if self.validity is not None:
            roi["grade"] = self.validity.grades.reindex(roi.index).fillna("")
            kinds["grade"] = "text"
        cpa = rr.wide("cpa").reindex(order)
        cpa.columns.name = None
        roas = rr.wide("roas").reindex(order)
        roas.columns.name = None
        parts = ["<section id='roi'><h2>Return on investment</h2>",
                 _p(f"Costs of {total:,.2f}{span} joined to each model's credited value and conversions. "
                    "ROI = (value − cost) / cost: 0 is break-even. – means no ROI: the channel is unpaid, or has no cost row. "
                    + _estimand_sentence(rr.estimands)),
                 _table(roi, kinds, index_name="channel", emphasis=["cost"],
                        caption=f"{_metric_name('roi', rr.estimands)} per channel and model"
                        + (f" (grade: validity of {self.validity.model})" if "grade" in roi.columns else "")),
                 "<details><summary>ROAS and cost per acquisition</summary>",
                 _table(roas, default="ratio", index_name="channel", caption=f"{_metric_name('roas', rr.estimands)} = value / cost"),
                 _table(cpa, default="money", index_name="channel", caption=f"{_metric_name('cpa', rr.estimands)} = cost / conversion"),
                 _table(rr.totals.rename_axis(index="model").rename(columns={"roi": "ROI", "roas": "ROAS", "cpa": "CPA"}),
                        {"cost": "money", "conversions": "num1", "value": "money", "ROI": "ratio", "ROAS": "ratio",
                         "CPA": "money"},
                        caption="Blended totals per model"),
                 "</details>",
                 self._img("roi", f"{_metric_name('roi', rr.estimands)} per channel, by model")]
        if len(rr.unmatched):
            um = rr.unmatched.set_index("channel")
            parts.append(_table(um, {"issue": "text", "cost": "money", "hint": "text"}, index_name="channel",
                                caption="Channels unmatched between costs and journeys"))
        if rr.warnings:
            parts.append(_notes_list(rr.warnings))
        parts.append("</section>")
        return "".join(parts)
