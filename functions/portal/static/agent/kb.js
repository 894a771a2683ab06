// The knowledge-base page for agents: list and search articles, open one, edit and save it
// with the version it was read at (a 409 says someone saved in between), create, delete after
// a confirmation in the page, and read an article's version history.
import { loadBrand } from "../shared/brand.js";
import { announce, byId, h } from "../shared/dom.js";
import { api, setToken, whenUnauthorised } from "../shared/http.js";

const TOKEN_KEY = "helpdesk.agent.token";
const FIELDS = ["title", "body", "tags", "visibility", "locale"];

const state = { articles: [], current: null, hits: null };

function status(message, kind = "ok") {
  announce(byId("kb-status"), message, kind);
}

function clearErrors() {
  byId("editor-error").textContent = "";
  for (const name of FIELDS) {
    byId(`a-${name}-error`).textContent = "";
    byId(`a-${name}`).removeAttribute("aria-invalid");
  }
}

/** Shows an API error next to the field it names, or above the buttons when it names none. */
function showError(error) {
  const name = (error.field || "").split(".").find((part) => FIELDS.includes(part));
  if (name) {
    byId(`a-${name}-error`).textContent = error.message;
    byId(`a-${name}`).setAttribute("aria-invalid", "true");
    byId(`a-${name}`).focus();
  } else {
    byId("editor-error").textContent = error.message;
  }
}

function tagsOf(text) {
  return text.split(",").map((tag) => tag.trim()).filter(Boolean);
}

function matches(article, words) {
  const text = [article.title, article.locale, article.visibility, ...article.tags].join(" ").toLowerCase();
  return words.every((word) => text.includes(word));
}

function visible() {
  const q = byId("kb-q").value.trim().toLowerCase();
  if (!q) return state.articles;
  const words = q.split(/\s+/);
  const found = new Set(state.hits || []);
  return state.articles.filter((article) => found.has(article.id) || matches(article, words));
}

function renderList() {
  const rows = visible();
  const current = state.current && state.current.id;
  byId("article-rows").replaceChildren(
    ...rows.map((article) =>
      h(
        "tr",
        { dataset: { id: article.id }, "aria-current": article.id === current ? "true" : undefined },
        h("td", {}, h("button", { type: "button", class: "link", on: { click: () => openArticle(article.id) } }, article.title)),
        h("td", {}, h("span", { class: `badge visibility-${article.visibility}`, text: article.visibility })),
        h("td", { text: article.locale }),
        h("td", { text: article.tags.join(", ") }),
        h("td", { text: String(article.version) }),
      ),
    ),
  );
  const total = state.articles.length;
  byId("list-count").textContent =
    rows.length === total ? `${total} article${total === 1 ? "" : "s"}` : `${rows.length} of ${total} articles match`;
}

async function loadList() {
  const answer = await api("api/agent/kb/articles");
  state.articles = answer.articles.sort((a, b) => a.title.localeCompare(b.title));
  renderList();
}

async function search() {
  const q = byId("kb-q").value.trim();
  state.hits = null;
  delete byId("article-rows").dataset.query;
  renderList();
  if (!q) return;
  try {
    // The API's search also reads the bodies; titles and tags are matched here at once.
    const answer = await api("api/agent/kb/search", { query: { q, limit: 20 } });
    if (byId("kb-q").value.trim() === q) {
      // Only hits whose words match: semantic neighbours alone would list every article.
      state.hits = answer.articles.filter((hit) => hit.keyword_score > 0).map((hit) => hit.id);
      renderList();
      byId("article-rows").dataset.query = q;
    }
  } catch (error) {
    status(`search failed: ${error.message}`, "error");
  }
}

function fill(article) {
  state.current = article;
  byId("a-title").value = article ? article.title : "";
  byId("a-body").value = article ? article.body : "";
  byId("a-tags").value = article ? article.tags.join(", ") : "";
  byId("a-visibility").value = article ? article.visibility : "public";
  byId("a-locale").value = article ? article.locale : "en";
  byId("editor-title").textContent = article ? `Edit “${article.title}”` : "New article";
  byId("editor-meta").textContent = article
    ? `Version ${article.version} · updated ${new Date(article.updated_at).toLocaleString()} by ${article.author} · ${article.id}`
    : "";
  byId("save-article").textContent = article ? "Save changes" : "Create article";
  byId("delete-article").hidden = !article;
  byId("reload-article").hidden = true;
  byId("delete-confirm").hidden = true;
  byId("history").hidden = !article;
  clearErrors();
  renderList();
}

async function openArticle(id) {
  try {
    fill(await api(`api/agent/kb/articles/${encodeURIComponent(id)}`));
    await loadHistory(id);
    byId("a-title").focus();
  } catch (error) {
    status(error.message, "error");
  }
}

async function loadHistory(id) {
  const answer = await api(`api/agent/kb/articles/${encodeURIComponent(id)}/versions`);
  const items = [...answer.versions].reverse().map((version) =>
    h(
      "li",
      { dataset: { version: String(version.version) } },
      h("strong", { text: `Version ${version.version}` }),
      version.deleted ? h("span", { class: "badge deleted", text: "deleted" }) : null,
      h("span", { class: "history-title", text: version.title }),
      h("span", {
        class: "hint",
        text: `${version.visibility} · ${version.tags.join(", ") || "no tags"} · ${new Date(version.updated_at).toLocaleString()} by ${version.author}`,
      }),
    ),
  );
  byId("history-list").replaceChildren(...items);
}

async function save(event) {
  event.preventDefault();
  clearErrors();
  const body = {
    title: byId("a-title").value.trim(),
    body: byId("a-body").value,
    tags: tagsOf(byId("a-tags").value),
    visibility: byId("a-visibility").value,
    locale: byId("a-locale").value.trim() || "en",
  };
  if (!body.title) {
    showError({ field: "title", message: "a title is required" });
    return;
  }
  const current = state.current;
  const button = byId("save-article");
  button.disabled = true;
  try {
    const saved = current
      ? await api(`api/agent/kb/articles/${encodeURIComponent(current.id)}`, {
          method: "PUT",
          body: { ...body, version: current.version },
        })
      : await api("api/agent/kb/articles", { method: "POST", body });
    status(current ? `Saved “${saved.title}” as version ${saved.version}.` : `Created “${saved.title}”.`);
    fill(saved);
    await Promise.all([loadList(), loadHistory(saved.id)]);
  } catch (error) {
    if (error.status === 409) {
      byId("editor-error").textContent =
        `Not saved: someone changed this article after you opened version ${current ? current.version : "?"}. ` +
        "Copy your changes, load the current version, and apply them again.";
      byId("reload-article").hidden = false;
    } else {
      showError(error);
    }
  } finally {
    button.disabled = false;
  }
}

async function remove() {
  const current = state.current;
  if (!current) return;
  try {
    await api(`api/agent/kb/articles/${encodeURIComponent(current.id)}`, {
      method: "DELETE",
      query: { version: current.version },
    });
    status(`Deleted “${current.title}”.`);
    fill(null);
    await loadList();
  } catch (error) {
    byId("delete-confirm").hidden = true;
    if (error.status === 409) {
      byId("editor-error").textContent = "Not deleted: someone changed this article since you opened it.";
      byId("reload-article").hidden = false;
    } else {
      showError(error);
    }
  }
}

function start() {
  loadBrand("api/portal/config", "Help Desk");
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) {
    byId("kb-signin").hidden = false;
    return;
  }
  setToken(token);
  whenUnauthorised(() => {
    byId("kb-panes").hidden = true;
    byId("kb-signin").hidden = false;
  });
  byId("kb-panes").hidden = false;
  byId("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search();
  });
  byId("kb-q").addEventListener("input", () => {
    state.hits = null;
    renderList();
  });
  byId("new-article").addEventListener("click", () => {
    fill(null);
    byId("a-title").focus();
  });
  byId("article-form").addEventListener("submit", save);
  byId("reload-article").addEventListener("click", () => state.current && openArticle(state.current.id));
  byId("delete-article").addEventListener("click", () => {
    byId("delete-confirm").hidden = false;
    byId("delete-no").focus();
  });
  byId("delete-no").addEventListener("click", () => {
    byId("delete-confirm").hidden = true;
    byId("delete-article").focus();
  });
  byId("delete-yes").addEventListener("click", remove);
  fill(null);
  loadList()
    .then(() => {
      document.body.dataset.loaded = "true";
    })
    .catch((error) => status(error.message, "error"));
}

start();
