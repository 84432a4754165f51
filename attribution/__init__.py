"""attribution: multi-touch marketing attribution across online and offline channels.

The flow runs one way: event logs or path tables -> :class:`Journeys` -> a model's ``fit`` ->
``credits_`` per channel (and per conversion place).

Imports are lazy (PEP 562): ``import attribution`` loads no sub-module; ``attribution.X`` (or
``from attribution import X``) imports the one module that defines ``X`` on first use, so a
script pays only for what it touches (a Markov fit never loads scikit-learn, matplotlib or the
simulator). To export a new name, add it to :data:`_LAZY` (name -> module, relative to this
package); ``tests/test_imports.py`` checks that every entry resolves and that ``import
attribution`` stays light.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: Public name -> the module that defines it (relative to this package).
_LAZY = {
    # journeys and errors
    "Journeys": ".journeys",
    "AttributionError": ".exceptions",
    "DataQualityWarning": ".exceptions",
    "ExcludedRowsWarning": ".exceptions",
    "JourneyValidationError": ".exceptions",
    "NotFittedError": ".exceptions",
    "EstimandError": ".exceptions",
    "ExperimentError": ".exceptions",
    "ModelFallbackWarning": ".exceptions",
    "ParameterError": ".exceptions",
    "ResourceLimitError": ".exceptions",
    "max_memory": "._resources",
    "set_max_memory": "._resources",
    # models
    "MODELS": ".models",
    "BASELINE": ".models.base",
    "AttributionModel": ".models",
    "CustomWeights": ".models.rules",
    "FirstTouch": ".models.rules",
    "LastNonDirect": ".models.rules",
    "LastTouch": ".models.rules",
    "Linear": ".models.rules",
    "PositionBased": ".models.rules",
    "TimeDecay": ".models.rules",
    "get_model": ".models",
    "register_model": ".models.base",
    "Fractribution": ".models.datadriven",
    "Logistic": ".models.datadriven",
    "Probabilistic": ".models.datadriven",
    "Markov": ".models.markov",
    "Shapley": ".models.shapley",
    "AIPW": ".models.aipw",
    "Causal": ".models.incremental",
    "market_persistence": ".models.incremental",
    # analysis, decisions, reports
    "BudgetPlan": ".decisions.budget",
    "plan_budget": ".decisions.budget",
    "rule_based_allocation": ".decisions.budget",
    "Comparison": ".decisions.comparison",
    "compare": ".decisions.comparison",
    "JourneyKPIs": ".journey_kpis",
    "kpis": ".journey_kpis",
    "RopoReport": ".omnichannel",
    "ropo": ".omnichannel",
    "Report": ".report",
    "build_report": ".report",
    "plot_flows": ".plotting.journeys",
    "plot_graph": ".plotting.journeys",
    "plot_transition_heatmap": ".plotting.journeys",
    "ROIResult": ".decisions.roi",
    "channel_roi": ".decisions.roi",
    "normalise_costs": ".decisions.roi",
    "ValidityResult": ".decisions.scorecard",
    "validity": ".decisions.scorecard",
    # experiments and calibration
    "CalibrationResult": ".calibration",
    "calibrate": ".calibration",
    "GeoTestResult": ".experiments",
    "LiftTest": ".experiments",
    "geo_mde": ".experiments",
    "geo_test": ".experiments",
    "holdout_mde": ".experiments",
    "holdout_power": ".experiments",
    "holdout_se": ".experiments",
    "lift_tests_frame": ".experiments",
    "read_lift_tests": ".experiments",
    "BootstrapResult": ".decisions.uncertainty",
    "bootstrap": ".decisions.uncertainty",
}

#: Sub-modules reachable as attributes (``attribution.models``) without an explicit import.
_SUBMODULES = frozenset({
    "calibration", "channels", "cli", "clv", "customers", "datasets", "decisions", "engines", "exceptions",
    "experiments", "graph", "io", "journey_kpis", "journeys", "models", "omnichannel", "plotting", "report",
})

__all__ = sorted([*_LAZY, "datasets", "__version__"])


# No public name is also the name of a sub-module (``compare``, ``kpis`` and ``validity`` are
# functions; their modules are ``decisions.comparison``, ``journey_kpis`` and
# ``decisions.scorecard``), so importing any sub-module never replaces a function attribute of the
# package (``tests/test_imports.py`` checks it).


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_SUBMODULES})

