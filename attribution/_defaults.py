"""The library's defaults, defined once.

Python (:func:`attribution.compare`, :func:`attribution.plan_budget`,
:func:`attribution.report.build_report`), the command line (``attribution compare``) and batch
configs (``[defaults]`` of ``attribution run``) all read these names, so that the same analysis
gives the same answer whichever door it came in by.

The choices, and why
--------------------
:data:`MODELS`
    Both ends of the rule spectrum (``first_touch``, ``last_touch``), the web-analytics default
    (``last_non_direct``), two middles (``linear``, ``position_based``), one that uses time
    (``time_decay``; skipped on path tables, which have no timestamps) and the two data-driven
    models (``markov`` removal effects, ``shapley``). All are exact and linear in the data, so
    the set costs little; what a careful analyst wants from a comparison is the spread between
    models that assume different things, and where the models agree on a channel's rank.
:data:`PLAN_BOUNDS`
    Budget plans keep each channel within 0.5–2 × today's spend. A response curve is anchored at
    today's spend and fitted (at best) on the spends seen in the data: far from them it is an
    extrapolation, and an unbounded optimiser follows the extrapolation to corner solutions
    (notebook 03 shows one that multiplies a channel's spend by 18). Pass ``bounds=None`` for an
    unbounded plan (it warns).
:data:`WEAK_FIT_R2`
    A fitted response curve explaining less than half of the per-period variance of the
    channel's outcome (R² < 0.5) is *weak*: the plan says so in a headline caveat.
:data:`N_BOOT`, :data:`LEVEL`
    Bootstrap replicates and interval coverage: 200 replicates put the ends of a 90 % percentile
    interval on 10 replicates each, enough for intervals stable to about a tenth of their width.
"""

from __future__ import annotations

__all__ = ["MODELS", "PLAN_BOUNDS", "WEAK_FIT_R2", "N_BOOT", "LEVEL"]

#: The models compared when none are named (Python and command line alike).
MODELS = ("first_touch", "last_touch", "last_non_direct", "linear", "position_based", "time_decay", "markov", "shapley")

#: Budget-plan bounds as multipliers of today's spend per channel: (low, high).
PLAN_BOUNDS = (0.5, 2.0)

#: Response-curve fits with an R² below this are weak (a headline caveat of the plan).
WEAK_FIT_R2 = 0.5

#: Bootstrap replicates (``compare(bootstrap=True)``, the report's and the command line's).
N_BOOT = 200

#: Coverage of bootstrap percentile intervals.
LEVEL = 0.9
