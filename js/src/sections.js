// Filling the skeleton (view.js) from normalised traits, one section at a time.
// Each function only writes the DOM of its section; `widget.js` decides when.

import { PENDING } from "./protocol.js";
import { canRepair, durationText, healthText, isRunActive, progressInfo } from "./format.js";
import { applyBadge, reconcile, setShown, setText } from "./dom.js";
import {
  IDLE,
  buildFailure,
  buildHistoryItem,
  buildJobLink,
  buildParams,
  buildPlannedTaskRow,
  buildRunLink,
  buildTaskRow,
  elapsedTitle,
  factsText,
  runMetaText,
} from "./view.js";

/** @typedef {import("./view.js").Skeleton} Skeleton */
/** @typedef {import("./protocol.js").Job} Job */
/** @typedef {import("./protocol.js").Run} Run */
/** @typedef {import("./protocol.js").TaskRun} TaskRun */
/** @typedef {import("./protocol.js").Eta} Eta */
/** @typedef {import("./protocol.js").Health} Health */
/** @typedef {import("./protocol.js").HistoryEntry} HistoryEntry */
/** @typedef {import("./protocol.js").Pending} Pending */
/** @typedef {{ node: HTMLElement, task: TaskRun }} TaskRow */

/** @type {WeakMap<Element, string>} */
const shownKeys = new WeakMap();

/**
 * True (and remembered) when `key` differs from what `el` was last filled from.
 * @param {Element} el
 * @param {string} key
 * @returns {boolean}
 */
function changed(el, key) {
  if (shownKeys.get(el) === key) return false;
  shownKeys.set(el, key);
  return true;
}

/**
 * @param {Skeleton} ui
 * @param {Job | null} job
 */
export function renderJob(ui, job) {
  const name = job ? job.name || job.key || `Job ${job.job_id}` : "Job";
  setText(ui.jobName, name);
  const key = job ? job.key : "";
  setText(ui.jobKey, key);
  setShown(ui.jobKey, key !== "" && key !== name);
  if (changed(ui.jobLinkSlot, job ? `${job.name}|${job.key}|${job.url}` : "")) {
    const link = job ? buildJobLink(job) : null;
    ui.jobLinkSlot.replaceChildren(...(link ? [link] : []));
  }
}

/**
 * The status card, failure details and task rows of `run` (the job's planned tasks
 * before any run). Failure details are rebuilt only when their content changes, so an
 * opened <details> stays open across polls.
 * @param {Skeleton} ui
 * @param {Run | null} run
 * @param {Job | null} job
 * @param {number} now
 * @returns {TaskRow[]} the rows of the run's tasks (their durations may tick)
 */
export function renderRun(ui, run, job, now) {
  ui.root.setAttribute("data-state", run ? run.state : IDLE.state);
  applyBadge(ui.badge, run ?? IDLE, "jw-run-state");

  if (changed(ui.runLinkSlot, run ? `${run.run_id}|${run.run_page_url}` : "")) {
    ui.runLinkSlot.replaceChildren(...(run ? [buildRunLink(run)] : []));
  }
  setText(ui.runMeta, run ? runMetaText(run) : "");

  const failure = run?.failure ?? null;
  const message = run ? run.state_message.trim() : "";
  const showMessage = message !== "" && failure?.state_message.trim() !== message;
  setText(ui.stateMessage, showMessage ? message : "");
  setShown(ui.stateMessage, showMessage);
  const facts = run ? factsText(run) : "";
  setText(ui.facts, facts);
  setShown(ui.facts, facts !== "");

  if (changed(ui.params, run ? JSON.stringify(run.params) : "")) {
    const has = run !== null && Object.keys(run.params).length > 0;
    ui.params.replaceChildren(...(has && run ? buildParams(run.params) : []));
    setShown(ui.params, has);
  }

  if (changed(ui.failure, failure ? JSON.stringify(failure) : "")) {
    ui.failure.replaceChildren(...(failure ? buildFailure(failure) : []));
    setShown(ui.failure, failure !== null);
  }

  /** @type {TaskRow[]} */
  let rows = [];
  if (run && run.tasks.length > 0) {
    // a task's message that the card or the failure box already says is not said again
    const shownAbove = [failure?.state_message.trim() ?? "", showMessage ? message : ""].filter((t) => t !== "");
    const items = run.tasks.map((task, i) => {
      const { duration_text, ...stable } = task; // a ticking row is updated in place
      const said = shownAbove.includes(task.state_message.trim()); // only this decides the row's message
      const nested = Object.prototype.hasOwnProperty.call(run.nested, task.task_key) ? run.nested[task.task_key] : [];
      const sig = JSON.stringify([stable, task.ticks ? null : duration_text, said, nested]);
      return {
        key: `${occurrence(run.tasks, i, (t) => t.task_key)}`,
        sig,
        build: () => buildTaskRow(task, now, shownAbove, nested),
      };
    });
    rows = reconcile(ui.tasks, items).map((node, i) => ({ node, task: run.tasks[i] }));
  } else {
    const tasks = job?.tasks ?? [];
    reconcile(
      ui.tasks,
      tasks.map((task, i) => ({
        key: `plan:${occurrence(tasks, i, (t) => t.task_key)}`,
        sig: JSON.stringify(task),
        build: () => buildPlannedTaskRow(task),
      })),
    );
  }
  setShown(ui.tasksSection, ui.tasks.childElementCount > 0);
  return rows;
}

/**
 * A stable key for `items[index]`: its own key and how often that key came before.
 * @template T
 * @param {T[]} items
 * @param {number} index
 * @param {(item: T) => string | number} keyOf
 * @returns {string}
 */
function occurrence(items, index, keyOf) {
  const key = keyOf(items[index]);
  let n = 0;
  for (let i = 0; i < index; i++) if (keyOf(items[i]) === key) n++;
  return `${key}#${n}`;
}

/**
 * Everything that moves with the clock: elapsed time, progress, ticking task
 * durations, the retry countdown.
 * @param {Skeleton} ui
 * @param {{ run: Run | null, eta: Eta | null, health: Health, rows: TaskRow[] }} state
 * @param {number} now
 */
export function renderTimes(ui, { run, eta, health, rows }, now) {
  const elapsed = run ? durationText(run, now) : "";
  setText(ui.elapsed, elapsed);
  ui.elapsed.title = run ? elapsedTitle(run.is_terminal, run.repairing) : "";
  setShown(ui.elapsed, elapsed !== "");

  const info = progressInfo(run, eta, now);
  setShown(ui.progress, info.visible);
  setText(ui.eta, info.label);
  setShown(ui.eta, info.label !== "");
  ui.eta.title = eta ? `Based on ${eta.samples} recent successful run${eta.samples === 1 ? "" : "s"}` : "";
  setShown(ui.progressRow, info.visible || info.label !== "");
  ui.progress.classList.toggle("jw-progress--indeterminate", info.fraction === null);
  ui.progress.classList.toggle("jw-progress--overdue", info.overdue);
  ui.eta.classList.toggle("jw-eta--overdue", info.overdue);
  if (info.fraction === null) {
    ui.progress.removeAttribute("aria-valuenow");
    ui.progress.removeAttribute("aria-valuetext");
    ui.progressBar.style.width = "";
  } else {
    const pct = Math.round(info.fraction * 100);
    ui.progress.setAttribute("aria-valuenow", String(pct));
    ui.progress.setAttribute("aria-valuetext", `About ${pct}%, ${info.label}`);
    ui.progressBar.style.width = `${(info.fraction * 100).toFixed(1)}%`;
  }

  for (const { node, task } of rows) {
    if (!task.ticks) continue;
    const duration = node.querySelector(".jw-task-duration");
    if (duration) setText(duration, durationText(task, now));
  }
  renderHealth(ui, health, now);
}

/**
 * Whether anything on screen moves with the clock.
 * @param {Run | null} run
 * @param {Health} health
 * @returns {boolean}
 */
export function needsTicks(run, health) {
  return isRunActive(run) || health.status === "degraded";
}

/**
 * The connection notice: degraded (with a countdown) or stopped following.
 * @param {Skeleton} ui
 * @param {Health} health
 * @param {number} now
 */
export function renderHealth(ui, health, now) {
  const shown = health.status !== "ok";
  setShown(ui.health, shown);
  ui.health.classList.toggle("jw-health--stopped", health.status === "stopped");
  const text = shown ? healthText(health, now) : { message: "", countdown: "" };
  setText(ui.healthMessage, text.message);
  setText(ui.healthCountdown, text.countdown);
}

/**
 * @param {Skeleton} ui
 * @param {HistoryEntry[]} history
 * @param {Run | null} run
 */
export function renderHistory(ui, history, run) {
  const nodes = reconcile(
    ui.history,
    history.map((entry, i) => ({
      key: occurrence(history, i, (e) => e.run_id),
      sig: JSON.stringify(entry),
      build: () => buildHistoryItem(entry),
    })),
  );
  nodes.forEach((node, i) => {
    if (run !== null && history[i].run_id === run.run_id) node.setAttribute("aria-current", "true");
    else node.removeAttribute("aria-current");
  });
  setShown(ui.historySection, history.length > 0);
}

/**
 * @param {Skeleton} ui
 * @param {string} error  "" when none is shown
 */
export function renderError(ui, error) {
  setText(ui.errorText, error);
  setShown(ui.error, error !== "");
}

/**
 * @typedef {object} ActionsState
 * @property {Run | null} run
 * @property {Pending} pending
 * @property {string} busy          what the panel says while `pending` is set
 * @property {number | null} confirmRunId  the run the inline cancel confirmation is about
 * @property {boolean} withForm     Run opens a parameters form
 * @property {boolean} formOpen
 */

/**
 * Run / Cancel (with its confirmation) / Repair / Refresh: each disabled only while
 * its own command is pending (a stopped or degraded connection does not disable them).
 * @param {Skeleton} ui
 * @param {ActionsState} state
 */
export function renderActions(ui, { run, pending, busy, confirmRunId, withForm, formOpen }) {
  const active = isRunActive(run);
  const confirming = confirmRunId !== null;
  const unknown = run !== null && !run.known; // a run was started or asked for: never invite a second one blind
  ui.runButton.disabled = pending === PENDING.RUN || unknown;
  ui.runButton.title = unknown ? `Run ${run.run_id}'s state is not known yet` : "";
  ui.runButton.setAttribute("aria-busy", pending === PENDING.RUN ? "true" : "false");
  if (withForm) {
    ui.runButton.setAttribute("aria-expanded", formOpen ? "true" : "false");
    ui.runButton.setAttribute("aria-controls", ui.formHost.id);
  } else {
    ui.runButton.removeAttribute("aria-expanded");
    ui.runButton.removeAttribute("aria-controls");
  }
  setText(ui.runButton, withForm ? "Run\u2026" : "Run");

  setShown(ui.cancelButton, active && !confirming);
  ui.cancelButton.disabled = pending === PENDING.CANCEL;
  setShown(ui.confirm, active && confirming);
  ui.confirmYes.disabled = pending === PENDING.CANCEL;
  setText(ui.confirmText, confirmRunId !== null ? `Cancel run ${confirmRunId}?` : "");

  setShown(ui.repairButton, canRepair(run));
  ui.repairButton.disabled = pending === PENDING.REPAIR;
  ui.refreshButton.disabled = pending === PENDING.REFRESH;
  if (pending) ui.root.setAttribute("data-pending", pending);
  else ui.root.removeAttribute("data-pending");

  const busyText = pending ? busy : "";
  setText(ui.busy, busyText);
  setShown(ui.busy, busyText !== "");
}
