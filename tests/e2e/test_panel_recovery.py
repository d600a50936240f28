"""``JobPanel`` never locks itself, in a real browser (JupyterLab + Chromium, against the sandbox).

One panel, on a long ``jar`` run, goes through every way its pending command used to
stick (issue 11, finding 2), and after each step the page must show a usable panel:
Run, Refresh and Repair (when shown) enabled, no busy text left, and a click on
Refresh really refetches (a ``runs/list`` request reaches the sandbox, and no "wait
for ... to finish" error appears).

1. Cancel the running run (confirmed), then pick an older run in the history strip
   before the cancel lands (the run spends 600 s terminating, so it never lands here);
2. switch back to the run being cancelled;
3. a failing command: the sandbox refuses ``run-now`` (403) and Run is clicked;
4. a watch error: Cancel again (pending until the run ends), then ``runs/get``
   answers 403 to the panel's polling;
5. Run once more: a new run is started and shown.

The same scenarios without a browser: tests/test_widget_lifecycle.py. Faults go into
the session's sandbox (this process serves the kernels' workspace) and are cleared
afterwards. When an assertion fails, the message carries what the kernel says
(``p.pending``, ``p.pending_detail``, ``p.error``, ``p.health``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from jobs_widgets.sandbox import RunRecord, Sandbox

from tests.e2e import test_panel_browser as panel_tests
from tests.e2e.test_panel_browser import (
    BADGE,
    LABELS,
    PANEL,
    SETUP,
    new_run,
    open_in_lab,
    run_ids,
    start_run,
    wait_for,
)
from tests.e2e.test_restart_interrupt import cell, run_cell

# 300 s: the first test of a session also pays JupyterLab's start-up (up to 90 s).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

notebook = panel_tests.notebook  # the shared fixture: unique notebook, leftovers cancelled afterwards

JOB = "jar"  # no other browser test uses it: the run left terminating cannot get in their way
# Runs "forever", and a cancel takes 600 s to land (the run stays TERMINATING).
LONG_RUN = {"duration_s": 36_000, "queue_s": 0.5, "setup_s": 1.0, "cleanup_s": 600.0}
DIAG = "\n".join(
    [
        "import time as _t",
        "print('DIAG', _t.monotonic_ns(), {'pending': p.pending, 'pending_detail': p.pending_detail,",
        "      'error': p.error, 'health': p.health, 'run': (p.run or {}).get('run_id'),",
        "      'state': (p.run or {}).get('state')})",
    ]
)
# Well under PENDING_LIMIT_S (60 s): a stuck command must fail here, not expire first.
USABLE_MS = 20_000


# --------------------------------------------------------------------------- helpers


def kernel_says(page: Any, timeout: float = 20.0) -> str:
    """Run the DIAG cell (cell 2) and return its fresh output: the panel's traits in the kernel."""
    output = cell(page, 2).locator(".jp-OutputArea")
    try:
        old = output.inner_text(timeout=2_000) if output.count() else ""
        run_cell(page, 2)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = output.inner_text(timeout=2_000) if output.count() else ""
            if "DIAG" in text and text != old:
                return " ".join(text.split())
            time.sleep(0.2)
        return "(the DIAG cell printed nothing within the deadline)"
    except Exception as exc:  # diagnostics must never hide the real failure
        return f"(no diagnostics: {exc})"


def runs_list_count(sb: Sandbox, job_id: int) -> int:
    return sum(
        1 for r in sb.requests if r.endpoint == "runs/list" and str(r.params.get("job_id")) == str(job_id)
    )


def endpoint_count(sb: Sandbox, endpoint: str) -> int:
    return sum(1 for r in sb.requests if r.endpoint == endpoint)


class Panel:
    """The live panel's parts, and the checks every step ends with."""

    def __init__(self, page: Any, root: Any, sb: Sandbox, job_id: int) -> None:
        self.page, self.root, self.sb, self.job_id = page, root, sb, job_id
        self.run_button = root.locator(".jw-run")
        self.refresh_button = root.locator(".jw-refresh")
        self.repair_button = root.locator(".jw-repair")
        self.cancel_button = root.locator(".jw-cancel")
        self.busy = root.locator(".jw-busy")
        self.error = root.locator(".jw-error")
        self.error_text = root.locator(".jw-error-text")
        self.link = root.locator(".jw-run-link")
        self.badge = root.locator(BADGE)
        self.form = root.locator(".jw-form")

    def check(self, step: str, what: str, assertion: Callable[[], None]) -> None:
        """Run a Playwright assertion; on failure say which step and what the kernel says."""
        try:
            assertion()
        except AssertionError as exc:
            raise AssertionError(
                f"PANEL LOCKED? after {step}: {what}.\n  kernel: {kernel_says(self.page)}\n  playwright: {exc}"
            ) from exc

    def history_item(self, run_id: int) -> Any:
        return self.root.locator(f".jw-history-item[data-run-id='{run_id}']")

    def click_run(self) -> None:
        """Click Run; when it opens a parameters form, submit it with its defaults."""
        from playwright.sync_api import expect

        expect(self.run_button).to_be_enabled()
        if self.run_button.inner_text().strip() == "Run":  # no parameter model: Run asks first
            start_run(self.root)
            return
        if not self.form.is_visible():
            self.run_button.click()
        expect(self.form).to_be_visible()
        self.form.locator(".jw-run-submit").click()

    def cancel_shown_run(self, run_id: int) -> None:
        """Cancel, confirm, and wait until the kernel says the cancel is pending."""
        from playwright.sync_api import expect

        expect(self.cancel_button).to_be_visible()
        expect(self.cancel_button).to_be_enabled()
        self.cancel_button.click()
        expect(self.root.locator(".jw-confirm")).to_contain_text(f"Cancel run {run_id}?")
        self.root.locator(".jw-cancel-confirm").click()
        expect(self.busy).to_contain_text(f"cancel of run {run_id}")
        expect(self.root).to_have_attribute("data-pending", "cancel")

    def assert_usable(self, step: str) -> None:
        """Run/Refresh/Repair enabled, nothing pending, and a Refresh click really refreshes."""
        from playwright.sync_api import expect

        def idle() -> None:
            expect(self.busy).to_be_hidden(timeout=USABLE_MS)
            expect(self.page.locator(f"{PANEL}[data-pending]")).to_have_count(0, timeout=USABLE_MS)
            expect(self.run_button).to_be_enabled(timeout=USABLE_MS)
            expect(self.refresh_button).to_be_enabled(timeout=USABLE_MS)
            if self.repair_button.is_visible():
                expect(self.repair_button).to_be_enabled(timeout=USABLE_MS)
            if self.cancel_button.is_visible():
                expect(self.cancel_button).to_be_enabled(timeout=USABLE_MS)

        self.check(step, "a command is still pending (busy text / disabled button)", idle)

        before = runs_list_count(self.sb, self.job_id)
        self.refresh_button.click()
        deadline = time.monotonic() + USABLE_MS / 1000
        while runs_list_count(self.sb, self.job_id) == before:
            if self.error_text.is_visible() and "wait for" in self.error_text.inner_text():
                break  # refused by the kernel: reported below
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.check(
            step,
            "Refresh was refused",
            lambda: expect(self.error_text).not_to_contain_text("wait for", timeout=1_000),
        )

        def reached_the_workspace() -> None:
            assert runs_list_count(self.sb, self.job_id) > before, f"no runs/list within {USABLE_MS} ms"

        self.check(step, "Refresh sent no runs/list request to the workspace", reached_the_workspace)

        def refreshed_cleanly() -> None:
            expect(self.error).to_be_hidden(timeout=USABLE_MS)  # a successful refresh clears the error
            expect(self.busy).to_be_hidden(timeout=USABLE_MS)
            expect(self.refresh_button).to_be_enabled(timeout=USABLE_MS)
            expect(self.run_button).to_be_enabled(timeout=USABLE_MS)

        self.check(step, "the panel is not idle and clean after Refresh", refreshed_cleanly)


def older_run_to_pick(sb: Sandbox) -> RunRecord:
    """A finished run the history strip shows: the newest failed one (Repair shows), else the newest."""
    done = [r for r in sb.engine.runs_of(JOB) if r.is_terminal]
    recent = sorted(done, key=lambda r: r.run_id, reverse=True)[:10]  # the strip holds 15 runs
    assert recent, f"the sandbox has no finished {JOB} run"
    return next((r for r in recent if r.result == "FAILED"), recent[0])


@pytest.fixture
def no_faults(sandbox: Sandbox) -> Iterator[None]:
    """The session's sandbox serves every browser test: leave no fault behind."""
    sandbox.faults.clear()
    yield
    sandbox.faults.clear()


# --------------------------------------------------------------------------- the test
def test_panel_stays_usable_through_cancel_switch_failure_and_watch_error(
    jupyter, sandbox, notebook, no_faults, page, artifacts_dir
):
    from playwright.sync_api import expect

    name = notebook([SETUP, f"p = %jobs run {JOB}\np", DIAG])
    job_id = sandbox.engine.job_id(JOB)
    before = run_ids(sandbox, JOB)
    older = older_run_to_pick(sandbox)
    sandbox.engine.script(JOB, **LONG_RUN)
    open_in_lab(page, jupyter, name)
    run_cell(page, 0)
    run_cell(page, 1)

    run = new_run(sandbox, JOB, before)
    rid = run.run_id
    panel = Panel(page, cell(page, 1).locator(PANEL), sandbox, job_id)
    expect(panel.link).to_have_text(f"Run {rid}")
    expect(panel.badge).to_have_text("Running", timeout=45_000)
    panel.assert_usable("the run started")

    # 1. Cancel, then another run before the cancel lands.
    panel.cancel_shown_run(rid)
    panel.history_item(older.run_id).click()
    expect(panel.link).to_have_text(f"Run {older.run_id}")
    expect(panel.badge).to_have_text(LABELS[str(older.result)])
    wait_for(f"the cancel of run {rid} to reach the sandbox", lambda: sandbox.engine.run(rid).user_cancelled)
    assert sandbox.engine.run(rid).life == "TERMINATING"  # accepted, not landed
    if older.result == "FAILED":
        expect(panel.repair_button).to_be_visible()
    panel.assert_usable(f"Cancel of run {rid}, then picking run {older.run_id} before the cancel landed")

    # 2. Switch back to the run being cancelled.
    panel.history_item(rid).click()
    expect(panel.link).to_have_text(f"Run {rid}")
    expect(panel.badge).to_have_text("Terminating")
    panel.assert_usable(f"switching back to run {rid}")

    # 3. A failing command: the workspace refuses run-now.
    sandbox.faults.add("run-now:403")
    refused = endpoint_count(sandbox, "run-now")
    panel.click_run()
    wait_for("the refused run-now", lambda: endpoint_count(sandbox, "run-now") > refused, timeout=20)
    panel.check(
        "a refused Run", "the 403 is not shown", lambda: expect(panel.error_text).to_contain_text("403")
    )
    sandbox.faults.clear()
    assert run_ids(sandbox, JOB) - before == {rid}  # nothing was started
    expect(panel.link).to_have_text(f"Run {rid}")
    panel.assert_usable("a Run refused by the workspace (run-now 403)")

    # 4. A watch error while a cancel is pending.
    cancels = endpoint_count(sandbox, "runs/cancel")
    panel.cancel_shown_run(rid)
    wait_for("the second cancel", lambda: endpoint_count(sandbox, "runs/cancel") > cancels, timeout=20)
    sandbox.faults.add("runs/get:403")  # not transient: the panel's watch ends with it
    panel.check(
        "a watch error",
        "the runs/get 403 is not shown",
        lambda: expect(panel.error_text).to_contain_text("403"),
    )
    sandbox.faults.clear()
    panel.assert_usable(f"a watch error (runs/get 403) on run {rid} while its cancel was pending")
    expect(panel.link).to_have_text(f"Run {rid}")
    expect(panel.badge).to_have_text("Terminating")

    # 5. Run still starts a run, and the panel shows it.
    panel.click_run()
    fresh = wait_for(
        f"a second {JOB} run", lambda: [r for r in run_ids(sandbox, JOB) - before if r != rid], timeout=30
    )
    assert len(fresh) == 1, fresh
    expect(panel.link).to_have_text(f"Run {fresh[0]}")
    panel.assert_usable(f"Run started run {fresh[0]}")
    expect(panel.busy).to_be_hidden()
    expect(panel.badge).to_have_text(re.compile(r"\S"))
    panel.root.screenshot(path=str(artifacts_dir / "panel-recovered.png"), animations="disabled")
    print("final kernel state:", kernel_says(page))
