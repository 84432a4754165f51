"""Incremental (causal) attribution: what each channel *causes*, with a no-ad baseline.

Path models share out the conversions that happened; a channel that reaches people who would
buy anyway (brand search, retargeting) gets much credit. The estimators here model what would
have happened with a channel switched off and credit each channel with the exact Shapley value
of that counterfactual game. Their ``credits_`` hold one row per channel (incremental
conversions and value) and a last row :data:`~attribution.models.base.BASELINE`
(``"(baseline)"``): the conversions and value expected with no channel switched on. Together
they sum to the conversions and value given (conservation).

Two models of how people come to buy, and a statistic of the data that chooses between them:

``unit="time"`` — person-period hazard model
    People stay in market; each day a person may buy with a probability that rises with their
    (persistent) intent and with the decayed ("adstocked") exposure to each channel.
``unit="journey"`` — latent-intent journey model
    People buy in episodes ("journeys"); one latent intent per person drives both which
    channels reach them and how likely they are to buy without any channel.
``unit="auto"`` (default)
    Chooses by :func:`market_persistence`: the touch rate in the week after a conversion
    relative to the week before it, near 1 when people stay in market and well below 1 when
    purchases end episodes.

Everything is built from what a user has: touches with times, conversions, non-converting
people, the stitched person ids (and their id types, e.g. cookie vs loyalty card).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._validation import parse_duration
from ..exceptions import DataQualityWarning, JourneyValidationError
from ..journeys import Journeys
from .base import BASELINE, AttributionModel, _param_error, _warn_user, place_codes, register_model


def expit(x):
    """The logistic function (scipy's, imported on first use: registering the model stays light)."""
    from scipy.special import expit as _expit

    return _expit(x)


def minimize(*args, **kwargs):
    """``scipy.optimize.minimize``, imported on first use."""
    from scipy.optimize import minimize as _minimize

    return _minimize(*args, **kwargs)

__all__ = ["Causal", "market_persistence"]

_DAY_NS = 86_400 * 10**9
#: market_persistence above this chooses unit="time", below it unit="journey"
PERSISTENCE_THRESHOLD = 0.55
#: a warning is given when the statistic is within this distance of the threshold
PERSISTENCE_MARGIN = 0.10
_MIN_PERSISTENCE_CONVERSIONS = 30
#: default one-sided level of the hazard model's shrinkage: a channel with no effect gets credit
#: with about this probability (``Causal(shrink_alpha=...)``)
SHRINK_ALPHA = 0.025


# ---------------------------------------------------------------------------------------------
# Data preparation (shared by both units)
# ---------------------------------------------------------------------------------------------


@dataclass
class _Data:
    """Journeys turned into flat arrays in days since the start of the data."""

    C: int
    J: int
    person: np.ndarray  # int64[J]
    n_person: int
    group: np.ndarray  # int64[n_person], id-type group of each person
    n_group: int
    group_names: list
    touch_person: np.ndarray  # int64[T]
    touch_day: np.ndarray  # float64[T], days since t0
    touch_channel: np.ndarray  # int64[T]
    conv_day: np.ndarray  # float64[J] (NaN for journeys without a conversion time)
    start_day: np.ndarray  # float64[J], first touch (or conversion) of the journey
    conversions: np.ndarray
    nulls: np.ndarray
    value: np.ndarray
    mask: np.ndarray  # int64[J], bitmask of the channels touched in the journey
    repeat: np.ndarray  # float64[J], 1 if the person converted before this journey
    place: np.ndarray  # int64[J]
    places: np.ndarray | None
    end_day: float
    has_customer: bool


def _check_time_journeys(journeys: Journeys, owner: str) -> None:
    if not journeys.has_time or journeys.conversion_time is None:
        raise JourneyValidationError(
            f"{owner} needs touch and conversion timestamps, but these journeys have none (a path "
            "table has no times). Build them from the event log with "
            "Journeys.from_events(touchpoints, conversions, lookback=None), which keeps every "
            "touch with its time and the person it belongs to."
        )
    conv = np.asarray(journeys.conversions) > 0
    missing = conv & np.isnat(journeys.conversion_time)
    if missing.any():
        rows = np.flatnonzero(missing)[:5].tolist()
        raise JourneyValidationError(
            f"{owner} needs the conversion time of every converting journey; {int(missing.sum())} "
            f"converting journey(s) have none (journey rows {rows}). Build the journeys with "
            "Journeys.from_events(..., lookback=None)."
        )


def _prepare(journeys: Journeys, id_type: Callable[[str], str] | None) -> _Data:
    J, C = journeys.n_journeys, journeys.n_channels
    jid = journeys.journey_index
    t_ns = journeys.touch_time.astype("datetime64[ns]").astype(np.int64)
    c_nat = np.isnat(journeys.conversion_time)
    c_ns = journeys.conversion_time.astype("datetime64[ns]").astype(np.int64)
    valid = np.concatenate([t_ns, c_ns[~c_nat]])
    t0 = (valid.min() // _DAY_NS) * _DAY_NS if valid.size else 0
    touch_day = (t_ns - t0) / _DAY_NS
    conv_day = np.where(c_nat, np.nan, (c_ns - t0) / _DAY_NS)
    end_day = float((valid.max() - t0) / _DAY_NS) if valid.size else 0.0

    if journeys.customer is not None:
        names = pd.Series(journeys.customer, dtype=object).astype(str)
        codes, uniques = pd.factorize(names, sort=True)
        person = codes.astype(np.int64)
        id_names = np.asarray(uniques, dtype=object)
        has_customer = True
    else:  # each journey is its own person
        person = np.arange(J, dtype=np.int64)
        id_names = np.array([""] * J, dtype=object)
        has_customer = False
    P = int(person.max()) + 1 if J else 0

    # id-type groups: the set of id types merged into each person
    if id_type is None:
        def types_of(ids: pd.Series) -> np.ndarray:
            return ids.astype(str).str.extract(r"^(\D*)", expand=False).fillna("").to_numpy(dtype=object)
    else:
        def types_of(ids: pd.Series) -> np.ndarray:
            return np.array([str(id_type(str(i))) for i in ids], dtype=object)
    if has_customer:
        own = types_of(pd.Series(id_names))
        people, types = [np.arange(P)], [own]
        if journeys.id_map is not None and len(journeys.id_map):
            where = pd.Index(id_names.astype(str)).get_indexer(journeys.id_map.astype(str).to_numpy())
            ok = where >= 0
            people.append(where[ok])
            types.append(types_of(pd.Series(journeys.id_map.index[ok])))
        tcodes, tnames = pd.factorize(pd.Series(np.concatenate(types), dtype=object), sort=True)
        if len(tnames) > 60:
            raise JourneyValidationError(f"Causal found {len(tnames)} id types; pass id_type= mapping ids to a few types (e.g. cookie, loyalty card).")
        bits = np.zeros(P, dtype=np.int64)
        np.bitwise_or.at(bits, np.concatenate(people), np.int64(1) << tcodes.astype(np.int64))
        ub, binv = np.unique(bits, return_inverse=True)
        names_b = np.array(["+".join(str(tnames[i]) for i in range(len(tnames)) if (int(b) >> i) & 1) for b in ub], dtype=object)
        labels = names_b[binv.ravel()]
    else:
        labels = np.array([""] * P, dtype=object)
    gcodes, gnames = pd.factorize(pd.Series(labels, dtype=object), sort=True)
    group = gcodes.astype(np.int64) if P else np.zeros(0, dtype=np.int64)

    tc = journeys.touch_channel.astype(np.int64)
    mask = np.zeros(J, dtype=np.int64)
    if tc.size:
        np.bitwise_or.at(mask, jid, np.int64(1) << tc)
    lengths = journeys.lengths
    first = np.full(J, np.nan)
    nonempty = lengths > 0
    first[nonempty] = touch_day[journeys.offsets[:-1][nonempty]]
    start_day = np.where(np.isnan(first), conv_day, first)
    start_day = np.where(np.isnan(start_day), end_day, start_day)

    conversions = np.asarray(journeys.conversions, dtype=np.float64)
    # repeat: the person converted in an earlier journey (journeys are in person, time order
    # when built from events; otherwise ordered by their end)
    repeat = np.zeros(J)
    if has_customer and J:
        end = np.where(np.isnan(conv_day), np.inf, conv_day)
        order = np.lexsort((np.arange(J), end, person))
        conv_sorted = (conversions[order] > 0).astype(np.int64)
        p_sorted = person[order]
        cum = np.cumsum(conv_sorted)
        first_of = np.r_[True, p_sorted[1:] != p_sorted[:-1]]
        base = np.maximum.accumulate(np.where(first_of, cum - conv_sorted, 0))
        before = cum - conv_sorted - base
        repeat[order] = (before > 0).astype(np.float64)

    codes, places = place_codes(journeys)
    return _Data(
        C=C, J=J, person=person, n_person=P, group=group, n_group=max(len(gnames), 1),
        group_names=list(gnames), touch_person=person[jid], touch_day=touch_day, touch_channel=tc,
        conv_day=conv_day, start_day=start_day, conversions=conversions,
        nulls=np.asarray(journeys.nulls, dtype=np.float64), value=np.asarray(journeys.value, dtype=np.float64),
        mask=mask, repeat=repeat, place=np.asarray(codes, dtype=np.int64), places=places,
        end_day=end_day, has_customer=has_customer,
    )


def market_persistence(journeys: Journeys, window: Any = "7D") -> dict[str, float]:
    """How much people stay in market after they buy: the statistic behind ``unit="auto"``.

    Parameters
    ----------
    journeys : Journeys
        Built from events (with touch and conversion times and customers).
    window : duration, default "7D"

    Returns
    -------
    dict
        ``ratio``: touches in the ``window`` after a conversion divided by touches in the
        ``window`` before it, summed over the conversions whose two windows both lie inside the
        data (same person); ``conversions``: how many conversions entered it.

    Notes
    -----
    When people stay in market (persistent intent, exposures over the whole window), a purchase
    does not change how often channels reach them and the ratio is near 1 (somewhat below when
    ads raise the purchase hazard, as exposure then precedes purchases). When purchases close
    episodes of shopping (touches cluster before the purchase decision and pause after it),
    the ratio is far below 1 (about 0.25-0.3 on the simulator's episode world, 0.8-0.85 on its
    always-in-market world). ``Causal(unit="auto")`` uses the hazard model above
    :data:`PERSISTENCE_THRESHOLD` (0.55) and the journey model below.

    Examples
    --------
    >>> from attribution.datasets import simulate
    >>> r = market_persistence(simulate(2000, random_state=1).journeys(lookback=None, warn=False))
    >>> bool(r["ratio"] < 0.55)
    True
    """
    _check_time_journeys(journeys, "market_persistence")
    w = parse_duration(window, "window", "market_persistence").to_timedelta64().astype("timedelta64[ns]").astype(np.int64) / _DAY_NS
    d = _prepare(journeys, None)
    return _persistence(d, float(w))


def _persistence(d: _Data, w: float) -> dict[str, float]:
    conv = (d.conversions > 0) & ~np.isnan(d.conv_day)
    cp, ct = d.person[conv], d.conv_day[conv]
    ok = (ct >= w) & (ct <= d.end_day - w)
    cp, ct = cp[ok], ct[ok]
    if not d.has_customer or cp.size == 0 or d.touch_day.size == 0:
        return {"ratio": float("nan"), "conversions": float(cp.size)}
    span = d.end_day + 2 * w + 1.0
    key = np.sort(d.touch_person * span + d.touch_day)
    q = cp * span + ct
    after = np.searchsorted(key, q + w, "right") - np.searchsorted(key, q, "right")
    before = np.searchsorted(key, q, "right") - np.searchsorted(key, q - w, "right")
    b = before.sum()
    return {"ratio": float(after.sum() / b) if b > 0 else float("nan"), "conversions": float(cp.size)}


# ---------------------------------------------------------------------------------------------
# Exact Shapley of a per-conversion counterfactual game
# ---------------------------------------------------------------------------------------------


def _subset_bits(k: int) -> tuple[np.ndarray, np.ndarray]:
    s = np.arange(1 << k, dtype=np.int64)
    bits = ((s[:, None] >> np.arange(k)[None, :]) & 1).astype(np.float64)
    return s, bits


def _event_shapley(active: np.ndarray, C: int, ratio: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]):
    """Exact Shapley values of a sum of per-conversion games.

    Each conversion ``e`` has a game ``r_e(S)``: the probability that it still happens when only
    the channels ``S`` are on, given that it happened with all of them (``r_e(all) = 1``). Only
    the channels in ``active[e]`` (a bitmask) can matter for ``e``; the others are null players,
    so each game is solved exactly over the subsets of its active channels (conversions with
    the same active set at once).

    Returns
    -------
    phi : (E, C) Shapley value of each channel per conversion; base : (E,) ``r_e(∅)``. Per
    conversion, ``base + phi.sum(1) == 1`` (efficiency).
    """
    E = active.size
    phi = np.zeros((E, C))
    base = np.ones(E)
    if E == 0:
        return phi, base
    uniq, inv = np.unique(active, return_inverse=True)
    for g, m in enumerate(uniq):
        if m == 0:
            continue
        rows = np.flatnonzero(inv == g)
        chans = np.flatnonzero((int(m) >> np.arange(C)) & 1)
        k = chans.size
        s, bits = _subset_bits(k)
        R = ratio(rows, chans, bits)  # (n, 2^k)
        R = R / R[:, -1:]
        size = bits.sum(axis=1).astype(np.int64)
        weight = np.array([math.factorial(j) * math.factorial(k - j - 1) / math.factorial(k) for j in range(k)])
        base[rows] = R[:, 0]
        for i, c in enumerate(chans):
            without = s[(s >> i) & 1 == 0]
            phi[rows, c] = (R[:, without | (1 << i)] - R[:, without]) @ weight[size[without]]
    return phi, base


# ---------------------------------------------------------------------------------------------
# unit="time": the person-period hazard model
# ---------------------------------------------------------------------------------------------


@dataclass
class _Panel:
    X_ad: np.ndarray  # (rows, C * H) adstock features of the fitting sample
    X_person: np.ndarray  # (rows, F) person-level controls
    y: np.ndarray
    w: np.ndarray  # sampling weights
    row_person: np.ndarray
    E_ad: np.ndarray  # (E, C * H) adstock at each conversion
    E_person: np.ndarray  # (E, F)
    E_rows: np.ndarray  # journey rows of the conversions
    E_person_id: np.ndarray
    n_days: int


def _person_controls(d: _Data, counts: np.ndarray, n_days: float) -> np.ndarray:
    """Person controls: log touch count per channel and overall, id-type group (the hazard
    model adds each person's mean of every adstock feature, see :func:`_build_panel`)."""
    total = counts.sum(axis=1, keepdims=True)
    feats = [np.log1p(counts), np.log1p(total)]
    if d.n_group > 1:
        feats.append(np.eye(d.n_group)[d.group][:, 1:])
    return np.hstack(feats)


def _daily_counts(d: _Data, D: int, engine: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Touches counted per (person, day, channel) cell, sorted by person, day, channel.

    ``engine="numpy"``: one ``np.unique`` of the cell keys. ``engine="duckdb"``: a ``GROUP BY``
    in DuckDB (multi-threaded hash aggregation, the numpy arrays handed over without a copy
    through Arrow); same cells and counts. Returns ``(person, day, channel, count)``.
    """
    day = np.clip(np.floor(d.touch_day), 0, D - 1).astype(np.int64)
    if engine == "duckdb":
        import duckdb
        import pyarrow as pa

        table = pa.table({"p": d.touch_person.astype(np.int64), "d": day, "c": d.touch_channel.astype(np.int64)})
        con = duckdb.connect()
        try:
            con.register("touches", table)
            out = con.execute("SELECT p, d, c, count(*)::DOUBLE AS n FROM touches GROUP BY p, d, c ORDER BY p, d, c").fetchnumpy()
        finally:
            con.close()
        return (np.asarray(out["p"], dtype=np.int64), np.asarray(out["d"], dtype=np.int64),
                np.asarray(out["c"], dtype=np.int64), np.asarray(out["n"], dtype=np.float64))
    C = max(d.C, 1)
    key = (d.touch_person.astype(np.int64) * D + day) * C + d.touch_channel.astype(np.int64)
    uniq, n = np.unique(key, return_counts=True)
    return uniq // (D * C), (uniq // C) % D, uniq % C, n.astype(np.float64)


def _panel_engine(engine: str, n_touches: int) -> str:
    if engine == "duckdb":
        try:
            import duckdb  # noqa: F401
        except ImportError as exc:
            raise ImportError("Causal(engine='duckdb') needs DuckDB: pip install 'attribution[duckdb]' "
                              "(or engine='numpy', the same panel in memory).") from exc
    return engine


def _exposure_counts(d: _Data, D: int, engine: str = "numpy"):
    """Touches per (person, day, channel) (:func:`_daily_counts`) and their per-person totals ``(P, C)``."""
    cp, cd, cc, cn = _daily_counts(d, D, engine)
    P, C = d.n_person, d.C
    counts = np.zeros((P, C))
    if cp.size:
        counts.ravel()[:] = np.bincount(cp * C + cc, weights=cn, minlength=P * C)
    return cp, cd, cc, cn, counts


def _build_panel(d: _Data, half_lives: tuple[float, ...], history: float, maturity: float,
                 max_rows: int, rng: np.random.Generator, engine: str = "numpy") -> _Panel:
    C, H = d.C, len(half_lives)
    D = int(math.floor(d.end_day)) + 1
    P = d.n_person
    cp, cd, cc, cn, counts = _exposure_counts(d, D, engine)
    controls = _person_controls(d, counts, D)
    touched = counts.sum(axis=1) > 0
    decay = np.array([0.5 ** (1.0 / h) for h in half_lives])

    # conversions (credit events): every converting journey
    conv_rows = np.flatnonzero((d.conversions > 0) | (d.value > 0))
    c_person = d.person[conv_rows]
    c_day = np.clip(np.floor(np.nan_to_num(d.conv_day[conv_rows], nan=d.end_day)), 0, D - 1).astype(np.int64)
    # panel days: after the history burn-in and before the maturity cut, people with touches
    lo_day = int(min(math.ceil(history), max(D - 1, 0)))
    hi_day = int(max(lo_day + 1, D - math.floor(maturity)))
    ev_day = np.zeros((P, D))
    if conv_rows.size:
        np.add.at(ev_day, (c_person, c_day), (d.conversions[conv_rows] > 0).astype(float))
    panel_people = np.flatnonzero(touched)
    n_cells = panel_people.size * (hi_day - lo_day)
    n_events = int((ev_day[panel_people, lo_day:hi_day] > 0).sum()) if n_cells else 0
    q = min(1.0, max_rows / max(n_cells - n_events, 1))

    bounds = np.searchsorted(cp, np.arange(P + 1))
    # Mundlak means: each person's mean of every adstock feature over the fitted days
    ad_mean = np.zeros((P, C * H))
    E = conv_rows.size
    E_ad = np.zeros((E, C * H))
    ev_order = np.argsort(c_person, kind="stable")
    ev_bounds = np.searchsorted(c_person[ev_order], np.arange(P + 1))
    parts: dict[str, list] = {"ad": [], "y": [], "w": [], "p": []}
    chunk = max(1, 4_000_000 // max(D * C * H, 1))
    for lo in range(0, P, chunk):
        hi = min(P, lo + chunk)
        m = hi - lo
        sel = slice(bounds[lo], bounds[hi])
        # day-major layout: the recursion over days reads and writes contiguous blocks
        daily = np.bincount((cd[sel] * m + (cp[sel] - lo)) * C + cc[sel], weights=cn[sel], minlength=D * m * C)
        daily = daily.reshape(D, m, C, 1)
        ad = np.empty((D, m, C, H))
        ad[0] = 0.0
        for t in range(1, D):
            np.multiply(ad[t - 1], decay, out=ad[t])
            ad[t] += daily[t - 1]
        ad = ad.reshape(D, m, C * H)
        ev = ev_order[ev_bounds[lo] : ev_bounds[hi]]
        if ev.size:
            E_ad[ev] = ad[c_day[ev], c_person[ev] - lo]
        people = np.flatnonzero(touched[lo:hi])
        if people.size == 0 or hi_day <= lo_day:
            continue
        ad_mean[lo + people] = ad[lo_day:hi_day, people].mean(axis=0)
        y = ev_day[lo + people, lo_day:hi_day] > 0
        keep = y | (rng.random(y.shape) < q)
        pi, di = np.nonzero(keep)
        parts["ad"].append(ad[lo_day + di, people[pi]])
        parts["y"].append(y[pi, di].astype(np.float64))
        parts["w"].append(np.where(y[pi, di], 1.0, 1.0 / q))
        parts["p"].append(lo + people[pi])
    if parts["y"]:
        X_ad = np.vstack(parts["ad"])
        y, w, rp = (np.concatenate(parts[k]) for k in ("y", "w", "p"))
    else:
        X_ad, y, w, rp = np.zeros((0, C * H)), np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64)
    controls = np.hstack([controls, ad_mean])
    return _Panel(X_ad, controls[rp], y, w, rp.astype(np.int64), E_ad, controls[c_person], conv_rows,
                  c_person, D)


def _gram(X: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``X' diag(weight) X`` for weight >= 0, as ``A'A`` with ``A = sqrt(weight) X`` (one
    temporary; NumPy hands ``A.T @ A`` to BLAS syrk)."""
    A = X * np.sqrt(weight)[:, None]
    return A.T @ A


def _fit_logit(X: np.ndarray, y: np.ndarray, w: np.ndarray, n_ad: int, penalty: float,
               x0: np.ndarray | None = None, maxiter: int = 500, nonneg: bool = True) -> np.ndarray:
    """Penalised weighted logistic regression; the first ``n_ad`` slopes are >= 0 (``nonneg``).

    Columns: intercept, ``n_ad`` adstock slopes (bounded below by 0 unless ``nonneg=False``),
    controls. Objective: ``-sum w (y eta - log(1 + e^eta)) / sum w + penalty/2 |beta_-0|^2``.

    Solved by projected Newton (Bertsekas 1982): Newton steps on the variables off their bound
    (a slope at 0 whose gradient pushes it below stays there), projected on the bounds with an
    Armijo backtracking search; a few (5-10) steps of ``k x k`` systems, ``k`` = columns. If it
    has not converged after ``maxiter`` steps L-BFGS-B takes over from where it stopped.
    """
    n, k = X.shape
    W = w.sum() if n else 1.0
    pen = np.full(k, penalty)
    pen[0] = 0.0
    if n == 0 or W <= 0:
        return np.zeros(k)
    lb = np.full(k, -np.inf)
    if nonneg:
        lb[1 : 1 + n_ad] = 0.0

    def f(beta):
        eta = X @ beta
        ll = w * (y * eta - np.logaddexp(0.0, eta))
        return -ll.sum() / W + 0.5 * np.sum(pen * beta * beta)

    def fg(beta):
        eta = X @ beta
        ll = w * (y * eta - np.logaddexp(0.0, eta))
        g = -(X.T @ (w * (y - expit(eta)))) / W + pen * beta
        return -ll.sum() / W + 0.5 * np.sum(pen * beta * beta), g

    if x0 is None:
        x0 = np.zeros(k)
        rate = np.clip((w * y).sum() / W, 1e-6, 1 - 1e-6)
        x0[0] = math.log(rate / (1 - rate))
    b = np.maximum(np.asarray(x0, dtype=np.float64), lb)
    converged = False
    fb = f(b)
    for _ in range(min(maxiter, 60)):
        eta = X @ b
        p = expit(eta)
        g = -(X.T @ (w * (y - p))) / W + pen * b
        at_bound = (b <= lb) & (g > 0)
        free = ~at_bound
        pg = np.where(free, g, 0.0)
        if np.max(np.abs(pg)) < 1e-9:
            converged = True
            break
        Hs = _gram(X, w * p * (1 - p))[np.ix_(free, free)] / W
        Hs[np.diag_indices(Hs.shape[0])] += pen[free] + 1e-12
        try:
            step = -np.linalg.solve(Hs, g[free])
        except np.linalg.LinAlgError:
            break
        dec = float(-g[free] @ step)
        if dec < 1e-14:
            converged = True
            break
        alpha = 1.0
        while True:
            cand = b.copy()
            cand[free] = b[free] + alpha * step
            cand = np.maximum(cand, lb)
            fc = f(cand)
            if fc <= fb + 1e-4 * float(g @ (cand - b)) or alpha < 1e-8:
                break
            alpha *= 0.5
        if alpha < 1e-8:
            break
        b, fb = cand, fc
    if converged:
        return b
    bounds = [(None if not math.isfinite(v) else v, None) for v in lb]
    res = minimize(fg, b, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": maxiter})
    return res.x


def _newton_logit(X: np.ndarray, y: np.ndarray, w: np.ndarray, penalty: float, x0: np.ndarray,
                  max_iter: int = 25, tol: float = 1e-10) -> np.ndarray:
    """The unconstrained penalised weighted logistic fit by Newton's method from ``x0`` (the
    objective of :func:`_fit_logit` without bounds; a handful of steps from a nearby start)."""
    b = np.asarray(x0, dtype=np.float64).copy()
    k = b.size
    W = w.sum()
    if X.shape[0] == 0 or W <= 0:
        return b
    pen = np.full(k, penalty * W)
    pen[0] = 0.0
    for _ in range(max_iter):
        p = expit(X @ b)
        H = _gram(X, w * p * (1 - p))
        H[np.diag_indices(k)] += pen + 1e-12 * W
        g = X.T @ (w * (y - p)) - pen * b
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        b += step
        if float(g @ step) < tol * W:
            break
    return b


def _logit_cov(X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray, penalty: float,
               cluster: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cluster-robust (sandwich) covariance of the weighted logistic fit, clustered by person.

    ``H^-1 M H^-1`` with ``H = X' diag(w p (1-p)) X`` (plus the ridge) and ``M`` the sum over
    people of the outer products of their summed scores ``sum_i w_i (y_i - p_i) x_i``: the rows
    of one person share their controls and are not independent, and the sampling weights of the
    down-sampled non-converting days enter both parts (Horvitz-Thompson).

    Returns ``(V, H^-1)``.
    """
    k = X.shape[1]
    if X.shape[0] == 0:
        return np.full((k, k), np.nan), np.zeros((k, k))
    p = expit(X @ beta)
    W = w.sum()
    H = _gram(X, w * p * (1 - p))
    pen = np.full(k, penalty * W)
    pen[0] = 0.0
    H[np.diag_indices(k)] += pen
    score = X * (w * (y - p))[:, None]
    _, inv = np.unique(cluster, return_inverse=True)
    S = np.zeros((int(inv.max()) + 1, k))
    np.add.at(S, inv.ravel(), score)
    M = S.T @ S
    try:
        Hi = np.linalg.pinv(H)
    except np.linalg.LinAlgError:
        return np.full((k, k), np.nan), np.zeros((k, k))
    return Hi @ M @ Hi, Hi


def _effect_se(panel: _Panel, V: np.ndarray, C: int, H: int) -> np.ndarray:
    """Standard error of each channel's mean log-hazard contribution at the conversions."""
    a = panel.E_ad.mean(axis=0) if panel.E_ad.shape[0] else np.zeros(C * H)
    se = np.full(C, np.nan)
    for c in range(C):
        sl = slice(1 + c * H, 1 + (c + 1) * H)
        ac = a[c * H : (c + 1) * H]
        se[c] = math.sqrt(max(float(ac @ V[sl, sl] @ ac), 0.0))
    return se


def _shrink_factor(panel: _Panel, beta_u: np.ndarray, se: np.ndarray, C: int, H: int, alpha: float = SHRINK_ALPHA):
    """Each channel's z (signed effect / se) and its shrinkage factor.

    The channel's effect is its mean log-hazard contribution at the conversions, ``e_c = mean
    adstock . slopes`` of the unconstrained fit, ``z_c = e_c / se_c``. A channel is credited only
    when the one-sided test of no effect rejects at level ``alpha`` (``z_c > z_{1-alpha}``, 1.96
    for the default 0.025), so a channel without effect gets credit with probability ``alpha``;
    a credited effect is shrunk by the positive-part empirical-Bayes factor ``1 - 1/z_c^2`` (the
    posterior mean under ``e_c ~ N(0, tau_c^2)`` with ``tau_c^2 = e_c^2 - se_c^2``). Together a
    pretest estimator (Judge & Bock 1978).
    """
    a = panel.E_ad.mean(axis=0) if panel.E_ad.shape[0] else np.zeros(C * H)
    e = np.array([a[c * H : (c + 1) * H] @ beta_u[1 + c * H : 1 + (c + 1) * H] for c in range(C)])
    crit = max(NormalDist().inv_cdf(1.0 - alpha), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, e / se, np.where(e > 0, np.inf, 0.0))
        factor = np.where(z > crit, 1.0 - 1.0 / (z * z), 0.0)
    return z, np.nan_to_num(factor, nan=0.0)


def _shrunk(beta: np.ndarray, factor: np.ndarray, C: int, H: int) -> np.ndarray:
    out = beta.copy()
    out[1 : 1 + C * H] *= np.repeat(factor, H)
    return out


def _hazard_credit(panel: _Panel, beta: np.ndarray, d: _Data, H: int):
    C = d.C
    n_ad = C * H
    E = panel.E_rows.size
    Xe = np.hstack([np.ones((E, 1)), panel.E_ad, panel.E_person]) if E else np.zeros((0, beta.size))
    slopes = beta[1 : 1 + n_ad]
    contrib = (panel.E_ad * slopes).reshape(E, C, H).sum(axis=2) if E else np.zeros((0, C))
    eta_full = Xe @ beta if E else np.zeros(0)
    eta0 = eta_full - contrib.sum(axis=1)
    active = ((contrib > 0) * (np.int64(1) << np.arange(C, dtype=np.int64))).sum(axis=1).astype(np.int64)

    def ratio(rows, chans, bits):
        eta = eta0[rows, None] + contrib[np.ix_(rows, chans)] @ bits.T
        return expit(eta)

    return _event_shapley(active, C, ratio)


# ---------------------------------------------------------------------------------------------
# unit="journey": the latent-intent journey model
# ---------------------------------------------------------------------------------------------


@dataclass
class _Units:
    E: np.ndarray  # (U, C) exposure indicators
    Y: np.ndarray  # (U,) 1 converting, 0 not
    rep: np.ndarray  # (U,)
    g: np.ndarray  # (U,) id-type group
    wu: np.ndarray  # (U,) weight of the unit within its person
    person: np.ndarray  # (U,) person code (compact)
    pw: np.ndarray  # (P,) weight of each person
    n_person: int
    journey: np.ndarray  # (U,) journey row

    def __post_init__(self):
        from scipy import sparse

        U = self.Y.size
        self.M = sparse.csr_matrix((self.wu, (self.person, np.arange(U))), shape=(self.n_person, U))
        # units with the same (group, repeat, outcome, exposures) share every per-unit term
        C = self.E.shape[1]
        mask = (self.E.astype(np.int64) << np.arange(C, dtype=np.int64)).sum(axis=1) if U else np.zeros(0, np.int64)
        key = ((self.g * 2 + (self.rep > 0)) * 2 + (self.Y > 0)).astype(np.int64) * (np.int64(1) << C) + mask
        _, first, self.inv = np.unique(key, return_index=True, return_inverse=True)
        self.inv = self.inv.ravel()
        Q = first.size
        self.A = sparse.csr_matrix((np.ones(U), (self.inv, np.arange(U))), shape=(Q, U))
        self.pattern = _Pattern(self.E[first], self.Y[first], self.rep[first], self.g[first])


@dataclass
class _Pattern:
    E: np.ndarray
    Y: np.ndarray
    rep: np.ndarray
    g: np.ndarray


#: a channel reveals an unlinked identity in a single-type group when its reach among that group's
#: first journeys is below this fraction of its reach among the first journeys of linked people
#: (and the difference has a z statistic above REVEAL_Z)
REVEAL_RATIO = 0.5
REVEAL_Z = 3.0
_REVEAL_MIN_JOURNEYS = 50


def _unlinked_known_customers(d: _Data):
    """Split off, within each single-type id group, the ids that a channel reaching (almost) only
    linked people reached in their first journey; they form the group ``"<group>~"``.

    Returns the new data and, per split group, the revealing channels.
    """
    if not d.has_customer or d.n_group < 2:
        return d, {}
    names = [str(g) for g in d.group_names]
    types = [set(n.split("+")) if n else set() for n in names]
    jg = d.group[d.person]
    first = d.repeat == 0
    bits = ((d.mask[:, None] >> np.arange(d.C)) & 1).astype(bool)

    def rate(sel):
        n = int(sel.sum())
        return (bits[sel].mean(axis=0), n) if n >= _REVEAL_MIN_JOURNEYS else None

    flag = np.zeros(d.n_person, dtype=bool)
    revealing = {}
    for g, tg in enumerate(types):
        if len(tg) != 1:
            continue
        linked = [h for h, th in enumerate(types) if len(th) > 1 and tg <= th]
        mine = rate(first & (jg == g))
        theirs = rate(first & np.isin(jg, linked)) if linked else None
        if mine is None or theirs is None:
            continue
        (own, n1), (ref, n2) = mine, theirs
        pool = (own * n1 + ref * n2) / (n1 + n2)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (ref - own) / np.sqrt(pool * (1 - pool) * (1 / n1 + 1 / n2))
        chans = np.flatnonzero((own > 0) & (own < REVEAL_RATIO * ref) & (z > REVEAL_Z))
        if chans.size == 0:
            continue
        revealing[names[g]] = chans.tolist()
        hit = first & (jg == g) & bits[:, chans].any(axis=1)
        flag[d.person[hit]] = True
    if not flag.any():
        return d, revealing
    label = np.array(names, dtype=object)[d.group]
    label = np.where(flag, label + "~", label)
    codes, uniq = pd.factorize(pd.Series(label, dtype=object), sort=True)
    from dataclasses import replace

    return replace(d, group=codes.astype(np.int64), n_group=len(uniq), group_names=list(uniq)), revealing


def _journey_units(d: _Data, fit_rows: np.ndarray, person_weight: np.ndarray) -> _Units:
    rows_c = fit_rows[d.conversions[fit_rows] > 0]
    rows_n = fit_rows[(d.nulls[fit_rows] > 0) & (d.mask[fit_rows] != 0)]  # an empty null journey is never seen
    rows = np.concatenate([rows_c, rows_n])
    Y = np.concatenate([np.ones(rows_c.size), np.zeros(rows_n.size)])
    cnt = np.concatenate([d.conversions[rows_c], d.nulls[rows_n]])
    E = ((d.mask[rows][:, None] >> np.arange(d.C)) & 1).astype(np.float64)
    if d.has_customer:
        pcodes, puniq = pd.factorize(d.person[rows])
        wu, pw = cnt, person_weight[puniq]
        g = d.group[d.person[rows]]
    else:
        pcodes, puniq = np.arange(rows.size), rows
        wu, pw = np.ones(rows.size), cnt * person_weight[d.person[rows]]
        g = np.zeros(rows.size, dtype=np.int64)
    return _Units(E, Y, d.repeat[rows], g.astype(np.int64), wu, pcodes.astype(np.int64), pw,
                  int(puniq.size), rows)


class _JourneyModel:
    """Negative log-likelihood and gradient of the latent-intent journey model."""

    def __init__(self, C: int, G: int, reach: np.ndarray, n_nodes: int, penalty: float,
                 reach_intent: bool = True):
        self.C, self.G, self.reach = C, G, reach.astype(np.float64)
        z, w = np.polynomial.hermite_e.hermegauss(n_nodes)
        self.z, self.logw = z, np.log(w / w.sum())
        self.penalty = penalty
        self.reach_intent = reach_intent  # False: the intent loadings of the reach (b) are held at 0
        self.sizes = [G * C, C, C, G, 1, 1, C]

    def unpack(self, x):
        out, i = [], 0
        for s in self.sizes:
            out.append(x[i : i + s])
            i += s
        a, b, e, d0, d1, drep, th = out
        return a.reshape(self.G, self.C), b, e, d0, d1[0], drep[0], th

    def bounds(self):
        C, G = self.C, self.G
        b = [(-6.0, 6.0)] * C if self.reach_intent else [(0.0, 0.0)] * C
        return ([(-12.0, 12.0)] * (G * C) + b + [(-6.0, 6.0)] * C
                + [(-15.0, 10.0)] * G + [(0.0, 6.0), (-6.0, 6.0)] + [(0.0, 8.0)] * C)

    def terms(self, x, q):
        """Per-unit log-likelihood at each node, (Q, K); the exposure part uses that the
        non-linear terms depend only on (group, repeat, node, channel)."""
        a, b, e, d0, d1, drep, th = self.unpack(x)
        z = self.z
        reps = np.array([0.0, 1.0])
        eta_tab = a[:, None, None, :] + b[None, None, None, :] * z[None, None, :, None] + e * reps[None, :, None, None]
        S_tab = (self.reach[:, :, None, :] * np.logaddexp(0.0, eta_tab)).sum(axis=-1)  # (G, 2, K)
        ri = (q.rep > 0).astype(np.int64)
        lin = (q.E * a[q.g]).sum(axis=1) + q.rep * (q.E @ e)
        S = S_tab[q.g, ri]  # (Q, K)
        lE = lin[:, None] + z[None, :] * (q.E @ b)[:, None] - S
        eb = d0[q.g][:, None] + d1 * z[None, :] + drep * q.rep[:, None]
        spb = np.logaddexp(0.0, eb)
        s = spb + (q.E @ th)[:, None]
        Yk = q.Y[:, None] > 0
        lY = np.where(Yk, np.log(-np.expm1(-np.maximum(s, 1e-300))), -s)
        P0 = np.minimum(np.exp(-S - spb), 1.0 - 1e-12)
        L = lE + lY - np.log1p(-P0)
        return L, (eta_tab, ri, eb, s, Yk, P0)

    def person_loglik(self, L, u: _Units):
        joint = u.M @ L + self.logw[None, :]
        top = joint.max(axis=1, keepdims=True)
        ex = np.exp(joint - top)
        tot = ex.sum(axis=1, keepdims=True)
        ll = (top + np.log(tot))[:, 0]
        post = ex / tot
        return ll, post

    def fun(self, x, u: _Units):
        q = u.pattern
        Lq, (eta_tab, ri, eb, s, Yk, P0) = self.terms(x, q)
        ll, post = self.person_loglik(Lq[u.inv], u)
        N = max(u.pw.sum(), 1e-12)
        pen = self.penalty
        f = -(u.pw * ll).sum() / N + 0.5 * pen * np.sum(x * x)
        m = u.A @ ((u.pw[u.person] * u.wu)[:, None] * post[u.person] / N)  # (Q, K)
        z = self.z
        tau = P0 / (1.0 - P0)
        sig_tab = expit(eta_tab)  # (G, 2, K, C)
        W = np.zeros((self.G, 2, z.size))
        np.add.at(W, (q.g, ri), m * (1.0 + tau))
        Mq = m.sum(axis=1)
        R = self.reach
        ga = np.zeros((self.G, self.C))
        np.add.at(ga, q.g, q.E * Mq[:, None])
        ga -= np.einsum("grk,grkc,grc->gc", W, sig_tab, R)
        gb = (q.E * (m @ z)[:, None]).sum(axis=0) - np.einsum("grk,k,grkc,grc->c", W, z, sig_tab, R)
        ge = (q.E * (q.rep * Mq)[:, None]).sum(axis=0) - np.einsum("gk,gkc,gc->c", W[:, 1], sig_tab[:, 1], R[:, 1])
        D = np.where(Yk, 1.0 / np.expm1(np.maximum(s, 1e-300)), -1.0)
        sb = expit(eb)
        Hm = (D * sb - tau * sb) * m
        gd0 = np.bincount(q.g, weights=Hm.sum(axis=1), minlength=self.G)
        gd1 = (Hm * z[None, :]).sum()
        gdrep = (Hm.sum(axis=1) * q.rep).sum()
        gth = ((D * m).sum(axis=1)[:, None] * q.E).sum(axis=0)
        grad = np.concatenate([ga.ravel(), gb, ge, gd0, [gd1, gdrep], gth])
        return f, -grad + pen * x

    def init(self, u: _Units):
        C, G = self.C, self.G
        a = np.zeros((G, C))
        for g in range(G):
            sel = u.g == g
            if sel.any():
                rate = np.clip(np.average(u.E[sel], axis=0, weights=u.wu[sel]), 0.01, 0.99)
                a[g] = np.log(rate / (1 - rate))
        rate = np.clip(np.average(u.Y, weights=u.wu) if u.wu.sum() > 0 else 0.1, 0.01, 0.99)
        return np.concatenate([a.ravel(), np.full(C, 0.5 if self.reach_intent else 0.0), np.zeros(C),
                               np.full(G, math.log(rate / (1 - rate))), [1.0, 0.0], np.full(C, 0.05)])

    def loglik(self, x, u: _Units) -> float:
        """The (person-weighted) log-likelihood at ``x``, without the penalty."""
        f, _ = self.fun(x, u)
        N = max(u.pw.sum(), 1e-12)
        return float(-N * (f - 0.5 * self.penalty * np.sum(x * x)))

    def fit(self, u: _Units, x0=None, maxiter: int = 300):
        x0 = self.init(u) if x0 is None else np.clip(x0, *np.array(self.bounds()).T)
        if u.Y.size == 0:
            return x0
        res = minimize(self.fun, x0, args=(u,), jac=True, method="L-BFGS-B", bounds=self.bounds(),
                       options={"maxiter": maxiter, "ftol": 1e-9})
        return res.x


#: the intent loadings of the reach are held at 0 unless the likelihood-ratio test rejects that at
#: this level (p-value below it)
REACH_INTENT_LEVEL = 1e-3
#: a warning is given when the test's p-value is within a factor 10 of the level (either side)
REACH_INTENT_MARGIN = 10.0


def _choose_reach_intent(jm: _JourneyModel, x: np.ndarray, u: _Units, reach: np.ndarray, choice):
    """Test whether intent drives the reach (likelihood ratio of ``b = 0`` against the fit ``x``)
    and return the model to use, its parameters and the diagnostics."""
    from scipy.stats import chi2

    df = int(reach.any(axis=(0, 1)).sum())  # channels that reach anyone: their loadings are tested
    jm0 = _JourneyModel(jm.C, jm.G, jm.reach > 0, jm.z.size, jm.penalty, reach_intent=False)
    jm0.logw = jm.logw
    x0 = jm0.fit(u, x0=x)
    lr = max(2.0 * (jm.loglik(x, u) - jm0.loglik(x0, u)), 0.0) if u.Y.size else 0.0
    p = float(chi2.sf(lr, df)) if df else 1.0
    if choice == "auto":
        use = p < REACH_INTENT_LEVEL
        if df and REACH_INTENT_LEVEL / REACH_INTENT_MARGIN <= p <= REACH_INTENT_LEVEL * REACH_INTENT_MARGIN:
            _warn_user(
                f"Causal(unit='journey'): the test of intent-driven reach (likelihood ratio {lr:.1f} on "
                f"{df} df, p = {p:.2g}) is near its level {REACH_INTENT_LEVEL:g}; "
                f"{'estimated' if use else 'held the intent loadings of the reach at 0'}. The two "
                "fits credit the channels differently here: compare Causal(reach_intent=True) and "
                "Causal(reach_intent=False).", DataQualityWarning,
            )
    else:
        use = bool(choice)
    diag = {"reach_intent_lr": lr, "reach_intent_df": df, "reach_intent_p": p,
            "reach_intent_level": REACH_INTENT_LEVEL, "reach_intent": "estimated" if use else "zero"}
    return (jm, x, diag) if use else (jm0, x0, diag)


def _journey_credit(model: _JourneyModel, x: np.ndarray, d: _Data, credit_rows: np.ndarray,
                    person_weight: np.ndarray):
    """Per-conversion Shapley of the journey model for the converting journeys ``credit_rows``."""
    every = np.arange(d.J)
    u_all = _journey_units(d, every, person_weight)
    L, _ = model.terms(x, u_all.pattern)
    _, post_person = model.person_loglik(L[u_all.inv], u_all)
    # posterior of each conversion's person
    if d.has_customer:
        # each person's first unit (in unit order), looked up for the converting rows' persons
        owners = np.asarray(d.person[u_all.journey], dtype=np.int64)
        known, first = np.unique(owners, return_index=True)
        q = np.asarray(d.person[credit_rows], dtype=np.int64)
        pidx = np.full(q.size, -1, dtype=np.int64)
        if known.size:
            pos = np.minimum(np.searchsorted(known, q), known.size - 1)
            hit = known[pos] == q
            pidx[hit] = np.asarray(u_all.person, dtype=np.int64)[first[pos[hit]]]
    else:
        unit_of_row = np.full(d.J, -1, dtype=np.int64)
        conv_units = np.flatnonzero(u_all.Y > 0)
        unit_of_row[u_all.journey[conv_units]] = u_all.person[conv_units]
        pidx = unit_of_row[credit_rows]
    K = model.z.size
    post = np.where(pidx[:, None] >= 0, post_person[np.maximum(pidx, 0)], np.exp(model.logw)[None, :]) if pidx.size else np.zeros((0, K))
    _, _, _, d0, d1, drep, th = model.unpack(x)
    g_rows = d.group[d.person[credit_rows]] if d.has_customer else np.zeros(credit_rows.size, dtype=np.int64)
    b = expit(d0[g_rows][:, None] + d1 * model.z[None, :] + drep * d.repeat[credit_rows][:, None])  # (E, K)
    th_rows = np.broadcast_to(th, (credit_rows.size, d.C))  # (E, C)
    own = d.mask[credit_rows] & (np.where(th_rows > 0, np.int64(1) << np.arange(d.C, dtype=np.int64), 0)).sum(axis=1)
    chain = _purchase_chains(d, credit_rows)
    active = np.zeros(credit_rows.size, dtype=np.int64)
    for col in chain.T:
        ok = col >= 0
        active[ok] |= own[col[ok]]
    E_bits = ((own[:, None] >> np.arange(d.C)) & 1).astype(np.float64)  # (E, C)

    def ratio(rows, chans, bits):
        step = max(1, (1 << 22) // (b.shape[1] * bits.shape[0]))  # bounded memory per block
        if rows.size > step:
            return np.vstack([ratio(rows[i : i + step], chans, bits) for i in range(0, rows.size, step)])
        out = np.ones((rows.size, b.shape[1], bits.shape[0]))
        for col in chain[rows].T:
            ok = col >= 0
            ok[ok] = own[col[ok]] != 0  # a conversion no channel could affect has ratio 1
            if not ok.any():
                continue
            i = col[ok]
            eff = th_rows[np.ix_(i, chans)] * E_bits[np.ix_(i, chans)]  # (n, k)
            keep = np.exp(-(eff @ bits.T))  # (n, 2^k)
            p = 1.0 - (1.0 - b[i])[:, :, None] * keep[:, None, :]  # (n, K, 2^k)
            full = np.broadcast_to(p[:, :, -1:], p.shape)
            out[ok] *= np.divide(p, full, out=np.ones_like(p), where=full > 0)
        return np.einsum("nk,nks->ns", post[rows], out)

    return _event_shapley(active.astype(np.int64), d.C, ratio)


def _purchase_chains(d: _Data, credit_rows: np.ndarray) -> np.ndarray:
    """(E, L) positions in ``credit_rows`` of each conversion's person's conversions up to and
    including it, in time order (-1 padded)."""
    E = credit_rows.size
    if not d.has_customer or E == 0:
        return np.arange(E, dtype=np.int64)[:, None]
    person = d.person[credit_rows]
    when = np.where(np.isnan(d.conv_day[credit_rows]), np.inf, d.conv_day[credit_rows])
    order = np.lexsort((credit_rows, when, person))
    ps = person[order]
    start = np.r_[True, ps[1:] != ps[:-1]]
    first = np.maximum.accumulate(np.where(start, np.arange(E), 0))
    rank = np.arange(E) - first  # 0 for a person's first conversion
    Lmax = int(rank.max()) + 1
    sorted_chain = first[:, None] + np.arange(Lmax)[None, :]
    sorted_chain = np.where(np.arange(Lmax)[None, :] <= rank[:, None], sorted_chain, -1)
    chain = np.full((E, Lmax), -1, dtype=np.int64)
    chain[order] = np.where(sorted_chain >= 0, order[np.maximum(sorted_chain, 0)], -1)
    return chain


# ---------------------------------------------------------------------------------------------
# The estimator
# ---------------------------------------------------------------------------------------------


@register_model("causal")
class Causal(AttributionModel):
    """Incremental attribution: each channel's causal effect, and the no-ad baseline.

    Parameters
    ----------
    unit : {"auto", "time", "journey"}, default "auto"
        The model of how people buy. ``"time"``: person-period hazard model; ``"journey"``:
        latent-intent journey model; ``"auto"``: chosen by :func:`market_persistence` (hazard
        model when the ratio is at least 0.55), reported in ``diagnostics_`` with a warning when
        the statistic is within 0.1 of the threshold.
    half_lives : tuple of float, default (2.0, 10.0)
        Adstock half-lives in days of the hazard model (one or two decay rates; one feature per
        channel and rate).
    history : duration, default "7D"
        Hazard model: the first days of the data only build up exposure history (touches before
        the data are unseen); person-days from then on are fitted.
    maturity : duration, "auto" or None, default "auto"
        Right-censoring: journeys that start (hazard model: person-days that lie) less than this
        before the end of the data are not used to fit (a journey still open at the end looks
        like a non-conversion). Their conversions are still credited. ``"auto"``: for the
        journey model the 90th percentile of the time from first touch to conversion of the
        converting journeys (reported in ``diagnostics_["maturity_days"]``); for the hazard
        model none (a person-day is a complete observation).
    id_type : callable, optional
        Maps an id (as in the journeys' ``customer`` and ``id_map``) to its type, e.g. cookie
        or loyalty card. Default: the id's non-numeric prefix (``"c000123"`` -> ``"c"``). A
        person's id-type group (the set of types of their stitched ids) decides which channels
        can reach them (a loyalty card cannot be retargeted) and shifts their baseline.
    n_boot : int, default 0
        Person-level (Poisson) bootstrap replicates for ``credit_intervals_`` (e.g. 20; each
        refits the model, warm-started); 0 skips it (the interval columns are then NaN).
    level : float, default 0.9
        Coverage of the percentile intervals.
    max_rows : int, default 100_000
        Hazard model: non-converting person-days are sampled down to about this many rows
        (weighted by the inverse sampling rate, so the fit stays consistent).
    penalty : float, default 1e-4
        L2 penalty of the fits (per unit of weight).
    n_nodes : int, default 11
        Gauss-Hermite nodes integrating over the latent intent (journey model).
    shrink : bool, default True
        Hazard model: credit a channel only when its signed effect is significant, and shrink
        it towards 0 by its z statistic (a pretest, then positive-part empirical Bayes, see
        Notes); ``False`` keeps the constrained fit as is (which credits noise: a channel with
        no effect gets a positive share).
    shrink_alpha : float, default 0.025
        One-sided level of that test (``z > z_{1-alpha}``, 1.96 for 0.025): a channel with no
        effect gets any credit with about this probability. Values of 0.159 or more give the
        rule without a test (credit whenever ``z > 1``).
    engine : {"numpy", "duckdb"}, default "numpy"
        Hazard model: who counts the touches per person, day and channel for the panel (a
        ``GROUP BY`` in DuckDB, an optional dependency, or ``np.unique``). Both give the same
        panel. Measured at 10^7 touches of 500,000 people on 2 busy cores: counts 8.8 s
        (numpy) vs 18 s (DuckDB, first call, import included), whole panel 36 s vs 59 s, peak
        RSS 2.3 GB; so numpy is the default.
    reach_intent : {"auto", True, False}, default "auto"
        Journey model: whether the latent intent drives which channels reach a person (the
        loadings ``b_c``, see Notes). ``"auto"``: estimated when a likelihood-ratio test rejects
        ``b = 0`` at the level :data:`REACH_INTENT_LEVEL` (0.001), held at 0 otherwise (the fit
        is then much less noisy); the test is reported in ``diagnostics_`` and a warning is given
        when its p-value is within a factor 10 of the level. ``True``/``False``: always
        estimated / always 0.
    random_state : int, Generator or None, default 0
        For the row sampling and the bootstrap.

    Attributes
    ----------
    estimand_ : str
        ``"incremental"``.
    credits_ : pandas.DataFrame
        One row per channel (incremental conversions and value), then ``"(baseline)"``:
        conversions and value expected with no channel on. Columns ``conversions``, ``value``,
        ``share`` (of all conversions). Sums to the journeys' totals.
    incremental_credits_ : pandas.DataFrame
        ``credits_`` without the baseline row (``share``: share of incremental conversions).
    place_credits_ : pandas.DataFrame
        Per channel (and ``"(baseline)"``) and conversion place, when the journeys have places.
    credit_intervals_ : pandas.DataFrame
        Index channel (and ``"(baseline)"``), columns ``conversions``, ``conversions_low``,
        ``conversions_high``, ``value_low``, ``value_high`` (``level`` percentile bootstrap
        intervals; NaN when ``n_boot=0``).
    diagnostics_ : dict
        ``unit`` (the one used), ``market_persistence`` and its ``persistence_conversions``,
        ``coefficients`` (a Series of the fitted effects), rows used, excluded journeys; journey
        model: ``identity_revealing`` (per single-type id group, the channels that told unlinked
        known customers apart, see Notes), ``baseline_by_group``, ``intent_on_reach`` (the
        loadings of the unrestricted fit), the test of intent-driven reach ``reach_intent_lr``,
        ``reach_intent_df``, ``reach_intent_p``, ``reach_intent_level`` and the fit used,
        ``reach_intent`` (``"estimated"`` or ``"zero"``).

    Notes
    -----
    Credit: the exact Shapley value of a counterfactual game per conversion. For a conversion
    ``e`` that happened with the channels it was exposed to, ``r_e(S)`` is the model's probability
    that it still happens with only the channels in ``S`` on, under the coupling that a purchase
    happens when a fixed uniform draw falls below the purchase probability (so a purchase that
    happened with all channels happens under ``S`` with probability ``p_S / p_all``; ads are
    assumed never to deter purchases, effects are constrained to be >= 0). The game of all
    conversions is the sum, so its Shapley values are sums of per-conversion values, each
    computed exactly over the subsets of the channels active for that conversion. ``r_e(∅)``
    summed over conversions is the baseline row. This is the estimand of
    :meth:`attribution.datasets.SimulatedData.truth`.

    **Hazard model** (``unit="time"``). Person-days ``(i, d)`` of people with touches, after
    ``history`` and before ``maturity``: ``logit P(buy on day d) = a + sum_c sum_h beta_ch A_ich(d)
    + gamma' x_i`` with ``A_ich(d) = sum_{touches of c before day d} 0.5 ** (age / half_life_h)``
    (touches act from the next day on) and the person controls ``x_i`` (Mundlak): the person's
    mean of every adstock feature ``mean_d A_ich(d)`` over the fitted days, ``log(1 + touches
    of each channel)``, ``log(1 + all touches)`` over the data and the id-type group. With the
    person means of the regressors themselves among the controls (Mundlak's device; in a linear
    model it gives exactly the within-person, fixed-effects slope), a slope is identified by
    *when* a person's touches fall relative to their purchase days, not by *who* is reached
    more often. A channel targeted on intent (retargeting, brand search) reaches buyers more
    often; with only the log touch counts as controls, the part of intent they miss made it
    look effective (retargeting's estimated incremental value was 1.5-1.7 times the truth at
    20,000 customers and 1.65-2.06 times at 60,000 on the simulator's always-in-market world,
    the other channels 0.6-0.8; without targeting it was 0.5-0.8 like them).
    Identifying assumptions: intent is a person trait captured by the controls (given how often
    channels reach a person, *when* they reach them is as good as random); exposure history
    before the data is negligible after ``history``; touches do not respond to the same day's
    purchase; no interference between people. Fails when purchases end shopping episodes
    (touches then cluster before purchases and the hazard rises for reasons the exposure does
    not cause).

    *Shrinkage of the ad effects* (``shrink=True``). The slopes are held at >= 0, one per channel
    and half-life. A channel with no effect then still gets credit: noise makes one of its two
    (collinear) slopes positive while the other is held at the bound, where the unconstrained fit
    puts it below 0, so the constrained estimate is positive in most worlds (a random placebo
    channel got 0.53 % of the conversions on average and >= 1 % in 21 of 100 worlds). Each
    channel's signed effect ``e_c`` (its mean log-hazard contribution at the conversions) is
    therefore taken from the unconstrained fit (Newton), with a person-clustered sandwich standard
    error ``se_c`` (the down-sampling weights included), ``z_c = e_c / se_c``. The channel is
    credited only when the one-sided test of no effect rejects at level ``shrink_alpha`` (``z_c >
    z_{1-alpha}``, 1.96 by default), and a credited effect is scaled by the posterior mean factor
    ``1 - 1/z_c^2`` of a normal prior ``e_c ~ N(0, tau_c^2)`` with the estimate ``tau_c^2 = e_c^2 -
    se_c^2`` (the positive-part James-Stein factor of one coordinate; Efron & Morris 1973): a
    pretest estimator (Judge & Bock 1978). The constrained slopes of the channel are multiplied by
    the factor, so a channel that is not significant (or whose signed effect is below 0) gets no
    credit, one just significant keeps 74 % and a clearly effective one (``z = 5``) 96 %. A channel
    with no effect gets credit with probability ``shrink_alpha``: its z is calibrated
    (``benchmarks/results/placebo_z.md``: over 100 simulated worlds with a random placebo channel
    the placebo's z had mean -0.13 and sd 1.03, every real channel's z an sd of 0.94-1.23), but at
    3,000 customers one se of its effect is worth 1.5-2 % of the conversions, so the test decides
    how often noise is credited. Without the test (credit whenever ``z_c > 1``, ``shrink_alpha`` >=
    0.159) the placebo got credit in 15 of 100 worlds and more than 1 % of the conversions in 10.
    The test costs power on small real effects: at 20,000 customers on the always-in-market world
    retargeting (about 3 % of the true incremental conversions, z 0.5-1.7) is credited 0 in 5 of 5
    seeds instead of 0-0.6 of its true value, and the TVD to the true shares rose from a mean 0.068
    (max 0.082) to 0.076 (max 0.089). The bootstrap replicates apply the same estimator
    (constrained and unconstrained refits, the se of the full data), so the interval of a channel
    shrunk to 0 reaches 0. ``diagnostics_["effect_z"]`` and ``["shrinkage"]`` hold ``z_c`` and the
    factors. Measured (``benchmarks/results/placebo.md``, 100 worlds of 3,000 customers): a random
    placebo channel passes (credit under 1 % of the conversions and an interval covering 0) in 98
    of 100 worlds (mean credit 0.066 %, max 3.5 %, every interval reaching 0; with the rule without
    a test 89, with the log-count controls alone and that rule 95).

    **Journey model** (``unit="journey"``). One latent intent ``z_i ~ N(0, 1)`` per person; in
    journey ``j`` channel ``c`` reaches the person with ``P = sigmoid(a_gc + b_c z_i + e_c r_j)``
    for the channels that reach the person's id-type group ``g`` at all (estimated from the data),
    ``r_j`` = the person bought before; the journey converts with ``1 - (1 - sigmoid(d_g + d_1
    z_i + d_r r_j)) prod_{c in E_j} exp(-theta_c)``, with a baseline ``d_g`` per id-type group
    (what is logged under an id depends on its type: a loyalty card is seen at store visits and
    store purchases, so a card-only person's journeys are store journeys whose purchases the
    online touches of an unlinked cookie may have caused; without ``d_g`` that difference in
    baseline is credited to the channels the group is reached by, the store visit). Journeys are modelled as observed only if
    they have a touch or a conversion (truncated likelihood); the intent is integrated out with
    Gauss-Hermite quadrature and the likelihood maximised (L-BFGS-B, ``theta >= 0``). Credit
    uses each person's posterior of ``z``.

    *Unlinked known customers.* Stitching is incomplete: a person may hold a cookie and a loyalty
    card that are not linked, so each id is seen alone, and the cookie's purchases made in store
    are logged under the card. Such a cookie converts less often than a complete online-only
    person. When a channel that reaches people once they are known (e-mail, addressed through a
    card or an earlier purchase) reaches the cookie in its first journey, exposure and that hidden
    difference in baseline go together, and the channel looked harmless (e-mail got 0-3 % of the
    incremental credit against a true 8-9 % in the episode world). The data show such channels:
    in a single-type id group (e.g. cookie only) a channel is *identity-revealing* when its reach
    among the group's first journeys is below :data:`REVEAL_RATIO` (one half) of its reach among
    the first journeys of linked people holding that id type, with a two-proportion z above
    :data:`REVEAL_Z` (3) (the e-mail reach of first-time cookies is about a fifth of that of
    linked people on the simulator; every other channel's ratio is near 1). The ids of the group
    that such a channel reached in a first journey form their own group ``"<group>~"`` (own
    baseline and reach intercepts), so the channel's effect is identified from the comparisons
    within groups. ``diagnostics_["identity_revealing"]`` lists the revealing channels per group.

    *Repeat purchases hang on the earlier ones.* A repeat journey begins after a purchase: without
    that purchase the person would not have started it (the episode assumption of the model, the
    same counterfactual as :meth:`~attribution.datasets.SimulatedData.truth`). The game of a
    person's ``k``-th conversion is therefore the product over the person's conversions ``1..k``
    of their ratios ``p_i(S) / p_i(all)`` (one uniform draw per journey, a shared intent,
    averaged over the posterior of ``z``), and a channel that caused a first purchase is also
    credited with part of the repeat purchases that followed it. Crediting each conversion on its
    own journey only put those into the baseline (+15-20 % on the simulator).

    *Is the reach driven by intent?* (``reach_intent="auto"``). The loadings ``b_c`` are what lets
    the model tell a channel that reaches people who would buy anyway from one that makes them
    buy; they are identified only through the model's structure (exposures that go together
    across channels and across a person's journeys, and with purchases, read as a shared
    intent), so they are estimated with much noise that passes into the effects ``theta``. When
    exposure does not depend on intent (a randomised-exposure test, or channels bought without
    targeting) the restricted model ``b = 0`` is correct, and the effects rest on the comparison
    of exposed with unexposed journeys (intent then only shifts the baseline). The model is
    therefore also fitted with ``b = 0`` (warm-started), and the likelihood ratio
    ``LR = 2 (l_full - l_{b=0})`` is referred to a chi-squared distribution with one degree of
    freedom per channel that reaches anyone; the restricted fit is used unless ``p < 0.001``
    (:data:`REACH_INTENT_LEVEL`). Measured on the simulator at 20,000 customers, seeds 1-8:
    randomised world ``LR`` 3-26 on 10 df (p 0.003-0.98; always the restricted fit), episode
    world 5,500-6,600 (always the full fit, whose credits are unchanged); at 3,000 customers
    13-19 and 910-1,020. With ``theta`` set to the true values the credit lands within TVD
    0.01-0.02 of the truth in the randomised world, so the error there is the noise of
    ``theta``: the full fit's ``theta`` were off by 2-4 standard errors of a direct contrast
    (non-purchase of journeys with a touch regressed on their exposures, log link, per id group
    and repeat status; valid when exposure is random), e.g. generic search 0.020 against a true
    0.051 in seed 4 and e-mail 0.018 against 0.041 in seeds 2 and 8, while the restricted fit's
    stay near that contrast. The bootstrap replicates refit the fit chosen on the data (the
    intervals do not include the choice).

    Identifying assumptions: one intent factor explains both targeting and baseline purchase
    within an id group (no other confounder; unlinked ids of known customers are told apart as
    above, other unlinked ids, e.g. a second device, are not and dilute the effects of the
    channels that reach them); exposures within a journey are independent given intent; channels
    act within the journey only (no carry-over between journeys) except through the purchases they
    cause; a repeat journey exists because of the purchase before it. Fails when people stay in
    market (journeys are then cut by purchases, not by episodes).

    Measured on the simulator (``benchmarks/bench_causal.py``, 20,000 customers, seeds 1-5, TVD of
    the channel shares to the true incremental shares, ``benchmarks/results/causal.md``):
    always-in-market world, hazard model 0.064-0.089 (mean 0.076; without the significance test
    of the shrinkage 0.057-0.082, mean 0.068; path models 0.24-0.36; with the log touch counts
    as the only intent controls it was 0.041-0.081, mean 0.064, but over-credited retargeting,
    so the budget plan moved it the wrong way in 3 of 5 seeds at 20,000 customers and 4 of 5 at
    60,000; with the person means 0 of 5 at both, ``benchmarks/results/plan_direction_aim20k.md``
    and ``plan_direction_aim60k.md`` (re-measured with the test: every channel right in 5 of 5
    seeds at both); at 60,000 customers the TVD is 0.043-0.072, mean 0.051, with or without the
    test, where the log-count controls gave 0.059-0.068, mean 0.063);
    episode world, journey model 0.055-0.090 (mean 0.078; before the identity-revealing groups and
    the chained repeat purchases 0.071-0.128, mean 0.097; first touch 0.105-0.126, the other path
    models 0.30-0.66), baseline 2-13 % above the truth (was 12-21 %); randomised world, journey
    model with the intent loadings of the reach held at 0 by the test (see above) 0.027-0.082 over
    seeds 1-8 (mean 0.063; with them estimated 0.051-0.135, mean 0.091, above first touch's in
    seeds 4 and 8; first touch 0.100-0.121), baseline -7 to +4 % of the truth (was -10 to +16 %).
    The statistic picks the hazard model in the first world and the journey model in the other
    two. Between the episode and the randomised world (episode world with ``targeting=0.25``,
    seeds 1 and 2) the test rejects ``b = 0`` (``LR`` 149-195) and the full fit gets 0.079 and
    0.090, where ``b = 0`` would get 0.23-0.26; without targeting (``targeting=0``, seed 1,
    ``LR`` 14.5) it holds ``b`` at 0: 0.055, the full fit 0.099. Known weaknesses: unlinked ids
    that no channel reveals (a second device, a card holder's cookie where e-mail reaches every
    cookie) still see only part of their person's touches and purchases. E-mail's effect on
    purchases logged under an unlinked card cannot be seen at all. A channel with a small effect
    is estimated with an error of about one standard error of its contrast (about 0.01 in
    ``theta`` at 20,000 customers), as large as the effect of brand search, retargeting and
    affiliate (``theta`` 0.01); a budget plan can move such a channel the wrong way (randomised
    world: retargeting in seed 2, brand search in seed 5, each estimated at about 3 times its
    true return; ``theta`` 0.031 and 0.031 against a true 0.010, where the direct contrast above
    gives 0.031 +- 0.010 and 0.035 +- 0.012: the data, not the model, are that far off).
    Identified by timing alone, a channel with a small effect is estimated
    with little precision in the hazard model and often not credited at all (retargeting at
    20,000 customers: 0 in 5 of 5 seeds, z 0.5-1.7; without the test 0-0.6 of its true value;
    at 60,000 0.9-1.2 in 4 of 5 seeds, with or without the test).

    References
    ----------
    Mundlak, Y. (1978). On the pooling of time series and cross section data. Econometrica 46.
    Zhang, Y., Wei, Y. & Ren, J. (2014). Multi-touch attribution in online advertising with
    survival theory. ICDM. Shapley, L. S. (1953). A value for n-person games.
    Efron, B. & Morris, C. (1973). Stein's estimation rule and its competitors: an empirical
    Bayes approach. JASA 68. Judge, G. G. & Bock, M. E. (1978). The statistical implications of
    pre-test and Stein-rule estimators in econometrics. North-Holland. Bertsekas, D. P. (1982).
    Projected Newton methods for optimization problems with simple constraints. SIAM J. Control
    Optim. 20. Wilks, S. S. (1938). The large-sample distribution of the likelihood ratio for
    testing composite hypotheses. Ann. Math. Statist. 9.

    Examples
    --------
    >>> from attribution.datasets import simulate
    >>> sim = simulate(2000, random_state=3, regime="always_in_market")
    >>> m = Causal(n_boot=0).fit(sim.journeys(lookback=None, warn=False))
    >>> m.diagnostics_["unit"]
    'time'
    >>> bool(abs(m.credits_["conversions"].sum() - len(sim.conversions)) < 1e-6)
    True
    """

    _requires_time: ClassVar[bool] = True
    _requires_full_history: ClassVar[bool] = True
    _own_bootstrap: ClassVar[str | None] = "n_boot"  # a person bootstrap of the fitted effects
    _nonnegative: ClassVar[bool] = True
    estimand_: ClassVar[str] = "incremental"

    def __init__(self, unit: str = "auto", half_lives: tuple = (2.0, 10.0), history: Any = "7D",
                 maturity: Any = "auto", id_type: Callable | None = None, n_boot: int = 0,
                 level: float = 0.9, max_rows: int = 100_000, penalty: float = 1e-4,
                 n_nodes: int = 11, shrink: bool = True, shrink_alpha: float = SHRINK_ALPHA,
                 engine: str = "numpy", reach_intent: Any = "auto", random_state: Any = 0):
        self.unit = unit
        self.half_lives = half_lives
        self.history = history
        self.maturity = maturity
        self.id_type = id_type
        self.n_boot = n_boot
        self.level = level
        self.max_rows = max_rows
        self.penalty = penalty
        self.n_nodes = n_nodes
        self.shrink = shrink
        self.shrink_alpha = shrink_alpha
        self.engine = engine
        self.reach_intent = reach_intent
        self.random_state = random_state

    # -- parameters ----------------------------------------------------------------------------

    def _validate_params(self) -> None:
        if not isinstance(self.shrink, (bool, np.bool_)):
            raise _param_error(self, "shrink", "True or False", self.shrink, TypeError)
        a = self.shrink_alpha
        if isinstance(a, bool) or not isinstance(a, (int, float, np.floating)) or not 0 < a < 0.5:
            raise _param_error(self, "shrink_alpha", "a one-sided level in (0, 0.5) such as 0.05", a)
        if self.engine not in ("numpy", "duckdb"):
            raise _param_error(self, "engine", "'numpy' or 'duckdb'", self.engine)
        if not isinstance(self.reach_intent, (bool, np.bool_)) and not (isinstance(self.reach_intent, str) and self.reach_intent == "auto"):
            exc = ValueError if isinstance(self.reach_intent, str) else TypeError
            raise _param_error(self, "reach_intent", "'auto', True or False", self.reach_intent, exc)
        if self.unit not in ("auto", "time", "journey"):
            raise _param_error(self, "unit", "one of 'auto', 'time', 'journey'", self.unit)
        hl = (self.half_lives,) if isinstance(self.half_lives, (int, float)) else self.half_lives
        try:
            hl = tuple(float(h) for h in hl)
        except (TypeError, ValueError):
            hl = ()
        if not 1 <= len(hl) <= 3 or not all(h > 0 and math.isfinite(h) for h in hl):
            raise _param_error(self, "half_lives", "one to three positive numbers of days such as (2, 10)", self.half_lives)
        self._half_lives = hl
        for name in ("history", "maturity"):
            value = getattr(self, name)
            if name == "maturity" and isinstance(value, str) and value == "auto":
                self._maturity = None
                continue
            td = parse_duration(value, name, type(self).__name__) if value not in (None, 0, "0D") else None
            setattr(self, "_" + name, 0.0 if td is None else td / pd.Timedelta(days=1))
        for name, lo in (("n_boot", 0), ("max_rows", 100), ("n_nodes", 3)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
                raise _param_error(self, name, f"an integer >= {lo}", v)
        if not (isinstance(self.level, (int, float)) and 0 < self.level < 1):
            raise _param_error(self, "level", "a number in (0, 1) such as 0.9", self.level)
        if not (isinstance(self.penalty, (int, float)) and self.penalty >= 0):
            raise _param_error(self, "penalty", "a non-negative number", self.penalty)
        if self.id_type is not None and not callable(self.id_type):
            raise _param_error(self, "id_type", "a callable id -> type, or None", self.id_type, TypeError)

    # -- fit -------------------------------------------------------------------------------

    def fit(self, journeys: Journeys, y=None) -> "Causal":
        """Estimate each channel's incremental conversions and value.

        Parameters
        ----------
        journeys : Journeys
            Built from events with every touch kept: ``Journeys.from_events(touchpoints,
            conversions, lookback=None)`` (identities stitched if you have them).

        Returns
        -------
        self

        Raises
        ------
        JourneyValidationError
            If the journeys have no timestamps (a path table).
        """
        journeys = self._check_journeys(journeys)
        self._validate_params()
        _check_time_journeys(journeys, type(self).__name__)
        from threadpoolctl import threadpool_limits

        # many small BLAS calls (L-BFGS-B steps): threads only add synchronisation cost
        # channels in a canonical (sorted) order inside, so that relabelling the channels of the
        # input relabels the credit exactly (the optimiser sees the same problem)
        names = np.asarray(journeys.channels, dtype=object)
        order = np.argsort(names.astype(str), kind="stable")
        canonical = journeys
        if not np.array_equal(order, np.arange(names.size)):
            rank = np.empty_like(order)
            rank[order] = np.arange(order.size)
            canonical = journeys._replace(channels=names[order], touch_channel=rank[journeys.touch_channel].astype(np.int32))
        with threadpool_limits(limits=1, user_api="blas"):
            self._fit(canonical)
        if canonical is not journeys:
            back = list(names) + [BASELINE]
            self.credits_ = self.credits_.reindex(pd.Index(back, name="channel", dtype=object))
            self.incremental_credits_ = self.incremental_credits_.reindex(pd.Index(list(names), name="channel", dtype=object))
            self.credit_intervals_ = self.credit_intervals_.reindex(pd.Index(back, name="channel", dtype=object))
            self.channels_ = names.copy()
            if "place_credits_" in self.__dict__:
                pc = self.place_credits_
                key = pd.Categorical(pc["channel"], categories=back, ordered=True)
                self.place_credits_ = pc.assign(_k=key).sort_values(["_k"], kind="stable").drop(columns="_k").reset_index(drop=True)
        return self

    def _fit(self, journeys: Journeys) -> "Causal":
        rng = np.random.default_rng(self.random_state)
        d = _prepare(journeys, self.id_type)
        diag: dict[str, Any] = {}
        cut = int(journeys.exclusions.get("lookback", 0)) + int(journeys.exclusions.get("lookback_touches", 0))
        if cut:
            _warn_user(
                f"Causal: {cut:,} touches were cut from these journeys by the lookback rules, so "
                "exposure histories are incomplete. Build the journeys with "
                "Journeys.from_events(..., lookback=None) for the causal model.", DataQualityWarning,
            )
        stat = _persistence(d, 7.0)
        diag["market_persistence"] = stat["ratio"]
        diag["persistence_conversions"] = stat["conversions"]
        diag["persistence_threshold"] = PERSISTENCE_THRESHOLD
        unit = self.unit
        if unit == "auto":
            r = stat["ratio"]
            if not np.isfinite(r) or stat["conversions"] < _MIN_PERSISTENCE_CONVERSIONS:
                unit = "journey"
                if d.has_customer and (d.conversions > 0).sum() >= _MIN_PERSISTENCE_CONVERSIONS:
                    _warn_user(
                        f"Causal(unit='auto'): only {int(stat['conversions'])} conversions have a full "
                        "week of data before and after them, too few to tell whether people stay in "
                        "market; using the journey model. Pass unit='time' or unit='journey' to choose.",
                        DataQualityWarning,
                    )
            else:
                unit = "time" if r >= PERSISTENCE_THRESHOLD else "journey"
                if abs(r - PERSISTENCE_THRESHOLD) < PERSISTENCE_MARGIN:
                    _warn_user(
                        f"Causal(unit='auto'): market persistence {r:.2f} (touches in the week after a "
                        f"purchase / the week before) is near the threshold {PERSISTENCE_THRESHOLD}; "
                        f"chose unit={unit!r}. The two models answer differently here: compare "
                        "Causal(unit='time') and Causal(unit='journey').", DataQualityWarning,
                    )
        diag["unit"] = unit

        conv_rows = np.flatnonzero((d.conversions > 0) | (d.value > 0))
        ones = np.ones(d.n_person)
        if unit == "time":
            H = len(self._half_lives)
            maturity = 0.0 if self._maturity is None else self._maturity
            diag["maturity_days"] = maturity
            engine = _panel_engine(self.engine, int(d.touch_person.size))
            diag["panel_engine"] = engine
            panel = _build_panel(d, self._half_lives, self._history, maturity, self.max_rows, rng, engine)
            X = np.hstack([np.ones((panel.y.size, 1)), panel.X_ad, panel.X_person])
            n_ad = d.C * H
            beta = beta_fit = _fit_logit(X, panel.y, panel.w, n_ad, self.penalty)
            names = [f"{c}@{h:g}d" for c in journeys.channels for h in self._half_lives]
            diag["coefficients"] = pd.Series(beta[1 : 1 + n_ad], index=names, name="adstock_slope")
            if self.shrink:
                # the unconstrained fit and its person-clustered covariance give each channel's
                # signed effect and its standard error; the scale is held for the bootstrap
                beta_u = _newton_logit(X, panel.y, panel.w, self.penalty, beta)
                V, _ = _logit_cov(X, panel.y, panel.w, beta_u, self.penalty, panel.row_person)
                se = _effect_se(panel, V, d.C, H)
                z, factor = _shrink_factor(panel, beta_u, se, d.C, H, float(self.shrink_alpha))
                diag["effect_z"] = pd.Series(z, index=list(journeys.channels), name="z")
                diag["shrinkage"] = pd.Series(factor, index=list(journeys.channels), name="factor")
                beta = _shrunk(beta, factor, d.C, H)
            phi, base = _hazard_credit(panel, beta, d, H)
            rows = panel.E_rows
            diag["rows_fitted"] = int(panel.y.size)
            diag["person_days"] = int(d.n_person * panel.n_days)

            def replicate(pw):
                wb = panel.w * pw[panel.row_person]
                b = _fit_logit(X, panel.y, wb, n_ad, self.penalty, x0=beta_fit, maxiter=100)
                if self.shrink:
                    bu = _newton_logit(X, panel.y, wb, self.penalty, beta_u)
                    b = _shrunk(b, _shrink_factor(panel, bu, se, d.C, H, float(self.shrink_alpha))[1], d.C, H)
                return _hazard_credit(panel, b, d, H)
        else:
            d, revealing = _unlinked_known_customers(d)
            diag["identity_revealing"] = {g: [str(journeys.channels[c]) for c in cs] for g, cs in revealing.items()}
            maturity = self._maturity
            if maturity is None:
                conv = (d.conversions > 0) & (d.mask != 0) & ~np.isnan(d.conv_day)
                dur = d.conv_day[conv] - d.start_day[conv]
                maturity = float(np.quantile(dur, 0.9)) if dur.size else 0.0
            diag["maturity_days"] = maturity
            fit_rows = np.flatnonzero(d.start_day <= d.end_day - maturity)
            diag["journeys_too_young"] = int(d.J - fit_rows.size)
            units = _journey_units(d, fit_rows, ones)
            # which channels reach a person at all depends on the id types (a loyalty card cannot
            # be retargeted) and on whether they bought before (an e-mail address is known from a
            # linked card or from an earlier purchase): read from the data per (group, repeat)
            reach = np.zeros((d.n_group, 2, d.C), dtype=bool)
            jg, jr = d.group[d.person], (d.repeat > 0).astype(np.int64)
            bits = (d.mask[:, None] >> np.arange(d.C)) & 1
            for g in range(d.n_group):
                for r in (0, 1):
                    sel = (jg == g) & (jr == r)
                    reach[g, r] = bits[sel].any(axis=0) if sel.any() else False
            jm = _JourneyModel(d.C, d.n_group, reach, self.n_nodes, self.penalty)
            x = jm.fit(units)
            b_free = jm.unpack(x)[1].copy()
            jm, x, test = _choose_reach_intent(jm, x, units, reach, self.reach_intent)
            diag.update(test)
            rows = conv_rows
            phi, base = _journey_credit(jm, x, d, rows, ones)
            _, _, _, d0, d1, drep, th = jm.unpack(x)
            diag["coefficients"] = pd.Series(th, index=list(journeys.channels), name="log_hazard_lift")
            diag["intent_on_baseline"] = float(d1)
            diag["baseline_by_group"] = pd.Series(d0, index=[str(g) for g in d.group_names] or [""], name="baseline_logit")
            diag["intent_on_reach"] = pd.Series(b_free, index=list(journeys.channels))
            diag["journeys_fitted"] = int(units.Y.size)

            def replicate(pw):
                u = _journey_units(d, fit_rows, pw)
                xb = jm.fit(u, x0=x, maxiter=40)
                return _journey_credit(jm, xb, d, rows, pw)

        conv_w = d.conversions[rows]
        val_w = d.value[rows]
        P = 1 if d.places is None else len(d.places)
        conv = np.zeros((d.C + 1, P))
        val = np.zeros((d.C + 1, P))
        pl = d.place[rows]
        for p in range(P):
            sel = pl == p
            conv[: d.C, p] = conv_w[sel] @ phi[sel]
            val[: d.C, p] = val_w[sel] @ phi[sel]
            conv[d.C, p] = conv_w[sel] @ base[sel]
            val[d.C, p] = val_w[sel] @ base[sel]
        # conversions not among ``rows`` (none: every converting journey is a credit event)
        self._store_incremental(journeys, conv, val, d)

        # bootstrap intervals (coefficients refitted on person resamples; credit on the data)
        names_all = list(journeys.channels) + [BASELINE]
        iv = pd.DataFrame(index=pd.Index(names_all, name="channel", dtype=object))
        iv["conversions"] = conv.sum(axis=1)
        iv["value"] = val.sum(axis=1)
        alpha = (1 - self.level) / 2
        if self.n_boot > 0 and rows.size:
            reps_c, reps_v = [], []
            for _ in range(self.n_boot):
                pw = rng.poisson(1.0, d.n_person).astype(np.float64)
                ph, bs = replicate(pw)
                reps_c.append(np.r_[conv_w @ ph, conv_w @ bs])
                reps_v.append(np.r_[val_w @ ph, val_w @ bs])
            reps_c, reps_v = np.array(reps_c), np.array(reps_v)
            iv["conversions_low"], iv["conversions_high"] = np.quantile(reps_c, [alpha, 1 - alpha], axis=0)
            iv["value_low"], iv["value_high"] = np.quantile(reps_v, [alpha, 1 - alpha], axis=0)
            self._boot_replicates = np.stack([reps_c, reps_v], axis=-1)  # for uncertainty.bootstrap
        else:
            for col in ("conversions_low", "conversions_high", "value_low", "value_high"):
                iv[col] = np.nan
            self._boot_replicates = np.empty((0, len(names_all), 2))
        self.credit_intervals_ = iv
        self._boot_index = list(names_all)  # the rows of _boot_replicates
        diag["n_boot"] = int(self.n_boot)
        self.diagnostics_ = diag
        return self

    def _store_incremental(self, journeys: Journeys, conv: np.ndarray, val: np.ndarray, d: _Data) -> None:
        names = np.append(np.asarray(journeys.channels, dtype=object), BASELINE).astype(object)
        conv_ch, val_ch = conv.sum(axis=1), val.sum(axis=1)
        total = conv_ch.sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            share = conv_ch / total if total != 0 else np.full(names.size, np.nan)
        index = pd.Index(names, name="channel", dtype=object)
        self.credits_ = pd.DataFrame({"conversions": conv_ch, "value": val_ch, "share": share}, index=index)
        self.channels_ = np.asarray(journeys.channels, dtype=object).copy()
        inc = self.credits_.iloc[:-1].copy()
        t = inc["conversions"].sum()
        inc["share"] = inc["conversions"] / t if t > 0 else np.nan
        self.incremental_credits_ = inc
        if d.places is not None:
            P = len(d.places)
            self.place_credits_ = pd.DataFrame({
                "channel": np.repeat(names, P),
                "place": np.tile(np.asarray(d.places, dtype=object), names.size),
                "conversions": conv.ravel(),
                "value": val.ravel(),
            })
        else:
            self.__dict__.pop("place_credits_", None)
