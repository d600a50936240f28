"""A virtual-time world for core tests: sandbox + hub + Jobs on one ManualClock.

A :class:`~jobs_widgets.core.virtual.VirtualTime` driver plays the role of time:
whenever the hub has nothing to do but wait, it jumps the clock to the next deadline.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from jobs_widgets.core import Hub, Jobs, ManualClock
from jobs_widgets.core.virtual import VirtualTime as Driver
from jobs_widgets.sandbox import Sandbox


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
