// Deploying to Supabase without a Supabase: the plan `deno task deploy` runs (asserted as
// data and through --dry-run), the Vault SQL it sends (run on PGlite against a stand-in), and
// supabase/config.toml (checked against the code on disk, and parsed by the real CLI offline).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { openPglite } from "../scripts/local/pglite.ts";
import {
  FILE_PLACEHOLDER,
  planDeploy,
  VAULT_EMBED_URL,
  VAULT_RETENTION_DAYS,
  VAULT_WEBHOOK_SECRET,
  vaultSql,
} from "../scripts/deploy/plan.ts";
import {
  CONFIG_PATH,
  readSupabaseConfig,
  REPO_ROOT,
  SUPABASE_CLI_VERSION,
} from "../scripts/deploy/supabase_config.ts";

const REF = "abcdefghijklmnopqrst";
const FUNCTIONS = ["mcp", "memories", "embed", "analytics"];

Deno.test("deploy plan: link, secrets, vault, migrations, then each function", () => {
  const steps = planDeploy({
    projectRef: REF,
    env: {
      OPENAI_API_KEY: "sk-test 'quoted'",
      EMBEDDING_PROVIDER: "openai",
      PORT: "9999",
      ANALYTICS_RETENTION_DAYS: "30",
    },
    webhookSecret: "whsec",
    functions: FUNCTIONS,
    functionsWorkdir: ".build/deploy",
  });
  assert.deepEqual(steps.map((s) => s.args), [
    ["link", "--project-ref", REF],
    ["secrets", "set", "--env-file", FILE_PLACEHOLDER],
    ["db", "query", "--remote", "--file", FILE_PLACEHOLDER],
    ["db", "push", "--remote"],
    // The bundles' own workdir (built and measured first), not the linked repository.
    ...FUNCTIONS.map((f) => [
      "functions",
      "deploy",
      f,
      "--use-api",
      "--workdir",
      ".build/deploy",
      `--remote=${REF}`,
    ]),
  ]);
  // Secrets only in files: never in arguments, which `ps` and logs show.
  assert.ok(steps.every((s) => !s.args.join(" ").includes("sk-test")));
  assert.equal(
    steps[1].file?.content,
    `PUBLIC_URL=https://${REF}.supabase.co\nWEBHOOK_SECRET=whsec\n` +
      `EMBEDDING_PROVIDER=openai\nOPENAI_API_KEY="sk-test 'quoted'"\n`,
  );
  assert.doesNotMatch(steps[1].file!.summary, /sk-test|whsec/);
  const sql = steps[2].file!.content;
  assert.match(
    sql,
    new RegExp(`'${VAULT_EMBED_URL}', 'https://${REF}.supabase.co/functions/v1/embed'`),
  );
  assert.match(sql, new RegExp(`'${VAULT_WEBHOOK_SECRET}', 'whsec'`));
  // The purge runs in the database (pg_cron), so its retention travels through Vault.
  assert.match(sql, new RegExp(`'${VAULT_RETENTION_DAYS}', '30'`));
  assert.doesNotMatch(steps[2].file!.summary, /whsec/);
  assert.throws(
    () =>
      planDeploy({
        projectRef: REF,
        env: { ANALYTICS_RETENTION_DAYS: "ninety" },
        webhookSecret: "s",
        functions: [],
        functionsWorkdir: ".",
      }),
    /ANALYTICS_RETENTION_DAYS must be a whole number of days/,
  );
});

Deno.test("deploy plan: --yes reaches every command; a bad project ref is refused", () => {
  const steps = planDeploy({
    projectRef: REF,
    env: {},
    webhookSecret: "s",
    functions: ["mcp"],
    functionsWorkdir: ".",
    yes: true,
  });
  assert.ok(steps.every((s) => s.args.at(-1) === "--yes"));
  for (const ref of ["", "short", "ABCDEFGHIJKLMNOPQRST", `${REF}x`]) {
    assert.throws(
      () =>
        planDeploy({
          projectRef: ref,
          env: {},
          webhookSecret: "s",
          functions: [],
          functionsWorkdir: ".",
        }),
      /20 lowercase letters/,
    );
  }
});

Deno.test("vault SQL creates the webhook's secrets, then updates them in place", async () => {
  const db = await openPglite();
  try {
    // Supabase Vault's API (create_secret / update_secret over vault.secrets), minus encryption.
    await db.exec(`
      create schema vault;
      create table vault.secrets (
        id uuid primary key default gen_random_uuid(), name text unique, secret text,
        description text);
      create function vault.create_secret(s text, n text, d text) returns uuid language sql as
        $$ insert into vault.secrets (secret, name, description) values (s, n, d) returning id $$;
      create function vault.update_secret(i uuid, s text, n text, d text) returns void
        language sql as $$ update vault.secrets set secret = s, name = n, description = d
        where id = i $$;`);
    const read = () =>
      db.query<{ name: string; secret: string }>(
        "select name, secret from vault.secrets order by name",
      );
    await db.exec(
      vaultSql({ [VAULT_EMBED_URL]: "https://a/embed", [VAULT_WEBHOOK_SECRET]: "o'ne" }),
    );
    const [first] = await db.query<{ id: string }>("select id from vault.secrets where name = $1", [
      VAULT_WEBHOOK_SECRET,
    ]);
    await db.exec(
      vaultSql({ [VAULT_EMBED_URL]: "https://b/embed", [VAULT_WEBHOOK_SECRET]: "two" }),
    );
    assert.deepEqual(await read(), [
      { name: VAULT_EMBED_URL, secret: "https://b/embed" },
      { name: VAULT_WEBHOOK_SECRET, secret: "two" },
    ]);
    const [again] = await db.query<{ id: string }>("select id from vault.secrets where name = $1", [
      VAULT_WEBHOOK_SECRET,
    ]);
    assert.equal(again.id, first.id, "updated in place, not recreated");
  } finally {
    await db.close();
  }
  assert.throws(() => vaultSql({ x: "a$vault$b" }), /may not contain/);
});

Deno.test("supabase/config.toml declares every function with its code on disk", async () => {
  const config = await readSupabaseConfig();
  assert.equal(config.project_id, "code-memory");
  const dirs = [...Deno.readDirSync(join(REPO_ROOT, "functions"))].filter((e) => e.isDirectory)
    .map((e) => e.name);
  const declared = config.functions.map((f) => f.name);
  assert.deepEqual([...declared].sort(), [...FUNCTIONS].sort());
  for (const dir of dirs) {
    assert.ok(declared.includes(dir), `functions/${dir} is not in config.toml`);
  }
  for (const f of config.functions) {
    assert.equal(f.entrypoint, `../functions/${f.name}/index.ts`);
    assert.ok(existsSync(f.entrypointPath), `${f.entrypoint} does not exist`);
    assert.equal(f.import_map, "../deno.json");
    // Every function authenticates in code (API keys are not JWTs; embed uses WEBHOOK_SECRET).
    assert.equal(f.verify_jwt, false, `${f.name} must set verify_jwt = false`);
  }
  const db = config.raw.db as { major_version: number };
  assert.equal(db.major_version, 15);
  const auth = config.raw.auth as { jwt_expiry: number; site_url: string };
  assert.ok(auth.jwt_expiry >= 300 && auth.jwt_expiry <= 604800);
  assert.match(auth.site_url, /^https?:\/\//);
});

const npxAvailable = (() => {
  try {
    return new Deno.Command("npx", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

/**
 * Runs `supabase start` with an unreachable Docker: the CLI loads and validates config.toml
 * first (syntax, types, versions, unknown keys), so reaching "Cannot connect to the Docker
 * daemon" means the file passed. Nothing is started or written to the repository.
 */
async function cliParse(configText: string): Promise<string> {
  const workdir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(workdir, "supabase"));
    await Deno.writeTextFile(join(workdir, "supabase", "config.toml"), configText);
    const out = await new Deno.Command("npx", {
      args: ["-y", `supabase@${SUPABASE_CLI_VERSION}`, "start", "--workdir", workdir],
      env: {
        DOCKER_HOST: `unix://${workdir}/no-docker.sock`,
        SUPABASE_TELEMETRY_DISABLED: "1",
        DO_NOT_TRACK: "1",
      },
      stdin: "null",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.notEqual(out.code, 0, text);
    return text;
  } finally {
    await Deno.remove(workdir, { recursive: true });
  }
}

Deno.test({
  name: `supabase CLI ${SUPABASE_CLI_VERSION} accepts config.toml and rejects a broken one`,
  ignore: !npxAvailable,
  sanitizeResources: false,
  async fn() {
    const version = await new Deno.Command("npx", {
      args: ["-y", `supabase@${SUPABASE_CLI_VERSION}`, "--version"],
      stdin: "null",
    }).output();
    assert.equal(new TextDecoder().decode(version.stdout).trim(), SUPABASE_CLI_VERSION);

    const text = await Deno.readTextFile(CONFIG_PATH);
    const good = await cliParse(text);
    assert.match(good, /Cannot connect to the Docker daemon/, good);
    assert.doesNotMatch(good, /does not recognize/, good);

    const badType = await cliParse(text.replace(/^verify_jwt = false$/m, 'verify_jwt = "nope"'));
    assert.match(badType, /Expected boolean/, badType);
    const unknownKey = await cliParse(text.replace(/^verify_jwt = false$/m, "verify_jwt_ = false"));
    assert.match(unknownKey, /does not recognize/, unknownKey);
  },
});
