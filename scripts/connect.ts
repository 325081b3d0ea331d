// `deno task connect claude [--url URL] [--key KEY | --email EMAIL] [--stop-hook] [--scope S]
// [--dry-run]`: Claude Code connected to Code Memory, with the SessionStart hook that recalls
// (scripts/connect/claude.ts). The URL defaults to CODEMEMORY_URL, else the running local
// stack; the key to CODEMEMORY_API_KEY, else a new one for --email (as `deno task key create`).
import { join } from "node:path";
import { homedir } from "node:os";
import { loadConfig } from "../shared/config.ts";
import { connectClaude } from "./connect/claude.ts";
import { runMain } from "./lib/run_main.ts";
import { readLiveState } from "./local/state.ts";
import { parseCliArgs } from "./lib/cli_args.ts";

const USAGE = "usage: deno task connect claude [--url URL] [--key KEY | --email EMAIL] " +
  "[--stop-hook] [--scope user|project|local] [--dry-run]";

/** The claude CLI, or null when it is not installed. */
async function claudeCli() {
  const run = async (args: string[]) => {
    const out = await new Deno.Command("claude", { args, stdout: "piped", stderr: "piped" })
      .output();
    const text = new TextDecoder();
    return { code: out.code, output: text.decode(out.stdout) + text.decode(out.stderr) };
  };
  try {
    await run(["--version"]);
    return run;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

async function main(argv: string[]): Promise<number> {
  // Unknown option or missing value: bad usage (exit 2), like the checks below.
  const parsed = parseCliArgs(argv, {
    url: { type: "string" },
    key: { type: "string" },
    email: { type: "string" },
    scope: { type: "string", default: "user" },
    "stop-hook": { type: "boolean", default: false },
    "dry-run": { type: "boolean", default: false },
  }, USAGE);
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  const scope = values.scope as "user" | "project" | "local";
  if (positionals[0] !== "claude" || !["user", "project", "local"].includes(scope)) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  const url = values.url ?? Deno.env.get("CODEMEMORY_URL") ??
    (await readLiveState(config.CODEMEMORY_DATA_DIR))?.url;
  if (!url) {
    console.error(`No --url, no CODEMEMORY_URL and no local stack running.\n${USAGE}`);
    return 2;
  }
  let key = values.key ?? Deno.env.get("CODEMEMORY_API_KEY");
  if (!key && values.email) {
    if (values["dry-run"]) key = "cm_(a new key for " + values.email + ")";
    else {
      // Loaded only here: the key CLI's graph holds the database drivers.
      const { createKey } = await import("./cli.ts");
      const created = await createKey(values.email, "claude-code");
      console.log(`Created API key '${created.name}' for ${created.email}.`);
      key = created.key as string;
    }
  }
  if (!key) {
    console.error(`Pass --key (or CODEMEMORY_API_KEY), or --email to create one.\n${USAGE}`);
    return 2;
  }
  await connectClaude({
    url,
    key,
    claudeDir: Deno.env.get("CLAUDE_CONFIG_DIR") || join(homedir(), ".claude"),
    stopHook: values["stop-hook"],
    scope,
    dryRun: values["dry-run"],
    claude: values["dry-run"] ? null : await claudeCli(),
    log: console.log,
  });
  return 0;
}

if (import.meta.main) await runMain(main);
