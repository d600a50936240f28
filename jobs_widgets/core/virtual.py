"""Virtual time for simulations and tests: let a ManualClock run whenever the hub waits.

The hub runs on its own thread; a :class:`ManualClock` only moves when told to. A
:class:`VirtualTime` driver closes the loop: each time the hub has nothing to do but
wait (:meth:`Hub.wait_idle`), it jumps the clock to the earliest deadline anyone is
sleeping for. Every interval the hub chooses is honoured exactly, and hours of
polling take milliseconds::

    clock = ManualClock()
    hub = Hub(clock=clock)
    with VirtualTime(clock, hub):
        for update in jobs("etl").watch(run_id):
            ...
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

from jobs_widgets.core.clock import ManualClock
from jobs_widgets.core.hub import Hub

__all__ = ["VirtualTime"]


class VirtualTime:
    """Advances ``clock`` whenever ``hub`` is idle, on a background thread."""

    def __init__(self, clock: ManualClock, hub: Hub) -> None:
        self.clock = clock
        self.hub = hub
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jobs-widgets-virtual-time", daemon=True)

    def start(self) -> VirtualTime:
        self._thread.start()
        return self

    def pause(self) -> None:
        """Hold time still (the test moves it with ``clock.advance`` itself)."""
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def __enter__(self) -> VirtualTime:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._paused.is_set() or not self.hub.wait_idle(0.2):
                time.sleep(0.001)
                continue
            deadline = self.clock.next_deadline()
            if deadline is None:
                time.sleep(0.001)
                continue
            self.clock.advance_to(deadline)
