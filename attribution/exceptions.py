"""Exceptions and warnings raised by :mod:`attribution` (all in one place)."""

from __future__ import annotations

import os
import sys
import warnings

#: The package's folder: frames under it are library code, the first frame outside is the user's.
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _warn_user(message: str, category: type[Warning]) -> None:
    """``warnings.warn`` pointing at the first caller outside the ``attribution`` package."""
    level, frame = 1, sys._getframe(0)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


class AttributionError(Exception):
    """Base class of every error raised on purpose by this package."""


class JourneyValidationError(AttributionError, ValueError):
    """Input data cannot be turned into journeys.

    The message names the column, the problem, a few offending rows and the fix.
    """


class ParameterError(AttributionError, ValueError):
    """A parameter has a bad value; the message names the parameter, what it must be and what it got."""


class ParameterTypeError(AttributionError, TypeError):
    """A parameter has the wrong type; the message names the parameter and what it must be."""


class ResourceLimitError(AttributionError, ValueError, MemoryError):
    """A computation would need more memory than allowed; refused before allocating.

    The message gives the estimate, the limit (see :func:`attribution.set_max_memory` and the
    ``ATTRIBUTION_MAX_MEMORY`` environment variable) and the alternative (e.g. a sampled
    method). A subclass of ``ValueError`` (the input asks too much) and ``MemoryError``.
    """


class NotFittedError(AttributionError, ValueError, AttributeError):
    """A fitted attribute (ending in ``_``) was used before ``fit``."""


class EstimandError(AttributionError, ValueError, AttributeError):
    """An incremental quantity was asked of an attributed model (or the estimands of several
    models were mixed where they cannot be).

    Attributed credit splits the observed conversions over the channels that touched them;
    incremental credit is what a channel caused. The message says which model is which.
    """


class ExcludedRowsWarning(UserWarning):
    """Rows were excluded by a journey rule (they are counted in ``Journeys.describe()``)."""


class DataQualityWarning(UserWarning):
    """The input is questionable but usable (e.g. channel names with stray spaces)."""


class ModelFallbackWarning(UserWarning):
    """A model could not run as asked and fell back (e.g. exact Shapley switched to sampling).

    The message names the model, the reason and the fallback.
    """


class ExperimentError(AttributionError, ValueError):
    """A lift or geo test cannot be used as given (a bad test table, a test for an unknown channel).

    The message names the column or parameter, the offending rows and the fix.
    """
