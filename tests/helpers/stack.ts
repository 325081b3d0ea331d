import { loadConfig } from "../../shared/config.ts";
import type { Database } from "../../shared/db/types.ts";
import type { EmbedPipelineOptions } from "../../scripts/local/embed_pipeline.ts";
import { type Stack, startStack } from "../../scripts/local/stack.ts";
import { type Backend, openTestDb } from "./db.ts";
import { newKeyedUser, type TestUser } from "./users.ts";

export type { TestUser };

export interface TestStack extends Stack {
  db: Database;
  backend: Backend;
  /** A new user with a fresh API key (unique email, so tests never collide on a shared DB). */
  newUser(scopes?: ("read" | "write")[]): Promise<TestUser>;
  /** fetch against a function path such as "/functions/v1/memories" with the user's key. */
  api(
    user: TestUser | null,
    path: string,
    init?: RequestInit & { json?: unknown },
  ): Promise<Response>;
}

export interface TestStackOptions {
  embed?: EmbedPipelineOptions;
  adminToken?: string;
  /** The caller's database instead of a new test database; it stays open on close. */
  db?: Database;
  /** A fixed port (e.g. to restart a stack where the last one ran); default: a random one. */
  port?: number;
  /** Supabase Auth's stand-in at /auth/v1 (needs SUPABASE_JWT_SECRET in env). */
  authStandIn?: boolean;
}

/**
 * Starts the embedded stack on a random loopback port over a migrated test database. Its embed
 * webhook serves only its own pool's writes (`defaultTarget: false`), so test processes that
 * share one PostgreSQL never embed each other's memories.
 */
export async function startTestStack(
  backend: Backend,
  env: Record<string, string> = {},
  opts: TestStackOptions = {},
): Promise<TestStack> {
  const db = opts.db ?? await openTestDb(backend);
  const closeDb = () => opts.db ? Promise.resolve() : db.close();
  const config = loadConfig({ EMBEDDING_PROVIDER: "hash", ...env });
  const embed = { defaultTarget: false, ...opts.embed };
  const stack = await startStack({
    config,
    db,
    port: opts.port ?? 0,
    hostname: "127.0.0.1",
    embed,
    adminToken: opts.adminToken,
    authStandIn: opts.authStandIn,
  })
    .catch(async (err) => {
      await closeDb();
      throw err;
    });
  return {
    ...stack,
    db,
    backend,
    newUser: (scopes) => newKeyedUser(db, { scopes }),
    api(user, path, init = {}) {
      const headers = new Headers(init.headers);
      if (user) headers.set("authorization", `Bearer ${user.key}`);
      let body = init.body;
      if (init.json !== undefined) {
        headers.set("content-type", "application/json");
        body = JSON.stringify(init.json);
      }
      return fetch(`${stack.url}${path}`, { ...init, headers, body });
    },
    async close() {
      await stack.close();
      await closeDb();
    },
  };
}

/** Runs fn with a started stack and always closes it. */
export async function withStack(
  backend: Backend,
  fn: (stack: TestStack) => Promise<void>,
  env?: Record<string, string>,
  opts?: TestStackOptions,
): Promise<void> {
  const stack = await startTestStack(backend, env, opts);
  try {
    await fn(stack);
  } finally {
    await stack.close();
  }
}

/** Reads a JSON response and asserts nothing about it; callers assert status and shape. */
export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return await res.json() as T;
}
