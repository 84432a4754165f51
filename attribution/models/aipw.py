r"""Doubly robust (AIPW) incremental effect of each channel on the journeys it reached.

For every channel :math:`c` the journeys split into *exposed* (:math:`T = 1`: at least one touch
of :math:`c`) and *unexposed*. With covariates :math:`X` measured on every journey (the other
channels' touch counts, the journey's activity level, CRM covariates of the person when given),
the average effect on the exposed (ATT) is estimated by augmented inverse probability weighting
with cross-fitting:

.. math::

    \widehat{\mathrm{ATT}}_c = \frac{1}{n_1} \sum_i w_i \Big[ T_i\,(Y_i - \hat m_0(X_i))
        - (1 - T_i)\,\frac{\hat e(X_i)}{1 - \hat e(X_i)}\,(Y_i - \hat m_0(X_i)) \Big],

with :math:`\hat e` the propensity of exposure and :math:`\hat m_0` the outcome model fitted on
unexposed journeys, both fitted on the other folds (cross-fitting), :math:`w_i` the number of
journeys a row stands for and :math:`n_1 = \sum_i w_i T_i`. The estimate is consistent when
either model is right (double robustness). Its standard error comes from the influence function
:math:`\varphi_i = [T_i (Y_i - \hat m_0 - \widehat{\mathrm{ATT}}) - (1 - T_i)\,\hat r_i (Y_i - \hat m_0)] / \hat p_1`
(:math:`\hat r = \hat e / (1 - \hat e)`, :math:`\hat p_1 = n_1 / n`):
:math:`\widehat{\mathrm{se}} = \sqrt{\sum_i w_i \varphi_i^2} / n`.

A channel's incremental conversions are :math:`n_1 \widehat{\mathrm{ATT}}_c` (value likewise with
the value outcome). :class:`AIPW` (registered as ``"aipw"``) turns them into incremental credit
with a ``"(baseline)"`` row; :func:`aipw_effects` is the engine shared with the validity scorecard
(:mod:`attribution.decisions.scorecard`).

Identifying assumptions
-----------------------
* **No unmeasured confounding given X**: whatever drives both exposure to :math:`c` and
  conversion is captured by the covariates. Intent that the data do not show (a person who was
  going to buy anyway and is therefore retargeted) violates it: brand search and retargeting
  are then overstated. The scorecard's negative-control outcome, time-shuffle test and E-values
  probe how far this can be trusted.
* **Overlap**: every journey could have been exposed or not (propensities away from 0 and 1).
  For the effect on the exposed only exposed journeys without comparable unexposed ones
  (propensity near 1) matter; propensities are clipped above at ``1 - clip`` and the share
  outside [0.05, 0.95] is reported.
* **Other channels are confounders, not mediators**: their touch counts are adjusted for, so
  the effect is that of :math:`c` holding the other channels fixed (a direct effect). Credits of
  separately estimated channels are not forced to add up; the rest is the baseline.
* Journeys are independent units (cross-fitting folds keep each person's journeys together).

References
----------
.. [1] Robins, J. M., Rotnitzky, A. & Zhao, L. P. (1994). Estimation of regression coefficients
   when some regressors are not always observed. *JASA* 89(427), 846–866.
.. [2] Chernozhukov, V. et al. (2018). Double/debiased machine learning for treatment and
   structural parameters. *The Econometrics Journal* 21(1), C1–C68.
.. [3] Frontier notes §(a)3 (confounding-adjusted incremental attribution).
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..journeys import Journeys
from .base import AttributionModel, ChannelCredit, _param_error, _warn_user, place_codes, register_model

__all__ = ["AIPW", "ChannelEffect", "aipw_effects", "journey_covariates", "unit_table"]

_LEARNERS = ("logistic", "hgb")


# ---------------------------------------------------------------------------------------------
# data preparation
# ---------------------------------------------------------------------------------------------


def touch_counts(journeys: Journeys) -> np.ndarray:
    """Touches of each channel per journey, shape (n_journeys, n_channels)."""
    J, C = journeys.n_journeys, journeys.n_channels
    key = journeys.journey_index.astype(np.int64) * C + journeys.touch_channel
    return np.bincount(key, minlength=J * C).reshape(J, C).astype(np.float64)


def journey_covariates(journeys: Journeys, covariates: pd.DataFrame | None = None, counts=None) -> tuple[np.ndarray, list[str]]:
    """Covariates measured on every journey, besides the channels' own touch counts.

    Returns ``(matrix of shape (n_journeys, k), names)``: the identity type of the journey's person
    (one-hot of the id's leading letters, e.g. cookie ``c…`` vs loyalty card ``L…``, when these
    sort people into 2–10 kinds) and, when ``covariates`` is given, its numeric columns joined on
    the journey's person (``journeys.customer``; index of ``covariates`` or its first column),
    missing values filled with the column mean and flagged in an extra ``<name>_missing`` column.
    """
    cols: list[np.ndarray] = []
    names: list[str] = []
    J = journeys.n_journeys
    if journeys.customer is not None:
        # identity type: the leading letters of the person id (e.g. "c…" cookie, "L…" loyalty card),
        # when they sort people into a few kinds; a card holder can be reached by channels (store,
        # e-mail) that a cookie cannot, so reachability is adjusted for
        prefix = pd.Series(journeys.customer).astype(str).str.extract(r"^([A-Za-z_]+)", expand=False).fillna("")
        kinds = pd.unique(prefix)
        if 2 <= len(kinds) <= 10:
            for k in sorted(kinds)[1:]:
                cols.append((prefix == k).to_numpy(dtype=np.float64))
                names.append(f"id_type={k}")
    if covariates is not None:
        if not isinstance(covariates, pd.DataFrame):
            raise _param_error("AIPW", "covariates", "a DataFrame of person covariates indexed by person id", type(covariates).__name__, TypeError)
        if journeys.customer is None:
            raise ValueError(
                "Covariates were given, but these journeys carry no person ids (journeys.customer) to join them on. "
                "Build the journeys with Journeys.from_events(...)."
            )
        cov = covariates
        if cov.index.name is None and not pd.api.types.is_object_dtype(cov.index) and cov.shape[1] > 1:
            cov = cov.set_index(cov.columns[0])
        keys = pd.Index(cov.index.astype(str))
        cust = pd.Index(pd.Series(journeys.customer).astype(str))
        ids = journeys.person_of(cust) if journeys.id_map is not None else None
        pos = keys.get_indexer(cust)
        if ids is not None:
            # ids of the covariates may be any of the person's ids (e.g. the loyalty card)
            person_keys = pd.Index(pd.Series(journeys.person_of(keys)).astype(str))
            alt = person_keys.get_indexer(cust)
            pos = np.where(pos < 0, alt, pos)
        num = cov.select_dtypes(include=[np.number, "bool"])
        for name in num.columns:
            v = num[name].to_numpy(dtype=np.float64)
            x = np.where(pos >= 0, v[np.clip(pos, 0, None)] if len(v) else np.nan, np.nan)
            miss = ~np.isfinite(x)
            fill = float(np.nanmean(x)) if (~miss).any() else 0.0
            cols.append(np.where(miss, fill, x))
            names.append(str(name))
            if miss.any() and not miss.all():
                cols.append(miss.astype(np.float64))
                names.append(f"{name}_missing")
    return (np.column_stack(cols) if cols else np.zeros((J, 0))), names


@dataclass
class Units:
    """Journeys expanded to outcome units: a converting part and a non-converting part per row."""

    row: np.ndarray  # journey row of each unit
    weight: np.ndarray  # journeys the unit stands for
    y: np.ndarray  # 1 converting, 0 not
    y_value: np.ndarray  # value per converting journey, 0 otherwise
    group: np.ndarray  # cross-fitting group (person)


def unit_table(journeys: Journeys) -> Units:
    """One unit per journey row and outcome (converting part ``conversions``, non-converting
    part ``nulls``), so that path tables with counts and event journeys share one estimator.

    Journeys without touches are left out: they are recorded only because they converted.
    """
    J = journeys.n_journeys
    conv = np.asarray(journeys.conversions, dtype=np.float64)
    nulls = np.asarray(journeys.nulls, dtype=np.float64)
    val = np.asarray(journeys.value, dtype=np.float64)
    rows = np.arange(J)
    # journeys without touches exist only because they converted (selected on the outcome):
    # they are no comparison for anything and stay in the baseline
    touched = np.asarray(journeys.lengths) > 0
    c_rows, n_rows = rows[(conv > 0) & touched], rows[(nulls > 0) & touched]
    row = np.concatenate([c_rows, n_rows])
    weight = np.concatenate([conv[c_rows], nulls[n_rows]])
    y = np.concatenate([np.ones(len(c_rows)), np.zeros(len(n_rows))])
    y_value = np.concatenate([val[c_rows] / conv[c_rows], np.zeros(len(n_rows))])
    if journeys.customer is not None:
        group = pd.factorize(pd.Series(journeys.customer).astype(str))[0][row]
    else:
        group = row
    return Units(row, weight, y, y_value, group.astype(np.int64))


# ---------------------------------------------------------------------------------------------
# the estimator
# ---------------------------------------------------------------------------------------------


@dataclass
class ChannelEffect:
    """AIPW estimate for one channel (see :func:`aipw_effects`)."""

    exposed: float  # journeys exposed (weighted)
    unexposed: float
    att: float  # effect on the conversion probability of the exposed
    att_se: float
    att_value: float  # effect on value per exposed journey
    att_value_se: float
    treated_rate: float  # observed conversion rate of the exposed
    propensity: np.ndarray  # per unit (cross-fitted, before clipping), NaN when not estimable
    share_extreme: float  # share of units with propensity outside [0.05, 0.95]
    ess_ratio: float  # effective sample size of the weighted unexposed / their number
    smd_before: float  # max |standardised mean difference| of covariates, unweighted
    smd_after: float  # same, unexposed weighted by e / (1 - e)
    note: str = ""
    exposed_extreme: float = np.nan  # share of exposed units with propensity above 0.95
    naive_att: float = np.nan  # unadjusted difference of conversion rates, exposed - unexposed

    @property
    def conversions(self) -> float:
        return self.att * self.exposed

    @property
    def conversions_se(self) -> float:
        return self.att_se * self.exposed

    @property
    def value(self) -> float:
        return self.att_value * self.exposed

    @property
    def value_se(self) -> float:
        return self.att_value_se * self.exposed


def _folds(group: np.ndarray, n_folds: int, rng: np.random.Generator) -> np.ndarray:
    uniq, inv = np.unique(group, return_inverse=True)
    assign = rng.permutation(len(uniq)) % n_folds
    return assign[inv]


def _classifier(learner: str, random_state: int):
    if learner == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=15,
                                              min_samples_leaf=40, random_state=random_state)
    from sklearn.linear_model import LogisticRegression

    # few features, many rows: Newton steps on the Cholesky factor converge in a handful of
    # iterations (much faster than L-BFGS here)
    return LogisticRegression(C=1.0, max_iter=100, solver="newton-cholesky")


def _regressor(learner: str, random_state: int):
    if learner == "hgb":
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(max_iter=100, max_leaf_nodes=15, min_samples_leaf=40, random_state=random_state)
    from sklearn.linear_model import Ridge

    return Ridge(alpha=1.0)


def _logit_newton(X: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float = 1.0, max_iter: int = 50) -> np.ndarray:
    r"""Weighted L2-penalised logistic regression by Newton's method (intercept unpenalised).

    Minimises :math:`\sum_i w_i \ell(y_i, x_i^\top\beta) + \tfrac{l2}{2}\lVert\beta_{1:}\rVert^2`
    (scikit-learn's ``LogisticRegression(C=1/l2)`` objective); returns the coefficients with the
    intercept first. Exact Newton steps with step halving: a handful of iterations for the few
    covariates used here, and no per-call overhead on tiny data.
    """
    Xa = np.column_stack([np.ones(len(X)), X])
    k = Xa.shape[1]
    pen = np.full(k, l2)
    pen[0] = 0.0
    beta = np.zeros(k)
    p0 = np.clip(np.average(y, weights=w), 1e-6, 1 - 1e-6)
    beta[0] = np.log(p0 / (1 - p0))

    def loss(b):
        z = Xa @ b
        return float(np.sum(w * (np.logaddexp(0, z) - y * z)) + 0.5 * np.sum(pen * b * b))

    cur = loss(beta)
    for _ in range(max_iter):
        z = Xa @ beta
        p = 1.0 / (1.0 + np.exp(-z))
        grad = Xa.T @ (w * (p - y)) + pen * beta
        H = (Xa * (w * p * (1 - p))[:, None]).T @ Xa + np.diag(pen) + 1e-9 * np.eye(k)
        try:
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, grad, rcond=None)[0]
        t = 1.0
        while t > 1e-4:
            new = beta - t * step
            val = loss(new)
            if val <= cur + 1e-12:
                break
            t *= 0.5
        beta, prev, cur = new, cur, val
        if abs(prev - cur) <= 1e-10 * max(1.0, abs(cur)):
            break
    return beta


def _fit_predict_proba(learner, X_fit, y_fit, w_fit, X_pred, seed) -> np.ndarray:
    """P(y = 1 | X) fitted on one part and predicted on another; the weighted mean when y is
    constant on the fitting part (nothing to learn)."""
    if len(y_fit) == 0 or w_fit.sum() <= 0:
        return np.full(len(X_pred), np.nan)
    mean = float(np.average(y_fit, weights=w_fit))
    if np.all(y_fit == y_fit[0]) or X_fit.shape[1] == 0:
        return np.full(len(X_pred), mean)
    if learner == "logistic":
        beta = _logit_newton(X_fit, y_fit, w_fit)
        return 1.0 / (1.0 + np.exp(-(beta[0] + X_pred @ beta[1:])))
    model = _classifier(learner, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence on tiny folds: the estimate is still usable
        model.fit(X_fit, y_fit, sample_weight=w_fit)
    return model.predict_proba(X_pred)[:, 1]


def _fit_predict_reg(learner, X_fit, y_fit, w_fit, X_pred, seed) -> np.ndarray:
    if len(y_fit) == 0 or w_fit.sum() <= 0:
        return np.full(len(X_pred), np.nan)
    if np.all(y_fit == y_fit[0]) or X_fit.shape[1] == 0:
        return np.full(len(X_pred), float(np.average(y_fit, weights=w_fit)))
    if learner == "logistic":  # weighted ridge (alpha 1, intercept unpenalised), closed form
        sw = w_fit / w_fit.sum()
        mx = sw @ X_fit
        my = float(sw @ y_fit)
        Xc = X_fit - mx
        A = (Xc * w_fit[:, None]).T @ Xc + np.eye(X_fit.shape[1])
        b = np.linalg.solve(A, (Xc * w_fit[:, None]).T @ (y_fit - my))
        return my + (X_pred - mx) @ b
    model = _regressor(learner, seed)
    model.fit(X_fit, y_fit, sample_weight=w_fit)
    return model.predict(X_pred)


def _standardise(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    if X.shape[1] == 0:
        return X
    mu = np.average(X, axis=0, weights=w)
    sd = np.sqrt(np.average((X - mu) ** 2, axis=0, weights=w))
    return (X - mu) / np.where(sd > 0, sd, 1.0)


def _smd(X, t, w, r) -> tuple[float, float]:
    """Max |SMD| over covariates, before and after weighting the unexposed by ``r``."""
    if X.shape[1] == 0:
        return 0.0, 0.0
    w1, w0 = w * t, w * (1 - t)
    if w1.sum() <= 0 or w0.sum() <= 0:
        return np.nan, np.nan
    m1 = (X * w1[:, None]).sum(0) / w1.sum()
    v1 = (((X - m1) ** 2) * w1[:, None]).sum(0) / w1.sum()
    m0 = (X * w0[:, None]).sum(0) / w0.sum()
    v0 = (((X - m0) ** 2) * w0[:, None]).sum(0) / w0.sum()
    sd = np.sqrt((v1 + v0) / 2)
    ok = sd > 0
    if not ok.any():
        return 0.0, 0.0
    before = np.abs(m1 - m0)[ok] / sd[ok]
    wr = w0 * r
    if wr.sum() <= 0:
        return float(before.max()), np.nan
    m0w = (X * wr[:, None]).sum(0) / wr.sum()
    after = np.abs(m1 - m0w)[ok] / sd[ok]
    return float(before.max()), float(after.max())


def aipw_effects(
    exposure: np.ndarray,
    covariates: np.ndarray,
    units: Units,
    *,
    channels=None,
    outcome: np.ndarray | None = None,
    outcome_value: np.ndarray | None = None,
    learner: str = "logistic",
    n_folds: int = 2,
    clip: float = 0.01,
    random_state=0,
    propensity: dict | None = None,
    value: bool = True,
) -> list[ChannelEffect]:
    """Cross-fitted AIPW effect on the exposed for each exposure column.

    Parameters
    ----------
    exposure : ndarray of shape (n_journeys, C)
        Touch counts (or 0/1 exposure) of each channel per journey row.
    covariates : ndarray of shape (n_journeys, k)
        Extra covariates per journey row (see :func:`journey_covariates`).
    units : Units
        From :func:`unit_table`.
    channels : iterable of int, optional
        Which columns to estimate (default all).
    outcome, outcome_value : ndarray per unit, optional
        Replace the conversion and value outcomes (e.g. a negative-control outcome).
    learner : {"logistic", "hgb"}
    n_folds : int
    clip : float
        Propensities are clipped above at ``1 - clip`` (the ATT weights ``e / (1 - e)`` only
        explode there).
    random_state : int or Generator
    propensity : dict, optional
        Cross-fitted propensities per channel column (per unit, unclipped), e.g. from an earlier
        call's :attr:`ChannelEffect.propensity`; skips the propensity fits.
    value : bool, default True
        Estimate the effect on value too (False skips the value outcome model; NaN then).

    Returns
    -------
    list of ChannelEffect
    """
    from threadpoolctl import threadpool_limits

    kw = dict(channels=channels, outcome=outcome, outcome_value=outcome_value, learner=learner, n_folds=n_folds,
              clip=clip, random_state=random_state, propensity=propensity, value=value)
    if len(units.row) < 2000:  # small: limiting the thread pools costs more than it saves
        return _aipw_effects(exposure, covariates, units, **kw)
    # many small fits: BLAS threads only add contention
    with threadpool_limits(1):
        return _aipw_effects(exposure, covariates, units, **kw)


def _aipw_effects(exposure, covariates, units, *, channels, outcome, outcome_value, learner, n_folds, clip,
                  random_state, propensity, value):
    rng = np.random.default_rng(random_state)
    seed = int(rng.integers(2**31 - 1))
    counts = np.asarray(exposure, dtype=np.float64)
    J, C = counts.shape
    rows = units.row
    w = units.weight
    y = units.y if outcome is None else np.asarray(outcome, dtype=np.float64)
    yv = units.y_value if outcome_value is None else np.asarray(outcome_value, dtype=np.float64)
    n = w.sum()
    extra = np.asarray(covariates, dtype=np.float64)
    extra = extra.reshape(J, extra.shape[1] if extra.ndim == 2 else (extra.size // J if J else 0))
    out = []
    if not n > 0:  # no journey with touches: nothing was exposed
        for c in (range(C) if channels is None else channels):
            out.append(ChannelEffect(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, np.nan, np.full(len(rows), np.nan), np.nan, np.nan,
                                     np.nan, np.nan, "no journey with touches"))
        return out
    folds = _folds(units.group, max(2, int(n_folds)), rng)
    for c in (range(C) if channels is None else channels):
        t = (counts[rows, c] > 0).astype(np.float64)
        others = np.delete(counts, c, axis=1)
        # the other channels' touches, and their total (activity level without channel c)
        X = np.column_stack([np.log1p(others), np.log1p(others.sum(axis=1)), extra])[rows]
        X = _standardise(X, w)
        n1, n0 = float((w * t).sum()), float((w * (1 - t)).sum())
        treated_rate = float((w * t * y).sum() / n1) if n1 > 0 else np.nan
        if n1 <= 0 or n0 <= 0:
            note = "no journey was exposed" if n1 <= 0 else "every journey was exposed: no unexposed journeys to compare with"
            out.append(ChannelEffect(n1, n0, 0.0 if n1 <= 0 else np.nan, 0.0 if n1 <= 0 else np.nan,
                                     0.0 if n1 <= 0 else np.nan, 0.0 if n1 <= 0 else np.nan, treated_rate,
                                     np.full(len(rows), np.nan), np.nan, np.nan, np.nan, np.nan, note))
            continue
        e = np.empty(len(rows))
        m0 = np.empty(len(rows))
        m0v = np.empty(len(rows))
        K = int(folds.max()) + 1
        for k in range(K):
            test = folds == k
            train = ~test
            if not test.any():
                continue
            if not train.any():  # a single person: fit and predict in-sample
                train = np.ones_like(test)
            if propensity is None or c not in propensity:
                e[test] = _fit_predict_proba(learner, X[train], t[train], w[train], X[test], seed + k)
            ctl = train & (t == 0)
            if not (w[ctl] > 0).any():
                ctl = t == 0
            m0[test] = _fit_predict_proba(learner, X[ctl], y[ctl], w[ctl], X[test], seed + 100 + k) \
                if set(np.unique(y)) <= {0.0, 1.0} else _fit_predict_reg(learner, X[ctl], y[ctl], w[ctl], X[test], seed + 100 + k)
            m0v[test] = _fit_predict_reg(learner, X[ctl], yv[ctl], w[ctl], X[test], seed + 200 + k) if value else np.nan
        if propensity is not None and c in propensity:
            e = np.asarray(propensity[c], dtype=np.float64).copy()
        raw_e = e.copy()
        # the ATT weights unexposed journeys by e / (1 - e): only propensities near 1 explode
        # (exposed journeys without comparable unexposed ones); near 0 the weight is ~0, as it should be
        e = np.clip(np.nan_to_num(e, nan=n1 / n), 1e-6, 1 - clip)
        if not value:
            m0v = np.zeros(len(rows))
        m0 = np.nan_to_num(m0, nan=float(np.average(y, weights=w * (1 - t))))
        m0v = np.nan_to_num(m0v, nan=float(np.average(yv, weights=w * (1 - t))))
        r = e / (1 - e)
        p1 = n1 / n

        def att_and_se(yy, mm):
            resid = yy - mm
            att = float((w * (t * resid - (1 - t) * r * resid)).sum() / n1)
            phi = (t * (resid - att) - (1 - t) * r * resid) / p1
            se = float(np.sqrt((w * phi**2).sum()) / n)
            return att, se

        att, se = att_and_se(y, m0)
        att_v, se_v = att_and_se(yv, m0v)
        share_extreme = float((w * ((raw_e < 0.05) | (raw_e > 0.95))).sum() / n)
        exposed_extreme = float((w * t * (raw_e > 0.95)).sum() / n1)
        wr = w * (1 - t) * r
        ess = float(wr.sum() ** 2 / (w * (1 - t) * r**2).sum()) if wr.sum() > 0 else 0.0
        # ESS of a weighted sample of frequency-weighted units, relative to the unexposed journeys
        ess_ratio = ess / n0 if n0 > 0 else np.nan
        smd_b, smd_a = _smd(X, t, w, r)
        if not value:
            att_v, se_v = np.nan, np.nan
        naive = treated_rate - float((w * (1 - t) * y).sum() / n0)
        out.append(ChannelEffect(n1, n0, att, se, att_v, se_v, treated_rate, raw_e, share_extreme,
                                 min(ess_ratio, 1.0), smd_b, smd_a, exposed_extreme=exposed_extreme, naive_att=naive))
    return out


# ---------------------------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------------------------


@register_model("aipw")
class AIPW(AttributionModel):
    """Doubly robust (AIPW) incremental credit per channel, with a ``"(baseline)"`` row.

    Each channel's incremental conversions are its cross-fitted AIPW effect on the journeys it
    reached times their number (see the module docstring for the estimator and its
    assumptions); everything else — including conversions without any touch — is the baseline.

    Parameters
    ----------
    learner : {"logistic", "hgb"}, default "logistic"
        Propensity and outcome models: penalised logistic / ridge regression, or scikit-learn's
        histogram gradient boosting (slower, more flexible).
    n_folds : int, default 2
        Cross-fitting folds (persons are kept within one fold).
    clip : float, default 0.01
        Propensities are clipped above at ``1 - clip``.
    covariates : DataFrame, optional
        Person-level covariates (CRM: past orders, tenure, ...), indexed by person id; numeric
        columns are adjusted for.
    level : float, default 0.9
        Coverage of ``credit_intervals_`` (normal approximation).
    random_state : int, default 0
        Seeds the cross-fitting folds.

    Attributes
    ----------
    credits_ : DataFrame
        Incremental conversions and value per channel, then ``"(baseline)"``.
    credit_intervals_ : DataFrame
        ``conversions_low, conversions_high, value_low, value_high`` per channel.
    effects_ : DataFrame
        Per channel: exposed journeys, ATT (per exposed journey) with standard errors, the
        observed conversion rate of the exposed, overlap (share of propensities outside
        [0.05, 0.95], effective sample size ratio), balance (max standardised mean difference
        before and after weighting) and notes.
    diagnostics_ : dict
        ``{"estimator": "aipw", "learner": ..., "n_folds": ..., "effects": effects_}``.

    Notes
    -----
    Per conversion place, a channel's incremental conversions are split in proportion to the
    conversions of the journeys it reached at each place (value likewise). The channels are
    estimated one at a time, so their incremental credits need not add up to less than the
    conversions; the baseline is what remains (it can be negative when the estimates overlap,
    which the scorecard reports).

    Examples
    --------
    >>> import attribution as at
    >>> sim = at.datasets.simulate(1500, random_state=0, regime="randomised")
    >>> m = at.get_model("aipw").fit(sim.journeys(warn=False))
    >>> m.estimand_, m.credits_.index[-1]
    ('incremental', '(baseline)')
    """

    estimand_ = "incremental"
    _nonnegative = False

    def __init__(self, learner: str = "logistic", n_folds: int = 2, clip: float = 0.01, covariates=None,
                 level: float = 0.9, random_state=0):
        self.learner = learner
        self.n_folds = n_folds
        self.clip = clip
        self.covariates = covariates
        self.level = level
        self.random_state = random_state

    def _validate_params(self) -> None:
        if self.learner not in _LEARNERS:
            raise _param_error(self, "learner", f"one of {list(_LEARNERS)}", self.learner)
        if isinstance(self.n_folds, bool) or not isinstance(self.n_folds, numbers.Integral) or self.n_folds < 2:
            raise _param_error(self, "n_folds", "an integer of at least 2", self.n_folds)
        if isinstance(self.clip, bool) or not isinstance(self.clip, numbers.Real) or not 0 < self.clip < 0.5:
            raise _param_error(self, "clip", "a number in (0, 0.5)", self.clip)
        if isinstance(self.level, bool) or not isinstance(self.level, numbers.Real) or not 0 < self.level < 1:
            raise _param_error(self, "level", "a coverage in (0, 1) such as 0.9", self.level)

    def _channel_credit(self, journeys: Journeys) -> ChannelCredit:
        counts = touch_counts(journeys)
        extra, names = journey_covariates(journeys, self.covariates, counts)
        units = unit_table(journeys)
        effects = aipw_effects(counts, extra, units, learner=self.learner, n_folds=self.n_folds,
                               clip=self.clip, random_state=self.random_state)
        C = journeys.n_channels
        conv = np.array([e.conversions for e in effects])
        val = np.array([e.value for e in effects])
        conv_se = np.array([e.conversions_se for e in effects])
        val_se = np.array([e.value_se for e in effects])
        # round-off of the fits (order 1e-12) is not an effect: snap it to 0 so that credit does not
        # depend on the order of the channels
        conv = np.where(np.abs(conv) < 1e-9 * max(1.0, journeys.total_conversions), 0.0, conv)
        val = np.where(np.abs(val) < 1e-9 * max(1.0, journeys.total_value), 0.0, val)
        bad = ~np.isfinite(conv) | ~np.isfinite(val)
        notes = [e.note for e in effects]
        # an effect on the exposed cannot exceed, in size, what the exposed journeys converted:
        # beyond it the outcome model extrapolates (tiny or degenerate data), not an estimate
        jc = np.unique(journeys.journey_index.astype(np.int64) * max(C, 1) + journeys.touch_channel)
        jj, cc = jc // max(C, 1), jc % max(C, 1)
        exp_conv = np.bincount(cc, weights=np.asarray(journeys.conversions, dtype=np.float64)[jj], minlength=C)
        exp_val = np.bincount(cc, weights=np.asarray(journeys.value, dtype=np.float64)[jj], minlength=C)
        tol = 1e-9 * max(1.0, journeys.total_conversions)
        beyond = ~bad & ((np.abs(conv) > exp_conv + tol) | (np.abs(val) > exp_val + 1e-9 * max(1.0, journeys.total_value)))
        for i in np.flatnonzero(beyond):
            notes[i] = (f"its estimate ({conv[i]:,.4g} conversions, {val[i]:,.4g} value) is larger than "
                        f"everything its exposed journeys converted ({exp_conv[i]:,.4g}, {exp_val[i]:,.4g}): "
                        "too few or too unlike exposed and unexposed journeys")
        bad |= beyond
        if bad.any():
            names_bad = [str(journeys.channels[i]) for i in np.flatnonzero(bad)]
            _warn_user(
                f"AIPW cannot estimate the effect of {names_bad}: "
                f"{'; '.join(str(notes[i]) for i in np.flatnonzero(bad)[:3])}. Their "
                "incremental credit is set to 0 (fallback) and their conversions stay in '(baseline)'.",
                UserWarning,
            )
            conv[bad], val[bad], conv_se[bad], val_se[bad] = 0.0, 0.0, np.nan, np.nan
        from scipy import stats

        z = stats.norm.ppf(0.5 + self.level / 2)
        index = pd.Index(np.asarray(journeys.channels, dtype=object), name="channel")
        self.credit_intervals_ = pd.DataFrame({
            "conversions_low": conv - z * conv_se, "conversions_high": conv + z * conv_se,
            "value_low": val - z * val_se, "value_high": val + z * val_se,
        }, index=index)
        self.effects_ = pd.DataFrame({
            "exposed": [e.exposed for e in effects],
            "att": [e.att for e in effects], "att_se": [e.att_se for e in effects],
            "att_value": [e.att_value for e in effects], "att_value_se": [e.att_value_se for e in effects],
            "exposed_rate": [e.treated_rate for e in effects],
            "conversions": conv, "conversions_se": conv_se, "value": val, "value_se": val_se,
            "share_extreme": [e.share_extreme for e in effects],
            "exposed_extreme": [e.exposed_extreme for e in effects], "ess_ratio": [e.ess_ratio for e in effects],
            "smd_before": [e.smd_before for e in effects], "smd_after": [e.smd_after for e in effects],
            "naive_conversions": [e.naive_att * e.exposed for e in effects],
            "note": notes,
        }, index=index)
        self.diagnostics_ = {"estimator": "aipw", "learner": self.learner, "n_folds": int(self.n_folds),
                             "covariates": ["other channels' touch counts and their total (log1p)"] + names,
                             "effects": self.effects_}
        return _split_by_place(journeys, counts, conv, val)


def _split_by_place(journeys: Journeys, counts: np.ndarray, conv: np.ndarray, val: np.ndarray) -> ChannelCredit:
    """Each channel's incremental totals split over places like the conversions (value) of the
    journeys it reached; by all conversions when it reached none."""
    codes, places = place_codes(journeys)
    P = 1 if places is None else len(places)
    if P == 1:
        return ChannelCredit(conv[:, None], val[:, None])
    if P == 0:
        return ChannelCredit(np.zeros((len(conv), 0)), np.zeros((len(val), 0)))
    exposed = (counts > 0).astype(np.float64)  # (J, C)
    onehot = np.zeros((journeys.n_journeys, P))
    onehot[np.arange(journeys.n_journeys), codes] = 1.0
    jc = np.asarray(journeys.conversions, dtype=np.float64)
    jv = np.asarray(journeys.value, dtype=np.float64)

    def shares(weights):
        m = exposed.T @ (onehot * weights[:, None])  # (C, P)
        overall = (onehot * weights[:, None]).sum(0)
        overall = overall / overall.sum() if overall.sum() > 0 else np.eye(P)[0]
        tot = m.sum(1, keepdims=True)
        return np.where(tot > 0, m / np.where(tot > 0, tot, 1.0), overall[None, :])

    return ChannelCredit(conv[:, None] * shares(jc), val[:, None] * shares(jv))
