// Times and live SLA countdowns: every [data-due] element is redrawn once a second.

const UNITS = [
  ["d", 86400],
  ["h", 3600],
  ["m", 60],
  ["s", 1],
];

/** "3d 04h", "2h 05m 09s" or "45s" for a number of seconds (sign ignored): seconds show
 * under a day, so a countdown visibly moves every second. */
export function span(seconds) {
  let rest = Math.abs(Math.round(seconds));
  const parts = [];
  for (const [unit, size] of UNITS) {
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    if (parts.length === 0 && amount === 0 && unit !== "s") continue;
    parts.push(parts.length ? `${String(amount).padStart(2, "0")}${unit}` : `${amount}${unit}`);
    if (parts.length === (parts[0].endsWith("d") ? 2 : 3)) break;
  }
  return parts.join(" ");
}

/** A short local date and time for an ISO instant. */
export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** Redraws one countdown element from its data-due (and data-label) at `now` (ms). */
export function drawCountdown(node, now = Date.now()) {
  const due = Date.parse(node.dataset.due);
  if (Number.isNaN(due)) return;
  const left = (due - now) / 1000;
  const label = node.dataset.label ? `${node.dataset.label} ` : "";
  const overdue = left < 0;
  node.classList.toggle("overdue", overdue);
  node.classList.toggle("soon", !overdue && left < 3600);
  node.textContent = overdue ? `${label}overdue ${span(left)}` : `${label}due in ${span(left)}`;
  node.title = `due ${when(node.dataset.due)}`;
}

/** A countdown element for `due` (ISO); it ticks with every other one on the page. */
export function countdown(due, label = "") {
  const node = document.createElement("span");
  node.className = "countdown";
  node.dataset.due = due;
  if (label) node.dataset.label = label;
  node.setAttribute("role", "timer");
  drawCountdown(node);
  return node;
}

let ticking = null;

/** Starts the one-second tick that redraws every countdown on the page (idempotent). */
export function startTicking() {
  if (ticking) return;
  ticking = setInterval(() => {
    const now = Date.now();
    for (const node of document.querySelectorAll("[data-due]")) drawCountdown(node, now);
  }, 1000);
}
