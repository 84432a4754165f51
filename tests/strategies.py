"""Hypothesis strategies shared by the tests: random journey sets built with the
:class:`~attribution.journeys.Journeys` constructor.

Import as ``from strategies import journeys`` (``tests/conftest.py`` puts this folder on the path).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from attribution.journeys import Journeys

CHANNEL_POOL = ("direct", "email", "search", "social", "display", "tv", "affiliate", "radio")
PLACES = ("online", "store", "phone")
TOUCH_TYPES = ("click", "impression", "visit")
BASE_TIME = np.datetime64("2026-01-01T00:00:00", "ns")

_count = st.one_of(
    st.just(0.0),
    st.integers(1, 50).map(float),
    st.floats(0.0, 1000.0, allow_nan=False, allow_infinity=False, allow_subnormal=False),
)


@st.composite
def journeys(
    draw,
    *,
    min_channels: int = 1,
    max_channels: int = 6,
    max_journeys: int = 8,
    max_length: int = 6,
    time: bool | None = None,
    place: bool | None = None,
    touch_type: bool = False,
) -> Journeys:
    """A random journey set.

    Parameters
    ----------
    min_channels, max_channels : int
        Number of channels (names drawn from :data:`CHANNEL_POOL`, which includes ``direct``;
        a channel may have no touches).
    max_journeys : int
        Journey rows, from 0. Rows may be empty (no touches) and still carry conversions.
    max_length : int
        Longest path.
    time : bool or None
        With timestamps (touches in time order, at or before the conversion time; NaT
        conversion time for non-converting rows), without, or either (None).
    place : bool or None
        With conversion places (``None`` for non-converting rows), without, or either (None).
    touch_type : bool, default False
        Give every touch a type from :data:`TOUCH_TYPES` (clicks, visits and impressions).

    Notes
    -----
    Counts are floats including 0 (path-table rows); value is 0 where conversions are 0.
    """
    C = draw(st.integers(min_channels, max_channels))
    channels = draw(st.permutations(CHANNEL_POOL))[:C]
    J = draw(st.integers(0, max_journeys))
    lengths = np.asarray(draw(st.lists(st.integers(0, max_length), min_size=J, max_size=J)), dtype=np.int64)
    T = int(lengths.sum())
    touch_channel = np.asarray(
        draw(st.lists(st.integers(0, C - 1), min_size=T, max_size=T)), dtype=np.int32
    )
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    conversions = np.asarray(draw(st.lists(_count, min_size=J, max_size=J)), dtype=np.float64)
    nulls = np.asarray(draw(st.lists(_count, min_size=J, max_size=J)), dtype=np.float64)
    value = np.asarray(draw(st.lists(_count, min_size=J, max_size=J)), dtype=np.float64)
    value[conversions == 0] = 0.0

    kw = {}
    if time if time is not None else draw(st.booleans()):
        # end time of each journey, then touch ages (seconds before it), oldest first
        end_s = np.asarray(draw(st.lists(st.integers(0, 90 * 86400), min_size=J, max_size=J)), dtype=np.int64)
        ages = np.asarray(
            draw(st.lists(st.integers(0, 60 * 86400), min_size=T, max_size=T)), dtype=np.int64
        )
        jid = np.repeat(np.arange(J), lengths)
        # sort ages descending within each journey so touches are in time order
        order = np.lexsort((-ages, jid)) if T else np.zeros(0, dtype=np.int64)
        ages = ages[order]
        end = BASE_TIME + (end_s * 10**9).astype("timedelta64[ns]")
        touch_time = (end[jid] if T else end[:0]) - (ages * 10**9).astype("timedelta64[ns]")
        conversion_time = np.where(conversions > 0, end, np.datetime64("NaT", "ns"))
        kw["touch_time"] = touch_time.astype("datetime64[ns]")
        kw["conversion_time"] = conversion_time.astype("datetime64[ns]")
    if place if place is not None else draw(st.booleans()):
        drawn = draw(st.lists(st.sampled_from(PLACES), min_size=J, max_size=J))
        kw["place"] = np.array(
            [p if c > 0 else None for p, c in zip(drawn, conversions)], dtype=object
        )
    if touch_type:
        kw["touch_type"] = np.asarray(draw(st.lists(st.integers(0, 2), min_size=T, max_size=T)), dtype=np.int8)
        kw["touch_types"] = np.asarray(TOUCH_TYPES, dtype=object)
    return Journeys(channels, touch_channel, offsets, conversions, nulls, value, **kw)


def relabel(j: Journeys, perm: np.ndarray) -> Journeys:
    """The same journeys with channel codes permuted: new code ``perm[c]`` for old code ``c``."""
    perm = np.asarray(perm, dtype=np.int64)
    channels = np.empty(j.n_channels, dtype=object)
    channels[perm] = j.channels
    return Journeys(
        channels,
        perm[j.touch_channel].astype(np.int32),
        j.offsets,
        j.conversions,
        j.nulls,
        j.value,
        touch_time=j.touch_time,
        conversion_time=j.conversion_time,
        place=j.place,
        customer=j.customer,
    )
