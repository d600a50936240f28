"""For-each tasks: one nested task run per input, ``concurrency`` at a time.

A for-each task (``for_each_task``: ``inputs`` as a JSON array, ``concurrency``, the
nested ``task``) runs its iterations in waves over its planned duration; each iteration
is a task run of its own (its own ``run_id``, state and output), and the task shows
``for_each_task.stats.task_run_stats`` counted from them, as databricks-sdk's
``ForEachTaskTaskRunStats`` names them. ``runs/get`` of the for-each task's run id lists
the ``iterations`` (paged at 100 in API 2.2 like every run array). When the run's plan
fails this task, one iteration fails and the task fails once all have ended.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jobs_widgets.sandbox import texts
from jobs_widgets.sandbox.records import RunRecord, TaskRun, task_done
from jobs_widgets.sandbox.specs import TASK_FIELDS, TaskSpec

if TYPE_CHECKING:
    from jobs_widgets.sandbox.simulation import Simulation

_KINDS = {field: kind for kind, field in TASK_FIELDS.items()}


def inputs(settings: dict[str, Any]) -> list[Any]:
    """The for-each task's inputs: its ``inputs`` setting, a JSON array."""
    try:
        items = json.loads(str(settings.get("inputs", "")))
    except ValueError:
        items = None
    if not isinstance(items, list):
        raise ValueError("for_each_task.inputs must be a JSON array")
    return items


def nested_spec(settings: dict[str, Any]) -> TaskSpec:
    """The nested task (``for_each_task.task``) as a spec: its key, kind and settings."""
    task = settings.get("task")
    if not isinstance(task, dict):
        raise ValueError("for_each_task.task must be a task")
    found = [(kind, task[f]) for f, kind in _KINDS.items() if f in task and kind != "for_each"]
    if len(found) != 1:
        raise ValueError("for_each_task.task must name exactly one task type")
    kind, body = found[0]
    return TaskSpec(str(task.get("task_key", "iteration")), kind, dict(body))


def start(
    sim: Simulation, run: RunRecord, task: TaskRun, now: float, finish: Callable[[float, str], None]
) -> None:
    """Schedule every iteration of ``task`` and its end (``finish(when, result)``)."""
    settings = task.spec.settings
    items = inputs(settings)
    nested = nested_spec(settings)
    concurrency = max(1, int(settings.get("concurrency", 1)))
    duration = max(run.plan.durations[task.spec.task_key], 0.001)
    slot = duration / max(1, math.ceil(len(items) / concurrency))
    failing = None
    if run.plan.fail_task == task.spec.task_key and run.plan.outcome == "FAILED":
        failing = min(len(items) - 1, int(len(items) * min(run.plan.fail_after_s / duration, 0.99)))
    generation = task.generation
    task.iterations = []
    for index, item in enumerate(items):
        iteration = TaskRun(spec=nested, run_id=next(sim._run_ids), attempt=0)
        iteration.message = f"Input {json.dumps(item)}"
        task.iterations.append(iteration)
        sim._task_runs[iteration.run_id] = (run, iteration)
        begin = now + (index // concurrency) * slot
        result = "FAILED" if index == failing else "SUCCESS"
        sim._at(begin, sim._guard(run, _starter(iteration)))
        sim._at(begin + slot, sim._guard(run, _ender(run, iteration, result, sim)))

    def end(when: float) -> None:
        if task.generation == generation and task.life == "RUNNING":
            failed = any(i.result != "SUCCESS" for i in task.iterations)
            finish(when, "FAILED" if failed else "SUCCESS")

    sim._at(now + duration, sim._guard(run, end))


def _starter(iteration: TaskRun) -> Callable[[float], None]:
    def begin(when: float) -> None:
        if iteration.life == "PENDING":
            iteration.life, iteration.start = "RUNNING", when

    return begin


def _ender(run: RunRecord, iteration: TaskRun, result: str, sim: Simulation) -> Callable[[float], None]:
    def end(when: float) -> None:
        if iteration.life != "RUNNING":
            return
        iteration.life, iteration.result, iteration.end = "TERMINATED", result, when
        spec = iteration.spec
        if result == "SUCCESS":
            rng = sim._rng(run.job, run.number, f"/{iteration.run_id}")
            iteration.output = texts.success_output(spec.kind, spec.task_key, rng, "wh-0001")
        else:
            error = run.plan.error
            trace = texts.error_trace(
                spec.task_key, spec.kind, error, texts.task_path(spec.settings, spec.task_key)
            )
            iteration.output = texts.failure_output(spec.kind, spec.task_key, error, trace)
            iteration.message = f"Task {spec.task_key} failed with message: {error}"

    return end


def stop(task: TaskRun, result: str, when: float) -> None:
    """A canceled or timed-out run ends the iterations that had not ended."""
    for iteration in task.iterations:
        if not task_done(iteration):
            iteration.life, iteration.result, iteration.end = "TERMINATED", result, when


def stats(task: TaskRun) -> dict[str, int]:
    """``for_each_task.stats.task_run_stats`` counted from the iterations."""
    its = task.iterations
    done = [i for i in its if task_done(i)]
    succeeded = sum(1 for i in done if i.result == "SUCCESS")
    return {
        "active_iterations": sum(1 for i in its if i.life == "RUNNING"),
        "completed_iterations": len(done),
        "failed_iterations": len(done) - succeeded,
        "scheduled_iterations": sum(1 for i in its if i.life == "PENDING"),
        "succeeded_iterations": succeeded,
        "total_iterations": len(its),
    }
