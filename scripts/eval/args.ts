/** Command-line flags of `deno task eval` (see eval/README.md). */
import { parseArgs } from "node:util";
import type { ChunkOptions } from "../../shared/embeddings/chunks.ts";
import type { ProviderName } from "../../shared/embeddings/types.ts";

export const USAGE = `Usage: deno task eval [options]

  --data DIR          evaluation set directory (memories.jsonl, queries.jsonl); default eval/data
  --pg                use DATABASE_URL instead of an in-memory PGlite
  --providers LIST    embedding providers, e.g. hash,local (default: every one available
                      offline; openai too when OPENAI_API_KEY or OPENAI_BASE_URL is set)
  --rrf-k LIST        hybrid sweep over rrf_k, e.g. 10,30,60,100
  --weights LIST      hybrid sweep over full_text:semantic weights, e.g. 1:1,1:2,2:1
  --coverage-power LIST  hybrid sweep over the keyword side's term-coverage exponent, e.g. 0,1,2
  --keyword-or        also run keyword and hybrid with the query words OR-ed (websearch
                      "a or b" syntax): what OR semantics on the keyword side would give
  --floor-sweep       calibrate the relevance floor per provider (docs/eval.md)
  --duplicates        calibrate save's near-duplicate threshold per provider on the labelled
                      pairs of eval/duplicates/pairs.jsonl (docs/eval.md); runs only that
  --chunks SIZE:OVERLAP  chunking of long memories in characters (default 900:200)
  --ingest api        load the set through a started embedded stack's REST bulk import
                      (scripts/lib/bulk_ingest.ts) and let its embed pipeline embed it with
                      the local model, instead of saving and embedding in-process
  --out DIR           where eval-<timestamp>.json goes; default bench-results
  --help              this text

Without --rrf-k/--weights only the defaults (rrf_k 10, weights 1:5) run; with either flag every
combination also runs for each provider (a flag left out keeps its default).`;

export interface Weights {
  fullText: number;
  semantic: number;
}

export interface EvalArgs {
  data: string;
  pg: boolean;
  /** undefined: every provider available here. */
  providers?: ProviderName[];
  rrfKs: number[];
  weights: Weights[];
  /** Term-coverage exponents to sweep; [undefined] = the RPC's default. */
  coveragePowers: (number | undefined)[];
  /** Whether a sweep was asked for (either flag given). */
  sweep: boolean;
  /** Also evaluate the keyword side with OR-ed query words. */
  keywordOr: boolean;
  floorSweep: boolean;
  /** Only calibrate the near-duplicate threshold (scripts/eval/duplicates.ts). */
  duplicates: boolean;
  /** How memories get in: the service in-process, or the stack's REST bulk import. */
  ingest: "service" | "api";
  chunks?: ChunkOptions;
  out: string;
  help: boolean;
}

export const DEFAULT_RRF_K = 10;
export const DEFAULT_WEIGHTS: Weights = { fullText: 1, semantic: 5 };
const KNOWN_PROVIDERS = ["hash", "local", "openai"] as const;

const list = (value: string) => value.split(",").map((s) => s.trim()).filter(Boolean);

function parseRrfKs(value: string): number[] {
  return list(value).map((s) => {
    const k = Number(s);
    if (!Number.isInteger(k) || k < 0) throw new Error(`--rrf-k: "${s}" is not an integer ≥ 0`);
    return k;
  });
}

function parseWeights(value: string): Weights[] {
  return list(value).map((s) => {
    const parts = s.split(":").map(Number);
    if (parts.length !== 2 || parts.some((n) => !Number.isFinite(n) || n < 0)) {
      throw new Error(`--weights: "${s}" is not full_text:semantic, e.g. 1:2`);
    }
    return { fullText: parts[0], semantic: parts[1] };
  });
}

function parseProviders(value: string): ProviderName[] {
  return list(value).map((s) => {
    const name = s.toLowerCase();
    if (!(KNOWN_PROVIDERS as readonly string[]).includes(name)) {
      throw new Error(`--providers: "${s}" is not one of ${KNOWN_PROVIDERS.join(", ")}`);
    }
    return name as ProviderName;
  });
}

function parseCoveragePower(s: string): number {
  const power = Number(s);
  if (!Number.isFinite(power) || power < 0) {
    throw new Error(`--coverage-power: "${s}" is not a number ≥ 0`);
  }
  return power;
}

function parseIngest(value: string): "service" | "api" {
  if (value !== "service" && value !== "api") {
    throw new Error(`--ingest: "${value}" is not service or api`);
  }
  return value;
}

function parseChunks(value: string): ChunkOptions {
  const [size, overlap] = value.split(":").map(Number);
  if (!(Number.isInteger(size) && Number.isInteger(overlap) && overlap >= 0 && size > overlap)) {
    throw new Error(`--chunks: "${value}" is not SIZE:OVERLAP with SIZE > OVERLAP >= 0`);
  }
  return { size, overlap };
}

/** Parses argv; throws an Error with a one-line message on a bad flag. */
export function parseEvalArgs(argv: string[]): EvalArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: "string", default: "eval/data" },
      pg: { type: "boolean", default: false },
      providers: { type: "string" },
      "rrf-k": { type: "string" },
      weights: { type: "string" },
      "coverage-power": { type: "string" },
      "keyword-or": { type: "boolean", default: false },
      "floor-sweep": { type: "boolean", default: false },
      duplicates: { type: "boolean", default: false },
      chunks: { type: "string" },
      ingest: { type: "string", default: "service" },
      out: { type: "string", default: "bench-results" },
      help: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const rrfKs = values["rrf-k"] ? parseRrfKs(values["rrf-k"]) : [DEFAULT_RRF_K];
  const weights = values.weights ? parseWeights(values.weights) : [DEFAULT_WEIGHTS];
  if (rrfKs.length === 0 || weights.length === 0) throw new Error("empty sweep list");
  return {
    data: values.data!,
    pg: values.pg!,
    providers: values.providers ? parseProviders(values.providers) : undefined,
    rrfKs,
    weights,
    coveragePowers: values["coverage-power"]
      ? list(values["coverage-power"]).map(parseCoveragePower)
      : [undefined],
    sweep: values["rrf-k"] !== undefined || values.weights !== undefined ||
      values["coverage-power"] !== undefined,
    keywordOr: values["keyword-or"]!,
    floorSweep: values["floor-sweep"]!,
    duplicates: values.duplicates!,
    ingest: parseIngest(values.ingest!),
    chunks: values.chunks ? parseChunks(values.chunks) : undefined,
    out: values.out!,
    help: values.help!,
  };
}
