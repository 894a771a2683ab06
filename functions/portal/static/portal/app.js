// The customer portal: sign in by emailed link, list and open requests, reply, solve, rate.
import { loadBrand } from "../shared/brand.js";
import { announce, byId, h, replace } from "../shared/dom.js";
import { ApiError, api, debounce, setToken, whenUnauthorised } from "../shared/http.js";
import { messageBody } from "../shared/mail.js";
import { when } from "../shared/time.js";

const TOKEN_KEY = "helpdesk.portal.token";
const VIEWS = ["view-signin", "view-list", "view-new", "view-ticket"];
const CLOSED = new Set(["solved", "closed"]);
const STATUS_WORDS = {
  open: "Open",
  pending: "Awaiting your reply",
  on_hold: "On hold",
  solved: "Solved",
  closed: "Closed",
};

const state = { me: null, cursor: null, ticket: null, suggestionsAsked: "", scopeProbed: false };
const status = byId("status");

async function start() {
  whenUnauthorised(() => {
    if (state.me) signedOut("Your session has ended. Please sign in again.");
  });
  wire();
  await loadBrand("api/portal/config", "Help Desk");

  const login = new URLSearchParams(window.location.search).get("login");
  if (login) {
    await redeem(login);
  } else {
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) setToken(saved);
  }
  await whoAmI();
  window.addEventListener("hashchange", route);
  route();
}

function wire() {
  byId("signin-form").addEventListener("submit", askForLink);
  byId("sign-out").addEventListener("click", signOut);
  byId("list-more").addEventListener("click", () => loadTickets(false));
  byId("scope").addEventListener("change", () => loadTickets(true));
  byId("new-form").addEventListener("submit", openTicket);
  byId("new-subject").addEventListener("input", debounce(suggest, 300));
  byId("new-files").addEventListener("change", listChosenFiles);
  byId("reply-form").addEventListener("submit", reply);
  byId("solve").addEventListener("click", solve);
  byId("rating-form").addEventListener("submit", rate);
  buildStars();
}

// -- signing in --------------------------------------------------------------------------

async function redeem(token) {
  // The link's token leaves the address bar at once, whatever happens next.
  const clean = new URL(window.location.href);
  clean.searchParams.delete("login");
  window.history.replaceState(null, "", clean.pathname + clean.search + clean.hash);
  try {
    const session = await api("api/auth/session", { method: "POST", body: { token } });
    if (session && session.token) {
      sessionStorage.setItem(TOKEN_KEY, session.token);
      setToken(session.token);
    }
  } catch (error) {
    announce(
      status,
      error instanceof ApiError && error.status === 401
        ? "That sign-in link has expired or was already used. Ask for a new one below."
        : `We could not sign you in: ${error.message}`,
      "error",
    );
  }
}

async function whoAmI() {
  try {
    const me = await api("api/auth/me");
    state.me = me && me.kind === "customer" ? me : null;
  } catch {
    state.me = null;
  }
  byId("account-nav").hidden = !state.me;
}

async function askForLink(event) {
  event.preventDefault();
  const input = byId("signin-email");
  const email = input.value.trim();
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
    return fieldError(input, "signin-error", "Enter an email address like name@example.com.");
  }
  fieldError(input, "signin-error", "");
  try {
    await api("api/auth/link", { method: "POST", body: { email } });
    byId("signin-sent-to").textContent = email;
    byId("signin-sent").hidden = false;
    byId("signin-form").hidden = true;
  } catch (error) {
    fieldError(input, "signin-error", error.message);
  }
}

async function signOut() {
  try {
    await api("api/auth/logout", { method: "POST" });
  } catch {
    // NOTE: the local session is dropped either way; a failed logout only leaves the cookie.
  }
  signedOut("You are signed out.");
}

function signedOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  setToken(null);
  state.me = null;
  state.scopeProbed = false;
  byId("scope-picker").hidden = true;
  byId("account-nav").hidden = true;
  byId("signin-form").hidden = false;
  byId("signin-sent").hidden = true;
  announce(status, message, "info");
  window.location.hash = "#/";
  route();
}

// -- routing -----------------------------------------------------------------------------

function route() {
  if (!state.me) return show("view-signin");
  const hash = window.location.hash;
  const ticket = hash.match(/^#\/tickets\/(\d+)$/);
  if (hash === "#/new") {
    show("view-new");
    return resetNewForm();
  }
  if (ticket) {
    show("view-ticket");
    return openThread(Number(ticket[1]));
  }
  show("view-list");
  probeScope();
  return loadTickets(true);
}

/** Offers "my organisation's requests" only where the organisation shares its tickets. */
async function probeScope() {
  if (state.scopeProbed) return;
  state.scopeProbed = true;
  try {
    await api("api/portal/tickets", { query: { scope: "organisation", limit: 1 } });
    byId("scope-picker").hidden = false;
  } catch {
    byId("scope-picker").hidden = true;
  }
}

function show(id) {
  for (const view of VIEWS) byId(view).hidden = view !== id;
  const heading = byId(id).querySelector("h1");
  if (heading && document.activeElement !== document.body) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: false });
  }
}

// -- my requests -------------------------------------------------------------------------

async function loadTickets(fresh) {
  if (fresh) {
    state.cursor = null;
    replace(byId("ticket-list"));
  }
  try {
    const page = await api("api/portal/tickets", {
      query: { scope: byId("scope").value, cursor: state.cursor, limit: 20 },
    });
    const list = byId("ticket-list");
    for (const ticket of page.tickets || []) list.append(ticketRow(ticket));
    state.cursor = page.cursor || null;
    byId("list-more").hidden = !state.cursor;
    byId("list-empty").hidden = list.children.length > 0;
  } catch (error) {
    announce(status, `We could not load your requests: ${error.message}`, "error");
  }
}

function ticketRow(ticket) {
  return h(
    "li",
    { class: "ticket-row" },
    h(
      "a",
      { href: `#/tickets/${ticket.number}`, class: "ticket-link" },
      h("span", { class: "subject", text: ticket.subject || "(no subject)" }),
      h(
        "span",
        { class: "row-meta" },
        h("span", { text: `#${ticket.number}` }),
        statusBadge(ticket.status),
        h("span", { text: `updated ${when(ticket.updated_at)}` }),
      ),
    ),
  );
}

function statusBadge(value) {
  return h("span", {
    class: `badge status-${value}`,
    text: STATUS_WORDS[value] || value,
  });
}

// -- a new request -----------------------------------------------------------------------

function resetNewForm() {
  byId("new-form").reset();
  replace(byId("new-file-list"));
  replace(byId("suggestion-list"));
  byId("suggestions").hidden = true;
  state.suggestionsAsked = "";
}

async function suggest() {
  const q = byId("new-subject").value.trim();
  if (q.length < 3 || q === state.suggestionsAsked) return;
  state.suggestionsAsked = q;
  try {
    const found = await api("api/portal/suggestions", { query: { q } });
    if (byId("new-subject").value.trim() !== q) return; // typed on since we asked
    const articles = (found && found.articles) || [];
    replace(byId("suggestion-list"), articles.map(suggestionItem));
    byId("suggestions").hidden = articles.length === 0;
  } catch {
    byId("suggestions").hidden = true;
  }
}

function suggestionItem(article) {
  const href = safeHref(article.url);
  const title = href
    ? h("a", { href, target: "_blank", rel: "noopener noreferrer", text: article.title })
    : h("strong", { text: article.title });
  return h("li", {}, title, article.excerpt ? h("p", { text: article.excerpt }) : null);
}

/** Relative or https/http links only: never javascript:, data: or anything else. */
function safeHref(value) {
  if (typeof value !== "string" || !value) return null;
  try {
    const url = new URL(value, document.baseURI);
    return url.protocol === "https:" || url.protocol === "http:" ? url.toString() : null;
  } catch {
    return null;
  }
}

function listChosenFiles() {
  const files = [...byId("new-files").files];
  replace(
    byId("new-file-list"),
    files.map((file) => h("li", { text: `${file.name} (${Math.ceil(file.size / 1024)} KB)` })),
  );
}

async function openTicket(event) {
  event.preventDefault();
  const subject = byId("new-subject");
  const text = byId("new-text");
  const bad = [
    fieldError(
      subject,
      "new-subject-error",
      subject.value.trim() ? "" : "Give your request a subject.",
    ),
    fieldError(text, "new-text-error", text.value.trim() ? "" : "Tell us what happened."),
  ].some(Boolean);
  if (bad) return;
  const button = byId("new-submit");
  button.disabled = true;
  try {
    const attachments = await uploadAll(byId("new-files").files);
    const opened = await api("api/portal/tickets", {
      method: "POST",
      body: { subject: subject.value.trim(), text: text.value, attachments },
    });
    const ticket = opened.ticket || opened;
    announce(status, `Thanks. Your request #${ticket.number} is open.`, "ok");
    window.location.hash = `#/tickets/${ticket.number}`;
  } catch (error) {
    const target =
      error.field === "text" ? [text, "new-text-error"] : [subject, "new-subject-error"];
    if (error.field) fieldError(target[0], target[1], error.message);
    else announce(status, `Your request was not sent: ${error.message}`, "error");
  } finally {
    button.disabled = false;
  }
}

/** Uploads each file through a pre-signed S3 POST; returns their keys. */
async function uploadAll(fileList) {
  const keys = [];
  for (const file of fileList || []) {
    const grant = await api("api/portal/uploads", {
      method: "POST",
      body: {
        filename: file.name,
        content_type: file.type || "application/octet-stream",
        size: file.size,
      },
    });
    const form = new FormData();
    for (const [name, value] of Object.entries(grant.fields || {})) form.append(name, value);
    form.append("file", file);
    const response = await fetch(grant.url, { method: "POST", body: form });
    if (!response.ok) throw new Error(`the upload of ${file.name} failed (${response.status})`);
    keys.push(grant.key);
  }
  return keys;
}

// -- one request -------------------------------------------------------------------------

async function openThread(number) {
  replace(byId("ticket-thread"));
  byId("ticket-title").textContent = `Request #${number}`;
  try {
    const { ticket, messages } = await api(`api/portal/tickets/${number}`);
    state.ticket = ticket;
    drawTicket(ticket, messages || []);
  } catch (error) {
    state.ticket = null;
    byId("ticket-title").textContent = "Request not found";
    byId("ticket-meta").textContent = "";
    byId("reply").hidden = true;
    byId("rating").hidden = true;
    announce(
      status,
      error instanceof ApiError && error.status === 404
        ? "We could not find that request."
        : `We could not load that request: ${error.message}`,
      "error",
    );
  }
}

function drawTicket(ticket, messages) {
  byId("ticket-title").textContent = ticket.subject || `Request #${ticket.number}`;
  const badge = byId("ticket-status");
  badge.className = `badge status-${ticket.status}`;
  badge.textContent = STATUS_WORDS[ticket.status] || ticket.status;
  byId("ticket-meta").textContent =
    `#${ticket.number} · opened ${when(ticket.created_at)} · updated ${when(ticket.updated_at)}`;
  replace(byId("ticket-thread"), messages.map(messageItem));

  const closed = CLOSED.has(ticket.status);
  byId("reply").hidden = ticket.status === "closed";
  byId("solve").hidden = closed;
  byId("reply-title").textContent = closed ? "Still need help? Reply to reopen" : "Reply";
  drawRating(ticket);
}

function messageItem(message) {
  const mine = message.from_customer ?? message.direction === "inbound";
  const who = mine ? "You" : message.author_name || message.author || "Support";
  return h(
    "li",
    { class: `message ${mine ? "inbound" : "outbound"}`, dataset: { messageId: message.id } },
    h(
      "header",
      {},
      h("span", { class: "who", text: who }),
      h("time", { datetime: message.created_at, text: when(message.created_at) }),
    ),
    messageBody(message),
    attachmentList(message),
  );
}

function attachmentList(message) {
  const files = message.attachments || [];
  if (!files.length) return null;
  return h(
    "ul",
    { class: "attachments", "aria-label": "Attachments" },
    files.map((file, index) =>
      h(
        "li",
        {},
        h("button", {
          type: "button",
          class: "quiet",
          text: file.filename,
          on: { click: () => download(message.id, index) },
        }),
      ),
    ),
  );
}

async function download(messageId, index) {
  try {
    const link = await api(
      `api/portal/tickets/${state.ticket.number}/attachments/${messageId}/${index}`,
    );
    const href = safeHref(link.url);
    if (href) window.open(href, "_blank", "noopener,noreferrer");
  } catch (error) {
    announce(status, `That attachment is not available: ${error.message}`, "error");
  }
}

async function reply(event) {
  event.preventDefault();
  const text = byId("reply-text");
  if (fieldError(text, "reply-error", text.value.trim() ? "" : "Write a reply first.")) return;
  const button = byId("reply-submit");
  button.disabled = true;
  try {
    const attachments = await uploadAll(byId("reply-files").files);
    await api(`api/portal/tickets/${state.ticket.number}/replies`, {
      method: "POST",
      body: { text: text.value, attachments },
    });
    byId("reply-form").reset();
    announce(status, "Your reply was sent.", "ok");
    await openThread(state.ticket.number);
  } catch (error) {
    fieldError(text, "reply-error", error.message);
  } finally {
    button.disabled = false;
  }
}

async function solve() {
  try {
    await api(`api/portal/tickets/${state.ticket.number}/solve`, { method: "POST" });
    announce(status, "Marked as solved. Thank you!", "ok");
    await openThread(state.ticket.number);
  } catch (error) {
    announce(status, `We could not mark it solved: ${error.message}`, "error");
  }
}

// -- rating ------------------------------------------------------------------------------

const STAR_WORDS = ["", "Poor", "Fair", "Good", "Very good", "Excellent"];

function buildStars() {
  const row = byId("star-row");
  for (let score = 1; score <= 5; score += 1) {
    const id = `star-${score}`;
    row.append(
      h("input", { type: "radio", name: "score", id, value: String(score), class: "star-input" }),
      h(
        "label",
        { for: id, class: "star", title: STAR_WORDS[score] },
        h("span", { "aria-hidden": "true", text: "★" }),
        h("span", { class: "star-word", text: `${score} – ${STAR_WORDS[score]}` }),
      ),
    );
  }
}

function drawRating(ticket) {
  const rateable = CLOSED.has(ticket.status);
  byId("rating").hidden = !rateable;
  const rated = ticket.csat !== null && ticket.csat !== undefined;
  byId("rating-form").hidden = rated;
  byId("rating-done").hidden = !rated;
  if (rated) byId("rating-done").textContent = `You rated this ${ticket.csat} out of 5. Thank you!`;
}

async function rate(event) {
  event.preventDefault();
  const chosen = byId("rating-form").querySelector("input[name=score]:checked");
  if (!chosen) return announce(status, "Choose a rating from 1 to 5 first.", "error");
  const comment = byId("rating-comment").value.trim();
  try {
    await api(`api/portal/tickets/${state.ticket.number}/rating`, {
      method: "POST",
      body: comment ? { score: Number(chosen.value), comment } : { score: Number(chosen.value) },
    });
    announce(status, "Thanks for your rating.", "ok");
    await openThread(state.ticket.number);
  } catch (error) {
    announce(status, `Your rating was not saved: ${error.message}`, "error");
  }
}

// -- helpers -----------------------------------------------------------------------------

/** Shows (or clears, with "") an error for `input`; returns true when there is one. */
function fieldError(input, errorId, message) {
  byId(errorId).textContent = message;
  input.setAttribute("aria-invalid", message ? "true" : "false");
  if (message) input.focus();
  return Boolean(message);
}

start();
