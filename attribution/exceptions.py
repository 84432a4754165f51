"""Exceptions and warnings raised by :mod:`attribution` (all in one place)."""

from __future__ import annotations


class AttributionError(Exception):
    """Base class of every error raised on purpose by this package."""


class JourneyValidationError(AttributionError, ValueError):
    """Input data cannot be turned into journeys.

    The message names the column, the problem, a few offending rows and the fix.
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


class ExperimentError(AttributionError, ValueError):
    """A lift or geo test cannot be used as given (a bad test table, a test for an unknown channel).

    The message names the column or parameter, the offending rows and the fix.
    """
