"""The hub's polls: one ``runs/get`` per run, or one ``runs/list`` for a job's several runs.

A mixin of :class:`~jobs_widgets.core.hub.Hub` (it runs on the hub's loop thread and
uses the hub's state), apart from the scheduler so each can be read on one screen: a
poll asks the workspace in a call worker (the loop never blocks), says "degraded" when
an answer is slower than ``SLOW_POLL_S``, hands what came back to the outcomes
(:class:`~jobs_widgets.core.outcomes.Outcomes`), and cancels its call when the runtime
closes under it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from jobs_widgets.core.errors import JobsApiError
from jobs_widgets.core.outcomes import Outcomes, log
from jobs_widgets.core.policy import PollPolicy
from jobs_widgets.core.watched import Health, WatchedJob, WatchedRun

if TYPE_CHECKING:
    from jobs_widgets.core.runtime import Runtime

__all__ = ["SLOW_POLL_S", "Polls"]

T = TypeVar("T")
#: A poll still unanswered after this many (real) seconds makes the connection "degraded".
SLOW_POLL_S = 4.0


class Polls(Outcomes):
    """The polling half of the hub (see the module docstring)."""

    runtime: Runtime
    _groups: dict[tuple[str, int], WatchedJob]

    def _group_policy(self, group: WatchedJob) -> PollPolicy:
        raise NotImplementedError

    async def _poll(self, group: WatchedJob) -> None:
        try:
            subs = [s for s in group.subs.values() if not s.done]
            if not subs:
                return
            policy = self._group_policy(group)
            if len(subs) >= 2:
                await self._poll_batch(group, subs, policy)
            else:
                await self._poll_runs(group, subs, policy)
        finally:
            group.in_flight = False
            group.last_poll = self.clock.monotonic()
            if not group.subs:
                self._groups.pop(group.key, None)

    async def _poll_runs(self, group: WatchedJob, subs: list[WatchedRun], policy: PollPolicy) -> None:
        """One ``runs/get`` per run (a single watched run, or runs that left the active list)."""
        for sub in subs:
            if sub.done:
                continue
            try:
                run = await self._fetch(group.source.fetch_run, sub.run_id, kind="get", subs=[sub])
            except JobsApiError as exc:
                self._failed(group, [sub], exc, policy)
                continue
            except Exception as exc:  # a scope error, a bug: end this subscription with it
                self._fatal(sub, exc)
                continue
            self._recovered(group, [sub])
            self._deliver(sub, run, policy)

    async def _poll_batch(self, group: WatchedJob, subs: list[WatchedRun], policy: PollPolicy) -> None:
        try:
            active = await self._fetch(group.source.fetch_active_runs, kind="list", subs=subs)
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
        await self._poll_runs(group, missing, policy)  # left the active list: confirm how each ended

    async def _fetch(self, fn: Callable[..., T], *args: Any, kind: str, subs: list[WatchedRun]) -> T:
        """One poll's call; if it has not answered after ``SLOW_POLL_S`` (real time), the
        connection is reported degraded while it goes on (the transport's own deadline ends it)."""
        with self._lock:
            self.stats.requests += 1
            if kind == "get":
                self.stats.runs_get += 1
            else:
                self.stats.runs_list += 1
        call = asyncio.ensure_future(self.runtime.in_thread(fn, *args))
        try:
            done, _ = await asyncio.wait({call}, timeout=SLOW_POLL_S)
            if not done:
                self._slow(subs)
            return await call
        finally:  # the poll was cancelled (the runtime closes): its call is not left pending
            if not call.done():
                call.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await call

    def _slow(self, subs: list[WatchedRun]) -> None:
        health = Health(
            status="degraded", message="the workspace is slow to answer; still waiting", failures=0
        )
        for sub in subs:
            if sub.done or not sub.health.ok:
                continue
            with self._lock:
                self.stats.degraded_periods += 1
            sub.health = health
            for listener in list(sub.listeners):
                self._notify(listener.on_health, health)

    async def _load_history(self, group: WatchedJob) -> None:
        with self._lock:
            self.stats.requests += 1
            self.stats.history += 1
        try:
            runs = await self.runtime.in_thread(group.source.fetch_history)
        except Exception as exc:  # history only sharpens polling; without it we back off
            log.debug("jobs_widgets hub: no run history for job %s (%s)", group.key[1], exc)
            self.history.release_load(group.key)
            return
        self.history.store(group.key, runs)
