"""One normalized run state, read from the Jobs API's two state shapes.

The Jobs API reports a run's state twice: the current ``status`` (``state`` plus
``termination_details.code``) and the deprecated ``state`` (``life_cycle_state`` plus
``result_state``). Clients that read only one of them get things wrong in known ways
(a TERMINATED run that FAILED reported as success; a UI cancel never noticed). This
module reads ``status`` first and falls back to ``state``, and maps every value the
SDK enumerates to one :class:`RunState`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

__all__ = ["RunState", "normalize_state"]

log = logging.getLogger("jobs_widgets")


class RunState(StrEnum):
    """Where a run (or a task of a run) is. ``is_terminal`` says whether it can still change."""

    QUEUED = "QUEUED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    TERMINATING = "TERMINATING"
    BLOCKED = "BLOCKED"
    WAITING_FOR_RETRY = "WAITING_FOR_RETRY"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    TIMED_OUT = "TIMED_OUT"
    SKIPPED = "SKIPPED"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    UNKNOWN = "UNKNOWN"

    @property
    def is_terminal(self) -> bool:
        """True once the run can no longer change (UNKNOWN is not terminal)."""
        return self in _TERMINAL

    @property
    def is_active(self) -> bool:
        """True while the run is queued, starting, running or stopping."""
        return not self.is_terminal and self is not RunState.UNKNOWN

    @property
    def is_failure(self) -> bool:
        """True for the terminal states a user should look into."""
        return self in {RunState.FAILED, RunState.TIMED_OUT, RunState.INTERNAL_ERROR}

    @property
    def label(self) -> str:
        """Human label: ``"Timed out"``, ``"Waiting for retry"``..."""
        return _LABELS[self]


_TERMINAL = frozenset(
    {
        RunState.SUCCEEDED,
        RunState.FAILED,
        RunState.CANCELED,
        RunState.TIMED_OUT,
        RunState.SKIPPED,
        RunState.INTERNAL_ERROR,
    }
)
_LABELS = {
    RunState.QUEUED: "Queued",
    RunState.PENDING: "Pending",
    RunState.RUNNING: "Running",
    RunState.TERMINATING: "Terminating",
    RunState.BLOCKED: "Blocked",
    RunState.WAITING_FOR_RETRY: "Waiting for retry",
    RunState.SUCCEEDED: "Succeeded",
    RunState.FAILED: "Failed",
    RunState.CANCELED: "Canceled",
    RunState.TIMED_OUT: "Timed out",
    RunState.SKIPPED: "Skipped",
    RunState.INTERNAL_ERROR: "Internal error",
    RunState.UNKNOWN: "Unknown",
}

# status.state (RunLifecycleStateV2State) for runs that are not over yet.
_V2_ACTIVE = {
    "QUEUED": RunState.QUEUED,
    "PENDING": RunState.PENDING,
    "RUNNING": RunState.RUNNING,
    "TERMINATING": RunState.TERMINATING,
    "BLOCKED": RunState.BLOCKED,
    "WAITING": RunState.WAITING_FOR_RETRY,
}
# state.life_cycle_state (RunLifeCycleState).
_V1_LIFE = {
    "QUEUED": RunState.QUEUED,
    "PENDING": RunState.PENDING,
    "RUNNING": RunState.RUNNING,
    "TERMINATING": RunState.TERMINATING,
    "BLOCKED": RunState.BLOCKED,
    "WAITING_FOR_RETRY": RunState.WAITING_FOR_RETRY,
    "SKIPPED": RunState.SKIPPED,
    "INTERNAL_ERROR": RunState.INTERNAL_ERROR,
}
# status.termination_details.code (TerminationCodeCode) with a definite meaning.
_CODE = {
    "SUCCESS": RunState.SUCCEEDED,
    "SUCCESS_WITH_FAILURES": RunState.SUCCEEDED,
    "USER_CANCELED": RunState.CANCELED,
    "CANCELED": RunState.CANCELED,
    "SKIPPED": RunState.SKIPPED,
    "DISABLED": RunState.SKIPPED,
    "MAX_CONCURRENT_RUNS_EXCEEDED": RunState.SKIPPED,
    "MAX_JOB_QUEUE_SIZE_EXCEEDED": RunState.SKIPPED,
    "INTERNAL_ERROR": RunState.INTERNAL_ERROR,
}
# Codes that mean "it failed"; result_state may refine them (TIMEDOUT).
_FAILURE_CODES = frozenset(
    {
        "BREAKING_CHANGE",
        "BUDGET_POLICY_LIMIT_EXCEEDED",
        "CLOUD_FAILURE",
        "CLUSTER_ERROR",
        "CLUSTER_REQUEST_LIMIT_EXCEEDED",
        "DRIVER_ERROR",
        "FEATURE_DISABLED",
        "INVALID_CLUSTER_REQUEST",
        "INVALID_RUN_CONFIGURATION",
        "LIBRARY_INSTALLATION_ERROR",
        "MAX_SPARK_CONTEXTS_EXCEEDED",
        "REPOSITORY_CHECKOUT_FAILED",
        "RESOURCE_NOT_FOUND",
        "RUN_EXECUTION_ERROR",
        "STORAGE_ACCESS_ERROR",
        "UNAUTHORIZED_ERROR",
        "WORKSPACE_RUN_LIMIT_EXCEEDED",
    }
)
# state.result_state (RunResultState).
_RESULT = {
    "SUCCESS": RunState.SUCCEEDED,
    "SUCCESS_WITH_FAILURES": RunState.SUCCEEDED,
    "FAILED": RunState.FAILED,
    "TIMEDOUT": RunState.TIMED_OUT,
    "CANCELED": RunState.CANCELED,
    "UPSTREAM_FAILED": RunState.SKIPPED,
    "UPSTREAM_CANCELED": RunState.CANCELED,
    "EXCLUDED": RunState.SKIPPED,
    "DISABLED": RunState.SKIPPED,
    "MAXIMUM_CONCURRENT_RUNS_REACHED": RunState.SKIPPED,
}
_TERMINAL_LIFE = frozenset({"TERMINATED", "SKIPPED", "INTERNAL_ERROR"})

_warned: set[tuple[str | None, ...]] = set()
_warned_lock = threading.Lock()


def _get(mapping: Mapping[str, Any] | None, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, Mapping) else None


def lifecycle_is_terminal(state: Mapping[str, Any] | None, status: Mapping[str, Any] | None) -> bool:
    """True if either shape says the run is over, whatever its outcome."""
    return _get(status, "state") == "TERMINATED" or _get(state, "life_cycle_state") in _TERMINAL_LIFE


def normalize_state(state: Mapping[str, Any] | None, status: Mapping[str, Any] | None) -> RunState:
    """Map the API's ``state`` and ``status`` objects to one :class:`RunState`.

    ``status`` wins; ``state`` fills what ``status`` lacks (notably TIMEDOUT, which the
    termination codes do not distinguish). Anything unrecognised is ``UNKNOWN`` and is
    logged once per distinct combination.
    """
    v2 = _get(status, "state")
    v1 = _get(state, "life_cycle_state")
    result = _get(state, "result_state")
    code = _get(_get(status, "termination_details"), "code")

    if v2 in _V2_ACTIVE:
        return _V2_ACTIVE[v2]
    if v2 == "TERMINATED" or v1 == "TERMINATED":
        outcome = _outcome(code, result, v1)
        if outcome is not None:
            return outcome
    elif v1 in _V1_LIFE:
        return _V1_LIFE[v1]
    _warn_unknown(v2, v1, result, code)
    return RunState.UNKNOWN


def _outcome(code: Any, result: Any, v1: Any) -> RunState | None:
    if v1 in {"SKIPPED", "INTERNAL_ERROR"}:
        return _V1_LIFE[v1]
    if result == "TIMEDOUT":  # a timeout ends with code CANCELED: the result says which it was
        return RunState.TIMED_OUT
    if code in _CODE:
        return _CODE[code]
    if code in _FAILURE_CODES:
        if result == "TIMEDOUT":
            return RunState.TIMED_OUT
        if result == "CANCELED":
            return RunState.CANCELED
        return RunState.FAILED
    if result in _RESULT:
        return _RESULT[result]
    return None


def _warn_unknown(*values: Any) -> None:
    key = tuple(None if v is None else str(v) for v in values)
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    log.warning(
        "jobs_widgets: unrecognised run state (status=%s, life_cycle_state=%s, result_state=%s, code=%s); "
        "showing it as UNKNOWN",
        *key,
    )
