"""What a Jobs API error means: its HTTP status, whether a workspace sent it, and what to do.

The tables and wording behind :func:`jobs_widgets.core.sdk.translate_error`, kept free
of databricks-sdk (which only :mod:`jobs_widgets.core.sdk` imports) so they can be read
and tested on their own.
"""

from __future__ import annotations

import re

__all__ = [
    "DATABRICKS_CODES",
    "NOT_DATABRICKS",
    "STATUS_BY_CLASS",
    "STATUS_BY_CODE",
    "hint_for",
    "is_foreign",
]

STATUS_BY_CLASS = (
    ("InvalidState", 400),
    ("InvalidParameterValue", 400),
    ("BadRequest", 400),
    ("Unauthenticated", 401),
    ("PermissionDenied", 403),
    ("ResourceDoesNotExist", 404),
    ("NotFound", 404),
    ("ResourceConflict", 409),
    ("TooManyRequests", 429),
    ("Cancelled", 499),
    ("NotImplemented", 501),
    ("TemporarilyUnavailable", 503),
    ("DeadlineExceeded", 504),
    ("InternalError", 500),
)


# Gateway errors have no SDK class of their own; their code (or message) tells.
STATUS_BY_CODE = {"BAD_GATEWAY": 502, "TEMPORARILY_UNAVAILABLE": 503, "DEADLINE_EXCEEDED": 504}
STATUS_IN_MESSAGE = re.compile(r"^\s*(5\d\d)\b")


# Error codes a Databricks workspace answers with; anything else came from something else.
DATABRICKS_CODES = frozenset(
    {
        "INVALID_PARAMETER_VALUE",
        "RESOURCE_DOES_NOT_EXIST",
        "PERMISSION_DENIED",
        "UNAUTHENTICATED",
        "BAD_REQUEST",
        "INVALID_STATE",
        "MALFORMED_REQUEST",
        "RESOURCE_CONFLICT",
        "ALREADY_EXISTS",
        "RESOURCE_ALREADY_EXISTS",
        "REQUEST_LIMIT_EXCEEDED",
        "RESOURCE_EXHAUSTED",
        "TOO_MANY_REQUESTS",
        "INTERNAL_ERROR",
        "TEMPORARILY_UNAVAILABLE",
        "DEADLINE_EXCEEDED",
        "BAD_GATEWAY",
        "NOT_FOUND",
        "ENDPOINT_NOT_FOUND",
        "FEATURE_DISABLED",
        "NOT_IMPLEMENTED",
        "CANCELLED",
        "ABORTED",
        "DATA_LOSS",
        "UNKNOWN",
        "QUOTA_EXCEEDED",
        "INVALID_PARAMETER",
        "IO_ERROR",
        "UNAVAILABLE",
    }
)
NOT_DATABRICKS = (
    "the server at DATABRICKS_HOST did not answer like a Databricks workspace: is DATABRICKS_HOST right?"
)


def is_foreign(status: int | None, code: str | None) -> bool:
    """True when an error answer cannot have come from a Databricks workspace.

    Databricks always answers client errors with a JSON ``error_code``; a bare 404 or
    an unknown code comes from some other server (or a wrong host).
    """
    if code is not None:
        return code not in DATABRICKS_CODES
    return status is not None and status < 500 and status != 429


def hint_for(status: int | None, code: str | None, message: str) -> str | None:
    if is_foreign(status, code):
        return NOT_DATABRICKS
    lowered = message.lower()
    if "required scopes" in lowered:
        return (
            "the token lacks the 'jobs' API scope: grant the jobs scope to the OAuth app/token "
            "(or use a personal access token)"
        )
    if "invalid access token" in lowered or (status == 403 and "token" in lowered and "expired" in lowered):
        return "DATABRICKS_TOKEN is invalid or expired: create a new token and set it again"
    if "manage run" in lowered or (status == 403 and "permission" in lowered):
        return "ask the job's owner for CAN_MANAGE_RUN on this job"
    if status == 401:
        return "no valid credentials: set DATABRICKS_TOKEN, or configure a profile (databricks auth login)"
    if status == 429:
        return "the workspace is rate limiting requests; jobs_widgets backs off and retries by itself"
    if status is not None and status >= 500:
        return "Databricks returned a server error; try again shortly"
    return None
