"""ROPO report: rates, credit by place, incrementality against the simulator's truth."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import attribution as at
from attribution import Journeys
from attribution.omnichannel import ropo


def hand_journeys() -> Journeys:
    # j0: display, search -> store purchase (research within 30 days: ROPO)
    # j1: store_visit -> online purchase (showrooming)
    # j2: display 40 days before -> store purchase (outside the 30-day research window)
    # j3: search -> online purchase
    # j4: display -> no purchase
    t = pd.to_datetime(["2026-01-01", "2026-01-05", "2026-01-02", "2025-12-01", "2026-01-03", "2026-01-04"]).to_numpy()
    conv_time = pd.to_datetime(["2026-01-10", "2026-01-03", "2026-01-10", "2026-01-04", None]).to_numpy()
    return Journeys(
        ["display", "search", "store_visit"], [0, 1, 2, 0, 1, 0], [0, 2, 3, 4, 5, 6],
        [1, 1, 1, 1, 0], [0, 0, 0, 0, 1], [100.0, 50.0, 80.0, 20.0, 0.0],
        touch_time=t, conversion_time=conv_time, place=["store", "online", "store", "online", None],
        customer=["a", "b", "c", "d", "e"],
    )


def test_rates_by_hand():
    r = ropo(hand_journeys(), "last_touch", offline=["store_visit"])
    s = r.summary
    assert s["store_conversions"] == 2 and s["store_value"] == 180
    assert s["ropo_rate"] == pytest.approx(1 / 2)  # j0 yes, j2 no (40 days before)
    assert s["showrooming_rate"] == pytest.approx(1 / 2)  # j1 yes, j3 no
    # last touch: j0 -> search (store), j2 -> display (store), j1 -> store_visit, j3 -> search
    bc = r.by_channel
    assert bc.loc["search", "store_conversions"] == 1 and bc.loc["search", "online_conversions"] == 1
    assert bc.loc["display", "store_conversions"] == 1 and bc.loc["display", "ropo_share"] == 1
    assert bc.loc["store_visit", "group"] == "offline"
    assert s["store_conversions_credited_to_online"] == 2
    assert s["online_credit_store_share"] == pytest.approx(2 / 3)  # online channels: 3 credited, 2 in store
    assert list(r.store_credit.index) == ["display", "search"]
    assert r.incrementality is None and any("customer base" in n for n in r.notes)


def reference_ropo_rate(j: Journeys, online: set[str], window: pd.Timedelta) -> float:
    """A slow loop over journeys, for comparison."""
    hit = total = 0.0
    for k in range(j.n_journeys):
        if j.place[k] != "store" or j.conversions[k] == 0:
            continue
        total += j.conversions[k]
        a, b = j.offsets[k], j.offsets[k + 1]
        for ch, t in zip(j.channels[j.touch_channel[a:b]], j.touch_time[a:b]):
            if ch in online and j.conversion_time[k] - t <= window:
                hit += j.conversions[k]
                break
    return hit / total


@pytest.fixture(scope="module")
def sim():
    return at.datasets.simulate(3000, random_state=0)


@pytest.fixture(scope="module")
def sim_journeys(sim):
    return sim.journeys(warn=False)


def test_ropo_rate_equals_a_direct_count(sim_journeys):
    online = {c for c in sim_journeys.channels if c != "store_visit"}
    for window in ("30D", "3D"):
        r = ropo(sim_journeys, "linear", offline=["store_visit"], research_window=window)
        assert r.summary["ropo_rate"] == pytest.approx(reference_ropo_rate(sim_journeys, online, pd.Timedelta(window)), abs=1e-12)


@pytest.mark.parametrize("name", sorted(at.MODELS))
def test_place_credits_sum_to_totals_for_every_model(sim_journeys, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = ropo(sim_journeys, name, offline=["store_visit"])
    bc = r.by_channel
    j = sim_journeys
    store = j.place == "store"
    assert bc["store_conversions"].sum() == pytest.approx(j.conversions[store].sum(), rel=1e-9)
    assert bc["online_conversions"].sum() == pytest.approx(j.conversions[~store].sum(), rel=1e-9)
    assert bc["store_value"].sum() == pytest.approx(j.value[store].sum(), rel=1e-9)


def test_stitching_gives_store_purchases_their_online_history(sim):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = Journeys.from_events(sim.touchpoints, sim.conversions)
    stitched = sim.journeys(warn=False)
    r0 = ropo(plain, "linear", offline=["store_visit"])
    r1 = ropo(stitched, "linear", offline=["store_visit"])
    # without the cookie <-> card links, store purchases see only store visits
    assert r0.summary["ropo_rate"] == 0.0
    assert r1.summary["ropo_rate"] > 0.4
    assert r1.summary["store_conversions_credited_to_online"] > r0.summary["store_conversions_credited_to_online"]


def test_markov_store_credit_comes_from_the_multi_outcome_chain(sim_journeys):
    r = ropo(sim_journeys, "markov", offline=["store_visit"])
    m = at.Markov().fit(sim_journeys)
    store = m.place_credits_[m.place_credits_["place"] == "store"].set_index("channel")["conversions"]
    pd.testing.assert_series_equal(
        r.by_channel["store_conversions"], store.reindex(r.by_channel.index), check_names=False
    )


def test_incrementality_against_the_simulators_truth(sim, sim_journeys):
    r = ropo(sim_journeys, "markov", offline=["store_visit"], customers=sim.customers, n_boot=200, random_state=0)
    inc = r.incrementality
    # the truth for the same treated customers: store purchases with all channels on minus with
    # the online channels off (same random draws)
    truth = sim.ropo_truth()
    person = pd.Index(sim_journeys.person_of(sim.customers["loyalty_id"]))
    online_touch = np.isin(sim_journeys.channels, [c for c in sim_journeys.channels if c != "store_visit"])[sim_journeys.touch_channel]
    touched = set(pd.Series(sim_journeys.customer).iloc[np.unique(sim_journeys.journey_index[online_touch])])
    treated = person.isin(list(touched))
    effect = (truth["store_conversions"] - truth["store_conversions_without_online"]).reindex(sim.customers["loyalty_id"]).to_numpy()
    true_att = effect[treated].mean()
    assert inc["treated"] == treated.sum()
    print(
        f"\nROPO incrementality on the simulator: ATT {inc['att']:.4f} "
        f"(90% interval {inc['att_low']:.4f} .. {inc['att_high']:.4f}), true ATT {true_att:.4f}; "
        f"incremental store purchases {inc['incremental_store_conversions']:.1f} "
        f"({inc['incremental_low']:.1f} .. {inc['incremental_high']:.1f}), true {effect[treated].sum():.0f} "
        f"among the treated, {effect.sum():.0f} in all; naive difference {inc['naive_difference']:.4f}"
    )
    assert inc["att_low"] <= true_att <= inc["att_high"]
    assert inc["att_low"] < inc["att"] < inc["att_high"]


def test_ipw_without_covariates_is_the_naive_difference():
    j = hand_journeys()
    customers = pd.DataFrame({"id": ["a", "c", "e", "z"]})  # z: a card holder never seen
    r = ropo(j, "linear", offline=["store_visit"], customers=customers, customer_id="id", n_boot=20)
    inc = r.incrementality
    # treated (online touch): a (1 store purchase), c (1), e (0); untreated: z (0)
    assert inc["treated"] == 3
    assert inc["store_rate_treated"] == pytest.approx(2 / 3)
    assert inc["att"] == pytest.approx(2 / 3) == inc["naive_difference"]


def test_errors():
    j = hand_journeys()
    with pytest.raises(ValueError, match="needs conversion places"):
        ropo(j._replace(place=None), "linear")
    with pytest.raises(ValueError, match="No conversion happened at a store place"):
        ropo(j, "linear", store_places=["shop"])
    with pytest.raises(ValueError, match="both online and offline"):
        ropo(j, "linear", online=["display"], offline=["display"])
    with pytest.raises(ValueError, match="'research_window' parameter of ropo"):
        ropo(j, "linear", research_window="soon")


def test_plot_and_html(tmp_path):
    r = ropo(hand_journeys(), "linear", offline=["store_visit"])
    ax = r.plot()
    assert ax.get_xlabel() == "credited conversions"
    assert sorted(t.get_text() for t in ax.get_yticklabels()) == ["display", "search"]  # online channels only
    ax.figure.savefig(tmp_path / "ropo.png")
    html = r._repr_html_()
    assert "ROPO" in html and "<table" in html
