"""The confounding regimes of ``simulate(regime=...)``: exact truth in every regime, the default
world unchanged, the randomised world's exposure independent of intent."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from attribution.datasets import CHANNELS, REGIMES, simulate
from attribution.datasets._simulate import _shapley

FRAMES = ("touchpoints", "conversions", "identities", "costs", "customers")


def _digest(sim) -> str:
    h = hashlib.sha256()
    for name in FRAMES:
        h.update(getattr(sim, name).to_csv(index=False).encode())
    return h.hexdigest()


def test_default_regime_is_the_episode_world_unchanged():
    a = simulate(400, random_state=11)
    b = simulate(400, random_state=11, regime="episodes", targeting=1.0)
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    # digest of the frames as they were before regimes existed
    assert _digest(a) == "62baab7b68854120f6625af6fd4e76c70c590ebd2b44f1f044ab1cd86c0ca68b"


@pytest.mark.parametrize("regime", REGIMES)
def test_truth_is_efficient_and_exact(regime):
    sim = simulate(1500, random_state=3, regime=regime)
    t = sim.truth()
    assert t.attrs["total_conversions"] == len(sim.conversions)
    assert t.attrs["total_value"] == pytest.approx(sim.conversions["value"].sum(), abs=1e-6)
    assert t["conversions"].sum() == pytest.approx(t.attrs["total_conversions"] - t.attrs["baseline_conversions"], abs=1e-9)
    assert t["value"].sum() == pytest.approx(t.attrs["total_value"] - t.attrs["baseline_value"], abs=1e-6)
    # against brute force over all coalitions, without the swing-row shortcut
    world = sim._world
    masks = np.arange(1 << len(CHANNELS))
    conv = np.concatenate([world.converts(masks[lo : lo + 64]).sum(axis=0) for lo in range(0, masks.size, 64)])
    np.testing.assert_allclose(t["conversions"].to_numpy(), _shapley(conv.astype(float), len(CHANNELS)), atol=1e-9)
    assert sim.counterfactual([])["conversions"] == t.attrs["baseline_conversions"]
    # a null player gets nothing
    t0 = simulate(1500, random_state=3, regime=regime, lift={"video": 0.0}).truth()
    assert t0.loc["video", "conversions"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("regime", REGIMES)
def test_regimes_are_deterministic_by_seed(regime):
    a, b = simulate(300, random_state=7, regime=regime), simulate(300, random_state=7, regime=regime)
    c = simulate(300, random_state=8, regime=regime)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)
    assert a.params["regime"] == regime


def _exposure_intent_correlation(sim) -> pd.Series:
    """Correlation of each channel's exposure with the baseline purchase probability (a
    monotone function of intent) over first purchase cycles."""
    w = sim._world
    first = w.cycle == 0
    base = w.base[first]
    out = {}
    for c, name in enumerate(CHANNELS):
        e = ((w.mask[first] >> c) & 1).astype(float)
        out[name] = np.corrcoef(e, base)[0, 1] if e.std() > 0 else 0.0
    return pd.Series(out)


def test_randomised_exposure_is_independent_of_intent():
    rnd = _exposure_intent_correlation(simulate(20000, random_state=1, regime="randomised"))
    epi = _exposure_intent_correlation(simulate(20000, random_state=1))
    assert rnd.abs().max() < 0.03
    for name in ("paid_search_brand", "retargeting", "direct"):
        assert epi[name] > 0.2


def test_targeting_zero_removes_the_intent_slope_in_market_world():
    sim = simulate(3000, random_state=2, regime="always_in_market", targeting=0.0)
    sim1 = simulate(3000, random_state=2, regime="always_in_market")
    # touches per person of an intent-driven channel: same mean rate without targeting (roughly),
    # but far less dispersion across people
    def dispersion(s):
        n = s.touchpoints.loc[s.touchpoints["channel"] == "retargeting"].groupby("customer_id").size()
        return n.var() / n.mean()
    assert dispersion(sim) < dispersion(sim1)


def test_always_in_market_people_stay_in_market():
    """Touches in the week after a purchase come at about the rate of the week before it (no
    purchase cycles); in the episode world they stop after the purchase."""

    def after_before(sim, window=7.0):
        tp, cv = sim.touchpoints, sim.conversions
        day = 86400.0
        t_touch = (tp["timestamp"] - tp["timestamp"].min()).dt.total_seconds().to_numpy() / day
        t_conv = (cv["timestamp"] - tp["timestamp"].min()).dt.total_seconds().to_numpy() / day
        end = sim.params["days"]
        codes, ids = pd.factorize(pd.concat([tp["customer_id"], cv["customer_id"]]))
        ct, cc = codes[: len(tp)], codes[len(tp) :]
        key = np.sort(ct * 1000.0 + t_touch)
        ok = (t_conv >= window) & (t_conv <= end - window)
        q = cc[ok] * 1000.0 + t_conv[ok]
        after = np.searchsorted(key, q + window, "right") - np.searchsorted(key, q, "right")
        before = np.searchsorted(key, q, "right") - np.searchsorted(key, q - window, "right")
        return after.sum() / before.sum()

    aim = after_before(simulate(3000, random_state=4, regime="always_in_market"))
    epi = after_before(simulate(3000, random_state=4))
    assert 0.7 < aim < 1.1
    assert epi < 0.45


def test_regime_parameter_errors():
    with pytest.raises(ValueError, match="'regime' parameter of simulate"):
        simulate(10, regime="bursts")
    with pytest.raises(ValueError, match="'targeting' parameter of simulate"):
        simulate(10, targeting="high")
