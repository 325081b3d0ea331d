/**
 * The real Claude Code CLI (npm @anthropic-ai/claude-code, pinned in scripts/ci/setup.sh)
 * against the embedded stack, with HOME in a temp folder: the README's `claude mcp add`
 * command, and `deno task connect claude`, which runs it for you, must both leave a server that
 * `claude mcp list` reports connected. Registered as ignored where the CLI is not installed.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { denoDir } from "./helpers/deno_dir.ts";
import { type TestStack, withStack } from "./helpers/stack.ts";

const CLAUDE = (Deno.env.get("PATH") ?? "").split(delimiter).map((d) => join(d, "claude"))
  .find((p) => existsSync(p));

/** No update checks, telemetry or other traffic: the CLI talks to the stack only. */
const QUIET = {
  DISABLE_AUTOUPDATER: "1",
  DISABLE_TELEMETRY: "1",
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
};

async function run(cmd: string, args: string[], home: string, cwd = home) {
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    env: { HOME: home, ...QUIET },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, output: text.decode(out.stdout) + text.decode(out.stderr) };
}

async function withHome(fn: (home: string) => Promise<void>) {
  const home = await Deno.makeTempDir({ prefix: "cm-claude-home-" });
  try {
    await fn(home);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

/** `claude mcp add` of the stack's MCP endpoint with this key, as the README says. */
async function mcpAdd(stack: TestStack, home: string, key: string) {
  return await run(CLAUDE!, [
    "mcp",
    "add",
    "--transport",
    "http",
    "code-memory",
    `${stack.url}/functions/v1/mcp`,
    "--header",
    `Authorization: Bearer ${key}`,
  ], home);
}

async function assertConnected(stack: TestStack, home: string) {
  const listed = await run(CLAUDE!, ["mcp", "list"], home);
  assert.equal(listed.code, 0, listed.output);
  assert.match(
    listed.output,
    new RegExp(`code-memory: ${stack.url}/functions/v1/mcp \\(HTTP\\) - ✔ Connected`),
    listed.output,
  );
}

/** A test of the real CLI against a fresh embedded stack; ignored where the CLI is missing. */
const cliTest = (name: string, fn: (stack: TestStack) => Promise<void>) =>
  Deno.test({
    name,
    ignore: !CLAUDE,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: () => withStack("pglite", fn),
  });

cliTest(
  "claude CLI: the README's claude mcp add, then claude mcp list says connected",
  async (stack) => {
    const user = await stack.newUser();
    await withHome(async (home) => {
      const added = await mcpAdd(stack, home, user.key);
      assert.equal(added.code, 0, added.output);
      await assertConnected(stack, home);
    });
    // A wrong key is not "connected".
    await withHome(async (home) => {
      const bad = `cm_${"x".repeat(43)}`;
      await mcpAdd(stack, home, bad);
      const listed = await run(CLAUDE!, ["mcp", "list"], home);
      assert.doesNotMatch(listed.output, /✔ Connected/, listed.output);
    });
  },
);

cliTest(
  "claude CLI: deno task connect claude registers a server claude mcp list sees connected",
  async (stack) => {
    const user = await stack.newUser();
    await withHome(async (home) => {
      const repoRoot = new URL("..", import.meta.url).pathname;
      const connect = [
        "run",
        "-A",
        join(repoRoot, "scripts/connect.ts"),
        "claude",
        "--url",
        stack.url,
        "--key",
        user.key,
      ];
      const out = await new Deno.Command(Deno.execPath(), {
        args: connect,
        cwd: repoRoot,
        env: {
          HOME: home,
          DENO_DIR: denoDir(),
          CODEMEMORY_DATA_DIR: join(home, "none"),
          ...QUIET,
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder();
      assert.equal(out.code, 0, text.decode(out.stderr));
      assert.match(text.decode(out.stdout), /claude mcp add: code-memory → .* \(scope user\)/);
      // User scope: connected from any folder.
      await assertConnected(stack, home);
      const settings = JSON.parse(await Deno.readTextFile(join(home, ".claude/settings.json")));
      assert.match(settings.hooks.SessionStart[0].hooks[0].command, /code-memory-hook\.mjs/);
    });
  },
);
