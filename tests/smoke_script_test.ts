/** scripts/smoke.ts against the embedded stack: every check passes, in-process and as a CLI. */
import assert from "node:assert/strict";
import { runSmoke } from "../scripts/smoke.ts";
import { testEachBackend } from "./helpers/db.ts";
import { withStack } from "./helpers/stack.ts";

testEachBackend(
  "smoke script: MCP and REST checks pass against the stack",
  (backend) =>
    withStack(backend, async (stack) => {
      const user = await stack.newUser();
      const lines: string[] = [];
      const results = await runSmoke(`${stack.url}/`, user.key, (l) => lines.push(l));
      assert.deepEqual(results.filter((r) => !r.ok), [], lines.join("\n"));
      assert.ok(results.length >= 10, lines.join("\n"));
      // It cleans up after itself.
      const [{ n }] = await stack.db.query<{ n: number }>(
        "select count(*)::int as n from memories where user_id = $1",
        [user.userId],
      );
      assert.equal(n, 0);

      // A wrong key fails the authenticated checks, and the CLI says so with its exit code.
      const cli = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "scripts/smoke.ts", stack.url, `${user.key.slice(0, -1)}x`],
        cwd: new URL("..", import.meta.url).pathname,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(cli.stdout);
      assert.equal(cli.code, 1, out);
      assert.match(out, /^ok - mcp: protected resource metadata/m);
      assert.match(out, /^not ok - mcp: connect and list tools/m);
      assert.match(out, /\d+ passed, \d+ failed/);
    }),
);

Deno.test("smoke script: usage error without URL and KEY", async () => {
  const cli = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/smoke.ts"],
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(cli.code, 2);
  assert.match(new TextDecoder().decode(cli.stderr), /usage: deno task smoke URL KEY/);
});
