"""What the hub does with a poll's outcome: news to listeners, the next poll, health.

A mixin of :class:`~jobs_widgets.core.hub.Hub` (it runs on the hub's loop thread and
uses the hub's state), kept in its own module so the scheduler and the outcomes can
each be read on one screen: a new state reaches every listener once, an end is
recorded in the job's history and ends the subscription, a transient error makes the
connection *degraded* (retried at ``PollPolicy.error_delay``, at least Retry-After),
a success makes it *ok* again, and anything else ends the subscription with it.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from typing import Any

from jobs_widgets.core.cadence import degraded, next_interval, run_hazard
from jobs_widgets.core.clock import Clock
from jobs_widgets.core.errors import JobsApiError
from jobs_widgets.core.history import JobHistory
from jobs_widgets.core.models import Run, RunUpdate
from jobs_widgets.core.policy import PollPolicy
from jobs_widgets.core.watched import OK, HubStats, Listener, WatchedJob, WatchedRun

__all__ = ["Outcomes"]

log = logging.getLogger("jobs_widgets.hub")


class Outcomes:
    """The outcome half of the hub (see the module docstring)."""

    _lock: threading.Lock
    _closed: bool
    stats: HubStats
    history: JobHistory

    @property
    def watching(self) -> int:
        raise NotImplementedError

    @property
    def clock(self) -> Clock:
        raise NotImplementedError

    @property
    def rng(self) -> random.Random:
        raise NotImplementedError

    def _drop(self, sub: WatchedRun) -> None:
        raise NotImplementedError

    def _finish(self, sub: WatchedRun, listener: Listener) -> None:
        raise NotImplementedError

    def _deliver(self, sub: WatchedRun, run: Run, policy: PollPolicy) -> None:
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
            self.history.store(sub.group.key, [run])
            for listener in list(sub.listeners):
                self._finish(sub, listener)
            self._drop(sub)
            return
        sub.next_due = now + self._interval(sub, run, policy)

    def _interval(self, sub: WatchedRun, run: Run, policy: PollPolicy) -> float:
        """The next poll: the square-root-of-hazard rule of this run's mode (see ``cadence``).

        The runs of one job are polled together, so the hazard is their sum: the chance
        that *some* run the next request would see has ended.
        """
        model = self.history.model(sub.group.key)
        tasks = self.history.task_etas(sub.group.key) if policy.task_aware else None
        now = self.clock.time()
        hazard = run_hazard(model, run, now, tasks)
        active = [s for s in sub.group.subs.values() if not s.done]
        if hazard is not None:
            for other in active:
                if other is not sub and other.last is not None and not other.last.is_terminal:
                    hazard += run_hazard(model, other.last, now, tasks) or 0.0
        mode = self._mode(sub, policy)
        return next_interval(policy, run, hazard, polls=sub.polls, mode=mode, rng=self.rng, runs=len(active))

    def _mode(self, sub: WatchedRun, policy: PollPolicy) -> str:
        """Pinned by a listener, else by the job's source, else the policy's; "auto" decides."""
        pins = {getattr(listener, "mode", None) for listener in sub.listeners}
        if "foreground" in pins:
            return "foreground"
        if pins == {"background"}:
            return "background"
        pinned = getattr(sub.group.source, "poll_mode", None)
        if pinned in ("foreground", "background"):
            return str(pinned)
        if policy.mode != "auto":
            return policy.mode
        return "foreground" if sub.visible and self.watching <= policy.foreground_runs else "background"

    def _failed(
        self, group: WatchedJob, subs: list[WatchedRun], exc: JobsApiError, policy: PollPolicy
    ) -> None:
        with self._lock:
            self.stats.errors += 1
        if not exc.transient:
            for sub in subs:
                self._fatal(sub, exc)
            return
        group.failures += 1
        delay = policy.error_delay(group.failures, exc.retry_after)
        group.retry_at = self.clock.monotonic() + delay
        health = degraded(exc, group.failures, delay, self.clock.time(), policy.cap)
        for sub in subs:
            if sub.health.ok:
                with self._lock:
                    self.stats.degraded_periods += 1
            sub.health = health
            sub.next_due = group.retry_at
            for listener in list(sub.listeners):
                self._notify(listener.on_health, health)

    def _recovered(self, group: WatchedJob, subs: list[WatchedRun]) -> None:
        group.failures = 0
        group.retry_at = float("-inf")
        for sub in subs:
            if not sub.health.ok:
                with self._lock:
                    self.stats.recoveries += 1
                sub.health = OK
                for listener in list(sub.listeners):
                    self._notify(listener.on_health, OK)

    def _fatal(self, sub: WatchedRun, exc: BaseException) -> None:
        for listener in list(sub.listeners):
            self._finish(sub, listener)
            self._notify(listener.on_error, exc)
        self._drop(sub)

    def _notify(self, fn: Callable[..., None], *args: Any) -> None:
        if self._closed:
            return
        try:
            fn(*args)
        except BaseException:  # even KeyboardInterrupt/SystemExit from a callback: report, live on
            log.exception("jobs_widgets hub: a listener failed")
