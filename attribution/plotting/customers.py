"""Pictures of the customer analysis (segment KPIs, cohort retention, lifetime value)."""

from __future__ import annotations

import numpy as np

_LABELS = {
    "customers": "customers", "orders_per_customer": "orders per customer",
    "average_order_value": "average order value", "revenue_per_customer": "revenue per customer",
    "repeat_rate": "repeat purchase rate", "median_days_between_orders": "median days between orders",
    "revenue_share": "share of revenue", "median_recency_days": "median days since last order",
}


def plot_segment_kpi(kpis, kpi: str = "revenue_per_customer", *, ax=None):
    """One KPI per segment as horizontal bars with the bootstrap interval. Returns the Axes."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    if kpi not in kpis.table.columns:
        raise ValueError(f"The 'kpi' parameter of plot_segment_kpi must be one of {list(kpis.table.columns)}. Got {kpi!r} instead.")
    est = kpis.table[kpi].astype(float)
    order = est.sort_values().index
    est = est[order]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.4 * len(est) + 1.5))
    y = np.arange(len(est))
    ax.barh(y, est.to_numpy(), color="#4C72B0")
    if kpis.low is not None and np.isfinite(kpis.low[kpi]).any():
        lo, hi = kpis.low[kpi][order].to_numpy(), kpis.high[kpi][order].to_numpy()
        ax.errorbar(est.to_numpy(), y, xerr=[est.to_numpy() - lo, hi - est.to_numpy()], fmt="none", ecolor="#222222", capsize=3)
    ax.set_yticks(y, [str(s) for s in order])
    pct = kpi in ("repeat_rate", "revenue_share")
    if pct:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlabel(_LABELS.get(kpi, kpi))
    ax.set_title(f"{_LABELS.get(kpi, kpi).capitalize()} by {kpis.by.replace('_', ' ')}"
                 + (f" ({kpis.level:.0%} bootstrap interval)" if kpis.low is not None else ""))
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_retention_heatmap(retention, *, ax=None, min_size: int = 1, max_cohorts: int | None = None):
    """Cohort x period retention heatmap (share of the cohort). Returns the Axes.

    ``min_size`` hides cohorts with fewer customers; ``max_cohorts`` keeps the most recent ones.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    m = retention.matrix[retention.sizes >= min_size]
    if m.empty:  # no cohort is that large: show them all
        m = retention.matrix
    if max_cohorts is not None and len(m) > max_cohorts:
        m = m.iloc[-max_cohorts:]
    data = m.drop(columns=[0]).to_numpy(float)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 0.28 * len(m) + 1.8))
    finite = data[np.isfinite(data)]
    vmax = float(np.quantile(finite, 0.98)) if finite.size else 1.0
    if not np.isfinite(data).any():
        ax.text(0.5, 0.5, "no cohort has a fully observed period after its first", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    im = ax.imshow(np.ma.masked_invalid(data), aspect="auto", cmap="viridis", vmin=0, vmax=max(vmax, 1e-9))
    ax.set_xticks(range(data.shape[1]), [str(k) for k in m.columns[1:]])
    step = max(1, len(m) // 25)
    ax.set_yticks(range(0, len(m), step), [f"{c} (n={int(retention.sizes[c]):,})" for c in m.index[::step]], fontsize=7)
    ax.set_xlabel(f"periods after the first order ({retention.freq})")
    ax.set_ylabel("first-order cohort")
    ax.set_title(f"Cohort retention: share of customers, {retention.kind}")
    cb = ax.figure.colorbar(im, ax=ax, fraction=0.04)
    cb.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    return ax


def plot_retention_curves(retention, *, ax=None):
    """Retention curves per segment (pooled over cohorts). Returns the Axes."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for name, row in retention.curves.iterrows():
        ax.plot(row.index[1:], row.to_numpy(float)[1:], marker="o", ms=3,
                lw=2.5 if name == "all customers" else 1.5, color="#222222" if name == "all customers" else None, label=str(name))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_ylim(bottom=0)
    ax.set_xlabel(f"periods after the first order ({retention.freq})")
    ax.set_ylabel("share of customers")
    ax.set_title(f"Retention by {retention.by or 'all'}: {retention.kind}")
    ax.legend(frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_clv_by_segment(clv, by: str = "acquisition", *, ax=None):
    """Mean lifetime value per segment, split into historical revenue and expected future value. Returns the Axes."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    c = clv.customers
    if by not in c.columns:
        by = "place_segment"
    g = c.groupby(c[by].astype(str))[["historical_revenue", "expected_value"]].mean()
    g = g.loc[g.sum(axis=1).sort_values().index]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.4 * len(g) + 1.6))
    y = np.arange(len(g))
    ax.barh(y, g["historical_revenue"], color="#4C72B0", label="historical revenue")
    ax.barh(y, g["expected_value"], left=g["historical_revenue"], color="#DD8452",
            label=f"expected next {clv.horizon:g} {clv.unit} (BG/NBD x Gamma-Gamma)")
    ax.set_yticks(y, [str(s) for s in g.index])
    ax.set_xlabel("mean value per customer")
    ax.set_title(f"Customer lifetime value by {by.replace('_', ' ')}")
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.5 / max(len(g), 1)), ncol=2)
    ax.spines[["top", "right"]].set_visible(False)
    return ax
