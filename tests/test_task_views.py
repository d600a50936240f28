"""The task timeline and runs x tasks matrix (issue 13): their data, traits and text, no browser.

Runs come from the sandbox through the real databricks-sdk client (a panel on a
virtual clock), or from API-shaped dicts fed through the run model (phases the
sandbox does not send: queue/setup/cleanup durations of a task).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from jobs_widgets._render_tasks import MAX_ROWS, matrix_text, timeline_note, timeline_text
from jobs_widgets.core import JobInfo, ParamsError, Run
from jobs_widgets.core.eta import Eta
from jobs_widgets.core.taskviews import dependency_order, matrix_view, timeline_view
from jobs_widgets.widget import JobPanel

from tests.core.conftest import World, virtual_world
from tests.test_magics import ip, jobs, shell  # noqa: F401  (ip and shell are fixtures)


@pytest.fixture
def world() -> Iterator[World]:
    with virtual_world() as w:
        yield w


def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def _task(
    key: str, run_id: int, result: str | None, start: int, end: int, **extra: object
) -> dict[str, object]:
    life = "TERMINATED" if result else "RUNNING"
    state: dict[str, object] = {"life_cycle_state": life}
    if result:
        state["result_state"] = result
    return {"task_key": key, "run_id": run_id, "state": state, "start_time": start, "end_time": end, **extra}


def _run(
    run_id: int, tasks: list[dict[str, object]], result: str | None = "SUCCESS", start: int = 1000
) -> Run:
    state: dict[str, object] = {"life_cycle_state": "TERMINATED" if result else "RUNNING"}
    if result:
        state["result_state"] = result
    ends = [int(t["end_time"]) for t in tasks if t["end_time"]]  # type: ignore[call-overload]
    return Run.from_api(
        {
            "job_id": 7,
            "run_id": run_id,
            "state": state,
            "start_time": start,
            "end_time": max(ends) if result and ends else 0,
            "tasks": tasks,
        }
    )


def test_timeline_orders_by_dependency_and_keeps_phases_usual_and_slow() -> None:
    run = _run(
        10,
        [
            _task("publish", 13, "SUCCESS", 70_000, 90_000, depends_on=[{"task_key": "transform"}]),
            _task(
                "transform",
                12,
                "SUCCESS",
                20_000,
                70_000,
                depends_on=[{"task_key": "ingest"}],
                queue_duration=2_000,
                setup_duration=8_000,
                execution_duration=38_000,
                cleanup_duration=2_000,
            ),
            _task("ingest", 11, "SUCCESS", 1_000, 20_000),
        ],
    )
    usual = {
        "transform": Eta.from_durations([20, 21, 22, 19, 20]),
        "ingest": Eta.from_durations([18, 19, 20]),
    }
    view = timeline_view(run, {k: v for k, v in usual.items() if v is not None})
    assert view is not None
    bars = {b["key"]: b for b in view["tasks"]}
    assert [b["key"] for b in view["tasks"]] == ["ingest", "transform", "publish"]
    assert bars["transform"]["phases"] == {"queue": 2000, "setup": 8000, "execution": 38000, "cleanup": 2000}
    assert bars["ingest"]["phases"] is None  # execution alone: the bar is start..end
    assert bars["transform"]["slow"] and bars["transform"]["usual_ms"] == 20_000  # 50 s against ~20 s
    assert not bars["ingest"]["slow"] and bars["publish"]["usual_ms"] is None
    assert bars["publish"]["depends_on"] == ["transform"]
    assert view["start_ms"] == 1000 and view["end_ms"] == 90_000
    json.dumps(view)


def test_timeline_of_a_running_run_lists_tasks_still_to_come_and_for_each_progress() -> None:
    foreach = _task(
        "per_region",
        21,
        None,
        5_000,
        0,
        for_each_task={"stats": {"task_run_stats": {"total_iterations": 8, "completed_iterations": 3}}},
    )
    run = _run(20, [_task("ingest", 22, "SUCCESS", 1_000, 5_000), foreach], result=None)
    info = JobInfo.from_api(
        {
            "job_id": 7,
            "settings": {
                "tasks": [
                    {"task_key": "ingest"},
                    {"task_key": "per_region", "depends_on": [{"task_key": "ingest"}]},
                    {"task_key": "report", "depends_on": [{"task_key": "per_region"}]},
                ]
            },
        }
    )
    view = timeline_view(run, {}, info=info, now_ms=65_000)
    assert view is not None and not view["is_terminal"] and view["end_ms"] == 65_000
    bars = {b["key"]: b for b in view["tasks"]}
    assert list(bars) == ["ingest", "per_region", "report"]
    assert bars["per_region"]["state"] == "RUNNING" and bars["per_region"]["elapsed_ms"] == 60_000
    assert bars["per_region"]["iterations"] == {"total": 8, "completed": 3}
    assert bars["report"]["state"] == "PENDING" and bars["report"]["start_ms"] is None
    text = timeline_text(view, now_ms=65_000)
    assert "3/8 iterations" in text and "Running 1m" in text and text.count("\n") == 2
    assert timeline_view(None, {}) is None


def test_dependency_order_survives_cycles_and_unknown_keys() -> None:
    assert dependency_order(["c", "b", "a"], {"c": ["b"], "b": ["a", "zz"]}) == ["a", "b", "c"]
    assert sorted(dependency_order(["a", "b"], {"a": ["b"], "b": ["a"]})) == ["a", "b"]


def test_matrix_columns_oldest_first_with_codes_durations_and_missing_cells() -> None:
    old = _run(1, [_task("a", 11, "SUCCESS", 1000, 4000), _task("b", 12, "FAILED", 4000, 5000)], "FAILED")
    new = _run(2, [_task("a", 21, "SUCCESS", 9000, 10_000)], start=9000)
    view = matrix_view([new, old])  # runs/list order: newest first
    assert [r["run_id"] for r in view["runs"]] == [1, 2] and view["tasks"] == ["a", "b"]
    states = [o[0] for o in view["outcomes"]]
    assert [states[c] for c in view["cells"][0]] == ["SUCCEEDED", "SUCCEEDED"]
    assert states[view["cells"][1][0]] == "FAILED" and view["cells"][1][1] == -1
    assert view["durations"][0] == [3000, 1000] and view["durations"][1] == [1000, None]
    text = matrix_text(view)
    assert text.splitlines()[1:] == ["a                  ++", "b                  x "]


def test_matrix_of_200_runs_by_50_tasks_stays_a_small_message() -> None:
    tasks = [_task(f"t{i:02}", i, "SUCCESS", 0, 1000 + i) for i in range(50)]
    runs = [_run(n, tasks, start=n * 10_000) for n in range(200)]
    view = matrix_view(runs)
    assert len(view["runs"]) == 200 and len(view["cells"]) == 50 and len(view["cells"][0]) == 200
    size = len(json.dumps(view))
    assert size < 150_000, size
    assert matrix_text(view).count("\n") == MAX_ROWS + 1


def test_panel_traits_carry_the_timeline_and_the_matrix(world: World) -> None:
    panel = JobPanel(world.jobs("etl"), matrix_runs=30)
    try:
        assert panel.wait_idle()
        until(lambda: panel.timeline is not None and bool(panel.matrix.get("runs")))
        assert [b["key"] for b in panel.timeline["tasks"]] == ["ingest", "transform", "publish"]
        assert panel.timeline["run_id"] == panel.run["run_id"]
        assert panel.matrix["tasks"] == ["ingest", "transform", "publish"]
        assert len(panel.matrix["runs"]) == len(panel.follower.state().history) >= 12
        assert len(panel.history) <= 15  # the strip keeps its size; the matrix gets more
        assert panel.matrix["runs"][-1]["run_id"] == panel.history[0]["run_id"]
        data, _ = panel._repr_mimebundle_()
        assert "ingest" in data["text/plain"] and "transform" in data["text/html"]
    finally:
        panel.close()


def test_panel_timeline_follows_a_running_run_to_its_end(world: World) -> None:
    world.sb.engine.script("etl", duration_s=600)
    panel = JobPanel(world.jobs("etl"))
    try:
        panel.wait_idle()
        panel._on_frontend_msg(panel, {"kind": "run", "params": {}}, [])
        until(lambda: panel.timeline is not None and not panel.timeline["is_terminal"])
        until(lambda: any(b["state"] == "RUNNING" for b in panel.timeline["tasks"]), timeout=20)
        until(lambda: panel.timeline["is_terminal"], timeout=20)
        assert all(b["state"] == "SUCCEEDED" for b in panel.timeline["tasks"])
        assert panel.matrix["runs"][-1]["run_id"] == panel.timeline["run_id"]
    finally:
        panel.close()


def test_matrix_runs_is_checked(world: World) -> None:
    with pytest.raises(ParamsError, match="limit must be an integer from 1 to 1000"):
        JobPanel(world.jobs("etl"), matrix_runs=0)


def test_views_word_outcomes_as_the_panel_does() -> None:
    from jobs_widgets._present import outcome

    run = _run(
        3,
        [
            _task("a", 31, "FAILED", 1000, 2000),
            _task("b", 32, "UPSTREAM_FAILED", 2000, 2000, depends_on=[{"task_key": "a"}]),
        ],
        "FAILED",
    )
    timeline = timeline_view(run, {}, outcome=outcome)
    assert timeline is not None
    assert [(b["label"], b["tone"]) for b in timeline["tasks"]] == [
        ("Failed", "error"),
        ("Upstream failed", "neutral"),
    ]
    view = matrix_view([run], outcome=outcome)
    assert [view["outcomes"][row[0]][1:] for row in view["cells"]] == [
        ["Failed", "error"],
        ["Upstream failed", "neutral"],
    ]
    assert view["runs"][0]["label"] == "Failed"
    assert matrix_text(view).splitlines()[1:] == ["a                  x", "b                  ."]
    assert "Upstream failed" in timeline_text(timeline)


def test_status_note_names_tasks_slower_than_usual_worst_first() -> None:
    run = _run(
        4,
        [
            _task("a", 41, "SUCCESS", 1_000, 31_000),
            _task("b", 42, "SUCCESS", 31_000, 41_000, depends_on=[{"task_key": "a"}]),
            _task("c", 43, "SUCCESS", 41_000, 101_000, depends_on=[{"task_key": "b"}]),
        ],
    )
    usual = {
        "a": Eta.from_durations([10, 11, 12]),
        "b": Eta.from_durations([10, 11, 12]),
        "c": Eta.from_durations([10, 11, 12]),
    }
    note = timeline_note(timeline_view(run, {k: v for k, v in usual.items() if v is not None}))
    assert note == "Timeline: 3 tasks over 1m 40s; slower than usual: c 1m 00s (usual 11s), a 30s (usual 11s)"
    assert timeline_note(timeline_view(_run(5, [_task("a", 51, "SUCCESS", 0, 1000)]), {})) == ""


def test_jobs_status_of_a_multi_task_run_says_its_timeline(ip: Any) -> None:  # noqa: F811
    status = jobs(ip, "status etl")
    assert status.note.startswith("Timeline: 3 tasks over ")
    assert status.note in repr(status) and status.note in status._repr_html_()
    assert jobs(ip, "status report").note is None  # one task: the headline says it all
