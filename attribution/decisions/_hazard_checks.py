r"""Checks of the person-day hazard model (``Causal(unit="time")``) on a panel of its own design.

The scorecard's journey-level checks (:mod:`attribution.decisions.scorecard`) compare exposed and
unexposed *journeys*. A hazard model is not fitted on journeys: it reads each person's exposure
over calendar time, and its journeys are only cut by purchases. Its checks are therefore run on
person-days, built the way the model builds its panel (:func:`hazard_check_panel`):

* the lagged adstock ``A_ich(d)`` of every channel at the model's half-lives (touches act from
  the next day on), the person controls of the model (log touch counts per channel and overall,
  id-type group) and the person means of every adstock feature over the fitted days (Mundlak);
* the outcome: a purchase on day ``d``; non-purchase days sampled down (weights ``1/q``).

**Leads of exposure** (the negative control, :func:`lead_test`). Touches of channel ``c`` in the
``lead_days`` days *after* day ``d`` (``F_ic(d) = #touches of c on days d+1 .. d+L``) are added to
the model's regressors, with their person means (so that their slope, like the model's, is
identified within person). Future exposure cannot cause today's purchase, so under the model's
assumptions (given the person controls, *when* a person is reached is as good as random; touches
do not respond to purchases) its slope is 0. A lead that "predicts" purchases shows that the
timing of exposure is tied to the timing of purchases by something other than the exposure
(shopping episodes that purchases end, transient intent, touches triggered by purchases) or that
the person controls miss a person trait: the same source that would make the lagged exposure
look effective. Estimand: the log-odds slope of one future touch on today's purchase, in a
logistic regression with the model's regressors (fitted on standardised columns with a unit L2
penalty and without the model's sign constraint and shrinkage, so that a slope can be negative);
test: its z statistic with a person-clustered sandwich standard error (the sampling weights
included).

**Decay refit** (the agreement check, in :mod:`attribution.decisions.scorecard`): the model refitted
with every half-life doubled. A person-day AIPW (exposure = reached by the channel on an earlier
day, covariates = the model's person controls) was tried as the cross-check and dropped: the person
controls (the channel's own touch count and mean adstock) all but determine that exposure (40 % of
the exposed person-days had a propensity above 0.95, effective sample 0.3-3 % of the unexposed,
standard errors of 170-440 conversions against estimates of 0-220 at 5,000 customers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..journeys import Journeys
from ..models.aipw import _logit_newton

__all__ = ["HazardCheckPanel", "hazard_check_panel", "lead_test"]


@dataclass
class HazardCheckPanel:
    """Sampled person-days of the people with touches (see the module docstring)."""

    lag: np.ndarray  # (rows, C * H) lagged adstock, channel-major (c0@h0, c0@h1, c1@h0, ...)
    lead: np.ndarray  # (rows, C) touches on the next lead_days days (NaN where the window leaves the data)
    controls: np.ndarray  # (rows, F) person controls incl. Mundlak means of lag and lead
    y: np.ndarray
    w: np.ndarray
    person: np.ndarray
    day: np.ndarray
    C: int
    H: int
    half_lives: tuple
    converting_reached: float  # conversions of people with touches (what the model credits)


def _model_settings(model) -> tuple[tuple[float, ...], float, object]:
    hl = getattr(model, "_half_lives", None) or getattr(model, "half_lives", (2.0, 10.0))
    hl = (float(hl),) if isinstance(hl, (int, float)) else tuple(float(h) for h in hl)
    history = getattr(model, "_history", None)
    if history is None:
        history = 7.0
    return hl, float(history), getattr(model, "id_type", None)


def hazard_check_panel(model, journeys: Journeys, *, lead_days: int = 7, max_rows: int = 60_000,
                       random_state=0) -> HazardCheckPanel:
    """Person-days built like the hazard model's panel, with leads of exposure beside the lags.

    Parameters
    ----------
    model : Causal
        A fitted ``Causal(unit="time")`` (its half-lives, history and id types are used).
    journeys : Journeys
        The journeys it was fitted on.
    lead_days : int, default 7
        Window of the leads: touches on days ``d + 1 .. d + lead_days``.
    max_rows : int, default 60_000
        Non-purchase person-days are sampled down to about this many (weighted by ``1/q``).
    random_state : int

    Notes
    -----
    Days before the model's ``history`` only build up exposure; days are kept from there to the
    end of the data (the lead is NaN on the last ``lead_days`` days, whose window leaves the
    data). The same design as :func:`attribution.models.incremental._build_panel`, recomputed here
    so that the day of each row is known (the leads need it).
    """
    from ..models.incremental import _exposure_counts, _person_controls, _prepare

    half_lives, history, id_type = _model_settings(model)
    rng = np.random.default_rng(random_state)
    d = _prepare(journeys, id_type)
    C, H = d.C, len(half_lives)
    D = math.floor(d.end_day) + 1
    P = d.n_person
    cp, cd, cc, cn, counts = _exposure_counts(d, D)
    base_controls = _person_controls(d, counts, D)
    touched = counts.sum(axis=1) > 0
    decay = np.array([0.5 ** (1.0 / h) for h in half_lives])
    conv_rows = np.flatnonzero(d.conversions > 0)
    c_person = d.person[conv_rows]
    c_day = np.clip(np.floor(np.nan_to_num(d.conv_day[conv_rows], nan=d.end_day)), 0, D - 1).astype(np.int64)
    ev_day = np.zeros((P, D))
    if conv_rows.size:
        np.add.at(ev_day, (c_person, c_day), 1.0)
    lo_day = int(min(math.ceil(history), max(D - 1, 0)))
    people_all = np.flatnonzero(touched)
    n_cells = people_all.size * max(D - lo_day, 0)
    n_events = int((ev_day[people_all, lo_day:] > 0).sum()) if n_cells else 0
    q = min(1.0, max_rows / max(n_cells - n_events, 1))
    reached_conv = float(d.conversions[touched[d.person]].sum()) if d.J else 0.0

    bounds = np.searchsorted(cp, np.arange(P + 1))
    parts: dict[str, list] = {k: [] for k in ("lag", "lead", "ctl", "y", "w", "p", "d")}
    chunk = max(1, 2_000_000 // max(D * C * (H + 2), 1))
    L = int(lead_days)
    for lo in range(0, P, chunk):
        hi = min(P, lo + chunk)
        people = np.flatnonzero(touched[lo:hi])
        if people.size == 0 or D <= lo_day:
            continue
        m = hi - lo
        sel = slice(bounds[lo], bounds[hi])
        daily = np.bincount((cd[sel] * m + (cp[sel] - lo)) * C + cc[sel], weights=cn[sel],
                            minlength=D * m * C).reshape(D, m, C)[:, people]
        k = people.size
        ad = np.empty((D, k, C, H))
        ad[0] = 0.0
        for t in range(1, D):
            np.multiply(ad[t - 1], decay, out=ad[t])
            ad[t] += daily[t - 1][..., None]
        ad = ad.reshape(D, k, C * H)
        cs = np.concatenate([np.zeros((1, k, C)), np.cumsum(daily, axis=0)])  # cs[t] = touches on days < t
        lead = np.full((D, k, C), np.nan)
        if D - L > 0:
            t_ok = np.arange(D - L)
            lead[t_ok] = cs[t_ok + L + 1] - cs[t_ok + 1]
        ok_lead = slice(lo_day, max(lo_day, D - L))
        lag_mean = ad[lo_day:].mean(axis=0)
        lead_mean = lead[ok_lead].mean(axis=0) if D - L > lo_day else np.zeros((k, C))
        y = ev_day[lo + people, lo_day:] > 0
        keep = y | (rng.random(y.shape) < q)
        pi, di = np.nonzero(keep)
        day = lo_day + di
        parts["lag"].append(ad[day, pi])
        parts["lead"].append(lead[day, pi])
        parts["ctl"].append(np.hstack([base_controls[lo + people[pi]], lag_mean[pi], lead_mean[pi]]))
        parts["y"].append(y[pi, di].astype(np.float64))
        parts["w"].append(np.where(y[pi, di], 1.0, 1.0 / q))
        parts["p"].append(lo + people[pi])
        parts["d"].append(day)
    if not parts["y"]:
        z = np.zeros(0)
        return HazardCheckPanel(np.zeros((0, C * H)), np.zeros((0, C)), np.zeros((0, base_controls.shape[1] + C * H + C)),
                                z, z, z.astype(np.int64), z.astype(np.int64), C, H, half_lives, reached_conv)
    cat = {k: (np.vstack(v) if k in ("lag", "lead", "ctl") else np.concatenate(v)) for k, v in parts.items()}
    return HazardCheckPanel(cat["lag"], cat["lead"], cat["ctl"], cat["y"], cat["w"], cat["p"].astype(np.int64),
                            cat["d"].astype(np.int64), C, H, half_lives, reached_conv)


def _clustered_z(X: np.ndarray, y: np.ndarray, w: np.ndarray, group: np.ndarray, cols: np.ndarray,
                 l2: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Weighted logistic fit (columns standardised, intercept added) and, for the columns
    ``cols``, the coefficient and its z statistic with a sandwich covariance clustered by
    ``group`` (the sampling weights included). Returns (coef per unit of the raw column, z)."""
    mu = np.average(X, axis=0, weights=w)
    sd = np.sqrt(np.average((X - mu) ** 2, axis=0, weights=w))
    live = sd > 1e-12
    Xs = (X[:, live] - mu[live]) / sd[live]
    beta = _logit_newton(Xs, y, w, l2=l2)
    Xa = np.column_stack([np.ones(len(Xs)), Xs])
    p = 1.0 / (1.0 + np.exp(-(Xa @ beta)))
    k = Xa.shape[1]
    pen = np.full(k, l2)
    pen[0] = 0.0
    Hs = (Xa * (w * p * (1 - p))[:, None]).T @ Xa + np.diag(pen) + 1e-9 * np.eye(k)
    score = Xa * (w * (y - p))[:, None]
    g, inv = np.unique(group, return_inverse=True)
    S = np.zeros((g.size, k))
    np.add.at(S, inv, score)
    Hi = np.linalg.pinv(Hs)
    V = Hi @ (S.T @ S) @ Hi
    where = np.full(X.shape[1], -1)
    where[np.flatnonzero(live)] = 1 + np.arange(int(live.sum()))
    coef = np.full(len(cols), np.nan)
    z = np.full(len(cols), np.nan)
    for i, c in enumerate(cols):
        j = where[c]
        if j < 0:
            continue
        se = math.sqrt(max(V[j, j], 0.0))
        coef[i] = beta[j] / sd[c]
        z[i] = beta[j] / se if se > 0 else np.nan
    return coef, z


def lead_test(panel: HazardCheckPanel) -> tuple[np.ndarray, np.ndarray]:
    """Slope and z statistic of each channel's lead (touches on the next ``lead_days`` days) on
    today's purchase, in the hazard model's regression (lagged adstock and person controls).

    Returns ``(slope, z)`` per channel (NaN for a channel without lead variation)."""
    ok = np.isfinite(panel.lead).all(axis=1)
    C = panel.C
    if ok.sum() < 50 or panel.y[ok].sum() < 5:
        return np.full(C, np.nan), np.full(C, np.nan)
    X = np.hstack([panel.lead[ok], panel.lag[ok], panel.controls[ok]])
    return _clustered_z(X, panel.y[ok], panel.w[ok], panel.person[ok], np.arange(C))
