// Wire protocol between the Python `JobPanel` model and this view.
//
// Python owns every synced trait; the view only reads them and acts solely by
// sending the messages described by `OutgoingMessage`. Everything in here is a
// JSDoc type or a constant. Python decides how things read (jobs_widgets/_present.py):
// runs, tasks and history entries arrive with their `label`, `tone` and
// `duration_text`; the view shows those. `normalize.js` turns whatever JSON arrived
// into these shapes (so a malformed trait value can never make the view throw).

/**
 * @typedef {"QUEUED" | "PENDING" | "RUNNING" | "TERMINATING" | "BLOCKED" |
 *   "WAITING_FOR_RETRY" | "SUCCEEDED" | "FAILED" | "CANCELED" | "TIMED_OUT" |
 *   "SKIPPED" | "INTERNAL_ERROR" | "UNKNOWN"} RunState
 */

/**
 * @typedef {object} JobTask
 * @property {string} task_key
 * @property {string | null} type
 * @property {string} type_text   humanised type ("Notebook"), from Python
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
 * How a run, task or history entry reads, as Python decided (see `jobs_widgets/_present.py`).
 * @typedef {object} Shown
 * @property {string} label          "Timed out"
 * @property {import("./rules.js").Tone} tone
 * @property {string} duration_text  "4m 05s" (for a ticking item: as of the snapshot's clock)
 */

/**
 * @typedef {object} Ticking
 * @property {boolean} ticks  the duration counts up live from `start_time` on the jobs' clock
 */

/**
 * @typedef {object} TaskRunFields
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
 * @property {string} detail  what the state does not say: for-each progress, a condition's outcome, a child job
 * @property {string | null} run_page_url
 * @property {string[]} depends_on
 */

/** @typedef {TaskRunFields & Shown & Ticking} TaskRun */

/**
 * @typedef {object} Failure
 * @property {string | null} task_key
 * @property {string} state_message
 * @property {boolean} [message_repeats_error]  the message quotes the error: the view says it once
 * @property {string | null} error
 * @property {string | null} error_trace        its tail, as Python cut it
 * @property {string | null} error_trace_title  "Stack trace (last 60 of 500 lines)"
 */

/**
 * @typedef {object} RepairPlan
 * @property {string[]} tasks    the run's tasks, in its order
 * @property {string[]} default  ticked at first: what did not end well and what depends on it
 */

/**
 * A run under the shown run (a child run of a run-job task) or a line about a for-each
 * task's failed iterations (`items`: each failed iteration with its page), worded in Python.
 * @typedef {object} NestedItem
 * @property {string} text
 * @property {string | null} url
 * @property {string | null} magic   the %jobs command that opens it (a configured job's child run)
 * @property {NestedItem[]} [items]
 */

/**
 * @typedef {object} RunFields
 * @property {number} run_id
 * @property {boolean} known   false: a run known by its id only (its state not read yet; Run is held)
 * @property {string | null} run_name
 * @property {string} state
 * @property {boolean} is_terminal
 * @property {string | null} life_cycle_state
 * @property {string | null} result_state
 * @property {string} state_message
 * @property {string | null} termination_code
 * @property {string | null} trigger
 * @property {string} trigger_text   "One time"
 * @property {number | null} start_time
 * @property {string} start_text     "2024-05-01 14:00:00 CEST" (kernel's zone)
 * @property {number | null} since_time  where a running run's elapsed time counts from (a repair's start)
 * @property {boolean} repairing     a repair of it is running (no whole-run estimate applies)
 * @property {number | null} end_time
 * @property {number | null} duration_ms
 * @property {string | null} run_page_url
 * @property {Record<string, string>} params
 * @property {Array<[string, string]>} facts  [label, text] lines beyond the state ("Started", "Ended"...), worded in Python
 * @property {TaskRun[]} tasks
 * @property {Failure | null} failure
 * @property {RepairPlan | null} repair  what a repair offers (null: it cannot be repaired)
 * @property {Record<string, NestedItem[]>} nested  per task key: its child runs and failed iterations (an ended run)
 */

/** @typedef {RunFields & Shown & Ticking} Run */

/**
 * @typedef {object} HistoryFields
 * @property {number} run_id
 * @property {string} state
 * @property {number | null} start_time
 * @property {string} start_text
 * @property {number | null} duration_ms
 * @property {string | null} run_page_url
 */

/** @typedef {HistoryFields & Shown} HistoryEntry */

/**
 * @typedef {object} Eta
 * @property {number} p10_ms
 * @property {number} p50_ms
 * @property {number} p90_ms
 * @property {number} samples
 * @property {string} text  "usually takes 4–6 min"
 */

/**
 * Connection health: `ok`; `degraded` (retrying at `next_retry_at`); or `stopped`
 * (the panel no longer follows its run, `message` says why). Commands stay usable.
 * @typedef {object} Health
 * @property {"ok" | "degraded" | "stopped"} status
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
 *   pending_detail?: string,
 *   clock: { now_ms: number, rate: number } | null,
 * }} Traits
 */

/** @typedef {keyof Traits} TraitName */

/** @typedef {{ kind: "run", params: Record<string, string | number | boolean> }} RunMessage */
/** @typedef {{ kind: "cancel", run_id: number }} CancelMessage */
/** @typedef {{ kind: "repair", run_id: number, tasks?: string[] }} RepairMessage */
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

/** Every trait name, in the order the widget subscribes to them (`pending_detail`:
 * what the panel says while `pending` is set; optional, "" when absent). */
export const TRAITS = /** @type {const} */ ([
  "job",
  "run",
  "history",
  "eta",
  "health",
  "error",
  "params_schema",
  "pending",
  "pending_detail",
  "clock",
]);

/**
 * The jobs' clock when Python last sent state: `now_ms` (epoch ms) and `rate`
 * (simulated seconds per real second; 1 for a real workspace). A sped-up sandbox
 * timestamps runs ahead of the browser's clock, so elapsed times are computed on
 * this clock, not on `Date.now()`.
 * @typedef {{ now_ms: number, rate: number }} Clock
 */
