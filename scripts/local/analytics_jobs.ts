import type { Database } from "../../shared/db/types.ts";
import { log } from "../../shared/log.ts";
import { setSetting } from "./settings.ts";

/** The private.settings key analytics.retention_days() reads (Vault wins on Supabase). */
export const RETENTION_SETTING = "codememory_analytics_retention_days";

export interface AnalyticsJobOptions {
  /** Time between runs; 0 = no timer (run() still works). */
  intervalMs: number;
  /** Raw events older than this are purged by each run. */
  retentionDays: number;
  /** Delay of the first run, so that starting the stack stays fast. Default: 30 s. */
  firstRunAfterMs?: number;
}

export interface AnalyticsJobs {
  /** Rolls up yesterday and today so far, then purges: analytics.run_scheduled(). */
  run(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The embedded stack's stand-in for the pg_cron job: the same SQL on a timer. Where pg_cron
 * runs too, both are safe: the rollup is idempotent and serialised by an advisory lock.
 */
export async function startAnalyticsJobs(
  db: Database,
  opts: AnalyticsJobOptions,
): Promise<AnalyticsJobs> {
  await setSetting(db, RETENTION_SETTING, String(opts.retentionDays));
  let running: Promise<void> | null = null;
  const run = (): Promise<void> =>
    running ??= db.query("select analytics.run_scheduled()").then(
      () => {},
      (err) => log.warn("analytics rollup failed", err),
    ).finally(() => (running = null));

  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = (ms: number) => {
    timer = setTimeout(async () => {
      await run();
      schedule(opts.intervalMs);
    }, ms);
  };
  if (opts.intervalMs > 0) schedule(Math.min(opts.firstRunAfterMs ?? 30_000, opts.intervalMs));

  return {
    run,
    async stop() {
      clearTimeout(timer);
      timer = undefined;
      opts.intervalMs = 0;
      await running;
    },
  };
}
