// The task timeline (issue 13): one bar per task of the shown run on a shared time
// axis, its phases where the API gave them, a mark at the task's usual duration (a bar
// past its p90 is "slower than usual": outlined and said in words), dependencies as
// "after a, b", a for-each task's iteration progress. Rows are virtualised (only the
// rows in view, plus a margin, exist in the DOM), so 1000 tasks scroll as 20 do.
// Data comes from the `timeline` trait (jobs_widgets/core/taskviews.py); labels and
// tones from rules.js (presentation.json), never a second copy.

import { h, setText } from "./dom.js";
import { formatDuration, stateLabel, stateTone, toneOr } from "./rules.js";

export const ROW_PX = 24;
/** Rows drawn when the viewport has no height yet (not laid out, or a test DOM). */
const FALLBACK_ROWS = 16;
const MARGIN_ROWS = 6;
const PHASES = /** @type {const} */ (["queue", "setup", "execution", "cleanup"]);

/**
 * @typedef {object} Bar
 * @property {string} key
 * @property {string} state
 * @property {string} label   Python's words for it (`_present.outcome`), else its state's
 * @property {import("./rules.js").Tone} tone
 * @property {number | null} start_ms
 * @property {number | null} end_ms
 * @property {number | null} elapsed_ms
 * @property {Record<string, number> | null} phases
 * @property {number | null} usual_ms
 * @property {number | null} slow_after_ms
 * @property {string[]} depends_on
 * @property {Record<string, number> | null} iterations
 */
/**
 * @typedef {object} Timeline
 * @property {number} run_id
 * @property {boolean} is_terminal
 * @property {number | null} start_ms
 * @property {number | null} end_ms
 * @property {Bar[]} tasks
 */

/** @param {unknown} v */
const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);
/** @param {unknown} v @returns {Record<string, number> | null} */
const counts = (v) => {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return null;
  /** @type {Record<string, number>} */
  const out = {};
  for (const [k, n] of Object.entries(v)) if (num(n) !== null) out[k] = /** @type {number} */ (n);
  return Object.keys(out).length ? out : null;
};

/**
 * The `timeline` trait, held to its shape (anything else: null).
 * @param {unknown} raw
 * @returns {Timeline | null}
 */
export function normalizeTimeline(raw) {
  if (raw === null || typeof raw !== "object" || !Array.isArray(/** @type {any} */ (raw).tasks)) return null;
  const t = /** @type {Record<string, any>} */ (raw);
  return {
    run_id: num(t.run_id) ?? 0,
    is_terminal: t.is_terminal === true,
    start_ms: num(t.start_ms),
    end_ms: num(t.end_ms),
    tasks: t.tasks
      .filter((/** @type {any} */ b) => b && typeof b === "object" && typeof b.key === "string")
      .map((/** @type {any} */ b) => ({
        key: b.key,
        state: typeof b.state === "string" ? b.state : "UNKNOWN",
        label: typeof b.label === "string" && b.label ? b.label : stateLabel(b.state),
        tone: toneOr(b.tone, stateTone(b.state)),
        start_ms: num(b.start_ms),
        end_ms: num(b.end_ms),
        elapsed_ms: num(b.elapsed_ms),
        phases: counts(b.phases),
        usual_ms: num(b.usual_ms),
        slow_after_ms: num(b.slow_after_ms),
        depends_on: Array.isArray(b.depends_on) ? b.depends_on.filter((/** @type {unknown} */ d) => typeof d === "string") : [],
        iterations: counts(b.iterations),
      })),
  };
}

/**
 * How long a bar has taken as of `now` (a bar without an end is still going).
 * @param {Bar} bar
 * @param {number} now
 * @returns {number | null}
 */
export function barElapsed(bar, now) {
  if (bar.start_ms === null) return null;
  if (bar.end_ms === null) return Math.max(0, now - bar.start_ms);
  return bar.elapsed_ms ?? Math.max(0, bar.end_ms - bar.start_ms);
}

/**
 * What a row says in words (its aria-label and tooltip): the whole truth of the bar.
 * @param {Bar} bar
 * @param {number} now
 */
export function barText(bar, now) {
  const took = barElapsed(bar, now);
  const parts = [`${bar.key}: ${bar.label}`];
  if (took !== null) parts.push(formatDuration(took));
  if (bar.usual_ms !== null) parts.push(`usual ${formatDuration(bar.usual_ms)}`);
  if (isSlow(bar, now)) parts.push("slower than usual");
  const it = bar.iterations;
  if (it && it.total) parts.push(`${it.completed ?? 0} of ${it.total} iterations${it.failed ? `, ${it.failed} failed` : ""}`);
  if (bar.depends_on.length) parts.push(`after ${bar.depends_on.join(", ")}`);
  return parts.join(", ");
}

/** @param {Bar} bar @param {number} now */
export function isSlow(bar, now) {
  const took = barElapsed(bar, now);
  return took !== null && bar.slow_after_ms !== null && took > bar.slow_after_ms;
}

/** @param {number} part @param {number} whole */
const pct = (part, whole) => `${Math.max(0, Math.min(100, (part / whole) * 100)).toFixed(3)}%`;

/**
 * The time axis of a timeline as of `now`: [start, span] in ms.
 * @param {Timeline} t
 * @param {number} now
 * @returns {[number, number] | null}
 */
export function axis(t, now) {
  const starts = t.tasks.map((b) => b.start_ms).filter((s) => s !== null);
  const start = t.start_ms ?? (starts.length ? Math.min(.../** @type {number[]} */ (starts)) : null);
  if (start === null) return null;
  let end = t.is_terminal ? t.end_ms : now;
  for (const b of t.tasks) {
    const took = barElapsed(b, now);
    if (b.start_ms !== null && took !== null) end = Math.max(end ?? 0, b.start_ms + took);
    if (b.start_ms !== null && b.usual_ms !== null) end = Math.max(end ?? 0, b.start_ms + b.usual_ms);
  }
  return [start, Math.max(1000, (end ?? start) - start)];
}

/**
 * @param {Bar} bar
 * @param {number} now
 * @param {[number, number] | null} span
 */
function buildRow(bar, now, span) {
  const took = barElapsed(bar, now);
  const track = h("div", { class: "jw-tl-track" });
  if (span !== null && bar.start_ms !== null && took !== null) {
    const [start, width] = span;
    const barEl = h("div", {
      class: `jw-tl-bar${isSlow(bar, now) ? " jw-tl-bar--slow" : ""}`,
      "data-tone": bar.tone,
      style: `left:${pct(bar.start_ms - start, width)};width:${pct(Math.max(took, width / 400), width)}`,
    });
    const phases = bar.phases;
    const total = phases ? PHASES.reduce((s, p) => s + (phases[p] ?? 0), 0) : 0;
    if (phases && total > 0) {
      for (const p of PHASES) {
        if (phases[p]) barEl.append(h("span", { class: `jw-tl-phase jw-tl-phase--${p}`, style: `width:${pct(phases[p], total)}` }));
      }
    }
    const it = bar.iterations;
    if (it && it.total) {
      barEl.append(h("span", { class: "jw-tl-iter", style: `width:${pct(it.completed ?? 0, it.total)}` }));
    }
    track.append(barEl);
    if (bar.usual_ms !== null) {
      track.append(h("span", { class: "jw-tl-usual", style: `left:${pct(bar.start_ms - start + bar.usual_ms, width)}` }));
    }
  }
  const it = bar.iterations;
  // The state in words beside the colour, except for the plain success most rows are.
  const note = bar.tone === "success" && took !== null ? [] : [bar.label];
  if (took !== null) note.push(formatDuration(took));
  if (it && it.total) note.push(`${it.completed ?? 0}/${it.total}`);
  if (isSlow(bar, now)) note.push("slow");
  const text = barText(bar, now);
  return h(
    "div",
    { class: "jw-tl-row", role: "listitem", "data-key": bar.key, "data-state": bar.state, title: text, "aria-label": text },
    h(
      "span",
      { class: "jw-tl-label" },
      h("span", { class: "jw-tl-key" }, bar.key),
      bar.depends_on.length ? h("span", { class: "jw-tl-deps" }, `after ${bar.depends_on.join(", ")}`) : null,
    ),
    track,
    h("span", { class: "jw-tl-note", "data-tone": bar.tone }, note.join(" · ")),
  );
}

/**
 * A timeline view. `update(trait)` takes new data; `paint(now)` redraws the rows in view
 * (the widget calls it on its tick while the run is going).
 */
export function createTimeline() {
  const rows = h("div", { class: "jw-tl-rows", role: "list" });
  const spacer = h("div", { class: "jw-tl-spacer" }, rows);
  const viewport = h("div", { class: "jw-tl-viewport", tabindex: 0, "aria-label": "Task timeline" }, spacer);
  const summary = h("p", { class: "jw-tl-summary" });
  const el = h("div", { class: "jw-timeline" }, summary, viewport);
  /** @type {Timeline | null} */
  let data = null;
  let lastNow = 0;

  /** @param {number} now */
  const paint = (now) => {
    lastNow = now;
    if (data === null) {
      rows.replaceChildren();
      setText(summary, "No run to show.");
      return;
    }
    const tasks = data.tasks;
    spacer.style.height = `${tasks.length * ROW_PX}px`;
    const height = viewport.clientHeight || FALLBACK_ROWS * ROW_PX;
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_PX) - MARGIN_ROWS);
    const last = Math.min(tasks.length, Math.ceil((viewport.scrollTop + height) / ROW_PX) + MARGIN_ROWS);
    const span = axis(data, now);
    rows.style.transform = `translateY(${first * ROW_PX}px)`;
    rows.replaceChildren(...tasks.slice(first, last).map((bar) => buildRow(bar, now, span)));
    const slow = tasks.filter((b) => isSlow(b, now)).length;
    const running = tasks.filter((b) => b.start_ms !== null && b.end_ms === null).length;
    const words = [`${tasks.length} task${tasks.length === 1 ? "" : "s"}`];
    if (span) words.push(`over ${formatDuration(span[1])}`);
    if (running) words.push(`${running} running`);
    if (slow) words.push(`${slow} slower than usual`);
    setText(summary, words.join(", "));
  };

  viewport.addEventListener("scroll", () => paint(lastNow), { passive: true });

  return {
    el,
    /** @param {unknown} raw @param {number} now */
    update(raw, now) {
      data = normalizeTimeline(raw);
      paint(now);
    },
    paint,
    /** True while some bar is still going (the caller ticks `paint`). */
    live() {
      return data !== null && !data.is_terminal && data.tasks.some((b) => b.start_ms !== null && b.end_ms === null);
    },
  };
}
