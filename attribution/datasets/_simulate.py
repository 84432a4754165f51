"""Simulated omnichannel event logs whose true incremental channel effects are known.

The generative model (all draws are made once, with one ``numpy.random.Generator``)
----------------------------------------------------------------------------------
Every simulated *person* ``i`` has a latent purchase intent ``z_i ~ N(0, 1)`` and a segment:
online-only (a cookie), omnichannel (a cookie and a loyalty card) or store-only (a card).
A person lives through up to ``max_purchases`` *purchase cycles*. Cycle ``k`` is a journey of
duration ``D ~ LogNormal`` ending at a decision time ``t_k``; the first cycle starts uniformly in
the observation window, cycle ``k + 1`` starts a few days after purchase ``k`` and exists only if
purchase ``k`` happened (repeat purchases). In each cycle:

1. channel ``c`` reaches the person with probability ``sigmoid(alpha_c + beta_c z_i)``
   (``beta_c`` is large for the intent-driven channels — brand search, retargeting, affiliate,
   direct — and about 0 for the upper-funnel channels display, video and social); an exposed
   channel produces ``1 + Poisson(lambda_c)`` touches at ``t_k - D w`` with ``w ~ Beta`` (late in
   the journey for intent-driven channels, early for upper-funnel ones, sometimes exactly at
   ``t_k``);
2. with ``E`` the set of exposed channels and ``S`` the set of channels switched on, the cycle
   converts iff ``u < p(S) = 1 - (1 - b(z_i)) * prod_{c in E ∩ S} (1 - lift_c)``, where
   ``u ~ U(0, 1)`` is drawn once and ``b(z) = sigmoid(b_0 + b_1 z)`` is the baseline (no-marketing)
   purchase probability; a cycle whose decision falls after the window never converts;
3. the order value and the place (online or store) are drawn once per cycle.

Conversion outcomes are therefore a deterministic function of the fixed draws and of ``S``, so
``v(S)`` (conversions or value when only the channels in ``S`` are on, repeat purchases included)
can be evaluated for every coalition, and each channel's true incremental effect is the exact
Shapley value of ``v``. Online touches and purchases are logged under a cookie id (``c000123``;
a few people have two devices, hence two cookies), store visits and store purchases under the
loyalty-card id (``L000123``); the cookie–card links are known for a fraction of the people.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CHANNELS", "REGIMES", "SAMPLE_PARAMS", "SimulatedData", "channel_parameters", "load_sample", "simulate"]

_DAY = 86_400.0

# name, lift, alpha, beta, repeat shift, lambda, timing Beta(a, b), P(at conversion time), cost/touch
# (cost/touch = CPC for clicks, or CPM x impressions served per tracked view; None = unpaid)
_CHANNEL_TABLE: tuple[tuple[Any, ...], ...] = (
    ("paid_search_brand", 0.010, -2.2, 1.5, 0.3, 0.4, 1.0, 4.0, 0.08, 0.80),
    ("paid_search_generic", 0.050, -1.5, 0.5, 0.0, 0.6, 1.5, 2.0, 0.02, 2.20),
    ("display", 0.060, -0.5, 0.0, 0.0, 1.5, 2.0, 1.2, 0.00, 0.50),
    ("social", 0.050, -0.8, 0.1, 0.0, 1.0, 1.8, 1.3, 0.00, 0.65),
    ("video", 0.080, -1.3, 0.0, 0.0, 0.8, 2.5, 1.2, 0.00, 1.10),
    ("email", 0.040, -0.6, 0.4, 0.8, 1.2, 1.2, 1.5, 0.02, 0.02),
    ("affiliate", 0.010, -2.7, 1.3, 0.2, 0.2, 1.0, 5.0, 0.08, 1.20),
    ("retargeting", 0.010, -2.0, 1.5, 0.4, 2.0, 1.0, 3.0, 0.03, 0.35),
    ("direct", 0.000, -1.3, 1.4, 0.6, 0.5, 1.0, 4.0, 0.10, None),
    ("store_visit", 0.100, -1.2, 0.8, 0.2, 0.2, 1.3, 1.6, 0.00, None),
)

#: Channel names in the simulator's canonical order (the order of :meth:`SimulatedData.truth`).
CHANNELS: tuple[str, ...] = tuple(row[0] for row in _CHANNEL_TABLE)
_C = len(CHANNELS)
_STORE = CHANNELS.index("store_visit")
_EMAIL = CHANNELS.index("email")
_LIFT = np.array([row[1] for row in _CHANNEL_TABLE])
_ALPHA = np.array([row[2] for row in _CHANNEL_TABLE])
_BETA = np.array([row[3] for row in _CHANNEL_TABLE])
_REPEAT = np.array([row[4] for row in _CHANNEL_TABLE])
_LAMBDA = np.array([row[5] for row in _CHANNEL_TABLE])
_TIME_A = np.array([row[6] for row in _CHANNEL_TABLE])
_TIME_B = np.array([row[7] for row in _CHANNEL_TABLE])
_P_AT_CONVERSION = np.array([row[8] for row in _CHANNEL_TABLE])
_COST = np.array([np.nan if row[9] is None else row[9] for row in _CHANNEL_TABLE])

# Segments: 0 online only (cookie), 1 omnichannel (cookie + card), 2 store only (card).
_SEGMENT_P = np.array([0.5, 0.4, 0.1])
_BASE_INTERCEPT = (-2.8, -1.8)  # first purchase, repeat purchase
_BASE_SLOPE = 1.4
_JOURNEY_MEDIAN_DAYS = 3.0
_JOURNEY_SIGMA = 0.9
_REPEAT_GAP_DAYS = (0.5, 12.0)  # minimum, mean of the exponential excess
_P_STORE_OMNI = (0.4, 0.7)  # P(buy in store) for omnichannel people without / with a store visit
_VALUE = {"online": (60.0, 0.6), "store": (75.0, 0.6)}  # lognormal median and sigma
_COST_JITTER = 0.10

#: Parameters of the sample in ``data/samples/``; ``simulate(**SAMPLE_PARAMS)`` reproduces it.
SAMPLE_PARAMS: dict[str, Any] = {"n_customers": 3000, "start": "2026-03-01", "days": 60, "random_state": 0}

_TS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

#: The confounding regimes of :func:`simulate` (``regime=``), the default first.
REGIMES: tuple[str, ...] = ("episodes", "always_in_market", "randomised")

# regime="always_in_market": touch rate per day = (1 + lambda_c) sigmoid(...) / _AIM_CYCLE_DAYS,
# daily baseline hazard sigmoid(_AIM_BASE + _BASE_SLOPE z), hazard effect gamma_c = lift_c * _AIM_GAMMA
# per unit of adstock, adstock half-life _AIM_HALF_LIFE days; people are processed in chunks.
_AIM_CYCLE_DAYS = 40.0
_AIM_BASE = -6.0
_AIM_GAMMA = 0.1
_AIM_HALF_LIFE = 7.0
_AIM_CHUNK = 20_000
#: past_orders ~ Poisson(exp(a + b * intent)) for card holders
_PAST_ORDERS = (0.3, 0.6)

_FILES = ("touchpoints", "conversions", "identities", "costs", "customers", "truth")


def channel_parameters(lift: dict[str, float] | None = None) -> pd.DataFrame:
    """The per-channel parameters of the generative model.

    Parameters
    ----------
    lift : dict, optional
        Overrides of the true lifts, as accepted by :func:`simulate`.

    Returns
    -------
    pandas.DataFrame
        Indexed by channel, with columns ``lift`` (true causal lift per exposed purchase cycle),
        ``alpha`` and ``beta`` (exposure probability ``sigmoid(alpha + beta * intent)``),
        ``repeat_shift`` (added to the exposure logit in repeat-purchase cycles), ``extra_touches``
        (Poisson mean of touches beyond the first), ``timing_a``/``timing_b`` (touch at
        ``t - D * Beta(a, b)``), ``p_at_conversion`` and ``cost_per_touch`` (NaN: unpaid).

    Examples
    --------
    >>> float(channel_parameters().loc["direct", "lift"])
    0.0
    """
    return pd.DataFrame(
        {
            "lift": _lifts(lift),
            "alpha": _ALPHA,
            "beta": _BETA,
            "repeat_shift": _REPEAT,
            "extra_touches": _LAMBDA,
            "timing_a": _TIME_A,
            "timing_b": _TIME_B,
            "p_at_conversion": _P_AT_CONVERSION,
            "cost_per_touch": _COST,
        },
        index=pd.Index(CHANNELS, name="channel"),
    )


def _lifts(lift: dict[str, float] | None) -> np.ndarray:
    out = _LIFT.copy()
    if lift is None:
        return out
    if not isinstance(lift, dict):
        raise TypeError(f"The 'lift' parameter of simulate must be a dict channel -> lift. Got {type(lift).__name__} instead.")
    for name, value in lift.items():
        if name not in CHANNELS:
            raise ValueError(f"The 'lift' parameter of simulate has an unknown channel {name!r}. Choose from {list(CHANNELS)}.")
        value = float(value)
        if not 0.0 <= value < 1.0:
            raise ValueError(f"The 'lift' parameter of simulate must map channels to numbers in [0, 1). Got {name!r}: {value!r} instead.")
        out[CHANNELS.index(name)] = value
    return out


def _keep_table(lifts: np.ndarray) -> np.ndarray:
    """``table[m] = prod_{c in m} (1 - lift_c)`` for every channel bitmask ``m``, in a fixed order."""
    table = np.ones(1)
    for c in range(len(lifts)):
        table = np.concatenate([table, table * (1.0 - lifts[c])])
    return table


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True, eq=False)
class _World:
    """The fixed random draws, one row per reached purchase cycle (rows ordered by cycle)."""

    cycle: np.ndarray  # int16, 0-based purchase cycle
    prev: np.ndarray  # int64, row of the same person's previous cycle (-1 for the first)
    mask: np.ndarray  # int64, bitmask of the exposed channels
    base: np.ndarray  # float64, baseline purchase probability b(z)
    u: np.ndarray  # float64, the uniform that decides the purchase
    cents: np.ndarray  # int64, order value in cents
    in_window: np.ndarray  # bool, decision time inside the observation window
    keep: np.ndarray  # float64[2^C], prod (1 - lift) over each channel subset
    store: np.ndarray | None = None  # bool, the purchase would be made in a store
    person: np.ndarray | None = None  # int64, the person of the cycle
    t: np.ndarray | None = None  # float64, decision time in seconds after the window start

    def raw_converts(self, coalitions: np.ndarray) -> np.ndarray:
        """Bool (rows, len(coalitions)): would the cycle convert, ignoring the earlier cycles."""
        coalitions = np.asarray(coalitions, dtype=np.int64)
        p = 1.0 - (1.0 - self.base)[:, None] * self.keep[self.mask[:, None] & coalitions[None, :]]
        return (self.u[:, None] < p) & self.in_window[:, None]

    def converts(self, coalitions: np.ndarray) -> np.ndarray:
        """Bool (rows, len(coalitions)): the cycle happens and converts when only ``coalitions`` are on.

        A repeat cycle happens only if the previous one converted (``prev == -1``: no condition).
        """
        conv = self.raw_converts(coalitions)
        for k in range(1, int(self.cycle.max(initial=0)) + 1):
            rows = np.flatnonzero((self.cycle == k) & (self.prev >= 0))
            conv[rows] &= conv[self.prev[rows]]
        return conv

    def subset(self, rows: np.ndarray) -> "_World":
        """The world restricted to ``rows`` (sorted); a dropped ``prev`` becomes -1."""
        new_index = np.full(self.cycle.size, -1, dtype=np.int64)
        new_index[rows] = np.arange(rows.size)
        prev = self.prev[rows]
        prev = np.where(prev >= 0, new_index[np.maximum(prev, 0)], -1)
        take = lambda a: None if a is None else a[rows]  # noqa: E731
        return _World(self.cycle[rows], prev, self.mask[rows], self.base[rows], self.u[rows],
                      self.cents[rows], self.in_window[rows], self.keep, take(self.store), take(self.person),
                      take(self.t))

    def coalition_values(self, coalitions: np.ndarray, chunk: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """Conversions and value (in currency units, summed exactly in cents) for each coalition bitmask.

        Notes
        -----
        ``p(S)`` is monotone in ``S`` (also in floating point: every factor ``1 - lift`` is <= 1
        and rounding is monotone), so a cycle that converts with no channel on converts under every
        ``S`` and one that does not convert with every channel on never does. Only the other
        ("swing") cycles and the repeat cycles that hang on them are evaluated per coalition.
        """
        coalitions = np.asarray(coalitions, dtype=np.int64)
        full = self.keep.size - 1
        bounds = self.raw_converts(np.array([0, full]))
        hi = bounds[:, 1]
        swing = hi & ~bounds[:, 0]
        var = swing.copy()
        for k in range(1, int(self.cycle.max(initial=0)) + 1):
            rows = np.flatnonzero((self.cycle == k) & (self.prev >= 0))
            var[rows] |= hi[rows] & var[self.prev[rows]]
        # every non-variable row with hi true converts under all S (its earlier cycles too)
        fixed = hi & ~var
        base_conversions = int(fixed.sum())
        base_cents = int(self.cents[fixed].sum())
        sub = self.subset(np.flatnonzero(var))
        conversions = np.full(len(coalitions), base_conversions, dtype=np.int64)
        cents = np.full(len(coalitions), base_cents, dtype=np.int64)
        for lo in range(0, len(coalitions), chunk):
            conv = sub.converts(coalitions[lo : lo + chunk])
            conversions[lo : lo + chunk] += conv.sum(axis=0)
            cents[lo : lo + chunk] += sub.cents @ conv
        return conversions.astype(np.float64), cents / 100.0


@dataclass(frozen=True, eq=False)
class _DailyWorld:
    """The fixed draws of ``regime="always_in_market"``: one row per candidate person-day.

    Only person-days that buy with every channel on (``u < p(all)``) are kept: by monotonicity
    the others buy under no coalition.
    """

    effect: np.ndarray  # float64 (rows, C): gamma_c * adstock of channel c on that day
    base: np.ndarray  # float64, daily baseline hazard h(z)
    u: np.ndarray  # float64, the uniform that decides the purchase
    cents: np.ndarray  # int64, order value in cents
    store: np.ndarray  # bool, the purchase would be made in a store
    person: np.ndarray  # int64

    def converts(self, coalitions: np.ndarray) -> np.ndarray:
        """Bool (rows, len(coalitions)): does the person-day buy when only ``coalitions`` are on."""
        coalitions = np.asarray(coalitions, dtype=np.int64)
        on = ((coalitions[:, None] >> np.arange(_C, dtype=np.int64)[None, :]) & 1).astype(np.float64)
        # an elementwise product and a sum over the last axis: the same rounding for every chunk
        # of coalitions, and monotone in the coalition (all terms are >= 0)
        s = (self.effect[:, None, :] * on[None, :, :]).sum(axis=-1)
        p = 1.0 - (1.0 - self.base)[:, None] * np.exp(-s)
        return self.u[:, None] < p

    raw_converts = converts

    def coalition_values(self, coalitions: np.ndarray, chunk: int = 16) -> tuple[np.ndarray, np.ndarray]:
        """Conversions and value (currency units, summed in cents) for each coalition bitmask."""
        coalitions = np.asarray(coalitions, dtype=np.int64)
        bounds = self.converts(np.array([0, (1 << _C) - 1]))
        fixed = bounds[:, 0]
        swing = np.flatnonzero(bounds[:, 1] & ~fixed)
        sub = _DailyWorld(self.effect[swing], self.base[swing], self.u[swing], self.cents[swing],
                          self.store[swing], self.person[swing])
        conversions = np.full(len(coalitions), int(fixed.sum()), dtype=np.int64)
        cents = np.full(len(coalitions), int(self.cents[fixed].sum()), dtype=np.int64)
        for lo in range(0, len(coalitions), chunk):
            conv = sub.converts(coalitions[lo : lo + chunk])
            conversions[lo : lo + chunk] += conv.sum(axis=0)
            cents[lo : lo + chunk] += sub.cents @ conv
        return conversions.astype(np.float64), cents / 100.0


def _always_in_market(rng, intent, segment, has_cookie, has_card, two_devices, order, days, lifts, targeting):
    """Touches and candidate purchase days of ``regime="always_in_market"`` (see :func:`simulate`)."""
    n = intent.size
    horizon = days * _DAY
    eligible = np.zeros((n, _C), dtype=bool)
    eligible[:, np.arange(_C) != _STORE] = has_cookie[:, None]
    eligible[:, _STORE] = has_card
    eligible[:, _EMAIL] = has_cookie & has_card
    rate = (1.0 + _LAMBDA) * _sigmoid(_ALPHA + targeting * _BETA * intent[:, None]) / _AIM_CYCLE_DAYS
    count = rng.poisson(rate * days * eligible)  # (n, C)
    # touches, people in the order of their first id (almost sorted output)
    cell = np.repeat(np.arange(n * _C, dtype=np.int64), count[order].ravel())
    row, ch = np.divmod(cell, _C)
    person = order[row]
    when = rng.random(cell.size) * horizon
    dev = two_devices[person] & (rng.random(cell.size) < 0.5)
    touch_parts = [(person, ch, when, dev)]

    # daily adstock and candidate purchase days, people in chunks of index order
    by_person = np.argsort(person, kind="stable")
    starts = np.searchsorted(person[by_person], np.arange(n + 1))
    t_day = (when // _DAY).astype(np.int64)
    decay = 0.5 ** (1.0 / _AIM_HALF_LIFE)
    gamma = lifts * _AIM_GAMMA
    base_all = _sigmoid(_AIM_BASE + _BASE_SLOPE * intent)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("person", "day", "u", "effect")}
    for lo in range(0, n, _AIM_CHUNK):
        hi = min(n, lo + _AIM_CHUNK)
        m = hi - lo
        sel = by_person[starts[lo] : starts[hi]]
        daily = np.bincount(((person[sel] - lo) * days + t_day[sel]) * _C + ch[sel], minlength=m * days * _C)
        daily = daily.reshape(m, days, _C).astype(np.float64)
        adstock = np.zeros((m, days, _C))
        for d in range(1, days):
            adstock[:, d] = decay * adstock[:, d - 1] + daily[:, d - 1]
        effect = adstock * gamma
        s_all = effect.sum(axis=-1)
        p_all = 1.0 - (1.0 - base_all[lo:hi])[:, None] * np.exp(-s_all)
        u = rng.random((m, days))
        cand_p, cand_d = np.nonzero(u < p_all)
        parts["person"].append(lo + cand_p)
        parts["day"].append(cand_d)
        parts["u"].append(u[cand_p, cand_d])
        parts["effect"].append(effect[cand_p, cand_d])
    cand = {k: np.concatenate(v) if v else np.zeros(0) for k, v in parts.items()}
    c_person = cand["person"].astype(np.int64)
    r = c_person.size
    t = (cand["day"] + rng.random(r)) * _DAY
    seg = segment[c_person]
    visited = count[c_person, _STORE] > 0
    p_store = np.where(seg == 2, 1.0, np.where(seg == 0, 0.0, np.where(visited, _P_STORE_OMNI[1], _P_STORE_OMNI[0])))
    store = rng.random(r) < p_store
    med = np.where(store, _VALUE["store"][0], _VALUE["online"][0])
    sig = np.where(store, _VALUE["store"][1], _VALUE["online"][1])
    value = np.maximum(np.round(med * np.exp(sig * rng.standard_normal(r)), 2), 1.0)
    device = two_devices[c_person] & (rng.random(r) < 0.5)
    world = _DailyWorld(
        effect=cand["effect"].reshape(r, _C), base=base_all[c_person], u=cand["u"],
        cents=np.round(value * 100).astype(np.int64), store=store, person=c_person,
    )
    cyc = {"person": c_person, "store": store, "device": device, "t": t, "value": value}
    return world, cyc, touch_parts


def _shapley(v: np.ndarray, n: int) -> np.ndarray:
    """Exact Shapley values of the game ``v`` given on all ``2**n`` coalition bitmasks."""
    masks = np.arange(1 << n)
    size = np.zeros(1 << n, dtype=np.int64)
    for c in range(n):
        size += (masks >> c) & 1
    weight = np.array([math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)])
    phi = np.empty(n)
    for c in range(n):
        without = masks[((masks >> c) & 1) == 0]
        phi[c] = np.sum(weight[size[without]] * (v[without | (1 << c)] - v[without]))
    return phi


def _truth_shapley(world: _World) -> pd.DataFrame:
    coalitions = np.arange(1 << _C)
    conversions, value = world.coalition_values(coalitions)
    out = pd.DataFrame(
        {"conversions": _shapley(conversions, _C), "value": _shapley(value, _C)},
        index=pd.Index(CHANNELS, name="channel"),
    )
    out.attrs.update(
        baseline_conversions=float(conversions[0]),
        baseline_value=float(value[0]),
        total_conversions=float(conversions[-1]),
        total_value=float(value[-1]),
    )
    return out


_TRUTH_KINDS = {"shapley": _truth_shapley}


@dataclass(frozen=True, eq=False)
class SimulatedData:
    """A simulated omnichannel event log and its ground truth.

    Returned by :func:`simulate` and :func:`load_sample`; see the module docstring of
    :mod:`attribution.datasets` for the generative model.

    Attributes
    ----------
    touchpoints : pandas.DataFrame
        ``customer_id`` (str: cookie id ``c…`` for online channels, loyalty id ``L…`` for
        ``store_visit``), ``timestamp`` (``datetime64[s, UTC]``), ``channel`` (str); sorted by
        customer, time and channel.
    conversions : pandas.DataFrame
        ``customer_id`` (cookie id for ``place == "online"``, loyalty id for ``"store"``),
        ``timestamp``, ``value`` (order value, rounded to cents, > 0), ``place``.
    identities : pandas.DataFrame
        ``cookie_id``, ``loyalty_id``: the known (incomplete) links between cookies and cards.
    costs : pandas.DataFrame
        ``date`` (str ``YYYY-MM-DD``), ``channel``, ``cost``: daily spend of every paid channel.
    customers : pandas.DataFrame
        The loyalty base: every card holder (seen in the data or not), ``loyalty_id``,
        ``past_orders`` (purchases in the year before the window; rises with the latent intent,
        so it is an observed but partial proxy of the confounder) and ``tenure_years`` (noise).
    params : dict
        The arguments of :func:`simulate` that produced the data.
    """

    touchpoints: pd.DataFrame
    conversions: pd.DataFrame
    identities: pd.DataFrame
    costs: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)
    _world: _World | None = field(default=None, repr=False)
    customers: pd.DataFrame = field(default_factory=pd.DataFrame)
    _person_card: np.ndarray | None = field(default=None, repr=False)
    _stored_truth: pd.DataFrame | None = field(default=None, repr=False)
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def channels(self) -> tuple[str, ...]:
        """The simulated channels, in canonical order."""
        return CHANNELS

    # -- display -----------------------------------------------------------------------------

    def _frames(self) -> dict[str, pd.DataFrame]:
        return {"touchpoints": self.touchpoints, "conversions": self.conversions, "identities": self.identities,
                "costs": self.costs, "customers": self.customers}

    def _headline(self) -> str:
        p = self.params
        conv = self.conversions
        places = ""
        if "place" in conv.columns and len(conv):
            counts = conv["place"].value_counts()
            places = " (" + ", ".join(f"{n:,} {k}" for k, n in counts.items()) + ")"
        value = float(conv["value"].sum()) if "value" in conv.columns else float("nan")
        p = {"regime": "episodes", **p}  # the sample's parameters leave the default regime out
        where = ", ".join(f"{k}={p[k]!r}" for k in ("regime", "n_customers", "days", "start", "random_state") if k in p)
        return (
            f"SimulatedData({where}): {len(self.touchpoints):,} touches over {len(self.channels)} channels, "
            f"{len(conv):,} conversions{places}, value {value:,.2f}"
        )

    def __repr__(self) -> str:
        lines = [self._headline()]
        for name, frame in self._frames().items():
            cols = ", ".join(map(str, frame.columns))
            lines.append(f"  .{name:<12} {len(frame):>9,} rows  [{cols}]")
        lines.append("  .truth() true incremental credit; .journeys() Journeys; .to_csv(dir) files")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        from .._display import _html_table

        rows = {name: {"rows": len(f), "columns": ", ".join(map(str, f.columns))} for name, f in self._frames().items()}
        sizes = pd.DataFrame.from_dict(rows, orient="index")
        sizes.index.name = "attribute"
        head = self.touchpoints.head(3).astype(str)
        head.index = [str(i) for i in head.index]
        return (
            f"<div style='max-width:72em'><p><b>{html.escape(self._headline())}</b></p>"
            + _html_table(sizes, formats={"rows": "{:,}"}, default="{}")
            + "<details><summary>first rows of touchpoints</summary>"
            + _html_table(head, default="{}") + "</details>"
            + "<p><code>.truth()</code> true incremental credit per channel; <code>.journeys()</code> the "
            "Journeys; <code>.to_csv(directory)</code> writes the files.</p></div>"
        )

    def truth(self, kind: str = "shapley") -> pd.DataFrame:
        """Each channel's true incremental conversions and value.

        Parameters
        ----------
        kind : {"shapley"}
            ``"shapley"``: the exact Shapley value of the game ``v(S)`` = conversions (value) that
            happen, with the same random draws, when only the channels in ``S`` are switched on;
            computed over all ``2**n`` coalitions of the ``n`` channels.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``channel``, columns ``conversions`` and ``value``. ``attrs`` holds
            ``baseline_conversions``/``baseline_value`` (``v(∅)``, what happens with all marketing
            off) and ``total_conversions``/``total_value`` (``v(all)``, the observed totals).

        Raises
        ------
        ValueError
            If ``kind`` is unknown.

        Notes
        -----
        Shapley efficiency: ``truth.sum() == v(all) - v(∅)``. The truth is *incremental*
        conversions; the remaining ``v(∅)`` conversions are baseline conversions that would have
        happened without marketing, so attribution models (which share out all conversions) should
        be compared on shares, or on ``truth + baseline share``. Repeat purchases are counted: a
        channel that enables a first purchase is credited with the repeat purchases that follow.

        References
        ----------
        Shapley, L. S. (1953). A value for n-person games. Zhao, K., Mahboobi, S. H. & Bagheri, S.
        R. (2018). Shapley value methods for attribution modeling in online advertising.

        Examples
        --------
        >>> sim = simulate(500, random_state=1)
        >>> t = sim.truth()
        >>> bool(abs(t["conversions"].sum() - (t.attrs["total_conversions"] - t.attrs["baseline_conversions"])) < 1e-9)
        True
        """
        if kind not in _TRUTH_KINDS:
            raise ValueError(f"The 'kind' parameter of truth must be one of {sorted(_TRUTH_KINDS)}. Got {kind!r} instead.")
        if kind not in self._cache:
            if self._world is None:
                if kind != "shapley" or self._stored_truth is None:
                    raise ValueError(f"This SimulatedData was loaded from files and holds only the stored 'shapley' truth; call simulate() to compute kind={kind!r}.")
                self._cache[kind] = self._stored_truth
            else:
                self._cache[kind] = _TRUTH_KINDS[kind](self._world)
        out = self._cache[kind].copy()
        out.attrs = dict(self._cache[kind].attrs)
        return out

    @property
    def baseline_conversions(self) -> float:
        """``v(∅)``: conversions that happen with every channel switched off."""
        return self.truth().attrs["baseline_conversions"]

    @property
    def baseline_value(self) -> float:
        """``v(∅)`` measured in value."""
        return self.truth().attrs["baseline_value"]

    def counterfactual(self, on: list[str] | tuple[str, ...] | None = None) -> dict[str, float]:
        """Conversions and value when only the channels in ``on`` are switched on.

        Parameters
        ----------
        on : sequence of str, optional
            Channels switched on (default all, which reproduces the observed totals).

        Returns
        -------
        dict
            ``{"conversions": float, "value": float}``.

        Examples
        --------
        >>> sim = simulate(500, random_state=1)
        >>> sim.counterfactual()["conversions"] == len(sim.conversions)
        True
        """
        if self._world is None:
            raise ValueError("This SimulatedData was loaded from files and holds no random draws; call simulate() for counterfactuals.")
        names = CHANNELS if on is None else list(on)
        unknown = [c for c in names if c not in CHANNELS]
        if unknown:
            raise ValueError(f"The 'on' parameter of counterfactual has unknown channels {unknown}. Choose from {list(CHANNELS)}.")
        s = sum(1 << CHANNELS.index(c) for c in set(names))
        conversions, value = self._world.coalition_values(np.array([s]))
        return {"conversions": float(conversions[0]), "value": float(value[0])}

    def ropo_truth(self, offline: tuple[str, ...] = ("store_visit",)) -> pd.DataFrame:
        """True effect of the online channels on store purchases, per loyalty customer.

        With the same random draws, counts each card holder's store purchases with every
        channel on (what was observed) and with the online channels switched off (the
        ``offline`` channels, store visits, stay on). Their difference is the number of store
        purchases the online channels caused: the true ROPO effect.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``loyalty_id`` (every card holder), columns ``store_conversions``,
            ``store_conversions_without_online``, ``store_value``,
            ``store_value_without_online``.

        Examples
        --------
        >>> t = simulate(800, random_state=2).ropo_truth()
        >>> bool((t["store_conversions"] >= t["store_conversions_without_online"]).all())
        True
        """
        if self._world is None or self._world.store is None:
            raise ValueError("This SimulatedData was loaded from files and holds no random draws; call simulate() for the ROPO truth.")
        unknown = [c for c in offline if c not in CHANNELS]
        if unknown:
            raise ValueError(f"The 'offline' parameter of ropo_truth has unknown channels {unknown}. Choose from {list(CHANNELS)}.")
        w = self._world
        on_offline = sum(1 << CHANNELS.index(c) for c in set(offline))
        conv = w.converts(np.array([(1 << _C) - 1, on_offline], dtype=np.int64)) & w.store[:, None]
        n = len(self._person_card)
        counts = [np.bincount(w.person, weights=conv[:, k], minlength=n) for k in (0, 1)]
        values = [np.bincount(w.person, weights=conv[:, k] * w.cents, minlength=n) / 100 for k in (0, 1)]
        holders = np.flatnonzero(self._person_card != None)  # noqa: E711
        out = pd.DataFrame(
            {
                "store_conversions": counts[0][holders],
                "store_conversions_without_online": counts[1][holders],
                "store_value": values[0][holders],
                "store_value_without_online": values[1][holders],
            },
            index=pd.Index(self._person_card[holders].astype(str), name="loyalty_id"),
        )
        return out.sort_index()

    def journeys(self, **kwargs: Any):
        """The event log as :class:`attribution.Journeys` (identities stitched, 30-day lookback).

        Parameters
        ----------
        **kwargs
            Passed to :meth:`attribution.Journeys.from_events` (e.g. ``lookback="7D"``).
        """
        from ..journeys import Journeys

        kwargs.setdefault("identities", self.identities)
        return Journeys.from_events(self.touchpoints, self.conversions, **kwargs)

    def to_csv(self, directory: str | Path, *, paths: bool = True) -> list[Path]:
        """Write the data set as CSV files, deterministically.

        Parameters
        ----------
        directory : str or Path
            Created if missing.
        paths : bool, default True
            Also write ``paths.csv``, the aggregated path table of :meth:`journeys`.

        Returns
        -------
        list of Path
            ``touchpoints.csv``, ``conversions.csv``, ``identities.csv``, ``costs.csv``,
            ``truth.csv`` (and ``paths.csv``: columns ``path, total_conversions,
            total_conversion_value, total_null``, channels joined by ``" > "``, sorted by path).
            Timestamps are ISO-8601 UTC with ``Z``, money has 2 decimals, truth 6; rows are
            sorted, lines end in ``\\n``.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        opts = {"index": False, "lineterminator": "\n"}
        written = []

        def write(name: str, frame: pd.DataFrame, **extra: Any) -> None:
            path = directory / f"{name}.csv"
            frame.to_csv(path, **opts, **extra)
            written.append(path)

        write("touchpoints", self.touchpoints, date_format=_TS_FORMAT)
        write("conversions", self.conversions, date_format=_TS_FORMAT, float_format="%.2f")
        write("customers", self.customers)
        write("identities", self.identities)
        write("costs", self.costs, float_format="%.2f")
        write("truth", self.truth().reset_index(), float_format="%.6f")
        if paths:
            table = self.journeys(warn=False).to_paths()
            table = table.sort_values("path", kind="mergesort").reset_index(drop=True)
            for column in ("total_conversions", "total_null"):
                table[column] = table[column].round().astype(np.int64)  # counts of journeys
            table["total_conversion_value"] = table["total_conversion_value"].round(2)
            write("paths", table, float_format="%.2f")
        return written


def _sort_order(key: np.ndarray, seconds: np.ndarray, minor: np.ndarray) -> np.ndarray:
    """Row order by (key, seconds, minor), all non-negative ints; rows with equal triples are equal."""
    if key.size == 0:
        return np.zeros(0, dtype=np.int64)
    span_s = int(seconds.max()) + 1
    span_m = int(minor.max()) + 1
    if (int(key.max()) + 1) * span_s * span_m < 2**62:
        return np.argsort((key * span_s + seconds) * span_m + minor)
    return np.lexsort((minor, seconds, key))


def _check_params(n_customers: Any, days: Any, identity_rate: Any, two_device_rate: Any, max_purchases: Any) -> None:
    def integer(name: str, value: Any, low: int) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"The {name!r} parameter of simulate must be an int. Got {value!r} instead.")
        if value < low:
            raise ValueError(f"The {name!r} parameter of simulate must be an int >= {low}. Got {value!r} instead.")

    def rate(name: str, value: Any) -> None:
        if not (isinstance(value, (int, float, np.number)) and 0.0 <= float(value) <= 1.0):
            raise ValueError(f"The {name!r} parameter of simulate must be a number in [0, 1]. Got {value!r} instead.")

    integer("n_customers", n_customers, 1)
    integer("days", days, 1)
    integer("max_purchases", max_purchases, 1)
    rate("identity_rate", identity_rate)
    rate("two_device_rate", two_device_rate)


def _id_strings(prefix: str, n: int) -> pd.Index:
    """``prefix`` followed by ``0 .. n-1`` zero-padded to at least 6 digits (so they sort as numbers)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    width = max(6, len(str(max(n - 1, 0))))
    digits = pc.utf8_lpad(pa.array(np.arange(n, dtype=np.int64)).cast(pa.string()), width, "0")
    return pd.Index(pc.binary_join_element_wise(prefix, digits, "").to_pandas(), dtype="str")


def simulate(
    n_customers: int = 3000,
    *,
    start: str = "2026-03-01",
    days: int = 60,
    random_state: int | np.random.Generator | None = 0,
    lift: dict[str, float] | None = None,
    identity_rate: float = 0.7,
    two_device_rate: float = 0.08,
    max_purchases: int = 3,
    regime: str = "episodes",
    targeting: float | None = None,
) -> SimulatedData:
    """Simulate an omnichannel retailer's event log with known true channel effects.

    Parameters
    ----------
    n_customers : int, default 3000
        Number of simulated people (each may own one or two cookies and/or a loyalty card).
    start : str, default "2026-03-01"
        First day of the observation window (UTC).
    days : int, default 60
        Length of the observation window; journeys still open at its end are recorded without
        their purchase.
    random_state : int, numpy.random.Generator or None, default 0
        Seed. The same int gives byte-for-byte identical data.
    lift : dict, optional
        Overrides of the true causal lift of channels, e.g. ``{"display": 0.0}`` (then display is
        a null player and its true credit is 0). Defaults in :func:`channel_parameters`.
    identity_rate : float, default 0.7
        Share of omnichannel people whose cookie(s)–card link is known in ``identities``.
    two_device_rate : float, default 0.08
        Share of online people with a second cookie (second device).
    max_purchases : int, default 3
        Maximum number of purchase cycles per person (``regime="episodes"`` and
        ``"randomised"``).
    regime : {"episodes", "always_in_market", "randomised"}, default "episodes"
        The confounding regime (the world's generative model; see Notes and :data:`REGIMES`):

        * ``"episodes"`` (the default; the data of earlier versions, byte for byte): purchase
          episodes with transient intent. Exposure and purchase happen in purchase cycles; a
          person is "in market" only during a cycle, and the intent-driven channels reach people
          late in the cycle, shortly before the purchase decision.
        * ``"always_in_market"``: persistent intent as a person trait; people stay in market for
          the whole window. Every channel reaches a person as a Poisson process over the window
          (rate rising with intent for the targeted channels), and the person's daily purchase
          hazard rises with their intent and with the decayed ("adstocked") exposure to each
          channel. Repeat purchases do not end the person's time in market.
        * ``"randomised"``: the episode world with exposure independent of intent (a
          randomised-exposure experiment: ``targeting=0``, no repeat-cycle shift, e-mail reach
          independent of past purchases). Path models are least biased here.
    targeting : float, optional
        Multiplier of the intent slopes ``beta_c`` of the exposure model: how strongly channels
        are targeted on intent (``0``: exposure independent of intent). Default 1 (0 for
        ``regime="randomised"``).

    Returns
    -------
    SimulatedData
        ``touchpoints``, ``conversions``, ``identities``, ``costs`` and ``truth()``.

    Notes
    -----
    For person ``i`` with intent ``z_i ~ N(0, 1)`` and purchase cycle ``k``:

    - exposure to channel ``c``: ``E_c ~ Bernoulli(sigmoid(alpha_c + beta_c z_i + [k > 0] r_c))``,
      only for channels the person can be reached by (online channels need a cookie,
      ``store_visit`` a card, ``email`` a cookie and a card or an earlier purchase);
    - conversion with channels ``S`` on: ``u_ik < 1 - (1 - b_k(z_i)) prod_{c in E ∩ S} (1 - lift_c)``
      with ``b_k(z) = sigmoid(b_{0k} + 1.4 z)`` and ``u_ik ~ U(0, 1)`` drawn once;
    - cycle ``k + 1`` exists only if cycle ``k`` converted; a decision after the window is censored.

    People are 50 % online-only, 40 % omnichannel and 10 % store-only; ``b_{00} = -2.8`` (first
    purchase) and ``b_{01} = -1.8`` (repeat purchase). Journeys last ``3 days x LogNormal(0, 0.9)``
    (clipped to 30 days); repeat cycles start ``0.5 + Exponential(12)`` days after a purchase.
    Order values are ``LogNormal`` with median 60 online and 75 in store, rounded to cents.

    Brand search, retargeting, affiliate and direct have a large ``beta_c`` (they reach people
    who would buy anyway) and a small lift; display, video and social have ``beta_c ≈ 0`` and a
    real lift. Omnichannel people buy in store with probability 0.4 (0.7 after a store visit), so
    store purchases are often preceded by online touches (ROPO) and online purchases sometimes by
    store visits (showrooming). Costs are the daily touch counts of each paid channel times an
    effective cost per touch, with ±10 % daily price noise, rounded to cents.

    ``regime="always_in_market"`` (persistent intent, no cycles): the same people, segments,
    ids, places and values, but channel ``c`` reaches eligible person ``i`` as a Poisson process
    with rate ``r_c(z_i) = (1 + lambda_c) sigmoid(alpha_c + targeting beta_c z_i) / 40`` per day
    over the whole window (touch times uniform). On day ``d`` the person buys (at most once, at a
    uniform time in the day) iff ``u_id < 1 - (1 - h(z_i)) exp(-sum_{c in S} gamma_c A_ic(d))``
    with ``u_id ~ U(0, 1)`` drawn once per person-day, daily baseline hazard
    ``h(z) = sigmoid(-6 + 1.4 z)``, ``gamma_c = lift_c / 10`` and the adstock
    ``A_ic(d) = sum_{touches of c on days d' < d} 0.5 ** ((d - 1 - d') / 7)`` (a touch acts from
    the next day on, half-life 7 days). Exposure does not depend on purchases, so ``v(S)`` is
    again a deterministic function of the draws and ``truth()`` is exact. Omnichannel people buy
    in store with probability 0.4 (0.7 if a store visit ever reaches them).

    ``regime="randomised"``: as ``"episodes"`` with ``targeting=0``, no repeat-cycle shift
    ``r_c`` and e-mail reaching every cookie holder, so a cycle's exposures are independent of
    intent (and of earlier purchases).

    Everything is vectorised over people: 100 000 people (about 480 000 touches) take about half
    a second, 2.2 million people (about 10.5 million touches) about 11 seconds.

    Raises
    ------
    TypeError, ValueError
        For parameters of the wrong type or out of range.

    Examples
    --------
    >>> sim = simulate(1000, random_state=42)
    >>> sorted(sim.conversions["place"].unique())
    ['online', 'store']
    >>> str(sim.touchpoints["timestamp"].dtype)
    'datetime64[s, UTC]'
    """
    _check_params(n_customers, days, identity_rate, two_device_rate, max_purchases)
    if regime not in REGIMES:
        raise ValueError(f"The 'regime' parameter of simulate must be one of {list(REGIMES)}. Got {regime!r} instead.")
    if targeting is None:
        targeting = 0.0 if regime == "randomised" else 1.0
    if isinstance(targeting, bool) or not isinstance(targeting, (int, float, np.number)) or not math.isfinite(float(targeting)):
        raise ValueError(f"The 'targeting' parameter of simulate must be a finite number such as 1.0 or 0.0. Got {targeting!r} instead.")
    targeting = float(targeting)
    randomised = regime == "randomised"
    lifts = _lifts(lift)
    try:
        origin = pd.Timestamp(start)
    except (TypeError, ValueError):
        raise ValueError(f"The 'start' parameter of simulate must be a date such as '2026-03-01'. Got {start!r} instead.") from None
    if origin.tzinfo is not None:
        origin = origin.tz_convert("UTC").tz_localize(None)
    origin64 = np.datetime64(origin.floor("s").to_datetime64(), "s")
    rng = np.random.default_rng(random_state)
    n = int(n_customers)
    horizon = float(days) * _DAY

    # --- people -------------------------------------------------------------------------------
    intent = rng.standard_normal(n)
    segment = np.searchsorted(np.cumsum(_SEGMENT_P)[:-1], rng.random(n), side="right")
    has_cookie = segment != 2
    has_card = segment != 0
    two_devices = has_cookie & (rng.random(n) < two_device_rate)
    linked = (segment == 1) & (rng.random(n) < identity_rate)
    # ids: cookies and cards are numbered in random order so that numbers do not reveal links
    cookie_of = np.full(n, -1, dtype=np.int64)
    cookie2_of = np.full(n, -1, dtype=np.int64)
    n_cookie1 = int(has_cookie.sum())
    n_cookies = n_cookie1 + int(two_devices.sum())
    cookie_numbers = rng.permutation(n_cookies)
    cookie_of[has_cookie] = cookie_numbers[:n_cookie1]
    cookie2_of[two_devices] = cookie_numbers[n_cookie1:]
    card_of = np.full(n, -1, dtype=np.int64)
    card_of[has_card] = rng.permutation(int(has_card.sum()))
    n_cards = int(has_card.sum())

    online_channels = np.ones(_C, dtype=bool)
    online_channels[_STORE] = False

    # --- purchase cycles ------------------------------------------------------------------------
    rows: dict[str, list[np.ndarray]] = {k: [] for k in ("person", "cycle", "prev", "mask", "base", "u", "value", "store", "t", "in_window", "device")}
    touch_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    # people in the order of their first id, so that touches come out almost sorted (fast sort)
    active = np.argsort(np.where(has_cookie, n + cookie_of, card_of), kind="stable")
    active_row = np.full(n, -1, dtype=np.int64)  # row of each active person's previous cycle
    last_t = np.zeros(n)
    n_rows = 0
    bits = np.int64(1) << np.arange(_C, dtype=np.int64)
    keep = _keep_table(lifts)
    for k in range(0 if regime == "always_in_market" else int(max_purchases)):
        m = active.size
        if m == 0:
            break
        z = intent[active]
        duration = np.clip(_JOURNEY_MEDIAN_DAYS * np.exp(_JOURNEY_SIGMA * rng.standard_normal(m)), 0.02, 30.0) * _DAY
        if k == 0:
            begin = rng.random(m) * 0.85 * horizon
        else:
            gap = _REPEAT_GAP_DAYS[0] + rng.exponential(_REPEAT_GAP_DAYS[1], m)
            begin = last_t[active] + gap * _DAY
        t = begin + duration

        eligible = np.zeros((m, _C), dtype=bool)
        eligible[:, online_channels] = has_cookie[active, None]
        eligible[:, _STORE] = has_card[active]
        eligible[:, _EMAIL] = has_cookie[active] & (has_card[active] | (k > 0) | randomised)
        if targeting == 1.0 and not randomised:  # the default world, byte for byte
            q = _sigmoid(_ALPHA + _BETA * z[:, None] + (_REPEAT if k > 0 else 0.0))
        else:
            q = _sigmoid(_ALPHA + targeting * _BETA * z[:, None] + (_REPEAT if k > 0 and not randomised else 0.0))
        exposed = (rng.random((m, _C)) < q) & eligible
        mask = (exposed * bits).sum(axis=1)
        base = _sigmoid(_BASE_INTERCEPT[min(k, 1)] + _BASE_SLOPE * z)
        u = rng.random(m)
        seg = segment[active]
        p_store = np.where(seg == 2, 1.0, np.where(seg == 0, 0.0, np.where(exposed[:, _STORE], _P_STORE_OMNI[1], _P_STORE_OMNI[0])))
        store = rng.random(m) < p_store
        med = np.where(store, _VALUE["store"][0], _VALUE["online"][0])
        sig = np.where(store, _VALUE["store"][1], _VALUE["online"][1])
        value = np.maximum(np.round(med * np.exp(sig * rng.standard_normal(m)), 2), 1.0)
        device = two_devices[active] & (rng.random(m) < 0.5)
        in_window = t < horizon
        converts = in_window & (u < 1.0 - (1.0 - base) * keep[mask & (keep.size - 1)])  # all channels on

        # touches
        cell = np.flatnonzero(exposed.ravel())
        count = 1 + rng.poisson(_LAMBDA[cell % _C])
        cell = np.repeat(cell, count)
        row, ch = np.divmod(cell, _C)
        w = rng.beta(_TIME_A[ch], _TIME_B[ch])
        w[rng.random(w.size) < _P_AT_CONVERSION[ch]] = 0.0
        when = t[row] - duration[row] * w
        dev = two_devices[active[row]] & (rng.random(w.size) < 0.5)
        seen = when < horizon
        touch_parts.append((active[row[seen]], ch[seen], when[seen], dev[seen]))

        for key, arr in (
            ("person", active), ("cycle", np.full(m, k, dtype=np.int16)), ("prev", active_row[active]),
            ("mask", mask), ("base", base), ("u", u), ("value", value), ("store", store), ("t", t),
            ("in_window", in_window), ("device", device),
        ):
            rows[key].append(arr)
        active_row[active] = n_rows + np.arange(m)
        n_rows += m
        last_t[active] = t
        active = active[converts]

    if regime == "always_in_market":
        world, cyc, touch_parts = _always_in_market(
            rng, intent, segment, has_cookie, has_card, two_devices, active, int(days), lifts, targeting
        )
    else:
        cyc = {key: np.concatenate(parts) for key, parts in rows.items()}
        world = _World(
            cycle=cyc["cycle"], prev=cyc["prev"], mask=cyc["mask"], base=cyc["base"], u=cyc["u"],
            cents=np.round(cyc["value"] * 100).astype(np.int64), in_window=cyc["in_window"], keep=keep,
            store=cyc["store"], person=cyc["person"].astype(np.int64), t=cyc["t"],
        )
    converted = world.converts(np.array([(1 << _C) - 1]))[:, 0]

    # --- frames ---------------------------------------------------------------------------------
    cookie_ids = _id_strings("c", n_cookies)
    card_ids = _id_strings("L", n_cards)

    all_ids = card_ids.append(cookie_ids)  # position == sort key, as "L..." < "c..." bytewise

    def id_key(person: np.ndarray, store: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Position in ``all_ids`` of the card (store) or the first/second cookie (online)."""
        cookie = np.where(second, cookie2_of[person], cookie_of[person])
        return np.where(store, card_of[person], n_cards + cookie)

    def timestamps(seconds: np.ndarray) -> pd.Series:
        """Whole seconds after the window start as ``datetime64[s, UTC]``."""
        return pd.Series(origin64 + seconds.astype("timedelta64[s]")).dt.tz_localize("UTC")

    t_person, t_ch, t_when, t_dev = (np.concatenate(parts) for parts in zip(*touch_parts))
    t_store = t_ch == _STORE
    t_key = id_key(t_person, t_store, t_dev & ~t_store)
    t_sec = np.floor(t_when).astype(np.int64)
    order = _sort_order(t_key, t_sec, np.argsort(np.argsort(CHANNELS))[t_ch])
    channel_names = pd.Index(CHANNELS, dtype="str")
    touchpoints = pd.DataFrame(
        {
            "customer_id": all_ids.take(t_key[order]),
            "timestamp": timestamps(t_sec[order]).array,
            "channel": channel_names.take(t_ch[order]),
        }
    )

    conv_rows = np.flatnonzero(converted)
    c_person = cyc["person"][conv_rows]
    c_store = cyc["store"][conv_rows]
    c_key = id_key(c_person, c_store, cyc["device"][conv_rows] & ~c_store)
    c_sec = np.floor(cyc["t"][conv_rows]).astype(np.int64)
    order = _sort_order(c_key, c_sec, np.zeros(c_sec.size, dtype=np.int64))
    conversions = pd.DataFrame(
        {
            "customer_id": all_ids.take(c_key[order]),
            "timestamp": timestamps(c_sec[order]).array,
            "value": cyc["value"][conv_rows][order],
            "place": pd.Index(["online", "store"], dtype="str").take(c_store[order].astype(np.int64)),
        }
    )

    # identities: known links of people seen in the data (both cookies of two-device people)
    seen_person = np.zeros(n, dtype=bool)
    seen_person[t_person] = True
    seen_person[c_person] = True
    link = np.flatnonzero(linked & seen_person)
    link2 = link[two_devices[link]]
    id_cookie = np.concatenate([cookie_of[link], cookie2_of[link2]])
    id_card = np.concatenate([card_of[link], card_of[link2]])
    order = np.lexsort((id_card, id_cookie))
    identities = pd.DataFrame(
        {"cookie_id": cookie_ids.take(id_cookie[order]), "loyalty_id": card_ids.take(id_card[order])}
    )

    # costs: touches per day and paid channel x effective cost per touch x daily price noise
    paid = np.flatnonzero(~np.isnan(_COST))
    day = (t_sec // int(_DAY)).clip(0, days - 1)
    counts = np.bincount(day * _C + t_ch, minlength=days * _C).reshape(days, _C)[:, paid]
    paid_order = np.argsort(np.array(CHANNELS)[paid])
    paid = paid[paid_order]
    counts = counts[:, paid_order]
    jitter = np.exp(_COST_JITTER * rng.standard_normal(counts.shape))
    cost = np.round(counts * _COST[paid] * jitter, 2)
    dates = pd.Index((origin64.astype("datetime64[D]") + np.arange(days)).astype(str), dtype="str")
    costs = pd.DataFrame(
        {
            "date": dates.repeat(paid.size),
            "channel": channel_names.take(np.tile(paid, days)),
            "cost": cost.ravel(),
        }
    )

    # the loyalty base (every card holder, seen in the data or not) with CRM covariates, drawn
    # last so that the frames above do not depend on it. past_orders (purchases in the year
    # before the window) rises with intent: an observed, partial proxy of the confounder.
    holders = np.flatnonzero(has_card)
    holders = holders[np.argsort(card_of[holders])]
    customers = pd.DataFrame(
        {
            "loyalty_id": card_ids.take(card_of[holders]),
            "past_orders": rng.poisson(np.exp(_PAST_ORDERS[0] + _PAST_ORDERS[1] * intent[holders])),
            "tenure_years": np.round(rng.uniform(0.0, 8.0, holders.size), 1),
        }
    )
    person_card = np.full(n, None, dtype=object)
    person_card[holders] = np.asarray(customers["loyalty_id"], dtype=object)

    params = {
        "n_customers": n, "start": str(start), "days": int(days),
        "random_state": random_state if isinstance(random_state, (int, np.integer)) else None,
        "lift": dict(zip(CHANNELS, lifts.tolist())), "identity_rate": float(identity_rate),
        "two_device_rate": float(two_device_rate), "max_purchases": int(max_purchases),
        "regime": regime, "targeting": targeting,
    }
    return SimulatedData(touchpoints, conversions, identities, costs, params=params, _world=world,
                         customers=customers, _person_card=person_card)


def _sample_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "data" / "samples"


def _read_sample(directory: Path) -> SimulatedData:
    ts = "datetime64[s, UTC]"

    def read(name: str, **kwargs: Any) -> pd.DataFrame:
        return pd.read_csv(directory / f"{name}.csv", **kwargs)

    touchpoints = read("touchpoints", dtype={"customer_id": "str", "timestamp": "str", "channel": "str"})
    touchpoints["timestamp"] = pd.to_datetime(touchpoints["timestamp"], format=_TS_FORMAT, utc=True).astype(ts)
    conversions = read("conversions", dtype={"customer_id": "str", "timestamp": "str", "value": "float64", "place": "str"})
    conversions["timestamp"] = pd.to_datetime(conversions["timestamp"], format=_TS_FORMAT, utc=True).astype(ts)
    identities = read("identities", dtype="str")
    costs = read("costs", dtype={"date": "str", "channel": "str", "cost": "float64"})
    customers = read("customers", dtype={"loyalty_id": "str", "past_orders": "int64", "tenure_years": "float64"})
    truth = read("truth", dtype={"channel": "str"}).set_index("channel")
    total_conversions = float(len(conversions))
    total_value = round(float(conversions["value"].sum()), 2)
    truth.attrs.update(  # by Shapley efficiency; truth.csv has 6 decimals
        baseline_conversions=round(total_conversions - float(truth["conversions"].sum()), 5),
        baseline_value=round(total_value - float(truth["value"].sum()), 4),
        total_conversions=total_conversions,
        total_value=total_value,
    )
    return SimulatedData(touchpoints, conversions, identities, costs, params=dict(SAMPLE_PARAMS),
                         customers=customers, _stored_truth=truth)


def load_sample(directory: str | Path | None = None) -> SimulatedData:
    """The sample data set shipped in ``data/samples/``.

    Parameters
    ----------
    directory : str or Path, optional
        Where to read the CSV files from. Default: ``data/samples/`` of the repository when the
        package runs from a checkout; otherwise the sample is simulated with
        ``simulate(**SAMPLE_PARAMS)``, which gives identical frames (a test checks it).

    Returns
    -------
    SimulatedData
        Read from files, it carries the stored ``truth()`` (6 decimals; the baselines follow by
        efficiency) but no random draws, so :meth:`SimulatedData.counterfactual` needs
        ``simulate(**SAMPLE_PARAMS)``.

    Notes
    -----
    Regenerate the files with ``python -m attribution.datasets --out data/samples``.
    """
    path = Path(directory) if directory is not None else _sample_dir()
    if all((path / f"{name}.csv").is_file() for name in _FILES):
        return _read_sample(path)
    if directory is not None:
        raise FileNotFoundError(f"No sample in {str(path)!r}: expected {[f + '.csv' for f in _FILES]}. Write one with `python -m attribution.datasets --out {path}`.")
    return simulate(**SAMPLE_PARAMS)
