// knoblab dashboard: small vanilla JS over the JSON API. Every string from storage reaches the page through
// textContent (never innerHTML), through renderMarkdown() (markdown.js, which builds nodes) for notes, and through
// pt() before plotly, which reads a few HTML tags in its labels. The canvas plots are in plots.js.
"use strict";

const CFG = { read_only: true, poll_interval: 1, rounds_supported: false, plotly: "" };
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

// a value as people read it: 5 significant digits (0.1 + 0.2 shows 0.3), exponents for the tiny and the huge
function fmt(v) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3).replace(/\.?0+e/, "e").replace("e+", "e");
    return String(Number(v.toPrecision(5)));
  }
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function fmtDur(s) {
  if (s === null || s === undefined) return "–";
  if (s < 0.1) return "< 0.1 s";
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

// a trial's state; a PRUNED trial someone stopped reads "stopped by user", apart from the scheduler's prunings
const STATE_WORDS = {
  QUEUED: ["queued", "waiting for a worker"], RUNNING: ["running", "running now"],
  COMPLETE: ["complete", "finished and returned its metrics"],
  PRUNED: ["pruned", "pruned by the scheduler (or the time limit) before its last epoch"],
  FAILED: ["failed", "raised an error, or returned no usable value"],
  STOPPED: ["stopped by user", "stopped on request (the dashboard's Stop) before its last epoch"],
};

function badge(stateName, stopped, long) {
  const key = stopped && stateName === "PRUNED" ? "STOPPED" : stateName;
  const [word, why] = STATE_WORDS[key] || [stateName.toLowerCase(), ""];
  const text = long && key === "PRUNED" ? "pruned by the scheduler" : word;
  return h("span", { class: `badge ${key}`, title: why, text });
}

function stat(k, v, id) {
  return h("div", { class: "stat", id }, h("div", { class: "k", text: k }), h("div", { class: "v" }, v));
}

function setCrumbs(items) {
  const nav = $("#crumbs");
  nav.replaceChildren();
  items.forEach((it, i) => {
    if (i) nav.append(h("span", { class: "sep", "aria-hidden": "true", text: "/" }));
    nav.append(it.href ? h("a", { href: it.href, text: it.text }) : h("span", { "aria-current": "page", text: it.text }));
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

// plotly.js (4.8 MB, from the plotly package): only the trial and compare pages load it, after their first content.
// Its address names its content, and the server lets browsers keep it for a year: loaded once, then from cache.
let plotlyLoading = null;
function loadPlotly() {
  if (window.Plotly) return Promise.resolve();
  if (!plotlyLoading) {
    plotlyLoading = new Promise((resolve, reject) => {
      const script = h("script", { src: CFG.plotly });
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
  const T = plotTheme();
  const layout = Object.assign(
    { margin: { l: 56, r: 16, t: 30, b: 42 }, font: { size: 11, color: T.text }, paper_bgcolor: T.bg,
      plot_bgcolor: T.bg, legend: { orientation: "h", y: 1.12 }, hovermode: "closest" },
    extra || {},
  );
  layout.xaxis = Object.assign({ zeroline: false, gridcolor: T.grid, linecolor: T.frame }, layout.xaxis);
  layout.yaxis = Object.assign({ zeroline: false, gridcolor: T.grid, linecolor: T.frame }, layout.yaxis);
  return layout;
}

function message(box, text, ok) {
  box.className = ok ? "msg ok" : "msg error";
  box.textContent = text;
}

// ---- theme: the system's setting, or the one chosen in the header (kept in this browser) ----
function applyTheme(choice) {
  if (choice === "light" || choice === "dark") document.documentElement.dataset.theme = choice;
  else delete document.documentElement.dataset.theme;
  themeChanged();
}

function initTheme() {
  let choice = "system";
  try { choice = localStorage.getItem("knoblab:theme") || "system"; } catch (e) { /* storage off: system */ }
  const select = $("#theme");
  select.value = choice;
  applyTheme(choice);
  select.addEventListener("change", () => {
    try { localStorage.setItem("knoblab:theme", select.value); } catch (e) { /* not kept */ }
    applyTheme(select.value);
  });
  if (window.matchMedia) {
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
      if (!document.documentElement.dataset.theme) themeChanged();
    });
  }
}

// a note in Markdown, with an editor when the dashboard may change it; save(text) stores it
function noteEditor({ id, note, save, empty, label }) {
  let current = note || "";
  const view = h("div", { class: "md", id: `${id}-view` });
  const area = h("textarea", { id, rows: 5, "aria-label": label, hidden: true,
    placeholder: "Markdown: **bold**, *italic*, `code`, - lists, [links](address)" });
  const msg = h("div", { class: "msg", id: `${id}-msg`, role: "status" });
  const show = () => {
    view.replaceChildren(current ? renderMarkdown(current) : h("p", { class: "muted", text: empty }));
  };
  const editing = (on) => {
    area.hidden = !on; saveBtn.hidden = !on; cancelBtn.hidden = !on; editBtn.hidden = on; view.hidden = on;
    if (on) { area.value = current; area.focus(); }
  };
  const editBtn = h("button", { type: "button", id: `${id}-edit`, text: current ? "Edit note" : "Add a note",
    onclick: () => editing(true) });
  const saveBtn = h("button", { type: "button", class: "primary", id: `${id}-save`, text: "Save note", hidden: true,
    onclick: async () => {
      try {
        await save(area.value);
        current = area.value;
        show();
        editing(false);
        editBtn.textContent = current ? "Edit note" : "Add a note";
        message(msg, "Saved.", true);
      } catch (e) { message(msg, e.message); }
    } });
  const cancelBtn = h("button", { type: "button", id: `${id}-cancel`, text: "Cancel", hidden: true,
    onclick: () => editing(false) });
  show();
  return {
    node: h("div", { class: "note" }, view, area,
      CFG.read_only ? null : h("div", { class: "row" }, editBtn, saveBtn, cancelBtn), msg),
    update(text) { // a newer note from storage, unless it is being edited
      if (!area.hidden || (text || "") === current) return;
      current = text || "";
      show();
      editBtn.textContent = current ? "Edit note" : "Add a note";
    },
    isEditing: () => !area.hidden,
  };
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
          h("caption", { class: "sr-only", text: "Experiments in this storage" }),
          h("thead", {}, h("tr", {},
            ["Name", "Objective", "Rounds", "Trials", "By state", "Best", "Time running", "Last activity", "Note"].map(
              (t) => h("th", { scope: "col", text: t })))),
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
      h("td", {}, stateBadges(e.counts, e.stopped)),
      h("td", { class: "num", text: fmt(e.best) }),
      h("td", {}, fmtDur(e.elapsed), e.running ? h("span", { class: "muted small", text: " (running)" }) : null),
      h("td", { text: fmtTime(e.last_activity) }),
      h("td", { class: "wrap note-cell" }, e.note ? renderMarkdown(e.note, { inline: true, max: 120 }) : ""),
    )));
  });
}

// counts by state as badges; stopped trials (PRUNED on request) counted apart from the pruned ones
function stateBadges(counts, stopped) {
  const out = [];
  for (const s of STATES) {
    let n = counts[s] || 0;
    if (s === "PRUNED") n -= stopped || 0;
    if (n > 0) out.push(h("span", { class: `badge ${s}`, title: STATE_WORDS[s][1], text: `${n} ${STATE_WORDS[s][0]}` }));
    if (s === "PRUNED" && stopped) {
      out.push(h("span", { class: "badge STOPPED", title: STATE_WORDS.STOPPED[1], text: `${stopped} stopped by user` }));
    }
  }
  return h("span", { class: "badges" }, out);
}

// ---- one experiment ----
function knobIsNumeric(k) {
  return k.kind === "real" || k.kind === "int";
}

function choicesOf(k) {
  return k.kind === "bool" ? [false, true] : k.choices || [];
}

const key = (v) => JSON.stringify(v);

// a value as a filter condition writes it (table.py reads it back), or null when it cannot be written
function filterToken(v) {
  if (v === null || v === undefined) return "none";
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  const s = String(v);
  if (/^[A-Za-z_][\w.-]*$/.test(s) && !/^(true|false|none|null)$/i.test(s)) return s;
  if (!s.includes('"')) return `"${s}"`;
  if (!s.includes("'")) return `'${s}'`;
  return null;
}

const FIELD = /^[A-Za-z_][\w.:/-]*$/;

async function pageExperiment(id) {
  const exp = await api(`/api/experiments/${id}`);
  document.title = `knoblab · ${exp.name}`;
  setCrumbs([{ text: "Experiments", href: "/" }, { text: exp.name }]);
  const knobs = exp.knobs.filter((k) => k.kind !== "fixed");
  const metricCols = exp.metrics.filter((m) => m !== exp.metric);
  const points = new Map();
  let workers = [], origin = Date.parse(exp.created_at);
  let rev = 0, epoch = "", tableRev = -1;
  const view = { sort: "number", desc: false, offset: 0, limit: 50, states: new Set(STATES), filter: "", brush: "" };
  let keep = null; // ids of the trials the table's states, filter and brush keep; null: every trial
  let keepKey = "";
  const brushes = {}; // parallel coordinates' brushes, by dimension key
  const selected = new Set();
  const better = (a, b) => (exp.direction === "min" ? a < b : a > b);
  const kept = (p) => !keep || keep.has(p.id);

  // header
  const statBox = h("div", { class: "stats", id: "stats" });
  const renderStats = (s) => {
    const best = s.best
      ? h("a", { href: `/trials/${s.best.id}`, text: `${fmt(s.best.value)} (#${s.best.number})` })
      : "–";
    statBox.replaceChildren(
      stat("Best", best, "stat-best"),
      stat("Objective", `${exp.direction} ${exp.metric}`),
      stat("Trials", String(s.n_trials)),
      stat("Rounds", String(exp.rounds)),
      stat("By state", stateBadges(s.counts, s.stopped)),
    );
  };
  renderStats(exp);
  const note = noteEditor({ id: "exp-note", note: exp.note, label: `note on experiment ${exp.name}`,
    empty: "No note on this experiment.", save: (text) => post(`/api/experiments/${id}/note`, { note: text }) });

  // trials table
  const filterBox = h("input", { type: "text", class: "filter", id: "filter", "aria-label": "filter the trials",
    placeholder: "filter: lr<0.01, optimizer=adam|nadam, note~retry", value: "" });
  const filterMsg = h("div", { class: "msg", id: "filter-msg", role: "status" });
  const stateBoxes = STATES.map((s) => h("label", { class: "small check" },
    h("input", { type: "checkbox", checked: true, "data-state": s, onchange: (ev) => {
      if (ev.target.checked) view.states.add(s); else view.states.delete(s);
      view.offset = 0; loadTable();
    } }), ` ${STATE_WORDS[s][0]}`));
  const thead = h("thead");
  const tbody = h("tbody");
  const pagerText = h("span", { class: "small muted", role: "status" });
  const prev = h("button", { type: "button", text: "‹ previous",
    onclick: () => { view.offset = Math.max(0, view.offset - view.limit); loadTable(); } });
  const next = h("button", { type: "button", text: "next ›",
    onclick: () => { view.offset += view.limit; loadTable(); } });
  const compareBtn = h("button", { type: "button", class: "primary", id: "compare-btn", disabled: true,
    text: "Compare selected", onclick: () => { location.href = `/compare?trials=${[...selected].join(",")}`; } });
  const csvLink = h("a", { id: "csv-link", class: "button", download: "", text: "Download CSV",
    title: "every trial the filter keeps, with the shown columns, exact values" });
  const chips = h("div", { class: "chips", id: "brush-chips", "aria-label": "selection from the plots" });
  let filterTimer = null;
  filterBox.addEventListener("input", () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => { view.filter = filterBox.value; view.offset = 0; loadTable(); }, 250);
  });

  const columns = () => [
    { key: "number", label: "#", fixed: true },
    { key: "state", label: "state" },
    { key: "value", label: exp.metric },
    ...(exp.rounds > 1 ? [{ key: "round", label: "round" }] : []),
    ...knobs.map((k) => ({ key: `param.${k.name}`, label: k.name, get: (r) => r.params[k.name] })),
    ...metricCols.map((m) => ({ key: `metric.${m}`, label: m, metric: m })),
    { key: "duration", label: "duration" },
    { key: "worker", label: "worker", hidden: true },
    { key: "started_at", label: "started", hidden: true },
    { key: "note", label: "note" },
  ];
  const colStore = `knoblab:columns:${exp.name}`;
  let hiddenCols;
  try { hiddenCols = new Set(JSON.parse(localStorage.getItem(colStore) || "null") || []); } catch (e) { hiddenCols = null; }
  if (!hiddenCols || !hiddenCols.size) hiddenCols = new Set(columns().filter((c) => c.hidden).map((c) => c.key));
  const visible = () => columns().filter((c) => c.fixed || !hiddenCols.has(c.key));
  const chooser = h("details", { class: "chooser", id: "columns" }, h("summary", { text: "Columns" }));
  let chooserShape = "", headShape = "";
  const renderChooser = () => { // rebuilt only when the columns change: a box being ticked keeps its focus
    const shape = key(columns().map((c) => c.key));
    if (shape === chooserShape) return;
    chooserShape = shape;
    chooser.replaceChildren(chooser.firstChild, h("fieldset", {}, h("legend", { class: "sr-only", text: "columns shown" }),
      columns().filter((c) => !c.fixed).map((c) => h("label", { class: "check" },
        h("input", { type: "checkbox", "data-column": c.key, checked: !hiddenCols.has(c.key), onchange: (ev) => {
          if (ev.target.checked) hiddenCols.delete(c.key); else hiddenCols.add(c.key);
          try { localStorage.setItem(colStore, JSON.stringify([...hiddenCols])); } catch (e) { /* not kept */ }
          renderTable();
        } }), ` ${c.label}`))));
  };
  const csvHref = () => {
    const cols = visible().flatMap((c) => (c.key === "state" ? ["state", "stopped"] : [c.key]));
    const q = new URLSearchParams({ sort: view.sort, desc: view.desc, state: [...view.states].join(","),
      filter: view.filter, brush: view.brush, columns: cols.join(",") });
    return view.states.size ? `/api/experiments/${id}/trials.csv?${q}` : null;
  };
  const renderHead = () => { // rebuilt only when the columns or the sort change: a focused header keeps its focus
    const shape = key([visible().map((c) => [c.key, c.label]), view.sort, view.desc]);
    if (shape === headShape) return;
    headShape = shape;
    thead.replaceChildren(h("tr", {}, h("th", { scope: "col" }, h("span", { class: "sr-only", text: "compare" })),
      visible().map((c) => {
        const sorted = view.sort === c.key;
        return h("th", { scope: "col", class: "sortable" + (sorted ? " sorted" + (view.desc ? " desc" : "") : ""),
          "data-key": c.key, "aria-sort": sorted ? (view.desc ? "descending" : "ascending") : "none" },
        h("button", { type: "button", class: "sort", text: c.label,
          "aria-label": `${c.label}: sort ${sorted && !view.desc ? "descending" : "ascending"}`,
          onclick: () => {
            if (view.sort === c.key) view.desc = !view.desc; else { view.sort = c.key; view.desc = false; }
            view.offset = 0;
            loadTable().then(() => { const b = thead.querySelector(`th[data-key="${CSS.escape(c.key)}"] button`); if (b) b.focus(); });
          } }));
      })));
  };
  const lastOf = (r, m) => (r.last && r.last.metrics[m] !== undefined ? r.last : null);
  const cell = (c, r) => {
    if (c.key === "number") return h("td", { class: "num" }, h("a", { href: `/trials/${r.id}`, text: `#${r.number}` }));
    if (c.key === "state") {
      return h("td", {}, badge(r.state, r.stopped),
        r.stop_requested && r.state === "RUNNING" ? h("span", { class: "badge STOPPED", text: "stopping" }) : null);
    }
    if (c.key === "duration") return h("td", { class: "num", text: fmtDur(r.duration) });
    if (c.key === "note") return h("td", { class: "wrap note-cell" }, r.note ? renderMarkdown(r.note, { inline: true, max: 160 }) : "");
    if (c.key === "started_at") return h("td", { text: fmtTime(r.started_at) });
    if (c.key === "value" && r.value === null && r.state === "RUNNING" && lastOf(r, exp.metric)) {
      const last = lastOf(r, exp.metric);
      return h("td", { class: "num from-last", title: `running: last report, step ${last.step}` }, fmt(last.metrics[exp.metric]),
        h("span", { class: "step", text: ` @${last.step}` }));
    }
    if (c.metric) {
      const v = r.metrics[c.metric];
      const last = (v === undefined || v === null) && lastOf(r, c.metric);
      if (last) { // a trial that did not complete: its metrics from its last report
        return h("td", { class: "num from-last", title: `last report, step ${last.step}` }, fmt(last.metrics[c.metric]),
          h("span", { class: "step", text: ` @${last.step}` }));
      }
      return h("td", { class: typeof v === "number" ? "num" : "", text: fmt(v) });
    }
    const v = c.get ? c.get(r) : r[c.key];
    return h("td", { class: typeof v === "number" ? "num" : "", text: fmt(v) });
  };
  let lastRes = { total: 0, rows: [] };
  function renderTable() {
    const res = lastRes;
    renderHead();
    renderChooser();
    // a live search redraws the rows every poll: keep the keyboard's focus on the same trial's link or box
    const focused = tbody.contains(document.activeElement) ? document.activeElement : null;
    const refocus = focused && [focused.closest("tr")?.dataset.id, focused.matches("input.pick") ? "input.pick" : "a"];
    tbody.replaceChildren(...res.rows.map((r) => h("tr", { "data-id": r.id, "data-number": r.number },
      h("td", {}, h("input", { type: "checkbox", class: "pick", checked: selected.has(r.id),
        "aria-label": `compare trial #${r.number}`, onchange: (ev) => {
          if (ev.target.checked) selected.add(r.id); else selected.delete(r.id);
          compareBtn.disabled = selected.size === 0;
          compareBtn.textContent = selected.size ? `Compare selected (${selected.size})` : "Compare selected";
        } })),
      visible().map((c) => cell(c, r)))));
    if (refocus) tbody.querySelector(`tr[data-id="${refocus[0]}"] ${refocus[1]}`)?.focus();
    const end = Math.min(res.total, view.offset + res.rows.length);
    pagerText.textContent = res.total ? `${view.offset + 1}–${end} of ${res.total}` : "no trials match";
    prev.disabled = view.offset === 0;
    next.disabled = end >= res.total;
    const href = csvHref();
    if (href) { csvLink.href = href; csvLink.removeAttribute("aria-disabled"); } else {
      csvLink.removeAttribute("href"); csvLink.setAttribute("aria-disabled", "true");
    }
  }
  const filtered = () => Boolean(view.filter.trim() || view.brush || view.states.size < STATES.length);
  async function loadTable() {
    const q = new URLSearchParams({ offset: view.offset, limit: view.limit, sort: view.sort, desc: view.desc,
      state: [...view.states].join(","), filter: view.filter, brush: view.brush, ids: filtered() });
    let res;
    try {
      res = view.states.size === 0 ? { total: 0, rows: [], rev, ids: [] } : await api(`/api/experiments/${id}/trials?${q}`);
      filterMsg.className = "msg"; filterMsg.textContent = "";
    } catch (e) {
      message(filterMsg, e.message);
      return;
    }
    for (const r of res.rows) {
      for (const m of [...Object.keys(r.metrics), ...Object.keys((r.last && r.last.metrics) || {})]) {
        if (m !== exp.metric && !metricCols.includes(m)) metricCols.push(m);
      }
    }
    tableRev = res.rev;
    lastRes = res;
    renderTable();
    mark("table");
    const newKeep = res.ids ? new Set(res.ids) : null;
    const newKey = res.ids ? `${res.ids.length}:${res.ids.join(",")}` : "";
    if (newKey !== keepKey) { // the kept trials changed: the plots follow
      keep = newKeep;
      keepKey = newKey;
      curvesSince = 0;
      schedulePlots();
    }
  }

  function renderChips() {
    const items = Object.entries(brushes).map(([k, b]) => {
      const dim = dimInfo.get(k);
      const label = dim ? dim.label : k;
      let text;
      if (b.na) text = `${label}: n/a`;
      else if (dim && dim.categorical) {
        text = `${label}: ${dim.choices.filter((_, i) => i >= b.lo && i <= b.hi).map(fmt).join(" | ")}`;
      } else {
        const v = (t) => fmt(dim && dim.log ? 10 ** t : t);
        text = `${label}: ${v(b.lo)} – ${v(b.hi)}`;
      }
      return h("button", { type: "button", class: "chip", "data-brush": k, title: "remove this range",
        "aria-label": `remove the selection ${text}`, onclick: () => { delete brushes[k]; parcoordsClear(parallel, k); applyBrush(); } },
      text, h("span", { "aria-hidden": "true", text: " ×" }));
    });
    chips.replaceChildren(...(items.length ? [h("span", { class: "small muted", text: "Selected in the parallel coordinates:" }),
      ...items, h("button", { type: "button", class: "chip", id: "brush-clear", text: "clear all",
        onclick: () => { for (const k of Object.keys(brushes)) delete brushes[k]; parcoordsClear(parallel); applyBrush(); } })] : []));
  }
  // the brushes as filter conditions (table.py's language), so the server keeps the same trials everywhere
  function applyBrush() {
    const parts = [];
    const problems = [];
    for (const [k, b] of Object.entries(brushes)) {
      const dim = dimInfo.get(k);
      if (!dim) continue;
      if (!FIELD.test(dim.field)) { problems.push(dim.label); continue; }
      if (b.na) { parts.push(`${dim.field}=none`); continue; }
      if (dim.categorical) {
        const chosen = dim.choices.filter((_, i) => i >= b.lo && i <= b.hi).map(filterToken);
        if (!chosen.length) { parts.push(`${dim.field}=none, ${dim.field}!=none`); continue; } // keeps nothing
        if (chosen.includes(null)) { problems.push(dim.label); continue; }
        parts.push(`${dim.field}=${chosen.join("|")}`);
      } else {
        const v = (t) => String(dim.log ? 10 ** t : t);
        parts.push(`${dim.field}>=${v(b.lo)}, ${dim.field}<=${v(b.hi)}`);
      }
    }
    view.brush = parts.join(", ");
    view.offset = 0;
    renderChips();
    if (problems.length) message(filterMsg, `cannot filter on ${problems.join(", ")} from the plot: write the condition in the filter box`);
    loadTable();
  }

  // plots: on 2D canvases (no plotly.js on this page), drawn in stages so each shows as soon as it can
  const plotCurves = h("div", { class: "plot", id: "plot-curves" });
  const history = h("div", { class: "plot", id: "plot-history" });
  const parallel = h("div", { class: "plot", id: "plot-parallel" });
  const knobPlots = h("div", { id: "plot-knobs", style: `width:100%;height:${Math.ceil(knobs.length / 4) * 240}px` });
  const pairPlot = h("div", { class: "plot", id: "plot-pair" });
  const edfPlot = h("div", { class: "plot small", id: "plot-edf" });
  const timeline = h("div", { class: "plot small", id: "plot-timeline" });
  const parallelTitle = h("h2", { text: "Parallel coordinates (complete trials)" });
  const curvesInfo = h("p", { class: "small muted", id: "curves-info" });
  const importances = h("div", { id: "importances" }, h("p", { class: "muted", text: "…" }));
  let importancesStarted = false;
  const PARALLEL_MAX = 1000; // more lines are a hairball, and slow to draw without a GPU
  const openTrial = (trialId) => { location.href = `/trials/${trialId}`; };
  const T = () => plotTheme();

  // the learning curves' controls: which metric, how many lines, log scale
  const curveMetric = h("select", { id: "curves-metric" }, h("option", { value: exp.metric, text: exp.metric }));
  const curveTop = h("select", { id: "curves-top" },
    [[50, "best 50"], [200, "best 200"], [1000, "best 1,000"], [5000, "best 5,000"]].map(([v, t]) =>
      h("option", { value: String(v), text: t, selected: v === 200 })));
  const curveLog = h("input", { type: "checkbox", id: "curves-log" });
  let curves = null, curvesSince = 0, curvesEpoch = "";
  for (const el of [curveMetric, curveTop]) el.addEventListener("change", () => { curvesSince = 0; schedulePlots(); });
  curveLog.addEventListener("change", () => drawCurves());

  async function renderPlots() {
    await nextFrame();
    let cost = 0;
    const timed = (fn) => { const t0 = performance.now(); fn(); cost += performance.now() - t0; };
    const all = [...points.values()].sort((a, b) => a.n - b.n);
    const shown = all.filter(kept);
    const done = shown.filter((p) => p.s === "COMPLETE" && p.v !== null);
    timed(() => { drawHistory(shown, done); mark("history"); });
    // the server picks and reads the curves meanwhile; they are drawn as soon as they come, between the plots below
    let arrived = false, drawn = false;
    const loading = loadCurves().then(() => { arrived = true; });
    const curvesIfThere = () => {
      if (arrived && !drawn) { drawn = true; timed(() => { drawCurves(); mark("curves"); }); }
    };
    timed(() => { drawParallel(all.filter((p) => p.s === "COMPLETE" && p.v !== null)); mark("parallel"); });
    for (const step of [() => { drawKnobs(done); mark("knobs"); }, () => { drawPair(done); mark("pair"); },
      () => { drawEdf(done); drawTimeline(shown); mark("timeline"); }]) {
      await nextFrame(); // paint what is drawn before the next plot
      curvesIfThere();
      timed(step);
    }
    await loading;
    curvesIfThere();
    plotCost = cost; // drawing only, not the waits
    if (!importancesStarted) {
      importancesStarted = true; // the analysis waits until the page has drawn: it competes for the CPU
      importanceLoop();
    }
  }

  // marker series of trials (points from the API): x from xOf, y the metric; the tooltip names the trial
  const trialSeries = (name, rows, xOf, style, extra) => ({
    name, xs: rows.map(xOf), ys: rows.map((p) => p.v), ids: rows.map((p) => p.id), ns: rows.map((p) => p.n),
    tip: (i) => `#${rows[i].n}: ${fmt(rows[i].v)}${extra ? `\n${extra(rows[i])}` : ""}`, ...style });
  const filteredNote = () => (keep ? ` (the ${keep.size} trials the filter keeps)` : "");

  function drawHistory(all, done) {
    const pruned = all.filter((p) => p.s === "PRUNED" && p.v !== null && !p.x);
    const stopped = all.filter((p) => p.s === "PRUNED" && p.v !== null && p.x);
    let best = null;
    const bestX = [], bestY = [];
    for (const p of done) {
      if (best === null || better(p.v, best)) { best = p.v; bestX.push(p.n); bestY.push(best); }
    }
    if (done.length) { bestX.push(done[done.length - 1].n); bestY.push(best); } // the line runs to the last trial
    const t = T();
    scatterPanels(history, [{
      key: "history", legend: true, empty: keep ? "No complete trial matches the filter." : "Appears once a trial completes.",
      x: { type: "linear", title: "trial", integer: true }, y: { type: "linear", title: exp.metric },
      series: [
        trialSeries("complete", done, (p) => p.n, { color: t.complete, radius: 3, alpha: 0.85 }),
        trialSeries("pruned", pruned, (p) => p.n, { color: t.pruned, radius: 2.5, alpha: 0.6 }),
        ...(stopped.length ? [trialSeries("stopped by user", stopped, (p) => p.n, { color: t.stopped, radius: 2.5, alpha: 0.7 })] : []),
        { name: "best so far", kind: "step", xs: bestX, ys: bestY, color: t.best, width: 2 },
      ],
    }], { onClick: openTrial, label: () => `Optimization history of ${exp.metric}${filteredNote()}: ${done.length} complete ` +
      `trials${best === null ? "" : `, best ${fmt(best)}`}, ${pruned.length} pruned, ${stopped.length} stopped by user` });
  }

  async function loadCurves() {
    if (!view.states.size) { curves = null; curvesSince = 0; return; }
    const q = new URLSearchParams({ metric: curveMetric.value, top: curveTop.value, state: [...view.states].join(","),
      filter: view.filter, brush: view.brush, since: curvesSince, epoch: curvesEpoch });
    try {
      const res = await api(`/api/experiments/${id}/curves?${q}`);
      curvesEpoch = res.epoch;
      curvesSince = res.rev;
      if (res.unchanged) return;
      curves = res;
      if (JSON.stringify(res.metrics) !== JSON.stringify([...curveMetric.options].map((o) => o.value))) {
        curveMetric.replaceChildren(...res.metrics.map((m) => h("option", { value: m, text: m, selected: m === res.metric })));
      }
    } catch (e) {
      curvesInfo.textContent = e.message;
    }
  }

  function drawCurves() {
    const t = T(), c = curves;
    const metric = c ? c.metric : exp.metric;
    const lines = { COMPLETE: [], PRUNED: [], STOPPED: [], RUNNING: [], FAILED: [] };
    const ends = { PRUNED: [], STOPPED: [], RUNNING: [] };
    let bestCurve = null;
    for (const cv of (c ? c.curves : [])) {
      const group = cv.x ? "STOPPED" : cv.s in lines ? cv.s : "FAILED";
      lines[group].push(cv);
      if (group in ends && cv.steps.length) ends[group].push(cv);
      const p = points.get(cv.id);
      if (cv.s === "COMPLETE" && p && p.v !== null && (!bestCurve || better(p.v, points.get(bestCurve.id).v))) bestCurve = cv;
    }
    const lineSeries = (name, list, style) => {
      const xs = [], ys = [], ids = [], ns = [];
      for (const cv of list) {
        cv.steps.forEach((s, i) => { xs.push(s); ys.push(cv.values[i]); ids.push(cv.id); ns.push(cv.n); });
      }
      return { name, kind: "lines", xs, ys, ids, ns, ...style,
      tip: (i) => `#${ns[i]} (${name === "best" ? "best, complete" : name}): ${metric} ${fmt(ys[i])} at epoch ${xs[i]}` };
    };
    const endSeries = (name, list, style) => ({ name, xs: list.map((cv) => cv.steps[cv.steps.length - 1]),
      ys: list.map((cv) => cv.values[cv.values.length - 1]), ids: list.map((cv) => cv.id), ns: list.map((cv) => cv.n),
      tip: (i) => `#${list[i].n} ${name} at epoch ${list[i].steps[list[i].steps.length - 1]}: ${fmt(list[i].values[list[i].values.length - 1])}`,
      ...style });
    const many = c && c.shown > 60;
    const series = [];
    if (c && c.band) {
      const b = c.band;
      series.push({ name: "10–90% of all", kind: "band", xs: b.steps, ys: b.q10, ys2: b.q90, color: t.band, alpha: 0.12 });
      series.push({ name: "25–75%", kind: "band", xs: b.steps, ys: b.q25, ys2: b.q75, color: t.band, alpha: 0.2 });
      series.push({ name: "median", kind: "line", xs: b.steps, ys: b.q50, color: t.band, width: 1.5, dash: [5, 3] });
    }
    series.push(
      lineSeries("complete", lines.COMPLETE.filter((cv) => cv !== bestCurve), { color: t.complete, alpha: many ? 0.35 : 0.65, width: 1.2 }),
      lineSeries("pruned", lines.PRUNED, { color: t.pruned, alpha: many ? 0.45 : 0.75, width: 1.2 }),
      lineSeries("stopped by user", lines.STOPPED, { color: t.stopped, alpha: 0.8, width: 1.2, legend: lines.STOPPED.length > 0 }),
      lineSeries("failed", lines.FAILED, { color: t.failed, alpha: 0.7, width: 1.2, legend: lines.FAILED.length > 0 }),
    );
    if (bestCurve) series.push(lineSeries("best", [bestCurve], { color: t.best, alpha: 1, width: 2.4 }));
    series.push(lineSeries("running", lines.RUNNING, { color: t.running, alpha: 1, width: 2, legend: lines.RUNNING.length > 0 }));
    series.push(endSeries("pruned here", ends.PRUNED, { shape: "cross", color: t.pruned, radius: 3.5, alpha: 0.9, legend: false }));
    series.push(endSeries("stopped here", ends.STOPPED, { shape: "cross", color: t.stopped, radius: 3.5, alpha: 0.9, legend: false }));
    series.push(endSeries("running, now", ends.RUNNING, { shape: "ring", color: t.running, radius: 4, alpha: 1, legend: false }));
    const emptyText = keep ? "No trial the filter keeps has reported this metric." : "Appears once a trial reports an epoch.";
    scatterPanels(plotCurves, [{ key: "curves", legend: true, empty: emptyText,
      x: { type: "linear", title: "epoch (step)", integer: true }, y: { type: curveLog.checked ? "log" : "linear", title: metric },
      series }], { onClick: openTrial, label: () => `Learning curves of ${metric}: ${c ? c.shown : 0} trials drawn` +
        `${c && c.band ? ` of ${c.n}, over the band of all` : ""}${filteredNote()}` });
    curvesInfo.textContent = !c ? "" : c.band
      ? `The best ${c.shown - lines.RUNNING.length} of ${c.n} trials${lines.RUNNING.length ? ` and ${lines.RUNNING.length} running` : ""}, ` +
        `over the 10–90% and 25–75% bands and the median of all of them${c.band_of < c.n ? ` (estimated from ${c.band_of} of them, evenly spread)` : ""}. ` +
        "× marks where a trial was pruned or stopped."
      : `Every one of the ${c.n} trials${keep ? " the filter keeps" : ""}. × marks where a trial was pruned or stopped; ` +
        "running ones grow live.";
  }

  const dimInfo = new Map(); // parallel coordinates' dimensions: how a brush on each becomes a filter condition
  function drawParallel(allDone) {
    // parallel coordinates over every knob (a conditional one has an "n/a" slot for trials without it): the best
    // PARALLEL_MAX complete trials; those the table's filter leaves out are faded
    const top = allDone.length <= PARALLEL_MAX ? allDone
      : [...allDone].sort((a, b) => (exp.direction === "min" ? a.v - b.v : b.v - a.v)).slice(0, PARALLEL_MAX);
    parallelTitle.textContent = allDone.length <= PARALLEL_MAX ? "Parallel coordinates (complete trials)"
      : `Parallel coordinates (the best ${PARALLEL_MAX} of ${allDone.length} complete trials)`;
    const dims = [];
    dimInfo.clear();
    for (const k of knobs) {
      const vals = top.map((p) => p.p[k.name]);
      if (!top.length || vals.every((v) => v === undefined || v === null)) continue;
      const dkey = `param.${k.name}`;
      if (knobIsNumeric(k)) {
        dims.push({ key: dkey, label: k.name, values: vals.map((v) => (v === undefined || v === null ? null : k.log ? Math.log10(v) : v)),
          range: k.log ? [Math.log10(k.low), Math.log10(k.high)] : [k.low, k.high],
          format: (x) => {
            const v = k.log ? 10 ** x : x;
            return fmt(k.kind === "int" ? Math.round(v) : Number(v.toPrecision(3)));
          } });
        dimInfo.set(dkey, { field: dkey, label: k.name, log: k.log });
      } else {
        const choices = choicesOf(k);
        const index = new Map(choices.map((c, i) => [key(c), i]));
        dims.push({ key: dkey, label: k.name, categorical: true,
          values: vals.map((v) => (v === undefined || v === null ? null : index.get(key(v)) ?? null)),
          range: [-0.5, choices.length - 0.5], ticks: choices.map((c, i) => [i, fmt(c)]) });
        dimInfo.set(dkey, { field: dkey, label: k.name, categorical: true, choices });
      }
    }
    if (top.length && dims.length) {
      const vs = top.map((p) => p.v);
      let lo = Infinity, hi = -Infinity;
      for (const v of vs) { if (v < lo) lo = v; if (v > hi) hi = v; }
      dims.push({ key: "value", label: exp.metric, values: vs, range: [lo, hi], format: fmt });
      dimInfo.set("value", { field: "value", label: exp.metric });
      const shade = vs.map((v) => {
        const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
        return exp.direction === "min" ? 1 - t : t;
      });
      parallel.querySelector(":scope > p.muted")?.remove();
      parcoords(parallel, { dims, ids: top.map((p) => p.id), shade, keep: (tid) => !keep || keep.has(tid),
        label: `Parallel coordinates of ${top.length} complete trials, colored by ${exp.metric}, brightest best`,
        onBrush: (b) => {
          for (const k of Object.keys(brushes)) delete brushes[k];
          Object.assign(brushes, b);
          applyBrush();
        } });
    } else if (!parallel._pc) {
      parallel.replaceChildren(h("p", { class: "muted", text: "Appears once a trial completes." }));
    } else {
      parcoords(parallel, { dims: [], ids: [], shade: [], label: "Parallel coordinates: no complete trial yet" });
    }
  }

  // a knob as a plot axis, and where each trial sits on it
  function knobAxis(k) {
    if (knobIsNumeric(k)) {
      return { axis: { type: k.log ? "log" : "linear", integer: k.kind === "int", title: k.name, range: [k.low, k.high] },
        at: (p) => p.p[k.name], has: (p) => typeof p.p[k.name] === "number",
        unit: (v) => (k.log ? Math.log10(v) : v), span: k.log ? [Math.log10(k.low), Math.log10(k.high)] : [k.low, k.high] };
    }
    const choices = choicesOf(k);
    const index = new Map(choices.map((c, j) => [key(c), j]));
    return { axis: { type: "category", categories: choices.map(fmt), title: k.name },
      at: (p) => index.get(key(p.p[k.name])), has: (p) => index.has(key(p.p[k.name])),
      unit: (v) => v, span: [-0.5, choices.length - 0.5] };
  }

  function drawKnobs(done) {
    // the metric against each knob: numeric knobs on a linear or log axis, the others as categories in the order
    // of their choices, spread a little sideways so stacked points show
    if (!knobs.length) return;
    const t = T();
    scatterPanels(knobPlots, knobs.map((k) => {
      const ax = knobAxis(k);
      const rows = done.filter(ax.has);
      const x = { ...ax.axis, title: undefined, range: undefined };
      return { key: k.name, title: k.name, x, y: { type: "linear", title: exp.metric },
        series: [trialSeries(k.name, rows, ax.at, { color: t.complete, radius: 2.5, alpha: 0.6 },
          (p) => `${k.name} = ${fmt(p.p[k.name])}`)] };
    }), { columns: 4, minPanelWidth: 280, panelHeight: 240, leftTitles: true, onClick: openTrial,
      label: () => `${exp.metric} against each knob (${knobs.map((k) => k.name).join(", ")}), ${done.length} complete trials${filteredNote()}` });
  }

  // two knobs: the metric's contour (interpolated between the trials) and the trials colored by rank
  const pairX = h("select", { id: "pair-x" }, knobs.map((k, i) => h("option", { value: k.name, text: k.name, selected: i === 0 })));
  const pairY = h("select", { id: "pair-y" }, knobs.map((k, i) => h("option", { value: k.name, text: k.name, selected: i === Math.min(1, knobs.length - 1) })));
  let pairChosen = false;
  for (const el of [pairX, pairY]) el.addEventListener("change", () => { pairChosen = true; drawPair(doneNow()); });
  const doneNow = () => [...points.values()].filter((p) => kept(p) && p.s === "COMPLETE" && p.v !== null).sort((a, b) => a.n - b.n);

  function drawPair(done) {
    const kx = knobs.find((k) => k.name === pairX.value), ky = knobs.find((k) => k.name === pairY.value);
    if (!kx || !ky) return;
    const ax = knobAxis(kx), ay = knobAxis(ky), t = T();
    const rows = done.filter((p) => ax.has(p) && ay.has(p));
    const n = rows.length;
    // ranks: 0 the best
    const order = rows.map((_, i) => i).sort((a, b) => (exp.direction === "min" ? rows[a].v - rows[b].v : rows[b].v - rows[a].v));
    const rank = new Float64Array(n);
    order.forEach((i, r) => { rank[i] = r; });
    const rankShade = Array.from(rank, (r) => (n > 1 ? 1 - r / (n - 1) : 1));
    const raster = contourRaster(rows, ax, ay);
    const tipOf = (p) => `#${p.n}: ${fmt(p.v)}\n${kx.name} = ${fmt(p.p[kx.name])}, ${ky.name} = ${fmt(p.p[ky.name])}`;
    const pts = (name, style) => ({ name, xs: rows.map(ax.at), ys: rows.map(ay.at), ids: rows.map((p) => p.id),
      ns: rows.map((p) => p.n), tip: (i) => tipOf(rows[i]), ...style });
    const yAxis = { ...ay.axis };
    const xAxis = { ...ax.axis };
    const same = kx.name === ky.name;
    scatterPanels(pairPlot, [
      { key: "contour", title: `contour of ${exp.metric}`, x: xAxis, y: yAxis, colorbar: { top: "best", bottom: "worst" },
        empty: same ? "Choose two different knobs." : "Needs complete trials with both knobs.",
        series: same || !raster ? [] : [raster, pts("trials", { color: t.text, radius: 2, alpha: 0.55 })] },
      { key: "rank", title: "trials by rank", x: xAxis, y: yAxis, colorbar: { top: "best", bottom: "worst" },
        empty: "Needs complete trials with both knobs.",
        series: [pts("rank", { color: t.complete, radius: 3.5, alpha: 0.9, shade: rankShade })] },
    ], { columns: 2, minPanelWidth: 320, panelHeight: 340, onClick: openTrial,
      label: () => `${exp.metric} over ${kx.name} and ${ky.name}: an interpolated contour and ${n} trials colored by rank${filteredNote()}` });
  }

  // inverse-distance interpolation of the metric on a 64 x 64 grid over the two knobs' ranges (at most 1,500
  // trials, evenly picked), in 12 bands of viridis (brightest best)
  function contourRaster(rows, ax, ay) {
    if (rows.length < 3) return null;
    const step = Math.max(1, Math.ceil(rows.length / 1500));
    const use = rows.filter((_, i) => i % step === 0);
    const [x0, x1] = ax.span, [y0, y1] = ay.span;
    const us = Float64Array.from(use, (p) => (ax.unit(ax.at(p)) - x0) / (x1 - x0));
    const ws = Float64Array.from(use, (p) => (ay.unit(ay.at(p)) - y0) / (y1 - y0));
    const vs = Float64Array.from(use, (p) => p.v);
    const sorted = Float64Array.from(vs).sort();
    const lo = sorted[Math.floor(0.05 * (sorted.length - 1))], hi = sorted[Math.ceil(0.95 * (sorted.length - 1))];
    const N = 64, rgba = new Uint8ClampedArray(N * N * 4), levels = 12;
    for (let r = 0; r < N; r++) {
      const w = 1 - (r + 0.5) / N;
      for (let c = 0; c < N; c++) {
        const u = (c + 0.5) / N;
        let num = 0, den = 0;
        for (let i = 0; i < us.length; i++) {
          const du = us[i] - u, dw = ws[i] - w, d = du * du + dw * dw + 1e-5;
          const wt = 1 / (d * d);
          num += wt * vs[i]; den += wt;
        }
        const v = num / den;
        let s = hi > lo ? (v - lo) / (hi - lo) : 0.5;
        s = Math.max(0, Math.min(1, exp.direction === "min" ? 1 - s : s));
        const [R, G, B] = viridisRGB(Math.min(levels - 1, Math.floor(s * levels)) / (levels - 1));
        const o = (r * N + c) * 4;
        rgba[o] = 255 * R; rgba[o + 1] = 255 * G; rgba[o + 2] = 255 * B; rgba[o + 3] = 235;
      }
    }
    return { name: "contour", kind: "raster", nx: N, ny: N, rgba, x0, x1, y0, y1, legend: false };
  }

  function drawEdf(done) {
    // the empirical distribution of the metric over complete trials: the share of trials at or below each value
    const t = T(), palette = [t.complete, t.pruned, t.best, t.failed, t.stopped, t.running];
    const rounds = [...new Set(done.map((p) => p.r))].sort((a, b) => a - b);
    const series = [];
    rounds.forEach((rd, k) => {
      const rows = done.filter((p) => p.r === rd).sort((a, b) => a.v - b.v);
      const name = rounds.length > 1 ? `round ${rd}` : "complete trials";
      const color = palette[k % palette.length];
      const ys = rows.map((_, i) => (i + 1) / rows.length);
      series.push({ name, kind: "step", xs: rows.map((p) => p.v), ys, color, width: 2 });
      series.push({ name, legend: false, xs: rows.map((p) => p.v), ys, ids: rows.map((p) => p.id), ns: rows.map((p) => p.n),
        color, radius: 2, alpha: 0.8, tip: (i) => `#${rows[i].n}: ${fmt(rows[i].v)}\n${Math.round(100 * ys[i])}% of ${name} at or below` });
    });
    scatterPanels(edfPlot, [{ key: "edf", legend: rounds.length > 1, empty: "Appears once a trial completes.",
      x: { type: "linear", title: exp.metric }, y: { type: "linear", title: "share of trials ≤ x", range: [0, 1] }, series }],
    { onClick: openTrial, label: () => `Empirical distribution of ${exp.metric} over ${done.length} complete trials${filteredNote()}` });
  }

  function drawTimeline(all) {
    // one row per worker process, a bar per trial from its start to its end (running ones to now)
    const t = T();
    const rows = all.filter((p) => p.t && p.t[0] !== null);
    const used = [...new Set(rows.map((p) => p.w))].sort((a, b) => a - b);
    const row = new Map(used.map((w, i) => [w, i]));
    const groups = [["complete", "COMPLETE", t.complete], ["pruned", "PRUNED", t.pruned], ["stopped by user", "STOPPED", t.stopped],
      ["failed", "FAILED", t.failed], ["running", "RUNNING", t.running]];
    const series = groups.map(([name, st, color]) => {
      const list = rows.filter((p) => (p.x ? "STOPPED" : p.s) === st);
      return { name, kind: "bars", color, alpha: 0.9, legend: list.length > 0, xs: list.map((p) => p.t[0]),
        xs2: list.map((p) => (p.t[1] === null ? p.t[0] : p.t[1])), ys: list.map((p) => row.get(p.w)),
        ids: list.map((p) => p.id), ns: list.map((p) => p.n),
        tip: (i) => {
          const p = list[i];
          return `#${p.n} ${name}: ${fmt(p.v)}\n${workers[p.w] || "?"}\n${new Date(origin + 1000 * p.t[0]).toLocaleTimeString()}, ` +
            `${fmtDur(p.t[1] === null ? null : p.t[1] - p.t[0])}`;
        } };
    });
    timeline.style.height = `${Math.max(180, Math.min(420, 90 + 26 * used.length))}px`;
    scatterPanels(timeline, [{ key: "timeline", legend: true, empty: "Appears once a trial starts.",
      x: { type: "time", origin, title: "time" }, y: { type: "category", categories: used.map((w) => workers[w] || "?"), title: "" },
      series }], { onClick: openTrial, label: () => `Timeline of ${rows.length} trials over ${used.length} worker processes${filteredNote()}` });
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
    const note = h("input", { type: "text", id: "enqueue-note", "aria-label": "note on the enqueued trial",
      placeholder: "why (optional note)" });
    const msg = h("div", { class: "msg", id: "enqueue-msg", role: "status" });
    // the latest round's knobs: the space the search (and so the enqueued trial) is in now
    for (const k of (exp.enqueue_knobs || knobs).filter((x) => x.kind !== "fixed")) {
      let input;
      if (knobIsNumeric(k)) {
        input = h("input", { type: "text", inputmode: "decimal", "data-knob": k.name,
          placeholder: `${fmt(k.low)} … ${fmt(k.high)}${k.log ? " (log)" : ""}` });
      } else {
        input = h("select", { "data-knob": k.name },
          choicesOf(k).map((c, i) => h("option", { value: String(i), text: (k.labels && k.labels[i]) || fmt(c) })));
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
      return parent && active(parent) && key(valueOf(parent)) === key(f.k.when[1]);
    };
    const sync = () => fields.forEach((f) => f.label.classList.toggle("hidden", !active(f)));
    form.addEventListener("change", sync);
    sync();
    const submit = h("button", { type: "button", class: "primary", id: "enqueue-btn", text: "Enqueue", onclick: async () => {
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
    // rounds are numbered from 0 (the space the experiment was created with), as in the table's round column;
    // the form edits the latest round's space knob by knob (ranges, log scale, values to keep)
    const msg = h("div", { class: "msg", id: "round-msg", role: "status" });
    const reason = h("input", { type: "text", id: "round-reason", "aria-label": "why this round",
      placeholder: "why (e.g. drop rmsprop, worse in round 0)", style: "flex:1" });
    const form = h("div", { id: "round-form" });
    const read = spaceForm(form, exp.space, exp.space_labels || {});
    const start = async (space) => {
      try {
        const res = await post(`/api/experiments/${id}/rounds`, { space, reason: reason.value });
        message(msg, `Round ${res.round} started: new trials use this space.`, true);
        setTimeout(() => location.reload(), 600);
      } catch (e) { message(msg, e.message); }
    };
    const btn = h("button", { type: "button", class: "primary", id: "round-btn", text: `Start round ${exp.rounds}`,
      disabled: !CFG.rounds_supported, onclick: () => start(read()) });
    const area = h("textarea", { id: "round-space", rows: 8, "aria-label": "the space as JSON",
      value: JSON.stringify(exp.space, null, 1) });
    const jsonBtn = h("button", { type: "button", id: "round-json-btn", text: `Start round ${exp.rounds} from this JSON`,
      disabled: !CFG.rounds_supported, onclick: () => {
        let space;
        try { space = JSON.parse(area.value); } catch (e) { message(msg, `space: not valid JSON (${e.message})`); return; }
        start(space);
      } });
    const note = CFG.rounds_supported ? null : h("p", { class: "muted small", id: "round-note",
      text: "This knoblab has no rounds API (Experiment.next_round), so this control is off. " +
        "The space below is this experiment's, as stored." });
    const list = h("ul", { class: "small muted", id: "round-list" }, (exp.round_list || []).map((r) =>
      h("li", {}, `round ${r.round}: ${r.n_trials} trials`, r.parent === null || r.parent === undefined ? "" : `, from round ${r.parent}`,
        r.reason ? ` (${r.reason})` : "")));
    return h("div", { class: "card", id: "round" }, h("h2", { text: "New round with an edited space" }), note, list,
      h("p", { class: "small muted", text: `The latest round's space, knob by knob: narrow a range, change its scale, ` +
        `untick values to drop them, then start round ${exp.rounds}.` }),
      form, h("div", { class: "row", style: "margin-top:6px" }, reason, btn), msg,
      h("details", { id: "round-json" }, h("summary", { text: "Edit the space as JSON instead" }), area,
        h("div", { class: "row", style: "margin-top:6px" }, jsonBtn)));
  }

  const sectionHead = (title, ...controls) => h("div", { class: "card-head" }, h("h2", { text: title }), ...controls);
  const labelled = (text, control) => h("label", { class: "small inline" }, text, control);
  $("#main").replaceChildren(
    h("div", { class: "title-row" }, h("h1", { id: "title", text: exp.name })),
    statBox,
    h("div", { class: "grid2", id: "plots-first" },
      h("section", { class: "card", "aria-labelledby": "h-curves" },
        h("div", { class: "card-head" }, h("h2", { id: "h-curves", text: "Learning curves" }),
          labelled("metric ", curveMetric), labelled("show ", curveTop), h("label", { class: "small inline" }, curveLog, " log scale")),
        plotCurves, curvesInfo),
      h("section", { class: "card", "aria-labelledby": "h-history" }, h("h2", { id: "h-history", text: "Optimization history" }), history)),
    h("section", { class: "card", id: "notes", "aria-labelledby": "h-note" }, h("h2", { id: "h-note", text: "Note" }), note.node),
    h("section", { class: "card", "aria-labelledby": "h-trials" },
      h("div", { class: "row" }, h("h2", { id: "h-trials", text: "Trials", style: "margin:0 12px 0 0" }), filterBox,
        h("span", { class: "row tight", role: "group", "aria-label": "states shown" }, ...stateBoxes),
        h("span", { style: "flex:1" }), chooser, csvLink, compareBtn),
      chips, filterMsg,
      h("div", { class: "scroll", style: "margin-top:8px" }, h("table", { id: "trials" },
        h("caption", { class: "sr-only", text: `Trials of ${exp.name}; the column buttons sort` }), thead, tbody)),
      h("div", { class: "pager" }, prev, next, pagerText)),
    h("section", { class: "card", "aria-label": "parallel coordinates" }, parallelTitle,
      h("p", { class: "small muted", text: "Drag along an axis to keep a range (the table and the other plots follow); " +
        "click an axis to clear it. A knob a trial lacks sits at n/a." }), parallel),
    h("section", { class: "card", "aria-labelledby": "h-knobs" }, h("h2", { id: "h-knobs", text: `${exp.metric} against each knob` }), knobPlots),
    h("section", { class: "card", "aria-labelledby": "h-pair" }, sectionHead("Two knobs: contour and rank",
      labelled("x ", pairX), labelled("y ", pairY)), pairPlot),
    h("div", { class: "grid2" },
      h("section", { class: "card", "aria-labelledby": "h-edf" }, h("h2", { id: "h-edf", text: "Empirical distribution" }), edfPlot),
      h("section", { class: "card", "aria-labelledby": "h-timeline" }, h("h2", { id: "h-timeline", text: "Timeline of trials per worker" }), timeline)),
    h("section", { class: "card", "aria-labelledby": "h-importances" }, h("h2", { id: "h-importances", text: "Knob importances" }), importances),
    ...steer,
  );
  renderHead();
  renderChooser();
  // importances: computed by the server in a worker process; asked again while computing, then now and then
  const showImportances = (r) => {
    if (!r.available) { importances.replaceChildren(h("p", { class: "muted", text: r.reason })); return; }
    if (r.error) { importances.replaceChildren(h("div", { class: "msg error", text: r.error })); return; }
    if (!r.rows) { importances.replaceChildren(h("p", { class: "muted", text: "Computing (a random forest in a worker process)…" })); return; }
    const max = Math.max(1e-9, ...r.rows.map((x) => x.importance || 0));
    importances.replaceChildren(
      h("table", { class: "bars" }, h("caption", { class: "sr-only", text: "knob importances" }), h("tbody", {}, r.rows.map((x) => h("tr", {},
        h("th", { scope: "row", text: x.knob }),
        h("td", { class: "barcell" }, h("div", { class: "bar", style: `width:${Math.round(100 * (x.importance || 0) / max)}%` })),
        h("td", { class: "num", text: x.importance === null ? "–" : `${(100 * x.importance).toFixed(1)}%` }))))),
      h("p", { class: "muted small", text:
        `Share of ${exp.metric}'s variance each knob explains alone (first-order fANOVA on a random forest), ` +
        `round ${r.round}, ${r.n === r.of ? `${r.n} complete trials` : `the last ${r.n} of ${r.of} complete trials`}` +
        (r.r2 === null || r.r2 === undefined ? "." : `; the forest's out-of-bag R² is ${r.r2.toFixed(2)}` +
          (r.r2 < 0.3 ? " (low: the forest explains little, read these loosely)." : ".")) +
        (r.computing ? " Updating…" : "") }));
    // the contour starts on the two most important knobs, unless someone chose others
    const ranked = r.rows.filter((x) => knobs.some((k) => k.name === x.knob)).map((x) => x.knob);
    if (!pairChosen && ranked.length >= 2 && (pairX.value !== ranked[0] || pairY.value !== ranked[1])) {
      pairX.value = ranked[0]; pairY.value = ranked[1];
      drawPair(doneNow());
    }
  };
  const importanceLoop = async () => {
    let r = { computing: false };
    try { r = await api(`/api/experiments/${id}/importances`); showImportances(r); } catch (e) {
      importances.replaceChildren(h("div", { class: "msg error", text: e.message }));
    }
    setTimeout(importanceLoop, r.computing ? 2000 : 15000);
  };

  let noteTick = 0;
  await every(async () => {
    const first = tableRev === -1 ? loadTable() : null; // the table need not wait for the plots' data
    const res = await api(`/api/experiments/${id}/points?since=${rev}&epoch=${epoch}`);
    if (res.reset) points.clear();
    for (const p of res.points) points.set(p.id, p);
    workers = res.workers;
    origin = Date.parse(res.created_at) || origin;
    epoch = res.epoch;
    rev = res.rev;
    exp.rounds = Math.max(exp.rounds, ...res.points.map((p) => p.r + 1));
    renderStats(res);
    if (first) await first;
    if (tableRev !== rev) await loadTable();
    if (res.reset || res.points.length) schedulePlots();
    if (++noteTick % 10 === 0 && !note.isEditing()) { // someone else may have edited the experiment's note
      const fresh = await api(`/api/experiments/${id}`);
      note.update(fresh.note);
    }
  });
}

// the new-round form over a stored space description: per knob its range and scale, or the values to keep;
// returns a function that reads the edited description back (the server names any knob at fault)
function spaceForm(holder, space, labels) {
  const readers = [];
  const num = (input) => {
    const raw = input.value.trim();
    const n = Number(raw);
    return raw !== "" && Number.isFinite(n) ? n : raw;
  };
  const build = (parent, desc, depth) => {
    const entries = Object.entries(desc);
    const reads = [];
    for (const [name, d] of entries) {
      const fs = h("fieldset", { class: "knob-edit", "data-knob": name }, h("legend", {}, name, h("span", { class: "muted small", text: ` ${d.kind}` })));
      if (d.kind === "real" || d.kind === "int") {
        const low = h("input", { type: "text", inputmode: "decimal", "data-field": "low", value: String(d.low), size: 8 });
        const high = h("input", { type: "text", inputmode: "decimal", "data-field": "high", value: String(d.high), size: 8 });
        const log = h("input", { type: "checkbox", "data-field": "log", checked: Boolean(d.log) });
        const stepBox = d.kind === "int" ? h("input", { type: "text", inputmode: "numeric", "data-field": "step", value: String(d.step ?? 1), size: 3 }) : null;
        fs.append(h("div", { class: "row tight" },
          h("label", { class: "inline" }, "low ", low), h("label", { class: "inline" }, "high ", high),
          stepBox ? h("label", { class: "inline" }, "step ", stepBox) : null,
          h("label", { class: "inline check" }, log, " log scale")));
        reads.push(() => [name, { ...d, low: num(low), high: num(high), log: log.checked, ...(stepBox ? { step: num(stepBox) } : {}) }]);
      } else if (d.kind === "categorical" && d.linspace) { // a long (low, high, n) tuple: kept as it is
        const [lo, hi, n] = d.linspace;
        fs.append(h("p", { class: "small muted", text: `${n} evenly spaced values from ${fmt(lo)} to ${fmt(hi)} (kept)` }));
        reads.push(() => [name, d]);
      } else if (d.kind === "categorical" || d.kind === "bool") {
        const choices = d.kind === "bool" ? [false, true] : d.choices;
        const names = labels[name] || [];
        const boxes = choices.map((c, i) => h("input", { type: "checkbox", "data-choice": String(i), checked: true }));
        fs.append(h("div", { class: "row tight", role: "group", "aria-label": `values of ${name} to keep` },
          choices.map((c, i) => h("label", { class: "inline check" }, boxes[i], ` ${names[i] ?? fmt(c)}`))));
        reads.push(() => {
          const keptChoices = choices.filter((_, i) => boxes[i].checked);
          if (d.kind === "bool") {
            if (keptChoices.length === 2) return [name, d];
            if (keptChoices.length === 1) return [name, { kind: "fixed", value: keptChoices[0] }];
            return [name, { kind: "categorical", choices: [], ordered: false }];
          }
          return [name, { ...d, choices: keptChoices }];
        });
      } else if (d.kind === "branch") {
        const opts = d.options.map(([value, sub], i) => {
          const box = h("input", { type: "checkbox", "data-choice": String(i), checked: true });
          const inner = h("div", { class: "branch-sub" });
          const readSub = build(inner, sub, depth + 1);
          box.addEventListener("change", () => { inner.hidden = !box.checked; });
          fs.append(h("div", { class: "branch" }, h("label", { class: "inline check" }, box, ` ${(labels[name] || [])[i] ?? fmt(value)}`,
            Object.keys(sub).length ? h("span", { class: "muted small", text: " (with its own knobs)" }) : null), inner));
          return { value, box, readSub };
        });
        reads.push(() => [name, { kind: "branch", options: opts.filter((o) => o.box.checked).map((o) => [o.value, o.readSub()]) }]);
      } else {
        fs.append(h("p", { class: "small muted", text: `fixed at ${labels[name] ? labels[name][0] : fmt(d.value)}` }));
        reads.push(() => [name, d]);
      }
      parent.append(fs);
    }
    return () => Object.fromEntries(reads.map((r) => r()));
  };
  readers.push(build(holder, space, 0));
  return () => readers[0]();
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
  let t = await api(`/api/trials/${id}`);
  const plotly = loadPlotly(); // in parallel with the page's text, which does not wait for it
  document.title = `knoblab · ${t.experiment.name} #${t.number}`;
  setCrumbs([{ text: "Experiments", href: "/" }, { text: t.experiment.name, href: `/experiments/${t.experiment.id}` },
    { text: `trial #${t.number}` }]);
  let reports = t.reports;
  const head = h("div");
  const stats = h("div", { class: "stats" });
  const knobsBox = h("div", { class: "kv", id: "knobs" });
  const infoBox = h("div", { class: "kv", id: "info" });
  const curves = h("div", { class: "curvegrid", id: "curves" }, h("p", { class: "muted", text: "Loading the plots…" }));
  const errorBox = h("div");
  const note = noteEditor({ id: "note", note: t.note, label: `note on trial #${t.number}`, empty: "No note.",
    save: (text) => post(`/api/trials/${id}/note`, { note: text }) });
  const stopMsg = h("div", { class: "msg", id: "stop-msg", role: "status" });
  const stopBtn = h("button", { type: "button", class: "danger", id: "stop", text: "Stop this trial", onclick: async () => {
    try {
      await post(`/api/trials/${id}/stop`);
      message(stopMsg, "Stop requested: the objective sees trial.should_stop() return True.", true);
      stopBtn.disabled = true;
    } catch (e) { message(stopMsg, e.message); }
  } });
  const plotDivs = new Map();
  let lastShape = "";
  let plotsReady = false;

  function render() {
    head.replaceChildren(h("h1", {}, `Trial #${t.number} `, badge(t.state, t.stopped, true),
      t.stop_requested && t.state === "RUNNING" ? h("span", { class: "badge STOPPED", text: "stop requested" }) : null));
    stats.replaceChildren(
      stat(t.experiment.metric, fmt(t.value)),
      stat("Duration", fmtDur(t.duration)),
      stat("Epochs reported", String(reports.length)),
      stat("Host", t.host || "–"),
    );
    knobsBox.replaceChildren(...t.knobs.filter((k) => k in t.params).flatMap((k) =>
      [h("div", { class: "k", text: k }), h("div", { class: "v", "data-knob": k, text: fmt(t.params[k]) })]));
    const ended = t.stopped ? "stopped by user" : t.state === "PRUNED" ? "pruned by the scheduler (or the time limit)" : t.state.toLowerCase();
    const info = [["state", ended], ["value", fmt(t.value)], ["round", t.round], ["seed", t.seed],
      ["started", fmtTime(t.started_at)], ["finished", fmtTime(t.finished_at)], ["duration", fmtDur(t.duration)],
      ["host", t.host || "–"], ["pid", t.pid ?? "–"], ["source", t.attrs.source || "–"],
      ...Object.entries(t.metrics).map(([k, v]) => [`final ${k}`, fmt(v)])];
    infoBox.replaceChildren(...info.flatMap(([k, v]) => [h("div", { class: "k", text: k }), h("div", { class: "v", text: String(v) })]));
    note.update(t.note);
    stopBtn.hidden = CFG.read_only || t.state !== "RUNNING";
    stopBtn.disabled = t.stop_requested;
    stopBtn.textContent = t.stop_requested ? "Stop requested" : "Stop this trial";
    errorBox.replaceChildren(...(t.error ? [h("section", { class: "card", "aria-label": "error" }, h("h2", { text: "Error" }),
      h("pre", { class: "error", id: "error", tabindex: "0", text: t.error }))] : []));
    if (plotsReady) renderCurves();
  }

  function renderCurves() {
    const names = [];
    for (const r of reports) for (const k of Object.keys(r)) if (k !== "step" && !names.includes(k)) names.push(k);
    const groups = metricGroups(names);
    const shape = JSON.stringify(groups.map((g) => g.metrics));
    const T = plotTheme();
    if (shape !== lastShape) {
      lastShape = shape;
      plotDivs.forEach((div) => Plotly.purge(div));
      plotDivs.clear();
      curves.replaceChildren(...(groups.length ? [] : [h("p", { class: "muted", text: "No epoch reported yet." })]));
      for (const g of groups) {
        const div = h("div", { class: "plot", "data-metrics": g.metrics.join(","), role: "figure",
          "aria-label": `${g.title}, per epoch, of trial #${t.number}` });
        plotDivs.set(g.title, div);
        curves.append(div);
      }
    }
    for (const g of groups) {
      const traces = g.metrics.map((m, i) => {
        const rows = reports.filter((r) => r[m] !== undefined && r[m] !== null);
        return { type: "scatter", mode: rows.length > 60 ? "lines" : "lines+markers", name: pt(m),
          x: rows.map((r) => r.step), y: rows.map((r) => r[m]), line: { color: i ? T.pruned : T.complete } };
      });
      Plotly.react(plotDivs.get(g.title), traces, baseLayout({ title: { text: pt(g.title), font: { size: 12 } },
        xaxis: { title: { text: "epoch" } }, margin: { l: 50, r: 10, t: 46, b: 40 } }), PLOT_CONFIG);
    }
  }

  $("#main").replaceChildren(
    head, stats,
    h("section", { class: "card", "aria-label": "curves" }, h("h2", { text: "Curves (live while the trial runs)" }), curves),
    h("div", { class: "grid2" },
      h("section", { class: "card", "aria-label": "knobs" }, h("h2", { text: "Knobs" }), knobsBox),
      h("section", { class: "card", "aria-label": "run" }, h("h2", { text: "Run" }), infoBox,
        h("h2", { text: "Note", style: "margin-top:14px" }), note.node,
        CFG.read_only ? null : h("div", { class: "row", style: "margin-top:6px" }, stopBtn), stopMsg)),
    errorBox,
  );
  render();
  mark("text");
  plotly.then(() => {
    plotsReady = true;
    lastShape = "";
    renderCurves();
    mark("curves");
    onThemeChange(() => { lastShape = ""; renderCurves(); });
  }, (e) => curves.replaceChildren(h("div", { class: "msg error", text: e.message })));

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
  const plot = h("div", { class: "plot", id: "plot-compare", style: "height:420px", role: "figure", "aria-label": "curves of the chosen trials" });
  const tbody = h("tbody");
  const thead = h("thead");
  const msg = h("div", { class: "msg", role: "status" });
  let data = { trials: [] };
  $("#main").replaceChildren(
    h("h1", { text: "Compare trials" }),
    h("section", { class: "card", "aria-label": "curves" },
      h("div", { class: "row" }, h("label", { class: "inline" }, "Trials ", idsBox),
        h("button", { type: "button", text: "Update", onclick: () => { location.search = `?trials=${idsBox.value.replace(/\s+/g, "")}`; } }),
        h("label", { class: "inline" }, "Metric ", metricSel), h("label", { class: "inline check" }, logY, " log scale")),
      msg, plot),
    h("section", { class: "card", "aria-label": "knobs" }, h("h2", { text: "Knobs" }),
      h("div", { class: "scroll" }, h("table", { id: "compare-table" }, thead, tbody))),
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
    thead.replaceChildren(h("tr", {}, ["trial", "experiment", "state", "value", ...knobs].map((x) => h("th", { scope: "col", text: x }))));
    tbody.replaceChildren(...data.trials.map((t) => h("tr", {},
      h("td", {}, h("a", { href: `/trials/${t.id}`, text: `#${t.number}` })),
      h("td", { text: t.experiment.name }), h("td", {}, badge(t.state, t.stopped)), h("td", { class: "num", text: fmt(t.value) }),
      knobs.map((k) => h("td", { text: fmt(t.params[k]) })))));
  }

  await loadPlotly();
  onThemeChange(() => draw());
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
  initTheme();
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
