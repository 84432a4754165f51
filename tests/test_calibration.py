"""calibrate(): lift tests correct credit, ROI and plans (attribution.calibration)."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import attribution as at
from attribution.calibration import BASELINE_ROW
from attribution.datasets import holdout_test, simulate, simulate_geo
from attribution.exceptions import ExperimentError
from attribution.experiments import LiftTest
from attribution.models.base import NO_TOUCH

SIX = ["paid_search_brand", "paid_search_generic", "display", "social", "video", "retargeting"]


def _credits():
    return pd.DataFrame({"conversions": [100.0, 50.0], "value": [1000.0, 500.0]},
                        index=pd.Index(["search", "video"], name="channel"))


def _test(**kw):
    base = dict(channel="search", start="2026-03-01", end="2026-03-28", incremental=40.0, se=10.0)
    base.update(kw)
    return LiftTest(**base)


def test_hand_computed_normal_normal_case():
    # F = 0.4, v = 0.01; tau = 0.2; mu ~ N(1, 1): w = 1/(0.01 + 0.04) = 20
    cal = at.calibrate(_credits(), [_test()], tau=0.2, prior_sd=1.0, pool_tested=True)
    mu, var_mu = 9 / 21, 1 / 21
    B = 0.01 / 0.05
    f_search = B * mu + (1 - B) * 0.4
    f = cal.factors
    assert f.loc["search", "factor"] == pytest.approx(f_search, abs=1e-12)
    assert f.loc["search", "factor_sd"] ** 2 == pytest.approx(0.04 * 0.01 / 0.05 + B**2 * var_mu, abs=1e-12)
    assert f.loc["video", "factor"] == pytest.approx(mu, abs=1e-12)
    assert f.loc["video", "factor_sd"] ** 2 == pytest.approx(0.04 + var_mu, abs=1e-12)
    cr = cal.credits
    assert cr.loc["search", "conversions"] == pytest.approx(100 * f_search)
    assert cr.loc["video", "value"] == pytest.approx(500 * mu)
    z = stats.norm.ppf(0.95)
    assert cr.loc["video", "conversions_high"] - cr.loc["video", "conversions"] == pytest.approx(z * 50 * math.sqrt(0.04 + var_mu))
    # conservation: the baseline takes what no channel caused
    assert cr[["conversions", "value"]].sum().tolist() == pytest.approx([150.0, 1500.0])
    assert cr.loc[BASELINE_ROW, "conversions"] == pytest.approx(150 - 100 * f_search - 50 * mu)
    assert cal.credits.attrs["estimand"] == "incremental"
    # the default: the tested channel rests on its own test and the prior N(1, 1 + 0.2^2); the untested
    # channel is still predicted from the hierarchy (same mu and tau)
    own = at.calibrate(_credits(), [_test()], tau=0.2, prior_sd=1.0)
    pv = 1.04
    assert own.factors.loc["search", "factor"] == pytest.approx((1 / pv + 0.4 / 0.01) / (1 / pv + 1 / 0.01), abs=1e-12)
    assert own.factors.loc["search", "factor_sd"] ** 2 == pytest.approx(1 / (1 / pv + 1 / 0.01), abs=1e-12)
    assert own.factors.loc["video", "factor"] == pytest.approx(mu, abs=1e-12)
    assert own.factors.loc["video", "factor_sd"] ** 2 == pytest.approx(0.04 + var_mu, abs=1e-12)
    assert own.credits[["conversions", "value"]].sum().tolist() == pytest.approx([150.0, 1500.0])


def test_precise_test_sets_the_tested_channel():
    cal = at.calibrate(_credits(), [_test(se=1e-6)])
    assert cal.credits.loc["search", "conversions"] == pytest.approx(40.0, abs=1e-6)


def test_two_tests_of_one_channel_pool_by_inverse_variance():
    cal = at.calibrate(_credits(), [_test(incremental=40.0, se=10.0), _test(incremental=60.0, se=10.0)], tau=0.0)
    assert cal.factors.loc["search", "test_factor"] == pytest.approx(0.5)
    assert cal.factors.loc["search", "test_factor_se"] == pytest.approx(math.sqrt(0.005))


@pytest.mark.parametrize("se", [1e12, math.inf])
def test_infinite_se_reproduces_the_uncalibrated_run(se):
    sim = simulate(4000, days=42, random_state=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        j = sim.journeys()
    m = at.get_model("linear").fit(j)
    tests = [dataclasses.replace(holdout_test(sim, c, random_state=1), se=se) for c in ("display", "retargeting")]
    cal = at.calibrate(m, tests, journeys=j, costs=sim.costs, n_boot=20)
    before = m.credits_.drop(index=NO_TOUCH)
    after = cal.credits.loc[before.index]
    assert np.abs(after[["conversions", "value"]].to_numpy() - before[["conversions", "value"]].to_numpy()).max() < 1e-9
    assert cal.credits.loc[NO_TOUCH, "conversions"] == m.credits_.loc[NO_TOUCH, "conversions"]
    assert abs(cal.credits.loc[BASELINE_ROW, "conversions"]) < 1e-9
    roi = cal.roi().table
    a = roi[roi["model"].str.contains("uncalibrated")].set_index("channel")["roi"]
    b = roi[~roi["model"].str.contains("uncalibrated")].set_index("channel")["roi"]
    np.testing.assert_allclose(a.reindex(b.index).to_numpy(), b.to_numpy(), atol=1e-9)
    plan = cal.plan_budget(float(sim.costs["cost"].sum()), n_draws=0)
    np.testing.assert_allclose(plan.allocation["planned"].to_numpy(),
                               plan.uncalibrated.allocation["planned"].reindex(plan.allocation.index).to_numpy(), atol=1e-9)


def _incremental_model():
    """A model honouring the incremental contract of issue 12 (estimand_, baseline row, credit_intervals_)."""
    j = at.Journeys.from_paths(pd.DataFrame({"path": ["a > b", "b", "a"], "total_conversions": [30, 10, 5],
                                             "total_null": [70, 90, 95], "total_conversion_value": [300.0, 100.0, 50.0]}))
    m = at.get_model("linear").fit(j)
    cr = m.credits_.copy()
    cr.loc["a", ["conversions", "value"]] = [12.0, 120.0]
    cr.loc["b", ["conversions", "value"]] = [8.0, 80.0]
    cr.loc[BASELINE_ROW] = [25.0, 250.0] + ([0.0] * (cr.shape[1] - 2))
    m.credits_ = cr
    m.estimand_ = "incremental"
    m.credit_intervals_ = pd.DataFrame({"conversions_low": [9.0, 6.0], "conversions_high": [15.0, 10.0],
                                        "value_low": [90.0, 60.0], "value_high": [150.0, 100.0]},
                                       index=pd.Index(["a", "b"], name="channel"))
    return m


def test_incremental_model_contract_and_conservation():
    m = _incremental_model()
    cal = at.calibrate(m, [LiftTest("a", "2026-01-01", "2026-01-31", incremental=6.0, se=1.0)])
    assert list(cal.credits.index) == ["a", "b", BASELINE_ROW]
    assert cal.credits[["conversions", "value"]].sum().tolist() == pytest.approx([45.0, 450.0])
    # the model's own interval (sd = 3 / 1.645 on 12) enters the tested channel's factor variance
    r = 3.0 / stats.norm.ppf(0.95) / 12.0
    assert cal.factors.loc["a", "model_rel_se"] == pytest.approx(r)
    assert cal.factors.loc["a", "test_factor_se"] == pytest.approx(math.sqrt((1 / 12) ** 2 + (0.5 * r) ** 2))
    assert cal.estimand == "incremental" and cal.uncalibrated.attrs["estimand"] == "incremental"
    assert cal.credits.loc["a", "conversions"] < 12.0  # pulled towards the test (6)


def test_errors_name_the_problem():
    with pytest.raises(ExperimentError, match="Did you mean 'search'"):
        at.calibrate(_credits(), [_test(channel="serch")])
    with pytest.raises(ExperimentError, match="place_credits_"):
        at.calibrate(_credits(), [_test(outcome="store_value")])
    zero = _credits()
    zero.loc["search", "conversions"] = 0.0
    with pytest.raises(ExperimentError, match="positive credit"):
        at.calibrate(zero, [_test()])
    with pytest.raises(ValueError, match="unfitted"):
        at.calibrate(at.get_model("linear"), [_test()])


def test_lift_tests_correct_markov_on_a_simulated_world():
    """Fast version of benchmarks/bench_calibration.py study 1 (200 seeds there)."""
    before_t = after_t = before_u = after_u = 0.0
    covered = []
    for seed in range(3):
        sim = simulate(100_000, days=56, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            j = sim.journeys()
            m = at.get_model("markov").fit(j)
        truth = sim.truth()["conversions"]
        tests = [holdout_test(sim, c, holdout=0.1, weeks=4, random_state=seed + 10_000 * (i + 1))
                 for i, c in enumerate(["display", "retargeting"])]
        cal = at.calibrate(m, tests, journeys=j, costs=sim.costs, n_boot=0)
        cr, un = cal.credits, cal.uncalibrated
        for ch in SIX:
            eb, ea = abs(un.loc[ch, "conversions"] - truth[ch]), abs(cr.loc[ch, "conversions"] - truth[ch])
            if ch in ("display", "retargeting"):
                before_t, after_t = before_t + eb, after_t + ea
                covered.append(cr.loc[ch, "conversions_low"] <= truth[ch] <= cr.loc[ch, "conversions_high"])
            else:
                before_u, after_u = before_u + eb, after_u + ea
    # the acceptance figure (>= 50 % lower over 200 seeds) is measured by the benchmark; 3 seeds of
    # test noise (se ~40 % of display's effect) only show a large reduction
    assert after_t <= 0.6 * before_t
    assert after_u <= 1.05 * before_u
    assert np.mean(covered) >= 4 / 6


def test_next_test_ranking_and_predicted_shrinkage():
    n = 100_000
    sim = simulate(n, days=56, random_state=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        j = sim.journeys()
        m = at.get_model("markov").fit(j)
    tests = [holdout_test(sim, c, random_state=i) for i, c in enumerate(["display", "retargeting"])]
    cal = at.calibrate(m, tests, journeys=j, costs=sim.costs, n_boot=0)
    spend = sim.costs.groupby("channel")["cost"].sum()
    late = pd.to_datetime(sim.costs["date"]) >= pd.Timestamp("2026-03-01") + pd.Timedelta(days=28)
    late_spend = sim.costs[late].groupby("channel")["cost"].sum()
    rate = tests[0].meta["rate_exposed"]
    se = {c: at.holdout_se(rate, n, holdout=0.1) * spend[c] / late_spend[c] for c in spend.index}
    rank = cal.next_tests(expected_se=se)
    top = rank.index[0]
    # the widest factor interval (an untested channel) and the largest spend share rank first
    assert rank.loc[top, "spend_share"] == rank.loc[~rank["tested"], "spend_share"].max()
    assert rank.loc[top, "factor_sd"] == pytest.approx(rank["factor_sd"].max())
    assert (rank["score"].diff().dropna() <= 1e-15).all()
    cal2 = at.calibrate(m, tests + [holdout_test(sim, top, random_state=9)], journeys=j, costs=sim.costs, n_boot=0)
    actual = cal2.factors.loc[top, "factor_sd"] / cal.factors.loc[top, "factor_sd"]
    assert actual == pytest.approx(rank.loc[top, "predicted_shrinkage"], rel=0.2)


def test_plan_carries_uncertainty_and_roi_intervals():
    sim = simulate(20_000, days=56, random_state=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        j = sim.journeys()
    m = at.get_model("linear").fit(j)
    tests = [holdout_test(sim, "display", random_state=0), holdout_test(sim, "retargeting", random_state=1)]
    costs = sim.costs.groupby("channel", as_index=False)["cost"].sum()  # totals: no per-period refits
    cal = at.calibrate(m, tests, journeys=j, costs=costs, n_boot=0)
    plan = cal.plan_budget(float(sim.costs["cost"].sum()), n_draws=30)
    a = plan.allocation
    assert a["planned"].sum() == pytest.approx(float(sim.costs["cost"].sum()), abs=0.01)
    assert (a["planned_low"] <= a["planned_high"]).all() and (a["planned_high"] - a["planned_low"]).max() > 0
    assert a["p_increase"].between(0, 1).all()
    roi = cal.roi().table
    cal_rows = roi[roi["model"].str.contains("calibrated, incremental")].dropna(subset=["roi"])
    assert (cal_rows["roi_low"] <= cal_rows["roi"] + 1e-9).all() and (cal_rows["roi"] <= cal_rows["roi_high"] + 1e-9).all()


def test_bootstrap_gives_the_model_an_interval_when_it_has_none():
    sim = simulate(3000, days=42, random_state=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        j = sim.journeys()
    m = at.get_model("linear").fit(j)
    cal = at.calibrate(m, [holdout_test(sim, "video", random_state=0)], journeys=j, costs=sim.costs, n_boot=30)
    assert (cal.factors["model_rel_se"].drop("direct", errors="ignore") > 0).all()
    assert any("bootstrap" in n for n in cal.notes)
    assert np.isfinite(cal.uncalibrated["conversions_low"]).all()


def test_geo_test_on_store_sales_feeds_ropo_store_credit():
    sim = simulate(3000, days=60, random_state=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        j = sim.journeys()
        rep = at.ropo(j, "linear", offline=["store_visit"])
    panel = simulate_geo(random_state=3)
    geo = at.geo_test(panel.data, panel.treated, panel.start, panel.end, outcome="store_sales", channel="video", n_placebo=40)
    video = float(rep.store_credit.loc["video", "value"])
    test = geo.to_lift_test(outcome="store_value", spend=panel.spend)
    cal = at.calibrate(rep, [dataclasses.replace(test, incremental=0.5 * video, se=0.05 * video, spend=None)])
    assert cal.kind == "ropo" and cal.factors.loc["video", "tested"]
    assert cal.credits.loc["video", "value"] == pytest.approx(0.5 * video, rel=0.05)
    total = rep.store_credit[["conversions", "value"]].sum()
    assert cal.credits[["conversions", "value"]].sum().tolist() == pytest.approx(total.tolist())


def test_presentation(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    cal = at.calibrate(_credits(), [_test(channel="search")], tau=0.3)
    html = cal._repr_html_()
    assert "Calibration by experiments" in html and "search" in html
    ax = cal.plot()
    ax.figure.savefig(tmp_path / "cal.png")
    assert (tmp_path / "cal.png").stat().st_size > 1000
    assert "mean factor" in repr(cal) and "tested" in cal.summary()
    draws = cal.draw_factors(4000, random_state=0)
    assert draws["video"].mean() == pytest.approx(cal.factors.loc["video", "factor"], abs=0.02)
    assert draws["video"].std() == pytest.approx(cal.factors.loc["video", "factor_sd"], rel=0.05)


def test_tau_posterior_matches_brute_force_integration():
    """Posterior moments of the factors against a direct 2-d integration over (tau, mu)."""
    credits = pd.DataFrame({"conversions": [100.0, 80.0, 50.0], "value": [1.0, 1.0, 1.0]},
                           index=pd.Index(["a", "b", "c"], name="channel"))
    tests = [LiftTest("a", "2026-01-01", "2026-01-28", incremental=20.0, se=8.0),
             LiftTest("b", "2026-01-01", "2026-01-28", incremental=96.0, se=16.0)]
    cal = at.calibrate(credits, tests, tau_scale=0.5, prior_sd=1.0, pool_tested=True)
    F = np.array([0.2, 1.2])
    v = np.array([0.08**2, 0.2**2])
    tau = np.linspace(0, 4, 801)[:, None, None]
    mu = np.linspace(-4, 5, 1201)[None, :, None]
    like = np.prod(stats.norm.pdf(F, mu, np.sqrt(v + tau**2)), axis=2, keepdims=True)
    w = (stats.norm.pdf(tau, 0, 0.5) * stats.norm.pdf(mu, 1, 1.0) * like)[..., 0]
    w /= w.sum()
    B = v / (v + tau**2)
    mean_f = B * mu + (1 - B) * F  # (tau, mu, 2) conditional means of the tested factors
    var_f = tau**2 * v / (v + tau**2)
    f = cal.factors
    for k, ch in enumerate(["a", "b"]):
        m = np.sum(w * mean_f[..., k])
        second = np.sum(w * (var_f[..., k] + mean_f[..., k] ** 2))
        assert f.loc[ch, "factor"] == pytest.approx(m, abs=2e-3)
        assert f.loc[ch, "factor_sd"] == pytest.approx(math.sqrt(second - m**2), abs=3e-3)
    m_c = np.sum(w * mu[..., 0])
    v_c = np.sum(w * (tau[..., 0] ** 2 + mu[..., 0] ** 2)) - m_c**2
    assert f.loc["c", "factor"] == pytest.approx(m_c, abs=2e-3)
    assert f.loc["c", "factor_sd"] == pytest.approx(math.sqrt(v_c), abs=3e-3)
    # the two tests disagree: each tested channel stays near its own test
    assert abs(f.loc["a", "factor"] - 0.2) < 0.1 and abs(f.loc["b", "factor"] - 1.2) < 0.2
    # unpooled (default): the same untested prediction, tested channels from their own tests only
    own = at.calibrate(credits, tests, tau_scale=0.5, prior_sd=1.0).factors
    assert own.loc["c", "factor"] == pytest.approx(f.loc["c", "factor"], abs=1e-12)
    pv = 1.0 + 0.25
    for k, ch in enumerate(["a", "b"]):
        assert own.loc[ch, "factor"] == pytest.approx((1 / pv + F[k] / v[k]) / (1 / pv + 1 / v[k]), abs=1e-12)


def test_tested_interval_covers_at_its_level_where_pooling_does_not():
    """Why tested channels are not pooled: frequentist coverage of a channel far from the others.

    Two tested channels with true factors 0.1 and 0.7 (one far below the other), tests with the
    simulator's relative se (~0.28); 600 replications of the tests through the posterior code.
    """
    from attribution.calibration import _Hierarchy

    rng = np.random.default_rng(0)
    f_true = np.array([0.1, 0.7, np.nan, np.nan])
    v = np.array([0.28**2, 0.28**2, np.inf, np.inf])
    informative = np.array([True, True, False, False])
    grid = np.linspace(0.0, 2.5 + 3 * 0.3, 401)
    z = stats.norm.ppf(0.95)
    hits = {True: [], False: []}
    for _ in range(600):
        F = np.where(informative, f_true + np.sqrt(np.where(informative, v, 0)) * rng.standard_normal(4), 0.0)
        for pool in (True, False):
            h = _Hierarchy(grid, F, v, informative, 1.0, 0.5, pool_tested=pool, prior_var=1.25)
            mean, var, _ = h.factor_moments()
            hits[pool].append(np.abs(mean[:2] - f_true[:2]) <= z * np.sqrt(var[:2]))
    own, pooled = np.mean(hits[False], axis=0), np.mean(hits[True], axis=0)
    # binomial sd over 600 draws is 1.2 pp: own tests cover at 90 % (a little more: the prior's pull is slight)
    assert np.all((own >= 0.87) & (own <= 0.95)), own
    # partial pooling pulls the outlying channel toward the mean and its interval under-covers
    assert pooled[0] < 0.875 and pooled[0] < own[0] - 0.02, (pooled, own)


def test_store_outcome_test_uses_the_models_store_credit():
    sim = simulate(1500, days=42, random_state=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        j = sim.journeys()
    m = at.get_model("linear").fit(j)
    pc = m.place_credits_
    store_video = float(pc[(pc["channel"] == "video") & (pc["place"] == "store")]["value"].sum())
    test = LiftTest("video", "2026-03-01", "2026-04-11", incremental=0.25 * store_video, se=1e-6 * store_video,
                    outcome="store_value")
    cal = at.calibrate(m, [test], n_boot=0)
    # no spend, no costs, no journeys: the test is taken to cover the period (scale 1), with a note
    assert cal.tests["scaled_by"].iloc[0] == "none" and cal.factors.loc["video", "test_factor"] == pytest.approx(0.25)
    assert cal.credits.loc["video", "conversions"] == pytest.approx(0.25 * m.credits_.loc["video", "conversions"], rel=1e-6)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(
    credit=st.lists(st.floats(0.5, 1e4), min_size=2, max_size=6),
    tested=st.lists(st.tuples(st.integers(0, 5), st.floats(-1e3, 1e4), st.floats(1e-3, 1e5)), min_size=1, max_size=4),
    no_touch=st.floats(0, 100),
)
def test_calibrated_credit_conserves_totals(credit, tested, no_touch):
    names = [f"ch{i}" for i in range(len(credit))]
    df = pd.DataFrame({"conversions": credit, "value": [3.0 * c for c in credit]}, index=pd.Index(names, name="channel"))
    df.loc[NO_TOUCH] = [no_touch, 2.0 * no_touch]
    tests = [LiftTest(names[i % len(names)], "2026-01-01", "2026-01-28", incremental=inc, se=se) for i, inc, se in tested]
    cal = at.calibrate(df, tests)
    cr = cal.credits
    assert cr["conversions"].sum() == pytest.approx(df["conversions"].sum(), rel=1e-9, abs=1e-9)
    assert cr["value"].sum() == pytest.approx(df["value"].sum(), rel=1e-9, abs=1e-9)
    assert cr.loc[NO_TOUCH, "conversions"] == no_touch
    assert (cr.loc[names, "conversions_low"] <= cr.loc[names, "conversions"] + 1e-9).all()
    assert np.isfinite(cal.factors["factor"]).all() and (cal.factors["factor_sd"] >= 0).all()
