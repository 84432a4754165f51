"""Every registered model scored against the simulator's true incremental credit.

The simulator (:func:`attribution.datasets.simulate`) knows each channel's true effect: the
exact Shapley value of the game "conversions that happen with only these channels switched on",
with the same random draws (``truth()``). Its incremental credit sums to ``v(all) - v(∅)``; the
remaining conversions are baseline (they would happen without marketing). Attribution models
share out *all* conversions, so models and truth are compared on **shares over the channels**:
``credit_c / sum(credit)`` against ``truth_c / sum(truth)`` ("(no touch)" excluded).

Scores per model (no threshold is asserted; the table is for reading):

* ``mae_conversions`` / ``mae_value``: mean absolute error of the shares over the channels;
* ``spearman``: rank correlation of the conversion shares with the true ones;
* ``null_share``: share of conversions given to channels whose true effect is 0 (``direct`` has
  no lift in the simulator: a null player).

Run ``python tests/test_truth_scores.py`` (or ``pytest -s``) to print the table.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from attribution.datasets import load_sample
from attribution.models import BASELINE, MODELS, NO_TOUCH

#: Variants scored besides each registered model's defaults.
VARIANTS = {
    "markov": [{"order": 2}],
    "shapley": [{"method": m} for m in ("ordered", "conversion_rate", "model", "sampled")],
    "fractribution": [{"path_transform": "exposure"}],
}


def _label(name: str, params: dict) -> str:
    return name if not params else name + ":" + ",".join(f"{k}={v}" for k, v in params.items())


def truth_table() -> pd.DataFrame:
    """Fit every registered model (and the variants above) on the sample data and score it."""
    sim = load_sample()  # simulate(3000, random_state=0), stored in data/samples with its truth
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lookback exclusions are expected in the sample
        journeys = sim.journeys()
    truth = sim.truth()
    true_share = truth / truth.sum()
    null = truth.index[truth["conversions"] == 0]
    rows = []
    for name in sorted(MODELS):
        for params in [{}] + VARIANTS.get(name, []):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = MODELS[name](**params).fit(journeys)
            credit = model.credits_.drop(index=[NO_TOUCH, BASELINE], errors="ignore")
            unknown = set(credit.index) - set(truth.index)
            if unknown:
                raise AssertionError(f"{name}: channels {sorted(unknown)} are not in the simulator's truth.")
            credit = credit.reindex(truth.index, fill_value=0.0)
            share = credit[["conversions", "value"]] / credit[["conversions", "value"]].sum()
            err = (share - true_share).abs().mean()
            rows.append(
                {
                    "model": _label(name, params),
                    "mae_conversions": err["conversions"],
                    "mae_value": err["value"],
                    "spearman": spearmanr(share["conversions"], true_share["conversions"]).statistic,
                    "null_share": share.loc[null, "conversions"].sum(),
                }
            )
    return pd.DataFrame(rows).set_index("model").sort_values("mae_conversions")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return truth_table()


def test_every_registered_model_has_a_finite_score(table):
    print("\nShares of credit vs the simulator's truth (load_sample(): 3,117 journeys, 10 channels)")
    print(table.round(4).to_string())
    for name in MODELS:  # nothing skipped: every registered model is in the table
        assert name in table.index, name
    assert np.isfinite(table[["mae_conversions", "mae_value", "spearman", "null_share"]].to_numpy()).all()
    assert ((table["mae_conversions"] >= 0) & (table["mae_conversions"] <= 2)).all()


if __name__ == "__main__":
    pd.set_option("display.width", 120)
    print(truth_table().round(4).to_string())
