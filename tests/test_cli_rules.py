"""CLI: the journey rules (--exclude, --collapse-repeats, --max-length, --lookback-touches and their
TOML keys) build exactly the journeys the library builds with the same options; a model that needs
full histories (causal) gets journeys without a lookback; --bootstrap N / bootstrap = N put
intervals into the written credits and ROI; `attribution kpis` prints whole counts and percentages."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandas as pd
import pytest

import attribution.report as report_module
from attribution import Journeys
from attribution.cli import _namespace_from_args, build_parser, load_config, load_journeys, main
from attribution.datasets import simulate

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("rules")
    simulate(250, days=30, random_state=5).to_csv(folder)
    return folder


@pytest.fixture
def fast_figures(monkeypatch):
    from test_cli import TINY_PNG

    monkeypatch.setattr(report_module, "_png", lambda draw, figsize: TINY_PNG)


def _events(data):
    return [str(data / "touchpoints.csv"), "--conversions", str(data / "conversions.csv"),
            "--identities", str(data / "identities.csv")]


def _load(argv):
    return load_journeys(_namespace_from_args(build_parser().parse_args(argv)))


def _library(data, **options):
    tp = pd.read_csv(data / "touchpoints.csv", dtype={"customer_id": str})
    conv = pd.read_csv(data / "conversions.csv", dtype={"customer_id": str})
    ids = pd.read_csv(data / "identities.csv", dtype=str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Journeys.from_events(tp, conv, identities=ids, **options)


def test_journey_rule_flags_match_the_library(data):
    j, _, settings, notes = _load(["compare", *_events(data), "--exclude", "direct,email", "--collapse-repeats",
                                   "--max-length", "4", "--lookback-touches", "6", "--models", "linear"])
    ref = _library(data, lookback="30D", exclude=["direct", "email"], collapse_repeats=True, max_length=4,
                   lookback_touches=6)
    assert sorted(j.to_paths()["path"]) == sorted(ref.to_paths()["path"])
    assert j.exclusions == ref.exclusions and j.exclusions["excluded_channels"] > 0
    assert j.exclusions["max_length"] > 0 and j.exclusions["collapsed_repeats"] > 0
    assert "direct" not in set(j.channels) and j.lengths.max() <= 4
    assert j.total_conversions == ref.total_conversions
    assert settings["--exclude"] == "direct, email" and settings["--max-length"] == "4"
    assert settings["--collapse-repeats"] == "on" and settings["--lookback-touches"] == "6"


def test_path_table_rules_and_refusals(data, capsys):
    j, _, settings, _ = _load(["compare", str(data / "paths.csv"), "--paths", "--max-length", "2", "--exclude",
                               "video", "--models", "linear"])
    paths = pd.read_csv(data / "paths.csv", sep=None, engine="python")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = Journeys.from_paths(paths, exclude=["video"], max_length=2)
    assert j.lengths.max() <= 2 and j.exclusions == ref.exclusions and settings["--max-length"] == "2"
    code = main(["compare", str(data / "paths.csv"), "--paths", "--lookback-touches", "3", "-q",
                 "--out", str(data / "x")])
    err = capsys.readouterr().err
    assert code == 2 and "--max-length" in err and "no times" in err
    assert main(["compare", *_events(data), "--max-length", "0", "-q", "--out", str(data / "y")]) == 2
    assert "--max-length must be a whole number" in capsys.readouterr().err


def test_causal_gets_full_histories_unless_a_lookback_is_given(data):
    j, _, settings, _ = _load(["compare", *_events(data), "--models", "linear,causal"])
    assert j.exclusions.get("lookback", 0) == 0 and settings["lookback"].startswith("none (causal needs every touch")
    ref = _library(data, lookback=None)
    assert sorted(j.to_paths()["path"]) == sorted(ref.to_paths()["path"])
    cut, _, settings, _ = _load(["compare", *_events(data), "--models", "linear"])
    assert settings["lookback"] == "30D"  # no causal model: the 30-day default
    assert cut.exclusions == _library(data, lookback="30D").exclusions
    given, _, settings, _ = _load(["compare", *_events(data), "--models", "causal", "--lookback", "3D"])
    assert given.exclusions["lookback"] > 0 and settings["lookback"] == "3D"  # the user's choice stands


def test_bootstrap_flag_writes_intervals(data, tmp_path, capsys, fast_figures):
    out = tmp_path / "boot"
    assert main(["compare", *_events(data), "--costs", str(data / "costs.csv"), "--models", "last_touch,linear",
                 "--bootstrap", "15", "--out", str(out), "-q"]) == 0
    credits = pd.read_csv(out / "credits.csv")
    assert credits[["conversions_low", "conversions_high"]].notna().all().all()
    assert (credits["conversions_low"] <= credits["conversions"] + 1e-9).all()
    assert (credits["conversions"] <= credits["conversions_high"] + 1e-9).all()
    roi = pd.read_csv(out / "roi.csv")
    paid = roi[roi["cost"] > 0]
    assert paid[["roi_low", "roi_high"]].notna().all().all()
    html = (out / "report.html").read_text()
    assert "90% bootstrap interval (15 replicates)" in html and "15 replicates, 90% percentile intervals" in html
    assert main(["compare", *_events(data), "--bootstrap", "-2", "--out", str(tmp_path / "bad"), "-q"]) == 2


def test_config_keys_for_rules_and_bootstrap(data, tmp_path):
    (tmp_path / "runs.toml").write_text(
        f'[defaults]\nbootstrap = 10\nexclude = ["direct"]\ncollapse_repeats = true\nmax_length = 5\n'
        f'lookback_touches = 8\n[inputs.s]\ninput = "{data / "touchpoints.csv"}"\n'
        f'conversions = "{data / "conversions.csv"}"\nidentities = "{data / "identities.csv"}"\n'
        '[models]\nq = ["linear"]\n')
    _, runs = load_config(tmp_path / "runs.toml")
    (_, _, ns), = runs
    assert (ns.bootstrap, ns.exclude, ns.collapse_repeats, ns.max_length, ns.lookback_touches) == (10, "direct", True, 5, 8)
    j = load_journeys(ns)[0]
    ref = _library(data, lookback="30D", exclude=["direct"], collapse_repeats=True, max_length=5, lookback_touches=8)
    assert j.exclusions == ref.exclusions
    (tmp_path / "bad.toml").write_text(
        f'[inputs.s]\ninput = "{data / "touchpoints.csv"}"\nmax_length = 0\n[models]\nq = ["linear"]\n')
    from attribution.cli import UserError

    with pytest.raises(UserError, match="'max_length' must be a whole number of at least 1"):
        load_config(tmp_path / "bad.toml")


def test_kpis_prints_counts_and_percentages(data, tmp_path, capsys, fast_figures):
    assert main(["kpis", *_events(data), "--out", str(tmp_path / "k"), "-q"]) == 0
    out = capsys.readouterr().out
    table = out.split("Per channel")[1].split("Most frequent paths")[0]
    assert "conversion rate" in table and re.search(r"\d+\.\d%", table)
    assert not re.search(r"\b\d+\.0\b(?!%)", table)  # no "3035.0" counts
    assert not re.search(r"\b0\.\d{3}\b", table)  # no fractions under a percentage header

