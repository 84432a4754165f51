"""The Spark engine: parity pandas = DuckDB = Spark (path tables, exclusions, credits, engine
aggregates) on simulated, public and generated event logs, in local mode (``local[2]``); Spark
DataFrame, table and file inputs; session hygiene; errors.

Needs pyspark and a Java runtime (``.ci/run`` installs one when ``java`` is missing). Without
them the module is skipped with a loud "SPARK TESTS SKIPPED" reason and a warning.
"""

from __future__ import annotations

import sys
import warnings

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

try:
    import pyspark  # noqa: F401
except ImportError:  # the dev extra installs it: a missing pyspark is worth a loud skip
    _msg = 'SPARK TESTS SKIPPED: pyspark is not installed (pip install -e ".[dev]" installs it).'
    warnings.warn(_msg)
    pytest.skip(_msg, allow_module_level=True)

from attribution.engines import duckdb as ddb  # noqa: E402
from attribution.engines import spark as sp  # noqa: E402

# the DuckDB parity tests' data and checks, reused as they are
from test_engine_duckdb import (  # noqa: E402
    KAGGLE, RULE_MODELS, RULES, STEPS, assert_same_credits, assert_same_paths, base_log, event_logs,
    needs_kaggle, needs_steps, tied_log,
)


pytestmark = [  # pyspark's own notes on pandas 3, from the tests' createDataFrame / toPandas calls
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]


@pytest.fixture(scope="module")
def spark():
    """One local[2] session for the module, small and quiet; a loud skip when Spark cannot start."""
    try:
        session = sp.local_session(
            cores=2, memory="1g", shuffle_partitions=2, log_level="ERROR",
            # tiny jobs: per-query overhead is what costs here. No adaptive re-planning, no code
            # generation (interpreted expressions), and a JIT that compiles little (C1 only)
            **{"spark.default.parallelism": "2", "spark.sql.adaptive.enabled": "false",
               "spark.sql.codegen.wholeStage": "false", "spark.sql.codegen.factoryMode": "NO_CODEGEN",
               "spark.driver.extraJavaOptions": "-XX:+UseSerialGC -XX:TieredStopAtLevel=1"},
        )
    except (RuntimeError, ImportError) as err:
        msg = f"SPARK TESTS SKIPPED: {err}"
        warnings.warn(msg)
        pytest.skip(msg)
    yield session
    session.stop()


def build3(spark, touchpoints, conversions=None, **kw):
    """Journeys from the three engines (warnings silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = Journeys.from_events(touchpoints, conversions, **kw)
        b = Journeys.from_events(touchpoints, conversions, engine="duckdb", **kw)
        c = Journeys.from_events(touchpoints, conversions, engine="spark", engine_options={"spark": spark}, **kw)
    return a, b, c


def assert_same3(a, b, c):
    assert_same_paths(a, c)
    assert_same_paths(b, c)


def leftovers(spark):
    """Temporary views the engine made, and whether any data is still persisted (cached or checkpointed)."""
    views = [r.tableName for r in spark.sql("SHOW TABLES").collect() if r.tableName.startswith("__attribution")]
    persisted = spark.sparkContext._jsc.getPersistentRDDs().size() > 0
    cached = not spark._jsparkSession.sharedState().cacheManager().isEmpty()
    return views, persisted or cached


@pytest.fixture(scope="module")
def sim():
    return simulate(300, random_state=7)


# --------------------------------------------------------------------------- simulator parity
@pytest.mark.parametrize("i", range(len(RULES)), ids=lambda i: ",".join(RULES[i]) or "defaults")
def test_simulator_paths_equal(spark, sim, i):
    stitch = i % 2 == 1  # identities on every other rule set: half the Spark runs
    a, b, c = build3(spark, sim.touchpoints, sim.conversions, identities=sim.identities if stitch else None, **RULES[i])
    assert_same3(a, b, c)
    assert c.total_conversions == len(sim.conversions)
    if stitch:
        pd.testing.assert_series_equal(a.id_map.sort_index(), c.id_map.sort_index())


def test_simulator_credits_equal(spark, sim):
    a, b, c = build3(spark, sim.touchpoints, sim.conversions, identities=sim.identities, lookback="14D")
    models = RULE_MODELS + ["markov", "markov:order=2", "markov:order=3", "shapley",
                            "shapley:method=conversion_rate", "shapley:method=ordered"]
    assert_same_credits(a, c, models)
    assert_same_credits(b, c, ["linear", "markov:order=2", "shapley"])


def test_engine_aggregates_equal_python(spark, sim):
    kw = dict(identities=sim.identities, collapse_repeats=True)
    a = Journeys.from_events(sim.touchpoints, sim.conversions, warn=False, **kw)
    with sp.aggregate_spark(sim.touchpoints, sim.conversions, spark=spark, age_resolution="1s", **kw) as agg, \
            ddb.aggregate_events(sim.touchpoints, sim.conversions, age_resolution="1s", **kw) as dagg:
        assert agg.spark is spark and agg.places == dagg.places
        codes, places = place_codes(a)
        for order, by_place in ((1, False), (2, True), (3, False)):
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
        sets, dsets = agg.channel_set_counts(), dagg.channel_set_counts()
        pd.testing.assert_frame_equal(sets[["mask", "place"]], dsets[["mask", "place"]], check_dtype=False)
        np.testing.assert_allclose(sets[["journeys", "conversions", "value"]].to_numpy(),
                                   dsets[["journeys", "conversions", "value"]].to_numpy(), rtol=1e-12)
        for spec in [m for m in RULE_MODELS if m != "position_based"] + ["time_decay:half_life=12h"]:
            model = get_model(spec).fit(a)
            got = agg.rule_credits(spec)
            assert list(got.index) == list(model.credits_.index), spec
            np.testing.assert_allclose(got.to_numpy(), model.credits_.to_numpy(), rtol=1e-9, atol=1e-9, err_msg=spec)
            if spec in ("last_non_direct", "time_decay:half_life=12h"):
                long = agg.rule_credits(get_model(spec), by_place=True)
                pd.testing.assert_frame_equal(long[["channel", "place"]], model.place_credits_[["channel", "place"]])
                np.testing.assert_allclose(long[["conversions", "value"]].to_numpy(),
                                           model.place_credits_[["conversions", "value"]].to_numpy(), atol=1e-9)
        # time decay on the engine's journeys: ages at one-second resolution are exact here
        j = agg.to_journeys()
        assert j.has_time
        assert_same_paths(dagg.to_journeys(), j)
        assert_same_credits(a, j, ["time_decay", "time_decay:half_life=2h"])
        with pytest.raises(ValueError, match="has no SQL weights"):
            agg.rule_credits("markov")
    with pytest.raises(ValueError, match="closed"):
        agg.to_journeys()
    assert leftovers(spark) == ([], False)


def test_ages_are_rounded_down_to_the_resolution(spark):
    tp = pd.DataFrame({"customer_id": ["u"] * 3, "channel": ["a", "b", "c"],
                       "timestamp": ["2026-01-01T00:00:00Z", "2026-01-01T05:59:59Z", "2026-01-01T09:00:00Z"]})
    cv = pd.DataFrame({"customer_id": ["u"], "timestamp": ["2026-01-01T10:00:00Z"]})
    j = Journeys.from_events(tp, cv, engine="spark", engine_options={"age_resolution": "1h", "spark": spark})
    ages = (j.conversion_time[0] - j.touch_time) // np.timedelta64(1, "h")
    assert ages.tolist() == [10, 4, 1]


# ------------------------------------------------------------------- public data (Kaggle)
@needs_kaggle
def test_kaggle_layout_frame_and_file(spark):
    ev = pd.read_csv(KAGGLE)
    a, b, c = build3(spark, ev, time="time")
    assert_same3(a, b, c)
    assert_same_credits(a, c, ["linear", "markov:order=2", "shapley"])
    kw = {"lookback": "3D", "collapse_repeats": True, "conversion_touch": False}
    a = Journeys.from_events(ev, time="time", warn=False, **kw)
    f = Journeys.from_events(str(KAGGLE), time="time", engine="spark", engine_options={"spark": spark}, warn=False, **kw)
    assert_same_paths(a, f)  # the gzipped CSV read by Spark (types inferred)


@needs_steps
def test_step_order_flag_column(spark):
    ev = pd.read_csv(STEPS)
    kw = dict(customer="User_ID_Anon", time="Timestamp", channel="Channel", conversion_flag="Conversion_Flag")
    a, b, c = build3(spark, ev, **kw)
    assert_same3(a, b, c)


# ------------------------------------------------------------- hypothesis: generated logs
def pooled(logs):
    """Several generated logs as one log under the first one's rules: each log's people (and
    identity links) get their own prefix, so their journeys stay apart. A Spark job costs
    about a second here whatever its size, so one build checks several logs."""
    tps, cvs, ids = [], [], []
    for i, (touches, convs, rules) in enumerate(logs):
        tps.append(touches.assign(customer_id=[f"{i}:{c}" for c in touches["customer_id"]]))
        cvs.append(convs.assign(customer_id=[f"{i}:{c}" for c in convs["customer_id"]]))
        if rules["identities"] is not None:
            ids.append(rules["identities"].map(lambda x, i=i: f"{i}:{x}"))
    rules = dict(logs[0][2], identities=pd.concat(ids, ignore_index=True) if ids else None)
    if not all("touch_type" in t.columns for t in tps):  # touch types only when every log has them
        tps = [t.drop(columns=["touch_type", "campaign"], errors="ignore") for t in tps]
        if isinstance(rules["lookback"], dict):
            rules["lookback"] = "30D"
        rules["level"] = "channel"

    def concat(frames):
        full = [f for f in frames if len(f)]
        return pd.concat(full, ignore_index=True) if full else frames[0]

    return concat(tps), concat(cvs), rules


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs=st.lists(event_logs(), min_size=1, max_size=5))
def test_generated_logs_paths_equal(spark, logs):
    touches, convs, rules = pooled(logs)
    a, b, c = build3(spark, touches, convs, **rules)
    assert_same3(a, b, c)
    assert c.total_conversions == len(convs)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs=st.lists(event_logs(), min_size=1, max_size=4))
def test_generated_logs_kaggle_layout_equal(spark, logs):
    touches, convs, rules = pooled(logs)
    rules.pop("identities")
    combined = pd.concat([
        touches.assign(interaction="impression", conversion_value=0.0),
        convs.drop(columns="place").rename(columns={"value": "conversion_value"})
        .assign(interaction="Conversion ", channel="a"),  # the flag text is stripped and lower-cased
    ], ignore_index=True).sample(frac=1.0, random_state=0).reset_index(drop=True)
    a, b, c = build3(spark, combined, **rules)
    assert_same3(a, b, c)


# ------------------------------------------------------------------------------- inputs
def test_ties_keep_input_order(spark):
    tp, cv = tied_log()
    a, b, c = build3(spark, tp, cv, lookback=None)
    assert_same3(a, b, c)
    assert "c > b > a > c" in c.to_paths()["path"].tolist()


def test_spark_frames_tables_and_session_settings(spark):
    tp, cv = tied_log()
    a = Journeys.from_events(tp, cv, warn=False)
    old_tz = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        stp, scv = spark.createDataFrame(tp), spark.createDataFrame(cv)  # 2 partitions each, strings
        assert stp.rdd.getNumPartitions() == 2
        b = sp.from_spark(stp, scv, warn=False)  # the DataFrames' own session
        assert_same_paths(a, b)  # naive strings read as UTC, ties in row order across partitions
        assert spark.conf.get("spark.sql.session.timeZone") == "America/New_York"
        # table / view names, and identities as a Spark DataFrame
        stp.createOrReplaceTempView("attribution_test_touches")
        ids = spark.createDataFrame(pd.DataFrame({"cookie": ["u2"], "card": ["u3"]}))
        c = Journeys.from_events("attribution_test_touches", scv, identities=ids, engine="spark", warn=False)
        d = Journeys.from_events(tp, cv, identities=ids.toPandas(), warn=False)
        assert_same_paths(d, c)
        assert leftovers(spark) == ([], False)
        with pytest.raises(JourneyValidationError):  # a failed build leaves nothing behind either
            sp.from_spark(stp, scv, channel="customer_id", sep="u")
        assert leftovers(spark) == ([], False)
        assert spark.conf.get("spark.sql.session.timeZone") == "America/New_York"
        with pytest.raises(ValueError, match="neither a file nor a table"):
            sp.from_spark("no_such_table", scv)
    finally:
        spark.conf.set("spark.sql.session.timeZone", old_tz)
        spark.catalog.dropTempView("attribution_test_touches")


def test_file_inputs_csv_parquet_glob(spark, tmp_path, sim):
    tp, cv = tied_log()
    a = Journeys.from_events(tp, cv, lookback=None, warn=False)
    tp.to_csv(tmp_path / "tp.csv", index=False)
    cv.to_csv(tmp_path / "cv.csv", index=False)
    for i, part in enumerate(np.array_split(np.arange(len(tp)), 2)):  # two files, in name order
        tp.iloc[part].to_parquet(tmp_path / f"tp-{i}.parquet", index=False)
    cv.to_parquet(tmp_path / "cv.parquet", index=False)
    (tmp_path / "tpdir").mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(tp)), 3)):  # a folder of part files
        tp.iloc[part].to_parquet(tmp_path / "tpdir" / f"part-{i}.parquet", index=False)
    (tmp_path / "tpdir" / "_SUCCESS").touch()
    for tsrc, csrc in [
        (tmp_path / "tp.csv", str(tmp_path / "cv.parquet")),  # CSV: naive time strings inferred as timestamps
        (str(tmp_path / "tp-*.parquet"), [tmp_path / "cv.csv"]),  # a glob: its files in name order
        (str(tmp_path / "tpdir"), tmp_path / "cv.parquet"),  # a folder of part files
    ]:
        b = sp.from_spark(tsrc, csrc, lookback=None, spark=spark, warn=False)
        assert_same_paths(a, b)
    # identities from a file; simulator data through Parquet
    sim.identities.to_csv(tmp_path / "ids.csv", index=False)
    sim.touchpoints.to_parquet(tmp_path / "stp.parquet", index=False)
    sim.conversions.to_csv(tmp_path / "scv.csv", index=False)
    a = Journeys.from_events(sim.touchpoints, sim.conversions, identities=sim.identities, warn=False)
    b = sp.from_spark(tmp_path / "stp.parquet", tmp_path / "scv.csv", identities=tmp_path / "ids.csv", spark=spark, warn=False)
    assert_same_paths(a, b)


def test_dispatch_and_options(spark):
    tp, cv = tied_log()
    with pytest.raises(ValueError, match=r"'engine' parameter .* one of \['pandas', 'duckdb', 'spark'\]"):
        Journeys.from_events(tp, cv, engine="flink")
    j = Journeys.from_events(tp, cv, warn=False)
    with sp.aggregate_spark(tp, cv) as agg:  # the active session
        assert agg.places == ["online", "store"]
        assert agg.to_paths().equals(j.to_paths())
        assert "spark" in repr(agg)
        with pytest.raises(ValueError, match="age_resolution"):  # built without ages
            agg.rule_credits("time_decay")


def test_no_session_no_java_no_pyspark(spark, monkeypatch):
    tp, cv = tied_log()
    from pyspark.sql import SparkSession

    with monkeypatch.context() as m:
        m.setattr(SparkSession, "getActiveSession", classmethod(lambda cls: None))
        with pytest.raises(ValueError, match=r"none is active.*local_session"):
            Journeys.from_events(tp, cv, engine="spark")
    with monkeypatch.context() as m:
        m.setattr(sp, "_java", lambda: (None, "no JAVA_HOME, no `java` on PATH"))
        with pytest.raises(RuntimeError, match=r"No Java runtime.*Java 17 or later.*apt-get install default-jre-headless"):
            sp.local_session()

    def no_gateway(self):
        raise RuntimeError("[JAVA_GATEWAY_EXITED] Java gateway process exited before sending its port number.")

    with monkeypatch.context() as m:
        m.setattr(SparkSession.Builder, "getOrCreate", no_gateway)
        with pytest.raises(RuntimeError, match=r"Spark could not start with the Java runtime .*JAVA_GATEWAY_EXITED.*Java 17"):
            sp.local_session()
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "pyspark", None)
        with pytest.raises(ImportError, match=r'pip install "attribution\[spark\]"'):
            Journeys.from_events(tp, cv, engine="spark")


# ------------------------------------------------------------------------------- errors
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
def test_bad_data_messages_match_pandas(spark, table, update, match):
    tp, cv = base_log()
    frame = tp if table == "tp" else cv
    for k, v in update.items():
        frame[k] = v
    for engine in ("pandas", "spark"):
        with pytest.raises(JourneyValidationError, match=match) as err:
            Journeys.from_events(tp, cv, engine=engine)
        assert "Example rows" in str(err.value)
    rows = str(err.value).split("Example rows:\n")[1].splitlines()
    assert rows[1].startswith("1 " if table == "tp" else "0 ")  # labelled by its row position


def test_other_errors(spark, tmp_path):
    tp, cv = base_log()
    with pytest.raises(JourneyValidationError, match=r"no column 'timestamp'.*Did you mean time='time'"):
        Journeys.from_events(tp, cv.rename(columns={"timestamp": "time"}), engine="spark")
    with pytest.raises(JourneyValidationError, match="customers with no touch"):
        Journeys.from_events(tp, cv.assign(customer_id="zz"), unknown_customers="raise", engine="spark")
    with pytest.raises(JourneyValidationError, match="none could be found in the touchpoints"):
        Journeys.from_events(tp, engine="spark")
    with pytest.raises(JourneyValidationError, match="missing conversion flags"):
        Journeys.from_events(tp.assign(conversion=[0.0, np.nan]), engine="spark")
    with pytest.raises(ValueError, match="'lookback_touches' parameter"):
        Journeys.from_events(tp, cv, engine="spark", lookback_touches=0)
    with pytest.raises(ValueError, match="'age_resolution' parameter"):
        Journeys.from_events(tp, cv, engine="spark", engine_options={"age_resolution": "soon"})
    with pytest.raises(FileNotFoundError, match="No file matches"):
        Journeys.from_events("no/such/file-*.parquet", cv, engine="spark")
    with pytest.raises(ValueError, match="Cannot tell the file format"):
        Journeys.from_events(__file__, cv, engine="spark")
    with pytest.raises(TypeError, match="must be a Spark DataFrame, a pandas DataFrame"):
        Journeys.from_events({"a": 1}, cv, engine="spark")
    with pytest.raises(ValueError, match="__row"):
        Journeys.from_events(tp.assign(__row=1), cv, engine="spark")
    with pytest.warns(UserWarning, match="not in the data"):
        Journeys.from_events(tp, cv, exclude="nope", engine="spark")
    assert leftovers(spark) == ([], False)


# ------------------------------------------------------------- touch types and the campaign level
def test_touch_types_windows_and_campaign_level_equal(spark):
    """Touch types, per-type windows, type-aware repeats and ``level="campaign"``: the three
    engines agree, and click-priority rule credits computed in Spark SQL equal the models'."""
    from test_touch_types import events

    tp, cv = events()
    a, b, c = build3(spark, tp, cv, lookback={"click": "30D", "impression": "1D"}, collapse_repeats=True)
    assert_same3(a, b, c)
    kw = dict(level="campaign", exclude="social", lookback={"default": "8D"})
    with sp.aggregate_spark(tp, cv, spark=spark, **kw) as agg:
        a = Journeys.from_events(tp, cv, warn=False, **kw)
        assert_same_paths(a, agg.to_journeys())
        for spec in ["last_touch:click_priority=True", "linear:click_priority=True"]:
            want = get_model(spec).fit(a).credits_
            np.testing.assert_allclose(agg.rule_credits(spec).to_numpy(), want.to_numpy(), atol=1e-12)
    assert leftovers(spark) == ([], False)
