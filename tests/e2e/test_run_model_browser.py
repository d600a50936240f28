"""Today's run model in the panel, in real JupyterLab + Chromium (issue 15): a for-each with a
failed iteration (its progress, the failed iteration's page), a condition's excluded branch,
a parent's child run (with the magic that opens its panel), a timeout, and a queued run with
its reason. The kernel starts its own ``--run-model`` sandbox. Screenshots, light and dark,
go to ``E2E_ARTIFACTS`` (copied to docs/images as ``runmodel-*.png``).
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jobs_widgets.sandbox import Sandbox

from tests.e2e.test_panel_browser import (  # noqa: F401  (notebook and default_theme_after are fixtures)
    BADGE,
    PANEL,
    default_theme_after,
    notebook,
    open_in_lab,
    run_all,
    shot,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

CELLS = [
    "%load_ext jobs_widgets\ninfo = %jobs sandbox start --run-model --speed 50\nsb = info.sandbox\n"
    "from jobs_widgets import JobPanel",
    'sb.engine.script("fanout", outcome="FAILED", fail_task="score", duration_s=300, fail_after_s=150)\n'
    'fan = %jobs run fanout --wait\nJobPanel("fanout", run_id=fan.run.run_id)',
    'gate = %jobs run gate -p mode=incremental --wait\nJobPanel("gate", run_id=gate.run.run_id)',
    'parent = %jobs run parent --wait\nJobPanel("parent", run_id=parent.run.run_id)',
    'slow = %jobs run slow --wait\nJobPanel("slow", run_id=slow.run.run_id)',
    "first = %jobs run single\nsecond = %jobs run single\nsecond",
]


def _to_theme(page: Any, theme: str) -> None:
    light = "true" if theme == "JupyterLab Light" else "false"
    page.evaluate(f"() => window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{theme}'}})")
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'")
    page.wait_for_timeout(500)


def test_the_panel_shows_todays_run_model(
    jupyter: SimpleNamespace,
    sandbox: Sandbox,
    notebook: Any,  # noqa: F811
    default_theme_after: None,  # noqa: F811
    page: Any,
    artifacts_dir: Path,
) -> None:
    from playwright.sync_api import expect

    name = notebook(CELLS)  # the kernel's own sandbox goes with the kernel
    open_in_lab(page, jupyter, name)
    run_all(page)
    panels = page.locator(PANEL)
    expect(panels).to_have_count(5, timeout=120_000)
    fanout, gate, parent, slow, single = (panels.nth(i) for i in range(5))

    score = fanout.locator(".jw-task[data-task-key='score']")
    expect(fanout.locator(BADGE)).to_have_text("Failed", timeout=60_000)
    expect(score.locator(".jw-task-detail")).to_contain_text("of 150 iterations done")
    expect(score.locator(".jw-task-nested")).to_contain_text("of 150 iterations failed", timeout=30_000)
    link = score.locator(".jw-task-nested a.jw-nested-link").first
    expect(link).to_have_attribute("href", re.compile(r"^http://127\.0\.0\.1:\d+/jobs/\d+/runs/\d+$"))

    expect(gate.locator(".jw-task[data-task-key='full_rebuild'] .jw-state")).to_have_text("Excluded")
    expect(gate.locator(".jw-task[data-task-key='is_full'] .jw-task-detail")).to_have_text(
        "condition was false"
    )

    expect(parent.locator(".jw-task-nested")).to_contain_text("%jobs panel refresh", timeout=30_000)

    expect(slow.locator(BADGE)).to_have_text("Timed out")

    expect(single.locator(BADGE)).to_have_text("Queued", timeout=30_000)
    expect(single.locator(".jw-state-message")).not_to_be_empty()

    cases = {"foreach": fanout, "condition": gate, "child": parent, "timeout": slow, "queued": single}
    for case, panel in cases.items():
        shot(panel, artifacts_dir, f"runmodel-{case}-light.png")
    shot(fanout.locator(".jw-taskviews"), artifacts_dir, "timeline-foreach-light.png")
    _to_theme(page, "JupyterLab Dark")
    for case, panel in cases.items():
        shot(panel, artifacts_dir, f"runmodel-{case}-dark.png")
    _to_theme(page, "JupyterLab Light")
