r"""Predictive customer lifetime value: BG/NBD purchase frequency and Gamma-Gamma spend.

Both models are fitted by maximum likelihood with scipy on closed-form, vectorised
log-likelihoods with analytic gradients (one pass over the customers per evaluation, so 10^6
customers fit in seconds). Parameters are optimised on the log scale (they are all positive).

Inputs are the usual RFM summary per customer, in one time unit (e.g. weeks):

* ``frequency`` :math:`x` — number of *repeat* purchases (purchases after the first);
* ``recency`` :math:`t_x` — time from the first to the last purchase (0 when :math:`x = 0`);
* ``T`` — time from the first purchase to the end of the calibration period;
* ``monetary`` :math:`\bar m_x` — mean value of the repeat purchases (Gamma-Gamma, :math:`x > 0`).

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting your customers" the easy
   way: an alternative to the Pareto/NBD model. *Marketing Science* 24(2), 275–284.
.. [2] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). RFM and CLV: using iso-value curves
   for customer base analysis. *Journal of Marketing Research* 42(4), 415–430.
.. [3] Fader, P. S. and Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
   http://www.brucehardie.com/notes/025/
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, special

from .exceptions import NotFittedError

__all__ = [
    "BetaGeoModel",
    "GammaGammaModel",
    "bgnbd_loglik",
    "bgnbd_loglik_grad",
    "gamma_gamma_loglik",
    "gamma_gamma_loglik_grad",
]


# ---------------------------------------------------------------------------------------------
# input handling
def _rfm_arrays(frequency, recency, T, weights, owner: str):
    if isinstance(frequency, pd.DataFrame):
        df = frequency
        missing = [c for c in ("frequency", "recency", "T") if c not in df.columns]
        if missing:
            raise ValueError(
                f"{owner}.fit got a DataFrame without column(s) {missing}; it needs 'frequency' "
                "(repeat purchases), 'recency' and 'T' (see CustomerTable.rfm())."
            )
        frequency, recency, T = df["frequency"], df["recency"], df["T"]
    x = np.asarray(frequency, dtype=np.float64)
    tx = np.asarray(recency, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    if not (x.shape == tx.shape == T.shape) or x.ndim != 1:
        raise ValueError(f"{owner}: frequency, recency and T must be 1-d and of equal length.")
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64)
    bad = ~np.isfinite(x) | ~np.isfinite(tx) | ~np.isfinite(T) | (x < 0) | (tx < 0) | (tx > T * (1 + 1e-9)) \
        | (x != np.round(x)) | ((x == 0) & (tx > 0))
    if bad.any():
        i = np.flatnonzero(bad)[:3]
        rows = ", ".join(f"(frequency={x[k]:g}, recency={tx[k]:g}, T={T[k]:g})" for k in i)
        raise ValueError(
            f"{owner}: {int(bad.sum())} customer(s) have an impossible RFM summary, e.g. {rows}. "
            "frequency must be a non-negative integer, 0 <= recency <= T, and recency = 0 when "
            "frequency = 0."
        )
    if len(x) == 0:
        raise ValueError(f"{owner}: no customers to fit.")
    return x, tx, T, w


def _check_fitted(model, attr="params_"):
    if not hasattr(model, attr):
        raise NotFittedError(f"This {type(model).__name__} is not fitted yet; call fit(...) first.")


# ---------------------------------------------------------------------------------------------
# BG/NBD
def _bgnbd_parts(params, x, tx, T):
    r, alpha, a, b = params
    pos = x > 0
    l3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        l4 = np.where(pos, np.log(a) - np.log(np.where(pos, b + x - 1, 1.0)) - (r + x) * np.log(alpha + tx), -np.inf)
    lse = np.logaddexp(l3, l4)
    w4 = np.exp(l4 - lse)  # share of the "dropped out after the last purchase" term
    return r, alpha, a, b, pos, l3, l4, lse, w4


def bgnbd_loglik(params, frequency, recency, T) -> np.ndarray:
    r"""BG/NBD log-likelihood of each customer.

    Parameters
    ----------
    params : sequence of 4 floats
        ``(r, alpha, a, b)``, all positive.
    frequency, recency, T : array-like
        Repeat purchases :math:`x`, time of the last purchase :math:`t_x` and length of the
        observation :math:`T`, each measured from the customer's first purchase.

    Returns
    -------
    ndarray
        :math:`\ln L_i` per customer.

    Notes
    -----
    Fader, Hardie and Lee (2005, eq. 6):

    .. math::

        L(r, \alpha, a, b \mid x, t_x, T) = \frac{B(a, b + x)}{B(a, b)}
        \frac{\Gamma(r + x)\,\alpha^r}{\Gamma(r)\,(\alpha + T)^{r + x}}
        + \delta_{x > 0}\,\frac{B(a + 1, b + x - 1)}{B(a, b)}
        \frac{\Gamma(r + x)\,\alpha^r}{\Gamma(r)\,(\alpha + t_x)^{r + x}},

    evaluated as :math:`\ln A_1 + \ln A_2 + \operatorname{logaddexp}(\ln A_3, \ln A_4)` for
    numerical stability.
    """
    x = np.asarray(frequency, dtype=np.float64)
    tx = np.asarray(recency, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    r, alpha, a, b, pos, l3, l4, lse, _ = _bgnbd_parts(params, x, tx, T)
    return (
        special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
        + special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b) - special.gammaln(a + b + x)
        + lse
    )


def bgnbd_loglik_grad(params, frequency, recency, T) -> np.ndarray:
    r"""Gradient of :func:`bgnbd_loglik` with respect to ``(r, alpha, a, b)``, per customer.

    Returns
    -------
    ndarray of shape (n_customers, 4)

    Notes
    -----
    With :math:`w` the share of the second term of the likelihood (0 when :math:`x = 0`) and
    :math:`\psi` the digamma function:
    :math:`\partial_r = \psi(r+x) - \psi(r) + \ln\alpha - (1-w)\ln(\alpha+T) - w\ln(\alpha+t_x)`,
    :math:`\partial_\alpha = r/\alpha - (r+x)[(1-w)/(\alpha+T) + w/(\alpha+t_x)]`,
    :math:`\partial_a = \psi(a+b) - \psi(a+b+x) + w/a`,
    :math:`\partial_b = \psi(a+b) + \psi(b+x) - \psi(b) - \psi(a+b+x) - w/(b+x-1)`.
    """
    x = np.asarray(frequency, dtype=np.float64)
    tx = np.asarray(recency, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    r, alpha, a, b, pos, l3, l4, lse, w = _bgnbd_parts(params, x, tx, T)
    w3 = 1.0 - w
    g = np.empty((len(x), 4))
    g[:, 0] = special.digamma(r + x) - special.digamma(r) + np.log(alpha) - w3 * np.log(alpha + T) - w * np.log(alpha + tx)
    g[:, 1] = r / alpha - (r + x) * (w3 / (alpha + T) + w / (alpha + tx))
    dab = special.digamma(a + b) - special.digamma(a + b + x)
    g[:, 2] = dab + w / a
    g[:, 3] = dab + special.digamma(b + x) - special.digamma(b) - w / np.where(pos, b + x - 1, 1.0)
    return g


# ---------------------------------------------------------------------------------------------
# Gamma-Gamma
def gamma_gamma_loglik(params, frequency, monetary) -> np.ndarray:
    r"""Gamma-Gamma log-likelihood of each customer's mean spend (customers with ``frequency > 0``).

    Parameters
    ----------
    params : sequence of 3 floats
        ``(p, q, gamma)``, all positive.
    frequency, monetary : array-like
        Number of repeat purchases :math:`x > 0` and their mean value :math:`\bar m_x > 0`.

    Notes
    -----
    Individual spends are :math:`\text{Gamma}(p, \nu)`, so :math:`x \bar m_x \sim
    \text{Gamma}(px, \nu)`; with :math:`\nu \sim \text{Gamma}(q, \gamma)` across customers,

    .. math::

        \ln L = \ln\Gamma(px + q) - \ln\Gamma(px) - \ln\Gamma(q) + q \ln\gamma
        + (px - 1)\ln \bar m_x + px \ln x - (px + q)\ln(\gamma + x \bar m_x).
    """
    p, q, g = params
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary, dtype=np.float64)
    px = p * x
    return (
        special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(g)
        + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(g + m * x)
    )


def gamma_gamma_loglik_grad(params, frequency, monetary) -> np.ndarray:
    r"""Gradient of :func:`gamma_gamma_loglik` with respect to ``(p, q, gamma)``, per customer.

    Notes
    -----
    :math:`\partial_p = x[\psi(px+q) - \psi(px) + \ln\bar m_x + \ln x - \ln(\gamma + x\bar m_x)]`,
    :math:`\partial_q = \psi(px+q) - \psi(q) + \ln\gamma - \ln(\gamma + x\bar m_x)`,
    :math:`\partial_\gamma = q/\gamma - (px+q)/(\gamma + x\bar m_x)`.
    """
    p, q, g = params
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary, dtype=np.float64)
    px = p * x
    s = special.digamma(px + q)
    lgm = np.log(g + m * x)
    out = np.empty((len(x), 3))
    out[:, 0] = x * (s - special.digamma(px) + np.log(m) + np.log(x) - lgm)
    out[:, 1] = s - special.digamma(q) + np.log(g) - lgm
    out[:, 2] = q / g - (px + q) / (g + m * x)
    return out


# ---------------------------------------------------------------------------------------------
def _fit_log_params(value_grad, x0, wsum, owner):
    """Maximise a total log-likelihood over log-parameters with L-BFGS-B; returns (params, ll, result).

    ``value_grad(params) -> (total log-likelihood, gradient of the total)``.
    """

    def fun(theta):
        p = np.exp(theta)
        ll, g = value_grad(p)
        if not np.isfinite(ll) or not np.all(np.isfinite(g)):
            return 1e300, np.zeros_like(theta)
        return -ll / wsum, -g * p / wsum

    res = optimize.minimize(fun, np.log(x0), jac=True, method="L-BFGS-B",
                            bounds=[(-15.0, 15.0)] * len(x0), options={"maxiter": 1000, "gtol": 1e-9, "ftol": 1e-14})
    if not np.isfinite(res.fun) or res.fun >= 1e299:
        raise RuntimeError(f"{owner}: maximum likelihood did not converge ({res.message}).")
    params = np.exp(res.x)
    return params, float(value_grad(params)[0]), res


def _log_param_cov(value_grad, params):
    """Inverse observed information on the log scale (central differences of the analytic gradient)."""
    k = len(params)
    theta = np.log(params)
    H = np.empty((k, k))
    for j in range(k):
        h = 1e-5
        tp, tm = theta.copy(), theta.copy()
        tp[j] += h
        tm[j] -= h
        gp = value_grad(np.exp(tp))[1] * np.exp(tp)
        gm = value_grad(np.exp(tm))[1] * np.exp(tm)
        H[:, j] = (gp - gm) / (2 * h)
    H = (H + H.T) / 2
    try:
        return np.linalg.inv(-H)
    except np.linalg.LinAlgError:
        return np.full((k, k), np.nan)


def _bgnbd_total(x, tx, T, w):
    """A closure: total BG/NBD log-likelihood and gradient, special functions on the distinct x only."""
    xu, xi = np.unique(x, return_inverse=True)
    xi = xi.ravel()
    Wx = np.bincount(xi, weights=w, minlength=len(xu))
    pos = x > 0
    posu = xu > 0
    wsum = w.sum()
    xw = w * x

    def value_grad(params):
        r, alpha, a, b = params
        lT = np.log(alpha + T)
        ltx = np.log(alpha + tx)
        l3 = -(r + x) * lT
        with np.errstate(divide="ignore", invalid="ignore"):
            lbu = np.where(posu, np.log(np.where(posu, b + xu - 1, 1.0)), 0.0)
        l4 = np.where(pos, np.log(a) - lbu[xi] - (r + x) * ltx, -np.inf)
        lse = np.logaddexp(l3, l4)
        w4 = np.exp(l4 - lse)
        w3 = 1.0 - w4
        per_x = (special.gammaln(r + xu) - special.gammaln(r) + special.gammaln(a + b) + special.gammaln(b + xu)
                 - special.gammaln(b) - special.gammaln(a + b + xu))
        ll = Wx @ per_x + r * np.log(alpha) * wsum + w @ lse
        ww4 = w * w4
        ww3 = w * w3
        g = np.empty(4)
        g[0] = Wx @ (special.digamma(r + xu) - special.digamma(r)) + np.log(alpha) * wsum - ww3 @ lT - ww4 @ ltx
        g[1] = r / alpha * wsum - (r * w + xw) @ (w3 / (alpha + T) + w4 / (alpha + tx))
        dab = special.digamma(a + b) - special.digamma(a + b + xu)
        w4x = np.bincount(xi, weights=ww4, minlength=len(xu))
        g[2] = Wx @ dab + w4x.sum() / a
        inv_b = np.where(posu, 1.0 / np.where(posu, b + xu - 1, 1.0), 0.0)
        g[3] = Wx @ (dab + special.digamma(b + xu) - special.digamma(b)) - w4x @ inv_b
        return float(ll), g

    return value_grad


def _warn_at_bound(model, res, meaning: str) -> None:
    """Warn when the optimum sits at the search bound of a log-parameter (exp(+-15))."""
    import warnings

    from .exceptions import DataQualityWarning

    at = [n for n, t in zip(model._names, res.x) if abs(t) > 14.0]
    model.at_bound_ = at
    if at:
        warnings.warn(
            f"{type(model).__name__}: the maximum-likelihood estimate of {', '.join(at)} runs to the edge of the "
            f"search range (the likelihood keeps improving as {'they grow' if len(at) > 1 else 'it grows'} without "
            f"limit); the reported value is that edge. {meaning}".rstrip() + ("" if meaning else
            "The data cannot pin this parameter down; predictions are the limit of the model."),
            DataQualityWarning, stacklevel=3,
        )


class BetaGeoModel:
    r"""BG/NBD model of repeat purchases (Fader, Hardie and Lee 2005), fitted by maximum likelihood.

    While alive a customer buys as a Poisson process with rate :math:`\lambda \sim
    \text{Gamma}(r, \alpha)`; after each purchase they drop out with probability
    :math:`p \sim \text{Beta}(a, b)`.

    Attributes
    ----------
    params_ : pandas.Series
        ``r, alpha, a, b``.
    log_likelihood_ : float
        Total (weighted) log-likelihood at the optimum.
    params_cov_ : DataFrame
        Covariance of the log-parameters (inverse observed information).
    n_customers_ : int

    Notes
    -----
    The mean purchase rate of the living is :math:`E[\lambda] = r / \alpha` per time unit; the
    mean drop-out probability :math:`a / (a + b)`. See :func:`bgnbd_loglik` for the likelihood.

    References
    ----------
    .. [1] Fader, Hardie and Lee (2005), *Marketing Science* 24(2), 275–284.

    Examples
    --------
    >>> m = BetaGeoModel().fit([2, 1, 0, 0, 3], [30.4, 1.7, 0, 0, 20.0], [38.9, 38.9, 38.9, 38.9, 38.9])
    >>> sorted(m.params_.index)
    ['a', 'alpha', 'b', 'r']
    """

    _names = ("r", "alpha", "a", "b")

    def __init__(self, initial=(1.0, 1.0, 1.0, 1.0)):
        self.initial = initial

    def fit(self, frequency, recency=None, T=None, *, weights=None) -> "BetaGeoModel":
        """Fit on per-customer ``frequency, recency, T`` (arrays, or one DataFrame with those columns)."""
        x, tx, T, w = _rfm_arrays(frequency, recency, T, weights, "BetaGeoModel")
        n = int(len(x))
        # start alpha on the time scale of the data
        x0 = np.asarray(self.initial, dtype=np.float64).copy()
        scale = float(np.average(T, weights=w)) or 1.0
        x0[1] *= scale / 10.0 if tuple(self.initial) == (1.0, 1.0, 1.0, 1.0) else 1.0
        # identical summaries share one likelihood term: fit on the unique rows with summed weights
        o = np.lexsort((T, tx, x))
        xs, txs, Ts = x[o], tx[o], T[o]
        new = np.r_[True, (xs[1:] != xs[:-1]) | (txs[1:] != txs[:-1]) | (Ts[1:] != Ts[:-1])]
        if new.sum() < 0.8 * len(x):
            group = np.cumsum(new) - 1
            w = np.bincount(group, weights=w[o])
            x, tx, T = xs[new], txs[new], Ts[new]
        vg = _bgnbd_total(x, tx, T, w)
        params, ll, res = _fit_log_params(vg, x0, w.sum(), "BetaGeoModel")
        self.params_ = pd.Series(params, index=list(self._names), name="BG/NBD")
        self.log_likelihood_ = ll
        self.n_customers_ = n
        self.converged_ = bool(res.success)
        _warn_at_bound(self, res, "The drop-out probability a/(a+b) is then about 0: no drop-out is detectable, "
                       "so expected purchases assume every customer stays (check whether the data are selected on "
                       "recent activity)" if res.x[3] > 14 else "")
        self._value_grad = vg  # for the covariance, computed on first use
        self._cov = None
        return self

    @property
    def params_cov_(self) -> pd.DataFrame:
        """Covariance of the log-parameters: inverse observed information (computed on first use)."""
        _check_fitted(self)
        if self._cov is None:
            cov = _log_param_cov(self._value_grad, self.params_.to_numpy())
            names = [f"log_{n}" for n in self._names]
            self._cov = pd.DataFrame(cov, index=names, columns=names)
        return self._cov

    # ------------------------------------------------------------------ predictions
    def _p(self):
        _check_fitted(self)
        return self.params_.to_numpy()

    def mean_rate(self, level: float = 0.9) -> pd.Series:
        r"""Mean purchase rate of living customers, :math:`r/\alpha`, with a delta-method interval.

        The interval is :math:`\exp(\ln(r/\alpha) \pm z\,\sigma)` with :math:`\sigma^2 =
        \operatorname{Var}\ln r + \operatorname{Var}\ln\alpha - 2\operatorname{Cov}` from
        :attr:`params_cov_`.
        """
        r, alpha, _, _ = self._p()
        c = self.params_cov_.to_numpy()
        sd = float(np.sqrt(max(c[0, 0] + c[1, 1] - 2 * c[0, 1], 0.0)))
        z = special.ndtri(0.5 + level / 2)
        est = r / alpha
        return pd.Series({"rate": est, "low": est * np.exp(-z * sd), "high": est * np.exp(z * sd), "log_sd": sd})

    def expected_purchases_new(self, t) -> np.ndarray:
        r"""Expected purchases in :math:`(0, t]` of a new customer: :math:`E[X(t)]`.

        .. math:: E[X(t)] = \frac{a+b-1}{a-1}\left[1 - \left(\frac{\alpha}{\alpha+t}\right)^r
                  {}_2F_1\left(r, b; a+b-1; \frac{t}{\alpha+t}\right)\right]
        """
        r, alpha, a, b = self._p()
        t = np.asarray(t, dtype=np.float64)
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1, t / (alpha + t)))

    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        r""":math:`P(\text{alive} \mid x, t_x, T) = 1 / (1 + \delta_{x>0}\frac{a}{b+x-1}
        (\frac{\alpha+T}{\alpha+t_x})^{r+x})`."""
        r, alpha, a, b = self._p()
        x = np.asarray(frequency, dtype=np.float64)
        tx = np.asarray(recency, dtype=np.float64)
        T = np.asarray(T, dtype=np.float64)
        pos = x > 0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lr = np.log(a) - np.log(np.where(pos, b + x - 1, 1.0)) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        return np.where(pos, 1.0 / (1.0 + np.exp(np.minimum(lr, 700.0))), 1.0)

    def predict(self, t, frequency, recency, T) -> np.ndarray:
        r"""Expected purchases in :math:`(T, T + t]` given the history (Fader et al. 2005, eq. 10).

        .. math:: E[Y(t) \mid x, t_x, T] = \frac{\frac{a+b+x-1}{a-1}\left[1 -
            \left(\frac{\alpha+T}{\alpha+T+t}\right)^{r+x} {}_2F_1\left(r+x, b+x; a+b+x-1;
            \frac{t}{\alpha+T+t}\right)\right]}{1 + \delta_{x>0}\frac{a}{b+x-1}
            \left(\frac{\alpha+T}{\alpha+t_x}\right)^{r+x}}
        """
        r, alpha, a, b = self._p()
        x = np.asarray(frequency, dtype=np.float64)
        T = np.asarray(T, dtype=np.float64)
        t = np.asarray(t, dtype=np.float64)
        z = t / (alpha + T + t)
        head = (a + b + x - 1) / (a - 1)
        body = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * special.hyp2f1(r + x, b + x, a + b + x - 1, z)
        return head * body * self.probability_alive(x, recency, T)

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return "BetaGeoModel()"
        p = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"BetaGeoModel({p}; log-likelihood {self.log_likelihood_:.2f} on {self.n_customers_:,} customers)"


class GammaGammaModel:
    r"""Gamma-Gamma model of the mean order value (Fader, Hardie and Lee 2005; Fader and Hardie 2013).

    Attributes
    ----------
    params_ : pandas.Series
        ``p, q, gamma``.
    log_likelihood_ : float
    n_customers_ : int
        Customers with at least one repeat purchase (the only ones the model uses).

    Notes
    -----
    Assumes spend is independent of purchase frequency (check the correlation of ``frequency``
    and ``monetary`` before relying on it). The conditional expectation of a customer's mean
    order value is

    .. math:: E[M \mid \bar m_x, x] = \frac{q - 1}{px + q - 1}\,\frac{p\gamma}{q - 1}
              + \frac{px}{px + q - 1}\,\bar m_x,

    a weighted mean of the population mean :math:`p\gamma/(q-1)` and the customer's own mean.
    """

    _names = ("p", "q", "gamma")

    def __init__(self, initial=(1.0, 1.0, 1.0)):
        self.initial = initial

    def fit(self, frequency, monetary=None, *, weights=None) -> "GammaGammaModel":
        """Fit on customers with ``frequency > 0`` (others are ignored and counted in ``n_ignored_``)."""
        if isinstance(frequency, pd.DataFrame):
            df = frequency
            frequency, monetary = df["frequency"], df["monetary"]
        x = np.asarray(frequency, dtype=np.float64)
        m = np.asarray(monetary, dtype=np.float64)
        w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64)
        use = (x > 0) & np.isfinite(m)
        bad = use & (m <= 0)
        if bad.any():
            raise ValueError(
                f"GammaGammaModel: {int(bad.sum())} repeat customer(s) have a non-positive mean order value "
                "('monetary'); the Gamma-Gamma model needs positive spends. Drop zero-value orders first."
            )
        if not use.any():
            raise ValueError("GammaGammaModel: no customer with a repeat purchase (frequency > 0) to fit on.")
        x, m, w = x[use], m[use], w[use]
        x0 = np.asarray(self.initial, dtype=np.float64).copy()
        if tuple(self.initial) == (1.0, 1.0, 1.0):
            x0 = np.array([1.0, 2.0, float(np.average(m, weights=w))])
        xu, xi = np.unique(x, return_inverse=True)
        xi = xi.ravel()
        Wx = np.bincount(xi, weights=w, minlength=len(xu))
        lm = np.log(m)
        wlm_x = np.bincount(xi, weights=w * lm, minlength=len(xu))  # sum of w ln m per distinct x
        wsum, mx = w.sum(), m * x

        def vg(params):
            # the closed form of gamma_gamma_loglik / _grad, special functions on the distinct x only
            p, q, g = params
            pxu = p * xu
            lg = np.log(g + mx)
            ll = (Wx @ (special.gammaln(pxu + q) - special.gammaln(pxu) + pxu * np.log(xu)) - special.gammaln(q) * wsum
                  + q * np.log(g) * wsum + (pxu - 1) @ wlm_x - (w * (p * x + q)) @ lg)
            su = special.digamma(pxu + q)
            wlg_x = np.bincount(xi, weights=w * lg, minlength=len(xu))
            grad = np.array([
                xu @ (Wx * (su - special.digamma(pxu) + np.log(xu))) + xu @ wlm_x - xu @ wlg_x,
                Wx @ su - special.digamma(q) * wsum + np.log(g) * wsum - wlg_x.sum(),
                q / g * wsum - (w * (p * x + q)) @ (1.0 / (g + mx)),
            ])
            return float(ll), grad

        params, ll, res = _fit_log_params(vg, x0, w.sum(), "GammaGammaModel")
        self.params_ = pd.Series(params, index=list(self._names), name="Gamma-Gamma")
        self.log_likelihood_ = ll
        self.n_customers_ = int(use.sum())
        _warn_at_bound(self, res, "")
        self.n_ignored_ = int((~use).sum()) if weights is None else int(len(use) - use.sum())
        self.converged_ = bool(res.success)
        return self

    def expected_order_value(self, frequency, monetary) -> np.ndarray:
        """Conditional expected mean order value; the population mean for customers without repeats."""
        _check_fitted(self)
        p, q, g = self.params_.to_numpy()
        x = np.asarray(frequency, dtype=np.float64)
        m = np.nan_to_num(np.asarray(monetary, dtype=np.float64))
        pop = p * g / (q - 1) if q > 1 else np.nan
        return np.where(x > 0, (q - 1) / (p * x + q - 1) * pop + p * x / (p * x + q - 1) * m, pop)

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return "GammaGammaModel()"
        p = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"GammaGammaModel({p}; log-likelihood {self.log_likelihood_:.2f} on {self.n_customers_:,} customers)"


def lifetime_value(bgnbd: BetaGeoModel, gamma_gamma: GammaGammaModel | None, rfm: pd.DataFrame, horizon: float,
                   *, discount_rate: float = 0.0, steps: int = 12) -> pd.DataFrame:
    r"""Expected purchases and value per customer over the next ``horizon`` time units.

    Parameters
    ----------
    bgnbd, gamma_gamma : fitted models
        ``gamma_gamma=None`` uses each customer's own mean order value (``monetary``, or
        ``first_value`` without repeats).
    rfm : DataFrame
        ``frequency, recency, T`` and ``monetary`` per customer (see ``CustomerTable.rfm``).
    horizon : float
        In the time unit of ``rfm``.
    discount_rate : float, default 0
        Discount rate per ``horizon / steps``; the horizon is cut into ``steps`` equal parts and
        the expected purchases of part :math:`k` are discounted by :math:`(1 + d)^{-k}`.

    Returns
    -------
    DataFrame
        ``p_alive, expected_purchases, expected_order_value, expected_value`` indexed like ``rfm``.

    Notes
    -----
    :math:`CLV_i = E[M_i] \sum_k (1 + d)^{-k} (E[Y_i(t_k)] - E[Y_i(t_{k-1})])`, assuming spend
    independent of the purchase process (the Gamma-Gamma assumption).
    """
    x, tx, T = rfm["frequency"].to_numpy(float), rfm["recency"].to_numpy(float), rfm["T"].to_numpy(float)
    if gamma_gamma is not None:
        aov = gamma_gamma.expected_order_value(x, rfm["monetary"].to_numpy(float))
    else:
        own = rfm["monetary"].to_numpy(float) if "monetary" in rfm else np.full(len(x), np.nan)
        fallback = rfm["first_value"].to_numpy(float) if "first_value" in rfm else np.zeros(len(x))
        aov = np.where(x > 0, own, fallback)
    if discount_rate:
        edges = np.linspace(0.0, horizon, steps + 1)
        cum = np.stack([bgnbd.predict(t, x, tx, T) if t > 0 else np.zeros(len(x)) for t in edges])
        inc = np.diff(cum, axis=0)
        disc = (1.0 + discount_rate) ** -np.arange(1, steps + 1)
        ep_disc = disc @ inc
        ep = cum[-1]
    else:
        ep = ep_disc = bgnbd.predict(horizon, x, tx, T)
    return pd.DataFrame({
        "p_alive": bgnbd.probability_alive(x, tx, T),
        "expected_purchases": ep,
        "expected_order_value": aov,
        "expected_value": ep_disc * aov,
    }, index=rfm.index)


# ---------------------------------------------------------------------------------------------
# journeys valued at lifetime value (value="clv" in compare and channel_roi)
# ---------------------------------------------------------------------------------------------


def clv_journeys(journeys, clv) -> object:
    """Journeys whose value is lifetime value: the expected future value goes to the acquisition journey.

    Parameters
    ----------
    journeys : Journeys
        Built with ``Journeys.from_events`` (customers and conversion times).
    clv : CLVResult or Series
        Expected *future* value per customer (``CLVResult.customers["expected_value"]`` or a
        Series indexed by the journeys' customer names).

    Returns
    -------
    Journeys
        Same journeys; each converting journey keeps its observed value and the journey of a
        customer's first conversion also carries that customer's expected future value, so the
        total value is historical revenue + predicted future revenue (lifetime value) and a
        model's value credit reads as lifetime value credit. Customers absent from ``clv`` add 0
        (counted in ``result.clv_missing``).

    Notes
    -----
    :math:`v'_j = v_j + \\delta_{j = \\text{first}(i)}\\,E[\\text{future value}_i]`. Conservation
    holds for the new values: every model's value credits sum to :math:`\\sum_j v'_j`.
    """
    from .journeys import Journeys

    if not isinstance(journeys, Journeys):
        raise TypeError(f"clv_journeys expects Journeys; got {type(journeys).__name__}.")
    if journeys.customer is None or journeys.conversion_time is None:
        raise ValueError("value='clv' needs journeys built with Journeys.from_events (customers and conversion "
                         "times); path tables have neither.")
    future = (clv.customers["expected_value"] if isinstance(getattr(clv, "customers", None), pd.DataFrame)  # a CLVResult
              else pd.Series(clv, dtype=float))
    future.index = future.index.astype(str)
    jc = np.asarray(journeys.customer, dtype=object).astype(str)
    conv = np.asarray(journeys.conversions) > 0
    idx = np.flatnonzero(conv)
    frame = pd.DataFrame({"c": jc[idx], "t": journeys.conversion_time[idx], "j": idx}).sort_values(["c", "t"], kind="stable")
    first = frame.drop_duplicates("c")
    add = future.reindex(first["c"].to_numpy())
    missing = int(add.isna().sum())
    value = np.asarray(journeys.value, dtype=np.float64).copy()
    np.add.at(value, first["j"].to_numpy(), add.fillna(0.0).to_numpy())
    out = journeys._replace(value=value)
    out.clv_missing = missing
    return out
