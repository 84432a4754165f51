"""Segment (and RudderStack) warehouse tables: ``pages``, ``tracks`` / ``order_completed``,
``identifies``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import (
    EventTables, as_id, blank, col, dedupe_transactions, frame, make_channel, read_table, require,
    to_utc, warn_exclusions,
)


_IDS = ("anonymous_id", "user_id", "order_id", "checkout_id")


def _host(url: pd.Series) -> pd.Series:
    return url.astype(object).str.extract(r"^[a-zA-Z][a-zA-Z0-9+.-]*://([^/:?#]+)", expand=False).str.lower()


def read_segment(
    pages,
    orders=None,
    *,
    identifies=None,
    tracks=None,
    order_event: str = "Order Completed",
    value: str = "revenue",
    channel="default_channel_group",
    warn: bool = True,
) -> EventTables:
    """Touches and orders from Segment's (or RudderStack's) warehouse schema.

    Parameters
    ----------
    pages : DataFrame or path
        The ``pages`` table.
    orders : DataFrame or path, optional
        The ``order_completed`` table (one row per "Order Completed" event). Without it the
        orders are the rows of ``tracks`` whose ``event_text`` (or ``event``) is
        ``order_event`` or its table name ``order_completed``; those rows then need the
        ``order_id`` and ``value`` columns.
    identifies : DataFrame or path, optional
        The ``identifies`` table: every (``anonymous_id``, ``user_id``) pair in it links the
        anonymous visitor to the user (stitching).
    tracks : DataFrame or path, optional
        The ``tracks`` table, used only when ``orders`` is None.
    order_event : str, default "Order Completed"
    value : {"revenue", "total"}, default "revenue"
        The order value: ``revenue`` (without shipping and tax, Segment's spec) or ``total``.
    channel : str, ChannelRules or callable, default "default_channel_group"
        See :func:`attribution.io.read_ga4`.
    warn : bool, default True

    Returns
    -------
    EventTables

    Notes
    -----
    Column mapping (Segment, "Warehouse schemas" and "Spec: V2 Ecommerce Events"):

    ============  ===================================================================
    person        ``user_id`` if set, else ``anonymous_id``; anonymous ids are linked to users
                  through ``identifies`` (``users`` has no ``anonymous_id``)
    time          ``timestamp`` (UTC)
    touch         a page view with ``context_campaign_source`` / ``_medium`` / ``_name`` (UTM);
                  else with a ``gclid`` in ``context_page_url`` (google / cpc, a click);
                  else with an external ``context_page_referrer`` (its host / referral).
                  Segment has no session id, so page views without any of these are no touch.
    conversion    ``order_completed`` rows, de-duplicated on ``order_id``
    value         ``revenue`` or ``total`` (0 when missing)
    ============  ===================================================================
    """
    if value not in ("revenue", "total"):
        raise ValueError(f"The 'value' parameter of read_segment must be 'revenue' or 'total'. Got {value!r} instead.")
    pg = read_table(pages, "The Segment pages table", id_columns=_IDS)
    require(pg, ["anonymous_id", "timestamp"], "The Segment pages table")
    if orders is not None:
        od = read_table(orders, "The Segment order_completed table", id_columns=_IDS)
    elif tracks is not None:
        tr = read_table(tracks, "The Segment tracks table", id_columns=_IDS)
        ev = col(tr, "event_text", "event").astype(str)
        od = tr.loc[ev.isin([order_event, "order_completed"]).to_numpy()]
    else:
        raise ValueError("read_segment needs orders= (the order_completed table) or tracks=.")
    require(od, ["anonymous_id", "timestamp"], "The Segment orders")
    exclusions: dict[str, int] = {}
    n_in = len(pg) + len(od)

    def person(df):
        u, a = as_id(col(df, "user_id")), as_id(df["anonymous_id"])
        return u.where(~pd.Series(blank(u), index=df.index), a)

    c_person = person(od)
    conv = frame(customer_id=c_person, timestamp=to_utc(od["timestamp"]),
                 value=pd.to_numeric(col(od, value), errors="coerce").fillna(0.0).astype(float),
                 transaction_id=as_id(col(od, "order_id", "checkout_id")), event="order_completed")
    conv = dedupe_transactions(conv, exclusions)

    p_person = person(pg)
    s, m, c = (col(pg, f"context_campaign_{k}").astype(object) for k in ("source", "medium", "name"))
    utm = ~(blank(s) & blank(m) & blank(c))
    url = col(pg, "context_page_url", "url").astype(object)
    gclid = url.str.contains(r"[?&](?:gclid|gbraid|wbraid)=", regex=True, na=False).to_numpy() & ~utm
    ref_host = _host(col(pg, "context_page_referrer", "referrer"))
    own_host = _host(url)
    ext_ref = ~utm & ~gclid & ~blank(ref_host) & (ref_host != own_host).to_numpy()
    source = s.where(pd.Series(utm, index=pg.index), np.where(gclid, "google", ref_host.where(pd.Series(ext_ref, index=pg.index))))
    medium = m.where(pd.Series(utm, index=pg.index), np.where(gclid, "cpc", np.where(ext_ref, "referral", None)))
    keep = np.flatnonzero(utm | gclid | ext_ref)
    ss, mm, cc = source.iloc[keep], medium.iloc[keep], c.iloc[keep]
    touches = frame(
        customer_id=p_person.iloc[keep], timestamp=to_utc(pg["timestamp"]).iloc[keep],
        channel=make_channel(ss, mm, cc, channel), source=ss, medium=mm, campaign=cc,
        touch_type=np.where(gclid[keep], "click", "visit").astype(object), session_id=None,
    )
    identities = None
    if identifies is not None:
        idf = read_table(identifies, "The Segment identifies table", id_columns=_IDS)
        require(idf, ["anonymous_id", "user_id"], "The Segment identifies table")
        a, u = as_id(idf["anonymous_id"]), as_id(idf["user_id"])
        ok = ~blank(a) & ~blank(u)
        identities = pd.DataFrame({"anonymous_id": a[ok].to_numpy(), "user_id": u[ok].to_numpy()}).drop_duplicates()
        identities = identities.reset_index(drop=True)
    out = EventTables(touches, conv, identities, "segment", exclusions, n_in)
    if warn:
        warn_exclusions("Segment", exclusions)
    return out
