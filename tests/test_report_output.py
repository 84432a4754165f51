"""What the report writes and draws for a reader: CSVs without float noise (rounded on write to a
documented precision, memory untouched), terminal tables with whole counts and percentages,
bootstrap intervals in the credit and ROI tables, the credit-over-time small multiples, readable
figures (no '(no touch)' drop-off row, no rainbow, the step chart's axis ends at 100 %, heatmap
numbers sized to their cells, numeric tick labels kept) and no always-empty 'hint' column."""

from __future__ import annotations

import re
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from attribution import Journeys, compare  # noqa: E402
from attribution._csvwrite import is_money_column, round_for_csv, write_csv  # noqa: E402
from attribution._terminal import format_table  # noqa: E402
from attribution.datasets import simulate  # noqa: E402
from attribution.journey_kpis import kpis  # noqa: E402
from attribution.plotting.credits import plot_credits_by_period  # noqa: E402
from attribution.plotting.decisions import plot_rank_agreement  # noqa: E402
from attribution.plotting.journeys import (  # noqa: E402
    cell_fontsize,
    plot_drop_off,
    plot_drop_off_steps,
    plot_transition_heatmap,
)
from attribution.report import build_report  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def sim():
    return simulate(300, days=30, random_state=3)


@pytest.fixture(scope="module")
def boot_report(sim):
    """Events with costs and a 20-replicate bootstrap: intervals in every credit and ROI table."""
    import attribution.report as report_module
    from test_cli import TINY_PNG

    with warnings.catch_warnings(), pytest.MonkeyPatch.context() as mp:
        warnings.simplefilter("ignore")
        mp.setattr(report_module, "_png", lambda draw, figsize: TINY_PNG)  # the figures are tested below
        return build_report(sim.journeys(warn=False), ["last_touch", "markov"], costs=sim.costs, bootstrap=20,
                            ropo=False, kpis=False, budget=False)


# ------------------------------------------------------------------------------------ CSV
def test_round_for_csv_golden_and_memory_untouched(tmp_path):
    df = pd.DataFrame({
        "channel": ["=cmd", "b"], "value": [629.7900000000001, 8455.170000000002], "share": [0.123456789, 1 / 3],
        "change": [-1.1368683772161603e-13, 2.5], "conversions": [97.83333333333334, 1.0], "touches": [3, 4],
    })
    before = df.copy()
    path = write_csv(df, tmp_path / "t.csv")
    text = path.read_text()
    assert "629.79," in text and "8455.17," in text and "0.123457" in text and "0.333333" in text
    assert "97.833333" in text and "-0.0" not in text and ",0.0," in text
    assert "'=cmd" in text  # csv_safe still applies
    assert "0000000" not in text
    pd.testing.assert_frame_equal(df, before)  # the frame in memory keeps full precision
    back = pd.read_csv(path)
    np.testing.assert_allclose(back["value"], df["value"], atol=0.005)
    np.testing.assert_allclose(back["share"], df["share"], atol=5e-7)
    assert back["touches"].dtype.kind == "i"


def test_money_columns_and_key_value_summaries():
    assert [is_money_column(c) for c in ("value", "cost", "current", "planned", "lower", "marginal_cpa",
                                         "value_high", "current_value")] == [True] * 8
    assert not any(is_money_column(c) for c in ("roi", "roas", "share", "change_pct", "expected_conversions",
                                                "conversion_rate", "marginal_roi", "mean_position"))
    summary = pd.Series({"journeys": 3117.0, "mean path length": 4.560474815527751, "value": 57898.619999999995},
                        dtype=object).to_frame("value")
    out = round_for_csv(summary)  # one "value" column mixing counts, lengths and money: all to 1e-6
    assert out.loc["mean path length", "value"] == 4.560475 and out.loc["value", "value"] == 57898.62


def test_report_csvs_are_rounded_and_still_conserve(boot_report, tmp_path):
    files = boot_report.write(tmp_path)
    credits = (tmp_path / "credits.csv").read_text()
    for row in credits.splitlines()[1:]:
        cells = row.split(",")
        for name, cell in zip(credits.splitlines()[0].split(","), cells):
            if re.fullmatch(r"-?\d+\.\d+", cell):
                limit = 2 if is_money_column(name) else 6
                assert len(cell.split(".")[1]) <= limit, (name, cell)
    back = pd.read_csv(tmp_path / "credits.csv")
    j = boot_report.journeys
    sums = back.groupby("model")[["conversions", "value"]].sum()
    np.testing.assert_allclose(sums["conversions"], j.total_conversions, atol=1e-4)
    np.testing.assert_allclose(sums["value"], j.total_value, atol=0.01 * len(back) / 2)
    assert {"conversions_low", "conversions_high", "value_low", "value_high"} <= set(back.columns)
    roi = pd.read_csv(tmp_path / "roi.csv")
    assert {"roi_low", "roi_high"} <= set(roi.columns)
    assert any(p.name == "credits_over_time.csv" for p in files)
    over = pd.read_csv(tmp_path / "credits_over_time.csv")
    # every conversion lands in one period, for every model (pseudo-channels included)
    np.testing.assert_allclose(over.groupby("model")["conversions"].sum(), j.total_conversions, atol=1e-3)


# ------------------------------------------------------------------------------------ terminal
def test_format_table_counts_percentages_and_decimals():
    t = pd.DataFrame({"touches": [3035.0, 7.0], "journeys": [10.5, 2.0], "conversion_rate": [0.23163, np.nan],
                      "share_first": [0.5, 1.0], "mean_position": [1.25, 3.0], "path": ["a > b", "b"]},
                     index=["x", "y"])
    out = format_table(t)
    assert out.loc["x"].tolist() == ["3,035", "10.5", "23.2%", "50.0%", "1.25", "a > b"]
    assert out.loc["y"].tolist() == ["7", "2.0", "–", "100.0%", "3.00", "b"]
    assert list(out.columns) == ["touches", "journeys", "conversion rate", "share first", "mean position", "path"]


# ------------------------------------------------------------------------------------ report tables
def test_credit_and_roi_tables_show_intervals(boot_report):
    html = boot_report.to_html()
    assert "90% bootstrap interval (20 replicates)" in html
    cmp = boot_report.comparison
    lo = cmp.wide("conversions_low").loc["display", "markov"]
    hi = cmp.wide("conversions_high").loc["display", "markov"]
    assert f"<span class='iv'>{lo:,.1f} to {hi:,.1f}</span>" in html
    rlo = cmp.roi_result.wide("roi_low").loc["display", "markov"]
    assert f"<span class='iv'>{rlo:,.2f} to ".replace("-", "−") in html
    assert "<h3>Credit over time</h3>" in html and "credits_over_time" in boot_report.figures


def test_hint_column_only_when_it_says_something(sim, monkeypatch):
    from test_cli import TINY_PNG

    import attribution.report as report_module

    monkeypatch.setattr(report_module, "_png", lambda draw, figsize: TINY_PNG)
    costs = sim.costs.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        j = sim.journeys(warn=False)
        plain = build_report(j, ["linear"], costs=costs, ropo=False, kpis=False, budget=False).to_html()
        typo = costs.assign(channel=costs["channel"].replace({"display": "Display"}))
        hinted = build_report(j, ["linear"], costs=typo, ropo=False, kpis=False, budget=False).to_html()
    unmatched = plain.split("Channels unmatched between costs and journeys")
    if len(unmatched) > 1:
        assert ">hint<" not in unmatched[1].split("</table>")[0]
    section = hinted.split("Channels unmatched between costs and journeys")[1].split("</table>")[0]
    assert ">hint<" in section and "display" in section


def test_report_figures_keep_numeric_tick_labels(boot_report):
    from attribution.report import _png

    seen = {}

    def draw(ax):
        ax.barh([0, 1], [3.0, 140.0])
        seen["ax"] = ax

    _png(draw, (4, 3))
    labels = [t.get_text() for t in seen["ax"].get_xticklabels()]
    assert any(re.search(r"\d", lab) for lab in labels), labels  # the formatter wrapper used to blank them


# ------------------------------------------------------------------------------------ figures
def _tiny():
    paths = pd.DataFrame({"path": ["a > b", "b > c", "a", "", "c > c > a"], "total_conversions": [3, 1, 0, 2, 1],
                          "total_null": [1, 3, 2, 4, 5]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Journeys.from_paths(paths)


def test_drop_off_leaves_no_touch_out_and_uses_one_colour():
    r = kpis(_tiny())
    assert "(no touch)" in r.drop_off.index and r.drop_off.loc["(no touch)", "non_converting"] == 4
    ax = plot_drop_off(r.drop_off)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "(no touch)" not in labels and set(labels) == {"a", "b", "c"}
    assert len({p.get_facecolor() for p in ax.patches}) == 1
    assert "4 non-converting journeys without any touch" in ax.get_xlabel()
    right = [a for a in ax.figure.axes if a is not ax][0]
    rates = r.drop_off.drop(index="(no touch)")["drop_off_rate"].iloc[::-1]
    assert [t.get_text() for t in right.get_yticklabels()] == [f"{v:.0%}" for v in rates]


def test_drop_off_steps_axis_ends_at_100_percent_with_counts_under_the_steps():
    r = kpis(_tiny())
    ax = plot_drop_off_steps(r.drop_off_steps)
    assert ax.get_ylim() == (0.0, 1.0)
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    reached = r.drop_off_steps["reached"].to_numpy()
    assert ticks[0] == f"1\n{reached[0]:,.0f}" and len(ticks) == len(reached)
    assert not ax.texts  # no numbers floating above the bars


def test_heatmap_numbers_fit_the_cells_or_are_left_out():
    sim = simulate(200, days=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        j = sim.journeys(warn=False)
    fig = Figure(figsize=(8, 7), layout="constrained")
    ax = plot_transition_heatmap(j, ax=fig.add_subplot())
    sizes = {t.get_fontsize() for t in ax.texts}
    assert ax.texts and len(sizes) == 1 and 7 <= sizes.pop() <= 11
    small = Figure(figsize=(2.5, 2.2), layout="constrained")
    ax = plot_transition_heatmap(j, ax=small.add_subplot())
    assert not ax.texts  # cells too small for readable numbers: none
    assert cell_fontsize(small.axes[0], 40, 40) is None
    agreement = pd.DataFrame(np.eye(3), index=list("xyz"), columns=list("xyz"))
    ax = plot_rank_agreement(agreement)
    assert len(ax.texts) == 9 and ax.texts[0].get_fontsize() >= 9


def test_credit_over_time_draws_a_line_per_model(sim):
    from attribution.credits import credits_by_period

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        j = sim.journeys(warn=False)
        cmp = compare(j, ["last_touch", "linear"], progress=False)
    tables = {k: credits_by_period(m, j, "W") for k, m in cmp.models.items()}
    fig = Figure(figsize=(9, 8), layout="constrained")
    axes = plot_credits_by_period(tables, fig=fig, max_channels=4)
    assert len(axes) == 4 and all(len(a.get_lines()) == 2 for a in axes)
    assert "the first 4 of" in fig._suptitle.get_text()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["last_touch", "linear"]
    first = list(tables["linear"].columns)[0]
    np.testing.assert_allclose(axes[0].get_lines()[1].get_ydata(), tables["linear"][first].to_numpy())
