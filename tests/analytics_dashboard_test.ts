/**
 * The dashboard in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core):
 * served by a test stack with a seeded history, signed in with an API key and then with a
 * Supabase account (supabase-js against the stack's Supabase Auth stand-in), the numbers and
 * charts must match the data, and every call goes through supabase-js's functions.invoke.
 * Saves bench-results/dashboard.png.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import {
  generateSearches,
  insertSearchEvents,
  rollup,
  type SearchRow,
  seededRandom,
  utcDay,
} from "./helpers/analytics.ts";
import { testEachBackend } from "./helpers/db.ts";
import { call, createProject, MEMORIES, saveMemory } from "./helpers/foundation.ts";
import { setEmbedding, unitVector } from "./helpers/search.ts";
import { TEST_JWT_SECRET } from "./helpers/jwt.ts";
import { type TestStack, type TestUser, withStack } from "./helpers/stack.ts";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT = new URL("../bench-results/dashboard.png", import.meta.url);
const HISTORY_DAYS = 14;

const MEMORIES_TO_SAVE = [
  [
    "web-app",
    "Deploy edge functions",
    "Run `deno task deploy`; it links, pushes migrations, then deploys each function.",
  ],
  [
    "web-app",
    "Postgres connection pool",
    "Edge Functions use Supavisor on port 6543 in transaction mode: no prepared statements.",
  ],
  [
    "web-app",
    "RLS policy for teams",
    "Members are in project_members; policies call private.project_ids(role).",
  ],
  [
    "web-app",
    "HNSW index tuning",
    "m = 16, ef_construction = 64; hnsw.ef_search = 100 for searches.",
  ],
  [
    "infra",
    "Why CI is slow",
    "The pgvector build from source takes three minutes; it is cached on reruns.",
  ],
  ["infra", "Cache query embeddings", "Query embeddings are cached for five minutes in Upstash."],
  ["infra", "Cache the query embeddings", "Query embeddings are cached 5 minutes (Upstash)."],
  ["web-app", "Old convention", "Tabs, not spaces (superseded long ago)."],
] as const;

/** A user with memories, real searches today and a generated history of earlier days. */
async function seed(stack: TestStack): Promise<{ user: TestUser; searches: number }> {
  const user = await stack.newUser();
  await createProject(stack, user, { name: "Web app", slug: "web-app" });
  await createProject(stack, user, { name: "Infra", slug: "infra" });
  const saved = [];
  for (const [project, title, content] of MEMORIES_TO_SAVE) {
    saved.push(await saveMemory(stack, user, { project, title, content }));
  }
  const model = stack.ctx.embedder.model;
  await setEmbedding(stack.db, saved[5].id, unitVector(1), model);
  await setEmbedding(stack.db, saved[6].id, unitVector(0.985), model);
  await stack.db.query(
    "update public.memories set created_at = now() - interval '45 days' where id = $1",
    [saved[7].id],
  );

  // Today: real searches through the API (two find nothing).
  const queries = [
    "deploy edge functions",
    "connection pool",
    "kubernetes helm",
    "kubernetes helm",
  ];
  for (const query of queries) {
    const r = await call(stack, user, "POST", `${MEMORIES}/search`, { query, mode: "keyword" });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  await stack.ctx.analytics.flush();

  // Earlier days: a seeded history, rolled up day by day as the nightly job would.
  const rand = seededRandom(7);
  const pool = saved.slice(0, 6).map((m) => [m.id, m.project_id] as [string, string]);
  const history: SearchRow[] = [];
  for (let d = HISTORY_DAYS - 1; d >= 1; d--) {
    history.push(...generateSearches({
      userId: user.userId,
      projectId: saved[0].project_id,
      hitPool: pool,
      day: utcDay(-d),
      searches: 6 + Math.floor(rand() * 30),
      seed: 1000 + d,
    }));
  }
  await insertSearchEvents(stack.db, history);
  for (let d = HISTORY_DAYS - 1; d >= 0; d--) await rollup(stack.db, utcDay(-d));
  return { user, searches: history.length + queries.length };
}

/** Headless Chromium with a fresh profile and no background traffic (the network is closed). */
const launchChromium = () =>
  chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });

testEachBackend(
  "dashboard: a search made a moment ago shows up, no rollup run",
  async (backend) => {
    await withStack(backend, async (stack) => {
      const user = await stack.newUser();
      await saveMemory(stack, user, { content: "Live insights count today at once." });
      const r = await call(stack, user, "POST", `${MEMORIES}/search`, {
        query: "insights today",
        mode: "keyword",
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      await stack.ctx.analytics.flush();
      const rolledUp = async () =>
        (await stack.db.query<{ n: number }>(
          "select count(*)::int as n from public.analytics_daily where user_id = $1",
          [user.userId],
        ))[0].n;
      assert.equal(await rolledUp(), 0);

      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        await page.goto(`${stack.url}/dashboard`);
        await page.fill("#key-form input[name=key]", user.key);
        await page.click("#key-form button[type=submit]");
        await page.locator("#kpi-searches", { hasText: "1" }).waitFor();
        assert.equal(await page.textContent("#kpi-writes"), "1");
        assert.equal(await page.textContent("#kpi-hit-rate"), "100%");
        assert.match((await page.textContent("#status"))!, /no rollup yet · today counted live/);
        const bars = await page.$$eval(
          "#chart-searches rect.bar",
          (rects) => rects.map((r) => [r.getAttribute("data-day"), r.getAttribute("data-value")]),
        );
        assert.deepEqual(bars, [[utcDay(0), "1"]]);

        // One more, from the dashboard's own memory search: Refresh counts it too.
        await page.fill("#memory-search input[name=q]", "nothing like this anywhere");
        await Promise.all([
          page.waitForResponse((res) => res.url().endsWith("/functions/v1/memories/search")),
          page.click("#memory-search button"),
        ]);
        await stack.ctx.analytics.flush();
        await page.click("#refresh");
        await page.locator("#kpi-searches", { hasText: "2" }).waitFor();
        assert.equal(await page.textContent("#kpi-hit-rate"), "50%");
        assert.equal(await rolledUp(), 0, "still no rollup");
      } finally {
        await browser.close();
      }
    });
  },
  { ignore: !existsSync(CHROMIUM), sanitizeResources: false, sanitizeOps: false },
);

testEachBackend("dashboard: signs in with a key and shows the seeded numbers", async (backend) => {
  await withStack(
    backend,
    async (stack) => {
      const { user, searches } = await seed(stack);
      const browser = await launchChromium();
      try {
        const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
        const problems: string[] = [];
        page.on("pageerror", (err) => problems.push(err.message));
        page.on("console", (msg) => msg.type() === "error" && problems.push(msg.text()));

        // Every call to the functions is supabase-js's (its x-client-info header).
        const calls: { url: string; clientInfo?: string; bearer?: string }[] = [];
        page.on("request", (r) => {
          if (!r.url().includes("/functions/v1/")) return;
          const h = r.headers();
          calls.push({
            url: r.url(),
            clientInfo: h["x-client-info"],
            bearer: h["authorization"]?.replace(/^Bearer /, ""),
          });
        });

        const res = await page.goto(`${stack.url}/dashboard`);
        assert.equal(res?.status(), 200);
        assert.match(res!.headers()["content-type"], /text\/html/);
        await page.fill("#key-form input[name=key]", user.key);
        assert.equal(
          await page.inputValue("#key-form input[name=apiBase]"),
          `${stack.url}/functions/v1`,
        );
        await page.click("#key-form button[type=submit]");
        // (Locators, not waitForFunction strings: the page's CSP forbids eval, as it should.)
        await page.locator("#kpi-searches", { hasNotText: "–" }).waitFor();

        assert.equal(await page.textContent("#kpi-searches"), searches.toLocaleString("en"));
        assert.match((await page.textContent("#kpi-latency"))!, /^\d+(\.\d)? \/ \d+(\.\d)?$/);
        assert.match((await page.textContent("#kpi-hit-rate"))!, /^\d+(\.\d)?%$/);
        assert.equal(await page.textContent("#kpi-writes"), String(MEMORIES_TO_SAVE.length));
        // One bar per day with searches (found and/or empty), 30 days on the axis.
        const barDays = await page.$$eval(
          "#chart-searches rect.bar",
          (rects) => new Set(rects.map((r) => r.getAttribute("data-day"))).size,
        );
        assert.equal(barDays, HISTORY_DAYS);
        const barTotal = await page.$$eval(
          "#chart-searches rect.bar",
          (rects) => rects.reduce((sum, r) => sum + Number(r.getAttribute("data-value")), 0),
        );
        assert.equal(barTotal, searches);
        assert.ok(await page.locator("#chart-latency path.line-latency_p95_ms").count() === 1);
        assert.ok(await page.locator("#chart-rates circle.dot-hit_rate").count() >= HISTORY_DAYS);

        assert.ok(await page.locator("#top-queries tbody tr").count() >= 5);
        assert.match((await page.textContent("#sugg-zero"))!, /kubernetes helm/i);
        assert.match((await page.textContent("#sugg-stale"))!, /Old convention/);
        assert.match((await page.textContent("#sugg-dupes"))!, /Cache query embeddings/);
        await page.locator("#memory-list li:not(.none)").first().waitFor();
        assert.equal(await page.locator("#memory-list li").count(), MEMORIES_TO_SAVE.length);

        if (backend === "pglite") {
          await Deno.mkdir(new URL(".", SCREENSHOT), { recursive: true });
          await page.screenshot({ path: SCREENSHOT.pathname, fullPage: true });
          console.log(`dashboard screenshot: ${SCREENSHOT.pathname}`);
        }

        // Searching the memories goes through POST /memories/search.
        await page.fill("#memory-search input[name=q]", "pgvector build");
        const [searched] = await Promise.all([
          page.waitForResponse((r) => r.url().endsWith("/functions/v1/memories/search")),
          page.click("#memory-search button"),
        ]);
        assert.equal(searched.status(), 200);
        await page.locator("#memory-list li").first().filter({ hasText: "CI is slow" }).waitFor();
        // That search counts at once (today is live): one more from here on.
        await stack.ctx.analytics.flush();
        const searchesNow = (searches + 1).toLocaleString("en");

        // The session survives a reload (localStorage); signing out forgets it.
        await page.reload();
        await page.locator("#kpi-searches", { hasNotText: "–" }).waitFor();
        await page.click("#sign-out");
        await page.locator("#sign-in").waitFor({ state: "visible" }); // after the sign-out's request
        assert.equal(await page.evaluate(() => localStorage.length), 0);
        assert.ok(calls.length > 0);
        for (const call of calls) {
          assert.match(call.clientInfo ?? "", /^supabase-js\/\d/, call.url);
          assert.equal(call.bearer, user.key, call.url);
        }

        // A Supabase account: supabase-js signs in at /auth/v1 and sends its access token.
        const password = "correct horse battery staple";
        await stack.auth!.createUser(user.email, password);
        calls.length = 0;
        await page.click("[data-tab=supabase]");
        await page.fill("#supabase-form input[name=supabaseUrl]", stack.url);
        await page.fill("#supabase-form input[name=anonKey]", "local-anon-key");
        await page.fill("#supabase-form input[name=email]", user.email);
        await page.fill("#supabase-form input[name=password]", "wrong password");
        const before = problems.length;
        await page.click("#supabase-form button[type=submit]");
        await page.locator("#sign-in-error", { hasText: "Invalid login credentials" }).waitFor();
        // Chromium logs the refused sign-in's 400 itself; nothing else went wrong.
        assert.deepEqual(problems.splice(before), [
          "Failed to load resource: the server responded with a status of 400 (Bad Request)",
        ]);
        await page.fill("#supabase-form input[name=password]", password);
        await page.click("#supabase-form button[type=submit]");
        await page.locator("#kpi-searches", { hasText: searchesNow }).waitFor();
        assert.ok(calls.length > 0);
        for (const call of calls) {
          assert.match(call.clientInfo ?? "", /^supabase-js\/\d/, call.url);
          assert.match(call.bearer ?? "", /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/, `a JWT: ${call.url}`);
        }
        // supabase-js keeps the session across a reload; signing out ends it.
        await page.reload();
        await page.locator("#kpi-searches", { hasText: searchesNow }).waitFor();
        await page.click("#sign-out");
        await page.locator("#sign-in").waitFor({ state: "visible" }); // after the sign-out's request
        assert.equal(await page.evaluate(() => localStorage.length), 0);
        assert.deepEqual(problems, []);
      } finally {
        await browser.close();
      }
    },
    { SUPABASE_JWT_SECRET: TEST_JWT_SECRET },
    { authStandIn: true },
  );
}, { ignore: !existsSync(CHROMIUM), sanitizeResources: false, sanitizeOps: false });

Deno.test("dashboard: static files with their types; nothing outside the folder", async () => {
  const { createStaticHandler } = await import("../scripts/local/static_files.ts");
  const serve = createStaticHandler(new URL("../dashboard/", import.meta.url), "/dashboard");
  const get = (path: string, method = "GET") => serve(new Request(`http://x${path}`, { method }));
  assert.equal(await get("/elsewhere"), null);
  assert.equal((await get("/dashboard"))!.status, 308);
  for (
    const [path, type] of [
      ["/dashboard/", /text\/html/],
      ["/dashboard/app.js", /text\/javascript/],
      ["/dashboard/styles.css", /text\/css/],
    ] as const
  ) {
    const res = (await get(path))!;
    await res.body?.cancel();
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get("content-type")!, type);
    assert.match(res.headers.get("content-security-policy")!, /default-src 'self'/);
  }
  // URLs resolve "/dashboard/../x" to "/x" before it gets here: simply not ours.
  assert.equal(await get("/dashboard/../deno.json"), null);
  for (
    const path of [
      "/dashboard/..%2fdeno.json",
      "/dashboard/..%2f..%2fetc%2fpasswd",
      "/dashboard/x.ts",
    ]
  ) {
    const res = (await get(path))!;
    await res.body?.cancel();
    assert.equal(res.status, 404, path);
  }
  assert.equal((await get("/dashboard/app.js", "POST"))!.status, 405);
});
