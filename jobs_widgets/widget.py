"""``JobPanel``: a live anywidget for one job and its current run.

Traits and message dispatch only. What the panel shows and does (which run, the
command in flight, retries, following through the hub) is a
:class:`~jobs_widgets.core.follower.RunFollower`; the trait values are built by one
pure function, :func:`jobs_widgets._snapshot.build_snapshot`. Python answers the
front end's messages by updating traits, never by replying, so a re-rendered or
reloaded view is always right. The messages mirror ``js/src/protocol.js``.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from pathlib import Path
from typing import Any, TypedDict

import anywidget
import traitlets

from jobs_widgets._present import outcome
from jobs_widgets._render import RunSummary, duration, esc, inert_html, link, state_html
from jobs_widgets._render_tasks import timeline_text
from jobs_widgets._snapshot import build_snapshot
from jobs_widgets.core import JobHandle, Run
from jobs_widgets.core.follower import COMMANDS, HISTORY, SHOWN, RunFollower
from jobs_widgets.core.ids import check_limit, check_run_id
from jobs_widgets.core.jobs import default_jobs
from jobs_widgets.core.taskviews import matrix_view, timeline_view

__all__ = ["JobPanel"]

log = logging.getLogger("jobs_widgets.panel")
STATIC = Path(__file__).parent / "static"
if not (STATIC / "widget.js").exists():  # pragma: no cover - only in an unbuilt checkout
    raise ImportError(
        "the JobPanel front end is not built (jobs_widgets/static/widget.js is missing): "
        "run `npm ci && npm run build` in js/, or ./scripts/test"
    )


class PanelMessage(TypedDict, total=False):
    """A message from the front end (``OutgoingMessage`` in js/src/protocol.js)."""

    kind: str  # one of COMMANDS
    run_id: int
    params: dict[str, Any]
    visible: bool
    tasks: list[str]  # repair only: the tasks to run again (with their dependents)


def _front_end(name: str) -> str | Path:
    """The built file's text; its path only for live reload (``ANYWIDGET_HMR=1``).

    A path makes anywidget watch the file and keep a callback per panel for as long
    as the process lives, so closed panels could never be freed.
    """
    path = STATIC / name
    return path if os.environ.get("ANYWIDGET_HMR") == "1" else path.read_text(encoding="utf-8")


def _publisher(panel: JobPanel) -> Any:
    ref = weakref.ref(panel)

    def publish() -> None:
        if (alive := ref()) is not None:
            alive._publish()

    return publish


class JobPanel(anywidget.AnyWidget):
    """A live panel for one job: its current run, tasks, history, and Run/Cancel/Repair.

    Parameters
    ----------
    handle_or_key:
        A :class:`JobHandle`, or a job key (looked up in the session's configured jobs).
    run_id:
        The run to show (default: the job's active run, else its latest run).
    poll_mode:
        "foreground" or "background" pins how this panel's run is polled (default: the hub
        decides: foreground while the panel is visible and few runs are watched).
    matrix_runs:
        How many recent runs the runs x tasks matrix shows (1-1000; the history strip keeps 15).
    """

    _esm = _front_end("widget.js")
    _css = _front_end("widget.css")

    job = traitlets.Dict().tag(sync=True)
    """The job: key, id, name and task list."""
    run = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    """The run shown (state, times, tasks, failure details), or None."""
    history: traitlets.List[Any] = traitlets.List().tag(sync=True)
    """The job's recent runs, newest first."""
    eta = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    """p10/p50/p90 of the job's recent successful run durations (ms), or None."""
    health = traitlets.Dict().tag(sync=True)
    """Connection health: ok; degraded with the next retry time; or stopped (no longer following)."""
    error = traitlets.Unicode("").tag(sync=True)
    """The last error, one line ("" when none)."""
    params_schema = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    """JSON Schema of the job's parameters (for the Run form), or None."""
    pending = traitlets.Unicode("").tag(sync=True)
    """A command in flight: "run", "cancel", "repair", "refresh" or ""."""
    pending_detail = traitlets.Unicode("").tag(sync=True)
    """What the panel says while ``pending`` is set (which run, what it waits for)."""
    clock = traitlets.Dict().tag(sync=True)
    """The jobs' clock when the state was sent (now_ms) and its speed (rate)."""
    timeline = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    """The shown run's task timeline (core/taskviews.py), or None."""
    matrix = traitlets.Dict().tag(sync=True)
    """The last ``matrix_runs`` runs x the job's tasks: a state code and a duration per cell."""

    def __init__(
        self,
        handle_or_key: JobHandle | str,
        run_id: int | None = None,
        *,
        poll_mode: str | None = None,
        matrix_runs: int = HISTORY,
        **kwargs: Any,
    ) -> None:
        handle = default_jobs()(handle_or_key) if isinstance(handle_or_key, str) else handle_or_key
        if not isinstance(handle, JobHandle):
            raise TypeError(f"JobPanel needs a JobHandle or a job key, got {type(handle_or_key).__name__}")
        if run_id is not None:
            run_id = check_run_id(run_id)
        check_limit(matrix_runs)
        super().__init__(**kwargs)
        self._lock = threading.RLock()
        self._matrix_memo: tuple[list[Run], Any, dict[str, Any]] | None = None
        self._follower = RunFollower(
            handle, run_id, on_change=_publisher(self), poll_mode=poll_mode, history=matrix_runs
        )
        self.on_msg(self._on_frontend_msg)
        self._publish()
        self._follower.start()

    # ----------------------------------------------------------------- public
    @property
    def handle(self) -> JobHandle:
        return self._follower.handle

    @property
    def follower(self) -> RunFollower:
        return self._follower

    @property
    def run_id(self) -> int | None:
        """The id of the run shown (None before the job ever ran)."""
        return self._follower.run_id

    @property
    def current_run(self) -> Run | None:
        return self._follower.current_run

    def show_run(self, run_id: int) -> None:
        """Show (and follow, if it is active) another run of this job."""
        self._follower.show_run(run_id)

    def refresh(self) -> None:
        """Fetch the job, its history and the shown run again."""
        self._follower.refresh()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until background work queued so far is done (for scripts and tests)."""
        return self._follower.wait_idle(timeout)

    def close(self) -> None:
        """Close the view and stop following (nothing else keeps polling for this panel)."""
        follower = getattr(self, "_follower", None)
        if follower is not None:
            follower.close()
        super().close()

    # ----------------------------------------------------------------- messages
    def _on_frontend_msg(self, widget: Any, content: Any, buffers: Any) -> None:
        try:
            self._dispatch(content)
        except Exception as exc:  # every command's failure is reported in the error trait
            self._follower._fail(exc)

    def _dispatch(self, content: Any) -> None:
        if not isinstance(content, dict) or content.get("kind") not in COMMANDS:
            kind = content.get("kind") if isinstance(content, dict) else None
            raise ValueError(f"unknown panel command {str(kind)[:40]!r}")
        message: PanelMessage = content  # type: ignore[assignment]  # checked just above
        self._follower.command(
            message["kind"],
            run_id=message.get("run_id", SHOWN),
            params=message.get("params"),
            visible=message.get("visible", True),
            tasks=message.get("tasks"),
        )

    # ----------------------------------------------------------------- traits
    def snapshot(self) -> dict[str, Any]:
        """The state the front end shows, as JSON (what the synced traits hold)."""
        state = self._follower.state()
        handle = self._follower.handle
        snapshot = build_snapshot(
            key=handle.key,
            job_id=handle.job_id,
            info=state.info,
            run=state.run,
            output=state.output,
            history=state.history[:HISTORY],
            eta=state.eta,
            health=state.health,
            error=state.error,
            params_schema=state.params_schema,
            pending=state.pending.kind if state.pending else "",
            pending_detail=state.pending.detail() if state.pending else "",
            now_s=state.now_s,
            rate=state.rate,
            awaiting=state.awaiting,
            nested=state.nested,
        )
        usual = handle.registry.hub.history.task_etas((handle.identity, handle.job_id))
        snapshot["timeline"] = timeline_view(
            state.run, usual, info=state.info, outcome=outcome
        )  # the view ticks a running bar
        snapshot["matrix"] = self._matrix(state.history, state.info)
        return snapshot

    def _matrix(self, runs: list[Run], info: Any) -> dict[str, Any]:
        """The matrix, shaped again only when a run or the job changed (200 x 50 takes ~14 ms;
        most publishes are about the shown run, whose changes the history shares)."""
        memo = self._matrix_memo
        if (
            memo is not None
            and memo[1] is info
            and len(memo[0]) == len(runs)
            and all(a is b for a, b in zip(memo[0], runs, strict=True))
        ):
            return memo[2]
        value = matrix_view(runs, info, outcome)
        self._matrix_memo = (list(runs), info, value)
        return value

    def _publish(self) -> None:
        """Push the traits that changed (from any thread), in one message."""
        with self._lock:
            if self._follower.closed and self.comm is None:
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
            return f"<JobPanel {self.handle.key}: no runs yet>"
        now_s = self.handle.workspace_time()
        return f"<JobPanel {RunSummary(self.handle.key, run, now_s=now_s).headline()}>"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = dict(data or {})
        tasks = self._tasks_text()
        data["text/plain"] = repr(self) + (f"\n{tasks}" if tasks else "")
        data["text/html"] = inert_html(self._html_snapshot() + (f"<pre>{esc(tasks)}</pre>" if tasks else ""))
        return data, metadata

    def _tasks_text(self) -> str:
        """The task timeline as text, for a multi-task run only (one task says no more than the headline)."""
        timeline = self.timeline
        if not timeline or len(timeline.get("tasks") or ()) < 2:
            return ""
        return timeline_text(timeline, self.handle.workspace_time() * 1000)

    def _html_snapshot(self) -> str:
        """A static picture of the panel for front ends without widgets (and exports)."""
        run = self.current_run
        key = self.handle.key
        if run is None:
            return f'<div class="jw-panel jw-static"><b>{esc(key)}</b>: no runs yet</div>'
        took = duration(run.duration_s) if run.is_terminal else ""
        took_html = f" in {esc(took)}" if took else ""
        return (
            f'<div class="jw-panel jw-static"><b>{esc(key)}</b> run {link(run.run_page_url, str(run.run_id))}: '
            f"{state_html(run.state, run)}{took_html}</div>"
        )
