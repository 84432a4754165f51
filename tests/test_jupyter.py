"""Jupyter-native objects: fitted models, describe(), ROPO, KPIs and simulated data display their
figures formatted (counts whole, money to cents, rates as %); progress bars suit the front end;
warnings point at the caller's line."""

from __future__ import annotations

import html
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attribution as at
from attribution import Journeys
from attribution.exceptions import DataQualityWarning, ExcludedRowsWarning, ModelFallbackWarning

HERE = str(Path(__file__).resolve())


def _cells(h: str) -> list[str]:
    """The text of every table cell of an HTML fragment, unescaped."""
    return [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", h, flags=re.S)]


def _row(h: str, label: str) -> list[str]:
    """The cells of the table row whose first cell is ``label``."""
    for tr in re.findall(r"<tr>(.*?)</tr>", h, flags=re.S):
        cells = _cells(tr)
        if cells and cells[0] == label:
            return cells[1:]
    raise AssertionError(f"no row {label!r}")


def paths() -> Journeys:
    return Journeys.from_paths(pd.DataFrame({
        "path": ["a > b", "b", "a", "b > c", ""],
        "total_conversions": [3, 1, 0, 2, 1],
        "total_conversion_value": [30.5, 10.0, 0.0, 20.25, 4.0],
        "total_null": [1, 2, 4, 1, 0],
    }), warn=False)


@pytest.fixture(scope="module")
def sample():
    return at.datasets.load_sample()


@pytest.fixture(scope="module")
def sample_journeys(sample):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Journeys.from_events(sample.touchpoints, sample.conversions, identities=sample.identities,
                                    lookback="30D", place="place")


# ---------------------------------------------------------------------------------------------
# fitted models
# ---------------------------------------------------------------------------------------------


def test_unfitted_model_shows_its_constructor():
    m = at.Markov(order=2)
    assert repr(m) == "Markov(order=2)"
    assert m._repr_html_() is None  # Jupyter then shows the text repr
    assert repr(at.get_model("position_based:first=0.3,last=0.5")) == "PositionBased(first=0.3, last=0.5)"


def test_fitted_markov_shows_credits_and_removal_effects():
    j = paths()
    m = at.Markov().fit(j)
    text = repr(m)
    first = text.splitlines()[0]
    assert first == "Markov(), fitted: attributed credit of 7 conversions (value 64.75) over 3 channels"
    assert "Estimand: attributed" in text and "(no touch)" in text
    h = m._repr_html_()
    for ch in ["a", "b", "c"]:
        cr = m.credits_.loc[ch]
        want = [f"{cr['conversions']:,.1f}", f"{cr['value']:,.2f}", f"{cr['share']:.1%}",
                f"{m.removal_effects_.loc[ch, 'conversions']:.1%}"]
        assert _row(h, ch) == want
        assert _row(text_table(text), ch) == want
    assert _row(h, "(no touch)") == ["1.0", "4.00", f"{1 / 7:.1%}", ""]  # no removal effect for it
    assert f"conversion probability <b>{m.conversion_probability_:.2%}</b>" in h
    # the fitted repr does not leak into parameter errors
    with pytest.raises(ValueError, match=r"for estimator Markov\(\)\. Valid"):
        m.set_params(ordr=2)


def text_table(text: str) -> str:
    """The text repr's table rows as minimal HTML rows (label, then the columns split on 2+ spaces)."""
    rows = []
    for line in text.splitlines():
        parts = re.split(r"\s{2,}", line.strip())
        if len(parts) >= 2:
            rows.append("<tr>" + "".join(f"<td>{html.escape(p)}</td>" for p in parts) + "</tr>")
        m = re.match(r"^(\(no touch\))\s+(\S+)\s+(\S+)\s+(\S+)\s*$", line)
        if m:
            rows.append("<tr>" + "".join(f"<td>{p}</td>" for p in m.groups()) + "<td></td></tr>")
    return "".join(rows)


def test_shapley_and_incremental_models_say_what_they_hold(sample):
    j = paths()
    sh = at.Shapley().fit(j)
    assert "Shapley values <b>exact</b>" in sh._repr_html_()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        je = Journeys.from_events(sample.touchpoints, sample.conversions, identities=sample.identities,
                                  lookback=None, place="place")
        aipw = at.get_model("aipw").fit(je)
    h = aipw._repr_html_()
    assert "incremental credit of 722 conversions (value 57,898.62)" in h
    assert "Estimand: incremental" in h
    iv = aipw.credit_intervals_
    ch = aipw.channels_[0]
    row = _row(h, ch)
    assert row[3:] == [f"{iv.loc[ch, 'conversions_low']:,.1f}", f"{iv.loc[ch, 'conversions_high']:,.1f}"]
    assert _row(h, "(baseline)")[0] == f"{aipw.credits_.loc['(baseline)', 'conversions']:,.1f}"
    assert "place_credits_" in h  # the split by place, folded
    assert repr(aipw).splitlines()[0].startswith("AIPW(), fitted: incremental credit of 722 conversions")


def test_long_credit_tables_are_cut_in_text_and_folded_in_html():
    names = [f"c{i:02d}" for i in range(30)]
    j = Journeys(names, np.arange(30), np.arange(31), conversions=np.ones(30), nulls=np.zeros(30))
    m = at.Linear().fit(j)
    lines = repr(m).splitlines()
    assert lines[-1] == "... 6 more rows (see credits_)"
    assert sum(bool(re.match(r"c\d\d ", line)) for line in lines) == 24
    h = m._repr_html_()
    assert "<details><summary>credits_ (30 rows)</summary>" in h and _row(h, "c29") == ["1.0", "0.00", "3.3%"]


# ---------------------------------------------------------------------------------------------
# Journeys.describe
# ---------------------------------------------------------------------------------------------


def test_describe_is_typed_and_formatted():
    touches = pd.DataFrame({"customer_id": ["u"] * 4 + ["v"],
                            "timestamp": ["2026-01-01", "2026-01-20", "2026-01-25", "2026-01-30", "2026-01-02"],
                            "channel": ["a", "b", "c", "c", "a"]})
    convs = pd.DataFrame({"customer_id": ["u", "v"], "timestamp": ["2026-02-01", "2026-01-03"],
                          "value": [1234.5, 10.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        j = Journeys.from_events(touches, convs, lookback="14D")
    d = j.describe()
    assert type(d["touches"]) is int and d["touches"] == 4
    assert type(d["journey rows"]) is int and type(d["channels"]) is int and type(d["max path length"]) is int
    assert type(d["excluded touches: lookback"]) is int and d["excluded touches: lookback"] == 1
    assert type(d["conversions"]) is float and d["conversions"] == 2.0
    assert d["value"] == 1244.5 and d["mean path length"] == 2.0
    assert d.kind("value") == "money" and d.kind("touches") == "count"
    # pandas views keep every figure, in order
    s = d.to_series()
    assert list(s.index) == list(d) == list(d.index) and len(d) == len(s)
    assert d.to_frame().loc["touches", "value"] == 4 and d.to_dict()["channels"] == 3
    assert list(d[["touches", "channels"]]) == [4, 3]
    assert "touches" in d and "nothing" not in d
    # display: counts whole, money to cents, only the rules that excluded touches
    text = repr(d)
    assert re.search(r"\n  value\s+1,244\.50\n", text) and re.search(r"\n  conversions\s+2\n", text)
    assert re.search(r"\n  lookback\s+1$", text) and "max_length" not in text
    h = d._repr_html_()
    assert _row(h, "value") == ["1,244.50"] and _row(h, "conversions") == ["2"] and _row(h, "lookback") == ["1"]
    assert "Touches excluded by journey rules" in h and "collapsed_repeats" not in h


def test_describe_says_when_nothing_was_excluded():
    d = paths().describe()
    assert "no touch was excluded by a journey rule" in d._repr_html_()
    assert "(no touch was excluded by a journey rule)" in repr(d)
    assert _row(d._repr_html_(), "conversions without touches") == ["1"]


# ---------------------------------------------------------------------------------------------
# ROPO, KPIs, simulated data
# ---------------------------------------------------------------------------------------------


def test_ropo_report_formats_counts_money_and_rates(sample, sample_journeys):
    r = at.ropo(sample_journeys, "last_touch", offline=["store_visit"], customers=sample.customers, n_boot=20)
    h = r._repr_html_()
    s = r.summary
    assert _row(h, "store conversions") == [f"{round(s['store_conversions']):,}"] == ["236"]
    assert _row(h, "store value") == [f"{s['store_value']:,.2f}"]
    assert _row(h, "ropo rate") == [f"{s['ropo_rate']:.1%}"]
    assert _row(h, "store value credited to online") == [f"{s['store_value_credited_to_online']:,.2f}"]
    assert _row(h, "customers") == [f"{int(r.incrementality['customers']):,}"]
    assert ".000" not in h
    by = r.by_channel
    ch = by.index[0]
    assert _row(h, ch)[-1] == f"{by.loc[ch, 'ropo_share']:.1%}"


def test_kpis_html_folds_long_tables_and_caps_width(sample_journeys):
    k = at.kpis(sample_journeys)
    h = k._repr_html_()
    n_steps = len(k.drop_off_steps)
    assert n_steps > 12
    assert f"<summary><b>Drop-off by step</b> ({n_steps} rows)</summary>" in h
    assert "<details><summary><b>By channel" not in h  # ten channels: shown open
    assert h.count("overflow-x:auto") >= 5
    o = k.overall
    assert _row(h, "conversion rate") == [f"{o['conversion_rate']:.1%}"]
    assert _row(h, "touches") == [f"{round(o['touches']):,}"]
    assert _row(h, "value") == [f"{o['value']:,.2f}"]
    ch = k.by_channel.index[0]
    row = _row(h, ch)
    assert row[0] == f"{round(k.by_channel.loc[ch, 'touches']):,}" and row[1] == f"{k.by_channel.loc[ch, 'share_of_touches']:.1%}"
    assert "conversion rate 23.2%" in repr(k)


def test_simulated_data_shows_sizes_not_frames(sample):
    text = repr(sample)
    assert len(text.splitlines()) == 7
    assert text.startswith("SimulatedData(regime='episodes', n_customers=3000")
    assert "  .touchpoints     14,262 rows  [customer_id, timestamp, channel]" in text
    h = sample._repr_html_()
    assert _row(h, "conversions") == ["722", "customer_id, timestamp, value, place"]
    assert h.count("<tr>") == 1 + 5 + 1 + 3  # sizes (head + 5) and the first three touches (head + 3)


# ---------------------------------------------------------------------------------------------
# progress bars
# ---------------------------------------------------------------------------------------------


def test_progress_in_jupyter_without_widgets_is_a_plain_bar_on_stdout(monkeypatch, capsys):
    from attribution import _progress

    monkeypatch.setattr(_progress, "in_notebook", lambda: True)
    monkeypatch.setattr(_progress, "has_widgets", lambda: False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "IProgress not found" TqdmWarning
        at.bootstrap("linear", paths(), n=3, progress=True)
    out, err = capsys.readouterr()
    assert "bootstrap linear" in out and "replicate" in out
    assert err == ""


def test_progress_in_a_terminal_goes_to_stderr(monkeypatch, capsys):
    from attribution import _progress

    monkeypatch.setattr(_progress, "in_notebook", lambda: False)
    at.bootstrap("linear", paths(), n=3, progress=True)
    out, err = capsys.readouterr()
    assert "bootstrap linear" in err and out == ""
    at.bootstrap("linear", paths(), n=3, progress=False)
    assert capsys.readouterr() == ("", "")


def test_progress_in_a_real_kernel_without_ipywidgets():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    import importlib.util

    if importlib.util.find_spec("ipywidgets") is not None:
        pytest.skip("ipywidgets is installed: the kernel would draw the widget bar")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import pandas as pd, attribution as at\n"
        "j = at.Journeys.from_paths(pd.DataFrame({'path': ['a > b', 'b'], 'total_conversions': [2, 1],"
        " 'total_null': [1, 1]}))\n"
        "b = at.bootstrap('linear', j, n=5, progress=True)"
    )]
    nbclient.NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    assert not [o for o in outputs if o.get("name") == "stderr" or o.output_type == "error"], outputs
    text = "".join(o.get("text", "") for o in outputs)
    assert "IProgress" not in text and "bootstrap linear" in text


# ---------------------------------------------------------------------------------------------
# warnings point at the caller
# ---------------------------------------------------------------------------------------------


def _caught(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fn()
    return w


def test_excluded_rows_warning_points_at_the_caller():
    touches = pd.DataFrame({"customer_id": ["u"] * 3, "timestamp": ["2026-01-01", "2026-01-20", "2026-01-25"],
                            "channel": ["a", "b", "c"]})
    convs = pd.DataFrame({"customer_id": ["u"], "timestamp": ["2026-02-01"]})
    w = _caught(lambda: Journeys.from_events(touches, convs, lookback="14D"))
    hits = [x for x in w if issubclass(x.category, ExcludedRowsWarning)]
    assert hits and all(x.filename == HERE for x in hits), [(x.filename, x.lineno) for x in w]
    # through the DuckDB engine too, when installed
    if __import__("importlib").util.find_spec("duckdb"):
        w = _caught(lambda: Journeys.from_events(touches, convs, lookback="14D", engine="duckdb"))
        hits = [x for x in w if issubclass(x.category, ExcludedRowsWarning)]
        assert hits and all(x.filename == HERE for x in hits), [(x.filename, x.lineno) for x in w]


def test_data_quality_warnings_point_at_the_caller():
    frame = pd.DataFrame({"path": ["a > b", ""], "total_conversions": [1, 1], "total_null": [0, 0]})
    w = _caught(lambda: Journeys.from_paths(frame))
    hits = [x for x in w if issubclass(x.category, DataQualityWarning)]
    assert hits and all(x.filename == HERE for x in hits)
    # raised deep inside compare -> fit -> the data-driven model
    j = Journeys.from_paths(frame.iloc[:1])
    w = _caught(lambda: at.compare(j, ["probabilistic"], progress=False))
    hits = [x for x in w if issubclass(x.category, DataQualityWarning)]
    assert hits and all(x.filename == HERE for x in hits), [(x.filename, x.lineno) for x in w]


def test_model_fallback_warning_points_at_the_caller():
    j = paths()
    w = _caught(lambda: at.Markov(order=5).fit(j))
    hits = [x for x in w if issubclass(x.category, ModelFallbackWarning)]
    assert hits and all(x.filename == HERE for x in hits)
    w = _caught(lambda: at.compare(j, ["markov:order=5"], progress=False))
    hits = [x for x in w if issubclass(x.category, ModelFallbackWarning)]
    assert hits and all(x.filename == HERE for x in hits)


def test_library_warnings_go_through_warn_user():
    """Every ``warnings.warn`` of the package (outside the CLI, whose notes are caught and printed)
    goes through :func:`attribution._warnings.warn_user`, so none needs a hand-counted stacklevel."""
    root = Path(at.__file__).resolve().parent
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if rel in ("_warnings.py",) or rel.startswith("cli"):
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\bwarnings\.warn\(", line):
                offenders.append(f"{rel}:{i}")
    assert not offenders, (
        f"warnings.warn with a fixed stacklevel at {offenders}: use attribution._warnings.warn_user(message, "
        "category), which points the warning at the user's line"
    )


def test_warn_user_from_a_script_frame(tmp_path):
    """A warning raised for a caller several package frames deep names the caller's file and line."""
    script = tmp_path / "user_script.py"
    script.write_text(
        "import warnings, pandas as pd\nimport attribution as at\n"
        "warnings.simplefilter('always')\n"
        "j = at.Journeys.from_paths(pd.DataFrame({'path': ['a > b'], 'total_conversions': [1], 'total_null': [1]}))\n"
        "at.Markov(order=4).fit(j)\n"
    )
    import subprocess

    env = {**__import__("os").environ, "PYTHONPATH": str(Path(at.__file__).resolve().parents[1])}
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    assert f"{script}:5: ModelFallbackWarning" in res.stderr
    assert np.all(["attribution/" not in line.split(":")[0] for line in res.stderr.splitlines() if "Warning:" in line])


def test_other_simulated_data_show_one_line():
    from attribution.datasets import simulate_customers, simulate_geo

    geo = simulate_geo(random_state=0)
    text = repr(geo)
    assert "\n" not in text and text.startswith(f"GeoPanel: 50 geos x 120 days ({len(geo.data):,} rows")
    assert f"true lift online_conversions {geo.true_lift():.1%}" in text
    cust = simulate_customers(200, random_state=0)
    assert repr(cust) == (f"SimulatedCustomers(2025-01-01 .. {cust.end:%Y-%m-%d}): .orders {len(cust.orders):,} rows; "
                          ".customers 200 rows")
