/**
 * The plans PostgreSQL really runs inside search_memories(), captured with auto_explain
 * (nested statements: the RPC body and its keyword helper are planned inside the function, so a
 * plain EXPLAIN of the call shows only a Function Scan).
 */
import { auto_explain } from "@electric-sql/pglite/contrib/auto_explain";
import { migrate } from "../../../shared/db/migrate.ts";
import { openPglite } from "../../local/pglite.ts";
import { openPostgres } from "../../../shared/db/postgres.ts";
import type { Database, Queryable } from "../../../shared/db/types.ts";
import type { Backend } from "./bench_stack.ts";
import { scratchDatabase } from "./scratch_db.ts";

export interface ExplainResult {
  /** The HNSW index orders the semantic side. */
  hnsw: boolean;
  /** A GIN index (lexemes, or tenant and lexemes) finds the keyword side. */
  gin: boolean;
  /** Plans that touch memories, vector literals shortened. */
  plans: string[];
}

/**
 * Runs `search` once with auto_explain on for the session of `db` (one connection: PGlite, or
 * a pool of one), collecting the LOG lines `notices` receives, then turns it off again. With
 * `buffers`, the plans show the pages each node touched.
 */
export async function explainSearch(
  db: Queryable,
  notices: { start(): void; stop(): string[] },
  search: () => Promise<unknown>,
  opts: { buffers?: boolean } = {},
): Promise<ExplainResult> {
  await db.exec(`load 'auto_explain';
    set auto_explain.log_min_duration = 0;
    set auto_explain.log_nested_statements = on;
    set auto_explain.log_analyze = on;
    set auto_explain.log_buffers = ${opts.buffers ? "on" : "off"};
    set auto_explain.log_timing = off;
    set client_min_messages = log;`);
  notices.start();
  try {
    await search();
  } finally {
    await db.exec(`set auto_explain.log_min_duration = -1; set client_min_messages = notice;`);
  }
  const plans = notices.stop()
    .filter((p) => /on memories|memories_\w+_idx/.test(p))
    .map((p) => p.replace(/'\[[-0-9.,e]+\]'::(extensions\.)?vector/g, "'[…vector…]'::vector"));
  return {
    hnsw: plans.some((p) => /Index Scan using memories_embedding_idx/.test(p)),
    gin: plans.some((p) => /Bitmap Index Scan on memories_(project_)?fts_idx/.test(p)),
    plans,
  };
}

/** Collects messages between start() and stop(); pass `push` as the driver's notice hook. */
export function noticeCollector() {
  let lines: string[] | null = null;
  return {
    push: (message: string) => lines?.push(message),
    start: () => void (lines = []),
    stop: () => {
      const out = lines ?? [];
      lines = null;
      return out;
    },
  };
}

export type NoticeCollector = ReturnType<typeof noticeCollector>;

export interface ExplainableDb {
  db: Database;
  /** One session whose auto_explain LOG lines reach `notices` (PGlite has only one: `db`). */
  explainDb: Database;
  notices: NoticeCollector;
  close(): Promise<void>;
}

/**
 * A migrated, empty database for a benchmark that also captures plans with explainSearch: an
 * in-memory PGlite with auto_explain, or a scratch database `<DATABASE_URL's db>_<suffix>`
 * (dropped on close) with a pool of `poolSize` plus a one-connection explain pool.
 */
export async function openExplainableDb(
  backend: Backend,
  databaseUrl: string | undefined,
  suffix: string,
  poolSize: number,
): Promise<ExplainableDb> {
  const notices = noticeCollector();
  const scratch = backend === "postgres" ? await scratchDatabase(databaseUrl!, suffix) : null;
  const db: Database = scratch
    ? openPostgres(scratch.url, { max: poolSize })
    : await openPglite(undefined, { extensions: { auto_explain }, onNotice: notices.push });
  const explainDb = scratch ? openPostgres(scratch.url, { max: 1, onNotice: notices.push }) : db;
  const close = async () => {
    if (explainDb !== db) await explainDb.close();
    await db.close();
    await scratch?.drop();
  };
  await migrate(db).catch(async (err) => {
    await close();
    throw err;
  });
  return { db, explainDb, notices, close };
}
