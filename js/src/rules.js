// The front end's half of the presentation rules. They are decided in Python
// (jobs_widgets/_present.py), which sends labels, tones and ready-made texts in the
// snapshot; the tables below come from Python too (presentation.json is written by
// tests/test_render_present.py). What the view must still compute itself is here:
// the elapsed time that ticks every second, and the clipping and link checks applied
// to whatever arrives in a trait. js/tests/rules.test.js replays Python's answers
// (tests/golden/presentation-cases.json) against these functions, so the two sides
// cannot drift apart.

import RULES from "./presentation.json";

/** @typedef {"success" | "error" | "warn" | "active" | "waiting" | "neutral"} Tone */

/**
 * Display limits (characters, lines), as Python applies them.
 * @type {Readonly<Record<keyof typeof RULES.limits, number>>}
 */
export const LIMITS = Object.freeze({ ...RULES.limits });

/** A running item that started more than this after "now" is on another clock. */
export const SKEW_MS = RULES.skew_ms;

export const ELLIPSIS = "\u2026";

/** @type {Readonly<Record<string, string>>} */
const LABELS = RULES.labels;
/** @type {Readonly<Record<string, string>>} */
const TONES = RULES.tones;
const TONE_NAMES = new Set(["success", "error", "warn", "active", "waiting", "neutral"]);

/**
 * @param {unknown} state
 * @returns {string}
 */
function stateKey(state) {
  const key = typeof state === "string" ? state.trim().toUpperCase() : "";
  return Object.prototype.hasOwnProperty.call(LABELS, key) ? key : "UNKNOWN";
}

/**
 * Label of a run/task state ("IDLE" = no run yet); anything unrecognised is "Unknown".
 * @param {unknown} state
 * @returns {string}
 */
export function stateLabel(state) {
  return LABELS[stateKey(state)];
}

/**
 * Lower-case state for CSS modifiers; never anything but a known state.
 * @param {unknown} state
 * @returns {string}
 */
export function stateSlug(state) {
  return stateKey(state).toLowerCase();
}

/**
 * Colour family of a state.
 * @param {unknown} state
 * @returns {Tone}
 */
export function stateTone(state) {
  return /** @type {Tone} */ (TONES[stateKey(state)]);
}

/**
 * `value` if it names a tone, else `fallback`.
 * @param {unknown} value
 * @param {Tone} fallback
 * @returns {Tone}
 */
export function toneOr(value, fallback) {
  return typeof value === "string" && TONE_NAMES.has(value) ? /** @type {Tone} */ (value) : fallback;
}

/**
 * `text` cut to `max` characters (code points, as Python counts them), ending in "…".
 * @param {unknown} text
 * @param {number} max
 * @returns {string}
 */
export function clipText(text, max) {
  const s = typeof text === "string" ? text : text == null ? "" : String(text);
  if (s.length <= max) return s; // UTF-16 length bounds the code point count
  // 2 * max + 2 code units hold more than max code points whenever `s` does.
  const head = Array.from(s.slice(0, 2 * max + 2));
  return head.length <= max ? s : head.slice(0, Math.max(0, max - 1)).join("") + ELLIPSIS;
}

/**
 * The end of a stack trace: its last `trace_lines` lines (ending at \n, \r\n or \r,
 * trailing blank space dropped), at most `trace_chars` characters ("…" marks a cut start).
 * @param {unknown} text
 * @returns {string}
 */
export function traceTail(text) {
  if (typeof text !== "string" || text === "") return "";
  const lines = text.replace(/\r\n/g, "\n").replace(/\r/g, "\n").replace(/[ \t\n\r\f\v]+$/, "").split("\n");
  const kept = lines.slice(-LIMITS.trace_lines).join("\n");
  const limit = LIMITS.trace_chars;
  if (kept.length <= limit) return kept;
  const tail = Array.from(kept.slice(-(2 * limit + 2)));
  if (tail.length <= limit) return kept;
  return ELLIPSIS + tail.slice(tail.length - (limit - 1)).join("");
}

/**
 * "42s", "4m 05s", "1h 05m", "2d 03h" (whole seconds, rounded down); "" when unknown.
 * @param {number | null | undefined} ms
 * @returns {string}
 */
export function formatDuration(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "";
  const total = Math.floor(Math.max(0, ms) / 1000);
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  if (total < 60) return `${total}s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes}m ${pad(total % 60)}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${pad(minutes % 60)}m`;
  return `${Math.floor(hours / 24)}d ${pad(hours % 24)}h`;
}

/**
 * Elapsed time of something still going, as of `now` on the jobs' clock: null when it
 * has not started, or when it "starts" more than SKEW_MS in the future (another clock).
 * @param {number | null} startMs
 * @param {number} now
 * @returns {number | null}
 */
export function liveElapsedMs(startMs, now) {
  if (startMs === null) return null;
  const delta = now - startMs;
  return delta < -SKEW_MS ? null : Math.max(0, delta);
}

const PRINTABLE = /^[\x21-\x7e]+$/;
const AUTHORITY = /^https?:\/\/([^/?#]*)/i;
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?)(?::([0-9]{1,5}))?$/;
const NUMERIC_LABEL = /^(?:[0-9]+|0[xX][0-9A-Fa-f]*)$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.?$/;

/**
 * `url` (trimmed) if it may become a link, else null: an absolute http(s) URL of
 * printable ASCII up to `LIMITS.url` characters, whose host is a name, a dotted IPv4
 * or a bracketed IPv6 address, with no user info.
 * @param {unknown} url
 * @returns {string | null}
 */
export function safeHttpUrl(url) {
  if (typeof url !== "string") return null;
  const text = url.replace(/^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g, "");
  if (text.length === 0 || text.length > LIMITS.url || !PRINTABLE.test(text)) return null;
  const authority = AUTHORITY.exec(text);
  const hostPort = authority ? HOST_PORT.exec(authority[1]) : null;
  if (hostPort === null) return null;
  const [, host, port] = hostPort;
  if (port !== undefined && Number(port) > 65_535) return null;
  if (host.startsWith("[")) {
    try {
      new URL(`http://${host}/`); // the browser's IPv6 parser
    } catch {
      return null;
    }
  } else if (NUMERIC_LABEL.test(host.replace(/\.$/, "").split(".").pop() ?? "") && !IPV4.test(host)) {
    return null;
  }
  return text;
}
