"""How the server carries out an injected fault on the wire.

:mod:`~jobs_widgets.sandbox.faults` decides *which* fault a request meets; this module
is *how* it looks to the client: a Databricks-shaped error answer, or something done
to the TCP connection itself.
"""

from __future__ import annotations

import contextlib
import socket

from jobs_widgets.sandbox.engine import ApiError


def fault_error(status: int) -> ApiError:
    codes = {
        403: ("PERMISSION_DENIED", "Permission denied (injected fault)."),
        404: ("RESOURCE_DOES_NOT_EXIST", "The resource does not exist (injected fault)."),
        429: ("REQUEST_LIMIT_EXCEEDED", "Too many requests. Please wait a moment and try again."),
        500: ("INTERNAL_ERROR", "The service encountered an internal error (injected fault)."),
        502: ("BAD_GATEWAY", "Bad gateway (injected fault)."),
        503: ("TEMPORARILY_UNAVAILABLE", "The service is temporarily unavailable (injected fault)."),
        504: ("DEADLINE_EXCEEDED", "The request timed out (injected fault)."),
    }
    code, message = codes[status]
    return ApiError(status, code, message)


def abort(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
