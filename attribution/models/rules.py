"""Rule-based attribution models: first, last, last non-direct, linear, position-based,
time decay and custom position weights.

Every rule model gives each touch ``t`` of a journey ``j`` a weight ``w_t`` with
``sum_t w_t = 1`` within the journey; channel ``c`` then earns

    conversions_c = sum_{t : c_t = c} w_t * conversions_j(t)
    value_c       = sum_{t : c_t = c} w_t * value_j(t)

(the same sums per conversion place for ``place_credits_``). A path-table row stands for
``conversions_j`` journeys with the same path, so counts simply multiply the weights.
Conversions of journeys without touches go to the ``"(no touch)"`` row (see
:mod:`attribution.models.base`). The weights are computed for all touches at once from the flat
journey arrays (no Python loop over journeys), so the models run in a fraction of a second on
millions of touches.

References
----------
.. [GA] Google Analytics Help, "Get started with attribution" (answer 10596866) and the
   announcement of the removal of first-click, linear, time-decay and position-based models
   from Google Analytics 4 and Google Ads (support.google.com/google-ads/answer/13427716).
.. [AA] Adobe Experience League, Analysis Workspace, "Attribution models" (first touch,
   last touch, linear, U-shaped, J-curve, inverse J, time decay ``2^(-t/half-life)``, custom).
.. [FS] Field survey §2.1, "Rule-based models" (``shared/research/field-survey.md``),
   comparing these rules with ChannelAttribution, marketing-attribution-models (DP6),
   mta and Fractribution.
"""

from __future__ import annotations

import datetime as _dt
import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataQualityWarning
from ..journeys import Journeys
from .base import AttributionModel, _param_error, _warn_user, register_model

__all__ = [
    "CustomWeights",
    "FirstTouch",
    "LastNonDirect",
    "LastTouch",
    "Linear",
    "PositionBased",
    "RuleModel",
    "TimeDecay",
]


class RuleModel(AttributionModel):
    """Base class of the rule models: a per-touch weight that sums to 1 in every journey.

    Rule models learn nothing from the data set as a whole, so :meth:`touch_weights` can be
    called without fitting (the bootstrap and journey-level explanations use it).

    Parameters
    ----------
    click_priority : bool, default False
        With touch types (``Journeys.from_events(..., touch_type=...)``): in a journey with at
        least one click-class touch (click, visit, ...), impressions get no weight and the
        rule runs on the journey's clicks only; a journey of impressions only is credited by
        its impressions. So ``LastTouch(click_priority=True)`` is "last click, else last
        impression" -- the rule of Google's Campaign Manager 360 / Google Ads ("clicks take
        precedence over impressions") and of the W3C attribution proposal
        (w3c/attribution #42: "if there are clicks, attribute to the most recent click; else
        the most recent impression"); Adobe and GA4 credit clicks and visits only. Without
        touch types it has no effect (with a warning).

    Notes
    -----
    Rule weights depend on a touch's position, time and type, never on its channel's name
    (except :class:`LastNonDirect`, which reads the parent channel at the campaign level), so
    rule credits are additive across levels of the channel hierarchy: campaign credits summed
    per channel equal the credits of the same rule on the channel-level journeys
    (:meth:`~attribution.Journeys.to_level`), as long as no path rule depends on the level
    (``collapse_repeats`` and the ``exposure`` / ``first`` / ``frequency`` transforms merge
    touches by channel name).
    """

    _nonnegative = True
    #: Credits at the campaign level sum to the channel-level credits (see Notes).
    _additive_levels = True

    def __init__(self, click_priority=False):
        self.click_priority = click_priority

    def _check_click_priority(self) -> bool:
        cp = getattr(self, "click_priority", False)
        if not isinstance(cp, (bool, np.bool_)):
            raise _param_error(self, "click_priority", "True or False", cp, TypeError)
        return bool(cp)

    def _validate_params(self) -> None:
        self._check_click_priority()

    def _touch_weights(self, journeys: Journeys) -> np.ndarray:
        """The rule's weights, on the journeys' clicks only where ``click_priority`` applies."""
        if not self._check_click_priority():
            return self._rule_weights(journeys)
        if journeys.touch_type is None:
            _warn_user(
                f"{type(self).__name__}(click_priority=True): the journeys carry no touch types, so every touch "
                "counts as a click and click_priority has no effect. Build them with "
                "Journeys.from_events(..., touch_type='<column>').",
                DataQualityWarning,
            )
            return self._rule_weights(journeys)
        keep = click_priority_mask(journeys)
        if keep.all():
            return self._rule_weights(journeys)
        w = np.zeros(journeys.n_touches, dtype=np.float64)
        w[keep] = self._rule_weights(journeys._keep_touches(keep, "click_priority"))
        return w

    def _rule_weights(self, journeys: Journeys) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def touch_weights(self, journeys: Journeys) -> np.ndarray:
        """The weight of every touch (float64[T]); weights sum to 1 within each journey.

        Parameters
        ----------
        journeys : Journeys

        Returns
        -------
        ndarray of float64, shape (journeys.n_touches,)
        """
        journeys = self._check_journeys(journeys)
        self._validate_params()
        return self._touch_weights(journeys)


# ---------------------------------------------------------------------------------------------
# vectorised helpers
# ---------------------------------------------------------------------------------------------


def _segment_starts(journeys: Journeys) -> tuple[np.ndarray, np.ndarray]:
    """Start offsets and lengths of the journeys that have touches."""
    lengths = journeys.lengths
    nonempty = lengths > 0
    return journeys.offsets[:-1][nonempty], lengths[nonempty]


def _normalise(journeys: Journeys, w: np.ndarray) -> np.ndarray:
    """Divide every weight by its journey's total (totals must be positive)."""
    jid = journeys.journey_index
    totals = np.bincount(jid, weights=w, minlength=journeys.n_journeys)
    return w / totals[jid]


def click_priority_mask(journeys: Journeys) -> np.ndarray:
    """Touches a click-priority rule looks at: every click-class touch, and the impressions of
    journeys without any click (bool[T])."""
    imp = journeys.is_impression
    clicks = np.bincount(journeys.journey_index, weights=(~imp).astype(np.float64), minlength=journeys.n_journeys)
    return ~imp | (clicks[journeys.journey_index] == 0)


def _is_last(journeys: Journeys) -> np.ndarray:
    return journeys.position == journeys.lengths[journeys.journey_index] - 1


# ---------------------------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------------------------


@register_model("first_touch")
class FirstTouch(RuleModel):
    """First-touch attribution: the first touch of a journey gets all the credit.

    Notes
    -----
    For a journey with touches ``c_1, ..., c_n``: ``w_1 = 1`` and ``w_t = 0`` for ``t > 1``.

    References
    ----------
    .. [1] Google Analytics Help, "Get started with attribution" (first click).
    .. [2] Adobe Experience League, "Attribution models" (first touch).
    .. [3] Field survey §2.1.

    Examples
    --------
    >>> import pandas as pd
    >>> from attribution import Journeys
    >>> from attribution.models import FirstTouch
    >>> paths = pd.DataFrame({"path": ["a > b > c", "b > a"], "total_conversions": [1, 2],
    ...                       "total_conversion_value": [10.0, 4.0]})
    >>> FirstTouch().fit(Journeys.from_paths(paths)).credits_  # doctest: +NORMALIZE_WHITESPACE
             conversions  value     share
    channel
    a                1.0   10.0  0.333333
    b                2.0    4.0  0.666667
    c                0.0    0.0  0.000000
    """

    def _rule_weights(self, journeys: Journeys) -> np.ndarray:
        return (journeys.position == 0).astype(np.float64)


@register_model("last_touch")
class LastTouch(RuleModel):
    """Last-touch attribution: the last touch before the conversion gets all the credit.

    Notes
    -----
    For a journey with touches ``c_1, ..., c_n``: ``w_n = 1`` and ``w_t = 0`` for ``t < n``.

    References
    ----------
    .. [1] Google Analytics Help, "Get started with attribution" (last click).
    .. [2] Adobe Experience League, "Attribution models" (last touch).
    .. [3] Field survey §2.1.

    Examples
    --------
    >>> import pandas as pd
    >>> from attribution import Journeys
    >>> from attribution.models import LastTouch
    >>> paths = pd.DataFrame({"path": ["a > b > c", "b > a"], "total_conversions": [1, 2],
    ...                       "total_conversion_value": [10.0, 4.0]})
    >>> LastTouch().fit(Journeys.from_paths(paths)).credits_  # doctest: +NORMALIZE_WHITESPACE
             conversions  value     share
    channel
    a                2.0    4.0  0.666667
    b                0.0    0.0  0.000000
    c                1.0   10.0  0.333333
    """

    def _rule_weights(self, journeys: Journeys) -> np.ndarray:
        return _is_last(journeys).astype(np.float64)


@register_model("last_non_direct")
class LastNonDirect(RuleModel):
    """Last non-direct touch: the last touch that is not a direct visit gets all the credit.

    A journey made only of direct touches falls back to its last touch (so the conversion
    is not lost).

    Parameters
    ----------
    direct : str or sequence of str, default ("direct",)
        Names of the direct channels. Matched case-insensitively and ignoring surrounding
        spaces, so ``"Direct"`` in the data matches the default. A warning
        (:class:`~attribution.exceptions.DataQualityWarning`) is raised when none of the names
        occurs among the journeys' channels, since the model then equals :class:`LastTouch`.

    Notes
    -----
    With ``D`` the set of direct channels and ``t* = max{t : c_t not in D}``: ``w_{t*} = 1``;
    if every touch is direct, ``w_n = 1``.

    References
    ----------
    .. [1] Google Analytics Help, "Get started with attribution" (last click ignores direct
       traffic).
    .. [2] Field survey §2.1 (the DP6 marketing-attribution-models v1 rule).

    Examples
    --------
    >>> import pandas as pd
    >>> from attribution import Journeys
    >>> from attribution.models import LastNonDirect
    >>> paths = pd.DataFrame({"path": ["email > direct", "direct > direct"],
    ...                       "total_conversions": [3, 1]})
    >>> LastNonDirect().fit(Journeys.from_paths(paths)).credits_["conversions"]
    channel
    direct    1.0
    email     3.0
    Name: conversions, dtype: float64
    """

    def __init__(self, direct=("direct",), click_priority=False):
        self.direct = direct
        self.click_priority = click_priority

    def _direct_names(self) -> frozenset[str]:
        d = self.direct
        expected = "a channel name or a sequence of channel names such as ('direct',)"
        if isinstance(d, str):
            return frozenset([d.strip().lower()])
        if d is None or not isinstance(d, (Sequence, set, frozenset, np.ndarray)):
            raise _param_error(self, "direct", expected, d, TypeError)
        if not all(isinstance(x, str) for x in d):
            raise _param_error(self, "direct", expected, d, TypeError)
        return frozenset(x.strip().lower() for x in d)

    def _validate_params(self) -> None:
        self._direct_names()
        self._check_click_priority()

    def _rule_weights(self, journeys: Journeys) -> np.ndarray:
        names = self._direct_names()
        # at the campaign level a campaign is direct when its channel is
        labels = journeys.channels if journeys.channel_groups is None else journeys.channel_groups
        is_direct = np.array(
            [str(c).strip().lower() in names for c in labels.tolist()], dtype=bool
        )
        if names and not is_direct.any() and journeys.n_touches:
            _warn_user(
                f"None of the direct channels {sorted(names)} occurs in the journeys' channels "
                f"{journeys.channels.tolist()[:10]}; LastNonDirect gives the same credit as "
                "LastTouch. Pass direct=<the name of your direct channel>.",
                DataQualityWarning,
            )
        T = journeys.n_touches
        w = np.zeros(T, dtype=np.float64)
        if T == 0:
            return w
        starts, lengths = _segment_starts(journeys)
        idx = np.arange(T, dtype=np.int64)
        candidate = np.where(is_direct[journeys.touch_channel], -1, idx)
        last_non_direct = np.maximum.reduceat(candidate, starts)
        last = starts + lengths - 1
        w[np.where(last_non_direct >= 0, last_non_direct, last)] = 1.0
        return w


@register_model("linear")
class Linear(RuleModel):
    """Linear attribution: every touch of a journey gets an equal share.

    Notes
    -----
    ``w_t = 1 / n`` for a journey of ``n`` touches. Repeated touches of a channel count
    separately: in ``a > a > b``, ``a`` gets 2/3.

    References
    ----------
    .. [1] Google Analytics Help, "Get started with attribution" (linear).
    .. [2] Adobe Experience League, "Attribution models" (linear).
    .. [3] Field survey §2.1.

    Examples
    --------
    >>> import pandas as pd
    >>> from attribution import Journeys
    >>> from attribution.models import Linear
    >>> paths = pd.DataFrame({"path": ["a > a > b"], "total_conversions": [3]})
    >>> Linear().fit(Journeys.from_paths(paths)).credits_["conversions"]
    channel
    a    2.0
    b    1.0
    Name: conversions, dtype: float64
    """

    def _rule_weights(self, journeys: Journeys) -> np.ndarray:
        return 1.0 / journeys.lengths[journeys.journey_index].astype(np.float64)


def _check_fraction(model, name, x) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not (0.0 <= float(x) <= 1.0):
        raise _param_error(model, name, "a number in [0, 1]", x)
    return float(x)


@register_model("position_based")
class PositionBased(RuleModel):
    """Position-based (U-shaped) attribution: fixed shares for the first and last touches,
    the rest split evenly over the touches in between.

    Parameters
    ----------
    first : float, default 0.4
        Share of the first touch, in [0, 1].
    last : float, default 0.4
        Share of the last touch, in [0, 1]; ``first + last`` must not exceed 1.

    Notes
    -----
    For a journey of ``n`` touches, with ``f = first``, ``l = last``, ``m = 1 - f - l``:

    * ``n = 1``: the single touch gets 1;
    * ``n = 2``: ``w_1 = f / (f + l)``, ``w_2 = l / (f + l)`` (0.5 each when ``f + l = 0``),
      i.e. the middle share is split between the two ends in proportion to their shares.
      This follows mta and ChannelAttribution-style implementations; Fractribution and
      Snowplow give 0.5/0.5, which is the same for the default symmetric shares;
    * ``n >= 3``: ``w_1 = f``, ``w_n = l``, ``w_t = m / (n - 2)`` for ``1 < t < n``.

    The defaults (0.4, 0.4) are the U-shape of Google Analytics and Adobe. Adobe's J-curve is
    ``first=0.2, last=0.6`` and its inverse J ``first=0.6, last=0.2``.

    References
    ----------
    .. [1] Google Analytics Help, "Get started with attribution" (position-based, 40/20/40).
    .. [2] Adobe Experience League, "Attribution models" (U-shaped, J-curve, inverse J).
    .. [3] Field survey §2.1 (two-touch rule in mta vs Fractribution).

    Examples
    --------
    >>> import pandas as pd
    >>> from attribution import Journeys
    >>> from attribution.models import PositionBased
    >>> paths = pd.DataFrame({"path": ["a > b > c > d"], "total_conversions": [1]})
    >>> PositionBased().fit(Journeys.from_paths(paths)).credits_["conversions"]
    channel
    a    0.4
    b    0.1
    c    0.1
    d    0.4
    Name: conversions, dtype: float64
    """

    def __init__(self, first=0.4, last=0.4, click_priority=False):
        self.first = first
        self.last = last
        self.click_priority = click_priority

    def _validate_params(self) -> None:
        self._check_click_priority()
        f = _check_fraction(self, "first", self.first)
        l_ = _check_fraction(self, "last", self.last)
        if f + l_ > 1.0 + 1e-12:
            raise ValueError(
                f"The 'first' and 'last' parameters of PositionBased must sum to at most 1. "
                f"Got first={self.first!r} and last={self.last!r} (sum {f + l_!r}) instead."
            )

    def _rule_weights(self, journeys: Journeys) -> np.ndarray:
        f, l_ = float(self.first), float(self.last)
        m = max(0.0, 1.0 - f - l_)
        n = journeys.lengths[journeys.journey_index]
        pos = journeys.position
        is_first = pos == 0
        is_last = pos == n - 1
        fl = f + l_
        two_first, two_last = (f / fl, l_ / fl) if fl > 0 else (0.5, 0.5)
        with np.errstate(divide="ignore", invalid="ignore"):
            middle = m / (n - 2).astype(np.float64)
        return np.select(
            [n == 1, (n == 2) & is_first, n == 2, is_first, is_last],
            [1.0, two_first, two_last, f, l_],
            default=middle,
        ).astype(np.float64)


def _parse_half_life(model, value) -> pd.Timedelta:
    expected = "a positive duration such as '7D'"
    is_duration = isinstance(value, (str, pd.Timedelta, _dt.timedelta, np.timedelta64))
    if not is_duration and (isinstance(value, (bool, numbers.Number)) or value is None):
        raise _param_error(model, "half_life", expected, value)
    if not is_duration:
        raise _param_error(model, "half_life", expected, value, TypeError)
    try:
        td = pd.Timedelta(value)
    except (TypeError, ValueError):
        raise _param_error(model, "half_life", expected, value) from None
    if pd.isna(td) or td <= pd.Timedelta(0):
        raise _param_error(model, "half_life", expected, value)
    return td


@register_model("time_decay")
class TimeDecay(RuleModel):
    """Time-decay attribution: a touch's weight halves every ``half_life`` before the conversion.

    Parameters
    ----------
    half_life : str, pandas.Timedelta or datetime.timedelta, default "7D"
        Time after which a touch's weight is halved, e.g. ``"7D"``, ``"12h"``,
        ``pd.Timedelta(days=7)``. Bare numbers are refused (their unit would be a guess).

    Notes
    -----
    With ``a_t = conversion time - touch time`` (the touch's age) and ``H`` the half-life,

        w_t = 2^(-a_t / H) / sum_s 2^(-a_s / H).

    A touch at the conversion time weighs twice a touch ``H`` earlier. Because the weights are
    normalised within the journey, only the gaps between touches matter: the ages are measured
    from the journey's last touch, which gives the same weights as measuring from the
    conversion and cannot underflow to 0/0 however old the journey is. Non-converting journeys
    get weights too (measured the same way), though they carry no conversions to credit.

    Raises
    ------
    ValueError
        At ``fit`` when the journeys have no timestamps (a path table), or when touch
        timestamps are missing (NaT).

    References
    ----------
    .. [1] Adobe Experience League, "Attribution models" (time decay, ``2^(-t/half-life)``,
       default half-life 7 days).
    .. [2] Google Analytics Help, "Get started with attribution" (time decay with a 7-day
       half-life).
    .. [3] Field survey §2.1.

    Examples
    --------
    >>> import pandas as pd
    >>> from attribution import Journeys
    >>> from attribution.models import TimeDecay
    >>> touches = pd.DataFrame({"customer_id": ["u1", "u1"], "channel": ["email", "search"],
    ...                         "timestamp": ["2026-03-01", "2026-03-08"]})
    >>> buys = pd.DataFrame({"customer_id": ["u1"], "timestamp": ["2026-03-08"], "value": [30.0]})
    >>> journeys = Journeys.from_events(touches, buys)
    >>> TimeDecay(half_life="7D").fit(journeys).credits_  # doctest: +NORMALIZE_WHITESPACE
             conversions  value     share
    channel
    email       0.333333   10.0  0.333333
    search      0.666667   20.0  0.666667
    """

    _requires_time = True

    def __init__(self, half_life="7D", click_priority=False):
        self.half_life = half_life
        self.click_priority = click_priority

    def _validate_params(self) -> None:
        _parse_half_life(self, self.half_life)
        self._check_click_priority()

    def _rule_weights(self, journeys: Journeys) -> np.ndarray:
        if journeys.touch_time is None:
            raise ValueError(
                "TimeDecay needs touch and conversion timestamps; these journeys were built from "
                "a path table. Build them with Journeys.from_events(...)."
            )
        H = _parse_half_life(self, self.half_life).value  # nanoseconds
        T = journeys.n_touches
        if T == 0:
            return np.zeros(0, dtype=np.float64)
        t = np.asarray(journeys.touch_time, dtype="datetime64[ns]")
        nat = np.isnat(t)
        if nat.any():
            raise ValueError(
                f"TimeDecay needs a timestamp for every touch; {int(nat.sum())} touch(es) have "
                "none (NaT). Drop or fill them before building the journeys."
            )
        ti = t.view(np.int64)
        starts, lengths = _segment_starts(journeys)
        ref = np.repeat(np.maximum.reduceat(ti, starts), lengths)
        age = (ref - ti).astype(np.float64)
        w = np.exp2(-age / float(H))
        return _normalise(journeys, w)


@register_model("custom")
class CustomWeights(RuleModel):
    """Custom position weights, given as a function of position or as a weight profile.

    Parameters
    ----------
    weights : callable or sequence of float, default (1.0,)
        * A callable ``f(position, length) -> weight``, called **once** with two int64 arrays
          over all touches: ``position`` from 0 (first touch) to ``length - 1`` (last touch)
          and the ``length`` of the touch's journey. It must return non-negative finite
          weights (an array of the same length, or a scalar), with a positive total in every
          journey; they are normalised within each journey. Example: ``lambda p, n: p + 1``
          (later touches weigh more).
        * A sequence ``(v_1, ..., v_k)`` of non-negative weights applied first to last. For a
          journey of exactly ``k`` touches, touch ``t`` gets ``v_t / sum(v)``. Other lengths
          stretch the profile over the path: the path is the interval [0, 1] cut into ``k``
          equal parts holding masses ``v_1..v_k`` (spread evenly within each part), and touch
          ``t`` (0-based) of ``n`` receives the mass of ``[t/n, (t+1)/n]``. So a single touch
          gets everything, longer paths share a part's mass among the touches it covers, and
          shorter paths merge neighbouring parts. The default ``(1.0,)`` is the same as
          :class:`Linear`.

    Notes
    -----
    Sequence form: with ``F`` the cumulative profile (``F(i/k) = (v_1 + ... + v_i) / sum(v)``,
    linear in between), ``w_t = F((t+1)/n) - F(t/n)``. For ``[0.5, 0.2, 0.3]``: 3 touches get
    0.5, 0.2, 0.3; 2 touches get 0.6, 0.4; 6 touches get 0.25, 0.25, 0.1, 0.1, 0.15, 0.15.

    References
    ----------
    .. [1] Adobe Experience League, "Attribution models" (custom model with first, middle and
       last weights).
    .. [2] Field survey §2.1.

    Examples
    --------
    >>> import pandas as pd
    >>> from attribution import Journeys
    >>> from attribution.models import CustomWeights
    >>> paths = pd.DataFrame({"path": ["a > b > c", "a > c"], "total_conversions": [1, 1]})
    >>> j = Journeys.from_paths(paths)
    >>> CustomWeights([0.5, 0.2, 0.3]).fit(j).credits_["conversions"]
    channel
    a    1.1
    b    0.2
    c    0.7
    Name: conversions, dtype: float64
    >>> CustomWeights(lambda position, length: position + 1.0).fit(j).credits_["conversions"]
    channel
    a    0.500000
    b    0.333333
    c    1.166667
    Name: conversions, dtype: float64
    """

    def __init__(self, weights=(1.0,), click_priority=False):
        self.weights = weights
        self.click_priority = click_priority

    _EXPECTED = (
        "a callable f(position, length) or a non-empty sequence of non-negative numbers with "
        "a positive sum, such as [0.5, 0.2, 0.3]"
    )

    def _profile(self) -> np.ndarray | None:
        """The weight sequence as float64 (None for a callable)."""
        w = self.weights
        if callable(w):
            return None
        if isinstance(w, (str, bytes)) or not isinstance(w, (Sequence, np.ndarray)):
            raise _param_error(self, "weights", self._EXPECTED, w, TypeError)
        try:
            v = np.asarray(w, dtype=np.float64)
        except (TypeError, ValueError):
            raise _param_error(self, "weights", self._EXPECTED, w, TypeError) from None
        if v.ndim != 1 or v.size == 0 or not np.isfinite(v).all() or (v < 0).any() or v.sum() <= 0:
            raise _param_error(self, "weights", self._EXPECTED, w)
        return v

    def _validate_params(self) -> None:
        self._profile()
        self._check_click_priority()

    def _rule_weights(self, journeys: Journeys) -> np.ndarray:
        T = journeys.n_touches
        pos = journeys.position
        n = journeys.lengths[journeys.journey_index]
        v = self._profile()
        if v is None:
            raw = self.weights(pos, n)
            try:
                w = np.broadcast_to(np.asarray(raw, dtype=np.float64), (T,)).copy()
            except (TypeError, ValueError):
                raise ValueError(
                    "The 'weights' callable of CustomWeights must return one number per touch "
                    f"(an array of length {T}) or a scalar. Got {type(raw).__name__} "
                    f"of shape {np.shape(raw)} instead."
                ) from None
            bad = ~np.isfinite(w) | (w < 0)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    "The 'weights' callable of CustomWeights must return non-negative finite "
                    f"weights. Got {w[i]!r} for position {int(pos[i])} of a journey of length "
                    f"{int(n[i])}."
                )
        else:
            k = len(v)
            cum = np.concatenate([[0.0], np.cumsum(v) / v.sum()])
            grid = np.arange(k + 1, dtype=np.float64)
            nf = n.astype(np.float64)
            hi = np.interp((pos + 1) / nf * k, grid, cum)
            lo = np.interp(pos / nf * k, grid, cum)
            w = np.maximum(hi - lo, 0.0)
        if T:
            jid = journeys.journey_index
            totals = np.bincount(jid, weights=w, minlength=journeys.n_journeys)
            zero = (totals[jid] <= 0)
            if zero.any():
                lengths = np.unique(n[zero])
                n_bad = len(np.unique(jid[zero]))
                raise ValueError(
                    f"The custom weights sum to zero in {n_bad} journey(s) (path lengths "
                    f"{lengths[:5].tolist()}), so their conversions cannot be split. Give every "
                    "journey a positive total weight."
                )
            w = w / totals[jid]
        return w
