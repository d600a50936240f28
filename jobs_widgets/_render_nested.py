"""``%jobs status`` lines for a run's nested runs: child runs of run-job tasks and failed
for-each iterations, each with a way to open it.

A child run of a configured job is given as the magic that follows it; one of a job that
is not configured here only as its page (it cannot be touched). Failed iterations are
listed up to ``MAX_ITERATIONS`` with their pages (``%jobs status`` is one request per
for-each task with failures, and one per run-job task).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from jobs_widgets._present import LIMITS, clip, safe_url
from jobs_widgets._render import esc, link
from jobs_widgets.core import RunState, TaskRun
from jobs_widgets.core.details import ChildRun, NestedRuns

__all__ = ["MAX_ITERATIONS", "Nested", "nested_html", "nested_lines", "nested_snapshot"]

MAX_ITERATIONS: Final = 5


#: What ``%jobs status`` and the panel found under a run (core's :class:`NestedRuns`).
Nested = NestedRuns


def _name(text: object) -> str:
    return clip(" ".join(str(text).split()), LIMITS["name"])


def _child(child: ChildRun) -> tuple[str, str | None]:
    """``(what, how to open it)`` for a child run."""
    if child.run_id is None:
        return f"{_name(child.task_key)} has not started its run of job {child.job_id} yet", None
    if child.job_key is not None:
        what = f"{_name(child.task_key)} started {_name(child.job_key)} run {child.run_id}"
        return what, f"%jobs status {child.job_key} {child.run_id}"
    what = f"{_name(child.task_key)} started run {child.run_id} of job {child.job_id} (not configured here)"
    return what, safe_url(child.run_page_url)


def _failed(task_key: str, runs: Sequence[TaskRun]) -> tuple[str, list[tuple[str, str | None]]]:
    failed = [
        (i, t) for i, t in enumerate(runs, start=1) if t.state.is_failure or t.state is RunState.TIMED_OUT
    ]
    head = f"{_name(task_key)}: {len(failed)} of {len(runs)} iterations failed"
    shown = [
        (f"iteration {i}" + (f" (run {t.run_id})" if t.run_id is not None else ""), safe_url(t.run_page_url))
        for i, t in failed[:MAX_ITERATIONS]
    ]
    if len(failed) > MAX_ITERATIONS:
        shown.append((f"and {len(failed) - MAX_ITERATIONS} more", None))
    return head, shown


def nested_lines(nested: Nested) -> list[str]:
    """Text lines (indented like the rest of ``%jobs status``)."""
    lines = []
    for child in nested.children:
        what, open_it = _child(child)
        lines.append(f"  {what}" + (f": {open_it}" if open_it else ""))
    for task_key, runs in nested.iterations.items():
        head, shown = _failed(task_key, runs)
        if shown:
            lines.append(f"  {head}")
            lines.extend(f"    {label}" + (f": {url}" if url else "") for label, url in shown)
    if nested.problem:
        lines.append(f"  ({clip(nested.problem, LIMITS['headline_message'])})")
    return lines


def nested_html(nested: Nested) -> str:
    """The same as HTML: links where there is a page, the magic as code where there is one."""
    parts = []
    for child in nested.children:
        what, open_it = _child(child)
        if open_it and open_it.startswith("%jobs"):
            parts.append(f'<div class="jw-fact">{esc(what)}: <code>{esc(open_it)}</code></div>')
        else:
            parts.append(f'<div class="jw-fact">{link(open_it, what) if open_it else esc(what)}</div>')
    for task_key, runs in nested.iterations.items():
        head, shown = _failed(task_key, runs)
        if shown:
            items = ", ".join(link(url, label) if url else esc(label) for label, url in shown)
            parts.append(f'<div class="jw-fact">{esc(head)}: {items}</div>')
    if nested.problem:
        parts.append(f'<div class="jw-fact">({esc(nested.problem)})</div>')
    return "".join(parts)


def nested_snapshot(nested: Nested | None) -> dict[str, list[dict[str, Any]]]:
    """The same for the panel, per task key (JSON): what each child run or failed iteration
    is, its page, and for a child of a configured job the magic that opens its panel
    (a reading problem is said by ``%jobs status``; the panel shows what it could read)."""
    if nested is None:
        return {}
    tasks: dict[str, list[dict[str, Any]]] = {}
    for child in nested.children:
        what, _ = _child(child)
        followable = child.job_key is not None and child.run_id is not None
        magic = f"%jobs panel {child.job_key} {child.run_id}" if followable else None
        url = safe_url(child.run_page_url) if child.run_id is not None else None
        tasks.setdefault(child.task_key, []).append({"text": what, "url": url, "magic": magic})
    for task_key, runs in nested.iterations.items():
        head, shown = _failed(task_key, runs)
        if shown:
            items = [{"text": label, "url": url, "magic": None} for label, url in shown]
            count = head.removeprefix(f"{_name(task_key)}: ")  # the row already names the task
            tasks.setdefault(task_key, []).append({"text": count, "url": None, "magic": None, "items": items})
    return tasks
