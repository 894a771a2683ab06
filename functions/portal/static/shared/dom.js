// Building DOM without HTML strings: text always goes in as textContent, never as markup.

/**
 * Creates an element. `attrs` may hold: class, text, dataset (object), on (object of event
 * listeners), and any other attribute; `children` are nodes or strings (strings become text).
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "on") {
      for (const [event, listener] of Object.entries(value)) node.addEventListener(event, listener);
    } else if (name === "value") node.value = value;
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `node` with `children`; returns `node`. */
export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** The element with this id (throws if the page lacks it, which is a bug in the page). */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing #${id}`);
  return node;
}

/** Shows a message in a live region so screen readers announce it. */
export function announce(region, message, kind = "info") {
  region.dataset.kind = kind;
  region.textContent = message;
}

/** Options for a <select>: pairs of [value, label]; marks `selected`. */
export function options(pairs, selected) {
  return pairs.map(([value, label]) =>
    h("option", { value, selected: String(value) === String(selected ?? "") }, label),
  );
}
