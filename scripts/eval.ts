/**
 * Retrieval-quality evaluation (`deno task eval`, flags in scripts/eval/args.ts): loads a
 * labelled set into a fresh database, searches it in keyword, semantic and hybrid modes with
 * each embedding provider, prints recall@5/@10, MRR and nDCG@10, and writes the full results
 * to bench-results/eval-<timestamp>.json. Format and metrics: eval/README.md.
 */
import { parseEvalArgs, USAGE } from "./eval/args.ts";
import { floorTable, mainTable, sweepTable, tradeoffTable, typeTable } from "./eval/report.ts";
import { runEval } from "./eval/run.ts";
import { runDuplicates } from "./eval/duplicates_run.ts";

async function main(): Promise<number> {
  let args;
  try {
    args = parseEvalArgs(Deno.args);
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (args.duplicates) return await runDuplicates(args);
  const result = await runEval(args);
  const { data } = result;
  const types = Object.entries(data.by_type).map(([type, n]) =>
    `${n} ${type} (word overlap with the answer ${(data.lexical_overlap[type] ?? 0).toFixed(2)})`
  );
  console.log(`\n${data.memories} memories, ${data.queries} queries: ${types.join(", ")}`);
  console.log(
    `top ${result.match_count}, ${result.backend}; defaults rrf_k 10, weights 1:5, coverage power 1\n`,
  );
  console.log(mainTable(result.runs));
  console.log(`\n${typeTable(result.runs)}`);
  if (result.sweep.length) console.log(`\nHybrid sweep\n${sweepTable(result.sweep)}`);
  if (result.floors.length) console.log(`\nRelevance floor\n${floorTable(result.floors)}`);
  if (result.floors.length) {
    console.log(
      `\nnDCG@10 (floor, answers kept) by no-answer rate\n${tradeoffTable(result.floors)}`,
    );
  }
  if (result.ingest) console.log(`\nIngest through the REST API\n${JSON.stringify(result.ingest)}`);
  for (const p of result.providers) {
    const q = p.query_embedding_ms;
    console.log(
      `query embedding, ${p.model}: p50 ${q.p50.toFixed(1)} ms, p95 ${q.p95.toFixed(1)} ms`,
    );
  }
  for (const s of result.skipped_providers) console.log(`\nskipped ${s.name}: ${s.reason}`);

  await Deno.mkdir(args.out, { recursive: true });
  const stamp = result.started_at.replace(/[:.]/g, "-");
  const file = `${args.out.replace(/\/+$/, "")}/eval-${stamp}.json`;
  await Deno.writeTextFile(file, JSON.stringify(result, null, 2) + "\n");
  console.log(`\nwrote ${file} (${result.duration_s.toFixed(1)} s)`);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
