"""Warnings that point at the user's line, not at the library's.

``warnings.warn(..., stacklevel=n)`` needs the call depth between the ``warn`` call and the user's
code, which changes whenever a public function delegates to another one (``compare`` → ``fit`` →
``_channel_credit``), so a fixed ``stacklevel`` ends up pointing into the package (e.g.
``journeys.py:628``). :func:`warn_user` instead attributes the warning to the first frame whose
file is not inside the ``attribution`` package: the user's script, notebook cell or test.
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = ["warn_user"]

#: The package directory (with a trailing separator); frames in files under it are skipped.
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _in_package(filename: str) -> bool:
    return os.path.abspath(filename).startswith(PACKAGE_DIR)


def warn_user(message: str | Warning, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` attributed to the first caller outside the ``attribution`` package.

    Parameters
    ----------
    message : str or Warning
    category : Warning subclass, default UserWarning

    Notes
    -----
    The stack is walked from this function outwards; every frame whose code file lies under the
    package directory is skipped, and the warning's ``filename`` / ``lineno`` are those of the
    first frame outside it (so the warning filters' "once per location" also work per user line).
    When the whole stack is inside the package (e.g. the CLI entry point), the outermost frame is
    used.
    """
    level, frame = 1, sys._getframe(0)
    while frame is not None and _in_package(frame.f_code.co_filename):
        frame = frame.f_back
        level += 1
    if frame is None:  # everything inside the package: point at the outermost frame
        level -= 1
    warnings.warn(message, category, stacklevel=level)
