"""What a jobs board row says, from the feed's views: the board's traits and its text/HTML fallbacks.

One pure function per form, so the live board, its fallbacks and the tests agree. Labels,
tones, durations and limits come from ``_present``/``_snapshot`` (their one home).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jobs_widgets._present import LIMITS, format_duration_ms, format_timestamp, shown_duration_ms
from jobs_widgets._render import _table_html, _table_text, esc, link, one_line, state_html, state_text
from jobs_widgets._snapshot import eta_snapshot, history_snapshot
from jobs_widgets.core.cron import next_fire
from jobs_widgets.core.jobfeed import JobView, summarize
from jobs_widgets.core.models import Run

STRIP = 10
"""Recent runs drawn per row (the stats cover the feed's whole window)."""


def _shown_run(view: JobView) -> Run | None:
    """The run a row is about: the oldest still active (the one to watch), else the latest."""
    active = [r for r in view.runs if r.state.is_active]
    return active[-1] if active else (view.runs[0] if view.runs else None)


def next_ms(schedule: dict[str, Any] | None, now_s: float) -> int | None:
    """When an unpaused schedule fires next (epoch ms), if ``core.cron`` models its expression."""
    if not schedule or schedule.get("paused"):
        return None
    when = next_fire(schedule["cron"], schedule["timezone"], now_s)
    return None if when is None else round(when * 1000)


def schedule_text(schedule: dict[str, Any] | None, now_s: float | None = None) -> str:
    """The schedule as the workspace says it, and its next time when known:
    ``cron 0 0 2 * * ? (Europe/Paris), next 2026-03-10 02:00:00 CET`` / ``..., paused``."""
    if not schedule:
        return ""
    text = f"cron {schedule['cron']} ({schedule['timezone']})"
    if schedule.get("paused"):
        return f"{text}, paused"
    when = None if now_s is None else next_ms(schedule, now_s)
    return f"{text}, next {format_timestamp(when)}" if when is not None else text


def board_row(view: JobView, now_s: float) -> dict[str, Any]:
    """One job's row of the ``jobs`` trait."""
    stats = summarize(view.runs)
    run = _shown_run(view)
    shown = history_snapshot([run])[0] if run is not None else None
    if shown is not None and run is not None:
        shown["active"] = run.state.is_active
        shown["is_terminal"] = run.is_terminal
        shown["duration_text"] = format_duration_ms(shown_duration_ms(run, now_s * 1000))
    return {
        "key": view.key[: LIMITS["name"]],
        "job_id": view.job_id,
        "name": view.name,
        "run": shown,
        "active_count": sum(1 for r in view.runs if r.state.is_active),
        "strip": history_snapshot(view.runs[:STRIP]),
        "eta": eta_snapshot(stats.eta),
        "finished": stats.finished,
        "success_rate": stats.success_rate,
        "median_ms": None if stats.median_s is None else round(stats.median_s * 1000),
        "median_text": format_duration_ms(None if stats.median_s is None else stats.median_s * 1000),
        "schedule": view.schedule,
        "schedule_text": schedule_text(view.schedule, now_s),
        "next_ms": next_ms(view.schedule, now_s),
        "error": one_line(view.error, LIMITS["error"]),
        "loaded": view.loaded,
    }


COLUMNS = ("job", "state", "run", "time", "usual", "ok", "median", "recent", "schedule")
_MARKS = {"success": "+", "error": "x", "warn": "!", "active": ">", "waiting": "."}


def _rate(row: dict[str, Any]) -> str:
    rate = row["success_rate"]
    return "" if rate is None else f"{round(rate * 100)}% of {row['finished']}"


def _cells(row: dict[str, Any], html_mode: bool, run: Run | None) -> list[str]:
    fmt = esc if html_mode else one_line
    shown = row["run"]
    if row["error"] and not row["loaded"]:
        state = fmt(row["error"])
    elif run is None:
        state = fmt("no runs yet" if row["loaded"] else "loading")
    else:
        state = state_html(run.state, run) if html_mode else state_text(run)
    run_cell = ""
    if shown is not None:
        run_cell = link(shown["run_page_url"], str(shown["run_id"])) if html_mode else str(shown["run_id"])
    strip = "".join(_MARKS.get(s["tone"], "-") for s in reversed(row["strip"]))
    eta = row["eta"]
    return [
        fmt(row["key"]),
        state,
        run_cell,
        fmt(shown["duration_text"] if shown else ""),
        fmt(eta["text"] if eta else ""),
        fmt(_rate(row)),
        fmt(row["median_text"]),
        fmt(strip),
        fmt(row["schedule_text"]),
    ]


def board_text(views: Sequence[JobView], now_s: float, *, closed: bool = False) -> str:
    """The board for terminals and exports: one line per job (recent runs oldest first: + ok, x failed)."""
    rows = [board_row(v, now_s) for v in views]
    caption = f"Jobs board: {len(rows)} job(s)" + (" (closed)" if closed else "")
    return _table_text(
        COLUMNS, [_cells(r, False, _shown_run(v)) for r, v in zip(rows, views, strict=True)], caption
    )


def board_html(views: Sequence[JobView], now_s: float, *, closed: bool = False) -> str:
    rows = [board_row(v, now_s) for v in views]
    caption = f"Jobs board: {len(rows)} job(s)" + (" (closed)" if closed else "")
    return _table_html(
        COLUMNS, [_cells(r, True, _shown_run(v)) for r, v in zip(rows, views, strict=True)], caption
    )
