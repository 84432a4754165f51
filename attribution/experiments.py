r"""Experiments that measure incrementality: lift tests, geo tests and their design.

An experiment identifies a channel's incremental effect whatever the data-generating process;
:func:`attribution.calibrate` uses its result to correct a model's credit.

* :class:`LiftTest` is one experiment's result: the incremental outcome a channel caused over
  ``[start, end]``, its standard error, and the channel's spend in the same scope. User-holdout,
  ghost-ad and geo tests all reduce to it. :func:`read_lift_tests` reads a table of them (the CSV
  layout below) and checks it; :func:`lift_tests_frame` writes one.
* :func:`geo_test` estimates a geo experiment on a geo × day panel by time-based regression
  (``"tbr"``) or a synthetic control with non-negative weights (``"scm"``), with placebo-geo
  inference; the outcome is any numeric column (online conversions, store sales, ...).
* :func:`holdout_power`, :func:`holdout_mde`, :func:`holdout_se` and :func:`geo_mde` size tests
  before they run.

The test table (CSV layout)
---------------------------
One row per test, columns (``spend``, ``kind``, ``outcome`` and ``name`` are optional):

===========  ====================================================================================
column       meaning
===========  ====================================================================================
channel      the tested channel, spelled as in the journeys
start, end   first and last day of the test (ISO dates, ``end`` inclusive)
incremental  incremental outcome the channel caused over the test, in the scope of ``spend``
             (e.g. a holdout's lift per person × the people the channel reaches)
se           its standard error (> 0; ``inf`` = no information)
spend        the channel's spend in the same scope and days (scales the test to the model's
             period; empty = unknown)
kind         ``holdout``, ``geo``, ``ghost_ads`` or ``other`` (default ``holdout``)
outcome      what ``incremental`` counts: ``conversions`` (default), ``value``,
             ``store_conversions``, ``store_value``, ``online_conversions``, ``online_value``
name         a label (optional)
===========  ====================================================================================
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ._validation import example_rows
from .exceptions import ExperimentError

__all__ = [
    "GeoTestResult",
    "KINDS",
    "LiftTest",
    "OUTCOMES",
    "TEST_COLUMNS",
    "geo_mde",
    "geo_test",
    "holdout_mde",
    "holdout_power",
    "holdout_se",
    "lift_tests_frame",
    "read_lift_tests",
]

#: Kinds of experiment a :class:`LiftTest` can come from.
KINDS = ("holdout", "geo", "ghost_ads", "other")
#: What a test's ``incremental`` counts.
OUTCOMES = ("conversions", "value", "store_conversions", "store_value", "online_conversions", "online_value")
#: The columns of the test table, in order.
TEST_COLUMNS = ("channel", "start", "end", "incremental", "se", "spend", "kind", "outcome", "name")


def _timestamp(value, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        ts = pd.NaT
    if ts is pd.NaT or pd.isna(ts):
        raise ExperimentError(f"The {what!r} of a LiftTest must be a date such as '2026-03-01'. Got {value!r} instead.")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


@dataclass(frozen=True)
class LiftTest:
    r"""The result of one experiment on one channel.

    Parameters
    ----------
    channel : str
        The tested channel.
    start, end : date-like
        First and last day of the test (``end`` inclusive).
    incremental : float
        Incremental outcome (conversions, value, ... see ``outcome``) the channel caused over the
        test, in the scope of ``spend``. May be negative (a noisy test of a weak channel).
    se : float
        Standard error of ``incremental`` (> 0; ``math.inf`` carries no information).
    spend : float, optional
        The channel's spend in the same scope and days; :func:`attribution.calibrate` scales the
        test to the model's period by the ratio of spends.
    kind : {"holdout", "geo", "ghost_ads", "other"}, default "holdout"
    outcome : str, default "conversions"
        One of :data:`OUTCOMES`.
    name : str, optional
        A label.
    meta : dict, optional
        Anything else (the simulator stores the true effect under ``"true_incremental"``).

    Examples
    --------
    >>> t = LiftTest("video", "2026-03-01", "2026-03-28", incremental=120.0, se=30.0, spend=5000.0)
    >>> t.days, t.z
    (28, 4.0)
    """

    channel: str
    start: Any
    end: Any
    incremental: float = math.nan
    se: float = math.inf
    spend: float | None = None
    kind: str = "holdout"
    outcome: str = "conversions"
    name: str = ""
    meta: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        if not isinstance(self.channel, str) or not self.channel.strip():
            raise ExperimentError(f"The 'channel' of a LiftTest must be a non-empty channel name. Got {self.channel!r} instead.")
        set_("channel", self.channel.strip())
        start, end = _timestamp(self.start, "start"), _timestamp(self.end, "end")
        if end < start:
            raise ExperimentError(f"LiftTest for {self.channel!r}: 'end' ({end.date()}) is before 'start' ({start.date()}). Swap them.")
        set_("start", start)
        set_("end", end)
        for key in ("incremental", "se"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise ExperimentError(f"The {key!r} of the LiftTest for {self.channel!r} must be a number. Got {v!r} instead.")
            set_(key, float(v))
        if not math.isfinite(self.incremental):
            raise ExperimentError(f"The 'incremental' of the LiftTest for {self.channel!r} must be a finite number. Got {self.incremental!r} instead.")
        if math.isnan(self.se) or self.se <= 0:
            raise ExperimentError(
                f"The 'se' of the LiftTest for {self.channel!r} must be a positive standard error (inf for no "
                f"information). Got {self.se!r} instead."
            )
        if self.spend is not None:
            s = float(self.spend)
            if math.isnan(s):
                s = None
            elif s < 0 or math.isinf(s):
                raise ExperimentError(f"The 'spend' of the LiftTest for {self.channel!r} must be a non-negative amount. Got {self.spend!r} instead.")
            set_("spend", s)
        if self.kind not in KINDS:
            raise ExperimentError(f"The 'kind' of the LiftTest for {self.channel!r} must be one of {list(KINDS)}. Got {self.kind!r} instead.")
        if self.outcome not in OUTCOMES:
            raise ExperimentError(f"The 'outcome' of the LiftTest for {self.channel!r} must be one of {list(OUTCOMES)}. Got {self.outcome!r} instead.")

    @property
    def days(self) -> int:
        """Length of the test in days (both ends included)."""
        return int((self.end.normalize() - self.start.normalize()).days) + 1

    @property
    def z(self) -> float:
        """``incremental / se``."""
        return self.incremental / self.se

    @property
    def label(self) -> str:
        """``name``, or ``channel kind start..end``."""
        return self.name or f"{self.channel} {self.kind} {self.start.date()}..{self.end.date()}"

    def interval(self, level: float = 0.9) -> tuple[float, float]:
        """Normal interval for ``incremental``."""
        q = stats.norm.ppf(0.5 + level / 2)
        return self.incremental - q * self.se, self.incremental + q * self.se

    def to_dict(self) -> dict:
        """One row of the test table."""
        return {"channel": self.channel, "start": self.start.date().isoformat(), "end": self.end.date().isoformat(),
                "incremental": self.incremental, "se": self.se, "spend": np.nan if self.spend is None else self.spend,
                "kind": self.kind, "outcome": self.outcome, "name": self.name}


def lift_tests_frame(tests: Iterable[LiftTest]) -> pd.DataFrame:
    """The tests as a table in the CSV layout (:data:`TEST_COLUMNS`); write it with ``to_csv(index=False)``."""
    return pd.DataFrame([t.to_dict() for t in _as_tests(tests)], columns=list(TEST_COLUMNS))


def _as_tests(tests) -> list[LiftTest]:
    if isinstance(tests, LiftTest):
        return [tests]
    if isinstance(tests, (str, Path, pd.DataFrame)):
        return read_lift_tests(tests)
    if isinstance(tests, GeoTestResult):
        return [tests.to_lift_test()]
    out = []
    for t in tests:
        if isinstance(t, GeoTestResult):
            t = t.to_lift_test()
        if not isinstance(t, LiftTest):
            raise TypeError(f"tests must be LiftTest objects, a test table or a CSV path. Got an item of type {type(t).__name__}.")
        out.append(t)
    return out


def read_lift_tests(source) -> list[LiftTest]:
    """Read and check a test table (a CSV path or a DataFrame in the layout of the module docstring).

    Raises
    ------
    ExperimentError
        Naming the column, the offending rows and the fix, for a missing column, a missing or
        non-numeric ``incremental``/``se``, a non-positive ``se``, a negative ``spend``, an
        unparsable or reversed date range, or an unknown ``kind``/``outcome``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"channel": ["video"], "start": ["2026-03-01"], "end": ["2026-03-28"],
    ...                    "incremental": [120.0], "se": [30.0]})
    >>> read_lift_tests(df)[0].outcome
    'conversions'
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise ExperimentError(f"Test table not found: {str(path)!r}. Give a CSV with columns {list(TEST_COLUMNS)}.")
        df = pd.read_csv(path, dtype={"channel": "str", "kind": "str", "outcome": "str", "name": "str"})
    elif isinstance(source, pd.DataFrame):
        df = source.copy()
    else:
        raise TypeError(f"read_lift_tests expects a CSV path or a DataFrame. Got {type(source).__name__} instead.")
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in ("channel", "start", "end", "incremental", "se") if c not in df.columns]
    if missing:
        raise ExperimentError(
            f"The test table has no column(s) {missing}. Columns found: {list(df.columns)}. Expected "
            f"{list(TEST_COLUMNS)} (spend, kind, outcome and name optional)."
        )
    if df.empty:
        raise ExperimentError("The test table has no rows: give at least one test.")
    df = df.reset_index(drop=True)

    def fail(mask, column, problem, fix):
        raise ExperimentError(
            f"Column {column!r} of the test table {problem} in {int(np.sum(mask))} row(s). Example rows:\n"
            f"{example_rows(df, mask)}\n{fix}"
        )

    ch = df["channel"]
    bad = (ch.isna() | (ch.astype(str).str.strip() == "")).to_numpy()
    if bad.any():
        fail(bad, "channel", "is missing", "Every test needs the channel it tested, spelled as in the journeys.")
    dates = {}
    for col in ("start", "end"):
        d = pd.to_datetime(df[col].astype(str).str.strip(), errors="coerce", format="ISO8601")
        bad = d.isna().to_numpy()
        if bad.any():
            fail(bad, col, "is not a date", "Write dates as YYYY-MM-DD.")
        dates[col] = d
    bad = (dates["end"] < dates["start"]).to_numpy()
    if bad.any():
        fail(bad, "end", "is before 'start'", "Swap start and end (end is the last day of the test, inclusive).")
    nums = {}
    for col in ("incremental", "se", "spend"):
        if col not in df.columns:
            continue
        v = pd.to_numeric(df[col], errors="coerce")
        raw_missing = df[col].isna().to_numpy()
        if col != "spend":
            bad = v.isna().to_numpy() | (~np.isfinite(v.to_numpy(dtype=float)) & (col == "incremental"))
            if bad.any():
                fail(bad, col, "is missing or not a number", "Fill it with the test's estimate and standard error.")
        else:
            bad = v.isna().to_numpy() & ~raw_missing
            if bad.any():
                fail(bad, col, "is not a number", "Write the spend as a plain number, or leave it empty when unknown.")
        nums[col] = v
    bad = (nums["se"] <= 0).to_numpy()
    if bad.any():
        fail(bad, "se", "is not positive", "A standard error must be > 0; write inf for a test without information.")
    if "spend" in nums:
        bad = (nums["spend"] < 0).to_numpy() | np.isinf(nums["spend"].to_numpy(dtype=float))
        if bad.any():
            fail(bad, "spend", "is negative or infinite", "Give the channel's spend during the test in the test's scope.")
    for col, allowed, default in (("kind", KINDS, "holdout"), ("outcome", OUTCOMES, "conversions")):
        if col not in df.columns:
            df[col] = default
        s = df[col].fillna(default).astype(str).str.strip().str.lower()
        df[col] = s
        bad = ~s.isin(allowed).to_numpy()
        if bad.any():
            fail(bad, col, f"has a value outside {list(allowed)}", f"Use one of {list(allowed)}.")
    names = df["name"].fillna("").astype(str) if "name" in df.columns else pd.Series([""] * len(df))
    spend = nums.get("spend")
    return [
        LiftTest(
            str(df["channel"].iloc[i]).strip(), dates["start"].iloc[i], dates["end"].iloc[i],
            incremental=float(nums["incremental"].iloc[i]), se=float(nums["se"].iloc[i]),
            spend=None if spend is None or pd.isna(spend.iloc[i]) else float(spend.iloc[i]),
            kind=df["kind"].iloc[i], outcome=df["outcome"].iloc[i], name=names.iloc[i],
        )
        for i in range(len(df))
    ]


# ---------------------------------------------------------------------------------------------
# test design: holdout tests (two proportions)
# ---------------------------------------------------------------------------------------------


def _check_share(v, name, owner):
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0.0 < float(v) < 1.0:
        raise ValueError(f"The {name!r} parameter of {owner} must be a number strictly between 0 and 1. Got {v!r} instead.")
    return float(v)


def holdout_power(rate, lift, n, *, holdout=0.1, alpha=0.1) -> float:
    r"""Power of a user-holdout test (two proportions, two-sided z-test).

    Parameters
    ----------
    rate : float
        Conversion probability of a held-out person over the test, :math:`p_0`.
    lift : float
        Relative lift of the exposed group: :math:`p_1 = p_0 (1 + \text{lift})`.
    n : int
        People in the test (exposed and held out).
    holdout : float, default 0.1
        Share held out.
    alpha : float, default 0.1
        Two-sided significance level.

    Notes
    -----
    The test is the classic two-proportion z-test with the variance pooled under the null. With
    :math:`n_1 = (1-h)n`, :math:`n_0 = hn`, :math:`\delta = p_1 - p_0`,
    :math:`\bar p = (n_1 p_1 + n_0 p_0)/n`, :math:`\sigma_0 = \sqrt{\bar p(1-\bar p)(1/n_1 + 1/n_0)}`
    (null) and :math:`\sigma_1 = \sqrt{p_1(1-p_1)/n_1 + p_0(1-p_0)/n_0}` (alternative),

    .. math:: \text{power} = \Phi\Big(\frac{\delta - z_{1-\alpha/2}\sigma_0}{\sigma_1}\Big)
              + \Phi\Big(\frac{-\delta - z_{1-\alpha/2}\sigma_0}{\sigma_1}\Big).

    References
    ----------
    Fleiss, J. L., Levin, B. & Paik, M. C. (2003). *Statistical Methods for Rates and Proportions*,
    3rd ed., §4.2.

    Examples
    --------
    >>> round(holdout_power(0.05, 0.2, 100_000, holdout=0.1, alpha=0.1), 3)
    0.995
    """
    p0 = _check_share(rate, "rate", "holdout_power")
    h = _check_share(holdout, "holdout", "holdout_power")
    a = _check_share(alpha, "alpha", "holdout_power")
    p1 = p0 * (1.0 + float(lift))
    if not 0.0 <= p1 <= 1.0:
        raise ValueError(f"rate × (1 + lift) must be a probability; got {p1!r}.")
    n1, n0 = (1 - h) * n, h * n
    pbar = (n1 * p1 + n0 * p0) / n
    s0 = math.sqrt(pbar * (1 - pbar) * (1 / n1 + 1 / n0))
    s1 = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    z = stats.norm.ppf(1 - a / 2)
    d = p1 - p0
    return float(stats.norm.cdf((d - z * s0) / s1) + stats.norm.cdf((-d - z * s0) / s1))


def holdout_mde(rate, n, *, holdout=0.1, alpha=0.1, power=0.8) -> float:
    """Smallest relative lift a holdout test detects with the given power (see :func:`holdout_power`).

    Examples
    --------
    >>> mde = holdout_mde(0.05, 100_000)
    >>> round(holdout_power(0.05, mde, 100_000), 6)
    0.8
    """
    _check_share(power, "power", "holdout_mde")
    p0 = _check_share(rate, "rate", "holdout_mde")
    hi = 1.0 / p0 - 1.0
    f = lambda lift: holdout_power(rate, lift, n, holdout=holdout, alpha=alpha) - power  # noqa: E731
    if f(hi * (1 - 1e-12)) < 0:
        return math.inf
    return float(optimize.brentq(f, 1e-12, hi * (1 - 1e-12), xtol=1e-12))


def holdout_se(rate, n, *, holdout=0.1, population=None) -> float:
    r"""Expected standard error of a holdout test's incremental conversions.

    ``population × sqrt(p(1-p) (1/n_1 + 1/n_0))`` with ``p = rate`` (conversions per person over
    the test) and the people split ``1 - holdout : holdout``; ``population`` defaults to ``n``.
    """
    p = float(rate)
    h = _check_share(holdout, "holdout", "holdout_se")
    pop = n if population is None else population
    return float(pop * math.sqrt(p * (1 - p) * (1 / ((1 - h) * n) + 1 / (h * n))))


# ---------------------------------------------------------------------------------------------
# geo tests
# ---------------------------------------------------------------------------------------------


def _tbr(y_pre, X_pre, X_post):
    """Time-based regression: treated total on control total, pre period; prediction in the test."""
    x = X_pre.sum(axis=1)
    A = np.column_stack([np.ones_like(x), x])
    coef, *_ = np.linalg.lstsq(A, y_pre, rcond=None)
    return coef[0] + coef[1] * X_post.sum(axis=1), coef


def _scm(y_pre, X_pre, X_post):
    """Synthetic control: non-negative weights on control geos plus a free intercept (NNLS)."""
    n = X_pre.shape[0]
    scale = max(float(np.abs(y_pre).mean()), 1e-12)
    A = np.column_stack([X_pre, np.ones(n) * scale, -np.ones(n) * scale])
    w, _ = optimize.nnls(A, y_pre, maxiter=50 * A.shape[1])
    weights, icpt = w[:-2], (w[-2] - w[-1]) * scale
    return X_post @ weights + icpt, weights


_METHODS = {"tbr": _tbr, "scm": _scm}


@dataclass
class GeoTestResult:
    """A geo experiment's estimate, placebo inference and counterfactual (returned by :func:`geo_test`).

    Attributes
    ----------
    method : str
    outcome : str
    incremental : float
        Treated geos' outcome over the test minus the counterfactual.
    lift : float
        ``incremental / counterfactual total``.
    lift_low, lift_high, incremental_low, incremental_high : float
        Placebo-geo interval at ``level``.
    se : float
        Standard deviation of the placebo estimates (scaled to this test's counterfactual).
    p_value : float
        Two-sided placebo p-value.
    placebo_lifts : ndarray
        Lift estimates of the placebo assignments.
    series : DataFrame
        Per day: ``treated`` (observed total), ``counterfactual``, ``in_test``.
    """

    method: str
    outcome: str
    channel: str | None
    start: pd.Timestamp
    end: pd.Timestamp
    treated: list
    controls: list
    incremental: float
    lift: float
    lift_low: float
    lift_high: float
    incremental_low: float
    incremental_high: float
    se: float
    p_value: float
    level: float
    placebo_lifts: np.ndarray
    series: pd.DataFrame
    spend: float | None = None
    weights: pd.Series | None = None

    @property
    def summary(self) -> pd.Series:
        """The figures as one Series."""
        return pd.Series({
            "method": self.method, "outcome": self.outcome, "channel": self.channel,
            "treated_geos": len(self.treated), "control_geos": len(self.controls),
            "test_days": int((self.end - self.start).days) + 1, "incremental": self.incremental,
            "incremental_low": self.incremental_low, "incremental_high": self.incremental_high,
            "se": self.se, "lift": self.lift, "lift_low": self.lift_low, "lift_high": self.lift_high,
            "p_value": self.p_value, "placebos": len(self.placebo_lifts), "level": self.level,
        }, dtype=object)

    def to_lift_test(self, channel: str | None = None, *, spend: float | None = None, outcome: str | None = None) -> LiftTest:
        """This result as a :class:`LiftTest` (``kind="geo"``)."""
        ch = channel or self.channel
        if not ch:
            raise ValueError("Name the tested channel: to_lift_test(channel='...') (geo_test was run without channel=).")
        out = outcome or (self.outcome if self.outcome in OUTCOMES else "conversions")
        return LiftTest(ch, self.start, self.end, incremental=self.incremental, se=self.se,
                        spend=self.spend if spend is None else spend, kind="geo", outcome=out,
                        meta={"lift": self.lift, "p_value": self.p_value, "method": self.method})

    def plot(self, ax=None):
        """Treated total and its counterfactual per day, the test period shaded. Returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(8, 3.5))
        s = self.series
        ax.plot(s.index, s["treated"], color="C0", lw=1.4, label="treated geos (observed)")
        ax.plot(s.index, s["counterfactual"], color="C1", lw=1.2, ls="--", label=f"counterfactual ({self.method.upper()})")
        ax.axvspan(self.start, self.end, color="0.9", zorder=0, label="test period")
        ax.set_ylabel(f"{self.outcome} per day")
        ax.set_title(f"Geo test: lift {self.lift:+.1%} [{self.lift_low:+.1%}, {self.lift_high:+.1%}], "
                     f"placebo p = {self.p_value:.3f}")
        ax.legend(loc="upper left", fontsize=8)
        ax.figure.autofmt_xdate()
        return ax

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>"
                       for k, v in self.summary.items())
        return f"<div><p><b>Geo test ({html.escape(self.method.upper())})</b></p><table>{rows}</table></div>"

    def __repr__(self) -> str:
        return (f"<GeoTestResult {self.method}: lift {self.lift:+.2%} [{self.lift_low:+.2%}, {self.lift_high:+.2%}], "
                f"incremental {self.incremental:,.1f}, p={self.p_value:.3f}>")


def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{v:,.4g}"
    return str(v)


def _panel(data, geo, date, outcome):
    from ._validation import require_columns

    require_columns(data, {"geo": geo, "date": date, "outcome": outcome}, "the geo panel")
    y = pd.to_numeric(data[outcome], errors="coerce")
    bad = y.isna().to_numpy() | ~np.isfinite(y.to_numpy(dtype=float))
    if bad.any():
        raise ExperimentError(
            f"Column {outcome!r} of the geo panel must hold numbers; {int(bad.sum())} row(s) are missing or not numbers. "
            f"Example rows:\n{example_rows(data, bad)}\nFill or drop them (a geo-day without sales is 0)."
        )
    d = pd.to_datetime(data[date], errors="coerce")
    bad = d.isna().to_numpy()
    if bad.any():
        raise ExperimentError(f"Column {date!r} of the geo panel has {int(bad.sum())} unparsable date(s). Example rows:\n"
                              f"{example_rows(data, bad)}\nWrite dates as YYYY-MM-DD.")
    frame = pd.DataFrame({"geo": data[geo].astype(str).to_numpy(), "date": d.dt.normalize().to_numpy(), "y": y.to_numpy(float)})
    wide = frame.pivot_table(index="date", columns="geo", values="y", aggfunc="sum")
    if wide.isna().any().any():
        holes = int(wide.isna().sum().sum())
        raise ExperimentError(
            f"The geo panel is not complete: {holes} geo-day(s) have no row. Every geo needs a row for every day "
            "(fill missing days with 0 if nothing was sold)."
        )
    return wide.sort_index()


def geo_test(
    data: pd.DataFrame,
    treated,
    start,
    end,
    *,
    geo: str = "geo",
    date: str = "date",
    outcome: str = "y",
    method: str = "tbr",
    pre_start=None,
    channel: str | None = None,
    spend: float | None = None,
    n_placebo: int = 200,
    level: float = 0.9,
    random_state=0,
) -> GeoTestResult:
    r"""Estimate a geo experiment and its placebo-geo interval.

    Parameters
    ----------
    data : DataFrame
        Long panel, one row per geo and day (columns ``geo``, ``date``, ``outcome``).
    treated : iterable
        The geos where the channel changed (e.g. switched on or raised) during the test.
    start, end : date-like
        First and last day of the test (``end`` inclusive). Days before ``start`` (from
        ``pre_start``) are the pre period the counterfactual is fitted on; later days are ignored.
    outcome : str, default "y"
        The outcome column: online conversions, store sales or any other number per geo-day.
    method : {"tbr", "scm"}, default "tbr"
        ``"tbr"``: time-based regression of the treated total on the control total in the pre
        period (Kerman et al. 2017). ``"scm"``: synthetic control, the treated total as a
        non-negative combination of control geos plus an intercept (NNLS; Abadie et al. 2010,
        Doudchenko & Imbens 2016).
    channel, spend : optional
        The tested channel and its (incremental) spend in the treated geos over the test, carried
        to :meth:`GeoTestResult.to_lift_test`.
    n_placebo : int, default 200
        Placebo assignments: random sets of as many control geos as treated ones (at most half the
        controls) play the treated role, the other controls the controls.
    level : float, default 0.9

    Returns
    -------
    GeoTestResult

    Notes
    -----
    With :math:`y_t` the treated total and :math:`\hat y_t` its counterfactual, the incremental
    outcome is :math:`\sum_{t \in \text{test}} (y_t - \hat y_t)` and the lift
    :math:`\hat\ell = \sum (y_t - \hat y_t) / \sum \hat y_t`. Under no effect the placebo
    estimates :math:`\hat\ell_k` share the estimate's distribution when the treated geos were
    assigned at random (exchangeable geos), so the p-value is
    :math:`(1 + \#\{|\hat\ell_k| \ge |\hat\ell|\})/(K + 1)` and the interval is
    :math:`[\hat\ell - q_{1-\alpha/2}, \hat\ell - q_{\alpha/2}]` of the placebo estimates
    (test inversion under a constant additive lift). Placebos use fewer controls than the real
    estimate, so the interval is slightly conservative. The ``se`` is the placebo standard
    deviation times the counterfactual total.

    References
    ----------
    Kerman, J., Wang, P. & Vaver, J. (2017). Estimating ad effectiveness using geo experiments
    in a time-based regression framework. Google. Abadie, A., Diamond, A. & Hainmueller, J.
    (2010). Synthetic control methods for comparative case studies. JASA 105, 493-505.
    Doudchenko, N. & Imbens, G. (2016). Balancing, regression, difference-in-differences and
    synthetic control methods: a synthesis. NBER w22791.

    Examples
    --------
    >>> from attribution.datasets import simulate_geo
    >>> panel = simulate_geo(random_state=1)
    >>> res = geo_test(panel.data, panel.treated, panel.start, panel.end, outcome="store_sales")
    >>> bool(res.lift_low < panel.true_lift("store_sales") < res.lift_high)
    True
    """
    from .decisions.uncertainty import check_random_state

    if method not in _METHODS:
        raise ValueError(f"The 'method' parameter of geo_test must be one of {sorted(_METHODS)}. Got {method!r} instead.")
    if isinstance(n_placebo, bool) or not isinstance(n_placebo, numbers.Integral) or n_placebo < 19:
        raise ValueError(f"The 'n_placebo' parameter of geo_test must be an integer of at least 19. Got {n_placebo!r} instead.")
    _check_share(level, "level", "geo_test")
    wide = _panel(data, geo, date, outcome)
    start, end = _timestamp(start, "start").normalize(), _timestamp(end, "end").normalize()
    first = wide.index[0] if pre_start is None else _timestamp(pre_start, "pre_start").normalize()
    wide = wide[(wide.index >= first) & (wide.index <= end)]
    treated = [str(g) for g in (treated if not isinstance(treated, (str, bytes)) else [treated])]
    unknown = [g for g in treated if g not in wide.columns]
    if unknown:
        raise ExperimentError(f"Treated geo(s) {unknown[:5]} are not in the panel's {geo!r} column. Geos found: {list(wide.columns[:10])}...")
    controls = [g for g in wide.columns if g not in set(treated)]
    pre = np.asarray(wide.index < start)
    post = np.asarray(wide.index >= start)
    if pre.sum() < 14:
        raise ExperimentError(f"The geo test needs at least 14 pre-period days before {start.date()}; the panel has {int(pre.sum())}.")
    if not post.any():
        raise ExperimentError(f"The panel has no day in the test period {start.date()}..{end.date()}.")
    if len(controls) < 4:
        raise ExperimentError(f"The geo test needs at least 4 control geos; the panel has {len(controls)}.")
    fit = _METHODS[method]
    Y = wide.to_numpy(dtype=np.float64)
    col = {g: i for i, g in enumerate(wide.columns)}
    ti = np.array([col[g] for g in treated])
    ci = np.array([col[g] for g in controls])

    def estimate(t_idx, c_idx):
        y = Y[:, t_idx].sum(axis=1)
        pred, coef = fit(y[pre], Y[pre][:, c_idx], Y[post][:, c_idx])
        cf = float(pred.sum())
        return (float(y[post].sum()) - cf) / cf if cf > 0 else np.nan, pred, coef, y

    lift, pred, coef, y = estimate(ti, ci)
    rng = check_random_state(random_state)
    m = min(len(ti), len(ci) // 2)
    placebo = np.empty(int(n_placebo))
    for k in range(int(n_placebo)):
        perm = rng.permutation(ci)
        placebo[k] = estimate(perm[:m], perm[m:])[0]
    placebo = placebo[np.isfinite(placebo)]
    cf_total = float(pred.sum())
    incremental = float(y[post].sum() - cf_total)
    a = (1 - level) / 2
    q_lo, q_hi = np.quantile(placebo, [a, 1 - a])
    lift_low, lift_high = lift - q_hi, lift - q_lo
    p_value = float((1 + np.sum(np.abs(placebo) >= abs(lift))) / (placebo.size + 1))
    pre_fit = fit(y[pre], Y[pre][:, ci], Y[:, ci])[0]
    series = pd.DataFrame({"treated": y, "counterfactual": pre_fit, "in_test": post}, index=wide.index)
    weights = pd.Series(coef, index=controls, name="weight") if method == "scm" else None
    return GeoTestResult(
        method=method, outcome=outcome, channel=channel, start=start, end=end, treated=treated, controls=controls,
        incremental=incremental, lift=float(lift), lift_low=float(lift_low), lift_high=float(lift_high),
        incremental_low=float(lift_low * cf_total), incremental_high=float(lift_high * cf_total),
        se=float(np.std(placebo, ddof=1) * cf_total), p_value=p_value, level=float(level), placebo_lifts=placebo,
        series=series, spend=spend, weights=weights,
    )


def geo_mde(
    data: pd.DataFrame,
    n_treated: int,
    test_days: int,
    *,
    geo: str = "geo",
    date: str = "date",
    outcome: str = "y",
    method: str = "tbr",
    alpha: float = 0.1,
    power: float = 0.8,
    n_sim: int = 200,
    random_state=0,
) -> float:
    r"""Minimum detectable lift of a geo test, from historical data (no test running).

    Random sets of ``n_treated`` geos are "tested" over the last ``test_days`` days of ``data``
    (where nothing happened); the standard deviation :math:`s` of their lift estimates gives
    :math:`\text{MDE} = (z_{1-\alpha/2} + z_{\text{power}})\,s`.
    """
    from .decisions.uncertainty import check_random_state

    wide = _panel(data, geo, date, outcome)
    Y = wide.to_numpy(dtype=np.float64)
    D, G = Y.shape
    if not 0 < test_days < D - 14:
        raise ValueError(f"test_days must leave at least 14 pre-period days; the panel has {D} days. Got {test_days!r}.")
    if not 0 < n_treated <= G // 2:
        raise ValueError(f"n_treated must be between 1 and half the geos ({G // 2}). Got {n_treated!r}.")
    fit = _METHODS[method]
    rng = check_random_state(random_state)
    pre = np.arange(D) < D - test_days
    lifts = np.empty(int(n_sim))
    for k in range(int(n_sim)):
        perm = rng.permutation(G)
        t_idx, c_idx = perm[:n_treated], perm[n_treated:]
        y = Y[:, t_idx].sum(axis=1)
        pred, _ = fit(y[pre], Y[pre][:, c_idx], Y[~pre][:, c_idx])
        lifts[k] = (y[~pre].sum() - pred.sum()) / pred.sum()
    s = float(np.std(lifts, ddof=1))
    return float((stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * s)
