import { describe, expect, it } from "vitest";
import { FakeModel, T0, click, makeRun, press, viewsUnmountedAfterEachTest } from "./helpers.js";
import { createMatrix, normalizeMatrix } from "../src/matrix.js";
import { stateLabel, stateTone } from "../src/rules.js";

const view = viewsUnmountedAfterEachTest();
const STATES = ["QUEUED", "PENDING", "RUNNING", "TERMINATING", "BLOCKED", "WAITING_FOR_RETRY", "SUCCEEDED", "FAILED",
  "CANCELED", "TIMED_OUT", "SKIPPED", "INTERNAL_ERROR", "UNKNOWN"];
const code = (/** @type {string} */ s) => STATES.indexOf(s);

/** The `matrix` trait (core/taskviews.py matrix_view) of `runs` runs x `tasks` tasks. */
function matrix(runs = 3, tasks = 2) {
  return {
    outcomes: STATES.map((s) => [s, "", ""]),
    runs: Array.from({ length: runs }, (_, r) => ({
      run_id: 100 + r, state: r === 1 ? "FAILED" : "SUCCEEDED", start_ms: T0 + r * 60_000, duration_ms: 60_000 + r * 1000,
    })),
    tasks: Array.from({ length: tasks }, (_, t) => `task_${t}`),
    cells: Array.from({ length: tasks }, (_, t) =>
      Array.from({ length: runs }, (_, r) => (r === 1 && t === 1 ? code("FAILED") : r === 2 && t === 0 ? -1 : code("SUCCEEDED")))),
    durations: Array.from({ length: tasks }, (_, t) => Array.from({ length: runs }, (_, r) => 1000 * (t + 1) + r)),
  };
}

/** A pointer reaching `el` (tooltips of cells are written then). @param {Element} el */
const hover = (el) => el.dispatchEvent(new Event("pointerover", { bubbles: true }));

/** @param {ReturnType<typeof view>} v */
const openMatrix = (v) => click(/** @type {HTMLElement} */ (v.$(".jw-tv-tabs").querySelectorAll("button")[1]));

describe("runs x tasks matrix", () => {
  it("shows runs as columns (oldest left), tasks as rows, cells toned by state and said in words", () => {
    const v = view(new FakeModel({ matrix: matrix(), run: makeRun({ run_id: 101 }) }));
    openMatrix(v);
    const rows = v.$$(".jw-mx-row[data-task]");
    expect(rows.map((r) => r.dataset.task)).toEqual(["task_0", "task_1"]);
    const runs = v.$$(".jw-mx-run");
    expect(runs.map((b) => b.dataset.runId)).toEqual(["100", "101", "102"]);
    expect(runs[1].dataset.tone).toBe(stateTone("FAILED"));
    expect(runs[1].getAttribute("aria-label")).toBe(`Run 101: ${stateLabel("FAILED")}, 1m 01s`);
    expect(runs[1].classList.contains("jw-mx-run--shown")).toBe(true); // the run the panel shows
    const cells = (/** @type {number} */ t) => Array.from(rows[t].querySelectorAll(".jw-mx-cell")).map((c) => /** @type {HTMLElement} */ (c));
    expect(cells(1)[1].dataset.tone).toBe("error");
    expect(cells(1)[1].title).toBe("");
    hover(cells(1)[1]);
    hover(cells(0)[2]);
    expect(cells(1)[1].title).toBe(`task_1 in run 101: ${stateLabel("FAILED")}, 2s`);
    expect(cells(0)[2].dataset.tone).toBeUndefined();
    expect(cells(0)[2].title).toBe("task_0 in run 102: did not run");
    expect(v.$(".jw-mx-summary").textContent).toBe("3 runs x 2 tasks, oldest left, 1 failed. Pick a run to show it.");
    // one sparkline per task and one for the runs, each with a spoken summary
    const sparks = v.$$(".jw-mx-spark");
    expect(sparks.length).toBe(3);
    expect(sparks[0].getAttribute("aria-label")).toBe("Run durations: median 1m 01s, longest 1m 02s");
    expect(Array.from(sparks[1].children).map((b) => /** @type {HTMLElement} */ (b).style.height)).toEqual(["100%", "100%", "100%"].map((_, r) => `${Math.round((100 * (1000 + r)) / 1002)}%`));
  });

  it("words a cell as Python does where it says more than the state (Upstream failed)", () => {
    const m = matrix();
    m.outcomes.push(["SKIPPED", "Upstream failed", "neutral"]);
    m.cells[1][2] = m.outcomes.length - 1;
    const v = view(new FakeModel({ matrix: m }));
    const cell = v.$$(".jw-mx-row[data-task]")[1].querySelectorAll(".jw-mx-cell")[2];
    hover(cell);
    expect(/** @type {HTMLElement} */ (cell).title).toBe("task_1 in run 102: Upstream failed, 2s");
    expect(/** @type {HTMLElement} */ (cell).dataset.tone).toBe("neutral");
  });

  it("a click on a cell or a run asks Python to show that run (the select command)", () => {
    const v = view(new FakeModel({ matrix: matrix() }));
    openMatrix(v);
    click(/** @type {HTMLElement} */ (v.$$(".jw-mx-row[data-task]")[1].querySelectorAll(".jw-mx-cell")[1]));
    click(v.$$(".jw-mx-run")[0]);
    expect(v.model.sent.filter((m) => m.kind === "select")).toEqual([{ kind: "select", run_id: 101 }, { kind: "select", run_id: 100 }]);
  });

  it("runs are one tab stop; arrows, Home and End move along them", () => {
    const v = view(new FakeModel({ matrix: matrix(5) }));
    openMatrix(v);
    const runs = v.$$(".jw-mx-run");
    expect(runs.filter((b) => b.tabIndex === 0)).toEqual([runs[4]]); // the newest
    runs[4].focus();
    press(runs[4], "ArrowLeft");
    expect(document.activeElement).toBe(runs[3]);
    press(runs[3], "Home");
    expect(document.activeElement).toBe(runs[0]);
    press(runs[0], "Enter"); // a button: Enter clicks it in a browser; here only no move
    expect(runs.filter((b) => b.tabIndex === 0)).toEqual([runs[0]]);
  });

  it("a state update rewrites only the cells that changed, keeping the elements", () => {
    const v = view(new FakeModel({ matrix: matrix(200, 50) }));
    openMatrix(v);
    expect(v.$$(".jw-mx-cell").length).toBe(200 * 50);
    const before = v.$$(".jw-mx-cell");
    hover(before[before.length - 1]); // its tooltip, once written, follows updates
    const next = matrix(200, 50);
    next.cells[49][199] = code("RUNNING");
    next.durations[49][199] = /** @type {any} */ (null);
    v.model.update({ matrix: next });
    const after = v.$$(".jw-mx-cell");
    expect(after[after.length - 1]).toBe(before[before.length - 1]);
    expect(after[after.length - 1].dataset.tone).toBe(stateTone("RUNNING"));
    expect(after[after.length - 1].title).toBe(`task_49 in run 299: ${stateLabel("RUNNING")}`);
  });

  it("a new run rebuilds the columns; junk is held to the shape", () => {
    const m = createMatrix({ onSelect: () => {} });
    m.update(matrix(2), null);
    expect(m.el.querySelectorAll(".jw-mx-run").length).toBe(2);
    m.update(matrix(3), null);
    expect(m.el.querySelectorAll(".jw-mx-run").length).toBe(3);
    const junk = normalizeMatrix({ outcomes: STATES.map((s) => [s, "", ""]), runs: [{ run_id: 1, state: "SUCCEEDED" }, { run_id: "x" }], tasks: ["a"], cells: [[6, 7, 8]], durations: "no" });
    expect(junk.runs.length).toBe(1);
    expect(junk.cells).toEqual([[6]]);
    expect(junk.durations).toEqual([[null]]);
    m.update(null, null);
    expect(m.el.querySelector(".jw-mx-summary")?.textContent).toBe("No runs to compare yet.");
  });
});

describe("hostile task keys and run data", () => {
  it("stay text in both views: no element, attribute or handler comes from data", () => {
    const key = '<img src=x onerror="alert(1)">';
    const m = matrix(2, 1);
    m.tasks = [key];
    const timeline = {
      run_id: 1, is_terminal: true, start_ms: T0, end_ms: T0 + 1000,
      tasks: [{ key, state: "<b>", label: "<script>x</script>", tone: "javascript:", start_ms: T0, end_ms: T0 + 1000,
        elapsed_ms: 1000, phases: { "<svg>": 5 }, usual_ms: null, slow_after_ms: null, depends_on: [key], iterations: null },
      { key: "b", state: "SUCCEEDED", start_ms: null, end_ms: null, elapsed_ms: null, phases: null, usual_ms: null,
        slow_after_ms: null, depends_on: [], iterations: null }],
    };
    const v = view(new FakeModel({ matrix: m, timeline }));
    expect(v.el.querySelectorAll("img, script, svg, b")).toHaveLength(0);
    expect(v.$(".jw-tl-key").textContent).toBe(key);
    expect(v.$(".jw-tl-row").getAttribute("aria-label")).toContain("<script>x</script>");
    expect(v.$(".jw-tl-bar").dataset.tone).toBe(stateTone("UNKNOWN")); // an unknown tone falls back
    expect(v.$(".jw-mx-row[data-task] .jw-mx-key").textContent).toBe(key);
    for (const el of Array.from(v.el.querySelectorAll("*"))) {
      for (const attr of Array.from(el.attributes)) expect(attr.name.startsWith("on")).toBe(false);
    }
  });
});
