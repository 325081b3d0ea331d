import { type AppContext, createContext } from "../../shared/app/context.ts";
import { createGateway } from "../../shared/app/gateway.ts";
import type { Config } from "../../shared/config.ts";
import { migrate } from "../../shared/db/migrate.ts";
import type { Database } from "../../shared/db/types.ts";
import { createAdminHandler } from "./admin.ts";

export interface Stack {
  url: string;
  ctx: AppContext;
  close(): Promise<void>;
}

export interface StackOptions {
  config: Config;
  db: Database;
  /** Secret for the loopback admin API the key CLI uses while the stack holds the database. */
  adminToken?: string;
  port?: number;
  hostname?: string;
}

/**
 * The embedded stack: migrations applied, every function at /functions/v1/<name> as on
 * Supabase, plus a loopback-only admin API. Used by `deno task start` and the tests.
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const { config, db } = opts;
  await migrate(db);
  const ctx = createContext(config, db);
  const gateway = createGateway(ctx);
  const admin = opts.adminToken ? createAdminHandler(db, opts.adminToken) : null;
  const server = Deno.serve(
    {
      port: opts.port ?? config.PORT,
      hostname: opts.hostname ?? config.HOST,
      onListen: () => {},
    },
    (req) => (admin && new URL(req.url).pathname.startsWith("/admin/") ? admin(req) : gateway(req)),
  );
  const { hostname, port } = server.addr;
  return {
    url: `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`,
    ctx,
    async close() {
      await server.shutdown();
    },
  };
}
