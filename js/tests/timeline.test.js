import { describe, expect, it, vi } from "vitest";
import { FakeModel, T0, click, viewsUnmountedAfterEachTest } from "./helpers.js";
import { createTimeline, ROW_PX } from "../src/timeline.js";
import { stateLabel } from "../src/rules.js";

const view = viewsUnmountedAfterEachTest();

/** The `timeline` trait of a running three-task run (what core/taskviews.py sends). */
function runningTimeline() {
  return {
    run_id: 123,
    state: "RUNNING",
    is_terminal: false,
    start_ms: T0 - 120_000,
    end_ms: null,
    total: 3,
    tasks: [
      { key: "extract", state: "SUCCEEDED", start_ms: T0 - 120_000, end_ms: T0 - 60_000, elapsed_ms: 60_000,
        phases: { queue: 5_000, setup: 10_000, execution: 40_000, cleanup: 5_000 }, usual_ms: 50_000, slow_after_ms: 70_000,
        slow: false, depends_on: [], attempt: 0, iterations: null, run_id: 1001 },
      { key: "transform", state: "RUNNING", start_ms: T0 - 60_000, end_ms: null, elapsed_ms: null, phases: null,
        usual_ms: 30_000, slow_after_ms: 45_000, slow: false, depends_on: ["extract"], attempt: 0,
        iterations: { total: 8, completed: 3, failed: 1 }, run_id: 1002 },
      { key: "load", state: "PENDING", start_ms: null, end_ms: null, elapsed_ms: null, phases: null, usual_ms: null,
        slow_after_ms: null, slow: false, depends_on: ["transform"], attempt: 0, iterations: null, run_id: null },
    ],
  };
}

describe("task timeline in the panel", () => {
  it("draws one bar per task on a shared axis with phases, usual mark, dependencies and for-each progress", () => {
    const { $, $$, visible } = view(new FakeModel({ timeline: runningTimeline() }));
    expect(visible(".jw-taskviews")).toBe(true);
    const rows = $$(".jw-tl-row");
    expect(rows.map((r) => r.dataset.key)).toEqual(["extract", "transform", "load"]);
    // shared axis: T0-120s .. T0 (now), extract spans its first half
    const extract = /** @type {HTMLElement} */ (rows[0].querySelector(".jw-tl-bar"));
    expect(extract.style.left).toBe("0.000%");
    expect(extract.style.width).toBe("50.000%");
    expect(extract.dataset.tone).toBe("success");
    expect(Array.from(extract.querySelectorAll(".jw-tl-phase")).map((p) => /** @type {HTMLElement} */ (p).className.split("--")[1]))
      .toEqual(["queue", "setup", "execution", "cleanup"]);
    expect(rows[0].querySelector(".jw-tl-usual")).not.toBeNull();
    // transform: running 60 s against a usual 30 s (p90 45 s): slower than usual, said in words
    expect(rows[1].getAttribute("aria-label")).toBe(
      `transform: ${stateLabel("RUNNING")}, 1m 00s, usual 30s, slower than usual, 3 of 8 iterations, 1 failed, after extract`,
    );
    expect(rows[1].querySelector(".jw-tl-bar--slow")).not.toBeNull();
    expect(rows[1].querySelector(".jw-tl-iter")).not.toBeNull();
    expect(rows[1].querySelector(".jw-tl-deps")?.textContent).toBe("after extract");
    expect(rows[2].querySelector(".jw-tl-bar")).toBeNull(); // not started: no bar yet
    expect(rows[2].querySelector(".jw-tl-note")?.textContent).toBe(stateLabel("PENDING"));
    expect($(".jw-tl-summary").textContent).toBe("3 tasks, over 2m 00s, 1 running, 1 slower than usual");
  });

  it("ticks a running bar on the jobs' clock and stops ticking when the run ends", () => {
    const model = new FakeModel({ timeline: runningTimeline(), clock: { now_ms: T0, rate: 1 } });
    const { $$ } = view(model);
    const note = () => $$(".jw-tl-row")[1].querySelector(".jw-tl-note")?.textContent;
    expect(note()).toBe("Running · 1m 00s · 3/8 · slow");
    vi.advanceTimersByTime(5_000);
    expect(note()).toBe("Running · 1m 05s · 3/8 · slow");
    const done = /** @type {any} */ (runningTimeline());
    done.is_terminal = true;
    done.end_ms = T0 + 10_000;
    Object.assign(done.tasks[1], { state: "FAILED", end_ms: T0 + 10_000, elapsed_ms: 70_000 });
    model.update({ timeline: done });
    expect(note()).toBe("Failed · 1m 10s · 3/8 · slow");
    expect($$(".jw-tl-row")[1].querySelector(".jw-tl-bar")?.getAttribute("data-tone")).toBe("error");
    vi.advanceTimersByTime(5_000);
    expect(note()).toBe("Failed · 1m 10s · 3/8 · slow");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("is hidden for a single-task job and for junk data", () => {
    const one = runningTimeline();
    one.tasks = one.tasks.slice(0, 1);
    const { visible, model } = view(new FakeModel({ timeline: one }));
    expect(visible(".jw-taskviews")).toBe(false);
    model.update({ timeline: { tasks: "nope" } });
    expect(visible(".jw-taskviews")).toBe(false);
  });

  it("virtualises: 1000 tasks put only the rows in view (plus a margin) in the DOM", () => {
    const timeline = createTimeline();
    document.body.append(timeline.el);
    const tasks = Array.from({ length: 1000 }, (_, i) => ({
      key: `t${i}`, state: "SUCCEEDED", start_ms: T0 + i * 1000, end_ms: T0 + i * 1000 + 500, elapsed_ms: 500,
      phases: null, usual_ms: null, slow_after_ms: null, depends_on: [], iterations: null,
    }));
    timeline.update({ run_id: 1, is_terminal: true, start_ms: T0, end_ms: T0 + 1_000_000, tasks }, T0);
    const rows = () => Array.from(timeline.el.querySelectorAll(".jw-tl-row")).map((r) => /** @type {HTMLElement} */ (r).dataset.key);
    expect(rows().length).toBeLessThan(30);
    expect(rows()[0]).toBe("t0");
    const viewport = /** @type {HTMLElement} */ (timeline.el.querySelector(".jw-tl-viewport"));
    expect(/** @type {HTMLElement} */ (timeline.el.querySelector(".jw-tl-spacer")).style.height).toBe(`${1000 * ROW_PX}px`);
    viewport.scrollTop = 500 * ROW_PX;
    viewport.dispatchEvent(new Event("scroll"));
    expect(rows()).toContain("t500");
    expect(rows()).not.toContain("t0");
    timeline.el.remove();
  });

  it("switches to the matrix and back with the view buttons", () => {
    const { $, visible } = view(new FakeModel({ timeline: runningTimeline() }));
    const [tl, mx] = Array.from($(".jw-tv-tabs").querySelectorAll("button"));
    click(/** @type {HTMLElement} */ (mx));
    expect(mx.getAttribute("aria-pressed")).toBe("true");
    expect(visible(".jw-matrix")).toBe(true);
    expect(visible(".jw-timeline")).toBe(false);
    click(/** @type {HTMLElement} */ (tl));
    expect(visible(".jw-timeline")).toBe(true);
  });

  it("leaves no listener or timer behind when unmounted", () => {
    const model = new FakeModel({ timeline: runningTimeline() });
    const { unmount } = view(model);
    unmount();
    expect(model.listenerCount()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
