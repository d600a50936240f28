import { beforeEach, describe, expect, it, vi } from "vitest";
import widget from "../src/widget.js";
import { ETA, FakeModel, HISTORY, T0, finishedRun, makeRun, mount, viewsUnmountedAfterEachTest } from "./helpers.js";

const view = viewsUnmountedAfterEachTest();

/**
 * Counts listeners added/removed on a target through spies.
 * @param {EventTarget} target
 */
function trackListeners(target) {
  /** @type {Map<string, number>} */
  const live = new Map();
  const add = target.addEventListener.bind(target);
  const remove = target.removeEventListener.bind(target);
  vi.spyOn(target, "addEventListener").mockImplementation((type, listener, options) => {
    live.set(type, (live.get(type) ?? 0) + 1);
    add(type, listener, options);
  });
  vi.spyOn(target, "removeEventListener").mockImplementation((type, listener, options) => {
    live.set(type, (live.get(type) ?? 0) - 1);
    remove(type, listener, options);
  });
  return {
    total: () => Array.from(live.values()).reduce((a, b) => a + b, 0),
    live,
  };
}

/** A stand-in for the browser's Notification API. */
function stubNotification(permission = "granted") {
  /** @type {{ title: string, options: NotificationOptions | undefined }[]} */
  const shown = [];
  const Stub = class {
    static permission = permission;
    static requestPermission = vi.fn(async () => {
      Stub.permission = "granted";
      return "granted";
    });
    /**
     * @param {string} title
     * @param {NotificationOptions} [options]
     */
    constructor(title, options) {
      shown.push({ title, options });
    }
  };
  vi.stubGlobal("Notification", Stub);
  return { Stub, shown };
}

beforeEach(() => {
  document.title = "Untitled.ipynb";
});

describe("cleanup", () => {
  it("removes every model, document and window listener, timers and the DOM", () => {
    const doc = trackListeners(document);
    const win = trackListeners(window);
    const model = new FakeModel({
      run: makeRun(),
      history: HISTORY,
      eta: ETA,
      health: { status: "degraded", message: "x", next_retry_at: T0 + 5000 },
    });
    const el = document.createElement("div");
    document.body.append(el);
    const cleanup = /** @type {() => void} */ (widget.render({ model, el }));
    expect(model.listenerCount()).toBeGreaterThan(0);
    expect(doc.total() + win.total()).toBeGreaterThan(0);
    expect(vi.getTimerCount()).toBe(1);

    cleanup();
    expect(model.listenerCount()).toBe(0);
    expect(doc.total()).toBe(0);
    expect(win.total()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(el.childElementCount).toBe(0);

    // Later model changes do nothing, and cleanup is idempotent.
    model.set("run", finishedRun("FAILED"));
    cleanup();
    expect(model.listenerCount()).toBe(0);
    el.remove();
  });

  it("can render again after cleanup", () => {
    const model = new FakeModel({ run: makeRun() });
    const first = mount(model);
    first.unmount();
    const second = view(model);
    expect(second.$(".jw-state").textContent).toBe("Running");
    expect(model.listenerCount()).toBeGreaterThan(0);
    second.unmount();
    expect(model.listenerCount()).toBe(0);
  });

  it("needs no timer for an idle or finished panel", () => {
    view(new FakeModel({ run: finishedRun("SUCCEEDED") }));
    view(new FakeModel());
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("finishing a run", () => {
  it("shows a notification when permission was granted", () => {
    const { shown } = stubNotification("granted");
    const model = new FakeModel({ run: makeRun() });
    const { $ } = view(model);
    model.set("run", finishedRun("SUCCEEDED"));
    expect(shown).toEqual([{ title: "Nightly ETL", options: { body: "Run 123 Succeeded in 4m 02s", tag: "jobs-widgets-run-123" } }]);
    expect($(".jw-live").textContent).toBe("Run 123 is now Succeeded");
    // polls of the same finished run do not notify again
    model.set("run", finishedRun("SUCCEEDED", { state_message: "again" }));
    expect(shown).toHaveLength(1);
  });

  it("notifies once even with several views of the same model", () => {
    const { shown } = stubNotification("granted");
    const model = new FakeModel({ run: makeRun() });
    view(model);
    view(model);
    model.set("run", finishedRun("FAILED"));
    expect(shown).toHaveLength(1);
    expect(shown[0].options?.body).toBe("Run 123 Failed in 4m 02s");
  });

  it("does not notify without permission, for runs already finished, or for another run", () => {
    const { shown } = stubNotification("denied");
    const model = new FakeModel({ run: makeRun() });
    view(model);
    model.set("run", finishedRun("SUCCEEDED"));
    expect(shown).toHaveLength(0);
    expect(document.title).toBe("\u2713 Untitled.ipynb"); // the title badge needs no permission
    window.dispatchEvent(new Event("focus"));

    const granted = stubNotification("granted");
    const other = new FakeModel({ run: finishedRun("FAILED") });
    view(other);
    other.set("run", finishedRun("SUCCEEDED", { run_id: 7 }));
    expect(granted.shown).toHaveLength(0);
    expect(document.title).toBe("Untitled.ipynb");
  });

  it("never asks for permission on its own; the Notify me button does", async () => {
    const { Stub } = stubNotification("default");
    const model = new FakeModel({ run: makeRun() });
    const { $, visible } = view(model);
    model.set("run", finishedRun("SUCCEEDED"));
    expect(Stub.requestPermission).not.toHaveBeenCalled();
    expect(visible(".jw-notify")).toBe(true);
    /** @type {HTMLButtonElement} */ ($(".jw-notify")).click();
    expect(Stub.requestPermission).toHaveBeenCalledTimes(1);
    await vi.waitFor(() => expect(visible(".jw-notify")).toBe(false));
  });

  it("hides Notify me when the API is missing or permission is decided", () => {
    vi.stubGlobal("Notification", undefined);
    expect(view(new FakeModel()).visible(".jw-notify")).toBe(false);
    stubNotification("denied");
    expect(view(new FakeModel()).visible(".jw-notify")).toBe(false);
    stubNotification("granted");
    expect(view(new FakeModel()).visible(".jw-notify")).toBe(false);
  });

  it("badges the title until the document is visible/focused again", () => {
    vi.stubGlobal("Notification", undefined);
    const model = new FakeModel({ run: makeRun() });
    view(model);
    model.set("run", finishedRun("SUCCEEDED"));
    expect(document.title).toBe("\u2713 Untitled.ipynb");
    window.dispatchEvent(new Event("focus"));
    expect(document.title).toBe("Untitled.ipynb");

    model.set("run", makeRun({ run_id: 124 }));
    model.set("run", finishedRun("FAILED", { run_id: 124 }));
    expect(document.title).toBe("\u2717 Untitled.ipynb");
    const state = vi.spyOn(document, "visibilityState", "get").mockReturnValue("visible");
    document.dispatchEvent(new Event("visibilitychange"));
    expect(document.title).toBe("Untitled.ipynb");
    state.mockRestore();
  });

  it("restores the title on cleanup", () => {
    vi.stubGlobal("Notification", undefined);
    const model = new FakeModel({ run: makeRun() });
    const { unmount } = mount(model);
    model.set("run", finishedRun("TIMED_OUT"));
    expect(document.title).toBe("\u2717 Untitled.ipynb");
    unmount();
    expect(document.title).toBe("Untitled.ipynb");
  });
});
