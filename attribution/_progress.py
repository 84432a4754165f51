"""Progress bars that suit where they run: a terminal, a Jupyter kernel with or without widgets.

``tqdm.auto`` picks the widget bar in any Jupyter kernel; without ``ipywidgets`` that bar warns
"IProgress not found. Please update jupyter and ipywidgets" and falls back to a text bar on
stderr, which Jupyter paints in a red box as if something had failed. :func:`progress_bar`
decides itself:

* in a Jupyter kernel with ``ipywidgets`` importable: the widget bar (``tqdm.notebook``);
* in a Jupyter kernel without it: a plain text bar on **stdout** (shown as ordinary output, the
  carriage returns redraw it in place), without the warning;
* anywhere else (a terminal, a script, a test): a text bar on stderr (``tqdm.std``).
"""

from __future__ import annotations

import importlib.util
import sys

__all__ = ["progress_bar"]


def in_notebook() -> bool:
    """True inside a Jupyter (IPython kernel) session; False in a terminal, a script or IPython console."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # noqa: BLE001  (a broken or partial IPython: not a notebook)
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def has_widgets() -> bool:
    """True when ``ipywidgets`` can be imported (the widget progress bar can be drawn)."""
    try:
        return importlib.util.find_spec("ipywidgets") is not None
    except (ImportError, ValueError):
        return False


def progress_bar(total: int | None = None, *, desc: str = "", unit: str = "it", disable: bool = False,
                 leave: bool = False, file=None, **kwargs):
    """A tqdm progress bar for ``total`` steps, of the kind that suits where the code runs.

    Parameters
    ----------
    total : int, optional
    desc, unit : str
        As in ``tqdm``.
    disable : bool, default False
        A bar that shows nothing (still counts, and closes silently).
    leave : bool, default False
        Keep the finished bar on screen.
    file : file-like, optional
        Where a text bar is written; default stderr in a terminal, stdout in Jupyter.
    **kwargs
        Passed to ``tqdm`` (e.g. ``bar_format``).

    Returns
    -------
    tqdm.tqdm
        Use as ``tqdm``: ``update(n)``, ``set_description_str``, ``close()``.
    """
    if not disable and in_notebook():
        if has_widgets():
            from tqdm.notebook import tqdm as notebook_tqdm

            try:
                return notebook_tqdm(total=total, desc=desc, unit=unit, leave=leave, **kwargs)
            except ImportError:  # ipywidgets too old for tqdm: fall through to the text bar
                pass
        file = sys.stdout if file is None else file
    from tqdm.std import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=disable, leave=leave,
                file=sys.stderr if file is None else file, **kwargs)
