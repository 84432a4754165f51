"""Memory guards: estimate what a computation needs before allocating it, refuse clearly.

The limit is, in order: the last :func:`set_max_memory` value, the ``ATTRIBUTION_MAX_MEMORY``
environment variable (bytes, or a size such as ``"8GB"``), else half of the machine's
physical memory.
"""

from __future__ import annotations

import os
import re

from .exceptions import ParameterError, ResourceLimitError

__all__ = ["set_max_memory", "max_memory", "check_memory", "format_bytes"]

_LIMIT: int | None = None
_UNITS = {"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "KIB": 2**10, "MIB": 2**20,
          "GIB": 2**30, "TIB": 2**40}


def _parse_size(value) -> int:
    if isinstance(value, bool):
        raise ParameterError(f"A memory size must be a number of bytes or a size such as '8GB'. Got {value!r} instead.")
    if isinstance(value, (int, float)):
        size = float(value)
    else:
        m = re.fullmatch(r"\s*([0-9.]+(?:e[0-9]+)?)\s*([A-Za-z]*)\s*", str(value))
        if not m or m.group(2).upper() not in _UNITS:
            raise ParameterError(f"A memory size must be a number of bytes or a size such as '8GB'. Got {value!r} instead.")
        size = float(m.group(1)) * _UNITS[m.group(2).upper()]
    if not size > 0 or size != size or size == float("inf"):
        raise ParameterError(f"A memory size must be a positive, finite number of bytes. Got {value!r} instead.")
    return int(size)


def set_max_memory(limit) -> int | None:
    """Set the largest working memory one model step may ask for; returns the previous setting.

    Parameters
    ----------
    limit : int, str or None
        Bytes, or a size such as ``"8GB"`` / ``"512MiB"``; ``None`` restores the default
        (``ATTRIBUTION_MAX_MEMORY``, else half of the physical memory).

    Notes
    -----
    Steps whose memory grows fast with the data (exact Shapley: ``2**channels`` coalitions;
    dense Markov states; data-driven design matrices) estimate their need first and raise
    :class:`~attribution.exceptions.ResourceLimitError` with the estimate and the alternative
    instead of failing mid-way.
    """
    global _LIMIT
    old = _LIMIT
    _LIMIT = None if limit is None else _parse_size(limit)
    return old


def max_memory() -> int:
    """The memory limit in bytes now in force (see :func:`set_max_memory`)."""
    if _LIMIT is not None:
        return _LIMIT
    env = os.environ.get("ATTRIBUTION_MAX_MEMORY")
    if env:
        return _parse_size(env)
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2)
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 8 * 2**30


def format_bytes(n: float) -> str:
    """``1.5 GiB`` style."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def check_memory(nbytes: float, what: str, alternative: str) -> None:
    """Raise :class:`ResourceLimitError` if ``nbytes`` exceeds :func:`max_memory`.

    ``what`` names the step (e.g. "Shapley(method='conversion_rate') on 30 channels"),
    ``alternative`` says what to do instead.
    """
    limit = max_memory()
    if nbytes > limit:
        raise ResourceLimitError(
            f"{what} would need about {format_bytes(nbytes)} of memory, more than the limit of "
            f"{format_bytes(limit)}. {alternative} (The limit is set with "
            "attribution.set_max_memory(...) or the ATTRIBUTION_MAX_MEMORY environment variable.)"
        )
