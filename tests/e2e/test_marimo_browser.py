"""``JobPanel`` in marimo, in real Chromium: ``marimo run`` on 127.0.0.1 against the sandbox.

The app is the shipped demo (notebooks/marimo_demo.py), served by its own marimo server
(the fixture below mirrors conftest's JupyterLab one: free port, isolated home, the
sandbox's variables, always stopped). The test drives the panel like a user and checks
the sandbox's own record of the run (the truth). The screenshot goes to ``E2E_ARTIFACTS``
(copied to docs/images/marimo-panel.png).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jobs_widgets.sandbox import Sandbox

from tests.e2e.conftest import _free_port, _server_env, _wait_http_ok

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "notebooks" / "marimo_demo.py"
PANEL = ".jw-panel:not(.jw-static)"
BADGE = ".jw-status .jw-state"
QUICK = {"queue_s": 0.5, "setup_s": 1.0, "cleanup_s": 1.0}


@pytest.fixture(scope="module")
def marimo(tmp_path_factory: pytest.TempPathFactory, sandbox: Sandbox) -> Iterator[SimpleNamespace]:
    """``marimo run`` of the demo app for this module, stopped (with its kernel) at the end."""
    base = tmp_path_factory.mktemp("marimo")
    app = base / APP.name
    shutil.copy(APP, app)
    env = _server_env(base, sandbox)
    env["PYTHONPATH"] = str(ROOT)
    env["MARIMO_SKIP_UPDATE_CHECK"] = "1"
    port, log = _free_port(), base / "marimo.log"
    cmd = [
        sys.executable,
        "-m",
        "marimo",
        "-q",
        "-y",
        "run",
        str(app),
        "--headless",
        "--host=127.0.0.1",
        f"--port={port}",
        "--no-token",
        "--no-sandbox",
    ]
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            cmd,
            cwd=base,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http_ok(f"{url}/health", proc, log, timeout=90)
        yield SimpleNamespace(url=url, log=log)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_panel_runs_and_cancels_in_marimo(
    marimo: SimpleNamespace, sandbox: Sandbox, page: Any, artifacts_dir: Path
) -> None:
    from playwright.sync_api import expect

    from tests.e2e.test_panel_browser import new_run, run_ids, start_run, wait_for

    before = run_ids(sandbox, "etl")
    latest = max(before)
    page.goto(marimo.url)
    panel = page.locator(PANEL)  # Playwright's locators pierce marimo's shadow roots
    badge = panel.locator(BADGE)
    expect(panel.locator(".jw-run-link")).to_have_text(f"Run {latest}", timeout=60_000)

    # Run (a job without parameters: no form): the panel follows the new run to its end.
    sandbox.engine.script("etl", duration_s=2, outcome="SUCCESS", **QUICK)
    start_run(panel)
    done = new_run(sandbox, "etl", before)
    expect(panel.locator(".jw-run-link")).to_have_text(f"Run {done.run_id}")
    wait_for(f"run {done.run_id} to end", lambda: sandbox.engine.run(done.run_id).is_terminal)
    expect(badge).to_have_text("Succeeded")
    expect(panel).to_have_attribute("data-state", "SUCCEEDED")

    # Run again, then Cancel (confirmed): the sandbox cancels it and the badge says so.
    sandbox.engine.script("etl", duration_s=600, **QUICK)
    before = run_ids(sandbox, "etl")
    start_run(panel)
    long_run = new_run(sandbox, "etl", before)
    expect(badge).to_have_text("Running")
    panel.locator(".jw-cancel").click()
    panel.locator(".jw-cancel-confirm").click()
    wait_for(
        f"run {long_run.run_id} to be canceled",
        lambda: sandbox.engine.run(long_run.run_id).result == "CANCELED",
    )
    expect(badge).to_have_text("Canceled")
    expect(panel.locator(".jw-error")).to_be_hidden()

    out = artifacts_dir / "marimo-panel.png"
    panel.screenshot(path=str(out))
    assert out.stat().st_size > 10_000

    # marimo's dark theme (the classes it puts on <body>): the panel follows marimo's tokens.
    light = luminance(panel)
    page.evaluate("() => document.body.classList.add('dark', 'dark-theme')")
    dark = luminance(panel)
    assert light["bg"] > 0.9 and light["fg"] < 0.1, light
    assert dark["bg"] < 0.05 and dark["fg"] > 0.7, dark


def luminance(panel: Any) -> dict[str, float]:
    """The relative luminance (WCAG) of the panel's background and text colours."""
    return panel.evaluate(
        """(el) => {
            const lum = (css) => {
                const [r, g, b] = css.match(/[0-9.]+/g).slice(0, 3).map((v) => {
                    const c = Number(v) / 255;
                    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
                });
                return 0.2126 * r + 0.7152 * g + 0.0722 * b;
            };
            const cs = getComputedStyle(el);
            return { bg: lum(cs.backgroundColor), fg: lum(cs.color) };
        }"""
    )
