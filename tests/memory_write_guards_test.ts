/**
 * Write guards on memories: a user may edit what they author but never the embedding columns
 * or the bookkeeping, and a title edit re-embeds (the vector covers title and content).
 */
import assert from "node:assert/strict";
import { asUser } from "../shared/db/as_user.ts";
import { embeddingText } from "../shared/embed/worker.ts";
import { HashEmbeddingProvider } from "../shared/embeddings/index.ts";
import { toColumnVector } from "../shared/embeddings/pad.ts";
import { testEachBackend } from "./helpers/db.ts";
import { assertSameVector, embeddingState, waitForEmbeddings } from "./helpers/embed.ts";
import { withStack } from "./helpers/stack.ts";
import { waitFor } from "./helpers/wait.ts";

const MEMORIES = "/functions/v1/memories";
const hash = new HashEmbeddingProvider();

testEachBackend(
  "a user cannot write embedding or bookkeeping columns",
  (backend) =>
    withStack(backend, async (stack) => {
      const user = await stack.newUser();
      const res = await stack.api(user, MEMORIES, {
        method: "POST",
        json: { content: "pool size must exceed worker count", title: "pool sizing" },
      });
      assert.equal(res.status, 201);
      const { memory } = await res.json();
      await waitForEmbeddings(stack.db, [memory.id]);
      const before = await embeddingState(stack.db, memory.id);

      const forged = [
        `embedding = (select array_fill(0.5, array[384])::extensions.vector)`,
        `embedding_status = 'ready'`,
        `embedding_model = 'forged'`,
        `access_count = 1000000`,
        `version = 1`,
      ];
      for (const set of forged) {
        await assert.rejects(
          asUser(
            stack.db,
            user.userId,
            (tx) => tx.query(`update public.memories set ${set} where id = $1`, [memory.id]),
          ),
          (err: { code?: string }) => err.code === "42501",
          `set ${set} is refused`,
        );
      }
      assert.deepEqual(await embeddingState(stack.db, memory.id), before);

      // What the user authors stays editable as the user.
      const [edited] = await asUser(stack.db, user.userId, (tx) =>
        tx.query<{ importance: number; version: number }>(
          `update public.memories set importance = 0.9 where id = $1 returning importance, version`,
          [memory.id],
        ));
      assert.equal(edited.version, 2);
    }),
);

testEachBackend(
  "a title edit re-embeds the memory with its new title",
  (backend) =>
    withStack(backend, async (stack) => {
      const user = await stack.newUser();
      const content = "retry the webhook with exponential backoff";
      const created = await stack.api(user, MEMORIES, {
        method: "POST",
        json: { content, title: "webhook retries" },
      });
      assert.equal(created.status, 201);
      const { memory } = await created.json();
      await waitForEmbeddings(stack.db, [memory.id]);

      const title = "sweep schedule for failed embeddings";
      const patched = await stack.api(user, `${MEMORIES}/${memory.id}`, {
        method: "PATCH",
        json: { title },
      });
      assert.equal(patched.status, 200);
      const [expected] = await hash.embed([embeddingText({ title, content })]);
      const state = await waitFor(async () => {
        const s = await embeddingState(stack.db, memory.id);
        return s.status === "ready" ? s : undefined;
      }, { message: "the re-embedding after the title edit" });
      assertSameVector(state.vector, toColumnVector(expected));
    }),
);
