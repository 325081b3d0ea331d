/**
 * API keys: REST management (create shows the secret once; list never shows hashes; revoke is
 * immediate and final), scopes, expiry, tampering, and the embedded stack's admin token.
 */
import assert from "node:assert/strict";
import { createApiKey } from "../shared/auth/api_keys.ts";
import { actAsUser } from "../shared/db/as_user.ts";
import { createAdminHandler } from "../scripts/local/admin.ts";
import { assertUnauthorized, mcpInitialize, restList, withToken } from "./helpers/auth.ts";
import { testEachBackend } from "./helpers/db.ts";
import {
  assertError,
  assertToolError,
  call,
  callToolOk,
  MEMORIES,
  withMcp,
} from "./helpers/foundation.ts";
import { withStack } from "./helpers/stack.ts";

const KEYS = `${MEMORIES}/keys`;
const KEY_FIELDS = [
  "created_at",
  "expires_at",
  "id",
  "last_used_at",
  "name",
  "prefix",
  "revoked_at",
  "scopes",
];

interface KeyInfo {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  revoked_at: string | null;
  last_used_at: string | null;
}

testEachBackend(
  "keys: create returns the secret once; list shows metadata only",
  (backend) =>
    withStack(backend, async (stack) => {
      const alice = await stack.newUser();
      const created = await call<{ key: KeyInfo; secret: string }>(stack, alice, "POST", KEYS, {
        name: "ci runner",
        scopes: ["read"],
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.match(created.body.secret, /^cm_[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(Object.keys(created.body.key).sort(), KEY_FIELDS);
      assert.equal(created.body.key.name, "ci runner");
      assert.deepEqual(created.body.key.scopes, ["read"]);
      assert.ok(created.body.secret.startsWith(created.body.key.prefix));

      // The new key works, with exactly its scopes.
      const readOnly = withToken(alice, created.body.secret);
      assert.equal((await restList(stack, `Bearer ${readOnly.key}`)).status, 200);

      const listed = await call<{ keys: KeyInfo[] }>(stack, alice, "GET", KEYS);
      assert.equal(listed.status, 200);
      assert.equal(listed.body.keys.length, 2); // the helper's key and the new one
      const text = JSON.stringify(listed.body);
      assert.ok(!text.includes(created.body.secret), "the secret is never listed");
      assert.ok(!/[0-9a-f]{64}/.test(text), "no hash is listed");
      for (const key of listed.body.keys) assert.deepEqual(Object.keys(key).sort(), KEY_FIELDS);
      const used = listed.body.keys.find((k) => k.id === created.body.key.id)!;
      assert.ok(used.last_used_at, "last_used_at is recorded");

      // Defaults, validation.
      const plain = await call<{ key: KeyInfo }>(stack, alice, "POST", KEYS, {});
      assert.equal(plain.status, 201);
      assert.deepEqual(plain.body.key.scopes, ["read", "write"]);
      assert.equal(plain.body.key.name, "default");
      for (
        const bad of [
          { scopes: ["admin"] },
          { scopes: [] },
          { name: "" },
          { name: "x".repeat(101) },
          { expires_at: "2001-01-01T00:00:00Z" },
          { expires_at: "tomorrow" },
          { key_hash: "0".repeat(64) },
          { user_id: crypto.randomUUID() },
        ]
      ) {
        assertError(await call(stack, alice, "POST", KEYS, bad), 400);
      }
    }),
);

testEachBackend(
  "keys: revoked and expired keys stop working immediately, for good",
  (backend) =>
    withStack(backend, async (stack) => {
      const alice = await stack.newUser();
      const created = await call<{ key: KeyInfo; secret: string }>(stack, alice, "POST", KEYS, {
        name: "laptop",
      });
      const laptop = withToken(alice, created.body.secret);
      assert.equal((await restList(stack, `Bearer ${laptop.key}`)).status, 200);

      const revoked = await call<{ key: KeyInfo }>(
        stack,
        alice,
        "DELETE",
        `${KEYS}/${created.body.key.id}`,
      );
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
      assert.ok(revoked.body.key.revoked_at);
      assertUnauthorized(await restList(stack, `Bearer ${laptop.key}`), {
        invalidToken: true,
        secret: laptop.key,
      });
      assertUnauthorized(await mcpInitialize(stack, `Bearer ${laptop.key}`), {
        invalidToken: true,
        resourceMetadata: true,
        secret: laptop.key,
      });
      // Revoking again is harmless and keeps the first revocation time.
      const again = await call<{ key: KeyInfo }>(
        stack,
        alice,
        "DELETE",
        `${KEYS}/${created.body.key.id}`,
      );
      assert.equal(again.status, 200);
      assert.equal(again.body.key.revoked_at, revoked.body.key.revoked_at);

      // Not even the owner can un-revoke it at the SQL level (supabase-js would do this).
      await assert.rejects(
        stack.db.transaction(async (tx) => {
          await actAsUser(tx, alice.userId);
          await tx.query("update api_keys set revoked_at = null where id = $1", [
            created.body.key.id,
          ]);
        }),
        /stays revoked/,
      );
      assertUnauthorized(await restList(stack, `Bearer ${laptop.key}`), { invalidToken: true });

      // A key past its expiry is refused.
      const { key: expired } = await createApiKey(stack.db, alice.userId, {
        expiresAt: new Date(Date.now() - 1000).toISOString(),
      });
      assertUnauthorized(await restList(stack, `Bearer ${expired}`), { invalidToken: true });
      // A key that works until its expiry passes: the expiry is moved into the past rather than
      // waited for, since the database's clock decides.
      const soon = await call<{ key: { id: string }; secret: string }>(stack, alice, "POST", KEYS, {
        expires_at: new Date(Date.now() + 3600_000).toISOString(),
      });
      assert.equal((await restList(stack, `Bearer ${soon.body.secret}`)).status, 200);
      await stack.db.query(
        "update api_keys set expires_at = now() - interval '1 second' where id = $1",
        [soon.body.key.id],
      );
      assertUnauthorized(await restList(stack, `Bearer ${soon.body.secret}`), {
        invalidToken: true,
      });
    }),
);

testEachBackend(
  "keys: a read-only key reads but cannot write, with a clear message",
  (backend) =>
    withStack(backend, async (stack) => {
      const writer = await stack.newUser();
      const reader = {
        ...writer,
        key: (await createApiKey(stack.db, writer.userId, { scopes: ["read"] })).key,
      };
      const saved = await call<{ memory: { id: string } }>(stack, writer, "POST", MEMORIES, {
        content: "written with the read-write key",
      });
      assert.equal(
        (await call(stack, reader, "GET", `${MEMORIES}/${saved.body.memory.id}`)).status,
        200,
      );
      for (
        const [method, path, body] of [
          ["POST", MEMORIES, { content: "nope" }],
          ["PATCH", `${MEMORIES}/${saved.body.memory.id}`, { title: "nope" }],
          ["DELETE", `${MEMORIES}/${saved.body.memory.id}`, undefined],
          ["POST", KEYS, {}],
          ["POST", `${MEMORIES}/projects`, { name: "nope" }],
        ] as const
      ) {
        assertError(await call(stack, reader, method, path, body), 403, /read-only access/);
      }
      await withMcp(stack, reader, async (client) => {
        await callToolOk(client, "get_memory", { id: saved.body.memory.id });
        await assertToolError(client, "save_memory", { content: "nope" }, /read-only access/);
        await assertToolError(client, "delete_memory", { id: saved.body.memory.id }, /read-only/);
      });
    }),
);

testEachBackend(
  "keys: tampered, truncated and mis-prefixed keys are 401",
  (backend) =>
    withStack(backend, async (stack) => {
      const alice = await stack.newUser();
      const key = alice.key;
      const flip = (c: string) => (c === "A" ? "B" : "A");
      const tampered = [
        key.slice(0, -1) + flip(key.at(-1)!), // last character changed
        key.slice(0, 10) + flip(key[10]) + key.slice(11), // a middle character changed
        key.slice(0, -1), // truncated by one
        key.slice(0, 20), // truncated
        key + "A", // one too many
        "cx_" + key.slice(3), // wrong prefix
        "CM_" + key.slice(3), // wrong case
        key.slice(3), // no prefix
        "cm_",
        "cm_" + "A".repeat(43), // well-formed, unknown
      ];
      for (const token of tampered) {
        assertUnauthorized(await restList(stack, `Bearer ${token}`), {
          invalidToken: true,
          secret: token,
        });
        assertUnauthorized(await mcpInitialize(stack, `Bearer ${token}`), {
          invalidToken: true,
          resourceMetadata: true,
        });
      }
      // Missing or malformed Authorization headers.
      assertUnauthorized(await restList(stack, null), { invalidToken: false });
      assertUnauthorized(await mcpInitialize(stack, null), {
        invalidToken: false,
        resourceMetadata: true,
      });
      for (
        const header of [
          key,
          `Basic ${btoa("a:b")}`,
          "Bearer",
          `Bearer ${key} extra`,
          `Token ${key}`,
        ]
      ) {
        assertUnauthorized(await restList(stack, header), { invalidToken: true });
      }
      // The genuine key still works after all that.
      assert.equal((await restList(stack, `Bearer ${key}`)).status, 200);
    }),
);

testEachBackend(
  "keys: another user's key cannot be listed or revoked",
  (backend) =>
    withStack(backend, async (stack) => {
      const alice = await stack.newUser();
      const mallory = await stack.newUser();
      const [aliceKey] = (await call<{ keys: KeyInfo[] }>(stack, alice, "GET", KEYS)).body.keys;
      const malloryList = await call<{ keys: KeyInfo[] }>(stack, mallory, "GET", KEYS);
      assert.ok(!malloryList.body.keys.some((k) => k.id === aliceKey.id));
      assertError(await call(stack, mallory, "DELETE", `${KEYS}/${aliceKey.id}`), 404);
      assertError(await call(stack, mallory, "DELETE", `${KEYS}/not-a-uuid`), 400);
      const [row] = await stack.db.query("select revoked_at from api_keys where id = $1", [
        aliceKey.id,
      ]);
      assert.equal(row.revoked_at, null);
      assert.equal((await restList(stack, `Bearer ${alice.key}`)).status, 200);
    }),
);

testEachBackend(
  "admin: the loopback admin token is compared exactly",
  (backend) =>
    withStack(backend, async (stack) => {
      const token = crypto.randomUUID();
      const admin = createAdminHandler(stack.db, token);
      const post = (headers: Record<string, string>) =>
        admin(
          new Request("http://127.0.0.1/admin/keys", {
            method: "POST",
            headers: { "content-type": "application/json", ...headers },
            body: JSON.stringify({ email: `admin-${crypto.randomUUID()}@test.local` }),
          }),
        );
      const flip = token.slice(0, -1) + (token.endsWith("a") ? "b" : "a");
      for (const wrong of [flip, token.slice(0, -1), token + "0", "", token.toUpperCase()]) {
        const res = await post({ "x-admin-token": wrong });
        assert.equal(res.status, 401, wrong);
        await res.body?.cancel();
      }
      const missing = await post({});
      assert.equal(missing.status, 401);
      await missing.body?.cancel();
      const ok = await post({ "x-admin-token": token });
      assert.equal(ok.status, 201);
      assert.match((await ok.json()).key, /^cm_/);
    }),
);
