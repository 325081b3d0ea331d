/**
 * `deno task bench planner_stats [--rows 10000] [--runs 200]`: what PGlite's missing autovacuum
 * costs search, and what the embedded stack's stand-in (scripts/local/maintenance.ts) gives back.
 * PGlite runs no autovacuum and counts no table activity, so a database the embedded stack
 * writes over time has no statistics for memories (`reltuples` -1, no visibility map). Same data
 * and queries, three states in turn: as bulk-loaded and analyzed (what `bench search` measures),
 * never analyzed (what a stack that never ran a pass has: the statistics removed, as
 * `pg_class`/`pg_statistic` show them before the first ANALYZE), and after one maintenance pass.
 */
import { parseArgs } from "node:util";
import { asUser } from "../../shared/db/as_user.ts";
import { hashEmbed } from "../../shared/embeddings/hash.ts";
import { searchRpc } from "../../shared/search/rpc.ts";
import { startMaintenance } from "../local/maintenance.ts";
import { openBenchDb } from "./lib/bench_stack.ts";
import { generateQueries } from "./lib/code_memory_generator.ts";
import { loadBenchData } from "./lib/load_memories.ts";
import { summarize } from "./lib/stats.ts";

const MODES = ["hybrid", "semantic", "keyword"] as const;
const FORGET_STATISTICS = `
  delete from pg_statistic where starelid = 'public.memories'::regclass;
  update pg_class set reltuples = -1, relpages = 0, relallvisible = 0
  where oid = 'public.memories'::regclass`;

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      rows: { type: "string", default: "10000" },
      runs: { type: "string", default: "200" },
    },
  });
  const runs = Number(values.runs);
  const { db, close } = await openBenchDb("pglite", undefined, "planner_stats");
  try {
    const data = await loadBenchData(db, Number(values.rows));
    const queries = generateQueries(runs);
    const vectors = queries.map(hashEmbed);
    const measureAll = async (state: string) => {
      for (const mode of MODES) {
        const ms: number[] = [];
        for (let i = -20; i < runs; i++) { // the first 20 warm up and are not counted
          const q = (i + runs) % runs;
          const started = performance.now();
          await asUser(db, data.userId, (tx) =>
            searchRpc(tx, {
              query_text: queries[q],
              query_embedding: vectors[q],
              embedding_model: data.model,
              match_count: 10,
              mode,
            }));
          if (i >= 0) ms.push(performance.now() - started);
        }
        const l = summarize(ms);
        console.log(`${state} | ${mode} | ${l.p50} | ${l.p95} | ${l.mean}`);
      }
    };
    console.log(`\n== pglite, ${data.rows} memories, ${runs} searches per cell (ms)`);
    console.log("state | mode | p50 | p95 | mean");
    await measureAll("analyzed (bulk load)");
    await db.exec(FORGET_STATISTICS);
    await measureAll("never analyzed");
    const maintenance = startMaintenance(db, { checkEveryMs: 0 });
    const started = performance.now();
    const outcome = await maintenance.run();
    console.log(`maintenance pass: ${outcome} in ${(performance.now() - started).toFixed(0)} ms`);
    await maintenance.stop();
    await measureAll("after a maintenance pass");
  } finally {
    await close();
  }
}
