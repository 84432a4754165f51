"""from_wide and Fractribution's path transforms: golden paths computed by hand (the examples of
Google's path_transforms.sql), counts conserved, removed touches counted."""

from __future__ import annotations

import pandas as pd
import pytest

from attribution import Journeys
from attribution.exceptions import JourneyValidationError
from attribution.shapes import from_wide, path_transform

D8 = "D > A > B > B > C > D > C > C"


def _paths(j):
    return j.to_paths(aggregate=False)["path"].tolist()


def _j(*paths):
    return Journeys.from_paths(pd.DataFrame({"path": list(paths), "total_conversions": [1] * len(paths),
                                             "total_conversion_value": [2.0] * len(paths)}))


@pytest.mark.parametrize("how, want", [
    ("unique", "D > A > B > B > C > D > C > C"),
    ("exposure", "D > A > B > C > D > C"),
    ("first", "D > A > B > C"),
    ("frequency", "D(2) > A(1) > B(2) > C(3)"),
])
def test_fractribution_examples(how, want):
    out = path_transform(_j(D8, "A > A"), how)
    assert _paths(out)[0] == want
    assert out.total_conversions == 2 and out.total_value == 4.0
    removed = 8 + 2 - out.n_touches
    assert out.exclusions.get("path_transform", 0) == removed


def test_frequency_second_path_and_channels():
    out = path_transform(_j(D8, "A > A", "C"), "frequency")
    assert _paths(out) == ["D(2) > A(1) > B(2) > C(3)", "A(2)", "C(1)"]
    assert list(out.channels) == sorted(["A(1)", "A(2)", "B(2)", "C(1)", "C(3)", "D(2)"])


def test_remove_transforms():
    j = _j("D > A > D > B > D > D", "D > D", "A > B", "D")
    assert _paths(path_transform(j, "remove_if_not_all", channels="D")) == ["A > B", "D > D", "A > B", "D"]
    assert _paths(path_transform(j, "remove_if_last_and_not_all", channels="D")) == [
        "D > A > D > B", "D > D", "A > B", "D"]
    # several in order: collapse repeats first, then drop trailing D
    assert _paths(path_transform(j, ["exposure", "remove_if_last_and_not_all"], channels=["D"])) == [
        "D > A > D > B", "D", "A > B", "D"]
    with pytest.raises(ValueError, match="channels="):
        path_transform(j, "remove_if_not_all")
    with pytest.raises(ValueError, match="one of"):
        path_transform(j, "shuffle")


def test_from_wide_prefix_blanks_counts():
    wide = pd.DataFrame({
        "channel_10": [None, None, "x"],
        "channel_1": ["email", " ", "search"],
        "channel_2": ["search", None, ""],
        "channel_3": [None, None, "email"],
        "orders": [2, 1, 0], "revenue": [30.0, 5.0, 0.0], "lost": [1, 0, 4], "other": [9, 9, 9],
    })
    j = from_wide(wide, prefix="channel_", conversions="orders", value="revenue", nulls="lost")
    assert _paths(j) == ["email > search", "", "search > email > x"]  # channel_10 last
    assert (j.total_conversions, j.total_value, j.total_nulls) == (3.0, 35.0, 5.0)
    conv_only = from_wide(wide, columns=["channel_1", "channel_2"])
    assert conv_only.conversions.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="exactly one"):
        from_wide(wide)
    with pytest.raises(JourneyValidationError, match="prefix"):
        from_wide(wide, prefix="touch_")
    with pytest.raises(JourneyValidationError, match="non-negative"):
        from_wide(wide.assign(orders=[1, -1, 0]), prefix="channel_", conversions="orders")


def test_journeys_methods_delegate():
    wide = pd.DataFrame({"c1": ["a", "b"], "c2": ["b", None], "n": [1, 2]})
    j = Journeys.from_wide(wide, ["c1", "c2"], conversions="n")
    assert _paths(j) == ["a > b", "b"] and j.total_conversions == 3
    t = _j("direct > a > direct").transform(path_transform="remove_if_last_and_not_all", path_channels="direct",
                                            max_length=1)
    assert _paths(t) == ["a"]
    assert t.describe()["excluded touches: path_transform"] == 1


def test_from_events_conversion_events_missing_channel_and_files(tmp_path):
    events = pd.DataFrame({
        "user": ["1", "1", "1", "2", "2", "01"],
        "ts": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-01", "2026-01-05", "2026-01-01"]),
        "event_name": ["page_view", "page_view", "purchase", "page_view", "purchase", "page_view"],
        "channel": ["email", None, None, "search", None, "social"],
        "value": [0.0, 0.0, 20.0, 0.0, 5.0, 0.0],
    })
    with pytest.warns(Warning, match="missing_channel"):
        j = Journeys.from_events(events, customer="user", time="ts", conversion_events=["purchase"],
                                 drop_missing_channel=True)
    assert (j.total_conversions, j.total_value) == (2.0, 25.0)
    assert j.describe()["excluded touches: missing_channel"] == 1
    assert sorted(_paths(j)) == ["email", "search", "social"]
    with pytest.raises(JourneyValidationError):
        Journeys.from_events(events, customer="user", time="ts", conversion_events="purchase", warn=False)
    # file paths with the pandas engine; ids stay text ("01" is not "1")
    events.to_csv(tmp_path / "events.csv", index=False)
    jf = Journeys.from_events(tmp_path / "events.csv", customer="user", time="ts", conversion_events="purchase",
                              drop_missing_channel=True, warn=False)
    assert jf.n_journeys == j.n_journeys and set(jf.customer) == {"1", "2", "01"}
    with pytest.raises(ValueError, match="engine='pandas' only"):
        Journeys.from_events(events, customer="user", time="ts", conversion_events="purchase", engine="duckdb")
