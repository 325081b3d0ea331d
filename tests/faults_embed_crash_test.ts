/**
 * Fault: the `embed` function crashes in the middle of a webhook's batch, its provider failing
 * on one call, or its process dying while a call is under way. What it embedded before the
 * crash stays stored and correct, the rest stays pending (nothing lost, nothing half-written),
 * and the sweep re-sends the rest until every memory is embedded, with no manual step.
 */
import assert from "node:assert/strict";
import { testEachBackend } from "./helpers/db.ts";
import { embeddingState, newWriter, waitForEmbeddings } from "./helpers/embed.ts";
import { assertEmbeddedAs, crashOnCall, embedAnswers, openIsolatedDb } from "./helpers/faults.ts";
import { withStack } from "./helpers/stack.ts";
import { waitFor } from "./helpers/wait.ts";

/** Rows in one INSERT statement, so one webhook carries them all (at most 100 ids). */
const BATCH = 80;
/** Quick retries: a row is re-sent 300 ms after its last write, or 100 ms after a failure. */
const sweep = { intervalMs: 50, pendingAfterMs: 300, backoffBaseMs: 100 };

for (const how of ["throw", "hang"] as const) {
  const fault = how === "throw" ? "the provider fails" : "the process dies";
  testEachBackend(`faults: ${fault} mid-batch; done rows stay, the sweep embeds the rest`, async (
    backend,
  ) => {
    const db = await openIsolatedDb(backend);
    try {
      await withStack(
        backend,
        async (stack) => {
          using crash = crashOnCall(stack.ctx.embedder, 2, how);
          stack.ctx.embedder = crash.provider;
          const writer = await newWriter(stack.db);
          const tag = crypto.randomUUID();
          const contents = Array.from({ length: BATCH }, (_, i) => `crash batch ${i} ${tag}`);
          const ids = await writer.insertMany(contents);
          const idOf = new Map(contents.map((c, i) => [c, ids[i]]));

          await waitFor(() => crash.crashed, { message: "the crash on the second provider call" });
          const [before, during] = crash.calls.map((texts) => texts.map((t) => idOf.get(t)!));
          assert.ok(before.every(Boolean) && during.every(Boolean), "both calls are this batch's");
          assert.ok(before.length < BATCH, "the crash came in the middle of the batch");
          const rest = ids.filter((id) => !before.includes(id));
          assert.ok(rest.length > 0 && during.every((id) => rest.includes(id)));

          // The state the crash left, before anything repairs it (later calls wait for recover).
          if (how === "throw") {
            // embed answered 503 with what happened to each id, and counted the failed attempt.
            const [answer] = await waitFor(async () => {
              const answers = await embedAnswers(stack.db, ids);
              return answers.length > 0 && answers;
            }, { message: "embed's answer, recorded by the relay" });
            assert.equal(answer.status, 503);
            assert.deepEqual([...answer.embedded].sort(), [...before].sort());
            assert.deepEqual([...answer.failed].sort(), [...rest].sort());
          }
          await assertEmbeddedAs(
            stack.db,
            new Map(before.map((id) => [id, contents[ids.indexOf(id)]])),
          );
          for (const id of rest) {
            const state = await embeddingState(stack.db, id);
            assert.equal(state.status, "pending", "not lost: the sweep will retry it");
            assert.equal(state.vector, null);
            assert.equal(state.attempts, how === "throw" ? 1 : 0);
            assert.equal(state.error, how === "throw" ? "provider crashed mid-batch" : null);
          }

          crash.recover();
          await waitForEmbeddings(stack.db, ids, 20_000);
          await assertEmbeddedAs(stack.db, new Map(ids.map((id, i) => [id, contents[i]])));
          const [{ swept }] = await stack.db.query<{ swept: number }>(
            `select count(*)::int as swept from memories
           where id = any($1::uuid[]) and embedding_requested_at is not null`,
            [rest],
          );
          assert.equal(swept, rest.length, "the sweep re-sent every row the crash left");
          // Nothing was embedded twice: each id is in the `embedded` list of one answer at most.
          const embedded = (await embedAnswers(stack.db, ids)).flatMap((a) => a.embedded);
          assert.equal(new Set(embedded).size, embedded.length);
        },
        {},
        { db, embed: { sweep } },
      );
    } finally {
      await db.close();
    }
  });
}
