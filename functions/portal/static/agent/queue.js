// The queue on the left: filters, sorting, cursor pagination and the selected ticket.
import { announce, byId, h, options, replace } from "../shared/dom.js";
import { api, debounce } from "../shared/http.js";
import { countdown } from "../shared/time.js";
import {
  CHANNELS,
  ORDERS,
  PRIORITIES,
  SLA_STATES,
  SORTS,
  STATUSES,
  directory,
  labelOf,
} from "./labels.js";

const UNSOLVED = "open,pending,on_hold";
const ALL = STATUSES.map(([value]) => value).join(",");
const ANY = [["", "Any"]];
const queue = {
  tickets: [],
  cursor: null,
  selected: null,
  onOpen: () => {},
  loading: 0,
  inFlight: 0,
  typing: false,
  shown: null,
};

/** Fills the filter pickers and loads the first page; `onOpen(number)` opens a ticket. */
export function startQueue(onOpen) {
  queue.onOpen = onOpen;
  fillFilters();
  const form = byId("filters");
  // A text box also fires "change" when it loses focus; reload only when a filter moved, so
  // that clicking a ticket right after typing does not pull the list from under the click.
  const changed = () => {
    queue.typing = false;
    if (JSON.stringify(filters()) !== queue.shown) reload();
    else if (!queue.inFlight) setBusy(false);
  };
  form.addEventListener("change", changed);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    reload();
  });
  const typed = debounce(changed, 350);
  for (const id of ["f-q", "f-tag"]) {
    byId(id).addEventListener("input", () => {
      queue.typing = true; // a reload is coming once the typing pauses
      setBusy(true);
      typed();
    });
  }
  byId("queue-more").addEventListener("click", () => loadPage(false));
  return reload();
}

function fillFilters() {
  const agents = directory.agents;
  replace(byId("f-status"), options([[UNSOLVED, "Unsolved"], ...STATUSES, [ALL, "Any"]], UNSOLVED));
  replace(byId("f-priority"), options([...ANY, ...PRIORITIES], ""));
  replace(byId("f-team"), options([...ANY, ...directory.teams], ""));
  replace(
    byId("f-assignee"),
    options([...ANY, ["me", "Me"], ["none", "Unassigned"], ...agents], ""),
  );
  replace(byId("f-category"), options([...ANY, ...directory.categories], ""));
  replace(byId("f-sla"), options([...ANY, ...SLA_STATES], ""));
  replace(byId("f-channel"), options([...ANY, ...CHANNELS], ""));
  replace(byId("f-sort"), options(SORTS, "updated"));
  replace(byId("f-order"), options(ORDERS, "desc"));
}

function filters() {
  const value = (id) => byId(id).value.trim();
  return {
    q: value("f-q"),
    status: value("f-status"),
    priority: value("f-priority"),
    team: value("f-team"),
    assignee: value("f-assignee"),
    category: value("f-category"),
    sla: value("f-sla"),
    channel: value("f-channel"),
    tag: value("f-tag"),
    sort: value("f-sort"),
    order: value("f-order"),
  };
}

/** Reloads the queue from the first page with the current filters. */
export function reload() {
  queue.shown = JSON.stringify(filters());
  queue.tickets = [];
  queue.cursor = null;
  replace(byId("queue-list"));
  return loadPage(true);
}

/** Marks the list as loading (aria-busy) or settled, for assistive technology and tests. */
function setBusy(busy) {
  byId("queue-list").setAttribute("aria-busy", String(busy));
}

async function loadPage(fresh) {
  const asked = ++queue.loading;
  queue.inFlight += 1;
  setBusy(true);
  try {
    const page = await api("api/agent/tickets", {
      query: { ...filters(), cursor: fresh ? null : queue.cursor, limit: 25 },
    });
    if (queue.loading !== asked) return; // a newer request won
    const list = byId("queue-list");
    for (const ticket of page.tickets || []) {
      queue.tickets.push(ticket);
      list.append(row(ticket));
    }
    queue.cursor = page.cursor || null;
    byId("queue-more").hidden = !queue.cursor;
    byId("queue-count").textContent = queue.tickets.length
      ? `${queue.tickets.length}${queue.cursor ? "+" : ""} tickets`
      : "No tickets match these filters.";
    markSelected();
  } catch (error) {
    announce(byId("status"), `The queue did not load: ${error.message}`, "error");
  } finally {
    queue.inFlight -= 1;
    if (queue.loading === asked && !queue.typing) setBusy(false);
  }
}

function row(ticket) {
  const who = ticket.requester_name || ticket.requester || "";
  const flags = [
    ticket.duplicate_of
      ? h("span", { class: "badge flag", text: `dup of #${ticket.duplicate_of}` })
      : null,
    ticket.incident_of
      ? h("span", { class: "badge flag", text: `incident #${ticket.incident_of}` })
      : null,
  ];
  return h(
    "li",
    { class: "queue-item", dataset: { number: String(ticket.number) } },
    h(
      "a",
      {
        href: `#/tickets/${ticket.number}`,
        class: "queue-link",
        on: {
          click: (event) => {
            event.preventDefault();
            select(ticket.number);
          },
        },
      },
      h(
        "span",
        { class: "line1" },
        h("span", { class: "num", text: `#${ticket.number}` }),
        h("span", { class: "subject", text: ticket.subject || "(no subject)" }),
      ),
      h(
        "span",
        { class: "line2" },
        h("span", { class: `badge priority-${ticket.priority}`, text: ticket.priority }),
        h("span", {
          class: `badge status-${ticket.status}`,
          text: labelOf(STATUSES, ticket.status),
        }),
        ...flags,
        ticket.due && !["solved", "closed"].includes(ticket.status) ? countdown(ticket.due) : null,
      ),
      h(
        "span",
        { class: "line3" },
        h("span", { class: "requester", text: who }),
        ticket.assignee
          ? h("span", {
              class: "assignee",
              text: `→ ${labelOf(directory.agents, ticket.assignee)}`,
            })
          : h("span", { class: "assignee none", text: "unassigned" }),
      ),
    ),
  );
}

/** Opens ticket `number` and marks it in the queue. */
export function select(number) {
  queue.selected = number;
  markSelected();
  queue.onOpen(number);
}

function markSelected() {
  for (const item of byId("queue-list").children) {
    const chosen = Number(item.dataset.number) === queue.selected;
    item.classList.toggle("selected", chosen);
    const link = item.querySelector("a");
    if (chosen) {
      link.setAttribute("aria-current", "true");
      item.scrollIntoView({ block: "nearest" });
    } else {
      link.removeAttribute("aria-current");
    }
  }
}

/** Moves the selection `step` places (1 next, -1 previous) and opens that ticket. */
export function step(delta) {
  if (!queue.tickets.length) return;
  const at = queue.tickets.findIndex((ticket) => ticket.number === queue.selected);
  const next = at < 0 ? 0 : Math.min(Math.max(at + delta, 0), queue.tickets.length - 1);
  if (at === next && at >= 0) return;
  select(queue.tickets[next].number);
}

/** Replaces the queue row of a ticket that changed (after an action), if it is listed. */
export function refreshRow(ticket) {
  const at = queue.tickets.findIndex((item) => item.number === ticket.number);
  if (at < 0) return;
  queue.tickets[at] = { ...queue.tickets[at], ...ticket };
  const old = byId("queue-list").querySelector(`[data-number="${ticket.number}"]`);
  if (old) old.replaceWith(row(queue.tickets[at]));
  markSelected();
}
