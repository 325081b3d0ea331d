/**
 * Runs the pgTAP suites (supabase/tests/database/*.test.sql, also what `supabase test db` runs)
 * against a scratch database migrated by shared/db/migrate.ts. Only with DATABASE_URL (a real
 * PostgreSQL with pgTAP installed; CI has it): PGlite has no pgTAP.
 */
import assert from "node:assert/strict";
import { available, withScratchDb } from "./helpers/db.ts";

const SUITES = new URL("../supabase/tests/database/", import.meta.url);

interface Tap {
  planned: number | null;
  passed: string[];
  failed: string[];
  diagnostics: string[];
}

/** The TAP stream of one psql run: plan, ok / not ok lines and # diagnostics. */
export function parseTap(output: string): Tap {
  const tap: Tap = { planned: null, passed: [], failed: [], diagnostics: [] };
  for (const line of output.split("\n").map((l) => l.trim())) {
    const plan = line.match(/^1\.\.(\d+)$/);
    if (plan) tap.planned = Number(plan[1]);
    else if (/^ok \d+/.test(line)) tap.passed.push(line);
    else if (/^not ok \d+/.test(line)) tap.failed.push(line);
    else if (line.startsWith("#")) tap.diagnostics.push(line);
  }
  return tap;
}

async function runSuite(url: string, file: string): Promise<{ code: number; out: string }> {
  const { code, stdout, stderr } = await new Deno.Command("psql", {
    args: [url, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-f", file],
    env: { PGOPTIONS: "-c client_min_messages=warning" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, out: `${decode(stdout)}\n${decode(stderr)}` };
}

Deno.test("parseTap reads plans, results and diagnostics", () => {
  const tap = parseTap("\nok 1 - a\nnot ok 2 - b\n# Failed test 2\n1..2\n");
  assert.deepEqual(tap, {
    planned: 2,
    passed: ["ok 1 - a"],
    failed: ["not ok 2 - b"],
    diagnostics: ["# Failed test 2"],
  });
});

// Ignored without a real PostgreSQL, like the postgres backend of testEachBackend.
Deno.test({
  name: "pgTAP: row level security and teams rules hold at the SQL level [postgres]",
  ignore: !available("postgres"),
  fn: (t) =>
    withScratchDb("postgres", async (db) => {
      await db.query("create extension if not exists pgtap with schema extensions");
      const files = [...Deno.readDirSync(SUITES)]
        .filter((e) => e.isFile && e.name.endsWith(".test.sql")).map((e) => e.name).sort();
      assert.ok(files.length > 0, "no pgTAP suites found");
      for (const file of files) {
        await t.step(file, async () => {
          const { code, out } = await runSuite(db.url!, new URL(file, SUITES).pathname);
          const tap = parseTap(out);
          const detail = out.slice(-3000);
          assert.equal(code, 0, `psql failed:\n${detail}`);
          assert.deepEqual(tap.failed, [], detail);
          assert.ok(tap.planned && tap.planned > 0, `no plan:\n${detail}`);
          assert.equal(
            tap.passed.length,
            tap.planned,
            `ran ${tap.passed.length} of ${tap.planned}`,
          );
        });
      }
    }, { migrated: true, max: 1 }),
});
