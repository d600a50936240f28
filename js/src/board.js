// JobsBoard front end: one row per job (state, progress against its usual duration,
// recent runs, success rate, median, schedule) with Run and Open actions.
// Python owns the state: the view sends `run`, `open`, `refresh` and `visibility`
// messages and redraws from the traits. Rows are reconciled by key (focus survives a
// redraw); the elapsed time and progress of active runs tick on the jobs' clock.

import { h, reconcile, setShown, setText, stateBadge } from "./dom.js";
import { durationText, progressInfo } from "./format.js";
import { documentVisible, visibilityReporter } from "./page.js";
import { clipText, LIMITS, stateLabel, stateTone } from "./rules.js";

/**
 * @typedef {{ run_id: number, state: string, label: string, tone: string, start_time: number | null,
 *   duration_text: string, run_page_url: string | null, ticks?: boolean, active?: boolean, is_terminal?: boolean }} BoardRun
 * @typedef {{ p10_ms: number, p50_ms: number, p90_ms: number, samples: number, text: string }} BoardEta
 * @typedef {{ key: string, job_id: number, name: string, run: BoardRun | null, active_count: number,
 *   strip: BoardRun[], eta: BoardEta | null, finished: number, success_rate: number | null,
 *   median_text: string, schedule_text: string, error: string, loaded: boolean }} BoardRow
 * @typedef {{ get(name: string): any, on(event: string, cb: () => void): void,
 *   off(event?: string | null, cb?: (() => void) | null): void, send(content: any): void }} BoardModel
 */

const TICK_MS = 1000;

/**
 * What a row's state says, for the badge and the live region.
 * @param {BoardRow} row
 */
export function rowState(row) {
  if (row.run) return { state: row.run.state, label: row.run.label, tone: row.run.tone };
  if (!row.loaded) return { state: "UNKNOWN", label: row.error ? "Unreachable" : "Loading", tone: "neutral" };
  return { state: "IDLE", label: stateLabel("IDLE"), tone: stateTone("IDLE") };
}

/** @param {BoardRow} row */
export function rateText(row) {
  return row.success_rate === null ? "" : `${Math.round(row.success_rate * 100)}% ok of ${row.finished}`;
}

/**
 * One job's row.
 * @param {BoardRow} row
 * @param {(content: any) => void} send
 */
function buildRow(row, send) {
  const title = row.name && row.name !== row.key ? `${row.key} · ${row.name}` : row.key;
  const badge = stateBadge(rowState(row));
  const bar = h("div", { class: "jw-progress-bar" });
  const progress = h("div", { class: "jw-progress", role: "progressbar", "aria-label": `${row.key} progress` }, bar);
  const time = h("span", { class: "jw-board-time" });
  const strip = h(
    "ol",
    { class: "jw-board-strip", "aria-label": `${row.key}: last ${row.strip.length} runs, newest last` },
    ...row.strip
      .slice()
      .reverse()
      .map((r) =>
        h("li", {
          class: "jw-board-cell",
          "data-tone": r.tone,
          title: `${r.run_id}: ${r.label}${r.duration_text ? ` in ${r.duration_text}` : ""}`,
          "aria-label": `run ${r.run_id} ${r.label}`,
        }),
      ),
  );
  const runButton = h(
    "button",
    { class: "jw-button jw-button--primary jw-board-run", type: "button", "aria-label": `Run ${row.key}` },
    "Run",
  );
  const openButton = h(
    "button",
    { class: "jw-button jw-board-open", type: "button", "aria-label": `Open a panel for ${row.key}` },
    "Open",
  );
  runButton.addEventListener("click", () => send({ kind: "run", key: row.key }));
  openButton.addEventListener("click", () =>
    send({ kind: "open", key: row.key, ...(row.run ? { run_id: row.run.run_id } : {}) }),
  );
  const active = row.active_count > 1 ? ` (+${row.active_count - 1} more active)` : "";
  const el = h(
    "div",
    { class: "jw-board-row", role: "row", "data-key": row.key },
    h(
      "span",
      { class: "jw-board-job", role: "rowheader" },
      h("span", { class: "jw-board-title", title }, clipText(title, LIMITS.name)),
      h("span", { class: "jw-board-schedule" }, row.schedule_text || row.error),
    ),
    h("span", { class: "jw-board-state", role: "cell" }, badge, active),
    h("span", { class: "jw-board-progress", role: "cell" }, progress, time),
    h("span", { class: "jw-board-recent", role: "cell" }, strip),
    h(
      "span",
      { class: "jw-board-stats", role: "cell" },
      h("span", { class: "jw-board-rate" }, rateText(row)),
      h("span", { class: "jw-board-median" }, row.median_text ? `median ${row.median_text}` : ""),
    ),
    h("span", { class: "jw-board-actions", role: "cell" }, runButton, openButton),
  );
  return el;
}

/**
 * @typedef {{ row: BoardRow, progress: HTMLElement, bar: HTMLElement, time: HTMLElement,
 *   runButton: HTMLButtonElement }} RowParts
 */

/**
 * The live parts of a row node (kept or built by `reconcile`).
 * @param {HTMLElement} node
 * @param {BoardRow} row
 * @returns {RowParts}
 */
function rowParts(node, row) {
  return {
    row,
    progress: /** @type {HTMLElement} */ (node.querySelector(".jw-progress")),
    bar: /** @type {HTMLElement} */ (node.querySelector(".jw-progress-bar")),
    time: /** @type {HTMLElement} */ (node.querySelector(".jw-board-time")),
    runButton: /** @type {HTMLButtonElement} */ (node.querySelector(".jw-board-run")),
  };
}

/**
 * @param {{ model: BoardModel, el: HTMLElement }} ctx
 * @returns {() => void} cleanup
 */
function render({ model, el }) {
  const send = (/** @type {any} */ content) => model.send(content);
  const viewId = Symbol("board-view");
  const announcer = h("div", { class: "jw-visually-hidden", "aria-live": "polite", role: "status" });
  const errorLine = h("div", { class: "jw-board-error", role: "alert" });
  const refresh = h("button", { class: "jw-button jw-button--ghost", type: "button" }, "Refresh");
  refresh.addEventListener("click", () => send({ kind: "refresh" }));
  const status = h("span", { class: "jw-board-status" });
  const rows = h("div", { class: "jw-board-rows", role: "rowgroup" });
  const root = h(
    "div",
    { class: "jw-panel jw-board", role: "table", "aria-label": "Jobs board" },
    h("div", { class: "jw-board-head" }, h("strong", {}, "Jobs board"), status, refresh),
    errorLine,
    rows,
    announcer,
  );
  el.append(root);

  /** @type {{ now_ms: number, rate: number } | null} */
  let clock = null;
  let receivedAt = Date.now();
  const now = () => (clock ? clock.now_ms + (Date.now() - receivedAt) * clock.rate : Date.now());

  /** @type {RowParts[]} */
  let built = [];
  /** @type {Map<string, string>} */
  const lastStates = new Map();

  const tick = () => {
    const t = now();
    for (const item of built) {
      const run = item.row.run;
      const info = progressInfo(/** @type {any} */ (run), /** @type {any} */ (item.row.eta), t);
      setShown(item.progress, info.visible);
      item.progress.classList.toggle("jw-progress--indeterminate", info.visible && info.fraction === null);
      item.progress.classList.toggle("jw-progress--overdue", info.overdue);
      const pct = info.fraction === null ? 0 : Math.round(info.fraction * 100);
      item.bar.style.width = `${pct}%`;
      if (info.fraction !== null) item.progress.setAttribute("aria-valuenow", String(pct));
      const took = run ? durationText({ ticks: Boolean(run.active), start_time: run.start_time, duration_text: run.duration_text }, t) : "";
      const usual = item.row.eta ? ` · ${item.row.eta.text}` : "";
      setText(item.time, run ? `${took}${run.active ? usual : ""}` : "");
    }
  };

  const draw = () => {
    /** @type {BoardRow[]} */
    const data = model.get("jobs") || [];
    const pending = model.get("pending") || "";
    const closed = Boolean(model.get("closed"));
    built = reconcile(
      rows,
      data.map((row) => ({ key: row.key, sig: JSON.stringify(row), build: () => buildRow(row, send) })),
    ).map((node, i) => rowParts(node, data[i]));
    for (const item of built) {
      item.runButton.disabled = closed || pending === item.row.key;
      setText(item.runButton, pending === item.row.key ? "Starting…" : "Run");
    }
    const changes = [];
    for (const row of data) {
      const label = rowState(row).label;
      const before = lastStates.get(row.key);
      if (before !== undefined && before !== label) changes.push(`${row.key}: ${label}`);
      lastStates.set(row.key, label);
    }
    if (changes.length) setText(announcer, changes.join("; "));
    const running = data.filter((r) => r.run && r.run.active).length;
    setText(status, closed ? "closed" : `${data.length} jobs · ${running} running`);
    setText(errorLine, model.get("error") || "");
    setShown(errorLine, Boolean(model.get("error")));
    tick();
  };

  const onClock = () => {
    clock = model.get("clock") || null;
    receivedAt = Date.now();
  };
  onClock();
  const events = ["change:jobs", "change:pending", "change:error", "change:closed"];
  for (const event of events) model.on(event, draw);
  model.on("change:clock", onClock);
  draw();
  const timer = setInterval(tick, TICK_MS);

  const visibility = visibilityReporter(model, viewId, send);
  let intersecting = true;
  const report = () => visibility.set(intersecting && documentVisible());
  /** @type {IntersectionObserver | null} */
  let observer = null;
  if (typeof IntersectionObserver === "function") {
    observer = new IntersectionObserver((entries) => {
      const last = entries[entries.length - 1];
      if (!last) return;
      intersecting = last.isIntersecting;
      report();
    });
    observer.observe(root);
  }
  document.addEventListener("visibilitychange", report);
  report();

  return () => {
    clearInterval(timer);
    for (const event of events) model.off(event, draw);
    model.off("change:clock", onClock);
    document.removeEventListener("visibilitychange", report);
    if (observer) observer.disconnect();
    visibility.drop();
    root.remove();
  };
}

export default { render };
