"""How our clients reach the workspace: a deadline for every request, and bounded construction.

databricks-sdk sends its requests with ``requests`` and one timeout, which ``requests``
and urllib3 apply to each socket operation. A server that answers one byte a second
keeps every read under that timeout and the call never ends; a server that never
answers holds the call for the whole timeout. :func:`deadline_adapter` gives every
request a total deadline instead (connect, request, headers and body together): the
socket under each connection is wrapped (:class:`DeadlineSocket`) so that every
``recv``/``send`` waits at most until the request's deadline, and raises
:class:`TimeoutError` (``socket.timeout``) once it has passed. The stuck call itself
ends, so no thread is left behind in a socket, and the connection is closed by
urllib3 as after any timeout, so none leaks; connections of calls that finish in time
are reused as before.

Reads (``GET``) get :data:`READ_DEADLINE_S`: the hub retries them, so a quick "no"
beats a slow "maybe". Writes keep :data:`WRITE_DEADLINE_S`: the workspace may need
longer to start a run, and their idempotency tokens make our retry after a timeout
safe.

Imported by :mod:`jobs_widgets.core.sdk` only. The module itself needs only the
standard library; ``requests`` and ``urllib3`` are imported when the first adapter is
built, so ``import jobs_widgets.core`` stays cheap.
"""

from __future__ import annotations

import functools
import io
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from jobs_widgets.core.errors import JobsApiError
from jobs_widgets.core.workspace_clock import WorkspaceClock

if TYPE_CHECKING:
    from requests.adapters import HTTPAdapter

__all__ = [
    "CONNECT_TIMEOUT_S",
    "READ_DEADLINE_S",
    "WRITE_DEADLINE_S",
    "DeadlineSocket",
    "bounded",
    "check_reachable",
    "deadline_adapter",
    "direct_to_loopback",
    "is_loopback",
    "settle",
]

T = TypeVar("T")

#: Total time for one read (GET), from sending it to the last byte of its answer.
READ_DEADLINE_S = 10.0
#: Total time for one write (POST run-now, cancel, repair): longer, and safe to retry.
WRITE_DEADLINE_S = 30.0
#: Time to open a connection (TCP, and the TLS handshake), within the deadline.
CONNECT_TIMEOUT_S = 5.0
#: databricks-sdk's own adapter: 20 pools of 20 connections, blocking when all are busy.
POOL_SIZE = 20

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CURRENT = threading.local()  # .at: the deadline of the request this thread is sending


def _current_deadline() -> float | None:
    at: float | None = getattr(_CURRENT, "at", None)
    return at


class _Deadline:
    """The deadline (``time.monotonic()``) of the request a connection is carrying, if any."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at: float | None = None


class DeadlineSocket:
    """A connected socket whose every operation ends by its connection's request deadline.

    Before each ``recv``/``recv_into``/``send``/``sendall`` the real socket's timeout is
    set to the smaller of the per-operation timeout and the time left; once none is
    left, :class:`TimeoutError` is raised without touching the socket. Everything else
    (``fileno``, ``shutdown``, TLS details) is the real socket's. Not shared between
    threads: a pooled connection is used by one request at a time.
    """

    __slots__ = ("_deadline", "_sock", "_timeout")

    def __init__(self, sock: Any, deadline: _Deadline) -> None:
        self._sock = sock
        self._deadline = deadline
        self._timeout: float | None = sock.gettimeout()

    def _arm(self) -> None:
        at = self._deadline.at
        if at is None:
            self._sock.settimeout(self._timeout)
            return
        left = at - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out (the request's deadline passed)")
        self._sock.settimeout(left if self._timeout is None else min(self._timeout, left))

    def recv_into(self, buffer: Any, *args: Any) -> int:
        self._arm()
        return int(self._sock.recv_into(buffer, *args))

    def recv(self, bufsize: int, *args: Any) -> bytes:
        self._arm()
        return bytes(self._sock.recv(bufsize, *args))

    def send(self, data: Any, *args: Any) -> int:
        self._arm()
        return int(self._sock.send(data, *args))

    def sendall(self, data: Any, *args: Any) -> None:
        with memoryview(data) as view, view.cast("B") as octets:
            sent = 0
            while sent < len(octets):
                self._arm()
                sent += self._sock.send(octets[sent:], *args)

    def settimeout(self, value: float | None) -> None:
        self._timeout = value
        self._sock.settimeout(value)

    def gettimeout(self) -> float | None:
        return self._timeout

    def makefile(self, mode: str = "r", buffering: int | None = None, **_: Any) -> io.BufferedReader:
        """A buffered binary reader whose reads go through this object (what http.client uses)."""
        if mode not in {"r", "rb"}:
            raise ValueError(f"DeadlineSocket.makefile supports binary reading only, not {mode!r}")
        raw = socket.SocketIO(self, "rb")  # type: ignore[arg-type]
        self._sock._io_refs += 1  # as socket.makefile does: close() waits for this file
        size = io.DEFAULT_BUFFER_SIZE if buffering is None or buffering < 0 else buffering
        return io.BufferedReader(raw, size)

    def _decref_socketios(self) -> None:
        self._sock._decref_socketios()

    def close(self) -> None:
        self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def __repr__(self) -> str:
        return f"<DeadlineSocket {self._sock!r}>"


@functools.cache
def _adapter_class() -> type[HTTPAdapter]:
    """The adapter and the urllib3 classes under it (built once, on first use)."""
    from requests.adapters import HTTPAdapter
    from requests.exceptions import ConnectionError as RequestsConnectionError
    from requests.exceptions import ReadTimeout, Timeout
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.exceptions import ConnectTimeoutError, EmptyPoolError, ReadTimeoutError

    class DeadlineConnection(HTTPConnection):
        """Takes the deadline of the request it starts; its socket keeps to it."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._jw_deadline = _Deadline()

        def connect(self) -> None:
            at = self._jw_deadline.at = _current_deadline()
            if at is not None:
                left = at - time.monotonic()
                if left <= 0:
                    raise ConnectTimeoutError(self, f"Connection to {self.host} timed out (deadline passed)")
                if not isinstance(self.timeout, int | float) or self.timeout > left:
                    self.timeout = left
            super().connect()
            # (TLS inside a TLS proxy tunnel gives an SSLTransport, not a socket: left as it is)
            if isinstance(self.sock, socket.socket):
                self.sock = DeadlineSocket(self.sock, self._jw_deadline)

        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            at = self._jw_deadline.at
            if at is not None:  # the TLS handshake that follows: within what is left
                left, per_op = at - time.monotonic(), sock.gettimeout()
                sock.settimeout(max(0.001, left if per_op is None else min(per_op, left)))
            return sock

        def putrequest(
            self, method: str, url: str, skip_host: bool = False, skip_accept_encoding: bool = False
        ) -> None:
            self._jw_deadline.at = _current_deadline()  # each request on a reused connection
            super().putrequest(method, url, skip_host=skip_host, skip_accept_encoding=skip_accept_encoding)

    class DeadlineHTTPSConnection(DeadlineConnection, HTTPSConnection):
        pass

    def pool_wait(timeout: float | None) -> float | None:
        """How long to wait for a free connection (all busy, the pool blocks): not past the deadline."""
        at = _current_deadline()
        if timeout is None and at is not None:
            return max(0.0, at - time.monotonic())
        return timeout

    class DeadlinePool(HTTPConnectionPool):
        ConnectionCls = DeadlineConnection

        def _get_conn(self, timeout: float | None = None) -> Any:
            return super()._get_conn(pool_wait(timeout))

    class DeadlineHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = DeadlineHTTPSConnection

        def _get_conn(self, timeout: float | None = None) -> Any:
            return super()._get_conn(pool_wait(timeout))

    pools = {"http": DeadlinePool, "https": DeadlineHTTPSPool}

    class DeadlineAdapter(HTTPAdapter):
        """An ``HTTPAdapter`` whose requests each end by a total deadline (see the module)."""

        # pickled state (HTTPAdapter declares this as a plain list)
        __attrs__ = [  # noqa: RUF012
            *HTTPAdapter.__attrs__,
            "read_deadline",
            "write_deadline",
            "connect_timeout",
        ]

        def __init__(
            self, *, read_deadline: float, write_deadline: float, connect_timeout: float, pool_size: int
        ) -> None:
            self.read_deadline = read_deadline
            self.write_deadline = write_deadline
            self.connect_timeout = connect_timeout
            self.clock_samples = WorkspaceClock()
            super().__init__(pool_connections=pool_size, pool_maxsize=pool_size, pool_block=True)

        def __setstate__(self, state: dict[str, Any]) -> None:
            super().__setstate__(state)
            self.clock_samples = WorkspaceClock()

        def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **kw: Any) -> None:
            super().init_poolmanager(connections, maxsize, block, **kw)
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **proxy_kwargs)
            if not proxy.lower().startswith("socks"):  # SOCKS pools keep their own connections
                manager.pool_classes_by_scheme = pools
            return manager

        def _timeouts(self, timeout: Any, total: float) -> Any:
            if isinstance(timeout, tuple):
                connect, read = timeout
            elif timeout is None or isinstance(timeout, int | float):
                connect = read = timeout
            else:  # a urllib3 Timeout: as given (the deadline still holds)
                return timeout
            connect = self.connect_timeout if connect is None else min(connect, self.connect_timeout)
            read = total if read is None else min(read, total)
            return (min(connect, total), read)

        def send(  # noqa: PLR0917 (HTTPAdapter.send's own signature)
            self,
            request: Any,
            stream: bool = False,
            timeout: Any = None,
            verify: Any = True,
            cert: Any = None,
            proxies: Any = None,
        ) -> Any:
            method = (request.method or "GET").upper()
            total = self.read_deadline if method in _READ_METHODS else self.write_deadline
            saved, _CURRENT.at = _current_deadline(), time.monotonic() + total
            try:
                response = super().send(
                    request, stream, self._timeouts(timeout, total), verify, cert, proxies
                )
                if not stream:  # read the body here, within the deadline (not later in Session.send)
                    try:
                        response.content  # noqa: B018
                    except BaseException as exc:
                        response.close()
                        # requests reports a read timeout in the body as a ConnectionError
                        reason = (
                            exc.args[0] if isinstance(exc, RequestsConnectionError) and exc.args else None
                        )
                        if isinstance(reason, ReadTimeoutError):
                            raise ReadTimeout(reason, request=request) from None
                        raise
                self.clock_samples.note(response.headers.get("Date"))
                return response
            except EmptyPoolError as exc:
                raise Timeout(f"no free connection within {total:g} s", request=request) from exc
            finally:
                _CURRENT.at = saved

    DeadlineAdapter.__module__, DeadlineAdapter.__qualname__ = __name__, "DeadlineAdapter"  # picklable
    return DeadlineAdapter


def __getattr__(name: str) -> Any:
    """``DeadlineAdapter`` (the class), built on first use: ``requests`` is imported then."""
    if name == "DeadlineAdapter":
        return _adapter_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def deadline_adapter(
    *,
    read_deadline: float = READ_DEADLINE_S,
    write_deadline: float = WRITE_DEADLINE_S,
    connect_timeout: float = CONNECT_TIMEOUT_S,
    pool_size: int = POOL_SIZE,
) -> HTTPAdapter:
    """A ``requests`` adapter for ``Config(http_adapter=...)``: every request ends by its deadline.

    Pool settings are databricks-sdk's own (``pool_size`` pools of ``pool_size``
    connections, blocking when all are busy), for http:// and https:// alike.
    """
    for name, value in (("read_deadline", read_deadline), ("write_deadline", write_deadline)):
        if not value > 0:
            raise ValueError(f"{name} must be positive, got {value!r}")
    cls: Any = _adapter_class()
    adapter: HTTPAdapter = cls(
        read_deadline=float(read_deadline),
        write_deadline=float(write_deadline),
        connect_timeout=float(connect_timeout),
        pool_size=int(pool_size),
    )
    return adapter


# ---------------------------------------------------------------------- construction
def direct_to_loopback(client: Any) -> None:
    """Let a client of a 127.0.0.1 workspace ignore HTTP(S)_PROXY, without touching os.environ.

    (Changing the process-wide ``NO_PROXY`` would change every other program's requests.)
    """
    base = getattr(getattr(client, "api_client", None), "_api_client", None)
    session = getattr(base, "_session", None)
    if session is not None and hasattr(session, "trust_env"):
        session.trust_env = False


def settle(client: Any, host: str, adapter: Any = None) -> Any:
    """Finish a new client: a loopback one ignores proxies; the host probe's connection is closed.

    (databricks-sdk's ``Config()`` probes the host through ``adapter`` from a session of
    its own, whose connections would otherwise stay open, idle, as long as the client.)
    """
    if host and is_loopback(host):
        direct_to_loopback(client)
    close = getattr(adapter, "close", None)
    if callable(close):
        close()
    return client


def is_loopback(host: str) -> bool:
    return urlsplit(host if "://" in host else f"http://{host}").hostname in {"127.0.0.1", "localhost", "::1"}


def bounded(fn: Callable[[], T], timeout: float, what: str) -> T:
    """Run ``fn`` on a daemon thread; give up (with a clear error) after ``timeout`` seconds."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller's thread below
            box["error"] = exc

    thread = threading.Thread(target=target, name="jobs-widgets-connect", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise JobsApiError(
            f"{what} did not answer within {timeout:g} s",
            transient=True,
            hint="check DATABRICKS_HOST (is the workspace URL right and reachable from here?)",
        )
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def check_reachable(host: str, timeout: float) -> None:
    """Open (and close) one TCP connection to ``host``, or raise a transient :class:`JobsApiError`."""
    url = urlsplit(host if "://" in host else f"https://{host}")
    hostname = url.hostname
    if not hostname:
        raise JobsApiError(
            f"DATABRICKS_HOST={host!r} is not a URL", hint="use https://<workspace>.cloud.databricks.com"
        )
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((hostname, port), timeout=timeout):
            return
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise JobsApiError(
            f"cannot reach {url.scheme}://{hostname}:{port} ({reason})",
            transient=True,
            hint="check DATABRICKS_HOST (is the workspace URL right and reachable from here?)",
        ) from None
