import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import board, { rateText, rowState } from "../src/board.js";
import { FakeModel } from "./fake-model.js";

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);

/**
 * @param {Partial<Record<string, any>>} [over]
 * @returns {any}
 */
function row(over = {}) {
  return {
    key: "etl",
    job_id: 1,
    name: "Nightly ETL",
    run: {
      run_id: 7,
      state: "RUNNING",
      label: "Running",
      tone: "active",
      start_time: T0 - 60_000,
      duration_text: "",
      run_page_url: null,
      ticks: true,
      active: true,
      is_terminal: false,
    },
    active_count: 1,
    strip: [
      { run_id: 7, state: "RUNNING", label: "Running", tone: "active", start_time: T0 - 60_000, duration_text: "", run_page_url: null },
      { run_id: 6, state: "FAILED", label: "Failed", tone: "error", start_time: T0 - 900_000, duration_text: "12s", run_page_url: null },
      { run_id: 5, state: "SUCCEEDED", label: "Succeeded", tone: "success", start_time: T0 - 999_000, duration_text: "2m 00s", run_page_url: null },
    ],
    eta: { p10_ms: 100_000, p50_ms: 120_000, p90_ms: 150_000, samples: 5, text: "usually 1m 40s-2m 30s" },
    finished: 4,
    success_rate: 0.75,
    median_text: "2m 00s",
    schedule_text: "cron 0 0 2 * * ? (UTC)",
    error: "",
    loaded: true,
    ...over,
  };
}

/** @param {any[]} jobs */
function boardModel(jobs) {
  return new FakeModel(
    /** @type {any} */ ({ jobs, pending: "", opened: "", error: "", closed: false, clock: { now_ms: T0, rate: 1 } }),
  );
}

/** @type {(() => void)[]} */
const mounted = [];

/** @param {FakeModel} model */
function mount(model) {
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = /** @type {() => void} */ (board.render(/** @type {any} */ ({ model, el })));
  mounted.push(() => {
    cleanup();
    el.remove();
  });
  return el;
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  for (const unmount of mounted.splice(0)) unmount();
  vi.useRealTimers();
});

describe("JobsBoard view", () => {
  it("shows each job's state, progress, strip, stats and schedule", () => {
    const el = mount(boardModel([row(), row({ key: "report", name: "", run: null, strip: [], eta: null, success_rate: null, median_text: "", schedule_text: "" })]));
    const rows = el.querySelectorAll(".jw-board-row");
    expect(rows.length).toBe(2);
    const etl = /** @type {HTMLElement} */ (rows[0]);
    expect(etl.querySelector(".jw-state-label")?.textContent).toBe("Running");
    expect(etl.querySelector(".jw-board-time")?.textContent).toBe("1m 00s · usually 1m 40s-2m 30s");
    expect(etl.querySelector(".jw-progress")?.getAttribute("aria-valuenow")).toBe("50");
    const cells = Array.from(etl.querySelectorAll(".jw-board-cell")).map((c) => c.getAttribute("data-tone"));
    expect(cells).toEqual(["success", "error", "active"]); // oldest first
    expect(etl.querySelector(".jw-board-rate")?.textContent).toBe("75% ok of 4");
    expect(etl.querySelector(".jw-board-median")?.textContent).toBe("median 2m 00s");
    expect(etl.querySelector(".jw-board-schedule")?.textContent).toBe("cron 0 0 2 * * ? (UTC)");
    const report = /** @type {HTMLElement} */ (rows[1]);
    expect(report.querySelector(".jw-state-label")?.textContent).toBe("No runs yet");
    expect(/** @type {HTMLElement} */ (report.querySelector(".jw-progress")).hidden).toBe(true);
    expect(el.querySelector(".jw-board-status")?.textContent).toBe("2 jobs · 1 running");
  });

  it("ticks the elapsed time and progress on the jobs' clock", () => {
    const el = mount(boardModel([row()]));
    vi.advanceTimersByTime(30_000);
    expect(el.querySelector(".jw-board-time")?.textContent).toMatch(/^1m 30s/);
    expect(el.querySelector(".jw-progress")?.getAttribute("aria-valuenow")).toBe("75");
    vi.advanceTimersByTime(70_000);
    expect(el.querySelector(".jw-progress")?.classList.contains("jw-progress--overdue")).toBe(true);
  });

  it("sends run and open for the row's job, and says a run is starting", () => {
    const model = boardModel([row()]);
    const el = mount(model);
    /** @type {HTMLButtonElement} */ (el.querySelector(".jw-board-run")).click();
    /** @type {HTMLButtonElement} */ (el.querySelector(".jw-board-open")).click();
    expect(model.sent.filter((m) => m.kind !== "visibility")).toEqual([
      { kind: "run", key: "etl" },
      { kind: "open", key: "etl", run_id: 7 },
    ]);
    model.update({ pending: "etl" });
    const run = /** @type {HTMLButtonElement} */ (el.querySelector(".jw-board-run"));
    expect(run.disabled).toBe(true);
    expect(run.textContent).toBe("Starting…");
    expect(run.getAttribute("aria-label")).toBe("Run etl");
  });

  it("announces state changes in a live region and keeps focus on an unchanged row", () => {
    const model = boardModel([row(), row({ key: "dbt" })]);
    const el = mount(model);
    const dbtOpen = /** @type {HTMLButtonElement} */ (el.querySelectorAll(".jw-board-open")[1]);
    dbtOpen.focus();
    const done = { ...row().run, state: "SUCCEEDED", label: "Succeeded", tone: "success", ticks: false, active: false, is_terminal: true, duration_text: "2m 01s" };
    model.update({ jobs: [row({ run: done }), row({ key: "dbt" })] });
    expect(el.querySelector("[aria-live]")?.textContent).toBe("etl: Succeeded");
    expect(document.activeElement).toBe(dbtOpen);
    expect(el.querySelector(".jw-board-time")?.textContent).toBe("2m 01s");
    expect(/** @type {HTMLElement} */ (el.querySelector(".jw-progress")).hidden).toBe(true);
  });

  it("shows errors in an alert and hostile text as text", () => {
    const model = boardModel([row({ key: "<img src=x onerror=alert(1)>", name: "<b>x</b>" })]);
    const el = mount(model);
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector(".jw-board-job")?.textContent).toContain("<img");
    model.update({ error: "'x' is not on this board (it shows: etl)" });
    const alert = /** @type {HTMLElement} */ (el.querySelector("[role=alert]"));
    expect(alert.hidden).toBe(false);
    expect(alert.textContent).toBe("'x' is not on this board (it shows: etl)");
  });

  it("reports visibility once per change and stops listening when unmounted", () => {
    const model = boardModel([row()]);
    mount(model);
    expect(model.sent).toEqual([{ kind: "visibility", visible: true }]);
    for (const unmount of mounted.splice(0)) unmount();
    expect(model.sent.at(-1)).toEqual({ kind: "visibility", visible: false });
    expect(model.listenerCount()).toBe(0);
  });

  it("words rows without runs honestly", () => {
    expect(rowState(row({ run: null, loaded: false })).label).toBe("Loading");
    expect(rowState(row({ run: null, loaded: false, error: "boom" })).label).toBe("Unreachable");
    expect(rateText(row({ success_rate: null }))).toBe("");
  });
});
