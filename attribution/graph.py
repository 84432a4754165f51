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
    the keys themselves (only of the distinct ones). Codes are int32.
    """
    if bound <= 1 << 22:
        present = np.zeros(bound, dtype=bool)
        present[keys] = True
        uniq = np.flatnonzero(present)
        lookup = np.zeros(bound, dtype=np.int32)
        lookup[uniq] = np.arange(len(uniq), dtype=np.int32)
        return uniq.astype(np.int64), lookup[keys]
    codes, uniq = pd.factorize(keys, sort=True)
    return np.asarray(uniq, dtype=np.int64), codes.astype(np.int32)


def _check_order(order) -> int:
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"The 'order' parameter must be a positive integer. Got {order!r} instead.")
    return int(order)


def _check_key_size(n_channels: int, order: int) -> None:
    if order * np.log2(n_channels + 1) >= 62:
        raise ValueError(
            f"order={order} with {n_channels} channels gives more states than fit a 64-bit key; "
            "lower the order or group channels."
        )


def _state_keys(touch_channel: np.ndarray, offsets: np.ndarray, n_channels: int, order: int) -> np.ndarray:
    """The order-k state key of every touch, 0 where the touch ends no state window.

    A touch ends a window when its position in the journey is ``>= order - 1``, or when it is
    the last touch of a path shorter than ``order`` (that path is one state). Keys are digits
    base ``C + 1``, the latest touch in the lowest digit, 0 for padding (int32 when they fit).
    ``offsets`` start at 0 and delimit the journeys of ``touch_channel``.
    """
    base = n_channels + 1
    kdt = np.int32 if base**order < 2**31 else np.int64
    T = len(touch_channel)
    key = touch_channel.astype(kdt)
    key += 1
    if order == 1 or T == 0:
        return key
    starts, lengths = offsets[:-1], np.diff(offsets)
    # inside a journey the window key is a plain sliding sum of digits
    low = key.copy()
    for d in range(1, order):
        key[d:] += low[: T - d] * kdt(base**d)
    short = np.flatnonzero((lengths > 0) & (lengths < order))
    last = offsets[1:][short] - 1
    short_key = np.zeros(len(short), dtype=kdt)  # a path shorter than the order: the whole path
    for d in range(order - 1):
        ok = lengths[short] > d
        short_key[ok] += low[last[ok] - d] * kdt(base**d)
    del low
    for d in range(order - 1):  # the first order - 1 touches end no window
        key[starts[lengths > d] + d] = 0
    key[last] = short_key
    return key


#: Touches per block of :func:`transition_counts` (bounds its temporary arrays).
BLOCK_TOUCHES = 1 << 20
#: Largest key space counted with a dense table (``np.bincount``); larger ones are hashed.
DENSE_MAX = 1 << 22


def _blocks(offsets: np.ndarray, touches: int | None = None) -> list[tuple[int, int]]:
    """Journey ranges ``(j0, j1)`` of about ``touches`` touches each (at least one journey)."""
    J = len(offsets) - 1
    if J == 0:
        return []
    touches = touches or BLOCK_TOUCHES
    cuts = np.searchsorted(offsets, np.arange(touches, int(offsets[-1]), touches), side="left")
    edges = np.unique(np.concatenate([[0], cuts, [J]]))
    return list(zip(edges[:-1].tolist(), edges[1:].tolist()))


def state_sequence(journeys, order: int):
    """The order-k state of every window-ending touch.

    Returns ``(keys, journey)``: an int64 key per state visit (digits base ``C + 1``, the
    latest touch in the lowest digit, 0 for padding) and the journey of each visit, in walk order.
    """
    order = _check_order(order)
    _check_key_size(journeys.n_channels, order)
    key = _state_keys(journeys.touch_channel, journeys.offsets, journeys.n_channels, order)
    visit = key > 0
    return key[visit].astype(np.int64), journeys.journey_index[visit]


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

    Notes
    -----
    Flat integer arrays and no Python loop over journeys: every touch gets its state key (a
    sliding sum of base-``C + 1`` digits; 0 for touches that end no window), the keys present
    are numbered through a lookup table (hashing for very many possible states), and each pair
    of consecutive touches gets one integer edge key ``from * n + to``, counted with
    ``np.bincount`` weighted by its journey's count, where pairs that cross a journey boundary
    or start before the first full window weigh 0. ``(start)`` -> first state and last state
    -> ``(conversion)`` / ``(null)`` are per-journey bincounts. Touch-sized arrays are int32
    where they fit and are freed as soon as they are used; the counts are the same sums as a
    walk over every journey (tested against one).
    """
    order = _check_order(order)
    C = journeys.n_channels
    _check_key_size(C, order)
    J = journeys.n_journeys
    offsets = journeys.offsets
    lengths = np.diff(offsets)
    touch_channel = journeys.touch_channel
    base = C + 1
    w = journeys.conversions + journeys.nulls

    # Blocks of about a million touches bound the temporaries; the counts are sums over blocks.
    key_bound = base**order
    blocks = _blocks(offsets) if key_bound <= DENSE_MAX else [(0, J)] if J else []

    def block_keys(j0, j1):
        lo, hi = offsets[j0], offsets[j1]
        return _state_keys(touch_channel[lo:hi], offsets[j0 : j1 + 1] - lo, C, order)

    if key_bound <= DENSE_MAX:
        # the states present, numbered 1..S in key order (0 is (start); key 0 = no window)
        present = np.zeros(key_bound, dtype=bool)
        for j0, j1 in blocks:
            present[block_keys(j0, j1)] = True
        present[0] = False
        uniq = np.flatnonzero(present).astype(np.int64)
        del present
        lookup = np.zeros(key_bound, dtype=np.int32)
        lookup[uniq] = np.arange(1, len(uniq) + 1, dtype=np.int32)
        node_of = lookup.take
    else:  # very many possible states: hash the keys of all touches at once
        uniq, code = _codes(block_keys(0, J), key_bound)
        if len(uniq) and uniq[0] == 0:
            uniq = uniq[1:]
        else:
            code += 1
        node_of = lambda key: code  # noqa: E731  (one block)
    S = len(uniq)
    n = S + 3
    conv_node, null_node = S + 1, S + 2

    # An inner step's target state is its source state shifted by one touch: the source's
    # newest order - 1 channels plus the next touch's channel. So (source node, next channel)
    # identifies the edge, and its key space (S + 1) * (C + 1) is small enough for a bincount.
    bound = (S + 1) * base
    dense = bound <= DENSE_MAX
    cell_count = np.zeros(bound) if dense else None
    cells, cell_counts = [], []
    last = np.zeros(J, dtype=np.int32)  # journeys without touches absorb from (start)
    first = np.zeros(J, dtype=np.int32)
    for j0, j1 in blocks:
        lo, hi = int(offsets[j0]), int(offsets[j1])
        node = node_of(block_keys(j0, j1))
        st, ln = offsets[j0:j1] - lo, lengths[j0:j1]
        ne = ln > 0
        last[j0:j1][ne] = node[(st + ln - 1)[ne]]
        first[j0:j1][ne] = node[(st + np.minimum(order, ln) - 1)[ne]]
        if hi - lo < 2:
            continue
        # consecutive touches t -> t + 1 weighted by the journey's count; 0 unless t + 1 is at
        # position >= order (then both end a window of the same journey)
        wt = np.repeat(w[j0:j1], ln)
        for d in range(order):
            wt[st[ln > d] + d] = 0.0
        wt = wt[1:]
        if dense:
            edge = node[:-1] * np.int32(base) if bound < 2**31 else node[:-1].astype(np.int64) * base
            del node
            edge += touch_channel[lo + 1 : hi]
            edge += 1
            cell_count += np.bincount(edge, weights=wt, minlength=bound)
            del edge, wt
        else:
            pairs = np.flatnonzero(wt)
            edge = node[pairs].astype(np.int64) * base + touch_channel[lo + 1 : hi][pairs] + 1
            cell, code2 = _codes(edge, bound)
            cells.append(cell)
            cell_counts.append(np.bincount(code2, weights=wt[pairs], minlength=len(cell)))
            del node, edge, code2, pairs, wt
    if dense:
        cell = np.flatnonzero(cell_count)
        inner_count = cell_count[cell]
    else:
        cell, code = _codes(np.concatenate(cells), bound) if cells else (np.zeros(0, np.int64), None)
        inner_count = np.bincount(code, weights=np.concatenate(cell_counts), minlength=len(cell)) if cells else np.zeros(0)
    src, digit = cell // base, cell % base
    dst_key = (uniq[src - 1] % base ** (order - 1)) * base + digit
    dst = np.searchsorted(uniq, dst_key) + 1
    inner_key = src * n + dst
    nonempty = lengths > 0
    first = first[nonempty]

    start_count = np.bincount(first, weights=w[nonempty], minlength=n)
    conv_count = np.bincount(last, weights=journeys.conversions, minlength=n)
    null_count = np.bincount(last, weights=journeys.nulls, minlength=n)
    nodes = np.arange(n, dtype=np.int64)
    edge_key = np.concatenate([nodes, inner_key.astype(np.int64), nodes * n + conv_node, nodes * n + null_node])
    count = np.concatenate([start_count, inner_count, conv_count, null_count])
    keep = count > 0
    edge_key, count = edge_key[keep], count[keep]
    sort = np.argsort(edge_key, kind="stable")
    edge_key, count = edge_key[sort], count[sort]

    digits = np.stack([(uniq // base**d) % base for d in range(order)][::-1], axis=1) - 1 if S else np.zeros((0, order), np.int64)
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
    okey = last.astype(np.int64) * P + outcome
    outcome_count = np.bincount(okey, weights=journeys.conversions, minlength=(S + 1) * P).reshape(S + 1, P)
    outcome_value = np.bincount(okey, weights=journeys.value, minlength=(S + 1) * P).reshape(S + 1, P)
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
