"""What :func:`~attribution.report.build_report` runs beside the comparison: the budget plan, ROPO,
progress, and the helpers the command line shares (:func:`guess_offline`, :func:`budget_bounds`)."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..models.base import PSEUDO_CHANNELS, estimand_of

_OFFLINE_WORDS = frozenset({"store", "offline", "instore", "shop", "branch", "pos", "retail"})


def guess_offline(channels) -> list[str]:
    """Channels whose name marks them as offline touches (``store_visit``, ``offline_event``, ...).

    A name is offline when one of its words (split at anything but letters and digits) is one of
    ``store``, ``offline``, ``instore``, ``shop``, ``branch``, ``pos``, ``retail``. This is a
    guess for the default of the command line; pass the list explicitly when it is wrong.

    Examples
    --------
    >>> guess_offline(["email", "store_visit", "display", "Shop Visit"])
    ['store_visit', 'Shop Visit']
    """
    out = []
    for c in channels:
        words = set(re.split(r"[^0-9a-z]+", str(c).lower()))
        if words & _OFFLINE_WORDS:
            out.append(c)
    return out


def budget_bounds(costs: pd.DataFrame, low: float = 0.5, high: float = 2.0) -> dict[str, tuple[float, float]]:
    """Spend bounds ``low``–``high`` × today's spend for every channel with spend.

    Response curves are anchored at today's spend and are not to be trusted far from it, so a
    plan is best kept within such bounds (see notebook 03).

    Parameters
    ----------
    costs : DataFrame
        Normalised costs (``channel, [period,] cost``; :func:`attribution.decisions.roi.normalise_costs`).
    low, high : float
        Multipliers, ``0 <= low <= 1 <= high``.

    Returns
    -------
    dict
        ``channel -> (lower, upper)`` for the channels with a positive total cost.
    """
    for name, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v < 0:
            raise ValueError(f"The {name!r} parameter of budget_bounds must be a non-negative number. Got {v!r} instead.")
    if not low <= 1.0 <= high:
        raise ValueError(
            f"Budget bounds must contain today's spend: low <= 1 <= high. Got low={low!r}, high={high!r} instead."
        )
    spend = costs.groupby("channel", sort=False)["cost"].sum()
    return {str(c): (float(s) * low, float(s) * high) for c, s in spend.items() if s > 0}


def _primary_label(labels: Sequence[str], models: Mapping | None = None) -> str:
    """The model that drives the budget plan and ROPO: the first incremental model (decisions
    follow what channels cause), else the first Markov model, else the last one."""
    for lab in labels:
        if models is not None and estimand_of(models.get(lab)) == "incremental":
            return lab
    for lab in labels:
        if lab.split(":")[0].strip().lower() == "markov":
            return lab
    return labels[-1]


def _channel_order(wide: pd.DataFrame) -> list[str]:
    """Channels by mean credit over the models, largest first; ``(no touch)`` last."""
    mean = wide.drop(index=list(PSEUDO_CHANNELS), errors="ignore").mean(axis=1, skipna=True)
    order = mean.sort_values(ascending=False, kind="stable").index.tolist()
    return order + [c for c in PSEUDO_CHANNELS if c in wide.index]


def _truth_series(truth) -> pd.Series | None:
    if truth is None:
        return None
    if isinstance(truth, pd.DataFrame):
        df = truth.set_index("channel") if "channel" in truth.columns else truth
        if "conversions" not in df.columns:
            raise ValueError(
                "The 'truth' table must have a 'conversions' column (and a 'channel' column or "
                f"index). Columns found: {[str(c) for c in truth.columns]}."
            )
        s = df["conversions"]
    elif isinstance(truth, Mapping):
        s = pd.Series(dict(truth), dtype=np.float64)
    elif isinstance(truth, pd.Series):
        s = truth
    else:
        raise TypeError(f"truth must be a DataFrame, Series or dict of conversions per channel. Got {type(truth).__name__} instead.")
    s = pd.to_numeric(s, errors="coerce").astype(np.float64)
    s.index = s.index.astype(str)
    s.index.name = "channel"
    return s.rename("truth")




class _Ticker:
    """Stage progress: a callable ``f(stage, done, total)``, a tqdm bar on stderr, or nothing."""

    def __init__(self, progress, total: int):
        self.done = -1
        self.total = total
        self.callback = progress if callable(progress) else None
        self.bar = None
        if progress and not callable(progress):
            import sys

            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc="report", unit="step", file=sys.stderr, leave=False)

    def extend(self, n: int) -> None:
        self.total += n
        if self.bar is not None:
            self.bar.total = self.total
            self.bar.refresh()

    def __call__(self, stage: str) -> None:
        self.done += 1
        if self.callback is not None:
            self.callback(stage, self.done, self.total)
        if self.bar is not None:
            self.bar.n = self.done
            self.bar.set_description_str(stage)

    def finish(self) -> None:
        if self.callback is not None:
            self.callback("report ready", self.total, self.total)
        if self.bar is not None:
            self.bar.n = self.total
            self.bar.close()


def _optional(fn, what: str, notes: list[str]):
    try:
        return fn()
    except (ValueError, TypeError) as exc:
        notes.append(f"{what} left out: {exc}".split("\n")[0])
        return None


def _plan(budget, comparison, primary, bounds, notes, meta, card=None):
    from ..decisions.budget import BudgetPlan

    if isinstance(budget, BudgetPlan):
        return budget
    if comparison is None or comparison.costs is None:
        if budget != "auto":
            raise ValueError("A budget plan needs costs: pass costs= (or a Comparison with costs).")
        return None
    spend = comparison.costs.groupby("channel")["cost"].sum()
    if isinstance(bounds, Mapping):
        bd = dict(bounds)
        meta["bounds"] = "as given per channel"
    else:
        low, high = bounds
        bd = budget_bounds(comparison.costs, low, high)
        meta["bounds"] = f"{low:g}–{high:g} × today's spend"
    if budget == "auto":
        total = round(float(spend[spend > 0].sum()), 2)
        if total <= 0:
            notes.append("Budget plan left out: no channel has a positive cost.")
            return None
        meta["budget_source"] = "today's total spend"
        return _optional(lambda: comparison.plan_budget(total, model=primary, bounds=bd, validity=card), "Budget plan", notes)
    meta["budget_source"] = "as given"
    return comparison.plan_budget(budget, model=primary, bounds=bd, validity=card)


def _ropo(ropo_arg, journeys, comparison, primary, offline, customers, customer_id, store_places, n_boot, notes, meta):
    from ..omnichannel import RopoReport, ropo

    if isinstance(ropo_arg, RopoReport):
        if offline is not None:
            meta["offline"] = list(offline)
        return ropo_arg
    if not journeys.has_place:
        return None
    stores = {store_places} if isinstance(store_places, str) else set(store_places)
    places = [str(p) for p in journeys.places]
    if not stores & set(places):
        notes.append(
            f"ROPO left out: no conversion place is a store ({sorted(stores)}); places found: {places}."
        )
        return None
    if offline is None:
        offline = guess_offline(journeys.channels)
        meta["offline_guessed"] = True
    meta["offline"] = list(offline)
    model = comparison.models[primary] if comparison is not None and primary in comparison.models else (primary or "markov")
    return _optional(
        lambda: ropo(journeys, model, offline=list(offline), customers=customers, customer_id=customer_id,
                     store_places=tuple(stores), n_boot=n_boot),
        "ROPO", notes,
    )
