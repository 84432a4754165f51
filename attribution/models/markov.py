"""Markov-chain removal-effect attribution of any order, computed exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ..graph import TransitionCounts, to_networkx, transition_counts
from ..journeys import Journeys
from .._resources import check_memory
from ..exceptions import ModelFallbackWarning
from .base import (
    AttributionModel,
    ChannelCredit,
    _param_error,
    _warn_user,
    credit_from_shares,
    place_codes,
    register_model,
)

__all__ = ["Markov", "absorption"]

#: Pseudo-count of the back-off smoothing used by order selection.
SMOOTHING = 2.0


def absorption(tc: TransitionCounts, removed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """P(conversion) and expected conversion value from ``(start)``, exactly, per outcome.

    Solves ``(I - Q) X = B`` by LU over the transient nodes (start and channel states): dense
    (``numpy.linalg.solve``) up to ``DENSE_SOLVE_MAX`` nodes, sparse (``scipy.sparse.linalg.splu``)
    beyond.
    Column ``p`` of ``B`` holds the one-step probability of converting with outcome ``p`` (e.g.
    at place ``p``); the value columns hold that probability times the mean value of those
    conversions, i.e. ``outcome_value / out_count``. States flagged in ``removed`` are deleted:
    every transition into them goes to ``(null)`` instead.

    Parameters
    ----------
    tc : TransitionCounts
    removed : bool array of shape (S,), optional
        Channel states to remove.

    Returns
    -------
    p_conversion, expected_value : ndarray of shape (P,)
        Per outcome; their sums are the totals.
    """
    S = tc.n_states
    n_t = S + 1  # transient nodes: start + states
    prob = tc.probability()
    src, dst = tc.src, tc.dst
    keep_node = np.ones(n_t, dtype=bool)
    if removed is not None:
        keep_node[1:] = ~removed
    inner = (dst < n_t) & keep_node[src] & keep_node[np.minimum(dst, n_t - 1)]
    out = tc.out_totals()[:n_t]
    safe = np.where(out > 0, out, 1.0)[:, None]
    B = np.hstack([tc.outcome_count / safe, tc.outcome_value / safe])
    idx = np.cumsum(keep_node) - 1  # new index of kept nodes
    n = int(keep_node.sum())
    rows, cols = idx[src[inner]], idx[dst[inner]]
    rhs = np.ascontiguousarray(B[keep_node])
    if n <= DENSE_SOLVE_MAX:  # small chains: dense LU, and no scipy import for a first-order fit
        A = np.eye(n)
        np.add.at(A, (rows, cols), -prob[inner])
        x = np.linalg.solve(A, rhs)
    else:
        import scipy.sparse as sp
        from scipy.sparse.linalg import splu

        Q = sp.csc_matrix((prob[inner], (rows, cols)), shape=(n, n))
        A = (sp.identity(n, format="csc") - Q).tocsc()
        x = splu(A).solve(rhs)
    P = tc.outcome_count.shape[1]
    return x[0, :P].copy(), x[0, P:].copy()


#: Chains with at most this many transient nodes are solved by dense LU (see absorption). Kept
#: small: from about 100 nodes OpenBLAS runs LU on several threads, which costs far more than
#: it saves on a busy machine (0.2 s per 157-node solve at a load of 12 on 2 cores).
DENSE_SOLVE_MAX = 64
#: Chains with more transient states than this are solved by iteration (see _solve_all).
LU_MAX_STATES = 1500


def _chain(tc: TransitionCounts):
    """(Q without self-loops, B) over the transient nodes; see :func:`_solve_all`."""
    import scipy.sparse as sp

    n = tc.n_states + 1
    prob = tc.probability()
    src, dst = tc.src, tc.dst
    loop = src == dst
    self_p = np.zeros(n)
    self_p[src[loop]] = prob[loop]
    scale = 1.0 / (1.0 - self_p)  # a self-loop only delays absorption: fold it into the row
    inner = (dst < n) & ~loop
    Q = sp.csr_matrix((prob[inner] * scale[src[inner]], (src[inner], dst[inner])), shape=(n, n))
    out = tc.out_totals()[:n]
    safe = np.where(out > 0, out, 1.0)[:, None]
    B = np.hstack([tc.outcome_count / safe, tc.outcome_value / safe]) * scale[:, None]
    return Q, B


def _solve_all(tc: TransitionCounts, contains: np.ndarray, tol: float = 1e-15, max_iter: int = 20_000):
    """P(conversion) and expected value from start, per outcome, for the full chain and every removal.

    Returns arrays of shape (1 + C, P): row 0 the full chain, row 1 + c the chain without the
    states of channel c. Small chains are solved by sparse LU, one factorisation per removal.
    Large order-k chains fill in badly under LU (6,000 states, 28,000 edges: 2.5 million
    non-zeros), so they are solved in adjoint form: the expected visits to every state from
    ``(start)``, ``y = e + Q^T y`` restricted to the kept states, by the fixed-point iteration
    ``Y <- M * (E + Q^T Y)`` for all removals at once (``M`` masks the removed states) until no
    entry changes by more than ``tol`` relative, then ``P = Y^T B``. This is the Neumann series
    of ``(I - Q)^-1``, which converges because every state is transient, to the same answer as
    LU within a few units of round-off. Self-loops are folded into their rows first (they do
    not change absorption probabilities).
    """
    P = tc.outcome_count.shape[1]
    C = contains.shape[1]
    if tc.n_states <= LU_MAX_STATES:
        return _solve_lu(tc, contains)
    Q, B = _chain(tc)
    n = Q.shape[0]
    # adjoint form: expected visits to every state from (start), one column per chain; then
    # P(outcome) = visits . B for all outcomes at once
    # flat positions of (state, removal) pairs to zero: at most `order` per state
    rows, cols = np.nonzero(contains)
    removed = (rows + 1) * (1 + C) + (cols + 1)
    QT = Q.T.tocsr()
    visits = np.zeros((n, 1 + C))
    visits[0] = 1.0
    for it in range(max_iter):
        new = QT @ visits
        new.put(removed, 0.0)
        new[0] += 1.0
        if it % 8 == 7:
            change = np.abs(np.subtract(new, visits, out=visits)).max()
            visits = new
            if change <= tol * np.abs(new).max():
                break
        else:
            visits = new
    else:  # pragma: no cover - guard: chains whose walks almost never end
        return _solve_lu(tc, contains)
    out = visits.T @ B  # (1 + C, 2P)
    return out[:, :P].copy(), out[:, P:].copy()


def _solve_lu(tc: TransitionCounts, contains: np.ndarray):
    res = [absorption(tc)]
    for c in range(contains.shape[1]):
        res.append(absorption(tc, contains[:, c]) if contains[:, c].any() else res[0])
    return np.array([r[0] for r in res]), np.array([r[1] for r in res])


def _removal_effect(base: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """``1 - removed / base`` elementwise, 0 where ``base`` is 0, clipped at 0 (round-off)."""
    re = np.divide(base - removed, base, out=np.zeros_like(base), where=base > 0)
    return np.clip(re, 0.0, None)


@register_model("markov")
class Markov(AttributionModel):
    r"""Markov-chain attribution by removal effect (Anderl et al. 2016), exact, of any order.

    Journeys are walks through an absorbing Markov chain: ``(start)``, channel states,
    ``(conversion)`` and ``(null)``. At order ``k`` a state is a window of the last ``k``
    touches (a path shorter than ``k`` is one state), as in ChannelAttribution. Transition
    probabilities are maximum-likelihood estimates from all journeys, converting and not,
    weighted by their counts: :math:`p(a \to b) = n_{ab} / \sum_{b'} n_{ab'}`.

    With :math:`Q` the transitions among transient states and :math:`b` the one-step
    conversion probabilities, the conversion probability from start is
    :math:`P = [(I - Q)^{-1} b]_{start}`; it equals the empirical conversion rate. The
    **removal effect** of channel :math:`i` is

    .. math:: RE_i = 1 - P_{-i} / P,

    where :math:`P_{-i}` is computed with every state containing :math:`i` deleted (transitions
    into it go to ``(null)``). Credit: :math:`A_i = C \cdot RE_i / \sum_j RE_j` for the
    :math:`C` conversions of journeys with touches. Every :math:`P_{-i}` is an exact linear
    solve: sparse LU (``scipy.sparse.linalg.splu``) for chains of up to ``LU_MAX_STATES``
    states; beyond, where LU fills in badly, the Neumann-series iteration
    of the expected visits from start, for all removals at once, run to machine precision
    (it agrees with LU to about 1e-15). No simulation, no sampling error, no truncated walks.

    **Places.** When the journeys carry a conversion place (online, store, ...), the chain has
    one absorbing conversion state per place, and removal effects are computed per place
    exactly: :math:`RE_{i,p} = 1 - P_{-i,p}/P_p`. Place ``p``'s conversions are split by
    :math:`RE_{i,p} / \sum_j RE_{j,p}` (``place_credits_``) and ``credits_`` is their sum, so an
    online channel earns store credit exactly insofar as removing it loses store conversions.
    Without places this is the single-outcome chain above.

    Value uses the same chain with every conversion worth the mean value of the conversions
    leaving that state: :math:`V = [(I - Q)^{-1} (b \odot \bar v)]_{start}` and
    :math:`RE^V_i = 1 - V_{-i}/V`, value credit :math:`V_{tot} \cdot RE^V_i / \sum_j RE^V_j`.

    Parameters
    ----------
    order : int or "auto", default 1
        Number of past channels in a state. ``"auto"`` picks the order in
        ``1..max_order`` with the smallest cross-validated log-loss of conversion (see Notes).
    collapse_repeats : bool, default False
        Merge consecutive repeats of a channel before building states. At order 1 this does
        not change removal effects (self-loops do not change absorption probabilities).
    max_order : int, default 4
        Largest order tried by ``order="auto"``.
    n_folds : int, default 5
        Folds of the cross-validation of ``order="auto"``.
    random_state : int, Generator or None, default 0
        Seeds the fold assignment of ``order="auto"`` (nothing else is random).

    Attributes
    ----------
    credits_ : DataFrame
        Conversions, value and share per channel.
    removal_effects_ : DataFrame
        ``conversions`` and ``value`` removal effects per channel (all places together).
    place_removal_effects_ : DataFrame
        With places: the conversion removal effect of each channel (rows) at each place.
    conversion_probability_ : float
        P(conversion) from start under the fitted chain.
    expected_value_ : float
        Expected conversion value per journey under the fitted chain.
    transition_matrix_ : DataFrame
        Transition probabilities (long format: ``from, to, count, probability``).
    graph_ : networkx.DiGraph
        The channel-path graph of the fitted order.
    order_ : int
        The order used.
    order_scores_ : DataFrame
        With ``order="auto"``: cross-validated log-loss and AUC per order.

    Notes
    -----
    Order selection: journeys (or, for path tables, their conversion and null counts,
    thinned multinomially) are split into ``n_folds`` folds. For each order a chain is fitted
    on the other folds, and each held-out journey gets the predicted conversion probability
    :math:`p(conv \mid s) / (p(conv \mid s) + p(null \mid s))` of its last state ``s``
    (ChannelAttribution's ``choose_order`` prediction), estimated with back-off smoothing:
    starting from the training conversion rate, the rate of each suffix of length
    1, 2, ..., k of the path is shrunk toward the previous one,
    :math:`\hat p_k = (c_k + m \hat p_{k-1}) / (c_k + n_k + m)` with :math:`m = 2`
    (``SMOOTHING``), so rare and unseen states fall back to shorter histories. The score is the weighted
    Bernoulli log-loss of the held-out outcomes (lower is better; AUC is reported too).

    References
    ----------
    Anderl, E., Becker, I., von Wangenheim, F., Schumann, J. H. (2016). Mapping the customer
    journey: Lessons learned from graph-based online attribution modeling. International
    Journal of Research in Marketing 33(3), 457-474.

    Examples
    --------
    >>> import pandas as pd
    >>> from attribution import Journeys, Markov
    >>> paths = pd.DataFrame({"path": ["a > b > a > b > b > a", "a > b > b > a > a", "a > a"],
    ...                       "total_conversions": [1, 1, 1], "total_null": [0, 0, 0]})
    >>> m = Markov().fit(Journeys.from_paths(paths))
    >>> m.removal_effects_["conversions"].round(6).to_dict()
    {'a': 1.0, 'b': 0.5}
    >>> m.credits_["conversions"].round(6).to_dict()
    {'a': 2.0, 'b': 1.0}
    """

    _nonnegative = True  # removal effects are >= 0, so is the credit
    _uses_nulls = True

    def __init__(self, order=1, collapse_repeats=False, max_order=4, n_folds=5, random_state=0):
        self.order = order
        self.collapse_repeats = collapse_repeats
        self.max_order = max_order
        self.n_folds = n_folds
        self.random_state = random_state

    def _validate_params(self) -> None:
        def positive_int(name, value):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise _param_error(self, name, "a positive integer", value)

        if self.order != "auto":
            positive_int("order", self.order)
        positive_int("max_order", self.max_order)
        if isinstance(self.n_folds, bool) or not isinstance(self.n_folds, (int, np.integer)) or self.n_folds < 2:
            raise _param_error(self, "n_folds", "an integer of at least 2", self.n_folds)
        if not isinstance(self.collapse_repeats, (bool, np.bool_)):
            raise _param_error(self, "collapse_repeats", "True or False", self.collapse_repeats, TypeError)

    def _channel_credit(self, journeys: Journeys) -> ChannelCredit:
        jr = journeys.transform(collapse_repeats=True) if self.collapse_repeats else journeys
        longest = int(jr.lengths.max()) if jr.n_journeys else 0
        if self.order == "auto":
            if jr.n_touches == 0 or (jr.total_conversions + jr.total_nulls) == 0:
                self.order_scores_ = pd.DataFrame({"log_loss": [], "auc": []}, index=pd.Index([], name="order"))
                self.order_ = 1
                _warn_user(
                    "Markov(order='auto'): the journeys have no touches or no journeys to score, so no order "
                    "can be chosen; order 1 is used.",
                    ModelFallbackWarning,
                )
            else:
                max_order = max(1, min(int(self.max_order), longest))
                self.order_scores_ = _order_scores(jr, max_order, int(self.n_folds), self.random_state)
                self.order_ = int(self.order_scores_["log_loss"].idxmin())  # ties: the smaller order
        else:
            self.order_ = int(self.order)
            if self.order_ > max(longest, 1):
                _warn_user(
                    f"Markov(order={self.order_}): the longest path has {longest} touch(es), so order "
                    f"{max(longest, 1)} is used (every higher order gives the same chain on these paths).",
                    ModelFallbackWarning,
                )
                self.order_ = max(longest, 1)
        # one absorbing conversion state per conversion place (a single one without places)
        codes, places = place_codes(journeys)
        P = 1 if places is None else len(places)
        tc = transition_counts(jr, self.order_, outcome=codes, n_outcomes=P)
        C = jr.n_channels
        # the removal solve holds (states x (1 + channels)) floats a few times over
        check_memory(
            tc.n_states * (1.0 + C) * (3 * 8 + 1),
            f"Markov(order={self.order_}) with {tc.n_states:,} states and {C:,} channels",
            "Use a lower order, or group rare channels before fitting (e.g. Journeys.transform(exclude=...) "
            "or renaming them to one 'other' channel).",
        )
        contains = np.zeros((tc.n_states, C), dtype=bool)
        rows = np.repeat(np.arange(tc.n_states), tc.order)
        flat = tc.state_channels.ravel()
        contains[rows[flat >= 0], flat[flat >= 0]] = True
        p_all, v_all = _solve_all(tc, contains)
        p, v = p_all[0], v_all[0]
        p_without, v_without = p_all[1:], v_all[1:]
        index = pd.Index(jr.channels, name="channel")
        self.conversion_probability_ = float(p.sum())
        self.expected_value_ = float(v.sum())
        self.removal_effects_ = pd.DataFrame(
            {
                "conversions": _removal_effect(np.full(C, p.sum()), p_without.sum(axis=1)),
                "value": _removal_effect(np.full(C, v.sum()), v_without.sum(axis=1)),
            },
            index=index,
        )
        re_conv = _removal_effect(np.broadcast_to(p, (C, P)), p_without)
        re_value = _removal_effect(np.broadcast_to(v, (C, P)), v_without)
        if places is not None:
            self.place_removal_effects_ = pd.DataFrame(re_conv, index=index, columns=pd.Index(places, name="place"))
        self._tc = tc
        self.transition_matrix_ = tc.edges_frame()
        # a place whose removal effects are all zero (no touched conversions there) gets equal
        # shares; it has nothing to distribute anyway
        re_conv[:, re_conv.sum(axis=0) == 0] = 1.0
        re_value[:, re_value.sum(axis=0) == 0] = re_conv[:, re_value.sum(axis=0) == 0]
        bad = ~np.isfinite(re_value).all(axis=0)
        if bad.any():
            # value per conversion beyond float64 (conversion counts near 1e-308): the value
            # removal effects are undefined; the value follows the conversion shares instead
            _warn_user(
                "Markov: the value per conversion overflows float64 (conversion counts as small as "
                f"{float(np.min(journeys.conversions[journeys.conversions > 0])):.3g}), so the value removal "
                "effects are undefined; value is split by the conversion removal effects instead.",
                ModelFallbackWarning,
            )
            re_value[:, bad] = re_conv[:, bad]
        return credit_from_shares(journeys, re_conv, re_value)

    @property
    def graph_(self):
        """The channel-path graph (networkx.DiGraph) of the fitted chain."""
        if "_tc" not in self.__dict__:
            return self.__getattr__("graph_")
        return to_networkx(self._tc)


def _fold_split(journeys: Journeys, n_folds: int, random_state):
    """Split conversion and null counts into folds: arrays of shape (n_folds, J) each."""
    rng = np.random.default_rng(random_state)
    conv, nulls = journeys.conversions, journeys.nulls
    integral = np.all(conv == np.round(conv)) and np.all(nulls == np.round(nulls))
    p = np.full(n_folds, 1.0 / n_folds)
    if integral:
        fc = rng.multinomial(conv.astype(np.int64), p).T.astype(float)
        fn = rng.multinomial(nulls.astype(np.int64), p).T.astype(float)
    else:
        fold = rng.integers(0, n_folds, journeys.n_journeys)
        onehot = fold[None, :] == np.arange(n_folds)[:, None]
        fc, fn = onehot * conv, onehot * nulls
    return fc, fn


def _last_state_keys(journeys: Journeys, order: int) -> np.ndarray:
    """Key of the last order-k state of every journey (-1 for journeys without touches)."""
    from ..graph import state_sequence

    keys, jid = state_sequence(journeys, order)
    last = np.full(journeys.n_journeys, -1, dtype=np.int64)
    last[jid] = keys  # later visits overwrite earlier ones: the last state remains
    return last


def _order_scores(journeys: Journeys, max_order: int, n_folds: int, random_state) -> pd.DataFrame:
    """Cross-validated log-loss and AUC of last-state conversion prediction per order."""
    from sklearn.metrics import roc_auc_score

    fc, fn = _fold_split(journeys, n_folds, random_state)
    # last-state keys per order (suffix of length <= k of the path), reused for back-off
    lasts = {k: _last_state_keys(journeys, k) for k in range(1, max_order + 1)}
    # a suffix of length kk exists only for paths of at least kk touches
    long_enough = [journeys.lengths >= kk for kk in range(1, max_order + 1)]
    rows = []
    for k in range(1, max_order + 1):
        pred = np.zeros((n_folds, journeys.n_journeys))
        for f in range(n_folds):
            tr_c = fc.sum(axis=0) - fc[f]
            tr_n = fn.sum(axis=0) - fn[f]
            base = tr_c.sum() / max(tr_c.sum() + tr_n.sum(), 1e-300)
            p = np.full(journeys.n_journeys, base)
            # back off from order 1 up to k: longer seen suffixes overwrite shorter ones
            for kk in range(1, k + 1):
                key = lasts[kk]
                uniq, inv = np.unique(key, return_inverse=True)
                c = np.bincount(inv, weights=tr_c, minlength=len(uniq))
                n = np.bincount(inv, weights=tr_n, minlength=len(uniq))
                # Dirichlet smoothing toward the shorter suffix's rate (pseudo-count SMOOTHING)
                rate = (c[inv] + SMOOTHING * p) / ((c + n)[inv] + SMOOTHING)
                p = np.where(long_enough[kk - 1], rate, p)
            pred[f] = p
        eps = 1e-12
        pc = np.clip(pred, eps, 1 - eps)
        loss = -(fc * np.log(pc) + fn * np.log(1 - pc)).sum() / (fc.sum() + fn.sum())
        y = np.concatenate([np.ones(fc.size), np.zeros(fn.size)])
        w = np.concatenate([fc.ravel(), fn.ravel()])
        s = np.concatenate([pred.ravel(), pred.ravel()])
        auc = roc_auc_score(y[w > 0], s[w > 0], sample_weight=w[w > 0]) if (fc.sum() > 0 and fn.sum() > 0) else np.nan
        rows.append({"order": k, "log_loss": loss, "auc": auc})
    return pd.DataFrame(rows).set_index("order")
