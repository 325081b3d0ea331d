/**
 * docs/clients.md's supabase-js example runs as written: the block marked
 * `<!-- executed: tests/clients_doc_test.ts -->` becomes a module (its free names SUPABASE_URL,
 * SUPABASE_ANON_KEY, email and password defined first), imported against a test stack whose
 * Supabase Auth stand-in signs the user in. What it left in its variables is then checked.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT } from "../scripts/deploy/supabase_config.ts";
import { testEachBackend } from "./helpers/db.ts";
import { TEST_JWT_SECRET } from "./helpers/jwt.ts";
import { withStack } from "./helpers/stack.ts";

const MARKER = "<!-- executed: tests/clients_doc_test.ts -->";

/** The first ```ts block after the marker. */
async function executedBlock(): Promise<string> {
  const doc = await Deno.readTextFile(join(REPO_ROOT, "docs", "clients.md"));
  const after = doc.slice(doc.indexOf(MARKER));
  assert.ok(doc.includes(MARKER), `docs/clients.md lost its ${MARKER}`);
  const match = after.match(/```ts\n([\s\S]*?)```/);
  assert.ok(match, "no ts block after the marker");
  return match[1];
}

interface DocResults {
  saved: { memory: { id: string; content: string; tags: string[] } };
  found: { results: { id: string }[] };
  insights: { days: number; totals: { saves: number } };
  keys: { keys: unknown[] };
  message: string;
}

testEachBackend(
  "docs/clients.md: the supabase-js example works as written",
  (backend) =>
    withStack(
      backend,
      async (stack) => {
        const email = `doc-${crypto.randomUUID()}@test.local`;
        const password = "correct horse battery staple";
        await stack.auth!.createUser(email, password);

        const inputs = {
          SUPABASE_URL: stack.url,
          SUPABASE_ANON_KEY: "local-anon-key",
          email,
          password,
        };
        const prelude = Object.keys(inputs).map((k) =>
          `const ${k} = (globalThis as any).__clientsDoc.${k} as string;`
        ).join("\n");
        const epilogue = "export const results = { saved, found, insights, keys, message };";
        // Inside the repository, so deno.json maps "@supabase/supabase-js" as for the docs' reader.
        const dir = join(REPO_ROOT, ".build", "doc-snippets");
        await Deno.mkdir(dir, { recursive: true });
        const file = join(dir, `clients-${crypto.randomUUID()}.ts`);
        await Deno.writeTextFile(file, `${prelude}\n${await executedBlock()}\n${epilogue}\n`);
        (globalThis as { __clientsDoc?: unknown }).__clientsDoc = inputs;
        try {
          const { results } = await import(`file://${file}`) as { results: DocResults };
          assert.equal(results.saved.memory.content, "Refresh the JWT 60 s before it expires");
          assert.deepEqual(results.saved.memory.tags, ["auth"]);
          assert.deepEqual(results.found.results.map((r) => r.id), [results.saved.memory.id]);
          assert.equal(results.insights.days, 30);
          assert.deepEqual(results.keys, { keys: [] });
          assert.match(results.message, /content/);
          // The session was this user's: the memory belongs to the stand-in's account.
          const [row] = await stack.db.query<{ email: string }>(
            `select u.email from public.memories m join auth.users u on u.id = m.user_id
          where m.id = $1`,
            [results.saved.memory.id],
          );
          assert.equal(row.email, email);
        } finally {
          delete (globalThis as { __clientsDoc?: unknown }).__clientsDoc;
          await Deno.remove(file);
        }
      },
      { SUPABASE_JWT_SECRET: TEST_JWT_SECRET },
      { authStandIn: true },
    ),
  {
    sanitizeOps: false,
    sanitizeResources: false,
  },
);
