/**
 * Worker thread that owns the MiniLM model: inference blocks its thread for the length of a
 * forward pass, so it must not run on the thread that serves requests. Messages:
 * `{ id, texts }` → `{ id, vectors }` or `{ id, error, config }` (config: the model files
 * failed verification, an EmbeddingConfigError in the caller).
 */
import { parentPort, workerData } from "node:worker_threads";
import { EmbeddingConfigError } from "../../../shared/embeddings/errors.ts";
import { embedWithMiniLM, type MiniLMOptions } from "./minilm_model.ts";

const options = (workerData ?? {}) as MiniLMOptions;

parentPort!.on("message", async ({ id, texts }: { id: number; texts: string[] }) => {
  try {
    parentPort!.postMessage({ id, vectors: await embedWithMiniLM(texts, options) });
  } catch (err) {
    parentPort!.postMessage({
      id,
      error: err instanceof Error ? err.message : String(err),
      config: err instanceof EmbeddingConfigError,
    });
  }
});
