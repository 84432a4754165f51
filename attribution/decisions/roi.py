r"""Return on investment per channel: costs joined to attributed credit.

Costs come in any of three layouts, all read by :func:`normalise_costs`:

* per channel: a table ``channel, cost`` (or a Series / dict ``channel -> cost``);
* per channel and period: ``channel, date, cost`` (e.g. daily spend; ``day``, ``week``,
  ``month`` or ``period`` also name the period column);
* a cost column on touchpoints: the touchpoint log itself with a ``cost`` per touch (summed per
  channel, and per day of the ``timestamp``).

For each channel and model, with :math:`c` the channel's cost, :math:`n` and :math:`v` its
attributed conversions and value:

.. math::

    \mathrm{ROI} = \frac{v - c}{c}, \qquad \mathrm{ROAS} = \frac{v}{c}, \qquad
    \mathrm{CPA} = \frac{c}{n}.

Edge cases (the choices are deliberate and tested):

=================================  ===========  ===========  ==========================
case                               ROI          ROAS         CPA
=================================  ===========  ===========  ==========================
cost > 0, conversions > 0          formula      formula      formula
cost > 0, conversions <= 0         formula      formula      ``inf`` (spend, no result)
cost == 0 (unpaid), conversions>0  ``NaN``      ``NaN``      0
cost == 0, conversions <= 0        ``NaN``      ``NaN``      ``NaN``
cost unknown (no cost row)         ``NaN``      ``NaN``      ``NaN``
=================================  ===========  ===========  ==========================

A return on zero spend is undefined rather than infinite: unpaid channels (direct, organic,
store visits) cannot be ranked by ROI, and an ``inf`` would dominate every sort and plot. A
channel with touches but no cost row has cost ``NaN`` (unknown, not free), and a channel with
cost but no touches keeps its cost with zero conversions (ROI -1, CPA ``inf``): both are listed
in :attr:`ROIResult.unmatched`, never dropped. The ``"(no touch)"`` pseudo-channel (conversions
without any recorded touch) and the ``"(baseline)"`` row of incremental models have cost 0.

Estimands
---------
The ``estimand`` column says what the credit measures. For an *attributed* model (rules, Markov,
Shapley) the figures are attributed ROI, ROAS and CPA: observed conversions split over the
channels that touched them, per unit of cost. For an *incremental* model
(``estimand_ == "incremental"``) the same formulas on incremental credit give the incremental
ROI, the iROAS (incremental value per unit of cost) and the incremental CPA (cost per
conversion the channel caused); the text and plots name them so.
"""

from __future__ import annotations

import difflib
import html
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .._display import _estimand_sentence, _fmt, _html_table, _html_warnings, _metric_name
from .._validation import check_finite, example_rows, require_columns
from ..exceptions import DataQualityWarning, ParameterError, ParameterTypeError
from ..models.base import BASELINE, PSEUDO_CHANNELS, AttributionModel, _param_error, _warn_user, estimand_of

__all__ = ["ROIResult", "channel_roi", "normalise_costs", "ROI_COLUMNS"]

#: The columns of every ROI table, in order (interval columns follow when given).
ROI_COLUMNS = ("channel", "model", "estimand", "cost", "conversions", "value", "roi", "roas", "cpa")
_COST_NAMES = ("cost", "spend", "costs", "amount")
_PERIOD_NAMES = ("date", "day", "period", "week", "month", "timestamp", "time")
_UNMATCHED_COLUMNS = ["channel", "issue", "cost", "hint"]


# ---------------------------------------------------------------------------------------------
# costs
# ---------------------------------------------------------------------------------------------


def normalise_costs(
    costs,
    *,
    channel: str = "channel",
    cost: str | None = None,
    period: str | None | bool = None,
    freq: str | None = None,
) -> pd.DataFrame:
    """Costs in any accepted layout as one long table ``channel, period, cost``.

    Parameters
    ----------
    costs : DataFrame, Series or dict
        A table with a channel column and a cost column (and optionally a period column), or
        a Series / dict mapping channel to cost. Rows with the same channel (and period) are
        summed, so a touchpoint log with a cost per touch works as is.
    channel : str, default "channel"
        The channel column.
    cost : str, optional
        The cost column; by default the first of ``cost``, ``spend``, ``costs``, ``amount``.
    period : str, False or None
        The period column; by default the first of ``date``, ``day``, ``period``, ``week``,
        ``month``, ``timestamp``, ``time`` that exists. ``False``: ignore periods.
    freq : str, optional
        Group timestamped periods by this pandas frequency (``"D"``, ``"W"``, ``"MS"``).
        By default, timestamps with a time of day are floored to days; dates stay as they are.

    Returns
    -------
    DataFrame
        Columns ``channel`` (str, stripped), ``period`` (only when a period column exists:
        ``Timestamp`` when the periods parse as dates, else the labels as strings) and
        ``cost`` (float), one row per channel (and period), sorted.

    Raises
    ------
    TypeError
        If ``costs`` is not a DataFrame, Series or dict.
    ValueError
        When a column is missing, a channel is empty, or a cost is negative, missing or
        non-numeric (the message shows example rows and the fix).

    Examples
    --------
    >>> import pandas as pd
    >>> daily = pd.DataFrame({"day": ["2018-07-01", "2018-07-01", "2018-07-02"],
    ...                       "channel": ["Facebook", "Paid Search", "Facebook"],
    ...                       "cost": [10.0, 5.0, 12.5]})
    >>> normalise_costs(daily).groupby("channel")["cost"].sum().to_dict()
    {'Facebook': 22.5, 'Paid Search': 5.0}
    """
    if isinstance(costs, Mapping) and not isinstance(costs, pd.DataFrame):
        costs = pd.Series(dict(costs), dtype=object)
    if isinstance(costs, pd.Series):
        costs = pd.DataFrame({"channel": costs.index.astype(str), "cost": costs.to_numpy()})
        channel, cost, period = "channel", "cost", False
    if not isinstance(costs, pd.DataFrame):
        raise ParameterTypeError(
            "costs must be a DataFrame (channel, [period,] cost), a Series or a dict mapping "
            f"channel to cost. Got {type(costs).__name__} instead."
        )
    what = "the costs"
    if cost is None:
        found = [c for c in _COST_NAMES if c in costs.columns]
        if not found:
            raise ParameterError(
                f"{what} have no cost column: expected one of {list(_COST_NAMES)}. Columns found: "
                f"{[str(c) for c in costs.columns]}. Pass cost='<column name>'."
            )
        cost = found[0]
    if period is None:
        found = [c for c in _PERIOD_NAMES if c in costs.columns]
        period = found[0] if found else False
    require_columns(costs, {"channel": channel, "cost": cost, "period": period or None}, what)

    ch = costs[channel]
    bad = (ch.isna() | (ch.astype(str).str.strip() == "")).to_numpy(dtype=bool)
    if bad.any():
        raise ParameterError(
            f"Column {channel!r} of {what} has {int(bad.sum())} missing or empty channel name(s). "
            f"Example rows:\n{example_rows(costs, bad)}\nEvery cost row needs the channel it was spent on."
        )
    raw = costs[cost]
    num = pd.to_numeric(raw, errors="coerce")
    bad = (num.isna() | (num < 0)).to_numpy(dtype=bool)
    if bad.any():
        raise ParameterError(
            f"Column {cost!r} of {what} must hold non-negative numbers; {int(bad.sum())} value(s) are "
            f"negative, missing or not numbers. Example rows:\n{example_rows(costs, bad)}\n"
            f"Fill missing costs with 0 where nothing was spent (costs[{cost!r}].fillna(0)), convert "
            "text with pd.to_numeric, and net refunds out at the source."
        )
    check_finite(num.to_numpy(dtype=np.float64), cost, what, costs)
    out = pd.DataFrame({"channel": ch.astype(str).str.strip().to_numpy(), "cost": num.to_numpy(dtype=np.float64)})
    keys = ["channel"]
    if period:
        out["period"] = _parse_periods(costs, period, freq)
        keys = ["channel", "period"]
    out = out.groupby(keys, sort=True, as_index=False)["cost"].sum()
    return out[keys + ["cost"]]


def _parse_periods(costs: pd.DataFrame, column: str, freq: str | None) -> pd.Series:
    s = costs[column]
    bad = s.isna().to_numpy(dtype=bool)
    if bad.any():
        raise ParameterError(
            f"Column {column!r} of the costs has {int(bad.sum())} missing period(s). Example rows:\n"
            f"{example_rows(costs, bad)}\nFill the periods, or pass period=False to use totals per channel."
        )
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        ts = s
    else:
        try:
            ts = pd.to_datetime(s.astype(str), utc=True, format="ISO8601")
        except (ValueError, TypeError):
            ts = pd.to_datetime(s.astype(str), utc=True, errors="coerce", format="mixed")
        if ts.isna().any():  # labels such as "2018-W27": keep them as strings
            return s.astype(str).reset_index(drop=True)
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    ts = ts.reset_index(drop=True)
    if freq is not None:
        return ts.dt.to_period(freq).dt.start_time
    if (ts != ts.dt.normalize()).any():
        return ts.dt.floor("D")
    return ts


def _cost_by_channel(costs: pd.DataFrame) -> pd.Series:
    return costs.groupby("channel", sort=False)["cost"].sum()


# ---------------------------------------------------------------------------------------------
# credits in the long layout
# ---------------------------------------------------------------------------------------------


def _long_credits(credits, label: str | None = None) -> pd.DataFrame:
    """Credits of one or several models as ``model, channel, conversions, value[, *_low, *_high]``."""
    from .uncertainty import BootstrapResult

    if callable(getattr(type(credits), "_roi_credits", None)):  # a Comparison (imports run comparison -> roi)
        return credits._roi_credits()
    if isinstance(credits, Mapping):
        frames = [_long_credits(v, str(k)) for k, v in credits.items()]
        if not frames:
            raise ParameterError("No credits were given: the mapping of model name to credits is empty.")
        return pd.concat(frames, ignore_index=True)
    if isinstance(credits, BootstrapResult):
        cr = credits.credits
        cols = ["conversions", "conversions_low", "conversions_high", "value", "value_low", "value_high"]
        frame = cr[cols].reset_index()
        frame.insert(0, "estimand", estimand_of(credits.model))
        frame.insert(0, "model", label or credits.label)
        return frame
    if isinstance(credits, AttributionModel):
        frame = credits.credits_[["conversions", "value"]].reset_index()
        intervals = credits.__dict__.get("credit_intervals_")
        if isinstance(intervals, pd.DataFrame):
            cols = ["conversions_low", "conversions_high", "value_low", "value_high"]
            iv = intervals.reindex(columns=cols).reindex(frame["channel"])
            for c in cols:
                frame[c] = iv[c].to_numpy(dtype=np.float64)
            frame = frame[["channel", "conversions", "conversions_low", "conversions_high", "value", "value_low", "value_high"]]
        frame.insert(0, "estimand", estimand_of(credits))
        frame.insert(0, "model", label or credits.model_name or type(credits).__name__)
        return frame
    if isinstance(credits, pd.DataFrame):
        df = credits
        if "model" in df.columns:
            require_columns(df, {"channel": "channel", "conversions": "conversions", "value": "value"}, "the credits")
            out = df.reset_index(drop=True)
            if "estimand" not in out.columns:
                inc = out.groupby("model", sort=False)["channel"].transform(lambda s: (s == BASELINE).any())
                out.insert(1, "estimand", np.where(inc, "incremental", "attributed"))
            return out
        if "channel" in df.columns:
            df = df.set_index("channel")
        require_columns(df, {"conversions": "conversions", "value": "value"}, "the credits")
        keep = [c for c in df.columns if c.split("_")[0] in ("conversions", "value")]
        frame = df[keep].copy()
        frame.index = frame.index.astype(str)
        frame.index.name = "channel"
        frame = frame.reset_index()
        # a credits table with a "(baseline)" row comes from an incremental model
        frame.insert(0, "estimand", "incremental" if (frame["channel"] == BASELINE).any() else "attributed")
        frame.insert(0, "model", label or "model")
        return frame
    raise ParameterTypeError(
        "credits must be a fitted model, a credits DataFrame (index channel; columns conversions, "
        "value), a BootstrapResult, a Comparison, or a dict of these by model name. "
        f"Got {type(credits).__name__} instead."
    )


# ---------------------------------------------------------------------------------------------
# the arithmetic
# ---------------------------------------------------------------------------------------------


def _ratios(cost: np.ndarray, conversions: np.ndarray, value: np.ndarray):
    """ROI, ROAS and CPA with the documented edge cases (vectorised)."""
    cost = np.asarray(cost, dtype=np.float64)
    conversions = np.asarray(conversions, dtype=np.float64)
    value = np.asarray(value, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _ratios_unchecked(cost, conversions, value)


def _ratios_unchecked(cost, conversions, value):
    paid = cost > 0  # False for 0 and NaN
    safe_cost = np.where(paid, cost, 1.0)
    roi = np.where(paid, (value - cost) / safe_cost, np.nan)
    roas = np.where(paid, value / safe_cost, np.nan)
    has_conv = conversions > 0
    safe_conv = np.where(has_conv, conversions, 1.0)
    cpa = np.where(
        has_conv, cost / safe_conv,  # NaN cost stays NaN; zero cost gives 0
        np.where(paid, np.inf, np.nan),
    )
    return roi, roas, cpa


def _roi_table(long: pd.DataFrame, cost_by_channel: pd.Series) -> pd.DataFrame:
    """The long ROI table: every model × (its credit channels ∪ cost channels)."""
    models = list(dict.fromkeys(long["model"]))
    cost_channels = [str(c) for c in cost_by_channel.index]
    interval = "conversions_low" in long.columns
    frames = []
    for m in models:
        part = long[long["model"] == m].set_index("channel")
        est = str(part["estimand"].iloc[0]) if "estimand" in part.columns and len(part) else "attributed"
        chans = list(part.index)
        real = [c for c in chans if c not in PSEUDO_CHANNELS]
        extra = [c for c in cost_channels if c not in part.index]
        order = real + extra + [c for c in PSEUDO_CHANNELS if c in part.index]
        part = part.reindex(order)
        num_cols = [c for c in part.columns if c not in ("model", "estimand")]
        part[num_cols] = part[num_cols].astype(np.float64)
        # channels with cost but no credit row get 0 (and a 0-wide interval); a model without
        # intervals keeps NaN interval columns
        part.loc[extra, num_cols] = part.loc[extra, num_cols].fillna(0.0)
        part[["conversions", "value"]] = part[["conversions", "value"]].fillna(0.0)
        part["model"] = m
        part["estimand"] = est
        frames.append(part.reset_index())
    df = pd.concat(frames, ignore_index=True)
    cost = df["channel"].map(cost_by_channel).astype(np.float64)
    cost[df["channel"].isin(PSEUDO_CHANNELS)] = 0.0
    df["cost"] = cost.to_numpy()
    roi, roas, cpa = _ratios(df["cost"], df["conversions"], df["value"])
    df["roi"], df["roas"], df["cpa"] = roi, roas, cpa
    cols = list(ROI_COLUMNS)
    if interval:
        # percentile intervals are equivariant under monotone maps: transform the ends
        lo_roi, lo_roas, _ = _ratios(df["cost"], df["conversions_high"], df["value_low"])
        hi_roi, hi_roas, _ = _ratios(df["cost"], df["conversions_low"], df["value_high"])
        _, _, lo_cpa = _ratios(df["cost"], df["conversions_high"], df["value_low"])
        _, _, hi_cpa = _ratios(df["cost"], df["conversions_low"], df["value_high"])
        df["roi_low"], df["roi_high"] = lo_roi, hi_roi
        df["roas_low"], df["roas_high"] = lo_roas, hi_roas
        df["cpa_low"], df["cpa_high"] = lo_cpa, hi_cpa
        cols += [
            "conversions_low", "conversions_high", "value_low", "value_high",
            "roi_low", "roi_high", "roas_low", "roas_high", "cpa_low", "cpa_high",
        ]
    return df[cols]


def _unmatched(credit_channels, touched_channels, cost_by_channel: pd.Series) -> tuple[pd.DataFrame, list[str]]:
    """Channels with cost but no touches, and with touches but no cost, with hints."""
    cost_channels = [str(c) for c in cost_by_channel.index]
    touched = [c for c in touched_channels if c not in PSEUDO_CHANNELS]
    known = set(credit_channels) | set(touched)
    no_touch = [c for c in cost_channels if c not in set(touched)]
    no_cost = [c for c in dict.fromkeys(list(touched) + [c for c in credit_channels if c not in PSEUDO_CHANNELS])
               if c not in cost_by_channel.index]

    def hint(name, pool):
        low = {p.lower().strip(): p for p in pool}
        if name.lower().strip() in low:
            return f"same name as {low[name.lower().strip()]!r} up to case/spaces"
        close = difflib.get_close_matches(name, list(pool), n=1, cutoff=0.6)
        return f"did you mean {close[0]!r}?" if close else ""

    rows = [
        (c, "cost but no touches", float(cost_by_channel[c]), hint(c, no_cost)) for c in no_touch
    ] + [(c, "touches but no cost", np.nan, hint(c, no_touch)) for c in no_cost]
    table = pd.DataFrame(rows, columns=_UNMATCHED_COLUMNS)
    messages = []
    if no_touch:
        spent = sum(float(cost_by_channel[c]) for c in no_touch)
        absent = [c for c in no_touch if c not in known]
        messages.append(
            f"{len(no_touch)} channel(s) have cost but no touches in the journeys ({spent:,.2f} spent): "
            f"{no_touch}. They are kept with 0 conversions (ROI -1, CPA inf)."
            + (f" {len(absent)} of them are not a channel of the journeys at all: check the names." if absent else "")
        )
    if no_cost:
        messages.append(
            f"{len(no_cost)} channel(s) have touches but no cost row: {no_cost}. Their cost is unknown "
            "(NaN, so ROI, ROAS and CPA are NaN); add a cost of 0 for channels that are really unpaid."
        )
    for _, r in table[table["hint"] != ""].iterrows():
        messages.append(f"Channel {r['channel']!r} ({r['issue']}): {r['hint']}")
    return table, messages


# ---------------------------------------------------------------------------------------------
# the public function and result
# ---------------------------------------------------------------------------------------------


def channel_roi(
    credits,
    costs,
    *,
    journeys=None,
    channel: str = "channel",
    cost: str | None = None,
    period: str | None | bool = None,
    warn: bool = True,
    validity=None,
    value: str = "observed",
    clv=None,
) -> ROIResult:
    r"""ROI, ROAS and CPA per channel for one or several models' credits.

    Parameters
    ----------
    credits : fitted model, DataFrame, BootstrapResult, Comparison or dict of these
        Attributed conversions and value per channel: a fitted model (its ``credits_``), a
        credits DataFrame (index or column ``channel``; columns ``conversions`` and ``value``;
        or a long table with a ``model`` column), a :class:`~attribution.decisions.uncertainty.BootstrapResult`
        (the table then carries intervals), or a dict ``model name -> any of these``.
    costs : DataFrame, Series or dict
        Costs per channel, per channel and period, or a cost column on touchpoints (see
        :func:`normalise_costs`). Costs and credits should cover the same period.
    journeys : Journeys, optional
        The journeys the credits came from: channels with cost but *no touch* are then found
        from the touches themselves (otherwise from the credit tables).
    channel, cost, period
        Column names of ``costs`` (see :func:`normalise_costs`).
    warn : bool, default True
        Warn (:class:`~attribution.exceptions.DataQualityWarning`) when channels are unmatched.
    validity : ValidityResult, DataFrame or dict, optional
        A validity scorecard (:func:`attribution.decisions.scorecard.validity`) or a ``grade`` per channel:
        the table gains a ``grade`` column and channels graded D are flagged in the warnings
        and the plots (their incremental estimate is not trusted).
    value : {"observed", "clv"}, default "observed"
        ``"clv"``: lifetime ROI. The fitted model(s) in ``credits`` are refitted (as clones) on
        ``journeys`` whose value includes each customer's expected future value ``clv`` (see
        :func:`attribution.customers.clv_journeys`); needs ``journeys`` and fitted models.
    clv : CLVResult or Series, optional
        Expected future value per customer, with ``value="clv"``.

    Returns
    -------
    ROIResult
        ``table`` with columns ``channel, model, cost, conversions, value, roi, roas, cpa``
        (plus ``*_low``/``*_high`` intervals with bootstrap input), ``unmatched`` channels and
        ``warnings``.

    Notes
    -----
    :math:`ROI = (v - c)/c`, :math:`ROAS = v/c`, :math:`CPA = c/n`; zero and missing costs and
    zero conversions follow the table in the module docstring. With a bootstrap, cost is fixed
    and the interval ends are transformed: :math:`ROI \in [(v_{lo} - c)/c, (v_{hi} - c)/c]`,
    :math:`CPA \in [c / n_{hi}, c / n_{lo}]` (percentile intervals are equivariant under
    monotone maps).

    References
    ----------
    .. [1] Field survey §2.9 (budget reallocation from attributed value per cost) and §0
       (no open attribution tool joins costs to credit).

    Examples
    --------
    >>> import pandas as pd
    >>> credits = pd.DataFrame({"conversions": [10.0, 5.0], "value": [300.0, 50.0]},
    ...                        index=pd.Index(["search", "display"], name="channel"))
    >>> res = channel_roi(credits, {"search": 100.0, "display": 100.0})
    >>> res.table[["channel", "roi", "roas", "cpa"]]
       channel  roi  roas   cpa
    0   search  2.0   3.0  10.0
    1  display -0.5   0.5  20.0
    """
    if value not in ("observed", "clv"):
        raise ValueError(f"The 'value' parameter of channel_roi must be 'observed' or 'clv'. Got {value!r} instead.")
    if value == "clv":
        credits = _clv_credits(credits, journeys, clv)
    long = _long_credits(credits)
    cost_frame = normalise_costs(costs, channel=channel, cost=cost, period=period)
    by_channel = _cost_by_channel(cost_frame)
    table = _roi_table(long, by_channel)
    credit_channels = list(dict.fromkeys(long["channel"].astype(str)))
    if journeys is not None:
        counts = np.bincount(journeys.touch_channel, minlength=journeys.n_channels)
        touched = [str(c) for c, k in zip(journeys.channels, counts) if k > 0]
    else:
        touched = [c for c in credit_channels if c not in PSEUDO_CHANNELS]
    unmatched, messages = _unmatched(credit_channels, touched, by_channel)
    if validity is not None:
        grades = _grades(validity)
        table["grade"] = table["channel"].map(grades).astype(object)
        flagged = [c for c, g in grades.items() if g == "D" and c in set(table["channel"])]
        if flagged:
            messages.append(
                f"Channel(s) {flagged} are graded D by the validity scorecard: their incremental estimate (and so "
                "their ROI) is not trusted; budget plans hold them at today's spend unless overridden."
            )
    if warn:
        for m in messages:
            _warn_user(m, DataQualityWarning)
    return ROIResult(table, unmatched, messages, cost_frame)


def _grades(validity) -> dict[str, str]:
    """Grade per channel from a ValidityResult, a DataFrame with a ``grade`` column or a dict."""
    if isinstance(validity, Mapping):
        return {str(k): str(v) for k, v in validity.items()}
    table = getattr(validity, "table", validity)
    if isinstance(table, pd.DataFrame):
        if "grade" not in table.columns:
            raise ValueError(
                "The 'validity' parameter of plan_budget must be a validity scorecard (at.validity(...)) or a table "
                f"with a 'grade' column per channel. Columns found: {[str(c) for c in table.columns]}."
            )
        df = table.set_index("channel") if "channel" in table.columns else table
        return {str(k): str(v) for k, v in df["grade"].items()}
    raise TypeError(
        "The 'validity' parameter of plan_budget must be a ValidityResult (from at.validity), a DataFrame with a "
        f"'grade' column or a dict channel -> grade. Got {type(validity).__name__} instead."
    )


def _clv_credits(credits, journeys, clv):
    """Refit the fitted model(s) in ``credits`` on lifetime-value journeys (``value="clv"``)."""
    from sklearn.base import clone

    from ..clv import clv_journeys

    if journeys is None or clv is None:
        raise ValueError("channel_roi(value='clv') needs journeys= (from Journeys.from_events) and clv= (expected "
                         "future value per customer, e.g. CustomerTable.fit_clv()).")
    lj = clv_journeys(journeys, clv)
    items = credits.items() if isinstance(credits, dict) else [(None, credits)]
    out = {}
    for name, model in items:
        if not hasattr(model, "credits_") or not hasattr(model, "fit"):
            raise TypeError("channel_roi(value='clv') needs fitted model(s) (or a dict of them) to refit on lifetime "
                            f"value; got {type(model).__name__}. Use compare(..., value='clv') for other inputs.")
        out[name or type(model).__name__] = clone(model).fit(lj)
    return out if isinstance(credits, dict) else next(iter(out.values()))


class ROIResult:
    """ROI, ROAS and CPA per channel and model.

    Returned by :func:`channel_roi` (and held by :attr:`attribution.decisions.comparison.Comparison.roi_result`).

    Attributes
    ----------
    table : DataFrame
        Long table, columns ``channel, model, cost, conversions, value, roi, roas, cpa``
        (and interval columns ``*_low``/``*_high`` when bootstrap intervals were given).
    unmatched : DataFrame
        Channels with cost but no touches, or touches but no cost: columns ``channel, issue,
        cost, hint`` (``hint`` suggests a near-identical name in the other table).
    warnings : list of str
        The same facts in words.
    costs : DataFrame
        The normalised costs (``channel, [period,] cost``).
    """

    def __init__(self, table: pd.DataFrame, unmatched: pd.DataFrame, warnings: list[str], costs: pd.DataFrame):
        self.table = table
        self.unmatched = unmatched
        self.warnings = list(warnings)
        self.costs = costs

    @property
    def models(self) -> list[str]:
        """Model labels, in order."""
        return list(dict.fromkeys(self.table["model"]))

    @property
    def has_intervals(self) -> bool:
        """Whether the table carries bootstrap intervals."""
        return "roi_low" in self.table.columns

    def wide(self, metric: str = "roi") -> pd.DataFrame:
        """One metric as a channel × model table (channels in first-seen order)."""
        valid = [c for c in self.table.columns if c not in ("channel", "model")]
        if metric not in valid:
            raise _param_error("ROIResult.wide", "metric", f"one of {valid}", metric)
        out = self.table.pivot(index="channel", columns="model", values=metric)
        out = out.reindex(index=list(dict.fromkeys(self.table["channel"])), columns=self.models)
        out.columns.name = "model"
        return out

    @property
    def totals(self) -> pd.DataFrame:
        """Blended figures per model: all credited conversions and value over all known cost.

        Columns ``cost, conversions, value, roi, roas, cpa`` (conversions and value include
        unpaid channels and ``"(no touch)"``; cost sums the channels with a known cost).
        """
        g = self.table.groupby("model", sort=False)
        out = pd.DataFrame({
            "cost": g["cost"].sum(min_count=1),
            "conversions": g["conversions"].sum(),
            "value": g["value"].sum(),
        })
        out["roi"], out["roas"], out["cpa"] = _ratios(out["cost"], out["conversions"], out["value"])
        return out

    @property
    def estimands(self) -> pd.Series:
        """The estimand of each model's credit (``"attributed"`` or ``"incremental"``)."""
        if "estimand" not in self.table.columns:
            return pd.Series("attributed", index=self.models, name="estimand", dtype=object)
        return self.table.groupby("model", sort=False)["estimand"].first().reindex(self.models).rename("estimand")

    def _estimand_line(self) -> str:
        return _estimand_sentence(self.estimands)

    def summary(self) -> str:
        """A plain-text summary: ROI per channel and model, blended totals and warnings."""
        parts = [self._estimand_line(), "",
                 f"{_metric_name('roi', self.estimands)} = (value - cost) / cost per channel and model:",
                 _fmt(self.wide("roi"), "{:.2f}")]
        parts += ["", f"{_metric_name('cpa', self.estimands)} = cost / conversions:", _fmt(self.wide("cpa"), "{:,.2f}")]
        parts += ["", "Blended totals per model:", _fmt(self.totals, "{:,.2f}")]
        if self.warnings:
            parts += ["", "Warnings:"] + [f"- {w}" for w in self.warnings]
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        name = html.escape(_metric_name("roi", self.estimands))
        out = [f"<div><p>{html.escape(self._estimand_line())}</p>",
               f"<p><b>{name} per channel and model</b> (ROI = (value &minus; cost) / cost)</p>",
               _html_table(self.wide("roi"), default="{:.2f}"),
               "<p><b>Blended totals</b></p>", _html_table(self.totals, default="{:,.2f}")]
        out += _html_warnings(self.warnings)
        return "".join(out) + "</div>"

    def __repr__(self) -> str:
        return f"<ROIResult: {self.table['channel'].nunique()} channels × {len(self.models)} models>"

    def plot(self, metric: str = "roi", *, ax=None):
        """ROI (or ``roas``, ``cpa``) per channel, one bar per model (see
        :func:`attribution.plotting.decisions.plot_roi`)."""
        from ..plotting.decisions import plot_roi

        return plot_roi(self.table, metric=metric, ax=ax)
