"""Snowplow atomic events (``atomic.events``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._common import (
    EventTables, as_id, blank, col, dedupe_transactions, frame, make_channel, read_table, require,
    session_touches, to_utc, warn_exclusions,
)

#: Snowplow's referer-parser ``refr_medium`` -> a GA-style medium.
REFERER_MEDIUM = {"search": "organic", "social": "social", "email": "email", "unknown": "referral", "paid": "cpc"}


def read_snowplow(
    data,
    *,
    conversion_events: Sequence[str] = ("transaction",),
    channel="default_channel_group",
    direct_sessions: bool = True,
    stitch: bool = True,
    warn: bool = True,
) -> EventTables:
    """Touches and conversions from Snowplow's canonical ``atomic.events`` table.

    Parameters
    ----------
    data : DataFrame or path
        ``atomic.events`` rows (CSV, Parquet or NDJSON with the canonical column names).
    conversion_events : sequence of str, default ("transaction",)
        ``event_name`` values that are conversions (the legacy e-commerce ``transaction``
        event, or your own schema's name).
    channel : str, ChannelRules or callable, default "default_channel_group"
        See :func:`attribution.io.read_ga4`.
    direct_sessions : bool, default True
        A session (``domain_sessionid``) none of whose events has a source is a direct touch.
    stitch : bool, default True
        Link ``domain_userid`` to the ``user_id`` it was seen with (``identities``).
    warn : bool, default True

    Returns
    -------
    EventTables

    Notes
    -----
    Column mapping (Snowplow, "Canonical event model"; the campaign-attribution and
    referer-parser enrichments):

    ============  ===================================================================
    person        ``user_id``, else ``domain_userid``, else ``network_userid``
    session       ``domain_sessionid``
    time          ``derived_tstamp`` (else ``collector_tstamp``), UTC
    touch         per session, the first event with a source: ``mkt_source`` /
                  ``mkt_medium`` / ``mkt_campaign``; else the referer (``refr_source`` or
                  ``refr_urlhost``, ``refr_medium`` mapped search -> organic, social -> social,
                  email -> email, unknown -> referral; ``internal`` referers are no touch);
                  ``touch_type`` "click" when ``mkt_clickid`` is set, else "visit"
    conversion    ``event_name`` in ``conversion_events``, de-duplicated on ``tr_orderid``
    value         ``tr_total`` (0 when missing)
    ============  ===================================================================
    """
    df = read_table(data, "The Snowplow events", id_columns=("user_id", "domain_userid", "network_userid", "domain_sessionid", "tr_orderid"))
    require(df, ["event_name"], "The Snowplow events")
    n_in = len(df)
    exclusions: dict[str, int] = {}
    uid, duid, nuid = as_id(col(df, "user_id")), as_id(col(df, "domain_userid")), as_id(col(df, "network_userid"))
    customer = uid.where(~pd.Series(blank(uid), index=df.index), duid)
    customer = customer.where(~pd.Series(blank(customer), index=df.index), nuid)
    bad = blank(customer)
    exclusions["no_user_id"] = int(bad.sum())
    tcol = "derived_tstamp" if "derived_tstamp" in df.columns else "collector_tstamp"
    require(df, [tcol], "The Snowplow events")
    df, customer, uid, duid = df.loc[~bad], customer[~bad], uid[~bad], duid[~bad]
    ts = to_utc(df[tcol])
    ts.index = df.index
    name = df["event_name"].astype(str)

    is_conv = name.isin(list(conversion_events)).to_numpy()
    value = pd.to_numeric(col(df, "tr_total"), errors="coerce").fillna(0.0)
    conv = frame(customer_id=customer[is_conv], timestamp=ts[is_conv], value=value[is_conv].astype(float),
                 transaction_id=as_id(col(df, "tr_orderid")[is_conv]), event=name[is_conv])
    conv = dedupe_transactions(conv, exclusions)

    mkt_s, mkt_m, mkt_c = col(df, "mkt_source"), col(df, "mkt_medium"), col(df, "mkt_campaign")
    has_mkt = ~(blank(mkt_s) & blank(mkt_m) & blank(mkt_c))
    refr_m = col(df, "refr_medium").astype(object).str.lower()
    refr_s = col(df, "refr_source").astype(object)
    refr_s = refr_s.where(~pd.Series(blank(refr_s), index=df.index), col(df, "refr_urlhost"))
    has_refr = ~has_mkt & ~blank(refr_m) & (refr_m != "internal").to_numpy()
    source = mkt_s.astype(object).where(pd.Series(has_mkt, index=df.index), refr_s.where(pd.Series(has_refr, index=df.index)))
    medium = mkt_m.astype(object).where(pd.Series(has_mkt, index=df.index),
                                       refr_m.map(REFERER_MEDIUM).where(pd.Series(has_refr, index=df.index)))
    campaign = mkt_c.astype(object).where(pd.Series(has_mkt, index=df.index))
    has_source = has_mkt | has_refr
    session = as_id(col(df, "domain_sessionid"))
    ev = pd.DataFrame({"customer_id": customer.to_numpy(), "session_id": session.to_numpy(),
                       "timestamp": ts.reset_index(drop=True)})
    pick = session_touches(ev, has_source, direct_sessions=direct_sessions)
    s, m, c = source.iloc[pick], medium.iloc[pick], campaign.iloc[pick]
    clicked = ~blank(col(df, "mkt_clickid"))
    touches = frame(
        customer_id=customer.iloc[pick], timestamp=ts.iloc[pick], channel=make_channel(s, m, c, channel),
        source=s, medium=m, campaign=c, touch_type=np.where(clicked[pick], "click", "visit").astype(object),
        session_id=session.iloc[pick],
    )
    identities = None
    linked = ~blank(uid) & ~blank(duid)
    if stitch and linked.any():
        identities = pd.DataFrame({"domain_userid": duid[linked].to_numpy(), "user_id": uid[linked].to_numpy()}
                                  ).drop_duplicates().reset_index(drop=True)
    out = EventTables(touches, conv, identities, "snowplow", exclusions, n_in)
    if warn:
        warn_exclusions("Snowplow", exclusions)
    return out
