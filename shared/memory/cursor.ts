import { badRequest } from "../errors.ts";

/** Keyset pagination position: the last row's exact created_at (µs, as text) and id. */
export interface Cursor {
  t: string;
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return btoa(JSON.stringify(c)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeCursor(value: string): Cursor {
  try {
    const c = JSON.parse(atob(value.replace(/-/g, "+").replace(/_/g, "/")));
    if (
      typeof c?.t === "string" && !Number.isNaN(Date.parse(c.t)) &&
      typeof c?.id === "string" && /^[0-9a-f-]{36}$/i.test(c.id)
    ) return { t: c.t, id: c.id };
  } catch { /* fall through */ }
  throw badRequest("cursor is invalid; pass next_cursor from a previous page unchanged");
}
