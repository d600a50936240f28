"""The job-level watch behind a jobs board: every job's recent runs, one request per job per tick.

A :class:`JobFeed` is one subscription per job: each tick it asks the workspace for the
job's last ``window`` runs (one ``runs/list`` page, active and finished alike), so a board
over 20 jobs costs about 20 requests a tick, and nothing at all while no view shows it
(``set_visible(False)``). It runs as one task on its runtime's loop (among the runtime's own tasks) and ends, with
:class:`JobsClosedError` said to its listener, when the board closes it, when its
``Jobs`` registry closes, or when the runtime closes: whichever comes first.

:func:`summarize` turns a job's runs into what a board row says (latest and active run,
success rate and median duration over the window, the usual duration as an
:class:`~jobs_widgets.core.eta.Eta`); it is pure, so the board and its tests share it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import statistics
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from jobs_widgets.core.errors import JobsClosedError
from jobs_widgets.core.eta import Eta
from jobs_widgets.core.ids import check_limit
from jobs_widgets.core.models import Run
from jobs_widgets.core.states import RunState

if TYPE_CHECKING:
    from jobs_widgets.core.handle import JobHandle
    from jobs_widgets.core.jobs import Jobs
    from jobs_widgets.core.watched import Subscription

log = logging.getLogger("jobs_widgets.jobfeed")

INTERVAL_S = 10.0
"""Seconds between two looks at every job while the board is visible."""
WINDOW = 25
"""Runs per job: one ``runs/list`` page (the API's page holds at most 25)."""


@dataclass(frozen=True)
class JobStats:
    """What a window of a job's runs says: the success rate and durations of its finished runs."""

    finished: int
    succeeded: int
    median_s: float | None
    eta: Eta | None

    @property
    def success_rate(self) -> float | None:
        return self.succeeded / self.finished if self.finished else None


def summarize(runs: Sequence[Run]) -> JobStats:
    """Success rate over the finished runs of ``runs``; median and usual duration of the successful ones."""
    finished = [r for r in runs if r.state.is_terminal and r.state is not RunState.SKIPPED]
    good = [r.duration_s for r in finished if r.state is RunState.SUCCEEDED and r.duration_s]
    return JobStats(
        finished=len(finished),
        succeeded=sum(1 for r in finished if r.state is RunState.SUCCEEDED),
        median_s=statistics.median(good) if good else None,
        eta=Eta.from_durations(good),
    )


@dataclass
class JobView:
    """One job as the feed last saw it: its settings (name, schedule) and its recent runs, newest first."""

    key: str
    job_id: int
    name: str = ""
    schedule: dict[str, Any] | None = None
    runs: list[Run] = field(default_factory=list)
    error: str = ""
    loaded: bool = False


def schedule_of(settings: dict[str, Any]) -> dict[str, Any] | None:
    """The job's cron schedule as the workspace says it (``settings.schedule``), or None."""
    raw = settings.get("schedule")
    if not isinstance(raw, dict) or not isinstance(raw.get("quartz_cron_expression"), str):
        return None
    return {
        "cron": raw["quartz_cron_expression"][:200],
        "timezone": str(raw.get("timezone_id") or "UTC")[:100],
        "paused": raw.get("pause_status") == "PAUSED",
    }


class JobFeed:
    """Watches several jobs' recent runs on its runtime's loop; calls ``on_change`` after each look."""

    def __init__(
        self,
        jobs: Jobs,
        keys: Sequence[str],
        *,
        on_change: Callable[[], None],
        interval: float = INTERVAL_S,
        window: int = WINDOW,
    ) -> None:
        jobs.check_open()
        if not interval > 0:
            raise ValueError(f"interval must be a positive number of seconds, got {interval!r}")
        if check_limit(window) > WINDOW:
            raise ValueError(f"window must be 1-{WINDOW} runs (one runs/list page per job), got {window}")
        self._window = window
        handles = [jobs(key) for key in keys]  # an unknown key fails here
        self._handles: list[JobHandle] = list({h.key: h for h in handles}.values())  # each job once
        self._jobs = jobs
        self._runtime = jobs.runtime
        self._interval = float(interval)
        self._on_change = on_change
        self._lock = threading.Lock()
        self._views = {h.key: JobView(h.key, h.job_id) for h in self._handles}
        self._visible = True
        self._ended: BaseException | None = None
        self._wake: asyncio.Event | None = None
        self._due = True  # look at once when next visible
        self._hold_until = 0.0  # the runtime clock's time before which a Retry-After says: ask nothing
        self.ticks = 0

    # ------------------------------------------------------------------ control (any thread)
    def start(self) -> None:
        self._jobs.track(cast("Subscription", self))  # the registry only calls end()
        self._runtime.call(self._start_in_loop)

    def _start_in_loop(self) -> None:
        """The feed's task joins the runtime's own, so closing the runtime cancels it; unlike
        ``Runtime.spawn`` it is not counted as busy (it lives as long as the board, and
        ``wait_idle`` must still answer)."""
        tasks = self._runtime._tasks
        task = asyncio.get_running_loop().create_task(self._main())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    @property
    def keys(self) -> list[str]:
        return [h.key for h in self._handles]

    def handle(self, key: str) -> JobHandle:
        return next(h for h in self._handles if h.key == key)

    @property
    def closed(self) -> bool:
        return self._ended is not None or self._runtime.closed or self._jobs.closed

    @property
    def visible(self) -> bool:
        return self._visible

    def views(self) -> list[JobView]:
        """A copy of every job's view, in the board's order."""
        with self._lock:
            return [
                JobView(v.key, v.job_id, v.name, v.schedule, list(v.runs), v.error, v.loaded)
                for v in self._views.values()
            ]

    def set_visible(self, visible: bool) -> None:
        """Shown: look now if a tick is due, then every interval. Hidden: send nothing at all."""
        self._visible = bool(visible)
        self._poke()

    def refresh(self) -> None:
        """Look at every job again now (after a Run, or when asked)."""
        self._due = True
        self._poke()

    def close(self) -> None:
        self.end(JobsClosedError("this jobs board"))

    def end(self, error: BaseException) -> None:
        """Stop watching (idempotent); the listener hears once, from this thread."""
        with self._lock:
            if self._ended is not None:
                return
            self._ended = error
        self._poke()
        with contextlib.suppress(Exception):
            self._on_change()

    def _poke(self) -> None:
        loop = self._runtime._loop
        if loop is not None and not self._runtime.closed:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._poke_in_loop)

    def _poke_in_loop(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # ------------------------------------------------------------------ the loop
    async def _main(self) -> None:
        self._wake = asyncio.Event()
        clock = self._runtime.clock
        try:
            while not self.closed:
                self._wake.clear()
                if not self._visible:
                    await self._wake.wait()  # hidden: nothing until shown or closed
                    continue
                held_s = self._hold_until - clock.monotonic()  # a Retry-After holds refreshes too
                if self._due and held_s <= 0:
                    self._due = False
                    await self._tick()
                    continue
                wait_s = held_s if self._due else self._interval
                sleeper = asyncio.ensure_future(clock.async_sleep(wait_s))
                waker = asyncio.ensure_future(self._wake.wait())
                try:
                    await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for fut in (sleeper, waker):
                        fut.cancel()
                    await asyncio.gather(sleeper, waker, return_exceptions=True)
                if sleeper.done() and not sleeper.cancelled():
                    self._due = True
        finally:
            if self._ended is None:
                self.end(JobsClosedError())

    async def _tick(self) -> None:
        for handle in self._handles:
            if self.closed or not self._visible:
                self._due = True  # hidden mid-tick: finish the look when shown again
                return
            await self._look(handle)
            if self._hold_until > self._runtime.clock.monotonic():
                self._due = True  # the workspace asked us to wait: the other jobs too, then a whole tick
                break
        self.ticks += 1
        if not self.closed:
            try:
                self._on_change()
            except Exception:  # a listener's failure never stops the feed
                log.exception("jobs_widgets: a board listener failed")

    async def _look(self, handle: JobHandle) -> None:
        view = self._views[handle.key]
        gateway = handle.gateway
        name, schedule = view.name, view.schedule
        try:
            if not view.loaded:
                settings = (await self._runtime.in_thread(gateway.get_job, handle.job_id)).get(
                    "settings"
                ) or {}
                name = str(settings.get("name") or "")[:200]
                schedule = schedule_of(settings)
            raw = await self._runtime.in_thread(
                lambda: gateway.list_runs(handle.job_id, limit=self._window, expand_tasks=False)
            )
            runs = [r for r in (Run.from_api(x) for x in raw) if r.job_id in (None, handle.job_id)]
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # shown on the job's row, tried again next tick
            retry_after = getattr(exc, "retry_after", None)
            if isinstance(retry_after, (int, float)) and retry_after > 0:
                self._hold_until = self._runtime.clock.monotonic() + min(float(retry_after), 3600.0)
            with self._lock:
                view.error = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
            return
        for run in runs:
            handle.session.remember_run_job(run.run_id, handle.job_id)
        with self._lock:
            if not view.loaded:
                view.name, view.schedule, view.loaded = name, schedule, True
            view.runs, view.error = runs, ""
