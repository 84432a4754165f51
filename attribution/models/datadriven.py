r"""Data-driven attribution models: Shao & Li's bagged logistic regression and simple
probabilistic model, and Google's Fractribution.

All three learn from converting *and* non-converting journeys; all conserve conversions and value
exactly (credit is a split of the observed conversions, never a prediction of them).

:class:`Logistic`
    Shao & Li (2011) bagged logistic regression on channel-exposure indicators; channel credit
    is proportional to the average (positive part of the) exposure coefficient.
:class:`Probabilistic`
    Shao & Li's simple probabilistic model: first- and second-order conditional conversion
    probabilities, applied journey by journey.
:class:`Fractribution`
    Google's Fractribution: the path-level leave-one-out counterfactual share (called
    "shapley" in Google's and Snowplow's code, although it is not a Shapley value).

References
----------
.. [SL11] Shao, X., Li, L. (2011). Data-driven multi-touch attribution models. Proceedings of
   the 17th ACM SIGKDD (KDD '11), 258-264.
.. [GF] Google, "Fractribution" (github.com/google/fractribution, ``py/fractribution.py``,
   ``run_shapley_attribution``; Apache-2.0), and Snowplow's ``snowplow-attribution`` port.
.. [FS] Field survey §2.3 and §2.8 (``shared/research/field-survey.md``).
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from scipy.special import expit

from .._resources import check_memory
from ..exceptions import DataQualityWarning
from ..journeys import Journeys
from .base import (
    AttributionModel,
    ChannelCredit,
    _param_error,
    _warn_user,
    credit_from_shares,
    credit_from_touch_weights,
    register_model,
)
from .shapley import _by_name, _Sets, _touch_counts, simplified_touch_weights

__all__ = ["Fractribution", "Logistic", "Probabilistic", "bagged_logistic"]

PATH_TRANSFORMS = ("unique", "exposure", "first")

#: Mean coefficients at or below this count as 0 (Newton stops at 1e-10 steps).
_ZERO_COEF = 1e-8

#: Ridge on the intercept of the bagged logistic regression (keeps Newton steps finite when a
#: bag is separable in the intercept alone); far below any data term.
_INTERCEPT_RIDGE = 1e-10


def _check_fraction(owner, name, value, allow_one=True):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0 < value <= 1):
        raise _param_error(owner, name, "a number in (0, 1]", value)


def _check_positive_int(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise _param_error(owner, name, "a positive integer", value)


def _fallback_warning(model: str) -> None:
    _warn_user(
        f"{model}: no channel has a positive effect in these journeys, so the conversions are "
        "split as by Shapley(method='simplified') (equally among each journey's channels).",
        DataQualityWarning,
    )


# ---------------------------------------------------------------------------------------------
# Bagged logistic regression (batched Newton)
# ---------------------------------------------------------------------------------------------


def bagged_logistic(X, y, weights, features=None, C=1.0, max_iter=100, tol=1e-10) -> tuple[np.ndarray, np.ndarray]:
    r"""Fit one L2-regularised logistic regression per bag, all bags at once (batched Newton).

    Bag :math:`b` minimises scikit-learn's ``LogisticRegression(C=C)`` objective

    .. math:: \tfrac12 \lVert\beta_b\rVert^2 + C \sum_r s_{br}\,
              \bigl[\log(1 + e^{z_{br}}) - y_{br} z_{br}\bigr], \qquad
              z_{br} = \beta_{b0} + \sum_{d \in F_b} x_{rd}\,\beta_{bd},

    over the features :math:`F_b` of the bag (the others are fixed at 0), with row weights
    :math:`s_{br}` (the intercept is unpenalised). A target :math:`y` in :math:`[0, 1]` stands for
    a row that converts with weight :math:`s y` and not with weight :math:`s (1 - y)`: the
    same loss as the two 0/1 rows, on half the rows. Newton steps with a backtracking line search
    run for every bag at once: gradients and Hessians are matrix products over the rows, the
    Newton systems one batched ``np.linalg.solve``. The optimum is the one scikit-learn finds.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
    y : ndarray of shape (n_rows,) or (n_bags, n_rows)
        Outcomes (0/1) or converting fractions in [0, 1], shared or per bag.
    weights : ndarray of shape (n_bags, n_rows)
        Row weights of every bag.
    features : bool ndarray of shape (n_bags, n_features), optional
        Features used by every bag (default all).
    C : float, default 1.0
        Inverse regularisation strength, as in scikit-learn.
    max_iter : int, default 100
    tol : float, default 1e-10
        A bag stops when no coefficient moves more than ``tol`` (or its objective can no
        longer decrease in floating point).

    Returns
    -------
    intercept : ndarray of shape (n_bags,)
    coef : ndarray of shape (n_bags, n_features)
        0 for the features a bag does not use.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [0.0], [1.0]]); y = np.array([0, 0, 1, 1])
    >>> b0, b = bagged_logistic(X, y, np.array([[3.0, 1.0, 1.0, 3.0]]), C=1e6)
    >>> round(float(b[0, 0]), 4), round(float(np.log(9)), 4)   # log odds ratio (3/1)/(1/3)
    (2.1972, 2.1972)
    """
    X = np.asarray(X, dtype=np.float64)
    W = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    B, R = W.shape
    y = np.broadcast_to(np.asarray(y, dtype=np.float64), (B, R))
    Wy = W * y
    F = X.shape[1]
    D = F + 1
    X1 = np.hstack([np.ones((R, 1)), X])
    M = np.ones((B, D))
    if features is not None:
        M[:, 1:] = np.asarray(features, dtype=np.float64)
    pen = np.r_[_INTERCEPT_RIDGE, np.ones(F)]
    theta = np.zeros((B, D))
    iu, ju = np.triu_indices(D)  # the Hessians are symmetric: the upper triangle suffices
    rows_per_chunk = max(1, (1 << 22) // len(iu))

    def objective(z, th):
        return C * ((W * np.logaddexp(0.0, z)).sum(axis=1) - (Wy * z).sum(axis=1)) + 0.5 * (pen * th * th).sum(axis=1)

    z = theta @ X1.T
    f = objective(z, theta)
    active = np.ones(B, dtype=bool)
    for _ in range(int(max_iter)):
        p = expit(z)
        g = (C * ((W * p - Wy) @ X1) + pen * theta) * M
        s = C * W * p * (1 - p)
        upper = np.zeros((B, len(iu)))
        for lo in range(0, R, rows_per_chunk):  # Hessians as one matrix product per row chunk
            xs = X1[lo : lo + rows_per_chunk]
            upper += s[:, lo : lo + rows_per_chunk] @ (xs[:, iu] * xs[:, ju])
        H = np.zeros((B, D, D))
        H[:, iu, ju] = upper
        H[:, ju, iu] = upper
        H = H * (M[:, :, None] * M[:, None, :]) + np.diag(pen)[None]
        step = np.linalg.solve(H, g[:, :, None])[:, :, 0]
        step[~active] = 0.0
        decrease = (g * step).sum(axis=1)  # predicted decrease of the objective (>= 0)
        # nothing left to gain beyond rounding: converged
        active &= decrease > 1e-13 * np.maximum(np.abs(f), 1.0)
        if not active.any():
            break
        step[~active] = 0.0
        z_step = step @ X1.T
        # backtracking (Armijo) line search, every active bag at once
        t = np.ones(B)
        accepted = ~active
        for _ls in range(20):
            f_new = objective(z - t[:, None] * z_step, theta - t[:, None] * step)
            accepted |= f_new <= f - 1e-4 * t * decrease
            if accepted.all():
                break
            t = np.where(accepted, t, t * 0.5)
        t = np.where(accepted & active, t, 0.0)
        active &= accepted  # a bag whose objective cannot decrease any more has converged
        theta = theta - t[:, None] * step
        z = z - t[:, None] * z_step
        f = objective(z, theta)
        active &= np.abs(t[:, None] * step).max(axis=1) > tol
        if not active.any():
            break
    return theta[:, 0], theta[:, 1:]


@register_model("logistic")
class Logistic(AttributionModel):
    r"""Shao & Li (2011) bagged logistic regression on channel-exposure indicators.

    Every journey is a row :math:`x_u \in \{0,1\}^n` (exposed to channel :math:`i` or not)
    with outcome converted / not converted; a path-table row counts as its conversions and
    non-conversions. Each of ``n_estimators`` bags

    * draws journeys: each journey enters the bag a Poisson(``sample_rows``) number of times
      (a Poisson bootstrap; it works for the fractional counts of path tables),
    * draws ``max(1, round(sample_channels * n))`` channels, and
    * fits an L2-regularised logistic regression with intercept (scikit-learn's objective
      with ``C``) of conversion on the drawn exposure indicators (:func:`bagged_logistic`).

    A channel's coefficient :math:`\bar\beta_i` is its mean over the bags that drew it (bags
    with only one outcome are skipped). Credit:

    .. math:: A_i = C_{touched}\,\frac{\max(\bar\beta_i, 0)}{\sum_j \max(\bar\beta_j, 0)}.

    **Negative coefficients** (exposure going with lower conversion odds, holding the other
    channels fixed) earn no credit: a negative share of conversions has no meaning, and Shao &
    Li read the coefficients as importance. If no coefficient is positive, the conversions are
    split as by ``Shapley(method="simplified")`` with a
    :class:`~attribution.exceptions.DataQualityWarning`. The same shares split value and every
    conversion place.

    Parameters
    ----------
    n_estimators : int, default 100
        Number of bags.
    sample_rows : float in (0, 1], default 0.5
        Expected share of journeys per bag.
    sample_channels : float in (0, 1], default 0.5
        Share of channels per bag.
    C : float, default 1.0
        Inverse L2 regularisation strength (scikit-learn's ``C``; the loss is summed over
        journeys, so with thousands of journeys the penalty is mild).
    random_state : int, numpy.random.Generator or None, default 0
        Seeds the bags.

    Attributes
    ----------
    credits_ : DataFrame
    coefficients_ : DataFrame
        Per channel: ``mean`` and ``std`` of the coefficient over the bags that drew it, and
        ``n_bags``.
    intercept_ : float
        Mean intercept over the bags.

    Notes
    -----
    All bags are fitted together by Newton's method on the distinct channel sets (one row per
    set and outcome, weighted by journey counts), so the cost depends on the number of distinct
    sets, not of journeys. The result equals scikit-learn's ``LogisticRegression(C=C)`` fitted
    bag by bag (checked in the tests).

    References
    ----------
    Shao, X., Li, L. (2011). Data-driven multi-touch attribution models. KDD '11, 258-264.

    Examples
    --------
    >>> import pandas as pd
    >>> from attribution import Journeys
    >>> from attribution.models.datadriven import Logistic
    >>> paths = pd.DataFrame({"path": ["a", "b", "a > b", "c"],
    ...                       "total_conversions": [30, 10, 40, 5], "total_null": [70, 90, 60, 95]})
    >>> m = Logistic(random_state=0).fit(Journeys.from_paths(paths))
    >>> m.credits_["conversions"].round(1).to_dict()
    {'a': 75.9, 'b': 9.1, 'c': 0.0}
    """

    _nonnegative = True
    _uses_nulls = True

    def __init__(self, n_estimators=100, sample_rows=0.5, sample_channels=0.5, C=1.0, random_state=0):
        self.n_estimators = n_estimators
        self.sample_rows = sample_rows
        self.sample_channels = sample_channels
        self.C = C
        self.random_state = random_state

    def _validate_params(self) -> None:
        _check_positive_int(self, "n_estimators", self.n_estimators)
        _check_fraction(self, "sample_rows", self.sample_rows)
        _check_fraction(self, "sample_channels", self.sample_channels)
        c = self.C
        if isinstance(c, bool) or not isinstance(c, numbers.Real) or not (np.isfinite(c) and c > 0):
            raise _param_error(self, "C", "a positive number", c)

    def _channel_credit(self, journeys: Journeys) -> ChannelCredit:
        rng = np.random.default_rng(self.random_state)
        C = journeys.n_channels
        B = int(self.n_estimators)
        # draws follow the channel names (codes renumbered in name order), not the codes
        named, order = _by_name(journeys)
        sets = _Sets(named)
        P = sets.n_places
        conv = sets.num[:, :P].sum(axis=1)
        nulls = np.maximum(sets.count - conv, 0.0)
        keep = sets.count > 0
        K = int(keep.sum())
        check_memory(
            8.0 * (K * C + 4.0 * B * K + 3.0 * B * C),
            f"Logistic with {C:,} channels, {K:,} channel sets and {B} bags",
            "Group rare channels before fitting (Journeys.transform(exclude=...) or one 'other' channel), "
            "or lower n_estimators.",
        )
        X = sets.indicator(keep)
        conv, nulls = conv[keep], nulls[keep]
        # each journey joins a bag a Poisson(sample_rows) number of times: converting and
        # non-converting journeys of a set are drawn separately, then merged into one row
        rate = float(self.sample_rows)
        W1 = rng.poisson(rate * conv[None, :], size=(B, len(conv))).astype(np.float64)
        W0 = rng.poisson(rate * nulls[None, :], size=(B, len(nulls))).astype(np.float64)
        W = W1 + W0
        y = np.divide(W1, W, out=np.zeros_like(W), where=W > 0)
        k = max(1, int(round(float(self.sample_channels) * C))) if C else 0
        drawn = np.argsort(rng.random((B, C)), axis=1)[:, :k]
        features = np.zeros((B, C), dtype=bool)
        np.put_along_axis(features, drawn, True, axis=1)
        # bags with both outcomes can be fitted; the others carry no information
        ok = (W1.sum(axis=1) > 0) & (W0.sum(axis=1) > 0)
        coef = np.zeros((B, C))
        intercept = np.full(B, np.nan)
        if ok.any() and C:
            intercept[ok], coef[ok] = bagged_logistic(X, y[ok], W[ok], features[ok], C=float(self.C))
        used = features & ok[:, None]
        n_bags = used.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(n_bags > 0, (coef * used).sum(axis=0) / np.maximum(n_bags, 1), 0.0)
            dev = np.where(used, coef - mean[None, :], 0.0)
            std = np.where(n_bags > 1, np.sqrt((dev**2).sum(axis=0) / np.maximum(n_bags - 1, 1)), np.nan)
        back = np.empty(C, dtype=np.int64)  # old code -> position in name order
        back[order] = np.arange(C)
        mean, std, n_bags = mean[back], std[back], n_bags[back]
        self.coefficients_ = pd.DataFrame(
            {"mean": mean, "std": std, "n_bags": n_bags}, index=pd.Index(journeys.channels, name="channel")
        )
        self.intercept_ = float(np.nanmean(intercept)) if ok.any() else float("nan")
        # coefficients within round-off of 0 (e.g. a channel in every journey, confounded with
        # the intercept) carry no information: they count as 0
        shares = np.where(mean > _ZERO_COEF, mean, 0.0)
        if C and shares.sum() > 0:
            return credit_from_shares(journeys, shares)
        if journeys.total_conversions > 0 or journeys.total_value > 0:
            if journeys.n_touches:
                _fallback_warning("Logistic")
        return credit_from_touch_weights(journeys, simplified_touch_weights(journeys))


# ---------------------------------------------------------------------------------------------
# Simple probabilistic model
# ---------------------------------------------------------------------------------------------


@register_model("probabilistic")
class Probabilistic(AttributionModel):
    r"""Shao & Li (2011) simple probabilistic model (second order), journey by journey.

    From all journeys (converting or not, weighted by their counts), the first- and
    second-order conversion probabilities are

    .. math:: p_i = \frac{N^+_i}{N^+_i + N^-_i}, \qquad p_{ij} = \frac{N^+_{ij}}{N^+_{ij} + N^-_{ij}},

    with :math:`N^\pm_i` the converting / non-converting journeys exposed to channel :math:`i`
    and :math:`N^\pm_{ij}` those exposed to both :math:`i` and :math:`j`. In a journey whose
    distinct channels are :math:`S` (:math:`m = |S|`), channel :math:`i \in S` contributes

    .. math:: c_i(S) = p_i + \frac{1}{2(m-1)} \sum_{j \in S \setminus \{i\}}
              \bigl(p_{ij} - p_i - p_j\bigr)

    (:math:`c_i = p_i` when :math:`m = 1`): its own conversion probability plus half its average
    pairwise interaction with the journey's other channels (the other half goes to the
    partner). The journey's conversions and value are split in proportion to
    :math:`\max(c_i(S), 0)` (equally among :math:`S` if all are 0), each channel's part
    equally among its touches.

    Shao & Li define :math:`c_i` once per channel, averaging over *all* other channels
    (``contributions_`` below, over the pairs seen together); applying it per journey, over the
    channels actually in the journey, follows the eeghor/mta implementation and keeps credit on
    the channels that took part. Unlike mta, each journey's split is normalised, so
    conversions are conserved.

    Attributes
    ----------
    credits_ : DataFrame
    probabilities_ : Series
        :math:`p_i` per channel (NaN for channels without journeys).
    pair_probabilities_ : DataFrame
        :math:`p_{ij}` (NaN where no journey has both).
    contributions_ : Series
        Shao & Li's channel-level :math:`C(x_i) = p_i + \frac{1}{2 N_i}\sum_{j}(p_{ij} - p_i -
        p_j)` over the :math:`N_i` channels seen together with :math:`i`.

    References
    ----------
    Shao, X., Li, L. (2011). Data-driven multi-touch attribution models. KDD '11, 258-264.

    Examples
    --------
    >>> import pandas as pd
    >>> from attribution import Journeys
    >>> from attribution.models.datadriven import Probabilistic
    >>> paths = pd.DataFrame({"path": ["a", "b", "a > b"],
    ...                       "total_conversions": [2, 1, 3], "total_null": [8, 9, 3]})
    >>> m = Probabilistic().fit(Journeys.from_paths(paths))
    >>> m.probabilities_.round(4).to_dict()
    {'a': 0.3125, 'b': 0.25}

    In ``a > b``, p_ab = 3/6, so c_a = 0.3125 + (0.5 - 0.3125 - 0.25)/2 = 0.28125 and
    c_b = 0.21875: its 3 conversions split 0.5625 / 0.4375.

    >>> m.credits_["conversions"].round(4).to_dict()
    {'a': 3.6875, 'b': 2.3125}
    """

    _nonnegative = True
    _uses_nulls = True

    def _touch_weights(self, journeys: Journeys) -> np.ndarray:
        C = journeys.n_channels
        names = pd.Index(journeys.channels, name="channel")
        sets = _Sets(journeys)
        P = sets.n_places
        pos_set = sets.num[:, :P].sum(axis=1)
        all_set = sets.count
        K = len(sets.size)
        set_of = np.repeat(np.arange(K), sets.size)  # set of every member element
        ch = sets.channel
        # first order: journeys exposed to i
        n_pos = np.bincount(ch, weights=pos_set[set_of], minlength=C)
        n_all = np.bincount(ch, weights=all_set[set_of], minlength=C)
        p1 = np.divide(n_pos, n_all, out=np.zeros(C), where=n_all > 0)
        # second order: every ordered pair of distinct members of a set
        rep = sets.size[set_of]
        check_memory(
            8.0 * (4.0 * C * C + 6.0 * float(rep.sum())),
            f"Probabilistic with {C:,} channels (a {C:,} x {C:,} pair table)",
            "Group rare channels before fitting (Journeys.transform(exclude=...) or one 'other' channel).",
        )
        e_idx = np.repeat(np.arange(len(ch)), rep)
        start_of_block = np.repeat(np.cumsum(rep) - rep, rep)
        partner = sets.offsets[set_of][e_idx] + (np.arange(len(e_idx)) - start_of_block)
        pair = ch[e_idx] * C + ch[partner]
        distinct = ch[e_idx] != ch[partner]
        pair_pos = np.bincount(pair[distinct], weights=pos_set[set_of][e_idx][distinct], minlength=C * C)
        pair_all = np.bincount(pair[distinct], weights=all_set[set_of][e_idx][distinct], minlength=C * C)
        p2 = np.divide(pair_pos, pair_all, out=np.zeros(C * C), where=pair_all > 0)
        self.probabilities_ = pd.Series(np.where(n_all > 0, p1, np.nan), index=names, name="probability")
        self.pair_probabilities_ = pd.DataFrame(
            np.where(pair_all > 0, p2, np.nan).reshape(C, C), index=names, columns=names.rename(None)
        )
        seen = (pair_all > 0).reshape(C, C)
        inter = np.where(seen, p2.reshape(C, C) - p1[:, None] - p1[None, :], 0.0).sum(axis=1)
        n_seen = seen.sum(axis=1)
        self.contributions_ = pd.Series(
            np.where(n_all > 0, p1 + np.divide(inter, 2 * n_seen, out=np.zeros(C), where=n_seen > 0), np.nan),
            index=names,
            name="contribution",
        )
        if journeys.n_touches == 0:
            return np.zeros(0)
        # per-journey contributions of every member of every set
        inter_e = np.bincount(e_idx[distinct], weights=(p2[pair] - p1[ch[e_idx]] - p1[ch[partner]])[distinct], minlength=len(ch))
        m = sets.size[set_of].astype(np.float64)
        contrib = p1[ch] + np.divide(inter_e, 2 * (m - 1), out=np.zeros(len(ch)), where=m > 1)
        contrib = np.clip(contrib, 0.0, None)
        total = np.bincount(set_of, weights=contrib, minlength=K)
        share = np.where(total[set_of] > 0, contrib / np.where(total > 0, total, 1.0)[set_of], 1.0 / m)
        # share of each touch: its channel's share in the journey's set, split over its touches
        element_key = set_of * C + ch  # sorted: sets ascending, channels ascending within a set
        jset = sets.inverse[journeys.journey_index]
        element = np.searchsorted(element_key, jset * C + journeys.touch_channel.astype(np.int64))
        same, _ = _touch_counts(journeys)
        return share[element] / same


# ---------------------------------------------------------------------------------------------
# Fractribution
# ---------------------------------------------------------------------------------------------


def _transform_touches(journeys: Journeys, path_transform: str):
    """Transformed paths: (channels (T',), offsets (J+1,), group of each original touch (T,),
    with -1 for dropped touches)."""
    tc = journeys.touch_channel.astype(np.int64)
    T = len(tc)
    pos = journeys.position
    jid = journeys.journey_index
    if path_transform == "unique":
        keep = np.ones(T, dtype=bool)
        group = np.arange(T)
    elif path_transform == "exposure":
        keep = np.ones(T, dtype=bool)
        keep[1:] = (tc[1:] != tc[:-1]) | (pos[1:] == 0)
        if T:
            keep[0] = True
        group = np.cumsum(keep) - 1
    else:  # "first": the first touch of every channel in the journey
        key = jid.astype(np.int64) * journeys.n_channels + tc
        _, first = np.unique(key, return_index=True)
        keep = np.zeros(T, dtype=bool)
        keep[first] = True
        group = np.where(keep, np.cumsum(keep) - 1, -1)
    t_channel = tc[keep]
    lengths = np.bincount(jid[keep], minlength=journeys.n_journeys)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return t_channel, offsets, group


@register_model("fractribution")
class Fractribution(AttributionModel):
    r"""Google's Fractribution: path-level leave-one-out counterfactual shares.

    Paths are first transformed (``path_transform``). Every distinct transformed path
    :math:`u` has the conversion probability :math:`p(u) = c_u / (c_u + n_u)` (conversions
    over all journeys with that path; 0 for a path that never occurs). In a path of length
    :math:`L \ge 2`, the touch at position :math:`t` has the counterfactual gain

    .. math:: m_t = \max\bigl(0,\; p(u) - p(u_{-t})\bigr),

    with :math:`u_{-t}` the path without that touch (looked up as is, not re-transformed); a
    one-touch path has :math:`m_1 = p(u)`. The path's conversions and value are split in
    proportion to :math:`m_t`, or all to the last touch when every :math:`m_t` is 0. A
    transformed touch standing for several original touches (a collapsed run) shares its part
    equally among them.

    This is Google's ``run_shapley_attribution`` (and Snowplow's "shapley" model), named for
    what it is: a leave-one-out share, not a Shapley value (it averages over no orderings, and
    the shares are not efficient before normalisation).

    Parameters
    ----------
    path_transform : {"unique", "exposure", "first"}, default "unique"
        ``"unique"``: paths as they are (Google's name for the identity transform);
        ``"exposure"``: consecutive repeats of a channel collapsed (``a > a > b`` is ``a > b``);
        ``"first"``: only the first touch of each channel kept.

    Attributes
    ----------
    credits_ : DataFrame
    path_probabilities_ : DataFrame
        Distinct transformed paths (``path`` strings), their ``conversions``, ``nulls`` and
        conversion ``probability``.

    References
    ----------
    Google, Fractribution (github.com/google/fractribution), ``fractribution.py``,
    ``_get_counterfactual_marginal_contributions`` and ``run_shapley_attribution``.

    Examples
    --------
    >>> import pandas as pd
    >>> from attribution import Journeys
    >>> from attribution.models.datadriven import Fractribution
    >>> paths = pd.DataFrame({"path": ["a", "b", "a > b"],
    ...                       "total_conversions": [1, 2, 3], "total_null": [9, 8, 3]})
    >>> m = Fractribution().fit(Journeys.from_paths(paths))
    >>> m.credits_["conversions"].round(4).to_dict()     # a>b: gains 0.5-0.2=0.3 and 0.5-0.1=0.4
    {'a': 2.2857, 'b': 3.7143}
    """

    _nonnegative = True
    _uses_nulls = True

    def __init__(self, path_transform="unique"):
        self.path_transform = path_transform

    def _validate_params(self) -> None:
        if self.path_transform not in PATH_TRANSFORMS:
            raise _param_error(self, "path_transform", f"one of {list(PATH_TRANSFORMS)}", self.path_transform)

    def _touch_weights(self, journeys: Journeys) -> np.ndarray:
        t_channel, t_offsets, group = _transform_touches(journeys, self.path_transform)
        lengths = np.diff(t_offsets)
        conv = np.asarray(journeys.conversions, dtype=np.float64)
        nulls = np.asarray(journeys.nulls, dtype=np.float64)
        t_weight = np.zeros(len(t_channel))
        uniq_by_len: dict[int, np.ndarray] = {}
        prob_by_len: dict[int, np.ndarray] = {}
        inv_by_len: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        table = []
        # distinct transformed paths, one length at a time (a loop over lengths, not journeys)
        for L in np.unique(lengths[lengths > 0]):
            L = int(L)
            rows = np.flatnonzero(lengths == L)
            seq = t_channel[t_offsets[rows][:, None] + np.arange(L)[None, :]]
            uniq, inv = np.unique(seq, axis=0, return_inverse=True)
            inv = inv.ravel()
            c = np.bincount(inv, weights=conv[rows], minlength=len(uniq))
            n = np.bincount(inv, weights=nulls[rows], minlength=len(uniq))
            p = np.divide(c, c + n, out=np.zeros(len(uniq)), where=(c + n) > 0)
            uniq_by_len[L], prob_by_len[L], inv_by_len[L] = uniq, p, (rows, inv)
            table.append((uniq, c, n, p))
        for L, uniq in uniq_by_len.items():
            p = prob_by_len[L]
            if L == 1:
                gain = p[:, None].copy()
            else:
                check_memory(
                    8.0 * len(uniq) * L * (L - 1) * 3,
                    f"Fractribution on {len(uniq):,} distinct paths of {L:,} touches (every path without each touch)",
                    "Cap the path length first (Journeys.transform(max_length=...), or max_length= when "
                    "building the journeys), or use path_transform='unique' / 'first'.",
                )
                keep_idx = np.arange(L - 1)[None, :]
                drop = keep_idx + (keep_idx >= np.arange(L)[:, None])  # row t: positions without t
                cf = uniq[:, drop].reshape(-1, L - 1)  # every path without each of its touches
                p_cf = np.zeros(len(cf))
                shorter = uniq_by_len.get(L - 1)
                if shorter is not None:
                    both = np.vstack([shorter, cf])
                    _, inv = np.unique(both, axis=0, return_inverse=True)
                    inv = inv.ravel()
                    owner = np.full(inv.max() + 1, -1)
                    owner[inv[: len(shorter)]] = np.arange(len(shorter))
                    found = owner[inv[len(shorter) :]]
                    p_cf = np.where(found >= 0, prob_by_len[L - 1][np.maximum(found, 0)], 0.0)
                gain = np.maximum(p[:, None] - p_cf.reshape(len(uniq), L), 0.0)
            total = gain.sum(axis=1)
            share = np.divide(gain, total[:, None], out=np.zeros_like(gain), where=total[:, None] > 0)
            share[total <= 0, -1] = 1.0  # no gain anywhere: last touch
            rows, inv = inv_by_len[L]
            t_weight[t_offsets[rows][:, None] + np.arange(L)[None, :]] = share[inv]
        self.path_probabilities_ = _path_table(journeys.channels, table)
        # back to the original touches: a transformed touch's weight split over its group
        size = np.bincount(group[group >= 0], minlength=len(t_channel)).astype(np.float64)
        weights = np.zeros(journeys.n_touches)
        kept = group >= 0
        weights[kept] = t_weight[group[kept]] / size[group[kept]]
        return weights


def _path_table(channels: np.ndarray, table) -> pd.DataFrame:
    """Distinct transformed paths with counts and probability (for inspection)."""
    if not table:
        return pd.DataFrame({"path": [], "conversions": [], "nulls": [], "probability": []})
    codes = np.concatenate([uniq.ravel() for uniq, *_ in table])
    lengths = np.concatenate([np.full(len(uniq), uniq.shape[1]) for uniq, *_ in table])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    paths = Journeys(channels, codes, offsets, np.zeros(len(lengths)))
    try:
        strings = paths.path_strings(" > ")
    except ValueError:  # a channel name holds ">": join in Python (inspection only)
        names = np.asarray(channels, dtype=object)
        strings = np.array([" > ".join(names[codes[a:b]]) for a, b in zip(offsets[:-1], offsets[1:])], dtype=object)
    return pd.DataFrame(
        {
            "path": strings,
            "conversions": np.concatenate([c for _, c, _, _ in table]),
            "nulls": np.concatenate([n for _, _, n, _ in table]),
            "probability": np.concatenate([p for _, _, _, p in table]),
        }
    )
