"""Shapley attribution: golden toys for every method, Data.csv facts, brute-force agreement,
the Shapley axioms and the sampling error."""

from __future__ import annotations

import itertools
import math
import time
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin
from strategies import journeys, relabel

from attribution.exceptions import DataQualityWarning
from attribution.journeys import Journeys
from attribution.models import MODELS, check_conservation, get_model
from attribution.models.shapley import (
    METHODS,
    Shapley,
    _Sets,
    permutation_shapley,
    shapley_values,
    simplified_touch_weights,
    subset_sum,
)

DATA_CSV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "pathdata" / "Data.csv"
needs_data = pytest.mark.skipif(not DATA_CSV.exists(), reason="../shared/data/pathdata/Data.csv absent")
HYPO = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
quiet = pytest.mark.filterwarnings("ignore::attribution.exceptions.DataQualityWarning")


# ------------------------------------------------------------------------------- helpers


def toy() -> Journeys:
    """a (3 conv, 7 null, value 30); a > b (2, 2, value 40); b > c > b (1, 4, value 5)."""
    return Journeys(
        ["a", "b", "c"],
        [0, 0, 1, 1, 2, 1],
        [0, 1, 3, 6],
        [3.0, 2.0, 1.0],
        [7.0, 2.0, 4.0],
        [30.0, 40.0, 5.0],
    )


def brute_force_shapley(value, n: int) -> np.ndarray:
    """Shapley values by averaging marginal contributions over all n! orders."""
    value = lru_cache(maxsize=None)(value)
    phi = np.zeros(n)
    for order in itertools.permutations(range(n)):
        s = frozenset()
        before = value(s)
        for i in order:
            s = s | {i}
            after = value(s)
            phi[i] += after - before
            before = after
    return phi / math.factorial(n)


def brute_force_shapley_subsets(value, n: int) -> np.ndarray:
    """Shapley values from the subset formula, coalition by coalition (itertools)."""
    phi = np.zeros(n)
    for i in range(n):
        others = [c for c in range(n) if c != i]
        for size in range(n):
            w = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for s in itertools.combinations(others, size):
                phi[i] += w * (value(frozenset(s) | {i}) - value(frozenset(s)))
    return phi


def journey_sets(j: Journeys) -> list[frozenset]:
    return [frozenset(j.touch_channel[a:b].tolist()) for a, b in zip(j.offsets[:-1], j.offsets[1:])]


def naive_rate_game(j: Journeys, m: float, what: str = "conversions"):
    """The conversion-rate estimator of the docstring, written out coalition by coalition:
    a seen set T is worth (c_T + m rbar) / (n_T + m); any S pools its largest seen subsets."""
    sets = journey_sets(j)
    num = j.conversions if what == "conversions" else j.value
    cnt = j.conversions + j.nulls
    rbar = num.sum() / cnt.sum() if cnt.sum() > 0 else 0.0
    totals: dict[frozenset, list[float]] = {}
    for t, c, n in zip(sets, num, cnt):
        acc = totals.setdefault(t, [0.0, 0.0])
        acc[0] += c
        acc[1] += n
    seen = {t: cn for t, cn in totals.items() if cn[1] > 0}

    def v(s):
        inside = [t for t in seen if t <= s]
        if not inside:
            return 0.0
        top = max(len(t) for t in inside)
        best = [t for t in inside if len(t) == top]
        return sum(seen[t][0] + m * rbar for t in best) / sum(seen[t][1] + m for t in best)

    return v


def game_callable(v_table: np.ndarray):
    n = int(np.log2(len(v_table)))
    return lambda coal: v_table[(coal.astype(np.int64) << np.arange(n)).sum(axis=1)]


def random_journeys(n_channels: int, n_journeys: int, seed: int, max_len: int = 5) -> Journeys:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, max_len + 1, n_journeys)
    tc = rng.integers(0, n_channels, lengths.sum())
    conv = rng.integers(0, 5, n_journeys).astype(float)
    nulls = rng.integers(0, 8, n_journeys).astype(float)
    return Journeys(
        [f"ch{i:02d}" for i in range(n_channels)],
        tc,
        np.r_[0, np.cumsum(lengths)],
        conv,
        nulls,
        conv * rng.gamma(2.0, 10.0, n_journeys),
    )


class Additive(ClassifierMixin, BaseEstimator):
    """A 'classifier' with a known linear probability: p = intercept + x @ coef."""

    def __init__(self, coef=(0.2, 0.1, 0.05), intercept=0.1):
        self.coef = coef
        self.intercept = intercept

    def fit(self, X, y, sample_weight=None):
        self.classes_ = np.array([0.0, 1.0])
        return self

    def predict_proba(self, X):
        p = self.intercept + np.asarray(X) @ np.asarray(self.coef)
        return np.c_[1 - p, p]


def conv(model) -> dict:
    return model.credits_["conversions"].to_dict()


# ------------------------------------------------------------------------------- golden toys


def test_simplified_golden():
    # a: 3 (alone) + 2/2 (a > b) = 4; b: 2/2 + 1/2 = 1.5; c: 1/2. Value alike: a 30 + 40/2,
    # b 40/2 + 5/2, c 5/2. Non-converting journeys play no role.
    m = Shapley().fit(toy())
    check_conservation(m, toy())
    assert conv(m) == pytest.approx({"a": 4.0, "b": 1.5, "c": 0.5}, rel=1e-12)
    assert m.credits_["value"].to_dict() == pytest.approx({"a": 50.0, "b": 22.5, "c": 2.5}, rel=1e-12)


def test_simplified_touch_weights_split_channels_then_touches():
    # b > c > b: b and c get 1/2 each; b's half is split over its two touches
    w = simplified_touch_weights(toy())
    assert w.tolist() == pytest.approx([1.0, 0.5, 0.5, 0.25, 0.5, 0.25])


def test_ordered_golden_positions():
    # a@1: 3 (a) + 1 (a > b); b@2: 1 (a > b); b > c > b: b@1 1/4, c@2 1/2, b@3 1/4
    m = Shapley(method="ordered").fit(toy())
    pc = m.position_credits_
    assert list(pc.columns) == [1, 2, 3] and pc.columns.name == "position"
    expected = pd.DataFrame(
        [[4.0, 0.0, 0.0], [0.25, 1.0, 0.25], [0.0, 0.5, 0.0]], index=pc.index, columns=pc.columns
    )
    pd.testing.assert_frame_equal(pc, expected, rtol=1e-12)
    np.testing.assert_allclose(pc.sum(axis=1).to_numpy(), m.credits_["conversions"].to_numpy(), rtol=1e-12)
    assert conv(m) == pytest.approx(conv(Shapley().fit(toy())), rel=1e-12)


def test_conversion_rate_golden_raw_rates():
    # Seen: v(a) = 3/10, v(ab) = 2/4, v(bc) = 1/5; no untouched journeys, so v(∅) = 0.
    # Unseen: b, c hold no seen set (0); ac takes its largest seen subset a (3/10); abc pools
    # its largest seen subsets ab and bc: (2 + 1) / (4 + 5) = 1/3.
    va, vab, vbc, vac, vabc = 0.3, 0.5, 0.2, 0.3, 1 / 3
    phi_a = va / 3 + vab / 6 + vac / 6 + (vabc - vbc) / 3
    phi_b = 0 / 3 + (vab - va) / 6 + vbc / 6 + (vabc - vac) / 3
    phi_c = 0 / 3 + (vac - va) / 6 + vbc / 6 + (vabc - vab) / 3
    m = Shapley(method="conversion_rate", smoothing=0).fit(toy())
    inc = m.incremental_["conversion_rate"]
    assert inc.to_dict() == pytest.approx({"a": phi_a, "b": phi_b, "c": phi_c}, rel=1e-12)
    assert m.incremental_.attrs == pytest.approx({"v_empty": 0.0, "v_all": 1 / 3})
    assert phi_c < 0  # c: clipped, the rest rescaled to the 6 conversions
    pos = phi_a + phi_b
    assert conv(m) == pytest.approx({"a": 6 * phi_a / pos, "b": 6 * phi_b / pos, "c": 0.0}, rel=1e-12)
    # value per journey: v(a) = 30/10, v(ab) = 40/4, v(bc) = 5/5, v(ac) = 3, v(abc) = 45/9
    wa, wab, wbc, wac, wabc = 3.0, 10.0, 1.0, 3.0, 5.0
    value_a = wa / 3 + wab / 6 + wac / 6 + (wabc - wbc) / 3
    assert m.incremental_.loc["a", "value_per_journey"] == pytest.approx(value_a, rel=1e-12)
    assert m.exact_ and not hasattr(m, "credits_std_")


def test_conversion_rate_golden_smoothing_one():
    # m = 1 pseudo-journey at the overall rate r = 6/19: v(a) = (3 + r)/11, v(ab) = (2 + r)/5,
    # v(bc) = (1 + r)/6; v(ac) = v(a); v(abc) = (2 + r + 1 + r)/(5 + 6). Bits: a 1, b 2, c 4.
    r = 6 / 19
    m = Shapley(method="conversion_rate", smoothing=1.0).fit(toy())
    want = [0.0, (3 + r) / 11, 0.0, (2 + r) / 5, 0.0, (3 + r) / 11, (1 + r) / 6, (3 + 2 * r) / 11]
    np.testing.assert_allclose(m.coalition_values_, want, rtol=1e-12)
    np.testing.assert_allclose(m.incremental_["conversion_rate"].to_numpy(), shapley_values(want), rtol=1e-12)


def test_conversion_rate_baseline_from_untouched_journeys():
    # untouched journeys: 1 of 10 convert, so v(∅) = 0.1 and a's effect is v(a) - v(∅)
    j = Journeys(["a"], [0], [0, 0, 1], [1.0, 3.0], [9.0, 7.0], [10.0, 30.0])
    m = Shapley(method="conversion_rate", smoothing=0).fit(j)
    assert m.incremental_.attrs == pytest.approx({"v_empty": 0.1, "v_all": 0.3})
    assert m.incremental_.loc["a", "conversion_rate"] == pytest.approx(0.2, rel=1e-12)
    assert conv(m) == {"a": 3.0, "(no touch)": 1.0}


def test_model_golden_with_a_known_probability_model():
    # p(x) = 0.1 + 0.2 a + 0.1 b + 0.05 c is additive, so φ_i = coef_i × share of journeys
    # exposed to i: a 14/19, b 9/19, c 5/19 of the 19 journeys.
    m = Shapley(method="model", estimator=Additive()).fit(toy())
    phi = {"a": 0.2 * 14 / 19, "b": 0.1 * 9 / 19, "c": 0.05 * 5 / 19}
    assert m.incremental_["conversion_rate"].to_dict() == pytest.approx(phi, rel=1e-12)
    total = sum(phi.values())
    assert conv(m) == pytest.approx({k: 6 * v / total for k, v in phi.items()}, rel=1e-12)
    assert isinstance(m.estimator_, Additive) and m.exact_


def test_sampled_golden_additive_game_is_exact_with_zero_error():
    # v(S) = sum of a_i over S: every order gives every player exactly a_i
    a = np.array([1.0, 2.0, 3.0])
    m = Shapley(method="sampled", game=lambda s: s @ a, n_samples=50).fit(toy())
    assert m.incremental_["game"].to_numpy() == pytest.approx(a, rel=1e-12)
    assert conv(m) == pytest.approx({"a": 1.0, "b": 2.0, "c": 3.0}, rel=1e-12)
    assert (m.credits_std_.to_numpy() == 0).all() and not m.exact_


@needs_data
def test_data_csv_simplified_known_answer():
    j = Journeys.from_paths(pd.read_csv(DATA_CSV, sep=";"))
    m = Shapley().fit(j)
    got = m.credits_["conversions"]
    for ch, want in {"alpha": 7627.94, "eta": 3613.66, "iota": 3505.04, "beta": 1982.74}.items():
        assert got[ch] == pytest.approx(want, abs=0.01), ch
    check_conservation(m, j)
    ordered = Shapley(method="ordered").fit(j)
    np.testing.assert_allclose(ordered.position_credits_.sum(axis=1).to_numpy(), got.to_numpy(), rtol=1e-12)


@needs_data
def test_data_csv_global_methods_conserve_and_sampling_agrees_with_exact():
    j = Journeys.from_paths(pd.read_csv(DATA_CSV, sep=";"))
    exact = Shapley(method="conversion_rate").fit(j)
    sampled = Shapley(method="sampled", n_samples=2000, random_state=1).fit(j)
    check_conservation(exact, j)
    check_conservation(sampled, j)
    diff = (sampled.credits_ - exact.credits_)[["conversions", "value"]].abs()
    assert (diff <= 5 * sampled.credits_std_ + 1e-6).all().all()
    assert sampled.credits_std_["conversions"].max() < 0.1 * exact.credits_["conversions"].max()


# ------------------------------------------------------------------------------- transforms


def test_subset_sum_and_mobius_round_trip_and_brute_force():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(1 << 6, 2))
    z = subset_sum(f)
    for s in range(1 << 6):
        want = sum(f[t] for t in range(1 << 6) if t & s == t)
        np.testing.assert_allclose(z[s], want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(subset_sum(z, inverse=True), f, rtol=1e-12, atol=1e-12)
    assert subset_sum(np.ones(1)).tolist() == [1.0]
    with pytest.raises(ValueError, match="2\\*\\*n rows"):
        subset_sum(np.ones(3))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_shapley_values_agree_with_brute_force_on_random_games(data):
    n = data.draw(st.integers(1, 6))
    v = np.asarray(data.draw(st.lists(st.floats(-100, 100), min_size=1 << n, max_size=1 << n)))
    phi = shapley_values(v)
    want = brute_force_shapley(lambda s: v[sum(1 << i for i in s)], n)
    np.testing.assert_allclose(phi, want, rtol=1e-9, atol=1e-9)
    # efficiency
    assert phi.sum() == pytest.approx(v[-1] - v[0], rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("n", [7, 8])
def test_shapley_values_brute_force_seven_and_eight_channels(n):
    v = np.random.default_rng(n).normal(size=1 << n)
    want = brute_force_shapley(lambda s: v[sum(1 << i for i in s)], n)
    np.testing.assert_allclose(shapley_values(v), want, rtol=1e-9, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_axioms_symmetry_and_null_player_on_games(data):
    """Channel 0 is a null player, channels 1 and 2 are interchangeable."""
    n = data.draw(st.integers(3, 6))
    base = np.asarray(data.draw(st.lists(st.floats(-10, 10), min_size=1 << n, max_size=1 << n)))
    masks = np.arange(1 << n)
    # v(S) = base(S without 0, with bits 1 and 2 sorted): null 0, symmetric 1 and 2
    b1, b2 = (masks >> 1) & 1, (masks >> 2) & 1
    canon = (masks & ~0b111) | ((b1 & b2) << 2) | ((b1 | b2) << 1)
    v = base[canon]
    phi = shapley_values(v)
    assert abs(phi[0]) < 1e-9
    assert phi[1] == pytest.approx(phi[2], rel=1e-9, abs=1e-9)


# ------------------------------------------------------------------------------- brute force on journeys


@quiet
@HYPO
@given(j=journeys(max_channels=6, max_journeys=8, place=False))
def test_exact_methods_agree_with_brute_force_on_random_journeys(j):
    n = j.n_channels
    sets = journey_sets(j)
    # simplified: v(S) = conversions of journeys whose set lies in S
    simple = brute_force_shapley(lambda s: sum(j.conversions[k] for k in range(len(sets)) if sets[k] and sets[k] <= s), n)
    got = Shapley().fit(j).credits_["conversions"].to_numpy()[:n]
    np.testing.assert_allclose(got, simple, rtol=1e-9, atol=1e-9)
    # conversion rate: the raw Shapley values of the estimator, conversions and value
    for m in (0.0, 1.5):
        model = Shapley(method="conversion_rate", smoothing=m).fit(j)
        for what, col in (("conversions", "conversion_rate"), ("value", "value_per_journey")):
            want = brute_force_shapley(naive_rate_game(j, m, what), n)
            np.testing.assert_allclose(model.incremental_[col].to_numpy(), want, rtol=1e-9, atol=1e-9)


@quiet
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(j=journeys(max_channels=4, max_journeys=8, place=False))
def test_model_method_agrees_with_brute_force(j):
    n = j.n_channels
    m = Shapley(method="model").fit(j)
    sets = journey_sets(j)
    cnt = j.conversions + j.nulls
    if cnt.sum() == 0:
        return
    est = m.estimator_

    def v(s):
        X = np.array([[1.0 if (c in t and c in s) else 0.0 for c in range(n)] for t in sets])
        p = est.predict_proba(X)[:, 1] if hasattr(est, "coef_") else np.full(len(sets), (j.conversions.sum() / cnt.sum()))
        return float((p * cnt).sum() / cnt.sum())

    want = brute_force_shapley(v, n)
    np.testing.assert_allclose(m.incremental_["conversion_rate"].to_numpy(), want, rtol=1e-9, atol=1e-12)


@quiet
def test_eight_channel_journeys_brute_force():
    # 8 channels: the subset formula coalition by coalition (256 coalitions, cached game)
    j = random_journeys(8, 60, seed=3)
    n = 8
    for m in (0.0, 1.0):
        model = Shapley(method="conversion_rate", smoothing=m).fit(j)
        want = brute_force_shapley_subsets(lru_cache(maxsize=None)(naive_rate_game(j, m)), n)
        np.testing.assert_allclose(model.incremental_["conversion_rate"].to_numpy(), want, rtol=1e-9, atol=1e-12)
    sets = journey_sets(j)
    want = brute_force_shapley_subsets(lambda s: sum(j.conversions[k] for k in range(len(sets)) if sets[k] <= s), n)
    np.testing.assert_allclose(Shapley().fit(j).credits_["conversions"].to_numpy(), want, rtol=1e-9)
    # and the subset formula agrees with the permutation brute force on a 6-channel game
    v = lru_cache(maxsize=None)(naive_rate_game(random_journeys(6, 40, seed=5), 1.0))
    np.testing.assert_allclose(brute_force_shapley_subsets(v, 6), brute_force_shapley(v, 6), rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------------------- axioms on journeys


@quiet
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(j=journeys(max_channels=5, max_journeys=8), method=st.sampled_from(METHODS))
def test_every_method_conserves_per_place_and_is_efficient(j, method):
    model = Shapley(method=method, n_samples=50).fit(j)
    check_conservation(model, j, rtol=1e-9)
    if method in ("conversion_rate", "model", "sampled") and j.n_journeys:
        inc = model.incremental_.iloc[:, 0].sum()
        if "v_all" in model.incremental_.attrs:
            assert inc == pytest.approx(model.incremental_.attrs["v_all"] - model.incremental_.attrs["v_empty"], abs=1e-9)


@quiet
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(j=journeys(min_channels=2, max_channels=5, max_journeys=6, place=False), method=st.sampled_from(METHODS))
def test_symmetry_mirrored_journeys_give_equal_credit(j, method):
    """Append every journey again with channels 0 and 1 swapped: 0 and 1 become symmetric."""
    swap = np.arange(j.n_channels)
    swap[[0, 1]] = [1, 0]
    both = Journeys(
        j.channels,
        np.r_[j.touch_channel, swap[j.touch_channel]],
        np.r_[j.offsets, j.offsets[1:] + j.offsets[-1]],
        np.r_[j.conversions, j.conversions],
        np.r_[j.nulls, j.nulls],
        np.r_[j.value, j.value],
    )
    if method == "sampled":  # sampling is symmetric only in expectation; use the exact game
        return
    cr = Shapley(method=method).fit(both).credits_
    assert cr["conversions"].iloc[0] == pytest.approx(cr["conversions"].iloc[1], rel=1e-9, abs=1e-9)
    assert cr["value"].iloc[0] == pytest.approx(cr["value"].iloc[1], rel=1e-9, abs=1e-9)


@quiet
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(j=journeys(max_channels=5, max_journeys=8), method=st.sampled_from(METHODS))
def test_null_player_untouched_channel_gets_nothing(j, method):
    extra = Journeys(
        np.r_[j.channels, ["never_seen"]].astype(object),
        j.touch_channel,
        j.offsets,
        j.conversions,
        j.nulls,
        j.value,
        place=j.place,
    )
    model = Shapley(method=method, n_samples=50).fit(extra)
    assert model.credits_.loc["never_seen", "conversions"] == 0.0
    assert model.credits_.loc["never_seen", "value"] == 0.0
    if hasattr(model, "incremental_") and len(model.incremental_.columns):
        assert abs(model.incremental_.iloc[:, 0]["never_seen"]) < 1e-12


@quiet
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_relabelling_relabels_credit_for_every_method(data):
    j = data.draw(journeys(max_channels=5, max_journeys=8))
    method = data.draw(st.sampled_from(METHODS))
    perm = np.asarray(data.draw(st.permutations(range(j.n_channels))))
    a = Shapley(method=method, n_samples=30).fit(j).credits_
    b = Shapley(method=method, n_samples=30).fit(relabel(j, perm)).credits_
    pd.testing.assert_frame_equal(a.sort_index(), b.sort_index(), rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------------------- sampling


def test_sampled_error_shrinks_like_one_over_sqrt_n():
    v = np.random.default_rng(7).normal(size=1 << 8)
    exact = shapley_values(v)
    game = game_callable(v)
    err, se = {}, {}
    for n in (100, 10_000):
        phi, s = permutation_shapley(game, 8, n_samples=n, random_state=0)
        err[n] = np.sqrt(np.mean((phi - exact) ** 2))
        se[n] = np.sqrt(np.mean(s**2))
        assert np.all(np.abs(phi - exact) <= 5 * s + 1e-12)  # the standard errors are honest
    assert err[10_000] < err[100] / 3  # 1/sqrt(n): 10x in expectation
    assert 7 < se[100] / se[10_000] < 14


def test_sampled_method_on_a_callable_game_matches_permutation_shapley():
    v = np.random.default_rng(2).normal(size=1 << 3)
    m = Shapley(method="sampled", game=game_callable(v), n_samples=400, random_state=5).fit(toy())
    assert np.abs(m.incremental_["game"].to_numpy() - shapley_values(v)).max() < 5 * m.credits_std_["conversions"].max()


@quiet
def test_conversion_rate_beyond_max_exact_falls_back_to_sampling():
    j = random_journeys(6, 80, seed=11)
    exact = Shapley(method="conversion_rate").fit(j)
    sampled = Shapley(method="conversion_rate", max_exact=4, n_samples=3000, random_state=0).fit(j)
    assert exact.exact_ and not sampled.exact_
    assert not hasattr(sampled, "coalition_values_")
    d = np.abs(sampled.incremental_["conversion_rate"] - exact.incremental_["conversion_rate"])
    assert d.max() < 0.02  # rates; standard error at 3000 orders is ~0.003
    check_conservation(sampled, j)


@quiet
def test_model_beyond_budget_samples_and_agrees():
    j = random_journeys(6, 80, seed=12)
    exact = Shapley(method="model").fit(j)
    sampled = Shapley(method="model", max_exact=3, n_samples=2000).fit(j)
    assert not sampled.exact_
    d = np.abs(sampled.incremental_ - exact.incremental_).to_numpy()
    assert d.max() < 1e-3


@quiet
def test_more_than_64_channels():
    j = random_journeys(70, 300, seed=4, max_len=8)
    sets = _Sets(j)
    naive = np.zeros((len(sets.size), 70))
    for row, mask in enumerate(sets.words):
        for c in range(70):
            naive[row, c] = (int(mask[c // 64]) >> (c % 64)) & 1
    np.testing.assert_array_equal(sets.indicator(), naive)
    per_journey = {frozenset(s) for s in journey_sets(j)}
    assert {frozenset(np.flatnonzero(r).tolist()) for r in naive} == per_journey
    closed = Shapley().fit(j)
    sampled = Shapley(method="sampled", game="simplified", n_samples=300).fit(j)
    diff = np.abs(sampled.credits_["conversions"] - closed.credits_["conversions"]).to_numpy()
    assert np.all(diff <= 6 * sampled.credits_std_["conversions"].to_numpy() + 1e-9)
    rate = Shapley(method="conversion_rate", n_samples=50).fit(j)  # 70 > max_exact: sampled
    assert not rate.exact_
    check_conservation(rate, j)


# ------------------------------------------------------------------------------- negatives and fallbacks


def test_negative_keep_keeps_signs_and_conserves():
    m = Shapley(method="conversion_rate", smoothing=0, negative="keep").fit(toy())
    phi = m.incremental_["conversion_rate"]
    assert conv(m) == pytest.approx((6 * phi / phi.sum()).to_dict(), rel=1e-12)
    assert conv(m)["c"] < 0
    check_conservation(m, toy())


def test_no_positive_value_falls_back_to_simplified_with_a_warning():
    # untouched journeys convert at 50 %, journeys with a at 10 %: v(a) - v(∅) < 0
    j = Journeys(["a"], [0], [0, 0, 1], [5.0, 1.0], [5.0, 9.0], [50.0, 10.0])
    with pytest.warns(DataQualityWarning, match="no channel has a positive Shapley value"):
        m = Shapley(method="conversion_rate").fit(j)
    assert conv(m) == {"a": 1.0, "(no touch)": 5.0}
    with pytest.raises(ValueError, match="negative='keep'.*Use negative='clip'"):
        Shapley(method="conversion_rate", negative="keep").fit(j)


# ------------------------------------------------------------------------------- API


def test_registered_and_reachable_by_name():
    assert MODELS["shapley"] is Shapley
    m = get_model("shapley:method=conversion_rate,smoothing=2")
    assert m.method == "conversion_rate" and m.smoothing == 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"method": "exact"}, "The 'method' parameter of Shapley must be one of ['simplified', 'ordered', 'conversion_rate', 'model', 'sampled']. Got 'exact' instead."),
        ({"n_samples": 0}, "The 'n_samples' parameter of Shapley must be a positive integer. Got 0 instead."),
        ({"smoothing": -1}, "The 'smoothing' parameter of Shapley must be a non-negative number. Got -1 instead."),
        ({"negative": "abs"}, "The 'negative' parameter of Shapley must be 'clip' or 'keep'. Got 'abs' instead."),
        ({"max_exact": 40}, "The 'max_exact' parameter of Shapley must be an integer from 1 to 30 (2**30 coalitions). Got 40 instead."),
        ({"game": "markov"}, "The 'game' parameter of Shapley must be one of ['conversion_rate', 'model', 'simplified'] or a callable. Got 'markov' instead."),
    ],
)
def test_parameter_errors(params, message):
    with pytest.raises(ValueError) as exc:
        Shapley(**params).fit(toy())
    assert str(exc.value) == message


def test_estimator_without_predict_proba_is_a_type_error():
    with pytest.raises(TypeError, match="The 'estimator' parameter of Shapley must be a scikit-learn classifier"):
        Shapley(method="model", estimator=object()).fit(toy())


def test_sampled_is_reproducible_with_random_state():
    a = Shapley(method="sampled", n_samples=100, random_state=3).fit(toy()).credits_
    b = Shapley(method="sampled", n_samples=100, random_state=3).fit(toy()).credits_
    c = Shapley(method="sampled", n_samples=100, random_state=4).fit(toy()).credits_
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_refit_clears_method_specific_attributes():
    m = Shapley(method="ordered").fit(toy())
    assert hasattr(m, "position_credits_")
    m.set_params(method="conversion_rate").fit(toy())
    assert not hasattr(m, "position_credits_") and hasattr(m, "incremental_")
    m.set_params(method="simplified").fit(toy())
    assert not hasattr(m, "incremental_")


# ------------------------------------------------------------------------------- speed


def _big(n_journeys: int, n_channels: int, seed: int = 0) -> Journeys:
    rng = np.random.default_rng(seed)
    lengths = np.minimum(rng.geometric(0.25, n_journeys), 40)
    tc = rng.integers(0, n_channels, lengths.sum())
    conv = (rng.random(n_journeys) < 0.1).astype(float)
    return Journeys([f"c{i}" for i in range(n_channels)], tc, np.r_[0, np.cumsum(lengths)], conv, 1 - conv, conv * 50)


def test_sixteen_channels_exact_is_fast():
    j = _big(20_000, 16)
    t = time.perf_counter()
    m = Shapley(method="conversion_rate").fit(j)
    assert time.perf_counter() - t < 5.0
    check_conservation(m, j)


@pytest.mark.slow
def test_twenty_channels_a_million_journeys_exact_under_ten_seconds():
    j = _big(1_000_000, 20)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = Shapley(method="conversion_rate").fit(j)
    elapsed = time.perf_counter() - t
    assert m.exact_ and elapsed < 10.0, elapsed
