"""Importers for the formats analysts hold: warehouse exports -> touches and conversions.

Each ``read_<source>`` function takes a DataFrame or a file path (as the source exports it)
and returns :class:`EventTables` (``touchpoints``, ``conversions``, ``identities``), whose
:meth:`EventTables.journeys` builds :class:`~attribution.journeys.Journeys` and
:meth:`EventTables.compare` fits and compares models in the same call. Each function's
docstring documents its column mapping.

>>> from attribution.io import read_ga4                     # doctest: +SKIP
>>> comparison = read_ga4("events_20241027.parquet").compare(["last_touch", "markov"])  # doctest: +SKIP

Every input row an importer drops (a duplicated transaction, an excluded Adobe hit, a
consent-denied event) is counted in :attr:`EventTables.exclusions` and warned about.
"""

from __future__ import annotations

from ._common import EventTables
from .adobe import read_adobe
from .criteo import read_criteo
from .ga4 import read_ga4
from .segment import read_segment
from .snowplow import read_snowplow

#: Importer by source name (the CLI's ``attribution import SOURCE``).
READERS = {
    "ga4": read_ga4,
    "adobe": read_adobe,
    "snowplow": read_snowplow,
    "segment": read_segment,
    "criteo": read_criteo,
}


def read(source: str, *args, **options) -> EventTables:
    """``read("ga4", path, ...)`` is ``read_ga4(path, ...)``; sources: see :data:`READERS`."""
    try:
        reader = READERS[source]
    except KeyError:
        raise ValueError(f"Unknown source {source!r}. Choose from {sorted(READERS)}.") from None
    return reader(*args, **options)


__all__ = ["READERS", "EventTables", "read", "read_adobe", "read_criteo", "read_ga4", "read_segment", "read_snowplow"]
