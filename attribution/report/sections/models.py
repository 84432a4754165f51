"""The report's "Models" section: credit per channel and model, agreement between models."""

from __future__ import annotations

import numpy as np

from ...models.base import BASELINE, NO_TOUCH
from .._page import _notes_list, _p, _table


class ModelsSection:
    """The report's "Models" section: credit per channel and model, agreement between models (a part of :class:`~attribution.report.Report`)."""

    def _models_section(self) -> str:
        cmp = self.comparison
        j = self.journeys
        wide = self.credits_table()
        kinds = {c: "num1" for c in wide.columns}
        parts = ["<section id='models'><h2>Model comparison</h2>",
                 _p(f"Each model splits the same {j.total_conversions:,.0f} conversions among the channels, so "
                    "every model column sums to the total. Channels are sorted by their average credit over "
                    "the models." + (" '(no touch)' holds conversions without any recorded touch." if NO_TOUCH in wide.index else ""))]
        if self.truth is not None:
            base = j.total_conversions - float(self.truth.sum())
            parts.append(_p(
                "The truth column is each channel's true incremental conversions (known because the data "
                f"were simulated); the other {base:,.1f} conversions would have happened without any channel, "
                "so the attributed model columns sum to more: compare their ranking, not the level"
                + (" (an incremental model's channel rows are on the truth's scale)."
                   if "incremental" in set(cmp.estimands) else "."), "hint"))
        parts.append(_p(cmp._estimand_note()
                        + (" '(baseline)' holds the conversions an incremental model expects without any paid channel."
                           if BASELINE in wide.index else "")))
        parts.append(_table(wide, kinds, index_name="channel", emphasis=["truth"] if self.truth is not None else (),
                            caption=f"Conversions per channel ({self._estimand_words()})"))
        shares = cmp.shares.reindex(self.channel_order)
        shares.columns.name = None
        parts.append("<details><summary>Share of conversions and attributed value</summary>"
                     + _table(shares, default="pct", index_name="channel",
                              caption="Share of the channels' credit ('(no touch)' and '(baseline)' left out)")
                     + _table(cmp.value_wide.reindex(self.channel_order).rename_axis(columns=None), default="money",
                              index_name="channel", caption=f"Value per channel ({self._estimand_words()})")
                     + "</details>")
        parts.append(self._img("credits", f"Conversions per channel, by model ({self._estimand_words()})"))
        if len(cmp.labels) > 1:
            ag = cmp.rank_agreement
            vals = ag.where(~np.eye(len(ag), dtype=bool)).stack().dropna()
            text = ("The rank correlation is undefined here (fewer than two channels, or a model gives every "
                    "channel the same credit).")
            if len(vals):
                lo = vals.idxmin()
                text = (f"Lowest agreement: {lo[0]} vs {lo[1]} (ρ {vals.min():.2f}). "
                        "Where models agree on a channel's rank, the decision is robust to the model choice.")
            parts.append("<h3>Rank agreement</h3>" + _p("Spearman correlation of the channel rankings of each pair "
                                                         "of models (1: same order). " + text))
            parts.append(self._img("rank_agreement", "Rank agreement between models"))
        own = [w for w in cmp.warnings if w not in self._shown_elsewhere("models")]
        if own:
            parts.append(_notes_list(own))
        parts.append("</section>")
        return "".join(parts)
