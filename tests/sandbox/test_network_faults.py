"""Connection faults (hang, drip, reset, and latency at shutdown) through the real databricks-sdk.

Every test talks to 127.0.0.1 only, gives its clients short timeouts, and waits with
deadlines, so a regression fails in seconds instead of hanging the suite.
"""

from __future__ import annotations

import errno
import http.client
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from jobs_widgets.core.clock import ManualClock
from jobs_widgets.sandbox import FaultRule, Sandbox
from jobs_widgets.sandbox.faults import CONNECTION_KINDS, KINDS

from tests.sandbox.conftest import clear_faults_after

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(clock=ManualClock(), seed=0) as sandbox:
        yield sandbox


def causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and everything it was raised from (the SDK wraps the network error)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def wait_until(condition: Callable[[], bool], deadline_s: float = 10.0) -> None:
    deadline = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        time.sleep(0.02)


def fault_threads(kind: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"jobs-widgets-sandbox-{kind}"]


def in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except Exception as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


# --------------------------------------------------------------------------- rules
def test_connection_fault_rules_parse() -> None:
    assert {"hang", "drip", "reset"} <= CONNECTION_KINDS <= KINDS
    assert FaultRule.parse("runs/get:hang:0.1") == FaultRule("runs/get", "hang", 0.1)
    assert FaultRule.parse("runs/get:drip:1") == FaultRule("runs/get", "drip", 1.0, seconds=1.0)
    assert FaultRule.parse("run-now:drip:0.5:0.02").seconds == 0.02
    assert FaultRule.parse("*:reset:0.05") == FaultRule("*", "reset", 0.05)
    with pytest.raises(ValueError, match="unknown fault kind 'stall'"):
        FaultRule.parse("runs/get:stall")


def test_connection_faults_come_from_the_seeded_per_endpoint_stream() -> None:
    def pattern(seed: int) -> list[str | None]:
        with Sandbox(manual=True, seed=seed, faults=["*:hang:0.1", "*:drip:0.1", "*:reset:0.1"]) as s:
            for _ in range(10):
                s.faults.decide("runs/list")  # other endpoints' traffic changes nothing
            rules = [s.faults.decide("runs/get") for _ in range(60)]
            return [r.kind if r else None for r in rules]

    first = pattern(4)
    assert first == pattern(4) != pattern(5)
    assert {"hang", "drip", "reset", None} <= set(first)


# --------------------------------------------------------------------------- hang
def test_hang_after_run_now_is_a_read_timeout_and_the_run_was_started(sb: Sandbox) -> None:
    sb.faults.add("run-now:hang:1")
    w = sb.client(http_timeout_seconds=0.5, retry_timeout_seconds=1)
    before = len(sb.engine.runs_of("etl"))
    started = time.monotonic()
    with pytest.raises(Exception) as info:  # the SDK decides how it wraps it
        w.jobs.run_now(sb.jobs["etl"])
    assert time.monotonic() - started < 10
    assert any(isinstance(e, requests.exceptions.ReadTimeout) for e in causes(info.value))
    assert len(sb.engine.runs_of("etl")) == before + 1  # the work was done; the answer never came
    assert [(r.status, r.fault) for r in sb.requests if r.endpoint == "run-now"] == [(0, "hang")]


def test_hang_on_a_read_times_out_and_its_thread_ends_when_the_client_leaves(sb: Sandbox) -> None:
    sb.faults.add("runs/get:hang:1")
    w = sb.client(http_timeout_seconds=0.3, retry_timeout_seconds=1)
    run_id = w.jobs.run_now(sb.jobs["etl"]).response.run_id
    with pytest.raises(Exception) as info:
        w.jobs.get_run(run_id)
    assert any(isinstance(e, requests.exceptions.ReadTimeout) for e in causes(info.value))
    # The client closed its connection on timeout; the server notices and lets go.
    wait_until(lambda: not fault_threads("hang"), deadline_s=5)
    sb.faults.clear()
    assert w.jobs.get_run(run_id).run_id == run_id  # still serving


# --------------------------------------------------------------------------- drip
def test_drip_keeps_a_per_read_timeout_waiting_and_delivers_the_answer(sb: Sandbox) -> None:
    sb.faults.add("run-now:drip:1:0.01")  # ~170 bytes of status line, headers and body: >= 1.7 s
    w = sb.client(http_timeout_seconds=1.0, retry_timeout_seconds=1)
    started = time.monotonic()
    response = w.jobs.run_now(sb.jobs["etl"]).response
    elapsed = time.monotonic() - started
    assert elapsed > 1.5  # longer than the client's timeout, which no single read reached
    latest = max(sb.engine.runs_of("etl"), key=lambda r: r.run_id)
    assert (response.run_id, response.number_in_job) == (latest.run_id, latest.number)
    assert [(r.status, r.fault) for r in sb.requests if r.endpoint == "run-now"] == [(200, "drip")]


def test_drip_is_byte_by_byte_so_a_total_deadline_gives_up(sb: Sandbox) -> None:
    sb.faults.add("list:drip:1:0.05")
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=2)
    try:
        conn.request("GET", "/api/2.2/jobs/list", headers={"Authorization": f"Bearer {sb.token}"})
        sock = conn.sock
        assert sock is not None
        received = b""
        deadline = time.monotonic() + 0.6
        while time.monotonic() < deadline:
            chunk = sock.recv(4096)  # each read returns well within its 2 s timeout...
            assert chunk
            received += chunk
        # ...but a client with a 0.6 s deadline for the whole answer has not even the status line.
        assert 0 < len(received) < 17
        assert b"HTTP/1.1 200 OK\r\n".startswith(received)
    finally:
        conn.close()


# --------------------------------------------------------------------------- reset
def test_reset_is_a_connection_reset_for_a_plain_client(sb: Sandbox) -> None:
    sb.faults.add("list:reset:1")
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=5)
    try:
        conn.request("GET", "/api/2.2/jobs/list", headers={"Authorization": f"Bearer {sb.token}"})
        with pytest.raises(ConnectionResetError) as info:
            conn.getresponse()
        assert info.value.errno == errno.ECONNRESET
    finally:
        conn.close()
    assert [(r.status, r.fault) for r in sb.requests if r.endpoint == "list"] == [(0, "reset")]


def test_reset_reaches_the_sdk_as_a_connection_error(sb: Sandbox) -> None:
    sb.faults.add("runs/get:reset:1")
    w = sb.client(http_timeout_seconds=2, retry_timeout_seconds=1)
    run_id = w.jobs.run_now(sb.jobs["etl"]).response.run_id
    with pytest.raises(Exception) as info:
        w.jobs.get_run(run_id)
    chain = causes(info.value)
    assert any(isinstance(e, requests.exceptions.ConnectionError) for e in chain)
    assert any(isinstance(e, ConnectionResetError) and e.errno == errno.ECONNRESET for e in chain)


def test_a_reset_run_now_retried_with_its_idempotency_token_starts_one_run(sb: Sandbox) -> None:
    w = sb.client(instant_retries=True, retry_timeout_seconds=30, http_timeout_seconds=5)
    sb.faults.add("run-now:reset:1")
    clear_faults_after(sb, "run-now")
    before = len(sb.engine.runs_of("report"))
    run_id = w.jobs.run_now(sb.jobs["report"], idempotency_token="reset-1").response.run_id
    assert len(sb.engine.runs_of("report")) == before + 1
    assert sb.engine.run(run_id).token == "reset-1"
    assert [(r.status, r.fault) for r in sb.requests if r.endpoint == "run-now"] == [
        (0, "reset"),
        (200, None),
    ]


# --------------------------------------------------------------------------- shutdown
def test_stop_is_prompt_with_hung_dripping_and_slow_requests_and_ends_their_threads() -> None:
    before = set(threading.enumerate())
    sb = Sandbox(clock=ManualClock(), seed=0).start()
    try:
        sb.faults.add("runs/get:hang:1")
        sb.faults.add("get:drip:1:1")  # one byte a second: minutes for a whole job
        sb.faults.add("list:latency:1:60")
        w = sb.client(http_timeout_seconds=30, retry_timeout_seconds=1)
        clients = [
            in_thread(lambda: w.jobs.get_run(5001)),
            in_thread(lambda: w.jobs.get(sb.jobs["etl"])),
            in_thread(lambda: list(w.jobs.list(limit=3))),
        ]
        wait_until(lambda: all(fault_threads(k) for k in ("hang", "drip", "latency")))
        assert all(t.daemon for k in ("hang", "drip", "latency") for t in fault_threads(k))
        started = time.monotonic()
        sb.stop()
        assert time.monotonic() - started < 1.0
    finally:
        sb.stop()
    for thread, box in clients:
        thread.join(5)
        assert not thread.is_alive()
        assert "error" in box  # the connection closed under it; no answer was invented
    leftovers = [
        t for t in threading.enumerate() if t not in before and t.name.startswith("jobs-widgets-sandbox")
    ]
    assert leftovers == []
