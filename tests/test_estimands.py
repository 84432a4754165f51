"""Decisions never mix estimands silently: compare, ROI, budget plans with an incremental model.

A test-only incremental model (fixed incremental credit per channel) stands in for the causal
estimators, so the plumbing is checked with hand-computable numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attribution import BASELINE, Journeys, channel_roi, compare, plan_budget
from attribution.decisions.budget import check_plan_direction
from attribution.exceptions import DataQualityWarning
from attribution.models import AttributionModel, ChannelCredit, check_conservation

pytestmark = pytest.mark.filterwarnings("ignore::attribution.exceptions.DataQualityWarning")


class FixedIncremental(AttributionModel):
    """Incremental credit given per channel (conversions, value), the rest is baseline."""

    estimand_ = "incremental"

    def __init__(self, credit=None):
        self.credit = credit

    def _channel_credit(self, journeys):
        conv = np.array([self.credit.get(c, (0.0, 0.0))[0] for c in journeys.channels], dtype=float)
        val = np.array([self.credit.get(c, (0.0, 0.0))[1] for c in journeys.channels], dtype=float)
        return ChannelCredit(conv, val)


@pytest.fixture
def journeys():
    paths = pd.DataFrame({
        "path": ["search > email", "display > search", "email", "display"],
        "total_conversions": [6, 3, 1, 0],
        "total_null": [10, 20, 30, 5],
        "total_conversion_value": [600.0, 300.0, 100.0, 0.0],
    })
    return Journeys.from_paths(paths)


INC = {"display": (2.0, 200.0), "email": (0.5, 50.0), "search": (1.5, 150.0)}


def test_incremental_model_conserves_with_baseline(journeys):
    m = FixedIncremental(INC).fit(journeys)
    check_conservation(m, journeys)
    assert m.credits_.loc[BASELINE, "conversions"] == pytest.approx(10 - 4.0)
    assert m.credits_.loc[BASELINE, "value"] == pytest.approx(1000 - 400.0)
    assert m.incremental_credits_["conversions"].sum() == pytest.approx(4.0)


def test_compare_labels_estimands_and_shares_over_channels(journeys):
    comp = compare(journeys, {"last": "last_touch", "causal": FixedIncremental(INC)})
    long = comp.credits
    assert dict(zip(long["model"], long["estimand"])) == {"last": "attributed", "causal": "incremental"}
    assert comp.mixed_estimands
    shares = comp.shares
    # the causal model's shares are over its channels only: 2 : 1.5 : 0.5 of 4
    assert shares["causal"].drop(BASELINE).to_dict() == pytest.approx({"display": 0.5, "search": 0.375, "email": 0.125})
    assert np.isnan(shares.loc[BASELINE, "causal"])
    assert shares["last"].drop(BASELINE).sum() == pytest.approx(1.0)
    # (baseline) is last and out of the ranks
    assert list(comp.credits_wide.index)[-1] == BASELINE
    assert BASELINE not in comp.ranks.index
    assert comp.ranks.loc["display", "causal"] == 1
    text = comp.summary()
    assert "Mixed estimands" in text and "['causal'] are incremental" in text
    assert "Mixed estimands" in comp._repr_html_()
    ax = comp.plot()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["last (attributed)", "causal (incremental)"]
    assert "incremental" in ax.get_title().lower()
    import matplotlib.pyplot as plt

    plt.close("all")


def test_channel_roi_uses_incremental_credit_and_says_so(journeys):
    m = FixedIncremental(INC).fit(journeys)
    res = channel_roi(m, {"display": 100.0, "email": 50.0, "search": 300.0})
    t = res.table.set_index("channel")
    assert set(t["estimand"]) == {"incremental"}
    # incremental ROI = (incremental value - cost) / cost; iROAS; incremental CPA
    assert t.loc["display", "roi"] == pytest.approx(1.0)
    assert t.loc["search", "roas"] == pytest.approx(0.5)
    assert t.loc["email", "cpa"] == pytest.approx(100.0)
    assert t.loc[BASELINE, "cost"] == 0 and np.isnan(t.loc[BASELINE, "roi"])
    text = res.summary()
    assert "Incremental ROI" in text and "Estimand: incremental" in text
    ax = res.plot("roas")
    assert ax.get_title().startswith("iROAS per channel")
    import matplotlib.pyplot as plt

    plt.close("all")
    att = channel_roi(compare(journeys, ["last_touch"]), {"display": 100.0, "email": 50.0, "search": 300.0})
    assert "Attributed ROI" in att.summary()


def test_channel_roi_flags_grade_d(journeys):
    m = FixedIncremental(INC).fit(journeys)
    with pytest.warns(DataQualityWarning, match=r"\['email'\] are graded D"):
        res = channel_roi(m, {"display": 100.0, "email": 50.0, "search": 300.0},
                          validity={"display": "A", "email": "D", "search": "B"})
    assert res.table.set_index("channel").loc["email", "grade"] == "D"


def test_plan_follows_incremental_credit(journeys):
    m = FixedIncremental(INC).fit(journeys)
    costs = {"display": 100.0, "search": 100.0}
    plan = plan_budget(m, costs, 200.0, response="power", elasticity=0.5)
    # power curves, e = 0.5, equal spend today: planned spend in proportion to value^2
    # display 200^2 : search 150^2 = 16 : 9
    assert plan.allocation["planned"].to_dict() == pytest.approx({"display": 128.0, "search": 72.0}, abs=0.011)
    assert plan.estimand == "incremental"
    assert "incremental value" in plan.summary() and "caused" in plan.summary()
    assert BASELINE in set(plan.excluded["channel"])
    # the attributed model plans on attributed value instead (last touch: search 300, email 700 ...)
    last = compare(journeys, ["last_touch"]).models["last_touch"]
    plan_att = plan_budget(last, costs, 200.0, response="power", elasticity=0.5)
    assert plan_att.estimand == "attributed" and "attributed, not incremental" in plan_att.summary()


@pytest.mark.filterwarnings("ignore::attribution.exceptions.PlanWarning")  # unbounded on purpose
def test_plan_holds_grade_d_channels_unless_overridden(journeys):
    m = FixedIncremental(INC).fit(journeys)
    costs = {"display": 100.0, "search": 100.0, "email": 100.0}
    grades = {"display": "A", "search": "D", "email": "B"}
    plan = plan_budget(m, costs, 300.0, response="power", elasticity=0.5, validity=grades, bounds=None)
    assert plan.allocation.loc["search", "planned"] == pytest.approx(100.0)
    assert list(plan.held.index) == ["search"]
    assert any("'search' is held at today's spend: graded D" in w for w in plan.warnings)
    # the rest split 200^2 : 50^2 = 16 : 1 of the remaining 200
    assert plan.allocation.loc["display", "planned"] == pytest.approx(200 * 16 / 17, abs=0.011)
    free = plan_budget(m, costs, 300.0, response="power", elasticity=0.5, validity=grades, hold=False, bounds=None)
    assert free.allocation.loc["search", "planned"] != pytest.approx(100.0)
    assert free.held.empty
    mine = plan_budget(m, costs, 300.0, response="power", elasticity=0.5, hold=["email"])
    assert mine.allocation.loc["email", "planned"] == pytest.approx(100.0)
    with pytest.raises(ValueError, match="not in the plan"):
        plan_budget(m, costs, 300.0, hold=["tv"])
    with pytest.raises(ValueError, match="Holding"):
        plan_budget(m, costs, 150.0, hold=["email", "search"])


@pytest.mark.filterwarnings("ignore::attribution.exceptions.PlanWarning")  # unbounded on purpose
def test_plan_clips_negative_incremental_estimates(journeys):
    m = FixedIncremental({"display": (2.0, 200.0), "search": (-0.5, -50.0)}).fit(journeys)
    plan = plan_budget(m, {"display": 100.0, "search": 100.0}, 200.0, response="power", elasticity=0.5, bounds=None)
    assert plan.clipped == ["search"]
    assert plan.allocation.loc["search", "planned"] == pytest.approx(0.0, abs=0.011)
    assert any("Negative incremental" in w for w in plan.warnings)
    # an attributed table with a negative credit still raises
    neg = pd.DataFrame({"conversions": [2.0, -0.5], "value": [200.0, -50.0]}, index=pd.Index(["display", "search"], name="channel"))
    with pytest.raises(ValueError, match="negative attributed"):
        plan_budget(neg, {"display": 100.0, "search": 100.0}, 200.0)


def test_plan_direction_says_held_not_flat_for_channels_the_scorecard_holds(journeys):
    # golden: value credit display 200, search 150, email 50, each at a cost of 100; search is
    # graded D and held at 100. True returns per unit of cost 0.04, 0.01, 0.02 (median 0.02):
    # display must go up (+100 %), search down (-50 %), email may go either way.
    m = FixedIncremental(INC).fit(journeys)
    costs = {"display": 100.0, "search": 100.0, "email": 100.0}
    truth = {"display": 4.0, "search": 1.0, "email": 2.0}
    plan = plan_budget(m, costs, 300.0, response="power", elasticity=0.5, validity={"search": "D"})
    check = check_plan_direction(plan, truth)
    assert check["should"].to_dict() == {"display": "up", "email": "either", "search": "down"}
    assert check["held"].to_dict() == {"display": False, "email": False, "search": True}
    assert check["verdict"].to_dict() == {"display": "right", "email": "ok", "search": "held"}
    assert check.attrs == {"share_right": 0.5, "required": 2, "held": ["search"]}
    # without the hold the plan spends in proportion to value^2 (power curves, e = 0.5): email
    # stops at its lower bound 50, display 250 * 200^2 / (200^2 + 150^2) = 160, search 90
    free = plan_budget(m, costs, 300.0, response="power", elasticity=0.5, validity={"search": "D"}, hold=False)
    assert free.allocation["planned"].to_dict() == pytest.approx({"display": 160.0, "email": 50.0, "search": 90.0}, abs=0.011)
    check = check_plan_direction(free, truth)
    assert check["verdict"].to_dict() == {"display": "right", "email": "ok", "search": "right"}
    assert check.attrs == {"share_right": 1.0, "required": 2, "held": []}
