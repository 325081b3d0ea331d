/**
 * After a soak: is every acknowledged write stored, with the content last acknowledged, and
 * embedded for that content? With hash embeddings the expected vector is known exactly, so a
 * vector computed for an older version of the text (a lost race) is caught too.
 */
import type { Database } from "../../shared/db/types.ts";
import { embeddingText } from "../../shared/embed/worker.ts";
import { HASH_MODEL, hashEmbed } from "../../shared/embeddings/hash.ts";

const BATCH = 500;
/** Vectors are stored as float4. */
const FLOAT4_EPSILON = 1e-6;

/** Checks `expected` (id → content); returns one line per problem (at most `maxProblems`). */
export async function verifySaved(
  db: Database,
  expected: Map<string, string>,
  maxProblems = 10,
): Promise<string[]> {
  const problems: string[] = [];
  const report = (line: string) => problems.length < maxProblems && problems.push(line);
  const ids = [...expected.keys()];
  for (let start = 0; start < ids.length; start += BATCH) {
    const batch = ids.slice(start, start + BATCH);
    const rows = await db.query<
      { id: string; title: string | null; content: string; model: string; vector: string | null }
    >(
      `select id, title, content, embedding_model as model, embedding::text as vector
       from public.memories where id = any($1::uuid[])`,
      [batch],
    );
    const found = new Map(rows.map((r) => [r.id, r]));
    for (const id of batch) {
      const row = found.get(id);
      if (!row) {
        report(`memory ${id} was acknowledged but is missing`);
      } else if (row.content !== expected.get(id)) {
        report(`memory ${id} holds other content than the last acknowledged`);
      } else if (!row.vector || row.model !== HASH_MODEL) {
        report(`memory ${id} is not embedded (model ${row.model})`);
      } else {
        const want = hashEmbed(embeddingText(row));
        const got: number[] = JSON.parse(row.vector);
        if (got.some((x, i) => Math.abs(x - want[i]) > FLOAT4_EPSILON)) {
          report(`memory ${id} has an embedding of other text than its current content`);
        }
      }
    }
  }
  return problems;
}
