r"""Customers: lifetime value, retention and basket size of omnichannel vs single-channel customers.

Attribution answers "which channel earned this conversion?"; this module answers the questions
that come next: are customers who buy both online and in store worth more, do they come back
more often, do they spend more per order, and what is a customer acquired through a channel
worth over time?

* :func:`customer_table` builds one row per person from conversion events (ids stitched by the
  same identity map as :meth:`attribution.Journeys.from_events`), and
  :meth:`CustomerTable.from_summary` (also ``customer_table.from_summary``) from customer-level
  summaries such as the FLO retailer file (online/offline order counts and values, first/last
  order dates, order channel).
* :meth:`CustomerTable.kpis` — segment KPIs with bootstrap intervals; :meth:`CustomerTable.test`
  — a permutation test of a segment difference; :meth:`CustomerTable.retention` — cohort
  retention; :meth:`CustomerTable.churn` — an inactivity flag whose threshold comes from the
  inter-purchase time distribution; :meth:`CustomerTable.fit_clv` — BG/NBD + Gamma-Gamma
  lifetime value (:mod:`attribution.clv`); :meth:`CustomerTable.analyse` — all of it in one call.
* :func:`survey_kpis` — CSAT, CES and NPS with intervals from a survey table keyed by person.
* :func:`clv_journeys` — journeys whose value is the customer's lifetime value (for
  ``compare(..., value="clv")``).

Estimands: every KPI here is *descriptive* (observed customers, observed orders); a difference
between segments is an association, not the causal effect of becoming omnichannel (customers who
buy more have more chances to buy in both places). The BG/NBD expectations are model-based
predictions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape as esc

import numpy as np
import pandas as pd
from scipy import special

from ._validation import check_no_missing, check_non_negative, parse_timestamps, require_columns
from ._display import _plain_table as _html
from .exceptions import JourneyValidationError

__all__ = [
    "CustomerTable",
    "customer_table",
    "SegmentKPIs",
    "SegmentTest",
    "Retention",
    "CLVResult",
    "CustomerAnalysis",
    "SurveyKPIs",
    "survey_kpis",
    "clv_journeys",
    "lifetime_roi",
    "KPI_COLUMNS",
]

#: Segment KPIs, in display order.
KPI_COLUMNS = (
    "customers", "orders_per_customer", "average_order_value", "revenue_per_customer",
    "repeat_rate", "median_days_between_orders", "revenue_share", "median_recency_days",
)
_DAY = np.timedelta64(1, "D")
_UNITS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}

#: Online-share bands of :meth:`CustomerTable.from_summary` (share of orders placed online).
SHARE_BANDS = ((0.0, 1 / 3, "mostly store"), (1 / 3, 2 / 3, "mixed"), (2 / 3, 1.0 + 1e-12, "mostly online"))


def _share_band(share: np.ndarray) -> np.ndarray:
    out = np.full(len(share), "mixed", dtype=object)
    out[share < 1 / 3] = "mostly store"
    out[share >= 2 / 3] = "mostly online"
    return out


def _place_segment(online: np.ndarray, store: np.ndarray) -> np.ndarray:
    return np.where((online > 0) & (store > 0), "omnichannel", np.where(store > 0, "store-only", "online-only")).astype(object)


# ---------------------------------------------------------------------------------------------
# the table
class CustomerTable:
    """One row per customer, with their order history (when built from orders).

    Attributes
    ----------
    customers : DataFrame
        Indexed by customer: ``first_order, last_order, orders, revenue, online_orders,
        store_orders, online_revenue, store_revenue, online_share, place_segment, share_segment,
        mean_gap_days, recency_days`` and, when known, ``first_value``, ``acquisition`` and CRM
        columns.
    orders : DataFrame or None
        ``customer, time, value, place`` per order (None for summary tables).
    end : pandas.Timestamp
        End of the observation (recency and ``T`` are measured to it).
    source : {"orders", "summary"}
    notes : list of str
        What was assumed or excluded while building the table.
    """

    def __init__(self, customers: pd.DataFrame, orders: pd.DataFrame | None, end, source: str, notes=None):
        self.customers = customers
        self.orders = orders
        self.end = pd.Timestamp(end)
        self.source = source
        self.notes = list(notes or [])

    def __len__(self) -> int:
        return len(self.customers)

    def __repr__(self) -> str:
        seg = self.customers["place_segment"].value_counts().to_dict()
        return f"<CustomerTable: {len(self):,} customers from {self.source}, segments {seg}>"

    def segments(self) -> list[str]:
        """Columns usable as ``by=`` (categorical columns with 2–50 levels)."""
        out = []
        for c in self.customers.columns:
            s = self.customers[c]
            if (s.dtype == object or isinstance(s.dtype, pd.CategoricalDtype)) and 1 <= s.nunique() <= 50:
                out.append(c)
        return out

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_summary(
        cls,
        df: pd.DataFrame,
        *,
        customer: str = "master_id",
        first_order: str = "first_order_date",
        last_order: str = "last_order_date",
        online_orders: str = "order_num_total_ever_online",
        store_orders: str = "order_num_total_ever_offline",
        online_value: str = "customer_value_total_ever_online",
        store_value: str = "customer_value_total_ever_offline",
        channel: str | None = "order_channel",
        crm=None,
        end=None,
    ) -> "CustomerTable":
        """A customer table from customer-level totals (the FLO layout by default).

        Parameters
        ----------
        df : DataFrame
            One row per customer.
        customer, first_order, last_order, online_orders, store_orders, online_value, store_value : str
            Column names (defaults: the FLO retailer file).
        channel : str or None, default "order_channel"
            A channel column kept as the ``acquisition`` segment (FLO: the platform the customer
            shops on — Android App, iOS App, Mobile, Desktop, Offline).
        crm : list of str, optional
            Further columns to keep as segments.
        end : timestamp, optional
            End of the observation; default the day after the last order in the data.

        Notes
        -----
        A summary lacks the individual orders, so: ``first_value`` is unknown; the mean gap
        between orders is :math:`(\\text{last} - \\text{first}) / (\\text{orders} - 1)`;
        retention is "still buying at or after month *k*" (see :meth:`retention`); and for
        BG/NBD the repeat purchases are ``orders - 1`` with ``monetary`` the mean order value
        over all orders.
        """
        require_columns(df, {"customer": customer, "first_order": first_order, "last_order": last_order,
                             "online_orders": online_orders, "store_orders": store_orders,
                             "online_value": online_value, "store_value": store_value}, "the customer summary")
        check_no_missing(df, customer, "the customer summary", "Every row needs a customer id.")
        dup = df[customer].duplicated(keep=False).to_numpy()
        if dup.any():
            from ._validation import example_rows

            raise JourneyValidationError(
                f"Column {customer!r} of the customer summary repeats {int(dup.sum())} id(s); a summary has "
                f"one row per customer. Example rows:\n{example_rows(df, dup, [customer])}\n"
                "Aggregate the rows per customer first, or use customer_table(orders) for order-level data."
            )
        what = "the customer summary"
        on = check_non_negative(df, online_orders, what)
        st = check_non_negative(df, store_orders, what)
        ov = check_non_negative(df, online_value, what)
        sv = check_non_negative(df, store_value, what)
        first = parse_timestamps(df, first_order, what)
        last = parse_timestamps(df, last_order, what)
        bad = last < first
        if bad.any():
            from ._validation import example_rows

            raise JourneyValidationError(
                f"Columns {first_order!r}/{last_order!r} of {what}: {int(bad.sum())} customer(s) have their last order "
                f"before their first. Example rows:\n{example_rows(df, bad, [customer, first_order, last_order])}\n"
                "Check that the two columns are not swapped."
            )
        end = pd.Timestamp(end) if end is not None else pd.Timestamp(last.max()).normalize() + pd.Timedelta(days=1)
        orders = on + st
        revenue = ov + sv
        cust = pd.DataFrame({
            "first_order": first, "last_order": last, "orders": orders, "revenue": revenue,
            "online_orders": on, "store_orders": st, "online_revenue": ov, "store_revenue": sv,
        }, index=pd.Index(df[customer].astype(str).to_numpy(), name="customer"))
        notes = []
        if channel is not None and channel in df.columns:
            cust["acquisition"] = df[channel].astype(str).to_numpy()
        for c in list(crm or []):
            require_columns(df, {"crm": c}, what)
            cust[c] = df[c].to_numpy()
        cust = _finish(cust, end)
        span = (last - first) / _DAY
        cust["mean_gap_days"] = np.where(orders > 1, span / np.maximum(orders - 1, 1), np.nan)
        return cls(cust, None, end, "summary", notes)

    @classmethod
    def from_journeys(cls, journeys, *, store_places=("store",), acquisition="first_touch", end=None) -> "CustomerTable":
        """A customer table from the conversions held by journeys built with ``Journeys.from_events``.

        The persons are the journeys' (already stitched) customers; each converting journey is one
        order at its conversion time, value and place; the acquisition channel comes from the
        journey of the first conversion (see :func:`customer_table`).
        """
        if journeys.customer is None or journeys.conversion_time is None:
            raise ValueError("CustomerTable.from_journeys needs journeys built with Journeys.from_events "
                             "(customers and conversion times); path tables have neither.")
        conv = np.asarray(journeys.conversions) > 0
        orders = pd.DataFrame({"customer_id": np.asarray(journeys.customer, dtype=object)[conv].astype(str),
                               "timestamp": journeys.conversion_time[conv],
                               "value": np.asarray(journeys.value, dtype=np.float64)[conv]})
        if journeys.place is not None:
            orders["place"] = np.asarray(journeys.place, dtype=object)[conv].astype(str)
        return customer_table(orders, store_places=store_places, journeys=journeys, acquisition=acquisition, end=end)

    # ------------------------------------------------------------------ analyses
    def kpis(self, by: str = "place_segment", *, n_boot: int = 200, level: float = 0.9, random_state=0) -> "SegmentKPIs":
        """Segment KPIs with percentile bootstrap intervals (customers resampled within segment).

        Parameters
        ----------
        by : str, default "place_segment"
            A column of :attr:`customers` (``place_segment``, ``share_segment``,
            ``acquisition``, a CRM column).
        n_boot : int, default 200
            Bootstrap replicates (0 for none).
        level : float, default 0.9
        random_state : int, Generator or None

        Returns
        -------
        SegmentKPIs

        Notes
        -----
        Per segment: customers; orders per customer; average order value = revenue / orders
        (a ratio of sums); revenue per customer; repeat purchase rate = share with two or more
        orders; median of the customers' mean days between orders (repeat customers only);
        share of all revenue; median days since the last order at :attr:`end`. Intervals
        resample customers with replacement within each segment (multinomial weights, one
        matrix product per KPI), so segment sizes are fixed; ``revenue_share`` is shown without
        an interval.
        """
        return _segment_kpis(self, by, n_boot, level, random_state)

    def test(self, metric: str = "revenue", *, by: str | None = None, a=None, b=None, n_perm: int = 999,
             n_boot: int = 1000, level: float = 0.9, random_state=0) -> "SegmentTest":
        """Compare the mean of ``metric`` per customer between two groups of segments.

        By default omnichannel vs single-channel customers (``place_segment``); when the data
        hold no single-channel customer (e.g. FLO, where everyone bought in both places),
        mostly-online vs mostly-store customers (``share_segment``).

        Parameters
        ----------
        metric : str, default "revenue"
            A numeric column of :attr:`customers` (``revenue``, ``orders``, ...) or
            ``"average_order_value"`` (revenue / orders per customer).
        by : str, optional
            Segment column.
        a, b : str or list of str, optional
            The segments of each group (``b`` default: every other segment).
        n_perm : int, default 999
            Permutations of the group labels for the two-sided p-value.
        n_boot : int, default 1000
            Bootstrap replicates for the interval of the difference and of the ratio.

        Returns
        -------
        SegmentTest

        Notes
        -----
        Difference :math:`\\bar y_a - \\bar y_b` and ratio :math:`\\bar y_a/\\bar y_b`; the
        p-value is :math:`(1 + \\#\\{|d^*| \\ge |d|\\}) / (1 + n_{perm})` over label permutations
        (exact under exchangeability); intervals are percentile bootstrap with customers
        resampled within group. Association only: not the causal effect of being omnichannel.
        """
        return _segment_test(self, metric, by, a, b, n_perm, n_boot, level, random_state)

    def retention(self, by: str | None = None, *, freq: str = "M", max_periods: int = 12) -> "Retention":
        """Cohort retention by first-order month (or ``freq`` period) and, optionally, segment.

        Parameters
        ----------
        by : str, optional
            Segment column for :attr:`Retention.curves` (one curve per segment).
        freq : {"M", "W", "Q"}, default "M"
        max_periods : int, default 12

        Returns
        -------
        Retention

        Notes
        -----
        From orders: retention in period :math:`k \\ge 1` is the share of a cohort with an order
        in period :math:`k` after their first-order period. From a summary (no individual
        orders): the share of the cohort whose *last* order falls in period :math:`k` or later
        ("still buying at or after period *k*", a non-increasing survival curve). Periods not
        fully observed before :attr:`end` are left empty; curves pool the cohorts observed at
        each *k*, weighted by cohort size.
        """
        return _retention(self, by, freq, max_periods)

    def churn_threshold(self, quantile: float = 0.9) -> float:
        """Days of inactivity after which a customer counts as churned: a quantile of the gaps.

        Notes
        -----
        The threshold is the ``quantile`` (default 0.9) of the inter-purchase times: with
        orders, all gaps between consecutive orders of a customer; with a summary, the
        customers' mean gaps. A customer silent for longer than 90 % of observed gaps is
        unlikely to be between two orders. It is a heuristic label, not a probability: see
        ``p_alive`` of :meth:`fit_clv` for the model-based one.
        """
        if not 0 < quantile < 1:
            raise ValueError(f"The 'quantile' parameter of churn_threshold must be in (0, 1). Got {quantile!r} instead.")
        gaps = self._gaps()
        if len(gaps) == 0:
            raise ValueError("churn_threshold: no customer has two orders, so there is no inter-purchase time to learn from.")
        return float(np.quantile(gaps, quantile))

    def churn(self, quantile: float = 0.9, threshold_days: float | None = None) -> pd.Series:
        """Churn flag per customer: days since the last order > the threshold (see :meth:`churn_threshold`).

        The threshold used is in ``result.attrs["threshold_days"]``.
        """
        thr = float(threshold_days) if threshold_days is not None else self.churn_threshold(quantile)
        out = pd.Series(self.customers["recency_days"].to_numpy() > thr, index=self.customers.index, name="churned")
        out.attrs["threshold_days"] = thr
        out.attrs["quantile"] = None if threshold_days is not None else quantile
        return out

    def _gaps(self) -> np.ndarray:
        if self.orders is not None:
            o = self.orders
            c = o["customer"].to_numpy()
            t = o["time"].to_numpy()
            same = c[1:] == c[:-1]
            return ((t[1:] - t[:-1]) / _DAY)[same]
        g = self.customers["mean_gap_days"].to_numpy(float)
        return g[np.isfinite(g)]

    def rfm(self, unit: str = "W", *, calibration_end=None) -> pd.DataFrame:
        """BG/NBD inputs per customer: ``frequency, recency, T, monetary, first_value``.

        Parameters
        ----------
        unit : {"D", "W", "M"}, default "W"
        calibration_end : timestamp, optional
            Use only the orders before it (customers first buying after it are left out) and
            add ``holdout_purchases`` and ``holdout_value`` (orders from ``calibration_end`` to
            :attr:`end`). Needs an order-level table.

        Notes
        -----
        Orders of one customer on the same day count as one purchase (their values summed).
        ``frequency`` = purchases after the first, ``recency`` = last - first, ``T`` = end -
        first, ``monetary`` = mean value of the repeat purchases (NaN without repeats).
        """
        if unit not in _UNITS:
            raise ValueError(f"The 'unit' parameter of rfm must be one of {sorted(_UNITS)}. Got {unit!r} instead.")
        u = _UNITS[unit]
        if self.orders is None:
            if calibration_end is not None:
                raise ValueError("rfm(calibration_end=...) needs individual orders; this table was built from a summary.")
            c = self.customers
            first = c["first_order"].to_numpy()
            out = pd.DataFrame({
                "frequency": np.maximum(c["orders"].to_numpy(float) - 1, 0),
                "recency": (c["last_order"].to_numpy() - first) / _DAY / u,
                "T": (self.end.to_datetime64() - first) / _DAY / u,
                "monetary": np.where(c["orders"] > 1, c["revenue"] / c["orders"].clip(lower=1), np.nan),
                "first_value": c["revenue"] / c["orders"].clip(lower=1),
            }, index=c.index)
            out.loc[out["frequency"] == 0, "recency"] = 0.0
            return out
        o = self.orders
        end = self.end if calibration_end is None else pd.Timestamp(calibration_end)
        day = o["time"].dt.floor("D")
        daily = o.assign(day=day).groupby(["customer", "day"], sort=True, observed=True)["value"].sum().reset_index()
        first = daily.groupby("customer", sort=True)["day"].transform("min")
        cal = daily[daily["day"] < end]
        g = cal.groupby("customer", sort=True)
        n = g.size()
        f = g["day"].min()
        last = g["day"].max()
        v = g["value"].sum()
        fv = g["value"].first()
        freq = (n - 1).astype(float)
        out = pd.DataFrame({
            "frequency": freq,
            "recency": (last - f) / pd.Timedelta(days=u),
            "T": (end - f) / pd.Timedelta(days=u),
            "monetary": np.where(freq > 0, (v - fv) / freq.clip(lower=1), np.nan),
            "first_value": fv,
        })
        out.index.name = "customer"
        if calibration_end is not None:
            hold = daily[(daily["day"] >= end) & (first < end)]
            hg = hold.groupby("customer")
            out["holdout_purchases"] = hg.size().reindex(out.index, fill_value=0).astype(float)
            out["holdout_value"] = hg["value"].sum().reindex(out.index, fill_value=0.0)
            out.attrs["holdout_length"] = (self.end - end) / pd.Timedelta(days=u)
        return out

    def fit_clv(self, horizon: float = 52, *, unit: str = "W", discount_rate: float = 0.0,
                calibration_end=None, gamma_gamma: bool = True) -> "CLVResult":
        """Fit BG/NBD (+ Gamma-Gamma) and predict purchases and value over ``horizon`` units.

        Parameters
        ----------
        horizon : float, default 52
            Prediction horizon in ``unit`` (52 weeks).
        unit : {"D", "W", "M"}, default "W"
        discount_rate : float, default 0
            Per ``horizon / 12``, see :func:`attribution.clv.lifetime_value`.
        calibration_end : timestamp, optional
            Fit on the orders before it and also predict the holdout period up to :attr:`end`
            (:attr:`CLVResult.holdout`).
        gamma_gamma : bool, default True
            Model spend with Gamma-Gamma; otherwise each customer's own mean order value.

        Returns
        -------
        CLVResult
        """
        from .clv import BetaGeoModel, GammaGammaModel, lifetime_value

        import warnings

        rfm = self.rfm(unit, calibration_end=calibration_end)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            bg = BetaGeoModel().fit(rfm)
        notes = [str(w.message) for w in caught]
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        gg = None
        if gamma_gamma:
            rep = rfm[rfm["frequency"] > 0]
            corr = float(np.corrcoef(rep["frequency"], rep["monetary"])[0, 1]) if len(rep) > 2 else np.nan
            gg = GammaGammaModel().fit(rfm["frequency"], rfm["monetary"].fillna(0).where(rfm["frequency"] > 0))
            notes.append(f"Gamma-Gamma assumes spend independent of frequency; their correlation among repeat customers is {corr:.2f}.")
        pred = lifetime_value(bg, gg, rfm, horizon, discount_rate=discount_rate)
        keep = [c for c in self.customers.columns if c in ("place_segment", "share_segment", "acquisition") or c in self.segments()]
        per = pred.join(self.customers[list(dict.fromkeys(keep))], how="left")
        per["historical_revenue"] = self.customers["revenue"].reindex(per.index)
        per["lifetime_value"] = per["historical_revenue"] + per["expected_value"]
        holdout = None
        if calibration_end is not None:
            L = rfm.attrs["holdout_length"]
            pred_h = bg.predict(L, rfm["frequency"], rfm["recency"], rfm["T"])
            holdout = pd.DataFrame({"predicted": pred_h, "actual": rfm["holdout_purchases"].to_numpy()}, index=rfm.index)
        return CLVResult(bg, gg, per, rfm, horizon, unit, holdout, notes)

    def purchase_rates(self, by: str = "place_segment", *, reference=None, unit: str = "W",
                       level: float = 0.9) -> pd.DataFrame:
        """Purchase rate of living customers per segment (BG/NBD fitted per segment), and its ratio.

        Parameters
        ----------
        by : str
            Segment column.
        reference : str or list of str, optional
            Segments pooled as the reference of ``ratio`` (default: every segment but
            ``omnichannel`` for ``place_segment``, else the first segment).
        unit : {"D", "W", "M"}
        level : float

        Returns
        -------
        DataFrame
            Per segment: ``customers, rate, rate_low, rate_high`` (purchases per ``unit`` while
            alive, :math:`r/\\alpha`) and ``ratio, ratio_low, ratio_high`` to the reference.

        Notes
        -----
        Unlike orders per customer, the BG/NBD rate separates how often a customer buys from how
        long they stay and from how long they were observed, so it is the fair measure of a
        frequency uplift. Intervals: delta method on :math:`\\ln r - \\ln\\alpha` from the observed
        information; the ratio's variance adds the two (independent) fits'.
        """
        from .clv import BetaGeoModel

        rfm = self.rfm(unit)
        seg = self.customers[by].astype(str).reindex(rfm.index).to_numpy()
        levels = sorted(set(seg))
        if reference is None:
            reference = [s for s in levels if s != "omnichannel"] if by == "place_segment" else [levels[0]]
        reference = [reference] if isinstance(reference, str) else list(reference)
        z = special.ndtri(0.5 + level / 2)
        rows = {}
        fits = {}
        for name, mask in [(s, seg == s) for s in levels] + [("(reference)", np.isin(seg, reference))]:
            if mask.sum() < 5:
                continue
            m = BetaGeoModel().fit(rfm[mask])
            mr = m.mean_rate(level)
            fits[name] = (np.log(mr["rate"]), mr["log_sd"])
            rows[name] = {"customers": int(mask.sum()), "rate": mr["rate"], "rate_low": mr["low"], "rate_high": mr["high"]}
        if not any(k != "(reference)" for k in rows):
            raise ValueError(f"no segment of {by!r} has the 5 customers needed to fit BG/NBD.")
        out = pd.DataFrame.from_dict(rows, orient="index")
        if "(reference)" in fits:
            lr, sr = fits["(reference)"]
            for name, (l, sd) in fits.items():
                d, se = l - lr, np.sqrt(sd ** 2 + sr ** 2) if name != "(reference)" else 0.0
                out.loc[name, ["ratio", "ratio_low", "ratio_high"]] = [np.exp(d), np.exp(d - z * se), np.exp(d + z * se)]
        out.index.name = by
        out.attrs["reference"] = reference
        return out

    def analyse(self, *, n_boot: int = 200, level: float = 0.9, random_state=0, horizon: float = 52,
                clv: bool = True, journeys=None, costs=None, model="markov", n_perm: int = 999) -> "CustomerAnalysis":
        """Everything in one call: segment KPIs, the omnichannel test, retention, churn and CLV.

        Segments: ``place_segment`` when it has more than one level, else ``share_segment``
        (online share of orders); retention curves by the same column; CLV by acquisition when
        known. CLV failures (too few repeat customers) are reported in ``notes``, not raised.
        With ``journeys`` and ``costs`` (and CLV), also ROI per channel under ``model`` on
        observed value and on lifetime value (:func:`lifetime_roi`).
        """
        notes = list(self.notes)
        seg = "place_segment" if self.customers["place_segment"].nunique() > 1 else "share_segment"
        if seg == "share_segment":
            notes.append("Every customer bought both online and in store: segments are by online share of orders "
                         "(mostly store < 1/3 <= mixed < 2/3 <= mostly online).")
        else:
            notes.append("Omnichannel customers have at least two orders by definition (one in each place), so their "
                         "orders per customer and repeat rate are mechanically higher than single-channel customers'. "
                         "The BG/NBD purchase rate per segment removes the observation-time and drop-out parts but not "
                         "this selection; for an uplift, segment by something known at acquisition (a CRM column such "
                         "as a loyalty card: customer_table(..., crm=...), then purchase_rates(by=...)).")
        kp = self.kpis(seg, n_boot=n_boot, level=level, random_state=random_state)
        by_acq = self.kpis("acquisition", n_boot=n_boot, level=level, random_state=random_state) \
            if "acquisition" in self.customers else None
        tests = []
        for metric in ("revenue", "orders", "average_order_value"):
            try:
                tests.append(self.test(metric, random_state=random_state, level=level, n_perm=n_perm))
            except ValueError as exc:
                notes.append(f"Segment test of {metric} skipped: {exc}")
        span_days = (self.end - self.customers["first_order"].min()) / pd.Timedelta(days=1)
        freq = "M" if span_days >= 180 else "W"  # at least a few complete periods
        ret = self.retention(seg, freq=freq)
        rates = None
        if self.orders is not None and seg == "place_segment":
            try:
                rates = self.purchase_rates(seg, level=level)
            except (ValueError, RuntimeError) as exc:
                notes.append(f"Purchase rates per segment not estimated: {exc}")
        churn = None
        try:
            churn = self.churn()
        except ValueError as exc:
            notes.append(str(exc))
        clv_res = None
        if clv:
            observed_weeks = (self.end - self.customers["first_order"].min()) / pd.Timedelta(weeks=1)
            if horizon > 2 * observed_weeks:
                notes.append(f"The CLV horizon ({horizon:g} weeks) is more than twice the observed period "
                             f"({observed_weeks:.0f} weeks): the predictions extrapolate far beyond the data.")
            try:
                clv_res = self.fit_clv(horizon)
            except (ValueError, RuntimeError) as exc:
                notes.append(f"Lifetime value not estimated: {exc}")
        roi = None
        if journeys is not None and costs is not None and clv_res is not None:
            roi = lifetime_roi(journeys, clv_res, costs, model=model)
        return CustomerAnalysis(self, seg, kp, by_acq, tests, ret, churn, clv_res, notes, rates, roi)


def _finish(cust: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    on = cust["online_orders"].to_numpy(float)
    st = cust["store_orders"].to_numpy(float)
    tot = on + st
    share = np.where(tot > 0, on / np.where(tot > 0, tot, 1), np.nan)
    cust["online_share"] = share
    cust["place_segment"] = _place_segment(on, st)
    cust["share_segment"] = _share_band(share)
    cust["recency_days"] = (end.to_datetime64() - cust["last_order"].to_numpy()) / _DAY
    return cust


def customer_table(
    conversions: pd.DataFrame,
    identities: pd.DataFrame | None = None,
    *,
    customer: str = "customer_id",
    time: str = "timestamp",
    value: str | None = "value",
    place: str | None = "place",
    store_places=("store",),
    journeys=None,
    acquisition: str | object = "first_touch",
    crm: pd.DataFrame | None = None,
    crm_key: str | None = None,
    end=None,
) -> CustomerTable:
    """A customer table from conversion events, stitched through the identity map.

    Parameters
    ----------
    conversions : DataFrame
        One row per order: ``customer``, ``time`` and optionally ``value`` and ``place`` (the
        same table :meth:`attribution.Journeys.from_events` takes).
    identities : DataFrame, optional
        Id links (each row: ids of one person), merged by connected components exactly as in
        ``Journeys.from_events``; a person is named by their smallest id.
    customer, time, value, place : str
        Column names; ``value`` and ``place`` may be absent (value 0; every order online).
    store_places : sequence of str, default ("store",)
        Place values that are store orders; every other place is online.
    journeys : Journeys, optional
        Journeys built from the same conversions (``Journeys.from_events(..., identities=...)``)
        to name each customer's acquisition channel.
    acquisition : "first_touch", "last_touch" or a model, default "first_touch"
        The channel of the first purchase: the first (or last) touch of the journey ending in
        the customer's first conversion, or the channel with the largest weight under a model
        with per-touch weights (``"linear"``, ``"position_based"``, ``"time_decay"``, ...);
        ``"(no touch)"`` when that journey has none.
    crm : DataFrame, optional
        Customer attributes to keep as segments, keyed by ``crm_key`` (default: its first
        column); keys are mapped through the identity map.
    end : timestamp, optional
        End of observation; default the day after the last order.

    Returns
    -------
    CustomerTable

    Examples
    --------
    >>> import pandas as pd
    >>> conv = pd.DataFrame({"customer_id": ["a", "a", "b"], "place": ["online", "store", "store"],
    ...                      "timestamp": ["2026-01-01", "2026-02-01", "2026-01-05"], "value": [10, 20, 5]})
    >>> customer_table(conv).customers["place_segment"].to_dict()
    {'a': 'omnichannel', 'b': 'store-only'}
    """
    from .journeys import _opt_column, _persons

    what = "conversions"
    if not isinstance(conversions, pd.DataFrame):
        raise TypeError(f"customer_table expects a DataFrame of conversions; got {type(conversions).__name__}.")
    require_columns(conversions, {"customer": customer, "time": time}, what)
    val_col = _opt_column(conversions, value, "value")
    plc_col = _opt_column(conversions, place, "place")
    check_no_missing(conversions, customer, what, "Every conversion needs a customer id.")
    t = parse_timestamps(conversions, time, what)
    v = check_non_negative(conversions, val_col, what) if val_col else np.zeros(len(conversions))
    if plc_col:
        check_no_missing(conversions, plc_col, what, "Every conversion needs a place, e.g. 'online' or 'store'.")
        is_store = conversions[plc_col].astype(str).isin([str(s) for s in store_places]).to_numpy()
    else:
        is_store = np.zeros(len(conversions), dtype=bool)
    _, person, names, id_map = _persons(pd.Series([], dtype=object), conversions[customer], identities)
    names = np.asarray(names, dtype=object)
    order = np.lexsort((t, person))
    orders = pd.DataFrame({
        "customer": names[person[order]], "time": pd.to_datetime(t[order]), "value": v[order],
        "place": np.where(is_store[order], "store", "online"),
    })
    P = len(names)
    used = np.bincount(person, minlength=P) > 0
    p_sorted = person[order]
    first_pos = np.r_[0, np.flatnonzero(p_sorted[1:] != p_sorted[:-1]) + 1] if len(order) else np.zeros(0, int)
    last_pos = np.r_[first_pos[1:] - 1, len(order) - 1] if len(order) else np.zeros(0, int)
    pers = p_sorted[first_pos]
    n = np.bincount(person, minlength=P)[pers].astype(float)
    on = np.bincount(person, weights=~is_store, minlength=P)[pers]
    st = np.bincount(person, weights=is_store, minlength=P)[pers]
    ov = np.bincount(person, weights=v * ~is_store, minlength=P)[pers]
    sv = np.bincount(person, weights=v * is_store, minlength=P)[pers]
    ts = t[order]
    cust = pd.DataFrame({
        "first_order": ts[first_pos], "last_order": ts[last_pos], "orders": n, "revenue": ov + sv,
        "online_orders": on, "store_orders": st, "online_revenue": ov, "store_revenue": sv,
        "first_value": v[order][first_pos],
    }, index=pd.Index(names[pers], name="customer"))
    del used
    end = pd.Timestamp(end) if end is not None else pd.Timestamp(ts.max()).normalize() + pd.Timedelta(days=1)
    notes: list[str] = []
    if journeys is not None:
        cust["acquisition"] = _acquisition(journeys, cust, acquisition, id_map)
    if crm is not None:
        key = crm_key or crm.columns[0]
        require_columns(crm, {"crm_key": key}, "the CRM table")
        ids = crm[key].astype(str)
        if id_map is not None:
            ids = ids.map(lambda s: id_map.get(s, s))
        attrs = crm.drop(columns=[key]).assign(_id=ids.to_numpy()).drop_duplicates("_id").set_index("_id")
        missing = ~cust.index.isin(attrs.index)
        if missing.any():
            notes.append(f"{int(missing.sum())} customer(s) have no CRM row; their CRM columns are empty.")
        for c in attrs.columns:
            cust[c] = attrs[c].reindex(cust.index).to_numpy()
    cust = _finish(cust, end)
    gaps_sum = (cust["last_order"] - cust["first_order"]) / pd.Timedelta(days=1)
    cust["mean_gap_days"] = np.where(n > 1, gaps_sum / np.maximum(n - 1, 1), np.nan)
    return CustomerTable(cust, orders, end, "orders", notes)


customer_table.from_summary = CustomerTable.from_summary  # type: ignore[attr-defined]


def _acquisition(journeys, cust: pd.DataFrame, how, id_map) -> np.ndarray:
    """The acquisition channel of each customer from the journey of their first conversion."""
    from .models.base import NO_TOUCH, get_model

    if journeys.customer is None or journeys.conversion_time is None:
        raise ValueError("customer_table(journeys=...) needs journeys built with Journeys.from_events (customers and times).")
    jc = np.asarray(journeys.customer, dtype=object).astype(str)
    conv = np.asarray(journeys.conversions) > 0
    ct = journeys.conversion_time
    idx = np.flatnonzero(conv)
    frame = pd.DataFrame({"c": jc[idx], "t": ct[idx], "j": idx}).sort_values(["c", "t"], kind="stable")
    first_j = frame.drop_duplicates("c").set_index("c")["j"]
    js = first_j.reindex(cust.index.astype(str))
    out = np.full(len(cust), NO_TOUCH, dtype=object)
    have = js.notna().to_numpy()
    sel = js.to_numpy()[have].astype(np.int64)
    starts, ends = journeys.offsets[sel], journeys.offsets[sel + 1]
    touched = ends > starts
    names = np.asarray(journeys.channels, dtype=object)
    res = np.full(len(sel), NO_TOUCH, dtype=object)
    if how in ("first_touch", "last_touch"):
        pos = np.where(how == "first_touch", starts, ends - 1)
        res[touched] = names[journeys.touch_channel[pos[touched]]]
    else:
        model = get_model(how)
        sub = journeys.take(sel[touched])
        try:
            w = model._touch_weights(sub)
        except NotImplementedError as exc:
            raise ValueError(
                f"acquisition={how!r}: this model has no per-touch weights, so it cannot name one channel per "
                "customer. Use a rule model ('linear', 'position_based', 'time_decay'), 'first_touch', or "
                "compare(..., value='clv') for channel-level lifetime credit under any model."
            ) from exc
        # the channel with the largest total weight in each journey (ties: first channel by name)
        C = sub.n_channels
        acc = np.zeros((sub.n_journeys, C))
        np.add.at(acc, (sub.journey_index, sub.touch_channel), w)
        res[touched] = names[np.argmax(acc, axis=1)]
    out[have] = res
    return out


# ---------------------------------------------------------------------------------------------
# KPIs
def _rng(random_state):
    return random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)


def _boot_weights(n: int, B: int, rng) -> np.ndarray:
    """B x n multinomial resampling counts (each row sums to n)."""
    if n == 0 or B == 0:
        return np.zeros((B, n))
    idx = rng.integers(0, n, size=(B, n)) + (np.arange(B, dtype=np.int64) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=B * n).reshape(B, n).astype(np.float64)


_CHUNK = 4_000_000  # elements of a bootstrap weight block


def _boot_means(y: np.ndarray, B: int, rng) -> np.ndarray:
    """B bootstrap means of ``y`` (customers resampled with replacement), in memory-bounded blocks."""
    n = len(y)
    step = max(1, min(B, _CHUNK // max(n, 1)))
    return np.concatenate([_boot_weights(n, min(step, B - b0), rng) @ y / n for b0 in range(0, B, step)]) \
        if B else np.zeros(0)


def _weighted_median(values: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Median of ``values`` under each row of weights ``W`` (B x n); NaN where a row has no weight."""
    if values.size == 0:
        return np.full(len(W), np.nan)
    o = np.argsort(values, kind="stable")
    vs, Ws = values[o], W[:, o]
    cum = np.cumsum(Ws, axis=1)
    tot = cum[:, -1:]
    k = np.argmax(cum >= tot / 2, axis=1)
    out = vs[k]
    out[tot[:, 0] == 0] = np.nan
    return out


def _kpi_values(orders, revenue, gap, recency, W, total_revenue):
    """KPIs under weights W (B x n): returns dict of arrays of length B."""
    n = W.sum(axis=1)
    so, sr = W @ orders, W @ revenue
    rep = (orders >= 2).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "customers": n,
            "orders_per_customer": so / n,
            "average_order_value": sr / so,
            "revenue_per_customer": sr / n,
            "repeat_rate": (W @ rep) / n,
            "median_days_between_orders": _weighted_median(gap[np.isfinite(gap)], W[:, np.isfinite(gap)]),
            "revenue_share": sr / total_revenue if total_revenue > 0 else np.full(len(n), np.nan),
            "median_recency_days": _weighted_median(recency, W),
        }


def _segment_kpis(table: CustomerTable, by: str, n_boot: int, level: float, random_state) -> "SegmentKPIs":
    c = table.customers
    if by not in c.columns:
        raise ValueError(f"The 'by' parameter of kpis must be a column of the customer table, one of {table.segments()}. Got {by!r} instead.")
    if not 0 < level < 1:
        raise ValueError(f"The 'level' parameter of kpis must be in (0, 1). Got {level!r} instead.")
    rng = _rng(random_state)
    seg = c[by].astype(object).where(c[by].notna(), "(missing)").astype(str)
    total = float(c["revenue"].sum())
    rows, lows, highs = {}, {}, {}
    a = (1 - level) / 2
    for s in sorted(seg.unique()):
        m = (seg == s).to_numpy()
        args = (c["orders"].to_numpy(float)[m], c["revenue"].to_numpy(float)[m], c["mean_gap_days"].to_numpy(float)[m],
                c["recency_days"].to_numpy(float)[m])
        point = _kpi_values(*args, np.ones((1, int(m.sum()))), total)
        rows[s] = {k: float(v[0]) for k, v in point.items()}
        if n_boot:
            n_s = int(m.sum())
            step = max(1, min(n_boot, _CHUNK // max(n_s, 1)))  # bounded memory: B x n weights in chunks
            parts_ = [_kpi_values(*args, _boot_weights(n_s, min(step, n_boot - b0), rng), total)
                      for b0 in range(0, n_boot, step)]
            bt = {k: np.concatenate([p_[k] for p_ in parts_]) for k in parts_[0]}
            lows[s] = {k: float(np.nanquantile(v, a)) if np.isfinite(v).any() else np.nan for k, v in bt.items()}
            highs[s] = {k: float(np.nanquantile(v, 1 - a)) if np.isfinite(v).any() else np.nan for k, v in bt.items()}
    table_ = pd.DataFrame.from_dict(rows, orient="index")[list(KPI_COLUMNS)]
    table_.index.name = by
    low = high = None
    if n_boot:
        nointerval = ["customers", "revenue_share"]
        low = pd.DataFrame.from_dict(lows, orient="index")[list(KPI_COLUMNS)]
        high = pd.DataFrame.from_dict(highs, orient="index")[list(KPI_COLUMNS)]
        low[nointerval] = np.nan
        high[nointerval] = np.nan
        low.index.name = high.index.name = by
    return SegmentKPIs(by, table_, low, high, level, n_boot)


@dataclass
class SegmentKPIs:
    """Segment KPIs: ``table`` (segment x KPI) and, with a bootstrap, ``low``/``high`` ends.

    Descriptive (observed customers); differences are associations, see :meth:`CustomerTable.test`.
    """

    by: str
    table: pd.DataFrame
    low: pd.DataFrame | None
    high: pd.DataFrame | None
    level: float
    n_boot: int

    def with_intervals(self) -> pd.DataFrame:
        """Long table: segment, kpi, estimate, low, high."""
        out = self.table.stack().rename("estimate").to_frame()
        if self.low is not None:
            out["low"] = self.low.stack(future_stack=True).reindex(out.index)
            out["high"] = self.high.stack(future_stack=True).reindex(out.index)
        out.index.names = [self.by, "kpi"]
        return out.reset_index()

    def formatted(self) -> pd.DataFrame:
        """Strings 'estimate [low, high]' per segment and KPI (for reports)."""
        fmt = {"customers": "{:,.0f}", "orders_per_customer": "{:.2f}", "average_order_value": "{:,.1f}",
               "revenue_per_customer": "{:,.1f}", "repeat_rate": "{:.1%}", "median_days_between_orders": "{:.0f}",
               "revenue_share": "{:.1%}", "median_recency_days": "{:.0f}"}
        out = pd.DataFrame(index=self.table.index)
        for k in KPI_COLUMNS:
            f = fmt[k]
            vals = []
            for s in self.table.index:
                e = self.table.at[s, k]
                txt = "–" if not np.isfinite(e) else f.format(e)
                if self.low is not None and np.isfinite(self.low.at[s, k]):
                    txt += f" [{f.format(self.low.at[s, k])}, {f.format(self.high.at[s, k])}]"
                vals.append(txt)
            out[k] = vals
        return out

    def summary(self) -> str:
        return f"Segment KPIs by {self.by} ({self.level:.0%} bootstrap intervals, {self.n_boot} replicates):\n" + \
            self.formatted().to_string()

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return f"<div><p><b>Segment KPIs by {esc(self.by)}</b> ({self.level:.0%} intervals)</p>{_html(self.formatted())}</div>"

    def plot(self, kpi: str = "revenue_per_customer", *, ax=None):
        """Bar chart of one KPI per segment with its interval. Returns the Axes."""
        from .plotting.customers import plot_segment_kpi

        return plot_segment_kpi(self, kpi, ax=ax)


# ---------------------------------------------------------------------------------------------
# the test
@dataclass
class SegmentTest:
    """Difference of a per-customer mean between two groups of customers, with a permutation test."""

    metric: str
    by: str
    a: list
    b: list
    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    difference: float
    difference_interval: tuple
    ratio: float
    ratio_interval: tuple
    p_value: float
    level: float
    n_perm: int

    @property
    def label_a(self) -> str:
        return " + ".join(map(str, self.a))

    @property
    def label_b(self) -> str:
        return " + ".join(map(str, self.b))

    def note(self) -> str:
        """One sentence for reports."""
        lo, hi = self.ratio_interval
        sig = "significant" if self.p_value < 1 - self.level else "not significant"
        return (
            f"Mean {self.metric.replace('_', ' ')} per customer: {self.label_a} {self.mean_a:,.2f} vs {self.label_b} {self.mean_b:,.2f} "
            f"(ratio {self.ratio:.2f}, {self.level:.0%} bootstrap interval [{lo:.2f}, {hi:.2f}]; permutation p = "
            f"{self.p_value:.4f} over {self.n_perm:,} permutations, {sig} at {1 - self.level:.0%}). An association, "
            "not the causal effect of the segment."
        )

    def __repr__(self) -> str:
        return f"<SegmentTest {self.note()}>"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "metric": self.metric, "group_a": self.label_a, "group_b": self.label_b, "n_a": self.n_a, "n_b": self.n_b,
            "mean_a": self.mean_a, "mean_b": self.mean_b, "ratio": self.ratio, "ratio_low": self.ratio_interval[0],
            "ratio_high": self.ratio_interval[1], "difference": self.difference,
            "difference_low": self.difference_interval[0], "difference_high": self.difference_interval[1],
            "p_value": self.p_value,
        }])


def _segment_test(table, metric, by, a, b, n_perm, n_boot, level, random_state) -> SegmentTest:
    c = table.customers
    if metric == "average_order_value":
        y = (c["revenue"] / c["orders"].where(c["orders"] > 0)).to_numpy(float)
    elif metric in c.columns and pd.api.types.is_numeric_dtype(c[metric]):
        y = c[metric].to_numpy(float)
    else:
        num = [k for k in c.columns if pd.api.types.is_numeric_dtype(c[k])]
        raise ValueError(f"The 'metric' parameter of test must be 'average_order_value' or a numeric column, one of {num}. Got {metric!r} instead.")
    if by is None:
        by = "place_segment" if c["place_segment"].nunique() > 1 else "share_segment"
    if by not in c.columns:
        raise ValueError(f"The 'by' parameter of test must be a column of the customer table. Got {by!r} instead.")
    seg = c[by].astype(str).to_numpy()
    levels = sorted(set(seg))
    if a is None:
        a = {"place_segment": ["omnichannel"], "share_segment": ["mostly online"]}.get(by, [levels[0]])
    if b is None:
        b = {"share_segment": ["mostly store"]}.get(by, [s for s in levels if s not in ([a] if isinstance(a, str) else a)])
    a = [a] if isinstance(a, str) else list(a)
    b = [b] if isinstance(b, str) else list(b)
    ma = np.isin(seg, a) & np.isfinite(y)
    mb = np.isin(seg, b) & np.isfinite(y)
    if ma.sum() < 2 or mb.sum() < 2:
        raise ValueError(f"groups {a} (n={int(ma.sum())}) and {b} (n={int(mb.sum())}) of {by!r} need at least 2 customers each.")
    ya, yb = y[ma], y[mb]
    rng = _rng(random_state)
    d = ya.mean() - yb.mean()
    # permutation test: label shuffles in chunks (vectorised)
    pooled = np.concatenate([ya, yb])
    na, N = len(ya), len(pooled)
    hits, done = 0, 0
    chunk = max(1, min(n_perm, 4_000_000 // N))
    tot = pooled.sum()
    while done < n_perm:
        k = min(chunk, n_perm - done)
        keys = rng.random((k, N))
        sel = np.argpartition(keys, na - 1, axis=1)[:, :na] if na < N else np.tile(np.arange(N), (k, 1))
        sa = pooled[sel].sum(axis=1)
        dp = sa / na - (tot - sa) / (N - na)
        hits += int((np.abs(dp) >= abs(d) - 1e-12 * max(1.0, abs(d))).sum())
        done += k
    p = (1 + hits) / (1 + n_perm)
    ba, bb = _boot_means(ya, n_boot, rng), _boot_means(yb, n_boot, rng)
    q = [(1 - level) / 2, (1 + level) / 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_b = ba / bb
    return SegmentTest(
        metric, by, a, b, int(na), int(len(yb)), float(ya.mean()), float(yb.mean()), float(d),
        tuple(np.quantile(ba - bb, q)) if n_boot else (np.nan, np.nan),
        float(ya.mean() / yb.mean()) if yb.mean() else np.nan,
        tuple(np.nanquantile(ratio_b, q)) if n_boot else (np.nan, np.nan),
        float(p), level, int(n_perm),
    )


# ---------------------------------------------------------------------------------------------
# retention
_FREQ = {"M": "M", "W": "W", "Q": "Q"}


def _period_index(ts: np.ndarray, freq: str) -> np.ndarray:
    t = pd.DatetimeIndex(ts)
    if freq == "M":
        return (t.year * 12 + t.month - 1).to_numpy(np.int64)
    if freq == "Q":
        return (t.year * 4 + (t.month - 1) // 3).to_numpy(np.int64)
    return ((t - pd.Timestamp("1970-01-05")) // pd.Timedelta(days=7)).to_numpy(np.int64)


def _period_label(p: int, freq: str) -> str:
    if freq == "M":
        return f"{p // 12}-{p % 12 + 1:02d}"
    if freq == "Q":
        return f"{p // 4}-Q{p % 4 + 1}"
    return str((pd.Timestamp("1970-01-05") + pd.Timedelta(days=7 * int(p))).date())


def _retention(table: CustomerTable, by, freq, max_periods) -> "Retention":
    if freq not in _FREQ:
        raise ValueError(f"The 'freq' parameter of retention must be one of {sorted(_FREQ)}. Got {freq!r} instead.")
    if isinstance(max_periods, bool) or not isinstance(max_periods, (int, np.integer)) or max_periods < 1:
        raise ValueError(f"The 'max_periods' parameter of retention must be a positive integer. Got {max_periods!r} instead.")
    c = table.customers
    cohort = _period_index(c["first_order"].to_numpy(), freq)
    # the last period counts only if complete: end is the day after the last data day
    last_full = _period_index(np.array([table.end.to_datetime64()]), freq)[0] - 1
    K = max_periods
    n = len(c)
    active = np.zeros((n, K + 1), dtype=bool)
    active[:, 0] = True
    if table.orders is not None:
        pos = pd.Index(c.index).get_indexer(table.orders["customer"])
        k = _period_index(table.orders["time"].to_numpy(), freq) - cohort[pos]
        ok = (k >= 1) & (k <= K)
        active[pos[ok], k[ok]] = True
        kind = "ordered in period k"
    else:
        lk = _period_index(c["last_order"].to_numpy(), freq) - cohort
        active[:, 1:] = lk[:, None] >= np.arange(1, K + 1)[None, :]
        kind = "last order in period k or later"
    observed = (cohort[:, None] + np.arange(K + 1)[None, :]) <= last_full
    codes, cohorts = pd.factorize(cohort, sort=True)
    size = np.bincount(codes, minlength=len(cohorts)).astype(float)
    num = np.stack([np.bincount(codes, weights=active[:, k] & observed[:, k], minlength=len(cohorts)) for k in range(K + 1)], 1)
    obs = np.stack([np.bincount(codes, weights=observed[:, k], minlength=len(cohorts)) for k in range(K + 1)], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mat = np.where(obs > 0, num / obs, np.nan)
    labels = [_period_label(int(p), freq) for p in cohorts]
    matrix = pd.DataFrame(mat, index=pd.Index(labels, name="cohort"), columns=pd.Index(range(K + 1), name="period"))
    sizes = pd.Series(size, index=matrix.index, name="customers")
    groups = {"all customers": np.ones(n, bool)}
    if by is not None:
        if by not in c.columns:
            raise ValueError(f"The 'by' parameter of retention must be a column of the customer table. Got {by!r} instead.")
        sv = c[by].astype(str).to_numpy()
        groups.update({s: sv == s for s in sorted(set(sv))})
    curves = {}
    for g, m in groups.items():
        o = observed[m].sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            curves[g] = np.where(o > 0, (active[m] & observed[m]).sum(axis=0) / o, np.nan)
    curves = pd.DataFrame(curves, index=pd.Index(range(K + 1), name="period")).T
    return Retention(matrix, sizes, curves, freq, kind, by)


@dataclass
class Retention:
    """Cohort retention: ``matrix`` (cohort x period k, share of the cohort), ``sizes`` and ``curves``."""

    matrix: pd.DataFrame
    sizes: pd.Series
    curves: pd.DataFrame
    freq: str
    kind: str
    by: str | None

    def summary(self) -> str:
        return (f"Retention ({self.kind}; period = {self.freq}) by segment:\n"
                + self.curves.map(lambda v: "" if not np.isfinite(v) else f"{v:.1%}").to_string())

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return (f"<div><p><b>Retention</b> ({esc(self.kind)})</p>"
                + _html(self.curves.map(lambda v: "" if not np.isfinite(v) else f"{v:.1%}")) + "</div>")

    def plot_heatmap(self, *, ax=None, min_size: int = 1, max_cohorts: int | None = None):
        """Cohort heatmap (cohorts of at least ``min_size`` customers, the ``max_cohorts`` most recent). Returns the Axes."""
        from .plotting.customers import plot_retention_heatmap

        return plot_retention_heatmap(self, ax=ax, min_size=min_size, max_cohorts=max_cohorts)

    def plot(self, *, ax=None):
        """Retention curves per segment. Returns the Axes."""
        from .plotting.customers import plot_retention_curves

        return plot_retention_curves(self, ax=ax)


# ---------------------------------------------------------------------------------------------
# CLV
@dataclass
class CLVResult:
    """Fitted BG/NBD (+ Gamma-Gamma) and per-customer predictions over ``horizon`` ``unit``.

    ``customers`` has ``p_alive, expected_purchases, expected_order_value, expected_value``
    (future, model-based), ``historical_revenue`` and ``lifetime_value`` (= historical +
    expected) with the segment columns.
    """

    bgnbd: object
    gamma_gamma: object
    customers: pd.DataFrame
    rfm: pd.DataFrame
    horizon: float
    unit: str
    holdout: pd.DataFrame | None = None
    notes: list = field(default_factory=list)

    def by_segment(self, by: str = "place_segment") -> pd.DataFrame:
        """Customers, mean expected purchases and value, mean lifetime value and total expected value per segment."""
        c = self.customers
        if by not in c.columns:
            raise ValueError(f"The 'by' parameter of by_segment must be a column of CLVResult.customers. Got {by!r} instead.")
        g = c.groupby(c[by].astype(str))
        out = pd.DataFrame({
            "customers": g.size(),
            "p_alive": g["p_alive"].mean(),
            "expected_purchases": g["expected_purchases"].mean(),
            "expected_value": g["expected_value"].mean(),
            "lifetime_value": g["lifetime_value"].mean(),
            "total_expected_value": g["expected_value"].sum(),
        })
        out.index.name = by
        return out.sort_values("lifetime_value", ascending=False)

    def holdout_deciles(self, n: int = 10) -> pd.DataFrame:
        """Predicted vs actual holdout purchases per decile of predicted purchases (needs ``calibration_end``)."""
        if self.holdout is None:
            raise ValueError("holdout_deciles needs fit_clv(calibration_end=...).")
        h = self.holdout
        rank = h["predicted"].rank(method="first")
        dec = np.ceil(rank / len(h) * n).astype(int).clip(1, n)
        g = h.groupby(dec.to_numpy())
        out = pd.DataFrame({"customers": g.size(), "predicted": g["predicted"].sum(), "actual": g["actual"].sum()})
        out.index.name = "decile"
        return out

    def summary(self) -> str:
        lines = [repr(self.bgnbd)]
        if self.gamma_gamma is not None:
            lines.append(repr(self.gamma_gamma))
        lines.append(f"Expected value over {self.horizon:g} {self.unit}: {self.customers['expected_value'].sum():,.0f} "
                     f"(mean {self.customers['expected_value'].mean():,.2f} per customer)")
        return "\n".join(lines + self.notes)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return "<div><pre>" + esc(self.summary()) + "</pre></div>"

    def plot(self, by: str = "acquisition", *, ax=None):
        """Mean lifetime value per segment (historical + expected). Returns the Axes."""
        from .plotting.customers import plot_clv_by_segment

        return plot_clv_by_segment(self, by, ax=ax)


# ---------------------------------------------------------------------------------------------
@dataclass
class CustomerAnalysis:
    """Result of :meth:`CustomerTable.analyse`."""

    table: CustomerTable
    by: str
    kpis: SegmentKPIs
    kpis_by_acquisition: SegmentKPIs | None
    tests: list
    retention: Retention
    churn: pd.Series | None
    clv: CLVResult | None
    notes: list
    purchase_rates: pd.DataFrame | None = None
    roi: pd.DataFrame | None = None

    def summary(self) -> str:
        parts = [repr(self.table), self.kpis.summary()]
        parts += [t.note() for t in self.tests]
        parts.append(self.retention.summary())
        if self.churn is not None:
            parts.append(f"Churned (no order for more than {self.churn.attrs['threshold_days']:.0f} days, the "
                         f"{self.churn.attrs['quantile']:.0%} quantile of inter-purchase times): {self.churn.mean():.1%}")
        if self.clv is not None:
            parts.append(self.clv.summary())
        parts += self.notes
        return "\n\n".join(parts)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return self.section_html()

    def tables(self) -> dict[str, pd.DataFrame]:
        """Name -> DataFrame of everything shown (what :meth:`write` saves as CSV)."""
        out = {"customer_segments": self.kpis.with_intervals(),
               "customer_tests": pd.concat([t.to_frame() for t in self.tests], ignore_index=True) if self.tests else pd.DataFrame(),
               "customer_retention_cohorts": self.retention.matrix.assign(customers=self.retention.sizes),
               "customer_retention_curves": self.retention.curves}
        if self.purchase_rates is not None:
            out["customer_purchase_rates"] = self.purchase_rates
        if self.roi is not None:
            out["customer_lifetime_roi"] = self.roi
        if self.kpis_by_acquisition is not None:
            out["customer_acquisition"] = self.kpis_by_acquisition.with_intervals()
        if self.clv is not None:
            by = "acquisition" if "acquisition" in self.clv.customers else self.by
            out["customer_clv"] = self.clv.by_segment(by)
            out["customer_clv_params"] = pd.concat([self.clv.bgnbd.params_] + (
                [self.clv.gamma_gamma.params_] if self.clv.gamma_gamma is not None else [])).to_frame("estimate")
        return out

    def figures(self) -> dict[str, bytes]:
        """Name -> PNG bytes of the section's figures."""
        from .plotting import customers as pc
        from .report import _png

        n = len(self.kpis.table)
        figs = {
            "customer_kpi": _png(lambda ax: pc.plot_segment_kpi(self.kpis, "revenue_per_customer", ax=ax), (8.0, 0.45 * n + 1.6)),
            "customer_retention_heatmap": _png(
                lambda ax: pc.plot_retention_heatmap(self.retention, ax=ax, min_size=20, max_cohorts=24),
                (9.0, 0.24 * min(24, max(int((self.retention.sizes >= 20).sum()), 1)) + 2.0)),
            "customer_retention_curves": _png(lambda ax: pc.plot_retention_curves(self.retention, ax=ax), (8.0, 4.0)),
        }
        if self.clv is not None:
            by = "acquisition" if "acquisition" in self.clv.customers else self.by
            k = self.clv.customers[by].nunique()
            figs["customer_clv"] = _png(lambda ax: pc.plot_clv_by_segment(self.clv, by, ax=ax), (8.0, 0.45 * k + 1.8))
        return figs

    def section_html(self, figures: dict[str, bytes] | None = None) -> str:
        """The "Customers" report section (escaped HTML, figures inline)."""
        import base64

        figs = self.figures() if figures is None else figures

        def img(name, alt):
            if name not in figs:
                return ""
            b64 = base64.b64encode(figs[name]).decode("ascii")
            return f"<figure><img src='data:image/png;base64,{b64}' alt='{esc(alt)}'></figure>"

        t = self.table
        labels = {"customers": "customers", "orders_per_customer": "orders / customer",
                  "average_order_value": "average order value", "revenue_per_customer": "revenue / customer",
                  "repeat_rate": "repeat rate", "median_days_between_orders": "days between orders (median)",
                  "revenue_share": "revenue share", "median_recency_days": "days since last order (median)"}
        parts = ["<section id='customers'><h2>Customers</h2>",
                 f"<p>{len(t):,} customers ({esc(t.source)}), observed until {esc(str(t.end.date()))}. Segment KPIs are "
                 "descriptive: a difference between segments is an association, not the effect of the segment.</p>",
                 f"<h3>Segments by {esc(self.by.replace('_', ' '))}</h3>",
                 _html(self.kpis.formatted().rename(columns=labels)),
                 f"<p class='hint'>{self.kpis.level:.0%} percentile bootstrap intervals over customers within each segment "
                 f"({self.kpis.n_boot} replicates).</p>",
                 img("customer_kpi", "Revenue per customer by segment")]
        if self.tests:
            parts.append("<h3>Comparison</h3><ul>" + "".join(f"<li>{esc(x.note())}</li>" for x in self.tests) + "</ul>")
        if self.purchase_rates is not None:
            pr = self.purchase_rates.drop(index="(reference)", errors="ignore")
            shown = pd.DataFrame({
                "customers": [f"{v:,.0f}" for v in pr["customers"]],
                "purchases per week while active": [f"{v:.3f} [{lo:.3f}, {hi:.3f}]" for v, lo, hi in
                                                    zip(pr["rate"], pr["rate_low"], pr["rate_high"])],
                "ratio to single-channel": [f"{v:.2f} [{lo:.2f}, {hi:.2f}]" if np.isfinite(v) else "–" for v, lo, hi in
                                            zip(pr.get("ratio", np.nan * pr["rate"]), pr.get("ratio_low", np.nan * pr["rate"]),
                                                pr.get("ratio_high", np.nan * pr["rate"]))],
            }, index=pr.index)
            parts += ["<h3>Purchase rate (BG/NBD per segment)</h3>", _html(shown),
                      "<p class='hint'>The rate r/&alpha; of the BG/NBD model fitted per segment separates buying "
                      "frequency from staying and from observation time (delta-method intervals). A segment defined by "
                      "the orders themselves stays selected: a customer needs two orders to be omnichannel.</p>"]
        if self.kpis_by_acquisition is not None:
            parts += ["<h3>By acquisition channel</h3>", _html(self.kpis_by_acquisition.formatted().rename(columns=labels))]
        parts += ["<h3>Retention</h3>", f"<p>Share of each first-order cohort that {esc(self.retention.kind)} "
                  "(heatmap: the 24 most recent cohorts of 20 customers or more; all cohorts in the CSV).</p>",
                  img("customer_retention_heatmap", "Cohort retention heatmap"),
                  img("customer_retention_curves", "Retention curves by segment")]
        if self.churn is not None:
            parts.append(f"<p>Churn flag: no order for more than {self.churn.attrs['threshold_days']:.0f} days (the "
                         f"{self.churn.attrs['quantile']:.0%} quantile of the inter-purchase times): "
                         f"{self.churn.mean():.1%} of customers.</p>")
        if self.clv is not None:
            by = "acquisition" if "acquisition" in self.clv.customers else self.by
            seg = self.clv.by_segment(by)
            shown = seg.copy()
            clv_labels = {"p_alive": "P(alive)", "expected_purchases": "expected purchases",
                          "expected_value": "expected value", "lifetime_value": "lifetime value",
                          "total_expected_value": "total expected value"}
            for col in shown.columns:
                shown[col] = [f"{v:,.0f}" if col in ("customers", "total_expected_value") else
                              (f"{v:.1%}" if col == "p_alive" else f"{v:,.2f}") for v in seg[col]]
            parts += [f"<h3>Lifetime value by {esc(by.replace('_', ' '))}</h3>", _html(shown.rename(columns=clv_labels)),
                      f"<p>{esc(repr(self.clv.bgnbd))}. "
                      + (esc(repr(self.clv.gamma_gamma)) + ". " if self.clv.gamma_gamma is not None else "")
                      + f"Expected value over the next {self.clv.horizon:g} {esc(self.clv.unit)}; lifetime value = "
                      "historical revenue + expected value (model-based predictions).</p>",
                      img("customer_clv", "Customer lifetime value by segment")]
        if self.roi is not None:
            r = self.roi
            shown = pd.DataFrame({
                "cost": ["–" if not np.isfinite(v) else f"{v:,.0f}" for v in r["cost"]],
                "attributed value": [f"{v:,.0f}" for v in r["value"]],
                "ROI": ["–" if not np.isfinite(v) else f"{v:.2f}" for v in r["roi"]],
                "attributed lifetime value": [f"{v:,.0f}" for v in r["lifetime_value"]],
                "lifetime ROI": ["–" if not np.isfinite(v) else f"{v:.2f}" for v in r["lifetime_roi"]],
            }, index=r.index)
            parts += [f"<h3>ROI on order value and on lifetime value ({esc(str(r.attrs.get('model', '')))})</h3>",
                      _html(shown),
                      "<p class='hint'>Lifetime value = order value + each customer's expected future value "
                      "(BG/NBD x Gamma-Gamma) added to the journey of their first purchase, then attributed by the "
                      "same model. Both are attributed (shares of observed conversions), not incremental.</p>"]
        if self.notes:
            parts.append("<ul class='notes'>" + "".join(f"<li>{esc(n)}</li>" for n in dict.fromkeys(self.notes)) + "</ul>")
        parts.append("</section>")
        return "".join(parts)

    def to_html(self, title: str = "Customer report") -> str:
        """A self-contained HTML page holding the Customers section."""
        from .report import _CSS

        return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
                f"<title>{esc(title)}</title><style>{_CSS}</style></head><body><main>"
                f"<header><h1>{esc(title)}</h1></header>" + self.section_html() + "</main></body></html>\n")

    def write(self, directory, *, html_name: str = "customers.html") -> list:
        """Write the HTML page and one CSV per table into ``directory``; returns the paths.

        CSV numbers are rounded on write (money to cents, the rest to 1e-6; see
        :mod:`attribution._csvwrite`); the tables in memory keep full precision.
        """
        from pathlib import Path

        from ._csvwrite import write_csv

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        paths = [d / html_name]
        paths[0].write_text(self.to_html(), encoding="utf-8")
        for name, df in self.tables().items():
            p = d / f"{name}.csv"
            write_csv(df, p, index=True)
            paths.append(p)
        return paths


# ---------------------------------------------------------------------------------------------
# surveys
@dataclass
class SurveyKPIs:
    """CSAT, CES and NPS per group with intervals (``table``)."""

    table: pd.DataFrame
    by: str | None
    level: float

    def __repr__(self) -> str:
        return f"Survey KPIs ({self.level:.0%} intervals):\n" + self.table.to_string()

    def _repr_html_(self) -> str:
        return f"<div><p><b>Survey KPIs</b> ({self.level:.0%} intervals)</p>{_html(self.table.round(3))}</div>"


def survey_kpis(
    survey: pd.DataFrame,
    by: str | None = None,
    *,
    customers: CustomerTable | None = None,
    customer: str = "customer_id",
    csat: str | None = "csat",
    ces: str | None = "ces",
    nps: str | None = "nps",
    csat_scale: int = 5,
    level: float = 0.9,
) -> SurveyKPIs:
    r"""CSAT, CES and NPS per group, with intervals, from a survey table keyed by person.

    Parameters
    ----------
    survey : DataFrame
        One row per answer: ``customer`` and any of the score columns (missing scores ignored).
    by : str, optional
        A column of ``survey`` (channel, journey stage, ...) or, with ``customers``, of the
        customer table (``place_segment``, ``acquisition``, ...).
    customers : CustomerTable, optional
        To take ``by`` from the customer table (ids mapped through its identity stitching by name).
    csat, ces, nps : str or None
        Score columns: CSAT on 1..``csat_scale``, CES on 1..7 (higher = easier), NPS 0..10.
    level : float, default 0.9

    Returns
    -------
    SurveyKPIs
        ``table`` per group: ``n_*`` answers, ``csat`` (share of top-2-box answers) with a Wilson
        interval, ``ces`` (mean) with a t interval, ``nps`` with a normal interval.

    Notes
    -----
    NPS :math:`= 100(\hat p_P - \hat p_D)` with promoters 9–10 and detractors 0–6; its
    variance is :math:`100^2[\hat p_P + \hat p_D - (\hat p_P - \hat p_D)^2]/n` (multinomial).
    CSAT uses the Wilson score interval for a proportion.

    References
    ----------
    .. [1] Reichheld, F. F. (2003). The one number you need to grow. *Harvard Business Review* 81(12).
    .. [2] Wilson, E. B. (1927). Probable inference... *JASA* 22(158), 209–212.
    """
    require_columns(survey, {"customer": customer}, "the survey")
    if not 0 < level < 1:
        raise ValueError(f"The 'level' parameter of survey_kpis must be in (0, 1). Got {level!r} instead.")
    df = survey.copy()
    if by is not None and by not in df.columns:
        if customers is None or by not in customers.customers.columns:
            raise ValueError(f"The 'by' parameter of survey_kpis must be a column of the survey or, with customers=, of "
                             f"the customer table. Got {by!r} instead.")
        df[by] = customers.customers[by].reindex(df[customer].astype(str)).to_numpy()
        df[by] = df[by].where(pd.notna(df[by]), "(not a customer)")
    z = special.ndtri(0.5 + level / 2)
    for col, lo, hi in ((csat, 1, csat_scale), (ces, 1, 7), (nps, 0, 10)):
        if col is not None and col in df.columns:
            s = pd.to_numeric(df[col], errors="coerce")
            bad = s.notna() & ((s < lo) | (s > hi) | (s != s.round()))
            if bad.any():
                raise JourneyValidationError(
                    f"Column {col!r} of the survey has {int(bad.sum())} answer(s) outside the integers {lo}..{hi}, e.g. "
                    f"{s[bad].head(3).tolist()}. Rescale them or pass the right scale."
                )
            df[col] = s
    groups = [("all", df)] if by is None else list(df.groupby(df[by].astype(str)))
    rows = {}
    for g, d in groups:
        row = {}
        if csat is not None and csat in d.columns:
            s = d[csat].dropna()
            n = len(s)
            k = float((s >= csat_scale - 1).sum())
            ph = k / n if n else np.nan
            den = 1 + z * z / n if n else np.nan
            ctr = (ph + z * z / (2 * n)) / den if n else np.nan
            half = z * np.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n)) / den if n else np.nan
            row.update(n_csat=n, csat=ph, csat_low=ctr - half, csat_high=ctr + half)
        if ces is not None and ces in d.columns:
            s = d[ces].dropna().to_numpy(float)
            n = len(s)
            m = s.mean() if n else np.nan
            from scipy import stats

            h = stats.t.ppf(0.5 + level / 2, n - 1) * s.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
            row.update(n_ces=n, ces=m, ces_low=m - h, ces_high=m + h)
        if nps is not None and nps in d.columns:
            s = d[nps].dropna().to_numpy(float)
            n = len(s)
            pp = (s >= 9).mean() if n else np.nan
            pd_ = (s <= 6).mean() if n else np.nan
            v = 100 * (pp - pd_)
            se = 100 * np.sqrt(max(pp + pd_ - (pp - pd_) ** 2, 0) / n) if n else np.nan
            row.update(n_nps=n, promoters=pp, detractors=pd_, nps=v, nps_low=max(v - z * se, -100), nps_high=min(v + z * se, 100))
        rows[g] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = by or "group"
    return SurveyKPIs(table, by, level)


# ---------------------------------------------------------------------------------------------
# value-aware attribution
def clv_journeys(journeys, clv):
    """Journeys whose value is each customer's lifetime value: :func:`attribution.clv.clv_journeys`
    (defined beside the CLV models, so the decision layer can use it without this module)."""
    from .clv import clv_journeys as _clv_journeys

    return _clv_journeys(journeys, clv)


def lifetime_roi(journeys, clv, costs, *, model="markov", **cost_options) -> pd.DataFrame:
    """ROI per channel on observed order value and on lifetime value, under one model.

    Parameters
    ----------
    journeys : Journeys
        From ``Journeys.from_events`` (customers and conversion times).
    clv : CLVResult or Series
        Expected future value per customer.
    costs : DataFrame, Series or dict
        As for :func:`attribution.decisions.comparison.compare`.
    model : str or model, default "markov"
    **cost_options
        ``cost``, ``channel``, ``period`` column names of ``costs``.

    Returns
    -------
    DataFrame
        Per channel: ``cost, value, roi, lifetime_value, lifetime_roi`` (``attrs["model"]``).

    Notes
    -----
    Two runs of :func:`attribution.decisions.comparison.compare` on the same journeys, the second with
    ``value="clv"``; conversions and costs are the same, only the value differs.
    """
    import warnings

    from .decisions.comparison import compare

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unmatched-cost notes are the same in both runs
        obs = compare(journeys, [model], costs, progress=False, **cost_options).roi_result.table
        life = compare(journeys, [model], costs, value="clv", clv=clv, progress=False, **cost_options).roi_result.table
    o = obs.set_index("channel")
    lt = life.set_index("channel")
    out = pd.DataFrame({"cost": o["cost"], "value": o["value"], "roi": o["roi"],
                        "lifetime_value": lt["value"].reindex(o.index), "lifetime_roi": lt["roi"].reindex(o.index)})
    out.index.name = "channel"
    out.attrs["model"] = str(model)
    return out
