"""The sandbox's web pages: what a ↗ link in the panel or a ``%jobs`` table opens.

A real workspace answers ``run_page_url`` with its run page; the sandbox answers the
URLs it hands out (``/jobs/<job>/runs/<run>``, the same shape as a workspace's) with a
small read-only HTML page: the job, the run, its state, its tasks with their states
and times. Also ``/jobs/<job>`` (the job and its recent runs) and ``/`` (the jobs).

Every page is built from what the Jobs API answers for the same run (the engine's
JSON), so a page never disagrees with a client. Text is escaped, links are built from
ids only (never from data), and the pages carry no script: the server sends them
with a ``Content-Security-Policy`` that forbids any. A page of a run still going
reloads itself every few seconds (``<meta http-equiv="refresh">``, not a script).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from html import escape
from typing import Any

from jobs_widgets.sandbox.engine import Engine
from jobs_widgets.sandbox.records import ApiError

__all__ = ["CONTENT_SECURITY_POLICY", "Page", "match", "render", "state_text"]

#: No script, no frames, no images, no forms: only this page's own inline style.
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
REFRESH_S = 5
RECENT_RUNS = 25

_RUN = re.compile(r"^/jobs/(\d{1,18})/runs/(\d{1,18})/?$")
_JOB = re.compile(r"^/jobs/(\d{1,18})/?$")

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1f2328; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 20px 0 6px; }
table { border-collapse: collapse; } th, td { text-align: left; padding: 4px 12px 4px 0; }
th { color: #59636e; font-weight: 600; }
.state { font-weight: 600; } .note { color: #59636e; } pre { white-space: pre-wrap; margin: 0; }
a { color: #0969da; }
@media (prefers-color-scheme: dark) {
  body { color: #e6edf3; background: #0d1117; } th, .note { color: #9198a1; } a { color: #4493f8; }
}
""".strip()


class Page:
    """An HTML page to send: status, body, and whether it should reload itself."""

    def __init__(self, status: int, title: str, body: str, *, refresh: bool = False) -> None:
        self.status = status
        self.title = title
        self.body = body
        self.refresh = refresh

    def html(self) -> bytes:
        head = [
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="robots" content="noindex">',
        ]
        if self.refresh:
            head.append(f'<meta http-equiv="refresh" content="{REFRESH_S}">')
        return (
            '<!doctype html>\n<html lang="en"><head>'
            + "".join(head)
            + f"<title>{escape(self.title)} - jobs_widgets sandbox</title><style>{_STYLE}</style></head>"
            + f'<body>{self.body}<p class="note">jobs_widgets sandbox: a simulated workspace, read-only.</p>'
            + "</body></html>\n"
        ).encode()


def match(path: str) -> bool:
    """Whether ``path`` is one of the pages (the API lives under ``/api/``)."""
    return path == "/" or bool(_RUN.match(path) or _JOB.match(path))


def render(engine: Engine, path: str) -> Page:
    """The page at ``path`` (a 404 page for a job or run the workspace does not have)."""
    try:
        if run := _RUN.match(path):
            return _run_page(engine, int(run.group(1)), int(run.group(2)))
        if job := _JOB.match(path):
            return _job_page(engine, int(job.group(1)))
        return _index_page(engine)
    except ApiError as err:
        return _not_found(err.message)


# ----------------------------------------------------------------------------- pages
def _run_page(engine: Engine, job_id: int, run_id: int) -> Page:
    run = engine.api_get_run(run_id, include_history=True)
    if run.get("job_id") != job_id:
        return _not_found(f"Run {run_id} is not a run of job {job_id}.")
    job_name = _job_name(engine, job_id)
    parent = engine.parent_run_id(run_id)
    kind = "Task run" if parent is not None else "Run"
    title = f"{kind} {run_id} of {job_name}"
    facts: list[tuple[str, str]] = [
        ("Job", _link(f"/jobs/{job_id}", f"{job_name} ({job_id})")),
        ("State", f'<span class="state">{escape(state_text(run))}</span>'),
    ]
    if parent is not None:
        facts.append(("Task", _text(run.get("run_name"))))
        facts.append(("Part of run", _link(f"/jobs/{job_id}/runs/{parent}", str(parent))))
    elif run.get("run_name") and run.get("run_name") != job_name:
        facts.append(("Run name", _text(run.get("run_name"))))
    if message := _state(run).get("state_message"):
        facts.append(("Message", f"<pre>{escape(str(message))}</pre>"))
    if run.get("trigger"):
        facts.append(("Trigger", _text(run.get("trigger"))))
    if run.get("creator_user_name"):
        facts.append(("Started by", _text(run.get("creator_user_name"))))
    facts += [
        ("Started", escape(_time(run.get("start_time")) or "(not yet)")),
        ("Ended", escape(_time(run.get("end_time")) or "(still going)")),
    ]
    if took := _duration(run):
        facts.append(("Duration", escape(took)))
    if run.get("repair_history"):
        facts.append(("Repairs", str(len(run["repair_history"]) - 1)))
    params = _params(run)
    if params:
        facts.append(("Parameters", escape(", ".join(f"{k}={v}" for k, v in params))))
    body = [f"<h1>{escape(title)}</h1>", _facts(facts)]
    tasks = run.get("tasks") or []
    if tasks:
        body.append("<h2>Tasks</h2>")
        rows = [
            [
                _link(f"/jobs/{job_id}/runs/{int(t['run_id'])}", str(t.get("task_key", ""))),
                f'<span class="state">{escape(state_text(t))}</span>',
                escape(_time(t.get("start_time"))),
                escape(_time(t.get("end_time"))),
                escape(_duration(t)),
                escape(str(t.get("attempt_number", 0))),
                _text(", ".join(str(d.get("task_key", "")) for d in t.get("depends_on") or [])),
            ]
            for t in tasks
        ]
        body.append(_table(["Task", "State", "Started", "Ended", "Duration", "Attempt", "Depends on"], rows))
    return Page(200, title, "".join(body), refresh=not _terminal(run))


def _job_page(engine: Engine, job_id: int) -> Page:
    job = engine.api_get_job(job_id)
    settings = job.get("settings") or {}
    name = str(settings.get("name") or job_id)
    runs = engine.api_list_runs(
        job_id=job_id,
        active_only=False,
        completed_only=False,
        limit=RECENT_RUNS,
        offset=0,
        page_token=None,
        expand_tasks=False,
        start_time_from=None,
        start_time_to=None,
        run_type=None,
    ).get("runs", [])
    facts = [
        ("Job id", str(job_id)),
        ("Tasks", _text(", ".join(str(t.get("task_key", "")) for t in settings.get("tasks") or []))),
    ]
    if settings.get("description"):
        facts.append(("Description", _text(settings["description"])))
    rows = [
        [
            _link(f"/jobs/{job_id}/runs/{int(r['run_id'])}", str(r["run_id"])),
            f'<span class="state">{escape(state_text(r))}</span>',
            _text(r.get("trigger")),
            escape(_time(r.get("start_time"))),
            escape(_duration(r)),
        ]
        for r in runs
    ]
    body = [f"<h1>{escape(name)}</h1>", _facts(facts), f"<h2>Recent runs ({len(rows)})</h2>"]
    body.append(
        _table(["Run", "State", "Trigger", "Started", "Duration"], rows) if rows else "<p>No runs.</p>"
    )
    return Page(200, name, "".join(body), refresh=any(not _terminal(r) for r in runs))


def _index_page(engine: Engine) -> Page:
    jobs = engine.api_list_jobs(limit=100, offset=0, page_token=None, name=None, expand_tasks=False)
    rows = [
        [
            _link(f"/jobs/{int(j['job_id'])}", str((j.get("settings") or {}).get("name") or j["job_id"])),
            str(j["job_id"]),
        ]
        for j in jobs.get("jobs", [])
    ]
    body = "<h1>Jobs</h1>" + (_table(["Job", "Job id"], rows) if rows else "<p>No jobs.</p>")
    return Page(200, "Jobs", body)


def _not_found(message: str) -> Page:
    return Page(
        404, "Not found", f"<h1>Not found</h1><p>{escape(message)}</p><p>{_link('/', 'All jobs')}</p>"
    )


# ----------------------------------------------------------------------------- pieces
def state_text(run: dict[str, Any]) -> str:
    """``TERMINATED SUCCESS``, ``RUNNING``, ``QUEUED (reason)``: the states as the API says them."""
    state = _state(run)
    words = [str(state.get("life_cycle_state") or "UNKNOWN")]
    if state.get("result_state"):
        words.append(str(state["result_state"]))
    return " ".join(words)


def _state(run: dict[str, Any]) -> dict[str, Any]:
    state = run.get("state")
    return state if isinstance(state, dict) else {}


def _terminal(run: dict[str, Any]) -> bool:
    return _state(run).get("life_cycle_state") in {"TERMINATED", "SKIPPED", "INTERNAL_ERROR"}


def _job_name(engine: Engine, job_id: int) -> str:
    try:
        return str((engine.api_get_job(job_id).get("settings") or {}).get("name") or job_id)
    except ApiError:
        return str(job_id)


def _params(run: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for value in (run.get("overriding_parameters") or {}).values():
        if isinstance(value, dict):
            out += [(str(k), str(v)) for k, v in value.items()]
        elif isinstance(value, list):
            out.append(("args", " ".join(str(v) for v in value)))
    out += [
        (str(p.get("name")), str(p.get("value", p.get("default", ""))))
        for p in run.get("job_parameters") or []
    ]
    return out


def _time(epoch_ms: Any) -> str:
    if not isinstance(epoch_ms, int) or isinstance(epoch_ms, bool) or epoch_ms <= 0:
        return ""
    when = dt.datetime.fromtimestamp(epoch_ms / 1000, tz=dt.UTC)
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(run: dict[str, Any]) -> str:
    ms = run.get("run_duration") or run.get("execution_duration") or 0
    if not isinstance(ms, int) or ms <= 0:
        return ""
    seconds = round(ms / 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _text(value: Any) -> str:
    return escape("" if value is None else str(value))


def _link(path: str, text: str) -> str:
    """A link to one of our own pages: ``path`` is built from ids, ``text`` is escaped."""
    return f'<a href="{escape(path)}">{escape(text)}</a>'


def _facts(items: Iterable[tuple[str, str]]) -> str:
    rows = "".join(f'<tr><th scope="row">{escape(k)}</th><td>{v}</td></tr>' for k, v in items)
    return f"<table>{rows}</table>"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
