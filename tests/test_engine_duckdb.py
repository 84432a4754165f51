"""The DuckDB engine: parity with the pandas engine (path tables, exclusions, credits, engine
aggregates) on simulated, public and generated event logs; file and relation inputs; errors."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attribution import Journeys, JourneyValidationError
from attribution.datasets import simulate
from attribution.graph import transition_counts
from attribution.models import get_model
from attribution.models.base import place_codes
from attribution.models.shapley import _mask_totals

duckdb = pytest.importorskip("duckdb")
from attribution.engines import _common, _sql  # noqa: E402
from attribution.engines import duckdb as ddb  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
KAGGLE = SHARED / "events" / "kaggle_schema_events.csv.gz"
STEPS = SHARED / "events" / "step_order_events.csv"
needs_kaggle = pytest.mark.skipif(not KAGGLE.exists(), reason="../shared/data/events absent")
needs_steps = pytest.mark.skipif(not STEPS.exists(), reason="../shared/data/events absent")

RULE_MODELS = ["first_touch", "last_touch", "linear", "position_based", "position_based:first=0.3,last=0.5",
               "last_non_direct"]


def build(touchpoints, conversions=None, **kw):
    """Journeys from both engines (warnings silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = Journeys.from_events(touchpoints, conversions, **kw)
        b = Journeys.from_events(touchpoints, conversions, engine="duckdb", **kw)
    return a, b


def assert_same_paths(a: Journeys, b: Journeys) -> None:
    """The two engines' path tables, channels, places, exclusions and input counts agree."""
    pa, pb = a.to_paths(), b.to_paths()
    assert pa["path"].tolist() == pb["path"].tolist()
    np.testing.assert_array_equal(pa["total_conversions"], pb["total_conversions"])
    np.testing.assert_array_equal(pa["total_null"], pb["total_null"])
    np.testing.assert_allclose(pa["total_conversion_value"], pb["total_conversion_value"], rtol=1e-12, atol=1e-9)
    assert list(a.channels) == list(b.channels)
    assert a.places == b.places
    assert a.exclusions == b.exclusions
    assert a._n_input == b._n_input
    da, db = a.describe(), b.describe()
    same = [k for k in da.index if k not in ("journey rows", "touches", "value")]
    pd.testing.assert_series_equal(da[same], db[same])  # ``journey rows`` / ``touches`` count path rows
    if a.has_place:  # per place too
        for p in a.places:
            assert a.conversions[a.place == p].sum() == b.conversions[b.place == p].sum()
    # touch types (one more CSR array) and the campaign level's channel groups
    assert (a.touch_types is None) == (b.touch_types is None)
    if a.touch_types is not None:
        assert list(a.touch_types) == list(b.touch_types)
        ta, tb = typed_paths(a), typed_paths(b)
        assert ta["path"].tolist() == tb["path"].tolist()
        np.testing.assert_array_equal(ta["total_conversions"], tb["total_conversions"])
        np.testing.assert_array_equal(ta["total_null"], tb["total_null"])
    assert (a.channel_groups is None) == (b.channel_groups is None)
    if a.channel_groups is not None:
        assert list(a.channel_groups) == list(b.channel_groups)


def typed_paths(j: Journeys) -> pd.DataFrame:
    """The path table with every touch written ``channel/type``."""
    K = len(j.touch_types)
    names = np.array([f"{c}/{t}" for c in j.channels.tolist() for t in j.touch_types.tolist()], dtype=object)
    code = (j.touch_channel.astype(np.int64) * K + j.touch_type).astype(np.int32)
    return j._replace(channels=names, touch_channel=code, touch_type=None, touch_types=None,
                      channel_groups=None).to_paths()


def assert_same_credits(a: Journeys, b: Journeys, models) -> None:
    for spec in models:
        ma, mb = get_model(spec).fit(a), get_model(spec).fit(b)
        assert list(ma.credits_.index) == list(mb.credits_.index), spec
        np.testing.assert_allclose(ma.credits_.to_numpy(), mb.credits_.to_numpy(), rtol=1e-9, atol=1e-9, err_msg=spec)
        if a.has_place:
            np.testing.assert_allclose(
                ma.place_credits_[["conversions", "value"]].to_numpy(),
                mb.place_credits_[["conversions", "value"]].to_numpy(), rtol=1e-9, atol=1e-9, err_msg=spec,
            )


@pytest.fixture(scope="module")
def sim():
    return simulate(500, random_state=7)


# --------------------------------------------------------------------------- simulator parity
RULES = [
    {},
    {"lookback": None},
    {"lookback": "7D", "lookback_touches": 3},
    {"collapse_repeats": True, "max_length": 2},
    {"exclude": ["store_visit", "no_such_channel"], "collapse_repeats": True},
    {"lookback": "3D", "lookback_touches": 4, "collapse_repeats": True, "max_length": 3, "exclude": "email"},
]


@pytest.mark.parametrize("rules", RULES, ids=lambda r: ",".join(r) or "defaults")
@pytest.mark.parametrize("stitch", [False, True], ids=["plain", "identities"])
def test_simulator_paths_equal(sim, rules, stitch):
    kw = dict(rules, identities=sim.identities if stitch else None)
    a, b = build(sim.touchpoints, sim.conversions, **kw)
    assert_same_paths(a, b)
    assert b.total_conversions == len(sim.conversions)
    if stitch:
        assert b.id_map is not None and b.person_of(["zz"]).tolist() == ["zz"]
        pd.testing.assert_series_equal(a.id_map.sort_index(), b.id_map.sort_index())


def test_simulator_credits_equal(sim):
    a, b = build(sim.touchpoints, sim.conversions, identities=sim.identities, lookback="14D")
    models = RULE_MODELS + ["markov", "markov:order=2", "markov:order=3", "shapley",
                            "shapley:method=conversion_rate", "shapley:method=ordered"]
    assert_same_credits(a, b, models)


def test_engine_aggregates_equal_python(sim):
    a = Journeys.from_events(sim.touchpoints, sim.conversions, identities=sim.identities, collapse_repeats=True, warn=False)
    with ddb.aggregate_events(sim.touchpoints, sim.conversions, identities=sim.identities,
                              collapse_repeats=True, age_resolution="1s") as agg:
        codes, places = place_codes(a)
        for order in (1, 2, 3):
            for by_place in (False, True):
                got = agg.transition_counts(order, by_place=by_place)
                want = (transition_counts(a, order, outcome=codes, n_outcomes=len(places)) if by_place
                        else a.transition_counts(order))
                assert got.states == want.states
                for field in ("src", "dst", "count", "state_channels"):
                    np.testing.assert_array_equal(getattr(got, field), getattr(want, field))
                np.testing.assert_allclose(got.outcome_count, want.outcome_count)
                np.testing.assert_allclose(got.outcome_value, want.outcome_value, rtol=1e-12)
        count, num = agg.mask_totals()
        want_count, want_num = _mask_totals(a, a.n_channels)
        np.testing.assert_array_equal(count, want_count)
        np.testing.assert_allclose(num, want_num, rtol=1e-12, atol=1e-9)
        sets = agg.channel_set_counts()
        assert sets["journeys"].sum() == a.conversions.sum() + a.nulls.sum()
        assert set(sets.columns) == {"mask", "place", "journeys", "conversions", "value"}
        for spec in RULE_MODELS + ["time_decay", "time_decay:half_life=12h"]:
            model = get_model(spec).fit(a)
            got = agg.rule_credits(spec)
            assert list(got.index) == list(model.credits_.index), spec
            np.testing.assert_allclose(got.to_numpy(), model.credits_.to_numpy(), rtol=1e-9, atol=1e-9, err_msg=spec)
            long = agg.rule_credits(get_model(spec), by_place=True)
            pd.testing.assert_frame_equal(long[["channel", "place"]], model.place_credits_[["channel", "place"]])
            np.testing.assert_allclose(long[["conversions", "value"]].to_numpy(),
                                       model.place_credits_[["conversions", "value"]].to_numpy(), atol=1e-9)
        # time decay on the engine's journeys: ages at one-second resolution are exact here
        j = agg.to_journeys()
        assert j.has_time
        assert_same_credits(a, j, ["time_decay", "time_decay:half_life=2h"])
        with pytest.raises(ValueError, match="has no SQL weights"):
            agg.rule_credits("markov")
    with pytest.raises(ValueError, match="closed"):
        agg.to_journeys()


def test_time_decay_needs_ages(sim):
    with ddb.aggregate_events(sim.touchpoints, sim.conversions) as agg:
        assert not agg.to_journeys().has_time
        with pytest.raises(ValueError, match="age_resolution"):
            agg.rule_credits("time_decay")


def test_ages_are_rounded_down_to_the_resolution():
    tp = pd.DataFrame({"customer_id": ["u"] * 3, "channel": ["a", "b", "c"],
                       "timestamp": ["2026-01-01T00:00:00Z", "2026-01-01T05:59:59Z", "2026-01-01T09:00:00Z"]})
    cv = pd.DataFrame({"customer_id": ["u"], "timestamp": ["2026-01-01T10:00:00Z"]})
    j = Journeys.from_events(tp, cv, engine="duckdb", engine_options={"age_resolution": "1h"})
    ages = (j.conversion_time[0] - j.touch_time) // np.timedelta64(1, "h")
    assert ages.tolist() == [10, 4, 1]


# ------------------------------------------------------------------- public data (Kaggle)
@needs_kaggle
def test_kaggle_layout_frame_and_file():
    ev = pd.read_csv(KAGGLE)
    for kw in ({}, {"lookback": "3D", "collapse_repeats": True}, {"conversion_touch": False}):
        a, b = build(ev, time="time", **kw)
        assert_same_paths(a, b)
        c = Journeys.from_events(str(KAGGLE), time="time", engine="duckdb", warn=False, **kw)
        assert_same_paths(a, c)
    assert_same_credits(a, c, ["linear", "markov:order=2", "shapley"])


@needs_steps
def test_step_order_flag_column():
    ev = pd.read_csv(STEPS)
    kw = dict(customer="User_ID_Anon", time="Timestamp", channel="Channel", conversion_flag="Conversion_Flag")
    a, b = build(ev, **kw)
    assert_same_paths(a, b)
    c = Journeys.from_events(str(STEPS), engine="duckdb", warn=False, **kw)
    assert_same_paths(a, c)


# ------------------------------------------------------------- hypothesis: generated logs
CHANNELS = ["a", "b", " c", "direct", "d "]  # names with stray spaces are stripped
TYPES = ["click", "impression", " Visit", "view"]  # stripped and lower-cased; view is an impression
LOOKBACKS = [None, "5D", "30D", {"click": "30D", "impression": "1D"}, {"impression": "2D", "visit": None, "click": "5D"}]


@st.composite
def event_logs(draw):
    n_people = draw(st.integers(1, 5))
    people = [f"p{i}" for i in range(n_people)]
    n_t = draw(st.integers(0, 25))
    n_c = draw(st.integers(0, 8))
    day = st.integers(0, 30)  # coarse days: many ties, between touches and with conversions
    base = pd.Timestamp("2026-01-01", tz="UTC")
    touches = pd.DataFrame({
        "customer_id": draw(st.lists(st.sampled_from(people), min_size=n_t, max_size=n_t)),
        "timestamp": [base + pd.Timedelta(days=d) for d in draw(st.lists(day, min_size=n_t, max_size=n_t))],
        "channel": draw(st.lists(st.sampled_from(CHANNELS), min_size=n_t, max_size=n_t)),
    })
    typed = draw(st.booleans())
    if typed:  # touch types and campaigns (a missing campaign is "(not set)")
        touches["touch_type"] = draw(st.lists(st.sampled_from(TYPES), min_size=n_t, max_size=n_t))
        touches["campaign"] = draw(st.lists(st.sampled_from(["x", "y", None]), min_size=n_t, max_size=n_t))
    buyers = people + ["walkin"]  # a customer without touches: an empty journey
    convs = pd.DataFrame({
        "customer_id": draw(st.lists(st.sampled_from(buyers), min_size=n_c, max_size=n_c)),
        "timestamp": [base + pd.Timedelta(days=d) for d in draw(st.lists(day, min_size=n_c, max_size=n_c))],
        "value": draw(st.lists(st.floats(0, 100, allow_nan=False), min_size=n_c, max_size=n_c)),
        "place": draw(st.lists(st.sampled_from(["online", "store"]), min_size=n_c, max_size=n_c)),
    })
    links = draw(st.lists(st.tuples(st.sampled_from(people), st.sampled_from(buyers)), max_size=3))
    rules = {
        "identities": pd.DataFrame(links, columns=["cookie", "card"]) if links else None,
        "lookback": draw(st.sampled_from(LOOKBACKS if typed else LOOKBACKS[:3])),
        "level": draw(st.sampled_from(["channel", "campaign"])) if typed else "channel",
        "lookback_touches": draw(st.sampled_from([None, 1, 3])),
        "collapse_repeats": draw(st.booleans()),
        "max_length": draw(st.sampled_from([None, 1, 2, 4])),
        "exclude": draw(st.sampled_from([None, "b", ["direct", "a"]])),
    }
    return touches, convs, rules


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_logs())
def test_generated_logs_paths_equal(log):
    touches, convs, rules = log
    a, b = build(touches, convs, **rules)
    assert_same_paths(a, b)
    assert b.total_conversions == len(convs)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_logs())
def test_generated_logs_kaggle_layout_equal(log):
    touches, convs, rules = log
    rules.pop("identities")
    combined = pd.concat([
        touches.assign(interaction="impression", conversion_value=0.0),
        convs.drop(columns="place").rename(columns={"value": "conversion_value"})
        .assign(interaction="Conversion ", channel="a"),  # the flag text is stripped and lower-cased
    ], ignore_index=True).sample(frac=1.0, random_state=0).reset_index(drop=True)
    a, b = build(combined, **rules)
    assert_same_paths(a, b)


# ------------------------------------------------------------------------------- inputs
def tied_log():
    """Touches at equal times in a known input order, a conversion tied with touches, a walk-in."""
    tp = pd.DataFrame({
        "customer_id": ["u1", "u1", "u1", "u1", "u2", "u2", "u1"],
        "timestamp": ["2026-01-02 00:00:00", "2026-01-02 00:00:00", "2026-01-01 00:00:00", "2026-01-05 00:00:00",
                      "2026-01-03 00:00:00", "2026-01-03 00:00:00", "2026-01-02 00:00:00"],
        "channel": ["b", "a", "c", "a", "c", "b", "c"],
    })
    cv = pd.DataFrame({"customer_id": ["u1", "u3", "u1"],
                       "timestamp": ["2026-01-02 00:00:00", "2026-01-04 00:00:00", "2026-01-02 00:00:00"],
                       "value": [5.0, 7.0, 1.0], "place": ["online", "store", "store"]})
    return tp, cv


def test_ties_keep_input_order():
    tp, cv = tied_log()
    a, b = build(tp, cv, lookback=None)
    assert_same_paths(a, b)
    # c (day 1), then b, a, c at day 2 in input order, closed by the first of two tied conversions
    assert "c > b > a > c" in b.to_paths()["path"].tolist()


def test_file_inputs_csv_parquet_glob(tmp_path, sim):
    tp, cv = tied_log()
    a, _ = build(tp, cv, lookback=None)
    tp.to_csv(tmp_path / "tp.csv", index=False)
    cv.to_csv(tmp_path / "cv.csv", index=False)
    for i, part in enumerate(np.array_split(np.arange(len(tp)), 2)):  # two files, in name order
        tp.iloc[part].to_parquet(tmp_path / f"tp-{i}.parquet", index=False)
    cv.to_parquet(tmp_path / "cv.parquet", index=False)
    for tsrc, csrc in [
        (tmp_path / "tp.csv", str(tmp_path / "cv.csv")),
        (str(tmp_path / "tp-*.parquet"), tmp_path / "cv.parquet"),
        ([tmp_path / "tp-0.parquet", str(tmp_path / "tp-1.parquet")], tmp_path / "cv.csv"),
    ]:
        b = Journeys.from_events(tsrc, csrc, lookback=None, engine="duckdb", warn=False)
        assert_same_paths(a, b)
    # identities from a file; simulator data through Parquet
    sim.identities.to_csv(tmp_path / "ids.csv", index=False)
    sim.touchpoints.to_parquet(tmp_path / "stp.parquet", index=False)
    sim.conversions.to_csv(tmp_path / "scv.csv", index=False)
    a, _ = build(sim.touchpoints, sim.conversions, identities=sim.identities)
    b = Journeys.from_events(tmp_path / "stp.parquet", tmp_path / "scv.csv", identities=tmp_path / "ids.csv",
                             engine="duckdb", warn=False)
    assert_same_paths(a, b)


def test_relation_inputs_and_connection_settings():
    tp, cv = tied_log()
    a, _ = build(tp, cv)
    import pyarrow as pa

    tpa, cva = pa.Table.from_pandas(tp), pa.Table.from_pandas(cv)  # noqa: F841 - read by DuckDB
    con = duckdb.connect()
    con.execute("SET TimeZone = 'America/New_York'")
    rel_t = con.sql("SELECT * FROM tpa")
    rel_c = con.sql("SELECT * FROM cva")
    b = Journeys.from_events(rel_t, rel_c, engine="duckdb", engine_options={"connection": con}, warn=False)
    assert_same_paths(a, b)  # naive strings read as UTC whatever the session time zone
    assert con.sql("SELECT current_setting('TimeZone')").fetchall()[0][0] == "America/New_York"
    def leftovers():
        return con.sql("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '__attribution%' UNION ALL "
                       "SELECT view_name FROM duckdb_views() WHERE view_name LIKE '__attribution%'").fetchall()

    assert leftovers() == []
    with pytest.raises(ValueError, match="another connection"):
        Journeys.from_events(rel_t, rel_c, engine="duckdb")
    with pytest.raises(JourneyValidationError):  # a failed build leaves nothing behind either
        Journeys.from_events(rel_t, rel_c, channel="customer_id", sep="u", engine="duckdb", engine_options={"connection": con})
    assert leftovers() == []
    con.close()
    # relations of the default connection need no connection argument
    c = Journeys.from_events(duckdb.sql("SELECT * FROM tpa"), duckdb.sql("SELECT * FROM cva"), engine="duckdb", warn=False)
    assert_same_paths(a, c)


def test_dispatch_and_options():
    tp, cv = tied_log()
    with pytest.raises(ValueError, match=r"'engine' parameter .* one of \['pandas', 'duckdb', 'spark'\]"):
        Journeys.from_events(tp, cv, engine="polars")
    with pytest.raises(ValueError, match="engine_options"):
        Journeys.from_events(tp, cv, engine_options={"threads": 2})
    j = Journeys.from_events(tp, cv, engine="duckdb",
                             engine_options={"memory_limit": "512MB", "threads": 1}, warn=False)
    assert j.total_conversions == 3
    with ddb.aggregate_events(tp, cv) as agg:
        assert agg.places == ["online", "store"]
        assert agg.to_paths().equals(j.to_paths())


def test_missing_extra_names_the_install(monkeypatch):
    tp, cv = tied_log()
    monkeypatch.setitem(sys.modules, "duckdb", None)
    with pytest.raises(ImportError, match=r'pip install "attribution\[duckdb\]"'):
        Journeys.from_events(tp, cv, engine="duckdb")


# ------------------------------------------------------------------------------- errors
def base_log():
    tp = pd.DataFrame({"customer_id": ["u", "u"], "timestamp": ["2026-01-01", "2026-01-02"], "channel": ["a", "b"]})
    cv = pd.DataFrame({"customer_id": ["u"], "timestamp": ["2026-01-03"], "value": [1.0], "place": ["store"]})
    return tp, cv


@pytest.mark.parametrize(
    "table, update, match",
    [
        ("tp", {"channel": ["a", None]}, r"'channel' of touchpoints has 1 missing or empty value"),
        ("tp", {"channel": ["a", "  "]}, r"'channel' of touchpoints has 1 missing or empty value"),
        ("tp", {"customer_id": ["u", " "]}, r"'customer_id' of touchpoints has 1 missing"),
        ("tp", {"timestamp": ["2026-01-01", "not a time"]}, r"'timestamp' of touchpoints has 1 missing or unparseable"),
        ("tp", {"channel": ["a", "b>c"]}, r"path separator '>'"),
        ("cv", {"value": [-3.0]}, r"'value' of conversions must hold non-negative numbers; 1"),
        ("cv", {"value": ["x"]}, r"'value' of conversions must be numeric; 1"),
        ("cv", {"place": [None]}, r"'place' of conversions has 1 missing"),
        ("cv", {"customer_id": [None]}, r"'customer_id' of conversions has 1 missing"),
        ("cv", {"timestamp": [None]}, r"'timestamp' of conversions has 1 missing or unparseable"),
    ],
)
def test_bad_data_messages_match_pandas(table, update, match):
    tp, cv = base_log()
    frame = tp if table == "tp" else cv
    for k, v in update.items():
        frame[k] = v
    for engine in ("pandas", "duckdb"):
        with pytest.raises(JourneyValidationError, match=match) as err:
            Journeys.from_events(tp, cv, engine=engine)
        assert "Example rows" in str(err.value)


def test_errors_show_example_rows_and_counts():
    tp = pd.DataFrame({"customer_id": ["u"] * 6, "timestamp": ["2026-01-01"] * 6, "channel": ["a", "x>1", "x>2", "b", "x>3", "x>4"]})
    with pytest.raises(JourneyValidationError) as err:
        Journeys.from_events(tp, pd.DataFrame({"customer_id": ["u"], "timestamp": ["2026-01-03"]}), engine="duckdb")
    text = str(err.value)
    assert "x>1" in text and "x>3" in text and "... and 1 more" in text and "x>4" not in text


def test_other_errors():
    tp, cv = base_log()
    with pytest.raises(JourneyValidationError, match=r"no column 'timestamp'.*Did you mean time='time'"):
        Journeys.from_events(tp, cv.rename(columns={"timestamp": "time"}), engine="duckdb")
    with pytest.raises(JourneyValidationError, match=r"touchpoints has no column 'chanel'.*Did you mean channel='channel'"):
        Journeys.from_events(tp, cv, channel="chanel", engine="duckdb")
    with pytest.raises(JourneyValidationError, match="customers with no touch"):
        Journeys.from_events(tp, cv.assign(customer_id="zz"), unknown_customers="raise", engine="duckdb")
    with pytest.raises(JourneyValidationError, match="none could be found in the touchpoints"):
        Journeys.from_events(tp, engine="duckdb")
    kaggle = tp.assign(conversion=[0.0, np.nan])
    with pytest.raises(JourneyValidationError, match="missing conversion flags"):
        Journeys.from_events(kaggle, engine="duckdb")
    for bad, match in [({"lookback": "-3D"}, "'lookback' parameter"),
                       ({"lookback_touches": 0}, "'lookback_touches' parameter"),
                       ({"max_length": 0}, "'max_length' parameter"),
                       ({"unknown_customers": "drop"}, "'unknown_customers' parameter")]:
        with pytest.raises(ValueError, match=match):
            Journeys.from_events(tp, cv, engine="duckdb", **bad)
    with pytest.raises(ValueError, match="'age_resolution' parameter"):
        Journeys.from_events(tp, cv, engine="duckdb", engine_options={"age_resolution": "soon"})
    with pytest.raises(FileNotFoundError, match="No file matches"):
        Journeys.from_events("no/such/file-*.parquet", cv, engine="duckdb")
    with pytest.raises(ValueError, match="Cannot tell the file format"):
        Journeys.from_events(__file__, cv, engine="duckdb")
    with pytest.raises(TypeError, match="must be a pandas DataFrame, a DuckDB relation"):
        Journeys.from_events({"a": 1}, cv, engine="duckdb")
    with pytest.warns(UserWarning, match="not in the data"):
        Journeys.from_events(tp, cv, exclude="nope", engine="duckdb")


# ---------------------------------------------------------------------- the Spark dialect
def test_spark_sql_text_uses_no_duckdb_only_syntax():
    rules = _sql.JourneyRules(n_codes=5, lookback_ns=10**12, lookback_touches=3, collapse_repeats=True,
                              max_length=2, age_step_ns=10**9)
    text = " ".join([
        _sql.touches_sql("src", customer="c", time="t", channel="ch", dialect="spark",
                         flag=_sql.flag_sql("f", "spark", False, ["Conversion"]), id_map="ids"),
        _sql.conversions_sql("src", customer="c", time="t", dialect="spark", value="v", place="pl"),
        _sql.journey_paths_sql("tch", "cnv", rules, "spark"),
        *_sql.transition_counts_sql("paths", _sql.path_touches_sql("paths", "spark", True), 3, 5),
        _sql.channel_set_counts_sql("paths", "pt", "spark"),
        _sql.rule_credits_sql("paths", "pt", "time_decay", {"half_life_ns": 1e9, "age_step_ns": 10**9}),
        _sql.missing("c", "spark"),
    ])
    for duck_only in ("//", "<<", "lambda", "string_agg", "list_sort", "list_transform", "QUALIFY", '"', "FILTER (", "epoch_ns", "::"):
        assert duck_only not in text, duck_only
    for spark in ("div", "shiftleft", "collect_list", "posexplode", "unix_micros", "`c`"):
        assert spark in text, spark
    with pytest.raises(ValueError, match="dialect"):
        _sql.ident("x", "postgres")


# --------------------------------------------------------------------------- buckets of persons
def _paths_with(monkeypatch, bucket_events, touches, convs, **kw):
    """The DuckDB path table (with the exclusion counts) with ``bucket_events`` events per bucket."""
    monkeypatch.setattr(ddb._DuckDBBackend, "bucket_events", bucket_events)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ddb.aggregate_events(touches, convs, **kw) as agg:
            table = agg.connection.sql(f"SELECT * FROM {agg.table} ORDER BY rid").df()
            return table, agg.exclusions


@pytest.mark.parametrize("rules", RULES + [{"age_resolution": "1h"}, {"lookback": None, "age_resolution": "1D"}],
                         ids=lambda r: ",".join(r) or "defaults")
def test_bucketed_route_equals_one_pass(sim, monkeypatch, rules):
    """Event logs beyond ``bucket_events`` run bucket by bucket of persons: the same path table, bit for bit."""
    kw = dict(rules, identities=sim.identities)
    one, x1 = _paths_with(monkeypatch, 10**12, sim.touchpoints, sim.conversions, **kw)
    n_events = len(sim.touchpoints) + len(sim.conversions)
    many, x2 = _paths_with(monkeypatch, n_events // 7, sim.touchpoints, sim.conversions, **kw)  # 8 buckets
    pd.testing.assert_frame_equal(one, many, check_exact=True)
    assert x1 == x2
    assert many["total_conversions"].sum() == len(sim.conversions)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(event_logs(), st.integers(1, 6))
def test_generated_logs_bucketed_equal(monkeypatch, log, bucket_events):
    """Tiny buckets (down to one event each) on generated logs: equal to one pass and to pandas."""
    touches, convs, rules = log
    one, x1 = _paths_with(monkeypatch, 10**12, touches, convs, **rules)
    many, x2 = _paths_with(monkeypatch, bucket_events, touches, convs, **rules)
    pd.testing.assert_frame_equal(one, many, check_exact=True)
    assert x1 == x2


def test_numpy_bucket_journeys_golden():
    """The numpy journeys of one sorted bucket, by hand: journeys end at conversions, the lookback
    counts from the conversion (or the last kept touch), excluded channels and the lookback are
    counted per key, and equal keys of different persons add up."""
    from attribution.engines import _numpy_paths as npp
    import pyarrow as pa

    # person 1: A(0) B(10) conv(20, place 0, value 5) C(30) | person 2: x(0) A(1) B(60) conv(100, place 0, value 7)
    # | person 3: A(5) B(15) conv(20, place 0, value 1)  (lookback 50)
    p = np.array([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3], dtype=np.int32)
    t = np.array([0, 10, 20, 30, 0, 1, 60, 100, 5, 15, 20], dtype=np.int64)
    kind = np.array([0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 2], dtype=np.int8)
    code = np.array([0, 1, -1, 2, -1, 0, 1, -1, 0, 1, -1], dtype=np.int32)
    pl = np.array([-1, -1, 0, -1, -1, -1, -1, 0, -1, -1, 0], dtype=np.int32)
    value = pa.chunked_array([pa.array([None, None, 5.0, None, None, None, None, 7.0, None, None, 1.0])])
    groups, g, v = npp.bucket_groups(p, t, kind, code, pl, value, 50, None)
    table = npp.groups_table(groups, ["store"]).to_pandas().set_index("path").sort_index()
    assert table.index.tolist() == ["0 1", "1", "2"]
    assert table.loc["0 1", ["place", "n_conv", "n_null", "x_excluded", "x_lookback"]].tolist() == ["store", 2, 0, 0, 0]
    assert table.loc["1", ["place", "n_conv", "x_excluded", "x_lookback"]].tolist() == ["store", 1, 1, 1]
    assert table.loc["2", ["n_conv", "n_null"]].tolist() == [0, 1] and pd.isna(table.loc["2", "place"])
    assert table["rid"].tolist() == [0, 1, 2]  # byte order of the paths
    # converting journeys in (person, journey) order with their values
    paths = npp.groups_table(groups, ["store"]).column("path").to_pylist()
    assert [paths[i] for i in g] == ["0 1", "1", "0 1"] and v.to_pylist() == [5.0, 7.0, 1.0]


def test_numpy_route_memory_budget():
    """The numpy route's arrays take a share of the memory limit, and the engine's limit is lowered
    by as much while they live (restored as the user wrote it)."""
    import duckdb

    con = duckdb.connect()
    for text, n in [("4GB", 4 * 10**9), ("3.7 GiB", int(3.7 * 2**30)), ("512MB", 512 * 10**6), ("100KiB", 102400),
                    ("1TB", 10**12), ("2000000000B", 2 * 10**9)]:
        assert ddb._DuckDBBackend(con, text).memory_limit_bytes() == n
    backend = ddb._DuckDBBackend(con, "1GB")
    con.execute("SET memory_limit = '1GB'")
    setting = lambda: con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]  # noqa: E731
    before = setting()
    with backend.memory_for_python(_common._numpy_budget(backend)):
        assert setting() != before  # 550 MB
        share = int(10**9 * backend.numpy_memory_share)
        assert _common._numpy_budget(backend) == share
        assert _common._numpy_bucket_size(backend) == share // backend.numpy_bytes_per_event
    assert setting() == before


def test_numpy_route_exact_under_hash_collisions(sim, monkeypatch):
    """A hash that collides for every path of equal length and first channel: the element-wise
    check finds it and the keys are grouped by their text, so the table is still the one pass's."""
    from attribution.engines import _numpy_paths as npp

    one, x1 = _paths_with(monkeypatch, 10**12, sim.touchpoints, sim.conversions, identities=sim.identities)
    calls = []
    exact = npp._exact_groups
    monkeypatch.setattr(npp, "_P", np.uint64(0))  # powers 1, 0, 0, ...: only the first code counts
    monkeypatch.setattr(npp, "_exact_groups", lambda *a: calls.append(1) or exact(*a))
    n_events = len(sim.touchpoints) + len(sim.conversions)
    many, x2 = _paths_with(monkeypatch, n_events // 5, sim.touchpoints, sim.conversions, identities=sim.identities)
    assert calls  # the collisions were found
    pd.testing.assert_frame_equal(one, many, check_exact=True)
    assert x1 == x2


def test_parquet_lists_number_rows_across_files(tmp_path):
    """Parquet rows are numbered by (file, row in file) from a parallel scan; ties still keep the
    input order across files, and error examples give the row's place in the whole input."""
    tp, cv = tied_log()
    a, _ = build(tp, cv, lookback=None)
    parts = np.array_split(np.arange(len(tp)), 3)
    for i, part in enumerate(parts):
        tp.iloc[part].to_parquet(tmp_path / f"tp-{i}.parquet", index=False)
    files = [tmp_path / f"tp-{i}.parquet" for i in (0, 1, 2)]
    b = Journeys.from_events(files, cv, lookback=None, engine="duckdb", warn=False)
    assert_same_paths(a, b)
    bad = tp.copy()
    row = int(parts[2][0]) + 1  # a row of the third file
    bad.loc[bad.index[row], "channel"] = "x>1"
    for i, part in enumerate(parts):
        bad.iloc[part].to_parquet(tmp_path / f"bad-{i}.parquet", index=False)
    with pytest.raises(JourneyValidationError) as err:
        Journeys.from_events(str(tmp_path / "bad-*.parquet"), cv, lookback=None, engine="duckdb")
    lines = [line for line in str(err.value).splitlines() if "x>1" in line]
    assert lines and lines[0].split()[0] == str(row)


def test_empty_log_with_per_type_windows():
    """No touches and a per-type lookback (so no type codes): an empty path table, not an SQL error."""
    touches = pd.DataFrame({"customer_id": pd.Series([], dtype=object), "timestamp": pd.Series([], dtype="datetime64[ns, UTC]"),
                            "channel": pd.Series([], dtype=object), "touch_type": pd.Series([], dtype=object)})
    convs = pd.DataFrame({"customer_id": pd.Series([], dtype=object), "timestamp": pd.Series([], dtype="datetime64[ns, UTC]"),
                          "value": pd.Series([], dtype=float)})
    a, b = build(touches, convs, lookback={"click": "30D", "impression": "1D"})
    assert_same_paths(a, b)
    assert b.total_conversions == 0
