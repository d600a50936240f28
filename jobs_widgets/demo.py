"""The demo: the embedded sandbox, driven end to end.

``--scripted`` drives the sandbox with the real databricks-sdk only (no notebook) and
prints what happens: a run that succeeds, one that fails with its error, one that is
cancelled. It needs nothing beyond the package itself.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from jobs_widgets.sandbox import Sandbox

_Print = Callable[[str], None]


def _follow(
    w: Any,
    run_id: int,
    out: _Print,
    *,
    deadline_s: float = 120.0,
    on_state: Callable[[str], None] | None = None,
) -> Any:
    """Poll one run with the SDK, printing each state change, until it ends."""
    last = None
    start = time.monotonic()
    while time.monotonic() - start < deadline_s:
        run = w.jobs.get_run(run_id)
        life = run.state.life_cycle_state.value if run.state and run.state.life_cycle_state else "?"
        result = run.state.result_state.value if run.state and run.state.result_state else ""
        label = f"{life} {result}".strip()
        if label != last:
            tasks = ", ".join(
                f"{t.task_key}={(t.state.result_state or t.state.life_cycle_state).value}"
                for t in run.tasks
                if t.state
            )
            out(f"  run {run_id}: {label:<22} [{tasks}]")
            last = label
            if on_state is not None:
                on_state(life)
        if life in {"TERMINATED", "SKIPPED", "INTERNAL_ERROR"}:
            return run
        time.sleep(0.25)
    raise TimeoutError(f"run {run_id} did not finish within {deadline_s:g} s")


def run_scripted(speed: float = 10.0, out: _Print = print) -> int:
    """A short story on the sandbox, told through databricks-sdk calls."""
    with Sandbox(speed=speed, seed=7) as sb:
        w = sb.client()
        out(f"Sandbox workspace at {sb.host} (speed {speed:g}x); jobs:")
        for job in w.jobs.list():
            out(f"  {job.job_id}  {job.settings.name if job.settings else ''}")

        out("\n1. orders-etl with notebook parameters, followed to the end:")
        sb.engine.script("etl", outcome="SUCCESS")
        run_id = w.jobs.run_now(
            sb.jobs["etl"], notebook_params={"date": "2026-01-31", "env": "dev"}
        ).response.run_id
        run = _follow(w, run_id, out)
        out(f"  took {run.run_duration / 1000:.1f} simulated s; page: {run.run_page_url}")

        out("\n2. churn-model-training, which fails; its error comes from the task's output:")
        sb.engine.script("train", outcome="FAILED", duration_s=20)
        run_id = w.jobs.run_now(sb.jobs["train"], python_named_params={"epochs": "3"}).response.run_id
        run = _follow(w, run_id, out)
        task = run.tasks[0]
        output = w.jobs.get_run_output(task.run_id)
        out(f"  state message: {run.state.state_message}")
        out(f"  error: {output.error}")

        out("\n3. weekly-revenue-report, cancelled while it runs:")
        sb.engine.script("report", duration_s=600)
        run_id = w.jobs.run_now(sb.jobs["report"], sql_params={"region": "emea"}).response.run_id

        def cancel_when_running(life: str) -> None:
            if life == "RUNNING":
                out(f"  -> cancelling run {run_id}")
                w.jobs.cancel_run(run_id)

        run = _follow(w, run_id, out, on_state=cancel_when_running)
        out(f"\nDone: {len(sb.requests)} API requests served.")
    return 0


def main(*, headless: bool = False, speed: float = 1.0, scripted: bool = False) -> int:
    """Entry point of ``jobs-widgets demo``."""
    if not (scripted or headless):
        print(
            "jobs-widgets demo: the notebook tour is not available yet; running the scripted tour.",
            file=sys.stderr,
        )
    return run_scripted(speed=max(speed, 10.0))
