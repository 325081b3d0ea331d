/**
 * Background work after the response is handed to Edge Runtime's `EdgeRuntime.waitUntil`, so
 * the platform keeps the isolate alive until it is done; where that global is missing (Deno,
 * the embedded stack) the same code simply runs on its timer.
 */
import assert from "node:assert/strict";
import { Batcher } from "../shared/batcher.ts";

Deno.test("a batch written after the response is kept alive with EdgeRuntime.waitUntil", async () => {
  const handed: Promise<unknown>[] = [];
  const runtime = globalThis as { EdgeRuntime?: unknown };
  runtime.EdgeRuntime = { waitUntil: (p: Promise<unknown>) => void handed.push(p) };
  try {
    const written: string[][] = [];
    const batcher = new Batcher<string>({
      flushAfterMs: 5,
      write: (b) => Promise.resolve(void written.push(b)),
    });
    batcher.add("search event");
    batcher.add("save event");
    assert.equal(handed.length, 1, "one promise per scheduled write");
    assert.deepEqual(written, [], "nothing written on the request path");
    await handed[0];
    assert.deepEqual(
      written,
      [["search event", "save event"]],
      "settled once the batch is written",
    );
    await batcher.close();
  } finally {
    delete runtime.EdgeRuntime;
  }
});

Deno.test("without EdgeRuntime (Deno, the embedded stack) batching works the same", async () => {
  const written: string[][] = [];
  const batcher = new Batcher<string>({
    flushAfterMs: 60_000,
    write: (b) => Promise.resolve(void written.push(b)),
  });
  batcher.add("event");
  await batcher.close();
  assert.deepEqual(written, [["event"]]);
});
