// Run for a job without a parameter model: nothing starts in one click. The panel asks
// first, and offers the shown run's parameters next to the job's defaults (a panel
// opened by `%jobs run train -p learning_rate=0.01` would otherwise start a run that
// silently drops them).

import { h, setShown, setText } from "./dom.js";

/** @typedef {import("./protocol.js").Run} Run */

/**
 * @typedef {object} RunConfirm
 * @property {HTMLElement} node
 * @property {(run: Run | null) => void} open
 * @property {(restoreFocus?: boolean) => void} close
 * @property {() => boolean} isOpen
 */

/**
 * @param {string} idPrefix
 * @param {HTMLElement} returnFocus
 * @param {(params: Record<string, string>) => void} onStart
 * @returns {RunConfirm}
 */
export function createRunConfirm(idPrefix, returnFocus, onStart) {
  const titleId = `${idPrefix}runconfirm`;
  const title = h("p", { class: "jw-run-confirm-title", id: titleId });
  const again = h("button", { type: "button", class: "jw-button jw-button--primary jw-run-again" });
  const defaults = h("button", { type: "button", class: "jw-button jw-run-defaults" }, "With the job's defaults");
  const no = h("button", { type: "button", class: "jw-button jw-run-keep" }, "Not now");
  const node = h(
    "div",
    { class: "jw-run-confirm jw-card", role: "group", "aria-labelledby": titleId, hidden: true },
    title,
    h("div", { class: "jw-run-confirm-buttons" }, again, defaults, no),
  );
  /** @type {Record<string, string> | null} */
  let previous = null;
  let open = false;

  /** @param {Record<string, string>} params */
  const start = (params) => {
    close(true);
    onStart(params);
  };
  again.addEventListener("click", () => start(previous ?? {}));
  defaults.addEventListener("click", () => start({}));
  no.addEventListener("click", () => close(true));

  /** @param {Run | null} run */
  function show(run) {
    const params = run && Object.keys(run.params).length > 0 ? { ...run.params } : null;
    previous = params;
    const list = params
      ? Object.entries(params)
          .map(([k, v]) => `${k}=${v}`)
          .join(", ")
      : "";
    setText(
      title,
      params && run
        ? `Start a new run with run ${run.run_id}'s parameters (${list}), or with the job's defaults?`
        : "Start a new run with the job's defaults?",
    );
    setText(again, params ? "With the same parameters" : "Start run");
    setShown(defaults, params !== null);
    open = true;
    setShown(node, true);
    again.focus();
  }

  /** @param {boolean} [restoreFocus] */
  function close(restoreFocus = false) {
    if (!open) return;
    const hadFocus = node.contains(document.activeElement);
    open = false;
    setShown(node, false);
    if (restoreFocus && hadFocus) returnFocus.focus();
  }

  return { node, open: show, close, isOpen: () => open };
}
