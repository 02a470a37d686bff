// knoblab dashboard: plots on 2D canvases, fast for 10,000 trials with or without a GPU.
// scatterPanels() draws grids of panels (markers, lines, step lines, bands, bars, rasters); parcoords() draws
// parallel coordinates with brushing. Both expose what they drew on holder.plotState (the end-to-end tests read
// it), take their colors from the page's CSS variables (light and dark themes), and work by mouse and keyboard.
// They use h() and fmt() from app.js, at draw time.
"use strict";

// ---- colors ----
const VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"];

function viridis(t) {
  return VIRIDIS[Math.max(0, Math.min(VIRIDIS.length - 1, Math.round(t * (VIRIDIS.length - 1))))];
}

const VIRIDIS_RGB = VIRIDIS.map((c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16) / 255));

// [r, g, b] in 0..1 along viridis, interpolated (t = 1 is the brightest, used for the best)
function viridisRGB(t) {
  const x = Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0)) * (VIRIDIS_RGB.length - 1);
  const i = Math.min(VIRIDIS_RGB.length - 2, Math.floor(x)), f = x - i, a = VIRIDIS_RGB[i], b = VIRIDIS_RGB[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

function cssVar(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

// the plot colors of the current theme (app.css defines them for light and dark)
function plotTheme() {
  return {
    text: cssVar("--fg", "#1d2330"), muted: cssVar("--muted", "#5b6270"), grid: cssVar("--plot-grid", "#edf0f4"),
    frame: cssVar("--plot-frame", "#cfd5df"), bg: cssVar("--card", "#fff"), ring: cssVar("--fg", "#1d2330"),
    complete: cssVar("--plot-complete", "#2c6bed"), pruned: cssVar("--plot-pruned", "#d97706"),
    stopped: cssVar("--plot-stopped", "#6b7280"), running: cssVar("--plot-running", "#c026d3"),
    failed: cssVar("--plot-failed", "#dc2626"), best: cssVar("--plot-best", "#1f9d55"),
    band: cssVar("--plot-band", "#2c6bed"), faded: cssVar("--plot-faded", "#9aa3b2"),
    tickBg: cssVar("--plot-tick-bg", "rgba(255,255,255,0.85)"),
  };
}

// plots redraw when the theme changes (the toggle, or the system's setting)
const themeListeners = new Set();
function onThemeChange(fn) { themeListeners.add(fn); }
function themeChanged() { themeListeners.forEach((fn) => fn()); }

const SP = { font: "11px system-ui, sans-serif", bold: "600 12px system-ui, sans-serif", hitPx: 4, dragPx: 4,
  thinPx: 10, lineHitPx: 5 };

// ---- ticks ----
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

const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
  172800, 604800];

// ticks of a time axis: values are seconds after axis.origin (ms since 1970), labelled as local clock times
function timeTicks(axis, lo, hi, maxTicks) {
  const span = Math.max(1e-9, hi - lo);
  const step = TIME_STEPS.find((s) => span / s <= maxTicks) || niceStep(span, maxTicks);
  const origin = axis.origin || 0;
  const pad = (n) => String(n).padStart(2, "0");
  const out = [];
  // align to the clock: ticks fall on whole multiples of the step in local time
  const offset = new Date(origin).getTimezoneOffset() * 60;
  const startAbs = Math.ceil((origin / 1000 + lo - offset) / step - 1e-9) * step + offset;
  for (let abs = startAbs; abs - origin / 1000 <= hi + 1e-9; abs += step) {
    const d = new Date(abs * 1000);
    const clock = step < 60 ? `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
      : `${pad(d.getHours())}:${pad(d.getMinutes())}`;
    const text = step >= 86400 ? `${d.getMonth() + 1}/${d.getDate()}`
      : span > 86400 ? `${d.getMonth() + 1}/${d.getDate()} ${clock}` : clock;
    out.push({ t: abs - origin / 1000, text });
    if (out.length > 60) break;
  }
  return out;
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

// the range shown when not zoomed: the axis's own, else the data's padded 5%, or the categories
function autoRange(axis, ts) {
  if (axis.type === "category") return [-0.5, Math.max(1, (axis.categories || []).length) - 0.5];
  if (axis.range) return axis.type === "log" ? axis.range.map((v) => Math.log10(v)) : axis.range.slice();
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
  if (axis.type === "time") return timeTicks(axis, lo, hi, Math.max(2, Math.floor(lengthPx / 70)));
  return linearTicks(lo, hi, maxTicks, axis.integer);
}

// ---- markers blended in a pixel buffer ----
// drawn with one putImageData per panel: without a GPU, one drawImage or arc per point costs 5-10 µs, 60,000 of
// them a third of a second; this takes a few milliseconds
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

const rgbCache = new Map();
function rgbOf(color) { // any CSS color as [r, g, b] in 0..1, read back from a canvas
  let out = rgbCache.get(color);
  if (out) return out;
  const g = document.createElement("canvas").getContext("2d");
  g.fillStyle = color;
  const hex = /^#([0-9a-f]{6})$/i.exec(g.fillStyle), rgba = /^rgba?\((\d+), (\d+), (\d+)/.exec(g.fillStyle);
  if (rgba) out = rgba.slice(1, 4).map((c) => Number(c) / 255); // a translucent color: its alpha is ignored
  else {
    const n = hex ? parseInt(hex[1], 16) : 0;
    out = [(n >> 16 & 255) / 255, (n >> 8 & 255) / 255, (n & 255) / 255];
  }
  rgbCache.set(color, out);
  return out;
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

// ---- panels of plots ----
// scatterPanels(holder, panels, opts) draws a grid of panels on one canvas (opts.columns wide) and keeps hover,
// click, box zoom, keyboard and resize working across redraws: the listeners are bound once per holder.
//   panel: {key, title?, legend?, empty?, x: axis, y: axis, series: [...], colorbar?: {top, bottom, title?}}
//   axis: {type: "linear" | "log" | "category" | "time", title?, integer?, range?: [lo, hi] (values, not log10),
//          categories?: [label] (x index i is categories[i]), origin?: ms since 1970 of t = 0 (time axes),
//          jitter?: share of a category's width that its points spread over (default 0.5)}
//   series: {name, color, xs, ys, kind?, radius?, alpha?, width?, ids?, ns?, tip?: (i) => text, legend?: false}
//     kind "markers" (default): hoverable discs; shade?: [0..1] per point colors them along viridis (1 on top);
//          shape?: "cross" | "ring" draws those glyphs instead (for a few marks)
//     kind "lines": one polyline per trial, consecutive points of the same ids[i] joined; every vertex hoverable,
//          the hovered trial's whole line highlighted
//     kind "step" and "line": a line through the points (not hoverable), step-wise or straight; dash?: [on, off]
//     kind "band": the area between ys (lower) and ys2 (upper) at xs
//     kind "bars": from xs[i] to xs2[i] at row ys[i] (a category index), hoverable
//     kind "raster": an image {nx, ny, rgba: Uint8ClampedArray, x0, x1, y0, y1 (axis units)} under the rest
//   opts: {columns?: 1 (at most), minPanelWidth?: fewer columns below it, panelHeight?: sets the holder's height
//          to rows x this, leftTitles?: y titles on the first column only, onClick?: (id) => void,
//          label?: text for screen readers (the canvas's text alternative)}
// What is drawn is on holder.plotState: per panel its title, the axes' ranges and tick labels, its plot rectangle
// and (getter) the hoverable points with their canvas coordinates.
function scatterPanels(holder, panels, opts = {}) {
  if (!holder._sp) holder._sp = scatterInit(holder);
  Object.assign(holder._sp, { panels, opts });
  scatterDraw(holder);
}

function scatterInit(holder) {
  const canvas = h("canvas", { class: "sp-main", "aria-hidden": "true" });
  const overlay = h("canvas", { class: "sp-overlay", tabindex: "0", role: "img" });
  const tip = h("div", { class: "sp-tip", hidden: true, role: "status", "aria-live": "polite" });
  holder.classList.add("scatter");
  holder.replaceChildren(canvas, overlay, tip);
  const sp = { canvas, overlay, tip, scratch: document.createElement("canvas"), zoom: new Map(), discs: new Map(),
    laid: [], hover: null, drag: null, mouse: null, keyed: null, clickTimer: null, w: 0, h: 0, dpr: 0 };
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
      sp.keyed = null;
      scatterHover(holder, scatterHit(sp, sp.mouse.x, sp.mouse.y));
    }
    scatterCursor(sp);
  });
  overlay.addEventListener("pointerleave", () => {
    sp.mouse = null;
    if (!sp.drag && !sp.keyed) scatterHover(holder, null);
  });
  overlay.addEventListener("pointerdown", (ev) => {
    if (ev.button !== 0) return;
    const { x, y } = local(ev);
    const panel = sp.laid.findIndex((L) => x >= L.left && x <= L.right && y >= L.top && y <= L.bottom);
    if (panel < 0) return;
    ev.preventDefault();
    overlay.focus({ preventScroll: true });
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
  overlay.addEventListener("keydown", (ev) => scatterKey(holder, ev));
  overlay.addEventListener("blur", () => {
    if (sp.keyed) { sp.keyed = null; scatterHover(holder, null); }
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
  onThemeChange(() => holder.isConnected && scatterDraw(holder));
  return sp;
}

// keyboard: arrows move between points (left/right within a panel, up/down between panels), Home/End, Enter
// opens the trial, + and - zoom around it, Escape resets the zoom
function scatterKey(holder, ev) {
  const sp = holder._sp;
  const keys = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "Enter", "Escape", "+", "=", "-"];
  if (!keys.includes(ev.key) || !sp.laid.length) return;
  ev.preventDefault();
  const cur = sp.keyed && sp.hover ? sp.hover : null;
  let panel = cur ? cur.panel : sp.laid.findIndex((L) => L.n > 0);
  if (panel < 0) return;
  const orderOf = (L) => L.order || (L.order = Array.from({ length: L.n }, (_, j) => j)
    .sort((a, b) => L.hx[a] - L.hx[b] || L.hy[a] - L.hy[b]));
  if (ev.key === "Enter") {
    const s = cur && sp.panels[cur.panel].series[cur.series];
    if (s && s.ids && sp.opts.onClick) sp.opts.onClick(s.ids[cur.index]);
    return;
  }
  if (ev.key === "+" || ev.key === "=" || ev.key === "-") { // zoom in or out around the chosen trial (or the middle)
    const L = sp.laid[panel], f = ev.key === "-" ? 2 : 0.5;
    const cx = L.xAt(cur ? cur.x : (L.left + L.right) / 2), cy = L.yAt(cur ? cur.y : (L.top + L.bottom) / 2);
    const hx = ((L.xAt(L.right) - L.xAt(L.left)) / 2) * f, hy = ((L.yAt(L.top) - L.yAt(L.bottom)) / 2) * f;
    sp.zoom.set(L.key, { x: [cx - hx, cx + hx], y: [cy - hy, cy + hy] });
    scatterDraw(holder);
    return;
  }
  if (ev.key === "Escape") {
    const L = sp.laid[panel];
    sp.keyed = null;
    if (L && sp.zoom.delete(L.key)) scatterDraw(holder);
    scatterHover(holder, null);
    return;
  }
  let L = sp.laid[panel], order = orderOf(L);
  let pos = cur ? order.indexOf(cur.j) : -1;
  if (ev.key === "ArrowUp" || ev.key === "ArrowDown") {
    const step = ev.key === "ArrowDown" ? 1 : -1;
    if (sp.laid.length > 1) {
      let next = panel;
      do { next = (next + step + sp.laid.length) % sp.laid.length; } while (next !== panel && !sp.laid[next].n);
      const x = cur ? cur.x : L.left;
      panel = next; L = sp.laid[panel]; order = orderOf(L);
      let best = 0, bestD = Infinity;
      order.forEach((j, k) => { const d = Math.abs(L.hx[j] - x); if (d < bestD) { bestD = d; best = k; } });
      pos = best;
    } else {
      pos = Math.max(0, Math.min(order.length - 1, (pos < 0 ? 0 : pos) + 10 * step));
    }
  } else if (ev.key === "Home") pos = 0;
  else if (ev.key === "End") pos = order.length - 1;
  else pos = pos < 0 ? 0 : Math.max(0, Math.min(order.length - 1, pos + (ev.key === "ArrowRight" ? 1 : -1)));
  if (!order.length) return;
  const j = order[pos];
  sp.keyed = true;
  scatterHover(holder, { panel, j, series: L.hser[j], index: L.hidx[j], x: L.hx[j], y: L.hy[j] });
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
  sp.theme = plotTheme();
  for (const c of [canvas, overlay]) {
    c.width = Math.round(W * dpr); c.height = Math.round(H * dpr);
    c.style.width = `${W}px`; c.style.height = `${H}px`;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  ctx.font = SP.font;
  const cellW = W / cols, cellH = H / rows;
  const keyedId = sp.keyed && sp.hover ? scatterIdOf(sp, sp.hover) : null;
  sp.laid = panels.map((panel, i) => scatterPanel(ctx, sp, panel, i, (i % cols) * cellW, Math.floor(i / cols) * cellH,
    cellW, cellH, dpr, !opts.leftTitles || i % cols === 0));
  holder.plotState = { panels: sp.laid.map((L) => L.state) };
  const label = typeof opts.label === "function" ? opts.label() : opts.label;
  overlay.setAttribute("aria-label", `${label || "Plot"}. Arrow keys move between trials, Enter opens one, ` +
    "+ and - zoom, Escape resets the zoom; with a mouse, drag to zoom and double-click to reset.");
  // keep the hover on what is under the mouse (or the keyboard's trial) now: a live redraw moves points
  sp.hover = null;
  let hit = sp.mouse && !sp.drag ? scatterHit(sp, sp.mouse.x, sp.mouse.y) : null;
  if (!hit && keyedId) hit = scatterFind(sp, keyedId);
  if (!hit) sp.keyed = null;
  scatterHover(holder, hit);
  scatterCursor(sp);
  scatterOverlay(holder);
}

function scatterIdOf(sp, hit) {
  const s = sp.panels[hit.panel] && sp.panels[hit.panel].series[hit.series];
  return s && s.ids ? { panel: hit.panel, series: s.name, id: s.ids[hit.index] } : null;
}

function scatterFind(sp, key) {
  const L = sp.laid[key.panel];
  if (!L) return null;
  const series = sp.panels[key.panel].series;
  for (let j = 0; j < L.n; j++) {
    const s = series[L.hser[j]];
    if (s.name === key.series && s.ids && s.ids[L.hidx[j]] === key.id) {
      return { panel: key.panel, j, series: L.hser[j], index: L.hidx[j], x: L.hx[j], y: L.hy[j] };
    }
  }
  return null;
}

function scatterPanel(ctx, sp, panel, index, cx, cy, cw, ch, dpr, withYTitle) {
  const T = sp.theme;
  const key = panel.key ?? panel.title ?? String(index);
  const yTitle = withYTitle ? panel.y.title : "";
  const zoom = sp.zoom.get(key) || {};
  const legend = panel.legend ? panel.series.filter((s) => s.name && s.legend !== false) : [];
  // positions in axis units (log10, category index + jitter), once
  const pos = panel.series.map((s) => {
    if (s.kind === "raster") return { tx: new Float64Array(0), ty: new Float64Array(0) };
    const n = s.xs.length, tx = new Float64Array(n), ty = new Float64Array(n);
    const jit = panel.x.type === "category" && (s.kind || "markers") === "markers" ? (panel.x.jitter ?? 0.5) : 0;
    for (let i = 0; i < n; i++) {
      tx[i] = axisT(panel.x, s.xs[i]) + (jit && s.ids ? jit * jitterOf(s.ids[i]) : 0);
      ty[i] = axisT(panel.y, s.ys[i]);
    }
    const out = { tx, ty };
    if (s.kind === "bars") out.tx2 = Float64Array.from(s.xs2, (v) => axisT(panel.x, v));
    if (s.kind === "band") out.ty2 = Float64Array.from(s.ys2, (v) => axisT(panel.y, v));
    return out;
  });
  const finite = (axis, which) => {
    if (axis.type === "category") return [];
    const out = [];
    for (const p of pos) for (const arr of [p[which], p[which + "2"]]) if (arr) for (const t of arr) if (Number.isFinite(t)) out.push(t);
    return out;
  };
  const [xlo, xhi] = zoom.x || autoRange(panel.x, finite(panel.x, "tx"));
  const [ylo, yhi] = zoom.y || autoRange(panel.y, finite(panel.y, "ty"));
  // margins: title and legend above, tick labels and axis title below and left, a color bar on the right
  const top = cy + 8 + (panel.title ? 18 : 0) + (legend.length ? 18 : 0);
  const bottom = cy + ch - 20 - (panel.x.title ? 16 : 0) - 4;
  const yTicks = axisTicks(panel.y, ylo, yhi, bottom - top, 38);
  ctx.font = SP.font;
  const yLabelW = Math.min(cw / 3, Math.max(16, ...yTicks.map((t) => ctx.measureText(t.text).width)));
  const left = cx + 6 + (yTitle ? 16 : 0) + yLabelW + 6;
  const right = cx + cw - 14 - (panel.colorbar ? 46 : 0);
  const xTicks = axisTicks(panel.x, xlo, xhi, right - left, 64);
  const px = (t) => left + ((t - xlo) / (xhi - xlo)) * (right - left);
  const py = (t) => bottom - ((t - ylo) / (yhi - ylo)) * (bottom - top);
  // grid, frame, ticks
  ctx.lineWidth = 1;
  ctx.strokeStyle = T.grid;
  ctx.beginPath();
  for (const t of xTicks) { const x = Math.round(px(t.t)) + 0.5; ctx.moveTo(x, top); ctx.lineTo(x, bottom); }
  for (const t of yTicks) { const y = Math.round(py(t.t)) + 0.5; ctx.moveTo(left, y); ctx.lineTo(right, y); }
  ctx.stroke();
  ctx.fillStyle = T.text;
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (const t of yTicks) ctx.fillText(fitText(ctx, t.text, yLabelW), left - 5, py(t.t));
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
  if (legend.length) scatterLegend(ctx, T, legend, right, top - 11, right - left);
  if (panel.colorbar) colorbar(ctx, T, panel.colorbar, right + 18, top, bottom);
  // the data, clipped to the plot: rasters, bands and bars under the lines, markers blended in a pixel buffer
  // over them, then step lines and glyphs on top
  let hitN = 0;
  panel.series.forEach((s, si) => {
    if (!s.kind || s.kind === "markers" || s.kind === "lines" || s.kind === "bars") hitN += pos[si].tx.length;
  });
  const hx = new Float32Array(hitN), hy = new Float32Array(hitN), hser = new Int32Array(hitN), hidx = new Int32Array(hitN);
  const hw = new Float32Array(hitN), hh = new Float32Array(hitN), hseg = new Uint8Array(hitN);
  let m = 0, drawn = 0;
  const inPlot = (x, y) => x >= left && x <= right && y >= top && y <= bottom;
  ctx.save();
  ctx.beginPath(); ctx.rect(left, top, right - left, bottom - top); ctx.clip();
  for (const s of panel.series) {
    if (s.kind !== "raster" || !s.nx || !s.ny) continue;
    sp.scratch.width = s.nx; sp.scratch.height = s.ny;
    sp.scratch.getContext("2d").putImageData(new ImageData(s.rgba, s.nx, s.ny), 0, 0);
    ctx.imageSmoothingEnabled = s.smooth !== false;
    const x0 = px(s.x0), x1 = px(s.x1), y0 = py(s.y1), y1 = py(s.y0);
    ctx.drawImage(sp.scratch, x0, y0, x1 - x0, y1 - y0);
    ctx.imageSmoothingEnabled = true;
    drawn++;
  }
  panel.series.forEach((s, si) => {
    if (s.kind !== "band") return;
    const { tx, ty, ty2 } = pos[si];
    ctx.fillStyle = s.color; ctx.globalAlpha = s.alpha ?? 0.2;
    ctx.beginPath();
    let started = false;
    for (let i = 0; i < tx.length; i++) {
      if (!Number.isFinite(tx[i]) || !Number.isFinite(ty2[i])) continue;
      if (!started) { ctx.moveTo(px(tx[i]), py(ty2[i])); started = true; } else ctx.lineTo(px(tx[i]), py(ty2[i]));
    }
    for (let i = tx.length - 1; i >= 0; i--) {
      if (Number.isFinite(tx[i]) && Number.isFinite(ty[i])) ctx.lineTo(px(tx[i]), py(ty[i]));
    }
    ctx.closePath(); ctx.fill();
    ctx.globalAlpha = 1;
    if (started) drawn++;
  });
  panel.series.forEach((s, si) => {
    if (s.kind !== "bars") return;
    const { tx, ty, tx2 } = pos[si], half = Math.max(2, Math.min(14, ((bottom - top) / Math.max(1, yhi - ylo)) * 0.35));
    ctx.fillStyle = s.color; ctx.globalAlpha = s.alpha ?? 0.9;
    for (let i = 0; i < tx.length; i++) {
      let x0 = px(tx[i]), x1 = px(tx2[i]);
      const y = py(ty[i]);
      if (!Number.isFinite(x0) || !Number.isFinite(y)) continue;
      if (!Number.isFinite(x1)) x1 = x0;
      if (x1 - x0 < 1) x1 = x0 + 1;
      ctx.fillRect(x0, y - half, x1 - x0, 2 * half);
      drawn++;
      const mx = Math.max(left, Math.min(right, (x0 + x1) / 2));
      if (x1 < left || x0 > right || y < top || y > bottom) continue;
      hx[m] = mx; hy[m] = y; hw[m] = Math.max(2, (Math.min(x1, right) - Math.max(x0, left)) / 2); hh[m] = half;
      hser[m] = si; hidx[m] = i; m++;
    }
    ctx.globalAlpha = 1;
  });
  panel.series.forEach((s, si) => {
    if (s.kind !== "lines") return;
    const { tx, ty } = pos[si], ids = s.ids || [];
    ctx.strokeStyle = s.color; ctx.lineWidth = s.width || 1.2; ctx.globalAlpha = s.alpha ?? 0.6;
    ctx.lineJoin = "round";
    let open = false, lastId = null, lastJ = -1;
    for (let i = 0; i < tx.length; i++) {
      const ok = Number.isFinite(tx[i]) && Number.isFinite(ty[i]);
      if (ids[i] !== lastId || !ok) {
        if (open) ctx.stroke();
        open = false;
        lastJ = -1;
      }
      lastId = ids[i];
      if (!ok) continue;
      const x = px(tx[i]), y = py(ty[i]);
      if (!open) { ctx.beginPath(); ctx.moveTo(x, y); open = true; } else ctx.lineTo(x, y);
      drawn++;
      if (!inPlot(x, y)) { lastJ = -1; continue; }
      if (lastJ >= 0 && hidx[lastJ] === i - 1) hseg[lastJ] = 1; // a hoverable segment from the vertex before
      hx[m] = x; hy[m] = y; hser[m] = si; hidx[m] = i; lastJ = m; m++;
    }
    if (open) ctx.stroke();
    ctx.globalAlpha = 1;
  });
  ctx.restore();
  const ox = Math.round(left * dpr), oy = Math.round(top * dpr);
  const layer = pixelLayer(Math.max(1, Math.round(right * dpr) - ox), Math.max(1, Math.round(bottom * dpr) - oy));
  let splatted = 0;
  panel.series.forEach((s, si) => {
    if (s.kind && s.kind !== "markers") return;
    const { tx, ty } = pos[si], r = s.radius || 3, alpha = s.alpha ?? 1;
    const disc = discOf(sp.discs, r * dpr), rgb = rgbOf(s.color);
    const order = s.shade ? Array.from(tx, (_, i) => i).sort((a, b) => s.shade[a] - s.shade[b]) : null;
    const glyphs = s.shape === "cross" || s.shape === "ring";
    if (glyphs) {
      ctx.save();
      ctx.beginPath(); ctx.rect(left - r - 2, top - r - 2, right - left + 2 * r + 4, bottom - top + 2 * r + 4); ctx.clip();
      ctx.strokeStyle = s.color; ctx.lineWidth = s.width || 1.6; ctx.globalAlpha = alpha;
    }
    for (let k = 0; k < tx.length; k++) {
      const i = order ? order[k] : k;
      const x = px(tx[i]), y = py(ty[i]);
      if (!(x >= left - r && x <= right + r && y >= top - r && y <= bottom + r)) continue; // NaN too
      if (glyphs) {
        ctx.beginPath();
        if (s.shape === "cross") {
          ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r); ctx.moveTo(x - r, y + r); ctx.lineTo(x + r, y - r);
        } else ctx.arc(x, y, r, 0, 2 * Math.PI);
        ctx.stroke();
      } else {
        splat(layer, x * dpr - ox, y * dpr - oy, disc, s.shade ? viridisRGB(s.shade[i]) : rgb, alpha);
        splatted++;
      }
      drawn++;
      if (!inPlot(x, y)) continue; // half shown: not hoverable
      hx[m] = x; hy[m] = y; hser[m] = si; hidx[m] = i; m++;
    }
    if (glyphs) ctx.restore();
  });
  if (splatted) { // putImageData replaces pixels: put on a scratch canvas, then draw that over the grid
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
    if (s.kind !== "step" && s.kind !== "line") return;
    const { tx, ty } = pos[si];
    ctx.strokeStyle = s.color; ctx.lineWidth = s.width || 2; ctx.globalAlpha = s.alpha ?? 1;
    ctx.setLineDash(s.dash || []);
    ctx.beginPath();
    let started = false, lastY = 0;
    for (let i = 0; i < tx.length; i++) {
      if (!Number.isFinite(tx[i]) || !Number.isFinite(ty[i])) continue;
      const x = px(tx[i]), y = py(ty[i]);
      if (!started) { ctx.moveTo(x, y); started = true; } else if (s.kind === "step") { ctx.lineTo(x, lastY); ctx.lineTo(x, y); } else ctx.lineTo(x, y);
      lastY = y;
    }
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
  });
  ctx.restore();
  ctx.strokeStyle = T.frame; ctx.lineWidth = 1;
  ctx.strokeRect(Math.round(left) + 0.5, Math.round(top) + 0.5, Math.round(right - left), Math.round(bottom - top));
  if (!drawn && panel.empty) {
    ctx.fillStyle = T.muted; ctx.textAlign = "center"; ctx.textBaseline = "middle";
    ctx.fillText(fitText(ctx, panel.empty, right - left - 8), (left + right) / 2, (top + bottom) / 2);
  }
  const unT = (axis, t) => (axis.type === "log" ? 10 ** t : t);
  const L = {
    key, left, right, top, bottom, n: m, hx, hy, hser, hidx, hw, hh, hseg, px, py,
    xAt: (x) => xlo + ((x - left) / (right - left)) * (xhi - xlo),
    yAt: (y) => ylo + ((bottom - y) / (bottom - top)) * (yhi - ylo),
  };
  const axisState = (axis, lo, hi2, ticks) => ({ type: axis.type, title: axis.title || "",
    range: [unT(axis, lo), unT(axis, hi2)], ticks: ticks.map((t) => t.text) });
  L.state = {
    key, title: panel.title || "", zoomed: Boolean(zoom.x || zoom.y),
    rect: { left, top, width: right - left, height: bottom - top },
    x: axisState(panel.x, xlo, xhi, xTicks), y: { ...axisState(panel.y, ylo, yhi, yTicks), title: yTitle || "" },
    series: panel.series.map((s) => ({ name: s.name || "", kind: s.kind || "markers",
      count: s.kind === "raster" ? s.nx * s.ny : s.kind === "lines" ? new Set(s.ids).size : s.xs.length,
      ...(s.kind === "lines" ? { points: s.xs.length } : {}), ...(s.shape ? { shape: s.shape } : {}) })),
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

function scatterLegend(ctx, T, items, right, y, width) {
  ctx.font = SP.font; ctx.textBaseline = "middle"; ctx.textAlign = "left";
  const widths = items.map((s) => 16 + ctx.measureText(s.name).width + 12);
  let x = right - widths.reduce((a, b) => a + b, 0) + 12;
  if (x < right - width) x = right - width; // too wide: the last items are cut
  items.forEach((s, i) => {
    if (x + widths[i] - 12 > right + 1) return;
    ctx.fillStyle = ctx.strokeStyle = s.color; // opaque: the legend names the color
    if (["step", "line", "lines"].includes(s.kind)) {
      ctx.lineWidth = 2; ctx.setLineDash(s.dash || []);
      ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + 12, y); ctx.stroke();
      ctx.setLineDash([]);
    } else if (s.kind === "band" || s.kind === "bars") {
      ctx.globalAlpha = s.kind === "band" ? Math.min(1, (s.alpha ?? 0.2) * 2.5) : 1;
      ctx.fillRect(x, y - 5, 12, 10);
      ctx.globalAlpha = 1;
    } else if (s.shape === "cross") {
      ctx.lineWidth = 1.6;
      ctx.beginPath(); ctx.moveTo(x + 2, y - 4); ctx.lineTo(x + 10, y + 4); ctx.moveTo(x + 2, y + 4); ctx.lineTo(x + 10, y - 4); ctx.stroke();
    } else if (s.shape === "ring") {
      ctx.lineWidth = 1.6; ctx.beginPath(); ctx.arc(x + 6, y, 4, 0, 2 * Math.PI); ctx.stroke();
    } else {
      ctx.beginPath(); ctx.arc(x + 6, y, s.radius || 3, 0, 2 * Math.PI); ctx.fill();
    }
    ctx.fillStyle = T.text;
    ctx.fillText(s.name, x + 16, y);
    x += widths[i];
  });
}

// a vertical viridis scale, brightest at the top, with its two ends named
function colorbar(ctx, T, bar, x, top, bottom) {
  const grad = ctx.createLinearGradient(0, bottom, 0, top);
  VIRIDIS.forEach((c, i) => grad.addColorStop(i / (VIRIDIS.length - 1), c));
  ctx.fillStyle = grad;
  ctx.fillRect(x, top + 12, 12, Math.max(4, bottom - top - 24));
  ctx.fillStyle = T.text; ctx.font = SP.font; ctx.textAlign = "center";
  ctx.textBaseline = "bottom"; ctx.fillText(bar.top || "best", x + 6, top + 10);
  ctx.textBaseline = "top"; ctx.fillText(bar.bottom || "worst", x + 6, bottom - 10);
}

// the nearest hoverable point within a few pixels of (x, y), in the panel under it: {panel, j, series, index, x, y};
// over a bar, that bar; on the segment between two vertices of a line, the nearer vertex
function scatterHit(sp, x, y) {
  const reach = SP.hitPx;
  const pi = sp.laid.findIndex((L) =>
    x >= L.left - reach && x <= L.right + reach && y >= L.top - reach && y <= L.bottom + reach);
  if (pi < 0) return null;
  const L = sp.laid[pi], series = sp.panels[pi].series;
  let best = -1, bestD = Infinity;
  for (let j = 0; j < L.n; j++) {
    const dx = L.hx[j] - x, dy = L.hy[j] - y;
    if (L.hw[j] > 0) { // a bar: inside it (or a few pixels off)
      if (Math.abs(dx) <= L.hw[j] + reach && Math.abs(dy) <= L.hh[j] + 1) {
        const d = dy * dy;
        if (d <= bestD) { best = j; bestD = d; }
      }
      continue;
    }
    const d = dx * dx + dy * dy;
    const r = (series[L.hser[j]].radius || 3) + reach;
    if (d <= r * r && d <= bestD) { best = j; bestD = d; } // later-drawn wins a tie: it is on top
  }
  if (best < 0) { // near a line between two vertices
    let bestSeg = -1, segD = SP.lineHitPx * SP.lineHitPx;
    for (let j = 0; j < L.n - 1; j++) {
      if (!L.hseg[j]) continue;
      const ax = L.hx[j], ay = L.hy[j], bx = L.hx[j + 1], by = L.hy[j + 1];
      const vx = bx - ax, vy = by - ay, len = vx * vx + vy * vy;
      const t = len ? Math.max(0, Math.min(1, ((x - ax) * vx + (y - ay) * vy) / len)) : 0;
      const qx = ax + t * vx - x, qy = ay + t * vy - y, d = qx * qx + qy * qy;
      if (d <= segD) { segD = d; bestSeg = t < 0.5 ? j : j + 1; }
    }
    best = bestSeg;
  }
  return best < 0 ? null
    : { panel: pi, j: best, series: L.hser[best], index: L.hidx[best], x: L.hx[best], y: L.hy[best] };
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

// the overlay canvas: the hovered point's ring (the hovered trial's whole line), and the zoom box being dragged
function scatterOverlay(holder) {
  const sp = holder._sp, ctx = sp.overlay.getContext("2d"), T = sp.theme || plotTheme();
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
    const s = sp.panels[sp.hover.panel].series[sp.hover.series], L = sp.laid[sp.hover.panel];
    if (s.kind === "lines" && s.ids) { // the whole line of the hovered trial, thicker
      const id = s.ids[sp.hover.index];
      ctx.save();
      ctx.beginPath(); ctx.rect(L.left, L.top, L.right - L.left, L.bottom - L.top); ctx.clip();
      ctx.strokeStyle = s.color; ctx.lineWidth = 3; ctx.lineJoin = "round";
      ctx.beginPath();
      let open = false;
      for (let i = 0; i < s.xs.length; i++) {
        if (s.ids[i] !== id) { if (open) break; continue; }
        const x = L.px(axisT(sp.panels[sp.hover.panel].x, s.xs[i])), y = L.py(axisT(sp.panels[sp.hover.panel].y, s.ys[i]));
        if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
        if (!open) { ctx.moveTo(x, y); open = true; } else ctx.lineTo(x, y);
      }
      ctx.stroke();
      ctx.restore();
    }
    if (s.kind === "bars") {
      const w = L.hw[sp.hover.j] || 3, hh = L.hh[sp.hover.j] || 3;
      ctx.strokeStyle = T.ring; ctx.lineWidth = 1.5;
      ctx.strokeRect(sp.hover.x - w - 1, sp.hover.y - hh - 1, 2 * w + 2, 2 * hh + 2);
    } else {
      ctx.strokeStyle = T.ring; ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.arc(sp.hover.x, sp.hover.y, (s.radius || 3) + 2.5, 0, 2 * Math.PI); ctx.stroke();
    }
  }
}

// ---- parallel coordinates, with brushing ----
// parcoords(holder, {dims, ids, shade, keep?, onBrush?, label?}) draws one line per trial across the axes:
//   dims: [{key, label, values: [axis units or null (the knob is off for that trial: its "n/a" slot)],
//           range: [lo, hi], ticks?: [[t, text]], format?: (t) => text, categorical?: bool}]
//   shade: [0..1] per line, 1 the best (brightest, drawn last); keep(id): false fades a line (kept out elsewhere)
// Dragging along an axis brushes a range (a click on the axis clears it; on "n/a", keeps the trials without the
// knob); onBrush(brushes) gets {key: {lo, hi} | {na: true}} after each change. Keyboard: left/right pick an axis,
// up/down move its brush (shift: resize), Delete clears it, Escape clears all.
function parcoords(holder, spec) {
  let pc = holder._pc;
  if (!pc) {
    const canvas = h("canvas", { class: "parcoords", "aria-hidden": "true" });
    const overlay = h("canvas", { class: "pc-overlay", tabindex: "0", role: "img" });
    holder.classList.add("scatter");
    holder.replaceChildren(canvas, overlay);
    pc = holder._pc = { canvas, overlay, brushes: new Map(), sel: -1, drag: null, w: 0, h: 0 };
    parcoordsInit(holder, pc);
  }
  pc.spec = spec;
  parcoordsDraw(holder);
}

function parcoordsInit(holder, pc) {
  const local = (ev) => {
    const r = pc.overlay.getBoundingClientRect();
    return { x: ev.clientX - r.left, y: ev.clientY - r.top };
  };
  const emit = () => pc.spec.onBrush && pc.spec.onBrush(Object.fromEntries(pc.brushes));
  pc.emitSoon = () => { clearTimeout(pc.emitTimer); pc.emitTimer = setTimeout(emit, 350); };
  pc.overlay.addEventListener("pointerdown", (ev) => {
    if (ev.button !== 0 || !pc.lay) return;
    const { x, y } = local(ev), L = pc.lay;
    const j = L.xs.findIndex((ax) => Math.abs(ax - x) <= 16);
    if (j < 0 || y < L.top - 8 || y > L.naY + 10) return;
    ev.preventDefault();
    pc.overlay.focus({ preventScroll: true });
    pc.overlay.setPointerCapture(ev.pointerId);
    pc.sel = j;
    pc.drag = { j, y0: y, y1: y };
  });
  pc.overlay.addEventListener("pointermove", (ev) => {
    const { x, y } = local(ev);
    if (pc.drag) { pc.drag.y1 = y; parcoordsOverlay(holder); return; }
    const L = pc.lay;
    pc.overlay.style.cursor = L && L.xs.some((ax) => Math.abs(ax - x) <= 16) && y >= L.top - 8 && y <= L.naY + 10
      ? "ns-resize" : "";
  });
  const end = (ev) => {
    const d = pc.drag;
    if (!d) return;
    pc.drag = null;
    if (pc.overlay.hasPointerCapture(ev.pointerId)) pc.overlay.releasePointerCapture(ev.pointerId);
    const L = pc.lay, dim = pc.spec.dims[d.j];
    if (Math.abs(d.y1 - d.y0) < 4) { // a click: on n/a keep the trials without the knob, elsewhere clear
      if (L.hasNa[d.j] && d.y0 > L.bottom + 6) pc.brushes.set(dim.key, { na: true });
      else pc.brushes.delete(dim.key);
    } else {
      // from the top of the drag to its bottom, snapped to the axis's ends (a value at an end stays in)
      const yTop = Math.max(L.top, Math.min(d.y0, d.y1)), yBottom = Math.min(L.bottom, Math.max(d.y0, d.y1));
      const [lo0, hi0] = dim.range, eps = 1e-9 * Math.max(1e-300, Math.abs(hi0 - lo0));
      const lo = yBottom >= L.bottom - 0.5 ? lo0 - eps : L.tAt(d.j, yBottom);
      const hi = yTop <= L.top + 0.5 ? hi0 + eps : L.tAt(d.j, yTop);
      pc.brushes.set(dim.key, { lo, hi });
    }
    parcoordsDraw(holder);
    emit();
  };
  pc.overlay.addEventListener("pointerup", end);
  pc.overlay.addEventListener("pointercancel", (ev) => { pc.drag = null; end(ev); });
  pc.overlay.addEventListener("keydown", (ev) => {
    const dims = pc.spec.dims;
    if (!dims.length) return;
    const k = ev.key;
    if (k === "ArrowLeft" || k === "ArrowRight") {
      pc.sel = pc.sel < 0 ? 0 : (pc.sel + (k === "ArrowRight" ? 1 : -1) + dims.length) % dims.length;
    } else if ((k === "ArrowUp" || k === "ArrowDown") && pc.sel >= 0) {
      const dim = dims[pc.sel], up = k === "ArrowUp" ? 1 : -1, [lo, hi] = dim.range;
      const b = pc.brushes.get(dim.key);
      if (dim.categorical) { // one choice at a time
        const n = Math.round(hi + 0.5);
        const at = b && !b.na ? Math.round((b.lo + b.hi) / 2) : up > 0 ? -1 : n;
        const next = Math.max(0, Math.min(n - 1, at + up));
        pc.brushes.set(dim.key, { lo: next - 0.4, hi: next + 0.4 });
      } else {
        const span = hi - lo, w = b && !b.na ? b.hi - b.lo : span / 5, mid = b && !b.na ? (b.lo + b.hi) / 2 : lo + span / 2;
        if (ev.shiftKey) {
          const nw = Math.max(span / 100, Math.min(span, w * (up > 0 ? 1.25 : 0.8)));
          pc.brushes.set(dim.key, { lo: mid - nw / 2, hi: mid + nw / 2 });
        } else {
          const c = Math.max(lo + w / 2, Math.min(hi - w / 2, mid + (b ? up * span / 20 : 0)));
          pc.brushes.set(dim.key, { lo: c - w / 2, hi: c + w / 2 });
        }
      }
      pc.emitSoon();
    } else if ((k === "Delete" || k === "Backspace") && pc.sel >= 0) {
      pc.brushes.delete(dims[pc.sel].key);
      pc.emitSoon();
    } else if (k === "Escape") {
      pc.brushes.clear();
      pc.emitSoon();
    } else return;
    ev.preventDefault();
    parcoordsDraw(holder);
  });
  pc.overlay.addEventListener("blur", () => { pc.sel = -1; parcoordsOverlay(holder); });
  let queued = false;
  const onResize = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; if (holder.clientWidth !== pc.w) parcoordsDraw(holder); });
  };
  if (window.ResizeObserver) new ResizeObserver(onResize).observe(holder);
  else window.addEventListener("resize", onResize);
  onThemeChange(() => holder.isConnected && parcoordsDraw(holder));
}

// does line i pass every brush (the lines a brush leaves out are faded at once, before the table answers)
function parcoordsPasses(pc, i) {
  for (const dim of pc.spec.dims) {
    const b = pc.brushes.get(dim.key);
    if (!b) continue;
    const v = dim.values[i];
    if (b.na ? v !== null && v !== undefined : v === null || v === undefined || v < b.lo || v > b.hi) return false;
  }
  return true;
}

// drop brushes on axes that are gone (a knob no longer shown)
function parcoordsClear(holder, key) {
  const pc = holder._pc;
  if (!pc) return;
  if (key === undefined) pc.brushes.clear(); else pc.brushes.delete(key);
  parcoordsDraw(holder);
}

function parcoordsDraw(holder) {
  const pc = holder._pc, { dims, ids, shade, keep } = pc.spec, T = plotTheme();
  const dpr = window.devicePixelRatio || 1;
  const W = holder.clientWidth || 600, H = holder.clientHeight || 340;
  pc.w = W; pc.h = H; pc.dpr = dpr;
  for (const c of [pc.canvas, pc.overlay]) {
    c.width = Math.round(W * dpr); c.height = Math.round(H * dpr);
    c.style.width = `${W}px`; c.style.height = `${H}px`;
  }
  const ctx = pc.canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  const hasNa = dims.map((d) => d.values.some((v) => v === null || v === undefined));
  const anyNa = hasNa.some(Boolean);
  const top = 36, bottom = H - (anyNa ? 40 : 22), naY = bottom + 18, left = 56, right = W - 76;
  const xs = dims.map((_, i) => (dims.length === 1 ? (left + right) / 2 : left + ((right - left) * i) / (dims.length - 1)));
  const yOf = (d, v) => {
    if (v === null || v === undefined) return naY;
    const [lo, hi] = d.range;
    const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
    return bottom - Math.max(0, Math.min(1, t)) * (bottom - top);
  };
  const tAt = (j, y) => {
    const [lo, hi] = dims[j].range;
    return lo + ((bottom - y) / (bottom - top)) * (hi - lo);
  };
  pc.lay = { xs, top, bottom, naY, hasNa, tAt, left, right };
  const n = ids.length;
  const kept = new Uint8Array(n);
  let nKept = 0;
  for (let i = 0; i < n; i++) {
    kept[i] = (!keep || keep(ids[i])) && parcoordsPasses(pc, i) ? 1 : 0;
    nKept += kept[i];
  }
  const line = (i) => {
    ctx.beginPath();
    dims.forEach((d, j) => (j ? ctx.lineTo(xs[j], yOf(d, d.values[i])) : ctx.moveTo(xs[j], yOf(d, d.values[i]))));
    ctx.stroke();
  };
  ctx.lineWidth = 1;
  ctx.strokeStyle = T.faded;
  ctx.globalAlpha = n > 300 ? 0.12 : 0.25;
  for (let i = 0; i < n; i++) if (!kept[i]) line(i);
  const order = [];
  for (let i = 0; i < n; i++) if (kept[i]) order.push(i);
  order.sort((a, b) => shade[a] - shade[b]);
  ctx.globalAlpha = nKept > 300 ? 0.35 : 0.75;
  for (const i of order) { ctx.strokeStyle = viridis(shade[i]); line(i); }
  ctx.globalAlpha = 1;
  ctx.font = SP.font;
  ctx.textBaseline = "middle";
  const dimState = [];
  dims.forEach((d, j) => {
    const x = xs[j];
    ctx.strokeStyle = T.text;
    ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, bottom); ctx.stroke();
    ctx.fillStyle = T.text;
    ctx.textAlign = "center";
    ctx.fillText(d.label.length > 22 ? `${d.label.slice(0, 21)}…` : d.label, x, top - 24);
    const ticks = d.ticks || [d.range[0], (d.range[0] + d.range[1]) / 2, d.range[1]].map((v) => [v, d.format(v)]);
    const every = Math.max(1, Math.ceil(ticks.length / 12));
    ctx.textAlign = "right";
    const shown = [];
    ticks.forEach(([v, text], k) => {
      if (k % every) return;
      const label = String(text).length > 18 ? `${String(text).slice(0, 17)}…` : String(text);
      const ty = yOf(d, v);
      ctx.fillStyle = T.tickBg;
      const w = ctx.measureText(label).width;
      ctx.fillRect(x - 6 - w - 2, ty - 7, w + 4, 14);
      ctx.fillStyle = T.text;
      ctx.fillText(label, x - 6, ty);
      ctx.beginPath(); ctx.moveTo(x - 3, ty); ctx.lineTo(x, ty); ctx.stroke();
      shown.push(String(text));
    });
    if (hasNa[j]) {
      ctx.fillStyle = T.muted; ctx.textAlign = "right";
      ctx.fillText("n/a", x - 6, naY);
      ctx.beginPath(); ctx.arc(x, naY, 2, 0, 2 * Math.PI); ctx.fill();
    }
    const b = pc.brushes.get(d.key);
    if (b) {
      ctx.fillStyle = "rgba(44,107,237,0.22)"; ctx.strokeStyle = T.complete;
      const y0 = b.na ? naY - 7 : yOf(d, Math.min(b.hi, d.range[1])), y1 = b.na ? naY + 7 : yOf(d, Math.max(b.lo, d.range[0]));
      ctx.fillRect(x - 9, y0, 18, y1 - y0); ctx.strokeRect(x - 9 + 0.5, y0 + 0.5, 17, y1 - y0);
    }
    dimState.push({ key: d.key, label: d.label, x, range: d.range.slice(), ticks: shown, na: hasNa[j],
      brush: b ? { ...b } : null });
  });
  // the color scale: brightest is best
  const bx = W - 40, grad = ctx.createLinearGradient(0, bottom, 0, top);
  VIRIDIS.forEach((c, i) => grad.addColorStop(i / (VIRIDIS.length - 1), c));
  ctx.fillStyle = grad;
  ctx.fillRect(bx, top, 14, bottom - top);
  ctx.fillStyle = T.text;
  ctx.textAlign = "center";
  ctx.fillText("best", bx + 7, top - 10);
  ctx.fillText("worst", bx + 7, bottom + 12);
  holder.plotState = { dims: dimState, lines: n, kept: nKept, rect: { top, bottom, left, right, naY } };
  const label = typeof pc.spec.label === "function" ? pc.spec.label() : pc.spec.label;
  pc.overlay.setAttribute("aria-label", `${label || "Parallel coordinates"}: ${nKept} of ${n} lines kept. ` +
    "Drag along an axis to keep a range; with the keyboard, left and right pick an axis, up and down move its " +
    "range (shift resizes it), Delete clears it, Escape clears all.");
  parcoordsOverlay(holder);
}

function parcoordsOverlay(holder) {
  const pc = holder._pc, ctx = pc.overlay.getContext("2d"), L = pc.lay;
  ctx.setTransform(pc.dpr, 0, 0, pc.dpr, 0, 0);
  ctx.clearRect(0, 0, pc.w, pc.h);
  if (!L) return;
  if (pc.sel >= 0 && pc.sel < L.xs.length) {
    ctx.strokeStyle = cssVar("--accent", "#2c6bed"); ctx.lineWidth = 2; ctx.setLineDash([4, 3]);
    ctx.strokeRect(L.xs[pc.sel] - 14, L.top - 34, 28, L.naY - L.top + 46);
    ctx.setLineDash([]);
  }
  const d = pc.drag;
  if (d && Math.abs(d.y1 - d.y0) >= 4) {
    const x = L.xs[d.j], y0 = Math.max(L.top, Math.min(d.y0, d.y1)), y1 = Math.min(L.bottom, Math.max(d.y0, d.y1));
    ctx.fillStyle = "rgba(44,107,237,0.22)"; ctx.fillRect(x - 9, y0, 18, y1 - y0);
  }
}
