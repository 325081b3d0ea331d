import type { Queryable } from "../../shared/db/types.ts";

/**
 * private.settings: configuration the database itself reads (the embed webhook's URL and
 * secret). On Supabase the same names live in Vault, which takes precedence.
 */
export const SETTINGS = {
  embedUrl: "codememory_embed_url",
  webhookSecret: "codememory_webhook_secret",
} as const;

/** The key that routes this connection's sessions (by application_name) to their own embed. */
export async function ownEmbedUrlKey(db: Queryable): Promise<string> {
  const [{ app }] = await db.query<{ app: string }>(
    "select current_setting('application_name') as app",
  );
  return `${SETTINGS.embedUrl}@${app}`;
}

export async function getSetting(db: Queryable, key: string): Promise<string | null> {
  const [row] = await db.query<{ value: string }>(
    "select value from private.settings where key = $1",
    [key],
  );
  return row?.value ?? null;
}

export async function setSetting(db: Queryable, key: string, value: string): Promise<void> {
  await db.query(
    `insert into private.settings (key, value) values ($1, $2)
     on conflict (key) do update set value = excluded.value, updated_at = now()`,
    [key, value],
  );
}

/** Stores value unless the key already has one; returns whichever value is stored. */
export async function setSettingOnce(db: Queryable, key: string, value: string): Promise<string> {
  await db.query(
    "insert into private.settings (key, value) values ($1, $2) on conflict (key) do nothing",
    [key, value],
  );
  return (await getSetting(db, key))!;
}

/** Removes the key only while it still holds `value` (another process may have replaced it). */
export async function deleteSettingIf(db: Queryable, key: string, value: string): Promise<void> {
  await db.query("delete from private.settings where key = $1 and value = $2", [key, value]);
}
