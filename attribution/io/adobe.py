"""Adobe Analytics data feed (``hit_data.tsv`` with its lookup files)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ._common import (
    EventTables, as_id, blank, col, dedupe_transactions, frame, make_channel, read_table, require,
    to_utc, warn_exclusions,
)

#: ``hit_source`` values that are data sources / summary rows, not hits (Adobe: "Calculate metrics").
DATA_SOURCE_HITS = (5, 7, 8, 9)


def _lookup(table, what: str) -> pd.Series:
    """An Adobe lookup file (two tab-separated columns, no header: id, name) -> Series id -> name."""
    if table is None:
        return pd.Series(dtype=object)
    if isinstance(table, pd.Series):
        return table.rename(index=str).astype(str)
    if isinstance(table, dict):
        return pd.Series({str(k): str(v) for k, v in table.items()})
    if isinstance(table, (str, os.PathLike)):
        table = pd.read_csv(table, sep="\t", header=None, dtype=str, quoting=3, keep_default_na=False)
    if not isinstance(table, pd.DataFrame) or table.shape[1] < 2:
        raise TypeError(f"{what} must be a lookup file path, a dict, a Series or a two-column DataFrame.")
    return pd.Series(table.iloc[:, 1].astype(str).to_numpy(), index=table.iloc[:, 0].astype(str).to_numpy())


def read_adobe(
    hit_data,
    *,
    column_headers=None,
    marketing_channels=None,
    channel: str = "marketing_channel",
    purchase_event: str = "1",
    warn: bool = True,
) -> EventTables:
    """Touches and purchases from an Adobe Analytics data feed.

    Parameters
    ----------
    hit_data : DataFrame or path
        ``hit_data.tsv`` (tab-separated, no header, optionally .gz) or a DataFrame with the
        feed's column names.
    column_headers : path or list of str, optional
        ``column_headers.tsv`` of the feed (one tab-separated line), needed when ``hit_data``
        is a file.
    marketing_channels : path, dict, Series or DataFrame, optional
        The marketing-channel lookup (``va_closer_id`` -> channel name), e.g. the
        Marketing Channel Manager export. Without it the channel is ``"channel <id>"``.
    channel : {"marketing_channel", "campaign"}, default "marketing_channel"
        ``"marketing_channel"``: a touch is a hit that starts a marketing-channel instance
        (``va_instance_event == 1``), named by the lookup of ``va_closer_id``;
        ``"campaign"``: a touch is a hit with a tracking code, named by ``post_campaign``.
    purchase_event : str, default "1"
        The event id of purchases in ``post_event_list`` (Adobe's standard purchase is 1).
    warn : bool, default True

    Returns
    -------
    EventTables

    Notes
    -----
    Column mapping (Adobe, "Data feed column reference" and "Calculate metrics"):

    ============  ===================================================================
    rows kept     ``exclude_hit == 0`` and ``hit_source`` not in 5, 7, 8, 9 (the others are
                  counted as ``excluded_hit`` / ``data_source_hit``)
    person        ``post_visid_high`` + ``"_"`` + ``post_visid_low``
    time          ``hit_time_gmt`` (Unix seconds, UTC)
    session       ``post_visid_high`` + ``post_visid_low`` + ``visit_num``
    touch         see ``channel``; ``touch_type`` is ``"visit"``
    conversion    ``post_event_list`` contains ``purchase_event``; hits flagged
                  ``duplicate_purchase == 1`` are dropped, then de-duplicated on
                  ``post_purchaseid`` (both counted as ``duplicate_transaction``)
    value         sum of the price fields (4th ``;`` field) of ``post_product_list``
                  (``category;product;quantity;price;events;evars``, products comma-separated);
                  prices are totals for the line, in the report suite's currency
    ============  ===================================================================
    """
    if channel not in ("marketing_channel", "campaign"):
        raise ValueError(
            "The 'channel' parameter of read_adobe must be 'marketing_channel' or 'campaign'. "
            f"Got {channel!r} instead."
        )
    if isinstance(hit_data, pd.DataFrame):
        df = hit_data
    else:
        if column_headers is None:
            raise ValueError(
                "read_adobe needs column_headers= (the feed's column_headers.tsv or a list of names) "
                "to read hit_data.tsv, which has no header row."
            )
        names = column_headers
        if isinstance(column_headers, (str, os.PathLike)):
            names = pd.read_csv(column_headers, sep="\t", header=None, dtype=str).iloc[0].tolist()
        df = read_table(hit_data, "The Adobe hit data", sep="\t", header=None, names=list(names))
    require(df, ["post_visid_high", "post_visid_low", "hit_time_gmt"], "The Adobe hit data")
    n_in = len(df)
    exclusions: dict[str, int] = {}
    excl = pd.to_numeric(col(df, "exclude_hit", default=0), errors="coerce").fillna(0).to_numpy() != 0
    src = pd.to_numeric(col(df, "hit_source", default=1), errors="coerce").fillna(1).to_numpy()
    ds = np.isin(src, DATA_SOURCE_HITS) & ~excl
    exclusions["excluded_hit"] = int(excl.sum())
    exclusions["data_source_hit"] = int(ds.sum())
    df = df.loc[~excl & ~ds].reset_index(drop=True)

    customer = df["post_visid_high"].astype(str) + "_" + df["post_visid_low"].astype(str)
    ts = to_utc(df["hit_time_gmt"].to_numpy(), unit="s")

    # --- purchases
    events = col(df, "post_event_list", default="").fillna("").astype(str)
    ev_ids = events.str.split(",").explode().str.split("=").str[0].str.strip()
    is_conv = (ev_ids == str(purchase_event)).groupby(level=0).any().reindex(df.index, fill_value=False).to_numpy().copy()
    dup_flag = pd.to_numeric(col(df, "duplicate_purchase", default=0), errors="coerce").fillna(0).to_numpy() != 0
    n_dup_flag = int((is_conv & dup_flag).sum())
    is_conv &= ~dup_flag
    products = col(df, "post_product_list", default="").fillna("").astype(str)
    price = pd.to_numeric(products.str.split(",").explode().str.split(";").str[3], errors="coerce")
    value = price.groupby(level=0).sum(min_count=1).reindex(df.index).fillna(0.0)
    conv = frame(customer_id=customer[is_conv], timestamp=ts[is_conv], value=value[is_conv].astype(float),
                 transaction_id=as_id(col(df, "post_purchaseid")[is_conv]), event="purchase")
    conv = dedupe_transactions(conv, exclusions)
    exclusions["duplicate_transaction"] += n_dup_flag

    # --- touches
    session = customer + ":" + as_id(col(df, "visit_num")).astype(str)
    if channel == "marketing_channel":
        inst = pd.to_numeric(col(df, "va_instance_event", default=0), errors="coerce").fillna(0).to_numpy() == 1
        closer = as_id(col(df, "va_closer_id"))
        lookup = _lookup(marketing_channels, "marketing_channels")
        inst &= ~blank(closer)
        ids = closer[inst].astype(str)
        names = ids.map(lookup).where(ids.isin(lookup.index), "channel " + ids) if len(lookup) else "channel " + ids
        touch_rows = np.flatnonzero(inst)
        channel_names = np.asarray(names, dtype=object)
        campaign = col(df, "post_campaign").iloc[touch_rows]
    else:
        campaign_all = col(df, "post_campaign")
        touch_rows = np.flatnonzero(~blank(campaign_all))
        campaign = campaign_all.iloc[touch_rows]
        channel_names = make_channel(pd.Series([None] * len(touch_rows)),
                                     pd.Series([None] * len(touch_rows)), campaign, "campaign")
    touches = frame(
        customer_id=customer.iloc[touch_rows], timestamp=ts.iloc[touch_rows], channel=channel_names,
        source=col(df, "va_closer_detail").iloc[touch_rows].astype(object), medium=None,
        campaign=campaign.astype(object), touch_type="visit", session_id=session.iloc[touch_rows],
    )
    out = EventTables(touches, conv, None, "adobe", exclusions, n_in)
    if warn:
        warn_exclusions("Adobe", exclusions)
    return out
