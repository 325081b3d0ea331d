/**
 * Hostile input: SQL-injection strings in every text field and filter are stored verbatim or
 * refused with a 4xx, and the schema survives; oversized bodies and headers get a clean 4xx;
 * error messages never carry SQL, stack traces or hashes.
 */
import assert from "node:assert/strict";
import { MAX_BODY_BYTES } from "../shared/http/body_limit.ts";
import { mcpInitialize, restList } from "./helpers/auth.ts";
import { testEachBackend } from "./helpers/db.ts";
import {
  call,
  callTool,
  MEMORIES,
  type Reply,
  reply,
  saveMemory,
  uniqueSlug,
  withMcp,
} from "./helpers/foundation.ts";
import { type TestStack, withStack } from "./helpers/stack.ts";

const INJECTIONS = [
  "'; drop table memories; --",
  "' or '1'='1",
  '" or ""="',
  "1; select pg_sleep(10); --",
  "$1, $2); delete from api_keys; --",
  "$$; drop schema public cascade; $$",
  "') union select key_hash, null from api_keys --",
  "%' or '%'='",
  "\\'; truncate auth.users; --",
  "'||(select string_agg(email, ',') from auth.users)||'",
  "Robert'); DROP TABLE projects;-- ☃ \u202e",
];

/** No SQL, no stack, no hashes, no driver names: only our own words (and the caller's input). */
function assertClean(r: Reply, input: string, what: string): void {
  if (r.status < 400) return;
  let text = JSON.stringify(r.body);
  // The caller's own input may be quoted back in a message; that is not a leak.
  for (const echo of [JSON.stringify(input).slice(1, -1), input.slice(0, 80)]) {
    text = text.split(echo).join("");
  }
  assert.doesNotMatch(
    text,
    /syntax error|\bselect\b|\binsert into\b|\bdelete from\b|relation "|violates|SQLSTATE|pg_|postgres|PGlite|\bat [\w.<>]+ \(|\.ts:\d+|[0-9a-f]{64}/i,
    `${what} leaked internals: ${text.slice(0, 400)}`,
  );
  assert.ok(r.status < 500, `${what}: ${r.status} ${text.slice(0, 300)}`);
}

async function schemaIntact(stack: TestStack): Promise<void> {
  const [row] = await stack.db.query<Record<string, unknown>>(
    `select to_regclass('public.memories') as m, to_regclass('public.projects') as p,
            to_regclass('public.project_members') as pm, to_regclass('public.api_keys') as k,
            to_regclass('auth.users') as u,
            (select count(*) from auth.users) > 0 as users`,
  );
  assert.ok(row.m && row.p && row.pm && row.k && row.u && row.users, JSON.stringify(row));
}

/** MCP calls that put `inj` where tools take a project, cursor, id or query. */
const injected = (inj: string) =>
  [
    ["list_memories", { project: inj }],
    ["list_memories", { cursor: inj }],
    ["get_memory", { id: inj }],
    ["search_memories", { query: inj }],
    ["list_project_members", { project: inj }],
    ["get_session_brief", { project: inj, task: inj }],
    ["get_session_brief", { repo: inj, paths: [inj] }],
  ] as const;

testEachBackend(
  "input: SQL injection in every field is stored verbatim or refused",
  (backend) =>
    withStack(backend, async (stack) => {
      const alice = await stack.newUser();
      const bystander = await stack.newUser();
      const theirs = await saveMemory(stack, bystander, { content: "bystander's memory" });

      for (const inj of INJECTIONS) {
        // Free text fields: stored exactly as sent.
        const saved = await call<{ memory: Record<string, unknown> }>(
          stack,
          alice,
          "POST",
          MEMORIES,
          {
            content: `${inj} (content)`,
            title: inj,
            metadata: { [inj]: inj },
            repo: inj,
            file_path: inj,
            language: inj.slice(0, 50),
            symbol: inj,
            commit_sha: inj.slice(0, 64),
          },
        );
        assert.equal(saved.status, 201, JSON.stringify(saved.body));
        const got = await call<{ memory: Record<string, unknown> }>(
          stack,
          alice,
          "GET",
          `${MEMORIES}/${saved.body.memory.id}`,
        );
        assert.equal(got.body.memory.content, `${inj} (content)`);
        assert.equal(got.body.memory.title, inj.trim());
        assert.deepEqual(got.body.memory.metadata, { [inj]: inj });
        assert.equal(got.body.memory.symbol, inj.trim());

        const q = encodeURIComponent(inj);
        const probes: [string, Reply][] = [
          ["tag", await call(stack, alice, "POST", MEMORIES, { content: "x", tags: [inj] })],
          ["kind", await call(stack, alice, "POST", MEMORIES, { content: "x", kind: inj })],
          ["project", await call(stack, alice, "POST", MEMORIES, { content: "x", project: inj })],
          ["list project", await call(stack, alice, "GET", `${MEMORIES}?project=${q}`)],
          ["list kind", await call(stack, alice, "GET", `${MEMORIES}?kind=${q}`)],
          ["list tags", await call(stack, alice, "GET", `${MEMORIES}?tags=${q}`)],
          ["list since", await call(stack, alice, "GET", `${MEMORIES}?since=${q}`)],
          ["list until", await call(stack, alice, "GET", `${MEMORIES}?until=${q}`)],
          ["list cursor", await call(stack, alice, "GET", `${MEMORIES}?cursor=${q}`)],
          ["list limit", await call(stack, alice, "GET", `${MEMORIES}?limit=${q}`)],
          ["memory id", await call(stack, alice, "GET", `${MEMORIES}/${q}`)],
          [
            "project slug",
            await call(stack, alice, "POST", `${MEMORIES}/projects`, { name: "p", slug: inj }),
          ],
          ["project path", await call(stack, alice, "GET", `${MEMORIES}/projects/${q}/members`)],
          [
            "invitation email",
            await call(stack, alice, "POST", `${MEMORIES}/projects/default/invitations`, {
              email: inj,
            }),
          ],
          [
            "invitation id",
            await call(stack, alice, "POST", `${MEMORIES}/invitations/${q}/accept`),
          ],
          [
            "member id",
            await call(stack, alice, "DELETE", `${MEMORIES}/projects/default/members/${q}`),
          ],
          ["key id", await call(stack, alice, "DELETE", `${MEMORIES}/keys/${q}`)],
          ["key scopes", await call(stack, alice, "POST", `${MEMORIES}/keys`, { scopes: [inj] })],
          ["search", await call(stack, alice, "POST", `${MEMORIES}/search`, { query: inj })],
          [
            "search filter",
            await call(stack, alice, "POST", `${MEMORIES}/search`, { query: "x", kinds: [inj] }),
          ],
          [
            "search project",
            await call(stack, alice, "POST", `${MEMORIES}/search`, { query: "x", project: inj }),
          ],
        ];
        for (const [what, r] of probes) {
          assert.ok(r.status < 500, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
          assertClean(r, inj, what);
        }

        // Names are free text too: stored verbatim.
        const project = await call<{ project: { name: string } }>(
          stack,
          alice,
          "POST",
          `${MEMORIES}/projects`,
          { name: inj, slug: uniqueSlug("inj") },
        );
        assert.equal(project.status, 201, JSON.stringify(project.body));
        assert.equal(project.body.project.name, inj.trim());
        const key = await call<{ key: { name: string } }>(
          stack,
          alice,
          "POST",
          `${MEMORIES}/keys`,
          {
            name: inj,
          },
        );
        assert.equal(key.status, 201, JSON.stringify(key.body));
        assert.equal(key.body.key.name, inj.trim());
      }

      await withMcp(stack, alice, async (client) => {
        const { tools } = await client.listTools();
        const names = new Set(tools.map((t) => t.name));
        // A renamed tool must fail here, not silently leave the matrix.
        for (const [name] of injected("x")) assert.ok(names.has(name), `no tool ${name}`);
        for (const inj of INJECTIONS) {
          const saved = await callTool(client, "save_memory", {
            content: `${inj} (mcp)`,
            title: inj,
          });
          assert.notEqual(saved.isError, true, saved.text);
          for (const [name, args] of injected(inj)) {
            const result = await callTool(client, name, args);
            assertClean(
              { status: result.isError ? 400 : 200, headers: new Headers(), body: { ...result } },
              inj,
              name,
            );
          }
        }
      });

      await schemaIntact(stack);
      const [still] = await stack.db.query("select content from memories where id = $1", [
        theirs.id,
      ]);
      assert.equal(still.content, "bystander's memory");
      assert.equal((await restList(stack, `Bearer ${bystander.key}`)).status, 200);
    }, { RATE_LIMIT_REQUESTS: "0" }), // hundreds of requests: not a rate-limit test
);

testEachBackend(
  "input: oversized bodies are 413 JSON, huge headers a clean 4xx",
  (backend) =>
    withStack(backend, async (stack) => {
      const alice = await stack.newUser();
      const auth = { authorization: `Bearer ${alice.key}`, "content-type": "application/json" };
      const big = JSON.stringify({ content: "x".repeat(10 * 1024 * 1024) });

      const rest = await reply(
        await fetch(`${stack.url}${MEMORIES}`, {
          method: "POST",
          headers: auth,
          body: big,
        }),
      );
      assert.equal(rest.status, 413, JSON.stringify(rest.body).slice(0, 200));
      assert.equal((rest.body as { error: { code: string } }).error.code, "payload_too_large");

      // Without a Content-Length (chunked), the limit applies while streaming.
      const chunked = (path: string) =>
        fetch(`${stack.url}${path}`, {
          method: "POST",
          headers: { ...auth, accept: "application/json, text/event-stream" },
          body: new Blob([big]).stream(),
        }).then(reply);
      for (const path of [MEMORIES, "/functions/v1/mcp"]) {
        const r = await chunked(path);
        assert.equal(r.status, 413, `${path}: ${JSON.stringify(r.body).slice(0, 200)}`);
        assert.equal((r.body as { error: { code: string } }).error.code, "payload_too_large");
      }
      const mcp = await mcpInitialize(stack, `Bearer ${alice.key}`, big);
      assert.equal(mcp.status, 413);
      assert.match(mcp.headers.get("content-type") ?? "", /json/);

      // Just under the limit is parsed (and then refused by validation, not by size).
      const under = JSON.stringify({ content: "y".repeat(MAX_BODY_BYTES - 100) });
      const r = await call(stack, alice, "POST", MEMORIES, JSON.parse(under));
      assert.equal(r.status, 400, JSON.stringify(r.body).slice(0, 200));

      // A 64 KB Authorization header: refused cleanly, and the server keeps serving.
      const huge = `Bearer ${"A".repeat(64 * 1024)}`;
      const hugeKey = `Bearer cm_${"A".repeat(64 * 1024)}`;
      for (const header of [huge, hugeKey]) {
        const a = await restList(stack, header);
        assert.ok(a.status >= 400 && a.status < 500, `REST ${a.status}`);
        const b = await mcpInitialize(stack, header);
        assert.ok(b.status >= 400 && b.status < 500, `MCP ${b.status}`);
      }
      const longPath = await call(stack, alice, "GET", `${MEMORIES}/${"a".repeat(16 * 1024)}`);
      assert.ok(longPath.status >= 400 && longPath.status < 500, `${longPath.status}`);
      assert.equal((await restList(stack, `Bearer ${alice.key}`)).status, 200);
    }),
);
