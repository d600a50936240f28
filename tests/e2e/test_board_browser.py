"""The jobs board (issue 13) in real Chromium: JupyterLab against the sandbox.

``%jobs board`` over the seven demo jobs with some of them running: Run starts a run
(checked against the sandbox's record) and the board shows it; Open shows a live panel
of that job under the board; the board is keyboard reachable. Screenshots of the board
mid-activity in the light and dark themes go to ``E2E_ARTIFACTS`` (copied to docs/images).
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jobs_widgets.sandbox import Sandbox

from tests.e2e.test_panel_browser import (  # noqa: F401  (notebook and default_theme_after are fixtures)
    QUICK,
    SETUP,
    contrast,
    default_theme_after,
    new_run,
    notebook,
    open_in_lab,
    run_all,
    run_ids,
    shot,
)
from tests.e2e.test_task_views_browser import to_dark

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

BOARD = ".jw-board"
ACTIVE = re.compile(r"^(Queued|Pending|Running)")
LONG = {**QUICK, "duration_s": 900}


# Text colour (its alpha composited) and what is really behind it (backgrounds composited
# up the tree over white), resolved through a canvas, for the first element of each selector in the board.
COLOURS_JS = """
(board, selectors) => {
  const ctx = document.createElement("canvas").getContext("2d", { willReadFrequently: true });
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = "#000"; ctx.fillStyle = css; ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
    return [r, g, b, a / 255];
  };
  const behind = (node) => {
    const layers = [];
    for (let n = node; n instanceof Element; n = n.parentElement) layers.push(rgba(getComputedStyle(n).backgroundColor));
    let out = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse()) out = [r * a + out[0] * (1 - a), g * a + out[1] * (1 - a), b * a + out[2] * (1 - a)];
    return out;
  };
  return Object.fromEntries(selectors.map((sel) => {
    const el = board.querySelector(sel);
    const background = behind(el);
    const [r, g, b, a] = rgba(getComputedStyle(el).color);  // text drawn over what is behind it
    const text = [r * a + background[0] * (1 - a), g * a + background[1] * (1 - a), b * a + background[2] * (1 - a)];
    return [sel, { text, background }];
  }));
}
"""
READ = (
    ".jw-board-title",
    ".jw-board-time",
    ".jw-board-rate",
    ".jw-state-label",
    ".jw-board-run",
    ".jw-board-open",
)


def contrasts(board: Any) -> dict[str, float]:
    colours = board.evaluate(COLOURS_JS, list(READ))
    return {sel: round(contrast(c["text"], c["background"]), 2) for sel, c in colours.items()}


def row(board: Any, key: str) -> Any:
    return board.locator(f".jw-board-row[data-key='{key}']")


def test_board_actions_and_screenshots(
    jupyter: SimpleNamespace,
    sandbox: Sandbox,
    notebook: Any,  # noqa: F811
    default_theme_after: None,  # noqa: F811
    page: Any,
    artifacts_dir: Path,
) -> None:
    from playwright.sync_api import expect

    for key in ("train", "nightly", "dbt"):  # mid-activity: three jobs running when the board opens
        sandbox.engine.script(key, **LONG)
    sandbox.engine.script("report", **LONG)  # the run the Run button starts
    start = "from jobs_widgets.core.jobs import default_jobs\nfor k in ('train', 'nightly', 'dbt'):\n    default_jobs()(k).run_now()"
    name = notebook([SETUP, start, "%jobs board --interval 2"])
    before = run_ids(sandbox, "report")
    open_in_lab(page, jupyter, name)
    run_all(page)
    board = page.locator(BOARD)
    expect(board.locator(".jw-board-row")).to_have_count(7, timeout=60_000)
    for key in ("train", "nightly", "dbt"):
        expect(row(board, key).locator(".jw-state-label")).to_have_text(ACTIVE, timeout=60_000)
    expect(row(board, "etl").locator(".jw-board-cell").first).to_be_attached()  # history strips
    expect(row(board, "etl").locator(".jw-board-rate")).to_have_text(re.compile(r"^\d+% ok of \d+$"))

    # Run, from the keyboard: Tab reaches the button, Enter presses it
    run_button = row(board, "report").locator(".jw-board-run")
    run_button.focus()
    page.keyboard.press("Enter")
    run = new_run(sandbox, "report", before)
    expect(row(board, "report").locator(".jw-state-label")).to_have_text(ACTIVE, timeout=30_000)
    expect(row(board, "report").locator(".jw-board-open")).to_be_enabled()
    expect(board.locator("[aria-live]")).to_contain_text("report:")
    assert run.run_id in {r.run_id for r in sandbox.engine.runs_of("report")}
    for key in ("train", "nightly", "dbt", "report"):  # running, with a bar against the usual duration
        expect(row(board, key).locator(".jw-state-label")).to_have_text("Running", timeout=60_000)
        expect(row(board, key).locator(".jw-progress")).to_be_visible()
    expect(row(board, "train").locator(".jw-board-time")).to_contain_text("usually", timeout=30_000)
    expect(board.locator(".jw-board-status")).to_have_text("7 jobs · 4 running")
    shot(board, artifacts_dir, "board-light.png")
    light = contrasts(board)

    # Open: a live panel of that job, showing the run the row shows, under the board
    row(board, "report").locator(".jw-board-open").click()
    panel = page.locator(".jw-panel:not(.jw-static):not(.jw-board)")
    expect(panel).to_have_count(1, timeout=30_000)
    expect(panel.locator(".jw-run-link")).to_have_text(f"Run {run.run_id}", timeout=30_000)

    to_dark(page, board)
    shot(board, artifacts_dir, "board-dark.png")
    dark = contrasts(board)
    print(f"board contrast light {light} dark {dark}")
    for theme in (light, dark):
        assert min(theme.values()) >= 4.5, theme  # WCAG AA for text
