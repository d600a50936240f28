"""Run ids (and the other numbers users pass) as users really pass them: the one place that checks them.

A run id is a positive integer. Any integral value is one (``5045``,
``numpy.int64(5045)`` from ``runs.to_pandas()["run_id"]``, a float with no fraction);
``True``, ``"5045"`` (callers parse text themselves), ``5045.5``, ``0`` and ``-1`` are
not. The panel, the magics and the handles all ask here.
"""

from __future__ import annotations

import operator
from typing import Any

from jobs_widgets.core.errors import ParamsError

__all__ = ["MAX_LIST", "as_run_id", "check_limit", "check_run_id", "check_task_keys", "check_timeout"]

MAX_RUN_ID = 2**63 - 1  # the Jobs API's int64
MAX_LIST = 1000  # most runs one list_runs call returns
MAX_TASK_KEY = 100  # the Jobs API's limit on a task key's length


def as_run_id(value: Any) -> int | None:
    """``value`` as a run id, or None when it is not one."""
    if value is None or isinstance(value, bool | str | bytes):
        return None
    try:
        number = operator.index(value)
    except TypeError:
        is_integer = getattr(value, "is_integer", None)
        try:
            if not callable(is_integer) or not is_integer():
                return None
            number = int(value)
        except (TypeError, ValueError, OverflowError):
            return None
    return number if 0 < number <= MAX_RUN_ID else None


def check_run_id(value: Any, *, name: str = "run_id") -> int:
    """``value`` as a run id; :class:`ParamsError` (one line) when it is not one."""
    run_id = as_run_id(value)
    if run_id is None:
        shown = repr(value)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise ParamsError(f"{name} must be a positive integer, got {shown}", key=name)
    return run_id


def check_limit(limit: object) -> int:
    """How many runs to list: an integer from 1 to ``MAX_LIST``."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST:
        raise ParamsError(f"limit must be an integer from 1 to {MAX_LIST}, got {limit!r}", key="limit")
    return limit


def check_timeout(value: float | None) -> float | None:
    """A wait's timeout: a positive number of seconds, or None (until the run ends)."""
    if value is not None and (isinstance(value, bool) or not value > 0):
        raise ParamsError(
            f"timeout must be a positive number of seconds (or None), got {value!r}", key="timeout"
        )
    return value


def check_task_keys(value: object) -> list[str] | None:
    """Task keys to act on (a repair's ``rerun_tasks``): None, or a non-empty list of
    distinct keys (order kept); :class:`ParamsError` (one line) for anything else."""
    if value is None:
        return None
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        raise ParamsError(f"tasks must be a list of task keys, got {type(value).__name__}", key="tasks")
    keys: list[str] = []
    for item in value[: MAX_LIST + 1]:
        if not isinstance(item, str) or not item.strip() or len(item) > MAX_TASK_KEY:
            raise ParamsError(f"tasks: {str(item)[:40]!r} is not a task key", key="tasks")
        if item not in keys:
            keys.append(item)
    if not keys or len(keys) > MAX_LIST:
        raise ParamsError(f"tasks must name 1 to {MAX_LIST} task keys", key="tasks")
    return keys
