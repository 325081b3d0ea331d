#!/usr/bin/env node
// Code Memory's Claude Code hooks, one file, no dependencies, plain Node (Claude Code itself
// runs on Node, so it is there wherever the hook runs, with nothing to install). Installed by
// `deno task connect claude`, which copies this file to ~/.claude/hooks/ and registers it:
//
//   node code-memory-hook.mjs session-start   SessionStart: asks the session brief for this
//       repository and prints it as additionalContext; a slow or unreachable server never
//       holds the session up: after its timeout the hook exits 0 with one line on stderr.
//   node code-memory-hook.mjs stop            Stop (optional): when the session changed files,
//       asks the agent once to save what it learned (respects stop_hook_active, no loops).
//
// Input is the JSON Claude Code writes on stdin; output follows its hooks reference
// (hookSpecificOutput.additionalContext for SessionStart, decision/reason for Stop). Settings:
// CODEMEMORY_URL / CODEMEMORY_API_KEY / CODEMEMORY_PROJECT in the environment, else
// code-memory.json beside the hook's settings ($CLAUDE_CONFIG_DIR or ~/.claude).
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join, relative, sep } from "node:path";

const DEFAULT_TIMEOUT_MS = 2500;
const DEFAULT_MAX_TOKENS = 1500;
const GIT_TIMEOUT_MS = 1000;
const MAX_PATHS = 20;

/** One line on stderr (Claude Code shows it in verbose mode only) and a clean exit. */
function note(message) {
  process.stderr.write(`code-memory: ${message}\n`);
}

async function readStdin() {
  let data = "";
  process.stdin.setEncoding("utf8");
  for await (const chunk of process.stdin) data += chunk;
  try {
    return JSON.parse(data || "{}");
  } catch {
    return {};
  }
}

/** git's stdout, or null when it fails, is not there or takes too long. */
function git(cwd, args) {
  return new Promise((resolve) => {
    execFile("git", ["-C", cwd, ...args], { timeout: GIT_TIMEOUT_MS, maxBuffer: 4 << 20 }, (
      err,
      stdout,
    ) => resolve(err ? null : stdout));
  });
}

/**
 * A remote URL as 'host/owner/name' (the form memories' `repo` field uses), without scheme,
 * user, password or token, port or `.git`: https://x:tok@github.com/acme/api.git and
 * git@github.com:acme/api.git are both github.com/acme/api.
 */
function repoOf(remote) {
  const url = remote.trim();
  if (!url) return null;
  const scp = url.match(/^(?:[^@/]+@)?([^:/]+):(?!\/)(.+)$/);
  let host, path;
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    [, host, path] = scp;
  } else {
    try {
      const u = new URL(url);
      if (u.protocol === "file:") return null;
      host = u.hostname;
      path = u.pathname;
    } catch {
      return null;
    }
  }
  path = path.replace(/^\/+|\/+$/g, "").replace(/\.git$/, "");
  return path ? `${host.toLowerCase()}/${path}` : null;
}

/** The repository (from origin) and the paths this session starts in: cwd and changed files. */
async function whereWeAre(cwd) {
  const [top, remote, status] = await Promise.all([
    git(cwd, ["rev-parse", "--show-toplevel"]),
    git(cwd, ["remote", "get-url", "origin"]),
    git(cwd, ["status", "--porcelain=v1", "-uall"]),
  ]);
  const paths = [];
  const root = top?.trim();
  if (root) {
    const sub = relative(root, cwd).split(sep).join("/");
    // A trailing slash: everything under that directory (the brief's contract).
    if (sub && !sub.startsWith("..")) paths.push(`${sub}/`);
  }
  for (const line of (status ?? "").split("\n")) {
    const file = line.slice(3).split(" -> ").pop()?.replace(/^"|"$/g, "");
    if (file && paths.length < MAX_PATHS && !paths.includes(file)) paths.push(file);
  }
  return { repo: remote ? repoOf(remote) : null, paths, root, status: status ?? "" };
}

async function settings() {
  const dir = process.env.CLAUDE_CONFIG_DIR || join(homedir(), ".claude");
  let file = {};
  try {
    file = JSON.parse(await readFile(join(dir, "code-memory.json"), "utf8"));
  } catch {
    // No file: the environment alone, or nothing to do.
  }
  const env = process.env;
  const number = (v, fallback) =>
    Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : fallback;
  return {
    url: (env.CODEMEMORY_URL || file.url || "").replace(/\/+$/, ""),
    key: env.CODEMEMORY_API_KEY || file.key || "",
    project: env.CODEMEMORY_PROJECT || file.project || undefined,
    maxTokens: Math.min(
      8000,
      Math.max(200, number(env.CODEMEMORY_BRIEF_TOKENS ?? file.max_tokens, DEFAULT_MAX_TOKENS)),
    ),
    timeoutMs: number(env.CODEMEMORY_HOOK_TIMEOUT_MS ?? file.timeout_ms, DEFAULT_TIMEOUT_MS),
  };
}

async function sessionStart(input) {
  const cfg = await settings();
  if (!cfg.url || !cfg.key) return note("not configured (run `deno task connect claude`)");
  const cwd = typeof input.cwd === "string" && input.cwd ? input.cwd : process.cwd();
  const { repo, paths } = await whereWeAre(cwd);
  const body = { max_tokens: cfg.maxTokens };
  if (cfg.project) body.project = cfg.project;
  if (repo) body.repo = repo;
  if (paths.length) body.paths = paths;
  if (!body.project && !body.repo && !body.paths) {
    return note("no brief (not in a git repository with an origin; set CODEMEMORY_PROJECT)");
  }

  let res, brief;
  try {
    res = await fetch(`${cfg.url}/functions/v1/memories/brief`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${cfg.key}`,
        "content-type": "application/json",
        "x-client-name": "code-memory-claude-hook",
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(cfg.timeoutMs),
    });
    brief = res.ok ? await res.json() : null;
  } catch (err) {
    const timedOut = err?.name === "TimeoutError" || err?.name === "AbortError";
    return note(
      timedOut
        ? `no brief (no answer within ${cfg.timeoutMs} ms)`
        : `no brief (${err?.cause?.code ?? err?.message ?? err})`,
    );
  }
  if (!res.ok) {
    return note(
      res.status === 401
        ? "no brief (the API key was not accepted)"
        : `no brief (HTTP ${res.status})`,
    );
  }
  const where = brief?.project ?? repo ?? "this directory";
  const text = typeof brief?.text === "string" ? brief.text.trim() : "";
  const n = Array.isArray(brief?.items) ? brief.items.length : 0;
  const context = text
    ? `Code Memory: what earlier sessions saved for ${where} (${n} item${n === 1 ? "" : "s"}; ` +
      `get_memory <id> for one in full, search_memories for more).\n\n${text}`
    : `Code Memory is connected; nothing is saved for ${where} yet. Use save_memory for decisions, ` +
      `fixes and conventions worth keeping.`;
  process.stdout.write(JSON.stringify({
    hookSpecificOutput: { hookEventName: "SessionStart", additionalContext: context },
  }));
}

/** Asks once per state of the working tree, per session; never while already continuing. */
async function stop(input) {
  if (input.stop_hook_active === true) return;
  const cwd = typeof input.cwd === "string" && input.cwd ? input.cwd : process.cwd();
  const [{ status, root }, diff] = await Promise.all([
    whereWeAre(cwd),
    git(cwd, ["diff", "HEAD"]),
  ]);
  if (!status.trim()) return; // no changes (or not a git repository)
  const session = String(input.session_id ?? "none");
  const hash = (s) => createHash("sha256").update(s).digest("hex");
  const marker = join(tmpdir(), `code-memory-stop-${hash(session).slice(0, 32)}`);
  // New files are not in the diff: their sizes and times tell an edit apart.
  const untracked = await Promise.all(
    status.split("\n").filter((l) => l.startsWith("?? ")).slice(0, 200).map((l) =>
      stat(join(root ?? cwd, l.slice(3))).then((s) => `${l}:${s.size}:${s.mtimeMs}`, () => l)
    ),
  );
  const state = hash(`${status}\0${diff ?? ""}\0${untracked.join("\n")}`);
  const seen = await readFile(marker, "utf8").catch(() => "");
  if (seen === state) return;
  await writeFile(marker, state, { mode: 0o600 }).catch(() => {});
  const files = status.trim().split("\n").length;
  process.stdout.write(JSON.stringify({
    decision: "block",
    reason: `This session changed ${files} file${files === 1 ? "" : "s"}. Before you stop: if ` +
      "you learned something a later session should know (a decision and why, a fix, a " +
      "convention, a gotcha), save it with Code Memory's save_memory tool, one fact per memory, " +
      "with the files it concerns. If nothing is worth keeping, just stop.",
  }));
}

const HANDLERS = { "session-start": sessionStart, stop };

async function main() {
  const handler = HANDLERS[process.argv[2]];
  if (!handler) {
    note(`usage: code-memory-hook.mjs ${Object.keys(HANDLERS).join("|")}`);
    return;
  }
  // Whatever hangs (stdin never closed, git stuck), the session is never held up for long.
  const { timeoutMs } = await settings();
  setTimeout(() => process.exit(0), timeoutMs + GIT_TIMEOUT_MS + 500).unref();
  try {
    await handler(await readStdin());
  } catch (err) {
    note(`hook failed: ${err?.message ?? err}`);
  }
}

await main();
