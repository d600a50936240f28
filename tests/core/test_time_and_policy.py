"""Clocks, the run-time estimate, the polling policy and the read cache (pure, no I/O)."""

from __future__ import annotations

import asyncio
import math
import random
import threading
import time

import pytest
from jobs_widgets.core import ManualClock, PollPolicy, ScaledClock, SystemClock
from jobs_widgets.core.cache import ReadCache
from jobs_widgets.core.clock import as_clock
from jobs_widgets.core.eta import Eta


def test_manual_clock_wakes_sleepers_in_deadline_order() -> None:
    clock = ManualClock()
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.async_sleep(seconds)
        woke.append(name)

    def sync_sleeper() -> None:
        clock.sleep(15)
        woke.append("sync")

    async def main() -> None:
        tasks = [asyncio.ensure_future(sleeper("b", 20)), asyncio.ensure_future(sleeper("a", 10))]
        thread = threading.Thread(target=sync_sleeper)
        thread.start()
        assert await asyncio.to_thread(clock.wait_for_sleepers, 3)
        assert clock.next_deadline() == 10 and clock.sleepers == 3
        clock.advance(10)
        await asyncio.sleep(0.01)
        clock.advance_to(25)
        await asyncio.gather(*tasks)
        thread.join(2)

    asyncio.run(main())
    assert woke[0] == "a" and set(woke) == {"a", "b", "sync"}
    assert clock.monotonic() == 25 and clock.time() == ManualClock.DEFAULT_EPOCH + 25
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_cancelled_async_sleep_leaves_no_sleeper() -> None:
    clock = ManualClock()

    async def main() -> None:
        task = asyncio.ensure_future(clock.async_sleep(100))
        await asyncio.sleep(0)
        assert clock.sleepers == 1
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(main())
    assert clock.sleepers == 0 and clock.next_deadline() is None


def test_system_and_scaled_clocks() -> None:
    system = SystemClock()
    assert abs(system.time() - time.time()) < 1
    scaled = ScaledClock(100)
    t0 = scaled.monotonic()
    scaled.sleep(1.0)  # 10 ms of real time
    assert scaled.monotonic() - t0 >= 1.0
    asyncio.run(scaled.async_sleep(1.0))
    with pytest.raises(ValueError):
        ScaledClock(0)


class _TwoMethodClock:
    """What docs/architecture.md (section 4) asks of an injected clock, and nothing more."""

    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_clock_with_only_monotonic_and_sleep_is_completed() -> None:
    base = _TwoMethodClock()
    clock = as_clock(base)
    epoch = clock.time()
    assert abs(epoch - time.time()) < 5
    clock.sleep(30)
    assert clock.monotonic() == 130.0 and clock.time() == pytest.approx(epoch + 30)

    async def sleep_while_time_jumps() -> float:
        started = time.monotonic()
        threading.Timer(0.1, lambda: base.sleep(60)).start()  # another thread moves time
        await clock.async_sleep(50)
        return time.monotonic() - started

    assert asyncio.run(sleep_while_time_jumps()) < 2.0
    assert as_clock(None).__class__ is SystemClock
    manual = ManualClock()
    assert as_clock(manual) is manual


def test_a_non_clock_is_refused_in_one_line() -> None:
    with pytest.raises(TypeError, match=r"a clock needs monotonic\(\) and sleep\(\); .* has no sleep\(\)"):
        as_clock(type("HalfClock", (), {"monotonic": lambda self: 0.0})())


def test_eta_fits_the_history() -> None:
    rng = random.Random(1)
    durations = [480 * math.exp(rng.gauss(0, 0.25)) for _ in range(200)]
    eta = Eta.from_durations(durations)
    assert eta is not None
    assert 430 < eta.p50 < 530 and eta.p10 < eta.p50 < eta.p90
    assert 0.2 < eta.sigma < 0.3
    assert eta.survival(0) == 1 and eta.survival(10_000) < 1e-6
    assert eta.hazard(60) < eta.hazard(480) < eta.hazard(700)
    assert eta.in_window(480) and not eta.in_window(30)
    assert abs(eta.quantile(0.5) - math.exp(eta.mu)) < 1
    assert eta.progress(240) == pytest.approx(240 / eta.p50) and eta.progress(10_000) == 0.99
    assert eta.describe() == f"usually takes {round(eta.p10 / 60)}–{round(eta.p90 / 60)} min"
    assert Eta.from_durations([1, 2]) is None
    assert Eta.from_durations([0, -1, float("nan"), 5, 6]) is None


def test_policy_backoff_hazard_and_jitter() -> None:
    policy = PollPolicy()
    assert [policy.backoff(i) for i in range(3)] == [2.0, 3.0, 4.5]
    assert policy.backoff(50) == policy.cap
    assert policy.interval_for_hazard(0, in_window=False) == policy.cap
    assert policy.interval_for_hazard(0, in_window=True) == policy.window_max
    assert policy.interval_for_hazard(10, in_window=False) == policy.min_interval
    assert policy.interval_for_hazard(1e-3, in_window=False) == pytest.approx(20.0)
    assert policy.interval_for_hazard(10, in_window=True, spread=120) == pytest.approx(4.8)  # steady job
    assert policy.interval_for_hazard(10, in_window=True, spread=1000) == policy.window_max  # erratic job
    assert policy.window_limit(1) == policy.min_interval
    assert policy.error_delay(1) == policy.error_initial
    assert policy.error_delay(20) == policy.cap
    assert policy.error_delay(1, retry_after=60) == 60
    rng = random.Random(0)
    spread = [policy.jittered(10, rng) for _ in range(200)]
    assert 9.5 <= min(spread) < 9.7 and 10.3 < max(spread) <= 10.5
    for bad in (
        {"initial": 0},
        {"growth": 0.5},
        {"end_probability": 1},
        {"hidden_factor": 0.5},
        {"window_start": 0.5, "window_end": 0.4},
    ):
        with pytest.raises(ValueError):
            PollPolicy(**bad)  # type: ignore[arg-type]


def test_read_cache_ttl_and_invalidation() -> None:
    clock = ManualClock()
    cache = ReadCache(clock, ttl=5, max_entries=3)
    calls = []

    def load(value: int) -> int:
        calls.append(value)
        return value

    scope = ("me", 1)
    assert cache.get_or_load(scope, "a", lambda: load(1)) == 1
    assert cache.get_or_load(scope, "a", lambda: load(2)) == 1
    clock.advance(6)
    assert cache.get_or_load(scope, "a", lambda: load(3)) == 3
    cache.invalidate(scope)
    assert cache.get_or_load(scope, "a", lambda: load(4)) == 4
    cache.get_or_load(("me", 2), "b", lambda: load(5))
    assert cache.get_or_load(scope, "a", lambda: load(6)) == 4  # other jobs untouched
    for i in range(5):
        cache.get_or_load(("x", i), "k", lambda i=i: i)
    assert len(cache) == 3  # bounded: the oldest entries went first
    assert cache.get_or_load(scope, "z", lambda: load(7), ttl=0) == 7
    with pytest.raises(RuntimeError):
        cache.get_or_load(scope, "err", lambda: (_ for _ in ()).throw(RuntimeError("boom")))
    cache.clear()
    assert len(cache) == 0 and calls == [1, 3, 4, 5, 7]


def test_read_cache_does_not_keep_a_read_that_a_write_overtook() -> None:
    """A panel's read in flight while a cancel empties the job's entries must not be kept."""
    cache = ReadCache(ManualClock(), ttl=5)
    scope = ("me", 1)

    def read_then_cancel() -> str:
        cache.invalidate(scope)  # the cancel lands while this read is on the wire
        return "Running"

    assert cache.get_or_load(scope, "run", read_then_cancel) == "Running"  # the caller still gets it
    assert cache.get_or_load(scope, "run", lambda: "Canceled") == "Canceled"  # the next read is fresh
    assert cache.get_or_load(scope, "run", lambda: "stale") == "Canceled"  # and that one is kept
    other = ("me", 2)
    assert cache.get_or_load(other, "run", lambda: "a") == "a"
    assert cache.get_or_load(other, "run", lambda: "b") == "a"  # other jobs' entries unaffected
