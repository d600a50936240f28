"""Every request of our clients ends by a total deadline, whatever the network does.

Through the real databricks-sdk client (``Sandbox.client()`` and ``default_client``)
against the sandbox's ``hang`` and ``drip`` faults: the stuck call itself returns (a
transient "did not answer in time") within its deadline, other calls on the same client
keep flowing meanwhile, and connections are reused, or closed when they time out.
Loopback only; every wait here is bounded.
"""

from __future__ import annotations

import copy
import pickle
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import urllib3.util.connection
from jobs_widgets.core import Jobs, JobsApiError
from jobs_widgets.core.sdk import Gateway, default_client, make_client
from jobs_widgets.core.transport import READ_DEADLINE_S, DeadlineSocket, _Deadline, deadline_adapter
from jobs_widgets.sandbox import Sandbox

SLACK_S = 1.0  # how late past its deadline a stuck call may end (a loaded 2-core machine)


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[socket.socket]:
    """Every TCP connection urllib3 opens from here on (what the sandbox sees as connections)."""
    opened: list[socket.socket] = []
    real = urllib3.util.connection.create_connection

    def counting(*args: Any, **kwargs: Any) -> socket.socket:
        sock = real(*args, **kwargs)
        opened.append(sock)
        return sock

    monkeypatch.setattr(urllib3.util.connection, "create_connection", counting)
    return opened


def timed(fn: Callable[[], object]) -> tuple[float, BaseException | None]:
    start = time.monotonic()
    try:
        fn()
    except BaseException as exc:  # returned to the test thread to assert on
        return time.monotonic() - start, exc
    return time.monotonic() - start, None


def in_threads(calls: dict[str, Callable[[], object]], join_s: float) -> dict[str, tuple[float, Any]]:
    """Run each call on its own thread; every thread must have ended within ``join_s``."""
    results: dict[str, tuple[float, Any]] = {}
    threads = [
        threading.Thread(target=lambda n=name, f=fn: results.__setitem__(n, timed(f)), name=name, daemon=True)
        for name, fn in calls.items()
    ]
    for thread in threads:
        thread.start()
    end = time.monotonic() + join_s
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"still in a socket after {join_s} s: {stuck}"
    return results


def assert_timed_out(result: tuple[float, Any], deadline: float) -> None:
    elapsed, exc = result
    assert isinstance(exc, JobsApiError), exc
    assert exc.transient and "did not answer in time" in str(exc)
    assert deadline - 0.3 <= elapsed <= deadline + SLACK_S, elapsed


@pytest.mark.parametrize("fault", ["runs/get:drip:1", "runs/get:hang"])
def test_a_stuck_read_ends_by_its_deadline_while_other_calls_flow(
    sandbox: Sandbox, connections: list[socket.socket], fault: str
) -> None:
    gateways = {"sandbox": Gateway(sandbox.client()), "default": Gateway(default_client(sandbox.env()))}
    job_id = sandbox.jobs["report"]
    run_id = sandbox.client().jobs.run_now(job_id).response.run_id
    for gw in gateways.values():
        gw.get_run(run_id)
    opened_before = len(connections)
    sandbox.faults.add(fault)
    stuck_done = threading.Event()
    latencies: dict[str, list[float]] = {}

    def flowing(gw: Gateway, name: str) -> Callable[[], None]:
        def loop() -> None:
            seen = latencies.setdefault(name, [])
            while not stuck_done.is_set():
                start = time.monotonic()
                gw.get_job(job_id)
                gw.list_runs(job_id, limit=5)
                seen.append(time.monotonic() - start)

        return loop

    calls: dict[str, Callable[[], object]] = {}
    for name, gw in gateways.items():
        for i in range(2):
            calls[f"{name}-stuck-{i}"] = lambda gw=gw: gw.get_run(run_id)
            calls[f"{name}-flowing-{i}"] = flowing(gw, f"{name}-{i}")
    threading.Timer(READ_DEADLINE_S + 0.5, stuck_done.set).start()
    results = in_threads(calls, join_s=READ_DEADLINE_S + SLACK_S + 2.0)

    for name, result in results.items():
        if "stuck" in name:
            assert_timed_out(result, READ_DEADLINE_S)
        else:
            assert result[1] is None, result
    for name, seen in latencies.items():  # 4 threads kept their pace beside 4 stuck ones
        assert len(seen) >= 20 and max(seen) < READ_DEADLINE_S / 2, (
            name,
            len(seen),
            max(seen),
        )  # never held by the stuck ones

    sandbox.faults.clear()
    for gw in gateways.values():  # the same clients work again at once
        assert gw.get_run(run_id)["run_id"] == run_id
    # No socket leaks: each client used at most 4 connections at once (1 pooled + 3 new);
    # the 2 of its stuck calls were closed, the 2 of its flowing threads stay pooled.
    assert len(connections) - opened_before <= 3 * len(gateways)
    still_open = [s for s in connections if s.fileno() != -1]
    assert len(still_open) <= 2 * len(gateways) + 1  # + the one of the client that started the run


def test_normal_calls_reuse_one_connection(sandbox: Sandbox, connections: list[socket.socket]) -> None:
    gw = Gateway(sandbox.client())
    job_id = sandbox.jobs["report"]
    gw.get_job(job_id)
    # the SDK's host probe (its own session) left no idle connection behind: one is open
    (pooled,) = [s for s in connections if s.fileno() != -1]
    opened = len(connections)
    for _ in range(50):
        gw.get_job(job_id)
        gw.list_runs(job_id, limit=3)
    run_id = gw.run_now(job_id, {}, idempotency_token="reuse-1")  # a write, same connection
    assert gw.get_run(run_id)["run_id"] == run_id
    assert len(connections) == opened

    sandbox.faults.add("runs/get:hang")
    with pytest.raises(JobsApiError, match="did not answer in time"):
        Gateway(make_client(sandbox.host, sandbox.token, read_deadline=0.5)).get_run(run_id)
    sandbox.faults.clear()
    gw.get_run(run_id)  # another client's timeout does not touch this one's connection
    assert len(connections) == opened + 2  # the other client's host probe and its hung call
    assert [s for s in connections if s.fileno() != -1] == [pooled]  # both closed; ours kept


def test_a_hung_run_now_is_retried_with_its_token_and_starts_one_run(sandbox: Sandbox) -> None:
    client = make_client(sandbox.host, sandbox.token, write_deadline=1.5)
    before = len(sandbox.engine.runs_of("report"))
    sandbox.faults.add("run-now:hang")

    def heal() -> None:  # the workspace answers again once one run-now has hung
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if any(r.endpoint == "run-now" and r.fault == "hang" for r in sandbox.requests):
                sandbox.faults.clear()
                return
            time.sleep(0.02)

    healer = threading.Thread(target=heal, daemon=True)
    healer.start()
    with Jobs.from_env(config=sandbox.config(), client=client, env=sandbox.env()) as jobs:
        elapsed, run_id = timed_value(lambda: jobs("report").run_now())
    healer.join(1)
    tokens = [r.params.get("idempotency_token") for r in sandbox.requests if r.endpoint == "run-now"]
    assert len(tokens) == 2 and tokens[0] == tokens[1]
    assert [r.run_id for r in sandbox.engine.runs_of("report")[before:]] == [run_id]
    assert elapsed < 1.5 + SLACK_S + 5.0  # the deadline, one backoff, the second answer


def timed_value(fn: Callable[[], int]) -> tuple[float, int]:
    start = time.monotonic()
    value = fn()
    return time.monotonic() - start, value


# ------------------------------------------------------------------ a body that drips, over TLS too
class _SlowBodyServer:
    """Answers the SDK's host probe and ``/fast`` at once; anything else with prompt headers
    and a body of 200 bytes sent one every 0.1 s (20 s in all). With ``tls``, over TLS."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.tls = tls
        self.stop = threading.Event()
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self.listener.close()

    def _accept(self) -> None:
        self.listener.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(0.1)
            if self.tls is not None:
                try:
                    conn.settimeout(5)
                    conn = self.tls.wrap_socket(conn, server_side=True)
                    conn.settimeout(0.1)
                except OSError:
                    return
            data = b""
            while not self.stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                data += chunk
                while b"\r\n\r\n" in data:
                    head, _, data = data.partition(b"\r\n\r\n")
                    if not self._answer(conn, head.split(b" ")[1]):
                        return

    def _answer(self, conn: socket.socket, path: bytes) -> bool:
        prompt = path.startswith((b"/.well-known", b"/fast"))
        body = b"{}" if prompt else b" " * 198 + b"{}"
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        conn.sendall(b"Content-Length: %d\r\n\r\n" % len(body))
        if prompt:
            conn.sendall(body)
            return True
        for i in range(len(body)):
            if self.stop.wait(0.1):
                return False
            try:
                conn.sendall(body[i : i + 1])
            except OSError:
                return False
        return True


@pytest.fixture
def slow_body() -> Iterator[_SlowBodyServer]:
    server = _SlowBodyServer()
    yield server
    server.close()


def test_a_body_that_drips_after_prompt_headers_ends_by_the_deadline(slow_body: _SlowBodyServer) -> None:
    gw = Gateway(make_client(slow_body.url, "dapi-slow", read_deadline=1.5))
    results = in_threads({"get": lambda: gw.get_run(1)}, join_s=1.5 + SLACK_S + 1.0)
    assert_timed_out(results["get"], 1.5)


def _self_signed(tmp: Path) -> tuple[Path, ssl.SSLContext]:
    """A certificate for 127.0.0.1 (its file, for the client to trust) and a server context."""
    pytest.importorskip("cryptography")
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp / "cert.pem", tmp / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return cert_file, context


def test_over_tls_connections_are_reused_and_stuck_reads_and_handshakes_end_by_the_deadline(
    tmp_path: Path, connections: list[socket.socket]
) -> None:
    cert_file, context = _self_signed(tmp_path)
    server = _SlowBodyServer(tls=context)
    silent = socket.create_server(("127.0.0.1", 0))  # accepts TCP (backlog), never answers TLS
    session = requests.Session()
    session.trust_env = False
    session.verify = str(cert_file)
    session.mount("https://", deadline_adapter(read_deadline=1.0))
    try:
        for _ in range(20):
            assert session.get(f"{server.url}/fast", timeout=30).json() == {}
        assert len(connections) == 1
        results = in_threads(
            {
                "body": lambda: session.get(f"{server.url}/runs/get", timeout=30),
                "handshake": lambda: session.get(f"https://127.0.0.1:{silent.getsockname()[1]}/", timeout=30),
            },
            join_s=1.0 + SLACK_S + 0.5,
        )
        for elapsed, exc in results.values():
            assert isinstance(exc, requests.exceptions.Timeout) and 0.9 <= elapsed <= 1.0 + SLACK_S, exc
        assert session.get(f"{server.url}/fast", timeout=30).ok
        # 1 reused for 20 calls, then for the stuck one (closed: the next call opened a new one),
        # and 1 to the silent server
        assert len(connections) == 3
    finally:
        session.close()
        server.close()
        silent.close()


# ------------------------------------------------------------------ the adapter and the socket
def test_waiting_for_a_free_connection_ends_by_the_deadline(sandbox: Sandbox) -> None:
    session = requests.Session()
    session.trust_env = False
    session.mount("http://", deadline_adapter(read_deadline=1.0, pool_size=1))
    auth = {"Authorization": f"Bearer {sandbox.token}"}
    url = f"{sandbox.host}/api/2.2/jobs/get?job_id={sandbox.jobs['report']}"
    held = session.get(url, headers=auth, timeout=30, stream=True)  # keeps the only connection
    results = in_threads({"queued": lambda: session.get(url, headers=auth, timeout=30)}, join_s=1.0 + SLACK_S)
    elapsed, exc = results["queued"]
    assert isinstance(exc, requests.exceptions.Timeout) and 0.9 <= elapsed <= 1.0 + SLACK_S
    held.close()
    assert session.get(url, headers=auth, timeout=30).ok
    session.close()


def test_deadline_socket_reads_until_the_deadline_and_closes_like_a_socket() -> None:
    ours, theirs = socket.socketpair()
    deadline = _Deadline()
    wrapped = DeadlineSocket(ours, deadline)
    wrapped.settimeout(30.0)
    theirs.sendall(b"hello\n")
    reader = wrapped.makefile("rb")
    assert reader.readline() == b"hello\n"  # no deadline: a plain socket

    stop = threading.Event()

    def drip() -> None:
        while not stop.wait(0.05):
            try:
                theirs.sendall(b"x")
            except OSError:
                return

    threading.Thread(target=drip, daemon=True).start()
    deadline.at = time.monotonic() + 0.5
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        reader.read(1000)
    assert 0.4 <= time.monotonic() - start <= 0.5 + SLACK_S
    with pytest.raises(TimeoutError):
        wrapped.sendall(b"late")
    stop.set()

    wrapped.close()  # like socket.close(): the descriptor lives until the file is closed
    assert ours.fileno() != -1
    reader.close()
    assert ours.fileno() == -1
    theirs.close()


def test_the_adapter_refuses_bad_deadlines_and_survives_pickling() -> None:
    with pytest.raises(ValueError, match="read_deadline"):
        deadline_adapter(read_deadline=0)
    adapter = deadline_adapter(read_deadline=3, write_deadline=7)
    for copied in (pickle.loads(pickle.dumps(adapter)), copy.deepcopy(adapter)):
        assert type(copied) is type(adapter)
        assert (copied.read_deadline, copied.write_deadline) == (3.0, 7.0)  # type: ignore[attr-defined]
        assert copied.poolmanager.pool_classes_by_scheme == adapter.poolmanager.pool_classes_by_scheme
