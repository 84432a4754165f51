"""Lift tests, the test table, geo tests and test design (attribution.experiments)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import attribution as at
from attribution.datasets import holdout_test, simulate, simulate_geo
from attribution.exceptions import ExperimentError
from attribution.experiments import LiftTest, lift_tests_frame, read_lift_tests


# --- LiftTest and the CSV layout ------------------------------------------------------------------


def _table():
    return pd.DataFrame({
        "channel": ["video", "display"], "start": ["2026-03-01", "2026-03-01"], "end": ["2026-03-28", "2026-03-14"],
        "incremental": [120.0, -5.0], "se": [30.0, "inf"], "spend": [5000.0, None], "kind": ["holdout", "geo"],
        "outcome": ["conversions", "store_value"],
    })


def test_lift_test_fields_and_days():
    t = LiftTest("video", "2026-03-01", "2026-03-28", incremental=120.0, se=30.0, spend=5000.0)
    assert t.days == 28 and t.z == 4.0
    lo, hi = t.interval(0.9)
    assert hi - lo == pytest.approx(2 * stats.norm.ppf(0.95) * 30.0)


@pytest.mark.parametrize("kwargs, word", [
    ({"se": 0.0}, "se"), ({"se": -1.0}, "se"), ({"incremental": math.nan}, "incremental"),
    ({"kind": "survey"}, "kind"), ({"outcome": "clicks"}, "outcome"), ({"spend": -3.0}, "spend"),
    ({"end": "2026-02-01"}, "end"),
])
def test_lift_test_rejects_bad_values(kwargs, word):
    base = dict(channel="video", start="2026-03-01", end="2026-03-28", incremental=1.0, se=1.0)
    base.update(kwargs)
    with pytest.raises(ExperimentError, match=word):
        LiftTest(**base)


def test_read_lift_tests_roundtrip(tmp_path):
    tests = read_lift_tests(_table())
    assert [t.channel for t in tests] == ["video", "display"]
    assert tests[1].se == math.inf and tests[1].spend is None and tests[1].outcome == "store_value"
    path = tmp_path / "tests.csv"
    lift_tests_frame(tests).to_csv(path, index=False)
    again = read_lift_tests(path)
    assert again == tests


@pytest.mark.parametrize("column, value, fix", [
    ("se", 0.0, "standard error must be > 0"),
    ("incremental", "n/a", "Fill it"),
    ("start", "March", "YYYY-MM-DD"),
    ("kind", "survey", "Use one of"),
    ("spend", -1.0, "spend during the test"),
])
def test_read_lift_tests_names_column_rows_and_fix(column, value, fix):
    df = _table()
    df[column] = df[column].astype(object)
    df.loc[1, column] = value
    with pytest.raises(ExperimentError) as info:
        read_lift_tests(df)
    msg = str(info.value)
    assert repr(column) in msg and "Example rows" in msg and fix in msg and "display" in msg


def test_read_lift_tests_missing_column():
    with pytest.raises(ExperimentError, match=r"no column\(s\) \['se'\]"):
        read_lift_tests(_table().drop(columns="se"))


# --- holdout power -----------------------------------------------------------------------------


def _pooled_power(p0, lift, n, h, alpha):
    """The textbook closed form, written independently of the library's: the usual one-tailed
    approximation with the pooled variance under H0 and the unpooled one under H1 (Fleiss, Levin &
    Paik 2003, eq. 4.14); the library also adds the (tiny) opposite tail."""
    p1 = p0 * (1 + lift)
    n1, n0 = (1 - h) * n, h * n
    pooled = (n1 * p1 + n0 * p0) / n
    se_h0 = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    se_h1 = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    return stats.norm.cdf((abs(p1 - p0) - stats.norm.ppf(1 - alpha / 2) * se_h0) / se_h1)


@pytest.mark.parametrize("p0, lift, n", [(0.05, 0.10, 100_000), (0.02, 0.15, 200_000), (0.10, 0.05, 300_000)])
def test_holdout_power_matches_closed_form_and_simulation(p0, lift, n):
    ours = at.holdout_power(p0, lift, n, holdout=0.1, alpha=0.1)
    assert abs(ours - _pooled_power(p0, lift, n, 0.1, 0.1)) < 0.005
    n1, n0 = int(0.9 * n), int(0.1 * n)
    p1 = p0 * (1 + lift)
    z = stats.norm.ppf(0.95)

    def rejects(k1, k0):
        pbar = (k1 + k0) / (n1 + n0)
        se = np.sqrt(pbar * (1 - pbar) * (1 / n1 + 1 / n0))
        return np.abs(k1 / n1 - k0 / n0) > z * se

    # exact: enumerate both binomials over +-7 sd
    k1 = np.arange(*np.clip([n1 * p1 - 7 * math.sqrt(n1 * p1), n1 * p1 + 7 * math.sqrt(n1 * p1)], 0, n1).astype(int))
    k0 = np.arange(*np.clip([n0 * p0 - 7 * math.sqrt(n0 * p0), n0 * p0 + 7 * math.sqrt(n0 * p0)], 0, n0).astype(int))
    pmf = stats.binom.pmf(k1, n1, p1)[:, None] * stats.binom.pmf(k0, n0, p0)[None, :]
    exact = float(np.sum(pmf * rejects(k1[:, None], k0[None, :])))
    assert abs(ours - exact) < 0.005
    rng = np.random.default_rng(0)
    simulated = np.mean(rejects(rng.binomial(n1, p1, 10_000), rng.binomial(n0, p0, 10_000)))
    assert abs(ours - simulated) < 0.01
    assert 0.05 < ours < 0.99  # the cases are informative


def test_holdout_mde_inverts_power_and_se_formula():
    mde = at.holdout_mde(0.05, 100_000, holdout=0.1, alpha=0.1, power=0.8)
    assert at.holdout_power(0.05, mde, 100_000) == pytest.approx(0.8, abs=1e-9)
    assert at.holdout_mde(0.05, 400_000) == pytest.approx(mde / 2, rel=0.03)  # se ~ 1/sqrt(n)
    assert at.holdout_se(0.1, 1000, holdout=0.5) == pytest.approx(1000 * math.sqrt(0.09 * (2 / 500)))


# --- simulator holdout tests -------------------------------------------------------------------


def test_holdout_test_estimates_its_known_lift():
    sim = simulate(60_000, days=56, random_state=3)
    z = []
    for i, ch in enumerate(["display", "video", "retargeting"]):
        t = holdout_test(sim, ch, holdout=0.1, weeks=4, random_state=i)
        assert t.days == 28 and t.kind == "holdout" and t.spend > 0
        z.append((t.incremental - t.meta["true_incremental"]) / t.se)
        assert t.meta["true_incremental"] >= 0
    assert max(abs(v) for v in z) < 3.5
    # the exact truth: no channel off -> no effect; display has a real effect
    assert holdout_test(sim, "direct", random_state=0).meta["true_incremental"] == 0.0
    assert holdout_test(sim, "display", random_state=0).meta["true_incremental"] > 100


# --- geo tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["online_conversions", "store_sales"])
def test_geo_tbr_recovers_lift_with_placebo_intervals(outcome):
    err, covered, fp = [], [], []
    for s in range(12):
        p = simulate_geo(random_state=s)
        r = at.geo_test(p.data, p.treated, p.start, p.end, outcome=outcome, method="tbr", n_placebo=60, random_state=s)
        err.append(r.lift - p.true_lift(outcome))
        covered.append(r.lift_low <= p.true_lift(outcome) <= r.lift_high)
        p0 = simulate_geo(random_state=500 + s, lift=0.0)
        fp.append(at.geo_test(p0.data, p0.treated, p0.start, p0.end, outcome=outcome, n_placebo=60).p_value <= 0.1)
    assert abs(np.mean(err)) < 0.01
    assert np.mean(np.abs(err) <= 0.02) >= 0.8
    assert np.mean(covered) >= 0.75
    assert np.mean(fp) <= 0.25


def _null_panel(outcome="store_sales", seed=3):
    from attribution.experiments import _panel

    p = simulate_geo(random_state=seed, lift=0.0)
    wide = _panel(p.data, "geo", "date", outcome)
    return wide.to_numpy(float), np.asarray(wide.index < p.start), p, wide


def test_geo_randomisation_p_value_is_uniform_under_the_null():
    """Fisher's randomisation test: on one no-lift store-sales panel (AR(1) days, geos of very
    different sizes), the p-values of 300 uniformly random treated sets are uniform, so P(p <= a) is
    a; the old placebos drawn from the controls only had no such guarantee."""
    from attribution.experiments import _randomisation_inference

    Y, pre, _, _ = _null_panel()
    rng = np.random.default_rng(0)
    p = np.array([
        _randomisation_inference("tbr", Y, pre, rng.choice(Y.shape[1], 10, replace=False), 99, rng, 0.9)["p_value"]
        for _ in range(300)
    ])
    # p is on the grid k/100; P(p <= k/100) = k/100 exactly; binomial sd at 300 draws <= 2.9 pp
    for a in (0.1, 0.3, 0.5):
        assert abs(np.mean(p <= a + 1e-9) - a) < 3.3 * math.sqrt(a * (1 - a) / 300), (a, np.mean(p <= a + 1e-9))
    assert stats.kstest(p - rng.random(p.size) / 100, "uniform").pvalue > 0.001  # jittered to continuous


def test_geo_interval_inverts_the_test_and_fits_match_least_squares():
    from attribution.experiments import _fit_assignments, _randomisation_inference, _tbr

    Y, pre, panel, wide = _null_panel("online_conversions", seed=5)
    ti = np.array([list(wide.columns).index(g) for g in panel.treated])
    # the vectorised TBR fit of every assignment is the least-squares fit on the pre period
    M = np.zeros((Y.shape[1], 3))
    M[ti, 0] = 1
    M[:10, 1] = 1
    M[-7:, 2] = 1
    W, icpt = _fit_assignments("tbr", Y[pre], M)
    for k in range(3):
        t_idx, c_idx = np.flatnonzero(M[:, k]), np.flatnonzero(M[:, k] == 0)
        pred, _ = _tbr(Y[pre][:, t_idx].sum(1), Y[pre][:, c_idx], Y[:, c_idx])
        np.testing.assert_allclose(icpt[k] + Y @ W[:, k], pred, rtol=1e-9)
    # the interval's ends are where the p-value of "lift = l" crosses 1 - level
    r = _randomisation_inference("tbr", Y, pre, ti, 99, np.random.default_rng(1), 0.9)
    assert r["lift_low"] < r["lift"] < r["lift_high"]

    def p_at(lift):
        Z = Y.copy()
        Z[np.ix_(~pre, ti)] /= 1 + lift  # remove the hypothesised lift from the treated geos' test days
        return _randomisation_inference("tbr", Z, pre, ti, 99, np.random.default_rng(1), 0.9)["p_value"]

    eps = 1e-6
    for edge, inward in ((r["lift_low"], +1), (r["lift_high"], -1)):
        assert p_at(edge + inward * eps) > 0.1 >= p_at(edge - inward * eps)


def test_geo_scm_weights_non_negative_and_result_is_a_lift_test():
    p = simulate_geo(random_state=7)
    r = at.geo_test(p.data, p.treated, p.start, p.end, outcome="store_sales", method="scm", channel="video",
                    spend=p.spend, n_placebo=40)
    assert (r.weights >= 0).all() and r.weights.sum() > 0
    assert abs(r.lift - p.true_lift("store_sales")) < 0.02
    t = r.to_lift_test(outcome="store_value")
    assert t.kind == "geo" and t.outcome == "store_value" and t.incremental == r.incremental and t.spend == p.spend
    assert r.incremental_low < r.incremental < r.incremental_high
    assert "Geo test" in r._repr_html_()


def test_geo_panel_errors():
    p = simulate_geo(random_state=1)
    holey = p.data.drop(index=[5, 6])
    with pytest.raises(ExperimentError, match="not complete"):
        at.geo_test(holey, p.treated, p.start, p.end, outcome="store_sales")
    with pytest.raises(ExperimentError, match="not in the panel"):
        at.geo_test(p.data, ["nowhere"], p.start, p.end, outcome="store_sales")
    dead = p.data.assign(store_sales=np.where(p.data["geo"].isin(p.treated), 0.0, p.data["store_sales"]))
    with pytest.raises(ExperimentError, match="counterfactual for the treated geos is not positive"):
        at.geo_test(dead, p.treated, p.start, p.end, outcome="store_sales", n_placebo=19)
    bad = p.data.assign(store_sales=p.data["store_sales"].astype(object))
    bad.loc[3, "store_sales"] = "n/a"
    with pytest.raises(ExperimentError, match="store_sales"):
        at.geo_test(bad, p.treated, p.start, p.end, outcome="store_sales")


def test_geo_mde_matches_placebo_spread():
    p = simulate_geo(random_state=2, lift=0.0)
    mde = at.geo_mde(p.data, 10, 28, outcome="online_conversions", n_sim=80)
    assert 0.005 < mde < 0.06  # the geo test detects +5 % with high power on this design
