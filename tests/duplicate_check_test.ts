/**
 * Save never waits on the near-duplicate check for long, and never fails because of it: when
 * the new text cannot be embedded (provider down, too slow, no calibrated threshold for the
 * model) the memory is saved and the answer says the check was skipped.
 */
import assert from "node:assert/strict";
import { MemoryCache } from "../shared/cache/memory.ts";
import { embedMemories } from "../shared/embed/worker.ts";
import { HashEmbeddingProvider } from "../shared/embeddings/hash.ts";
import type { EmbeddingProvider } from "../shared/embeddings/types.ts";
import { MemoryService } from "../shared/memory/service.ts";
import { DuplicateFinder } from "../shared/search/duplicates.ts";
import { FakeClock } from "./helpers/clock.ts";
import { openTestDb, testEachBackend } from "./helpers/db.ts";
import { newTestUser } from "./helpers/users.ts";

const hash = new HashEmbeddingProvider();

/** The hash model's vectors, from an embed call that the test lets through (or not). */
function gatedProvider(): EmbeddingProvider & { release(): void; calls: number } {
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const provider = {
    name: hash.name,
    model: hash.model,
    semantic: hash.semantic,
    calls: 0,
    release: () => release(),
    async embed(texts: string[]) {
      provider.calls++;
      await gate;
      return await hash.embed(texts);
    },
  };
  return provider;
}

const failing: EmbeddingProvider = {
  name: hash.name,
  model: hash.model,
  semantic: false,
  embed: () => Promise.reject(new Error("provider down")),
};

testEachBackend(
  "duplicate check: skipped, never failing, when embedding fails or stalls",
  async (backend) => {
    const db = await openTestDb(backend);
    try {
      const userId = await newTestUser(db);
      const plain = new MemoryService(db);
      const { memory: first } = await plain.save(userId, {
        content: "Retry webhooks with exponential backoff, at most 5 attempts",
        project: "hooks",
      });
      await embedMemories(db, hash, [first.id]);
      const near = "Retry webhooks with exponential backoff, at most 8 attempts";

      // Provider down: saved, check skipped with the reason.
      const down = new MemoryService(db, new DuplicateFinder(new MemoryCache(), failing));
      const saved = await down.save(userId, { content: near, project: "hooks" });
      assert.equal(saved.duplicate, false);
      assert.deepEqual(saved.near_duplicates, []);
      assert.deepEqual(saved.duplicate_check, {
        status: "skipped",
        reason: "the embedding provider failed",
      });

      // Too slow: the save goes ahead once the bound passes (the clock is moved, not waited on).
      const clock = new FakeClock();
      const slow = gatedProvider();
      const stalled = new MemoryService(
        db,
        new DuplicateFinder(new MemoryCache(), slow, { timers: clock, timeoutMs: 3_000 }),
      );
      const pending = stalled.save(userId, { content: `${near} (slow)`, project: "hooks" });
      await clock.advance(2_999);
      assert.equal(clock.pending, 1, "still waiting within the bound");
      await clock.advance(1);
      const late = await pending;
      assert.deepEqual(late.duplicate_check, {
        status: "skipped",
        reason: "the embedding took longer than 3000 ms",
      });
      assert.equal(late.memory.content, `${near} (slow)`);
      slow.release();

      // A model without a calibrated threshold is not checked at all (no embedding call).
      const unknown = gatedProvider();
      const uncalibrated = new MemoryService(
        db,
        new DuplicateFinder(new MemoryCache(), { ...unknown, model: "supabase/gte-small" }),
      );
      const other = await uncalibrated.save(userId, { content: `${near} (gte)`, project: "hooks" });
      assert.deepEqual(other.duplicate_check, {
        status: "skipped",
        reason:
          "no calibrated near-duplicate threshold for the embedding model 'supabase/gte-small'",
      });
      assert.equal(unknown.calls, 0);

      // And when it works, the same save finds the first memory.
      const working = new MemoryService(db, new DuplicateFinder(new MemoryCache(), hash));
      const checked = await working.save(userId, {
        content: `${near} (checked)`,
        project: "hooks",
      });
      assert.deepEqual(checked.duplicate_check, {
        status: "checked",
        model: "hash-v2",
        threshold: 0.5,
      });
      assert.deepEqual(checked.near_duplicates.map((n) => n.id), [first.id]);
    } finally {
      await db.close();
    }
  },
);
