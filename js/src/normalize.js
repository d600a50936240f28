// Defensive normalisers: whatever JSON arrived in a trait in, the documented shape
// (protocol.js) out. They never throw, and they hold every text to the limits Python
// applies (rules.js), so a hostile or foreign trait value costs nothing downstream and
// the view can show what it gets. Labels and tones missing from a trait come from
// Python's tables.

import { TERMINAL_STATES } from "./protocol.js";
import { LIMITS, clipText, stateLabel, stateTone, toneOr, traceTail } from "./rules.js";

/** @typedef {import("./protocol.js").Job} Job */
/** @typedef {import("./protocol.js").Run} Run */
/** @typedef {import("./protocol.js").TaskRun} TaskRun */
/** @typedef {import("./protocol.js").Failure} Failure */
/** @typedef {import("./protocol.js").HistoryEntry} HistoryEntry */
/** @typedef {import("./protocol.js").Eta} Eta */
/** @typedef {import("./protocol.js").Health} Health */
/** @typedef {import("./protocol.js").Pending} Pending */
/** @typedef {import("./protocol.js").Clock} Clock */
/** @typedef {import("./protocol.js").JsonSchema} JsonSchema */
/** @typedef {import("./protocol.js").Shown} Shown */

/**
 * @param {unknown} value
 * @returns {value is Record<string, unknown>}
 */
export function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * @param {unknown} value
 * @returns {string}
 */
function str(value) {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return "";
}

/**
 * A string held to `max` characters.
 * @param {unknown} value
 * @param {number} [max]
 * @returns {string}
 */
function text(value, max = LIMITS.message) {
  return clipText(str(value), max);
}

/**
 * Like `text`, but null for a missing or empty value.
 * @param {unknown} value
 * @param {number} [max]
 * @returns {string | null}
 */
function textOrNull(value, max = LIMITS.message) {
  const s = text(value, max);
  return s === "" ? null : s;
}

/**
 * A URL as sent (the view links only the ones `safeHttpUrl` accepts); one character
 * over the link limit is enough to refuse it.
 * @param {unknown} value
 * @returns {string | null}
 */
function urlOrNull(value) {
  return textOrNull(value, LIMITS.url + 1);
}

/**
 * @param {unknown} value
 * @returns {number | null}
 */
function numOrNull(value) {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/**
 * Epoch milliseconds; Databricks uses 0 for "not set", so only positive values count.
 * @param {unknown} value
 * @returns {number | null}
 */
function timeOrNull(value) {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : null;
}

/**
 * @param {unknown} value
 * @returns {string[]}
 */
function names(value) {
  return Array.isArray(value) ? value.map((v) => text(v, LIMITS.name)).filter((s) => s !== "") : [];
}

/**
 * Upper-cased state string, "UNKNOWN" when missing.
 * @param {unknown} value
 * @returns {string}
 */
function stateOf(value) {
  const s = typeof value === "string" ? value.trim().toUpperCase() : "";
  return s === "" ? "UNKNOWN" : clipText(s, LIMITS.name);
}

/**
 * Label, tone and duration text as Python sent them (Python's tables when missing).
 * @param {Record<string, unknown>} raw
 * @param {string} state
 * @returns {Shown}
 */
function shown(raw, state) {
  return {
    label: text(raw.label, LIMITS.name) || stateLabel(state),
    tone: toneOr(raw.tone, stateTone(state)),
    duration_text: text(raw.duration_text, LIMITS.name),
  };
}

/**
 * @param {unknown} value
 * @returns {Clock | null}
 */
export function normalizeClock(value) {
  if (!isObject(value)) return null;
  const nowMs = numOrNull(value.now_ms);
  const rate = numOrNull(value.rate);
  if (nowMs === null) return null;
  return { now_ms: nowMs, rate: rate !== null && rate >= 0 ? rate : 1 };
}

/**
 * @param {unknown} raw
 * @returns {Job | null}
 */
export function normalizeJob(raw) {
  if (!isObject(raw)) return null;
  const tasks = Array.isArray(raw.tasks) ? raw.tasks : [];
  return {
    key: text(raw.key, LIMITS.name),
    job_id: numOrNull(raw.job_id) ?? 0,
    name: textOrNull(raw.name, LIMITS.name),
    tasks: tasks.filter(isObject).map((t) => ({
      task_key: text(t.task_key, LIMITS.name),
      type: textOrNull(t.type, LIMITS.name),
      type_text: text(t.type_text, LIMITS.name),
      depends_on: names(t.depends_on),
    })),
    url: urlOrNull(raw.url),
  };
}

/**
 * @param {unknown} raw
 * @returns {Failure | null}
 */
function normalizeFailure(raw) {
  if (!isObject(raw)) return null;
  const trace = traceTail(raw.error_trace);
  return {
    task_key: textOrNull(raw.task_key, LIMITS.name),
    state_message: text(raw.state_message),
    message_repeats_error: raw.message_repeats_error === true,
    error: textOrNull(raw.error),
    error_trace: trace === "" ? null : trace,
    error_trace_title: textOrNull(raw.error_trace_title, LIMITS.name),
  };
}

/**
 * Parameters as own properties (a "__proto__" key stays an ordinary key).
 * @param {unknown} raw
 * @returns {Record<string, string>}
 */
function normalizeParams(raw) {
  /** @type {Record<string, string>} */
  const params = {};
  if (!isObject(raw)) return params;
  for (const [k, v] of Object.entries(raw)) {
    Object.defineProperty(params, clipText(k, LIMITS.param), {
      value: text(typeof v === "string" ? v : JSON.stringify(v) ?? "", LIMITS.param),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return params;
}

/**
 * Fact lines: pairs of strings, at most a dozen.
 * @param {unknown} raw
 * @returns {Array<[string, string]>}
 */
function normalizeFacts(raw) {
  if (!Array.isArray(raw)) return [];
  /** @type {Array<[string, string]>} */
  const facts = [];
  for (const pair of raw.slice(0, 12)) {
    if (Array.isArray(pair) && pair.length === 2) facts.push([text(pair[0], LIMITS.name), text(pair[1])]);
  }
  return facts;
}

/**
 * @param {Record<string, unknown>} t
 * @returns {TaskRun}
 */
function normalizeTask(t) {
  const state = stateOf(t.state);
  return {
    task_key: text(t.task_key, LIMITS.name),
    run_id: numOrNull(t.run_id),
    state,
    ...shown(t, state),
    ticks: t.ticks === true,
    life_cycle_state: textOrNull(t.life_cycle_state, LIMITS.name),
    result_state: textOrNull(t.result_state, LIMITS.name),
    state_message: text(t.state_message),
    start_time: timeOrNull(t.start_time),
    end_time: timeOrNull(t.end_time),
    duration_ms: numOrNull(t.duration_ms),
    attempt: numOrNull(t.attempt) ?? 0,
    detail: text(t.detail, LIMITS.name),
    run_page_url: urlOrNull(t.run_page_url),
    depends_on: names(t.depends_on),
  };
}

/**
 * @param {unknown} raw
 * @returns {Run | null}
 */
export function normalizeRun(raw) {
  if (!isObject(raw)) return null;
  const state = stateOf(raw.state);
  const tasks = Array.isArray(raw.tasks) ? raw.tasks : [];
  return {
    run_id: numOrNull(raw.run_id) ?? 0,
    known: raw.known !== false,
    run_name: textOrNull(raw.run_name, LIMITS.name),
    state,
    ...shown(raw, state),
    ticks: raw.ticks === true,
    is_terminal: typeof raw.is_terminal === "boolean" ? raw.is_terminal : TERMINAL_STATES.has(state),
    life_cycle_state: textOrNull(raw.life_cycle_state, LIMITS.name),
    result_state: textOrNull(raw.result_state, LIMITS.name),
    state_message: text(raw.state_message),
    termination_code: textOrNull(raw.termination_code, LIMITS.name),
    trigger: textOrNull(raw.trigger, LIMITS.name),
    trigger_text: text(raw.trigger_text, LIMITS.name),
    start_time: timeOrNull(raw.start_time),
    start_text: text(raw.start_text, LIMITS.name),
    since_time: timeOrNull(raw.since_time),
    repairing: raw.repairing === true,
    end_time: timeOrNull(raw.end_time),
    duration_ms: numOrNull(raw.duration_ms),
    run_page_url: urlOrNull(raw.run_page_url),
    params: normalizeParams(raw.params),
    facts: normalizeFacts(raw.facts),
    tasks: tasks.filter(isObject).map(normalizeTask),
    failure: normalizeFailure(raw.failure),
    repair: normalizeRepair(raw.repair),
    nested: normalizeNested(raw.nested),
  };
}

/**
 * @param {unknown} raw
 * @param {number} [depth]
 * @returns {import("./protocol.js").NestedItem[]}
 */
function nestedItems(raw, depth = 0) {
  if (!Array.isArray(raw)) return [];
  return raw.filter(isObject).slice(0, 20).map((item) => {
    /** @type {import("./protocol.js").NestedItem} */
    const out = { text: text(item.text, LIMITS.name), url: urlOrNull(item.url), magic: textOrNull(item.magic, LIMITS.name) };
    if (depth === 0 && Array.isArray(item.items)) out.items = nestedItems(item.items, 1);
    return out;
  });
}

/**
 * @param {unknown} raw
 * @returns {Record<string, import("./protocol.js").NestedItem[]>}
 */
function normalizeNested(raw) {
  /** @type {Record<string, import("./protocol.js").NestedItem[]>} */
  const out = Object.create(null);
  const tasks = isObject(raw) ? raw : {};
  for (const [key, items] of Object.entries(tasks).slice(0, 200)) out[text(key, LIMITS.name)] = nestedItems(items);
  return out;
}

/**
 * @param {unknown} raw
 * @returns {import("./protocol.js").RepairPlan | null}
 */
function normalizeRepair(raw) {
  if (!isObject(raw)) return null;
  const tasks = names(raw.tasks).slice(0, 1000);
  const known = new Set(tasks);
  return { tasks, default: names(raw.default).filter((key) => known.has(key)) };
}

/**
 * @param {unknown} raw
 * @returns {HistoryEntry[]}
 */
export function normalizeHistory(raw) {
  if (!Array.isArray(raw)) return [];
  return raw.filter(isObject).map((h) => {
    const state = stateOf(h.state);
    return {
      run_id: numOrNull(h.run_id) ?? 0,
      state,
      ...shown(h, state),
      start_time: timeOrNull(h.start_time),
      start_text: text(h.start_text, LIMITS.name),
      duration_ms: numOrNull(h.duration_ms),
      run_page_url: urlOrNull(h.run_page_url),
    };
  });
}

/**
 * An ETA is only usable when its percentiles are positive numbers.
 * @param {unknown} raw
 * @returns {Eta | null}
 */
export function normalizeEta(raw) {
  if (!isObject(raw)) return null;
  const p10 = numOrNull(raw.p10_ms);
  const p50 = numOrNull(raw.p50_ms);
  const p90 = numOrNull(raw.p90_ms);
  if (p50 === null || p50 <= 0) return null;
  const lo = p10 !== null && p10 > 0 ? Math.min(p10, p50) : p50;
  const hi = p90 !== null && p90 > 0 ? Math.max(p90, p50) : p50;
  return { p10_ms: lo, p50_ms: p50, p90_ms: hi, samples: numOrNull(raw.samples) ?? 0, text: text(raw.text, LIMITS.name) };
}

/**
 * @param {unknown} raw
 * @returns {Health}
 */
export function normalizeHealth(raw) {
  if (!isObject(raw) || (raw.status !== "degraded" && raw.status !== "stopped")) {
    return { status: "ok", message: "", next_retry_at: null };
  }
  return {
    status: raw.status,
    message: text(raw.message, LIMITS.health),
    next_retry_at: raw.status === "degraded" ? timeOrNull(raw.next_retry_at) : null,
  };
}

/**
 * @param {unknown} raw
 * @returns {Pending}
 */
export function normalizePending(raw) {
  return raw === "run" || raw === "cancel" || raw === "repair" || raw === "refresh" ? raw : "";
}

/**
 * What the panel says while a command is in flight ("" when it says nothing).
 * @param {unknown} raw
 * @returns {string}
 */
export function normalizePendingDetail(raw) {
  return text(raw).trim();
}

/**
 * @param {unknown} raw
 * @returns {JsonSchema | null}
 */
export function normalizeSchema(raw) {
  return isObject(raw) ? /** @type {JsonSchema} */ (raw) : null;
}

/**
 * @param {unknown} raw
 * @returns {string}
 */
export function normalizeError(raw) {
  return typeof raw === "string" ? text(raw, LIMITS.error) : "";
}
