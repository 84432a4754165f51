"""Data-driven models: Fractribution (known Data.csv answer, golden toys, brute force), Shao &
Li's probabilistic model (golden, brute force) and bagged logistic regression (agreement with
scikit-learn, negative coefficients, fall-back)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from strategies import journeys

from attribution.exceptions import DataQualityWarning
from attribution.journeys import Journeys
from attribution.models import MODELS, check_conservation, get_model
from attribution.models.datadriven import Fractribution, Logistic, Probabilistic, bagged_logistic

DATA_CSV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "pathdata" / "Data.csv"
needs_data = pytest.mark.skipif(not DATA_CSV.exists(), reason="../shared/data/pathdata/Data.csv absent")
HYPO = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
quiet = pytest.mark.filterwarnings("ignore::attribution.exceptions.DataQualityWarning")


def paths(rows) -> Journeys:
    """Journeys from (path, conversions, nulls[, value]) tuples."""
    df = pd.DataFrame(rows, columns=["path", "total_conversions", "total_null", "total_conversion_value"][: len(rows[0])])
    return Journeys.from_paths(df)


def conv(model) -> dict:
    return model.credits_["conversions"].to_dict()


def tuples(j: Journeys) -> list[tuple]:
    return [tuple(j.touch_channel[a:b].tolist()) for a, b in zip(j.offsets[:-1], j.offsets[1:])]


# ------------------------------------------------------------------------------- Fractribution


def naive_fractribution(j: Journeys, transform: str) -> np.ndarray:
    """Google's algorithm written out with dicts of path tuples (channel credit of conversions)."""

    def tr(p):
        if transform == "exposure":
            return tuple(c for k, c in enumerate(p) if k == 0 or p[k - 1] != c)
        if transform == "first":
            return tuple(c for k, c in enumerate(p) if c not in p[:k])
        return p

    table = defaultdict(lambda: [0.0, 0.0])
    for p, c, n in zip(tuples(j), j.conversions, j.nulls):
        if p:
            table[tr(p)][0] += c
            table[tr(p)][1] += n

    def prob(p):
        if p not in table:
            return 0.0
        c, n = table[p]
        return c / (c + n) if c + n > 0 else 0.0

    credit = np.zeros(j.n_channels)
    for p, c in zip(tuples(j), j.conversions):
        if not p:
            continue
        t = tr(p)
        if len(t) == 1:
            gains = [prob(t)]
        else:
            gains = [max(prob(t) - prob(t[:k] + t[k + 1 :]), 0.0) for k in range(len(t))]
        total = sum(gains)
        shares = [g / total for g in gains] if total > 0 else [0.0] * (len(t) - 1) + [1.0]
        for ch, s in zip(t, shares):
            credit[ch] += c * s
    return credit


@needs_data
def test_fractribution_data_csv_known_answer():
    j = Journeys.from_paths(pd.read_csv(DATA_CSV, sep=";"))
    m = Fractribution().fit(j)
    got = m.credits_["conversions"]
    for ch, want in {"alpha": 7204.71, "iota": 4033.63, "eta": 3810.75}.items():
        assert got[ch] == pytest.approx(want, abs=0.01), ch
    check_conservation(m, j)


def test_fractribution_golden_toy():
    # p(a) = 1/10, p(b) = 2/10, p(a > b) = 3/6. In a > b, removing a leaves b: gain 0.5 - 0.2;
    # removing b leaves a: gain 0.5 - 0.1, so a > b splits 3/7 : 4/7.
    m = Fractribution().fit(paths([("a", 1, 9), ("b", 2, 8), ("a > b", 3, 3)]))
    assert conv(m) == pytest.approx({"a": 1 + 3 * 3 / 7, "b": 2 + 3 * 4 / 7}, rel=1e-12)
    table = m.path_probabilities_.set_index("path")["probability"].to_dict()
    assert table == pytest.approx({"a": 0.1, "b": 0.2, "a > b": 0.5})


def test_fractribution_unseen_counterfactual_counts_as_zero():
    # a > c: removing a leaves "c", a path nobody took (p = 0): gain 0.5; removing c leaves a
    # (p = 0.1): gain 0.4. Split 5/9 : 4/9.
    m = Fractribution().fit(paths([("a", 1, 9), ("a > c", 2, 2)]))
    assert conv(m) == pytest.approx({"a": 1 + 2 * 5 / 9, "c": 2 * 4 / 9}, rel=1e-12)


def test_fractribution_no_gain_goes_to_the_last_touch():
    # x and y alone convert at 50 %, together at 10 %: every gain is 0, so y (last) gets all
    m = Fractribution().fit(paths([("x", 5, 5), ("y", 5, 5), ("x > y", 1, 9)]))
    assert conv(m) == pytest.approx({"x": 5.0, "y": 6.0}, rel=1e-12)


def test_fractribution_exposure_transform_collapses_runs():
    # a > a > b is a > b under "exposure": same split as above, a's part shared by its 2 touches
    j = paths([("a", 1, 9), ("b", 2, 8), ("a > a > b", 3, 3)])
    m = Fractribution(path_transform="exposure").fit(j)
    assert conv(m) == pytest.approx({"a": 1 + 3 * 3 / 7, "b": 2 + 3 * 4 / 7}, rel=1e-12)
    w = m._touch_weights(j)
    assert w.tolist() == pytest.approx([1.0, 1.0, 1.5 / 7, 1.5 / 7, 4 / 7])
    # "unique" keeps a > a > b: dropping either a leaves a > b, a path nobody took (p = 0)
    u = Fractribution().fit(j)
    assert conv(u) == pytest.approx({"a": 1 + 3 * 2 / 3, "b": 2 + 3 * 1 / 3}, rel=1e-12)


@quiet
@HYPO
@given(j=journeys(max_channels=4, max_journeys=8, max_length=4), transform=st.sampled_from(["unique", "exposure", "first"]))
def test_fractribution_agrees_with_brute_force(j, transform):
    m = Fractribution(path_transform=transform).fit(j)
    got = m.credits_["conversions"].to_numpy()[: j.n_channels]
    np.testing.assert_allclose(got, naive_fractribution(j, transform), rtol=1e-9, atol=1e-9)
    weights = m._touch_weights(j)
    sums = np.bincount(j.journey_index, weights=weights, minlength=j.n_journeys)
    np.testing.assert_allclose(sums[j.lengths > 0], 1.0, rtol=1e-12)


# ------------------------------------------------------------------------------- Probabilistic


def naive_probabilistic(j: Journeys) -> np.ndarray:
    sets = [frozenset(p) for p in tuples(j)]
    C = j.n_channels
    pos, tot = np.zeros(C), np.zeros(C)
    ppos, ptot = np.zeros((C, C)), np.zeros((C, C))
    for s, c, n in zip(sets, j.conversions, j.nulls):
        for a in s:
            pos[a] += c
            tot[a] += c + n
            for b in s:
                if a != b:
                    ppos[a, b] += c
                    ptot[a, b] += c + n
    p1 = np.divide(pos, tot, out=np.zeros(C), where=tot > 0)
    p2 = np.divide(ppos, ptot, out=np.zeros((C, C)), where=ptot > 0)
    credit = np.zeros(C)
    for s, c in zip(sets, j.conversions):
        if not s:
            continue
        m = len(s)
        contrib = {
            a: max(p1[a] + (sum(p2[a, b] - p1[a] - p1[b] for b in s if b != a) / (2 * (m - 1)) if m > 1 else 0.0), 0.0)
            for a in s
        }
        total = sum(contrib.values())
        for a in s:
            credit[a] += c * (contrib[a] / total if total > 0 else 1 / m)
    return credit


def test_probabilistic_golden():
    # p_a = 5/16, p_b = 4/16, p_ab = 3/6; in a > b: c_a = 5/16 + (1/2 - 5/16 - 4/16)/2 = 9/32,
    # c_b = 7/32, so its 3 conversions split 9:7.
    m = Probabilistic().fit(paths([("a", 2, 8), ("b", 1, 9), ("a > b", 3, 3)]))
    assert conv(m) == pytest.approx({"a": 2 + 3 * 9 / 16, "b": 1 + 3 * 7 / 16}, rel=1e-12)
    assert m.probabilities_.to_dict() == pytest.approx({"a": 5 / 16, "b": 4 / 16})
    assert m.pair_probabilities_.loc["a", "b"] == pytest.approx(0.5)
    assert np.isnan(m.pair_probabilities_.loc["a", "a"])
    # Shao & Li's channel-level contribution: p_a + (p_ab - p_a - p_b) / 2
    assert m.contributions_["a"] == pytest.approx(9 / 32)


@quiet
@HYPO
@given(j=journeys(max_channels=5, max_journeys=8))
def test_probabilistic_agrees_with_brute_force(j):
    m = Probabilistic().fit(j)
    np.testing.assert_allclose(m.credits_["conversions"].to_numpy()[: j.n_channels], naive_probabilistic(j), rtol=1e-9, atol=1e-9)


# ------------------------------------------------------------------------------- Logistic


def test_bagged_logistic_matches_scikit_learn_bag_by_bag():
    rng = np.random.default_rng(0)
    R, F, B = 80, 6, 5
    X = (rng.random((R, F)) < 0.4).astype(float)
    y = (rng.random(R) < 0.3 + 0.3 * X[:, 0]).astype(float)
    W = rng.poisson(3, (B, R)).astype(float)
    features = rng.random((B, F)) < 0.6
    features[:, 0] = True
    b0, b = bagged_logistic(X, y, W, features, C=0.7)
    for k in range(B):
        cols = np.flatnonzero(features[k])
        ref = LogisticRegression(C=0.7, solver="newton-cholesky", tol=1e-12, max_iter=1000)
        ref.fit(X[:, cols], y, sample_weight=W[k])
        np.testing.assert_allclose(b[k, cols], ref.coef_[0], rtol=1e-6, atol=1e-8)
        assert b0[k] == pytest.approx(ref.intercept_[0], rel=1e-6, abs=1e-8)
        assert (b[k, ~features[k]] == 0).all()


def test_logistic_credits_follow_positive_coefficients_and_drop_negative_ones():
    # untouched journeys convert at 5 %; a lifts that to 40 %, b to 10 %, c lowers it to 2 %
    rows = [("a", 40, 60), ("b", 10, 90), ("c", 2, 98), ("a > b", 45, 55), ("b > c", 3, 97)]
    j0 = paths(rows)
    j = Journeys(
        j0.channels,
        j0.touch_channel,
        np.r_[j0.offsets, j0.offsets[-1]],
        np.r_[j0.conversions, 10.0],
        np.r_[j0.nulls, 190.0],
        np.r_[j0.value, 0.0],
    )
    m = Logistic(random_state=0).fit(j)
    coef = m.coefficients_
    assert list(coef.columns) == ["mean", "std", "n_bags"]
    assert coef.loc["a", "mean"] > coef.loc["b", "mean"] > 0 > coef.loc["c", "mean"]
    cr = m.credits_["conversions"]
    assert cr["c"] == 0.0 and cr["a"] > cr["b"] > 0 and cr["(no touch)"] == 10.0
    shares = np.clip(coef["mean"].to_numpy(), 0, None)
    touched = j.total_conversions - 10.0  # the untouched journeys' 10 go to "(no touch)"
    np.testing.assert_allclose(cr.to_numpy()[:3], touched * shares / shares.sum(), rtol=1e-12)
    assert (coef["n_bags"] > 20).all() and np.isfinite(m.intercept_)
    check_conservation(m, j)


def test_logistic_is_reproducible_and_seeded():
    j = paths([("a", 40, 60), ("b", 10, 90), ("a > b", 45, 55)])
    a = Logistic(random_state=1).fit(j).coefficients_
    pd.testing.assert_frame_equal(a, Logistic(random_state=1).fit(j).coefficients_)
    assert not a.equals(Logistic(random_state=2).fit(j).coefficients_)


def test_logistic_without_positive_effect_falls_back_with_a_warning():
    # every channel converts worse than the untouched journeys
    j = Journeys(["a", "b"], [0, 1], [0, 0, 1, 2], [50.0, 1.0, 1.0], [50.0, 99.0, 99.0], [0.0, 0.0, 0.0])
    with pytest.warns(DataQualityWarning, match="no channel has a positive effect"):
        m = Logistic().fit(j)
    assert conv(m) == {"a": 1.0, "b": 1.0, "(no touch)": 50.0}


# ------------------------------------------------------------------------------- API


def test_registered_by_name():
    assert MODELS["logistic"] is Logistic
    assert MODELS["probabilistic"] is Probabilistic
    assert MODELS["fractribution"] is Fractribution
    assert get_model("fractribution:path_transform=exposure").path_transform == "exposure"


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (Logistic(n_estimators=0), "The 'n_estimators' parameter of Logistic must be a positive integer. Got 0 instead."),
        (Logistic(sample_rows=1.5), "The 'sample_rows' parameter of Logistic must be a number in (0, 1]. Got 1.5 instead."),
        (Logistic(sample_channels=0), "The 'sample_channels' parameter of Logistic must be a number in (0, 1]. Got 0 instead."),
        (Logistic(C=-1.0), "The 'C' parameter of Logistic must be a positive number. Got -1.0 instead."),
        (
            Fractribution(path_transform="frequency"),
            "The 'path_transform' parameter of Fractribution must be one of ['unique', 'exposure', 'first']. Got 'frequency' instead.",
        ),
    ],
)
def test_parameter_errors(model, message):
    with pytest.raises(ValueError) as exc:
        model.fit(paths([("a", 1, 1)]))
    assert str(exc.value) == message
