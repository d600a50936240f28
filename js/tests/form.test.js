import { afterEach, describe, expect, it, vi } from "vitest";
import { buildParamsForm } from "../src/form.js";
import { coerceField, collectParams, fieldsFromSchema, initialRawValue, plainText, resolveSchema } from "../src/schema.js";

/** @typedef {import("../src/form.js").RawValue} RawValue */

/** @param {string} value @returns {RawValue} */
const raw = (value) => ({ value, checked: false, badInput: false });

describe("fieldsFromSchema", () => {
  it("reads pydantic v2 output: $defs/$ref enums, optionals, formats, required", () => {
    const schema = {
      $defs: { Color: { enum: ["red", "green"], title: "Color", type: "string" } },
      properties: {
        color: { $ref: "#/$defs/Color", default: "red" },
        legacy: { allOf: [{ $ref: "#/$defs/Color" }], description: "old style ref" },
        maybe: { anyOf: [{ $ref: "#/$defs/Color" }, { type: "null" }], default: null },
        day: { type: "string", format: "date", title: "Day" },
        at: { type: "string", format: "date-time" },
        n: { anyOf: [{ type: "integer" }, { type: "null" }], default: null, title: "N" },
        x: { type: ["number", "null"] },
        flag: { type: "boolean", default: false },
        mode: { const: "fast" },
        level: { enum: [1, 2, 3], type: "integer" },
        tags: { type: "array", items: { type: "string" } },
      },
      required: ["day", "level"],
      title: "Params",
      type: "object",
    };
    const fields = fieldsFromSchema(/** @type {any} */ (schema));
    const byName = Object.fromEntries(fields.map((f) => [f.name, f]));
    expect(fields.map((f) => f.name)).toEqual(["color", "legacy", "maybe", "day", "at", "n", "x", "flag", "mode", "level", "tags"]);
    expect(byName.color).toMatchObject({ kind: "enum", options: ["red", "green"], hasDefault: true, defaultValue: "red", required: false, label: "color", title: "" });
    expect(byName.legacy).toMatchObject({ kind: "enum", description: "old style ref" });
    expect(byName.maybe).toMatchObject({ kind: "enum", hasDefault: true, defaultValue: null });
    expect(byName.day).toMatchObject({ kind: "date", required: true, label: "day", title: "" });
    expect(byName.at.kind).toBe("datetime");
    expect(byName.n).toMatchObject({ kind: "integer", label: "n" });
    expect(byName.x.kind).toBe("number");
    expect(byName.flag).toMatchObject({ kind: "boolean", defaultValue: false });
    expect(byName.mode).toMatchObject({ kind: "enum", options: ["fast"] });
    expect(byName.level).toMatchObject({ kind: "enum", options: [1, 2, 3], required: true });
    expect(byName.tags.kind).toBe("text");
  });

  it("survives broken schemas", () => {
    expect(fieldsFromSchema(null)).toEqual([]);
    expect(fieldsFromSchema(/** @type {any} */ ({ properties: "nope" }))).toEqual([]);
    const loop = { $defs: { A: { $ref: "#/$defs/A" } }, properties: { a: { $ref: "#/$defs/A" }, b: { $ref: "#/nowhere" } } };
    expect(fieldsFromSchema(/** @type {any} */ (loop)).map((f) => f.kind)).toEqual(["text", "text"]);
    expect(resolveSchema("x", {})).toEqual({ schema: {}, nullable: false });
  });
});

describe("coercion", () => {
  const fields = fieldsFromSchema(/** @type {any} */ ({
    properties: {
      count: { type: "integer", minimum: 1, maximum: 10 },
      ratio: { type: "number" },
      name: { type: "string", minLength: 2, pattern: "^[a-z]+$" },
      opt: { anyOf: [{ type: "string" }, { type: "null" }], default: null },
      level: { enum: [1, 2, 3] },
      on: { type: "boolean" },
    },
    required: ["count", "name"],
  }));
  const f = Object.fromEntries(fields.map((x) => [x.name, x]));

  it("types numbers and checks bounds", () => {
    expect(coerceField(f.count, raw("5"))).toEqual({ ok: true, value: 5 });
    expect(coerceField(f.count, raw(" 7 "))).toEqual({ ok: true, value: 7 });
    expect(coerceField(f.count, raw("2.5"))).toMatchObject({ ok: false, message: "Enter a whole number." });
    expect(coerceField(f.count, raw("0"))).toMatchObject({ ok: false, message: "Must be at least 1." });
    expect(coerceField(f.count, raw("11"))).toMatchObject({ ok: false, message: "Must be at most 10." });
    expect(coerceField(f.count, raw(""))).toMatchObject({ ok: false, message: "This field is required." });
    expect(coerceField(f.count, { value: "", checked: false, badInput: true })).toMatchObject({ ok: false });
    expect(coerceField(f.ratio, raw("1e-3"))).toEqual({ ok: true, value: 0.001 });
    expect(coerceField(f.ratio, raw("abc"))).toMatchObject({ ok: false, message: "Enter a number." });
    expect(coerceField(f.ratio, raw(""))).toEqual({ ok: true });
  });

  it("checks strings and maps enums back to their typed values", () => {
    expect(coerceField(f.name, raw("abc"))).toEqual({ ok: true, value: "abc" });
    expect(coerceField(f.name, raw("a"))).toMatchObject({ ok: false });
    expect(coerceField(f.name, raw("ABC"))).toMatchObject({ ok: false, message: "Does not match the expected format." });
    expect(coerceField(f.level, raw("2"))).toEqual({ ok: true, value: 2 });
    expect(coerceField(f.level, raw("9"))).toMatchObject({ ok: false });
    expect(coerceField(f.on, { value: "", checked: true, badInput: false })).toEqual({ ok: true, value: true });
  });

  it("collects params, omitting empty optional fields", () => {
    const values = new Map([
      ["count", raw("3")],
      ["ratio", raw("")],
      ["name", raw("abc")],
      ["opt", raw("")],
      ["level", raw("")],
    ]);
    const { params, errors } = collectParams(fields, values);
    expect(errors.size).toBe(0);
    expect(params).toEqual({ count: 3, name: "abc", on: false });
  });

  it("labels fields with the parameter name; a title that says more is secondary", () => {
    const fields = fieldsFromSchema(/** @type {any} */ ({
      properties: {
        full_refresh: { type: "boolean", title: "Full Refresh" },
        max_rows: { type: "integer", title: "Max rows" },
        region: { type: "string", title: "Sales region (**ISO** code)" },
      },
    }));
    expect(fields.map((f) => [f.label, f.title])).toEqual([
      ["full_refresh", ""],
      ["max_rows", ""],
      ["region", "Sales region (ISO code)"],
    ]);
  });

  it("pre-fills the last run's value when the schema has no default and the value is valid", () => {
    const [day, env, flag, n, note] = fieldsFromSchema(/** @type {any} */ ({
      properties: {
        day: { type: "string", format: "date" },
        env: { enum: ["dev", "prod"] },
        flag: { type: "boolean" },
        n: { type: "integer", minimum: 1 },
        note: { type: "string" },
      },
    }));
    expect(initialRawValue(day, "2026-01-30").value).toBe("2026-01-30");
    expect(initialRawValue(day, "yesterday").value).toBe("");
    expect(initialRawValue(day, "2026-02-31").value).toBe("2026-02-31"); // the browser's date input judges the day
    expect(initialRawValue(env, "prod").value).toBe("prod");
    expect(initialRawValue(env, "qa").value).toBe("");
    expect(initialRawValue(flag, "true").checked).toBe(true);
    expect(initialRawValue(flag, "yes").checked).toBe(false);
    expect(initialRawValue(n, "0").value).toBe(""); // below the minimum: not offered again
    expect(initialRawValue(n, "7").value).toBe("7");
    expect(initialRawValue(note, "").value).toBe("");
    const [withDefault] = fieldsFromSchema(/** @type {any} */ ({ properties: { d: { type: "string", format: "date", default: "2024-01-31" } } }));
    expect(initialRawValue(withDefault, "2026-01-30").value).toBe("2024-01-31"); // the job's default wins
  });

  it("pre-fills defaults", () => {
    const [d] = fieldsFromSchema(/** @type {any} */ ({ properties: { d: { type: "string", format: "date", default: "2024-01-31" } } }));
    expect(initialRawValue(d).value).toBe("2024-01-31");
    const [e] = fieldsFromSchema(/** @type {any} */ ({ properties: { e: { enum: ["a", "b"], default: "b" } } }));
    expect(initialRawValue(e).value).toBe("b");
    const [o] = fieldsFromSchema(/** @type {any} */ ({ properties: { o: { type: "object", default: { a: 1 } } } }));
    expect(initialRawValue(o).value).toBe('{"a":1}');
  });
});

describe("plainText", () => {
  it.each([
    ["Parameters of the demo ``etl`` job (sent as notebook parameters).", "Parameters of the demo etl job (sent as notebook parameters)."],
    ["Use `full_refresh` to **rebuild** the *whole* table.", "Use full_refresh to rebuild the whole table."],
    ["A _staging_ run; keeps full_refresh and max_rows as they are.", "A staging run; keeps full_refresh and max_rows as they are."],
    ["See :class:`~jobs.EtlParams` and [the docs](https://example.com/x).", "See jobs.EtlParams and the docs."],
    ["Multi-line\n    docstring,\n\n    indented.", "Multi-line docstring, indented."],
    ["5 * 3 * 2 = 30, a_b_c", "5 * 3 * 2 = 30, a_b_c"],
    ["<b>not html</b> stays text", "<b>not html</b> stays text"],
  ])("%s", (input, expected) => {
    expect(plainText(input)).toBe(expected);
  });
});

describe("buildParamsForm", () => {
  /** @type {(() => void)[]} */
  const cleanups = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  /**
   * @param {any} schema
   * @param {Record<string, string> | null} [lastParams]
   */
  function build(schema, lastParams = null) {
    const onSubmit = vi.fn();
    const onClose = vi.fn();
    const form = buildParamsForm(schema, { idPrefix: "t-", onSubmit, onClose, lastParams });
    document.body.append(form.form);
    cleanups.push(() => {
      form.destroy();
      form.form.remove();
    });
    return { form, onSubmit, onClose };
  }

  it("shows the demo etl job's form as a user reads it: names, plain text, dates filled in", () => {
    // EtlParams.model_json_schema() as the demo sends it (its date default is today's date)
    const { form, onSubmit } = build({
      description: "Parameters of the demo ``etl`` job (sent as notebook parameters).",
      properties: {
        date: { default: "2026-12-03", description: "Business date to load", format: "date", title: "Date", type: "string" },
        env: { default: "dev", description: "Target environment", enum: ["dev", "staging", "prod"], title: "Env", type: "string" },
        full_refresh: { default: false, description: "Rebuild the table from scratch", title: "Full Refresh", type: "boolean" },
        max_rows: { anyOf: [{ minimum: 1, type: "integer" }, { type: "null" }], default: null, description: "Stop after this many rows (for testing)", title: "Max Rows" },
      },
      title: "EtlParams",
      type: "object",
    });
    const el = form.form;
    expect(el.querySelector(".jw-form-help")?.textContent).toBe("Parameters of the demo etl job (sent as notebook parameters).");
    expect(Array.from(el.querySelectorAll("label")).map((l) => l.textContent)).toEqual(["date", "env", "full_refresh", "max_rows"]);
    expect(el.querySelector('[data-field="full_refresh"] .jw-field-help')?.textContent).toBe("Rebuild the table from scratch");
    expect(/** @type {HTMLInputElement} */ (el.querySelector("input[name=date]")).value).toBe("2026-12-03");
    form.submitButton.click();
    expect(onSubmit).toHaveBeenCalledWith({ date: "2026-12-03", env: "dev", full_refresh: false });
  });

  it("fills a field without a default from the last run, and shows a title that says more", () => {
    const schema = {
      properties: {
        run_date: { type: "string", format: "date", title: "Run Date" },
        region: { type: "string", title: "Sales region", description: "An ``ISO`` code." },
      },
      required: ["run_date"],
    };
    const { form, onSubmit } = build(schema, { run_date: "2026-01-31", region: "emea", other: "x" });
    const el = form.form;
    expect(/** @type {HTMLInputElement} */ (el.querySelector("input[name=run_date]")).value).toBe("2026-01-31");
    expect(el.querySelector('[data-field="run_date"] label')?.textContent).toBe("run_date *");
    expect(el.querySelector('[data-field="run_date"] .jw-field-help')).toBeNull(); // "Run Date" says nothing more
    expect(el.querySelector('[data-field="region"] .jw-field-help')?.textContent).toBe("Sales region \u2014 An ISO code.");
    form.submitButton.click();
    expect(onSubmit).toHaveBeenCalledWith({ run_date: "2026-01-31", region: "emea" });
    const fresh = build(schema).form.form;
    expect(/** @type {HTMLInputElement} */ (fresh.querySelector("input[name=run_date]")).value).toBe("");
  });

  it("shows number hints on change and clears them on input", () => {
    const { form } = build({ properties: { n: { type: "integer", maximum: 3 } } });
    const input = /** @type {HTMLInputElement} */ (form.form.querySelector("input[name=n]"));
    const error = /** @type {HTMLElement} */ (form.form.querySelector(".jw-field-error"));
    expect(input.getAttribute("max")).toBe("3");
    expect(input.getAttribute("step")).toBe("1");
    input.value = "5";
    input.dispatchEvent(new Event("change"));
    expect(error.hidden).toBe(false);
    expect(error.textContent).toBe("Must be at most 3.");
    expect(input.getAttribute("aria-describedby")).toContain(error.id);
    input.dispatchEvent(new Event("input"));
    expect(error.hidden).toBe(true);
  });

  it("requires a choice for a required enum without default", () => {
    const { form, onSubmit } = build({ properties: { env: { enum: ["dev", "prod"] } }, required: ["env"] });
    const select = /** @type {HTMLSelectElement} */ (form.form.querySelector("select"));
    expect(Array.from(select.options).map((o) => o.textContent)).toEqual(["Choose\u2026", "dev", "prod"]);
    form.submitButton.click();
    expect(onSubmit).not.toHaveBeenCalled();
    select.value = "prod";
    form.submitButton.click();
    expect(onSubmit).toHaveBeenCalledWith({ env: "prod" });
  });

  it("does not submit while pending and preserves values across rebuilds", () => {
    const schema = { properties: { a: { type: "string" }, b: { type: "boolean" } } };
    const { form, onSubmit, onClose } = build(schema);
    form.setPending(true);
    form.submitButton.click();
    expect(onSubmit).not.toHaveBeenCalled();
    /** @type {HTMLInputElement} */ (form.form.querySelector("input[name=a]")).value = "typed";
    /** @type {HTMLInputElement} */ (form.form.querySelector("input[name=b]")).checked = true;
    const again = build(schema).form;
    again.setRawValues(form.getRawValues());
    expect(/** @type {HTMLInputElement} */ (again.form.querySelector("input[name=a]")).value).toBe("typed");
    expect(/** @type {HTMLInputElement} */ (again.form.querySelector("input[name=b]")).checked).toBe(true);
    /** @type {HTMLButtonElement} */ (form.form.querySelector(".jw-form-close")).click();
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it("removes its listeners on destroy", () => {
    const { form, onClose } = build({ properties: { a: { type: "string" } } });
    form.destroy();
    /** @type {HTMLButtonElement} */ (form.form.querySelector(".jw-form-close")).click();
    expect(onClose).not.toHaveBeenCalled();
  });
});
