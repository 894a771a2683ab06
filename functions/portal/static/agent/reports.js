// The reports page: figures from the API for a date range and a dimension, a bar chart drawn
// here as SVG from the returned numbers, and a CSV export.
import { loadBrand } from "../shared/brand.js";
import { byId, h } from "../shared/dom.js";
import { api, apiUrl, setToken } from "../shared/http.js";

const TOKEN_KEY = "helpdesk.agent.token";
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function days(start, end) {
  const out = [];
  for (let d = new Date(`${start}T00:00:00Z`); isoDay(d) <= end; d.setUTCDate(d.getUTCDate() + 1)) {
    out.push(isoDay(d));
  }
  return out;
}

/** Draws one bar per day of the range; each bar carries its day and value for readers. */
export function drawVolume(chart, report) {
  chart.replaceChildren();
  const all = days(report.start, report.end);
  const values = all.map((day) => report.volume_by_day[day] || 0);
  const top = Math.max(1, ...values);
  const width = 720;
  const height = 240;
  const left = 36;
  const bottom = 24;
  const step = (width - left - 8) / Math.max(1, all.length);
  chart.append(svg("line", { class: "axis", x1: left, y1: height - bottom, x2: width, y2: height - bottom }));
  chart.append(svg("text", { class: "label", x: 2, y: 14 }, String(top)));
  all.forEach((day, index) => {
    const value = values[index];
    const barHeight = ((height - bottom - 20) * value) / top;
    const bar = svg("rect", {
      class: "bar",
      x: left + index * step + 1,
      y: height - bottom - barHeight,
      width: Math.max(1, step - 2),
      height: barHeight,
      "data-day": day,
      "data-value": value,
      tabindex: 0,
    });
    bar.append(svg("title", {}, `${day}: ${value}`));
    chart.append(bar);
  });
  byId("volume-caption").textContent = `${values.reduce((a, b) => a + b, 0)} tickets from ${report.start} to ${report.end}`;
}

function percent(share) {
  return share === null || share === undefined ? "–" : `${Math.round(share * 100)}%`;
}

function minutes(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value)} min`;
}

function fillFigures(report) {
  const rows = [
    ["Created", report.created],
    ["Solved", report.solved],
    ["First response, median (business / calendar)", `${minutes(report.first_response_business.median)} / ${minutes(report.first_response_calendar.median)}`],
    ["First response, p90 (business / calendar)", `${minutes(report.first_response_business.p90)} / ${minutes(report.first_response_calendar.p90)}`],
    ["Resolution, median (business / calendar)", `${minutes(report.resolution_business.median)} / ${minutes(report.resolution_calendar.median)}`],
    ["Resolution, p90 (business / calendar)", `${minutes(report.resolution_business.p90)} / ${minutes(report.resolution_calendar.p90)}`],
    ["SLA compliance, first response", percent(report.sla_compliance.first_response)],
    ["SLA compliance, resolution", percent(report.sla_compliance.resolution)],
    ["Reopen rate", percent(report.reopen_rate)],
    ["CSAT average", report.csat_average === null ? "–" : report.csat_average.toFixed(2)],
    ["AI auto-resolution rate", percent(report.ai_resolution_rate)],
    ["Duplicate rate", percent(report.duplicate_rate)],
    ["Open backlog", report.backlog_open],
  ];
  for (const [agent, count] of Object.entries(report.agent_replies)) rows.push([`Replies by ${agent}`, count]);
  for (const [agent, count] of Object.entries(report.agent_load)) rows.push([`Open tickets of ${agent}`, count]);
  byId("figures").replaceChildren(...rows.map(([name, value]) => h("tr", {}, h("th", { scope: "row", text: name }), h("td", { text: String(value) }))));
}

function fillDimensions(report) {
  const select = byId("dimension");
  const chosen = select.value;
  const options = [h("option", { value: "all", text: "All tickets" })];
  for (const [kind, values] of Object.entries(report.volume_by)) {
    for (const value of Object.keys(values).sort()) {
      options.push(h("option", { value: `${kind}=${value}`, text: `${kind}: ${value}` }));
    }
  }
  select.replaceChildren(...options);
  select.value = [...select.options].some((o) => o.value === chosen) ? chosen : "all";
}

function query() {
  return { start: byId("start").value, end: byId("end").value, dimension: byId("dimension").value };
}

async function load() {
  byId("report-error").textContent = "";
  try {
    const report = await api("api/agent/reports", { query: query() });
    if (byId("dimension").value === "all") fillDimensions(report);
    drawVolume(byId("volume-chart"), report);
    fillFigures(report);
    document.body.dataset.loaded = "true";
  } catch (error) {
    byId("report-error").textContent = error.message;
  }
}

async function exportCsv() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const response = await fetch(apiUrl("api/agent/reports/csv", query()), {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
    credentials: "same-origin",
  });
  if (!response.ok) {
    byId("report-error").textContent = `export failed (${response.status})`;
    return;
  }
  const url = URL.createObjectURL(await response.blob());
  const link = h("a", { href: url, download: `helpdesk-report-${query().start}-${query().end}.csv` });
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

function start() {
  loadBrand();
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) {
    byId("reports-signin").hidden = false;
    return;
  }
  setToken(token);
  const today = new Date();
  const monthAgo = new Date(today.getTime() - 29 * 86400000);
  byId("start").value = isoDay(monthAgo);
  byId("end").value = isoDay(today);
  byId("report-form").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  byId("export-csv").addEventListener("click", exportCsv);
  load();
}

start();
