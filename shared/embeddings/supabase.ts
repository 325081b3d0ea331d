/**
 * gte-small (384-d, exactly the column's width) built into Supabase Edge Runtime: no key, no
 * network call. It reads at most 512 tokens; long memories arrive here as chunks.
 */
import type { EmbeddingProvider } from "./types.ts";
import { EmbeddingError } from "./errors.ts";
import { toColumnVector } from "./pad.ts";

export const SUPABASE_MODEL = "supabase/gte-small";

/** The part of Edge Runtime's `Supabase.ai.Session` this provider uses (injectable for tests). */
export interface GteSession {
  run(input: string, options: { mean_pool: boolean; normalize: boolean }): Promise<unknown>;
}

type SessionConstructor = new (model: string) => GteSession;

/** A new gte-small session, or undefined when not running on Supabase Edge Runtime. */
export function createGteSession(): GteSession | undefined {
  const runtime = globalThis as { Supabase?: { ai?: { Session?: SessionConstructor } } };
  const Session = runtime.Supabase?.ai?.Session;
  return Session ? new Session("gte-small") : undefined;
}

export class SupabaseEmbeddingProvider implements EmbeddingProvider {
  readonly name = "supabase" as const;
  readonly model = SUPABASE_MODEL;
  readonly semantic = true;
  readonly #session: GteSession;

  constructor(session: GteSession) {
    this.#session = session;
  }

  async embed(texts: string[]): Promise<number[][]> {
    const out: number[][] = [];
    // One text per run() (the API takes a single string); sequential, because inference is
    // CPU-bound in this isolate and parallel calls would only raise peak memory.
    for (const text of texts) {
      let raw: unknown;
      try {
        raw = await this.#session.run(text, { mean_pool: true, normalize: true });
      } catch (err) {
        throw new EmbeddingError(`gte-small inference failed: ${errorMessage(err)}`, {
          cause: err,
        });
      }
      out.push(toColumnVector(asNumbers(raw)));
    }
    return out;
  }
}

/** The runtime returns a plain array today; accept any array-like of numbers to be safe. */
function asNumbers(raw: unknown): ArrayLike<number> {
  const arrayLike = raw as ArrayLike<unknown> | null | undefined;
  if (
    typeof arrayLike?.length !== "number" || arrayLike.length === 0 ||
    !Array.prototype.every.call(arrayLike, (x) => typeof x === "number")
  ) {
    throw new EmbeddingError(
      "gte-small returned something other than a non-empty array of numbers",
    );
  }
  return arrayLike as ArrayLike<number>;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
