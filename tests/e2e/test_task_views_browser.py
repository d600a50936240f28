"""The task timeline and the runs x tasks matrix (issue 13) in real Chromium.

In JupyterLab against the sandbox: the timeline of a running nine-task run (bars
appear and grow as the workspace runs the tasks), of a failed one, and the matrix
click-through (a click on an old run's cell makes the panel show that run, checked
against the sandbox's record). And in a bare page (``task_view_pages``): the matrix of
200 runs x 50 tasks is drawn as one strip per task and a state update repaints the
changed cell; the timeline of 1000 tasks keeps only the rows in view in the DOM as it
scrolls. How long those take is measured by ``bench/task_views.py``, not asserted here.
Screenshots go to ``E2E_ARTIFACTS`` (copied to docs/images).
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jobs_widgets.sandbox import Sandbox
from jobs_widgets.sandbox.specs import Behaviour, JobSpec, TaskSpec

from tests.e2e.task_view_pages import matrix_page, timeline_page
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


# --------------------------------------------------------------------------- large views
# What is drawn, not how fast: the timings are the benchmark's (bench/task_views.py),
# side by side with the unwindowed timeline, because a shared 2-core machine cannot
# hold a 16 ms bound in a test.


def test_matrix_200_by_50_draws_one_strip_per_task_and_repaints_the_changed_cell(page: Any) -> None:
    result = matrix_page(page)
    assert result["shape"] == (200, 50)
    assert result["cells"] == 200 * 50  # every cell has its tone, in 50 strips (one gradient each)
    assert result["toneOfLast"] == "success"  # the 40th update (even: SUCCEEDED) is what shows
    assert len(result["repaints"]) == 40


def test_timeline_of_1000_tasks_draws_only_rows_in_view(page: Any) -> None:
    result = timeline_page(page)
    assert result["tasks"] == 1000
    assert result["inDom"] < 60  # the rows in view (16 at 24 px in 384 px) and a margin
    assert result["firstKey"] != "task_0000" and result["scrollTop"] > 20_000
    # the rows drawn follow the scroll: 20 steps of 50 rows from the top land near row 1000
    assert int(result["firstKey"].removeprefix("task_")) > 950
