/**
 * The SessionStart hook end to end: `node scripts/connect/claude_hook.mjs session-start` with
 * the JSON Claude Code sends, in a git repository whose origin is github.com/acme/api, against
 * the embedded stack's real POST /functions/v1/memories/brief: what was saved about that
 * repository reaches the session's context, inside the brief's fences; memories of another
 * repository or user do not.
 */
import assert from "node:assert/strict";
import { testEachBackend } from "./helpers/db.ts";
import { createProject, saveMemory } from "./helpers/foundation.ts";
import { withStack } from "./helpers/stack.ts";
import { git, runHook, sessionStartInput } from "./helpers/claude_hook.ts";

testEachBackend(
  "SessionStart hook against the stack: the repository's brief becomes the session's context",
  async (backend) => {
    await withStack(backend, async (stack) => {
      const user = await stack.newUser();
      const stranger = await stack.newUser();
      await createProject(stack, user, { name: "API", slug: "api" });
      await saveMemory(stack, user, {
        project: "api",
        kind: "convention",
        title: "Indent with tabs",
        content: "All TypeScript in this repository is indented with tabs.",
        repo: "github.com/acme/api",
      });
      await saveMemory(stack, user, {
        kind: "decision",
        title: "Elsewhere only",
        content: "A decision about another repository.",
        repo: "github.com/acme/web",
      });
      await saveMemory(stack, stranger, {
        kind: "convention",
        title: "Not yours",
        content: "Someone else's convention for the same repository.",
        repo: "github.com/acme/api",
      });

      const dir = await Deno.makeTempDir({ prefix: "cm-hook-e2e-" });
      try {
        await git(dir, "init", "-q");
        await git(dir, "remote", "add", "origin", "git@github.com:acme/api.git");
        const run = await runHook("session-start", sessionStartInput(dir), {
          CODEMEMORY_URL: stack.url,
          CODEMEMORY_API_KEY: user.key,
        });
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.stderr, "");
        const context: string = JSON.parse(run.stdout).hookSpecificOutput.additionalContext;
        assert.match(context, /^Code Memory: what earlier sessions saved for /);
        assert.match(context, /Indent with tabs/);
        assert.match(context, /<memory-content-[0-9a-f]+/, "stored text stays fenced");
        assert.doesNotMatch(context, /Elsewhere only|Not yours/);

        // A key the stack does not know: the session still starts, with one line on stderr.
        const bad = await runHook("session-start", sessionStartInput(dir), {
          CODEMEMORY_URL: stack.url,
          CODEMEMORY_API_KEY: `cm_${"x".repeat(43)}`,
        });
        assert.deepEqual(bad, {
          code: 0,
          stdout: "",
          stderr: "code-memory: no brief (the API key was not accepted)\n",
        });
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  },
  { sanitizeResources: false, sanitizeOps: false },
);
