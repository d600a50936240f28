import { describe, expect, it, vi } from "vitest";
import { FakeModel, HISTORY, T0, finishedRun, makeRun, press, viewsUnmountedAfterEachTest } from "./helpers.js";

const view = viewsUnmountedAfterEachTest();
/** @param {Element | null} el */
const btn = (el) => /** @type {HTMLButtonElement} */ (el);
/** @param {Element | null} el */
const input = (el) => /** @type {HTMLInputElement} */ (el);

/** A pydantic v2 `model_json_schema()` with every supported field type. */
const SCHEMA = {
  title: "NightlyParams",
  description: "Parameters of the nightly job.",
  type: "object",
  $defs: {
    Env: { enum: ["dev", "staging", "prod"], title: "Env", type: "string" },
  },
  properties: {
    env: { $ref: "#/$defs/Env", default: "dev", description: "Target environment." },
    run_date: { type: "string", format: "date", title: "Run Date" },
    limit: { type: "integer", title: "Limit", default: 100, minimum: 1 },
    ratio: { anyOf: [{ type: "number" }, { type: "null" }], default: null, title: "Ratio" },
    dry_run: { type: "boolean", title: "Dry Run", default: true },
    note: { anyOf: [{ type: "string" }, { type: "null" }], default: null, title: "Note", description: "Free text." },
  },
  required: ["run_date"],
};

describe("Run", () => {
  it("without a schema asks before it starts a run with the job's defaults", () => {
    const model = new FakeModel();
    const { $, $$, visible } = view(model);
    btn($(".jw-run")).click();
    expect(model.messages("run")).toEqual([]); // never a run in one click
    expect(visible(".jw-run-confirm")).toBe(true);
    expect($(".jw-run-confirm-title").textContent).toBe("Start a new run with the job's defaults?");
    expect(visible(".jw-run-defaults")).toBe(false);
    btn($(".jw-run-again")).click();
    expect(model.messages("run")).toEqual([{ kind: "run", params: {} }]);
    expect(visible(".jw-run-confirm")).toBe(false);
    expect($$(".jw-form")).toHaveLength(0);
  });

  it("without a schema offers the shown run's parameters next to the job's defaults", () => {
    const model = new FakeModel({ run: finishedRun("SUCCEEDED", { params: { learning_rate: "0.01" } }) });
    const { $, visible } = view(model);
    btn($(".jw-run")).click();
    expect($(".jw-run-confirm-title").textContent).toBe(
      "Start a new run with run 123's parameters (learning_rate=0.01), or with the job's defaults?",
    );
    expect(document.activeElement).toBe($(".jw-run-again"));
    btn($(".jw-run-again")).click();
    expect(model.messages("run")).toEqual([{ kind: "run", params: { learning_rate: "0.01" } }]);
    btn($(".jw-run")).click();
    btn($(".jw-run-defaults")).click();
    expect(model.messages("run")).toEqual([
      { kind: "run", params: { learning_rate: "0.01" } },
      { kind: "run", params: {} },
    ]);
    btn($(".jw-run")).click();
    btn($(".jw-run-keep")).click();
    expect(visible(".jw-run-confirm")).toBe(false);
    expect(document.activeElement).toBe($(".jw-run"));
    expect(model.messages("run")).toHaveLength(2);
  });

  it("is disabled while a run command is pending", () => {
    const model = new FakeModel({ pending: "run" });
    const { $ } = view(model);
    expect(btn($(".jw-run")).disabled).toBe(true);
    btn($(".jw-run")).click();
    expect(model.messages("run")).toEqual([]);
  });

  it("opens a form generated from the schema with defaults pre-filled", () => {
    const model = new FakeModel({ params_schema: SCHEMA });
    const { $, visible } = view(model);
    expect(visible(".jw-form")).toBe(false);
    const run = btn($(".jw-run"));
    expect(run.getAttribute("aria-expanded")).toBe("false");
    run.click();
    expect(model.sent.filter((m) => m.kind === "run")).toEqual([]);
    expect(visible(".jw-form")).toBe(true);
    expect(run.getAttribute("aria-expanded")).toBe("true");

    const form = $(".jw-form");
    const env = /** @type {HTMLSelectElement} */ (form.querySelector("select[name=env]"));
    expect(env).not.toBeNull();
    expect(Array.from(env.options).map((o) => o.textContent)).toEqual(["\u2014", "dev", "staging", "prod"]);
    expect(env.options[env.selectedIndex].textContent).toBe("dev");
    expect(input(form.querySelector("input[name=run_date]")).type).toBe("date");
    expect(input(form.querySelector("input[name=limit]")).type).toBe("number");
    expect(input(form.querySelector("input[name=limit]")).value).toBe("100");
    expect(input(form.querySelector("input[name=ratio]")).type).toBe("number");
    expect(input(form.querySelector("input[name=ratio]")).value).toBe("");
    expect(input(form.querySelector("input[name=dry_run]")).type).toBe("checkbox");
    expect(input(form.querySelector("input[name=dry_run]")).checked).toBe(true);

    // labels, required markers, help text
    const dateField = /** @type {HTMLElement} */ (form.querySelector('[data-field="run_date"]'));
    expect(dateField.querySelector("label")?.textContent).toBe("run_date *"); // the parameter's name, as elsewhere
    expect(input(dateField.querySelector("input")).getAttribute("aria-required")).toBe("true");
    const label = /** @type {HTMLLabelElement} */ (form.querySelector('[data-field="note"] label'));
    expect(label.htmlFor).toBe(input(form.querySelector("input[name=note]")).id);
    expect(form.querySelector('[data-field="note"] .jw-field-help')?.textContent).toBe("Free text.");
    expect(document.activeElement).toBe(env);
  });

  it("validates client-side, then sends typed params and omits empty optionals", () => {
    const model = new FakeModel({ params_schema: SCHEMA });
    const { $ } = view(model);
    btn($(".jw-run")).click();
    const form = $(".jw-form");
    const submit = btn($(".jw-run-submit"));

    submit.click();
    expect(model.messages("run")).toEqual([]);
    const dateError = /** @type {HTMLElement} */ (form.querySelector('[data-field="run_date"] .jw-field-error'));
    expect(dateError.hidden).toBe(false);
    expect(dateError.textContent).toBe("This field is required.");
    expect(input(form.querySelector("input[name=run_date]")).getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(form.querySelector("input[name=run_date]"));

    input(form.querySelector("input[name=run_date]")).value = "2024-05-01";
    input(form.querySelector("input[name=limit]")).value = "250";
    input(form.querySelector("input[name=ratio]")).value = "0.5";
    input(form.querySelector("input[name=dry_run]")).checked = false;
    /** @type {HTMLSelectElement} */ (form.querySelector("select[name=env]")).value = "prod";
    submit.click();
    expect(model.messages("run")).toEqual([
      { kind: "run", params: { env: "prod", run_date: "2024-05-01", limit: 250, ratio: 0.5, dry_run: false } },
    ]);
    expect(dateError.hidden).toBe(true);
  });

  it("keeps the form open and shows the server's validation error, closes once accepted", () => {
    const model = new FakeModel({ params_schema: SCHEMA });
    const { $, visible } = view(model);
    btn($(".jw-run")).click();
    input($(".jw-form input[name=run_date]")).value = "2024-05-04";
    btn($(".jw-run-submit")).click();
    model.set("pending", "run");
    expect(btn($(".jw-run-submit")).disabled).toBe(true);
    model.update({ pending: "", error: "run_date: must be a weekday" });
    expect(visible(".jw-form")).toBe(true);
    expect(visible(".jw-error")).toBe(true);
    expect($(".jw-error").textContent).toContain("run_date: must be a weekday");
    expect(input($(".jw-form input[name=run_date]")).value).toBe("2024-05-04");

    input($(".jw-form input[name=run_date]")).value = "2024-05-01";
    btn($(".jw-run-submit")).click();
    model.update({ pending: "run", error: "" });
    model.update({ pending: "", run: makeRun({ run_id: 124 }) });
    expect(visible(".jw-form")).toBe(false);
    expect(model.messages("run")).toHaveLength(2);
  });

  it("closes the form with Escape and the Close button, keeping typed values", () => {
    const model = new FakeModel({ params_schema: SCHEMA });
    const { $, visible } = view(model);
    btn($(".jw-run")).click();
    input($(".jw-form input[name=limit]")).value = "7";
    press(input($(".jw-form input[name=limit]")), "Escape");
    expect(visible(".jw-form")).toBe(false);
    expect(document.activeElement).toBe($(".jw-run"));
    btn($(".jw-run")).click();
    expect(input($(".jw-form input[name=limit]")).value).toBe("7");
    btn($(".jw-form-close")).click();
    expect(visible(".jw-form")).toBe(false);
  });
});

describe("Cancel", () => {
  it("asks for inline confirmation before sending cancel", () => {
    const model = new FakeModel({ run: makeRun() });
    const { $, visible } = view(model);
    const cancel = btn($(".jw-cancel"));
    expect(visible(".jw-cancel")).toBe(true);
    cancel.click();
    expect(model.messages("cancel")).toEqual([]);
    expect(visible(".jw-cancel")).toBe(false);
    expect(visible(".jw-cancel-confirm")).toBe(true);
    expect($(".jw-confirm").textContent).toBe("Cancel run 123?Yes, cancelKeep running");
    expect(document.activeElement).toBe($(".jw-cancel-keep"));

    btn($(".jw-cancel-keep")).click();
    expect(visible(".jw-cancel-confirm")).toBe(false);
    expect(model.messages("cancel")).toEqual([]);

    cancel.click();
    btn($(".jw-cancel-confirm")).click();
    expect(model.messages("cancel")).toEqual([{ kind: "cancel", run_id: 123 }]);
    expect(visible(".jw-cancel-confirm")).toBe(false);
  });

  it("closes the confirmation with Escape", () => {
    const model = new FakeModel({ run: makeRun() });
    const { $, visible } = view(model);
    btn($(".jw-cancel")).click();
    press($(".jw-cancel-keep"), "Escape");
    expect(visible(".jw-confirm")).toBe(false);
    expect(document.activeElement).toBe($(".jw-cancel"));
    expect(model.messages("cancel")).toEqual([]);
  });

  it("is disabled while a cancel is pending", () => {
    const model = new FakeModel({ run: makeRun() });
    const { $ } = view(model);
    btn($(".jw-cancel")).click();
    model.set("pending", "cancel");
    expect(btn($(".jw-cancel")).disabled).toBe(true);
    expect(btn($(".jw-cancel-confirm")).disabled).toBe(true);
    btn($(".jw-cancel-confirm")).click();
    expect(model.messages("cancel")).toEqual([]);
  });

  it("drops the confirmation when the shown run changes or finishes", () => {
    const model = new FakeModel({ run: makeRun() });
    const { visible, $ } = view(model);
    btn($(".jw-cancel")).click();
    model.set("run", makeRun({ run_id: 999 }));
    expect(visible(".jw-confirm")).toBe(false);
    expect(visible(".jw-cancel")).toBe(true);
    btn($(".jw-cancel")).click();
    model.set("run", finishedRun("SUCCEEDED", { run_id: 999 }));
    expect(visible(".jw-confirm")).toBe(false);
    expect(visible(".jw-cancel")).toBe(false);
  });
});

describe("Repair, refresh, history", () => {
  it("Repair opens a chooser with the default tasks ticked, and sends only once confirmed", () => {
    const model = new FakeModel({ run: finishedRun("FAILED") });
    const { $, $$, visible } = view(model);
    expect(visible(".jw-repair")).toBe(true);
    expect(visible(".jw-repair-choice")).toBe(false);
    btn($(".jw-repair")).click();
    expect(model.messages("repair")).toEqual([]); // nothing sent before the confirmation
    expect(visible(".jw-repair-choice")).toBe(true);
    const boxes = /** @type {HTMLInputElement[]} */ ($$(".jw-repair-task input"));
    expect(boxes.map((b) => [b.value, b.checked])).toEqual([
      ["extract", false],
      ["transform", true],
      ["load", true],
    ]);
    expect($(".jw-repair-confirm").textContent).toBe("Repair 2 tasks");
    expect(document.activeElement).toBe(boxes[0]);
    boxes[2].click(); // untick "load"
    expect($(".jw-repair-confirm").textContent).toBe("Repair 1 task");
    btn($(".jw-repair-confirm")).click();
    expect(model.messages("repair")).toEqual([{ kind: "repair", run_id: 123, tasks: ["transform"] }]);
    expect(visible(".jw-repair-choice")).toBe(false);
    model.set("run", finishedRun("SUCCEEDED"));
    expect(visible(".jw-repair")).toBe(false);
  });

  it("the repair chooser: nothing ticked cannot be sent; Not now, Escape and another run close it", () => {
    const model = new FakeModel({ run: finishedRun("FAILED") });
    const { $, $$, visible } = view(model);
    btn($(".jw-repair")).click();
    for (const box of /** @type {HTMLInputElement[]} */ ($$(".jw-repair-task input"))) if (box.checked) box.click();
    expect(btn($(".jw-repair-confirm")).disabled).toBe(true);
    btn($(".jw-repair-keep")).click();
    expect(visible(".jw-repair-choice")).toBe(false);
    expect(document.activeElement).toBe($(".jw-repair"));
    btn($(".jw-repair")).click();
    $(".jw-repair-choice").dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(visible(".jw-repair-choice")).toBe(false);
    btn($(".jw-repair")).click();
    model.set("run", { ...finishedRun("FAILED"), run_id: 124 });
    expect(visible(".jw-repair-choice")).toBe(false);
    expect(model.messages("repair")).toEqual([]);
  });

  it("a run without tasks is repaired whole after the confirmation", () => {
    const model = new FakeModel({ run: { ...finishedRun("FAILED"), tasks: [], repair: { tasks: [], default: [] } } });
    const { $, visible } = view(model);
    btn($(".jw-repair")).click();
    expect(visible(".jw-repair-tasks")).toBe(false);
    btn($(".jw-repair-confirm")).click();
    expect(model.messages("repair")).toEqual([{ kind: "repair", run_id: 123 }]);
  });

  it("a run known by its id only holds Run and shows the id, never 'No runs yet'", () => {
    const model = new FakeModel({
      run: { ...makeRun(), known: false, state: "UNKNOWN", label: "State unknown", tone: "neutral", tasks: [], start_time: null, since_time: null },
    });
    const { $, el, visible } = view(model);
    expect($(".jw-run-state").textContent).toBe("State unknown");
    expect(el.textContent).toContain("123");
    expect(el.textContent).not.toContain("No runs yet");
    expect(btn($(".jw-run")).disabled).toBe(true);
    expect(visible(".jw-progress")).toBe(false);
    model.set("run", makeRun());
    expect(btn($(".jw-run")).disabled).toBe(false);
  });

  it("a repair's elapsed time counts from the repair, with no whole-run estimate", () => {
    const model = new FakeModel({ run: makeRun({ since_time: T0 - 5_000, repairing: true }), eta: null });
    const { $ } = view(model);
    expect($(".jw-elapsed").textContent).toBe("5s");
    expect($(".jw-elapsed").title).toBe("Time since the repair began");
    expect($(".jw-eta").textContent).not.toContain("longer than usual");
  });

  it("sends refresh", () => {
    const model = new FakeModel();
    const { $ } = view(model);
    btn($(".jw-refresh")).click();
    expect(model.messages("refresh")).toEqual([{ kind: "refresh" }]);
    expect($(".jw-refresh").getAttribute("aria-label")).toBe("Refresh");
  });

  it("sends select when a history entry is clicked", () => {
    const model = new FakeModel({ run: makeRun(), history: HISTORY });
    const { $$ } = view(model);
    btn($$(".jw-history-item")[1]).click();
    expect(model.messages("select")).toEqual([{ kind: "select", run_id: 122 }]);
  });

  it("keeps focus on a history entry when it becomes the selected run", () => {
    const model = new FakeModel({ run: makeRun(), history: HISTORY });
    const { $$ } = view(model);
    const item = btn($$(".jw-history-item")[1]);
    item.focus();
    item.click();
    model.set("run", finishedRun("FAILED", { run_id: 122 }));
    expect(document.activeElement).toBe(item);
    expect(item.getAttribute("aria-current")).toBe("true");
  });
});

describe("visibility", () => {
  it("sends the initial value once on render", () => {
    const model = new FakeModel();
    view(model);
    expect(model.messages("visibility")).toEqual([{ kind: "visibility", visible: true }]);
    model.set("run", makeRun());
    expect(model.messages("visibility")).toHaveLength(1);
  });

  it("reports document visibility changes without duplicates", () => {
    const model = new FakeModel();
    view(model);
    const state = vi.spyOn(document, "visibilityState", "get").mockReturnValue("hidden");
    document.dispatchEvent(new Event("visibilitychange"));
    document.dispatchEvent(new Event("visibilitychange"));
    state.mockReturnValue("visible");
    document.dispatchEvent(new Event("visibilitychange"));
    expect(model.messages("visibility").map((m) => m.visible)).toEqual([true, false, true]);
  });

  it("uses IntersectionObserver and disconnects it on cleanup", () => {
    /** @type {{ callback: IntersectionObserverCallback, observed: Element[], disconnected: boolean }[]} */
    const observers = [];
    vi.stubGlobal(
      "IntersectionObserver",
      class {
        /** @param {IntersectionObserverCallback} callback */
        constructor(callback) {
          /** @type {{ callback: IntersectionObserverCallback, observed: Element[], disconnected: boolean }} */
          this.record = { callback, observed: [], disconnected: false };
          observers.push(this.record);
        }
        /** @param {Element} el */
        observe(el) {
          this.record.observed.push(el);
        }
        disconnect() {
          this.record.disconnected = true;
        }
      },
    );
    const model = new FakeModel();
    const { $, cleanup } = view(model);
    expect(observers).toHaveLength(1);
    expect(observers[0].observed).toEqual([$(".jw-panel")]);
    const fire = (/** @type {boolean} */ isIntersecting) =>
      observers[0].callback([/** @type {IntersectionObserverEntry} */ ({ isIntersecting })], /** @type {any} */ (null));
    fire(false);
    fire(false);
    fire(true);
    expect(model.messages("visibility").map((m) => m.visible)).toEqual([true, false, true]);
    cleanup();
    expect(observers[0].disconnected).toBe(true);
  });

  it("reports one value per model across several views", () => {
    const model = new FakeModel();
    const a = view(model);
    const b = view(model);
    expect(model.messages("visibility")).toEqual([{ kind: "visibility", visible: true }]);
    a.unmount();
    expect(model.messages("visibility")).toHaveLength(1);
    b.unmount();
    expect(model.messages("visibility").map((m) => m.visible)).toEqual([true, false]);
  });
});
