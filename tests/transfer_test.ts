// Export/import (shared/transfer): exact round trips between databases, idempotent re-imports,
// embeddings that travel only to the same model, and bad files that write nothing.
import assert from "node:assert/strict";
import type { Database, Queryable } from "../shared/db/types.ts";
import { type MemoryRecord, parseRecords } from "../shared/transfer/format.ts";
import { importRecords } from "../shared/transfer/import.ts";
import { openScratchDb, openTestDb, testEachBackend } from "./helpers/db.ts";
import { newTestUser } from "./helpers/users.ts";
import {
  AWKWARD_CONTENT,
  exportAll,
  MODEL,
  seedUser,
  syntheticLine,
  toJsonl,
} from "./helpers/transfer.ts";

/** What must survive a move, read privileged: every column but owner and project ids. */
async function snapshot(db: Database, userId: string) {
  const ts = (c: string) => `to_char(${c} at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`;
  return await db.query(
    `select p.slug, p.name, p.description, p.is_default, m.id, m.kind, m.title, m.content,
       m.tags, m.metadata, m.repo, m.file_path, m.language, m.symbol, m.commit_sha, m.importance,
       m.content_hash, m.fts::text as fts, m.version, m.access_count, ${ts("m.created_at")} c,
       ${ts("m.updated_at")} u, ${ts("m.last_accessed_at")} a, ${ts("m.expires_at")} e
     from memories m join projects p on p.id = m.project_id
     where p.owner_id = $1 order by m.created_at, m.id`,
    [userId],
  );
}

/**
 * Records without the fields naming the source owner. Unless strict, also without embedding
 * fields: on the shared PostgreSQL another test's stack may embed (or re-embed) rows meanwhile.
 */
function comparable(records: MemoryRecord[], strict: boolean) {
  return records.map(({ user_id: _u, project_id: _p, ...r }) =>
    strict
      ? r
      : { ...r, embedding_status: undefined, embedding_model: undefined, embedding: undefined }
  );
}

testEachBackend(
  "transfer: export → import into a fresh database gives identical rows",
  async (backend) => {
    const source = await openTestDb(backend);
    try {
      const userA = await seedUser(source);
      const before = await snapshot(source, userA);
      const exported = await exportAll(source, userA);
      assert.equal(exported.length, AWKWARD_CONTENT.length);
      const strict = backend === "pglite";
      if (strict) assert.equal(exported.filter((r) => r.embedding).length, 4);
      // The file itself: one line per memory, every line valid JSON.
      const jsonl = toJsonl(exported);
      assert.equal(jsonl.split("\n").length, exported.length + 1);

      const target = await openScratchDb(backend, { migrated: true });
      try {
        const userB = await newTestUser(target);
        const summary = await importRecords(target, userB, await parseRecords(jsonl), {
          embeddingModel: MODEL,
        });
        assert.deepEqual({ ...summary, embedded: strict ? summary.embedded : 4 }, {
          records: exported.length,
          inserted: exported.length,
          reassigned: 0,
          unchanged: 0,
          duplicates: 0,
          embedded: 4,
          projects_created: ["default", "proj-a"],
        });
        assert.deepEqual(await snapshot(target, userB), before);
        const again = await exportAll(target, userB);
        assert.deepEqual(comparable(again, strict), comparable(exported, strict));
        for (const [i, r] of again.entries()) assert.equal(r.content, AWKWARD_CONTENT[i]);
        const [project] = await target.query<{ is_default: boolean }>(
          "select is_default from projects where owner_id = $1 and slug = 'default'",
          [userB],
        );
        assert.equal(project.is_default, true, "the default project stays the default");
      } finally {
        await target.close();
      }
    } finally {
      await source.close();
    }
  },
);

testEachBackend("transfer: re-importing the same file changes nothing", async (backend) => {
  const db = await openTestDb(backend);
  try {
    const user = await seedUser(db);
    const jsonl = toJsonl(await exportAll(db, user));
    const other = await newTestUser(db);
    await importRecords(db, other, await parseRecords(jsonl), { embeddingModel: MODEL });
    const once = await snapshot(db, other);
    const summary = await importRecords(db, other, await parseRecords(jsonl), {
      embeddingModel: MODEL,
    });
    assert.equal(summary.inserted + summary.reassigned, 0);
    assert.equal(summary.projects_created.length, 0);
    assert.deepEqual(await snapshot(db, other), once);
    // The source user re-importing its own export: every id is already there, untouched.
    const own = await importRecords(db, user, await parseRecords(jsonl));
    assert.equal(own.unchanged, AWKWARD_CONTENT.length);
  } finally {
    await db.close();
  }
});

testEachBackend(
  "transfer: another user's ids get fresh ids; content is never lost",
  async (backend) => {
    const db = await openTestDb(backend);
    try {
      const userA = await seedUser(db);
      const jsonl = toJsonl(await exportAll(db, userA));
      const userB = await newTestUser(db);
      const first = await importRecords(db, userB, await parseRecords(jsonl));
      assert.equal(first.reassigned, AWKWARD_CONTENT.length);
      const second = await importRecords(db, userB, await parseRecords(jsonl));
      assert.equal(
        second.duplicates,
        AWKWARD_CONTENT.length,
        "same content, same project: skipped",
      );
      const contents = (await snapshot(db, userB)).map((r) => r.content);
      assert.deepEqual(contents, AWKWARD_CONTENT);
      // A's memories are untouched.
      assert.equal((await snapshot(db, userA)).length, AWKWARD_CONTENT.length);
    } finally {
      await db.close();
    }
  },
);

testEachBackend(
  "transfer: vectors travel only to the same model; others arrive pending",
  async (backend) => {
    const db = await openTestDb(backend);
    try {
      const user = await seedUser(db);
      const cases = [
        { withEmbeddings: false, model: MODEL },
        { withEmbeddings: true, model: "another-model" },
        { withEmbeddings: true, model: undefined },
      ];
      for (const c of cases) {
        const exported = await exportAll(db, user, c.withEmbeddings);
        if (!c.withEmbeddings) assert.ok(exported.every((r) => !r.embedding && !r.embedding_model));
        const target = await newTestUser(db);
        const summary = await importRecords(db, target, await parseRecords(toJsonl(exported)), {
          embeddingModel: c.model,
        });
        assert.equal(summary.embedded, 0, JSON.stringify(c));
        const rows = await db.query<{ embedding_model: string | null; embedding_status: string }>(
          `select m.embedding_model, m.embedding_status from memories m
         join projects p on p.id = m.project_id where p.owner_id = $1`,
          [target],
        );
        assert.equal(rows.length, AWKWARD_CONTENT.length);
        // Nothing of the source's model arrived. (On the shared PostgreSQL a running stack of
        // another test may already have embedded them with its own model.)
        assert.ok(rows.every((r) => r.embedding_model !== MODEL), JSON.stringify(c));
        if (backend === "pglite") assert.ok(rows.every((r) => r.embedding_status === "pending"));
      }
    } finally {
      await db.close();
    }
  },
);

Deno.test("transfer: a malformed line is reported with its number", async () => {
  const good = syntheticLine(1);
  const bad = async (line: string, pattern: RegExp) => {
    const text = `${good}\n\n${line}\n`; // the blank line still counts
    await assert.rejects(parseRecords(text), (err: Error) => {
      assert.match(err.message, /^line 3: /);
      assert.match(err.message, pattern);
      return true;
    });
  };
  await bad("{not json", /not valid JSON/);
  await bad(syntheticLine(2, { kind: "nonsense" as never }), /kind/);
  await bad(syntheticLine(2, { content: "nul \0 inside" }), /NUL/);
  // What the database would store changed (U+FFFD) or refuse is a line error, not a silent edit.
  await bad(syntheticLine(2, { content: "lone \ud800 surrogate" }), /content.*surrogate/);
  await bad(syntheticLine(2, { title: "\udfff" }), /title.*surrogate/);
  await bad(syntheticLine(2, { tags: ["ok", "x\ud83d"] }), /tags.*surrogate/);
  await bad(syntheticLine(2, { metadata: { note: "nul \0" } }), /metadata.*NUL/);
  await bad(syntheticLine(2, { metadata: { ["k\udc00"]: 1 } }), /metadata.*surrogate/);
  await bad(syntheticLine(2, { content: "" }), /content/);
  await bad(syntheticLine(2, { created_at: "yesterday" }), /created_at/);
  await bad(syntheticLine(2, { project: "Not A Slug" }), /project/);
  await bad(syntheticLine(2, { embedding: [1, 2, 3] }), /embedding/);
  await bad(good, /already on line 1/);
  // An editor that turned CRLF into LF is caught by the content hash.
  const crlf = JSON.parse(syntheticLine(2, { content: "a\r\nb" }));
  crlf.content_hash = await sha256("a\r\nb");
  await parseRecords(JSON.stringify(crlf)); // intact: fine
  await bad(JSON.stringify({ ...crlf, content: "a\nb" }), /content_hash/);
  // Line numbers continue across chunks.
  await assert.rejects(parseRecords("{", 41), /line 41: not valid JSON/);
  assert.equal((await parseRecords(`\uFEFF${good}\r\n`)).length, 1, "BOM and CRLF are fine");
});

async function sha256(s: string) {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The database, failing the second memories insert: a crash halfway through an import. */
function failingSecondInsert(db: Database): Database {
  let inserts = 0;
  const wrap = (q: Queryable): Queryable => ({
    query: (text, params) => {
      if (text.includes("insert into memories") && ++inserts === 2) {
        return Promise.reject(new Error("injected failure"));
      }
      return q.query(text, params);
    },
    exec: (sql) => q.exec(sql),
  });
  return { ...db, transaction: (fn) => db.transaction((tx) => fn(wrap(tx))) };
}

testEachBackend("transfer: a failure halfway writes nothing", async (backend) => {
  const db = await openTestDb(backend);
  try {
    const user = await newTestUser(db);
    const jsonl = Array.from({ length: 450 }, (_, i) => syntheticLine(i)).join("\n");
    await assert.rejects(
      importRecords(failingSecondInsert(db), user, await parseRecords(jsonl)),
      /injected failure/,
    );
    const [counts] = await db.query<{ projects: number; memories: number }>(
      `select (select count(*)::int from projects where owner_id = $1) as projects,
              (select count(*)::int from memories where user_id = $1) as memories`,
      [user],
    );
    assert.deepEqual(counts, { projects: 0, memories: 0 });
    const summary = await importRecords(db, user, await parseRecords(jsonl));
    assert.equal(summary.inserted, 450, "the same file goes through once the fault is gone");
  } finally {
    await db.close();
  }
});

testEachBackend(
  "transfer: a long memory's vector does not travel (its chunks do not), so it is re-embedded",
  async (backend) => {
    const db = await openTestDb(backend);
    try {
      const target = await newTestUser(db);
      const vector = Array.from({ length: 384 }, (_, i) => (i === 0 ? 1 : 0));
      const line = (i: number, content: string) =>
        syntheticLine(i, { content, embedding: vector, embedding_model: MODEL });
      const long = `${"A paragraph about release chores and their checklists. ".repeat(40)}end`;
      const summary = await importRecords(
        db,
        target,
        await parseRecords(`${line(1, "short and complete")}\n${line(2, long)}\n`),
        { embeddingModel: MODEL },
      );
      assert.equal(summary.embedded, 1, "only the short memory keeps its vector");
      const rows = await db.query<{ long: boolean; embedding_status: string }>(
        `select char_length(m.content) > 1000 as long, m.embedding_status from memories m
         join projects p on p.id = m.project_id where p.owner_id = $1 order by 1`,
        [target],
      );
      assert.deepEqual(rows.map((r) => [r.long, r.embedding_status]), [
        [false, "ready"],
        [true, "pending"],
      ]);
    } finally {
      await db.close();
    }
  },
);
