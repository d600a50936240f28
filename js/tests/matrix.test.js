import { describe, expect, it } from "vitest";
import { FakeModel, T0, click, makeRun, press, viewsUnmountedAfterEachTest } from "./helpers.js";
import { PITCH_PX, createMatrix, normalizeMatrix } from "../src/matrix.js";
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

/** The strip of cells of task row `t`. @param {ReturnType<typeof view>} v @param {number} t */
const strip = (v, t) => /** @type {HTMLElement} */ (v.$$(".jw-mx-row[data-task]")[t].querySelector(".jw-mx-strip"));
/** The tones of a strip's cells, in words ("none": did not run). @param {HTMLElement} el */
const tones = (el) => (el.dataset.tones ?? "").split(" ");
/** The pointer over cell `col` of a strip (its tooltip is written then). @param {HTMLElement} el @param {number} col */
const hover = (el, col) =>
  el.dispatchEvent(new MouseEvent("pointerover", { bubbles: true, clientX: el.getBoundingClientRect().left + col * PITCH_PX + 3 }));
/** A click on cell `col` of a strip. @param {HTMLElement} el @param {number} col */
const clickCell = (el, col) =>
  el.dispatchEvent(new MouseEvent("click", { bubbles: true, clientX: el.getBoundingClientRect().left + col * PITCH_PX + 3 }));

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
    expect(tones(strip(v, 1))).toEqual(["success", "error", "success"]);
    expect(tones(strip(v, 0))).toEqual(["success", "success", "none"]);
    expect(strip(v, 1).style.backgroundImage).toContain("var(--jw-error) 11px 21px");
    expect(strip(v, 1).title).toBe("");
    hover(strip(v, 1), 1);
    expect(strip(v, 1).title).toBe(`task_1 in run 101: ${stateLabel("FAILED")}, 2s`);
    hover(strip(v, 0), 2);
    expect(strip(v, 0).title).toBe("task_0 in run 102: did not run");
    hover(strip(v, 0), 7); // past the last run: no cell
    expect(strip(v, 0).title).toBe("");
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
    hover(strip(v, 1), 2);
    expect(strip(v, 1).title).toBe("task_1 in run 102: Upstream failed, 2s");
    expect(tones(strip(v, 1))[2]).toBe("neutral");
  });

  it("a click on a cell or a run asks Python to show that run (the select command)", () => {
    const v = view(new FakeModel({ matrix: matrix() }));
    openMatrix(v);
    clickCell(strip(v, 1), 1);
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

  it("200 runs x 50 tasks are 50 strips, and a state update repaints only the row that changed", () => {
    const v = view(new FakeModel({ matrix: matrix(200, 50) }));
    openMatrix(v);
    const before = v.$$(".jw-mx-strip");
    expect(before.length).toBe(50);
    expect(tones(before[49]).length).toBe(200);
    const untouched = before[0].style.backgroundImage;
    const next = matrix(200, 50);
    next.cells[49][199] = code("RUNNING");
    next.durations[49][199] = /** @type {any} */ (null);
    before[0].style.backgroundImage = "none"; // a row repainted would lose this mark
    v.model.update({ matrix: next });
    const after = v.$$(".jw-mx-strip");
    expect(after[49]).toBe(before[49]);
    expect(tones(after[49])[199]).toBe(stateTone("RUNNING"));
    expect(after[0].style.backgroundImage).toBe("none"); // not repainted
    hover(after[49], 199);
    expect(after[49].title).toBe(`task_49 in run 299: ${stateLabel("RUNNING")}`);
    expect(untouched).toContain("linear-gradient");
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
