"""How runs are shown: the one home of every presentation rule.

State labels and tones, duration and timestamp formats, elapsed time, text and trace
limits, and which URLs may become links are decided here, once. The ``%jobs``
renderers (:mod:`jobs_widgets._render`) use these functions; the panel's snapshot
(:mod:`jobs_widgets._snapshot`) sends their results, so the front end shows what
Python decided. The few rules the front end must also apply itself (the elapsed
time ticking every second, and clipping/URL checks on whatever arrives in a trait)
are mirrored in ``js/src/rules.js`` and proven identical by a golden table:
``tests/test_render_present.py`` writes ``js/src/presentation.json`` (the tables
below) and ``js/tests/golden/presentation-cases.json`` (inputs and Python's
answers), which ``js/tests/rules.test.js`` replays — a drift fails a test on each side.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import re
from collections.abc import Mapping
from typing import Any, Final, Literal

from jobs_widgets.core.models import Run, TaskRun
from jobs_widgets.core.states import RunState

__all__ = [
    "AWAITING_LABEL",
    "AWAITING_MESSAGE",
    "IDLE_LABEL",
    "LIMITS",
    "SKEW_MS",
    "Tone",
    "busy_text",
    "clip",
    "elapsed_ms",
    "eta_text",
    "format_duration_ms",
    "format_timestamp",
    "humanize",
    "rules_for_js",
    "safe_url",
    "shown_duration_ms",
    "since_ms",
    "state_label",
    "state_tone",
    "ticks",
    "tone_style",
    "trace_tail",
    "trace_title",
]

Tone = Literal["success", "error", "warn", "active", "waiting", "neutral"]

IDLE_LABEL: Final = "No runs yet"
"""The badge of a panel whose job never ran."""

AWAITING_LABEL: Final = "State unknown"
"""The badge of a run known by its id only (started, or asked for, but not yet read)."""

AWAITING_MESSAGE: Final = "The workspace has not answered for this run yet; retrying."
"""What a run known by its id only says beside its badge."""

TONES: Final[Mapping[RunState, Tone]] = {
    RunState.QUEUED: "waiting",
    RunState.PENDING: "waiting",
    RunState.RUNNING: "active",
    RunState.TERMINATING: "active",
    RunState.BLOCKED: "warn",
    RunState.WAITING_FOR_RETRY: "warn",
    RunState.SUCCEEDED: "success",
    RunState.FAILED: "error",
    RunState.TIMED_OUT: "error",
    RunState.INTERNAL_ERROR: "error",
    # Canceled is not a failure, but the run did not deliver: it stands out from Skipped.
    RunState.CANCELED: "warn",
    RunState.SKIPPED: "neutral",
    RunState.UNKNOWN: "neutral",
}

LIMITS: Final[Mapping[str, int]] = {
    "message": 2_000,  # state messages, errors and results (panel, %jobs status/output)
    "error": 1_000,  # the panel's one-line error
    "name": 200,  # job/task keys and names, run names
    "param": 200,  # a parameter's name or value
    "health": 500,  # the connection notice
    "url": 2_048,  # longest URL that may become a link
    "url_text": 300,  # a refused URL shown as text
    "trace_lines": 60,  # the tail of a stack trace or log
    "trace_chars": 20_000,
    "cell": 200,  # a cell of a %jobs table
    "cell_message": 80,  # the message column of a %jobs table
    "headline_message": 300,  # the message under a %jobs status headline
}

SKEW_MS: Final = 60_000
"""A run that starts more than this after "now" is measured on another clock: no elapsed time."""

ELLIPSIS: Final = "…"


# ----------------------------------------------------------------------------- states
def state_label(state: RunState) -> str:
    """``"Timed out"``, ``"Waiting for retry"``... (:attr:`RunState.label`)."""
    return state.label


def state_tone(state: RunState) -> Tone:
    """The colour family of a state (its label is always shown as well)."""
    return TONES[state]


# Outcomes the normalized state keeps too coarse to name honestly: the API's own result
# (state.result_state) or termination code says more, and the label and tone say it.
OUTCOMES: Final[Mapping[str, tuple[str, Tone]]] = {
    "SUCCESS_WITH_FAILURES": ("Succeeded with failures", "warn"),
    "UPSTREAM_FAILED": ("Upstream failed", "neutral"),
    "UPSTREAM_CANCELED": ("Upstream canceled", "neutral"),
    "EXCLUDED": ("Excluded", "neutral"),
    "DISABLED": ("Disabled", "neutral"),
    "MAXIMUM_CONCURRENT_RUNS_REACHED": ("Skipped: too many runs", "neutral"),
    "MAX_CONCURRENT_RUNS_EXCEEDED": ("Skipped: too many runs", "neutral"),
    "MAX_JOB_QUEUE_SIZE_EXCEEDED": ("Skipped: queue full", "neutral"),
}


def outcome(item: Run | TaskRun) -> tuple[str, Tone]:
    """The label and tone of a run or task: its state's, refined by the API's own outcome.

    A run whose ``ALL_DONE`` leaf succeeded after a failure is "Succeeded with failures"
    (not plain success); a task a condition excluded is "Excluded" (not a failure).
    """
    if item.state.is_terminal:
        for raw in (item.result_state, getattr(item, "termination_code", None)):
            if isinstance(raw, str) and raw in OUTCOMES:
                return OUTCOMES[raw]
    return state_label(item.state), state_tone(item.state)


def task_detail(task: TaskRun) -> str:
    """What a task's state alone does not say: a for-each's progress, a condition's outcome,
    the job a run-job task started ("" when there is nothing to add)."""
    stats = task.iterations
    if stats.get("total"):
        done = f"{stats.get('completed', 0)} of {stats['total']} iterations done"
        failed = stats.get("failed", 0)
        active = stats.get("active", 0)
        return done + (f", {failed} failed" if failed else "") + (f", {active} running" if active else "")
    if task.condition_outcome is not None:
        return f"condition was {task.condition_outcome}"
    if task.child_job_id is not None:
        return f"runs job {task.child_job_id}"
    return ""


# The colour of a state's text in %jobs HTML: JupyterLab's tone colour mixed 75/25 with
# the text colour around it, so it keeps >= 4.5:1 on the light and dark themes' output
# and table-row backgrounds (see tests/test_render.py for the computed ratios).
# Browsers without color-mix() show the inherited text colour.
_TONE_VARS: Final[Mapping[Tone, tuple[str, str]]] = {
    "success": ("--jp-success-color1", "#1a7f37"),
    "error": ("--jp-error-color1", "#cf222e"),
    "warn": ("--jp-warn-color0", "#9a6700"),
    "active": ("--jp-brand-color1", "#0969da"),
}
TONE_MIX: Final = 75


def tone_style(tone: Tone) -> str:
    """Inline CSS for a state label of ``tone`` (neutral and waiting use the text colour)."""
    pair = _TONE_VARS.get(tone)
    if pair is None:
        return "font-weight:600"
    name, fallback = pair
    return f"color:color-mix(in srgb, var({name}, {fallback}) {TONE_MIX}%, currentColor);font-weight:600"


# ----------------------------------------------------------------------------- text
def clip(text: object, limit: int) -> str:
    """``text`` cut to ``limit`` characters (code points), ending in "…" when cut."""
    value = "" if text is None else str(text)
    return value if len(value) <= limit else value[: max(0, limit - 1)] + ELLIPSIS


def humanize(value: str | None) -> str:
    """ "One time" from ``"ONE_TIME"`` (triggers, task types); "" for None."""
    words = " ".join(clip(value or "", 60).replace("_", " ").split()).lower()
    return words[:1].upper() + words[1:]


_SPACE = " \t\n\r\f\v"  # the blank space both sides strip (not Unicode's wider set)


def _trace_lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").rstrip(_SPACE).split("\n")


def trace_tail(text: str | None) -> str:
    """The end of a stack trace or log: its last lines, at most ``trace_chars`` characters.

    Lines end at ``\\n``, ``\\r\\n`` or ``\\r``; trailing blank space is dropped. When the
    kept lines are still too long, their start is cut and marked with "…". Applying it
    twice changes nothing.
    """
    lines = _trace_lines(text) if text else [""]
    kept = "\n".join(lines[-LIMITS["trace_lines"] :])
    limit = LIMITS["trace_chars"]
    return kept if len(kept) <= limit else ELLIPSIS + kept[len(kept) - (limit - 1) :]


def trace_title(text: str | None) -> str:
    """ "Stack trace (12 lines)" or "Stack trace (last 60 of 500 lines)" for ``text``."""
    lines = _trace_lines(text) if text else [""]
    total = 0 if lines == [""] else len(lines)
    shown = min(total, LIMITS["trace_lines"])
    if shown < total:
        return f"Stack trace (last {shown} of {total} lines)"
    return f"Stack trace ({total} line{'' if total == 1 else 's'})"


# ----------------------------------------------------------------------------- time
def format_duration_ms(ms: float | None) -> str:
    """ "42s", "4m 05s", "1h 05m", "2d 03h" (whole seconds, rounded down); "" when unknown."""
    if ms is None or not math.isfinite(ms):
        return ""
    total = math.floor(max(0.0, ms) / 1000)
    if total < 60:
        return f"{total}s"
    minutes, seconds = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"


def elapsed_ms(
    *,
    terminal: bool,
    start_ms: float | None,
    end_ms: float | None,
    duration_ms: float | None,
    now_ms: float | None,
) -> float | None:
    """How long a run (or task) has taken, or None when that is not known.

    Over: its reported duration, else ``end - start`` (never ``now``). Still going:
    ``now - start`` on the workspace's clock, 0 while a small skew says it started in
    the future, and None when ``now`` is clearly another clock (over a minute early).
    """
    if terminal:
        if duration_ms is not None and duration_ms > 0:
            return duration_ms
        if start_ms is not None and end_ms is not None:
            return max(0, end_ms - start_ms)
        return None if duration_ms is None else max(0, duration_ms)
    if start_ms is None or now_ms is None:
        return None
    delta = now_ms - start_ms
    if delta < -SKEW_MS:
        return None
    return max(0, delta)


def ticks(item: Run | TaskRun) -> bool:
    """Whether ``item``'s shown duration counts up live: a run that started and is not over;
    a task only while it runs (a queued or blocked task has no time of its own yet)."""
    if item.is_terminal or item.start_ms is None:
        return False
    return isinstance(item, Run) or (
        item.end_ms is None and item.state in (RunState.RUNNING, RunState.TERMINATING)
    )


def since_ms(item: Run | TaskRun) -> int | None:
    """Where a running item's elapsed time counts from: its start, or for a run being
    repaired, the repair's start (counting from the first start would make a repair
    look late at once)."""
    repaired = item.repair_started_ms if isinstance(item, Run) else None
    if not item.is_terminal and repaired is not None:
        return max(repaired, item.start_ms or 0)
    return item.start_ms


def shown_duration_ms(item: Run | TaskRun, now_ms: float | None) -> float | None:
    """The duration shown for a run or task as of ``now_ms`` (workspace clock), or None."""
    if not item.is_terminal and not ticks(item):
        return None
    return elapsed_ms(
        terminal=item.is_terminal,
        start_ms=since_ms(item),
        end_ms=item.end_ms,
        duration_ms=None if item.duration_s is None else round(item.duration_s * 1000),
        now_ms=now_ms,
    )


def format_timestamp(ms: int | None) -> str:
    """ "2024-05-01 14:00:00 CEST" in the kernel's time zone; "" when unknown."""
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def _half_up(value: float) -> int:
    return math.floor(value + 0.5)


def _tenths(value: float) -> str:
    rounded = _half_up(value * 10) / 10
    return str(int(rounded)) if rounded.is_integer() else str(rounded)


def eta_text(p10_ms: float, p50_ms: float, p90_ms: float) -> str:
    """ "usually takes 4–6 min" from the p10..p90 range ("about 5 min" when they agree)."""
    lo, hi = min(p10_ms, p50_ms), max(p90_ms, p50_ms)
    if hi < 60_000:
        a, b, unit = str(max(1, _half_up(lo / 1000))), str(max(1, _half_up(hi / 1000))), "s"
    elif hi < 2 * 3_600_000:
        low = max(1, _half_up(lo / 60_000))
        a, b, unit = str(low), str(max(low, _half_up(hi / 60_000))), "min"
    else:
        a, b, unit = _tenths(lo / 3_600_000), _tenths(hi / 3_600_000), "h"
    return f"usually takes about {a} {unit}" if a == b else f"usually takes {a}\u2013{b} {unit}"


# ----------------------------------------------------------------------------- commands
_BUSY: Final[Mapping[str, str]] = {
    "run": "Starting a run…",
    "cancel": "Cancelling…",
    "repair": "Repairing…",
    "refresh": "Refreshing…",
}


def busy_text(pending: str, detail: str | None = None) -> str:
    """What the panel says while a command is in flight ("" when none is)."""
    if not pending:
        return ""
    text = " ".join((detail or "").split())
    return clip(text or _BUSY.get(pending, "Working…"), LIMITS["message"])


# ----------------------------------------------------------------------------- links
_PRINTABLE = re.compile(r"[\x21-\x7e]+")
_AUTHORITY = re.compile(r"(?i)https?://([^/?#]*)")
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?)(?::([0-9]{1,5}))?")
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")
_IPV4 = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.?"
)


def safe_url(url: object) -> str | None:
    """``url`` (trimmed) if it may become a link, else None.

    Only absolute ``http:``/``https:`` URLs of printable ASCII up to ``LIMITS["url"]``
    characters, whose host is a name, a dotted IPv4 address or a bracketed IPv6 address,
    with no user info (``https://good.example@evil.example``) — never ``javascript:``.
    """
    if not isinstance(url, str):
        return None
    text = url.strip(_SPACE)
    if not 0 < len(text) <= LIMITS["url"] or not _PRINTABLE.fullmatch(text):
        return None
    authority = _AUTHORITY.match(text)
    host_port = _HOST_PORT.fullmatch(authority.group(1)) if authority else None
    if host_port is None:
        return None
    host, port = host_port.group(1), host_port.group(2)
    if port is not None and int(port) > 65_535:
        return None
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return None
    elif _NUMERIC_LABEL.fullmatch(host.rstrip(".").rsplit(".", 1)[-1]) and not _IPV4.fullmatch(host):
        return None  # browsers read a host ending in a number as an IPv4 address
    return text


# ----------------------------------------------------------------------------- for the front end
def rules_for_js() -> dict[str, Any]:
    """The tables the front end reads (``js/src/presentation.json``)."""
    return {
        "labels": {**{s.value: state_label(s) for s in RunState}, "IDLE": IDLE_LABEL},
        "tones": {**{s.value: state_tone(s) for s in RunState}, "IDLE": "neutral"},
        "limits": dict(LIMITS),
        "skew_ms": SKEW_MS,
    }
