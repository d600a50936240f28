"""What the engine keeps about jobs, runs and task runs, and the error its API raises.

Plain mutable records: the simulation (:mod:`~jobs_widgets.sandbox.simulation`) moves
them through their life cycle, :mod:`~jobs_widgets.sandbox.shapes` renders them as
Jobs API JSON, and tests read them as the truth behind what the API answered.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jobs_widgets.sandbox.plans import Plan, Script
from jobs_widgets.sandbox.specs import JobSpec, TaskSpec

TERMINAL_LIFE = frozenset({"TERMINATED", "SKIPPED", "INTERNAL_ERROR"})


class ApiError(Exception):
    """An error the Jobs service answers with: HTTP status, error code, message."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message

    def body(self) -> dict[str, str]:
        return {"error_code": self.error_code, "message": self.message}


def invalid(message: str) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER_VALUE", message)


def ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


@dataclass
class TaskRun:
    """One attempt of one task inside a run."""

    spec: TaskSpec
    run_id: int
    attempt: int
    life: str = "PENDING"
    result: str | None = None
    message: str = ""
    start: float | None = None
    end: float | None = None
    output: dict[str, Any] = field(default_factory=dict)
    generation: int = 0
    #: A condition task's outcome once it ran: "true" or "false".
    outcome: str | None = None
    #: A for-each task's iteration runs, in input order.
    iterations: list[TaskRun] = field(default_factory=list)
    #: A run-job task's child run in this sandbox (see sandbox.childruns).
    child: RunRecord | None = None


@dataclass
class RunRecord:
    """A run of a job, with its tasks and timeline (times in epoch seconds)."""

    run_id: int
    job: JobRecord
    number: int
    created: float
    plan: Plan
    creator: str
    run_name: str
    token: str | None = None
    life: str = "QUEUED"
    result: str | None = None
    message: str = ""
    queue_reason: str | None = None
    admitted: bool = False
    pending_at: float | None = None
    running_at: float | None = None
    terminating_at: float | None = None
    end: float | None = None
    user_cancelled: bool = False
    stopping: str | None = None  # "CANCELED" | "TIMEDOUT" while terminating early
    tasks: dict[str, TaskRun] = field(default_factory=dict)
    attempts: list[TaskRun] = field(default_factory=list)
    overriding: dict[str, Any] = field(default_factory=dict)
    job_parameters: list[dict[str, str]] = field(default_factory=list)
    generation: int = 0
    repairs: list[dict[str, Any]] = field(default_factory=list)
    run_page_url: str | None = None
    trigger: str = "ONE_TIME"
    #: Called (with the time) when the run ends: a parent's run-job task waiting for it.
    on_end: list[Callable[[float], None]] = field(default_factory=list)

    @property
    def is_terminal(self) -> bool:
        return self.life in TERMINAL_LIFE


@dataclass
class JobRecord:
    """A job: its spec, its runs (oldest first), its queue and its scripted next runs."""

    spec: JobSpec
    job_id: int
    created: float
    numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    queue: list[RunRecord] = field(default_factory=list)
    scripts: list[Script] = field(default_factory=list)
    runs: list[RunRecord] = field(default_factory=list)


def task_done(task: TaskRun) -> bool:
    return task.life in {"TERMINATED", "SKIPPED", "INTERNAL_ERROR"}
