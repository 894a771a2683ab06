// The agent workspace: sign-in, then the queue on the left and the ticket on the right.
import { loadBrand } from "../shared/brand.js";
import { announce, byId } from "../shared/dom.js";
import { api, setToken, whenUnauthorised } from "../shared/http.js";
import { startTicking } from "../shared/time.js";
import { loadDirectory } from "./labels.js";
import { select, startQueue, step } from "./queue.js";
import { compose, openTicket, startTicketPane, stopPresence } from "./ticket.js";

const TOKEN_KEY = "helpdesk.agent.token";
const NOTICE_KEY = "helpdesk.agent.notice";
const AGENT_KEY = "helpdesk.agent.record";
let me = null;

async function start() {
  byId("dev-form").addEventListener("submit", devLogin);
  byId("token-form").addEventListener("submit", useToken);
  byId("sign-out").addEventListener("click", () => signOut("You are signed out."));
  byId("help-open").addEventListener("click", openHelp);
  byId("help-close").addEventListener("click", () => byId("help").close());
  whenUnauthorised(() => {
    if (me) signOut("Your session has ended. Please sign in again.");
  });
  await loadBrand("api/portal/config", "Help Desk");
  const notice = sessionStorage.getItem(NOTICE_KEY);
  if (notice) {
    sessionStorage.removeItem(NOTICE_KEY);
    announce(byId("status"), notice, "info");
  }

  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    setToken(saved);
    if (await whoAmI()) return enter();
  }
  showSignIn();
}

// -- signing in --------------------------------------------------------------------------

async function whoAmI() {
  try {
    const found = await api("api/auth/me");
    me = found && found.kind === "agent" ? found : null;
  } catch {
    me = null;
  }
  // NOTE: a token without an email claim leaves /me without the agent's record; the dev
  // login's answer names the agent, so it fills the gap for display and "assign to me".
  const known = JSON.parse(sessionStorage.getItem(AGENT_KEY) || "null");
  if (me && known && !me.email) me = { ...me, id: known.id, name: known.name, email: known.email };
  return me;
}

async function devLogin(event) {
  event.preventDefault();
  const agentId = byId("dev-agent").value.trim();
  if (!agentId) return signInError("Enter an agent id.");
  try {
    const session = await api("api/auth/dev-login", {
      method: "POST",
      body: { agent_id: agentId },
    });
    sessionStorage.setItem(AGENT_KEY, JSON.stringify(session.agent || null));
    return signedIn(session.token);
  } catch (error) {
    return signInError(
      error.status === 404 ? "Development login is switched off on this stack." : error.message,
    );
  }
}

function useToken(event) {
  event.preventDefault();
  const token = byId("token-input").value.trim();
  if (!token) return signInError("Paste an ID token first.");
  sessionStorage.removeItem(AGENT_KEY);
  return signedIn(token);
}

async function signedIn(token) {
  setToken(token);
  if (!(await whoAmI())) {
    setToken(null);
    return signInError("That sign-in was refused.");
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  return enter();
}

function signInError(message) {
  byId("signin-error").textContent = message;
}

function showSignIn() {
  byId("signin").hidden = false;
  byId("workspace").hidden = true;
  byId("who").hidden = true;
  byId("dev-agent").focus();
}

function signOut(message) {
  stopPresence();
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(AGENT_KEY);
  setToken(null);
  me = null;
  // A fresh page drops every piece of state the last agent left behind.
  sessionStorage.setItem(NOTICE_KEY, message);
  window.location.hash = "";
  window.location.reload();
}

// -- the workspace -----------------------------------------------------------------------

async function enter() {
  byId("signin").hidden = true;
  byId("workspace").hidden = false;
  byId("who").hidden = false;
  byId("who-name").textContent = me.name || me.email || me.id;
  await loadDirectory();
  await startTicketPane(me);
  startTicking();
  document.addEventListener("keydown", shortcut);
  await startQueue((number) => openTicket(number));
  const wanted = window.location.hash.match(/^#\/tickets\/(\d+)$/);
  if (wanted) select(Number(wanted[1]));
}

function openHelp() {
  const help = byId("help");
  if (!help.open) help.showModal();
}

function typing(target) {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))
  );
}

function shortcut(event) {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.key === "Escape" && typing(event.target)) {
    event.target.blur();
    return;
  }
  if (typing(event.target) || byId("help").open) return;
  const actions = {
    j: () => step(1),
    n: () => step(1),
    k: () => step(-1),
    p: () => step(-1),
    r: () => compose("reply"),
    i: () => compose("note"),
    "/": () => byId("f-q").focus(),
    "?": openHelp,
  };
  const action = actions[event.key];
  if (!action) return;
  event.preventDefault();
  action();
}

start();
