// The Repair chooser: which tasks of an ended run run again, confirmed before anything
// is sent. What is ticked at first (the tasks that did not end well and what depends on
// them) is decided in Python (`run.repair.default`); this module only lets a person
// change it and says what will happen.

import { h, setShown, setText } from "./dom.js";

/** @typedef {import("./protocol.js").Run} Run */

/**
 * @typedef {object} RepairChooser
 * @property {HTMLElement} node          mounted once by the view, hidden until opened
 * @property {(run: Run) => void} open   show the run's tasks, the default ones ticked
 * @property {(restoreFocus?: boolean) => void} close
 * @property {() => number | null} runId the run the open chooser is about (null: closed)
 */

/**
 * @param {string} idPrefix   unique per view (ids for labels)
 * @param {HTMLElement} returnFocus  where focus goes when the chooser closes
 * @param {(runId: number, tasks: string[] | null) => void} onConfirm  null: the failed tasks (a run without tasks)
 * @returns {RepairChooser}
 */
export function createRepairChooser(idPrefix, returnFocus, onConfirm) {
  const titleId = `${idPrefix}repair`;
  const title = h("p", { class: "jw-repair-title", id: titleId });
  const list = h("div", { class: "jw-repair-tasks" });
  const yes = h("button", { type: "button", class: "jw-button jw-button--primary jw-repair-confirm" }, "Repair");
  const no = h("button", { type: "button", class: "jw-button jw-repair-keep" }, "Not now");
  const node = h(
    "div",
    { class: "jw-repair-choice jw-card", role: "group", "aria-labelledby": titleId, hidden: true },
    title,
    list,
    h("div", { class: "jw-repair-buttons" }, yes, no),
  );
  /** @type {number | null} */
  let openRunId = null;
  let hasTasks = false;

  const chosen = () =>
    Array.from(list.querySelectorAll("input[type=checkbox]"))
      .filter((box) => box instanceof HTMLInputElement && box.checked)
      .map((box) => /** @type {HTMLInputElement} */ (box).value);

  const update = () => {
    const n = chosen().length;
    yes.disabled = hasTasks && n === 0;
    setText(yes, hasTasks ? `Repair ${n} task${n === 1 ? "" : "s"}` : "Repair");
  };

  list.addEventListener("change", update);
  yes.addEventListener("click", () => {
    if (openRunId === null) return;
    const tasks = hasTasks ? chosen() : null;
    if (tasks !== null && tasks.length === 0) return;
    const runId = openRunId;
    close(true);
    onConfirm(runId, tasks);
  });
  no.addEventListener("click", () => close(true));

  /** @param {Run} run */
  function open(run) {
    const plan = run.repair;
    if (plan === null) return;
    openRunId = run.run_id;
    hasTasks = plan.tasks.length > 0;
    const ticked = new Set(plan.default);
    list.replaceChildren(
      ...plan.tasks.map((key, i) => {
        const box = h("input", { type: "checkbox", id: `${idPrefix}repair-${i}`, value: key });
        /** @type {HTMLInputElement} */ (box).checked = ticked.has(key);
        return h("label", { class: "jw-repair-task", for: `${idPrefix}repair-${i}` }, box, h("span", {}, key));
      }),
    );
    setShown(list, hasTasks);
    setText(
      title,
      hasTasks
        ? `Repair run ${run.run_id}: the ticked tasks run again, with the tasks that depend on them, and the run's parameters.`
        : `Repair run ${run.run_id}: its failed tasks run again with the run's parameters.`,
    );
    update();
    setShown(node, true);
    const first = list.querySelector("input") ?? yes;
    if (first instanceof HTMLElement) first.focus();
  }

  /** @param {boolean} [restoreFocus] */
  function close(restoreFocus = false) {
    if (openRunId === null) return;
    const hadFocus = node.contains(document.activeElement);
    openRunId = null;
    setShown(node, false);
    list.replaceChildren();
    if (restoreFocus && hadFocus) returnFocus.focus();
  }

  return { node, open, close, runId: () => openRunId };
}
