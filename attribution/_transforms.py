"""Google Fractribution's path transforms on :class:`~attribution.journeys.Journeys`
(``unique``, ``exposure``, ``first``, ``frequency``, ``remove_if_not_all``,
``remove_if_last_and_not_all``), public as :func:`attribution.shapes.path_transform`.

It works on the journeys it is given (``_keep_touches``) and imports nothing of the package, so :meth:`Journeys.from_events` (``path_transform=``) can use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .journeys import Journeys

#: Fractribution's path transforms.
PATH_TRANSFORMS = ("unique", "exposure", "first", "frequency", "remove_if_not_all", "remove_if_last_and_not_all")


def _codes_of(journeys: Journeys, channels) -> np.ndarray:
    names = [channels] if isinstance(channels, str) else list(channels or ())
    return np.isin(np.asarray(journeys.channels, dtype=object), names)


def path_transform(journeys: Journeys, how, *, channels: Iterable[str] | str | None = None) -> Journeys:
    """Fractribution's path transforms.

    Parameters
    ----------
    journeys : Journeys
    how : str or list of str
        One transform or several applied in order:

        ``"unique"``
            The path as it is (Fractribution's name for the identity).
        ``"exposure"``
            Consecutive repeats collapsed: ``a > a > b > a`` -> ``a > b > a``.
        ``"first"``
            Only the first touch of each channel: ``a > b > a > c`` -> ``a > b > c``.
        ``"frequency"``
            The first touch of each channel, renamed with the channel's count in the journey:
            ``d > a > b > b > c > d > c > c`` -> ``d(2) > a(1) > b(2) > c(3)`` (new channel
            names).
        ``"remove_if_not_all"``
            Touches of ``channels`` removed unless the journey consists only of them:
            ``direct > a > direct`` -> ``a``; ``direct > direct`` stays.
        ``"remove_if_last_and_not_all"``
            The trailing run of ``channels`` removed unless the journey consists only of them:
            ``a > direct > b > direct > direct`` -> ``a > direct > b``.
    channels : str or list of str, optional
        The channels of the two ``remove_*`` transforms (e.g. ``"direct"``).

    Returns
    -------
    Journeys
        Removed touches are counted in ``exclusions["path_transform"]``; conversions, values and
        non-converting counts never change.

    References
    ----------
    Google, Fractribution (github.com/google/fractribution), ``path_transforms.sql``.
    """
    steps = [how] if isinstance(how, str) else list(how)
    out = journeys
    for step in steps:
        if step not in PATH_TRANSFORMS:
            raise ValueError(f"The 'how' parameter of path_transform must be one of {list(PATH_TRANSFORMS)}. Got {step!r} instead.")
        if step.startswith("remove") and not channels:
            raise ValueError(f"path_transform {step!r} needs channels=, e.g. channels='direct'.")
        out = _apply(out, step, channels)
    return out


def _apply(j: Journeys, step: str, channels) -> Journeys:
    tc = j.touch_channel.astype(np.int64)
    jid = j.journey_index
    pos = j.position
    T = len(tc)
    if step == "unique":
        return j
    if step == "exposure":
        repeat = np.zeros(T, dtype=bool)
        repeat[1:] = (tc[1:] == tc[:-1]) & (pos[1:] > 0)
        return j._keep_touches(~repeat, "path_transform")
    if step in ("first", "frequency"):
        key = jid.astype(np.int64) * max(j.n_channels, 1) + tc
        uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        keep = np.zeros(T, dtype=bool)
        keep[first] = True
        if step == "first":
            return j._keep_touches(keep, "path_transform")
        counts = np.bincount(inverse.ravel(), minlength=len(uniq))[inverse.ravel()]
        out = j._keep_touches(keep, "path_transform")
        k_ch, k_cnt = tc[keep], counts[keep]
        pair = k_ch * (int(k_cnt.max(initial=0)) + 1) + k_cnt
        pu, pinv = np.unique(pair, return_inverse=True)
        base = np.asarray(j.channels, dtype=object)
        span = int(k_cnt.max(initial=0)) + 1
        labels = np.array([f"{base[p // span]}({p % span})" for p in pu], dtype=object)  # distinct pairs only
        order = np.argsort(labels.astype(str), kind="stable")
        rank = np.empty(len(order), dtype=np.int32)
        rank[order] = np.arange(len(order), dtype=np.int32)
        return out._replace(channels=labels[order], touch_channel=rank[pinv.ravel()])
    is_x = _codes_of(j, channels)[tc] if T else np.zeros(0, dtype=bool)
    n_x = np.bincount(jid, weights=is_x, minlength=j.n_journeys)
    all_x = (n_x == j.lengths)[jid]
    if step == "remove_if_not_all":
        return j._keep_touches(~is_x | all_x, "path_transform")
    # remove_if_last_and_not_all: touches of the trailing run of `channels`
    nonx = (~is_x).astype(np.int64)
    c = np.cumsum(nonx)
    end = j.offsets[1:][jid] - 1
    nonx_from_here = c[end] - c + nonx if T else np.zeros(0, np.int64)
    trailing = is_x & (nonx_from_here == 0)
    return j._keep_touches(~trailing | all_x, "path_transform")
