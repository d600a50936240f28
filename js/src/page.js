// State shared by every view of a page: which views of a panel are visible,
// which finished runs were already announced, and the title badge ("✓ " / "✗ ").

import { KIND } from "./protocol.js";
import { titleMark } from "./format.js";

/** @typedef {import("./protocol.js").OutgoingMessage} OutgoingMessage */

/** @returns {boolean} */
export function documentVisible() {
  return typeof document === "undefined" || document.visibilityState !== "hidden";
}

/** @returns {NotificationPermission | null} */
export function notificationPermission() {
  return typeof Notification === "undefined" ? null : Notification.permission;
}

/**
 * Visibility is reported per model, not per view: Python sees one boolean
 * ("is any view of this panel visible?") and only when it changes.
 * @type {WeakMap<object, { views: Map<symbol, boolean>, last: boolean | undefined }>}
 */
const visibilityByModel = new WeakMap();

/**
 * The visibility of one view of `model`, combined with its other views'.
 * @param {object} model
 * @param {symbol} viewId
 * @param {(message: OutgoingMessage) => void} send
 */
export function visibilityReporter(model, viewId, send) {
  let entry = visibilityByModel.get(model);
  if (!entry) visibilityByModel.set(model, (entry = { views: new Map(), last: undefined }));
  const shared = entry;
  const report = () => {
    const visible = Array.from(shared.views.values()).some(Boolean);
    if (visible !== shared.last) {
      shared.last = visible;
      send({ kind: KIND.VISIBILITY, visible });
    }
  };
  return {
    /** @param {boolean} visible this view's visibility */
    set(visible) {
      shared.views.set(viewId, visible);
      report();
    },
    /** This view is gone: the others decide (the last one says "not visible"). */
    drop() {
      shared.views.delete(viewId);
      if (shared.views.size > 0) {
        report();
        return;
      }
      visibilityByModel.delete(model);
      if (shared.last === true) send({ kind: KIND.VISIBILITY, visible: false });
    },
  };
}

/**
 * Runs already announced with a notification + title badge, per model, so
 * several views of one panel do not notify twice.
 * @type {WeakMap<object, Set<number>>}
 */
const notifiedByModel = new WeakMap();

/**
 * A run of `model` finished while shown: mark the tab's title ("✓ " / "✗ ") and, when
 * allowed, show a browser notification — once per run, however many views show it.
 * @param {object} model
 * @param {symbol} viewId  the view that holds the title badge
 * @param {string} jobName
 * @param {{ run_id: number, state: string }} run
 * @param {string} summary  the notification's body
 */
export function announceFinished(model, viewId, jobName, run, summary) {
  let notified = notifiedByModel.get(model);
  if (!notified) notifiedByModel.set(model, (notified = new Set()));
  if (notified.has(run.run_id)) return;
  notified.add(run.run_id);
  setTitleBadge(viewId, titleMark(run.state));
  if (notificationPermission() !== "granted") return;
  try {
    new Notification(jobName || "Databricks job", { body: summary, tag: `jobs-widgets-run-${run.run_id}` });
  } catch (err) {
    console.warn("jobs_widgets: notification failed", err);
  }
}

/** Title badge shared by all views. */
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
export function clearTitleBadge(holder) {
  if (!titleBadge.holders.delete(holder) || titleBadge.holders.size > 0) return;
  if (titleBadge.prefix && document.title.startsWith(titleBadge.prefix)) {
    document.title = document.title.slice(titleBadge.prefix.length);
  }
  titleBadge.prefix = "";
}
