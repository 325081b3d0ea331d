// `deno task connect claude`: Claude Code connected to Code Memory in one command. Copies the
// hook (claude_hook.mjs) to <claude dir>/hooks/code-memory-hook.mjs, writes the URL and key to
// <claude dir>/code-memory.json (0600, read only by the hook), registers the SessionStart hook
// (and, with --stop-hook, the Stop hook) in <claude dir>/settings.json next to whatever else is
// there, and runs `claude mcp add` (or prints it when the CLI is not installed). Re-running it
// replaces its own entries, never duplicates them.
import { dirname, join } from "node:path";

export const HOOK_FILE = "code-memory-hook.mjs";
export const CONFIG_FILE = "code-memory.json";
const HOOK_SOURCE = new URL("./claude_hook.mjs", import.meta.url);
/** Seconds Claude Code allows the hook; the hook itself gives up on the server much sooner. */
const HOOK_TIMEOUT_SECONDS = 10;
/** A resumed session still has its context; a new, cleared or compacted one needs the brief. */
const SESSION_START_MATCHER = "startup|clear|compact";

/** A hook entry; other tools' entries may be of other types (http, prompt) and are kept. */
interface HookCommand {
  type: string;
  command?: string;
  timeout?: number;
}
interface HookGroup {
  matcher?: string;
  hooks: HookCommand[];
}
type Settings = Record<string, unknown> & { hooks?: Record<string, HookGroup[]> };

const ours = (c: HookCommand) => typeof c.command === "string" && c.command.includes(HOOK_FILE);

/** A POSIX shell word (the hook path may hold spaces). */
const shellWord = (s: string) => /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * `settings` with Code Memory's hooks in place: earlier Code Memory entries removed (so a second
 * run changes nothing), everything else kept as it was.
 */
export function withHooks(settings: Settings, hookPath: string, stopHook: boolean): Settings {
  const hooks: Record<string, HookGroup[]> = {};
  for (const [event, groups] of Object.entries(settings.hooks ?? {})) {
    const kept = groups
      .map((g) => ({ ...g, hooks: g.hooks.filter((c) => !ours(c)) }))
      .filter((g) => g.hooks.length > 0);
    if (kept.length) hooks[event] = kept;
  }
  const command = (sub: string): HookCommand => ({
    type: "command",
    command: `node ${shellWord(hookPath)} ${sub}`,
    timeout: HOOK_TIMEOUT_SECONDS,
  });
  hooks.SessionStart = [
    ...(hooks.SessionStart ?? []),
    { matcher: SESSION_START_MATCHER, hooks: [command("session-start")] },
  ];
  if (stopHook) hooks.Stop = [...(hooks.Stop ?? []), { hooks: [command("stop")] }];
  return { ...settings, hooks };
}

export interface ConnectClaudeOptions {
  /** The deployment's base URL (https://<ref>.supabase.co or http://127.0.0.1:54321). */
  url: string;
  key: string;
  /** Claude Code's config folder: $CLAUDE_CONFIG_DIR or ~/.claude. */
  claudeDir: string;
  stopHook: boolean;
  /** `claude mcp add --scope`: user (every project, the default), project or local. */
  scope: "user" | "project" | "local";
  /** Print what would be done; change nothing. */
  dryRun: boolean;
  /** Runs the claude CLI; null when it is not installed. */
  claude: ((args: string[]) => Promise<{ code: number; output: string }>) | null;
  log: (line: string) => void;
}

export const mcpAddArgs = (url: string, key: string, scope: string) => [
  "mcp",
  "add",
  "--transport",
  "http",
  "--scope",
  scope,
  "code-memory",
  `${url}/functions/v1/mcp`,
  "--header",
  `Authorization: Bearer ${key}`,
];

const redacted = (args: string[], key: string) =>
  args.map((a) => shellWord(a.replace(key, `${key.slice(0, 10)}…`))).join(" ");

export async function connectClaude(opts: ConnectClaudeOptions): Promise<void> {
  const { claudeDir, log } = opts;
  const url = opts.url.replace(/\/+$/, "");
  const hookPath = join(claudeDir, "hooks", HOOK_FILE);
  const configPath = join(claudeDir, CONFIG_FILE);
  const settingsPath = join(claudeDir, "settings.json");
  const settings = await Deno.readTextFile(settingsPath).then(JSON.parse).catch((err) => {
    if (err instanceof Deno.errors.NotFound) return {};
    throw new Error(`${settingsPath} is not valid JSON; fix or move it first`);
  });
  const next = withHooks(settings, hookPath, opts.stopHook);
  const add = mcpAddArgs(url, opts.key, opts.scope);

  if (opts.dryRun) {
    log(`would copy the hook to ${hookPath}`);
    log(`would write ${configPath} (url ${url}, the key; mode 0600)`);
    log(`would set in ${settingsPath}:\n${JSON.stringify({ hooks: next.hooks }, null, 2)}`);
    log(`would run: claude ${redacted(add, opts.key)}`);
    return;
  }
  await Deno.mkdir(dirname(hookPath), { recursive: true });
  await Deno.writeTextFile(hookPath, await Deno.readTextFile(HOOK_SOURCE));
  await Deno.writeTextFile(configPath, JSON.stringify({ url, key: opts.key }, null, 2) + "\n", {
    mode: 0o600,
  });
  await Deno.chmod(configPath, 0o600); // also when the file was already there
  await Deno.writeTextFile(settingsPath, JSON.stringify(next, null, 2) + "\n");
  log(`hook: ${hookPath} (SessionStart${opts.stopHook ? " and Stop" : ""}, in ${settingsPath})`);
  log(`key and URL for the hook: ${configPath}`);

  if (!opts.claude) {
    log("Claude Code's CLI is not on PATH; add the server with:");
    log(`  claude ${redacted(add, opts.key)}  (with the full key)`);
    return;
  }
  // Replace an earlier registration, so re-running with a new key or URL just works.
  await opts.claude(["mcp", "remove", "--scope", opts.scope, "code-memory"]);
  const added = await opts.claude(add);
  if (added.code !== 0) throw new Error(`claude mcp add failed: ${added.output.trim()}`);
  log(`claude mcp add: code-memory → ${url}/functions/v1/mcp (scope ${opts.scope})`);
}
