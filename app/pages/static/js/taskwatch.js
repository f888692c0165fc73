// Follow tasks over /ws/tasks/ and draw them: state, bar, status, ETA,
// duration, error, cancel. Used by the tasks dashboard and the videos page.
import { LiveSocket, api, el, fmtSeconds } from "./client.js";

const FINAL = new Set(["SUCCESS", "FAILURE", "CANCELLED"]);
const STATE_OF_STATUS = {
  pending: "PENDING", started: "STARTED", processing: "PROGRESS", retrying: "RETRY",
  completed: "SUCCESS", failed: "FAILURE", cancelled: "CANCELLED",
};

/** One /ws/tasks/ connection shared by every task a page follows. */
export class TaskWatcher {
  constructor({ onStatus } = {}) {
    this.listeners = new Map(); // task_id -> Set(fn(partialState))
    this.socket = new LiveSocket("/ws/tasks/", {
      onOpen: () => { for (const id of this.listeners.keys()) this.socket.send({ action: "subscribe", task_id: id }); },
      onMessage: (m) => this.dispatch(m),
      onStatus,
    });
  }

  /** Call `fn(change)` with every change of the task; returns an unwatch function. */
  watch(taskId, fn) {
    let set = this.listeners.get(taskId);
    if (!set) {
      set = new Set();
      this.listeners.set(taskId, set);
      if (this.socket.open) this.socket.send({ action: "subscribe", task_id: taskId });
    }
    set.add(fn);
    return () => {
      set.delete(fn);
      if (!set.size) {
        this.listeners.delete(taskId);
        this.socket.sendNow({ action: "unsubscribe", task_id: taskId });
      }
    };
  }

  cancel(taskId) { this.socket.send({ action: "cancel", task_id: taskId }); }

  dispatch(m) {
    if (!m.task_id || !this.listeners.has(m.task_id)) return;
    let change;
    if (m.type === "task_update") {
      change = { state: m.state, progress: m.progress, status: m.message, eta_seconds: m.eta_seconds,
                 actor: m.data && m.data.actor, started_at: m.data && m.data.started_at,
                 created_at: m.data && m.data.created_at, attempts: m.data && m.data.attempts };
    } else if (m.type === "task_complete") {
      change = { state: "SUCCESS", progress: 100, status: m.message, result: m.result, eta_seconds: null };
    } else if (m.type === "task_error") {
      change = { state: STATE_OF_STATUS[m.status] || "FAILURE", error: m.error, eta_seconds: null };
    } else if (m.type === "error") {
      change = { notice: m.message };
    } else {
      return;
    }
    for (const fn of [...this.listeners.get(m.task_id)]) fn(change, m);
  }
}

/** A task drawn as a card; `update(change)` merges a change and redraws. */
export class TaskCard {
  constructor(task, watcher, { onFinish, compact = false } = {}) {
    this.task = { progress: 0, ...task };
    this.watcher = watcher;
    this.onFinish = onFinish;
    this.bar = el("div", { class: "bar-fill" });
    this.barText = el("span", { class: "bar-text" });
    this.stateBadge = el("span", { class: "badge" });
    this.statusText = el("span", { class: "status-text" });
    this.eta = el("span", { class: "eta" });
    this.duration = el("span", { class: "duration" });
    this.error = el("div", { class: "task-error", hidden: true });
    this.cancelButton = el("button", { class: "cancel", type: "button", text: "Cancel",
                                       onclick: () => this.cancel() });
    this.node = el("article", { class: "task" + (compact ? " compact" : ""), "data-task-id": task.task_id },
      el("header", {},
        this.stateBadge,
        el("span", { class: "actor", text: task.actor || "task" }),
        el("code", { class: "task-id", title: task.task_id, text: task.task_id.slice(0, 8) }),
        this.cancelButton),
      el("div", { class: "bar", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100 }, this.bar, this.barText),
      el("div", { class: "task-meta" }, this.statusText,
        el("span", { class: "times" }, el("span", { class: "label", text: "ETA " }), this.eta,
          el("span", { class: "label", text: " · took " }), this.duration)),
      this.error);
    this.unwatch = FINAL.has(this.task.state) ? null : watcher.watch(task.task_id, (c) => this.update(c));
    this.render();
    this.ticker = FINAL.has(this.task.state) ? null : setInterval(() => this.renderDuration(), 1000);
  }

  cancel() {
    this.cancelButton.disabled = true;
    this.cancelButton.textContent = "Cancelling…";
    this.watcher.cancel(this.task.task_id);
  }

  async update(change) {
    if (change.notice) {
      this.error.hidden = false;
      this.error.textContent = change.notice;
      this.cancelButton.disabled = false;
      this.cancelButton.textContent = "Cancel";
      return;
    }
    for (const [k, v] of Object.entries(change)) if (v !== undefined) this.task[k] = v;
    this.render();
    if (FINAL.has(this.task.state)) {
      if (this.unwatch) { this.unwatch(); this.unwatch = null; }
      clearInterval(this.ticker);
      try { Object.assign(this.task, await api(`/api/task-status/${this.task.task_id}/`)); } catch { /* keep what we have */ }
      this.render();
      if (this.onFinish) this.onFinish(this.task);
    }
  }

  renderDuration() {
    const t = this.task;
    if (!t.started_at) { this.duration.textContent = "–"; return; }
    const end = t.finished_at ? Date.parse(t.finished_at) : Date.now();
    this.duration.textContent = fmtSeconds((end - Date.parse(t.started_at)) / 1000);
  }

  render() {
    const t = this.task;
    const pct = Math.max(0, Math.min(100, Number(t.state === "SUCCESS" ? 100 : t.progress) || 0));
    this.node.dataset.state = t.state || "PENDING";
    this.stateBadge.textContent = (t.state || "PENDING").toLowerCase();
    this.stateBadge.className = "badge state-" + (t.state || "PENDING").toLowerCase();
    this.bar.style.width = pct + "%";
    this.barText.textContent = pct.toFixed(pct < 100 && pct % 1 ? 1 : 0) + "%";
    this.node.querySelector(".bar").setAttribute("aria-valuenow", pct);
    this.statusText.textContent = t.status || "";
    this.eta.textContent = FINAL.has(t.state) ? "–" : fmtSeconds(t.eta_seconds);
    this.renderDuration();
    const final = FINAL.has(t.state);
    this.cancelButton.hidden = final;
    if (t.error) { this.error.hidden = false; this.error.textContent = t.error; }
  }

  destroy() {
    if (this.unwatch) this.unwatch();
    clearInterval(this.ticker);
    this.node.remove();
  }
}
