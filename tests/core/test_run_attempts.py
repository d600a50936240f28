"""Runs as a real workspace sends them: retried tasks listed once per attempt, timeouts ended as CANCELED.

The shapes follow databricks-sdk's ``service/jobs.py`` dataclasses (``Run``, ``RunTask``,
``RunState``, ``RunStatus``, ``TerminationDetails``): ``attempt_number`` counts a task's
retries, and ``runs/get`` returns every attempt of a retried task as its own entry
under the same ``task_key``, in no guaranteed order.
"""

from __future__ import annotations

from typing import Any

from jobs_widgets._render import RunSummary
from jobs_widgets._snapshot import run_snapshot
from jobs_widgets.core import Run, RunState


def _task(key: str, attempt: int, result: str, start: int, run_id: int) -> dict[str, Any]:
    code = "SUCCESS" if result == "SUCCESS" else "RUN_EXECUTION_ERROR"
    return {
        "task_key": key,
        "run_id": run_id,
        "attempt_number": attempt,
        "start_time": start,
        "end_time": start + 60_000,
        "state": {
            "life_cycle_state": "TERMINATED",
            "result_state": result,
            "state_message": f"{key} {result}",
        },
        "status": {"state": "TERMINATED", "termination_details": {"code": code, "type": "SUCCESS"}},
    }


def _retried_run() -> Run:
    # sync failed on attempt 0 and succeeded on attempt 1; listed newest first, as the API may.
    return Run.from_api(
        {
            "job_id": 7,
            "run_id": 70,
            "start_time": 1_000_000,
            "end_time": 1_300_000,
            "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"},
            "status": {"state": "TERMINATED", "termination_details": {"code": "SUCCESS", "type": "SUCCESS"}},
            "tasks": [
                _task("sync", 1, "SUCCESS", 1_100_000, 72),
                _task("load", 0, "SUCCESS", 1_200_000, 73),
                _task("sync", 0, "FAILED", 1_000_000, 71),
            ],
        }
    )


def test_a_task_that_succeeded_on_retry_is_not_a_failure() -> None:
    run = _retried_run()
    assert run.state is RunState.SUCCEEDED
    assert [t.task_key for t in run.latest_tasks] == ["sync", "load"]
    sync = run.task("sync")
    assert sync is not None and sync.attempt == 1 and sync.state is RunState.SUCCEEDED
    assert run.failed_tasks == ()
    snapshot = run_snapshot(run)
    assert snapshot is not None and snapshot["failure"] is None
    assert [t["task_key"] for t in snapshot["tasks"]] == ["sync", "load"]
    assert "FAILED" not in repr(RunSummary("etl", run))


def test_a_timed_out_run_is_timed_out_not_canceled() -> None:
    """A real workspace ends a timed-out run with code CANCELED and result TIMEDOUT."""
    run = Run.from_api(
        {
            "job_id": 7,
            "run_id": 80,
            "state": {
                "life_cycle_state": "TERMINATED",
                "result_state": "TIMEDOUT",
                "state_message": "Run timed out after 3600 seconds",
            },
            "status": {
                "state": "TERMINATED",
                "termination_details": {
                    "code": "CANCELED",
                    "type": "CLIENT_ERROR",
                    "message": "Run timed out after 3600 seconds",
                },
            },
        }
    )
    assert run.state is RunState.TIMED_OUT and run.state.is_failure
    snapshot = run_snapshot(run)
    assert snapshot is not None and snapshot["failure"] is not None


def test_a_queued_run_says_why_it_waits() -> None:
    """``status.queue_details`` (RunStatus) carries the reason a run is queued; it is what the run says."""
    run = Run.from_api(
        {
            "job_id": 7,
            "run_id": 90,
            "state": {"life_cycle_state": "QUEUED"},
            "status": {
                "state": "QUEUED",
                "queue_details": {
                    "code": "MAX_CONCURRENT_RUNS_REACHED",
                    "message": "Queued: the job has reached its maximum of 1 concurrent run",
                },
            },
        }
    )
    assert run.state is RunState.QUEUED
    assert run.state_message == "Queued: the job has reached its maximum of 1 concurrent run"
    snapshot = run_snapshot(run)
    assert snapshot is not None and "maximum of 1 concurrent run" in snapshot["state_message"]
    assert "maximum of 1 concurrent run" in repr(RunSummary("etl", run))


def test_task_types_the_product_does_not_name_are_still_named() -> None:
    """alert, power_bi, dbt_platform, ai_* (and future) tasks had type None."""
    from jobs_widgets.core import JobInfo

    job = JobInfo.from_api(
        {
            "job_id": 3,
            "settings": {
                "name": "alerts",
                "tasks": [
                    {"task_key": "a", "alert_task": {"alert_id": "x"}},
                    {"task_key": "b", "power_bi_task": {"connection_resource_name": "pbi"}},
                    {"task_key": "c", "some_future_task": {"anything": 1}},
                ],
            },
        }
    )
    assert [t.task_type for t in job.tasks] == ["alert", "power_bi", "some_future"]
