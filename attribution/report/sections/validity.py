"""The report's "Validity" section: the scorecard of the model that drives the plan."""

from __future__ import annotations

from .._page import _notes_list, _p, _table


class ValiditySection:
    """The report's "Validity" section: the scorecard of the model that drives the plan (a part of :class:`~attribution.report.Report`)."""

    def _validity_section(self) -> str:
        v = self.validity
        t = v.table.set_index("channel")
        labels = v.display_columns()
        show = t[list(labels)].rename(columns=labels)
        kinds = {"grade": "text", "incremental conv.": "num1", "AIPW": "num1", "no overlap": "pct",
                 "max |SMD|": "num2", "neg. ctrl z": "num2", "shuffled": "pct", "E-value": "num2",
                 "half-lives doubled": "num1", "leads z": "num2", "AIPW max |SMD|": "num2", "AIPW neg. ctrl z": "num2",
                 "AIPW shuffled": "pct"}
        parts = ["<section id='validity'><h2>Validity scorecard</h2>",
                 _p(f"How far can each channel's incremental credit under {v.model} be trusted? Grade A: every check "
                    "passes; B: one or two warnings; C: one failed check or three warnings; D: two failed checks "
                    "(held at today's spend in the plan), or a unit of analysis the data contradict. "
                    + v.checks_text()),
                 _p(v._placebo_text()),
                 _p("Columns: the model's incremental conversions; the same model refitted with every half-life "
                    "doubled; the z-score of the touches of the next 7 days on today's purchase in the model's own "
                    "regression (must be near 0); the E-value of the confidence limit." if getattr(v, "unit", None) == "time" else
                    ("Columns: the model's incremental conversions and the AIPW cross-check; share of exposed "
                     "journeys without comparable unexposed ones (propensity above 0.95); AIPW's own diagnostics (they "
                     "decide whether it is a fair reference, not the grade): the largest standardised mean difference "
                     "after weighting, the z-score of the channel's 'effect' on purchases made before the journey, the "
                     "share of AIPW's effect that survives moving the exposure to another journey of the same person; "
                     "the E-value of the confidence limit." if getattr(v, "unit", None) == "journey" else
                    "Columns: the model's incremental conversions and the AIPW cross-check; share of exposed journeys "
                    "without comparable unexposed ones (propensity above 0.95); the largest standardised mean "
                    "difference of the covariates after weighting; the z-score of the channel's 'effect' on purchases "
                    "made before the journey; the share of the effect that survives moving the exposure to another "
                    "journey of the same person; the E-value of the confidence limit."), "hint"),
                 _table(show, kinds, index_name="channel", emphasis=["grade"],
                        caption=f"Validity of the incremental credit of {v.model}"),
                 _notes_list([f"{c} ({g}): {r}" for c, g, r in zip(t.index, t["grade"], t["reason"]) if r]),
                 self._img("validity", "Incremental credit per channel, coloured by grade")]
        if v.flagged:
            parts.append(_p(f"Graded D: {v.flagged}. Their ROI is flagged and the plan holds their spend.", "hint"))
        parts.append("</section>")
        return "".join(parts)
