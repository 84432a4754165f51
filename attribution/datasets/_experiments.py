"""Virtual experiments with a known true effect.

* :func:`holdout_test` runs a user-holdout test on a :func:`simulate` world: a random share of the
  people is held out from one channel over a window; with the simulator's fixed draws the held-out
  people's conversions are evaluated with the channel switched off, everyone else's with every
  channel on, and the same draws give the true effect exactly.
* :func:`simulate_geo` draws a geo × day panel (online conversions and store sales) where a
  channel lifts the outcome of some geos during a test period by a known amount.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..experiments import LiftTest
from ._simulate import _C, _DAY, CHANNELS, SimulatedData

__all__ = ["GeoPanel", "holdout_test", "simulate_geo"]


def holdout_test(
    sim: SimulatedData,
    channel: str,
    *,
    holdout: float = 0.1,
    start=None,
    weeks: float = 4,
    outcome: str = "conversions",
    random_state=0,
) -> LiftTest:
    r"""A user-holdout test of one channel on a simulated world, with its true effect.

    Parameters
    ----------
    sim : SimulatedData
        From :func:`simulate` (it must hold the random draws).
    channel : str
    holdout : float, default 0.1
        Share of the people held out (the channel is switched off for them).
    start : date-like, optional
        First day of the test; default: ``weeks`` before the end of the simulated window.
    weeks : float, default 4
    outcome : {"conversions", "value"}
    random_state : int, Generator or None
        Draws the held-out people.

    Returns
    -------
    LiftTest
        ``incremental`` = (conversions per exposed person − per held-out person) × all people,
        i.e. the effect of the channel on everyone over the window, with its two-sample
        standard error; ``spend`` = the channel's spend over the window (the simulator's costs
        cover everyone); ``meta["true_incremental"]`` = conversions over the window with every
        channel on minus with ``channel`` off, for everyone, from the same draws (exact).

    Notes
    -----
    A conversion belongs to the window when its decision time falls inside it. The test
    measures the channel's *marginal* effect with every other channel on, which is not its
    Shapley credit when channels interact (here: ``1 - prod(1 - lift)`` saturates).
    """
    from ..decisions.uncertainty import check_random_state

    w = sim._world
    if w is None:
        raise ValueError("holdout_test needs a world with its random draws: use attribution.datasets.simulate(...), not a loaded sample.")
    if getattr(w, "t", None) is None or getattr(w, "cycle", None) is None:
        raise ValueError(f"holdout_test supports the purchase-cycle worlds of simulate(); this world ({type(w).__name__}, "
                         f"regime {sim.params.get('regime', 'default')!r}) has no per-cycle decision times.")
    if channel not in CHANNELS:
        raise ValueError(f"Unknown channel {channel!r} for holdout_test. Choose from {list(CHANNELS)}.")
    if not 0 < holdout < 1:
        raise ValueError(f"The 'holdout' parameter of holdout_test must be strictly between 0 and 1. Got {holdout!r} instead.")
    if outcome not in ("conversions", "value"):
        raise ValueError(f"The 'outcome' parameter of holdout_test must be 'conversions' or 'value'. Got {outcome!r} instead.")
    origin = pd.Timestamp(sim.params.get("start", "2026-03-01")).tz_localize(None).normalize()
    days = int(sim.params["days"])
    length = int(round(weeks * 7))
    first = origin + pd.Timedelta(days=days - length) if start is None else pd.Timestamp(start).normalize()
    lo = (first - origin).days * _DAY
    hi = lo + length * _DAY
    if lo < 0 or hi > days * _DAY + 1e-9:
        raise ValueError(f"The test window {first.date()} + {length} days is not inside the simulated window of {days} days.")
    full = (1 << _C) - 1
    off = full & ~(1 << CHANNELS.index(channel))
    inside = (w.t >= lo) & (w.t < hi)
    # the channel is off only for cycles decided inside the window (and every later one); earlier
    # cycles ran with every channel on, so their repeat purchases are the same in both arms
    raw = w.raw_converts(np.array([full, off]))
    raw[:, 1] = np.where(w.t >= lo, raw[:, 1], raw[:, 0])
    conv = raw
    for k in range(1, int(w.cycle.max(initial=0)) + 1):
        rows = np.flatnonzero((w.cycle == k) & (w.prev >= 0))
        conv[rows] &= conv[w.prev[rows]]
    weight = np.ones(w.cycle.size) if outcome == "conversions" else w.cents / 100.0
    y = conv * (inside * weight)[:, None]
    n = int(sim.params["n_customers"])
    per_on = np.bincount(w.person, weights=y[:, 0], minlength=n)
    per_off = np.bincount(w.person, weights=y[:, 1], minlength=n)
    rng = check_random_state(random_state)
    held = rng.random(n) < holdout
    n0, n1 = int(held.sum()), int((~held).sum())
    if n0 < 2 or n1 < 2:
        raise ValueError("The holdout group or the exposed group has fewer than 2 people; simulate more customers.")
    a, b = per_on[~held], per_off[held]
    diff = a.mean() - b.mean()
    se = math.sqrt(a.var(ddof=1) / n1 + b.var(ddof=1) / n0)
    costs = sim.costs
    dates = pd.to_datetime(costs["date"])
    sel = (costs["channel"] == channel) & (dates >= first) & (dates < first + pd.Timedelta(days=length))
    spend = float(costs.loc[sel, "cost"].sum()) if sel.any() else None
    return LiftTest(
        channel, first, first + pd.Timedelta(days=length - 1), incremental=float(diff * n), se=float(se * n),
        spend=spend, kind="holdout", outcome=outcome, name=f"{channel} holdout {holdout:.0%}",
        meta={"true_incremental": float(per_on.sum() - per_off.sum()), "holdout": holdout, "people": n,
              "rate_holdout": float(b.mean()), "rate_exposed": float(a.mean())},
    )


@dataclass
class GeoPanel:
    """A simulated geo × day panel with a known lift (returned by :func:`simulate_geo`).

    Attributes
    ----------
    data : DataFrame
        ``geo, date, online_conversions, store_sales, spend`` (the tested channel's spend).
    treated : list of str
    start, end : Timestamp
        The test period (``end`` inclusive).
    channel : str
    spend : float
        Extra spend of the channel in the treated geos over the test.
    truth : DataFrame
        Per outcome: ``incremental`` (exact, from the same draws) and ``lift`` (incremental ÷ the
        treated geos' outcome without the channel).
    """

    data: pd.DataFrame
    treated: list
    start: pd.Timestamp
    end: pd.Timestamp
    channel: str
    spend: float
    truth: pd.DataFrame
    params: dict = field(default_factory=dict)

    def true_lift(self, outcome: str = "online_conversions") -> float:
        """The realised true lift of ``outcome`` in the treated geos over the test."""
        return float(self.truth.loc[outcome, "lift"])

    def true_incremental(self, outcome: str = "online_conversions") -> float:
        """The realised true incremental ``outcome`` in the treated geos over the test."""
        return float(self.truth.loc[outcome, "incremental"])


def simulate_geo(
    n_geos: int = 50,
    days: int = 120,
    *,
    n_treated: int = 10,
    lift: float = 0.05,
    test_days: int = 28,
    start: str = "2026-01-01",
    channel: str = "video",
    noise: float = 0.03,
    spend_per_conversion: float = 0.8,
    random_state=0,
) -> GeoPanel:
    r"""Simulate a geo experiment: ``n_treated`` random geos get a channel during the last ``test_days``.

    Model: geo sizes :math:`a_g \sim \text{LogNormal}(\log 200, 0.6)`; a shared day effect
    (weekly pattern, a smooth trend and common shocks); per geo a small linear trend and an AR(1)
    deviation (:math:`\rho = 0.5`, innovation sd ``noise``). Expected online conversions
    :math:`\mu_{gt} = a_g e^{s_t + b_g t + u_{gt}}`, observed
    :math:`\text{Poisson}(\mu_{gt})`; store sales :math:`= 3 \mu_{gt} \times 45
    e^{0.6 s_t + v_{gt}}` with their own AR(1) deviation. In treated geos during the test the
    channel multiplies both outcomes by :math:`1 + \text{lift}`: store sales exactly, online
    conversions by adding :math:`\text{Poisson}(\mu\,\text{lift})` extra conversions (so the
    true incremental outcome is known from the same draws). The channel's spend in a treated
    geo-day is ``spend_per_conversion`` × its expected online conversions, so the test's
    incremental store sales per unit of spend are about ``lift × 135 / spend_per_conversion``.
    """
    from ..decisions.uncertainty import check_random_state

    if n_treated < 1 or n_treated > n_geos // 2:
        raise ValueError(f"n_treated must be between 1 and n_geos // 2. Got {n_treated!r} with {n_geos} geos.")
    if not 0 < test_days < days - 14:
        raise ValueError(f"test_days must be positive and leave at least 14 pre-period days. Got {test_days!r} of {days}.")
    if lift < 0:
        raise ValueError(f"lift must be non-negative. Got {lift!r}.")
    rng = check_random_state(random_state)
    G, D = int(n_geos), int(days)
    t = np.arange(D)
    size = np.exp(np.log(200.0) + 0.6 * rng.standard_normal(G))
    weekly = np.array([0.0, -0.02, -0.03, -0.01, 0.04, 0.12, 0.08])
    shared = weekly[t % 7] + 0.1 * np.sin(2 * np.pi * t / D) + 0.02 * np.cumsum(rng.standard_normal(D)) / np.sqrt(D) * 5
    slope = 0.02 * rng.standard_normal(G) / D

    def ar(sd):
        e = sd * rng.standard_normal((D, G))
        out = np.empty_like(e)
        out[0] = e[0] / math.sqrt(1 - 0.25)
        for d in range(1, D):
            out[d] = 0.5 * out[d - 1] + e[d]
        return out

    mu = size[None, :] * np.exp(shared[:, None] + slope[None, :] * t[:, None] + ar(noise))
    online0 = rng.poisson(mu)
    store0 = 3.0 * mu * 45.0 * np.exp(0.6 * shared[:, None] + ar(noise))
    treated_idx = np.sort(rng.choice(G, size=n_treated, replace=False))
    in_test = t >= D - test_days
    effect = np.zeros((D, G), dtype=bool)
    effect[np.ix_(in_test, treated_idx)] = True
    extra_online = np.where(effect, rng.poisson(mu * lift), 0)
    online = online0 + extra_online
    store = np.round(store0 * np.where(effect, 1.0 + lift, 1.0), 2)
    spend = np.where(effect, float(spend_per_conversion) * mu, 0.0)
    origin = pd.Timestamp(start).normalize()
    dates = origin + pd.to_timedelta(t, unit="D")
    geos = np.array([f"g{g:02d}" for g in range(G)])
    data = pd.DataFrame({
        "geo": np.tile(geos, D), "date": np.repeat(dates, G),
        "online_conversions": online.ravel(), "store_sales": store.ravel(), "spend": np.round(spend, 2).ravel(),
    })
    inc_online = float(extra_online.sum())
    base_online = float(online0[effect].sum())
    inc_store = float((store - np.round(store0, 2))[effect].sum())
    base_store = float(np.round(store0, 2)[effect].sum())
    truth = pd.DataFrame(
        {"incremental": [inc_online, inc_store], "lift": [inc_online / base_online, inc_store / base_store]},
        index=pd.Index(["online_conversions", "store_sales"], name="outcome"),
    )
    return GeoPanel(
        data=data, treated=list(geos[treated_idx]), start=dates[D - test_days], end=dates[-1], channel=channel,
        spend=float(np.round(spend, 2).sum()), truth=truth,
        params={"n_geos": G, "days": D, "n_treated": n_treated, "lift": lift, "test_days": test_days, "noise": noise},
    )
