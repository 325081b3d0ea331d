/**
 * OpenAI embeddings (default text-embedding-3-small shortened to 384 dims by the API), or any
 * OpenAI-compatible server through `baseURL` (vLLM, Ollama, LM Studio, LiteLLM...).
 *
 * Retries: the openai package retries 408/409/429/5xx and connection errors itself, with
 * exponential backoff that honours `retry-after-ms` and `Retry-After`; other 4xx fail at once.
 */
import OpenAI from "openai";
import type { EmbeddingOptions, EmbeddingProvider } from "./types.ts";
import { EMBEDDING_DIMENSIONS } from "./types.ts";
import { EmbeddingConfigError, EmbeddingError } from "./errors.ts";
import { toColumnVector } from "./pad.ts";
import { batches } from "./batch.ts";

export type OpenAIEmbeddingOptions = NonNullable<EmbeddingOptions["openai"]>;

export const OPENAI_DEFAULTS = {
  baseURL: "https://api.openai.com/v1",
  model: "text-embedding-3-small",
  maxRetries: 2,
  /** The package's default is 10 minutes: far beyond an Edge Function's wall-clock limit. */
  timeoutMs: 30_000,
  batchSize: 96,
} as const;

/** The API's limit on inputs per request. */
const MAX_BATCH_SIZE = 2048;

/**
 * Per-text character cap. text-embedding-3-* reject (400, not truncate) inputs over 8,192
 * tokens, and we have no tokenizer here (tiktoken is a large WASM dependency). Prose and code
 * average 3–4 characters per token, so 24,000 characters keep ordinary text under the limit.
 * Only the vector sees the cut: the head of a long memory carries most of its meaning, and the
 * stored content (and full-text search over it) is untouched.
 */
export const MAX_INPUT_CHARS = 24_000;

/**
 * Per-request character cap. The API also limits the tokens summed over all inputs of one
 * request (300k); 400k characters stays under it even at a dense 1.5 characters per token.
 */
const MAX_REQUEST_CHARS = 400_000;

export class OpenAIEmbeddingProvider implements EmbeddingProvider {
  readonly name = "openai" as const;
  readonly model: string;
  readonly semantic = true;
  readonly #client: OpenAI;
  readonly #modelId: string;
  readonly #batchSize: number;
  /** Only text-embedding-3-* can shorten their output; other models get no `dimensions`. */
  readonly #sendDimensions: boolean;

  constructor(opts: OpenAIEmbeddingOptions = {}) {
    const apiKey = opts.apiKey?.trim() || undefined;
    const baseURL = opts.baseURL?.trim() || undefined;
    if (!apiKey && !baseURL) {
      throw new EmbeddingConfigError(
        "The openai embedding provider needs an API key (openai.apiKey, usually from " +
          "OPENAI_API_KEY). A key may be omitted only when openai.baseURL points at an " +
          "OpenAI-compatible server that does not check one.",
      );
    }
    if (baseURL !== undefined && !URL.canParse(baseURL)) {
      throw new EmbeddingConfigError(`openai.baseURL is not a valid URL: "${baseURL}"`);
    }
    this.#modelId = opts.model?.trim() || OPENAI_DEFAULTS.model;
    this.#batchSize = checkInt("batchSize", opts.batchSize, OPENAI_DEFAULTS.batchSize, 1);
    this.#sendDimensions = this.#modelId.startsWith("text-embedding-3");
    this.model = `openai/${this.#modelId}`;
    if (this.#batchSize > MAX_BATCH_SIZE) {
      throw new EmbeddingConfigError(`openai.batchSize must be at most ${MAX_BATCH_SIZE}`);
    }
    this.#client = new OpenAI({
      // Keyless compatible servers: the package insists on some key, so pass a placeholder and
      // drop the Authorization header it would produce.
      apiKey: apiKey ?? "unused",
      ...(apiKey ? {} : { defaultHeaders: { Authorization: null } }),
      // Always explicit, so the package never picks up OPENAI_BASE_URL behind config's back.
      baseURL: baseURL ?? OPENAI_DEFAULTS.baseURL,
      maxRetries: checkInt("maxRetries", opts.maxRetries, OPENAI_DEFAULTS.maxRetries, 0),
      timeout: checkInt("timeoutMs", opts.timeoutMs, OPENAI_DEFAULTS.timeoutMs, 1),
    });
  }

  async embed(texts: string[]): Promise<number[][]> {
    const out: number[][] = [];
    const inputs = texts.map(truncateForOpenAI);
    // Batches go one after another: parallel requests would only trip rate limits sooner.
    for (const batch of batches(inputs, this.#batchSize, MAX_REQUEST_CHARS)) {
      out.push(...await this.#embedBatch(batch));
    }
    return out;
  }

  async #embedBatch(input: string[]): Promise<number[][]> {
    let response: OpenAI.CreateEmbeddingResponse;
    try {
      response = await this.#client.embeddings.create({
        model: this.#modelId,
        input,
        encoding_format: "float",
        ...(this.#sendDimensions ? { dimensions: EMBEDDING_DIMENSIONS } : {}),
      });
    } catch (err) {
      throw this.#requestError(err);
    }

    // Results carry their input's index; servers need not return them in order.
    const vectors = new Array<number[] | undefined>(input.length);
    for (const item of response.data ?? []) {
      const { index, embedding } = item;
      if (!Number.isInteger(index) || index < 0 || index >= input.length || vectors[index]) {
        throw new EmbeddingError(`${this.model} returned an invalid or duplicate index ${index}`);
      }
      if (!Array.isArray(embedding)) {
        throw new EmbeddingError(`${this.model} returned a non-float embedding`);
      }
      if (embedding.length > EMBEDDING_DIMENSIONS) {
        throw new EmbeddingError(
          `${this.model} returns ${embedding.length}-dimensional embeddings, but the column is ` +
            `vector(${EMBEDDING_DIMENSIONS}); use a model with at most ${EMBEDDING_DIMENSIONS} ` +
            `dimensions or a text-embedding-3-* model (shortened to ${EMBEDDING_DIMENSIONS}).`,
        );
      }
      vectors[index] = toColumnVector(embedding);
    }
    const missing = vectors.findIndex((v) => v === undefined);
    if (missing !== -1) {
      throw new EmbeddingError(`${this.model} returned no embedding for input ${missing}`);
    }
    return vectors as number[][];
  }

  #requestError(err: unknown): EmbeddingError {
    if (err instanceof OpenAI.APIError && err.status !== undefined) {
      // The package's message already starts with the status; keep the server's text only.
      const detail = err.message.replace(/^\d{3}\s+/, "");
      return new EmbeddingError(
        `OpenAI embeddings request (${this.model}) failed with HTTP ${err.status}: ${detail}`,
        { status: err.status, cause: err },
      );
    }
    const detail = err instanceof Error ? err.message : String(err);
    return new EmbeddingError(`OpenAI embeddings request (${this.model}) failed: ${detail}`, {
      cause: err,
    });
  }
}

/** Caps a text at MAX_INPUT_CHARS without splitting a surrogate pair. */
export function truncateForOpenAI(text: string): string {
  if (text.length <= MAX_INPUT_CHARS) return text;
  const end = /[\uD800-\uDBFF]/.test(text[MAX_INPUT_CHARS - 1])
    ? MAX_INPUT_CHARS - 1
    : MAX_INPUT_CHARS;
  return text.slice(0, end);
}

function checkInt(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new EmbeddingConfigError(`openai.${name} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}
