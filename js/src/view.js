// The panel's DOM: its skeleton and the builders of its parts. Data in, elements
// out: no model access, no listeners, no clock (callers pass `now`). Texts arrive
// already held to Python's limits (normalize.js) and go in as text nodes (dom.js).

import { durationText, historyItemLabel } from "./format.js";
import { h, linkOrText, stateBadge } from "./dom.js";
import { stateLabel, stateSlug, stateTone } from "./rules.js";

/** @typedef {import("./protocol.js").Job} Job */
/** @typedef {import("./protocol.js").JobTask} JobTask */
/** @typedef {import("./protocol.js").Run} Run */
/** @typedef {import("./protocol.js").TaskRun} TaskRun */
/** @typedef {import("./protocol.js").HistoryEntry} HistoryEntry */
/** @typedef {import("./protocol.js").Failure} Failure */

/** The badge of a panel whose job never ran. */
export const IDLE = Object.freeze({ state: "IDLE", label: stateLabel("IDLE"), tone: stateTone("IDLE") });

/**
 * @typedef {object} Skeleton
 * @property {HTMLDivElement} root
 * @property {HTMLElement} jobName
 * @property {HTMLElement} jobKey
 * @property {HTMLElement} jobLinkSlot
 * @property {HTMLButtonElement} notifyButton
 * @property {HTMLButtonElement} refreshButton
 * @property {HTMLSpanElement} badge
 * @property {HTMLElement} runLinkSlot
 * @property {HTMLElement} elapsed
 * @property {HTMLElement} runMeta
 * @property {HTMLElement} progressRow
 * @property {HTMLDivElement} progress
 * @property {HTMLDivElement} progressBar
 * @property {HTMLElement} eta
 * @property {HTMLElement} stateMessage
 * @property {HTMLElement} facts
 * @property {HTMLElement} params
 * @property {HTMLDivElement} health
 * @property {HTMLElement} healthMessage
 * @property {HTMLElement} healthCountdown
 * @property {HTMLDivElement} error
 * @property {HTMLElement} errorText
 * @property {HTMLButtonElement} errorDismiss
 * @property {HTMLElement} actions
 * @property {HTMLButtonElement} runButton
 * @property {HTMLButtonElement} cancelButton
 * @property {HTMLDivElement} confirm
 * @property {HTMLElement} confirmText
 * @property {HTMLButtonElement} confirmYes
 * @property {HTMLButtonElement} confirmNo
 * @property {HTMLButtonElement} repairButton
 * @property {HTMLElement} busy
 * @property {HTMLDivElement} formHost
 * @property {HTMLDivElement} failure
 * @property {HTMLElement} tasksSection
 * @property {HTMLOListElement} tasks
 * @property {HTMLElement} historySection
 * @property {HTMLDivElement} history
 * @property {HTMLDivElement} live
 */

/**
 * The static structure of one panel; `widget.js` fills it with data.
 * @param {string} idPrefix  unique per view, for aria wiring
 * @returns {Skeleton}
 */
export function buildSkeleton(idPrefix) {
  const jobName = h("span", { class: "jw-job-name" });
  const jobKey = h("span", { class: "jw-job-key" });
  const jobLinkSlot = h("span", { class: "jw-job-link-slot" });
  const notifyButton = h(
    "button",
    { type: "button", class: "jw-button jw-button--ghost jw-notify", title: "Show a browser notification when a run finishes", hidden: true },
    "Notify me",
  );
  const refreshButton = h(
    "button",
    { type: "button", class: "jw-button jw-button--ghost jw-refresh", "aria-label": "Refresh", title: "Refresh" },
    h("span", { "aria-hidden": "true" }, "\u21bb"),
  );

  const badge = stateBadge(IDLE, "jw-run-state");
  const runLinkSlot = h("span", { class: "jw-run-link-slot" });
  const elapsed = h("span", { class: "jw-elapsed" });
  const runMeta = h("span", { class: "jw-run-meta" });

  const progressBar = h("div", { class: "jw-progress-bar" });
  const progress = h(
    "div",
    {
      class: "jw-progress jw-progress--indeterminate",
      role: "progressbar",
      "aria-label": "Estimated progress",
      "aria-valuemin": 0,
      "aria-valuemax": 100,
    },
    progressBar,
  );
  const eta = h("span", { class: "jw-eta" });
  const progressRow = h("div", { class: "jw-progress-row" }, progress, eta);
  const stateMessage = h("p", { class: "jw-state-message", hidden: true });
  const facts = h("p", { class: "jw-facts", hidden: true });
  const params = h("div", { class: "jw-params", hidden: true });

  const healthMessage = h("span", { class: "jw-health-message" });
  const healthCountdown = h("span", { class: "jw-health-countdown", "aria-hidden": "true" });
  const health = h(
    "div",
    { class: "jw-health jw-notice", role: "status", hidden: true },
    h("span", { class: "jw-health-text" }, healthMessage, healthCountdown),
  );

  const errorText = h("span", { class: "jw-error-text" });
  const errorDismiss = h(
    "button",
    { type: "button", class: "jw-button jw-button--ghost jw-error-dismiss", "aria-label": "Dismiss error" },
    h("span", { "aria-hidden": "true" }, "\u00d7"),
  );
  const error = h("div", { class: "jw-error jw-notice", role: "alert", hidden: true }, errorText, errorDismiss);

  const formId = `${idPrefix}form`;
  const runButton = h("button", { type: "button", class: "jw-button jw-button--primary jw-run" }, "Run");
  const cancelButton = h("button", { type: "button", class: "jw-button jw-cancel", hidden: true }, "Cancel run");
  const confirmText = h("span", { class: "jw-confirm-text", id: `${idPrefix}confirm` });
  const confirmYes = h("button", { type: "button", class: "jw-button jw-button--danger jw-cancel-confirm" }, "Yes, cancel");
  const confirmNo = h("button", { type: "button", class: "jw-button jw-cancel-keep" }, "Keep running");
  const confirm = h(
    "div",
    { class: "jw-confirm", role: "group", "aria-labelledby": `${idPrefix}confirm`, hidden: true },
    confirmText,
    confirmYes,
    confirmNo,
  );
  const repairButton = h("button", { type: "button", class: "jw-button jw-repair", hidden: true }, "Repair run");
  const busy = h("span", { class: "jw-busy", role: "status", hidden: true });
  const actions = h("div", { class: "jw-actions" }, runButton, cancelButton, confirm, repairButton, busy);
  const formHost = h("div", { class: "jw-form-host", id: formId, hidden: true });

  const failure = h("div", { class: "jw-failure jw-card", hidden: true });
  const tasks = h("ol", { class: "jw-tasks" });
  const tasksSection = h(
    "section",
    { class: "jw-section jw-tasks-section", "aria-labelledby": `${idPrefix}tasks` },
    h("h3", { class: "jw-section-title", id: `${idPrefix}tasks` }, "Tasks"),
    tasks,
  );
  const history = h("div", { class: "jw-history", role: "group", "aria-labelledby": `${idPrefix}history` });
  const historySection = h(
    "section",
    { class: "jw-section jw-history-section", "aria-labelledby": `${idPrefix}history`, hidden: true },
    h("h3", { class: "jw-section-title", id: `${idPrefix}history` }, "Recent runs"),
    history,
  );
  const live = h("div", { class: "jw-live jw-visually-hidden", "aria-live": "polite", "aria-atomic": "true" });

  const root = h(
    "div",
    // mathjax_ignore: a front end that typesets outputs must leave remote text as text.
    { class: "jw-panel mathjax_ignore tex2jax_ignore", "data-state": "IDLE" },
    h(
      "div",
      { class: "jw-header" },
      h("div", { class: "jw-title" }, jobName, jobKey, jobLinkSlot),
      h("div", { class: "jw-toolbar" }, notifyButton, refreshButton),
    ),
    h(
      "div",
      { class: "jw-status jw-card" },
      h("div", { class: "jw-status-line" }, badge, runLinkSlot, elapsed, runMeta),
      progressRow,
      stateMessage,
      facts,
      params,
    ),
    health,
    error,
    actions,
    formHost,
    failure,
    tasksSection,
    historySection,
    live,
  );

  return {
    root, jobName, jobKey, jobLinkSlot, notifyButton, refreshButton, badge, runLinkSlot, elapsed, runMeta,
    progressRow, progress, progressBar, eta, stateMessage, facts, params, health, healthMessage, healthCountdown,
    error, errorText, errorDismiss, actions, runButton, cancelButton, confirm, confirmText, confirmYes,
    confirmNo, repairButton, busy, formHost, failure, tasksSection, tasks, historySection, history, live,
  };
}

/**
 * Job link ("Job ↗") for the header.
 * @param {Job} job
 * @returns {HTMLElement | null}
 */
export function buildJobLink(job) {
  if (!job.url) return null;
  return linkOrText(job.url, "Open job", "jw-job-link", `Open job ${job.name ?? job.key} in Databricks`);
}

/**
 * "Run 123" — a link to the run page when its URL is http(s).
 * @param {Run} run
 * @returns {HTMLElement}
 */
export function buildRunLink(run) {
  return linkOrText(run.run_page_url, `Run ${run.run_id}`, "jw-run-link", `Open run ${run.run_id} in Databricks`);
}

/**
 * Parameter chips "name = value".
 * @param {Record<string, string>} params
 * @param {number} [max]
 * @returns {HTMLElement[]}
 */
export function buildParams(params, max = 20) {
  const entries = Object.entries(params);
  /** @type {HTMLElement[]} */
  const out = [h("span", { class: "jw-params-title" }, "Parameters:")];
  for (const [k, v] of entries.slice(0, max)) {
    out.push(
      h(
        "span",
        { class: "jw-param" },
        h("span", { class: "jw-param-name" }, k),
        " = ",
        h("span", { class: "jw-param-value" }, v),
      ),
    );
  }
  if (entries.length > max) out.push(h("span", { class: "jw-param jw-param--more" }, `+${entries.length - max} more`));
  return out;
}

/**
 * One task row of a run.
 * @param {TaskRun} task
 * @param {number} now
 * @param {string[]} [shownAbove] messages the status card or the failure box already show (not repeated here)
 * @param {import("./protocol.js").NestedItem[]} [nested] its child runs and failed iterations
 * @returns {HTMLLIElement}
 */
export function buildTaskRow(task, now, shownAbove = [], nested = []) {
  const key = task.task_key || "(unnamed task)";
  const name = linkOrText(task.run_page_url, key, "jw-task-key", `Open task ${key} in Databricks`);
  const text = task.state_message.trim();
  const message =
    task.state !== "SUCCEEDED" && text !== "" && !shownAbove.includes(text)
      ? h("span", { class: "jw-task-message" }, task.state_message)
      : null;
  return h(
    "li",
    { class: `jw-task jw-task--${stateSlug(task.state)}`, "data-task-key": task.task_key },
    h("span", { class: "jw-task-main" }, name, stateBadge(task)),
    h("span", { class: "jw-task-duration" }, durationText(task, now)),
    task.attempt > 0 ? h("span", { class: "jw-task-attempt" }, `attempt ${task.attempt + 1}`) : null,
    task.detail ? h("span", { class: "jw-task-detail" }, task.detail) : null,
    dependsOn(task.depends_on),
    message,
    ...nested.map(buildNested),
  );
}

/**
 * A child run ("… started report run 5301", its page, the magic that opens its panel)
 * or a for-each task's failed iterations, each with its page.
 * @param {import("./protocol.js").NestedItem} item
 * @returns {HTMLElement}
 */
function buildNested(item) {
  const parts = [item.url ? linkOrText(item.url, item.text, "jw-nested-link", item.text) : item.text];
  if (item.magic) parts.push(": ", h("code", { class: "jw-nested-magic" }, item.magic));
  if (item.items && item.items.length > 0) {
    parts.push(": ");
    item.items.forEach((sub, i) => {
      if (i > 0) parts.push(", ");
      parts.push(sub.url ? linkOrText(sub.url, sub.text, "jw-nested-link", sub.text) : sub.text);
    });
  }
  return h("span", { class: "jw-task-nested" }, ...parts);
}

/**
 * A task of the job definition, shown before any run exists.
 * @param {JobTask} task
 * @returns {HTMLLIElement}
 */
export function buildPlannedTaskRow(task) {
  const type = task.type_text || task.type;
  return h(
    "li",
    { class: "jw-task jw-task--planned", "data-task-key": task.task_key },
    h("span", { class: "jw-task-main" }, h("span", { class: "jw-task-key" }, task.task_key || "(unnamed task)")),
    type ? h("span", { class: "jw-task-type" }, type) : null,
    dependsOn(task.depends_on),
  );
}

/**
 * "after extract, transform" (null without dependencies).
 * @param {string[]} keys
 * @returns {HTMLElement | null}
 */
function dependsOn(keys) {
  return keys.length > 0 ? h("span", { class: "jw-task-deps" }, `after ${keys.join(", ")}`) : null;
}

/**
 * A history strip entry (a button; `widget.js` wires the click).
 * @param {HistoryEntry} entry
 * @returns {HTMLButtonElement}
 */
export function buildHistoryItem(entry) {
  const label = historyItemLabel(entry);
  return h("button", {
    type: "button",
    class: `jw-history-item jw-history-item--${stateSlug(entry.state)}`,
    "data-run-id": entry.run_id,
    "data-tone": entry.tone,
    "aria-label": label,
    title: entry.start_text ? `${label} (started ${entry.start_text})` : label,
  });
}

/**
 * Children of `.jw-failure`: heading, message, error and collapsible trace.
 * @param {Failure} failure
 * @returns {HTMLElement[]}
 */
export function buildFailure(failure) {
  /** @type {HTMLElement[]} */
  const out = [
    h(
      "h3",
      { class: "jw-failure-title" },
      failure.task_key ? `Task ${failure.task_key} failed` : "Run failed",
    ),
  ];
  if (failure.state_message.trim() !== "" && !(failure.message_repeats_error && failure.error)) {
    out.push(h("p", { class: "jw-failure-message" }, failure.state_message));
  }
  if (failure.error) {
    out.push(h("pre", { class: "jw-failure-error" }, failure.error));
  }
  if (failure.error_trace) {
    out.push(
      h(
        "details",
        { class: "jw-trace" },
        h("summary", {}, failure.error_trace_title ?? "Stack trace"),
        h("pre", { class: "jw-trace-text" }, failure.error_trace),
      ),
    );
  }
  return out;
}

/**
 * Small "· trigger · run name" text for the status line.
 * @param {Run} run
 * @returns {string}
 */
export function runMetaText(run) {
  const parts = [];
  if (run.run_name) parts.push(run.run_name);
  const started = run.facts.find(([label]) => label === "Started");
  const trigger = started ? started[1] : run.trigger_text || run.trigger;
  if (trigger) parts.push(started ? `started: ${trigger}` : `trigger: ${trigger}`);
  return parts.join(" \u00b7 ");
}

/** Facts the status card shows under the state message (the header says "Started", the chips the parameters). */
const CARD_FACTS = new Set(["Queued", "Ended", "Repaired"]);

/**
 * The fact line of the status card: "Ended: … · Repaired: …" ("" when there is none).
 * @param {Run} run
 * @returns {string}
 */
export function factsText(run) {
  return run.facts
    .filter(([label]) => CARD_FACTS.has(label))
    .map(([label, text]) => `${label}: ${text}`)
    .join(" \u00b7 ");
}

/**
 * Tooltip of `.jw-elapsed` (its text is the bare duration, e.g. "4m 12s").
 * @param {boolean} terminal
 * @param {boolean} [repairing]  a repair of the run is running (elapsed counts from its start)
 * @returns {string}
 */
export function elapsedTitle(terminal, repairing = false) {
  if (repairing) return "Time since the repair began";
  return terminal ? "Total duration" : "Elapsed time";
}
