"""Kernel restarts and interrupts in JupyterLab, against the sandbox.

A run outlives the kernel that started it: after a restart, ``%jobs watch`` re-attaches
to the same run (and starts nothing). Ctrl-C (Lab's "Interrupt Kernel") during
``%jobs run --wait`` stops watching or cancels the run, as ``--on-interrupt`` says, and
leaves the kernel usable. The sandbox's own record of the runs is the truth.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e import test_panel_browser as panel_tests
from tests.e2e.test_panel_browser import (
    BADGE,
    PANEL,
    QUICK,
    RUN_ETL,
    new_run,
    open_in_lab,
    run_ids,
    wait_for,
)

# 300 s: the first test of a session also pays JupyterLab's start-up (up to 90 s).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

notebook = panel_tests.notebook  # the shared fixture: unique notebook, leftovers cancelled afterwards

SETUP = "%load_ext jobs_widgets\n%config JobsMagics.poll_cap = 2"


def cell(page: Any, index: int) -> Any:
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


def run_cell(page: Any, index: int) -> None:
    """Execute one cell, as Ctrl+Enter would; returns without waiting for it to finish."""
    page.evaluate(
        """(index) => {
            const panel = window.jupyterapp.shell.currentWidget;
            panel.content.activeCellIndex = index;
            panel.content.deselectAll();
            void window.jupyterapp.commands.execute('notebook:run-cell');
        }""",
        index,
    )


def wait_for_idle_kernel(page: Any) -> None:
    page.wait_for_function(
        """() => {
            const ctx = window.jupyterapp.shell.currentWidget.sessionContext;
            return ctx.isReady && !ctx.isRestarting && ctx.session?.kernel?.status === 'idle';
        }"""
    )


def kernel_id(page: Any) -> str:
    return page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.id")


def active_runs(sandbox: Any, key: str) -> list[int]:
    return [r.run_id for r in sandbox.engine.runs_of(key) if not r.is_terminal]


# --------------------------------------------------------------------------- restart
def test_restart_then_watch_reattaches(jupyter, sandbox, notebook, page):
    from playwright.sync_api import expect

    name = notebook(
        [
            SETUP,
            RUN_ETL,
            "\n".join(
                [
                    'print("fresh kernel:", "p" not in globals())',
                    "%load_ext jobs_widgets",
                    "%config JobsMagics.poll_cap = 2",
                    "%jobs watch etl",
                ]
            ),
        ]
    )
    before = run_ids(sandbox, "etl")
    sandbox.engine.script("etl", duration_s=600, **QUICK)
    open_in_lab(page, jupyter, name)
    run_cell(page, 0)
    run_cell(page, 1)

    first = cell(page, 1).locator(PANEL)
    run = new_run(sandbox, "etl", before)
    expect(first.locator(".jw-run-link")).to_have_text(f"Run {run.run_id}")
    expect(first.locator(BADGE)).to_have_text("Running")
    wait_for_idle_kernel(page)
    old_kernel = kernel_id(page)

    # Restart through the session, as Kernel > Restart Kernel does once confirmed.
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.restartKernel()")
    wait_for_idle_kernel(page)
    assert kernel_id(page) == old_kernel  # a restart keeps the kernel's id, not its state
    assert not sandbox.engine.run(run.run_id).is_terminal  # the run outlives its kernel

    run_cell(page, 2)
    expect(cell(page, 2).locator(".jp-OutputArea")).to_contain_text("fresh kernel: True")
    panel = cell(page, 2).locator(PANEL)
    expect(panel.locator(".jw-run-link")).to_have_text(f"Run {run.run_id}")
    expect(panel.locator(BADGE)).to_have_text("Running")
    expect(panel).to_have_attribute("data-state", "RUNNING")
    expect(panel.locator(".jw-cancel")).to_be_visible()  # live again: it can act on the run
    wait_for_idle_kernel(page)

    # Re-attaching started nothing: the one active etl run is still the first one.
    assert run_ids(sandbox, "etl") - before == {run.run_id}
    assert active_runs(sandbox, "etl") == [run.run_id]
    assert sandbox.engine.run(run.run_id).life == "RUNNING"


# --------------------------------------------------------------------------- interrupt
INTERRUPTED = {
    "detach": "Interrupted: stopped watching",
    "cancel": "Interrupted: cancel requested",
}


@pytest.mark.parametrize("mode", ["detach", "cancel"])
def test_interrupt_wait(jupyter, sandbox, notebook, page, mode):
    from playwright.sync_api import expect

    name = notebook([SETUP, f"%jobs run report --wait --on-interrupt {mode}", 'print("alive")'])
    before = run_ids(sandbox, "report")
    sandbox.engine.script("report", duration_s=3600, **QUICK)
    open_in_lab(page, jupyter, name)
    run_cell(page, 0)
    run_cell(page, 1)

    output = cell(page, 1).locator(".jp-OutputArea")
    run = new_run(sandbox, "report", before)
    expect(output.locator(".jw-progress-log")).to_contain_text(f"report run {run.run_id} started; watching")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:interrupt-kernel')")

    expect(output.locator(".jw-progress-log")).to_contain_text(INTERRUPTED[mode])
    expect(output).to_contain_text(f"report run {run.run_id}")  # the summary of the run it left
    expect(
        output.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    ).to_have_count(0)
    wait_for_idle_kernel(page)
    run_cell(page, 2)
    expect(cell(page, 2).locator(".jp-OutputArea")).to_contain_text("alive")

    if mode == "detach":
        assert not sandbox.engine.run(run.run_id).is_terminal
        assert not sandbox.engine.run(run.run_id).user_cancelled
    else:
        wait_for(
            f"run {run.run_id} to be canceled in the sandbox",
            lambda: sandbox.engine.run(run.run_id).result == "CANCELED",
            timeout=15,
        )
    assert run_ids(sandbox, "report") - before == {run.run_id}
