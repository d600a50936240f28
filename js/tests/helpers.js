// Shared fixtures and a `mount` helper for the widget tests.

import { afterEach, beforeEach, vi } from "vitest";
import widget from "../src/widget.js";
import { TERMINAL_STATES } from "../src/protocol.js";
import { formatDuration, stateLabel, stateTone } from "../src/rules.js";
import { FakeModel } from "./fake-model.js";

/** @typedef {import("../src/protocol.js").Traits} Traits */
/** @typedef {import("../src/protocol.js").Run} Run */
/** @typedef {import("../src/protocol.js").TaskRun} TaskRun */

export const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

const TICKING = new Set(["RUNNING", "TERMINATING"]);

/**
 * The fields Python adds to a run or task (label, tone, duration_text, ticks), as
 * jobs_widgets/_present.py decides them at `now` (the golden tests in rules.test.js
 * check Python's real output); fields given explicitly win.
 * @template {{ state: string, start_time: number | null, end_time: number | null, duration_ms: number | null }} T
 * @param {T & { is_terminal?: boolean }} item
 * @param {boolean} task
 * @param {number} [now]
 */
function withShown(item, task, now = T0) {
  const terminal = item.is_terminal ?? TERMINAL_STATES.has(item.state);
  const ticks =
    !terminal && item.start_time !== null && (!task || (item.end_time === null && TICKING.has(item.state)));
  /** @type {number | null} */
  let ms = null;
  if (terminal) {
    ms = item.duration_ms !== null && item.duration_ms > 0 ? item.duration_ms
      : item.start_time !== null && item.end_time !== null ? item.end_time - item.start_time : item.duration_ms;
  } else if (ticks && item.start_time !== null) {
    ms = Math.max(0, now - item.start_time);
  }
  return { label: stateLabel(item.state), tone: stateTone(item.state), duration_text: formatDuration(ms), ticks, ...item };
}

/**
 * @param {Partial<TaskRun>} [overrides]
 * @returns {TaskRun}
 */
export function makeTask(overrides = {}) {
  return withShown(
    {
      task_key: "extract",
      run_id: 1001,
      state: "SUCCEEDED",
      life_cycle_state: "TERMINATED",
      result_state: "SUCCESS",
      state_message: "",
      start_time: T0 - 300_000,
      end_time: T0 - 200_000,
      duration_ms: 100_000,
      attempt: 0,
      detail: "",
      run_page_url: "https://example.cloud.databricks.com/jobs/42/runs/1001",
      depends_on: [],
      ...overrides,
    },
    true,
  );
}

/** @returns {Omit<Run, "label" | "tone" | "duration_text" | "ticks">} */
function runningRun() {
  return {
    run_id: 123,
    known: true,
    run_name: "Nightly ETL",
    state: "RUNNING",
    is_terminal: false,
    life_cycle_state: "RUNNING",
    result_state: null,
    state_message: "In run",
    termination_code: null,
    trigger: "ONE_TIME",
    trigger_text: "One time",
    facts: [["Started", "One time, by ana@example.com"]],
    start_time: T0 - 120_000,
    start_text: "2024-05-01 11:58:00 UTC",
    since_time: T0 - 120_000,
    repairing: false,
    end_time: null,
    duration_ms: null,
    run_page_url: "https://example.cloud.databricks.com/jobs/42/runs/123",
    params: { env: "dev" },
    tasks: [
      makeTask({ task_key: "extract" }),
      makeTask({
        task_key: "transform",
        run_id: 1002,
        state: "RUNNING",
        life_cycle_state: "RUNNING",
        result_state: null,
        start_time: T0 - 60_000,
        end_time: null,
        duration_ms: null,
        run_page_url: "https://example.cloud.databricks.com/jobs/42/runs/1002",
        depends_on: ["extract"],
      }),
      makeTask({
        task_key: "load",
        run_id: 1003,
        state: "PENDING",
        life_cycle_state: "PENDING",
        result_state: null,
        start_time: null,
        end_time: null,
        duration_ms: null,
        run_page_url: null,
        depends_on: ["transform"],
      }),
    ],
    failure: null,
    repair: null,
    nested: {},
  };
}

/**
 * A RUNNING run started 2 minutes before T0 with three tasks.
 * @param {Partial<Run>} [overrides]
 * @returns {Run}
 */
export function makeRun(overrides = {}) {
  const run = { ...runningRun(), ...overrides };
  if (!("since_time" in overrides)) run.since_time = run.start_time; // as Python sends it (no repair)
  return withShown(run, false);
}

/**
 * The run above after it finished in `state`.
 * @param {string} state
 * @param {Partial<Run>} [overrides]
 * @returns {Run}
 */
export function finishedRun(state, overrides = {}) {
  const run = runningRun();
  return withShown(
    {
      ...run,
      state,
      is_terminal: true,
      life_cycle_state: "TERMINATED",
      result_state: state === "SUCCEEDED" ? "SUCCESS" : state,
      // what Python's core/repairs.py offers for a failed run: the failed task and its dependent
      repair: ["FAILED", "TIMED_OUT", "INTERNAL_ERROR"].includes(state)
        ? { tasks: ["extract", "transform", "load"], default: ["transform", "load"] }
        : null,
      end_time: T0 + 122_000,
      duration_ms: 242_000,
      tasks: run.tasks.map((t) => {
        const { label, tone, duration_text, ticks, ...raw } = t;
        return makeTask({
          ...raw,
          state: state === "SUCCEEDED" ? "SUCCEEDED" : t.state === "RUNNING" ? state : t.state,
          start_time: t.start_time ?? T0,
          end_time: T0 + 120_000,
          duration_ms: 60_000,
        });
      }),
      ...overrides,
    },
    false,
  );
}

export const ETA = { p10_ms: 240_000, p50_ms: 300_000, p90_ms: 360_000, samples: 12, text: "usually takes 4\u20136 min" };

/** @type {import("../src/protocol.js").HistoryEntry[]} */
export const HISTORY = [
  { run_id: 123, state: "RUNNING", label: "Running", tone: "active", start_time: T0 - 120_000, start_text: "2024-05-01 11:58:00 UTC", duration_ms: null, duration_text: "", run_page_url: null },
  { run_id: 122, state: "FAILED", label: "Failed", tone: "error", start_time: T0 - 86_400_000, start_text: "2024-04-30 12:00:00 UTC", duration_ms: 242_000, duration_text: "4m 02s", run_page_url: "https://example.cloud.databricks.com/jobs/42/runs/122" },
  { run_id: 121, state: "SUCCEEDED", label: "Succeeded", tone: "success", start_time: T0 - 2 * 86_400_000, start_text: "2024-04-29 12:00:00 UTC", duration_ms: 301_000, duration_text: "5m 01s", run_page_url: null },
];

/**
 * Render a view into a fresh element attached to the document.
 * @param {FakeModel} [model]
 */
export function mount(model = new FakeModel()) {
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = /** @type {() => void} */ (widget.render({ model, el }));
  /**
   * @param {string} selector
   * @returns {HTMLElement}
   */
  const $ = (selector) => {
    const found = el.querySelector(selector);
    if (!(found instanceof HTMLElement)) throw new Error(`no element matches ${selector}`);
    return found;
  };
  /**
   * @param {string} selector
   * @returns {HTMLElement[]}
   */
  const $$ = (selector) => /** @type {HTMLElement[]} */ (Array.from(el.querySelectorAll(selector)));
  /**
   * Whether `selector` matches an element that is rendered (no `hidden`
   * on it or an ancestor inside the panel).
   * @param {string} selector
   */
  const visible = (selector) => {
    const found = el.querySelector(selector);
    if (!found) return false;
    for (let node = /** @type {Element | null} */ (found); node && node !== el; node = node.parentElement) {
      if (node instanceof HTMLElement && node.hidden) return false;
    }
    return true;
  };
  const unmount = () => {
    cleanup();
    el.remove();
  };
  return { model, el, cleanup, unmount, $, $$, visible };
}

/**
 * Set up a widget test file (call once, at its top level): each test runs on fake
 * timers starting at T0, and gets a `view(model)` that mounts like `mount` and is
 * unmounted after the test, before real timers return (so its cleanup clears the
 * fake timers it set). Unmounting a view by hand first is fine: it happens once.
 * @returns {(model: FakeModel) => ReturnType<typeof mount>}
 */
export function viewsUnmountedAfterEachTest() {
  /** @type {(() => void)[]} */
  const mounted = [];
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    for (const unmount of mounted.splice(0)) unmount();
    vi.useRealTimers();
  });
  return (model) => {
    const mountedView = mount(model);
    let done = false;
    const unmount = () => {
      if (done) return;
      done = true;
      mountedView.unmount();
    };
    mounted.push(unmount);
    return { ...mountedView, unmount };
  };
}

/**
 * Click a button (through the DOM, like a user).
 * @param {HTMLElement} button
 */
export function click(button) {
  button.click();
}

/**
 * Press a key on an element.
 * @param {HTMLElement} target
 * @param {string} key
 */
export function press(target, key) {
  target.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true }));
}

export { FakeModel };
