/** Raw requests with arbitrary credentials, for the auth and security tests. */
import assert from "node:assert/strict";
import { MCP, MEMORIES, type Reply, reply } from "./foundation.ts";
import type { TestStack, TestUser } from "./stack.ts";

/** The same user, authenticating with another bearer token (a JWT, a tampered key, …). */
export const withToken = (user: TestUser, token: string): TestUser => ({ ...user, key: token });

/** A raw MCP initialize request body, for tests that post to the endpoint without the SDK. */
export const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "raw-tests", version: "1" },
  },
});

/** An MCP initialize request with the given Authorization header value (or none). */
export async function mcpInitialize(
  stack: TestStack,
  authorization: string | null,
  body: BodyInit = INITIALIZE,
): Promise<Reply> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  };
  if (authorization !== null) headers.authorization = authorization;
  return await reply(await fetch(`${stack.url}${MCP}`, { method: "POST", headers, body }));
}

/** GET /memories with the given Authorization header value (or none). */
export async function restList(stack: TestStack, authorization: string | null): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (authorization !== null) headers.authorization = authorization;
  return await reply(await fetch(`${stack.url}${MEMORIES}`, { headers }));
}

/**
 * Asserts a 401 in our error shape with a Bearer challenge; `invalidToken` when a credential was
 * sent (RFC 6750 error="invalid_token"), `resourceMetadata` for the mcp function (RFC 9728).
 */
export function assertUnauthorized(
  r: Reply,
  opts: { invalidToken: boolean; resourceMetadata?: boolean; secret?: string },
): void {
  const detail = `${r.status} ${JSON.stringify(r.body)} ${r.headers.get("www-authenticate")}`;
  assert.equal(r.status, 401, detail);
  assert.equal((r.body as { error?: { code?: string } }).error?.code, "unauthorized", detail);
  const challenge = r.headers.get("www-authenticate") ?? "";
  assert.match(challenge, /^Bearer /, detail);
  assert.equal(/error="invalid_token"/.test(challenge), opts.invalidToken, detail);
  if (opts.resourceMetadata) {
    assert.match(
      challenge,
      /resource_metadata="http:\/\/[^"]+\/functions\/v1\/mcp\/\.well-known\/oauth-protected-resource"/,
      detail,
    );
  }
  if (opts.secret && opts.secret.length > 20) {
    // The credential itself is never echoed back.
    assert.ok(!JSON.stringify(r.body).includes(opts.secret.slice(10)), detail);
    assert.ok(!challenge.includes(opts.secret.slice(10)), detail);
  }
}
