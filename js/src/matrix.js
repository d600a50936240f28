// The runs x tasks matrix (issue 13): the last runs as columns (oldest left, newest
// right), the job's tasks as rows, one cell per task run coloured by its state's tone
// (labels and tones from rules.js, i.e. presentation.json), a duration sparkline per
// task and one for the runs. Clicking a column (a cell or its run button) asks Python
// to show that run (the panel's "select" command). A task's row of cells is one
// element painted with a hard-stop gradient (one colour band per run), not one element
// per cell: 200 runs x 50 tasks are 50 elements to lay out and paint, not 10,000.
// `data-tones` on the strip says each cell's tone in words (for tests and tools); a
// cell's tooltip is written where the pointer is. A state update repaints only the
// rows that changed.
// Data: the `matrix` trait (jobs_widgets/core/taskviews.py matrix_view).

import { h, setText } from "./dom.js";
import { formatDuration, stateLabel, stateTone, toneOr } from "./rules.js";

/** Bars in a sparkline (the most recent runs). */
export const SPARK_BARS = 40;
/** A cell's width and the gap after it, in px (taskviews.css sizes the strip from these). */
export const CELL_PX = 10;
export const PITCH_PX = 11;
/** A tone's colour (base.css); a run that did not run this task is a faint band. */
const TONE_COLOUR = /** @type {Record<string, string>} */ ({
  success: "var(--jw-success)",
  error: "var(--jw-error)",
  warn: "var(--jw-warn)",
  active: "var(--jw-brand)",
  waiting: "var(--jw-waiting)",
  neutral: "var(--jw-neutral)",
});
const NONE_COLOUR = "var(--jw-border)";

/**
 * @typedef {object} MatrixRun
 * @property {number} run_id
 * @property {string} state
 * @property {number | null} duration_ms
 * @property {string} label
 * @property {import("./rules.js").Tone} tone
 */
/**
 * How a cell reads: Python's words (`_present.outcome`) where given, else its state's.
 * @typedef {{ state: string, label: string, tone: import("./rules.js").Tone }} Worded
 */
/**
 * @typedef {object} Matrix
 * @property {Worded[]} outcomes
 * @property {MatrixRun[]} runs
 * @property {string[]} tasks
 * @property {number[][]} cells
 * @property {(number | null)[][]} durations
 */

/** @param {unknown} v */
const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);

/**
 * The `matrix` trait held to its shape (rows cut or padded to the runs).
 * @param {unknown} raw
 * @returns {Matrix}
 */
export function normalizeMatrix(raw) {
  const m = /** @type {Record<string, any>} */ (raw && typeof raw === "object" ? raw : {});
  /** @param {unknown} state @param {unknown} label @param {unknown} tone @returns {Worded} */
  const worded = (state, label, tone) => ({
    state: String(state ?? "UNKNOWN"),
    label: typeof label === "string" && label ? label : stateLabel(state),
    tone: toneOr(tone, stateTone(state)),
  });
  const outcomes = (Array.isArray(m.outcomes) ? m.outcomes : []).map((/** @type {any} */ o) =>
    Array.isArray(o) ? worded(o[0], o[1], o[2]) : worded("UNKNOWN", "", ""));
  const runs = (Array.isArray(m.runs) ? m.runs : [])
    .filter((/** @type {any} */ r) => r && num(r.run_id) !== null)
    .map((/** @type {any} */ r) => ({ run_id: r.run_id, duration_ms: num(r.duration_ms), ...worded(r.state, r.label, r.tone) }));
  const tasks = Array.isArray(m.tasks) ? m.tasks.map(String) : [];
  /** @param {unknown} row @param {(v: unknown) => any} each */
  const fit = (row, each) => runs.map((_, i) => each(Array.isArray(row) ? row[i] : null));
  return {
    outcomes,
    runs,
    tasks,
    cells: tasks.map((_, t) =>
      fit(Array.isArray(m.cells) ? m.cells[t] : null, (v) => {
        const code = num(v);
        return code !== null && code >= 0 && code < outcomes.length ? code : -1;
      }),
    ),
    durations: tasks.map((_, t) => fit(Array.isArray(m.durations) ? m.durations[t] : null, num)),
  };
}

/**
 * A sparkline of the last `SPARK_BARS` durations: one bar per run, its height the
 * duration against the longest (a gap where unknown). Spans, not SVG: the panel's
 * DOM stays inert (no svg, img, script).
 * @param {(number | null)[]} values
 * @param {string} label
 */
export function sparkline(values, label) {
  const recent = values.slice(-SPARK_BARS);
  const known = /** @type {number[]} */ (recent.filter((v) => v !== null));
  const top = known.length ? Math.max(...known) : 0;
  const bars = recent.map((v) =>
    v === null || top <= 0
      ? h("span", { class: "jw-mx-spark-bar jw-mx-spark-bar--gap" })
      : h("span", { class: "jw-mx-spark-bar", style: `height:${Math.max(8, Math.round((100 * v) / top))}%` }),
  );
  return h("span", { class: "jw-mx-spark", role: "img", "aria-label": label }, ...bars);
}

/**
 * Whether two cells read the same (codes index each message's own outcomes list).
 * @param {Worded | undefined} a
 * @param {Worded | undefined} b
 */
function sameOutcome(a, b) {
  return a === b || (a !== undefined && b !== undefined && a.label === b.label && a.tone === b.tone);
}

/** @param {(number | null)[]} values */
function sparkLabel(values) {
  const known = /** @type {number[]} */ (values.filter((v) => v !== null)).sort((a, b) => a - b);
  if (!known.length) return "no durations yet";
  const mid = known[Math.floor(known.length / 2)];
  return `durations: median ${formatDuration(mid)}, longest ${formatDuration(known[known.length - 1])}`;
}

/**
 * A matrix view. `update(trait, shownRunId)` redraws (rebuilding only when the shape
 * changed); `onSelect(runId)` is called when the user picks a run.
 * @param {{ onSelect: (runId: number) => void }} options
 */
export function createMatrix({ onSelect }) {
  const summary = h("p", { class: "jw-mx-summary" });
  const grid = h("div", { class: "jw-mx-grid", role: "grid", "aria-label": "Recent runs by task" });
  const scroller = h("div", { class: "jw-mx-scroll" }, grid);
  const el = h("div", { class: "jw-matrix" }, summary, scroller);
  /** @type {Matrix | null} */
  let data = null;
  let shape = "";
  /** @type {HTMLElement[]} */
  let strips = [];
  /** @type {HTMLButtonElement[]} */
  let runButtons = [];
  /** @type {Element[]} */
  let sparks = [];
  let shown = /** @type {number | null} */ (null);
  let focusCol = -1;

  /** @param {Matrix} m @param {number} t @param {number} r */
  const cellText = (m, t, r) => {
    const code = m.cells[t][r];
    const run = m.runs[r];
    if (code < 0) return `${m.tasks[t]} in run ${run.run_id}: did not run`;
    const took = m.durations[t][r];
    return `${m.tasks[t]} in run ${run.run_id}: ${m.outcomes[code].label}${took !== null ? `, ${formatDuration(took)}` : ""}`;
  };
  /** @param {MatrixRun} run */
  const runText = (run) =>
    `Run ${run.run_id}: ${run.label}${run.duration_ms !== null ? `, ${formatDuration(run.duration_ms)}` : ""}`;

  /** @param {Matrix} m */
  const build = (m) => {
    const cols = m.runs.length;
    grid.style.setProperty("--jw-mx-cols", String(cols));
    focusCol = cols - 1;
    runButtons = m.runs.map((_, r) =>
      h("button", { type: "button", class: "jw-mx-run", "data-col": r, tabindex: r === focusCol ? 0 : -1 }),
    );
    const runSpark = sparkline(m.runs.map((r) => r.duration_ms), `Run ${sparkLabel(m.runs.map((r) => r.duration_ms))}`);
    /** @type {HTMLElement[]} */
    const rows = [
      h("div", { class: "jw-mx-row jw-mx-row--runs", role: "row" },
        h("span", { class: "jw-mx-head", role: "rowheader" }, h("span", { class: "jw-mx-key" }, "Run"), runSpark),
        h("span", { class: "jw-mx-cells", role: "gridcell" }, ...runButtons)),
    ];
    sparks = [runSpark];
    strips = m.tasks.map((task, t) => {
      const spark = sparkline(m.durations[t], `${task} ${sparkLabel(m.durations[t])}`);
      sparks.push(spark);
      const strip = h("span", { class: "jw-mx-strip", role: "gridcell", "data-row": t });
      rows.push(
        h("div", { class: "jw-mx-row", role: "row", "data-task": task },
          h("span", { class: "jw-mx-head", role: "rowheader", title: task }, h("span", { class: "jw-mx-key" }, task), spark),
          strip),
      );
      return strip;
    });
    grid.replaceChildren(...rows);
  };

  /** Write what changed since the last paint (all of it after a rebuild). @param {Matrix} m @param {Matrix | null} before */
  const paint = (m, before) => {
    for (let r = 0; r < m.runs.length; r++) {
      const run = m.runs[r];
      const old = before?.runs[r];
      if (!old || old.label !== run.label || old.tone !== run.tone || old.duration_ms !== run.duration_ms || old.run_id !== run.run_id) {
        const b = runButtons[r];
        b.dataset.tone = run.tone;
        b.dataset.runId = String(run.run_id);
        b.setAttribute("aria-label", runText(run));
        b.title = runText(run);
      }
    }
    for (let t = 0; t < m.tasks.length; t++) {
      const same = before !== null && m.runs.every((run, r) =>
        before.runs[r]?.run_id === run.run_id && sameOutcome(before.outcomes[before.cells[t][r]], m.outcomes[m.cells[t][r]]));
      if (!same) paintRow(strips[t], m.cells[t].map((code) => (code < 0 ? null : m.outcomes[code].tone)));
    }
  };

  /**
   * One colour band per run (hard gradient stops), a gap between bands.
   * @param {HTMLElement} strip @param {(string | null)[]} tones
   */
  const paintRow = (strip, tones) => {
    const stops = tones.map((tone, r) => {
      const x = r * PITCH_PX;
      const colour = tone === null ? NONE_COLOUR : TONE_COLOUR[tone] ?? NONE_COLOUR;
      return `${colour} ${x}px ${x + CELL_PX}px, transparent ${x + CELL_PX}px ${x + PITCH_PX}px`;
    });
    strip.style.backgroundImage = tones.length ? `linear-gradient(to right, ${stops.join(", ")})` : "";
    strip.dataset.tones = tones.map((tone) => tone ?? "none").join(" ");
    strip.title = "";
  };

  /** The run column under the pointer on a strip. @param {MouseEvent} event @param {HTMLElement} strip */
  const columnAt = (event, strip) => {
    const x = event.clientX - strip.getBoundingClientRect().left;
    const col = Math.floor(x / PITCH_PX);
    return data && col >= 0 && col < data.runs.length ? col : -1;
  };

  const markShown = () => {
    if (!data) return;
    data.runs.forEach((run, r) => runButtons[r].classList.toggle("jw-mx-run--shown", run.run_id === shown));
  };

  /** @param {unknown} raw @param {number | null} shownRunId */
  const update = (raw, shownRunId) => {
    const m = normalizeMatrix(raw);
    const nextShape = `${m.runs.length}|${m.tasks.join("\u0000")}|${m.runs.map((r) => r.run_id).join(",")}`;
    const rebuilt = nextShape !== shape;
    if (rebuilt) {
      build(m);
      shape = nextShape;
    } else {
      const runDurations = m.runs.map((r) => r.duration_ms);
      if (data && data.runs.some((r, i) => r.duration_ms !== runDurations[i])) {
        const fresh = sparkline(runDurations, `Run ${sparkLabel(runDurations)}`);
        sparks[0].replaceWith(fresh);
        sparks[0] = fresh;
      }
      m.tasks.forEach((task, t) => {
        if (data && data.durations[t].some((v, i) => v !== m.durations[t][i])) {
          const fresh = sparkline(m.durations[t], `${task} ${sparkLabel(m.durations[t])}`);
          sparks[t + 1].replaceWith(fresh);
          sparks[t + 1] = fresh;
        }
      });
    }
    paint(m, rebuilt ? null : data);
    const before = data;
    data = m;
    shown = shownRunId;
    markShown();
    const failed = m.runs.filter((r) => r.tone === "error").length;
    setText(
      summary,
      m.runs.length ? `${m.runs.length} runs x ${m.tasks.length} tasks, oldest left${failed ? `, ${failed} failed` : ""}. Pick a run to show it.` : "No runs to compare yet.",
    );
    if (rebuilt && before === null) scroller.scrollLeft = scroller.scrollWidth;
  };

  /** @param {number} col */
  const select = (col) => {
    const run = data?.runs[col];
    if (run) onSelect(run.run_id);
  };

  // A cell's tooltip is the strip's, written for the cell under the pointer as it moves.
  const tooltip = (/** @type {MouseEvent} */ event) => {
    const strip = event.target instanceof HTMLElement && event.target.classList.contains("jw-mx-strip") ? event.target : null;
    if (!strip || !data) return;
    const col = columnAt(event, strip);
    strip.title = col < 0 ? "" : cellText(data, Number(strip.dataset.row), col);
  };
  grid.addEventListener("pointerover", tooltip);
  grid.addEventListener("pointermove", tooltip);
  grid.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (target instanceof HTMLElement && target.classList.contains("jw-mx-strip")) {
      const col = columnAt(event, target);
      if (col >= 0) select(col);
      return;
    }
    const button = target ? target.closest("[data-col]") : null;
    if (button instanceof HTMLElement && grid.contains(button)) select(Number(button.dataset.col));
  });
  grid.addEventListener("keydown", (/** @type {KeyboardEvent} */ event) => {
    const target = event.target;
    if (!(target instanceof HTMLButtonElement) || !runButtons.length) return;
    const col = Number(target.dataset.col);
    const moves = /** @type {Record<string, number>} */ ({ ArrowLeft: col - 1, ArrowRight: col + 1, Home: 0, End: runButtons.length - 1 });
    if (!(event.key in moves)) return;
    const next = Math.max(0, Math.min(runButtons.length - 1, moves[event.key]));
    runButtons[focusCol]?.setAttribute("tabindex", "-1");
    focusCol = next;
    runButtons[next].setAttribute("tabindex", "0");
    runButtons[next].focus();
    event.preventDefault();
  });

  return { el, update };
}
