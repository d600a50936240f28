"""The runtime's ownership contract: closing ends every wait, threads are its own, retries are the hub's.

These run with the defaults a user gets: the default client (``Jobs.from_env`` with no
client), the default policy, and the real clock where the SDK's own timing matters.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import threading
import time
import weakref
from collections.abc import Iterator

import pytest
from jobs_widgets.core import Jobs, JobsClosedError, ManualClock, PollPolicy, RunState
from jobs_widgets.core.runtime import Runtime
from jobs_widgets.core.virtual import VirtualTime
from jobs_widgets.sandbox import Sandbox

LONG_S = 3600.0


@pytest.fixture
def live() -> Iterator[Sandbox]:
    """The demo workspace on the real clock."""
    with Sandbox(seed=3) as sb:
        yield sb


def _own_threads(baseline: set[int]) -> list[threading.Thread]:
    """Threads started since ``baseline``, except the sandbox server's (it is the workspace here)."""
    return [
        t
        for t in threading.enumerate()
        if t.ident not in baseline and t.is_alive() and not t.name.startswith("jobs-widgets-sandbox")
    ]


def _settle(baseline: set[int], limit: float = 6.0) -> list[threading.Thread]:
    deadline = time.monotonic() + limit
    while (left := _own_threads(baseline)) and time.monotonic() < deadline:
        gc.collect()  # a dropped registry is freed (and its runtime closed) by the collector
        time.sleep(0.02)
    return left


def test_closing_the_runtime_ends_a_wait_with_a_timeout_at_once(live: Sandbox) -> None:
    """Finding 1: a run_and_wait(timeout=3) was still blocked 6 s after the hub stopped."""
    live.engine.script("report", duration_s=LONG_S)
    runtime = Runtime()
    jobs = Jobs.from_env(config=live.config(), env=live.env(), runtime=runtime)
    wait = jobs("report").run_and_wait(timeout=3)
    outcome: list[BaseException] = []

    def consume() -> None:
        try:
            list(wait)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=consume)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    runtime.close()
    thread.join(2)
    assert not thread.is_alive()
    assert time.monotonic() - started < 1.0
    assert len(outcome) == 1 and isinstance(outcome[0], JobsClosedError)
    assert "the jobs_widgets runtime was closed" in str(outcome[0])


def test_a_wait_enforces_its_own_timeout(live: Sandbox) -> None:
    """The deadline is the wait's own: it holds even if the hub's thread is stuck."""
    live.engine.script("report", duration_s=LONG_S)
    runtime = Runtime()
    jobs = Jobs.from_env(config=live.config(), env=live.env(), runtime=runtime)
    try:
        wait = jobs("report").run_and_wait(timeout=1.5)
        runtime.hub._fire_deadlines = lambda now: None  # type: ignore[method-assign]  # the hub never fires it
        started = time.monotonic()
        with pytest.raises(Exception, match="Stopped watching run") as err:
            list(wait)
        assert 1.4 < time.monotonic() - started < 3.0
        assert "WaitTimeoutError" in type(err.value).__name__
    finally:
        runtime.close()


def test_jobs_close_ends_its_waits_and_only_its_own(live: Sandbox) -> None:
    live.engine.script("report", duration_s=LONG_S)
    runtime = Runtime()
    try:
        mine = Jobs.from_env(config=live.config(), env=live.env(), runtime=runtime)
        other = Jobs.from_env(config=live.config(), env=live.env(), runtime=runtime)
        run_id = mine("report").run_now()
        my_wait, other_wait = mine("report").watch(run_id), other("report").watch(run_id)
        assert runtime.wait_idle(5)
        assert runtime.hub.watching == 1 and runtime.hub.listeners == 2  # one subscription, shared
        mine.close()
        with pytest.raises(JobsClosedError, match="this Jobs registry was closed"):
            next(my_wait)
        assert next(other_wait).run.run_id == run_id  # the other registry's wait goes on
        with pytest.raises(JobsClosedError):
            mine("report").watch(run_id)
        other_wait.close()
    finally:
        runtime.close()


def test_with_block_closes_the_registry(live: Sandbox) -> None:
    live.engine.script("report", duration_s=LONG_S)
    with Jobs.from_env(config=live.config(), env=live.env(), clock=live.clock) as jobs:
        wait = jobs("report").run_and_wait()
        runtime = jobs.runtime
    assert runtime.closed
    with pytest.raises(JobsClosedError):
        list(wait)


def test_a_hundred_registries_created_and_closed_leave_no_thread(live: Sandbox) -> None:
    """Finding 6: dropped registries with private hubs left 14 threads."""
    live.engine.script("report", duration_s=LONG_S)
    run_id = Jobs.from_env(config=live.config(), env=live.env(), runtime=Runtime())("report").run_now()
    baseline = {t.ident for t in threading.enumerate()}
    for _ in range(100):
        jobs = Jobs.from_env(config=live.config(), env=live.env(), clock=live.clock)
        watch = jobs("report").watch(run_id)  # starts the private runtime's threads
        jobs.close()
        with pytest.raises(JobsClosedError):
            next(watch)
    assert _settle(baseline) == []


def test_dropped_registries_free_their_threads(live: Sandbox) -> None:
    live.engine.script("report", duration_s=LONG_S)
    baseline = {t.ident for t in threading.enumerate()}
    for _ in range(3):
        jobs = Jobs.from_env(config=live.config(), env=live.env(), clock=live.clock)
        jobs("report").run_and_wait().close()
        del jobs
    gc.collect()
    assert _settle(baseline) == []


def test_a_registry_dropped_after_its_run_was_polled_is_freed(live: Sandbox) -> None:
    """The scheduler's loop once kept the last job it polled in a local across its sleep:
    that job's handle held the dropped registry, whose runtime then never closed."""
    live.engine.script("report", duration_s=LONG_S)
    baseline = {t.ident for t in threading.enumerate()}
    jobs = Jobs.from_env(config=live.config(), env=live.env(), clock=live.clock)
    watch = jobs("report").watch(jobs("report").run_now())
    assert next(watch).run.state.is_active  # the scheduler has polled the run's job
    watch.close()
    dropped = weakref.ref(jobs)
    del jobs, watch
    assert _settle(baseline) == []
    assert dropped() is None


def test_close_joins_only_its_own_threads() -> None:
    """Finding 6: shutdown joined every thread whose name had its prefix (10 s with two hubs)."""
    runtime = Runtime(name="jobs-widgets-hub-1")
    stuck = threading.Event()
    stranger = threading.Thread(target=stuck.wait, args=(10,), name="jobs-widgets-hub-1-call-7", daemon=True)
    stranger.start()
    runtime.submit(lambda: stuck.wait(10))  # one of its own workers is busy too
    started = time.monotonic()
    runtime.close()
    assert time.monotonic() - started < 1.3
    stuck.set()


def test_default_client_reports_degraded_at_once_under_503(live: Sandbox) -> None:
    """Finding 3: the SDK's own retries sent 21 runs/get in 31 s before anyone heard "degraded"."""
    live.engine.script("report", duration_s=LONG_S)
    runtime = Runtime()
    jobs = Jobs.from_env(config=live.config(), env=live.env(), runtime=runtime)  # the default client
    try:
        run_id = jobs("report").run_now()
        live.faults.add("runs/get:503")
        live.clear_requests()
        heard = threading.Event()

        class Listener:
            visible, deadline = True, None

            def on_update(self, update: object) -> None: ...
            def on_error(self, error: BaseException) -> None: ...
            def on_timeout(self) -> None: ...

            def on_health(self, health: object) -> None:
                if getattr(health, "status", "") == "degraded":
                    heard.set()

        started = time.monotonic()
        runtime.hub.subscribe(jobs("report"), run_id, Listener())
        assert heard.wait(5), "no degraded report within 5 s"
        assert time.monotonic() - started < 5
        gets = [r for r in live.requests if r.endpoint == "runs/get"]
        assert len(gets) <= 2, f"{len(gets)} runs/get before degraded: the SDK is retrying on its own"
    finally:
        runtime.close()


def _virtual(sb: Sandbox, clock: ManualClock) -> tuple[Jobs, VirtualTime]:
    """The default client (no test-only retry settings) on a virtual-time runtime."""
    jobs = Jobs.from_env(config=sb.config(), env=sb.env(), clock=clock)
    return jobs, VirtualTime(clock, jobs.hub)


@pytest.mark.parametrize("fault", ["runs/get:503", "runs/get:429:1:1"])
def test_requests_stay_within_the_budget_while_the_workspace_fails(fault: str) -> None:
    clock = ManualClock()
    with Sandbox(clock=clock, seed=1) as sb:
        sb.engine.script("report", duration_s=LONG_S)
        jobs, driver = _virtual(sb, clock)
        run_id = jobs("report").run_now()
        sb.faults.add(fault)
        sb.clear_requests()
        start = clock.monotonic()
        with driver:
            wait = jobs("report").watch(run_id, timeout=60)
            with pytest.raises(Exception, match="Stopped watching"):
                list(wait)
        gets = [r for r in sb.requests if r.endpoint == "runs/get"]
        budget = PollPolicy().budget_per_minute
        assert clock.monotonic() - start >= 60
        assert 3 <= len(gets) <= budget, [round(r.at - gets[0].at, 1) for r in gets]
        jobs.close()


def test_retry_after_longer_than_the_cap_is_honoured() -> None:
    clock = ManualClock()
    with Sandbox(clock=clock, seed=1) as sb:
        sb.engine.script("report", duration_s=LONG_S)
        jobs, driver = _virtual(sb, clock)
        run_id = jobs("report").run_now()
        sb.faults.add("runs/get:429:1:40")
        sb.clear_requests()
        with driver:
            with pytest.raises(Exception, match="Stopped watching"):
                list(jobs("report").watch(run_id, timeout=100))
        times = [r.at for r in sb.requests if r.endpoint == "runs/get"]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert gaps and min(gaps) >= 40, gaps
        jobs.close()


def test_load_history_is_idempotent(live: Sandbox) -> None:
    """Finding 5: each call prepended the same runs again (samples 2 -> 4 -> 6)."""
    runtime = Runtime()
    jobs = Jobs.from_env(config=live.config(), env=live.env(), runtime=runtime)
    etl = jobs("etl")
    live.clear_requests()
    first = runtime.hub.load_history(etl)
    samples = runtime.hub.history.samples((etl.identity, etl.job_id))
    for _ in range(3):
        assert runtime.hub.load_history(etl) == first
    assert runtime.hub.history.samples((etl.identity, etl.job_id)) == samples
    assert sum(1 for r in live.requests if r.endpoint == "runs/list") == 1
    runtime.close()


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_on_abort_cancel_cancels_after_an_early_break(live: Sandbox, kind: str) -> None:
    """Finding 8: a break cancelled only via __del__ doing I/O (sync), and not at all (async)."""
    live.engine.script("report", duration_s=LONG_S)
    runtime = Runtime()
    report = Jobs.from_env(config=live.config(), env=live.env(), runtime=runtime)("report")
    if kind == "sync":
        for update in report.run_and_wait(on_abort="cancel"):
            run_id = update.run.run_id
            break
    else:

        async def first() -> int:
            async for update in report.arun_and_wait(on_abort="cancel"):
                return update.run.run_id
            raise AssertionError("no update")

        run_id = asyncio.run(first())
    deadline = time.monotonic() + 5
    while live.engine.run(run_id).result != "CANCELED" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live.engine.run(run_id).result == "CANCELED"
    runtime.close()


def test_idle_sync_waits_cost_nothing_between_polls(live: Sandbox) -> None:
    """Finding 9: every sync wait woke 20 times a second."""
    live.engine.script("report", duration_s=LONG_S)
    runtime = Runtime()
    jobs = Jobs.from_env(config=live.config(), env=live.env(), runtime=runtime)
    run_id = jobs("report").run_now()
    waits = [jobs("report").watch(run_id, cancel=threading.Event()) for _ in range(50)]

    def consume(wait: object) -> None:
        with pytest.raises(JobsClosedError):
            list(wait)  # type: ignore[call-overload]

    threads = [threading.Thread(target=consume, args=(w,), daemon=True) for w in waits]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    cpu, wall = time.process_time(), time.monotonic()
    time.sleep(2.0)
    used = (time.process_time() - cpu) / (time.monotonic() - wall)
    runtime.close()
    for thread in threads:
        thread.join(2)
    assert used < 0.05, f"{used:.1%} of a core for 50 idle waits"


def test_the_loopback_client_leaves_the_process_proxy_settings_alone(
    live: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 9: the process-wide NO_PROXY was rewritten."""
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    before = dict(os.environ)
    runtime = Runtime()
    jobs = Jobs.from_env(config=live.config(), env=live.env(), runtime=runtime)
    assert jobs("etl").get_job().job_id == live.jobs["etl"]
    assert dict(os.environ) == before
    runtime.close()


def test_a_blank_job_variable_is_reported_by_name() -> None:
    jobs = Jobs.from_env(env={"DATABRICKS_JOB_ETL": " ", "DATABRICKS_JOB_TRAIN": "7"})
    assert jobs.keys() == ["etl", "train"]
    assert "DATABRICKS_JOB_ETL" in jobs.problems["etl"]
    huge = Jobs.from_env(env={"DATABRICKS_JOB_BIG": "9" * 5000, "DATABRICKS_JOB_OK": "7"})
    assert "DATABRICKS_JOB_BIG" in huge.problems["big"] and huge("ok").job_id == 7


def test_run_ids_of_any_integral_type_are_accepted(live: Sandbox) -> None:
    np = pytest.importorskip("numpy")
    runtime = Runtime()
    etl = Jobs.from_env(config=live.config(), env=live.env(), runtime=runtime)("etl")
    run = etl.last_run()
    assert run is not None
    assert etl.get_run(np.int64(run.run_id)).run_id == run.run_id
    assert etl.get_run(float(run.run_id)).state is not RunState.UNKNOWN
    for bad in (True, "5", 5.5, 0, -1):
        with pytest.raises(ValueError, match="run_id must be a positive integer"):
            etl.get_run(bad)  # type: ignore[arg-type]
    runtime.close()


def test_the_polling_mode_can_be_pinned_per_wait_handle_and_policy(live: Sandbox) -> None:
    """Issue 12: foreground/background chosen automatically, pinnable per handle, wait, panel, %config."""
    live.engine.script("report", duration_s=LONG_S)
    runtime = Runtime()
    report = Jobs.from_env(config=live.config(), env=live.env(), runtime=runtime)("report")
    try:
        run_id = report.run_now()
        wait = report.watch(run_id, mode="background")
        assert runtime.wait_idle(5)
        sub = next(iter(runtime.hub._subs.values()))
        assert runtime.hub._mode(sub, runtime.hub.policy) == "background"
        wait.close()
        report.poll_mode = "background"
        wait = report.watch(run_id)
        assert runtime.wait_idle(5)
        sub = next(iter(runtime.hub._subs.values()))
        assert runtime.hub._mode(sub, runtime.hub.policy) == "background"
        wait.close()
        report.poll_mode = None
        wait = report.watch(run_id)  # a blocking wait on one run: foreground by itself
        assert runtime.wait_idle(5)
        sub = next(iter(runtime.hub._subs.values()))
        assert runtime.hub._mode(sub, runtime.hub.policy) == "foreground"
        wait.close()
        with pytest.raises(ValueError, match="mode must be"):
            report.watch(run_id, mode="turbo")
    finally:
        runtime.close()
