"""The task timeline and the runs x tasks matrix (issue 13) in real Chromium.

In JupyterLab against the sandbox: the timeline of a running nine-task run (bars
appear and grow as the workspace runs the tasks), of a failed one, and the matrix
click-through (a click on an old run's cell makes the panel show that run, checked
against the sandbox's record). And in a bare page, with the Performance API: the
matrix of 200 runs x 50 tasks (data shaped by ``core.taskviews.matrix_view`` from
API-shaped runs) renders, and a state update repaints, within budget; the numbers
are printed (``-s``). Screenshots go to ``E2E_ARTIFACTS`` (copied to docs/images).
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jobs_widgets.core import Run
from jobs_widgets.core.taskviews import matrix_view, timeline_view
from jobs_widgets.sandbox import Sandbox
from jobs_widgets.sandbox.specs import Behaviour, JobSpec, TaskSpec

from tests.e2e.test_panel_browser import (  # noqa: F401  (notebook and default_theme_after are fixtures)
    BADGE,
    PANEL,
    QUICK,
    default_theme_after,
    new_run,
    notebook,
    open_in_lab,
    run_all,
    run_ids,
    shot,
    start_run,
    wait_for,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

STATIC = Path(__file__).resolve().parents[2] / "jobs_widgets" / "static"


def _nb(path: str) -> dict[str, Any]:
    return {"notebook_path": f"/Workspace/warehouse/{path}", "source": "WORKSPACE"}


def warehouse_spec() -> JobSpec:
    """Nine tasks: three parallel extracts, a join, two aggregates, publish, notify."""
    t = [
        TaskSpec("extract_orders", "notebook", _nb("extract_orders"), weight=1.0),
        TaskSpec("extract_customers", "notebook", _nb("extract_customers"), weight=0.6),
        TaskSpec("extract_products", "notebook", _nb("extract_products"), weight=0.4),
        TaskSpec("clean_orders", "notebook", _nb("clean_orders"), ["extract_orders"], weight=0.8),
        TaskSpec(
            "join",
            "notebook",
            _nb("join"),
            ["clean_orders", "extract_customers", "extract_products"],
            weight=1.2,
        ),
        TaskSpec("aggregate_daily", "notebook", _nb("aggregate_daily"), ["join"], weight=0.7),
        TaskSpec("aggregate_weekly", "notebook", _nb("aggregate_weekly"), ["join"], weight=1.0),
        TaskSpec("publish", "notebook", _nb("publish"), ["aggregate_daily", "aggregate_weekly"], weight=0.4),
        TaskSpec("notify", "notebook", _nb("notify"), ["publish"], weight=0.1),
    ]
    return JobSpec(
        name="warehouse-refresh",
        key="warehouse_tv",
        tasks=t,
        history_runs=50,
        behaviour=Behaviour(median_s=60.0, sigma=0.3, fail_rate=0.1, queue_s=(1.0, 2.0), setup_s=(2.0, 4.0)),
    )


@pytest.fixture(scope="module")
def warehouse(sandbox: Sandbox) -> int:
    """The nine-task job, added to the session's sandbox once (with 50 past runs)."""
    try:
        return sandbox.engine.job_id("warehouse_tv")
    except KeyError:
        return sandbox.engine.add_job(warehouse_spec())


def panel_cells(job_id: int, matrix_runs: int = 15) -> list[str]:
    return [
        "%load_ext jobs_widgets\nfrom jobs_widgets import JobPanel\nfrom jobs_widgets.core import Jobs\n"
        f"jobs = Jobs.from_env(config={{'warehouse': {{'job_id': {job_id}}}}})",
        f"JobPanel(jobs('warehouse'), matrix_runs={matrix_runs})",
    ]


def to_dark(page: Any, panel: Any) -> None:
    page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})"
    )
    page.wait_for_function(
        """(el) => {
            const c = getComputedStyle(el).backgroundColor.match(/[\\d.]+/g).map(Number);
            return c[0] + c[1] + c[2] < 3 * 96;
        }""",
        arg=panel.element_handle(),
    )


# --------------------------------------------------------------------------- JupyterLab
def test_timeline_of_a_running_run(
    jupyter: SimpleNamespace,
    sandbox: Sandbox,
    warehouse: int,
    notebook: Any,  # noqa: F811
    default_theme_after: None,  # noqa: F811
    page: Any,
    artifacts_dir: Path,
) -> None:
    from playwright.sync_api import expect

    name = notebook(panel_cells(warehouse))
    before = run_ids(sandbox, "warehouse_tv")
    sandbox.engine.script("warehouse_tv", duration_s=90, outcome="SUCCESS", **QUICK)
    open_in_lab(page, jupyter, name)
    run_all(page)
    panel = page.locator(PANEL)
    expect(panel.locator(".jw-taskviews")).to_be_visible()
    start_run(panel)  # Run: a job without parameters asks, then starts
    run = new_run(sandbox, "warehouse_tv", before)
    expect(panel.locator(".jw-run-link")).to_have_text(f"Run {run.run_id}")
    rows = panel.locator(".jw-tl-row")
    expect(rows).to_have_count(9)
    # dependency order: the extracts first, notify last; "after" says what a task waits for
    keys = rows.evaluate_all("rows => rows.map(r => r.dataset.key)")
    assert keys.index("join") > max(
        keys.index(k) for k in ("clean_orders", "extract_customers", "extract_products")
    )
    assert keys[-1] == "notify"
    expect(panel.locator(".jw-tl-row[data-key='join'] .jw-tl-deps")).to_have_text(
        "after clean_orders, extract_customers, extract_products"
    )
    # live: the extracts run in parallel, then one finishes while others are still going
    expect(
        panel.locator(".jw-tl-row[data-key='extract_orders'][data-state='RUNNING'] .jw-tl-bar")
    ).to_be_visible(timeout=60_000)
    width = panel.locator(".jw-tl-row[data-key='extract_orders'] .jw-tl-bar").evaluate("b => b.style.width")
    expect(panel.locator(".jw-tl-row[data-state='SUCCEEDED']").first).to_be_visible(timeout=60_000)
    expect(panel.locator(".jw-tl-row[data-state='RUNNING']").first).to_be_visible(timeout=60_000)
    assert wait_for(
        "the sandbox to run a task",
        lambda: any(t.start for t in sandbox.engine.run(run.run_id).tasks.values()),
    )
    assert (
        panel.locator(".jw-tl-row[data-key='extract_orders'] .jw-tl-bar").evaluate("b => b.style.width")
        != width
    )
    expect(panel.locator(".jw-tl-usual").first).to_be_attached()  # 50 past runs: usual durations
    shot(panel.locator(".jw-taskviews"), artifacts_dir, "timeline-running-light.png")
    to_dark(page, panel)
    shot(panel.locator(".jw-taskviews"), artifacts_dir, "timeline-running-dark.png")
    expect(panel.locator(BADGE)).to_have_text("Succeeded", timeout=150_000)
    expect(panel.locator(".jw-tl-row[data-state='SUCCEEDED']")).to_have_count(9)


def test_timeline_of_a_failed_run(
    jupyter: SimpleNamespace,
    sandbox: Sandbox,
    warehouse: int,
    notebook: Any,  # noqa: F811
    page: Any,
    artifacts_dir: Path,
) -> None:
    from playwright.sync_api import expect

    name = notebook(panel_cells(warehouse))
    before = run_ids(sandbox, "warehouse_tv")
    sandbox.engine.script(
        "warehouse_tv", duration_s=25, outcome="FAILED", fail_task="aggregate_weekly", **QUICK
    )
    open_in_lab(page, jupyter, name)
    run_all(page)
    panel = page.locator(PANEL)
    start_run(panel)
    run = new_run(sandbox, "warehouse_tv", before)
    expect(panel.locator(".jw-run-link")).to_have_text(f"Run {run.run_id}")
    expect(panel.locator(BADGE)).to_have_text("Failed", timeout=120_000)
    failed = panel.locator(".jw-tl-row[data-key='aggregate_weekly']")
    expect(failed).to_have_attribute("data-state", "FAILED")
    expect(failed.locator(".jw-tl-bar")).to_have_attribute("data-tone", "error")
    assert sandbox.engine.run(run.run_id).tasks["aggregate_weekly"].result == "FAILED"
    # what never ran after the failure says so, in the panel's words (not "Skipped")
    for key in ("publish", "notify"):
        assert sandbox.engine.run(run.run_id).tasks[key].result == "UPSTREAM_FAILED"
        row = panel.locator(f".jw-tl-row[data-key='{key}']")
        expect(row).to_have_attribute("aria-label", re.compile(rf"^{key}: Upstream failed"))
    shot(panel.locator(".jw-taskviews"), artifacts_dir, "timeline-failed-light.png")


def test_matrix_click_follows_a_run(
    jupyter: SimpleNamespace,
    sandbox: Sandbox,
    warehouse: int,
    notebook: Any,  # noqa: F811
    default_theme_after: None,  # noqa: F811
    page: Any,
    artifacts_dir: Path,
) -> None:
    from playwright.sync_api import expect

    name = notebook(panel_cells(warehouse, matrix_runs=50))
    open_in_lab(page, jupyter, name)
    run_all(page)
    panel = page.locator(PANEL)
    panel.locator(".jw-tv-tab", has_text="Runs x tasks").click()
    runs = panel.locator(".jw-mx-run")
    expect(runs).to_have_count(50)
    expect(panel.locator(".jw-mx-row[data-task]")).to_have_count(9)
    shown = int(panel.locator(".jw-run-link").inner_text().split()[-1])
    expect(panel.locator(".jw-mx-run--shown")).to_have_attribute("data-run-id", str(shown))
    # a failed past run (the truth: the sandbox's record), picked by a click on one of its cells
    record = next(
        r
        for r in reversed(sandbox.engine.runs_of("warehouse_tv"))
        if r.result == "FAILED" and r.run_id != shown
    )
    column = int(panel.locator(f".jw-mx-run[data-run-id='{record.run_id}']").get_attribute("data-col"))
    shot(panel.locator(".jw-taskviews"), artifacts_dir, "matrix-50-light.png")
    # a task's cells are one strip, a band of 11 px per run: click the middle of the column's band
    panel.locator(".jw-mx-row[data-task='join'] .jw-mx-strip").click(position={"x": column * 11 + 5, "y": 6})
    expect(panel.locator(".jw-run-link")).to_have_text(f"Run {record.run_id}")
    expect(panel.locator(BADGE)).to_have_text("Failed")
    expect(panel.locator(".jw-mx-run--shown")).to_have_attribute("data-run-id", str(record.run_id))
    expect(panel.locator(".jw-timeline")).to_be_hidden()  # the matrix stays the view shown
    # keyboard: End goes to the newest run, Enter shows it
    panel.locator(f".jw-mx-run[data-run-id='{record.run_id}']").focus()
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    newest = panel.locator(".jw-mx-run").last.get_attribute("data-run-id")
    expect(panel.locator(".jw-run-link")).to_have_text(f"Run {newest}")
    to_dark(page, panel)
    shot(panel.locator(".jw-taskviews"), artifacts_dir, "matrix-50-dark.png")


# --------------------------------------------------------------------------- performance
PAGE_MODEL_JS = """
async ({ source, css, matrix, timeline }) => {
  const style = document.createElement("style");
  style.textContent = css;
  document.head.append(style);
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const widget = (await import(url)).default;
  const listeners = new Map();
  const state = { job: { key: "wide", job_id: 1, name: "wide", tasks: [], url: null }, run: null, history: [],
    eta: null, health: { status: "ok", message: "", next_retry_at: null }, error: "", params_schema: null,
    pending: "", pending_detail: "", clock: null, timeline, matrix: { states: [], runs: [], tasks: [], cells: [], durations: [] } };
  const model = {
    get: (k) => state[k],
    on: (e, f) => { if (!listeners.has(e)) listeners.set(e, new Set()); listeners.get(e).add(f); },
    off: (e, f) => listeners.get(e)?.delete(f),
    send: () => {},
    update(changes) {
      Object.assign(state, changes);
      for (const k of Object.keys(changes)) for (const f of listeners.get(`change:${k}`) ?? []) f();
    },
  };
  const el = document.createElement("div");
  document.body.append(el);
  widget.render({ model, el });
  el.querySelectorAll(".jw-tv-tab")[1].click();  // the matrix is the view shown
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve(performance.now())));
  await frame();
  // render: the 200 x 50 matrix arrives (a rebuild), through layout, to the next frame
  performance.mark("render-start");
  model.update({ matrix });
  el.querySelector(".jw-mx-grid").getBoundingClientRect();
  performance.mark("render-laid-out");
  const painted = await frame();
  const render = performance.measure("render", "render-start", "render-laid-out").duration;
  const renderToFrame = painted - performance.getEntriesByName("render-start")[0].startTime;
  const cells = Array.from(el.querySelectorAll(".jw-mx-strip")).reduce((n, s) => n + s.dataset.tones.split(" ").length, 0);
  // repaint: one task run changes state (what a live run does), 40 times
  const repaints = [];
  const framed = [];  // to after the next frame (includes waiting for it)
  const outcomes = [...matrix.outcomes, ["RUNNING", "", ""]];
  const codes = [outcomes.length - 1, outcomes.findIndex((o) => o[0] === "SUCCEEDED")];
  for (let i = 0; i < 40; i++) {
    const next = { ...matrix, outcomes, cells: matrix.cells.map((row) => row.slice()) };
    next.cells[i % next.cells.length][next.runs.length - 1] = codes[i % 2];
    const start = performance.now();
    model.update({ matrix: next });
    el.querySelector(".jw-mx-grid").getBoundingClientRect();
    repaints.push(performance.now() - start);
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    framed.push(performance.now() - start);
  }
  const toneOfLast = el.querySelectorAll(".jw-mx-row[data-task]")[39 % matrix.tasks.length]
    .querySelector(".jw-mx-strip").dataset.tones.split(" ")[matrix.runs.length - 1];
  return { render, renderToFrame, cells, repaints, framed, toneOfLast };
}
"""


def wide_runs(runs: int = 200, tasks: int = 50) -> list[Run]:
    """API-shaped runs (newest first, as runs/list answers) of a 50-task job, some failed."""
    out = []
    for n in range(runs):
        start = 1_700_000_000_000 + n * 3_600_000
        failed_task = n % 7 if n % 9 == 0 else -1
        task_list = [
            {
                "task_key": f"task_{t:02}",
                "run_id": n * 1000 + t,
                "state": {
                    "life_cycle_state": "TERMINATED",
                    "result_state": "FAILED" if t == failed_task else "SUCCESS",
                },
                "start_time": start + t * 1000,
                "end_time": start + t * 1000 + 20_000 + (n * 37 + t * 101) % 30_000,
            }
            for t in range(tasks)
        ]
        end = max(int(t["end_time"]) for t in task_list)  # type: ignore[call-overload]
        result = "FAILED" if failed_task >= 0 else "SUCCESS"
        out.append(
            Run.from_api(
                {
                    "job_id": 1,
                    "run_id": 10_000 + n,
                    "state": {"life_cycle_state": "TERMINATED", "result_state": result},
                    "start_time": start,
                    "end_time": end,
                    "tasks": task_list,
                }
            )
        )
    return out[::-1]


def test_matrix_200_by_50_renders_and_repaints_within_budget(page: Any) -> None:
    matrix = matrix_view(wide_runs())
    assert len(matrix["runs"]) == 200 and len(matrix["tasks"]) == 50
    page.goto("about:blank")
    result = page.evaluate(
        PAGE_MODEL_JS,
        {
            "source": (STATIC / "widget.js").read_text(encoding="utf-8"),
            "css": (STATIC / "widget.css").read_text(encoding="utf-8"),
            "matrix": json.loads(json.dumps(matrix)),
            "timeline": None,
        },
    )
    repaint = statistics.median(result["repaints"])
    print(
        f"\nmatrix 200x50 in Chromium: render {result['render']:.1f} ms (to next frame "
        f"{result['renderToFrame']:.1f} ms); state-update repaint median {repaint:.2f} ms, "
        f"max {max(result['repaints']):.2f} ms over {len(result['repaints'])} updates; update to after the "
        f"next frame median {statistics.median(result['framed']):.1f} ms"
    )
    assert result["cells"] == 200 * 50
    assert result["toneOfLast"] == "success"  # the 40th update (even: SUCCEEDED) is what shows
    # Targets: 200 ms and 16 ms; bounds looser for a shared 2-core machine.
    assert result["render"] < 400, result
    # The first painted frame: 50 strips (one gradient each), not 10,000 cells.
    assert result["renderToFrame"] < 1000, result
    assert repaint < 16, result


TIMELINE_JS = """
async ({ source, css, timeline }) => {
  const style = document.createElement("style");
  style.textContent = css;
  document.head.append(style);
  const widget = (await import(URL.createObjectURL(new Blob([source], { type: "text/javascript" })))).default;
  const listeners = new Map();
  const state = { job: { key: "big", job_id: 1, name: "big", tasks: [], url: null }, run: null, history: [], eta: null,
    health: { status: "ok", message: "", next_retry_at: null }, error: "", params_schema: null, pending: "",
    pending_detail: "", clock: null, timeline: null, matrix: {} };
  const model = {
    get: (k) => state[k],
    on: (e, f) => { if (!listeners.has(e)) listeners.set(e, new Set()); listeners.get(e).add(f); },
    off: (e, f) => listeners.get(e)?.delete(f),
    send: () => {},
    update(changes) {
      Object.assign(state, changes);
      for (const k of Object.keys(changes)) for (const f of listeners.get(`change:${k}`) ?? []) f();
    },
  };
  const el = document.createElement("div");
  document.body.append(el);
  widget.render({ model, el });
  const start = performance.now();
  model.update({ timeline });
  el.querySelector(".jw-tl-viewport").getBoundingClientRect();
  const render = performance.now() - start;
  const inDom = el.querySelectorAll(".jw-tl-row").length;
  const viewport = el.querySelector(".jw-tl-viewport");
  const scrolls = [];
  for (let i = 1; i <= 20; i++) {
    const t0 = performance.now();
    viewport.scrollTop = i * 1200;
    viewport.dispatchEvent(new Event("scroll"));
    viewport.getBoundingClientRect();
    scrolls.push(performance.now() - t0);
  }
  const firstKey = el.querySelector(".jw-tl-row").dataset.key;
  return { render, inDom, scrolls, firstKey, scrollTop: viewport.scrollTop };
}
"""


def test_timeline_of_1000_tasks_draws_only_rows_in_view(page: Any) -> None:
    tasks = [
        {
            "task_key": f"task_{i:04}",
            "run_id": 9000 + i,
            "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"},
            "start_time": 1_700_000_000_000 + i * 500,
            "end_time": 1_700_000_000_000 + i * 500 + 20_000,
            "depends_on": [{"task_key": f"task_{i - 1:04}"}] if i else [],
        }
        for i in range(1000)
    ]
    run = Run.from_api(
        {
            "job_id": 1,
            "run_id": 9,
            "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"},
            "start_time": 1_700_000_000_000,
            "end_time": 1_700_000_520_000,
            "tasks": tasks,
        }
    )
    timeline = timeline_view(run, {})
    assert timeline is not None and len(timeline["tasks"]) == 1000
    page.goto("about:blank")
    result = page.evaluate(
        TIMELINE_JS,
        {
            "source": (STATIC / "widget.js").read_text(encoding="utf-8"),
            "css": (STATIC / "widget.css").read_text(encoding="utf-8"),
            "timeline": json.loads(json.dumps(timeline)),
        },
    )
    scroll = statistics.median(result["scrolls"])
    print(
        f"\ntimeline of 1000 tasks in Chromium: render {result['render']:.1f} ms with {result['inDom']} rows "
        f"in the DOM; a scroll step redraws in {scroll:.2f} ms median"
    )
    assert result["inDom"] < 60  # the rows in view (16 at 24 px in 384 px) and a margin
    assert result["firstKey"] != "task_0000" and result["scrollTop"] > 20_000
    assert result["render"] < 200 and scroll < 16, result
