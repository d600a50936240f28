"""Watching one run until it ends: the iterators behind ``watch`` and ``run_and_wait``.

A wait is one listener on the hub's subscription to the run. :class:`RunWatch` (sync)
and :class:`AsyncRunWatch` own it and end it, and give users the behaviour they rely on:

* one update per state change, plus the final one;
* ``cancel`` (a ``threading.Event`` / ``asyncio.Event``) ends the iteration promptly,
  even mid-sleep (one runtime thread looks at every cancel event, so an idle wait
  costs nothing between polls);
* ``timeout=None`` means "until the run ends"; a timeout raises
  :class:`WaitTimeoutError` and leaves the run alone. The wait enforces it itself (on
  clocks that follow real time), whatever the hub's thread is doing;
* closing the registry or the runtime ends the wait with :class:`JobsClosedError`;
* ``on_abort="cancel"`` also cancels the remote run when the wait is abandoned (cancel
  event, timeout, Ctrl-C, ``close()``, or leaving the loop early: an iterator dropped
  unfinished hands the cancel to a runtime worker, never doing network I/O in a
  finalizer); ``"detach"`` (the default) never touches it.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from jobs_widgets.core.clock import real_seconds
from jobs_widgets.core.errors import JobsClosedError, ParamsError, WaitTimeoutError
from jobs_widgets.core.models import RunUpdate
from jobs_widgets.core.states import RunState
from jobs_widgets.core.watched import Health, Subscription

if TYPE_CHECKING:
    from jobs_widgets.core.handle import JobHandle

__all__ = ["AbortMode", "AsyncRunWatch", "RunWatch", "check_abort_mode"]

AbortMode = Literal["detach", "cancel"]


def check_abort_mode(on_abort: str) -> AbortMode:
    if on_abort not in ("detach", "cancel"):
        raise ParamsError(f'on_abort must be "detach" or "cancel", got {on_abort!r}', key="on_abort")
    return on_abort  # type: ignore[return-value]


class _QueueListener:
    """Hands a subscription's news to one consumer as ``(kind, payload)`` items."""

    def __init__(self, deadline: float | None, mode: str | None = None) -> None:
        self.visible = True
        self.deadline = deadline
        self.mode = mode  # a pinned polling mode (None: the hub decides)
        self.closed: JobsClosedError | None = None

    def put(self, item: tuple[str, Any]) -> None:
        raise NotImplementedError

    def on_update(self, update: RunUpdate) -> None:
        self.put(("update", update))

    def on_health(self, health: Health) -> None:
        self.put(("health", health))

    def on_error(self, error: BaseException) -> None:
        if isinstance(error, JobsClosedError):
            self.closed = error  # ends the wait before any news still queued
        self.put(("error", error))

    def on_timeout(self) -> None:
        self.put(("timeout", None))


class _SyncListener(_QueueListener):
    def __init__(self, deadline: float | None, mode: str | None = None) -> None:
        super().__init__(deadline, mode)
        self.queue: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()

    def put(self, item: tuple[str, Any]) -> None:
        self.queue.put(item)


class _AsyncListener(_QueueListener):
    """For one coroutine: an asyncio queue on the coroutine's own loop."""

    def __init__(self, deadline: float | None) -> None:
        super().__init__(deadline)
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def put(self, item: tuple[str, Any]) -> None:
        with contextlib.suppress(RuntimeError):  # the caller's loop is gone; nobody listens
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)


class _StateChanges:
    """Turns the hub's stream of news into one update per state change (plus the last)."""

    def __init__(self, run_id: int, timeout: float | None) -> None:
        self.run_id = run_id
        self.timeout = timeout
        self.last: RunState | None = None

    def handle(self, kind: str, payload: Any) -> RunUpdate | None:
        """The update to yield for one item (None: nothing to yield); raises errors and timeouts."""
        if kind == "update":
            if payload.state == self.last and not payload.is_terminal:
                return None
            accepted: RunUpdate = replace(payload, previous_state=self.last)
            self.last = payload.state
            return accepted
        if kind == "error":
            raise payload
        if kind == "timeout":
            raise WaitTimeoutError(self.run_id, self.timeout or 0.0, self.last.value if self.last else None)
        return None  # health news is for panels


class _Wait:
    """What both watch types share: the subscription, its deadlines, and how an abandoned wait ends."""

    def __init__(self, handle: JobHandle, timeout: float | None, on_abort: AbortMode) -> None:
        self._handle = handle
        self._hub = handle.registry.hub
        self.timeout = timeout
        self.on_abort = on_abort
        clock = self._hub.clock
        self.deadline = None if timeout is None else clock.monotonic() + timeout
        real = None if timeout is None else real_seconds(clock, timeout)
        self.real_deadline = None if real is None else time.monotonic() + real
        self.subscription: Subscription | None = None
        self.done = False
        self._forget_event: Callable[[], None] | None = None

    def subscribe(self, run_id: int, listener: _QueueListener, cancel: threading.Event | None) -> None:
        self.subscription = self._hub.subscribe(self._handle, run_id, listener)
        self._handle.registry.track(self.subscription)
        if cancel is not None:
            self._forget_event = self._hub.runtime.watch_event(cancel, lambda: listener.put(("cancel", None)))

    def remaining(self) -> float | None:
        return None if self.real_deadline is None else max(0.0, self.real_deadline - time.monotonic())

    def stop(self) -> None:
        self.done = True
        if self._forget_event is not None:
            self._forget_event()
        if self.subscription is not None:
            self.subscription.close()

    def cancel_later(self, run_id: int | None) -> None:
        """For a wait dropped unfinished: hand the cancel to a worker (no I/O in a finalizer)."""
        if self.on_abort == "cancel" and run_id is not None:
            handle = self._handle
            with contextlib.suppress(Exception):
                self._hub.submit(lambda: handle._cancel_quietly(run_id))


class RunWatch(Iterator[RunUpdate]):
    """Iterate over a run's updates: ``for update in handle.watch(run_id): ...``.

    ``run_id`` is known before the first update; ``last`` holds the latest one. Closing
    the watch (or leaving a ``with`` block) stops polling.
    """

    def __init__(
        self,
        handle: JobHandle,
        run_id: int,
        *,
        timeout: float | None = None,
        cancel: threading.Event | None = None,
        on_abort: AbortMode = "detach",
        mode: str | None = None,
    ) -> None:
        self.run_id = run_id
        self.last: RunUpdate | None = None
        self._wait = _Wait(handle, timeout, on_abort)
        self._changes = _StateChanges(run_id, timeout)
        self._listener = _SyncListener(self._wait.deadline, mode)
        self._cancel = cancel
        self._wait.subscribe(run_id, self._listener, cancel)

    def __iter__(self) -> RunWatch:
        return self

    def __next__(self) -> RunUpdate:
        wait = self._wait
        while not wait.done:
            if self._cancel is not None and self._cancel.is_set():
                self._abort()
                break
            if self._listener.closed is not None:
                wait.stop()
                raise self._listener.closed
            try:
                kind, payload = self._listener.queue.get(timeout=wait.remaining())
            except queue.Empty:
                kind, payload = "timeout", None
            except KeyboardInterrupt:
                self._abort()
                raise
            if kind == "cancel":
                self._abort()
                break
            try:
                update = self._changes.handle(kind, payload)
            except WaitTimeoutError:
                self._abort()
                raise
            except BaseException:
                wait.stop()
                raise
            if update is None:
                continue
            self.last = update
            if update.is_terminal:
                wait.stop()
            return update
        raise StopIteration

    def _abort(self) -> None:
        if self._wait.done:
            return
        self._wait.stop()
        if self._wait.on_abort == "cancel":
            self._wait._handle._cancel_quietly(self.run_id)

    def close(self) -> None:
        """Stop watching; with ``on_abort="cancel"`` an unfinished run is cancelled too."""
        self._abort()

    def __enter__(self) -> RunWatch:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __del__(self) -> None:
        wait = getattr(self, "_wait", None)
        if wait is not None and not wait.done:
            wait.stop()
            wait.cancel_later(self.run_id)


class AsyncRunWatch(AsyncIterator[RunUpdate]):
    """``async for update in handle.awatch(run_id): ...`` (also ``arun_and_wait``).

    ``start`` runs on the first ``__anext__`` (it triggers the run for
    ``arun_and_wait``), so nothing happens until the iteration begins.
    """

    def __init__(
        self,
        handle: JobHandle,
        start: Callable[[], int],
        *,
        timeout: float | None = None,
        cancel: asyncio.Event | None = None,
        on_abort: AbortMode = "detach",
    ) -> None:
        self._start = start
        self._cancel = cancel
        self._wait = _Wait(handle, timeout, on_abort)
        self._changes: _StateChanges | None = None
        self._listener: _AsyncListener | None = None
        self.run_id: int | None = None
        self.last: RunUpdate | None = None

    def __aiter__(self) -> AsyncRunWatch:
        return self

    async def __anext__(self) -> RunUpdate:
        wait = self._wait
        if wait.done:
            raise StopAsyncIteration
        try:
            if self._listener is None:
                self.run_id = int(await asyncio.to_thread(self._start))
                self._changes = _StateChanges(self.run_id, wait.timeout)
                self._listener = _AsyncListener(wait.deadline)
                wait.subscribe(self.run_id, self._listener, None)
            assert self._changes is not None
            while True:
                item = await self._next_item(self._listener)
                if item is None:  # the cancel event was set
                    await self._abort()
                    raise StopAsyncIteration
                update = self._changes.handle(*item)
                if update is not None:
                    break
        except (WaitTimeoutError, asyncio.CancelledError, KeyboardInterrupt):
            await self._abort()
            raise
        except StopAsyncIteration:
            raise
        except BaseException:
            wait.stop()
            raise
        self.last = update
        if update.is_terminal:
            wait.stop()
        return update

    async def _next_item(self, listener: _AsyncListener) -> tuple[str, Any] | None:
        if self._cancel is not None and self._cancel.is_set():
            return None
        getter = asyncio.ensure_future(listener.queue.get())
        waiters: set[asyncio.Future[Any]] = {getter}
        if self._cancel is not None:
            waiters.add(asyncio.ensure_future(self._cancel.wait()))
        remaining = self._wait.remaining()
        if remaining is not None:
            waiters.add(asyncio.ensure_future(asyncio.sleep(remaining)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for fut in waiters:
                if not fut.done():
                    fut.cancel()
        if getter.done() and not getter.cancelled():
            return getter.result()
        if self._cancel is not None and self._cancel.is_set():
            return None
        return ("timeout", None)

    async def _abort(self) -> None:
        wait = self._wait
        if wait.done:
            return
        wait.stop()
        if wait.on_abort == "cancel" and self.run_id is not None:
            await asyncio.shield(asyncio.to_thread(wait._handle._cancel_quietly, self.run_id))

    async def aclose(self) -> None:
        """Stop watching; with ``on_abort="cancel"`` an unfinished run is cancelled too."""
        await self._abort()

    def __del__(self) -> None:
        wait = getattr(self, "_wait", None)
        if wait is not None and not wait.done:
            wait.stop()
            wait.cancel_later(self.run_id)
