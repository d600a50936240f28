"""Injectable time.

Everything in jobs_widgets that waits or timestamps goes through a :class:`Clock`, so
tests, simulations and benchmarks can run hours of job activity in milliseconds of
wall time (the sandbox and the hub share one :class:`ManualClock`), and the demo can
run a whole workspace faster than real time (:class:`ScaledClock`).

Two readings are kept apart on purpose: ``monotonic()`` for measuring intervals and
deadlines (never goes backwards), ``time()`` for epoch timestamps shown to users and
sent by the simulated service.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import time as _time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "ScaledClock", "SystemClock", "as_clock", "real_seconds"]


@runtime_checkable
class Clock(Protocol):
    """What jobs_widgets needs from time: two readings and two ways to wait."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (for intervals and deadlines)."""
        ...

    def time(self) -> float:
        """Seconds since the epoch (for timestamps)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for ``seconds`` of this clock's time."""
        ...

    async def async_sleep(self, seconds: float) -> None:
        """Suspend the calling coroutine for ``seconds`` of this clock's time."""
        ...


class _MinimalClock:
    """A clock that only offers ``monotonic()`` and ``sleep()``, completed.

    ``time()`` follows ``monotonic()`` from the epoch reading taken when wrapped (so a
    virtual clock's epoch moves with it). ``async_sleep`` checks the clock in short real
    pauses instead of blocking a thread, so a sleeping coroutine can still be cancelled
    and a virtual clock that jumps forward is noticed within 50 ms.
    """

    POLL_S = 0.05

    def __init__(self, base: object) -> None:
        self._base = base
        self._epoch0 = _time.time() - self.monotonic()

    def monotonic(self) -> float:
        return float(self._base.monotonic())  # type: ignore[attr-defined]

    def time(self) -> float:
        return self._epoch0 + self.monotonic()

    def sleep(self, seconds: float) -> None:
        self._base.sleep(seconds)  # type: ignore[attr-defined]

    async def async_sleep(self, seconds: float) -> None:
        deadline = self.monotonic() + max(0.0, seconds)
        await asyncio.sleep(0)
        while self.monotonic() < deadline:  # noqa: ASYNC110 (a foreign clock cannot notify us)
            await asyncio.sleep(self.POLL_S)

    def __repr__(self) -> str:
        return f"as_clock({self._base!r})"


def as_clock(clock: object | None) -> Clock:
    """``clock`` as a full :class:`Clock` (None: the real one).

    Anything with ``monotonic()`` and ``sleep()`` is accepted; ``time()`` and
    ``async_sleep()`` are supplied when missing. Anything else is a one-line TypeError
    here rather than a crash later on the hub's thread.
    """
    if clock is None:
        return SystemClock()
    if isinstance(clock, Clock):
        return clock
    missing = [name for name in ("monotonic", "sleep") if not callable(getattr(clock, name, None))]
    if missing:
        raise TypeError(f"a clock needs monotonic() and sleep(); {clock!r} has no {' or '.join(missing)}()")
    return _MinimalClock(clock)


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return _time.monotonic()

    def time(self) -> float:
        return _time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            _time.sleep(seconds)

    async def async_sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "SystemClock()"


class ScaledClock:
    """Real time sped up by ``speed`` (``speed=60``: one real second is a simulated minute).

    Used by the sandbox to make a demo workspace's jobs finish quickly while keeping the
    timeline continuous. The epoch reading starts at the real time of construction, or
    at ``origin``: another process that knows a sandbox's ``origin`` and ``speed`` (see
    ``Sandbox.attach_env``) reads the same simulated time.
    """

    def __init__(self, speed: float, *, origin: float | None = None) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed!r}")
        self.speed = float(speed)
        now_wall, now_mono = _time.time(), _time.monotonic()
        self.origin = now_wall if origin is None else float(origin)
        # Where the origin lies on this process's monotonic clock.
        self._mono0 = now_mono - (now_wall - self.origin)
        self._epoch0 = self.origin

    def _elapsed(self) -> float:
        return (_time.monotonic() - self._mono0) * self.speed

    def monotonic(self) -> float:
        return self._mono0 + self._elapsed()

    def time(self) -> float:
        return self._epoch0 + self._elapsed()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            _time.sleep(seconds / self.speed)

    async def async_sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    def __repr__(self) -> str:
        return f"ScaledClock(speed={self.speed:g})"


class _AsyncSleeper:
    __slots__ = ("future", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> None:
        self.loop = loop
        self.future = future


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class ManualClock:
    """Virtual time that moves only when :meth:`advance` is called.

    Sleepers (threads in :meth:`sleep`, coroutines in :meth:`async_sleep`, on any event
    loop) are woken when time reaches their deadline, in deadline order. A driver can
    ask for :meth:`next_deadline` to jump straight to the next interesting moment, which
    is how benchmarks simulate hours of polling in a few seconds.
    """

    #: 2026-01-01T00:00:00Z: a fixed epoch so simulated timestamps are reproducible.
    DEFAULT_EPOCH = 1_767_225_600.0

    def __init__(self, start: float = 0.0, *, epoch: float = DEFAULT_EPOCH) -> None:
        self._now = float(start)
        self._epoch = float(epoch) - float(start)
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._async: list[tuple[float, int, _AsyncSleeper]] = []
        self._sync_deadlines: dict[int, float] = {}

    # readings -------------------------------------------------------------------------
    def monotonic(self) -> float:
        with self._cond:
            return self._now

    def time(self) -> float:
        with self._cond:
            return self._epoch + self._now

    # moving time ----------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` and wake every sleeper that is now due."""
        if seconds < 0:
            raise ValueError("time cannot go backwards")
        with self._cond:
            target = self._now + seconds
        self.advance_to(target)

    def advance_to(self, when: float) -> None:
        """Move time forward to ``when`` (no-op if already past it)."""
        due: list[_AsyncSleeper] = []
        with self._cond:
            if when > self._now:
                self._now = float(when)
            while self._async and self._async[0][0] <= self._now:
                due.append(heapq.heappop(self._async)[2])
            self._cond.notify_all()
        for sleeper in due:
            try:
                sleeper.loop.call_soon_threadsafe(_resolve, sleeper.future)
            except RuntimeError:  # that loop is closed; nobody is waiting any more
                continue

    def next_deadline(self) -> float | None:
        """The earliest deadline any sleeper is waiting for, or None if nobody sleeps."""
        with self._cond:
            deadlines = [d for d, _, s in self._async if not s.future.done()]
            deadlines.extend(self._sync_deadlines.values())
            return min(deadlines) if deadlines else None

    @property
    def sleepers(self) -> int:
        """How many threads and coroutines are currently waiting on this clock."""
        with self._cond:
            live = sum(1 for _, _, s in self._async if not s.future.done())
            return live + len(self._sync_deadlines)

    # waiting --------------------------------------------------------------------------
    def sleep(self, seconds: float) -> None:
        with self._cond:
            deadline = self._now + max(0.0, seconds)
            if deadline <= self._now:
                return
            ticket = next(self._seq)
            self._sync_deadlines[ticket] = deadline
            self._cond.notify_all()
            try:
                while self._now < deadline:
                    self._cond.wait()
            finally:
                del self._sync_deadlines[ticket]

    async def async_sleep(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        with self._cond:
            deadline = self._now + max(0.0, seconds)
            if deadline <= self._now:
                due = True
            else:
                due = False
                future: asyncio.Future[None] = loop.create_future()
                heapq.heappush(self._async, (deadline, next(self._seq), _AsyncSleeper(loop, future)))
                self._cond.notify_all()
        if due:
            await asyncio.sleep(0)
            return
        try:
            await future
        finally:
            if not future.done():
                future.cancel()
            with self._cond:
                self._async = [e for e in self._async if e[2].future is not future]
                heapq.heapify(self._async)

    def wait_for_sleepers(self, count: int, timeout: float = 5.0) -> bool:
        """Block (real time) until at least ``count`` sleepers wait; for test drivers."""
        deadline = _time.monotonic() + timeout
        with self._cond:
            while True:
                live = sum(1 for _, _, s in self._async if not s.future.done())
                if live + len(self._sync_deadlines) >= count:
                    return True
                remaining = deadline - _time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))

    def __repr__(self) -> str:
        return f"ManualClock(now={self._now:g})"


def real_seconds(clock: Clock, seconds: float) -> float | None:
    """How many real seconds ``seconds`` of ``clock`` take (None: it cannot be known, e.g. a ManualClock).

    Lets a wait enforce its own deadline with a plain real-time timeout on the clocks
    that follow real time, whatever the hub's thread is doing.
    """
    if isinstance(clock, SystemClock):
        return seconds
    if isinstance(clock, ScaledClock):
        return seconds / clock.speed
    return None
