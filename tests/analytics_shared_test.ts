/**
 * A shared project's analytics show only what concerns that project (security review,
 * finding 8): a teammate sees the searches aimed at it with its own hits only, never the
 * searcher's filters, other projects or hits from their private projects.
 */
import assert from "node:assert/strict";
import { asUser } from "../shared/db/as_user.ts";
import type { SearchHit } from "../shared/search/types.ts";
import { testEachBackend } from "./helpers/db.ts";
import {
  call,
  createProject,
  MEMORIES,
  saveMemory,
  shareProject,
  uniqueSlug,
} from "./helpers/foundation.ts";
import { withStack } from "./helpers/stack.ts";

testEachBackend("analytics: a teammate sees only the shared project's part of a search", (
  backend,
) =>
  withStack(backend, async (stack) => {
    const [alice, carol] = [await stack.newUser(), await stack.newUser()];
    const priv = await createProject(stack, alice, { name: "Private", slug: uniqueSlug("priv") });
    const shared = await createProject(stack, alice, { name: "Shared", slug: uniqueSlug("team") });
    await shareProject(stack.db, alice.userId, shared.id, carol.userId, "reader");
    const word = `zyx${crypto.randomUUID().slice(0, 6)}`;
    const secret = await saveMemory(stack, alice, {
      content: `${word} secret`,
      project: priv.slug,
    });
    const open = await saveMemory(stack, alice, { content: `${word} open`, project: shared.slug });
    const r = await call<{ results: SearchHit[] }>(stack, alice, "POST", `${MEMORIES}/search`, {
      query: word,
      mode: "keyword",
      project: [priv.slug, shared.slug],
      tags_mode: "any",
    });
    assert.deepEqual(r.body.results.map((h) => h.id).sort(), [secret.id, open.id].sort());
    await stack.ctx.analytics.flush();

    const asCarol = <T>(sql: string, params: unknown[] = []) =>
      asUser(stack.db, carol.userId, (tx) => tx.query<T>(sql, params));
    // The raw events are Alice's alone.
    const raw = await asCarol<{ id: number }>("select id from public.search_events");
    assert.equal(raw.length, 0);
    // The project's view: the query and this project's hit, nothing about the private one.
    const view = await asCarol<Record<string, unknown>>(
      "select * from public.project_search_events($1)",
      [shared.id],
    );
    assert.equal(view.length, 1);
    const event = view[0];
    assert.deepEqual(
      [event.user_id, event.query, event.result_count, event.hit_ids],
      [alice.userId, word, 1, [open.id]],
    );
    const text = JSON.stringify(view);
    for (const leak of [priv.id, priv.slug, secret.id]) assert.ok(!text.includes(leak), leak);
    assert.deepEqual(
      Object.keys(event).sort(),
      [
        "cache_hit",
        "channel",
        "created_at",
        "effective_mode",
        "hit_ids",
        "id",
        "latency_ms",
        "mode",
        "query",
        "result_count",
        "user_id",
      ],
    );
    // Not a member of the private project: nothing, however it is asked.
    const other = await asCarol("select * from public.project_search_events($1)", [priv.id]);
    assert.equal(other.length, 0);
    // Alice still reads her whole event.
    const own = await asUser(stack.db, alice.userId, (tx) =>
      tx.query<{ project_ids: string[]; hit_ids: string[] }>(
        "select project_ids, hit_ids from public.search_events",
      ));
    assert.equal(own.length, 1);
    assert.deepEqual(own[0].project_ids.sort(), [priv.id, shared.id].sort());
  }));
