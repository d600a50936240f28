"""The hub in virtual time: sharing, batching, visibility, Retry-After, health, lifecycle."""

from __future__ import annotations

import gc
import itertools
import random
import threading
import time
from typing import Any

import pytest
from jobs_widgets.core import Jobs, JobsClosedError, ManualClock, PollPolicy, RunState, RunUpdate
from jobs_widgets.core.clock import ScaledClock
from jobs_widgets.core.hub import Health, Hub
from jobs_widgets.core.virtual import VirtualTime
from jobs_widgets.sandbox import Behaviour, JobSpec, Sandbox, TaskSpec

from tests.core.conftest import World


class Recorder:
    """A listener that keeps everything it is told (like a panel would)."""

    def __init__(self, visible: bool = True) -> None:
        self.visible = visible
        self.deadline: float | None = None
        self.updates: list[RunUpdate] = []
        self.health: list[Health] = []
        self.errors: list[BaseException] = []
        self.timeouts = 0
        self.done = threading.Event()

    def on_update(self, update: RunUpdate) -> None:
        self.updates.append(update)
        if update.is_terminal:
            self.done.set()

    def on_health(self, health: Health) -> None:
        self.health.append(health)

    def on_error(self, error: BaseException) -> None:
        self.errors.append(error)
        self.done.set()

    def on_timeout(self) -> None:
        self.timeouts += 1
        self.done.set()


def polls(world: World, run_id: int | None = None) -> list[Any]:
    return [
        r
        for r in world.sb.requests
        if r.endpoint in ("runs/get", "runs/list")
        and (run_id is None or str(r.params.get("run_id")) == str(run_id) or r.endpoint == "runs/list")
    ]


def test_listeners_of_one_run_share_one_subscription(world: World) -> None:
    world.sb.engine.script("report", duration_s=900)
    report = world.jobs("report")
    world.driver.pause()
    run_id = report.run_now()
    a, b = Recorder(), Recorder()
    world.hub.subscribe(report, run_id, a)
    world.hub.subscribe(report, run_id, b)
    assert world.hub.wait_idle(5)
    assert world.hub.watching == 1
    assert len([r for r in world.sb.requests if r.endpoint == "runs/get"]) == 1
    world.driver.resume()
    assert a.done.wait(10) and b.done.wait(10)
    assert a.updates[-1].state is RunState.SUCCEEDED and b.updates[-1].state is RunState.SUCCEEDED
    assert [u.run for u in a.updates] == [u.run for u in b.updates]
    times = [r.at for r in world.sb.requests if r.endpoint == "runs/get"]
    assert len(times) == len(set(times))  # never polled twice at once


def test_active_runs_of_one_job_are_batched_into_runs_list(world: World) -> None:
    etl = world.jobs("etl")
    world.driver.pause()
    durations = [600, 900, 1200]
    listeners = []
    for duration in durations:
        world.sb.engine.script("etl", duration_s=duration)
    run_ids = [etl.run_now() for _ in durations]
    world.sb.clear_requests()
    for run_id in run_ids:
        listener = Recorder()
        listeners.append(listener)
        world.hub.subscribe(etl, run_id, listener)
    world.driver.resume()
    for listener in listeners:
        assert listener.done.wait(20)
        assert listener.updates[-1].state is RunState.SUCCEEDED
    lists = [
        r for r in world.sb.requests if r.endpoint == "runs/list" and r.params.get("active_only") == "true"
    ]
    gets = [r for r in world.sb.requests if r.endpoint == "runs/get"]
    assert lists and all(r.params["expand_tasks"] == "true" for r in lists)
    # Per-run polling would have cost far more gets; here each run that left the active
    # list was confirmed once, plus the first look and the polls of the last run alone.
    per_run_confirms = {r.params["run_id"] for r in gets}
    assert per_run_confirms == {str(i) for i in run_ids}
    assert len(lists) > len(gets) / 2


def test_hidden_runs_are_polled_less() -> None:
    def polls_for(visible: bool) -> int:
        clock = ManualClock()
        with Sandbox(clock=clock, seed=3, jobs=[_bench_spec(600)]) as sb:
            hub = Hub(clock=clock, rng=random.Random(0))
            steady = Jobs.from_env(client=sb.client(), env=sb.env(), hub=hub, clock=clock)("steady")
            sb.engine.script("steady", duration_s=600)
            # History first, so both runs poll on the same ETA (see the dense-polling test).
            assert hub.load_history(steady) is not None
            listener = Recorder(visible=visible)
            with VirtualTime(clock, hub):
                hub.subscribe(steady, steady.run_now(), listener)
                assert listener.done.wait(20)
            hub.shutdown()
            return len([r for r in sb.requests if r.endpoint == "runs/get"])

    visible, hidden = polls_for(True), polls_for(False)
    assert hidden < visible * 0.6


def test_visibility_changes_are_honoured(world: World) -> None:
    world.sb.engine.script("report", duration_s=3600)
    report = world.jobs("report")
    run_id = report.run_now()
    listener = Recorder()
    sub = world.hub.subscribe(report, run_id, listener)
    sub.set_visible(False)
    assert listener.done.wait(20)
    times = [r.at for r in world.sb.requests if r.endpoint == "runs/get"]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) <= PollPolicy().cap + 1e-6


def test_retry_after_is_honoured_and_health_degrades_and_recovers(world: World) -> None:
    world.sb.engine.script("report", duration_s=600)
    report = world.jobs("report")
    world.sb.faults.add("runs/get:429:1:45")
    run_id = report.run_now()
    listener = Recorder()
    world.hub.subscribe(report, run_id, listener)

    def lift() -> None:  # once the hub has met the 429 and said so
        deadline = time.monotonic() + 10
        while not listener.health and time.monotonic() < deadline:
            time.sleep(0.01)
        world.sb.faults.clear()

    threading.Thread(target=lift).start()
    assert listener.done.wait(20)
    assert listener.updates[-1].state is RunState.SUCCEEDED
    assert listener.health and listener.health[0].status == "degraded"
    assert listener.health[0].next_retry_at is not None
    assert listener.health[-1].ok
    degraded_at = [r.at for r in world.sb.requests if r.endpoint == "runs/get" and r.status == 429]
    after = [r.at for r in world.sb.requests if r.endpoint == "runs/get" and r.at > degraded_at[-1]]
    assert after and after[0] - degraded_at[-1] >= 45 - 1e-6
    assert not any(u.state is RunState.FAILED for u in listener.updates)


def test_server_errors_back_off_and_never_look_like_failures(world: World) -> None:
    world.sb.engine.script("report", duration_s=900)
    world.sb.faults.add("runs/get:502:0.5")
    listener = Recorder()
    world.hub.subscribe(world.jobs("report"), world.jobs("report").run_now(), listener)
    assert listener.done.wait(20)
    assert listener.updates[-1].state is RunState.SUCCEEDED
    assert any(not h.ok for h in listener.health) and listener.health[-1].ok
    assert world.hub.stats.degraded_periods >= 1 and world.hub.stats.recoveries >= 1


def test_closing_the_last_listener_stops_polling(world: World) -> None:
    world.sb.engine.script("report", duration_s=7200)
    report = world.jobs("report")
    listener = Recorder()
    sub = world.hub.subscribe(report, report.run_now(), listener)
    deadline = time.monotonic() + 10
    while len(listener.updates) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    sub.close()
    assert world.hub.wait_idle(5) and world.hub.watching == 0
    count = len(world.sb.requests)
    world.clock.advance(3600)
    time.sleep(0.1)
    assert world.hub.wait_idle(5)
    assert len(world.sb.requests) == count  # nothing watched: not one request


def test_late_joiner_sees_the_current_state_without_a_request(world: World) -> None:
    world.sb.engine.script("report", duration_s=3600)
    report = world.jobs("report")
    world.driver.pause()
    run_id = report.run_now()
    first = Recorder()
    world.hub.subscribe(report, run_id, first)
    assert world.hub.wait_idle(5) and first.updates
    count = len(world.sb.requests)
    late = Recorder()
    world.hub.subscribe(report, run_id, late)
    assert world.hub.wait_idle(5)
    assert late.updates and late.updates[0].run == first.updates[-1].run
    assert len(world.sb.requests) == count


def test_eta_comes_from_the_jobs_history(world: World) -> None:
    report = world.jobs("report")
    listener = Recorder()
    world.hub.subscribe(report, report.run_now(), listener)
    assert listener.done.wait(20)
    assert world.hub.wait_idle(5)  # the finished run's duration is recorded after listeners hear of it
    eta = world.hub.eta(report.identity, report.job_id)
    assert eta is not None and eta.samples >= 10 and 5 < eta.p50 < 60
    assert world.hub.load_history(report) == eta  # already loaded: no new request


def test_listener_deadline_fires_on_the_hub_clock(world: World) -> None:
    world.sb.engine.script("report", duration_s=3600)
    report = world.jobs("report")
    listener = Recorder()
    listener.deadline = world.clock.monotonic() + 100
    world.hub.subscribe(report, report.run_now(), listener)
    assert listener.done.wait(10) and listener.timeouts == 1
    assert not listener.updates[-1].is_terminal


def test_a_failing_listener_does_not_stop_the_others(world: World) -> None:
    class Broken(Recorder):
        def on_update(self, update: RunUpdate) -> None:
            raise RuntimeError("listener bug")

    world.sb.engine.script("report", duration_s=600)
    report = world.jobs("report")
    run_id = report.run_now()
    good = Recorder()
    world.hub.subscribe(report, run_id, Broken())
    world.hub.subscribe(report, run_id, good)
    assert good.done.wait(20) and good.updates[-1].state is RunState.SUCCEEDED


def _bench_spec(median: float) -> JobSpec:
    return JobSpec(
        key="steady",
        name="steady",
        tasks=[TaskSpec("t", "notebook")],
        history_runs=30,
        max_concurrent_runs=100,
        behaviour=Behaviour(
            median_s=median, sigma=0.25, fail_rate=0.0, queue_s=(0, 0), setup_s=(0, 0), cleanup_s=(0, 0)
        ),
    )


@pytest.mark.parametrize("mode", ["foreground", "background"])
def test_polls_are_dense_near_the_expected_end_and_sparse_before(mode: str) -> None:
    clock = ManualClock()
    policy = PollPolicy(mode=mode)
    with Sandbox(clock=clock, seed=3, jobs=[_bench_spec(600)]) as sb:
        hub = Hub(clock=clock, rng=random.Random(0), policy=policy)
        jobs = Jobs.from_env(client=sb.client(), env=sb.env(), hub=hub, clock=clock)
        steady = jobs("steady")
        sb.engine.script("steady", duration_s=600)
        # Load the history first: otherwise the first gap depends on whether the
        # background history load or the first poll wins the race.
        assert hub.load_history(steady) is not None
        start = clock.time()
        with VirtualTime(clock, hub):
            final = list(steady.watch(steady.run_now()))[-1]
        hub.shutdown()
        times = [r.at - start for r in sb.requests if r.endpoint == "runs/get"]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        early = [b - a for a, b in itertools.pairwise(times) if b < 250]
        late = [b - a for a, b in itertools.pairwise(times) if 450 < a < 600]
        assert final.state is RunState.SUCCEEDED
        delay = final.observed_at - sb.engine.run(final.run_id).end
        if mode == "foreground":  # every end (a failure too) within foreground_max; densest near the end
            assert max(gaps) <= policy.foreground_max * 1.06 and max(late) < min(early)
            assert delay < 6
        else:  # sparse before the usual range, denser near the end, every end within the cap
            assert min(early) > 20 and max(late) < min(early)
            assert delay <= policy.cap


def test_shutdown_leaves_no_threads_or_tasks() -> None:
    baseline = {t.ident for t in threading.enumerate()}
    clock = ManualClock()
    with Sandbox(clock=clock, seed=1) as sb:
        hub = Hub(clock=clock)
        jobs = Jobs.from_env(client=sb.client(), env=sb.env(), hub=hub, clock=clock)
        listeners = [Recorder() for _ in range(5)]
        for listener in listeners:
            hub.subscribe(jobs("etl"), jobs("etl").run_now(), listener)
        assert hub.wait_idle(5)
        loop = hub.runtime._loop
        hub.shutdown()
        assert loop is not None and loop.is_closed()
        assert not hub.running
        # every listener was told why, at once
        assert all(len(lst.errors) == 1 and isinstance(lst.errors[0], JobsClosedError) for lst in listeners)
        with pytest.raises(JobsClosedError, match="closed"):
            hub.subscribe(jobs("etl"), 1, Recorder())
    gc.collect()
    time.sleep(0.2)
    leftover = [t for t in threading.enumerate() if t.ident not in baseline and t.is_alive()]
    assert leftover == [], leftover


def test_the_process_hub_is_created_lazily_and_can_be_shut_down() -> None:
    from jobs_widgets.core.hub import get_hub, shutdown_hub

    hub = get_hub()
    assert get_hub() is hub and not hub.running  # no thread until something is watched
    shutdown_hub()
    assert get_hub() is not hub
    shutdown_hub()


def test_many_threads_subscribing_at_once_to_a_new_hub_all_get_their_runs(world: World) -> None:
    """Regression: threads racing the hub's start-up must not lose their subscriptions."""
    world.driver.pause()
    hub = Hub(clock=world.clock, rng=random.Random(1))
    report = world.jobs("report")
    run_ids = [report.run_now() for _ in range(12)]
    listeners = [Recorder() for _ in run_ids]
    barrier = threading.Barrier(len(run_ids))

    def subscribe(index: int) -> None:
        barrier.wait()
        hub.subscribe(report, run_ids[index], listeners[index])

    threads = [threading.Thread(target=subscribe, args=(i,)) for i in range(len(run_ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert hub.wait_idle(5) and hub.watching == len(run_ids)
    hub.shutdown()


def test_a_sped_up_sandbox_watched_on_a_real_clock_is_still_followed_closely() -> None:
    """Runs that start "in the future" (clock skew) fall back to backoff, not to the cap."""
    # The sandbox's clock runs an hour ahead of the hub's, so every start is in the future,
    # whatever state the first poll happens to see.
    with Sandbox(clock=ScaledClock(50, origin=time.time() + 3600), seed=0) as sb:
        hub = Hub()
        jobs = Jobs.from_env(client=sb.client(), env=sb.env(), hub=hub)
        started = time.monotonic()
        states = [u.state for u in jobs("report").run_and_wait()]
        hub.shutdown()
    assert states[-1] is RunState.SUCCEEDED
    assert time.monotonic() - started < 15  # the cap alone would have meant 30 s and more


class _RealTwoMethodClock:
    """A user's own clock: only monotonic() and sleep(), as docs/architecture.md section 4 asks."""

    broken = False

    def monotonic(self) -> float:
        if self.broken:
            raise OSError("clock source lost")
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def test_a_user_clock_with_monotonic_and_sleep_drives_the_waits() -> None:
    quick = JobSpec(
        key="quick",
        name="quick",
        tasks=[TaskSpec("t", "notebook")],
        history_runs=0,  # no history: the hub backs off from 2 s (nothing to place in time)
        behaviour=Behaviour(
            median_s=1, sigma=0.01, fail_rate=0.0, queue_s=(0, 0), setup_s=(0, 0), cleanup_s=(0, 0)
        ),
    )
    with Sandbox(speed=1, seed=0, jobs=[quick]) as sb:
        jobs = Jobs.from_env(client=sb.client(), env=sb.env(), clock=_RealTwoMethodClock())
        started = time.monotonic()
        final = list(jobs("quick").run_and_wait(timeout=60))[-1]
        jobs.hub.shutdown()
    assert final.state is RunState.SUCCEEDED
    assert time.monotonic() - started < 20  # polled on the user's clock, not stuck


def test_a_hub_that_dies_ends_every_wait_with_the_reason() -> None:
    clock = _RealTwoMethodClock()
    with Sandbox(speed=1, seed=0) as sb:
        sb.engine.script("report", duration_s=3600)
        jobs = Jobs.from_env(client=sb.client(), env=sb.env(), clock=clock)
        waiting = jobs("report").run_and_wait()
        next(waiting)  # subscribed and watching
        clock.broken = True
        outcome: list[BaseException] = []

        def drain() -> None:
            try:
                list(waiting)
            except BaseException as exc:
                outcome.append(exc)

        thread = threading.Thread(target=drain)
        thread.start()
        thread.join(30)  # the hub's next wake-up (a few seconds) meets the broken clock
        assert not thread.is_alive(), "a dead hub left the wait hanging"
        assert len(outcome) == 1 and "the jobs_widgets hub stopped: OSError: clock source lost" in str(
            outcome[0]
        )
        jobs.hub.shutdown()
