"""Journey KPIs: what the journeys look like before any attribution model is fitted.

:func:`kpis` turns a :class:`~attribution.journeys.Journeys` into a :class:`JourneyKPIs` report:
per-channel figures (touches, reach, journeys and conversion rate of journeys containing the
channel, where in the journey the channel appears), journey-set figures (conversion rate,
touches and time to conversion, channel switching, cross-channel journeys), the most frequent
paths, the drop-off points of non-converting journeys and, given a channel → stage map, a funnel.

Everything is computed with flat numpy operations over the journeys' CSR arrays (no loop over
journeys or touches), and every figure is *weighted*: a journey row stands for
``conversions + nulls`` journeys (a path-table row for many, an event-built journey for one).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ._display import _fmt_kpi as _fmt
from ._warnings import warn_user
from .journeys import Journeys

__all__ = [
    "JourneyKPIs",
    "NO_TOUCH",
    "POSITIONS",
    "STAGES",
    "kpis",
    "plot_flows",
    "plot_graph",
    "plot_transition_heatmap",
]

#: The canonical stage order of a marketing funnel (stages not listed here follow, in the order
#: they first appear in the ``stages`` mapping).
STAGES = ("awareness", "consideration", "decision", "service", "loyalty")

#: The position categories of a touch (see :func:`kpis`, Notes).
POSITIONS = ("first", "middle", "last", "only")

#: Row label for journeys without touches in the path and drop-off tables.
NO_TOUCH = "(no touch)"

_DAY_NS = 86_400 * 10**9


def plot_graph(journeys, order=1, min_probability=0.05, **kwargs):
    """The channel-path graph; see :func:`attribution.plotting.journeys.plot_graph`."""
    from .plotting.journeys import plot_graph as _plot

    return _plot(journeys, order=order, min_probability=min_probability, **kwargs)


def plot_flows(journeys, steps=4, **kwargs):
    """Sankey-style journey flows; see :func:`attribution.plotting.journeys.plot_flows`."""
    from .plotting.journeys import plot_flows as _plot

    return _plot(journeys, steps=steps, **kwargs)


def plot_transition_heatmap(journeys, order=1, **kwargs):
    """Transition-probability heatmap; see :func:`attribution.plotting.journeys.plot_transition_heatmap`."""
    from .plotting.journeys import plot_transition_heatmap as _plot

    return _plot(journeys, order=order, **kwargs)


# ---------------------------------------------------------------------------- helpers
def _div(num, den):
    """num / den with NaN where den is 0 (arrays or scalars)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out if out.ndim else float(out)


def _weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    """The weighted lower median: the smallest x whose cumulative weight reaches half the total."""
    keep = w > 0
    x, w = x[keep], w[keep]
    if not len(x):
        return float("nan")
    order = np.argsort(x, kind="stable")
    cw = np.cumsum(w[order])
    return float(x[order][min(np.searchsorted(cw, cw[-1] / 2), len(cw) - 1)])


def _weighted_mean(x: np.ndarray, w: np.ndarray) -> float:
    total = float(w.sum())
    return float(np.dot(x, w) / total) if total > 0 else float("nan")


def _grouped_weighted_median(x: np.ndarray, w: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Weighted lower median of ``x`` within each group (NaN for groups without weight)."""
    keep = w > 0
    x, w, group = x[keep], w[keep], group[keep]
    out = np.full(n_groups, np.nan)
    if not len(x):
        return out
    order = np.lexsort((x, group))
    xs, ws, gs = x[order], w[order], group[order]
    cw = np.cumsum(ws)
    total = _bincount(gs, weights=ws, minlength=n_groups)
    before = np.cumsum(total) - total
    present = np.flatnonzero(total > 0)
    idx = np.searchsorted(cw, before[present] + total[present] / 2, side="left")
    last = np.cumsum(np.bincount(gs, minlength=n_groups))[present] - 1  # last row of each group
    out[present] = xs[np.minimum(idx, last)]
    return out


def _bincount(idx: np.ndarray, weights: np.ndarray, minlength: int) -> np.ndarray:
    """``np.bincount`` with weights, always float64 (also for empty input)."""
    return np.bincount(idx, weights=weights, minlength=minlength).astype(np.float64, copy=False)


def _distinct(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values (``np.unique`` without its hash path, which is slower on int keys)."""
    s = np.sort(keys)
    if len(s):
        s = s[np.r_[True, s[1:] != s[:-1]]]
    return s


def _days(delta_ns: np.ndarray) -> np.ndarray:
    return delta_ns.astype(np.float64) / _DAY_NS


def _check_top(top) -> int:
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise ValueError(f"The 'top' parameter of kpis must be a positive integer. Got {top!r} instead.")
    return int(top)


def _stage_codes(journeys: Journeys, stages) -> tuple[list[str], np.ndarray]:
    """Stage names in funnel order and the stage code of every channel (-1: no stage)."""
    if not isinstance(stages, Mapping):
        raise TypeError(
            "The 'stages' parameter of kpis must be a mapping channel -> stage such as "
            f"{{'display': 'awareness', 'email': 'consideration'}}. Got {type(stages).__name__} instead."
        )
    bad = [k for k, v in stages.items() if not isinstance(v, str) or not v]
    if bad:
        raise ValueError(
            f"The 'stages' parameter of kpis must map channels to stage names (non-empty strings). "
            f"Got {stages[bad[0]]!r} for channel {bad[0]!r}."
        )
    channels = journeys.channels.tolist()
    unknown = sorted(set(stages) - set(channels), key=str)
    if unknown:
        warn_user(f"stages names channel(s) not in the journeys: {unknown}; they are ignored.", UserWarning)
    unmapped = [c for c in channels if c not in stages]
    if unmapped:
        warn_user(
            f"stages gives no stage for channel(s) {unmapped}; their touches do not count in the funnel.",
            UserWarning,
        )
    extra = list(dict.fromkeys(v for v in stages.values() if v not in STAGES))
    names = [s for s in STAGES if s in set(stages.values())] + extra
    code_of = {s: i for i, s in enumerate(names)}
    codes = np.array([code_of[stages[c]] if c in stages else -1 for c in channels], dtype=np.int64)
    return names, codes


# ---------------------------------------------------------------------------- the report
def kpis(journeys: Journeys, stages: Mapping[str, str] | None = None, top: int = 10) -> "JourneyKPIs":
    """Journey KPIs: per channel, per journey set, top paths, drop-off points and a funnel.

    Parameters
    ----------
    journeys : Journeys
        Event-built journeys or a path table. Every figure is weighted by ``conversions +
        nulls`` (the journeys each row stands for).
    stages : mapping of str to str, optional
        Channel → funnel stage, e.g. ``{"display": "awareness", "email": "consideration",
        "paid_search_brand": "decision"}``. Stages are ordered ``awareness, consideration,
        decision, service, loyalty`` (:data:`STAGES`), then other names in the order they first
        appear. Unmapped channels are left out of the funnel (with a warning).
    top : int, default 10
        Number of most frequent paths in :attr:`JourneyKPIs.top_paths`.

    Returns
    -------
    JourneyKPIs
        Tables ``by_channel``, ``overall``, ``touches_distribution``, ``top_paths``,
        ``drop_off``, ``drop_off_steps``, ``funnel`` (None without ``stages``), with
        ``summary()``, ``to_frames()``, an HTML view and ``plot_*`` methods.

    Raises
    ------
    TypeError
        If ``journeys`` is not a :class:`Journeys` or ``stages`` not a mapping.
    ValueError
        If ``top`` is not a positive integer or a stage name is not a non-empty string.

    Notes
    -----
    Let journey row :math:`j` stand for :math:`w_j = c_j + n_j` journeys (:math:`c_j`
    conversions, :math:`n_j` non-converting journeys) and have :math:`L_j` touches; touch
    :math:`t` of it sits at position :math:`p_t = 0, \\dots, L_j - 1` and weighs :math:`w_j`.

    **Per channel** (``by_channel``, one row per channel):

    * ``touches`` — :math:`\\sum_t w_{j(t)}` over the channel's touches; ``share_of_touches``
      — its share of all touches (sums to 1).
    * ``reach`` — distinct customers with at least one touch of the channel; ``reach_share``
      — reach over all distinct customers. NaN when the journeys carry no ``customer``
      (path tables).
    * ``journeys`` — weighted journeys containing the channel at least once;
      ``share_of_journeys`` — over all journeys; ``journey_conversions`` — conversions of
      those journeys (not credit: a conversion counts for every channel of its journey);
      ``conversion_rate`` — ``journey_conversions / journeys``.
    * Position shares — every touch falls in exactly one category: ``only`` (the single touch
      of a 1-touch journey), ``first`` (position 0 of a journey of 2+ touches), ``last``
      (position :math:`L_j - 1`, 2+ touches), ``middle`` (any other). ``share_first``,
      ``share_middle``, ``share_last``, ``share_only`` are shares of the channel's touches
      and sum to 1 (NaN for a channel without touches).
    * ``mean_position`` — mean 1-based position :math:`p_t + 1`; ``mean_relative_position``
      — mean of :math:`p_t / (L_j - 1)` over touches of journeys with 2+ touches (0 = first,
      1 = last).

    **Journey set** (``overall``):

    * ``conversion_rate`` = :math:`\\sum c_j / \\sum w_j`.
    * ``touches_to_conversion_mean`` / ``_median`` — :math:`L_j` weighted by :math:`c_j`
      (journeys converting without touches count 0); the median is the weighted lower median
      (the smallest value whose cumulative weight reaches half the total).
      ``touches_distribution`` tabulates journeys, conversions and non-converting journeys by
      :math:`L_j`.
    * ``time_to_conversion_days_mean`` / ``_median`` — conversion time minus first-touch time,
      in days, weighted by :math:`c_j` over converting journeys with touches;
      ``last_touch_to_conversion_days_median`` likewise from the last touch. NaN without
      timestamps (path tables).
    * ``channel_switching_rate`` — among consecutive touch pairs within journeys (weighted),
      the share whose two channels differ.
    * ``cross_channel_share`` — among journeys with touches, the share with 2+ distinct
      channels; ``distinct_channels_mean`` — mean number of distinct channels there.
    * ``silence_days_mean`` / ``_median`` — for non-converting journeys with touches, the time
      from their last touch to the end of the data (the latest touch or conversion time of the
      journeys with positive weight), weighted by :math:`n_j`: how long they have been silent.
      NaN without timestamps.

    **Paths**: ``top_paths`` — the ``top`` most frequent distinct paths by weighted journeys
    (ties: more conversions first, then by path), with conversions, non-converting journeys and
    conversion rate.

    **Drop-off** ("moments of silence"): ``drop_off`` — non-converting journeys by the channel
    of their last touch (``(no touch)`` for empty ones): ``non_converting`` (sums to the total
    non-converting journeys), ``share``, ``ending_journeys`` (all journeys whose last touch is
    the channel), ``drop_off_rate`` = ``non_converting / ending_journeys`` and, with timestamps,
    ``silence_days_median``. ``drop_off_steps`` — by step :math:`k = 1, 2, \\dots`: journeys
    that ``reached`` step :math:`k` (:math:`L_j \\ge k`), ended there ``converted`` or
    ``dropped`` (:math:`L_j = k`), or ``continued`` (:math:`L_j > k`); ``reached = converted +
    dropped + continued``; ``drop_rate = dropped / reached`` is the hazard of silence after
    the :math:`k`-th touch.

    **Funnel** (with ``stages``): the stage of a journey is the deepest stage any of its
    touches belongs to. ``reached`` — journeys whose deepest stage is this stage or a later
    one (non-increasing down the funnel); ``touched`` — journeys with a touch in the stage;
    ``conversions`` / ``conversion_rate`` — of the journeys that reached it;
    ``drop_from_previous`` = :math:`1 - \\text{reached}_k / \\text{reached}_{k-1}`.

    Examples
    --------
    >>> import pandas as pd
    >>> from attribution import Journeys
    >>> from attribution import kpis
    >>> paths = pd.DataFrame({"path": ["a > b", "b", "a > a > c"],
    ...                       "total_conversions": [3, 1, 0], "total_null": [1, 3, 2]})
    >>> report = kpis(Journeys.from_paths(paths))
    >>> float(report.overall["conversion_rate"])
    0.4
    >>> report.by_channel.loc["a", ["journeys", "conversion_rate", "share_first", "share_middle"]].tolist()
    [6.0, 0.5, 0.75, 0.25]
    >>> report.top_paths["journeys"].to_dict()
    {'a > b': 4.0, 'b': 4.0, 'a > a > c': 2.0}
    >>> report.drop_off["non_converting"].to_dict()
    {'b': 4.0, 'c': 2.0, 'a': 0.0}
    """
    if not isinstance(journeys, Journeys):
        raise TypeError(f"kpis expects a Journeys object. Got {type(journeys).__name__} instead.")
    top = _check_top(top)
    stage_info = None if stages is None else _stage_codes(journeys, stages)
    return JourneyKPIs(journeys, _compute(journeys, stage_info, top), stages=None if stages is None else dict(stages))


def _compute(jr: Journeys, stage_info, top: int) -> dict:
    C, J = jr.n_channels, jr.n_journeys
    conv, nulls = jr.conversions, jr.nulls
    w = conv + nulls
    L = jr.lengths
    tc = jr.touch_channel.astype(np.int64)
    jid = jr.journey_index
    pos = jr.position
    Lt = L[jid]
    wt = w[jid]
    channels = pd.Index(jr.channels, name="channel", dtype=object)
    total_w = float(w.sum())
    notes: list[str] = []

    # ------------------------------------------------------------ per channel
    touches = _bincount(tc, weights=wt, minlength=C)
    category = np.where(Lt == 1, 3, np.where(pos == 0, 0, np.where(pos == Lt - 1, 2, 1)))
    by_pos = _bincount(tc * 4 + category, weights=wt, minlength=4 * C).reshape(C, 4)
    pos_share = _div(by_pos, touches[:, None])
    mean_position = _div(_bincount(tc, weights=wt * (pos + 1), minlength=C), touches)
    multi = Lt >= 2
    rel = np.zeros(len(pos))
    rel[multi] = pos[multi] / (Lt[multi] - 1)
    mean_rel = _div(
        _bincount(tc[multi], weights=(wt * rel)[multi], minlength=C),
        _bincount(tc[multi], weights=wt[multi], minlength=C),
    )
    # distinct (journey, channel) pairs
    pair = _distinct(jid * C + tc)
    pj, pc = pair // C, pair % C
    ch_journeys = _bincount(pc, weights=w[pj], minlength=C)
    ch_conv = _bincount(pc, weights=conv[pj], minlength=C)
    n_distinct = np.bincount(pj, minlength=J)  # distinct channels per journey

    if jr.customer is not None:
        cust, cust_names = pd.factorize(pd.Series(jr.customer, dtype=object), use_na_sentinel=True)
        n_customers = float(len(cust_names))
        ct = cust[jid]
        known = ct >= 0
        cpair = _distinct(ct[known].astype(np.int64) * C + tc[known])
        reach = np.bincount(cpair % C, minlength=C).astype(np.float64)
        reach_share = _div(reach, n_customers)
    else:
        n_customers = float("nan")
        reach = np.full(C, np.nan)
        reach_share = np.full(C, np.nan)
        notes.append("reach is NaN: the journeys carry no customer ids (e.g. a path table).")

    by_channel = pd.DataFrame(
        {
            "touches": touches,
            "share_of_touches": _div(touches, touches.sum()) if C else touches,
            "reach": reach,
            "reach_share": reach_share,
            "journeys": ch_journeys,
            "share_of_journeys": _div(ch_journeys, total_w) if C else ch_journeys,
            "journey_conversions": ch_conv,
            "conversion_rate": _div(ch_conv, ch_journeys),
            "share_first": pos_share[:, 0],
            "share_middle": pos_share[:, 1],
            "share_last": pos_share[:, 2],
            "share_only": pos_share[:, 3],
            "mean_position": mean_position,
            "mean_relative_position": mean_rel,
        },
        index=channels,
    )

    # ------------------------------------------------------------ journey set
    nonempty = L > 0
    last_idx = jr.offsets[1:][nonempty] - 1
    # consecutive touch pairs inside a journey
    same_journey = jid[1:] == jid[:-1] if len(jid) else np.zeros(0, bool)
    pair_w = wt[1:][same_journey]
    switched = (tc[1:] != tc[:-1])[same_journey]

    if jr.has_time:
        tt = jr.touch_time.view(np.int64)
        ct_ns = jr.conversion_time.view(np.int64)
        nat = np.iinfo(np.int64).min
        conv_ok = nonempty & (conv > 0) & (ct_ns != nat)
        f_idx = jr.offsets[:-1][conv_ok]
        l_idx = jr.offsets[1:][conv_ok] - 1
        ttc = _days(ct_ns[conv_ok] - tt[f_idx])
        lttc = _days(ct_ns[conv_ok] - tt[l_idx])
        # the end of the data: the latest touch or conversion of the journeys that carry weight
        times = np.concatenate([tt[(tt != nat) & (wt > 0)], ct_ns[(ct_ns != nat) & (conv > 0)]])
        data_end = times.max() if len(times) else nat
        last_touch = np.full(J, nat, dtype=np.int64)
        last_touch[nonempty] = tt[last_idx]
        silent = nonempty & (nulls > 0) & (last_touch != nat)
        silence = np.full(J, np.nan)
        silence[silent] = _days(data_end - last_touch[silent])
        time_figures = {
            "time_to_conversion_days_mean": _weighted_mean(ttc, conv[conv_ok]),
            "time_to_conversion_days_median": _weighted_median(ttc, conv[conv_ok]),
            "last_touch_to_conversion_days_median": _weighted_median(lttc, conv[conv_ok]),
            "silence_days_mean": _weighted_mean(silence[silent], nulls[silent]),
            "silence_days_median": _weighted_median(silence[silent], nulls[silent]),
        }
    else:
        silence = None
        time_figures = dict.fromkeys(
            ["time_to_conversion_days_mean", "time_to_conversion_days_median",
             "last_touch_to_conversion_days_median", "silence_days_mean", "silence_days_median"],
            float("nan"),
        )
        notes.append("time to conversion and silence are NaN: the journeys have no timestamps (e.g. a path table).")

    # distinct paths: group identical touch sequences (the unit separator cannot clash with names)
    path_str = jr.path_strings("\x1f") if J else np.zeros(0, dtype=object)
    path_code, path_uniques = pd.factorize(pd.Series(path_str, dtype=object), sort=False)
    P = len(path_uniques)
    p_w = _bincount(path_code, weights=w, minlength=P)
    p_conv = _bincount(path_code, weights=conv, minlength=P)
    p_null = _bincount(path_code, weights=nulls, minlength=P)
    p_len = np.zeros(P, dtype=np.int64)
    p_len[path_code] = L
    uniq_text = np.asarray(path_uniques, dtype=object)
    order = np.lexsort((uniq_text.astype(str), -p_conv, -p_w))
    order = order[p_w[order] > 0][:top]
    labels = [t.replace("\x1f", " > ") if t else NO_TOUCH for t in uniq_text[order].tolist()]
    top_paths = pd.DataFrame(
        {
            "journeys": p_w[order],
            "conversions": p_conv[order],
            "non_converting": p_null[order],
            "conversion_rate": _div(p_conv[order], p_w[order]),
            "share_of_journeys": _div(p_w[order], total_w),
            "touches": p_len[order],
        },
        index=pd.Index(labels, name="path", dtype=object),
    )

    overall = {
        "journey_rows": float(J),
        "journeys": total_w,
        "conversions": float(conv.sum()),
        "non_converting": float(nulls.sum()),
        "conversion_rate": _div(conv.sum(), total_w),
        "value": float(jr.value.sum()),
        "customers": n_customers,
        "touches": float(touches.sum()),
        "touches_per_journey_mean": _weighted_mean(L.astype(np.float64), w),
        "touches_to_conversion_mean": _weighted_mean(L.astype(np.float64), conv),
        "touches_to_conversion_median": _weighted_median(L.astype(np.float64), conv),
        **time_figures,
        "channel_switching_rate": _div((pair_w * switched).sum(), pair_w.sum()),
        "cross_channel_share": _div(w[n_distinct >= 2].sum(), w[nonempty].sum()),
        "distinct_channels_mean": _weighted_mean(n_distinct[nonempty].astype(np.float64), w[nonempty]),
        "distinct_paths": float((p_w > 0).sum()),
    }
    overall = pd.Series(overall, name="journeys", dtype=np.float64)

    # ------------------------------------------------------------ touches distribution
    maxlen = int(L.max()) if J else -1
    d_w = _bincount(L, weights=w, minlength=maxlen + 1)
    d_conv = _bincount(L, weights=conv, minlength=maxlen + 1)
    d_null = _bincount(L, weights=nulls, minlength=maxlen + 1)
    present = np.flatnonzero(d_w > 0)
    touches_distribution = pd.DataFrame(
        {
            "journeys": d_w[present],
            "conversions": d_conv[present],
            "non_converting": d_null[present],
            "conversion_rate": _div(d_conv[present], d_w[present]),
            "share_of_journeys": _div(d_w[present], total_w),
            "share_of_conversions": _div(d_conv[present], conv.sum()),
            "cumulative_share_of_conversions": _div(np.cumsum(d_conv[present]), conv.sum()),
        },
        index=pd.Index(present, name="touches"),
    )

    # ------------------------------------------------------------ drop-off
    last_code = np.full(J, C, dtype=np.int64)  # C stands for "(no touch)"
    last_code[nonempty] = tc[last_idx]
    dn = _bincount(last_code, weights=nulls, minlength=C + 1)
    de = _bincount(last_code, weights=w, minlength=C + 1)
    rows = np.arange(C + 1)
    if de[C] == 0 and dn[C] == 0:
        rows = rows[:C]
    d_index = pd.Index([*jr.channels.tolist(), NO_TOUCH], name="last_channel", dtype=object)[rows]
    drop_off = pd.DataFrame(
        {
            "non_converting": dn[rows],
            "share": _div(dn[rows], nulls.sum()),
            "ending_journeys": de[rows],
            "drop_off_rate": _div(dn[rows], de[rows]),
        },
        index=d_index,
    )
    if silence is not None:
        has = ~np.isnan(silence)
        drop_off["silence_days_median"] = _grouped_weighted_median(
            silence[has], nulls[has], last_code[has], C + 1
        )[rows]
    drop_off = drop_off.iloc[np.lexsort((np.arange(len(drop_off)), -drop_off["non_converting"].to_numpy()))]

    # steps up to the longest journey that carries weight
    n_steps = int(L[w > 0].max()) if (w > 0).any() else 0
    steps = np.arange(1, n_steps + 1)
    s_w, s_conv, s_null = d_w[1 : n_steps + 1], d_conv[1 : n_steps + 1], d_null[1 : n_steps + 1]
    reached = np.cumsum(s_w[::-1])[::-1]
    drop_off_steps = pd.DataFrame(
        {
            "reached": reached,
            "converted": s_conv,
            "dropped": s_null,
            "continued": np.r_[reached[1:], 0.0] if n_steps else reached,
            "drop_rate": _div(s_null, reached),
            "share_of_dropped": _div(s_null, s_null.sum()),
        },
        index=pd.Index(steps, name="step"),
    )

    # ------------------------------------------------------------ funnel
    funnel = None
    if stage_info is not None:
        names, stage_of_channel = stage_info
        S = len(names)
        st = stage_of_channel[tc]
        staged = st >= 0
        deepest = np.full(J, -1, dtype=np.int64)
        np.maximum.at(deepest, jid[staged], st[staged])
        spair = _distinct(jid[staged] * max(S, 1) + st[staged])
        touched = _bincount(spair % max(S, 1), weights=w[spair // max(S, 1)], minlength=S)
        has_stage = deepest >= 0
        at_w = _bincount(deepest[has_stage], weights=w[has_stage], minlength=S)
        at_c = _bincount(deepest[has_stage], weights=conv[has_stage], minlength=S)
        reached_s = np.cumsum(at_w[::-1])[::-1]
        conv_s = np.cumsum(at_c[::-1])[::-1]
        prev = np.r_[np.nan, reached_s[:-1]]
        funnel = pd.DataFrame(
            {
                "reached": reached_s,
                "share_of_journeys": _div(reached_s, total_w),
                "touched": touched,
                "conversions": conv_s,
                "conversion_rate": _div(conv_s, reached_s),
                "drop_from_previous": 1.0 - _div(reached_s, prev),
            },
            index=pd.Index(names, name="stage", dtype=object),
        )

    return dict(
        by_channel=by_channel, overall=overall, touches_distribution=touches_distribution,
        top_paths=top_paths, drop_off=drop_off, drop_off_steps=drop_off_steps, funnel=funnel,
        notes=notes,
    )


#: Tables longer than this are folded into a ``<details>`` element in the Jupyter display.
_HTML_MAX_ROWS = 12
#: Row labels (paths) longer than this are shortened in the Jupyter display (the tables keep them).
_HTML_MAX_LABEL = 60


def _column_format(name: str) -> str:
    """Display format of a KPI column by its name: rates and shares as %, means to 2 decimals."""
    n = str(name)
    if "rate" in n or "share" in n:
        return "{:.1%}"
    if n == "value":
        return "{:,.2f}"
    if "mean" in n or "median" in n or "days" in n or "position" in n:
        return "{:,.2f}"
    return "count"


def _apply(f: str, v) -> str:
    """Format one KPI cell with format ``f`` (``"count"``: whole when whole); NaN shows as a dash."""
    if isinstance(v, (float, np.floating)) and math.isnan(v):
        return "–"
    if not isinstance(v, (int, float, np.integer, np.floating)) or isinstance(v, bool):
        return str(v)
    if f == "count" or (f == "{:,.2f}" and float(v).is_integer()):
        return _fmt(float(v))
    return f.format(v)


def _shown(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every cell formatted as text (counts whole when whole, rates as %)."""
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        f = _column_format(col)
        out[str(col).replace("_", " ")] = [_apply(f, v) for v in df[col].to_numpy()]
    labels = [str(i) for i in df.index]
    out.index = pd.Index(
        [lab if len(lab) <= _HTML_MAX_LABEL else lab[: _HTML_MAX_LABEL - 1] + "…" for lab in labels],
        name=df.index.name,
    )
    return out


def _frame_html(df: pd.DataFrame, caption: str, fold: bool | None = None) -> str:
    """A KPI table as HTML: formatted, escaped, scrollable when wide, folded when long."""
    from ._display import _html_table

    table = f"<div style='overflow-x:auto;max-width:100%'>{_html_table(_shown(df), default='{}')}</div>"
    fold = len(df) > _HTML_MAX_ROWS if fold is None else fold
    title = html.escape(caption)
    if fold:
        return f"<details><summary><b>{title}</b> ({len(df)} rows)</summary>{table}</details>"
    return f"<p><b>{title}</b></p>{table}"


def _overall_html(overall: pd.Series) -> str:
    """The journey-set figures as a two-column table: rates as %, counts whole, means to 2 decimals."""
    from ._display import _html_table

    rows = []
    for k, v in overall.items():
        rows.append((str(k).replace("_", " "), _apply(_column_format(k), v)))
    shown = pd.DataFrame({"": [t for _, t in rows]}, index=pd.Index([k for k, _ in rows], name="Journey set"))
    return _html_table(shown, default="{}")


class JourneyKPIs:
    """The journey-KPI report returned by :func:`kpis` (definitions: see :func:`kpis`, Notes).

    Attributes
    ----------
    journeys : Journeys
        The journeys the report describes (used by the graph and flow pictures).
    stages : dict or None
        The channel → stage map given to :func:`kpis`.
    notes : list of str
        KPIs that could not be computed from these journeys, and why.
    """

    def __init__(self, journeys: Journeys, tables: dict, stages=None):
        self.journeys = journeys
        self.stages = stages
        self._tables = tables
        self.notes = list(tables["notes"])

    # ------------------------------------------------------------ tables
    @property
    def by_channel(self) -> pd.DataFrame:
        """Per-channel KPIs (index ``channel``)."""
        return self._tables["by_channel"]

    @property
    def overall(self) -> pd.Series:
        """Journey-set KPIs (conversion rate, touches and time to conversion, switching, ...)."""
        return self._tables["overall"]

    @property
    def touches_distribution(self) -> pd.DataFrame:
        """Journeys, conversions and non-converting journeys by number of touches."""
        return self._tables["touches_distribution"]

    @property
    def top_paths(self) -> pd.DataFrame:
        """The most frequent paths (index ``path``, channels joined by ``" > "``)."""
        return self._tables["top_paths"]

    @property
    def drop_off(self) -> pd.DataFrame:
        """Non-converting journeys by their last channel, most frequent first."""
        return self._tables["drop_off"]

    @property
    def drop_off_steps(self) -> pd.DataFrame:
        """Where journeys stop: reached / converted / dropped / continued by step."""
        return self._tables["drop_off_steps"]

    @property
    def funnel(self) -> pd.DataFrame | None:
        """The funnel by stage (None when :func:`kpis` got no ``stages``)."""
        return self._tables["funnel"]

    def to_frames(self) -> dict[str, pd.DataFrame]:
        """Every table by name (``overall`` as a one-column frame), e.g. to save as CSV files."""
        out = {
            "overall": self.overall.to_frame("value"),
            "by_channel": self.by_channel,
            "touches_distribution": self.touches_distribution,
            "top_paths": self.top_paths,
            "drop_off": self.drop_off,
            "drop_off_steps": self.drop_off_steps,
        }
        if self.funnel is not None:
            out["funnel"] = self.funnel
        return out

    # ------------------------------------------------------------ text and HTML
    def summary(self) -> str:
        """A plain-text summary: the journey-set figures and the main tables."""
        o = self.overall
        lines = [
            f"Journey KPIs: {_fmt(o['journeys'])} journeys ({_fmt(o['journey_rows'])} rows), "
            f"{_fmt(o['conversions'])} conversions, conversion rate {o['conversion_rate']:.2%}"
            if not math.isnan(o["conversion_rate"])
            else f"Journey KPIs: {_fmt(o['journeys'])} journeys, no conversion rate (no journeys)",
            "",
            *(f"  {k:<38} {_fmt(v)}" for k, v in o.items()),
        ]
        for note in self.notes:
            lines.append(f"Note: {note}")
        with pd.option_context("display.width", 140, "display.max_columns", 20):
            for name, frame in self.to_frames().items():
                if name == "overall":
                    continue
                lines += ["", f"{name}:", frame.to_string(float_format=lambda v: f"{v:,.4g}")]
        return "\n".join(lines)

    def __repr__(self) -> str:
        o = self.overall
        return (
            f"<JourneyKPIs: {_fmt(o['journeys'])} journeys, {len(self.by_channel)} channels, "
            f"conversion rate {'–' if math.isnan(o['conversion_rate']) else format(o['conversion_rate'], '.1%')}>"
        )

    def _repr_html_(self) -> str:
        o = self.overall
        head = (
            f"Journey KPIs: {_fmt(o['journeys'])} journeys, {len(self.by_channel)} channels, conversion rate "
            + ("–" if math.isnan(o["conversion_rate"]) else f"{o['conversion_rate']:.1%}")
        )
        frames = self.to_frames()
        parts = ["<div style='max-width:90em'>", f"<h4>{html.escape(head)}</h4>"]
        parts.append(
            "<div style='display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start'>"
            f"<div>{_overall_html(o)}</div>"
            f"<div style='min-width:20em'>{_frame_html(frames['top_paths'], 'Most frequent paths')}</div></div>"
        )
        for note in self.notes:
            parts.append(f"<p><em>{html.escape(note)}</em></p>")
        captions = {
            "by_channel": "By channel",
            "drop_off": "Drop-off: last channel of non-converting journeys",
            "funnel": "Funnel by stage",
            "touches_distribution": "Touches per journey",
            "drop_off_steps": "Drop-off by step",
        }
        for name, caption in captions.items():
            if name in frames:
                parts.append(_frame_html(frames[name], caption))
        parts.append("</div>")
        return "".join(parts)

    # ------------------------------------------------------------ pictures
    def plot(self, ax=None):
        """Same as :meth:`plot_channels` (journeys containing each channel)."""
        return self.plot_channels(ax=ax)

    def plot_channels(self, metric: str = "journeys", ax=None):
        """Horizontal bars of one ``by_channel`` column per channel, largest on top."""
        from .plotting.journeys import plot_channel_metric

        return plot_channel_metric(self.by_channel, metric=metric, ax=ax)

    def plot_positions(self, ax=None):
        """Stacked bars: each channel's touches split into first / middle / last / only."""
        from .plotting.journeys import plot_positions

        return plot_positions(self.by_channel, ax=ax)

    def plot_lengths(self, max_touches: int = 15, ax=None):
        """Converting and non-converting journeys by number of touches (tail pooled)."""
        from .plotting.journeys import plot_lengths

        return plot_lengths(self.touches_distribution, max_touches=max_touches, ax=ax)

    def plot_top_paths(self, ax=None):
        """The most frequent paths, bars split into converting / non-converting journeys."""
        from .plotting.journeys import plot_top_paths

        return plot_top_paths(self.top_paths, ax=ax)

    def plot_drop_off(self, ax=None):
        """Non-converting journeys by their last channel, with the drop-off rate."""
        from .plotting.journeys import plot_drop_off

        return plot_drop_off(self.drop_off, ax=ax)

    def plot_drop_off_steps(self, max_steps: int = 15, ax=None):
        """Share of journeys going silent after each step (the moments of silence)."""
        from .plotting.journeys import plot_drop_off_steps

        return plot_drop_off_steps(self.drop_off_steps, max_steps=max_steps, ax=ax)

    def plot_funnel(self, ax=None):
        """The funnel by stage; raises ValueError when :func:`kpis` got no ``stages``."""
        if self.funnel is None:
            raise ValueError("This report has no funnel: call kpis(journeys, stages={channel: stage, ...}).")
        from .plotting.journeys import plot_funnel

        return plot_funnel(self.funnel, ax=ax)

    def plot_graph(self, order: int = 1, min_probability: float = 0.05, ax=None, **kwargs):
        """The channel-path graph (see :func:`attribution.plotting.journeys.plot_graph`)."""
        return plot_graph(self.journeys, order=order, min_probability=min_probability, ax=ax, **kwargs)

    def plot_flows(self, steps: int = 4, ax=None, **kwargs):
        """Journey flows over the first steps (see :func:`attribution.plotting.journeys.plot_flows`)."""
        return plot_flows(self.journeys, steps=steps, ax=ax, **kwargs)

    def plot_transition_heatmap(self, order: int = 1, ax=None, **kwargs):
        """Transition probabilities (see :func:`attribution.plotting.journeys.plot_transition_heatmap`)."""
        return plot_transition_heatmap(self.journeys, order=order, ax=ax, **kwargs)
