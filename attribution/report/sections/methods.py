"""The report's "Method notes" section and the notes themselves: what each model does, what it
assumes, when to use it (filled from a fitted model's parameters by :func:`method_note`)."""

from __future__ import annotations

import numbers
from typing import NamedTuple

import pandas as pd

from ...models.base import AttributionModel
from .._page import _esc, _lower_first, _p


class MethodNote(NamedTuple):
    """What a model does, what it assumes and when to use it (``{...}`` fields are filled in)."""

    does: str
    assumes: str
    use: str


#: Per registered model name: what it does, what it assumes, when to use it. ``{...}`` fields
#: are filled from the fitted model's parameters by :func:`method_note`.
METHOD_NOTES: dict[str, MethodNote] = {
    "first_touch": MethodNote(
        does=(
            "Gives each conversion entirely to the first touch of its journey (the earliest touch "
            "inside the lookback window)."
        ),
        assumes=(
            "The touch that opened the journey caused the purchase; everything after it changed "
            "nothing."
        ),
        use=(
            "To see which channels start journeys (discovery). It undervalues the channels that close "
            "them: do not base a budget on it alone."
        ),
    ),
    "last_touch": MethodNote(
        does="Gives each conversion entirely to the last touch before it.",
        assumes="The final touch caused the purchase; earlier touches did nothing.",
        use=(
            "As the baseline that ad platforms and most analytics reports use. It overvalues closing "
            "channels (brand search, retargeting, direct) and undervalues the ones that start "
            "journeys."
        ),
    ),
    "last_non_direct": MethodNote(
        does=(
            "Gives each conversion to the last touch that is not a direct visit (channels named "
            "{direct}, matched ignoring case); a journey made only of direct visits keeps its last "
            "touch."
        ),
        assumes=(
            "A direct visit is the customer coming back on their own, so the credit belongs to the "
            "marketing touch before it."
        ),
        use=(
            "When direct traffic swamps last touch (the rule of Google Analytics' standard reports). "
            "Otherwise it shares the biases of last touch."
        ),
    ),
    "linear": MethodNote(
        does=(
            "Splits each conversion equally over the touches of its journey; repeated touches each "
            "count (in a > a > b, a gets two thirds)."
        ),
        assumes="Every touch contributes the same, whatever its position or timing.",
        use=(
            "As a neutral reference between first and last touch. It rewards frequency: channels that "
            "touch people often collect more credit."
        ),
    ),
    "position_based": MethodNote(
        does=(
            "Gives {first_pct} to the first touch and {last_pct} to the last, and splits the rest "
            "equally over the touches in between; a one-touch journey gives its touch everything, and "
            "with two touches the middle share is divided between them in proportion to their "
            "shares."
        ),
        assumes=(
            "Opening and closing a journey matter most (the U shape); the shares are a choice, not "
            "estimated from the data."
        ),
        use="When both discovery and closing matter, as a compromise between first and last touch.",
    ),
    "time_decay": MethodNote(
        does=(
            "Weights each touch by 2^(-age / half-life), with a half-life of {half_life} and the age "
            "counted back from the conversion, and splits the conversion in proportion within its "
            "journey."
        ),
        assumes=(
            "Touches closer to the purchase had more influence; the half-life is a choice, not "
            "estimated."
        ),
        use=(
            "For short buying cycles and promotions. It needs timestamps (event logs, not path "
            "tables)."
        ),
    ),
    "custom": MethodNote(
        does=(
            "Splits each conversion over the touches of its journey with position weights given by "
            "the user ({weights}), normalised within each journey."
        ),
        assumes="The weight profile reflects how much each position matters; nothing is estimated.",
        use="To reproduce a house rule, or a model from another tool, next to the data-driven models.",
    ),
    "markov": MethodNote(
        does=(
            "Treats journeys as walks through an absorbing Markov chain whose states are "
            "{order_text}, with transition probabilities estimated from all journeys, converting and "
            "not. A channel's removal effect is the share of the conversion probability lost when "
            "every state containing it is removed (its traffic then ends without a conversion); "
            "conversions are split in proportion to the removal effects. Everything is computed "
            "exactly by linear solves (no simulation); with conversion places, each place has its own "
            "absorbing state and its own split."
        ),
        assumes=(
            "The next step depends only on {order_text}; removing a channel loses every journey "
            "through it (no substitution), so removal effects overlap and are normalised; the chain "
            "describes observed journeys, so effects are associations, not proven causes."
        ),
        use=(
            "As the main data-driven model when non-converting journeys are available. Higher orders "
            "capture sequences but need much more data (states grow with channels^order); "
            "markov:order=auto picks the order by cross-validation."
        ),
    ),
    "shapley": MethodNote(
        does="{shapley_does}",
        assumes="{shapley_assumes}",
        use="{shapley_use}",
    ),
    "logistic": MethodNote(
        does=(
            "Shao & Li (2011): fits {n_estimators} bagged, L2-regularised logistic regressions of "
            "conversion on channel-exposure indicators (each bag draws a random part of the journeys "
            "and of the channels) and splits conversions in proportion to the positive mean "
            "coefficients; channels with a negative coefficient get nothing."
        ),
        assumes=(
            "Exposure effects add up on the log-odds scale; the order, timing and number of touches "
            "do not matter; coefficients are associations, not causes."
        ),
        use=(
            "For a regression-based view when many non-converting journeys are available; results "
            "depend on the regularisation (C) and on the random bags (seeded, so reproducible)."
        ),
    ),
    "probabilistic": MethodNote(
        does=(
            "Shao & Li's (2011) simple probabilistic model: from all journeys, each channel's "
            "conversion rate p(i) and each pair's p(i, j); in a journey, a channel counts p(i) plus "
            "half its average pairwise interaction p(i, j) - p(i) - p(j) with the journey's other "
            "channels, and the conversion is split in proportion (negative contributions count as 0)."
        ),
        assumes=(
            "Interactions beyond pairs of channels do not matter; order is ignored; rates are "
            "associations, not causes."
        ),
        use="As a transparent data-driven reference; it needs non-converting journeys.",
    ),
    "fractribution": MethodNote(
        does=(
            "Google's Fractribution: every distinct path (paths as '{path_transform}') has a "
            "conversion probability p(path); a touch gains p(path) - p(path without that touch) (0 "
            "when negative, and p(path) for a one-touch path). Conversions are split in proportion to "
            "the gains, or go to the last touch when every gain is 0."
        ),
        assumes=(
            "A path with and without a touch are comparable journeys (a leave-one-out "
            "counterfactual), so the shortened paths must be observed too; despite Google's naming it "
            "is not a Shapley value."
        ),
        use="When paths repeat a lot (many journeys per distinct path), e.g. aggregated path tables.",
    ),
}

_SHAPLEY: dict[str, MethodNote] = {
    "simplified": MethodNote(
        does=(
            "Zhao et al.'s (2018) simplified Shapley value: every conversion is split equally among "
            "the distinct channels of its journey (repeat touches add nothing). Non-converting "
            "journeys play no role."
        ),
        assumes="The channels that appear together in a converting journey contributed equally.",
        use="As a quick, axiom-based reference without the frequency bias of linear.",
    ),
    "ordered": MethodNote(
        does=(
            "Zhao et al.'s (2018) ordered Shapley value: the simplified Shapley credit (each "
            "conversion split equally among the distinct channels of its journey) broken down by "
            "touch position."
        ),
        assumes="The channels that appear together in a converting journey contributed equally.",
        use="To see where in the journey each channel earns its credit.",
    ),
    "conversion_rate": MethodNote(
        does=(
            "The Shapley value of the game v(S) = conversion rate of journeys exposed to exactly the "
            "channel set S (shrunk toward the overall rate by {smoothing} pseudo-journey(s); a set "
            "never seen takes the rate of its largest seen subsets), exact over all 2^n channel sets. "
            "Negative values are {negative_text}, and the credit is scaled to the observed "
            "conversions."
        ),
        assumes=(
            "Differences in conversion rate between channel sets are caused by the channels (in "
            "reality purchase intent also drives exposure, which flatters retargeting and brand "
            "search); order and frequency are ignored."
        ),
        use=(
            "As the data-driven attribution game of analytics suites, with many journeys per channel "
            "set and non-converting journeys available."
        ),
    ),
    "model": MethodNote(
        does=(
            "The Shapley value of v(S) = the mean conversion probability predicted by a classifier "
            "fitted on channel-exposure indicators, with the channels outside S switched off "
            "(Dalessandro et al. 2012); exact over all channel sets when small enough, sampled "
            "beyond."
        ),
        assumes=(
            "The classifier captures how exposure changes the conversion probability; associations, "
            "not causes."
        ),
        use="When a smooth model of conversion is preferred to raw rates per channel set.",
    ),
    "sampled": MethodNote(
        does=(
            "Permutation-sampled Shapley values ({n_samples} orders) of the '{game}' game, with "
            "standard errors."
        ),
        assumes="As for the exact game; the sampling error is reported and shrinks with more orders.",
        use="For too many channels to enumerate every channel set exactly.",
    ),
}


def _params_of(model) -> dict:
    try:
        return dict(model.get_params(deep=False))
    except (AttributeError, TypeError):  # pragma: no cover - a foreign model
        return {}


def method_note(model) -> dict[str, str]:
    """What a model does, assumes and is good for, in plain words.

    Parameters
    ----------
    model : AttributionModel, str or class
        A model (its parameters fill in the text), a registered name or a spec string.

    Returns
    -------
    dict
        ``name``, ``parameters`` (the model's non-default parameters as text), ``does``,
        ``assumes`` and ``use``. A model without a note gets the first paragraph of its
        docstring as ``does``.

    Examples
    --------
    >>> method_note("markov:order=2")["does"][:40]
    'Treats journeys as walks through an abso'
    """
    from ...models import get_model

    if not isinstance(model, AttributionModel):
        model = get_model(model)
    name = getattr(model, "model_name", None) or type(model).__name__
    params = _params_of(model)
    defaults = _params_of(type(model)()) if _constructible(type(model)) else {}
    shown = {k: v for k, v in params.items() if k not in defaults or _differs(defaults[k], v)}
    fields = dict(params)
    if name == "last_non_direct":
        d = params.get("direct", ("direct",))
        d = [d] if isinstance(d, str) else list(d)
        fields["direct"] = " or ".join(f"'{x}'" for x in d)
    elif name == "position_based":
        fields["first_pct"] = f"{float(params.get('first', 0.4)):.0%}"
        fields["last_pct"] = f"{float(params.get('last', 0.4)):.0%}"
    elif name == "time_decay":
        fields["half_life"] = _duration_text(params.get("half_life", "7D"))
    elif name == "markov":
        order = getattr(model, "order_", params.get("order", 1))
        fields["order"] = str(order)
        if order == 1:
            fields["order_text"] = "the last channel touched"
        elif isinstance(order, numbers.Integral):
            fields["order_text"] = f"the last {order} channels touched"
        else:
            fields["order_text"] = "the last few channels touched (order chosen by cross-validation)"
        if params.get("order") == "auto" and isinstance(order, numbers.Integral):
            fields["order_text"] += f" (order {order}, chosen by cross-validation)"
    elif name == "custom":
        w = params.get("weights")
        fields["weights"] = "a weight function" if callable(w) else ", ".join(f"{float(x):g}" for x in w)
    elif name == "shapley":
        method = params.get("method", "simplified")
        texts = _SHAPLEY.get(method, _SHAPLEY["simplified"])
        extra = {
            "smoothing": f"{params.get('smoothing', 1.0):g}",
            "negative_text": "set to 0" if params.get("negative", "clip") == "clip" else "kept (credit can be negative)",
            "n_samples": f"{params.get('n_samples', 1000):,}",
            "game": str(params.get("game", "conversion_rate")),
        }
        fields["shapley_does"], fields["shapley_assumes"], fields["shapley_use"] = (
            t.format(**extra) for t in texts
        )
    if name in METHOD_NOTES:
        does, assumes, use = (t.format_map(_Default(fields)) for t in METHOD_NOTES[name])
    else:
        doc = (type(model).__doc__ or "").strip().split("\n\n")[0]
        does, assumes, use = " ".join(doc.split()) or "No description available.", "", ""
    return {
        "name": str(name),
        "parameters": ", ".join(f"{k}={v!r}" for k, v in shown.items()),
        "does": does,
        "assumes": assumes,
        "use": use,
    }


def _duration_text(value) -> str:
    try:
        td = pd.Timedelta(value)
    except (TypeError, ValueError):
        return str(value)
    secs = td.total_seconds()
    for unit, n in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if secs >= n and secs % n == 0:
            k = int(secs // n)
            return f"{k} {unit}{'s' if k != 1 else ''}"
    return str(td)


class _Default(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def _constructible(cls) -> bool:
    try:
        cls()
        return True
    except (TypeError, ValueError):
        return False


def _differs(a, b) -> bool:
    try:
        return bool(a != b)
    except (TypeError, ValueError):  # pragma: no cover - arrays and the like
        return True


#: Short notes on the decision tools, shown in the report when the section is present.
_TOOL_NOTES = {
    "roi": (
        "ROI = (attributed value - cost) / cost, ROAS = value / cost, CPA = cost / attributed "
        "conversions, per channel and model. Channels without spend (unpaid) or without a cost row "
        "have no ROI (shown as –); a channel with cost but no touches keeps its cost with 0 conversions."
    ),
    "budget": (
        "Each paid channel gets a concave response curve anchored at today's spend and today's "
        "attributed outcome, with an elasticity fitted to the daily spend and outcome where the data "
        "allow it (otherwise assumed). The plan maximises the expected outcome under the budget and "
        "the bounds, with equal marginal returns across the channels inside their bounds. Curves are "
        "only trustworthy near today's spend, hence the bounds."
    ),
    "ropo": (
        "ROPO rate: the share of store purchases with an online touch within the research window "
        "before them. Store credit of online channels comes from the attribution model (with Markov, "
        "from its chain with one conversion state per place). The incrementality estimate (with a "
        "customer base) compares customers with and without online research, adjusted for the "
        "customer covariates by inverse propensity weighting: it is observational, and unobserved "
        "purchase intent biases it upwards."
    ),
    "kpis": (
        "Journey KPIs describe the data before any model: every figure is weighted by the journeys "
        "a row stands for. A channel's conversion rate is that of the journeys containing it "
        "(association, not effect)."
    ),
}



class MethodsSection:
    """The "Method notes" section (a part of :class:`~attribution.report.Report`)."""

    def _methods_section(self) -> str:
        parts = ["<section id='methods'><h2>Method notes</h2>"]
        if self.comparison is not None:
            parts.append(_p(
                "What each model does, what it assumes and when to use it. Every model splits the observed "
                "conversions and value exactly (they sum to the totals); none of them measures incrementality "
                "on its own: a holdout or geo experiment does."))
            parts.append("<div class='methods'>")
            for label, model in self.comparison.models.items():
                note = method_note(model)
                shown = note["parameters"] and ":" not in label  # a spec label shows them already
                params = f" <code>{_esc(note['parameters'])}</code>" if shown else ""
                name = _esc(label) + (f" <span class='hint'>({_esc(note['name'])})</span>" if note["name"] != label else "")
                parts.append(
                    f"<div class='method'><h3>{name}{params}</h3>"
                    f"<p><b>What it does.</b> {_esc(note['does'])}</p>"
                    + (f"<p><b>Assumes.</b> {_esc(note['assumes'])}</p>" if note["assumes"] else "")
                    + (f"<p><b>Use it</b> {_esc(_lower_first(note['use']))}</p>" if note["use"] else "")
                    + "</div>"
                )
            parts.append("</div>")
        tools = [(key, title) for key, present, title in (
            ("roi", self.has_costs, "ROI"), ("budget", self.plan is not None, "Budget plan"),
            ("ropo", self.ropo is not None, "ROPO"), ("kpis", self.kpis is not None, "Journey KPIs")) if present]
        if tools:
            if self.comparison is not None:
                parts.append("<h3>The other sections</h3>")
            parts.append("<div class='methods'>")
            for key, title in tools:
                parts.append(f"<div class='method'><h3>{_esc(title)}</h3>{_p(_TOOL_NOTES[key])}</div>")
            parts.append("</div>")
        parts.append("</section>")
        return "".join(parts)
