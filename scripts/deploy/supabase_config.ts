// Reads supabase/config.toml the way the deploy script and its tests need it: which functions
// exist and where their code is. The Supabase CLI stays the authority on the full format.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "smol-toml";

/** The Supabase CLI every script runs (`npx -y supabase@…`); one version for deploy and CI. */
export const SUPABASE_CLI_VERSION = "3.1.0";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const CONFIG_PATH = join(REPO_ROOT, "supabase", "config.toml");

export interface FunctionConfig {
  name: string;
  verify_jwt: boolean;
  /** As written in config.toml: relative to the supabase/ directory. */
  entrypoint: string;
  import_map?: string;
  /** entrypoint resolved to an absolute path. */
  entrypointPath: string;
}

export interface SupabaseConfig {
  project_id: string;
  raw: Record<string, unknown>;
  functions: FunctionConfig[];
}

/** Parses config.toml; throws on invalid TOML or a function table without an entrypoint. */
export function parseSupabaseConfig(text: string, configPath = CONFIG_PATH): SupabaseConfig {
  const raw = parse(text) as Record<string, unknown>;
  const supabaseDir = dirname(configPath);
  const tables = (raw.functions ?? {}) as Record<string, Record<string, unknown>>;
  const functions = Object.entries(tables).map(([name, t]) => {
    if (typeof t.entrypoint !== "string") {
      throw new Error(`[functions.${name}] needs entrypoint = "../functions/${name}/index.ts"`);
    }
    return {
      name,
      // The CLI's default when the key is absent is true (the gateway checks JWTs).
      verify_jwt: t.verify_jwt !== false,
      entrypoint: t.entrypoint,
      import_map: typeof t.import_map === "string" ? t.import_map : undefined,
      entrypointPath: resolve(supabaseDir, t.entrypoint),
    };
  });
  return { project_id: String(raw.project_id ?? ""), raw, functions };
}

export async function readSupabaseConfig(configPath = CONFIG_PATH): Promise<SupabaseConfig> {
  return parseSupabaseConfig(await Deno.readTextFile(configPath), configPath);
}

/**
 * config.toml of the workdir `deno task deploy` uploads from: the same functions and settings,
 * each entrypoint pointing at its bundle (supabase/functions/<name>/index.js), no import map.
 */
export function bundledConfigToml(config: SupabaseConfig): string {
  const functions = Object.fromEntries(config.functions.map((f) => [f.name, {
    verify_jwt: f.verify_jwt,
    entrypoint: `./functions/${f.name}/index.js`,
  }]));
  return "# Written by `deno task deploy` from supabase/config.toml: the functions as bundled.\n" +
    stringify({ project_id: config.project_id, functions });
}
