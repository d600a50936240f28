// The panel's "Timeline" and "Runs x tasks" section (issue 13): mounts the two views
// (timeline.js, matrix.js) into a panel, feeds them the `timeline` and `matrix`
// traits, ticks the timeline on the jobs' clock while a task is going (only while the
// timeline is the view shown), and turns a matrix pick into the panel's "select"
// command. It owns its listeners and its timer; the returned function ends them.

import { KIND } from "./protocol.js";
import { h, setShown } from "./dom.js";
import { createTimeline } from "./timeline.js";
import { createMatrix } from "./matrix.js";

const TICK_MS = 1000;

/**
 * @param {object} options
 * @param {import("./protocol.js").WidgetModel} options.model
 * @param {HTMLElement} options.root      the panel's root
 * @param {HTMLElement} options.before    the section to insert before
 * @param {string} options.idPrefix
 * @param {(message: import("./protocol.js").OutgoingMessage) => void} options.send
 * @param {() => number} options.now      the jobs' clock (epoch ms)
 * @returns {() => void} cleanup
 */
export function mountTaskViews({ model, root, before, idPrefix, send, now }) {
  const get = (/** @type {string} */ name) => /** @type {any} */ (model).get(name);
  const timeline = createTimeline();
  const matrix = createMatrix({ onSelect: (runId) => send({ kind: KIND.SELECT, run_id: runId }) });
  const tabTimeline = h("button", { type: "button", class: "jw-button jw-button--ghost jw-tv-tab", "aria-pressed": "true" }, "Timeline");
  const tabMatrix = h("button", { type: "button", class: "jw-button jw-button--ghost jw-tv-tab", "aria-pressed": "false" }, "Runs x tasks");
  const section = h(
    "section",
    { class: "jw-section jw-taskviews", "aria-labelledby": `${idPrefix}taskviews`, hidden: true },
    h("div", { class: "jw-tv-head" },
      h("h3", { class: "jw-section-title", id: `${idPrefix}taskviews` }, "Where the time went"),
      h("span", { class: "jw-tv-tabs", role: "group", "aria-label": "View" }, tabTimeline, tabMatrix)),
    timeline.el,
    matrix.el,
  );
  root.insertBefore(section, before);
  let showing = "timeline";
  /** @type {ReturnType<typeof setInterval> | null} */
  let ticker = null;

  const shownRunId = () => {
    const run = get("run");
    return run && typeof run.run_id === "number" ? run.run_id : null;
  };

  const updateTicker = () => {
    const needed = showing === "timeline" && timeline.live();
    if (needed && ticker === null) ticker = setInterval(() => timeline.paint(now()), TICK_MS);
    else if (!needed && ticker !== null) {
      clearInterval(ticker);
      ticker = null;
    }
  };

  const syncTimeline = () => {
    timeline.update(get("timeline"), now());
    updateTicker();
    showSection();
  };
  const syncMatrix = () => {
    matrix.update(get("matrix"), shownRunId());
    showSection();
  };
  const showSection = () => {
    const tl = get("timeline");
    const mx = get("matrix");
    const tasks = tl && Array.isArray(tl.tasks) ? tl.tasks.length : 0;
    const mxTasks = mx && Array.isArray(mx.tasks) ? mx.tasks.length : 0;
    // A single-task job's timeline is its status line: the section is for multi-task jobs.
    setShown(section, tasks > 1 || mxTasks > 1);
  };

  /** @param {string} which */
  const show = (which) => {
    showing = which;
    tabTimeline.setAttribute("aria-pressed", String(which === "timeline"));
    tabMatrix.setAttribute("aria-pressed", String(which === "matrix"));
    setShown(timeline.el, which === "timeline");
    setShown(matrix.el, which === "matrix");
    if (which === "timeline") timeline.paint(now());
    updateTicker();
  };

  /** @type {[string, () => void][]} */
  const handlers = [
    ["change:timeline", syncTimeline],
    ["change:matrix", syncMatrix],
    ["change:run", syncMatrix],
  ];
  for (const [event, handler] of handlers) model.on(event, handler);
  const onTimeline = () => show("timeline");
  const onMatrix = () => show("matrix");
  tabTimeline.addEventListener("click", onTimeline);
  tabMatrix.addEventListener("click", onMatrix);
  syncTimeline();
  syncMatrix();
  show("timeline");

  return () => {
    for (const [event, handler] of handlers) model.off(event, handler);
    tabTimeline.removeEventListener("click", onTimeline);
    tabMatrix.removeEventListener("click", onMatrix);
    if (ticker !== null) clearInterval(ticker);
    ticker = null;
    section.remove();
  };
}
