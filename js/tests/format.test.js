import { describe, expect, it } from "vitest";
import {
  canRepair,
  durationText,
  healthText,
  historyItemLabel,
  isTerminalState,
  progressInfo,
  retryCountdown,
  runSummary,
  stateAnnouncement,
  titleMark,
} from "../src/format.js";
import { normalizeEta, normalizeHealth, normalizeRun } from "../src/normalize.js";
import { ETA, HISTORY, T0, finishedRun, makeRun } from "./helpers.js";

describe("state helpers", () => {
  it("knows which states are terminal", () => {
    for (const s of ["SUCCEEDED", "FAILED", "CANCELED", "TIMED_OUT", "SKIPPED", "INTERNAL_ERROR"]) {
      expect(isTerminalState(s)).toBe(true);
    }
    for (const s of ["QUEUED", "PENDING", "RUNNING", "TERMINATING", "BLOCKED", "WAITING_FOR_RETRY", "UNKNOWN"]) {
      expect(isTerminalState(s)).toBe(false);
    }
  });

  it("offers repair for ended runs Python sent a repair plan for", () => {
    expect(canRepair(null)).toBe(false);
    expect(canRepair(makeRun())).toBe(false);
    expect(canRepair(makeRun({ repair: { tasks: ["a"], default: ["a"] } }))).toBe(false); // still going
    expect(canRepair(finishedRun("SUCCEEDED"))).toBe(false);
    expect(canRepair(finishedRun("FAILED"))).toBe(true);
    expect(canRepair(finishedRun("TIMED_OUT"))).toBe(true);
    const canceled = finishedRun("CANCELED");
    expect(canRepair(canceled)).toBe(false);
    expect(canRepair({ ...canceled, repair: { tasks: ["transform"], default: ["transform"] } })).toBe(true);
  });
});

describe("durations", () => {
  it("counts a ticking item live on the jobs' clock, else shows Python's text", () => {
    const run = makeRun();
    expect(durationText(run, T0)).toBe("2m 00s");
    expect(durationText(run, T0 + 5_000)).toBe("2m 05s");
    expect(durationText(finishedRun("SUCCEEDED"), T0 + 10_000_000)).toBe("4m 02s");
    expect(durationText({ ...finishedRun("FAILED"), duration_text: "from Python" }, T0)).toBe("from Python");
    expect(durationText(makeRun({ start_time: null, ticks: false, duration_text: "" }), T0)).toBe("");
  });

  it("shows nothing for a run that starts on another clock (over a minute in the future)", () => {
    expect(durationText(makeRun({ start_time: T0 + 60_000 }), T0)).toBe("0s");
    expect(durationText(makeRun({ start_time: T0 + 60_001 }), T0)).toBe("");
  });

  it("ticks running tasks and leaves unstarted ones blank", () => {
    const run = makeRun();
    expect(run.tasks.map((t) => t.ticks)).toEqual([false, true, false]);
    expect(durationText(run.tasks[0], T0 + 9_000)).toBe("1m 40s");
    expect(durationText(run.tasks[1], T0)).toBe("1m 00s");
    expect(durationText(run.tasks[2], T0)).toBe("");
  });
});

describe("ETA", () => {
  it("computes progress capped at 0.99 with Python's range text, indeterminate without data", () => {
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
    expect(info.label).toBe("taking longer than usual (usually takes 4\u20136 min)");
  });

  it("normalises broken ETA data to null", () => {
    expect(normalizeEta({ p10_ms: 1, p50_ms: 0, p90_ms: 2, samples: 1 })).toBeNull();
    expect(normalizeEta("nope")).toBeNull();
    expect(normalizeEta({ p50_ms: 100_000 })).toEqual({ p10_ms: 100_000, p50_ms: 100_000, p90_ms: 100_000, samples: 0, text: "" });
  });
});

describe("notices and labels", () => {
  it("formats the retry countdown and the degraded notice", () => {
    expect(retryCountdown(T0 + 7000, T0)).toBe("retrying in 7 s");
    expect(retryCountdown(T0 + 6100, T0)).toBe("retrying in 7 s");
    expect(retryCountdown(T0 - 1, T0)).toBe("retrying now");
    expect(retryCountdown(null, T0)).toBe("retrying");
    const text = healthText(normalizeHealth({ status: "degraded", message: "HTTP 503", next_retry_at: T0 + 7000 }), T0);
    expect(text.message + text.countdown).toBe("Connection problem: HTTP 503 \u2014 retrying in 7 s");
  });

  it("says why the panel stopped following, without a countdown", () => {
    const message = "Stopped following: the jobs_widgets runtime was closed";
    const health = normalizeHealth({ status: "stopped", message, next_retry_at: T0 + 7000 });
    expect(health).toEqual({ status: "stopped", message, next_retry_at: null });
    expect(healthText(health, T0)).toEqual({ message, countdown: "" });
    expect(healthText(normalizeHealth({ status: "stopped" }), T0).message).toBe("Stopped following this run.");
    expect(normalizeHealth({ status: "bogus", message: "x" }).status).toBe("ok");
  });

  it("builds accessible labels, summaries and announcements from Python's texts", () => {
    expect(historyItemLabel(HISTORY[1])).toBe("Run 122: Failed, 4m 02s");
    expect(historyItemLabel(HISTORY[0])).toBe("Run 123: Running");
    expect(runSummary(finishedRun("SUCCEEDED"), T0)).toBe("Run 123 Succeeded in 4m 02s");
    expect(stateAnnouncement(makeRun())).toBe("Run 123 is now Running");
    expect(stateAnnouncement({ ...makeRun(), label: "Läuft" })).toBe("Run 123 is now Läuft");
    expect(titleMark("SUCCEEDED")).toBe("\u2713");
    expect(titleMark("FAILED")).toBe("\u2717");
  });
});

describe("normalizeRun", () => {
  it("fills defaults for malformed data without throwing", () => {
    const run = normalizeRun({ run_id: 5, state: "running", tasks: [null, { task_key: "a", start_time: 0 }], params: { __proto__: "x", n: 3 } });
    expect(run).not.toBeNull();
    expect(run?.state).toBe("RUNNING");
    expect(run?.label).toBe("Running"); // Python's table when the trait has no label
    expect(run?.tone).toBe("active");
    expect(run?.ticks).toBe(false);
    expect(run?.is_terminal).toBe(false);
    expect(run?.tasks).toHaveLength(1);
    expect(run?.tasks[0].state).toBe("UNKNOWN");
    expect(run?.tasks[0].label).toBe("Unknown");
    expect(run?.tasks[0].start_time).toBeNull();
    expect(run?.params.n).toBe("3");
    expect(normalizeRun(null)).toBeNull();
    expect(normalizeRun([1, 2])).toBeNull();
  });

  it("keeps Python's label and a known tone, refuses an unknown tone", () => {
    const run = normalizeRun({ run_id: 5, state: "CANCELED", label: "Canceled by you", tone: "x; color: red" });
    expect(run?.label).toBe("Canceled by you");
    expect(run?.tone).toBe("warn");
  });
});
