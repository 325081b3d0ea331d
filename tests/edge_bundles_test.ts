/**
 * What gets deployed is what gets tested. `deno task deploy --dry-run` bundles every function
 * (checked against its budget); the real Supabase CLI uploads exactly those files to a stand-in
 * Management API; and the mcp, memories, embed and analytics bundles run as separate processes
 * the way Edge Runtime runs them (network and environment only, the deploy's secrets) against the
 * real PostgreSQL, driven by the MCP SDK client and plain HTTP.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Database } from "../shared/db/types.ts";
import type { Memory } from "../shared/memory/types.ts";
import {
  type Artifact,
  budgetProblem,
  BUDGETS,
  bundlePath,
  moduleShares,
} from "../scripts/deploy/artifact.ts";
import { planDeploy } from "../scripts/deploy/plan.ts";
import { type BundleProcess, edgeEnvironment, startBundle } from "../scripts/deploy/run_bundle.ts";
import {
  readSupabaseConfig,
  REPO_ROOT,
  SUPABASE_CLI_VERSION,
} from "../scripts/deploy/supabase_config.ts";
import { available, openTestDb } from "./helpers/db.ts";
import { MCP_TOOLS } from "./helpers/mcp.ts";
import { fakeVector, startFakeOpenAI } from "./helpers/fake_openai.ts";
import { newKeyedUser, type TestUser } from "./helpers/users.ts";
import {
  assertToolError,
  callTool,
  callToolOk,
  type McpClient,
  reply,
} from "./helpers/foundation.ts";

const REF = "abcdefghijklmnopqrst";
const SECRET = "bundle-test-webhook-secret-0123456789";
const DATABASE_URL = Deno.env.get("DATABASE_URL");
/** Inside the repository (git-ignored), so `deno bundle` finds deno.json; rebuilt each run. */
const BUILD_DIR = join(REPO_ROOT, ".build", "test");
const FUNCTIONS = (await readSupabaseConfig()).functions.map((f) => f.name);

let build: Promise<string> | undefined;

/** `deno task deploy --dry-run` into BUILD_DIR, once per test file; returns its stdout. */
function dryRun(): Promise<string> {
  return build ??= (async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "scripts/deploy.ts",
        "--dry-run",
        "--project-ref",
        REF,
        "--env-file",
        "/nonexistent",
        "--build-dir",
        BUILD_DIR,
      ],
      cwd: REPO_ROOT,
      // A CLI that would fail loudly if anything were executed.
      env: { OPENAI_API_KEY: "sk-secret-value", SUPABASE_CLI: "false", NO_COLOR: "1" },
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, stdout + new TextDecoder().decode(out.stderr));
    return stdout;
  })();
}

Deno.test("deploy --dry-run bundles every function within budget and runs nothing", async () => {
  const stdout = await dryRun();
  for (const name of FUNCTIONS) {
    const code = await Deno.readFile(bundlePath(BUILD_DIR, name));
    const budget = BUDGETS[name as keyof typeof BUDGETS];
    assert.ok(code.length <= budget.bytes, `${name}: ${code.length} bytes`);
    assert.ok(gzipSync(code, { level: 9 }).length <= budget.gzipBytes, `${name} gzipped`);
    // The size table, then the upload of that very bundle.
    assert.match(stdout, new RegExp(`^${name} +\\d\\.\\d\\d MB +\\d+ KB `, "m"));
    assert.match(
      stdout,
      new RegExp(
        `\\$ false functions deploy ${name} --use-api --workdir .build/test --remote=${REF}\n`,
      ),
    );
  }
  assert.match(stdout, new RegExp(`\\$ false link --project-ref ${REF}`));
  assert.match(
    stdout,
    /secrets\.env: PUBLIC_URL, WEBHOOK_SECRET, OPENAI_API_KEY \(values not shown\)/,
  );
  assert.match(stdout, /\$ false db push --remote/);
  assert.match(stdout, /Dry run: nothing was executed/);
  assert.doesNotMatch(stdout, /sk-secret-value/);
  const config = await Deno.readTextFile(join(BUILD_DIR, "supabase", "config.toml"));
  assert.match(
    config,
    /\[functions\.mcp\]\nverify_jwt = false\nentrypoint = "\.\/functions\/mcp\/index\.js"/,
  );
});

Deno.test("over its budget, a function is refused with its largest modules named", async () => {
  await dryRun();
  const path = bundlePath(BUILD_DIR, "mcp");
  const code = await Deno.readTextFile(path);
  const modules = moduleShares(
    code,
    JSON.parse(await Deno.readTextFile(`${path}.map`)),
    join(path, ".."),
  );
  const artifact: Artifact = { name: "mcp", path, bytes: code.length, gzipBytes: 300_000, modules };
  assert.equal(budgetProblem(artifact), null);
  const problem = budgetProblem(artifact, { bytes: 500_000, gzipBytes: 100_000 });
  assert.match(
    problem ?? "",
    /^mcp is over its size budget: \d\.\d\d MB minified \(budget 0\.50 MB\), 300 KB gzipped \(budget 100 KB\)/,
  );
  // The SDK client library is what mcp carries; the shares add up to (nearly) the whole file.
  assert.match(
    problem ?? "",
    /Largest modules in its bundle: openai@[\d.]+ \d+ KB, zod@[\d.]+ \d+ KB/,
  );
  const attributed = modules.reduce((sum, m) => sum + m.bytes, 0);
  assert.ok(attributed > code.length * 0.9 && attributed <= code.length, `${attributed}`);
  assert.ok(modules.some((m) => m.module === "shared/http/mcp_handler.ts"), "repo files by path");
});

const npxAvailable = (() => {
  try {
    return new Deno.Command("npx", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: `supabase CLI ${SUPABASE_CLI_VERSION} uploads exactly the measured bundle of each function`,
  ignore: !npxAvailable,
  async fn() {
    await dryRun();
    const uploads: { slug: string; files: [string, Uint8Array][]; metadata: unknown }[] = [];
    // A stand-in for the Management API's deploy endpoint, reached through a CLI profile.
    await using api = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
      const url = new URL(req.url);
      const slug = url.searchParams.get("slug") ?? "";
      if (req.method === "POST" && url.pathname === `/v1/projects/${REF}/functions/deploy`) {
        const form = await req.formData();
        const files: [string, Uint8Array][] = [];
        for (const value of form.getAll("file")) {
          const file = value as File;
          files.push([file.name, new Uint8Array(await file.arrayBuffer())]);
        }
        uploads.push({ slug, files, metadata: JSON.parse(String(form.get("metadata"))) });
        return Response.json({ id: slug, slug, name: slug, status: "ACTIVE", version: 1 }, {
          status: 201,
        });
      }
      return Response.json({ id: REF, ref: REF, name: "test", status: "ACTIVE_HEALTHY" });
    });
    const dir = await Deno.makeTempDir();
    try {
      const profile = join(dir, "profile.json");
      const base = `http://127.0.0.1:${api.addr.port}`;
      await Deno.writeTextFile(
        profile,
        JSON.stringify({
          name: "test",
          api_url: base,
          dashboard_url: base,
          project_host: "test.local",
        }),
      );
      const steps = planDeploy({
        projectRef: REF,
        env: {},
        webhookSecret: SECRET,
        functions: FUNCTIONS,
        functionsWorkdir: relative(REPO_ROOT, BUILD_DIR),
        yes: true,
      }).filter((s) => s.args[0] === "functions");
      // Concurrently, like `functions deploy` with several names; each upload is one request.
      await Promise.all(steps.map(async (step) => {
        const out = await new Deno.Command("npx", {
          args: ["-y", `supabase@${SUPABASE_CLI_VERSION}`, ...step.args, "--profile", profile],
          cwd: REPO_ROOT,
          env: {
            SUPABASE_ACCESS_TOKEN: `sbp_${"0".repeat(40)}`,
            SUPABASE_TELEMETRY_DISABLED: "1",
            DO_NOT_TRACK: "1",
          },
          stdin: "null",
        }).output();
        const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
        assert.equal(out.code, 0, text);
      }));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    assert.deepEqual(uploads.map((u) => u.slug).sort(), [...FUNCTIONS].sort());
    for (const upload of uploads) {
      const entrypoint = `supabase/functions/${upload.slug}/index.js`;
      assert.deepEqual(upload.files.map(([name]) => name), [entrypoint], "one file: the bundle");
      assert.deepEqual(upload.files[0][1], await Deno.readFile(bundlePath(BUILD_DIR, upload.slug)));
      assert.deepEqual(upload.metadata, {
        entrypoint_path: entrypoint,
        import_map_path: "",
        static_patterns: [],
        verify_jwt: false,
        name: upload.slug,
      });
    }
  },
});

// ---------------------------------------------------------------------------------------------
// The bundles as processes, against PostgreSQL

interface Deployment {
  db: Database;
  openai: ReturnType<typeof startFakeOpenAI>;
  start(name: string): Promise<BundleProcess>;
  newKey(): Promise<TestUser>;
}

/** A migrated PostgreSQL and an OpenAI-compatible server; bundles start with the deploy's env. */
async function withDeployment(fn: (d: Deployment) => Promise<void>): Promise<void> {
  await dryRun();
  const db = await openTestDb("postgres");
  const openai = startFakeOpenAI();
  const env = edgeEnvironment({
    projectRef: REF,
    databaseUrl: DATABASE_URL!,
    webhookSecret: SECRET,
    settings: {
      EMBEDDING_PROVIDER: "openai",
      OPENAI_BASE_URL: openai.baseURL,
      OPENAI_API_KEY: "sk-test",
    },
  });
  const running: BundleProcess[] = [];
  try {
    await fn({
      db,
      openai,
      async start(name) {
        const p = await startBundle(bundlePath(BUILD_DIR, name), env);
        running.push(p);
        return p;
      },
      newKey: () => newKeyedUser(db, { label: "bundle" }),
    });
  } catch (err) {
    for (const p of running) console.error(`--- output of ${p.url}:\n${p.output()}`);
    throw err;
  } finally {
    for (const p of running) await p.stop();
    await openai.shutdown();
    await db.close();
  }
}

const pgTest = (name: string, fn: () => Promise<void>) =>
  Deno.test({
    name,
    ignore: !available("postgres"),
    sanitizeResources: false,
    sanitizeOps: false,
    fn,
  });

const json = (
  key: string | null,
  body?: unknown,
  method = body === undefined ? "GET" : "POST",
) => ({
  method,
  headers: {
    ...(key ? { authorization: `Bearer ${key}` } : {}),
    ...(body === undefined ? {} : { "content-type": "application/json" }),
  },
  body: body === undefined ? undefined : JSON.stringify(body),
});

/** An MCP SDK client of the bundled function as the key's user, closed after fn. */
async function withClient<T>(url: string, key: string, fn: (c: McpClient) => Promise<T>) {
  const client: McpClient = new Client({ name: "bundle-test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

pgTest("mcp bundle: a whole MCP session through the SDK client", async () => {
  await withDeployment(async (d) => {
    const mcp = await d.start("mcp");
    const alice = await d.newKey();
    const bob = await d.newKey();

    // No credentials: 401 pointing at the deployment's protected-resource metadata.
    const anonymous = await reply(await fetch(`${mcp.url}/mcp`, json(null, {})));
    assert.equal(anonymous.status, 401);
    assert.equal(
      anonymous.headers.get("www-authenticate"),
      `Bearer realm="codememory", resource_metadata="https://${REF}.supabase.co/functions/v1/mcp/.well-known/oauth-protected-resource"`,
    );

    await withClient(mcp.url, alice.key, async (client) => {
      assert.equal(client.getServerVersion()?.name, "code-memory");
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), MCP_TOOLS);

      const saved = await callToolOk(client, "save_memory", {
        content: "Deploy bundles: deno bundle --minify, one file per function",
        title: "Edge deploys",
        tags: ["deploy"],
      });
      const memory = (saved.structuredContent as { memory: Memory }).memory;
      assert.equal(memory.title, "Edge deploys");
      const got = await callToolOk(client, "get_memory", { id: memory.id });
      assert.match(got.text, /one file per function/);
      const updated = await callToolOk(client, "update_memory", { id: memory.id, tags: ["edge"] });
      assert.deepEqual((updated.structuredContent as { memory: Memory }).memory.tags, ["edge"]);
      const restored = await callToolOk(client, "restore_memory", { id: memory.id, version: 1 });
      assert.deepEqual((restored.structuredContent as { memory: Memory }).memory.tags, [
        "deploy",
      ]);
      const created = await callToolOk(client, "create_project", { name: "Edge API" });
      assert.equal(
        (created.structuredContent as { project: { ref: string } }).project.ref,
        "edge-api",
      );
      const listed = await callToolOk(client, "list_memories", {});
      assert.deepEqual(
        (listed.structuredContent as { memories: Memory[] }).memories.map((m) => m.id),
        [memory.id],
      );
      const projects = await callToolOk(client, "list_projects", {});
      assert.deepEqual(
        (projects.structuredContent as { projects: { slug: string }[] }).projects.map((p) =>
          p.slug
        ),
        ["default", "edge-api"],
      );
      // Search embeds the query through the OpenAI-compatible server.
      const before = d.openai.requests.length;
      const found = await callToolOk(client, "search_memories", { query: "minified bundle" });
      assert.deepEqual(
        (found.structuredContent as { hits: { id: string }[] }).hits.map((h) => h.id),
        [memory.id],
      );
      assert.deepEqual(d.openai.requests.slice(before).map((r) => r.body.input), [[
        "minified bundle",
      ]]);

      // The session brief: the task's match comes through search (embedded by the server).
      const brief = await callToolOk(client, "get_session_brief", { task: "minified bundle" });
      assert.deepEqual(
        (brief.structuredContent as { items: { id: string; section: string }[] }).items,
        [{ id: memory.id, section: "task", kind: "note", title: "Edge deploys" }],
      );
      assert.match(brief.text, /one file per function/);

      // Sharing takes Bob's consent: he declines one invitation and accepts the next.
      const invite = () =>
        callToolOk(client, "share_project", {
          project: "default",
          email: bob.email,
          role: "reader",
        });
      const bobsInvitation = async () => {
        const r = await withClient(mcp.url, bob.key, (c) => callToolOk(c, "list_projects", {}));
        const { invitations } = r.structuredContent as { invitations: { id: string }[] };
        assert.equal(invitations.length, 1);
        return invitations[0].id;
      };
      await invite();
      await withClient(
        mcp.url,
        bob.key,
        async (c) => callToolOk(c, "decline_invitation", { invitation: await bobsInvitation() }),
      );
      await invite();
      const invitation = await bobsInvitation();
      await withClient(mcp.url, bob.key, (c) => callToolOk(c, "accept_invitation", { invitation }));
      const members = await callToolOk(client, "list_project_members", { project: "default" });
      assert.deepEqual(
        (members.structuredContent as { members: { email: string; role: string }[] }).members
          .map((m) => `${m.email}:${m.role}`).sort(),
        [`${alice.email}:owner`, `${bob.email}:reader`].sort(),
      );
      await callToolOk(client, "unshare_project", { project: "default", email: bob.email });

      // Bad input: isError results with a message the model can act on, never a crash.
      await assertToolError(client, "save_memory", { content: "" }, /content/);
      await assertToolError(client, "save_memory", { content: "x", colour: "red" }, /colour/);
      await assertToolError(client, "get_memory", { id: "not-a-uuid" }, /UUID/);

      await callToolOk(client, "delete_memory", { id: memory.id });
      const gone = await callTool(client, "get_memory", { id: memory.id });
      assert.equal(gone.isError, true);
      assert.match(gone.text, /not found/i);
    });
  });
});

pgTest("memories bundle: the REST API, its errors and its 401", async () => {
  await withDeployment(async (d) => {
    const rest = await d.start("memories");
    const { key } = await d.newKey();
    const base = `${rest.url}/memories`;

    const created = await reply<{ memory: Memory; duplicate: boolean }>(
      await fetch(base, json(key, { content: "REST through the bundle", tags: ["Edge"] })),
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.memory.id;
    assert.deepEqual(created.body.memory.tags, ["edge"]);
    const again = await reply(await fetch(base, json(key, { content: "REST through the bundle" })));
    assert.equal(again.status, 200);
    assert.equal(again.body.duplicate, true);

    const got = await reply<{ memory: Memory }>(await fetch(`${base}/${id}`, json(key)));
    assert.equal(got.body.memory.content, "REST through the bundle");
    const patched = await reply<{ memory: Memory }>(
      await fetch(`${base}/${id}`, json(key, { title: "Bundled" }, "PATCH")),
    );
    assert.equal(patched.status, 200);
    assert.equal(patched.body.memory.title, "Bundled");
    const list = await reply<{ memories: Memory[] }>(await fetch(`${base}?tags=edge`, json(key)));
    assert.deepEqual(list.body.memories.map((m) => m.id), [id]);
    const search = await reply<{ results: { id: string }[] }>(
      await fetch(`${base}/search`, json(key, { query: "bundle" })),
    );
    assert.deepEqual(search.body.results.map((r) => r.id), [id]);
    const projects = await reply<{ projects: { slug: string }[] }>(
      await fetch(`${base}/projects`, json(key)),
    );
    assert.deepEqual(projects.body.projects.map((p) => p.slug), ["default"]);

    // Errors: 4xx JSON with a message, never a 500.
    const notJson = await reply(
      await fetch(base, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: "{not json",
      }),
    );
    assert.equal(notJson.status, 400);
    const empty = await reply<{ error: { message: string } }>(
      await fetch(base, json(key, { content: "" })),
    );
    assert.equal(empty.status, 400);
    assert.match(empty.body.error.message, /content/);
    const badId = await reply(await fetch(`${base}/nope`, json(key)));
    assert.equal(badId.status, 400);
    const anonymous = await reply<{ error: { code: string } }>(await fetch(base, json(null)));
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.error.code, "unauthorized");

    const deleted = await reply(await fetch(`${base}/${id}`, json(key, undefined, "DELETE")));
    assert.equal(deleted.status, 200);
    assert.equal((await fetch(`${base}/${id}`, json(key))).status, 404);
  });
});

pgTest(
  "embed bundle: embeds through the OpenAI-compatible server and stores the vectors",
  async () => {
    await withDeployment(async (d) => {
      const [rest, embed] = [await d.start("memories"), await d.start("embed")];
      const { key } = await d.newKey();
      const saved = await reply<{ memory: Memory }>(
        await fetch(
          `${rest.url}/memories`,
          json(key, { title: "Vectors", content: "from the embed bundle" }),
        ),
      );
      const id = saved.body.memory.id;

      const webhook = (secret: string, body: unknown) =>
        fetch(`${embed.url}/embed`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-webhook-secret": secret },
          body: JSON.stringify(body),
        });
      const refused = await reply(await webhook("wrong-secret-0123456789", { ids: [id] }));
      assert.equal(refused.status, 401);
      const bad = await reply(await webhook(SECRET, { ids: ["nope"] }));
      assert.equal(bad.status, 400);

      const before = d.openai.requests.length;
      const done = await reply<{ embedded: string[] }>(await webhook(SECRET, { ids: [id] }));
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.deepEqual(done.body.embedded, [id]);
      const sent = d.openai.requests.slice(before);
      assert.deepEqual(sent.map((r) => r.body.input), [["Vectors\n\nfrom the embed bundle"]]);

      const [row] = await d.db.query<{ status: string; model: string; vector: string }>(
        `select embedding_status as status, embedding_model as model, embedding::text as vector
         from public.memories where id = $1`,
        [id],
      );
      assert.equal(row.status, "ready");
      assert.match(row.model, /^openai\//);
      // The stored vector points where the server's vector for that text points.
      const stored = JSON.parse(row.vector) as number[];
      const expected = fakeVector("Vectors\n\nfrom the embed bundle", stored.length);
      const dot = stored.reduce((s, x, i) => s + x * expected[i], 0);
      const norm = Math.hypot(...expected) * Math.hypot(...stored);
      assert.ok(dot / norm > 0.9999, `cosine ${dot / norm}`);

      // Idempotent: a second webhook for the same row embeds nothing.
      const repeat = await reply<{ skipped: string[] }>(await webhook(SECRET, { ids: [id] }));
      assert.deepEqual(repeat.body.skipped, [id]);
    });
  },
);

pgTest("analytics bundle: insights for the caller, 401 without a key", async () => {
  await withDeployment(async (d) => {
    const analytics = await d.start("analytics");
    const { key } = await d.newKey();
    const insights = await reply<Record<string, unknown>>(
      await fetch(`${analytics.url}/analytics/insights?days=7`, json(key)),
    );
    assert.equal(insights.status, 200, JSON.stringify(insights.body));
    assert.equal(insights.body.days, 7);
    assert.equal(insights.body.project_id, null);
    assert.deepEqual((insights.body.totals as { searches: number }).searches, 0);
    const unknown = await reply(
      await fetch(`${analytics.url}/analytics/insights?project=no-such-project`, json(key)),
    );
    assert.equal(unknown.status, 404);
    const anonymous = await fetch(`${analytics.url}/analytics/insights`, json(null));
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();
  });
});
