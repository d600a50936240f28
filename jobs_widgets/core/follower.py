"""Following one job for a view: which run is shown, the command in flight, and retries.

A :class:`RunFollower` is what a panel is, minus the widget: it loads the job, its
recent runs and the run to show; follows that run through the hub while it is
active; runs the view's commands (run, cancel, repair, refresh, select) on the
runtime's work threads, one at a time; and retries transient failures on the
policy's schedule. The widget only turns its :class:`FollowerState` into traits.

**A pending command always ends** — it belongs to the run it was issued for, and ends
when that run ends (cancel), when the command returns (run, repair, refresh), when
the view shows another run, when it fails (the error is shown), or after
``PENDING_LIMIT_S`` (saying so). A watch error or a closed runtime ends it too, so
the buttons never stay locked.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from jobs_widgets.core.details import NestedRuns
from jobs_widgets.core.errors import JobsApiError, JobsClosedError, ParamsError
from jobs_widgets.core.follower_reads import FollowerReads
from jobs_widgets.core.follower_state import (
    COMMANDS,
    PENDING_LIMIT_S,
    SHOWN,
    FollowerListener,
    FollowerState,
    Pending,
)
from jobs_widgets.core.handle import JobHandle
from jobs_widgets.core.ids import check_limit, check_run_id, check_task_keys
from jobs_widgets.core.models import JobInfo, Run, RunOutput
from jobs_widgets.core.policy import check_mode
from jobs_widgets.core.watched import OK, Health, Subscription

__all__ = ["COMMANDS", "PENDING_LIMIT_S", "SHOWN", "FollowerState", "Pending", "RunFollower"]

log = logging.getLogger("jobs_widgets.follower")
HISTORY = 15


class RunFollower(FollowerReads):
    """The state and behaviour behind a ``JobPanel`` (see the module docstring).

    ``on_change`` is called (from any thread) whenever the state changed.
    """

    def __init__(
        self,
        handle: JobHandle,
        run_id: int | None = None,
        *,
        on_change: Callable[[], None],
        poll_mode: str | None = None,
        history: int = HISTORY,
    ) -> None:
        self.handle = handle
        self.history_size = check_limit(history)  # recent runs kept (a runs x tasks matrix wants more)
        self.poll_mode = check_mode(poll_mode)  # pinned for this view (None: the hub decides)
        self._on_change = on_change
        self._lock = threading.RLock()
        self._info: JobInfo | None = None
        self._run: Run | None = None
        self._output: RunOutput | None = None
        self._runs: list[Run] = []
        self._health = OK
        self._error = ""
        self._error_from_api = False  # the error shown came from the workspace (a success clears it)
        self._schema: dict[str, Any] | None = None
        self._pending: Pending | None = None
        self._visible = True
        self._subscription: Subscription | None = None
        self._closed = False
        self._requested = None if run_id is None else check_run_id(run_id)
        self._unread: int | None = None  # the requested run, while reading it failed
        self._nested: tuple[int, NestedRuns] | None = None  # what is under the shown (ended) run
        self._queue: deque[Callable[[], object]] = deque()
        self._draining = False

    # ----------------------------------------------------------------- reading
    @property
    def run_id(self) -> int | None:
        with self._lock:
            return self._run.run_id if self._run is not None else self._requested

    @property
    def current_run(self) -> Run | None:
        with self._lock:
            return self._run

    @property
    def closed(self) -> bool:
        return self._closed

    def state(self) -> FollowerState:
        handle = self.handle
        clock = handle.registry.clock
        with self._lock:
            run, unread = self._run, self._unread
            return FollowerState(
                info=self._info,
                run=run,
                awaiting=unread if unread is not None and (run is None or run.run_id != unread) else None,
                nested=self._nested[1] if self._nested and run and self._nested[0] == run.run_id else None,
                output=self._output,
                history=list(self._runs),
                eta=handle.registry.hub.eta(handle.identity, handle.job_id),
                health=self._health,
                error=self._error,
                params_schema=self._schema,
                pending=self._pending,
                now_s=handle.workspace_time(),
                rate=float(getattr(clock, "speed", 1.0)),
            )

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Load the job and the run to show (in the background)."""
        self._background(lambda: self._load(self._requested))

    def show_run(self, run_id: int) -> None:
        """Show (and follow, if it is active) another run of this job."""
        run_id = check_run_id(run_id)
        self._background(lambda: self._select(run_id))

    def refresh(self) -> None:
        """Fetch the job, its history and the shown run again."""
        self._background(lambda: self._load(self.run_id, force=True))

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until background work queued so far is done (for scripts and tests)."""
        done = threading.Event()
        self._background(done.set)
        return done.wait(timeout)

    def set_visible(self, visible: bool) -> None:
        with self._lock:
            self._visible = visible
            subscription = self._subscription
        if subscription is not None:
            subscription.set_visible(visible)

    def close(self) -> None:
        """Stop following (nothing else keeps polling for this view)."""
        with self._lock:
            self._closed = True
            subscription, self._subscription = self._subscription, None
            self._queue.clear()
        if subscription is not None:
            subscription.close()

    # ----------------------------------------------------------------- commands
    def command(
        self,
        kind: str,
        *,
        run_id: object = None,
        params: object = None,
        visible: object = True,
        tasks: object = None,
    ) -> None:
        """Do one of the view's commands (see ``COMMANDS``); bad input raises ParamsError.

        ``tasks`` (repair only): the task keys to run again with what depends on them
        (None: the failed ones); the core checks them against the run.
        """
        if kind not in COMMANDS:
            raise ParamsError(f"unknown panel command {str(kind)[:40]!r}", key="kind")
        if kind == "visibility":
            self.set_visible(bool(visible))
        elif kind == "refresh":
            self._start("refresh", None, lambda: self._load(self.run_id, force=True))
        elif kind == "run":
            if params is not None and not isinstance(params, dict):
                raise ParamsError("params must be an object", key="params")
            values = dict(params or {})
            self._start("run", None, lambda: self._run_now(values))
        else:
            shown = run_id is SHOWN and kind != "select"
            target = check_run_id(self.run_id if shown else run_id)
            if kind == "select":
                self.show_run(target)
            elif kind == "cancel":
                self._start("cancel", target, lambda: self.handle.cancel_run(target), until_run_ends=True)
            else:
                chosen = check_task_keys(tasks)
                self._start("repair", target, lambda: self._repair(target, chosen))

    def _start(
        self, kind: str, run_id: int | None, work: Callable[[], None], *, until_run_ends: bool = False
    ) -> None:
        with self._lock:
            if self._pending is not None:
                raise ParamsError(f"wait for {self._pending.kind} to finish", key="kind")
            pending = Pending(kind, run_id)
            self._pending, self._error, self._error_from_api = pending, "", False
        self._changed()

        def job() -> None:
            try:
                work()
            except Exception as exc:
                self._end_pending(pending)
                self._fail(exc)
                return
            if not until_run_ends:
                self._end_pending(pending)
            else:
                with self._lock:
                    run = self._run
                if run is None or run.run_id != run_id or run.is_terminal:
                    self._end_pending(pending)
                else:  # accepted: now the run must end, within a bound
                    self.handle.registry.runtime.call_later(PENDING_LIMIT_S, lambda: self._expire(pending))
            self._changed()

        self._background(job)

    def _end_pending(self, pending: Pending | None = None) -> None:
        """End ``pending`` (or whatever is pending when None); a newer command is left alone."""
        with self._lock:
            if self._pending is not None and (pending is None or self._pending is pending):
                self._pending = None

    def _expire(self, pending: Pending) -> None:
        with self._lock:
            if self._pending is not pending:
                return
            self._pending = None
            target = f" of run {pending.run_id}" if pending.run_id is not None else ""
            self._error_from_api = False
            self._error = (
                f"{pending.kind.capitalize()}{target} not confirmed after {PENDING_LIMIT_S:g} s; "
                "the workspace may still act on it (Refresh to check)"
            )
        self._changed()

    def _run_now(self, params: dict[str, Any]) -> None:
        run_id = self.handle.run_user_params(params or None)
        with self._lock:
            self._requested = run_id  # shown from now on, its state unknown until it is read
        self._select(run_id)

    def _repair(self, run_id: int, tasks: list[str] | None) -> None:
        self.handle.repair_run(run_id, rerun_tasks=tasks)
        self.handle.forget_cached()
        self._select(run_id)

    # ----------------------------------------------------------------- background work
    def _background(self, work: Callable[[], object]) -> None:
        """Queue ``work``: done in order, one at a time, on the runtime's work threads."""
        with self._lock:
            if self._closed:
                return
            self._queue.append(work)
            if self._draining:
                return
            self._draining = True
        try:
            self.handle.registry.runtime.submit(self._drain)
        except JobsClosedError as exc:
            with self._lock:
                self._queue.clear()
                self._draining = False
            self._stopped(exc)

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._queue or self._closed:
                    self._queue.clear()
                    self._draining = False
                    return
                work = self._queue.popleft()
            try:
                work()
            except BaseException as exc:  # even a KeyboardInterrupt from a view callback: report it, go on
                self._fail(exc)

    def _show(self, run: Run | None) -> None:
        """Make ``run`` the shown run and follow it while it is active."""
        with self._lock:
            if self._closed:
                return
            previous, self._subscription = self._subscription, None
            pending = self._pending
            if run is not None:
                self._requested, self._unread = run.run_id, None
            if (
                pending is not None
                and pending.run_id is not None
                and pending.run_id != (run.run_id if run is not None else self._requested)
            ):
                self._pending = None  # it was for the run no longer shown
            self._run, self._output = run, None
            visible = self._visible
        if previous is not None:
            previous.close()
        if run is not None and run.is_terminal:
            self._fetch_failure(run)
            self._fetch_nested(run)
        self._changed()
        if run is None or run.is_terminal:
            return
        listener = FollowerListener(self, visible, self.poll_mode)
        try:
            subscription = self.handle.registry.hub.subscribe(self.handle, run.run_id, listener)
        except JobsClosedError as exc:
            self._stopped(exc)
            return
        self.handle.registry.track(subscription)
        with self._lock:
            shown = self._run
            if self.closed or shown is None or shown.run_id != run.run_id:
                keep = False
            else:
                keep, self._subscription = True, subscription
        if not keep:
            subscription.close()

    # ----------------------------------------------------------------- hub news
    def _on_run(self, run: Run) -> None:
        with self._lock:
            if self._closed or self._run is None or self._run.run_id != run.run_id:
                return
            run = run.with_repairs_of(self._run)  # a poll's read comes without repair history
            moved = run.state is not self._run.state
            self._run = run
            self._runs = [run if r.run_id == run.run_id else r for r in self._runs]
            pending = self._pending
            if pending is not None and pending.run_id == run.run_id and run.is_terminal:
                self._pending = None
        self._changed()
        if run.is_terminal:
            self._background(lambda: self._finished(run))
        elif moved:  # the strip's other runs may have moved too: one list read per state change
            self._background(self._refresh_history)

    def _finished(self, run: Run) -> None:
        self._fetch_failure(run)
        self._fetch_nested(run)
        with self._lock:
            self._subscription = None
        self.handle.forget_cached()  # a list read from before the end would show it still going
        self._refresh_history()

    def _set_health(self, health: Health) -> None:
        with self._lock:
            if self._health == health or self._health.status == "stopped":  # stopped is for good
                return
            self._health = health
            if health.ok and self._error_from_api:  # an API error that a success just answered
                self._error, self._error_from_api = "", False
        self._changed()

    def _on_watch_error(self, listener: FollowerListener, error: BaseException) -> None:
        with self._lock:
            if self._subscription is not None and self._subscription.listener is listener:
                self._subscription = None
        if isinstance(error, JobsClosedError):
            self._stopped(error)
            return
        self._end_pending()
        self._fail(error)

    def _stopped(self, error: JobsClosedError) -> None:
        """The runtime or registry closed: say so, and leave every button usable."""
        with self._lock:
            self._pending = None
            self._health = Health("stopped", f"Stopped following: {error}")
        self._changed()

    def _fail(self, exc: BaseException) -> None:
        message = " ".join(str(exc).split()) or type(exc).__name__
        log.debug("panel %s: %s", self.handle.key, message)
        with self._lock:
            self._error = message[:1000]
            self._error_from_api = isinstance(exc, JobsApiError)
        self._changed()

    def _changed(self) -> None:
        try:
            self._on_change()
        except BaseException:  # a view (or a user's observer) that fails must not break the follower
            log.exception("jobs_widgets: a view failed to update")
