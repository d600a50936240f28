"""A stdlib HTTP server speaking the Jobs REST API (2.2 and 2.1) as databricks-sdk expects.

Loopback only, threaded, keep-alive with Nagle disabled (the stdlib's default stalls
~44 ms per request otherwise). Every answer is JSON: results, or Databricks-shaped
errors (``{"error_code", "message"}``) with the real codes. Nothing a client sends
can produce a stack trace or leave a connection hanging: bodies are bounded, reads
time out, and unexpected exceptions become a plain 500.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from jobs_widgets.sandbox.engine import ApiError, Engine
from jobs_widgets.sandbox.faults import FaultInjector

log = logging.getLogger(__name__)

MAX_BODY = 4 * 1024 * 1024
API_PREFIXES = ("/api/2.2/jobs/", "/api/2.1/jobs/")
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
class Identity:
    """Who a bearer token belongs to, and whether it may use the Jobs API."""

    user: str
    has_jobs_scope: bool = True
    runnable_jobs: frozenset[int] | None = None  # None: every job


@dataclass
class ServerState:
    engine: Engine
    faults: FaultInjector
    tokens: dict[str, Identity]
    log: deque[RequestRecord] = field(default_factory=lambda: deque(maxlen=200_000))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, rec: RequestRecord) -> None:
        with self.lock:
            self.log.append(rec)


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
    _require_run_job(ident, p.get("job_id"))
    return engine.api_run_now(p, user=ident.user)


def _runs_get(engine: Engine, p: Params, ident: Identity) -> dict[str, Any]:
    return engine.api_get_run(_int(p, "run_id", required=True) or 0)


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


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: ServerState

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._conn_threads: list[threading.Thread] = []

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

    def _error(self, err: ApiError, headers: dict[str, str] | None = None) -> None:
        self._send(err.status, err.body(), headers)

    def _record(self, status: int) -> None:
        """Log the request before answering, so a client never outruns the log."""
        ctx = self._ctx
        if ctx is None or ctx.get("recorded") or ctx["path"] == METADATA_PATH:
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
            matched = _endpoint(path)
            if matched is None or (method, matched) not in ROUTES:
                raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")
            ctx["endpoint"] = matched
            ctx["ident"] = ident = self._authenticate(state)
            route = ROUTES[(method, matched)]
            params = dict(parse_qsl(url.query, keep_blank_values=True))
            if method == "POST":
                params = _json_object(body)
            ctx["params"] = params
            fault = state.faults.decide(matched)
            if fault is not None:
                ctx["fault"] = fault.kind
                if fault.kind not in {"latency", "drop"}:
                    raise _fault_error(int(fault.kind))
            result = route(state.engine, params, ident)
            if fault is not None and fault.kind == "drop":
                self._record(0)
                self.close_connection = True
                _abort(self.connection)
                return
            if fault is not None:
                time.sleep(fault.seconds)
            self._send(200, result)
        except ApiError as err:
            headers = {}
            if err.status == 429:
                headers["Retry-After"] = str(_retry_after(state, ctx["endpoint"]))
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


def _endpoint(path: str) -> str | None:
    for prefix in API_PREFIXES:
        if path.startswith(prefix):
            return path[len(prefix) :]
    return None


def _json_object(body: bytes) -> dict[str, Any]:
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


def _fault_error(status: int) -> ApiError:
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


def _retry_after(state: ServerState, endpoint: str) -> int:
    for rule in state.faults.rules:
        if rule.kind == "429" and rule.matches(endpoint):
            return rule.retry_after
    return 1


def _abort(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)


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
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
