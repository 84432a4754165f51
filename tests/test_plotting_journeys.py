"""Journey pictures: every plot is rendered (Agg) and checked for what it must show."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Rectangle  # noqa: E402
from strategies import journeys as journeys_strategy  # noqa: E402
from test_kpis import STAGES, hand_made  # noqa: E402

from attribution import Journeys  # noqa: E402
from attribution.journey_kpis import kpis  # noqa: E402
from attribution.plotting.journeys import (  # noqa: E402
    channel_colors,
    plot_flows,
    plot_graph,
    plot_transition_heatmap,
)

NAMES = ["paid_search_generic", "paid_search_brand", "display_prospecting", "display_retargeting", "social_paid",
         "social_organic", "email_newsletter", "email_crm", "affiliate", "video", "tv", "radio", "direct",
         "referral", "store_visit", "catalogue", "podcast", "sms", "push", "partner"]


def many_channels(C: int, seed: int = 0, J: int = 600) -> Journeys:
    """A random journey set with C channels (names up to 19 characters) and places."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 8, J)
    tc = rng.choice(C, int(lengths.sum()), p=rng.dirichlet(np.ones(C))).astype(np.int32)
    conv = (rng.random(J) < 0.3).astype(float)
    place = np.where(conv > 0, rng.choice(["online", "store"], J), None).astype(object)
    return Journeys(NAMES[:C], tc, np.r_[0, np.cumsum(lengths)], conv, 1 - conv, 40 * conv, place=place)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _render(ax, tmp_path, name):
    """Draw and save the figure (as a user would), and check the title says what is shown."""
    ax.figure.savefig(tmp_path / f"{name}.png", dpi=30)
    assert ax.get_title(), f"{name}: no title"
    return ax


# ------------------------------------------------------------------------ KPI charts
def test_every_plot_renders(tmp_path):
    """Every picture drawn and saved: the report charts on the hand-made journeys, the graph, flows
    and heatmap with 20 channels (the legibility case; all of them were looked at by eye at 12-20
    channels, see the module's history)."""
    r = kpis(hand_made(), stages=STAGES)
    calls = {
        "channels": r.plot_channels, "positions": r.plot_positions, "lengths": r.plot_lengths,
        "top_paths": r.plot_top_paths, "drop_off": r.plot_drop_off, "drop_off_steps": r.plot_drop_off_steps,
        "funnel": r.plot_funnel,
    }
    j20 = many_channels(20)
    calls.update(graph=lambda: plot_graph(j20), flows=lambda: plot_flows(j20),
                 heatmap=lambda: plot_transition_heatmap(j20))
    for name, call in calls.items():
        ax = _render(call(), tmp_path, name)
        assert isinstance(ax, matplotlib.axes.Axes)
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
        plt.close("all")


@pytest.mark.parametrize("C", [12, 20])
def test_channel_charts_label_every_channel(C):
    j = many_channels(C)
    r = kpis(j)
    for ax in (r.plot_channels(), r.plot_channels("conversion_rate"), r.plot_positions(), r.plot_drop_off()):
        labels = {t.get_text() for t in ax.get_yticklabels()}
        assert set(j.channels) <= labels and len(ax.get_yticklabels()) <= C + 1
        assert ax.get_xlabel()
    assert r.plot_channels().get_xlabel() == "journeys (weighted count)"


def test_plot_channels_values_and_errors():
    r = kpis(hand_made())
    ax = r.plot_channels("touches")
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    # sorted ascending from the bottom: a (2) and c (2), then b (4)
    assert sorted(b.get_width() for b in bars) == [2, 2, 4]
    with pytest.raises(ValueError, match="choose from"):
        r.plot_channels("nope")


def test_reach_without_customers_says_so():
    import pandas as pd

    r = kpis(Journeys.from_paths(pd.DataFrame({"path": ["a > b"], "total_conversions": [1], "total_null": [1]})))
    ax = r.plot_channels("reach")
    assert any("no customer ids" in t.get_text() for t in ax.texts)


def test_positions_stack_to_one():
    r = kpis(hand_made())
    ax = r.plot_positions()
    widths = {}
    for p in ax.patches:
        y = round(p.get_y() + p.get_height() / 2)
        widths[y] = widths.get(y, 0) + p.get_width()
    np.testing.assert_allclose(list(widths.values()), 1.0)


def test_ax_is_used_not_created():
    r = kpis(hand_made(), stages=STAGES)
    fig, axes = plt.subplots(2, 3)
    n_figs = len(plt.get_fignums())
    for ax, call in zip(axes.flat, [r.plot_lengths, r.plot_funnel, r.plot_drop_off, r.plot_graph,
                                    r.plot_flows, r.plot_transition_heatmap]):
        assert call(ax=ax) is ax
    assert len(plt.get_fignums()) == n_figs


def test_funnel_bars_are_reached_counts():
    r = kpis(hand_made(), stages=STAGES)
    ax = r.plot_funnel()
    np.testing.assert_allclose([p.get_width() for p in ax.patches], [4, 4, 2])


def test_lengths_bars_split_converting_and_not():
    r = kpis(hand_made())
    ax = r.plot_lengths()
    heights = [p.get_height() for p in ax.patches]
    # non-converting by length 0..3 = 0, 1, 1, 0; converting = 1, 0, 1, 1
    assert heights == [0, 1, 1, 0, 1, 0, 1, 1]


# ------------------------------------------------------------------------ graph
def test_graph_edges_follow_min_probability(tmp_path):
    j = hand_made()
    g = j.graph()
    ax = _render(plot_graph(j, min_probability=0), tmp_path, "graph_all")
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == sum(1 for u, v in g.edges if u != v)  # self-loops are not drawn
    texts = {t.get_text() for t in ax.texts}
    # b -> b (J0) is 1 of b's 4 moves: written into b's label, not drawn
    assert {"(start)", "(conversion)", "(null)", "a", "b ↻25%", "c"} <= texts
    ax = plot_graph(j, min_probability=0.5)
    strong = sum(1 for u, v, d in g.edges(data=True) if u != v and d["probability"] >= 0.5)
    assert len([p for p in ax.patches if isinstance(p, FancyArrowPatch)]) == strong
    with pytest.raises(ValueError, match="min_probability"):
        plot_graph(j, min_probability=2)


def test_graph_places_start_left_and_absorbing_right():
    ax = plot_graph(many_channels(12))
    pos = {t.get_text().split(" ↻")[0]: t.get_position() for t in ax.texts}
    xs = [x for name, (x, _) in pos.items() if name not in ("(start)", "(conversion)", "(null)")]
    assert pos["(start)"][0] < min(xs) and pos["(conversion)"][0] > max(xs) and pos["(null)"][0] > max(xs)
    assert pos["(conversion)"][1] > pos["(null)"][1]


@pytest.mark.parametrize("C", [12, 20])
def test_graph_labels_every_channel(C):
    ax = plot_graph(many_channels(C))
    assert {t.get_text().split(" ↻")[0] for t in ax.texts} >= set(NAMES[:C])


def test_graph_order2_keeps_top_states():
    ax = plot_graph(many_channels(12), order=2, max_states=15)
    assert "top 15 of" in ax.get_title()


# ------------------------------------------------------------------------ heatmap
def test_heatmap_shows_the_transition_matrix(tmp_path):
    j = hand_made()
    ax = _render(plot_transition_heatmap(j), tmp_path, "heatmap")
    m = np.asarray(ax.images[0].get_array())
    full = j.transition_matrix()
    expected = full.loc[["(start)", "a", "b", "c"], ["a", "b", "c", "(conversion)", "(null)"]].to_numpy()
    np.testing.assert_allclose(m, expected)
    np.testing.assert_allclose(m.sum(axis=1), 1.0)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["(start)", "a", "b", "c"]
    assert ax.get_xlabel() == "to state" and ax.get_ylabel() == "from state"
    assert len(ax.figure.axes) == 2  # the colour bar
    # probabilities are written in the cells: a -> b and a -> c are .50 each
    assert sum(t.get_text() == ".50" for t in ax.texts) >= 2


@pytest.mark.parametrize("C", [12, 20])
def test_heatmap_many_channels(C):
    ax = plot_transition_heatmap(many_channels(C))
    assert len(ax.get_xticklabels()) == C + 2 and len(ax.get_yticklabels()) == C + 1


# ------------------------------------------------------------------------ flows
def _node_heights(ax):
    """Node rectangles by column: {column x: sorted heights}."""
    cols = {}
    for p in ax.patches:
        if isinstance(p, Rectangle):
            cols.setdefault(round(p.get_x() + p.get_width() / 2), []).append(p.get_height())
    return {k: sorted(np.round(v, 9)) for k, v in cols.items()}


def test_flows_node_sizes_by_hand(tmp_path):
    ax = _render(plot_flows(hand_made(), steps=2), tmp_path, "flows_hand")
    cols = _node_heights(ax)
    # touch 1: a (J0, J3), b (J1), c (J2); touch 2: b (J0, J2), c (J3) and J1 ended: no conversion;
    # outcome after 2+ touches: J0 online, J2 store, J3 no conversion (J4 has no touch: not drawn)
    assert cols == {0: [1, 1, 2], 1: [1, 1, 2], 2: [1, 1, 1]}
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "conversion: online" in texts and "conversion: store" in texts and "no conversion" in texts
    # bands carry every journey once per step: 4 journeys leave touch 1, 3 leave touch 2
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    # step 1: a->b (J0), a->c (J3), c->b (J2), b->no conversion (J1); step 2: b->online, b->store, c->no conversion
    assert len(bands) == 1 and len(bands[0].get_paths()) == 4 + 3


@pytest.mark.parametrize("C", [12, 20])
def test_flows_many_channels(C):
    j = many_channels(C)
    ax = plot_flows(j, steps=4)
    cols = _node_heights(ax)
    w = j.conversions + j.nulls
    np.testing.assert_allclose(sum(cols[0]), w[j.lengths > 0].sum())
    # every journey with touches ends in exactly one outcome node
    outcome_total = sum(sum(h) for h in cols.values()) - sum(
        w[j.lengths > k].sum() for k in range(4))
    np.testing.assert_allclose(outcome_total, w[j.lengths > 0].sum())
    assert len(ax.get_legend().get_texts()) == C + 3  # channels, two places, no conversion


def test_flows_without_places_and_errors():
    j = many_channels(12)
    j = j._replace(place=None)
    ax = plot_flows(j, steps=3)
    assert [t.get_text() for t in ax.get_legend().get_texts()][-2:] == ["conversion", "no conversion"]
    with pytest.raises(ValueError, match="'steps' parameter"):
        plot_flows(j, steps=0)


@given(journeys_strategy(max_channels=5, max_journeys=6))
@settings(max_examples=8)
def test_pictures_never_fail(j):
    for call in (lambda: plot_graph(j, min_probability=0), lambda: plot_flows(j, steps=3),
                 lambda: plot_transition_heatmap(j)):
        assert isinstance(call(), matplotlib.axes.Axes)
        plt.close("all")


def test_channel_colors_distinct_and_not_grey_or_green():
    for n in (12, 20):
        colors = list(channel_colors(range(n)).values())
        assert len({tuple(np.round(c[:3], 3)) for c in colors}) == n
        for c in colors:
            r, g, b = c[:3]
            assert not (abs(r - g) < 0.05 and abs(g - b) < 0.05), "grey is kept for no conversion"
    assert len(set(channel_colors(range(25)).values())) == 25
