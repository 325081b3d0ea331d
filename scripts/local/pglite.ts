import { type Extensions, PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import type { Database, Queryable } from "../../shared/db/types.ts";
import { SESSION_SEARCH_PATH } from "../../shared/db/types.ts";

export interface PgliteOptions {
  /** More PGlite extensions (e.g. contrib auto_explain for the benchmark's plans). */
  extensions?: Extensions;
  /** Server notices and LOG messages (only with client_min_messages lowered). */
  onNotice?: (message: string) => void;
}

/** Embedded Postgres (WASM): in memory when dataDir is undefined, else persisted there. */
export async function openPglite(dataDir?: string, opts: PgliteOptions = {}): Promise<Database> {
  const pg = await PGlite.create({ dataDir, extensions: { vector, ...opts.extensions } });
  const onNotice = opts.onNotice && ((n: { message?: string }) => opts.onNotice!(n.message ?? ""));
  await pg.exec(`set search_path = ${SESSION_SEARCH_PATH}; set timezone = 'UTC'`);
  const wrap = (q: Pick<PGlite, "query" | "exec">): Queryable => ({
    async query<T>(text: string, params?: readonly unknown[]) {
      return (await q.query<T>(text, params as unknown[], { onNotice })).rows;
    },
    async exec(sql: string) {
      await q.exec(sql);
    },
  });
  return {
    kind: "pglite",
    ...wrap(pg),
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    async listen(channel, onNotify) {
      const unlisten = await pg.listen(channel, onNotify);
      return async () => await unlisten();
    },
    close: () => pg.close(),
  };
}
