"""A run's nested runs: the iterations of a for-each task and the child runs of run-job tasks.

Both are reached *through* a run of the handle's own job: the parent run is read (and its
scope checked) first, so a run id of another job never leads anywhere. A child run of a
job that is configured here names that job's key (it can be followed: a panel, a watch);
one of an unconfigured job is shown (its id, its page) and nothing more.

* iterations: ``runs/get`` of the for-each task's own run id answers with that task and
  its ``iterations`` (paged at 100 in API 2.2; the gateway merges the pages).
* child runs: ``runs/get-output`` of a run-job task's run id carries
  ``run_job_output.run_id``; finished tasks' outputs are cached for long.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jobs_widgets.core.apivalues import as_int
from jobs_widgets.core.errors import JobsError
from jobs_widgets.core.models import Run, TaskRun

if TYPE_CHECKING:
    from jobs_widgets.core.handle import JobHandle

__all__ = ["ChildRun", "NestedRuns", "child_runs", "iterations", "nested_runs"]

#: Cache seconds for a finished task's output (it never changes).
_FINISHED_TTL = 3600.0


@dataclass(frozen=True, slots=True)
class ChildRun:
    """The run a run-job task started."""

    task_key: str
    job_id: int | None
    run_id: int | None
    #: The configured key of the child's job, or None when that job is not configured here.
    job_key: str | None
    run_page_url: str | None


def iterations(handle: JobHandle, run_id: int, task_key: str) -> list[TaskRun]:
    """The iterations of for-each task ``task_key`` of run ``run_id`` (every page), in order."""
    run = handle.get_run(run_id)
    task = _task(run, task_key)
    if not task.iterations and "for_each_task" not in _raw_task(run, task_key):
        raise JobsError(f"task {task_key!r} of run {run_id} is not a for-each task")
    if task.run_id is None:
        return []
    raw = handle.gateway.get_run(task.run_id)
    return [TaskRun.from_api(item) for item in raw.get("iterations") or [] if isinstance(item, Mapping)]


def child_runs(handle: JobHandle, run_id: int) -> list[ChildRun]:
    """The child runs of run ``run_id``'s run-job tasks that have started one."""
    run = handle.get_run(run_id)
    registry = handle.registry
    keys = {}
    for key in registry:
        try:
            keys[registry(key).job_id] = key
        except JobsError:  # a job whose variable is broken: it cannot be followed
            continue
    children = []
    for task in run.latest_tasks:
        if task.child_job_id is None or task.run_id is None:
            continue
        output = _output(handle, task)
        child = output.get("run_job_output")
        child_id = as_int(child.get("run_id")) if isinstance(child, Mapping) else None
        children.append(
            ChildRun(
                task_key=task.task_key,
                job_id=task.child_job_id,
                run_id=child_id,
                job_key=keys.get(task.child_job_id),
                run_page_url=task.run_page_url if child_id is None else _child_url(run, task, child_id),
            )
        )
    return children


@dataclass(frozen=True)
class NestedRuns:
    """What is under a run: its run-job tasks' child runs and the iterations of its
    for-each tasks that had failures (empty when it has neither)."""

    children: Sequence[ChildRun] = ()
    #: for-each task key -> its iterations (every one; a view lists the failed ones)
    iterations: Mapping[str, Sequence[TaskRun]] = field(default_factory=dict)
    #: why some of it could not be read (shown, never raised: the run itself was read)
    problem: str | None = None


def nested_runs(handle: JobHandle, run: Run) -> NestedRuns | None:
    """Child runs and the iterations of for-each tasks with failures under ``run`` (None
    when it has neither kind of task): one ``runs/get`` per such for-each task, one
    ``runs/get-output`` per run-job task (cached once finished). A failure to read them
    is in ``problem``, never raised: the run itself was read."""
    tasks = run.latest_tasks
    for_each = [t for t in tasks if t.iterations.get("failed")]
    if not for_each and not any(t.child_job_id is not None for t in tasks):
        return None
    try:
        children = child_runs(handle, run.run_id)
        found = {t.task_key: iterations(handle, run.run_id, t.task_key) for t in for_each}
    except JobsError as exc:
        return NestedRuns(problem=f"nested runs could not be read: {exc}")
    return NestedRuns(children=tuple(children), iterations=found)


def _task(run: Run, task_key: str) -> TaskRun:
    task = run.task(task_key)
    if task is None:
        known = ", ".join(t.task_key for t in run.latest_tasks) or "none"
        raise JobsError(f"run {run.run_id} has no task {task_key!r} (its tasks: {known})")
    return task


def _raw_task(run: Run, task_key: str) -> Mapping[str, Any]:
    for item in run.raw.get("tasks") or []:
        if isinstance(item, Mapping) and item.get("task_key") == task_key:
            return item
    return {}


def _output(handle: JobHandle, task: TaskRun) -> Mapping[str, Any]:
    task_run_id = task.run_id
    assert task_run_id is not None

    def load() -> dict[str, Any]:
        return handle.gateway.get_run_output(task_run_id)

    ttl = _FINISHED_TTL if task.is_terminal else 0.0
    scope = (handle.identity, handle.job_id)  # the key get_run_output caches task outputs under
    cached: Mapping[str, Any] = handle.session.cache.get_or_load(
        scope, ("output", task_run_id), load, ttl=ttl
    )
    return cached


def _child_url(run: Run, task: TaskRun, child_id: int) -> str | None:
    """The child's run page: ``<host>/jobs/<child job>/runs/<child run>`` on the parent's host."""
    base = run.run_page_url or task.run_page_url
    if not base or task.child_job_id is None:
        return None
    scheme, sep, rest = base.partition("://")
    host = rest.split("/", 1)[0]
    return f"{scheme}{sep}{host}/jobs/{task.child_job_id}/runs/{child_id}" if sep and host else None
