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
    SAMPLE_PARAMS,
    SimulatedData,
    channel_parameters,
    load_sample,
    simulate,
)

from ._customers import SimulatedCustomers, simulate_customers

__all__ = ["CHANNELS", "SAMPLE_PARAMS", "SimulatedData", "channel_parameters", "load_sample", "simulate", "SimulatedCustomers", "simulate_customers"]
