"""The JobPanel's state as plain JSON: one pure function from core models to trait values.

Everything the front end shows comes from here, so a reloaded or re-rendered view is
always correct and tests can check the exact state without a browser. Values are
JSON-safe (times in epoch ms), bounded in size, carry no credential, and URLs that
are not http(s) are dropped (the front end also refuses them).

How things read (labels, tones, durations, times, trace tails, text limits) is
decided by :mod:`jobs_widgets._present` and sent ready to show: each run, task and
history entry carries ``label``, ``tone``, ``duration_text`` and ``ticks`` (whether
the front end counts the duration up live, on the jobs' clock in ``clock``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from jobs_widgets._facts import run_facts
from jobs_widgets._present import (
    AWAITING_LABEL,
    AWAITING_MESSAGE,
    LIMITS,
    busy_text,
    clip,
    eta_text,
    format_duration_ms,
    format_timestamp,
    humanize,
    outcome,
    safe_url,
    shown_duration_ms,
    since_ms,
    task_detail,
    ticks,
    trace_tail,
    trace_title,
)
from jobs_widgets._render_nested import Nested, nested_snapshot
from jobs_widgets.core.models import JobInfo, Run, RunOutput, TaskRun
from jobs_widgets.core.repairs import repair_plan
from jobs_widgets.core.states import RunState

MAX_PARAMS = 100
MAX_TASKS = 200
HEALTH_STATUSES = frozenset({"ok", "degraded", "stopped"})


class HealthLike(Protocol):
    """What the snapshot reads of the connection's health (core's ``Health``)."""

    @property
    def status(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def next_retry_at(self) -> float | None: ...


class EtaLike(Protocol):
    """What the snapshot reads of a job's usual duration (core's ``Eta``, seconds)."""

    @property
    def p10(self) -> float: ...
    @property
    def p50(self) -> float: ...
    @property
    def p90(self) -> float: ...
    @property
    def samples(self) -> int: ...


def _text(value: object, limit: int = LIMITS["message"]) -> str:
    return clip("" if value is None else value, limit)


def _opt_text(value: object, limit: int = LIMITS["message"]) -> str | None:
    return None if value is None else _text(value, limit)


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


def _now_ms(now_s: float | None) -> float | None:
    return None if now_s is None else now_s * 1000


def _shown(item: Run | TaskRun) -> dict[str, Any]:
    label, tone = outcome(item)
    return {"label": label, "tone": tone}


def _timing(item: Run | TaskRun, now_s: float | None) -> dict[str, Any]:
    return {
        "duration_text": format_duration_ms(shown_duration_ms(item, _now_ms(now_s))),
        "ticks": ticks(item),
    }


def job_snapshot(key: str, job_id: int, info: JobInfo | None) -> dict[str, Any]:
    name = LIMITS["name"]
    return {
        "key": _text(key, name),
        "job_id": job_id,
        "name": _opt_text(info.name, name) if info else None,
        "tasks": [
            {
                "task_key": _text(t.task_key, name),
                "type": t.task_type,
                "type_text": humanize(t.task_type),
                "depends_on": [_text(d, name) for d in t.depends_on],
            }
            for t in (info.tasks if info else ())
        ][:MAX_TASKS],
        "url": None,
    }


def task_snapshot(task: TaskRun, now_s: float | None = None) -> dict[str, Any]:
    return {
        "task_key": _text(task.task_key, LIMITS["name"]),
        "run_id": task.run_id,
        "state": task.state.value,
        **_shown(task),
        "detail": task_detail(task),
        "life_cycle_state": task.life_cycle_state,
        "result_state": task.result_state,
        "state_message": _text(task.state_message),
        "start_time": task.start_ms,
        "end_time": task.end_ms,
        "duration_ms": _ms(task.duration_s),
        **_timing(task, now_s),
        "attempt": task.attempt,
        "run_page_url": safe_url(task.run_page_url),
        "depends_on": [_text(d, LIMITS["name"]) for d in task.depends_on],
    }


def failure_snapshot(run: Run, output: RunOutput | None) -> dict[str, Any] | None:
    """The first failing task's message, error and trace tail (None when nothing failed)."""
    if not run.state.is_failure and not run.failed_tasks:
        return None
    task = run.failed_tasks[0] if run.failed_tasks else None
    task_output = output.task(task.task_key) if (output is not None and task is not None) else None
    if task_output is None and output is not None:
        task_output = next((t for t in output.tasks if t.error), None)
    trace = task_output.error_trace if task_output else None
    tail = trace_tail(trace)
    message = (task.state_message if task else "") or run.state_message
    error = task_output.error if task_output else None
    return {
        "task_key": _opt_text(task.task_key, LIMITS["name"]) if task else None,
        "state_message": _text(message),
        # a workspace often quotes the error in the message: the view then says it once
        "message_repeats_error": bool(error and error.strip() and error.strip() in message),
        "error": _opt_text(error),
        "error_trace": tail or None,
        "error_trace_title": trace_title(trace) if tail else None,
    }


def run_snapshot(
    run: Run | None, output: RunOutput | None = None, now_s: float | None = None
) -> dict[str, Any] | None:
    """The shown run; ``now_s`` (the jobs' clock, epoch seconds) dates a running run's
    ``duration_text`` (without it, only a finished run's duration is given)."""
    if run is None:
        return None
    params = dict(list(run.params.items())[:MAX_PARAMS])
    plan = repair_plan(run)
    return {
        "run_id": run.run_id,
        "known": True,
        "run_name": _opt_text(run.run_name, LIMITS["name"]),
        "state": run.state.value,
        **_shown(run),
        "is_terminal": run.is_terminal,
        "life_cycle_state": run.life_cycle_state,
        "result_state": run.result_state,
        "state_message": _text(run.state_message),
        "termination_code": run.termination_code,
        "trigger": run.trigger,
        "trigger_text": humanize(run.trigger),
        "start_time": run.start_ms,
        "start_text": format_timestamp(run.start_ms),
        "since_time": since_ms(run),
        "repairing": not run.is_terminal and run.repair_started_ms is not None,
        "end_time": run.end_ms,
        "duration_ms": _ms(run.duration_s) if run.is_terminal else None,
        **_timing(run, now_s),
        "run_page_url": safe_url(run.run_page_url),
        "params": {_text(k, LIMITS["param"]): _text(v, LIMITS["param"]) for k, v in params.items()},
        "facts": [[label, text] for label, text in run_facts(run)],
        "tasks": [task_snapshot(t, now_s) for t in run.latest_tasks[:MAX_TASKS]],
        "failure": failure_snapshot(run, output),
        "repair": None if plan is None else {"tasks": list(plan.tasks), "default": list(plan.default)},
    }


def awaiting_snapshot(run_id: int) -> dict[str, Any]:
    """A run known by its id only (started, or asked for, but not read yet): its id and
    "state unknown", never "No runs yet" (which would invite a second run)."""
    shown = run_snapshot(
        Run(run_id=run_id, job_id=None, state=RunState.UNKNOWN, state_message=AWAITING_MESSAGE)
    )
    assert shown is not None
    shown.update(known=False, label=AWAITING_LABEL, tone="neutral")
    return shown


def history_snapshot(runs: Iterable[Run]) -> list[dict[str, Any]]:
    """Recent runs; a duration only for those that are over (the strip does not tick)."""
    return [
        {
            "run_id": r.run_id,
            "state": r.state.value,
            **_shown(r),
            "start_time": r.start_ms,
            "start_text": format_timestamp(r.start_ms),
            "duration_ms": _ms(r.duration_s) if r.is_terminal else None,
            "duration_text": format_duration_ms(shown_duration_ms(r, None)),
            "run_page_url": safe_url(r.run_page_url),
        }
        for r in runs
    ]


def eta_snapshot(eta: EtaLike | None) -> dict[str, Any] | None:
    if eta is None:
        return None
    p10, p50, p90 = _ms(eta.p10), _ms(eta.p50), _ms(eta.p90)
    return {
        "p10_ms": p10,
        "p50_ms": p50,
        "p90_ms": p90,
        "samples": eta.samples,
        "text": eta_text(eta.p10 * 1000, eta.p50 * 1000, eta.p90 * 1000),
    }


def health_snapshot(health: HealthLike) -> dict[str, Any]:
    """``ok``; ``degraded`` (retrying at ``next_retry_at``); or ``stopped`` (no longer followed)."""
    return {
        "status": health.status if health.status in HEALTH_STATUSES else "degraded",
        "message": _text(health.message, LIMITS["health"]),
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
    eta: EtaLike | None,
    health: HealthLike,
    error: str,
    params_schema: Mapping[str, Any] | None,
    pending: str,
    now_s: float,
    rate: float,
    pending_detail: str | None = None,
    awaiting: int | None = None,
    nested: Nested | None = None,
) -> dict[str, Any]:
    """Every synced trait of the panel, from core models (the one place that decides).

    With ``pending_detail`` (a panel that has that trait), the snapshot also carries
    ``pending_detail``: what the panel says while ``pending`` is set ("" otherwise).
    """
    shown = awaiting_snapshot(awaiting) if awaiting is not None else run_snapshot(run, output, now_s)
    if shown is not None:
        shown["nested"] = nested_snapshot(nested)
    snapshot = {
        "job": job_snapshot(key, job_id, info),
        "run": shown,
        "history": history_snapshot(history),
        # a repair re-runs some tasks: the whole run's usual duration says nothing about it
        "eta": None if shown is not None and shown["repairing"] else eta_snapshot(eta),
        "health": health_snapshot(health),
        "error": _text(" ".join(error.split()), LIMITS["error"]),
        "params_schema": dict(params_schema) if params_schema is not None else None,
        "pending": pending,
        "clock": {"now_ms": _ms(now_s), "rate": rate},
    }
    if pending_detail is not None:
        snapshot["pending_detail"] = busy_text(pending, pending_detail)
    return snapshot
