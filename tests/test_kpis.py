"""Journey KPIs: golden values on hand-made journeys, invariants over generated ones."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import journeys as journeys_strategy
from strategies import relabel

from attribution import Journeys
from attribution.journey_kpis import NO_TOUCH, JourneyKPIs, kpis

DAY = np.timedelta64(1, "D")
T0 = np.datetime64("2026-03-01T00:00:00", "ns")
NAT = np.datetime64("NaT", "ns")


def hand_made() -> Journeys:
    """Five journeys, weight 1 each (times in days from T0; data ends on day 8):

    ====  ===========  =========  ==========  ========  ==============================
    row   path         outcome    place       customer  touch days / conversion day
    ====  ===========  =========  ==========  ========  ==============================
    J0    a > b > b    converts   online      u1        0, 1, 3 / 4
    J1    b            null                   u2        2
    J2    c > b        converts   store       u1        5, 6 / 8
    J3    a > c        null                   u1        1, 6
    J4    (no touch)   converts   store       u4        - / 7
    ====  ===========  =========  ==========  ========  ==============================
    """
    channels = ["a", "b", "c"]
    tc = [0, 1, 1, 1, 2, 1, 0, 2]
    offsets = [0, 3, 4, 6, 8, 8]
    conv = [1, 0, 1, 0, 1]
    nulls = [0, 1, 0, 1, 0]
    value = [10, 0, 20, 0, 5]
    touch_days = np.array([0, 1, 3, 2, 5, 6, 1, 6])
    conv_days = [4, None, 8, None, 7]
    touch_time = T0 + touch_days * DAY
    conversion_time = np.array([T0 + d * DAY if d is not None else NAT for d in conv_days], dtype="datetime64[ns]")
    place = np.array(["online", None, "store", None, "store"], dtype=object)
    customer = np.array(["u1", "u2", "u1", "u1", "u4"], dtype=object)
    return Journeys(channels, tc, offsets, conv, nulls, value, touch_time=touch_time,
                    conversion_time=conversion_time, place=place, customer=customer)


STAGES = {"a": "awareness", "b": "consideration", "c": "decision"}


@pytest.fixture(scope="module")
def report() -> JourneyKPIs:
    return kpis(hand_made(), stages=STAGES, top=3)


# ------------------------------------------------------------------------ golden values
def test_by_channel_golden(report):
    bc = report.by_channel
    assert list(bc.index) == ["a", "b", "c"]
    # touches: a = J0[0], J3[0]; b = J0[1], J0[2], J1[0], J2[1]; c = J2[0], J3[1]
    np.testing.assert_allclose(bc["touches"], [2, 4, 2])
    np.testing.assert_allclose(bc["share_of_touches"], [0.25, 0.5, 0.25])
    # reach: a touched u1 only (J0, J3); b touched u1 and u2; c touched u1 (J2, J3); 3 customers
    np.testing.assert_allclose(bc["reach"], [1, 2, 1])
    np.testing.assert_allclose(bc["reach_share"], [1 / 3, 2 / 3, 1 / 3])
    # journeys containing: a in J0, J3 (1 conversion); b in J0, J1, J2 (2); c in J2, J3 (1)
    np.testing.assert_allclose(bc["journeys"], [2, 3, 2])
    np.testing.assert_allclose(bc["share_of_journeys"], [2 / 5, 3 / 5, 2 / 5])
    np.testing.assert_allclose(bc["journey_conversions"], [1, 2, 1])
    np.testing.assert_allclose(bc["conversion_rate"], [0.5, 2 / 3, 0.5])
    # positions: a first, first; b middle (J0[1]), last (J0[2]), only (J1), last (J2[1]);
    # c first (J2[0]), last (J3[1])
    np.testing.assert_allclose(bc[["share_first", "share_middle", "share_last", "share_only"]].to_numpy(),
                               [[1, 0, 0, 0], [0, 0.25, 0.5, 0.25], [0.5, 0, 0.5, 0]])
    # 1-based positions: a 1, 1; b 2, 3, 1, 2; c 1, 2
    np.testing.assert_allclose(bc["mean_position"], [1, 2, 1.5])
    # relative positions (journeys of 2+ touches): a 0, 0; b 1/2, 1, 1 (J1 left out); c 0, 1
    np.testing.assert_allclose(bc["mean_relative_position"], [0, 2.5 / 3, 0.5])


def test_overall_golden(report):
    o = report.overall
    assert o["journeys"] == 5 and o["journey_rows"] == 5
    assert o["conversions"] == 3 and o["non_converting"] == 2
    assert o["conversion_rate"] == pytest.approx(0.6)
    assert o["value"] == 35 and o["customers"] == 3
    assert o["touches"] == 8
    assert o["touches_per_journey_mean"] == pytest.approx(8 / 5)  # 3 + 1 + 2 + 2 + 0
    # converting journeys have 3, 2, 0 touches: mean 5/3, lower median 2
    assert o["touches_to_conversion_mean"] == pytest.approx(5 / 3)
    assert o["touches_to_conversion_median"] == 2
    # first touch -> conversion: J0 4 - 0 = 4 days, J2 8 - 5 = 3 days (J4 has no touch)
    assert o["time_to_conversion_days_mean"] == pytest.approx(3.5)
    assert o["time_to_conversion_days_median"] == pytest.approx(3.0)
    # last touch -> conversion: J0 4 - 3 = 1, J2 8 - 6 = 2: lower median 1
    assert o["last_touch_to_conversion_days_median"] == pytest.approx(1.0)
    # silence until the data end (day 8): J1 8 - 2 = 6, J3 8 - 6 = 2
    assert o["silence_days_mean"] == pytest.approx(4.0)
    assert o["silence_days_median"] == pytest.approx(2.0)
    # pairs: a>b switch, b>b same (J0); c>b switch (J2); a>c switch (J3)
    assert o["channel_switching_rate"] == pytest.approx(3 / 4)
    # journeys with touches: J0 {a,b}, J1 {b}, J2 {b,c}, J3 {a,c}
    assert o["cross_channel_share"] == pytest.approx(3 / 4)
    assert o["distinct_channels_mean"] == pytest.approx(7 / 4)
    assert o["distinct_paths"] == 5
    assert report.notes == []


def test_touches_distribution_golden(report):
    d = report.touches_distribution
    assert list(d.index) == [0, 1, 2, 3]
    np.testing.assert_allclose(d["journeys"], [1, 1, 2, 1])
    np.testing.assert_allclose(d["conversions"], [1, 0, 1, 1])
    np.testing.assert_allclose(d["non_converting"], [0, 1, 1, 0])
    np.testing.assert_allclose(d["conversion_rate"], [1, 0, 0.5, 1])
    np.testing.assert_allclose(d["cumulative_share_of_conversions"], [1 / 3, 1 / 3, 2 / 3, 1])


def test_top_paths_golden(report):
    tp = report.top_paths
    # every path weighs 1; ties go to converting paths first, then by path
    assert list(tp.index) == [NO_TOUCH, "a > b > b", "c > b"]
    np.testing.assert_allclose(tp["journeys"], [1, 1, 1])
    np.testing.assert_allclose(tp["conversion_rate"], [1, 1, 1])
    assert list(tp["touches"]) == [0, 3, 2]


def test_drop_off_golden(report):
    d = report.drop_off
    # non-converting: J1 ends on b, J3 ends on c; journeys ending on b: J0, J1, J2
    assert list(d.index) == ["b", "c", "a", NO_TOUCH]
    np.testing.assert_allclose(d["non_converting"], [1, 1, 0, 0])
    np.testing.assert_allclose(d["share"], [0.5, 0.5, 0, 0])
    np.testing.assert_allclose(d["ending_journeys"], [3, 1, 0, 1])
    np.testing.assert_allclose(d["drop_off_rate"], [1 / 3, 1, np.nan, 0])
    np.testing.assert_allclose(d["silence_days_median"], [6, 2, np.nan, np.nan])


def test_drop_off_steps_golden(report):
    s = report.drop_off_steps
    assert list(s.index) == [1, 2, 3]
    # step 1: J0..J3 reach it, J1 stops silent; step 2: J0, J2, J3 reach it, J2 converts,
    # J3 stops; step 3: J0 converts
    np.testing.assert_allclose(s["reached"], [4, 3, 1])
    np.testing.assert_allclose(s["converted"], [0, 1, 1])
    np.testing.assert_allclose(s["dropped"], [1, 1, 0])
    np.testing.assert_allclose(s["continued"], [3, 1, 0])
    np.testing.assert_allclose(s["drop_rate"], [1 / 4, 1 / 3, 0])


def test_funnel_golden(report):
    f = report.funnel
    assert list(f.index) == ["awareness", "consideration", "decision"]
    # deepest stage: J0 consideration, J1 consideration, J2 decision, J3 decision, J4 none
    np.testing.assert_allclose(f["reached"], [4, 4, 2])
    np.testing.assert_allclose(f["touched"], [2, 3, 2])
    np.testing.assert_allclose(f["conversions"], [2, 2, 1])
    np.testing.assert_allclose(f["conversion_rate"], [0.5, 0.5, 0.5])
    np.testing.assert_allclose(f["drop_from_previous"], [np.nan, 0, 0.5])
    np.testing.assert_allclose(f["share_of_journeys"], [0.8, 0.8, 0.4])


def test_path_table_counts_weight_everything():
    paths = pd.DataFrame({"path": ["a > b", "b", "a > a > c"], "total_conversions": [3, 1, 0],
                          "total_null": [1, 3, 2]})
    r = kpis(Journeys.from_paths(paths))
    # journeys: 4 + 4 + 2; touches a: 4 (row 1) + 2 * 2 (row 3) = 8
    assert r.overall["journeys"] == 10 and r.overall["journey_rows"] == 3
    assert r.by_channel.loc["a", "touches"] == 8
    # a is first in row 1 (4) and row 3 (2), middle in row 3 (2)
    assert r.by_channel.loc["a", "share_first"] == pytest.approx(0.75)
    # touches to conversion: 3 conversions with 2 touches, 1 with 1: mean 7/4, median 2
    assert r.overall["touches_to_conversion_mean"] == pytest.approx(7 / 4)
    assert r.overall["touches_to_conversion_median"] == 2
    # switching: row 1 a>b (weight 4) switches; row 3 a>a (2) stays, a>c (2) switches
    assert r.overall["channel_switching_rate"] == pytest.approx(6 / 8)


def test_missing_times_and_customers_are_nan_with_notes():
    paths = pd.DataFrame({"path": ["a > b", "b"], "total_conversions": [1, 0], "total_null": [1, 1]})
    r = kpis(Journeys.from_paths(paths))
    assert r.by_channel["reach"].isna().all()
    for key in ("time_to_conversion_days_mean", "time_to_conversion_days_median", "silence_days_median",
                "customers"):
        assert np.isnan(r.overall[key])
    assert "silence_days_median" not in r.drop_off.columns
    assert len(r.notes) == 2 and any("timestamps" in n for n in r.notes)
    assert r.funnel is None
    with pytest.raises(ValueError, match="stages="):
        r.plot_funnel()


def test_empty_journey_set():
    j = Journeys(["a"], np.zeros(0, np.int32), [0], np.zeros(0))
    r = kpis(j)
    assert r.overall["journeys"] == 0 and np.isnan(r.overall["conversion_rate"])
    assert r.touches_distribution.empty and r.top_paths.empty and r.drop_off_steps.empty
    assert isinstance(r.summary(), str) and isinstance(r._repr_html_(), str)


# ------------------------------------------------------------------------ API surface
def test_errors():
    with pytest.raises(TypeError, match="Journeys"):
        kpis(pd.DataFrame())
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="'top' parameter"):
            kpis(hand_made(), top=bad)
    with pytest.raises(TypeError, match="mapping"):
        kpis(hand_made(), stages=["a"])
    with pytest.raises(ValueError, match="stage names"):
        kpis(hand_made(), stages={"a": 3})


def test_stage_warnings_and_custom_order():
    with pytest.warns(UserWarning, match="no stage for channel"):
        r = kpis(hand_made(), stages={"a": "awareness", "b": "retention"})
    # canonical stages first, then new names in order of appearance; c is not in the funnel
    assert list(r.funnel.index) == ["awareness", "retention"]
    # deepest: J0 retention, J1 retention, J2 retention, J3 awareness
    np.testing.assert_allclose(r.funnel["reached"], [4, 3])
    with pytest.warns(UserWarning, match="not in the journeys"):
        kpis(hand_made(), stages={**STAGES, "zz": "loyalty"})


def test_summary_html_and_frames(report):
    text = report.summary()
    assert "conversion rate 60.00%" in text and "by_channel" in text and "funnel" in text
    frames = report.to_frames()
    assert set(frames) == {"overall", "by_channel", "touches_distribution", "top_paths", "drop_off",
                           "drop_off_steps", "funnel"}
    assert all(isinstance(f, pd.DataFrame) for f in frames.values())
    assert "JourneyKPIs" in repr(report)
    assert "<table>" in report._repr_html_()


def test_html_escapes_channel_names():
    evil = "<script>alert(1)</script>"
    j = Journeys([evil, "b&c"], [0, 1, 0], [0, 2, 3], [1, 0], [0, 1])
    r = kpis(j, stages={evil: "awareness", "b&c": "<b>decision</b>"})
    page = r._repr_html_()
    assert evil not in page and "<b>decision" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "b&amp;c" in page


# ------------------------------------------------------------------------ invariants
def _check_invariants(j: Journeys, r: JourneyKPIs):
    w = j.conversions + j.nulls
    total, conv, nulls = w.sum(), j.conversions.sum(), j.nulls.sum()
    bc = r.by_channel
    touched = bc["touches"].to_numpy() > 0
    pos = bc[["share_first", "share_middle", "share_last", "share_only"]].to_numpy()
    np.testing.assert_allclose(pos[touched].sum(axis=1), 1.0)
    assert np.isnan(pos[~touched]).all()
    np.testing.assert_allclose(bc["touches"].sum(), (w * j.lengths).sum(), rtol=1e-9, atol=1e-9)
    if bc["touches"].sum() > 0:
        np.testing.assert_allclose(bc["share_of_touches"].sum(), 1.0)
    assert (bc["journeys"] <= total * (1 + 1e-9) + 1e-9).all()
    rate = bc["conversion_rate"].dropna()
    assert ((rate >= -1e-12) & (rate <= 1 + 1e-12)).all()

    d = r.touches_distribution
    np.testing.assert_allclose(d["journeys"].sum(), total, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(d["conversions"].sum(), conv, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(d["non_converting"].sum(), nulls, rtol=1e-9, atol=1e-9)
    if conv > 0:
        np.testing.assert_allclose(d["share_of_conversions"].sum(), 1.0)

    do = r.drop_off
    np.testing.assert_allclose(do["non_converting"].sum(), nulls, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(do["ending_journeys"].sum(), total, rtol=1e-9, atol=1e-9)
    if nulls > 0:
        np.testing.assert_allclose(do["share"].sum(), 1.0)

    s = r.drop_off_steps
    np.testing.assert_allclose(s["reached"], s["converted"] + s["dropped"] + s["continued"], rtol=1e-9, atol=1e-6)
    if len(s):
        np.testing.assert_allclose(s["reached"].iloc[0], w[j.lengths > 0].sum(), rtol=1e-9, atol=1e-9)
        assert (np.diff(s["reached"].to_numpy()) <= 1e-9).all()

    o = r.overall
    for key in ("conversion_rate", "channel_switching_rate", "cross_channel_share"):
        assert np.isnan(o[key]) or -1e-12 <= o[key] <= 1 + 1e-12
    np.testing.assert_allclose(o["journeys"], total)
    np.testing.assert_allclose(o["conversions"], conv)

    tp = r.top_paths
    assert (np.diff(tp["journeys"].to_numpy()) <= 0).all()
    assert tp["journeys"].sum() <= total * (1 + 1e-9) + 1e-9


@given(journeys_strategy(max_channels=6, max_journeys=10))
@settings(max_examples=40)
def test_invariants(j):
    r = kpis(j, top=100)
    _check_invariants(j, r)
    # with enough rows, the top paths cover every journey
    np.testing.assert_allclose(r.top_paths["journeys"].sum(), (j.conversions + j.nulls).sum(), rtol=1e-9, atol=1e-9)


@given(journeys_strategy(max_channels=5, max_journeys=8), st.data())
@settings(max_examples=25)
def test_funnel_invariants(j, data):
    stage_of = {c: data.draw(st.sampled_from(["awareness", "consideration", "decision", None])) for c in j.channels}
    stages = {c: s for c, s in stage_of.items() if s is not None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        r = kpis(j, stages=stages)
    f = r.funnel
    w = j.conversions + j.nulls
    assert (np.diff(f["reached"].to_numpy()) <= 1e-9).all()
    assert (f["conversions"] <= f["reached"] * (1 + 1e-9) + 1e-9).all()
    assert (f["touched"] <= f["reached"] * (1 + 1e-9) + 1e-9).all()
    if len(f):
        # the first stage is reached by every journey with a staged touch
        code = np.array([c in stages for c in j.channels], dtype=bool)
        staged_journeys = np.unique(j.journey_index[code[j.touch_channel]]) if j.n_touches else np.zeros(0, int)
        np.testing.assert_allclose(f["reached"].iloc[0], w[staged_journeys].sum(), rtol=1e-9, atol=1e-9)


@given(journeys_strategy(max_channels=6, max_journeys=8), st.randoms(use_true_random=False))
@settings(max_examples=25)
def test_relabelling_channels_relabels_kpis(j, rnd):
    perm = np.arange(j.n_channels)
    rnd.shuffle(perm)
    a = kpis(j).by_channel
    b = kpis(relabel(j, perm)).by_channel
    pd.testing.assert_frame_equal(a, b.loc[a.index], check_exact=False, rtol=1e-9, atol=1e-12)


@given(journeys_strategy(max_channels=5, max_journeys=6, max_length=5))
@settings(max_examples=30)
def test_counts_equal_repeated_rows(j):
    """A row standing for n journeys gives the same KPIs as n rows of one journey each."""
    conv = np.round(j.conversions)
    nulls = np.round(j.nulls)
    j = j._replace(conversions=conv, nulls=nulls, value=np.where(conv > 0, j.value, 0.0))
    rows = np.r_[np.repeat(np.arange(j.n_journeys), conv.astype(int)), np.repeat(np.arange(j.n_journeys), nulls.astype(int))]
    is_conv = np.r_[np.ones(int(conv.sum())), np.zeros(int(nulls.sum()))]
    e = j.take(rows)
    e = e._replace(conversions=is_conv, nulls=1 - is_conv, value=np.zeros(len(rows)))
    a, b = kpis(j), kpis(e)
    cols = [c for c in a.by_channel.columns if not c.startswith("reach")]
    pd.testing.assert_frame_equal(a.by_channel[cols], b.by_channel[cols], check_exact=False, rtol=1e-9, atol=1e-12)
    skip = {"journey_rows", "value", "customers", "distinct_paths"}
    keys = [k for k in a.overall.index if k not in skip]
    pd.testing.assert_series_equal(a.overall[keys], b.overall[keys], check_exact=False, rtol=1e-9, atol=1e-12)
    pd.testing.assert_frame_equal(a.touches_distribution, b.touches_distribution, check_exact=False)
    pd.testing.assert_frame_equal(a.drop_off_steps, b.drop_off_steps, check_exact=False)


def test_sample_data_agrees_with_direct_counts():
    j = _sample()
    r = kpis(j)
    paths = pd.Series(j.path_strings(" > "))
    w = j.conversions + j.nulls
    # conversion rate of journeys containing each channel, counted with pandas
    for ch in ("display", "email", "store_visit"):
        has = paths.str.split(" > ").apply(lambda p, ch=ch: ch in p).to_numpy()
        assert r.by_channel.loc[ch, "journeys"] == pytest.approx(w[has].sum())
        assert r.by_channel.loc[ch, "conversion_rate"] == pytest.approx(j.conversions[has].sum() / w[has].sum())
    # the most frequent path
    top = pd.Series(w).groupby(paths.to_numpy()).sum().sort_values(ascending=False)
    assert r.top_paths["journeys"].iloc[0] == top.iloc[0]
    # reach: distinct customers touched by each channel
    df = pd.DataFrame({"customer": j.customer[j.journey_index], "channel": j.channels[j.touch_channel]})
    np.testing.assert_array_equal(r.by_channel["reach"].to_numpy(), df.groupby("channel")["customer"].nunique()
                                  .reindex(j.channels).fillna(0).to_numpy())


_SAMPLE = None


def _sample() -> Journeys:
    global _SAMPLE
    if _SAMPLE is None:
        from attribution.datasets import load_sample

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _SAMPLE = load_sample().journeys()
    return _SAMPLE
