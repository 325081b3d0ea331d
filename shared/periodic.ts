import { log } from "./log.ts";

/** The timer functions a job uses; tests pass a fake clock instead of waiting. */
export interface Timers {
  /** Returns a handle for clearTimeout. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const REAL_TIMERS: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Exponential backoff with a cap: after n failures in a row the wait is `baseMs * 2^n`, at
 * most `maxMs`; a success starts over (the wait is baseMs again).
 */
export class Backoff {
  #failures = 0;

  constructor(readonly baseMs: number, readonly maxMs: number) {}

  /** Failures in a row so far. */
  get failures(): number {
    return this.#failures;
  }

  /** Counts one more failure; the wait before the next attempt. */
  fail(): number {
    this.#failures++;
    return this.delay;
  }

  succeed(): void {
    this.#failures = 0;
  }

  /** The wait after the failures so far (baseMs after none). */
  get delay(): number {
    return Math.min(this.maxMs, this.baseMs * 2 ** this.#failures);
  }
}

export interface PeriodicOptions {
  /** Names the job in log lines: "<label> failed …". */
  label: string;
  /** Wait between the end of one run and the start of the next; 0 = no timer (run() works). */
  intervalMs: number;
  /** Wait before the first run; default intervalMs. */
  firstRunAfterMs?: number;
  /**
   * Longest wait while runs keep failing: the wait doubles from intervalMs with each failure
   * in a row, up to this (never below intervalMs). Default 5 minutes.
   */
  maxBackoffMs?: number;
  timers?: Timers;
}

export interface Periodic<T> {
  /** Runs the job now, or joins the run under way; its result, or undefined if it failed. */
  run(): Promise<T | undefined>;
  /** No run starts after this; resolves once the run under way, if any, has ended. */
  stop(): Promise<void>;
}

/**
 * Runs `job` on a timer, one run at a time, never overlapping: the next run is scheduled when
 * one ends. A failure is logged and the next run waits longer (exponential, capped), so a lost
 * database costs a log line every few minutes, not a flood. `stop()` wins over a run in
 * flight: whatever that run does when it ends, nothing is scheduled again.
 */
export function startPeriodic<T>(job: () => Promise<T>, opts: PeriodicOptions): Periodic<T> {
  const timers = opts.timers ?? REAL_TIMERS;
  const backoff = new Backoff(
    opts.intervalMs,
    Math.max(opts.intervalMs, opts.maxBackoffMs ?? 300_000),
  );
  let stopped = false;
  let timer: unknown;
  let running: Promise<T | undefined> | null = null;

  const run = (): Promise<T | undefined> =>
    running ??= job().then(
      (value) => {
        backoff.succeed();
        return value;
      },
      (err) => {
        const wait = backoff.fail();
        const next = stopped || opts.intervalMs <= 0 ? "" : `; next run in ${wait} ms`;
        log.warn(`${opts.label} failed (${backoff.failures} in a row)${next}`, err);
        return undefined;
      },
    ).finally(() => (running = null));

  const schedule = (ms: number) => {
    if (stopped || opts.intervalMs <= 0) return;
    timer = timers.setTimeout(async () => {
      timer = undefined;
      await run();
      schedule(backoff.delay);
    }, ms);
  };
  schedule(opts.firstRunAfterMs ?? opts.intervalMs);

  return {
    run,
    async stop() {
      stopped = true;
      timers.clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
