"""Tests of attribution.datasets: the simulator with known ground truth and the bundled sample."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attribution.datasets import CHANNELS, SAMPLE_PARAMS, channel_parameters, load_sample, simulate
from attribution.datasets import _simulate
from attribution.datasets.__main__ import main

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "samples"
FRAMES = ("touchpoints", "conversions", "identities", "costs", "customers")
INTENT = ("paid_search_brand", "retargeting", "affiliate")
UPPER = ("display", "video", "social")


@pytest.fixture(scope="module")
def sim():
    return simulate(**SAMPLE_PARAMS)


def _persons(ids: pd.Series, identities: pd.DataFrame) -> pd.Series:
    """Map cookies to their loyalty card where the link is known (else keep the id)."""
    link = dict(zip(identities["cookie_id"], identities["loyalty_id"]))
    return ids.map(lambda x: link.get(x, x))


def _preceded_share(conversions, touchpoints, identities, place, touch_channels, window="30D"):
    """Share of ``place`` purchases whose person had a touch in ``touch_channels`` within ``window`` before."""
    conv = conversions[conversions["place"] == place].reset_index(drop=True).reset_index()
    conv["person"] = _persons(conv["customer_id"], identities)
    tp = touchpoints[touchpoints["channel"].isin(touch_channels)]
    tp = tp.assign(person=_persons(tp["customer_id"], identities))
    j = conv.merge(tp[["person", "timestamp"]], on="person", suffixes=("", "_touch"))
    inside = (j["timestamp_touch"] <= j["timestamp"]) & (j["timestamp_touch"] > j["timestamp"] - pd.Timedelta(window))
    return j.loc[inside, "index"].nunique() / len(conv)


def _last_touch_share(sim) -> pd.Series:
    """Last-touch credit computed straight from the frames (same id, at or before, 30-day window)."""
    conv = sim.conversions.sort_values("timestamp").reset_index(drop=True)
    tp = sim.touchpoints.sort_values("timestamp").reset_index(drop=True)
    tp = tp.assign(touch_time=tp["timestamp"])
    last = pd.merge_asof(conv, tp, on="timestamp", by="customer_id", direction="backward",
                         tolerance=pd.Timedelta("30D"), allow_exact_matches=True)
    credit = last["channel"].value_counts().reindex(list(CHANNELS), fill_value=0).astype(float)
    return credit / credit.sum()


# --- reproducibility -----------------------------------------------------------------------------

def test_same_seed_gives_identical_frames():
    a, b = simulate(800, random_state=5), simulate(800, random_state=5)
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    pd.testing.assert_frame_equal(a.truth(), b.truth(), check_exact=True)


def test_generator_random_state_matches_int_seed():
    a = simulate(500, random_state=7)
    b = simulate(500, random_state=np.random.default_rng(7))
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


def test_different_seeds_differ():
    a, b = simulate(800, random_state=1), simulate(800, random_state=2)
    assert not a.touchpoints.equals(b.touchpoints)
    assert not a.conversions.equals(b.conversions)
    assert not np.allclose(a.truth().to_numpy(), b.truth().to_numpy())


def test_sample_files_are_reproduced_byte_for_byte(tmp_path, capsys):
    files = sorted(SAMPLE_DIR.glob("*.csv")) if SAMPLE_DIR.is_dir() else []
    if not files:
        pytest.skip("data/samples is absent")
    assert main(["--out", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.glob("*.csv"))
    assert [p.name for p in files] == written
    assert {"touchpoints.csv", "conversions.csv", "identities.csv", "costs.csv", "truth.csv", "paths.csv"} <= set(written)
    for path in files:
        assert path.read_bytes() == (tmp_path / path.name).read_bytes(), path.name
    assert "touchpoints.csv" in capsys.readouterr().out


def test_load_sample_equals_simulate_with_sample_params(sim, tmp_path, monkeypatch):
    if not SAMPLE_DIR.is_dir() or not (SAMPLE_DIR / "truth.csv").is_file():
        pytest.skip("data/samples is absent")
    loaded = load_sample()
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(sim, name))
    pd.testing.assert_frame_equal(loaded.truth(), sim.truth(), check_exact=False, rtol=0, atol=1e-6)
    assert loaded.baseline_conversions == pytest.approx(sim.baseline_conversions, abs=1e-5)
    assert loaded.baseline_value == pytest.approx(sim.baseline_value, abs=1e-4)
    # outside a checkout (no data/samples) the sample is simulated with the same parameters
    monkeypatch.setattr(_simulate, "_sample_dir", lambda: tmp_path / "nowhere")
    fallback = load_sample()
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(fallback, name), getattr(sim, name))


def test_load_sample_from_explicit_missing_directory_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m attribution.datasets"):
        load_sample(tmp_path)


def test_to_csv_format(sim, tmp_path):
    written = sim.to_csv(tmp_path, paths=False)
    assert [p.name for p in written] == ["touchpoints.csv", "conversions.csv", "customers.csv", "identities.csv", "costs.csv", "truth.csv"]
    lines = (tmp_path / "touchpoints.csv").read_text().splitlines()
    assert lines[0] == "customer_id,timestamp,channel"
    assert all(line.split(",")[1].endswith("Z") and len(line.split(",")[1]) == 20 for line in lines[1:50])
    assert b"\r" not in (tmp_path / "conversions.csv").read_bytes()


# --- ground truth ---------------------------------------------------------------------------------

def test_truth_is_efficient(sim):
    truth = sim.truth()
    assert list(truth.index) == list(CHANNELS)
    assert list(truth.columns) == ["conversions", "value"]
    assert truth.attrs["total_conversions"] == len(sim.conversions)
    assert truth.attrs["total_value"] == pytest.approx(sim.conversions["value"].sum(), rel=1e-12)
    incremental = truth.attrs["total_conversions"] - truth.attrs["baseline_conversions"]
    assert truth["conversions"].sum() == pytest.approx(incremental, abs=1e-9)
    incremental_value = truth.attrs["total_value"] - truth.attrs["baseline_value"]
    assert truth["value"].sum() == pytest.approx(incremental_value, rel=1e-9, abs=1e-9)
    assert 0 < sim.baseline_conversions < len(sim.conversions)
    # v(all) and v(none) are the counterfactuals with every / no channel on
    assert sim.counterfactual()["conversions"] == len(sim.conversions)
    assert sim.counterfactual(on=[])["conversions"] == sim.baseline_conversions
    assert sim.counterfactual(on=[])["value"] == pytest.approx(sim.baseline_value, rel=1e-12)


def test_truth_matches_brute_force_coalition_values():
    sim = simulate(600, random_state=11)
    world = sim._world
    coalitions = np.arange(1 << len(CHANNELS))
    fast = world.coalition_values(coalitions)
    conv = world.converts(coalitions)  # every row, every coalition, no shortcut
    np.testing.assert_array_equal(fast[0], conv.sum(axis=0))
    np.testing.assert_array_equal(fast[1], (world.cents @ conv) / 100.0)
    # a single channel's Shapley value by the textbook formula over orderings-of-subsets
    from math import factorial

    n, c = len(CHANNELS), CHANNELS.index("video")
    v = fast[0]
    phi = sum(
        factorial(bin(s).count("1")) * factorial(n - bin(s).count("1") - 1) / factorial(n) * (v[s | 1 << c] - v[s])
        for s in coalitions if not s >> c & 1
    )
    assert sim.truth().loc["video", "conversions"] == pytest.approx(phi, abs=1e-9)


def test_zero_lift_channel_is_a_null_player():
    sim = simulate(1500, random_state=3, lift={"display": 0.0})
    truth = sim.truth()
    assert truth.loc["display", "conversions"] == pytest.approx(0.0, abs=1e-9)
    assert truth.loc["display", "value"] == pytest.approx(0.0, abs=1e-9)
    assert (sim.touchpoints["channel"] == "display").sum() > 100  # still exposed, just useless
    assert truth.loc["direct", "conversions"] == pytest.approx(0.0, abs=1e-9)  # lift 0 by default
    assert channel_parameters({"display": 0.0}).loc["display", "lift"] == 0.0


@pytest.mark.parametrize("seed", [0, 1])
def test_intent_channels_get_less_truth_than_last_touch_suggests(seed):
    sim = simulate(3000, random_state=seed)
    truth = sim.truth()["conversions"]
    truth_share = truth / truth.sum()
    lt_share = _last_touch_share(sim)
    touches = sim.touchpoints["channel"].value_counts().reindex(list(CHANNELS))
    for channel in INTENT:
        assert truth_share[channel] < 0.5 * lt_share[channel], channel
    for channel in UPPER:
        assert truth_share[channel] > 1.5 * lt_share[channel], channel
    per_touch = truth / touches
    assert per_touch[list(INTENT)].max() < per_touch[list(UPPER)].min()


def test_truth_rejects_unknown_kind(sim):
    with pytest.raises(ValueError, match="shapley"):
        sim.truth(kind="markov")


# --- behaviour of the event log --------------------------------------------------------------------

def test_ropo_and_showrooming(sim):
    online = [c for c in CHANNELS if c != "store_visit"]
    ropo = _preceded_share(sim.conversions, sim.touchpoints, sim.identities, "store", online)
    assert ropo > 0.3
    showrooming = _preceded_share(sim.conversions, sim.touchpoints, sim.identities, "online", ["store_visit"])
    assert showrooming > 0.02


def test_timestamps_are_utc_seconds(sim):
    for frame in (sim.touchpoints, sim.conversions):
        assert str(frame["timestamp"].dtype) == "datetime64[s, UTC]"
        assert frame["timestamp"].min() >= pd.Timestamp(SAMPLE_PARAMS["start"], tz="UTC")
        assert frame["timestamp"].max() < pd.Timestamp(SAMPLE_PARAMS["start"], tz="UTC") + pd.Timedelta(days=SAMPLE_PARAMS["days"])


def test_ids_follow_the_recording_rules(sim):
    tp, conv = sim.touchpoints, sim.conversions
    store_touch = tp["channel"] == "store_visit"
    assert tp.loc[store_touch, "customer_id"].str.fullmatch(r"L\d{6,}").all()
    assert tp.loc[~store_touch, "customer_id"].str.fullmatch(r"c\d{6,}").all()
    assert set(conv["place"]) == {"online", "store"}
    assert conv.loc[conv["place"] == "store", "customer_id"].str.startswith("L").all()
    assert conv.loc[conv["place"] == "online", "customer_id"].str.startswith("c").all()
    assert sim.identities["cookie_id"].str.fullmatch(r"c\d{6,}").all()
    assert sim.identities["loyalty_id"].str.fullmatch(r"L\d{6,}").all()
    assert sim.identities["loyalty_id"].duplicated().any()  # two devices, one card
    assert not sim.identities["cookie_id"].duplicated().any()
    assert set(tp["channel"]) == set(CHANNELS)


def test_purchases_repeat_some_never_some_without_touches(sim):
    tp, conv = sim.touchpoints, sim.conversions
    per_customer = conv["customer_id"].value_counts()
    assert per_customer.max() >= 2
    assert (~tp["customer_id"].isin(conv["customer_id"])).sum() > 0  # touched, never bought
    assert (~conv["customer_id"].isin(tp["customer_id"])).sum() > 0  # bought without a touch
    assert (conv["value"] > 0).all()
    assert np.allclose(conv["value"], conv["value"].round(2))


def test_touches_precede_conversions_sometimes_at_the_same_second(sim):
    conv = sim.conversions.reset_index()
    j = conv.merge(sim.touchpoints, on="customer_id", suffixes=("", "_touch"))
    before = j[j["timestamp_touch"] <= j["timestamp"]]
    gap = (before["timestamp"] - before["timestamp_touch"]).dt.total_seconds()
    last_gap = gap.groupby(before["index"]).min()
    assert (last_gap == 0).mean() > 0.02
    assert last_gap.median() > 3600  # typically hours
    assert (last_gap > 86400).mean() > 0.05  # sometimes days


def test_costs_follow_the_touches(sim):
    costs = sim.costs
    assert list(costs.columns) == ["date", "channel", "cost"]
    assert costs["date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert not costs["channel"].isin(["direct", "store_visit"]).any()
    assert (costs["cost"] >= 0).all()
    assert costs["channel"].nunique() * SAMPLE_PARAMS["days"] == len(costs)
    spend = costs.groupby("channel")["cost"].sum()
    touches = sim.touchpoints["channel"].value_counts()
    per_touch = spend / touches.reindex(spend.index)
    expected = channel_parameters()["cost_per_touch"].reindex(spend.index)
    np.testing.assert_allclose(per_touch, expected, rtol=0.05)
    assert per_touch.idxmin() == "email"


def test_simulate_is_fast_and_vectorised():
    import time

    t0 = time.perf_counter()
    big = simulate(100_000, random_state=0)
    elapsed = time.perf_counter() - t0
    assert len(big.touchpoints) > 300_000
    assert elapsed < 10  # about 0.5 s on 2 cores; generous for CI


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_customers": 0}, ValueError, "n_customers"),
        ({"n_customers": 2.5}, TypeError, "n_customers"),
        ({"lift": {"tv": 0.1}}, ValueError, "Choose from"),
        ({"lift": {"display": 1.5}}, ValueError, r"\[0, 1\)"),
        ({"identity_rate": 2}, ValueError, "identity_rate"),
        ({"start": "not a date"}, ValueError, "start"),
    ],
)
def test_parameter_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        simulate(**{"n_customers": 100, **kwargs})


# --- ROPO truth and the loyalty base ----------------------------------------------------------------

def test_customers_are_the_whole_loyalty_base(sim):
    cards = set(sim.customers["loyalty_id"])
    seen = set(sim.conversions.loc[sim.conversions["place"] == "store", "customer_id"])
    assert seen <= cards and set(sim.identities["loyalty_id"]) <= cards
    assert len(cards) > len(seen)  # card holders who never bought in the window are there too
    # past_orders rises with intent, so buyers have more of them than non-buyers
    buyers = sim.customers["loyalty_id"].isin(seen)
    assert sim.customers.loc[buyers, "past_orders"].mean() > sim.customers.loc[~buyers, "past_orders"].mean()


def test_ropo_truth_counts_store_purchases(sim):
    t = sim.ropo_truth()
    observed = sim.conversions.loc[sim.conversions["place"] == "store"]
    assert t["store_conversions"].sum() == len(observed)
    assert t["store_value"].sum() == pytest.approx(observed["value"].sum(), abs=0.01)
    # switching the online channels off can only lose store purchases (lifts are >= 0)
    assert (t["store_conversions_without_online"] <= t["store_conversions"]).all()
    assert 0 < (t["store_conversions"] - t["store_conversions_without_online"]).sum() < len(observed)
    # with no online lift at all, online channels cause nothing in store
    flat = simulate(800, random_state=4, lift={c: 0.0 for c in CHANNELS if c != "store_visit"}).ropo_truth()
    assert (flat["store_conversions"] == flat["store_conversions_without_online"]).all()
