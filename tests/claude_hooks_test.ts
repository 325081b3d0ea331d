/**
 * The Claude Code hooks (scripts/connect/claude_hook.mjs), run as Claude Code runs them: `node`
 * with the hook's JSON on stdin, in a real git repository, against a real HTTP server on
 * 127.0.0.1 that answers the session brief's contract (or hangs, refuses, is not there). And
 * `deno task connect claude`, which installs them into a Claude Code config folder.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { BRIEF_TEXT, startFakeBrief } from "./helpers/fake_brief.ts";
import { withHooks } from "../scripts/connect/claude.ts";
import { denoDir } from "./helpers/deno_dir.ts";
import { repo, runHook, sessionStartInput } from "./helpers/claude_hook.ts";

const KEY = "cm_" + "k".repeat(43);

const env = (url: string, extra: Record<string, string> = {}) => ({
  CODEMEMORY_URL: url,
  CODEMEMORY_API_KEY: KEY,
  ...extra,
});

Deno.test("SessionStart hook: asks the brief for this repository and prints it as context", async () => {
  await using server = startFakeBrief();
  const dir = await repo("https://alice:ghp_secret@github.com/Acme/api.git");
  try {
    await Deno.writeTextFile(join(dir, "src", "api", "server.ts"), "export const x = 1;\n");
    const run = await runHook("session-start", sessionStartInput(join(dir, "src", "api")), {
      ...env(`${server.url}/`, { CODEMEMORY_BRIEF_TOKENS: "900" }),
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    assert.deepEqual(server.requests, [{
      path: "/functions/v1/memories/brief",
      authorization: `Bearer ${KEY}`,
      body: {
        max_tokens: 900,
        repo: "github.com/Acme/api",
        paths: ["src/api/", "src/api/server.ts"],
      },
    }]);
    assert.deepEqual(JSON.parse(run.stdout), {
      hookSpecificOutput: {
        hookEventName: "SessionStart",
        additionalContext: "Code Memory: what earlier sessions saved for api (2 items; " +
          "get_memory <id> for one in full, search_memories for more).\n\n" + BRIEF_TEXT,
      },
    });
    // The remote's credentials never leave the machine.
    assert.doesNotMatch(JSON.stringify(server.requests), /ghp_secret|alice/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SessionStart hook: scp-style remotes, a configured project, settings from code-memory.json", async () => {
  await using server = startFakeBrief({
    reply: { project: null, text: "", tokens: 0, truncated: false, items: [] },
  });
  const dir = await repo("git@gitlab.example.com:team/sub/web.git");
  const home = await Deno.makeTempDir({ prefix: "cm-hook-home-" });
  try {
    await Deno.mkdir(join(home, ".claude"));
    await Deno.writeTextFile(
      join(home, ".claude", "code-memory.json"),
      JSON.stringify({ url: server.url, key: KEY, project: "web", max_tokens: 50 }),
    );
    const run = await runHook("session-start", sessionStartInput(dir), { HOME: home });
    assert.equal(run.code, 0, run.stderr);
    // max_tokens is kept inside the contract's 200..8000; the root is no path of its own.
    assert.deepEqual(server.requests.map((r) => r.body), [
      { max_tokens: 200, project: "web", repo: "gitlab.example.com/team/sub/web" },
    ]);
    assert.deepEqual(
      JSON.parse(run.stdout).hookSpecificOutput.additionalContext,
      "Code Memory is connected; nothing is saved for gitlab.example.com/team/sub/web yet. " +
        "Use save_memory for decisions, fixes and conventions worth keeping.",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("SessionStart hook: a server that does not answer never holds the session", async () => {
  await using server = startFakeBrief({ hold: true });
  const dir = await repo("https://github.com/acme/api");
  try {
    const run = await runHook("session-start", sessionStartInput(dir), {
      ...env(server.url, { CODEMEMORY_HOOK_TIMEOUT_MS: "1000" }),
    });
    assert.deepEqual(run, {
      code: 0,
      stdout: "",
      stderr: "code-memory: no brief (no answer within 1000 ms)\n",
    });
    assert.equal(server.requests.length, 1, "it did ask");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SessionStart hook: unreachable, refused, unconfigured or outside git: exit 0, one line", async () => {
  // A port nobody listens on: bind one, then close it.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closed = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  listener.close();
  const dir = await repo("https://github.com/acme/api");
  const outside = await Deno.makeTempDir({ prefix: "cm-hook-nogit-" });
  await using refusing = startFakeBrief({ status: 401 });
  await using failing = startFakeBrief({ status: 503 });
  try {
    const cases: [string, Record<string, string>, RegExp][] = [
      [dir, env(closed), /^code-memory: no brief \(ECONNREFUSED\)\n$/],
      [dir, env(refusing.url), /^code-memory: no brief \(the API key was not accepted\)\n$/],
      [dir, env(failing.url), /^code-memory: no brief \(HTTP 503\)\n$/],
      [dir, {}, /^code-memory: not configured \(run `deno task connect claude`\)\n$/],
      [
        outside,
        env(refusing.url),
        /^code-memory: no brief \(not in a git repository with an origin/,
      ],
    ];
    for (const [cwd, vars, stderr] of cases) {
      const run = await runHook("session-start", sessionStartInput(cwd), vars);
      assert.equal(run.code, 0, JSON.stringify(vars));
      assert.equal(run.stdout, "", JSON.stringify(vars));
      assert.match(run.stderr, stderr);
    }
    // Outside a repository (and with no project set) there is nothing to ask about.
    assert.equal(refusing.requests.length, 1);
    assert.equal(failing.requests.length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("Stop hook: reminds once per change, never while continuing, not without changes", async () => {
  const dir = await repo("https://github.com/acme/api");
  const tmp = await Deno.makeTempDir({ prefix: "cm-hook-tmp-" });
  const session = `s-${crypto.randomUUID()}`;
  const stop = (extra: Record<string, unknown> = {}) =>
    runHook("stop", {
      session_id: session,
      transcript_path: "/tmp/t.jsonl",
      cwd: dir,
      hook_event_name: "Stop",
      stop_hook_active: false,
      ...extra,
    }, { TMPDIR: tmp });
  try {
    assert.deepEqual(await stop(), { code: 0, stdout: "", stderr: "" }, "clean tree");
    await Deno.writeTextFile(join(dir, "src", "api", "server.ts"), "export const y = 2;\n");
    await Deno.writeTextFile(join(dir, "NOTES.md"), "new\n");
    assert.deepEqual(await stop({ stop_hook_active: true }), { code: 0, stdout: "", stderr: "" });
    const first = await stop();
    assert.equal(first.code, 0);
    const answer = JSON.parse(first.stdout);
    assert.equal(answer.decision, "block");
    assert.match(answer.reason, /^This session changed 2 files\. Before you stop/);
    assert.match(answer.reason, /save_memory/);
    // Same changes again: nothing more to say; a further change asks again.
    assert.deepEqual(await stop(), { code: 0, stdout: "", stderr: "" });
    await Deno.writeTextFile(join(dir, "NOTES.md"), "newer\n");
    assert.equal(JSON.parse((await stop()).stdout).decision, "block");
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("connect claude: settings keep what was there; a second run changes nothing", () => {
  const before = {
    model: "opus",
    hooks: {
      SessionStart: [{ matcher: "startup", hooks: [{ type: "command", command: "echo hi" }] }],
      PreToolUse: [{ matcher: "Bash", hooks: [{ type: "command", command: "guard.sh" }] }],
    },
  };
  const once = withHooks(before, "/home/me/.claude/hooks/code-memory-hook.mjs", true);
  assert.deepEqual(once, {
    model: "opus",
    hooks: {
      SessionStart: [
        { matcher: "startup", hooks: [{ type: "command", command: "echo hi" }] },
        {
          matcher: "startup|clear|compact",
          hooks: [{
            type: "command",
            command: "node /home/me/.claude/hooks/code-memory-hook.mjs session-start",
            timeout: 10,
          }],
        },
      ],
      PreToolUse: [{ matcher: "Bash", hooks: [{ type: "command", command: "guard.sh" }] }],
      Stop: [{
        hooks: [{
          type: "command",
          command: "node /home/me/.claude/hooks/code-memory-hook.mjs stop",
          timeout: 10,
        }],
      }],
    },
  });
  assert.deepEqual(withHooks(once, "/home/me/.claude/hooks/code-memory-hook.mjs", true), once);
  // Without --stop-hook an earlier Stop hook of ours goes; a path with spaces is quoted.
  const again = withHooks(once, "/home/my docs/.claude/hooks/code-memory-hook.mjs", false);
  assert.equal(again.hooks!.Stop, undefined);
  assert.equal(
    again.hooks!.SessionStart[1].hooks[0].command,
    "node '/home/my docs/.claude/hooks/code-memory-hook.mjs' session-start",
  );
});

Deno.test("connect claude: installs the hook, its settings and a private config file", async () => {
  await using server = startFakeBrief();
  const home = await Deno.makeTempDir({ prefix: "cm-connect-home-" });
  const project = await repo("https://github.com/acme/api");
  try {
    await Deno.mkdir(join(home, ".claude"));
    await Deno.writeTextFile(join(home, ".claude", "settings.json"), '{"model":"opus"}');
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "scripts/connect.ts", "claude", "--url", server.url, "--key", KEY],
      cwd: new URL("..", import.meta.url).pathname,
      // No claude on PATH here: the command is printed instead of run.
      env: {
        HOME: home,
        PATH: join(home, "bin"),
        CODEMEMORY_DATA_DIR: join(home, "none"),
        DENO_DIR: denoDir(),
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(stdout, /Claude Code's CLI is not on PATH/);
    assert.match(stdout, /claude mcp add --transport http --scope user code-memory /);
    assert.doesNotMatch(stdout, new RegExp(KEY), "the key is not printed");
    const claude = join(home, ".claude");
    const settings = JSON.parse(await Deno.readTextFile(join(claude, "settings.json")));
    assert.equal(settings.model, "opus");
    const command = settings.hooks.SessionStart[0].hooks[0].command;
    assert.equal(command, `node ${claude}/hooks/code-memory-hook.mjs session-start`);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(join(claude, "code-memory.json"))), {
      url: server.url,
      key: KEY,
    });
    assert.equal((await Deno.stat(join(claude, "code-memory.json"))).mode! & 0o777, 0o600);

    // The installed hook, as settings.json runs it, reads that config and gets the brief.
    const installed = join(claude, "hooks", "code-memory-hook.mjs");
    const run = await runHook(
      "session-start",
      sessionStartInput(project),
      { HOME: home },
      installed,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(JSON.parse(run.stdout).hookSpecificOutput.additionalContext, /Tabs, not spaces/);
    assert.equal(server.requests[0].authorization, `Bearer ${KEY}`);
  } finally {
    await Deno.remove(home, { recursive: true });
    await Deno.remove(project, { recursive: true });
  }
});
