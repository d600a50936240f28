// anywidget entry point: wires the model's traits to the DOM built by view.js
// and turns user actions into messages. The view never sets a trait.

import {
  KIND,
  PENDING,
  TRAITS,
  normalizeClock,
  normalizeError,
  normalizeEta,
  normalizeHealth,
  normalizeHistory,
  normalizeJob,
  normalizePending,
  normalizeRun,
  normalizeSchema,
} from "./protocol.js";
import {
  LIMITS,
  canRepair,
  durationOf,
  formatDuration,
  healthText,
  isRunActive,
  isTaskTicking,
  progressInfo,
  runSummary,
  stateAnnouncement,
  taskDurationText,
  titleMark,
  truncateText,
} from "./format.js";
import {
  applyBadge,
  buildFailure,
  buildHistoryItem,
  buildJobLink,
  buildParams,
  buildPlannedTaskRow,
  buildRunLink,
  buildSkeleton,
  buildTaskRow,
  elapsedTitle,
  runMetaText,
  setShown,
  setText,
} from "./view.js";
import { buildParamsForm, fieldsFromSchema } from "./form.js";

/** @typedef {import("./protocol.js").Traits} Traits */
/** @typedef {import("./protocol.js").WidgetModel} WidgetModel */
/** @typedef {import("./protocol.js").OutgoingMessage} OutgoingMessage */
/** @typedef {import("./protocol.js").Run} Run */
/** @typedef {import("./protocol.js").TaskRun} TaskRun */
/** @typedef {import("./form.js").ParamsForm} ParamsForm */

const TICK_MS = 1000;

let viewCounter = 0;

// ---------------------------------------------------------------------------
// State shared by all views of one page.
// ---------------------------------------------------------------------------

/**
 * Visibility is reported per model, not per view: Python sees one boolean
 * ("is any view of this panel visible?") and only when it changes.
 * @type {WeakMap<object, { views: Map<symbol, boolean>, last: boolean | undefined }>}
 */
const visibilityByModel = new WeakMap();

/**
 * Runs already announced with a notification + title badge, per model, so
 * several views of one panel do not notify twice.
 * @type {WeakMap<object, Set<number>>}
 */
const notifiedByModel = new WeakMap();

/** Title badge ("✓ " / "✗ ") shared by all views. */
const titleBadge = {
  /** @type {Set<symbol>} */
  holders: new Set(),
  prefix: "",
};

/**
 * @param {symbol} holder
 * @param {string} mark
 */
function setTitleBadge(holder, mark) {
  let base = document.title;
  if (titleBadge.prefix && base.startsWith(titleBadge.prefix)) base = base.slice(titleBadge.prefix.length);
  titleBadge.prefix = `${mark} `;
  titleBadge.holders.add(holder);
  document.title = titleBadge.prefix + base;
}

/** @param {symbol} holder */
function clearTitleBadge(holder) {
  if (!titleBadge.holders.delete(holder) || titleBadge.holders.size > 0) return;
  if (titleBadge.prefix && document.title.startsWith(titleBadge.prefix)) {
    document.title = document.title.slice(titleBadge.prefix.length);
  }
  titleBadge.prefix = "";
}

/** @returns {boolean} */
function documentVisible() {
  return typeof document === "undefined" || document.visibilityState !== "hidden";
}

/** @returns {NotificationPermission | null} */
function notificationPermission() {
  return typeof Notification === "undefined" ? null : Notification.permission;
}

// ---------------------------------------------------------------------------
// Keyed list reconciliation that keeps unchanged nodes (and their focus).
// ---------------------------------------------------------------------------

/** @type {WeakMap<Element, { key: string, sig: string }>} */
const nodeMeta = new WeakMap();

/**
 * @template {HTMLElement} E
 * @param {HTMLElement} container
 * @param {{ key: string, sig: string, build: () => E }[]} items
 * @returns {E[]} the nodes now in the container, in order
 */
function reconcile(container, items) {
  /** @type {Map<string, HTMLElement>} */
  const existing = new Map();
  for (const child of Array.from(container.children)) {
    const meta = nodeMeta.get(child);
    if (meta && child instanceof HTMLElement) existing.set(meta.key, child);
  }
  const active = document.activeElement;
  /** @type {string | null} */
  let focusKey = null;
  /** @type {HTMLElement[]} */
  const nodes = items.map(({ key, sig, build }) => {
    const old = existing.get(key);
    if (old && nodeMeta.get(old)?.sig === sig) {
      existing.delete(key);
      return old;
    }
    const node = build();
    nodeMeta.set(node, { key, sig });
    return node;
  });
  for (const [key, stale] of existing) {
    if (active && stale.contains(active)) focusKey = key;
    stale.remove();
  }
  for (const child of Array.from(container.children)) {
    if (!nodes.includes(/** @type {HTMLElement} */ (child))) child.remove();
  }
  /** @type {ChildNode | null} */
  let cursor = container.firstChild;
  for (const node of nodes) {
    if (node === cursor) cursor = cursor.nextSibling;
    else container.insertBefore(node, cursor);
  }
  if (focusKey !== null) {
    const replacement = nodes.find((n) => nodeMeta.get(n)?.key === focusKey);
    const target = replacement?.matches("button, a") ? replacement : replacement?.querySelector("button, a");
    if (target instanceof HTMLElement) target.focus();
  }
  return /** @type {E[]} */ (nodes);
}

// ---------------------------------------------------------------------------
// render
// ---------------------------------------------------------------------------

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
   * @param {string} event
   * @param {(...args: any[]) => void} handler
   */
  const onModel = (event, handler) => {
    model.on(event, handler);
    disposers.push(() => model.off(event, handler));
  };
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
  /** @type {Run | null} */
  let run = null;
  let pending = /** @type {import("./protocol.js").Pending} */ ("");
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
  let failureKey = "";
  /** @type {ReturnType<typeof setInterval> | null} */
  let ticker = null;
  /** @type {{ node: HTMLElement, task: TaskRun }[]} */
  let taskRows = [];

  // ----- the jobs' clock ------------------------------------------------------
  /** @type {{ clock: import("./protocol.js").Clock, receivedAt: number } | null} */
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

  // ----- reading traits -------------------------------------------------------
  const read = () => ({
    job: normalizeJob(model.get("job")),
    run: normalizeRun(model.get("run")),
    history: normalizeHistory(model.get("history")),
    eta: normalizeEta(model.get("eta")),
    health: normalizeHealth(model.get("health")),
    error: normalizeError(model.get("error")),
    schema: normalizeSchema(model.get("params_schema")),
    pending: normalizePending(model.get("pending")),
  });

  /** @returns {boolean} */
  const hasFormFields = () => fieldsFromSchema(normalizeSchema(model.get("params_schema"))).length > 0;

  // ----- sections -------------------------------------------------------------

  /** @param {ReturnType<typeof read>["job"]} job */
  const renderJob = (job) => {
    const name = job ? job.name || job.key || `Job ${job.job_id}` : "Job";
    setText(ui.jobName, truncateText(name, LIMITS.name));
    const key = job ? job.key : "";
    setText(ui.jobKey, truncateText(key, LIMITS.name));
    setShown(ui.jobKey, key !== "" && key !== name);
    const link = job ? buildJobLink(job) : null;
    const linkKey = job ? `${job.url}` : "";
    if (ui.jobLinkSlot.dataset.key !== linkKey) {
      ui.jobLinkSlot.dataset.key = linkKey;
      ui.jobLinkSlot.replaceChildren(...(link ? [link] : []));
    }
  };

  /** @param {number} now */
  const renderTimes = (now) => {
    const eta = normalizeEta(model.get("eta"));
    const terminal = run !== null && run.is_terminal;
    const ms = run ? durationOf(run, now) : null;
    setText(ui.elapsed, formatDuration(ms));
    ui.elapsed.title = run ? elapsedTitle(terminal) : "";
    setShown(ui.elapsed, ms !== null);

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

    for (const { node, task } of taskRows) {
      if (!isTaskTicking(task)) continue;
      const duration = node.querySelector(".jw-task-duration");
      if (duration) setText(duration, taskDurationText(task, now));
    }

    const health = normalizeHealth(model.get("health"));
    if (health.status === "degraded") {
      const text = healthText(health, now);
      setText(ui.healthMessage, text.message);
      setText(ui.healthCountdown, text.countdown);
    }
  };

  const updateTicker = () => {
    const needed = isRunActive(run) || normalizeHealth(model.get("health")).status === "degraded";
    if (needed && ticker === null && !disposed) {
      ticker = setInterval(() => renderTimes(jobsNow()), TICK_MS);
    } else if (!needed && ticker !== null) {
      clearInterval(ticker);
      ticker = null;
    }
  };

  /**
   * @param {ReturnType<typeof read>} t
   * @param {number} now
   */
  const renderRun = (t, now) => {
    ui.root.setAttribute("data-state", run ? run.state : "IDLE");
    applyBadge(ui.badge, run ? run.state : "IDLE", "jw-run-state");

    const linkKey = run ? `${run.run_id}|${run.run_page_url}` : "";
    if (ui.runLinkSlot.dataset.key !== linkKey) {
      ui.runLinkSlot.dataset.key = linkKey;
      ui.runLinkSlot.replaceChildren(...(run ? [buildRunLink(run)] : []));
    }
    setText(ui.runMeta, run ? runMetaText(run) : "");

    const message = run ? run.state_message.trim() : "";
    const showMessage = message !== "" && (run?.failure === null || run?.failure?.state_message.trim() !== message);
    setText(ui.stateMessage, showMessage ? truncateText(message, LIMITS.message) : "");
    setShown(ui.stateMessage, showMessage);

    const paramsKey = run ? JSON.stringify(run.params) : "";
    if (ui.params.dataset.key !== paramsKey) {
      ui.params.dataset.key = paramsKey;
      const has = run !== null && Object.keys(run.params).length > 0;
      ui.params.replaceChildren(...(has && run ? buildParams(run.params) : []));
      setShown(ui.params, has);
    }

    // Failure details: rebuilt only when their content changes, so an opened
    // <details> stays open across polls.
    const failure = run?.failure ?? null;
    const key = failure ? JSON.stringify(failure) : "";
    if (key !== failureKey) {
      failureKey = key;
      ui.failure.replaceChildren(...(failure ? buildFailure(failure) : []));
      setShown(ui.failure, failure !== null);
    }

    // Tasks, in the order given; the job's tasks before the first run.
    if (run && run.tasks.length > 0) {
      /** @type {Map<string, number>} */
      const seen = new Map();
      const shownAbove = run.failure?.state_message.trim() ?? "";
      const items = run.tasks.map((task) => {
        const n = seen.get(task.task_key) ?? 0;
        seen.set(task.task_key, n + 1);
        const { duration_ms, ...stable } = task;
        const sig = JSON.stringify([stable, isTaskTicking(task) ? null : duration_ms, shownAbove]);
        return { key: `${task.task_key}#${n}`, sig, build: () => buildTaskRow(task, now, shownAbove), task };
      });
      const nodes = reconcile(ui.tasks, items);
      taskRows = nodes.map((node, i) => ({ node, task: items[i].task }));
    } else {
      const tasks = t.job?.tasks ?? [];
      reconcile(
        ui.tasks,
        tasks.map((task, i) => ({ key: `plan:${task.task_key}#${i}`, sig: JSON.stringify(task), build: () => buildPlannedTaskRow(task) })),
      );
      taskRows = [];
    }
    setShown(ui.tasksSection, ui.tasks.childElementCount > 0);
  };

  /** @param {ReturnType<typeof read>["history"]} history */
  const renderHistory = (history) => {
    /** @type {Map<number, number>} */
    const seen = new Map();
    const nodes = reconcile(
      ui.history,
      history.map((entry) => {
        const n = seen.get(entry.run_id) ?? 0;
        seen.set(entry.run_id, n + 1);
        return { key: `${entry.run_id}#${n}`, sig: JSON.stringify(entry), build: () => buildHistoryItem(entry) };
      }),
    );
    nodes.forEach((node, i) => {
      const current = run !== null && history[i].run_id === run.run_id;
      if (current) node.setAttribute("aria-current", "true");
      else node.removeAttribute("aria-current");
    });
    setShown(ui.historySection, history.length > 0);
  };

  /** @param {ReturnType<typeof read>["health"]} health */
  const renderHealth = (health) => {
    setShown(ui.health, health.status === "degraded");
    if (health.status !== "degraded") {
      setText(ui.healthMessage, "");
      setText(ui.healthCountdown, "");
    }
  };

  /** @param {string} error */
  const renderError = (error) => {
    if (dismissedError !== null && dismissedError !== error) dismissedError = null;
    const shown = error !== "" && dismissedError === null;
    setText(ui.errorText, shown ? truncateText(error, LIMITS.message) : "");
    setShown(ui.error, shown);
  };

  const renderNotify = () => {
    setShown(ui.notifyButton, notificationPermission() === "default");
  };

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
    renderActions();
    if (restoreFocus || hadFocus) (ui.cancelButton.hidden ? ui.runButton : ui.cancelButton).focus();
  };

  const renderActions = () => {
    const active = isRunActive(run);
    const confirming = confirmRunId !== null;
    ui.runButton.disabled = pending === PENDING.RUN;
    ui.runButton.setAttribute("aria-busy", pending === PENDING.RUN ? "true" : "false");
    const withForm = hasFormFields();
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
    form?.setPending(pending === PENDING.RUN);
  };

  // ----- params form ----------------------------------------------------------

  const closeForm = (restoreFocus = false) => {
    if (!formOpen) return;
    const hadFocus = hasFocusWithin(ui.formHost);
    formOpen = false;
    setShown(ui.formHost, false);
    renderActions();
    if (restoreFocus || hadFocus) ui.runButton.focus();
  };

  /** @param {ReturnType<typeof read>["schema"]} schema */
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
      onClose: () => closeForm(true),
      onSubmit: (params) => {
        dismissedError = null;
        awaitingRun = { runId: run ? run.run_id : null, sawPending: false };
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

  /** @param {Run} finished */
  const notifyFinished = (finished) => {
    let notified = notifiedByModel.get(model);
    if (!notified) notifiedByModel.set(model, (notified = new Set()));
    if (notified.has(finished.run_id)) return;
    notified.add(finished.run_id);
    setTitleBadge(viewId, titleMark(finished.state));
    if (notificationPermission() === "granted") {
      const job = normalizeJob(model.get("job"));
      const title = truncateText(job ? job.name || job.key || "Databricks job" : "Databricks job", LIMITS.name);
      try {
        new Notification(title, { body: runSummary(finished, jobsNow()), tag: `jobs-widgets-run-${finished.run_id}` });
      } catch (err) {
        console.warn("jobs_widgets: notification failed", err);
      }
    }
  };

  const trackTransitions = () => {
    if (run === null) {
      previous = null;
      return;
    }
    const current = { runId: run.run_id, state: run.state, terminal: run.is_terminal };
    if (previous !== null && (previous.runId !== current.runId || previous.state !== current.state)) {
      setText(ui.live, stateAnnouncement(run));
    }
    if (previous !== null && previous.runId === current.runId && !previous.terminal && current.terminal) {
      notifyFinished(run);
    }
    previous = current;
  };

  // ----- full sync from traits --------------------------------------------------

  const sync = () => {
    if (disposed) return;
    const t = read();
    const now = jobsNow();
    run = t.run;
    pending = t.pending;
    if (confirmRunId !== null && (run === null || run.run_id !== confirmRunId || run.is_terminal)) {
      closeConfirm();
    }
    renderJob(t.job);
    renderRun(t, now);
    renderHistory(t.history);
    renderHealth(t.health);
    renderError(t.error);
    renderForm(t.schema);
    settleSubmittedRun();
    renderActions();
    renderNotify();
    renderTimes(now);
    trackTransitions();
    updateTicker();
  };

  // ----- user actions --------------------------------------------------------------

  listen(ui.runButton, "click", () => {
    if (pending === PENDING.RUN) return;
    if (!hasFormFields()) {
      dismissedError = null;
      send({ kind: KIND.RUN, params: {} });
      return;
    }
    if (formOpen) {
      closeForm();
      return;
    }
    formOpen = true;
    setShown(ui.formHost, true);
    renderActions();
    form?.focusFirst();
  });

  listen(ui.cancelButton, "click", () => {
    if (run === null || run.is_terminal || pending === PENDING.CANCEL) return;
    confirmRunId = run.run_id;
    renderActions();
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
    if (run === null || !canRepair(run) || pending === PENDING.REPAIR) return;
    dismissedError = null;
    send({ kind: KIND.REPAIR, run_id: run.run_id });
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
    renderError(dismissedError);
    ui.runButton.focus();
  });
  listen(ui.notifyButton, "click", () => {
    if (typeof Notification === "undefined" || Notification.permission !== "default") return;
    try {
      const result = Notification.requestPermission(() => {
        if (!disposed) renderNotify();
      });
      if (result && typeof result.then === "function") {
        result.then(
          () => {
            if (!disposed) renderNotify();
          },
          () => {},
        );
      }
    } catch (err) {
      console.warn("jobs_widgets: requestPermission failed", err);
    }
  });
  listen(ui.root, "keydown", (/** @type {KeyboardEvent} */ event) => {
    if (event.key !== "Escape") return;
    if (confirmRunId !== null) {
      closeConfirm(true);
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
  let entry = visibilityByModel.get(model);
  if (!entry) visibilityByModel.set(model, (entry = { views: new Map(), last: undefined }));
  const visibility = entry;

  const reportVisibility = () => {
    if (disposed) return;
    visibility.views.set(viewId, intersecting && documentVisible());
    const visible = Array.from(visibility.views.values()).some(Boolean);
    if (visible !== visibility.last) {
      visibility.last = visible;
      send({ kind: KIND.VISIBILITY, visible });
    }
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
    visibility.views.delete(viewId);
    if (visibility.views.size === 0) {
      visibilityByModel.delete(model);
      if (visibility.last === true) send({ kind: KIND.VISIBILITY, visible: false });
    } else {
      const visible = Array.from(visibility.views.values()).some(Boolean);
      if (visible !== visibility.last) {
        visibility.last = visible;
        send({ kind: KIND.VISIBILITY, visible });
      }
    }
    ui.root.remove();
  };
}

// `@satisfies` checks the anywidget contract (AnyModel<Traits> must fit
// WidgetModel) without widening the type, so tests can call `render` directly.
/** @satisfies {import("@anywidget/types").AnyWidget<Traits>} */
const widget = { render };

export default widget;
