"""The engine's records as the Jobs API shows them: runs, task runs, states, page tokens.

Only rendering lives here (no simulation state changes), so what a client sees of a
run can be checked against the Jobs API 2.2 shapes in one place: both the legacy
``state`` and the newer ``status``, durations in milliseconds, opaque page tokens.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from jobs_widgets.sandbox import foreach
from jobs_widgets.sandbox.records import TERMINAL_LIFE, RunRecord, TaskRun, invalid, ms
from jobs_widgets.sandbox.specs import TASK_FIELDS


def run_url(base_url: str, run_id: int, job_id: int) -> str:
    """A run's (or task run's) page, shaped like a workspace's: the path names the run.

    (Not ``/#job/<job>/run/<run>``: a fragment never reaches the server, so the
    sandbox could not answer it with the run's page.)
    """
    return f"{base_url}/jobs/{job_id}/runs/{run_id}"


def run_json(base_url: str, run: RunRecord, *, expand_tasks: bool, history: bool = False) -> dict[str, Any]:
    end = run.end
    body: dict[str, Any] = {
        "job_id": run.job.job_id,
        "run_id": run.run_id,
        "number_in_job": run.number,
        "original_attempt_run_id": run.run_id,
        "creator_user_name": run.creator,
        "run_name": run.run_name,
        "run_type": "JOB_RUN",
        "trigger": run.trigger,
        "attempt_number": 0,
        "state": state_json(run.life, run.result, run.message, run.user_cancelled, run.queue_reason),
        "status": status_json(run.life, run.result, run.message, run.queue_reason),
        "start_time": ms(run.created),
        "end_time": ms(end) if end is not None else 0,
        "setup_duration": ms(span(run.pending_at, run.running_at, end)) or 0,
        "execution_duration": ms(span(run.running_at, run.terminating_at, end)) or 0,
        "cleanup_duration": ms(span(run.terminating_at, end, None)) or 0,
        "queue_duration": ms(span(run.created, run.pending_at, end)) or 0,
        "run_duration": ms(end - run.created) if end is not None else 0,
        "run_page_url": run.run_page_url or run_url(base_url, run.run_id, run.job.job_id),
        "has_more": False,
    }
    if run.overriding:
        body["overriding_parameters"] = json.loads(json.dumps(run.overriding))
    if run.job_parameters:
        body["job_parameters"] = [dict(p) for p in run.job_parameters]
    if run.repairs and history:
        body["repair_history"] = [
            {"type": "ORIGINAL", "start_time": ms(run.created), "id": run.run_id},
            *[dict(r) for r in run.repairs],
        ]
    if expand_tasks:
        body["tasks"] = [task_json(base_url, run, t) for t in run.tasks.values()]
    return body


def task_json(base_url: str, run: RunRecord, task: TaskRun) -> dict[str, Any]:
    spec = task.spec
    body: dict[str, Any] = {
        "task_key": spec.task_key,
        "run_id": task.run_id,
        "attempt_number": task.attempt,
        TASK_FIELDS[spec.kind]: dict(spec.settings),
        "state": state_json(task.life, task.result, task.message, False, None),
        "status": status_json(task.life, task.result, task.message, None),
        "start_time": ms(task.start) or 0,
        "end_time": ms(task.end) or 0,
        "execution_duration": ms(span(task.start, task.end, None)) or 0,
        "run_duration": ms(span(task.start, task.end, None)) or 0,
        "run_page_url": (run.run_page_url or run_url(base_url, task.run_id, run.job.job_id)),
    }
    if spec.depends_on:
        body["depends_on"] = [spec.edge(k) for k in spec.depends_on]
    if spec.kind == "for_each":  # RunForEachTask.stats, counted from the iterations
        body["for_each_task"]["stats"] = {"task_run_stats": foreach.stats(task)}
    if task.outcome is not None:  # ConditionTask.outcome: set once the condition ran
        body["condition_task"]["outcome"] = task.outcome
    if spec.run_if != "ALL_SUCCESS":
        body["run_if"] = spec.run_if
    return body


def task_as_run_json(base_url: str, parent: RunRecord, task: TaskRun) -> dict[str, Any]:
    body = task_json(base_url, parent, task)
    body.pop("task_key", None)
    for name in (TASK_FIELDS[task.spec.kind], "depends_on", "run_if"):  # not fields of a Run
        body.pop(name, None)
    body.update(
        {
            "job_id": parent.job.job_id,
            "run_name": task.spec.task_key,
            "run_type": "JOB_RUN",
            "creator_user_name": parent.creator,
        }
    )
    if task.spec.kind == "for_each":
        body["iterations"] = [task_json(base_url, parent, i) for i in task.iterations]
    return body


def span(start: float | None, end: float | None, fallback: float | None) -> float | None:
    if start is None:
        return None
    stop = end if end is not None else fallback
    if stop is None:
        return None
    return max(0.0, stop - start)


_TERMINATION = {
    "SUCCESS": ("SUCCESS", "SUCCESS"),
    "FAILED": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    # A timeout is the platform canceling the run (TerminationCodeCode.CANCELED: "if the
    # maximum run duration was exceeded"); result_state TIMEDOUT says which it was.
    "TIMEDOUT": ("CANCELED", "CLIENT_ERROR"),
    "SUCCESS_WITH_FAILURES": ("SUCCESS_WITH_FAILURES", "SUCCESS"),
    "EXCLUDED": ("SKIPPED", "SUCCESS"),
    "CANCELED": ("USER_CANCELED", "SUCCESS"),
    "UPSTREAM_FAILED": ("SKIPPED", "CLIENT_ERROR"),
    "UPSTREAM_CANCELED": ("CANCELED", "SUCCESS"),
}
_STATUS_STATE = {"WAITING_FOR_RETRY": "WAITING"}


def state_json(
    life: str, result: str | None, message: str, user: bool, queue_reason: str | None
) -> dict[str, Any]:
    state: dict[str, Any] = {
        "life_cycle_state": life,
        "state_message": message,
        "user_cancelled_or_timedout": user,
    }
    if result is not None and life in TERMINAL_LIFE:
        state["result_state"] = result
    if queue_reason:
        state["queue_reason"] = queue_reason
    return state


def status_json(life: str, result: str | None, message: str, queue_reason: str | None) -> dict[str, Any]:
    if life == "SKIPPED":
        details = {"code": "MAX_CONCURRENT_RUNS_EXCEEDED", "type": "CLIENT_ERROR", "message": message}
        return {"state": "TERMINATED", "termination_details": details}
    if life == "INTERNAL_ERROR":
        details = {"code": "INTERNAL_ERROR", "type": "INTERNAL_ERROR", "message": message}
        return {"state": "TERMINATED", "termination_details": details}
    if life == "TERMINATED":
        code, kind = _TERMINATION.get(result or "FAILED", ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"))
        return {
            "state": "TERMINATED",
            "termination_details": {"code": code, "type": kind, "message": message},
        }
    status: dict[str, Any] = {"state": _STATUS_STATE.get(life, life)}
    if life == "QUEUED" and queue_reason:
        status["queue_details"] = {"code": "MAX_CONCURRENT_RUNS_REACHED", "message": queue_reason}
    return status


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_page_token(token: str) -> int:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        offset = data["o"]
    except (ValueError, KeyError, TypeError, UnicodeError) as exc:
        raise invalid("Invalid page_token.") from exc
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise invalid("Invalid page_token.")
    return offset


RUN_PAGE_SIZE = 100
PAGED_ARRAYS = ("tasks", "job_clusters", "job_parameters", "repair_history", "iterations")


def page_run(run: dict[str, Any], page_token: object) -> dict[str, Any]:
    """A ``runs/get`` answer as API 2.2 pages it: at most 100 of each array per page.

    Page ``n`` (the token is its number) holds elements ``100n..100n+99`` of each array;
    arrays without more elements are empty on later pages; ``next_page_token`` is set
    while any array has more.
    """
    try:
        page = int(str(page_token)) if page_token not in (None, "") else 0
    except ValueError:
        raise invalid("Invalid page_token.") from None
    if page < 0:
        raise invalid("Invalid page_token.")
    start, end = page * RUN_PAGE_SIZE, (page + 1) * RUN_PAGE_SIZE
    body = dict(run)
    more = False
    for name in PAGED_ARRAYS:
        items = run.get(name)
        if isinstance(items, list):
            body[name] = items[start:end]
            more = more or len(items) > end
    if more:
        body["next_page_token"] = str(page + 1)
    return body
