"""What a run will do, decided when it is created: its plan, drawn or scripted.

A run's fate (how long each phase and task takes, whether and where it fails, with
which error) is drawn once from a seeded random source, or set by a :class:`Script`.
Kept apart from the simulation that plays plans out, so the odds can be read (and
changed) in one place.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from jobs_widgets.sandbox.specs import JobSpec, TaskSpec

OUTCOMES = frozenset({"SUCCESS", "FAILED", "TIMEDOUT", "INTERNAL_ERROR"})


@dataclass
class Script:
    """Overrides for the next run(s) of a job; anything left None is drawn at random."""

    outcome: str | None = None
    duration_s: float | None = None
    fail_task: str | None = None
    fail_after_s: float | None = None
    error: str | None = None
    error_trace: str | None = None
    state_message: str | None = None
    queue_s: float | None = None
    setup_s: float | None = None
    cleanup_s: float | None = None
    run_name: str | None = None
    run_page_url: str | None = None
    notebook_result: str | None = None


#: Script fields that are durations in simulated seconds; the others are text.
_SECONDS_FIELDS = frozenset({"duration_s", "fail_after_s", "queue_s", "setup_s", "cleanup_s"})


def script_fields(raw: Mapping[str, object]) -> dict[str, Any]:
    """:class:`Script` fields from loosely typed input (``%jobs sandbox script`` words, JSON).

    Names are checked, durations become non-negative finite floats, ``outcome`` is
    upper-cased and checked; anything wrong is a ``ValueError`` naming the field.
    """
    known = [f.name for f in fields(Script)]
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in known:
            raise ValueError(f"unknown script field {name!r}; expected one of {', '.join(known)}")
        if value is None:
            out[name] = None
        elif name in _SECONDS_FIELDS:
            try:
                seconds = (
                    float(value)
                    if isinstance(value, str | int | float) and not isinstance(value, bool)
                    else None
                )
            except ValueError:
                seconds = None
            if seconds is None or not math.isfinite(seconds) or seconds < 0:
                raise ValueError(f"{name} must be a number of seconds, got {value!r}")
            out[name] = seconds
        elif not isinstance(value, str):
            raise ValueError(f"{name} must be text, got {value!r}")
        elif name == "outcome":
            if value.upper() not in OUTCOMES:
                raise ValueError(f"outcome must be one of {', '.join(sorted(OUTCOMES))}, got {value!r}")
            out[name] = value.upper()
        else:
            out[name] = value
    return out


@dataclass
class Plan:
    """A run's fate, fixed when it is created (a repair may rewrite it)."""

    queue_s: float
    setup_s: float
    cleanup_s: float
    durations: dict[str, float]
    outcome: str
    fail_task: str | None
    fail_after_s: float
    error: str
    trace: str | None
    flaky: set[str]
    state_message: str | None
    notebook_result: str | None


def draw_plan(spec: JobSpec, rng: random.Random, script: Script | None) -> Plan:
    """A run's fate: durations, outcome, failing task, error; ``script`` overrides any of it."""
    b = spec.behaviour
    s = script or Script()
    total = s.duration_s if s.duration_s is not None else b.median_s * math.exp(rng.gauss(0.0, b.sigma))
    total = max(total, 0.001)
    durations = split_durations(spec.tasks, total)
    failing = rng.random() < b.fail_rate
    outcome = s.outcome or ("FAILED" if failing else "SUCCESS")
    task_keys = [t.task_key for t in spec.tasks]
    fail_task = s.fail_task or rng.choice(task_keys)
    fraction = rng.uniform(0.1, 1.0)
    error, _ = rng.choice(b.errors) if b.errors else ("RuntimeError: task failed", "")
    flaky = {t.task_key for t in spec.tasks if t.max_retries and rng.random() < b.flaky_rate}
    fail_after = s.fail_after_s if s.fail_after_s is not None else durations[fail_task] * fraction
    return Plan(
        queue_s=s.queue_s if s.queue_s is not None else rng.uniform(*b.queue_s),
        setup_s=s.setup_s if s.setup_s is not None else rng.uniform(*b.setup_s),
        cleanup_s=s.cleanup_s if s.cleanup_s is not None else rng.uniform(*b.cleanup_s),
        durations=durations,
        outcome=outcome,
        fail_task=fail_task if outcome in {"FAILED", "INTERNAL_ERROR", "TIMEDOUT"} else None,
        fail_after_s=fail_after,
        error=s.error or error,
        trace=s.error_trace,
        flaky=flaky,
        state_message=s.state_message,
        notebook_result=s.notebook_result,
    )


def split_durations(tasks: Iterable[TaskSpec], total: float) -> dict[str, float]:
    """Give each task a duration so that the DAG's critical path takes ``total``."""
    tasks = list(tasks)
    by_key = {t.task_key: t for t in tasks}
    longest: dict[str, float] = {}

    def path_weight(key: str) -> float:
        if key not in longest:
            task = by_key[key]
            longest[key] = task.weight + max((path_weight(d) for d in task.depends_on), default=0.0)
        return longest[key]

    critical = max(path_weight(k) for k in by_key)
    return {t.task_key: total * t.weight / critical for t in tasks}


def failure_rule(
    spec: JobSpec, overriding: dict[str, Any], job_parameters: list[dict[str, str]]
) -> str | None:
    """The error a run must fail with because of its parameters (``JobSpec.fails_above``)."""
    values: dict[str, str] = {p["name"]: p.get("value", "") for p in job_parameters}
    for name in ("notebook_params", "python_named_params", "sql_params"):
        values.update(overriding.get(name) or {})
    for param, (threshold, error) in spec.fails_above.items():
        try:
            if float(values[param]) > threshold:
                return error
        except (KeyError, ValueError):
            continue
    return None
