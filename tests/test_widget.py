"""JobPanel's Python side: the snapshot, commands, errors, secrets and threads (no browser)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from jobs_widgets._snapshot import build_snapshot, run_snapshot
from jobs_widgets.core import ParamsError, Run, RunOutput, RunState, TaskOutput
from jobs_widgets.core.hub import Health
from jobs_widgets.widget import JobPanel

from tests.core.conftest import World, virtual_world

Setup = World


@pytest.fixture
def setup() -> Iterator[World]:
    with virtual_world() as world:
        yield world


def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def send(panel: JobPanel, content: Any) -> None:
    panel._on_frontend_msg(panel, content, [])


# ---------------------------------------------------------------------------- snapshot
def test_snapshot_is_json_and_complete() -> None:
    raw = {
        "job_id": 7,
        "run_id": 70,
        "state": {
            "life_cycle_state": "TERMINATED",
            "result_state": "FAILED",
            "state_message": "Task b failed",
        },
        "status": {"state": "TERMINATED", "termination_details": {"code": "RUN_EXECUTION_ERROR"}},
        "start_time": 1_000_000,
        "end_time": 1_060_000,
        "run_page_url": "javascript:alert(1)",
        "tasks": [
            {
                "task_key": "a",
                "run_id": 71,
                "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"},
            },
            {
                "task_key": "b",
                "run_id": 72,
                "state": {
                    "life_cycle_state": "TERMINATED",
                    "result_state": "FAILED",
                    "state_message": "boom",
                },
                "run_page_url": "https://x/72",
            },
        ],
    }
    run = Run.from_api(raw)
    trace = "\n".join(f"line {i}" for i in range(500))
    output = RunOutput(
        70, RunState.FAILED, (TaskOutput("b", 72, RunState.FAILED, error="E: boom", error_trace=trace),)
    )
    snap = build_snapshot(
        key="etl",
        job_id=7,
        info=None,
        run=run,
        output=output,
        history=[run],
        eta=None,
        health=Health(),
        error="a\nb",
        params_schema=None,
        pending="",
        now_s=1_100.0,
        rate=1.0,
    )
    json.dumps(snap)  # JSON-safe
    assert set(snap) == {
        "job",
        "run",
        "history",
        "eta",
        "health",
        "error",
        "params_schema",
        "pending",
        "clock",
    }
    shown = snap["run"]
    assert shown["state"] == "FAILED" and shown["duration_ms"] == 60_000 and shown["is_terminal"] is True
    assert shown["run_page_url"] is None  # never a javascript: link
    assert shown["tasks"][1]["run_page_url"] == "https://x/72"
    failure = shown["failure"]
    assert failure["task_key"] == "b" and failure["error"] == "E: boom"
    assert (
        failure["error_trace"].splitlines()[-1] == "line 499"
        and len(failure["error_trace"].splitlines()) == 60
    )
    assert snap["error"] == "a b" and snap["clock"] == {"now_ms": 1_100_000, "rate": 1.0}


def test_snapshot_bounds_huge_texts() -> None:
    run = Run.from_api(
        {"run_id": 1, "job_id": 1, "state": {"life_cycle_state": "RUNNING", "state_message": "x" * 1_000_000}}
    )
    shown = run_snapshot(run)
    assert shown is not None and len(shown["state_message"]) <= 4000


# ---------------------------------------------------------------------------- live panel
def test_panel_loads_job_history_schema_and_latest_run(setup: Setup) -> None:
    panel = JobPanel(setup.jobs("etl"))
    assert panel.wait_idle()
    assert panel.job["name"] == "orders-etl" and [t["task_key"] for t in panel.job["tasks"]] == [
        "ingest",
        "transform",
        "publish",
    ]
    assert (
        len(panel.history) >= 10
        and panel.run is not None
        and panel.run["run_id"] == panel.history[0]["run_id"]
    )
    assert set(panel.params_schema["properties"]) >= {"date", "env", "full_refresh"}
    until(lambda: panel.eta is not None)
    assert panel.eta["samples"] >= 5
    assert panel.health["status"] == "ok" and panel.error == "" and panel.pending == ""
    panel.close()


def test_run_command_starts_a_run_and_follows_it(setup: Setup) -> None:
    setup.sb.engine.script("etl", duration_s=600)
    panel = JobPanel(setup.jobs("etl"))
    panel.wait_idle()
    send(panel, {"kind": "run", "params": {"env": "staging", "full_refresh": True}})
    until(lambda: panel.run is not None and panel.run["params"].get("env") == "staging")
    run_id = panel.run_id
    assert (
        run_id is not None
        and setup.sb.engine.run(run_id).overriding["notebook_params"]["full_refresh"] == "true"
    )
    until(lambda: panel.run["state"] == "SUCCEEDED", timeout=20)
    until(lambda: panel.history[0]["run_id"] == run_id and panel.pending == "")
    panel.close()


def test_params_errors_land_in_the_error_trait(setup: Setup) -> None:
    panel = JobPanel(setup.jobs("etl"))
    panel.wait_idle()
    send(panel, {"kind": "run", "params": {"env": "moon"}})
    until(lambda: panel.error != "" and panel.pending == "")  # traits publish one by one
    assert "Input should be 'dev', 'staging' or 'prod'" in panel.error
    for bad in (
        {"kind": "explode"},
        "not a dict",
        {"kind": "cancel", "run_id": None},
        {"kind": "cancel", "run_id": "12"},
        {"kind": "select"},
        {"kind": "run", "params": [1]},
    ):
        send(panel, bad)
        assert panel.error and "\n" not in panel.error
    panel.close()


def test_cancel_and_repair_commands(setup: Setup) -> None:
    engine = setup.sb.engine
    engine.script("report", duration_s=10**6)  # virtual time runs freely meanwhile
    panel = JobPanel(setup.jobs("report"))
    panel.wait_idle()
    send(panel, {"kind": "run", "params": {}})
    until(lambda: panel.run is not None and not panel.run["is_terminal"] and panel.pending == "")
    run_id = panel.run_id
    assert run_id is not None
    send(panel, {"kind": "cancel"})  # no run id: the run the panel shows
    until(lambda: panel.run["state"] == "CANCELED" and panel.pending == "", timeout=20)
    assert engine.run(run_id).result == "CANCELED"

    engine.script("report", outcome="FAILED", error="SQL error: table missing")
    send(panel, {"kind": "run", "params": {}})
    until(
        lambda: panel.run is not None and panel.run["run_id"] != run_id and panel.run["state"] == "FAILED",
        timeout=20,
    )
    until(lambda: panel.run["failure"] is not None and panel.run["failure"]["error"] is not None)
    assert panel.run["failure"]["error"] == "SQL error: table missing"
    failed_id = panel.run_id
    send(panel, {"kind": "repair", "run_id": failed_id})
    until(lambda: panel.run["state"] == "SUCCEEDED", timeout=20)
    assert engine.run(failed_id).result == "SUCCESS"
    panel.close()


def test_scope_is_kept_by_panel_commands(setup: Setup) -> None:
    other = setup.jobs("train").run_now()
    panel = JobPanel(setup.jobs("etl"))
    panel.wait_idle()
    send(panel, {"kind": "cancel", "run_id": other})
    until(lambda: panel.error != "")
    assert "is not a run of job" in panel.error
    assert not setup.sb.engine.run(other).is_terminal
    panel.close()


def test_select_visibility_refresh(setup: Setup) -> None:
    panel = JobPanel(setup.jobs("etl"))
    panel.wait_idle()
    older = panel.history[3]["run_id"]
    send(panel, {"kind": "select", "run_id": older})
    until(lambda: panel.run_id == older)
    send(panel, {"kind": "visibility", "visible": False})
    send(panel, {"kind": "refresh"})
    until(lambda: panel.pending == "")
    assert panel.error == ""
    panel.close()


def test_no_secret_in_any_trait(setup: Setup) -> None:
    setup.sb.engine.script("etl", outcome="FAILED")
    panel = JobPanel(setup.jobs("etl"))
    panel.wait_idle()
    send(panel, {"kind": "run", "params": {}})
    until(lambda: panel.run is not None and panel.run["state"] == "FAILED", timeout=20)
    panel.wait_idle()
    state = json.dumps(panel.get_state(), default=str)
    assert setup.sb.token not in state and "dapi" not in state and "Bearer" not in state
    panel.close()


def test_trait_updates_from_other_threads(setup: Setup) -> None:
    panel = JobPanel(setup.jobs("report"))
    panel.wait_idle()
    errors: list[BaseException] = []

    def hammer() -> None:
        try:
            for _ in range(50):
                panel.follower._set_health(Health(status="degraded", message="503", next_retry_at=1.0))
                panel.follower._set_health(Health())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and panel.health["status"] == "ok"
    panel.close()


def test_closing_stops_watching(setup: Setup) -> None:
    setup.sb.engine.script("report", duration_s=10**6)  # still running when watching is checked
    panel = JobPanel(setup.jobs("report"))
    panel.wait_idle()
    send(panel, {"kind": "run", "params": {}})
    until(lambda: setup.hub.watching == 1)
    panel.close()
    until(lambda: setup.hub.watching == 0)


def test_text_and_html_fallbacks(setup: Setup) -> None:
    panel = JobPanel(setup.jobs("etl"))
    panel.wait_idle()
    data, _ = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["text/plain"].startswith("<JobPanel etl run ") and "Succeeded" in data["text/plain"]
    assert "jw-static" in data["text/html"] and 'href="http://127.0.0.1' in data["text/html"]
    panel.close()


def test_constructor_validates(setup: Setup) -> None:
    with pytest.raises(ParamsError, match="run_id must be a positive integer"):
        JobPanel(setup.jobs("etl"), run_id=0)
    with pytest.raises(TypeError, match="JobHandle or a job key"):
        JobPanel(42)  # type: ignore[arg-type]
