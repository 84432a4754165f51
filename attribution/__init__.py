"""attribution: multi-touch marketing attribution across online and offline channels."""

from .exceptions import (
    AttributionError,
    DataQualityWarning,
    ExcludedRowsWarning,
    JourneyValidationError,
    NotFittedError,
)
from .journeys import Journeys

__version__ = "0.1.0"

__all__ = [
    "AttributionError",
    "DataQualityWarning",
    "ExcludedRowsWarning",
    "JourneyValidationError",
    "Journeys",
    "NotFittedError",
    "__version__",
]
