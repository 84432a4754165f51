"""The report's opening summary: the findings at a glance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...models.base import NO_TOUCH
from ..._display import _metric_name
from .._page import _notes_list


class GlanceSection:
    """The report's opening summary: the findings at a glance (a part of :class:`~attribution.report.Report`)."""

    def _glance(self) -> str:
        j = self.journeys
        items = [(
            f"{j.total_conversions:,.0f} conversions (value {j.total_value:,.2f}) in "
            f"{float((j.conversions + j.nulls).sum()):,.0f} journeys, {j.n_channels} channels."
        )]
        cmp = self.comparison
        if cmp is not None and len(cmp.labels) >= 1:
            shares = cmp.shares.drop(index=[NO_TOUCH], errors="ignore")
            shares = shares.loc[:, shares.notna().any(axis=0)] if len(shares) else shares
            tops = shares.idxmax(axis=0) if len(shares) and shares.shape[1] else pd.Series(dtype=object)
            if not len(tops):
                items.append("No channel holds any attributed conversion (no conversions, or no journey "
                             "with a touch), so no model ranks the channels.")
            elif tops.nunique() == 1:
                items.append(f"Every model credits {tops.iloc[0]} most.")
            else:
                by_top: dict[str, list[str]] = {}
                for model, ch in tops.items():
                    by_top.setdefault(str(ch), []).append(str(model))
                items.append("The top channel depends on the model: " + "; ".join(
                    f"{ch} ({', '.join(ms)})" for ch, ms in by_top.items()) + ".")
            if len(cmp.labels) > 1 and len(tops) and shares.notna().to_numpy().any():
                spread = (shares.max(axis=1) - shares.min(axis=1)).fillna(0.0)
                ch = str(spread.idxmax())
                row = shares.loc[ch]
                items.append(
                    f"Largest disagreement: {ch}, from {row.min():.1%} of conversions ({row.idxmin()}) "
                    f"to {row.max():.1%} ({row.idxmax()})."
                )
            if self.truth is not None:
                wide = cmp.credits_wide.drop(index=[NO_TOUCH], errors="ignore")
                t = self.truth.reindex(wide.index)
                ok = t.notna()
                if ok.sum() >= 3:
                    rho = wide[ok].corrwith(t[ok], method="spearman").dropna()
                    if len(rho):
                        best = rho.idxmax()
                        items.append(
                            f"Closest to the true channel ranking: {best} (Spearman ρ {rho[best]:.2f}; "
                            + ", ".join(f"{m} {r:.2f}" for m, r in rho.drop(index=best).items()) + ")."
                        )
        if self.has_costs:
            primary = self.meta.get("primary") or cmp.labels[-1]
            roi = cmp.roi
            part = roi[(roi["model"] == primary) & (roi["cost"] > 0) & np.isfinite(roi["roi"])]
            if len(part):
                best = part.loc[part["roi"].idxmax()]
                worst = part.loc[part["roi"].idxmin()]
                name = _metric_name("roi", part["estimand"]) if "estimand" in part.columns else "ROI"
                items.append(
                    f"Under {primary}, the best return is {best['channel']} ({name} {best['roi']:.2f}) and the "
                    f"weakest {worst['channel']} ({name} {worst['roi']:.2f}); total cost {cmp.costs['cost'].sum():,.2f}."
                )
        if self.plan is not None:
            t = self.plan.totals
            obj = self.plan.objective
            gain = t.loc["plan", obj] / t.loc["today", obj] - 1.0 if t.loc["today", obj] else float("nan")
            moved = float(self.plan.allocation["change"].clip(lower=0).sum())
            items.append(
                f"The budget plan moves {moved:,.2f} ({moved / self.plan.total_budget:.0%} of "
                f"{self.plan.total_budget:,.2f}) between channels; expected "
                f"{'incremental' if self.plan.estimand == 'incremental' else 'attributed'} {obj} {gain:+.1%} "
                f"(under {self.plan.model}, on assumed response curves)."
            )
        if self.validity is not None:
            g = self.validity.grades
            items.append(f"Validity of {self.validity.model}'s incremental credit: "
                         + ", ".join(f"{n} × {k}" for k, n in g.value_counts().reindex(list("ABCD"), fill_value=0).items())
                         + (f"; graded D (not trusted, held in the plan): {self.validity.flagged}." if self.validity.flagged else "."))
        direction = self.plan_direction()
        if direction is not None and direction.attrs.get("required"):
            items.append(f"Against the truth, the plan moves {direction.attrs['share_right']:.0%} of the "
                         f"{direction.attrs['required']} channels whose true incremental return is far from the median "
                         "in the right direction.")
        if self.ropo is not None:
            s = self.ropo.summary
            items.append(
                f"{s['ropo_rate']:.0%} of the {s['store_conversions']:,.0f} store purchases had online research "
                f"before them; online channels earn {s['store_conversions_credited_to_online']:,.0f} store "
                f"conversions ({s['online_credit_store_share']:.0%} of their credit)."
            )
        return ("<section class='glance'><h2>At a glance</h2>" + _notes_list(items, "") + "</section>")
