"""Reading values out of Jobs API answers, the same way everywhere: ids, epoch-ms times, text.

Shared by the run model (:mod:`~jobs_widgets.core.models`) and the outputs
(:mod:`~jobs_widgets.core.outputs`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

__all__ = ["EMPTY", "as_int", "as_ms", "as_str", "to_datetime"]

EMPTY: Mapping[str, Any] = MappingProxyType({})


def as_int(value: Any) -> int | None:
    """An integer, or None (bools and junk are not integers)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def as_ms(value: Any) -> int | None:
    """API times: epoch ms, with 0 meaning "not yet"."""
    number = as_int(value)
    return number if number else None


def as_str(value: Any) -> str | None:
    return None if value is None else str(value)


def to_datetime(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)
