// Parameters form generated from a pydantic JSON schema.
//
// `fieldsFromSchema` and `collectParams` are pure (no DOM) and unit-tested on
// their own; `buildParamsForm` turns the fields into a <form>.

import { isObject } from "./protocol.js";
import { LIMITS, truncateText } from "./format.js";
import { h, setShown, setText } from "./view.js";

/** @typedef {import("./protocol.js").JsonSchema} JsonSchema */
/** @typedef {string | number | boolean} ParamValue */

/**
 * @typedef {"text" | "integer" | "number" | "boolean" | "enum" | "date" | "datetime"} FieldKind
 */

/**
 * @typedef {object} FieldSpec
 * @property {string} name        property name (the key sent to Python)
 * @property {FieldKind} kind
 * @property {string} label
 * @property {string} description
 * @property {boolean} required
 * @property {boolean} hasDefault
 * @property {unknown} defaultValue
 * @property {unknown[]} options   enum values (kind "enum")
 * @property {string[]} optionKeys  `<option value>` of each enum value
 * @property {number | undefined} minimum
 * @property {number | undefined} maximum
 * @property {number | undefined} minLength
 * @property {number | undefined} maxLength
 * @property {string | undefined} pattern
 */

/**
 * What the user entered in one control.
 * @typedef {{ value: string, checked: boolean, badInput: boolean }} RawValue
 */

const MAX_DEPTH = 16;

/**
 * Follow a local JSON pointer ("#/$defs/Color").
 * @param {JsonSchema} root
 * @param {string} ref
 * @returns {JsonSchema | null}
 */
function lookupRef(root, ref) {
  if (!ref.startsWith("#/")) return null;
  /** @type {unknown} */
  let node = root;
  for (const raw of ref.slice(2).split("/")) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isObject(node) || !Object.prototype.hasOwnProperty.call(node, key)) return null;
    node = node[key];
  }
  return isObject(node) ? /** @type {JsonSchema} */ (node) : null;
}

/**
 * @param {JsonSchema} node
 * @returns {boolean}
 */
function isNullSchema(node) {
  return node.type === "null" || (Array.isArray(node.enum) && node.enum.length === 1 && node.enum[0] === null);
}

/**
 * Inline `$ref`, single-member `allOf`, and nullable `anyOf`/`oneOf`/type
 * arrays. Sibling keywords of the outer node (title, default, description)
 * win over the referenced ones.
 * @param {unknown} node
 * @param {JsonSchema} root
 * @param {number} [depth]
 * @returns {{ schema: JsonSchema, nullable: boolean }}
 */
export function resolveSchema(node, root, depth = 0) {
  if (!isObject(node) || depth > MAX_DEPTH) return { schema: {}, nullable: false };
  const schema = /** @type {JsonSchema} */ (node);
  if (typeof schema.$ref === "string") {
    const { $ref, ...rest } = schema;
    const target = resolveSchema(lookupRef(root, $ref), root, depth + 1);
    return { schema: { ...target.schema, ...rest }, nullable: target.nullable };
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length === 1) {
    const { allOf, ...rest } = schema;
    const target = resolveSchema(allOf[0], root, depth + 1);
    return { schema: { ...target.schema, ...rest }, nullable: target.nullable };
  }
  const union = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : null;
  if (union !== null) {
    const { anyOf, oneOf, ...rest } = schema;
    const members = union.filter(isObject).map((m) => /** @type {JsonSchema} */ (m));
    const nonNull = members.filter((m) => !isNullSchema(m));
    const nullable = nonNull.length < members.length;
    if (nonNull.length === 1) {
      const target = resolveSchema(nonNull[0], root, depth + 1);
      return { schema: { ...target.schema, ...rest }, nullable: nullable || target.nullable };
    }
    return { schema: { ...rest, type: "string" }, nullable };
  }
  if (Array.isArray(schema.type)) {
    const types = schema.type.filter((t) => t !== "null");
    return { schema: { ...schema, type: types.length === 1 ? types[0] : "string" }, nullable: types.length < schema.type.length };
  }
  return { schema, nullable: false };
}

/**
 * @param {JsonSchema} schema
 * @returns {{ kind: FieldKind, options: unknown[] }}
 */
function kindOf(schema) {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) {
    return { kind: "enum", options: schema.enum.filter((v) => v !== null) };
  }
  if ("const" in schema && schema.const !== undefined && schema.const !== null) {
    return { kind: "enum", options: [schema.const] };
  }
  switch (schema.type) {
    case "boolean":
      return { kind: "boolean", options: [] };
    case "integer":
      return { kind: "integer", options: [] };
    case "number":
      return { kind: "number", options: [] };
    default:
      if (schema.format === "date") return { kind: "date", options: [] };
      if (schema.format === "date-time") return { kind: "datetime", options: [] };
      return { kind: "text", options: [] };
  }
}

/**
 * @param {unknown} v
 * @returns {number | undefined}
 */
function num(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/**
 * The form fields described by a pydantic `model_json_schema()` object.
 * @param {JsonSchema | null} schema
 * @returns {FieldSpec[]}
 */
export function fieldsFromSchema(schema) {
  if (schema === null) return [];
  const root = resolveSchema(schema, schema).schema;
  const props = isObject(root.properties) ? root.properties : {};
  const required = new Set(Array.isArray(root.required) ? root.required.filter((r) => typeof r === "string") : []);
  /** @type {FieldSpec[]} */
  const fields = [];
  for (const [name, raw] of Object.entries(props)) {
    const { schema: prop } = resolveSchema(raw, schema);
    const { kind, options } = kindOf(prop);
    const labels = options.map(displayValue);
    // Option values are the enum values themselves unless two would collide.
    const optionKeys = new Set(labels).size === labels.length && !labels.includes("") ? labels : options.map((_, i) => `#${i}`);
    const hasDefault = Object.prototype.hasOwnProperty.call(prop, "default");
    fields.push({
      name,
      kind,
      label: typeof prop.title === "string" && prop.title.trim() !== "" ? prop.title : name,
      description: typeof prop.description === "string" ? prop.description : "",
      required: required.has(name),
      hasDefault,
      defaultValue: hasDefault ? prop.default : undefined,
      options,
      optionKeys,
      minimum: num(prop.minimum),
      maximum: num(prop.maximum),
      minLength: num(prop.minLength),
      maxLength: num(prop.maxLength),
      pattern: typeof prop.pattern === "string" ? prop.pattern : undefined,
    });
  }
  return fields;
}

/**
 * String shown in a control for a schema value.
 * @param {unknown} value
 * @returns {string}
 */
function displayValue(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value) ?? "";
}

/**
 * Initial raw value of a field (its default, if any).
 * @param {FieldSpec} field
 * @returns {RawValue}
 */
export function initialRawValue(field) {
  const d = field.hasDefault ? field.defaultValue : undefined;
  if (field.kind === "boolean") return { value: "", checked: d === true, badInput: false };
  if (field.kind === "enum") {
    const index = field.options.findIndex((o) => o === d);
    return { value: index >= 0 ? field.optionKeys[index] : "", checked: false, badInput: false };
  }
  return { value: displayValue(d), checked: false, badInput: false };
}

/**
 * Validate and coerce one raw value.
 * @param {FieldSpec} field
 * @param {RawValue} raw
 * @returns {{ ok: true, value?: ParamValue } | { ok: false, message: string }}
 *   `value` absent = omit the parameter
 */
export function coerceField(field, raw) {
  if (field.kind === "boolean") return { ok: true, value: raw.checked };
  if (raw.badInput) return { ok: false, message: field.kind === "integer" ? "Enter a whole number." : "Enter a number." };
  const text = field.kind === "text" ? raw.value : raw.value.trim();
  if (text === "") {
    return field.required ? { ok: false, message: "This field is required." } : { ok: true };
  }
  switch (field.kind) {
    case "enum": {
      const index = field.optionKeys.indexOf(raw.value);
      const option = index >= 0 ? field.options[index] : undefined;
      if (option === undefined) return { ok: false, message: "Choose one of the options." };
      if (typeof option === "string" || typeof option === "number" || typeof option === "boolean") {
        return { ok: true, value: option };
      }
      return { ok: true, value: displayValue(option) };
    }
    case "integer":
    case "number": {
      const isInt = field.kind === "integer";
      const n = Number(text);
      if (!Number.isFinite(n) || (isInt && !/^[+-]?\d+$/.test(text))) {
        return { ok: false, message: isInt ? "Enter a whole number." : "Enter a number." };
      }
      if (isInt && !Number.isSafeInteger(n)) return { ok: false, message: "This number is too large." };
      if (field.minimum !== undefined && n < field.minimum) {
        return { ok: false, message: `Must be at least ${field.minimum}.` };
      }
      if (field.maximum !== undefined && n > field.maximum) {
        return { ok: false, message: `Must be at most ${field.maximum}.` };
      }
      return { ok: true, value: n };
    }
    default: {
      if (field.minLength !== undefined && text.length < field.minLength) {
        return { ok: false, message: `Must be at least ${field.minLength} characters.` };
      }
      if (field.maxLength !== undefined && text.length > field.maxLength) {
        return { ok: false, message: `Must be at most ${field.maxLength} characters.` };
      }
      if (field.pattern !== undefined) {
        /** @type {RegExp | null} */
        let re = null;
        try {
          re = new RegExp(field.pattern, "u");
        } catch {
          re = null; // the server will validate
        }
        if (re !== null && !re.test(text)) return { ok: false, message: "Does not match the expected format." };
      }
      return { ok: true, value: text };
    }
  }
}

/**
 * Build the `params` of a run message: typed values, empty optionals
 * omitted. `errors` maps field names to messages when something is invalid.
 * @param {FieldSpec[]} fields
 * @param {Map<string, RawValue>} raw
 * @returns {{ params: Record<string, ParamValue>, errors: Map<string, string> }}
 */
export function collectParams(fields, raw) {
  /** @type {[string, ParamValue][]} */
  const entries = [];
  /** @type {Map<string, string>} */
  const errors = new Map();
  for (const field of fields) {
    const result = coerceField(field, raw.get(field.name) ?? initialRawValue(field));
    if (!result.ok) errors.set(field.name, result.message);
    else if (result.value !== undefined) entries.push([field.name, result.value]);
  }
  // fromEntries creates own data properties, so "__proto__" stays a plain key.
  return { params: Object.fromEntries(entries), errors };
}

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
 * @param {JsonSchema} schema
 * @param {{ idPrefix: string, onSubmit: (params: Record<string, ParamValue>) => void, onClose: () => void }} options
 * @returns {ParamsForm}
 */
export function buildParamsForm(schema, { idPrefix, onSubmit, onClose }) {
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
  const form = h("form", { class: "jw-form jw-card", novalidate: true, "aria-label": title ? `Run parameters: ${truncateText(title, LIMITS.name)}` : "Run parameters" });
  if (typeof root.description === "string" && root.description.trim() !== "") {
    form.append(h("p", { class: "jw-form-help" }, truncateText(root.description, LIMITS.message)));
  }
  if (fields.some((f) => f.required)) {
    form.append(h("p", { class: "jw-form-legend" }, h("span", { class: "jw-required", "aria-hidden": "true" }, "*"), " required"));
  }

  fields.forEach((field, index) => {
    const id = `${idPrefix}f${index}`;
    const helpId = `${id}-help`;
    const errorId = `${id}-error`;
    const help = field.description
      ? h("p", { class: "jw-field-help", id: helpId }, truncateText(field.description, LIMITS.message))
      : null;
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
        select.append(h("option", { value: field.optionKeys[i] }, truncateText(displayValue(option), LIMITS.name)));
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
      truncateText(field.label, LIMITS.name),
      field.required ? h("span", { class: "jw-required", "aria-hidden": "true" }, " *") : null,
    );
    const wrapper =
      field.kind === "boolean"
        ? h("div", { class: "jw-field jw-field--checkbox", "data-field": truncateText(field.name, LIMITS.name) }, input, label, help, error)
        : h("div", { class: `jw-field jw-field--${field.kind}`, "data-field": truncateText(field.name, LIMITS.name) }, label, input, help, error);
    form.append(wrapper);
    const control = { field, input, error };
    controls.push(control);
    writeRaw(control, initialRawValue(field));
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
