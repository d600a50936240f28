"""Run-job tasks that start a real run of another sandbox job.

A ``run_job_task`` (``job_id``) whose spec asks for it (``TaskSpec.starts_child``) starts a
run of that job when it starts (trigger ``RUN_JOB_TASK``, as databricks-sdk's
``TriggerType`` names it) and ends when that child run ends, with its outcome; its
``runs/get-output`` carries ``run_job_output.run_id``, the child's run id. The demo's
``nightly`` keeps its invented child id (off), so the demo jobs' run lists stay as
the tour and its tests know them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from jobs_widgets.sandbox.records import RunRecord, TaskRun

if TYPE_CHECKING:
    from jobs_widgets.sandbox.simulation import Simulation

#: Child results under which the run-job task itself succeeded.
_FINE = frozenset({"SUCCESS", "SUCCESS_WITH_FAILURES"})


def start(
    sim: Simulation, run: RunRecord, task: TaskRun, now: float, finish: Callable[[float, str], None]
) -> None:
    """Start the child run of ``task`` and end ``task`` (``finish(when, result)``) when it ends."""
    job = sim._jobs.get(int(task.spec.settings.get("job_id", 0)))
    if job is None:
        task.message = f"Job {task.spec.settings.get('job_id')} does not exist."
        finish(now, "FAILED")
        return
    child = sim._create_run(job, now, user=run.creator, token=None)
    child.trigger = "RUN_JOB_TASK"
    task.child = child
    generation = task.generation
    link = {"run_id": child.run_id}
    task.output = {"run_job_output": link}

    def ended(when: float) -> None:
        if task.generation != generation or task.life != "RUNNING":
            return
        finish(when, "SUCCESS" if child.result in _FINE else "FAILED")
        task.output["run_job_output"] = link  # the child's id stays, whatever else the output says

    if child.is_terminal:  # skipped at once (too many runs of the child job, no queue)
        ended(now)
    else:
        child.on_end.append(sim._guard(run, ended))


def stop(sim: Simulation, task: TaskRun, when: float) -> None:
    """A canceled or timed-out parent cancels the child run its task started, if still going."""
    if task.child is not None and not task.child.is_terminal:
        sim._stop_run(task.child, when, "CANCELED")
