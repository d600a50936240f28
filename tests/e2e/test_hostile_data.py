"""Hostile data from the workspace, shown in a real browser: nothing may run, all stays text.

Everything ``jobs_widgets`` shows comes from a remote service and must be treated as
hostile. A job whose name and task keys are markup, and runs whose names, state
messages, errors, traces, parameters, notebook results and run page URLs are XSS
payloads, are put into the sandbox; a notebook then shows them in ``JobPanel``s and in
the magics' HTML outputs. Every payload that could execute reports itself through a
side effect the test listens for (a dialog, a console message, a request whose URL
contains "xss"), so "nothing happened" is an observation, not an assumption.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from jobs_widgets.sandbox import JobSpec, Sandbox, TaskSpec

from tests.e2e import test_panel_browser as panel_tests
from tests.e2e.test_panel_browser import PANEL, open_in_lab, run_all, wait_for

# 300 s: the first test of a session also pays JupyterLab's start-up (up to 90 s).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

notebook = panel_tests.notebook  # the shared fixture: unique notebook, kernel stopped afterwards

SINK = "http://127.0.0.1:9"  # nothing listens there: a request to it is only ever a symptom


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --------------------------------------------------------------------------- the corpus
# Payload n reports itself as XSS-<n> (alert / console.log) or xss-<n> (a request).
PAYLOADS: dict[int, str] = {
    # script tags
    1: "<script>alert('XSS-1')</script>",
    2: "<script>console.log('XSS-2')</script>",
    3: f'<script src="{SINK}/xss-3.js"></script>',
    # images, svg, frames, objects
    4: "<img src=x onerror=\"alert('XSS-4')\">",
    5: f'<img src="{SINK}/xss-5.png">',
    6: "<svg onload=\"alert('XSS-6')\">",
    7: f"<svg><script>fetch('{SINK}/xss-7')</script></svg>",
    8: "<iframe srcdoc=\"<script>parent.alert('XSS-8')</script>\"></iframe>",
    9: "<iframe src=\"javascript:alert('XSS-9')\"></iframe>",
    10: "<object data=\"data:text/html,<script>alert('XSS-10')</script>\"></object>",
    11: "<embed src=\"javascript:alert('XSS-11')\">",
    # event-handler attributes
    12: "<details open ontoggle=\"alert('XSS-12')\"><summary>x</summary></details>",
    13: "<input autofocus onfocus=\"console.log('XSS-13')\">",
    14: "\"><img src=x onerror=alert('XSS-14')>",
    15: "' onmouseover='alert(\"XSS-15\")' x='",
    16: '<div onmouseover="alert(\'XSS-16\')" style="position:fixed;inset:0">cover</div>',
    17: "<video><source onerror=\"alert('XSS-17')\"></video>",
    18: "<body onload=\"alert('XSS-18')\">",
    # javascript: / data: / vbscript: URLs (as run page URLs and as links)
    19: "javascript:alert('XSS-19')",
    20: "JaVaScRiPt:alert('XSS-20')",
    21: "   javascript:alert('XSS-21')",
    22: "\x01\x02javascript:alert('XSS-22')",
    23: "java\tscript:alert('XSS-23')",
    24: "data:text/html,<script>alert('XSS-24')</script>",
    25: "data:text/html;base64," + _b64("<script>alert('XSS-25')</script>"),
    26: 'vbscript:msgbox("XSS-26")',
    27: "https://example.com/run?q=\"><script>alert('XSS-27')</script>",
    28: "<a href=\"javascript:alert('XSS-28')\">open run</a>",
    # CSS injection
    29: "</style><style>body{display:none}</style><img src=x onerror=alert('XSS-29')>",
    30: "<div style=\"width:expression(alert('XSS-30'))\">e</div>",
    31: f"<style>@import '{SINK}/xss-31.css';</style>",
    32: f'<link rel="stylesheet" href="{SINK}/xss-32.css">',
    # template injection
    33: "{{constructor.constructor('alert(\"XSS-33\")')()}}",
    34: "${alert('XSS-34')}",
    35: "#{alert('XSS-35')}<%= alert('XSS-35') %>",
    # markdown / HTML entities / math
    36: "&lt;script&gt;alert('XSS-36')&lt;/script&gt;",
    37: "&#60;img src=x onerror=alert('XSS-37')&#62;",
    38: "[run page](javascript:alert('XSS-38'))",
    39: "$\\href{javascript:alert('XSS-39')}{math}$",
    # unicode direction overrides, zero-width characters
    40: "\u202e<script>alert('XSS-40')</script>\u202c",
    41: "\u2066<img src=x onerror=alert('XSS-41')>\u2069",
    42: "<scr\u200bipt>alert('XSS-42')</scr\u200bipt>\ufeff<svg/onload=alert('XSS-42')>",
    # NUL and other control characters
    43: "<scr\x00ipt>alert('XSS-43')</script>\x00<img src=x onerror=alert('XSS-43')>",
    44: "\x1b[31m\x07\x08\x7f<img src=x onerror=alert('XSS-44')>",
    # more elements that act on their own
    45: '<meta http-equiv="refresh" content="0;url=javascript:alert(\'XSS-45\')">',
    46: "<base href=\"javascript:alert('XSS-46')//\">",
    47: "<math><mtext><table><mglyph><style><img src=x onerror=alert('XSS-47')>",
    48: "<form action=\"javascript:alert('XSS-48')\"><button>go</button></form>",
    49: "<marquee onstart=\"alert('XSS-49')\">m</marquee>",
    # very long texts
    50: "<script>alert('XSS-50')</script>" + "A" * 100_000,
    51: ("<img src=x onerror=alert('XSS-51')>" + "B" * 1_048_576)[:1_048_576],
}
URL_PAYLOADS = tuple(range(19, 28))  # the ones that go into run_page_url
SAFE_URL = 27  # a real https URL (with markup in its query): the only one that may be a link
LONG, MEGABYTE = 50, 51
SHORT = [n for n in PAYLOADS if n not in {LONG, MEGABYTE}]
MARKER = re.compile(r"xss-(\d+)", re.IGNORECASE)

JOB_NAME = PAYLOADS[1]
TASK_KEYS = [PAYLOADS[6], PAYLOADS[14], PAYLOADS[40]]  # ingest -> transform -> publish, hostile
QUICK = {"queue_s": 0.0, "setup_s": 0.0, "cleanup_s": 0.0}


def trace_of(numbers: list[int]) -> str:
    """A traceback whose lines are payloads (at most 40: the panel and magics keep the tail)."""
    lines = ["Traceback (most recent call last):"]
    lines += [f'  File "/Workspace/{n}.py", line {n}: {PAYLOADS[n]}' for n in numbers]
    return "\n".join(lines)


def test_the_corpus_reports_itself():
    """Every payload carries its own marker, so a symptom names its cause."""
    assert len(PAYLOADS) >= 30
    for n, payload in PAYLOADS.items():
        _, encoded, tail = payload.partition(";base64,")
        text = base64.b64decode(tail).decode() if encoded else payload  # what would run
        assert {int(m) for m in MARKER.findall(text)} == {n}, n
    assert len(PAYLOADS[LONG]) > 100_000
    assert len(PAYLOADS[MEGABYTE]) == 1_048_576


# --------------------------------------------------------------------------- the hostile job
@dataclass
class Hostile:
    job_id: int
    failed: int  # F: failed run, the last 39 short payloads in its trace, a 100k run name
    huge: int  # M: failed run with a 1 MB state message and a 100k error
    with_urls: dict[int, int] = field(default_factory=dict)  # URL payload -> succeeded run
    results: dict[int, int] = field(default_factory=dict)  # run -> payload of its notebook result


def _wait_terminal(sb: Sandbox, run_ids: list[int]) -> None:
    wait_for(
        f"runs {run_ids} to end in the sandbox",
        lambda: all(sb.engine.run(r).is_terminal for r in run_ids),
        timeout=10,
    )


@pytest.fixture(scope="module")
def hostile(sandbox: Sandbox) -> Iterator[Hostile]:
    """The ``hostile`` job with finished runs full of payloads (created from this process)."""
    engine = sandbox.engine
    tasks = [
        TaskSpec(TASK_KEYS[0], "notebook", {"notebook_path": "/Workspace/hostile/a"}),
        TaskSpec(
            TASK_KEYS[1], "notebook", {"notebook_path": "/Workspace/hostile/b"}, depends_on=[TASK_KEYS[0]]
        ),
        TaskSpec(
            TASK_KEYS[2], "notebook", {"notebook_path": "/Workspace/hostile/c"}, depends_on=[TASK_KEYS[1]]
        ),
    ]
    job_id = engine.add_job(
        JobSpec(
            key="hostile",
            name=JOB_NAME,
            description=PAYLOADS[2],
            tasks=tasks,
            max_concurrent_runs=10,
            history_runs=0,
        )
    )

    def start(**script: Any) -> int:
        engine.script(job_id, **QUICK, **script)
        return int(engine.api_run_now({"job_id": job_id})["run_id"])

    others = [n for n in SHORT if n not in URL_PAYLOADS]
    with_urls, results = {}, {}
    for i, url in enumerate(URL_PAYLOADS):
        result = others[-1 - i]
        run_id = start(
            duration_s=0.05,
            run_page_url=PAYLOADS[url],
            run_name=PAYLOADS[others[i]],
            notebook_result=PAYLOADS[result],
        )
        with_urls[url], results[run_id] = run_id, result
    huge = start(
        outcome="FAILED",
        duration_s=0.05,
        fail_after_s=0.01,
        fail_task=TASK_KEYS[1],
        state_message=PAYLOADS[MEGABYTE],
        error=PAYLOADS[LONG],
    )
    failed = start(
        outcome="FAILED",
        duration_s=0.05,
        fail_after_s=0.01,
        fail_task=TASK_KEYS[1],
        run_name=PAYLOADS[LONG],
        state_message=PAYLOADS[29],
        error=PAYLOADS[4],
        error_trace=trace_of(SHORT[-39:]),
        notebook_result=PAYLOADS[38],
    )
    _wait_terminal(sandbox, [*with_urls.values(), huge, failed])
    yield Hostile(job_id=job_id, failed=failed, huge=huge, with_urls=with_urls, results=results)
    for run in engine.runs_of(job_id):
        if not run.is_terminal:
            engine.api_cancel_run(run.run_id)


# --------------------------------------------------------------------------- detectors
@dataclass
class Symptoms:
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def found(self) -> dict[str, list[str]]:
        return {k: v for k, v in vars(self).items() if v}


def watch_for_symptoms(page: Any) -> Symptoms:
    """Record every dialog, console message and request a payload could cause."""
    seen = Symptoms()

    def on_dialog(dialog: Any) -> None:
        seen.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_console(message: Any) -> None:
        if "xss" in message.text.lower():
            seen.console.append(f"{message.type}: {message.text[:300]}")

    def on_request(request: Any) -> None:
        if "xss" in request.url.lower():
            seen.requests.append(request.url[:300])

    def on_page_error(error: Any) -> None:
        if "xss" in str(error).lower():
            seen.errors.append(str(error)[:300])

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("request", on_request)
    page.on("pageerror", on_page_error)
    return seen


# Inside outputs: elements a payload could have created, and attributes that act.
# (MathJax's own <math> elements are left to test_remote_text_is_not_typeset.)
INERT_CHECK_JS = """
() => {
  const forbidden = "script, iframe, frame, frameset, object, embed, base, meta, link, style, form, " +
    "video, audio, source, marquee, img, svg[onload], input, textarea";
  const bad = [];
  const describe = (el) => el.outerHTML.slice(0, 160);
  for (const out of document.querySelectorAll(".jp-OutputArea-output")) {
    for (const el of out.querySelectorAll("*")) {
      if (el.matches(forbidden) && !el.closest(".jw-form")) bad.push("element: " + describe(el));
      for (const attr of el.attributes) {
        const name = attr.name.toLowerCase();
        if (name.startsWith("on") || ["srcdoc", "action", "formaction", "data", "style"].includes(name) && /xss|expression|javascript/i.test(attr.value)) {
          bad.push("attribute " + name + ": " + describe(el));
        }
      }
    }
  }
  for (const el of document.querySelectorAll("iframe, base, frame, object, embed")) bad.push("page: " + describe(el));
  for (const el of document.querySelectorAll("script")) {
    if (/xss/i.test(el.textContent + " " + (el.getAttribute("src") || ""))) bad.push("page script: " + describe(el));
  }
  if (getComputedStyle(document.body).display === "none") bad.push("body hidden");
  return bad;
}
"""

# Every link inside outputs (panels and magic HTML), with its resolved protocol.
LINKS_JS = """
() => [...document.querySelectorAll(".jp-OutputArea-output [href], .jp-OutputArea-output [src]")].map((el) => {
  const raw = el.getAttribute("href") ?? el.getAttribute("src");
  let protocol = "unparsable";
  try { protocol = new URL(raw, document.baseURI).protocol; } catch (e) {}
  return { tag: el.tagName.toLowerCase(), raw: raw.slice(0, 160), protocol, text: el.textContent.slice(0, 80) };
})
"""


# --------------------------------------------------------------------------- the test
def cell_output(page: Any, index: int) -> Any:
    return page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea")


def wait_for_last_cell(page: Any, text: str, timeout_ms: int = 90_000) -> None:
    """Wait until the last cell printed ``text``; fail at once, with the error, if a cell failed."""
    page.wait_for_function(
        """(text) => {
            const cells = [...document.querySelectorAll(".jp-Notebook .jp-Cell")];
            const last = cells[cells.length - 1]?.querySelector(".jp-OutputArea");
            return (last && last.textContent.includes(text)) ||
                document.querySelector(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']");
        }""",
        arg=text,
        timeout=timeout_ms,
    )
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert errors.count() == 0, errors.all_text_contents()


def test_hostile_data_stays_inert(jupyter, sandbox, hostile, notebook, page, artifacts_dir):
    from playwright.sync_api import expect

    notebook_params = {f"p{n}": PAYLOADS[n] for n in SHORT[:18]}
    notebook_params[PAYLOADS[4]] = "key is markup"
    notebook_params[PAYLOADS[40]] = PAYLOADS[LONG]
    line_params = " ".join(f"-p {shlex.quote(f'{k}={PAYLOADS[n]}')}" for k, n in (("a", 5), ("b", 13)))
    cells = [
        # 0: the kernel learns about the hostile job from its environment
        "\n".join(
            [
                "import os",
                f"os.environ['DATABRICKS_JOB_HOSTILE'] = '{hostile.job_id}'",
                "%load_ext jobs_widgets",
                "%config JobsMagics.poll_cap = 2",
                "%config JobsMagics.default_task_type = 'auto'",
                "from jobs_widgets import JobPanel",
            ]
        ),
        # 1: parameters from a JSON cell body; the panel follows the run to its failure
        "%%jobs run hostile\n" + json.dumps(notebook_params),
        # 2: parameters from -p; --wait prints progress lines with task keys and messages
        f"%jobs run hostile {line_params} --wait",
        "%jobs list",  # 3
        "%jobs runs hostile",  # 4
        f"%jobs status hostile {hostile.failed}",  # 5
        f"%jobs output hostile {hostile.failed}",  # 6
        f"%jobs output hostile {hostile.with_urls[URL_PAYLOADS[0]]}",  # 7: notebook results
        "%jobs panel hostile",  # 8: the latest run (failed, -p parameters)
        f"JobPanel('hostile', run_id={hostile.failed})",  # 9: every payload in the trace
        f"%jobs status hostile {hostile.huge}",  # 10: 1 MB state message
        f"JobPanel('hostile', run_id={hostile.huge})",  # 11
        'print("alive")',  # 12
    ]
    name = notebook(cells)
    # The two runs the notebook starts: (1) JSON parameters, (2) -p parameters.
    sandbox.engine.script(
        hostile.job_id,
        outcome="FAILED",
        duration_s=0.3,
        fail_after_s=0.1,
        fail_task=TASK_KEYS[0],
        run_name=PAYLOADS[33],
        state_message=PAYLOADS[34],
        error=PAYLOADS[36],
        error_trace=trace_of(SHORT[:39]),
        **QUICK,
    )
    sandbox.engine.script(
        hostile.job_id,
        outcome="FAILED",
        duration_s=0.3,
        fail_after_s=0.1,
        fail_task=TASK_KEYS[2],
        run_name=PAYLOADS[12],
        state_message=PAYLOADS[39],
        error=PAYLOADS[28],
        **QUICK,
    )
    before = {r.run_id for r in sandbox.engine.runs_of(hostile.job_id)}

    seen = watch_for_symptoms(page)
    open_in_lab(page, jupyter, name)
    run_all(page)
    wait_for_last_cell(page, "alive")
    started = sorted(r.run_id for r in sandbox.engine.runs_of(hostile.job_id) if r.run_id not in before)
    assert len(started) == 2, started
    _wait_terminal(sandbox, started)
    json_run, line_run = (sandbox.engine.run(r) for r in started)
    assert json_run.overriding["notebook_params"] == notebook_params  # sent as typed
    assert line_run.overriding["notebook_params"] == {"a": PAYLOADS[5], "b": PAYLOADS[13]}

    # The panels: the JSON run (live), the latest run, the failed run, the 1 MB one.
    json_panel = cell_output(page, 1).locator(PANEL)
    expect(json_panel.locator(".jw-status .jw-state")).to_have_text("Failed")
    expect(json_panel.locator(".jw-run-link")).to_have_text(f"Run {json_run.run_id}")
    expect(json_panel.locator(".jw-failure-error")).to_have_text(PAYLOADS[36])
    values = json_panel.locator(".jw-param-value")
    expect(values.first).to_be_attached()
    assert PAYLOADS[1] in values.all_text_contents()
    latest = cell_output(page, 8).locator(PANEL)
    expect(latest.locator(".jw-run-link")).to_have_text(f"Run {line_run.run_id}")
    expect(latest.locator(".jw-failure")).to_be_visible()
    expect(latest.locator(".jw-param-value")).to_have_text([PAYLOADS[5], PAYLOADS[13]])
    expect(latest.locator(".jw-run-meta")).to_contain_text(PAYLOADS[12])  # the run name
    failed = cell_output(page, 9).locator(PANEL)
    expect(failed.locator(".jw-run-link")).to_have_text(f"Run {hostile.failed}")
    expect(failed.locator(".jw-failure-error")).to_have_text(PAYLOADS[4])
    huge = cell_output(page, 11).locator(PANEL)
    expect(huge.locator(".jw-status .jw-state")).to_have_text("Failed")
    expect(huge.locator(".jw-failure")).to_be_visible()

    # Expand every trace (the failed run's holds all payloads) and hover over everything.
    for panel in (json_panel, latest, failed, huge):
        trace = panel.locator("details.jw-trace")
        if trace.count():
            trace.locator("summary").click()
            expect(trace.locator(".jw-trace-text")).to_be_visible()
    expect(failed.locator(".jw-trace-text")).to_contain_text(PAYLOADS[47])
    expect(json_panel.locator(".jw-trace-text")).to_contain_text(PAYLOADS[1])
    for index in (1, 3, 4, 5, 6, 7, 8, 9):
        cell_output(page, index).hover()

    # Markup is shown as text: the <script> job name, literally, where a person reads it.
    job_name = latest.locator(".jw-job-name")
    job_name.scroll_into_view_if_needed()
    assert job_name.inner_text() == JOB_NAME
    expect(cell_output(page, 3)).to_contain_text(JOB_NAME)  # %jobs list
    expect(cell_output(page, 6)).to_contain_text(f"error: {PAYLOADS[4]}")  # %jobs output
    expect(cell_output(page, 6).locator("pre")).to_contain_text(PAYLOADS[47])  # its trace
    succeeded = hostile.with_urls[URL_PAYLOADS[0]]
    expect(cell_output(page, 7)).to_contain_text(f"result: {PAYLOADS[hostile.results[succeeded]]}")
    expect(cell_output(page, 5)).to_contain_text(PAYLOADS[29])  # %jobs status: state message
    expect(cell_output(page, 2)).to_contain_text(f"hostile run {line_run.run_id}: Failed")  # --wait
    # Magics show bidi overrides and control characters as escapes, not as effects.
    output_text = cell_output(page, 6).text_content() or ""
    assert "\\u202e" in output_text and "\u202e" not in output_text
    assert "\\x00" in output_text and "\x00" not in output_text

    # Links only for http(s): unsafe run page URLs are plain text in every view.
    links = page.evaluate(LINKS_JS)
    assert links, "expected the http(s) run links"
    unsafe = [link for link in links if link["protocol"] not in {"http:", "https:"}]
    assert not unsafe, unsafe
    runs_table = cell_output(page, 4)
    for url, run_id in hostile.with_urls.items():
        if url != SAFE_URL:
            expect(runs_table.locator("a", has_text=re.compile(rf"^{run_id}$"))).to_have_count(0)
            expect(runs_table.locator("td", has_text=re.compile(rf"^{run_id}$"))).to_have_count(1)
    https_link = runs_table.locator("a", has_text=re.compile(rf"^{hostile.with_urls[SAFE_URL]}$"))
    expect(https_link).to_have_attribute("href", PAYLOADS[SAFE_URL])  # a real https URL stays a link

    # No element or attribute a payload could have created exists; the page is intact.
    assert page.evaluate(INERT_CHECK_JS) == []

    # The 1 MB message is cut before it reaches the page, and the page stays responsive.
    message = huge.locator(".jw-failure-message")
    expect(message).to_contain_text(PAYLOADS[MEGABYTE][:40])
    assert len(message.text_content() or "") <= 4_000
    assert len(cell_output(page, 10).text_content() or "") <= 4_000
    t0 = time.monotonic()
    assert page.evaluate("1 + 1") == 2
    assert time.monotonic() - t0 < 10.0  # a page hung on the payload would not answer at all

    failed.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "hostile.png"))
    # Give late effects (image loads, timers, focus) a moment through a real round trip.
    page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 500))")
    assert seen.found() == {}, seen.found()


def test_the_sandbox_keeps_payloads_verbatim(sandbox: Sandbox, hostile: Hostile):
    """The payloads reach the kernel's view unchanged (so the page test sees the real thing)."""
    failed = sandbox.engine.api_get_run(hostile.failed)
    assert failed["run_name"] == PAYLOADS[LONG]
    assert failed["state"]["state_message"] == PAYLOADS[29]
    assert [t["task_key"] for t in failed["tasks"]] == TASK_KEYS
    huge = sandbox.engine.api_get_run(hostile.huge)
    assert huge["state"]["state_message"] == PAYLOADS[MEGABYTE]
    for url, run_id in hostile.with_urls.items():
        assert sandbox.engine.api_get_run(run_id)["run_page_url"] == PAYLOADS[url]


# What a workspace can make JupyterLab's MathJax draw: a fake state and a link.
TYPESET = r"$\color{green}{\text{Succeeded}}$ see $\href{https://evil.example/phish}{\text{the run page}}$"


def test_remote_text_is_not_typeset(jupyter, sandbox, hostile, notebook, page):
    from playwright.sync_api import expect

    sandbox.engine.script(
        hostile.job_id,
        outcome="FAILED",
        duration_s=0.05,
        fail_after_s=0.01,
        fail_task=TASK_KEYS[0],
        state_message=TYPESET,
        **QUICK,
    )
    run_id = int(sandbox.engine.api_run_now({"job_id": hostile.job_id})["run_id"])
    _wait_terminal(sandbox, [run_id])
    name = notebook(
        [
            f"import os\nos.environ['DATABRICKS_JOB_HOSTILE'] = '{hostile.job_id}'\n%load_ext jobs_widgets",
            f"%jobs status hostile {run_id}",
            'print("alive")',
        ]
    )
    open_in_lab(page, jupyter, name)
    run_all(page)
    wait_for_last_cell(page, "alive")
    status = cell_output(page, 1)
    expect(status).to_contain_text(f"run {run_id}: Failed")
    # Shown as the text it is (MathJax typesets within moments of the render): no math, no link.
    expect(status.locator(".jw-message")).to_have_text(TYPESET, timeout=3_000)
    assert status.locator("mjx-container").count() == 0
    assert status.locator("a[href*='evil.example']").count() == 0
