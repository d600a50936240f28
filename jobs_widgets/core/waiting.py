"""Watching one run until it ends: the iterators behind ``watch`` and ``run_and_wait``.

The actual polling belongs to a *watcher*: a callable that, given a fetch function and
the wait's limits, yields :class:`RunUpdate` objects, one per state change plus the
final one. :class:`RunWatch` (sync) and :class:`AsyncRunWatch` wrap a watcher with the
behaviour users rely on:

* ``cancel`` (a ``threading.Event`` / ``asyncio.Event``) ends the iteration promptly,
  even mid-sleep;
* ``timeout=None`` means "until the run ends" (there is no hidden 20-minute deadline);
  a timeout raises :class:`WaitTimeoutError` and leaves the run alone;
* ``on_abort="cancel"`` also cancels the remote run when the wait is abandoned (cancel
  event, timeout, Ctrl-C, or closing the iterator early); ``"detach"`` (the default)
  never touches it.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from types import TracebackType
from typing import Any, Literal

from jobs_widgets.core.errors import ParamsError, WaitTimeoutError
from jobs_widgets.core.hub import Health, Hub, RunSource
from jobs_widgets.core.models import RunUpdate
from jobs_widgets.core.states import RunState

__all__ = ["AbortMode", "AsyncRunWatch", "RunWatch", "awatch_updates", "watch_updates"]

AbortMode = Literal["detach", "cancel"]


def check_abort_mode(on_abort: str) -> AbortMode:
    if on_abort not in ("detach", "cancel"):
        raise ParamsError(f'on_abort must be "detach" or "cancel", got {on_abort!r}', key="on_abort")
    return on_abort  # type: ignore[return-value]


class RunWatch(Iterator[RunUpdate]):
    """Iterate over a run's updates: ``for update in handle.watch(run_id): ...``.

    ``run_id`` is known before the first update; ``last`` holds the latest one. Closing
    the watch (or leaving a ``with`` block) stops polling.
    """

    def __init__(
        self,
        run_id: int,
        updates: Iterator[RunUpdate],
        *,
        on_abort: AbortMode = "detach",
        cancel_run: Callable[[], None] | None = None,
    ) -> None:
        self.run_id = run_id
        self.last: RunUpdate | None = None
        self._updates = updates
        self._on_abort = on_abort
        self._cancel_run = cancel_run
        self._done = False
        self._aborted = False

    def __iter__(self) -> RunWatch:
        return self

    def __next__(self) -> RunUpdate:
        if self._done:
            raise StopIteration
        try:
            update = next(self._updates)
        except StopIteration:
            self._done = True
            if self.last is None or not self.last.is_terminal:
                self._abort()  # ended by the cancel event
            raise
        except WaitTimeoutError:
            self._done = True
            self._abort()
            raise
        except KeyboardInterrupt:
            self._done = True
            self._abort()
            raise
        self.last = update
        if update.is_terminal:
            self._done = True
        return update

    def _abort(self) -> None:
        if self._aborted:
            return
        self._aborted = True
        close = getattr(self._updates, "close", None)
        if close is not None:
            close()
        if self._on_abort == "cancel" and self._cancel_run is not None:
            self._cancel_run()

    def close(self) -> None:
        """Stop watching; with ``on_abort="cancel"`` an unfinished run is cancelled too."""
        if not self._done:
            self._done = True
            self._abort()

    def __enter__(self) -> RunWatch:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # An abandoned, unfinished watch with on_abort="cancel" must not leave the run going.
        if not self._done and not self._aborted:
            try:
                self.close()
            except Exception:  # interpreter shutdown; nothing sensible to report
                return


class AsyncRunWatch(AsyncIterator[RunUpdate]):
    """``async for update in handle.awatch(run_id): ...`` (also ``arun_and_wait``).

    ``start`` runs on the first ``__anext__`` (it triggers the run for
    ``arun_and_wait``), so nothing happens until the iteration begins.
    """

    def __init__(
        self,
        start: Callable[[], Any],
        watch: Callable[[int], AsyncIterator[RunUpdate]],
        *,
        on_abort: AbortMode = "detach",
        cancel_run: Callable[[int], Any] | None = None,
    ) -> None:
        self._start = start
        self._watch = watch
        self._on_abort = on_abort
        self._cancel_run = cancel_run
        self._updates: AsyncIterator[RunUpdate] | None = None
        self.run_id: int | None = None
        self.last: RunUpdate | None = None
        self._done = False

    def __aiter__(self) -> AsyncRunWatch:
        return self

    async def __anext__(self) -> RunUpdate:
        if self._done:
            raise StopAsyncIteration
        try:
            if self._updates is None:
                self.run_id = int(await asyncio.to_thread(self._start))
                self._updates = self._watch(self.run_id)
            update = await self._updates.__anext__()
        except StopAsyncIteration:
            self._done = True
            if self.last is None or not self.last.is_terminal:
                await self._abort()
            raise
        except (WaitTimeoutError, asyncio.CancelledError, KeyboardInterrupt):
            self._done = True
            await self._abort()
            raise
        self.last = update
        if update.is_terminal:
            self._done = True
        return update

    async def _abort(self) -> None:
        closer = getattr(self._updates, "aclose", None)
        if closer is not None:
            await closer()
        if self._on_abort == "cancel" and self._cancel_run is not None and self.run_id is not None:
            await asyncio.shield(asyncio.to_thread(self._cancel_run, self.run_id))

    async def aclose(self) -> None:
        if not self._done:
            self._done = True
            await self._abort()


# ---------------------------------------------------------------------- hub listeners
class _QueueListener:
    """Hands a subscription's news to one consumer as ``(kind, payload)`` items."""

    def __init__(self, deadline: float | None) -> None:
        self.visible = True
        self.deadline = deadline

    def _put(self, item: tuple[str, Any]) -> None:
        raise NotImplementedError

    def on_update(self, update: RunUpdate) -> None:
        self._put(("update", update))

    def on_health(self, health: Health) -> None:
        self._put(("health", health))

    def on_error(self, error: BaseException) -> None:
        self._put(("error", error))

    def on_timeout(self) -> None:
        self._put(("timeout", None))


class _SyncListener(_QueueListener):
    """For one synchronous iterator: a thread-safe queue."""

    def __init__(self, deadline: float | None) -> None:
        super().__init__(deadline)
        self.queue: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()

    def _put(self, item: tuple[str, Any]) -> None:
        self.queue.put(item)


class _StateChanges:
    """Turns the hub's stream of news into one update per state change (plus the last)."""

    def __init__(self, run_id: int, timeout: float | None) -> None:
        self.run_id = run_id
        self.timeout = timeout
        self.last: RunState | None = None

    def accept(self, update: RunUpdate) -> RunUpdate | None:
        if update.state == self.last and not update.is_terminal:
            return None
        accepted = replace(update, previous_state=self.last)
        self.last = update.state
        return accepted

    def handle(self, kind: str, payload: Any) -> RunUpdate | None:
        """The update to yield for one item (None: nothing to yield); raises errors and timeouts."""
        if kind == "update":
            return self.accept(payload)
        if kind == "error":
            raise payload
        if kind == "timeout":
            raise WaitTimeoutError(self.run_id, self.timeout or 0.0, self.last.value if self.last else None)
        return None  # health news is for panels


def watch_updates(
    hub: Hub,
    source: RunSource,
    run_id: int,
    *,
    timeout: float | None,
    cancel: threading.Event | None,
) -> Iterator[RunUpdate]:
    """Updates of one run from the hub until it ends, ``cancel`` is set, or ``timeout`` passes."""
    deadline = None if timeout is None else hub.clock.monotonic() + timeout
    listener = _SyncListener(deadline)
    subscription = hub.subscribe(source, run_id, listener)
    changes = _StateChanges(run_id, timeout)
    try:
        while True:
            if cancel is not None and cancel.is_set():
                return
            try:
                kind, payload = listener.queue.get(timeout=0.05)
            except queue.Empty:
                continue
            update = changes.handle(kind, payload)
            if update is not None:
                yield update
                if update.is_terminal:
                    return
    finally:
        subscription.close()


class _AsyncListener(_QueueListener):
    """For one coroutine: an asyncio queue on the coroutine's own event loop."""

    def __init__(self, deadline: float | None) -> None:
        super().__init__(deadline)
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def _put(self, item: tuple[str, Any]) -> None:
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:  # the caller's loop is gone; nobody is listening
            return


async def awatch_updates(
    hub: Hub,
    source: RunSource,
    run_id: int,
    *,
    timeout: float | None,  # noqa: ASYNC109 - a deadline on the hub's clock, not asyncio's
    cancel: asyncio.Event | None,
) -> AsyncIterator[RunUpdate]:
    """The async twin of :func:`watch_updates` (``cancel`` is an ``asyncio.Event``)."""
    deadline = None if timeout is None else hub.clock.monotonic() + timeout
    listener = _AsyncListener(deadline)
    subscription = hub.subscribe(source, run_id, listener)
    changes = _StateChanges(run_id, timeout)
    try:
        while True:
            getter = asyncio.ensure_future(listener.queue.get())
            waiters: set[asyncio.Future[Any]] = {getter}
            stopper = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
            if stopper is not None:
                waiters.add(stopper)
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for fut in waiters:
                    if not fut.done():
                        fut.cancel()
            if not getter.done() or getter.cancelled():
                return  # cancelled by the event
            update = changes.handle(*getter.result())
            if update is not None:
                yield update
                if update.is_terminal:
                    return
            if cancel is not None and cancel.is_set():
                return
    finally:
        subscription.close()
