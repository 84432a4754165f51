"""compare(): credits of several models, ranks, Spearman agreement, ROI, bootstrap intervals,
presentation, and the end-to-end run on the Kaggle-layout events with real daily costs."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from attribution.decisions.comparison import Comparison, compare
from attribution.exceptions import DataQualityWarning
from attribution.journeys import Journeys
from attribution.models import MODELS, get_model

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
KAGGLE_EVENTS = DATA / "events" / "kaggle_schema_events.csv.gz"
KAGGLE_COSTS = DATA / "costs" / "daily_cost_5_channels.csv"


def _toy() -> Journeys:
    # search > email: 6 conversions (value 60), display > search: 3 (value 30), email: 1 (value 10)
    paths = pd.DataFrame({
        "path": ["search > email", "display > search", "email"],
        "total_conversions": [6, 3, 1],
        "total_conversion_value": [60.0, 30.0, 10.0],
        "total_null": [10, 20, 30],
    })
    return Journeys.from_paths(paths)


MODELS3 = ["first_touch", "last_touch", "linear"]


def test_golden_credits_ranks_and_spearman():
    comp = compare(_toy(), MODELS3)
    w = comp.credits_wide
    # first: search 6, display 3, email 1; last: email 7, search 3, display 0;
    # linear: search 3 + 1.5 = 4.5, email 3 + 1 = 4, display 1.5
    assert w.loc["search"].tolist() == [6.0, 3.0, 4.5]
    assert w.loc["email"].tolist() == [1.0, 7.0, 4.0]
    assert w.loc["display"].tolist() == [3.0, 0.0, 1.5]
    assert comp.value_wide.loc["email", "last_touch"] == 70.0
    assert comp.shares.loc["search", "first_touch"] == 0.6
    r = comp.ranks
    assert r.loc[["search", "display", "email"], "first_touch"].tolist() == [1, 2, 3]
    assert r.loc[["search", "display", "email"], "last_touch"].tolist() == [2, 3, 1]
    # Spearman: first vs last rank differences (1, -1, 2)... sum d^2 = 6 -> 1 - 6*6/(3*8) = -0.5;
    # first vs linear: sum d^2 = 2 -> 0.5; last vs linear: sum d^2 = 2 -> 0.5
    a = comp.rank_agreement
    assert a.loc["first_touch", "last_touch"] == pytest.approx(-0.5)
    assert a.loc["first_touch", "linear"] == pytest.approx(0.5)
    assert a.loc["last_touch", "linear"] == pytest.approx(0.5)
    assert np.allclose(np.diag(a), 1.0)
    # the long table: one row per model x channel, each model conserving the conversions
    long = comp.credits
    assert list(long.columns) == ["model", "estimand", "channel", "conversions", "value", "share"]
    assert set(long["estimand"]) == {"attributed"}
    assert long.groupby("model")["conversions"].sum().tolist() == [10.0, 10.0, 10.0]


def test_model_specs_objects_dicts_and_labels():
    mine = get_model("position_based")
    comp = compare(_toy(), ["markov:order=2", mine, "linear", "linear"])
    assert comp.labels == ["markov:order=2", "position_based", "linear", "linear #2"]
    assert "credits_" not in mine.__dict__  # the user's object is cloned, not fitted
    assert comp.models["markov:order=2"].order_ == 2
    comp2 = compare(_toy(), {"M1": "markov", "LT": "last_touch"})
    assert comp2.labels == ["M1", "LT"]


def test_default_models_skip_what_cannot_run_with_a_note():
    comp = compare(_toy())  # a path table: no timestamps
    assert "time_decay" not in comp.labels
    assert {"last_touch", "linear", "markov"} <= set(comp.labels)
    assert any("time_decay skipped" in w for w in comp.warnings)
    if "shapley" not in MODELS:
        assert any("shapley skipped" in w for w in comp.warnings)


def test_errors():
    j = _toy()
    with pytest.raises(ValueError, match="time_decay needs touch and conversion timestamps.*from_events"):
        compare(j, ["time_decay"])
    with pytest.raises(ValueError, match=r"Unknown model 'markv'. Choose from \[.*Did you mean 'markov'"):
        compare(j, ["markv"])
    with pytest.raises(TypeError, match="compare expects a Journeys object"):
        compare(pd.DataFrame(), ["linear"])
    with pytest.raises(ValueError, match="must name at least one model"):
        compare(j, [])
    with pytest.raises(ValueError, match="no costs, so there is no ROI. Pass costs="):
        compare(j, ["linear"]).roi
    with pytest.raises(ValueError, match=r"The 'bootstrap' parameter of compare must be .* Got -3 instead."):
        compare(j, ["linear"], bootstrap=-3)
    with pytest.raises(ValueError, match=r"names model\(s\) \['markov'\] that are not being compared"):
        compare(j, ["linear"], bootstrap={"markov": None})


def test_roi_and_unmatched():
    costs = pd.DataFrame({"channel": ["search", "email", "tv"], "cost": [30.0, 0.0, 5.0]})
    with pytest.warns(DataQualityWarning):
        comp = compare(_toy(), MODELS3, costs=costs)
    roi = comp.roi
    assert list(roi.columns) == ["channel", "model", "estimand", "cost", "conversions", "value", "roi", "roas", "cpa"]
    assert len(roi) == 3 * 4  # 3 models x (3 journey channels + tv)
    s = roi.set_index(["model", "channel"])
    # first touch: search 6 conv, value 60, cost 30 -> ROI 1, ROAS 2, CPA 5
    assert s.loc[("first_touch", "search"), ["roi", "roas", "cpa"]].tolist() == [1.0, 2.0, 5.0]
    u = comp.unmatched.set_index("channel")["issue"].to_dict()
    assert u == {"tv": "cost but no touches", "display": "touches but no cost"}
    assert len(comp.warnings) == 2


def test_bootstrap_intervals_flow_into_credits_and_roi():
    comp = compare(_toy(), ["linear", "markov"], costs={"search": 30.0, "email": 20.0, "display": 5.0},
                   bootstrap=30, random_state=1, progress=False)
    cr = comp.credits
    for m in ("conversions", "value", "share"):
        assert {f"{m}_low", f"{m}_high"} <= set(cr.columns)
        assert (cr[f"{m}_low"] <= cr[f"{m}_high"]).all()
    assert set(comp.bootstraps) == {"linear", "markov"}
    assert comp.bootstraps["linear"].n == 30
    roi = comp.roi
    assert {"roi_low", "roi_high", "cpa_low", "cpa_high"} <= set(roi.columns)
    assert (roi["roi_low"] <= roi["roi_high"]).all()
    # same seed, same intervals; precomputed results can be passed back in
    again = compare(_toy(), ["linear", "markov"], bootstrap=30, random_state=1, progress=False)
    pd.testing.assert_frame_equal(again.credits, cr)
    reuse = compare(_toy(), ["linear", "markov"], bootstrap=comp.bootstraps)
    pd.testing.assert_frame_equal(reuse.credits, cr)
    assert "90% bootstrap intervals of the shares" in comp.summary()


def test_summary_html_and_plots():
    evil = "<script>alert(1)</script>"
    paths = pd.DataFrame({"path": [f"{evil} | b", "b"], "total_conversions": [3, 1], "total_null": [1, 1]})
    j = Journeys.from_paths(paths, sep="|")
    comp = compare(j, ["first_touch", "last_touch"], costs={evil: 2.0, "b": 1.0})
    page = comp._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page
    text = comp.summary()
    for part in ("Share of the channels' credited conversions", "Rank agreement (Spearman)",
                 "ROI = (value - cost) / cost", "All models are attributed"):
        assert part in text
    assert repr(comp).startswith("<Comparison: 2 models")

    ax = comp.plot()
    assert len(ax.containers) == 2  # one bar series per model
    assert ax.get_xlabel() == "Attributed conversions"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["first_touch", "last_touch"]
    plt.close(ax.figure)
    ax = comp.plot("share")
    assert "Share" in ax.get_title()
    plt.close(ax.figure)
    fig, given_ax = plt.subplots()
    assert comp.plot_roi(ax=given_ax) is given_ax  # an Axes passed in is used, not replaced
    plt.close(fig)
    ax = comp.plot_rank_agreement()
    plt.close(ax.figure)


def test_twenty_channels_are_legible(tmp_path):
    rng = np.random.default_rng(3)
    names = [f"channel_{i:02d}_long_name" for i in range(20)]
    paths = [" > ".join(rng.choice(names, size=rng.integers(1, 5))) for _ in range(300)]
    df = pd.DataFrame({"path": paths, "total_conversions": rng.integers(0, 5, 300),
                       "total_conversion_value": rng.uniform(0, 100, 300), "total_null": rng.integers(0, 9, 300)})
    comp = compare(Journeys.from_paths(df), ["first_touch", "last_touch", "linear", "position_based", "markov"],
                   costs={n: float(rng.uniform(10, 100)) for n in names}, bootstrap=5, progress=False)
    for name, ax in (("credits", comp.plot()), ("roi", comp.plot_roi())):
        fig = ax.figure
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert len(labels) == 20
        # at least ~0.3 inch per channel row: tick labels do not collide
        assert fig.get_size_inches()[1] / 20 >= 0.3
        fig.savefig(f"/tmp/test_compare_20ch_{name}.png", dpi=70)
        plt.close(fig)


@pytest.mark.skipif(not (KAGGLE_EVENTS.exists() and KAGGLE_COSTS.exists()), reason="../shared/data not available")
def test_end_to_end_kaggle_events_with_daily_costs():
    from attribution.decisions.budget import plan_budget

    events = pd.read_csv(KAGGLE_EVENTS)
    costs = pd.read_csv(KAGGLE_COSTS)
    journeys = Journeys.from_events(events, time="time")
    comp = compare(journeys, ["last_touch", "linear", "time_decay", "markov"], costs=costs)
    assert isinstance(comp, Comparison)
    assert comp.unmatched.empty and comp.warnings == []
    roi = comp.roi
    assert len(roi) == 5 * 4
    assert roi.groupby("model")["cost"].sum().round(2).unique().tolist() == [4856.74]
    assert np.allclose(roi.groupby("model")["conversions"].sum(), 1838.0)
    assert roi["roi"].notna().all() and np.isfinite(roi["cpa"]).all()
    plan = plan_budget(comp, None, 4856.74, model="markov")
    assert int(round(plan.allocation["planned"].sum() * 100)) == 485674
    assert set(plan.curves["source"]) <= {"fitted", "pooled"}  # 31 days of spend and outcome
    assert plan.totals.loc["plan", "value"] >= plan.totals.loc["today", "value"]
