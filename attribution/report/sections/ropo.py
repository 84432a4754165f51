"""The report's "ROPO" section: research online, purchase offline."""

from __future__ import annotations

from .._page import _facts, _fmt, _notes_list, _p, _table


class RopoSection:
    """The report's "ROPO" section: research online, purchase offline (a part of :class:`~attribution.report.Report`)."""

    def _ropo_section(self) -> str:
        r = self.ropo
        s = r.summary
        facts = [
            ("store purchases", _fmt(s["store_conversions"], "num0")),
            ("online purchases", _fmt(s["online_conversions"], "num0")),
            ("ROPO rate (store purchases with online research before)", _fmt(s["ropo_rate"], "pct")),
            ("showrooming rate (online purchases after a store visit)", _fmt(s["showrooming_rate"], "pct")),
            ("store conversions credited to online channels", _fmt(s["store_conversions_credited_to_online"], "num1")),
            ("store value credited to online channels", _fmt(s["store_value_credited_to_online"], "money")),
            ("share of online channels' credit from stores", _fmt(s["online_credit_store_share"], "pct")),
            ("model", str(self.meta.get("primary") or s["model"])),
        ]
        off = self.meta.get("offline")
        guessed = self.meta.get("offline_guessed")
        off_text = (", ".join(off) if off else "none")
        parts = ["<section id='ropo'><h2>Research online, purchase offline (ROPO)</h2>",
                 _p(f"Offline channels: {off_text}" + (" (guessed from the channel names; set them with --offline or offline=)"
                                                       if guessed else "") + "; every other channel counts as online research."),
                 "<div class='grid'><div><h3>Rates and store credit</h3>", _facts(facts), "</div>"]
        inc = r.incrementality
        if inc is not None:
            ifacts = [
                ("customers", _fmt(inc["customers"], "num0")),
                ("with online research", _fmt(inc["treated"], "num0")),
                ("store purchases per customer: researched", _fmt(inc["store_rate_treated"], "num3")),
                ("… not researched (raw)", _fmt(inc["store_rate_untreated"], "num3")),
                ("… not researched (adjusted)", _fmt(inc["store_rate_untreated_adjusted"], "num3")),
                ("effect per researching customer (ATT)", f"{_fmt(inc['att'], 'num3')} [{_fmt(inc['att_low'], 'num3')}, {_fmt(inc['att_high'], 'num3')}]"),
                ("incremental store purchases", f"{_fmt(inc['incremental_store_conversions'], 'num1')} [{_fmt(inc['incremental_low'], 'num1')}, {_fmt(inc['incremental_high'], 'num1')}]"),
                ("covariates", str(inc["covariates"])),
            ]
            parts.append("<div><h3>Incrementality of online research</h3>" + _facts(ifacts)
                         + _p(f"{inc['interval']}; observational, see the method notes.", "hint") + "</div>")
        parts.append("</div>")
        bc = r.by_channel
        order = [c for c in self.channel_order if c in bc.index] + [c for c in bc.index if c not in self.channel_order]
        bc = bc.reindex(order)
        bc = bc.rename(columns={"online_conversions": "online conv.", "store_conversions": "store conv.",
                                "online_value": "online value", "store_value": "store value", "ropo_share": "store share"})
        parts.append(_table(bc, {"group": "text", "online conv.": "num1", "store conv.": "num1", "online value": "money",
                                 "store value": "money", "store share": "pct"}, index_name="channel",
                            caption=f"Credit by place of purchase ({self.meta.get('primary') or s['model']})"))
        parts.append(self._img("ropo", "Credited conversions of each online channel by place of purchase"))
        if r.notes:
            parts.append(_notes_list(r.notes))
        parts.append("</section>")
        return "".join(parts)
