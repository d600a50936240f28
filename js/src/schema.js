// The run parameters a pydantic JSON schema describes: fields, defaults, checks.
// Pure (no DOM) and unit-tested on its own; form.js turns the fields into a <form>.

import { isObject } from "./normalize.js";

/** @typedef {import("./protocol.js").JsonSchema} JsonSchema */
/** @typedef {string | number | boolean} ParamValue */

/**
 * @typedef {"text" | "integer" | "number" | "boolean" | "enum" | "date" | "datetime"} FieldKind
 */

/**
 * @typedef {object} FieldSpec
 * @property {string} name        property name (the key sent to Python)
 * @property {FieldKind} kind
 * @property {string} label       what the field is called: its parameter name, as everywhere else
 * @property {string} title       the schema's own title, only when it says more than the name ("" otherwise)
 * @property {string} description plain text (markup such as ``code`` or *emphasis* removed)
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
      label: name,
      title: typeof prop.title === "string" && !sameWords(prop.title, name) ? plainText(prop.title) : "",
      description: typeof prop.description === "string" ? plainText(prop.description) : "",
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
 * Whether a title only restates a name ("Full Refresh" for `full_refresh`, pydantic's default title).
 * @param {string} title
 * @param {string} name
 * @returns {boolean}
 */
function sameWords(title, name) {
  const words = (/** @type {string} */ s) => s.toLowerCase().replace(/[\s_\-.]+/g, "");
  return words(title) === words(name);
}

/**
 * Docstring or Markdown/reST text as plain text: ``literals``, `code`, :role:`refs`,
 * **strong**, *emphasis*, _emphasis_ and [links](url) keep their words and lose their
 * marks; whitespace (docstring indentation, line breaks) folds to single spaces.
 * Underscores inside words (`full_refresh`) are left alone.
 * @param {string} text
 * @returns {string}
 */
export function plainText(text) {
  return text
    .replace(/:[a-z][\w:.-]*:`~?([^`]+)`/g, "$1") // :class:`~pkg.Name` -> pkg.Name
    .replace(/``([^`]+)``/g, "$1")
    .replace(/`([^`]+)`_{0,2}/g, "$1") // `code`, and reST `link`_
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1(?![\w*])/g, "$2")
    .replace(/(^|[^\w*])\*(?=[^\s*])([^*]*?[^\s*])\*(?![\w*])/g, "$1$2")
    .replace(/(^|[^\w])_(?=[^\s_])([^_]*?[^\s_])_(?!\w)/g, "$1$2")
    .replace(/\s+/g, " ")
    .trim();
}

/**
 * String shown in a control for a schema value.
 * @param {unknown} value
 * @returns {string}
 */
export function displayValue(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value) ?? "";
}

/**
 * Initial raw value of a field: its schema default; without one, the value the last
 * run was given (`last`, as the run's parameters carry it: a string) when it is a
 * valid value of the field; else empty.
 * @param {FieldSpec} field
 * @param {string} [last]
 * @returns {RawValue}
 */
export function initialRawValue(field, last) {
  if (!field.hasDefault && last !== undefined) {
    const fromLast = rawFromText(field, last);
    if (fromLast !== null) return fromLast;
  }
  const d = field.hasDefault ? field.defaultValue : undefined;
  if (field.kind === "boolean") return { value: "", checked: d === true, badInput: false };
  if (field.kind === "enum") {
    const index = field.options.findIndex((o) => o === d);
    return { value: index >= 0 ? field.optionKeys[index] : "", checked: false, badInput: false };
  }
  return { value: displayValue(d), checked: false, badInput: false };
}

/**
 * The raw value that shows `text` (a parameter as a run carries it) in the field's
 * control, or null when it is not a valid value of the field.
 * @param {FieldSpec} field
 * @param {string} text
 * @returns {RawValue | null}
 */
function rawFromText(field, text) {
  /** @type {RawValue} */
  let raw;
  if (field.kind === "boolean") {
    if (text !== "true" && text !== "false") return null;
    raw = { value: "", checked: text === "true", badInput: false };
  } else if (field.kind === "enum") {
    const index = field.options.findIndex((o) => displayValue(o) === text);
    if (index < 0) return null;
    raw = { value: field.optionKeys[index], checked: false, badInput: false };
  } else {
    if (field.kind === "date" && !/^\d{4}-\d{2}-\d{2}$/.test(text)) return null;
    raw = { value: text, checked: false, badInput: false };
  }
  const checked = coerceField(field, raw);
  return checked.ok && checked.value !== undefined ? raw : null;
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
