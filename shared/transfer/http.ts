/**
 * Export and import over HTTP, for the REST API (as the key's user) and the embedded stack's
 * admin API (as any user, for the CLI while the stack holds PGlite). Both speak the same:
 *   GET  …/export?with_embeddings=true&project=slug  → 200 application/x-ndjson, one memory a line
 *   POST …/import?first_line=N  (body: JSONL)        → 200 { import: ImportSummary }
 * A client sends a big file in chunks; each chunk is one transaction, and because import is
 * idempotent, re-sending the file after an interruption completes it.
 */
import type { Database } from "../db/types.ts";
import { badRequest } from "../errors.ts";
import { limitBody, MAX_BODY_BYTES } from "../http/body_limit.ts";
import { errorResponse } from "../http/errors.ts";
import { log } from "../log.ts";
import { exportRecords } from "./export.ts";
import { formatRecord, type MemoryRecord, parseRecords } from "./format.ts";
import { importRecords } from "./import.ts";

export const NDJSON = "application/x-ndjson";
/** Clients send chunks of at most this many bytes, well below the body limit (MAX_BODY_BYTES). */
export const IMPORT_CHUNK_BYTES = MAX_BODY_BYTES / 2;

export async function exportResponse(db: Database, userId: string, url: URL): Promise<Response> {
  const records = exportRecords(db, userId, {
    withEmbeddings: url.searchParams.get("with_embeddings") === "true",
    project: url.searchParams.get("project") ?? undefined,
  });
  // Pull the first record before answering: a bad request still gets a proper error status.
  let next: IteratorResult<MemoryRecord> | undefined = await records.next();
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const current = next ?? await records.next();
        next = undefined;
        if (current.done) controller.close();
        else controller.enqueue(encoder.encode(formatRecord(current.value)));
      } catch (err) {
        log.error("export failed mid-stream", err);
        controller.error(err);
      }
    },
    async cancel() {
      await records.return(undefined);
    },
  });
  return new Response(body, { headers: { "content-type": NDJSON } });
}

export async function importResponse(
  db: Database,
  userId: string,
  req: Request,
  embeddingModel: string | undefined,
): Promise<Response> {
  try {
    const firstLine = Number(new URL(req.url).searchParams.get("first_line") ?? "1");
    if (!Number.isInteger(firstLine) || firstLine < 1) {
      throw badRequest("first_line must be a positive integer");
    }
    const lines = await parseRecords(await readUtf8(req), firstLine);
    const summary = await importRecords(db, userId, lines, { embeddingModel });
    return Response.json({ import: summary });
  } catch (err) {
    return errorResponse(err);
  }
}

/** The body as text; 413 beyond the REST API's body limit, 400 when it is not UTF-8. */
async function readUtf8(req: Request): Promise<string> {
  const bytes = await (await limitBody(req)).arrayBuffer();
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw badRequest("The body is not valid UTF-8");
  }
}
