"""Engines that turn event logs into journeys: pandas (the default, in memory), DuckDB (out of core) and Spark (a cluster).

The models work on compact aggregates (unique paths with counts, transition counts,
channel-set counts); the heavy step is events -> journeys -> aggregates, and that is what an
engine does. Every engine implements the same journey rules as :meth:`attribution.Journeys.from_events`
and is tested for parity with it. The SQL engines share one SQL text
(:mod:`attribution.engines._sql`) and one driver (:mod:`attribution.engines._common`).

========  ==========================================  ===============================
engine    inputs                                      install
========  ==========================================  ===============================
pandas    DataFrames                                  (always)
duckdb    DataFrames, DuckDB relations, CSV/Parquet   ``pip install "attribution[duckdb]"``
          paths and globs
spark     Spark DataFrames, tables and views,         ``pip install "attribution[spark]"``
          CSV/Parquet paths, DataFrames               and Java 17+
========  ==========================================  ===============================

Use ``Journeys.from_events(..., engine="duckdb")`` (or ``"spark"``), or
:mod:`attribution.engines.duckdb` / :mod:`attribution.engines.spark` directly for the aggregates
computed in the engine.
"""

from __future__ import annotations

__all__ = ["ENGINES", "from_events"]

#: Engines accepted by ``Journeys.from_events(engine=...)``.
ENGINES = ("pandas", "duckdb", "spark")


def from_events(engine: str, touchpoints, conversions=None, *, engine_options=None, **options):
    """Journeys from event logs with a non-pandas engine (``Journeys.from_events`` dispatches here).

    Parameters
    ----------
    engine : str
        One of :data:`ENGINES` other than ``"pandas"``.
    touchpoints, conversions, **options
        As :meth:`attribution.Journeys.from_events`.
    engine_options : mapping, optional
        Engine settings, e.g. ``{"memory_limit": "8GB", "threads": 4, "temp_directory": ...,
        "age_resolution": "1s", "connection": con}`` for DuckDB (see
        :func:`attribution.engines.duckdb.aggregate_events`), ``{"spark": session,
        "age_resolution": "1s"}`` for Spark (see :func:`attribution.engines.spark.aggregate_spark`).
    """
    allowed = {"duckdb": ("connection", "memory_limit", "threads", "temp_directory", "age_resolution"),
               "spark": ("spark", "age_resolution")}.get(engine)
    if allowed is not None:
        unknown = sorted(set(dict(engine_options or {})) - set(allowed))
        if unknown:
            from ..exceptions import ParameterError

            raise ParameterError(
                f"The 'engine_options' parameter of Journeys.from_events has unknown key(s) {unknown} for "
                f"engine={engine!r}. Allowed keys: {list(allowed)}."
            )
    if engine == "duckdb":
        from .duckdb import from_events as duckdb_from_events, import_duckdb

        import_duckdb()  # the clear ImportError first
        return duckdb_from_events(touchpoints, conversions, **options, **dict(engine_options or {}))
    if engine == "spark":
        from .spark import from_spark, import_pyspark

        import_pyspark()  # the clear ImportError first
        return from_spark(touchpoints, conversions, **options, **dict(engine_options or {}))
    from ..exceptions import ParameterError

    raise ParameterError(
        f"The 'engine' parameter of Journeys.from_events must be one of {list(ENGINES)}. Got {engine!r} instead."
    )
