"""Credit per journey and per touch: sums back to credits_ exactly for every registered model
(hypothesis), golden values on hand-computed journeys, credit per period."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import journeys

from attribution import Journeys, Linear, Markov
from attribution.credits import credits_by_period, journey_credits, touch_credits
from attribution.exceptions import DataQualityWarning, JourneyValidationError, ParameterError
from attribution.models import MODELS, NO_TOUCH, get_model

NAMES = sorted(MODELS)
HYPO = settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
pytestmark = pytest.mark.filterwarnings("ignore::attribution.exceptions.DataQualityWarning")


def _scale(model, j):
    """Round-off scale: the totals, or the credits when a model's credits are larger than
    the totals (an incremental estimate can be far below zero, with a baseline far above)."""
    cr = model.credits_[["conversions", "value"]].abs().to_numpy()
    return max(1.0, abs(j.total_conversions), abs(j.total_value), float(cr.max(initial=0.0)))


def _sums_match(model, j, table, rtol=1e-9):
    cr = model.credits_
    got = table.groupby("channel")[["conversions", "value"]].sum().reindex(cr.index).fillna(0.0)
    scale = _scale(model, j)
    assert np.allclose(got["conversions"], cr["conversions"], rtol=0, atol=rtol * scale)
    assert np.allclose(got["value"], cr["value"], rtol=0, atol=rtol * scale)
    if "place" in table.columns and j.has_place:
        pc = model.place_credits_.groupby(["channel", "place"])[["conversions", "value"]].sum()
        gp = table.groupby(["channel", "place"])[["conversions", "value"]].sum()
        gp = gp.reindex(pc.index).fillna(0.0)
        assert np.allclose(gp.to_numpy(), pc.to_numpy(), rtol=0, atol=rtol * scale)


@pytest.mark.parametrize("name", NAMES)
@HYPO
@given(data=st.data())
def test_journey_and_touch_credits_sum_to_credits(name, data):
    cls = MODELS[name]
    j = data.draw(journeys(time=True if cls._requires_time else None))
    model = cls().fit(j)
    for split in ("touched", "global"):
        jc = journey_credits(model, j, split=split)
        _sums_match(model, j, jc)
        # every journey keeps exactly its own conversions and value
        per_j = jc.groupby("journey")[["conversions", "value"]].sum()
        want = pd.DataFrame({"conversions": j.conversions, "value": j.value}).loc[per_j.index]
        assert np.allclose(per_j.to_numpy(), want.to_numpy(), rtol=0, atol=1e-9 * _scale(model, j))
    tc = touch_credits(model, j)
    _sums_match(model, j, pd.concat([tc, jc[jc["channel"] == NO_TOUCH].drop(columns="place", errors="ignore")]))
    assert len(tc[tc["position"] >= 0]) == j.n_touches
    # each table says which quantity it holds: the model's estimand
    assert jc.attrs["estimand"] == tc.attrs["estimand"] == getattr(model, "estimand_", "attributed")


def _fixture():
    # a > b (2 conversions, value 10), b (1 conversion, value 4), a (nothing), c > a > c (1 conv)
    paths = pd.DataFrame({"path": ["a > b", "b", "a", "c > a > c"], "total_conversions": [2, 1, 0, 1],
                          "total_null": [0, 1, 3, 0], "total_conversion_value": [10.0, 4.0, 0.0, 6.0]})
    return Journeys.from_paths(paths)


def test_rule_model_golden():
    j = _fixture()
    m = Linear().fit(j)
    jc = journey_credits(m, j)
    assert jc[["journey", "channel", "conversions", "value"]].values.tolist() == [
        [0, "a", 1.0, 5.0], [0, "b", 1.0, 5.0], [1, "b", 1.0, 4.0],
        [3, "a", 1 / 3, 2.0], [3, "c", 2 / 3, 4.0]]
    assert jc["touched"].all()
    tc = m.touch_credits(j)
    assert tc["conversions"].tolist() == pytest.approx([1.0, 1.0, 1.0, 0.0, 1 / 3, 1 / 3, 1 / 3])
    assert get_model("last_touch").fit(j).touch_credits(j)["conversions"].tolist() == [0, 2, 1, 0, 0, 0, 1]


def test_global_model_touched_split_golden():
    """Markov on a feasible set: the touched split reproduces credits_ and a one-channel journey
    credits only its channel; the global split follows the model's shares in every journey."""
    j = _fixture()
    m = Markov().fit(j)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        jc = m.journey_credits(j)
    _sums_match(m, j, jc)
    # journey 1 (b alone) -> all to b; journey 0 splits by fitted rates a_a, a_b
    assert jc[jc.journey == 1][["channel", "conversions"]].values.tolist() == [["b", 1.0]]
    j0 = jc[jc.journey == 0].set_index("channel")["conversions"]
    j3 = jc[jc.journey == 3].set_index("channel")["conversions"]
    # same rates in both journeys: a/(a+b) from journey 0 and a/(a+c) from 3 come from one a
    ra = j0["a"] / j0["b"]  # a_a / a_b
    rc = j3["c"] / j3["a"]  # a_c / a_a
    cr = m.credits_["conversions"]
    assert cr["a"] == pytest.approx(j0["a"] + j3["a"])
    assert cr["b"] == pytest.approx(j0["b"] + 1.0)
    assert ra > 0 and rc > 0
    g = m.journey_credits(j, split="global")
    shares = cr / cr.sum()
    assert g[g.journey == 1].set_index("channel")["conversions"].to_dict() == pytest.approx(shares.to_dict())


def test_infeasible_global_credit_goes_untouched_with_warning():
    """Logistic crediting one channel only: journeys touching just the others must give their
    conversion to it; the rows say touched=False and a warning names the share."""
    j = _fixture()
    m = Markov().fit(j)
    m.credits_ = m.credits_.assign(conversions=[0.0, 0.0, 4.0], value=[0.0, 0.0, 20.0])  # all to c
    with pytest.warns(DataQualityWarning, match="did not touch"):
        jc = journey_credits(m, j)
    _sums_match(m, j, jc)
    assert not jc[jc.journey == 1]["touched"].any()
    assert jc.attrs["untouched_share"] == pytest.approx(0.75)


def test_credits_by_period_sums_and_plot(tmp_path):
    rng = np.random.default_rng(0)
    n = 300
    t0 = pd.Timestamp("2026-01-05")
    tp = pd.DataFrame({"customer_id": rng.integers(0, 60, n).astype(str),
                       "timestamp": t0 + pd.to_timedelta(rng.integers(0, 60 * 24, n), unit="h"),
                       "channel": rng.choice(["search", "email", "social"], n)})
    cv = tp.sample(40, random_state=1)[["customer_id", "timestamp"]].assign(
        timestamp=lambda d: d.timestamp + pd.Timedelta("1h"), value=10.0)
    j = Journeys.from_events(tp, cv, warn=False)
    m = get_model("markov").fit(j)
    table = credits_by_period(m, j, freq="W")
    assert table.to_numpy().sum() == pytest.approx(j.total_conversions)
    assert np.allclose(table.sum().reindex(m.credits_.index).fillna(0), m.credits_["conversions"])
    weekly = pd.Series(j.conversions, index=pd.PeriodIndex(pd.DatetimeIndex(j.conversion_time), freq="W")
                       ).groupby(level=0).sum()
    assert np.allclose(table.sum(axis=1).loc[weekly.index], weekly)
    assert credits_by_period(m, j, "W", what="value").to_numpy().sum() == pytest.approx(400.0)
    import matplotlib

    matplotlib.use("Agg")
    from attribution.plotting.credits import plot_credits_by_period

    axes = plot_credits_by_period(table)
    assert len(axes) == table.shape[1]
    axes[0].figure.savefig(tmp_path / "weekly.png")
    with pytest.raises(ValueError, match="conversion times"):
        credits_by_period(Linear().fit(_fixture()), _fixture())


def test_refuses_other_journeys():
    j = _fixture()
    m = Linear().fit(j)
    other = Journeys.from_paths(pd.DataFrame({"path": ["x"], "total_conversions": [1]}))
    with pytest.raises(JourneyValidationError, match="fitted on other journeys"):
        journey_credits(m, other)
    with pytest.raises(ParameterError, match="split"):
        journey_credits(m, j, split="mine")


def test_markov_value_per_conversion_beyond_float64_warns_and_conserves():
    """Hypothesis found it: a conversion count near 1e-308 makes value per conversion overflow;
    the value then follows the conversion shares, with a warning, and still adds up."""
    from attribution.exceptions import ModelFallbackWarning

    j = Journeys(channels=np.array(["a"], dtype=object), touch_channel=np.zeros(0, np.int32),
                 offsets=np.array([0, 0]), conversions=np.array([2.2250738585072014e-308]), nulls=np.array([0.0]),
                 value=np.array([4.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.warns(ModelFallbackWarning, match="overflows float64"):
            m = get_model("markov").fit(j)
    assert m.credits_["value"].sum() == pytest.approx(4.0)
    assert m.credits_["conversions"].sum() == pytest.approx(2.2250738585072014e-308, rel=1e-9, abs=0)
