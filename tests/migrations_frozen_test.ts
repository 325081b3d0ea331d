/**
 * Migrations are forward-only. Hosted Supabase applies each migration version once and never
 * again, so editing an applied file would make a deployed database and a fresh one differ
 * without a word. The baseline is the set of migrations at BASELINE_COMMIT; after it, a file in
 * supabase/migrations/ may only be added to main, never modified, renamed or deleted there, and
 * every new version sorts after the baseline's.
 */
import assert from "node:assert/strict";
import { loadMigrations, migrate, type Migration } from "../shared/db/migrate.ts";
import { withScratchDb } from "./helpers/db.ts";
import { freshDbTest, schemaSnapshot } from "./helpers/schema.ts";

/** The commit that declared the baseline (the migrations as first deployable). */
const BASELINE_COMMIT = "0c298d1dcd7b9cda72ebb838dde056e78b23df6f";
const MIGRATIONS = "supabase/migrations";
const ROOT = new URL("../", import.meta.url);

async function git(...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd: ROOT, stdout: "piped", stderr: "piped" })
    .output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b).trim();
  if (!out.success) throw new Error(`git ${args.join(" ")}: ${text(out.stderr)}`);
  return text(out.stdout);
}

/** The baseline's migration files, read from git at BASELINE_COMMIT. */
async function baselineMigrations(): Promise<Migration[]> {
  const names = (await git("ls-tree", "--name-only", BASELINE_COMMIT, `${MIGRATIONS}/`))
    .split("\n").map((p) => p.slice(MIGRATIONS.length + 1)).filter((n) => n.endsWith(".sql"));
  const migrations: Migration[] = [];
  for (const name of names) {
    const [, version, rest] = name.match(/^(\d+)_(.+)\.sql$/)!;
    const sql = await git("show", `${BASELINE_COMMIT}:${MIGRATIONS}/${name}`);
    migrations.push({ version, name: rest, sql });
  }
  return migrations;
}

Deno.test("migrations: the baseline commit is in this checkout's history", async () => {
  // A shallow clone cannot prove the rule below; CI clones the whole history.
  await git("cat-file", "-e", `${BASELINE_COMMIT}^{commit}`).catch((err) => {
    throw new Error(`${err.message}\nFetch the full history (git fetch --unshallow).`);
  });
});

Deno.test("migrations: no commit after the baseline edits, renames or deletes one", async () => {
  const changed = await git(
    "log",
    // Main's own line of history: a branch may rework its new migration until it is merged;
    // from then on (the merge adds it to main) it is frozen like every other.
    "--first-parent",
    "--diff-merges=first-parent",
    "--format=%h %s",
    "--name-status",
    "--diff-filter=MDRTC",
    `${BASELINE_COMMIT}..HEAD`,
    "--",
    MIGRATIONS,
  );
  assert.equal(
    changed,
    "",
    `migrations changed after the baseline; add a new one instead:\n${changed}`,
  );
  const uncommitted = await git(
    "diff",
    "--name-status",
    "--diff-filter=MDRTC",
    "HEAD",
    "--",
    MIGRATIONS,
  );
  assert.equal(uncommitted, "", `uncommitted edits to committed migrations:\n${uncommitted}`);
});

Deno.test("migrations: file names are <14-digit version>_<name>.sql, later than the baseline", async () => {
  const baseline = await baselineMigrations();
  const last = baseline.map((m) => m.version).sort().at(-1)!;
  const known = new Set(baseline.map((m) => m.version));
  const versions = new Set<string>();
  for await (const entry of Deno.readDir(new URL(`${MIGRATIONS}/`, ROOT))) {
    if (entry.name === ".gitkeep") continue;
    const match = entry.name.match(/^(\d{14})_([a-z0-9_]+)\.sql$/);
    assert.ok(match, `${entry.name}: not <version>_<snake_case_name>.sql`);
    assert.ok(!versions.has(match[1]), `${match[1]}: two migrations share this version`);
    versions.add(match[1]);
    if (!known.has(match[1])) {
      assert.ok(match[1] > last, `${entry.name} sorts before the baseline's last (${last})`);
    }
  }
});

freshDbTest(
  "migrations: baseline then each later one by one gives the same schema as a fresh run",
  async (deployed, backend) => {
    // A deployed database: migrated at the baseline, then one deploy per later migration.
    const baseline = await baselineMigrations();
    await migrate(deployed, baseline);
    const last = baseline.map((m) => m.version).sort().at(-1)!;
    const all = await loadMigrations();
    for (const m of all.filter((m) => m.version > last)) {
      assert.deepEqual(await migrate(deployed, [m]), [m.version]);
    }
    // Nothing is left over: the files on disk hold no other version.
    assert.deepEqual(await migrate(deployed, all), []);
    const fresh = await withScratchDb(backend, async (db) => {
      await migrate(db, all);
      return await schemaSnapshot(db, { oids: false });
    });
    assert.deepEqual(await schemaSnapshot(deployed, { oids: false }), fresh);
  },
);
