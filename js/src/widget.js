// anywidget entry point: wires the model's traits to the DOM (sections.js fills the
// skeleton of view.js) and turns user actions into messages. The view never sets a
// trait, and shows what Python decided (labels, tones, durations, limits); only the
// elapsed time of a running run ticks here, on the jobs' clock.

import { KIND, PENDING, TRAITS } from "./protocol.js";
import {
  normalizeClock,
  normalizeError,
  normalizeEta,
  normalizeHealth,
  normalizeHistory,
  normalizeJob,
  normalizePending,
  normalizePendingDetail,
  normalizeRun,
  normalizeSchema,
} from "./normalize.js";
import { canRepair, runSummary, stateAnnouncement } from "./format.js";
import { createRepairChooser } from "./repair.js";
import { createRunConfirm } from "./runconfirm.js";
import { setShown, setText } from "./dom.js";
import { buildSkeleton } from "./view.js";
import { mountTaskViews } from "./taskviews.js";
import { needsTicks, renderActions, renderError, renderHistory, renderJob, renderRun, renderTimes } from "./sections.js";
import { buildParamsForm } from "./form.js";
import { fieldsFromSchema } from "./schema.js";
import { announceFinished, clearTitleBadge, documentVisible, notificationPermission, visibilityReporter } from "./page.js";

/** @typedef {import("./protocol.js").Traits} Traits */
/** @typedef {import("./protocol.js").WidgetModel} WidgetModel */
/** @typedef {import("./protocol.js").OutgoingMessage} OutgoingMessage */
/** @typedef {import("./protocol.js").Run} Run */
/** @typedef {import("./protocol.js").Pending} Pending */
/** @typedef {import("./protocol.js").Clock} Clock */
/** @typedef {import("./form.js").ParamsForm} ParamsForm */
/** @typedef {import("./sections.js").TaskRow} TaskRow */

const TICK_MS = 1000;

let viewCounter = 0;

/**
 * Render one view of the panel into `el`. Returns the cleanup function.
 * @param {{ model: WidgetModel, el: HTMLElement }} props
 * @returns {() => void}
 */
function render({ model, el }) {
  const viewId = Symbol("jw-view");
  const idPrefix = `jw${++viewCounter}-`;
  const ui = buildSkeleton(idPrefix);
  /** @type {(() => void)[]} */
  const disposers = [];
  let disposed = false;

  /**
   * @param {EventTarget} target
   * @param {string} type
   * @param {(event: any) => void} handler
   */
  const listen = (target, type, handler) => {
    target.addEventListener(type, handler);
    disposers.push(() => target.removeEventListener(type, handler));
  };

  /** @param {OutgoingMessage} message */
  const send = (message) => {
    try {
      model.send(message);
    } catch (err) {
      console.warn("jobs_widgets: could not send", message.kind, err);
    }
  };

  // ----- view-local state ---------------------------------------------------
  /** What the clock-driven parts show (refreshed by every sync). */
  const shown = {
    /** @type {Run | null} */ run: null,
    eta: normalizeEta(null),
    health: normalizeHealth(null),
    /** @type {TaskRow[]} */ rows: [],
  };
  /** @type {Pending} */
  let pending = "";
  let busy = "";
  /** Error text the user dismissed (hidden until the trait changes). */
  let dismissedError = /** @type {string | null} */ (null);
  /** Run id the inline cancel confirmation is about, or null. */
  let confirmRunId = /** @type {number | null} */ (null);
  let formOpen = false;
  /** @type {ParamsForm | null} */
  let form = null;
  let formKey = "";
  /** Set after submitting the form: close it once the run was accepted. */
  let awaitingRun = /** @type {{ runId: number | null, sawPending: boolean } | null} */ (null);
  /** Last (run id, state, terminal) seen, for announcements and notifications. */
  let previous = /** @type {{ runId: number, state: string, terminal: boolean } | null} */ (null);
  /** @type {ReturnType<typeof setInterval> | null} */
  let ticker = null;

  // ----- the jobs' clock ------------------------------------------------------
  /** @type {{ clock: Clock, receivedAt: number } | null} */
  let clockSample = null;
  const sampleClock = () => {
    const clock = normalizeClock(model.get("clock"));
    clockSample = clock ? { clock, receivedAt: Date.now() } : null;
  };
  /** The jobs' "now" in epoch ms: the Python clock moved on by local time x its rate. */
  const jobsNow = () => {
    if (clockSample === null) return Date.now();
    const { clock, receivedAt } = clockSample;
    return clock.now_ms + (Date.now() - receivedAt) * clock.rate;
  };
  sampleClock();
  disposers.push(mountTaskViews({ model, root: ui.root, before: ui.historySection, idPrefix, send, now: jobsNow }));

  const repairChooser = createRepairChooser(idPrefix, ui.repairButton, (runId, tasks) => {
    dismissedError = null;
    send(tasks === null ? { kind: KIND.REPAIR, run_id: runId } : { kind: KIND.REPAIR, run_id: runId, tasks });
  });
  ui.formHost.after(repairChooser.node);
  const runConfirm = createRunConfirm(idPrefix, ui.runButton, (params) => {
    dismissedError = null;
    send({ kind: KIND.RUN, params });
  });
  ui.formHost.after(runConfirm.node);

  /** @returns {boolean} */
  const hasFormFields = () => fieldsFromSchema(normalizeSchema(model.get("params_schema"))).length > 0;

  const showActions = () =>
    renderActions(ui, { run: shown.run, pending, busy, confirmRunId, withForm: hasFormFields(), formOpen });

  /** @param {string} error */
  const showError = (error) => {
    if (dismissedError !== null && dismissedError !== error) dismissedError = null;
    renderError(ui, dismissedError === null ? error : "");
  };

  const renderNotify = () => setShown(ui.notifyButton, notificationPermission() === "default");

  /**
   * @param {HTMLElement} container
   * @returns {boolean}
   */
  const hasFocusWithin = (container) => {
    const active = document.activeElement;
    return active !== null && container.contains(active);
  };

  const closeConfirm = (restoreFocus = false) => {
    if (confirmRunId === null) return;
    const hadFocus = hasFocusWithin(ui.confirm);
    confirmRunId = null;
    showActions();
    if (restoreFocus || hadFocus) (ui.cancelButton.hidden ? ui.runButton : ui.cancelButton).focus();
  };

  const tick = () => renderTimes(ui, shown, jobsNow());

  const updateTicker = () => {
    const needed = needsTicks(shown.run, shown.health);
    if (needed && ticker === null && !disposed) {
      ticker = setInterval(tick, TICK_MS);
    } else if (!needed && ticker !== null) {
      clearInterval(ticker);
      ticker = null;
    }
  };

  // ----- params form ----------------------------------------------------------

  const closeForm = (restoreFocus = false) => {
    if (!formOpen) return;
    const hadFocus = hasFocusWithin(ui.formHost);
    formOpen = false;
    setShown(ui.formHost, false);
    showActions();
    if (restoreFocus || hadFocus) ui.runButton.focus();
  };

  /** @param {import("./protocol.js").JsonSchema | null} schema */
  const renderForm = (schema) => {
    const key = schema && fieldsFromSchema(schema).length > 0 ? JSON.stringify(schema) : "";
    if (key === formKey) return;
    formKey = key;
    const previousValues = form?.getRawValues();
    form?.destroy();
    form = null;
    ui.formHost.replaceChildren();
    if (schema === null || key === "") {
      closeForm();
      return;
    }
    form = buildParamsForm(schema, {
      idPrefix,
      lastParams: shown.run ? shown.run.params : null,
      onClose: () => closeForm(true),
      onSubmit: (params) => {
        dismissedError = null;
        awaitingRun = { runId: shown.run ? shown.run.run_id : null, sawPending: false };
        send({ kind: KIND.RUN, params });
      },
    });
    if (previousValues) form.setRawValues(previousValues);
    form.setPending(pending === PENDING.RUN);
    ui.formHost.append(form.form);
  };

  /** Close the form once Python accepted the submitted run. */
  const settleSubmittedRun = () => {
    if (awaitingRun === null) return;
    if (pending === PENDING.RUN) {
      awaitingRun.sawPending = true;
      return;
    }
    const run = shown.run;
    const newRun = run !== null && run.run_id !== awaitingRun.runId;
    const accepted = awaitingRun.sawPending && normalizeError(model.get("error")) === "";
    if (newRun || accepted) {
      awaitingRun = null;
      closeForm();
    } else if (awaitingRun.sawPending) {
      awaitingRun = null; // rejected: keep the form open next to the error
    }
  };

  // ----- announcements & notifications ----------------------------------------

  const trackTransitions = () => {
    const run = shown.run;
    if (run === null) {
      previous = null;
      return;
    }
    const current = { runId: run.run_id, state: run.state, terminal: run.is_terminal };
    if (previous !== null && (previous.runId !== current.runId || previous.state !== current.state)) {
      setText(ui.live, stateAnnouncement(run));
    }
    if (previous !== null && previous.runId === current.runId && !previous.terminal && current.terminal) {
      const job = normalizeJob(model.get("job"));
      announceFinished(model, viewId, job ? job.name || job.key : "", run, runSummary(run, jobsNow()));
    }
    previous = current;
  };

  // ----- full sync from traits --------------------------------------------------

  const sync = () => {
    if (disposed) return;
    const now = jobsNow();
    const job = normalizeJob(model.get("job"));
    const run = normalizeRun(model.get("run"));
    shown.run = run;
    shown.eta = normalizeEta(model.get("eta"));
    shown.health = normalizeHealth(model.get("health"));
    pending = normalizePending(model.get("pending"));
    busy = normalizePendingDetail(model.get("pending_detail"));
    if (confirmRunId !== null && (run === null || run.run_id !== confirmRunId || run.is_terminal)) {
      closeConfirm();
    }
    const choosing = repairChooser.runId();
    if (choosing !== null && (run === null || run.run_id !== choosing || !canRepair(run))) repairChooser.close();
    renderJob(ui, job);
    shown.rows = renderRun(ui, run, job, now);
    renderHistory(ui, normalizeHistory(model.get("history")), run);
    showError(normalizeError(model.get("error")));
    renderForm(normalizeSchema(model.get("params_schema")));
    settleSubmittedRun();
    showActions();
    form?.setPending(pending === PENDING.RUN);
    renderNotify();
    renderTimes(ui, shown, now);
    trackTransitions();
    updateTicker();
  };

  // ----- user actions --------------------------------------------------------------

  listen(ui.runButton, "click", () => {
    if (pending === PENDING.RUN) return;
    if (!hasFormFields()) {
      if (runConfirm.isOpen()) runConfirm.close(true);
      else runConfirm.open(shown.run); // never a run in one click without saying with what
      return;
    }
    if (formOpen) {
      closeForm();
      return;
    }
    formOpen = true;
    setShown(ui.formHost, true);
    showActions();
    form?.focusFirst();
  });

  listen(ui.cancelButton, "click", () => {
    const run = shown.run;
    if (run === null || run.is_terminal || pending === PENDING.CANCEL) return;
    confirmRunId = run.run_id;
    showActions();
    ui.confirmNo.focus();
  });
  listen(ui.confirmYes, "click", () => {
    if (confirmRunId === null || pending === PENDING.CANCEL) return;
    const runId = confirmRunId;
    dismissedError = null;
    send({ kind: KIND.CANCEL, run_id: runId });
    closeConfirm(true);
  });
  listen(ui.confirmNo, "click", () => closeConfirm(true));

  listen(ui.repairButton, "click", () => {
    const run = shown.run;
    if (run === null || !canRepair(run) || pending === PENDING.REPAIR) return;
    if (repairChooser.runId() === run.run_id) repairChooser.close(true);
    else repairChooser.open(run); // nothing is sent before the chooser is confirmed
  });
  listen(ui.refreshButton, "click", () => {
    if (pending === PENDING.REFRESH) return;
    send({ kind: KIND.REFRESH });
  });
  listen(ui.history, "click", (event) => {
    const target = event.target instanceof Element ? event.target.closest(".jw-history-item") : null;
    if (!(target instanceof HTMLElement) || !ui.history.contains(target)) return;
    const runId = Number(target.dataset.runId);
    if (Number.isFinite(runId)) send({ kind: KIND.SELECT, run_id: runId });
  });
  listen(ui.errorDismiss, "click", () => {
    dismissedError = normalizeError(model.get("error"));
    showError(dismissedError);
    ui.runButton.focus();
  });
  listen(ui.notifyButton, "click", () => {
    if (typeof Notification === "undefined" || Notification.permission !== "default") return;
    const rerender = () => {
      if (!disposed) renderNotify();
    };
    try {
      const result = Notification.requestPermission(rerender);
      if (result && typeof result.then === "function") result.then(rerender, () => {});
    } catch (err) {
      console.warn("jobs_widgets: requestPermission failed", err);
    }
  });
  listen(ui.root, "keydown", (/** @type {KeyboardEvent} */ event) => {
    if (event.key !== "Escape") return;
    if (confirmRunId !== null) {
      closeConfirm(true);
    } else if (repairChooser.runId() !== null) {
      repairChooser.close(true);
    } else if (runConfirm.isOpen()) {
      runConfirm.close(true);
    } else if (formOpen) {
      closeForm(true);
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  });

  // ----- visibility -----------------------------------------------------------------

  let intersecting = true;
  const visibility = visibilityReporter(model, viewId, send);
  const reportVisibility = () => {
    if (!disposed) visibility.set(intersecting && documentVisible());
  };

  /** @type {IntersectionObserver | null} */
  let observer = null;
  if (typeof IntersectionObserver === "function") {
    observer = new IntersectionObserver((entries) => {
      const last = entries[entries.length - 1];
      if (!last) return;
      intersecting = last.isIntersecting;
      reportVisibility();
    });
    observer.observe(ui.root);
  }

  const clearBadgeIfSeen = () => {
    if (documentVisible()) clearTitleBadge(viewId);
  };
  listen(document, "visibilitychange", () => {
    reportVisibility();
    clearBadgeIfSeen();
  });
  if (typeof window !== "undefined") listen(window, "focus", clearBadgeIfSeen);

  // ----- model subscriptions ------------------------------------------------------------

  /**
   * @param {string} event
   * @param {() => void} handler
   */
  const onModel = (event, handler) => {
    model.on(event, handler);
    disposers.push(() => model.off(event, handler));
  };
  onModel("change:clock", sampleClock);
  for (const trait of TRAITS) onModel(`change:${trait}`, sync);

  el.appendChild(ui.root);
  sync();
  reportVisibility();

  return () => {
    if (disposed) return;
    disposed = true;
    for (const dispose of disposers.splice(0)) dispose();
    if (ticker !== null) {
      clearInterval(ticker);
      ticker = null;
    }
    observer?.disconnect();
    observer = null;
    form?.destroy();
    form = null;
    clearTitleBadge(viewId);
    visibility.drop();
    ui.root.remove();
  };
}

// `@satisfies` checks the anywidget contract (AnyModel<Traits> must fit
// WidgetModel) without widening the type, so tests can call `render` directly.
/** @satisfies {import("@anywidget/types").AnyWidget<Traits>} */
const widget = { render };

export default widget;
