/**
 * `deno task key create` against a Supabase project (SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY):
 * the CLI, run as a process, finds the user through Supabase Auth's Admin API (paging its list),
 * invites them or (--confirmed) creates them, and stores the key through the Data API, all
 * against a local server that speaks those endpoints over the test database. It never opens the
 * database itself (DATABASE_URL points nowhere), never prints the service-role key, and the key
 * it prints works against the stack.
 */
import assert from "node:assert/strict";
import { testEachBackend } from "./helpers/db.ts";
import { startFakeSupabaseAdmin } from "./helpers/fake_supabase_admin.ts";
import { type TestStack, withStack } from "./helpers/stack.ts";

const SERVICE_ROLE_KEY = `service-role-${crypto.randomUUID()}`;
const ROOT = new URL("..", import.meta.url).pathname;
const KEY_LINE = /\n(cm_[A-Za-z0-9_-]{43})\n$/;

async function keyCreate(supabaseUrl: string, serviceRoleKey: string, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/cli.ts", "key", "create", ...args],
    cwd: ROOT,
    env: {
      SUPABASE_URL: supabaseUrl,
      SUPABASE_SERVICE_ROLE_KEY: serviceRoleKey,
      // A database the CLI must not need: nothing listens there.
      DATABASE_URL: "postgres://nobody@127.0.0.1:1/nowhere",
      CODEMEMORY_DATA_DIR: "/nonexistent",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** The key's user, as the functions see it (their projects list answers only with a valid key). */
async function keyWorks(stack: TestStack, key: string): Promise<number> {
  const res = await fetch(`${stack.url}/functions/v1/memories/projects`, {
    headers: { authorization: `Bearer ${key}` },
  });
  await res.body?.cancel();
  return res.status;
}

const unique = (label: string) => `${label}-${crypto.randomUUID()}@test.local`;

testEachBackend(
  "key create on Supabase: an existing user is found through the Admin API",
  async (backend) => {
    await withStack(backend, async (stack) => {
      await using auth = startFakeSupabaseAdmin(stack.db, {
        serviceRoleKey: SERVICE_ROLE_KEY,
        perPage: 2,
      });
      for (let i = 0; i < 4; i++) await auth.addUser(unique("other"));
      const email = unique("Lead");
      const existing = await auth.addUser(email);

      const run = await keyCreate(auth.url, SERVICE_ROLE_KEY, "--email", email, "--name", "ci");
      assert.equal(run.code, 0, run.stderr);
      assert.match(
        run.stdout,
        new RegExp(
          `^Created API key 'ci' for ${email.toLowerCase()} \\(user ${existing.id}\\)\\.\n`,
        ),
      );
      const key = run.stdout.match(KEY_LINE)![1];
      assert.equal(await keyWorks(stack, key), 200);

      // Paged through the list (3 pages of 2, the user on the third), nothing created or sent.
      assert.deepEqual(
        auth.requests.map((r) => `${r.method} ${r.path}${r.query}`),
        [
          "GET /auth/v1/admin/users?page=1&per_page=1000",
          "GET /auth/v1/admin/users?page=2&per_page=1000",
          "GET /auth/v1/admin/users?page=3&per_page=1000",
          "POST /rest/v1/api_keys?select=id%2Cname",
        ],
      );
      assert.deepEqual(auth.invited, []);
      const [stored] = await stack.db.query(
        "select user_id, name, scopes from public.api_keys where prefix = $1",
        [key.slice(0, 10)],
      );
      assert.deepEqual(stored, { user_id: existing.id, name: "ci", scopes: ["read", "write"] });
      // Every call carried the service-role key; the output never shows it.
      for (const r of auth.requests) {
        assert.equal(r.apikey, SERVICE_ROLE_KEY);
        assert.equal(r.authorization, `Bearer ${SERVICE_ROLE_KEY}`);
      }
      assert.doesNotMatch(run.stdout + run.stderr, new RegExp(SERVICE_ROLE_KEY));
    });
  },
  { sanitizeResources: false, sanitizeOps: false },
);

testEachBackend(
  "key create on Supabase: a new user is invited, or created confirmed",
  async (backend) => {
    await withStack(backend, async (stack) => {
      await using auth = startFakeSupabaseAdmin(stack.db, { serviceRoleKey: SERVICE_ROLE_KEY });
      const invitee = unique("new");
      const invited = await keyCreate(auth.url, SERVICE_ROLE_KEY, "--email", invitee);
      assert.equal(invited.code, 0, invited.stderr);
      assert.match(invited.stdout, /Supabase Auth emailed them an invitation to set a password/);
      assert.deepEqual(auth.invited, [invitee]);
      const invite = auth.requests.find((r) => r.path === "/auth/v1/invite")!;
      assert.equal(invite.body?.email, invitee);
      assert.equal(await keyWorks(stack, invited.stdout.match(KEY_LINE)![1]), 200);

      const bot = unique("bot");
      const created = await keyCreate(auth.url, SERVICE_ROLE_KEY, "--email", bot, "--confirmed");
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stdout, /Created in Supabase Auth with the address confirmed/);
      const create = auth.requests.find((r) =>
        r.path === "/auth/v1/admin/users" && r.method === "POST"
      )!;
      assert.deepEqual(create.body, { email: bot, email_confirm: true });
      assert.deepEqual(auth.invited, [invitee], "no email for --confirmed");
      assert.equal(await keyWorks(stack, created.stdout.match(KEY_LINE)![1]), 200);

      // Running again for the invited user finds them: one user per address.
      const again = await keyCreate(auth.url, SERVICE_ROLE_KEY, "--email", invitee);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(auth.invited, [invitee]);
      const [{ n }] = await stack.db.query<{ n: number }>(
        "select count(*)::int as n from auth.users where email = $1",
        [invitee],
      );
      assert.equal(n, 1);
    });
  },
  { sanitizeResources: false, sanitizeOps: false },
);

Deno.test("key create on Supabase: a wrong service-role key is a clear error, not echoed", async () => {
  await withStack("pglite", async (stack) => {
    await using auth = startFakeSupabaseAdmin(stack.db, { serviceRoleKey: SERVICE_ROLE_KEY });
    const wrong = `wrong-${crypto.randomUUID()}`;
    const run = await keyCreate(auth.url, wrong, "--email", unique("x"));
    assert.equal(run.code, 1);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /^error: Supabase Auth would not list users: Invalid API key/);
    assert.doesNotMatch(run.stdout + run.stderr, new RegExp(wrong));
    assert.deepEqual(auth.requests.map((r) => r.path), ["/auth/v1/admin/users"]);
  });
});
