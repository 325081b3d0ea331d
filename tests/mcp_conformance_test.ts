/**
 * The MCP conformance suite's DNS rebinding scenario against the embedded stack (security
 * review, finding 4). The suite sends no credentials, so a loopback proxy in front adds an API
 * key; it forwards the suite's Host and Origin headers as they are. The suite needs a newer Node
 * than some machines have, so it runs under Deno (npm: specifier, pinned version; the npm
 * registry is needed the first time only).
 */
import assert from "node:assert/strict";
import { withStack } from "./helpers/stack.ts";

const SUITE = "npm:@modelcontextprotocol/conformance@0.1.16";
/** The suite colours its report even with NO_COLOR. */
const ANSI_COLOR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

// The HTTP layer is the same on either database: PGlite only.
Deno.test(
  "mcp conformance: dns-rebinding-protection passes",
  () =>
    withStack("pglite", async (stack) => {
      const user = await stack.newUser();
      const upstream = new URL(stack.url);
      const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
        const url = new URL(req.url);
        url.host = upstream.host;
        const headers = new Headers(req.headers);
        headers.set("authorization", `Bearer ${user.key}`);
        return fetch(new Request(url, { method: req.method, headers, body: req.body }));
      });
      try {
        const url = `http://127.0.0.1:${proxy.addr.port}/functions/v1/mcp`;
        const cwd = await Deno.makeTempDir();
        const run = await new Deno.Command(Deno.execPath(), {
          // Outside the project: the suite's own dependencies stay out of deno.lock.
          args: [
            "run",
            "-A",
            "--no-config",
            "--no-lock",
            SUITE,
            "server",
            "--url",
            url,
            "--scenario",
            "dns-rebinding-protection",
          ],
          cwd,
          env: { NO_COLOR: "1" },
          stdout: "piped",
          stderr: "piped",
        }).output().finally(() => Deno.remove(cwd, { recursive: true }));
        const out = (new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr))
          .replace(ANSI_COLOR, "");
        for (
          const check of ["localhost-host-rebinding-rejected", "localhost-host-valid-accepted"]
        ) {
          assert.match(out, new RegExp(`\\[${check}\\s*\\] SUCCESS`), out);
        }
        assert.match(out, /Passed: 2\/2, 0 failed/, out);
        assert.equal(run.code, 0, out);
      } finally {
        await proxy.shutdown();
      }
    }),
);
