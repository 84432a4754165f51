r"""A validity scorecard: how far can each channel's incremental credit be trusted?

:func:`validity` runs a fixed set of checks on a fitted model and the journeys it was fitted on,
per channel, and grades every channel A–D with the reason. The checks use the doubly robust
AIPW machinery (:mod:`attribution.models.aipw`) for everything that is a property of the data
(overlap, balance, negative control, time shuffle) and refit the model itself for the placebo.

Checks
------
overlap
    Propensity of exposure to the channel given the covariates (cross-fitted): the share of
    journeys with a propensity outside [0.05, 0.95] (reported), the share of *exposed* journeys
    above 0.95 (graded: for the effect on the exposed these have no comparable unexposed
    journeys) and the effective sample size of the weighted unexposed journeys relative to their
    number. Little overlap means the estimate extrapolates.
balance
    The largest standardised mean difference of the covariates between exposed and weighted
    unexposed journeys (after weighting by :math:`e/(1-e)`); above 0.1 is the usual threshold
    of concern (Austin 2009).
placebo
    A fake channel ``"(placebo)"`` is inserted at random into journeys (as many as the median
    channel reaches; for a model that reads exposure over calendar time, ``unit="time"``, at
    random times over each person's whole data window, as many people as the median channel
    reaches journeys: :func:`add_placebo` ``span="window"``) and the model refitted: its
    incremental credit must be about zero — its
    95 % interval must cover zero (for a model without intervals: less than 1 % of the
    conversions). The share of conversions it gets is reported, and a wide interval is noted.
    A failure means the estimator credits reach, not cause, and adds a fail to every channel.
negative control
    The outcome "this person had already converted before the journey began" cannot be caused
    by the journey's exposure; a significant AIPW "effect" of the channel on it reveals
    confounding the covariates do not remove (e.g. channels targeted at past buyers).
time shuffle
    The channel's exposure is moved to another journey of the same person (people with several
    journeys): a channel whose effect acts on the journey it touches loses its credit; credit
    that survives (significantly, at 5 %) comes from *who* the channel reaches (a person trait),
    not from the touch. Run only for channels with a significant effect among those people.
agreement
    The model's incremental credit against the AIPW estimate, as a z-score with both standard
    errors (not applicable when the model is AIPW itself).
sensitivity
    The E-value (VanderWeele & Ding 2017) of the confidence limit nearest the null: how strong a
    hidden confounder (risk ratio with both exposure and conversion) would have to be to explain
    the effect away. With :math:`RR` the ratio of the exposed journeys' conversion rate to their
    counterfactual rate, :math:`E = RR + \sqrt{RR (RR - 1)}` (for :math:`RR < 1` use
    :math:`1/RR`); :math:`E = 1` when the interval covers the null (the model's interval, or the
    AIPW standard error for a model without intervals). Beside it, the
    selection-on-observables ratio (Altonji, Elder & Taber 2005; Oster 2019):
    :math:`\delta = \widehat{ATT} / (\widehat{ATT}_{naive} - \widehat{ATT})`, how many times
    stronger than the confounding the covariates removed a hidden confounding would have to be
    to remove the rest of the effect (only when adjustment shrank it); below 1 fails, below 2
    warns. The AIPW estimate is used for it (it is a property of the data and covariates).

specification
    For a model that declares its unit of analysis (``Causal``'s ``diagnostics_["unit"]``): does
    the data's :func:`~attribution.models.incremental.market_persistence` (touches in the week
    after a purchase / the week before) fit it? The hazard model (``"time"``) assumes people stay
    in market (ratio at or above 0.55), the journey model that purchases close shopping episodes
    (below). Within 0.1 of the threshold it warns; a contradiction fails and grades every
    channel D (the model is the wrong model for these data). ``unit="auto"`` never contradicts it.

Which checks grade a channel depends on what the model assumes: a check must test the model that
was fitted, not another estimator.

* **AIPW and attributed models** (no declared unit; they rest on selection on the observed touch
  counts): every check above, as described.
* **Causal, unit="journey"** (latent intent drives both reach and purchase): the negative control
  (purchases before the journey) and the time shuffle find what the latent intent is there to
  model (people reached because they buy anyway), so they do not grade it; nor does the
  balance of the AIPW weights, which it does not use. They decide whether AIPW is a fair
  reference: where AIPW fails its own negative control, time shuffle or balance, the agreement
  check only warns ("no unconfounded cross-check"). The two estimands differ (the model's
  Shapley credit, AIPW's effect holding the other channels fixed), so a difference under a
  quarter of the larger estimate or 1 % of the conversions passes however significant (at
  20,000 customers in the randomised world differences of this size failed display, e-mail and
  video, whose estimates were within 0.9-1.25 of the truth). Graded: specification, overlap, placebo,
  agreement, sensitivity (E-value). (Measured on the episode world, 20,000 customers, seeds 1
  and 2: the journey-level negative control failed 9 and 8 of the 10 channels, display, social
  and video among them, whose estimates were 0.75-0.91 of the truth; AIPW was further from the
  truth than the model for 8 of 10 channels in both seeds. Held as D, such channels made the
  report's plan hold 4-8 of 8 paid channels.)
* **Causal, unit="time"** (person-day hazard, identified within person): the journey-level
  checks compare journeys that purchases cut, not the model's comparison, so overlap, balance,
  negative control and time shuffle are replaced by checks on a person-day panel of the model's
  design (:mod:`attribution.decisions._hazard_checks`):

  - *negative control = leads of exposure*: touches of the channel on the next 7 days, added
    (with their person means) to the model's regression of today's purchase on lagged adstock
    and person controls, must have slope 0 (|z| above 1.96 warns, above 3 fails; person-clustered
    sandwich). Estimand: the log-odds slope of a future touch; it finds timing tied to purchases
    by something other than the exposure (episodes, transient intent, touches triggered by
    purchases) and person traits the controls miss (without the person controls the leads of
    the intent-targeted channels have z of 3-5 on the always-in-market world);
  - *agreement = decay refit*: the model refitted with every half-life doubled; a channel whose
    credit changes by more than a third (warn) or half (fail) of the larger of the two, beyond
    2 approximate standard errors (from the effect z of ``diagnostics_``) and 1 % of the
    conversions, rests on the assumed decay.

  Graded: specification, placebo (over the window), leads, decay refit, sensitivity.

Grades
------
Each check is ``pass``, ``warn``, ``fail`` or ``n/a`` by the thresholds in :data:`THRESHOLDS`
(conventions, not tuned to any data set). A failed placebo adds a ``fail`` to every channel.
Grade **A**: every check passes (or does not apply); **B**: no fail, one or two warns; **C**: one
fail, or three warns or more; **D**: two fails or more, or a failed specification. A channel graded D is flagged in ROI tables and held at today's spend
in budget plans (:func:`attribution.decisions.budget.plan_budget` ``validity=``) unless overridden.

References
----------
.. [1] VanderWeele, T. J. & Ding, P. (2017). Sensitivity analysis in observational research:
   introducing the E-value. *Annals of Internal Medicine* 167(4), 268–274.
.. [2] Austin, P. C. (2009). Balance diagnostics for comparing the distribution of baseline
   covariates between treatment groups in propensity-score matched samples. *Statistics in
   Medicine* 28(25), 3083–3107.
.. [3] Lipsitch, M., Tchetgen Tchetgen, E. & Cohen, T. (2010). Negative controls: a tool for
   detecting confounding and bias in observational studies. *Epidemiology* 21(3), 383–388.
.. [4] Altonji, J. G., Elder, T. E. & Taber, C. R. (2005). Selection on observed and unobserved
   variables: assessing the effectiveness of Catholic schools. *JPE* 113(1), 151–184.
.. [5] Oster, E. (2019). Unobservable selection and coefficient stability. *Journal of Business
   & Economic Statistics* 37(2), 187–204.
.. [6] Frontier notes §(a)1 (the causal-validity scorecard).
"""

from __future__ import annotations

import html
import json
import numbers

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import clone

from ..exceptions import JourneyValidationError, NotFittedError
from ..journeys import Journeys
from ..models.aipw import aipw_effects, journey_covariates, touch_counts, unit_table
from ..models.base import BASELINE, PSEUDO_CHANNELS, AttributionModel, _param_error, estimand_of

__all__ = ["PLACEBO", "THRESHOLDS", "ValidityResult", "add_placebo", "e_value", "select_estimator", "validity"]

#: Name of the fake channel inserted by the placebo check.
PLACEBO = "(placebo)"

#: Thresholds of the checks: (warn above, fail above) or (warn below, fail below).
THRESHOLDS = {
    "exposed_extreme": (0.1, 0.3),  # share of exposed journeys with propensity above 0.95
    "ess_ratio": (0.2, 0.05),  # effective sample size of the weighted unexposed / their number
    "smd_after": (0.1, 0.25),  # max |standardised mean difference| after weighting
    "negative_control_z": (1.96, 3.0),
    "shuffle_ratio": (0.5, 0.8),  # credit surviving the within-person shuffle
    "agreement_z": (1.96, 3.0),
    "e_value": (1.25, None),  # E-value of the confidence limit: warn below
    "selection_ratio": (2.0, 1.0),  # Altonji-Elder-Taber ratio: warn below 2, fail below 1
    "placebo_share": 0.01,  # |placebo credit| / conversions
    "lead_z": (1.96, 3.0),  # hazard model: z of the leads of exposure (the negative control of unit="time")
    "decay_rel": (1 / 3, 1 / 2),
    "material": 0.25,  # causal model vs AIPW: a difference under a quarter of the larger estimate is immaterial  # hazard model: |credit - credit at doubled half-lives| / the larger of the two
}

_CHECKS = ("specification", "overlap", "balance", "placebo", "negative_control", "time_shuffle", "agreement", "sensitivity")
_POINTS = {"A": 3, "B": 2, "C": 1, "D": 0}


# ---------------------------------------------------------------------------------------------
# E-value
# ---------------------------------------------------------------------------------------------


def e_value(rr) -> np.ndarray:
    """E-value of a risk ratio (VanderWeele & Ding 2017): :math:`RR + \\sqrt{RR(RR-1)}`, with
    :math:`RR` replaced by :math:`1/RR` below 1. Vectorised; NaN stays NaN.

    Examples
    --------
    >>> float(e_value(2.0))  # 2 + sqrt(2)
    3.414213562373095
    >>> float(e_value(0.5)) == float(e_value(2.0))
    True
    >>> float(e_value(1.0))
    1.0
    """
    rr = np.asarray(rr, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(rr < 1, 1.0 / rr, rr)
        return r + np.sqrt(r * (r - 1.0))


def _e_value_of_interval(rate1, att, lo, hi) -> tuple[float, float]:
    """(E-value of the point estimate, E-value of the confidence limit nearest the null) for an
    effect ``att`` on the conversion probability of the exposed (observed rate ``rate1``)."""
    if not (np.isfinite(rate1) and np.isfinite(att)) or rate1 <= 0:
        return np.nan, np.nan

    def rr_of(a):
        cf = rate1 - a  # counterfactual rate of the exposed
        return rate1 / cf if cf > 0 else np.inf

    point = float(e_value(rr_of(att)))
    if not (np.isfinite(lo) and np.isfinite(hi)) or (lo <= 0 <= hi):
        return point, 1.0
    bound = lo if att > 0 else hi
    return point, float(e_value(rr_of(bound)))


# ---------------------------------------------------------------------------------------------
# placebo
# ---------------------------------------------------------------------------------------------


def add_placebo(journeys: Journeys, rate: float, random_state=0, name: str = PLACEBO, per_day: bool = False,
                span: str = "journey") -> Journeys:
    """Journeys with a fake channel inserted at random.

    ``span="journey"`` (default): each journey with touches receives one touch of ``name`` with
    probability ``rate`` (with ``per_day=True``: with probability ``1 - exp(-r d)``, ``d`` the
    journey's span in days and ``r`` set so that a journey of mean span gets ``rate``): with
    timestamps, at a uniform random time between the journey's first touch and its end (its
    conversion, else its last touch), placed in time order; without, at a uniformly random
    position.

    ``span="window"`` (journeys with timestamps and customers, built with every touch kept:
    ``Journeys.from_events(..., lookback=None)``): each person receives ``Poisson(-log(1 - rate))``
    touches (so a share ``rate`` of the people is reached) at uniform random times over the whole
    data window (first to last touch or conversion of any journey), as if the event log had held
    them: a touch goes to the person's first journey whose conversion is at or after it, a touch
    after the person's last conversion to their journey without a conversion (a new one, holding
    only placebo touches, when the person has none). Touches inserted into existing journeys only
    fall before the journeys' ends, so a model that reads each person's exposure over calendar
    time (``Causal(unit="time")``) sees a placebo that precedes purchases more often than chance:
    this span is the right placebo for it.

    The placebo is independent of everything, so its true incremental effect is zero.
    """
    if span not in ("journey", "window"):
        raise _param_error("add_placebo", "span", "'journey' or 'window'", span)
    if span == "window":
        return _add_placebo_window(journeys, rate, random_state, name)
    rng = np.random.default_rng(random_state)
    J = journeys.n_journeys
    lengths = np.asarray(journeys.lengths)
    if per_day and journeys.touch_time is not None:
        # as many placebo touches as a Poisson process with a constant rate per day over the
        # journey's span would give (at most one kept), so the placebo does not favour short
        # journeys (which end in a quick conversion)
        has = lengths > 0
        first = np.zeros(J, dtype=np.int64)
        end = np.zeros(J, dtype=np.int64)
        first[has] = journeys.touch_time[journeys.offsets[:-1][has]].astype(np.int64)
        end[has] = journeys.touch_time[journeys.offsets[1:][has] - 1].astype(np.int64)
        if journeys.conversion_time is not None:
            ct = journeys.conversion_time
            ok = has & ~np.isnat(ct)
            end[ok] = np.maximum(end[ok], ct[ok].astype(np.int64))
        days = (end - first) / 8.64e13 + 1.0  # a journey of one day counts one day
        per = rate / max(float(np.mean(days[has])) if has.any() else 1.0, 1e-9)
        chosen = has & (rng.random(J) < -np.expm1(-per * days))
    else:
        chosen = (rng.random(J) < rate) & (lengths > 0)
    sel = np.flatnonzero(chosen)
    pos = np.floor(rng.random(len(sel)) * (lengths[sel] + 1)).astype(np.int64)
    C = journeys.n_channels
    T = journeys.n_touches
    jid = journeys.journey_index
    key_old = jid.astype(np.float64) * 1e6 + 2 * np.asarray(journeys.position, dtype=np.float64) + 1
    key_new = sel.astype(np.float64) * 1e6 + 2 * pos
    order = np.argsort(np.concatenate([key_old, key_new]), kind="stable")
    channel = np.concatenate([journeys.touch_channel, np.full(len(sel), C, dtype=np.int32)])[order]
    counts = lengths + chosen
    offsets = np.concatenate([[0], np.cumsum(counts)])
    times = None
    if journeys.touch_time is not None:
        # a uniform time between the journey's first touch and its end (conversion, else last
        # touch), independent of when the real touches happened; the position follows the time
        first = journeys.touch_time[journeys.offsets[sel]].astype(np.int64)
        last = journeys.touch_time[journeys.offsets[sel] + lengths[sel] - 1].astype(np.int64)
        end = last
        if journeys.conversion_time is not None:
            ct = journeys.conversion_time[sel]
            ok = ~np.isnat(ct)
            end = np.where(ok, np.maximum(ct.astype(np.int64), last), last)
        t_new = (first + np.floor(rng.random(len(sel)) * (end - first + 1))).astype(np.int64)
        t_old = journeys.touch_time.astype(np.int64)
        # position = number of the journey's touches strictly before the placebo time
        pos = np.array([np.searchsorted(t_old[journeys.offsets[j]:journeys.offsets[j + 1]], t, side="right")
                        for j, t in zip(sel, t_new)], dtype=np.int64) if len(sel) else pos
        key_new = sel.astype(np.float64) * 1e6 + 2 * pos
        order = np.argsort(np.concatenate([key_old, key_new]), kind="stable")
        channel = np.concatenate([journeys.touch_channel, np.full(len(sel), C, dtype=np.int32)])[order]
        times = np.concatenate([t_old, t_new]).astype("datetime64[ns]")[order]
    if T + len(sel) != len(channel):  # pragma: no cover - guarded by construction
        raise AssertionError("placebo insertion lost touches")
    return Journeys(
        np.append(np.asarray(journeys.channels, dtype=object), name).astype(object), channel, offsets,
        journeys.conversions, journeys.nulls, journeys.value, touch_time=times,
        conversion_time=journeys.conversion_time, place=journeys.place, customer=journeys.customer,
        id_map=journeys.id_map,
    )


def _add_placebo_window(journeys: Journeys, rate: float, random_state, name: str) -> Journeys:
    """``add_placebo(span="window")``: placebo touches over the whole data window, per person."""
    if journeys.touch_time is None or journeys.conversion_time is None or journeys.customer is None:
        raise JourneyValidationError(
            "add_placebo(span='window') needs journeys with touch and conversion times and customers "
            "(Journeys.from_events(..., lookback=None)); use span='journey' for others.")
    if not 0.0 <= rate < 1.0:
        raise _param_error("add_placebo", "rate", "a share of people in [0, 1)", rate)
    rng = np.random.default_rng(random_state)
    J, C = journeys.n_journeys, journeys.n_channels
    t_old = journeys.touch_time.astype("datetime64[s]").astype(np.int64)
    ct = journeys.conversion_time
    converts = ~np.isnat(ct)
    c_sec = np.where(converts, ct.astype("datetime64[s]").astype(np.int64), 0)
    every = np.concatenate([t_old, c_sec[converts]])
    lo, hi = int(every.min()), int(every.max())
    person, names = pd.factorize(pd.Series(journeys.customer, dtype=object).astype(str), sort=True)
    P = len(names)
    n = rng.poisson(-np.log1p(-rate), P)
    who = np.repeat(np.arange(P), n)
    when = lo + np.floor(rng.random(who.size) * (hi - lo + 1)).astype(np.int64)
    # each person's journeys ordered by their end (conversion; no conversion: after the window)
    W = hi - lo + 2
    end = np.where(converts, c_sec - lo, W - 1)
    jkey = person.astype(np.int64) * W + end
    order = np.argsort(jkey, kind="stable")
    pos = np.searchsorted(jkey[order], who * W + (when - lo), side="left")
    found = pos < J
    target = np.full(who.size, -1, dtype=np.int64)
    target[found] = order[pos[found]]
    found &= person[np.maximum(target, 0)] == who
    # touches after a person's last conversion without an open journey: one new journey each
    late = np.unique(who[~found])
    new_of = np.full(P, -1, dtype=np.int64)
    new_of[late] = J + np.arange(late.size)
    target[~found] = new_of[who[~found]]
    J2 = J + late.size
    jid = np.concatenate([journeys.journey_index, target])
    times = np.concatenate([journeys.touch_time.astype("datetime64[ns]").astype(np.int64), when * 1_000_000_000])
    chan = np.concatenate([journeys.touch_channel, np.full(who.size, C, dtype=np.int32)])
    is_new = np.concatenate([np.zeros(t_old.size, dtype=np.int8), np.ones(who.size, dtype=np.int8)])
    srt = np.lexsort((is_new, times, jid))  # by journey, then time (a real touch first on a tie)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(jid, minlength=J2))])

    def extend(a, fill):
        if a is None:
            return None
        return np.concatenate([np.asarray(a), np.full(late.size, fill, dtype=np.asarray(a).dtype)])

    customer = np.concatenate([np.asarray(journeys.customer, dtype=object), np.asarray(names, dtype=object)[late]])
    return Journeys(
        np.append(np.asarray(journeys.channels, dtype=object), name).astype(object), chan[srt], offsets,
        extend(journeys.conversions, 0.0), extend(journeys.nulls, 1.0), extend(journeys.value, 0.0),
        touch_time=times[srt].astype("datetime64[ns]"),
        conversion_time=extend(journeys.conversion_time, np.datetime64("NaT")),
        place=None if journeys.place is None else extend(journeys.place.astype(object), None),
        customer=customer, id_map=journeys.id_map,
    )


# ---------------------------------------------------------------------------------------------
# negative control and shuffle helpers
# ---------------------------------------------------------------------------------------------


def _prior_conversion(journeys: Journeys) -> np.ndarray | None:
    """Per journey: 1 when the same person converted before the journey's first touch."""
    if journeys.customer is None or journeys.touch_time is None or journeys.conversion_time is None:
        return None
    J = journeys.n_journeys
    lengths = np.asarray(journeys.lengths)
    start = np.full(J, np.datetime64("NaT"), dtype="datetime64[ns]")
    has = lengths > 0
    start[has] = journeys.touch_time[journeys.offsets[:-1][has]]
    cust = pd.Series(journeys.customer).astype(str).to_numpy()
    conv = np.asarray(journeys.conversions) > 0
    ct = journeys.conversion_time
    right = pd.DataFrame({"customer": cust[conv], "time": ct[conv]}).dropna().sort_values("time")
    right["seen"] = 1.0
    left = pd.DataFrame({"customer": cust, "time": start, "row": np.arange(J)})
    ok = left["time"].notna()
    merged = pd.merge_asof(left[ok].sort_values("time"), right, on="time", by="customer",
                           direction="backward", allow_exact_matches=False)
    out = np.zeros(J)
    out[merged["row"].to_numpy()] = merged["seen"].fillna(0.0).to_numpy()
    return out


def _shuffle_within(group: np.ndarray, values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``values`` moved among rows of the same group so that every row of a group of two or more
    receives another row's value (rows in random order, each taking the next one's value)."""
    order = np.lexsort((rng.random(len(group)), group))
    g = group[order]
    start = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    size = np.diff(np.r_[start, len(g)])
    first = np.repeat(start, size)
    pos = np.arange(len(g)) - first
    nxt = first + (pos + 1) % np.repeat(size, size)
    out = np.empty_like(values)
    out[order] = values[order[nxt]]
    return out


# ---------------------------------------------------------------------------------------------
# the scorecard
# ---------------------------------------------------------------------------------------------


def _check_model(model) -> AttributionModel:
    if not isinstance(model, AttributionModel):
        raise TypeError(f"validity expects a fitted attribution model; got {type(model).__name__}.")
    if "credits_" not in model.__dict__:
        raise NotFittedError(
            f"This {type(model).__name__} instance is not fitted yet. Call 'fit' with a Journeys object first, "
            "then pass it to validity()."
        )
    return model


def _model_se(model, channels) -> tuple[pd.Series, pd.Series]:
    """(incremental conversions, their standard error) of the model per channel (NaN se when
    the model gives no interval)."""
    cr = model.credits_["conversions"].reindex(channels).astype(float)
    iv = model.__dict__.get("credit_intervals_")
    if isinstance(iv, pd.DataFrame) and {"conversions_low", "conversions_high"} <= set(iv.columns):
        level = float(getattr(model, "level", 0.9) or 0.9)
        z = stats.norm.ppf(0.5 + level / 2)
        se = (iv["conversions_high"] - iv["conversions_low"]).reindex(channels).astype(float) / (2 * z)
    else:
        se = pd.Series(np.nan, index=channels)
    return cr, se


def _status(value, warn, fail, higher_is_worse=True) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    if higher_is_worse:
        return "fail" if fail is not None and value > fail else "warn" if value > warn else "pass"
    return "fail" if fail is not None and value < fail else "warn" if value < warn else "pass"


def _unit_of(model) -> str | None:
    """The unit of analysis a model declares (``diagnostics_["unit"]`` of the causal model)."""
    diag = model.__dict__.get("diagnostics_")
    u = diag.get("unit") if isinstance(diag, dict) else None
    return u if u in ("time", "journey") else None


def _specification(model, unit) -> dict:
    """Does the model's unit of analysis fit the data's market persistence? (model level)"""
    out = {"status": "n/a", "ratio": np.nan, "reason": ""}
    if unit is None:
        return out
    from ..models.incremental import (
        _MIN_PERSISTENCE_CONVERSIONS,
        PERSISTENCE_MARGIN,
        PERSISTENCE_THRESHOLD,
    )

    diag = model.diagnostics_
    r = float(diag.get("market_persistence", np.nan))
    n = float(diag.get("persistence_conversions", 0.0))
    out["ratio"] = r
    if not np.isfinite(r) or n < _MIN_PERSISTENCE_CONVERSIONS:
        return out
    fits = (r >= PERSISTENCE_THRESHOLD) == (unit == "time")
    near = abs(r - PERSISTENCE_THRESHOLD) < PERSISTENCE_MARGIN
    what = ("people stay in market (a person-day hazard)" if unit == "time"
            else "purchases close shopping episodes (a journey model)")
    if fits:
        out["status"] = "warn" if near else "pass"
    else:
        out["status"] = "warn" if near else "fail"
    if out["status"] != "pass":
        out["reason"] = (f"specification {out['status']}: unit={unit!r} assumes {what}, but touches in the week after a "
                         f"purchase are {r:.2f} x those in the week before (threshold {PERSISTENCE_THRESHOLD})")
    return out


def _decay_refit(model, journeys: Journeys, channels) -> dict | None:
    """The hazard model refitted with every half-life doubled (the agreement check of
    ``unit="time"``): credit and an approximate standard error of both fits."""
    diag = model.diagnostics_
    hl = getattr(model, "_half_lives", None) or model.half_lives
    hl = (float(hl),) if isinstance(hl, (int, float)) else tuple(float(h) for h in hl)
    try:
        alt = clone(model).set_params(unit="time", half_lives=tuple(2.0 * h for h in hl), n_boot=0).fit(journeys)
    except Exception as exc:  # noqa: BLE001 - the check degrades to n/a, said in the reason
        return {"error": f"{type(exc).__name__}: {exc}"}

    def se_of(m, est):
        # credit ~ factor x unshrunk credit, unshrunk credit / se ~ the effect's z (diagnostics)
        z = m.diagnostics_.get("effect_z")
        f = m.diagnostics_.get("shrinkage")
        if z is None or f is None:
            return pd.Series(np.nan, index=channels)
        z = z.reindex(channels).astype(float).abs()
        f = f.reindex(channels).astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (est / (f * z)).where((f > 0) & (z > 0))

    est = model.credits_["conversions"].reindex(channels).astype(float)
    alt_est = alt.credits_["conversions"].reindex(channels).astype(float)
    return {"half_lives": tuple(2.0 * h for h in hl), "alt": alt_est, "se": se_of(model, est), "alt_se": se_of(alt, alt_est),
            "has_z": "effect_z" in diag}


def _immaterial(a, b, total) -> bool:
    """Two estimates of a channel's incremental conversions differ immaterially: by less than
    :data:`THRESHOLDS` ``["material"]`` of the larger, or less than 1 % of all conversions."""
    a, b = float(a), float(b)
    if not (np.isfinite(a) and np.isfinite(b)):
        return False
    diff = abs(a - b)
    return diff < THRESHOLDS["material"] * max(abs(a), abs(b)) or diff < 0.01 * total


def _decay_status(decay, c, est_c, total) -> tuple[str, float, str]:
    """(status, relative difference, reason) of the decay refit for one channel."""
    if decay is None or "error" in decay:
        return "n/a", np.nan, ("" if decay is None else f"agreement n/a: the refit failed ({decay['error']})")
    alt = float(decay["alt"][c])
    diff = float(est_c) - alt
    big = max(abs(float(est_c)), abs(alt))
    rel = abs(diff) / big if big > 0 else 0.0
    noise = np.nanmax([decay["se"][c], decay["alt_se"][c], 0.0])
    if abs(diff) <= 2 * noise or abs(diff) < 0.01 * total:
        return "pass", rel, ""  # within noise, or immaterial
    st = _status(rel, *THRESHOLDS["decay_rel"])
    text = ""
    if st in ("warn", "fail"):
        hl = "/".join(f"{h:g}" for h in decay["half_lives"])
        text = (f"agreement {st}: the credit hinges on the assumed decay ({est_c:,.1f} conversions; {alt:,.1f} with "
                f"half-lives {hl} days)")
    return st, rel, text


def validity(
    model: AttributionModel,
    journeys: Journeys,
    *,
    covariates: pd.DataFrame | None = None,
    learner: str = "logistic",
    n_folds: int = 2,
    level: float = 0.9,
    placebo: bool = True,
    random_state=0,
) -> ValidityResult:
    """Grade how far each channel's incremental credit can be trusted (A–D, with the reason).

    Parameters
    ----------
    model : AttributionModel
        A fitted model (incremental models are what the scorecard is for; an attributed model
        is scored too, and its placebo and agreement show how far its credit is from an effect).
    journeys : Journeys
        The journeys the model was fitted on.
    covariates : DataFrame, optional
        Person covariates (CRM) used by the AIPW checks (see :class:`~attribution.models.aipw.AIPW`).
    learner : {"logistic", "hgb"}, default "logistic"
        Propensity and outcome learners of the AIPW checks.
    n_folds : int, default 2
        Cross-fitting folds.
    level : float, default 0.9
        Coverage of the intervals (placebo, E-value).
    placebo : bool or Journeys, default True
        Run the placebo check: refit the model once on journeys with a fake channel inserted by
        :func:`add_placebo`: into existing journeys, or, for a model that reads exposure over
        calendar time (``diagnostics_["unit"] == "time"``, e.g. ``Causal(unit="time")``, for which
        touches inserted into journeys fall only before conversions), over each person's whole
        data window (``span="window"``). A Journeys object instead is used as is: the same
        journeys rebuilt from an event log with random ``"(placebo)"`` touches.
    random_state : int, default 0

    Returns
    -------
    ValidityResult

    Notes
    -----
    See the module docstring for each check, its threshold and the grading rule. The checks
    assume journeys are independent units given the covariates; they probe, but cannot prove,
    the absence of hidden confounding.

    Examples
    --------
    >>> import attribution as at
    >>> sim = at.datasets.simulate(1500, random_state=0, regime="randomised")
    >>> j = sim.journeys(warn=False)
    >>> card = at.validity(at.get_model("aipw").fit(j), j, placebo=False)
    >>> sorted(set(card.table["grade"])) <= ["A", "B", "C", "D"]
    True
    """
    model = _check_model(model)
    if not isinstance(journeys, Journeys):
        raise TypeError(f"validity expects a Journeys object; got {type(journeys).__name__}.")
    if list(model.channels_) != list(journeys.channels):
        raise ValueError(
            f"The model was fitted on channels {list(model.channels_)}, but the journeys have {list(journeys.channels)}. "
            "Pass the journeys the model was fitted on."
        )
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise _param_error("validity", "level", "a coverage in (0, 1) such as 0.9", level)
    rng = np.random.default_rng(random_state)
    seeds = rng.integers(2**31 - 1, size=4)
    z = stats.norm.ppf(0.5 + level / 2)
    channels = [str(c) for c in journeys.channels]
    estimand = estimand_of(model)
    counts = touch_counts(journeys)
    extra, _ = journey_covariates(journeys, covariates, counts)
    units = unit_table(journeys)
    effects = aipw_effects(counts, extra, units, learner=learner, n_folds=n_folds, random_state=int(seeds[0]))
    total = float(journeys.total_conversions)

    # -- the model's estimate (the AIPW estimate stands in for an attributed model's)
    if estimand == "incremental":
        est, est_se = _model_se(model, channels)
    else:
        est = pd.Series([e.conversions for e in effects], index=channels)
        est_se = pd.Series([e.conversions_se for e in effects], index=channels)
    is_aipw = getattr(model, "model_name", None) == "aipw"

    # -- negative control: converted before the journey began
    prior = _prior_conversion(journeys)
    nc = None
    if prior is not None and 0 < np.average(prior[units.row], weights=units.weight) < 1:
        nc = aipw_effects(counts, extra, units, outcome=prior[units.row], learner=learner, n_folds=n_folds,
                          random_state=int(seeds[0]), value=False,
                          propensity={k: e.propensity for k, e in enumerate(effects)})

    # -- time shuffle: exposure permuted among the same person's journeys
    shuffle = None
    if journeys.customer is not None:
        person = pd.factorize(pd.Series(journeys.customer).astype(str))[0]
        multi = np.bincount(person)[person] > 1
        if multi.sum() >= 20:
            rows_m = np.flatnonzero(multi)
            keep = np.isin(units.row, rows_m)
            sub = type(units)(np.searchsorted(rows_m, units.row[keep]), units.weight[keep], units.y[keep],
                              units.y_value[keep], units.group[keep])
            c_m = counts[rows_m]
            shuf = np.column_stack([
                _shuffle_within(person[rows_m], c_m[:, k], np.random.default_rng(int(seeds[2]) + k))
                for k in range(c_m.shape[1])
            ])
            orig = aipw_effects(c_m, extra[rows_m], sub, learner=learner, n_folds=n_folds, random_state=int(seeds[2]),
                                value=False, propensity={k: e.propensity[keep] for k, e in enumerate(effects)})
            moved = []
            for k in range(c_m.shape[1]):
                if not (np.isfinite(orig[k].att_se) and orig[k].att_se > 0 and abs(orig[k].att / orig[k].att_se) > 2):
                    moved.append(None)  # no effect to destroy: nothing to test
                    continue
                ck = c_m.copy()
                ck[:, k] = shuf[:, k]
                moved.append(aipw_effects(ck, extra[rows_m], sub, channels=[k], learner=learner, n_folds=n_folds,
                                          random_state=int(seeds[2]), value=False)[0])
            shuffle = (orig, moved)

    # -- placebo: refit the model with a fake channel
    placebo_row = {"credit": np.nan, "low": np.nan, "high": np.nan, "share": np.nan, "status": "n/a", "reach": np.nan}
    if isinstance(placebo, Journeys):
        if PLACEBO not in set(placebo.channels):
            raise ValueError(f"The placebo journeys given to validity have no {PLACEBO!r} channel. Channels: {list(placebo.channels)}.")
        pj = placebo
        reach = float(np.mean(touch_counts(pj)[:, list(pj.channels).index(PLACEBO)] > 0))
    elif placebo:
        reach = float(np.median((counts > 0).mean(axis=0))) if counts.size else 0.0
        reach = min(max(reach, 0.05), 0.5)
        # a model that reads each person's exposure over calendar time gets placebo touches over
        # the whole window (as an event log would hold them); touches inserted into journeys only
        # fall before their ends and look like a cause of the purchases that end them
        over_time = (getattr(model, "diagnostics_", None) or {}).get("unit") == "time" and all(
            a is not None for a in (journeys.touch_time, journeys.conversion_time, journeys.customer))
        pj = add_placebo(journeys, reach, random_state=int(seeds[3]), span="window" if over_time else "journey")
    if isinstance(placebo, Journeys) or placebo:
        pm = clone(model).fit(pj)
        if estimand == "incremental":
            p_est, p_se = _model_se(pm, [PLACEBO])
            credit, se = float(p_est.iloc[0]), float(p_se.iloc[0])
        else:
            credit = float(pm.credits_["conversions"].get(PLACEBO, 0.0))
            se = np.nan
        share = abs(credit) / total if total > 0 else np.nan
        z95 = stats.norm.ppf(0.975)
        lo, hi = credit - z95 * se, credit + z95 * se
        covers = bool(lo <= 0 <= hi) if np.isfinite(se) else None
        small = bool(share < THRESHOLDS["placebo_share"])
        # with an interval: fail when it excludes 0 (a significant effect of a random channel);
        # without one (attributed models): fail when the placebo gets 1 % of the conversions or more
        ok = covers if covers is not None else small
        placebo_row = {"credit": credit, "low": lo, "high": hi, "share": share,
                       "status": "pass" if ok else "fail", "reach": reach,
                       "covers_zero": covers, "below_1pct": small}

    # -- what the model assumes decides which checks test it (see the module docstring)
    unit = _unit_of(model)
    spec = _specification(model, unit)
    lead_z = None
    decay = None
    if unit == "time" and all(a is not None for a in (journeys.touch_time, journeys.conversion_time, journeys.customer)):
        from threadpoolctl import threadpool_limits

        from ._hazard_checks import hazard_check_panel, lead_test

        with threadpool_limits(limits=1, user_api="blas"):
            panel = hazard_check_panel(model, journeys, random_state=int(seeds[1]))
            _, lead_z = lead_test(panel)
        decay = _decay_refit(model, journeys, channels)

    # -- per channel
    rows = []
    order_ = ["n/a", "pass", "warn", "fail"]
    for i, c in enumerate(channels):
        e = effects[i]
        checks: dict[str, str] = {}
        reasons: list[str] = []
        checks["specification"] = spec["status"]
        if spec["status"] in ("warn", "fail"):
            reasons.append(spec["reason"])
        ov_a = _status(e.exposed_extreme, *THRESHOLDS["exposed_extreme"])
        ov_b = _status(e.ess_ratio, *THRESHOLDS["ess_ratio"], higher_is_worse=False)
        overlap = max((ov_a, ov_b), key=order_.index)
        balance = _status(e.smd_after, *THRESHOLDS["smd_after"])
        if unit == "time":
            # journeys of a person-day model are cut by purchases: exposed and unexposed journeys
            # are not its comparison (its slopes are within person); the leads test its timing
            checks["overlap"] = checks["balance"] = "n/a"
        elif unit == "journey":
            # the overlap of exposure is the data's; the balance is that of the AIPW weights,
            # which the latent-intent model does not use: it decides whether AIPW is a fair
            # cross-check (below), not the grade
            checks["overlap"], checks["balance"] = overlap, "n/a"
        else:
            checks["overlap"], checks["balance"] = overlap, balance
        if checks["overlap"] in ("warn", "fail"):
            reasons.append(f"overlap {checks['overlap']}: {e.exposed_extreme:.0%} of the exposed have a propensity "
                           f"above 0.95, effective sample {e.ess_ratio:.0%} of the unexposed")
        if checks["balance"] in ("warn", "fail"):
            reasons.append(f"balance {checks['balance']}: max |SMD| after weighting {e.smd_after:.2f}")
        checks["placebo"] = placebo_row["status"]
        if checks["placebo"] == "fail":
            reasons.append(f"placebo fail: a random channel got {placebo_row['credit']:,.1f} conversions "
                           f"({placebo_row['share']:.1%})")
        nc_z = np.nan
        if nc is not None and np.isfinite(nc[i].att_se) and nc[i].att_se > 0:
            nc_z = nc[i].att / nc[i].att_se
        ref_nc = _status(abs(nc_z), *THRESHOLDS["negative_control_z"])
        lz = np.nan
        if unit == "time":
            lz = float(lead_z[i]) if lead_z is not None else np.nan
            checks["negative_control"] = _status(abs(lz), *THRESHOLDS["lead_z"])
            if checks["negative_control"] in ("warn", "fail"):
                reasons.append(f"negative control {checks['negative_control']}: touches of the next 7 days 'predict' "
                               f"today's purchase in the hazard model's own regression (lead z = {lz:.1f})")
        elif unit == "journey":
            checks["negative_control"] = "n/a"  # tests the AIPW reference (below), not the latent-intent model
        else:
            checks["negative_control"] = ref_nc
            if ref_nc in ("warn", "fail"):
                reasons.append(f"negative control {ref_nc}: exposure 'predicts' earlier purchases (z = {nc_z:.1f})")
        ratio = np.nan
        if shuffle is not None:
            o, m = shuffle[0][i], shuffle[1][i]
            if m is not None and np.isfinite(m.att):
                ratio = m.att / o.att
                if not (np.isfinite(m.att_se) and m.att_se > 0 and m.att / m.att_se * np.sign(o.att) > stats.norm.ppf(0.975)):
                    ratio = min(ratio, THRESHOLDS["shuffle_ratio"][0])  # what survives is not significant
        ref_shuffle = _status(ratio, *THRESHOLDS["shuffle_ratio"])
        checks["time_shuffle"] = "n/a" if unit in ("time", "journey") else ref_shuffle
        if checks["time_shuffle"] in ("warn", "fail"):
            reasons.append(f"time shuffle {checks['time_shuffle']}: {ratio:.0%} of the credit survives moving the "
                           "exposure to another journey of the same person")
        agree_z = np.nan
        decay_rel = np.nan
        if unit == "time":
            checks["agreement"], decay_rel, text = _decay_status(decay, c, est[c], total)
            if text:
                reasons.append(text)
        elif not is_aipw and estimand == "incremental":
            s2 = np.nansum([est_se[c] ** 2, e.conversions_se**2])
            if s2 > 0 and np.isfinite(e.conversions):
                agree_z = (est[c] - e.conversions) / np.sqrt(s2)
            checks["agreement"] = _status(abs(agree_z), *THRESHOLDS["agreement_z"])
            if unit is not None and checks["agreement"] in ("warn", "fail") and _immaterial(est[c], e.conversions, total):
                # the causal model's Shapley credit and AIPW's effect holding the other channels
                # fixed are not the same estimand: with many journeys a small difference between
                # them is significant without mattering for any decision
                checks["agreement"] = "pass"
            if unit == "journey" and checks["agreement"] != "n/a":
                # AIPW assumes no confounding beyond the touch counts; where its own diagnostics
                # fail, it is no reference for a model that adjusts for latent intent
                bad = [n for n, st in (("negative control", ref_nc), ("time shuffle", ref_shuffle), ("balance", balance))
                       if st == "fail"]
                if bad:
                    checks["agreement"] = "warn"
                    reasons.append(f"agreement warn: no unconfounded cross-check (the AIPW estimate {e.conversions:,.1f} "
                                   f"fails its own {' and '.join(bad)}; the model says {est[c]:,.1f})")
            if checks["agreement"] in ("warn", "fail") and not (unit == "journey" and reasons and
                                                                 reasons[-1].startswith("agreement warn: no unconfounded")):
                reasons.append(f"agreement {checks['agreement']}: the model says {est[c]:,.1f}, AIPW {e.conversions:,.1f} "
                               f"(z = {agree_z:.1f})")
        else:
            checks["agreement"] = "n/a"
        att = est[c] / e.exposed if e.exposed > 0 else np.nan
        # the model's own interval when it gives one, else the AIPW standard error stands in
        se_c = est_se[c] if np.isfinite(est_se[c]) else e.conversions_se
        se_att = se_c / e.exposed if e.exposed > 0 else np.nan
        e_point, e_bound = _e_value_of_interval(e.treated_rate, att, att - z * se_att, att + z * se_att)
        covers0 = not (np.isfinite(se_att) and abs(att) > z * se_att)
        if np.isfinite(e_bound) and not covers0:
            checks["sensitivity"] = _status(e_bound, THRESHOLDS["e_value"][0], None, higher_is_worse=False)
        else:
            checks["sensitivity"] = "pass" if np.isfinite(att) else "n/a"
        if checks["sensitivity"] == "warn":
            reasons.append(f"sensitivity warn: a hidden confounder of risk ratio {e_bound:.2f} would explain the effect away")
        # selection on observables as a guide to selection on unobservables: how much of the raw
        # exposed-unexposed difference did adjusting for the covariates remove?
        delta = np.nan
        if np.isfinite(e.naive_att) and np.isfinite(e.att) and e.naive_att != 0 and not covers0:
            removed = e.naive_att - e.att
            if np.sign(removed) == np.sign(e.att) and removed != 0:  # adjustment shrank the effect
                delta = e.att / removed
        # (a property of the AIPW adjustment: graded for models that rest on the same covariates)
        sel = _status(delta, *THRESHOLDS["selection_ratio"], higher_is_worse=False) if unit is None else "n/a"
        if sel in ("warn", "fail"):
            reasons.append(f"sensitivity {sel}: adjusting for the observed covariates removed "
                           f"{1 - e.att / e.naive_att:.0%} of the raw difference; hidden confounding {delta:.1f}× as "
                           "strong would remove the rest")
            order = ["n/a", "pass", "warn", "fail"]
            checks["sensitivity"] = max(checks["sensitivity"], sel, key=order.index)
        fails = sum(v == "fail" for v in checks.values())
        warns = sum(v == "warn" for v in checks.values())
        grade = "D" if (fails >= 2 or checks["specification"] == "fail") else \
            "C" if (fails == 1 or warns >= 3) else "B" if warns >= 1 else "A"
        if not reasons:
            reasons.append("all checks pass" if warns == 0 else "")
        rows.append({
            "channel": c, "grade": grade, "estimate": float(est[c]), "se": float(est_se[c]),
            "aipw": e.conversions, "aipw_se": e.conversions_se, "exposed": e.exposed,
            "share_extreme": e.share_extreme, "exposed_extreme": e.exposed_extreme, "ess_ratio": e.ess_ratio, "smd_before": e.smd_before,
            "smd_after": e.smd_after, "negative_control_z": lz if unit == "time" else nc_z, "shuffle_ratio": ratio,
            "agreement_z": agree_z, "lead_z": lz, "decay_rel": decay_rel,
            "decay_refit": float(decay["alt"][c]) if decay is not None and "alt" in decay else np.nan,
            "aipw_negative_control_z": nc_z, "market_persistence": spec["ratio"], "e_value": e_point, "e_value_ci": e_bound, "naive": e.naive_att * e.exposed,
            "selection_ratio": delta,
            **{f"check_{k}": checks[k] for k in _CHECKS}, "reason": "; ".join(r for r in reasons if r),
        })
    table = pd.DataFrame(rows)
    return ValidityResult(table, placebo_row, model_label=getattr(model, "model_name", None) or type(model).__name__,
                          estimand=estimand, level=level, unit=unit)


class ValidityResult:
    """The validity scorecard of one model: a grade A–D per channel with the checks behind it.

    Returned by :func:`validity`.

    Attributes
    ----------
    table : DataFrame
        One row per channel: ``grade``, the model's ``estimate`` (incremental conversions) and
        ``se``, the AIPW cross-check (``aipw``, ``aipw_se``), exposed journeys, the statistics of
        each check, the status of each check (``check_<name>``: pass / warn / fail / n/a) and the
        ``reason`` in words.
    placebo : dict
        The placebo check: credit of the fake channel, interval, share of conversions, reach,
        status.
    model : str
    estimand : str
    level : float
    """

    def __init__(self, table, placebo, *, model_label, estimand, level, unit=None):
        self.table = table
        self.placebo = placebo
        self.model = model_label
        self.estimand = estimand
        self.level = level
        self.unit = unit

    def checks_text(self) -> str:
        """Which checks graded the channels, in words (they depend on the model's unit)."""
        common = "a placebo channel inserted at random, sensitivity to hidden confounding (E-value)"
        if self.unit == "time":
            return ("Checks of the person-day hazard model: its unit against the data (do people stay in market after a "
                    "purchase?), " + common + ", a negative control in the model's own regression (touches of the "
                    "next 7 days must not 'predict' today's purchase) and agreement with the model refitted with every "
                    "half-life doubled (the credit must not hinge on the assumed decay). Journey-level overlap, "
                    "balance and time shuffle do not apply: the model compares a person's days, not journeys.")
        if self.unit == "journey":
            return ("Checks of the latent-intent journey model: its unit against the data (do purchases close shopping "
                    "episodes?), overlap of exposure, " + common + " and agreement with a doubly robust (AIPW) "
                    "estimate. AIPW adjusts only for the touch counts: where its own negative control (purchases "
                    "before the journey), time shuffle or balance fails it is no fair reference for a model of "
                    "latent intent, and the agreement only warns.")
        return ("Checks: overlap of exposure, covariate balance after weighting, " + common + ", a negative-control "
                "outcome (purchases before the journey), moving the exposure to another journey of the same person, "
                "agreement with a doubly robust (AIPW) estimate, and selection on observables.")

    @property
    def grades(self) -> pd.Series:
        """Grade per channel."""
        return self.table.set_index("channel")["grade"]

    @property
    def flagged(self) -> list[str]:
        """Channels graded D (held at today's spend in budget plans)."""
        return self.table.loc[self.table["grade"] == "D", "channel"].tolist()

    @property
    def score(self) -> float:
        """Mean grade points (A = 3, B = 2, C = 1, D = 0) over the channels, weighted by their
        absolute estimate plus one (so channels that carry credit count more)."""
        pts = self.table["grade"].map(_POINTS).to_numpy(dtype=float)
        w = np.abs(np.nan_to_num(self.table["estimate"].to_numpy(dtype=float))) + 1.0
        return float(np.average(pts, weights=w))

    def _header(self) -> str:
        counts = self.table["grade"].value_counts().reindex(list("ABCD"), fill_value=0)
        return (f"Validity scorecard of {self.model} ({self.estimand} credit): "
                + ", ".join(f"{int(n)} × {g}" for g, n in counts.items()))

    def _placebo_text(self) -> str:
        p = self.placebo
        if p["status"] == "n/a":
            return "Placebo check not run."
        iv = "" if not np.isfinite(p["low"]) else f", 95% interval [{p['low']:,.1f}, {p['high']:,.1f}]"
        extra = ""
        if p["status"] == "pass" and p.get("below_1pct") is False:
            extra = " (the interval is wide: a placebo effect of 1% of conversions cannot be ruled out at this sample size)"
        return (f"Placebo ({p['reach']:.0%} of journeys touched at random): {p['credit']:,.2f} conversions "
                f"({p['share']:.2%} of all){iv} -> {p['status']}{extra}.")

    def display_columns(self) -> dict:
        """The columns that show the checks that graded the channels (they depend on the model's
        unit), with labels: ``{column: label}``."""
        if getattr(self, "unit", None) == "time":
            return {"grade": "grade", "estimate": "incremental conv.", "decay_refit": "half-lives doubled",
                    "lead_z": "leads z", "e_value_ci": "E-value"}
        if getattr(self, "unit", None) == "journey":  # AIPW's own diagnostics: is it a fair reference?
            return {"grade": "grade", "estimate": "incremental conv.", "aipw": "AIPW", "exposed_extreme": "no overlap",
                    "smd_after": "AIPW max |SMD|", "negative_control_z": "AIPW neg. ctrl z",
                    "shuffle_ratio": "AIPW shuffled", "e_value_ci": "E-value"}
        return {"grade": "grade", "estimate": "incremental conv.", "aipw": "AIPW", "exposed_extreme": "no overlap",
                "smd_after": "max |SMD|", "negative_control_z": "neg. ctrl z", "shuffle_ratio": "shuffled",
                "e_value_ci": "E-value"}

    def summary(self) -> str:
        """Plain text: grades, reasons and the placebo."""
        cols = [c for c in self.display_columns() if c != "exposed_extreme"] + ["reason"]
        t = self.table.set_index("channel")[cols]
        with pd.option_context("display.max_colwidth", 200, "display.width", 250):
            return "\n".join([self._header(), self._placebo_text(), "", t.round(2).to_string()])

    def _repr_html_(self) -> str:
        from .._display import _html_table

        cols = list(self.display_columns()) + ["reason"]
        t = self.table.set_index("channel")[cols]
        return (f"<div><p><b>{html.escape(self._header())}</b></p><p>{html.escape(self._placebo_text())}</p>"
                + _html_table(t, {"exposed_extreme": "{:.0%}", "smd_after": "{:.2f}", "negative_control_z": "{:.1f}",
                                  "lead_z": "{:.1f}", "shuffle_ratio": "{:.0%}", "e_value_ci": "{:.2f}"}, default="{:,.1f}")
                + "</div>")

    def __repr__(self) -> str:
        return f"<ValidityResult: {self._header()}>"

    def to_dict(self) -> dict:
        """Plain Python objects (NaN as None)."""
        def clean(v):
            if isinstance(v, (float, np.floating)):
                return None if not np.isfinite(v) else float(v)
            if isinstance(v, (np.integer,)):
                return int(v)
            if isinstance(v, (np.bool_,)):
                return bool(v)
            return v

        return {
            "model": self.model, "estimand": self.estimand, "level": self.level,
            "thresholds": {k: list(v) if isinstance(v, tuple) else v for k, v in THRESHOLDS.items()},
            "placebo": {k: clean(v) for k, v in self.placebo.items()},
            "channels": [{k: clean(v) for k, v in r.items()} for r in self.table.to_dict(orient="records")],
        }

    def to_json(self, **kwargs) -> str:
        """The scorecard as JSON (``json.dumps`` keyword arguments pass through)."""
        return json.dumps(self.to_dict(), **kwargs)

    def plot(self, *, ax=None):
        """Incremental credit per channel with its interval, coloured by grade, beside the AIPW
        cross-check (see :func:`attribution.plotting.decisions.plot_validity`)."""
        from ..plotting.decisions import plot_validity

        return plot_validity(self, ax=ax)


# ---------------------------------------------------------------------------------------------
# choosing among estimators by the diagnostics
# ---------------------------------------------------------------------------------------------


def _preferred_unit(candidates, journeys: Journeys) -> str | None:
    """The unit the market-persistence statistic supports, or None (no unit-declaring
    candidate, no timed journeys, too few conversions, or the statistic near the threshold)."""
    units = [(getattr(m, "diagnostics_", None) or {}).get("unit") for m in candidates.values()
             if isinstance(getattr(m, "diagnostics_", None), dict)]
    if not any(u in ("time", "journey") for u in units):
        return None
    from ..models.incremental import (
        _MIN_PERSISTENCE_CONVERSIONS,
        PERSISTENCE_MARGIN,
        PERSISTENCE_THRESHOLD,
        market_persistence,
    )

    try:
        stat = market_persistence(journeys)
    except JourneyValidationError:
        return None
    r = stat["ratio"]
    if not np.isfinite(r) or stat["conversions"] < _MIN_PERSISTENCE_CONVERSIONS or abs(r - PERSISTENCE_THRESHOLD) < PERSISTENCE_MARGIN:
        return None
    return "time" if r >= PERSISTENCE_THRESHOLD else "journey"


def select_estimator(candidates, journeys: Journeys, **kwargs) -> tuple[str, pd.DataFrame]:
    """Pick among fitted incremental estimators by statistics of the data only: the unit check,
    then the validity scorecards.

    Parameters
    ----------
    candidates : dict
        ``label -> fitted model`` (e.g. the hazard and the journey variants of the causal model).
    journeys : Journeys
    **kwargs
        Passed to :func:`validity`.

    Returns
    -------
    (label, table)
        The chosen label and a table per candidate: ``unit`` (the unit of analysis it declares,
        if any), ``unit_fit`` (1 when that unit fits the data's market persistence, 0 when it
        contradicts it, NaN when the statistic does not decide), ``score`` (credit-weighted mean
        grade points), the placebo status, the number of D grades.

    Notes
    -----
    The rule, in order (no truth is consulted):

    1. **Specification.** A candidate that declares its unit of analysis (the causal model's
       ``diagnostics_["unit"]``, ``"time"`` or ``"journey"``) is checked against the data's
       :func:`~attribution.models.incremental.market_persistence` (touches in the week after a
       purchase / the week before): the hazard model assumes people stay in market (ratio near
       1), the journey model that purchases close shopping episodes (ratio well below 1). A
       candidate whose unit contradicts the statistic (the same rule and threshold as
       ``Causal(unit="auto")``) is ranked below every candidate whose unit fits it. Within
       :data:`~attribution.models.incremental.PERSISTENCE_MARGIN` of the threshold the statistic
       does not decide (column ``unit_fit`` is NaN) and the scorecards alone do.
    2. A candidate whose placebo fails is ranked below every candidate whose placebo passes.
    3. The highest :attr:`ValidityResult.score`; ties go to fewer D grades, then to the order
       given.

    Why step 1: the scorecard's data-level checks are the same for every candidate, so between
    the causal model's two units the scores rest on the placebo, the agreement with the
    journey-level AIPW estimate and the E-values, which favour journey-level estimators. By the
    scorecard alone it picked ``unit="journey"`` in 9 of 9 runs of ``benchmarks/bench_validity.py``,
    including the always-in-market world where the hazard model is far closer to the truth; the
    persistence statistic separates the worlds (0.82-0.87 vs 0.24-0.30 on the simulator).
    Since the scorecard grades the unit itself (its ``specification`` check grades every channel
    of a contradicted unit D), the scores separate them too: at 3,000 customers, seeds 0-1, the
    contradicted unit scored 0.00 in every run, the fitting one 2.37-2.84 (1.00 once, when the
    journey model's placebo failed in the randomised world); ``benchmarks/results/validity.md``.
    """
    if not candidates:
        raise ValueError("select_estimator needs at least one candidate model.")
    preferred = _preferred_unit(candidates, journeys)
    rows = []
    for i, (label, model) in enumerate(candidates.items()):
        card = validity(model, journeys, **kwargs)
        diag = getattr(model, "diagnostics_", None)
        unit = diag.get("unit") if isinstance(diag, dict) else None
        fit = np.nan if preferred is None or unit not in ("time", "journey") else float(unit == preferred)
        rows.append({"candidate": label, "unit": unit, "unit_fit": fit, "score": card.score,
                     "placebo": card.placebo["status"], "n_d": len(card.flagged), "order": i})
    table = pd.DataFrame(rows).set_index("candidate")
    ranked = table.assign(misfit=(table["unit_fit"] == 0.0).astype(int),
                          pfail=(table["placebo"] == "fail").astype(int)).sort_values(
        ["misfit", "pfail", "score", "n_d", "order"], ascending=[True, True, False, True, True])
    return str(ranked.index[0]), table.drop(columns="order")
