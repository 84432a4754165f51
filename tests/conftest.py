"""Shared test set-up: puts ``tests/`` on ``sys.path`` (so ``import strategies`` works from
any test folder) and a Hypothesis profile without deadlines (first calls pay import costs)."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import settings

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

settings.register_profile("attribution", deadline=None)
settings.load_profile("attribution")
