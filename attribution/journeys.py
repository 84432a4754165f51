"""The journey set: the one data structure every model, report and plot consumes.

A :class:`Journeys` object is a handful of flat numpy arrays in the compressed-sparse-row
manner (see ``ARCHITECTURE.md``): the channel code of every touch, journeys back to back, and
``offsets`` saying which touches belong to which journey. A path table is the same structure
with counts, so :meth:`Journeys.from_paths` and :meth:`Journeys.from_events` meet here and
every model serves both.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ._validation import (
    as_name_set,
    check_channel_names,
    check_finite,
    check_no_missing,
    check_time_options,
    id_strings,
    check_non_negative,
    example_rows,
    parse_duration,
    parse_timestamps,
    require_columns,
)
from .exceptions import (
    DataQualityWarning,
    ExcludedRowsWarning,
    JourneyValidationError,
    ParameterError,
)

__all__ = ["Journeys"]

#: The order in which exclusion rules are applied and reported by :meth:`Journeys.describe`.
EXCLUSION_RULES = (
    "excluded_channels",
    "lookback",
    "lookback_touches",
    "collapsed_repeats",
    "max_length",
    "missing_channel",
    "path_transform",
)


def _opt_column(df: pd.DataFrame, name, default) -> str | None:
    """An optional column: absent is fine when the parameter was left at its default."""
    if name is None:
        return None
    if name not in df.columns and name == default:
        return None
    return name



#: Event engines other than pandas, looked up by name: engine -> ``"module:function"`` that builds
#: the journeys (``function(engine, touchpoints, conversions, **options)``). The engines build on
#: this module (they return :class:`Journeys`), so it names them instead of importing them, as the
#: model registry names the model modules; unknown names go to :mod:`attribution.engines`, which
#: lists the valid ones in its error.
_EVENT_ENGINES: dict[str, str] = {
    "duckdb": "attribution.engines:from_events",
    "spark": "attribution.engines:from_events",
}


def _engine_from_events(engine: str):
    import importlib

    module, _, function = _EVENT_ENGINES.get(engine, "attribution.engines:from_events").partition(":")
    return getattr(importlib.import_module(module), function)


class Journeys:
    """A set of customer journeys stored as flat (CSR) arrays.

    Usually built with :meth:`from_paths` (aggregated path tables) or :meth:`from_events`
    (raw event logs); the constructor takes the arrays directly.

    Parameters
    ----------
    channels : array-like of str, length C
        Channel names; ``touch_channel`` holds codes into this list.
    touch_channel : array-like of int, length T
        Channel code of every touch, journeys back to back.
    offsets : array-like of int, length J + 1
        Journey ``j`` owns touches ``offsets[j]:offsets[j + 1]``. Journeys may be empty (a
        conversion with no recorded touch).
    conversions : array-like of float, length J
        Conversions each row stands for (0/1 for one journey, a count for a path-table row).
    nulls : array-like of float, length J, optional
        Non-converting journeys each row stands for. Default: 0.
    value : array-like of float, length J, optional
        Conversion value of each row. Default: 0.
    touch_time : array of datetime64, length T, optional
        When each touch happened (UTC). Event-built journeys have it; path tables do not.
    conversion_time : array of datetime64, length J, optional
        When each journey converted (``NaT`` for non-converting journeys).
    place : array-like of str, length J, optional
        Where each conversion happened, e.g. ``"online"`` or ``"store"`` (``None`` for
        non-converting journeys).
    customer : array-like, length J, optional
        The (stitched) person each journey belongs to.
    exclusions : mapping, optional
        Rows excluded by journey rules, by rule name (kept for :meth:`describe`).
    id_map : Series, optional
        Input id -> person, for ids merged by identities (see :meth:`person_of`).

    Examples
    --------
    >>> import pandas as pd
    >>> from attribution import Journeys
    >>> paths = pd.DataFrame({"path": ["a > b", "b"], "total_conversions": [2, 0],
    ...                       "total_null": [1, 3]})
    >>> j = Journeys.from_paths(paths)
    >>> j.n_journeys, list(j.channels), j.total_conversions
    (2, ['a', 'b'], 2.0)
    """

    def __init__(
        self,
        channels,
        touch_channel,
        offsets,
        conversions,
        nulls=None,
        value=None,
        *,
        touch_time=None,
        conversion_time=None,
        place=None,
        customer=None,
        exclusions: Mapping[str, int] | None = None,
        id_map: pd.Series | None = None,
    ):
        self.channels = np.asarray(channels, dtype=object)
        self.touch_channel = np.asarray(touch_channel, dtype=np.int32)
        self.offsets = np.asarray(offsets, dtype=np.int64)
        J = len(self.offsets) - 1
        self.conversions = np.asarray(conversions, dtype=np.float64)
        self.nulls = np.zeros(J) if nulls is None else np.asarray(nulls, dtype=np.float64)
        self.value = np.zeros(J) if value is None else np.asarray(value, dtype=np.float64)
        self.touch_time = None if touch_time is None else np.asarray(touch_time, dtype="datetime64[ns]")
        self.conversion_time = (
            None if conversion_time is None else np.asarray(conversion_time, dtype="datetime64[ns]")
        )
        self.place = None if place is None else np.asarray(place, dtype=object)
        self.customer = None if customer is None else np.asarray(customer, dtype=object)
        self.id_map = id_map
        self.exclusions = {rule: 0 for rule in EXCLUSION_RULES}
        if exclusions:
            self.exclusions.update({k: int(v) for k, v in exclusions.items()})
        self._check()

    # ------------------------------------------------------------------ checks
    def _check(self) -> None:
        T = len(self.touch_channel)
        J = len(self.offsets) - 1
        if self.offsets.ndim != 1 or J < 0 or self.offsets[0] != 0 or self.offsets[-1] != T:
            raise ParameterError("offsets must start at 0 and end at the number of touches.")
        if J and np.any(np.diff(self.offsets) < 0):
            raise ParameterError("offsets must be non-decreasing.")
        if T and (self.touch_channel.min() < 0 or self.touch_channel.max() >= len(self.channels)):
            raise ParameterError("touch_channel holds codes outside range(len(channels)).")
        for name in ("conversions", "nulls", "value"):
            a = getattr(self, name)
            if a.shape != (J,):
                raise ParameterError(f"{name} must have one entry per journey ({J}); got shape {a.shape}.")
            if np.isnan(a).any() or (a < 0).any():
                raise ParameterError(f"{name} must be non-negative numbers without NaN.")
            check_finite(a, name, "the journeys")
        for name, n in (("touch_time", T), ("conversion_time", J), ("place", J), ("customer", J)):
            a = getattr(self, name)
            if a is not None and a.shape != (n,):
                raise ParameterError(f"{name} must have length {n}; got shape {a.shape}.")
        if len(set(self.channels.tolist())) != len(self.channels):
            raise ParameterError("channel names must be unique.")
        check_channel_names(self.channels)

    # ------------------------------------------------------------ properties
    @property
    def n_journeys(self) -> int:
        """Number of journey rows (a path-table row counts once, whatever its counts)."""
        return len(self.offsets) - 1

    @property
    def n_touches(self) -> int:
        """Number of touches stored."""
        return len(self.touch_channel)

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return len(self.channels)

    @property
    def lengths(self) -> np.ndarray:
        """Touches per journey (int64[J])."""
        return np.diff(self.offsets)

    @property
    def journey_index(self) -> np.ndarray:
        """Journey of every touch (int64[T])."""
        if getattr(self, "_journey_index", None) is None:
            self._journey_index = np.repeat(np.arange(self.n_journeys), self.lengths)
        return self._journey_index

    @property
    def position(self) -> np.ndarray:
        """Position of every touch within its journey, from 0 (int64[T])."""
        return np.arange(self.n_touches) - self.offsets[self.journey_index]

    @property
    def total_conversions(self) -> float:
        """Total conversions over all journeys."""
        return float(self.conversions.sum())

    @property
    def total_value(self) -> float:
        """Total conversion value over all journeys."""
        return float(self.value.sum())

    @property
    def total_nulls(self) -> float:
        """Total non-converting journeys."""
        return float(self.nulls.sum())

    @property
    def has_time(self) -> bool:
        """Whether touch and conversion timestamps are known (event-built journeys)."""
        return self.touch_time is not None and self.conversion_time is not None

    @property
    def has_place(self) -> bool:
        """Whether conversions carry a place (e.g. online / store)."""
        return self.place is not None

    @property
    def places(self) -> list[str]:
        """The distinct conversion places, sorted (empty without places)."""
        if self.place is None:
            return []
        return sorted({p for p in self.place.tolist() if p is not None and p == p})

    def person_of(self, ids) -> np.ndarray:
        """The person (as in :attr:`customer`) that each id belongs to after identity stitching.

        Ids that were not merged with others (or not seen at all) are their own person.
        """
        ids = pd.Series(np.asarray(ids, dtype=object)).astype(str)
        if self.id_map is None:
            return ids.to_numpy(dtype=object)
        mapped = ids.map(self.id_map)
        return np.where(mapped.isna(), ids, mapped).astype(object)

    def __len__(self) -> int:
        return self.n_journeys

    def __repr__(self) -> str:
        return (
            f"<Journeys: {self.n_journeys:,} journeys, {self.n_touches:,} touches, "
            f"{self.n_channels} channels, {self.total_conversions:,.6g} conversions, "
            f"value {self.total_value:,.6g}, {self.total_nulls:,.6g} non-converting>"
        )

    # ------------------------------------------------------------- subsetting
    def _replace(self, **changes) -> "Journeys":
        kw = dict(
            channels=self.channels, touch_channel=self.touch_channel, offsets=self.offsets,
            conversions=self.conversions, nulls=self.nulls, value=self.value,
            touch_time=self.touch_time, conversion_time=self.conversion_time,
            place=self.place, customer=self.customer, exclusions=self.exclusions, id_map=self.id_map,
        )
        kw.update(changes)
        return Journeys(**kw)

    def _keep_touches(self, keep: np.ndarray, rule: str) -> "Journeys":
        """A copy without the touches where ``keep`` is false, counted under ``rule``."""
        n_dropped = int((~keep).sum())
        if n_dropped == 0:
            return self
        counts = np.bincount(self.journey_index[keep], minlength=self.n_journeys)
        offsets = np.concatenate([[0], np.cumsum(counts)])
        exclusions = dict(self.exclusions)
        exclusions[rule] = exclusions.get(rule, 0) + n_dropped
        return self._replace(
            touch_channel=self.touch_channel[keep],
            offsets=offsets,
            touch_time=None if self.touch_time is None else self.touch_time[keep],
            exclusions=exclusions,
        )

    def take(self, index) -> "Journeys":
        """The journeys at ``index`` (integer positions, repeats allowed: used by the bootstrap)."""
        index = np.asarray(index, dtype=np.int64)
        lengths = self.lengths[index]
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        # touch positions of the selected journeys, back to back
        starts = np.repeat(self.offsets[index] - offsets[:-1], lengths)
        touches = np.arange(offsets[-1]) + starts
        sel = lambda a: None if a is None else a[index]  # noqa: E731
        return self._replace(
            touch_channel=self.touch_channel[touches],
            offsets=offsets,
            conversions=self.conversions[index],
            nulls=self.nulls[index],
            value=self.value[index],
            touch_time=None if self.touch_time is None else self.touch_time[touches],
            conversion_time=sel(self.conversion_time),
            place=sel(self.place),
            customer=sel(self.customer),
        )

    def transform(self, *, exclude=None, collapse_repeats: bool = False, max_length=None,
                  path_transform=None, path_channels=None) -> "Journeys":
        """Apply path rules and return new journeys; excluded touches are counted.

        Parameters
        ----------
        exclude : str or iterable of str, optional
            Channels whose touches are removed (the channels leave the channel list).
        collapse_repeats : bool, default False
            Merge consecutive touches of the same channel into one (``a > a > b`` becomes
            ``a > b``); the first touch of each run is kept.
        max_length : int, optional
            Keep at most the last ``max_length`` touches of every journey.
        path_transform : str or list of str, optional
            Fractribution's transforms (``"unique"``, ``"exposure"``, ``"first"``,
            ``"frequency"``, ``"remove_if_not_all"``, ``"remove_if_last_and_not_all"``), applied
            after ``collapse_repeats`` and before ``max_length``; see
            :func:`attribution.shapes.path_transform`.
        path_channels : str or list of str, optional
            The channels of the two ``remove_*`` transforms (e.g. ``"direct"``).

        Conversions, values and non-converting counts are never changed: a journey whose
        touches are all removed stays as an empty journey.
        """
        out = self
        names = as_name_set(exclude)
        if names:
            unknown = names - set(out.channels.tolist())
            if unknown:
                warnings.warn(
                    f"exclude names channel(s) not in the data: {sorted(unknown)}.",
                    UserWarning,
                    stacklevel=2,
                )
            drop_codes = np.isin(out.channels, list(names))
            out = out._keep_touches(~drop_codes[out.touch_channel], "excluded_channels")
            keep_codes = np.flatnonzero(~drop_codes)
            recode = np.full(len(out.channels), -1, dtype=np.int32)
            recode[keep_codes] = np.arange(len(keep_codes), dtype=np.int32)
            out = out._replace(channels=out.channels[keep_codes], touch_channel=recode[out.touch_channel])
        if collapse_repeats:
            tc = out.touch_channel
            pos = out.position
            repeat = np.zeros(len(tc), dtype=bool)
            repeat[1:] = (tc[1:] == tc[:-1]) & (pos[1:] > 0)
            out = out._keep_touches(~repeat, "collapsed_repeats")
        if path_transform is not None:
            from ._transforms import path_transform as _path_transform

            out = _path_transform(out, path_transform, channels=path_channels)
        if max_length is not None:
            if isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)) or max_length < 1:
                raise ParameterError(
                    f"The 'max_length' parameter must be a positive integer or None. Got {max_length!r} instead."
                )
            from_end = out.lengths[out.journey_index] - out.position
            out = out._keep_touches(from_end <= max_length, "max_length")
        return out

    # ----------------------------------------------------------- constructors
    @classmethod
    def from_paths(
        cls,
        df: pd.DataFrame,
        path: str = "path",
        conversions: str = "total_conversions",
        value: str | None = "total_conversion_value",
        nulls: str | None = "total_null",
        sep: str | None = None,
        *,
        exclude=None,
        collapse_repeats: bool = False,
        max_length: int | None = None,
        warn: bool = True,
    ) -> "Journeys":
        """Journeys from an aggregated path table (the ChannelAttribution layout).

        Parameters
        ----------
        df : DataFrame
            One row per path (duplicates allowed: they stay separate rows).
        path : str, default "path"
            Column of path strings, channels separated by ``sep``; spaces around channel
            names are stripped (``"a > b"`` is ``a``, ``b``).
        conversions : str, default "total_conversions"
            Column of conversion counts.
        value : str or None, default "total_conversion_value"
            Column of conversion value; optional (absent means 0).
        nulls : str or None, default "total_null"
            Column of non-converting journey counts; optional (absent means 0).
        sep : str, optional
            Separator between channels. Default: sniffed from the paths (``"->"``, ``">"``,
            ``"|"``, ``","`` or ``";"``, the first found; ``">"`` when none is). A warning names
            the right ``sep=`` when channel names still contain a likely separator. GA's repeat
            notation (``"Organic Search × 2"``) is expanded to repeated touches, with a warning.
        exclude, collapse_repeats, max_length
            Path rules, see :meth:`transform`.
        warn : bool, default True
            Warn once when rules excluded touches (they are counted in :meth:`describe`).

        Returns
        -------
        Journeys
            Without timestamps (time decay needs :meth:`from_events`).

        Raises
        ------
        JourneyValidationError
            Missing columns, empty channel names, negative or non-numeric counts.

        Notes
        -----
        An empty or missing path is a journey without touches (e.g. a store purchase with no
        recorded touch, as :meth:`to_paths` writes it): it is kept, with a warning, and models
        credit its conversions to ``"(no touch)"``.
        """
        what = "the path table"
        value = _opt_column(df, value, "total_conversion_value") if isinstance(df, pd.DataFrame) else value
        nulls = _opt_column(df, nulls, "total_null") if isinstance(df, pd.DataFrame) else nulls
        require_columns(df, {"path": path, "conversions": conversions, "value": value, "nulls": nulls}, what)
        if sep is not None and (not isinstance(sep, str) or not sep.strip()):
            raise ParameterError(f"The 'sep' parameter must be a non-empty string. Got {sep!r} instead.")
        df, sep = _prepare_paths(df, path, sep, warn)
        conv = check_non_negative(df, conversions, what)
        val = check_non_negative(df, value, what) if value else None
        nul = check_non_negative(df, nulls, what) if nulls else None

        names, codes, offsets = _split_paths(df, path, sep, what, warn)
        check_channel_names(names, path)
        _warn_separators(names, sep, warn)
        journeys = cls(names, codes, offsets, conv, nul, val)
        journeys = journeys.transform(exclude=exclude, collapse_repeats=collapse_repeats, max_length=max_length)
        if warn:
            journeys._warn_exclusions()
        return journeys

    @classmethod
    def from_wide(cls, df: pd.DataFrame, columns=None, *, prefix: str | None = None, conversions: str | None = None,
                  value: str | None = None, nulls: str | None = None) -> "Journeys":
        """Journeys from a one-row-per-journey table (``channel_1, channel_2, ...``; blanks
        ignored), with count / value columns or converters only; see
        :func:`attribution.shapes.from_wide`."""
        return from_wide(df, columns, prefix=prefix, conversions=conversions, value=value, nulls=nulls)

    @classmethod
    def from_events(
        cls,
        touchpoints: pd.DataFrame,
        conversions: pd.DataFrame | None = None,
        *,
        customer: str = "customer_id",
        time: str = "timestamp",
        channel: str = "channel",
        value: str | None = "value",
        place: str | None = "place",
        lookback="30D",
        lookback_touches: int | None = None,
        identities: pd.DataFrame | None = None,
        conversion_flag: str | None = None,
        conversion_touch: bool = True,
        exclude=None,
        collapse_repeats: bool = False,
        max_length: int | None = None,
        sep: str = ">",
        unknown_customers: str = "keep",
        warn: bool = True,
        engine: str = "pandas",
        engine_options: Mapping | None = None,
        time_unit: str | None = None,
        time_format: str | None = None,
        dayfirst: bool | None = None,
        conversion_events=None,
        event: str | None = None,
        drop_missing_channel: bool = False,
    ) -> "Journeys":
        """Journeys from raw event logs.

        Each conversion closes one journey holding its person's touches since their previous
        conversion and within the lookback window; the touches after a person's last
        conversion form one non-converting journey. Every conversion row lands in exactly one
        journey, including conversions with no touch before them (an empty journey).

        Parameters
        ----------
        touchpoints : DataFrame
            One row per touch with columns ``customer``, ``time``, ``channel``. When
            ``conversions`` is None the conversion rows are found inside this table (see
            ``conversion_flag``).
        conversions : DataFrame, optional
            One row per conversion with columns ``customer``, ``time`` and optionally
            ``value`` and ``place``.
        customer, time, channel, value, place : str
            Column names. ``value`` and ``place`` are optional: absent means value 0 and no
            place.
        lookback : duration or None, default "30D"
            Touches older than this before the conversion are excluded (counted). For a
            non-converting journey the window ends at its last touch.
        lookback_touches : int, optional
            Keep at most this many touches before each conversion (applied after ``lookback``).
        identities : DataFrame, optional
            Id links (cookie, device, loyalty card, e-mail hash, ...): the ids in each row
            belong to one person (missing cells are ignored). Ids are merged by connected
            components before journeys are built; the person is named by their smallest id.
        conversion_flag : str, optional
            With ``conversions=None``: the column marking conversion rows (truthy values, or
            the string ``"conversion"``). By default ``interaction == "conversion"`` if an
            ``interaction`` column exists, else a truthy ``conversion`` column (the Kaggle
            layout). The value column defaults to ``conversion_value`` there when ``value`` is
            absent.
        conversion_touch : bool, default True
            With ``conversions=None``: also count the channel recorded on a conversion row as
            a touch at the conversion time (the Kaggle layout records the converting
            interaction's channel there).
        exclude, collapse_repeats, max_length
            Path rules, see :meth:`transform`. Order of the rules: excluded channels, lookback,
            lookback_touches, collapse_repeats, max_length.
        sep : str, default ">"
            The path separator used by :meth:`to_paths`; channel names may not contain it.
        unknown_customers : {"keep", "raise"}, default "keep"
            What to do with conversions of a person with no touch at all: keep them as empty
            journeys (counted in :meth:`describe`) or raise.
        warn : bool, default True
            Warn once when rules excluded rows.
        engine : {"pandas", "duckdb", "spark"}, default "pandas"
            ``"duckdb"`` runs the same rules as SQL in DuckDB, out of core: ``touchpoints`` and
            ``conversions`` may then also be DuckDB relations or CSV / Parquet paths or globs,
            and the result is the aggregated path table (one journey row per unique path ×
            place, no timestamps unless ``engine_options={"age_resolution": ...}``). Needs
            ``pip install "attribution[duckdb]"``; see :mod:`attribution.engines.duckdb`.
            ``"spark"`` runs the same SQL in Spark on an existing SparkSession (the inputs'
            own, ``engine_options={"spark": session}`` or the active one): the inputs may then
            also be Spark DataFrames, table or view names, or CSV / Parquet paths; only the
            path table comes back to the driver. Needs ``pip install "attribution[spark]"``
            and Java 17+; see :mod:`attribution.engines.spark`.
        engine_options : mapping, optional
            Settings of a non-pandas engine, e.g. ``{"memory_limit": "8GB", "threads": 4,
            "temp_directory": "/scratch", "age_resolution": "1s"}`` for DuckDB,
            ``{"spark": session, "age_resolution": "1s"}`` for Spark.
        time_unit : {"s", "ms", "us", "ns"}, optional
            The unit of numeric (epoch) timestamps, e.g. ``"us"`` for GA4's ``event_timestamp``.
            Numbers without it are refused (the error shows the likely unit); so is a column
            mixing numbers and text, or numbers of different magnitudes (units).
        time_format : str, optional
            A strftime format for text timestamps that are not ISO-8601 (e.g. ``"%d/%m/%Y %H:%M"``).
        dayfirst : bool, optional
            For day-month-ambiguous dates such as ``"01/03/2026"``: True reads 1 March, False
            3 January. Without it (or ``time_format``) such dates are refused.

        conversion_events : str or list of str, optional
            With ``conversions=None``: the rows of ``touchpoints`` whose ``event`` column holds
            one of these names are the conversions (e.g. ``["purchase"]``), the others the
            touches: one event table, as analytics tools export it.
        event : str, optional
            The event-name column for ``conversion_events`` (default ``event_name`` if present,
            else ``event``).
        drop_missing_channel : bool, default False
            Drop touch rows without a channel (missing or blank) instead of raising; they are
            counted as ``missing_channel`` in :meth:`describe` and warned about.

        ``touchpoints``, ``conversions`` and ``identities`` may also be file paths (CSV, TSV,
        Parquet, NDJSON; ``.gz`` allowed) with the pandas engine; the ``customer`` column is
        read as text.

        Notes
        -----
        Timestamps: time-zone-aware values are converted to UTC; naive values are read as UTC.
        A touch at the same timestamp as a conversion counts as before it. Touches at the same
        time keep their input order.
        """
        if engine != "pandas" and (conversion_events is not None or drop_missing_channel):
            raise ParameterError(
                "The 'conversion_events' and 'drop_missing_channel' parameters of Journeys.from_events "
                f"apply to engine='pandas' only. Got engine={engine!r}."
            )
        if engine == "pandas":
            touchpoints, conversions, identities = _read_inputs(touchpoints, conversions, identities, customer)
        if engine != "pandas":
            return _engine_from_events(engine)(
                engine, touchpoints, conversions, engine_options=engine_options, customer=customer,
                time=time, channel=channel, value=value, place=place, lookback=lookback,
                lookback_touches=lookback_touches, identities=identities, conversion_flag=conversion_flag,
                conversion_touch=conversion_touch, exclude=exclude, collapse_repeats=collapse_repeats,
                max_length=max_length, sep=sep, unknown_customers=unknown_customers, warn=warn,
                time_unit=time_unit, time_format=time_format, dayfirst=dayfirst,
            )
        if engine_options:
            raise ParameterError(
                "The 'engine_options' parameter of Journeys.from_events applies to engine='duckdb' "
                f"or 'spark' only. Got {dict(engine_options)!r} with engine='pandas'."
            )
        what_t, what_c = "touchpoints", "conversions"
        require_columns(touchpoints, {"customer": customer, "time": time, "channel": channel}, what_t)
        check_time_options(time_unit, time_format, dayfirst)
        lookback_td = parse_duration(lookback, "lookback", "Journeys.from_events")
        if lookback_touches is not None and (
            isinstance(lookback_touches, bool) or not isinstance(lookback_touches, (int, np.integer))
            or lookback_touches < 1
        ):
            raise ParameterError(
                "The 'lookback_touches' parameter of Journeys.from_events must be a positive "
                f"integer or None. Got {lookback_touches!r} instead."
            )
        if unknown_customers not in ("keep", "raise"):
            raise ParameterError(
                "The 'unknown_customers' parameter of Journeys.from_events must be 'keep' or "
                f"'raise'. Got {unknown_customers!r} instead."
            )

        tp = touchpoints
        if conversions is None:
            flag = (_event_mask(tp, conversion_events, event) if conversion_events is not None
                    else _conversion_mask(tp, conversion_flag))
            val_col = _opt_column(tp, value, "value")
            if val_col is None and "conversion_value" in tp.columns and value == "value":
                val_col = "conversion_value"
            plc_col = _opt_column(tp, place, "place")
            cv = tp.loc[flag]
            conv_frame = pd.DataFrame({customer: cv[customer].to_numpy(), time: cv[time].to_numpy()})
            if val_col:
                conv_frame[value or "value"] = cv[val_col].to_numpy()
                val_col = value or "value"
            if plc_col:
                conv_frame[plc_col] = cv[plc_col].to_numpy()
            touch_rows = tp.loc[~flag]
            if conversion_touch:
                # the converting interaction's channel is a touch at the conversion time
                touch_rows = pd.concat([touch_rows, cv[cv[channel].notna()]]).reset_index(drop=True)
            conversions = conv_frame
        else:
            require_columns(conversions, {"customer": customer, "time": time}, what_c)
            val_col = _opt_column(conversions, value, "value")
            plc_col = _opt_column(conversions, place, "place")
            require_columns(conversions, {"value": val_col, "place": plc_col}, what_c)
            touch_rows = tp

        n_missing_channel = 0
        if drop_missing_channel:
            ch = touch_rows[channel]
            missing = (ch.isna() | ch.astype(str).str.strip().eq("")).to_numpy(dtype=bool)
            n_missing_channel = int(missing.sum())
            if n_missing_channel:
                touch_rows = touch_rows.loc[~missing]
        # --- validate and parse
        check_no_missing(touch_rows, customer, what_t, "Every touch needs a customer id.")
        check_no_missing(touch_rows, channel, what_t, "Fill or remove touches without a channel.")
        check_no_missing(conversions, customer, what_c, "Every conversion needs a customer id.")
        topts = dict(time_unit=time_unit, time_format=time_format, dayfirst=dayfirst)
        t_time = parse_timestamps(touch_rows, time, what_t, **topts)
        c_time = parse_timestamps(conversions, time, what_c, **topts)
        ch_codes, ch_uniques = pd.factorize(touch_rows[channel])  # hash-based: no string sort
        ch_uniques = pd.Series(ch_uniques).astype(str).str.strip()
        bad_sep = ch_uniques.str.contains(sep, regex=False).to_numpy(dtype=bool)[ch_codes]
        if bad_sep.any():
            raise JourneyValidationError(
                f"Column {channel!r} of {what_t} has channel names containing the path separator "
                f"{sep!r}. Example rows:\n{example_rows(touch_rows, bad_sep, [customer, time, channel])}\n"
                f"Rename these channels, or pass another sep= (it is used when journeys are written as paths)."
            )
        check_channel_names(ch_uniques, channel)
        c_value = check_non_negative(conversions, val_col, what_c) if val_col else np.zeros(len(conversions))
        if plc_col:
            check_no_missing(conversions, plc_col, what_c, "Every conversion needs a place, e.g. 'online' or 'store'.")
            c_place = conversions[plc_col].astype(str).to_numpy(dtype=object)
        else:
            c_place = None

        # --- persons: ids (stitched by identities) to integer codes
        person_t, person_c, person_names, id_map = _persons(touch_rows[customer], conversions[customer], identities)
        if warn and len(person_c):
            known = np.zeros(len(person_names), dtype=bool)
            known[person_t] = True
            warn_unmatched(int((~known[person_c]).sum()), len(person_c), _id_kind(touch_rows[customer]),
                           _id_kind(conversions[customer]), customer, identities is not None, len(touch_rows))

        if unknown_customers == "raise":
            known = np.zeros(len(person_names), dtype=bool)
            known[person_t] = True
            unknown = ~known[person_c]
            if unknown.any():
                raise JourneyValidationError(
                    f"Column {customer!r} of {what_c} has {int(unknown.sum())} conversion(s) of customers "
                    f"with no touch. Example rows:\n{example_rows(conversions, unknown)}\n"
                    "Pass identities= to link their ids, or unknown_customers='keep' to keep them as "
                    "journeys without touches."
                )

        journeys = cls._assemble(
            person_t, t_time, ch_codes, ch_uniques.to_numpy(dtype=object), person_c, c_time, c_value, c_place,
            person_names, lookback_td=lookback_td, lookback_touches=lookback_touches,
            exclude=exclude, collapse_repeats=collapse_repeats, max_length=max_length, warn=warn,
            id_map=id_map,
        )
        if n_missing_channel:  # drop_missing_channel=True: counted like every exclusion
            journeys.exclusions["missing_channel"] = n_missing_channel
            journeys._n_input["touch_rows"] += n_missing_channel
            if warn:
                warnings.warn(
                    f"Touch rows excluded by journey rules: {n_missing_channel:,} by missing_channel "
                    "(drop_missing_channel=True). Conversions are all kept; see Journeys.describe().",
                    ExcludedRowsWarning,
                    stacklevel=2,
                )
        return journeys

    @classmethod
    def _assemble(
        cls, person_t, t_time, ch_codes, ch_uniques, person_c, c_time, c_value, c_place, person_names, *,
        lookback_td, lookback_touches, exclude, collapse_repeats, max_length, warn, id_map=None,
    ) -> "Journeys":
        """The journey rules, vectorised: assign touches to conversions, order, window."""
        T, M = len(person_t), len(person_c)
        key_t, key_c, R = _person_time_keys(person_t, t_time, person_c, c_time)

        # touches by (person, time); ties keep their input order
        t_sort = np.argsort(key_t, kind="stable")
        key_t = key_t[t_sort]
        person_ts = person_t[t_sort]
        c_order = np.argsort(key_c, kind="stable")
        key_c_sorted = key_c[c_order]
        # first conversion of the same person at or after the touch (a tie counts as before);
        # the queries are sorted, so the search walks the conversions once
        nxt = np.searchsorted(key_c_sorted, key_t, side="left")
        if M:
            converting = (nxt < M) & (person_c[c_order][np.minimum(nxt, M - 1)] == person_ts)
        else:
            converting = np.zeros(T, dtype=bool)

        # journeys: one per conversion, one per person with touches after their last conversion
        tp = person_ts[~converting]  # sorted by person
        first_of_person = np.r_[True, tp[1:] != tp[:-1]] if len(tp) else np.zeros(0, bool)
        trail_persons = tp[first_of_person]
        trail_of_touch = np.cumsum(first_of_person) - 1
        n_trail = len(trail_persons)
        # journey order: by person, then conversion time; the trailing journey last
        j_key = np.concatenate([key_c_sorted, trail_persons.astype(np.int64) * R + (R - 1)])
        j_order = np.argsort(j_key, kind="stable")
        j_rank = np.empty_like(j_order)
        j_rank[j_order] = np.arange(len(j_order))
        touch_j = np.empty(T, dtype=np.int64)
        touch_j[converting] = nxt[converting]
        touch_j[~converting] = M + trail_of_touch
        touch_j = j_rank[touch_j]  # non-decreasing: the touches are already in journey order

        J = M + n_trail
        t_time = t_time[t_sort]
        # channel codes sorted by name (names stripped above may coincide: merge them)
        names, recode = np.unique(ch_uniques.astype(str), return_inverse=True)
        codes = recode[ch_codes[t_sort]]
        counts = np.bincount(touch_j, minlength=J)
        offsets = np.concatenate([[0], np.cumsum(counts)])

        # journey-level arrays in final order
        def per_journey(conv_values, trail_fill):
            """Concatenate values of [sorted conversions..., trailing journeys...], in journey order."""
            return np.concatenate([conv_values[c_order], np.full(n_trail, trail_fill, dtype=conv_values.dtype)])[j_order]

        is_conv = per_journey(np.ones(M, bool), False)
        conversions = is_conv.astype(np.float64)
        nulls = (~is_conv).astype(np.float64)
        value = per_journey(c_value.astype(np.float64), 0.0)
        conversion_time = per_journey(c_time.astype("datetime64[ns]"), np.datetime64("NaT"))
        person_j = np.concatenate([person_c[c_order], trail_persons]).astype(np.int64)[j_order]
        place = None if c_place is None else per_journey(c_place.astype(object), None)
        customer = np.asarray(person_names, dtype=object)[person_j]

        journeys = cls(
            names.astype(object), codes.astype(np.int32), offsets, conversions, nulls, value,
            touch_time=t_time, conversion_time=conversion_time, place=place, customer=customer,
            id_map=id_map,
        )
        journeys._n_input = {"touch_rows": T, "conversion_rows": M}

        # rules, in the documented order
        journeys = journeys.transform(exclude=exclude)
        if lookback_td is not None:
            jt = journeys
            end = jt.conversion_time.copy()
            # non-converting journeys: the window ends at their last touch
            last_touch = np.full(jt.n_journeys, np.datetime64("NaT"), dtype="datetime64[ns]")
            nonempty = jt.lengths > 0
            last_touch[nonempty] = jt.touch_time[jt.offsets[1:][nonempty] - 1]
            end = np.where(np.isnat(end), last_touch, end)
            age = end[jt.journey_index] - jt.touch_time
            journeys = jt._keep_touches(age <= lookback_td.to_timedelta64(), "lookback")
        if lookback_touches is not None:
            jt = journeys
            from_end = jt.lengths[jt.journey_index] - jt.position
            journeys = jt._keep_touches(from_end <= lookback_touches, "lookback_touches")
        journeys = journeys.transform(collapse_repeats=collapse_repeats, max_length=max_length)
        journeys._n_input = {"touch_rows": T, "conversion_rows": M}
        if warn:
            journeys._warn_exclusions()
        return journeys

    def _warn_exclusions(self) -> None:
        excluded = {k: v for k, v in self.exclusions.items() if v}
        if excluded:
            text = ", ".join(f"{v:,} by {k}" for k, v in excluded.items())
            warnings.warn(
                f"Touch rows excluded by journey rules: {text}. Conversions are all kept; "
                "see Journeys.describe() for the counts.",
                ExcludedRowsWarning,
                stacklevel=3,
            )

    # ---------------------------------------------------------------- outputs
    def path_strings(self, sep: str = " > ") -> np.ndarray:
        """Every journey's path as one string, channels joined by ``sep`` (object array)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        bad = [c for c in self.channels.tolist() if sep.strip() and sep.strip() in c]
        if bad:
            raise JourneyValidationError(
                f"Channel name(s) {bad[:3]} contain the path separator {sep.strip()!r}, so paths "
                "could not be read back. Rename the channels or pass another sep=."
            )
        names = pa.array(self.channels.tolist(), type=pa.large_string())
        values = pa.DictionaryArray.from_arrays(pa.array(self.touch_channel, type=pa.int32()), names)
        values = values.cast(pa.large_string())
        lists = pa.LargeListArray.from_arrays(pa.array(self.offsets, type=pa.int64()), values)
        return np.asarray(pc.binary_join(lists, pa.scalar(sep, type=pa.large_string())).to_numpy(zero_copy_only=False), dtype=object)

    def to_paths(self, sep: str = " > ", *, aggregate: bool = True) -> pd.DataFrame:
        """The journeys as a path table in the ChannelAttribution layout.

        Returns a DataFrame with columns ``path, total_conversions, total_conversion_value,
        total_null``; with ``aggregate=True`` identical paths are merged (counts summed) and
        rows are sorted by path. Round-trips through :meth:`from_paths`.
        """
        df = pd.DataFrame(
            {
                "path": self.path_strings(sep),
                "total_conversions": self.conversions,
                "total_conversion_value": self.value,
                "total_null": self.nulls,
            }
        )
        if aggregate:
            df = df.groupby("path", sort=True, as_index=False).sum()
        return df

    def describe(self) -> pd.Series:
        """A summary: journeys, conversions, touches, path lengths, and rows excluded by each rule."""
        weight = self.conversions + self.nulls
        lengths = self.lengths
        conv_rows = self.conversions > 0
        if weight.sum() > 0:
            mean_len = float(np.average(lengths, weights=weight))
            order = np.argsort(lengths, kind="stable")
            cw = np.cumsum(weight[order])
            median_len = float(lengths[order][np.searchsorted(cw, cw[-1] / 2)])
        else:
            mean_len = median_len = float("nan")
        info = {
            "journey rows": self.n_journeys,
            "journeys (weighted)": float(weight.sum()),
            "converting journeys (weighted)": float(self.conversions.sum()),
            "non-converting journeys (weighted)": float(self.nulls.sum()),
            "conversions": self.total_conversions,
            "value": self.total_value,
            "touches": self.n_touches,
            "channels": self.n_channels,
            "mean path length": mean_len,
            "median path length": median_len,
            "max path length": int(lengths.max()) if len(lengths) else 0,
            "conversions without touches": float(self.conversions[(lengths == 0) & conv_rows].sum()),
        }
        n_input = getattr(self, "_n_input", None)
        if n_input:
            info["input touch rows"] = n_input["touch_rows"]
            info["input conversion rows"] = n_input["conversion_rows"]
        for rule in EXCLUSION_RULES:
            info[f"excluded touches: {rule}"] = int(self.exclusions.get(rule, 0))
        if self.has_place:
            for p in self.places:
                info[f"conversions at {p}"] = float(self.conversions[self.place == p].sum())
        return pd.Series(info, name="journeys", dtype=object)

    # ------------------------------------------------------------------ graph
    def transition_counts(self, order: int = 1):
        """Order-``order`` state transition counts (see :func:`attribution.graph.transition_counts`)."""
        from .graph import transition_counts

        return transition_counts(self, order=order)

    def graph(self, order: int = 1):
        """The channel-path graph as a ``networkx.DiGraph`` (see :func:`attribution.graph.to_networkx`)."""
        from .graph import to_networkx

        return to_networkx(self.transition_counts(order))

    def transition_matrix(self, order: int = 1) -> pd.DataFrame:
        """Transition probabilities between states as a DataFrame (rows: from, columns: to)."""
        return self.transition_counts(order).probability_frame()


# ---------------------------------------------------------------------------- helpers
def _arrow_strings(raw: pd.Series):
    """The path column as one Arrow string array (zero-copy for Arrow-backed columns), nulls kept."""
    import pyarrow as pa

    if pd.api.types.is_string_dtype(raw.dtype) and not pd.api.types.is_object_dtype(raw.dtype):
        try:
            arr = pa.array(raw.array)  # chunked as read; Arrow's kernels work chunk by chunk
            if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
                return arr
        except (TypeError, ValueError, pa.ArrowException):
            pass
    isna = raw.isna().to_numpy(dtype=bool)
    values = raw.astype(str).to_numpy(dtype=object)
    values[isna] = None
    return pa.array(values, type=pa.large_string())


def _split_paths(df: pd.DataFrame, path: str, sep: str, what: str, warn: bool):
    """Channel names (sorted), int32 channel code of every touch and int64 offsets of a path column.

    Arrow splits the strings and dictionary-encodes the raw tokens; only the (few) distinct
    tokens are trimmed of spaces and sorted, and the codes of every touch are mapped once.
    Empty or missing paths become journeys without touches (with a warning); an empty channel
    name inside a path raises.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    strings = _arrow_strings(df[path])
    # chunk by chunk (as read), so that the split tokens of one chunk only are alive at a time
    chunks = strings.chunks if isinstance(strings, pa.ChunkedArray) else [strings]
    index: dict = {}  # raw token -> its number (first seen first)
    code_parts, length_parts = [], []
    for chunk in chunks:
        lists = pc.split_pattern(chunk, sep)
        length_parts.append(pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False))
        enc = pc.dictionary_encode(pc.list_flatten(lists))
        del lists
        remap = np.array([index.setdefault(t, len(index)) for t in enc.dictionary.to_pylist()], dtype=np.int32)
        code_parts.append(remap[enc.indices.to_numpy(zero_copy_only=False)] if len(remap) else
                          np.zeros(0, np.int32))
        del enc
    del strings, chunks
    lengths = np.concatenate(length_parts).astype(np.int64) if length_parts else np.zeros(0, np.int64)
    codes = np.concatenate(code_parts) if code_parts else np.zeros(0, np.int32)
    del code_parts
    raw_names = np.asarray(pc.utf8_trim_whitespace(pa.array(list(index), pa.large_string())).to_pylist(),
                           dtype=object)
    null = df[path].isna().to_numpy(dtype=bool)
    empty_name = raw_names == ""
    if empty_name.any() or null.any():
        # rare: empty or missing paths (kept as journeys without touches) or empty channel names
        raw = df[path]
        no_touch = null | (raw.astype(str).str.strip() == "").to_numpy(dtype=bool)
        if no_touch.any() and warn:
            warnings.warn(
                f"{int(no_touch.sum())} row(s) of {what} have an empty path; they are kept as journeys "
                "without touches (their conversions are credited to '(no touch)').",
                DataQualityWarning,
                stacklevel=3,
            )
        keep = np.repeat(~no_touch, lengths)
        lengths[no_touch] = 0
        codes = codes[keep]
        bad = empty_name[codes]
        if bad.any():
            offsets = np.concatenate([[0], np.cumsum(lengths)])
            rows = np.zeros(len(df), dtype=bool)
            rows[np.searchsorted(offsets, np.flatnonzero(bad), side="right") - 1] = True
            raise JourneyValidationError(
                f"Column {path!r} of {what} has {int(rows.sum())} path(s) with an empty channel name "
                f"(nothing between two {sep!r} separators). Example rows:\n"
                f"{example_rows(df, rows, [path])}\nFix or remove these paths, or pass the right 'sep'."
            )
        used = np.zeros(len(raw_names), dtype=bool)
        used[codes] = True
    else:
        used = np.ones(len(raw_names), dtype=bool)
    # distinct names after trimming, sorted; tokens differing only by spaces merge
    names, recode = np.unique(raw_names[used].astype(str), return_inverse=True)
    lookup = np.zeros(len(raw_names), dtype=np.int32)
    lookup[used] = recode.astype(np.int32)
    np.take(lookup, codes, out=codes)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return names.astype(object), codes, offsets


def _person_time_keys(person_t, t_time, person_c, c_time):
    """One int64 key per touch and conversion that sorts by (person, time).

    Times are offset from the earliest and divided by their common resolution (e.g. whole
    seconds); when person × time span would overflow, times are replaced by their dense rank.
    Returns ``(key_t, key_c, R)`` with ``key = person * R + time_code`` and every time code < R - 1.
    """
    ti = t_time.view(np.int64)
    ci = c_time.view(np.int64)
    all_t = np.concatenate([ti, ci])
    n_persons = int(max(person_t.max(initial=-1), person_c.max(initial=-1))) + 1
    if len(all_t) == 0:
        return ti.copy(), ci.copy(), np.int64(2)
    t0 = all_t.min()
    if int(all_t.max()) - int(t0) >= 2**62:  # the difference would overflow int64: rank instead
        uniq, code = np.unique(all_t, return_inverse=True)
        T = len(ti)
        R = np.int64(len(uniq) + 1)
        return person_t.astype(np.int64) * R + code[:T], person_c.astype(np.int64) * R + code[T:], R
    rel = all_t - t0
    step = int(np.gcd.reduce(rel)) or 1
    span = int(rel.max()) // step + 2
    if n_persons * span < 2**62:
        code = rel // step
        R = np.int64(span)
    else:
        uniq, code = np.unique(all_t, return_inverse=True)
        R = np.int64(len(uniq) + 1)
    T = len(ti)
    return (
        person_t.astype(np.int64) * R + code[:T],
        person_c.astype(np.int64) * R + code[T:],
        R,
    )


def _event_mask(tp: pd.DataFrame, names, event: str | None) -> np.ndarray:
    """Rows of an event table whose event name is one of ``names`` (``conversion_events=``)."""
    names = [names] if isinstance(names, str) else list(names)
    if not names:
        raise ParameterError("The 'conversion_events' parameter of Journeys.from_events must name at least one event.")
    if event is None:
        event = "event_name" if "event_name" in tp.columns else "event"
    require_columns(tp, {"event": event}, "touchpoints")
    return tp[event].astype(str).str.strip().isin([str(n) for n in names]).to_numpy(dtype=bool)


def _read_inputs(touchpoints, conversions, identities, customer):
    """File paths (CSV / TSV / Parquet / NDJSON) read into DataFrames, ids as text."""
    import os

    from ._tables import read_table

    def read(obj, what):
        if isinstance(obj, (str, os.PathLike)):
            return read_table(obj, what, id_columns=(customer,), sep="\t" if str(obj).lower().endswith((".tsv", ".tsv.gz")) else None)
        return obj

    return read(touchpoints, "touchpoints"), read(conversions, "conversions"), read(identities, "identities")


def _conversion_mask(tp: pd.DataFrame, flag: str | None) -> np.ndarray:
    """Rows of a combined event log that are conversions (the Kaggle layout by default)."""
    if flag is None:
        if "interaction" in tp.columns:
            flag = "interaction"
        elif "conversion" in tp.columns:
            flag = "conversion"
        else:
            raise JourneyValidationError(
                "No conversions were given and none could be found in the touchpoints: expected an "
                f"'interaction' column (value 'conversion') or a 'conversion' flag column. Columns "
                f"found: {list(map(str, tp.columns))}. Pass conversions=<DataFrame> or conversion_flag='<column>'."
            )
    require_columns(tp, {"conversion_flag": flag}, "touchpoints")
    s = tp[flag]
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        if s.isna().any():
            bad = s.isna().to_numpy()
            raise JourneyValidationError(
                f"Column {flag!r} of touchpoints has missing conversion flags. Example rows:\n"
                f"{example_rows(tp, bad)}\nFill them with 0 (not a conversion) or 1."
            )
        return s.to_numpy() != 0
    low = s.astype(str).str.strip().str.lower()
    return low.isin(["conversion", "1", "true", "yes"]).to_numpy(dtype=bool)


def _persons(t_ids: pd.Series, c_ids: pd.Series, identities: pd.DataFrame | None):
    """Integer person codes for touch and conversion ids, merged by ``identities``.

    Ids are compared as strings. Returns (person of each touch, person of each conversion,
    person names, id -> person Series or None without identities); persons are numbered in
    the sorted order of their names.
    """
    T, M = len(t_ids), len(c_ids)
    ids = pd.concat([id_strings(t_ids), id_strings(c_ids)], ignore_index=True)
    if identities is None:
        codes, names = pd.factorize(ids, sort=True)
        return codes[:T], codes[T:], np.asarray(names, dtype=object), None

    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not isinstance(identities, pd.DataFrame) or identities.shape[1] < 2:
        raise JourneyValidationError(
            "identities must be a DataFrame with at least two id columns (one link per row: the ids "
            f"of one person, e.g. cookie_id, loyalty_id). Got {type(identities).__name__}"
            + (f" with columns {list(map(str, identities.columns))}" if isinstance(identities, pd.DataFrame) else "")
            + ". Pass identities=pd.DataFrame({'cookie_id': [...], 'loyalty_id': [...]})."
        )
    cols = list(identities.columns)
    present_cols = [identities[c].notna().to_numpy(dtype=bool) for c in cols]
    id_cols = [id_strings(identities[c]).to_numpy(dtype=object) for c in cols]
    all_ids = np.concatenate([ids.to_numpy(dtype=object)] + [c[p] for c, p in zip(id_cols, present_cols)])
    codes, names = pd.factorize(all_ids, sort=True)
    n = len(names)
    index = pd.Index(names)
    # edges: first present id of each row to every other present id of the row
    first = np.full(len(identities), -1, dtype=np.int64)
    rows, cols_e = [], []
    for col, present in zip(id_cols, present_cols):
        code = np.full(len(col), -1, dtype=np.int64)
        code[present] = index.get_indexer(col[present])
        has_first = first >= 0
        link = present & has_first
        rows.append(first[link])
        cols_e.append(code[link])
        first = np.where(~has_first & present, code, first)
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols_e) if cols_e else np.zeros(0, np.int64)
    graph = coo_matrix((np.ones(len(r)), (r, c)), shape=(n, n))
    n_comp, comp = connected_components(graph, directed=False)
    # each person is named by their smallest id (names are sorted, so the smallest code)
    rep = np.full(n_comp, n, dtype=np.int64)
    np.minimum.at(rep, comp, np.arange(n))
    person = rep[comp]  # code of the representative id, for every id code
    person_codes, person_idx = np.unique(person, return_inverse=True)
    names = np.asarray(names, dtype=object)
    merged = person != np.arange(n)  # ids that are not their own person
    id_map = pd.Series(names[person[merged]], index=pd.Index(names[merged]), dtype=object)
    return (
        person_idx[codes[:T]],
        person_idx[codes[T : T + M]],
        names[person_codes],
        id_map,
    )


def warn_unmatched(n_unmatched: int, n_conversions: int, tk, ck, customer: str, has_identities: bool,
                   n_touches: int = 1) -> None:
    """Warn when more than half of the conversions match no touch id (a dtype or id-space mix-up)."""
    if n_conversions == 0 or n_unmatched <= 0.5 * n_conversions:
        return
    from .exceptions import _warn_user

    if n_touches == 0:
        _warn_user(
            f"The touchpoints hold no touch, so all {n_conversions:,} conversions go to '(no touch)'. Check "
            "that the touchpoint file is the right one and not only a header.",
            DataQualityWarning,
        )
        return

    causes = []
    if tk and ck and tk != ck:
        causes.append(f"the ids are {tk} in the touchpoints but {ck} in the conversions (compare them as one type)")
    if not has_identities:
        causes.append("touches and conversions use different ids (cookie vs loyalty card): pass identities= "
                      "(CLI: --identities FILE)")
    causes.append(f"the {customer!r} columns hold different id spaces or a formatting difference "
                  "(leading zeros, spaces, a float rendering such as '1.169e9')")
    _warn_user(
        f"{n_unmatched:,} of {n_conversions:,} conversions ({n_unmatched / n_conversions:.0%}) match no touch "
        f"id, so they go to '(no touch)'. Likely causes: " + "; ".join(causes) + ".",
        DataQualityWarning,
    )


def _id_kind(ids) -> str | None:
    dtype = getattr(ids, "dtype", None)
    if dtype is None:
        return None
    if pd.api.types.is_float_dtype(dtype):
        return "floats"
    if pd.api.types.is_integer_dtype(dtype):
        return "integers"
    return "text"


#: Separators tried, in this order, when ``from_paths`` is given no ``sep``.
SNIFF_SEPARATORS = ("->", ">", "|", ",", ";", " / ")
_GA_REPEAT = "\u00d7"  # GA's "Organic Search × 2"


def _prepare_paths(df: pd.DataFrame, path: str, sep: str | None, warn: bool):
    """Sniff the separator (when none is given) and expand GA's "× n" repeat notation."""
    raw = df[path]
    text = raw.dropna().astype(str)
    if sep is None:
        sep = ">"
        sample = text.head(10_000)
        for cand in SNIFF_SEPARATORS:
            if sample.str.contains(cand, regex=False).any():
                sep = cand
                break
    rep = text.str.contains(_GA_REPEAT, regex=False)
    if rep.any():
        import re

        pat = re.compile(r"^(.*?)\s*" + _GA_REPEAT + r"\s*(\d+)\s*$")

        def expand(p: str) -> str:
            out = []
            for tok in p.split(sep):
                m = pat.match(tok.strip())
                out.extend([m.group(1)] * int(m.group(2)) if m and int(m.group(2)) > 0 else [tok])
            return sep.join(out)

        df = df.copy()
        idx = rep[rep].index
        df.loc[idx, path] = raw.loc[idx].astype(str).map(expand)
        if warn:
            warnings.warn(
                f"{len(idx):,} path(s) use the repeat notation 'channel {_GA_REPEAT} n' (Google Analytics); "
                "each was expanded to n consecutive touches of the channel.",
                DataQualityWarning,
                stacklevel=3,
            )
    return df, sep


def _warn_separators(names, sep: str, warn: bool) -> None:
    """Warn when channel names contain a likely path separator (the wrong ``sep=``)."""
    if not warn or len(names) == 0:
        return
    ser = pd.Series(np.asarray(names, dtype=object)).astype(str)
    for cand in SNIFF_SEPARATORS:
        if cand == sep or cand.strip() == "" :
            continue
        hit = ser.str.contains(cand, regex=False)
        if hit.mean() > 0.2 or (hit.sum() and len(ser) <= 3):
            warnings.warn(
                f"{int(hit.sum())} of {len(ser)} channel names contain {cand!r} (e.g. {ser[hit].iloc[0]!r}): the "
                f"paths look {cand!r}-separated. Pass sep={cand!r} (CLI: --sep '{cand}') if so.",
                DataQualityWarning,
                stacklevel=3,
            )
            return


# ---------------------------------------------------------------------------------------------
# one-row-per-journey ("wide") tables, public as attribution.shapes.from_wide
# ---------------------------------------------------------------------------------------------


def _natural_key(name: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(name))]


def from_wide(
    df: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    prefix: str | None = None,
    conversions: str | None = None,
    value: str | None = None,
    nulls: str | None = None,
    warn: bool = True,
) -> Journeys:
    """Journeys from a one-row-per-journey table whose channels sit in several columns.

    Parameters
    ----------
    df : DataFrame
        One row per journey (or per distinct path, with counts).
    columns : list of str, optional
        The channel columns, first touch first.
    prefix : str, optional
        Instead of ``columns``: every column whose name starts with ``prefix`` (e.g.
        ``"channel_"``), in natural order (``channel_2`` before ``channel_10``).
    conversions : str, optional
        Column with each row's conversion count. Default: every row is one converting journey
        (a converters-only table; models that learn from non-converters need ``nulls``).
    value : str, optional
        Column with each row's conversion value (default 0).
    nulls : str, optional
        Column with each row's non-converting count (default 0).
    warn : bool, default True

    Returns
    -------
    Journeys
        No timestamps. Blank cells (missing, empty or whitespace) are skipped wherever they
        are, so ``["a", None, "b"]`` is the path ``a > b``; a row with no channel at all is an
        empty journey (its conversions go to ``"(no touch)"``).

    Examples
    --------
    >>> import pandas as pd
    >>> from attribution.shapes import from_wide
    >>> wide = pd.DataFrame({"channel_1": ["email", "search"], "channel_2": ["search", None],
    ...                      "orders": [2, 1], "revenue": [30.0, 10.0]})
    >>> j = from_wide(wide, prefix="channel_", conversions="orders", value="revenue")
    >>> j.to_paths(aggregate=False)["path"].tolist()
    ['email > search', 'search']
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"from_wide expects a DataFrame. Got {type(df).__name__} instead.")
    if (columns is None) == (prefix is None):
        raise ValueError("from_wide needs exactly one of columns=[...] or prefix='channel_'.")
    if prefix is not None:
        columns = sorted((c for c in df.columns if str(c).startswith(prefix)), key=_natural_key)
        if not columns:
            raise JourneyValidationError(
                f"No column starts with prefix {prefix!r}. Columns found: {[str(c) for c in df.columns]}."
            )
    missing = [c for c in columns if c not in df.columns]
    for name, col in (("conversions", conversions), ("value", value), ("nulls", nulls)):
        if col is not None and col not in df.columns:
            missing.append(col)
    if missing:
        raise JourneyValidationError(
            f"from_wide: no column(s) {missing}. Columns found: {[str(c) for c in df.columns]}."
        )
    cells = df[list(columns)].astype(object).to_numpy()
    stripped = pd.DataFrame(cells).apply(lambda s: s.astype("string").str.strip())
    present = (stripped.notna() & (stripped != "")).to_numpy(dtype=bool)
    text = stripped.astype(object).to_numpy(dtype=object)
    flat = text[present]  # row-major: journeys back to back, in column order
    codes, names = pd.factorize(pd.Series(flat, dtype=object), sort=True)
    lengths = present.sum(axis=1)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    n = len(df)

    def numbers(col, default):
        if col is None:
            return np.full(n, default, dtype=np.float64)
        v = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(v) | (v < 0)
        if bad.any():
            raise JourneyValidationError(
                f"Column {col!r} must hold non-negative numbers; {int(bad.sum())} row(s) do not. "
                f"Example rows:\n{df.loc[bad].head(3).to_string()}"
            )
        return v

    conv = numbers(conversions, 1.0)
    return Journeys(
        np.asarray(names, dtype=object), codes.astype(np.int32), offsets, conv, numbers(nulls, 0.0),
        numbers(value, 0.0),
    )
