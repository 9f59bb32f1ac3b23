// The dashboard page: the server overview, the live process table (SSE, every second),
// the fleet (the hosts linked with `pm2 link` and every host's apps, acted on through
// the host's agent),
// per-app actions (confirmed, POSTed with the session's CSRF token), live logs, and the
// issues inbox (every 5 s; an issue's stack and log lines, marking it resolved), and an
// app's history charts (GET /api/history; drawn by the vendored uPlot; every second
// for the last hour, asking only for the points after the last one held, every minute
// for the longer ranges, asking for all of them).
// Everything the daemon or an app says is set as text, never parsed as HTML.
"use strict";

const state = { csrf: null, logs: null, logsApp: null, issue: null,
  chartApp: null, chartRange: "1h", chartTimer: null, chartPoints: {}, charts: {},
  chartRunning: false, chartAgain: false, chartGen: 0, local: [], host: null };

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function bytes(n) {
  if (!n) return "0 B";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return n.toFixed(i ? 1 : 0) + " " + units[i];
}

function duration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m";
  if (s < 86400) return Math.floor(s / 3600) + "h";
  return Math.floor(s / 86400) + "d";
}

function say(text) { document.getElementById("message").textContent = text; }

async function api(path, options) {
  const r = await fetch(path, Object.assign({ credentials: "same-origin" }, options || {}));
  if (r.status === 401) { location.reload(); throw new Error("logged out"); }
  return r;
}

async function loadSession() {
  const r = await api("/api/session");
  state.csrf = (await r.json()).csrf;
}

async function loadServer() {
  const s = await (await api("/api/server")).json();
  const dl = document.getElementById("overview");
  dl.replaceChildren();
  const rows = [
    ["host", s.hostname],
    ["cores", s.cores],
    ["memory", bytes(s.memory.available) + " free of " + bytes(s.memory.total)],
    ["load", (s.load || []).join(" ")],
    ["uptime", duration((s.uptime_s || 0) * 1000)],
    ["node", s.versions.node || "not found"],
    ["pm2-rs", s.versions.pm2_rs],
    ["addresses", (s.addresses || []).map(a => a.interface + " " + a.address).join(", ")],
  ];
  for (const [k, v] of rows) { dl.append(el("dt", k), el("dd", v)); }
}

const ACTIONS = ["restart", "reload", "stop", "start", "flush", "delete"];

function metricsText(metrics) {
  return Object.entries(metrics || {})
    .map(([k, v]) => k + ": " + (v && typeof v === "object" ? v.value : v) +
      (v && v.unit ? " " + v.unit : ""))
    .join(" · ");
}

function renderTable(rows) {
  const body = document.querySelector("#processes tbody");
  body.replaceChildren();
  for (const p of rows) {
    const tr = el("tr");
    tr.dataset.id = p.pm_id;
    tr.dataset.name = p.name;
    const name = el("a", p.name, "app");
    name.addEventListener("click", () => openLogs(p.pm_id, p.name));
    const nameTd = el("td"); nameTd.append(name);
    const status = el("td", p.status, "status status-" + p.status.split(" ")[0]);
    if (p.km_monitored === false) status.append(el("small", " (unmonitored)"));
    status.dataset.field = "status";
    const restarts = el("td", p.restarts); restarts.dataset.field = "restarts";
    tr.append(el("td", p.pm_id), nameTd, el("td", p.namespace), el("td", p.exec_mode), status,
      el("td", p.cpu + "%"), el("td", bytes(p.memory)), restarts, el("td", duration(p.uptime_ms)),
      el("td", metricsText(p.metrics), "metrics"));
    const actions = el("td");
    const chart = el("button", "chart", "chart");
    chart.type = "button";
    chart.dataset.chart = p.name;
    chart.addEventListener("click", () => openCharts(p.name));
    actions.append(chart);
    for (const a of ACTIONS) {
      const b = el("button", a);
      b.type = "button";
      b.dataset.action = a;
      b.dataset.id = p.pm_id;
      b.addEventListener("click", () => act(p.pm_id, p.name, a));
      actions.append(b);
    }
    for (const custom of p.actions || []) {
      const b = el("button", "▶ " + custom, "custom");
      b.type = "button";
      b.dataset.custom = custom;
      b.addEventListener("click", () => act(p.pm_id, p.name, "trigger", { action: custom }));
      actions.append(b);
    }
    tr.append(actions);
    body.append(tr);
  }
}

// `host` is a linked host's name (its apps' actions go through its agent), or absent
// for this one.
async function act(id, name, action, params, host) {
  const what = params && params.action ? action + " " + params.action : action;
  const where = host ? " on host " + host : "";
  if (!window.confirm(what + " on " + name + " (id " + id + ")" + where + "?")) return;
  say(action + " " + name + where + "…");
  const base = host ? "/api/hosts/" + encodeURIComponent(host) + "/processes/" : "/api/processes/";
  const r = await api(base + encodeURIComponent(id) + "/" + action, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": state.csrf },
    body: JSON.stringify(params || {}),
  });
  const answer = await r.json();
  const reply = (answer.replies || []).map(x => JSON.stringify(x.value)).join(" ");
  say(what + " " + name + where + ": " + (r.ok ? "done " + reply : answer.error));
}

function live() {
  const badge = document.getElementById("live");
  const source = new EventSource("/api/events");
  source.addEventListener("processes", e => {
    state.local = JSON.parse(e.data);
    renderTable(state.local);
    badge.textContent = "live";
    badge.className = "badge on";
  });
  source.addEventListener("fleet", e => renderFleet(JSON.parse(e.data)));
  source.addEventListener("error", () => {
    badge.textContent = "reconnecting…";
    badge.className = "badge off";
  });
}

// The host list (this host, then each linked one) and every host's apps in one table.
function renderFleet(remotes) {
  const here = state.local.length ? state.local[0].host : "this host";
  const hosts = document.querySelector("#hosts tbody");
  hosts.replaceChildren();
  const hostRow = (name, online, apps, seen) => {
    const tr = el("tr");
    tr.dataset.host = name;
    tr.append(el("td", name), el("td", online, "status status-" + (online === "offline" ? "stopped" : "online")),
      el("td", apps), el("td", seen));
    hosts.append(tr);
  };
  hostRow(here, "this host", state.local.length, "now");
  for (const h of remotes) hostRow(h.host, h.online ? "online" : "offline", h.processes.length, h.online ? "now" : "offline");
  const body = document.querySelector("#fleet-table tbody");
  body.replaceChildren();
  const rows = state.local.concat(...remotes.map(h => h.processes));
  for (const p of rows) {
    const remote = p.host !== here;
    const tr = el("tr", null, p.host_online ? "" : "offline");
    tr.dataset.host = p.host;
    tr.dataset.name = p.name;
    const name = el("a", p.name, "app");
    name.addEventListener("click", () => openLogs(p.pm_id, p.name, remote ? p.host : null));
    const nameTd = el("td"); nameTd.append(name);
    const restarts = el("td", p.restarts); restarts.dataset.field = "restarts";
    tr.append(el("td", p.host), el("td", p.pm_id), nameTd,
      el("td", p.host_online ? p.status : "offline", "status status-" + p.status.split(" ")[0]),
      el("td", p.cpu + "%"), el("td", bytes(p.memory)), restarts, el("td", duration(p.uptime_ms)));
    const actions = el("td");
    for (const a of ACTIONS) {
      const b = el("button", a);
      b.type = "button";
      b.dataset.action = a;
      b.disabled = !p.host_online;
      b.addEventListener("click", () => act(p.pm_id, p.name, a, null, remote ? p.host : null));
      actions.append(b);
    }
    tr.append(actions);
    body.append(tr);
  }
}

function openLogs(id, name, host) {
  if (state.logs) state.logs.close();
  const section = document.getElementById("logs");
  const pre = document.getElementById("logs-lines");
  section.hidden = false;
  document.getElementById("logs-app").textContent = (id === "all" ? name : name + " (" + id + ")") +
    (host ? " on " + host : "");
  pre.replaceChildren();
  const on = host ? "&host=" + encodeURIComponent(host) : "";
  state.logs = new EventSource("/api/logs?app=" + encodeURIComponent(id) + on);
  state.logs.addEventListener("log", e => {
    if (document.getElementById("logs-pause").checked) return;
    const c = JSON.parse(e.data);
    const filter = document.getElementById("logs-filter").value;
    if (filter && !c.data.includes(filter)) return;
    pre.append(el("span", c.name + " | " + c.data.replace(/\n?$/, "\n"), c.kind === "err" ? "log-err" : ""));
    while (pre.childNodes.length > 1000) pre.removeChild(pre.firstChild);
    pre.scrollTop = pre.scrollHeight;
  });
}

const CHART_H = 150, CHARTS_MAX = 12;

// A custom metric's unit, as the app reports it in the live table (`axm_monitor`).
function unitOf(metric) {
  if (metric === "cpu") return "%";
  if (metric === "memory") return "bytes";
  const row = state.local.find(p => p.name === state.chartApp);
  const m = row && row.metrics ? row.metrics[metric] : null;
  return m && typeof m === "object" && m.unit ? String(m.unit) : "";
}

function valueText(metric, v) {
  if (v === null || v === undefined) return "–";
  if (metric === "memory") return bytes(v);
  if (metric === "cpu") return v.toFixed(1) + " %";
  const unit = unitOf(metric);
  return (Number.isInteger(v) ? String(v) : v.toFixed(2)) + (unit ? " " + unit : "");
}

function chartWidth(figure) { return Math.max(240, Math.floor(figure.clientWidth)); }

// The y axis' tick steps: whole restarts, memory in binary units (16 MB, not 19.1 MB),
// uPlot's own steps for the rest.
const WHOLE = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
const BINARY = [0, 1, 2, 3, 4].flatMap(k => [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
  .map(m => m * Math.pow(1024, k)));

function yAxis(metric) {
  const axis = { stroke: "#6b7280", grid: { stroke: "#eef0f3" }, size: 72,
    values: (u, ticks) => ticks.map(v => valueText(metric, v)) };
  if (metric === "restarts") axis.incrs = WHOLE;
  if (metric === "memory") axis.incrs = BINARY;
  return axis;
}

// One chart of `metric`, drawn by uPlot (canvas): time on x, the metric in its unit on y
// from 0, the value under the cursor in the legend. Kept in `state.charts` and fed with
// setData while the app's charts are open; the counter of restarts is drawn in steps.
function newChart(metric) {
  const figure = el("figure", null, "chart");
  figure.dataset.metric = metric;
  document.getElementById("charts").append(figure);
  const unit = unitOf(metric);
  const plot = new uPlot({
    width: chartWidth(figure),
    height: CHART_H,
    title: metric + (unit ? " (" + unit + ")" : ""),
    cursor: { drag: { x: false, y: false } },
    scales: { y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [
      { stroke: "#6b7280", grid: { stroke: "#eef0f3" } },
      yAxis(metric),
    ],
    series: [
      { label: "time", value: (u, t) => t === null ? "–" : new Date(t * 1000).toLocaleString() },
      { label: metric, stroke: "#2b6cb0", width: 1.5, fill: "rgba(43, 108, 176, 0.08)",
        points: { show: false },
        paths: metric === "restarts" ? uPlot.paths.stepped({ align: 1 }) : undefined,
        value: (u, v) => valueText(metric, v) },
    ],
  }, [[], []], figure);
  const chart = { figure, plot };
  state.charts[metric] = chart;
  return chart;
}

// Draws `points` ([t_ms, value]) on the chart of `metric`, made on first use.
function drawChart(metric, points) {
  const chart = state.charts[metric] || newChart(metric);
  chart.plot.setData([points.map(p => p[0] / 1000), points.map(p => p[1])]);
}

function dropCharts() {
  for (const chart of Object.values(state.charts)) chart.plot.destroy();
  state.charts = {};
  document.getElementById("charts").replaceChildren();
}

// The charts follow their box's width (the window, the grid's columns).
function resizeCharts() {
  for (const chart of Object.values(state.charts)) {
    const width = chartWidth(chart.figure);
    if (width !== chart.plot.width) chart.plot.setSize({ width, height: CHART_H });
  }
}

async function history(app, metric, after) {
  let q = "app=" + encodeURIComponent(app) + "&metric=" + encodeURIComponent(metric) +
    "&range=" + state.chartRange;
  if (after !== undefined) q += "&after=" + after;
  const r = await api("/api/history?" + q);
  return r.ok ? r.json() : null;
}

// The 1h charts keep their points: each refresh asks only for the newer ones (and the
// last one held again: a second tick within the same second rewrites it), puts them in
// place and drops what left the hour. The longer ranges are read whole (once a minute).
const HOUR_MS = 3600 * 1000;

function lastT(metric) {
  const held = state.chartPoints[metric];
  return state.chartRange === "1h" && held && held.length ? held[held.length - 1][0] - 1 : undefined;
}

function merged(metric, points) {
  if (state.chartRange !== "1h") return points;
  const from = points.length ? points[0][0] : Infinity;
  const all = (state.chartPoints[metric] || []).filter(p => p[0] < from).concat(points);
  const newest = all.length ? all[all.length - 1][0] : 0;
  const kept = all.filter(p => p[0] > newest - HOUR_MS);
  state.chartPoints[metric] = kept;
  return kept;
}

// `gen` changes when another app or range is opened: an answer to the one before is dropped.
async function chartOnce(app, gen, metric) {
  const h = await history(app, metric, lastT(metric));
  if (!h || gen !== state.chartGen) return null;
  drawChart(metric, merged(metric, h.points));
  return h;
}

async function refreshOnce() {
  const app = state.chartApp, gen = state.chartGen;
  if (!app) return;
  const cpu = await chartOnce(app, gen, "cpu");
  if (!cpu) return;
  for (const metric of cpu.metrics.filter(m => m !== "cpu").slice(0, CHARTS_MAX - 1)) {
    await chartOnce(app, gen, metric);
  }
}

// One refresh at a time (two at once would append the same points twice); a tick that
// comes during one runs it again once it is done.
async function refreshCharts() {
  if (state.chartRunning) {
    state.chartAgain = true;
    return;
  }
  state.chartRunning = true;
  try {
    do {
      state.chartAgain = false;
      await refreshOnce();
    } while (state.chartAgain);
  } finally {
    state.chartRunning = false;
  }
}

function chartEvery() {
  clearInterval(state.chartTimer);
  state.chartTimer = setInterval(refreshCharts, state.chartRange === "1h" ? 1000 : 60000);
}

function openCharts(name) {
  state.chartApp = name;
  document.getElementById("history").hidden = false;
  document.getElementById("history-app").textContent = name;
  dropCharts();
  state.chartPoints = {};
  state.chartGen++;
  refreshCharts();
  chartEvery();
}

function when(ms) { return ms ? new Date(ms).toLocaleString() : ""; }

async function loadIssues() {
  const all = await (await api("/api/issues")).json();
  const showResolved = document.getElementById("issues-resolved").checked;
  const rows = all.filter(i => showResolved || !i.resolved);
  document.getElementById("issues-count").textContent = "(" + all.filter(i => !i.resolved).length + " open)";
  const body = document.querySelector("#issues-table tbody");
  body.replaceChildren();
  for (const i of rows) {
    const tr = el("tr", null, i.resolved ? "resolved" : "");
    tr.append(el("td", i.host || "this host"), el("td", i.app), el("td", i.kind), el("td", i.message, "issue-message"),
      el("td", i.count), el("td", when(i.first_seen)), el("td", when(i.last_seen)));
    const open = el("button", "open");
    open.type = "button";
    open.addEventListener("click", () => openIssue(i.id));
    const td = el("td");
    td.append(open);
    tr.append(td);
    body.append(tr);
  }
}

async function openIssue(id) {
  const r = await api("/api/issues/" + encodeURIComponent(id));
  if (!r.ok) return;
  const i = await r.json();
  state.issue = id;
  document.getElementById("issue").hidden = false;
  document.getElementById("issue-title").textContent =
    (i.host ? i.host + " / " : "") + i.app + ": " + i.message;
  document.getElementById("issue-meta").textContent = i.kind + ", " + i.count + " times, first " +
    when(i.first_seen) + ", last " + when(i.last_seen) + (i.resolved ? ", resolved" : "");
  document.getElementById("issue-stack").textContent = i.stack || "(no stack)";
  document.getElementById("issue-logs").textContent =
    (i.logs || []).map(l => (l.kind === "err" ? "err | " : "out | ") + l.line).join("\n");
}

async function resolveIssue() {
  if (!state.issue || !window.confirm("mark this issue resolved?")) return;
  const r = await api("/api/issues/" + encodeURIComponent(state.issue) + "/resolve", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": state.csrf },
    body: "{}",
  });
  say(r.ok ? "issue resolved" : (await r.json()).error);
  document.getElementById("issue").hidden = true;
  await loadIssues();
}

document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("issues-resolved").addEventListener("change", loadIssues);
  document.getElementById("issue-resolve").addEventListener("click", resolveIssue);
  document.getElementById("issue-close").addEventListener("click", () => {
    document.getElementById("issue").hidden = true;
  });
  for (const b of document.querySelectorAll("#history button[data-range]")) {
    b.addEventListener("click", () => {
      state.chartRange = b.dataset.range;
      state.chartPoints = {};
      state.chartGen++;
      for (const o of document.querySelectorAll("#history button[data-range]")) {
        o.className = o === b ? "on" : "";
      }
      refreshCharts();
      chartEvery();
    });
  }
  new ResizeObserver(resizeCharts).observe(document.getElementById("charts"));
  document.getElementById("history-close").addEventListener("click", () => {
    clearInterval(state.chartTimer);
    state.chartApp = null;
    state.chartGen++;
    dropCharts();
    document.getElementById("history").hidden = true;
  });
  document.getElementById("logs-all").addEventListener("click", () => openLogs("all", "every app"));
  document.getElementById("logs-close").addEventListener("click", () => {
    if (state.logs) state.logs.close();
    state.logs = null;
    document.getElementById("logs").hidden = true;
  });
  await loadSession();
  await loadServer();
  setInterval(loadServer, 10000);
  await loadIssues();
  setInterval(loadIssues, 5000);
  live();
});
