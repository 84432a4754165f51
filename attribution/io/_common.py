"""Shared pieces of the importers: reading files, the normalised event tables, sessions."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._tables import _arrow_to_frame, read_table  # noqa: F401 - read_table is part of this module's API
from ..exceptions import ExcludedRowsWarning, JourneyValidationError

#: Columns of :attr:`EventTables.touchpoints`.
TOUCH_COLUMNS = ["customer_id", "timestamp", "channel", "source", "medium", "campaign", "touch_type", "session_id"]
#: Columns of :attr:`EventTables.conversions`.
CONVERSION_COLUMNS = ["customer_id", "timestamp", "value", "transaction_id", "event"]


@dataclass
class EventTables:
    """What an importer returns: normalised touch, conversion and identity tables.

    Attributes
    ----------
    touchpoints : DataFrame
        One row per touch: ``customer_id`` (str), ``timestamp`` (UTC, tz-aware), ``channel``,
        ``source``, ``medium``, ``campaign``, ``touch_type`` (``"visit"``, ``"click"`` or
        ``"impression"``) and ``session_id`` (may be missing).
    conversions : DataFrame
        One row per conversion (after de-duplication): ``customer_id``, ``timestamp``,
        ``value``, ``transaction_id``, ``event``.
    identities : DataFrame or None
        Id links for stitching (anonymous id, known user id), passed to
        :meth:`Journeys.from_events` as ``identities=``.
    source : str
        The importer (``"ga4"``, ``"adobe"``, ...).
    exclusions : dict
        Input rows dropped by the importer, by rule (e.g. ``"duplicate_transaction"``,
        ``"excluded_hit"``, ``"consent_denied"``). Every dropped row is counted here.
    input_rows : int
        Rows read from the source.
    journey_options : dict
        Defaults for :meth:`Journeys.from_events` that the source needs (e.g. no lookback
        window for the Criteo dataset, whose journeys are pre-cut); overridable.
    """

    touchpoints: pd.DataFrame
    conversions: pd.DataFrame
    identities: pd.DataFrame | None = None
    source: str = ""
    exclusions: dict = field(default_factory=dict)
    input_rows: int = 0
    journey_options: dict = field(default_factory=dict)

    def __iter__(self):
        """Unpack as ``touchpoints, conversions, identities``."""
        return iter((self.touchpoints, self.conversions, self.identities))

    def __repr__(self) -> str:
        excl = {k: v for k, v in self.exclusions.items() if v}
        return (
            f"EventTables(source={self.source!r}, {len(self.touchpoints):,} touches, "
            f"{len(self.conversions):,} conversions, value {self.total_value:,.2f}"
            + (f", excluded {excl}" if excl else "") + ")"
        )

    @property
    def total_value(self) -> float:
        return float(self.conversions["value"].sum()) if len(self.conversions) else 0.0

    def summary(self) -> pd.Series:
        """Counts: input rows, touches, conversions, value, and the rows each rule excluded."""
        out = {
            "input_rows": self.input_rows,
            "touches": len(self.touchpoints),
            "conversions": len(self.conversions),
            "value": self.total_value,
            "persons": int(pd.concat([self.touchpoints["customer_id"], self.conversions["customer_id"]]).nunique()),
        }
        out.update({f"excluded_{k}": v for k, v in self.exclusions.items()})
        return pd.Series(out, name=self.source)

    def journeys(self, **options):
        """Build :class:`~attribution.journeys.Journeys` (``Journeys.from_events`` keywords
        such as ``lookback=``, ``exclude=``, ``collapse_repeats=``)."""
        from ..journeys import Journeys

        kw = {"lookback": "30D", **self.journey_options, **options}
        return Journeys.from_events(
            self.touchpoints, self.conversions, customer="customer_id", time="timestamp",
            channel="channel", value="value", place=None, identities=self.identities, **kw,
        )

    def compare(self, models=None, *, journey_options: Mapping | None = None, **compare_options):
        """Journeys and a model comparison in one call (:func:`attribution.compare`)."""
        from ..decisions.comparison import compare

        return compare(self.journeys(**dict(journey_options or {})), models, **compare_options)

    def to_parquet(self, out: str | os.PathLike) -> dict[str, Path]:
        """Write the tables: ``out`` is the touch file; conversions and identities go beside it
        (``<stem>.conversions.parquet``, ``<stem>.identities.parquet``). Returns the paths."""
        out = Path(out)
        stem = out.name[: -len(".parquet")] if out.name.endswith(".parquet") else out.name
        paths = {"touchpoints": out, "conversions": out.with_name(f"{stem}.conversions.parquet")}
        self.touchpoints.to_parquet(paths["touchpoints"], index=False)
        self.conversions.to_parquet(paths["conversions"], index=False)
        if self.identities is not None:
            paths["identities"] = out.with_name(f"{stem}.identities.parquet")
            self.identities.to_parquet(paths["identities"], index=False)
        return paths


# ------------------------------------------------------------------------------- reading files


def flatten_frame(df: pd.DataFrame, keep_lists: Sequence[str] = ()) -> pd.DataFrame:
    """Flatten dict-valued (struct) columns of a DataFrame into dotted columns."""
    def is_struct(col: pd.Series) -> bool:
        if col.dtype != object:
            return False
        present = col.dropna()
        return bool(len(present)) and isinstance(present.iloc[0], dict)

    struct_cols = [c for c in df.columns if c not in keep_lists and is_struct(df[c])]
    if not struct_cols:
        return df
    import pyarrow as pa

    out = df.drop(columns=struct_cols)
    for c in struct_cols:
        arr = pa.array(df[c].tolist())
        sub = _arrow_to_frame(pa.table({c: arr}))
        sub.index = df.index
        out = pd.concat([out, sub], axis=1)
    return out


def unnest_params(column: pd.Series, keys: Sequence[str]) -> pd.DataFrame:
    """GA4 ``event_params`` (list of ``{key, value: {string_value, int_value, float_value,
    double_value}}``) -> one column per wanted key (the first non-null typed value), vectorised
    through Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(column)
    if isinstance(column.dtype, pd.ArrowDtype):
        arr = pa.chunked_array(column.array._pa_array).combine_chunks() if hasattr(column.array, "_pa_array") else pa.array(column)
    else:
        arr = pa.array([v if isinstance(v, (list, np.ndarray)) else None for v in column.tolist()]) if n else None
        if arr is not None and isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if arr is not None and pa.types.is_list(arr.type) is False:
            arr = None
    out = pd.DataFrame(index=column.index)
    if arr is None or n == 0:
        for k in keys:
            out[k] = pd.Series([None] * n, index=column.index, dtype=object)
        return out
    flat = pc.list_flatten(arr)
    parent = pc.list_parent_indices(arr).to_numpy()
    key = flat.field("key").to_numpy(zero_copy_only=False)
    value = flat.field("value")
    typed = [value.field(t) for t in ("string_value", "int_value", "double_value", "float_value")
             if t in [value.type.field(i).name for i in range(value.type.num_fields)]]
    for k in keys:
        hit = np.flatnonzero(key == k)
        res = np.full(n, None, dtype=object)
        for t in reversed(typed):  # the first typed field that is set wins
            vals = t.take(pa.array(hit)).to_numpy(zero_copy_only=False)
            ok = ~pd.isna(vals)
            res[parent[hit[ok]]] = vals[ok]
        out[k] = pd.Series(res, index=column.index)
    return out


# ------------------------------------------------------------------------------- helpers


def col(df: pd.DataFrame, *names: str, default=None) -> pd.Series:
    """The first existing column among ``names`` (a missing column is all ``default``)."""
    for n in names:
        if n in df.columns:
            return df[n]
    return pd.Series([default] * len(df), index=df.index, dtype=object)


def blank(s: pd.Series) -> np.ndarray:
    """Missing or empty-string cells (also GA4's ``(not set)``)."""
    t = s if isinstance(s.dtype, pd.StringDtype) else s.astype("string")
    out = t.isna() | t.str.strip().isin(["", "(not set)", "nan", "None"])
    return out.fillna(True).to_numpy(dtype=bool)


def as_id(s: pd.Series) -> pd.Series:
    """Ids as strings (integers without a trailing ``.0``)."""
    if pd.api.types.is_float_dtype(s.dtype):
        whole = s.notna() & (s == np.floor(s))
        out = s.astype(object)
        out[whole] = s[whole].astype(np.int64).astype(str)
        return out.where(s.notna(), None)
    return s.astype("string").astype(object).where(s.notna(), None)


def require(df: pd.DataFrame, columns: Sequence[str], what: str, hint: str = "") -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        shown = list(map(str, df.columns))[:30]
        raise JourneyValidationError(
            f"{what} has no column(s) {missing}. Columns found: {shown}"
            + ("..." if len(df.columns) > 30 else "") + f". {hint}".rstrip()
        )


def make_channel(source, medium, campaign, channel, *, default_group: Callable | None = None) -> np.ndarray:
    """Channel names from source/medium/campaign by the importers' ``channel=`` option."""
    from ..channels import ChannelRules, default_channel_group

    source = pd.Series(source).reset_index(drop=True)
    medium = pd.Series(medium).reset_index(drop=True)
    campaign = pd.Series(campaign).reset_index(drop=True)
    if isinstance(channel, ChannelRules):
        return channel.apply(source, medium, campaign)
    if callable(channel):
        return np.asarray(channel(source, medium, campaign), dtype=object)
    if channel == "default_channel_group":
        return default_channel_group(source, medium, campaign)
    fill = lambda s, v: s.astype(object).where(~pd.Series(blank(s)), v).astype(str)  # noqa: E731
    if channel == "source_medium":
        return (fill(source, "(direct)") + " / " + fill(medium, "(none)")).to_numpy(dtype=object)
    if channel == "source":
        return fill(source, "(direct)").to_numpy(dtype=object)
    if channel == "medium":
        return fill(medium, "(none)").to_numpy(dtype=object)
    if channel == "campaign":
        return fill(campaign, "(not set)").to_numpy(dtype=object)
    raise ValueError(
        "The 'channel' parameter must be 'default_channel_group', 'source_medium', 'source', "
        f"'medium', 'campaign', a ChannelRules or a callable(source, medium, campaign). Got {channel!r} instead."
    )


def dedupe_transactions(conv: pd.DataFrame, exclusions: dict, rule: str = "duplicate_transaction") -> pd.DataFrame:
    """Keep the first conversion (by time, then input order) of every non-blank
    ``transaction_id``; the dropped rows are counted in ``exclusions[rule]``."""
    if not len(conv):
        exclusions[rule] = 0
        return conv
    conv = conv.sort_values("timestamp", kind="stable")
    has_id = ~blank(conv["transaction_id"])
    dup = has_id & conv["transaction_id"].astype(str).duplicated().to_numpy()
    exclusions[rule] = int(dup.sum())
    return conv.loc[~dup].reset_index(drop=True)


def session_touches(events: pd.DataFrame, has_source: np.ndarray, *, direct_sessions: bool) -> np.ndarray:
    """Row positions of the touches: in each session the first event carrying a source; a
    session with none gives its first event as a direct touch when ``direct_sessions``.

    ``events`` needs ``customer_id``, ``session_id`` (missing: the event is its own session)
    and ``timestamp``; returns positions into ``events``.
    """
    n = len(events)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    sess = events["session_id"].astype(object)
    own = sess.isna().to_numpy()
    key = events["customer_id"].astype(str) + "\x1f" + sess.astype(str)
    key = key.where(~own, "\x1e" + pd.Series(np.arange(n), index=events.index).astype(str))
    t = pd.to_datetime(events["timestamp"], utc=True).dt.tz_localize(None)
    tnum = t.to_numpy(dtype="datetime64[ns]").view(np.int64)
    order = np.lexsort((np.arange(n), tnum, pd.factorize(key)[0]))
    codes = pd.factorize(key)[0][order]
    src = has_source[order]
    first_of_sess = np.r_[True, codes[1:] != codes[:-1]]
    # first event with a source per session
    with_src = order[src]
    sc = codes[src]
    first_src = with_src[np.r_[True, sc[1:] != sc[:-1]]] if len(sc) else np.zeros(0, np.int64)
    picked = [first_src]
    if direct_sessions:
        has_any = np.zeros(codes.max() + 1, dtype=bool)
        has_any[sc] = True
        starts = order[first_of_sess]
        picked.append(starts[~has_any[codes[first_of_sess]]])
    return np.sort(np.concatenate(picked)).astype(np.int64)


def warn_exclusions(source: str, exclusions: dict) -> None:
    excluded = {k: v for k, v in exclusions.items() if v}
    if excluded:
        text = ", ".join(f"{v:,} by {k}" for k, v in excluded.items())
        warnings.warn(
            f"{source} importer excluded input rows: {text}; see EventTables.summary().",
            ExcludedRowsWarning,
            stacklevel=3,
        )


def to_utc(values, unit: str | None = None) -> pd.Series:
    """Timestamps as tz-aware UTC: epoch numbers in ``unit`` or parseable strings."""
    s = pd.Series(values)
    if unit is not None:
        num = pd.to_numeric(s, errors="coerce")
        return pd.to_datetime(num, unit=unit, utc=True)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert("UTC")
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s.dt.tz_localize("UTC")
    return pd.to_datetime(s, utc=True, format="mixed", errors="coerce")


def frame(**columns: Any) -> pd.DataFrame:
    """A DataFrame from Series (positionally; time-zone-aware dtypes kept), arrays and scalars."""
    return pd.DataFrame({k: (v.reset_index(drop=True) if isinstance(v, pd.Series) else v) for k, v in columns.items()})
