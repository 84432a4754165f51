"""Google Analytics 4 BigQuery export (``analytics_<property>.events_YYYYMMDD``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._common import (
    EventTables, as_id, blank, col, dedupe_transactions, flatten_frame, frame, make_channel,
    read_table, require, session_touches, to_utc, unnest_params, warn_exclusions,
)

_PARAM_KEYS = ("ga_session_id", "value", "source", "medium", "campaign", "gclid", "transaction_id")

_TRAFFIC = {
    # traffic_source= option -> (source, medium, campaign) columns
    "collected": ("collected_traffic_source.manual_source", "collected_traffic_source.manual_medium",
                  "collected_traffic_source.manual_campaign_name"),
    "session_last_click": ("session_traffic_source_last_click.manual_campaign.source",
                           "session_traffic_source_last_click.manual_campaign.medium",
                           "session_traffic_source_last_click.manual_campaign.campaign_name"),
}


def read_ga4(
    data,
    *,
    conversion_events: Sequence[str] = ("purchase",),
    traffic_source: str = "collected",
    channel="default_channel_group",
    direct_sessions: bool = True,
    stitch: bool = True,
    consent: str | None = None,
    warn: bool = True,
) -> EventTables:
    """Touches and conversions from a GA4 BigQuery event export.

    Parameters
    ----------
    data : DataFrame or path
        The ``events_*`` table: nested as exported to Parquet or newline-delimited JSON
        (``event_params`` a list of ``{key, value}``, ``ecommerce`` / ``collected_traffic_source``
        ... as structs), or flattened with dotted column names (``ecommerce.purchase_revenue``,
        ``collected_traffic_source.manual_source``) and event parameters as
        ``event_params.<key>`` columns. Paths: .parquet (or a folder of them), .json / .jsonl /
        .ndjson (optionally .gz), .csv (flattened).
    conversion_events : sequence of str, default ("purchase",)
        ``event_name`` values that are conversions (any key event).
    traffic_source : {"collected", "session_last_click"}, default "collected"
        Where the touch's source / medium / campaign come from: the event-scoped
        ``collected_traffic_source.manual_*`` (raw, no GA model applied; ``gclid`` alone means
        google / cpc; falls back to the legacy ``source`` / ``medium`` / ``campaign`` event
        params), or GA's session-scoped last click
        ``session_traffic_source_last_click.manual_campaign.*``. The user-scoped first-touch
        ``traffic_source.*`` record is never used (it describes the user's first visit, not
        the session).
    channel : str, ChannelRules or callable, default "default_channel_group"
        How a channel is named: the GA4 default channel group
        (:func:`attribution.channels.default_channel_group`), ``"source_medium"``,
        ``"source"``, ``"medium"``, ``"campaign"``, a :class:`~attribution.channels.ChannelRules`
        or a callable ``(source, medium, campaign) -> names``.
    direct_sessions : bool, default True
        A session none of whose events carries a source is a ``(direct) / (none)`` touch at its
        first event (GA4 counts such sessions as Direct).
    stitch : bool, default True
        Link each ``user_pseudo_id`` to the ``user_id`` it was seen with (``identities``), so
        the anonymous events before a login join the user's journey.
    consent : {None, "analytics", "ads"}, default None
        Drop events whose ``privacy_info.analytics_storage`` (or ``ads_storage``) is ``"No"``
        (counted as ``consent_denied``). Default: keep every event.
    warn : bool, default True
        Warn when rows were excluded.

    Returns
    -------
    EventTables

    Notes
    -----
    Column mapping (Google, "[GA4] BigQuery Export schema"):

    ============  ===================================================================
    person        ``user_id`` if set, else ``user_pseudo_id`` (as strings)
    session       ``user_pseudo_id`` + the ``ga_session_id`` event parameter
    time          ``event_timestamp`` (INT64 microseconds since the epoch, UTC)
    touch         per session, the first event carrying a source (see ``traffic_source``);
                  ``touch_type`` is ``"click"`` when a ``gclid`` / ``dclid`` is present,
                  else ``"visit"``
    conversion    ``event_name`` in ``conversion_events``, de-duplicated on
                  ``ecommerce.transaction_id`` (the first by time is kept, the others are
                  counted as ``duplicate_transaction``); blank ids are never merged
    value         ``ecommerce.purchase_revenue``, else the ``value`` event parameter, else 0
    consent       ``privacy_info.analytics_storage`` / ``ads_storage``
    ============  ===================================================================

    ``events_intraday_*`` tables lack the traffic-source records; a daily table keeps
    changing for up to three days after its date.
    """
    if traffic_source not in _TRAFFIC:
        raise ValueError(
            "The 'traffic_source' parameter of read_ga4 must be 'collected' or 'session_last_click'. "
            f"Got {traffic_source!r} instead."
        )
    if consent not in (None, "analytics", "ads"):
        raise ValueError(f"The 'consent' parameter of read_ga4 must be None, 'analytics' or 'ads'. Got {consent!r} instead.")
    df = read_table(data, "The GA4 export", id_columns=("user_pseudo_id", "user_id", "ecommerce.transaction_id", "event_params.ga_session_id", "event_params.transaction_id"))
    df = flatten_frame(df, keep_lists=("event_params", "user_properties", "items"))
    require(df, ["event_timestamp", "event_name", "user_pseudo_id"], "The GA4 export",
            "Pass the events_* table of the BigQuery export (nested, or flattened with dotted names).")
    n_in = len(df)
    exclusions: dict[str, int] = {}

    # event parameters: nested list, or flattened event_params.<key> columns
    if "event_params" in df.columns:
        params = unnest_params(df["event_params"], _PARAM_KEYS)
    else:
        params = pd.DataFrame({k: col(df, f"event_params.{k}", f"event_params.value.{k}") for k in _PARAM_KEYS},
                              index=df.index)

    if consent is not None:
        flag = col(df, f"privacy_info.{consent}_storage").astype(str).str.lower()
        denied = (flag == "no").to_numpy()
        exclusions["consent_denied"] = int(denied.sum())
        df, params = df.loc[~denied], params.loc[~denied]

    pseudo = as_id(df["user_pseudo_id"])
    user = as_id(col(df, "user_id"))
    has_user = ~blank(user)
    customer = user.where(has_user, pseudo)
    bad = blank(customer)
    exclusions["no_user_id"] = int(bad.sum())
    if bad.any():
        df, params, customer, pseudo, user, has_user = (
            df.loc[~bad], params.loc[~bad], customer[~bad], pseudo[~bad], user[~bad], has_user[~bad])
    ts = to_utc(df["event_timestamp"].to_numpy(), unit="us")
    ts.index = df.index
    name = df["event_name"].astype(str)

    # --- conversions
    is_conv = name.isin(list(conversion_events)).to_numpy()
    rev = pd.to_numeric(col(df, "ecommerce.purchase_revenue"), errors="coerce")
    val = rev.where(rev.notna(), pd.to_numeric(params["value"], errors="coerce")).fillna(0.0)
    tid = col(df, "ecommerce.transaction_id").astype(object)
    tid = tid.where(~pd.Series(blank(tid), index=tid.index), params["transaction_id"])
    conv = frame(customer_id=customer[is_conv], timestamp=ts[is_conv], value=val[is_conv].astype(float),
                 transaction_id=as_id(tid[is_conv]), event=name[is_conv])
    conv = dedupe_transactions(conv, exclusions)

    # --- touches
    src_c, med_c, cmp_c = _TRAFFIC[traffic_source]
    source, medium, campaign = col(df, src_c), col(df, med_c), col(df, cmp_c)
    gclid = col(df, "collected_traffic_source.gclid")
    if traffic_source == "collected":
        gclid = gclid.where(~pd.Series(blank(gclid), index=gclid.index), params["gclid"])
        legacy = pd.Series(blank(source) & blank(medium), index=df.index)
        source = source.where(~legacy, params["source"])
        medium = medium.where(~legacy, params["medium"])
        campaign = campaign.where(~legacy, params["campaign"])
    dclid = col(df, "collected_traffic_source.dclid")
    clicked = ~blank(gclid) | ~blank(dclid)
    auto = clicked & blank(source) & blank(medium)
    source = source.astype(object).where(~auto, "google")
    medium = medium.astype(object).where(~auto, "cpc")
    has_source = ~(blank(source) & blank(medium) & blank(campaign))
    if traffic_source == "session_last_click":
        has_source = np.ones(len(df), dtype=bool)  # every event carries its session's source
    sid = as_id(params["ga_session_id"])
    session = (pseudo.astype(str) + ":" + sid.astype(str)).where(~pd.Series(blank(sid), index=sid.index), None)
    ev = pd.DataFrame({"customer_id": customer.to_numpy(), "session_id": session.to_numpy(),
                       "timestamp": ts.reset_index(drop=True)})
    pick = session_touches(ev, has_source, direct_sessions=direct_sessions)
    s, m, c = source.iloc[pick], medium.iloc[pick], campaign.iloc[pick]
    touches = frame(
        customer_id=customer.iloc[pick], timestamp=ts.iloc[pick],
        channel=make_channel(s, m, c, channel), source=s.astype(object), medium=m.astype(object),
        campaign=c.astype(object), touch_type=np.where(clicked[pick], "click", "visit").astype(object),
        session_id=session.iloc[pick],
    )

    identities = None
    if stitch and has_user.any():
        identities = (pd.DataFrame({"user_pseudo_id": pseudo[has_user].to_numpy(), "user_id": user[has_user].to_numpy()})
                      .drop_duplicates().reset_index(drop=True))
    out = EventTables(touches, conv, identities, "ga4", exclusions, n_in)
    if warn:
        warn_exclusions("GA4", exclusions)
    return out
