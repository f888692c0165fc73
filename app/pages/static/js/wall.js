// Live wall: the wall's SVG holds, the route coloured by type and status, the
// climber's skeleton in wall coordinates, a timer and the session status,
// over /ws/session-live/<id>/; replay over /ws/session/<id>/.
import { LiveSocket, api, el, fmtClock } from "./client.js";

const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
const view = $("wall-view");
const sessionId = view.dataset.sessionId;
const conn = $("conn");
// MediaPipe Pose landmark pairs drawn as the skeleton.
const BONES = [[11, 12], [11, 13], [13, 15], [12, 14], [14, 16], [15, 19], [16, 20], [11, 23], [12, 24],
  [23, 24], [23, 25], [25, 27], [24, 26], [26, 28], [27, 31], [28, 32]];
const JOINTS = [0, 15, 16, 19, 20, 27, 28];

const state = { routeId: null, width: 1, height: 1, holdNodes: new Map(), climb: null, version: -1, socket: null, replay: null };

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

/** A route's hold reference to the wall's SVG id, as the server resolves it ("17" is hold_17). */
function resolveHold(ref) {
  const text = String(ref).trim();
  if (state.holdNodes.has(text)) return text;
  if (state.holdNodes.has(`hold_${text}`)) return `hold_${text}`;
  if (text.startsWith("hold_") && state.holdNodes.has(text.slice(5))) return text.slice(5);
  return null;
}

async function listSessions() {
  const list = $("session-list");
  try {
    const page = await api("/api/sessions/?per_page=50");
    list.replaceChildren(...page.items.map((s) => el("li", {},
      el("a", { href: `/wall/${s.id}`, text: `${s.id.slice(0, 8)} · ${s.status} · ${s.start_time || ""}` }), " ",
      el("a", { href: `/wall/${s.id}?replay=1`, text: "replay" }))));
    if (!page.items.length) list.append(el("li", { class: "muted", text: "No sessions yet." }));
  } catch (err) {
    list.replaceChildren(el("li", { class: "muted", text: `Sessions are not available: ${err.message}` }));
  }
}

async function loadWall(session) {
  if (!session.route) return;
  state.routeId = session.route;
  const route = await api(`/api/routes/${session.route}/`);
  $("route-name").textContent = [route.name, route.grade, route.author].filter(Boolean).join(" · ");
  const wall = await api(`/api/walls/${route.wall_id}/holds/`);
  state.width = wall.width;
  state.height = wall.height;
  $("wall").setAttribute("viewBox", `0 0 ${wall.width} ${wall.height}`);
  const holds = $("holds");
  holds.replaceChildren();
  state.holdNodes.clear();
  for (const h of wall.holds) {
    const node = svg("path", { d: h.d, class: "hold", "data-hold-id": h.id });
    node.dataset.cx = h.centroid[0];
    node.dataset.cy = h.centroid[1];
    holds.append(node);
    state.holdNodes.set(h.id, node);
  }
  if (state.climb) drawClimb(state.climb);
  else drawClimb({ holds: route.problem.holds.map((h) => ({ ...h, status: "untouched", time: null })) });
}

function drawClimb(climb) {
  state.climb = climb;
  for (const node of state.holdNodes.values()) node.setAttribute("class", "hold");
  const labels = $("labels");
  labels.replaceChildren();
  const start = climb.startTime ? Date.parse(climb.startTime) : null;
  let done = 0;
  for (const h of climb.holds || []) {
    const id = resolveHold(h.id);
    const node = id && state.holdNodes.get(id);
    if (!node) continue;
    const status = h.status === "touched" ? "touching" : (h.status || "untouched");
    node.setAttribute("class", `hold route type-${h.type || "normal"} status-${status}`);
    node.dataset.status = status;
    if (status === "completed") {
      done += 1;
      if (h.time && start !== null) {
        const size = Math.max(state.width, state.height) / 45;
        const label = svg("text", { x: node.dataset.cx, y: Number(node.dataset.cy) - size, class: "hold-time",
                                    "text-anchor": "middle", "font-size": size, "stroke-width": size / 7 });
        label.textContent = fmtClock(Date.parse(h.time) - start);
        labels.append(label);
      }
    }
  }
  $("done-count").textContent = done;
  $("hold-count").textContent = (climb.holds || []).length;
  if (climb.status) setStatus(climb.status);
  tick();
}

function setStatus(status) {
  const node = $("session-status");
  node.textContent = status;
  node.dataset.status = status;
}

function tick() {
  const climb = state.climb;
  if (!climb || !climb.startTime) return;
  const end = climb.endTime ? Date.parse(climb.endTime) : (state.replay ? state.replay.clock : Date.now());
  $("timer").textContent = fmtClock(end - Date.parse(climb.startTime));
}
setInterval(() => { if (!state.replay) tick(); }, 250);

function drawPose(pose) {
  const points = Array.isArray(pose) ? pose : (pose && (pose.landmarks || pose.pose)) || [];
  const group = $("skeleton");
  group.replaceChildren();
  if (points.length < 29) return;
  // Normalised wall coordinates ([0, 1] of the viewBox), or wall units if larger.
  const normalised = points.every((p) => Math.abs(p.x) <= 1.5 && Math.abs(p.y) <= 1.5);
  const sx = normalised ? state.width : 1, sy = normalised ? state.height : 1;
  const at = (i) => [points[i].x * sx, points[i].y * sy];
  const seen = (i) => points[i] && (points[i].visibility ?? 1) > 0.3;
  for (const [a, b] of BONES) {
    if (!seen(a) || !seen(b)) continue;
    const [x1, y1] = at(a), [x2, y2] = at(b);
    group.append(svg("line", { x1, y1, x2, y2 }));
  }
  const r = Math.max(state.width, state.height) / 120;
  for (const i of JOINTS) if (seen(i)) { const [cx, cy] = at(i); group.append(svg("circle", { cx, cy, r })); }
}

function onLive(m) {
  if (m.type === "session_updated" && m.session) {
    if (m.version !== undefined && m.version < state.version) return;
    if (m.session.status) setStatus(m.session.status);
    if (m.session.route && m.session.route !== state.routeId) { state.climb = null; loadWall(m.session); }
  } else if (m.type === "climb_updated" && m.climb) {
    if (m.version !== undefined) {
      if (m.version <= state.version) return;
      state.version = m.version;
    }
    drawClimb(m.climb);
  } else if (m.type === "pose_updated") {
    drawPose(m.pose);
  } else if (m.type === "error") {
    $("notice").textContent = m.message;
  }
}

function onReplay(m) {
  const r = state.replay;
  if (m.type === "replay_ready") {
    r.count = m.frame_count;
    $("seek").max = Math.max(0, m.frame_count - 1);
    $("replay-info").textContent = `${m.frame_count} frames · ${fmtClock((m.duration || 0) * 1000)}`;
  } else if (m.type === "replay_state") {
    r.playing = m.playing;
    $("play").textContent = m.playing ? "Pause" : "Play";
    $("seek").value = m.frame_number;
  } else if (m.type === "frame_data") {
    drawPose(m.pose_data);
    $("seek").value = m.frame_number;
    if (state.climb && state.climb.startTime) r.clock = Date.parse(state.climb.startTime) + m.timestamp * 1000;
    tick();
  } else if (m.type === "climb_updated") {
    drawClimb(m.climb);
  } else if (m.type === "replay_finished") {
    r.playing = false;
    $("play").textContent = "Play";
  } else if (m.type === "error") {
    $("notice").textContent = m.message;
  }
}

function setMode(replay) {
  if (state.socket) state.socket.close();
  $("mode-live").setAttribute("aria-pressed", String(!replay));
  $("mode-replay").setAttribute("aria-pressed", String(replay));
  $("replay-controls").hidden = !replay;
  $("notice").textContent = "";
  state.version = -1;
  state.replay = replay ? { playing: false, count: 0, clock: null } : null;
  const path = replay ? `/ws/session/${sessionId}/` : `/ws/session-live/${sessionId}/`;
  state.socket = new LiveSocket(path, {
    onMessage: replay ? onReplay : onLive,
    onStatus: (s) => { conn.textContent = s; conn.dataset.state = s; },
  });
}

async function start() {
  if (!sessionId) { listSessions(); return; }
  try {
    const session = await api(`/api/sessions/${sessionId}/`);
    if (session.climb_data && session.climb_data.climb) state.climb = session.climb_data.climb;
    setStatus(session.status);
    await loadWall(session);
  } catch (err) {
    $("notice").textContent = `Cannot load session: ${err.message}`;
  }
  setMode(new URLSearchParams(location.search).get("replay") === "1");
}

$("mode-live").addEventListener("click", () => setMode(false));
$("mode-replay").addEventListener("click", () => setMode(true));
$("play").addEventListener("click", () => state.socket.send({ type: state.replay.playing ? "pause" : "play" }));
$("speed").addEventListener("change", (e) => state.socket.send({ type: "set_speed", speed: Number(e.target.value) }));
$("seek").addEventListener("change", (e) => state.socket.send({ type: "seek", frame_number: Number(e.target.value) }));
start();
