"""How the server carries out an injected fault on the wire.

:mod:`~jobs_widgets.sandbox.faults` decides *which* fault a request meets; this module
is *how* it looks to the client: a Databricks-shaped error answer, or something done
to the TCP connection itself (close it, reset it, hold it open, or trickle the answer).

Whatever waits here (a hung or dripping answer) also watches the server's ``stopping``
event, so no fault can keep a handler thread, or :meth:`Sandbox.stop`, waiting.
"""

from __future__ import annotations

import contextlib
import io
import selectors
import socket
import struct
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from jobs_widgets.sandbox.engine import ApiError

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

#: How often a hung connection checks whether its client left or the server is stopping.
HANG_POLL_S = 0.05


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


@contextlib.contextmanager
def thread_named(name: str) -> Iterator[None]:
    """Rename the current thread while it carries out a fault, so a stuck one says why."""
    thread = threading.current_thread()
    saved, thread.name = thread.name, name
    try:
        yield
    finally:
        thread.name = saved


def abort(conn: socket.socket) -> None:
    """``drop``: an orderly close (FIN) without an answer."""
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)


def reset(conn: socket.socket, rfile: io.BufferedIOBase) -> None:
    """``reset``: close with ``SO_LINGER`` 0, so the kernel sends RST and the client sees ECONNRESET.

    No ``shutdown()`` first (that would send FIN). ``rfile`` is closed too: the socket's
    descriptor is only released (and the RST sent) once no file made from it is open.
    """
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    rfile.close()


def hang(conn: socket.socket, stopping: threading.Event, *, poll: float = HANG_POLL_S) -> None:
    """``hang``: answer nothing until the client hangs up or the server stops.

    Anything the client sends meanwhile is read and thrown away, so its close (EOF) is
    seen even behind a pipelined request.
    """
    with selectors.DefaultSelector() as selector:
        try:
            selector.register(conn, selectors.EVENT_READ)
        except (OSError, ValueError):
            return
        while not stopping.is_set():
            try:
                if selector.select(poll) and not conn.recv(65536):
                    return  # the client gave up
            except (OSError, ValueError):
                return


class DripWriter(io.BufferedIOBase):
    """``drip``: stands in for a handler's ``wfile`` and sends one byte every ``interval`` s.

    Status line, headers and body all trickle, so a client whose timeout applies to
    each socket read keeps waiting; one with a deadline for the whole answer gives up.
    Raises :class:`ConnectionAbortedError` as soon as the server stops.
    """

    def __init__(self, conn: socket.socket, interval: float, stopping: threading.Event) -> None:
        super().__init__()
        self._conn = conn
        self._interval = interval
        self._stopping = stopping

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer, /) -> int:
        chunk = bytes(data)
        for i in range(len(chunk)):
            if self._stopping.wait(self._interval):
                raise ConnectionAbortedError("the sandbox is stopping")
            self._conn.sendall(chunk[i : i + 1])
        return len(chunk)
