// Pure formatting helpers. No DOM, no model, no clock: callers pass `now`.

import { FAILED_STATES, TERMINAL_STATES } from "./protocol.js";

/** @typedef {import("./protocol.js").Run} Run */
/** @typedef {import("./protocol.js").TaskRun} TaskRun */
/** @typedef {import("./protocol.js").Eta} Eta */
/** @typedef {import("./protocol.js").Health} Health */
/** @typedef {import("./protocol.js").HistoryEntry} HistoryEntry */

/** Display limits (characters / lines). */
export const LIMITS = Object.freeze({
  message: 2000,
  error: 2000,
  traceChars: 20000,
  traceLines: 40,
  name: 200,
  url: 300,
  param: 200,
  taskMessage: 300,
  health: 500,
});

export const ELLIPSIS = "…";

/** Visible labels for every run/task state ("IDLE" = no run yet). */
const STATE_LABELS = Object.freeze({
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
  IDLE: "No runs yet",
});

/** @typedef {"success" | "error" | "warn" | "active" | "waiting" | "neutral"} Tone */

/** @type {Readonly<Record<string, Tone>>} */
const STATE_TONES = Object.freeze({
  SUCCEEDED: "success",
  FAILED: "error",
  TIMED_OUT: "error",
  INTERNAL_ERROR: "error",
  CANCELED: "warn",
  WAITING_FOR_RETRY: "warn",
  BLOCKED: "warn",
  RUNNING: "active",
  TERMINATING: "active",
  QUEUED: "waiting",
  PENDING: "waiting",
  SKIPPED: "neutral",
  UNKNOWN: "neutral",
  IDLE: "neutral",
});

/**
 * @param {string} key
 * @returns {key is keyof typeof STATE_LABELS}
 */
function isKnownState(key) {
  return Object.prototype.hasOwnProperty.call(STATE_LABELS, key);
}

/**
 * Human label for a state; unrecognised states are humanised ("NEW_THING" ->
 * "New thing") so nothing is hidden, but capped in length.
 * @param {string | null | undefined} state
 * @returns {string}
 */
export function stateLabel(state) {
  const key = String(state ?? "UNKNOWN").toUpperCase();
  if (isKnownState(key)) return STATE_LABELS[key];
  const words = truncateText(String(state), 40).replace(/_+/g, " ").trim().toLowerCase();
  return words === "" ? STATE_LABELS.UNKNOWN : words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * Lower-case state used in CSS modifiers (`jw-state--<this>`). Anything that is
 * not a known state maps to "unknown" so data can never inject class names.
 * @param {string | null | undefined} state
 * @returns {string}
 */
export function stateSlug(state) {
  const key = String(state ?? "UNKNOWN").toUpperCase();
  return isKnownState(key) ? key.toLowerCase() : "unknown";
}

/**
 * `jw-state--<lowercase-state>`.
 * @param {string | null | undefined} state
 * @returns {string}
 */
export function stateModifier(state) {
  return `jw-state--${stateSlug(state)}`;
}

/**
 * Colour family of a state (the label text is always shown as well).
 * @param {string | null | undefined} state
 * @returns {Tone}
 */
export function stateTone(state) {
  return STATE_TONES[String(state ?? "UNKNOWN").toUpperCase()] ?? "neutral";
}

/**
 * @param {string | null | undefined} state
 * @returns {boolean}
 */
export function isTerminalState(state) {
  return TERMINAL_STATES.has(String(state ?? "").toUpperCase());
}

/**
 * @param {Run | null} run
 * @returns {boolean}
 */
export function isRunActive(run) {
  return run !== null && !run.is_terminal;
}

/**
 * Repair is offered for terminal runs that failed, or were canceled after
 * some task failed.
 * @param {Run | null} run
 * @returns {boolean}
 */
export function canRepair(run) {
  if (run === null || !run.is_terminal) return false;
  if (FAILED_STATES.has(run.state)) return true;
  return run.state === "CANCELED" && run.tasks.some((t) => FAILED_STATES.has(t.state));
}

/**
 * "42s", "4m 12s", "1h 5m", "2d 3h". Null / non-finite -> "".
 * @param {number | null | undefined} ms
 * @returns {string}
 */
export function formatDuration(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "";
  const total = Math.floor(Math.max(0, ms) / 1000);
  const s = total % 60;
  const m = Math.floor(total / 60) % 60;
  const h = Math.floor(total / 3600) % 24;
  const d = Math.floor(total / 86400);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/**
 * Duration of a run: live (`now - start`) while active, final when terminal.
 * @param {{ is_terminal?: boolean, state?: string, start_time: number | null, end_time: number | null, duration_ms: number | null }} item
 * @param {number} now
 * @returns {number | null}
 */
export function durationOf(item, now) {
  const terminal = typeof item.is_terminal === "boolean" ? item.is_terminal : isTerminalState(item.state);
  if (terminal) {
    if (item.duration_ms !== null && item.duration_ms > 0) return item.duration_ms;
    if (item.start_time !== null && item.end_time !== null) return Math.max(0, item.end_time - item.start_time);
    return item.duration_ms;
  }
  if (item.start_time === null) return null;
  return Math.max(0, now - item.start_time);
}

/**
 * Whether a task is currently executing (its duration ticks).
 * @param {TaskRun} task
 * @returns {boolean}
 */
export function isTaskTicking(task) {
  return !isTerminalState(task.state) && task.start_time !== null && task.end_time === null &&
    (task.state === "RUNNING" || task.state === "TERMINATING");
}

/**
 * Duration shown in a task row ("" when it has not started).
 * @param {TaskRun} task
 * @param {number} now
 * @returns {string}
 */
export function taskDurationText(task, now) {
  if (isTaskTicking(task)) return formatDuration(now - /** @type {number} */ (task.start_time));
  if (isTerminalState(task.state)) return formatDuration(durationOf({ ...task, is_terminal: true }, now));
  return "";
}

/**
 * @param {number} value
 * @returns {string}
 */
function trimNumber(value) {
  return String(Math.round(value * 10) / 10);
}

/**
 * "usually takes 4–6 min" from the p10..p90 range ("about 5 min" when equal).
 * @param {Eta | null} eta
 * @returns {string}
 */
export function etaRangeLabel(eta) {
  if (eta === null) return "";
  const lo = eta.p10_ms;
  const hi = eta.p90_ms;
  /** @type {[string, string, string]} */
  let parts;
  if (hi < 60_000) {
    parts = [String(Math.max(1, Math.round(lo / 1000))), String(Math.max(1, Math.round(hi / 1000))), "s"];
  } else if (hi < 2 * 3_600_000) {
    const a = Math.max(1, Math.round(lo / 60_000));
    parts = [String(a), String(Math.max(a, Math.round(hi / 60_000))), "min"];
  } else {
    parts = [trimNumber(lo / 3_600_000), trimNumber(hi / 3_600_000), "h"];
  }
  const [a, b, unit] = parts;
  return a === b ? `usually takes about ${a} ${unit}` : `usually takes ${a}\u2013${b} ${unit}`;
}

/**
 * @typedef {object} ProgressInfo
 * @property {boolean} visible   bar is shown (run is active)
 * @property {number | null} fraction  0..0.99, null = indeterminate
 * @property {boolean} overdue   elapsed > p90
 * @property {string} label      text for `.jw-eta`
 */

/**
 * Progress of the current run against its usual duration.
 * @param {Run | null} run
 * @param {Eta | null} eta
 * @param {number} now
 * @returns {ProgressInfo}
 */
export function progressInfo(run, eta, now) {
  const range = etaRangeLabel(eta);
  if (!isRunActive(run) || run === null) {
    return { visible: false, fraction: null, overdue: false, label: range };
  }
  if (eta === null || run.start_time === null) {
    return { visible: true, fraction: null, overdue: false, label: range };
  }
  const elapsed = Math.max(0, now - run.start_time);
  const fraction = Math.min(elapsed / eta.p50_ms, 0.99);
  const overdue = elapsed > eta.p90_ms;
  return { visible: true, fraction, overdue, label: overdue ? `taking longer than usual (${range})` : range };
}

/**
 * Shorten `text` to at most `max` characters, ending in "…".
 * @param {string | null | undefined} text
 * @param {number} max
 * @returns {string}
 */
export function truncateText(text, max) {
  const s = typeof text === "string" ? text : text == null ? "" : String(text);
  if (s.length <= max) return s;
  let cut = Math.max(0, max - 1);
  // Do not split a surrogate pair.
  const code = s.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return s.slice(0, cut) + ELLIPSIS;
}

/**
 * Keep the tail of a stack trace: at most `maxLines` lines and `maxChars`
 * characters, prefixed by "…" when something was dropped.
 * @param {string | null | undefined} trace
 * @param {number} [maxLines]
 * @param {number} [maxChars]
 * @returns {string}
 */
export function truncateTrace(trace, maxLines = LIMITS.traceLines, maxChars = LIMITS.traceChars) {
  let s = typeof trace === "string" ? trace.replace(/\s+$/, "") : "";
  let cut = false;
  if (s.length > maxChars) {
    s = s.slice(s.length - maxChars);
    cut = true;
  }
  let lines = s.split("\n");
  if (lines.length > maxLines) {
    lines = lines.slice(lines.length - maxLines);
    cut = true;
  } else if (cut && lines.length > 1) {
    lines = lines.slice(1); // first line is partial
  }
  return (cut ? ELLIPSIS + "\n" : "") + lines.join("\n");
}

/**
 * The URL to use as a link target if it is an absolute http(s) URL, else null.
 * @param {unknown} url
 * @returns {string | null}
 */
export function safeHttpUrl(url) {
  if (typeof url !== "string" || url.length === 0 || url.length > 8192) return null;
  /** @type {URL} */
  let parsed;
  try {
    parsed = new URL(url.trim());
  } catch {
    return null;
  }
  return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
}

/**
 * "retrying in 7 s" / "retrying now" / "retrying" (no time known).
 * @param {number | null} nextRetryAt
 * @param {number} now
 * @returns {string}
 */
export function retryCountdown(nextRetryAt, now) {
  if (nextRetryAt === null) return "retrying";
  const seconds = Math.ceil((nextRetryAt - now) / 1000);
  return seconds > 0 ? `retrying in ${seconds} s` : "retrying now";
}

/**
 * Text of the degraded-connection notice (split so the ticking part can be
 * hidden from screen readers).
 * @param {Health} health
 * @param {number} now
 * @returns {{ message: string, countdown: string }}
 */
export function healthText(health, now) {
  const detail = truncateText(health.message.trim(), LIMITS.health) || "cannot reach Databricks";
  return { message: `Connection problem: ${detail} \u2014 `, countdown: retryCountdown(health.next_retry_at, now) };
}

/**
 * "Run 123: Failed, 4m 2s" (duration omitted when unknown).
 * @param {HistoryEntry} entry
 * @returns {string}
 */
export function historyItemLabel(entry) {
  const duration = isTerminalState(entry.state) ? formatDuration(entry.duration_ms) : "";
  return `Run ${entry.run_id}: ${stateLabel(entry.state)}${duration ? `, ${duration}` : ""}`;
}

/**
 * Notification body: "Run 123 Succeeded in 4m 2s".
 * @param {Run} run
 * @param {number} now
 * @returns {string}
 */
export function runSummary(run, now) {
  const duration = formatDuration(durationOf(run, now));
  return `Run ${run.run_id} ${stateLabel(run.state)}${duration ? ` in ${duration}` : ""}`;
}

/**
 * Live-region announcement for a state change.
 * @param {Run} run
 * @returns {string}
 */
export function stateAnnouncement(run) {
  return `Run ${run.run_id} is now ${stateLabel(run.state)}`;
}

/**
 * Title badge for a finished run.
 * @param {string} state
 * @returns {"✓" | "✗"}
 */
export function titleMark(state) {
  return state === "SUCCEEDED" ? "\u2713" : "\u2717";
}

/**
 * "One time" from "ONE_TIME"; "" for null.
 * @param {string | null} value
 * @returns {string}
 */
export function humanize(value) {
  if (!value) return "";
  const words = truncateText(value, 60).replace(/_+/g, " ").trim().toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * Local date/time for tooltips ("" when unknown).
 * @param {number | null} epochMs
 * @returns {string}
 */
export function formatTimestamp(epochMs) {
  if (epochMs === null) return "";
  const d = new Date(epochMs);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleString();
}
