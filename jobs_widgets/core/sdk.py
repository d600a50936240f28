"""The one module that imports databricks-sdk: clients, calls, and error translation.

Importing databricks-sdk costs ~0.7 s and ~75 MiB, so it happens here, on first use,
never at ``import jobs_widgets``. Everything above this module deals in plain JSON
shapes (``as_dict()`` of the SDK's dataclasses) and :class:`JobsApiError`.

Client construction is bounded: databricks-sdk probes the host during ``Config()``
and, for an unreachable host, retries for its whole retry budget (300 s by default).
We check reachability first and give construction at most ``construct_timeout``
seconds, so a wrong ``DATABRICKS_HOST`` is one clear message in seconds. Every request
then has a total deadline, streamed body included (:mod:`~jobs_widgets.core.transport`).
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from jobs_widgets._version import __version__
from jobs_widgets.core.api_errors import (
    NOT_DATABRICKS,
    STATUS_BY_CLASS,
    STATUS_BY_CODE,
    STATUS_IN_MESSAGE,
    hint_for,
    is_foreign,
)
from jobs_widgets.core.errors import JobsApiError, JobsError
from jobs_widgets.core.redact import redact, register_secret
from jobs_widgets.core.textsafe import json_safe
from jobs_widgets.core.transport import (
    READ_DEADLINE_S,
    WRITE_DEADLINE_S,
    bounded,
    check_reachable,
    deadline_adapter,
    settle,
)
from jobs_widgets.core.workspace_clock import workspace_offset

__all__ = ["Gateway", "default_client", "make_client", "translate_error"]

T = TypeVar("T")
MAX_RUN_PAGES = 200  # 20,000 elements per array; a workspace that pages forever is cut off
_MISSING_FILE = str(Path("/nonexistent/jobs-widgets/.databrickscfg"))


class _QuietHostProbe(logging.Filter):
    """Demote databricks-sdk's "failed to resolve config from host metadata" to DEBUG.

    ``Config()`` probes ``/.well-known/databricks-config`` and, on any failure, logs a
    WARNING and carries on. In a notebook that warning is a red stderr line next to our
    own one-line error (or, for a workspace without the endpoint, on every client), so
    it is kept for those who log at DEBUG and hidden from everyone else.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and str(record.msg).startswith(
            "Failed to automatically resolve config from host metadata"
        ):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            # handlers don't re-check the logger's level: drop it unless DEBUG is on
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


@functools.cache
def _sdk() -> Any:
    """The databricks.sdk modules we use, imported (and our log filter installed) once."""
    logging.getLogger("databricks.sdk").addFilter(_QuietHostProbe())
    import requests
    from databricks.sdk import WorkspaceClient, errors
    from databricks.sdk.clock import Clock as SdkClock
    from databricks.sdk.core import Config
    from databricks.sdk.service import jobs

    class _Namespace:
        pass

    ns = _Namespace()
    ns.WorkspaceClient = WorkspaceClient  # type: ignore[attr-defined]
    ns.Config = Config  # type: ignore[attr-defined]
    ns.errors = errors  # type: ignore[attr-defined]
    ns.jobs = jobs  # type: ignore[attr-defined]
    ns.requests = requests  # type: ignore[attr-defined]
    ns.SdkClock = SdkClock  # type: ignore[attr-defined]
    return ns


def _instant_clock() -> Any:
    """An SDK clock whose sleeps take no real time (for retries in virtual-time tests)."""
    sdk = _sdk()

    class InstantClock(sdk.SdkClock):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            self._now = 0.0
            self._lock = threading.Lock()

        def time(self) -> float:
            with self._lock:
                return self._now

        def sleep(self, seconds: float) -> None:
            with self._lock:
                self._now += max(0.0, seconds)

    return InstantClock()


def _single_attempt_clock() -> Any:
    """An SDK clock that makes databricks-sdk try each request once: its retry sleep ends the budget.

    The SDK's ``retried`` loop runs ``while clock.time() < deadline`` and sleeps between
    attempts; this clock's ``sleep`` moves its time past any deadline instead of waiting.
    So a 429/503/timeout surfaces at once (as the SDK's ``TimeoutError`` carrying the
    real error and its ``Retry-After``), and every retry is ours: the hub's backoff for
    polling reads, ``PollPolicy.error_delay`` for writes, within the request budget.
    """
    sdk = _sdk()

    class SingleAttemptClock(sdk.SdkClock):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            self._offset = 0.0
            self._lock = threading.Lock()

        def time(self) -> float:
            import time

            with self._lock:
                return time.time() + self._offset

        def sleep(self, seconds: float) -> None:
            with self._lock:
                self._offset += 1e9  # past any retry deadline; no real time passes

    return SingleAttemptClock()


def make_client(
    host: str,
    token: str,
    *,
    retry_timeout_seconds: int = 10,
    http_timeout_seconds: float = 30.0,
    instant_retries: bool = False,
    construct_timeout: float = 10.0,
    read_deadline: float = READ_DEADLINE_S,
    write_deadline: float = WRITE_DEADLINE_S,
) -> Any:
    """A ``WorkspaceClient`` for ``host`` with a PAT, isolated from the user's profiles and env.

    ``auth_type="pat"`` and a non-existent config file keep ``~/.databrickscfg`` and
    ``DATABRICKS_*`` credentials out of it (see the SDK facts, section 1.3). Each request
    ends by a total deadline (``read_deadline`` for GETs, ``write_deadline`` for writes;
    see :mod:`~jobs_widgets.core.transport`), except with ``instant_retries``, which
    keeps databricks-sdk's own transport for tests of its retries.
    """
    sdk = _sdk()
    register_secret(token)
    kwargs: dict[str, Any] = {
        "host": host,
        "token": token,
        "auth_type": "pat",
        "config_file": _MISSING_FILE,
        "retry_timeout_seconds": max(1, int(retry_timeout_seconds)) if instant_retries else 1,
        "http_timeout_seconds": http_timeout_seconds,
        "product": "jobs_widgets",
        "product_version": __version__,
    }
    kwargs["clock"] = _instant_clock() if instant_retries else _single_attempt_clock()
    if not instant_retries:
        kwargs["http_adapter"] = deadline_adapter(read_deadline=read_deadline, write_deadline=write_deadline)

    def build() -> Any:
        return settle(sdk.WorkspaceClient(config=sdk.Config(**kwargs)), host, kwargs.get("http_adapter"))

    return bounded(build, construct_timeout, f"the workspace at {host}")


def default_client(
    env: Mapping[str, str] | None = None,
    *,
    construct_timeout: float = 10.0,
    read_deadline: float = READ_DEADLINE_S,
    write_deadline: float = WRITE_DEADLINE_S,
) -> Any:
    """A ``WorkspaceClient`` from databricks-sdk's unified auth (env, profile, or notebook-native).

    Every request ends by a total deadline (see :func:`make_client`).
    """
    sdk = _sdk()
    environ = os.environ if env is None else env
    host = environ.get("DATABRICKS_HOST", "").strip()
    token = environ.get("DATABRICKS_TOKEN", "").strip()
    register_secret(token)
    if host and not environ.get("DATABRICKS_RUNTIME_VERSION"):
        check_reachable(host, timeout=min(3.0, construct_timeout))
    kwargs: dict[str, Any] = {
        "product": "jobs_widgets",
        "product_version": __version__,
        # Our calls make one attempt each (the clock below); the budget only bounds
        # databricks-sdk's host-metadata probe in Config(), which ignores that clock.
        "retry_timeout_seconds": 1,
        "http_timeout_seconds": 30.0,
        "clock": _single_attempt_clock(),  # retries are ours (see _single_attempt_clock)
        "http_adapter": deadline_adapter(read_deadline=read_deadline, write_deadline=write_deadline),
    }
    if env is not None:
        # An explicit environment: take credentials from it, not from os.environ.
        for name, attr in (("DATABRICKS_HOST", "host"), ("DATABRICKS_TOKEN", "token")):
            if environ.get(name):
                kwargs[attr] = environ[name]
        if "token" in kwargs:
            kwargs["auth_type"] = "pat"

    def build() -> Any:
        try:
            client = sdk.WorkspaceClient(config=sdk.Config(**kwargs))
        except ValueError as exc:
            first = redact(str(exc)).split(". ")[0].strip()
            raise JobsError(
                f"cannot set up Databricks credentials: {first}. Set DATABRICKS_HOST and DATABRICKS_TOKEN, "
                "or DATABRICKS_CONFIG_PROFILE, or try the embedded sandbox (%jobs sandbox start)."
            ) from None
        return settle(client, host, kwargs["http_adapter"])

    return bounded(build, construct_timeout, "the Databricks workspace")


# ---------------------------------------------------------------------- errors
def _status(exc: BaseException) -> int | None:
    errors = _sdk().errors
    for name, status in STATUS_BY_CLASS:
        cls = getattr(errors, name, None)
        if isinstance(cls, type) and isinstance(exc, cls):
            return status
    code = getattr(exc, "error_code", None)
    if code in STATUS_BY_CODE:
        return STATUS_BY_CODE[code]
    match = STATUS_IN_MESSAGE.match(str(exc))
    return int(match.group(1)) if match else None


def translate_error(exc: BaseException, operation: str) -> JobsApiError:
    """Any failure of an SDK call as a one-line :class:`JobsApiError` with a hint."""
    if isinstance(exc, JobsApiError):
        return exc
    sdk = _sdk()
    cause: BaseException = exc
    transient = False
    if isinstance(exc, TimeoutError) and not isinstance(exc, sdk.errors.DatabricksError):
        # The SDK's retry budget ran out; the real problem is the cause.
        transient = True
        cause = exc.__cause__ or exc
    requests = sdk.requests
    if isinstance(cause, sdk.errors.DatabricksError):
        status = _status(cause)
        code = getattr(cause, "error_code", None) or None
        message = redact(str(cause)).strip() or "request failed"
        retry_after = getattr(cause, "retry_after_secs", None)
        foreign = is_foreign(status, code)
        transient = not foreign and (transient or (status is not None and (status == 429 or status >= 500)))
        return JobsApiError(
            message,
            status_code=status,
            error_code=code,
            hint=hint_for(status, code, message),
            transient=transient,
            retry_after=float(retry_after) if retry_after else None,
            operation=operation,
        )
    if isinstance(cause, requests.exceptions.ConnectionError | ConnectionError):
        return JobsApiError(
            f"{operation}: connection to the workspace failed ({type(cause).__name__})",
            transient=True,
            hint="check DATABRICKS_HOST and the network; jobs_widgets keeps retrying",
            operation=operation,
        )
    if isinstance(cause, requests.exceptions.Timeout | TimeoutError):
        return JobsApiError(
            f"{operation}: the workspace did not answer in time",
            transient=True,
            hint="the workspace is slow or unreachable; jobs_widgets keeps retrying",
            operation=operation,
        )
    if isinstance(cause, ValueError) and "json" in type(cause).__name__.lower() + str(cause).lower():
        return JobsApiError(
            f"{operation}: the server did not answer with JSON", hint=NOT_DATABRICKS, operation=operation
        )
    return JobsApiError(
        f"{operation}: {type(cause).__name__}: {redact(str(cause))}".strip(), operation=operation
    )


# ---------------------------------------------------------------------- calls
_RUN_NOW_OBJECTS = {"queue": "QueueSettings", "pipeline_params": "PipelineParams"}


class Gateway:
    """The Jobs API calls jobs_widgets makes, on one ``WorkspaceClient``.

    Results are JSON dicts (``as_dict()`` of the SDK's dataclasses); failures are
    :class:`JobsApiError`. ``identity`` names the client for caches and the hub
    without revealing anything about its credentials.
    """

    def __init__(self, client: Any, identity: str | None = None) -> None:
        from jobs_widgets.core.session import identity_of_client

        self.client = client
        try:
            host = str(client.config.host or "")
        except Exception:  # a client without config: still usable, just unnamed
            host = ""
        self.host = host
        self.identity = identity or identity_of_client(client)

    def _call(self, operation: str, fn: Callable[[], T]) -> T:
        """One SDK call: its answer made JSON/UTF-8 safe (once, here), its failure translated."""
        try:
            answer = fn()
        except Exception as exc:
            raise translate_error(exc, operation) from None
        safe: T = json_safe(answer)
        return safe

    def workspace_time(self) -> float | None:
        """The workspace's clock now (epoch seconds), from its ``Date`` headers; None until one is seen."""
        offset = workspace_offset(self.client)
        return None if offset is None else time.time() + offset

    def close(self) -> None:
        """Close the client's pooled HTTP connections (the client itself stays usable)."""
        base = getattr(getattr(self.client, "api_client", None), "_api_client", None)
        session = getattr(base, "_session", None)
        close = getattr(session, "close", None)
        if callable(close):
            try:
                close()
            except Exception:  # closing is best effort; nothing depends on it
                return

    def describe(self) -> dict[str, str | None]:
        """Host and auth type (never a credential)."""
        try:
            auth_type = self.client.config.auth_type
        except Exception:
            auth_type = None
        return {"host": self.host or None, "auth_type": auth_type}

    def get_run(self, run_id: int, *, include_history: bool = False) -> dict[str, Any]:
        """``runs/get``, whole: API 2.2 pages a run's arrays (``tasks``, ``iterations``...) at
        100 per answer and databricks-sdk hands back one page, so the pages are merged here
        (``repair_history`` only with ``include_history``)."""

        def fetch() -> dict[str, Any]:
            jobs = self.client.jobs
            history = include_history or None
            run: dict[str, Any] = jobs.get_run(run_id, include_history=history).as_dict()
            token = run.pop("next_page_token", None)
            for _ in range(MAX_RUN_PAGES):
                if not token:
                    break
                page = jobs.get_run(run_id, include_history=history, page_token=token).as_dict()
                token = page.pop("next_page_token", None)
                for name, items in page.items():
                    if isinstance(items, list) and items:
                        run[name] = [*run.get(name, []), *items]
            return run

        return self._call("get run", fetch)

    def list_runs(
        self,
        job_id: int,
        *,
        limit: int,
        active_only: bool = False,
        completed_only: bool = False,
        expand_tasks: bool = False,
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` runs of the job, newest first, in pages of at most 25."""

        def fetch() -> list[dict[str, Any]]:
            pages = self.client.jobs.list_runs(
                job_id=job_id,
                limit=min(25, max(1, limit)),
                active_only=active_only or None,
                completed_only=completed_only or None,
                expand_tasks=expand_tasks or None,
            )
            return [r.as_dict() for r in itertools.islice(pages, limit)]

        return self._call("list runs", fetch)

    def run_now(self, job_id: int, fields: Mapping[str, Any], *, idempotency_token: str) -> int:
        sdk_jobs = _sdk().jobs
        kwargs = dict(fields)
        for name, cls_name in _RUN_NOW_OBJECTS.items():
            if isinstance(kwargs.get(name), Mapping):
                kwargs[name] = getattr(sdk_jobs, cls_name).from_dict(dict(kwargs[name]))
        if isinstance(kwargs.get("performance_target"), str):
            kwargs["performance_target"] = sdk_jobs.PerformanceTarget(kwargs["performance_target"])
        kwargs["idempotency_token"] = idempotency_token

        def call() -> int:
            waiter = self.client.jobs.run_now(job_id, **kwargs)
            return int(waiter.response.run_id)

        return self._call("run now", call)

    def cancel_run(self, run_id: int) -> None:
        self._call("cancel run", lambda: self.client.jobs.cancel_run(run_id))

    def get_run_output(self, run_id: int) -> dict[str, Any]:
        return self._call("get run output", lambda: self.client.jobs.get_run_output(run_id).as_dict())

    def repair_run(
        self,
        run_id: int,
        *,
        rerun_all_failed_tasks: bool,
        rerun_tasks: list[str] | None = None,
        latest_repair_id: int | None = None,
        rerun_dependent_tasks: bool | None = None,
        job_parameters: Mapping[str, str] | None = None,
    ) -> int:
        def call() -> int:
            waiter = self.client.jobs.repair_run(
                run_id,
                rerun_all_failed_tasks=rerun_all_failed_tasks or None,
                rerun_tasks=rerun_tasks,
                latest_repair_id=latest_repair_id,
                rerun_dependent_tasks=rerun_dependent_tasks,
                job_parameters=dict(job_parameters) if job_parameters else None,
            )
            return int(waiter.response.repair_id or 0)

        return self._call("repair run", call)

    def get_job(self, job_id: int) -> dict[str, Any]:
        return self._call("get job", lambda: self.client.jobs.get(job_id).as_dict())
