// Wire protocol between the Python `JobPanel` model and this view.
//
// Python owns every synced trait; the view only reads them and acts solely by
// sending the messages described by `OutgoingMessage`. Everything in here is
// either a JSDoc type, a constant, or a small defensive normaliser that turns
// whatever JSON arrived into the documented shape (so a malformed trait value
// can never make the view throw).

/**
 * @typedef {"QUEUED" | "PENDING" | "RUNNING" | "TERMINATING" | "BLOCKED" |
 *   "WAITING_FOR_RETRY" | "SUCCEEDED" | "FAILED" | "CANCELED" | "TIMED_OUT" |
 *   "SKIPPED" | "INTERNAL_ERROR" | "UNKNOWN"} RunState
 */

/**
 * @typedef {object} JobTask
 * @property {string} task_key
 * @property {string | null} type
 * @property {string[]} depends_on
 */

/**
 * @typedef {object} Job
 * @property {string} key
 * @property {number} job_id
 * @property {string | null} name
 * @property {JobTask[]} tasks
 * @property {string | null} url
 */

/**
 * @typedef {object} TaskRun
 * @property {string} task_key
 * @property {number | null} run_id
 * @property {string} state
 * @property {string | null} life_cycle_state
 * @property {string | null} result_state
 * @property {string} state_message
 * @property {number | null} start_time
 * @property {number | null} end_time
 * @property {number | null} duration_ms
 * @property {number} attempt
 * @property {string | null} run_page_url
 * @property {string[]} depends_on
 */

/**
 * @typedef {object} Failure
 * @property {string | null} task_key
 * @property {string} state_message
 * @property {string | null} error
 * @property {string | null} error_trace
 */

/**
 * @typedef {object} Run
 * @property {number} run_id
 * @property {string | null} run_name
 * @property {string} state
 * @property {boolean} is_terminal
 * @property {string | null} life_cycle_state
 * @property {string | null} result_state
 * @property {string} state_message
 * @property {string | null} termination_code
 * @property {string | null} trigger
 * @property {number | null} start_time
 * @property {number | null} end_time
 * @property {number | null} duration_ms
 * @property {string | null} run_page_url
 * @property {Record<string, string>} params
 * @property {TaskRun[]} tasks
 * @property {Failure | null} failure
 */

/**
 * @typedef {object} HistoryEntry
 * @property {number} run_id
 * @property {string} state
 * @property {number | null} start_time
 * @property {number | null} duration_ms
 * @property {string | null} run_page_url
 */

/**
 * @typedef {object} Eta
 * @property {number} p10_ms
 * @property {number} p50_ms
 * @property {number} p90_ms
 * @property {number} samples
 */

/**
 * @typedef {object} Health
 * @property {"ok" | "degraded"} status
 * @property {string} message
 * @property {number | null} next_retry_at
 */

/** @typedef {"" | "run" | "cancel" | "repair" | "refresh"} Pending */

/**
 * A JSON-Schema object as produced by pydantic's `model_json_schema()`.
 * Only the parts the form understands are typed; anything else is ignored.
 * @typedef {{
 *   type?: string | string[],
 *   title?: string,
 *   description?: string,
 *   default?: unknown,
 *   enum?: unknown[],
 *   const?: unknown,
 *   format?: string,
 *   anyOf?: JsonSchema[],
 *   oneOf?: JsonSchema[],
 *   allOf?: JsonSchema[],
 *   $ref?: string,
 *   $defs?: Record<string, JsonSchema>,
 *   definitions?: Record<string, JsonSchema>,
 *   properties?: Record<string, JsonSchema>,
 *   required?: string[],
 *   minimum?: number,
 *   maximum?: number,
 *   minLength?: number,
 *   maxLength?: number,
 *   pattern?: string,
 * }} JsonSchema
 */

/**
 * Every synced trait, as the view reads it.
 * @typedef {{
 *   job: Job | null,
 *   run: Run | null,
 *   history: HistoryEntry[],
 *   eta: Eta | null,
 *   health: Health,
 *   error: string,
 *   params_schema: JsonSchema | null,
 *   pending: Pending,
 *   clock: { now_ms: number, rate: number } | null,
 * }} Traits
 */

/** @typedef {keyof Traits} TraitName */

/** @typedef {{ kind: "run", params: Record<string, string | number | boolean> }} RunMessage */
/** @typedef {{ kind: "cancel", run_id: number }} CancelMessage */
/** @typedef {{ kind: "repair", run_id: number }} RepairMessage */
/** @typedef {{ kind: "refresh" }} RefreshMessage */
/** @typedef {{ kind: "select", run_id: number }} SelectMessage */
/** @typedef {{ kind: "visibility", visible: boolean }} VisibilityMessage */

/**
 * The only messages the view ever sends (`model.send`).
 * @typedef {RunMessage | CancelMessage | RepairMessage | RefreshMessage |
 *   SelectMessage | VisibilityMessage} OutgoingMessage
 */

/**
 * The subset of the anywidget model this view uses. `AnyModel<Traits>` from
 * `@anywidget/types` satisfies it, and so does `tests/fake-model.js`.
 * @typedef {{
 *   get<K extends keyof Traits>(key: K): Traits[K],
 *   on(event: string, callback: (...args: any[]) => void): void,
 *   off(event?: string | null, callback?: ((...args: any[]) => void) | null): void,
 *   send(content: any, callbacks?: any, buffers?: any): void,
 * }} WidgetModel
 */

/** Message kinds (`OutgoingMessage["kind"]`). */
export const KIND = /** @type {const} */ ({
  RUN: "run",
  CANCEL: "cancel",
  REPAIR: "repair",
  REFRESH: "refresh",
  SELECT: "select",
  VISIBILITY: "visibility",
});

/** Values of the `pending` trait that name a command in flight. */
export const PENDING = /** @type {const} */ ({
  NONE: "",
  RUN: "run",
  CANCEL: "cancel",
  REPAIR: "repair",
  REFRESH: "refresh",
});

/** @type {readonly RunState[]} */
export const RUN_STATES = Object.freeze([
  "QUEUED",
  "PENDING",
  "RUNNING",
  "TERMINATING",
  "BLOCKED",
  "WAITING_FOR_RETRY",
  "SUCCEEDED",
  "FAILED",
  "CANCELED",
  "TIMED_OUT",
  "SKIPPED",
  "INTERNAL_ERROR",
  "UNKNOWN",
]);

/** States after which a run never changes again (UNKNOWN is not one). */
export const TERMINAL_STATES = Object.freeze(
  new Set(["SUCCEEDED", "FAILED", "CANCELED", "TIMED_OUT", "SKIPPED", "INTERNAL_ERROR"]),
);

/** Terminal states that count as a failure (repairable; "✗" title badge). */
export const FAILED_STATES = Object.freeze(new Set(["FAILED", "TIMED_OUT", "INTERNAL_ERROR"]));

/** Every trait name, in the order the widget subscribes to them. */
export const TRAITS = /** @type {const} */ ([
  "job",
  "run",
  "history",
  "eta",
  "health",
  "error",
  "params_schema",
  "pending",
  "clock",
]);

/**
 * The jobs' clock when Python last sent state: `now_ms` (epoch ms) and `rate`
 * (simulated seconds per real second; 1 for a real workspace). A sped-up sandbox
 * timestamps runs ahead of the browser's clock, so elapsed times are computed on
 * this clock, not on `Date.now()`.
 * @typedef {{ now_ms: number, rate: number }} Clock
 */

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

// ---------------------------------------------------------------------------
// Defensive normalisers: JSON in, documented shape out. Never throw.
// ---------------------------------------------------------------------------

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
 * @param {unknown} value
 * @returns {string | null}
 */
function strOrNull(value) {
  if (value === null || value === undefined) return null;
  const s = str(value);
  return s === "" ? null : s;
}

/**
 * @param {unknown} value
 * @returns {number | null}
 */
function numOrNull(value) {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** Upper bound on any string kept from the traits (display limits are lower). */
const MAX_KEPT = 50_000;

/**
 * A string, clipped to its first MAX_KEPT characters so a megabyte message
 * costs nothing downstream.
 * @param {unknown} value
 * @returns {string}
 */
function text(value) {
  const s = str(value);
  return s.length > MAX_KEPT ? `${s.slice(0, MAX_KEPT)}\u2026` : s;
}

/**
 * Like `text`, but keeps the end (stack traces matter at the bottom).
 * @param {unknown} value
 * @returns {string | null}
 */
function tailOrNull(value) {
  const s = strOrNull(value);
  return s !== null && s.length > MAX_KEPT ? `\u2026${s.slice(s.length - MAX_KEPT)}` : s;
}

/**
 * @param {unknown} value
 * @returns {string | null}
 */
function textOrNull(value) {
  const s = strOrNull(value);
  return s === null ? null : text(s);
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
function strList(value) {
  return Array.isArray(value) ? value.map(str).filter((s) => s !== "") : [];
}

/**
 * Upper-cased state string, "UNKNOWN" when missing.
 * @param {unknown} value
 * @returns {string}
 */
function stateOf(value) {
  const s = typeof value === "string" ? value.trim().toUpperCase() : "";
  return s === "" ? "UNKNOWN" : s;
}

/**
 * @param {unknown} raw
 * @returns {Job | null}
 */
export function normalizeJob(raw) {
  if (!isObject(raw)) return null;
  const tasks = Array.isArray(raw.tasks) ? raw.tasks : [];
  return {
    key: str(raw.key),
    job_id: numOrNull(raw.job_id) ?? 0,
    name: strOrNull(raw.name),
    tasks: tasks.filter(isObject).map((t) => ({
      task_key: str(t.task_key),
      type: strOrNull(t.type),
      depends_on: strList(t.depends_on),
    })),
    url: strOrNull(raw.url),
  };
}

/**
 * @param {unknown} raw
 * @returns {Failure | null}
 */
function normalizeFailure(raw) {
  if (!isObject(raw)) return null;
  return {
    task_key: strOrNull(raw.task_key),
    state_message: text(raw.state_message),
    error: textOrNull(raw.error),
    error_trace: tailOrNull(raw.error_trace),
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
  /** @type {Record<string, string>} */
  const params = {};
  if (isObject(raw.params)) {
    for (const [k, v] of Object.entries(raw.params)) {
      // defineProperty so a "__proto__" key stays an ordinary own property.
      Object.defineProperty(params, k, {
        value: typeof v === "string" ? v : JSON.stringify(v) ?? "",
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return {
    run_id: numOrNull(raw.run_id) ?? 0,
    run_name: strOrNull(raw.run_name),
    state,
    is_terminal: typeof raw.is_terminal === "boolean" ? raw.is_terminal : TERMINAL_STATES.has(state),
    life_cycle_state: strOrNull(raw.life_cycle_state),
    result_state: strOrNull(raw.result_state),
    state_message: text(raw.state_message),
    termination_code: strOrNull(raw.termination_code),
    trigger: strOrNull(raw.trigger),
    start_time: timeOrNull(raw.start_time),
    end_time: timeOrNull(raw.end_time),
    duration_ms: numOrNull(raw.duration_ms),
    run_page_url: strOrNull(raw.run_page_url),
    params,
    tasks: tasks.filter(isObject).map((t) => ({
      task_key: str(t.task_key),
      run_id: numOrNull(t.run_id),
      state: stateOf(t.state),
      life_cycle_state: strOrNull(t.life_cycle_state),
      result_state: strOrNull(t.result_state),
      state_message: text(t.state_message),
      start_time: timeOrNull(t.start_time),
      end_time: timeOrNull(t.end_time),
      duration_ms: numOrNull(t.duration_ms),
      attempt: numOrNull(t.attempt) ?? 0,
      run_page_url: strOrNull(t.run_page_url),
      depends_on: strList(t.depends_on),
    })),
    failure: normalizeFailure(raw.failure),
  };
}

/**
 * @param {unknown} raw
 * @returns {HistoryEntry[]}
 */
export function normalizeHistory(raw) {
  if (!Array.isArray(raw)) return [];
  return raw.filter(isObject).map((h) => ({
    run_id: numOrNull(h.run_id) ?? 0,
    state: stateOf(h.state),
    start_time: timeOrNull(h.start_time),
    duration_ms: numOrNull(h.duration_ms),
    run_page_url: strOrNull(h.run_page_url),
  }));
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
  return { p10_ms: lo, p50_ms: p50, p90_ms: hi, samples: numOrNull(raw.samples) ?? 0 };
}

/**
 * @param {unknown} raw
 * @returns {Health}
 */
export function normalizeHealth(raw) {
  if (!isObject(raw) || raw.status !== "degraded") {
    return { status: "ok", message: "", next_retry_at: null };
  }
  return { status: "degraded", message: text(raw.message), next_retry_at: timeOrNull(raw.next_retry_at) };
}

/**
 * @param {unknown} raw
 * @returns {Pending}
 */
export function normalizePending(raw) {
  return raw === "run" || raw === "cancel" || raw === "repair" || raw === "refresh" ? raw : "";
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
  return typeof raw === "string" ? text(raw) : "";
}
