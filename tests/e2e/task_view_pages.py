"""The task views' page harness in a bare Chromium page: data, and what the Performance API measures.

One home for the 200 x 50 matrix and the 1000-task timeline that both the browser tests
(``tests/e2e/test_task_views_browser.py``: what is drawn) and the benchmark
(``bench/task_views.py``: how long it takes, on a shared machine) put on a page.
The widget is loaded from the built ``jobs_widgets/static/widget.js`` with a minimal
model (``get``/``on``/``off``/``update``), so nothing but the front end is timed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jobs_widgets.core import Run
from jobs_widgets.core.taskviews import matrix_view, timeline_view

STATIC = Path(__file__).resolve().parents[2] / "jobs_widgets" / "static"


# The widget on a bare page with a minimal model: `mount(source, css, traits)` is the
# first statement of each harness below, so both put the widget on the page the same way.
_MOUNT_JS = """
  const mount = async (source, css, traits) => {
    const style = document.createElement("style");
    style.textContent = css;
    document.head.append(style);
    const widget = (await import(URL.createObjectURL(new Blob([source], { type: "text/javascript" })))).default;
    const listeners = new Map();
    const state = { job: { key: "big", job_id: 1, name: "big", tasks: [], url: null }, run: null, history: [],
      eta: null, health: { status: "ok", message: "", next_retry_at: null }, error: "", params_schema: null,
      pending: "", pending_detail: "", clock: null, timeline: null, matrix: {}, ...traits };
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
    return { model, el };
  };
"""

PAGE_MODEL_JS = (
    "async ({ source, css, matrix }) => {"
    + _MOUNT_JS
    + """
  const { model, el } = await mount(source, css,
    { matrix: { states: [], runs: [], tasks: [], cells: [], durations: [] } });
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
)


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


TIMELINE_JS = (
    "async ({ source, css, timeline, unwindowed }) => {"
    + _MOUNT_JS
    + """
  // unwindowed: the viewport as tall as its rows, so every row is drawn (the anchor)
  const extra = unwindowed ? " .jw-panel .jw-tl-viewport{max-height:none}" : "";
  const { model, el } = await mount(source, css + extra, {});
  const viewport = el.querySelector(".jw-tl-viewport");
  const start = performance.now();
  model.update({ timeline });
  // the first paint may come before the viewport has a height; the one after layout
  // (what a scroll or the next tick does) is the draw a user sees
  viewport.getBoundingClientRect();
  viewport.dispatchEvent(new Event("scroll"));
  viewport.getBoundingClientRect();
  const render = performance.now() - start;
  const inDom = el.querySelectorAll(".jw-tl-row").length;
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
)


def long_run(tasks: int = 1000) -> Run:
    """One run of a chain of ``tasks`` tasks, each starting 0.5 s after the one before."""
    task_list = [
        {
            "task_key": f"task_{i:04}",
            "run_id": 9000 + i,
            "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"},
            "start_time": 1_700_000_000_000 + i * 500,
            "end_time": 1_700_000_000_000 + i * 500 + 20_000,
            "depends_on": [{"task_key": f"task_{i - 1:04}"}] if i else [],
        }
        for i in range(tasks)
    ]
    return Run.from_api(
        {
            "job_id": 1,
            "run_id": 9,
            "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"},
            "start_time": 1_700_000_000_000,
            "end_time": 1_700_000_000_000 + tasks * 500 + 20_000,
            "tasks": task_list,
        }
    )


def _assets() -> dict[str, str]:
    return {
        "source": (STATIC / "widget.js").read_text(encoding="utf-8"),
        "css": (STATIC / "widget.css").read_text(encoding="utf-8"),
    }


def matrix_page(page: Any, runs: int = 200, tasks: int = 50) -> dict[str, Any]:
    """Draw the runs x tasks matrix, then repaint it 40 times as one cell changes state."""
    matrix = matrix_view(wide_runs(runs, tasks))
    page.goto("about:blank")
    result: dict[str, Any] = page.evaluate(
        PAGE_MODEL_JS, {**_assets(), "matrix": json.loads(json.dumps(matrix))}
    )
    result["shape"] = (len(matrix["runs"]), len(matrix["tasks"]))
    return result


def timeline_page(page: Any, tasks: int = 1000, *, unwindowed: bool = False) -> dict[str, Any]:
    """Draw the timeline of a ``tasks``-task run, then scroll it 20 steps of 50 rows."""
    timeline = timeline_view(long_run(tasks), {})
    assert timeline is not None
    page.goto("about:blank")
    result: dict[str, Any] = page.evaluate(
        TIMELINE_JS, {**_assets(), "timeline": json.loads(json.dumps(timeline)), "unwindowed": unwindowed}
    )
    result["tasks"] = len(timeline["tasks"])
    return result
