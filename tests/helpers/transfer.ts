/** Test data for export/import: awkward content in every column, embeddings of a test model. */
import type { Database } from "../../shared/db/types.ts";
import { EMBEDDING_DIMENSIONS } from "../../shared/embeddings/types.ts";
import { MemoryService } from "../../shared/memory/service.ts";
import { exportRecords } from "../../shared/transfer/export.ts";
import { formatRecord, type MemoryRecord } from "../../shared/transfer/format.ts";
import { newTestUser } from "./users.ts";

export const MODEL = "test-model";

/** Content that breaks naive serialisers: line ends, controls, astral and combining chars. */
export const AWKWARD_CONTENT = [
  "plain ascii",
  "CRLF line one\r\nline two\r\n",
  "lone CR\rthen LF\nthen CRLF\r\n\n",
  "tab\there, controls \u0001\u001f\u007f, ANSI \u001b[31mred\u001b[0m",
  "emoji 😀 👩‍💻 🏳️‍🌈 🇫🇷, e\u0301 (combining) vs é (precomposed)",
  "RTL עברית العربية, CJK 漢字かなカナ, zero\u200bwidth, BOM\ufeffinside",
  "JSON line separators \u2028 and \u2029",
  "  leading and trailing whitespace  \n\n",
  "quotes \" ' ` and backslashes \\ \\n \\u0041 (literal)",
  "x".repeat(32 * 1024 - 6) + "末尾", // 32 KiB exactly, in UTF-8 bytes
];

const vector = (seed: number) =>
  Array.from({ length: EMBEDDING_DIMENSIONS }, (_, i) => Math.sin(seed + i) / 7);

/** A user with two projects and memories using every column; four embedded by `model`. */
export async function seedUser(db: Database, model = MODEL): Promise<string> {
  const userId = await newTestUser(db, "transfer");
  const service = new MemoryService(db);
  await service.createProject(userId, {
    name: "Project Ω",
    slug: "proj-a",
    description: "línea 1\r\nline 2",
  });
  const ids: string[] = [];
  for (const [i, content] of AWKWARD_CONTENT.entries()) {
    const { memory } = await service.save(userId, {
      content,
      project: i % 2 ? "proj-a" : undefined,
      title: i % 3 ? `Title ${i} ✓` : undefined,
      kind: i % 2 ? "decision" : "snippet",
      tags: i % 2 ? ["a", "b:c", "ünï"] : [],
      metadata: i % 2 ? { nested: { list: [1, "two", null], emoji: "🎉" }, n: 1.5 } : undefined,
      repo: "github.com/acme/api",
      file_path: i % 2 ? "src/ö.ts" : undefined,
      language: "typescript",
      symbol: i % 2 ? "fn" : undefined,
      commit_sha: "abc123",
      importance: i / AWKWARD_CONTENT.length,
      expires_at: i === 3 ? "2999-01-02T03:04:05.123Z" : undefined,
    });
    ids.push(memory.id);
  }
  await service.update(userId, ids[1], { title: "edited", tags: ["x"] }); // version 2
  await db.query(
    `update memories set access_count = 7, last_accessed_at = now() - interval '1 day'
     where id = $1`,
    [ids[2]],
  );
  for (const [n, id] of ids.slice(0, 4).entries()) {
    await db.query(
      `update memories set embedding = $2::extensions.vector, embedding_model = $3,
         embedding_status = 'ready', embedded_at = now() where id = $1`,
      [id, JSON.stringify(vector(n)), model],
    );
  }
  return userId;
}

export async function exportAll(db: Database, userId: string, withEmbeddings = true) {
  const records: MemoryRecord[] = [];
  for await (const r of exportRecords(db, userId, { withEmbeddings, pageSize: 3 })) records.push(r);
  return records;
}

export const toJsonl = (records: MemoryRecord[]) => records.map(formatRecord).join("");

/** A valid line for `project`, with a new id. */
export function syntheticLine(i: number, extra: Partial<MemoryRecord> = {}): string {
  return JSON.stringify({
    id: crypto.randomUUID(),
    project: "bulk",
    project_name: "Bulk",
    kind: "note",
    content: `synthetic memory ${i} ${crypto.randomUUID()}`,
    created_at: "2024-05-06T07:08:09.123456Z",
    updated_at: "2024-05-06T07:08:09.123456Z",
    ...extra,
  });
}
