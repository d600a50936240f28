"""What a repair of a run would run again, decided once for the panel and the magics.

A repair re-runs chosen tasks of an ended run and the tasks that depend on them. What
is offered by default is what the Databricks UI offers: every task that did not end
well (failed, timed out, cancelled, upstream failed) and its dependents; a task a
condition excluded ended as designed and is not offered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jobs_widgets.core.apivalues import as_int
from jobs_widgets.core.errors import ParamsError
from jobs_widgets.core.models import Run
from jobs_widgets.core.params import run_job_parameters
from jobs_widgets.core.states import RunState

__all__ = ["RepairPlan", "repair_plan", "repair_request"]

#: Task results that ended as designed (not offered for a repair).
_ENDED_WELL = frozenset({"SUCCESS", "EXCLUDED", "SUCCESS_WITH_FAILURES"})


@dataclass(frozen=True, slots=True)
class RepairPlan:
    """The run's tasks (in the run's order) and those a repair re-runs by default."""

    tasks: tuple[str, ...]
    default: tuple[str, ...]


def repair_plan(run: Run | None) -> RepairPlan | None:
    """The repair a person is offered for ``run``, or None when it cannot be repaired
    (still going, or nothing in it failed)."""
    if run is None or not run.is_terminal:
        return None
    tasks = run.latest_tasks
    failed_run = run.state.is_failure or run.result_state == "SUCCESS_WITH_FAILURES"
    if not (failed_run or run.failed_tasks):
        return None
    chosen = [
        t.task_key
        for t in tasks
        if t.is_terminal and t.state is not RunState.SUCCEEDED and (t.result_state or "") not in _ENDED_WELL
    ]
    dependents: dict[str, list[str]] = {}
    for t in tasks:
        for upstream in t.depends_on:
            dependents.setdefault(upstream, []).append(t.task_key)
    todo = list(chosen)
    while todo:
        for key in dependents.get(todo.pop(), ()):
            if key not in chosen:
                chosen.append(key)
                todo.append(key)
    order = [t.task_key for t in tasks]
    return RepairPlan(tasks=tuple(order), default=tuple(k for k in order if k in chosen))


def repair_request(
    run: Run,
    rerun_tasks: list[str] | None,
    rerun_all_failed_tasks: bool = True,
    job_parameters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``runs/repair`` arguments for ``run`` (read with its repair history).

    Chosen tasks must be the run's (:class:`ParamsError` naming them otherwise) and bring
    their dependents; the run's job parameters are kept unless ``job_parameters`` says
    otherwise (a repair that drops them re-runs tasks with the job's defaults: Airflow
    #64828); the run's latest repair is named, which a workspace requires of a second one.
    """
    known = [t.task_key for t in run.latest_tasks]
    unknown = [key for key in rerun_tasks or () if key not in known]
    if unknown:
        raise ParamsError(
            f"run {run.run_id} has no task {unknown[0][:40]!r}; its tasks: {', '.join(known)[:200]}",
            key="tasks",
        )
    ids = [as_int(entry.get("id")) for entry in run.repairs]
    latest = next((i for i in reversed(ids) if i is not None), None)
    params = (
        run_job_parameters(run) if job_parameters is None else {k: str(v) for k, v in job_parameters.items()}
    )
    return {
        "rerun_all_failed_tasks": rerun_all_failed_tasks and not rerun_tasks,
        "rerun_tasks": list(rerun_tasks) if rerun_tasks else None,
        "latest_repair_id": latest,
        "rerun_dependent_tasks": True if rerun_tasks else None,
        "job_parameters": params or None,
    }
