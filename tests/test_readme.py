"""The README's Python examples run verbatim from a plain clone (bundled data only).

The runnable blocks are executed in order in one fresh ``python`` process (as a reader who pastes
them one after the other into a session), from the repository root, with matplotlib's Agg
backend. Blocks that by design need the reader's own data (a GA4 export, a warehouse, a Spark
session) are listed in :data:`NEEDS_OWN_DATA`; every other Python block of the README must run, so
a new example cannot be added that a new user could not run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

#: Sections whose Python blocks run here, in README order.
RUNNABLE = ("In Python", "Attributed or incremental?", "Calibrating with experiments")

#: Sections whose Python blocks need the reader's own files or services (not run).
NEEDS_OWN_DATA = {
    "From your warehouse": "a GA4 BigQuery export of the reader's own",
    "Scaling up": "the reader's event files (DuckDB globs) or a Spark session",
    "Customers: lifetime value, retention, omnichannel vs single-channel": "the reader's orders and survey tables",
}


def python_blocks() -> list[tuple[str, str]]:
    """(section heading, code) of every ```python block of the README, in order."""
    text = README.read_text(encoding="utf-8")
    out, section = [], ""
    for m in re.finditer(r"^## ([^\n]+)$|^```python\n(.*?)^```", text, flags=re.M | re.S):
        if m.group(1) is not None:
            section = m.group(1).strip()
        else:
            out.append((section, m.group(2)))
    return out


def test_every_python_block_is_run_or_needs_the_readers_data():
    blocks = python_blocks()
    sections = {s for s, _ in blocks}
    assert "In Python" in sections
    unclassified = sections - set(RUNNABLE) - set(NEEDS_OWN_DATA)
    assert not unclassified, (
        f"README sections {sorted(unclassified)} hold Python examples that no test runs: make them run on the "
        "bundled data (data/samples/, attribution.datasets) and add them to RUNNABLE in tests/test_readme.py"
    )
    assert not [s for s, code in blocks if s in RUNNABLE and "../shared/data" in code]


def test_readme_python_blocks_run_verbatim(tmp_path):
    code = "\n".join(code for section, code in python_blocks() if section in RUNNABLE)
    script = tmp_path / "readme_examples.py"
    script.write_text(code + "\nprint('README examples ran')\n", encoding="utf-8")
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    res = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, env=env,
                         timeout=600)
    assert res.returncode == 0, f"README example failed:\n{res.stderr[-3000:]}"
    assert res.stdout.strip().endswith("README examples ran")
    # the warnings it prints point at the example's lines, not into the package
    warned = [line for line in res.stderr.splitlines() if re.search(r": \w*Warning: ", line)]
    assert warned and all(line.startswith(str(script)) for line in warned), warned
