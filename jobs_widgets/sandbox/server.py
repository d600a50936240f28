"""A stdlib HTTP server speaking the Jobs REST API (2.2 and 2.1) as databricks-sdk expects.

Loopback only, threaded, keep-alive with Nagle disabled (the stdlib's default stalls
~44 ms per request otherwise). Every API answer is JSON: results, or Databricks-shaped
errors (``{"error_code", "message"}``) with the real codes. Outside ``/api/``, the
links the sandbox hands out (``run_page_url``) are answered with small read-only HTML
pages (:mod:`~jobs_widgets.sandbox.pages`), and ``/api/sandbox/...`` lets the sandbox's
own token script it from another process (:mod:`~jobs_widgets.sandbox.admin`). Nothing a client sends
can produce a stack trace or leave a connection hanging: bodies are bounded, reads
time out, and unexpected exceptions become a plain 500.

This module owns sockets, threads and HTTP framing; what each endpoint means lives in
:mod:`~jobs_widgets.sandbox.routes`, and how an injected fault looks on the wire in
:mod:`~jobs_widgets.sandbox.netfaults`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from jobs_widgets.sandbox import admin, netfaults, pages
from jobs_widgets.sandbox.engine import ApiError, Engine
from jobs_widgets.sandbox.faults import STATUS_KINDS, FaultInjector, FaultRule
from jobs_widgets.sandbox.routes import API_VERSION, ROUTES, Identity, endpoint_of, json_object

__all__ = ["ROUTES", "Identity", "RequestRecord", "SandboxServer", "ServerState"]

log = logging.getLogger(__name__)

MAX_BODY = 4 * 1024 * 1024
METADATA_PATH = "/.well-known/databricks-config"


@dataclass(frozen=True)
class RequestRecord:
    """One request as the sandbox saw it (for tests that assert what was sent)."""

    method: str
    endpoint: str
    params: dict[str, Any]
    status: int
    user: str | None
    fault: str | None = None
    at: float = 0.0  # the sandbox clock's epoch time when it was served


@dataclass
class ServerState:
    """What every request handler shares: the engine, the faults, the tokens, the request log."""

    engine: Engine
    faults: FaultInjector
    tokens: dict[str, Identity]
    log: deque[RequestRecord] = field(default_factory=lambda: deque(maxlen=200_000))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, rec: RequestRecord) -> None:
        with self.lock:
            self.log.append(rec)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: ServerState

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._conn_threads: list[threading.Thread] = []
        #: Set when the sandbox stops: ends every fault's wait (hang, drip, latency) at once.
        self.stopping = threading.Event()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
            self._conn_threads = [t for t in self._conn_threads if t.is_alive()]
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name="jobs-widgets-sandbox-conn",
        )
        thread.daemon = True
        with self._open_lock:
            self._conn_threads.append(thread)
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self, timeout: float = 5.0) -> None:
        """End every keep-alive connection so no handler thread outlives the server."""
        with self._open_lock:
            sockets, threads = list(self._open), list(self._conn_threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out and hang up make our writes fail; that is normal here.
        log.debug("connection from %s ended with an error", client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 15
    server: _Server
    server_version = "jobs-widgets-sandbox"
    sys_version = ""
    _ctx: dict[str, Any] | None = None

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header on the workspace's own clock (a skewed or sped-up sandbox says so)."""
        return super().date_time_string(
            self.server.state.engine.clock.time() if timestamp is None else timestamp
        )

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    # ----------------------------------------------------------------------------
    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._record(status)
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_page(self, page: pages.Page) -> None:
        data = page.html()
        self.send_response(page.status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Security-Policy", pages.CONTENT_SECURITY_POLICY)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _error(self, err: ApiError, headers: dict[str, str] | None = None) -> None:
        self._send(err.status, err.body(), headers)

    def _record(self, status: int) -> None:
        """Log the request before answering, so a client never outruns the log."""
        ctx = self._ctx
        if ctx is None or ctx.get("recorded") or ctx.get("unlogged") or ctx["path"] == METADATA_PATH:
            return
        ctx["recorded"] = True
        ident = ctx.get("ident")
        self.server.state.record(
            RequestRecord(
                method=self.command,
                endpoint=ctx["endpoint"],
                params=_loggable(ctx.get("params") or {}),
                status=status,
                user=ident.user if ident else None,
                fault=ctx.get("fault"),
                at=self.server.state.engine.clock.time(),
            )
        )

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                except ValueError as exc:
                    self.close_connection = True
                    raise ApiError(400, "MALFORMED_REQUEST", "Malformed chunked body.") from exc
                if size == 0:
                    self.rfile.readline(1024)
                    break
                total += size
                if total > MAX_BODY:
                    self.close_connection = True
                    raise ApiError(400, "MALFORMED_REQUEST", "Request body is too large.")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
            return b"".join(chunks)
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            return b""
        try:
            length = int(raw_length)
        except ValueError as exc:
            self.close_connection = True
            raise ApiError(400, "MALFORMED_REQUEST", "Invalid Content-Length.") from exc
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            raise ApiError(400, "MALFORMED_REQUEST", "Request body is too large.")
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        state = self.server.state
        method = self.command
        try:
            url = urlsplit(self.path)
        except ValueError:
            url = urlsplit("/")
        path = url.path
        ctx: dict[str, Any] = {"path": path, "endpoint": path}
        self._ctx = ctx
        try:
            body = self._read_body()
            if path == METADATA_PATH:
                self._send(200, {})
                return
            if method in {"GET", "HEAD"} and pages.match(path):
                ctx["unlogged"] = True  # a browser opening a run link: not an API request, not logged
                self._send_page(pages.render(state.engine, path))
                return
            if path.startswith(admin.PREFIX):
                ctx["unlogged"] = True  # scripting the sandbox: not a Jobs API request, never faulted
                ident = self._authenticate(state)
                answer = admin.handle(
                    state.engine, state.faults, ident, method=method, path=path, body=json_object(body)
                )
                self._send(200, answer)
                return
            matched = endpoint_of(path)
            if matched is None or (method, matched) not in ROUTES:
                raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")
            ctx["endpoint"] = matched
            ctx["ident"] = ident = self._authenticate(state)
            route = ROUTES[(method, matched)]
            params = dict(parse_qsl(url.query, keep_blank_values=True))
            if method == "POST":
                params = json_object(body)
            ctx["params"] = params
            fault = state.faults.decide(matched)
            if fault is not None:
                ctx["fault"] = fault.kind
                if fault.kind in STATUS_KINDS:
                    raise netfaults.fault_error(int(fault.kind))
            # Routes see the API version (2.2 pages a run's arrays; 2.1 does not) besides the params.
            version = "2.1" if path.startswith("/api/2.1/") else "2.2"
            result = route(state.engine, {**params, API_VERSION: version}, ident)
            if fault is None:
                self._send(200, result)
            else:
                self._deliver(fault, result)
        except ApiError as err:
            headers = {}
            if err.status == 429:
                headers["Retry-After"] = str(state.faults.retry_after(ctx["endpoint"]))
            try:
                self._error(err, headers)
            except OSError:
                self.close_connection = True
        except OSError:
            self._record(0)
            self.close_connection = True
        except Exception:  # the last line of defence: never a stack trace to the client
            log.exception("sandbox request %s %s failed", method, path)
            try:
                self._error(ApiError(500, "INTERNAL_ERROR", "Internal error."))
            except OSError:
                self.close_connection = True
        finally:
            self._record(0)

    def _deliver(self, fault: FaultRule, result: dict[str, Any]) -> None:
        """Answer ``result`` the way a connection fault says: late, slowly, or not at all."""
        stopping = self.server.stopping
        with netfaults.thread_named(f"jobs-widgets-sandbox-{fault.kind}"):
            if fault.kind == "latency":
                if stopping.wait(fault.seconds):
                    raise ConnectionAbortedError("the sandbox is stopping")
                self._send(200, result)
            elif fault.kind == "drip":
                real = self.wfile
                self.wfile = netfaults.DripWriter(self.connection, fault.seconds, stopping)
                try:
                    self._send(200, result)
                finally:
                    self.wfile = real
            else:  # drop, reset, hang: the client never gets an answer
                self._record(0)
                self.close_connection = True
                if fault.kind == "drop":
                    netfaults.abort(self.connection)
                elif fault.kind == "reset":
                    netfaults.reset(self.connection, self.rfile)
                else:
                    netfaults.hang(self.connection, stopping)

    def _authenticate(self, state: ServerState) -> Identity:
        header = self.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401, "UNAUTHENTICATED", "Credential was not sent or was of an unsupported type for this API."
            )
        ident = state.tokens.get(token.strip())
        if ident is None:
            raise ApiError(403, "PERMISSION_DENIED", "Invalid access token.")
        if not ident.has_jobs_scope:
            raise ApiError(
                403, "PERMISSION_DENIED", "Provided OAuth token does not have required scopes: jobs"
            )
        return ident


def _loggable(params: dict[str, Any]) -> dict[str, Any]:
    """Keep the request log small: only scalar fields and short param maps."""
    out: dict[str, Any] = {}
    for key, value in list(params.items())[:32]:
        if isinstance(value, str | int | float | bool) or value is None:
            out[str(key)] = value if not isinstance(value, str) else value[:200]
        else:
            out[str(key)] = json.dumps(value)[:200]
    return out


class SandboxServer:
    """Owns the listening socket and the serving thread."""

    def __init__(self, state: ServerState, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._httpd = _Server((host, port), _Handler)
        self._httpd.state = state
        self.state = state
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="jobs-widgets-sandbox",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self._httpd.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
