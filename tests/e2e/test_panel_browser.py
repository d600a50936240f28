"""``JobPanel`` in a real browser: JupyterLab, Notebook 7 and Voila, against the sandbox.

Every test writes its own notebook (unique name: kernels are keyed by path), drives
it like a user, and asserts twice: on what the page shows, and on the sandbox's own
record of the run (the truth). Scripts decide the next run of a job, so each test
scripts right before it triggers the run. Screenshots go to ``E2E_ARTIFACTS``.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nbformat
import pytest
from jobs_widgets.sandbox import RunRecord, Sandbox
from nbformat.v4 import new_code_cell, new_notebook

# 300 s: the first test of a session also pays JupyterLab's start-up (up to 90 s).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

# Fast panels (poll at most 2 s apart), and job-level parameters for env-configured jobs.
SETUP = "\n".join(
    [
        "%load_ext jobs_widgets",
        "%config JobsMagics.poll_cap = 2",
        "%config JobsMagics.default_task_type = 'auto'",
    ]
)
RUN_ETL = "p = %jobs run etl\np"
PANEL = ".jw-panel:not(.jw-static)"  # the live widget, not the static HTML fallback
BADGE = ".jw-status .jw-state"  # the run's badge (task rows have badges too)
ACTIVE = re.compile(r"^(Queued|Pending|Running)$")
LABELS = {"SUCCESS": "Succeeded", "FAILED": "Failed", "CANCELED": "Canceled", "TIMEDOUT": "Timed out"}
# A quick start: the interesting part of a run is what happens once it runs.
QUICK = {"queue_s": 0.5, "setup_s": 1.0, "cleanup_s": 1.0}


# --------------------------------------------------------------------------- helpers
def write_notebook(root: Path, name: str, cells: list[str]) -> str:
    """Write ``name`` (generated: no checked-in notebook to drift); returns its file name."""
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / name)
    return name


def open_in_lab(page: Any, jupyter: SimpleNamespace, name: str) -> None:
    page.goto(f"{jupyter.url}/lab/tree/{name}?token={jupyter.token}&reset")
    wait_for_kernel(page)


def wait_for_kernel(page: Any) -> None:
    """Wait until the current notebook is loaded and its kernel is connected."""
    page.wait_for_function(
        "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel != null"
    )
    page.evaluate(
        """async () => {
            const nb = window.jupyterapp.shell.currentWidget;
            await nb.context.ready;
            await nb.sessionContext.ready;
        }"""
    )


def run_all(page: Any) -> None:
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def run_ids(sb: Sandbox, key: str) -> set[int]:
    return {r.run_id for r in sb.engine.runs_of(key)}


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll the sandbox until ``probe()`` is truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def new_run(sb: Sandbox, key: str, before: set[int], timeout: float = 30.0) -> RunRecord:
    """The one run of ``key`` created since ``before`` was taken."""

    def probe() -> RunRecord | None:
        fresh = [r for r in sb.engine.runs_of(key) if r.run_id not in before]
        assert len(fresh) <= 1, f"expected one new {key} run, got {[r.run_id for r in fresh]}"
        return fresh[0] if fresh else None

    return wait_for(f"a new {key} run in the sandbox", probe, timeout)


def open_with_running_etl(
    page: Any, jupyter: SimpleNamespace, sb: Sandbox, notebook: Any
) -> tuple[Any, RunRecord]:
    """Open a notebook that starts a long etl run; return its panel (showing Running) and the run."""
    from playwright.sync_api import expect

    name = notebook([SETUP, RUN_ETL])
    before = run_ids(sb, "etl")
    sb.engine.script("etl", duration_s=600, **QUICK)
    open_in_lab(page, jupyter, name)
    run_all(page)
    panel = page.locator(PANEL)
    run = new_run(sb, "etl", before)
    expect(panel.locator(".jw-run-link")).to_have_text(f"Run {run.run_id}")
    expect(panel.locator(BADGE)).to_have_text("Running")
    return panel, run


def start_run(panel: Any) -> None:
    """Click Run on a panel whose job has no parameter model: it asks first; start the run
    with the job's defaults (or, when there is nothing else to choose, just start it)."""
    from playwright.sync_api import expect

    panel.locator(".jw-run").click()
    expect(panel.locator(".jw-run-confirm")).to_be_visible()
    defaults = panel.locator(".jw-run-defaults")
    (defaults if defaults.is_visible() else panel.locator(".jw-run-again")).click()


def shot(locator: Any, artifacts: Path, name: str) -> None:
    locator.screenshot(path=str(artifacts / name), animations="disabled")


def shutdown_kernel(jupyter: SimpleNamespace, name: str) -> None:
    """Stop the notebook's kernel (its panels stop polling; two cores stay free)."""
    for session in api(jupyter, "/api/sessions"):
        if session.get("path") == name:
            api(jupyter, f"/api/sessions/{session['id']}", "DELETE")


@pytest.fixture
def notebook(
    jupyter: SimpleNamespace, sandbox: Sandbox, request: pytest.FixtureRequest
) -> Iterator[Callable]:
    """``notebook(cells)`` writes this test's notebook; afterwards its kernel is stopped,
    the runs it left active are cancelled, and unconsumed scripts are dropped."""
    name = f"{request.node.name}.ipynb"
    before = {key: run_ids(sandbox, key) for key in sandbox.jobs}

    def make(cells: list[str]) -> str:
        return write_notebook(jupyter.root, name, cells)

    yield make
    try:
        shutdown_kernel(jupyter, name)
    finally:
        for key in sandbox.jobs:
            for run in sandbox.engine.runs_of(key):
                if run.run_id not in before[key] and not run.is_terminal:
                    sandbox.engine.api_cancel_run(run.run_id)
        sandbox.engine.clear_scripts()


def api(jupyter: SimpleNamespace, path: str, method: str = "GET", body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        f"{jupyter.url}{path}",
        data=data,
        method=method,
        headers={"Authorization": f"token {jupyter.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=20) as r:
        text = r.read()
    return json.loads(text) if text else None


THEME_SETTINGS = "/lab/api/settings/@jupyterlab/apputils-extension:themes"


@pytest.fixture
def default_theme_after(jupyter: SimpleNamespace) -> Iterator[None]:
    """The theme is a user setting, shared by Lab and Notebook 7: put it back afterwards."""
    yield
    api(jupyter, THEME_SETTINGS, "PUT", {"raw": "{}"})
    assert api(jupyter, THEME_SETTINGS)["settings"].get("theme", "JupyterLab Light") == "JupyterLab Light"


def relative_luminance(rgb: list[float]) -> float:
    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: list[float], b: list[float]) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# Resolved colours (any CSS syntax, color-mix included) as [r, g, b] through a canvas;
# the background is what is really behind the element: its own and its ancestors'
# backgrounds composited over white.
COLOURS_JS = """
(el) => {
  const ctx = document.createElement("canvas").getContext("2d", { willReadFrequently: true });
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = "#000"; ctx.fillStyle = css; ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
    return [r, g, b, a / 255];
  };
  const background = (node) => {
    const layers = [];
    for (let n = node; n instanceof Element; n = n.parentElement) {
      layers.push(rgba(getComputedStyle(n).backgroundColor));
    }
    let out = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse()) {
      out = [r * a + out[0] * (1 - a), g * a + out[1] * (1 - a), b * a + out[2] * (1 - a)];
    }
    return out;
  };
  const panel = el.closest(".jw-panel");
  return {
    text: rgba(getComputedStyle(el).color).slice(0, 3),
    own_background: background(el),
    panel_background: background(panel),
    panel_text: rgba(getComputedStyle(panel.querySelector(".jw-job-name")).color).slice(0, 3),
  };
}
"""


# Records every text the run badge shows, from the first paint on (page.add_init_script).
RECORD_BADGE_JS = """
window.__jwBadges = [];
new MutationObserver(() => {
  const el = document.querySelector('.jw-panel:not(.jw-static) .jw-status .jw-state');
  const text = el ? el.textContent : null;
  const seen = window.__jwBadges;
  if (text && seen[seen.length - 1] !== text) seen.push(text);
}).observe(document, { subtree: true, childList: true, characterData: true });
"""


# --------------------------------------------------------------------------- JupyterLab
def test_badge_follows_a_run(jupyter, sandbox, notebook, page, artifacts_dir):
    from playwright.sync_api import expect

    name = notebook([SETUP, RUN_ETL])
    before = run_ids(sandbox, "etl")
    # 16 s of Queued + Pending (real time): room for a slow first paint of JupyterLab
    # on a busy box (it takes ~0.2 s on a quiet one), so an early state is always seen.
    sandbox.engine.script("etl", duration_s=8, queue_s=10.0, setup_s=6.0, cleanup_s=1.0)
    page.add_init_script(RECORD_BADGE_JS)
    open_in_lab(page, jupyter, name)
    run_all(page)

    panel = page.locator(PANEL)
    badge = panel.locator(BADGE)
    expect(badge).to_have_text(re.compile(r"^(Queued|Pending)$"))
    run = new_run(sandbox, "etl", before)
    expect(panel.locator(".jw-run-link")).to_have_text(f"Run {run.run_id}")

    expect(badge).to_have_text("Running", timeout=45_000)
    expect(panel).to_have_attribute("data-state", "RUNNING")
    assert sandbox.engine.run(run.run_id).running_at is not None
    expect(panel.locator(".jw-task")).to_have_count(3)
    expect(panel.locator(".jw-task[data-task-key='ingest']")).to_be_visible()
    shot(panel, artifacts_dir, "running-light.png")

    expect(badge).to_have_text("Succeeded", timeout=45_000)
    record = sandbox.engine.run(run.run_id)
    assert (record.life, record.result) == ("TERMINATED", "SUCCESS")
    expect(panel).to_have_attribute("data-state", "SUCCEEDED")
    expect(panel.locator(".jw-task .jw-state")).to_have_text(["Succeeded"] * 3)
    expect(panel.locator(".jw-cancel")).to_be_hidden()
    shot(panel, artifacts_dir, "succeeded-light.png")

    # Every state the badge went through, in order: never backwards, never a flicker.
    order = ["No runs yet", "Queued", "Pending", "Running", "Terminating", "Succeeded"]
    seen = page.evaluate("window.__jwBadges")
    assert set(seen) <= set(order), seen
    assert [order.index(s) for s in seen] == sorted(order.index(s) for s in seen), seen
    assert {"Running", "Succeeded"} <= set(seen) and ({"Queued", "Pending"} & set(seen)), seen


def test_run_button_sends_form_params(jupyter, sandbox, notebook, page, artifacts_dir):
    from playwright.sync_api import expect

    name = notebook([SETUP, "%jobs panel nightly"])
    latest = max(sandbox.engine.runs_of("nightly"), key=lambda r: r.run_id)
    assert latest.is_terminal
    open_in_lab(page, jupyter, name)
    run_all(page)

    panel = page.locator(PANEL)
    badge = panel.locator(BADGE)
    # The panel first shows the job's latest run, and a Run button with a form.
    expect(panel.locator(".jw-run-link")).to_have_text(f"Run {latest.run_id}")
    expect(badge).to_have_text(LABELS[latest.result])
    run_button = panel.locator(".jw-run")
    expect(run_button).to_have_text("Run\u2026")
    run_button.click()
    form = panel.locator(".jw-form")
    expect(form).to_be_visible()
    env = form.locator("[name='env']")
    expect(env).to_have_value("prod")  # the job parameter's default
    expect(form.locator("[name='full_refresh']")).to_have_value("false")
    env.fill("staging")

    before = run_ids(sandbox, "nightly")
    sandbox.engine.script("nightly", duration_s=600, **QUICK)
    form.locator(".jw-run-submit").click()

    run = new_run(sandbox, "nightly", before)
    sent = {p["name"]: p["value"] for p in run.job_parameters}
    assert sent["env"] == "staging", run.job_parameters
    assert sent["full_refresh"] == "false", run.job_parameters
    # The panel switches to the new run, shows its parameters, and closes the form.
    expect(panel.locator(".jw-run-link")).to_have_text(f"Run {run.run_id}")
    expect(badge).to_have_text(ACTIVE)
    expect(panel.locator(".jw-param", has_text="env")).to_have_text("env = staging")
    expect(form).to_be_hidden()
    expect(panel.locator(".jw-error")).to_be_hidden()


def test_cancel_from_the_panel(jupyter, sandbox, notebook, page, artifacts_dir):
    from playwright.sync_api import expect

    panel, run = open_with_running_etl(page, jupyter, sandbox, notebook)
    badge = panel.locator(BADGE)

    panel.locator(".jw-cancel").click()
    confirm = panel.locator(".jw-cancel-confirm")
    expect(panel.locator(".jw-confirm")).to_contain_text(f"Cancel run {run.run_id}?")
    assert not sandbox.engine.run(run.run_id).user_cancelled  # nothing sent before "yes"
    confirm.click()

    wait_for(
        f"run {run.run_id} to be canceled in the sandbox",
        lambda: sandbox.engine.run(run.run_id).result == "CANCELED",
    )
    expect(badge).to_have_text("Canceled")
    expect(panel).to_have_attribute("data-state", "CANCELED")
    expect(panel.locator(".jw-cancel")).to_be_hidden()
    expect(panel.locator(".jw-error")).to_be_hidden()
    shot(panel, artifacts_dir, "canceled-light.png")


def test_reload_rerenders_from_the_live_kernel(jupyter, sandbox, notebook, page, artifacts_dir):
    from playwright.sync_api import expect

    panel, run = open_with_running_etl(page, jupyter, sandbox, notebook)
    started = run_ids(sandbox, "etl")
    # What a user does before reloading: save (the outputs live in the file).
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.context.model.dirty === false")

    page.reload()
    wait_for_kernel(page)
    panel = page.locator(PANEL)  # a new view, built from the kernel's live model
    expect(panel.locator(".jw-run-link")).to_have_text(f"Run {run.run_id}")
    expect(panel.locator(BADGE)).to_have_text("Running")
    assert sandbox.engine.run(run.run_id).life == "RUNNING"
    assert run_ids(sandbox, "etl") == started  # nothing was executed again
    # ... and still live: the cancel button works after the reload.
    panel.locator(".jw-cancel").click()
    panel.locator(".jw-cancel-confirm").click()
    expect(panel.locator(BADGE)).to_have_text("Canceled")
    assert sandbox.engine.run(run.run_id).result == "CANCELED"


def test_failure_shown_inline(jupyter, sandbox, notebook, page, artifacts_dir):
    from playwright.sync_api import expect

    name = notebook([SETUP, RUN_ETL])
    before = run_ids(sandbox, "etl")
    sandbox.engine.script(
        "etl",
        outcome="FAILED",
        error="ValueError: bad row 7",
        fail_task="transform",
        duration_s=4,
        fail_after_s=1.0,
        **QUICK,
    )
    open_in_lab(page, jupyter, name)
    run_all(page)

    panel = page.locator(PANEL)
    badge = panel.locator(BADGE)
    run = new_run(sandbox, "etl", before)
    expect(panel.locator(".jw-run-link")).to_have_text(f"Run {run.run_id}")
    expect(badge).to_have_text("Failed", timeout=45_000)
    record = sandbox.engine.run(run.run_id)
    assert record.result == "FAILED"
    assert record.tasks["transform"].result == "FAILED"

    failure = panel.locator(".jw-failure")
    expect(failure).to_be_visible()
    expect(failure).to_contain_text("ValueError: bad row 7")
    expect(failure).to_contain_text("transform")
    trace = failure.locator("details.jw-trace")
    expect(trace.locator(".jw-trace-text")).to_be_hidden()  # collapsed until asked for
    trace.locator("summary").click()
    expect(trace.locator(".jw-trace-text")).to_be_visible()
    expect(trace.locator(".jw-trace-text")).to_contain_text("ValueError: bad row 7")
    trace.locator("summary").click()  # collapsed again for the screenshot
    expect(trace.locator(".jw-trace-text")).to_be_hidden()
    expect(panel.locator(".jw-task[data-task-key='transform'] .jw-state")).to_have_text("Failed")
    expect(panel.locator(".jw-repair")).to_be_visible()
    shot(panel, artifacts_dir, "failed-light.png")


def test_dark_theme_keeps_contrast(jupyter, sandbox, notebook, default_theme_after, page, artifacts_dir):
    from playwright.sync_api import expect

    history = [r for key in ("etl", "train") for r in sandbox.engine.runs_of(key) if r.trigger == "PERIODIC"]
    ok = next(r for r in reversed(history) if r.job.spec.key == "etl" and r.result == "SUCCESS")
    bad = next(r for r in reversed(history) if r.result == "FAILED")
    name = notebook(
        [
            SETUP + "\nfrom jobs_widgets import JobPanel",
            f"JobPanel('etl', run_id={ok.run_id})",
            f"JobPanel({bad.job.spec.key!r}, run_id={bad.run_id})",
        ]
    )
    open_in_lab(page, jupyter, name)
    run_all(page)

    panels = page.locator(PANEL)
    expect(panels).to_have_count(2)
    succeeded, failed = panels.nth(0), panels.nth(1)
    expect(succeeded.locator(BADGE)).to_have_text("Succeeded")
    expect(failed.locator(BADGE)).to_have_text("Failed")
    expect(failed.locator(".jw-failure")).to_be_visible()
    light = succeeded.locator(BADGE).evaluate(COLOURS_JS)

    page.evaluate(  # resolves once the setting is saved
        "() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})"
    )
    page.wait_for_function(
        "() => document.body.dataset.jpThemeName === 'JupyterLab Dark' && document.body.dataset.jpThemeLight === 'false'"
    )
    # The theme's CSS is loaded after the attribute flips: wait for the panel to go dark.
    page.wait_for_function(
        """(el) => {
            const c = getComputedStyle(el).backgroundColor.match(/[\\d.]+/g).map(Number);
            return c[0] + c[1] + c[2] < 3 * 96;
        }""",
        arg=succeeded.element_handle(),
    )
    for panel, label in ((succeeded, "Succeeded"), (failed, "Failed")):
        badge = panel.locator(BADGE)
        expect(badge).to_have_text(label)
        dark = badge.evaluate(COLOURS_JS)
        assert relative_luminance(dark["panel_background"]) < 0.1, dark  # the panel follows the theme
        assert contrast(dark["text"], dark["panel_background"]) >= 4.5, dark
        assert contrast(dark["text"], dark["own_background"]) >= 4.5, dark
        assert contrast(dark["panel_text"], dark["panel_background"]) >= 4.5, dark
    assert contrast(light["text"], light["panel_background"]) >= 4.5, light
    assert relative_luminance(light["panel_background"]) > 0.8, light
    shot(succeeded, artifacts_dir, "succeeded-dark.png")
    shot(failed, artifacts_dir, "failed-dark.png")


# --------------------------------------------------------------------------- other front ends
def test_notebook7_renders_the_panel(jupyter, sandbox, notebook, page, artifacts_dir):
    from playwright.sync_api import expect

    latest = max(sandbox.engine.runs_of("report"), key=lambda r: r.run_id)
    name = notebook([SETUP, "%jobs panel report"])
    page.goto(f"{jupyter.url}/notebooks/{name}?token={jupyter.token}")
    wait_for_kernel(page)
    run_all(page)

    panel = page.locator(PANEL)
    expect(panel.locator(".jw-run-link")).to_have_text(f"Run {latest.run_id}")
    expect(panel.locator(BADGE)).to_have_text(LABELS[latest.result])
    expect(panel.locator(".jw-job-name")).to_have_text("weekly-revenue-report")
    shot(panel, artifacts_dir, "notebook7.png")


def test_voila_renders_the_panel(jupyter, sandbox, notebook, page, artifacts_dir):
    # voila is in the test extra: if it is missing the test fails (never a silent skip)
    from playwright.sync_api import expect

    latest = max(sandbox.engine.runs_of("report"), key=lambda r: r.run_id)
    name = notebook([SETUP, "%jobs panel report"])
    page.goto(f"{jupyter.url}/voila/render/{name}?token={jupyter.token}")  # Voila executes it

    panel = page.locator(PANEL)
    expect(panel.locator(".jw-run-link")).to_have_text(f"Run {latest.run_id}")
    expect(panel.locator(BADGE)).to_have_text(LABELS[latest.result])
    expect(panel.locator(".jw-job-name")).to_have_text("weekly-revenue-report")
    shot(panel, artifacts_dir, "voila.png")
