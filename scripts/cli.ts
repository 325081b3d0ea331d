// `deno task key create --email E [--name N] [--confirmed]`: prints a new API key on its last
// line. On a Supabase project (SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY) the user is found or
// invited through Supabase Auth's Admin API (scripts/lib/supabase_admin.ts). Otherwise it talks
// to the running stack when there is one (it holds PGlite exclusively), else the database,
// where the embedded stack's stand-in creates users.
import { loadConfig } from "../shared/config.ts";
import { openDatabase } from "./local/database.ts";
import { migrate } from "../shared/db/migrate.ts";
import { issueKey } from "./local/admin.ts";
import { pgliteDir, readLiveState } from "./local/state.ts";
import { runMain } from "./lib/run_main.ts";
import { issueKeyThroughSupabase, supabaseAdminEnv } from "./lib/supabase_admin.ts";
import { parseCliArgs } from "./lib/cli_args.ts";

const USAGE = "usage: deno task key create --email EMAIL [--name NAME] [--confirmed]";

const HOW = {
  existing: "",
  invited: " Supabase Auth emailed them an invitation to set a password (for the dashboard).",
  created: " Created in Supabase Auth with the address confirmed (no email sent).",
};

/** A new key for the user with this email: through the running stack, else the database. */
export async function createKey(email: string, name?: string, opts: { confirmed?: boolean } = {}) {
  const supabase = supabaseAdminEnv((n) => Deno.env.get(n));
  if (supabase) return await issueKeyThroughSupabase(supabase, { email, name, ...opts });
  const config = loadConfig();
  const dataDir = config.CODEMEMORY_DATA_DIR;
  const running = config.databaseUrl ? null : await readLiveState(dataDir);
  if (running) {
    const res = await fetch(`${running.url}/admin/keys`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-admin-token": running.adminToken },
      body: JSON.stringify({ email, name }),
    });
    const body = await res.json();
    if (!res.ok) throw new Error(body?.error?.message ?? `admin API answered ${res.status}`);
    return body;
  }
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: pgliteDir(dataDir) });
  try {
    await migrate(db);
    return await issueKey(db, email, name);
  } finally {
    await db.close();
  }
}

async function main(argv: string[]): Promise<number> {
  // Unknown option or missing value: bad usage (exit 2), like the checks below.
  const parsed = parseCliArgs(argv, {
    email: { type: "string" },
    name: { type: "string" },
    confirmed: { type: "boolean", default: false },
  }, USAGE);
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  const [group, command] = positionals;
  if (group !== "key" || command !== "create" || !values.email) {
    console.error(USAGE);
    return 2;
  }
  if (!/^[^@\s]+@[^@\s]+$/.test(values.email)) {
    console.error(`Not an email address: ${values.email}`);
    return 2;
  }
  const created = await createKey(values.email, values.name, { confirmed: values.confirmed });
  const how = "user" in created ? HOW[created.user as keyof typeof HOW] : "";
  console.log(
    `Created API key '${created.name}' for ${created.email} (user ${created.user_id}).${how}`,
  );
  console.log("Store it now; it cannot be shown again. Send it as Authorization: Bearer <key>.");
  console.log(created.key);
  return 0;
}

if (import.meta.main) await runMain(main);
