"""The report's page frame and cell formatting: number formats, escaped HTML tables, fact lists,
notes, paragraphs and the style sheet; every string from the data goes through :func:`html.escape`."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..models.base import NO_TOUCH

_esc = html.escape


def _is_missing(v) -> bool:
    return v is None or (isinstance(v, (float, np.floating)) and np.isnan(v)) or v is pd.NA


def _fmt(v, kind: str = "num1") -> str:
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


def _table(df: pd.DataFrame, kinds=None, *, default: str = "num1", index_name: str | None = None,
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
            text = _fmt(v, kind) if kind != "text" else ("–" if _is_missing(v) else str(v))
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
    """A table cell of an estimate with its interval below it (``v``: ``(estimate, low, high)``)."""
    est, low, high = v if isinstance(v, tuple) else (v, np.nan, np.nan)
    iv = ""
    if not (_is_missing(low) or _is_missing(high)):
        iv = f"<span class='iv'>{_esc(_fmt(low, kind))} to {_esc(_fmt(high, kind))}</span>"
    return f"<td class='num{' em' if em else ''}'>{_esc(_fmt(est, kind))}{iv}</td>"


def _with_intervals(est: pd.DataFrame, low: pd.DataFrame | None, high: pd.DataFrame | None) -> pd.DataFrame:
    """``est`` with the cells of the columns of ``low``/``high`` as ``(estimate, low, high)`` (for the
    ``iv_*`` kinds of :func:`_table`; other columns, e.g. a truth column, unchanged); cells without
    an interval (no bootstrap for that model) carry NaN ends."""
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


_NUMERIC = re.compile(r"^[−+-]?[0-9.,]+(%| |$)")


def _facts(items: Sequence[tuple[str, str]], *, text: bool = False) -> str:
    """A two-column table of (label, already formatted value); a label starting with two spaces
    is indented under the row above."""
    sub, num = " class='sub'", " class='num'"
    rows = "".join(
        f"<tr><th scope='row'{sub if k.startswith('  ') else ''}>{_esc(k.strip())}</th>"
        f"<td{num if not text and _NUMERIC.match(v) else ''}>{_esc(v)}</td></tr>"
        for k, v in items
    )
    return f"<div class='table-wrap'><table class='facts'><tbody>{rows}</tbody></table></div>"


def _notes_list(notes: Sequence[str], cls: str = "notes") -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{_esc(n)}</li>" for n in notes)
    return f"<ul class='{cls}'>{items}</ul>"


def _p(text: str, cls: str = "") -> str:
    c = f" class='{cls}'" if cls else ""
    return f"<p{c}>{_esc(text)}</p>"




def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


_CSS = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#d9e2ec; --accent:#1b6f8a; --bg:#f5f7fa; --em:#fff7e0; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "DejaVu Sans", sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; min-height: 100vh; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 8px; padding-bottom: 8px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 36px 0 8px; padding-top: 8px; border-top: 1px solid var(--line); color: var(--accent); }
h3 { font-size: 16px; margin: 22px 0 6px; }
p { margin: 6px 0 10px; max-width: 80ch; }
.sub { color: var(--muted); margin: 0; }
nav { margin: 10px 0 0; font-size: 14px; }
nav a { color: var(--accent); margin-right: 14px; text-decoration: none; white-space: nowrap; }
nav a:hover { text-decoration: underline; }
.glance { background: #eef6f9; border-left: 4px solid var(--accent); padding: 10px 18px; margin: 18px 0; }
.glance h2 { border: 0; margin: 4px 0; padding: 0; font-size: 18px; }
.glance ul { margin: 4px 0 6px; padding-left: 20px; }
.glance li { margin: 3px 0; }
.table-wrap { overflow-x: auto; margin: 8px 0 14px; max-width: 100%; }
table { border-collapse: collapse; font-size: 13.5px; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 4px 0; color: var(--ink); }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { background: #f0f4f8; border-bottom: 2px solid #bcccdc; text-align: left; white-space: nowrap; }
thead th.num { text-align: right; }
tbody th { text-align: left; font-weight: 500; white-space: nowrap; max-width: 28ch; overflow-wrap: anywhere; }
td.num { text-align: right; white-space: nowrap; }
td .iv { display: block; font-size: 11.5px; color: var(--muted); }
tbody tr:nth-child(even) { background: #fafbfc; }
tr.muted th, tr.muted td { color: var(--muted); font-style: italic; }
th.em, td.em { background: var(--em); }
table.facts th { font-weight: 500; color: var(--muted); white-space: normal; max-width: 42ch; min-width: 16ch; }
table.facts th.sub { padding-left: 26px; }
table.facts td { text-align: left; }
table.facts td.num { text-align: right; }
.grid { display: flex; flex-wrap: wrap; gap: 0 32px; align-items: flex-start; }
.grid > div { flex: 1 1 320px; min-width: 0; }
figure { margin: 10px 0 18px; }
figure img { max-width: 100%; height: auto; display: block; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
.notes { color: #7a4d00; background: #fffaf0; border: 1px solid #f0dba8; padding: 8px 12px 8px 30px; font-size: 13.5px; }
.notes li { margin: 2px 0; overflow-wrap: anywhere; }
.hint { color: var(--muted); font-size: 13.5px; }
details { margin: 6px 0 12px; }
summary { cursor: pointer; color: var(--accent); font-size: 14px; }
.methods { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 4px 28px; }
.method { border-left: 3px solid var(--line); padding: 2px 0 2px 14px; margin: 10px 0 12px; }
.method h3 { margin-top: 4px; }
figure.small img { max-width: 560px; }
.method p { margin: 4px 0; }
.method b { color: var(--muted); font-weight: 600; }
code { background: #f0f4f8; padding: 0 4px; border-radius: 3px; font-size: 13px; }
footer { margin-top: 40px; border-top: 1px solid var(--line); padding-top: 8px; color: var(--muted); font-size: 13px; overflow-wrap: anywhere; }
@media print { body { background: #fff; } main { padding: 0; } details { display: block; } }
"""
