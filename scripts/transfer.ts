// `deno task export [--out FILE] [--with-embeddings] [--project SLUG] <who>`
// `deno task import [FILE] <who>`            (FILE omitted or "-": standard input)
// JSON Lines, one memory per line (shared/transfer/format.ts). <who> picks the access path:
//   --url URL --key KEY  a deployment's REST API as the key's user (Supabase, or a local stack);
//                        the key may come from CODEMEMORY_API_KEY instead of the command line;
//   --email EMAIL        the operator's way: DATABASE_URL when set, else the local data dir —
//                        through the running stack's admin API (the stack holds PGlite), or
//                        PGlite itself when no stack runs.
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { createEmbedder } from "../shared/app/embedder.ts";
import { ensureUser } from "../shared/auth/api_keys.ts";
import { loadConfig } from "../shared/config.ts";
import { openDatabase } from "./local/database.ts";
import { migrate } from "../shared/db/migrate.ts";
import type { Database } from "../shared/db/types.ts";
import { type ExportOptions, exportRecords } from "../shared/transfer/export.ts";
import { formatRecord, type ParsedLine, parseRecords } from "../shared/transfer/format.ts";
import { IMPORT_CHUNK_BYTES } from "../shared/transfer/http.ts";
import { importRecords, type ImportSummary } from "../shared/transfer/import.ts";
import { findUserId } from "./local/admin_transfer.ts";
import { pgliteDir, readLiveState } from "./local/state.ts";
import { runMain } from "./lib/run_main.ts";
import { LOCAL_PROVIDERS } from "./local/embeddings/index.ts";

const USAGE = `usage:
  deno task export [--out FILE] [--with-embeddings] [--project SLUG] (--email EMAIL | --url URL --key KEY)
  deno task import [FILE] (--email EMAIL | --url URL --key KEY)`;

type Write = (bytes: Uint8Array) => Promise<void>;

/** Where the memories are: reached over HTTP or through the database itself. */
interface Target {
  /** Writes the JSONL export; returns the number of memories. */
  exportTo(write: Write, opts: ExportOptions): Promise<number>;
  importLines(text: string, lines: ParsedLine[]): Promise<ImportSummary>;
  close(): Promise<void>;
}

const MAX_LINES_PER_REQUEST = 500;

/** The REST API (`…/functions/v1/memories`) or the stack's admin API (`…/admin` + email). */
function httpTarget(base: string, headers: Record<string, string>, query = {}): Target {
  const url = (path: string, params: Record<string, string>) =>
    `${base}/${path}?${new URLSearchParams({ ...query, ...params })}`;
  const fail = async (res: Response) => {
    const body = await res.json().catch(() => null);
    return new Error(body?.error?.message ?? `${res.url} answered ${res.status}`);
  };
  return {
    async exportTo(write, opts) {
      const params: Record<string, string> = {};
      if (opts.withEmbeddings) params.with_embeddings = "true";
      if (opts.project) params.project = opts.project;
      const res = await fetch(url("export", params), { headers });
      if (!res.ok || !res.body) throw await fail(res);
      let count = 0;
      for await (const chunk of res.body) {
        count += chunk.filter((b) => b === 10).length;
        await write(chunk);
      }
      return count;
    },
    async importLines(text) {
      // Chunks within the body limit; each is one transaction on the server. Import is
      // idempotent, so after an interruption running the same command again completes it.
      let total = emptySummary();
      for (const chunk of chunkLines(text)) {
        const res = await fetch(url("import", { first_line: String(chunk.firstLine) }), {
          method: "POST",
          headers: { ...headers, "content-type": "application/x-ndjson" },
          body: chunk.text,
        });
        if (!res.ok) throw await fail(res);
        total = addSummaries(total, (await res.json()).import);
      }
      return total;
    },
    async close() {},
  };
}

/** Direct database access (DATABASE_URL or PGlite), as the user with that email. */
function dbTarget(db: Database, email: string, embeddingModel?: string): Target {
  return {
    async exportTo(write, opts) {
      let count = 0;
      const encoder = new TextEncoder();
      for await (const record of exportRecords(db, await findUserId(db, email), opts)) {
        await write(encoder.encode(formatRecord(record)));
        count++;
      }
      return count;
    },
    async importLines(_text, lines) {
      await migrate(db);
      // One transaction for the whole file: all of it lands, or nothing does.
      return await importRecords(db, await ensureUser(db, email), lines, { embeddingModel });
    },
    close: () => db.close(),
  };
}

function* chunkLines(text: string): Generator<{ firstLine: number; text: string }> {
  const lines = text.split("\n");
  let start = 0;
  while (start < lines.length) {
    let end = start;
    let bytes = 0;
    while (end < lines.length && end - start < MAX_LINES_PER_REQUEST) {
      bytes += new TextEncoder().encode(lines[end]).length + 1;
      if (bytes > IMPORT_CHUNK_BYTES && end > start) break;
      end++;
    }
    const chunk = lines.slice(start, end);
    if (chunk.some((l) => l.trim() !== "")) yield { firstLine: start + 1, text: chunk.join("\n") };
    start = end;
  }
}

const emptySummary = (): ImportSummary => ({
  records: 0,
  inserted: 0,
  reassigned: 0,
  unchanged: 0,
  duplicates: 0,
  embedded: 0,
  projects_created: [],
});

function addSummaries(a: ImportSummary, b: ImportSummary): ImportSummary {
  return {
    records: a.records + b.records,
    inserted: a.inserted + b.inserted,
    reassigned: a.reassigned + b.reassigned,
    unchanged: a.unchanged + b.unchanged,
    duplicates: a.duplicates + b.duplicates,
    embedded: a.embedded + b.embedded,
    projects_created: [...a.projects_created, ...b.projects_created],
  };
}

async function openTarget(
  values: { url?: string; key?: string; email?: string },
  command: string,
): Promise<Target> {
  if (values.url) {
    const key = values.key ?? Deno.env.get("CODEMEMORY_API_KEY");
    if (!key) throw new Error("--url needs --key (or CODEMEMORY_API_KEY)");
    const base = values.url.replace(/\/+$/, "").replace(/(\/functions\/v1\/memories)?$/, "");
    return httpTarget(`${base}/functions/v1/memories`, { authorization: `Bearer ${key}` });
  }
  if (!values.email) throw new Error("Say whose memories: --email EMAIL, or --url URL --key KEY");
  const config = loadConfig();
  const embeddingModel = (() => {
    try {
      return createEmbedder(config, LOCAL_PROVIDERS).model;
    } catch {
      return undefined; // unusable provider config: every memory arrives pending
    }
  })();
  if (config.databaseUrl) {
    return dbTarget(
      await openDatabase({ databaseUrl: config.databaseUrl }),
      values.email,
      embeddingModel,
    );
  }
  const dataDir = config.CODEMEMORY_DATA_DIR;
  const running = await readLiveState(dataDir);
  if (running) {
    return httpTarget(`${running.url}/admin`, { "x-admin-token": running.adminToken }, {
      email: values.email,
    });
  }
  if (command === "export" && !existsSync(pgliteDir(dataDir))) {
    throw new Error(`No local data in ${dataDir} (set CODEMEMORY_DATA_DIR or DATABASE_URL)`);
  }
  await Deno.mkdir(dataDir, { recursive: true });
  const db = await openDatabase({ dataDir: pgliteDir(dataDir) });
  return dbTarget(db, values.email, embeddingModel);
}

async function runExport(target: Target, out: string | undefined, opts: ExportOptions) {
  if (!out) {
    const count = await target.exportTo(async (b) => void await Deno.stdout.write(b), opts);
    console.error(`Exported ${count} memories.`);
    return;
  }
  // Written aside and renamed at the end: a failed export never leaves a plausible-looking file.
  const partial = `${out}.partial`;
  const file = await Deno.open(partial, { write: true, create: true, truncate: true });
  try {
    const writer = file.writable.getWriter();
    const count = await target.exportTo((b) => writer.write(b), opts);
    await writer.close();
    await Deno.rename(partial, out);
    console.error(`Exported ${count} memories to ${out}.`);
  } catch (err) {
    await Deno.remove(partial).catch(() => {});
    throw err;
  }
}

async function runImport(target: Target, path: string | undefined) {
  const bytes = !path || path === "-"
    ? new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer())
    : await Deno.readFile(path);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`${path ?? "standard input"} is not valid UTF-8`);
  }
  // Validate every line before sending or writing anything.
  const lines = await parseRecords(text);
  const s = await target.importLines(text, lines);
  console.log(
    `Imported ${s.records} memories: ${s.inserted} new, ${s.reassigned} new under a fresh id, ` +
      `${s.unchanged} already present, ${s.duplicates} duplicate content; ` +
      `${s.embedded} with their embedding, ${
        s.inserted + s.reassigned - s.embedded
      } queued for embedding.`,
  );
  if (s.projects_created.length) console.log(`Projects created: ${s.projects_created.join(", ")}`);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      out: { type: "string" },
      "with-embeddings": { type: "boolean", default: false },
      project: { type: "string" },
      email: { type: "string" },
      url: { type: "string" },
      key: { type: "string" },
    },
    allowPositionals: true,
  });
  const [command, file, ...extra] = positionals;
  if (!["export", "import"].includes(command) || extra.length || (command === "export" && file)) {
    console.error(USAGE);
    return 2;
  }
  const target = await openTarget(values, command);
  try {
    if (command === "export") {
      await runExport(target, values.out, {
        withEmbeddings: values["with-embeddings"],
        project: values.project,
      });
    } else {
      await runImport(target, file);
    }
    return 0;
  } finally {
    await target.close();
  }
}

if (import.meta.main) await runMain(main);
