import type { SearchInput } from "../search/schemas.ts";
import { SearchService, type SearchServiceOptions } from "../search/service.ts";
import type { SearchResult } from "../search/types.ts";
import type { AnalyticsRecorder } from "./recorder.ts";

/** The request's filters as recorded: everything but the query and mode, unset keys left out. */
function filtersOf(input: SearchInput): Record<string, unknown> {
  const { query: _q, mode: _m, ...filters } = input;
  return Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined));
}

/**
 * SearchService that records every successful search (REST and MCP alike) with its latency,
 * as seen by the caller: query embedding, cache and RPC included. Recording is a synchronous
 * push into the recorder's buffer.
 */
export class RecordedSearchService extends SearchService {
  readonly #recorder: AnalyticsRecorder;

  constructor(opts: SearchServiceOptions, recorder: AnalyticsRecorder) {
    super(opts);
    this.#recorder = recorder;
  }

  override async search(userId: string, input: SearchInput): Promise<SearchResult> {
    const started = performance.now();
    const result = await super.search(userId, input);
    const refs = input.project === undefined
      ? null
      : Array.isArray(input.project)
      ? input.project
      : [input.project];
    this.#recorder.recordSearch({
      userId,
      projectRefs: refs,
      query: result.query,
      filters: filtersOf(input),
      mode: result.mode,
      effectiveMode: result.effective_mode,
      resultCount: result.hits.length,
      topScore: result.hits.length ? Math.max(...result.hits.map((h) => h.score)) : null,
      latencyMs: performance.now() - started,
      cacheHit: result.cached,
      hits: result.hits.map((h) => ({ id: h.id, projectId: h.project_id })),
    });
    return result;
  }
}
