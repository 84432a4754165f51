"""Simulated customers whose repeat-purchase process is known: BG/NBD purchases, Gamma-Gamma spend.

Separate from :func:`attribution.datasets.simulate` (whose output is unchanged): this one
simulates the *after-acquisition* life of customers so that predictive CLV and the segment KPIs
have a truth.

The generative model (one ``numpy.random.Generator``)
----------------------------------------------------
Customer ``i`` is acquired (first purchase) at a time uniform in the first ``acquisition_days``
of the window, through an acquisition channel drawn from ``channels``, and belongs to a segment:
online-only, store-only or omnichannel (probabilities ``segment_probs``). While alive they buy as a
Poisson process with rate ``lambda_i * u_s`` per week, ``lambda_i ~ Gamma(r, rate=alpha)`` and
``u_s = omni_uplift`` for omnichannel customers (1 otherwise) — the known omnichannel uplift in
purchase frequency. After each purchase they drop out with probability ``p_i ~ Beta(a, b)`` (the
BG/NBD process). Each order's value is ``Gamma(p, rate=nu_i)`` with ``nu_i ~ Gamma(q, rate=gamma)``
(Gamma-Gamma). Online-only customers buy online, store-only in store, omnichannel customers in
store with probability ``store_share`` per order. Optional survey answers (CSAT 1–5, CES 1–7,
NPS 0–10) are drawn per customer, omnichannel customers slightly happier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SimulatedCustomers", "simulate_customers"]


@dataclass
class SimulatedCustomers:
    """Orders (``customer_id, timestamp, value, place``), the customers' truth and optional survey."""

    orders: pd.DataFrame
    customers: pd.DataFrame
    params: dict
    start: pd.Timestamp
    end: pd.Timestamp
    survey: pd.DataFrame | None = None

    def __repr__(self) -> str:
        frames = {"orders": self.orders, "customers": self.customers}
        if self.survey is not None:
            frames["survey"] = self.survey
        sizes = "; ".join(f".{k} {len(v):,} rows" for k, v in frames.items())
        return f"SimulatedCustomers({self.start:%Y-%m-%d} .. {self.end:%Y-%m-%d}): {sizes}"


def simulate_customers(
    n_customers: int = 5000,
    *,
    weeks: int = 104,
    acquisition_weeks: int = 52,
    r: float = 0.8,
    alpha: float = 8.0,
    a: float = 0.6,
    b: float = 3.0,
    p: float = 6.0,
    q: float = 4.0,
    gamma: float = 15.0,
    omni_uplift: float = 1.5,
    segment_probs=(0.45, 0.3, 0.25),
    store_share: float = 0.5,
    channels=("paid_search", "social", "email", "direct", "store_visit"),
    survey: bool = False,
    start: str = "2025-01-01",
    random_state=0,
) -> SimulatedCustomers:
    """Simulate customers with BG/NBD repeat purchases and Gamma-Gamma order values.

    Parameters
    ----------
    n_customers : int
    weeks : int, default 104
        Length of the observation window.
    acquisition_weeks : int, default 52
        First purchases fall uniformly in the first ``acquisition_weeks``.
    r, alpha, a, b : float
        BG/NBD parameters (rate per week).
    p, q, gamma : float
        Gamma-Gamma parameters (order value).
    omni_uplift : float, default 1.5
        Multiplier of the purchase rate of omnichannel customers.
    segment_probs : 3 floats
        Probabilities of online-only, store-only, omnichannel.
    store_share : float
        Probability that an omnichannel customer's order is in store.
    channels : sequence of str
        Acquisition channels (uniform).
    survey : bool, default False
        Also return one survey answer per customer.
    random_state : int or Generator

    Returns
    -------
    SimulatedCustomers
    """
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
    n = int(n_customers)
    seg = rng.choice(np.array(["online-only", "store-only", "omnichannel"], dtype=object), size=n, p=list(segment_probs))
    uplift = np.where(seg == "omnichannel", omni_uplift, 1.0)
    lam = rng.gamma(r, 1.0 / alpha, size=n) * uplift
    pdrop = rng.beta(a, b, size=n)
    nu = rng.gamma(q, 1.0 / gamma, size=n)
    t0 = rng.uniform(0, acquisition_weeks, size=n)
    acq = rng.choice(np.asarray(channels, dtype=object), size=n)
    # purchase times, vectorised by rounds: each round every living customer draws the next gap
    cust, times = [np.arange(n)], [t0]
    cur = t0.copy()
    alive = np.ones(n, bool)
    idx = np.arange(n)
    first = True
    while idx.size:
        # drop out after the last *repeat* purchase (BG/NBD: never right after the first)
        if not first:
            idx = idx[rng.random(idx.size) >= pdrop[idx]]
        first = False
        gap = rng.exponential(1.0, size=idx.size) / np.maximum(lam[idx], 1e-300)
        nxt = cur[idx] + gap
        ok = nxt < weeks
        idx, nxt = idx[ok], nxt[ok]
        cur[idx] = nxt
        cust.append(idx)
        times.append(nxt)
    del alive
    c = np.concatenate(cust)
    t = np.concatenate(times)
    o = np.lexsort((t, c))
    c, t = c[o], t[o]
    value = np.round(rng.gamma(p, 1.0 / nu[c]), 2)
    store = np.where(seg[c] == "store-only", True, np.where(seg[c] == "online-only", False, rng.random(len(c)) < store_share))
    start_ts = pd.Timestamp(start)
    ids = np.array([f"C{i:06d}" for i in range(n)], dtype=object)
    orders = pd.DataFrame({
        "customer_id": ids[c],
        "timestamp": start_ts + pd.to_timedelta(np.round(t * 7 * 86400), unit="s"),
        "value": value,
        "place": np.where(store, "store", "online"),
    })
    truth = pd.DataFrame({"segment": seg, "acquisition": acq, "rate": lam, "p_drop": pdrop,
                          "mean_value": p / nu, "first_week": t0}, index=pd.Index(ids, name="customer_id"))
    sv = None
    if survey:
        happy = np.where(seg == "omnichannel", 0.5, 0.0) + rng.normal(0, 1, n)
        sv = pd.DataFrame({
            "customer_id": ids,
            "csat": np.clip(np.round(3.6 + 0.8 * happy), 1, 5).astype(int),
            "ces": np.clip(np.round(5.0 + 1.0 * happy), 1, 7).astype(int),
            "nps": np.clip(np.round(7.5 + 1.5 * happy), 0, 10).astype(int),
        })
    params = dict(r=r, alpha=alpha, a=a, b=b, p=p, q=q, gamma=gamma, omni_uplift=omni_uplift)
    return SimulatedCustomers(orders, truth, params, start_ts, start_ts + pd.Timedelta(weeks=weeks), sv)
