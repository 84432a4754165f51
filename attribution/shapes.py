"""Shapes and path rules that need no glue: one-row-per-journey ("wide") tables and
Fractribution's path transforms.

* :func:`from_wide`: ``channel_1, channel_2, ...`` columns (blanks ignored) -> Journeys.
* :func:`path_transform`: ``unique``, ``exposure``, ``first``, ``frequency``,
  ``remove_if_not_all``, ``remove_if_last_and_not_all`` (Google Fractribution's names).

:func:`from_wide` lives beside the other constructors in :mod:`attribution.journeys` and the path
transforms in ``attribution._transforms`` (which :meth:`Journeys.from_events` uses), so the
imports run one way: this module -> journeys -> _transforms.
"""

from __future__ import annotations

from ._transforms import PATH_TRANSFORMS, path_transform
from .journeys import from_wide

__all__ = ["PATH_TRANSFORMS", "from_wide", "path_transform"]
