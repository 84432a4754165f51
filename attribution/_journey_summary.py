"""The result of :meth:`attribution.Journeys.describe`: typed figures, shown in sections."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["JourneySummary"]

#: How each kind of figure is typed and shown.
KINDS = ("count", "weighted", "money", "length")

_SECTIONS = {
    "journeys": "Journeys and conversions",
    "paths": "Touches and paths",
    "excluded": "Touches excluded by journey rules",
}


def _weighted(x: float) -> str:
    if not math.isfinite(x):
        return "NaN" if math.isnan(x) else str(x)
    return f"{round(x):,}" if abs(x - round(x)) <= 1e-9 * max(1.0, abs(x)) else f"{x:,.2f}"


def _show(value: Any, kind: str) -> str:
    """One figure as text: counts with thousands separators, money to cents, lengths to 2 decimals."""
    if isinstance(value, float) and math.isnan(value):
        return "–"
    if kind == "count":
        return f"{int(value):,}"
    if kind == "weighted":
        return _weighted(float(value))
    if kind == "money":
        return f"{float(value):,.2f}"
    return _weighted(float(value)) if float(value).is_integer() else f"{float(value):,.2f}"


class JourneySummary(Mapping):
    """What :meth:`~attribution.Journeys.describe` returns: the journeys' figures, typed and named.

    A read-only mapping from figure name to value (``summary["conversions"]``), in three
    sections: journeys and conversions, touches and paths, and touches excluded by each journey
    rule. Counts of rows (``journey rows``, ``touches``, ``channels``, ``max path length``,
    ``excluded touches: <rule>``, ``input ... rows``) are ``int``; weighted counts (journeys,
    conversions, which may be fractional when path tables carry fractional counts), ``value`` and
    path lengths are ``float``. In Jupyter it shows as three small formatted tables; ``print``
    gives the same as text.

    Attributes
    ----------
    index : pandas.Index
        The figure names, in order.

    Examples
    --------
    >>> import pandas as pd
    >>> from attribution import Journeys
    >>> j = Journeys.from_paths(pd.DataFrame({"path": ["a > b", "b"], "total_conversions": [2, 1],
    ...                                       "total_null": [1, 0]}))
    >>> d = j.describe()
    >>> d["touches"], d["conversions"], d["max path length"]
    (3, 3.0, 2)
    >>> d.to_frame().loc["channels", "value"]
    2
    """

    def __init__(self, rows: list[tuple[str, Any, str, str]]):
        # rows: (name, value, kind, section)
        self._values = {name: value for name, value, _, _ in rows}
        self._kind = {name: kind for name, _, kind, _ in rows}
        self._section = {name: section for name, _, _, section in rows}

    # -- mapping ---------------------------------------------------------------------------------
    def __getitem__(self, key):
        if isinstance(key, (list, tuple, pd.Index)) and not isinstance(key, str):
            return self.to_series()[list(key)]
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    @property
    def index(self) -> pd.Index:
        """The figure names, in order (as ``Series.index``)."""
        return pd.Index(list(self._values), dtype=object)

    def kind(self, name: str) -> str:
        """How figure ``name`` is counted: ``"count"``, ``"weighted"``, ``"money"`` or ``"length"``."""
        return self._kind[name]

    # -- conversions -----------------------------------------------------------------------------
    def to_series(self) -> pd.Series:
        """Every figure as one Series (object dtype: ``int`` counts beside ``float`` values)."""
        return pd.Series(self._values, name="journeys", dtype=object)

    def to_frame(self, name: str = "value") -> pd.DataFrame:
        """Every figure as a one-column DataFrame (index: figure names), e.g. to save as CSV."""
        return self.to_series().to_frame(name)

    def to_dict(self) -> dict:
        """Every figure by name (a plain ``dict``, in order)."""
        return dict(self._values)

    def map(self, func) -> pd.Series:
        """``to_series().map(func)`` (kept for code written when ``describe`` returned a Series)."""
        return self.to_series().map(func)

    def formatted(self) -> pd.DataFrame:
        """The figures as shown: columns ``section``, ``value`` (text), index the figure names.

        Excluded-touch counts of rules that excluded nothing are left out.
        """
        names = [n for n in self._values if not (self._section[n] == "excluded" and self._values[n] == 0)]
        return pd.DataFrame(
            {
                "section": [_SECTIONS[self._section[n]] for n in names],
                "value": [_show(self._values[n], self._kind[n]) for n in names],
            },
            index=pd.Index(names, name="figure", dtype=object),
        )

    # -- display ---------------------------------------------------------------------------------
    def _headline(self) -> str:
        v = self._values
        return (
            f"{v['journey rows']:,} journey rows: {_weighted(v['conversions'])} conversions "
            f"(value {v['value']:,.2f}), {v['touches']:,} touches over {v['channels']:,} channels"
        )

    def _excluded_note(self) -> str | None:
        if any(self._section[n] == "excluded" and self._values[n] for n in self._values):
            return None
        return "no touch was excluded by a journey rule"

    def __repr__(self) -> str:
        shown = self.formatted()
        width = max((len(n) for n in shown.index), default=0) + 2
        lines = [f"JourneySummary: {self._headline()}"]
        for key, title in _SECTIONS.items():
            part = shown[shown["section"] == title]
            lines.append(f"{title}:")
            for name, value in part["value"].items():
                label = name.replace("excluded touches: ", "") if key == "excluded" else name
                lines.append(f"  {label:<{width}}{value:>12}")
            if key == "excluded" and part.empty:
                lines.append(f"  ({self._excluded_note()})")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from ._display import _html_table

        shown = self.formatted()
        blocks = []
        for key, title in _SECTIONS.items():
            part = shown[shown["section"] == title]
            if key == "excluded":
                part = part.rename(index=lambda n: n.replace("excluded touches: ", ""))
                if part.empty:
                    blocks.append(
                        f"<div><p><b>{html.escape(title)}</b></p><p>{html.escape(self._excluded_note())}</p></div>"
                    )
                    continue
            frame = part[["value"]].rename(columns={"value": ""})
            frame.index.name = title
            blocks.append(f"<div>{_html_table(frame, default='{}')}</div>")
        return (
            f"<div style='max-width:72em'><p><b>{html.escape(self._headline())}</b></p>"
            "<div style='display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start'>"
            + "".join(blocks) + "</div></div>"
        )
