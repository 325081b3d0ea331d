/**
 * The embedded stack's `local` provider: all-MiniLM-L6-v2 (minilm_model.ts) in a worker thread.
 *
 * A forward pass blocks the thread it runs on (seconds for a batch of long texts on a busy
 * machine), so the model lives in its own thread (one per process, shared by every provider
 * instance) and the serving thread only posts texts and receives vectors. Passes run one at a time (a bounded worker: one core for inference, the
 * other for requests) and small calls — a search's query — go ahead of queued ingest batches,
 * so a search waits for at most one batch.
 */
import { Worker } from "node:worker_threads";
import { EmbeddingConfigError, EmbeddingError } from "../../../shared/embeddings/errors.ts";
import { toColumnVector } from "../../../shared/embeddings/pad.ts";
import type { EmbeddingProvider } from "../../../shared/embeddings/types.ts";
import { MINILM_MODEL, type MiniLMOptions } from "./minilm_model.ts";
import { PriorityQueue } from "./priority_queue.ts";

export { MINILM_DIMENSIONS, MINILM_MAX_TOKENS, MINILM_MODEL } from "./minilm_model.ts";

/**
 * Texts per forward pass. Padding makes a batch as long as its longest text, so small batches
 * waste little on mixed lengths; it is also the longest a query waits behind ingest work.
 */
export const MINILM_BATCH_SIZE = 4;

type Reply = { id: number; vectors: number[][] } | { id: number; error: string; config: boolean };

/**
 * The model's thread, one per process however many providers exist: a native addon loaded in
 * two worker isolates of one process crashes Deno ("Handle in an Isolate that is not its
 * host"), and one copy of the model is all the memory it should take. Passes run one at a time,
 * urgent ones first.
 */
class ModelThread {
  readonly queue = new PriorityQueue();
  readonly #pending = new Map<number, (reply: Reply) => void>();
  #worker: Worker | undefined;
  #nextId = 0;

  pass(texts: string[], opts: MiniLMOptions): Promise<number[][]> {
    const worker = this.#start(opts);
    const id = this.#nextId++;
    return new Promise<number[][]>((resolve, reject) => {
      this.#pending.set(id, (reply) => {
        this.#pending.delete(id);
        // Idle, the thread must not keep the process alive; a pass in flight must.
        if (this.#pending.size === 0) worker.unref();
        if ("vectors" in reply) return resolve(reply.vectors);
        const ErrorType = reply.config ? EmbeddingConfigError : EmbeddingError;
        reject(new ErrorType(`MiniLM: ${reply.error}`));
      });
      worker.ref();
      worker.postMessage({ id, texts });
    });
  }

  async stop(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  #start(opts: MiniLMOptions): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL("./minilm_worker.ts", import.meta.url), {
      workerData: opts,
    });
    worker.unref();
    worker.on("message", (reply: Reply) => this.#pending.get(reply.id)?.(reply));
    // A crashed thread fails what it had and is replaced on the next call.
    const fail = (why: string) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const [id, settle] of this.#pending) settle({ id, error: why, config: false });
    };
    worker.on("error", (err: Error) => fail(`worker failed: ${err.message}`));
    worker.on("exit", (code: number) => fail(`worker exited with code ${code}`));
    this.#worker = worker;
    return worker;
  }
}

const thread = new ModelThread();

export class MiniLMEmbeddingProvider implements EmbeddingProvider {
  readonly name = "local" as const;
  readonly model = MINILM_MODEL;
  readonly semantic = true;
  readonly #opts: MiniLMOptions;

  /** Options take effect when the process's model thread starts (the first embed). */
  constructor(opts: MiniLMOptions = {}) {
    this.#opts = opts;
  }

  async embed(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    const urgent = texts.length <= 2;
    const passes: Promise<number[][]>[] = [];
    for (let i = 0; i < texts.length; i += MINILM_BATCH_SIZE) {
      const batch = texts.slice(i, i + MINILM_BATCH_SIZE);
      passes.push(thread.queue.run(urgent, () => thread.pass(batch, this.#opts)));
    }
    return (await Promise.all(passes)).flat().map(toColumnVector);
  }

  /** Loads (and verifies) the model now rather than on the first embed. */
  async ready(): Promise<void> {
    await this.embed(["ready"]);
  }

  /** Stops the process's model thread (every provider's); a later embed starts it again. */
  close(): Promise<void> {
    return thread.stop();
  }
}
