"""Journeys: construction from path tables and event logs, rules, conservation, errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attribution import DataQualityWarning, ExcludedRowsWarning, Journeys, JourneyValidationError

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DATA_CSV = SHARED / "pathdata" / "Data.csv"
KAGGLE = SHARED / "events" / "kaggle_schema_events.csv.gz"
needs_data = pytest.mark.skipif(not DATA_CSV.exists(), reason="../shared/data/pathdata/Data.csv absent")
needs_kaggle = pytest.mark.skipif(not KAGGLE.exists(), reason="../shared/data/events absent")


def paths_of(j: Journeys) -> list[tuple[str, ...]]:
    return [tuple(j.channels[j.touch_channel[a:b]]) for a, b in zip(j.offsets[:-1], j.offsets[1:])]


# ----------------------------------------------------------------- path tables
@needs_data
def test_from_paths_data_csv_totals_and_round_trip():
    df = pd.read_csv(DATA_CSV, sep=";")
    j = Journeys.from_paths(df)
    assert j.n_journeys == 10_000
    assert j.n_channels == 12
    assert j.total_conversions == 19_785
    assert j.total_value == pytest.approx(74_802.97, abs=0.005)
    assert j.total_nulls == 68_602
    assert j.lengths.max() == 89
    assert all(c == c.strip() and c for c in j.channels)
    # row for row, the paths are the input paths with the spaces stripped
    raw = df["path"].str.split(">").map(lambda p: tuple(s.strip() for s in p)).tolist()
    assert paths_of(j) == raw
    # aggregated round trip: same totals, same multiset of (path, counts)
    back = Journeys.from_paths(j.to_paths())
    agg = df.assign(path=df["path"].map(lambda p: " > ".join(s.strip() for s in p.split(">"))))
    agg = agg.groupby("path", as_index=False).sum().sort_values("path").reset_index(drop=True)
    out = back.to_paths()
    assert out["path"].tolist() == agg["path"].tolist()
    np.testing.assert_allclose(out["total_conversions"], agg["total_conversions"])
    np.testing.assert_allclose(out["total_null"], agg["total_null"])
    np.testing.assert_allclose(out["total_conversion_value"], agg["total_conversion_value"], rtol=1e-12)


def test_from_paths_optional_columns_and_rules():
    df = pd.DataFrame({"path": ["a>a>b", " b > c ", "c"], "total_conversions": [1, 2, 0]})
    j = Journeys.from_paths(df)
    assert paths_of(j) == [("a", "a", "b"), ("b", "c"), ("c",)]
    assert j.total_value == 0 and j.total_nulls == 0
    with pytest.warns(ExcludedRowsWarning, match="2 by excluded_channels, 1 by collapsed_repeats, 1 by max_length"):
        j2 = Journeys.from_paths(df, collapse_repeats=True, exclude="c", max_length=1)
    assert paths_of(j2) == [("b",), ("b",), ()]
    assert list(j2.channels) == ["a", "b"]
    assert j2.exclusions["collapsed_repeats"] == 1
    assert j2.exclusions["excluded_channels"] == 2
    assert j2.exclusions["max_length"] == 1
    assert j2.total_conversions == 3  # rules never drop conversions


@pytest.mark.parametrize(
    "frame, match",
    [
        (pd.DataFrame({"paths": ["a"], "total_conversions": [1]}), r"no column 'path'.*Did you mean path='paths'"),
        (pd.DataFrame({"path": ["a > > b"], "total_conversions": [1]}), r"empty channel name"),
        (pd.DataFrame({"path;total_conversions": ["a;1"]}), r"looks ';'-separated: read it with pd.read_csv\(..., sep=';'\)"),
        (pd.DataFrame({"path": ["a"], "total_conversions": [-1]}), r"'total_conversions'.*non-negative"),
        (pd.DataFrame({"path": ["a"], "total_conversions": ["x"]}), r"'total_conversions'.*numeric"),
    ],
)
def test_from_paths_bad_input(frame, match):
    with pytest.raises(JourneyValidationError, match=match):
        Journeys.from_paths(frame)


def test_empty_paths_are_journeys_without_touches():
    df = pd.DataFrame({"path": ["a > b", None, "  "], "total_conversions": [1, 2, 3]})
    with pytest.warns(DataQualityWarning, match="2 row"):
        j = Journeys.from_paths(df)
    assert paths_of(j) == [("a", "b"), (), ()]
    assert j.total_conversions == 6
    assert j.to_paths()["path"].tolist() == ["", "a > b"]  # and back again


def test_error_shows_offending_rows():
    df = pd.DataFrame({"path": ["a", "b", "c"], "total_conversions": [1, -5, 2]})
    with pytest.raises(JourneyValidationError) as err:
        Journeys.from_paths(df)
    assert "-5" in str(err.value) and "fix" in str(err.value).lower()


# ----------------------------------------------------------------- event logs
def ts(s):
    return pd.Timestamp(s, tz="UTC")


def test_from_events_golden():
    touches = pd.DataFrame(
        {
            "customer_id": ["u1", "u1", "u1", "u1", "u2", "u3"],
            "timestamp": ["2026-01-01", "2026-01-05", "2026-01-10", "2026-01-20", "2026-01-02", "2026-01-03"],
            "channel": ["search", "email", "display", "social", "email", "video"],
        }
    )
    convs = pd.DataFrame(
        {
            "customer_id": ["u1", "u1", "u4"],
            "timestamp": ["2026-01-05", "2026-01-15", "2026-01-09"],  # first ties with the email touch
            "value": [10.0, 20.0, 5.0],
            "place": ["online", "store", "store"],
        }
    )
    j = Journeys.from_events(touches, convs)
    got = sorted(zip(j.customer, paths_of(j), j.conversions, j.value, j.place))
    assert got == sorted(
        [
            ("u1", ("search", "email"), 1.0, 10.0, "online"),  # tie counts as before
            ("u1", ("display",), 1.0, 20.0, "store"),
            ("u1", ("social",), 0.0, 0.0, None),  # after the last conversion
            ("u2", ("email",), 0.0, 0.0, None),
            ("u3", ("video",), 0.0, 0.0, None),
            ("u4", (), 1.0, 5.0, "store"),  # conversion without touches is kept
        ]
    )
    assert j.describe()["conversions without touches"] == 1.0
    assert j.places == ["online", "store"]


def test_lookback_time_and_touches_are_counted():
    touches = pd.DataFrame(
        {
            "customer_id": ["u"] * 4,
            "timestamp": ["2026-01-01", "2026-01-20", "2026-01-25", "2026-01-30"],
            "channel": ["a", "b", "c", "c"],
        }
    )
    convs = pd.DataFrame({"customer_id": ["u"], "timestamp": ["2026-02-01"], "value": [1.0]})
    with pytest.warns(ExcludedRowsWarning, match="1 by lookback"):
        j = Journeys.from_events(touches, convs, lookback="14D")
    assert paths_of(j) == [("b", "c", "c")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        j = Journeys.from_events(touches, convs, lookback=None, lookback_touches=2, collapse_repeats=True)
    assert paths_of(j) == [("c",)]
    d = j.describe()
    assert d["excluded touches: lookback_touches"] == 2
    assert d["excluded touches: collapsed_repeats"] == 1
    assert j.total_conversions == 1


def test_time_zones_are_converted_to_utc():
    touches = pd.DataFrame(
        {
            "customer_id": ["u", "u"],
            "timestamp": ["2026-01-01T10:00:00+02:00", "2026-01-01T09:30:00Z"],
            "channel": ["a", "b"],
        }
    )
    convs = pd.DataFrame({"customer_id": ["u"], "timestamp": ["2026-01-01T09:00:00"]})  # naive = UTC
    j = Journeys.from_events(touches, convs)
    # 10:00+02:00 is 08:00Z, before the 09:00Z conversion; 09:30Z is after it
    assert paths_of(j) == [("a",), ("b",)]
    assert j.conversions.tolist() == [1.0, 0.0]


def test_identities_merge_ids_into_one_person():
    touches = pd.DataFrame(
        {
            "customer_id": ["cookie1", "cookie2", "cookie9"],
            "timestamp": ["2026-01-01", "2026-01-02", "2026-01-02"],
            "channel": ["display", "search", "email"],
        }
    )
    convs = pd.DataFrame({"customer_id": ["card7"], "timestamp": ["2026-01-03"], "place": ["store"]})
    alone = Journeys.from_events(touches, convs)
    assert alone.conversions[[len(p) == 0 for p in paths_of(alone)]].sum() == 1
    ids = pd.DataFrame({"cookie": ["cookie1", "cookie2"], "card": ["card7", "card7"]})
    j = Journeys.from_events(touches, convs, identities=ids)
    conv = j.conversions == 1
    assert [paths_of(j)[i] for i in np.flatnonzero(conv)] == [("display", "search")]
    assert j.customer[conv][0] == "card7"  # the person is named by their smallest id
    assert j.person_of(["cookie1", "cookie2", "card7", "cookie9", "never_seen"]).tolist() == [
        "card7", "card7", "card7", "cookie9", "never_seen"]


@needs_kaggle
def test_kaggle_layout_conserves_conversions():
    ev = pd.read_csv(KAGGLE)
    j = Journeys.from_events(ev, time="time")
    conv = ev["interaction"] == "conversion"
    assert j.total_conversions == conv.sum()
    assert j.total_value == pytest.approx(ev.loc[conv, "conversion_value"].sum(), rel=1e-12)
    # every touch row and every conversion row's channel is a touch (no lookback exclusions in July)
    assert j.n_touches + sum(j.exclusions.values()) == len(ev)


@pytest.mark.parametrize(
    "touch_update, match",
    [
        ({"channel": ["a", None]}, r"'channel' of touchpoints has 1 missing"),
        ({"channel": ["a", "  "]}, r"'channel' of touchpoints has 1 missing or empty"),
        ({"timestamp": ["2026-01-01", "not a time"]}, r"'timestamp' of touchpoints.*unparseable"),
        ({"timestamp": ["2026-01-01", None]}, r"'timestamp' of touchpoints.*missing"),
        ({"channel": ["a", "b>c"]}, r"path separator '>'"),
    ],
)
def test_from_events_bad_touches(touch_update, match):
    touches = pd.DataFrame({"customer_id": ["u", "u"], "timestamp": ["2026-01-01", "2026-01-02"], "channel": ["a", "b"]})
    for k, v in touch_update.items():
        touches[k] = v
    convs = pd.DataFrame({"customer_id": ["u"], "timestamp": ["2026-01-03"]})
    with pytest.raises(JourneyValidationError, match=match):
        Journeys.from_events(touches, convs)


def test_from_events_bad_conversions():
    touches = pd.DataFrame({"customer_id": ["u"], "timestamp": ["2026-01-01"], "channel": ["a"]})
    with pytest.raises(JourneyValidationError, match=r"no column 'timestamp'.*Did you mean time='time'"):
        Journeys.from_events(touches, pd.DataFrame({"customer_id": ["u"], "time": ["2026-01-02"]}))
    with pytest.raises(JourneyValidationError, match=r"'value' of conversions must hold non-negative"):
        Journeys.from_events(touches, pd.DataFrame({"customer_id": ["u"], "timestamp": ["2026-01-02"], "value": [-3]}))
    with pytest.raises(JourneyValidationError, match=r"customers with no touch"):
        Journeys.from_events(
            touches, pd.DataFrame({"customer_id": ["zz"], "timestamp": ["2026-01-02"]}), unknown_customers="raise"
        )
    with pytest.raises(ValueError, match=r"'lookback' parameter .* positive duration"):
        Journeys.from_events(touches, pd.DataFrame({"customer_id": ["u"], "timestamp": ["2026-01-02"]}), lookback="-3D")


# ------------------------------------------------------- hypothesis: conservation
CHANNELS = ["a", "b", "c", "d"]


@st.composite
def event_logs(draw):
    n_people = draw(st.integers(1, 6))
    people = [f"p{i}" for i in range(n_people)]
    n_t = draw(st.integers(0, 30))
    n_c = draw(st.integers(0, 10))
    day = st.integers(0, 40)  # coarse days: many ties
    touches = pd.DataFrame(
        {
            "customer_id": draw(st.lists(st.sampled_from(people), min_size=n_t, max_size=n_t)),
            "timestamp": [pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(days=d) for d in draw(st.lists(day, min_size=n_t, max_size=n_t))],
            "channel": draw(st.lists(st.sampled_from(CHANNELS), min_size=n_t, max_size=n_t)),
        }
    )
    conv_people = people + ["walkin"]  # a customer without touches
    convs = pd.DataFrame(
        {
            "customer_id": draw(st.lists(st.sampled_from(conv_people), min_size=n_c, max_size=n_c)),
            "timestamp": [pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(days=d) for d in draw(st.lists(day, min_size=n_c, max_size=n_c))],
            "value": draw(st.lists(st.floats(0, 100, allow_nan=False), min_size=n_c, max_size=n_c)),
            "place": draw(st.lists(st.sampled_from(["online", "store"]), min_size=n_c, max_size=n_c)),
        }
    )
    links = draw(st.lists(st.tuples(st.sampled_from(people), st.sampled_from(conv_people)), max_size=3))
    identities = pd.DataFrame(links, columns=["a", "b"]) if links else None
    lookback = draw(st.sampled_from([None, "10D"]))
    return touches, convs, identities, lookback


def reference_journeys(touches, convs, identities, lookback):
    """A slow, obvious implementation of the journey rules, for comparison."""
    parent = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    if identities is not None:
        for a, b in identities.itertuples(index=False):
            ra, rb = find(a), find(b)
            parent[max(ra, rb)] = min(ra, rb)
    tl = sorted(((find(r.customer_id), r.timestamp, i, r.channel) for i, r in enumerate(touches.itertuples())))
    # conversions at the same time keep their input order
    cl = [c[:2] + c[3:] for c in sorted((find(r.customer_id), r.timestamp, i, r.value, r.place) for i, r in enumerate(convs.itertuples()))]
    out, used = [], set()
    lb = None if lookback is None else pd.Timedelta(lookback)
    for person, t, value, place in cl:
        path = []
        for k, (p, tt, i, ch) in enumerate(tl):
            if p == person and tt <= t and k not in used:
                used.add(k)
                if lb is None or t - tt <= lb:
                    path.append(ch)
        out.append((person, tuple(path), 1.0, round(value, 9), place))
    rest = {}
    for k, (p, tt, i, ch) in enumerate(tl):
        if k not in used:
            rest.setdefault(p, []).append((tt, ch))
    for p, items in rest.items():
        end = max(tt for tt, _ in items)
        out.append((p, tuple(ch for tt, ch in items if lb is None or end - tt <= lb), 0.0, 0.0, None))
    return sorted(out, key=repr)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_logs())
def test_from_events_matches_reference_and_conserves(log):
    touches, convs, identities, lookback = log
    # unsorted input
    touches = touches.sample(frac=1.0, random_state=1).reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExcludedRowsWarning)
        j = Journeys.from_events(touches, convs, identities=identities, lookback=lookback)
    # every conversion lands in exactly one journey, with its value
    assert j.total_conversions == len(convs)
    assert j.total_value == pytest.approx(convs["value"].sum(), rel=1e-12, abs=1e-12)
    assert set(np.unique(j.conversions)) <= {0.0, 1.0}
    assert (j.conversions + j.nulls == 1).all()
    # every touch is in a journey or counted as excluded
    assert j.n_touches + j.exclusions["lookback"] == len(touches)
    # touches precede their conversion; the journey content equals the slow reference
    conv = j.conversions == 1
    assert (j.touch_time <= j.conversion_time[j.journey_index])[conv[j.journey_index]].all()
    got = sorted(
        ((c, p, float(v), round(float(x), 9), pl) for c, p, v, x, pl in zip(j.customer, paths_of(j), j.conversions, j.value, j.place)),
        key=repr,
    )
    assert got == reference_journeys(touches, convs, identities, lookback)


def test_take_and_transform_keep_counts():
    j = Journeys.from_paths(pd.DataFrame({"path": ["a>b", "b>b>c", "c"], "total_conversions": [1, 2, 3], "total_null": [4, 5, 6]}))
    t = j.take([2, 0, 0])
    assert paths_of(t) == [("c",), ("a", "b"), ("a", "b")]
    assert t.conversions.tolist() == [3, 1, 1]
    assert t.nulls.tolist() == [6, 4, 4]


def test_person_time_keys_both_branches_sort_alike():
    from attribution.journeys import _person_time_keys

    rng = np.random.default_rng(0)
    base = np.datetime64("2026-01-01", "ns")
    for resolution, n_people in [(10**9, 50), (1, 5_000)]:  # seconds: compact codes; ns: dense ranks
        t = base + (rng.integers(0, 60 * 86400, 2000) * resolution).astype("timedelta64[ns]")
        c = base + (rng.integers(0, 60 * 86400, 300) * resolution).astype("timedelta64[ns]")
        pt, pc = rng.integers(0, n_people, 2000), rng.integers(0, n_people, 300)
        kt, kc, R = _person_time_keys(pt, t, pc, c)
        k = np.concatenate([kt, kc])
        ref = np.lexsort((np.concatenate([t, c]).view(np.int64), np.concatenate([pt, pc])))
        assert (np.diff(k[ref]) >= 0).all()  # the key order is the (person, time) order
        assert (k % R < R - 1).all()


def test_simulator_output_conserves_conversions_and_stitching_adds_history():
    from attribution.datasets import simulate

    sim = simulate(1500, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExcludedRowsWarning)
        plain = Journeys.from_events(sim.touchpoints, sim.conversions)
        stitched = Journeys.from_events(sim.touchpoints, sim.conversions, identities=sim.identities)
    for j in (plain, stitched):
        assert j.total_conversions == len(sim.conversions)
        assert j.total_value == pytest.approx(sim.conversions["value"].sum(), rel=1e-12)
        for place in ("online", "store"):
            assert j.conversions[j.place == place].sum() == (sim.conversions["place"] == place).sum()
        assert j.n_touches + sum(j.exclusions.values()) == len(sim.touchpoints)
    # with identities, store purchases (recorded under loyalty cards) gain their online history
    def store_with_touches(j):
        return int(((j.place == "store") & (j.lengths > 0)).sum())

    assert store_with_touches(stitched) > store_with_touches(plain)


SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


@pytest.mark.skipif(not (SAMPLES / "paths.csv").exists(), reason="data/samples absent")
def test_sample_path_table_equals_event_journeys():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_paths = Journeys.from_paths(pd.read_csv(SAMPLES / "paths.csv"))
        tp = pd.read_csv(SAMPLES / "touchpoints.csv")
        cv = pd.read_csv(SAMPLES / "conversions.csv")
        ids = pd.read_csv(SAMPLES / "identities.csv")
        from_events = Journeys.from_events(tp, cv, identities=ids)
    assert from_paths.total_conversions == from_events.total_conversions == len(cv)
    assert from_paths.total_nulls == from_events.total_nulls
    pd.testing.assert_frame_equal(from_paths.to_paths(), from_events.to_paths(), rtol=1e-9)
