"""What a run's state line does not say, said once: how it started, with what, how it ended.

Issue 15 asks views to show who triggered a run and how, the parameters it used, the
queue reason while it waits, the termination type and message when it ends, and its
repairs. ``%jobs status`` (text and HTML) and the panel's snapshot both take these lines
from :func:`run_facts`, so the wording and the limits live here only. A fact that the
run's state message already says is left out (one fact, one wording: issue 16, point 8).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from jobs_widgets._present import LIMITS, clip, format_timestamp, humanize
from jobs_widgets.core import Run, RunState

__all__ = ["MAX_FACT_PARAMS", "run_facts", "waiting_verb"]

#: Parameters listed in a facts line before "and N more".
MAX_FACT_PARAMS: Final = 8

_WAITING: Final = frozenset({RunState.QUEUED, RunState.BLOCKED, RunState.PENDING})

#: ``status.termination_details.type``: whose side the end came from, said plainly.
_TERMINATION_TYPES: Final[Mapping[str, str]] = {
    "CLIENT_ERROR": "by the job's code or settings (client error)",
    "INTERNAL_ERROR": "by a Databricks internal error",
    "CLOUD_FAILURE": "by a cloud provider failure",
}


def waiting_verb(run: Run) -> str:
    """The verb of a run's elapsed time: it ``took`` it, is ``waiting for`` it, or ``running for`` it."""
    if run.is_terminal:
        return "took"
    return "waiting for" if run.state in _WAITING else "running for"


def run_facts(run: Run) -> list[tuple[str, str]]:
    """``(label, text)`` lines about ``run`` beyond its state, each at most one line long."""
    facts: list[tuple[str, str]] = []
    started = _started(run)
    if started:
        facts.append(("Started", started))
    params = _params(run.params)
    if params:
        facts.append(("Parameters", params))
    message = run.state_message.strip()
    if run.queue_reason and not run.is_terminal and run.queue_reason.strip() != message:
        facts.append(("Queued", _line(run.queue_reason)))
    ended = _ended(run, message)
    if ended:
        facts.append(("Ended", ended))
    repairs = _repairs(run)
    if repairs:
        facts.append(("Repaired", repairs))
    return facts


def _line(text: object) -> str:
    return clip(" ".join(str(text).split()), LIMITS["headline_message"])


def _started(run: Run) -> str:
    how = humanize(run.trigger)
    parent = _mapping(run.raw.get("trigger_info")).get("run_id")
    if parent is not None and run.trigger == "RUN_JOB_TASK":
        how = f"{how} of run {_line(parent)}" if how else f"by run {_line(parent)}"
    who = f"by {clip(run.creator, LIMITS['name'])}" if run.creator else ""
    return ", ".join(part for part in (how, who) if part)


def _params(params: Mapping[str, str]) -> str:
    items = list(params.items())
    shown = ", ".join(
        f"{clip(k, LIMITS['param'])}={clip(v, LIMITS['param'])}" for k, v in items[:MAX_FACT_PARAMS]
    )
    more = len(items) - MAX_FACT_PARAMS
    return _line(shown + (f" and {more} more" if more > 0 else "")) if shown else ""


def _ended(run: Run, message: str) -> str:
    if not run.is_terminal or (run.state is RunState.SUCCEEDED and not run.termination_message):
        return ""
    kind = _TERMINATION_TYPES.get(run.termination_type or "", "")
    if not kind and run.termination_type not in (None, "SUCCESS"):
        kind = humanize(run.termination_type)  # a type this version does not know: shown as sent
    said = (run.termination_message or "").strip()
    text = said if said and said != message else ""
    return _line(": ".join(part for part in (kind, text) if part))


def _repairs(run: Run) -> str:
    repairs = run.repairs
    if not repairs:
        return ""
    when = format_timestamp(run.repair_started_ms)
    times = "once" if len(repairs) == 1 else f"{len(repairs)} times"
    return times + (f", last at {when}" if when else "")


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
