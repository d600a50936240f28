"""A virtual-time world for core tests: sandbox + hub + Jobs on one ManualClock.

A :class:`~jobs_widgets.core.virtual.VirtualTime` driver plays the role of time:
whenever the hub has nothing to do but wait, it jumps the clock to the next deadline.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from jobs_widgets.core import Jobs, ManualClock
from jobs_widgets.core.hub import Hub
from jobs_widgets.core.virtual import VirtualTime as Driver
from jobs_widgets.sandbox import Sandbox


@dataclass
class World:
    sb: Sandbox
    clock: ManualClock
    hub: Hub
    jobs: Jobs
    driver: Driver


@contextmanager
def virtual_world(*, seed: int = 0, paused: bool = False) -> Iterator[World]:
    """Sandbox + hub + Jobs on one ManualClock, with a VirtualTime driver (maybe paused)."""
    clock = ManualClock()
    with Sandbox(clock=clock, seed=seed) as sb:
        hub = Hub(clock=clock, rng=random.Random(seed))
        jobs = Jobs.from_env(
            config=sb.config(), client=sb.client(instant_retries=True), env=sb.env(), hub=hub, clock=clock
        )
        driver = Driver(clock, hub)
        if paused:
            driver.pause()
        driver.start()
        try:
            yield World(sb, clock, hub, jobs, driver)
        finally:
            driver.stop()
            hub.shutdown()


@pytest.fixture
def world() -> Iterator[World]:
    with virtual_world() as w:
        yield w


@pytest.fixture
def still_world() -> Iterator[World]:
    """Like ``world`` but time moves only when the test says so (the driver starts paused)."""
    with virtual_world(paused=True) as w:
        yield w
