r"""Calibrate attribution with experiments.

:func:`calibrate` corrects a fitted model's per-channel credit with lift and geo tests
(:class:`~attribution.experiments.LiftTest`) and returns incremental credit with intervals that
carry into ROI (:meth:`CalibrationResult.roi`) and budget plans
(:meth:`CalibrationResult.plan_budget`), plus a ranking of which channel to test next
(:meth:`CalibrationResult.next_tests`).

The model
---------
For channel :math:`c` let :math:`m_c` be the model's credit (incremental credit for an
incremental model, attributed credit otherwise) and :math:`\theta_c` the channel's true
incremental outcome over the same period. The *incrementality factor* is
:math:`f_c = \theta_c / m_c` (1 for a model that is right; below 1 for a channel the model
over-credits). A test of channel :math:`c`, scaled to the model's period (by the ratio of the
channel's spend in the period to its spend in the test), gives :math:`\hat\theta_c` with
standard error :math:`s_c`, hence an observed factor :math:`F_c = \hat\theta_c / m_c` with
variance :math:`v_c = (s_c/m_c)^2 + (F_c\,r_c)^2` (:math:`r_c` the model's own relative standard
error, from its interval or a bootstrap). Several tests of one channel are pooled by inverse
variance first. The factors are exchangeable across channels:

.. math::

    f_c \sim N(\mu, \tau^2), \qquad \mu \sim N(1, \sigma_0^2), \qquad F_c \mid f_c \sim N(f_c, v_c).

:math:`\tau` (how much the model's error differs between channels) gets a half-normal prior
(scale ``tau_scale``) and is integrated over its posterior given the tested factors, on a grid
(Gelman et al. 2013, §5.4: with :math:`\mu` integrated out the marginal posterior of
:math:`\tau` is closed-form). Two or three tests pin :math:`\tau` down poorly; a plug-in
estimate (DerSimonian & Laird's moments) would often be 0 and pool every channel completely,
with intervals that are too narrow. Given :math:`\tau`,

.. math::

    \hat\mu = \frac{1/\sigma_0^2 + \sum_c w_c F_c}{1/\sigma_0^2 + \sum_c w_c},\quad
    w_c = \frac{1}{v_c + \tau^2},\quad V_\mu = \Big(1/\sigma_0^2 + \sum_c w_c\Big)^{-1},

a tested channel's factor is the precision-weighted combination
:math:`\hat f_c = B_c\hat\mu + (1 - B_c) F_c` with :math:`B_c = v_c/(v_c + \tau^2)` and variance
:math:`\tau^2 v_c/(v_c + \tau^2) + B_c^2 V_\mu`, and an untested channel is shrunk to the tested
ones: :math:`\hat f_c = \hat\mu` with variance :math:`\tau^2 + V_\mu`; the reported mean and
variance average these over the posterior of :math:`\tau` (law of total variance). Calibrated credit is
:math:`\hat f_c m_c` (conversions and value alike), with variance
:math:`m_c^2 \mathrm{Var}(f_c)` (+ :math:`\hat f_c^2 m_c^2 r_c^2` for untested channels, whose
factor carries no sampling error of the model). Intervals are normal.

As every :math:`s_c \to \infty`, :math:`w_c \to 0`, :math:`B_c \to 1` and :math:`\hat\mu \to 1`:
every factor is 1 and credits, ROI and plans equal the uncalibrated ones (to rounding); the
intervals then say how little is known about incrementality without experiments
(:math:`\tau^2 + \sigma_0^2`).

Conservation: the calibrated credit is *incremental*. Conversions (value) that no channel caused
go to a ``"(baseline)"`` row, so the table still sums to the model's totals; ``"(no touch)"``
keeps its conversions.

References
----------
DerSimonian, R. & Laird, N. (1986). Meta-analysis in clinical trials. Controlled Clinical Trials
7, 177-188. Morris, C. N. (1983). Parametric empirical Bayes inference: theory and applications.
JASA 78, 47-55. Gelman, A. et al. (2013). *Bayesian Data Analysis*, 3rd ed., §5.4-5.5
(hierarchical normal model). Jin, Y. et al. (2017). Bayesian methods for media mix modeling with
carryover and shape effects (Google): calibrating with experiment priors.
"""

from __future__ import annotations

import html
import math
import numbers

import numpy as np
import pandas as pd
from scipy import stats

from .exceptions import ExperimentError
from .experiments import _as_tests
from .models.base import NO_TOUCH, AttributionModel, _param_error

__all__ = ["BASELINE_ROW", "CalibrationResult", "calibrate"]

try:  # the incremental-model contract (issue 12) names the baseline row in models.base
    from .models.base import BASELINE as BASELINE_ROW  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - before that contract lands
    BASELINE_ROW = "(baseline)"

_Z90 = stats.norm.ppf(0.95)
_PSEUDO = (NO_TOUCH, BASELINE_ROW)


# ---------------------------------------------------------------------------------------------
# what the model says
# ---------------------------------------------------------------------------------------------


def _base(model):
    """(label, estimand, channel credits, no-touch row or None, totals, intervals, places, kind)."""
    from .omnichannel import RopoReport
    from .decisions.uncertainty import BootstrapResult

    intervals = None
    places = None
    kind = "model"
    if isinstance(model, RopoReport):
        credits = model.store_credit[["conversions", "value"]].astype(float)
        label, estimand, kind = f"ROPO store credit ({model.summary['model']})", "attributed", "ropo"
        full = credits
    elif isinstance(model, BootstrapResult):
        full = model.model.credits_
        label = model.label
        estimand = getattr(model.model, "estimand_", "attributed")
        intervals = model.credits
        places = getattr(model.model, "place_credits_", None)
    elif isinstance(model, AttributionModel):
        if "credits_" not in model.__dict__:
            raise ValueError(f"calibrate got an unfitted {type(model).__name__}. Fit it first (model.fit(journeys)).")
        full = model.credits_
        label = model.model_name or type(model).__name__
        estimand = getattr(model, "estimand_", "attributed")
        intervals = getattr(model, "credit_intervals_", None)
        places = getattr(model, "place_credits_", None)
    elif isinstance(model, pd.DataFrame):
        full = model.set_index("channel") if "channel" in model.columns else model
        missing = [c for c in ("conversions", "value") if c not in full.columns]
        if missing:
            raise ValueError(f"The credits passed to calibrate have no column(s) {missing}; pass a fitted model or credits_ (conversions, value).")
        label, estimand = "credits", full.attrs.get("estimand", "attributed")
        if "conversions_low" in full.columns:
            intervals = full
    else:
        raise TypeError(
            "calibrate expects a fitted model, a BootstrapResult, a credits DataFrame or a RopoReport. "
            f"Got {type(model).__name__} instead."
        )
    full = full.copy()
    full.index = full.index.astype(str)
    if estimand not in ("attributed", "incremental"):
        estimand = "attributed"
    channels = full.loc[~full.index.isin(_PSEUDO), ["conversions", "value"]].astype(float)
    no_touch = full.loc[NO_TOUCH, ["conversions", "value"]].astype(float) if NO_TOUCH in full.index else None
    totals = full[["conversions", "value"]].astype(float).sum()
    return label, estimand, channels, no_touch, totals, intervals, places, kind


def _model_sd(channels: pd.DataFrame, intervals) -> pd.DataFrame:
    """Model standard errors per channel (conversions, value) from 90 % intervals; NaN if none."""
    out = pd.DataFrame(np.nan, index=channels.index, columns=["conversions", "value"])
    if intervals is None:
        return out
    iv = intervals.copy()
    iv.index = iv.index.astype(str)
    level = float(getattr(intervals, "attrs", {}).get("level", 0.9))
    z = stats.norm.ppf(0.5 + level / 2)
    for col in ("conversions", "value"):
        if f"{col}_low" in iv.columns and f"{col}_high" in iv.columns:
            sd = (iv[f"{col}_high"] - iv[f"{col}_low"]) / (2 * z)
            out[col] = sd.reindex(channels.index).astype(float)
    return out


def _period_spend(costs) -> pd.Series | None:
    if costs is None:
        return None
    from .decisions.roi import _cost_by_channel, normalise_costs

    return _cost_by_channel(normalise_costs(costs)).astype(float)


def _period_days(journeys) -> float | None:
    if journeys is None or not getattr(journeys, "has_time", False):
        return None
    t = journeys.touch_time
    ct = journeys.conversion_time
    times = np.concatenate([t[~np.isnat(t)], ct[~np.isnat(ct)]]) if t is not None else ct[~np.isnat(ct)]
    if times.size == 0:
        return None
    return float((times.max() - times.min()) / np.timedelta64(1, "D")) + 1.0


# ---------------------------------------------------------------------------------------------
# calibrate
# ---------------------------------------------------------------------------------------------


def calibrate(
    model,
    tests,
    *,
    journeys=None,
    costs=None,
    intervals: pd.DataFrame | None = None,
    n_boot: int = 100,
    level: float = 0.9,
    tau: float | None = None,
    tau_scale: float = 0.5,
    prior_sd: float = 1.0,
    random_state=0,
) -> CalibrationResult:
    r"""Correct a model's credit with lift and geo tests (see the module docstring for the model).

    Parameters
    ----------
    model : fitted AttributionModel, BootstrapResult, credits DataFrame or RopoReport
        What to calibrate. An incremental model (``estimand_ == "incremental"``) is calibrated on
        its channel rows (its ``"(baseline)"`` row absorbs the change); an attributed model's
        credit becomes incremental. A :class:`~attribution.omnichannel.RopoReport` calibrates the
        online channels' store credit with tests whose outcome is ``store_conversions`` or
        ``store_value`` (e.g. a geo test on store sales).
    tests : LiftTest, GeoTestResult, list of them, test table or CSV path
        See :mod:`attribution.experiments` for the CSV layout.
    journeys : Journeys, optional
        The journeys the model was fitted on: for a bootstrap interval when the model has none,
        and for the period length when a test has no spend.
    costs : optional
        Costs per channel (any layout of :func:`attribution.decisions.roi.normalise_costs`) over the model's
        period: a test is scaled to the period by ``period spend / test spend``. Also used by
        :meth:`CalibrationResult.roi`, ``plan_budget`` and ``next_tests``.
    intervals : DataFrame, optional
        The model's own intervals (index channel; ``conversions_low/high``, ``value_low/high``,
        90 %) when it has no ``credit_intervals_``.
    n_boot : int, default 100
        Bootstrap replicates for the model's interval when it has none and ``journeys`` is given
        (0: treat the model's credit as exact).
    level : float, default 0.9
        Level of the reported intervals.
    tau : float, optional
        Between-channel standard deviation of the factors, if known; by default it gets a
        half-normal prior and is integrated over its posterior given the tests.
    tau_scale : float, default 0.5
        Scale of that half-normal prior (how differently the model may err between channels).
    prior_sd : float, default 1.0
        :math:`\sigma_0`, prior standard deviation of the mean factor around 1.
    random_state : int, Generator or None
        Seeds the bootstrap.

    Returns
    -------
    CalibrationResult

    Raises
    ------
    ExperimentError
        For a test of a channel the model does not credit (with close names), a test whose
        outcome the model cannot measure, or a channel with no positive credit to scale.

    Examples
    --------
    >>> import pandas as pd
    >>> from attribution.experiments import LiftTest
    >>> credits = pd.DataFrame({"conversions": [100.0, 50.0], "value": [1000.0, 500.0]},
    ...                        index=pd.Index(["search", "video"], name="channel"))
    >>> test = LiftTest("search", "2026-03-01", "2026-03-28", incremental=40.0, se=1e-9)
    >>> cal = calibrate(credits, [test])
    >>> round(float(cal.credits.loc["search", "conversions"]), 6)
    40.0
    """
    from .decisions.uncertainty import bootstrap

    tests = _as_tests(tests)
    if not tests:
        raise ExperimentError("calibrate needs at least one test.")
    for name, v, lo in (("prior_sd", prior_sd, 0.0), ("tau_scale", tau_scale, 0.0)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not float(v) > lo:
            raise _param_error("calibrate", name, "a positive number" if lo == 0 else "a non-negative number", v)
    if tau is not None and (isinstance(tau, bool) or not isinstance(tau, numbers.Real) or tau < 0):
        raise _param_error("calibrate", "tau", "None or a non-negative number", tau)
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise _param_error("calibrate", "level", "a number strictly between 0 and 1 such as 0.9", level)
    label, estimand, channels, no_touch, totals, model_iv, places, kind = _base(model)
    notes: list[str] = []
    if intervals is not None:
        model_iv = intervals
    if model_iv is None and journeys is not None and n_boot and isinstance(model, AttributionModel):
        model_iv = bootstrap(model, journeys, n=int(n_boot), level=0.9, random_state=random_state, progress=False).credits
        notes.append(f"The model's own interval: {int(n_boot)} bootstrap replicates.")
    elif model_iv is None:
        notes.append("The model has no interval (no credit_intervals_, no journeys to bootstrap): its credit is treated as exact.")
    sd = _model_sd(channels, model_iv)
    rel = (sd["conversions"] / channels["conversions"].where(channels["conversions"] > 0)).fillna(0.0)
    spend = _period_spend(costs)
    days = _period_days(journeys)

    # --- tests -> factors
    rows = []
    names = list(channels.index)
    for t in tests:
        if t.channel not in channels.index:
            import difflib

            close = difflib.get_close_matches(t.channel, names, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ExperimentError(f"Test {t.label!r} is for channel {t.channel!r}, which the model does not credit.{hint} Channels: {names}.")
        m = _credit_for(t.outcome, t.channel, channels, places, kind)
        if not m > 0:
            raise ExperimentError(
                f"Test {t.label!r}: the model credits {t.channel!r} with {m!r} {t.outcome}; an incrementality factor "
                "needs positive credit. Calibrate a model that credits the channel, or drop the test."
            )
        if t.spend and spend is not None and float(spend.get(t.channel, 0.0)) > 0:
            scale, how = float(spend[t.channel]) / t.spend, "spend"
        elif days is not None:
            scale, how = days / t.days, "days"
        else:
            scale, how = 1.0, "none"
        F = t.incremental * scale / m
        v_test = (t.se * scale / m) ** 2
        rows.append({"test": t.label, "channel": t.channel, "kind": t.kind, "outcome": t.outcome,
                     "start": t.start.date(), "end": t.end.date(), "incremental": t.incremental, "se": t.se,
                     "spend": t.spend, "scale": scale, "scaled_by": how, "implied_incremental": t.incremental * scale,
                     "model_credit": m, "factor": F, "factor_se": math.sqrt(v_test)})
    test_table = pd.DataFrame(rows)
    if (test_table["scaled_by"] == "days").any():
        notes.append("Some tests have no spend (or no costs were given): they were scaled to the model's period by its length in days.")
    if (test_table["scaled_by"] == "none").any():
        notes.append("Some tests could not be scaled (no spend, no costs, no journeys with times): they are taken to cover the model's period.")

    # pool tests per channel (inverse variance), add the model's sampling error
    F = pd.Series(np.nan, index=channels.index)
    V = pd.Series(np.inf, index=channels.index)
    for ch, g in test_table.groupby("channel", sort=False):
        v = g["factor_se"].to_numpy() ** 2
        f = g["factor"].to_numpy()
        finite = np.isfinite(v)
        if not finite.any():
            F[ch], V[ch] = float(np.mean(f)), np.inf
            continue
        w = 1.0 / v[finite]
        F[ch] = float(np.sum(w * f[finite]) / w.sum())
        V[ch] = float(1.0 / w.sum()) + (F[ch] * rel[ch]) ** 2
    tested = F.notna().to_numpy()
    informative = tested & np.isfinite(V.to_numpy())
    k = int(informative.sum())

    # --- the hierarchy: tau on a grid (posterior), mu and the factors given tau in closed form
    Vv = V.to_numpy()
    Fv = np.where(informative, F.to_numpy(), 0.0)
    if tau is not None:
        grid = np.array([float(tau)])
        tau_how = "given"
    else:
        spread = float(np.std(Fv[informative])) if k >= 2 else 0.0
        grid = np.linspace(0.0, 5.0 * float(tau_scale) + 3.0 * spread, 401)
        tau_how = f"posterior over a grid, half-normal prior (scale {float(tau_scale):g})"
    post = _Hierarchy(grid, Fv, Vv, informative, float(prior_sd) ** 2, None if tau is not None else float(tau_scale))
    factor, factor_var, B = post.factor_moments()
    mu, var_mu = post.mu_moments()
    tau_mean = float(np.sum(post.p * grid))
    z = stats.norm.ppf(0.5 + level / 2)
    m_conv = channels["conversions"].to_numpy()
    m_val = channels["value"].to_numpy()
    rel_conv = rel.to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        rel_val = np.nan_to_num((sd["value"] / channels["value"].where(channels["value"] > 0)).to_numpy(), nan=0.0)
    sampling = np.where(informative, 0.0, 1.0)
    cal = pd.DataFrame(index=channels.index)
    for col, mm, rr in (("conversions", m_conv, rel_conv), ("value", m_val, rel_val)):
        est = factor * mm
        sdv = np.sqrt(mm**2 * factor_var + sampling * (factor * mm * rr) ** 2)
        cal[col] = est
        cal[f"{col}_low"] = est - z * sdv
        cal[f"{col}_high"] = est + z * sdv
    factors = pd.DataFrame({
        "tested": tested,
        "model_conversions": m_conv,
        "model_value": m_val,
        "model_rel_se": rel_conv,
        "test_factor": F.to_numpy(),
        "test_factor_se": np.sqrt(V.to_numpy()),
        "weight_on_test": np.where(informative, 1 - B, 0.0),
        "factor": factor,
        "factor_sd": np.sqrt(factor_var),
        "factor_low": factor - z * np.sqrt(factor_var),
        "factor_high": factor + z * np.sqrt(factor_var),
    }, index=channels.index)
    hyper = pd.Series({"mu": mu, "mu_sd": math.sqrt(var_mu), "tau": tau_mean, "tau_estimate": tau_how,
                       "informative_tests": k, "tested_channels": int(tested.sum()), "prior_sd": float(prior_sd),
                       "level": float(level)}, dtype=object)
    return CalibrationResult(
        label=label, estimand=estimand, kind=kind, channels=channels, model_sd=sd, no_touch=no_touch, totals=totals,
        calibrated=cal, factors=factors, tests=test_table, hyper=hyper, notes=notes, costs=costs, journeys=journeys,
        model=model, hierarchy=post,
    )


class _Hierarchy:
    """The normal hierarchical model on the factors, with tau on a grid (BDA §5.4).

    For every grid value of tau: mu | tau, F is normal (closed form), and so is every channel's
    factor | mu, tau, F. The grid weights are the prior of tau times the marginal likelihood of
    the tested factors given tau (mu integrated out).
    """

    def __init__(self, grid, F, V, informative, s02, tau_scale):
        self.grid, self.F, self.V, self.inf, self.s02 = grid, F, V, informative, s02
        t2 = grid[:, None] ** 2  # (G, 1)
        Vi = np.where(informative, V, np.inf)[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where(informative[None, :], 1.0 / (Vi + t2), 0.0)  # (G, C)
        prec = 1.0 / s02 + w.sum(axis=1)
        self.mu = (1.0 / s02 + (w * F[None, :]).sum(axis=1)) / prec
        self.var_mu = 1.0 / prec
        if tau_scale is None or grid.size == 1:
            self.p = np.ones(grid.size) / grid.size
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                logw = np.where(informative[None, :], np.log(np.where(w > 0, w, 1.0)), 0.0)
                resid = np.where(informative[None, :], w * (F[None, :] - self.mu[:, None]) ** 2, 0.0)
            loglik = 0.5 * np.log(self.var_mu) + 0.5 * logw.sum(axis=1) - 0.5 * resid.sum(axis=1) \
                - 0.5 * (self.mu - 1.0) ** 2 / s02
            logp = loglik - 0.5 * (grid / tau_scale) ** 2
            logp -= logp.max()
            p = np.exp(logp)
            self.p = p / p.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            B = np.where(informative[None, :] & (t2 > 0), Vi / (Vi + t2), 1.0)
            B = np.where(np.isinf(Vi), 1.0, B)
            cond = np.where(informative[None, :], np.where(t2 > 0, np.where(np.isinf(Vi), t2, t2 * Vi / (Vi + t2)), 0.0), t2)
        self.B = B
        self.cond_var = np.broadcast_to(cond, B.shape)
        self.mean = np.where(informative[None, :], B * self.mu[:, None] + (1 - B) * F[None, :], self.mu[:, None])
        self.var = self.cond_var + np.where(informative[None, :], B**2, 1.0) * self.var_mu[:, None]

    def factor_moments(self):
        p = self.p[:, None]
        mean = (p * self.mean).sum(axis=0)
        var = (p * (self.var + self.mean**2)).sum(axis=0) - mean**2
        return mean, np.maximum(var, 0.0), (p * self.B).sum(axis=0)

    def mu_moments(self):
        m = float(np.sum(self.p * self.mu))
        return m, float(np.sum(self.p * (self.var_mu + self.mu**2)) - m**2)

    def draw(self, n, rng):
        j = rng.choice(self.grid.size, size=n, p=self.p)
        mu = self.mu[j] + np.sqrt(self.var_mu[j]) * rng.standard_normal(n)
        B = self.B[j]
        mean = np.where(self.inf[None, :], B * mu[:, None] + (1 - B) * self.F[None, :], mu[:, None])
        return mean + np.sqrt(self.cond_var[j]) * rng.standard_normal((n, self.F.size))


def _credit_for(outcome: str, channel: str, channels: pd.DataFrame, places, kind: str) -> float:
    """The model's credit of ``channel`` in the unit of a test's ``outcome``."""
    col = "value" if outcome.endswith("value") else "conversions"
    if outcome in ("conversions", "value"):
        return float(channels.loc[channel, col])
    where = outcome.split("_")[0]  # store / online
    if kind == "ropo":
        if where != "store":
            raise ExperimentError(f"A ROPO store credit is calibrated with store_* tests; got outcome {outcome!r}.")
        return float(channels.loc[channel, col])
    if places is None or len(places) == 0:
        raise ExperimentError(
            f"A test with outcome {outcome!r} needs the model's credit per conversion place (place_credits_): build the "
            "journeys with Journeys.from_events(..., place='place'), or calibrate the RopoReport of ropo()."
        )
    pc = places[places["channel"].astype(str) == channel]
    is_store = pc["place"].astype(str).str.lower().eq("store")
    sel = is_store if where == "store" else ~is_store
    return float(pc.loc[sel, col].sum())


# ---------------------------------------------------------------------------------------------
# the result
# ---------------------------------------------------------------------------------------------


class CalibrationResult:
    """Credit calibrated by experiments (returned by :func:`calibrate`).

    Attributes
    ----------
    credits : DataFrame
        Calibrated *incremental* credit per channel with intervals (``conversions``,
        ``conversions_low``, ``conversions_high``, ``value``, ...), then ``"(no touch)"`` (if the
        model has it) and ``"(baseline)"`` (what no channel caused); sums to the model's totals.
    uncalibrated : DataFrame
        The model's credit per channel with its own interval (NaN when it has none).
    factors : DataFrame
        Per channel: ``tested``, the model's credit, the tests' factor and its se, the weight on
        the test, the calibrated ``factor`` with ``factor_sd`` and interval.
    tests : DataFrame
        Every test, its scaling to the model's period and the factor it implies.
    hyper : Series
        ``mu`` (mean factor) and its sd, ``tau`` (between-channel sd) and how it was estimated.
    estimand : str
        The model's estimand; the calibrated credit is always incremental.
    """

    def __init__(self, *, label, estimand, kind, channels, model_sd, no_touch, totals, calibrated, factors, tests,
                 hyper, notes, costs, journeys, model, hierarchy):
        self.label = label
        self.estimand = estimand
        self.kind = kind
        self._channels = channels
        self._model_sd = model_sd
        self._no_touch = no_touch
        self._totals = totals
        self._cal = calibrated
        self.factors = factors
        self.tests = tests
        self.hyper = hyper
        self.notes = list(notes)
        self.costs = costs
        self.journeys = journeys
        self.model = model
        self._hierarchy = hierarchy

    # -- tables ----------------------------------------------------------------------------------
    @property
    def credits(self) -> pd.DataFrame:
        """Calibrated incremental credit (channels, ``"(no touch)"``, ``"(baseline)"``); see the class doc."""
        out = self._cal.copy()
        extra = []
        if self._no_touch is not None:
            extra.append(pd.DataFrame([{"conversions": self._no_touch["conversions"], "value": self._no_touch["value"]}], index=[NO_TOUCH]))
        used = out[["conversions", "value"]].sum() + (self._no_touch if self._no_touch is not None else 0.0)
        base = self._totals - used
        extra.append(pd.DataFrame([{"conversions": base["conversions"], "value": base["value"]}], index=[BASELINE_ROW]))
        out = pd.concat([out] + extra)
        out.index.name = "channel"
        out.attrs["estimand"] = "incremental"
        return out

    @property
    def incremental_credits(self) -> pd.DataFrame:
        """Calibrated credit of the channels only (no pseudo rows)."""
        return self._cal.copy()

    @property
    def uncalibrated(self) -> pd.DataFrame:
        """The model's channel credit with its own 90 % interval (NaN without one)."""
        out = self._channels.copy()
        for col in ("conversions", "value"):
            out[f"{col}_low"] = out[col] - _Z90 * self._model_sd[col]
            out[f"{col}_high"] = out[col] + _Z90 * self._model_sd[col]
        out.attrs["estimand"] = self.estimand
        return out

    @property
    def comparison(self) -> pd.DataFrame:
        """Per channel: conversions before and after, the factor and whether it was tested."""
        f = self.factors
        return pd.DataFrame({
            "tested": f["tested"], "before": self._channels["conversions"], "after": self._cal["conversions"],
            "after_low": self._cal["conversions_low"], "after_high": self._cal["conversions_high"],
            "factor": f["factor"], "factor_low": f["factor_low"], "factor_high": f["factor_high"],
        })

    # -- posterior draws -------------------------------------------------------------------------
    def draw_factors(self, n: int = 200, random_state=0) -> pd.DataFrame:
        """Draws of every channel's factor from the hierarchical posterior (``n`` × channels).

        The mean factor is drawn once per draw, so the channels' factors are correlated as the model says.
        """
        from .decisions.uncertainty import check_random_state

        f = self._hierarchy.draw(int(n), check_random_state(random_state))
        return pd.DataFrame(f, columns=self._channels.index)

    # -- decisions -------------------------------------------------------------------------------
    def _costs(self, costs):
        costs = self.costs if costs is None else costs
        if costs is None:
            raise ValueError("Pass costs= (to calibrate, or to this method): ROI and plans need the channels' spend.")
        return costs

    def roi(self, costs=None, *, warn: bool = False):
        """ROI before (the model's credit) and after calibration, with intervals (a :class:`~attribution.decisions.roi.ROIResult`)."""
        from .decisions.roi import channel_roi

        before = self.uncalibrated
        after = self._cal.copy()
        return channel_roi({f"{self.label} (uncalibrated, {self.estimand})": before,
                            f"{self.label} (calibrated, incremental)": after}, self._costs(costs), warn=warn)

    def plan_budget(self, total_budget, costs=None, *, n_draws: int = 100, random_state=0, **kwargs):
        """A budget plan on the calibrated credit, with the plan's uncertainty.

        The elasticities of the uncalibrated plan (fitted, pooled or default) are kept, so that with
        every factor 1 the two plans are identical. ``n_draws`` plans on posterior draws of the
        factors give ``planned_low``/``planned_high`` (and ``expected_value_low/high``) at the
        result's level in :attr:`BudgetPlan.allocation`. Other keywords go to
        :func:`attribution.plan_budget`.
        """
        from .decisions.budget import plan_budget

        costs = self._costs(costs)
        model = self.model if isinstance(self.model, AttributionModel) and self.estimand == "attributed" else self._channels
        base = plan_budget(model, costs, total_budget, journeys=self.journeys, **kwargs)
        kw = dict(kwargs)
        if kw.get("response", "concave") != "linear":
            kw["elasticity"] = {c: float(e) for c, e in base.curves["elasticity"].items()}
        kw.pop("outcomes", None)
        # the curves are anchored: totals per channel suffice (and are much faster than periods)
        totals = _period_spend(costs)
        point = self._cal[["conversions", "value"]]
        negative = [c for c in point.index if point.loc[c, "conversions"] < 0 and c in totals.index and totals[c] > 0]
        if negative:
            from .exceptions import DataQualityWarning
            from .models.base import _warn_user

            _warn_user(f"Calibrated credit is negative for {negative} (tests below zero pull the factors below 0); the plan "
                       "treats them as 0 (no return on spend). Check those tests' signs and standard errors.", DataQualityWarning)
        point = point.clip(lower=0.0)
        plan = plan_budget(point, totals, total_budget, model=f"{self.label} (calibrated)", **kw)
        if n_draws:
            from .decisions.budget import ResponseCurves, _optimise, _to_cents

            draws = self.draw_factors(int(n_draws), random_state=random_state)
            alloc = plan.allocation
            chans = list(alloc.index)
            s0 = alloc["current"].to_numpy(dtype=float)
            lo, hi = alloc["lower"].to_numpy(dtype=float), alloc["upper"].to_numpy(dtype=float)
            e = plan.curves["elasticity"].reindex(chans).to_numpy(dtype=float)
            m = self._channels.reindex(chans)
            f = draws.reindex(columns=chans).to_numpy()
            planned = np.empty((int(n_draws), len(chans)))
            value = np.empty_like(planned)
            budget = float(plan.total_budget)
            for i in range(int(n_draws)):  # the plan's own optimiser on each draw's credit (same curves and bounds)
                conv = np.maximum(f[i] * m["conversions"].to_numpy(), 0.0)
                val = np.maximum(f[i] * m["value"].to_numpy(), 0.0)
                y0 = val if plan.objective == "value" else conv
                curves = ResponseCurves(plan.response, s0, y0, e)
                if not np.any(y0 > 0):
                    planned[i] = value[i] = np.nan
                    continue
                planned[i] = _to_cents(_optimise(curves, lo, hi, budget), lo, hi, budget, curves=curves)
                value[i] = ResponseCurves(plan.response, s0, val, e).value(planned[i])
            lv = float(self.hyper["level"])
            a = (1 - lv) / 2
            alloc["planned_low"], alloc["planned_high"] = np.nanquantile(planned, [a, 1 - a], axis=0)
            alloc["expected_value_low"], alloc["expected_value_high"] = np.nanquantile(value, [a, 1 - a], axis=0)
            alloc["p_increase"] = np.nanmean(planned > alloc["current"].to_numpy()[None, :], axis=0)
        plan.uncalibrated = base
        return plan

    def next_tests(self, costs=None, *, expected_se=None) -> pd.DataFrame:
        r"""Which channel to test next: posterior variance of its factor × its share of spend.

        Parameters
        ----------
        costs : optional
            Defaults to the costs given to :func:`calibrate`.
        expected_se : float or dict, optional
            Standard error a new test would have, in the channel's incremental conversions over
            the model's period (e.g. :func:`attribution.experiments.holdout_se` × the scale).
            Adds the predicted factor sd after such a test,
            :math:`(1/\mathrm{Var}(f_c) + m_c^2/s^2)^{-1/2}`, and the predicted shrinkage of the
            interval.

        Returns
        -------
        DataFrame
            Paid channels sorted by ``score`` (rank 1 first).
        """
        spend = _period_spend(self._costs(costs))
        spend = spend[spend > 0].reindex([c for c in self._channels.index if c in spend.index]).dropna()
        f = self.factors.loc[spend.index]
        out = pd.DataFrame({
            "spend": spend, "spend_share": spend / spend.sum(), "tested": f["tested"], "factor": f["factor"],
            "factor_sd": f["factor_sd"],
        })
        out["score"] = out["factor_sd"] ** 2 * out["spend_share"]
        if expected_se is not None:
            se = pd.Series(expected_se, index=out.index) if not isinstance(expected_se, dict) else pd.Series(expected_se).reindex(out.index)
            m = self._channels.loc[out.index, "conversions"]
            after = 1.0 / np.sqrt(1.0 / out["factor_sd"] ** 2 + (m / se) ** 2)
            out["expected_test_se"] = se
            out["predicted_factor_sd"] = after
            out["predicted_shrinkage"] = after / out["factor_sd"]
        out = out.sort_values("score", ascending=False)
        out.insert(0, "rank", np.arange(1, len(out) + 1))
        out.index.name = "channel"
        return out

    # -- presentation ----------------------------------------------------------------------------
    def summary(self) -> str:
        h = self.hyper
        lines = [
            f"Calibration of {self.label} ({self.estimand}) by {len(self.tests)} test(s) on {int(h['tested_channels'])} channel(s).",
            f"Mean incrementality factor {h['mu']:.3f} (sd {h['mu_sd']:.3f}); between-channel sd tau {h['tau']:.3f} ({h['tau_estimate']}).",
            "", self.comparison.round(3).to_string(),
        ]
        if self.notes:
            lines += [""] + [f"- {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<CalibrationResult {self.label}: {int(self.hyper['tested_channels'])} tested channel(s), "
                f"mean factor {self.hyper['mu']:.3f}, tau {self.hyper['tau']:.3f}>")

    def _repr_html_(self) -> str:
        from ._display import _html_table

        h = self.hyper
        t = self.tests[["test", "channel", "kind", "outcome", "incremental", "se", "scale", "implied_incremental", "model_credit", "factor", "factor_se"]].set_index("test")
        parts = [
            f"<div><p><b>Calibration by experiments</b>: {html.escape(self.label)} ({html.escape(self.estimand)} credit) "
            f"&rarr; incremental credit. Mean incrementality factor {h['mu']:.3f} (sd {h['mu_sd']:.3f}), "
            f"between-channel sd {h['tau']:.3f} ({html.escape(str(h['tau_estimate']))}).</p>",
            "<p><b>Tests</b> (factor = implied incremental &divide; model credit)</p>",
            _html_table(t, default="{:,.3f}"),
            f"<p><b>Credit before and after</b> (conversions; interval {float(h['level']):.0%})</p>",
            _html_table(self.comparison, default="{:,.2f}"),
        ]
        parts += [f"<p><em>{html.escape(n)}</em></p>" for n in self.notes]
        return "".join(parts) + "</div>"

    def plot(self, ax=None):
        """Incrementality factor per channel: tests, and the calibrated factor with its interval. Returns the Axes."""
        import matplotlib.pyplot as plt

        f = self.factors
        n = len(f)
        if ax is None:
            _, ax = plt.subplots(figsize=(7.5, 0.45 * n + 1.4))
        y = np.arange(n)[::-1]
        lv = float(self.hyper["level"])
        colors = np.where(f["tested"], "C3", "C0")
        ax.hlines(y, f["factor_low"], f["factor_high"], color=colors, lw=2.5, alpha=0.6)
        ax.plot(f["factor"], y, "o", color="k", ms=4, zorder=3, label=f"calibrated factor ({lv:.0%} interval)")
        t = f["tested"].to_numpy()
        if t.any():
            q = stats.norm.ppf(0.5 + lv / 2)
            ax.errorbar(f["test_factor"][t], y[t] + 0.25, xerr=q * f["test_factor_se"][t].replace(np.inf, np.nan),
                        fmt="s", color="C3", ms=4, lw=1, capsize=2, label="test (scaled to the period)")
        ax.axvline(1.0, color="0.5", ls=":", lw=1, label="uncalibrated (factor 1)")
        ax.axvline(float(self.hyper["mu"]), color="C0", ls="--", lw=1, label="mean factor (untested channels)")
        ax.set_yticks(y)
        ax.set_yticklabels([f"{c}{' (tested)' if tt else ''}" for c, tt in zip(f.index, t)])
        ax.set_xlabel("incrementality factor = incremental ÷ model credit")
        ax.set_title(f"Calibration of {self.label} by experiments")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14 - 0.6 / max(n, 1)), ncol=2, fontsize=7, frameon=False)
        return ax
