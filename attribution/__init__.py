"""attribution: multi-touch marketing attribution across online and offline channels.

The flow runs one way: event logs or path tables -> :class:`Journeys` -> a model's ``fit`` ->
``credits_`` per channel (and per conversion place).
"""

from . import datasets
from .budget import BudgetPlan, plan_budget, rule_based_allocation
from .calibration import CalibrationResult, calibrate
from .compare import Comparison, compare
from .exceptions import (
    AttributionError,
    DataQualityWarning,
    EstimandError,
    ExcludedRowsWarning,
    ExperimentError,
    JourneyValidationError,
    NotFittedError,
)
from .experiments import (
    GeoTestResult,
    LiftTest,
    geo_mde,
    geo_test,
    holdout_mde,
    holdout_power,
    holdout_se,
    lift_tests_frame,
    read_lift_tests,
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
from .models.markov import Markov
from .models.shapley import Shapley
from .omnichannel import RopoReport, ropo
from .report import Report, build_report
from .plotting.journeys import plot_flows, plot_graph, plot_transition_heatmap
from .roi import ROIResult, channel_roi, normalise_costs
from .uncertainty import BootstrapResult, bootstrap

__version__ = "0.1.0"

__all__ = [
    "BASELINE",
    "AttributionError",
    "AttributionModel",
    "BootstrapResult",
    "BudgetPlan",
    "CalibrationResult",
    "Comparison",
    "CustomWeights",
    "DataQualityWarning",
    "EstimandError",
    "ExcludedRowsWarning",
    "ExperimentError",
    "FirstTouch",
    "Fractribution",
    "GeoTestResult",
    "JourneyKPIs",
    "JourneyValidationError",
    "Journeys",
    "LastNonDirect",
    "LastTouch",
    "LiftTest",
    "Linear",
    "Logistic",
    "MODELS",
    "Markov",
    "NotFittedError",
    "PositionBased",
    "Probabilistic",
    "ROIResult",
    "Report",
    "RopoReport",
    "Shapley",
    "TimeDecay",
    "__version__",
    "bootstrap",
    "build_report",
    "calibrate",
    "channel_roi",
    "compare",
    "datasets",
    "geo_mde",
    "geo_test",
    "get_model",
    "holdout_mde",
    "holdout_power",
    "holdout_se",
    "kpis",
    "lift_tests_frame",
    "normalise_costs",
    "plan_budget",
    "plot_flows",
    "plot_graph",
    "plot_transition_heatmap",
    "read_lift_tests",
    "register_model",
    "ropo",
    "rule_based_allocation",
]
