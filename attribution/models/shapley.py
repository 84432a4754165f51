r"""Shapley-value attribution: each variant people mean by "Shapley", under its own game.

"Shapley attribution" names different games in different tools. A Shapley value needs a
*game*: a value :math:`v(S)` for every coalition :math:`S` of channels. Given the game, the
Shapley value of channel :math:`i` among :math:`n` channels is

.. math::

    \phi_i = \sum_{S \subseteq N \setminus \{i\}}
             \frac{|S|!\,(n - |S| - 1)!}{n!}\,\bigl(v(S \cup \{i\}) - v(S)\bigr),

the average marginal contribution of :math:`i` over all orders in which the channels could be
switched on. It is the only split with *efficiency* (:math:`\sum_i \phi_i = v(N) - v(\varnothing)`),
*symmetry* (interchangeable channels get equal credit), the *null player* property (a channel
that never changes :math:`v` gets 0) and additivity. :class:`Shapley` offers these games:

``"simplified"`` (Zhao, Mahboobi & Bagheri 2018)
    :math:`v(S) = \sum_{T \subseteq S} R(T)` with :math:`R(T)` the conversions (value) of
    journeys whose channel *set* is exactly :math:`T`. Closed form
    :math:`\phi_j = \sum_{S \ni j} R(S) / |S|`: every conversion is split equally among the
    distinct channels of its journey (the game is linear over channel sets).
``"ordered"`` (Zhao et al. 2018)
    The simplified credit per channel *and touch position*:
    :math:`\phi_j^{(k)} = \sum_{S \ni j} \frac{1}{|S|} \sum_{u : set(u) = S,\, c_k(u) = j}
    R(u) / N_j(u)`, with :math:`N_j(u)` the touches of :math:`j` in journey :math:`u`.
``"conversion_rate"`` (the data-driven attribution game of analytics suites)
    :math:`v(S)` is the conversion probability of journeys exposed to exactly the channels in
    :math:`S` (smoothed where :math:`S` is thin; an unseen :math:`S` takes the value of its
    largest seen sub-coalitions, see :class:`Shapley`), for all :math:`2^n` coalitions with
    subset transforms.
``"model"``
    :math:`v(S)` is the mean predicted conversion probability of a fitted scikit-learn
    classifier over all journeys with the channels outside :math:`S` switched off.
``"sampled"``
    Permutation sampling of any of these games (or of a user-supplied one), with standard errors.

Exact computation over all coalitions
-------------------------------------
Channel sets are bitmasks (``np.bitwise_or.reduceat`` of ``1 << code`` over each journey's
touches), counts are aggregated per mask with ``np.bincount`` over all ``2**n`` masks, and
sums over subsets use the *zeta* (subset-sum) transform
:math:`\hat f(S) = \sum_{T \subseteq S} f(T)`, computed in place one bit at a time, each step
vectorised over all masks (:func:`subset_sum`; its inverse is the Möbius transform; the
conversion-rate game uses the same transform in another monoid). The Shapley sum regroups by
coalition, with weights indexed by popcount (:func:`shapley_values`). The work is
:math:`O(n 2^n)` array operations: 20 channels and a million journeys take about a second.

References
----------
.. [Sh53] Shapley, L. S. (1953). A value for n-person games. In Contributions to the Theory of
   Games II, 307-317.
.. [ZMB18] Zhao, K., Mahboobi, S. H., Bagheri, S. R. (2018). Shapley value methods for
   attribution modeling in online advertising. arXiv:1804.05327.
.. [DPSP12] Dalessandro, B., Perlich, C., Stitelman, O., Provost, F. (2012). Causally motivated
   attribution for online advertising. ADKDD '12.
.. [CGT09] Castro, J., Gómez, D., Tejada, J. (2009). Polynomial calculation of the Shapley value
   based on sampling. Computers & Operations Research 36(5), 1726-1730.
.. [Knu11] Knuth, D. E. The Art of Computer Programming, Vol. 4A, section 7.1.3 (subset sums
   over bitmasks); the "fast zeta transform".
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np
import pandas as pd

from .._resources import check_memory
from ..exceptions import DataQualityWarning, ModelFallbackWarning
from ..journeys import Journeys
from ._touch import _touch_counts, simplified_touch_weights  # (shared with attribution.credits)
from .base import (
    AttributionModel,
    ChannelCredit,
    _param_error,
    _touched_totals,
    _warn_user,
    credit_from_shares,
    credit_from_touch_weights,
    place_codes,
    register_model,
)

__all__ = [
    "Shapley",
    "permutation_shapley",
    "shapley_values",
    "simplified_touch_weights",
    "subset_sum",
]

METHODS = ("simplified", "ordered", "conversion_rate", "model", "sampled")
GAMES = ("conversion_rate", "model", "simplified")

#: Largest ``n_sets * 2**n_channels`` for which the model game is evaluated exactly.
MODEL_EXACT_BUDGET = 1 << 26
#: Rows per ``predict_proba`` call and per chunk of vectorised work.
_CHUNK = 1 << 16


# ---------------------------------------------------------------------------------------------
# Games on bitmasks: transforms and exact Shapley values
# ---------------------------------------------------------------------------------------------


def _n_bits(size: int, what: str = "v") -> int:
    n = int(size).bit_length() - 1
    if size < 1 or (1 << n) != size:
        raise ValueError(f"{what} must have 2**n rows (one per coalition bitmask); got {size}.")
    return n


def _popcount(n: int) -> np.ndarray:
    """Number of channels in every coalition bitmask ``0 .. 2**n - 1`` (uint8)."""
    masks = np.arange(1 << n, dtype=np.uint32)
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(masks).astype(np.uint8)
    pc = np.zeros(1 << n, dtype=np.uint8)
    for i in range(n):
        pc += ((masks >> i) & 1).astype(np.uint8)
    return pc


#: Bits handled on a transposed copy (where they become high bits with long contiguous runs).
_LOW_BITS = 6


def _bit_steps(arrays: list[np.ndarray], n: int, step, write: bool = True) -> None:
    """Apply ``step(bit, lo_views, hi_views)`` once per bit to 2-d arrays of shape (rows, 2**n).

    ``lo_views[k]`` / ``hi_views[k]`` are the halves of ``arrays[k]`` without / with the bit,
    updated in place by ``step`` (``write=False``: read only, nothing is copied back). Steps
    for different bits commute (subset transforms), so the high bits run on the arrays as they
    are and the lowest bits on a transposed copy, where they are high bits: every step then
    works on long contiguous runs instead of strides of one or two elements.
    """

    def run(arrs, bits, shift):
        for i in bits:
            views = [a.reshape(a.shape[0], -1, 2, 1 << i) for a in arrs]
            step(i - shift, [v[:, :, 0] for v in views], [v[:, :, 1] for v in views])

    low = min(_LOW_BITS, n)
    if n - low < 2:  # tiny arrays: as they are
        run(arrays, range(n), 0)
        return
    run(arrays, range(low, n), 0)
    # index low * 2**(n-low) + high: original bit j < low sits at bit n - low + j
    moved = [np.ascontiguousarray(a.reshape(a.shape[0], -1, 1 << low).transpose(0, 2, 1)).reshape(a.shape[0], -1) for a in arrays]
    run(moved, range(n - low, n), n - low)
    if write:
        for a, m in zip(arrays, moved):
            a.reshape(a.shape[0], -1, 1 << low)[...] = m.reshape(a.shape[0], 1 << low, -1).transpose(0, 2, 1)


def subset_sum(f, inverse: bool = False) -> np.ndarray:
    r"""Zeta (subset-sum) transform over coalition bitmasks, or its inverse (Möbius).

    .. math:: \hat f(S) = \sum_{T \subseteq S} f(T), \qquad
              f(S) = \sum_{T \subseteq S} (-1)^{|S \setminus T|} \hat f(T).

    Computed one bit at a time: for bit ``i``, every mask with the bit set adds (subtracts) the
    value of the same mask without it; each step is one vectorised operation over all masks,
    ``O(n 2**n)`` in total.

    Parameters
    ----------
    f : array-like of shape (2**n,) or (2**n, k)
        Values indexed by coalition bitmask (bit ``i`` = channel ``i``).
    inverse : bool, default False
        Apply the Möbius transform (the inverse) instead.

    Returns
    -------
    ndarray of float64, same shape as ``f`` (a new array).

    Examples
    --------
    >>> subset_sum([1.0, 2.0, 3.0, 4.0]).tolist()       # f(∅), f({0}), f({1}), f({0,1})
    [1.0, 3.0, 4.0, 10.0]
    >>> subset_sum([1.0, 3.0, 4.0, 10.0], inverse=True).tolist()
    [1.0, 2.0, 3.0, 4.0]
    """
    f = np.asarray(f, dtype=np.float64)
    n = _n_bits(f.shape[0], "f")
    # one contiguous row per column: the strided halves of every step stay cache-friendly
    out = np.array(f.reshape(f.shape[0], math.prod(f.shape[1:])).T, order="C", copy=True)
    if out.shape[0] == 0:
        return out.T.reshape(f.shape)

    def step(bit, lo, hi):
        if inverse:
            hi[0] -= lo[0]
        else:
            hi[0] += lo[0]

    _bit_steps([out], n, step)
    return np.ascontiguousarray(out.T).reshape(f.shape)


def _shapley_weights(n: int) -> np.ndarray:
    """``|S|! (n - |S| - 1)! / n!`` for ``|S| = 0 .. n-1``, as ``1 / (n * C(n-1, |S|))``."""
    return np.array([1.0 / (n * math.comb(n - 1, s)) for s in range(n)], dtype=np.float64)


def shapley_values(v) -> np.ndarray:
    r"""Exact Shapley values of a game given on all ``2**n`` coalition bitmasks.

    .. math:: \phi_i = \sum_{S \not\ni i} w_{|S|}\,(v(S \cup \{i\}) - v(S)),
              \qquad w_s = \frac{s!\,(n-s-1)!}{n!}.

    For channel ``i`` the masks without bit ``i`` and their partners with it are the two
    halves of one strided view of ``v``; the weights are looked up by popcount. One vectorised
    pass per channel, ``O(n 2**n)`` in total (22 channels: about a second). Computed
    from the differences, so a null player (``v(S ∪ {i}) == v(S)`` everywhere) gets exactly 0.

    Parameters
    ----------
    v : array-like of shape (2**n,) or (2**n, k)
        Game value of every coalition (bit ``i`` of the index = channel ``i``); several games
        side by side as columns.

    Returns
    -------
    ndarray of shape (n,) or (n, k)

    Examples
    --------
    Two channels; alone they are worth 1 and 2, together 6:

    >>> shapley_values([0.0, 1.0, 2.0, 6.0]).tolist()
    [2.5, 3.5]
    """
    v = np.asarray(v, dtype=np.float64)
    n = _n_bits(v.shape[0])
    tail = v.shape[1:]
    k = math.prod(tail)
    phi = np.zeros((n, k))
    if n == 0 or k == 0:
        return phi.reshape((n,) + tail)
    rows = np.ascontiguousarray(v.reshape(v.shape[0], k).T)  # (k, 2**n)
    # weight of a mask S as the coalition *without* i: w_|S| (|S| <= n - 1 there)
    weight = _shapley_weights(n)[np.minimum(_popcount(n), n - 1)][None, :]

    buffer = np.empty(k * (v.shape[0] // 2))

    def step(bit, lo, hi):
        diff = buffer.reshape(lo[0].shape)
        np.subtract(hi[0], lo[0], out=diff)  # exactly 0 wherever the channel changes nothing
        phi[bit] = np.einsum("kab,ab->k", diff, lo[1][0])

    _bit_steps([rows, weight], n, step, write=False)
    return phi.reshape((n,) + tail)


# ---------------------------------------------------------------------------------------------
# Permutation sampling
# ---------------------------------------------------------------------------------------------


def _random_permutations(rng: np.random.Generator, n_perm: int, n: int) -> np.ndarray:
    """``n_perm`` uniform random orders of ``n`` channels, shape (n_perm, n)."""
    return np.argsort(rng.random((n_perm, n)), axis=1, kind="stable")


def _ranks(perms: np.ndarray) -> np.ndarray:
    """Position of every channel in every order (inverse permutations)."""
    ranks = np.empty_like(perms)
    np.put_along_axis(ranks, perms, np.arange(perms.shape[1])[None, :], axis=1)
    return ranks


def _prefix_coalitions(perms: np.ndarray) -> np.ndarray:
    """Boolean coalitions along each order: (B, n + 1, n), row k holds the first k channels."""
    B, n = perms.shape
    ranks = _ranks(perms)
    return ranks[:, None, :] < np.arange(n + 1)[None, :, None]


def _marginals(perms: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Marginal contribution of every channel in every order: (B, n, k) from (B, n + 1, k)."""
    steps = np.diff(values, axis=1)  # steps[:, k] = contribution of perms[:, k]
    out = np.empty_like(steps)
    np.put_along_axis(out, perms[:, :, None], steps, axis=1)
    return out


def _sampled_shapley(
    path_values: Callable[[np.ndarray], np.ndarray],
    n: int,
    n_samples: int,
    rng: np.random.Generator,
    k: int,
    order: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error of the marginal contributions over ``n_samples`` random orders.

    ``path_values(perms)`` returns the game along each order, shape (B, n + 1, k). The orders
    are drawn over positions ``0..n-1`` and mapped to players through ``order`` (default the
    identity), e.g. the players sorted by name.
    """
    mean = np.zeros((n, k))
    m2 = np.zeros((n, k))  # sum of squared deviations from the mean
    batch = max(1, min(n_samples, _CHUNK // max(n + 1, 1)))
    done = 0
    while done < n_samples:
        b = min(batch, n_samples - done)
        perms = _random_permutations(rng, b, n)
        if order is not None:
            perms = order[perms]
        m = _marginals(perms, path_values(perms))
        # combine batch statistics (Chan, Golub & LeVeque): no cancellation of large sums
        b_mean = m.mean(axis=0)
        b_m2 = np.square(m - b_mean).sum(axis=0)
        delta = b_mean - mean
        total = done + b
        mean = mean + delta * (b / total)
        m2 = m2 + b_m2 + np.square(delta) * (done * b / total)
        done = total
    se = np.sqrt(m2 / (n_samples - 1) / n_samples) if n_samples > 1 else np.full_like(mean, np.nan)
    return mean, se


def permutation_shapley(game, n_players: int, n_samples: int = 1000, random_state=0) -> tuple[np.ndarray, np.ndarray]:
    r"""Shapley values of any game by permutation sampling (Castro et al. 2009).

    Draws ``n_samples`` uniform random orders of the players; in each, every player's marginal
    contribution :math:`v(P_i \cup \{i\}) - v(P_i)` (with :math:`P_i` the players before it) is
    an unbiased estimate of :math:`\phi_i`. The estimate is their mean and the standard error
    their standard deviation over :math:`\sqrt{n\_samples}`. Efficiency holds exactly in every
    order, so the estimates always sum to :math:`v(N) - v(\varnothing)`.

    Parameters
    ----------
    game : callable
        ``game(coalitions)`` with ``coalitions`` a boolean array of shape (m, n_players)
        returns the values, shape (m,) or (m, k). It is called on batches of coalitions.
    n_players : int
    n_samples : int, default 1000
        Number of random orders.
    random_state : int, numpy.random.Generator or None, default 0

    Returns
    -------
    phi, standard_error : ndarray of shape (n_players,) or (n_players, k)

    Examples
    --------
    >>> def game(s):                     # a unanimity game: worth 1 when players 0 and 1 are in
    ...     return (s[:, 0] & s[:, 1]).astype(float)
    >>> phi, se = permutation_shapley(game, 3, n_samples=2000, random_state=0)
    >>> phi.round(1).tolist(), float(phi[2])
    ([0.5, 0.5, 0.0], 0.0)
    """
    rng = np.random.default_rng(random_state)
    n = int(n_players)
    probe = np.asarray(game(np.zeros((1, n), dtype=bool)), dtype=np.float64)
    squeeze = probe.ndim == 1
    k = 1 if squeeze else probe.shape[1]

    def path_values(perms):
        coal = _prefix_coalitions(perms)
        vals = np.asarray(game(coal.reshape(-1, n)), dtype=np.float64)
        return vals.reshape(perms.shape[0], n + 1, k)

    mean, se = _sampled_shapley(path_values, n, int(n_samples), rng, k)
    if squeeze:
        return mean[:, 0], se[:, 0]
    return mean, se


# ---------------------------------------------------------------------------------------------
# Channel sets of journeys
# ---------------------------------------------------------------------------------------------


def _journey_words(journeys: Journeys) -> np.ndarray:
    """Channel set of every journey as bitmask words: uint64 array (J, ceil(C / 64)).

    Bit ``c % 64`` of word ``c // 64`` is set when the journey touches channel ``c``; empty
    journeys have all words 0.
    """
    C, J = journeys.n_channels, journeys.n_journeys
    n_words = max(1, (C + 63) // 64)
    words = np.zeros((J, n_words), dtype=np.uint64)
    if journeys.n_touches == 0:
        return words
    nonempty = journeys.lengths > 0
    starts = journeys.offsets[:-1][nonempty]
    code = journeys.touch_channel.astype(np.int64)
    bit = np.left_shift(np.uint64(1), (code % 64).astype(np.uint64))
    for w in range(n_words):  # one pass per 64 channels
        b = bit if n_words == 1 else np.where(code // 64 == w, bit, np.uint64(0))
        words[nonempty, w] = np.bitwise_or.reduceat(b, starts)
    return words


def _name_order(journeys: Journeys) -> np.ndarray:
    """Channel codes sorted by channel name.

    Random draws made in this order (permutations, bags) follow the channel names, not the
    codes, so relabelling the channels relabels the result exactly.
    """
    return np.argsort(np.asarray(journeys.channels).astype(str), kind="stable")


def _by_name(journeys: Journeys) -> tuple[Journeys, np.ndarray]:
    """The journeys with channel codes renumbered in name order, and ``order`` (new -> old)."""
    order = _name_order(journeys)
    if np.array_equal(order, np.arange(len(order))):
        return journeys, order
    new_code = np.empty(len(order), dtype=np.int32)
    new_code[order] = np.arange(len(order), dtype=np.int32)
    return journeys._replace(channels=journeys.channels[order], touch_channel=new_code[journeys.touch_channel]), order


class _Sets:
    """Distinct channel sets of a journey set with their aggregated counts.

    Attributes
    ----------
    words : uint64 (K, W)   bitmask words of each distinct set (sorted)
    inverse : int64 (J,)    set of each journey
    size : int64 (K,)       channels in each set
    channel, offsets        CSR of the members of each set (channels ascending)
    count : float (K,)      journeys (conversions + nulls) with each set
    num : float (K, 2P)     conversions per place, then value per place, of each set
    """

    def __init__(self, journeys: Journeys, words: np.ndarray | None = None):
        C = journeys.n_channels
        self.n_channels = C
        words = _journey_words(journeys) if words is None else words
        if words.shape[1] == 1:
            uniq, inverse = np.unique(words[:, 0], return_inverse=True)
            uniq = uniq[:, None]
        else:
            uniq, inverse = np.unique(words, axis=0, return_inverse=True)
        self.words = uniq
        self.inverse = inverse.ravel().astype(np.int64)
        K = len(uniq)
        bits = np.unpackbits(
            uniq.astype("<u8").view(np.uint8).reshape(K, 8 * uniq.shape[1]), axis=1, bitorder="little"
        )[:, :C]
        rows, cols = np.nonzero(bits)
        self.size = np.bincount(rows, minlength=K).astype(np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.size)]).astype(np.int64)
        self.channel = cols.astype(np.int64)
        self.count, self.num = _set_totals(journeys, self.inverse, K)
        self.n_places = self.num.shape[1] // 2

    def indicator(self, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
        """Exposure indicators (K, C) as float64."""
        words = self.words[rows]
        bits = np.unpackbits(
            words.astype("<u8").view(np.uint8).reshape(len(words), 8 * words.shape[1]), axis=1, bitorder="little"
        )[:, : self.n_channels]
        return bits.astype(np.float64)


def _set_totals(journeys: Journeys, key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Journey counts and (conversions, value) per place aggregated by ``key``."""
    codes, places = place_codes(journeys)
    P = 1 if places is None else len(places)
    conv = np.asarray(journeys.conversions, dtype=np.float64)
    val = np.asarray(journeys.value, dtype=np.float64)
    count = np.bincount(key, weights=conv + np.asarray(journeys.nulls, dtype=np.float64), minlength=size)
    num = np.empty((size, 2 * P))
    for p in range(P):  # one column per place: a loop over places, not data
        at = codes == p if P > 1 else slice(None)
        k = key[at]
        num[:, p] = np.bincount(k, weights=conv[at], minlength=size)
        num[:, P + p] = np.bincount(k, weights=val[at], minlength=size)
    return count, num


def _mask_totals(journeys: Journeys, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts per coalition bitmask over all ``2**n`` masks: (count (2**n,), num (2**n, 2P))."""
    key = _journey_words(journeys)[:, 0].astype(np.int64)
    return _set_totals(journeys, key, 1 << n)


# Simplified (Zhao) weights: simplified_touch_weights, in ._touch (attribution.credits uses them too)


# ---------------------------------------------------------------------------------------------
# The conversion-rate game
# ---------------------------------------------------------------------------------------------


def _largest_subsets_transform(size: np.ndarray, AW: np.ndarray) -> None:
    """In place: for every mask S, the sums of the rows of ``AW`` over the *largest* observed
    masks contained in S (``size`` is the popcount of observed masks, -1 elsewhere; it ends as
    the size of those largest masks).

    A zeta transform in the commutative monoid "keep the larger size; on equal sizes add":
    every subset is still visited exactly once, so ties at the largest size are summed. Each
    step is arithmetic on the two halves, ``hi = hi [s_hi >= s_lo] + lo [s_lo >= s_hi]``.
    ``AW`` has shape (r, 2**n) (game columns and weights as rows), ``size`` shape (2**n,).
    """
    n = _n_bits(size.shape[0])
    sizes = size.reshape(1, -1).astype(np.int8)  # popcounts (<= 63) or -1: one byte per mask
    # rows that are zero everywhere (e.g. a value column of a table without values) stay zero
    live = np.flatnonzero(AW.any(axis=1))
    if len(live) == 0:  # keep one row: the steps need an array to work on
        live = np.array([0])
    rows = AW if len(live) == AW.shape[0] else np.ascontiguousarray(AW[live])

    def step(bit, lo, hi):
        s_lo, s_hi = lo[0][0], hi[0][0]
        keep_hi = s_hi >= s_lo
        add_lo = s_lo >= s_hi
        a_lo, a_hi = lo[1], hi[1]
        np.multiply(a_hi, keep_hi, out=a_hi)
        a_hi += a_lo * add_lo
        np.maximum(s_hi, s_lo, out=s_hi)

    _bit_steps([sizes, rows], n, step)
    if rows is not AW:
        AW[live] = rows
    size[...] = sizes[0]


class _RateGame:
    """v(S): smoothed conversion probability (and value per journey) of channel set S.

    Columns: conversions per place, then value per place (``2P`` columns). With ``kind="count"``
    the game is Zhao's ``v(S) = sum_{T subset of S} R(T)`` instead (used to sample it).

    The estimator: an observed set T (journeys with exactly that set, count ``n_T > 0``) has
    ``A_T = c_T + m rbar`` and ``W_T = n_T + m`` (``rbar``: the overall rate of each column,
    ``m``: smoothing); ``v(S) = sum A_T / sum W_T`` over the largest observed sets inside S
    (for an observed S that is S itself), 0 when S contains no observed set.
    """

    def __init__(self, journeys: Journeys, smoothing: float, kind: str = "rate"):
        self.journeys = journeys
        self.smoothing = float(smoothing)
        self.kind = kind
        self.n = journeys.n_channels
        self.k = 2 * _n_places_of(journeys)
        self._sets = None

    def _numerators(self, count: np.ndarray, num: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``observed`` mask and ``AW``: rows ``A`` (one per game column) then ``W``, per set."""
        observed = count > 0
        total = count.sum()
        rbar = num.sum(axis=0) / total if total > 0 else np.zeros(num.shape[1])
        m = self.smoothing
        AW = np.empty((num.shape[1] + 1, len(count)))
        AW[:-1] = num.T
        AW[:-1] += (m * rbar)[:, None]
        np.add(count, m, out=AW[-1])
        AW *= observed  # unobserved sets: 0
        return observed, AW

    # -- all coalitions -----------------------------------------------------------------------

    def exact_values(self) -> np.ndarray:
        """The game on all ``2**n`` bitmasks, shape (2**n, 2P)."""
        n = self.n
        count, num = _mask_totals(self.journeys, n)
        if self.kind == "count":
            return subset_sum(num)
        observed, AW = self._numerators(count, num)
        del count, num
        size = np.where(observed, _popcount(n).astype(np.int8), np.int8(-1))
        _largest_subsets_transform(size, AW)
        A, W = AW[:-1], AW[-1]
        none = W <= 0  # no observed set inside S: 0
        W[none] = 1.0
        A /= W[None, :]
        A[:, none] = 0.0
        return A.T

    # -- along random orders ----------------------------------------------------------------

    def path_values(self, perms: np.ndarray) -> np.ndarray:
        """The game along each order, shape (B, n + 1, 2P): exact values of the nested coalitions.

        For an order with ranks ``r``, a set ``T`` lies inside the first ``k`` channels iff
        ``k >= k_T = max_{c in T} r_c + 1``. The largest observed size inside the first ``k``
        channels, ``M(k)``, is a running maximum over ``k``; set ``T`` counts for the
        coalitions from ``k_T`` on while ``M`` equals ``|T|``. Bincounts over ``(order, k_T)``
        and a segmented cumulative sum give every coalition's sums, vectorised over orders
        and sets.
        """
        if self._sets is None:
            self._sets = _Sets(self.journeys)
        s = self._sets
        n = self.n
        B = perms.shape[0]
        K2 = s.num.shape[1]
        ranks = _ranks(perms)
        nonempty = s.size > 0
        k_set = np.zeros((B, len(s.size)), dtype=np.int64)
        if nonempty.any():
            R = ranks[:, s.channel]
            k_set[:, nonempty] = np.maximum.reduceat(R, s.offsets[:-1][nonempty], axis=1) + 1
        width = B * (n + 1)
        row = np.arange(B)[:, None] * (n + 1)
        if self.kind == "count":
            out = np.empty((width, K2))
            key = (row + k_set).ravel()
            for col in range(K2):
                out[:, col] = np.bincount(key, weights=np.broadcast_to(s.num[:, col], k_set.shape).ravel(), minlength=width)
            return np.cumsum(out.reshape(B, n + 1, K2), axis=1)
        observed, AW = self._numerators(s.count, s.num)
        A, W = AW[:-1], AW[-1]
        obs = np.flatnonzero(observed)
        k_obs = k_set[:, obs]
        size = s.size[obs]
        # M(k): the largest observed set inside the first k channels (-1: none yet)
        top = np.full((B, n + 1), -1, dtype=np.int64)
        np.maximum.at(top, (np.repeat(np.arange(B), len(obs)), k_obs.ravel()), np.tile(size, B))
        top = np.maximum.accumulate(top, axis=1)
        # a set counts from k_T on, as long as M stays at its size: only sets with
        # |T| = M(k_T) ever count; their sums restart whenever M grows (segmented cumsum,
        # a loop over the n + 1 positions, vectorised over orders, without subtractions)
        eligible = size[None, :] == np.take_along_axis(top, k_obs, axis=1)
        key = (row + k_obs)[eligible]
        grows = top[:, 1:] != top[:, :-1]

        def accumulate(weights):
            w = np.broadcast_to(weights, k_obs.shape)[eligible].astype(np.float64)
            acc = np.bincount(key, weights=w, minlength=width).astype(np.float64).reshape(B, n + 1)
            for k in range(1, n + 1):
                acc[:, k] += np.where(grows[:, k - 1], 0.0, acc[:, k - 1])
            return acc

        den = accumulate(W[obs])
        v = np.zeros((B, n + 1, K2))
        has = den > 0
        for col in range(K2):
            v[:, :, col] = np.divide(accumulate(A[col, obs]), den, out=np.zeros_like(den), where=has)
        return v


# ---------------------------------------------------------------------------------------------
# The model game
# ---------------------------------------------------------------------------------------------


class _ModelGame:
    """v(S): mean predicted conversion probability with the channels outside S switched off."""

    def __init__(self, journeys: Journeys, estimator):
        from sklearn.base import clone

        self.sets = s = _Sets(journeys)
        self.n = journeys.n_channels
        self.k = 1
        conv = s.num[:, : s.n_places].sum(axis=1)
        nulls = np.maximum(s.count - conv, 0.0)
        self.weight = s.count
        self.total = float(s.count.sum())
        X = s.indicator()
        y = np.r_[np.ones(len(X)), np.zeros(len(X))]
        sw = np.r_[conv, nulls]
        keep = sw > 0
        self.constant = None
        if estimator is None:
            from sklearn.linear_model import LogisticRegression

            estimator = LogisticRegression()
        self.estimator = clone(estimator)
        if len(np.unique(y[keep])) < 2:  # one outcome only: nothing to learn, a constant game
            self.constant = float(conv.sum() / self.total) if self.total > 0 else 0.0
            return
        self.estimator.fit(np.vstack([X, X])[keep], y[keep], sample_weight=sw[keep])
        classes = list(self.estimator.classes_)
        self.positive = classes.index(1.0) if 1.0 in classes else classes.index(1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        if self.constant is not None:
            return np.full(len(X), self.constant)
        out = np.empty(len(X))
        for lo in range(0, len(X), _CHUNK):
            out[lo : lo + _CHUNK] = self.estimator.predict_proba(X[lo : lo + _CHUNK])[:, self.positive]
        return out

    def exact_values(self) -> np.ndarray:
        """``v(S) = sum_T n_T f(T & S) / N`` for all ``2**n`` masks, shape (2**n, 1)."""
        n = self.n
        masks = np.arange(1 << n, dtype=np.int64)
        f = np.empty(1 << n)
        for lo in range(0, 1 << n, _CHUNK):
            m = masks[lo : lo + _CHUNK]
            f[lo : lo + _CHUNK] = self.predict(((m[:, None] >> np.arange(n)) & 1).astype(np.float64))
        T = self.sets.words[:, 0].astype(np.int64)
        w = self.weight / self.total if self.total > 0 else self.weight
        v = np.empty(1 << n)
        step = max(1, (1 << 22) // max(len(T), 1))
        for lo in range(0, 1 << n, step):
            v[lo : lo + step] = f[masks[lo : lo + step, None] & T[None, :]] @ w
        return v[:, None]

    def path_values(self, perms: np.ndarray) -> np.ndarray:
        """The game along each order, shape (B, n + 1, 1).

        Along an order, ``f(T ∩ S_k)`` changes only when ``k`` passes one of ``T``'s channels,
        so each set needs ``|T|`` predictions per order (its channels switched on one by one
        in the order's sequence); the increments are accumulated with a bincount over ``k``.
        """
        s = self.sets
        n = self.n
        B = perms.shape[0]
        ranks = _ranks(perms)
        f_empty = float(self.predict(np.zeros((1, n)))[0])
        w = self.weight / self.total if self.total > 0 else self.weight
        out = np.zeros((B, n + 1))
        E = len(s.channel)
        if E == 0:
            out[:] = f_empty
            return out[:, :, None]
        set_of = np.repeat(np.arange(len(s.size)), s.size)
        first = s.offsets[:-1][set_of]  # start of the element's set
        R = ranks[:, s.channel]  # (B, E)
        order = np.argsort(set_of[None, :] * n + R, axis=1, kind="stable")  # by set, then rank
        ch_sorted = s.channel[order]
        r_sorted = np.take_along_axis(R, order, axis=1)
        # prefix indicators: channels of the element's set switched on up to this element
        per_order = max(1, _CHUNK * 4 // max(E * n, 1))
        for lo in range(0, B, per_order):
            hi = min(B, lo + per_order)
            b = hi - lo
            onehot = np.zeros((b, E, n))
            np.put_along_axis(onehot, ch_sorted[lo:hi, :, None], 1.0, axis=2)
            csum = np.cumsum(onehot, axis=1)
            base = np.take(csum, first - 1, axis=1) if E else csum
            base[:, first == 0] = 0.0
            prefix = csum - base
            g = self.predict(prefix.reshape(-1, n)).reshape(b, E)
            prev = np.concatenate([np.full((b, 1), f_empty), g[:, :-1]], axis=1)
            starts = np.arange(E) == first
            prev[:, starts] = f_empty
            delta = (g - prev) * w[set_of][None, :]
            key = (np.arange(b)[:, None] * (n + 1) + r_sorted[lo:hi] + 1).ravel()
            inc = np.bincount(key, weights=delta.ravel(), minlength=b * (n + 1)).reshape(b, n + 1)
            out[lo:hi] = f_empty + np.cumsum(inc, axis=1)
        return out[:, :, None]


class _CallableGame:
    """A user's game: ``game(coalitions bool (m, n)) -> (m,) or (m, k)``."""

    def __init__(self, game, n: int):
        self.game = game
        self.n = n
        probe = np.asarray(game(np.zeros((1, n), dtype=bool)), dtype=np.float64)
        if probe.ndim not in (1, 2) or probe.shape[0] != 1 or (probe.ndim == 2 and probe.shape[1] not in (1, 2)):
            raise ValueError(
                "The 'game' callable of Shapley must return one value per coalition, shape (m,), "
                f"or two (conversions and value games), shape (m, 2). Got shape {probe.shape} for "
                "one coalition."
            )
        self.k = 1 if probe.ndim == 1 else probe.shape[1]

    def _call(self, coal: np.ndarray) -> np.ndarray:
        out = np.asarray(self.game(coal), dtype=np.float64)
        return out.reshape(len(coal), self.k)

    def path_values(self, perms: np.ndarray) -> np.ndarray:
        coal = _prefix_coalitions(perms).reshape(-1, self.n)
        return self._call(coal).reshape(perms.shape[0], self.n + 1, self.k)


# ---------------------------------------------------------------------------------------------
# The estimator
# ---------------------------------------------------------------------------------------------


@register_model("shapley")
class Shapley(AttributionModel):
    r"""Shapley-value attribution with an explicit game (simplified, ordered, conversion rate,
    model-based or sampled).

    See the module docstring of :mod:`attribution.models.shapley` for the Shapley formula and
    the axioms. The methods differ in the game :math:`v(S)`:

    ``"simplified"`` (default)
        Zhao et al. (2018): :math:`v(S) = \sum_{T \subseteq S} R(T)`, with :math:`R(T)` the
        conversions (value) of journeys whose distinct channel set is exactly :math:`T`. Its
        Shapley value has the closed form :math:`\phi_j = \sum_{S \ni j} R(S)/|S|`, which
        **equals splitting every conversion equally among the distinct channels of its
        journey** (each channel's share split equally among its touches). Exact, linear in the
        data, any number of channels; non-converting journeys play no role.
    ``"ordered"``
        The same credit broken down by touch position (Zhao's ordered Shapley value):
        ``position_credits_[j, k]`` :math:`= \sum_u R(u)\,[c_k(u) = j] / (|S_u| N_j(u))`, with
        :math:`N_j(u)` the number of touches of :math:`j` in journey :math:`u`; rows sum to
        ``credits_``.
    ``"conversion_rate"``
        :math:`v(S)` = the conversion probability of journeys exposed to exactly the channels
        in :math:`S`, estimated with shrinkage toward smaller coalitions (below), for all
        :math:`2^n` coalitions at once with subset-sum transforms, minus :math:`v(\varnothing)`.
        The raw Shapley values (probability points, per journey) are kept in ``incremental_``;
        ``credits_`` rescales them to the observed conversions (see *Negative values*). The
        value game uses value per journey in place of the conversion probability. With
        conversion places, each place has its own game (conversions at that place) and its own
        rescaling, so ``place_credits_`` conserves every place.
    ``"model"``
        :math:`v(S) = \frac{1}{N}\sum_u \hat p(x_u \wedge S)`: the mean predicted conversion
        probability of a scikit-learn classifier fitted on channel-exposure indicators
        (``estimator``, default ``LogisticRegression()``), over all journeys, with the channels
        outside :math:`S` switched off (Dalessandro et al. 2012). Exact over all coalitions when
        ``n_channels <= max_exact`` and (distinct channel sets) × :math:`2^n` stays under
        :data:`MODEL_EXACT_BUDGET`; otherwise **it falls back to permutation sampling** with
        ``n_samples`` orders (``exact_`` is then False and ``credits_std_`` is set). Value is
        credited in the same proportions as conversions.
    ``"sampled"``
        Permutation sampling (Castro et al. 2009) of the game named by ``game``
        (``"conversion_rate"``, ``"model"``, ``"simplified"`` or a callable), for any number of
        channels; ``credits_std_`` holds standard errors.

    **The conversion-rate estimator.** With :math:`c_T` conversions among :math:`n_T`
    journeys (conversions + non-conversions) whose channel set is exactly :math:`T`, a
    coalition seen in the data (:math:`n_T > 0`) is worth its smoothed rate

    .. math:: \hat v(T) = \frac{c_T + m\,\bar r}{n_T + m}, \qquad m = \text{smoothing},

    shrunk toward the overall conversion rate :math:`\bar r` (a beta-binomial prior worth
    :math:`m` journeys: negligible for coalitions seen dozens of times, decisive for one seen
    once). A coalition :math:`S` that is **not seen** takes the value of its *largest seen
    sub-coalitions* :math:`\mathcal M(S)` (all seen :math:`T \subseteq S` of maximal size,
    pooled):

    .. math:: \hat v(S) = \frac{\sum_{T \in \mathcal M(S)} (c_T + m \bar r)}
                               {\sum_{T \in \mathcal M(S)} (n_T + m)},

    and 0 when no seen coalition lies inside :math:`S` (for a seen :math:`S`,
    :math:`\mathcal M(S) = \{S\}` and this is the formula above). In words: channels whose
    joint exposure the data never shows get no effect from it. This keeps the Shapley axioms
    meaningful on sparse data: a channel that no journey touches is an exact null player
    (adding it never changes :math:`\hat v`), whereas setting unseen coalitions to 0 (as MAM
    does) or pooling all their subsets turns every gap in the data into a spurious effect. The
    value game uses value per journey in place of conversions; :math:`\hat v(\varnothing)` is
    the rate of the journeys without touches, or 0 when there are none (the usual convention:
    all conversions are creditable). All :math:`2^n` values come from one zeta transform in the
    monoid "keep the larger size, add on ties" (``O(n 2^n)``); the sampler evaluates the same
    estimator along each order, so exact and sampled results estimate the same game.

    **Negative values.** Exposure can go with *lower* conversion rates (selection, or noise in
    thin coalitions), so Shapley values of the rate and model games can be negative. With
    ``negative="clip"`` (default) negative values are set to 0 and the rest rescaled to the
    touched conversions: :math:`A_i = C \max(\phi_i, 0) / \sum_j \max(\phi_j, 0)`. If no channel
    has a positive value at some place, that place's conversions are split as by
    ``"simplified"`` and a :class:`~attribution.exceptions.DataQualityWarning` says so. With
    ``negative="keep"``, :math:`A_i = C \phi_i / \sum_j \phi_j` keeps signs (credit can be
    negative) and requires :math:`v(N) - v(\varnothing) > 0`.

    Parameters
    ----------
    method : {"simplified", "ordered", "conversion_rate", "model", "sampled"}, default "simplified"
    smoothing : float, default 1.0
        Pseudo-journeys :math:`m` of the conversion-rate estimator (``"conversion_rate"`` and
        the sampled ``"conversion_rate"`` game): one journey at the overall rate by default,
        which tames coalitions seen once or twice and is negligible for coalitions seen
        dozens of times. 0 uses the raw rates.
    negative : {"clip", "keep"}, default "clip"
        Handling of negative Shapley values when rescaling (see above).
    estimator : scikit-learn classifier, optional
        For ``"model"`` (and the sampled ``"model"`` game): any classifier with ``fit``
        (accepting ``sample_weight``) and ``predict_proba``; cloned before fitting. Default
        ``LogisticRegression()``. Fitted on one row per distinct channel set and outcome,
        weighted by the journey counts.
    n_samples : int, default 1000
        Random orders for ``"sampled"`` and for the sampling fall-back of ``"model"`` and
        ``"conversion_rate"`` beyond ``max_exact`` channels.
    game : {"conversion_rate", "model", "simplified"} or callable, default "conversion_rate"
        The game sampled by ``"sampled"``. A callable gets a boolean array of coalitions,
        shape (m, n_channels), and returns their values, shape (m,) or (m, 2) (conversions and
        value games); with one column, value is credited like conversions.
    max_exact : int, default 22
        Largest number of channels for exact enumeration of all :math:`2^n` coalitions (22:
        about 4 million coalitions, a few hundred MB). Beyond it ``"conversion_rate"`` and
        ``"model"`` use permutation sampling.
    random_state : int, numpy.random.Generator or None, default 0
        Seeds the permutation sampling (nothing else is random; pass a seeded ``estimator``
        for randomised classifiers).

    Attributes
    ----------
    credits_ : DataFrame
        Conversions, value and share per channel (see :class:`AttributionModel`).
    place_credits_ : DataFrame
        Per channel and conversion place, when the journeys carry places.
    position_credits_ : DataFrame
        ``"ordered"`` only: conversions credited per channel (rows) and touch position
        (columns ``1, 2, ...``); rows sum to ``credits_["conversions"]``.
    incremental_ : DataFrame
        ``"conversion_rate"``, ``"model"`` and ``"sampled"``: the raw Shapley values of the
        game before clipping and rescaling: ``conversion_rate`` (probability points; they sum to
        :math:`v(N) - v(\varnothing)`) and, for the rate game, ``value_per_journey``; a
        callable game gives ``game`` (and ``game_value``). ``attrs`` holds ``v_all`` and
        ``v_empty`` (exact methods).
    coalition_values_ : ndarray of shape (2**n,)
        Exact ``"conversion_rate"`` and ``"model"``: the conversion game :math:`v(S)` on every
        bitmask (bit ``i`` = channel ``i``; summed over places).
    credits_std_ : DataFrame
        When sampled: standard errors of ``conversions`` and ``value`` credit (the standard
        error of the mean marginal contribution, times the rescaling factor; the factor's own
        variability is ignored, which is exact when nothing is clipped because every order
        sums to :math:`v(N) - v(\varnothing)`).
    exact_ : bool
        Whether the credit is exact (False when sampled).

    Notes
    -----
    ``"simplified"`` and ``"ordered"`` are per-journey splits (touch weights). The other methods
    are global: one game over all channels, whose Shapley values become channel shares of the
    conversions of journeys with touches (journeys without touches go to ``"(no touch)"``).
    Only ``"simplified"`` and ``"ordered"`` accept more than 62 channels exactly; the rate and
    model games beyond ``max_exact`` channels are sampled.

    References
    ----------
    Zhao, K., Mahboobi, S. H., Bagheri, S. R. (2018). Shapley value methods for attribution
    modeling in online advertising. arXiv:1804.05327.
    Dalessandro, B., Perlich, C., Stitelman, O., Provost, F. (2012). Causally motivated
    attribution for online advertising. ADKDD '12.
    Castro, J., Gómez, D., Tejada, J. (2009). Polynomial calculation of the Shapley value based
    on sampling. Computers & Operations Research 36(5), 1726-1730.
    Shapley, L. S. (1953). A value for n-person games. Contributions to the Theory of Games II.

    Examples
    --------
    >>> import pandas as pd
    >>> from attribution import Journeys
    >>> from attribution.models.shapley import Shapley
    >>> paths = pd.DataFrame({"path": ["a", "a > b", "b > c > b"],
    ...                       "total_conversions": [3, 2, 1], "total_null": [7, 2, 4]})
    >>> j = Journeys.from_paths(paths)
    >>> Shapley().fit(j).credits_["conversions"].round(4).to_dict()
    {'a': 4.0, 'b': 1.5, 'c': 0.5}

    Conversion-rate game with raw rates: v({a}) = 3/10, v({a,b}) = 2/4, v({b,c}) = 1/5 are
    seen; the unseen {b}, {c} hold no seen coalition (0), {a,c} takes v({a}) and {a,b,c}
    pools its largest seen parts {a,b} and {b,c}: 3/9. Then
    φ_a = 0.3/3 + 0.5/6 + 0.3/6 + (1/3 - 0.2)/3 = 0.2778:

    >>> m = Shapley(method="conversion_rate", smoothing=0).fit(j)
    >>> m.incremental_["conversion_rate"].round(4).to_dict()
    {'a': 0.2778, 'b': 0.0778, 'c': -0.0222}
    >>> m.credits_["conversions"].round(4).to_dict()     # c clipped to 0, 6 conversions rescaled
    {'a': 4.6875, 'b': 1.3125, 'c': 0.0}
    """

    _nonnegative = True  # with the default negative="clip"; negative="keep" can go below 0

    @property
    def _uses_nulls(self) -> bool:
        return self.method not in ("simplified", "ordered")

    def __init__(
        self,
        method="simplified",
        smoothing=1.0,
        negative="clip",
        estimator=None,
        n_samples=1000,
        game="conversion_rate",
        max_exact=22,
        random_state=0,
    ):
        self.method = method
        self.smoothing = smoothing
        self.negative = negative
        self.estimator = estimator
        self.n_samples = n_samples
        self.game = game
        self.max_exact = max_exact
        self.random_state = random_state

    # -- parameters -------------------------------------------------------------------------

    def _validate_params(self) -> None:
        if self.method not in METHODS:
            raise _param_error(self, "method", f"one of {list(METHODS)}", self.method)
        s = self.smoothing
        if isinstance(s, bool) or not isinstance(s, numbers.Real) or not np.isfinite(s) or s < 0:
            raise _param_error(self, "smoothing", "a non-negative number", s)
        if self.negative not in ("clip", "keep"):
            raise _param_error(self, "negative", "'clip' or 'keep'", self.negative)
        for name in ("n_samples", "max_exact"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise _param_error(self, name, "a positive integer", value)
        if self.max_exact > 30:
            raise _param_error(self, "max_exact", "an integer from 1 to 30 (2**30 coalitions)", self.max_exact)
        if not (callable(self.game) or self.game in GAMES):
            raise _param_error(self, "game", f"one of {list(GAMES)} or a callable", self.game)
        if self.estimator is not None and not (
            hasattr(self.estimator, "fit") and hasattr(self.estimator, "predict_proba")
        ):
            raise _param_error(
                self, "estimator", "a scikit-learn classifier with fit and predict_proba", self.estimator, TypeError
            )

    # -- the hook ----------------------------------------------------------------------------

    def _channel_credit(self, journeys: Journeys) -> ChannelCredit:
        for name in ("incremental_", "coalition_values_", "credits_std_", "position_credits_"):
            self.__dict__.pop(name, None)
        self.exact_ = True
        method = self.method
        if method in ("simplified", "ordered"):
            weights = simplified_touch_weights(journeys)
            if method == "ordered":
                self.position_credits_ = _position_credits(journeys, weights)
            return credit_from_touch_weights(journeys, weights)

        C = journeys.n_channels
        P = _n_places_of(journeys)
        index = pd.Index(journeys.channels, name="channel")
        game = "callable" if method == "sampled" and callable(self.game) else (self.game if method == "sampled" else method)
        if journeys.n_journeys == 0:  # nothing to credit (and no place columns)
            columns = {"model": ["conversion_rate"], "callable": ["game"]}.get(game, ["conversion_rate", "value_per_journey"])
            self.exact_ = method != "sampled"
            self.incremental_ = pd.DataFrame(0.0, index=index, columns=columns)
            return ChannelCredit(np.zeros((C, P)), np.zeros((C, P)))
        rng = np.random.default_rng(self.random_state)
        order = _name_order(journeys)
        if game in ("conversion_rate", "simplified"):
            kind = "count" if (method == "sampled" and self.game == "simplified") else "rate"
            g = _RateGame(journeys, self.smoothing, kind)
            if method == "conversion_rate" and C <= self.max_exact:
                check_memory(
                    float(2**C) * 8 * (4 * g.k + 3),
                    f"Exact Shapley(method='conversion_rate') on {C} channels (2**{C} coalitions)",
                    "Use method='sampled' (permutation sampling with standard errors), or a lower "
                    "max_exact so that larger games are sampled.",
                )
                phi, v = self._exact(g)
            else:
                if method == "conversion_rate":
                    _warn_user(
                        f"Shapley(method='conversion_rate'): {C} channels exceed max_exact={self.max_exact}, so "
                        f"the Shapley values are estimated by permutation sampling ({self.n_samples} orders; "
                        "credits_std_ gives their standard errors) instead of computed exactly.",
                        ModelFallbackWarning,
                    )
                phi, se = self._sample(g, C, rng, order)
                v = None
            columns = ["conversion_rate", "value_per_journey"]
        elif game == "model":
            g = _ModelGame(journeys, self.estimator)
            self.estimator_ = g.estimator
            exact_ok = C <= min(self.max_exact, 62) and len(g.sets.size) * (1 << C) <= MODEL_EXACT_BUDGET
            if method == "model" and exact_ok:
                phi, v = self._exact(g)
            else:
                if method == "model":
                    _warn_user(
                        f"Shapley(method='model'): {C} channels and {len(g.sets.size):,} channel sets are too many "
                        f"for the exact game (max_exact={self.max_exact}, {MODEL_EXACT_BUDGET:,} evaluations), so "
                        f"the Shapley values are estimated by permutation sampling ({self.n_samples} orders; "
                        "credits_std_ gives their standard errors).",
                        ModelFallbackWarning,
                    )
                phi, se = self._sample(g, C, rng, order)
                v = None
            columns = ["conversion_rate"]
        else:  # a callable game, sampled
            g = _CallableGame(self.game, C)
            phi, se = self._sample(g, C, rng, order)
            v = None
            columns = ["game", "game_value"][: g.k]

        self.incremental_ = pd.DataFrame(_collapse_places(phi, P, len(columns)), index=index, columns=columns)
        if v is not None:
            vv = _collapse_places(v[[0, -1]], P, len(columns))[:, 0]
            self.incremental_.attrs.update(v_empty=float(vv[0]), v_all=float(vv[1]))
            self.coalition_values_ = _collapse_places(v, P, len(columns))[:, 0]
        credit, factor = self._rescale(journeys, phi, P)
        if not self.exact_:
            se_conv, se_val = _split_columns(se, P)
            self.credits_std_ = pd.DataFrame(
                {
                    "conversions": np.sqrt((np.square(se_conv) * np.square(factor[0])).sum(axis=1)),
                    "value": np.sqrt((np.square(se_val) * np.square(factor[1])).sum(axis=1)),
                },
                index=index,
            )
        return credit

    # -- computation -------------------------------------------------------------------------

    def _exact(self, g) -> tuple[np.ndarray, np.ndarray]:
        v = g.exact_values()
        return shapley_values(v), v

    def _sample(self, g, C: int, rng, order) -> tuple[np.ndarray, np.ndarray]:
        self.exact_ = False
        if C == 0:
            return np.zeros((0, g.k)), np.zeros((0, g.k))
        return _sampled_shapley(g.path_values, C, int(self.n_samples), rng, g.k, order)

    def _rescale(self, journeys: Journeys, phi: np.ndarray, P: int) -> tuple[ChannelCredit, list]:
        """Shares from the Shapley values, per place column; fall back to simplified where none."""
        C = journeys.n_channels
        phi_conv, phi_val = _split_columns(phi, P)
        shares = []
        for s in (phi_conv, phi_val):
            s = np.clip(s, 0.0, None) if self.negative == "clip" else s.copy()
            shares.append(s)
        totals = _touched_totals(journeys)
        bad, factor = [], []
        for s, tot, what in zip(shares, totals, ("conversions", "value")):
            col = s.sum(axis=0)
            scale = np.abs(s).sum(axis=0)
            zero = (col <= 1e-12 * np.maximum(scale, 1e-300)) | (scale == 0)
            need = zero & (tot != 0)
            if self.negative == "keep" and need.any():
                raise ValueError(
                    f"Shapley(negative='keep') cannot rescale the {what}: the Shapley values sum "
                    f"to {float(col[need][0])!r} (v(N) - v(∅) <= 0), so their signs cannot be "
                    "kept. Use negative='clip'."
                )
            bad.append(need)
            factor.append(np.where(zero, 0.0, tot / np.where(zero, 1.0, col)))
            s[:, zero] = 1.0  # placeholder (nothing to distribute there, or replaced below)
        if C:
            credit = credit_from_shares(journeys, shares[0], shares[1])
        else:
            credit = ChannelCredit(np.zeros((0, P)), np.zeros((0, P)))
        if bad[0].any() or bad[1].any():
            _warn_user(
                "Shapley: no channel has a positive Shapley value in the "
                f"{self.method if self.method != 'sampled' else self.game} game"
                + ("" if P == 1 else " at some conversion place")
                + "; those conversions are split as by method='simplified' (equally among each "
                "journey's channels).",
                DataQualityWarning,
            )
            fb = credit_from_touch_weights(journeys, simplified_touch_weights(journeys))
            conv = np.array(credit.conversions, dtype=np.float64).reshape(C, P)
            val = np.array(credit.value, dtype=np.float64).reshape(C, P)
            conv[:, bad[0]] = fb.conversions[:, bad[0]]
            val[:, bad[1]] = fb.value[:, bad[1]]
            credit = ChannelCredit(conv, val)
        return credit, factor


def _n_places_of(journeys: Journeys) -> int:
    _, places = place_codes(journeys)
    return 1 if places is None else len(places)


def _split_columns(a: np.ndarray, P: int) -> tuple[np.ndarray, np.ndarray]:
    """(conversion columns (.., P), value columns (.., P)) of a game's columns.

    Rate games have ``2P`` columns (conversions per place, value per place); one-column games
    (model, a callable) apply to every place and to value; a two-column callable gives the
    conversions and value games.
    """
    k = a.shape[-1]
    if k == 2 * P:
        return a[..., :P], a[..., P:]
    if k == 1:
        rep = np.repeat(a, P, axis=-1)
        return rep, rep.copy()
    if k == 2:
        return np.repeat(a[..., :1], P, axis=-1), np.repeat(a[..., 1:], P, axis=-1)
    raise ValueError(f"Unexpected number of game columns: {k}.")


def _collapse_places(a: np.ndarray, P: int, n_out: int) -> np.ndarray:
    """Sum the per-place columns of a game's output into ``n_out`` columns."""
    k = a.shape[-1]
    if k == 2 * P and n_out == 2:
        return np.stack([a[..., :P].sum(axis=-1), a[..., P:].sum(axis=-1)], axis=-1)
    if k == 2 * P and n_out == 1:
        return a[..., :P].sum(axis=-1, keepdims=True)
    return a[..., :n_out]


def _position_credits(journeys: Journeys, weights: np.ndarray) -> pd.DataFrame:
    """Conversions credited per channel × touch position (1-based columns)."""
    C = journeys.n_channels
    L = int(journeys.lengths.max()) if journeys.n_journeys and journeys.n_touches else 0
    conv = np.asarray(journeys.conversions, dtype=np.float64)[journeys.journey_index]
    key = journeys.touch_channel.astype(np.int64) * max(L, 1) + journeys.position
    table = np.bincount(key, weights=weights * conv, minlength=C * max(L, 1)).reshape(C, max(L, 1))[:, :L]
    return pd.DataFrame(
        table,
        index=pd.Index(journeys.channels, name="channel"),
        columns=pd.RangeIndex(1, L + 1, name="position"),
    )
