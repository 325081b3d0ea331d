/**
 * Deterministic lexical feature hashing (the "hashing trick").
 *
 * NOT SEMANTIC: texts come out similar only when they share words or word fragments; synonyms
 * and paraphrases do not. It exists for tests and as an offline fallback that needs no model,
 * never as the production embedding.
 *
 * Features: lowercase word tokens (identifiers are also split into their camelCase/snake_case
 * parts, so `parseJwtToken` matches "parse jwt token") plus boundary-padded character trigrams
 * of those parts (so `token` and `tokens` overlap). Each feature is hashed with FNV-1a 32-bit
 * into one of EMBEDDING_DIMENSIONS (384) buckets with a sign taken from the hash's top bit (signed hashing keeps
 * collisions from only ever adding up), weighted by sublinear term frequency 1 + ln(tf), and
 * the vector is L2-normalised.
 *
 * Bump HASH_MODEL whenever anything here changes: stored vectors are compared only with vectors
 * of the same model name.
 */
import type { EmbeddingProvider } from "./types.ts";
import { EMBEDDING_DIMENSIONS } from "./types.ts";
import { normalize } from "./pad.ts";

export const HASH_MODEL = "hash-v2";

/** Trigrams are many and noisy; whole words should dominate the similarity. */
const TRIGRAM_WEIGHT = 0.5;

/** An identifier-ish run: letters, digits, combining marks and underscores. */
const IDENTIFIER = /[\p{L}\p{M}\p{N}_]+/gu;
/**
 * Parts of an identifier: an acronym followed by a word ("HTTP" in "HTTPServer"), a
 * (capitalised) lowercase word, a trailing acronym, a digit run, or caseless letters (CJK...).
 */
const PART =
  /\p{Lu}+(?=\p{Lu}\p{Ll})|\p{Lu}?[\p{Ll}\p{M}]+|\p{Lu}+|\p{N}+|[\p{Lo}\p{Lm}\p{Lt}\p{M}]+/gu;

/**
 * Each identifier of a text, lowercased, with its parts. `whole` is set only when it differs
 * from the single part, so "parse" yields one token and "parseJwtToken" four.
 */
function* identifiers(text: string): Generator<{ whole?: string; parts: string[] }> {
  for (const [identifier] of text.matchAll(IDENTIFIER)) {
    const parts: string[] = [];
    for (const chunk of identifier.split("_")) {
      for (const [part] of chunk.matchAll(PART)) parts.push(part.toLowerCase());
    }
    const whole = identifier.toLowerCase();
    yield parts.length === 1 && parts[0] === whole ? { parts } : { whole, parts };
  }
}

/** Lowercase word tokens: "parseJwtToken" → parsejwttoken, parse, jwt, token. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const { whole, parts } of identifiers(text)) {
    if (whole !== undefined) tokens.push(whole);
    tokens.push(...parts);
  }
  return tokens;
}

/** Feature → count. Words ("w:") and trigrams of parts ("g:") live in separate namespaces. */
function features(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  for (const { whole, parts } of identifiers(text)) {
    if (whole !== undefined) add(`w:${whole}`);
    for (const part of parts) {
      add(`w:${part}`);
      const chars = Array.from(`#${part}#`); // code points, so no surrogate pair is split
      for (let i = 0; i + 3 <= chars.length; i++) add(`g:${chars.slice(i, i + 3).join("")}`);
    }
  }
  return counts;
}

const encoder = new TextEncoder();

/** FNV-1a 32-bit over the UTF-8 bytes. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Embeds one text; see the module comment. Empty or symbol-only text gives a zero vector. */
export function hashEmbed(text: string): number[] {
  const vec = new Float64Array(EMBEDDING_DIMENSIONS);
  for (const [key, count] of features(text)) {
    const weight = (1 + Math.log(count)) * (key.startsWith("g:") ? TRIGRAM_WEIGHT : 1);
    const hash = fnv1a32(key);
    const sign = hash >>> 31 ? -1 : 1;
    vec[hash % EMBEDDING_DIMENSIONS] += sign * weight;
  }
  return normalize(vec);
}

export class HashEmbeddingProvider implements EmbeddingProvider {
  readonly name = "hash" as const;
  readonly model = HASH_MODEL;
  readonly semantic = false;

  embed(texts: string[]): Promise<number[][]> {
    return Promise.resolve(texts.map(hashEmbed));
  }
}
