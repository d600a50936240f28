"""``JobsBoard``: every configured job in one live anywidget (issue 13).

Traits and message dispatch only: the watching is a :class:`~jobs_widgets.core.jobfeed.JobFeed`
(one ``runs/list`` per job per tick, nothing while no view shows the board), the rows are
built by :mod:`jobs_widgets._board_rows`. The front end (``js/src/board.js``) sends
``run``, ``open``, ``refresh`` and ``visibility`` messages; Python answers by updating
traits, never by replying, so a re-rendered view is always right.

"Open" shows a :class:`~jobs_widgets.widget.JobPanel` for the job (and run) in the
board's ``panels`` output area, under the board: the board owns that panel and closes it
when another is opened or the board closes.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Sequence
from typing import Any

import anywidget
import ipywidgets
import traitlets

from jobs_widgets._board_rows import board_html, board_row, board_text
from jobs_widgets._render import inert_html, one_line
from jobs_widgets.core import JobHandle, Jobs
from jobs_widgets.core.ids import check_run_id
from jobs_widgets.core.jobfeed import INTERVAL_S, WINDOW, JobFeed
from jobs_widgets.core.jobs import default_jobs
from jobs_widgets.widget import STATIC, JobPanel, _front_end

__all__ = ["JobsBoard"]

log = logging.getLogger("jobs_widgets.board")
if not (STATIC / "board.js").exists():  # pragma: no cover - only in an unbuilt checkout
    raise ImportError(
        "the JobsBoard front end is not built (jobs_widgets/static/board.js is missing): ./scripts/test"
    )
COMMANDS = ("run", "open", "refresh", "visibility")


class PanelArea(ipywidgets.Output):  # type: ignore[misc]  # ipywidgets has no types
    """The output area under a board where "open" shows a panel; says nothing in text exports."""

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)
        data = dict(bundle[0] if isinstance(bundle, tuple) else bundle or {})
        data["text/plain"] = ""
        return data


def _listener(board: JobsBoard) -> Any:
    ref = weakref.ref(board)

    def changed() -> None:
        if (alive := ref()) is not None:
            alive._publish()

    return changed


class JobsBoard(anywidget.AnyWidget):
    """A live board of jobs: each one's active or latest run, its progress, recent runs and stats.

    Parameters
    ----------
    keys:
        The jobs to show (default: every configured job of ``jobs``), in this order.
    jobs:
        The registry (default: the session's, the one ``%jobs`` uses).
    interval:
        Seconds between two looks at every job while the board is visible.
    window:
        Recent runs per job behind the strip and the stats (1-25: one request per job).
    """

    _esm = _front_end("board.js")
    _css = _front_end("board.css")

    jobs: traitlets.List[Any] = traitlets.List().tag(sync=True)
    """One row per job (see ``_board_rows.board_row``)."""
    pending = traitlets.Unicode("").tag(sync=True)
    """The key of the job whose Run is in flight, or ""."""
    opened = traitlets.Unicode("").tag(sync=True)
    """The key of the job whose panel is shown under the board, or ""."""
    error = traitlets.Unicode("").tag(sync=True)
    """The last action's error, one line ("" when none)."""
    closed = traitlets.Bool(False).tag(sync=True)
    clock = traitlets.Dict().tag(sync=True)
    """The jobs' clock when the state was sent (now_ms) and its speed (rate)."""

    def __init__(
        self,
        keys: Sequence[str] | None = None,
        *,
        jobs: Jobs | None = None,
        interval: float = INTERVAL_S,
        window: int = WINDOW,
        **kwargs: Any,
    ) -> None:
        registry = jobs if jobs is not None else default_jobs()
        if isinstance(keys, str):
            keys = [keys]
        chosen = list(registry.keys() if keys is None else keys)
        if not chosen:
            raise ValueError("no jobs to show: configure DATABRICKS_JOB_<KEY>=<id>, or pass keys=")
        self._feed = JobFeed(registry, chosen, on_change=_listener(self), interval=interval, window=window)
        self._registry = registry
        self._lock = threading.RLock()
        self._panel: JobPanel | None = None
        super().__init__(**kwargs)
        self.panels = PanelArea()
        """Where "open" shows a job's panel (displayed under the board)."""
        self.on_msg(self._on_frontend_msg)
        self._publish()
        self._feed.start()

    # ----------------------------------------------------------------- public
    @property
    def feed(self) -> JobFeed:
        return self._feed

    @property
    def panel(self) -> JobPanel | None:
        """The panel opened from the board, if any."""
        return self._panel

    def run(self, key: str) -> int:
        """Start a run of ``key`` (as the Run button does) and look at the board again; its run id."""
        handle = self._handle(key)
        with self._lock:
            self.pending = handle.key
        try:
            run_id = handle.run_now()
        finally:
            with self._lock:
                self.pending = ""
        self._feed.refresh()
        return run_id

    def open_panel(self, key: str, run_id: int | None = None) -> JobPanel:
        """Show a panel for ``key`` (its run ``run_id``, else its active or latest run) under the board."""
        handle = self._handle(key)
        if run_id is not None:
            run_id = check_run_id(run_id)
        panel = JobPanel(handle, run_id)
        with self._lock:
            old, self._panel = self._panel, panel
            self.opened = handle.key
        if old is not None:
            old.close()
        bundle = panel._repr_mimebundle_()
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        self.panels.outputs = ({"output_type": "display_data", "data": dict(data), "metadata": {}},)
        return panel

    def refresh(self) -> None:
        self._feed.refresh()

    def close(self) -> None:
        """Stop watching and close the panel opened from the board (runs are not touched)."""
        feed = getattr(self, "_feed", None)
        if feed is not None:
            feed.close()
        panel, self._panel = getattr(self, "_panel", None), None
        if panel is not None:
            panel.close()
        if hasattr(self, "panels"):
            self.panels.close()
        super().close()

    def _handle(self, key: object) -> JobHandle:
        if not isinstance(key, str) or key.lower() not in self._feed.keys:
            shown = ", ".join(self._feed.keys)
            raise ValueError(f"{one_line(key, 60)!r} is not on this board (it shows: {shown})")
        return self._feed.handle(key.lower())

    # ----------------------------------------------------------------- messages
    def _on_frontend_msg(self, widget: Any, content: Any, buffers: Any) -> None:
        try:
            self._dispatch(content)
        except Exception as exc:  # every action's failure is said in the error trait, one line
            with self._lock:
                self.error = one_line(f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc), 1000)

    def _dispatch(self, content: Any) -> None:
        kind = content.get("kind") if isinstance(content, dict) else None
        if kind not in COMMANDS:
            raise ValueError(f"unknown board command {str(kind)[:40]!r}")
        assert isinstance(content, dict)
        if kind == "visibility":
            self._feed.set_visible(bool(content.get("visible", True)))
            return
        with self._lock:
            self.error = ""
        if kind == "refresh":
            self._feed.refresh()
        elif kind == "open":
            self.open_panel(content.get("key"), content.get("run_id"))  # type: ignore[arg-type]
        else:
            key = self._handle(content.get("key")).key
            with self._lock:
                self.pending = key
            future = self._registry.runtime.submit(lambda: self.run(key))
            future.add_done_callback(self._after_run)

    def _after_run(self, future: Any) -> None:
        exc = future.exception()
        if exc is not None:
            with self._lock:
                self.error = one_line(str(exc) or type(exc).__name__, 1000)

    # ----------------------------------------------------------------- traits
    def _now_s(self) -> float:
        return self._registry.workspace_time()

    def _publish(self) -> None:
        """Push the rows (from any thread), in one message."""
        with self._lock:
            now_s = self._now_s()
            rows = [board_row(v, now_s) for v in self._feed.views()]
            clock = self._registry.clock
            with self.hold_sync():
                if rows != self.jobs:
                    self.jobs = rows
                self.closed = self._feed.closed
                self.clock = {"now_ms": round(now_s * 1000), "rate": float(getattr(clock, "speed", 1.0))}

    # ----------------------------------------------------------------- fallbacks
    def __repr__(self) -> str:
        return board_text(self._feed.views(), self._now_s(), closed=self._feed.closed)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = dict(data or {})
        views, now_s = self._feed.views(), self._now_s()
        data["text/plain"] = board_text(views, now_s, closed=self._feed.closed)
        data["text/html"] = inert_html(board_html(views, now_s, closed=self._feed.closed))
        return data, metadata

    def _ipython_display_(self) -> None:
        """The board (with its text and HTML fallbacks), and under it the area where "open" shows a panel."""
        from IPython.display import display

        data, metadata = self._repr_mimebundle_()
        display(data, metadata=metadata, raw=True)  # type: ignore[no-untyped-call]
        display(self.panels)  # type: ignore[no-untyped-call]
