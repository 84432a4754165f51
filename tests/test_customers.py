"""Customers: table building (identity stitching, summaries), KPIs, tests, retention, churn, CLV, surveys, CLI."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attribution import Journeys
from attribution.customers import CustomerTable, clv_journeys, customer_table, survey_kpis
from attribution.datasets import simulate_customers
from attribution.exceptions import JourneyValidationError

ROOT = Path(__file__).resolve().parents[1]
FLO = ROOT.parent / "shared" / "data" / "omnichannel" / "online_offline_customers.csv.gz"


@pytest.fixture
def orders():
    return pd.DataFrame({
        "customer_id": ["c1", "L1", "c1", "c2", "L3", "L3", "L3"],
        "timestamp": ["2026-01-01", "2026-01-11", "2026-02-15", "2026-01-20", "2026-01-05", "2026-03-05", "2026-03-25"],
        "value": [10.0, 30.0, 20.0, 5.0, 8.0, 8.0, 4.0],
        "place": ["online", "store", "online", "online", "store", "store", "store"],
    })


@pytest.fixture
def ids():
    return pd.DataFrame({"cookie_id": ["c1"], "loyalty_id": ["L1"]})


def test_customer_table_stitches_ids_like_from_events(orders, ids):
    t = customer_table(orders, ids, end="2026-04-01")
    c = t.customers
    # c1 and L1 are one person, named by the smallest id (as in Journeys.from_events)
    assert list(c.index) == ["L1", "L3", "c2"]
    assert c.loc["L1", "orders"] == 3 and c.loc["L1", "revenue"] == 60.0
    assert c.loc["L1", "place_segment"] == "omnichannel"
    assert c.loc["L3", "place_segment"] == "store-only" and c.loc["c2", "place_segment"] == "online-only"
    assert c.loc["L1", "online_share"] == pytest.approx(2 / 3)
    assert c.loc["L1", "first_value"] == 10.0
    assert c.loc["L3", "mean_gap_days"] == pytest.approx((59 + 20) / 2)
    assert c.loc["c2", "recency_days"] == pytest.approx(71.0)
    j = Journeys.from_events(pd.DataFrame({"customer_id": ["c1"], "timestamp": ["2025-12-30"], "channel": ["email"]}),
                             orders, identities=ids, place="place")
    assert set(j.customer) == set(c.index)


def test_acquisition_channel_from_first_journey(orders, ids):
    tp = pd.DataFrame({"customer_id": ["c1", "c1", "L3", "c1"],
                       "timestamp": ["2025-12-20", "2025-12-30", "2026-01-01", "2026-02-10"],
                       "channel": ["display", "search", "email", "email"]})
    j = Journeys.from_events(tp, orders, identities=ids, place="place")
    table = customer_table(orders, ids, journeys=j)
    acq = table.customers["acquisition"]
    same = CustomerTable.from_journeys(j).customers
    pd.testing.assert_frame_equal(same.drop(columns="recency_days"), table.customers.drop(columns="recency_days"),
                                  check_dtype=False)
    assert acq.to_dict() == {"L1": "display", "L3": "email", "c2": "(no touch)"}
    last = customer_table(orders, ids, journeys=j, acquisition="last_touch").customers["acquisition"]
    assert last["L1"] == "search"


def test_kpis_golden_and_intervals(orders, ids):
    t = customer_table(orders, ids, end="2026-04-01")
    k = t.kpis(n_boot=0)
    row = k.table.loc["omnichannel"]
    assert row["orders_per_customer"] == 3 and row["average_order_value"] == 20.0 and row["repeat_rate"] == 1.0
    store = k.table.loc["store-only"]
    assert store["revenue_per_customer"] == 20.0 and store["revenue_share"] == pytest.approx(20 / 85)
    kb = t.kpis(n_boot=50, random_state=0)
    # a one-customer segment has a degenerate interval at the estimate
    assert kb.low.loc["omnichannel", "orders_per_customer"] == kb.high.loc["omnichannel", "orders_per_customer"] == 3
    assert kb.table.equals(k.table)
    assert t.kpis(n_boot=30, random_state=5).low.equals(t.kpis(n_boot=30, random_state=5).low)


def test_permutation_p_value_is_exact_on_small_groups():
    # 3 vs 3 customers: 20 label splits; with many permutations the p-value approaches the exact one
    cust = pd.DataFrame({"customer_id": list("abcdef"), "timestamp": "2026-01-01",
                         "value": [10.0, 12.0, 14.0, 1.0, 2.0, 3.0], "place": "online"})
    t = customer_table(cust)
    t.customers["grp"] = ["x", "x", "x", "y", "y", "y"]
    y = t.customers["revenue"].to_numpy()
    d = y[:3].mean() - y[3:].mean()
    diffs = [y[list(s)].mean() - np.delete(y, list(s)).mean() for s in itertools.combinations(range(6), 3)]
    exact = np.mean(np.abs(diffs) >= abs(d) - 1e-12)
    res = t.test("revenue", by="grp", a="x", b="y", n_perm=20000, random_state=0)
    assert res.difference == pytest.approx(d)
    assert res.p_value == pytest.approx(exact, abs=0.01)  # exact = 2/20
    assert res.ratio == pytest.approx(y[:3].mean() / y[3:].mean())


def test_retention_and_churn_golden(orders, ids):
    t = customer_table(orders, ids, end="2026-05-01")
    r = t.retention(max_periods=3)
    # cohort 2026-01: L1 (orders in months 0, 1), L3 (months 0, 2), c2 (month 0)
    np.testing.assert_allclose(r.matrix.loc["2026-01"].to_numpy(), [1.0, 1 / 3, 1 / 3, 0.0])
    gaps = np.array([10.0, 35.0, 59.0, 20.0])  # L1: Jan 1 -> 11 -> Feb 15; L3: Jan 5 -> Mar 5 -> Mar 25
    assert t.churn_threshold(0.5) == pytest.approx(np.quantile(gaps, 0.5))
    ch = t.churn(0.5)
    assert ch.attrs["threshold_days"] == pytest.approx(27.5)
    assert ch.to_dict() == {"L1": True, "L3": True, "c2": True}
    assert not t.churn(threshold_days=80).any() or t.customers["recency_days"].max() > 80


def test_from_summary_tiny_and_errors():
    df = pd.DataFrame({"master_id": ["a", "b"], "order_channel": ["Mobile", "Offline"],
                       "first_order_date": ["2020-01-01", "2020-06-01"], "last_order_date": ["2020-12-01", "2020-06-01"],
                       "order_num_total_ever_online": [3.0, 0.0], "order_num_total_ever_offline": [1.0, 1.0],
                       "customer_value_total_ever_online": [300.0, 0.0], "customer_value_total_ever_offline": [50.0, 20.0]})
    t = customer_table.from_summary(df)
    c = t.customers
    assert c.loc["a", "share_segment"] == "mostly online" and c.loc["b", "place_segment"] == "store-only"
    assert c.loc["a", "mean_gap_days"] == pytest.approx(335 / 3)
    rfm = t.rfm("D")
    assert rfm.loc["a", "frequency"] == 3 and rfm.loc["b", "recency"] == 0
    bad = df.assign(last_order_date=["2019-01-01", "2020-06-01"])
    with pytest.raises(JourneyValidationError, match="last order"):
        customer_table.from_summary(bad)
    with pytest.raises(JourneyValidationError, match="repeats"):
        customer_table.from_summary(pd.concat([df, df]))


@pytest.mark.skipif(not FLO.exists(), reason="../shared/data is absent")
def test_flo_end_to_end(tmp_path):
    df = pd.read_csv(FLO)
    t = CustomerTable.from_summary(df)
    assert len(t) == 19945 and (t.customers["place_segment"] == "omnichannel").all()
    an = t.analyse(n_boot=20, clv=False, n_perm=99)
    assert an.by == "share_segment"
    assert set(an.kpis.table.index) == {"mostly online", "mixed", "mostly store"}
    assert an.kpis.table["revenue_share"].sum() == pytest.approx(1.0)
    assert an.kpis.table["customers"].sum() == len(t)
    assert an.tests and an.tests[0].label_a == "mostly online"
    files = an.write(tmp_path)
    html = (tmp_path / "customers.html").read_text()
    assert "<section id='customers'>" in html and "<script" not in html and len(files) >= 5


def test_simulator_uplift_and_bgnbd_recovery():
    s = simulate_customers(8000, random_state=0, survey=True)
    crm = s.customers.reset_index()[["customer_id", "segment", "acquisition"]]
    t = customer_table(s.orders, crm=crm, end=s.end)
    rates = t.purchase_rates("segment", reference=["online-only", "store-only"])
    lo, hi = rates.loc["omnichannel", ["ratio_low", "ratio_high"]]
    assert lo <= s.params["omni_uplift"] <= hi
    # BG/NBD on one homogeneous segment recovers the simulator's parameters
    rfm = t.rfm("W")
    single = (t.customers["segment"] != "omnichannel").to_numpy()
    from attribution.clv import BetaGeoModel

    m = BetaGeoModel().fit(rfm[single])
    np.testing.assert_allclose(m.params_[["r", "a"]].to_numpy(), [s.params["r"], s.params["a"]], rtol=0.15)
    assert m.mean_rate()["low"] <= s.params["r"] / s.params["alpha"] <= m.mean_rate()["high"] * 1.05
    # calibration / holdout split in time: predicted vs actual holdout purchases
    res = t.fit_clv(26, calibration_end=s.start + pd.Timedelta(weeks=78))
    h = res.holdout
    assert h["predicted"].sum() == pytest.approx(h["actual"].sum(), rel=0.10)
    dec = res.holdout_deciles()
    assert np.all(np.diff(dec["actual"].to_numpy()[3:]) > 0)  # deciles of prediction are ordered in actual purchases
    by = res.by_segment("acquisition")
    assert by["customers"].sum() == len(res.customers)
    # survey KPIs per segment: omnichannel answers are happier in the simulator
    sk = survey_kpis(s.survey, "segment", customers=t)
    assert sk.table.loc["omnichannel", "nps"] > sk.table.loc["online-only", "nps"]


def test_survey_kpis_golden():
    sv = pd.DataFrame({"customer_id": list("abcdefghij"), "nps": [10, 9, 9, 8, 7, 6, 3, 10, 0, 9],
                       "csat": [5, 4, 4, 3, 5, 2, 1, 5, 4, 4], "ces": [7, 6, 5, 5, 4, 3, 2, 6, 1, 7]})
    t = survey_kpis(sv).table.loc["all"]
    assert t["nps"] == pytest.approx(100 * (5 / 10 - 3 / 10))
    se = 100 * np.sqrt((0.5 + 0.3 - 0.2 ** 2) / 10)
    assert t["nps_high"] - t["nps"] == pytest.approx(1.6448536 * se, rel=1e-6)
    assert t["csat"] == pytest.approx(0.7) and t["csat_low"] < 0.7 < t["csat_high"]
    assert t["ces"] == pytest.approx(4.6)
    with pytest.raises(JourneyValidationError, match="outside"):
        survey_kpis(sv.assign(nps=[11] * 10))


def test_clv_value_conserves_and_changes_roi(orders, ids):
    from attribution.decisions.comparison import compare
    from attribution.decisions.roi import channel_roi

    tp = pd.DataFrame({"customer_id": ["c1", "L3", "c2"], "timestamp": ["2025-12-30", "2026-01-01", "2026-01-19"],
                       "channel": ["search", "email", "search"]})
    j = Journeys.from_events(tp, orders, identities=ids, place="place", lookback=None)
    future = pd.Series({"L1": 100.0, "L3": 40.0})
    lj = clv_journeys(j, future)
    assert lj.total_value == pytest.approx(j.total_value + 140.0) and lj.clv_missing == 1
    assert lj.total_conversions == j.total_conversions
    comp = compare(j, ["last_touch", "linear"], value="clv", clv=future, progress=False)
    for label in comp.labels:
        assert comp.models[label].credits_["value"].sum() == pytest.approx(lj.total_value)
    m = comp.models["last_touch"]
    roi = channel_roi(m, {"search": 10.0, "email": 10.0}, journeys=j, value="clv", clv=future, warn=False)
    assert roi.table.set_index("channel").loc["email", "value"] == pytest.approx(
        m.credits_.loc["email", "value"] if "email" in m.credits_.index else 0.0)
    with pytest.raises(ValueError, match="needs clv"):
        compare(j, ["linear"], value="clv", progress=False)
    from attribution.customers import lifetime_roi

    lr = lifetime_roi(j, future, {"search": 10.0, "email": 10.0}, model="last_touch")
    assert lr["value"].sum() == pytest.approx(j.total_value)
    assert lr["lifetime_value"].sum() == pytest.approx(lj.total_value)
    assert lr.loc["search", "lifetime_roi"] == pytest.approx((lr.loc["search", "lifetime_value"] - 10.0) / 10.0)


def test_cli_customers(tmp_path):
    from attribution.cli import main

    out = tmp_path / "cust"
    samples = ROOT / "data" / "samples"
    rc = main(["customers", str(samples / "conversions.csv"), "--identities", str(samples / "identities.csv"),
               "--touchpoints", str(samples / "touchpoints.csv"), "--out", str(out), "--n-boot", "20", "--no-clv", "-q"])
    assert rc == 0
    seg = pd.read_csv(out / "customer_segments.csv")
    assert set(seg["place_segment"]) == {"omnichannel", "online-only", "store-only"}
    acq = pd.read_csv(out / "customer_acquisition.csv")
    assert "display" in set(acq["acquisition"])
    assert main(["customers", str(samples / "conversions.csv"), "--costs", str(samples / "costs.csv"),
                 "--out", str(out), "-q"]) != 0  # --costs without --touchpoints is refused
    assert "Customers" in (out / "customers.html").read_text()


def test_report_customers_section_is_escaped(orders, ids):
    from attribution.report import Report

    tp = pd.DataFrame({"customer_id": ["c1", "L3"], "timestamp": ["2025-12-30", "2026-01-01"], "channel": ["<b>x", "email"]})
    # a channel name with markup (">" is the path separator, hence sep="|")
    j = Journeys.from_events(tp, orders, identities=ids, place="place", lookback=None, sep="|")
    t = customer_table(orders, ids, journeys=j)
    an = t.analyse(n_boot=10, clv=False)
    html = Report(j, customer_analysis=an).to_html()
    assert "<section id='customers'>" in html and "href='#customers'" in html
    assert "&lt;b&gt;x" in html and "<b>x" not in html  # the acquisition channel name is escaped
    assert html.count("data:image/png;base64,") >= 3
