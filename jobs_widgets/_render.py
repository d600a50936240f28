"""What ``%jobs`` returns: small result objects that render as HTML in notebooks and as
aligned text in terminals (``_repr_html_`` + ``__repr__``/``_repr_pretty_``).

Everything shown comes from a remote service and is treated as hostile: HTML is
escaped, links are emitted only for ``http:``/``https:`` URLs, control and bidi
characters are made visible instead of being interpreted, and long texts are cut.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jobs_widgets._facts import run_facts, waiting_verb
from jobs_widgets._present import (
    LIMITS,
    clip,
    format_duration_ms,
    format_timestamp,
    humanize,
    outcome,
    safe_url,
    shown_duration_ms,
    state_tone,
    task_detail,
    tone_style,
    trace_tail,
)
from jobs_widgets.core.models import JobInfo, Run, TaskRun
from jobs_widgets.core.states import RunState

if TYPE_CHECKING:
    from jobs_widgets._render_nested import Nested

_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


# ----------------------------------------------------------------------------- text safety
def visible(text: object, limit: int = LIMITS["message"]) -> str:
    """``text`` with bidi overrides and control characters shown as escapes, cut to ``limit``."""
    value = _BIDI.sub(lambda m: f"\\u{ord(m.group()):04x}", clip(text, limit))
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def one_line(text: object, limit: int = LIMITS["cell"]) -> str:
    return visible(str(text if text is not None else "").replace("\r", " ").replace("\n", " "), limit)


def tail_lines(text: str | None) -> str:
    """The end of a trace or log (what matters is at the bottom), made visible."""
    return visible(trace_tail(text), LIMITS["trace_chars"])


def esc(text: object) -> str:
    return html.escape(one_line(text), quote=True)


def link(url: object, label: str) -> str:
    href = safe_url(url)
    if href is None:
        return esc(label)
    return f'<a href="{html.escape(href, quote=True)}" target="_blank" rel="noopener noreferrer">{esc(label)}</a>'


# ----------------------------------------------------------------------------- formatting
def duration(seconds: float | None) -> str:
    """A duration in seconds as the panel shows it ("4m 05s"); "" when unknown."""
    return "" if seconds is None else format_duration_ms(round(seconds * 1000))


def timestamp(ms: int | None) -> str:
    return format_timestamp(ms)


def state_html(state: RunState, item: Run | TaskRun | None = None) -> str:
    """A state as coloured text; with ``item``, its honest outcome (see ``_present.outcome``)."""
    label, tone = outcome(item) if item is not None else (state.label, state_tone(state))
    return (
        f'<span class="jw-state jw-state--{state.value.lower()}" style="{tone_style(tone)}">'
        f"{html.escape(label)}</span>"
    )


def state_text(item: Run | TaskRun) -> str:
    """An item's outcome label, for text output."""
    return outcome(item)[0]


def run_time(item: Run | TaskRun, now_s: float | None = None) -> str:
    """How long a run or task took, or has been running as of ``now_s`` (epoch seconds of the
    workspace's clock; the kernel's clock when None): "" when that is not known."""
    now = dt.datetime.now(tz=dt.UTC).timestamp() if now_s is None else now_s
    return format_duration_ms(shown_duration_ms(item, now * 1000))


#: Columns whose cells may wrap (free text); ids, states, times and durations never do, so
#: "run id" and a timestamp stay on one line in a narrow output (1280 px wrapped them).
_WRAPPING = frozenset({"name", "message"})


def _table_html(columns: Sequence[str], rows: Iterable[Sequence[str]], caption: str | None = None) -> str:
    head = "".join(f'<th style="text-align:left;white-space:nowrap">{html.escape(c)}</th>' for c in columns)
    styles = ["text-align:left" + ("" if c in _WRAPPING else ";white-space:nowrap") for c in columns]
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="{styles[i] if i < len(styles) else "text-align:left"}">{cell}</td>'
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    cap = f'<caption style="text-align:left;font-weight:600">{esc(caption)}</caption>' if caption else ""
    return f'<table class="jw-table">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _table_text(columns: Sequence[str], rows: Sequence[Sequence[str]], caption: str | None = None) -> str:
    widths = [len(c) for c in columns]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=False)]
    lines = [caption] if caption else []
    lines.append("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=False)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip() for row in rows
    )
    return "\n".join(lines)


def inert_html(body: str) -> str:
    """``body`` inside a root that notebook front ends must not typeset.

    JupyterLab (and classic Notebook) run MathJax over HTML outputs, so a remote text
    such as ``$\\href{https://evil.example}{run page}$`` would become a link or coloured
    math that the product never emitted. MathJax skips elements with these classes.
    """
    return f'<div class="jw-result mathjax_ignore tex2jax_ignore">{body}</div>'


class _Rich:
    """Shared repr plumbing: subclasses implement ``_text`` and ``_html``."""

    def _text(self) -> str:
        raise NotImplementedError

    def _html(self) -> str:
        raise NotImplementedError

    def _repr_html_(self) -> str:
        return inert_html(self._html())

    def __repr__(self) -> str:
        return self._text()

    def __str__(self) -> str:
        return self._text()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self._text())


# ----------------------------------------------------------------------------- results
@dataclass(repr=False)
class Message(_Rich):
    """A one-line outcome, e.g. "Cancel requested for run 5225"."""

    text: str
    run_id: int | None = None
    url: str | None = None

    def _text(self) -> str:
        suffix = f"  {self.url}" if safe_url(self.url) else ""
        return visible(self.text) + suffix

    def _html(self) -> str:
        more = f" ({link(self.url, 'run page')})" if safe_url(self.url) else ""
        return f'<div class="jw-message">{esc(self.text)}{more}</div>'


@dataclass
class JobRow:
    key: str
    job_id: int | None
    name: str | None = None
    last: Run | None = None
    problem: str | None = None


@dataclass(repr=False)
class JobsList(_Rich):
    """``%jobs list``: the configured jobs and how their last run went."""

    rows: list[JobRow]
    host: str | None = None
    now_s: float | None = None
    """The workspace's clock (epoch seconds) for runs still going; None: the kernel's clock."""

    COLUMNS = ("key", "job id", "name", "last run", "state", "started", "duration")

    def _cells(self, row: JobRow, html_mode: bool) -> list[str]:
        fmt = esc if html_mode else one_line
        if row.problem:
            return [fmt(row.key), fmt(row.job_id or ""), fmt(row.problem), "", "", "", ""]
        last = row.last
        state = (
            (state_html(last.state, last) if html_mode else state_text(last)) if last else fmt("no runs yet")
        )
        run_cell = (
            (link(last.run_page_url, str(last.run_id)) if html_mode else str(last.run_id)) if last else ""
        )
        return [
            fmt(row.key),
            fmt(row.job_id),
            fmt(row.name or ""),
            run_cell,
            state,
            fmt(timestamp(last.start_ms)) if last else "",
            fmt(run_time(last, self.now_s)) if last else "",
        ]

    def _caption(self) -> str:
        where = f" on {self.host}" if self.host else ""
        return f"{len(self.rows)} configured job(s){where}"

    def _text(self) -> str:
        if not self.rows:
            return "No jobs configured. Set DATABRICKS_JOB_<KEY>=<job id>, or try %jobs sandbox start."
        return _table_text(self.COLUMNS, [self._cells(r, False) for r in self.rows], self._caption())

    def _html(self) -> str:
        if not self.rows:
            return f"<div>{esc(self._text())}</div>"
        return _table_html(self.COLUMNS, [self._cells(r, True) for r in self.rows], self._caption())


@dataclass(repr=False)
class RunsTable(_Rich):
    """``%jobs runs KEY``: recent runs, newest first. ``.runs`` holds the Run objects."""

    key: str
    runs: list[Run]
    active_only: bool = False
    now_s: float | None = None
    """The workspace's clock (epoch seconds) for runs still going; None: the kernel's clock."""

    COLUMNS = ("run id", "state", "started", "duration", "trigger", "message")

    def _cells(self, run: Run, html_mode: bool) -> list[str]:
        fmt = esc if html_mode else one_line
        return [
            link(run.run_page_url, str(run.run_id)) if html_mode else str(run.run_id),
            state_html(run.state, run) if html_mode else state_text(run),
            fmt(timestamp(run.start_ms)),
            fmt(run_time(run, self.now_s)),
            fmt(humanize(run.trigger)),
            fmt(one_line(run.state_message, LIMITS["cell_message"])),
        ]

    def _caption(self) -> str:
        kind = "active runs" if self.active_only else "runs"
        return f"{len(self.runs)} {kind} of {self.key}"

    def _text(self) -> str:
        if not self.runs:
            return f"No {'active ' if self.active_only else ''}runs of {self.key}."
        return _table_text(self.COLUMNS, [self._cells(r, False) for r in self.runs], self._caption())

    def _html(self) -> str:
        if not self.runs:
            return f"<div>{esc(self._text())}</div>"
        return _table_html(self.COLUMNS, [self._cells(r, True) for r in self.runs], self._caption())

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self) -> Any:
        return iter(self.runs)

    def to_pandas(self) -> Any:
        """A pandas DataFrame of these runs (pandas is optional: install it to use this)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("to_pandas() needs pandas: pip install pandas") from exc
        return pd.DataFrame(
            [
                {
                    "run_id": r.run_id,
                    "job_id": r.job_id,
                    "state": r.state.value,
                    "start_time": r.start_time,
                    "end_time": r.end_time,
                    "duration_s": r.duration_s,
                    "trigger": r.trigger,
                    "state_message": r.state_message,
                    "run_page_url": r.run_page_url,
                }
                for r in self.runs
            ]
        )


@dataclass(repr=False)
class RunSummary(_Rich):
    """``%jobs status``: one run with its tasks. ``.run`` is the Run."""

    key: str
    run: Run
    note: str | None = None
    now_s: float | None = None
    """The workspace's clock (epoch seconds) for a run still going; None: the kernel's clock.
    A sped-up sandbox runs ahead of the kernel, so callers pass their registry clock's time."""
    nested: Nested | None = None
    """Child runs and failed iterations, when the caller read them (``%jobs status`` does)."""

    @property
    def state(self) -> RunState:
        return self.run.state

    def _task_cells(self, task: TaskRun, html_mode: bool) -> list[str]:
        fmt = esc if html_mode else one_line
        return [
            link(task.run_page_url, task.task_key) if html_mode else one_line(task.task_key),
            state_html(task.state, task) if html_mode else state_text(task),
            fmt(run_time(task, self.now_s)),
            fmt(task.attempt or ""),
            fmt(
                one_line(
                    " · ".join(t for t in (task_detail(task), task.state_message) if t),
                    LIMITS["cell_message"],
                )
            ),
        ]

    def headline(self) -> str:
        run = self.run
        took = run_time(run, self.now_s)
        timing = f", {waiting_verb(run)} {took}" if took else ""
        return f"{self.key} run {run.run_id}: {state_text(run)}{timing}"

    def _text(self) -> str:
        run = self.run
        lines = [visible(self.headline())]
        if run.state_message:
            lines.append(f"  {one_line(run.state_message, LIMITS['headline_message'])}")
        lines.extend(f"  {label}: {text}" for label, text in run_facts(run))
        if self.nested is not None:
            from jobs_widgets._render_nested import nested_lines

            lines.extend(nested_lines(self.nested))
        if safe_url(run.run_page_url):
            lines.append(f"  {run.run_page_url}")
        if run.latest_tasks:
            lines.append(
                _table_text(
                    ("task", "state", "duration", "attempt", "message"),
                    [self._task_cells(t, False) for t in run.latest_tasks],
                )
            )
        if self.note:
            lines.append(visible(self.note))
        return "\n".join(lines)

    def _html(self) -> str:
        run = self.run
        parts = [
            f'<div class="jw-run"><b>{esc(self.key)}</b> run {link(run.run_page_url, str(run.run_id))}: {state_html(run.state, run)}'
        ]
        took = run_time(run, self.now_s)
        if took:
            parts.append(f" <span>({esc(took)})</span>")
        parts.append("</div>")
        if run.state_message:
            message = one_line(run.state_message, LIMITS["headline_message"])
            parts.append(f'<div class="jw-message">{esc(message)}</div>')
        parts.extend(
            f'<div class="jw-fact"><b>{esc(label)}:</b> {esc(text)}</div>' for label, text in run_facts(run)
        )
        if self.nested is not None:
            from jobs_widgets._render_nested import nested_html

            parts.append(nested_html(self.nested))
        if run.latest_tasks:
            parts.append(
                _table_html(
                    ("task", "state", "duration", "attempt", "message"),
                    [self._task_cells(t, True) for t in run.latest_tasks],
                )
            )
        if self.note:
            parts.append(f"<div>{esc(self.note)}</div>")
        return "".join(parts)


@dataclass(repr=False)
class KeyValues(_Rich):
    """A titled list of settings (``%jobs config``, ``%jobs sandbox status``)."""

    title: str
    items: list[tuple[str, str]] = field(default_factory=list)

    def _text(self) -> str:
        width = max((len(k) for k, _ in self.items), default=0)
        return "\n".join(
            [visible(self.title), *(f"  {k.ljust(width)}  {one_line(v, 500)}" for k, v in self.items)]
        )

    def _html(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{esc(k)}</th><td style='text-align:left'>{esc(v)}</td></tr>"
            for k, v in self.items
        )
        return f"<div><b>{esc(self.title)}</b></div><table class='jw-table'>{rows}</table>"


def job_row(
    key: str, job_id: int | None, info: JobInfo | None, last: Run | None, problem: str | None
) -> JobRow:
    return JobRow(key=key, job_id=job_id, name=info.name if info else None, last=last, problem=problem)
