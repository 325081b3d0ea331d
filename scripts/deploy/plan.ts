// What `deno task deploy` does, as data: a list of Supabase CLI invocations. Kept pure (no I/O)
// so `--dry-run` prints exactly what would run and tests can assert it without a network.

/** Settings copied to the project as Edge Function secrets when they are set locally. */
export const OPTIONAL_SECRETS = [
  "EMBEDDING_PROVIDER",
  "OPENAI_API_KEY",
  "OPENAI_BASE_URL",
  "EMBEDDING_MODEL",
  "UPSTASH_REDIS_REST_URL",
  "UPSTASH_REDIS_REST_TOKEN",
  "CACHE_TTL_SECONDS",
  "RATE_LIMIT_REQUESTS",
  "RATE_LIMIT_WINDOW_SECONDS",
  "DOCS_URL",
] as const;

/** Vault names the embedding webhook's trigger reads (see the webhook migration). */
export const VAULT_EMBED_URL = "codememory_embed_url";
export const VAULT_WEBHOOK_SECRET = "codememory_webhook_secret";
/** Read by the analytics purge that pg_cron runs in the database (see the analytics migration). */
export const VAULT_RETENTION_DAYS = "codememory_analytics_retention_days";

/** Replaced in `args` by the path of a private temporary file holding `file.content`. */
export const FILE_PLACEHOLDER = "{file}";

export interface Step {
  title: string;
  /** Arguments after the CLI command itself (e.g. after `npx -y supabase@3.1.0`). */
  args: string[];
  /**
   * Secrets travel in a 0600 temp file, never on the command line (visible in `ps` and in
   * dry-run output). `summary` says what it holds without the values.
   */
  file?: { name: string; content: string; summary: string };
}

export interface DeployInput {
  projectRef: string;
  /** Local settings (.env plus the environment); only OPTIONAL_SECRETS are copied. */
  env: Record<string, string | undefined>;
  webhookSecret: string;
  functions: string[];
  /**
   * The Supabase workdir holding the bundles and their config.toml (scripts/deploy/artifact.ts),
   * relative to the repository root, where the CLI runs.
   */
  functionsWorkdir: string;
  /** Answer the CLI's confirmation prompts (non-interactive runs, CI). */
  yes?: boolean;
}

const PROJECT_REF = /^[a-z]{20}$/;

export function assertProjectRef(ref: string | undefined): asserts ref is string {
  if (!ref || !PROJECT_REF.test(ref)) {
    throw new Error(
      `Project ref must be the 20 lowercase letters from the dashboard URL ` +
        `(https://supabase.com/dashboard/project/<ref>); got ${JSON.stringify(ref ?? "")}`,
    );
  }
}

export const publicUrl = (ref: string) => `https://${ref}.supabase.co`;

/** The Edge Function secrets a deploy sets: what the functions find in their environment. */
export function functionSecrets(
  input: Pick<DeployInput, "projectRef" | "env" | "webhookSecret">,
): [string, string][] {
  const secrets: [string, string][] = [
    ["PUBLIC_URL", publicUrl(input.projectRef)],
    ["WEBHOOK_SECRET", input.webhookSecret],
  ];
  for (const name of OPTIONAL_SECRETS) {
    const value = input.env[name]?.trim();
    if (value) secrets.push([name, value]);
  }
  return secrets;
}

export function planDeploy(input: DeployInput): Step[] {
  assertProjectRef(input.projectRef);
  const url = publicUrl(input.projectRef);
  const secrets = functionSecrets(input);
  const vault: Record<string, string> = {
    [VAULT_EMBED_URL]: `${url}/functions/v1/embed`,
    [VAULT_WEBHOOK_SECRET]: input.webhookSecret,
  };
  const retention = input.env.ANALYTICS_RETENTION_DAYS?.trim();
  if (retention) {
    if (!/^[1-9][0-9]{0,5}$/.test(retention)) {
      throw new Error(
        `ANALYTICS_RETENTION_DAYS must be a whole number of days ≥ 1; got ${retention}`,
      );
    }
    vault[VAULT_RETENTION_DAYS] = retention;
  }
  const yes = input.yes ? ["--yes"] : [];
  return [
    { title: "Link the project", args: ["link", "--project-ref", input.projectRef, ...yes] },
    {
      title: "Set Edge Function secrets",
      args: ["secrets", "set", "--env-file", FILE_PLACEHOLDER, ...yes],
      file: {
        name: "secrets.env",
        content: secrets.map(([k, v]) => `${k}=${dotenvValue(v)}\n`).join(""),
        summary: secrets.map(([k]) => k).join(", "),
      },
    },
    {
      title: "Store the database's settings in Vault (webhook URL and secret, retention)",
      args: ["db", "query", "--remote", "--file", FILE_PLACEHOLDER, ...yes],
      file: {
        name: "vault.sql",
        content: vaultSql(vault),
        summary: Object.keys(vault).map((k) =>
          k === VAULT_WEBHOOK_SECRET ? k : `${k} = ${vault[k]}`
        ).join(", "),
      },
    },
    { title: "Apply the migrations", args: ["db", "push", "--remote", ...yes] },
    ...input.functions.map((name) => ({
      title: `Deploy the ${name} function (its bundle)`,
      // --use-api: no Docker needed here. The upload is the bundle built and measured before
      // (one file); --remote names the project, which the bundles' workdir is not linked to.
      args: [
        "functions",
        "deploy",
        name,
        "--use-api",
        "--workdir",
        input.functionsWorkdir,
        `--remote=${input.projectRef}`,
        ...yes,
      ],
    })),
  ];
}

/** Double-quoted with JSON escapes unless the value is plainly safe, as dotenv parsers expect. */
function dotenvValue(value: string): string {
  return /^[A-Za-z0-9_./:@+,-]*$/.test(value) ? value : JSON.stringify(value);
}

const TAG = "$vault$";

function literal(s: string): string {
  if (s.includes(TAG)) throw new Error(`A Vault secret may not contain ${TAG}`);
  return `'${s.replaceAll("'", "''")}'`;
}

/** Creates or updates named Vault secrets; idempotent, so a re-deploy just refreshes them. */
export function vaultSql(secrets: Record<string, string>): string {
  const rows = Object.entries(secrets).map(([name, value]) =>
    `(${literal(name)}, ${literal(value)}, ${literal(`Code Memory: ${name}`)})`
  );
  return `do ${TAG}
declare s record;
begin
  for s in select * from (values
    ${rows.join(",\n    ")}
  ) as v(name, secret, description) loop
    if exists (select 1 from vault.secrets where name = s.name) then
      perform vault.update_secret(
        (select id from vault.secrets where name = s.name), s.secret, s.name, s.description);
    else
      perform vault.create_secret(s.secret, s.name, s.description);
    end if;
  end loop;
end ${TAG};
`;
}
