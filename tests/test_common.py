"""The contract every registered model obeys, run over everything in ``MODELS``.

New models (Markov, Shapley, ...) are picked up automatically once their module registers
them. Models that need timestamps (``_requires_time``) get timestamped journeys; every other
model gets journeys with and without timestamps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils.validation import check_is_fitted
from strategies import journeys, relabel

from attribution.exceptions import DataQualityWarning, EstimandError, NotFittedError
from attribution.journeys import Journeys
from attribution.models import (
    BASELINE,
    ESTIMANDS,
    MODELS,
    NO_TOUCH,
    AttributionModel,
    check_conservation,
    get_model,
    place_codes,
    register_model,
)

NAMES = sorted(MODELS)
HYPO = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

pytestmark = pytest.mark.filterwarnings(f"ignore::{DataQualityWarning.__module__}.{DataQualityWarning.__name__}")


def _strategy(cls, **kw):
    return journeys(time=True if cls._requires_time else None, **kw)


def _fixed_journeys(time: bool = True, place: bool = True) -> Journeys:
    """a>b>c (1 conv, value 10, online), a>a (2 conv, value 4, store), b (5 nulls),
    an empty journey with 1.5 conversions (value 6, store)."""
    kw = {}
    if time:
        day = np.timedelta64(1, "D").astype("timedelta64[ns]")
        t0 = np.datetime64("2026-03-01", "ns")
        kw["touch_time"] = t0 + np.array([0, 7, 14, 0, 7, 3]) * day
        kw["conversion_time"] = np.array(
            [t0 + 14 * day, t0 + 7 * day, np.datetime64("NaT", "ns"), t0 + 20 * day], dtype="datetime64[ns]"
        )
    if place:
        kw["place"] = np.array(["online", "store", None, "store"], dtype=object)
    return Journeys(
        np.array(["a", "b", "c"], dtype=object),
        np.array([0, 1, 2, 0, 0, 1], dtype=np.int32),
        np.array([0, 3, 5, 6, 6]),
        np.array([1.0, 2.0, 0.0, 1.5]),
        np.array([0.0, 0.0, 5.0, 0.0]),
        np.array([10.0, 4.0, 0.0, 6.0]),
        **kw,
    )


# --------------------------------------------------------------------------- invariants


@pytest.mark.parametrize("name", NAMES)
@HYPO
@given(data=st.data())
def test_conservation(name, data):
    cls = MODELS[name]
    j = data.draw(_strategy(cls))
    model = cls().fit(j)
    check_conservation(model, j, rtol=1e-9)
    cr = model.credits_
    assert cr.index.name == "channel"
    assert list(cr.columns) == ["conversions", "value", "share"]
    assert list(cr.index[: j.n_channels]) == list(j.channels)
    assert model.estimand_ in ESTIMANDS
    if model.estimand_ == "incremental":
        # one row per channel, then the baseline; the channels' incremental credit plus the
        # baseline is every conversion
        assert list(cr.index) == list(j.channels) + [BASELINE]
        inc = model.incremental_credits_
        assert list(inc.index) == list(j.channels)
        assert inc["conversions"].sum() + cr.loc[BASELINE, "conversions"] == pytest.approx(
            j.total_conversions, rel=1e-9, abs=1e-9
        )
    else:
        assert BASELINE not in cr.index
        with pytest.raises(EstimandError, match="attributed model"):
            model.incremental_credits_  # noqa: B018
    if j.has_place:
        codes, places = place_codes(j)
        pc = model.place_credits_
        assert list(pc.columns) == ["channel", "place", "conversions", "value"]
        for p, code in zip(places, range(len(places))):
            want = j.conversions[codes == code].sum()
            got = pc.loc[pc["place"] == p, "conversions"].sum()
            assert got == pytest.approx(want, rel=1e-9, abs=1e-12)
    else:
        assert not hasattr(model, "place_credits_")


@pytest.mark.parametrize("name", NAMES)
@HYPO
@given(data=st.data())
def test_no_touch_row(name, data):
    cls = MODELS[name]
    j = data.draw(_strategy(cls))
    cr = cls().fit(j).credits_
    if getattr(cls, "estimand_", "attributed") == "incremental":
        # incremental models fold walk-in conversions into their last row, "(baseline)"
        assert cr.index[-1] == BASELINE and NO_TOUCH not in cr.index
        if cls._nonnegative:  # effects that cannot be negative leave at least the walk-ins there
            assert cr.loc[BASELINE, "conversions"] >= j.conversions[j.lengths == 0].sum() * (1 - 1e-9) - 1e-12
        return
    empty = j.lengths == 0
    carries = (j.conversions[empty].sum() > 0) or (j.value[empty].sum() > 0)
    if cls.estimand_ == "incremental":
        carries = False  # walk-in buyers are part of the baseline: no "(no touch)" row
    assert (NO_TOUCH in cr.index) == carries
    if carries:
        assert cr.loc[NO_TOUCH, "conversions"] == pytest.approx(j.conversions[empty].sum(), rel=1e-12)
        assert cr.loc[NO_TOUCH, "value"] == pytest.approx(j.value[empty].sum(), rel=1e-12)
    if j.total_conversions > 0:
        assert cr["share"].sum() == pytest.approx(1.0, rel=1e-9)
    else:
        assert cr["share"].isna().all()


@pytest.mark.parametrize("name", NAMES)
@HYPO
@given(data=st.data())
def test_credits_non_negative(name, data):
    cls = MODELS[name]
    if not cls._nonnegative:
        pytest.skip(f"{cls.__name__} does not promise non-negative credit (_nonnegative=False)")
    j = data.draw(_strategy(cls))
    model = cls().fit(j)
    assert (model.credits_[["conversions", "value"]].to_numpy() >= 0).all()
    if j.has_place:
        assert (model.place_credits_[["conversions", "value"]].to_numpy() >= 0).all()


@pytest.mark.parametrize("name", NAMES)
@HYPO
@given(data=st.data())
def test_relabelling_channels_relabels_credit(name, data):
    cls = MODELS[name]
    j = data.draw(_strategy(cls))
    perm = np.asarray(data.draw(st.permutations(range(j.n_channels))))
    a = cls().fit(j).credits_
    b = cls().fit(relabel(j, perm)).credits_
    pd.testing.assert_frame_equal(a.sort_index(), b.sort_index(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_fixed_journeys_conserve_per_place(name):
    cls = MODELS[name]
    j = _fixed_journeys()
    model = cls().fit(j)
    check_conservation(model, j)
    pc = model.place_credits_
    assert set(pc["place"]) == {"online", "store"}
    assert pc.groupby("place")["conversions"].sum().to_dict() == pytest.approx({"online": 1.0, "store": 3.5})
    assert pc.groupby("place")["value"].sum().to_dict() == pytest.approx({"online": 10.0, "store": 10.0})
    if model.estimand_ == "incremental":
        # the walk-in buyer is in the baseline, per place: baseline = place total - channels
        base = pc[pc["channel"] == BASELINE].set_index("place")
        chans = pc[pc["channel"] != BASELINE].groupby("place")["conversions"].sum()
        assert base.loc["store", "conversions"] == pytest.approx(3.5 - chans["store"])
        assert base.loc["online", "conversions"] == pytest.approx(1.0 - chans["online"])
        return
    # the walk-in buyer
    assert model.credits_.loc[NO_TOUCH, "conversions"] == 1.5
    row = pc[(pc["channel"] == NO_TOUCH) & (pc["place"] == "store")]
    assert row["value"].item() == 6.0


@pytest.mark.parametrize("name", NAMES)
def test_fit_is_deterministic_and_returns_self(name):
    cls = MODELS[name]
    j = _fixed_journeys()
    model = cls()
    assert model.fit(j) is model
    first = model.credits_.copy()
    pd.testing.assert_frame_equal(model.fit(j).credits_, first)


# --------------------------------------------------------------------------- estimator API


@pytest.mark.parametrize("name", NAMES)
def test_unfitted_access_raises_not_fitted(name):
    model = MODELS[name]()
    msg = f"This {type(model).__name__} instance is not fitted yet. Call 'fit' with a Journeys object first."
    with pytest.raises(NotFittedError) as exc:
        model.credits_  # noqa: B018
    assert str(exc.value) == msg
    with pytest.raises(NotFittedError):
        model.place_credits_  # noqa: B018
    assert not hasattr(model, "credits_")
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(model)
    check_is_fitted(model.fit(_fixed_journeys()))


@pytest.mark.parametrize("name", NAMES)
def test_place_credits_absent_without_places(name):
    model = MODELS[name]().fit(_fixed_journeys(place=False))
    with pytest.raises(AttributeError, match="carry no conversion places") as exc:
        model.place_credits_  # noqa: B018
    assert not isinstance(exc.value, NotFittedError)
    # a journey set with places after one without: the attribute appears, and vice versa
    model.fit(_fixed_journeys(place=True))
    assert hasattr(model, "place_credits_")
    model.fit(_fixed_journeys(place=False))
    assert not hasattr(model, "place_credits_")


@pytest.mark.parametrize("name", NAMES)
def test_fit_rejects_non_journeys(name):
    model = MODELS[name]()
    with pytest.raises(TypeError, match="expects a Journeys object"):
        model.fit(pd.DataFrame({"path": ["a > b"], "total_conversions": [1]}))


@pytest.mark.parametrize("name", NAMES)
def test_get_params_clone_round_trip(name):
    cls = MODELS[name]
    model = cls()
    params = model.get_params()
    assert set(params) == set(cls._get_param_names())
    twin = clone(model)
    assert twin is not model and type(twin) is cls
    assert twin.get_params() == params
    assert cls(**params).get_params() == params
    assert model.set_params(**params) is model
    repr(model)
    # cloning a fitted model gives an unfitted one
    fitted = cls().fit(_fixed_journeys())
    with pytest.raises(NotFittedError):
        clone(fitted).credits_  # noqa: B018


@pytest.mark.parametrize("name", NAMES)
def test_get_model_by_name(name):
    cls = MODELS[name]
    model = get_model(name)
    assert type(model) is cls and cls.model_name == name
    assert type(get_model(name.upper().replace("_", "-"))) is cls
    assert type(get_model(cls)) is cls
    inst = cls()
    assert get_model(inst) is inst


# --------------------------------------------------------------------------- registry


def test_registry_holds_the_rule_models():
    assert {"first_touch", "last_touch", "last_non_direct", "linear", "position_based", "time_decay", "custom"} <= set(MODELS)
    for cls in MODELS.values():
        assert issubclass(cls, AttributionModel)


def test_unknown_model_name_lists_choices():
    with pytest.raises(ValueError) as exc:
        get_model("markv")
    msg = str(exc.value)
    assert msg.startswith(f"Unknown model 'markv'. Choose from {sorted(MODELS)}.")


def test_get_model_spec_parsing():
    m = get_model("position_based:first=0.3,last=0.5")
    assert (m.first, m.last) == (0.3, 0.5)
    m = get_model("last_non_direct:direct=direct|organic")
    assert m.direct == ("direct", "organic")
    m = get_model("time_decay:half_life=12h")
    assert m.half_life == "12h"
    m = get_model("custom:weights=1|2|3")
    assert m.weights == (1, 2, 3)
    m = get_model("position_based", first=0.2, last=0.6)
    assert (m.first, m.last) == (0.2, 0.6)
    m = get_model(" Position-Based : first = 0.25 ")
    assert m.first == 0.25


def test_get_model_value_types():
    from attribution.models.base import _parse_value

    assert _parse_value("true") is True and _parse_value("False") is False
    assert _parse_value("none") is None
    assert _parse_value("2") == 2 and isinstance(_parse_value("2"), int)
    assert _parse_value("2.5") == 2.5
    assert _parse_value("'3'") == "3"
    assert _parse_value("7D") == "7D"
    assert _parse_value("a|2|true") == ("a", 2, True)


def test_get_model_errors():
    with pytest.raises(ValueError, match=r"Unknown parameter 'frist' for PositionBased.*Did you mean 'first'"):
        get_model("position_based:frist=0.3")
    with pytest.raises(ValueError, match="given both"):
        get_model("position_based:first=0.3", first=0.2)
    with pytest.raises(ValueError, match="key=value"):
        get_model("position_based:first")
    with pytest.raises(ValueError, match="given twice"):
        get_model("position_based:first=0.1,first=0.2")
    with pytest.raises(TypeError, match="model name"):
        get_model(42)
    with pytest.raises(ValueError, match="Unknown parameter"):
        get_model(MODELS["linear"], order=2)


def test_get_model_instance_with_params_returns_configured_clone():
    from attribution.models import PositionBased

    base = PositionBased()
    m = get_model(base, first=0.1)
    assert m is not base and m.first == 0.1 and base.first == 0.4


def test_register_model_checks():
    with pytest.raises(ValueError, match="lower-case identifiers"):
        register_model("Bad Name")
    with pytest.raises(TypeError, match="AttributionModel subclass"):
        register_model("not_a_model")(dict)

    class Other(AttributionModel):
        pass

    with pytest.raises(ValueError, match="already registered"):
        register_model("linear")(Other)
    assert "linear" in MODELS and MODELS["linear"] is not Other


def test_registry_picks_up_models_defined_later():
    @register_model("test_every_touch_first")
    class EveryFirst(AttributionModel):
        _nonnegative = True

        def _touch_weights(self, journeys):
            return (journeys.position == 0).astype(float)

    try:
        m = get_model("test_every_touch_first")
        j = _fixed_journeys()
        check_conservation(m.fit(j), j)
    finally:
        del MODELS["test_every_touch_first"]


def test_global_model_hook_with_shares():
    """A global model returning per-channel shares (as Markov will) conserves per place."""
    from attribution.models import credit_from_shares

    class Shares(AttributionModel):
        def _channel_credit(self, journeys):
            return credit_from_shares(journeys, np.arange(1, journeys.n_channels + 1, dtype=float))

    j = _fixed_journeys()
    m = Shares().fit(j)
    check_conservation(m, j)
    # touched conversions (1 online + 2 store) split 1:2:3
    assert m.credits_["conversions"].to_dict() == pytest.approx({"a": 0.5, "b": 1.0, "c": 1.5, NO_TOUCH: 1.5})

    class PerPlace(AttributionModel):
        def _channel_credit(self, journeys):
            # online: all to c; store: all to a
            return credit_from_shares(journeys, np.array([[0.0, 1.0], [0.0, 0.0], [1.0, 0.0]]))

    m = PerPlace().fit(j)
    check_conservation(m, j)
    pc = m.place_credits_.set_index(["channel", "place"])["conversions"]
    assert pc[("c", "online")] == 1.0 and pc[("a", "store")] == 2.0 and pc[("a", "online")] == 0.0

    class ZeroShares(AttributionModel):
        def _channel_credit(self, journeys):
            return credit_from_shares(journeys, np.zeros(journeys.n_channels))

    with pytest.raises(ValueError, match="sum to zero"):
        ZeroShares().fit(j)


def test_check_conservation_catches_a_leak():
    class Leaky(AttributionModel):
        def _touch_weights(self, journeys):
            return np.full(journeys.n_touches, 0.1)

    j = _fixed_journeys()
    with pytest.raises(AssertionError, match="conversions"):
        check_conservation(Leaky().fit(j), j)


# --------------------------------------------------------------------------- estimands


class _FixedLift(AttributionModel):
    """Test-only incremental model: each channel caused 10 % of the conversions (and value)
    of the journeys it touched, at their place."""

    estimand_ = "incremental"

    def _channel_credit(self, journeys):
        from attribution.models import ChannelCredit

        codes, places = place_codes(journeys)
        P = 1 if places is None else len(places)
        C = journeys.n_channels
        first = np.zeros((journeys.n_journeys, C), dtype=bool)
        first[journeys.journey_index, journeys.touch_channel] = True
        conv = np.zeros((C, P))
        val = np.zeros((C, P))
        for p in range(P):
            at = codes == p
            conv[:, p] = 0.1 * (first[at] * journeys.conversions[at, None]).sum(axis=0)
            val[:, p] = 0.1 * (first[at] * journeys.value[at, None]).sum(axis=0)
        return ChannelCredit(conv, val)


def test_incremental_base_machinery_golden():
    j = _fixed_journeys()
    m = _FixedLift().fit(j)
    check_conservation(m, j)
    cr = m.credits_
    assert list(cr.index) == ["a", "b", "c", BASELINE]
    # a touches journeys 0 (1 conv, 10) and 1 (2 conv, 4); b journeys 0 and 2; c journey 0
    assert cr["conversions"].to_dict() == pytest.approx({"a": 0.3, "b": 0.1, "c": 0.1, BASELINE: 4.5 - 0.5})
    assert cr["value"].to_dict() == pytest.approx({"a": 1.4, "b": 1.0, "c": 1.0, BASELINE: 20.0 - 3.4})
    assert cr["share"].sum() == pytest.approx(1.0)
    pc = m.place_credits_.set_index(["channel", "place"])
    # store: 2 conv (a>a) + 1.5 walk-in; a's lift there is 0.2
    assert pc.loc[(BASELINE, "store"), "conversions"] == pytest.approx(3.5 - 0.2)
    assert list(m.incremental_credits_.index) == ["a", "b", "c"]
    assert NO_TOUCH not in cr.index
    assert _FixedLift.estimand_ == "incremental" and MODELS["linear"].estimand_ == "attributed"


def test_incremental_credits_unfitted_and_attributed_errors():
    with pytest.raises(NotFittedError):
        _FixedLift().incremental_credits_  # noqa: B018
    lin = get_model("linear").fit(_fixed_journeys())
    with pytest.raises(EstimandError, match="Linear is an attributed model"):
        lin.incremental_credits_  # noqa: B018
    assert not hasattr(lin, "incremental_credits_")  # an AttributeError too


def test_register_model_checks_the_estimand():
    class Odd(AttributionModel):
        estimand_ = "causal-ish"

    with pytest.raises(ValueError, match="estimand_"):
        register_model("test_odd_estimand")(Odd)
    assert "test_odd_estimand" not in MODELS
