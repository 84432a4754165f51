r"""Budget plans: where the next euro should go.

:func:`plan_budget` turns attributed credit and costs into a recommended spend per channel.
Each paid channel gets a *response curve*, the outcome (attributed value or conversions) as a
function of its spend, anchored at today's spend :math:`s_0` and today's attributed outcome
:math:`y_0`, with a chosen elasticity :math:`e = s_0\,y'(s_0)/y_0` at the anchor. The plan
maximises the total expected outcome under the budget and per-channel bounds.

Response curves (``response=``)
-------------------------------
``"concave"`` (default): saturating exponential
    :math:`y(s) = a\,(1 - e^{-s/k})`, concave with a ceiling :math:`a`. With :math:`x = s_0/k`
    the elasticity at the anchor is :math:`e = x/(e^{x} - 1)`, so :math:`x` follows from
    :math:`e \in (0, 1)`, then :math:`k = s_0/x` and :math:`a = y_0/(1 - e^{-x})`. At
    :math:`e = 0.5`, :math:`x \approx 1.26`: today's spend reaches 72% of the ceiling.
``"power"``: constant elasticity
    :math:`y(s) = y_0 (s/s_0)^{e}`: diminishing returns, no ceiling.
``"linear"``
    :math:`y(s) = y_0\,s/s_0`: constant returns (the plan then puts everything it can into the
    channels with the best ROAS, in order: a corner solution, shown for contrast).

Elasticity
----------
When spend and attributed outcome per period are available (costs per day or week, and
time-stamped journeys the model can be refitted on per period, or an explicit ``outcomes``
table), the elasticity of each channel is fitted by least squares to the per-period points with
the same curve family (``scipy.optimize.minimize_scalar``; the scale is profiled out), then
used at the anchor: the plan keeps each channel's flighting pattern (the split of its spend over
periods) and scales it, as MMM budget optimisers do. Otherwise, or when the periods carry too
little information (fewer than ``min_periods`` periods with spend, or spend that barely varies),
the channel borrows the median elasticity of the channels that could be fitted (``pooled``); a
fit that explains nothing of the per-period outcome (R² <= 0) counts as not fitted, and one with
R² below :data:`attribution._defaults.WEAK_FIT_R2` = 0.5 is kept but rated ``weak``: the plan then
opens with a caveat (as it does when any elasticity is assumed rather than measured). When no
channel can be fitted, the default elasticity :data:`DEFAULT_ELASTICITY` = 0.5 is used. :attr:`BudgetPlan.curves` states, per channel, which of
``given``, ``fitted``, ``pooled`` or ``default`` applies. At 0.5 the marginal return at today's
spend is half the average return.
Meta-analyses put short-run advertising elasticities of *total* sales around 0.1 (Sethuraman,
Tellis & Briesch 2011); a channel's *attributed* outcome is only the part of sales that the
channel touches, so its elasticity is larger. 0.5 is a middle-of-the-road assumption, not a
measurement: pass ``elasticity=`` when you know better.

Bounds
------
Every plan keeps each channel within :data:`DEFAULT_BOUNDS`, 0.5–2 × today's spend, unless told
otherwise (``bounds=``): the curves are anchored at today's spend and fitted, at best, on the spends
seen in the data, so far from them they are extrapolations. ``bounds=None`` plans without bounds
and warns (:class:`~attribution.exceptions.PlanWarning`).

Optimisation
------------
For concave curves the optimum satisfies the Karush–Kuhn–Tucker conditions: every channel
strictly inside its bounds has the same marginal return :math:`y_k'(s_k) = \lambda`; channels at
their lower bound have :math:`y_k' \le \lambda`, at their upper bound :math:`y_k' \ge \lambda`.
Given :math:`\lambda`, :math:`s_k(\lambda) = \mathrm{clip}(y_k'^{-1}(\lambda), l_k, u_k)` in closed
form, and :math:`\sum_k s_k(\lambda)` decreases in :math:`\lambda`, so :math:`\lambda` is found by
``scipy.optimize.brentq`` on the budget constraint. This is exact (no step-size or starting-point
issues, unlike a general-purpose solver); the tests check it against the analytic optimum and
against ``scipy.optimize.minimize(method="SLSQP")``. The same conditions at :math:`\lambda = 1`
(marginal ROI zero) give the budget at which the next unit stops paying for itself,
:attr:`BudgetPlan.zero_marginal_budget`, in closed form. Amounts are then rounded to cents so that
they sum to the budget exactly: floored, the spare cents placed where they add the most, and
single cents moved between channels while that gains (within bounds).

Rule-based reallocation, for comparison (ChannelAttribution Pro, field survey §2.9)
-----------------------------------------------------------------------------------
:math:`\mathrm{index}_k = r_k / \sum_j r_j` with :math:`r_k` the ROAS (or conversions per cost)
and :math:`B_k = \frac{c_k}{\sum c}(1 - f - p)B + \frac{f}{K}B + \mathrm{index}_k\,p\,B`, with a
floor share :math:`f` split evenly and a reallocated share :math:`p`.
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import optimize

from .._defaults import PLAN_BOUNDS, WEAK_FIT_R2
from ..exceptions import ParameterError, ParameterTypeError, PlanWarning
from ..models._estimator import clone
from ..journeys import Journeys
from ..models.base import BASELINE, NO_TOUCH, AttributionModel, _param_error, _warn_user, estimand_of
from .._display import _fmt, _html_table, _html_warnings
from .roi import _cost_by_channel, _grades, _parse_periods, _ratios, normalise_costs

__all__ = [
    "BudgetPlan",
    "DEFAULT_BOUNDS",
    "DEFAULT_ELASTICITY",
    "RESPONSES",
    "RelativeBounds",
    "ResponseCurves",
    "check_plan_direction",
    "plan_budget",
    "rule_based_allocation",
]

#: Elasticity of a channel's attributed outcome to its spend at today's spend, when none can be
#: fitted (see the module docstring).
DEFAULT_ELASTICITY = 0.5
#: Response-curve families.
RESPONSES = ("concave", "power", "linear")
#: Range of fitted elasticities.
_E_RANGE = (0.05, 0.95)
#: Fits explaining less than this share of the per-period variance are flagged as weak (and
#: give the plan a headline caveat): :data:`attribution._defaults.WEAK_FIT_R2`.
_WEAK_R2 = WEAK_FIT_R2


class RelativeBounds:
    """Spend bounds as multipliers of each channel's spend today: ``low`` to ``high`` × today.

    The default of :func:`plan_budget` is :data:`DEFAULT_BOUNDS` (0.5–2 ×, from
    :data:`attribution._defaults.PLAN_BOUNDS`): a response curve is anchored at today's spend and
    is an extrapolation far from it.

    Parameters
    ----------
    low, high : float
        ``0 <= low <= 1 <= high`` (``high`` may be ``math.inf``: no upper limit).

    Examples
    --------
    >>> RelativeBounds(0.8, 1.5)
    RelativeBounds(0.8, 1.5)
    >>> str(RelativeBounds(0.5, 2))
    "0.5–2 × today's spend"
    """

    __slots__ = ("low", "high")

    def __init__(self, low: float = PLAN_BOUNDS[0], high: float = PLAN_BOUNDS[1]):
        for name, v in (("low", low), ("high", high)):
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or math.isnan(v) or v < 0:
                raise _param_error("RelativeBounds", name, "a non-negative multiplier of today's spend", v)
        if not low <= 1.0 <= high:
            raise ParameterError(
                "The 'low' and 'high' parameters of RelativeBounds must contain today's spend: low <= 1 <= high "
                f"(e.g. 0.5 and 2). Got low={low!r}, high={high!r} instead."
            )
        self.low, self.high = float(low), float(high)

    def __repr__(self) -> str:
        return f"RelativeBounds({self.low:g}, {self.high:g})"

    def __str__(self) -> str:
        return f"{self.low:g}–{self.high:g} × today's spend"

    def __eq__(self, other) -> bool:
        return isinstance(other, RelativeBounds) and (self.low, self.high) == (other.low, other.high)

    def __hash__(self) -> int:
        return hash((self.low, self.high))


#: The bounds of every plan unless told otherwise: 0.5–2 × today's spend per channel.
DEFAULT_BOUNDS = RelativeBounds(*PLAN_BOUNDS)


# ---------------------------------------------------------------------------------------------
# response curves
# ---------------------------------------------------------------------------------------------


def _x_of_elasticity(e: float) -> float:
    """Solve ``e = x / (exp(x) - 1)`` for ``x > 0`` (``0 < e < 1``)."""
    f = lambda lx: math.exp(lx) / math.expm1(math.exp(lx)) - e  # noqa: E731
    return math.exp(optimize.brentq(f, -30.0, math.log(700.0), xtol=1e-14, rtol=1e-14))


class ResponseCurves:
    r"""Response curves of ``K`` channels, vectorised over channels.

    Parameters
    ----------
    family : {"concave", "power", "linear"}
    spend, outcome : array-like of shape (K,)
        The anchor: today's spend (> 0) and attributed outcome (>= 0).
    elasticity : array-like of shape (K,)
        :math:`e = s_0 y'(s_0) / y_0`, in (0, 1) for ``concave`` and ``power`` (ignored for
        ``linear``, where it is 1).

    Examples
    --------
    >>> c = ResponseCurves("power", [100.0], [50.0], [0.5])
    >>> c.value([400.0]).tolist(), c.marginal([100.0]).tolist()
    ([100.0], [0.25])
    """

    def __init__(self, family, spend, outcome, elasticity):
        self.family = family
        self.s0 = np.asarray(spend, dtype=np.float64)
        self.y0 = np.asarray(outcome, dtype=np.float64)
        e = np.broadcast_to(np.asarray(elasticity, dtype=np.float64), self.s0.shape).copy()
        self.e = np.ones_like(self.s0) if family == "linear" else e
        if family == "concave":
            self.x = np.array([_x_of_elasticity(v) for v in self.e])
            self.k = self.s0 / self.x
            self.a = self.y0 / -np.expm1(-self.x)

    def value(self, s) -> np.ndarray:
        """Expected outcome at spend ``s`` (one spend per channel)."""
        s = np.maximum(np.asarray(s, dtype=np.float64), 0.0)
        if self.family == "concave":
            return self.a * -np.expm1(-s / self.k)
        if self.family == "power":
            return self.y0 * (s / self.s0) ** self.e
        return self.y0 * s / self.s0

    def marginal(self, s) -> np.ndarray:
        """Marginal outcome per unit of spend, :math:`y'(s)`."""
        s = np.maximum(np.asarray(s, dtype=np.float64), 0.0)
        if self.family == "concave":
            return self.a / self.k * np.exp(-s / self.k)
        if self.family == "power":
            # at zero spend the marginal of a power curve with e < 1 is +inf (an honest value);
            # a channel without outcome (y0 = 0) has marginal 0 there too, not 0 * inf
            with np.errstate(divide="ignore", invalid="ignore"):
                m = self.e * self.y0 / self.s0 * (s / self.s0) ** (self.e - 1.0)
            return np.where(self.y0 > 0, m, 0.0)
        return self.y0 / self.s0

    def log_marginal(self, s) -> np.ndarray:
        """``log y'(s)``, computed without underflow (``-inf`` where the outcome is 0)."""
        s = np.maximum(np.asarray(s, dtype=np.float64), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.family == "concave":
                out = np.log(self.a / self.k) - s / self.k
            elif self.family == "power":
                out = np.log(self.e * self.y0 / self.s0) + (self.e - 1.0) * np.log(s / self.s0)
            else:
                out = np.log(self.y0 / self.s0) + 0.0 * s
        return np.where(self.y0 > 0, out, -np.inf)

    def spend_at_log_marginal(self, log_lam: float) -> np.ndarray:
        """The spend at which ``log y'(s) = log_lam`` (0 where the marginal never reaches it)."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.family == "concave":
                s = self.k * (np.log(self.a / self.k) - log_lam)
            elif self.family == "power":
                s = self.s0 * np.exp((log_lam - np.log(self.e * self.y0 / self.s0)) / (self.e - 1.0))
            else:
                raise ParameterError("linear curves have no inverse marginal")
        return np.where(self.y0 > 0, np.maximum(np.nan_to_num(s, nan=0.0), 0.0), 0.0)

    def spend_at_marginal(self, lam: float) -> np.ndarray:
        """The spend at which the marginal return equals ``lam`` (0 where it never does)."""
        return self.spend_at_log_marginal(math.log(lam))


def _shape(family: str, u: np.ndarray, e: float) -> np.ndarray:
    """The curve through (1, 1) with elasticity ``e`` there, at relative spend ``u``."""
    if family == "power":
        return u**e
    x = _x_of_elasticity(e)
    return np.expm1(-x * u) / np.expm1(-x)


def _fit_elasticity(family: str, spend: np.ndarray, outcome: np.ndarray, min_periods: int):
    """Least-squares elasticity from per-period points; ``(e, r2, reason)`` (e NaN if not fitted)."""
    ok = spend > 0
    s, y = spend[ok], outcome[ok]
    if len(s) < min_periods:
        return np.nan, np.nan, f"only {len(s)} period(s) with spend (< {min_periods})"
    if not (y > 0).any():
        return np.nan, np.nan, "no attributed outcome in any period"
    cv = s.std() / s.mean()
    if cv < 0.05:
        return np.nan, np.nan, f"spend barely varies between periods (CV {cv:.1%})"
    u = s / s.mean()

    def rss(e):
        h = _shape(family, u, e)
        A = (h @ y) / (h @ h)
        return float(((y - A * h) ** 2).sum())

    res = optimize.minimize_scalar(rss, bounds=_E_RANGE, method="bounded", options={"xatol": 1e-6})
    tss = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - res.fun / tss if tss > 0 else np.nan
    return float(res.x), r2, ""


# ---------------------------------------------------------------------------------------------
# the optimiser
# ---------------------------------------------------------------------------------------------


def _optimise(curves: ResponseCurves, lo: np.ndarray, hi: np.ndarray, budget: float) -> np.ndarray:
    """Maximise sum_k y_k(s_k) subject to sum s = budget, lo <= s <= hi (exact KKT solution)."""
    room = budget - lo.sum()
    if room <= 0:
        return lo.copy()
    if curves.family == "linear":
        s = lo.copy()
        for k in np.argsort(-curves.marginal(lo), kind="stable"):
            add = min(hi[k] - lo[k], room)
            s[k] += add
            room -= add
            if room <= 0:
                break
        return s
    responds = curves.y0 > 0
    if not responds.any():  # nothing responds: spread the room evenly within bounds
        return _spread(lo, hi, room)

    def spend(log_lam):
        return np.where(responds, np.clip(curves.spend_at_log_marginal(log_lam), lo, hi), lo)

    def total(log_lam):
        return float(spend(log_lam).sum()) - budget

    # below the smallest marginal at the upper bounds every responsive channel is at its upper
    # bound; above the largest marginal at the lower bounds every channel is at its lower bound
    a = float(curves.log_marginal(hi)[responds].min()) - 1.0
    b = float(curves.log_marginal(np.maximum(lo, budget * 1e-12))[responds].max()) + 1.0
    if total(a) < 0:  # the responsive channels cannot absorb the budget: the rest goes elsewhere
        s = np.where(responds, hi, lo)
        return s + np.where(responds, 0.0, _spread(lo, np.where(responds, lo, hi), budget - s.sum()) - lo)
    log_lam = optimize.brentq(total, a, b, xtol=1e-12, rtol=4 * np.finfo(float).eps, maxiter=500)
    return spend(log_lam)


def _spread(lo, hi, room):
    s = lo.copy()
    free = hi - lo
    while room > 1e-12 and (free > 1e-12).any():
        k = free > 1e-12
        step = min(room / k.sum(), free[k].min())
        s[k] += step
        free[k] -= step
        room -= step * k.sum()
    return s


def _to_cents(s: np.ndarray, lo: np.ndarray, hi: np.ndarray, budget: float, curves=None) -> np.ndarray:
    """Round to cents so that the amounts sum to the budget exactly, within bounds.

    Without ``curves`` the spare cents go by largest remainder. With response ``curves`` the
    amounts are floored to cents and each spare cent goes where it adds the most, then single
    cents move between channels while that gains: curves that rise steeply from zero (power
    curves with a small elasticity) make one cent worth more than a fractional share suggests.
    """
    if curves is not None:
        return _to_cents_by_gain(s, lo, hi, budget, curves)
    B = int(round(budget * 100))
    lo_c = np.ceil(lo * 100 - 1e-6).astype(np.int64)
    hi_c = np.floor(hi * 100 + 1e-6).astype(np.int64)
    exact = s * 100
    c = np.clip(np.floor(exact + 1e-9).astype(np.int64), lo_c, hi_c)
    diff = B - int(c.sum())
    frac = exact - c
    while diff != 0:
        if diff > 0:
            cand = np.flatnonzero(c < hi_c)
            order = cand[np.argsort(-frac[cand], kind="stable")]
        else:
            cand = np.flatnonzero(c > lo_c)
            order = cand[np.argsort(frac[cand], kind="stable")]
        if len(order) == 0:  # pragma: no cover - excluded by the feasibility check
            raise ParameterError("The bounds leave no room to reach the budget to the cent.")
        take = order[: abs(diff)]
        c[take] += int(np.sign(diff))
        frac[take] -= np.sign(diff)
        diff = B - int(c.sum())
    return c / 100.0


def _to_cents_by_gain(s, lo, hi, budget, curves, max_moves: int = 10_000) -> np.ndarray:
    """Cent rounding that follows the curves' discrete gains (see :func:`_to_cents`)."""
    B = int(round(budget * 100))
    lo_c = np.ceil(lo * 100 - 1e-6).astype(np.int64)
    hi_c = np.floor(hi * 100 + 1e-6).astype(np.int64)
    c = np.clip(np.floor(s * 100 + 1e-9).astype(np.int64), lo_c, hi_c)

    def up(c):  # value gained by one more cent (-inf at the upper bound)
        g = curves.value((c + 1) / 100.0) - curves.value(c / 100.0)
        return np.where(c < hi_c, g, -np.inf)

    def down(c):  # value lost by one cent less (+inf at the lower bound)
        g = curves.value(c / 100.0) - curves.value((c - 1) / 100.0)
        return np.where(c > lo_c, g, np.inf)

    while int(c.sum()) < B:
        c[int(np.argmax(up(c)))] += 1
    while int(c.sum()) > B:  # only when the floor met a lower bound above it
        c[int(np.argmin(down(c)))] -= 1
    for _ in range(max_moves):  # move single cents while that gains
        gain, loss = up(c), down(c)
        j, i = int(np.argmax(gain)), int(np.argmin(loss))
        if i == j or not gain[j] - loss[i] > 1e-9 * max(1.0, abs(gain[j])):
            break
        c[j] += 1
        c[i] -= 1
    return c / 100.0


# ---------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------


def _check_budget(total_budget) -> float:
    if isinstance(total_budget, bool) or not isinstance(total_budget, numbers.Real) or not (
        math.isfinite(float(total_budget)) and float(total_budget) > 0
    ):
        raise _param_error("plan_budget", "total_budget", "a positive number (currency units)", total_budget)
    if round(float(total_budget), 2) <= 0:
        raise _param_error("plan_budget", "total_budget", "at least 0.01 (plans are made in whole cents)", total_budget)
    return round(float(total_budget), 2)


def _estimand_of_source(obj, fitted, credits) -> str:
    if fitted is not None:
        return estimand_of(fitted)
    return "incremental" if BASELINE in credits.index.astype(str) else "attributed"


def _held_channels(validity, hold, channels: list[str]) -> tuple[list[str], dict[str, str]]:
    """Channels held at today's spend, with the reason for each."""
    reasons: dict[str, str] = {}
    if hold is None or hold is True:
        if validity is not None:
            grades = _grades(validity)
            for c in channels:
                g = grades.get(c)
                if g == "D":
                    reasons[c] = "graded D by the validity scorecard: its incremental estimate is not trusted"
        elif hold is True:
            raise ValueError("The 'hold' parameter of plan_budget is True, but no validity= scorecard was given to "
                             "say which channels to hold. Pass validity=at.validity(model, journeys) or a list of channels.")
    elif hold is False:
        pass
    else:
        if isinstance(hold, str):
            hold = [hold]
        try:
            names = [str(h) for h in hold]
        except TypeError:
            raise _param_error("plan_budget", "hold", "None, False, True or a list of channel names", hold, TypeError) from None
        unknown = [h for h in names if h not in channels]
        if unknown:
            raise ValueError(
                f"The 'hold' parameter of plan_budget names channel(s) {unknown} that are not in the plan. "
                f"Channels in the plan: {channels}."
            )
        for h in names:
            reasons[h] = "held at today's spend by the user (hold=)"
    return [c for c in channels if c in reasons], reasons


def _source(obj, model, journeys):
    """(credits DataFrame, fitted model or None, journeys or None, label) from the first argument."""
    from .uncertainty import BootstrapResult

    if callable(getattr(type(obj), "_plan_source", None)):  # a Comparison (imports run comparison -> budget)
        return obj._plan_source(model)
    if isinstance(obj, BootstrapResult):
        return obj.model.credits_, obj.model, journeys, obj.label
    if isinstance(obj, AttributionModel):
        if "credits_" not in obj.__dict__:
            raise ParameterError("plan_budget got an unfitted model. Fit it first, or pass a Comparison.")
        return obj.credits_, obj, journeys, obj.model_name or type(obj).__name__
    if isinstance(obj, pd.DataFrame):
        df = obj.set_index("channel") if "channel" in obj.columns else obj
        missing = [c for c in ("conversions", "value") if c not in df.columns]
        if missing:
            raise ParameterError(
                f"The credits passed to plan_budget have no column(s) {missing}. Columns found: "
                f"{[str(c) for c in df.columns]}. Pass a model's credits_ (conversions, value per channel)."
            )
        return df, None, journeys, model or "credits"
    raise ParameterTypeError(
        "plan_budget expects a Comparison, a fitted model, a BootstrapResult or a credits DataFrame. "
        f"Got {type(obj).__name__} instead."
    )


def _bounds(bounds, channels: list[str], budget: float, s0: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """``(lower, upper, in words)`` per channel from the ``bounds`` parameter of plan_budget."""
    K = len(channels)
    lo = np.zeros(K)
    hi = np.full(K, budget)

    def pair(v, where):
        if not isinstance(v, (tuple, list)) or len(v) != 2:
            raise _param_error("plan_budget", "bounds", f"(lower, upper) amounts {where}", v)
        a, b = v
        a = 0.0 if a is None else float(a)
        b = budget if b is None else float(b)
        if not (a >= 0 and b >= a):
            raise _param_error("plan_budget", "bounds", f"0 <= lower <= upper {where}", v)
        return a, b

    if isinstance(bounds, str) and bounds == "default":
        bounds = DEFAULT_BOUNDS
    if bounds is None:
        note = "none (each channel from 0 to the whole budget)"
    elif isinstance(bounds, RelativeBounds):
        lo, hi = bounds.low * s0, np.where(np.isinf(bounds.high), budget, bounds.high * s0)
        note = str(bounds)
    else:
        if isinstance(bounds, pd.DataFrame):
            missing = [c for c in ("lower", "upper") if c not in bounds.columns]
            if missing:
                raise ParameterError(
                    f"The bounds DataFrame has no column(s) {missing}: use index channel and columns lower, upper."
                )
            bounds = {str(k): (r["lower"], r["upper"]) for k, r in bounds.iterrows()}
        if isinstance(bounds, Mapping):
            unknown = [k for k in bounds if k not in channels]
            if unknown:
                raise ParameterError(
                    f"The 'bounds' parameter of plan_budget names channel(s) {unknown} that are not in the plan. "
                    f"Channels in the plan: {channels}."
                )
            # channels the dict does not name keep the default bounds
            lo, hi = DEFAULT_BOUNDS.low * s0, DEFAULT_BOUNDS.high * s0
            for k, v in bounds.items():
                i = channels.index(k)
                lo[i], hi[i] = pair(v, f"for channel {k!r}")
            rest = K - len(bounds)
            note = "as given per channel" + (f"; {DEFAULT_BOUNDS} for the {rest} other(s)" if rest else "")
        else:
            a, b = pair(bounds, "for every channel")
            lo[:], hi[:] = a, b
            note = f"{a:,.2f} to {b:,.2f} for every channel"
    hi = np.minimum(hi, budget)
    default = bounds is DEFAULT_BOUNDS or isinstance(bounds, Mapping) and len(bounds) < K  # not the user's own
    hint = (f" The default bounds keep each channel within {DEFAULT_BOUNDS} (plans far from today's spend rest "
            "on extrapolated curves); pass bounds=RelativeBounds(low, high) to widen them, or bounds=None for an "
            "unbounded plan." if default else "")
    # the plan is in whole cents inside the bounds: feasible on the cent grid (bounds rounded inwards)
    lo_cents = np.ceil(lo * 100 - 1e-6).sum()
    hi_cents = np.floor(np.where(np.isfinite(hi), hi, budget) * 100 + 1e-6).sum()
    budget_cents = round(budget * 100)
    if lo_cents > budget_cents:
        raise ParameterError(
            f"The bounds make the plan infeasible: the lower bounds sum to {lo_cents / 100:,.2f}, more than the "
            f"total budget {budget:,.2f} (each bound taken to the whole cent inside it, as the plan is in cents). "
            "Lower them or raise the budget." + hint
        )
    if hi_cents < budget_cents:
        raise ParameterError(
            f"The bounds make the plan infeasible: the upper bounds sum to {hi_cents / 100:,.2f}, less than the "
            f"total budget {budget:,.2f} (each bound taken to the whole cent inside it, as the plan is in cents). "
            "Raise them or lower the budget." + hint
        )
    return lo, hi, note


def _unbounded(bounds) -> bool:
    return bounds is None or isinstance(bounds, RelativeBounds) and bounds.low == 0 and math.isinf(bounds.high)


def _zero_marginal_budget(val_curves: ResponseCurves, lo: np.ndarray, hi: np.ndarray) -> tuple[float, bool]:
    r"""The budget at which the value-maximising plan's marginal ROI is zero, within the bounds.

    Marginal ROI is :math:`v_k'(s) - 1`; at the optimum of a concave problem every channel
    inside its bounds has the same marginal return :math:`\lambda`, so marginal ROI is zero at
    :math:`\lambda = 1`: :math:`s_k^* = \mathrm{clip}(v_k'^{-1}(1), l_k, u_k)` (closed form for
    each curve family) and :math:`B^* = \sum_k s_k^*`. Returns ``(B*, reached)``, ``reached``
    False when every channel sits at a bound there (marginal ROI is not zero anywhere inside
    them).
    """
    if val_curves.family == "linear":
        s = np.where(val_curves.marginal(lo) > 1.0, hi, lo)
        return float(s.sum()), False
    free = val_curves.spend_at_log_marginal(0.0)
    s = np.where(val_curves.y0 > 0, np.clip(free, lo, hi), lo)
    reached = bool(np.any((val_curves.y0 > 0) & (lo < hi) & (free > lo) & (free < hi)))
    return float(s.sum()), reached


def _elasticities(elasticity, channels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Explicit elasticities (NaN where not given) and a mask of the given ones."""
    K = len(channels)
    out = np.full(K, np.nan)
    if elasticity is None:
        return out, np.zeros(K, dtype=bool)

    def check(v, where):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0.0 < float(v) < 1.0:
            raise _param_error("plan_budget", "elasticity", f"a number strictly between 0 and 1 {where}", v)
        return float(v)

    if isinstance(elasticity, Mapping):
        unknown = [k for k in elasticity if k not in channels]
        if unknown:
            raise ParameterError(
                f"The 'elasticity' parameter of plan_budget names channel(s) {unknown} that are not in the "
                f"plan. Channels in the plan: {channels}."
            )
        for k, v in elasticity.items():
            out[channels.index(k)] = check(v, f"for channel {k!r}")
    else:
        out[:] = check(elasticity, "")
    return out, ~np.isnan(out)


def _period_outcomes(fitted, journeys: Journeys, periods: pd.DatetimeIndex, objective: str):
    """Attributed outcome per channel and period: the model refitted on each period's journeys.

    A journey belongs to the period in which it ends (its conversion, or its last touch).
    Returns ``(frame or None, reason)``.
    """
    if fitted is None or journeys is None:
        return None, "costs have periods, but no journeys to split the attributed outcome by period"
    if not journeys.has_time:
        return None, "costs have periods, but the journeys have no timestamps (a path table)"
    if len(periods) < 2:
        return None, "the costs cover a single period"
    starts = periods.sort_values().to_numpy(dtype="datetime64[ns]")
    step = np.median(np.diff(starts))
    end = journeys.conversion_time.copy()
    nonempty = journeys.lengths > 0
    last = np.full(journeys.n_journeys, np.datetime64("NaT"), dtype="datetime64[ns]")
    last[nonempty] = journeys.touch_time[journeys.offsets[1:][nonempty] - 1]
    end = np.where(np.isnat(end), last, end)
    valid = ~np.isnat(end) & (end >= starts[0]) & (end < starts[-1] + step)
    which = np.searchsorted(starts, end, side="right") - 1
    rows = []
    base = clone(fitted)
    for p, start in enumerate(starts):
        sub = journeys.take(np.flatnonzero(valid & (which == p)))
        if sub.total_conversions <= 0:
            continue
        try:
            cr = clone(base).fit(sub).credits_
        except Exception as exc:  # a model that cannot fit one period's journeys: no fit at all
            return None, f"the model could not be refitted on one period's journeys ({type(exc).__name__}: {exc})"
        rows.append(pd.DataFrame({"channel": cr.index.astype(str), "period": pd.Timestamp(start),
                                  "outcome": cr[objective].to_numpy()}))
    if not rows:
        return None, "no conversions inside the costs' periods"
    return pd.concat(rows, ignore_index=True), ""


# ---------------------------------------------------------------------------------------------
# the public functions
# ---------------------------------------------------------------------------------------------


def plan_budget(
    comparison_or_credits,
    costs=None,
    total_budget=None,
    *,
    model: str | None = None,
    bounds=DEFAULT_BOUNDS,
    response: str = "concave",
    objective: str | None = None,
    elasticity=None,
    outcomes: pd.DataFrame | None = None,
    journeys: Journeys | None = None,
    min_periods: int = 8,
    floor: float = 0.1,
    reallocate: float = 0.3,
    validity=None,
    hold=None,
) -> BudgetPlan:
    r"""Recommend a spend per channel that maximises the expected attributed outcome.

    Parameters
    ----------
    comparison_or_credits : Comparison, fitted model, BootstrapResult or DataFrame
        Where the attributed outcome per channel comes from. With a
        :class:`~attribution.decisions.comparison.Comparison`, ``model`` names the model to use.
    costs : DataFrame, Series or dict
        Today's costs per channel (or per channel and period), over the same period as the
        journeys (see :func:`attribution.decisions.roi.normalise_costs`). Defaults to the comparison's.
    total_budget : float
        The budget to allocate, for a period as long as the costs' (amounts are planned to the
        cent).
    model : str, optional
        The comparison's model label (required when it compares several models).
    bounds : RelativeBounds, (lower, upper), dict, DataFrame or None, default DEFAULT_BOUNDS
        Spend limits per channel. Default :data:`DEFAULT_BOUNDS`, 0.5–2 × today's spend
        (:data:`attribution._defaults.PLAN_BOUNDS`): response curves are anchored at today's
        spend and are extrapolations far from it. ``RelativeBounds(low, high)``: other
        multipliers of today's spend; a pair ``(lower, upper)``: the same amounts in currency for
        every channel; a dict ``channel -> (lower, upper)`` in currency (``None`` = no limit on
        that side; channels it does not name keep the default bounds), or a DataFrame indexed by
        channel with ``lower`` and ``upper`` columns. ``None``: no bounds (0 to the whole budget
        for every channel), with a :class:`~attribution.exceptions.PlanWarning`. The plan states
        its bounds (:attr:`BudgetPlan.bounds`). The string ``"default"`` stands for
        :data:`DEFAULT_BOUNDS`.
    response : {"concave", "power", "linear"}, default "concave"
        Response-curve family (see the module docstring).
    objective : {"value", "conversions"}, optional
        What to maximise; default ``value`` when the credits carry value, else ``conversions``.
    elasticity : float or dict, optional
        Elasticity at today's spend, in (0, 1), for every channel or per channel. Channels
        without one get a fitted elasticity when per-period data exist, else
        :data:`DEFAULT_ELASTICITY`.
    outcomes : DataFrame, optional
        Attributed outcome per channel and period (columns ``channel``, ``period`` and the
        ``objective`` column), to fit elasticities; by default derived by refitting the model
        on each period's journeys when the costs have periods and the journeys have timestamps.
    journeys : Journeys, optional
        The journeys a fitted model was fitted on (a Comparison brings its own).
    min_periods : int, default 8
        Fewest periods with spend needed to fit an elasticity.
    floor, reallocate : float, default 0.1 and 0.3
        Parameters of the rule-based reallocation shown for comparison: the share of the budget
        split evenly as a floor, and the share reallocated by ROI index.
    validity : ValidityResult, DataFrame or dict, optional
        The validity scorecard (:func:`attribution.decisions.scorecard.validity`) of the model, or any table
        with a ``grade`` per channel. Channels graded ``D`` are held at today's spend (their
        incremental estimate is not trusted enough to move money), unless ``hold`` says otherwise.
    hold : None, bool or list of str, optional
        ``None`` (default): hold the channels graded D by ``validity`` (none without it);
        a list: hold exactly these channels at today's spend (overrides the grades);
        ``False``: hold nothing (the user overrides the scorecard).

    Returns
    -------
    BudgetPlan
        ``allocation`` (index channel; ``current, planned, change, lower, upper,
        current_conversions, expected_conversions, current_value, expected_value,
        marginal_roi, marginal_cpa``), ``rule_based``, ``curves``, ``excluded``, ``totals``.

    Raises
    ------
    ValueError
        For an invalid budget, bounds that make the plan infeasible (with the default bounds, a
        budget below half or above twice today's spend), unknown channels in ``bounds`` or
        ``elasticity``, or no paid channel with credit.

    Warns
    -----
    PlanWarning
        With ``bounds=None`` (or ``RelativeBounds(0, math.inf)``): the plan is unbounded.

    Notes
    -----
    The outcome follows the model's estimand: an *attributed* model plans on attributed
    value (observed conversions split over touching channels); an *incremental* model
    (``estimand_ == "incremental"``, e.g. ``get_model("causal")``) plans on each channel's
    incremental value, and its ``"(baseline)"`` row (conversions expected without any paid
    channel) is excluded. A negative incremental estimate is planned as zero (the channel is
    cut towards its lower bound) and noted in :attr:`BudgetPlan.warnings`.

    Channels enter the plan when they have a positive cost today: a response curve needs an
    anchor, so unpaid channels, channels with touches but no cost and ``"(no touch)"`` are listed
    in :attr:`BudgetPlan.excluded` with the reason, and their outcome is not part of the totals.
    Both outcomes use the same curve shape: :math:`n(s) = n_0\,h(s)/h(s_0)` and
    :math:`v(s) = v_0\,h(s)/h(s_0)` (value per conversion fixed per channel).
    ``marginal_roi`` is :math:`v'(s) - 1` at the planned spend (the return of the next unit of
    currency, net of its cost) and ``marginal_cpa`` is :math:`1/n'(s)`. At an interior optimum
    the marginal returns of all channels strictly inside their bounds are equal.

    *Fit quality.* Every channel's curve is rated in :attr:`BudgetPlan.curves` (``quality``):
    ``fitted`` (R² of the per-period fit at least :data:`attribution._defaults.WEAK_FIT_R2` =
    0.5, on ``n_periods`` points), ``weak`` (fitted with R² < 0.5), ``assumed`` (elasticity
    pooled from other channels or the default, not measured), ``given`` (``elasticity=``) or
    ``linear``. When any channel's curve is weak or assumed, the plan opens with a caveat
    (:attr:`BudgetPlan.caveat`).

    *Zero marginal ROI.* :attr:`BudgetPlan.zero_marginal_budget` is the budget at which the
    value-maximising plan's marginal ROI reaches zero within the bounds:
    :math:`B^* = \sum_k \mathrm{clip}(v_k'^{-1}(1), l_k, u_k)`, exact from the curves (every
    curve family has a closed-form inverse marginal). When every channel the plan moves has a
    negative marginal ROI, each extra unit of the budget loses money and the plan says so,
    naming :math:`B^*`.

    References
    ----------
    .. [1] Field survey §2.9 (budget reallocation formulas; MMM optimisers: PyMC-Marketing,
       Meridian).
    .. [2] Sethuraman, R., Tellis, G. J. & Briesch, R. A. (2011). How well does advertising work?
       Generalizations from meta-analysis of brand advertising elasticities. *Journal of
       Marketing Research* 48(3), 457–471.
    .. [3] Boyd, S. & Vandenberghe, L. (2004). *Convex Optimization*, §5.5.3 (KKT conditions;
       water-filling).

    Examples
    --------
    >>> import pandas as pd
    >>> credits = pd.DataFrame({"conversions": [40.0, 10.0], "value": [4000.0, 1000.0]},
    ...                        index=pd.Index(["search", "display"], name="channel"))
    >>> plan = plan_budget(credits, {"search": 1000.0, "display": 1000.0}, 2000.0,
    ...                    response="power", elasticity=0.5)
    >>> plan.bounds
    "0.5–2 × today's spend"
    >>> plan.allocation["planned"].round(2).to_dict()  # display stops at half its spend
    {'search': 1500.0, 'display': 500.0}
    >>> wide = plan_budget(credits, {"search": 1000.0, "display": 1000.0}, 2000.0,
    ...                    response="power", elasticity=0.5, bounds=RelativeBounds(0, 3))
    >>> wide.allocation["planned"].round(2).to_dict()
    {'search': 1882.35, 'display': 117.65}
    >>> float(wide.allocation["planned"].sum())
    2000.0
    """
    if total_budget is None:
        raise _param_error("plan_budget", "total_budget", "a positive number (currency units)", None)
    budget = _check_budget(total_budget)
    if response not in RESPONSES:
        raise _param_error("plan_budget", "response", f"one of {list(RESPONSES)}", response)
    for name, v in (("floor", floor), ("reallocate", reallocate)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0.0 <= float(v) <= 1.0:
            raise _param_error("plan_budget", name, "a share between 0 and 1", v)
    if floor + reallocate > 1.0:
        raise ParameterError(
            f"The 'floor' and 'reallocate' parameters of plan_budget must sum to at most 1. Got "
            f"{floor} + {reallocate} instead."
        )
    if isinstance(min_periods, bool) or not isinstance(min_periods, numbers.Integral) or min_periods < 3:
        raise _param_error("plan_budget", "min_periods", "an integer of at least 3", min_periods)
    credits, fitted, journeys, label = _source(comparison_or_credits, model, journeys)
    estimand = _estimand_of_source(comparison_or_credits, fitted, credits)
    if costs is None:
        costs = getattr(comparison_or_credits, "costs", None)
    if costs is None:
        raise ParameterError("plan_budget needs today's costs: pass costs= (a table per channel, or per channel and period).")
    cost_frame = normalise_costs(costs)
    if objective is None:
        objective = "value" if float(credits["value"].sum()) > 0 else "conversions"
    if objective not in ("value", "conversions"):
        raise _param_error("plan_budget", "objective", "'value' or 'conversions'", objective)

    # -- which channels enter the plan
    spend = _cost_by_channel(cost_frame)
    credits = credits.copy()
    credits.index = credits.index.astype(str)
    names = list(dict.fromkeys(list(credits.index) + list(spend.index)))
    excluded = []
    channels = []
    for c in names:
        cost = float(spend.get(c, np.nan))
        conv = float(credits["conversions"].get(c, 0.0))
        val = float(credits["value"].get(c, 0.0))
        if c == NO_TOUCH:
            reason = "conversions without any recorded touch: nothing to spend on"
        elif c == BASELINE:
            reason = "conversions expected with no paid channel (the incremental model's baseline): nothing to spend on"
        elif np.isnan(cost):
            reason = "touches but no cost row: no spend to anchor a response curve (add its cost to plan it)"
        elif cost <= 0:
            reason = "no spend today (unpaid): no response curve can be anchored"
        else:
            channels.append(c)
            continue
        excluded.append((c, reason, cost, conv, val))
    if not channels:
        raise ParameterError(
            "No channel can be planned: none has both a positive cost and a place in the credits. "
            f"Channels in the credits: {list(credits.index)}; in the costs: {list(spend.index)}."
        )
    s0 = spend.reindex(channels).to_numpy(dtype=np.float64)
    conv0 = credits["conversions"].reindex(channels).fillna(0.0).to_numpy(dtype=np.float64)
    val0 = credits["value"].reindex(channels).fillna(0.0).to_numpy(dtype=np.float64)
    y0 = val0 if objective == "value" else conv0
    clipped = []
    for c, v in zip(channels, y0):
        if v < 0 and estimand == "incremental":
            clipped.append(c)
        elif v < 0:
            raise ParameterError(
                f"Channel {c!r} has a negative attributed {objective} ({v:,.2f}) under {label}; a response "
                "curve needs a non-negative outcome. Plan with another model or exclude the channel."
            )
    conv0, val0 = np.maximum(conv0, 0.0), np.maximum(val0, 0.0)
    lo, hi, bounds_note = _bounds(bounds, channels, budget, s0)
    if _unbounded(bounds):
        _warn_user(
            f"plan_budget runs without bounds: a channel may get anything from 0 to the whole budget "
            f"{budget:,.2f}, where its response curve (anchored at today's spend) is an extrapolation. Keep the "
            f"default bounds ({DEFAULT_BOUNDS}) or pass bounds=RelativeBounds(low, high) unless you trust the "
            "curves far from today's spend.", PlanWarning)
    held, held_reasons = _held_channels(validity, hold, channels)
    for c in held:
        i = channels.index(c)
        lo[i] = hi[i] = s0[i]
    if held and lo.sum() > budget + 1e-9:
        raise ValueError(
            f"Holding {held} at today's spend ({sum(s0[channels.index(c)] for c in held):,.2f}) with the other lower "
            f"bounds needs {lo.sum():,.2f}, more than the total budget {budget:,.2f}. Raise the budget, or pass "
            "hold=False (or a shorter list) to let the plan move them."
        )
    if held and hi.sum() < budget - 1e-9:
        raise ValueError(
            f"Holding {held} at today's spend leaves upper bounds summing to {hi.sum():,.2f}, less than the total "
            f"budget {budget:,.2f}. Raise the other channels' upper bounds, lower the budget or hold fewer channels."
        )

    # -- elasticities: given, fitted, or the default
    e, given = _elasticities(elasticity, channels)
    K = len(channels)
    source = np.where(given, "given", "").astype(object)
    r2 = np.full(K, np.nan)
    n_periods = np.zeros(K, dtype=np.int64)
    notes = np.full(K, "", dtype=object)
    if response != "linear" and not given.all():
        if estimand == "incremental" and outcomes is None:
            # an effect estimate needs exposed and unexposed journeys in numbers: one period's
            # journeys are too few, so incremental models are not refitted per period
            per, no_periods = None, ("an incremental model is not refitted per period (too few journeys per period "
                                     "for its effect estimates); pass elasticity= or outcomes=")
        else:
            per, no_periods = _per_period(cost_frame, outcomes, fitted, journeys, objective)
        for i, c in enumerate(channels):
            if given[i]:
                continue
            if per is None:
                e[i], source[i], notes[i] = DEFAULT_ELASTICITY, "default", no_periods
                continue
            pts = per[per["channel"] == c]
            n_periods[i] = int((pts["cost"] > 0).sum())
            fit_e, fit_r2, why = _fit_elasticity(
                response, pts["cost"].to_numpy(float), pts["outcome"].to_numpy(float), min_periods
            )
            if not np.isnan(fit_e) and not fit_r2 > 0:
                why = f"the fitted curve explains nothing of the per-period outcome (R² {fit_r2:.2f})"
                fit_e = np.nan
            if np.isnan(fit_e):
                e[i], source[i], notes[i] = DEFAULT_ELASTICITY, "default", why
            else:
                e[i], source[i], r2[i] = fit_e, "fitted", fit_r2
                at = min(abs(fit_e - _E_RANGE[0]), abs(fit_e - _E_RANGE[1])) < 1e-3
                weak = fit_r2 < _WEAK_R2
                notes[i] = "; ".join(
                    ([f"at the edge of the fitted range {_E_RANGE}"] if at else [])
                    + ([f"weak fit (R² {fit_r2:.2f} < {_WEAK_R2:g} on {n_periods[i]} periods)"] if weak else [])
                )
        # channels that could not be fitted borrow the median of the fitted ones (one market,
        # one elasticity scale), rather than mixing measured and assumed curvatures
        fitted_e = e[source == "fitted"]
        pool = source == "default"
        if len(fitted_e) and pool.any():
            med = float(np.median(fitted_e))
            e[pool] = med
            source[pool] = "pooled"
            notes[pool] = [f"{n}; median of the fitted channels used" for n in notes[pool]]
    if response == "linear":
        e[:] = 1.0
        source[:] = "linear"
    quality = np.where(source == "fitted", np.where(r2 < _WEAK_R2, "weak", "fitted"),
                       np.where(np.isin(source, ["pooled", "default"]), "assumed", source)).astype(object)
    curves = ResponseCurves(response, s0, y0, e)
    conv_curves = ResponseCurves(response, s0, conv0, e)
    val_curves = ResponseCurves(response, s0, val0, e)

    planned = _to_cents(_optimise(curves, lo, hi, budget), lo, hi, budget, curves=curves)
    allocation = _allocation(channels, s0, planned, lo, hi, conv0, val0, conv_curves, val_curves)

    rule = rule_based_allocation(
        pd.DataFrame({"conversions": conv0, "value": val0}, index=pd.Index(channels, name="channel")),
        pd.Series(s0, index=channels), budget, objective=objective, floor=floor, reallocate=reallocate,
    )
    rule["expected_conversions"] = conv_curves.value(rule["planned"].to_numpy())
    rule["expected_value"] = val_curves.value(rule["planned"].to_numpy())

    curve_table = pd.DataFrame(
        {
            "response": response,
            "current_spend": s0,
            "current_conversions": conv0,
            "current_value": val0,
            "elasticity": e,
            "source": source,
            "r2": r2,
            "n_periods": n_periods,
            "quality": quality,
            "note": notes,
        },
        index=pd.Index(channels, name="channel"),
    )
    if response == "concave":
        curve_table["saturation_at_current"] = -np.expm1(-curves.x)  # y0 / ceiling
        curve_table["ceiling"] = curves.a
    excluded_table = pd.DataFrame(excluded, columns=["channel", "reason", "cost", "conversions", "value"])
    zero_budget, reached = _zero_marginal_budget(val_curves, lo, hi)
    return BudgetPlan(
        allocation=allocation, rule_based=rule, curves=curve_table, excluded=excluded_table,
        total_budget=budget, objective=objective, model=label, response=response,
        _curves=(conv_curves, val_curves), estimand=estimand,
        held=pd.Series(held_reasons, dtype=object, name="reason").rename_axis("channel"),
        clipped=clipped, bounds=bounds_note, zero_marginal_budget=zero_budget, zero_marginal_reached=reached,
    )


def _per_period(cost_frame, outcomes, fitted, journeys, objective):
    """Per channel and period: ``channel, period, cost, outcome``; ``(frame or None, reason)``."""
    if "period" not in cost_frame.columns:
        return None, "costs are totals per channel (no periods)"
    if outcomes is not None:
        if not isinstance(outcomes, pd.DataFrame) or not {"channel", "period", objective} <= set(outcomes.columns):
            raise ParameterError(
                f"The 'outcomes' parameter of plan_budget must be a DataFrame with columns channel, period and "
                f"{objective!r}. Got {type(outcomes).__name__}"
                + (f" with columns {list(outcomes.columns)}" if isinstance(outcomes, pd.DataFrame) else "")
                + " instead."
            )
        out = pd.DataFrame({
            "channel": outcomes["channel"].astype(str).str.strip().to_numpy(),
            "period": _parse_periods(outcomes, "period", None).to_numpy(),
            "outcome": pd.to_numeric(outcomes[objective], errors="coerce").fillna(0.0).to_numpy(dtype=np.float64),
        }).groupby(["channel", "period"], as_index=False)["outcome"].sum()
    else:
        periods = pd.Index(cost_frame["period"].unique())
        if not isinstance(periods, pd.DatetimeIndex):
            return None, "cost periods are labels, not dates: pass outcomes= per period to fit curves"
        out, reason = _period_outcomes(fitted, journeys, periods, objective)
        if out is None:
            return None, reason
    merged = cost_frame.merge(out, on=["channel", "period"], how="left")
    merged["outcome"] = merged["outcome"].fillna(0.0)
    return merged, ""


def _allocation(channels, s0, planned, lo, hi, conv0, val0, conv_curves, val_curves) -> pd.DataFrame:
    with np.errstate(divide="ignore", invalid="ignore"):
        dconv = conv_curves.marginal(planned)
        marginal_cpa = np.where(dconv > 0, 1.0 / np.where(dconv > 0, dconv, 1.0), np.inf)
        change_pct = np.where(s0 > 0, planned / s0 - 1.0, np.nan)
    return pd.DataFrame(
        {
            "current": s0,
            "planned": planned,
            "change": planned - s0,
            "change_pct": change_pct,
            "lower": lo,
            "upper": hi,
            "current_conversions": conv0,
            "expected_conversions": conv_curves.value(planned),
            "current_value": val0,
            "expected_value": val_curves.value(planned),
            "marginal_roi": val_curves.marginal(planned) - 1.0,
            "marginal_cpa": marginal_cpa,
        },
        index=pd.Index(channels, name="channel"),
    )


def rule_based_allocation(
    credits: pd.DataFrame,
    costs,
    total_budget: float,
    *,
    objective: str = "value",
    floor: float = 0.1,
    reallocate: float = 0.3,
) -> pd.DataFrame:
    r"""Rule-based reallocation by ROI index with a floor (ChannelAttribution Pro's formula).

    Parameters
    ----------
    credits : DataFrame
        Indexed by channel, with ``conversions`` and ``value``.
    costs : DataFrame, Series or dict
        Today's cost per channel; channels with positive cost are allocated.
    total_budget : float
    objective : {"value", "conversions"}, default "value"
        The index uses ROAS (value / cost) or conversions per cost.
    floor : float, default 0.1
        Share of the budget split evenly over the channels (every channel's floor).
    reallocate : float, default 0.3
        Share of the budget allocated by ROI index; the rest (``1 - floor - reallocate``) stays
        proportional to today's spend.

    Returns
    -------
    DataFrame
        Indexed by channel: ``current``, ``index``, ``planned`` (sums to the budget to the cent).

    Notes
    -----
    :math:`\mathrm{index}_k = r_k / \sum_j r_j`,
    :math:`B_k = \frac{c_k}{\sum_j c_j}(1 - f - p)B + \frac{f}{K}B + \mathrm{index}_k\,p\,B`.

    References
    ----------
    .. [1] ChannelAttribution Pro, "Perform budget allocation through Markov model" (field
       survey §2.9).

    Examples
    --------
    >>> import pandas as pd
    >>> credits = pd.DataFrame({"conversions": [30.0, 10.0], "value": [300.0, 100.0]},
    ...                        index=["a", "b"])
    >>> rule_based_allocation(credits, {"a": 100.0, "b": 100.0}, 200.0, floor=0.1,
    ...                       reallocate=0.5)["planned"].to_dict()
    {'a': 125.0, 'b': 75.0}
    """
    budget = _check_budget(total_budget)
    if objective not in ("value", "conversions"):
        raise _param_error("rule_based_allocation", "objective", "'value' or 'conversions'", objective)
    spend = _cost_by_channel(normalise_costs(costs, period=False))
    spend = spend[spend > 0]
    channels = list(spend.index)
    if not channels:
        raise ParameterError("rule_based_allocation needs at least one channel with a positive cost.")
    c = spend.to_numpy(dtype=np.float64)
    out_col = credits[objective].reindex(channels).fillna(0.0).to_numpy(dtype=np.float64)
    r = np.maximum(out_col, 0.0) / c
    index = r / r.sum() if r.sum() > 0 else np.full(len(c), 1.0 / len(c))
    K = len(c)
    alloc = c / c.sum() * (1.0 - floor - reallocate) * budget + floor / K * budget + index * reallocate * budget
    planned = _to_cents(alloc, np.zeros(K), np.full(K, budget), budget)
    return pd.DataFrame({"current": c, "index": index, "planned": planned}, index=pd.Index(channels, name="channel"))


class BudgetPlan:
    """A recommended spend per channel, with the rule-based reallocation for comparison.

    Returned by :func:`plan_budget`.

    Attributes
    ----------
    allocation : DataFrame
        Indexed by channel: ``current``, ``planned`` (sums to :attr:`total_budget` to the
        cent), ``change``, ``change_pct``, ``lower``, ``upper``, ``current_conversions``,
        ``expected_conversions``, ``current_value``, ``expected_value``, ``marginal_roi``
        (:math:`v'(s) - 1`), ``marginal_cpa`` (:math:`1/n'(s)`).
    rule_based : DataFrame
        The rule-based reallocation: ``current``, ``index``, ``planned``,
        ``expected_conversions``, ``expected_value``.
    curves : DataFrame
        Each channel's response curve: family, anchor, elasticity and where it came from
        (``given``, ``fitted`` with its R² and ``n_periods`` points, ``pooled`` (median of the
        fitted channels) or ``default``), its ``quality`` (``fitted``, ``weak``: R² below
        :data:`attribution._defaults.WEAK_FIT_R2` = 0.5, ``assumed``, ``given`` or ``linear``)
        and a note on fits that are weak or were rejected.
    bounds : str
        The plan's spend bounds in words (e.g. ``"0.5–2 × today's spend"``); the amounts are
        the ``lower`` and ``upper`` columns of :attr:`allocation`.
    zero_marginal_budget : float
        The total budget at which the value-maximising plan's marginal ROI is zero, within the
        bounds (see :func:`plan_budget`, Notes); the sum of the lower bounds when marginal ROI
        is below zero even there.
    excluded : DataFrame
        Channels left out of the plan, with the reason.
    total_budget : float
    objective : str
    model : str
        The model whose credit drives the plan.
    response : str
    estimand : {"attributed", "incremental"}
        What the outcome is: attributed credit, or what the channels caused.
    held : Series
        Channels held at today's spend (index channel), with the reason (a D grade in the
        validity scorecard, or the user's ``hold=``).
    clipped : list of str
        Channels whose incremental estimate was negative, planned as zero outcome.
    """

    def __init__(self, *, allocation, rule_based, curves, excluded, total_budget, objective, model, response, _curves,
                 estimand="attributed", held=None, clipped=(), bounds="", zero_marginal_budget=float("nan"),
                 zero_marginal_reached=True):
        self.bounds = bounds
        self.zero_marginal_budget = zero_marginal_budget
        self._zero_reached = zero_marginal_reached
        self.estimand = estimand
        self.held = held if held is not None else pd.Series(dtype=object, name="reason")
        self.clipped = list(clipped)
        self.allocation = allocation
        self.rule_based = rule_based
        self.curves = curves
        self.excluded = excluded
        self.total_budget = total_budget
        self.objective = objective
        self.model = model
        self.response = response
        self._conv_curves, self._val_curves = _curves

    @property
    def totals(self) -> pd.DataFrame:
        """Spend, expected conversions and value, ROI and CPA: today, rule-based and planned
        (over the channels in the plan)."""
        a, r = self.allocation, self.rule_based
        rows = {
            "today": (a["current"].sum(), a["current_conversions"].sum(), a["current_value"].sum()),
            "rule-based": (r["planned"].sum(), r["expected_conversions"].sum(), r["expected_value"].sum()),
            "plan": (a["planned"].sum(), a["expected_conversions"].sum(), a["expected_value"].sum()),
        }
        out = pd.DataFrame(rows, index=["spend", "conversions", "value"]).T
        out["roi"], out["roas"], out["cpa"] = _ratios(out["spend"], out["conversions"], out["value"])
        out.index.name = "scenario"
        return out

    @property
    def caveat(self) -> str:
        """The headline caveat when any channel's response curve is weak (fitted with R² below
        :data:`attribution._defaults.WEAK_FIT_R2`) or assumed (not measured); ``""`` otherwise."""
        q = self.curves.get("quality")
        if q is None:
            return ""
        weak = self.curves[q == "weak"]
        assumed = q.index[q == "assumed"].tolist()
        if not len(weak) and not assumed:
            return ""
        parts = []
        if len(weak):
            parts.append(f"weak response curves (R² below {_WEAK_R2:g}) for " + ", ".join(
                f"{c!r} (R² {r:.2f})" for c, r in zip(weak.index, weak["r2"])))
        if assumed:
            who = f"all {len(assumed)} channels" if len(assumed) == len(q) else str(assumed)
            parts.append(f"assumed (not measured) elasticities for {who}")
        return ("Caveat: this plan rests on " + " and ".join(parts) + ". Read its moves as directions to test "
                "(e.g. with a holdout), not as amounts to trust.")

    @property
    def marginal_note(self) -> str:
        """When every channel the plan moves has a negative marginal ROI: says so, with the budget
        at which marginal ROI reaches zero (:attr:`zero_marginal_budget`); ``""`` otherwise."""
        a = self.allocation
        moves = (a["upper"] > a["lower"]) & (a["current_value"] > 0) & ~a.index.isin(self.held.index)
        m = a.loc[moves, "marginal_roi"].to_numpy(dtype=float)
        if not len(m) or not (m < 0).all():
            return ""
        whose = "" if self.objective == "value" else " (of the plan that maximises value)"
        span = f"{m.min():.2f} in each" if round(m.min(), 2) == round(m.max(), 2) else f"{m.min():.2f} to {m.max():.2f}"
        msg = (f"Marginal ROI is below zero in every channel the plan moves ({span}): at this "
               "total budget each extra unit loses money; a smaller budget raises ROI. ")
        if self._zero_reached:
            return msg + f"Marginal ROI{whose} reaches zero at a total budget of {self.zero_marginal_budget:,.2f}."
        return msg + (f"Within the bounds ({self.bounds}) it stays below zero down to their floor, a total budget of "
                      f"{self.zero_marginal_budget:,.2f}: widen the bounds to plan a smaller budget.")

    def _fit_line(self) -> str:
        c = self.curves
        items = []
        for ch, row in c.iterrows():
            q = row.get("quality", "")
            if q in ("fitted", "weak"):
                items.append(f"{ch!r} R² {row['r2']:.2f} on {int(row['n_periods'])} periods" + (" (weak)" if q == "weak" else ""))
            elif q == "assumed":
                items.append(f"{ch!r} not fitted (elasticity {row['elasticity']:.2f} {row['source']})")
            elif q == "given":
                items.append(f"{ch!r} elasticity {row['elasticity']:.2f} given (not fitted)")
            else:
                items.append(f"{ch!r} {q} (constant returns, not fitted)")
        return "Response-curve fit per channel: " + "; ".join(items) + "."

    @property
    def warnings(self) -> list[str]:
        """The caveat, a negative marginal ROI, the fit of each channel's response curve,
        channels left out of the plan and elasticities that are assumed, in words."""
        msgs = [m for m in (self.caveat, self.marginal_note) if m]
        if "quality" in self.curves.columns:
            msgs.append(self._fit_line())
        msgs += [f"{r.channel!r} is not in the plan: {r.reason}." for r in self.excluded.itertuples()]
        msgs += [f"{c!r} is held at today's spend: {r}." for c, r in self.held.items()]
        if self.clipped:
            msgs.append(f"Negative incremental {self.objective} estimated for {self.clipped}: planned as zero "
                        "(the plan cuts them towards their lower bound).")
        default = self.curves[self.curves["source"] == "default"]
        for note, group in default.groupby("note", sort=False):
            names = group.index.tolist()
            who = f"all {len(names)} channels" if len(names) == len(self.curves) else str(names)
            msgs.append(f"Elasticity {DEFAULT_ELASTICITY} assumed (not measured) for {who}" + (f": {note}." if note else "."))
        pooled = self.curves[self.curves["source"] == "pooled"]
        for c, n, v in zip(pooled.index, pooled["note"], pooled["elasticity"]):
            msgs.append(f"Elasticity of {c!r} not measured ({n}): {v:.3f}.")
        fitted = self.curves[(self.curves["source"] == "fitted") & (self.curves["note"] != "")]
        for c, n in zip(fitted.index, fitted["note"]):
            # weak fits are in the caveat and the fit line already
            n = "; ".join(p for p in n.split("; ") if not p.startswith("weak fit"))
            if n:
                msgs.append(f"Fitted elasticity of {c!r}: {n}; pass elasticity= to override.")
        return msgs

    def _title(self) -> str:
        return (
            f"Budget plan: {self.total_budget:,.2f} over {len(self.allocation)} channels, maximising "
            + (f"incremental {self.objective} (caused, estimated by {self.model})" if self.estimand == "incremental"
               else f"{self.objective} attributed by {self.model} (attributed, not incremental)")
            + f" ({self.response} response)"
            + (f"; bounds: {self.bounds}" if self.bounds else "")
        )

    def summary(self) -> str:
        """A plain-text summary: allocation, totals, curves and notes."""
        cols = ["current", "planned", "change", "expected_conversions", "expected_value", "marginal_roi"]
        parts = [self._title()] + [m for m in (self.caveat, self.marginal_note) if m]
        parts += ["", _fmt(self.allocation[cols + ["lower", "upper"]], "{:,.2f}"), "",
                 "Expected outcome (channels in the plan):", _fmt(self.totals, "{:,.2f}"), "",
                 "Response curves:",
                 _fmt(self.curves[["current_spend", "elasticity", "source", "r2", "n_periods", "quality", "note"]],
                      "{:,.3f}", {"n_periods": "{:d}"})]
        rest = [w for w in self.warnings if w not in (self.caveat, self.marginal_note)]
        if rest:
            parts += ["", "Notes:"] + [f"- {w}" for w in rest]
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        cols = ["current", "planned", "change", "expected_conversions", "expected_value", "marginal_roi"]
        out = [f"<div><p><b>{html.escape(self._title())}</b></p>"]
        for head in (self.caveat, self.marginal_note):
            if head:
                out.append(f"<p style='background:#fff7e0;border-left:4px solid #e0a800;padding:4px 8px'>"
                           f"{html.escape(head)}</p>")
        out += [_html_table(self.allocation[cols + ["lower", "upper"]]),
                "<p>Expected outcome</p>", _html_table(self.totals),
                "<p>Response curves (quality: R² of the per-period fit; weak below "
                f"{_WEAK_R2:g})</p>",
                _html_table(self.curves[["current_spend", "elasticity", "source", "r2", "n_periods", "quality"]],
                            {"elasticity": "{:.3f}", "r2": "{:.3f}", "n_periods": "{:.0f}"})]
        shown = (self.caveat, self.marginal_note,  # shown above, and in the curves table
                 self._fit_line() if "quality" in self.curves.columns else "")
        out += _html_warnings([w for w in self.warnings if w not in shown])
        return "".join(out) + "</div>"

    def __repr__(self) -> str:
        q = self.curves["quality"].value_counts() if "quality" in self.curves.columns else pd.Series(dtype=int)
        curves = ", ".join(f"{n} {k}" for k, n in q.items())
        return (f"<BudgetPlan: {self.total_budget:,.2f} over {len(self.allocation)} channels by {self.model}; "
                f"bounds {self.bounds or 'as given'}; curves: {curves}"
                + ("; CAVEAT: weak or assumed curves" if self.caveat else "")
                + ("; marginal ROI < 0 everywhere" if self.marginal_note else "") + ">")

    def expected(self, spend) -> pd.DataFrame:
        """Expected conversions and value per channel at any spend (dict or Series by channel)."""
        s = pd.Series(spend, dtype=np.float64).reindex(self.allocation.index)
        if s.isna().any():
            raise ParameterError(f"expected() needs a spend for every channel in the plan: {list(self.allocation.index)}.")
        x = s.to_numpy()
        return pd.DataFrame({"spend": x, "conversions": self._conv_curves.value(x), "value": self._val_curves.value(x)},
                            index=self.allocation.index)

    def plot(self, *, rule_based: bool = True, ax=None):
        """Spend today versus the plan per channel (see
        :func:`attribution.plotting.decisions.plot_budget`)."""
        from ..plotting.decisions import plot_budget

        return plot_budget(self, rule_based=rule_based, ax=ax)

    def plot_curves(self, *, ax=None):
        """Each channel's response curve with today's and the planned spend (see
        :func:`attribution.plotting.decisions.plot_response_curves`)."""
        from ..plotting.decisions import plot_response_curves

        return plot_response_curves(self, ax=ax)


def check_plan_direction(plan: BudgetPlan, truth, *, margin: float = 0.25, tolerance: float = 0.01) -> pd.DataFrame:
    r"""Does the plan move spend the way the true incremental returns say it should?

    For every channel in the plan, the true incremental return per unit of spend
    :math:`r_c = \text{truth}_c / s_c` (``truth`` in conversions or value, :math:`s_c` today's
    spend) is compared with the median over the plan's channels: a channel whose return is more
    than ``margin`` above the median should gain spend, one more than ``margin`` below it should
    lose spend; the others may go either way.

    Parameters
    ----------
    plan : BudgetPlan
    truth : Series, dict or DataFrame
        True incremental outcome per channel (e.g. the simulator's ``truth()["conversions"]``; a
        DataFrame uses its ``value`` column when the plan maximises value, else
        ``conversions``).
    margin : float, default 0.25
        Relative distance from the median return beyond which the direction is required.
    tolerance : float, default 0.01
        Relative spend change below which the plan counts as holding the channel flat.

    Returns
    -------
    DataFrame
        Indexed by channel: ``true_return``, ``relative_to_median``, ``should`` (``up``,
        ``down`` or ``either``), ``planned_change_pct``, ``moved`` (``up``, ``down``, ``flat``),
        ``held`` (the plan held the channel at today's spend: a D grade of the validity scorecard
        or the user's ``hold=``, see :attr:`BudgetPlan.held`) and ``verdict`` (``right``,
        ``wrong``, ``flat``: the plan did not move a channel it should have, ``held``: the same
        because the plan was told to hold it, ``ok``: no direction required).
        ``attrs["share_right"]`` is the share of required directions the plan gets right (a held
        channel is not moved, so it is not right), ``attrs["required"]`` their number and
        ``attrs["held"]`` the held channels whose direction was required.

    Notes
    -----
    A held channel is kept at today's spend on purpose (its incremental estimate is not trusted,
    or the user said so); the verdict names that reason instead of calling the plan ``flat``, so
    that a report can tell a plan that missed a direction from one that was told not to move.

    Examples
    --------
    >>> import pandas as pd
    >>> credits = pd.DataFrame({"conversions": [40.0, 10.0], "value": [4000.0, 1000.0]},
    ...                        index=pd.Index(["search", "display"], name="channel"))
    >>> plan = plan_budget(credits, {"search": 1000.0, "display": 1000.0}, 2000.0,
    ...                    response="power", elasticity=0.5)
    >>> check_plan_direction(plan, {"search": 5.0, "display": 20.0})["verdict"].to_dict()
    {'search': 'wrong', 'display': 'wrong'}
    """
    if isinstance(truth, pd.DataFrame):
        df = truth.set_index("channel") if "channel" in truth.columns else truth
        col = plan.objective if plan.objective in df.columns else "conversions"
        truth = df[col]
    t = pd.Series(truth, dtype=np.float64)
    t.index = t.index.astype(str)
    a = plan.allocation
    spend = a["current"].astype(float)
    ret = t.reindex(a.index) / spend.where(spend > 0)
    med = float(ret.median(skipna=True))
    rel = ret / med - 1.0 if med > 0 else ret * np.nan
    should = np.where(rel > margin, "up", np.where(rel < -margin, "down", "either"))
    should = np.where(ret.isna(), "n/a", should)
    pct = a["change"] / spend.where(spend > 0)
    moved = np.where(pct > tolerance, "up", np.where(pct < -tolerance, "down", "flat"))
    held = a.index.isin(plan.held.index)
    verdict = np.where(should == "either", "ok", np.where(should == "n/a", "n/a",
                       np.where(moved == should, "right", np.where(held, "held",
                                np.where(moved == "flat", "flat", "wrong")))))
    out = pd.DataFrame({"true_return": ret, "relative_to_median": rel, "should": should,
                        "planned_change_pct": pct, "moved": moved, "held": held, "verdict": verdict}, index=a.index)
    req = out["should"].isin(["up", "down"])
    out.attrs["share_right"] = float((out.loc[req, "verdict"] == "right").mean()) if req.any() else float("nan")
    out.attrs["required"] = int(req.sum())
    out.attrs["held"] = out.index[req & (out["verdict"] == "held")].tolist()
    return out
