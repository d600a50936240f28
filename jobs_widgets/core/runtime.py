"""The runtime: the one owner of jobs_widgets' background thread, loop and workers.

Everything that happens in the background (the hub's polling, panels' API calls,
retries, cancel events) runs on threads a :class:`Runtime` started and alone ends:

* a daemon thread running a private asyncio loop (the hub's scheduler lives there);
* a :class:`~jobs_widgets.core.pool.DaemonPool` for the hub's blocking SDK calls, and
  one for other work (panel commands, history loads);
* a watcher thread for ``cancel`` events, only while some wait has one (one thread
  looks at every event, so an idle wait costs nothing between polls).

**Shutdown contract.** :meth:`Runtime.close` ends every wait, iterator and panel
subscription at once with :class:`~jobs_widgets.core.errors.JobsClosedError` (panels
show that they stopped following), stops the loop, and joins only its own threads,
for about a second at most: a call stuck in a socket is abandoned, never waited for.
Interpreter exit closes every runtime that way; a forked child starts afresh.

The process-wide runtime (real clock) is :func:`get_runtime`; a simulation or a
sped-up sandbox gets its own runtime on its own clock. Each runtime keeps one
:class:`~jobs_widgets.core.session.Session` per workspace identity.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import logging
import os
import random
import threading
import time
import weakref
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

from jobs_widgets.core.clock import Clock, as_clock
from jobs_widgets.core.errors import JobsClosedError
from jobs_widgets.core.pool import DaemonPool

if TYPE_CHECKING:
    from jobs_widgets.core.hub import Hub
    from jobs_widgets.core.policy import PollPolicy
    from jobs_widgets.core.session import Session

__all__ = ["Runtime", "close_runtime", "get_runtime"]

log = logging.getLogger("jobs_widgets.runtime")
T = TypeVar("T")
CLOSE_TIMEOUT_S = 1.0
EXIT_TIMEOUT_S = 0.25
_serial = itertools.count(1)
_all: weakref.WeakSet[Runtime] = weakref.WeakSet()


class Runtime:
    """Owns the loop thread and the workers of one clock's worth of background work.

    Parameters
    ----------
    clock, rng:
        Time and randomness for everything scheduled here (inject a ManualClock and a
        seeded Random for simulations).
    policy:
        The polling policy of this runtime's hub (None: the process default, which
        ``%config JobsMagics.poll_*`` sets).
    name:
        Prefix of the threads' names.
    """

    def __init__(
        self,
        *,
        clock: Clock | object | None = None,
        rng: random.Random | None = None,
        policy: PollPolicy | None = None,
        name: str | None = None,
        hub: Hub | None = None,
    ) -> None:
        self.clock: Clock = as_clock(clock)
        self.rng = rng or random.Random()
        self.name = name or f"jobs-widgets-{next(_serial)}"
        self._init_state()
        if hub is None:
            from jobs_widgets.core.hub import Hub

            hub = Hub(runtime=self, policy=policy)
        self.hub: Hub = hub
        _all.add(self)

    def _init_state(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._calls = DaemonPool(f"{self.name}-call")
        self._work = DaemonPool(f"{self.name}-work")
        self._pending = 0  # calls scheduled onto the loop, not yet run
        self._busy = 0  # spawned tasks (polls, history loads) not yet done
        self._sleeping = False  # the hub's scheduler waits for time to pass
        self._tasks: set[asyncio.Task[Any]] = set()
        self._events: dict[int, tuple[threading.Event, Callable[[], None]]] = {}
        self._event_ids = itertools.count(1)
        self._event_thread: threading.Thread | None = None
        self._event_wake = threading.Event()
        self._sessions: dict[str, Session] = {}

    # ------------------------------------------------------------------ state
    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def threads(self) -> list[threading.Thread]:
        """Every live thread this runtime started (and nothing else)."""
        own = [t for t in (self._thread, self._event_thread) if t is not None and t.is_alive()]
        return own + self._calls.threads + self._work.threads

    def check_open(self) -> None:
        if self._closed:
            raise JobsClosedError()

    # ------------------------------------------------------------------ sessions
    def session(self, identity: str, factory: Callable[[], Session]) -> Session:
        """The one session of ``identity`` in this runtime (made by ``factory`` the first time)."""
        with self._lock:
            session = self._sessions.get(identity)
            if session is None:
                session = self._sessions[identity] = factory()
            return session

    # ------------------------------------------------------------------ the loop
    def ensure_started(self) -> None:
        """Start the loop thread if needed; every caller waits until the loop exists."""
        with self._lock:
            if self._closed:
                raise JobsClosedError()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run_loop, name=self.name, daemon=True)
                self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the jobs_widgets runtime did not start")
        if self._closed:
            raise JobsClosedError()

    def _run_loop(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        main = loop.create_task(self.hub._main())
        self._ready.set()
        try:
            loop.run_until_complete(main)
        except BaseException as exc:  # the scheduler died: no wait may hang on it
            if not isinstance(exc, asyncio.CancelledError):
                log.error("jobs_widgets runtime: the scheduler stopped: %r", exc)
                self.hub._fail_all(RuntimeError(f"the jobs_widgets hub stopped: {type(exc).__name__}: {exc}"))
        finally:
            for task in list(self._tasks):
                task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(asyncio.gather(*self._tasks, return_exceptions=True))
            loop.close()
            with self._idle:
                self._closed = True
                self._idle.notify_all()

    def call(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the loop thread, soon (from any thread)."""
        self.ensure_started()
        loop = self._loop
        assert loop is not None
        with self._lock:
            self._pending += 1

        def run() -> None:
            try:
                fn(*args)
            except BaseException:  # KeyboardInterrupt/SystemExit from a callback too: the loop lives on
                log.exception("jobs_widgets runtime: %s failed", getattr(fn, "__name__", fn))
            finally:
                with self._idle:
                    self._pending -= 1
                    self._sleeping = False  # the scheduler must look again before anyone calls it idle
                    self._idle.notify_all()
                self.hub._poke_in_loop()

        try:
            loop.call_soon_threadsafe(run)
        except RuntimeError:  # the loop closed under us
            with self._lock:
                self._pending -= 1

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Start a task on the loop (call from the loop thread); counted until it is done."""
        with self._lock:
            self._busy += 1
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)

        def finished(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            with self._idle:
                self._busy -= 1
                self._sleeping = False  # the scheduler must look again before anyone calls it idle
                self._idle.notify_all()
            self.hub._poke_in_loop()

        task.add_done_callback(finished)

    async def in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Await ``fn(*args)`` run on a call worker (the loop itself never blocks)."""
        return await asyncio.wrap_future(self._calls.submit(fn, *args))

    def set_sleeping(self, sleeping: bool) -> None:
        with self._idle:
            self._sleeping = sleeping
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until the scheduler waits only for time to pass (nothing in flight).

        For virtual-time drivers: once this returns True, advancing a ManualClock to its
        ``next_deadline()`` is the next thing that can happen.
        """
        if not self.running:
            return True
        with self._idle:
            return self._idle.wait_for(
                lambda: self._closed or (self._sleeping and self._pending == 0 and self._busy == 0), timeout
            )

    # ------------------------------------------------------------------ other work
    def submit(self, fn: Callable[[], T]) -> Future[T]:
        """Run ``fn`` on a work thread (API calls of panels and the like; never the polling threads)."""
        with self._lock:
            if self._closed:
                raise JobsClosedError()
        return self._work.submit(fn)

    def call_later(self, delay: float, fn: Callable[[], Any]) -> None:
        """Run ``fn`` on a work thread after ``delay`` seconds of this runtime's clock.

        For retries that must not hold a thread while they wait (and that virtual time
        skips over, like any other wait here).
        """

        def schedule() -> None:
            async def later() -> None:
                await self.clock.async_sleep(delay)
                if not self._closed:
                    self.submit(fn)

            task = asyncio.get_running_loop().create_task(later())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self.call(schedule)

    def watch_event(self, event: threading.Event, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (once) soon after ``event`` is set; returns a function that forgets it.

        One thread looks at every registered event every 50 ms, and only while there is
        one: a thousand waits with a cancel event cost what one does.
        """
        with self._lock:
            if self._closed:
                raise JobsClosedError()
            ident = next(self._event_ids)
            self._events[ident] = (event, callback)
            if self._event_thread is None or not self._event_thread.is_alive():
                self._event_thread = threading.Thread(
                    target=self._watch_events, name=f"{self.name}-events", daemon=True
                )
                self._event_thread.start()

        def forget() -> None:
            with self._lock:
                self._events.pop(ident, None)

        return forget

    def _watch_events(self) -> None:
        while not self._event_wake.wait(0.05):
            with self._lock:
                if self._closed or not self._events:
                    self._event_thread = None
                    return
                fired = [(i, cb) for i, (ev, cb) in self._events.items() if ev.is_set()]
                for ident, _ in fired:
                    del self._events[ident]
            for _, callback in fired:
                try:
                    callback()
                except BaseException:
                    log.exception("jobs_widgets runtime: a cancel callback failed")

    # ------------------------------------------------------------------ shutdown
    def close(self, timeout: float = CLOSE_TIMEOUT_S, *, reason: JobsClosedError | None = None) -> None:
        """End every wait and subscription (with ``reason``), stop the loop, free the threads.

        Idempotent. Takes about ``timeout`` seconds at most, whatever the network does:
        a call stuck in a socket is abandoned (its daemon thread ends with the call).
        """
        with self._lock:
            if self._closed and self._thread is None:
                return
            already = self._closed
            self._closed = True
            loop, thread = self._loop, self._thread
            self._thread = None
            self._events.clear()
            sessions = list(self._sessions.values())
            self._sessions.clear()
        self._event_wake.set()
        if not already:
            self.hub._fail_all(reason or JobsClosedError())
        deadline = time.monotonic() + timeout
        if loop is not None and thread is not None and thread.is_alive():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self.hub._stop_in_loop)
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        for pool in (self._calls, self._work):
            pool.shutdown(wait=True, cancel_futures=True, timeout=max(0.0, deadline - time.monotonic()))
        for session in sessions:
            session.close()
        with self._idle:
            self._idle.notify_all()

    def _after_fork(self) -> None:
        """In a forked child: none of the parent's threads exist here; start afresh when used."""
        was_closed = self._closed
        self._init_state()
        self._closed = was_closed
        self.hub._reset()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("running" if self.running else "idle")
        return f"<Runtime {self.name} {state} clock={self.clock!r}>"


_default: Runtime | None = None
_default_lock = threading.Lock()


def get_runtime() -> Runtime:
    """The process-wide runtime on the real clock (created on first use, closed at exit)."""
    global _default
    with _default_lock:
        if _default is None or _default.closed:
            _default = Runtime(name=f"jobs-widgets-hub-{next(_serial)}")
        return _default


def close_runtime(timeout: float = CLOSE_TIMEOUT_S) -> None:
    """Close the process-wide runtime (``%unload_ext jobs_widgets`` does this)."""
    global _default
    with _default_lock:
        runtime, _default = _default, None
    if runtime is not None:
        runtime.close(timeout)


def _close_all_at_exit() -> None:
    # Every wait hears why it ends; threads are not waited for long: they are daemons,
    # and the interpreter ends them with itself.
    deadline = time.monotonic() + EXIT_TIMEOUT_S
    for runtime in list(_all):
        with contextlib.suppress(Exception):
            runtime.close(max(0.05, deadline - time.monotonic()))


def _after_fork_in_child() -> None:
    global _default, _default_lock
    _default_lock = threading.Lock()
    _default = None
    for runtime in list(_all):
        runtime._after_fork()


atexit.register(_close_all_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
