"""The estimator base class shared by every attribution model, the model registry and
the conservation helpers.

A model turns a :class:`~attribution.journeys.Journeys` into credit: how many of the observed
conversions (and how much of their value) each channel earned. Every model obeys one contract,
checked for all registered models by ``tests/test_common.py``:

* ``fit(journeys)`` returns ``self`` and sets ``credits_`` (one row per channel, index
  ``channel``, columns ``conversions``, ``value``, ``share``) and, when the journeys carry
  conversion places, ``place_credits_`` (long table ``channel, place, conversions, value``).
* Conservation: ``credits_`` sums to the journeys' total conversions and total value (and per
  place, ``place_credits_`` sums to each place's totals).

Journeys without touches
------------------------
A row with no touches but with conversions (a walk-in buyer with no recorded touch) has no
channel to credit. Its conversions and value go to a pseudo-channel row ``"(no touch)"``
(:data:`NO_TOUCH`), the last row of ``credits_``, so conservation holds exactly. The row is only
added when such journeys carry conversions or value. Models only ever distribute the
conversions of journeys *with* touches over the real channels.

Writing a model
---------------
Subclass :class:`AttributionModel`, store the constructor arguments verbatim, and implement
exactly one of two hooks:

``_touch_weights(journeys) -> float64[T]``
    For models that split each journey's conversion over its own touches (rule models,
    per-journey Shapley). The weights must sum to 1 within every journey that has touches.
    The base class turns them into channel and place credit (:func:`credit_from_touch_weights`).

``_channel_credit(journeys) -> ChannelCredit``
    For global models whose credit is not a per-touch split (Markov removal effects). Return
    the credit of the touched journeys as ``(C, P)`` matrices, one column per conversion place
    in the order of :func:`place_codes` (``P = 1`` without places). Most global models compute
    per-channel *shares* and call :func:`credit_from_shares`, which scales them to the touched
    conversions and value of each place; a model with one set of shares per place (e.g. a
    multi-outcome Markov chain) passes a ``(C, P)`` share matrix.

Both hooks run after :meth:`AttributionModel._validate_params` (put parameter checks there).

Estimands
---------
Every model declares :attr:`AttributionModel.estimand_`:

``"attributed"`` (the default: rules, Markov, Shapley, data-driven models)
    Credit is a *share of the observed conversions*: every conversion of a journey with touches
    is split over channels, whether or not the channel caused it.
``"incremental"``
    Credit is a causal effect: the conversions (and value) a channel added over what would have
    happened without it. An incremental model implements ``_channel_credit`` returning each
    channel's incremental conversions and value per place; the base class adds a last row
    ``"(baseline)"`` (:data:`BASELINE`) holding the rest — the conversions and value expected
    with no paid channel, including those of journeys without touches (there is no
    ``"(no touch)"`` row) — so that ``credits_`` still sums to all conversions and value, per
    place too. :attr:`AttributionModel.incremental_credits_` is ``credits_`` without that row.
    Incremental models may also expose ``credit_intervals_`` (index channel; columns
    ``conversions_low, conversions_high, value_low, value_high``) and ``diagnostics_``.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import os
import re
import sys
import warnings
import weakref
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple

import numpy as np
import pandas as pd

from ..exceptions import (  # _warn_user: defined beside the warnings, used here and by every model
    _PACKAGE_DIR,
    DataQualityWarning,
    EstimandError,
    NotFittedError,
    ParameterError,
    ParameterTypeError,
    _warn_user,
)
from ..journeys import Journeys
from ._estimator import ParamsMixin, clone
from ._touch import (  # defined in the leaf module the credit functions share; public here
    _PLACE_CACHE,
    BASELINE,
    NO_TOUCH,
    UNKNOWN_PLACE,
    ChannelCredit,
    _n_places,
    _place_codes,
    credit_from_touch_weights,
    place_codes,
)

__all__ = [
    "AttributionModel",
    "BASELINE",
    "ChannelCredit",
    "ESTIMANDS",
    "MODELS",
    "NO_TOUCH",
    "UNKNOWN_PLACE",
    "check_conservation",
    "credit_from_shares",
    "credit_from_touch_weights",
    "estimand_of",
    "get_model",
    "place_codes",
    "register_model",
]

#: The two estimands a model can declare in ``estimand_``.
ESTIMANDS = ("attributed", "incremental")

#: Pseudo-channels that are not channels one can spend on (left out of shares and ranks).
PSEUDO_CHANNELS = (NO_TOUCH, BASELINE)

#: Registry of model classes by name, filled by :func:`register_model`.
MODELS: dict[str, type[AttributionModel]] = {}

# Modules that register the package's own models. They are imported on first use of the
# registry (``get_model``) and by ``attribution.models``; a module that does not exist yet is
# skipped, an error inside an existing module is raised.
_BUILTIN_MODULES = (
    "attribution.models.rules",
    "attribution.models.markov",
    "attribution.models.shapley",
    "attribution.models.datadriven",
    "attribution.models.aipw",
    "attribution.models.incremental",
)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def _param_error(
    owner: Any, name: str, expected: str, got: Any, exc: type[Exception] = ValueError
) -> Exception:
    """Build the one message shape used for bad parameters.

    "The 'half_life' parameter of TimeDecay must be a positive duration such as '7D'.
    Got -3 instead."
    """
    owner_name = owner if isinstance(owner, str) else type(owner).__name__
    exc = {ValueError: ParameterError, TypeError: ParameterTypeError}.get(exc, exc)
    return exc(f"The {name!r} parameter of {owner_name} must be {expected}. Got {got!r} instead.")




def _attributed_message(owner: Any) -> str:
    return (
        f"{type(owner).__name__} is an attributed model (estimand_ == 'attributed'): its credit "
        "splits the observed conversions over the channels that touched them, which is not an "
        "incremental effect, so it has no 'incremental_credits_'. Use credits_, or fit an "
        "incremental model such as get_model('causal') or get_model('aipw')."
    )


def estimand_of(model: Any) -> str:
    """The estimand of a model (instance or class); ``"attributed"`` for anything else."""
    est = getattr(type(model) if not isinstance(model, type) else model, "estimand_", "attributed")
    return est if est in ESTIMANDS else "attributed"


def _not_fitted_message(owner: Any) -> str:
    return (
        f"This {type(owner).__name__} instance is not fitted yet. "
        "Call 'fit' with a Journeys object first."
    )


# ---------------------------------------------------------------------------------------------
# Places and credit assembly (shared by every model; place_codes and credit_from_touch_weights
# are in ._touch, which attribution.credits shares)
# ---------------------------------------------------------------------------------------------


def _touched_totals(journeys: Journeys) -> tuple[np.ndarray, np.ndarray]:
    """Conversions and value of the journeys with touches, per place (shape (P,))."""
    codes, places = place_codes(journeys)
    P = _n_places(places)
    touched = np.asarray(journeys.lengths) > 0
    conv = np.bincount(codes[touched], weights=np.asarray(journeys.conversions)[touched], minlength=P)
    val = np.bincount(codes[touched], weights=np.asarray(journeys.value)[touched], minlength=P)
    return conv.astype(np.float64), val.astype(np.float64)


def credit_from_shares(
    journeys: Journeys, shares: np.ndarray, value_shares: np.ndarray | None = None
) -> ChannelCredit:
    """Scale per-channel shares to the conversions and value of the touched journeys.

    This is the helper for global models (Markov removal effects): the model computes how much
    each channel matters, and the helper distributes the conversions and value of journeys
    *with touches* in those proportions. Journeys without touches are credited to
    ``"(no touch)"`` by the base class, not here.

    Parameters
    ----------
    journeys : Journeys
    shares : array-like of shape (n_channels,) or (n_channels, n_places)
        Non-normalised channel weights. A 1-d array applies the same shares to every
        conversion place (each place's conversions are split in the same proportions); a 2-d
        array gives one column of shares per place, in the order of :func:`place_codes`.
        Each column is normalised to sum to 1.
    value_shares : array-like, optional
        Shares for the value (same shapes); defaults to ``shares``.

    Returns
    -------
    ChannelCredit

    Raises
    ------
    ValueError
        If a place has conversions (or value) to distribute but its shares sum to zero or are
        not finite.
    """
    codes, places = place_codes(journeys)
    P = _n_places(places)
    C = journeys.n_channels
    conv_tot, val_tot = _touched_totals(journeys)

    def scale(s, totals, what):
        s = np.asarray(s, dtype=np.float64)
        if s.ndim == 1:
            s = np.repeat(s[:, None], P, axis=1)
        if s.shape != (C, P):
            raise ValueError(
                f"Expected {what} of shape ({C},) or ({C}, {P}) (channels × places); "
                f"got shape {s.shape}."
            )
        if not np.isfinite(s).all():
            raise ValueError(f"The channel {what} contain NaN or infinite values.")
        col = s.sum(axis=0)
        bad = (col == 0) & (totals != 0)
        if bad.any():
            where = "" if places is None else f" at place {places[np.flatnonzero(bad)[0]]!r}"
            raise ValueError(
                f"The channel {what} sum to zero{where}, so the conversions there cannot be "
                "distributed."
            )
        safe = np.where(col == 0, 1.0, col)
        return s / safe * totals[None, :]

    conversions = scale(shares, conv_tot, "shares")
    value = scale(shares if value_shares is None else value_shares, val_tot, "value shares")
    return ChannelCredit(conversions, value)


# ---------------------------------------------------------------------------------------------
# The estimator base class
# ---------------------------------------------------------------------------------------------


class AttributionModel(ParamsMixin):
    """Base class of every attribution model (a scikit-learn style estimator).

    The parameter protocol (``get_params``, ``set_params``, ``repr``, ``sklearn.base.clone``)
    comes from :class:`~attribution.models._estimator.ParamsMixin`, which implements
    scikit-learn's semantics without importing scikit-learn.

    Subclasses store their parameters in ``__init__`` (no logic), check them in
    ``_validate_params`` and implement one of the hooks ``_touch_weights`` (per-touch split)
    or ``_channel_credit`` (global models); see the module docstring.

    Attributes
    ----------
    credits_ : pandas.DataFrame
        One row per channel (index ``channel``, channels in the journeys' code order, then
        ``"(no touch)"`` if journeys without touches carry conversions or value), columns
        ``conversions``, ``value`` and ``share`` (share of all conversions; NaN when there are
        no conversions).
    place_credits_ : pandas.DataFrame
        Only when the journeys carry conversion places: columns ``channel``, ``place``,
        ``conversions``, ``value``, one row per channel × place (places sorted). Summed per
        channel it equals ``credits_``.
    channels_ : ndarray of object
        Channel names of the fitted journeys (without ``"(no touch)"``).
    estimand_ : {"attributed", "incremental"}
        What the credit measures (a class attribute, readable before fitting): shares of the
        observed conversions, or incremental effects with a ``"(baseline)"`` row (see the
        module docstring).
    incremental_credits_ : pandas.DataFrame
        Incremental models only: ``credits_`` without the ``"(baseline)"`` row, ``share`` being
        the share of the channels' incremental conversions.
    """

    #: What the credit measures: "attributed" (shares of observed conversions) or
    #: "incremental" (causal effects, with a "(baseline)" row). See the module docstring.
    estimand_: ClassVar[str] = "attributed"

    #: Registry name, set by :func:`register_model`.
    model_name: ClassVar[str | None] = None
    #: True when the model needs touch timestamps (``Journeys.from_events``).
    _requires_time: ClassVar[bool] = False
    #: True when the model's credits can never be negative (checked by the common tests).
    _nonnegative: ClassVar[bool] = False

    # -- fitted-attribute access -----------------------------------------------------------

    def __getattr__(self, name: str):
        # Only called when normal lookup fails. Fitted attributes end in "_".
        if name.endswith("_") and not name.startswith("_"):
            if "credits_" not in self.__dict__:
                raise NotFittedError(_not_fitted_message(self))
            if name == "incremental_credits_":
                raise EstimandError(_attributed_message(self))
            if name == "place_credits_":
                raise AttributeError(
                    f"{type(self).__name__} has no 'place_credits_' because the journeys it was "
                    "fitted on carry no conversion places. Build the journeys with a place "
                    "column (e.g. Journeys.from_events(..., place=...)) to split credit by place."
                )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def incremental_credits_(self) -> pd.DataFrame:
        """``credits_`` without the ``"(baseline)"`` row (incremental models only); ``share`` is
        each channel's share of the channels' incremental conversions.

        Raises
        ------
        EstimandError
            On a model whose estimand is ``"attributed"`` (its credit is a share of observed
            conversions, not an incremental effect).
        NotFittedError
            Before ``fit``.
        """
        if self.estimand_ != "incremental":
            raise EstimandError(_attributed_message(self))
        stored = self.__dict__.get("incremental_credits_")
        if stored is not None:  # a model that builds its own
            return stored
        inc = self.credits_.drop(index=[BASELINE], errors="ignore").copy()
        t = inc["conversions"].sum()
        inc["share"] = inc["conversions"] / t if t > 0 else np.nan
        return inc

    @incremental_credits_.setter
    def incremental_credits_(self, value) -> None:
        self.__dict__["incremental_credits_"] = value

    def __sklearn_is_fitted__(self) -> bool:
        return "credits_" in self.__dict__

    # -- the estimator API -----------------------------------------------------------------

    def fit(self, journeys: Journeys, y=None) -> AttributionModel:
        """Attribute the conversions and value of ``journeys`` to channels.

        Parameters
        ----------
        journeys : Journeys
            Built with ``Journeys.from_events`` or ``Journeys.from_paths``.
        y : None
            Ignored; present for scikit-learn API compatibility.

        Returns
        -------
        self

        Raises
        ------
        TypeError
            If ``journeys`` is not a :class:`~attribution.journeys.Journeys`.
        ValueError
            If a parameter is invalid.
        """
        journeys = self._check_journeys(journeys)
        self._validate_params()
        self._warn_if_converters_only(journeys)
        credit = self._channel_credit(journeys)
        self._store_credit(journeys, credit)
        return self

    #: Whether the model compares converting with non-converting journeys (data-driven models).
    _uses_nulls = False

    def _warn_if_converters_only(self, journeys: Journeys) -> None:
        """Warn when a data-driven model gets converting journeys only (it can then measure reach only)."""
        if self._uses_nulls and journeys.total_nulls == 0 and journeys.total_conversions > 0:
            _warn_user(
                f"{type(self).__name__}: the journeys hold no non-converting journeys (every path converts), so "
                "this data-driven model cannot compare converting with non-converting paths: its credit "
                "measures reach (how often a channel appears), not its effect. Give the paths that did not "
                "convert too (a total_null column, or touch events of customers who did not convert).",
                DataQualityWarning,
            )

    # -- hooks -------------------------------------------------------------------------------

    def _validate_params(self) -> None:
        """Check the constructor parameters; raise with :func:`_param_error` messages."""

    def _touch_weights(self, journeys: Journeys) -> np.ndarray:
        """Per-touch weights summing to 1 within every journey with touches."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement either _touch_weights (per-touch split) "
            "or _channel_credit (global credit)."
        )

    def _channel_credit(self, journeys: Journeys) -> ChannelCredit:
        """Credit of the touched journeys per channel × place; default: from touch weights."""
        return credit_from_touch_weights(journeys, self._touch_weights(journeys))

    # -- helpers -----------------------------------------------------------------------------

    def _check_journeys(self, journeys: Any) -> Journeys:
        if not isinstance(journeys, Journeys):
            raise TypeError(
                f"{type(self).__name__}.fit expects a Journeys object; got "
                f"{type(journeys).__name__}. Build one with Journeys.from_events(...) or "
                "Journeys.from_paths(...)."
            )
        return journeys

    def _store_credit(self, journeys: Journeys, credit: ChannelCredit) -> None:
        codes, places = place_codes(journeys)
        P = _n_places(places)
        C = journeys.n_channels
        conv = np.asarray(credit.conversions, dtype=np.float64)
        val = np.asarray(credit.value, dtype=np.float64)
        if P == 1 and conv.ndim == 1:
            conv = conv[:, None]
        if P == 1 and val.ndim == 1:
            val = val[:, None]
        if conv.shape != (C, P) or val.shape != (C, P):
            raise ValueError(
                f"{type(self).__name__} produced credit of shape {conv.shape} / {val.shape}; "
                f"expected ({C}, {P}) (channels × places). Use credit_from_shares for "
                "per-channel shares."
            )

        names = np.asarray(journeys.channels, dtype=object)
        if self.estimand_ == "incremental":
            # The "(baseline)" row: all conversions and value (with or without touches) minus
            # the channels' incremental credit, per place, so conservation holds exactly.
            if not (np.isfinite(conv).all() and np.isfinite(val).all()):
                raise ValueError(
                    f"{type(self).__name__} produced incremental credit with NaN or infinite values."
                )
            all_conv = np.bincount(codes, weights=np.asarray(journeys.conversions, dtype=np.float64), minlength=P)
            all_val = np.bincount(codes, weights=np.asarray(journeys.value, dtype=np.float64), minlength=P)
            conv = np.vstack([conv, (all_conv[:P] - conv.sum(axis=0))[None, :]])
            val = np.vstack([val, (all_val[:P] - val.sum(axis=0))[None, :]])
            names = np.append(names, BASELINE).astype(object)
        else:
            # Journeys without touches: the "(no touch)" pseudo-channel.
            empty = np.asarray(journeys.lengths) == 0
            nt_conv = np.bincount(codes[empty], weights=np.asarray(journeys.conversions)[empty], minlength=P)
            nt_val = np.bincount(codes[empty], weights=np.asarray(journeys.value)[empty], minlength=P)
            if np.any(nt_conv != 0) or np.any(nt_val != 0):
                conv = np.vstack([conv, nt_conv[None, :P]])
                val = np.vstack([val, nt_val[None, :P]])
                names = np.append(names, NO_TOUCH).astype(object)

        conv_ch = conv.sum(axis=1)
        val_ch = val.sum(axis=1)
        total = conv_ch.sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            share = conv_ch / total if total != 0 else np.full(len(names), np.nan)
        index = pd.Index(names, name="channel", dtype=object)
        self.credits_ = pd.DataFrame(
            {"conversions": conv_ch, "value": val_ch, "share": share}, index=index
        )
        self.channels_ = np.asarray(journeys.channels, dtype=object).copy()
        if places is not None:
            n = len(names)
            self.place_credits_ = pd.DataFrame(
                {
                    "channel": np.repeat(names, P),
                    "place": np.tile(np.asarray(places, dtype=object), n),
                    "conversions": conv.ravel(),
                    "value": val.ravel(),
                }
            )
        else:
            self.__dict__.pop("place_credits_", None)

    # -- credit per journey and per touch (attribution.credits) -----------------------------

    def journey_credits(self, journeys: Journeys, *, split: str = "touched") -> pd.DataFrame:
        """Credit per journey × channel, summing to ``credits_``; see
        :func:`attribution.credits.journey_credits`."""
        from ..credits import journey_credits

        return journey_credits(self, journeys, split=split)

    def touch_credits(self, journeys: Journeys) -> pd.DataFrame:
        """Credit per touch, summing to ``credits_``; see :func:`attribution.credits.touch_credits`."""
        from ..credits import touch_credits

        return touch_credits(self, journeys)


# ---------------------------------------------------------------------------------------------
# Conservation
# ---------------------------------------------------------------------------------------------


def _close(got: float, want: float, scale: float, rtol: float) -> bool:
    return abs(got - want) <= rtol * max(abs(want), scale)


def check_conservation(model: AttributionModel, journeys: Journeys, rtol: float = 1e-9) -> None:
    """Assert that a fitted model's credit adds up to the journeys' totals.

    Checks that ``credits_`` sums to ``journeys.total_conversions`` and
    ``journeys.total_value``, and, when the journeys carry places, that ``place_credits_``
    sums to each place's totals and per channel to ``credits_``. The tolerance is relative
    (``rtol`` times the larger of the total and the sum of absolute credits).

    Raises
    ------
    AssertionError
        Naming the quantity that does not add up.
    """
    cr = model.credits_
    for col, total in (("conversions", journeys.total_conversions), ("value", journeys.total_value)):
        got = float(cr[col].sum())
        if not _close(got, float(total), float(cr[col].abs().sum()), rtol):
            raise AssertionError(
                f"{type(model).__name__}: credited {col} sum to {got!r}, journeys total {total!r}."
            )
    if journeys.has_place:
        pc = model.place_credits_
        codes, places = place_codes(journeys)
        for col, arr in (("conversions", journeys.conversions), ("value", journeys.value)):
            want = np.bincount(codes, weights=np.asarray(arr, dtype=np.float64), minlength=len(places))
            got = pc.groupby("place", sort=False)[col].sum().reindex(places, fill_value=0.0)
            scale = pc.groupby("place", sort=False)[col].apply(lambda s: s.abs().sum())
            scale = scale.reindex(places, fill_value=0.0)
            for p, g, w, s in zip(places, got.to_numpy(), want, scale.to_numpy()):
                if not _close(float(g), float(w), float(s), rtol):
                    raise AssertionError(
                        f"{type(model).__name__}: {col} credited at place {p!r} sum to {g!r}, "
                        f"journeys total {w!r}."
                    )
            per_channel = pc.groupby("channel", sort=False)[col].sum().reindex(cr.index, fill_value=0.0)
            if not np.allclose(per_channel.to_numpy(), cr[col].to_numpy(), rtol=rtol, atol=0):
                raise AssertionError(
                    f"{type(model).__name__}: place_credits_ {col} summed per channel differ "
                    "from credits_."
                )


# ---------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------


_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def register_model(name: str) -> Callable[[type], type]:
    """Class decorator that registers a model under ``name`` in :data:`MODELS`.

    Parameters
    ----------
    name : str
        Lower-case identifier (letters, digits, underscores), e.g. ``"markov"``.

    Examples
    --------
    >>> from attribution.models import AttributionModel, register_model, MODELS
    >>> @register_model("my_first")
    ... class MyFirst(AttributionModel):
    ...     def _touch_weights(self, journeys):
    ...         return (journeys.position == 0).astype(float)
    >>> MODELS["my_first"] is MyFirst
    True
    >>> del MODELS["my_first"]
    """
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(
            f"Model names must be lower-case identifiers such as 'last_touch'. Got {name!r} instead."
        )

    def decorator(cls: type) -> type:
        if not (isinstance(cls, type) and issubclass(cls, AttributionModel)):
            raise TypeError(f"register_model expects an AttributionModel subclass; got {cls!r}.")
        old = MODELS.get(name)
        if old is not None and (old.__module__, old.__qualname__) != (cls.__module__, cls.__qualname__):
            raise ValueError(
                f"A model named {name!r} is already registered ({old.__module__}.{old.__qualname__})."
            )
        if getattr(cls, "estimand_", "attributed") not in ESTIMANDS:
            raise ValueError(
                f"The 'estimand_' of {cls.__name__} must be one of {list(ESTIMANDS)}. "
                f"Got {cls.estimand_!r} instead."
            )
        cls.model_name = name
        MODELS[name] = cls
        return cls

    return decorator


def _load_builtin_models() -> None:
    """Import the package's model modules so that they register themselves."""
    for mod in _BUILTIN_MODULES:
        try:
            spec = importlib.util.find_spec(mod)
        except ModuleNotFoundError:
            spec = None
        if spec is not None:
            importlib.import_module(mod)


def _normalise_name(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _parse_scalar(text: str) -> Any:
    t = text.strip()
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
        return t[1:-1]
    low = t.lower()
    if low == "true":
        return True
    if low == "false":
        return False
    if low == "none":
        return None
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return t


def _parse_value(text: str) -> Any:
    if "|" in text:
        return tuple(_parse_scalar(p) for p in text.split("|") if p.strip() != "")
    return _parse_scalar(text)


def _parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    name, sep, rest = spec.partition(":")
    params: dict[str, Any] = {}
    if sep and rest.strip():
        for item in rest.split(","):
            if not item.strip():
                continue
            key, eq, val = item.partition("=")
            if not eq or not key.strip():
                raise ValueError(
                    f"Cannot parse {item.strip()!r} in model spec {spec!r}: parameters are written "
                    "as key=value, e.g. 'markov:order=2,collapse_repeats=true'."
                )
            key = key.strip()
            if key in params:
                raise ValueError(f"Parameter {key!r} is given twice in model spec {spec!r}.")
            params[key] = _parse_value(val)
    return _normalise_name(name), params


def get_model(spec: str | type | AttributionModel, **params: Any) -> AttributionModel:
    """Return a model from a name, a spec string, a class or an instance.

    Parameters
    ----------
    spec : str, AttributionModel subclass or instance
        * a registered name: ``"markov"``, ``"last_touch"`` (case-insensitive; ``-`` and
          spaces read as ``_``);
        * a spec string ``"name:key=value,key=value"``, e.g.
          ``"markov:order=2,collapse_repeats=true"``. Values are read as ``true``/``false``
          (bool), ``none``, integers, floats, or strings (quotes optional, e.g. ``half_life=7D``);
          a value with ``|`` is a tuple, e.g. ``"last_non_direct:direct=direct|organic"``
          gives ``direct=('direct', 'organic')``;
        * a model class: instantiated with ``params``;
        * a model instance: returned as is (with ``params``, a clone with those parameters set).
    **params
        Constructor parameters; they may not repeat a parameter given in the spec string.

    Returns
    -------
    AttributionModel

    Raises
    ------
    ValueError
        For an unknown model name ("Unknown model 'markv'. Choose from [...]"), an unknown
        parameter, or a malformed spec string.
    TypeError
        If ``spec`` is none of the above.

    Examples
    --------
    >>> from attribution.models import get_model
    >>> get_model("position_based:first=0.3,last=0.5")
    PositionBased(first=0.3, last=0.5)
    >>> get_model("last_non_direct:direct=direct|organic")
    LastNonDirect(direct=('direct', 'organic'))
    """
    if isinstance(spec, AttributionModel):
        if not params:
            return spec
        cls = type(spec)
        _check_param_names(cls, params)
        return clone(spec).set_params(**params)
    if isinstance(spec, type) and issubclass(spec, AttributionModel):
        _check_param_names(spec, params)
        return spec(**params)
    if not isinstance(spec, str):
        raise TypeError(
            "get_model expects a model name such as 'markov', a spec string such as "
            f"'markov:order=2', a model class or a model instance. Got {type(spec).__name__} instead."
        )
    name, spec_params = _parse_spec(spec)
    if name not in MODELS:
        _load_builtin_models()
    if name not in MODELS:
        valid = sorted(MODELS)
        close = difflib.get_close_matches(name, valid, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"Unknown model {name!r}. Choose from {valid}.{hint}")
    dup = sorted(set(spec_params) & set(params))
    if dup:
        raise ValueError(f"Parameter(s) {dup} given both in the spec {spec!r} and as keywords.")
    cls = MODELS[name]
    all_params = {**spec_params, **params}
    _check_param_names(cls, all_params)
    return cls(**all_params)


def _check_param_names(cls: type[AttributionModel], params: dict[str, Any]) -> None:
    valid = cls._get_param_names()
    for key in params:
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"Unknown parameter {key!r} for {cls.__name__}. Valid parameters: {valid}.{hint}"
            )
