import { Buffer } from "node:buffer";
import type { Cache } from "../cache/types.ts";
import { EMBEDDING_DIMENSIONS, type EmbeddingProvider } from "../embeddings/types.ts";
import { sha256Hex } from "./fingerprint.ts";

/** A query's vector never changes for a given model, so it may live long. */
export const QUERY_EMBEDDING_TTL_SECONDS = 24 * 60 * 60;

const key = (embedder: EmbeddingProvider, text: string) =>
  `qemb:${embedder.name}:${embedder.model}:${sha256Hex(text)}`;

/**
 * The query's embedding, from the cache when another search asked the same (model inference or
 * an API call otherwise). Stored as base64 float32, the precision pgvector keeps anyway: about
 * 2.7 kB instead of ~10 kB of JSON numbers.
 */
export async function embedQuery(
  cache: Cache,
  embedder: EmbeddingProvider,
  text: string,
): Promise<number[]> {
  const k = key(embedder, text);
  const cached = await cache.get<string>(k);
  if (typeof cached === "string") {
    // Copied: a Float32Array needs 4-byte alignment, which Buffer's pooled slices lack.
    const bytes = new Uint8Array(Buffer.from(cached, "base64"));
    if (bytes.byteLength === EMBEDDING_DIMENSIONS * 4) {
      return Array.from(new Float32Array(bytes.buffer));
    }
  }
  const [vector] = await embedder.embed([text]);
  const packed = Buffer.from(new Float32Array(vector).buffer).toString("base64");
  await cache.set(k, packed, QUERY_EMBEDDING_TTL_SECONDS);
  return vector;
}
