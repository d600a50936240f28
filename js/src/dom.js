// Safe DOM primitives: every piece of data reaches the DOM through text nodes or
// `setAttribute` of non-event attributes; links only for URLs `safeHttpUrl` accepts.
// Plus keyed list reconciliation that keeps unchanged nodes (and their focus).

import { LIMITS, clipText, safeHttpUrl, stateSlug } from "./rules.js";

/** @typedef {string | number | boolean | null | undefined} AttrValue */
/** @typedef {Node | string | null | undefined | false} Child */

const ATTR_NAME = /^[a-z][a-z0-9-]*$/i;
const URL_ATTRS = new Set(["href", "src", "action", "formaction", "srcdoc", "xlink:href"]);

/**
 * Create an element. `class` sets the class list; other attributes go through
 * `setAttribute` (true -> "", false/null/undefined -> omitted). Event-handler
 * attributes are refused, and URL attributes must be absolute http(s).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, AttrValue>} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (!ATTR_NAME.test(name) || name.toLowerCase().startsWith("on")) {
      throw new Error(`refusing attribute ${JSON.stringify(name)}`);
    }
    const text = value === true ? "" : String(value);
    if (URL_ATTRS.has(name.toLowerCase()) && safeHttpUrl(text) === null) {
      throw new Error(`refusing non-http(s) ${name}`);
    }
    if (name === "class") el.className = text;
    else el.setAttribute(name, text);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

/**
 * Replace an element's text (cheap no-op when unchanged).
 * @param {Element} el
 * @param {string} text
 */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/**
 * Show/hide with the `hidden` attribute (no-op when unchanged).
 * @param {HTMLElement} el
 * @param {boolean} shown
 */
export function setShown(el, shown) {
  if (el.hidden === shown) el.hidden = !shown;
}

/**
 * A link if `url` may become one; otherwise plain text. A non-empty refused URL is
 * shown literally (never clickable) next to the label.
 * @param {string | null} url
 * @param {string} label
 * @param {string} className
 * @param {string} [ariaLabel]
 * @returns {HTMLElement}
 */
export function linkOrText(url, label, className, ariaLabel) {
  const href = safeHttpUrl(url);
  if (href !== null) {
    return h(
      "a",
      { class: `${className} jw-link`, href, target: "_blank", rel: "noopener noreferrer", "aria-label": ariaLabel },
      label,
    );
  }
  const span = h("span", { class: `${className} jw-nolink` }, label);
  if (url) {
    span.append(" ", h("span", { class: "jw-unsafe-url", title: "Not a web link" }, clipText(url, LIMITS.url_text)));
  }
  return span;
}

/**
 * What a badge shows: the state (for the CSS modifier), its label and tone.
 * @typedef {{ state: string, label: string, tone: string }} BadgeData
 */

/**
 * State badge: `.jw-state.jw-state--<state>` whose text is exactly the label;
 * the icon comes from CSS and the colour from `data-tone`.
 * @param {BadgeData} data
 * @param {string} [extraClass]
 * @returns {HTMLSpanElement}
 */
export function stateBadge(data, extraClass = "") {
  const badge = h("span", { class: "" }, h("span", { class: "jw-state-label" }));
  applyBadge(badge, data, extraClass);
  return badge;
}

/**
 * Point an existing badge at new data.
 * @param {HTMLElement} badge
 * @param {BadgeData} data
 * @param {string} [extraClass]
 */
export function applyBadge(badge, data, extraClass = "") {
  const cls = `jw-state jw-state--${stateSlug(data.state)}${extraClass ? ` ${extraClass}` : ""}`;
  if (badge.className !== cls) badge.className = cls;
  badge.setAttribute("data-tone", data.tone);
  const label = badge.querySelector(".jw-state-label");
  if (label) setText(label, data.label);
}

/** @type {WeakMap<Element, { key: string, sig: string }>} */
const nodeMeta = new WeakMap();

/**
 * Make `container`'s children the nodes of `items`, in order, reusing a child whose
 * key and signature are unchanged; focus in a replaced node moves to its successor.
 * @template {HTMLElement} E
 * @param {HTMLElement} container
 * @param {{ key: string, sig: string, build: () => E }[]} items
 * @returns {E[]} the nodes now in the container, in order
 */
export function reconcile(container, items) {
  /** @type {Map<string, HTMLElement>} */
  const existing = new Map();
  for (const child of Array.from(container.children)) {
    const meta = nodeMeta.get(child);
    if (meta && child instanceof HTMLElement) existing.set(meta.key, child);
  }
  const active = document.activeElement;
  /** @type {string | null} */
  let focusKey = null;
  /** @type {HTMLElement[]} */
  const nodes = items.map(({ key, sig, build }) => {
    const old = existing.get(key);
    if (old && nodeMeta.get(old)?.sig === sig) {
      existing.delete(key);
      return old;
    }
    const node = build();
    nodeMeta.set(node, { key, sig });
    return node;
  });
  for (const [key, stale] of existing) {
    if (active && stale.contains(active)) focusKey = key;
    stale.remove();
  }
  for (const child of Array.from(container.children)) {
    if (!nodes.includes(/** @type {HTMLElement} */ (child))) child.remove();
  }
  /** @type {ChildNode | null} */
  let cursor = container.firstChild;
  for (const node of nodes) {
    if (node === cursor) cursor = cursor.nextSibling;
    else container.insertBefore(node, cursor);
  }
  if (focusKey !== null) {
    const replacement = nodes.find((n) => nodeMeta.get(n)?.key === focusKey);
    const target = replacement?.matches("button, a") ? replacement : replacement?.querySelector("button, a");
    if (target instanceof HTMLElement) target.focus();
  }
  return /** @type {E[]} */ (nodes);
}
