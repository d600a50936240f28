// Texts the view composes from what Python sent. No DOM, no model, no clock:
// callers pass `now` (epoch ms on the jobs' clock).

import { TERMINAL_STATES } from "./protocol.js";
import { formatDuration, liveElapsedMs } from "./rules.js";

/** @typedef {import("./protocol.js").Run} Run */
/** @typedef {import("./protocol.js").TaskRun} TaskRun */
/** @typedef {import("./protocol.js").Eta} Eta */
/** @typedef {import("./protocol.js").Health} Health */
/** @typedef {import("./protocol.js").HistoryEntry} HistoryEntry */

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
 * Repair is offered for the ended runs Python sent a repair plan for (they
 * failed, or some task did: core/repairs.py decides).
 * @param {Run | null} run
 * @returns {boolean}
 */
export function canRepair(run) {
  return run !== null && run.is_terminal && run.repair !== null;
}

/**
 * The duration shown for a run or task: counted live on the jobs' clock while it
 * ticks, else the text Python sent.
 * @param {{ ticks: boolean, start_time: number | null, since_time?: number | null, duration_text: string }} item
 * @param {number} now
 * @returns {string}
 */
export function durationText(item, now) {
  return item.ticks ? formatDuration(liveElapsedMs(item.since_time ?? item.start_time, now)) : item.duration_text;
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
  const range = eta ? eta.text : "";
  if (!isRunActive(run) || run === null || run.known === false) {
    return { visible: false, fraction: null, overdue: false, label: range };
  }
  const elapsed = liveElapsedMs(run.since_time ?? run.start_time, now);
  if (eta === null || elapsed === null) {
    return { visible: true, fraction: null, overdue: false, label: range };
  }
  const fraction = Math.min(elapsed / eta.p50_ms, 0.99);
  const overdue = elapsed > eta.p90_ms;
  return { visible: true, fraction, overdue, label: overdue ? `taking longer than usual (${range})` : range };
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
 * Text of the connection notice (split so the ticking part can be hidden from
 * screen readers): a degraded connection with its retry countdown, or the reason
 * the panel stopped following its run.
 * @param {Health} health
 * @param {number} now
 * @returns {{ message: string, countdown: string }}
 */
export function healthText(health, now) {
  const detail = health.message.trim();
  if (health.status === "stopped") {
    return { message: detail || "Stopped following this run.", countdown: "" };
  }
  return {
    message: `Connection problem: ${detail || "cannot reach Databricks"} \u2014 `,
    countdown: retryCountdown(health.next_retry_at, now),
  };
}

/**
 * "Run 123: Failed, 4m 02s" (duration omitted when unknown).
 * @param {HistoryEntry} entry
 * @returns {string}
 */
export function historyItemLabel(entry) {
  return `Run ${entry.run_id}: ${entry.label}${entry.duration_text ? `, ${entry.duration_text}` : ""}`;
}

/**
 * Notification body: "Run 123 Succeeded in 4m 02s".
 * @param {Run} run
 * @param {number} now
 * @returns {string}
 */
export function runSummary(run, now) {
  const duration = durationText(run, now);
  return `Run ${run.run_id} ${run.label}${duration ? ` in ${duration}` : ""}`;
}

/**
 * Live-region announcement for a state change.
 * @param {Run} run
 * @returns {string}
 */
export function stateAnnouncement(run) {
  return `Run ${run.run_id} is now ${run.label}`;
}

/**
 * Title badge for a finished run.
 * @param {string} state
 * @returns {"✓" | "✗"}
 */
export function titleMark(state) {
  return state === "SUCCEEDED" ? "\u2713" : "\u2717";
}
