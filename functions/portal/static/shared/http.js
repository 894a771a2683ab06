// JSON over fetch(): the only way these pages talk to the API.
//
// Every URL is relative to the page (document.baseURI), so the same files work at "/" on the
// local gateway and under the "/api/" stage prefix of API Gateway.

export class ApiError extends Error {
  constructor(status, body) {
    // The API's errors read {"error": {"code", "message", "field"}}.
    const detail = (body && typeof body.error === "object" && body.error) || body || {};
    super(detail.message || `request failed (${status})`);
    this.status = status;
    this.code = detail.code || null;
    this.field = detail.field || null;
  }
}

let bearer = null;
let onUnauthorised = null;

/** Sets the bearer token sent with every request (null to stop sending one). */
export function setToken(token) {
  bearer = token || null;
}

/** Registers a callback for a 401 from any call (an expired or refused session). */
export function whenUnauthorised(callback) {
  onUnauthorised = callback;
}

/** The absolute URL of an API path such as "api/agent/tickets", with query parameters. */
export function apiUrl(path, query) {
  const url = new URL(path.replace(/^\//, ""), document.baseURI);
  for (const [name, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === "") continue;
    url.searchParams.set(name, String(value));
  }
  return url.toString();
}

/** Calls the API; returns the parsed JSON body (null for 204) or throws an ApiError. */
export async function api(path, { method = "GET", body, query, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  const response = await fetch(apiUrl(path, query), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
    signal,
  });
  const text = await response.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { error: { message: `unexpected reply (${response.status})` } };
    }
  }
  if (!response.ok) {
    if (response.status === 401 && onUnauthorised) onUnauthorised();
    throw new ApiError(response.status, parsed);
  }
  return parsed;
}

/** A function that runs `fn` only after `wait` ms without another call (for typing). */
export function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}
