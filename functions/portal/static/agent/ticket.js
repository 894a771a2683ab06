// The ticket on the right: thread, properties, SLA clocks, groups, composer, merge, presence.
import { announce, byId, h, options, replace } from "../shared/dom.js";
import { ApiError, api } from "../shared/http.js";
import { messageBody } from "../shared/mail.js";
import { countdown, when } from "../shared/time.js";
import { PRIORITIES, STATUSES, directory, labelOf } from "./labels.js";
import { refreshRow } from "./queue.js";

const PRESENCE_EVERY_MS = 20000;
const CLOCKS = [
  ["first_response", "First response"],
  ["next_response", "Next response"],
  ["resolution", "Resolution"],
];

const view = {
  ticket: null,
  mode: "reply",
  me: null,
  macros: [],
  canned: [],
  presenceTimer: null,
  activity: "viewing",
  opening: 0,
};
const status = () => byId("status");

/** Wires the ticket pane's forms; `me` is the signed-in agent. */
export async function startTicketPane(me) {
  view.me = me;
  byId("props").addEventListener("submit", saveProps);
  byId("assign-me").addEventListener("click", assignToMe);
  byId("tab-reply").addEventListener("click", () => compose("reply"));
  byId("tab-note").addEventListener("click", () => compose("note"));
  byId("composer-form").addEventListener("submit", send);
  byId("composer-text").addEventListener("input", () => setActivity("replying"));
  byId("composer-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      byId("composer-form").requestSubmit();
    }
  });
  byId("canned").addEventListener("change", insertCanned);
  byId("macro-apply").addEventListener("click", applyMacro);
  byId("merge-form").addEventListener("submit", merge);
  replace(
    byId("composer-status"),
    options([["", "(unchanged)"], ...STATUSES.filter(([value]) => value !== "closed")], ""),
  );
  await loadPickers();
}

async function loadPickers() {
  const [macros, canned] = await Promise.all([
    api("api/agent/macros").catch(() => ({ items: [] })),
    api("api/agent/canned-responses").catch(() => ({ items: [] })),
  ]);
  view.macros = (macros && macros.items) || [];
  view.canned = (canned && canned.items) || [];
  replace(
    byId("macro"),
    options(
      [["", "Choose a macro…"], ...view.macros.map((m) => [m.id, m.name || m.title || m.id])],
      "",
    ),
  );
  replace(
    byId("canned"),
    options(
      [
        ["", "Insert a canned response…"],
        ...view.canned.map((c) => [c.id, c.name || c.title || c.id]),
      ],
      "",
    ),
  );
}

// -- opening a ticket --------------------------------------------------------------------

/** Loads and shows ticket `number`; returns when it is drawn. */
export async function openTicket(number) {
  const ticket = ++view.opening;
  try {
    const detail = await api(`api/agent/tickets/${number}`);
    if (ticket !== view.opening) return; // the agent moved on meanwhile
    draw(detail);
    window.history.replaceState(null, "", `#/tickets/${number}`);
    startPresence();
  } catch (error) {
    announce(status(), `Ticket #${number} did not load: ${error.message}`, "error");
  }
}

function draw(detail) {
  const ticket = detail.ticket;
  const changedTicket = !view.ticket || view.ticket.number !== ticket.number;
  view.ticket = ticket;
  byId("ticket-empty").hidden = true;
  byId("ticket-view").hidden = false;
  byId("ticket").dataset.number = String(ticket.number);

  byId("ticket-title").textContent = `#${ticket.number} ${ticket.subject || "(no subject)"}`;
  replace(
    byId("ticket-badges"),
    h("span", { class: `badge status-${ticket.status}`, text: labelOf(STATUSES, ticket.status) }),
    h("span", { class: `badge priority-${ticket.priority}`, text: ticket.priority }),
    h("span", { class: "badge", text: ticket.channel }),
    ...(ticket.tags || []).map((tag) => h("span", { class: "badge tag", text: `#${tag}` })),
    ticket.csat ? h("span", { class: "badge csat", text: `CSAT ${ticket.csat}/5` }) : null,
  );
  const requester = ticket.requester_name
    ? `${ticket.requester_name} <${ticket.requester}>`
    : ticket.requester;
  byId("ticket-meta").textContent =
    `${requester} · opened ${when(ticket.created_at)} · updated ${when(ticket.updated_at)}`;

  drawProps(ticket);
  drawClocks(ticket);
  drawGroups(ticket, detail.related || {});
  replace(byId("thread"), (detail.messages || []).map(messageItem));
  if (changedTicket) {
    byId("composer-text").value = "";
    byId("composer-status").value = "";
    byId("macro").value = "";
    byId("canned").value = "";
    byId("merge-into").value = "";
    compose("reply", false);
  }
}

function drawProps(ticket) {
  replace(byId("p-status"), options(STATUSES, ticket.status));
  replace(byId("p-priority"), options(PRIORITIES, ticket.priority));
  replace(
    byId("p-team"),
    options(withCurrent([["", "(none)"], ...directory.teams], ticket.team), ticket.team || ""),
  );
  replace(
    byId("p-assignee"),
    options(
      withCurrent([["", "(unassigned)"], ...directory.agents], ticket.assignee),
      ticket.assignee || "",
    ),
  );
  replace(
    byId("p-category"),
    options(
      withCurrent([["", "(none)"], ...directory.categories], ticket.category),
      ticket.category || "",
    ),
  );
  byId("p-tags").value = (ticket.tags || []).join(", ");
}

function withCurrent(list, current) {
  if (!current || list.some(([value]) => value === current)) return list;
  return [...list, [current, current]];
}

function drawClocks(ticket) {
  const sla = ticket.sla || {};
  const items = [];
  for (const [key, label] of CLOCKS) {
    const clock = sla[key] || {};
    if (!clock.due && !clock.met_at && !clock.breached_at) continue;
    let state;
    if (clock.met_at) state = h("span", { class: "met", text: `met ${when(clock.met_at)}` });
    else if (["solved", "closed"].includes(ticket.status)) state = h("span", { text: "stopped" });
    else if (clock.due) state = countdown(clock.due);
    const breached = clock.breached_at
      ? h("span", { class: "badge priority-urgent", text: `breached ${when(clock.breached_at)}` })
      : null;
    items.push(
      h(
        "li",
        { class: "clock", dataset: { clock: key } },
        h("span", { class: "clock-name", text: label }),
        state,
        breached,
      ),
    );
  }
  if (["pending", "on_hold"].includes(ticket.status) && items.length) {
    items.push(h("li", { class: "hint", text: "Clocks are paused while the ticket waits." }));
  }
  replace(
    byId("sla-clocks"),
    items.length ? items : [h("li", { class: "hint", text: "No SLA policy applies." })],
  );
}

function ticketLink(number, text) {
  return h("a", {
    href: `#/tickets/${number}`,
    text: text || `#${number}`,
    on: {
      click: (event) => {
        event.preventDefault();
        openTicket(Number(number));
      },
    },
  });
}

function drawGroups(ticket, related) {
  const parts = [];
  if (ticket.duplicate_of) {
    parts.push(h("p", { class: "group dup" }, "Duplicate of ", ticketLink(ticket.duplicate_of)));
  }
  if (ticket.incident_of) {
    parts.push(
      h("p", { class: "group incident" }, "Part of incident ", ticketLink(ticket.incident_of)),
    );
  }
  const children = [
    ...new Set([...(ticket.incident_children || []), ...(related.incident_children || [])]),
  ];
  if (children.length) {
    parts.push(
      h(
        "p",
        { class: "group incident" },
        `Incident with ${children.length} linked tickets: `,
        ...children.flatMap((number, index) => [index ? ", " : "", ticketLink(number)]),
      ),
    );
  }
  const similar = (ticket.triage && ticket.triage.similar) || [];
  const duplicates = related.duplicates || [];
  const seen = new Set();
  const rows = [];
  for (const item of [...similar, ...duplicates]) {
    const number = Number(item.number ?? item.ticket_number ?? item.id);
    if (!Number.isFinite(number) || seen.has(number) || number === ticket.number) continue;
    seen.add(number);
    const score = typeof item.score === "number" ? item.score.toFixed(2) : null;
    rows.push(
      h(
        "li",
        {},
        ticketLink(number),
        item.subject ? ` ${item.subject}` : "",
        score ? h("span", { class: "score", text: `score ${score}` }) : null,
        item.status ? h("span", { class: `badge status-${item.status}`, text: item.status }) : null,
      ),
    );
  }
  if (rows.length)
    parts.push(
      h("p", { class: "group-head", text: "Similar tickets" }),
      h("ul", { class: "similar" }, rows),
    );
  const incident = Number(related.incident);
  if (incident && incident !== ticket.incident_of && incident !== ticket.number) {
    parts.push(h("p", { class: "group incident" }, "Incident: ", ticketLink(incident)));
  }
  byId("groups").hidden = parts.length === 0;
  replace(byId("groups-body"), parts);
}

function messageItem(message) {
  const kind = message.kind || "public_reply";
  const classes = ["message", message.direction || "", kind];
  const label =
    kind === "internal_note"
      ? "Internal note"
      : kind === "system"
        ? "System"
        : message.direction === "inbound"
          ? "Customer"
          : "Reply";
  const delivery = message.delivery_state
    ? h("span", { class: `badge delivery-${message.delivery_state}`, text: message.delivery_state })
    : null;
  return h(
    "li",
    { class: classes.join(" "), dataset: { messageId: message.id, kind } },
    h(
      "header",
      {},
      h("span", { class: "who", text: authorName(message) }),
      h("span", { class: "kind", text: label }),
      message.ai_generated ? h("span", { class: "badge", text: "AI" }) : null,
      delivery,
      h("time", { datetime: message.created_at, text: when(message.created_at) }),
    ),
    messageBody(message),
    attachmentList(message),
    skippedNote(message.skipped || []),
  );
}

/** The requester's name for their messages, an agent's name for theirs, else the address. */
function authorName(message) {
  const ticket = view.ticket || {};
  if (message.direction === "inbound" && message.author === ticket.requester) {
    return ticket.requester_name || message.author;
  }
  return labelOf(directory.agents, message.author) || message.author || "";
}

function skippedNote(skipped) {
  if (!skipped.length) return null;
  const names = skipped.map((file) => `${file.filename} (${file.reason})`);
  return h("p", { class: "hint", text: `Not stored: ${names.join(", ")}` });
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
          text: `${file.filename} (${Math.ceil((file.size || 0) / 1024)} KB)`,
          on: { click: () => download(message.id, index) },
        }),
      ),
    ),
  );
}

async function download(messageId, index) {
  try {
    const link = await api(
      `api/agent/tickets/${view.ticket.number}/attachments/${messageId}/${index}`,
    );
    const url = new URL(link.url, document.baseURI);
    if (url.protocol === "https:" || url.protocol === "http:") {
      window.open(url.toString(), "_blank", "noopener,noreferrer");
    }
  } catch (error) {
    announce(status(), `That attachment is not available: ${error.message}`, "error");
  }
}

// -- actions -----------------------------------------------------------------------------

/** Runs `action`, redraws from a fresh read, and reports a stale version plainly. */
async function act(action, done) {
  const number = view.ticket.number;
  try {
    await action();
    if (done) announce(status(), done, "ok");
  } catch (error) {
    const stale = error instanceof ApiError && error.status === 409;
    announce(
      status(),
      stale
        ? "Someone changed this ticket meanwhile; it has been reloaded. Please retry."
        : error.message,
      "error",
    );
  }
  const detail = await api(`api/agent/tickets/${number}`).catch(() => null);
  if (detail && view.ticket && view.ticket.number === number) {
    draw(detail);
    refreshRow(detail.ticket);
  }
}

function saveProps(event) {
  event.preventDefault();
  const ticket = view.ticket;
  const tags = byId("p-tags")
    .value.split(",")
    .map((tag) => tag.trim())
    .filter(Boolean);
  const wanted = {
    status: byId("p-status").value,
    priority: byId("p-priority").value,
    team: byId("p-team").value || null,
    assignee: byId("p-assignee").value || null,
    category: byId("p-category").value || null,
    tags,
  };
  const body = { version: ticket.version };
  for (const [name, value] of Object.entries(wanted)) {
    const before = ticket[name] ?? null;
    if (JSON.stringify(before) !== JSON.stringify(value)) body[name] = value;
  }
  if (Object.keys(body).length === 1) return announce(status(), "Nothing to save.", "info");
  return act(
    () => api(`api/agent/tickets/${ticket.number}`, { method: "PATCH", body }),
    "Changes saved.",
  );
}

function assignToMe() {
  const ticket = view.ticket;
  return act(
    () =>
      api(`api/agent/tickets/${ticket.number}`, {
        method: "PATCH",
        body: { version: ticket.version, assignee: view.me.id },
      }),
    "Assigned to you.",
  );
}

/** Switches the composer to a public reply or an internal note, and focuses it. */
export function compose(mode, focus = true) {
  view.mode = mode;
  const note = mode === "note";
  byId("tab-reply").setAttribute("aria-selected", String(!note));
  byId("tab-note").setAttribute("aria-selected", String(note));
  byId("composer-form").setAttribute("aria-labelledby", note ? "tab-note" : "tab-reply");
  byId("composer-form").classList.toggle("note", note);
  byId("composer-label").textContent = note
    ? "Internal note (agents only)"
    : "Reply to the requester";
  byId("composer-send").textContent = note ? "Add note" : "Send reply";
  byId("composer-status").hidden = note;
  byId("composer-status").previousElementSibling.hidden = note;
  if (focus && view.ticket) byId("composer-text").focus();
}

function send(event) {
  event.preventDefault();
  const text = byId("composer-text").value;
  if (!text.trim()) {
    byId("composer-text").focus();
    return announce(status(), "Write something first.", "error");
  }
  const ticket = view.ticket;
  const note = view.mode === "note";
  const body = note ? { text } : { text, version: ticket.version };
  const next = byId("composer-status").value;
  if (!note && next) body.status = next;
  return act(
    async () => {
      await api(`api/agent/tickets/${ticket.number}/${note ? "notes" : "replies"}`, {
        method: "POST",
        body,
      });
      byId("composer-text").value = "";
      byId("composer-status").value = "";
      setActivity("viewing");
    },
    note ? "Note added." : "Reply sent.",
  );
}

async function insertCanned() {
  const id = byId("canned").value;
  if (!id || !view.ticket) return;
  try {
    const rendered = await api(
      `api/agent/tickets/${view.ticket.number}/canned/${encodeURIComponent(id)}`,
      {
        method: "POST",
      },
    );
    const box = byId("composer-text");
    const start = box.selectionStart ?? box.value.length;
    box.value =
      box.value.slice(0, start) +
      (rendered.text || "") +
      box.value.slice(box.selectionEnd ?? start);
    box.focus();
  } catch (error) {
    announce(status(), `That canned response did not load: ${error.message}`, "error");
  } finally {
    byId("canned").value = "";
  }
}

function applyMacro() {
  const id = byId("macro").value;
  if (!id) return announce(status(), "Choose a macro first.", "error");
  const ticket = view.ticket;
  const name = byId("macro").selectedOptions[0].textContent;
  return act(async () => {
    await api(`api/agent/tickets/${ticket.number}/macros/${encodeURIComponent(id)}`, {
      method: "POST",
      body: { version: ticket.version },
    });
    byId("macro").value = "";
  }, `Macro “${name}” applied.`);
}

function merge(event) {
  event.preventDefault();
  const into = Number(byId("merge-into").value.trim().replace(/^#/, ""));
  const ticket = view.ticket;
  if (!Number.isInteger(into) || into <= 0 || into === ticket.number) {
    return announce(status(), "Enter the number of another ticket to merge into.", "error");
  }
  return act(
    () =>
      api(`api/agent/tickets/${ticket.number}/merge`, {
        method: "POST",
        body: { into, version: ticket.version },
      }),
    `Merged into #${into}.`,
  );
}

// -- presence (collision hint) -----------------------------------------------------------

function setActivity(activity) {
  if (view.activity === activity) return;
  view.activity = activity;
  beat();
}

function startPresence() {
  clearInterval(view.presenceTimer);
  view.activity = "viewing";
  beat();
  view.presenceTimer = setInterval(beat, PRESENCE_EVERY_MS);
}

async function beat() {
  if (!view.ticket) return;
  const number = view.ticket.number;
  try {
    const found = await api(`api/agent/tickets/${number}/presence`, {
      method: "PUT",
      body: { activity: view.activity },
    });
    if (view.ticket && view.ticket.number === number) drawPresence(found.others || []);
  } catch {
    byId("presence").hidden = true;
  }
}

function drawPresence(others) {
  const line = byId("presence");
  line.hidden = others.length === 0;
  const replying = others.filter((other) => other.activity === "replying");
  const names = others.map(
    (other) =>
      `${other.name || other.agent_id}${other.activity === "replying" ? " (replying)" : ""}`,
  );
  line.classList.toggle("replying", replying.length > 0);
  line.textContent = others.length ? `Also here: ${names.join(", ")}` : "";
}

/** Stops the presence heartbeat (on sign-out). */
export function stopPresence() {
  clearInterval(view.presenceTimer);
}
