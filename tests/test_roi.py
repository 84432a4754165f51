"""ROI, ROAS and CPA: golden arithmetic, the zero-cost / zero-conversion cases, cost layouts,
unmatched channels, intervals, escaping and the plot."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution.exceptions import DataQualityWarning
from attribution.journeys import Journeys
from attribution.models import NO_TOUCH, get_model
from attribution.decisions.roi import ROI_COLUMNS, ROIResult, channel_roi, normalise_costs

pytestmark = pytest.mark.filterwarnings("ignore::attribution.exceptions.DataQualityWarning")


def _credits() -> pd.DataFrame:
    # channel: conversions, value
    return pd.DataFrame(
        {
            "conversions": [10.0, 5.0, 4.0, 3.0, 0.0, 2.0],
            "value": [300.0, 50.0, 40.0, 30.0, 0.0, 20.0],
        },
        index=pd.Index(["search", "display", "email", "direct", "organic", NO_TOUCH], name="channel"),
    )


# search 100 (paid), display 100 (paid), email 0 (unpaid), organic 0 (unpaid, nothing credited),
# tv 50 (cost but no touches); direct has no cost row (touches but no cost).
COSTS = {"search": 100.0, "display": 100.0, "email": 0.0, "organic": 0.0, "tv": 50.0}


def test_golden_arithmetic_and_edge_cases():
    res = channel_roi(_credits(), COSTS, warn=False)
    t = res.table.set_index("channel")
    assert list(res.table.columns) == list(ROI_COLUMNS)
    # real channels in credit order, then cost-only channels, then "(no touch)"
    assert list(t.index) == ["search", "display", "email", "direct", "organic", "tv", NO_TOUCH]
    # search: ROI (300 - 100)/100 = 2, ROAS 300/100 = 3, CPA 100/10 = 10
    assert t.loc["search", ["roi", "roas", "cpa"]].tolist() == [2.0, 3.0, 10.0]
    # display: ROI (50 - 100)/100 = -0.5, ROAS 0.5, CPA 100/5 = 20
    assert t.loc["display", ["roi", "roas", "cpa"]].tolist() == [-0.5, 0.5, 20.0]
    # email: cost 0 -> ROI and ROAS undefined (NaN), CPA 0/4 = 0
    assert math.isnan(t.loc["email", "roi"]) and math.isnan(t.loc["email", "roas"])
    assert t.loc["email", "cpa"] == 0.0
    # direct: no cost row -> cost unknown (NaN), every ratio NaN
    assert t.loc["direct", ["cost", "roi", "roas", "cpa"]].isna().all()
    # organic: cost 0 and no conversions -> all NaN
    assert t.loc["organic", ["roi", "roas", "cpa"]].isna().all()
    # tv: cost 50, no touches -> 0 conversions, ROI (0 - 50)/50 = -1, ROAS 0, CPA inf
    assert t.loc["tv", ["cost", "conversions", "value", "roi", "roas"]].tolist() == [50.0, 0.0, 0.0, -1.0, 0.0]
    assert t.loc["tv", "cpa"] == np.inf
    # (no touch): cost 0 by definition
    assert t.loc[NO_TOUCH, "cost"] == 0.0 and t.loc[NO_TOUCH, "cpa"] == 0.0


def test_unmatched_channels_are_reported_not_dropped():
    with pytest.warns(DataQualityWarning, match="cost but no touches"):
        res = channel_roi(_credits(), COSTS)
    u = res.unmatched.set_index("channel")
    assert u.loc["tv", "issue"] == "cost but no touches" and u.loc["tv", "cost"] == 50.0
    assert u.loc["direct", "issue"] == "touches but no cost" and math.isnan(u.loc["direct", "cost"])
    assert NO_TOUCH not in u.index
    assert any("tv" in w for w in res.warnings) and any("direct" in w for w in res.warnings)
    assert {"tv", "direct"} <= set(res.table["channel"])


def test_near_miss_channel_names_get_a_hint():
    credits = pd.DataFrame({"conversions": [5.0], "value": [10.0]}, index=["Facebook"])
    res = channel_roi(credits, {"facebook ": 10.0, "Facebok": 1.0}, warn=False)
    # costs strip spaces: "facebook" matches "Facebook" up to case; "Facebok" is a typo
    hints = res.unmatched.set_index("channel")["hint"]
    assert hints["facebook"] == "same name as 'Facebook' up to case/spaces"
    assert hints["Facebook"] == "same name as 'facebook' up to case/spaces"
    assert hints["Facebok"] == "did you mean 'Facebook'?"


def test_blended_totals():
    res = channel_roi(_credits(), COSTS, warn=False)
    tot = res.totals.loc["model"]
    # cost: 100 + 100 + 0 + 0 + 50 (direct unknown) = 250; conversions 24; value 440
    assert tot["cost"] == 250.0 and tot["conversions"] == 24.0 and tot["value"] == 440.0
    assert tot["roas"] == pytest.approx(440 / 250) and tot["roi"] == pytest.approx(190 / 250)
    assert tot["cpa"] == pytest.approx(250 / 24)


def test_cost_layouts_agree():
    credits = pd.DataFrame({"conversions": [10.0, 5.0], "value": [300.0, 50.0]}, index=["search", "display"])
    per_channel = pd.DataFrame({"channel": ["search", "display"], "spend": [100.0, 100.0]})
    daily = pd.DataFrame(
        {"date": ["2026-03-01", "2026-03-02", "2026-03-01", "2026-03-02"],
         "channel": ["search", "search", "display", " display"], "cost": [40.0, 60.0, 25.0, 75.0]}
    )
    touchpoints = pd.DataFrame(
        {"customer_id": list("abcd"), "timestamp": ["2026-03-01T10:00:00Z"] * 2 + ["2026-03-02T11:00:00Z"] * 2,
         "channel": ["search", "display", "search", "display"], "cost": [50.0, 50.0, 50.0, 50.0]}
    )
    series = pd.Series({"search": 100.0, "display": 100.0})
    tables = [channel_roi(credits, c, warn=False).table for c in (per_channel, daily, touchpoints, series, dict(series))]
    for t in tables[1:]:
        pd.testing.assert_frame_equal(t, tables[0])


def test_normalise_costs_periods():
    daily = pd.DataFrame({"day": ["2018-07-01", "2018-07-01", "2018-07-02"], "channel": ["a", "a", "b"],
                          "cost": [1.0, 2.0, 3.0]})
    out = normalise_costs(daily)
    assert list(out.columns) == ["channel", "period", "cost"]
    assert out["cost"].tolist() == [3.0, 3.0]
    assert out["period"].tolist() == [pd.Timestamp("2018-07-01"), pd.Timestamp("2018-07-02")]
    # touch-level timestamps are floored to days; freq groups them further
    tp = pd.DataFrame({"timestamp": ["2026-03-02T10:00:00Z", "2026-03-02T23:00:00+01:00", "2026-03-04T01:00:00Z"],
                       "channel": ["a", "a", "a"], "cost": [1.0, 1.0, 1.0]})
    assert normalise_costs(tp)["cost"].tolist() == [2.0, 1.0]
    weekly = normalise_costs(tp, freq="W")
    assert weekly["cost"].tolist() == [3.0] and weekly["period"].iloc[0] == pd.Timestamp("2026-03-02")
    # labels that are not dates stay labels; period=False ignores the column
    labels = pd.DataFrame({"week": ["2018-W27", "2018-W28"], "channel": ["a", "a"], "cost": [1.0, 2.0]})
    assert normalise_costs(labels)["period"].tolist() == ["2018-W27", "2018-W28"]
    assert list(normalise_costs(labels, period=False).columns) == ["channel", "cost"]


def test_cost_errors_name_column_rows_and_fix():
    bad = pd.DataFrame({"channel": ["a", "b", "c"], "cost": [1.0, -2.0, None]})
    with pytest.raises(ValueError, match=r"(?s)Column 'cost' of the costs must hold non-negative.*2 value\(s\).*-2\.0.*fillna\(0\)"):
        normalise_costs(bad)
    with pytest.raises(ValueError, match=r"no cost column: expected one of \['cost', 'spend'.*Columns found: \['channel', 'euros'\]. Pass cost="):
        normalise_costs(pd.DataFrame({"channel": ["a"], "euros": [1.0]}))
    with pytest.raises(ValueError, match="missing or empty channel name"):
        normalise_costs(pd.DataFrame({"channel": ["a", ""], "cost": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="Did you mean channel='Channel'"):
        normalise_costs(pd.DataFrame({"Channel": ["a"], "cost": [1.0]}))
    with pytest.raises(TypeError, match="costs must be a DataFrame"):
        normalise_costs([1, 2])
    with pytest.raises(TypeError, match="credits must be a fitted model"):
        channel_roi(42, {"a": 1.0})


def test_fitted_models_and_dicts_of_them():
    paths = pd.DataFrame({"path": ["a > b", "b"], "total_conversions": [4, 2], "total_conversion_value": [40, 10]})
    j = Journeys.from_paths(paths)
    first = get_model("first_touch").fit(j)
    last = get_model("last_touch").fit(j)
    res = channel_roi({"first": first, "last": last}, {"a": 20.0, "b": 20.0}, journeys=j)
    roi = res.wide("roi")
    # first touch: a gets 4 conv / 40 value -> ROI (40-20)/20 = 1; b gets 2 / 10 -> -0.5
    # last touch:  a gets 0 -> ROI -1; b gets 6 / 50 -> 1.5
    assert roi.loc["a"].tolist() == [1.0, -1.0]
    assert roi.loc["b"].tolist() == [-0.5, 1.5]
    assert res.wide("cpa").loc["a", "last"] == np.inf
    assert res.unmatched.empty


def test_interval_columns_transform_the_ends():
    credits = pd.DataFrame(
        {"conversions": [10.0], "conversions_low": [8.0], "conversions_high": [12.5],
         "value": [300.0], "value_low": [250.0], "value_high": [400.0]},
        index=pd.Index(["search"], name="channel"),
    )
    res = channel_roi(credits, {"search": 100.0})
    r = res.table.iloc[0]
    assert res.has_intervals
    # ROI in [(250-100)/100, (400-100)/100] = [1.5, 3]; CPA in [100/12.5, 100/8] = [8, 12.5]
    assert (r["roi_low"], r["roi_high"]) == (1.5, 3.0)
    assert (r["roas_low"], r["roas_high"]) == (2.5, 4.0)
    assert (r["cpa_low"], r["cpa_high"]) == (8.0, 12.5)


def _amount(high):
    return st.one_of(st.just(0.0), st.floats(1e-3, high, allow_nan=False, allow_subnormal=False))


@settings(max_examples=25, deadline=None)
@given(cost=st.lists(_amount(1e6), min_size=1, max_size=6), data=st.data())
def test_ratio_invariants(cost, data):
    k = len(cost)
    conv = data.draw(st.lists(_amount(1e4), min_size=k, max_size=k))
    value = data.draw(st.lists(_amount(1e6), min_size=k, max_size=k))
    scale = data.draw(st.floats(0.01, 100))
    names = [f"c{i}" for i in range(k)]
    credits = pd.DataFrame({"conversions": conv, "value": value}, index=names)
    t = channel_roi(credits, dict(zip(names, cost)), warn=False).table.set_index("channel")
    paid = t["cost"] > 0
    # ROAS = ROI + 1 wherever cost > 0; undefined (NaN) otherwise
    np.testing.assert_allclose(t.loc[paid, "roas"], t.loc[paid, "roi"] + 1.0, rtol=1e-9, atol=1e-9)
    assert t.loc[~paid, ["roi", "roas"]].isna().all().all()
    # CPA x conversions = cost wherever conversions > 0
    conv_pos = t["conversions"] > 0
    np.testing.assert_allclose(t.loc[conv_pos, "cpa"] * t.loc[conv_pos, "conversions"], t.loc[conv_pos, "cost"], rtol=1e-9)
    assert (t.loc[paid & ~conv_pos, "cpa"] == np.inf).all()
    # scaling cost and value by the same factor leaves ROI unchanged (currency change)
    credits2 = credits.assign(value=credits["value"] * scale)
    t2 = channel_roi(credits2, {n: c * scale for n, c in zip(names, cost)}, warn=False).table.set_index("channel")
    np.testing.assert_allclose(t2["roi"], t["roi"], rtol=1e-9, atol=1e-12)


def test_summary_html_escaping_and_plot():
    evil = "<script>alert(1)</script>"
    credits = pd.DataFrame({"conversions": [10.0, 1.0], "value": [300.0, 5.0]}, index=[evil, "b & c"])
    res = channel_roi({"m<1>": credits}, {evil: 100.0, "b & c": 0.0, "tv": 3.0}, warn=False)
    page = res._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "m&lt;1&gt;" in page and "b &amp; c" in page
    text = res.summary()
    assert "ROI = (value - cost) / cost" in text and "Blended totals" in text and "tv" in text
    assert isinstance(res, ROIResult) and "ROIResult" in repr(res)

    import matplotlib.pyplot as plt

    ax = res.plot()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [evil, "b & c (unpaid)", "tv (no conversions)"]
    assert "ROI" in ax.get_xlabel() and "break-even" in ax.get_xlabel()
    ax.figure.savefig("/tmp/test_roi_plot.png", dpi=70)
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="The 'metric' parameter of plot_roi"):
        res.plot("npv")
