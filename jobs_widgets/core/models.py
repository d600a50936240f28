"""Our own frozen run, task, output and job models, mapped from Jobs API shapes.

They are built from the SDK's dataclasses (via ``as_dict()``) or from raw API JSON,
which have the same shape; nothing else in jobs_widgets touches SDK types. Times are
kept as epoch milliseconds (``*_ms``) exactly as the API sends them, with ``datetime``
properties for people.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from jobs_widgets.core.apivalues import EMPTY as _EMPTY
from jobs_widgets.core.apivalues import as_int as _int
from jobs_widgets.core.apivalues import as_ms as _ms
from jobs_widgets.core.apivalues import as_str as _str
from jobs_widgets.core.apivalues import to_datetime as _dt
from jobs_widgets.core.outputs import RunOutput, TaskOutput
from jobs_widgets.core.states import RunState, lifecycle_is_terminal, normalize_state

__all__ = [
    "TASK_FIELD_TYPES",
    "JobInfo",
    "JobParameter",
    "Run",
    "RunOutput",
    "RunUpdate",
    "TaskInfo",
    "TaskOutput",
    "TaskRun",
]

#: Jobs API task settings field -> our task type name.
TASK_FIELD_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "notebook_task": "notebook",
        "spark_python_task": "python_script",
        "python_wheel_task": "python_wheel",
        "spark_jar_task": "spark_jar",
        "sql_task": "sql",
        "dbt_task": "dbt",
        "run_job_task": "run_job",
        "pipeline_task": "pipeline",
        "spark_submit_task": "spark_submit",
        "condition_task": "condition",
        "for_each_task": "for_each",
        "dashboard_task": "dashboard",
        "clean_rooms_notebook_task": "clean_rooms_notebook",
    }
)
_PARAM_MAPS = ("notebook_params", "python_named_params", "sql_params")
_PARAM_LISTS = ("python_params", "jar_params", "spark_submit_params", "dbt_commands")


def _task_type(task: Mapping[str, Any]) -> str | None:
    """The task's type: a known one by its settings field, else any other ``<type>_task`` field's
    name (alert, power_bi, dbt_platform, ai_*: the API grows new ones), so none is anonymous."""
    for api_field, name in TASK_FIELD_TYPES.items():
        if task.get(api_field) is not None:
            return name
    for api_field, value in task.items():
        if api_field.endswith("_task") and isinstance(value, Mapping):
            return api_field[: -len("_task")]
    return None


def _nested(data: object, *path: str) -> Any:
    for name in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(name)
    return data


def _iteration_stats(task: Mapping[str, Any]) -> dict[str, int]:
    stats = _nested(task, "for_each_task", "stats", "task_run_stats")
    if not isinstance(stats, Mapping):
        return {}
    return {
        name.removesuffix("_iterations"): number
        for name, value in stats.items()
        if isinstance(name, str) and (number := _int(value)) is not None
    }


def _depends_on(task: Mapping[str, Any]) -> tuple[str, ...]:
    deps = task.get("depends_on") or []
    return tuple(str(d.get("task_key")) for d in deps if isinstance(d, Mapping) and d.get("task_key"))


def _duration_s(start: int | None, end: int | None, reported_ms: Any) -> float | None:
    reported = _int(reported_ms)
    if reported:
        return reported / 1000
    if start is not None and end is not None:
        return max(0.0, (end - start) / 1000)
    return None


@dataclass(frozen=True, slots=True)
class TaskRun:
    """One task inside a run, as last seen."""

    task_key: str
    run_id: int | None
    state: RunState
    task_type: str | None = None
    life_cycle_state: str | None = None
    result_state: str | None = None
    state_message: str = ""
    start_ms: int | None = None
    end_ms: int | None = None
    duration_s: float | None = None
    attempt: int = 0
    run_page_url: str | None = None
    depends_on: tuple[str, ...] = ()
    #: for-each tasks: ``for_each_task.stats.task_run_stats`` (total, completed, failed... iterations)
    iterations: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    #: condition tasks: the outcome they ended with ("true" / "false")
    condition_outcome: str | None = None
    #: run-job tasks: the job whose run they started
    child_job_id: int | None = None

    @classmethod
    def from_api(cls, task: Mapping[str, Any]) -> TaskRun:
        state = task.get("state") or {}
        status = task.get("status") or {}
        start, end = _ms(task.get("start_time")), _ms(task.get("end_time"))
        return cls(
            task_key=str(task.get("task_key") or ""),
            run_id=_int(task.get("run_id")),
            state=normalize_state(state, status),
            task_type=_task_type(task),
            life_cycle_state=_str(state.get("life_cycle_state")),
            result_state=_str(state.get("result_state")),
            state_message=str(state.get("state_message") or ""),
            start_ms=start,
            end_ms=end,
            duration_s=_duration_s(start, end, task.get("run_duration") or task.get("execution_duration")),
            attempt=_int(task.get("attempt_number")) or 0,
            run_page_url=_str(task.get("run_page_url")),
            depends_on=_depends_on(task),
            iterations=MappingProxyType(_iteration_stats(task)),
            condition_outcome=_str(_nested(task, "condition_task", "outcome")),
            child_job_id=_int(_nested(task, "run_job_task", "job_id")),
        )

    @property
    def is_terminal(self) -> bool:
        return self.state.is_terminal


def _run_message(
    state: Mapping[str, Any], details: Mapping[str, Any], queue: Mapping[str, Any], normalized: RunState
) -> str:
    """What a run says about itself: its state message; while it waits, why (the queue reason)."""
    waiting = normalized in {RunState.QUEUED, RunState.BLOCKED}
    reason = state.get("queue_reason") or queue.get("message") if waiting else None
    return str(state.get("state_message") or reason or details.get("message") or "")


@dataclass(frozen=True, slots=True)
class Run:
    """A run of a job, as last seen; ``state`` is normalized (see :class:`RunState`)."""

    run_id: int
    job_id: int | None
    state: RunState
    life_cycle_state: str | None = None
    result_state: str | None = None
    status_state: str | None = None
    state_message: str = ""
    termination_code: str | None = None
    termination_type: str | None = None
    termination_message: str | None = None
    queue_reason: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    duration_s: float | None = None
    run_page_url: str | None = None
    run_name: str | None = None
    number_in_job: int | None = None
    trigger: str | None = None
    creator: str | None = None
    tasks: tuple[TaskRun, ...] = ()
    params: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    lifecycle_over: bool = False
    raw: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, repr=False, compare=False)

    @classmethod
    def from_api(cls, run: Mapping[str, Any]) -> Run:
        """Build from a ``runs/get`` / ``runs/list`` item (SDK ``Run.as_dict()`` or raw JSON)."""
        state = run.get("state") or {}
        status = run.get("status") or {}
        details = status.get("termination_details") or {}
        queue = status.get("queue_details") or {}
        start, end = _ms(run.get("start_time")), _ms(run.get("end_time"))
        tasks = tuple(TaskRun.from_api(t) for t in (run.get("tasks") or []) if isinstance(t, Mapping))
        normalized = normalize_state(state, status)
        return cls(
            run_id=_int(run.get("run_id")) or 0,
            job_id=_int(run.get("job_id")),
            state=normalized,
            life_cycle_state=_str(state.get("life_cycle_state")),
            result_state=_str(state.get("result_state")),
            status_state=_str(status.get("state")),
            state_message=_run_message(state, details, queue, normalized),
            termination_code=_str(details.get("code")),
            termination_type=_str(details.get("type")),
            termination_message=_str(details.get("message")),
            queue_reason=_str(state.get("queue_reason") or queue.get("message")),
            start_ms=start,
            end_ms=end,
            duration_s=_duration_s(start, end, run.get("run_duration")),
            run_page_url=_str(run.get("run_page_url")),
            run_name=_str(run.get("run_name")),
            number_in_job=_int(run.get("number_in_job")),
            trigger=_str(run.get("trigger")),
            creator=_str(run.get("creator_user_name")),
            tasks=tasks,
            params=MappingProxyType(_run_params(run)),
            lifecycle_over=lifecycle_is_terminal(state, status),
            raw=MappingProxyType(dict(run)),
        )

    @property
    def is_terminal(self) -> bool:
        """True once the run is over (also when its outcome is UNKNOWN but it has ended)."""
        return self.state.is_terminal or (self.state is RunState.UNKNOWN and self.lifecycle_over)

    @property
    def start_time(self) -> datetime | None:
        return _dt(self.start_ms)

    @property
    def end_time(self) -> datetime | None:
        return _dt(self.end_ms)

    def elapsed_s(self, now_s: float) -> float | None:
        """Seconds since the run started, as of ``now_s`` (epoch seconds), or its duration if over."""
        if self.duration_s is not None and self.is_terminal:
            return self.duration_s
        if self.start_ms is None:
            return None
        return max(0.0, now_s - self.start_ms / 1000)

    @property
    def latest_tasks(self) -> tuple[TaskRun, ...]:
        """One entry per task: its latest attempt (``runs/get`` lists every attempt of a
        retried task under the same key, in no guaranteed order), in first-seen order."""
        latest: dict[str, TaskRun] = {}
        for task in self.tasks:
            seen = latest.get(task.task_key)
            if seen is None or (task.attempt, task.start_ms or 0) > (seen.attempt, seen.start_ms or 0):
                latest[task.task_key] = task
        return tuple(latest.values())

    def task(self, key: str) -> TaskRun | None:
        """The latest attempt of task ``key``."""
        return next((t for t in self.latest_tasks if t.task_key == key), None)

    @property
    def failed_tasks(self) -> tuple[TaskRun, ...]:
        """Tasks whose latest attempt failed (an attempt a retry made good is not a failure)."""
        return tuple(t for t in self.latest_tasks if t.state.is_failure)

    @property
    def repairs(self) -> tuple[Mapping[str, Any], ...]:
        """The run's repairs, oldest first (``repair_history`` entries of type REPAIR).

        ``runs/get`` sends the history only with ``include_history`` (a run polled without
        it keeps the history of a fuller read: :meth:`with_repairs_of`).
        """
        history = self.raw.get("repair_history")
        if not isinstance(history, Sequence) or isinstance(history, str):
            return ()
        return tuple(e for e in history if isinstance(e, Mapping) and e.get("type") == "REPAIR")

    @property
    def repair_started_ms(self) -> int | None:
        """When the run's latest repair began (epoch ms), or None if it was never repaired."""
        return _ms(self.repairs[-1].get("start_time")) if self.repairs else None

    def with_repairs_of(self, earlier: Run) -> Run:
        """This run, keeping ``earlier``'s repair history when this read came without one."""
        history = earlier.raw.get("repair_history")
        if not history or self.raw.get("repair_history") or earlier.run_id != self.run_id:
            return self
        return replace(self, raw=MappingProxyType({**self.raw, "repair_history": history}))

    def fingerprint(self) -> tuple[Any, ...]:
        """What a watcher compares to decide whether anything visible changed."""
        return (
            self.state,
            self.life_cycle_state,
            self.result_state,
            self.state_message,
            self.end_ms,
            tuple((t.task_key, t.run_id, t.state, t.state_message, t.end_ms) for t in self.tasks),
        )


def _run_params(run: Mapping[str, Any]) -> dict[str, str]:
    """The parameters a run was started with, flattened for display."""
    params: dict[str, str] = {}
    for entry in run.get("job_parameters") or []:
        if isinstance(entry, Mapping) and entry.get("name") is not None:
            value = entry.get("value", entry.get("default"))
            params[str(entry["name"])] = "" if value is None else str(value)
    overriding = run.get("overriding_parameters") or {}
    if isinstance(overriding, Mapping):
        for name in _PARAM_MAPS:
            values = overriding.get(name) or {}
            if isinstance(values, Mapping):
                params.update({str(k): str(v) for k, v in values.items()})
        for name in _PARAM_LISTS:
            values = overriding.get(name) or []
            if isinstance(values, Sequence) and not isinstance(values, str) and values:
                params[name] = " ".join(str(v) for v in values)
    return params


@dataclass(frozen=True, slots=True)
class RunUpdate:
    """What a watcher yields: the run as just seen, and the state it came from."""

    run: Run
    previous_state: RunState | None
    observed_at: float
    seq: int = 0

    @property
    def run_id(self) -> int:
        return self.run.run_id

    @property
    def state(self) -> RunState:
        return self.run.state

    @property
    def is_terminal(self) -> bool:
        return self.run.is_terminal

    def __str__(self) -> str:
        return f"run {self.run.run_id}: {self.run.state.label}"


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """A task in a job's settings."""

    task_key: str
    task_type: str | None
    depends_on: tuple[str, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class JobParameter:
    """A job-level parameter definition (name and default)."""

    name: str
    default: str = ""


@dataclass(frozen=True, slots=True)
class JobInfo:
    """A job's settings: name, tasks (key + type), job-level parameters."""

    job_id: int
    name: str | None
    tasks: tuple[TaskInfo, ...] = ()
    parameters: tuple[JobParameter, ...] = ()
    max_concurrent_runs: int | None = None
    creator: str | None = None
    tags: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    raw: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, repr=False, compare=False)

    @classmethod
    def from_api(cls, job: Mapping[str, Any]) -> JobInfo:
        settings = job.get("settings") or {}
        tasks = tuple(
            TaskInfo(
                task_key=str(t.get("task_key") or ""),
                task_type=_task_type(t),
                depends_on=_depends_on(t),
                settings=MappingProxyType(dict(t)),
            )
            for t in (settings.get("tasks") or [])
            if isinstance(t, Mapping)
        )
        params = tuple(
            JobParameter(name=str(p.get("name")), default=str(p.get("default") or ""))
            for p in (settings.get("parameters") or [])
            if isinstance(p, Mapping) and p.get("name")
        )
        tags = settings.get("tags") or {}
        return cls(
            job_id=_int(job.get("job_id")) or 0,
            name=_str(settings.get("name")),
            tasks=tasks,
            parameters=params,
            max_concurrent_runs=_int(settings.get("max_concurrent_runs")),
            creator=_str(job.get("creator_user_name")),
            tags=MappingProxyType(
                {str(k): str(v) for k, v in tags.items()} if isinstance(tags, Mapping) else {}
            ),
            raw=MappingProxyType(dict(job)),
        )

    @property
    def task_types(self) -> tuple[str | None, ...]:
        return tuple(t.task_type for t in self.tasks)
