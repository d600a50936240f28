"""A small executor of daemon threads that never holds up a close or an exit.

``concurrent.futures.ThreadPoolExecutor`` joins its (non-daemon) workers before any
``atexit`` hook runs, so one API call stuck in a socket held interpreter exit for as
long as the network wanted (8-28 s, or forever for an answer that drips). These
workers are daemon threads owned by one :class:`DaemonPool`: ``shutdown`` joins only
them, only until a deadline, and abandons a call that is still stuck (its result is
never used).

The pool is elastic: a worker is started whenever a call arrives and none is idle (up
to ``max_workers``), and an idle worker ends after ``idle_s``. The hub runs at most one
poll per watched job at a time, so a job whose calls hang holds its own worker and
never the one another job needs.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

__all__ = ["DaemonPool"]

T = TypeVar("T")
_Item = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class DaemonPool(Executor):
    """An executor whose workers are daemon threads it owns (and alone joins)."""

    def __init__(self, name: str, *, max_workers: int = 32, idle_s: float = 30.0) -> None:
        self._name = name
        self._max = max(1, max_workers)
        self._idle_s = idle_s
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._idle = 0
        self._closed = False
        self._serial = itertools.count(1)

    @property
    def threads(self) -> list[threading.Thread]:
        """The live workers (for tests and shutdown reports)."""
        with self._lock:
            return [t for t in self._threads if t.is_alive()]

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self._name} is shut down")
            self._queue.put((future, fn, args, kwargs))
            if self._idle > 0:
                self._idle -= 1  # that worker takes this item
            elif len(self._threads) < self._max:
                worker = threading.Thread(
                    target=self._work, name=f"{self._name}-{next(self._serial)}", daemon=True
                )
                self._threads.add(worker)
                worker.start()
        return future

    def _work(self) -> None:
        me = threading.current_thread()
        try:
            while True:
                try:
                    item = self._queue.get(timeout=self._idle_s)
                except queue.Empty:
                    with self._lock:
                        # Leave only if no item was handed to us meanwhile.
                        if self._idle > 0 or self._closed:
                            self._idle = max(0, self._idle - 1)
                            return
                    continue
                if item is None:
                    return
                future, fn, args, kwargs = item
                if future.set_running_or_notify_cancel():
                    try:
                        result = fn(*args, **kwargs)
                    except BaseException as exc:  # handed to the caller, whatever it is
                        future.set_exception(exc)
                    else:
                        future.set_result(result)
                del item, future, fn, args, kwargs
                with self._lock:
                    if self._closed:
                        return
                    self._idle += 1
        finally:
            with self._lock:
                self._threads.discard(me)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False, timeout: float = 1.0) -> None:
        """Stop taking work; cancel queued calls; join workers until ``timeout`` at most.

        A call still running after that is abandoned: its thread is a daemon and its
        result goes nowhere.
        """
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()
        for _ in threads:
            self._queue.put(None)
        if wait:
            deadline = time.monotonic() + timeout
            for thread in threads:
                if thread is not threading.current_thread():
                    with contextlib.suppress(RuntimeError):
                        thread.join(max(0.0, deadline - time.monotonic()))
