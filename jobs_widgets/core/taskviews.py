"""The task timeline and the runs x tasks matrix as plain data (issue 13), from core models.

Pure functions, no clock of their own (``now_ms`` is passed), no labels: a view reads
state names and turns them into labels and tones from the one table in
``jobs_widgets._present`` (the front end through ``js/src/presentation.json``).

* :func:`timeline_view`: one bar per task of a run on a shared time axis, its phases
  where the API gives them (``queue_duration``, ``setup_duration``,
  ``execution_duration``, ``cleanup_duration``; else one span from start to end), the
  task's usual duration from the job's history and whether this one is slower than
  that (past its p90), its dependencies, and a for-each task's iteration counts.
  Tasks come in dependency order (a task after every task it depends on), so
  dependencies read top to bottom.
* :func:`matrix_view`: the last runs as columns (oldest first, as a time axis reads),
  task keys as rows, one state code per cell and one duration per cell, compact so
  200 runs x 50 tasks stay a small message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from jobs_widgets.core.apivalues import as_int
from jobs_widgets.core.models import JobInfo, Run, TaskRun
from jobs_widgets.core.states import RunState

__all__ = [
    "MATRIX_RUNS",
    "MATRIX_TASKS",
    "PHASES",
    "TIMELINE_TASKS",
    "Outcome",
    "matrix_view",
    "timeline_view",
]

#: The phases of a task run, in order, as the Jobs API names their durations.
PHASES = ("queue", "setup", "execution", "cleanup")
#: Most tasks a timeline carries (a view virtualises its rows; this bounds the message).
TIMELINE_TASKS = 1000
#: Most runs and tasks a matrix carries.
MATRIX_RUNS = 500
MATRIX_TASKS = 200
#: How a view words a run or task: (label, tone). The notebook layer passes
#: ``jobs_widgets._present.outcome`` (which refines a state by the API's own result:
#: "Upstream failed", "Excluded"...); without it, a view words the state itself.
Outcome = Callable[[Run | TaskRun], tuple[str, str]]


def _worded(item: Run | TaskRun, outcome: Outcome | None) -> dict[str, str]:
    if outcome is None:
        return {}
    label, tone = outcome(item)
    return {"label": label, "tone": tone}


class UsualDuration(Protocol):
    """What the views read of a task's usual duration (core's ``Eta``, seconds)."""

    @property
    def p50(self) -> float: ...
    @property
    def p90(self) -> float: ...
    @property
    def samples(self) -> int: ...


def _phases(raw: Mapping[str, Any] | None) -> dict[str, int] | None:
    """The phase durations (ms) the API gave for a task run, or None when it gave none."""
    if raw is None:
        return None
    phases = {name: as_int(raw.get(f"{name}_duration")) or 0 for name in PHASES}
    if not any(phases[name] for name in ("queue", "setup", "cleanup")):
        return None  # execution alone says no more than start..end
    return phases


def _raw_tasks(run: Run) -> dict[tuple[str, int | None], Mapping[str, Any]]:
    tasks = run.raw.get("tasks") or ()
    found: dict[tuple[str, int | None], Mapping[str, Any]] = {}
    for task in tasks if isinstance(tasks, Sequence) else ():
        if isinstance(task, Mapping):
            found[(str(task.get("task_key") or ""), as_int(task.get("run_id")))] = task
    return found


def dependency_order(keys: Sequence[str], depends_on: Mapping[str, Sequence[str]]) -> list[str]:
    """``keys`` with each after the keys it depends on (stable otherwise; cycles keep their order)."""
    position = {key: i for i, key in enumerate(keys)}
    placed: list[str] = []
    seen: set[str] = set()
    visiting: set[str] = set()

    def place(key: str) -> None:
        if key in seen or key in visiting:
            return
        visiting.add(key)
        for dep in sorted((d for d in depends_on.get(key, ()) if d in position), key=position.__getitem__):
            place(dep)
        visiting.discard(key)
        seen.add(key)
        placed.append(key)

    for key in keys:
        place(key)
    return placed


def _elapsed_ms(task: TaskRun, now_ms: float | None) -> int | None:
    if task.is_terminal:
        return round(task.duration_s * 1000) if task.duration_s is not None else None
    if task.start_ms is None or now_ms is None:
        return None
    return max(0, round(now_ms - task.start_ms))


def _bar(
    task: TaskRun,
    raw: Mapping[str, Any] | None,
    usual: UsualDuration | None,
    now_ms: float | None,
    outcome: Outcome | None,
) -> dict[str, Any]:
    elapsed = _elapsed_ms(task, now_ms)
    usual_ms = round(usual.p50 * 1000) if usual is not None else None
    slow_after = round(usual.p90 * 1000) if usual is not None else None
    return {
        "key": task.task_key,
        "state": task.state.value,
        **_worded(task, outcome),
        "start_ms": task.start_ms,
        "end_ms": task.end_ms if task.is_terminal else None,
        "elapsed_ms": elapsed,
        "phases": _phases(raw),
        "usual_ms": usual_ms,
        "slow_after_ms": slow_after,
        "slow": elapsed is not None and slow_after is not None and elapsed > slow_after,
        "depends_on": list(task.depends_on),
        "attempt": task.attempt,
        "iterations": dict(task.iterations) if task.iterations else None,
        "run_id": task.run_id,
    }


def timeline_view(
    run: Run | None,
    usual: Mapping[str, UsualDuration],
    *,
    info: JobInfo | None = None,
    now_ms: float | None = None,
    outcome: Outcome | None = None,
) -> dict[str, Any] | None:
    """The shown run's task timeline (None without a run); ``usual`` maps task keys to history.

    Tasks of the job's settings that have not started yet are bars without a start
    (``state`` PENDING), so a running run shows what is still to come.
    """
    if run is None:
        return None
    raws = _raw_tasks(run)
    tasks = {t.task_key: t for t in run.latest_tasks}
    depends = {key: t.depends_on for key, t in tasks.items()}
    for planned in info.tasks if info is not None else ():
        depends.setdefault(planned.task_key, planned.depends_on)
    keys = dependency_order(list(depends), depends)[:TIMELINE_TASKS]
    bars = []
    for key in keys:
        task = tasks.get(key)
        if task is None:
            task = TaskRun(task_key=key, run_id=None, state=RunState.PENDING, depends_on=tuple(depends[key]))
        bars.append(_bar(task, raws.get((task.task_key, task.run_id)), usual.get(key), now_ms, outcome))
    starts = [b["start_ms"] for b in bars if b["start_ms"]]
    ends = [b["start_ms"] + b["elapsed_ms"] for b in bars if b["start_ms"] and b["elapsed_ms"] is not None]
    start = run.start_ms or (min(starts) if starts else None)
    end = run.end_ms if run.is_terminal and run.end_ms else None
    if end is None and not run.is_terminal and now_ms is not None:
        end = round(now_ms)
    if end is None and ends:
        end = max(ends)
    return {
        "run_id": run.run_id,
        "state": run.state.value,
        **_worded(run, outcome),
        "is_terminal": run.is_terminal,
        "start_ms": start,
        "end_ms": end,
        "tasks": bars,
        "total": len(depends),
    }


def matrix_view(
    runs: Iterable[Run], info: JobInfo | None = None, outcome: Outcome | None = None
) -> dict[str, Any]:
    """Runs x tasks: ``runs`` (newest first, as listed) become columns oldest first.

    ``cells[t][r]`` is an index into ``outcomes`` (-1: task ``t`` has no run in run ``r``),
    each ``[state, label, tone]`` (label and tone "" without ``outcome``: the view words the state);
    ``durations[t][r]`` its duration in ms (None while unknown). Row order: the job's
    tasks in dependency order, then keys seen only in past runs (tasks since removed).
    """
    columns = sorted(runs, key=lambda r: (r.start_ms or 0, r.run_id))[-MATRIX_RUNS:]
    depends: dict[str, Sequence[str]] = {t.task_key: t.depends_on for t in (info.tasks if info else ())}
    for run in reversed(columns):
        for task in run.latest_tasks:
            depends.setdefault(task.task_key, task.depends_on)
    keys = dependency_order(list(depends), depends)[:MATRIX_TASKS]
    outcomes: list[list[str]] = []
    code: dict[tuple[str, ...], int] = {}

    def code_of(task: TaskRun) -> int:
        worded = _worded(task, outcome)
        key = (task.state.value, worded.get("label", ""), worded.get("tone", ""))
        if key not in code:
            code[key] = len(outcomes)
            outcomes.append(list(key))
        return code[key]

    latest = [{t.task_key: t for t in run.latest_tasks} for run in columns]
    cells: list[list[int]] = []
    durations: list[list[int | None]] = []
    for key in keys:
        row: list[int] = []
        took: list[int | None] = []
        for tasks in latest:
            cell = tasks.get(key)
            row.append(-1 if cell is None else code_of(cell))
            took.append(
                round(cell.duration_s * 1000)
                if cell is not None and cell.is_terminal and cell.duration_s
                else None
            )
        cells.append(row)
        durations.append(took)
    return {
        "outcomes": outcomes,
        "runs": [
            {
                "run_id": run.run_id,
                "state": run.state.value,
                **_worded(run, outcome),
                "start_ms": run.start_ms,
                "duration_ms": round(run.duration_s * 1000) if run.is_terminal and run.duration_s else None,
            }
            for run in columns
        ],
        "tasks": keys,
        "cells": cells,
        "durations": durations,
    }
