"""Display helpers shared by every ``_repr_html_``, ``__repr__`` and the HTML report.

Two table styles:

* notebook tables (:func:`_html_table`, plain text :func:`_fmt`): a DataFrame with each column
  formatted by a ``str.format`` pattern, labels escaped, numbers right-aligned inline;
* report tables (:func:`_page_table`, cells by :func:`_fmt_cell`): named formats per column
  (``num0``, ``num1``, ``num2``, ``money``, ``pct``, ``ratio``, ``text``, ...), classes for the report's
  style sheet, a minus sign and ``–`` for missing values.

And the words for a metric under an estimand (:func:`_metric_name`, :func:`_estimand_sentence`):
"iROAS" for incremental models, "Attributed ROI" for attributed ones. Every string that comes
from the data goes through :func:`html.escape`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

NO_TOUCH = "(no touch)"  # as attribution.models.base.NO_TOUCH (kept here so display needs no model code)

# ---------------------------------------------------------------------------------------------
# estimands in words
# ---------------------------------------------------------------------------------------------

_METRIC_NAMES = {
    "attributed": {"roi": "Attributed ROI", "roas": "Attributed ROAS", "cpa": "Attributed CPA",
                   "conversions": "Attributed conversions", "value": "Attributed value"},
    "incremental": {"roi": "Incremental ROI", "roas": "iROAS", "cpa": "Incremental CPA",
                    "conversions": "Incremental conversions", "value": "Incremental value"},
    "mixed": {"roi": "ROI (attributed or incremental, per model)", "roas": "ROAS (attributed) / iROAS (incremental)",
              "cpa": "CPA (attributed or incremental, per model)",
              "conversions": "Credited conversions (attributed or incremental, per model)",
              "value": "Credited value (attributed or incremental, per model)"},
}


def _estimand_kind(estimands) -> str:
    """``"attributed"``, ``"incremental"`` or ``"mixed"`` for a collection of estimands."""
    kinds = set(pd.Series(estimands, dtype=object).dropna().astype(str)) or {"attributed"}
    return kinds.pop() if len(kinds) == 1 else "mixed"


def _metric_name(metric: str, estimands) -> str:
    """Name of a metric under the estimands shown (e.g. "iROAS" for incremental models)."""
    return _METRIC_NAMES[_estimand_kind(estimands)].get(metric, metric)


def _estimand_sentence(estimands) -> str:
    """One sentence stating which estimand drives the figures."""
    est = pd.Series(estimands, dtype=object)
    kind = _estimand_kind(est)
    if kind == "attributed":
        return ("Estimand: attributed (observed conversions split over the channels that touched them; not "
                "what the channels caused).")
    if kind == "incremental":
        return ("Estimand: incremental (what each channel caused over the no-ad baseline): incremental ROI, "
                "iROAS and incremental CPA.")
    inc = [str(k) for k, v in est.items() if v == "incremental"]
    att = [str(k) for k, v in est.items() if v != "incremental"]
    return (f"Mixed estimands: {att} attributed (observed conversions split over touching channels), {inc} "
            "incremental (what channels caused). The figures are not the same quantity.")


# ---------------------------------------------------------------------------------------------
# notebook tables
# ---------------------------------------------------------------------------------------------


def _fmt_value(v: Any, fmt: str) -> str:
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return "NaN"
        if np.isinf(v):
            return "inf" if v > 0 else "-inf"
        return fmt.format(v)
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return fmt.format(v) if "%" not in fmt else str(v)
    return str(v)


def _fmt(df: pd.DataFrame, default: str = "{:,.2f}", formats: dict[str, str] | None = None) -> str:
    """``df`` as text with numbers formatted."""
    formats = formats or {}
    shown = df.copy().astype(object)
    for col in df.columns:
        f = formats.get(col, default)
        shown[col] = [_fmt_value(v, f) for v in df[col].to_numpy()]
    return shown.to_string()


def _html_table(df: pd.DataFrame, formats: dict[str, str] | None = None, default: str = "{:,.2f}") -> str:
    """``df`` as an HTML table with every label and string escaped with ``html.escape``."""
    formats = formats or {}
    esc = lambda x: html.escape(str(x))  # noqa: E731
    idx_name = esc(df.index.name) if df.index.name is not None else ""
    head = "".join(f"<th>{esc(c)}</th>" for c in df.columns)
    rows = []
    for label, row in zip(df.index, df.itertuples(index=False)):
        cells = "".join(
            f"<td style='text-align:right'>{esc(_fmt_value(v, formats.get(c, default)))}</td>"
            for c, v in zip(df.columns, row)
        )
        rows.append(f"<tr><th style='text-align:left'>{esc(label)}</th>{cells}</tr>")
    return (
        "<table class='dataframe'><thead><tr>"
        f"<th>{idx_name}</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _html_warnings(messages) -> list[str]:
    if not messages:
        return []
    items = "".join(f"<li>{html.escape(m)}</li>" for m in messages)
    return [f"<p><b>Warnings</b></p><ul>{items}</ul>"]


# ---------------------------------------------------------------------------------------------
# report cells and tables
# ---------------------------------------------------------------------------------------------

_esc = html.escape


def _is_missing(v) -> bool:
    return v is None or (isinstance(v, (float, np.floating)) and np.isnan(v)) or v is pd.NA


def _fmt_cell(v, kind: str = "num1") -> str:
    """One cell as text: kinds num0, num1, num2, money, pct, pct0, ratio, text."""
    if _is_missing(v):
        return "–"
    if isinstance(v, (float, np.floating, int, np.integer)) and not isinstance(v, (bool, np.bool_)):
        x = float(v)
        if math.isinf(x):
            return "∞" if x > 0 else "−∞"
        if kind == "num0":
            s = f"{x:,.0f}"
        elif kind == "num1":
            s = f"{x:,.1f}"
        elif kind in ("num2", "money", "ratio"):
            s = f"{x:,.2f}"
        elif kind == "num3":
            s = f"{x:,.3f}"
        elif kind == "pct":
            s = f"{x:.1%}"
        elif kind == "pct0":
            s = f"{x:.0%}"
        elif kind == "signed_pct":
            s = f"{x:+.0%}"
        elif kind == "signed":
            s = f"{x:+,.2f}"
        else:
            s = f"{x:,.6g}"
        return "−" + s[1:] if s.startswith("-") else s
    return str(v)


def _page_table(df: pd.DataFrame, kinds=None, *, default: str = "num1", index_name: str | None = None,
           cls: str = "", emphasis: Sequence[str] = (), caption: str | None = None) -> str:
    """``df`` as an escaped HTML table; numbers right-aligned and formatted per column."""
    kinds = kinds or {}
    idx = index_name if index_name is not None else (df.index.name or "")
    head = "".join(
        f"<th class='{'num' if str(kinds.get(c, default)).startswith('iv_') or not _is_text_col(df[c]) else ''}"
        f"{' em' if c in emphasis else ''}'>{_esc(str(c))}</th>"
        for c in df.columns
    )
    rows = []
    for label, row in zip(df.index, df.itertuples(index=False, name=None)):
        cells = []
        for c, v in zip(df.columns, row):
            kind = kinds.get(c, default)
            if kind.startswith("iv_"):  # (estimate, low, high): the interval on a second line
                cells.append(_interval_cell(v, kind[3:], c in emphasis))
                continue
            text = _fmt_cell(v, kind) if kind != "text" else ("–" if _is_missing(v) else str(v))
            klass = ("num" if kind != "text" and not isinstance(v, str) else "") + (" em" if c in emphasis else "")
            cells.append(f"<td class='{klass.strip()}'>{_esc(text)}</td>")
        rc = " class='muted'" if str(label) == NO_TOUCH else ""
        rows.append(f"<tr{rc}><th scope='row'>{_esc(str(label))}</th>{''.join(cells)}</tr>")
    cap = f"<caption>{_esc(caption)}</caption>" if caption else ""
    return (
        f"<div class='table-wrap'><table class='{cls}'>{cap}<thead><tr><th>{_esc(str(idx))}</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _interval_cell(v, kind: str, em: bool = False) -> str:
    """A report table cell of an estimate with its interval below it (``v``: ``(estimate, low, high)``)."""
    est, low, high = v if isinstance(v, tuple) else (v, np.nan, np.nan)
    iv = ""
    if not (_is_missing(low) or _is_missing(high)):
        iv = f"<span class='iv'>{_esc(_fmt_cell(low, kind))} to {_esc(_fmt_cell(high, kind))}</span>"
    return f"<td class='num{' em' if em else ''}'>{_esc(_fmt_cell(est, kind))}{iv}</td>"


def _with_intervals(est: pd.DataFrame, low: pd.DataFrame | None, high: pd.DataFrame | None) -> pd.DataFrame:
    """``est`` with the cells of the columns of ``low``/``high`` as ``(estimate, low, high)`` (for the
    ``iv_*`` kinds of :func:`_page_table`; other columns, e.g. a truth column, unchanged); cells
    without an interval (no bootstrap for that model) carry NaN ends."""
    if low is None or high is None:
        return est
    out = est.copy()
    for c in [c for c in est.columns if c in low.columns and c in high.columns]:
        lo = low[c].reindex(est.index).to_numpy(dtype=float)
        hi = high[c].reindex(est.index).to_numpy(dtype=float)
        out[c] = pd.Series(list(zip(est[c].to_numpy(dtype=float), lo, hi)), index=est.index, dtype=object)
    return out


def _is_text_col(s: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(s.dtype) and not all(
        isinstance(v, (int, float, np.integer, np.floating)) for v in s.to_numpy()
    )


# ---------------------------------------------------------------------------------------------
# small scalar and table formats of the customer, experiment and KPI results
# ---------------------------------------------------------------------------------------------

def _plain_table(df: pd.DataFrame) -> str:
    """A DataFrame as a bare HTML table: escaped labels and values as ``str()``, right-aligned."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in [df.index.name or ""] + list(df.columns))
    body = "".join(
        "<tr><th style='text-align:left'>" + html.escape(str(i)) + "</th>"
        + "".join(f"<td style='text-align:right'>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for i, row in zip(df.index, df.to_numpy())
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt_sig4(v) -> str:
    """A scalar for a key/value table: floats to 4 significant digits with thousands separators."""
    if isinstance(v, (float, np.floating)):
        return f"{v:,.4g}"
    return str(v)


def _fmt_kpi(v) -> str:
    """A KPI scalar: whole numbers without decimals, small rates to 4 significant digits, else 2 decimals."""
    if isinstance(v, (float, np.floating)):
        if math.isnan(v):
            return "NaN"
        if float(v).is_integer() and abs(v) < 1e15:
            return f"{v:,.0f}"
        return f"{v:,.4g}" if abs(v) < 1 else f"{v:,.2f}"
    return str(v)
