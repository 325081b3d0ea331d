/**
 * `deno task bench search_filter [--rows 20000] [--runs 200] [--backends postgres,pglite]`: what
 * fixing private.search_filter's search_path would cost (Supabase's advisor flags its mutable
 * one; docs/security.md). PostgreSQL inlines a SQL function into the calling query only when it
 * has no `set` clause, so the two variants are: as migrated (inlined into both retrieval sides)
 * and with `set search_path = ''` (called per row). Same data and queries; the variants
 * alternate in blocks of 20 queries, so a busy machine weighs on both alike.
 */
import { parseArgs } from "node:util";
import { asUser } from "../../shared/db/as_user.ts";
import type { Database } from "../../shared/db/types.ts";
import { hashEmbed } from "../../shared/embeddings/hash.ts";
import { searchRpc, type SearchRpcArgs } from "../../shared/search/rpc.ts";
import { openBenchDb, parseBackends } from "./lib/bench_stack.ts";
import { generateQueries } from "./lib/code_memory_generator.ts";
import { type BenchData, loadBenchData } from "./lib/load_memories.ts";
import { summarize } from "./lib/stats.ts";

const FILTER = `private.search_filter(public.memories, uuid[], text[], text[], text, timestamptz,
  timestamptz, text, text)`;
const VARIANTS = {
  inlined: `alter function ${FILTER} reset search_path`,
  "fixed search_path": `alter function ${FILTER} set search_path = ''`,
};
const BLOCK = 20;

/** Searches as the RPC is called: no filter, a project and kinds, tags. */
const SEARCHES: Record<string, (data: BenchData) => Partial<SearchRpcArgs>> = {
  "hybrid": () => ({ mode: "hybrid" }),
  "hybrid + project + kinds": (data) => ({
    mode: "hybrid",
    project_ids: [data.projectIds[3]],
    kinds: ["bug", "decision", "solution"],
  }),
  "keyword + tags": () => ({ mode: "keyword", tags: ["postgres", "convention"] }),
};

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      rows: { type: "string", default: "20000" },
      runs: { type: "string", default: "200" },
      backends: { type: "string" },
    },
  });
  const databaseUrl = Deno.env.get("DATABASE_URL");
  const runs = Number(values.runs);
  for (const backend of parseBackends(values.backends, databaseUrl)) {
    const { db, close } = await openBenchDb(backend, databaseUrl, "search_filter");
    try {
      const data = await loadBenchData(db, Number(values.rows));
      console.log(`\n== ${backend}, ${data.rows} memories, ${runs} searches per cell (ms)`);
      console.log("search | variant | p50 | p95 | mean");
      for (const [name, search] of Object.entries(SEARCHES)) {
        const samples = await alternate(db, data, search(data), runs);
        for (const [variant, ms] of Object.entries(samples)) {
          const l = summarize(ms);
          console.log(`${name} | ${variant} | ${l.p50} | ${l.p95} | ${l.mean}`);
        }
      }
      await db.exec(VARIANTS.inlined);
    } finally {
      await close();
    }
  }
}

async function alternate(
  db: Database,
  data: BenchData,
  search: Partial<SearchRpcArgs>,
  runs: number,
): Promise<Record<string, number[]>> {
  const queries = generateQueries(BLOCK);
  const vectors = queries.map(hashEmbed);
  const samples: Record<string, number[]> = Object.fromEntries(
    Object.keys(VARIANTS).map((v) => [v, []]),
  );
  for (let done = 0; done < runs + BLOCK; done += BLOCK) {
    for (const [variant, ddl] of Object.entries(VARIANTS)) {
      await db.exec(ddl);
      for (let i = 0; i < BLOCK; i++) {
        const started = performance.now();
        await asUser(db, data.userId, (tx) =>
          searchRpc(tx, {
            query_text: queries[i],
            query_embedding: vectors[i],
            embedding_model: data.model,
            match_count: 10,
            ...search,
          }));
        // The first block of each variant warms it up and is not counted.
        if (done > 0) samples[variant].push(performance.now() - started);
      }
    }
  }
  return samples;
}
