"""A virtual-time world for core tests: sandbox + hub + Jobs on one ManualClock.

The :class:`Driver` plays the role of time: whenever the hub has nothing to do but
wait, it jumps the clock to the next deadline. Hours of polling take milliseconds, and
every interval the hub chooses is honoured exactly.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from jobs_widgets.core import Hub, Jobs, ManualClock
from jobs_widgets.sandbox import Sandbox


class Driver:
    """Advances a ManualClock whenever the hub is idle (a background thread)."""

    def __init__(self, clock: ManualClock, hub: Hub) -> None:
        self.clock = clock
        self.hub = hub
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._thread = threading.Thread(target=self._run, name="virtual-time-driver", daemon=True)

    def start(self) -> Driver:
        self._thread.start()
        return self

    def pause(self) -> None:
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._paused.is_set() or not self.hub.wait_idle(0.2):
                time.sleep(0.002)
                continue
            deadline = self.clock.next_deadline()
            if deadline is None:
                time.sleep(0.002)
                continue
            self.clock.advance_to(deadline)


@dataclass
class World:
    sb: Sandbox
    clock: ManualClock
    hub: Hub
    jobs: Jobs
    driver: Driver


@pytest.fixture
def world() -> Iterator[World]:
    clock = ManualClock()
    with Sandbox(clock=clock, seed=0) as sb:
        hub = Hub(clock=clock, rng=random.Random(0))
        jobs = Jobs.from_env(
            config=sb.config(), client=sb.client(instant_retries=True), env=sb.env(), hub=hub, clock=clock
        )
        driver = Driver(clock, hub).start()
        try:
            yield World(sb, clock, hub, jobs, driver)
        finally:
            driver.stop()
            hub.shutdown()


@pytest.fixture
def still_world() -> Iterator[World]:
    """Like ``world`` but time moves only when the test says so (the driver starts paused)."""
    clock = ManualClock()
    with Sandbox(clock=clock, seed=0) as sb:
        hub = Hub(clock=clock, rng=random.Random(0))
        jobs = Jobs.from_env(
            config=sb.config(), client=sb.client(instant_retries=True), env=sb.env(), hub=hub, clock=clock
        )
        driver = Driver(clock, hub)
        driver.pause()
        driver.start()
        try:
            yield World(sb, clock, hub, jobs, driver)
        finally:
            driver.stop()
            hub.shutdown()
