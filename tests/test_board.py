"""JobsBoard's Python side: rows, actions, errors, visibility, fallbacks and ownership (no browser)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from jobs_widgets import JobsBoard
from jobs_widgets._board_rows import board_text, schedule_text
from jobs_widgets.core import Jobs, RunState, UnknownJobError
from jobs_widgets.core.jobfeed import JobView
from jobs_widgets.core.models import Run
from jobs_widgets.core.runtime import Runtime
from jobs_widgets.sandbox import Sandbox
from jobs_widgets.widget import JobPanel

DEADLINE_S = 10.0


@pytest.fixture
def live() -> Iterator[Sandbox]:
    with Sandbox(seed=11) as sb:
        yield sb


@pytest.fixture
def jobs(live: Sandbox) -> Iterator[Jobs]:
    runtime = Runtime()
    registry = Jobs.from_env(config=live.config(), env=live.env(), runtime=runtime)
    yield registry
    registry.close()
    runtime.close()


def until(predicate: Callable[[], bool]) -> None:
    """Against the real sandbox, with a deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def send(board: JobsBoard, content: Any) -> None:
    board._on_frontend_msg(board, content, [])


def loaded(board: JobsBoard) -> bool:
    return bool(board.jobs) and all(row["loaded"] for row in board.jobs)


def test_rows_say_state_strip_stats_and_are_json(jobs: Jobs) -> None:
    board = JobsBoard(jobs=jobs, interval=3600)
    until(lambda: loaded(board))
    rows = {row["key"]: row for row in board.jobs}
    assert list(rows) == jobs.keys()
    json.dumps(board.jobs)
    etl = rows["etl"]
    assert etl["name"] and etl["run"] is not None and etl["strip"]
    assert etl["run"]["label"] and etl["run"]["tone"]
    assert 0 <= etl["success_rate"] <= 1 and etl["finished"] >= len(
        [s for s in etl["strip"] if s["duration_ms"]]
    )
    assert etl["median_text"] and etl["eta"]["text"]
    board.close()


def test_run_action_starts_a_run_and_the_board_shows_it(jobs: Jobs) -> None:
    board = JobsBoard(["etl", "report"], jobs=jobs, interval=3600)
    until(lambda: loaded(board))
    send(board, {"kind": "run", "key": "report"})
    until(lambda: (run := board.jobs[1]["run"]) is not None and run["active"] is True)
    run_id = board.jobs[1]["run"]["run_id"]
    assert jobs("report").get_run(run_id).state.is_active
    assert board.pending == "" and board.error == ""
    board.close()


def test_open_action_shows_a_panel_of_that_run_under_the_board(jobs: Jobs) -> None:
    board = JobsBoard(["etl"], jobs=jobs, interval=3600)
    until(lambda: loaded(board))
    run_id = board.jobs[0]["run"]["run_id"]
    send(board, {"kind": "open", "key": "etl", "run_id": run_id})
    panel = board.panel
    assert isinstance(panel, JobPanel) and panel.run_id == run_id and board.opened == "etl"
    shown = board.panels.outputs[0]["data"]["application/vnd.jupyter.widget-view+json"]
    assert shown["model_id"] == panel.model_id
    board.open_panel("etl")
    assert panel.follower.closed  # the board closed the panel it replaced
    board.close()
    assert board.panel is None and board.feed.closed


def test_bad_input_gets_one_line(jobs: Jobs) -> None:
    with pytest.raises(UnknownJobError):
        JobsBoard(["nope"], jobs=jobs)
    board = JobsBoard(["etl"], jobs=jobs, interval=3600)
    send(board, {"kind": "run", "key": "train"})
    assert board.error == "'train' is not on this board (it shows: etl)"
    send(board, {"kind": "launch"})
    assert board.error == "unknown board command 'launch'"
    send(board, {"kind": "open", "key": "etl", "run_id": -3})
    assert "\n" not in board.error and board.error
    board.close()


def test_hidden_board_sends_nothing(live: Sandbox, jobs: Jobs) -> None:
    board = JobsBoard(jobs=jobs, interval=0.2)
    until(lambda: loaded(board))
    send(board, {"kind": "visibility", "visible": False})
    time.sleep(0.3)  # a look in flight ends
    live.clear_requests()
    time.sleep(1.0)  # five intervals
    assert live.requests == []
    send(board, {"kind": "visibility", "visible": True})
    until(lambda: len(live.requests) >= len(jobs.keys()))
    board.close()


def test_closing_the_registry_ends_the_board(jobs: Jobs) -> None:
    board = JobsBoard(["etl"], jobs=jobs, interval=3600)
    until(lambda: loaded(board))
    jobs.close()
    until(lambda: board.closed)
    assert "(closed)" in repr(board)
    board.close()


def _run(run_id: int, state: RunState, duration_s: float | None) -> Run:
    return Run(run_id=run_id, job_id=1, state=state, duration_s=duration_s, start_ms=1_700_000_000_000)


def test_text_fallback_is_compact_and_truthful() -> None:
    runs = [_run(5, RunState.RUNNING, None)] + [_run(4 - i, RunState.SUCCEEDED, 60.0 + i) for i in range(3)]
    runs.append(_run(0, RunState.FAILED, 3.0))
    views = [
        JobView(
            "etl",
            1,
            "Nightly ETL",
            {"cron": "0 0 2 * * ?", "timezone": "UTC", "paused": False},
            runs,
            "",
            True,
        ),
        JobView("new", 2, "", None, [], "", True),
    ]
    text = board_text(views, 1_700_000_030.0)
    lines = text.splitlines()
    assert lines[0] == "Jobs board: 2 job(s)"
    etl = next(line for line in lines if line.startswith("etl"))
    assert "Running" in etl and " 5 " in etl and "30s" in etl and "75% of 4" in etl
    assert "x+++>" in etl and "cron 0 0 2 * * ? (UTC), next 2023-11-1" in etl
    assert "no runs yet" in next(line for line in lines if line.startswith("new"))
    paused = {"cron": "0 0 * * * ?", "timezone": "Europe/Paris", "paused": True}
    assert schedule_text(paused, 1_700_000_030.0) == "cron 0 0 * * * ? (Europe/Paris), paused"
    odd = {"cron": "0 0 2 L * ?", "timezone": "UTC", "paused": False}
    assert schedule_text(odd, 1_700_000_030.0) == "cron 0 0 2 L * ? (UTC)"  # said as is, no guessed time


def test_mimebundle_has_text_html_and_the_widget(jobs: Jobs) -> None:
    board = JobsBoard(["etl"], jobs=jobs, interval=3600)
    until(lambda: loaded(board))
    data, _ = board._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["text/plain"].startswith("Jobs board: 1 job(s)") and "etl" in data["text/plain"]
    assert "<table" in data["text/html"] and "mathjax_ignore" in data["text/html"]
    board.close()
