/** Bad or missing configuration; thrown when a provider is created, before any request. */
export class EmbeddingConfigError extends Error {
  override name = "EmbeddingConfigError";
}

/** A provider could not produce embeddings (HTTP error, timeout, malformed response). */
export class EmbeddingError extends Error {
  override name = "EmbeddingError";
  /** HTTP status of the failed request, when there was one. */
  readonly status?: number;

  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.status = options.status;
  }
}
