"""Order-k states, transition counts and the networkx channel-path graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attribution import Journeys
from attribution.graph import CONVERSION, NULL, START

DATA_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pathdata" / "Data.csv"
needs_data = pytest.mark.skipif(not DATA_CSV.exists(), reason="../shared/data/pathdata/Data.csv absent")

TOY = pd.DataFrame({"path": ["a > b > c", "a", "b > b"], "total_conversions": [1, 0, 2], "total_null": [1, 3, 0]})


def test_order1_counts_by_hand():
    g = Journeys.from_paths(TOY).graph(order=1)
    assert set(g.nodes) == {START, "a", "b", "c", CONVERSION, NULL}
    e = {(u, v): d["count"] for u, v, d in g.edges(data=True)}
    # a>b>c weighs 2 (1 conv + 1 null), a weighs 3, b>b weighs 2
    assert e == {
        (START, "a"): 5, (START, "b"): 2, ("a", "b"): 2, ("b", "c"): 2, ("b", "b"): 2,
        ("a", NULL): 3, ("c", CONVERSION): 1, ("c", NULL): 1, ("b", CONVERSION): 2,
    }
    assert g.edges[START, "a"]["probability"] == pytest.approx(5 / 7)
    assert g.edges["b", "b"]["probability"] == pytest.approx(2 / 6)  # b -> c, b, conversion: 2 each


def test_order2_states_are_windows():
    g = Journeys.from_paths(TOY).graph(order=2)
    # a>b>c walks (a,b) -> (b,c); a 1-touch path is one short state; b>b is the state (b,b)
    assert set(g.nodes) == {START, ("a", "b"), ("b", "c"), ("a",), ("b", "b"), CONVERSION, NULL}
    assert g.edges[("a", "b"), ("b", "c")]["count"] == 2
    assert g.edges[("a",), NULL]["count"] == 3


def test_transition_matrix_rows_sum_to_one():
    m = Journeys.from_paths(TOY).transition_matrix(order=1)
    np.testing.assert_allclose(m.sum(axis=1), 1.0)
    assert m.loc[CONVERSION, CONVERSION] == 1.0 and m.loc[START, "a"] == pytest.approx(5 / 7)


@needs_data
@pytest.mark.parametrize("order", [1, 2])
def test_data_csv_graph(order):
    j = Journeys.from_paths(pd.read_csv(DATA_CSV, sep=";"))
    g = j.graph(order=order)
    channels = set(j.channels)
    states = [n for n in g.nodes if n not in (START, CONVERSION, NULL)]
    if order == 1:
        assert set(states) == channels
    else:
        assert all(isinstance(s, tuple) and 1 <= len(s) <= 2 and set(s) <= channels for s in states)
        # every observed window of two consecutive touches is a state
        windows = {tuple(s.strip() for s in p.split(">"))[i : i + 2] for p in j.to_paths()["path"] for i in range(max(1, len(p.split(">")) - 1))}
        assert set(states) == windows
    for node in g.nodes:
        out = sum(d["probability"] for _, _, d in g.out_edges(node, data=True))
        if node in (CONVERSION, NULL):
            assert g.out_degree(node) == 0
        else:
            assert out == pytest.approx(1.0, abs=1e-12)
    # weighted flow out of start = all journeys; into the absorbing states = conversions, nulls
    assert sum(d["count"] for _, _, d in g.out_edges(START, data=True)) == pytest.approx(88_387)
    assert sum(d["count"] for _, _, d in g.in_edges(CONVERSION, data=True)) == pytest.approx(19_785)
    assert sum(d["count"] for _, _, d in g.in_edges(NULL, data=True)) == pytest.approx(68_602)


def test_bad_order():
    with pytest.raises(ValueError, match="'order' parameter must be a positive integer"):
        Journeys.from_paths(TOY).graph(order=0)
