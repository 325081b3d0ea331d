// The dashboard: signs in, loads GET /analytics/insights and the project list, draws the
// numbers, charts, lists and suggestions, and lists or searches memories.
import {
  ApiError,
  defaultApiBase,
  restoreSession,
  signInWithKey,
  signInWithPassword,
} from "./api.js";
import { barChart, lineChart } from "./charts.js";
import { Manage, wireManage } from "./manage.js";

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const COLORS = {
  found: "#6366f1",
  zero: "#f97316",
  hit: "#16a34a",
  cache: "#0ea5e9",
  p50: "#0d9488",
  p95: "#a855f7",
};

/** @type {import("./api.js").Api | null} */
let api = null;
let insights = null;
/** @type {Manage | null} */
let manage = null;

const fmt = {
  int: (n) => Number(n ?? 0).toLocaleString("en"),
  pct: (r) => (r === null || r === undefined ? "–" : `${Math.round(r * 1000) / 10}%`),
  ms: (
    v,
  ) => (v === null || v === undefined
    ? "–"
    : v >= 100
    ? String(Math.round(v))
    : String(Math.round(v * 10) / 10)),
};

/** A text node wrapper: everything shown comes from data, so it is never parsed as HTML. */
function node(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}

function memoryLabel(m) {
  return m.title || m.content?.slice(0, 80) || m.id;
}

// --- Sign in --------------------------------------------------------------------------------

function showSignIn(message = "") {
  $("app").hidden = true;
  $("controls").hidden = true;
  $("views").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-error").textContent = message;
  const form = /** @type {HTMLFormElement} */ ($("key-form"));
  const base = /** @type {HTMLInputElement} */ (form.elements.namedItem("apiBase"));
  if (!base.value) base.value = defaultApiBase();
}

function selectTab(tab) {
  for (const b of document.querySelectorAll("[data-tab]")) {
    b.setAttribute("aria-selected", String(b.getAttribute("data-tab") === tab));
  }
  for (const p of document.querySelectorAll("[data-panel]")) {
    /** @type {HTMLElement} */ (p).hidden = p.getAttribute("data-panel") !== tab;
  }
}

/** @param {import("./api.js").Api} signedIn */
async function start(signedIn) {
  api = signedIn;
  try {
    await loadProjects();
  } catch (err) {
    await api.signOut();
    api = null;
    showSignIn(
      err instanceof ApiError && err.status === 401
        ? "That key or account was not accepted."
        : String(err.message ?? err),
    );
    return;
  }
  $("sign-in").hidden = true;
  $("app").hidden = false;
  $("controls").hidden = false;
  manage = new Manage(api);
  manage.showEndpoint();
  showView("insights");
  $("views").hidden = false;
  await Promise.all([refresh(), loadMemories("")]);
}

/**
 * One view at a time: the management panels carry data-view; everything else in #app is the
 * insights view. The project and range controls belong to insights.
 */
function showView(view) {
  for (const child of $("app").children) {
    /** @type {HTMLElement} */ (child).hidden = (child.getAttribute("data-view") ?? "insights") !==
      view;
  }
  for (const b of document.querySelectorAll("#views [data-view]")) {
    if (b.getAttribute("data-view") === view) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  $("controls").classList.toggle("insights-only", view !== "insights");
  if (view !== "insights") void manage?.show(view);
}

// --- Data -----------------------------------------------------------------------------------

async function loadProjects() {
  const { projects } = await api.request("memories/projects");
  const select = /** @type {HTMLSelectElement} */ ($("project"));
  select.replaceChildren(new Option("All my activity", ""));
  for (const p of projects) select.append(new Option(`${p.name} (${p.slug})`, p.id));
}

async function refresh() {
  const project = /** @type {HTMLSelectElement} */ ($("project")).value;
  const days = /** @type {HTMLSelectElement} */ ($("days")).value;
  const params = new URLSearchParams({ days });
  if (project) params.set("project", project);
  $("status").textContent = "Loading…";
  try {
    insights = await api.request(`analytics/insights?${params}`);
    render();
  } catch (err) {
    $("status").textContent = `Could not load insights: ${err.message}`;
  }
}

// --- Rendering ------------------------------------------------------------------------------

function render() {
  const t = insights.totals;
  const rollup = insights.last_rollup_at
    ? `updated ${new Date(insights.last_rollup_at).toLocaleString("en")}`
    : "no rollup yet";
  // Days the rollup has not finished (today, mostly) are counted from the raw events.
  const live = insights.live_days ?? [];
  const liveNote = live.length === 0
    ? ""
    : ` · ${
      live.length === 1 && live[0] === insights.to ? "today" : `${live.length} days`
    } counted live`;
  $("status").textContent = `${insights.from} – ${insights.to} (UTC) · ${rollup}${liveNote}`;
  $("kpi-searches").textContent = fmt.int(t.searches);
  $("kpi-searches-sub").textContent = `${
    fmt.int(Math.round(t.searches / insights.days * 10) / 10)
  } per day`;
  $("kpi-hit-rate").textContent = fmt.pct(t.hit_rate);
  $("kpi-zero").textContent = `${fmt.int(t.zero_result_searches)} found nothing`;
  $("kpi-cache").textContent = fmt.pct(t.cache_hit_rate);
  $("kpi-latency").textContent = `${fmt.ms(t.latency_p50_ms)} / ${fmt.ms(t.latency_p95_ms)}`;
  $("kpi-writes").textContent = fmt.int(t.saves + t.updates + t.deletes);
  $("kpi-writes-sub").textContent = `${fmt.int(t.saves)} saved · ${fmt.int(t.updates)} updated · ${
    fmt.int(t.deletes)
  } deleted`;
  drawCharts();
  renderTables();
  renderSuggestions();
}

function drawCharts() {
  if (!insights) return;
  const series = insights.series.map((d) => ({ ...d, found: d.searches - d.zero_result_searches }));
  barChart($("chart-searches"), series, [
    { key: "found", color: COLORS.found, label: "found something" },
    { key: "zero_result_searches", color: COLORS.zero, label: "found nothing" },
  ]);
  lineChart($("chart-rates"), series, [
    { key: "hit_rate", color: COLORS.hit, label: "hit rate" },
    { key: "cache_hit_rate", color: COLORS.cache, label: "cache hit rate" },
  ], { max: 1, format: (v) => `${Math.round(v * 100)}%` });
  lineChart($("chart-latency"), series, [
    { key: "latency_p50_ms", color: COLORS.p50, label: "ms p50" },
    { key: "latency_p95_ms", color: COLORS.p95, label: "ms p95" },
  ], { format: (v) => `${fmt.ms(v)}` });
}

function fillTable(id, rows, cells, empty) {
  const body = /** @type {HTMLTableElement} */ ($(id)).tBodies[0];
  body.replaceChildren();
  if (rows.length === 0) {
    const tr = document.createElement("tr");
    const td = node("td", empty, "none");
    td.colSpan = 3;
    tr.append(td);
    body.append(tr);
    return;
  }
  for (const row of rows) {
    const tr = document.createElement("tr");
    for (const [text, cls] of cells(row)) {
      const td = node("td", text, cls);
      td.title = String(text);
      tr.append(td);
    }
    body.append(tr);
  }
}

function renderTables() {
  fillTable(
    "top-queries",
    insights.top_queries,
    (q) => [[q.query], [fmt.int(q.count), "num"], [fmt.int(q.zero_results), "num"]],
    "No searches yet",
  );
  fillTable(
    "zero-queries",
    insights.zero_result_queries,
    (q) => [[q.query], [fmt.int(q.count), "num"]],
    "Every search found something",
  );
  fillTable(
    "most-hit",
    insights.most_hit_memories,
    (m) => [[memoryLabel(m)], [fmt.int(m.hits), "num"]],
    "No memory recalled yet",
  );
}

function fillList(id, items, render, empty) {
  const list = $(id);
  list.replaceChildren();
  if (items.length === 0) list.append(node("li", empty, "none"));
  for (const item of items) list.append(render(item));
}

function renderSuggestions() {
  const s = insights.suggestions;
  fillList("sugg-zero", s.repeated_zero_result_queries, (q) => {
    const li = node("li", q.query);
    li.append(node("span", `${q.count}×`, "pill warn"));
    return li;
  }, "Nothing missing: every repeated question found an answer.");
  $("sugg-stale-title").textContent = `Not recalled in ${s.stale_after_days} days`;
  $("sugg-stale-note").textContent = s.stale_memories_total
    ? `${fmt.int(s.stale_memories_total)} ${
      s.stale_memories_total === 1 ? "memory" : "memories"
    } older than ${s.stale_after_days} days that no search returned: still true?`
    : "Older memories that no search returned: review or delete them.";
  fillList("sugg-stale", s.stale_memories, (m) => {
    const li = node("li", memoryLabel(m));
    li.title = m.content;
    li.append(node("span", m.project, "pill"));
    return li;
  }, "Every older memory was recalled recently.");
  fillList("sugg-dupes", s.duplicate_clusters, (c) => {
    const li = node("li", c.memories.map(memoryLabel).join("  ≈  "), "wrap");
    li.title = c.memories.map((m) => m.content).join("\n---\n");
    li.append(
      node(
        "span",
        c.method === "embedding" ? `${Math.round(c.similarity * 100)}% similar` : "same title",
        "pill",
      ),
    );
    return li;
  }, "No near-duplicates found.");
}

// --- Memories -------------------------------------------------------------------------------

async function loadMemories(query) {
  const list = $("memory-list");
  const project = /** @type {HTMLSelectElement} */ ($("project")).value;
  let items;
  try {
    if (query) {
      const body = project ? { query, project, limit: 20 } : { query, limit: 20 };
      items = (await api.request("memories/search", body)).results;
    } else {
      const params = new URLSearchParams({ limit: "20" });
      if (project) params.set("project", project);
      items = (await api.request(`memories?${params}`)).memories;
    }
  } catch (err) {
    list.replaceChildren(node("li", `Could not load memories: ${err.message}`, "none"));
    return;
  }
  fillList("memory-list", items, (m) => {
    const li = document.createElement("li");
    const head = node("div", memoryLabel(m), "title");
    head.append(node("span", m.kind, "pill"), node("span", m.project, "pill"));
    for (const tag of m.tags ?? []) head.append(node("span", `#${tag}`, "pill"));
    li.append(head, node("div", m.content, "content"));
    return li;
  }, query ? "No memory matches." : "No memories yet.");
}

// --- Wiring ---------------------------------------------------------------------------------

for (const b of document.querySelectorAll("[data-tab]")) {
  b.addEventListener("click", () => selectTab(b.getAttribute("data-tab")));
}

$("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const f = new FormData(/** @type {HTMLFormElement} */ (e.target));
  void start(signInWithKey(String(f.get("apiBase")), String(f.get("key"))));
});

$("supabase-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(/** @type {HTMLFormElement} */ (e.target));
  try {
    await start(
      await signInWithPassword(
        String(f.get("supabaseUrl")),
        String(f.get("anonKey")),
        String(f.get("email")),
        String(f.get("password")),
      ),
    );
  } catch (err) {
    $("sign-in-error").textContent = err.message;
  }
});

for (const b of document.querySelectorAll("#views [data-view]")) {
  b.addEventListener("click", () => showView(b.getAttribute("data-view")));
}
wireManage(() => manage);

$("sign-out").addEventListener("click", async () => {
  await api?.signOut();
  api = null;
  manage = null;
  insights = null;
  showSignIn();
});
$("refresh").addEventListener("click", () => void refresh());
$("days").addEventListener("change", () => void refresh());
$("project").addEventListener("change", () => void Promise.all([refresh(), loadMemories("")]));
$("memory-search").addEventListener("submit", (e) => {
  e.preventDefault();
  const q = String(new FormData(/** @type {HTMLFormElement} */ (e.target)).get("q") ?? "").trim();
  void loadMemories(q);
});

let resizeTimer;
addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(drawCharts, 150);
});

const restored = await restoreSession().catch(() => null);
if (restored) void start(restored);
else showSignIn();
