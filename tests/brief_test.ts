/**
 * Session briefs (issue #15, item 4) over REST (POST /memories/brief) and MCP (the
 * get_session_brief tool, the session_brief prompt, the brief and memory resources) through the
 * real SDK client: sections by repo/project, files and task, each memory once, the token budget,
 * unknown scopes (an empty brief, nothing created), validation, and isolation.
 */
import assert from "node:assert/strict";
import type { Brief } from "../shared/brief/schemas.ts";
import { testEachBackend } from "./helpers/db.ts";
import { parseFenced } from "./helpers/fences.ts";
import {
  assertError,
  call,
  callToolOk,
  createProject,
  MEMORIES,
  saveMemory,
  withMcp,
} from "./helpers/foundation.ts";
import { type TestStack, type TestUser, withStack } from "./helpers/stack.ts";

const BRIEF = `${MEMORIES}/brief`;

const brief = (stack: TestStack, user: TestUser, body: unknown) =>
  call<Brief>(stack, user, "POST", BRIEF, body);

/** A user with an "api" project and memories about github.com/acme/api, and one elsewhere. */
async function seed(stack: TestStack, user: TestUser) {
  await createProject(stack, user, { name: "API", slug: "api" });
  await createProject(stack, user, { name: "Other", slug: "other" });
  const save = (input: Record<string, unknown>) => saveMemory(stack, user, input);
  return {
    tabs: await save({
      project: "api",
      kind: "convention",
      title: "Indent with tabs",
      content: "All TypeScript in this repo is indented with tabs.",
      importance: 0.9,
    }),
    // In the default project, found through its repo field (another spelling of the repo).
    naming: await save({
      kind: "preference",
      title: "Name tests after behaviour",
      content: "Test names say what happens, not which function is called.",
      repo: "git@github.com:acme/api.git",
      importance: 0.8,
    }),
    // A convention about a named file: shown once, under conventions.
    jwtRule: await save({
      project: "api",
      kind: "convention",
      title: "JWTs are verified with jose",
      content: "Never decode a JWT by hand; verifyToken uses jose.",
      file_path: "src/auth/jwt.ts",
      importance: 0.7,
    }),
    decision: await save({
      project: "api",
      kind: "decision",
      title: "Postgres over Mongo",
      content: "We chose PostgreSQL for row level security.",
    }),
    bug: await save({
      project: "api",
      kind: "bug",
      title: "Clock skew rejects fresh tokens",
      content: "verifyToken needs a 30 s clock tolerance.",
      repo: "github.com/acme/api",
      file_path: "src/auth/jwt.ts",
      symbol: "verifyToken",
    }),
    session: await save({
      project: "api",
      kind: "solution",
      title: "Session cookie flags",
      content: "Set SameSite=Lax on the session cookie.",
      file_path: "src/auth/session.ts",
    }),
    task: await save({
      project: "api",
      kind: "fact",
      title: "Rate limiting",
      content: "Rate limiting uses a token bucket per user.",
    }),
    // Another project and repo, same file name: not part of this brief.
    elsewhere: await save({
      project: "other",
      kind: "bug",
      content: "A jwt.ts bug of another repository.",
      repo: "github.com/other/thing",
      file_path: "src/auth/jwt.ts",
    }),
  };
}

const ids = (b: Brief, section: string) =>
  b.items.filter((i) => i.section === section).map((i) => i.id);

testEachBackend(
  "brief: REST sections by repo, files and task, each memory once",
  (backend) =>
    withStack(backend, async (stack) => {
      const user = await stack.newUser();
      const m = await seed(stack, user);
      const r = await brief(stack, user, {
        repo: "https://github.com/acme/api",
        paths: ["./src/auth/jwt.ts", "src/auth/"],
        task: "rate limiting token bucket",
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const b = r.body;
      assert.equal(b.project, "api", "the project named after the repo");
      assert.deepEqual(ids(b, "conventions"), [m.tabs.id, m.naming.id, m.jwtRule.id]);
      assert.deepEqual(ids(b, "files"), [m.bug.id, m.session.id]);
      assert.deepEqual(ids(b, "decisions"), [m.decision.id]);
      assert.deepEqual(ids(b, "task"), [m.task.id]);
      assert.equal(new Set(b.items.map((i) => i.id)).size, b.items.length, "no item twice");
      assert.ok(!b.items.some((i) => i.id === m.elsewhere.id));
      assert.deepEqual(b.items[0], {
        id: m.tabs.id,
        section: "conventions",
        kind: "convention",
        title: "Indent with tabs",
      });
      assert.equal(b.truncated, false);
      assert.equal(b.tokens, Math.ceil(b.text.length / 4));
      assert.ok(b.tokens <= 1500);
      // Stored text only inside the fences; ids and kinds outside, for get_memory.
      const { outside, blocks } = parseFenced(b.text);
      assert.match(outside, new RegExp(`- ${m.bug.id} \\| bug \\| project: api`));
      assert.ok(!outside.includes("Clock skew"));
      assert.ok(blocks.some((x) => x.includes("symbol: verifyToken")));

      // The project alone: its conventions and decisions (the repo-only preference is not in it).
      const p = (await brief(stack, user, { project: "api" })).body;
      assert.deepEqual(ids(p, "conventions"), [m.tabs.id, m.jwtRule.id]);
      assert.deepEqual(ids(p, "decisions"), [m.decision.id]);
      assert.deepEqual(ids(p, "files"), []);

      // Files without a scope: every project's memories about them.
      const f = (await brief(stack, user, { paths: ["src/auth/jwt.ts"] })).body;
      assert.equal(f.project, null);
      assert.deepEqual(ids(f, "files").sort(), [m.bug.id, m.jwtRule.id, m.elsewhere.id].sort());

      // A read-only key may ask (a read, like search).
      const reader = await stack.newUser(["read"]);
      const own = await brief(stack, reader, { task: "rate limiting" });
      assert.equal(own.status, 200, JSON.stringify(own.body));
    }),
);

testEachBackend(
  "brief: trimmed to the token budget, and says so",
  (backend) =>
    withStack(backend, async (stack) => {
      const user = await stack.newUser();
      await createProject(stack, user, { name: "Big", slug: "big" });
      for (let i = 0; i < 12; i++) {
        await saveMemory(stack, user, {
          project: "big",
          kind: "convention",
          title: `Rule ${i}`,
          content: `Rule number ${i}: ${"spell it out in full. ".repeat(20)}`,
        });
      }
      const full = (await brief(stack, user, { project: "big", max_tokens: 8000 })).body;
      assert.equal(full.items.length, 12);
      assert.equal(full.truncated, false);
      const small = (await brief(stack, user, { project: "big", max_tokens: 400 })).body;
      assert.equal(small.truncated, true);
      assert.ok(small.items.length >= 1 && small.items.length < 12, `${small.items.length}`);
      assert.ok(small.tokens <= 400, `${small.tokens}`);
      assert.ok(small.text.length <= 1600);
      assert.match(
        small.text,
        new RegExp(`Trimmed to fit the token budget: ${12 - small.items.length} more memories`),
      );
    }),
);

testEachBackend(
  "brief: unknown repo or project is an empty 200; nothing is created",
  (backend) =>
    withStack(backend, async (stack) => {
      const user = await stack.newUser();
      const stranger = await stack.newUser();
      await seed(stack, user);
      const projects = async (u: TestUser) =>
        (await stack.db.query<{ n: number }>(
          "select count(*)::int as n from public.projects where owner_id = $1",
          [u.userId],
        ))[0].n;
      for (
        const body of [
          { repo: "github.com/acme/nothing-here" },
          { project: "no-such-project", task: "rate limiting" },
          { project: "default" },
        ]
      ) {
        const r = await brief(stack, stranger, body);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.deepEqual(
          { project: r.body.project, items: r.body.items, truncated: r.body.truncated },
          { project: null, items: [], truncated: false },
        );
        assert.match(r.body.text, /^Nothing is known yet about this project or repository/);
      }
      // Someone else's repository is unknown to a stranger, however it is spelt.
      const theirs = await brief(stack, stranger, { repo: "git@github.com:acme/api.git" });
      assert.deepEqual(theirs.body.items, []);
      assert.equal(await projects(stranger), 0, "not even a default project");

      // Bad input: 400 naming the problem.
      assertError(
        await brief(stack, user, {}),
        400,
        /at least one of project, repo, paths or task/,
      );
      assertError(await brief(stack, user, { paths: [] }), 400, /at least one/);
      assertError(
        await brief(stack, user, { paths: Array.from({ length: 51 }, (_, i) => `f${i}.ts`) }),
        400,
        /paths/,
      );
      assertError(await brief(stack, user, { task: "x", max_tokens: 100 }), 400, /max_tokens/);
      assertError(await brief(stack, user, { task: "x", bogus: 1 }), 400, /bogus/);
      assertError(await brief(stack, user, { task: "   " }), 400, /task/);
      assertError(await call(stack, null, "POST", BRIEF, { task: "x" }), 401);
    }),
);

testEachBackend(
  "brief: MCP tool, prompt and resources through the SDK client",
  (backend) =>
    withStack(backend, async (stack) => {
      const user = await stack.newUser();
      const m = await seed(stack, user);
      const args = {
        repo: "github.com/acme/api",
        paths: ["src/auth/jwt.ts"],
        task: "token bucket",
      };
      const rest = (await brief(stack, user, args)).body;
      await withMcp(stack, user, async (client) => {
        const tools = (await client.listTools()).tools;
        const tool = tools.find((t) => t.name === "get_session_brief");
        assert.ok(tool?.outputSchema, "declares an outputSchema");
        assert.deepEqual(
          Object.keys(tool.outputSchema.properties ?? {}).sort(),
          ["items", "project", "text", "tokens", "truncated"],
        );
        assert.equal(tool.annotations?.readOnlyHint, true);
        const got = await callToolOk(client, "get_session_brief", args);
        const data = got.structuredContent as unknown as Brief;
        assert.deepEqual(
          { project: data.project, items: data.items, tokens: data.tokens },
          { project: rest.project, items: rest.items, tokens: rest.tokens },
        );
        assert.equal(got.text, data.text);
        const bad = await client.callTool({ name: "get_session_brief", arguments: {} });
        assert.equal(bad.isError, true);

        // The prompt puts the brief into the conversation.
        const prompts = (await client.listPrompts()).prompts;
        assert.deepEqual(
          prompts.find((p) => p.name === "session_brief")?.arguments?.map((a) => a.name).sort(),
          ["paths", "project", "repo", "task"],
        );
        const prompt = await client.getPrompt({
          name: "session_brief",
          arguments: { repo: "github.com/acme/api", paths: "src/auth/jwt.ts, src/auth/session.ts" },
        });
        const message = prompt.messages[0].content as { type: string; text: string };
        assert.equal(prompt.messages[0].role, "user");
        assert.match(message.text, new RegExp(m.bug.id));
        assert.match(message.text, new RegExp(m.session.id));
        assert.match(parseFenced(message.text).blocks.join("\n"), /Session cookie flags/);
        await assert.rejects(
          client.getPrompt({ name: "session_brief", arguments: {} }),
          /at least one of project, repo, paths or task/,
        );

        // Resources: each project's brief, the newest memories, and both templates.
        const templates = (await client.listResourceTemplates()).resourceTemplates;
        assert.deepEqual(
          templates.map((t) => t.uriTemplate).sort(),
          ["memory://memories/{id}", "memory://projects/{project}/brief"],
        );
        const listed = (await client.listResources()).resources.map((r) => r.uri);
        for (const uri of ["memory://projects/api/brief", "memory://projects/other/brief"]) {
          assert.ok(listed.includes(uri), uri);
        }
        assert.ok(listed.includes(`memory://memories/${m.task.id}`));
        const read = await client.readResource({ uri: "memory://projects/api/brief" });
        const text = (read.contents[0] as { text: string }).text;
        assert.equal(read.contents[0].mimeType, "text/markdown");
        assert.match(text, /^Text between <memory-content-/);
        assert.match(parseFenced(text).outside, new RegExp(`- ${m.tabs.id} \\| convention`));
        const one = await client.readResource({ uri: `memory://memories/${m.bug.id}` });
        const memoryText = (one.contents[0] as { text: string }).text;
        assert.match(
          parseFenced(memoryText).outside,
          new RegExp(`Memory ${m.bug.id} \\| kind: bug`),
        );
        assert.match(parseFenced(memoryText).blocks[0], /verifyToken needs a 30 s clock tolerance/);
        await assert.rejects(
          client.readResource({ uri: "memory://memories/not-a-uuid" }),
          /must be a UUID/,
        );
        await assert.rejects(
          client.readResource({ uri: `memory://memories/${crypto.randomUUID()}` }),
          /not found/,
        );
        const unknown = await client.readResource({ uri: "memory://projects/nope/brief" });
        assert.match((unknown.contents[0] as { text: string }).text, /^Nothing is known yet/);
      });
      // Someone else cannot read this user's memory as a resource.
      const other = await stack.newUser();
      await withMcp(stack, other, async (client) => {
        await assert.rejects(
          client.readResource({ uri: `memory://memories/${m.bug.id}` }),
          /not found/,
        );
      });
    }),
);
