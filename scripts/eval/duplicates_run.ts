/** `deno task eval --duplicates`: the near-duplicate calibration per provider, printed and saved. */
import type { EvalArgs } from "./args.ts";
import { calibrateDuplicates, duplicatesTable, loadPairs } from "./duplicates.ts";
import { chooseProviders } from "./run.ts";

export const PAIRS_FILE = "eval/duplicates/pairs.jsonl";

export async function runDuplicates(args: EvalArgs): Promise<number> {
  const started = new Date().toISOString();
  const pairs = await loadPairs(PAIRS_FILE);
  const skipped: { name: string; reason: string }[] = [];
  const providers = await chooseProviders(args.providers, (l) => console.error(l), skipped);
  const positives = pairs.filter((p) => p.duplicate).length;
  console.log(
    `${pairs.length} labelled pairs: ${positives} near-duplicates, ${
      pairs.length - positives
    } distinct (${PAIRS_FILE})\n`,
  );
  const results = [];
  for (const provider of providers) {
    const result = await calibrateDuplicates(provider, pairs);
    results.push(result);
    console.log(`${duplicatesTable(result)}\n`);
    await (provider as { close?: () => Promise<void> }).close?.();
  }
  for (const s of skipped) console.log(`skipped ${s.name}: ${s.reason}`);
  await Deno.mkdir(args.out, { recursive: true });
  const file = `${args.out.replace(/\/+$/, "")}/duplicates-${started.replace(/[:.]/g, "-")}.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify(
      { started_at: started, command: "deno task eval --duplicates", results },
      null,
      2,
    ) +
      "\n",
  );
  console.log(`wrote ${file}`);
  return 0;
}
