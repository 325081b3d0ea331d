import { asUser } from "../db/as_user.ts";
import type { Database } from "../db/types.ts";
import { resolveProject } from "../memory/projects.ts";
import type { WriteListener } from "../memory/service.ts";
import { Batcher } from "../batcher.ts";
import { type Channel, currentSource } from "./request_source.ts";

/** One search as it is recorded (see public.search_events). */
export interface SearchEventInput {
  userId: string;
  /** Projects as the caller named them (refs: own slugs or ids); null = all their projects. */
  projectRefs: string[] | null;
  query: string;
  filters: Record<string, unknown>;
  mode: string;
  effectiveMode: string | null;
  resultCount: number;
  topScore: number | null;
  latencyMs: number;
  cacheHit: boolean;
  hits: { id: string; projectId: string }[];
}

type Source = { channel: Channel | null; clientName: string | null; clientVersion: string | null };
type SearchEvent = SearchEventInput & Source & { kind: "search"; at: string };
type MemoryEvent = Source & {
  kind: "memory";
  at: string;
  userId: string;
  projectId: string;
  memoryId: string;
  action: "save" | "update" | "delete";
};
type AnalyticsEvent = SearchEvent | MemoryEvent;

export interface RecorderOptions {
  flushAfterMs?: number;
  maxPending?: number;
}

/** The request's channel and client, taken when the event happens (see request_source.ts). */
function source(): Source {
  const s = currentSource();
  return {
    channel: s?.channel ?? null,
    clientName: s?.client?.name ?? null,
    clientVersion: s?.client?.version ?? null,
  };
}

/**
 * Usage events, buffered in memory and written in batches after the responses went out (every
 * second, or at once when 500 are waiting), over the privileged connection with explicit user
 * ids. Recording never waits for the database, so it adds no latency; a failed write is logged
 * and dropped, which is acceptable for statistics.
 */
export class AnalyticsRecorder {
  readonly #db: Database;
  readonly #batcher: Batcher<AnalyticsEvent>;

  constructor(db: Database, opts: RecorderOptions = {}) {
    this.#db = db;
    this.#batcher = new Batcher({ ...opts, label: "analytics", write: (b) => this.#write(b) });
  }

  recordSearch(event: SearchEventInput): void {
    this.#batcher.add({ ...event, ...source(), kind: "search", at: new Date().toISOString() });
  }

  /** A MemoryService write listener: `service.onWrite(recorder.onWrite)`. */
  readonly onWrite: WriteListener = (e) => {
    this.#batcher.add({
      ...source(),
      kind: "memory",
      at: new Date().toISOString(),
      userId: e.userId,
      // An update that moved the memory lists the old project first and the new one last.
      projectId: e.projectIds.at(-1)!,
      memoryId: e.memoryId,
      action: e.action,
    });
  };

  /** Writes everything recorded so far. */
  flush(): Promise<void> {
    return this.#batcher.flush();
  }

  /** Flushes and stops; call before closing the database. */
  close(): Promise<void> {
    return this.#batcher.close();
  }

  async #write(batch: AnalyticsEvent[]): Promise<void> {
    const searches = batch.filter((e): e is SearchEvent => e.kind === "search");
    const writes = batch.filter((e): e is MemoryEvent => e.kind === "memory");
    const projectIds = await this.#resolveRefs(searches);
    // Users or projects deleted since the event happened are skipped, not errors.
    await this.#db.transaction(async (tx) => {
      if (searches.length) {
        await tx.query(
          `insert into public.search_events (user_id, project_ids, query, filters, mode,
             effective_mode, result_count, top_score, latency_ms, cache_hit, channel, client_name,
             client_version, hit_ids, hit_project_ids, created_at)
           select e.user_id, e.project_ids, e.query, e.filters, e.mode, e.effective_mode,
             e.result_count, e.top_score, e.latency_ms, e.cache_hit, e.channel, e.client_name,
             e.client_version, e.hit_ids, e.hit_project_ids, e.created_at
           from jsonb_to_recordset($1::jsonb) as e(user_id uuid, project_ids uuid[], query text,
             filters jsonb, mode text, effective_mode text, result_count int, top_score float8,
             latency_ms real, cache_hit boolean, channel text, client_name text,
             client_version text, hit_ids uuid[], hit_project_ids uuid[], created_at timestamptz)
           where exists (select 1 from auth.users u where u.id = e.user_id)`,
          [searches.map((e, i) => ({
            user_id: e.userId,
            project_ids: projectIds[i],
            query: e.query,
            filters: e.filters,
            mode: e.mode,
            effective_mode: e.effectiveMode,
            result_count: e.resultCount,
            top_score: e.topScore,
            latency_ms: e.latencyMs,
            cache_hit: e.cacheHit,
            channel: e.channel,
            client_name: e.clientName,
            client_version: e.clientVersion,
            hit_ids: e.hits.map((h) => h.id),
            hit_project_ids: e.hits.map((h) => h.projectId),
            created_at: e.at,
          }))],
        );
      }
      if (writes.length) {
        await tx.query(
          `insert into public.memory_events (user_id, project_id, memory_id, action, channel,
             client_name, client_version, created_at)
           select e.user_id, e.project_id, e.memory_id, e.action, e.channel, e.client_name,
             e.client_version, e.created_at
           from jsonb_to_recordset($1::jsonb) as e(user_id uuid, project_id uuid,
             memory_id uuid, action text, channel text, client_name text, client_version text,
             created_at timestamptz)
           where exists (select 1 from auth.users u where u.id = e.user_id)
             and exists (select 1 from public.projects p where p.id = e.project_id)`,
          [writes.map((e) => ({
            user_id: e.userId,
            project_id: e.projectId,
            memory_id: e.memoryId,
            action: e.action,
            channel: e.channel,
            client_name: e.clientName,
            client_version: e.clientVersion,
            created_at: e.at,
          }))],
        );
      }
    });
  }

  /**
   * The project ids each search was limited to. Resolved here, after the response, exactly as
   * the search resolved them (as the user: slugs are per user), so the request paid nothing.
   * A reference that no longer resolves is left out.
   */
  async #resolveRefs(searches: SearchEvent[]): Promise<(string[] | null)[]> {
    const byUser = new Map<string, Set<string>>();
    for (const e of searches) {
      for (const ref of e.projectRefs ?? []) {
        byUser.set(e.userId, (byUser.get(e.userId) ?? new Set()).add(ref));
      }
    }
    const resolved = new Map<string, string | null>();
    for (const [userId, refs] of byUser) {
      await asUser(this.#db, userId, async (tx) => {
        for (const ref of refs) {
          const id = await resolveProject(tx, userId, ref).then((p) => p.id, () => null);
          resolved.set(`${userId}\n${ref}`, id);
        }
      }).catch(() => {});
    }
    return searches.map((e) => {
      if (!e.projectRefs) return null;
      const ids = e.projectRefs.map((ref) => resolved.get(`${e.userId}\n${ref}`))
        .filter((id): id is string => typeof id === "string");
      return [...new Set(ids)];
    });
  }
}
