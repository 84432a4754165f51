"""Pictures of the omnichannel (ROPO) analysis."""

from __future__ import annotations


def plot_place_credit(by_channel, ax=None):
    """Credited conversions per channel, stacked by the place of the purchase.

    Parameters
    ----------
    by_channel : DataFrame
        Columns ``online_conversions`` and ``store_conversions`` indexed by channel (the
        ``by_channel`` table of :func:`attribution.ropo`).
    ax : matplotlib Axes, optional
        Drawn on a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    data = by_channel[["online_conversions", "store_conversions"]].astype(float)
    data = data.loc[data.sum(axis=1).sort_values().index]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.35 * len(data) + 1.6))
    y = range(len(data))
    ax.barh(y, data["online_conversions"], color="#4C72B0", label="purchased online")
    ax.barh(y, data["store_conversions"], left=data["online_conversions"], color="#DD8452", label="purchased in store (ROPO)")
    ax.set_yticks(list(y), [str(c) for c in data.index])
    total = data.sum(axis=1)
    for i, (t, s) in enumerate(zip(total, data["store_conversions"])):
        if t > 0:
            ax.text(t, i, f"  {s / t:.0%} store", va="center", fontsize=8, color="#555555")
    ax.set_xlim(0, total.max() * 1.18 if len(total) and total.max() > 0 else 1)
    ax.set_xlabel("credited conversions")
    ax.set_title("Conversion credit of each online channel, by where the purchase happened")
    ax.legend(loc="lower right", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return ax
