"""What a run follower reads from the workspace, and how it retries.

A mixin of :class:`~jobs_widgets.core.follower.RunFollower`, apart from its commands
and hub news so each can be read on one screen. The rules it keeps:

- **The run to show comes first.** A panel opened on a known run id (``%jobs run``,
  Run in the panel, a click in the history strip) asks for that run before the job and
  its history, and while the workspace does not answer it shows that run id with its
  state unknown (never "No runs yet", which invites a second run).
- **A transient error is never final while the view is open**: it is retried at the
  policy's backoff (at least Retry-After), and meanwhile the view says "degraded".
- **The history never goes back in time**: a list read (possibly cached) cannot turn
  the shown run, which the hub follows, back to an earlier state.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from jobs_widgets.core.details import NestedRuns, nested_runs
from jobs_widgets.core.errors import JobsApiError
from jobs_widgets.core.handle import JobHandle
from jobs_widgets.core.models import JobInfo, Run, RunOutput
from jobs_widgets.core.watched import OK, Health

__all__ = ["FollowerReads"]

log = logging.getLogger("jobs_widgets.follower")


class FollowerReads:
    """The reading half of a run follower (see the module docstring)."""

    handle: JobHandle
    history_size: int
    _lock: threading.RLock
    _info: JobInfo | None
    _run: Run | None
    _output: RunOutput | None
    _runs: list[Run]
    _error: str
    _schema: dict[str, Any] | None
    _requested: int | None
    _unread: int | None
    _nested: tuple[int, NestedRuns] | None
    _closed: bool

    # provided by RunFollower
    def _background(self, work: Callable[[], object]) -> None:
        raise NotImplementedError

    def _show(self, run: Run | None) -> None:
        raise NotImplementedError

    def _set_health(self, health: Health) -> None:
        raise NotImplementedError

    def _changed(self) -> None:
        raise NotImplementedError

    # ----------------------------------------------------------------- retries
    def _retry_later(self, attempt: int, exc: JobsApiError, again: Callable[[int], None]) -> bool:
        """Schedule ``again(attempt + 1)`` after a transient error; False for any other error.

        The delay is the policy's (``error_delay``: growing to ``cap``, at least Retry-After);
        meanwhile the view shows a degraded connection with the retry time (a panel that
        gave up after six failures in a row never followed its run again).
        """
        if not exc.transient or self._closed:
            return False
        registry = self.handle.registry
        delay = (self.handle.config.poll or registry.hub.policy).error_delay(attempt, exc.retry_after)
        self._set_health(
            Health("degraded", exc.message, next_retry_at=registry.clock.time() + delay, failures=attempt)
        )
        registry.runtime.call_later(delay, lambda: self._background(lambda: again(attempt + 1)))
        return True

    def _still_wanted(self, run_id: int | None) -> bool:
        """Whether a retry for ``run_id`` is still about the run the view wants."""
        with self._lock:
            return not self._closed and (run_id is None or self._requested == run_id)

    # ----------------------------------------------------------------- loading
    def _load(self, run_id: int | None, *, force: bool = False, attempt: int = 1) -> None:
        """The run to show (when its id is known), then the job, its history and its form."""
        if force:
            self.handle.forget_cached()
        if run_id is not None:
            if not self._select(run_id, attempt, then=lambda: self._load_job(pick=False)):
                return
        else:
            self._load_job(pick=True, attempt=attempt)

    def _select(self, run_id: int, attempt: int = 1, *, then: Callable[[], None] | None = None) -> bool:
        """Show run ``run_id``; while the workspace does not answer, show the id with its
        state unknown and retry. True when it was shown now (``then`` runs after it)."""
        try:
            run = self.handle.get_run(run_id)
        except JobsApiError as exc:
            if exc.transient:
                with self._lock:
                    self._requested = self._unread = run_id
                self._show(None)  # the run to show is known, its state is not (yet)
            if self._retry_later(attempt, exc, lambda n: self._retry_select(run_id, n, then)):
                return False
            raise
        with self._lock:
            if all(r.run_id != run_id for r in self._runs) and run.start_ms is not None:
                newer = all((r.start_ms or 0) <= run.start_ms for r in self._runs)
                if newer:  # a run just started (here or elsewhere) joins the strip at once
                    self._runs = [run, *self._runs][: self.history_size]
        self._set_health(OK)
        self._show(run)
        if then is not None:
            then()
        return True

    def _retry_select(self, run_id: int, attempt: int, then: Callable[[], None] | None) -> None:
        if self._still_wanted(run_id):
            self._select(run_id, attempt, then=then)

    def _load_job(self, *, pick: bool, attempt: int = 1) -> None:
        """The job, its recent runs and its parameter model; with ``pick``, the run to show
        is the newest active one (else the newest)."""
        handle = self.handle
        try:
            info = handle.get_job()
            runs = handle.list_runs(self.history_size)
        except JobsApiError as exc:
            if self._retry_later(attempt, exc, lambda n: self._load_job(pick=pick, attempt=n)):
                return
            raise
        schema = self._safe_schema()
        with self._lock:
            self._info, self._runs, self._schema = info, self._fresher(runs), schema
            self._error = ""
            wanted = self._requested
        self._set_health(OK)
        if pick and wanted is None:
            active = [r for r in runs if not r.is_terminal]
            self._show(active[0] if active else (runs[0] if runs else None))  # newest first
        else:
            self._changed()
        if handle.registry.hub.eta(handle.identity, handle.job_id) is None:
            handle.registry.hub.load_history(handle)
            self._changed()

    def _safe_schema(self) -> dict[str, Any] | None:
        try:
            return self.handle.params_schema()
        except Exception as exc:  # a missing schema only means no form
            log.debug("no params schema for %s: %s", self.handle.key, exc)
            return None

    def _refresh_history(self, attempt: int = 1) -> None:
        try:
            runs = self.handle.list_runs(self.history_size)
        except JobsApiError as exc:  # the run is shown; only the history is stale for now
            if not self._retry_later(attempt, exc, self._refresh_history):
                log.debug("history of %s not refreshed: %s", self.handle.key, exc)
            return
        with self._lock:
            self._runs = self._fresher(runs)
        self._set_health(OK)
        self._changed()

    def _fresher(self, runs: list[Run]) -> list[Run]:
        """``runs`` with the shown run as the hub last saw it (a list read may be older)."""
        shown = self._run
        if shown is None:
            return runs
        return [shown if r.run_id == shown.run_id and not r.is_terminal else r for r in runs]

    # ----------------------------------------------------------------- failures
    def _fetch_failure(self, run: Run, attempt: int = 1) -> None:
        if not (run.state.is_failure or run.failed_tasks):
            return
        try:
            output = self.handle.get_run_output(run.run_id)
        except JobsApiError as exc:  # the run is still shown; only the details are missing
            if not self._retry_later(attempt, exc, lambda n: self._refetch_failure(run, n)):
                log.debug("no output for run %s: %s", run.run_id, exc)
            return
        with self._lock:
            if self._run is not None and self._run.run_id == run.run_id:
                self._output = output

    def _refetch_failure(self, run: Run, attempt: int) -> None:
        self._fetch_failure(run, attempt)
        self._changed()

    def _fetch_nested(self, run: Run) -> None:
        """What is under an ended run (child runs, failed iterations), read once per run: a
        request per for-each task with failures and per run-job task."""
        with self._lock:
            if self._nested is not None and self._nested[0] == run.run_id:
                return
        nested = nested_runs(self.handle, run)
        if nested is None:
            return
        with self._lock:
            if self._run is not None and self._run.run_id == run.run_id:
                self._nested = (run.run_id, nested)
        self._changed()
