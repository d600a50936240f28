"""The panel snapshot carries what Python decided: labels, tones, duration texts, limits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from jobs_widgets._present import LIMITS, format_timestamp, state_label, state_tone
from jobs_widgets._snapshot import (
    build_snapshot,
    eta_snapshot,
    health_snapshot,
    history_snapshot,
    run_snapshot,
)
from jobs_widgets.core.eta import Eta
from jobs_widgets.core.models import Run, RunOutput, TaskOutput
from jobs_widgets.core.states import RunState

NOW_S = 1_714_564_800.0
START = int(NOW_S * 1000) - 65_000


@dataclass
class Health:
    """Any object with these fields will do (core's Health is one)."""

    status: str = "ok"
    message: str = ""
    next_retry_at: float | None = None


def running() -> Run:
    return Run.from_api(
        {
            "run_id": 5,
            "job_id": 7,
            "state": {"life_cycle_state": "RUNNING"},
            "start_time": START,
            "trigger": "PERIODIC",
            "tasks": [
                {"task_key": "a", "state": {"life_cycle_state": "RUNNING"}, "start_time": START},
                {"task_key": "b", "state": {"life_cycle_state": "BLOCKED"}, "start_time": START},
                {"task_key": "c", "state": {"life_cycle_state": "PENDING"}},
            ],
        }
    )


def finished(result: str = "CANCELED", trace_lines: int = 0) -> tuple[Run, RunOutput | None]:
    run = Run.from_api(
        {
            "run_id": 4,
            "job_id": 7,
            "state": {
                "life_cycle_state": "TERMINATED",
                "result_state": result,
                "state_message": "m" * 10_000,
            },
            "start_time": START - 3_723_000,
            "end_time": START,
            "tasks": [
                {
                    "task_key": "t",
                    "state": {"life_cycle_state": "TERMINATED", "result_state": result},
                    "start_time": START - 3_723_000,
                    "end_time": START - 3_000_000,
                }
            ],
        }
    )
    trace = "\n".join(f"frame {i}" for i in range(trace_lines)) or None
    output = RunOutput(4, run.state, (TaskOutput("t", 1, run.state, error="E", error_trace=trace),))
    return run, output


def snapshot(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "key": "etl",
        "job_id": 7,
        "info": None,
        "run": running(),
        "output": None,
        "history": [running(), finished()[0]],
        "eta": None,
        "health": Health(),
        "error": "",
        "params_schema": None,
        "pending": "",
        "now_s": NOW_S,
        "rate": 10.0,
    }
    args.update(overrides)
    return build_snapshot(**args)


def test_runs_tasks_and_history_say_how_they_read() -> None:
    snap = snapshot()
    json.dumps(snap)
    run = snap["run"]
    assert (run["label"], run["tone"], run["duration_text"], run["ticks"]) == (
        "Running",
        "active",
        "1m 05s",
        True,
    )
    assert run["trigger_text"] == "Periodic" and run["start_text"] == format_timestamp(START)
    tasks = {t["task_key"]: t for t in run["tasks"]}
    assert (tasks["a"]["duration_text"], tasks["a"]["ticks"]) == ("1m 05s", True)
    assert (tasks["b"]["duration_text"], tasks["b"]["ticks"]) == ("", False)  # blocked: no time of its own
    assert (tasks["c"]["label"], tasks["c"]["tone"], tasks["c"]["duration_text"]) == (
        "Pending",
        "waiting",
        "",
    )
    active, over = snap["history"]
    assert (active["label"], active["duration_text"]) == ("Running", "")  # the strip does not tick
    assert (over["label"], over["tone"], over["duration_text"]) == ("Canceled", "warn", "1h 02m")
    assert "ticks" not in over


@pytest.mark.parametrize("state", list(RunState))
def test_every_state_gets_pythons_label_and_tone(state: RunState) -> None:
    run = Run(run_id=1, job_id=1, state=state)
    shown = run_snapshot(run)
    assert shown is not None and (shown["label"], shown["tone"]) == (state_label(state), state_tone(state))


def test_a_finished_run_uses_its_own_times_whatever_the_clock() -> None:
    run, _ = finished()
    for now_s in (None, 0.0, NOW_S * 10):
        shown = run_snapshot(run, None, now_s)
        assert shown is not None and shown["duration_text"] == "1h 02m" and shown["ticks"] is False


def test_a_run_on_another_clock_has_no_duration_rather_than_a_wrong_one() -> None:
    shown = run_snapshot(running(), None, NOW_S - 3600)  # the workspace is an hour ahead
    assert shown is not None and shown["duration_text"] == "" and shown["ticks"] is True
    assert run_snapshot(running(), None, None)["duration_text"] == ""  # type: ignore[index]


def test_texts_are_held_to_pythons_limits_and_the_trace_tail_is_titled() -> None:
    run, output = finished("FAILED", trace_lines=500)
    shown = run_snapshot(run, output, NOW_S)
    assert shown is not None and len(shown["state_message"]) == LIMITS["message"]
    failure = shown["failure"]
    lines = failure["error_trace"].splitlines()
    assert len(lines) == LIMITS["trace_lines"] and lines[-1] == "frame 499"
    assert failure["error_trace_title"] == "Stack trace (last 60 of 500 lines)"
    run, output = finished("FAILED")
    assert run_snapshot(run, output)["failure"]["error_trace_title"] is None  # type: ignore[index]


def test_unsafe_urls_are_dropped() -> None:
    run = Run.from_api({"run_id": 1, "job_id": 1, "run_page_url": "javascript:alert(1)"})
    assert run_snapshot(run)["run_page_url"] is None  # type: ignore[index]
    assert history_snapshot([run])[0]["run_page_url"] is None


def test_eta_and_health() -> None:
    eta = Eta.from_durations([240, 300, 300, 360])
    shown = eta_snapshot(eta)
    assert shown is not None and shown["text"].startswith("usually takes ") and shown["p50_ms"] == 300_000
    stopped = health_snapshot(Health("stopped", "Stopped following: the jobs_widgets runtime was closed"))
    assert stopped == {
        "status": "stopped",
        "message": "Stopped following: the jobs_widgets runtime was closed",
        "next_retry_at": None,
    }
    assert health_snapshot(Health("degraded", "x" * 5000, NOW_S))["message"].endswith("…")
    assert health_snapshot(Health("paused"))["status"] == "degraded"  # never hidden as ok


def test_pending_detail_only_for_a_panel_that_has_the_trait() -> None:
    traits = {"job", "run", "history", "eta", "health", "error", "params_schema", "pending", "clock"}
    assert set(snapshot()) == traits  # today's JobPanel: the same traits as before
    assert snapshot(pending="cancel", pending_detail="")["pending_detail"] == "Cancelling…"
    detail = "cancel of run 5225 — waiting for the workspace"
    assert snapshot(pending="cancel", pending_detail=detail)["pending_detail"] == detail
    assert snapshot(pending="", pending_detail=detail)["pending_detail"] == ""
    assert snapshot()["clock"] == {"now_ms": NOW_S * 1000, "rate": 10.0}
