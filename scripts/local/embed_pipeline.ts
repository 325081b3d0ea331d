import type { Database } from "../../shared/db/types.ts";
import { generateWebhookSecret } from "../../shared/embed/secret.ts";
import { MAX_EMBED_ATTEMPTS } from "../../shared/embed/worker.ts";
import { log } from "../../shared/log.ts";
import { installPgNetStandIn } from "../dev/pg_net/install.ts";
import { type NetRelay, type NetRelayOptions, startNetRelay } from "../dev/pg_net/relay.ts";
import {
  deleteSettingIf,
  ownEmbedUrlKey,
  setSetting,
  setSettingOnce,
  SETTINGS,
} from "./settings.ts";

/** The sweep's knobs (private.embed_sweep); tests shorten them. */
export interface SweepOptions {
  intervalMs?: number;
  batchSize?: number;
  /** A never-attempted row is re-sent this long after its last write or re-send. */
  pendingAfterMs?: number;
  /** A failed row waits backoffBaseMs * 2^(attempts - 1) before the next try. */
  backoffBaseMs?: number;
  maxAttempts?: number;
}

export interface EmbedPipelineOptions {
  sweep?: SweepOptions;
  relay?: NetRelayOptions;
  /**
   * Also receive the webhooks of sessions without a target of their own (psql, pg_cron).
   * Default true; test stacks turn it off so that stacks sharing one PostgreSQL each embed
   * only their own writes (routing by application_name, see private.embed_webhook_config).
   */
  defaultTarget?: boolean;
}

export interface EmbedPipeline {
  /** The relay when the pg_net stand-in is in use (null where the real pg_net delivers). */
  readonly relay: NetRelay | null;
  /** Runs one sweep now; resolves to the number of rows it re-sent. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

const SWEEP_DEFAULTS = {
  intervalMs: 10_000,
  batchSize: 100,
  pendingAfterMs: 30_000,
  backoffBaseMs: 30_000,
  maxAttempts: MAX_EMBED_ATTEMPTS,
};

/**
 * The webhook secret for this stack: WEBHOOK_SECRET when configured, else the one stored by an
 * earlier run, else a new one. Stored either way, because the trigger reads it from there.
 */
export async function ensureWebhookSecret(db: Database, configured?: string): Promise<string> {
  if (configured) {
    await setSetting(db, SETTINGS.webhookSecret, configured);
    return configured;
  }
  return await setSettingOnce(db, SETTINGS.webhookSecret, generateWebhookSecret());
}

/**
 * Once the server listens: points the database's webhook at this stack's `embed` (for its
 * pool's sessions, and by default for everyone's), delivers pg_net requests with the
 * stand-in's relay where the real pg_net is missing, and sweeps on a timer (pg_cron does the
 * same on Supabase; both share private.embed_sweep, which claims rows, so running both never
 * sends a row twice). The first sweep runs at once, for rows left over while it was down.
 */
export async function startEmbedPipeline(
  db: Database,
  stack: { url: string; publicUrl?: string },
  opts: EmbedPipelineOptions = {},
): Promise<EmbedPipeline> {
  const s = { ...SWEEP_DEFAULTS, ...opts.sweep };
  const standIn = await installPgNetStandIn(db);
  // The stand-in's relay runs in this process; the real pg_net calls from the database server.
  const base = standIn ? stack.url : stack.publicUrl ?? stack.url;
  const embedUrl = `${base.replace(/\/+$/, "")}/functions/v1/embed`;
  const keys = [await ownEmbedUrlKey(db)];
  if (opts.defaultTarget ?? true) keys.push(SETTINGS.embedUrl);
  for (const key of keys) await setSetting(db, key, embedUrl);
  const relay = standIn ? await startNetRelay(db, opts.relay) : null;

  let sweeping: Promise<number> | null = null;
  const sweep = (): Promise<number> =>
    sweeping ??= db.query<{ sent: number }>(
      `select private.embed_sweep($1, $2::bigint * interval '1 ms', $3::bigint * interval '1 ms',
         $4) as sent`,
      [s.batchSize, s.pendingAfterMs, s.backoffBaseMs, s.maxAttempts],
    ).then(([row]) => Number(row.sent), (err) => {
      log.warn("embed sweep failed", err);
      return 0;
    }).finally(() => (sweeping = null));

  // A backlog (a re-embedding migration, an import, rows left while the stack was down) is
  // worked off at the model's pace rather than one batch per interval: while sweeps come back
  // full, deliver what they queued and sweep again. The relay's drain paces it, so rows are
  // never re-sent faster than they are embedded. (With the real pg_net there is no relay to
  // wait on; pg_cron's one batch a minute applies.)
  let catchingUp: Promise<void> | null = null;
  let stopped = false;
  const catchUp = (): Promise<void> =>
    catchingUp ??= (async () => {
      while (!stopped && (await sweep()) >= s.batchSize && relay) await relay.drain();
    })().finally(() => (catchingUp = null));

  const timer = setInterval(() => void catchUp(), s.intervalMs);
  await sweep();
  if (relay) void catchUp();

  return {
    relay,
    sweep,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await catchingUp;
      await sweeping;
      await relay?.stop();
      // Only where no other stack has taken the webhook over meanwhile.
      for (const key of keys) await deleteSettingIf(db, key, embedUrl);
    },
  };
}
