/**
 * Supabase JWTs: HS256 (legacy secret) and ES256/RS256 (signing keys from a local JWKS server),
 * accepted on REST and MCP; every kind of bad token is a 401 with a Bearer challenge.
 */
import assert from "node:assert/strict";
import { assertUnauthorized, mcpInitialize, restList, withToken } from "./helpers/auth.ts";
import { testEachBackend } from "./helpers/db.ts";
import { call, callToolOk, MEMORIES, withMcp } from "./helpers/foundation.ts";
import {
  signHs256,
  startJwksServer,
  TEST_JWT_SECRET,
  unsigned,
  userClaims,
} from "./helpers/jwt.ts";
import { withStack } from "./helpers/stack.ts";

const now = () => Math.floor(Date.now() / 1000);

testEachBackend(
  "jwt: HS256 session tokens work on REST and MCP, as the token's user",
  (backend) =>
    withStack(backend, async (stack) => {
      const alice = await stack.newUser();
      const token = await signHs256(userClaims(alice.userId));
      const saved = await call<{ memory: { id: string; user_id: string } }>(
        stack,
        withToken(alice, token),
        "POST",
        MEMORIES,
        { content: "JWT-authenticated save", tags: ["jwt"] },
      );
      assert.equal(saved.status, 201, JSON.stringify(saved.body));
      assert.equal(saved.body.memory.user_id, alice.userId);

      // The same user with an API key sees the memory: one identity, two credentials.
      const listed = await call<{ memories: { id: string }[] }>(stack, alice, "GET", MEMORIES);
      assert.deepEqual(listed.body.memories.map((m) => m.id), [saved.body.memory.id]);

      await withMcp(stack, withToken(alice, token), async (client) => {
        const result = await callToolOk(client, "get_memory", { id: saved.body.memory.id });
        assert.match(result.text, /JWT-authenticated save/);
        // JWT principals may write (their project roles still apply).
        await callToolOk(client, "save_memory", { content: "saved over MCP with a JWT" });
      });

      // A verified subject unknown to the embedded stack is created on first use.
      const stranger = crypto.randomUUID();
      const r = await call(
        stack,
        withToken(alice, await signHs256(userClaims(stranger))),
        "POST",
        MEMORIES,
        { content: "first request of a new Supabase user" },
      );
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const [row] = await stack.db.query("select id from auth.users where id = $1", [stranger]);
      assert.ok(row, "the JWT's user was provisioned");
    }, { SUPABASE_JWT_SECRET: TEST_JWT_SECRET }),
);

testEachBackend("jwt: signing keys from the project's JWKS (ES256, RS256), fetched once", async (
  backend,
) => {
  await using jwks = await startJwksServer();
  await withStack(backend, async (stack) => {
    const user = await stack.newUser();
    for (const alg of ["ES256", "RS256"] as const) {
      const token = await jwks.sign(alg, userClaims(user.userId, { iss: jwks.issuer }));
      const r = await restList(stack, `Bearer ${token}`);
      assert.equal(r.status, 200, `${alg}: ${JSON.stringify(r.body)}`);
      const m = await mcpInitialize(stack, `Bearer ${token}`);
      assert.equal(m.status, 200, `${alg} over MCP: ${JSON.stringify(m.body)}`);
    }
    for (let i = 0; i < 5; i++) {
      const token = await jwks.sign("ES256", userClaims(user.userId, { iss: jwks.issuer }));
      assert.equal((await restList(stack, `Bearer ${token}`)).status, 200);
    }
    assert.equal(jwks.fetches, 1, "the key set is fetched once and cached");
    // Without the legacy secret, HS256 tokens are refused outright.
    const hs = await signHs256(userClaims(user.userId, { iss: jwks.issuer }));
    const r = await restList(stack, `Bearer ${hs}`);
    assertUnauthorized(r, { invalidToken: true, secret: hs });
    assert.match(JSON.stringify(r.body), /HS256 are not accepted/);
  }, { SUPABASE_URL: jwks.url });
});

testEachBackend(
  "jwt: expired, forged, wrong-audience/role/issuer, alg none and malformed tokens are 401",
  async (backend) => {
    {
      await using jwks = await startJwksServer();
      await withStack(backend, async (stack) => {
        const user = await stack.newUser();
        const good = (extra = {}) => userClaims(user.userId, { iss: jwks.issuer, ...extra });
        const { exp: _, ...noExp } = good();
        // A valid header and signature around the payload of another user's token.
        const mine = (await signHs256(good())).split(".");
        const theirs = (await signHs256(userClaims(crypto.randomUUID()))).split(".");
        const swapped = [mine[0], theirs[1], mine[2]].join(".");

        const accepted: [string, string][] = [
          ["HS256", await signHs256(good())],
          ["ES256", await jwks.sign("ES256", good())],
          ["expired within the clock tolerance", await signHs256(good({ exp: now() - 10 }))],
          [
            "audience list containing authenticated",
            await signHs256(good({ aud: ["x", "authenticated"] })),
          ],
        ];
        for (const [name, token] of accepted) {
          assert.equal((await restList(stack, `Bearer ${token}`)).status, 200, name);
        }

        const rejected: [string, string, RegExp][] = [
          ["expired", await signHs256(good({ exp: now() - 120 })), /expired/],
          [
            "wrong secret",
            await signHs256(good(), "another-secret-another-secret-another!"),
            /signature/,
          ],
          [
            "untrusted ES256 key",
            await jwks.sign("ES256", good(), { untrusted: true }),
            /signature/,
          ],
          [
            "untrusted RS256 key",
            await jwks.sign("RS256", good(), { untrusted: true }),
            /signature/,
          ],
          ["unknown kid", await jwks.sign("ES256", good(), { kid: "rotated-away" }), /unknown key/],
          ["wrong audience", await signHs256(good({ aud: "anon" })), /aud/],
          ["no audience", await signHs256(good({ aud: undefined })), /aud/],
          ["anon role", await signHs256(good({ role: "anon" })), /role/],
          ["service_role", await signHs256(good({ role: "service_role" })), /role/],
          ["wrong issuer", await signHs256(good({ iss: "https://evil.example/auth/v1" })), /iss/],
          ["no expiry", await signHs256(noExp), /exp/],
          ["not yet valid", await signHs256(good({ nbf: now() + 600 })), /nbf/],
          ["subject not a user id", await signHs256(good({ sub: "service" })), /subject/],
          ["alg none", unsigned(good()), /not allowed|not accepted/],
          ["alg none, signature kept", unsigned(good()) + "c2ln", /not allowed|not accepted/],
          ["malformed", "not-a-jwt", /Malformed/],
          ["three garbage parts", "abc.def.ghi", /Malformed/],
          ["header only", (await signHs256(good())).split(".")[0], /Malformed|invalid/],
          ["payload swapped", swapped, /signature/],
        ];

        for (const [name, token, reason] of rejected) {
          const rest = await restList(stack, `Bearer ${token}`);
          assertUnauthorized(rest, { invalidToken: true, secret: token });
          assert.match(
            String((rest.body as { error: { message: string } }).error.message),
            reason,
            name,
          );
          const mcp = await mcpInitialize(stack, `Bearer ${token}`);
          assertUnauthorized(mcp, { invalidToken: true, resourceMetadata: true, secret: token });
        }
      }, { SUPABASE_URL: jwks.url, SUPABASE_JWT_SECRET: TEST_JWT_SECRET });
    }
  },
);

testEachBackend(
  "jwt: without SUPABASE_URL or a secret only API keys are accepted",
  (backend) =>
    withStack(backend, async (stack) => {
      const user = await stack.newUser();
      const token = await signHs256(userClaims(user.userId));
      assertUnauthorized(await restList(stack, `Bearer ${token}`), { invalidToken: true });
      assert.equal((await restList(stack, `Bearer ${user.key}`)).status, 200);
    }),
);

testEachBackend(
  "jwt: with only the legacy secret, asymmetric tokens are refused",
  async (backend) => {
    await using jwks = await startJwksServer();
    await withStack(backend, async (stack) => {
      const user = await stack.newUser();
      const token = await jwks.sign("ES256", userClaims(user.userId));
      const r = await restList(stack, `Bearer ${token}`);
      assertUnauthorized(r, { invalidToken: true, secret: token });
      assert.match(JSON.stringify(r.body), /ES256 are not accepted/);
      assert.equal(jwks.fetches, 0);
    }, { SUPABASE_JWT_SECRET: TEST_JWT_SECRET });
  },
);

testEachBackend("jwt: an unreachable key set is a 503, not a 401", async (backend) => {
  const jwks = await startJwksServer();
  const token = await jwks.sign("ES256", userClaims(crypto.randomUUID(), { iss: jwks.issuer }));
  await jwks.close(); // nothing listens there any more
  await withStack(backend, async (stack) => {
    const r = await restList(stack, `Bearer ${token}`);
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.doesNotMatch(JSON.stringify(r.body), /127\.0\.0\.1|ECONNREFUSED|fetch/i);
  }, { SUPABASE_URL: jwks.url });
});
