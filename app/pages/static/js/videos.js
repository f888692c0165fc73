// Videos page: upload with progress, draw mask regions on a frame grabbed in
// the browser, pick frame ranges with a scrubber, run jobs and watch them,
// then play the result beside its original.
import { api, el, upload } from "./client.js";
import { TaskCard, TaskWatcher } from "./taskwatch.js";

const $ = (id) => document.getElementById(id);
const conn = $("conn");
const watcher = new TaskWatcher({ onStatus: (s) => { conn.textContent = s; conn.dataset.state = s; } });
const canvas = $("frame");
const ctx = canvas.getContext("2d");
const source = $("source");
const scrubber = $("scrubber");

const state = {
  videos: [],
  video: null,         // the selected video record
  tool: "rect",
  regions: [],         // {shape: "rect", x, y, width, height} | {shape: "polygon", points}
  drag: null,          // rectangle being dragged
  polygon: [],         // polygon being clicked
  ranges: [],          // [start, end] inclusive
  rangeStart: null,
  frame: 0,
};

// ---- video list and upload ----

async function loadVideos(selectId) {
  state.videos = (await api("/api/videos/")).items;
  const list = $("video-list");
  list.replaceChildren(...state.videos.map((v) => el("button", {
    type: "button", "data-video-id": v.id, "aria-pressed": String(state.video && state.video.id === v.id),
    title: `${v.width}×${v.height}, ${v.frames} frames`,
    text: `#${v.id} ${v.filename}${v.source_id ? ` (from #${v.source_id})` : ""}`,
    onclick: () => select(v.id),
  })));
  if (!state.videos.length) list.append(el("span", { class: "muted", text: "No videos yet: upload one." }));
  if (selectId) await select(selectId);
}

$("upload-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const file = e.target.file.files[0];
  if (!file) return;
  const bar = $("upload-progress");
  const status = $("upload-status");
  bar.hidden = false;
  bar.value = 0;
  status.textContent = "Uploading…";
  try {
    const video = await upload("/api/videos/", "file", file, (f) => {
      bar.value = f;
      status.textContent = `Uploading… ${Math.round(f * 100)}%`;
    });
    bar.value = 1;
    status.textContent = `Uploaded #${video.id}: ${video.frames} frames at ${video.fps.toFixed(1)} fps`;
    e.target.reset();
    await loadVideos(video.id);
  } catch (err) {
    status.textContent = `Upload failed: ${err.message}`;
  }
});

// ---- the frame ----

async function select(id) {
  const video = state.videos.find((v) => v.id === id) || await api(`/api/videos/${id}/`);
  state.video = video;
  state.regions = [];
  state.polygon = [];
  state.ranges = [];
  state.rangeStart = null;
  for (const b of $("video-list").querySelectorAll("button")) b.setAttribute("aria-pressed", String(Number(b.dataset.videoId) === id));
  delete canvas.dataset.drawn;
  canvas.width = video.width;
  canvas.height = video.height;
  scrubber.max = Math.max(0, video.frames - 1);
  scrubber.value = 0;
  $("reprocess").hidden = !(video.steps && video.steps.length);
  $("video-info").textContent = `#${video.id} · ${video.width}×${video.height} · ${video.frames} frames · ${video.fps.toFixed(2)} fps · ${video.duration.toFixed(1)} s`;
  $("editor").hidden = false;
  renderLists();
  source.src = `/api/videos/${id}/file`;
  const loaded = await new Promise((resolve) => {
    source.addEventListener("loadeddata", () => resolve(true), { once: true });
    source.addEventListener("error", () => resolve(false), { once: true });
  });
  if (!loaded) {
    $("video-info").textContent += ` · this browser cannot decode it (${video.codec}): regions can still be drawn`;
  }
  await seek(0);
}

function seek(frame) {
  state.frame = frame;
  $("frame-label").textContent = `${frame} / ${state.video.frames - 1}`;
  return new Promise((resolve) => {
    // Aim for the middle of the frame's display interval, so rounding lands on it.
    const t = (frame + 0.5) / state.video.fps;
    // data-drawn tells watchers (people's scripts, the browser tests) which frame is on the canvas.
    const done = () => { draw(); canvas.dataset.drawn = String(frame); resolve(); };
    if (source.error || source.readyState === 0) return done();
    if (Math.abs(source.currentTime - t) < 1e-3 && source.readyState >= 2) return done();
    source.addEventListener("seeked", done, { once: true });
    source.currentTime = Math.min(t, Math.max(0, source.duration - 1e-3));
  });
}

let seeking = null;
scrubber.addEventListener("input", () => {
  const want = Number(scrubber.value);
  if (seeking) { seeking.next = want; return; }
  seeking = { next: null };
  const run = (f) => seek(f).then(() => {
    const n = seeking.next;
    if (n !== null && n !== f) { seeking.next = null; return run(n); }
    seeking = null;
  });
  run(want);
});

function draw() {
  if (!state.video) return;
  if (source.readyState >= 2) ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
  else { ctx.fillStyle = "#333"; ctx.fillRect(0, 0, canvas.width, canvas.height); }
  const lw = Math.max(2, canvas.width / 300);
  ctx.lineWidth = lw;
  const shapes = [...state.regions];
  if (state.drag) shapes.push(state.drag);
  for (const r of shapes) {
    ctx.fillStyle = "rgba(255, 64, 64, 0.35)";
    ctx.strokeStyle = "#ff4040";
    ctx.beginPath();
    if (r.shape === "rect") ctx.rect(r.x, r.y, r.width, r.height);
    else r.points.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.closePath();
    ctx.fill();
    ctx.stroke();
  }
  if (state.polygon.length) {
    ctx.strokeStyle = "#ffd400";
    ctx.beginPath();
    state.polygon.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.stroke();
    ctx.fillStyle = "#ffd400";
    for (const [x, y] of state.polygon) ctx.fillRect(x - lw * 2, y - lw * 2, lw * 4, lw * 4);
  }
}

function toSource(e) {
  const box = canvas.getBoundingClientRect();
  const x = Math.round((e.clientX - box.left) * canvas.width / box.width);
  const y = Math.round((e.clientY - box.top) * canvas.height / box.height);
  return [Math.max(0, Math.min(canvas.width, x)), Math.max(0, Math.min(canvas.height, y))];
}

canvas.addEventListener("pointerdown", (e) => {
  if (!state.video) return;
  const [x, y] = toSource(e);
  if (state.tool === "rect") {
    canvas.setPointerCapture(e.pointerId);
    state.drag = { shape: "rect", x, y, width: 0, height: 0, x0: x, y0: y };
  } else {
    const first = state.polygon[0];
    const near = first && Math.hypot(first[0] - x, first[1] - y) < canvas.width / 60;
    if (near && state.polygon.length >= 3) closePolygon();
    else state.polygon.push([x, y]);
    $("close-polygon").hidden = state.polygon.length < 3;
    draw();
  }
});
canvas.addEventListener("pointermove", (e) => {
  if (!state.drag) return;
  const [x, y] = toSource(e);
  const d = state.drag;
  Object.assign(d, { x: Math.min(d.x0, x), y: Math.min(d.y0, y), width: Math.abs(x - d.x0), height: Math.abs(y - d.y0) });
  draw();
});
canvas.addEventListener("pointerup", () => {
  const d = state.drag;
  state.drag = null;
  if (d && d.width >= 2 && d.height >= 2) {
    state.regions.push({ shape: "rect", x: d.x, y: d.y, width: d.width, height: d.height });
    renderLists();
  }
  draw();
});
canvas.addEventListener("dblclick", () => closePolygon());

function closePolygon() {
  if (state.polygon.length >= 3) state.regions.push({ shape: "polygon", points: state.polygon });
  state.polygon = [];
  $("close-polygon").hidden = true;
  renderLists();
  draw();
}

for (const b of document.querySelectorAll("[data-tool]")) {
  b.addEventListener("click", () => {
    state.tool = b.dataset.tool;
    for (const o of document.querySelectorAll("[data-tool]")) o.setAttribute("aria-pressed", String(o === b));
    state.polygon = [];
    draw();
  });
}
$("close-polygon").addEventListener("click", closePolygon);
$("undo").addEventListener("click", () => { if (state.polygon.length) state.polygon.pop(); else state.regions.pop(); renderLists(); draw(); });
$("clear").addEventListener("click", () => { state.regions = []; state.polygon = []; renderLists(); draw(); });

// ---- frame ranges ----

$("mark-start").addEventListener("click", () => { state.rangeStart = state.frame; renderLists(); });
$("mark-end").addEventListener("click", () => {
  const start = state.rangeStart ?? state.frame;
  state.ranges.push([Math.min(start, state.frame), Math.max(start, state.frame)]);
  state.rangeStart = null;
  renderLists();
});

function renderLists() {
  const describe = (r) => r.shape === "rect" ? `rect ${r.x},${r.y} ${r.width}×${r.height}` : `polygon of ${r.points.length} points`;
  $("regions").replaceChildren(...state.regions.map((r, i) => el("li", {},
    el("span", { text: describe(r) }),
    el("button", { type: "button", text: "×", title: "remove", onclick: () => { state.regions.splice(i, 1); renderLists(); draw(); } }))));
  $("ranges").replaceChildren(...state.ranges.map((r, i) => el("li", {},
    el("span", { text: `frames ${r[0]}–${r[1]}` }),
    el("button", { type: "button", text: "×", title: "remove", onclick: () => { state.ranges.splice(i, 1); renderLists(); } }))));
  $("pending-range").textContent = state.rangeStart === null ? "" : `from frame ${state.rangeStart}…`;
  $("apply-mask").disabled = !state.regions.length && !$("faces").checked;
  $("remove-frames").disabled = !state.ranges.length;
}
$("faces").addEventListener("change", renderLists);

// ---- jobs ----

async function startJob(path, body, label) {
  const video = state.video;
  let accepted;
  try {
    accepted = await api(path, { method: "POST", body });
  } catch (err) {
    $("jobs").prepend(el("div", { class: "task task-error", text: `${label}: ${err.message}` }));
    return;
  }
  const card = new TaskCard({ task_id: accepted.task_id, state: "PENDING", status: accepted.message, actor: label }, watcher, {
    onFinish: (task) => {
      if (task.state === "SUCCESS" && task.result && task.result.output_video_id) {
        card.node.append(el("button", { type: "button", text: "Compare with original",
                                        onclick: () => compare(video, task.result.output_video_id) }));
        compare(video, task.result.output_video_id);
        loadVideos();
      }
    },
  });
  $("jobs").prepend(card.node);
}

$("apply-mask").addEventListener("click", () => startJob(`/api/video-apply-mask/${state.video.id}/`, {
  regions: state.regions, mode: $("mask-mode").value, faces: $("faces").checked,
}, "apply_mask"));
$("remove-frames").addEventListener("click", () => startJob(`/api/video-remove-frames/${state.video.id}/`,
  { ranges: state.ranges }, "remove_frames"));
$("analyze").addEventListener("click", () => startJob(`/api/video-analyze/${state.video.id}/`, {}, "analyze_video"));
$("reprocess").addEventListener("click", () => startJob(`/api/video-reprocess/${state.video.id}/`, undefined, "reprocess_video"));

function compare(original, resultId) {
  $("compare-panel").hidden = false;
  $("compare-original").src = `/api/videos/${original.id}/file`;
  $("compare-result").src = `/api/videos/${resultId}/file`;
  $("compare-original-label").textContent = `original #${original.id}`;
  $("compare-result-label").textContent = `result #${resultId}`;
}

$("play-both").addEventListener("click", () => {
  const a = $("compare-original"), b = $("compare-result");
  a.currentTime = 0;
  b.currentTime = 0;
  a.play();
  b.play();
});

loadVideos(Number(new URLSearchParams(location.search).get("video")) || null);
