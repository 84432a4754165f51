"""BG/NBD and Gamma-Gamma: hand-computed likelihoods, analytic gradients, CDNOW published fit, lifetimes parity."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attribution.clv import (
    BetaGeoModel,
    GammaGammaModel,
    bgnbd_loglik,
    bgnbd_loglik_grad,
    gamma_gamma_loglik,
    gamma_gamma_loglik_grad,
)
from attribution.exceptions import NotFittedError


def _cdnow() -> pd.DataFrame:
    """The CDNOW summary shipped in the lifetimes package (read as a data file; skip without it)."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("lifetimes")
    except Exception:  # noqa: BLE001
        spec = None
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("lifetimes (dev extra) is not installed: it ships the CDNOW summary data")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "cdnow_customers_summary_with_transactions.csv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return pd.read_csv(path)


def _bgnbd_by_hand(r, alpha, a, b, x, tx, T):
    """Fader, Hardie & Lee (2005) eq. 6, term by term with math.lgamma."""
    lbeta = lambda p, q: math.lgamma(p) + math.lgamma(q) - math.lgamma(p + q)  # noqa: E731
    a1 = math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha)
    first = math.exp(lbeta(a, b + x) - lbeta(a, b) + a1 - (r + x) * math.log(alpha + T))
    second = 0.0
    if x > 0:
        second = math.exp(lbeta(a + 1, b + x - 1) - lbeta(a, b) + a1 - (r + x) * math.log(alpha + tx))
    return math.log(first + second)


@pytest.mark.parametrize("x,tx,T", [(0, 0.0, 38.86), (2, 30.43, 38.86), (1, 1.71, 38.86), (7, 35.0, 36.0)])
def test_bgnbd_loglik_matches_hand_computation(x, tx, T):
    params = (0.243, 4.414, 0.793, 2.426)
    got = bgnbd_loglik(params, [x], [tx], [T])[0]
    assert got == pytest.approx(_bgnbd_by_hand(*params, x, tx, T), rel=1e-12)


def test_bgnbd_x0_is_poisson_gamma_survival():
    # with no repeat purchase, L = (alpha / (alpha + T))^r exactly
    r, alpha = 0.7, 3.0
    got = bgnbd_loglik((r, alpha, 0.5, 2.0), [0], [0.0], [10.0])[0]
    assert got == pytest.approx(r * math.log(alpha / (alpha + 10.0)), rel=1e-12)


def test_gamma_gamma_loglik_matches_hand_computation():
    p, q, g = 6.25, 3.74, 15.44
    x, m = 3.0, 22.35
    want = (math.lgamma(p * x + q) - math.lgamma(p * x) - math.lgamma(q) + q * math.log(g)
            + (p * x - 1) * math.log(m) + p * x * math.log(x) - (p * x + q) * math.log(g + m * x))
    assert gamma_gamma_loglik((p, q, g), [x], [m])[0] == pytest.approx(want, rel=1e-12)
    # it is the density of the mean of x Gamma(p, nu) spends integrated over nu ~ Gamma(q, g): check numerically
    from scipy import integrate, stats

    dens = integrate.quad(lambda nu: stats.gamma.pdf(m, p * x, scale=1 / (nu * x)) * stats.gamma.pdf(nu, q, scale=1 / g), 0, np.inf)[0]
    assert math.log(dens) == pytest.approx(want, rel=1e-6)


def _fd(f, params, h=1e-6):
    params = np.asarray(params, float)
    out = []
    for j in range(len(params)):
        e = np.zeros_like(params)
        e[j] = h * max(1.0, abs(params[j]))
        out.append((f(params + e) - f(params - e)) / (2 * e[j]))
    return np.stack(out, axis=-1)


def test_bgnbd_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 8, 50).astype(float)
    T = rng.uniform(5, 40, 50)
    tx = np.where(x > 0, rng.uniform(0, 1, 50) * T, 0.0)
    params = np.array([0.6, 5.0, 0.9, 2.5])
    num = _fd(lambda p: bgnbd_loglik(p, x, tx, T), params)
    np.testing.assert_allclose(bgnbd_loglik_grad(params, x, tx, T), num, rtol=1e-5, atol=1e-7)


def test_gamma_gamma_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    x = rng.integers(1, 10, 40).astype(float)
    m = rng.gamma(3, 10, 40)
    params = np.array([5.0, 3.5, 12.0])
    num = _fd(lambda p: gamma_gamma_loglik(p, x, m), params)
    np.testing.assert_allclose(gamma_gamma_loglik_grad(params, x, m), num, rtol=1e-5, atol=1e-7)


def test_cdnow_matches_published_fit_and_lifetimes():
    d = _cdnow()
    m = BetaGeoModel().fit(d["x"], d["t_x"], d["T"])
    # Fader, Hardie & Lee (2005), Table/§4: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4
    np.testing.assert_allclose(m.params_.to_numpy(), [0.243, 4.414, 0.793, 2.426], atol=0.005)
    assert m.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    lifetimes = pytest.importorskip("lifetimes")
    ref = lifetimes.BetaGeoFitter().fit(d["x"], d["t_x"], d["T"])
    ref_ll = bgnbd_loglik(ref.params_[["r", "alpha", "a", "b"]].to_numpy(), d["x"], d["t_x"], d["T"]).sum()
    assert m.log_likelihood_ >= ref_ll - 1e-6
    # predictions agree with the reference implementation's closed forms
    np.testing.assert_allclose(
        m.predict(39, d["x"], d["t_x"], d["T"]),
        ref.conditional_expected_number_of_purchases_up_to_time(39, d["x"], d["t_x"], d["T"]).to_numpy(), rtol=1e-4)
    np.testing.assert_allclose(m.probability_alive(d["x"], d["t_x"], d["T"]),
                               ref.conditional_probability_alive(d["x"], d["t_x"], d["T"]), rtol=1e-4)
    assert m.expected_purchases_new(39) == pytest.approx(ref.expected_number_of_purchases_up_to_time(39), rel=1e-4)


def test_cdnow_gamma_gamma_matches_published_fit():
    d = _cdnow()
    rep = d[d["x"] > 0]
    g = GammaGammaModel().fit(rep["x"], rep["zbar"])
    # Fader & Hardie (2013) note 025: p = 6.25, q = 3.74, gamma = 15.44
    np.testing.assert_allclose(g.params_.to_numpy(), [6.25, 3.74, 15.44], atol=0.01)
    lifetimes = pytest.importorskip("lifetimes")
    ref = lifetimes.GammaGammaFitter().fit(rep["x"], rep["zbar"])
    assert g.log_likelihood_ >= gamma_gamma_loglik(ref.params_.to_numpy(), rep["x"], rep["zbar"]).sum() - 1e-6


def test_probability_alive_and_prediction_golden():
    m = BetaGeoModel()
    m.params_ = pd.Series([0.243, 4.414, 0.793, 2.426], index=["r", "alpha", "a", "b"])
    # no repeat purchase: always alive in BG/NBD
    assert m.probability_alive([0], [0.0], [30.0])[0] == 1.0
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    x, tx, T = 2, 30.43, 38.86
    want = 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x))
    assert m.probability_alive([x], [tx], [T])[0] == pytest.approx(want, rel=1e-12)
    # predictions grow with the horizon and vanish at 0
    assert m.predict(0.0, [x], [tx], [T])[0] == pytest.approx(0.0, abs=1e-12)
    assert m.predict(10.0, [x], [tx], [T])[0] < m.predict(20.0, [x], [tx], [T])[0]


def test_weights_equal_repeated_rows():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 5, 300).astype(float)
    T = np.full(300, 30.0)
    tx = np.where(x > 0, rng.uniform(0, 30, 300), 0.0)
    w = rng.integers(1, 4, 300)
    a = BetaGeoModel().fit(x, tx, T, weights=w)
    b = BetaGeoModel().fit(np.repeat(x, w), np.repeat(tx, w), np.repeat(T, w))
    np.testing.assert_allclose(a.params_.to_numpy(), b.params_.to_numpy(), rtol=1e-4)


def test_bad_inputs_and_unfitted():
    with pytest.raises(ValueError, match="impossible RFM"):
        BetaGeoModel().fit([1, 0], [5.0, 2.0], [10.0, 10.0])  # recency > 0 without repeats
    with pytest.raises(ValueError, match="impossible RFM"):
        BetaGeoModel().fit([1], [12.0], [10.0])  # recency > T
    with pytest.raises(NotFittedError):
        BetaGeoModel().predict(1.0, [0], [0.0], [1.0])
    with pytest.raises(ValueError, match="non-positive"):
        GammaGammaModel().fit([1, 2], [0.0, 5.0])


def test_fast_totals_equal_per_customer_sums():
    from attribution.clv import _bgnbd_total

    rng = np.random.default_rng(3)
    x = rng.integers(0, 6, 200).astype(float)
    T = rng.uniform(5, 40, 200)
    tx = np.where(x > 0, rng.uniform(0, 1, 200) * T, 0.0)
    w = rng.uniform(0.5, 2, 200)
    params = np.array([0.6, 5.0, 0.9, 2.5])
    ll, g = _bgnbd_total(x, tx, T, w)(params)
    assert ll == pytest.approx(w @ bgnbd_loglik(params, x, tx, T), rel=1e-12)
    np.testing.assert_allclose(g, w @ bgnbd_loglik_grad(params, x, tx, T), rtol=1e-10)
    # Gamma-Gamma: the fitted optimum of the fast path is a stationary point of the per-customer likelihood
    m = rng.gamma(3, 10, 200)
    xg = np.maximum(x, 1)
    gg = GammaGammaModel().fit(xg, m)
    assert gg.log_likelihood_ == pytest.approx(gamma_gamma_loglik(gg.params_.to_numpy(), xg, m).sum(), rel=1e-12)
    grad = gamma_gamma_loglik_grad(gg.params_.to_numpy(), xg, m).sum(axis=0) * gg.params_.to_numpy()
    assert np.all(np.abs(grad) < 1e-3 * len(m))


def test_warns_when_drop_out_is_not_identifiable():
    # everybody bought at the very end (recency = T) and rates barely vary: parameters run to the bound
    from attribution.exceptions import DataQualityWarning

    rng = np.random.default_rng(4)
    x = rng.integers(1, 8, 400).astype(float)
    T = rng.uniform(20, 40, 400)
    with pytest.warns(DataQualityWarning, match="edge of the search range"):
        m = BetaGeoModel().fit(x, T, T)
    assert m.at_bound_  # here r and alpha (no rate heterogeneity) or b (no drop-out) run away
