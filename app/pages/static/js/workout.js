// Workout coach: webcam frames → /ws/workout/ at a chosen rate; exercise,
// reps, feedback, form colour and the skeleton over the video; summary on demand.
import { LiveSocket, el, fmtClock } from "./client.js";

const $ = (id) => document.getElementById(id);
const video = $("camera");
const overlay = $("overlay");
const octx = overlay.getContext("2d");
const grab = document.createElement("canvas");
const conn = $("conn");
const BONES = [[11, 12], [11, 13], [13, 15], [12, 14], [14, 16], [11, 23], [12, 24], [23, 24], [23, 25],
  [25, 27], [24, 26], [26, 28], [27, 31], [28, 32]];
const MAX_BUFFERED = 512 * 1024; // skip frames rather than queue them behind a slow link

const state = { stream: null, timer: null, sent: 0, received: 0, formColor: [120, 120, 120] };

const socket = new LiveSocket("/ws/workout/", {
  onMessage: handle,
  onStatus: (s) => { conn.textContent = s; conn.dataset.state = s; },
});

function handle(m) {
  const p = m.payload || {};
  if (m.type === "workout") {
    state.received += 1;
    $("received").textContent = state.received;
    $("exercise").textContent = p.exercise || "Detecting…";
    $("reps").textContent = p.reps ?? 0;
    $("confidence").textContent = p.confidence != null ? `${(p.confidence * 100).toFixed(0)}%` : "–";
    $("angle").textContent = p.angle != null ? `${Math.round(p.angle)}°` : "–";
    if (p.feedback) $("feedback").textContent = p.feedback;
    if (Array.isArray(p.form_color)) {
      state.formColor = p.form_color;
      $("form-indicator").style.backgroundColor = `rgb(${p.form_color.join(",")})`;
    }
    if (p.dropped_frames != null) $("dropped").textContent = p.dropped_frames;
    if (p.session_time != null) $("session-time").textContent = fmtClock(p.session_time * 1000);
    drawSkeleton(p.landmarks || p.pose || null);
  } else if (m.type === "summary") {
    showSummary(p);
  } else if (m.type === "system") {
    $("camera-status").textContent = p.message || p.status || "";
  } else if (m.type === "error") {
    $("notice").textContent = p.message || m.message || "error";
  }
}

function drawSkeleton(points) {
  overlay.width = video.videoWidth || overlay.width;
  overlay.height = video.videoHeight || overlay.height;
  octx.clearRect(0, 0, overlay.width, overlay.height);
  if (!Array.isArray(points) || points.length < 29) return;
  const [r, g, b] = state.formColor;
  octx.strokeStyle = `rgb(${r},${g},${b})`;
  octx.lineWidth = Math.max(3, overlay.width / 120);
  octx.lineCap = "round";
  const seen = (i) => points[i] && (points[i].visibility ?? 1) > 0.3;
  const at = (i) => [points[i].x * overlay.width, points[i].y * overlay.height];
  octx.beginPath();
  for (const [a, c] of BONES) {
    if (!seen(a) || !seen(c)) continue;
    octx.moveTo(...at(a));
    octx.lineTo(...at(c));
  }
  octx.stroke();
}

function showSummary(s) {
  const rows = Object.entries(s.exercise_details || {}).map(([name, d]) =>
    el("tr", {}, el("td", { text: name }), el("td", { text: d.total_reps ?? "–" }),
      el("td", { text: d.duration != null ? fmtClock(d.duration * 1000) : "–" }),
      el("td", { text: d.best_form_score ?? "–" })));
  $("summary").replaceChildren(
    el("p", { text: `${fmtClock((s.session_duration || 0) * 1000)} · ${s.total_frames ?? 0} frames · ${s.exercises_performed ?? rows.length} exercise(s)` }),
    el("table", {}, el("tr", {}, el("th", { text: "exercise" }), el("th", { text: "reps" }),
      el("th", { text: "time" }), el("th", { text: "best form" })), ...rows));
}

function sendFrame() {
  if (!video.videoWidth || !socket.open || socket.ws.bufferedAmount > MAX_BUFFERED) return;
  const width = Number($("frame-width").value);
  grab.width = Math.min(width, video.videoWidth);
  grab.height = Math.round(grab.width * video.videoHeight / video.videoWidth);
  grab.getContext("2d").drawImage(video, 0, 0, grab.width, grab.height);
  if (socket.sendNow({ type: "frame", payload: grab.toDataURL("image/jpeg", 0.8) })) {
    state.sent += 1;
    $("sent").textContent = state.sent;
  }
}

function schedule() {
  clearInterval(state.timer);
  const fps = Math.max(1, Math.min(30, Number($("fps").value) || 10));
  state.timer = setInterval(sendFrame, 1000 / fps);
}

async function startCamera() {
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  } catch (err) {
    $("camera-status").textContent = `No camera: ${err.message}`;
    return;
  }
  video.srcObject = state.stream;
  await video.play().catch(() => {});
  $("start").disabled = true;
  $("stop").disabled = false;
  $("camera-status").textContent = "Streaming";
  schedule();
}

function stopCamera() {
  clearInterval(state.timer);
  if (state.stream) for (const t of state.stream.getTracks()) t.stop();
  state.stream = null;
  $("start").disabled = false;
  $("stop").disabled = true;
  $("camera-status").textContent = "Stopped";
}

$("start").addEventListener("click", startCamera);
$("stop").addEventListener("click", stopCamera);
$("fps").addEventListener("change", () => { if (state.stream) schedule(); });
$("summary-button").addEventListener("click", () => socket.send({ type: "get_summary" }));
$("reset").addEventListener("click", () => {
  socket.send({ type: "reset" });
  $("reps").textContent = "0";
  $("summary").replaceChildren();
});
