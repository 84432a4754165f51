"""Credit out at the grain users join to: per journey, per touch and per period.

:func:`journey_credits` and :func:`touch_credits` split a fitted model's ``credits_`` back
onto the journeys it was fitted on (also available as ``model.journey_credits(journeys)`` and
``model.touch_credits(journeys)``); :func:`credits_by_period` sums them by conversion period.

How a journey's conversion is split
-----------------------------------
*Per-touch models* (the rule models, Probabilistic, Fractribution, Shapley ``simplified`` /
``ordered``, and Logistic when it falls back) already split every journey over its own
touches: the touch with weight :math:`w_t` earns :math:`w_t c_j` of the journey's conversions
:math:`c_j` (and :math:`w_t v_j` of its value). Summed per channel this *is* ``credits_``.

*Global models* (Markov removal effects, Shapley over channel sets, Logistic coefficients)
credit channels, not journeys. With ``split="touched"`` (the default) a journey's conversion
goes to the channels it touched, in proportion to channel *rates* :math:`a_{c,p}` (one per
channel and conversion place):

.. math:: x_{jc} = c_j \\, \\frac{a_{c,p(j)}}{\\sum_{c' \\in j} a_{c',p(j)}},

with the rates fitted by iterative proportional fitting so that :math:`\\sum_j x_{jc}` equals
the model's credit of channel :math:`c` at place :math:`p` (to 1e-12 relative). Every journey
keeps exactly its own conversions, every channel gets exactly its model credit, and a
channel's credit goes to the journeys that touched it. The conversions and the value are
fitted separately (Shapley's value shares may differ from its conversion shares). Within a
journey, a channel's part is shared equally among its touches.

This is possible whenever the model's credits lie inside what journeys can give: a
channel cannot receive less than the journeys that touched *only* it, nor more than all the
journeys that touched it (Logistic, which gives some channels nothing, and Markov on small
data can break these bounds). Then the closest fit is completed exactly: the channels
credited too much give up their excess in proportion to their credit in each journey, and
each journey's released part goes to the channels credited too little at its place (in
proportion to their shortfall), so every journey still keeps exactly its conversions and
every channel gets exactly its model credit, but some journeys credit a channel they did not
touch. Those rows have ``touched == False``; their share of the credit is in
``table.attrs["untouched_share"]`` and a warning names it when it exceeds 1%.

``split="global"`` splits every journey's conversion over *all* channels in the model's
proportions at its place, which is literally what a global model's credit says (it knows
nothing about single journeys); for per-touch models it ignores their touch weights.

Journeys without touches credit the pseudo-channel ``"(no touch)"``, as ``credits_`` does.

*Incremental models* (``estimand_ == "incremental"``) split every journey between its touched
channels and ``"(baseline)"``, which takes part in every journey: the same fit, with the
baseline as one more rate, so that the baseline rows sum to the ``"(baseline)"`` row of
``credits_`` and journeys without touches go wholly to the baseline (there is no
``"(no touch)"`` row, as in ``credits_``). The baseline's part carries no touch: in
:func:`touch_credits` it comes as a row with ``position == -1``.
Every table returned here says which quantity it holds in ``attrs["estimand"]``
(``"attributed"`` or ``"incremental"``, the model's).
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from ._warnings import warn_user
from .exceptions import DataQualityWarning, JourneyValidationError, ParameterError
from .journeys import Journeys
from .models._touch import BASELINE, NO_TOUCH, credit_from_touch_weights, place_codes, simplified_touch_weights

__all__ = ["campaign_credits", "credits_by_period", "credits_by_touch_type", "journey_credits", "rollup",
           "touch_credits"]

_TOL = 1e-12
_MAX_ITER = 10_000


def _check(model, journeys: Journeys, split: str) -> None:
    if not _is_model(model):
        raise TypeError(f"Expected a fitted attribution model. Got {type(model).__name__} instead.")
    if not isinstance(journeys, Journeys):
        raise TypeError(f"Expected a Journeys object. Got {type(journeys).__name__} instead.")
    cr = model.credits_  # raises NotFittedError
    if split not in ("touched", "global"):
        raise ParameterError(f"The 'split' parameter must be 'touched' or 'global'. Got {split!r} instead.")
    same = list(model.channels_) == list(journeys.channels)
    scale = max(1.0, abs(journeys.total_conversions))
    if not same or abs(cr["conversions"].sum() - journeys.total_conversions) > 1e-9 * scale:
        raise JourneyValidationError(
            f"{type(model).__name__} was fitted on other journeys (channels {list(model.channels_)[:8]}, "
            f"{cr['conversions'].sum():g} conversions); pass the journeys it was fitted on "
            f"(channels {list(journeys.channels)[:8]}, {journeys.total_conversions:g} conversions)."
        )


# The models build on journeys and on .models._touch; this module reads fitted models without
# importing their classes (AttributionModel.journey_credits / touch_credits call into it), so it
# recognises them by what they define.


def _is_model(model) -> bool:
    """An attribution model (a subclass of :class:`~attribution.models.base.AttributionModel`)."""
    cls = type(model)
    return callable(getattr(cls, "_touch_weights", None)) and callable(getattr(cls, "_channel_credit", None))


def _splits_per_touch(cls) -> bool:
    """``cls`` keeps AttributionModel's channel credit (the sum of its per-touch weights): the
    ``_channel_credit`` it resolves to is the one of the first class that defined it."""
    owners = [k for k in cls.__mro__ if "_channel_credit" in vars(k)]
    return bool(owners) and vars(owners[0])["_channel_credit"] is vars(owners[-1])["_channel_credit"]


def _is_a(cls, registered_name: str) -> bool:
    """``cls`` is (a subclass of) the model registered as ``registered_name``."""
    return any(vars(k).get("model_name") == registered_name for k in cls.__mro__)


def _exact_touch_weights(model, journeys: Journeys) -> np.ndarray | None:
    """The model's own per-touch weights, when its credit is a per-touch split."""
    weights = None
    if _splits_per_touch(type(model)):
        weights = model._touch_weights(journeys)
    elif _is_a(type(model), "shapley") and model.method in ("simplified", "ordered"):
        weights = simplified_touch_weights(journeys)
    else:  # e.g. Logistic's documented fallback: check whether credits_ is the simplified split
        w = simplified_touch_weights(journeys)
        cc = credit_from_touch_weights(journeys, w)
        if _matches(model, journeys, cc.conversions, cc.value):
            weights = w
    if weights is None:
        return None
    cc = credit_from_touch_weights(journeys, weights)
    return np.asarray(weights, dtype=np.float64) if _matches(model, journeys, cc.conversions, cc.value) else None


def _incremental(model) -> bool:
    return getattr(model, "estimand_", "attributed") == "incremental"


def _with_estimand(table: pd.DataFrame, model) -> pd.DataFrame:
    """``table`` with ``attrs["estimand"]``: "attributed" (shares of observed conversions) or
    "incremental" (what the channels caused; the rest in ``"(baseline)"``), as the model's."""
    table.attrs["estimand"] = "incremental" if _incremental(model) else "attributed"
    return table


def _targets(model, journeys: Journeys):
    """The model's credit of the touched journeys, (C, P) for conversions and value; for an
    incremental model (C + 1, P), the last row being the ``"(baseline)"`` credit."""
    codes, places = place_codes(journeys)
    C = journeys.n_channels + _incremental(model)
    if places is None:
        cr = model.credits_
        conv = cr["conversions"].to_numpy()[:C, None].astype(np.float64)
        val = cr["value"].to_numpy()[:C, None].astype(np.float64)
        return codes, places, conv, val
    pc = model.place_credits_
    P = len(places)
    if P == 0:  # no journeys
        return codes, places, np.zeros((C, 1)), np.zeros((C, 1))
    conv = pc["conversions"].to_numpy().reshape(-1, P)[:C].astype(np.float64)
    val = pc["value"].to_numpy().reshape(-1, P)[:C].astype(np.float64)
    return codes, places, conv, val


def _matches(model, journeys, conv, val, rtol: float = 1e-9) -> bool:
    if journeys.n_journeys == 0:
        return True
    _, _, t_conv, t_val = _targets(model, journeys)
    conv = np.asarray(conv, dtype=np.float64).reshape(t_conv.shape)
    val = np.asarray(val, dtype=np.float64).reshape(t_val.shape)
    sc = max(1.0, np.abs(t_conv).sum())
    sv = max(1.0, np.abs(t_val).sum())
    return bool(np.abs(conv - t_conv).max(initial=0) <= rtol * sc and np.abs(val - t_val).max(initial=0) <= rtol * sv)


def _pairs(journeys: Journeys):
    """Distinct (journey, channel) pairs of the touches; returns (pair of each touch, pair j, pair c)."""
    C = max(journeys.n_channels, 1)
    key = journeys.journey_index.astype(np.int64) * C + journeys.touch_channel
    uniq, inv = np.unique(key, return_inverse=True)
    return inv.ravel(), uniq // C, uniq % C


def _fit_rates(q, pj, pc, codes, target, J: int):
    """Iterative proportional fitting of channel × place rates over the touched pairs.

    Returns the credit of every (journey, channel) pair; rows (journeys) are exact, columns
    (channels) as close to ``target`` as the fit gets (exact when feasible).
    """
    C, P = target.shape
    x = np.zeros(len(pj))
    active = q[pj] != 0
    if not active.any():
        return x
    pj, pc = pj[active], pc[active]
    qj = q[pj]
    key = pc * P + codes[pj]
    tgt = target.ravel()
    total = max(np.abs(tgt).sum(), 1e-300)
    a = np.where(tgt > 0, tgt / total, 0.0)
    # a journey whose touched channels all have rate 0 keeps equal rates (it has to go somewhere)
    best, checkpoint = np.inf, np.inf
    for it in range(_MAX_ITER):
        ak = a[key]
        denom = np.bincount(pj, weights=ak, minlength=J)[pj]
        n_in = np.bincount(pj, minlength=J)[pj]
        share = np.where(denom > 0, ak / np.where(denom > 0, denom, 1.0), 1.0 / n_in)
        xa = qj * share
        col = np.bincount(key, weights=xa, minlength=C * P)
        gap = np.abs(col - tgt).max(initial=0.0)
        if gap <= _TOL * total:
            break
        if it % 50 == 0:  # stalled: the targets are outside what touched splits can give
            if gap > checkpoint * (1 - 1e-4):
                break
            checkpoint = gap
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(col > 0, np.maximum(tgt, 0.0) / col, 1.0)
        a = a * ratio
        a = a / max(a.max(initial=0.0), 1e-300)  # keep the scale bounded
    x[np.flatnonzero(active)] = xa
    return x


def _transfer(x, pj, pc, codes, target, q, J: int):
    """Make the channel sums exact while keeping every journey's total: pairs of
    over-credited channels give up the excess in proportion to their credit, and each
    journey's part goes to the under-credited channels at its place, in proportion to their
    shortfall (untouched (journey, channel) pairs). Returns (pair credit, extra j, c, credit)."""
    C, P = target.shape
    key = pc * P + codes[pj]
    col = np.bincount(key, weights=x, minlength=C * P)
    tgt = target.ravel()
    over = np.maximum(col - tgt, 0.0)
    under = np.maximum(tgt - col, 0.0)
    if not over.any() and not under.any():
        return x, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    frac = np.divide(over, col, out=np.zeros_like(col), where=col > 0)
    give = x * frac[key]
    x = x - give
    gave = np.bincount(pj, weights=give, minlength=J)  # per journey
    # negative targets (Shapley negative="keep") or journeys whose touched channels are all
    # over-credited: the rest of the gap is spread over every journey of the place
    under_pp = under.reshape(C, P)
    u_sum = under_pp.sum(axis=0)
    js = np.flatnonzero(gave > 0)
    pjs = codes[js]
    shares = np.divide(under_pp[:, pjs], u_sum[pjs][None, :], out=np.zeros((C, len(js))),
                       where=u_sum[pjs][None, :] > 0)
    extra = shares * gave[js][None, :]
    cc, k = np.nonzero(extra)
    return x, js[k], cc, extra[cc, k]


def _settle(x, pj, pc, ej, ec, ex, codes, target, q):
    """Make the channel sums exact where splitting cannot (negative credit, e.g. an incremental
    estimate below zero): what is left of channel ``c`` at place ``p`` is spread over the
    journeys of ``p`` in proportion to their ``q``. The left-overs of a place sum to 0 (its
    journeys' totals are its credits' total), so every journey keeps exactly its total."""
    C, P = target.shape
    col = np.bincount(pc * P + codes[pj], weights=x, minlength=C * P).astype(np.float64)
    if len(ej):
        col += np.bincount(ec * P + codes[ej], weights=ex, minlength=C * P)
    res = (target.ravel() - col).reshape(C, P)
    if np.abs(res).max(initial=0.0) <= 1e-10 * max(np.abs(target).sum(), 1.0):
        return ej, ec, ex
    Q = np.bincount(codes, weights=q, minlength=P)
    js = np.flatnonzero(q != 0)
    cs = np.flatnonzero(np.abs(res).max(axis=1) > 0)
    jj = np.repeat(js, len(cs))
    cc = np.tile(cs, len(js))
    pp = codes[jj]
    add = np.divide(res[cc, pp] * q[jj], Q[pp], out=np.zeros(len(jj)), where=Q[pp] != 0)
    return (np.concatenate([ej, jj]).astype(np.int64), np.concatenate([ec, cc]).astype(np.int64),
            np.concatenate([ex, add]))


def _split(model, journeys: Journeys, split: str):
    """Per-touch credit (conversions, value) and the credit of untouched (journey, channel)
    pairs (journey, channel, conversions, value), or None for split="global"."""
    _check(model, journeys, split)
    none = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    if split == "touched" and not _incremental(model):
        w = _exact_touch_weights(model, journeys)
        if w is not None:
            jid = journeys.journey_index
            return w * journeys.conversions[jid], w * journeys.value[jid], none
    codes, places, t_conv, t_val = _targets(model, journeys)
    if split == "global":
        return None
    codes = np.asarray(codes)
    t_of_pair, pj, pc = _pairs(journeys)
    J = journeys.n_journeys
    n_real = len(pj)
    if _incremental(model):  # "(baseline)" (code C) takes part in every journey, touched or not
        pj = np.concatenate([pj, np.arange(J, dtype=pj.dtype)])
        pc = np.concatenate([pc, np.full(J, journeys.n_channels, dtype=pc.dtype)])
    n_touch = np.bincount(t_of_pair, minlength=n_real).astype(np.float64)
    per_touch, extras = [], []
    for q, tgt in ((np.asarray(journeys.conversions, dtype=np.float64), t_conv),
                   (np.asarray(journeys.value, dtype=np.float64), t_val)):
        x = _fit_rates(q, pj, pc, codes, tgt, J)
        col = np.bincount(pc * tgt.shape[1] + codes[pj], weights=x, minlength=tgt.size)
        if np.abs(col - tgt.ravel()).max(initial=0.0) > 1e-10 * max(np.abs(tgt).sum(), 1.0):
            x, ej, ec, ex = _transfer(x, pj, pc, codes, tgt, q, J)
        else:  # feasible: the fit is exact to round-off
            ej, ec, ex = none[0], none[1], none[2]
        per_touch.append(x[t_of_pair] / n_touch[t_of_pair])  # shared equally by the channel's touches
        if len(pj) > n_real:  # the baseline's part of every journey: a row with no touch
            ej = np.concatenate([ej, pj[n_real:]]).astype(np.int64)
            ec = np.concatenate([ec, pc[n_real:]]).astype(np.int64)
            ex = np.concatenate([ex, x[n_real:]])
        ej, ec, ex = _settle(x[:n_real], pj[:n_real], pc[:n_real], ej, ec, ex, codes, tgt, q)
        extras.append((ej, ec, ex))
    # the untouched pairs of conversions and value, on one key
    C1 = journeys.n_channels + 1
    keys = [e[0] * C1 + e[1] for e in extras]
    allk = np.unique(np.concatenate(keys))
    conv_x = np.zeros(len(allk))
    val_x = np.zeros(len(allk))
    np.add.at(conv_x, np.searchsorted(allk, keys[0]), extras[0][2])
    np.add.at(val_x, np.searchsorted(allk, keys[1]), extras[1][2])
    return per_touch[0], per_touch[1], (allk // C1, allk % C1, conv_x, val_x)


def touch_credits(model, journeys: Journeys, *, split: str = "touched") -> pd.DataFrame:
    """One row per touch with the credit it earned.

    Parameters
    ----------
    model : AttributionModel
        Fitted on ``journeys``.
    journeys : Journeys
    split : {"touched"}, default "touched"
        See the module notes (``"global"`` credits channels a journey did not touch, so it has
        no per-touch form; use :func:`journey_credits`).

    Returns
    -------
    DataFrame
        Columns ``journey`` (row of ``journeys``), ``position`` (0-based within the journey),
        ``time`` (when the journeys have timestamps), ``channel``, ``channel_group`` (the
        campaign's channel, at ``level="campaign"``), ``touch_type`` (when the journeys carry
        touch types), ``customer`` (when known),
        ``conversions`` and ``value``. Journeys without touches have no rows; their credit is
        ``"(no touch)"`` in :func:`journey_credits`. When a global model's credits cannot be
        reached by touched channels alone, the remainder comes as extra rows with
        ``position == -1`` (no touch time): credit of a channel the journey did not touch.
    """
    if split != "touched":
        raise ParameterError(
            "The \'split\' parameter of touch_credits must be 'touched': split='global' credits channels a "
            f"journey did not touch, which have no touch row. Got {split!r} instead; use journey_credits."
        )
    conv, val, (ej, ec, ex_conv, ex_val) = _split(model, journeys, split)
    jid = journeys.journey_index
    names = np.append(np.asarray(journeys.channels, dtype=object), BASELINE).astype(object)
    n_x = len(ej)
    out = {"journey": np.concatenate([jid, ej]).astype(np.int64),
           "position": np.concatenate([journeys.position, np.full(n_x, -1)]).astype(np.int64)}
    if journeys.has_time:
        out["time"] = np.concatenate([journeys.touch_time, np.full(n_x, np.datetime64("NaT"), "datetime64[ns]")])
    out["channel"] = np.concatenate([names[journeys.touch_channel], names[ec]])
    if journeys.channel_groups is not None:  # level="campaign": the campaign's channel
        groups = np.append(np.asarray(journeys.channel_groups, dtype=object), BASELINE).astype(object)
        out["channel_group"] = np.concatenate([groups[journeys.touch_channel], groups[ec]])
    if journeys.touch_type is not None:
        out["touch_type"] = np.concatenate([journeys.touch_type_names, np.full(n_x, None)])
    if journeys.customer is not None:
        out["customer"] = journeys.customer[out["journey"]]
    out["conversions"] = np.concatenate([conv, ex_conv])
    out["value"] = np.concatenate([val, ex_val])
    return _with_estimand(pd.DataFrame(out), model)


def journey_credits(model, journeys: Journeys, *, split: str = "touched", drop_zero: bool = True) -> pd.DataFrame:
    """One row per journey × credited channel.

    Parameters
    ----------
    model : AttributionModel
        Fitted on ``journeys``.
    journeys : Journeys
    split : {"touched", "global"}, default "touched"
        ``"touched"``: per-touch models split by their own touch weights, global models over
        the channels each journey touched (rates fitted to ``credits_``); ``"global"``: every
        journey over all channels in the model's shares. See the module notes.
    drop_zero : bool, default True
        Leave out rows with zero conversions and zero value (non-converting journeys).

    Returns
    -------
    DataFrame
        Columns ``journey``, ``customer`` (when known), ``conversion_time`` (when known),
        ``place`` (when known), ``channel``, ``touched`` (the journey touched the channel),
        ``conversions``, ``value``. Summed per channel
        (and place) they equal ``model.credits_`` (``place_credits_``).

    Examples
    --------
    >>> import pandas as pd
    >>> from attribution import Journeys, Linear
    >>> j = Journeys.from_paths(pd.DataFrame({"path": ["a > b", "b"], "total_conversions": [2, 1]}))
    >>> m = Linear().fit(j)
    >>> journey_credits(m, j)[["journey", "channel", "conversions"]].values.tolist()
    [[0, 'a', 1.0], [0, 'b', 1.0], [1, 'b', 1.0]]
    """
    res = _split(model, journeys, split)
    J, C = journeys.n_journeys, journeys.n_channels
    incremental = _incremental(model)
    # code C: "(no touch)" for attributed models, "(baseline)" (part of every journey) for incremental ones
    names = np.append(np.asarray(journeys.channels, dtype=object), BASELINE if incremental else NO_TOUCH).astype(object)
    conv_j = np.asarray(journeys.conversions, dtype=np.float64)
    val_j = np.asarray(journeys.value, dtype=np.float64)
    empty = np.asarray(journeys.lengths) == 0
    if res is None:  # global: every journey with touches over all channels at its place
        codes, places, t_conv, t_val = _targets(model, journeys)
        touched = np.arange(J) if incremental else np.flatnonzero(~empty)
        C = t_conv.shape[0]  # with the baseline row for an incremental model

        def shares(t):
            s = t.sum(axis=0)
            return np.divide(t, s[None, :], out=np.zeros_like(t), where=s[None, :] != 0)

        sc, sv = shares(t_conv), shares(t_val)
        jj = np.repeat(touched, C)
        cc = np.tile(np.arange(C), len(touched))
        pj = np.asarray(codes)[jj]
        conv = conv_j[jj] * sc[cc, pj]
        val = val_j[jj] * sv[cc, pj]
    else:
        t_conv, t_val, (ej, ec, ex_conv, ex_val) = res
        C1 = C + 1
        key = np.concatenate([journeys.journey_index.astype(np.int64) * C1 + journeys.touch_channel, ej * C1 + ec])
        uniq, inv = np.unique(key, return_inverse=True)
        conv = np.bincount(inv.ravel(), weights=np.concatenate([t_conv, ex_conv]), minlength=len(uniq))
        val = np.bincount(inv.ravel(), weights=np.concatenate([t_val, ex_val]), minlength=len(uniq))
        jj, cc = uniq // C1, uniq % C1
        touched_pair = np.isin(uniq, journeys.journey_index.astype(np.int64) * C1 + journeys.touch_channel)
    # journeys without touches: the "(no touch)" pseudo-channel
    nt = np.flatnonzero(empty & ((conv_j != 0) | (val_j != 0)))
    if incremental:  # their conversions are the baseline's, already in the rows above
        nt = nt[:0]
        C = journeys.n_channels
    if res is None:
        touched_pair = np.zeros(len(jj), dtype=bool)
        if len(jj):
            C1 = C + 1
            touched_pair = np.isin(jj * C1 + cc, journeys.journey_index.astype(np.int64) * C1 + journeys.touch_channel)
    touched_pair = np.concatenate([touched_pair, np.zeros(len(nt), dtype=bool)])
    jj = np.concatenate([jj, nt]).astype(np.int64)
    cc = np.concatenate([cc, np.full(len(nt), C)]).astype(np.int64)
    conv = np.concatenate([conv, conv_j[nt]])
    val = np.concatenate([val, val_j[nt]])
    order = np.lexsort((cc, jj))
    jj, cc, conv, val, touched_pair = jj[order], cc[order], conv[order], val[order], touched_pair[order]
    if drop_zero:
        keep = (conv != 0) | (val != 0)
        jj, cc, conv, val, touched_pair = jj[keep], cc[keep], conv[keep], val[keep], touched_pair[keep]
    out = {"journey": jj}
    if journeys.customer is not None:
        out["customer"] = journeys.customer[jj]
    if journeys.conversion_time is not None:
        out["conversion_time"] = journeys.conversion_time[jj]
    if journeys.has_place:  # labelled as in place_credits_ (a missing place is "(unknown)")
        p_codes, p_names = place_codes(journeys)
        out["place"] = np.asarray(p_names, dtype=object)[np.asarray(p_codes)[jj]] if len(jj) else np.zeros(0, object)
    out["channel"] = names[cc]
    out["touched"] = touched_pair
    out["conversions"] = conv
    out["value"] = val
    table = pd.DataFrame(out)
    total = np.abs(conv).sum()
    moved = float(np.abs(conv[~touched_pair & (cc < C)]).sum() / total) if total > 0 else 0.0
    table.attrs["untouched_share"] = moved
    if split == "touched" and moved > 0.01:
        warn_user(
            f"{type(model).__name__}: {moved:.1%} of the credit goes to channels a journey did not touch "
            "(rows with touched=False): the model's channel credits cannot be reached by splitting each "
            "journey over its own channels only (e.g. it credits a channel less than the conversions of "
            "journeys that touched only that channel, or gives some channels nothing).",
            DataQualityWarning,
        )
    return _with_estimand(table, model)


def credits_by_period(model, journeys: Journeys, freq: str = "W", *, what: str = "conversions",
                      split: str = "touched") -> pd.DataFrame:
    """Each channel's credit per period of conversion time.

    Parameters
    ----------
    model : AttributionModel
        Fitted on ``journeys`` (built from events, so conversions carry a time).
    journeys : Journeys
    freq : str, default "W"
        A pandas period frequency: ``"D"``, ``"W"`` (weeks ending Sunday), ``"M"``, ``"Q"``.
    what : {"conversions", "value"}, default "conversions"
    split : {"touched", "global"}, default "touched"
        See :func:`journey_credits`.

    Returns
    -------
    DataFrame
        Index ``period`` (a PeriodIndex, every period from the first to the last, empty ones
        0), one column per channel. Rows sum to the conversions (value) of the period; the
        whole table sums to ``credits_``.
    """
    if what not in ("conversions", "value"):
        raise ParameterError(f"The 'what' parameter of credits_by_period must be 'conversions' or 'value'. Got {what!r} instead.")
    if journeys.conversion_time is None:
        raise JourneyValidationError(
            "credits_by_period needs conversion times: build the journeys with Journeys.from_events "
            "(path tables have no time)."
        )
    jc = journey_credits(model, journeys, split=split)
    jc = jc[jc["conversion_time"].notna()]
    period = pd.PeriodIndex(pd.DatetimeIndex(jc["conversion_time"]), freq=freq)
    table = jc.assign(period=period).pivot_table(index="period", columns="channel", values=what,
                                                 aggfunc="sum", fill_value=0.0, observed=True)
    if len(table):
        full = pd.period_range(table.index.min(), table.index.max(), freq=freq, name="period")
        table = table.reindex(full, fill_value=0.0)
    order = [c for c in list(model.credits_.index) if c in table.columns]
    table = table[order]
    table.columns.name = "channel"
    return _with_estimand(table, model)


POST_CLICK, POST_VIEW, NO_TYPE = "post-click", "post-view", "(none)"


def credits_by_touch_type(model, journeys: Journeys, *, by: str = "class", what: str = "conversions",
                          split: str = "touched") -> pd.DataFrame:
    """Each channel's credit split by the type of the touches that earned it (post-click / post-view).

    Parameters
    ----------
    model : AttributionModel
        Fitted on ``journeys``, which carry touch types (``Journeys.from_events(...,
        touch_type=...)``).
    journeys : Journeys
    by : {"class", "type"}, default "class"
        ``"class"``: two columns, ``"post-click"`` (credit earned by click-class touches:
        clicks, visits, ...) and ``"post-view"`` (earned by impressions); ``"type"``: one column
        per touch type name.
    what : {"conversions", "value"}, default "conversions"
    split : {"touched"}, default "touched"
        As :func:`touch_credits`.

    Returns
    -------
    DataFrame
        Index ``channel`` (the rows of ``credits_``, in its order), one column per class or
        type, plus ``"(none)"`` when some credit comes from no touch (``"(no touch)"``,
        ``"(baseline)"`` or credit of a channel a journey did not touch). Every row sums to
        the channel's ``credits_[what]``.

    Notes
    -----
    The split is :func:`touch_credits` summed by (channel, type): exact for the per-touch
    models (each touch earns its own weight, so with ``click_priority=True`` impressions of a
    journey with a click earn nothing); for global models (Markov, Shapley over sets) a
    journey's part of a channel is shared equally among the channel's touches in it, so the
    split follows how many clicks and impressions of the channel the converting journeys hold.
    """
    if by not in ("class", "type"):
        raise ParameterError(f"The 'by' parameter of credits_by_touch_type must be 'class' or 'type'. Got {by!r} instead.")
    if what not in ("conversions", "value"):
        raise ParameterError(f"The 'what' parameter of credits_by_touch_type must be 'conversions' or 'value'. Got {what!r} instead.")
    if not isinstance(journeys, Journeys) or journeys.touch_type is None:
        raise JourneyValidationError(
            "credits_by_touch_type needs journeys with touch types: build them with "
            "Journeys.from_events(..., touch_type='<column>') (values such as 'click' and 'impression')."
        )
    tc = touch_credits(model, journeys, split=split)
    types = tc["touch_type"].to_numpy(dtype=object)
    none = pd.isna(tc["touch_type"]).to_numpy()
    if by == "class":
        from .journeys import is_impression_type

        label = np.where(is_impression_type(np.where(none, "", types)), POST_VIEW, POST_CLICK).astype(object)
        columns = [POST_CLICK, POST_VIEW]
    else:
        label = types.copy()
        columns = list(journeys.touch_types)
    label[none] = NO_TYPE
    frame = pd.DataFrame({"channel": tc["channel"].to_numpy(dtype=object), "label": label, "x": tc[what].to_numpy()})
    # journeys without touches: their credit is "(no touch)" in credits_ (attributed models)
    empty = np.flatnonzero((np.asarray(journeys.lengths) == 0))
    amount = np.asarray(journeys.conversions if what == "conversions" else journeys.value, dtype=np.float64)[empty]
    if len(empty) and np.any(amount != 0) and NO_TOUCH in model.credits_.index:
        frame = pd.concat([frame, pd.DataFrame({"channel": NO_TOUCH, "label": NO_TYPE, "x": [float(amount.sum())]})])
    table = frame.pivot_table(index="channel", columns="label", values="x", aggfunc="sum", fill_value=0.0,
                              observed=True)
    if NO_TYPE in table.columns:
        columns.append(NO_TYPE)
    table = table.reindex(index=list(model.credits_.index), columns=columns, fill_value=0.0).fillna(0.0)
    table.index.name = "channel"
    table.columns.name = "touch_type" if by == "type" else "post"
    return _with_estimand(table, model)


def _channel_groups(journeys: Journeys) -> np.ndarray:
    if not isinstance(journeys, Journeys) or journeys.channel_groups is None:
        raise JourneyValidationError(
            "These journeys are at the channel level; build campaign-level journeys with "
            "Journeys.from_events(..., campaign='<column>', level='campaign')."
        )
    return journeys.channel_groups


def campaign_credits(model, journeys: Journeys) -> pd.DataFrame:
    """A campaign-level model's credits with each campaign's channel.

    Parameters
    ----------
    model : AttributionModel
        Fitted on campaign-level journeys (``Journeys.from_events(..., level="campaign")``).
    journeys : Journeys
        Those journeys.

    Returns
    -------
    DataFrame
        Index (``channel``, ``campaign``); columns ``conversions``, ``value``, ``share`` (of all
        conversions) and ``share_of_channel`` (of the channel's campaign credits). Pseudo-channels
        (``"(no touch)"``, ``"(baseline)"``) are their own channel with campaign ``""``.
    """
    from .journeys import LEVEL_SEP

    groups = _channel_groups(journeys)
    cr = model.credits_
    group_of = dict(zip(np.asarray(journeys.channels, dtype=object).tolist(), groups.tolist()))
    labels = cr.index.tolist()
    ch = [group_of.get(lb, lb) for lb in labels]
    camp = [lb[len(group_of[lb]) + len(LEVEL_SEP):] if lb in group_of else "" for lb in labels]
    out = cr[["conversions", "value", "share"]].copy()
    out.index = pd.MultiIndex.from_arrays([ch, camp], names=["channel", "campaign"])
    tot = out.groupby(level="channel")["conversions"].transform("sum")
    out["share_of_channel"] = np.divide(out["conversions"].to_numpy(), tot.to_numpy(),
                                        out=np.full(len(out), np.nan), where=tot.to_numpy() != 0)
    return _with_estimand(out, model)


def rollup(model, journeys: Journeys, *, warn: bool = True) -> pd.DataFrame:
    """Channel-level credits of a model fitted at the campaign level.

    Parameters
    ----------
    model : AttributionModel
        Fitted on campaign-level journeys (``Journeys.from_events(..., level="campaign")``).
    journeys : Journeys
        Those journeys.
    warn : bool, default True
        Say (a ``UserWarning``) when the model is not additive across levels and the channel
        numbers come from a channel-level fit.

    Returns
    -------
    DataFrame
        Index ``channel``; columns ``conversions``, ``value``, ``share``, ``campaign_sum``
        (the sum of the channel's campaign credits) and ``method``: ``"sum of campaigns"`` or
        ``"channel-level fit"``. ``attrs["additive"]`` says which.

    Notes
    -----
    *Additive models* (the rule models: their weights depend on a touch's position, time and
    type, not its channel) give the same channel credit whether they run on campaigns and
    the campaigns are summed, or on channels: the channel number is the sum of its campaigns.
    *Markov and Shapley* (and the data-driven and incremental models) are not additive: a
    channel's removal effect or Shapley value is not the sum of its campaigns' (campaigns of
    one channel substitute for each other, and the model sees them as distinct states or
    players). Their channel number then comes from the same model (same parameters) refitted
    on :meth:`Journeys.to_level("channel") <attribution.Journeys.to_level>`; the campaign sum
    is shown beside it in ``campaign_sum``. Both columns sum to the same total conversions
    (conservation holds at each level).
    """
    from .models._estimator import clone

    _channel_groups(journeys)
    cc = campaign_credits(model, journeys)
    summed = cc.groupby(level="channel", sort=False)[["conversions", "value"]].sum()
    additive = bool(getattr(model, "_additive_levels", False))
    if additive:
        out = summed.copy()
        method = "sum of campaigns"
    else:
        coarse = clone(model).fit(journeys.to_level("channel"))
        out = coarse.credits_[["conversions", "value"]].copy()
        method = "channel-level fit"
        if warn:
            warn_user(
                f"{type(model).__name__} is not additive across levels (a channel's credit is not the sum of its "
                "campaigns'); its channel credits come from the same model refitted on the channel-level "
                "journeys. The campaign sums are in the 'campaign_sum' column.",
                UserWarning,
            )
    total = out["conversions"].sum()
    out["share"] = out["conversions"] / total if total != 0 else np.nan
    out["campaign_sum"] = summed["conversions"].reindex(out.index).fillna(0.0)
    out["method"] = method
    out.index.name = "channel"
    out.attrs["additive"] = additive
    return _with_estimand(out, model)
