"""Attribution models: rule-based models here, Markov, Shapley and data-driven models in
their own modules. Every model is a scikit-learn style estimator (see
:class:`~attribution.models.base.AttributionModel`) registered by name in :data:`MODELS`;
:func:`get_model` looks models up by name or spec string such as ``"markov:order=2"``.
"""

from .base import (
    BASELINE,
    ESTIMANDS,
    MODELS,
    NO_TOUCH,
    AttributionModel,
    ChannelCredit,
    check_conservation,
    credit_from_shares,
    credit_from_touch_weights,
    get_model,
    place_codes,
    register_model,
)
from .datadriven import Fractribution, Logistic, Probabilistic
from .rules import (
    CustomWeights,
    FirstTouch,
    LastNonDirect,
    LastTouch,
    Linear,
    PositionBased,
    RuleModel,
    TimeDecay,
)
from .markov import Markov
from .incremental import Causal, market_persistence

from .shapley import Shapley

__all__ = [
    "BASELINE",
    "Causal",
    "market_persistence",
    "Fractribution",
    "Logistic",
    "Probabilistic",
    "Shapley",
    "AttributionModel",
    "BASELINE",
    "ESTIMANDS",
    "ChannelCredit",
    "CustomWeights",
    "FirstTouch",
    "LastNonDirect",
    "LastTouch",
    "Linear",
    "MODELS",
    "Markov",
    "NO_TOUCH",
    "PositionBased",
    "RuleModel",
    "TimeDecay",
    "check_conservation",
    "credit_from_shares",
    "credit_from_touch_weights",
    "get_model",
    "place_codes",
    "register_model",
]

# Register the models of modules that exist beside this one (markov, shapley, ...), so that
# MODELS is complete as soon as ``attribution.models`` is imported.
from .base import _load_builtin_models  # noqa: E402

_load_builtin_models()
del _load_builtin_models
