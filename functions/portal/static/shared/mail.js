// Showing message bodies without ever running anything they carry.
//
// The server sanitises HTML (nh3) before it reaches us. As a second wall, HTML goes into an
// <iframe srcdoc> with a `sandbox` that does not include allow-scripts, so scripts, event
// handlers and javascript: URLs cannot run even if the sanitiser missed one; the frame's own
// Content-Security-Policy also forbids every remote load (no tracking pixels, no @import).
// Plain text is inserted with textContent. Nothing from a message is ever set as innerHTML.

const FRAME_POLICY =
  "default-src 'none'; img-src data:; style-src 'self' 'unsafe-inline'; font-src 'none'; " +
  "form-action 'none'; base-uri 'none'";

/** The srcdoc for a sanitised HTML body: a policy, our stylesheet, then the body. */
export function frameDocument(html) {
  const sheet = new URL("static/shared/frame.css", document.baseURI).toString();
  return (
    '<!doctype html><html><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${FRAME_POLICY}">` +
    `<link rel="stylesheet" href="${sheet}"></head><body>${html}</body></html>`
  );
}

/**
 * A node showing a message's body: a sandboxed frame for HTML, a text block otherwise.
 * `message` has `html` (sanitised by the server, may be null) and `text` / `visible_text`.
 */
export function messageBody(message, { preferText = false } = {}) {
  const text = message.visible_text || message.text || "";
  if (!message.html || preferText) {
    const block = document.createElement("div");
    block.className = "body-text";
    block.textContent = text;
    return block;
  }
  const frame = document.createElement("iframe");
  // No allow-scripts: nothing inside may run. allow-same-origin only lets this page read the
  // frame's height to size it; without scripts inside, the frame cannot use that origin.
  frame.setAttribute("sandbox", "allow-same-origin");
  frame.setAttribute("referrerpolicy", "no-referrer");
  frame.setAttribute("title", "Message body");
  frame.className = "body-html";
  frame.srcdoc = frameDocument(message.html);
  frame.addEventListener("load", () => fitFrame(frame));
  return frame;
}

function fitFrame(frame) {
  try {
    const doc = frame.contentDocument;
    if (!doc || !doc.body) return;
    // The body's height is the content's; the root's is at least the frame's own.
    const height = Math.min(Math.ceil(doc.body.getBoundingClientRect().height), 4000);
    frame.style.height = `${Math.max(height, 20) + 2}px`;
  } catch {
    // NOTE: a frame we cannot read keeps its CSS height and scrolls; that is safe.
  }
}
