"""Hostile networks and long days: hung calls, callbacks that raise anything, forks, exits, restarted workspaces."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator

import pytest
from jobs_widgets.core import Jobs, JobsClosedError, PollPolicy, Run, RunScopeError, RunState
from jobs_widgets.core.hub import SLOW_POLL_S
from jobs_widgets.core.runtime import Runtime, get_runtime
from jobs_widgets.sandbox import Sandbox

LONG_S = 36_000.0


@pytest.fixture
def live() -> Iterator[Sandbox]:
    with Sandbox(seed=7) as sb:
        yield sb


class Recorder:
    visible, deadline = True, None

    def __init__(self) -> None:
        self.health: list[str] = []
        self.updates: list[RunState] = []
        self.errors: list[BaseException] = []

    def on_update(self, update: object) -> None:
        self.updates.append(update.state)  # type: ignore[attr-defined]

    def on_health(self, health: object) -> None:
        self.health.append(health.status)  # type: ignore[attr-defined]

    def on_error(self, error: BaseException) -> None:
        self.errors.append(error)

    def on_timeout(self) -> None: ...


def _wait_for(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("fault", ["runs/get:hang", "runs/get:drip:1"])
def test_a_stuck_poll_is_degraded_within_seconds_and_the_end_is_seen_once_answers_flow(
    live: Sandbox, fault: str
) -> None:
    """Rows: a hung runs/get was "degraded" after 31.8 s; a dripping one stayed "ok" and PENDING for 90 s."""
    live.engine.script("report", duration_s=LONG_S)
    runtime = Runtime()
    report = Jobs.from_env(config=live.config(), env=live.env(), runtime=runtime)("report")
    try:
        run_id = report.run_now()
        live.faults.add(fault)
        listener = Recorder()
        started = time.monotonic()
        runtime.hub.subscribe(report, run_id, listener)
        assert _wait_for(lambda: "degraded" in listener.health, SLOW_POLL_S + 1.5)
        assert time.monotonic() - started < 5.0
        live.faults.clear()
        report.cancel_run(run_id)  # the run ends while the stuck call is still out
        assert _wait_for(lambda: listener.updates and listener.updates[-1].is_terminal, 30)
        assert listener.updates[-1] is RunState.CANCELED and listener.health[-1] == "ok"
    finally:
        live.faults.clear()
        runtime.close()


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, SystemExit, RuntimeError])
def test_whatever_a_listener_raises_the_runtime_lives_on(
    live: Sandbox, exc_type: type[BaseException]
) -> None:
    """Row: a KeyboardInterrupt in a listener killed the hub thread; every later watch(timeout=8) hung."""
    live.engine.script("report", duration_s=LONG_S)
    runtime = Runtime()
    report = Jobs.from_env(config=live.config(), env=live.env(), runtime=runtime)("report")
    try:
        run_id = report.run_now()

        class Raising(Recorder):
            def on_update(self, update: object) -> None:
                raise exc_type("from a user's callback")

        runtime.hub.subscribe(report, run_id, Raising())
        assert runtime.wait_idle(5)
        assert runtime.running and not runtime.closed
        watch = report.watch(run_id, timeout=8)
        assert next(watch).run.run_id == run_id  # a later wait is served
        watch.close()
    finally:
        runtime.close()


def _watch_in_child(
    env: dict[str, str], config_keys: list[str], run_id: int, out: multiprocessing.Queue
) -> None:  # type: ignore[type-arg]
    try:
        jobs = Jobs.from_env(env=env)
        update = next(jobs("report").watch(run_id, timeout=10))
        out.put(("ok", update.state.value, get_runtime().name))
    except BaseException as exc:
        out.put(("error", repr(exc), ""))


def test_a_forked_child_gets_a_fresh_runtime(live: Sandbox) -> None:
    """Row: after os.fork() with a running hub, the child's watch(timeout=10) hung."""
    live.engine.script("report", duration_s=LONG_S)
    jobs = Jobs.from_env(config=live.config(), env=live.env())
    run_id = jobs("report").run_now()
    parent = jobs("report").watch(run_id)
    next(parent)  # the process runtime is running (its threads exist only in this process)
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    child = context.Process(target=_watch_in_child, args=(live.env(), [], run_id, out))
    child.start()
    child.join(20)
    assert child.exitcode == 0
    kind, state, name = out.get(timeout=1)
    assert kind == "ok", state
    assert state in {s.value for s in RunState}
    assert name != get_runtime().name  # the child made its own
    parent.close()


EXIT_SCRIPT = textwrap.dedent(
    """
    import sys, threading, time
    from jobs_widgets.core import Jobs
    from jobs_widgets.sandbox import Sandbox

    sb = Sandbox(seed=1).start()
    sb.engine.script("report", duration_s=36000)
    jobs = Jobs.from_env(config=sb.config(), env=sb.env())
    run_id = jobs("report").run_now()
    sb.faults.add("runs/get:{kind}")
    threading.Thread(target=lambda: list(jobs("report").watch(run_id)), daemon=True).start()
    time.sleep(1.5)  # the poll is stuck in the socket now
    print("exiting", time.monotonic(), flush=True)
    """
)


@pytest.mark.parametrize("kind", ["hang", "drip:1"])
def test_exit_is_not_held_by_a_stuck_call(kind: str) -> None:
    """Row: interpreter exit took 28 s (hang) / never ended (drip): non-daemon pool threads were joined."""
    script = EXIT_SCRIPT.replace("{kind}", kind)
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env={**os.environ}
    )
    ended = time.monotonic()
    assert proc.returncode == 0, proc.stderr[-2000:]
    said = [line for line in proc.stdout.splitlines() if line.startswith("exiting")]
    assert said, proc.stdout
    exit_s = ended - float(said[0].split()[1])  # CLOCK_MONOTONIC is system-wide on Linux
    assert exit_s < 2.0, f"exit took {exit_s:.2f} s"


def test_a_run_that_now_belongs_to_another_job_is_refused(live: Sandbox) -> None:
    """Row: a restarted workspace reused a run id for another job; etl.cancel_run(id) cancelled a train run."""
    runtime = Runtime()
    jobs = Jobs.from_env(config=live.config(), env=live.env(), runtime=runtime)
    try:
        etl, train = jobs("etl"), jobs("train")
        live.engine.script("train", duration_s=LONG_S)
        foreign = train.run_now()
        etl.session.remember_run_job(foreign, etl.job_id)  # what we remembered before the restart
        with pytest.raises(RunScopeError):
            etl.cancel_run(foreign)
        assert live.engine.run(foreign).result is None  # nothing was sent for it
        listener = Recorder()
        runtime.hub.subscribe(etl, foreign, listener)  # a watch of it ends with the scope error
        assert _wait_for(lambda: listener.errors, 10)
        assert isinstance(listener.errors[0], RunScopeError) and listener.updates == []
    finally:
        runtime.close()


def test_closed_runtime_refuses_new_waits_at_once(live: Sandbox) -> None:
    runtime = Runtime()
    jobs = Jobs.from_env(config=live.config(), env=live.env(), runtime=runtime)
    run_id = jobs("report").run_now()
    runtime.close()
    started = time.monotonic()
    with pytest.raises(JobsClosedError):
        jobs("report").watch(run_id)
    assert time.monotonic() - started < 0.5


class _Source:
    """A job at the hub's seam: its runs/get either blocks (a stuck socket) or answers."""

    def __init__(self, job_id: int, stuck: threading.Event | None, ends_after: int = 3) -> None:
        self.identity, self.job_id = "fake|1", job_id
        self.poll_policy = None
        self._stuck, self._ends_after, self.calls = stuck, ends_after, 0

    def fetch_run(self, run_id: int) -> Run:
        self.calls += 1
        if self._stuck is not None:
            self._stuck.wait(30)
        life = "TERMINATED" if self.calls >= self._ends_after else "RUNNING"
        state = {"life_cycle_state": life, "result_state": "SUCCESS" if life == "TERMINATED" else None}
        return Run.from_api({"run_id": run_id, "job_id": self.job_id, "state": state, "start_time": 1})

    def fetch_active_runs(self) -> list[Run]:
        return [self.fetch_run(self.job_id * 10)]

    def fetch_history(self) -> list[Run]:
        return []


def test_stuck_calls_of_some_jobs_do_not_starve_another() -> None:
    """Row: 4 runs/get stuck in a drip held the pool of 4 workers; another job's watch got no request for 60 s."""
    fast = PollPolicy(initial=0.2, min_interval=0.2, cap=0.5, error_initial=0.2, budget_per_minute=6000)
    runtime = Runtime(policy=fast)
    stuck = threading.Event()
    try:
        for job_id in range(1, 9):  # eight jobs, each with a call stuck in a socket
            runtime.hub.subscribe(_Source(job_id, stuck), job_id * 10, Recorder())
        free = _Source(99, None)
        listener = Recorder()
        started = time.monotonic()
        runtime.hub.subscribe(free, 990, listener)
        assert _wait_for(lambda: RunState.SUCCEEDED in listener.updates, 5)
        assert time.monotonic() - started < 3 and free.calls == 3
    finally:
        stuck.set()
        runtime.close()


@pytest.mark.parametrize("skew_s", [-86_400.0, 86_400.0])
def test_elapsed_is_measured_on_the_workspace_clock_under_a_day_of_skew(skew_s: float) -> None:
    """Row: with the workspace's clock a day behind, a 3-second-old run read "running for 24h 00m"."""
    from jobs_widgets._render import RunSummary
    from jobs_widgets.core import ScaledClock

    with Sandbox(clock=ScaledClock(1.0, origin=time.time() + skew_s), seed=2) as sb:
        sb.engine.script("report", duration_s=LONG_S)
        runtime = Runtime()
        report = Jobs.from_env(config=sb.config(), env=sb.env(), runtime=runtime)("report")
        try:
            run_id = report.run_now()
            time.sleep(2.5)
            run = report.get_run(run_id)
            assert not run.is_terminal
            headline = RunSummary("report", run, now_s=report.workspace_time()).headline()
            # "waiting for" while the cluster starts, then "running for"
            elapsed = headline.rsplit(" for ", 1)[1]
            assert elapsed in {"0s", "1s", "2s", "3s", "4s"}, headline
        finally:
            runtime.close()


def test_closing_during_a_stuck_poll_leaves_no_pending_task(live: Sandbox) -> None:
    """A poll cancelled by close() left its call's task pending ("Task was destroyed but it is pending!" at exit)."""
    live.engine.script("report", duration_s=LONG_S)
    runtime = Runtime()
    report = Jobs.from_env(config=live.config(), env=live.env(), runtime=runtime)("report")
    try:
        run_id = report.run_now()
        live.faults.add("runs/get:hang")
        asked = len(live.requests)
        runtime.hub.subscribe(report, run_id, Recorder())
        # close while the hub still waits for the answer (before it would call the call slow)
        assert _wait_for(lambda: any(r.endpoint == "runs/get" for r in live.requests[asked:]), SLOW_POLL_S)
        loop = runtime._loop
        assert loop is not None
    finally:
        runtime.close()
        live.faults.clear()
    assert [t for t in asyncio.all_tasks(loop) if not t.done()] == []
