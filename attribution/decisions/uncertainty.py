"""Bootstrap intervals for attributed credit.

:func:`bootstrap` refits a model on resampled journeys and reports percentile intervals for
every channel's conversions, value and share. The intervals can be passed to
:func:`attribution.compare` and :func:`attribution.decisions.roi.channel_roi` so that every figure of a
comparison or an ROI table carries its interval.

Resampling schemes
------------------
``"customer"`` (the default when the journeys carry customer ids)
    A cluster bootstrap: customers are drawn with replacement, each drawn customer bringing all
    of their journeys. Journeys of one person are not independent (repeat purchases, shared
    history), so resampling persons keeps that dependence inside each replicate.
``"journey"`` (the default otherwise, e.g. for path tables)
    Individual journeys are drawn with replacement. A path-table row stands for
    ``conversions + nulls`` journeys with the same path, so resampling ``N`` individual journeys
    is a multinomial draw of ``N`` over the cells (row, converted) and (row, not converted),
    with probabilities proportional to their counts. It is drawn for many replicates at once
    (vectorised); the value per conversion of each row is kept fixed. For journeys built from
    events (one journey per row) this is exactly resampling journeys.

A replicate is the original journey set with new counts (a journey drawn twice counts twice);
the model is refitted on it. Rule models, whose touch weights do not depend on the other
journeys, skip the refit: their credit is one sparse matrix product for a block of replicates.
"""

from __future__ import annotations

import html
import numbers
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..models._estimator import clone
from ..journeys import Journeys
from ..models.base import NO_TOUCH, AttributionModel, _param_error, get_model

__all__ = ["BootstrapResult", "bootstrap", "check_random_state"]

#: Largest number of replicate × journey cells held in memory at once.
_MAX_CELLS = 20_000_000
_METRICS = ("conversions", "value", "share")


def check_random_state(random_state) -> np.random.Generator:
    """A ``numpy.random.Generator`` from ``None``, an int, a ``SeedSequence`` or a Generator.

    Examples
    --------
    >>> bool(check_random_state(0).integers(10) == check_random_state(0).integers(10))
    True
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(random_state, bool):
            raise TypeError(f"random_state must be None, an int or a numpy Generator. Got {random_state!r} instead.")
        return np.random.default_rng(random_state)
    raise TypeError(
        f"random_state must be None, an int or a numpy Generator. Got {type(random_state).__name__} instead."
    )


def _model_label(model: Any) -> str:
    if isinstance(model, str):
        return model.strip()
    if isinstance(model, AttributionModel):
        return model.model_name or type(model).__name__
    if isinstance(model, type):
        return getattr(model, "model_name", None) or model.__name__
    return str(model)


# ---------------------------------------------------------------------------------------------
# replicate weights
# ---------------------------------------------------------------------------------------------


def _scheme(journeys: Journeys, by: str) -> str:
    if by not in ("auto", "customer", "journey"):
        raise ValueError(
            f"The 'by' parameter of bootstrap must be 'auto', 'customer' or 'journey'. Got {by!r} instead."
        )
    if by == "customer" and journeys.customer is None:
        raise ValueError(
            "bootstrap(by='customer') needs customer ids, but these journeys carry none (path tables "
            "have none). Build the journeys with Journeys.from_events(...), or pass by='journey'."
        )
    if by == "auto":
        return "customer" if journeys.customer is not None else "journey"
    return by


def _replicate_counts(journeys: Journeys, scheme: str, n: int, rng: np.random.Generator):
    """Yield ``(conversions, nulls, value)`` blocks of shape (block, J), one row per replicate."""
    J = journeys.n_journeys
    conv = journeys.conversions
    nulls = journeys.nulls
    value = journeys.value
    block = int(max(1, min(n, _MAX_CELLS // max(J, 1))))
    if scheme == "customer":
        codes, uniques = pd.factorize(pd.Series(journeys.customer, dtype=object), use_na_sentinel=False)
        K = len(uniques)
        done = 0
        while done < n:
            b = min(block, n - done)
            draws = rng.integers(0, K, size=(b, K))
            counts = np.bincount((draws + np.arange(b)[:, None] * K).ravel(), minlength=b * K).reshape(b, K)
            m = counts[:, codes].astype(np.float64)  # multiplicity of each journey
            yield conv[None, :] * m, nulls[None, :] * m, value[None, :] * m
            done += b
        return
    # "journey": multinomial over the (row, outcome) cells with positive counts
    cj = np.flatnonzero(conv > 0)
    nj = np.flatnonzero(nulls > 0)
    q = np.concatenate([conv[cj], nulls[nj]])
    total = float(q.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        vpc = np.where(conv > 0, value / np.where(conv > 0, conv, 1.0), 0.0)
    N = int(round(total))
    done = 0
    while done < n:
        b = min(block, n - done)
        c = np.zeros((b, J))
        u = np.zeros((b, J))
        if N > 0:
            draws = rng.multinomial(N, q / total, size=b) * (total / N)
            c[:, cj] = draws[:, : len(cj)]
            u[:, nj] = draws[:, len(cj):]
        yield c, u, c * vpc[None, :]
        done += b


def _replicate_journeys(journeys: Journeys, conv: np.ndarray, nulls: np.ndarray, value: np.ndarray) -> Journeys:
    keep = np.flatnonzero((conv > 0) | (nulls > 0) | (value > 0))
    rep = journeys.take(keep)
    return rep._replace(conversions=conv[keep], nulls=nulls[keep], value=value[keep])


def _is_rule_model(model: AttributionModel) -> bool:
    from ..models.rules import RuleModel

    return isinstance(model, RuleModel)


# ---------------------------------------------------------------------------------------------
# the bootstrap
# ---------------------------------------------------------------------------------------------


def bootstrap(
    model,
    journeys: Journeys,
    n: int = 200,
    *,
    level: float = 0.9,
    by: str = "auto",
    random_state=0,
    progress: bool = True,
) -> BootstrapResult:
    r"""Bootstrap percentile intervals for a model's credit per channel.

    Parameters
    ----------
    model : str, AttributionModel subclass or instance
        A registered name or spec string (``"markov:order=2"``), a class or an instance (an
        instance is cloned; it is not modified).
    journeys : Journeys
    n : int, default 200
        Number of bootstrap replicates.
    level : float, default 0.9
        Coverage of the percentile intervals, in (0, 1).
    by : {"auto", "customer", "journey"}, default "auto"
        Resampling unit (see the module docstring): customers when the journeys carry customer
        ids, else individual journeys (multinomial resampling of path-table counts).
    random_state : int, numpy Generator or None, default 0
        Seeds the resampling.
    progress : bool, default True
        Show a tqdm progress bar over the replicates (on stderr).

    Returns
    -------
    BootstrapResult
        Point estimates (the model fitted on all journeys), replicates and intervals.

    Raises
    ------
    TypeError
        If ``journeys`` is not a :class:`~attribution.journeys.Journeys`.
    ValueError
        For an invalid ``n``, ``level`` or ``by``.

    Notes
    -----
    With :math:`\hat\theta^{*}_1, \dots, \hat\theta^{*}_B` the credits of the ``B`` replicates,
    the percentile interval at level :math:`1 - \alpha` is
    :math:`[q_{\alpha/2}, q_{1 - \alpha/2}]` of the replicates (Efron & Tibshirani 1993, ch. 13).
    Each replicate draws as many units (customers, or journeys) as the data hold. For path
    tables with non-integer counts ``N`` is the rounded total count and the drawn counts are
    rescaled by ``total / N`` so that their expectation equals the original counts.

    The interval describes sampling noise of the *model's* credit. It says nothing about the
    model's bias: a model whose credit differs from a channel's causal effect (every rule model,
    and Markov removal effects when channels target high-intent customers) has intervals that
    miss the causal truth however many journeys there are.

    Rule models are not refitted: their touch weights depend only on each journey, so a
    replicate's credit is :math:`A\,c^{*}` with :math:`A_{kj} = \sum_{t \in j,\,ch(t)=k} w_t`
    and :math:`c^{*}` the replicate's counts (identical to refitting, much faster).

    References
    ----------
    .. [1] Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman &
       Hall. Chapters 13 (percentile intervals) and 8.3 (resampling clusters).
    .. [2] Field survey §0 (no open tool reports bootstrap intervals for attribution).

    Examples
    --------
    >>> import pandas as pd
    >>> from attribution import Journeys
    >>> from attribution.uncertainty import bootstrap
    >>> paths = pd.DataFrame({"path": ["a > b", "b", "a"], "total_conversions": [30, 10, 5],
    ...                       "total_null": [70, 90, 95]})
    >>> res = bootstrap("linear", Journeys.from_paths(paths), n=100, progress=False)
    >>> float(res.credits.loc["a", "conversions"])
    20.0
    >>> bool(res.credits.loc["a", "conversions_low"] < 20 < res.credits.loc["a", "conversions_high"])
    True
    """
    if not isinstance(journeys, Journeys):
        raise TypeError(
            f"bootstrap expects a Journeys object; got {type(journeys).__name__}. Build one with "
            "Journeys.from_events(...) or Journeys.from_paths(...)."
        )
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise _param_error("bootstrap", "n", "a positive integer", n)
    _check_level(level, "bootstrap")
    if not isinstance(progress, (bool, np.bool_)):
        raise _param_error("bootstrap", "progress", "True or False", progress, TypeError)
    scheme = _scheme(journeys, by)
    label = _model_label(model)
    base = get_model(model)
    fitted = clone(base).fit(journeys)
    index = fitted.credits_.index
    rng = check_random_state(random_state)

    if progress:
        from tqdm.auto import tqdm
    else:  # tqdm.auto's notebook bar warns about ipywidgets even when disabled
        from tqdm import tqdm

    samples = np.empty((int(n), len(index), 2))
    bar = tqdm(total=int(n), desc=f"bootstrap {label}", unit="replicate", disable=not progress, leave=False)
    try:
        if _is_rule_model(fitted):
            _fill_rule_samples(fitted, journeys, scheme, int(n), rng, samples, index, bar)
        else:
            _fill_refit_samples(base, journeys, scheme, int(n), rng, samples, index, bar)
    finally:
        bar.close()
    return BootstrapResult(
        label=label, model=fitted, samples=samples, index=index, level=float(level), scheme=scheme,
        random_state=random_state,
    )


def _check_level(level, owner: str) -> None:
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0.0 < float(level) < 1.0:
        raise _param_error(owner, "level", "a number strictly between 0 and 1 such as 0.9", level)


def _fill_rule_samples(model, journeys, scheme, n, rng, samples, index, bar) -> None:
    C = journeys.n_channels
    J = journeys.n_journeys
    w = model.touch_weights(journeys)
    A = sp.csr_matrix((w, (journeys.touch_channel, journeys.journey_index)), shape=(C, J))
    empty = journeys.lengths == 0
    rows = {name: k for k, name in enumerate(index)}
    ch_rows = np.array([rows[c] for c in journeys.channels], dtype=np.int64)
    nt_row = rows.get(NO_TOUCH)
    done = 0
    for conv, _nulls, value in _replicate_counts(journeys, scheme, n, rng):
        b = conv.shape[0]
        out = samples[done : done + b]
        out[:] = 0.0
        out[:, ch_rows, 0] = (A @ conv.T).T
        out[:, ch_rows, 1] = (A @ value.T).T
        if nt_row is not None:
            out[:, nt_row, 0] = conv[:, empty].sum(axis=1)
            out[:, nt_row, 1] = value[:, empty].sum(axis=1)
        done += b
        bar.update(b)


def _fill_refit_samples(base, journeys, scheme, n, rng, samples, index, bar) -> None:
    r = 0
    for conv, nulls, value in _replicate_counts(journeys, scheme, n, rng):
        for k in range(conv.shape[0]):
            rep = _replicate_journeys(journeys, conv[k], nulls[k], value[k])
            try:
                cr = clone(base).fit(rep).credits_
            except Exception as exc:  # pragma: no cover - depends on the model
                exc.add_note(f"(raised while fitting bootstrap replicate {r + 1} of {n})")
                raise
            cr = cr.reindex(index, fill_value=0.0)
            samples[r, :, 0] = cr["conversions"].to_numpy()
            samples[r, :, 1] = cr["value"].to_numpy()
            r += 1
            bar.update(1)


# ---------------------------------------------------------------------------------------------
# the result
# ---------------------------------------------------------------------------------------------


class BootstrapResult:
    """Bootstrap replicates of a model's credit and their percentile intervals.

    Returned by :func:`bootstrap`; not meant to be built by hand.

    Attributes
    ----------
    label : str
        The model's name or spec.
    model : AttributionModel
        The model fitted on all journeys (its ``credits_`` are the point estimates).
    n : int
        Number of replicates.
    level : float
        Coverage of the intervals in :attr:`credits`.
    scheme : {"customer", "journey"}
        The resampling unit.
    """

    def __init__(self, *, label, model, samples, index, level, scheme, random_state):
        self.label = label
        self.model = model
        self._samples = samples  # (n, K, 2): conversions, value
        self._index = pd.Index(index, name="channel")
        self.level = level
        self.scheme = scheme
        self.random_state = random_state

    @property
    def n(self) -> int:
        """Number of replicates."""
        return self._samples.shape[0]

    @property
    def estimate(self) -> pd.DataFrame:
        """The point estimates: ``credits_`` of the model fitted on all journeys."""
        return self.model.credits_.copy()

    def replicates(self, metric: str = "conversions") -> pd.DataFrame:
        """One row per replicate, one column per channel.

        Parameters
        ----------
        metric : {"conversions", "value", "share"}
            ``share`` is each channel's share of the replicate's conversions (``"(no touch)"``
            included when present).
        """
        if metric not in _METRICS:
            raise _param_error("BootstrapResult.replicates", "metric", f"one of {list(_METRICS)}", metric)
        cols = pd.Index(self._index, name="channel")
        rep = pd.RangeIndex(self.n, name="replicate")
        if metric == "share":
            conv = self._samples[:, :, 0]
            tot = conv.sum(axis=1, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                data = np.where(tot != 0, conv / np.where(tot != 0, tot, 1.0), np.nan)
        else:
            data = self._samples[:, :, 0 if metric == "conversions" else 1]
        return pd.DataFrame(data, index=rep, columns=cols)

    def intervals(self, level: float | None = None) -> pd.DataFrame:
        """Point estimates with percentile intervals at ``level`` (default: :attr:`level`).

        Returns
        -------
        DataFrame
            Indexed by channel; columns ``conversions, conversions_low, conversions_high,
            value, value_low, value_high, share, share_low, share_high``.
        """
        level = self.level if level is None else level
        _check_level(level, "BootstrapResult.intervals")
        a = (1.0 - float(level)) / 2.0
        est = self.model.credits_.reindex(self._index)
        out = {}
        for metric in _METRICS:
            reps = self.replicates(metric).to_numpy()
            lo, hi = np.nanquantile(reps, [a, 1.0 - a], axis=0) if self.n else (np.nan, np.nan)
            out[metric] = est[metric].to_numpy()
            out[f"{metric}_low"] = lo
            out[f"{metric}_high"] = hi
        return pd.DataFrame(out, index=self._index)

    @property
    def credits(self) -> pd.DataFrame:
        """Point estimates and intervals at :attr:`level` (see :meth:`intervals`)."""
        return self.intervals()

    @property
    def std(self) -> pd.DataFrame:
        """Bootstrap standard deviation of conversions, value and share per channel."""
        return pd.DataFrame({m: self.replicates(m).std(axis=0, ddof=1) for m in _METRICS})

    # -- presentation ---------------------------------------------------------------------

    def _title(self) -> str:
        unit = "customers" if self.scheme == "customer" else "journeys"
        return (
            f"Bootstrap of {self.label}: {self.n} replicates resampling {unit}, "
            f"{self.level:.0%} percentile intervals"
        )

    def summary(self) -> str:
        """A plain-text summary: the credit table with intervals."""
        cr = self.credits
        table = pd.DataFrame(
            {
                "conversions": cr["conversions"].map("{:,.1f}".format),
                f"{self.level:.0%} interval": [
                    f"[{lo:,.1f}, {hi:,.1f}]" for lo, hi in zip(cr["conversions_low"], cr["conversions_high"])
                ],
                "value": cr["value"].map("{:,.2f}".format),
                "value interval": [f"[{lo:,.2f}, {hi:,.2f}]" for lo, hi in zip(cr["value_low"], cr["value_high"])],
                "share": cr["share"].map("{:.1%}".format),
                "share interval": [f"[{lo:.1%}, {hi:.1%}]" for lo, hi in zip(cr["share_low"], cr["share_high"])],
            },
            index=cr.index,
        )
        return self._title() + "\n\n" + table.to_string()

    def _repr_html_(self) -> str:
        from .._display import _html_table

        return (
            f"<div><p><b>{html.escape(self._title())}</b></p>"
            + _html_table(self.credits, {"share": "{:.1%}", "share_low": "{:.1%}", "share_high": "{:.1%}"})
            + "</div>"
        )

    def __repr__(self) -> str:
        return f"<BootstrapResult {self.label!r}: {self.n} replicates by {self.scheme}, level {self.level:g}>"

    def plot(self, metric: str = "conversions", *, truth=None, ax=None):
        """Credit per channel with its interval (see :func:`attribution.plotting.decisions.plot_bootstrap`)."""
        from ..plotting.decisions import plot_bootstrap

        return plot_bootstrap(self, metric=metric, truth=truth, ax=ax)
