"""The report's "Data" section: what went in, what was excluded, the notes."""

from __future__ import annotations

from .._page import _facts, _fmt, _notes_list, _p


class DataSection:
    """The report's "Data" section: what went in, what was excluded, the notes (a part of :class:`~attribution.report.Report`)."""

    def _data_section(self) -> str:
        j = self.journeys
        d = j.describe()
        facts = [
            ("journeys", _fmt(d["journeys (weighted)"], "num0")),
            ("  converting", _fmt(d["converting journeys (weighted)"], "num0")),
            ("  not converting", _fmt(d["non-converting journeys (weighted)"], "num0")),
            ("journey rows", _fmt(d["journey rows"], "num0")),
            ("conversions", _fmt(d["conversions"], "num1" if d["conversions"] % 1 else "num0")),
            ("conversion value", _fmt(d["value"], "money")),
            ("touches", _fmt(d["touches"], "num0")),
            ("channels", _fmt(d["channels"], "num0")),
            ("path length: mean / median / max",
             f"{_fmt(d['mean path length'], 'num2')} / {_fmt(d['median path length'], 'num0')} / {_fmt(d['max path length'], 'num0')}"),
            ("conversions without any touch", _fmt(d["conversions without touches"], "num0")),
        ]
        for k in d.index:
            if str(k).startswith("conversions at "):
                facts.append((str(k), _fmt(d[k], "num0")))
        rows_facts = []
        if "input touch rows" in d.index:
            rows_facts.append(("touch rows read", _fmt(d["input touch rows"], "num0")))
            rows_facts.append(("conversion rows read", _fmt(d["input conversion rows"], "num0")))
        excl = [(str(k).replace("excluded touches: ", ""), d[k]) for k in d.index if str(k).startswith("excluded touches: ")]
        total_excl = sum(int(v) for _, v in excl)
        for rule, v in excl:
            if v:
                rows_facts.append((f"touches excluded: {rule.replace('_', ' ')}", _fmt(v, "num0")))
        rows_facts.append(("touches excluded in all", _fmt(total_excl, "num0")))
        parts = ["<section id='data'><h2>Data</h2>"]
        if self.inputs:
            parts.append("<h3>Inputs</h3>" + _facts([(k, v) for k, v in self.inputs.items()], text=True))
        parts.append("<div class='grid'><div><h3>Journeys</h3>" + _facts(facts) + "</div>")
        parts.append("<div><h3>Rows kept and excluded</h3>" + _facts(rows_facts))
        if self.settings:
            parts.append("<h3>Settings</h3>" + _facts(list(self.settings.items()), text=True))
        parts.append("</div></div>")
        if total_excl:
            parts.append(_p(
                "Excluded touches are dropped by the journey rules (e.g. older than the lookback window "
                "before their conversion); every conversion is kept."
            , "hint"))
        notes = [n for n in self.notes if n not in self._shown_elsewhere("data")]
        if notes:
            parts.append("<h3>Notes</h3>" + _notes_list(notes))
        parts.append("</section>")
        return "".join(parts)
