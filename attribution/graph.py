"""Order-k channel states and transition counts: the one implementation behind graphs and Markov.

States follow the convention of Anderl et al. (2016) as implemented by ChannelAttribution: at
order ``k`` a state is a window of ``k`` consecutive touches; a path of ``n >= k`` touches walks
through its ``n - k + 1`` windows, and a path shorter than ``k`` is one state (the whole path).
Every journey starts at ``(start)`` and ends in ``(conversion)`` (weight: its conversions) and
``(null)`` (weight: its non-converting count); every inner step is weighted by conversions +
nulls. Consecutive repeated states (self-loops) are kept: they do not change absorption
probabilities, so removal effects are the same with or without them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["START", "CONVERSION", "NULL", "TransitionCounts", "transition_counts", "to_networkx"]

START = "(start)"
CONVERSION = "(conversion)"
NULL = "(null)"


@dataclass(frozen=True)
class TransitionCounts:
    """Weighted transition counts between the states of an order-k channel chain.

    Nodes are numbered ``0`` = ``(start)``, ``1..S`` = channel states, ``S + 1`` =
    ``(conversion)``, ``S + 2`` = ``(null)``.

    Attributes
    ----------
    order : int
    channels : ndarray of str
        The journeys' channels.
    states : list
        Labels of the ``S`` channel states: a channel name at order 1, a tuple of channel names
        (oldest first) at higher orders.
    state_channels : ndarray of int, shape (S, order)
        Channel codes in each state (``-1`` pads states shorter than ``order``).
    src, dst : ndarray of int
        Edge endpoints (node numbers), one row per distinct edge with positive count.
    count : ndarray of float
        Edge weights (journeys, weighted by their counts).
    outcome_count, outcome_value : ndarray of float, shape (S + 1, P)
        Conversions (and their value) leaving each transient node, split by conversion outcome
        (e.g. the conversion place; ``P = 1`` when no outcome was given). Row 0 is ``(start)``:
        journeys without touches convert straight from it.
    """

    order: int
    channels: np.ndarray
    states: list
    state_channels: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    count: np.ndarray
    outcome_count: np.ndarray
    outcome_value: np.ndarray

    @property
    def n_states(self) -> int:
        """Number of channel states ``S``."""
        return len(self.states)

    @property
    def n_nodes(self) -> int:
        """``S + 3``: start, channel states, conversion, null."""
        return len(self.states) + 3

    @property
    def labels(self) -> list:
        """Node labels in node-number order."""
        return [START, *self.states, CONVERSION, NULL]

    def out_totals(self) -> np.ndarray:
        """Total outgoing count of every node."""
        return np.bincount(self.src, weights=self.count, minlength=self.n_nodes)

    def probability(self) -> np.ndarray:
        """Transition probability of every edge (count / total out of its source)."""
        out = self.out_totals()
        return self.count / out[self.src]

    def edges_frame(self) -> pd.DataFrame:
        """Edges as a long DataFrame: ``from, to, count, probability``."""
        labels = np.empty(self.n_nodes, dtype=object)
        labels[:] = self.labels
        return pd.DataFrame(
            {"from": labels[self.src], "to": labels[self.dst], "count": self.count,
             "probability": self.probability()}
        )

    def probability_frame(self, max_nodes: int = 5000) -> pd.DataFrame:
        """Transition probabilities as a square DataFrame (rows: from, columns: to).

        Absorbing states get probability 1 to themselves. Raises for more than ``max_nodes``
        nodes (use :meth:`edges_frame` for large chains).
        """
        n = self.n_nodes
        if n > max_nodes:
            raise ValueError(
                f"The order-{self.order} chain has {n:,} states; a dense matrix would have {n * n:,} "
                f"cells. Use transition_counts(order).edges_frame() for the long format, or raise max_nodes."
            )
        m = np.zeros((n, n))
        np.add.at(m, (self.src, self.dst), self.probability())
        m[n - 2, n - 2] = m[n - 1, n - 1] = 1.0
        index = pd.Index(self.labels, tupleize_cols=False)
        return pd.DataFrame(m, index=index.copy(), columns=index.copy())


def _codes(keys: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` for non-negative int keys below ``bound``, in linear time.

    A lookup table when ``bound`` is small, hashing (``pandas.factorize``) otherwise; no sort of
    the keys themselves (only of the distinct ones).
    """
    if bound <= 1 << 24:
        present = np.zeros(bound, dtype=bool)
        present[keys] = True
        uniq = np.flatnonzero(present)
        lookup = np.zeros(bound, dtype=np.int64)
        lookup[uniq] = np.arange(len(uniq))
        return uniq.astype(np.int64), lookup[keys]
    import pandas as pd

    inverse, uniq = pd.factorize(keys, sort=True)
    return np.asarray(uniq, dtype=np.int64), inverse.astype(np.int64)


def _check_order(order) -> int:
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"The 'order' parameter must be a positive integer. Got {order!r} instead.")
    return int(order)


def state_sequence(journeys, order: int):
    """The order-k state of every window-ending touch.

    Returns ``(keys, journey)``: an int64 key per state visit (digits base ``C + 1``, the
    latest touch in the lowest digit, 0 for padding) and the journey of each visit, in walk order.
    """
    order = _check_order(order)
    C = journeys.n_channels
    base = np.int64(C + 1)
    if order * np.log2(C + 1) >= 62:
        raise ValueError(
            f"order={order} with {C} channels gives more states than fit a 64-bit key; "
            "lower the order or group channels."
        )
    tc = journeys.touch_channel.astype(np.int64) + 1
    pos = journeys.position
    length = journeys.lengths[journeys.journey_index]
    key = np.zeros(len(tc), dtype=np.int64)
    for d in range(order):
        shifted = np.zeros_like(tc)
        shifted[d:] = tc[: len(tc) - d]
        key += np.where(pos >= d, shifted, 0) * base**d
    ends = (pos >= order - 1) | ((length < order) & (pos == length - 1))
    return key[ends], journeys.journey_index[ends]


def transition_counts(journeys, order: int = 1, outcome=None, n_outcomes: int | None = None) -> TransitionCounts:
    """Count order-``order`` state transitions over all journeys (converting and not).

    Parameters
    ----------
    journeys : Journeys
    order : int, default 1
    outcome : int array of shape (n_journeys,), optional
        Outcome code of each journey's conversions (e.g. its conversion place), for chains with
        one absorbing conversion state per outcome. Default: one outcome.
    n_outcomes : int, optional
        Number of outcome codes (default ``outcome.max() + 1``).

    Returns
    -------
    TransitionCounts
    """
    order = _check_order(order)
    keys, jid = state_sequence(journeys, order)
    uniq, state = _codes(keys, (journeys.n_channels + 1) ** order)
    S = len(uniq)
    node = state.astype(np.int64) + 1  # 0 is (start)
    conv_node, null_node = S + 1, S + 2
    J = journeys.n_journeys
    w = journeys.conversions + journeys.nulls

    # first and last state of each journey (journeys without touches have none)
    has = np.zeros(J, dtype=bool)
    has[jid] = True
    first = np.zeros(J, dtype=np.int64)
    last = np.zeros(J, dtype=np.int64)
    if len(jid):
        starts = np.flatnonzero(np.r_[True, jid[1:] != jid[:-1]])
        ends = np.r_[starts[1:] - 1, len(jid) - 1]
        first[jid[starts]] = node[starts]
        last[jid[ends]] = node[ends]
    # last node is (start) for journeys without touches: they absorb straight from it
    inner = np.flatnonzero(jid[1:] == jid[:-1]) if len(jid) else np.zeros(0, np.int64)
    src = np.concatenate([np.zeros(int(has.sum()), np.int64), node[inner], last, last])
    dst = np.concatenate([first[has], node[inner + 1], np.full(J, conv_node), np.full(J, null_node)])
    cnt = np.concatenate([w[has], w[jid[inner]], journeys.conversions, journeys.nulls])
    n = S + 3
    edge_key, inv = _codes(src * n + dst, n * n)
    count = np.bincount(inv, weights=cnt, minlength=len(edge_key))
    keep = count > 0
    edge_key, count = edge_key[keep], count[keep]

    digits = np.stack([(uniq // (journeys.n_channels + 1) ** d) % (journeys.n_channels + 1) for d in range(order)][::-1], axis=1) - 1 if S else np.zeros((0, order), np.int64)
    names = journeys.channels
    if order == 1:
        states = names[digits[:, 0]].tolist() if S else []
    else:
        padded = np.append(names, None).astype(object)  # code -1 -> None (padding)
        states = list(zip(*(padded[digits[:, i]] for i in range(order)))) if S else []
        short = np.flatnonzero((digits < 0).any(axis=1))  # states of paths shorter than the order
        for i in short.tolist():
            states[i] = tuple(c for c in states[i] if c is not None)
    if outcome is None:
        outcome = np.zeros(J, dtype=np.int64)
    outcome = np.asarray(outcome, dtype=np.int64)
    P = int(n_outcomes if n_outcomes is not None else (outcome.max(initial=0) + 1))
    key = last * P + outcome
    outcome_count = np.bincount(key, weights=journeys.conversions, minlength=(S + 1) * P).reshape(S + 1, P)
    outcome_value = np.bincount(key, weights=journeys.value, minlength=(S + 1) * P).reshape(S + 1, P)
    return TransitionCounts(
        order=order,
        channels=names,
        states=states,
        state_channels=digits.astype(np.int64),
        src=edge_key // n,
        dst=edge_key % n,
        count=count,
        outcome_count=outcome_count,
        outcome_value=outcome_value,
    )


def to_networkx(tc: TransitionCounts):
    """The channel-path graph as a ``networkx.DiGraph``.

    Nodes: ``(start)``, the channel states, ``(conversion)``, ``(null)``; edges carry ``count``
    and ``probability``. Out-probabilities sum to 1 at every non-absorbing node.
    """
    import networkx as nx

    g = nx.DiGraph(order=tc.order)
    labels = tc.labels
    g.add_nodes_from(labels)
    prob = tc.probability()
    g.add_edges_from(
        (labels[s], labels[d], {"count": float(c), "probability": float(p)})
        for s, d, c, p in zip(tc.src.tolist(), tc.dst.tolist(), tc.count, prob)
    )
    return g
