"""``%jobs run KEY --wait``: follow a run in the foreground and report each state change.

Split out of :mod:`jobs_widgets.magics` because it is the one subcommand that blocks
the cell: it prints progress (a line per change in a terminal, one output updated in
place in a notebook), and decides what Ctrl-C and ``--timeout`` mean for the run
(detach, or cancel with ``--on-interrupt cancel``). The watching itself is the core's.
"""

from __future__ import annotations

import datetime as dt
import html
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jobs_widgets._render import RunSummary
    from jobs_widgets.core import JobHandle, Run

__all__ = ["Progress", "progress_line", "wait_for_run"]


def wait_for_run(
    handle: JobHandle, run_id: int, *, timeout: float | None, on_interrupt: str, notebook: bool
) -> RunSummary:
    """Watch ``run_id`` until it ends, ``timeout`` passes or Ctrl-C; the final (or last seen) run."""
    from jobs_widgets._render import RunSummary
    from jobs_widgets.core import WaitTimeoutError

    progress = Progress(notebook=notebook)
    on_ctrl_c = "cancel" if on_interrupt == "cancel" else "stop watching"
    progress.line(f"{handle.key} run {run_id} started; watching (Ctrl-C to {on_ctrl_c})")
    resume = f"%jobs watch {handle.key} {run_id}"
    last: Run | None = None
    note: str | None = None
    try:
        for update in handle.watch(run_id, timeout=timeout):
            last = update.run
            progress.line(progress_line(handle.key, update.run))
    except WaitTimeoutError:
        note = f"Stopped watching after {timeout:g} s; the run keeps going ({resume})."
    except KeyboardInterrupt:
        if on_interrupt == "cancel":
            handle.cancel_run(run_id)
            note = f"Interrupted: cancel requested for run {run_id}."
        else:
            note = f"Interrupted: stopped watching; run {run_id} keeps going ({resume})."
    if note:
        progress.line(note)
    final = handle.get_run(run_id) if note or last is None else last
    return RunSummary(handle.key, final, note=note, now_s=handle.workspace_time())


def progress_line(key: str, run: Run) -> str:
    """One line for a state change: state, tasks, how long it took, and why it failed."""
    from jobs_widgets._render import duration, one_line, state_text

    tasks = ", ".join(f"{one_line(t.task_key, 40)}={state_text(t)}" for t in run.latest_tasks)
    elapsed = run.duration_s if run.is_terminal else None
    took = f" in {duration(elapsed)}" if elapsed else ""
    detail = f" [{tasks}]" if tasks else ""
    message = f" — {one_line(run.state_message, 160)}" if run.state.is_failure and run.state_message else ""
    return f"{key} run {run.run_id}: {state_text(run)}{took}{detail}{message}"


class Progress:
    """Lines for ``--wait``: printed in a terminal, one updating output in a notebook."""

    def __init__(self, *, notebook: bool) -> None:
        self._lines: list[str] = []
        self._notebook = notebook
        self._display_id = uuid.uuid4().hex
        self._shown = False

    def line(self, text: str) -> None:
        from jobs_widgets._render import visible

        stamped = f"[{dt.datetime.now().astimezone().strftime('%H:%M:%S')}] {visible(text)}"
        self._lines.append(stamped)
        if not self._notebook:
            print(stamped, flush=True)
            return
        from jobs_widgets._magic_results import show

        show(_Log(self._lines), display_id=self._display_id, update=self._shown)
        self._shown = True


class _Log:
    """The progress lines as one ``<pre>`` (text in front ends without HTML)."""

    def __init__(self, lines: list[str]) -> None:
        self._text = "\n".join(lines)

    def __repr__(self) -> str:
        return self._text

    def _repr_html_(self) -> str:
        from jobs_widgets._render import inert_html

        return inert_html("<pre class='jw-progress-log'>" + html.escape(self._text) + "</pre>")
