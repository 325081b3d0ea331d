import type { Database } from "../../shared/db/types.ts";
import { type Periodic, startPeriodic } from "../../shared/periodic.ts";

/** How often the stand-in looks at the memories table (one scan: a few ms at 10k on PGlite). */
export const MAINTENANCE_CHECK_MS = 60_000;
/** At least this often a pass runs when anything was written since the last one. */
export const MAINTENANCE_SWEEP_MS = 60 * 60_000;

export type MaintenanceOutcome = "vacuumed" | "skipped";

export interface MaintenanceOptions {
  /** Time between checks; 0 = no timer (tests and benchmarks drive run() alone). */
  checkEveryMs?: number;
  /** The clock the hourly sweep reads; tests pass their own. */
  now?: () => number;
}

/**
 * The embedded stack's stand-in for autovacuum. PGlite runs none (one process, no background
 * workers) and counts no table activity, so without it the planner never learns how many
 * memories there are: `reltuples` stays -1 and the bounds that read it (the exact sort's, the
 * tenant scan's) stay at their minimum, index-only scans never skip the heap (no visibility map),
 * and dead rows pile up. Measured at 10k memories (`deno task bench planner_stats`): hybrid
 * search p50 32.8 ms never analyzed, 15.2 ms after one pass (docs/benchmarks.md, "PGlite keeps
 * no statistics").
 *
 * Each check compares memories' row count with the planner's and runs `VACUUM (ANALYZE)` on the
 * database when they differ by more than autovacuum's analyze threshold (50 rows + 10%), or when
 * MAINTENANCE_SWEEP_MS has passed and a memory was written since the last pass (the newest row
 * version's transaction id has moved: updates leave dead rows and clear the visibility map). A
 * pass holds PGlite's one connection (~0.3 s at 10k memories); a check reads the table once.
 */
export function startMaintenance(
  db: Database,
  opts: MaintenanceOptions = {},
): Periodic<MaintenanceOutcome> {
  const now = opts.now ?? Date.now;
  let lastPass = now();
  // The newest row version's transaction: moves with every insert or update of a memory.
  let lastWrite: string | null = null;

  const check = async (): Promise<MaintenanceOutcome> => {
    const [state] = await db.query<{ rows: number; planned: number; last_write: string }>(
      `select count(*)::float8 as rows, coalesce(max(m.xmin::text::bigint), 0)::text as last_write,
         (select c.reltuples from pg_catalog.pg_class c
          where c.oid = 'public.memories'::regclass)::float8 as planned
       from public.memories m`,
    );
    const drifted = state.planned < 0
      ? state.rows > 0
      : Math.abs(state.rows - state.planned) > 50 + 0.1 * state.planned;
    const wrote = state.last_write !== lastWrite;
    if (!drifted && !(wrote && now() - lastPass >= MAINTENANCE_SWEEP_MS)) return "skipped";
    await db.exec("vacuum (analyze)");
    lastPass = now();
    lastWrite = state.last_write;
    return "vacuumed";
  };

  return startPeriodic(check, {
    label: "table maintenance",
    intervalMs: opts.checkEveryMs ?? MAINTENANCE_CHECK_MS,
  });
}
