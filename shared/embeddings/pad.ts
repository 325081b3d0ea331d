import { EMBEDDING_DIMENSIONS } from "./types.ts";

/**
 * Zero-pads a vector to EMBEDDING_DIMENSIONS. Trailing zeros change neither dot products nor
 * norms, so cosine similarity between two padded vectors equals that of the originals.
 */
export function padToColumn(vec: ArrayLike<number>): number[] {
  if (vec.length > EMBEDDING_DIMENSIONS) {
    throw new RangeError(
      `embedding has ${vec.length} dimensions; the column holds at most ${EMBEDDING_DIMENSIONS}`,
    );
  }
  const out = new Array<number>(EMBEDDING_DIMENSIONS).fill(0);
  for (let i = 0; i < vec.length; i++) out[i] = vec[i];
  return out;
}

/**
 * Scales a vector to unit L2 length (a new array). A zero vector has no direction and is
 * returned as zeros; a NaN or Infinity would poison every distance, so it throws.
 */
export function normalize(vec: ArrayLike<number>): number[] {
  let sum = 0;
  for (let i = 0; i < vec.length; i++) {
    if (!Number.isFinite(vec[i])) {
      throw new RangeError(`embedding has a non-finite value at index ${i}`);
    }
    sum += vec[i] * vec[i];
  }
  const norm = Math.sqrt(sum);
  const out = Array.from(vec);
  if (norm === 0) return out;
  for (let i = 0; i < out.length; i++) out[i] /= norm;
  return out;
}

/** What every provider stores: padded to the column width, then unit length. */
export function toColumnVector(vec: ArrayLike<number>): number[] {
  return normalize(padToColumn(vec));
}
