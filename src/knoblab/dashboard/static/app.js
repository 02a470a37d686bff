// knoblab dashboard: small vanilla JS over the JSON API. Every string from storage reaches the page through
// textContent (never innerHTML), and through pt() before plotly, which reads a few HTML tags in its labels.
"use strict";

const CFG = { read_only: true, poll_interval: 1, rounds_supported: false };
const STATES = ["QUEUED", "RUNNING", "COMPLETE", "PRUNED", "FAILED"];
const $ = (sel, root = document) => root.querySelector(sel);

// ---- building blocks ----
function h(tag, props, ...kids) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "value") node.value = v;
    else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (typeof v !== "string" && k in node) node[k] = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    node.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return node;
}

async function api(path, opts = {}) {
  const res = await fetch(path, { credentials: "same-origin", ...opts });
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (!res.ok) {
    const d = body && body.detail;
    throw new Error(typeof d === "string" ? d : d ? JSON.stringify(d) : `HTTP ${res.status}`);
  }
  return body;
}

function post(path, body) {
  return api(path, {
    method: "POST",
    headers: { "content-type": "application/json", "x-knoblab": "1" },
    body: JSON.stringify(body || {}),
  });
}

// plotly reads <b>, <br>, <a> and entities in its text: escape so a value shows as written
function pt(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function fmt(v) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") {
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : String(Number(v.toPrecision(5)));
  }
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function fmtDur(s) {
  if (s === null || s === undefined) return "–";
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return `${hr} h ${m % 60} min`;
  return `${Math.floor(hr / 24)} d ${hr % 24} h`;
}

function fmtTime(iso) {
  return iso ? new Date(iso).toLocaleString() : "–";
}

function badge(stateName) {
  return h("span", { class: `badge ${stateName}`, text: stateName.toLowerCase() });
}

function stat(k, v) {
  return h("div", { class: "stat" }, h("div", { class: "k", text: k }), h("div", { class: "v" }, v));
}

function setCrumbs(items) {
  const nav = $("#crumbs");
  nav.replaceChildren();
  items.forEach((it, i) => {
    if (i) nav.append(h("span", { class: "sep", text: "/" }));
    nav.append(it.href ? h("a", { href: it.href, text: it.text }) : h("span", { text: it.text }));
  });
}

function setLive(ok, why) {
  const el = $("#live");
  el.className = ok ? "live on" : "live off";
  el.textContent = ok ? "live" : "offline";
  el.title = ok ? "polls the storage for changes" : why || "";
}

// runs fn now and then every poll interval, never two at once
function every(fn, seconds) {
  const tick = async () => {
    try {
      await fn();
      setLive(true);
    } catch (e) {
      setLive(false, e.message);
    }
    setTimeout(tick, (seconds || CFG.poll_interval) * 1000);
  };
  return tick();
}

// calls the async fn at most once per gap() ms, never two at once; calls asked for meanwhile fold into one
function throttle(fn, gap) {
  let last = 0, pending = false, running = false;
  const run = async () => {
    running = true;
    pending = false;
    last = Date.now();
    try { await fn(); } finally { running = false; }
    if (pending) schedule();
  };
  const schedule = () => {
    pending = true;
    if (running) return;
    if (schedule.timer) return;
    schedule.timer = setTimeout(() => { schedule.timer = null; run(); }, Math.max(0, last + gap() - Date.now()));
  };
  return schedule;
}

// performance marks of the first drawing of each part (bench/dashboard_scale.py reads them)
function mark(name) {
  if (!performance.getEntriesByName(`knoblab:${name}`).length) performance.mark(`knoblab:${name}`);
}

// plotly.js (4.8 MB, from the plotly package): only the trial and compare pages load it, after their first content
let plotlyLoading = null;
function loadPlotly() {
  if (window.Plotly) return Promise.resolve();
  if (!plotlyLoading) {
    plotlyLoading = new Promise((resolve, reject) => {
      const script = h("script", { src: "/static/vendor/plotly.min.js" });
      script.addEventListener("load", resolve);
      script.addEventListener("error", () => reject(new Error("could not load plotly.js from the dashboard")));
      document.head.append(script);
    });
  }
  return plotlyLoading;
}

// lets the browser paint what is already there before the next heavy step
function nextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

const PLOT_CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };

function baseLayout(extra) {
  const layout = Object.assign(
    { margin: { l: 56, r: 16, t: 30, b: 42 }, font: { size: 11 }, paper_bgcolor: "#fff", plot_bgcolor: "#fff",
      legend: { orientation: "h", y: 1.12 }, hovermode: "closest" },
    extra || {},
  );
  layout.xaxis = Object.assign({ zeroline: false }, layout.xaxis);
  layout.yaxis = Object.assign({ zeroline: false }, layout.yaxis);
  return layout;
}

function message(box, text, ok) {
  box.className = ok ? "msg ok" : "msg error";
  box.textContent = text;
}

// ---- the experiments list ----
async function pageExperiments() {
  document.title = "knoblab · experiments";
  setCrumbs([{ text: "Experiments" }]);
  const tbody = h("tbody");
  const empty = h("p", { class: "muted" });
  $("#main").replaceChildren(
    h("h1", { text: "Experiments" }),
    h("p", { class: "muted small", text: `storage ${CFG.storage}` }),
    h("div", { class: "card" },
      h("div", { class: "scroll" },
        h("table", { id: "experiments" },
          h("thead", {}, h("tr", {},
            ["Name", "Objective", "Rounds", "Trials", "By state", "Best", "Time running", "Last activity"].map(
              (t) => h("th", { text: t })))),
          tbody)),
      empty),
  );
  await every(async () => {
    const { experiments } = await api("/api/experiments");
    empty.textContent = experiments.length ? "" : "No experiments in this storage yet.";
    tbody.replaceChildren(...experiments.map((e) => h("tr", { "data-name": e.name },
      h("td", {}, h("a", { href: `/experiments/${e.id}`, text: e.name })),
      h("td", { text: `${e.direction} ${e.metric}` }),
      h("td", { class: "num", text: e.rounds }),
      h("td", { class: "num", text: e.n_trials }),
      h("td", {}, STATES.filter((s) => e.counts[s]).map((s) =>
        h("span", { class: `badge ${s}`, title: s, text: `${e.counts[s]} ${s.toLowerCase()}` }))),
      h("td", { class: "num", text: fmt(e.best) }),
      h("td", {}, fmtDur(e.elapsed), e.running ? h("span", { class: "muted small", text: " (running)" }) : null),
      h("td", { text: fmtTime(e.last_activity) }),
    )));
  });
}

// ---- parallel coordinates on a 2D canvas: fast for a thousand lines with or without a GPU ----
const VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"];

function viridis(t) {
  return VIRIDIS[Math.max(0, Math.min(VIRIDIS.length - 1, Math.round(t * (VIRIDIS.length - 1))))];
}

// dims: [{label, values, range: [lo, hi], ticks?: [[value, text]], format?}]; lines colored by `color`,
// brightest for the best (lowest when minIsBetter) and drawn last, so the best lie on top
function parcoords(holder, dims, color, minIsBetter) {
  let canvas = holder.querySelector("canvas.parcoords");
  if (!canvas) {
    canvas = h("canvas", { class: "parcoords" });
    holder.replaceChildren(canvas);
    window.addEventListener("resize", () => holder._redraw && holder._redraw());
  }
  holder._redraw = () => parcoords(holder, dims, color, minIsBetter);
  const dpr = window.devicePixelRatio || 1;
  const W = holder.clientWidth || 600, H = holder.clientHeight || 340;
  canvas.width = W * dpr; canvas.height = H * dpr;
  canvas.style.width = `${W}px`; canvas.style.height = `${H}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  const top = 36, bottom = H - 22, left = 56, right = W - 76;
  const xs = dims.map((_, i) => (dims.length === 1 ? (left + right) / 2 : left + ((right - left) * i) / (dims.length - 1)));
  const y = (d, v) => {
    const [lo, hi] = d.range;
    const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
    return bottom - Math.max(0, Math.min(1, t)) * (bottom - top);
  };
  const cmin = Math.min(...color), cmax = Math.max(...color);
  const shade = (v) => {
    const t = cmax > cmin ? (v - cmin) / (cmax - cmin) : 0.5;
    return minIsBetter ? 1 - t : t;
  };
  const order = color.map((_, i) => i).sort((a, b) => shade(color[a]) - shade(color[b]));
  ctx.lineWidth = 1;
  ctx.globalAlpha = color.length > 300 ? 0.35 : 0.75;
  for (const i of order) {
    ctx.strokeStyle = viridis(shade(color[i]));
    ctx.beginPath();
    dims.forEach((d, j) => (j ? ctx.lineTo(xs[j], y(d, d.values[i])) : ctx.moveTo(xs[j], y(d, d.values[i]))));
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
  ctx.font = "11px system-ui, sans-serif";
  ctx.textBaseline = "middle";
  dims.forEach((d, j) => {
    const x = xs[j];
    ctx.strokeStyle = "#444";
    ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, bottom); ctx.stroke();
    ctx.fillStyle = "#1d2330";
    ctx.textAlign = "center";
    ctx.fillText(d.label.length > 22 ? `${d.label.slice(0, 21)}…` : d.label, x, top - 24);
    const ticks = d.ticks || [d.range[0], (d.range[0] + d.range[1]) / 2, d.range[1]].map((v) => [v, d.format(v)]);
    const every = Math.max(1, Math.ceil(ticks.length / 12));
    ctx.textAlign = "right";
    ticks.forEach(([v, text], k) => {
      if (k % every) return;
      const label = String(text).length > 18 ? `${String(text).slice(0, 17)}…` : String(text);
      const ty = y(d, v);
      ctx.fillStyle = "rgba(255,255,255,0.85)";
      const w = ctx.measureText(label).width;
      ctx.fillRect(x - 6 - w - 2, ty - 7, w + 4, 14);
      ctx.fillStyle = "#1d2330";
      ctx.fillText(label, x - 6, ty);
      ctx.beginPath(); ctx.moveTo(x - 3, ty); ctx.lineTo(x, ty); ctx.stroke();
    });
  });
  // the color scale: brightest is best
  const bx = W - 40, grad = ctx.createLinearGradient(0, bottom, 0, top);
  VIRIDIS.forEach((c, i) => grad.addColorStop(i / (VIRIDIS.length - 1), c));
  ctx.fillStyle = grad;
  ctx.fillRect(bx, top, 14, bottom - top);
  ctx.fillStyle = "#1d2330";
  ctx.textAlign = "center";
  ctx.fillText("best", bx + 7, top - 10);
  ctx.fillText("worst", bx + 7, bottom + 12);
}

// ---- scatter plots on a 2D canvas: thousands of points drawn in milliseconds, with or without a GPU ----
// scatterPanels(holder, panels, opts) draws a grid of panels on one canvas (opts.columns wide) and keeps
// hover, click, box zoom and resize working across redraws: the listeners are bound once per holder.
//   panel: {key, title?, legend?, empty?, x: axis, y: axis, series: [...]}
//   axis: {type: "linear" | "log" | "category", title?, integer?, categories?: [label] (x index i is categories[i]),
//          jitter?: share of a category's width that its points spread over (default 0.5)}
//   series: {name, color, xs, ys, kind?: "markers" | "step", radius?, alpha?, ids?, ns?, tip?: (i) => text,
//            legend?: false}; step lines (width?) are drawn over every marker series
//   opts: {columns?: 1 (at most), minPanelWidth?: fewer columns below it, panelHeight?: sets the holder's height
//          to rows x this, leftTitles?: y titles on the first column only, onClick?: (id) => void}
// What is drawn is on holder.plotState: per panel its title, the axes' ranges and tick labels, its plot rectangle
// and (getter) the drawn points with their canvas coordinates.
const SP = { font: "11px system-ui, sans-serif", bold: "600 12px system-ui, sans-serif", text: "#1d2330",
  muted: "#6b7280", grid: "#edf0f4", frame: "#cfd5df", hitPx: 4, dragPx: 4, thinPx: 10 };

function niceStep(span, maxTicks) {
  const raw = span / Math.max(1, maxTicks);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

// a tick label with as many decimals as the step between ticks needs
function tickText(v, step) {
  if (v === 0) return "0";
  const a = Math.abs(v), stepExp = Math.floor(Math.log10(step) + 1e-9);
  if (a >= 1e5 || a < 1e-4) {
    const digits = Math.max(0, Math.min(6, Math.floor(Math.log10(a) + 1e-9) - stepExp));
    return v.toExponential(digits).replace(/\.?0+e/, "e").replace("e+", "e");
  }
  return v.toFixed(Math.max(0, Math.min(12, -stepExp)));
}

function linearTicks(lo, hi, maxTicks, integer) {
  let step = niceStep(hi - lo, maxTicks);
  if (integer) step = Math.max(1, Math.round(step));
  const out = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) {
    const v = Number((k * step).toPrecision(12));
    out.push({ t: v, text: tickText(v, step) });
  }
  return out;
}

function logText(v) {
  return v >= 1e-4 && v < 1e5 ? String(v) : v.toExponential().replace("e+", "e");
}

// ticks of a log axis (lo and hi are log10 of the range's ends): the densest of 1-9, 1-2-5, 1-3 and 1 per decade,
// then every 2nd, 3rd... decade, whose ticks stay at least ~ a label apart; under a decade, plain ticks
function logTicks(lo, hi, maxTicks) {
  const minGap = (0.7 * (hi - lo)) / maxTicks;
  const first = Math.ceil(lo - 1e-9);
  const make = (mults, every) => {
    const out = [];
    for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) {
      if (((k - first) % every + every) % every) continue;
      for (const m of mults) {
        const t = k + Math.log10(m);
        if (t >= lo - 1e-9 && t <= hi + 1e-9) out.push({ t, text: logText(Number((m * 10 ** k).toPrecision(12))) });
      }
    }
    return out;
  };
  const spaced = (ticks) => ticks.length <= maxTicks && ticks.every((x, i) => !i || x.t - ticks[i - 1].t >= minGap);
  let ticks = null;
  for (const mults of [[1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 5], [1, 3], [1]]) {
    const t = make(mults, 1);
    if (spaced(t)) { ticks = t; break; }
  }
  for (let every = 2; !ticks; every++) {
    const t = make([1], every);
    if (spaced(t) || t.length <= 2) ticks = t;
  }
  if (ticks.length >= 2) return ticks;
  return linearTicks(10 ** lo, 10 ** hi, maxTicks).filter((x) => x.t > 0).map((x) => ({ t: Math.log10(x.t), text: x.text }));
}

// where a value sits on an axis: log10 for log axes, the index (as given) for category axes
function axisT(axis, v) {
  if (axis.type === "log") return v > 0 ? Math.log10(v) : NaN;
  return typeof v === "number" ? v : NaN;
}

// a small integer hash: the same trial gets the same jitter at every redraw
function jitterOf(id) {
  let x = Math.imul((id | 0) ^ 0x5bd1e995, 0x27d4eb2d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x165667b1);
  x ^= x >>> 13;
  return (x >>> 0) / 4294967296 - 0.5;
}

// the range shown when not zoomed: the data's, padded 5%, or the categories
function autoRange(axis, ts) {
  if (axis.type === "category") return [-0.5, Math.max(1, (axis.categories || []).length) - 0.5];
  let lo = Infinity, hi = -Infinity;
  for (const t of ts) {
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  if (lo > hi) return [0, 1]; // no data: 0 to 1, or 1 to 10 on a log axis
  if (lo === hi) {
    const d = axis.type === "log" ? 0.5 : Math.abs(lo) * 0.1 || 1;
    return [lo - d, hi + d];
  }
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

function axisTicks(axis, lo, hi, lengthPx, spacingPx) {
  const maxTicks = Math.max(2, Math.floor(lengthPx / spacingPx));
  if (axis.type === "category") {
    const cats = axis.categories || [];
    const shown = [];
    for (let i = Math.max(0, Math.ceil(lo)); i <= Math.min(cats.length - 1, Math.floor(hi)); i++) shown.push(i);
    const every = Math.max(1, Math.ceil(shown.length / Math.max(2, Math.floor(lengthPx / 28))));
    return shown.filter((_, j) => j % every === 0).map((i) => ({ t: i, text: String(cats[i]) }));
  }
  if (axis.type === "log") return logTicks(lo, hi, maxTicks);
  return linearTicks(lo, hi, maxTicks, axis.integer);
}

// markers are blended into a pixel buffer and drawn with one putImageData per panel: without a GPU, one
// drawImage or arc per point costs 5-10 µs, 60,000 of them a third of a second; this takes a few milliseconds
function discOf(cache, r) { // an antialiased disc of radius r device pixels: coverage per pixel of its square
  let d = cache.get(r);
  if (!d) {
    const half = Math.ceil(r + 0.5), size = 2 * half + 1, cover = new Float32Array(size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        cover[y * size + x] = Math.max(0, Math.min(1, r + 0.5 - Math.hypot(x - half, y - half)));
      }
    }
    d = { half, size, cover };
    cache.set(r, d);
  }
  return d;
}

function rgbOf(color) { // any CSS color as [r, g, b] in 0..1, read back from a canvas
  const g = document.createElement("canvas").getContext("2d");
  g.fillStyle = color;
  const hex = /^#([0-9a-f]{6})$/i.exec(g.fillStyle), rgba = /^rgba?\((\d+), (\d+), (\d+)/.exec(g.fillStyle);
  if (rgba) return rgba.slice(1, 4).map((c) => Number(c) / 255); // a translucent color: its alpha is ignored
  const n = hex ? parseInt(hex[1], 16) : 0;
  return [(n >> 16 & 255) / 255, (n >> 8 & 255) / 255, (n & 255) / 255];
}

// premultiplied RGBA floats, w x h device pixels; splat() blends a disc "over" what is there
function pixelLayer(w, h) {
  return { w, h, px: new Float32Array(w * h * 4) };
}

function splat(layer, x, y, disc, rgb, alpha) {
  const { w, h, px } = layer, { half, size, cover } = disc;
  const x0 = Math.round(x) - half, y0 = Math.round(y) - half;
  for (let dy = 0; dy < size; dy++) {
    const yy = y0 + dy;
    if (yy < 0 || yy >= h) continue;
    for (let dx = 0; dx < size; dx++) {
      const xx = x0 + dx, c = cover[dy * size + dx];
      if (xx < 0 || xx >= w || c === 0) continue;
      const a = alpha * c, k = 1 - a, i = (yy * w + xx) * 4;
      px[i] = rgb[0] * a + px[i] * k;
      px[i + 1] = rgb[1] * a + px[i + 1] * k;
      px[i + 2] = rgb[2] * a + px[i + 2] * k;
      px[i + 3] = a + px[i + 3] * k;
    }
  }
}

function layerImage(layer) {
  const img = new ImageData(layer.w, layer.h), out = img.data, px = layer.px;
  for (let i = 0; i < px.length; i += 4) {
    const a = px[i + 3];
    if (a === 0) continue;
    out[i] = (255 * px[i]) / a; out[i + 1] = (255 * px[i + 1]) / a; out[i + 2] = (255 * px[i + 2]) / a;
    out[i + 3] = 255 * a;
  }
  return img;
}

function fitText(ctx, text, maxW) {
  if (ctx.measureText(text).width <= maxW) return text;
  let s = text;
  while (s.length > 1 && ctx.measureText(`${s}…`).width > maxW) s = s.slice(0, -1);
  return `${s}…`;
}

function scatterPanels(holder, panels, opts = {}) {
  if (!holder._sp) holder._sp = scatterInit(holder);
  Object.assign(holder._sp, { panels, opts });
  scatterDraw(holder);
}

function scatterInit(holder) {
  const canvas = h("canvas", { class: "sp-main" });
  const overlay = h("canvas", { class: "sp-overlay" });
  const tip = h("div", { class: "sp-tip", hidden: true });
  holder.classList.add("scatter");
  holder.replaceChildren(canvas, overlay, tip);
  const sp = { canvas, overlay, tip, scratch: document.createElement("canvas"), zoom: new Map(), discs: new Map(),
    laid: [], hover: null, drag: null, mouse: null, clickTimer: null, w: 0, h: 0, dpr: 0 };
  const local = (ev) => {
    const r = overlay.getBoundingClientRect();
    return { x: ev.clientX - r.left, y: ev.clientY - r.top };
  };
  overlay.addEventListener("pointermove", (ev) => {
    sp.mouse = local(ev);
    if (sp.drag) {
      const L = sp.laid[sp.drag.panel];
      sp.drag.x1 = Math.max(L.left, Math.min(L.right, sp.mouse.x));
      sp.drag.y1 = Math.max(L.top, Math.min(L.bottom, sp.mouse.y));
      scatterOverlay(holder);
    } else {
      scatterHover(holder, scatterHit(sp, sp.mouse.x, sp.mouse.y));
    }
    scatterCursor(sp);
  });
  overlay.addEventListener("pointerleave", () => {
    sp.mouse = null;
    if (!sp.drag) scatterHover(holder, null);
  });
  overlay.addEventListener("pointerdown", (ev) => {
    if (ev.button !== 0) return;
    const { x, y } = local(ev);
    const panel = sp.laid.findIndex((L) => x >= L.left && x <= L.right && y >= L.top && y <= L.bottom);
    if (panel < 0) return;
    ev.preventDefault();
    overlay.setPointerCapture(ev.pointerId);
    sp.drag = { panel, x0: x, y0: y, x1: x, y1: y };
  });
  const end = (ev, cancelled) => {
    const d = sp.drag;
    if (!d) return;
    sp.drag = null;
    if (overlay.hasPointerCapture(ev.pointerId)) overlay.releasePointerCapture(ev.pointerId);
    const dx = Math.abs(d.x1 - d.x0), dy = Math.abs(d.y1 - d.y0);
    if (cancelled) { scatterOverlay(holder); return; }
    if (dx < SP.dragPx && dy < SP.dragPx) { // a click: open the point under it
      const hit = scatterHit(sp, d.x0, d.y0);
      const s = hit && sp.panels[hit.panel].series[hit.series];
      scatterOverlay(holder);
      clearTimeout(sp.clickTimer);
      if (s && s.ids && sp.opts.onClick) { // after a moment: not when this is the first click of a double-click
        const pick = s.ids[hit.index];
        sp.clickTimer = setTimeout(() => sp.opts.onClick(pick), 250);
      }
      return;
    }
    const L = sp.laid[d.panel];
    const z = Object.assign({}, sp.zoom.get(L.key));
    if (dx >= SP.thinPx || dy < SP.thinPx) z.x = [L.xAt(Math.min(d.x0, d.x1)), L.xAt(Math.max(d.x0, d.x1))];
    if (dy >= SP.thinPx || dx < SP.thinPx) z.y = [L.yAt(Math.max(d.y0, d.y1)), L.yAt(Math.min(d.y0, d.y1))];
    sp.zoom.set(L.key, z);
    scatterDraw(holder);
  };
  overlay.addEventListener("pointerup", (ev) => end(ev, false));
  overlay.addEventListener("pointercancel", (ev) => end(ev, true));
  overlay.addEventListener("dblclick", (ev) => { // resets the zoom, even over a point
    clearTimeout(sp.clickTimer);
    const { x, y } = local(ev);
    const L = sp.laid.find((P) => x >= P.left && x <= P.right && y >= P.top && y <= P.bottom);
    if (L && sp.zoom.delete(L.key)) scatterDraw(holder);
  });
  // redraw when the holder changes size (window resized, grid reflowed); skipped when nothing changed
  let queued = false;
  const onResize = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      if (holder.clientWidth !== sp.w || holder.clientHeight !== sp.h || (window.devicePixelRatio || 1) !== sp.dpr) {
        scatterDraw(holder);
      }
    });
  };
  if (window.ResizeObserver) new ResizeObserver(onResize).observe(holder);
  else window.addEventListener("resize", onResize);
  return sp;
}

function scatterDraw(holder) {
  const sp = holder._sp, { canvas, overlay, panels, opts } = sp;
  const dpr = window.devicePixelRatio || 1;
  const W = holder.clientWidth || 600;
  const fit = opts.minPanelWidth ? Math.max(1, Math.floor(W / opts.minPanelWidth)) : Infinity;
  const cols = Math.max(1, Math.min(opts.columns || 1, panels.length || 1, fit));
  const rows = Math.max(1, Math.ceil(panels.length / cols));
  if (opts.panelHeight) holder.style.height = `${rows * opts.panelHeight}px`;
  const H = holder.clientHeight || 340;
  sp.w = W; sp.h = H; sp.dpr = dpr;
  for (const c of [canvas, overlay]) {
    c.width = Math.round(W * dpr); c.height = Math.round(H * dpr);
    c.style.width = `${W}px`; c.style.height = `${H}px`;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  ctx.font = SP.font;
  const cellW = W / cols, cellH = H / rows;
  sp.laid = panels.map((panel, i) => scatterPanel(ctx, sp, panel, i, (i % cols) * cellW, Math.floor(i / cols) * cellH,
    cellW, cellH, dpr, !opts.leftTitles || i % cols === 0));
  holder.plotState = { panels: sp.laid.map((L) => L.state) };
  // keep the hover on what is under the mouse now (a live redraw moves points, and may add one under it)
  sp.hover = null;
  scatterHover(holder, sp.mouse && !sp.drag ? scatterHit(sp, sp.mouse.x, sp.mouse.y) : null);
  scatterCursor(sp);
  scatterOverlay(holder);
}

function scatterPanel(ctx, sp, panel, index, cx, cy, cw, ch, dpr, withYTitle) {
  const key = panel.key ?? panel.title ?? String(index);
  const yTitle = withYTitle ? panel.y.title : "";
  const zoom = sp.zoom.get(key) || {};
  const legend = panel.legend ? panel.series.filter((s) => s.name && s.legend !== false) : [];
  // positions in axis units (log10, category index + jitter), once
  const pos = panel.series.map((s) => {
    const n = s.xs.length, tx = new Float64Array(n), ty = new Float64Array(n);
    const jit = panel.x.type === "category" && (s.kind || "markers") === "markers" ? (panel.x.jitter ?? 0.5) : 0;
    for (let i = 0; i < n; i++) {
      tx[i] = axisT(panel.x, s.xs[i]) + (jit && s.ids ? jit * jitterOf(s.ids[i]) : 0);
      ty[i] = axisT(panel.y, s.ys[i]);
    }
    return { tx, ty };
  });
  const finite = (axis, which) => (axis.type === "category" ? []
    : pos.flatMap((p) => Array.from(p[which]).filter(Number.isFinite)));
  const [xlo, xhi] = zoom.x || autoRange(panel.x, finite(panel.x, "tx"));
  const [ylo, yhi] = zoom.y || autoRange(panel.y, finite(panel.y, "ty"));
  // margins: title and legend above, tick labels and axis title below and left
  const top = cy + 8 + (panel.title ? 18 : 0) + (legend.length ? 18 : 0);
  const bottom = cy + ch - 20 - (panel.x.title ? 16 : 0) - 4;
  const yTicks = axisTicks(panel.y, ylo, yhi, bottom - top, 38);
  ctx.font = SP.font;
  const yLabelW = Math.max(16, ...yTicks.map((t) => ctx.measureText(t.text).width));
  const left = cx + 6 + (yTitle ? 16 : 0) + yLabelW + 6;
  const right = cx + cw - 14;
  const xTicks = axisTicks(panel.x, xlo, xhi, right - left, 64);
  const px = (t) => left + ((t - xlo) / (xhi - xlo)) * (right - left);
  const py = (t) => bottom - ((t - ylo) / (yhi - ylo)) * (bottom - top);
  // grid, frame, ticks
  ctx.lineWidth = 1;
  ctx.strokeStyle = SP.grid;
  ctx.beginPath();
  for (const t of xTicks) { const x = Math.round(px(t.t)) + 0.5; ctx.moveTo(x, top); ctx.lineTo(x, bottom); }
  for (const t of yTicks) { const y = Math.round(py(t.t)) + 0.5; ctx.moveTo(left, y); ctx.lineTo(right, y); }
  ctx.stroke();
  ctx.strokeStyle = SP.frame;
  ctx.strokeRect(Math.round(left) + 0.5, Math.round(top) + 0.5, Math.round(right - left), Math.round(bottom - top));
  ctx.fillStyle = SP.text;
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (const t of yTicks) ctx.fillText(t.text, left - 5, py(t.t));
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  // a category label is cut to its slot; numeric labels are short
  const slot = panel.x.type !== "category" ? Infinity
    : (xTicks.length > 1 ? px(xTicks[1].t) - px(xTicks[0].t) : right - left) - 4;
  let lastRight = -Infinity;
  for (const t of xTicks) { // a label that would overlap the one before is left out
    const text = fitText(ctx, t.text, slot), w = ctx.measureText(text).width, x = px(t.t);
    if (x - w / 2 < lastRight + 4) continue;
    ctx.fillText(text, x, bottom + 5);
    lastRight = x + w / 2;
  }
  if (panel.x.title) ctx.fillText(fitText(ctx, panel.x.title, right - left), (left + right) / 2, bottom + 22);
  if (yTitle) {
    ctx.save();
    ctx.translate(cx + 6, (top + bottom) / 2); ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "top";
    ctx.fillText(fitText(ctx, yTitle, bottom - top), 0, 0);
    ctx.restore();
  }
  if (panel.title) {
    ctx.font = SP.bold; ctx.textBaseline = "top";
    ctx.fillText(fitText(ctx, panel.title, cw - 20), (left + right) / 2, cy + 6);
    ctx.font = SP.font;
  }
  if (legend.length) scatterLegend(ctx, legend, right, top - 11);
  // the data: markers blended in a pixel buffer the size of the plot, then the lines over them, clipped to the plot
  let hitN = 0;
  for (const p of pos) hitN += p.tx.length;
  const hx = new Float32Array(hitN), hy = new Float32Array(hitN), hser = new Int32Array(hitN), hidx = new Int32Array(hitN);
  let m = 0, drawn = 0;
  const ox = Math.round(left * dpr), oy = Math.round(top * dpr);
  const layer = pixelLayer(Math.max(1, Math.round(right * dpr) - ox), Math.max(1, Math.round(bottom * dpr) - oy));
  panel.series.forEach((s, si) => {
    if (s.kind === "step") return;
    const { tx, ty } = pos[si], r = s.radius || 3, alpha = s.alpha ?? 1;
    const disc = discOf(sp.discs, r * dpr), rgb = rgbOf(s.color);
    for (let i = 0; i < tx.length; i++) {
      const x = px(tx[i]), y = py(ty[i]);
      if (!(x >= left - r && x <= right + r && y >= top - r && y <= bottom + r)) continue; // NaN too
      splat(layer, x * dpr - ox, y * dpr - oy, disc, rgb, alpha);
      drawn++;
      if (x < left || x > right || y < top || y > bottom) continue; // half shown: not hoverable
      hx[m] = x; hy[m] = y; hser[m] = si; hidx[m] = i; m++;
    }
  });
  if (drawn) { // putImageData replaces pixels: put on a scratch canvas, then draw that over the grid
    sp.scratch.width = layer.w; sp.scratch.height = layer.h;
    sp.scratch.getContext("2d").putImageData(layerImage(layer), 0, 0);
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(sp.scratch, ox, oy);
    ctx.restore();
  }
  ctx.save();
  ctx.beginPath(); ctx.rect(left, top, right - left, bottom - top); ctx.clip();
  panel.series.forEach((s, si) => {
    if (s.kind !== "step") return;
    const { tx, ty } = pos[si];
    ctx.strokeStyle = s.color; ctx.lineWidth = s.width || 2; ctx.globalAlpha = s.alpha ?? 1;
    ctx.beginPath();
    let started = false, lastY = 0;
    for (let i = 0; i < tx.length; i++) {
      if (!Number.isFinite(tx[i]) || !Number.isFinite(ty[i])) continue;
      const x = px(tx[i]), y = py(ty[i]);
      if (!started) { ctx.moveTo(x, y); started = true; } else { ctx.lineTo(x, lastY); ctx.lineTo(x, y); }
      lastY = y;
    }
    ctx.stroke();
    ctx.globalAlpha = 1;
  });
  ctx.restore();
  if (!drawn && panel.empty) {
    ctx.fillStyle = SP.muted; ctx.textAlign = "center"; ctx.textBaseline = "middle";
    ctx.fillText(panel.empty, (left + right) / 2, (top + bottom) / 2);
  }
  const unT = (axis, t) => (axis.type === "log" ? 10 ** t : t);
  const L = {
    key, left, right, top, bottom, n: m, hx, hy, hser, hidx,
    xAt: (x) => xlo + ((x - left) / (right - left)) * (xhi - xlo),
    yAt: (y) => ylo + ((bottom - y) / (bottom - top)) * (yhi - ylo),
  };
  const axisState = (axis, lo, hi2, ticks) => ({ type: axis.type, title: axis.title || "",
    range: [unT(axis, lo), unT(axis, hi2)], ticks: ticks.map((t) => t.text) });
  L.state = {
    key, title: panel.title || "", zoomed: Boolean(zoom.x || zoom.y),
    rect: { left, top, width: right - left, height: bottom - top },
    x: axisState(panel.x, xlo, xhi, xTicks), y: { ...axisState(panel.y, ylo, yhi, yTicks), title: yTitle || "" },
    series: panel.series.map((s) => ({ name: s.name || "", kind: s.kind || "markers", count: s.xs.length })),
    get points() { // the hoverable points as drawn: canvas coordinates in CSS pixels
      const out = [];
      for (let j = 0; j < m; j++) {
        const s = panel.series[hser[j]], i = hidx[j];
        out.push({ series: s.name || "", id: s.ids ? s.ids[i] : null, n: s.ns ? s.ns[i] : null,
          x: s.xs[i], y: s.ys[i], sx: hx[j], sy: hy[j] });
      }
      return out;
    },
  };
  return L;
}

function scatterLegend(ctx, items, right, y) {
  ctx.font = SP.font; ctx.textBaseline = "middle"; ctx.textAlign = "left";
  const widths = items.map((s) => 16 + ctx.measureText(s.name).width + 12);
  let x = right - widths.reduce((a, b) => a + b, 0) + 12;
  items.forEach((s, i) => {
    ctx.fillStyle = ctx.strokeStyle = s.color; // opaque: the legend names the color
    if (s.kind === "step") {
      ctx.lineWidth = 2; ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + 12, y); ctx.stroke();
    } else {
      ctx.beginPath(); ctx.arc(x + 6, y, s.radius || 3, 0, 2 * Math.PI); ctx.fill();
    }
    ctx.fillStyle = SP.text;
    ctx.fillText(s.name, x + 16, y);
    x += widths[i];
  });
}

// the nearest hoverable point within a few pixels of (x, y), in the panel under it: {panel, series, index, x, y}
function scatterHit(sp, x, y) {
  const reach = SP.hitPx;
  const pi = sp.laid.findIndex((L) =>
    x >= L.left - reach && x <= L.right + reach && y >= L.top - reach && y <= L.bottom + reach);
  if (pi < 0) return null;
  const L = sp.laid[pi], series = sp.panels[pi].series;
  let best = -1, bestD = Infinity;
  for (let j = 0; j < L.n; j++) {
    const dx = L.hx[j] - x, dy = L.hy[j] - y, d = dx * dx + dy * dy;
    const r = (series[L.hser[j]].radius || 3) + reach;
    if (d <= r * r && d <= bestD) { best = j; bestD = d; } // later-drawn wins a tie: it is on top
  }
  return best < 0 ? null : { panel: pi, series: L.hser[best], index: L.hidx[best], x: L.hx[best], y: L.hy[best] };
}

function scatterHover(holder, hit) {
  const sp = holder._sp, old = sp.hover;
  const same = old && hit && old.panel === hit.panel && old.series === hit.series && old.index === hit.index &&
    old.x === hit.x && old.y === hit.y;
  if (same || (!old && !hit)) return;
  sp.hover = hit;
  const s = hit && sp.panels[hit.panel].series[hit.series];
  if (!hit) {
    sp.tip.hidden = true;
  } else {
    sp.tip.textContent = s.tip ? s.tip(hit.index) : `${fmt(s.xs[hit.index])}, ${fmt(s.ys[hit.index])}`;
    sp.tip.hidden = false;
    const tw = sp.tip.offsetWidth, th = sp.tip.offsetHeight;
    const x = hit.x + 12 + tw > sp.w ? hit.x - 12 - tw : hit.x + 12;
    sp.tip.style.left = `${Math.max(0, x)}px`;
    sp.tip.style.top = `${Math.max(0, Math.min(sp.h - th, hit.y - th / 2))}px`;
  }
  scatterOverlay(holder);
}

// a pointer over a point that opens, a crosshair over a plot (drag to zoom)
function scatterCursor(sp) {
  const m = sp.mouse, hit = sp.hover;
  const s = hit && sp.panels[hit.panel].series[hit.series];
  const inPlot = m && sp.laid.some((L) => m.x >= L.left && m.x <= L.right && m.y >= L.top && m.y <= L.bottom);
  sp.overlay.style.cursor = s && s.ids && sp.opts.onClick ? "pointer" : inPlot ? "crosshair" : "";
}

// the overlay canvas: the hovered point's ring and the zoom box being dragged
function scatterOverlay(holder) {
  const sp = holder._sp, ctx = sp.overlay.getContext("2d");
  ctx.setTransform(sp.dpr, 0, 0, sp.dpr, 0, 0);
  ctx.clearRect(0, 0, sp.w, sp.h);
  const d = sp.drag;
  if (d && (Math.abs(d.x1 - d.x0) >= SP.dragPx || Math.abs(d.y1 - d.y0) >= SP.dragPx)) {
    const L = sp.laid[d.panel], dx = Math.abs(d.x1 - d.x0), dy = Math.abs(d.y1 - d.y0);
    const xOnly = dy < SP.thinPx && dx >= SP.thinPx, yOnly = dx < SP.thinPx && dy >= SP.thinPx;
    const x0 = yOnly ? L.left : Math.min(d.x0, d.x1), x1 = yOnly ? L.right : Math.max(d.x0, d.x1);
    const y0 = xOnly ? L.top : Math.min(d.y0, d.y1), y1 = xOnly ? L.bottom : Math.max(d.y0, d.y1);
    ctx.fillStyle = "rgba(44,107,237,0.12)"; ctx.strokeStyle = "rgba(44,107,237,0.8)"; ctx.lineWidth = 1;
    ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
    ctx.strokeRect(x0 + 0.5, y0 + 0.5, x1 - x0, y1 - y0);
  } else if (sp.hover) {
    const s = sp.panels[sp.hover.panel].series[sp.hover.series];
    ctx.strokeStyle = "#1d2330"; ctx.lineWidth = 1.5;
    ctx.beginPath(); ctx.arc(sp.hover.x, sp.hover.y, (s.radius || 3) + 2.5, 0, 2 * Math.PI); ctx.stroke();
  }
}

// ---- one experiment ----
function knobIsNumeric(k) {
  return k.kind === "real" || k.kind === "int";
}

function choicesOf(k) {
  return k.kind === "bool" ? [false, true] : k.choices || [];
}

async function pageExperiment(id) {
  const exp = await api(`/api/experiments/${id}`);
  document.title = `knoblab · ${exp.name}`;
  setCrumbs([{ text: "Experiments", href: "/" }, { text: exp.name }]);
  const knobs = exp.knobs.filter((k) => k.kind !== "fixed");
  const metricCols = exp.metrics.filter((m) => m !== exp.metric);
  const points = new Map();
  let rev = 0, epoch = "", tableRev = -1;
  const view = { sort: "number", desc: false, offset: 0, limit: 50, states: new Set(STATES), filter: "" };
  const selected = new Set();

  // header
  const statBox = h("div", { class: "stats" });
  const renderStats = (s) => {
    const best = s.best
      ? h("a", { href: `/trials/${s.best.id}`, text: `${fmt(s.best.value)} (#${s.best.number})` })
      : "–";
    statBox.replaceChildren(
      stat("Objective", `${exp.direction} ${exp.metric}`),
      stat("Trials", String(s.n_trials)),
      stat("Best", best),
      stat("Rounds", String(exp.rounds)),
      stat("By state", h("span", {}, STATES.filter((st) => s.counts[st]).map((st) =>
        h("span", { class: `badge ${st}`, text: `${s.counts[st]} ${st.toLowerCase()}` })))),
    );
  };
  renderStats(exp);

  // trials table
  const filterBox = h("input", { type: "text", class: "filter", id: "filter",
    placeholder: "filter: lr<0.01, optimizer=adam, note~retry", value: "" });
  const filterMsg = h("div", { class: "msg" });
  const stateBoxes = STATES.map((s) => h("label", { class: "small" },
    h("input", { type: "checkbox", checked: true, "data-state": s, onchange: (ev) => {
      if (ev.target.checked) view.states.add(s); else view.states.delete(s);
      view.offset = 0; loadTable();
    } }), ` ${s.toLowerCase()}`));
  const thead = h("thead");
  const tbody = h("tbody");
  const pagerText = h("span", { class: "small muted" });
  const prev = h("button", { text: "‹ prev", onclick: () => { view.offset = Math.max(0, view.offset - view.limit); loadTable(); } });
  const next = h("button", { text: "next ›", onclick: () => { view.offset += view.limit; loadTable(); } });
  const compareBtn = h("button", { class: "primary", id: "compare-btn", disabled: true, text: "Compare selected",
    onclick: () => { location.href = `/compare?trials=${[...selected].join(",")}`; } });
  let filterTimer = null;
  filterBox.addEventListener("input", () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => { view.filter = filterBox.value; view.offset = 0; loadTable(); }, 250);
  });

  const columns = () => [
    { key: "number", label: "#" },
    { key: "state", label: "state" },
    { key: "value", label: exp.metric },
    ...(exp.rounds > 1 ? [{ key: "round", label: "round" }] : []),
    ...knobs.map((k) => ({ key: `param.${k.name}`, label: k.name, get: (r) => r.params[k.name] })),
    ...metricCols.map((m) => ({ key: `metric.${m}`, label: m, get: (r) => r.metrics[m] })),
    { key: "duration", label: "duration" },
    { key: "note", label: "note" },
  ];
  const renderHead = () => {
    thead.replaceChildren(h("tr", {}, h("th", {}),
      columns().map((c) => h("th", {
        class: "sortable" + (view.sort === c.key ? " sorted" + (view.desc ? " desc" : "") : ""),
        "data-key": c.key, text: c.label,
        onclick: () => {
          if (view.sort === c.key) view.desc = !view.desc; else { view.sort = c.key; view.desc = false; }
          view.offset = 0; loadTable();
        },
      }))));
  };
  const cell = (c, r) => {
    if (c.key === "number") return h("td", { class: "num" }, h("a", { href: `/trials/${r.id}`, text: `#${r.number}` }));
    if (c.key === "state") return h("td", {}, badge(r.state), r.stop_requested && r.state === "RUNNING" ? h("span", { class: "badge stop", text: "stopping" }) : null);
    if (c.key === "duration") return h("td", { class: "num", text: fmtDur(r.duration) });
    if (c.key === "note") return h("td", { class: "wrap", text: r.note || "" });
    const v = c.get ? c.get(r) : r[c.key];
    return h("td", { class: typeof v === "number" ? "num" : "", text: fmt(v) });
  };
  async function loadTable() {
    const q = new URLSearchParams({ offset: view.offset, limit: view.limit, sort: view.sort, desc: view.desc,
      state: [...view.states].join(","), filter: view.filter });
    if (view.states.size === 0) q.set("state", "NONE");
    let res;
    try {
      res = view.states.size === 0 ? { total: 0, rows: [], rev: rev } : await api(`/api/experiments/${id}/trials?${q}`);
      filterMsg.className = "msg"; filterMsg.textContent = "";
    } catch (e) {
      message(filterMsg, e.message);
      return;
    }
    for (const r of res.rows) for (const m of Object.keys(r.metrics)) {
      if (m !== exp.metric && !metricCols.includes(m)) metricCols.push(m);
    }
    tableRev = res.rev;
    renderHead();
    tbody.replaceChildren(...res.rows.map((r) => h("tr", { "data-id": r.id, "data-number": r.number },
      h("td", {}, h("input", { type: "checkbox", class: "pick", checked: selected.has(r.id), onchange: (ev) => {
        if (ev.target.checked) selected.add(r.id); else selected.delete(r.id);
        compareBtn.disabled = selected.size === 0;
        compareBtn.textContent = selected.size ? `Compare selected (${selected.size})` : "Compare selected";
      } })),
      columns().map((c) => cell(c, r)))));
    mark("table");
    const end = Math.min(res.total, view.offset + res.rows.length);
    pagerText.textContent = res.total ? `${view.offset + 1}–${end} of ${res.total}` : "no trials match";
    prev.disabled = view.offset === 0;
    next.disabled = end >= res.total;
  }

  // plots: all on 2D canvases (no plotly.js on this page), drawn in stages so each shows as soon as it can
  const history = h("div", { class: "plot", id: "plot-history" });
  const parallel = h("div", { class: "plot", id: "plot-parallel" });
  const knobPlots = h("div", { id: "plot-knobs", style: `width:100%;height:${Math.ceil(knobs.length / 4) * 240}px` });
  const parallelTitle = h("h2", { text: "Parallel coordinates (complete trials)" });
  const importances = h("div", { id: "importances" }, h("p", { class: "muted", text: "…" }));
  let importancesStarted = false;
  const PARALLEL_MAX = 1000; // more lines are a hairball, and slow to draw without a GPU
  const openTrial = (trialId) => { location.href = `/trials/${trialId}`; };

  async function renderPlots() {
    await nextFrame();
    let started = performance.now();
    const all = [...points.values()].sort((a, b) => a.n - b.n);
    const done = all.filter((p) => p.s === "COMPLETE" && p.v !== null);
    drawParallel(done);
    mark("parallel");
    drawHistory(all, done);
    mark("history");
    let cost = performance.now() - started;
    await nextFrame(); // paint the two plots above the fold before the knob panels below it
    started = performance.now();
    drawKnobs(done);
    mark("knobs");
    plotCost = cost + performance.now() - started; // drawing only, not the waits
    if (!importancesStarted) {
      importancesStarted = true; // the analysis waits until the page has drawn: it competes for the CPU
      importanceLoop();
    }
  }

  // marker series of trials (points from the API): x from xOf, y the metric; the tooltip names the trial
  const trialSeries = (name, rows, xOf, style, extra) => ({
    name, xs: rows.map(xOf), ys: rows.map((p) => p.v), ids: rows.map((p) => p.id), ns: rows.map((p) => p.n),
    tip: (i) => `#${rows[i].n}: ${fmt(rows[i].v)}${extra ? `\n${extra(rows[i])}` : ""}`, ...style });

  function drawHistory(all, done) {
    const pruned = all.filter((p) => p.s === "PRUNED" && p.v !== null);
    const better = (a, b) => (exp.direction === "min" ? a < b : a > b);
    let best = null;
    const bestX = [], bestY = [];
    for (const p of done) {
      if (best === null || better(p.v, best)) { best = p.v; bestX.push(p.n); bestY.push(best); }
    }
    if (done.length) { bestX.push(done[done.length - 1].n); bestY.push(best); } // the line runs to the last trial
    scatterPanels(history, [{
      key: "history", legend: true, empty: "Appears once a trial completes.",
      x: { type: "linear", title: "trial", integer: true }, y: { type: "linear", title: exp.metric },
      series: [
        trialSeries("complete", done, (p) => p.n, { color: "#2c6bed", radius: 3, alpha: 0.85 }),
        trialSeries("pruned", pruned, (p) => p.n, { color: "#d97706", radius: 2.5, alpha: 0.55 }),
        { name: "best so far", kind: "step", xs: bestX, ys: bestY, color: "#1f9d55", width: 2 },
      ],
    }], { onClick: openTrial });
  }

  function drawParallel(done) {
    // parallel coordinates over the knobs every shown trial has: the best PARALLEL_MAX complete ones
    const top = done.length <= PARALLEL_MAX ? done
      : [...done].sort((a, b) => (exp.direction === "min" ? a.v - b.v : b.v - a.v)).slice(0, PARALLEL_MAX);
    parallelTitle.textContent = done.length <= PARALLEL_MAX ? "Parallel coordinates (complete trials)"
      : `Parallel coordinates (the best ${PARALLEL_MAX} of ${done.length} complete trials)`;
    const dims = [];
    for (const k of knobs) {
      const vals = top.map((p) => p.p[k.name]);
      if (!top.length || vals.some((v) => v === undefined || v === null)) continue;
      if (knobIsNumeric(k)) {
        dims.push({ label: k.name, values: k.log ? vals.map((v) => Math.log10(v)) : vals,
          range: k.log ? [Math.log10(k.low), Math.log10(k.high)] : [k.low, k.high],
          format: (x) => {
            const v = k.log ? 10 ** x : x;
            return fmt(k.kind === "int" ? Math.round(v) : Number(v.toPrecision(3)));
          } });
      } else {
        const choices = choicesOf(k);
        const index = new Map(choices.map((c, i) => [JSON.stringify(c), i]));
        dims.push({ label: k.name, values: vals.map((v) => index.get(JSON.stringify(v)) ?? -1),
          range: [-0.5, choices.length - 0.5], ticks: choices.map((c, i) => [i, fmt(c)]) });
      }
    }
    if (top.length && dims.length) {
      const vs = top.map((p) => p.v);
      dims.push({ label: exp.metric, values: vs, range: [Math.min(...vs), Math.max(...vs)], format: fmt });
      parallel.querySelector(":scope > p.muted")?.remove();
      parcoords(parallel, dims, vs, exp.direction === "min");
    } else {
      parallel.replaceChildren(h("p", { class: "muted", text: "Appears once a trial completes." }));
    }
  }

  function drawKnobs(done) {
    // the metric against each knob: numeric knobs on a linear or log axis, the others as categories in the order
    // of their choices, spread a little sideways so stacked points show
    if (!knobs.length) return;
    scatterPanels(knobPlots, knobs.map((k) => {
      let rows = done.filter((p) => p.p[k.name] !== undefined && p.p[k.name] !== null);
      let x, xOf;
      if (knobIsNumeric(k)) {
        x = { type: k.log ? "log" : "linear", integer: k.kind === "int" };
        xOf = (p) => p.p[k.name];
      } else {
        const choices = choicesOf(k);
        const index = new Map(choices.map((c, j) => [JSON.stringify(c), j]));
        rows = rows.filter((p) => index.has(JSON.stringify(p.p[k.name])));
        x = { type: "category", categories: choices.map(fmt) };
        xOf = (p) => index.get(JSON.stringify(p.p[k.name]));
      }
      return { key: k.name, title: k.name, x, y: { type: "linear", title: exp.metric },
        series: [trialSeries(k.name, rows, xOf, { color: "#2c6bed", radius: 2.5, alpha: 0.6 },
          (p) => `${k.name} = ${fmt(p.p[k.name])}`)] };
    }), { columns: 4, minPanelWidth: 280, panelHeight: 240, leftTitles: true, onClick: openTrial });
  }
  // redraw at most every 1.2 s, and less often when drawing is slow (10,000 points without a GPU), so the page
  // stays responsive while a big search runs; the table and counts still update every poll
  let plotCost = 0;
  const schedulePlots = throttle(renderPlots, () => Math.max(1200, 3 * plotCost));

  // steering
  const steer = [];
  if (CFG.read_only) {
    steer.push(h("div", { class: "card" }, h("h2", { text: "Steer" }),
      h("p", { class: "muted", text: "Read-only dashboard: enqueueing trials and new rounds are off." })));
  } else {
    steer.push(h("div", { class: "grid2" }, enqueueCard(), roundCard()));
  }

  function enqueueCard() {
    const fields = [];
    const form = h("div", { class: "form", id: "enqueue-form" });
    const note = h("input", { type: "text", id: "enqueue-note", placeholder: "why (optional note)" });
    const msg = h("div", { class: "msg", id: "enqueue-msg" });
    // the latest round's knobs: the space the search (and so the enqueued trial) is in now
    for (const k of (exp.enqueue_knobs || knobs).filter((x) => x.kind !== "fixed")) {
      let input;
      if (knobIsNumeric(k)) {
        input = h("input", { type: "text", inputmode: "decimal", "data-knob": k.name,
          placeholder: `${fmt(k.low)} … ${fmt(k.high)}${k.log ? " (log)" : ""}` });
      } else {
        input = h("select", { "data-knob": k.name },
          choicesOf(k).map((c, i) => h("option", { value: String(i), text: fmt(c) })));
      }
      const label = h("label", {}, k.when ? `${k.name} (when ${k.when[0]} = ${fmt(k.when[1])})` : k.name, input);
      fields.push({ k, input, label });
      form.append(label);
    }
    const valueOf = (f) => {
      if (knobIsNumeric(f.k)) {
        const raw = f.input.value.trim();
        if (raw === "") return undefined;
        const n = Number(raw);
        return Number.isFinite(n) ? n : raw;
      }
      return choicesOf(f.k)[Number(f.input.value)];
    };
    const active = (f) => {
      if (!f.k.when) return true;
      const parent = fields.find((g) => g.k.name === f.k.when[0]);
      return parent && active(parent) && JSON.stringify(valueOf(parent)) === JSON.stringify(f.k.when[1]);
    };
    const sync = () => fields.forEach((f) => f.label.classList.toggle("hidden", !active(f)));
    form.addEventListener("change", sync);
    sync();
    const submit = h("button", { class: "primary", id: "enqueue-btn", text: "Enqueue", onclick: async () => {
      const params = {};
      for (const f of fields) {
        if (!active(f)) continue;
        const v = valueOf(f);
        if (v !== undefined) params[f.k.name] = v;
      }
      try {
        const res = await post(`/api/experiments/${id}/enqueue`, { params, note: note.value || null });
        message(msg, `Queued trial #${res.trial.number}: it runs before the strategy's next proposal.`, true);
        tableRev = -1;
      } catch (e) {
        message(msg, e.message);
      }
    } });
    return h("div", { class: "card", id: "enqueue" }, h("h2", { text: "Enqueue a trial with chosen knobs" }),
      knobs.length ? form : h("p", { class: "muted", text: "Every knob is fixed." }),
      h("div", { class: "row" }, note, submit), msg);
  }

  function roundCard() {
    // rounds are numbered from 0 (the space the experiment was created with), as in the table's round column
    const area = h("textarea", { id: "round-space", rows: 8, value: JSON.stringify(exp.space, null, 1) });
    const reason = h("input", { type: "text", id: "round-reason", placeholder: "why (e.g. drop rmsprop, worse in round 0)",
      style: "flex:1" });
    const msg = h("div", { class: "msg", id: "round-msg" });
    const btn = h("button", { class: "primary", id: "round-btn", text: `Start round ${exp.rounds}`,
      disabled: !CFG.rounds_supported, onclick: async () => {
        let space;
        try { space = JSON.parse(area.value); } catch (e) { message(msg, `space: not valid JSON (${e.message})`); return; }
        try {
          const res = await post(`/api/experiments/${id}/rounds`, { space, reason: reason.value });
          message(msg, `Round ${res.round} started: new trials use this space.`, true);
          setTimeout(() => location.reload(), 600);
        } catch (e) { message(msg, e.message); }
      } });
    const note = CFG.rounds_supported ? null : h("p", { class: "muted small", id: "round-note",
      text: "This knoblab has no rounds API (Experiment.next_round), so this control is off. " +
        "The space below is this experiment's, as stored." });
    const history = h("ul", { class: "small muted", id: "round-list" }, (exp.round_list || []).map((r) =>
      h("li", {}, `round ${r.round}: ${r.n_trials} trials`, r.parent === null || r.parent === undefined ? "" : `, from round ${r.parent}`,
        r.reason ? ` (${r.reason})` : "")));
    return h("div", { class: "card", id: "round" }, h("h2", { text: "New round with an edited space" }), note, history,
      h("p", { class: "small muted", text: `The latest round's space; edit it (narrow ranges, drop choices) and start round ${exp.rounds}.` }),
      area, h("div", { class: "row", style: "margin-top:6px" }, reason, btn), msg);
  }

  $("#main").replaceChildren(
    h("h1", { id: "title", text: exp.name }),
    statBox,
    h("div", { class: "card" },
      h("div", { class: "row" }, h("h2", { text: "Trials", style: "margin:0 12px 0 0" }), filterBox, ...stateBoxes,
        h("span", { style: "flex:1" }), compareBtn),
      filterMsg,
      h("div", { class: "scroll", style: "margin-top:8px" }, h("table", { id: "trials" }, thead, tbody)),
      h("div", { class: "pager" }, prev, next, pagerText)),
    h("div", { class: "grid2" },
      h("div", { class: "card" }, h("h2", { text: "Optimization history" }), history),
      h("div", { class: "card" }, parallelTitle, parallel)),
    h("div", { class: "card" }, h("h2", { text: `${exp.metric} against each knob` }), knobPlots),
    h("div", { class: "card" }, h("h2", { text: "Knob importances" }), importances),
    ...steer,
  );
  renderHead();
  // importances: computed by the server in a worker process; asked again while computing, then now and then
  const showImportances = (r) => {
    if (!r.available) { importances.replaceChildren(h("p", { class: "muted", text: r.reason })); return; }
    if (r.error) { importances.replaceChildren(h("div", { class: "msg error", text: r.error })); return; }
    if (!r.rows) { importances.replaceChildren(h("p", { class: "muted", text: "Computing (a random forest in a worker process)…" })); return; }
    const max = Math.max(1e-9, ...r.rows.map((x) => x.importance || 0));
    importances.replaceChildren(
      h("table", { class: "bars" }, h("tbody", {}, r.rows.map((x) => h("tr", {},
        h("td", { text: x.knob }),
        h("td", { class: "barcell" }, h("div", { class: "bar", style: `width:${Math.round(100 * (x.importance || 0) / max)}%` })),
        h("td", { class: "num", text: x.importance === null ? "–" : `${(100 * x.importance).toFixed(1)}%` }))))),
      h("p", { class: "muted small", text:
        `Share of ${exp.metric}'s variance each knob explains alone (first-order fANOVA on a random forest), ` +
        `round ${r.round}, ${r.n === r.of ? `${r.n} complete trials` : `the last ${r.n} of ${r.of} complete trials`}` +
        (r.r2 === null || r.r2 === undefined ? "." : `; the forest's out-of-bag R² is ${r.r2.toFixed(2)}` +
          (r.r2 < 0.3 ? " (low: the forest explains little, read these loosely)." : ".")) +
        (r.computing ? " Updating…" : "") }));
  };
  const importanceLoop = async () => {
    let r = { computing: false };
    try { r = await api(`/api/experiments/${id}/importances`); showImportances(r); } catch (e) {
      importances.replaceChildren(h("div", { class: "msg error", text: e.message }));
    }
    setTimeout(importanceLoop, r.computing ? 2000 : 15000);
  };

  await every(async () => {
    const first = tableRev === -1 ? loadTable() : null; // the table need not wait for the plots' data
    const res = await api(`/api/experiments/${id}/points?since=${rev}&epoch=${epoch}`);
    if (res.reset) points.clear();
    for (const p of res.points) points.set(p.id, p);
    epoch = res.epoch;
    rev = res.rev;
    exp.rounds = Math.max(exp.rounds, ...res.points.map((p) => p.r + 1));
    renderStats(res);
    if (first) await first;
    if (tableRev !== rev) await loadTable();
    if (res.reset || res.points.length) schedulePlots();
  });
}

// ---- one trial ----
function metricGroups(names) {
  const set = new Set(names);
  const groups = [];
  for (const m of names) {
    if (m.startsWith("val_") && set.has(m.slice(4))) continue;
    if (set.has(`val_${m}`)) groups.push({ title: `${m}: training vs validation`, metrics: [m, `val_${m}`] });
    else groups.push({ title: m, metrics: [m] });
  }
  return groups;
}

async function pageTrial(id) {
  const plotly = loadPlotly();
  let t = await api(`/api/trials/${id}`);
  document.title = `knoblab · ${t.experiment.name} #${t.number}`;
  setCrumbs([{ text: "Experiments", href: "/" }, { text: t.experiment.name, href: `/experiments/${t.experiment.id}` },
    { text: `trial #${t.number}` }]);
  let reports = t.reports;
  const head = h("div");
  const stats = h("div", { class: "stats" });
  const knobsBox = h("div", { class: "kv", id: "knobs" });
  const infoBox = h("div", { class: "kv", id: "info" });
  const curves = h("div", { class: "curvegrid", id: "curves" });
  const errorBox = h("div");
  const noteArea = h("textarea", { id: "note", rows: 3, value: t.note || "", readOnly: CFG.read_only,
    placeholder: CFG.read_only ? "" : "what you saw, why you ran it" });
  const noteMsg = h("div", { class: "msg", id: "note-msg" });
  let noteDirty = false;
  noteArea.addEventListener("input", () => { noteDirty = true; });
  const saveNote = h("button", { id: "note-save", text: "Save note", onclick: async () => {
    try {
      await post(`/api/trials/${id}/note`, { note: noteArea.value });
      noteDirty = false;
      message(noteMsg, "Saved.", true);
    } catch (e) { message(noteMsg, e.message); }
  } });
  const stopMsg = h("div", { class: "msg", id: "stop-msg" });
  const stopBtn = h("button", { class: "danger", id: "stop", text: "Stop this trial", onclick: async () => {
    try {
      await post(`/api/trials/${id}/stop`);
      message(stopMsg, "Stop requested: the objective sees trial.should_stop() return True.", true);
      stopBtn.disabled = true;
    } catch (e) { message(stopMsg, e.message); }
  } });
  const plotDivs = new Map();
  let lastShape = "";

  function render() {
    head.replaceChildren(h("h1", {}, `Trial #${t.number} `, badge(t.state),
      t.stop_requested && t.state === "RUNNING" ? h("span", { class: "badge stop", text: "stop requested" }) : null));
    stats.replaceChildren(
      stat(t.experiment.metric, fmt(t.value)),
      stat("Duration", fmtDur(t.duration)),
      stat("Epochs reported", String(reports.length)),
      stat("Host", t.host || "–"),
    );
    knobsBox.replaceChildren(...t.knobs.filter((k) => k in t.params).flatMap((k) =>
      [h("div", { class: "k", text: k }), h("div", { class: "v", "data-knob": k, text: fmt(t.params[k]) })]));
    const info = [["state", t.state], ["value", fmt(t.value)], ["round", t.round], ["seed", t.seed],
      ["started", fmtTime(t.started_at)], ["finished", fmtTime(t.finished_at)], ["duration", fmtDur(t.duration)],
      ["host", t.host || "–"], ["pid", t.pid ?? "–"], ["source", t.attrs.source || "–"],
      ...Object.entries(t.metrics).map(([k, v]) => [`final ${k}`, fmt(v)])];
    infoBox.replaceChildren(...info.flatMap(([k, v]) => [h("div", { class: "k", text: k }), h("div", { class: "v", text: String(v) })]));
    if (!noteDirty && document.activeElement !== noteArea) noteArea.value = t.note || "";
    stopBtn.hidden = CFG.read_only || t.state !== "RUNNING";
    stopBtn.disabled = t.stop_requested;
    stopBtn.textContent = t.stop_requested ? "Stop requested" : "Stop this trial";
    errorBox.replaceChildren(...(t.error ? [h("div", { class: "card" }, h("h2", { text: "Error" }),
      h("pre", { class: "error", id: "error", text: t.error }))] : []));
    renderCurves();
  }

  function renderCurves() {
    const names = [];
    for (const r of reports) for (const k of Object.keys(r)) if (k !== "step" && !names.includes(k)) names.push(k);
    const groups = metricGroups(names);
    const shape = JSON.stringify(groups.map((g) => g.metrics));
    if (shape !== lastShape) {
      lastShape = shape;
      plotDivs.forEach((div) => Plotly.purge(div));
      plotDivs.clear();
      curves.replaceChildren(...(groups.length ? [] : [h("p", { class: "muted", text: "No epoch reported yet." })]));
      for (const g of groups) {
        const div = h("div", { class: "plot", "data-metrics": g.metrics.join(",") });
        plotDivs.set(g.title, div);
        curves.append(div);
      }
    }
    for (const g of groups) {
      const traces = g.metrics.map((m, i) => {
        const rows = reports.filter((r) => r[m] !== undefined && r[m] !== null);
        return { type: "scatter", mode: rows.length > 60 ? "lines" : "lines+markers", name: pt(m),
          x: rows.map((r) => r.step), y: rows.map((r) => r[m]), line: { color: i ? "#d97706" : "#2c6bed" } };
      });
      Plotly.react(plotDivs.get(g.title), traces, baseLayout({ title: { text: pt(g.title), font: { size: 12 } },
        xaxis: { title: { text: "epoch" } }, margin: { l: 50, r: 10, t: 46, b: 40 } }), PLOT_CONFIG);
    }
  }

  $("#main").replaceChildren(
    head, stats,
    h("div", { class: "card" }, h("h2", { text: "Curves (live while the trial runs)" }), curves),
    h("div", { class: "grid2" },
      h("div", { class: "card" }, h("h2", { text: "Knobs" }), knobsBox),
      h("div", { class: "card" }, h("h2", { text: "Run" }), infoBox,
        h("h2", { text: "Note", style: "margin-top:14px" }), noteArea,
        CFG.read_only ? null : h("div", { class: "row", style: "margin-top:6px" }, saveNote, stopBtn),
        noteMsg, stopMsg)),
    errorBox,
  );
  await plotly;
  render();

  await every(async () => {
    const last = reports.length ? reports[reports.length - 1].step : -1;
    const fresh = await api(`/api/trials/${id}?after_step=${last}`);
    const changed = fresh.reports.length || fresh.state !== t.state || fresh.note !== t.note ||
      fresh.stop_requested !== t.stop_requested || fresh.value !== t.value;
    reports = reports.concat(fresh.reports);
    t = fresh;
    if (changed) render();
  });
}

// ---- compare ----
async function pageCompare() {
  document.title = "knoblab · compare";
  const params = new URLSearchParams(location.search);
  const ids = (params.get("trials") || "").split(",").map((x) => x.trim()).filter((x) => /^\d+$/.test(x));
  const idsBox = h("input", { type: "text", id: "compare-ids", value: ids.join(","), placeholder: "trial ids, e.g. 3,7,12" });
  const metricSel = h("select", { id: "compare-metric" });
  const logY = h("input", { type: "checkbox", id: "compare-log" });
  const plot = h("div", { class: "plot", id: "plot-compare", style: "height:420px" });
  const tbody = h("tbody");
  const thead = h("thead");
  const msg = h("div", { class: "msg" });
  let data = { trials: [] };
  $("#main").replaceChildren(
    h("h1", { text: "Compare trials" }),
    h("div", { class: "card" },
      h("div", { class: "row" }, "Trials", idsBox,
        h("button", { text: "Update", onclick: () => { location.search = `?trials=${idsBox.value.replace(/\s+/g, "")}`; } }),
        "Metric", metricSel, h("label", {}, logY, " log scale")),
      msg, plot),
    h("div", { class: "card" }, h("h2", { text: "Knobs" }), h("div", { class: "scroll" }, h("table", { id: "compare-table" }, thead, tbody))),
  );
  setCrumbs([{ text: "Experiments", href: "/" }, { text: "compare" }]);
  metricSel.addEventListener("change", () => draw());
  logY.addEventListener("change", () => draw());

  function metricNames() {
    const names = [];
    for (const t of data.trials) for (const r of t.reports) for (const k of Object.keys(r)) {
      if (k !== "step" && !names.includes(k)) names.push(k);
    }
    return names;
  }

  function draw() {
    const names = metricNames();
    const current = metricSel.value;
    if (JSON.stringify(names) !== JSON.stringify([...metricSel.options].map((o) => o.value))) {
      metricSel.replaceChildren(...names.map((n) => h("option", { value: n, text: n })));
      const pref = data.trials.length ? data.trials[0].experiment.metric : "";
      metricSel.value = names.includes(current) ? current : names.includes(pref) ? pref : names[0] || "";
    }
    const m = metricSel.value;
    const traces = data.trials.map((t) => {
      const rows = t.reports.filter((r) => r[m] !== undefined && r[m] !== null);
      const label = `#${t.number} ${t.experiment.name}: ` + t.knobs.filter((k) => k in t.params).slice(0, 4)
        .map((k) => `${k}=${fmt(t.params[k])}`).join(", ");
      return { type: "scatter", mode: "lines+markers", name: pt(label.length > 70 ? label.slice(0, 67) + "…" : label),
        x: rows.map((r) => r.step), y: rows.map((r) => r[m]) };
    });
    Plotly.react(plot, traces, baseLayout({ xaxis: { title: { text: "epoch" } },
      yaxis: { title: { text: pt(m) }, type: logY.checked ? "log" : "linear" },
      legend: { orientation: "h", y: -0.2 }, margin: { l: 56, r: 16, t: 20, b: 60 } }), PLOT_CONFIG);
    const knobs = [];
    for (const t of data.trials) for (const k of t.knobs) if (k in t.params && !knobs.includes(k)) knobs.push(k);
    thead.replaceChildren(h("tr", {}, ["trial", "experiment", "state", "value", ...knobs].map((x) => h("th", { text: x }))));
    tbody.replaceChildren(...data.trials.map((t) => h("tr", {},
      h("td", {}, h("a", { href: `/trials/${t.id}`, text: `#${t.number}` })),
      h("td", { text: t.experiment.name }), h("td", {}, badge(t.state)), h("td", { class: "num", text: fmt(t.value) }),
      knobs.map((k) => h("td", { text: fmt(t.params[k]) })))));
  }

  await loadPlotly();
  if (!ids.length) {
    message(msg, "Choose trials: tick them in an experiment's table and press Compare, or type their ids above.");
    return;
  }
  await every(async () => {
    if (data.trials.length && data.trials.every((t) => !["RUNNING", "QUEUED"].includes(t.state))) return;
    data = await api(`/api/compare?ids=${ids.join(",")}`);
    draw();
  });
}

// ---- routing ----
async function start() {
  try {
    Object.assign(CFG, await api("/api/config"));
    if (CFG.read_only) $("#mode").textContent = "read-only";
    const path = location.pathname;
    let m;
    if (path === "/" || path === "") await pageExperiments();
    else if ((m = path.match(/^\/experiments\/(\d+)$/))) await pageExperiment(Number(m[1]));
    else if ((m = path.match(/^\/trials\/(\d+)$/))) await pageTrial(Number(m[1]));
    else if (path === "/compare") await pageCompare();
    else $("#main").replaceChildren(h("p", { text: "No such page." }));
  } catch (e) {
    setLive(false, e.message);
    $("#main").replaceChildren(h("div", { class: "msg error", id: "page-error", text: e.message }));
  }
}

start();
