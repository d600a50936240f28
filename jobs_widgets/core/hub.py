"""The hub: one shared, polite poller for every wait, panel and magic in the process.

All waiting goes through one :class:`Hub`, which runs on a private daemon thread with
its own asyncio loop (so polling continues while other cells run, and the kernel stays
free for button clicks); SDK calls run on a small thread pool.

* **Sharing.** One subscription per (identity, run); any number of listeners share it.
* **Batching.** When two or more active runs of one job are watched, one
  ``runs/list?job_id&active_only=true&expand_tasks=true`` per tick refreshes all of
  them; a run that leaves the active list is confirmed with one ``runs/get``.
* **Adaptive cadence** (see :mod:`jobs_widgets.core.policy` and :class:`Eta`): dense
  near the job's usual end, sparse in the middle, sparser when no visible panel shows
  the run, never above ``cap`` between polls; one process's requests are spread under
  a budget shared fairly between the watched jobs.
* **Errors.** Transient errors (429, 5xx, timeouts, connection errors) make the
  subscription *degraded*, honour ``Retry-After`` and back off; they never make a run
  look failed. Anything else ends the subscription with that error.
* **Time** comes from an injected :class:`Clock` and randomness from a
  ``random.Random``, so tests and benchmarks run hours of polling in virtual time
  (:meth:`Hub.wait_idle` tells a driver when the hub is waiting for time to pass).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from jobs_widgets.core.clock import Clock, as_clock
from jobs_widgets.core.errors import JobsApiError
from jobs_widgets.core.eta import Eta
from jobs_widgets.core.models import Run, RunUpdate
from jobs_widgets.core.policy import PollPolicy
from jobs_widgets.core.states import RunState

__all__ = ["Health", "Hub", "Listener", "RunSource", "Subscription", "get_hub", "shutdown_hub"]

log = logging.getLogger("jobs_widgets.hub")
T = TypeVar("T")
HISTORY_SIZE = 50
CLOCK_SKEW_S = 5.0
_SLOW_STATES = frozenset({RunState.QUEUED, RunState.BLOCKED})


@dataclass(frozen=True, slots=True)
class Health:
    """The connection as seen by one subscription: ``ok``, or ``degraded`` and retrying."""

    status: str = "ok"
    message: str = ""
    next_retry_at: float | None = None  # epoch seconds
    failures: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


OK = Health()


class RunSource(Protocol):
    """What the hub needs to watch runs of one job for one identity (a JobHandle is one)."""

    @property
    def identity(self) -> str: ...
    @property
    def job_id(self) -> int: ...
    @property
    def poll_policy(self) -> PollPolicy | None: ...
    def fetch_run(self, run_id: int) -> Run: ...
    def fetch_active_runs(self) -> list[Run]: ...
    def fetch_history(self) -> list[Run]: ...


class Listener(Protocol):
    """Receives a subscription's news, on the hub's thread (keep callbacks quick)."""

    visible: bool
    deadline: float | None  # hub-clock monotonic time at which to call on_timeout

    def on_update(self, update: RunUpdate) -> None: ...
    def on_health(self, health: Health) -> None: ...
    def on_error(self, error: BaseException) -> None: ...
    def on_timeout(self) -> None: ...


class Subscription:
    """A listener's handle on a watched run: ``close()`` stops listening."""

    def __init__(self, hub: Hub, key: tuple[str, int], listener: Listener) -> None:
        self._hub = hub
        self.key = key
        self.listener = listener
        self.closed = False

    @property
    def run_id(self) -> int:
        return self.key[1]

    def set_visible(self, visible: bool) -> None:
        """Report whether the listener is on screen (hidden runs are polled less often)."""
        self.listener.visible = visible
        self._hub._poke()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._hub._call(self._hub._remove_listener, self.key, self.listener)


@dataclass(eq=False)
class _Sub:
    key: tuple[str, int]
    group: _Group
    listeners: list[Listener] = field(default_factory=list)
    last: Run | None = None
    fingerprint: tuple[Any, ...] | None = None
    health: Health = OK
    polls: int = 0
    seq: int = 0
    next_due: float = 0.0
    initial: bool = True
    done: bool = False

    @property
    def run_id(self) -> int:
        return self.key[1]

    @property
    def visible(self) -> bool:
        return any(getattr(listener, "visible", True) for listener in self.listeners)


@dataclass(eq=False)
class _Group:
    key: tuple[str, int]
    source: RunSource
    subs: dict[int, _Sub] = field(default_factory=dict)
    in_flight: bool = False
    last_poll: float = float("-inf")
    failures: int = 0
    retry_at: float = float("-inf")


@dataclass
class HubStats:
    """Counters for tests and benchmarks."""

    requests: int = 0
    runs_get: int = 0
    runs_list: int = 0
    history: int = 0
    errors: int = 0
    degraded_periods: int = 0
    recoveries: int = 0


class Hub:
    """A process-wide watcher of runs. Usually obtained with :func:`get_hub`.

    Parameters
    ----------
    clock, rng:
        Time and randomness (inject a ManualClock and a seeded Random in tests).
    policy:
        The default polling policy (a job's ``JobConfig.poll`` overrides it).
    max_workers:
        Threads for SDK calls (they block; the hub's loop never does).
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        policy: PollPolicy | None = None,
        max_workers: int = 4,
        name: str = "jobs-widgets-hub",
    ) -> None:
        self.clock: Clock = as_clock(clock)
        self.rng = rng or random.Random()
        self.policy = policy or PollPolicy()
        self.stats = HubStats()
        self._name = name
        self._max_workers = max_workers
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._work: ThreadPoolExecutor | None = None
        self._wake: asyncio.Event | None = None
        self._main_task: asyncio.Task[None] | None = None
        self._closed = False
        self._pending = 0  # calls scheduled onto the loop but not yet run
        self._busy = 0  # polls and history loads in flight
        self._sleeping = False
        self._subs: dict[tuple[str, int], _Sub] = {}
        self._groups: dict[tuple[str, int], _Group] = {}
        self._etas: dict[tuple[str, int], Eta] = {}
        self._durations: dict[tuple[str, int], list[float]] = {}
        self._history_loaded: set[tuple[str, int]] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ready = threading.Event()

    # ------------------------------------------------------------------ public API
    def subscribe(self, source: RunSource, run_id: int, listener: Listener) -> Subscription:
        """Start (or join) watching ``run_id`` of ``source``'s job; news goes to ``listener``."""
        self._ensure_started()
        key = (source.identity, int(run_id))
        handle = Subscription(self, key, listener)
        self._call(self._add_listener, source, key, listener)
        return handle

    def submit(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the hub's work threads (blocking API calls of panels and the like).

        They are not the threads that poll: however long other work takes, polling
        goes on.
        """
        self._ensure_started()
        assert self._work is not None
        return self._work.submit(fn)

    def call_later(self, delay: float, fn: Callable[[], Any]) -> None:
        """Run ``fn`` on the work threads after ``delay`` seconds of the hub's clock.

        For retries that must not hold a thread while they wait (and that virtual time
        can skip over, like any other wait of the hub).
        """
        self._ensure_started()

        def schedule() -> None:
            async def later() -> None:
                await self.clock.async_sleep(delay)
                if not self._closed:
                    self.submit(fn)

            task = asyncio.get_running_loop().create_task(later())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self._call(schedule)

    def eta(self, identity: str, job_id: int) -> Eta | None:
        """The job's run-time estimate, if the hub has seen enough of its history."""
        with self._lock:
            return self._etas.get((identity, job_id))

    def record_durations(self, identity: str, job_id: int, durations: list[float]) -> None:
        """Seed a job's history (seconds of successful runs) without asking the API."""
        with self._lock:
            self._durations[(identity, job_id)] = list(durations)[-HISTORY_SIZE:]
            eta = Eta.from_durations(self._durations[(identity, job_id)])
            if eta is not None:
                self._etas[(identity, job_id)] = eta
            self._history_loaded.add((identity, job_id))

    def load_history(self, source: RunSource) -> Eta | None:
        """Fetch (once) and return the job's run-time estimate (blocking; for callers outside the hub)."""
        key = (source.identity, source.job_id)
        with self._lock:
            if key in self._history_loaded:
                return self._etas.get(key)
        try:
            runs = source.fetch_history()
        except JobsApiError:
            return None
        with self._lock:
            self.stats.requests += 1
            self.stats.history += 1
        self._store_history(key, runs)
        return self.eta(*key)

    @property
    def watching(self) -> int:
        """How many runs are being watched right now."""
        with self._lock:
            return len(self._subs)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until the hub waits only for time to pass (no call or poll in flight).

        For virtual-time drivers: after this returns True, advancing a ManualClock to
        its ``next_deadline()`` is the next thing that can happen.
        """
        if not self.running:
            return True
        with self._idle:
            return self._idle.wait_for(
                lambda: self._closed or (self._sleeping and self._pending == 0 and self._busy == 0), timeout
            )

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop every subscription, the loop, the thread and the pool. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
        deadline = time.monotonic() + timeout
        if loop is not None and thread is not None and thread.is_alive():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._stop_loop)
            thread.join(timeout)
        for pool in (self._executor, self._work):
            if pool is not None:
                # A call stuck in the SDK's own retries cannot be interrupted: wait for
                # it only until the deadline (it finishes on its own, its result unused).
                pool.shutdown(wait=False, cancel_futures=True)
        prefixes = (f"{self._name}-call", f"{self._name}-work")
        for worker in [t for t in threading.enumerate() if t.name.startswith(prefixes)]:
            worker.join(max(0.0, deadline - time.monotonic()))
        with self._idle:
            self._idle.notify_all()

    # ------------------------------------------------------------------ thread + loop
    def _ensure_started(self) -> None:
        # Every caller waits until the loop exists: a second thread arriving while the
        # first one starts the hub must not schedule onto a loop that is not there yet.
        with self._lock:
            if self._closed:
                raise RuntimeError("this hub has been shut down")
            if self._thread is None:
                self._executor = ThreadPoolExecutor(
                    self._max_workers, thread_name_prefix=f"{self._name}-call"
                )
                self._work = ThreadPoolExecutor(self._max_workers, thread_name_prefix=f"{self._name}-work")
                self._thread = threading.Thread(
                    target=self._run_loop, args=(self._ready,), name=self._name, daemon=True
                )
                self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the jobs_widgets hub did not start")

    def _run_loop(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._wake = asyncio.Event()
        self._main_task = loop.create_task(self._main())
        ready.set()
        try:
            loop.run_until_complete(self._main_task)
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # a bug, or a clock that fails: end every wait, never hang it
            log.exception("jobs_widgets hub: stopped")
            self._fail_everyone(exc)
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            with self._idle:
                self._sleeping = True
                self._idle.notify_all()

    def _fail_everyone(self, exc: Exception) -> None:
        """The loop died: close the hub and tell every listener why (waits raise it)."""
        with self._lock:
            self._closed = True
            subs = list(self._subs.values())
        for pool in (self._executor, self._work):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
        stopped = RuntimeError(f"the jobs_widgets hub stopped: {type(exc).__name__}: {exc}")
        for sub in subs:
            sub.done = True
            for listener in list(sub.listeners):
                with contextlib.suppress(Exception):
                    listener.on_error(stopped)

    def _stop_loop(self) -> None:
        for sub in list(self._subs.values()):
            sub.done = True
        self._subs.clear()
        self._groups.clear()
        if self._main_task is not None:
            self._main_task.cancel()

    def _call(self, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` on the hub's loop (from any thread).

        Only a shut-down hub drops calls; callers start the hub (``_ensure_started``)
        before their first call, so the loop exists.
        """
        loop = self._loop
        if loop is None or self._closed:
            return
        with self._lock:
            self._pending += 1

        def run() -> None:
            try:
                fn(*args)
            except Exception:
                log.exception("jobs_widgets hub: %s failed", getattr(fn, "__name__", fn))
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()
                self._poke_in_loop()

        try:
            loop.call_soon_threadsafe(run)
        except RuntimeError:  # loop closed under us
            with self._lock:
                self._pending -= 1

    def _poke(self) -> None:
        loop = self._loop
        if loop is not None and not self._closed:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._poke_in_loop)

    def _poke_in_loop(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        with self._lock:
            self._busy += 1
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)

        def finished(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()
            self._poke_in_loop()

        task.add_done_callback(finished)

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)

    # ------------------------------------------------------------------ scheduling
    async def _main(self) -> None:
        assert self._wake is not None
        while True:
            now = self.clock.monotonic()
            self._fire_deadlines(now)
            for group in list(self._groups.values()):
                if not group.in_flight and group.subs and self._group_due(group, now):
                    group.in_flight = True
                    self._spawn(self._poll(group))
            wake_at = self._next_wake(now)
            self._wake.clear()
            with self._idle:
                self._sleeping = True
                self._idle.notify_all()
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
                with self._idle:
                    self._sleeping = False

    def _floor(self, policy: PollPolicy) -> float:
        """The shortest gap between two polls of one job, given how many jobs are watched.

        One watched job is polled as often as its policy allows; each further job adds
        ``60 / budget_per_minute`` seconds to every job's gap, so a process spends about
        ``budget_per_minute`` requests a minute however many jobs it watches.
        """
        groups = max(1, sum(1 for g in self._groups.values() if g.subs))
        return min(policy.cap, max(policy.min_interval, (groups - 1) * 60.0 / self.policy.budget_per_minute))

    def _group_policy(self, group: _Group) -> PollPolicy:
        return group.source.poll_policy or self.policy

    def _group_next(self, group: _Group) -> float | None:
        if not group.subs or group.in_flight:
            return None
        due = min(s.next_due for s in group.subs.values())
        if any(s.initial for s in group.subs.values()):
            return max(due, group.retry_at)
        return max(due, group.last_poll + self._floor(self._group_policy(group)), group.retry_at)

    def _group_due(self, group: _Group, now: float) -> bool:
        nxt = self._group_next(group)
        return nxt is not None and nxt <= now

    def _next_wake(self, now: float) -> float | None:
        times = [t for g in self._groups.values() if (t := self._group_next(g)) is not None]
        for sub in self._subs.values():
            times.extend(lst.deadline for lst in sub.listeners if getattr(lst, "deadline", None) is not None)  # type: ignore[misc]
        return min(times) if times else None

    def _fire_deadlines(self, now: float) -> None:
        for sub in list(self._subs.values()):
            for listener in list(sub.listeners):
                deadline = getattr(listener, "deadline", None)
                if deadline is not None and deadline <= now:
                    listener.deadline = None
                    self._notify(listener.on_timeout)
                    self._remove_listener(sub.key, listener)

    # ------------------------------------------------------------------ membership (loop thread)
    def _add_listener(self, source: RunSource, key: tuple[str, int], listener: Listener) -> None:
        sub = self._subs.get(key)
        if sub is None or sub.done:
            gkey = (source.identity, source.job_id)
            group = self._groups.get(gkey)
            if group is None:
                group = self._groups[gkey] = _Group(key=gkey, source=source)
                if gkey not in self._history_loaded:
                    self._history_loaded.add(gkey)
                    self._spawn(self._load_history(group))
            sub = _Sub(key=key, group=group, next_due=self.clock.monotonic())
            group.subs[key[1]] = sub
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

    def _drop(self, sub: _Sub) -> None:
        sub.done = True
        self._subs.pop(sub.key, None)
        sub.group.subs.pop(sub.run_id, None)
        if not sub.group.subs and not sub.group.in_flight:
            self._groups.pop(sub.group.key, None)

    # ------------------------------------------------------------------ polling (loop thread)
    async def _poll(self, group: _Group) -> None:
        try:
            subs = [s for s in group.subs.values() if not s.done]
            if not subs:
                return
            policy = self._group_policy(group)
            if len(subs) >= 2:
                await self._poll_batch(group, subs, policy)
            else:
                await self._poll_one(group, subs[0], policy)
        finally:
            group.in_flight = False
            group.last_poll = self.clock.monotonic()
            if not group.subs:
                self._groups.pop(group.key, None)

    async def _poll_one(self, group: _Group, sub: _Sub, policy: PollPolicy) -> None:
        try:
            run = await self._fetch(group.source.fetch_run, sub.run_id, kind="get")
        except JobsApiError as exc:
            self._failed(group, [sub], exc, policy)
            return
        except Exception as exc:  # a bug or an unexpected error: end this subscription
            self._fatal(sub, exc)
            return
        self._recovered(group, [sub])
        self._deliver(sub, run, policy)

    async def _poll_batch(self, group: _Group, subs: list[_Sub], policy: PollPolicy) -> None:
        try:
            active = await self._fetch(group.source.fetch_active_runs, kind="list")
        except JobsApiError as exc:
            self._failed(group, subs, exc, policy)
            return
        except Exception as exc:
            for sub in subs:
                self._fatal(sub, exc)
            return
        self._recovered(group, subs)
        by_id = {run.run_id: run for run in active}
        missing = []
        for sub in subs:
            run = by_id.get(sub.run_id)
            if run is None:
                missing.append(sub)
            else:
                self._deliver(sub, run, policy)
        for sub in missing:  # left the active list: confirm how it ended
            if sub.done:
                continue
            try:
                run = await self._fetch(group.source.fetch_run, sub.run_id, kind="get")
            except JobsApiError as exc:
                self._failed(group, [sub], exc, policy)
                continue
            except Exception as exc:
                self._fatal(sub, exc)
                continue
            self._deliver(sub, run, policy)

    async def _fetch(self, fn: Callable[..., T], *args: Any, kind: str) -> T:
        with self._lock:
            self.stats.requests += 1
            if kind == "get":
                self.stats.runs_get += 1
            else:
                self.stats.runs_list += 1
        return await self._in_thread(fn, *args)

    async def _load_history(self, group: _Group) -> None:
        try:
            runs = await self._in_thread(group.source.fetch_history)
        except Exception as exc:  # history only sharpens polling; without it we back off
            log.debug("jobs_widgets hub: no run history for job %s (%s)", group.key[1], exc)
            return
        finally:
            with self._lock:
                self.stats.requests += 1
                self.stats.history += 1
        self._store_history(group.key, runs)

    def _store_history(self, key: tuple[str, int], runs: list[Run]) -> None:
        durations = [r.duration_s for r in runs if r.state is RunState.SUCCEEDED and r.duration_s is not None]
        with self._lock:
            known = self._durations.setdefault(key, [])
            known[:0] = list(reversed(durations))
            del known[:-HISTORY_SIZE]
            eta = Eta.from_durations(known)
            if eta is not None:
                self._etas[key] = eta

    # ------------------------------------------------------------------ outcomes (loop thread)
    def _deliver(self, sub: _Sub, run: Run, policy: PollPolicy) -> None:
        if sub.done:
            return
        now = self.clock.monotonic()
        sub.polls += 1
        sub.initial = False
        fingerprint = run.fingerprint()
        if fingerprint != sub.fingerprint:
            previous = sub.last.state if sub.last is not None else None
            sub.seq += 1
            update = RunUpdate(run=run, previous_state=previous, observed_at=self.clock.time(), seq=sub.seq)
            sub.last, sub.fingerprint = run, fingerprint
            for listener in list(sub.listeners):
                self._notify(listener.on_update, update)
        if run.is_terminal:
            if run.state is RunState.SUCCEEDED and run.duration_s:
                self._remember_duration(sub.group.key, run.duration_s)
            self._drop(sub)
            return
        sub.next_due = now + self._interval(sub, run, policy)

    def _interval(self, sub: _Sub, run: Run, policy: PollPolicy) -> float:
        eta = self._etas.get(sub.group.key)
        now = self.clock.time()
        elapsed = run.elapsed_s(now)
        # A start "in the future" means the service's clock and ours disagree (a sped-up
        # sandbox watched on a real clock, say): the history cannot be placed in time.
        skewed = run.start_ms is not None and run.start_ms / 1000 > now + CLOCK_SKEW_S
        if run.state is RunState.TERMINATING:
            base = policy.min_interval
        elif run.state in _SLOW_STATES or eta is None or elapsed is None or skewed:
            base = policy.backoff(sub.polls - 1)
        else:
            base = policy.interval_with_history(elapsed, eta)
        if not sub.visible:
            base *= policy.hidden_factor
        return policy.jittered(min(base, policy.cap), self.rng)

    def _remember_duration(self, key: tuple[str, int], duration: float) -> None:
        with self._lock:
            known = self._durations.setdefault(key, [])
            known.append(duration)
            del known[:-HISTORY_SIZE]
            eta = Eta.from_durations(known)
            if eta is not None:
                self._etas[key] = eta

    def _failed(self, group: _Group, subs: list[_Sub], exc: JobsApiError, policy: PollPolicy) -> None:
        with self._lock:
            self.stats.errors += 1
        if not exc.transient:
            for sub in subs:
                self._fatal(sub, exc)
            return
        group.failures += 1
        delay = policy.error_delay(group.failures, exc.retry_after)
        group.retry_at = self.clock.monotonic() + delay
        health = Health(
            status="degraded",
            message=exc.message if len(exc.message) < 200 else exc.message[:197] + "...",
            next_retry_at=self.clock.time() + delay,
            failures=group.failures,
        )
        for sub in subs:
            if sub.health.ok:
                with self._lock:
                    self.stats.degraded_periods += 1
            sub.health = health
            sub.next_due = group.retry_at
            for listener in list(sub.listeners):
                self._notify(listener.on_health, health)

    def _recovered(self, group: _Group, subs: list[_Sub]) -> None:
        group.failures = 0
        group.retry_at = float("-inf")
        for sub in subs:
            if not sub.health.ok:
                with self._lock:
                    self.stats.recoveries += 1
                sub.health = OK
                for listener in list(sub.listeners):
                    self._notify(listener.on_health, OK)

    def _fatal(self, sub: _Sub, exc: BaseException) -> None:
        for listener in list(sub.listeners):
            self._notify(listener.on_error, exc)
        self._drop(sub)

    def _notify(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("jobs_widgets hub: a listener failed")


_hub: Hub | None = None
_hub_lock = threading.Lock()
_serial = itertools.count(1)


def get_hub() -> Hub:
    """The process-wide hub (created on first use; shut down at interpreter exit)."""
    global _hub
    with _hub_lock:
        if _hub is None or _hub._closed:
            _hub = Hub(name=f"jobs-widgets-hub-{next(_serial)}")
        return _hub


def shutdown_hub() -> None:
    """Stop the process-wide hub (``%unload_ext`` and interpreter exit call this)."""
    global _hub
    with _hub_lock:
        hub, _hub = _hub, None
    if hub is not None:
        hub.shutdown()


atexit.register(shutdown_hub)
