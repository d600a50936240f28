import { describe, expect, it, vi } from "vitest";
import { ETA, FakeModel, HISTORY, T0, finishedRun, makeRun, makeTask, viewsUnmountedAfterEachTest } from "./helpers.js";

const view = viewsUnmountedAfterEachTest();

describe("initial render", () => {
  it("builds header, badge, tasks, history, links and ETA from the traits", () => {
    const { $, $$ } = view(new FakeModel({ run: makeRun(), history: HISTORY, eta: ETA }));

    const panel = $(".jw-panel");
    expect(panel.dataset.state).toBe("RUNNING");
    expect(panel.classList.contains("mathjax_ignore")).toBe(true); // remote "$...$" is not typeset
    expect($(".jw-header .jw-job-name").textContent).toBe("Nightly ETL");
    expect($(".jw-header .jw-job-key").textContent).toBe("nightly_etl");

    const badge = $(".jw-state");
    expect(badge.textContent).toBe("Running");
    expect(badge.classList.contains("jw-state--running")).toBe(true);

    const runLink = /** @type {HTMLAnchorElement} */ ($("a.jw-run-link"));
    expect(runLink.href).toBe("https://example.cloud.databricks.com/jobs/42/runs/123");
    expect(runLink.target).toBe("_blank");
    expect(runLink.rel).toBe("noopener noreferrer");
    expect(runLink.textContent).toContain("Run 123");
    expect(/** @type {HTMLAnchorElement} */ ($("a.jw-job-link")).href).toBe("https://example.cloud.databricks.com/jobs/42");

    expect($(".jw-elapsed").textContent).toBe("2m 00s");
    const progress = $(".jw-progress");
    expect(progress.getAttribute("role")).toBe("progressbar");
    expect(progress.getAttribute("aria-valuenow")).toBe("40");
    expect($(".jw-eta").textContent).toBe("usually takes 4\u20136 min");

    const tasks = $$(".jw-tasks .jw-task");
    expect(tasks.map((t) => t.querySelector(".jw-task-key")?.textContent)).toEqual(["extract", "transform", "load"]);
    expect(tasks.map((t) => t.querySelector(".jw-state")?.textContent)).toEqual(["Succeeded", "Running", "Pending"]);
    expect(tasks[0].querySelector(".jw-task-duration")?.textContent).toBe("1m 40s");
    expect(tasks[1].querySelector("a.jw-task-key")?.getAttribute("href")).toBe("https://example.cloud.databricks.com/jobs/42/runs/1002");
    expect(tasks[2].querySelector("a")).toBeNull();
    expect(tasks[1].querySelector(".jw-state")?.classList.contains("jw-state--running")).toBe(true);

    const items = $$(".jw-history .jw-history-item");
    expect(items).toHaveLength(3);
    expect(items.every((b) => b.tagName === "BUTTON")).toBe(true);
    expect(items.map((b) => b.getAttribute("aria-label"))).toEqual([
      "Run 123: Running",
      "Run 122: Failed, 4m 02s",
      "Run 121: Succeeded, 5m 01s",
    ]);
    expect(items[1].classList.contains("jw-history-item--failed")).toBe(true);
    expect(items[0].getAttribute("aria-current")).toBe("true");
    expect(items[1].hasAttribute("aria-current")).toBe(false);

    expect($(".jw-live").getAttribute("aria-live")).toBe("polite");
    expect($(".jw-live").textContent).toBe("");
  });

  it("shows 'No runs yet' and the job's tasks when there is no run", () => {
    const model = new FakeModel({
      job: { key: "k", job_id: 1, name: null, url: null, tasks: [{ task_key: "a", type: "notebook", depends_on: [] }, { task_key: "b", type: null, depends_on: ["a"] }] },
    });
    const { $, $$, visible } = view(model);
    expect($(".jw-panel").dataset.state).toBe("IDLE");
    expect($(".jw-state").textContent).toBe("No runs yet");
    expect($(".jw-state").classList.contains("jw-state--idle")).toBe(true);
    expect($(".jw-job-name").textContent).toBe("k");
    expect($$(".jw-task").map((t) => t.dataset.taskKey)).toEqual(["a", "b"]);
    expect(visible(".jw-cancel")).toBe(false);
    expect(visible(".jw-repair")).toBe(false);
    expect(visible(".jw-progress")).toBe(false);
    expect(visible(".jw-history-section")).toBe(false);
    expect(visible(".jw-failure")).toBe(false);
    expect(visible(".jw-health")).toBe(false);
    expect(visible(".jw-error")).toBe(false);
  });

  it.each([
    ["SUCCEEDED", "Succeeded"],
    ["FAILED", "Failed"],
    ["CANCELED", "Canceled"],
    ["TIMED_OUT", "Timed out"],
    ["INTERNAL_ERROR", "Internal error"],
    ["SKIPPED", "Skipped"],
  ])("renders a terminal %s run with its final duration", (state, label) => {
    const { $, visible } = view(new FakeModel({ run: finishedRun(state), eta: ETA }));
    expect($(".jw-state").textContent).toBe(label);
    expect($(".jw-state").classList.contains(`jw-state--${state.toLowerCase()}`)).toBe(true);
    expect($(".jw-panel").dataset.state).toBe(state);
    expect($(".jw-elapsed").textContent).toBe("4m 02s");
    expect(visible(".jw-cancel")).toBe(false);
    expect(visible(".jw-progress")).toBe(false);
  });

  it.each([
    ["QUEUED", "Queued"],
    ["PENDING", "Pending"],
    ["TERMINATING", "Terminating"],
    ["BLOCKED", "Blocked"],
    ["WAITING_FOR_RETRY", "Waiting for retry"],
    ["UNKNOWN", "Unknown"],
  ])("renders a non-terminal %s run as cancelable", (state, label) => {
    const { $, visible } = view(new FakeModel({ run: makeRun({ state }) }));
    expect($(".jw-state").textContent).toBe(label);
    expect(visible(".jw-cancel")).toBe(true);
  });

  it("uses an indeterminate progress bar without an ETA", () => {
    const { $ } = view(new FakeModel({ run: makeRun() }));
    expect($(".jw-progress").classList.contains("jw-progress--indeterminate")).toBe(true);
    expect($(".jw-progress").hasAttribute("aria-valuenow")).toBe(false);
  });

  it("shows failure details with a collapsible trace", () => {
    const failure = {
      task_key: "transform",
      state_message: "Task transform failed",
      error: "ValueError: bad row",
      error_trace: "Traceback:\n  File x\nValueError: bad row",
      error_trace_title: "Stack trace (3 lines)",
    };
    const { $ } = view(new FakeModel({ run: finishedRun("FAILED", { failure }) }));
    const box = $(".jw-failure");
    expect(box.hidden).toBe(false);
    expect(box.textContent).toContain("transform");
    expect(box.textContent).toContain("Task transform failed");
    expect(box.textContent).toContain("ValueError: bad row");
    const details = /** @type {HTMLDetailsElement} */ ($("details.jw-trace"));
    expect(details.open).toBe(false);
    expect(details.querySelector("summary")?.textContent).toBe("Stack trace (3 lines)");
    expect(details.querySelector("pre")?.textContent).toBe("Traceback:\n  File x\nValueError: bad row");
  });

  it("does not repeat the failure box's message in the failed task's row", () => {
    const failure = { task_key: "transform", state_message: "Task transform failed", error: null, error_trace: null, error_trace_title: null };
    const tasks = [
      makeTask({ task_key: "transform", state: "FAILED", state_message: "Task transform failed" }),
      makeTask({ task_key: "load", state: "SKIPPED", state_message: "Upstream task(s) transform failed" }),
    ];
    const { $$ } = view(new FakeModel({ run: finishedRun("FAILED", { failure, tasks }) }));
    expect($$(".jw-task-message").map((el) => el.textContent)).toEqual(["Upstream task(s) transform failed"]);
    expect($$(".jw-failure-message").map((el) => el.textContent)).toEqual(["Task transform failed"]);
  });

  it("shows what a task's state does not say (for-each progress, a condition's outcome) as text", () => {
    const tasks = [
      makeTask({ task_key: "per_region", state: "RUNNING", detail: "2 of 150 iterations done, 1 failed" }),
      makeTask({ task_key: "is_weekend", detail: "condition was <b>false</b>" }),
      makeTask({ task_key: "plain" }),
    ];
    const { $$ } = view(new FakeModel({ run: makeRun({ tasks }) }));
    expect($$(".jw-task-detail").map((el) => el.textContent)).toEqual([
      "2 of 150 iterations done, 1 failed",
      "condition was <b>false</b>",
    ]);
    expect($$(".jw-task-detail b")).toEqual([]); // text, never HTML
  });

  it("shows who started the run in the header and how it ended on the card, each once, as text", () => {
    /** @type {Array<[string, string]>} */
    const facts = [
      ["Started", "One time, by ana@example.com"],
      ["Parameters", "env=staging"],
      ["Ended", "by the job's code or settings (client error)"],
      ["Repaired", "once, last at <b>now</b>"],
    ];
    const { $, $$ } = view(new FakeModel({ run: makeRun({ facts }) }));
    expect($(".jw-run-meta")?.textContent).toContain("started: One time, by ana@example.com");
    expect($(".jw-facts")?.textContent).toBe(
      "Ended: by the job's code or settings (client error) \u00b7 Repaired: once, last at <b>now</b>",
    );
    expect($$(".jw-facts b")).toEqual([]); // text, never HTML
    expect($(".jw-facts")?.textContent).not.toContain("env=staging"); // the chips show parameters
  });

  it("hides the fact line when there is nothing beyond the state", () => {
    const { $ } = view(new FakeModel({ run: makeRun({ facts: [] }) }));
    expect($(".jw-facts")?.hidden).toBe(true);
    expect($(".jw-run-meta")?.textContent).toContain("trigger: One time");
  });
});

describe("updates from the model", () => {
  it("follows change:run, announcing the new state", () => {
    const model = new FakeModel({ run: makeRun({ state: "QUEUED" }) });
    const { $, visible } = view(model);
    expect($(".jw-state").textContent).toBe("Queued");
    model.set("run", makeRun({ state: "RUNNING" }));
    expect($(".jw-state").textContent).toBe("Running");
    expect($(".jw-panel").dataset.state).toBe("RUNNING");
    expect($(".jw-live").textContent).toBe("Run 123 is now Running");
    model.set("run", finishedRun("FAILED"));
    expect($(".jw-live").textContent).toBe("Run 123 is now Failed");
    expect(visible(".jw-cancel")).toBe(false);
    expect(visible(".jw-repair")).toBe(true);
  });

  it("ticks the elapsed time, progress and running task durations every second", () => {
    const model = new FakeModel({ run: makeRun(), eta: ETA });
    const { $, $$ } = view(model);
    expect($(".jw-elapsed").textContent).toBe("2m 00s");
    vi.advanceTimersByTime(5000);
    expect($(".jw-elapsed").textContent).toBe("2m 05s");
    expect($$(".jw-task")[1].querySelector(".jw-task-duration")?.textContent).toBe("1m 05s");
    expect($$(".jw-task")[0].querySelector(".jw-task-duration")?.textContent).toBe("1m 40s");
    vi.advanceTimersByTime(240_000); // elapsed 365 s > p90
    expect($(".jw-eta").textContent).toContain("taking longer than usual");
    expect($(".jw-progress").getAttribute("aria-valuenow")).toBe("99");
    model.set("run", finishedRun("SUCCEEDED"));
    expect(vi.getTimerCount()).toBe(0);
    expect($(".jw-elapsed").textContent).toBe("4m 02s");
  });

  it("measures elapsed time on the jobs' clock (a sped-up sandbox runs ahead of the browser)", () => {
    // The run started 2 minutes before the *jobs'* now, which is an hour ahead of the browser.
    const ahead = T0 + 3_600_000;
    const model = new FakeModel({
      run: makeRun({ start_time: ahead - 120_000 }),
      clock: { now_ms: ahead, rate: 10 },
    });
    const { $ } = view(model);
    expect($(".jw-elapsed").textContent).toBe("2m 00s");
    vi.advanceTimersByTime(3000); // 3 real seconds are 30 simulated ones at rate 10
    expect($(".jw-elapsed").textContent).toBe("2m 30s");
    model.set("clock", { now_ms: ahead + 60_000, rate: 10 });
    expect($(".jw-elapsed").textContent).toBe("3m 00s");
  });

  it("says a failure's error once when its message quotes it", () => {
    const failure = {
      task_key: "transform",
      state_message: "Task transform failed with message: Py4JJavaError: boom",
      message_repeats_error: true,
      error: "Py4JJavaError: boom",
      error_trace: null,
      error_trace_title: null,
    };
    const { el } = view(new FakeModel({ run: finishedRun("FAILED", { failure }) }));
    expect((el.textContent ?? "").split("Py4JJavaError: boom").length - 1).toBe(1);
    expect(el.querySelector(".jw-failure-error")?.textContent).toBe("Py4JJavaError: boom");
  });

  it("lists a task's child run (with the magic of a configured job) and its failed iterations as links", () => {
    const run = finishedRun("FAILED", {
      nested: {
        extract: [
          { text: "extract started report run 5301", url: "https://example.cloud.databricks.com/jobs/3/runs/5301", magic: "%jobs panel report 5301" },
        ],
        transform: [
          {
            text: "2 of 150 iterations failed",
            url: null,
            magic: null,
            items: [
              { text: "iteration 3 (run 77)", url: "https://example.cloud.databricks.com/jobs/1/runs/77", magic: null },
              { text: "iteration 9 (run 83)", url: "javascript:alert(1)", magic: null },
            ],
          },
        ],
      },
    });
    const { $$ } = view(new FakeModel({ run }));
    const rows = $$(".jw-task");
    expect(rows[0].querySelector(".jw-task-nested")?.textContent).toBe("extract started report run 5301: %jobs panel report 5301");
    expect(rows[0].querySelector("a.jw-nested-link")?.getAttribute("href")).toBe("https://example.cloud.databricks.com/jobs/3/runs/5301");
    const iterations = rows[1].querySelector(".jw-task-nested");
    expect(iterations?.textContent).toContain("2 of 150 iterations failed: iteration 3 (run 77), iteration 9 (run 83)");
    expect(Array.from(iterations?.querySelectorAll("a") ?? []).map((a) => a.getAttribute("href"))).toEqual([
      "https://example.cloud.databricks.com/jobs/1/runs/77",
    ]); // a non-http(s) page is text, never a link
  });

  it("says a cancelled run's message once, not again on every task", () => {
    const run = finishedRun("CANCELED", { state_message: "Run cancelled." });
    const model = new FakeModel({
      run: { ...run, tasks: run.tasks.map((t) => ({ ...t, state: "CANCELED", state_message: "Run cancelled." })) },
    });
    const { el } = view(model);
    expect((el.textContent ?? "").split("Run cancelled.").length - 1).toBe(1);
  });

  it("keeps unchanged task rows (and an open trace) across polls", () => {
    const failure = { task_key: "t", state_message: "boom", error: null, error_trace: "trace", error_trace_title: "Stack trace (1 line)" };
    const model = new FakeModel({ run: finishedRun("FAILED", { failure }) });
    const { $, $$ } = view(model);
    const firstRow = $$(".jw-task")[0];
    /** @type {HTMLDetailsElement} */ ($("details.jw-trace")).open = true;
    model.set("run", finishedRun("FAILED", { failure, state_message: "polled again" }));
    expect($$(".jw-task")[0]).toBe(firstRow);
    expect(/** @type {HTMLDetailsElement} */ ($("details.jw-trace")).open).toBe(true);
  });

  it("shows the degraded notice with a live countdown", () => {
    const model = new FakeModel();
    const { $, visible } = view(model);
    model.set("health", { status: "degraded", message: "HTTP 503 from workspace", next_retry_at: T0 + 7000 });
    const notice = $(".jw-health");
    expect(visible(".jw-health")).toBe(true);
    expect(notice.getAttribute("role")).toBe("status");
    expect(notice.textContent).toBe("Connection problem: HTTP 503 from workspace \u2014 retrying in 7 s");
    vi.advanceTimersByTime(2000);
    expect(notice.textContent).toContain("retrying in 5 s");
    vi.advanceTimersByTime(6000);
    expect(notice.textContent).toContain("retrying now");
    model.set("health", { status: "ok", message: "", next_retry_at: null });
    expect(visible(".jw-health")).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("shows a stopped notice (no countdown) and keeps every command usable", () => {
    const model = new FakeModel({ run: makeRun({ state: "QUEUED", start_time: null }), history: HISTORY });
    const { $, visible } = view(model);
    const message = "Stopped following: the jobs_widgets runtime was closed";
    model.set("health", { status: "stopped", message, next_retry_at: null });
    const notice = $(".jw-health");
    expect(visible(".jw-health")).toBe(true);
    expect(notice.classList.contains("jw-health--stopped")).toBe(true);
    expect(notice.getAttribute("role")).toBe("status");
    vi.advanceTimersByTime(3000);
    expect(notice.textContent).toBe(message); // no countdown
    for (const selector of [".jw-run", ".jw-cancel", ".jw-refresh"]) {
      expect(/** @type {HTMLButtonElement} */ ($(selector)).disabled, selector).toBe(false);
    }
    $(".jw-cancel").click();
    $(".jw-cancel-confirm").click();
    expect(model.messages("cancel")).toEqual([{ kind: "cancel", run_id: 123 }]);
    model.update({ run: finishedRun("FAILED"), pending: "repair" });
    expect(/** @type {HTMLButtonElement} */ ($(".jw-repair")).disabled).toBe(true); // only pending disables
    model.set("pending", "");
    expect(/** @type {HTMLButtonElement} */ ($(".jw-repair")).disabled).toBe(false);
    expect(visible(".jw-health")).toBe(true);
    model.set("health", { status: "ok", message: "", next_retry_at: null });
    expect(visible(".jw-health")).toBe(false);
    expect(notice.classList.contains("jw-health--stopped")).toBe(false);
  });

  it("shows pending_detail as the busy text while a command is pending", () => {
    const model = new FakeModel({ run: makeRun() });
    const { $, visible } = view(model);
    expect(visible(".jw-busy")).toBe(false);
    model.update({ pending: "cancel", pending_detail: "cancel of run 5225 \u2014 waiting for the workspace" });
    expect(visible(".jw-busy")).toBe(true);
    expect($(".jw-busy").getAttribute("role")).toBe("status");
    expect($(".jw-busy").textContent).toBe("cancel of run 5225 \u2014 waiting for the workspace");
    model.update({ pending: "", pending_detail: "" });
    expect(visible(".jw-busy")).toBe(false);
    model.set("pending", "refresh"); // a Python without the trait: no busy text, the button says it
    expect(visible(".jw-busy")).toBe(false);
    expect(/** @type {HTMLButtonElement} */ ($(".jw-refresh")).disabled).toBe(true);
    model.set("pending_detail", "stale detail"); // shown only while something is pending
    model.set("pending", "");
    expect(visible(".jw-busy")).toBe(false);
  });

  it("shows the labels, tones and durations Python sent", () => {
    const run = finishedRun("CANCELED", { label: "Canceled (by you)", tone: "neutral", duration_text: "about 4 min" });
    const { $ } = view(new FakeModel({ run }));
    expect($(".jw-status .jw-state").textContent).toBe("Canceled (by you)");
    expect($(".jw-status .jw-state").dataset.tone).toBe("neutral");
    expect($(".jw-status .jw-state").classList.contains("jw-state--canceled")).toBe(true);
    expect($(".jw-elapsed").textContent).toBe("about 4 min");
  });

  it("shows the error trait in an alert that can be dismissed locally", () => {
    const model = new FakeModel();
    const { $, visible } = view(model);
    model.set("error", "params: 'date' is not a valid date");
    const alert = $(".jw-error");
    expect(alert.getAttribute("role")).toBe("alert");
    expect(visible(".jw-error")).toBe(true);
    expect(alert.textContent).toContain("params: 'date' is not a valid date");
    $(".jw-error-dismiss").click();
    expect(visible(".jw-error")).toBe(false);
    expect(model.state.error).toBe("params: 'date' is not a valid date"); // never writes traits
    model.set("error", "another problem");
    expect(visible(".jw-error")).toBe(true);
    expect(alert.textContent).toContain("another problem");
    model.set("error", "");
    expect(visible(".jw-error")).toBe(false);
  });

  it("disables the button of the pending command", () => {
    const model = new FakeModel({ run: makeRun(), history: HISTORY });
    const { $ } = view(model);
    const button = (/** @type {string} */ s) => /** @type {HTMLButtonElement} */ ($(s));
    for (const [pending, selector] of [["run", ".jw-run"], ["cancel", ".jw-cancel"], ["refresh", ".jw-refresh"]]) {
      model.set("pending", /** @type {any} */ (pending));
      expect(button(selector).disabled, pending).toBe(true);
      expect(button(".jw-run").disabled).toBe(pending === "run");
      expect(button(".jw-cancel").disabled).toBe(pending === "cancel");
      expect(button(".jw-refresh").disabled).toBe(pending === "refresh");
      expect($(".jw-panel").dataset.pending).toBe(pending);
    }
    model.set("run", finishedRun("FAILED"));
    model.set("pending", "repair");
    expect(button(".jw-repair").disabled).toBe(true);
    model.set("pending", "");
    expect(button(".jw-repair").disabled).toBe(false);
    expect($(".jw-panel").hasAttribute("data-pending")).toBe(false);
  });

  it("updates header and history on change:job / change:history", () => {
    const model = new FakeModel();
    const { $, $$ } = view(model);
    model.set("job", { key: "other", job_id: 7, name: "Other job", tasks: [], url: null });
    expect($(".jw-job-name").textContent).toBe("Other job");
    expect($(".jw-job-key").textContent).toBe("other");
    expect($$(".jw-job-link")).toHaveLength(0);
    model.set("history", HISTORY.slice(1));
    expect($$(".jw-history-item").map((b) => b.dataset.runId)).toEqual(["122", "121"]);
  });

  it("renders correctly again from the current traits (multiple views)", () => {
    const model = new FakeModel({ run: makeRun(), history: HISTORY, eta: ETA });
    const a = view(model);
    const b = view(model);
    expect(a.el.querySelectorAll(".jw-panel")).toHaveLength(1);
    expect(b.$(".jw-state").textContent).toBe("Running");
    model.set("run", finishedRun("SUCCEEDED"));
    expect(a.$(".jw-state").textContent).toBe("Succeeded");
    expect(b.$(".jw-state").textContent).toBe("Succeeded");
    a.unmount();
    model.set("run", finishedRun("FAILED"));
    expect(b.$(".jw-state").textContent).toBe("Failed");
  });

  it("tolerates malformed trait values", () => {
    const model = new FakeModel(/** @type {any} */ ({ job: null, run: { state: 5 }, history: "x", eta: [], health: null, error: 3, params_schema: "no", pending: "bogus" }));
    const { $ } = view(model);
    expect($(".jw-state").textContent).toBe("Unknown");
    expect($(".jw-job-name").textContent).toBe("Job");
  });
});
