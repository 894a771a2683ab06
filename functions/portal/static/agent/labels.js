// Words and choices the workspace shows, and the directory (teams, agents, categories).
import { api } from "../shared/http.js";

export const STATUSES = [
  ["open", "Open"],
  ["pending", "Pending"],
  ["on_hold", "On hold"],
  ["solved", "Solved"],
  ["closed", "Closed"],
];
export const PRIORITIES = [
  ["urgent", "Urgent"],
  ["high", "High"],
  ["normal", "Normal"],
  ["low", "Low"],
];
export const CHANNELS = [
  ["email", "Email"],
  ["portal", "Portal"],
  ["api", "API"],
  ["chat", "Chat"],
];
export const SLA_STATES = [
  ["ok", "On track"],
  ["warning", "Warning"],
  ["breached", "Breached"],
  ["paused", "Paused"],
  ["none", "No SLA"],
];
export const SORTS = [
  ["updated", "Updated"],
  ["created", "Created"],
  ["due", "Due"],
  ["priority", "Priority"],
];
export const ORDERS = [
  ["desc", "Descending"],
  ["asc", "Ascending"],
];

export const directory = { teams: [], agents: [], categories: [] };

/** Loads teams, agents and categories for the pickers (empty lists if the call fails). */
export async function loadDirectory() {
  try {
    const found = (await api("api/agent/directory")) || {};
    directory.teams = pairs(found.teams);
    directory.agents = pairs(found.agents);
    directory.categories = pairs(found.categories);
  } catch {
    // NOTE: without a directory the pickers still offer the ticket's own values.
  }
  return directory;
}

/** [[id, label]] from a list of strings or of objects with id / name. */
export function pairs(items) {
  return (items || []).map((item) =>
    typeof item === "string"
      ? [item, item]
      : [String(item.id ?? item.name), String(item.name || item.title || item.id)],
  );
}

/** The label of `id` among `list` pairs, or the id itself. */
export function labelOf(list, id) {
  const found = list.find(([value]) => value === id);
  return found ? found[1] : id;
}
