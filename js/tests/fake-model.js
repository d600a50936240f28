// A stand-in for the anywidget model (Backbone-like), for tests.
//
// - `get/set/on/off/send/save_changes` like the real model;
// - `sent` records every message the view sent (`messages(kind)` filters);
// - `update({...})` plays the Python side: sets several traits, then emits
//   one `change:<trait>` per changed trait (like a `hold_sync` update);
// - `listenerCount()` counts live listeners, so a test can assert that a
//   view's cleanup left none behind.

/** @typedef {import("../src/protocol.js").Traits} Traits */
/** @typedef {(...args: any[]) => void} Handler */

/** @returns {Traits} */
export function defaultTraits() {
  return {
    job: { key: "nightly_etl", job_id: 42, name: "Nightly ETL", tasks: [], url: "https://example.cloud.databricks.com/jobs/42" },
    run: null,
    history: [],
    eta: null,
    health: { status: "ok", message: "", next_retry_at: null },
    error: "",
    params_schema: null,
    pending: "",
    pending_detail: "",
    clock: null,
  };
}

export class FakeModel {
  /** @param {Partial<Traits> | Record<string, unknown>} [traits] */
  constructor(traits = {}) {
    /** @type {Traits} */
    this.state = /** @type {Traits} */ ({ ...defaultTraits(), ...traits });
    /** @type {Map<string, Set<Handler>>} */
    this.listeners = new Map();
    /** @type {any[]} */
    this.sent = [];
    this.saveCount = 0;
    this.widget_manager = {
      /** @returns {Promise<never>} */
      get_model: () => Promise.reject(new Error("no widget manager in tests")),
    };
  }

  /**
   * @template {keyof Traits} K
   * @param {K} key
   * @returns {Traits[K]}
   */
  get(key) {
    return this.state[key];
  }

  /**
   * Set one trait and emit its change event (Backbone semantics).
   * @template {keyof Traits} K
   * @param {K} key
   * @param {Traits[K]} value
   */
  set(key, value) {
    this.update({ [key]: value });
  }

  /**
   * Python-side update of several traits; change events fire after all
   * values are set, one per trait whose value changed.
   * @param {Partial<Traits> | Record<string, unknown>} changes
   */
  update(changes) {
    const changed = [];
    const state = /** @type {Record<string, unknown>} */ (this.state);
    for (const [key, value] of Object.entries(changes)) {
      if (JSON.stringify(state[key]) === JSON.stringify(value)) continue;
      state[key] = value;
      changed.push(key);
    }
    for (const key of changed) this.emit(`change:${key}`, this, state[key]);
    if (changed.length > 0) this.emit("change", this);
  }

  /**
   * @param {string} event
   * @param {Handler} callback
   */
  on(event, callback) {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(callback);
  }

  /**
   * Backbone `off`: no callback removes all of an event; no event removes all.
   * @param {string | null} [event]
   * @param {Handler | null} [callback]
   */
  off(event, callback) {
    if (!event) {
      if (!callback) this.listeners.clear();
      else for (const set of this.listeners.values()) set.delete(callback);
      return;
    }
    const set = this.listeners.get(event);
    if (!set) return;
    if (callback) set.delete(callback);
    else set.clear();
  }

  /**
   * @param {string} event
   * @param {...unknown} args
   */
  emit(event, ...args) {
    for (const callback of Array.from(this.listeners.get(event) ?? [])) callback(...args);
  }

  /** @param {unknown} content */
  send(content) {
    this.sent.push(JSON.parse(JSON.stringify(content)));
  }

  save_changes() {
    this.saveCount += 1;
  }

  /**
   * Live listeners, for one event or in total.
   * @param {string} [event]
   * @returns {number}
   */
  listenerCount(event) {
    if (event !== undefined) return this.listeners.get(event)?.size ?? 0;
    let total = 0;
    for (const set of this.listeners.values()) total += set.size;
    return total;
  }

  /**
   * Sent messages of one kind.
   * @param {string} kind
   * @returns {any[]}
   */
  messages(kind) {
    return this.sent.filter((m) => m && m.kind === kind);
  }
}
