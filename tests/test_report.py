"""The self-contained HTML report: sections follow the data (costs, places), figures are
embedded, every data string is escaped, the method notes are complete, and the page renders in
headless Chromium (skipped when Chromium is not installed)."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import warnings

import numpy as np
import pandas as pd
import pytest

import attribution.report as report_module
from attribution import Journeys, compare
from attribution.datasets import simulate
from attribution.models import MODELS
from attribution.report import (
    METHOD_NOTES,
    Report,
    budget_bounds,
    build_report,
    guess_offline,
    method_note,
)

XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def sim():
    return simulate(400, days=30, random_state=2)


@pytest.fixture(scope="module")
def full(sim):
    """Events with places, costs, customers and truth: every section."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        journeys = sim.journeys(warn=False)
        report = build_report(
            journeys, ["last_touch", "linear", "markov"], costs=sim.costs, truth=sim.truth(),
            customers=sim.customers, n_boot=20, inputs={"touchpoints": "touchpoints.csv", "costs": "costs.csv"},
            settings={"lookback": "30D"},
        )
    return report, report.to_html()


@pytest.fixture(scope="module")
def minimal(sim):
    """A path table without costs: no ROI, budget or ROPO section."""
    paths = sim.journeys(warn=False).to_paths()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        journeys = Journeys.from_paths(paths)
        report = build_report(journeys, ["last_touch", "markov"], kpis=False)
    return report, report.to_html()


def section_ids(page: str) -> set[str]:
    return set(re.findall(r"<section id='([a-z]+)'", page))


def test_every_section_with_costs_and_places(full):
    report, page = full
    assert section_ids(page) == {"data", "models", "roi", "budget", "ropo", "kpis", "methods"}
    for title in ("At a glance", "Model comparison", "Return on investment", "Budget plan",
                  "Research online, purchase offline", "Journey KPIs", "Method notes"):
        assert title in page
    # data summary: journeys, conversions, excluded rows
    assert "touches excluded" in page and "conversions at store" in page
    # the comparison table lists every model and the truth
    for label in ("last_touch", "linear", "markov", "truth"):
        assert f">{label}</th>" in page
    # figures of every section
    assert set(report.figures) == {"credits", "credits_over_time", "rank_agreement", "roi", "budget", "ropo",
                                   "kpi_positions", "kpi_drop_off"}


def test_sections_follow_the_data(minimal):
    report, page = minimal
    assert section_ids(page) == {"data", "models", "methods"}
    assert "Return on investment" not in page and "Budget plan" not in page and "ROPO" not in page
    assert set(report.figures) == {"credits", "rank_agreement"}
    assert report.plan is None and report.ropo is None and not report.has_costs


def test_no_ropo_without_a_store_place(sim):
    conv = sim.conversions.assign(place="web")
    journeys = Journeys.from_events(sim.touchpoints, conv, identities=sim.identities, warn=False)
    report = build_report(journeys, ["last_touch"], kpis=False, budget=False)
    assert report.ropo is None
    assert any("ROPO left out" in n for n in report.notes)


def test_page_is_self_contained(full):
    _, page = full
    assert page.startswith("<!DOCTYPE html>")
    assert "<style>" in page
    low = page.lower()
    for forbidden in ("<script", "<link", "@import", "url(", "http://", "https://", "<iframe"):
        assert forbidden not in low, forbidden
    sources = re.findall(r"<img[^>]*\ssrc='([^']*)'", page)
    assert len(sources) == 8
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000


def test_numbers_are_formatted_and_channels_sorted(full):
    report, page = full
    table = report.credits_table()
    real = [c for c in table.index if c != "(no touch)"]
    means = table.drop(columns=["truth"]).loc[real].mean(axis=1)
    assert list(means.index) == list(means.sort_values(ascending=False).index)
    assert table.index[-1] == "(no touch)"
    # thousands separators and fixed decimals, no raw floats
    assert re.search(r"\d\.\d{6,}", re.sub(r"base64,[^']*", "", page)) is None


def test_channel_names_are_escaped(monkeypatch):
    monkeypatch.setattr(report_module, "_png", lambda draw, figsize: b"\x89PNG\r\n\x1a\n")
    paths = pd.DataFrame({
        "path": [f"{XSS} | email", "email", "search | $5 & <b>bold</b>", f"search | {XSS}", "email | search"],
        "total_conversions": [3, 1, 2, 2, 1],
        "total_conversion_value": [30.0, 10.0, 20.0, 20.0, 10.0],
        "total_null": [5, 6, 7, 4, 3],
    })
    journeys = Journeys.from_paths(paths, sep="|")
    costs = {XSS: 10.0, "email": 5.0, "search": 8.0, "<img src=x onerror=alert(2)>": 3.0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = build_report(
            journeys, ["last_touch", "linear", "markov"], costs=costs, truth={XSS: 1.0, "email": 2.0, "search": 1.0},
            inputs={"input": "<img src=x onerror=alert(3)>.csv"}, settings={"<i>column</i>": "<u>x</u>"},
            title=f"Report {XSS}",
        )
        page = report.to_html()
    assert XSS not in page
    assert XSS_ESCAPED in page
    assert "<script" not in page.lower()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(3)&gt;.csv" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold</b>" not in page
    assert "<i>column</i>" not in page and "<u>x</u>" not in page
    assert "$5 &amp; " in page
    assert f"<title>Report {XSS_ESCAPED}</title>" in page


def test_method_notes_cover_every_model():
    for name in MODELS:
        note = method_note(name)
        assert note["does"] and "{" not in note["does"] + note["assumes"] + note["use"], name
        if name in METHOD_NOTES:
            assert note["assumes"] and note["use"], name
    assert "last 2 channels" in method_note("markov:order=2")["does"]
    assert "7 days" in method_note("time_decay")["does"]
    assert "3 days" in method_note("time_decay:half_life=3D")["does"]
    assert "30%" in method_note("position_based:first=0.3,last=0.5")["does"]
    assert "conversion rate" in method_note("shapley:method=conversion_rate")["does"]
    assert "equally among the distinct channels" in method_note("shapley")["does"]


def test_helpers():
    assert guess_offline(["email", "store_visit", "Offline Event", "shopping_ads", "display"]) == [
        "store_visit", "Offline Event"]
    costs = pd.DataFrame({"channel": ["a", "a", "b", "c"], "cost": [1.0, 3.0, 10.0, 0.0]})
    assert budget_bounds(costs) == {"a": (2.0, 8.0), "b": (5.0, 20.0)}
    with pytest.raises(ValueError, match="low <= 1 <= high"):
        budget_bounds(costs, 1.5, 2.0)


def test_report_from_a_comparison_and_write(sim, tmp_path, monkeypatch):
    monkeypatch.setattr(report_module, "_png", lambda draw, figsize: b"\x89PNG\r\n\x1a\n")
    journeys = sim.journeys(warn=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = compare(journeys, ["last_touch", "markov"], costs=sim.costs, progress=False)
        report = build_report(cmp, ropo=False, kpis=False, budget=1000.0)
    assert isinstance(report, Report) and report.plan.total_budget == 1000.0
    files = report.write(tmp_path)
    names = {p.name for p in files}
    assert {"report.html", "credits.csv", "credits_wide.csv", "roi.csv", "budget_plan.csv", "credits.png"} <= names
    assert files[0].name == "report.html"
    assert "<iframe srcdoc=" in report._repr_html_()
    with pytest.raises(ValueError, match="costs"):
        build_report(cmp, costs=sim.costs)
    with pytest.raises(ValueError, match="budget_model"):
        build_report(cmp, budget_model="linear", ropo=False, kpis=False)
    with pytest.raises(TypeError):
        build_report("journeys.csv")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium (Debian package 'chromium') is not installed")
def test_page_renders_in_headless_chromium(full, tmp_path):
    from PIL import Image

    _, page = full
    html_file = tmp_path / "report.html"
    html_file.write_text(page, encoding="utf-8")
    shot = tmp_path / "report.png"
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,4000", f"--screenshot={shot}",
        html_file.as_uri(),
    ]
    subprocess.run(cmd, capture_output=True, timeout=180, check=False)
    assert shot.is_file(), "Chromium wrote no screenshot"
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 4000)
    pixels = np.asarray(image)
    assert pixels.std() > 20  # not a blank page
    colours = np.unique(pixels.reshape(-1, 3)[::7], axis=0)
    assert len(colours) > 200  # text, tables and charts, not one flat colour
    # the page is laid out at the window width: content does not run off to the right
    right = pixels[:, -70:-25, :]  # the page margin, left of the scroll bar
    assert (right.reshape(-1, 3) == right[0, 0]).all(axis=1).mean() > 0.95
