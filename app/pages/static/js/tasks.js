// Tasks dashboard: history pages from GET /api/tasks/, every active task live
// over /ws/tasks/. The socket has no "all tasks" feed, so the first page is
// re-read every few seconds to pick up new tasks, which then go live.
import { api, el } from "./client.js";
import { TaskCard, TaskWatcher } from "./taskwatch.js";

const POLL_MS = 2000;
const form = document.getElementById("filters");
const list = document.getElementById("task-list");
const summary = document.getElementById("summary");
const pageLabel = document.getElementById("page-label");
const prev = document.getElementById("prev");
const next = document.getElementById("next");
const actors = new Set();
const conn = document.getElementById("conn");
const watcher = new TaskWatcher({ onStatus: (s) => { conn.textContent = s; conn.dataset.state = s; } });

let page = 1;
let total = 0;
let cards = new Map();
let loading = null;

function query() {
  const q = new URLSearchParams({ page, per_page: form.per_page.value });
  if (form.state.value) q.set("state", form.state.value);
  if (form.actor.value.trim()) q.set("actor", form.actor.value.trim());
  return q;
}

async function load() {
  const q = query();
  let data;
  try {
    data = await api(`/api/tasks/?${q}`);
  } catch (err) {
    summary.textContent = `Could not load tasks: ${err.message}`;
    return;
  }
  if (q.toString() !== query().toString()) { again = true; return; } // filters changed meanwhile
  total = data.total;
  const kept = new Map();
  const nodes = [];
  for (const task of data.items) {
    let card = cards.get(task.task_id);
    if (card && card.task.state !== task.state && ["SUCCESS", "FAILURE", "CANCELLED"].includes(task.state)) {
      card.update(task);
    }
    if (!card) card = new TaskCard(task, watcher);
    kept.set(task.task_id, card);
    nodes.push(card.node);
    if (task.actor && !actors.has(task.actor)) {
      actors.add(task.actor);
      document.getElementById("actors").append(el("option", { value: task.actor }));
    }
  }
  for (const [id, card] of cards) if (!kept.has(id)) card.destroy();
  cards = kept;
  list.replaceChildren(...nodes);
  if (!nodes.length) list.append(el("p", { class: "muted empty", text: "No tasks match." }));
  const pages = Math.max(1, Math.ceil(total / data.per_page));
  pageLabel.textContent = `page ${data.page} of ${pages}`;
  summary.textContent = `${total} task${total === 1 ? "" : "s"}`;
  prev.disabled = page <= 1;
  next.disabled = page >= pages;
}

let again = false;
function reload() {
  // One load at a time; a change asked for meanwhile loads once more after it.
  if (loading) { again = true; return loading; }
  loading = load().finally(() => {
    loading = null;
    if (again) { again = false; reload(); }
  });
  return loading;
}

form.addEventListener("change", () => { page = 1; reload(); });
form.addEventListener("submit", (e) => { e.preventDefault(); page = 1; reload(); });
form.actor.addEventListener("input", () => { page = 1; reload(); });
prev.addEventListener("click", () => { page = Math.max(1, page - 1); reload(); });
next.addEventListener("click", () => { page += 1; reload(); });
setInterval(() => { if (page === 1 && !document.hidden) reload(); }, POLL_MS);
reload();
