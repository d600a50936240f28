"""The errors jobs_widgets raises. All subclass :class:`JobsError`.

Messages are written for the person at the notebook: one line saying what happened
and, where we know it, what to do next. No message, repr or attribute ever carries a
token (see :mod:`jobs_widgets.core.redact`).
"""

from __future__ import annotations

import json

__all__ = [
    "JobNotConfiguredError",
    "JobsApiError",
    "JobsClosedError",
    "JobsError",
    "ParamsError",
    "RunScopeError",
    "UnknownJobError",
    "WaitTimeoutError",
]


class JobsError(Exception):
    """Base class of every error raised by jobs_widgets."""


def quote(name: object, limit: int = 60) -> str:
    """A name for a one-line message: JSON-quoted (newlines escaped), shortened if long."""
    text = json.dumps(str(name), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 4] + '..."'


class UnknownJobError(JobsError, KeyError):
    """A job key that is not configured. The message lists the keys that are."""

    def __init__(self, key: str, available: list[str]) -> None:
        self.key = key
        self.available = list(available)
        listed = ", ".join(available) if available else "none (set DATABRICKS_JOB_<KEY>=<job id>)"
        super().__init__(f"Unknown job {quote(key)}. Available jobs: {listed}")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class JobNotConfiguredError(JobsError):
    """A job key exists but has no usable job id (missing, or not a positive integer)."""

    def __init__(self, key: str, message: str, *, variable: str | None = None) -> None:
        self.key = key
        self.variable = variable
        super().__init__(message)


class ParamsError(JobsError, ValueError):
    """Arguments that cannot be sent: run parameters invalid for the job's model or task
    type, or a malformed run id, limit, timeout or abort mode (``key`` names which)."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        self.key = key
        super().__init__(message)


class RunScopeError(JobsError):
    """A run id that does not belong to this handle's job; nothing was sent for it."""

    def __init__(self, job_key: str, run_id: int) -> None:
        self.job_key = job_key
        self.run_id = run_id
        super().__init__(f"Run {run_id} is not a run of job {quote(job_key)}; refusing to touch it.")


class WaitTimeoutError(JobsError, TimeoutError):
    """Stopped watching after ``timeout`` seconds. The run itself was not touched."""

    def __init__(self, run_id: int, timeout: float, last_state: str | None) -> None:
        self.run_id = run_id
        self.timeout = timeout
        self.last_state = last_state
        state = f" (last seen {last_state})" if last_state else ""
        super().__init__(
            f"Stopped watching run {run_id} after {timeout:g} s{state}; the run keeps going. "
            "Watch it again with watch(run_id)."
        )


class JobsClosedError(JobsError):
    """A wait, iterator or panel ended because what owned it was closed.

    Raised by waits whose :class:`~jobs_widgets.core.Jobs` registry was closed
    (``jobs.close()``, leaving ``with Jobs.from_env() as jobs:``) or whose runtime was
    (``%unload_ext jobs_widgets``, ``%jobs sandbox stop``, interpreter exit). The run
    itself is not touched: it keeps going in the workspace.
    """

    def __init__(self, owner: str = "the jobs_widgets runtime") -> None:
        self.owner = owner
        super().__init__(f"{owner} was closed; stopped watching (the run itself is not affected)")


class JobsApiError(JobsError):
    """The Jobs API (or the way to it) failed.

    Attributes
    ----------
    status_code:
        HTTP status when there was a response (``None`` for connection problems).
    error_code:
        Databricks error code such as ``PERMISSION_DENIED``, when known.
    message:
        The upstream message, with secrets redacted and the SDK's config dump removed.
    hint:
        What to do about it, for the cases we recognise (else ``None``).
    transient:
        True for problems worth retrying later (429, 5xx, timeouts, connection errors).
    retry_after:
        Seconds the service asked us to wait, when it said so.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error_code: str | None = None,
        hint: str | None = None,
        transient: bool = False,
        retry_after: float | None = None,
        operation: str | None = None,
    ) -> None:
        self.message = message
        self.status_code = status_code
        self.error_code = error_code
        self.hint = hint
        self.transient = transient
        self.retry_after = retry_after
        self.operation = operation
        super().__init__(self._render())

    def _render(self) -> str:
        parts = []
        if self.status_code is not None:
            parts.append(str(self.status_code))
        if self.error_code:
            parts.append(self.error_code)
        prefix = f"[{' '.join(parts)}] " if parts else ""
        text = f"{prefix}{self.message}"
        if self.hint:
            text = f"{text} — {self.hint}"
        return text
