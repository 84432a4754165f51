"""Touch types (clicks vs impressions) and the channel > campaign hierarchy.

Golden values on hand-computed journeys (per-type lookback windows, click priority, the
post-view / post-click split, type-aware repeats, campaign roll-up), conservation with
hypothesis, and parity of the pandas and DuckDB engines (the generated-log parity tests in
``test_engine_duckdb.py`` / ``test_engine_spark.py`` draw touch types, per-type windows and
the campaign level too).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import journeys

from attribution import Journeys, JourneyValidationError, ParameterError
from attribution.credits import campaign_credits, credits_by_touch_type, rollup, touch_credits
from attribution.exceptions import DataQualityWarning
from attribution.models import MODELS, get_model
from attribution.models.rules import FirstTouch, LastNonDirect, LastTouch, Linear, PositionBased, TimeDecay

pytestmark = [pytest.mark.filterwarnings("ignore::attribution.exceptions.ExcludedRowsWarning"),
              pytest.mark.filterwarnings("ignore:None of the direct channels:attribution.exceptions.DataQualityWarning")]


def events():
    """u: search click (9 days before), display impression (5 days), email click (2 days),
    display impression (1 day) -> buys 10.0. v: social impression, display impression -> buys 4.0.
    w: an email click and no purchase."""
    tp = pd.DataFrame({
        "customer_id": ["u", "u", "u", "u", "v", "v", "w"],
        "timestamp": ["2026-03-01", "2026-03-05", "2026-03-08", "2026-03-09", "2026-03-01", "2026-03-02",
                      "2026-03-04"],
        "channel": ["search", "display", "email", "display", "social", "display", "email"],
        "touch_type": ["click", "impression", "click", " Impression", "impression", "view", "click"],
        "campaign": ["brand", None, "news", "retarget", "launch", "retarget", "news"],
    })
    cv = pd.DataFrame({"customer_id": ["u", "v"], "timestamp": ["2026-03-10", "2026-03-04"], "value": [10.0, 4.0]})
    return tp, cv


def paths_with_types(j: Journeys) -> list[str]:
    names = j.channels[j.touch_channel] + "/" + j.touch_types[j.touch_type]
    return [" > ".join(names[a:b]) for a, b in zip(j.offsets[:-1], j.offsets[1:])]


# ----------------------------------------------------------------------------- the structure
def test_types_are_one_more_csr_array():
    tp, cv = events()
    j = Journeys.from_events(tp, cv)
    assert j.has_touch_type and j.touch_type.dtype == np.int8 and len(j.touch_type) == j.n_touches
    assert list(j.touch_types) == ["click", "impression", "view"]  # stripped, lower-cased, sorted
    assert paths_with_types(j) == [
        "search/click > display/impression > email/click > display/impression",
        "social/impression > display/view",
        "email/click",
    ]
    assert j.is_impression.tolist() == [False, True, False, True, True, True, False]
    # subsetting carries the types
    sub = j.take([2, 0])
    assert paths_with_types(sub) == ["email/click", paths_with_types(j)[0]]
    assert Journeys.from_events(tp.drop(columns="touch_type"), cv).touch_type is None
    assert Journeys.from_events(tp, cv, touch_type=None).touch_type is None


def test_per_type_lookback_golden():
    tp, cv = events()
    # 1-day view window, 30-day click window: u's impression 5 days old goes, the one 1 day old stays
    j = Journeys.from_events(tp, cv, lookback={"click": "30D", "impression": "1D"})
    assert paths_with_types(j)[0] == "search/click > email/click > display/impression"
    # v's impressions are 3 and 2 days old ('view' is an impression type): both go
    assert paths_with_types(j)[1] == ""
    assert j.exclusions["lookback"] == 3
    # by name first, then class, then default; None is no window
    j = Journeys.from_events(tp, cv, lookback={"view": None, "impression": "1D", "default": "3D"})
    assert paths_with_types(j)[:2] == ["email/click > display/impression", "display/view"]
    # a research acceptance point: an impression 2 days old is excluded under a 1-day view window
    one = pd.DataFrame({"customer_id": ["a"], "timestamp": ["2026-01-01"], "channel": ["display"],
                        "touch_type": ["impression"]})
    buy = pd.DataFrame({"customer_id": ["a"], "timestamp": ["2026-01-03"]})
    assert Journeys.from_events(one, buy, lookback={"click": "7D", "impression": "1D"}).n_touches == 0
    assert Journeys.from_events(one, buy, lookback={"click": "7D", "impression": "2D"}).n_touches == 1


def test_per_type_lookback_errors():
    tp, cv = events()
    with pytest.raises(ParameterError, match="no window for touch type 'impression'"):
        Journeys.from_events(tp, cv, lookback={"click": "30D", "impression_x": "1D"})
    with pytest.raises(ParameterError, match="carry no touch type"):
        Journeys.from_events(tp, cv, touch_type=None, lookback={"click": "30D"})
    with pytest.raises(ParameterError, match="lookback\\['click'\\]"):
        Journeys.from_events(tp, cv, lookback={"click": -3, "impression": "1D"})
    bad = tp.copy()
    bad.loc[2, "touch_type"] = None
    with pytest.raises(JourneyValidationError, match="'touch_type' of touchpoints has 1 missing"):
        Journeys.from_events(bad, cv)
    with pytest.raises(JourneyValidationError, match="'kind'"):
        Journeys.from_events(tp, cv, touch_type="kind")


def test_repeats_are_same_channel_and_type():
    tp = pd.DataFrame({"customer_id": ["u"] * 4, "timestamp": ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"],
                       "channel": ["a", "a", "a", "b"], "touch_type": ["impression", "click", "click", "click"]})
    cv = pd.DataFrame({"customer_id": ["u"], "timestamp": ["2026-01-05"]})
    j = Journeys.from_events(tp, cv, collapse_repeats=True)
    assert paths_with_types(j) == ["a/impression > a/click > b/click"]
    assert j.exclusions["collapsed_repeats"] == 1


def test_conversion_row_touches_are_visits():
    # one event table: the purchase row's channel is a touch; without a type it is a visit
    ev = pd.DataFrame({"customer_id": ["u", "u"], "timestamp": ["2026-01-01", "2026-01-02"],
                       "channel": ["display", "search"], "touch_type": ["impression", None],
                       "event_name": ["ad", "purchase"], "value": [0.0, 5.0]})
    j = Journeys.from_events(ev, conversion_events=["purchase"])
    assert paths_with_types(j) == ["display/impression > search/visit"]


# ------------------------------------------------------------------------- click priority
def test_click_priority_golden():
    tp, cv = events()
    j = Journeys.from_events(tp, cv)
    conv = lambda m: m.fit(j).credits_["conversions"].to_dict()  # noqa: E731
    # u: search(c) display(i) email(c) display(i); v: social(i) display(i)
    assert conv(LastTouch()) == {"display": 2.0, "email": 0.0, "search": 0.0, "social": 0.0}
    # last click, else last impression
    assert conv(LastTouch(click_priority=True)) == {"display": 1.0, "email": 1.0, "search": 0.0, "social": 0.0}
    assert conv(FirstTouch(click_priority=True)) == {"display": 0.0, "email": 0.0, "search": 1.0, "social": 1.0}
    assert conv(Linear(click_priority=True)) == {"display": 0.5, "email": 0.5, "search": 0.5, "social": 0.5}
    # position-based on u's two clicks: 0.5 / 0.5; v: two impressions, 0.5 / 0.5
    assert conv(PositionBased(click_priority=True)) == {"display": 0.5, "email": 0.5, "search": 0.5, "social": 0.5}
    # time decay on u's clicks only: search 9 days before, email 2 days (half-life 7 days)
    td = TimeDecay(half_life="7D", click_priority=True).fit(j).credits_["conversions"]
    w_search = 2 ** (-7 / 7) / (1 + 2 ** (-7 / 7))
    assert td["search"] == pytest.approx(w_search) and td["email"] == pytest.approx(1 - w_search)
    # last non-direct click: a direct click beats impressions, a non-direct click beats it
    tp2 = pd.DataFrame({"customer_id": ["a"] * 3, "timestamp": ["2026-01-01", "2026-01-02", "2026-01-03"],
                        "channel": ["email", "direct", "display"], "touch_type": ["click", "click", "impression"]})
    cv2 = pd.DataFrame({"customer_id": ["a"], "timestamp": ["2026-01-04"]})
    j2 = Journeys.from_events(tp2, cv2)
    assert LastNonDirect(click_priority=True).fit(j2).credits_.loc["email", "conversions"] == 1.0
    assert LastNonDirect().fit(j2).credits_.loc["display", "conversions"] == 1.0
    # the spec string and get_model take the parameter
    assert get_model("last_touch:click_priority=True").click_priority is True


def test_click_priority_parameter_checks():
    j = Journeys.from_paths(pd.DataFrame({"path": ["a > b"], "total_conversions": [1]}))
    with pytest.warns(DataQualityWarning, match="no touch types"):
        cr = LastTouch(click_priority=True).fit(j).credits_
    assert cr.loc["b", "conversions"] == 1.0
    with pytest.raises(TypeError, match="click_priority"):
        LastTouch(click_priority="yes").fit(j)


# ---------------------------------------------------------------- post-view / post-click split
def test_post_view_post_click_golden():
    tp, cv = events()
    j = Journeys.from_events(tp, cv)
    last = credits_by_touch_type(LastTouch().fit(j), j)
    assert last.loc["display"].tolist() == [0.0, 2.0]  # both conversions post-view
    m = LastTouch(click_priority=True).fit(j)
    split = credits_by_touch_type(m, j)
    assert list(split.columns) == ["post-click", "post-view"]
    assert split.loc["email"].tolist() == [1.0, 0.0] and split.loc["display"].tolist() == [0.0, 1.0]
    value = credits_by_touch_type(m, j, what="value")
    assert value.loc["email", "post-click"] == 10.0 and value.loc["display", "post-view"] == 4.0
    by_type = credits_by_touch_type(Linear().fit(j), j, by="type")
    # u: 4 touches of 1/4; v: social impression 1/2, display view 1/2
    assert by_type.loc["display"].to_dict() == {"click": 0.0, "impression": 0.5, "view": 0.5}
    tc = touch_credits(m, j)
    assert tc["touch_type"].tolist() == ["click", "impression", "click", "impression", "impression", "view", "click"]
    with pytest.raises(ValueError, match="touch types"):
        credits_by_touch_type(m, Journeys.from_events(tp, cv, touch_type=None))


SPLIT_MODELS = ["last_touch", "first_touch", "linear", "position_based", "time_decay", "markov", "shapley",
                "fractribution"]


@pytest.mark.parametrize("name", SPLIT_MODELS)
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), cp=st.booleans())
def test_split_by_type_conserves_credits(name, data, cp):
    """Rows of the split sum to credits_ for every model (conversions and value), with and
    without click priority; credits_ itself conserves the journeys' totals."""
    j = data.draw(journeys(time=True, touch_type=True))
    params = {"click_priority": cp} if "click_priority" in MODELS[name]().get_params() else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = get_model(name, **params).fit(j)
        for what in ("conversions", "value"):
            t = credits_by_touch_type(m, j, what=what)
            np.testing.assert_allclose(t.sum(axis=1).to_numpy(), m.credits_[what].to_numpy(),
                                       atol=1e-9 * max(1.0, j.total_conversions, j.total_value))
    assert m.credits_["conversions"].sum() == pytest.approx(j.total_conversions, abs=1e-9 * max(1, j.total_conversions))
    assert m.credits_["value"].sum() == pytest.approx(j.total_value, abs=1e-9 * max(1, j.total_value))
    if cp and name in ("last_touch", "first_touch"):  # impressions earn nothing in journeys with a click
        w = get_model(name, **params).touch_weights(j)
        imp = j.is_impression
        has_click = np.bincount(j.journey_index, weights=~imp, minlength=j.n_journeys)[j.journey_index] > 0
        assert not np.any(w[imp & has_click])


# --------------------------------------------------------------------------- campaign level
def test_campaign_level_golden():
    tp, cv = events()
    j = Journeys.from_events(tp, cv, level="campaign")
    assert j.level == "campaign"
    assert list(j.channels) == ["display :: (not set)", "display :: retarget", "email :: news", "search :: brand",
                                "social :: launch"]
    assert list(j.channel_groups) == ["display", "display", "email", "search", "social"]
    m = Linear().fit(j)
    cc = campaign_credits(m, j)
    assert cc.loc[("display", "retarget"), "conversions"] == pytest.approx(0.75)  # u 1/4 + v 1/2
    assert cc.loc[("display", "retarget"), "share_of_channel"] == pytest.approx(0.75)
    up = rollup(m, j)
    assert up.attrs["additive"] and set(up["method"]) == {"sum of campaigns"}
    tc = touch_credits(m, j)
    assert tc["channel_group"].tolist() == ["search", "display", "email", "display", "social", "display", "email"]
    assert up.loc["display", "conversions"] == pytest.approx(1.0)
    # the channel level: same touches, parents as channels
    coarse = j.to_level("channel")
    assert list(coarse.channels) == ["display", "email", "search", "social"]
    assert coarse.n_touches == j.n_touches and coarse.level == "channel"
    # exclude names a channel: all its campaigns go
    j2 = Journeys.from_events(tp, cv, level="campaign", exclude="display")
    assert list(j2.channels) == ["email :: news", "search :: brand", "social :: launch"]
    assert j2.exclusions["excluded_channels"] == 3
    # last non-direct reads the parent channel: "direct :: (not set)" is direct
    tp3 = pd.DataFrame({"customer_id": ["a"] * 2, "timestamp": ["2026-03-01", "2026-03-02"],
                        "channel": ["email", "Direct"], "touch_type": ["click", "click"], "campaign": ["spring", None]})
    j3 = Journeys.from_events(tp3, cv.assign(customer_id=["a", "b"]), level="campaign")
    assert LastNonDirect().fit(j3).credits_.loc["email :: spring", "conversions"] == 1.0
    with pytest.raises(JourneyValidationError, match="'campaign'"):
        Journeys.from_events(tp.drop(columns="campaign"), cv, level="campaign")
    with pytest.raises(ParameterError, match="'level'"):
        Journeys.from_events(tp, cv, level="ad_group")


def test_rollup_additive_rule_models_equal_channel_fit():
    """Rule credits at the campaign level sum per channel to the channel-level fit (they are
    additive across levels); Markov and Shapley are not, and say so."""
    from attribution.datasets import simulate

    sim = simulate(400, random_state=3)
    tp = sim.touchpoints.assign(
        campaign=np.where(np.arange(len(sim.touchpoints)) % 3 == 0, "spring", "always_on"),
        touch_type=np.where(np.arange(len(sim.touchpoints)) % 4 == 0, "impression", "click"),
    )
    kw = dict(lookback={"click": "30D", "impression": "3D"}, warn=False)
    fine = Journeys.from_events(tp, sim.conversions, level="campaign", **kw)
    coarse = Journeys.from_events(tp, sim.conversions, **kw)
    assert fine.to_level("channel").to_paths().equals(coarse.to_paths())
    for spec in ["last_touch", "last_touch:click_priority=True", "linear", "position_based", "time_decay",
                 "last_non_direct:click_priority=True", "first_touch:click_priority=True"]:
        up = rollup(get_model(spec).fit(fine), fine)
        want = get_model(spec).fit(coarse).credits_
        np.testing.assert_allclose(up[["conversions", "value"]].to_numpy(),
                                   want.loc[up.index, ["conversions", "value"]].to_numpy(), rtol=1e-9, atol=1e-9)
        assert up["campaign_sum"].equals(up["conversions"])
    for spec in ["markov", "shapley"]:
        m = get_model(spec).fit(fine)
        with pytest.warns(UserWarning, match="not additive across levels"):
            up = rollup(m, fine)
        assert not up.attrs["additive"] and set(up["method"]) == {"channel-level fit"}
        want = get_model(spec).fit(coarse).credits_
        np.testing.assert_allclose(up["conversions"].to_numpy(), want.loc[up.index, "conversions"].to_numpy(),
                                   rtol=1e-9, atol=1e-9)
        # both columns conserve the conversions
        assert up["conversions"].sum() == pytest.approx(fine.total_conversions)
        assert up["campaign_sum"].sum() == pytest.approx(fine.total_conversions)


# ------------------------------------------------------------------- importers and engines
def test_criteo_importer_keeps_clicks_and_impressions():
    from warehouse_fixtures import criteo_rows

    from attribution.io import read_criteo

    df, totals = criteo_rows()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        j = read_criteo(df).journeys()
    assert set(j.touch_types) == {"click", "impression"}
    n_clicks = int(df["click"].sum())
    assert int((~j.is_impression).sum()) == n_clicks  # no lookback: every touch kept
    m = LastTouch(click_priority=True).fit(j)
    split = credits_by_touch_type(m, j)
    assert split.to_numpy().sum() == pytest.approx(totals["purchases"])


def test_duckdb_parity_golden():
    pytest.importorskip("duckdb")
    from attribution.engines.duckdb import aggregate_events
    from test_engine_duckdb import assert_same_paths

    tp, cv = events()
    for kw in (dict(lookback={"click": "30D", "impression": "1D"}), dict(level="campaign", collapse_repeats=True),
               dict(level="campaign", exclude="display", lookback={"default": "8D"})):
        a = Journeys.from_events(tp, cv, warn=False, **kw)
        b = Journeys.from_events(tp, cv, engine="duckdb", warn=False, **kw)
        assert_same_paths(a, b)
        with aggregate_events(tp, cv, age_resolution="1s", **kw) as agg:  # rule credits in SQL, click priority too
            assert_same_paths(a, agg.to_journeys())
            for spec in ["last_touch", "last_touch:click_priority=True", "linear:click_priority=True",
                         "position_based:click_priority=True", "last_non_direct:click_priority=True",
                         "first_touch:click_priority=True", "time_decay:half_life=2D,click_priority=True"]:
                want = get_model(spec).fit(a).credits_
                np.testing.assert_allclose(agg.rule_credits(spec).to_numpy(), want.to_numpy(), atol=1e-12)


# ------------------------------------------------------------------------------------- CLI
def test_cli_touch_types_windows_and_level(tmp_path):
    """--lookback click=30D,impression=1D, a touch-type column, click priority in a model spec and
    --level campaign reach the journeys; credits conserve the purchases."""
    from attribution.cli import main

    tp, cv = events()
    tp.rename(columns={"touch_type": "kind"}).to_csv(tmp_path / "tp.csv", index=False)
    cv.to_csv(tmp_path / "cv.csv", index=False)
    base = [str(tmp_path / "tp.csv"), "--conversions", str(tmp_path / "cv.csv"), "--touch-type", "kind", "-q"]
    assert main(["compare", *base, "--lookback", "click=30D,impression=1D", "--models",
                 "last_touch,last_touch:click_priority=True", "--out", str(tmp_path / "a")]) == 0
    cr = pd.read_csv(tmp_path / "a" / "credits.csv")
    # the window leaves u: search(c) > email(c) > display(i) and v with no touch
    plain = cr[cr["model"] == "last_touch"].set_index("channel")["conversions"]
    prio = cr[cr["model"] != "last_touch"].set_index("channel")["conversions"]
    assert plain["display"] == 1.0 and prio["email"] == 1.0 and prio.get("display", 0.0) == 0.0
    assert plain.sum() == prio.sum() == 2.0
    assert main(["compare", *base, "--models", "last_touch:click_priority=True,markov", "--journey-credits",
                 "--out", str(tmp_path / "d")]) == 0
    split = pd.read_csv(tmp_path / "d" / "credits_by_touch_type.csv")
    assert list(split.columns[:4]) == ["model", "channel", "post-click", "post-view"]
    lt = split[split["model"] == split["model"].iloc[0]].set_index("channel")
    assert lt.loc["email", "post-click"] == 1.0 and lt.loc["display", "post-view"] == 1.0  # as the golden test
    assert split.groupby("model")[["post-click", "post-view"]].sum().sum(axis=1).tolist() == pytest.approx([2.0, 2.0])
    assert main(["compare", *base, "--level", "campaign", "--models", "linear", "--out", str(tmp_path / "b")]) == 0
    cr = pd.read_csv(tmp_path / "b" / "credits.csv")
    assert "display :: retarget" in set(cr["channel"]) and cr["conversions"].sum() == pytest.approx(2.0)
    assert main(["compare", *base, "--lookback", "click=30D,oops", "--out", str(tmp_path / "c")]) == 2
