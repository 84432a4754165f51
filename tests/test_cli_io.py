"""CLI: `attribution import SOURCE` and `compare --format SOURCE` on the warehouse fixtures
(one command from raw export to a model comparison, conversions and revenue conserved), the
path-table column flags and --journey-credits."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from warehouse_fixtures import ADOBE_CHANNELS, adobe_hits, criteo_rows, ga4_events, segment_tables, snowplow_events

from attribution.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _write_sources(tmp_path):
    """Each fixture written as its source delivers it; returns {source: (argv tail, totals)}."""
    out = {}
    rows, tot = ga4_events(n_users=30, seed=7)
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "events_20241027.parquet")
    out["ga4"] = ([str(tmp_path / "events_20241027.parquet")], tot)
    hits, tot = adobe_hits(n_visitors=20, seed=7)
    hits.to_csv(tmp_path / "hit_data.tsv", sep="\t", header=False, index=False)
    (tmp_path / "column_headers.tsv").write_text("\t".join(hits.columns) + "\n")
    pd.Series(ADOBE_CHANNELS).reset_index().to_csv(tmp_path / "mc.tsv", sep="\t", header=False, index=False)
    out["adobe"] = ([str(tmp_path / "hit_data.tsv"), "--column-headers", str(tmp_path / "column_headers.tsv"),
                     "--marketing-channels", str(tmp_path / "mc.tsv")], tot)
    ev, tot = snowplow_events(n_users=20, seed=7)
    ev.to_csv(tmp_path / "atomic_events.csv", index=False)
    out["snowplow"] = ([str(tmp_path / "atomic_events.csv")], tot)
    pages, orders, identifies, tot = segment_tables(n_users=20, seed=7)
    for name, df in (("pages", pages), ("order_completed", orders), ("identifies", identifies)):
        df.to_parquet(tmp_path / f"{name}.parquet")
    out["segment"] = ([str(tmp_path / "pages.parquet"), "--orders", str(tmp_path / "order_completed.parquet"),
                       "--identifies", str(tmp_path / "identifies.parquet")], tot)
    df, tot = criteo_rows(n_users=30, seed=7)
    df.to_csv(tmp_path / "criteo_attribution_dataset.tsv.gz", sep="\t", index=False)
    out["criteo"] = ([str(tmp_path / "criteo_attribution_dataset.tsv.gz")], tot)
    return out


def test_compare_format_one_command_conserves(tmp_path):
    """The whole command on GA4; every other source through the same journey loader below."""
    sources = _write_sources(tmp_path)
    args, tot = sources["ga4"]
    res = tmp_path / "res_ga4"
    code = main(["compare", args[0], "--format", "ga4", *args[1:], "--models", "last_touch,markov",
                 "--journey-credits", "--out", str(res), "-q"])
    assert code == 0
    credits = pd.read_csv(res / "credits.csv")
    sums = credits.groupby("model")[["conversions", "value"]].sum()
    assert sums["conversions"].tolist() == pytest.approx([tot["purchases"]] * 2)
    assert sums["value"].tolist() == pytest.approx([tot["revenue"]] * 2)
    jc = pd.read_parquet(res / "journey_credits.parquet")
    assert jc.groupby("model")["value"].sum().tolist() == pytest.approx([tot["revenue"]] * 2)


@pytest.mark.parametrize("source", ["ga4", "adobe", "snowplow", "segment", "criteo"])
def test_format_flags_load_every_source(tmp_path, source):
    from attribution.cli import _namespace_from_args, build_parser, load_journeys

    args, tot = _write_sources(tmp_path)[source]
    parsed = build_parser().parse_args(["compare", args[0], "--format", source, *args[1:], "--models", "linear"])
    journeys, inputs, settings, notes = load_journeys(_namespace_from_args(parsed))
    assert journeys.total_conversions == tot["purchases"]
    assert journeys.total_value == pytest.approx(tot["revenue"])
    assert settings["format"] == source


def test_import_writes_tables_that_compare_reads(tmp_path, capsys):
    sources = _write_sources(tmp_path)
    args, tot = sources["ga4"]
    assert main(["import", "ga4", *args, "--out", str(tmp_path / "norm" / "events.parquet")]) == 0
    printed = capsys.readouterr().out
    assert f"{tot['purchases']:,} conversions" in printed and "duplicate_transaction" in printed
    conv = pd.read_parquet(tmp_path / "norm" / "events.conversions.parquet")
    assert len(conv) == tot["purchases"] and conv["value"].sum() == pytest.approx(tot["revenue"])
    # the written tables are what compare's default columns expect
    from attribution.cli import _namespace_from_args, build_parser, load_journeys

    parsed = build_parser().parse_args([
        "compare", str(tmp_path / "norm" / "events.parquet"), "--conversions",
        str(tmp_path / "norm" / "events.conversions.parquet"), "--identities",
        str(tmp_path / "norm" / "events.identities.parquet")])
    journeys = load_journeys(_namespace_from_args(parsed))[0]
    assert journeys.total_conversions == tot["purchases"]
    assert journeys.total_value == pytest.approx(tot["revenue"])
    # an option of another source is refused with exit code 2
    assert main(["import", "ga4", *args, "--orders", args[0], "--out", str(tmp_path / "x.parquet")]) == 2
    assert main(["import", "adobe", str(tmp_path / "hit_data.tsv"), "--out", str(tmp_path / "x.parquet")]) == 2


def test_path_table_column_flags(tmp_path):
    from attribution.cli import _namespace_from_args, build_parser, load_journeys

    pd.DataFrame({"journey": ["a > b", "b"], "n": [3, 1], "rev": [30.0, 5.0], "nn": [1, 4]}).to_csv(
        tmp_path / "p.csv", index=False)
    parsed = build_parser().parse_args([
        "compare", str(tmp_path / "p.csv"), "--paths", "--path-column", "journey", "--conversions-column", "n",
        "--value-column", "rev", "--nulls-column", "nn"])
    j = load_journeys(_namespace_from_args(parsed))[0]
    assert (j.total_conversions, j.total_value, j.total_nulls) == (4.0, 35.0, 5.0)
    res = tmp_path / "res"
    assert main(["compare", str(tmp_path / "p.csv"), "--paths", "--path-column", "journey",
                 "--conversions-column", "nope", "--out", str(res), "-q"]) == 2


def test_conversion_events_and_drop_missing_channel_flags(tmp_path):
    from attribution.cli import _namespace_from_args, build_parser, load_journeys

    pd.DataFrame({
        "customer_id": ["1", "1", "1", "2"],
        "timestamp": ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-01"],
        "event_name": ["page_view", "page_view", "purchase", "page_view"],
        "channel": ["email", "", None, "search"],
        "value": [0, 0, 12.5, 0],
    }).to_csv(tmp_path / "events.csv", index=False)
    parsed = build_parser().parse_args(["compare", str(tmp_path / "events.csv"), "--conversion-events", "purchase",
                                        "--drop-missing-channel"])
    j, _, _, notes = load_journeys(_namespace_from_args(parsed))
    assert (j.total_conversions, j.total_value) == (1.0, 12.5)
    assert j.exclusions["missing_channel"] == 1
    assert any("missing_channel" in n for n in notes)


def test_batch_config_keys(tmp_path):
    from attribution.cli import load_config

    sources = _write_sources(tmp_path)
    (tmp_path / "runs.toml").write_text(
        'out = "o"\n[defaults]\nformat = "segment"\njourney_credits = true\n'
        '[inputs.shop]\ninput = "pages.parquet"\norders = "order_completed.parquet"\nidentifies = "identifies.parquet"\n'
        '[models]\nq = ["linear"]\n')
    _, runs = load_config(tmp_path / "runs.toml")
    (_, _, ns), = runs
    assert ns.format == "segment" and ns.journey_credits is True
    assert ns.orders == str(tmp_path / "order_completed.parquet")
    from attribution.cli import load_journeys

    j = load_journeys(ns)[0]
    assert j.total_value == pytest.approx(sources["segment"][1]["revenue"])


def _conserved(folder, tot, n_models):
    """credits.csv of a run gives back every purchase and all revenue, for every model."""
    credits = pd.read_csv(folder / "credits.csv")
    sums = credits.groupby("model")[["conversions", "value"]].sum()
    assert len(sums) == n_models
    assert sums["conversions"].tolist() == pytest.approx([tot["purchases"]] * n_models)
    assert sums["value"].tolist() == pytest.approx([tot["revenue"]] * n_models, abs=0.01 * n_models)
    assert (folder / "report.html").stat().st_size > 10_000
    return credits


@pytest.mark.parametrize("source", ["adobe", "snowplow", "segment", "criteo"])
def test_import_then_compare_and_format_compare_conserve(tmp_path, source, monkeypatch):
    """Raw export -> the one command `compare --format SOURCE` (models, report, CSVs) gives back the
    fixture's purchases and revenue exactly in credits.csv; `attribution import` writes tables
    that compare's loader turns into the same journeys (same totals, same paths)."""
    import attribution.report as report_module
    from attribution.cli import _namespace_from_args, build_parser, load_journeys
    from test_cli import TINY_PNG

    monkeypatch.setattr(report_module, "_png", lambda draw, figsize: TINY_PNG)  # GA4's run above draws them
    args, tot = _write_sources(tmp_path)[source]
    direct = tmp_path / "direct"
    assert main(["compare", args[0], "--format", source, *args[1:], "--models", "last_touch,linear",
                 "--out", str(direct), "-q"]) == 0
    _conserved(direct, tot, 2)
    norm = tmp_path / "norm" / "events.parquet"
    assert main(["import", source, *args, "--out", str(norm), "-q"]) == 0
    tables = ["--conversions", str(norm.with_name("events.conversions.parquet"))]
    if norm.with_name("events.identities.parquet").exists():
        tables += ["--identities", str(norm.with_name("events.identities.parquet"))]
    lookback = ["--lookback", "none"] if source == "criteo" else []  # the importer's own journey rule
    via_import = load_journeys(_namespace_from_args(build_parser().parse_args(
        ["compare", str(norm), *tables, *lookback])))[0]
    via_format = load_journeys(_namespace_from_args(build_parser().parse_args(
        ["compare", args[0], "--format", source, *args[1:]])))[0]
    assert via_import.total_conversions == tot["purchases"]
    assert via_import.total_value == pytest.approx(tot["revenue"])
    assert sorted(via_import.to_paths()["path"]) == sorted(via_format.to_paths()["path"])
