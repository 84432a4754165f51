"""The report's page frame and cell formatting: number formats, escaped HTML tables, fact lists,
notes, paragraphs and the style sheet; every string from the data goes through :func:`html.escape`."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .._display import _esc, _is_missing, _is_text_col  # noqa: F401 - report helpers import them from here
from .._display import _fmt_cell as _fmt  # noqa: F401
from .._display import _page_table as _table  # noqa: F401

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
