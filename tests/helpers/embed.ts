/**
 * Helpers for the embedding webhook tests: a test database, a user with a project, and a row's
 * embedding state.
 */
import assert from "node:assert/strict";
import { asUser } from "../../shared/db/as_user.ts";
import type { Database } from "../../shared/db/types.ts";
import { MemoryService } from "../../shared/memory/service.ts";
import { type Backend, openTestDb } from "./db.ts";
import { newTestUser } from "./users.ts";
import { waitFor } from "./wait.ts";

/** A migrated test database, closed afterwards. */
export async function withWebhookDb(
  backend: Backend,
  fn: (db: Database) => Promise<void>,
): Promise<void> {
  const db = await openTestDb(backend);
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

export interface Writer {
  userId: string;
  projectId: string;
  /** Saves one memory as the user (one INSERT statement); returns its id. */
  save(content: string, title?: string): Promise<string>;
  /** Inserts several memories in ONE statement, as the user; returns their ids. */
  insertMany(contents: string[]): Promise<string[]>;
}

/** A fresh user (random email) with a project of their own. */
export async function newWriter(db: Database): Promise<Writer> {
  const userId = await newTestUser(db, "embed");
  const service = new MemoryService(db);
  const project = await service.createProject(userId, { name: "embed", slug: "embed" });
  return {
    userId,
    projectId: project.id,
    async save(content, title) {
      const { memory } = await service.save(userId, { content, title, project: project.slug });
      return memory.id;
    },
    async insertMany(contents) {
      return await asUser(db, userId, async (tx) =>
        (await tx.query<{ id: string }>(
          `insert into memories (user_id, project_id, content)
           select $1, $2, c from unnest($3::text[]) as c returning id`,
          [userId, project.id, contents],
        )).map((r) => r.id));
    },
  };
}

export interface EmbeddingState {
  status: string;
  model: string | null;
  attempts: number;
  error: string | null;
  embeddedAt: string | null;
  contentHash: string;
  vector: number[] | null;
}

/** A memory's embedding columns, read with the privileged connection. */
export async function embeddingState(db: Database, id: string): Promise<EmbeddingState> {
  const [row] = await db.query<Record<string, unknown>>(
    `select embedding_status, embedding_model, embedding_attempts, embedding_error,
       embedded_at::text as embedded_at, content_hash, embedding::text as vector
     from public.memories where id = $1`,
    [id],
  );
  assert.ok(row, `memory ${id} exists`);
  return {
    status: String(row.embedding_status),
    model: row.embedding_model as string | null,
    attempts: Number(row.embedding_attempts),
    error: row.embedding_error as string | null,
    embeddedAt: row.embedded_at as string | null,
    contentHash: String(row.content_hash),
    vector: row.vector ? JSON.parse(row.vector as string) : null,
  };
}

/** Stored vectors are float4: equal to what the provider returned within float precision. */
export function assertSameVector(actual: number[] | null, expected: number[]): void {
  assert.ok(actual, "an embedding is stored");
  assert.equal(actual.length, expected.length);
  const worst = Math.max(...actual.map((x, i) => Math.abs(x - expected[i])));
  assert.ok(worst < 1e-6, `vectors differ by up to ${worst}`);
}

/**
 * Waits until the webhook has embedded these memories. Stacks embed every save in the
 * background, so a test that searches semantically, or overwrites embedding columns itself,
 * should wait for this first to be deterministic.
 */
export async function waitForEmbeddings(db: Database, ids: string[], timeoutMs = 10_000) {
  await waitFor(async () => {
    const [{ pending }] = await db.query<{ pending: number }>(
      `select count(*)::int as pending from public.memories
       where id = any($1::uuid[]) and embedding_status <> 'ready'`,
      [ids],
    );
    return pending === 0;
  }, { timeoutMs, message: `embeddings of ${ids.length} memories` });
}
