"""From an HTTP request to an engine call: the Jobs API routes and their parameter checks.

The server (:mod:`~jobs_widgets.sandbox.server`) owns sockets and HTTP; this module
owns what each endpoint means: which path is which endpoint, how query strings and
JSON bodies become typed arguments (with the service's own error messages), and which
identity may run or cancel which job.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobs_widgets.sandbox.engine import ApiError, Engine
from jobs_widgets.sandbox.shapes import page_run

API_PREFIXES = ("/api/2.2/jobs/", "/api/2.1/jobs/")
API_VERSION = "_api_version"  # the key under which a route finds "2.1" or "2.2" in its params


@dataclass
class Identity:
    """Who a bearer token belongs to, and whether it may use the Jobs API."""

    user: str
    has_jobs_scope: bool = True
    runnable_jobs: frozenset[int] | None = None  # None: every job
    #: May script the sandbox (``/api/sandbox/...``): only the sandbox's own token.
    admin: bool = False


Params = dict[str, Any]
Route = Callable[[Engine, Params, Identity], dict[str, Any]]


def _int(params: Params, name: str, *, required: bool = False, default: int | None = None) -> int | None:
    value = params.get(name)
    if value is None:
        if required:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Missing required field: {name}.")
        return default
    if isinstance(value, bool):
        raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Invalid value for {name}: expected an integer.")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and value.strip().isascii():
        return int(value.strip())
    raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Invalid value for {name}: expected an integer.")


def _bool(params: Params, name: str) -> bool:
    value = params.get(name)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Invalid value for {name}: expected a boolean.")


def _str(params: Params, name: str) -> str | None:
    value = params.get(name)
    if value is None or isinstance(value, str):
        return value
    raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Invalid value for {name}: expected a string.")


def _require_run_job(ident: Identity, job_id: Any) -> None:
    if ident.runnable_jobs is not None and isinstance(job_id, int) and job_id not in ident.runnable_jobs:
        raise ApiError(
            403,
            "PERMISSION_DENIED",
            f"User {ident.user} does not have Manage Run or Owner or Admin permissions on job {job_id}.",
        )


def _run_now(engine: Engine, p: Params, ident: Identity) -> dict[str, Any]:
    if p.get(API_VERSION) == "2.1" and isinstance(p.get("job_id"), str):
        p = {**p, "job_id": _int(p, "job_id")}  # 2.1 clients (the legacy CLI) send ids as strings
    _require_run_job(ident, p.get("job_id"))
    return engine.api_run_now(p, user=ident.user)


def _runs_get(engine: Engine, p: Params, ident: Identity) -> dict[str, Any]:
    run = engine.api_get_run(
        _int(p, "run_id", required=True) or 0, include_history=_bool(p, "include_history")
    )
    if p.get(API_VERSION) == "2.1":
        return run  # API 2.1 answers whole runs
    return page_run(run, p.get("page_token"))


def _runs_list(engine: Engine, p: Params, ident: Identity) -> dict[str, Any]:
    return engine.api_list_runs(
        job_id=_int(p, "job_id"),
        active_only=_bool(p, "active_only"),
        completed_only=_bool(p, "completed_only"),
        limit=_int(p, "limit", default=20) or 0,
        offset=_int(p, "offset", default=0) or 0,
        page_token=_str(p, "page_token"),
        expand_tasks=_bool(p, "expand_tasks"),
        start_time_from=_int(p, "start_time_from"),
        start_time_to=_int(p, "start_time_to"),
        run_type=_str(p, "run_type"),
    )


def _runs_cancel(engine: Engine, p: Params, ident: Identity) -> dict[str, Any]:
    run_id = _int(p, "run_id", required=True) or 0
    if ident.runnable_jobs is not None:
        job_id = engine.api_get_run(run_id)["job_id"]
        _require_run_job(ident, job_id)
    return engine.api_cancel_run(run_id)


def _runs_cancel_all(engine: Engine, p: Params, ident: Identity) -> dict[str, Any]:
    job_id = _int(p, "job_id")
    _require_run_job(ident, job_id)
    return engine.api_cancel_all(job_id=job_id, all_queued_runs=_bool(p, "all_queued_runs"))


def _runs_output(engine: Engine, p: Params, ident: Identity) -> dict[str, Any]:
    return engine.api_get_output(_int(p, "run_id", required=True) or 0)


def _runs_repair(engine: Engine, p: Params, ident: Identity) -> dict[str, Any]:
    run_id = _int(p, "run_id", required=True)
    if ident.runnable_jobs is not None:
        _require_run_job(ident, engine.api_get_run(run_id or 0)["job_id"])
    return engine.api_repair({**p, "run_id": run_id})


def _jobs_get(engine: Engine, p: Params, ident: Identity) -> dict[str, Any]:
    return engine.api_get_job(_int(p, "job_id", required=True) or 0)


def _jobs_list(engine: Engine, p: Params, ident: Identity) -> dict[str, Any]:
    return engine.api_list_jobs(
        limit=_int(p, "limit", default=20) or 0,
        offset=_int(p, "offset", default=0) or 0,
        page_token=_str(p, "page_token"),
        name=_str(p, "name"),
        expand_tasks=_bool(p, "expand_tasks"),
    )


ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "run-now"): _run_now,
    ("GET", "runs/get"): _runs_get,
    ("GET", "runs/list"): _runs_list,
    ("POST", "runs/cancel"): _runs_cancel,
    ("POST", "runs/cancel-all"): _runs_cancel_all,
    ("GET", "runs/get-output"): _runs_output,
    ("POST", "runs/repair"): _runs_repair,
    ("GET", "get"): _jobs_get,
    ("GET", "list"): _jobs_list,
}


def endpoint_of(path: str) -> str | None:
    for prefix in API_PREFIXES:
        if path.startswith(prefix):
            return path[len(prefix) :]
    return None


def json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            400, "MALFORMED_REQUEST", "Invalid JSON given in the body of the request - expected a map"
        ) from exc
    if not isinstance(value, dict):
        raise ApiError(
            400, "MALFORMED_REQUEST", "Invalid JSON given in the body of the request - expected a map"
        )
    return value
