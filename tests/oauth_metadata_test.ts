/**
 * The mcp function as an OAuth protected resource (RFC 9728): the metadata document under the
 * function and at the root locations, the 401 challenge pointing at it, and discovery by the
 * MCP SDK's own client code (what Claude, Cursor, VS Code and ChatGPT run).
 */
import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/client/auth"
import {
  discoverOAuthProtectedResourceMetadata,
  extractWWWAuthenticateParams,
} from "@modelcontextprotocol/sdk/client/auth.js";
import { publicBaseUrl } from "../shared/auth/resource_metadata.ts";
import { mcpInitialize } from "./helpers/auth.ts";
import { testEachBackend } from "./helpers/db.ts";
import { MCP } from "./helpers/foundation.ts";
import { withStack } from "./helpers/stack.ts";

const SUPABASE_URL = "https://abcdefghijklmnopqrst.supabase.co";
const WELL_KNOWN = "/.well-known/oauth-protected-resource";

testEachBackend(
  "oauth: metadata under the function and at the RFC 9728 root locations",
  (backend) =>
    withStack(backend, async (stack) => {
      const expected = {
        resource: `${stack.url}${MCP}`,
        authorization_servers: [`${SUPABASE_URL}/auth/v1`],
        bearer_methods_supported: ["header"],
        scopes_supported: ["openid", "email", "profile"],
        resource_name: "Code Memory",
        resource_documentation: "https://docs.example.com/clients",
      };
      for (const path of [`${MCP}${WELL_KNOWN}`, `${WELL_KNOWN}${MCP}`, WELL_KNOWN]) {
        const res = await fetch(`${stack.url}${path}`);
        assert.equal(res.status, 200, path);
        assert.equal(res.headers.get("access-control-allow-origin"), "*");
        assert.deepEqual(await res.json(), expected, path);
      }
      // CORS preflight for browser-based clients; other methods are refused.
      const preflight = await fetch(`${stack.url}${MCP}${WELL_KNOWN}`, { method: "OPTIONS" });
      assert.equal(preflight.status, 204);
      await preflight.body?.cancel();
      const post = await fetch(`${stack.url}${MCP}${WELL_KNOWN}`, { method: "POST" });
      assert.equal(post.status, 405);
      await post.body?.cancel();

      // The 401 points at the document; the SDK's client finds and validates it either way.
      const challenge = await mcpInitialize(stack, null);
      assert.equal(challenge.status, 401);
      const params = extractWWWAuthenticateParams(
        new Response(null, { headers: challenge.headers }),
      );
      assert.equal(params.resourceMetadataUrl?.href, `${stack.url}${MCP}${WELL_KNOWN}`);
      const viaHeader = await discoverOAuthProtectedResourceMetadata(`${stack.url}${MCP}`, {
        resourceMetadataUrl: params.resourceMetadataUrl,
      });
      assert.deepEqual(viaHeader.authorization_servers, expected.authorization_servers);
      const viaWellKnown = await discoverOAuthProtectedResourceMetadata(`${stack.url}${MCP}`);
      assert.equal(viaWellKnown.resource, expected.resource);
    }, { SUPABASE_URL, DOCS_URL: "https://docs.example.com/clients" }),
);

testEachBackend(
  "oauth: PUBLIC_URL names the resource; no SUPABASE_URL, no servers",
  (backend) =>
    withStack(
      backend,
      async (stack) => {
        const res = await fetch(`${stack.url}${MCP}${WELL_KNOWN}`);
        const doc = await res.json();
        assert.equal(doc.resource, "http://127.0.0.2:1/functions/v1/mcp");
        assert.equal("authorization_servers" in doc, false);
        const challenge = await mcpInitialize(stack, "Bearer nope");
        assert.match(
          challenge.headers.get("www-authenticate") ?? "",
          /resource_metadata="http:\/\/127\.0\.0\.2:1\/functions\/v1\/mcp\/\.well-known\/oauth-protected-resource"/,
        );
      }, // A loopback address nothing listens on: PUBLIC_URL also names the webhook target.
      { PUBLIC_URL: "http://127.0.0.2:1/" },
    ),
);

Deno.test("oauth: the public base URL honours proxies but echoes only well-formed hosts", () => {
  const req = (headers: Record<string, string>) =>
    new Request("http://10.0.0.5:8000/mcp", { headers });
  assert.equal(publicBaseUrl({}, req({})), "http://10.0.0.5:8000");
  assert.equal(
    publicBaseUrl({}, req({ "x-forwarded-proto": "https", "x-forwarded-host": "a.example.com" })),
    "https://a.example.com",
  );
  assert.equal(publicBaseUrl({}, req({ host: "b.example.com:8443" })), "http://b.example.com:8443");
  assert.equal(
    publicBaseUrl(
      {},
      req({ "x-forwarded-host": 'evil.com", error="x', "x-forwarded-proto": "gopher" }),
    ),
    "http://10.0.0.5:8000",
  );
  assert.equal(
    publicBaseUrl({ PUBLIC_URL: "https://x.supabase.co/functions/v1/" }, req({})),
    "https://x.supabase.co",
  );
});
