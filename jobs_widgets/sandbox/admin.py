"""Scripting a running sandbox from another process: ``/api/sandbox/...`` on its own server.

``sb.faults.add(...)`` and ``sb.engine.script(...)`` need the :class:`Sandbox` object,
which lives in the process that started it. A kernel attached to the demo's sandbox
(or to ``jobs-widgets sandbox``) has only its address and token; these endpoints let
it do the same over loopback (:class:`~jobs_widgets.sandbox.remote.RemoteSandbox` is
the client, ``%jobs sandbox fault`` / ``script`` use it):

``GET /api/sandbox/status``
    ``{"speed", "seed", "jobs": {key: id}, "faults": [rule, ...]}``
``POST /api/sandbox/faults``  ``{"clear": bool, "add": [rule, ...]}``
    Clear the rules (first), then add these; answers the rules now active.
``POST /api/sandbox/script``  ``{"job": key or id, "times": n, "script": {field: value}}``
    Decide the next ``times`` runs of a job (:class:`~jobs_widgets.sandbox.plans.Script`
    fields); ``{"job": ..., "clear": true}`` forgets the scripted runs not yet started.

Only the sandbox's own token (``DATABRICKS_TOKEN`` of its ``env()``) may call them; the
server listens on 127.0.0.1 only. They are not Jobs API requests: no fault is ever
injected into them (so a fault storm can always be cleared) and they are not in the
request log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jobs_widgets.core.clock import ManualClock, ScaledClock
from jobs_widgets.sandbox.engine import Engine
from jobs_widgets.sandbox.faults import FaultInjector, FaultRule
from jobs_widgets.sandbox.plans import script_fields
from jobs_widgets.sandbox.records import ApiError, invalid
from jobs_widgets.sandbox.routes import Identity

__all__ = ["PREFIX", "handle"]

PREFIX = "/api/sandbox/"

Handler = Callable[[Engine, FaultInjector, dict[str, Any]], dict[str, Any]]


def _status(engine: Engine, faults: FaultInjector, body: dict[str, Any]) -> dict[str, Any]:
    clock = engine.clock
    speed = clock.speed if isinstance(clock, ScaledClock) else 0.0 if isinstance(clock, ManualClock) else 1.0
    return {
        "speed": speed,
        "seed": engine.seed,
        "jobs": engine.job_keys,
        "faults": [rule.spec() for rule in faults.rules],
    }


def _faults(engine: Engine, faults: FaultInjector, body: dict[str, Any]) -> dict[str, Any]:
    add = body.get("add", [])
    if not isinstance(add, list) or not all(isinstance(rule, str) for rule in add):
        raise invalid("add must be a list of rules such as 'runs/get:503:0.1'.")
    clear = body.get("clear", False)
    if not isinstance(clear, bool):
        raise invalid("clear must be a boolean.")
    try:
        parsed = [FaultRule.parse(rule) for rule in add]  # every rule checked before any change
    except ValueError as exc:
        raise invalid(str(exc)) from None
    if clear:
        faults.clear()
    for rule in parsed:
        faults.add(rule)
    return {"faults": [rule.spec() for rule in faults.rules]}


def _script(engine: Engine, faults: FaultInjector, body: dict[str, Any]) -> dict[str, Any]:
    job = body.get("job")
    if not isinstance(job, str | int) or isinstance(job, bool):
        raise invalid("job must be a job key (such as 'etl') or a job id.")
    try:
        job_id = engine.job_id(job)
    except KeyError:
        known = ", ".join(engine.job_keys)
        raise invalid(f"The sandbox has no job {job!r}; its jobs: {known}.") from None
    if body.get("clear") is True:
        engine.clear_scripts(job_id)
        return {"job_id": job_id, "cleared": True}
    times = body.get("times", 1)
    if not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= 1000:
        raise invalid("times must be a whole number from 1 to 1000.")
    script = body.get("script", {})
    if not isinstance(script, dict):
        raise invalid("script must be an object of Script fields.")
    try:
        overrides = script_fields(script)
        engine.script(job_id, times=times, **overrides)
    except ValueError as exc:
        raise invalid(str(exc)) from None
    except KeyError as exc:
        raise invalid(f"Job {job!r} has no task {exc.args[0]!r}.") from None
    return {"job_id": job_id, "times": times, "script": overrides}


_ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "status"): _status,
    ("POST", "faults"): _faults,
    ("POST", "script"): _script,
}


def handle(
    engine: Engine, faults: FaultInjector, ident: Identity, *, method: str, path: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Answer one ``/api/sandbox/...`` request of ``ident`` (raises :class:`ApiError`)."""
    route = _ROUTES.get((method, path[len(PREFIX) :]))
    if route is None:
        raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")
    if not ident.admin:
        raise ApiError(403, "PERMISSION_DENIED", "Only the sandbox's own token may script it.")
    return route(engine, faults, body)
