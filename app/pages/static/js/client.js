// The one module through which the pages reach the API and its sockets.
//
// Credentials: the pages rely on the login cookie (HttpOnly, set by
// /api/auth/login, or by opening a page once with ?token= on a kiosk), which
// fetch/XHR/WebSocket send to this origin. A script embedding these modules
// elsewhere may set `auth.token` to an API token instead: it is sent as
// "Authorization: Bearer …" on REST calls and as `?token=` on sockets, which
// browsers cannot give headers.

export const auth = {
  token: null,
  /** Called with the response of any REST call answered 401 (e.g. go to a login page). */
  onUnauthorized: null,
};

function headers(extra = {}) {
  const h = { ...extra };
  if (auth.token) h.Authorization = `Bearer ${auth.token}`;
  return h;
}

export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `HTTP ${status}`);
    this.status = status;
    this.code = err.code || "http_error";
    this.fields = err.fields || null;
  }
}

/** JSON REST call; resolves to the parsed body, rejects with ApiError. */
export async function api(path, { method = "GET", body, signal } = {}) {
  const init = { method, signal, credentials: "same-origin", headers: headers({ Accept: "application/json" }) };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (res.status === 401 && auth.onUnauthorized) auth.onUnauthorized(res);
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** Multipart upload with progress (XHR: fetch has no upload progress). */
export function upload(path, field, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.withCredentials = true;
    for (const [k, v] of Object.entries(headers())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { data = null; }
      if (xhr.status === 401 && auth.onUnauthorized) auth.onUnauthorized(xhr);
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data));
    };
    xhr.onerror = () => reject(new ApiError(0, { error: { code: "network", message: "Upload failed: network error" } }));
    const form = new FormData();
    form.append(field, file, file.name);
    xhr.send(form);
  });
}

/** ws:// or wss:// URL of a socket path on this origin (with the token, once there is one). */
export function socketUrl(path) {
  const url = new URL(path, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  if (auth.token) url.searchParams.set("token", auth.token);
  return url.toString();
}

/**
 * A socket that reconnects with back-off. `onMessage(obj)` gets parsed JSON;
 * `onOpen()` runs on every (re)connection, so callers resubscribe there;
 * `onStatus(text)` reports "connected" / "reconnecting…".
 */
export class LiveSocket {
  constructor(path, { onMessage, onOpen, onStatus } = {}) {
    this.path = path;
    this.onMessage = onMessage || (() => {});
    this.onOpen = onOpen || (() => {});
    this.onStatus = onStatus || (() => {});
    this.queue = [];
    this.delay = 500;
    this.closed = false;
    this.connect();
  }

  connect() {
    const ws = new WebSocket(socketUrl(this.path));
    this.ws = ws;
    ws.onopen = () => {
      this.delay = 500;
      this.onStatus("connected");
      this.onOpen();
      for (const m of this.queue.splice(0)) ws.send(m);
    };
    ws.onmessage = (e) => {
      let data;
      try { data = JSON.parse(e.data); } catch { return; }
      this.onMessage(data);
    };
    ws.onclose = (e) => {
      if (this.closed) return;
      // 44xx: the server refused the socket and said why (app/auth.py); retrying the same way would not help.
      if (e.code === 4401 && auth.onUnauthorized) { this.closed = true; auth.onUnauthorized(e); return; }
      if (e.code === 4401 || e.code === 4403) { this.closed = true; this.onStatus(`refused: ${e.reason}`); return; }
      if (e.code === 4429) this.delay = Math.max(this.delay, 10000);
      this.onStatus(e.reason ? `reconnecting… (${e.reason})` : "reconnecting…");
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 10000);
    };
  }

  get open() { return this.ws && this.ws.readyState === WebSocket.OPEN; }

  /** Send an object now, or when the socket is open. */
  send(obj) {
    const text = JSON.stringify(obj);
    if (this.open) this.ws.send(text);
    else this.queue.push(text);
  }

  /** Send only if open right now (for frames: never queue stale ones). */
  sendNow(obj) {
    if (!this.open) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }

  close() {
    this.closed = true;
    if (this.ws) this.ws.close();
  }
}

// ---- formatting shared by the pages ----

export function fmtSeconds(s) {
  if (s === null || s === undefined || !isFinite(s)) return "–";
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (h) return `${h}h ${String(m).padStart(2, "0")}m`;
  if (m) return `${m}m ${String(sec).padStart(2, "0")}s`;
  return `${sec}s`;
}

export function fmtClock(ms) {
  if (ms === null || ms === undefined || !isFinite(ms)) return "0:00";
  const t = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, "0")}`;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}
