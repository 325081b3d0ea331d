/**
 * The Claude Code hook (scripts/connect/claude_hook.mjs) run as Claude Code runs it, and the git
 * repositories it runs in.
 */
import assert from "node:assert/strict";
import { join } from "node:path";

export const HOOK = new URL("../../scripts/connect/claude_hook.mjs", import.meta.url).pathname;

export interface HookRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the hook like Claude Code: JSON on stdin, HOME (and so ~/.claude) in a temp folder. */
export async function runHook(
  sub: string,
  input: Record<string, unknown>,
  env: Record<string, string> = {},
  hook = HOOK,
): Promise<HookRun> {
  const child = new Deno.Command("node", {
    args: [hook, sub],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { HOME: "/nonexistent", PATH: "/usr/bin:/bin", ...env },
    clearEnv: true,
    // A backstop for a hook that would hang the suite; the hook must end long before.
    signal: AbortSignal.timeout(30_000),
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(input)));
  await writer.close();
  const out = await child.output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

export async function git(cwd: string, ...args: string[]) {
  const out = await new Deno.Command("git", {
    args: ["-C", cwd, "-c", "user.email=t@t", "-c", "user.name=t", ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

/** A git repository with one commit, its origin at `remote`, and a subfolder `src/api`. */
export async function repo(remote: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "cm-hook-repo-" });
  await git(dir, "init", "-q");
  await git(dir, "remote", "add", "origin", remote);
  await Deno.mkdir(join(dir, "src", "api"), { recursive: true });
  await Deno.writeTextFile(join(dir, "src", "api", "server.ts"), "export {};\n");
  await git(dir, "add", "-A");
  await git(dir, "commit", "-qm", "init");
  return dir;
}

export const sessionStartInput = (cwd: string) => ({
  session_id: "abc123",
  transcript_path: "/tmp/transcript.jsonl",
  cwd,
  hook_event_name: "SessionStart",
  source: "startup",
});
