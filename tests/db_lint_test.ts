/**
 * Supabase's own check of the schema: `supabase db lint` (plpgsql_check over every PL/pgSQL
 * function) against a scratch database migrated by shared/db/migrate.ts, with no errors. As on
 * Supabase and in the embedded stack, pg_net's functions exist (here the stand-in's, which has
 * pg_net's signatures): the webhook calls net.http_post, guarded where it is missing. Only
 * with DATABASE_URL: it needs a real PostgreSQL with plpgsql_check (Debian's
 * postgresql-15-plpgsql-check, installed by scripts/ci/setup.sh).
 */
import assert from "node:assert/strict";
import { SUPABASE_CLI_VERSION } from "../scripts/deploy/supabase_config.ts";
import { installPgNetStandIn } from "../scripts/dev/pg_net/install.ts";
import { available, withScratchDb } from "./helpers/db.ts";

interface LintReport {
  results: { function: string; issues: { level: string; message: string }[] }[];
}

/** `supabase db lint --fail-on error` on a database URL: exit code and parsed JSON report. */
async function lint(url: string): Promise<{ code: number; report: LintReport; text: string }> {
  const out = await new Deno.Command("npx", {
    args: [
      "-y",
      `supabase@${SUPABASE_CLI_VERSION}`,
      "db",
      "lint",
      `--remote=${url}`,
      "--fail-on",
      "error",
      "--output-format",
      "json",
    ],
    env: { SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" },
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  const start = text.indexOf("{");
  assert.ok(start >= 0, `no JSON report:\n${text}\n${stderr}`);
  return { code: out.code, report: JSON.parse(text.slice(start)), text: `${text}\n${stderr}` };
}

const errors = (report: LintReport) =>
  report.results.flatMap((r) =>
    r.issues.filter((i) => i.level === "error").map((i) => `${r.function}: ${i.message}`)
  );

Deno.test({
  name: `supabase ${SUPABASE_CLI_VERSION} db lint: the migrated schema has no errors [postgres]`,
  ignore: !available("postgres"),
  fn: () =>
    withScratchDb("postgres", async (db) => {
      const [installed] = await db.query(
        "select 1 from pg_available_extensions where name = 'plpgsql_check'",
      );
      assert.ok(installed, "plpgsql_check is missing: apt-get install postgresql-15-plpgsql-check");
      await installPgNetStandIn(db);
      const clean = await lint(db.url!);
      assert.deepEqual(errors(clean.report), []);
      assert.equal(clean.code, 0, clean.text);
      // The lint is real: a function reading a table that does not exist is an error.
      await db.exec(`create function private.lint_probe() returns bigint language plpgsql
        as $$ begin return (select count(*) from private.no_such_table); end $$`);
      const broken = await lint(db.url!);
      assert.deepEqual(errors(broken.report), [
        'private.lint_probe: relation "private.no_such_table" does not exist',
      ]);
      assert.notEqual(broken.code, 0);
    }, { migrated: true, max: 1 }),
});
