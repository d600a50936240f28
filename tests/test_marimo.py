"""``mo.ui.anywidget(JobPanel("etl"))`` in marimo's own kernel, without a browser.

The marimo app is the shipped demo (notebooks/marimo_demo.py). It runs in marimo's
kernel in a child process (tests/marimo_kernel.py: as ``marimo edit`` runs it), against
a sandbox started here; the child clicks Run and Cancel as marimo's front end sends
them, and reports what the browser would hold: the widget models folded from marimo's
``model-lifecycle`` notifications. The sandbox's own record is the truth.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jobs_widgets.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "notebooks" / "marimo_demo.py"
QUICK = {"queue_s": 0.5, "setup_s": 1.0, "cleanup_s": 1.0}
TRAITS = (
    "job",
    "run",
    "history",
    "eta",
    "health",
    "error",
    "params_schema",
    "pending",
    "pending_detail",
    "clock",
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=0) as sandbox:
        yield sandbox


def run_marimo(
    sb: Sandbox, *steps: str, timeout: float = 30.0, app: Path = APP, board: bool = False
) -> dict[str, Any]:
    env = {**os.environ, **sb.env(), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.marimo_kernel", str(app), *steps, f"--timeout={timeout}"]
        + (["--board"] if board else []),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    assert lines, f"no report (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    report: dict[str, Any] = json.loads(lines[-1])
    assert "error" not in report, f"{report['error']}\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, proc.stderr[-3000:]
    return report


def test_run_and_cancel_reach_marimos_front_end(sb: Sandbox) -> None:
    before = {r.run_id for r in sb.engine.runs_of("etl")}
    latest = max(before)
    sb.engine.script("etl", duration_s=3, outcome="SUCCESS", **QUICK)  # the first click: a short success
    sb.engine.script("etl", duration_s=600, **QUICK)  # the second: runs until cancelled

    report = run_marimo(sb, "run", "running", "terminal", "run", "running", "cancel", "terminal")

    # The panel cell renders a marimo UI element bound to the widget's model, code shipped once.
    assert report["element"] == "marimo._plugins.ui._impl.from_anywidget.anywidget"
    output = report["outputs"][report["cells"][-1]]
    assert "<marimo-anywidget" in output and report["model_id"] in output
    assert report["esm_url"], "marimo's front end is told where the panel's code is"
    assert report["first_run_id"] == latest  # the job's latest run, before any click

    fresh = sorted({r.run_id for r in sb.engine.runs_of("etl")} - before)
    assert len(fresh) == 2, fresh
    done, cancelled = fresh
    assert sb.engine.run(done).result == "SUCCESS" and sb.engine.run(cancelled).result == "CANCELED"
    assert sb.engine.run(cancelled).user_cancelled

    # Every click's run reached the front end, live, in the order it happened.
    assert [(s["step"], s["run_id"], s["state"]) for s in report["steps"]] == [
        ("run", done, report["steps"][0]["state"]),
        ("running", done, "RUNNING"),
        ("terminal", done, "SUCCEEDED"),
        ("run", cancelled, report["steps"][3]["state"]),
        ("running", cancelled, "RUNNING"),
        ("cancel", cancelled, report["steps"][5]["state"]),
        ("terminal", cancelled, "CANCELED"),
    ]
    seen = list(zip(report["run_ids"], report["run_states"], strict=True))
    assert (
        seen.index((done, "RUNNING")) < seen.index((done, "SUCCEEDED")) < seen.index((cancelled, "RUNNING"))
    )
    assert seen[-1] == (cancelled, "CANCELED")

    # What the browser holds is what Python holds, trait by trait.
    front, python = report["front_end"], report["python"]
    for name in TRAITS:
        assert front[name] == python[name], name
    assert front["run"]["label"] == "Canceled" and front["run"]["is_terminal"] is True
    assert front["history"][0]["run_id"] == cancelled
    assert front["error"] == "" and front["pending"] == ""


def test_the_jobs_board_works_in_marimo(sb: Sandbox) -> None:
    """``mo.ui.anywidget(JobsBoard())`` (notebooks/marimo_board.py): every job's row reaches
    marimo's front end, its Run starts a run that the board then follows to its end."""
    before = {r.run_id for r in sb.engine.runs_of("etl")}
    sb.engine.script("etl", duration_s=3, outcome="SUCCESS", **QUICK)
    report = run_marimo(
        sb, "loaded", "run:etl", "ended:etl", app=ROOT / "notebooks" / "marimo_board.py", board=True
    )

    assert report["element"] == "marimo._plugins.ui._impl.from_anywidget.anywidget"
    assert "<marimo-anywidget" in report["outputs"][report["cells"][-1]]
    assert report["esm_url"], "marimo's front end is told where the board's code is"
    front, python = report["front_end"], report["python"]
    assert [r["key"] for r in front["jobs"]] == sorted(sb.jobs) or {r["key"] for r in front["jobs"]} == set(
        sb.jobs
    )
    (fresh,) = {r.run_id for r in sb.engine.runs_of("etl")} - before
    assert report["started"]["etl"] == fresh
    assert sb.engine.run(fresh).result == "SUCCESS"
    etl = next(r for r in front["jobs"] if r["key"] == "etl")
    assert etl["run"]["run_id"] == fresh and etl["run"]["is_terminal"] and etl["run"]["label"] == "Succeeded"
    for name in ("jobs", "pending", "error", "closed"):
        assert front[name] == python[name], name
