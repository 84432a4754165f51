"""Per-touch credit arithmetic shared by the models and :mod:`attribution.credits`.

Conversion places (:func:`place_codes`), channel × place credit from per-touch weights
(:func:`credit_from_touch_weights`), Zhao's simplified Shapley weights
(:func:`simplified_touch_weights`) and the pseudo-channel names. It imports nothing of the package
but :mod:`attribution.journeys` (for types only), so the models (:mod:`.base`, :mod:`.shapley`)
and the credit-per-journey functions that read fitted models can both build on it; the names
stay importable from :mod:`attribution.models.base` and :mod:`attribution.models.shapley`.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ..journeys import Journeys

#: Name of the pseudo-channel that receives the conversions of journeys without touches.
NO_TOUCH = "(no touch)"

#: Name of the last row of an incremental model's ``credits_``: the conversions and value
#: expected with no paid channel (see "Estimands" above).
BASELINE = "(baseline)"

#: Place label for converting journeys whose place is missing (only used when they carry
#: conversions or value).
UNKNOWN_PLACE = "(unknown)"


class ChannelCredit(NamedTuple):
    """Credit of the touched journeys per channel and conversion place.

    Attributes
    ----------
    conversions, value : ndarray of shape (n_channels, n_places)
        Columns follow the place order of :func:`place_codes`; a single column when the
        journeys have no places. A 1-d array of shape (n_channels,) is accepted when the
        journeys have no places.
    """

    conversions: np.ndarray
    value: np.ndarray


def place_codes(journeys: Journeys) -> tuple[np.ndarray, np.ndarray | None]:
    """Number the conversion places of ``journeys``.

    Returns
    -------
    codes : ndarray of int64, shape (n_journeys,)
        Place column of each journey (all 0 when the journeys have no places). Read-only
        (cached per journey set).
    places : ndarray of object, shape (n_places,), or None
        Place names in sorted order, ``None`` when the journeys have no places. Journeys whose
        place is missing get the label ``"(unknown)"`` if they carry conversions or value;
        otherwise they are put in column 0 (they carry nothing, so it does not matter).
    """
    J = journeys.n_journeys
    if not journeys.has_place:
        return np.zeros(J, dtype=np.int64), None
    arrays = (journeys.place, journeys.conversions, journeys.value)
    cached = _PLACE_CACHE.get(journeys)
    if cached is not None and all(a is b for a, b in zip(cached[0], arrays)):
        return cached[1], cached[2]
    codes, places = _place_codes(journeys)
    codes.setflags(write=False)
    try:
        _PLACE_CACHE[journeys] = (arrays, codes, places)
    except TypeError:  # not weak-referenceable
        pass
    return codes, places


# One fit asks for the place codes several times; they are cached per journey set (weakly, and
# only while its place, conversions and value arrays are the same objects). Codes are read-only.
_PLACE_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _place_codes(journeys: Journeys) -> tuple[np.ndarray, np.ndarray]:
    place = np.asarray(journeys.place, dtype=object)
    try:
        codes, uniques = pd.factorize(place, sort=True, use_na_sentinel=True)
    except TypeError:  # unorderable mixture of labels
        codes, uniques = pd.factorize(place, sort=False, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    places = np.asarray(uniques, dtype=object)
    missing = codes < 0
    if missing.any():
        carries = (np.asarray(journeys.conversions)[missing] != 0) | (
            np.asarray(journeys.value)[missing] != 0
        )
        if carries.any() or len(places) == 0:
            codes[missing] = len(places)
            places = np.append(places, UNKNOWN_PLACE).astype(object)
        else:
            codes[missing] = 0
    return codes, places


def _n_places(places: np.ndarray | None) -> int:
    return 1 if places is None else len(places)


def credit_from_touch_weights(journeys: Journeys, weights: np.ndarray) -> ChannelCredit:
    """Turn per-touch weights into channel × place credit.

    Channel ``c`` at place ``p`` receives ``sum_t w_t * conversions[j(t)]`` (and the same with
    ``value``) over the touches ``t`` of channel ``c`` in journeys ``j(t)`` converting at ``p``.

    Parameters
    ----------
    journeys : Journeys
    weights : ndarray of float64, shape (n_touches,)
        Weight of each touch; they should sum to 1 within every journey with touches.

    Returns
    -------
    ChannelCredit
        Matrices of shape (n_channels, n_places) for the touched journeys.
    """
    w = np.asarray(weights, dtype=np.float64)
    T = journeys.n_touches
    if w.shape != (T,):
        raise ValueError(f"Expected one weight per touch, shape ({T},); got shape {w.shape}.")
    codes, places = place_codes(journeys)
    P = _n_places(places)
    C = journeys.n_channels
    jid = journeys.journey_index
    channel = journeys.touch_channel
    nonzero = np.flatnonzero(w)
    if len(nonzero) < T // 2:  # sparse weights (first / last touch): only the touches that count
        jid, channel, w = jid[nonzero], channel[nonzero], w[nonzero]
    key = channel if P == 1 else channel.astype(np.int64) * P + codes.take(jid)
    conv = np.asarray(journeys.conversions, dtype=np.float64).take(jid)
    val = np.asarray(journeys.value, dtype=np.float64).take(jid)
    conversions = np.bincount(key, weights=w * conv, minlength=C * P).reshape(C, P)
    value = np.bincount(key, weights=w * val, minlength=C * P).reshape(C, P)
    return ChannelCredit(conversions, value)


def simplified_touch_weights(journeys: Journeys) -> np.ndarray:
    r"""Per-touch weights of Zhao's simplified Shapley value.

    A journey with distinct channel set :math:`S` gives each channel :math:`1/|S|` of its
    conversion, split equally among that channel's :math:`N_j` touches:
    :math:`w_t = 1 / (|S| \, N_{c_t})`. Summed per channel this is
    :math:`\phi_j = \sum_{S \ni j} R(S)/|S|`; per position it is the ordered Shapley value.

    Parameters
    ----------
    journeys : Journeys

    Returns
    -------
    ndarray of float64, shape (n_touches,)
        Sums to 1 within every journey with touches.

    Examples
    --------
    >>> from attribution import Journeys
    >>> j = Journeys(["a", "b"], [0, 1, 0], [0, 3], [1.0])
    >>> simplified_touch_weights(j).tolist()
    [0.25, 0.5, 0.25]
    """
    if journeys.n_touches == 0:
        return np.zeros(0)
    same, distinct = _touch_counts(journeys)
    return 1.0 / (distinct[journeys.journey_index] * same)


def _touch_counts(journeys: Journeys) -> tuple[np.ndarray, np.ndarray]:
    """Touches of the same channel in the same journey, per touch (T,), and distinct channels
    per journey (J,)."""
    jid = journeys.journey_index.astype(np.int64)
    key = jid * journeys.n_channels + journeys.touch_channel.astype(np.int64)
    pairs, inverse, touches = np.unique(key, return_inverse=True, return_counts=True)
    distinct = np.bincount(pairs // journeys.n_channels, minlength=journeys.n_journeys)
    return touches[inverse.ravel()].astype(np.float64), distinct.astype(np.float64)
