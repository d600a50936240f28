import { describe, expect, it } from "vitest";
import { FakeModel, T0, finishedRun, makeRun, makeTask, viewsUnmountedAfterEachTest } from "./helpers.js";
import { h } from "../src/dom.js";

const SCRIPT = "<script>alert(1)</script>";
const IMG = "<img src=x onerror=alert(1)>";
const JS_URL = "javascript:alert(1)";

const view = viewsUnmountedAfterEachTest();

/** @param {HTMLElement} root */
function assertInert(root) {
  expect(root.querySelectorAll("script, img, iframe, object, embed, svg")).toHaveLength(0);
  for (const el of Array.from(root.querySelectorAll("*"))) {
    for (const attr of Array.from(el.attributes)) {
      expect(attr.name.startsWith("on"), `${el.tagName} has ${attr.name}`).toBe(false);
    }
  }
  for (const a of Array.from(root.querySelectorAll("a"))) {
    expect(new URL(a.href).protocol).toMatch(/^https?:$/);
    expect(a.rel).toBe("noopener noreferrer");
    expect(a.target).toBe("_blank");
  }
}

describe("hostile data", () => {
  it("renders markup and javascript: URLs as literal text", () => {
    const failure = { task_key: SCRIPT, state_message: IMG, error: SCRIPT, error_trace: `${IMG}\n${SCRIPT}`, error_trace_title: SCRIPT };
    const model = new FakeModel({
      job: { key: IMG, job_id: 1, name: SCRIPT, url: JS_URL, tasks: [] },
      run: finishedRun("FAILED", {
        run_name: IMG,
        state_message: SCRIPT,
        run_page_url: JS_URL,
        params: { [SCRIPT]: IMG },
        tasks: [makeTask({ task_key: SCRIPT, state: "FAILED", state_message: IMG, run_page_url: JS_URL })],
        failure,
      }),
      history: [{ run_id: 9, state: IMG, label: SCRIPT, tone: "x", start_time: T0, start_text: IMG, duration_ms: 1000, duration_text: IMG, run_page_url: JS_URL }],
      error: IMG,
      health: { status: "degraded", message: SCRIPT, next_retry_at: T0 + 3000 },
      params_schema: {
        title: SCRIPT,
        description: IMG,
        properties: {
          [IMG]: { type: "string", title: SCRIPT, description: IMG, default: SCRIPT },
          choice: { enum: [SCRIPT, IMG], title: IMG },
        },
        required: [],
      },
    });
    const { el, $, $$ } = view(model);
    /** @type {HTMLButtonElement} */ ($(".jw-run")).click(); // render the form too

    assertInert(el);
    expect($$("a")).toHaveLength(0);
    const text = el.textContent ?? "";
    expect($(".jw-job-name").textContent).toBe(SCRIPT);
    expect($(".jw-job-key").textContent).toBe(IMG);
    expect(text).toContain(JS_URL);
    expect($(".jw-run-link").textContent).toContain("Run 123");
    expect($(".jw-run-link").textContent).toContain(JS_URL);
    expect($(".jw-failure-error").textContent).toBe(SCRIPT);
    expect($(".jw-failure-message").textContent).toBe(IMG);
    expect($(".jw-trace pre").textContent).toBe(`${IMG}\n${SCRIPT}`);
    expect($(".jw-error-text").textContent).toBe(IMG);
    expect($(".jw-health").textContent).toContain(SCRIPT);
    expect($(".jw-task .jw-task-key").textContent).toContain(SCRIPT);
    expect($(".jw-params").textContent).toContain(`${SCRIPT} = ${IMG}`);
    expect($(".jw-history-item").classList.contains("jw-history-item--unknown")).toBe(true);
    expect($(".jw-history-item").dataset.tone).toBe("neutral");
    expect($(".jw-trace summary").textContent).toBe(SCRIPT);
    expect($(".jw-form").textContent).toContain(SCRIPT);
    const field = /** @type {HTMLInputElement} */ ($(".jw-form input.jw-input"));
    expect(field.name).toBe(IMG);
    expect(field.value).toBe(SCRIPT);
    expect(Array.from(/** @type {HTMLSelectElement} */ ($(".jw-form select")).options).map((o) => o.textContent)).toContain(IMG);
  });

  it("sends hostile parameter names back as plain keys", () => {
    // JSON.parse makes "__proto__" a real own key, as it would arrive from Python.
    const params_schema = JSON.parse('{"properties": {"__proto__": {"type": "string", "default": "x"}, "constructor": {"type": "string", "default": "y"}}}');
    const model = new FakeModel({ params_schema });
    const { $, $$ } = view(model);
    /** @type {HTMLButtonElement} */ ($(".jw-run")).click();
    expect($$(".jw-form .jw-input").map((i) => /** @type {HTMLInputElement} */ (i).name)).toEqual(["__proto__", "constructor"]);
    /** @type {HTMLButtonElement} */ ($(".jw-run-submit")).click();
    const [message] = model.messages("run");
    expect(Object.getPrototypeOf(message.params)).toBe(Object.prototype);
    expect(Object.keys(message.params)).toEqual(["__proto__", "constructor"]);
    expect(message.params.constructor).toBe("y");
    expect(Object.getOwnPropertyDescriptor(message.params, "__proto__")?.value).toBe("x");
    expect(/** @type {any} */ ({}).x).toBeUndefined(); // nothing was polluted
  });

  it.each([
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    " javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "/jobs/42/runs/1",
    "not a url",
  ])("does not make %j clickable", (url) => {
    const model = new FakeModel({
      job: { key: "k", job_id: 1, name: "n", url, tasks: [] },
      run: makeRun({ run_page_url: url, tasks: [makeTask({ run_page_url: url })] }),
    });
    const { el, $ } = view(model);
    expect(el.querySelectorAll("a")).toHaveLength(0);
    expect($(".jw-run-link").tagName).toBe("SPAN");
    expect($(".jw-run-link").textContent).toContain(url.trim() === url ? url : url.trim());
  });

  it("the element builder refuses event handlers and non-http URLs", () => {
    expect(() => h("div", { onclick: "alert(1)" })).toThrow();
    expect(() => h("div", { ONMOUSEOVER: "alert(1)" })).toThrow();
    expect(() => h("a", { href: "javascript:alert(1)" })).toThrow();
    expect(() => h("div", { "x y": "1" })).toThrow();
    expect(h("a", { href: "https://example.com/" }).getAttribute("href")).toBe("https://example.com/");
  });
});

describe("huge data", () => {
  it("truncates megabyte messages and traces", () => {
    const mb = "A".repeat(1_000_000);
    const trace = Array.from({ length: 50_000 }, (_, i) => `  at frame ${i} ${"x".repeat(20)}`).join("\n");
    const started = performance.now();
    const { $, $$ } = view(
      new FakeModel({
        run: finishedRun("FAILED", {
          state_message: mb,
          tasks: [makeTask({ state: "FAILED", state_message: `task: ${mb}` })],
          failure: { task_key: "t", state_message: mb, error: mb, error_trace: trace, error_trace_title: mb },
        }),
        error: mb,
        health: { status: "degraded", message: mb, next_retry_at: null },
      }),
    );
    expect(performance.now() - started).toBeLessThan(2000);
    expect(/** @type {string} */ ($(".jw-state-message").textContent).length).toBeLessThanOrEqual(2000);
    expect(/** @type {string} */ ($(".jw-failure-message").textContent).length).toBeLessThanOrEqual(2000);
    expect(/** @type {string} */ ($(".jw-failure-error").textContent).length).toBeLessThanOrEqual(2000);
    expect(/** @type {string} */ ($(".jw-error-text").textContent).length).toBeLessThanOrEqual(1000);
    expect(/** @type {string} */ ($(".jw-health").textContent).length).toBeLessThanOrEqual(600);
    expect(/** @type {string} */ ($$(".jw-task-message")[0].textContent).length).toBeLessThanOrEqual(2000);
    expect(/** @type {string} */ ($(".jw-trace summary").textContent).length).toBeLessThanOrEqual(200);
    const shownTrace = /** @type {string} */ ($(".jw-trace pre").textContent);
    expect(shownTrace.split("\n").length).toBeLessThanOrEqual(60);
    expect(shownTrace.length).toBeLessThanOrEqual(20_000);
    expect(shownTrace.endsWith("at frame 49999 " + "x".repeat(20))).toBe(true);
    expect($(".jw-failure-message").textContent?.endsWith("\u2026")).toBe(true);
  });
});

describe("source hygiene", () => {
  // @ts-expect-error -- Vite's import.meta.glob is not part of the ES/DOM lib types
  const sources = /** @type {Record<string, string>} */ (import.meta.glob("../src/*.js", { query: "?raw", import: "default", eager: true }));

  it("never uses HTML-parsing or code-evaluating DOM APIs", () => {
    expect(Object.keys(sources).length).toBe(17);
    for (const [file, text] of Object.entries(sources)) {
      for (const banned of [/\.innerHTML\b/, /\.outerHTML\b/, /insertAdjacentHTML/, /document\.write/, /\beval\(/, /new Function\(/, /createContextualFragment/, /window\.confirm|\bconfirm\(/]) {
        expect(banned.test(text), `${file} matches ${banned}`).toBe(false);
      }
    }
  });

  it("imports nothing from outside src/ (no CDN or network imports)", () => {
    for (const [file, text] of Object.entries(sources)) {
      for (const match of text.matchAll(/^\s*import\s[^"']*["']([^"']+)["']/gm)) {
        expect(match[1].startsWith("./"), `${file} imports ${match[1]}`).toBe(true);
      }
      expect(/\bfetch\(|XMLHttpRequest|WebSocket\(/.test(text), file).toBe(false);
    }
  });
});
