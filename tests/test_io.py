"""Importers: purchase counts and revenue equal the totals computed directly from each
fixture, duplicates / filters / stitching work, and every file form gives the same tables."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from warehouse_fixtures import (
    ADOBE_CHANNELS, adobe_hits, criteo_rows, ga4_events, ga4_flatten, segment_tables, snowplow_events,
)

from attribution.exceptions import ExcludedRowsWarning, JourneyValidationError
from attribution.io import EventTables, read, read_adobe, read_criteo, read_ga4, read_segment, read_snowplow

pytestmark = pytest.mark.filterwarnings("ignore::attribution.exceptions.ExcludedRowsWarning")


def _check_totals(et: EventTables, tot: dict, value_key: str = "revenue"):
    assert len(et.conversions) == tot["purchases"]
    assert et.conversions["value"].sum() == pytest.approx(tot[value_key], abs=1e-9)
    j = et.journeys()
    assert j.total_conversions == tot["purchases"]
    assert j.total_value == pytest.approx(tot[value_key], abs=1e-9)
    return j


# ------------------------------------------------------------------------------------ GA4


@pytest.fixture(scope="module")
def ga4():
    return ga4_events(n_users=40, seed=1)


def test_ga4_nested_frame_totals_and_duplicates(ga4):
    rows, tot = ga4
    with pytest.warns(ExcludedRowsWarning, match="duplicate_transaction"):
        et = read_ga4(pd.DataFrame(rows))
    _check_totals(et, tot)
    assert et.exclusions["duplicate_transaction"] == tot["duplicates"] > 0
    assert et.summary()["input_rows"] == tot["events"]
    # the user-scope traffic_source record says (direct) everywhere; it must not be used
    assert set(et.touchpoints["channel"]) > {"Direct"}


def test_ga4_parquet_ndjson_and_flattened_csv_agree(ga4, tmp_path):
    rows, tot = ga4
    base = read_ga4(pd.DataFrame(rows))
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "events_20241027.parquet")
    with open(tmp_path / "events.json", "w") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
    ga4_flatten(rows).to_csv(tmp_path / "flat.csv", index=False)
    for path in ("events_20241027.parquet", "events.json", "flat.csv"):
        et = read_ga4(tmp_path / path)
        _check_totals(et, tot)
        for a, b in ((et.touchpoints, base.touchpoints), (et.conversions, base.conversions)):
            pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)


def test_ga4_golden_small_export():
    """Hand-checked: a gclid-only session is google / cpc (Paid Search); a session without a
    source is Direct; the anonymous first session is stitched to the user who logs in later;
    a purchase without ecommerce falls back to the value param; the duplicate is dropped."""
    def ev(t, name, pseudo, uid, sid, src=None, med=None, gclid=None, eco=None, value=None):
        params = [{"key": "ga_session_id", "value": {"int_value": sid, "string_value": None, "double_value": None}}]
        if value is not None:
            params.append({"key": "value", "value": {"int_value": None, "string_value": None, "double_value": value}})
        return {"event_timestamp": t * 1_000_000, "event_name": name, "user_pseudo_id": pseudo, "user_id": uid,
                "event_params": params,
                "collected_traffic_source": {"manual_source": src, "manual_medium": med, "manual_campaign_name": None,
                                             "gclid": gclid},
                "ecommerce": eco, "privacy_info": {"analytics_storage": "Yes", "ads_storage": "Yes"}}

    eco = {"transaction_id": "T1", "purchase_revenue": 40.0}
    rows = [
        ev(100, "session_start", "p1", None, 1, gclid="abc"),
        ev(110, "page_view", "p1", None, 1),
        ev(5000, "session_start", "p1", "U1", 2),  # no source: Direct
        ev(5010, "purchase", "p1", "U1", 2, eco=eco),
        ev(5012, "purchase", "p1", "U1", 2, eco=eco),  # duplicate
        ev(200, "session_start", "p2", None, 7, src="newsletter", med="email"),
        ev(260, "purchase", "p2", None, 7, value=12.5),
    ]
    et = read_ga4(pd.DataFrame(rows))
    assert et.exclusions["duplicate_transaction"] == 1
    tp = et.touchpoints.sort_values("timestamp")
    assert tp["channel"].tolist() == ["Paid Search", "Email", "Direct"]
    assert tp["touch_type"].tolist() == ["click", "visit", "visit"]
    j = et.journeys()
    paths = j.to_paths(aggregate=False)
    assert sorted(zip(paths["path"], paths["total_conversions"], paths["total_conversion_value"])) == [
        ("Email", 1.0, 12.5), ("Paid Search > Direct", 1.0, 40.0)]


def test_ga4_options(ga4):
    rows, tot = ga4
    df = pd.DataFrame(rows)
    et = read_ga4(df, consent="analytics")
    denied = sum(r["privacy_info"]["analytics_storage"] == "No" for r in rows)
    assert et.exclusions["consent_denied"] == denied > 0
    slc = read_ga4(df, traffic_source="session_last_click", channel="source_medium")
    assert slc.touchpoints["channel"].str.contains(" / ").all()
    _check_totals(slc, tot)
    two = read_ga4(df, conversion_events=["purchase", "page_view"])
    assert len(two.conversions) > len(slc.conversions)
    no_stitch = read_ga4(df, stitch=False)
    assert no_stitch.identities is None and read_ga4(df).identities is not None
    with pytest.raises(ValueError, match="traffic_source"):
        read_ga4(df, traffic_source="user")
    with pytest.raises(JourneyValidationError, match="event_timestamp"):
        read_ga4(df.drop(columns="event_timestamp"))


def test_ga4_one_call_compare_conserves(ga4):
    rows, tot = ga4
    cmp = read_ga4(pd.DataFrame(rows)).compare(["last_touch", "linear", "markov"], progress=False)
    assert len(cmp.models) == 3
    # every model's credits sum to the imported purchases
    for model in cmp.models.values():
        assert model.credits_["conversions"].sum() == pytest.approx(tot["purchases"])
        assert model.credits_["value"].sum() == pytest.approx(tot["revenue"])


# ----------------------------------------------------------------------------------- Adobe


def test_adobe_filters_dedup_and_value(tmp_path):
    df, tot = adobe_hits(seed=2)
    et = read_adobe(df, marketing_channels=ADOBE_CHANNELS)
    _check_totals(et, tot)
    assert et.exclusions["excluded_hit"] == tot["excluded_hit"] > 0
    assert et.exclusions["data_source_hit"] == tot["data_source_hit"] > 0
    assert set(et.touchpoints["channel"]) <= set(ADOBE_CHANNELS.values())
    # the feed as delivered: headerless TSV + column_headers.tsv + the channel lookup file
    df.to_csv(tmp_path / "hit_data.tsv", sep="\t", header=False, index=False)
    (tmp_path / "column_headers.tsv").write_text("\t".join(df.columns) + "\n")
    pd.Series(ADOBE_CHANNELS).reset_index().to_csv(tmp_path / "mc.tsv", sep="\t", header=False, index=False)
    et2 = read_adobe(tmp_path / "hit_data.tsv", column_headers=tmp_path / "column_headers.tsv",
                     marketing_channels=tmp_path / "mc.tsv")
    _check_totals(et2, tot)
    assert et2.touchpoints["channel"].tolist() == et.touchpoints["channel"].tolist()
    camp = read_adobe(df, channel="campaign")
    assert camp.touchpoints["channel"].str.startswith("cmp").all()
    with pytest.raises(ValueError, match="column_headers"):
        read_adobe(tmp_path / "hit_data.tsv")


def test_adobe_product_list_golden():
    base = {"post_visid_high": "1", "post_visid_low": "2", "exclude_hit": "0", "hit_source": "1",
            "va_instance_event": "0", "va_closer_id": "", "duplicate_purchase": "0"}
    rows = pd.DataFrame([
        dict(base, hit_time_gmt="100", va_instance_event="1", va_closer_id="4"),
        dict(base, hit_time_gmt="200", post_event_list="1,201=2", post_purchaseid="A",
             post_product_list="Shoes;S1;2;59.98;;,Socks;S2;1;4.50;201=2;evar1=x"),
        dict(base, hit_time_gmt="300", post_event_list="10,100", post_purchaseid=""),  # event 10/100: no purchase
        dict(base, hit_time_gmt="400", post_event_list="1", post_purchaseid="A", post_product_list="Shoes;S1;2;59.98;;"),
    ])
    et = read_adobe(rows, marketing_channels={"4": "Email"})
    assert et.conversions["value"].tolist() == [pytest.approx(64.48)]
    assert et.exclusions["duplicate_transaction"] == 1
    assert et.touchpoints["channel"].tolist() == ["Email"]


# -------------------------------------------------------------------------------- Snowplow


def test_snowplow_totals_referer_and_stitching(tmp_path):
    df, tot = snowplow_events(seed=3)
    et = read_snowplow(df)
    _check_totals(et, tot)
    assert et.exclusions["duplicate_transaction"] > 0
    assert {"Paid Search", "Email", "Organic Search", "Organic Social", "Referral", "Direct"} >= set(et.touchpoints["channel"])
    assert (et.touchpoints.loc[et.touchpoints["channel"] == "Paid Search", "touch_type"] == "click").all()
    assert et.identities is not None and set(et.identities.columns) == {"domain_userid", "user_id"}
    df.to_parquet(tmp_path / "events.parquet")
    _check_totals(read_snowplow(tmp_path / "events.parquet"), tot)


# --------------------------------------------------------------------------------- Segment


def test_segment_totals_value_choice_and_identifies_stitching():
    pages, orders, identifies, tot = segment_tables(seed=4)
    et = read_segment(pages, orders, identifies=identifies)
    _check_totals(et, tot)
    _check_totals(read_segment(pages, orders, identifies=identifies, value="total"), tot, "total")
    assert et.exclusions["duplicate_transaction"] > 0
    # stitching: an anonymous first visit and the later logged-in order are one journey
    j = et.journeys()
    unstitched = read_segment(pages, orders).journeys()
    assert j.n_journeys < unstitched.n_journeys
    # golden: the anonymous UTM visit, then an order placed logged in
    pages = pd.DataFrame({"anonymous_id": ["a"], "user_id": [None], "timestamp": ["2024-01-01T00:00:00Z"],
                          "context_campaign_source": ["newsletter"], "context_campaign_medium": ["email"]})
    orders = pd.DataFrame({"anonymous_id": ["a"], "user_id": ["u"], "timestamp": ["2024-01-02T00:00:00Z"],
                           "order_id": ["o"], "revenue": [5.0]})
    identifies = pd.DataFrame({"anonymous_id": ["a"], "user_id": ["u"]})
    assert sorted(read_segment(pages, orders).journeys().lengths.tolist()) == [0, 1]  # order alone, visit alone
    assert read_segment(pages, orders, identifies=identifies).journeys().lengths.tolist() == [1]
    # orders taken from the tracks table instead
    pages, orders, identifies, tot = segment_tables(seed=4)
    tracks = pd.concat([orders, orders.head(3).assign(event="product_viewed", event_text="Product Viewed")])
    _check_totals(read_segment(pages, tracks=tracks, identifies=identifies), tot)


def test_segment_touch_rules_golden():
    pages = pd.DataFrame({
        "anonymous_id": ["a", "a", "a", "a"],
        "user_id": [None] * 4,
        "timestamp": ["2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"],
        "context_page_url": ["https://s.io/?gclid=1", "https://s.io/b", "https://s.io/c", "https://s.io/d"],
        "context_page_referrer": [None, "https://s.io/", "https://news.ycombinator.com/item", None],
        "context_campaign_source": [None, None, None, "newsletter"],
        "context_campaign_medium": [None, None, None, "email"],
        "context_campaign_name": [None, None, None, "jan"],
    })
    orders = pd.DataFrame({"anonymous_id": ["a"], "user_id": [None], "timestamp": ["2024-01-04T00:00:00Z"],
                           "order_id": ["o1"], "revenue": [10.0], "total": [12.0]})
    et = read_segment(pages, orders)
    assert et.touchpoints["channel"].tolist() == ["Paid Search", "Organic Social", "Email"]
    assert et.touchpoints["touch_type"].tolist() == ["click", "visit", "visit"]


# ---------------------------------------------------------------------------------- Criteo


def test_criteo_journeys_by_conversion_id(tmp_path):
    df, tot = criteo_rows(seed=5)
    et = read_criteo(df)
    j = _check_totals(et, tot)
    assert j.n_touches == tot["impressions"]  # no lookback cut: journeys are pre-cut
    # every converting journey holds exactly the impressions labelled with its conversion id
    conv_rows = df[df["conversion"] == 1]
    want = conv_rows.groupby("conversion_id").size().sort_values().tolist()
    got = sorted(np.asarray(j.lengths)[np.asarray(j.conversions) > 0].tolist())
    assert got == want
    assert set(et.touchpoints["touch_type"]) == {"click", "impression"}
    df.to_csv(tmp_path / "criteo_attribution_dataset.tsv.gz", sep="\t", index=False)
    _check_totals(read_criteo(tmp_path / "criteo_attribution_dataset.tsv.gz"), tot)


def test_read_dispatch_and_parquet_out(tmp_path):
    df, tot = criteo_rows(seed=6)
    et = read("criteo", df)
    paths = et.to_parquet(tmp_path / "events.parquet")
    back = pd.read_parquet(paths["conversions"])
    assert len(back) == tot["purchases"]
    with pytest.raises(ValueError, match="Choose from"):
        read("mixpanel", df)


@pytest.mark.parametrize("source", ["adobe", "snowplow", "segment", "criteo"])
def test_one_call_compare_every_source(source):
    """Raw export -> model comparison in one call, conversions and revenue conserved."""
    if source == "adobe":
        df, tot = adobe_hits(seed=8)
        tables = read_adobe(df, marketing_channels=ADOBE_CHANNELS)
    elif source == "snowplow":
        df, tot = snowplow_events(seed=8)
        tables = read_snowplow(df)
    elif source == "segment":
        pages, orders, identifies, tot = segment_tables(seed=8)
        tables = read_segment(pages, orders, identifies=identifies)
    else:
        df, tot = criteo_rows(seed=8)
        tables = read_criteo(df)
    cmp = tables.compare(["last_touch", "markov"], progress=False)
    for model in cmp.models.values():
        assert model.credits_["conversions"].sum() == pytest.approx(tot["purchases"])
        assert model.credits_["value"].sum() == pytest.approx(tot["revenue"])


# ----------------------------------------------------------------- globs, lists and folders
@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
def test_globs_lists_and_folders_read_as_one_export(ga4, tmp_path, monkeypatch, engine):
    """``read_ga4("export/*.parquet")``: the files of a glob, a list or a folder are one table,
    read through DuckDB when installed (else file by file), equal to the single-file read."""
    from attribution import _tables as _common  # the file reader (globs through DuckDB)

    if engine == "duckdb":
        pytest.importorskip("duckdb")
    else:
        monkeypatch.setattr(_common, "_duckdb", lambda: None)
    rows, tot = ga4
    base = read_ga4(pd.DataFrame(rows))
    parts = np.array_split(np.arange(len(rows)), 3)
    (tmp_path / "pq").mkdir()
    (tmp_path / "nd").mkdir()
    (tmp_path / "flat").mkdir()
    flat = ga4_flatten(rows)
    for i, part in enumerate(parts):
        pq.write_table(pa.Table.from_pylist([rows[k] for k in part]), tmp_path / "pq" / f"events_2024102{i}.parquet")
        with open(tmp_path / "nd" / f"events_{i}.json", "w") as fh:
            fh.writelines(json.dumps(rows[k]) + "\n" for k in part)
        flat.iloc[part].to_csv(tmp_path / "flat" / f"part-{i}.csv", index=False)
    (tmp_path / "flat" / "_SUCCESS").touch()
    for src in (str(tmp_path / "pq" / "events_*.parquet"), str(tmp_path / "nd" / "*.json"),
                sorted((tmp_path / "nd").glob("*.json")), tmp_path / "flat"):
        et = read_ga4(src)
        _check_totals(et, tot)
        for a, b in ((et.touchpoints, base.touchpoints), (et.conversions, base.conversions)):
            pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)
    # headerless TSV (Adobe) and gzipped TSV with a header (Criteo)
    df, atot = adobe_hits(seed=2)
    one = read_adobe(df, marketing_channels=ADOBE_CHANNELS)
    for i, part in enumerate(np.array_split(np.arange(len(df)), 2)):
        df.iloc[part].to_csv(tmp_path / f"hit_data_{i}.tsv", sep="\t", header=False, index=False)
    (tmp_path / "column_headers.tsv").write_text("\t".join(df.columns) + "\n")
    two = read_adobe(str(tmp_path / "hit_data_*.tsv"), column_headers=tmp_path / "column_headers.tsv",
                     marketing_channels=ADOBE_CHANNELS)
    _check_totals(two, atot)
    assert two.touchpoints["channel"].tolist() == one.touchpoints["channel"].tolist()
    cr, ctot = criteo_rows(seed=5)
    for i, part in enumerate(np.array_split(np.arange(len(cr)), 2)):
        cr.iloc[part].to_csv(tmp_path / f"criteo_{i}.tsv.gz", sep="\t", index=False)
    _check_totals(read_criteo(str(tmp_path / "criteo_*.tsv.gz")), ctot)
    with pytest.raises(FileNotFoundError, match="no file matches"):
        read_ga4(str(tmp_path / "nothing_*.parquet"))
