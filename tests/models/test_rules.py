"""Rule models: known answers on hand-computable journeys, edge cases and parameter errors."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest

from attribution.exceptions import DataQualityWarning
from attribution.journeys import Journeys
from attribution.models import (
    NO_TOUCH,
    CustomWeights,
    FirstTouch,
    LastNonDirect,
    LastTouch,
    Linear,
    PositionBased,
    TimeDecay,
    check_conservation,
)

DAY = np.timedelta64(1, "D").astype("timedelta64[ns]")
T0 = np.datetime64("2026-03-01", "ns")
RULES = [FirstTouch, LastTouch, LastNonDirect, Linear, PositionBased, TimeDecay, CustomWeights]


def toy(time: bool = True, place: bool = True) -> Journeys:
    """Three journey rows over channels a, b, c:

    * J0: a > b > c, 1 conversion, value 10, online; touches on days 0, 7, 14, converts day 14
    * J1: a > a, 2 conversions (a path-table count), value 4, store; days 0, 7, converts day 7
    * J2: b, 5 non-converting journeys
    """
    kw = {}
    if time:
        kw["touch_time"] = T0 + np.array([0, 7, 14, 0, 7, 3]) * DAY
        kw["conversion_time"] = np.array([T0 + 14 * DAY, T0 + 7 * DAY, np.datetime64("NaT")], dtype="datetime64[ns]")
    if place:
        kw["place"] = np.array(["online", "store", None], dtype=object)
    return Journeys(
        ["a", "b", "c"],
        [0, 1, 2, 0, 0, 1],
        [0, 3, 5, 6],
        [1.0, 2.0, 0.0],
        [0.0, 0.0, 5.0],
        [10.0, 4.0, 0.0],
        **kw,
    )


def credit(model, j) -> dict[str, tuple[float, float]]:
    cr = model.fit(j).credits_
    check_conservation(model, j)
    return {c: (row.conversions, row.value) for c, row in cr.iterrows()}


def assert_credit(got, want):
    assert set(got) == set(want)
    for ch, (conv, val) in want.items():
        assert got[ch][0] == pytest.approx(conv, rel=1e-12, abs=1e-12), ch
        assert got[ch][1] == pytest.approx(val, rel=1e-12, abs=1e-12), ch


# ------------------------------------------------------------------------ golden values


def test_first_touch_golden():
    # J0 -> a (1 conv, value 10); J1 -> a (2 conv, value 4); J2 carries nothing.
    assert_credit(credit(FirstTouch(), toy()), {"a": (3, 14), "b": (0, 0), "c": (0, 0)})


def test_last_touch_golden():
    # J0 -> c (1, 10); J1 -> a (2, 4).
    assert_credit(credit(LastTouch(), toy()), {"a": (2, 4), "b": (0, 0), "c": (1, 10)})


def test_linear_golden():
    # J0: a, b, c get 1/3 each (of 1 conv, of value 10); J1: each a touch 1/2 -> a gets all.
    # a = 1/3 + 2 = 7/3, value 10/3 + 4 = 22/3; b = c = 1/3, value 10/3.
    assert_credit(credit(Linear(), toy()), {"a": (7 / 3, 22 / 3), "b": (1 / 3, 10 / 3), "c": (1 / 3, 10 / 3)})


def test_position_based_golden():
    # J0 (3 touches): 0.4 / 0.2 / 0.4. J1 (2 touches): 0.4/0.8 and 0.4/0.8 = 0.5 each, both a.
    # a = 0.4 + 2 = 2.4, value 4 + 4 = 8; b = 0.2, value 2; c = 0.4, value 4.
    assert_credit(credit(PositionBased(), toy()), {"a": (2.4, 8), "b": (0.2, 2), "c": (0.4, 4)})


def test_time_decay_golden():
    # J0 ages 14, 7, 0 days, half-life 7 days: raw 1/4, 1/2, 1 (sum 7/4) -> 1/7, 2/7, 4/7.
    # J1: both touches a -> a gets 2 conversions, value 4.
    # a = 1/7 + 2 = 15/7, value 10/7 + 4 = 38/7; b = 2/7, 20/7; c = 4/7, 40/7.
    assert_credit(
        credit(TimeDecay(half_life="7D"), toy()),
        {"a": (15 / 7, 38 / 7), "b": (2 / 7, 20 / 7), "c": (4 / 7, 40 / 7)},
    )


def test_custom_sequence_golden():
    # [0.5, 0.2, 0.3]: J0 (3 touches) gets exactly 0.5 / 0.2 / 0.3.
    # J1 (2 touches): stretched, touch 1 covers [0, 1/2] = 0.5 + 0.2 * (1/2 - 1/3) * 3 = 0.6,
    # touch 2 gets 0.4; both are a -> a gets all of J1.
    # a = 0.5 + 2 = 2.5, value 5 + 4 = 9; b = 0.2, value 2; c = 0.3, value 3.
    assert_credit(credit(CustomWeights([0.5, 0.2, 0.3]), toy()), {"a": (2.5, 9), "b": (0.2, 2), "c": (0.3, 3)})


def test_custom_callable_golden():
    # f(p, n) = p + 1: J0 raw 1, 2, 3 -> 1/6, 2/6, 3/6; J1 all a.
    # a = 1/6 + 2 = 13/6, value 10/6 + 4 = 34/6; b = 2/6, 20/6; c = 3/6, 30/6.
    assert_credit(
        credit(CustomWeights(lambda p, n: p + 1.0), toy()),
        {"a": (13 / 6, 34 / 6), "b": (2 / 6, 20 / 6), "c": (3 / 6, 30 / 6)},
    )


def test_linear_place_split():
    # online: J0 only -> a, b, c 1/3 each; store: J1 -> a gets 2.
    pc = Linear().fit(toy()).place_credits_.set_index(["channel", "place"])
    assert pc.loc[("a", "online"), "conversions"] == pytest.approx(1 / 3)
    assert pc.loc[("a", "store"), "conversions"] == pytest.approx(2.0)
    assert pc.loc[("b", "store"), "conversions"] == 0.0
    assert pc.loc[("c", "online"), "value"] == pytest.approx(10 / 3)
    assert len(pc) == 3 * 2


@pytest.mark.filterwarnings("ignore::attribution.exceptions.DataQualityWarning")
def test_no_touch_journeys_go_to_pseudo_channel():
    j = Journeys(["a"], [0], [0, 1, 1], [1.0, 2.0], [0.0, 0.0], [5.0, 7.0], place=["online", "store"])
    for cls in (FirstTouch, Linear, PositionBased, CustomWeights, LastNonDirect, LastTouch):
        m = cls().fit(j)
        assert m.credits_.index.tolist() == ["a", NO_TOUCH]
        assert m.credits_.loc[NO_TOUCH].tolist()[:2] == [2.0, 7.0]
        assert m.credits_["share"].tolist() == pytest.approx([1 / 3, 2 / 3])
        pc = m.place_credits_.set_index(["channel", "place"])
        assert pc.loc[(NO_TOUCH, "store"), "conversions"] == 2.0
        assert pc.loc[(NO_TOUCH, "online"), "conversions"] == 0.0
    # an empty journey without conversions adds no row
    j = Journeys(["a"], [0], [0, 1, 1], [1.0, 0.0], [0.0, 3.0])
    assert Linear().fit(j).credits_.index.tolist() == ["a"]


@pytest.mark.filterwarnings("ignore::attribution.exceptions.DataQualityWarning")
def test_touch_weights_sum_to_one_per_journey():
    j = toy()
    for cls in RULES:
        w = cls().touch_weights(j)
        sums = np.bincount(j.journey_index, weights=w, minlength=j.n_journeys)
        assert sums[j.lengths > 0] == pytest.approx(1.0, rel=1e-12)


# ------------------------------------------------------------------------ last non-direct


def test_last_non_direct_and_fallback():
    paths = pd.DataFrame(
        {
            "path": ["email > direct", "direct > direct", "search > Direct > email > Direct", "search"],
            "total_conversions": [3, 1, 1, 2],
        }
    )
    j = Journeys.from_paths(paths)
    got = LastNonDirect().fit(j).credits_["conversions"].to_dict()
    # email>direct -> email (3); all-direct falls back to the last touch -> direct (1);
    # "Direct" matches case-insensitively -> email (1); search -> search (2).
    assert got == {"Direct": 0.0, "direct": 1.0, "email": 4.0, "search": 2.0}


def test_last_non_direct_several_direct_channels():
    paths = pd.DataFrame({"path": ["email > organic > direct", "organic > direct"], "total_conversions": [1, 1]})
    j = Journeys.from_paths(paths)
    got = LastNonDirect(direct=("direct", "organic")).fit(j).credits_["conversions"].to_dict()
    assert got == {"direct": 1.0, "email": 1.0, "organic": 0.0}
    # a single string is one name
    got = LastNonDirect(direct="organic").fit(j).credits_["conversions"].to_dict()
    assert got == {"direct": 2.0, "email": 0.0, "organic": 0.0}


def test_last_non_direct_warns_when_no_direct_channel():
    j = toy()
    with pytest.warns(DataQualityWarning, match="same credit as LastTouch"):
        a = LastNonDirect().fit(j).credits_
    pd.testing.assert_frame_equal(a, LastTouch().fit(j).credits_)


# ------------------------------------------------------------------------ position-based


def one_path(path: str, **kw) -> Journeys:
    return Journeys.from_paths(pd.DataFrame({"path": [path], "total_conversions": [1.0]}), **kw)


def test_position_based_one_and_two_touches():
    assert PositionBased().fit(one_path("a")).credits_["conversions"].tolist() == [1.0]
    got = PositionBased(first=0.3, last=0.6).fit(one_path("a > b")).credits_["conversions"]
    assert got.tolist() == pytest.approx([1 / 3, 2 / 3])  # 0.3/0.9, 0.6/0.9
    got = PositionBased(first=0.0, last=0.0).fit(one_path("a > b")).credits_["conversions"]
    assert got.tolist() == pytest.approx([0.5, 0.5])
    # first = last = 0 with a middle: the middle gets everything
    got = PositionBased(first=0.0, last=0.0).fit(one_path("a > b > c")).credits_["conversions"]
    assert got.tolist() == pytest.approx([0.0, 1.0, 0.0])


def test_position_based_j_curve_long_path():
    # 5 touches, J-curve 0.2 / 0.6: middle 0.2 split over 3 touches.
    w = PositionBased(first=0.2, last=0.6).touch_weights(one_path("a > b > c > d > e"))
    assert w == pytest.approx([0.2, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.6])


# ------------------------------------------------------------------------ time decay


def two_touch_events(gap: str, buy_after: str = "0D") -> Journeys:
    t1 = pd.Timestamp("2026-03-01")
    t2 = t1 + pd.Timedelta(gap)
    touches = pd.DataFrame({"customer_id": ["u", "u"], "channel": ["old", "new"], "timestamp": [t1, t2]})
    buys = pd.DataFrame({"customer_id": ["u"], "timestamp": [t2 + pd.Timedelta(buy_after)], "value": [1.0]})
    return Journeys.from_events(touches, buys, lookback=None)


def test_time_decay_half_life_arithmetic():
    # a touch 7 days before the conversion weighs 1/2 of one at the conversion time
    w = TimeDecay(half_life="7D").touch_weights(two_touch_events("7D"))
    assert w == pytest.approx([1 / 3, 2 / 3])
    assert w[0] / w[1] == pytest.approx(0.5)
    # 1 day apart with a 12 h half-life: ratio 1/4
    w = TimeDecay(half_life="12h").touch_weights(two_touch_events("1D"))
    assert w[0] / w[1] == pytest.approx(0.25)
    # the conversion 3 days after the last touch does not change the split
    w = TimeDecay(half_life="7D").touch_weights(two_touch_events("7D", buy_after="3D"))
    assert w == pytest.approx([1 / 3, 2 / 3])


def test_time_decay_accepts_timedelta_types():
    j = two_touch_events("7D")
    for hl in ("7D", "168h", pd.Timedelta(days=7), dt.timedelta(days=7), np.timedelta64(7, "D")):
        assert TimeDecay(half_life=hl).touch_weights(j) == pytest.approx([1 / 3, 2 / 3])


def test_time_decay_does_not_underflow_on_old_journeys():
    # the conversion 10,000 days after touches one hour apart, with a one-hour half-life
    w = TimeDecay(half_life="1h").touch_weights(two_touch_events("1h", buy_after="10000D"))
    assert np.isfinite(w).all() and w == pytest.approx([1 / 3, 2 / 3])


def test_time_decay_raises_on_path_tables():
    j = one_path("a > b")
    msg = (
        "TimeDecay needs touch and conversion timestamps; these journeys were built from a path "
        "table. Build them with Journeys.from_events(...)"
    )
    with pytest.raises(ValueError, match=msg.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        TimeDecay().fit(j)


# ------------------------------------------------------------------------ custom weights


def test_custom_sequence_other_lengths():
    m = CustomWeights([0.5, 0.2, 0.3])
    assert m.touch_weights(one_path("a")) == pytest.approx([1.0])
    assert m.touch_weights(one_path("a > b")) == pytest.approx([0.6, 0.4])
    six = one_path("a > b > c > d > e > f")
    assert m.touch_weights(six) == pytest.approx([0.25, 0.25, 0.1, 0.1, 0.15, 0.15])
    # weights need not sum to 1
    assert CustomWeights([5, 2, 3]).touch_weights(one_path("a > b > c")) == pytest.approx([0.5, 0.2, 0.3])
    # the default single weight is Linear
    j = toy()
    pd.testing.assert_frame_equal(CustomWeights().fit(j).credits_, Linear().fit(j).credits_)


def test_custom_callable_is_vectorised_and_normalised():
    calls = []

    def f(position, length):
        calls.append((position.copy(), length.copy()))
        return np.where(position == length - 1, 3.0, 1.0)

    w = CustomWeights(f).touch_weights(toy())
    assert len(calls) == 1
    assert calls[0][0].tolist() == [0, 1, 2, 0, 1, 0]
    assert calls[0][1].tolist() == [3, 3, 3, 2, 2, 1]
    assert w == pytest.approx([0.2, 0.2, 0.6, 0.25, 0.75, 1.0])
    # a scalar is broadcast (Linear)
    assert CustomWeights(lambda p, n: 1.0).touch_weights(toy()) == pytest.approx(Linear().touch_weights(toy()))


def test_custom_callable_errors():
    with pytest.raises(ValueError, match="non-negative finite"):
        CustomWeights(lambda p, n: p - 1.0).fit(toy())
    with pytest.raises(ValueError, match="sum to zero in 1 journey"):
        CustomWeights(lambda p, n: (n > 1).astype(float)).fit(toy())
    with pytest.raises(ValueError, match="one number per touch"):
        CustomWeights(lambda p, n: np.ones(2)).fit(toy())


# ------------------------------------------------------------------------ parameter errors


def test_time_decay_half_life_errors():
    msg = "The 'half_life' parameter of TimeDecay must be a positive duration such as '7D'. Got -3 instead."
    with pytest.raises(ValueError) as exc:
        TimeDecay(half_life=-3).fit(toy())
    assert str(exc.value) == msg
    for bad in (7, 0.5, True, "abc", "0D", "-1D", None):
        with pytest.raises(ValueError, match="'half_life' parameter of TimeDecay"):
            TimeDecay(half_life=bad).fit(toy())
    with pytest.raises(TypeError, match="'half_life' parameter of TimeDecay"):
        TimeDecay(half_life=["7D"]).fit(toy())


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"first": -0.1}, r"The 'first' parameter of PositionBased must be a number in \[0, 1\]. Got -0.1 instead."),
        ({"last": 1.5}, r"The 'last' parameter of PositionBased must be a number in \[0, 1\]. Got 1.5 instead."),
        ({"first": "0.4"}, r"The 'first' parameter of PositionBased must be a number in \[0, 1\]. Got '0.4' instead."),
        ({"first": 0.7, "last": 0.5}, "must sum to at most 1"),
    ],
)
def test_position_based_param_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        PositionBased(**kw).fit(toy())


def test_custom_and_last_non_direct_param_errors():
    for bad in ([], [-1.0, 2.0], [0.0, 0.0], [[0.5, 0.5]], [float("nan")]):
        with pytest.raises(ValueError, match="The 'weights' parameter of CustomWeights must be"):
            CustomWeights(bad).fit(toy())
    for bad in ("abc", None, 3, ["a", 1]):
        with pytest.raises(TypeError, match="The 'weights' parameter of CustomWeights must be"):
            CustomWeights(bad).fit(toy())
    for bad in (3, None, ["direct", 1]):
        with pytest.raises(TypeError, match="The 'direct' parameter of LastNonDirect must be"):
            LastNonDirect(direct=bad).fit(toy())


def test_params_are_stored_verbatim_and_checked_at_fit():
    # __init__ has no logic: invalid values are accepted until fit (scikit-learn convention)
    m = PositionBased(first=2.0)
    assert m.first == 2.0
    with pytest.raises(ValueError):
        m.fit(toy())


# ------------------------------------------------------------------------ scale


def test_rule_models_on_100k_journeys():
    rng = np.random.default_rng(0)
    J, C = 100_000, 8
    lengths = rng.integers(0, 9, size=J)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    T = int(offsets[-1])
    conversions = rng.integers(0, 2, size=J).astype(float)
    conv_time = T0 + rng.integers(0, 90 * 86400, size=J) * np.timedelta64(1, "s")
    jid = np.repeat(np.arange(J), lengths)
    ages = np.sort(rng.integers(0, 30 * 86400, size=T))[::-1]  # any order works for the weights
    touch_time = conv_time[jid] - ages * np.timedelta64(1, "s")
    j = Journeys(
        [f"ch{i}" for i in range(C - 1)] + ["direct"],
        rng.integers(0, C, size=T),
        offsets,
        conversions,
        1 - conversions,
        conversions * rng.gamma(2.0, 20.0, size=J),
        touch_time=touch_time,
        conversion_time=np.where(conversions > 0, conv_time, np.datetime64("NaT")),
        place=np.where(conversions > 0, rng.choice(["online", "store"], size=J), None),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warnings expected: "direct" is a channel
        for cls in RULES:
            m = cls().fit(j)
            check_conservation(m, j)
            assert (m.credits_["conversions"] >= 0).all()
