"""The self-contained HTML report of an attribution analysis.

:func:`build_report` runs what the data allows (model comparison; ROI and a budget plan when
costs are given; ROPO when conversions carry a store place; journey KPIs) and returns a
:class:`Report`. :meth:`Report.to_html` gives one HTML page with everything inline: CSS in a
``<style>`` element, figures as base64 PNG ``<img>`` elements, no script and no external
resource, so the file can be mailed, archived and opened offline. Every string that comes from
the data (channel, column, file, place and model names) is escaped with :func:`html.escape`.

Figures are drawn by the functions of :mod:`attribution.plotting` on matplotlib ``Figure``
objects with the Agg canvas (no pyplot state, no display needed), with mathtext off so that a
``$`` in a channel name is printed as is.

Examples
--------
>>> import attribution as at
>>> from attribution.report import build_report
>>> sim = at.datasets.simulate(300, random_state=1)
>>> report = build_report(sim.journeys(warn=False), ["last_touch", "markov"],
...                       kpis=False, ropo=False, budget=False)
>>> html_text = report.to_html()
>>> html_text.startswith("<!DOCTYPE html>") and "<script" not in html_text
True
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import math
import numbers
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from ._validation import csv_safe

from .journeys import Journeys
from .models.base import BASELINE, NO_TOUCH, PSEUDO_CHANNELS, AttributionModel, estimand_of
from .roi import _estimand_sentence, _metric_name

__all__ = [
    "METHOD_NOTES",
    "Report",
    "budget_bounds",
    "build_report",
    "guess_offline",
    "method_note",
]

# ---------------------------------------------------------------------------------------------
# method notes
# ---------------------------------------------------------------------------------------------

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
    from .models import get_model

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

# ---------------------------------------------------------------------------------------------
# helpers used by build_report (also by the command line)
# ---------------------------------------------------------------------------------------------

_OFFLINE_WORDS = frozenset({"store", "offline", "instore", "shop", "branch", "pos", "retail"})


def guess_offline(channels) -> list[str]:
    """Channels whose name marks them as offline touches (``store_visit``, ``offline_event``, ...).

    A name is offline when one of its words (split at anything but letters and digits) is one of
    ``store``, ``offline``, ``instore``, ``shop``, ``branch``, ``pos``, ``retail``. This is a
    guess for the default of the command line; pass the list explicitly when it is wrong.

    Examples
    --------
    >>> guess_offline(["email", "store_visit", "display", "Shop Visit"])
    ['store_visit', 'Shop Visit']
    """
    out = []
    for c in channels:
        words = set(re.split(r"[^0-9a-z]+", str(c).lower()))
        if words & _OFFLINE_WORDS:
            out.append(c)
    return out


def budget_bounds(costs: pd.DataFrame, low: float = 0.5, high: float = 2.0) -> dict[str, tuple[float, float]]:
    """Spend bounds ``low``–``high`` × today's spend for every channel with spend.

    Response curves are anchored at today's spend and are not to be trusted far from it, so a
    plan is best kept within such bounds (see notebook 03).

    Parameters
    ----------
    costs : DataFrame
        Normalised costs (``channel, [period,] cost``; :func:`attribution.roi.normalise_costs`).
    low, high : float
        Multipliers, ``0 <= low <= 1 <= high``.

    Returns
    -------
    dict
        ``channel -> (lower, upper)`` for the channels with a positive total cost.
    """
    for name, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v < 0:
            raise ValueError(f"The {name!r} parameter of budget_bounds must be a non-negative number. Got {v!r} instead.")
    if not low <= 1.0 <= high:
        raise ValueError(
            f"Budget bounds must contain today's spend: low <= 1 <= high. Got low={low!r}, high={high!r} instead."
        )
    spend = costs.groupby("channel", sort=False)["cost"].sum()
    return {str(c): (float(s) * low, float(s) * high) for c, s in spend.items() if s > 0}


def _primary_label(labels: Sequence[str], models: Mapping | None = None) -> str:
    """The model that drives the budget plan and ROPO: the first incremental model (decisions
    follow what channels cause), else the first Markov model, else the last one."""
    for lab in labels:
        if models is not None and estimand_of(models.get(lab)) == "incremental":
            return lab
    for lab in labels:
        if lab.split(":")[0].strip().lower() == "markov":
            return lab
    return labels[-1]


def _channel_order(wide: pd.DataFrame) -> list[str]:
    """Channels by mean credit over the models, largest first; ``(no touch)`` last."""
    mean = wide.drop(index=list(PSEUDO_CHANNELS), errors="ignore").mean(axis=1, skipna=True)
    order = mean.sort_values(ascending=False, kind="stable").index.tolist()
    return order + [c for c in PSEUDO_CHANNELS if c in wide.index]


def _truth_series(truth) -> pd.Series | None:
    if truth is None:
        return None
    if isinstance(truth, pd.DataFrame):
        df = truth.set_index("channel") if "channel" in truth.columns else truth
        if "conversions" not in df.columns:
            raise ValueError(
                "The 'truth' table must have a 'conversions' column (and a 'channel' column or "
                f"index). Columns found: {[str(c) for c in truth.columns]}."
            )
        s = df["conversions"]
    elif isinstance(truth, Mapping):
        s = pd.Series(dict(truth), dtype=np.float64)
    elif isinstance(truth, pd.Series):
        s = truth
    else:
        raise TypeError(f"truth must be a DataFrame, Series or dict of conversions per channel. Got {type(truth).__name__} instead.")
    s = pd.to_numeric(s, errors="coerce").astype(np.float64)
    s.index = s.index.astype(str)
    s.index.name = "channel"
    return s.rename("truth")


# ---------------------------------------------------------------------------------------------
# building the report
# ---------------------------------------------------------------------------------------------


def build_report(
    source,
    models=None,
    *,
    costs=None,
    truth=None,
    budget="auto",
    budget_model: str | None = None,
    bounds=(0.5, 2.0),
    ropo="auto",
    offline=None,
    customers: pd.DataFrame | None = None,
    customer_id: str = "loyalty_id",
    store_places=("store",),
    n_boot: int = 200,
    kpis=True,
    validity="auto",
    title: str = "Attribution report",
    inputs: Mapping[str, str] | None = None,
    settings: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
    progress: bool | Callable[[str, int, int], None] = False,
    calibration=None,
    customer_analysis=None,
) -> Report:
    """Run what the data allows and collect it into a :class:`Report`.

    Parameters
    ----------
    source : Comparison or Journeys
        A finished :func:`~attribution.compare.compare` result, or journeys to compare
        ``models`` on.
    models : list, optional
        Model names, spec strings (``"markov:order=2"``) or objects, when ``source`` is
        Journeys (default: :data:`attribution.compare.DEFAULT_MODELS`).
    costs : DataFrame, Series or dict, optional
        Costs (see :func:`attribution.roi.normalise_costs`), when ``source`` is Journeys; a
        Comparison brings its own. Costs add the ROI and budget sections.
    truth : DataFrame, Series or dict, optional
        Known true conversions per channel (the simulator's ``truth()``), shown beside the models.
    budget : "auto", float, BudgetPlan, False or None, default "auto"
        ``"auto"``: with costs, plan today's total spend; a number: plan that budget; a
        :class:`~attribution.budget.BudgetPlan`: show it; ``False``/``None``: no plan.
    budget_model : str, optional
        The model label whose credit drives the plan and ROPO; default the first Markov model,
        else the last model.
    bounds : (low, high) or dict, default (0.5, 2.0)
        Spend bounds of the plan: multipliers of today's spend, or a dict ``channel ->
        (lower, upper)`` in currency (see :func:`budget_bounds`).
    ropo : "auto", RopoReport, False or None, default "auto"
        ``"auto"``: run :func:`attribution.ropo` when conversions carry one of
        ``store_places``; a RopoReport: show it.
    offline : list of str, optional
        Offline channels for ROPO; default :func:`guess_offline` of the channel names.
    customers : DataFrame, optional
        The customer base for ROPO's incrementality estimate.
    customer_id : str, default "loyalty_id"
        Id column of ``customers``.
    store_places : iterable of str, default ("store",)
        Conversion places that are stores.
    n_boot : int, default 200
        Bootstrap replicates of ROPO's incrementality interval (with ``customers``).
    kpis : bool or JourneyKPIs, default True
        Add the journey-KPI section (computed here unless given).
    validity : "auto", ValidityResult, False or None, default "auto"
        The validity scorecard (:func:`attribution.validity.validity`) of the model that drives
        the plan: ``"auto"`` computes it when that model is incremental; it is shown before the
        plan, its grades mark the ROI table, and channels graded D are held at today's spend.
    title : str
    inputs : mapping, optional
        Role -> file name of the inputs (e.g. ``{"touchpoints": "touchpoints.csv"}``), listed in
        the report.
    settings : mapping, optional
        Other settings to list (lookback, column names, ...).
    notes : sequence of str
        Notes to show in the data summary (e.g. warnings raised while reading the data).
    progress : bool or callable
        ``True``: a tqdm bar on stderr; a callable ``f(stage, done, total)`` is called before
        each stage.
    customer_analysis : CustomerAnalysis, optional
        From :meth:`attribution.customers.CustomerTable.analyse`: adds the "Customers" section
        (segment table, retention heatmap, lifetime value by acquisition channel).

    Returns
    -------
    Report

    Notes
    -----
    Warnings raised by the analyses are collected into the report's notes and re-issued. An
    optional section that fails (e.g. a plan the bounds make infeasible) is replaced by a note
    saying why, unless it was asked for explicitly (a number for ``budget``).
    """
    from .compare import Comparison, compare

    if isinstance(source, Comparison):
        comparison, journeys = source, source.journeys
        if models is not None or costs is not None:
            raise ValueError(
                "build_report got a Comparison and also models= or costs=; pass journeys to compare "
                "them here, or compare(journeys, models, costs=...) first."
            )
    elif isinstance(source, Journeys):
        comparison, journeys = None, source
    else:
        raise TypeError(
            "build_report expects a Comparison or a Journeys object. "
            f"Got {type(source).__name__} instead."
        )
    truth_s = _truth_series(truth)
    stages = []
    if comparison is None and models is not False:
        stages.append("fitting models")
    want_budget = budget is not None and budget is not False
    if validity is not None and validity is not False and models is not False:
        stages.append("validity scorecard")
    if want_budget:
        stages.append("budget plan")
    want_ropo = ropo is not None and ropo is not False
    if want_ropo:
        stages.append("ROPO")
    if kpis is not None and kpis is not False:
        stages.append("journey KPIs")
    stages.append("figures")
    has_costs = costs is not None or (comparison is not None and comparison.costs is not None)
    guess = (2 if models is not False else 0) + (2 * has_costs if want_budget else has_costs)
    guess += bool(want_ropo and journeys.has_place) + 2 * (kpis is not None and kpis is not False)
    tick = _Ticker(progress, len(stages) - 1 + guess)
    collected: list[str] = list(notes)
    plan = ropo_report = kpi_report = None
    meta: dict = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if comparison is None and models is not False:
            tick("fitting models")
            comparison = compare(journeys, models, costs=costs, progress=False)
        labels = comparison.labels if comparison is not None else []
        primary = budget_model or (_primary_label(labels, comparison.models) if labels else None)
        if primary is not None and labels and primary not in labels:
            raise ValueError(f"Unknown budget_model {primary!r}. Choose from the compared models {labels}.")
        meta["primary"] = primary
        card = None
        if validity is not None and validity is not False and validity != "auto":
            card = validity
        elif (validity == "auto" and comparison is not None and primary in comparison.models
              and estimand_of(comparison.models[primary]) == "incremental"):
            tick("validity scorecard")
            from .validity import validity as _validity

            card = _optional(lambda: _validity(comparison.models[primary], journeys), "Validity scorecard", collected)

        if want_budget:
            tick("budget plan")
            plan = _plan(budget, comparison, primary, bounds, collected, meta, card)
        if want_ropo:
            tick("ROPO")
            ropo_report = _ropo(ropo, journeys, comparison, primary, offline, customers, customer_id,
                                store_places, n_boot, collected, meta)
        if kpis is not None and kpis is not False:
            tick("journey KPIs")
            if kpis is True:
                from .kpis import kpis as _kpis

                kpi_report = _optional(lambda: _kpis(journeys), "Journey KPIs", collected)
            else:
                kpi_report = kpis
    for w in caught:
        msg = str(w.message)
        if msg not in collected:
            collected.append(msg)
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    report = Report(
        journeys, comparison, plan=plan, ropo=ropo_report, kpis=kpi_report, truth=truth_s, title=title,
        inputs=inputs, settings=settings, notes=collected, meta=meta, customer_analysis=customer_analysis, validity=card,
    )
    report.calibration = calibration  # a CalibrationResult: the "Calibration" section
    tick.extend(len(report._figure_specs()) - guess)
    report._render(lambda name: tick(f"figure: {name}"))
    tick.finish()
    return report


class _Ticker:
    """Stage progress: a callable ``f(stage, done, total)``, a tqdm bar on stderr, or nothing."""

    def __init__(self, progress, total: int):
        self.done = -1
        self.total = total
        self.callback = progress if callable(progress) else None
        self.bar = None
        if progress and not callable(progress):
            import sys

            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc="report", unit="step", file=sys.stderr, leave=False)

    def extend(self, n: int) -> None:
        self.total += n
        if self.bar is not None:
            self.bar.total = self.total
            self.bar.refresh()

    def __call__(self, stage: str) -> None:
        self.done += 1
        if self.callback is not None:
            self.callback(stage, self.done, self.total)
        if self.bar is not None:
            self.bar.n = self.done
            self.bar.set_description_str(stage)

    def finish(self) -> None:
        if self.callback is not None:
            self.callback("report ready", self.total, self.total)
        if self.bar is not None:
            self.bar.n = self.total
            self.bar.close()


def _optional(fn, what: str, notes: list[str]):
    try:
        return fn()
    except (ValueError, TypeError) as exc:
        notes.append(f"{what} left out: {exc}".split("\n")[0])
        return None


def _plan(budget, comparison, primary, bounds, notes, meta, card=None):
    from .budget import BudgetPlan

    if isinstance(budget, BudgetPlan):
        return budget
    if comparison is None or comparison.costs is None:
        if budget != "auto":
            raise ValueError("A budget plan needs costs: pass costs= (or a Comparison with costs).")
        return None
    spend = comparison.costs.groupby("channel")["cost"].sum()
    if isinstance(bounds, Mapping):
        bd = dict(bounds)
        meta["bounds"] = "as given per channel"
    else:
        low, high = bounds
        bd = budget_bounds(comparison.costs, low, high)
        meta["bounds"] = f"{low:g}–{high:g} × today's spend"
    if budget == "auto":
        total = round(float(spend[spend > 0].sum()), 2)
        if total <= 0:
            notes.append("Budget plan left out: no channel has a positive cost.")
            return None
        meta["budget_source"] = "today's total spend"
        return _optional(lambda: comparison.plan_budget(total, model=primary, bounds=bd, validity=card), "Budget plan", notes)
    meta["budget_source"] = "as given"
    return comparison.plan_budget(budget, model=primary, bounds=bd, validity=card)


def _ropo(ropo_arg, journeys, comparison, primary, offline, customers, customer_id, store_places, n_boot, notes, meta):
    from .omnichannel import RopoReport, ropo

    if isinstance(ropo_arg, RopoReport):
        if offline is not None:
            meta["offline"] = list(offline)
        return ropo_arg
    if not journeys.has_place:
        return None
    stores = {store_places} if isinstance(store_places, str) else set(store_places)
    places = [str(p) for p in journeys.places]
    if not stores & set(places):
        notes.append(
            f"ROPO left out: no conversion place is a store ({sorted(stores)}); places found: {places}."
        )
        return None
    if offline is None:
        offline = guess_offline(journeys.channels)
        meta["offline_guessed"] = True
    meta["offline"] = list(offline)
    model = comparison.models[primary] if comparison is not None and primary in comparison.models else (primary or "markov")
    return _optional(
        lambda: ropo(journeys, model, offline=list(offline), customers=customers, customer_id=customer_id,
                     store_places=tuple(stores), n_boot=n_boot),
        "ROPO", notes,
    )


# ---------------------------------------------------------------------------------------------
# formatting
# ---------------------------------------------------------------------------------------------

_esc = html.escape


def _is_missing(v) -> bool:
    return v is None or (isinstance(v, (float, np.floating)) and np.isnan(v)) or v is pd.NA


def _fmt(v, kind: str = "num1") -> str:
    """One cell as text: kinds num0, num1, num2, money, pct, pct0, ratio, text."""
    if _is_missing(v):
        return "–"
    if isinstance(v, (float, np.floating, int, np.integer)) and not isinstance(v, (bool, np.bool_)):
        x = float(v)
        if math.isinf(x):
            return "∞" if x > 0 else "−∞"
        if kind == "num0":
            s = f"{x:,.0f}"
        elif kind == "num1":
            s = f"{x:,.1f}"
        elif kind in ("num2", "money", "ratio"):
            s = f"{x:,.2f}"
        elif kind == "num3":
            s = f"{x:,.3f}"
        elif kind == "pct":
            s = f"{x:.1%}"
        elif kind == "pct0":
            s = f"{x:.0%}"
        elif kind == "signed_pct":
            s = f"{x:+.0%}"
        elif kind == "signed":
            s = f"{x:+,.2f}"
        else:
            s = f"{x:,.6g}"
        return "−" + s[1:] if s.startswith("-") else s
    return str(v)


def _table(df: pd.DataFrame, kinds=None, *, default: str = "num1", index_name: str | None = None,
           cls: str = "", emphasis: Sequence[str] = (), caption: str | None = None) -> str:
    """``df`` as an escaped HTML table; numbers right-aligned and formatted per column."""
    kinds = kinds or {}
    idx = index_name if index_name is not None else (df.index.name or "")
    head = "".join(
        f"<th class='{'num' if not _is_text_col(df[c]) else ''}{' em' if c in emphasis else ''}'>{_esc(str(c))}</th>"
        for c in df.columns
    )
    rows = []
    for label, row in zip(df.index, df.itertuples(index=False, name=None)):
        cells = []
        for c, v in zip(df.columns, row):
            kind = kinds.get(c, default)
            text = _fmt(v, kind) if kind != "text" else ("–" if _is_missing(v) else str(v))
            klass = ("num" if kind != "text" and not isinstance(v, str) else "") + (" em" if c in emphasis else "")
            cells.append(f"<td class='{klass.strip()}'>{_esc(text)}</td>")
        rc = " class='muted'" if str(label) == NO_TOUCH else ""
        rows.append(f"<tr{rc}><th scope='row'>{_esc(str(label))}</th>{''.join(cells)}</tr>")
    cap = f"<caption>{_esc(caption)}</caption>" if caption else ""
    return (
        f"<div class='table-wrap'><table class='{cls}'>{cap}<thead><tr><th>{_esc(str(idx))}</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _is_text_col(s: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(s.dtype) and not all(
        isinstance(v, (int, float, np.integer, np.floating)) for v in s.to_numpy()
    )


_NUMERIC = re.compile(r"^[−+-]?[0-9.,]+(%| |$)")


def _facts(items: Sequence[tuple[str, str]], *, text: bool = False) -> str:
    """A two-column table of (label, already formatted value); a label starting with two spaces
    is indented under the row above."""
    sub, num = " class='sub'", " class='num'"
    rows = "".join(
        f"<tr><th scope='row'{sub if k.startswith('  ') else ''}>{_esc(k.strip())}</th>"
        f"<td{num if not text and _NUMERIC.match(v) else ''}>{_esc(v)}</td></tr>"
        for k, v in items
    )
    return f"<div class='table-wrap'><table class='facts'><tbody>{rows}</tbody></table></div>"


def _notes_list(notes: Sequence[str], cls: str = "notes") -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{_esc(n)}</li>" for n in notes)
    return f"<ul class='{cls}'>{items}</ul>"


def _p(text: str, cls: str = "") -> str:
    c = f" class='{cls}'" if cls else ""
    return f"<p{c}>{_esc(text)}</p>"


# ---------------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------------


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


def _truncate_labels(fig) -> None:
    """Cut every tick label, legend entry and annotation of ``fig`` to :data:`MAX_LABEL` characters."""
    from matplotlib.ticker import FuncFormatter

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            fmt = axis.get_major_formatter()
            axis.set_major_formatter(FuncFormatter(lambda x, pos, f=fmt: _short(f(x, pos))))
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


# ---------------------------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------------------------

_CSS = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#d9e2ec; --accent:#1b6f8a; --bg:#f5f7fa; --em:#fff7e0; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "DejaVu Sans", sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; min-height: 100vh; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 8px; padding-bottom: 8px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 36px 0 8px; padding-top: 8px; border-top: 1px solid var(--line); color: var(--accent); }
h3 { font-size: 16px; margin: 22px 0 6px; }
p { margin: 6px 0 10px; max-width: 80ch; }
.sub { color: var(--muted); margin: 0; }
nav { margin: 10px 0 0; font-size: 14px; }
nav a { color: var(--accent); margin-right: 14px; text-decoration: none; white-space: nowrap; }
nav a:hover { text-decoration: underline; }
.glance { background: #eef6f9; border-left: 4px solid var(--accent); padding: 10px 18px; margin: 18px 0; }
.glance h2 { border: 0; margin: 4px 0; padding: 0; font-size: 18px; }
.glance ul { margin: 4px 0 6px; padding-left: 20px; }
.glance li { margin: 3px 0; }
.table-wrap { overflow-x: auto; margin: 8px 0 14px; max-width: 100%; }
table { border-collapse: collapse; font-size: 13.5px; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 4px 0; color: var(--ink); }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { background: #f0f4f8; border-bottom: 2px solid #bcccdc; text-align: left; white-space: nowrap; }
thead th.num { text-align: right; }
tbody th { text-align: left; font-weight: 500; white-space: nowrap; max-width: 28ch; overflow-wrap: anywhere; }
td.num { text-align: right; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafbfc; }
tr.muted th, tr.muted td { color: var(--muted); font-style: italic; }
th.em, td.em { background: var(--em); }
table.facts th { font-weight: 500; color: var(--muted); white-space: normal; max-width: 42ch; min-width: 16ch; }
table.facts th.sub { padding-left: 26px; }
table.facts td { text-align: left; }
table.facts td.num { text-align: right; }
.grid { display: flex; flex-wrap: wrap; gap: 0 32px; align-items: flex-start; }
.grid > div { flex: 1 1 320px; min-width: 0; }
figure { margin: 10px 0 18px; }
figure img { max-width: 100%; height: auto; display: block; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
.notes { color: #7a4d00; background: #fffaf0; border: 1px solid #f0dba8; padding: 8px 12px 8px 30px; font-size: 13.5px; }
.notes li { margin: 2px 0; overflow-wrap: anywhere; }
.hint { color: var(--muted); font-size: 13.5px; }
details { margin: 6px 0 12px; }
summary { cursor: pointer; color: var(--accent); font-size: 14px; }
.methods { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 4px 28px; }
.method { border-left: 3px solid var(--line); padding: 2px 0 2px 14px; margin: 10px 0 12px; }
.method h3 { margin-top: 4px; }
figure.small img { max-width: 560px; }
.method p { margin: 4px 0; }
.method b { color: var(--muted); font-weight: 600; }
code { background: #f0f4f8; padding: 0 4px; border-radius: 3px; font-size: 13px; }
footer { margin-top: 40px; border-top: 1px solid var(--line); padding-top: 8px; color: var(--muted); font-size: 13px; overflow-wrap: anywhere; }
@media print { body { background: #fff; } main { padding: 0; } details { display: block; } }
"""


class Report:
    """A self-contained HTML report of an attribution analysis (see :func:`build_report`).

    Parameters
    ----------
    journeys : Journeys
    comparison : Comparison, optional
    plan : BudgetPlan, optional
    ropo : RopoReport, optional
    kpis : JourneyKPIs, optional
    truth : Series, optional
        True conversions per channel.
    title : str
    inputs, settings : mapping, optional
        Listed in the header and the data summary.
    notes : list of str
        Shown in the data summary.
    meta : dict, optional
        Details of how the sections were made (``primary`` model, ``bounds``, ``offline``, ...).

    Attributes
    ----------
    figures : dict
        Figure name -> PNG bytes (rendered on first access).
    tables : dict
        Table name -> DataFrame: what :meth:`write` saves as CSV files.
    """

    def __init__(self, journeys, comparison=None, *, plan=None, ropo=None, kpis=None, truth=None,
                 title: str = "Attribution report", inputs=None, settings=None, notes=(), meta=None,
                 customer_analysis=None, validity=None):
        if not isinstance(journeys, Journeys):
            raise TypeError(f"Report needs the Journeys the analysis ran on. Got {type(journeys).__name__} instead.")
        self.journeys = journeys
        self.comparison = comparison
        self.plan = plan
        self.ropo = ropo
        self.kpis = kpis
        self.customer_analysis = customer_analysis  # attribution.customers.CustomerAnalysis, optional
        self.validity = validity
        self.truth = _truth_series(truth)
        self.title = str(title)
        self.inputs = {str(k): str(v) for k, v in (inputs or {}).items()}
        self.settings = {str(k): str(v) for k, v in (settings or {}).items()}
        self.notes = [str(n) for n in notes]
        self.meta = dict(meta or {})
        self.created = _dt.datetime.now().astimezone().replace(microsecond=0)
        self._figures: dict[str, bytes] | None = None
        self._figure_errors: dict[str, str] = {}

    def __repr__(self) -> str:
        parts = [s for s, v in (("models", self.comparison), ("ROI", self.has_costs), ("budget", self.plan),
                                ("ROPO", self.ropo), ("KPIs", self.kpis)) if v]
        return f"<Report {self.title!r}: {', '.join(parts) or 'data summary only'}>"

    # -- content --------------------------------------------------------------------------------

    @property
    def has_costs(self) -> bool:
        return self.comparison is not None and self.comparison.costs is not None

    @property
    def channel_order(self) -> list[str]:
        """Channels as the report lists them: by mean credit over the models, ``(no touch)`` last."""
        if self.comparison is None:
            return [str(c) for c in self.journeys.channels]
        cached = self.__dict__.get("_channel_order_cache")
        if cached is None or cached[0] is not self.comparison:  # computed once: sections ask per channel
            cached = (self.comparison, _channel_order(self.comparison.credits_wide))
            self.__dict__["_channel_order_cache"] = cached
        return list(cached[1])

    def credits_table(self) -> pd.DataFrame:
        """Attributed conversions, channel × model in report order (with a ``truth`` column)."""
        wide = self.comparison.credits_wide.reindex(self.channel_order)
        if self.truth is not None:
            wide["truth"] = self.truth.reindex(wide.index)
        wide.columns.name = None
        return wide

    def _roi_order(self) -> list[str]:
        """Paid channels by cost (largest first), then the others; ``(no touch)`` left out."""
        cost = self.comparison.roi.groupby("channel", sort=False)["cost"].first().drop(index=list(PSEUDO_CHANNELS), errors="ignore")
        paid = cost[cost > 0].sort_values(ascending=False, kind="stable").index.tolist()
        rest = [c for c in self.channel_order if c in cost.index and c not in paid]
        return paid + rest + [c for c in cost.index if c not in paid and c not in rest]

    def _plan_sorted(self):
        """The plan with its channels ordered by today's spend, largest first."""
        import copy

        plan = copy.copy(self.plan)
        order = plan.allocation["current"].sort_values(ascending=False, kind="stable").index
        plan.allocation = plan.allocation.reindex(order)
        plan.rule_based = plan.rule_based.reindex(order)
        return plan

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the report by file stem (saved by :meth:`write` as CSV)."""
        out: dict[str, pd.DataFrame] = {}
        j = self.journeys.describe()
        out["data_summary"] = j.to_frame("value")
        if self.comparison is not None:
            out["credits"] = self.comparison.credits
            wide = self.credits_table()
            wide.index.name = "channel"
            out["credits_wide"] = wide
            if self.has_costs:
                out["roi"] = self.comparison.roi
        if self.validity is not None:
            out["validity"] = self.validity.table
        if self.plan is not None:
            out["budget_plan"] = self.plan.allocation
            out["budget_totals"] = self.plan.totals
            direction = self.plan_direction()
            if direction is not None:
                out["budget_vs_truth"] = direction
        if self.ropo is not None:
            out["ropo_summary"] = self.ropo.summary.to_frame("value")
            out["ropo_by_channel"] = self.ropo.by_channel
            if self.ropo.incrementality is not None:
                out["ropo_incrementality"] = self.ropo.incrementality.to_frame("value")
        if self.kpis is not None:
            for name, frame in self.kpis.to_frames().items():
                out[f"kpis_{name}"] = frame
        return out

    # -- figures --------------------------------------------------------------------------------

    def _figure_specs(self) -> list[tuple[str, Callable, tuple[float, float]]]:
        from .plotting import decisions, omnichannel
        from .plotting import journeys as jplots

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

    @property
    def figures(self) -> dict[str, bytes]:
        """Figure name -> PNG bytes; a figure that cannot be drawn is left out (with a note)."""
        if self._figures is None:
            self._render()
        return self._figures

    def _render(self, before: Callable[[str], None] | None = None) -> None:
        out = {}
        self._figure_errors = {}
        for name, draw, size in self._figure_specs():
            if before is not None:
                before(name)
            try:
                out[name] = _png(draw, size)
            except Exception as exc:  # noqa: BLE001 - a picture must not sink the report
                self._figure_errors[name] = f"{type(exc).__name__}: {exc}"
        self._figures = out

    def _img(self, name: str, alt: str, caption: str = "", small: bool = False) -> str:
        data = self.figures.get(name)
        if data is None:
            err = self._figure_errors.get(name)
            return _p(f"(Figure '{name}' could not be drawn: {err})", "hint") if err else ""
        b64 = base64.b64encode(data).decode("ascii")
        cap = f"<figcaption>{_esc(caption)}</figcaption>" if caption else ""
        cls = " class='small'" if small else ""
        return f"<figure{cls}><img src='data:image/png;base64,{b64}' alt='{_esc(alt)}'>{cap}</figure>"

    # -- sections -------------------------------------------------------------------------------

    def _shown_elsewhere(self, section: str) -> set[str]:
        """Notes that the ROI, budget and ROPO sections list themselves."""
        out: set[str] = set()
        if self.has_costs:
            out |= set(self.comparison.roi_result.warnings)
        if self.plan is not None:
            out |= set(self.plan.warnings)
        if self.ropo is not None:
            out |= set(self.ropo.notes)
        return out

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
        bounds = self.meta.get("bounds", "")
        src = self.meta.get("budget_source", "")
        parts = ["<section id='budget'><h2>Budget plan</h2>",
                 _p(f"A budget of {plan.total_budget:,.2f}" + (f" ({src})" if src else "")
                    + f" spread over the {len(a)} paid channels to maximise the "
                    + (f"incremental {plan.objective} (what the channels cause) estimated by {plan.model}"
                       if plan.estimand == "incremental" else
                       f"{plan.objective} attributed by {plan.model} (shares of observed conversions, not what the "
                       "channels cause)")
                    + (f", each channel kept within {bounds}" if bounds else "")
                    + (f"; {list(plan.held.index)} held at today's spend (graded D)" if len(plan.held) else "") + "."),
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
                + (" Wrong: " + ", ".join(req.index[req["verdict"] == "wrong"]) + "." if (req["verdict"] == "wrong").any() else "")))
            show_d = direction[["true_return", "relative_to_median", "should", "planned_change_pct", "verdict"]].rename(
                columns={"true_return": "true conv. per unit spend", "relative_to_median": "vs median",
                         "planned_change_pct": "plan change"})
            parts.append(_table(show_d, {"true conv. per unit spend": "num2", "vs median": "signed_pct", "should": "text",
                                         "plan change": "signed_pct", "verdict": "text"}, index_name="channel",
                                caption="Does the plan follow the true incremental return?"))
        notes = plan.warnings
        if notes:
            parts.append(_notes_list(notes))
        parts.append("</section>")
        return "".join(parts)

    def plan_direction(self) -> pd.DataFrame | None:
        """With a truth and a plan: :func:`attribution.budget.check_plan_direction`."""
        if self.truth is None or self.plan is None:
            return None
        from .budget import check_plan_direction

        return check_plan_direction(self.plan, self.truth)

    def _estimand_words(self) -> str:
        if self.comparison is None:
            return "attributed"
        est = set(self.comparison.estimands)
        if est == {"incremental"}:
            return "incremental: what the channels caused"
        if est == {"attributed"}:
            return "attributed: observed conversions split over touching channels"
        return "attributed and incremental models side by side: not the same quantity"

    def _validity_section(self) -> str:
        v = self.validity
        t = v.table.set_index("channel")
        show = t[["grade", "estimate", "aipw", "exposed_extreme", "smd_after", "negative_control_z", "shuffle_ratio",
                  "e_value_ci"]].rename(columns={
                      "estimate": "incremental conv.", "aipw": "AIPW",
                      "exposed_extreme": "no overlap", "smd_after": "max |SMD|", "negative_control_z": "neg. ctrl z",
                      "shuffle_ratio": "shuffled", "e_value_ci": "E-value"})
        kinds = {"grade": "text", "incremental conv.": "num1", "AIPW": "num1", "no overlap": "pct",
                 "max |SMD|": "num2", "neg. ctrl z": "num2", "shuffled": "pct", "E-value": "num2"}
        parts = ["<section id='validity'><h2>Validity scorecard</h2>",
                 _p(f"How far can each channel's incremental credit under {v.model} be trusted? Grade A: every check "
                    "passes; B: one or two warnings; C: one failed check or three warnings; D: two failed checks "
                    "(held at today's spend in the plan). Checks: overlap of exposure, covariate balance after "
                    "weighting, a placebo channel inserted at random, a negative-control outcome (purchases before "
                    "the journey), moving the exposure to another journey of the same person, agreement with a "
                    "doubly robust (AIPW) estimate, and sensitivity to hidden confounding (E-value; selection on "
                    "observables)."),
                 _p(v._placebo_text()),
                 _p("Columns: the model's incremental conversions and the AIPW cross-check; share of exposed journeys "
                    "without comparable unexposed ones (propensity above 0.95); the largest standardised mean "
                    "difference of the covariates after weighting; the z-score of the channel's 'effect' on purchases "
                    "made before the journey; the share of the effect that survives moving the exposure to another "
                    "journey of the same person; the E-value of the confidence limit.", "hint"),
                 _table(show, kinds, index_name="channel", emphasis=["grade"],
                        caption=f"Validity of the incremental credit of {v.model}"),
                 _notes_list([f"{c} ({g}): {r}" for c, g, r in zip(t.index, t["grade"], t["reason"]) if r]),
                 self._img("validity", "Incremental credit per channel, coloured by grade")]
        if v.flagged:
            parts.append(_p(f"Graded D: {v.flagged}. Their ROI is flagged and the plan holds their spend.", "hint"))
        parts.append("</section>")
        return "".join(parts)

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

    # -- output ---------------------------------------------------------------------------------

    def to_html(self) -> str:
        """The report as one self-contained HTML page (no script, no external resource)."""
        from . import __version__

        sections: list[tuple[str, str, str]] = [("data", "Data", self._data_section())]
        if self.comparison is not None:
            sections.append(("models", "Models", self._models_section()))
            if self.has_costs:
                sections.append(("roi", "ROI", self._roi_section()))
        if self.validity is not None:
            sections.append(("validity", "Validity", self._validity_section()))
        if self.plan is not None:
            sections.append(("budget", "Budget plan", self._budget_section()))
        if self.ropo is not None:
            sections.append(("ropo", "ROPO", self._ropo_section()))
        if self.kpis is not None:
            sections.append(("kpis", "Journey KPIs", self._kpi_section()))
        if getattr(self, "calibration", None) is not None:
            sections.append(("calibration", "Calibration", calibration_section(self.calibration, plan=getattr(self, "calibration_plan", None))))
        if self.customer_analysis is not None:  # the section is built by attribution.customers
            sections.append(("customers", "Customers", self.customer_analysis.section_html()))
        sections.append(("methods", "Method notes", self._methods_section()))
        nav = "".join(f"<a href='#{sid}'>{_esc(label)}</a>" for sid, label, _ in sections)
        cmp = self.comparison
        sub = []
        if cmp is not None:
            sub.append(f"{len(cmp.labels)} model{'s' if len(cmp.labels) != 1 else ''}: {', '.join(cmp.labels)}")
        sub.append(f"created {self.created:%Y-%m-%d %H:%M %Z}".strip())
        body = "".join(s for _, _, s in sections)
        return (
            "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<meta name='generator' content='attribution {_esc(__version__)}'>"
            f"<title>{_esc(self.title)}</title><style>{_CSS}</style></head><body><main>"
            f"<header><h1>{_esc(self.title)}</h1><p class='sub'>{_esc(' · '.join(sub))}</p>"
            f"<nav>{nav}</nav></header>"
            + self._glance()
            + body
            + f"<footer>Made with attribution {_esc(__version__)} on {self.created:%Y-%m-%d}. Everything, figures "
            "included, is inside this one file: it opens offline and can be shared as is.</footer>"
            "</main></body></html>\n"
        )

    def _repr_html_(self) -> str:
        doc = self.to_html()
        return (f"<iframe srcdoc=\"{html.escape(doc, quote=True)}\" "
                "style='width:100%;height:900px;border:1px solid #ddd'></iframe>")

    def save(self, path) -> Path:
        """Write the HTML page to ``path`` (UTF-8) and return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_html(), encoding="utf-8")
        return path

    def write(self, directory, *, html_name: str = "report.html") -> list[Path]:
        """Write ``report.html``, every table as CSV and every figure as PNG into ``directory``.

        Returns
        -------
        list of Path
            The files written, the report first.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        written = [self.save(directory / html_name)]
        for name, frame in self.tables.items():
            p = directory / f"{name}.csv"
            index = not isinstance(frame.index, pd.RangeIndex)
            csv_safe(frame).to_csv(p, index=index)
            written.append(p)
        for name, data in self.figures.items():
            p = directory / f"{name}.png"
            p.write_bytes(data)
            written.append(p)
        return written


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


# ---------------------------------------------------------------------------------------------
# calibration by experiments (issue 13): a self-contained section
# ---------------------------------------------------------------------------------------------


def calibration_section(cal, *, plan=None) -> str:
    """The report's "Calibration" section for a :class:`~attribution.calibration.CalibrationResult`.

    Each test and the incrementality factor it implies, credit and ROI before and after with
    intervals, the factor figure, which channel to test next and (given ``plan``, a plan from
    :meth:`CalibrationResult.plan_budget`) the calibrated plan with its uncertainty.
    """
    h = cal.hyper
    lv = float(h["level"])
    parts = [
        "<section id='calibration'><h2>Calibration by experiments</h2>",
        _p(f"{len(cal.tests)} test(s) on {int(h['tested_channels'])} channel(s) correct the {cal.estimand} credit of "
           f"{cal.label}; the result is incremental credit. A test's factor = its incremental outcome, scaled to "
           "the model's period, ÷ the model's credit; a tested channel rests on its own tests"
           f"{' (partially pooled toward the others)' if bool(h.get('pool_tested', False)) else ''}; "
           "untested channels are shrunk to the tested ones "
           f"(mean factor {float(h['mu']):.3f} ± {float(h['mu_sd']):.3f}, between-channel sd {float(h['tau']):.3f})."),
    ]
    t = cal.tests.set_index("test")[["channel", "kind", "outcome", "start", "end", "incremental", "se", "scale",
                                     "implied_incremental", "model_credit", "factor", "factor_se"]]
    t = t.assign(start=t["start"].astype(str), end=t["end"].astype(str))
    parts.append(_table(t, {"channel": "text", "kind": "text", "outcome": "text", "start": "text", "end": "text",
                            "scale": "num2", "factor": "num3", "factor_se": "num3"}, index_name="test",
                        caption="Tests and the incrementality factor each implies"))
    c = cal.comparison
    c = c.assign(tested=np.where(c["tested"], "yes", ""))
    parts.append(_table(c, {"tested": "text", "factor": "num3", "factor_low": "num3", "factor_high": "num3"},
                        index_name="channel", emphasis=["after"],
                        caption=f"Conversions credited before ({cal.estimand}) and after calibration (incremental, {lv:.0%} interval)"))
    parts.append(_calibration_img(cal))
    if cal.costs is not None:
        try:
            roi = cal.roi().table
            wide = roi.pivot_table(index="channel", columns="model", values="roi", sort=False)
            lo = roi[roi["model"].str.contains("calibrated, incremental")].set_index("channel")
            wide["calibrated low"] = lo["roi_low"].reindex(wide.index)
            wide["calibrated high"] = lo["roi_high"].reindex(wide.index)
            parts.append(_table(wide, default="num2", index_name="channel",
                                caption="ROI = (value − cost) / cost before and after calibration"))
            nt = cal.next_tests()
            parts.append(_table(nt[["rank", "spend_share", "tested", "factor", "factor_sd", "score"]],
                                {"rank": "num0", "spend_share": "pct", "tested": "text", "factor": "num3",
                                 "factor_sd": "num3", "score": "num3"}, index_name="channel",
                                caption="Which channel to test next: variance of its factor × its share of spend"))
        except (ValueError, KeyError) as exc:
            parts.append(_p(f"ROI and test ranking not shown: {exc}", "hint"))
    if plan is not None:
        a = plan.allocation
        cols = [c for c in ("current", "planned", "planned_low", "planned_high", "p_increase") if c in a.columns]
        parts.append(_table(a[cols], {"p_increase": "pct0"}, default="money", index_name="channel",
                            caption=f"Budget plan on calibrated credit ({lv:.0%} interval over posterior draws)"))
    if cal.notes:
        parts.append(_notes_list(cal.notes))
    parts.append("</section>")
    return "".join(parts)


def _calibration_img(cal) -> str:
    n = len(cal.factors)
    data = _png(lambda ax: cal.plot(ax=ax), (7.5, 0.42 * n + 1.6))
    b64 = base64.b64encode(data).decode("ascii")
    alt = "Incrementality factor per channel: tests and calibrated factors with intervals"
    return f"<figure><img src='data:image/png;base64,{b64}' alt='{_esc(alt)}'><figcaption>{_esc(alt)}</figcaption></figure>"
