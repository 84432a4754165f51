"""The report's "Budget plan" section."""

from __future__ import annotations

import pandas as pd

from .._page import _notes_list, _p, _table


class BudgetSection:
    """The report's "Budget plan" section (a part of :class:`~attribution.report.Report`)."""

    def _budget_section(self) -> str:
        plan = self._plan_sorted()
        a = plan.allocation
        show = pd.DataFrame({
            "today": a["current"], "plan": a["planned"], "change": a["change"], "change %": a["change_pct"],
            "bounds": [f"{lo:,.0f} – {hi:,.0f}" for lo, hi in zip(a["lower"], a["upper"])],
            f"{plan.objective} today": a[f"current_{plan.objective}"],
            f"{plan.objective} expected": a[f"expected_{plan.objective}"],
            "marginal ROI": a["marginal_roi"],
        }, index=a.index)
        kinds = {"today": "money", "plan": "money", "change": "signed", "change %": "signed_pct", "bounds": "text",
                 f"{plan.objective} today": "money" if plan.objective == "value" else "num1",
                 f"{plan.objective} expected": "money" if plan.objective == "value" else "num1",
                 "marginal ROI": "ratio"}
        totals = plan.totals.drop(index=["rule-based"], errors="ignore")
        bounds = self.meta.get("bounds", "") or getattr(plan, "bounds", "")
        src = self.meta.get("budget_source", "")
        heads = [m for m in (getattr(plan, "caveat", ""), getattr(plan, "marginal_note", "")) if m]  # headline
        parts = ["<section id='budget'><h2>Budget plan</h2>",
                 _p(f"A budget of {plan.total_budget:,.2f}" + (f" ({src})" if src else "")
                    + f" spread over the {len(a)} paid channels to maximise the "
                    + (f"incremental {plan.objective} (what the channels cause) estimated by {plan.model}"
                       if plan.estimand == "incremental" else
                       f"{plan.objective} attributed by {plan.model} (shares of observed conversions, not what the "
                       "channels cause)")
                    + (f", each channel kept within {bounds}" if bounds else "")
                    + (f"; {list(plan.held.index)} held at today's spend (graded D)" if len(plan.held) else "") + "."),
                 *([_notes_list(heads)] if heads else []),
                 _table(show, kinds, index_name="channel", emphasis=["plan"], caption="Spend per channel"),
                 _table(totals.rename(columns={"roi": "ROI", "roas": "ROAS", "cpa": "CPA"}),
                        {"spend": "money", "conversions": "num1", "value": "money", "ROI": "ratio",
                         "ROAS": "ratio", "CPA": "money"}, index_name="scenario",
                        caption="Expected outcome (channels in the plan)"),
                 self._img("budget", "Spend today versus the plan")]
        curves = plan.curves
        src_counts = curves["source"].value_counts()
        parts.append(_p("Elasticities: " + ", ".join(f"{n} {s}" for s, n in src_counts.items())
                        + ". Marginal ROI is the return of the next unit of currency at the planned spend. "
                        "budget_totals.csv also has a rule-based reallocation (ROI index with a floor) for "
                        "comparison; it ignores the bounds, so it relies on the curves far from today's spend.",
                        "hint"))
        direction = self.plan_direction()
        if direction is not None:
            req = direction[direction["should"].isin(["up", "down"])]
            parts.append("<h3>Check against the truth</h3>" + _p(
                f"The true incremental conversions per unit of spend (known because the data were simulated) say "
                f"{len(req)} channel(s) differ from the median return by more than 25 %: the plan moves "
                f"{int((req['verdict'] == 'right').sum())} of them in the right direction."
                + (" Wrong: " + ", ".join(req.index[req["verdict"] == "wrong"]) + "." if (req["verdict"] == "wrong").any() else "")
                + (" Held at today's spend, so not moved (" + "; ".join(
                    f"{c}: {plan.held.get(c, 'held')}" for c in req.index[req["verdict"] == "held"])
                   + "); pass hold=False to let the plan move them."
                   if (req["verdict"] == "held").any() else "")))
            show_d = direction[["true_return", "relative_to_median", "should", "planned_change_pct", "verdict"]].rename(
                columns={"true_return": "true conv. per unit spend", "relative_to_median": "vs median",
                         "planned_change_pct": "plan change"})
            parts.append(_table(show_d, {"true conv. per unit spend": "num2", "vs median": "signed_pct", "should": "text",
                                         "plan change": "signed_pct", "verdict": "text"}, index_name="channel",
                                caption="Does the plan follow the true incremental return?"))
        notes = [w for w in plan.warnings if w not in heads]
        if notes:
            parts.append(_notes_list(notes))
        parts.append("</section>")
        return "".join(parts)
