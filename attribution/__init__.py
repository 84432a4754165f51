"""attribution: multi-touch marketing attribution across online and offline channels.

The flow runs one way: event logs or path tables -> :class:`Journeys` -> a model's ``fit`` ->
``credits_`` per channel (and per conversion place).
"""

from . import datasets
from .budget import BudgetPlan, plan_budget, rule_based_allocation
from .compare import Comparison, compare
from .exceptions import (
    AttributionError,
    DataQualityWarning,
    EstimandError,
    ExcludedRowsWarning,
    JourneyValidationError,
    NotFittedError,
)
from .journeys import Journeys
from .kpis import JourneyKPIs, kpis
from .models import (
    BASELINE,
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
from .models.datadriven import Fractribution, Logistic, Probabilistic
from .models.incremental import Causal, market_persistence
from .models.markov import Markov
from .models.shapley import Shapley
from .omnichannel import RopoReport, ropo
from .report import Report, build_report
from .plotting.journeys import plot_flows, plot_graph, plot_transition_heatmap
from .roi import ROIResult, channel_roi, normalise_costs
from .uncertainty import BootstrapResult, bootstrap
from .validity import ValidityResult, validity
from .models.aipw import AIPW

__version__ = "0.1.0"

__all__ = [
    "BASELINE",
    "MODELS",
    "AttributionError",
    "AttributionModel",
    "BootstrapResult",
    "BudgetPlan",
    "Causal",
    "Comparison",
    "CustomWeights",
    "DataQualityWarning",
    "EstimandError",
    "ExcludedRowsWarning",
    "FirstTouch",
    "Fractribution",
    "JourneyKPIs",
    "JourneyValidationError",
    "Journeys",
    "LastNonDirect",
    "LastTouch",
    "Linear",
    "Logistic",
    "Markov",
    "market_persistence",
    "NotFittedError",
    "PositionBased",
    "Probabilistic",
    "ROIResult",
    "Report",
    "RopoReport",
    "Shapley",
    "TimeDecay",
    "ValidityResult",
    "AIPW",
    "__version__",
    "bootstrap",
    "build_report",
    "channel_roi",
    "compare",
    "datasets",
    "get_model",
    "kpis",
    "normalise_costs",
    "plan_budget",
    "plot_flows",
    "plot_graph",
    "plot_transition_heatmap",
    "register_model",
    "rule_based_allocation",
    "ropo",
    "validity",
]
