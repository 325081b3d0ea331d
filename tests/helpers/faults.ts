/**
 * Fault injection for tests/faults_*_test.ts: a database no other test process touches, an
 * embedding provider that crashes on a chosen call, and what `embed` answered per memory.
 */
import assert from "node:assert/strict";
import type { Database } from "../../shared/db/types.ts";
import { EmbeddingError, type EmbeddingProvider } from "../../shared/embeddings/index.ts";
import { HashEmbeddingProvider } from "../../shared/embeddings/index.ts";
import { type Backend, openScratchDb } from "./db.ts";
import { assertSameVector, embeddingState } from "./embed.ts";

/**
 * A migrated database of this test's own (a scratch database). On the shared test database
 * other processes' relays would take this test's queued webhooks and their sweeps re-send its
 * rows, which is fine for the product but blurs what a fault test observes.
 */
export const openIsolatedDb = (backend: Backend): Promise<Database> =>
  openScratchDb(backend, { migrated: true, max: 4, applicationName: "codememory-faults" });

export interface ProviderCrash extends Disposable {
  /** Use as the stack's embedder (`stack.ctx.embedder`). */
  readonly provider: EmbeddingProvider;
  /** The texts of every call, in order, the crashing one included. */
  readonly calls: string[][];
  /** Whether the crashing call has started. */
  readonly crashed: boolean;
  /** Lets the calls after the crash through: the restarted function, the provider back. */
  recover(): void;
}

/**
 * Delegates to `inner` until call number `atCall` (1-based), which crashes: "throw" fails it
 * as a provider error would; "hang" never returns, as when the function's process dies in the
 * middle (the call is failed only when the crash is disposed, long after recovery, so the stack
 * can shut down). Calls after the crash wait for recover(), so a test sees the state the crash
 * left before anything repairs it. Dispose it before closing the stack.
 */
export function crashOnCall(
  inner: EmbeddingProvider,
  atCall: number,
  how: "throw" | "hang",
): ProviderCrash {
  const calls: string[][] = [];
  const recovered = Promise.withResolvers<void>();
  const killed = Promise.withResolvers<never>();
  killed.promise.catch(() => {}); // failed on dispose, possibly with nobody waiting
  const provider: EmbeddingProvider = {
    name: inner.name,
    model: inner.model,
    semantic: inner.semantic,
    async embed(texts) {
      calls.push(texts);
      if (calls.length === atCall) {
        if (how === "throw") throw new EmbeddingError("provider crashed mid-batch");
        return await killed.promise;
      }
      if (calls.length > atCall) await recovered.promise;
      return await inner.embed(texts);
    },
  };
  return {
    provider,
    calls,
    get crashed() {
      return calls.length >= atCall;
    },
    recover: () => recovered.resolve(),
    [Symbol.dispose]() {
      recovered.resolve();
      killed.reject(new EmbeddingError("the crashed call's process is gone"));
    },
  };
}

/** One answer of `embed` as the relay recorded it in net._http_response. */
export interface EmbedAnswer {
  requestId: string;
  status: number | null;
  embedded: string[];
  skipped: string[];
  failed: string[];
}

/** Every recorded answer of `embed` that mentions one of these memory ids. */
export async function embedAnswers(db: Database, ids: string[]): Promise<EmbedAnswer[]> {
  const rows = await db.query<{ id: string; status_code: number | null; content: string | null }>(
    `select id::text, status_code, content from net._http_response
     where exists (select 1 from unnest($1::text[]) as i where strpos(content, i) > 0)
     order by id`,
    [ids],
  );
  return rows.map((r) => {
    const body = JSON.parse(r.content ?? "{}");
    return {
      requestId: r.id,
      status: r.status_code,
      embedded: body.embedded ?? [],
      skipped: body.skipped ?? [],
      failed: body.failed ?? [],
    };
  });
}

/** Queued (undelivered) stand-in requests whose body names one of these memory ids. */
export async function queuedRequests(db: Database, ids: string[]): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `select q.id::text from net.http_request_queue q
     where exists (select 1 from unnest($1::text[]) as i
                   where strpos(convert_from(q.body, 'UTF8'), i) > 0)
     order by q.id`,
    [ids],
  );
  return rows.map((r) => r.id);
}

const hash = new HashEmbeddingProvider();

/** Asserts every memory (id → the text it embeds) is ready with the hash provider's vector. */
export async function assertEmbeddedAs(db: Database, texts: Map<string, string>): Promise<void> {
  const expected = await hash.embed([...texts.values()]);
  for (const [i, id] of [...texts.keys()].entries()) {
    const state = await embeddingState(db, id);
    assert.equal(state.status, "ready", `memory ${id}`);
    assert.equal(state.model, hash.model);
    assert.equal(state.error, null);
    assertSameVector(state.vector, expected[i]);
  }
}
