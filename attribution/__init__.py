"""attribution: multi-touch marketing attribution across online and offline channels.

The flow runs one way: event logs or path tables -> :class:`Journeys` -> a model's ``fit`` ->
``credits_`` per channel (and per conversion place).
"""

from . import datasets
from .exceptions import (
    AttributionError,
    DataQualityWarning,
    ExcludedRowsWarning,
    JourneyValidationError,
    NotFittedError,
)
from .journeys import Journeys
from .kpis import JourneyKPIs, kpis
from .models import (
    MODELS,
    AttributionModel,
    CustomWeights,
    FirstTouch,
    LastNonDirect,
    LastTouch,
    Linear,
    PositionBased,
    TimeDecay,
    get_model,
    register_model,
)
from .models.markov import Markov
from .omnichannel import RopoReport, ropo
from .plotting.journeys import plot_flows, plot_graph, plot_transition_heatmap

__version__ = "0.1.0"

__all__ = [
    "MODELS",
    "AttributionError",
    "AttributionModel",
    "CustomWeights",
    "DataQualityWarning",
    "ExcludedRowsWarning",
    "FirstTouch",
    "JourneyKPIs",
    "JourneyValidationError",
    "Journeys",
    "LastNonDirect",
    "LastTouch",
    "Linear",
    "Markov",
    "NotFittedError",
    "PositionBased",
    "RopoReport",
    "TimeDecay",
    "__version__",
    "datasets",
    "get_model",
    "kpis",
    "plot_flows",
    "plot_graph",
    "plot_transition_heatmap",
    "register_model",
    "ropo",
]
