"""A light scikit-learn compatible estimator base, so that models import without scikit-learn.

Importing scikit-learn costs about a second on a small machine (it pulls in ``scipy.stats``,
``scipy.linalg`` and more), paid by every script and CLI call that fits a model. The models only
need the parameter protocol, so :class:`ParamsMixin` implements it with scikit-learn's
semantics, and :func:`clone` copies an estimator the way ``sklearn.base.clone`` does:

* ``_get_param_names()``: the constructor's arguments, sorted (no ``*args``);
* ``get_params(deep=True)``: those attributes, plus ``name__sub`` entries for parameters that
  are estimators themselves;
* ``set_params(**params)``: sets them (nested ones through ``name__sub``) and returns ``self``;
* ``repr``: the class with the parameters that differ from their defaults, e.g.
  ``PositionBased(first=0.3, last=0.5)``.

``sklearn.base.clone``, ``check_is_fitted``, grid searches and pipelines accept these models as
before (they rely on this protocol only); ``tests/test_common.py`` checks ``sklearn.base.clone``
on every registered model.
"""

from __future__ import annotations

import copy
import inspect
import math

__all__ = ["ParamsMixin", "clone"]


class ParamsMixin:
    """The scikit-learn estimator parameter protocol (``get_params`` / ``set_params`` / ``repr``)."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        """Names of the constructor's parameters, sorted."""
        init = cls.__init__
        if init is object.__init__:
            return []
        names = []
        for p in inspect.signature(init).parameters.values():
            if p.name == "self" or p.kind == p.VAR_KEYWORD:
                continue
            if p.kind == p.VAR_POSITIONAL:
                raise RuntimeError(
                    f"{cls.__name__}.__init__ takes *args; estimators must name every parameter "
                    "in their constructor's signature."
                )
            names.append(p.name)
        return sorted(names)

    def get_params(self, deep: bool = True) -> dict:
        """The estimator's parameters (with ``deep``, nested estimators' as ``name__param``)."""
        out = {}
        for key in self._get_param_names():
            value = getattr(self, key)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{key}__{k}", v) for k, v in value.get_params().items())
            out[key] = value
        return out

    def set_params(self, **params):
        """Set parameters (nested ones as ``name__param``); returns ``self``."""
        if not params:
            return self
        valid = self.get_params(deep=True)
        nested: dict[str, dict] = {}
        for key, value in params.items():
            key, delim, sub_key = key.partition("__")
            if key not in valid:
                raise ValueError(
                    f"Invalid parameter {key!r} for estimator {ParamsMixin.__repr__(self)}. Valid parameters are: "
                    f"{self._get_param_names()!r}."
                )
            if delim:
                nested.setdefault(key, {})[sub_key] = value
            else:
                setattr(self, key, value)
                valid[key] = value
        for key, sub in nested.items():
            valid[key].set_params(**sub)
        return self

    def __sklearn_tags__(self):
        """scikit-learn's default estimator tags (only scikit-learn calls this, so it is loaded)."""
        from sklearn.utils import Tags, TargetTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False), transformer_tags=None,
                    regressor_tags=None, classifier_tags=None)

    def _changed_params(self) -> dict:
        """Parameters whose value differs from the constructor's default (by ``repr``)."""
        defaults = {
            p.name: p.default
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.default is not p.empty
        }

        def is_nan(x):
            return isinstance(x, float) and math.isnan(x)

        out = {}
        for k, v in self.get_params(deep=False).items():
            if k not in defaults:
                out[k] = v
            elif repr(v) != repr(defaults[k]) and not (is_nan(v) and is_nan(defaults[k])):
                out[k] = v
        return out

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._changed_params().items())
        return f"{type(self).__name__}({args})"


def clone(estimator, *, safe: bool = True):
    """A new unfitted estimator with the same parameters (``sklearn.base.clone`` semantics).

    Parameters are cloned recursively (estimators are cloned, lists / tuples / sets element by
    element, anything else deep-copied); fitted attributes are not copied. Estimators that
    define ``__sklearn_clone__`` use it.
    """
    if isinstance(estimator, (list, tuple, set, frozenset)):
        return type(estimator)([clone(e, safe=safe) for e in estimator])
    if isinstance(estimator, type) or not hasattr(estimator, "get_params"):
        if not safe:
            return copy.deepcopy(estimator)
        raise TypeError(
            f"Cannot clone object {estimator!r} (type {type(estimator).__name__}): it does not "
            "implement a 'get_params' method."
        )
    if hasattr(estimator, "__sklearn_clone__"):
        return estimator.__sklearn_clone__()
    params = {k: clone(v, safe=False) for k, v in estimator.get_params(deep=False).items()}
    new = type(estimator)(**params)
    got = new.get_params(deep=False)
    for name, value in params.items():
        if got[name] is not value:  # the same check as scikit-learn's
            raise RuntimeError(
                f"Cannot clone object {estimator!r}, as the constructor either does not set or "
                f"modifies parameter {name!r}."
            )
    return new

