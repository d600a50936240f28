"""Every ``%jobs`` magic's HTML keeps 4.5:1 contrast in JupyterLab's light and dark themes,
measured in Chromium on what is really drawn (issue 16 point 6: "Running" 3.64:1 and
"Succeeded" 3.72:1 on the dark theme), the way the panel's contrast is measured.

For every element of a magic's output that draws text, its computed colour is taken
against the background really behind it (its own and its ancestors' backgrounds
composited), both resolved by the browser (``color-mix`` and theme variables included).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jobs_widgets.sandbox import Sandbox

from tests.e2e.test_panel_browser import (  # noqa: F401  (notebook and default_theme_after are fixtures)
    SETUP,
    contrast,
    default_theme_after,
    notebook,
    open_in_lab,
    run_all,
    shot,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

# Every text-drawing element of each HTML output: [output index, text, colour, background].
TEXT_COLOURS_JS = """
() => {
  const ctx = document.createElement("canvas").getContext("2d", { willReadFrequently: true });
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = "#000"; ctx.fillStyle = css; ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
    return [r, g, b, a / 255];
  };
  const background = (node) => {
    const layers = [];
    for (let n = node; n instanceof Element; n = n.parentElement) layers.push(rgba(getComputedStyle(n).backgroundColor));
    let out = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse()) out = [r * a + out[0] * (1 - a), g * a + out[1] * (1 - a), b * a + out[2] * (1 - a)];
    return out;
  };
  const outputs = Array.from(document.querySelectorAll(".jp-OutputArea-output.jp-RenderedHTMLCommon"));
  const found = [];
  outputs.forEach((output, index) => {
    for (const el of output.querySelectorAll("*")) {
      const own = Array.from(el.childNodes).filter((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim() !== "");
      if (own.length === 0 || el.getClientRects().length === 0) continue;
      const style = getComputedStyle(el);
      const [r, g, b, a] = rgba(style.color);
      const bg = background(el);
      const fg = [r * a + bg[0] * (1 - a), g * a + bg[1] * (1 - a), b * a + bg[2] * (1 - a)];
      found.push([index, own.map((n) => n.textContent.trim()).join(" ").slice(0, 40), fg, bg]);
    }
  });
  const button = document.querySelector(".jw-panel:not(.jw-static) .jw-run");
  const run = button ? [rgba(getComputedStyle(button).color).slice(0, 3), background(button)] : null;
  return { outputs: outputs.length, found, run };
}
"""


def _worst(found: list[list[Any]]) -> dict[int, tuple[float, str]]:
    worst: dict[int, tuple[float, str]] = {}
    for index, text, fg, bg in found:
        ratio = contrast(fg, bg)
        if index not in worst or ratio < worst[index][0]:
            worst[index] = (ratio, text)
    return worst


def test_every_magics_html_keeps_4_5_to_1_in_light_and_dark(
    jupyter: SimpleNamespace,
    sandbox: Sandbox,
    notebook: Any,  # noqa: F811
    default_theme_after: None,  # noqa: F811
    page: Any,
    artifacts_dir: Path,
) -> None:
    failed = next(
        r for key in ("etl", "train") for r in reversed(sandbox.engine.runs_of(key)) if r.result == "FAILED"
    )
    sandbox.engine.script("report", duration_s=600, queue_s=0.5, setup_s=0.5)
    cells = [
        SETUP,
        "%jobs list",
        "%jobs runs etl -n 8",
        "%jobs status etl",
        f"%jobs status {failed.job.spec.key} {failed.run_id}",
        f"%jobs output {failed.job.spec.key} {failed.run_id}",
        "r = %jobs run report --timeout 1 --wait",  # a running run's summary
        "%jobs status report",
        "%jobs config",
        "%jobs help",
        "from jobs_widgets import JobPanel\nJobPanel('etl')",  # its primary button, measured too
    ]
    name = notebook(cells)
    open_in_lab(page, jupyter, name)
    run_all(page)
    page.wait_for_function(
        "(n) => document.querySelectorAll('.jp-OutputArea-output.jp-RenderedHTMLCommon').length >= n",
        arg=7,
        timeout=90_000,
    )
    page.wait_for_selector(".jw-panel:not(.jw-static) .jw-run", timeout=60_000)
    page.wait_for_timeout(1500)  # the last cells' outputs settle
    results = {}
    for theme, light in (("JupyterLab Light", "true"), ("JupyterLab Dark", "false")):
        page.evaluate(
            f"() => window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{theme}'}})"
        )
        page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'")
        page.wait_for_timeout(800)  # the theme's CSS lands just after the attribute flips
        measured = page.evaluate(TEXT_COLOURS_JS)
        assert measured["outputs"] >= 7, measured["outputs"]
        results[theme] = _worst(measured["found"])
        assert measured["run"] is not None, "the panel's Run button is on the page"
        results[theme][-1] = (contrast(*measured["run"]), "the panel's Run button")
        if light == "false":
            shot(page.locator(".jp-NotebookPanel"), artifacts_dir, "magics-dark.png")
    report = {
        theme: {i: f"{r:.2f} ({t!r})" for i, (r, t) in worst.items()} for theme, worst in results.items()
    }
    print("\nworst contrast per magic output:", report)
    for theme, worst in results.items():
        low = {i: (round(r, 2), t) for i, (r, t) in worst.items() if r < 4.5}
        assert not low, f"{theme}: {low}"
