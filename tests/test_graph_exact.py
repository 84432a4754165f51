"""The vectorised transition counts against a plain-Python reference, and the Markov results on
Data.csv against golden values computed before the speed rewrite (issue 18)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import journeys as journeys_strategy

from attribution import Journeys, Markov
from attribution.graph import CONVERSION, NULL, START, state_sequence, transition_counts

DATA_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pathdata" / "Data.csv"
needs_data = pytest.mark.skipif(not DATA_CSV.exists(), reason="../shared/data/pathdata/Data.csv absent")
GOLDEN = Path(__file__).resolve().parent / "golden" / "markov_datacsv.json"


def reference_counts(j: Journeys, order: int, outcome=None):
    """Edges ``{(from, to): count}`` and outcome counts by walking every journey in Python."""
    names = j.channels.tolist()
    edges: dict = defaultdict(float)
    out_conv: dict = defaultdict(float)
    for r in range(j.n_journeys):
        path = [names[c] for c in j.touch_channel[j.offsets[r]:j.offsets[r + 1]]]
        w = j.conversions[r] + j.nulls[r]
        if order == 1:
            states = path
        elif len(path) < order:
            states = [tuple(path)] if path else []
        else:
            states = [tuple(path[i - order + 1:i + 1]) for i in range(order - 1, len(path))]
        prev = START
        for s in states:
            edges[prev, s] += w
            prev = s
        edges[prev, CONVERSION] += j.conversions[r]
        edges[prev, NULL] += j.nulls[r]
        out_conv[prev, 0 if outcome is None else int(outcome[r])] += j.conversions[r]
    return {k: v for k, v in edges.items() if v > 0}, {k: v for k, v in out_conv.items() if v > 0}


def as_dict(tc):
    labels = tc.labels
    return {(labels[s], labels[d]): c for s, d, c in zip(tc.src.tolist(), tc.dst.tolist(), tc.count.tolist())}


def outcome_dict(tc):
    labels = tc.labels
    r, p = np.nonzero(tc.outcome_count)
    return {(labels[i], int(q)): tc.outcome_count[i, q] for i, q in zip(r.tolist(), p.tolist())}


def check(j, order, outcome=None):
    tc = transition_counts(j, order, outcome=outcome)
    edges, out_conv = reference_counts(j, order, outcome)
    got = as_dict(tc)
    assert got.keys() == edges.keys()
    for k, v in edges.items():
        assert got[k] == pytest.approx(v, rel=1e-12, abs=1e-12), k
    got_out = outcome_dict(tc)
    assert got_out.keys() == out_conv.keys()
    for k, v in out_conv.items():
        assert got_out[k] == pytest.approx(v, rel=1e-12, abs=1e-12)
    # edges come sorted by (from, to) node number, every node's state listed once
    key = tc.src * tc.n_nodes + tc.dst
    assert np.all(np.diff(key) > 0)
    assert len(set(map(str, tc.states))) == tc.n_states
    # state_sequence agrees with the states the edges walk through
    keys, jid = state_sequence(j, order)
    assert len(keys) == len(jid) and np.all(np.diff(jid) >= 0)


@settings(max_examples=60, deadline=None)
@given(j=journeys_strategy(max_journeys=10, max_length=7), order=st.integers(1, 4), data=st.data())
def test_transition_counts_match_reference(j, order, data):
    outcome = np.asarray(data.draw(st.lists(st.integers(0, 2), min_size=j.n_journeys, max_size=j.n_journeys)),
                         dtype=np.int64)
    check(j, order)
    check(j, order, outcome)


@pytest.mark.parametrize("block, dense_max", [(5, 1 << 22), (1 << 20, 30), (7, 30)])
@settings(max_examples=25, deadline=None)
@given(j=journeys_strategy(max_journeys=12, max_length=7), order=st.integers(1, 3))
def test_blocks_and_hashed_keys_match_reference(block, dense_max, j, order):
    """Small blocks (many block boundaries) and hashed state / edge keys give the same counts."""
    import attribution.graph as g

    saved = g.BLOCK_TOUCHES, g.DENSE_MAX
    g.BLOCK_TOUCHES, g.DENSE_MAX = block, dense_max
    try:
        check(j, order)
    finally:
        g.BLOCK_TOUCHES, g.DENSE_MAX = saved


@needs_data
@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_data_csv_counts_match_reference(order):
    check(Journeys.from_paths(pd.read_csv(DATA_CSV, sep=";")), order)


@needs_data
def test_data_csv_markov_matches_golden_values():
    """Removal effects, credits and P(conversion) unchanged to 1e-12 at orders 1-4 (golden values
    written by the code of the commit named in the file, before the rewrite; measured differences
    are below 1e-15)."""
    gold = json.loads(GOLDEN.read_text())
    j = Journeys.from_paths(pd.read_csv(DATA_CSV, sep=";"))
    assert j.channels.tolist() == gold["channels"]
    for k, g in gold["orders"].items():
        m = Markov(order=int(k)).fit(j)
        assert m._tc.n_states == g["n_states"] and len(m._tc.src) == g["n_edges"]
        # removal effects lie in [0, 1]: to 1e-12 absolute; credits to 1e-12 of the totals they
        # split (small chains are now solved by dense LU instead of sparse LU: ~1e-16 apart)
        np.testing.assert_allclose(m.removal_effects_["conversions"], g["removal_conversions"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(m.removal_effects_["value"], g["removal_value"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(m.credits_["conversions"], g["credit_conversions"], rtol=0,
                                   atol=1e-12 * j.total_conversions)
        np.testing.assert_allclose(m.credits_["value"], g["credit_value"], rtol=0, atol=1e-12 * j.total_value)
        assert m.conversion_probability_ == pytest.approx(g["conversion_probability"], rel=1e-12)
        assert m.expected_value_ == pytest.approx(g["expected_value"], rel=1e-12)
