"""Simulated omnichannel data with known ground truth, and the bundled sample.

:func:`simulate` generates an omnichannel retailer's event log (touchpoints under cookies and
loyalty cards, online and store purchases, partial identity links, daily costs) from a generative
model whose conversion outcomes are a deterministic function of fixed random draws and of the set
of channels switched on, so :meth:`SimulatedData.truth` gives each channel's exact (Shapley)
incremental conversions and value. :func:`load_sample` returns the sample in ``data/samples/``,
regenerated with ``python -m attribution.datasets --out data/samples``.
"""

from ._simulate import (
    CHANNELS,
    REGIMES,
    SAMPLE_PARAMS,
    SimulatedData,
    channel_parameters,
    load_sample,
    simulate,
)
from ._experiments import GeoPanel, holdout_test, simulate_geo

from ._customers import SimulatedCustomers, simulate_customers

__all__ = [
    "CHANNELS", "REGIMES", "SAMPLE_PARAMS", "GeoPanel", "SimulatedCustomers", "SimulatedData", "channel_parameters",
    "holdout_test", "load_sample", "simulate", "simulate_customers", "simulate_geo",
]
