"""Text fallbacks of the task timeline and the runs x tasks matrix (terminals, exports).

They read the same data the panel's views draw (:mod:`jobs_widgets.core.taskviews`)
and word states with the one table in :mod:`jobs_widgets._present`, so a text view
never says something the panel does not. Compact by design: at most ``MAX_ROWS``
task lines, then how many more there are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobs_widgets._present import clip, format_duration_ms, state_label
from jobs_widgets.core.states import RunState

__all__ = ["MAX_ROWS", "matrix_text", "timeline_note", "timeline_text"]

MAX_ROWS = 12
WIDTH = 24  # characters of the time axis
KEY_WIDTH = 18
#: One character per cell state in the matrix text (a legend says which).
MARKS: Mapping[str, str] = {
    "SUCCEEDED": "+",
    "FAILED": "x",
    "TIMED_OUT": "x",
    "INTERNAL_ERROR": "x",
    "CANCELED": "/",
    "SKIPPED": "-",
    "RUNNING": ">",
    "TERMINATING": ">",
}


def _label(state: str) -> str:
    try:
        return state_label(RunState(state))
    except ValueError:
        return state_label(RunState.UNKNOWN)


def _elapsed(bar: Mapping[str, Any], now_ms: float | None) -> float | None:
    if bar.get("end_ms") is None and bar.get("start_ms") is not None and now_ms is not None:
        return max(0.0, now_ms - float(bar["start_ms"]))
    value = bar.get("elapsed_ms")
    return float(value) if value is not None else None


def _axis(bar: Mapping[str, Any], took: float | None, start: float, span: float) -> str:
    if bar.get("start_ms") is None or took is None or span <= 0:
        return " " * WIDTH
    left = min(WIDTH - 1, int((bar["start_ms"] - start) / span * WIDTH))
    length = max(1, round(took / span * WIDTH))
    return (" " * left + "#" * length)[:WIDTH].ljust(WIDTH)


def timeline_text(timeline: Mapping[str, Any] | None, now_ms: float | None = None) -> str:
    """One line per task: a bar on the run's time axis, its state, how long against usual."""
    if not timeline or not timeline.get("tasks"):
        return ""
    bars: list[Mapping[str, Any]] = list(timeline["tasks"])
    start = timeline.get("start_ms")
    end = timeline.get("end_ms") if timeline.get("is_terminal") else now_ms or timeline.get("end_ms")
    span = float(end - start) if start is not None and end is not None else 0.0
    lines = []
    for bar in bars[:MAX_ROWS]:
        took = _elapsed(bar, now_ms)
        words = [bar.get("label") or _label(bar["state"])]
        if took is not None and bar.get("start_ms") is not None:
            words.append(format_duration_ms(took))
        usual = bar.get("usual_ms")
        slow_after = bar.get("slow_after_ms")
        if usual:
            slow = took is not None and slow_after is not None and took > slow_after
            words.append(f"(usual {format_duration_ms(usual)}{', slower than usual' if slow else ''})")
        iterations = bar.get("iterations") or {}
        if iterations.get("total"):
            words.append(f"{iterations.get('completed', 0)}/{iterations['total']} iterations")
        key = clip(bar["key"], KEY_WIDTH).ljust(KEY_WIDTH)
        lines.append(f"{key} |{_axis(bar, took, start or 0, span)}| {' '.join(words)}")
    if len(bars) > MAX_ROWS:
        lines.append(f"… and {len(bars) - MAX_ROWS} more tasks")
    return "\n".join(lines)


def matrix_text(matrix: Mapping[str, Any], runs: int = 20) -> str:
    """The last ``runs`` runs x tasks, one mark per cell (legend first), newest on the right."""
    keys: list[str] = list(matrix.get("tasks") or [])
    if not keys or not matrix.get("runs"):
        return ""
    outcomes: list[list[str]] = list(matrix["outcomes"])
    states = [o[0] for o in outcomes]
    shown = len(matrix["runs"][-runs:])
    legend = "  ".join(f"{mark} {_label(state)}" for state, mark in MARKS.items() if state in states)
    # An outcome the state words differently ("Upstream failed" is not "Skipped") is ".".
    marks_of = [
        MARKS.get(state, ".") if label in ("", _label(state)) else "." for state, label, _ in outcomes
    ]
    lines = [f"last {shown} runs, oldest first: {legend}  . other  (blank: did not run)"]
    for key, row in list(zip(keys, matrix["cells"], strict=False))[:MAX_ROWS]:
        marks = "".join(" " if code < 0 else marks_of[code] for code in row[-runs:])
        lines.append(f"{clip(key, KEY_WIDTH).ljust(KEY_WIDTH)} {marks}")
    if len(keys) > MAX_ROWS:
        lines.append(f"… and {len(keys) - MAX_ROWS} more tasks")
    return "\n".join(lines)


def timeline_note(timeline: Mapping[str, Any] | None, now_ms: float | None = None, most: int = 3) -> str:
    """One line for ``%jobs status``: how many tasks over how long, and which ran slower than
    their usual (p90 of their history), worst first; "" for a run of fewer than two tasks."""
    bars: list[Mapping[str, Any]] = list((timeline or {}).get("tasks") or [])
    if len(bars) < 2 or timeline is None:
        return ""
    words = [f"Timeline: {len(bars)} tasks"]
    start, end = timeline.get("start_ms"), timeline.get("end_ms")
    if not timeline.get("is_terminal") and now_ms is not None:
        end = now_ms
    if start is not None and end is not None:
        words.append(f"over {format_duration_ms(max(0.0, end - start))}")
    slow = []
    for bar in bars:
        took, limit = _elapsed(bar, now_ms), bar.get("slow_after_ms")
        if took is not None and limit and took > limit:
            slow.append(
                (
                    took / limit,
                    f"{bar['key']} {format_duration_ms(took)} (usual {format_duration_ms(bar['usual_ms'])})",
                )
            )
    line = " ".join(words)
    if slow:
        slow.sort(key=lambda item: -item[0])
        more = f" and {len(slow) - most} more" if len(slow) > most else ""
        line += "; slower than usual: " + ", ".join(text for _, text in slow[:most]) + more
    return line
