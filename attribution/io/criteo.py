"""The Criteo Attribution Modeling for Bidding dataset (``criteo_attribution_dataset.tsv.gz``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import EventTables, frame, read_table, require, to_utc, warn_exclusions

CRITEO_COLUMNS = [
    "timestamp", "uid", "campaign", "conversion", "conversion_timestamp", "conversion_id", "attribution",
    "click", "click_pos", "click_nb", "cost", "cpo", "time_since_last_click",
    *[f"cat{i}" for i in range(1, 10)],
]


def read_criteo(data, *, origin="2017-01-01", warn: bool = True) -> EventTables:
    """Impression touches and conversions from the Criteo attribution dataset.

    Parameters
    ----------
    data : DataFrame or path
        ``criteo_attribution_dataset.tsv.gz`` (tab-separated with a header) or its rows.
    origin : str, default "2017-01-01"
        The dataset's timestamps are seconds from an undisclosed start; they are placed after
        this UTC date (only differences matter).
    warn : bool, default True

    Returns
    -------
    EventTables
        ``journey_options`` sets ``lookback=None``: the dataset's journeys are already cut.

    Notes
    -----
    Column mapping (Criteo AI Lab dataset README; DARNN's preprocessing, Ren et al. 2018):

    ============  ===================================================================
    journey       ``uid`` + ``conversion_id``: every impression carries the id of the
                  conversion it led to (``-1``: none), so each conversion's journey is exactly
                  its impressions and a user's unconverted impressions form one more journey;
                  ``customer_id`` is ``"<uid>/<conversion_id>"``
    touch         every row (an impression) of channel ``campaign``; ``touch_type`` is
                  ``"click"`` when ``click == 1``, else ``"impression"``
    time          ``timestamp`` (seconds)
    conversion    one per distinct ``conversion_id`` with ``conversion == 1``, at its
                  ``conversion_timestamp``
    value         1 per conversion (``cost`` and ``cpo`` are transformed in the release)
    ============  ===================================================================
    """
    df = read_table(data, "The Criteo dataset", sep="\t" if not isinstance(data, pd.DataFrame) else None)
    require(df, ["timestamp", "uid", "campaign", "conversion", "conversion_timestamp", "conversion_id", "click"],
            "The Criteo dataset", "Expected the criteo_attribution_dataset.tsv.gz columns.")
    n_in = len(df)
    origin_s = pd.Timestamp(origin, tz="UTC").value // 10**9
    conv_id = pd.to_numeric(df["conversion_id"], errors="coerce").fillna(-1).astype(np.int64)
    converted = (pd.to_numeric(df["conversion"], errors="coerce").fillna(0).to_numpy() == 1) & (conv_id.to_numpy() >= 0)
    uid = df["uid"].astype(str)
    person = (uid + "/" + np.where(converted, conv_id.astype(str), "-1")).to_numpy(dtype=object)
    ts = to_utc(pd.to_numeric(df["timestamp"]).to_numpy() + origin_s, unit="s")
    click = pd.to_numeric(df["click"], errors="coerce").fillna(0).to_numpy() == 1
    touches = frame(customer_id=person, timestamp=ts, channel=df["campaign"].astype(str).to_numpy(dtype=object),
                    source=None, medium=None, campaign=df["campaign"].astype(str).to_numpy(dtype=object),
                    touch_type=np.where(click, "click", "impression").astype(object), session_id=None)
    _, first = np.unique(person[converted].astype(str), return_index=True)
    rows = np.flatnonzero(converted)[np.sort(first)]
    c_ts = to_utc(pd.to_numeric(df["conversion_timestamp"]).to_numpy()[rows] + origin_s, unit="s")
    conv = frame(customer_id=person[rows], timestamp=c_ts, value=np.ones(len(rows)),
                 transaction_id=conv_id.to_numpy()[rows].astype(str).astype(object), event="conversion")
    exclusions: dict[str, int] = {}
    out = EventTables(touches, conv, None, "criteo", exclusions, n_in, journey_options={"lookback": None})
    if warn:
        warn_exclusions("Criteo", exclusions)
    return out
