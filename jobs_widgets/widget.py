"""``JobPanel``: a live anywidget for one job and its current run.

The Python side holds all state in synced traits (built by one pure function,
:func:`jobs_widgets._snapshot.build_snapshot`) and acts on commands the front end
sends as messages (``run``, ``cancel``, ``repair``, ``refresh``, ``select``,
``visibility``). It answers by updating traits, never by replying, so a re-rendered
or reloaded view is always right. Live updates come from the shared hub; API calls
run on the hub's worker threads, so the kernel stays free.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeGuard

import anywidget
import traitlets

from jobs_widgets._render import RunSummary, duration, esc, inert_html, link, state_html
from jobs_widgets._snapshot import build_snapshot
from jobs_widgets.core import (
    Health,
    JobHandle,
    JobInfo,
    JobsApiError,
    ParamsError,
    Run,
    RunOutput,
    RunUpdate,
)
from jobs_widgets.core.hub import Hub, Subscription
from jobs_widgets.core.jobs import default_jobs

__all__ = ["JobPanel"]

log = logging.getLogger("jobs_widgets.panel")
STATIC = Path(__file__).parent / "static"
if not (STATIC / "widget.js").exists():  # pragma: no cover - only in an unbuilt checkout
    raise ImportError(
        "the JobPanel front end is not built (jobs_widgets/static/widget.js is missing): "
        "run `npm ci && npm run build` in js/, or ./scripts/test"
    )

COMMANDS = frozenset({"run", "cancel", "repair", "refresh", "select", "visibility"})
HISTORY = 15
LOAD_ATTEMPTS = 6


class _Listener:
    """Forwards hub news to a panel without keeping it alive."""

    def __init__(self, panel: JobPanel) -> None:
        self._panel = weakref.ref(panel)
        self.visible = True
        self.deadline: float | None = None

    def on_update(self, update: RunUpdate) -> None:
        panel = self._panel()
        if panel is not None:
            panel._on_run(update.run)

    def on_health(self, health: Health) -> None:
        panel = self._panel()
        if panel is not None:
            panel._on_health(health)

    def on_error(self, error: BaseException) -> None:
        panel = self._panel()
        if panel is not None:
            panel._on_watch_error(error)

    def on_timeout(self) -> None:
        return None


class JobPanel(anywidget.AnyWidget):
    """A live panel for one job: its current run, tasks, history, and Run/Cancel/Repair.

    Parameters
    ----------
    handle_or_key:
        A :class:`JobHandle`, or a job key (looked up in the session's configured jobs).
    run_id:
        The run to show (default: the job's active run, else its latest run).
    """

    _esm = STATIC / "widget.js"
    _css = STATIC / "widget.css"

    job = traitlets.Dict().tag(sync=True)
    """The job: key, id, name and task list."""
    run = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    """The run shown (state, times, tasks, failure details), or None."""
    history: traitlets.List[Any] = traitlets.List().tag(sync=True)
    """The job's recent runs, newest first."""
    eta = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    """p10/p50/p90 of the job's recent successful run durations (ms), or None."""
    health = traitlets.Dict().tag(sync=True)
    """Connection health: ok, or degraded with the next retry time."""
    error = traitlets.Unicode("").tag(sync=True)
    """The last error, one line ("" when none)."""
    params_schema = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    """JSON Schema of the job's parameters (for the Run form), or None."""
    pending = traitlets.Unicode("").tag(sync=True)
    """A command in flight: "run", "cancel", "repair", "refresh" or ""."""
    clock = traitlets.Dict().tag(sync=True)
    """The jobs' clock when the state was sent (now_ms) and its speed (rate)."""

    def __init__(self, handle_or_key: JobHandle | str, run_id: int | None = None, **kwargs: Any) -> None:
        handle = default_jobs()(handle_or_key) if isinstance(handle_or_key, str) else handle_or_key
        if not isinstance(handle, JobHandle):
            raise TypeError(f"JobPanel needs a JobHandle or a job key, got {type(handle_or_key).__name__}")
        if run_id is not None and not _is_run_id(run_id):
            raise ParamsError(f"run_id must be a positive integer, got {run_id!r}", key="run_id")
        super().__init__(**kwargs)
        self._handle = handle
        self._lock = threading.RLock()
        self._info: JobInfo | None = None
        self._run: Run | None = None
        self._output: RunOutput | None = None
        self._runs: list[Run] = []
        self._health = Health()
        self._error = ""
        self._schema: dict[str, Any] | None = None
        self._pending = ""
        self._visible = True
        self._subscription: Subscription | None = None
        self._listener: _Listener | None = None
        self._closed = False
        self._requested = run_id
        self._queue: deque[Callable[[], None]] = deque()
        self._draining = False
        self.on_msg(self._on_frontend_msg)
        self._publish()
        self._background(lambda: self._load(run_id))

    # ----------------------------------------------------------------- public
    @property
    def handle(self) -> JobHandle:
        return self._handle

    @property
    def run_id(self) -> int | None:
        """The id of the run shown (None before the job ever ran)."""
        with self._lock:
            return self._run.run_id if self._run is not None else self._requested

    @property
    def current_run(self) -> Run | None:
        with self._lock:
            return self._run

    def show_run(self, run_id: int) -> None:
        """Show (and follow, if it is active) another run of this job."""
        self._background(lambda: self._select(run_id))

    def refresh(self) -> None:
        """Fetch the job, its history and the shown run again."""
        self._background(lambda: self._load(self.run_id, force=True))

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until background work queued so far is done (for scripts and tests)."""
        done = threading.Event()
        self._background(done.set)
        return done.wait(timeout)

    def close(self) -> None:
        """Close the view and stop watching (nothing else keeps polling for this panel)."""
        if not hasattr(self, "_lock"):  # construction failed before we set up: nothing to stop
            super().close()
            return
        with self._lock:
            self._closed = True
            subscription, self._subscription = self._subscription, None
        if subscription is not None:
            subscription.close()
        super().close()

    def _is_closed(self) -> bool:
        with self._lock:
            return self._closed

    # ----------------------------------------------------------------- loading
    @property
    def _hub(self) -> Hub:
        return self._handle.registry.hub  # the hub the handle's Jobs waits with

    def _background(self, work: Callable[[], None]) -> None:
        """Queue ``work`` for this panel: done in order, one at a time, on the hub's threads."""
        with self._lock:
            self._queue.append(work)
            if self._draining:
                return
            self._draining = True
        try:
            self._hub.submit(self._drain)
        except RuntimeError:  # the hub was shut down: finish here, synchronously
            self._drain()

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._draining = False
                    return
                work = self._queue.popleft()
            try:
                work()
            except Exception as exc:
                self._fail(exc)

    def _retry_later(self, attempt: int, exc: JobsApiError, again: Callable[[int], None]) -> bool:
        """Schedule ``again(attempt + 1)`` after a transient error; False when giving up.

        The wait happens on the hub's clock without holding a thread; meanwhile the
        panel shows a degraded connection with the retry time.
        """
        if not exc.transient or attempt >= LOAD_ATTEMPTS or self._is_closed():
            return False
        delay = min(30.0, max(exc.retry_after or 0.0, 2.0**attempt))
        clock = self._handle.registry.clock
        self._on_health(
            Health(
                status="degraded", message=exc.message, next_retry_at=clock.time() + delay, failures=attempt
            )
        )
        self._hub.call_later(delay, lambda: self._background(lambda: again(attempt + 1)))
        return True

    def _load(self, run_id: int | None, *, force: bool = False, attempt: int = 1) -> None:
        handle = self._handle
        if force:
            handle.forget_cached()
        try:
            info = handle.get_job()
            runs = handle.list_runs(HISTORY)
            run: Run | None
            if run_id is not None:
                run = handle.get_run(run_id)
            else:
                active = [r for r in runs if not r.is_terminal]
                run = active[-1] if active else (runs[0] if runs else None)
        except JobsApiError as exc:
            if self._retry_later(attempt, exc, lambda n: self._load(run_id, force=force, attempt=n)):
                return
            raise
        schema = self._safe_schema()
        if not self._health.ok:
            self._on_health(Health())
        with self._lock:
            self._info, self._runs, self._schema = info, runs, schema
        self._show(run)
        if self._hub.eta(handle.identity, handle.job_id) is None:
            self._hub.load_history(handle)
            self._publish()

    def _safe_schema(self) -> dict[str, Any] | None:
        try:
            return self._handle.params_schema()
        except Exception as exc:  # a missing schema only means no form
            log.debug("no params schema for %s: %s", self._handle.key, exc)
            return None

    def _show(self, run: Run | None) -> None:
        """Make ``run`` the shown run and follow it while it is active."""
        with self._lock:
            if self._closed:
                return
            previous = self._subscription
            self._subscription = None
            self._run = run
            self._output = None
        if previous is not None:
            previous.close()
        if run is not None and run.is_terminal:
            self._fetch_failure(run)
        self._publish()
        if run is not None and not run.is_terminal:
            listener = _Listener(self)
            listener.visible = self._visible
            subscription = self._hub.subscribe(self._handle, run.run_id, listener)
            with self._lock:
                shown = self._run
                if self._is_closed() or shown is None or shown.run_id != run.run_id:
                    subscription.close()
                    return
                self._listener, self._subscription = listener, subscription

    def _fetch_failure(self, run: Run, attempt: int = 1) -> None:
        if not (run.state.is_failure or run.failed_tasks):
            return
        try:
            output = self._handle.get_run_output(run.run_id)
        except JobsApiError as exc:  # the run is still shown; only the details are missing
            if not self._retry_later(attempt, exc, lambda n: self._refetch_failure(run, n)):
                log.debug("no output for run %s: %s", run.run_id, exc)
            return
        with self._lock:
            if self._run is not None and self._run.run_id == run.run_id:
                self._output = output

    # ----------------------------------------------------------------- hub callbacks
    def _on_run(self, run: Run) -> None:
        with self._lock:
            if self._closed or self._run is None or self._run.run_id != run.run_id:
                return
            self._run = run
            self._runs = [run if r.run_id == run.run_id else r for r in self._runs]
            if self._pending in {"cancel", "repair"} and (run.is_terminal or self._pending == "repair"):
                self._pending = ""
        self._publish()
        if run.is_terminal:
            self._background(lambda: self._finished(run))

    def _refetch_failure(self, run: Run, attempt: int) -> None:
        self._fetch_failure(run, attempt)
        self._publish()

    def _finished(self, run: Run) -> None:
        self._fetch_failure(run)
        with self._lock:
            self._subscription = None
        self._refresh_history()

    def _refresh_history(self, attempt: int = 1) -> None:
        try:
            runs = self._handle.list_runs(HISTORY)
        except JobsApiError as exc:  # the run is shown; only the history is stale for now
            if not self._retry_later(attempt, exc, self._refresh_history):
                log.debug("history of %s not refreshed: %s", self._handle.key, exc)
            return
        with self._lock:
            self._runs = runs
        if not self._health.ok and (self._run is None or self._run.is_terminal):
            self._on_health(Health())
        self._publish()

    def _on_health(self, health: Health) -> None:
        with self._lock:
            self._health = health
        self._publish()

    def _on_watch_error(self, error: BaseException) -> None:
        with self._lock:
            self._subscription = None
        self._fail(error)

    # ----------------------------------------------------------------- commands
    def _on_frontend_msg(self, widget: Any, content: Any, buffers: Any) -> None:
        try:
            self._command(content)
        except Exception as exc:  # every handler reports into the error trait
            self._fail(exc)

    def _command(self, content: Any) -> None:
        if not isinstance(content, dict) or content.get("kind") not in COMMANDS:
            kind = content.get("kind") if isinstance(content, dict) else None
            raise ValueError(f"unknown panel command {str(kind)[:40]!r}")
        kind = content["kind"]
        if kind == "visibility":
            self._set_visible(bool(content.get("visible", True)))
            return
        if kind == "refresh":
            self._start("refresh", lambda: self._load(self.run_id, force=True))
            return
        if kind == "run":
            params = content.get("params") or {}
            if not isinstance(params, dict):
                raise ValueError("params must be an object")
            self._start("run", lambda: self._run_now(params))
            return
        # cancel/repair without a run id act on the run the panel shows
        raw_id = content.get("run_id", self.run_id if kind in ("cancel", "repair") else None)
        if not _is_run_id(raw_id):
            raise ValueError(f"{kind} needs a run id, got {str(raw_id)[:40]!r}")
        run_id = raw_id
        if kind == "select":
            self._background(lambda: self._select(run_id))
        elif kind == "cancel":
            self._start("cancel", lambda: self._handle.cancel_run(run_id), keep_pending=True)
        elif kind == "repair":
            self._start("repair", lambda: self._repair(run_id), keep_pending=True)

    def _start(self, name: str, work: Callable[[], None], *, keep_pending: bool = False) -> None:
        """Run a command in the background, with ``pending`` set and errors reported."""
        with self._lock:
            if self._pending:
                raise ValueError(f"wait for {self._pending} to finish")
            self._pending, self._error = name, ""
        self._publish()

        def job() -> None:
            try:
                work()
            except Exception as exc:
                with self._lock:
                    self._pending = ""
                self._fail(exc)
                return
            with self._lock:
                if not keep_pending or (self._run is not None and self._run.is_terminal and name == "cancel"):
                    self._pending = ""
            self._publish()

        self._background(job)

    def _run_now(self, params: dict[str, Any]) -> None:
        run_id = self._handle.run_user_params(params or None)
        run = self._handle.get_run(run_id)
        with self._lock:
            self._runs = [run, *[r for r in self._runs if r.run_id != run_id]][:HISTORY]
            self._pending = ""
        self._show(run)

    def _repair(self, run_id: int) -> None:
        self._handle.repair_run(run_id)
        self._handle.forget_cached()
        self._show(self._handle.get_run(run_id))
        with self._lock:
            self._pending = ""
        self._publish()

    def _select(self, run_id: int) -> None:
        self._show(self._handle.get_run(run_id))

    def _set_visible(self, visible: bool) -> None:
        with self._lock:
            self._visible = visible
            subscription = self._subscription
        if subscription is not None:
            subscription.set_visible(visible)

    def _fail(self, exc: BaseException) -> None:
        message = " ".join(str(exc).split()) or type(exc).__name__
        log.debug("panel %s: %s", self._handle.key, message)
        with self._lock:
            self._error = message[:1000]
        self._publish()

    # ----------------------------------------------------------------- traits
    def snapshot(self) -> dict[str, Any]:
        """The state the front end shows, as JSON (what the synced traits hold)."""
        handle = self._handle
        clock = handle.registry.clock
        with self._lock:
            return build_snapshot(
                key=handle.key,
                job_id=handle.job_id,
                info=self._info,
                run=self._run,
                output=self._output,
                history=self._runs,
                eta=self._hub.eta(handle.identity, handle.job_id),
                health=self._health,
                error=self._error,
                params_schema=self._schema,
                pending=self._pending,
                now_s=clock.time(),
                rate=float(getattr(clock, "speed", 1.0)),
            )

    def _publish(self) -> None:
        """Push the traits that changed (from any thread), in one message."""
        with self._lock:
            if self._closed and self.comm is None:
                return
            state = self.snapshot()
            changed = {
                name: value
                for name, value in state.items()
                if name != "clock" and getattr(self, name) != value
            }
            if not changed:
                return
            changed["clock"] = state["clock"]
            with self.hold_sync():
                for name, value in changed.items():
                    setattr(self, name, value)

    # ----------------------------------------------------------------- fallbacks
    def __repr__(self) -> str:
        run = self.current_run
        if run is None:
            return f"<JobPanel {self._handle.key}: no runs yet>"
        return f"<JobPanel {RunSummary(self._handle.key, run).headline()}>"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = dict(data or {})
        data["text/plain"] = repr(self)
        data["text/html"] = inert_html(self._html_snapshot())
        return data, metadata

    def _html_snapshot(self) -> str:
        """A static picture of the panel for front ends without widgets (and exports)."""
        run = self.current_run
        key = self._handle.key
        if run is None:
            return f'<div class="jw-panel jw-static"><b>{esc(key)}</b>: no runs yet</div>'
        took = duration(run.duration_s) if run.is_terminal else ""
        took_html = f" in {esc(took)}" if took else ""
        return (
            f'<div class="jw-panel jw-static"><b>{esc(key)}</b> run {link(run.run_page_url, str(run.run_id))}: '
            f"{state_html(run.state)}{took_html}</div>"
        )


def _is_run_id(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
