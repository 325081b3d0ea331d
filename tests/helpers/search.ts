/**
 * Search test helpers: the code-memory fixture loaded for a fresh user, vectors written the way
 * the embed worker writes them, MiniLM vectors computed once per test process, and the RPC
 * called as a user exactly as PostgREST would.
 */
import { asUser } from "../../shared/db/as_user.ts";
import type { Database } from "../../shared/db/types.ts";
import { EMBEDDING_DIMENSIONS } from "../../shared/embeddings/types.ts";
import { embeddingText, toVectorLiteral } from "../../shared/embed/worker.ts";
import { defaultProject } from "../../shared/memory/projects.ts";
import { MemoryService } from "../../shared/memory/service.ts";
import { MiniLMEmbeddingProvider } from "../../scripts/local/embeddings/minilm.ts";
import { searchRpc, type SearchRpcArgs } from "../../shared/search/rpc.ts";
import type { SearchHit } from "../../shared/search/types.ts";
import { CODE_MEMORIES, type FixtureMemory } from "../fixtures/code_memories.ts";
import { newTestUser } from "./users.ts";

export interface LoadedFixture {
  userId: string;
  /** Project slug → id. */
  projects: Map<string, string>;
  /** Fixture id → row id, and back. */
  rowId: Map<string, string>;
  fixtureId: Map<string, string>;
}

/** Saves the fixture as a fresh user through MemoryService (so as the user, under RLS). */
export async function loadCodeMemories(
  db: Database,
  memories: FixtureMemory[] = CODE_MEMORIES,
): Promise<LoadedFixture> {
  const userId = await newTestUser(db, "search");
  const service = new MemoryService(db);
  const projects = new Map<string, string>();
  for (const slug of new Set(memories.map((m) => m.project))) {
    projects.set(slug, (await service.createProject(userId, { name: slug, slug })).id);
  }
  const rowId = new Map<string, string>();
  const fixtureId = new Map<string, string>();
  for (const { id, ...input } of memories) {
    const { memory } = await service.save(userId, input);
    rowId.set(id, memory.id);
    fixtureId.set(memory.id, id);
  }
  return { userId, projects, rowId, fixtureId };
}

/** Stores a vector as the embed worker does (privileged connection, status ready). */
export async function setEmbedding(
  db: Database,
  id: string,
  vector: number[],
  model: string,
): Promise<void> {
  await db.query(
    `update public.memories set embedding = $2::extensions.vector, embedding_model = $3,
       embedding_status = 'ready', embedded_at = now() where id = $1`,
    [id, toVectorLiteral(vector), model],
  );
}

/** Writes `vectors[i]` for the fixture memory `memories[i]`. */
export async function embedFixture(
  db: Database,
  fixture: LoadedFixture,
  memories: FixtureMemory[],
  vectors: number[][],
  model: string,
): Promise<void> {
  for (const [i, m] of memories.entries()) {
    await setEmbedding(db, fixture.rowId.get(m.id)!, vectors[i], model);
  }
}

const local = new MiniLMEmbeddingProvider();
const localCache = new Map<string, Promise<number[]>>();

/** MiniLM vectors, each text embedded once per test process (the model loads once too). */
export async function localVectors(texts: string[]): Promise<number[][]> {
  const missing = [...new Set(texts.filter((t) => !localCache.has(t)))];
  if (missing.length) {
    const batch = local.embed(missing);
    missing.forEach((t, i) => localCache.set(t, batch.then((v) => v[i])));
  }
  return await Promise.all(texts.map((t) => localCache.get(t)!));
}
export const LOCAL_MODEL = local.model;

/** The fixture's memories as the embed worker would embed them (chunk 0), with MiniLM. */
export const localFixtureVectors = (memories: FixtureMemory[] = CODE_MEMORIES) =>
  localVectors(memories.map(embeddingText));

/** public.search_memories as `userId` (role authenticated + JWT claims, like PostgREST). */
export function searchAs(db: Database, userId: string, args: SearchRpcArgs): Promise<SearchHit[]> {
  return asUser(db, userId, (tx) => searchRpc(tx, args));
}

/** A unit vector whose cosine similarity with axis 0 is exactly `similarityToAxis0`. */
export function unitVector(similarityToAxis0: number, otherAxis = 1): number[] {
  const v = new Array<number>(EMBEDDING_DIMENSIONS).fill(0);
  v[0] = similarityToAxis0;
  v[otherAxis] = Math.sqrt(1 - similarityToAxis0 ** 2);
  return v;
}

/**
 * A memory that stays pending embedding. Saved normally, its insert webhook could reach another
 * test process's embed relay on the shared PostgreSQL and get it embedded. Inserted as 'ready'
 * (no webhook) and set back to 'pending' by a privileged update (no webhook either: only
 * content changes send one) instead.
 */
export async function savePendingMemory(
  db: Database,
  userId: string,
  content: string,
): Promise<string> {
  const id = await asUser(db, userId, async (tx) => {
    const project = await defaultProject(tx, userId);
    const [row] = await tx.query<{ id: string }>(
      `insert into public.memories (user_id, project_id, content, embedding_status)
       values ($1, $2, $3, 'ready') returning id`,
      [userId, project.id, content],
    );
    return row.id;
  });
  await db.query("update public.memories set embedding_status = 'pending' where id = $1", [id]);
  return id;
}
