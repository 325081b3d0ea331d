import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import type { Database, Queryable } from "./types.ts";
import { SESSION_SEARCH_PATH } from "./types.ts";

/** Embedded Postgres (WASM): in memory when dataDir is undefined, else persisted there. */
export async function openPglite(dataDir?: string): Promise<Database> {
  const pg = await PGlite.create({ dataDir, extensions: { vector } });
  await pg.exec(`set search_path = ${SESSION_SEARCH_PATH}; set timezone = 'UTC'`);
  const wrap = (q: Pick<PGlite, "query" | "exec">): Queryable => ({
    async query<T>(text: string, params?: readonly unknown[]) {
      return (await q.query<T>(text, params as unknown[])).rows;
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
