// The JS half of the presentation rules against Python's answers.
//
// golden/presentation-cases.json and ../src/presentation.json are written by
// tests/test_render_present.py from jobs_widgets/_present.py (never by hand): when a
// rule changes in Python, that test rewrites them and these tests say whether the
// front end still agrees.

import { describe, expect, it, vi } from "vitest";
import CASES from "./golden/presentation-cases.json";
import RULES from "../src/presentation.json";
import { RUN_STATES } from "../src/protocol.js";
import {
  LIMITS,
  clipText,
  formatDuration,
  liveElapsedMs,
  safeHttpUrl,
  stateLabel,
  stateSlug,
  stateTone,
  traceTail,
} from "../src/rules.js";
import { FakeModel, viewsUnmountedAfterEachTest } from "./helpers.js";

/** @typedef {[string, number][]} Segments */

/**
 * Undo the run-length encoding Python used for long texts.
 * @param {Segments} segments
 * @returns {string}
 */
const join = (segments) => segments.map(([chunk, times]) => chunk.repeat(times)).join("");

const view = viewsUnmountedAfterEachTest();

describe("Python's tables", () => {
  it("labels and tones every state as Python does", () => {
    for (const state of RUN_STATES) {
      expect(stateLabel(state)).toBe(/** @type {Record<string, string>} */ (RULES.labels)[state]);
      expect(stateTone(state)).toBe(/** @type {Record<string, string>} */ (RULES.tones)[state]);
    }
    expect(stateLabel("IDLE")).toBe("No runs yet");
    expect(stateTone("CANCELED")).toBe("warn");
    expect(LIMITS.trace_lines).toBe(RULES.limits.trace_lines);
  });

  it("never lets an unknown state into labels or class names", () => {
    expect(stateLabel("SOME_NEW_STATE")).toBe("Unknown");
    expect(stateSlug('x" onclick="y')).toBe("unknown");
    expect(stateSlug("waiting_for_retry")).toBe("waiting_for_retry");
    expect(stateTone(42)).toBe("neutral");
  });
});

describe("golden cases from Python", () => {
  it.each(/** @type {[number | null, string][]} */ (CASES.duration))("duration %s ms -> %j", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("has no duration for non-numbers (JSON cannot carry NaN)", () => {
    expect(formatDuration(Number.NaN)).toBe("");
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe("");
    expect(formatDuration(undefined)).toBe("");
  });

  it.each(/** @type {[number | null, number, number | null][]} */ (CASES.live_elapsed))(
    "elapsed from %s at %s -> %s",
    (start, now, ms) => {
      expect(liveElapsedMs(start, now)).toBe(ms);
    },
  );

  it.each(/** @type {[string, number, string][]} */ (CASES.clip))("clip %j to %d -> %j", (text, limit, out) => {
    expect(clipText(text, limit)).toBe(out);
  });

  it("keeps the tail of traces as Python does", () => {
    for (const [input, output] of /** @type {[Segments, Segments][]} */ (CASES.trace)) {
      const text = join(input);
      expect(traceTail(text), JSON.stringify(text.slice(0, 40))).toBe(join(output));
      expect(traceTail(join(output))).toBe(join(output)); // idempotent: Python's tail passes through
    }
  });

  it.each(/** @type {[unknown, string | null][]} */ (CASES.url))("link check %j -> %j", (url, out) => {
    expect(safeHttpUrl(url)).toBe(out);
  });
});

describe("a panel shows what Python decided", () => {
  it.each(CASES.panel.map((c) => [c.run?.label, c]))("%s run: badge, times, tasks, history, trace", (_, c) => {
    const run = /** @type {any} */ (c.run);
    const model = new FakeModel({ run, history: /** @type {any} */ (c.history), clock: { now_ms: c.now_ms, rate: 1 } });
    const { $, $$ } = view(model);
    const badge = $(".jw-status .jw-state");
    expect(badge.textContent).toBe(run.label);
    expect(badge.dataset.tone).toBe(run.tone);
    expect($(".jw-elapsed").textContent).toBe(run.duration_text);
    expect($$(".jw-tasks .jw-task-duration").map((d) => d.textContent)).toEqual(
      run.tasks.map((/** @type {any} */ t) => t.duration_text),
    );
    expect($$(".jw-tasks .jw-state").map((b) => b.textContent)).toEqual(run.tasks.map((/** @type {any} */ t) => t.label));
    expect($$(".jw-history-item").map((b) => b.getAttribute("title"))).toEqual(
      c.history.map((e) => `Run ${e.run_id}: ${e.label}${e.duration_text ? `, ${e.duration_text}` : ""} (started ${e.start_text})`),
    );
    if (run.failure?.error_trace) {
      expect($(".jw-trace summary").textContent).toBe(run.failure.error_trace_title);
      expect($(".jw-trace pre").textContent).toBe(run.failure.error_trace);
    }
    if (run.ticks) {
      vi.advanceTimersByTime(5000);
      const python = liveElapsedMs(run.start_time, c.now_ms);
      expect($(".jw-elapsed").textContent).toBe(formatDuration(/** @type {number} */ (python) + 5000));
    }
  });
});
