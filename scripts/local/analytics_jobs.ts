import type { Database } from "../../shared/db/types.ts";
import { startPeriodic, type Timers } from "../../shared/periodic.ts";
import { foldAccess } from "../../shared/search/access.ts";
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
  timers?: Timers;
}

/** As pg_cron's codememory-fold-memory-access job (migration 20261208000400). */
export const ACCESS_FOLD_INTERVAL_MS = 10 * 60_000;

export interface AnalyticsJobs {
  /** Rolls up yesterday and today so far, then purges: analytics.run_scheduled(). */
  run(): Promise<void>;
  /** Folds the collected access statistics into memories: private.fold_memory_access(). */
  foldAccess(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The embedded stack's stand-in for the pg_cron jobs: the same SQL on timers. Where pg_cron
 * runs too, both are safe: the rollup is idempotent and serialised by an advisory lock, and a
 * fold consumes what it applies. A failing run (the database gone) is retried later and later
 * (shared/periodic.ts).
 */
export async function startAnalyticsJobs(
  db: Database,
  opts: AnalyticsJobOptions,
): Promise<AnalyticsJobs> {
  await setSetting(db, RETENTION_SETTING, String(opts.retentionDays));
  const job = startPeriodic(
    async () => void await db.query("select analytics.run_scheduled()"),
    {
      label: "analytics rollup",
      intervalMs: opts.intervalMs,
      firstRunAfterMs: Math.min(opts.firstRunAfterMs ?? 30_000, opts.intervalMs),
      timers: opts.timers,
    },
  );
  const fold = startPeriodic(() => foldAccess(db), {
    label: "access statistics fold",
    intervalMs: ACCESS_FOLD_INTERVAL_MS,
    timers: opts.timers,
  });
  return {
    run: async () => void await job.run(),
    foldAccess: async () => void await fold.run(),
    stop: async () => void await Promise.all([job.stop(), fold.stop()]),
  };
}
