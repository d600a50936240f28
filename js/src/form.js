// The Run parameters <form>, built from the fields of a JSON schema (schema.js).
// Submitting validates client-side, shows hints next to invalid fields, and
// otherwise hands the typed parameters to `onSubmit`.

import { LIMITS, clipText } from "./rules.js";
import { h, setShown, setText } from "./dom.js";
import { coerceField, collectParams, displayValue, fieldsFromSchema, initialRawValue, plainText, resolveSchema } from "./schema.js";

/** @typedef {import("./protocol.js").JsonSchema} JsonSchema */
/** @typedef {import("./schema.js").FieldSpec} FieldSpec */
/** @typedef {import("./schema.js").RawValue} RawValue */
/** @typedef {import("./schema.js").ParamValue} ParamValue */

/**
 * @typedef {object} ParamsForm
 * @property {HTMLFormElement} form
 * @property {HTMLButtonElement} submitButton
 * @property {FieldSpec[]} fields
 * @property {() => void} focusFirst
 * @property {() => Map<string, RawValue>} getRawValues
 * @property {(values: Map<string, RawValue>) => void} setRawValues
 * @property {(pending: boolean) => void} setPending
 * @property {() => void} destroy   removes the form's listeners
 */

/**
 * @typedef {object} Control
 * @property {FieldSpec} field
 * @property {HTMLInputElement | HTMLSelectElement} input
 * @property {HTMLElement} error
 */

/**
 * Build the <form>. Submitting validates client-side, shows hints next to
 * invalid fields, and otherwise calls `onSubmit(params)`.
 *
 * Each field is labelled with its parameter name (`full_refresh`, as `%jobs` and the
 * run's parameters show it); a schema title that says more than the name, and the
 * description, are the secondary text under it, as plain text. A field starts with its
 * schema default, else with the value the last run was given (`lastParams`, the run's
 * parameters as the snapshot carries them) when that is valid.
 * @param {JsonSchema} schema
 * @param {{ idPrefix: string, onSubmit: (params: Record<string, ParamValue>) => void, onClose: () => void, lastParams?: Record<string, string> | null }} options
 * @returns {ParamsForm}
 */
export function buildParamsForm(schema, { idPrefix, onSubmit, onClose, lastParams = null }) {
  const fields = fieldsFromSchema(schema);
  /** @type {Control[]} */
  const controls = [];
  /** @type {(() => void)[]} */
  const disposers = [];

  /**
   * @param {EventTarget} target
   * @param {string} type
   * @param {(event: Event) => void} handler
   */
  const listen = (target, type, handler) => {
    target.addEventListener(type, handler);
    disposers.push(() => target.removeEventListener(type, handler));
  };

  const root = resolveSchema(schema, schema).schema;
  const title = typeof root.title === "string" ? root.title : "";
  const form = h("form", { class: "jw-form jw-card", novalidate: true, "aria-label": title ? `Run parameters: ${clipText(title, LIMITS.name)}` : "Run parameters" });
  const about = typeof root.description === "string" ? plainText(root.description) : "";
  if (about !== "") {
    form.append(h("p", { class: "jw-form-help" }, clipText(about, LIMITS.message)));
  }
  if (fields.some((f) => f.required)) {
    form.append(h("p", { class: "jw-form-legend" }, h("span", { class: "jw-required", "aria-hidden": "true" }, "*"), " required"));
  }

  fields.forEach((field, index) => {
    const id = `${idPrefix}f${index}`;
    const helpId = `${id}-help`;
    const errorId = `${id}-error`;
    const helpText = [field.title, field.description].filter((t) => t !== "").join(" \u2014 ");
    const help = helpText ? h("p", { class: "jw-field-help", id: helpId }, clipText(helpText, LIMITS.message)) : null;
    const error = h("p", { class: "jw-field-error", id: errorId, hidden: true });
    const describedBy = [help ? helpId : "", errorId].filter(Boolean).join(" ");
    const common = {
      id,
      name: field.name,
      class: "jw-input",
      "aria-describedby": describedBy,
      "aria-required": field.required ? "true" : null,
    };
    /** @type {HTMLInputElement | HTMLSelectElement} */
    let input;
    if (field.kind === "enum") {
      const select = h("select", common);
      if (!field.required || !field.hasDefault) {
        select.append(h("option", { value: "" }, field.required ? "Choose\u2026" : "\u2014"));
      }
      field.options.forEach((option, i) => {
        select.append(h("option", { value: field.optionKeys[i] }, clipText(displayValue(option), LIMITS.name)));
      });
      input = select;
    } else if (field.kind === "boolean") {
      input = h("input", { ...common, type: "checkbox", class: "jw-checkbox" });
    } else {
      const type = { integer: "number", number: "number", date: "date", datetime: "text", text: "text" }[field.kind];
      input = h("input", {
        ...common,
        type,
        step: field.kind === "integer" ? "1" : field.kind === "number" ? "any" : null,
        min: field.minimum ?? null,
        max: field.maximum ?? null,
        inputmode: field.kind === "integer" ? "numeric" : field.kind === "number" ? "decimal" : null,
        placeholder: field.kind === "datetime" ? "YYYY-MM-DDTHH:MM:SS" : null,
        autocomplete: "off",
        spellcheck: field.kind === "text" ? null : "false",
      });
    }
    const label = h(
      "label",
      { for: id, class: "jw-field-label" },
      clipText(field.label, LIMITS.name),
      field.required ? h("span", { class: "jw-required", "aria-hidden": "true" }, " *") : null,
    );
    const wrapper =
      field.kind === "boolean"
        ? h("div", { class: "jw-field jw-field--checkbox", "data-field": clipText(field.name, LIMITS.name) }, input, label, help, error)
        : h("div", { class: `jw-field jw-field--${field.kind}`, "data-field": clipText(field.name, LIMITS.name) }, label, input, help, error);
    form.append(wrapper);
    const control = { field, input, error };
    controls.push(control);
    const last = lastParams !== null && Object.prototype.hasOwnProperty.call(lastParams, field.name) ? lastParams[field.name] : undefined;
    writeRaw(control, initialRawValue(field, typeof last === "string" ? last : undefined));
    listen(input, "input", () => showError(control, null));
    listen(input, "change", () => {
      const result = coerceField(field, readRaw(control));
      showError(control, result.ok ? null : result.message);
    });
  });

  const submitButton = h("button", { type: "submit", class: "jw-button jw-button--primary jw-run-submit" }, "Start run");
  const closeButton = h("button", { type: "button", class: "jw-button jw-form-close" }, "Close");
  form.append(h("div", { class: "jw-form-actions" }, submitButton, closeButton));

  listen(closeButton, "click", () => onClose());
  listen(form, "submit", (event) => {
    event.preventDefault();
    if (submitButton.disabled) return;
    /** @type {Map<string, RawValue>} */
    const raw = new Map(controls.map((c) => [c.field.name, readRaw(c)]));
    const { params, errors } = collectParams(fields, raw);
    /** @type {Control | null} */
    let firstInvalid = null;
    for (const c of controls) {
      const message = errors.get(c.field.name) ?? null;
      showError(c, message);
      if (message !== null && firstInvalid === null) firstInvalid = c;
    }
    if (firstInvalid !== null) {
      firstInvalid.input.focus();
      return;
    }
    onSubmit(params);
  });

  return {
    form,
    submitButton,
    fields,
    focusFirst() {
      (controls[0]?.input ?? submitButton).focus();
    },
    getRawValues() {
      return new Map(controls.map((c) => [c.field.name, readRaw(c)]));
    },
    setRawValues(values) {
      for (const c of controls) {
        const v = values.get(c.field.name);
        if (v !== undefined && (c.field.kind !== "enum" || v.value === "" || c.field.optionKeys.includes(v.value))) {
          writeRaw(c, v);
        }
      }
    },
    setPending(pending) {
      submitButton.disabled = pending;
      submitButton.setAttribute("aria-busy", pending ? "true" : "false");
    },
    destroy() {
      for (const dispose of disposers.splice(0)) dispose();
    },
  };
}

/**
 * @param {Control} control
 * @returns {RawValue}
 */
function readRaw({ input }) {
  const checked = input instanceof HTMLInputElement ? input.checked : false;
  const badInput = input instanceof HTMLInputElement && input.type === "number" && Boolean(input.validity?.badInput);
  return { value: input.value, checked, badInput };
}

/**
 * @param {Control} control
 * @param {RawValue} raw
 */
function writeRaw({ field, input }, raw) {
  if (field.kind === "boolean" && input instanceof HTMLInputElement) input.checked = raw.checked;
  else input.value = raw.value;
}

/**
 * @param {Control} control
 * @param {string | null} message
 */
function showError({ input, error }, message) {
  setText(error, message ?? "");
  setShown(error, message !== null);
  if (message !== null) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}
