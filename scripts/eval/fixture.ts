/**
 * Puts an evaluation set into a database the way real data gets there: one user saving through
 * MemoryService (validation, projects, RLS, the fts column), then the embed worker's own code
 * writing each provider's vectors with the privileged connection.
 */
import { ensureUser } from "../../shared/auth/api_keys.ts";
import type { Database } from "../../shared/db/types.ts";
import { embedMemories } from "../../shared/embed/worker.ts";
import type { ChunkOptions } from "../../shared/embeddings/chunks.ts";
import type { EmbeddingProvider } from "../../shared/embeddings/types.ts";
import type { EvalMemory, EvalQuery } from "../../shared/eval/dataset.ts";
import { MemoryService } from "../../shared/memory/service.ts";
import type { DeepRun } from "./floor.ts";
import type { QueryRun } from "./search.ts";

export interface Fixture {
  userId: string;
  service: MemoryService;
  /** Eval id → row id, and back. */
  rowId: Map<string, string>;
  evalId: Map<string, string>;
}

/** Creates a fresh user (unique email: the database may be shared) and saves every memory. */
export async function loadFixture(db: Database, memories: EvalMemory[]): Promise<Fixture> {
  const userId = await ensureUser(db, `eval-${crypto.randomUUID()}@eval.local`);
  const service = new MemoryService(db);
  const projects = new Set(memories.flatMap((m) => (m.project ? [m.project] : [])));
  for (const slug of projects) {
    await service.createProject(userId, { name: slug, slug });
  }
  const rowId = new Map<string, string>();
  const evalId = new Map<string, string>();
  for (const { id, ...input } of memories) {
    const { memory, duplicate } = await service.save(userId, input);
    if (duplicate) throw new Error(`memory ${id} duplicates an earlier one in its project`);
    rowId.set(id, memory.id);
    evalId.set(memory.id, id);
  }
  return { userId, service, rowId, evalId };
}

/** (Re)embeds every memory with `provider`; the search then compares only this model's rows. */
export async function embedFixture(
  db: Database,
  fixture: Fixture,
  provider: EmbeddingProvider,
  chunks?: ChunkOptions,
): Promise<void> {
  const ids = [...fixture.rowId.values()];
  // The worker skips rows that are ready under any model, so switching models is a backfill:
  // mark them pending first.
  await db.query(
    `update public.memories set embedding = null, embedding_model = null,
       embedding_status = 'pending' where id = any($1::uuid[])`,
    [ids],
  );
  const outcome = await embedMemories(db, provider, ids, { chunks });
  if (outcome.error || outcome.embedded.length !== ids.length) {
    throw new Error(
      `embedding with ${provider.model} failed: ${outcome.error ?? ""} ` +
        `(${outcome.embedded.length}/${ids.length} embedded)`,
    );
  }
}

/** Removes the user and, by cascade, everything it saved (for a shared PostgreSQL). */
export async function dropFixture(db: Database, fixture: Fixture): Promise<void> {
  await db.query("delete from auth.users where id = $1", [fixture.userId]);
}

/**
 * How lexical each query is: the share of its stemmed words (to_tsvector 'english', the
 * keyword side's own analysis) that occur in its best-matching grade-2 memory, 0..1. A real
 * paraphrase shares few; a keyword query nearly all.
 */
export async function lexicalOverlap(
  db: Database,
  fixture: Fixture,
  queries: EvalQuery[],
): Promise<number[]> {
  const out: number[] = [];
  for (const q of queries) {
    const answers = Object.entries(q.relevant).filter(([, g]) => g >= 2)
      .map(([id]) => fixture.rowId.get(id));
    const [row] = await db.query<{ share: number | null }>(
      `select max(shared::float / nullif(total, 0)) as share
       from (select m.id,
               count(*) filter (where ql = any (tsvector_to_array(m.fts))) as shared,
               count(*) as total
             from public.memories m,
                  unnest(tsvector_to_array(to_tsvector('english', $1))) as ql
             where m.id = any ($2::uuid[])
             group by m.id) per_answer`,
      [q.query, answers],
    );
    out.push(row?.share ?? 0);
  }
  return out;
}

/** Each keyword hit's share of its query's terms (private.term_coverage, as the RPC's floor). */
export async function addCoverage(
  db: Database,
  fixture: Fixture,
  queries: EvalQuery[],
  runs: QueryRun[],
): Promise<DeepRun[]> {
  const out: DeepRun[] = [];
  for (const [i, run] of runs.entries()) {
    const ids = run.ranking.map((id) => fixture.rowId.get(id));
    const rows = await db.query<{ id: string; coverage: number | null }>(
      `select m.id, private.term_coverage(m.fts, $1) as coverage
       from public.memories m where m.id = any($2::uuid[])`,
      [queries[i].query, ids],
    );
    const coverage = new Map(rows.map((r) => [r.id, r.coverage]));
    out.push({
      ...run,
      coverage: ids.map((id, j) => (run.keyword[j] ? Number(coverage.get(id!) ?? 0) : null)),
    });
  }
  return out;
}
