"""What a repair offers (core.repairs) and which task keys it accepts (core.ids)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jobs_widgets.core.errors import ParamsError
from jobs_widgets.core.ids import check_task_keys
from jobs_widgets.core.models import Run
from jobs_widgets.core.repairs import repair_plan

FIXTURES = Path(__file__).parent.parent / "fixtures" / "runs"


def _task(key: str, result: str | None, *deps: str, life: str = "TERMINATED") -> dict[str, Any]:
    state: dict[str, Any] = {"life_cycle_state": life}
    if result:
        state["result_state"] = result
    return {
        "task_key": key,
        "run_id": hash(key) % 10**6,
        "state": state,
        "depends_on": [{"task_key": d} for d in deps],
    }


def _run(result: str, *tasks: dict[str, Any]) -> Run:
    return Run.from_api(
        {
            "run_id": 7,
            "job_id": 1,
            "state": {"life_cycle_state": "TERMINATED", "result_state": result},
            "tasks": list(tasks),
        }
    )


def test_the_failed_task_and_everything_downstream_is_offered_in_run_order() -> None:
    run = _run(
        "FAILED",
        _task("ingest", "SUCCESS"),
        _task("transform", "FAILED", "ingest"),
        _task("publish", "UPSTREAM_FAILED", "transform"),
        _task("notify", "UPSTREAM_FAILED", "publish"),
        _task("audit", "SUCCESS", "ingest"),
    )
    plan = repair_plan(run)
    assert plan is not None
    assert plan.tasks == ("ingest", "transform", "publish", "notify", "audit")
    assert plan.default == ("transform", "publish", "notify")


def test_an_excluded_branch_is_not_offered_and_a_success_with_failures_is_repairable() -> None:
    run = _run(
        "SUCCESS_WITH_FAILURES",
        _task("gate", "SUCCESS"),
        _task("skipped_branch", "EXCLUDED", "gate"),
        _task("load", "FAILED", "gate"),
        _task("cleanup", "SUCCESS", "load"),  # ALL_DONE: ran anyway, and runs again after load
    )
    plan = repair_plan(run)
    assert plan is not None and plan.default == ("load", "cleanup")


def test_runs_that_cannot_be_repaired() -> None:
    assert repair_plan(None) is None
    assert repair_plan(_run("SUCCESS", _task("a", "SUCCESS"))) is None
    running = Run.from_api({"run_id": 1, "job_id": 1, "state": {"life_cycle_state": "RUNNING"}})
    assert repair_plan(running) is None
    canceled = _run("CANCELED", _task("a", "CANCELED"))
    assert repair_plan(canceled) is None  # nothing in it failed


def test_a_run_without_tasks_is_repaired_whole() -> None:
    plan = repair_plan(_run("FAILED"))
    assert plan is not None and plan.tasks == () and plan.default == ()


def test_real_shaped_runs_offer_what_failed() -> None:
    offered = []
    for path in sorted(FIXTURES.glob("*.json")):
        data = json.loads(path.read_text())
        run = Run.from_api(data.get("response", data) if isinstance(data, dict) else data)
        plan = repair_plan(run)
        if plan is not None:
            assert set(plan.default) <= set(plan.tasks), path.name
            assert all(t.task_key in plan.default for t in run.failed_tasks), path.name
            offered.append(path.stem)
    assert {"success_with_failures", "timed_out"} <= set(offered), offered
    assert "retried_task" not in offered  # it succeeded on its second attempt: nothing to repair


def test_task_keys() -> None:
    assert check_task_keys(None) is None
    assert check_task_keys(["b", "a", "b"]) == ["b", "a"]
    assert check_task_keys(("x",)) == ["x"]
    for bad in ("a", b"a", [], [""], ["  "], [1], ["x" * 101], {"a": 1}, ["a"] * 0 + [None], 5):
        with pytest.raises(ParamsError) as info:
            check_task_keys(bad)
        assert "\n" not in str(info.value) and info.value.key == "tasks"
    with pytest.raises(ParamsError):
        check_task_keys([f"t{i}" for i in range(1001)])
