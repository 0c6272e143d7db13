// cxrkit reading room: worklist, radiograph with window/level, zoom and heatmap overlay, findings, and the
// report editor with check flags and sign-off. Plain JavaScript, no dependencies, served by `cxr serve`.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { token: null, current: null, imageIndex: 0, viewer: null, values: null, version: 0, signed: false };

function setStatus(text, error) {
  const s = $("status");
  s.textContent = text;
  s.className = error ? "error" : "";
}

function tokenFromPage() {
  const m = /token=([^&]+)/.exec(location.hash);
  if (m) sessionStorage.setItem("cxr-token", decodeURIComponent(m[1]));
  return sessionStorage.getItem("cxr-token");
}

// Calls the API; throws an Error with the server's message on a non-2xx answer.
async function api(method, path, body, opts = {}) {
  const headers = {};
  if (state.token) headers["Authorization"] = "Bearer " + state.token;
  const signer = $("signer").value.trim();
  if (signer) headers["X-Cxr-User"] = signer;
  let payload;
  if (opts.raw) {
    payload = body;
    headers["Content-Type"] = opts.contentType;
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  const r = await fetch(path, { method, headers, body: payload });
  if (r.status === 401) {
    const t = prompt("This server needs its access token:");
    if (t) {
      sessionStorage.setItem("cxr-token", t);
      state.token = t;
      return api(method, path, body, opts);
    }
  }
  if (!r.ok) {
    let message = r.status + " " + r.statusText;
    try { message = (await r.json()).error.message; } catch (_) { /* not JSON */ }
    const e = new Error(message);
    e.status = r.status;
    throw e;
  }
  if (opts.binary) return r.arrayBuffer();
  return r.json();
}

async function loadWorklist(selectId) {
  const { studies } = await api("GET", "/api/studies");
  const ul = $("worklist");
  ul.replaceChildren();
  for (const s of studies) {
    const li = document.createElement("li");
    li.dataset.id = s.id;
    li.className = state.current && state.current.study.id === s.id ? "selected" : "";
    const st = document.createElement("span");
    st.className = "st";
    st.textContent = s.status;
    li.append(`#${s.id} ${s.label}`, st);
    li.addEventListener("click", () => selectStudy(s.id));
    ul.append(li);
  }
  if (selectId !== undefined) await selectStudy(selectId);
}

async function selectStudy(id, imageIndex) {
  setStatus(`Loading study ${id}…`);
  const detail = await api("GET", `/api/studies/${id}`);
  state.current = detail;
  const k = imageIndex !== undefined ? imageIndex : detail.run ? detail.run.image_index : 0;
  const sel = $("image-index");
  sel.replaceChildren();
  for (const im of detail.images) {
    const o = document.createElement("option");
    o.value = String(im.index);
    o.textContent = `image ${im.index + 1}/${detail.images.length}: ` +
      [im.format.toUpperCase(), im.info.view_position, `${im.width}×${im.height}`].filter(Boolean).join(" ");
    sel.append(o);
  }
  sel.value = String(k); // selected at once, not only after the pixels arrive
  for (const li of $("worklist").children) li.classList.toggle("selected", Number(li.dataset.id) === id);
  $("add-image").disabled = detail.study.status === "signed";
  await showImage(k);
  showStudy();
  setStatus(`Study ${id} loaded.`);
}

async function showImage(k) {
  const im = state.current.images[k];
  const buf = await api("GET", im.pixels_url, undefined, { binary: true });
  state.imageIndex = k;
  $("image-index").value = String(k);
  state.viewer = im.viewer;
  const dv = new DataView(buf);
  const n = state.viewer.width * state.viewer.height;
  const values = new Float32Array(n);
  const { min, max } = state.viewer;
  for (let i = 0; i < n; i++) values[i] = min + (dv.getUint16(2 * i, true) / 65535) * (max - min);
  state.values = values;
  setupWindow(true);
  updateHeatmap();
}

function setupWindow(reset) {
  const v = state.viewer;
  const span = Math.max(v.max - v.min, 1e-6);
  const wc = $("wc"), ww = $("ww");
  wc.min = v.min; wc.max = v.max; wc.step = span / 1000;
  ww.min = span / 1000; ww.max = span * 2; ww.step = span / 1000;
  if (reset) { wc.value = v.window.center; ww.value = v.window.width; }
  drawImage();
}

function drawImage() {
  const v = state.viewer;
  if (!v) return;
  const c = Number($("wc").value), w = Math.max(Number($("ww").value), 1e-9);
  const canvas = $("image");
  canvas.width = v.width; canvas.height = v.height;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(v.width, v.height);
  const lo = c - w / 2;
  for (let i = 0; i < state.values.length; i++) {
    let y = (state.values[i] - lo) / w;
    y = y < 0 ? 0 : y > 1 ? 1 : y;
    if (v.invert) y = 1 - y;
    const g = Math.round(y * 255);
    img.data[4 * i] = g; img.data[4 * i + 1] = g; img.data[4 * i + 2] = g; img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  $("wl-readout").textContent = `L ${c.toFixed(1)} W ${w.toFixed(1)}${v.invert ? " (MONOCHROME1)" : ""}`;
}

function showStudy() {
  const d = state.current;
  $("study-title").textContent = `#${d.study.id} ${d.study.label}`;
  const im = d.images[state.imageIndex] || d.image;
  const info = im.info || {};
  $("study-facts").textContent = [im.format.toUpperCase(), `${im.width}×${im.height}`, info.modality,
    info.view_position, d.images.length > 1 ? `${d.images.length} images` : null,
    d.study.sex, d.study.age_years != null ? `${d.study.age_years} y` : null].filter(Boolean).join(" · ");
  $("predict").disabled = false;
  showFindings();
  showReport(d.report);
}

function showFindings() {
  const run = state.current.run;
  const tbody = $("findings").querySelector("tbody");
  tbody.replaceChildren();
  const sel = $("heat-label");
  sel.replaceChildren();
  $("draft").disabled = !run;
  $("demo-warning").hidden = !(run && run.demonstration_only);
  if (!run) { updateHeatmap(); return; }
  run.findings.forEach((f, k) => {
    const tr = document.createElement("tr");
    tr.className = f.positive ? "positive" : "";
    for (const t of [f.label, f.probability.toFixed(3), f.threshold.toFixed(3), f.positive ? "positive" : "negative"]) {
      const td = document.createElement("td");
      td.textContent = t;
      tr.append(td);
    }
    tr.addEventListener("click", () => { sel.value = String(k); updateHeatmap(); });
    tbody.append(tr);
    if (f.heatmap_url) {
      const o = document.createElement("option");
      o.value = String(k);
      o.textContent = f.label;
      sel.append(o);
    }
  });
  const firstPositive = run.findings.findIndex((f) => f.positive && f.heatmap_url);
  if (firstPositive >= 0) sel.value = String(firstPositive);
  updateHeatmap();
}

function updateHeatmap() {
  const heat = $("heat");
  const run = state.current && state.current.run;
  const k = $("heat-label").value;
  const f = run && k !== "" ? run.findings[Number(k)] : null;
  const onThisImage = run && run.image_index === state.imageIndex;
  if (!f || !f.heatmap_url || !onThisImage || !$("heat-toggle").checked) { heat.hidden = true; return; }
  loadHeatImage(heat, f.heatmap_url).then(() => { heat.hidden = false; })
    .catch((e) => setStatus("Heatmap: " + e.message, true));
}

// Heatmaps need the token too, so they are fetched and shown from a blob.
async function loadHeatImage(img, url) {
  const buf = await api("GET", url, undefined, { binary: true });
  if (img.dataset.url === url) return;
  if (img.src) URL.revokeObjectURL(img.src);
  img.src = URL.createObjectURL(new Blob([buf], { type: "image/png" }));
  img.dataset.url = url;
}

function showReport(report) {
  const text = $("report-text");
  state.version = report ? report.version : 0;
  state.signed = !!report && report.status === "final";
  text.value = report ? report.text : "";
  text.disabled = state.signed;
  $("save").disabled = state.signed;
  $("draft").disabled = state.signed || !(state.current && state.current.run);
  $("sign").disabled = state.signed || !report;
  $("report-version").textContent = report ? `(version ${report.version}, ${report.status})` : "(none yet)";
  $("report-status").textContent = state.signed
    ? `Signed by ${report.author} at ${report.created_at} (version ${report.version}).` : "";
  showFlags(report ? report.text : "", report ? report.flags : []);
}

function showFlags(text, flags) {
  const box = $("flagged-text");
  box.replaceChildren();
  const spans = flags.filter((f) => f.span_utf16).map((f) => ({ a: f.span_utf16[0], b: f.span_utf16[1], f }))
    .sort((x, y) => x.a - y.a);
  let at = 0;
  for (const s of spans) {
    if (s.a < at) continue; // overlapping flags: the first one is marked
    box.append(text.slice(at, s.a));
    const m = document.createElement("mark");
    m.className = s.f.severity;
    m.title = `${s.f.kind}: ${s.f.why}`;
    m.textContent = text.slice(s.a, s.b);
    box.append(m);
    at = s.b;
  }
  box.append(text.slice(at));
  const ul = $("flags");
  ul.replaceChildren();
  for (const f of flags) {
    const li = document.createElement("li");
    li.className = f.severity;
    li.textContent = `${f.severity} · ${f.kind}${f.finding ? " · " + f.finding : ""}: ${f.why}`;
    ul.append(li);
  }
  if (!flags.length && text) {
    const li = document.createElement("li");
    li.textContent = "No check flags.";
    ul.append(li);
  }
}

function fileType(file) {
  return ["image/png", "image/jpeg", "application/dicom"].includes(file.type) ? file.type : "application/octet-stream";
}

async function run(action, what) {
  try {
    setStatus(what + "…");
    await action();
    setStatus(what + ": done.");
  } catch (e) {
    setStatus(what + " failed: " + e.message, true);
  }
}

function bind() {
  $("upload-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    run(async () => {
      const file = $("file").files[0];
      if (!file) throw new Error("choose a file first");
      const label = $("study-label").value.trim() || file.name.replace(/\.[^.]*$/, "");
      const q = new URLSearchParams({ label });
      if ($("sex").value) q.set("sex", $("sex").value);
      if ($("age").value) q.set("age", $("age").value);
      const d = await api("POST", "/api/studies?" + q, file, { raw: true, contentType: fileType(file) });
      $("file").value = "";
      $("study-label").value = "";
      await loadWorklist(d.study.id);
    }, "Upload");
  });
  $("add-image").addEventListener("click", () => run(async () => {
    const file = $("file").files[0];
    if (!file) throw new Error("choose a file first");
    const id = state.current.study.id;
    const d = await api("POST", `/api/studies/${id}/images`, file, { raw: true, contentType: fileType(file) });
    $("file").value = "";
    await selectStudy(id, d.images.length - 1);
  }, "Add image"));
  $("image-index").addEventListener("change", () => run(async () => {
    await showImage(Number($("image-index").value));
    showStudy();
  }, "Image"));
  $("predict").addEventListener("click", () => run(async () => {
    state.current = await api("POST", `/api/studies/${state.current.study.id}/predict`,
      { explain: "occlusion", image: state.imageIndex });
    showFindings();
    await loadWorklist();
  }, "Model run"));
  $("draft").addEventListener("click", () => run(async () => {
    const { report } = await api("POST", `/api/studies/${state.current.study.id}/draft`, { base_version: state.version });
    showReport(report);
    await loadWorklist();
  }, "Draft"));
  $("save").addEventListener("click", () => run(async () => {
    const { report } = await api("PUT", `/api/studies/${state.current.study.id}/report`,
      { text: $("report-text").value, base_version: state.version });
    showReport(report);
  }, "Save"));
  $("sign").addEventListener("click", () => run(async () => {
    const author = $("signer").value.trim();
    if (!author) throw new Error("type your name to sign");
    const { report } = await api("POST", `/api/studies/${state.current.study.id}/sign`,
      { text: $("report-text").value, base_version: state.version, author });
    showReport(report);
    await loadWorklist();
  }, "Sign"));
  $("report-text").addEventListener("input", () => { $("sign").disabled = state.signed; });
  $("wc").addEventListener("input", drawImage);
  $("ww").addEventListener("input", drawImage);
  $("wl-reset").addEventListener("click", () => state.viewer && setupWindow(true));
  $("zoom").addEventListener("input", () => { $("zoomer").style.transform = `scale(${$("zoom").value})`; });
  $("heat-toggle").addEventListener("change", updateHeatmap);
  $("heat-label").addEventListener("change", updateHeatmap);
  // Drag on the image for window/level, as on a PACS: horizontal = width, vertical = level.
  let drag = null;
  $("image").addEventListener("mousedown", (e) => { drag = { x: e.clientX, y: e.clientY, c: +$("wc").value, w: +$("ww").value }; });
  window.addEventListener("mouseup", () => { drag = null; });
  window.addEventListener("mousemove", (e) => {
    if (!drag || !state.viewer) return;
    const span = state.viewer.max - state.viewer.min;
    $("ww").value = drag.w + ((e.clientX - drag.x) / 300) * span;
    $("wc").value = drag.c + ((e.clientY - drag.y) / 300) * span;
    drawImage();
  });
}

async function main() {
  state.token = tokenFromPage();
  bind();
  try {
    const h = await api("GET", "/api/health");
    $("model-name").textContent = `model: ${h.model.name}`;
    $("demo-warning").hidden = !h.model.demonstration_only;
    const m = /study=(\d+)/.exec(location.hash);
    await loadWorklist(m ? Number(m[1]) : undefined);
    if (!m) setStatus("Ready.");
  } catch (e) {
    setStatus("Cannot reach the server: " + e.message, true);
  }
}

main();
