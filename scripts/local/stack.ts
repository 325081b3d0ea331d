import { type AppContext, createContext } from "../../shared/app/context.ts";
import { createGateway } from "../../shared/app/gateway.ts";
import type { Config } from "../../shared/config.ts";
import { migrate } from "../../shared/db/migrate.ts";
import type { Database } from "../../shared/db/types.ts";
import { createAdminHandler } from "./admin.ts";
import { type AnalyticsJobs, startAnalyticsJobs } from "./analytics_jobs.ts";
import { type MaintenanceOutcome, startMaintenance } from "./maintenance.ts";
import type { Periodic } from "../../shared/periodic.ts";
import {
  type EmbedPipeline,
  type EmbedPipelineOptions,
  ensureWebhookSecret,
  startEmbedPipeline,
} from "./embed_pipeline.ts";
import { type AuthStandIn, createAuthStandIn } from "../dev/auth_standin.ts";
import { createBrowserModules } from "./browser_modules.ts";
import { LOCAL_PROVIDERS } from "./embeddings/index.ts";
import { createStaticHandler } from "./static_files.ts";

/** The analytics dashboard (plain files, no build step), served at /dashboard/. */
const DASHBOARD_DIR = new URL("../../dashboard/", import.meta.url);

export interface Stack {
  url: string;
  ctx: AppContext;
  /** Webhook delivery (pg_net stand-in relay) and the retry sweep for embeddings. */
  embeds: EmbedPipeline;
  /** The analytics rollup and purge on a timer (what pg_cron runs on Supabase). */
  analyticsJobs: AnalyticsJobs;
  /** Supabase Auth's stand-in at /auth/v1 (only with `authStandIn`). */
  auth: AuthStandIn | null;
  /** On PGlite, autovacuum's stand-in (scripts/local/maintenance.ts); null on PostgreSQL. */
  maintenance: Periodic<MaintenanceOutcome> | null;
  close(): Promise<void>;
}

export interface StackOptions {
  config: Config;
  db: Database;
  /** Secret for the loopback admin API the key CLI uses while the stack holds the database. */
  adminToken?: string;
  port?: number;
  hostname?: string;
  embed?: EmbedPipelineOptions;
  /** Delay of the first analytics rollup (default 30 s; the interval comes from config). */
  analyticsFirstRunAfterMs?: number;
  /**
   * Serve a stand-in for Supabase Auth at /auth/v1 (scripts/dev/auth_standin.ts), signing
   * sessions with config.SUPABASE_JWT_SECRET: for supabase-js sign-in in tests.
   */
  authStandIn?: boolean;
}

/**
 * The embedded stack: migrations applied, every function at /functions/v1/<name> as on
 * Supabase, the embedding webhook (pg_net or its stand-in) and sweep, plus a loopback-only
 * admin API. Used by `deno task start` and the tests.
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const { config, db } = opts;
  await migrate(db);
  const secret = await ensureWebhookSecret(db, config.WEBHOOK_SECRET);
  const ctx = createContext({ ...config, WEBHOOK_SECRET: secret }, db, {
    providers: LOCAL_PROVIDERS,
  });
  const gateway = createGateway(ctx);
  const admin = opts.adminToken
    ? createAdminHandler(db, opts.adminToken, {
      embeddingModel: ctx.embedder.model,
      cache: ctx.cache,
    })
    : null;
  const dashboard = createStaticHandler(DASHBOARD_DIR, "/dashboard");
  const browserModules = createBrowserModules();
  if (opts.authStandIn && !config.SUPABASE_JWT_SECRET) {
    throw new Error("The auth stand-in signs sessions with SUPABASE_JWT_SECRET: set it");
  }
  const auth = opts.authStandIn ? createAuthStandIn(db, config.SUPABASE_JWT_SECRET!) : null;
  const server = Deno.serve(
    {
      port: opts.port ?? config.PORT,
      hostname: opts.hostname ?? config.HOST,
      onListen: () => {},
    },
    async (req) =>
      admin && new URL(req.url).pathname.startsWith("/admin/")
        ? await admin(req)
        : await browserModules(req) ?? await dashboard(req) ?? await auth?.handle(req) ??
          await gateway(req),
  );
  const { hostname, port } = server.addr;
  const url = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
  const embeds = await startEmbedPipeline(db, { url, publicUrl: config.PUBLIC_URL }, opts.embed)
    .catch(async (err) => {
      await server.shutdown();
      throw err;
    });
  const analyticsJobs = await startAnalyticsJobs(db, {
    intervalMs: config.ANALYTICS_ROLLUP_INTERVAL_MINUTES * 60_000,
    retentionDays: config.ANALYTICS_RETENTION_DAYS,
    firstRunAfterMs: opts.analyticsFirstRunAfterMs,
  }).catch(async (err) => {
    await embeds.stop();
    await server.shutdown();
    throw err;
  });
  // PostgreSQL has autovacuum; PGlite has none (scripts/local/maintenance.ts).
  const maintenance = db.kind === "pglite" ? startMaintenance(db) : null;
  return {
    url,
    ctx,
    embeds,
    analyticsJobs,
    auth,
    maintenance,
    async close() {
      await embeds.stop(); // first: in-flight webhooks still reach the server
      await server.shutdown();
      await ctx.search.close(); // pending access statistics, while the database is open
      await ctx.analytics.close(); // pending usage events, likewise
      await analyticsJobs.stop();
      await maintenance?.stop();
      await analyticsJobs.foldAccess(); // so that a stopped stack's memories show them
    },
  };
}
