"""State normalization and the run model: every enum value the SDK knows maps somewhere."""

from __future__ import annotations

import logging

import pytest
from databricks.sdk.service import jobs as sdk_jobs
from jobs_widgets.core import Run, RunState, TaskOutput
from jobs_widgets.core.models import JobInfo, RunOutput
from jobs_widgets.core.states import normalize_state


def test_every_sdk_state_combination_maps_to_a_known_state() -> None:
    for life in sdk_jobs.RunLifeCycleState:
        for result in [None, *sdk_jobs.RunResultState]:
            state = normalize_state(
                {"life_cycle_state": life.value, "result_state": result and result.value}, None
            )
            if life.value == "TERMINATED" and result is None:
                assert state is RunState.UNKNOWN
            else:
                assert state is not RunState.UNKNOWN, (life, result)
    for v2 in sdk_jobs.RunLifecycleStateV2State:
        for code in [None, *sdk_jobs.TerminationCodeCode]:
            status = {"state": v2.value, "termination_details": {"code": code.value} if code else {}}
            state = normalize_state(None, status)
            if v2.value == "TERMINATED" and code is None:
                assert state is RunState.UNKNOWN
            else:
                assert state is not RunState.UNKNOWN, (v2, code)


@pytest.mark.parametrize(
    ("state", "status", "expected"),
    [
        ({"life_cycle_state": "TERMINATED", "result_state": "FAILED"}, None, RunState.FAILED),
        (
            {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"},
            {"state": "TERMINATED", "termination_details": {"code": "SUCCESS"}},
            RunState.SUCCEEDED,
        ),
        # status wins: a cancel seen in status beats a stale result in state
        (
            {"life_cycle_state": "RUNNING"},
            {"state": "TERMINATED", "termination_details": {"code": "USER_CANCELED"}},
            RunState.CANCELED,
        ),
        # state refines a generic failure code into a timeout
        (
            {"life_cycle_state": "TERMINATED", "result_state": "TIMEDOUT"},
            {"state": "TERMINATED", "termination_details": {"code": "RUN_EXECUTION_ERROR"}},
            RunState.TIMED_OUT,
        ),
        (None, {"state": "TERMINATED", "termination_details": {"code": "DRIVER_ERROR"}}, RunState.FAILED),
        (
            {"life_cycle_state": "SKIPPED"},
            {"state": "TERMINATED", "termination_details": {"code": "MAX_CONCURRENT_RUNS_EXCEEDED"}},
            RunState.SKIPPED,
        ),
        ({"life_cycle_state": "INTERNAL_ERROR"}, None, RunState.INTERNAL_ERROR),
        (None, {"state": "WAITING"}, RunState.WAITING_FOR_RETRY),
        ({"life_cycle_state": "BLOCKED"}, None, RunState.BLOCKED),
        ({"life_cycle_state": "TERMINATED", "result_state": "UPSTREAM_FAILED"}, None, RunState.SKIPPED),
        (
            {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS_WITH_FAILURES"},
            None,
            RunState.SUCCEEDED,
        ),
        (None, None, RunState.UNKNOWN),
        ({"life_cycle_state": "MADE_UP"}, {"state": "ALSO_MADE_UP"}, RunState.UNKNOWN),
    ],
)
def test_normalization_cases(
    state: dict[str, str] | None, status: dict[str, object] | None, expected: RunState
) -> None:
    assert normalize_state(state, status) is expected


def test_unknown_states_are_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="jobs_widgets"):
        for _ in range(5):
            assert normalize_state({"life_cycle_state": "NEW_THING_42"}, None) is RunState.UNKNOWN
    assert len([r for r in caplog.records if "NEW_THING_42" in r.getMessage()]) == 1


def test_terminal_flags_and_labels() -> None:
    assert {s for s in RunState if s.is_terminal} == {
        RunState.SUCCEEDED,
        RunState.FAILED,
        RunState.CANCELED,
        RunState.TIMED_OUT,
        RunState.SKIPPED,
        RunState.INTERNAL_ERROR,
    }
    assert not RunState.UNKNOWN.is_terminal and not RunState.UNKNOWN.is_active
    assert RunState.WAITING_FOR_RETRY.label == "Waiting for retry"
    assert RunState.TIMED_OUT.is_failure and not RunState.CANCELED.is_failure


def test_a_finished_run_with_an_unknown_outcome_still_ends_the_wait() -> None:
    run = Run.from_api(
        {"run_id": 1, "job_id": 2, "state": {"life_cycle_state": "TERMINATED", "result_state": "NEW"}}
    )
    assert run.state is RunState.UNKNOWN and run.is_terminal


def test_run_from_api_keeps_what_users_need() -> None:
    raw = {
        "job_id": 101,
        "run_id": 9000,
        "number_in_job": 12,
        "run_name": "nightly-etl",
        "trigger": "ONE_TIME",
        "creator_user_name": "a@b.c",
        "state": {
            "life_cycle_state": "TERMINATED",
            "result_state": "FAILED",
            "state_message": "Task t failed",
        },
        "status": {
            "state": "TERMINATED",
            "termination_details": {
                "code": "RUN_EXECUTION_ERROR",
                "type": "CLIENT_ERROR",
                "message": "Task t failed",
            },
        },
        "start_time": 1_735_700_000_000,
        "end_time": 1_735_700_060_000,
        "run_duration": 60_000,
        "run_page_url": "https://x/#job/101/run/9000",
        "tasks": [
            {
                "task_key": "t",
                "run_id": 9001,
                "notebook_task": {"notebook_path": "/t"},
                "state": {"life_cycle_state": "TERMINATED", "result_state": "FAILED"},
                "start_time": 1_735_700_000_000,
                "end_time": 1_735_700_030_000,
                "depends_on": [{"task_key": "s"}],
                "attempt_number": 1,
            },
        ],
        "job_parameters": [{"name": "env", "default": "dev", "value": "prod"}],
        "overriding_parameters": {"notebook_params": {"x": "1"}, "python_params": ["a", "b"]},
    }
    run = Run.from_api(raw)
    assert (run.run_id, run.job_id, run.state, run.duration_s) == (9000, 101, RunState.FAILED, 60.0)
    assert run.termination_code == "RUN_EXECUTION_ERROR" and run.state_message == "Task t failed"
    assert run.start_time is not None and run.start_time.year == 2025
    task = run.tasks[0]
    assert (task.task_key, task.run_id, task.task_type, task.depends_on, task.attempt) == (
        "t",
        9001,
        "notebook",
        ("s",),
        1,
    )
    assert task.duration_s == 30.0 and run.failed_tasks == (task,)
    assert dict(run.params) == {"env": "prod", "x": "1", "python_params": "a b"}
    assert run.elapsed_s(0) == 60.0
    assert Run.from_api({"run_id": "7", "start_time": 0}).start_ms is None


def test_outputs_and_job_info() -> None:
    out = TaskOutput.from_api(
        {
            "notebook_output": {"result": "42", "truncated": True},
            "error": "E",
            "error_trace": "T",
            "logs": "L",
            "sql_output": {"x": 1},
        },
        task_key="t",
        run_id=1,
        state=RunState.FAILED,
    )
    run_output = RunOutput(run_id=1, state=RunState.FAILED, tasks=(out,))
    assert (run_output.notebook_result, run_output.error, run_output.error_trace, run_output.logs) == (
        "42",
        "E",
        "T",
        "L",
    )
    assert (
        run_output.task("t") is out
        and run_output.task("x") is None
        and dict(out.extra) == {"sql_output": {"x": 1}}
    )
    job = JobInfo.from_api(
        {
            "job_id": 5,
            "settings": {
                "name": "n",
                "tags": {"a": "b"},
                "parameters": [{"name": "p", "default": "d"}],
                "tasks": [{"task_key": "a", "spark_jar_task": {}}],
            },
        }
    )
    assert job.name == "n" and job.task_types == ("spark_jar",) and job.parameters[0].default == "d"
