"""Exact Markov removal effects: golden toys, Data.csv facts, ChannelAttribution agreement."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution import Journeys, NotFittedError
from attribution.models import get_model
from attribution.models.markov import Markov

DATA_CSV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "pathdata" / "Data.csv"
needs_data = pytest.mark.skipif(not DATA_CSV.exists(), reason="../shared/data/pathdata/Data.csv absent")

# The 3-path toy of the field survey: ChannelAttribution's truncated walks give RE_B = 0.429.
TOY1 = pd.DataFrame(
    {"path": ["A > B > A > B > B > A", "A > B > B > A > A", "A > A"], "total_conversions": [1, 1, 1], "total_null": [0, 0, 0]}
)

# From the README of ../shared/data
README_RE = {
    "alpha": 0.5584, "iota": 0.4058, "eta": 0.3490, "beta": 0.2640, "theta": 0.2060, "lambda": 0.1340,
    "epsilon": 0.0626, "zeta": 0.0398, "kappa": 0.0287, "gamma": 0.0179, "delta": 0.0005, "mi": 0.0002,
}


@pytest.fixture(scope="module")
def data_csv():
    return pd.read_csv(DATA_CSV, sep=";")


def test_toy_order1_exact():
    # Every path converts and contains A, so RE_A = 1. Without B, only the walk start>A>conv
    # converts: from A, P(A->conv) = 3/10 and P(A->A) = 3/10 ... the exact answer is RE_B = 1/2.
    m = Markov().fit(Journeys.from_paths(TOY1))
    assert m.removal_effects_.loc["A", "conversions"] == pytest.approx(1.0, abs=1e-12)
    assert m.removal_effects_.loc["B", "conversions"] == pytest.approx(0.5, abs=1e-12)
    assert m.credits_.loc["A", "conversions"] == pytest.approx(2.0)
    assert m.credits_.loc["B", "conversions"] == pytest.approx(1.0)
    assert m.conversion_probability_ == pytest.approx(1.0)


def test_toy_order2_matches_survey():
    m = Markov(order=2).fit(Journeys.from_paths(TOY1))
    assert m.credits_.loc["A", "conversions"] == pytest.approx(1.8, abs=1e-9)
    assert m.credits_.loc["B", "conversions"] == pytest.approx(1.2, abs=1e-9)


def test_hand_computed_chain_with_nulls():
    # a converts 1 of 2, a>b converts 1 of 1. P(conv) = 2/3.
    # Order 1: start->a 1; a->conv 1/3, a->null 1/3, a->b 1/3; b->conv 1.
    # Without b: P = 1/3 -> RE_b = 1/2. Without a: P = 0 -> RE_a = 1. Credit a 2*(1/1.5), b 2*(0.5/1.5).
    j = Journeys.from_paths(pd.DataFrame({"path": ["a", "a > b"], "total_conversions": [1, 1], "total_null": [1, 0]}))
    m = Markov().fit(j)
    assert m.conversion_probability_ == pytest.approx(2 / 3)
    assert m.removal_effects_["conversions"].to_dict() == pytest.approx({"a": 1.0, "b": 0.5})
    assert m.credits_["conversions"].to_dict() == pytest.approx({"a": 4 / 3, "b": 2 / 3})


def test_value_uses_mean_value_per_state():
    # a converts with value 10, a>b converts with value 2: removing b loses 2 of 12 expected value
    j = Journeys.from_paths(
        pd.DataFrame({"path": ["a", "a > b"], "total_conversions": [1, 1], "total_conversion_value": [10.0, 2.0], "total_null": [0, 0]})
    )
    m = Markov().fit(j)
    assert m.expected_value_ == pytest.approx(6.0)  # (10 + 2) / 2 journeys
    assert m.removal_effects_.loc["b", "value"] == pytest.approx(2 / 12)
    assert m.credits_["value"].sum() == pytest.approx(12.0)
    assert m.credits_.loc["b", "value"] == pytest.approx(12 * (1 / 6) / (1 + 1 / 6))


@needs_data
@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_data_csv_conversion_probability(data_csv, order):
    m = Markov(order=order).fit(Journeys.from_paths(data_csv))
    assert m.conversion_probability_ == pytest.approx(19_785 / 88_387, abs=1e-12)
    assert m.credits_["conversions"].sum() == pytest.approx(19_785, rel=1e-12)
    assert m.credits_["value"].sum() == pytest.approx(74_802.97158721084, rel=1e-12)


@needs_data
def test_data_csv_first_order_removal_effects(data_csv):
    m = Markov().fit(Journeys.from_paths(data_csv))
    got = m.removal_effects_["conversions"].round(4).to_dict()
    assert got == README_RE


@needs_data
def test_collapse_repeats_keeps_first_order_effects(data_csv):
    a = Markov().fit(Journeys.from_paths(data_csv)).removal_effects_["conversions"]
    b = Markov(collapse_repeats=True).fit(Journeys.from_paths(data_csv)).removal_effects_["conversions"]
    np.testing.assert_allclose(a, b, atol=1e-10)


@needs_data
@pytest.mark.parametrize("order", [1, 2, 3])
def test_agrees_with_channelattribution_within_sampling_noise(data_csv, order):
    ca = pytest.importorskip("ChannelAttribution")
    ours = Markov(order=order).fit(Journeys.from_paths(data_csv))
    with contextlib.redirect_stdout(io.StringIO()):
        res = ca.markov_model(
            data_csv, "path", "total_conversions", var_value="total_conversion_value", var_null="total_null",
            order=order, seed=0, verbose=False,
        )
    theirs = res.set_index("channel_name")["total_conversions"].reindex(ours.credits_.index)
    # ChannelAttribution returns one fold of nsim/nfold = 10,000 simulated walks: about
    # n = 10,000 * P(conv) converting walks; each RE is a binomial proportion over them.
    re = ours.removal_effects_["conversions"].to_numpy()
    n = 10_000 * ours.conversion_probability_
    se = 19_785 / re.sum() * np.sqrt(re * (1 - re) / n)
    diff = np.abs(theirs.to_numpy() - ours.credits_["conversions"].to_numpy())
    assert (diff <= 4 * se + 1.0).all(), pd.DataFrame({"diff": diff, "4se": 4 * se}, index=theirs.index)


@needs_data
def test_order_auto_scores(data_csv):
    m = Markov(order="auto", max_order=3).fit(Journeys.from_paths(data_csv))
    assert list(m.order_scores_.index) == [1, 2, 3]
    assert m.order_ == m.order_scores_["log_loss"].idxmin()
    assert m.credits_["conversions"].sum() == pytest.approx(19_785)


def test_order_auto_finds_second_order_structure():
    # conversion depends on the previous channel: b after a converts, b after c never does
    rows = [("a > b", 40, 0), ("c > b", 0, 40), ("b", 10, 10), ("a", 5, 15), ("c", 5, 15)]
    j = Journeys.from_paths(pd.DataFrame(rows, columns=["path", "total_conversions", "total_null"]))
    m = Markov(order="auto", max_order=3, random_state=1).fit(j)
    assert m.order_ == 2
    assert m.order_scores_.loc[2, "log_loss"] < m.order_scores_.loc[1, "log_loss"]


def test_graph_and_transition_matrix():
    m = Markov(order=2).fit(Journeys.from_paths(TOY1))
    g = m.graph_
    assert ("A", "B") in g.nodes
    tm = m.transition_matrix_
    sums = tm.groupby("from", sort=False)["probability"].sum()
    np.testing.assert_allclose(sums, 1.0)


def test_not_fitted_and_params():
    with pytest.raises(NotFittedError):
        Markov().removal_effects_
    with pytest.raises(ValueError, match=r"The 'order' parameter of Markov must be"):
        Markov(order=0).fit(Journeys.from_paths(TOY1))
    m = get_model("markov:order=2")
    assert isinstance(m, Markov) and m.order == 2


@st.composite
def path_tables(draw):
    n = draw(st.integers(1, 8))
    paths = draw(st.lists(st.lists(st.sampled_from("abcd"), min_size=1, max_size=5), min_size=n, max_size=n))
    conv = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    nulls = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    return pd.DataFrame({"path": [">".join(p) for p in paths], "total_conversions": conv, "total_null": nulls})


def brute_force_removal(df: pd.DataFrame, channel: str) -> float:
    """P(conv) without ``channel`` by dense matrix inversion (an independent implementation)."""
    states = sorted({c for p in df["path"] for c in p.split(">")})
    idx = {s: i + 1 for i, s in enumerate(states)}
    n = len(states) + 3
    M = np.zeros((n, n))
    for p, c, u in df.itertuples(index=False):
        seq = [0] + [idx[s] for s in p.split(">")]
        for a, b in zip(seq[:-1], seq[1:]):
            M[a, b] += c + u
        M[seq[-1], n - 2] += c
        M[seq[-1], n - 1] += u
    out = M.sum(axis=1, keepdims=True)
    P = np.divide(M, out, out=np.zeros_like(M), where=out > 0)
    if channel is not None:
        k = idx[channel]
        P[:, n - 1] += P[:, k]
        P[:, k] = 0
        P[k] = 0
    Q, r = P[: n - 2, : n - 2], P[: n - 2, n - 2]
    return float(np.linalg.solve(np.eye(n - 2) - Q, r)[0])


@settings(max_examples=60, deadline=None)
@given(path_tables())
def test_removal_effects_match_dense_reference(df):
    if df["total_conversions"].sum() == 0:
        return
    j = Journeys.from_paths(df)
    m = Markov().fit(j)
    p = brute_force_removal(df, None)
    assert m.conversion_probability_ == pytest.approx(p, abs=1e-12)
    assert p == pytest.approx(j.total_conversions / (j.total_conversions + j.total_nulls), abs=1e-12)
    for c in j.channels:
        assert m.removal_effects_.loc[c, "conversions"] == pytest.approx(1 - brute_force_removal(df, c) / p, abs=1e-9)


@pytest.mark.parametrize("lu_max", [10**9, 0], ids=["lu", "iterative"])
def test_multi_outcome_chain_per_place_by_hand(lu_max, monkeypatch):
    import attribution.models.markov as mk

    monkeypatch.setattr(mk, "LU_MAX_STATES", lu_max)
    # j1: a -> conversion online; j2: a > b -> conversion in store; j3: a -> null.
    # Chain: start->a 3; a->conv@online 1, a->b 1, a->null 1; b->conv@store 1.
    # P(online) = 1/3, P(store) = 1/3. Removing b: P(store) = 0 -> RE_b,store = 1; P(online)
    # stays -> RE_b,online = 0. Removing a kills both -> RE_a = 1 at each place.
    # Online credit (1 conversion): a 1. Store credit (1 conversion): a 1/2, b 1/2.
    j = Journeys(
        ["a", "b"], [0, 0, 1, 0], [0, 1, 3, 4], [1, 1, 0], [0, 0, 1], [10.0, 30.0, 0.0],
        place=["online", "store", None],
    )
    m = Markov().fit(j)
    pre = m.place_removal_effects_
    assert pre.loc["b", "online"] == pytest.approx(0.0) and pre.loc["b", "store"] == pytest.approx(1.0)
    assert pre.loc["a"].tolist() == pytest.approx([1.0, 1.0])
    pc = m.place_credits_.set_index(["channel", "place"])
    assert pc.loc[("a", "online"), "conversions"] == pytest.approx(1.0)
    assert pc.loc[("a", "store"), "conversions"] == pytest.approx(0.5)
    assert pc.loc[("b", "store"), "conversions"] == pytest.approx(0.5)
    assert pc.loc[("b", "store"), "value"] == pytest.approx(15.0)  # half the store value
    assert m.credits_["conversions"].to_dict() == pytest.approx({"a": 1.5, "b": 0.5})
    # the overall removal effects are those of the single-outcome chain
    assert m.removal_effects_["conversions"].to_dict() == pytest.approx({"a": 1.0, "b": 0.5})
    assert m.conversion_probability_ == pytest.approx(2 / 3)


@needs_data
@pytest.mark.parametrize("order", [3, 4])
def test_iterative_solver_agrees_with_lu(data_csv, order, monkeypatch):
    import attribution.models.markov as mk

    j = Journeys.from_paths(data_csv)
    monkeypatch.setattr(mk, "LU_MAX_STATES", 10**9)
    lu = Markov(order=order).fit(j)
    monkeypatch.setattr(mk, "LU_MAX_STATES", 0)
    it = Markov(order=order).fit(j)
    assert it._tc.n_states > 900  # large enough to be a real test of the iteration
    np.testing.assert_allclose(it.removal_effects_.to_numpy(), lu.removal_effects_.to_numpy(), atol=1e-12)
    np.testing.assert_allclose(it.credits_[["conversions", "value"]].to_numpy(), lu.credits_[["conversions", "value"]].to_numpy(), rtol=1e-10)
    assert it.conversion_probability_ == pytest.approx(19_785 / 88_387, abs=1e-13)
