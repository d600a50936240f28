"""The hub: one shared, polite poller for every wait, panel and magic of a runtime.

All waiting goes through a :class:`Hub`, whose scheduler runs on its
:class:`~jobs_widgets.core.runtime.Runtime`'s loop thread (so polling continues while
other cells run, and the kernel stays free for button clicks); SDK calls run on the
runtime's call workers.

* **Sharing.** One subscription per (identity, run); any number of listeners share it.
* **Batching.** When two or more active runs of one job are watched, one
  ``runs/list?job_id&active_only=true&expand_tasks=true`` per tick refreshes all of
  them; a run that leaves the active list is confirmed with one ``runs/get``.
* **Adaptive cadence** (:mod:`~jobs_widgets.core.policy`, :mod:`~jobs_widgets.core.hazard`):
  the next poll is ``scale / sqrt(hazard)``, from the job's history of every kind of end
  (per task for multi-task runs), summed over the runs one request covers, bounded by the
  mode: *foreground* (visible, few runs) or *background* (hidden or many runs); one
  process's requests are spread under a budget shared by the watched jobs.
* **Retries are the hub's.** Polling reads go out without databricks-sdk's own retry
  loop (see :mod:`jobs_widgets.core.sdk`): a failed poll is reported as a *degraded*
  connection at once, and retried after ``PollPolicy.error_delay`` (at least the
  ``Retry-After`` the service asked for). Transient errors never make a run look
  failed; anything else ends the subscription with that error.
* **Closing.** When the runtime closes, every listener hears
  :class:`~jobs_widgets.core.errors.JobsClosedError` at once (waits raise it, panels
  say they stopped following), whatever the loop or the network is doing.
* **Time** comes from the runtime's clock and randomness from its ``random.Random``, so
  tests and benchmarks run hours of polling in virtual time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jobs_widgets.core.cadence import job_floor
from jobs_widgets.core.clock import Clock
from jobs_widgets.core.errors import JobsApiError
from jobs_widgets.core.eta import Eta
from jobs_widgets.core.history import HISTORY_SIZE, JobHistory
from jobs_widgets.core.models import RunUpdate
from jobs_widgets.core.policy import PollPolicy, default_policy
from jobs_widgets.core.polls import SLOW_POLL_S, Polls
from jobs_widgets.core.watched import (
    Health,
    HubStats,
    Listener,
    RunSource,
    Subscription,
    WatchedJob,
    WatchedRun,
)

if TYPE_CHECKING:
    from jobs_widgets.core.runtime import Runtime

__all__ = [
    "HISTORY_SIZE",
    "SLOW_POLL_S",
    "Health",
    "Hub",
    "Listener",
    "RunSource",
    "Subscription",
    "get_hub",
    "shutdown_hub",
]

log = logging.getLogger("jobs_widgets.hub")


class Hub(Polls):
    """A watcher of runs, shared by everything on one runtime.

    ``Hub(clock=..., rng=...)`` makes a hub with a private runtime on that clock (for
    simulations and tests; ``shutdown()`` closes it). The process-wide one is
    :func:`get_hub`, the hub of :func:`~jobs_widgets.core.runtime.get_runtime`.

    Parameters
    ----------
    policy:
        This hub's polling policy (None: the process default, which
        ``%config JobsMagics.poll_*`` sets; a job's ``JobConfig.poll`` overrides both).
    """

    def __init__(
        self,
        *,
        clock: Clock | object | None = None,
        rng: random.Random | None = None,
        policy: PollPolicy | None = None,
        runtime: Runtime | None = None,
        name: str | None = None,
        max_workers: int | None = None,  # accepted for compatibility; workers are elastic
    ) -> None:
        self._policy = policy
        self.stats = HubStats()
        self.history = JobHistory()
        self._lock = threading.Lock()
        self._reset()
        if runtime is None:
            from jobs_widgets.core.runtime import Runtime

            runtime = Runtime(clock=clock, rng=rng, name=name, hub=self)
        self.runtime: Runtime = runtime

    def _reset(self) -> None:
        self._closed = False
        self._subs: dict[tuple[str, int], WatchedRun] = {}
        self._groups: dict[tuple[str, int], WatchedJob] = {}
        self._live: dict[int, Subscription] = {}  # every open subscription, by id (any thread)
        self._wake: asyncio.Event | None = None
        self._main_task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ properties
    @property
    def clock(self) -> Clock:
        return self.runtime.clock

    @property
    def rng(self) -> random.Random:
        return self.runtime.rng

    @property
    def policy(self) -> PollPolicy:
        """This hub's policy, else the process default (read at every decision)."""
        return self._policy or default_policy()

    @policy.setter
    def policy(self, policy: PollPolicy | None) -> None:
        self._policy = policy
        self._poke()

    @property
    def watching(self) -> int:
        """How many runs are being watched right now."""
        with self._lock:
            return len(self._subs)

    @property
    def listeners(self) -> int:
        """How many listeners (waits, panels) are subscribed right now."""
        with self._lock:
            return len(self._live)

    @property
    def running(self) -> bool:
        return self.runtime.running

    # ------------------------------------------------------------------ public API
    def subscribe(self, source: RunSource, run_id: int, listener: Listener) -> Subscription:
        """Start (or join) watching ``run_id`` of ``source``'s job; news goes to ``listener``."""
        self.runtime.ensure_started()
        key = (source.identity, int(run_id))
        handle = Subscription(self, key, listener)
        with self._lock:
            self._live[id(handle)] = handle
        self.runtime.call(self._add_listener, source, key, listener)
        return handle

    def submit(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the runtime's work threads (never the polling ones)."""
        return self.runtime.submit(fn)

    def call_later(self, delay: float, fn: Callable[[], Any]) -> None:
        """Run ``fn`` on a work thread after ``delay`` seconds of the hub's clock."""
        self.runtime.call_later(delay, fn)

    def eta(self, identity: str, job_id: int) -> Eta | None:
        """The job's run-time estimate, if the hub has seen enough of its history."""
        return self.history.eta((identity, job_id))

    def record_durations(self, identity: str, job_id: int, durations: list[float]) -> None:
        """Seed a job's history (seconds of successful runs) without asking the API."""
        self.history.record((identity, job_id), list(durations)[-HISTORY_SIZE:])

    def load_history(self, source: RunSource) -> Eta | None:
        """Fetch the job's history once (blocking) and return its estimate; later calls ask nothing."""
        key = (source.identity, source.job_id)
        if not self.history.claim_load(key):
            return self.history.eta(key)
        with self._lock:
            self.stats.requests += 1
            self.stats.history += 1
        try:
            runs = source.fetch_history()
        except JobsApiError:
            self.history.release_load(key)
            return None
        self.history.store(key, runs)
        return self.history.eta(key)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until the hub waits only for time to pass (see ``Runtime.wait_idle``)."""
        return self.runtime.wait_idle(timeout)

    def shutdown(self, timeout: float = 1.0) -> None:
        """Close this hub's runtime: every wait ends with JobsClosedError. Idempotent."""
        self.runtime.close(timeout)

    # ------------------------------------------------------------------ closing
    def _unsubscribe(self, handle: Subscription) -> None:
        with self._lock:
            self._live.pop(id(handle), None)
        if not self._closed and not self.runtime.closed:
            with contextlib.suppress(Exception):
                self.runtime.call(self._remove_listener, handle.key, handle.listener)

    def _fail_all(self, error: BaseException) -> None:
        """End every subscription with ``error``, from the calling thread (loop or not)."""
        with self._lock:
            self._closed = True
            live = list(self._live.values())
        for handle in live:
            handle.end(error)

    def _stop_in_loop(self) -> None:
        for sub in list(self._subs.values()):
            sub.done = True
        self._subs.clear()
        self._groups.clear()
        if self._main_task is not None:
            self._main_task.cancel()

    def _poke(self) -> None:
        loop = self.runtime._loop
        if loop is not None and not self._closed:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._poke_in_loop)

    def _poke_in_loop(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # ------------------------------------------------------------------ scheduling
    async def _main(self) -> None:
        self._wake = asyncio.Event()
        self._main_task = asyncio.current_task()
        runtime = self.runtime
        while True:
            now = self.clock.monotonic()
            self._fire_deadlines(now)
            self._start_due_polls(now)
            wake_at = self._next_wake(now)
            self._wake.clear()
            runtime.set_sleeping(True)
            try:
                if wake_at is None:
                    await self._wake.wait()
                else:
                    sleeper = asyncio.ensure_future(self.clock.async_sleep(max(0.0, wake_at - now)))
                    waker = asyncio.ensure_future(self._wake.wait())
                    try:
                        await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        for fut in (sleeper, waker):
                            if not fut.done():
                                fut.cancel()
                        await asyncio.gather(sleeper, waker, return_exceptions=True)
            finally:
                runtime.set_sleeping(False)

    def _floor(self, policy: PollPolicy) -> float:
        watched = sum(1 for g in self._groups.values() if g.subs)
        return job_floor(policy, watched, self.policy.budget_per_minute)

    def _group_policy(self, group: WatchedJob) -> PollPolicy:
        return group.source.poll_policy or self.policy

    def _group_next(self, group: WatchedJob) -> float | None:
        if not group.subs or group.in_flight:
            return None
        due = min(s.next_due for s in group.subs.values())
        if any(s.initial for s in group.subs.values()):
            return max(due, group.retry_at)
        return max(due, group.last_poll + self._floor(self._group_policy(group)), group.retry_at)

    def _group_due(self, group: WatchedJob, now: float) -> bool:
        nxt = self._group_next(group)
        return nxt is not None and nxt <= now

    def _next_wake(self, now: float) -> float | None:
        times = [t for g in self._groups.values() if (t := self._group_next(g)) is not None]
        for sub in self._subs.values():
            times.extend(d for lst in sub.listeners if (d := getattr(lst, "deadline", None)) is not None)
        return min(times) if times else None

    def _fire_deadlines(self, now: float) -> None:
        for sub in list(self._subs.values()):
            for listener in list(sub.listeners):
                deadline = getattr(listener, "deadline", None)
                if deadline is not None and deadline <= now:
                    listener.deadline = None
                    self._notify(listener.on_timeout)
                    self._remove_listener(sub.key, listener)

    def _start_due_polls(self, now: float) -> None:
        """Spawn the polls that are due. A function of its own so that no local of the
        sleeping ``_main`` keeps a dropped job (and through it a dropped registry) alive."""
        for group in list(self._groups.values()):
            if not group.in_flight and group.subs and self._group_due(group, now):
                group.in_flight = True
                self.runtime.spawn(self._poll(group))

    # ------------------------------------------------------------------ membership (loop thread)
    def _add_listener(self, source: RunSource, key: tuple[str, int], listener: Listener) -> None:
        with self._lock:
            if not any(h.listener is listener for h in self._live.values()):
                return  # closed (or ended) before it reached the loop
        sub = self._subs.get(key)
        if sub is None or sub.done:
            gkey = (source.identity, source.job_id)
            group = self._groups.get(gkey)
            if group is None:
                group = self._groups[gkey] = WatchedJob(key=gkey, source=source)
                if self.history.claim_load(gkey):
                    self.runtime.spawn(self._load_history(group))
            sub = WatchedRun(key=key, group=group, next_due=self.clock.monotonic())
            group.subs[key[1]] = sub
            with self._lock:
                self._subs[key] = sub
        sub.listeners.append(listener)
        if sub.last is not None:
            # A late joiner sees the current state at once, without another request.
            update = RunUpdate(run=sub.last, previous_state=None, observed_at=self.clock.time(), seq=sub.seq)
            self._notify(listener.on_update, update)
            if not sub.health.ok:
                self._notify(listener.on_health, sub.health)

    def _remove_listener(self, key: tuple[str, int], listener: Listener) -> None:
        sub = self._subs.get(key)
        if sub is None:
            return
        if listener in sub.listeners:
            sub.listeners.remove(listener)
        if not sub.listeners:
            self._drop(sub)

    def _drop(self, sub: WatchedRun) -> None:
        sub.done = True
        with self._lock:
            self._subs.pop(sub.key, None)
        sub.group.subs.pop(sub.run_id, None)
        if not sub.group.subs and not sub.group.in_flight:
            self._groups.pop(sub.group.key, None)

    def _finish(self, sub: WatchedRun, listener: Listener) -> None:
        """``listener`` heard its last news (an end or an error): forget its subscription handle."""
        with self._lock:
            for ident, handle in list(self._live.items()):
                if handle.listener is listener:
                    handle.closed = True
                    del self._live[ident]


def get_hub() -> Hub:
    """The process-wide hub (of :func:`~jobs_widgets.core.runtime.get_runtime`)."""
    from jobs_widgets.core.runtime import get_runtime

    return get_runtime().hub


def shutdown_hub() -> None:
    """Close the process-wide runtime: every wait on it ends with JobsClosedError."""
    from jobs_widgets.core.runtime import close_runtime

    close_runtime()
