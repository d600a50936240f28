"""The JobPanel's state as plain JSON: one pure function from core models to trait values.

Everything the front end shows comes from here, so a reloaded or re-rendered view is
always correct and tests can check the exact state without a browser. Values are
JSON-safe (times in epoch ms), bounded in size, carry no credential, and URLs that
are not http(s) are dropped (the front end also refuses them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jobs_widgets._render import safe_url
from jobs_widgets.core.eta import Eta
from jobs_widgets.core.hub import Health
from jobs_widgets.core.models import JobInfo, Run, RunOutput, TaskRun

MAX_TEXT = 4_000
MAX_TRACE = 20_000
TRACE_LINES = 60
MAX_PARAMS = 100


def _text(value: object, limit: int = MAX_TEXT) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _opt_text(value: object, limit: int = MAX_TEXT) -> str | None:
    return None if value is None else _text(value, limit)


def _trace(text: str | None) -> str | None:
    if not text:
        return None
    tail = "\n".join(text.splitlines()[-TRACE_LINES:])
    return tail if len(tail) <= MAX_TRACE else "…" + tail[-MAX_TRACE:]


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


def job_snapshot(key: str, job_id: int, info: JobInfo | None) -> dict[str, Any]:
    return {
        "key": _text(key, 200),
        "job_id": job_id,
        "name": _opt_text(info.name, 500) if info else None,
        "tasks": [
            {
                "task_key": _text(t.task_key, 500),
                "type": t.task_type,
                "depends_on": [_text(d, 500) for d in t.depends_on],
            }
            for t in (info.tasks if info else ())
        ][:200],
        "url": None,
    }


def task_snapshot(task: TaskRun) -> dict[str, Any]:
    return {
        "task_key": _text(task.task_key, 500),
        "run_id": task.run_id,
        "state": task.state.value,
        "life_cycle_state": task.life_cycle_state,
        "result_state": task.result_state,
        "state_message": _text(task.state_message),
        "start_time": task.start_ms,
        "end_time": task.end_ms,
        "duration_ms": _ms(task.duration_s),
        "attempt": task.attempt,
        "run_page_url": safe_url(task.run_page_url),
        "depends_on": [_text(d, 500) for d in task.depends_on],
    }


def failure_snapshot(run: Run, output: RunOutput | None) -> dict[str, Any] | None:
    """The first failing task's message, error and trace tail (None when nothing failed)."""
    if not run.state.is_failure and not run.failed_tasks:
        return None
    task = run.failed_tasks[0] if run.failed_tasks else None
    task_output = output.task(task.task_key) if (output is not None and task is not None) else None
    if task_output is None and output is not None:
        task_output = next((t for t in output.tasks if t.error), None)
    return {
        "task_key": _opt_text(task.task_key, 500) if task else None,
        "state_message": _text((task.state_message if task else "") or run.state_message),
        "error": _opt_text(task_output.error) if task_output else None,
        "error_trace": _trace(task_output.error_trace) if task_output else None,
    }


def run_snapshot(run: Run | None, output: RunOutput | None = None) -> dict[str, Any] | None:
    if run is None:
        return None
    params = dict(list(run.params.items())[:MAX_PARAMS])
    return {
        "run_id": run.run_id,
        "run_name": _opt_text(run.run_name, 500),
        "state": run.state.value,
        "is_terminal": run.is_terminal,
        "life_cycle_state": run.life_cycle_state,
        "result_state": run.result_state,
        "state_message": _text(run.state_message),
        "termination_code": run.termination_code,
        "trigger": run.trigger,
        "start_time": run.start_ms,
        "end_time": run.end_ms,
        "duration_ms": _ms(run.duration_s) if run.is_terminal else None,
        "run_page_url": safe_url(run.run_page_url),
        "params": {_text(k, 200): _text(v, 1000) for k, v in params.items()},
        "tasks": [task_snapshot(t) for t in run.tasks[:200]],
        "failure": failure_snapshot(run, output),
    }


def history_snapshot(runs: Iterable[Run]) -> list[dict[str, Any]]:
    return [
        {
            "run_id": r.run_id,
            "state": r.state.value,
            "start_time": r.start_ms,
            "duration_ms": _ms(r.duration_s) if r.is_terminal else None,
            "run_page_url": safe_url(r.run_page_url),
        }
        for r in runs
    ]


def eta_snapshot(eta: Eta | None) -> dict[str, Any] | None:
    if eta is None:
        return None
    return {"p10_ms": _ms(eta.p10), "p50_ms": _ms(eta.p50), "p90_ms": _ms(eta.p90), "samples": eta.samples}


def health_snapshot(health: Health) -> dict[str, Any]:
    return {
        "status": health.status,
        "message": _text(health.message, 500),
        "next_retry_at": _ms(health.next_retry_at),
    }


def build_snapshot(
    *,
    key: str,
    job_id: int,
    info: JobInfo | None,
    run: Run | None,
    output: RunOutput | None,
    history: Iterable[Run],
    eta: Eta | None,
    health: Health,
    error: str,
    params_schema: Mapping[str, Any] | None,
    pending: str,
    now_s: float,
    rate: float,
) -> dict[str, Any]:
    """Every synced trait of the panel, from core models (the one place that decides)."""
    return {
        "job": job_snapshot(key, job_id, info),
        "run": run_snapshot(run, output),
        "history": history_snapshot(history),
        "eta": eta_snapshot(eta),
        "health": health_snapshot(health),
        "error": _text(" ".join(error.split()), 1000),
        "params_schema": dict(params_schema) if params_schema is not None else None,
        "pending": pending,
        "clock": {"now_ms": _ms(now_s), "rate": rate},
    }
