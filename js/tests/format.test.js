import { describe, expect, it } from "vitest";
import {
  canRepair,
  durationOf,
  etaRangeLabel,
  formatDuration,
  healthText,
  historyItemLabel,
  isTerminalState,
  progressInfo,
  retryCountdown,
  runSummary,
  safeHttpUrl,
  stateAnnouncement,
  stateLabel,
  stateModifier,
  stateTone,
  taskDurationText,
  titleMark,
  truncateText,
  truncateTrace,
} from "../src/format.js";
import { RUN_STATES, normalizeEta, normalizeHealth, normalizeRun } from "../src/protocol.js";
import { ETA, T0, finishedRun, makeRun, makeTask } from "./helpers.js";

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [999, "0s"],
    [42_000, "42s"],
    [252_000, "4m 12s"],
    [242_000, "4m 2s"],
    [3_600_000, "1h 0m"],
    [3_900_000 + 59_000, "1h 5m"],
    [2 * 86_400_000 + 3 * 3_600_000, "2d 3h"],
  ])("%d ms -> %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("is empty for unknown durations and clamps negatives", () => {
    expect(formatDuration(null)).toBe("");
    expect(formatDuration(undefined)).toBe("");
    expect(formatDuration(Number.NaN)).toBe("");
    expect(formatDuration(-5000)).toBe("0s");
  });
});

describe("state helpers", () => {
  it("labels every state", () => {
    const labels = Object.fromEntries(RUN_STATES.map((s) => [s, stateLabel(s)]));
    expect(labels).toEqual({
      QUEUED: "Queued",
      PENDING: "Pending",
      RUNNING: "Running",
      TERMINATING: "Terminating",
      BLOCKED: "Blocked",
      WAITING_FOR_RETRY: "Waiting for retry",
      SUCCEEDED: "Succeeded",
      FAILED: "Failed",
      CANCELED: "Canceled",
      TIMED_OUT: "Timed out",
      SKIPPED: "Skipped",
      INTERNAL_ERROR: "Internal error",
      UNKNOWN: "Unknown",
    });
    expect(stateLabel("IDLE")).toBe("No runs yet");
  });

  it("humanises unrecognised states but never lets them into class names", () => {
    expect(stateLabel("SOME_NEW_STATE")).toBe("Some new state");
    expect(stateModifier("SOME_NEW_STATE")).toBe("jw-state--unknown");
    expect(stateModifier('x" onclick="y')).toBe("jw-state--unknown");
    expect(stateModifier("WAITING_FOR_RETRY")).toBe("jw-state--waiting_for_retry");
    expect(stateModifier("TIMED_OUT")).toBe("jw-state--timed_out");
  });

  it("knows which states are terminal and which tone they get", () => {
    for (const s of ["SUCCEEDED", "FAILED", "CANCELED", "TIMED_OUT", "SKIPPED", "INTERNAL_ERROR"]) {
      expect(isTerminalState(s)).toBe(true);
    }
    for (const s of ["QUEUED", "PENDING", "RUNNING", "TERMINATING", "BLOCKED", "WAITING_FOR_RETRY", "UNKNOWN"]) {
      expect(isTerminalState(s)).toBe(false);
    }
    expect(stateTone("SUCCEEDED")).toBe("success");
    expect(stateTone("FAILED")).toBe("error");
    expect(stateTone("RUNNING")).toBe("active");
    expect(stateTone("nonsense")).toBe("neutral");
  });

  it("offers repair for failed runs and canceled runs with failed tasks", () => {
    expect(canRepair(null)).toBe(false);
    expect(canRepair(makeRun())).toBe(false);
    expect(canRepair(finishedRun("SUCCEEDED"))).toBe(false);
    expect(canRepair(finishedRun("FAILED"))).toBe(true);
    expect(canRepair(finishedRun("TIMED_OUT"))).toBe(true);
    expect(canRepair(finishedRun("INTERNAL_ERROR"))).toBe(true);
    const canceled = finishedRun("CANCELED");
    expect(canRepair({ ...canceled, tasks: canceled.tasks.map((t) => ({ ...t, state: "CANCELED" })) })).toBe(false);
    expect(canRepair({ ...canceled, tasks: [makeTask({ state: "FAILED" })] })).toBe(true);
  });
});

describe("durations of runs and tasks", () => {
  it("is live while active and final when terminal", () => {
    expect(durationOf(makeRun(), T0)).toBe(120_000);
    expect(durationOf(finishedRun("SUCCEEDED"), T0 + 10_000_000)).toBe(242_000);
    expect(durationOf({ ...finishedRun("FAILED"), duration_ms: null }, T0)).toBe(242_000);
    expect(durationOf(makeRun({ start_time: null }), T0)).toBeNull();
  });

  it("ticks running tasks and leaves unstarted ones blank", () => {
    const run = makeRun();
    expect(taskDurationText(run.tasks[0], T0)).toBe("1m 40s");
    expect(taskDurationText(run.tasks[1], T0)).toBe("1m 0s");
    expect(taskDurationText(run.tasks[2], T0)).toBe("");
  });
});

describe("ETA", () => {
  it("describes the usual range", () => {
    expect(etaRangeLabel(ETA)).toBe("usually takes 4\u20136 min");
    expect(etaRangeLabel({ p10_ms: 20_000, p50_ms: 30_000, p90_ms: 45_000, samples: 3 })).toBe("usually takes 20\u201345 s");
    expect(etaRangeLabel({ p10_ms: 290_000, p50_ms: 300_000, p90_ms: 310_000, samples: 3 })).toBe("usually takes about 5 min");
    expect(etaRangeLabel({ p10_ms: 3 * 3_600_000, p50_ms: 4 * 3_600_000, p90_ms: 4.5 * 3_600_000, samples: 3 })).toBe("usually takes 3\u20134.5 h");
    expect(etaRangeLabel(null)).toBe("");
  });

  it("computes progress capped at 0.99, indeterminate without data", () => {
    const run = makeRun();
    expect(progressInfo(run, ETA, T0)).toEqual({ visible: true, fraction: 0.4, overdue: false, label: "usually takes 4\u20136 min" });
    expect(progressInfo(run, ETA, T0 + 1_000_000).fraction).toBe(0.99);
    expect(progressInfo(run, null, T0)).toMatchObject({ visible: true, fraction: null });
    expect(progressInfo(makeRun({ start_time: null }), ETA, T0)).toMatchObject({ visible: true, fraction: null });
    expect(progressInfo(finishedRun("SUCCEEDED"), ETA, T0).visible).toBe(false);
    expect(progressInfo(null, ETA, T0)).toMatchObject({ visible: false, label: "usually takes 4\u20136 min" });
  });

  it("says when a run takes longer than usual", () => {
    const info = progressInfo(makeRun(), ETA, T0 + 241_000); // elapsed 361 s > p90 360 s
    expect(info.overdue).toBe(true);
    expect(info.label).toContain("taking longer than usual");
  });

  it("normalises broken ETA data to null", () => {
    expect(normalizeEta({ p10_ms: 1, p50_ms: 0, p90_ms: 2, samples: 1 })).toBeNull();
    expect(normalizeEta("nope")).toBeNull();
    expect(normalizeEta({ p50_ms: 100_000 })).toEqual({ p10_ms: 100_000, p50_ms: 100_000, p90_ms: 100_000, samples: 0 });
  });
});

describe("text helpers", () => {
  it("truncates with an ellipsis", () => {
    expect(truncateText("short", 10)).toBe("short");
    const long = truncateText("x".repeat(5000), 2000);
    expect(long).toHaveLength(2000);
    expect(long.endsWith("\u2026")).toBe(true);
    expect(truncateText(null, 5)).toBe("");
  });

  it("does not split surrogate pairs", () => {
    const out = truncateText("ab\u{1F600}cdef", 4);
    expect(out).toBe("ab\u2026");
  });

  it("keeps the tail of a trace: last 40 lines, at most 20,000 chars", () => {
    const trace = Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n");
    const out = truncateTrace(trace);
    const lines = out.split("\n");
    expect(lines[0]).toBe("\u2026");
    expect(lines).toHaveLength(41);
    expect(lines[40]).toBe("line 99");
    const huge = truncateTrace("y".repeat(1_000_000));
    expect(huge.length).toBeLessThanOrEqual(20_002);
    expect(truncateTrace("a\nb")).toBe("a\nb");
  });

  it("accepts only absolute http(s) URLs", () => {
    expect(safeHttpUrl("https://example.com/a?b=1")).toBe("https://example.com/a?b=1");
    expect(safeHttpUrl("http://example.com")).toBe("http://example.com/");
    for (const bad of [
      "javascript:alert(1)",
      " JavaScript:alert(1)",
      "java\tscript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "vbscript:msgbox(1)",
      "/relative/path",
      "//example.com/x",
      "example.com",
      "",
      null,
      42,
    ]) {
      expect(safeHttpUrl(bad), String(bad)).toBeNull();
    }
  });

  it("formats the retry countdown and health notice", () => {
    expect(retryCountdown(T0 + 7000, T0)).toBe("retrying in 7 s");
    expect(retryCountdown(T0 + 6100, T0)).toBe("retrying in 7 s");
    expect(retryCountdown(T0 - 1, T0)).toBe("retrying now");
    expect(retryCountdown(null, T0)).toBe("retrying");
    const text = healthText(normalizeHealth({ status: "degraded", message: "HTTP 503", next_retry_at: T0 + 7000 }), T0);
    expect(text.message + text.countdown).toBe("Connection problem: HTTP 503 \u2014 retrying in 7 s");
  });

  it("builds accessible labels, summaries and announcements", () => {
    expect(historyItemLabel({ run_id: 123, state: "FAILED", start_time: T0, duration_ms: 242_000, run_page_url: null })).toBe(
      "Run 123: Failed, 4m 2s",
    );
    expect(historyItemLabel({ run_id: 124, state: "RUNNING", start_time: T0, duration_ms: null, run_page_url: null })).toBe(
      "Run 124: Running",
    );
    expect(runSummary(finishedRun("SUCCEEDED"), T0)).toBe("Run 123 Succeeded in 4m 2s");
    expect(stateAnnouncement(makeRun())).toBe("Run 123 is now Running");
    expect(titleMark("SUCCEEDED")).toBe("\u2713");
    expect(titleMark("FAILED")).toBe("\u2717");
  });
});

describe("normalizeRun", () => {
  it("fills defaults for malformed data without throwing", () => {
    const run = normalizeRun({ run_id: 5, state: "running", tasks: [null, { task_key: "a", start_time: 0 }], params: { __proto__: "x", n: 3 } });
    expect(run).not.toBeNull();
    expect(run?.state).toBe("RUNNING");
    expect(run?.is_terminal).toBe(false);
    expect(run?.tasks).toHaveLength(1);
    expect(run?.tasks[0].state).toBe("UNKNOWN");
    expect(run?.tasks[0].start_time).toBeNull();
    expect(run?.params.n).toBe("3");
    expect(normalizeRun(null)).toBeNull();
    expect(normalizeRun([1, 2])).toBeNull();
  });
});
