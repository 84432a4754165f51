"""Several attribution models side by side: credits, ranks, rank agreement and ROI.

:func:`compare` fits every model on the same journeys and returns a :class:`Comparison`.
Budget planners rarely trust one model: where the models agree on a channel's rank, the
decision is robust; where they disagree, the comparison shows it (and bootstrap intervals say
whether the disagreement is larger than the noise).
"""

from __future__ import annotations

import html
import numbers
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..models._estimator import clone
from ..exceptions import DataQualityWarning, ParameterError
from ..journeys import Journeys
from ..models.base import (
    BASELINE,
    MODELS,
    NO_TOUCH,
    PSEUDO_CHANNELS,
    AttributionModel,
    _load_builtin_models,
    _param_error,
    _warn_user,
    estimand_of,
    get_model,
)
from .._display import _fmt, _html_table, _html_warnings
from .roi import ROIResult, _cost_by_channel, _roi_table, _unmatched, normalise_costs
from .uncertainty import BootstrapResult, _check_level, _model_label
from .uncertainty import bootstrap as _bootstrap

__all__ = ["Comparison", "compare", "DEFAULT_MODELS"]

#: The models compared by default (those not available, or needing timestamps the journeys
#: lack, are skipped with a note).
DEFAULT_MODELS = ("last_touch", "linear", "time_decay", "markov", "shapley")

_METRICS = ("conversions", "value", "share")


def _labels(models) -> list[tuple[str, object]]:
    if isinstance(models, Mapping):
        items = [(str(k), v) for k, v in models.items()]
    elif isinstance(models, (str, AttributionModel, type)):
        items = [(_model_label(models), models)]
    elif isinstance(models, Sequence):
        items = [(_model_label(m), m) for m in models]
    else:
        raise TypeError(
            "The 'models' parameter of compare must be a list of model names, spec strings or model "
            f"objects, or a dict of them by label. Got {type(models).__name__} instead."
        )
    if not items:
        raise ValueError("The 'models' parameter of compare must name at least one model. Got an empty list instead.")
    seen: dict[str, int] = {}
    out = []
    for label, spec in items:
        seen[label] = seen.get(label, 0) + 1
        out.append((label if seen[label] == 1 else f"{label} #{seen[label]}", spec))
    return out


def compare(
    journeys: Journeys,
    models=None,
    costs=None,
    bootstrap=None,
    *,
    level: float = 0.9,
    random_state=0,
    progress: bool = True,
    cost: str | None = None,
    channel: str = "channel",
    period: str | None | bool = None,
    value: str = "observed",
    clv=None,
) -> Comparison:
    """Fit several attribution models on the same journeys and compare their credits.

    Parameters
    ----------
    journeys : Journeys
    models : list or dict, optional
        Model names (``"linear"``), spec strings (``"markov:order=2"``), classes or instances
        (cloned, not modified), or a dict ``label -> model``. Default :data:`DEFAULT_MODELS`;
        of those, models that are not installed or that need timestamps the journeys lack
        (``time_decay`` on path tables) are skipped with a note in :attr:`Comparison.warnings`.
    costs : DataFrame, Series or dict, optional
        Costs per channel, per channel and period, or a cost column on touchpoints (see
        :func:`attribution.decisions.roi.normalise_costs`); enables :attr:`Comparison.roi`.
    bootstrap : int, True, or dict of BootstrapResult, optional
        ``n`` (or ``True`` for 200) runs :func:`attribution.decisions.uncertainty.bootstrap` for every
        model, so credits and ROI carry percentile intervals; a dict gives precomputed results
        by model label.
    level : float, default 0.9
        Interval coverage when bootstrapping here.
    random_state : int, Generator or None, default 0
        Seeds the bootstrap.
    progress : bool, default True
        Progress bars for the bootstrap.
    cost, channel, period : str
        Column names of ``costs`` (see :func:`attribution.decisions.roi.normalise_costs`).
    value : {"observed", "clv"}, default "observed"
        ``"clv"`` credits lifetime value instead of order value: each customer's expected
        future value (``clv``) is added to the journey of their first conversion (see
        :func:`attribution.customers.clv_journeys`), so value credits and ROI read as lifetime
        value and lifetime ROI. Conversions are unchanged.
    clv : CLVResult or Series, optional
        Expected future value per customer, required with ``value="clv"``
        (:meth:`attribution.customers.CustomerTable.fit_clv`).

    Returns
    -------
    Comparison

    Raises
    ------
    TypeError
        If ``journeys`` is not a Journeys object or ``models`` has the wrong type.
    ValueError
        For an unknown model, an explicitly requested model that needs timestamps on path-table
        journeys, or a bootstrap dict whose labels do not match the models.

    Notes
    -----
    Models may measure different things (``estimand_``): *attributed* credit splits the
    observed conversions over the channels that touched them; *incremental* credit is what a
    channel caused, with the rest in a ``"(baseline)"`` row. The tables carry an ``estimand``
    column, the shares are shares of the *channels'* credit (``"(no touch)"`` and
    ``"(baseline)"`` left out) so that both kinds are on one scale, and a comparison mixing the
    two says so in its header, summary and plots.

    Ranks order channels by credited conversions (1 = most), excluding ``"(no touch)"`` and
    ``"(baseline)"``;
    rank agreement is Spearman's :math:`\\rho` between models' conversion credits over the
    channels, :math:`\\rho = 1 - 6\\sum d_i^2 / (n(n^2 - 1))` without ties (Pearson correlation of
    ranks in general).

    References
    ----------
    .. [1] Field survey §0 (no open tool combines model comparison, cost/ROAS and intervals).
    .. [2] Spearman, C. (1904). The proof and measurement of association between two things.
       *American Journal of Psychology* 15(1), 72–101.

    Examples
    --------
    >>> import pandas as pd
    >>> from attribution import Journeys
    >>> from attribution.compare import compare
    >>> paths = pd.DataFrame({"path": ["search > email", "display > search", "email"],
    ...                       "total_conversions": [6, 3, 1], "total_null": [10, 20, 30]})
    >>> comp = compare(Journeys.from_paths(paths), ["first_touch", "last_touch", "linear"])
    >>> comp.credits_wide  # doctest: +NORMALIZE_WHITESPACE
    model    first_touch  last_touch  linear
    channel
    display          3.0         0.0     1.5
    email            1.0         7.0     4.0
    search           6.0         3.0     4.5
    >>> comp.ranks["last_touch"].to_dict()
    {'display': 3.0, 'email': 1.0, 'search': 2.0}
    """
    if not isinstance(journeys, Journeys):
        raise TypeError(
            f"compare expects a Journeys object; got {type(journeys).__name__}. Build one with "
            "Journeys.from_events(...) or Journeys.from_paths(...)."
        )
    notes: list[str] = []
    if value not in ("observed", "clv"):
        raise ValueError(f"The 'value' parameter of compare must be 'observed' or 'clv'. Got {value!r} instead.")
    if value == "clv":
        from ..clv import clv_journeys

        if clv is None:
            raise ValueError("compare(value='clv') needs clv=: the expected future value per customer, e.g. "
                             "customer_table(conversions).fit_clv() or a Series indexed by customer.")
        journeys = clv_journeys(journeys, clv)
        notes.append("Value is lifetime value: observed order value plus each customer's expected future value "
                     f"(BG/NBD x Gamma-Gamma) on their first conversion; {journeys.clv_missing} customer(s) had no "
                     "CLV estimate (future value 0).")
    lenient = models is None
    items = _labels(DEFAULT_MODELS if lenient else models)
    fitted: dict[str, AttributionModel] = {}
    for label, spec in items:
        try:
            model = get_model(spec)
        except ValueError:
            if lenient and isinstance(spec, str) and spec.split(":")[0] not in _registered():
                notes.append(f"{label} skipped: no such model is installed (yet).")
                continue
            raise
        if getattr(model, "_requires_time", False) and not journeys.has_time:
            msg = (
                f"{label} needs touch and conversion timestamps, but these journeys were built from a "
                "path table."
            )
            if lenient:
                notes.append(f"{label} skipped: it needs timestamps, and path tables have none.")
                continue
            raise ValueError(msg + " Build the journeys with Journeys.from_events(...), or leave it out of models.")
        fitted[label] = clone(model).fit(journeys)

    boots = _bootstraps(bootstrap, fitted, journeys, level, random_state, progress)
    cost_frame = None
    if costs is not None:
        cost_frame = normalise_costs(costs, channel=channel, cost=cost, period=period)
    comp = Comparison(journeys, fitted, boots, cost_frame, notes)
    for m in comp.warnings:
        if m not in notes:
            _warn_user(m, DataQualityWarning)
    return comp


def _registered() -> list[str]:
    _load_builtin_models()
    return sorted(MODELS)


def _bootstraps(bootstrap, fitted, journeys, level, random_state, progress) -> dict[str, BootstrapResult]:
    if bootstrap is None or bootstrap is False:
        return {}
    if isinstance(bootstrap, Mapping):
        unknown = [k for k in bootstrap if k not in fitted]
        if unknown:
            raise ValueError(
                f"The 'bootstrap' parameter of compare names model(s) {unknown} that are not being "
                f"compared. Use the model labels {list(fitted)}."
            )
        for k, v in bootstrap.items():
            if not isinstance(v, BootstrapResult):
                raise TypeError(
                    f"The 'bootstrap' dict of compare must map model labels to BootstrapResult. Got "
                    f"{type(v).__name__} for {k!r} instead."
                )
        return dict(bootstrap)
    if bootstrap is True:
        n = 200
    elif isinstance(bootstrap, numbers.Integral) and not isinstance(bootstrap, bool) and bootstrap > 0:
        n = int(bootstrap)
    else:
        raise _param_error(
            "compare", "bootstrap", "None, True, a positive number of replicates or a dict of BootstrapResult",
            bootstrap,
        )
    _check_level(level, "compare")
    from .uncertainty import check_random_state

    rng = check_random_state(random_state)
    return {
        label: _bootstrap(model, journeys, n, level=level, random_state=rng, progress=progress)
        for label, model in fitted.items()
    }


class Comparison:
    """Credits of several models on the same journeys, with ranks, agreement and ROI.

    Returned by :func:`compare`.

    Attributes
    ----------
    journeys : Journeys
        The journeys the models were fitted on.
    models : dict
        Fitted models by label, in the order given.
    bootstraps : dict
        :class:`~attribution.decisions.uncertainty.BootstrapResult` by label (empty without bootstrap).
    costs : DataFrame or None
        The normalised costs (``channel, [period,] cost``).
    warnings : list of str
        Skipped models and unmatched channels, in words.
    """

    def __init__(self, journeys, models, bootstraps, costs, notes):
        self.journeys = journeys
        self.models = dict(models)
        self.bootstraps = dict(bootstraps)
        self.costs = costs
        self._notes = list(notes)
        self._roi: ROIResult | None = None
        if costs is not None:
            by_channel = _cost_by_channel(costs)
            long = self.credits.drop(columns=[c for c in self.credits.columns if c.startswith("share")])
            table = _roi_table(long, by_channel)
            counts = np.bincount(journeys.touch_channel, minlength=journeys.n_channels)
            touched = [str(c) for c, k in zip(journeys.channels, counts) if k > 0]
            unmatched, messages = _unmatched(list(dict.fromkeys(long["channel"])), touched, by_channel)
            self._roi = ROIResult(table, unmatched, messages, costs)

    # -- tables -----------------------------------------------------------------------------

    @property
    def labels(self) -> list[str]:
        """Model labels, in order."""
        return list(self.models)

    @property
    def warnings(self) -> list[str]:
        """Notes on skipped models and channels unmatched between costs and journeys."""
        return self._notes + (self._roi.warnings if self._roi is not None else [])

    @property
    def credits(self) -> pd.DataFrame:
        """Long table: ``model, channel, conversions, value, share`` (and ``*_low``/``*_high``
        interval columns for models with a bootstrap; NaN for the others)."""
        if getattr(self, "_credits", None) is None:
            self._credits = self._long_credits()
        return self._credits.copy()

    def _long_credits(self) -> pd.DataFrame:
        frames = []
        for label, model in self.models.items():
            if label in self.bootstraps:
                cr = self.bootstraps[label].credits.copy()
            else:
                cr = model.credits_[["conversions", "value", "share"]].copy()
            # shares of the channels' credit: pseudo-channels left out (NaN), so attributed and
            # incremental models sit on one scale
            real = ~cr.index.isin(PSEUDO_CHANNELS)
            total = float(cr.loc[real, "conversions"].sum())
            old_total = float(model.credits_["conversions"].sum())
            for col in [c for c in cr.columns if c.startswith("share")]:
                if col == "share":
                    cr[col] = cr["conversions"] / total if total != 0 else np.nan
                else:  # bootstrap interval ends: rescaled from shares of all conversions
                    cr[col] = cr[col] * (old_total / total) if total != 0 else np.nan
                cr.loc[~real, col] = np.nan
            frame = cr.reset_index()
            frame.insert(0, "estimand", estimand_of(model))
            frame.insert(0, "model", label)
            frames.append(frame)
        out = pd.concat(frames, ignore_index=True)
        if self.bootstraps:
            cols = ["model", "estimand", "channel"] + [f"{m}{s}" for m in _METRICS for s in ("", "_low", "_high")]
            out = out.reindex(columns=cols)
        return out

    # -- what channel_roi and plan_budget read from a comparison (they do not import this module)

    def _roi_credits(self) -> pd.DataFrame:
        """The credits :func:`~attribution.decisions.roi.channel_roi` reads: :attr:`credits` without shares."""
        return self.credits.drop(columns=[c for c in self.credits.columns if c.startswith("share")])

    def _plan_source(self, model):
        """``(credits, fitted model, journeys, label)`` of the model that drives a budget plan."""
        labels = self.labels
        if model is None:
            if len(labels) != 1:
                raise ParameterError(
                    "plan_budget needs to know which model's credit drives the plan; this comparison has "
                    f"{len(labels)}. Pass model= one of {labels}."
                )
            model = labels[0]
        if model not in self.models:
            raise ParameterError(f"Unknown model {model!r} for plan_budget. Choose from {labels}.")
        fitted = self.models[model]
        return fitted.credits_, fitted, self.journeys, model

    @property
    def estimands(self) -> pd.Series:
        """The estimand of each model (``"attributed"`` or ``"incremental"``), by label."""
        return pd.Series({label: estimand_of(m) for label, m in self.models.items()}, name="estimand", dtype=object)

    @property
    def mixed_estimands(self) -> bool:
        """True when the comparison holds both attributed and incremental models."""
        return self.estimands.nunique() > 1

    def _estimand_note(self) -> str:
        est = self.estimands
        inc = [k for k, v in est.items() if v == "incremental"]
        if not inc:
            return "All models are attributed: credit splits the observed conversions over the channels that touched them."
        if len(inc) == len(est):
            return ("All models are incremental: credit is what each channel caused; conversions that would have "
                    "happened without any paid channel sit in '(baseline)'.")
        att = [k for k, v in est.items() if v == "attributed"]
        return (f"Mixed estimands: {att} are attributed (they split observed conversions over the channels that "
                f"touched them), {inc} are incremental (what each channel caused; the rest sits in '(baseline)'). "
                "The two are not the same quantity; shares are over the channels' credit only.")

    def wide(self, metric: str = "conversions") -> pd.DataFrame:
        """One credit column as a channel × model table.

        Parameters
        ----------
        metric : str
            ``conversions``, ``value``, ``share`` (or, with a bootstrap, e.g. ``conversions_low``).
        """
        cr = self.credits
        valid = [c for c in cr.columns if c not in ("model", "channel")]
        if metric not in valid:
            raise _param_error("Comparison.wide", "metric", f"one of {valid}", metric)
        out = cr.pivot(index="channel", columns="model", values=metric)
        channels = list(dict.fromkeys(cr["channel"]))
        channels = [c for c in channels if c not in PSEUDO_CHANNELS] + [c for c in PSEUDO_CHANNELS if c in channels]
        out = out.reindex(index=channels, columns=self.labels)
        out.columns.name = "model"
        return out

    @property
    def credits_wide(self) -> pd.DataFrame:
        """Credited conversions, channel × model (attributed or incremental: see
        :attr:`estimands`)."""
        return self.wide("conversions")

    @property
    def value_wide(self) -> pd.DataFrame:
        """Credited value, channel × model."""
        return self.wide("value")

    @property
    def shares(self) -> pd.DataFrame:
        """Share of the channels' credited conversions, channel × model (``"(no touch)"`` and
        ``"(baseline)"`` are left out of the denominator and are NaN)."""
        return self.wide("share")

    @property
    def ranks(self) -> pd.DataFrame:
        """Rank of each channel under each model by credited conversions (1 = most; ties share
        the best rank); ``"(no touch)"`` and ``"(baseline)"`` are left out."""
        w = self.credits_wide.drop(index=list(PSEUDO_CHANNELS), errors="ignore")
        return w.rank(ascending=False, method="min")

    @property
    def rank_agreement(self) -> pd.DataFrame:
        """Spearman rank correlation of the models' conversion credits (model × model).

        NaN where a model gives every channel the same credit (no ranking)."""
        w = self.credits_wide.drop(index=list(PSEUDO_CHANNELS), errors="ignore")
        out = w.corr(method="spearman")
        out.index.name = "model"
        return out

    @property
    def roi_result(self) -> ROIResult:
        """The :class:`~attribution.decisions.roi.ROIResult` (needs ``costs``)."""
        if self._roi is None:
            raise ValueError(
                "This comparison has no costs, so there is no ROI. Pass costs= to compare(), "
                "e.g. compare(journeys, models, costs=daily_costs)."
            )
        return self._roi

    @property
    def roi(self) -> pd.DataFrame:
        """Long ROI table: ``channel, model, cost, conversions, value, roi, roas, cpa`` (and
        intervals with a bootstrap); see :mod:`attribution.decisions.roi` for the zero-cost cases."""
        return self.roi_result.table

    @property
    def unmatched(self) -> pd.DataFrame:
        """Channels with cost but no touches, or touches but no cost (empty without costs)."""
        if self._roi is None:
            return pd.DataFrame(columns=["channel", "issue", "cost", "hint"])
        return self._roi.unmatched

    # -- presentation -------------------------------------------------------------------------

    def _header(self) -> str:
        j = self.journeys
        return (
            f"Comparison of {len(self.models)} models on {j.n_journeys:,} journeys "
            f"({j.total_conversions:,.6g} conversions, value {j.total_value:,.2f}, {j.n_channels} channels)"
        )

    def _estimand_table(self) -> pd.DataFrame:
        return self.estimands.to_frame().T.rename(index={"estimand": "estimand"})

    def summary(self) -> str:
        """A plain-text summary: estimands, shares, ranks, rank agreement, ROI and warnings."""
        parts = [self._header(), self._estimand_note(), "",
                 "Estimand of each model:", self._estimand_table().to_string(), "",
                 "Share of the channels' credited conversions ('(no touch)' and '(baseline)' left out):",
                 _fmt(self.shares, "{:.1%}")]
        if self.bootstraps:
            lvl = next(iter(self.bootstraps.values())).level
            lo, hi = self.wide("share_low"), self.wide("share_high")
            iv = lo.copy().astype(object)
            for c in lo.columns:
                iv[c] = [
                    "" if np.isnan(a) else f"[{a:.1%}, {b:.1%}]" for a, b in zip(lo[c].to_numpy(), hi[c].to_numpy())
                ]
            parts += ["", f"{lvl:.0%} bootstrap intervals of the shares:", iv.to_string()]
        parts += ["", "Rank by credited conversions (1 = most):", _fmt(self.ranks, "{:.0f}")]
        parts += ["", "Rank agreement (Spearman):", _fmt(self.rank_agreement, "{:.2f}")]
        if self._roi is not None:
            parts += ["", "ROI = (value - cost) / cost:", _fmt(self._roi.wide("roi"), "{:.2f}")]
            parts += ["", "CPA = cost / conversions:", _fmt(self._roi.wide("cpa"), "{:,.2f}")]
        if self.warnings:
            parts += ["", "Warnings:"] + [f"- {w}" for w in self.warnings]
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        out = [f"<div><p><b>{html.escape(self._header())}</b></p>", f"<p>{html.escape(self._estimand_note())}</p>",
               _html_table(self._estimand_table(), default="{}"),
               "<p>Credited conversions (estimand per model above)</p>",
               _html_table(self.credits_wide, default="{:,.1f}"),
               "<p>Share of the channels' credited conversions ('(no touch)' and '(baseline)' left out)</p>",
               _html_table(self.shares, default="{:.1%}"),
               "<p>Rank agreement (Spearman)</p>", _html_table(self.rank_agreement, default="{:.2f}")]
        if self._roi is not None:
            out += ["<p>ROI = (value &minus; cost) / cost</p>", _html_table(self._roi.wide("roi"), default="{:.2f}")]
        out += _html_warnings(self.warnings)
        return "".join(out) + "</div>"

    def __repr__(self) -> str:
        return f"<Comparison: {len(self.models)} models ({', '.join(self.labels)}), {self.journeys.n_channels} channels>"

    # -- plots ----------------------------------------------------------------------------------

    def plot(self, metric: str = "conversions", *, ax=None):
        """Grouped bars per channel, one bar per model (with intervals when bootstrapped).

        See :func:`attribution.plotting.decisions.plot_credits`.
        """
        from ..plotting.decisions import plot_credits

        return plot_credits(self.credits, metric=metric, ax=ax)

    def plot_roi(self, metric: str = "roi", *, ax=None):
        """ROI (or ``roas``, ``cpa``) per channel, one bar per model (needs ``costs``).

        See :func:`attribution.plotting.decisions.plot_roi`.
        """
        from ..plotting.decisions import plot_roi

        return plot_roi(self.roi, metric=metric, ax=ax)

    def plot_rank_agreement(self, *, ax=None):
        """Heat map of the Spearman rank agreement between models."""
        from ..plotting.decisions import plot_rank_agreement

        return plot_rank_agreement(self.rank_agreement, ax=ax)

    # -- decisions ------------------------------------------------------------------------------

    def plan_budget(self, total_budget, model: str | None = None, **kwargs):
        """Shortcut for :func:`attribution.decisions.budget.plan_budget` with this comparison's costs."""
        from .budget import plan_budget

        return plan_budget(self, self.costs if "costs" not in kwargs else kwargs.pop("costs"),
                           total_budget, model=model, **kwargs)

