"""Every matplotlib call of the package lives in this sub-package.

One contract everywhere: matplotlib is imported inside the function, ``ax=None`` creates a
figure only when needed, and the function returns the ``Axes``.
"""


def save_png(ax, path, *, dpi: int = 110) -> None:
    """Write the figure of ``ax`` to ``path`` as PNG (Agg, no display needed) and close it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax.figure.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(ax.figure)
