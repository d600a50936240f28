"""``%jobs status`` lines for a run's nested runs: child runs of run-job tasks and failed
for-each iterations, each with a way to open it.

A child run of a configured job is given as the magic that follows it; one of a job that
is not configured here only as its page (it cannot be touched). Failed iterations are
listed up to ``MAX_ITERATIONS`` with their pages (``%jobs status`` is one request per
for-each task with failures, and one per run-job task).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from jobs_widgets._present import LIMITS, clip, safe_url
from jobs_widgets._render import esc, link
from jobs_widgets.core import RunState, TaskRun
from jobs_widgets.core.details import ChildRun

__all__ = ["MAX_ITERATIONS", "Nested", "nested_html", "nested_lines"]

MAX_ITERATIONS: Final = 5


@dataclass(frozen=True)
class Nested:
    """What ``%jobs status`` found under a run (empty when it has no nested runs)."""

    children: Sequence[ChildRun] = ()
    #: for-each task key -> its iterations (every one; only failed ones are listed)
    iterations: dict[str, list[TaskRun]] = field(default_factory=dict)
    #: why some of it could not be read (shown, never raised: the run itself was read)
    problem: str | None = None


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


def _failed(task_key: str, runs: list[TaskRun]) -> tuple[str, list[tuple[str, str | None]]]:
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
