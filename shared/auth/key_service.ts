import * as z from "zod";
import { asUser } from "../db/as_user.ts";
import type { Database, Row } from "../db/types.ts";
import { badRequest, notFound } from "../errors.ts";
import { iso } from "../memory/rows.ts";
import { createApiKey, type Scope } from "./api_keys.ts";

/** What a user may see of their keys: never the hash, and the secret only once, at creation. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
}

// Only columns granted to `authenticated` (see the foundation migration's column grants).
const COLUMNS = "id, name, prefix, scopes, created_at, last_used_at, expires_at, revoked_at";

export const createKeySchema = z.strictObject({
  name: z.string().trim().min(1).max(100).refine((s) => !s.includes("\0"), "must not contain NUL")
    .optional().describe("A label such as 'laptop' or 'ci'."),
  scopes: z.array(z.enum(["read", "write"])).min(1).max(2)
    .transform((s) => [...new Set(s)] as Scope[]).optional()
    .describe("['read'] for a read-only key; default ['read', 'write']."),
  expires_at: z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time" })
    .optional().describe("When the key stops working; default never."),
});
export type CreateKeyInput = z.infer<typeof createKeySchema>;

function toInfo(row: Row): ApiKeyInfo {
  return {
    id: String(row.id),
    name: String(row.name),
    prefix: String(row.prefix),
    scopes: row.scopes as Scope[],
    created_at: iso(row.created_at)!,
    last_used_at: iso(row.last_used_at),
    expires_at: iso(row.expires_at),
    revoked_at: iso(row.revoked_at),
  };
}

/**
 * A user's own API keys, always as that user (RLS on api_keys). Revocation takes effect on the
 * next request: keys are verified against the database every time, nothing is cached.
 */
export class ApiKeyService {
  constructor(readonly db: Database) {}

  list(userId: string): Promise<ApiKeyInfo[]> {
    return asUser(this.db, userId, async (tx) => {
      const rows = await tx.query(`select ${COLUMNS} from api_keys order by created_at desc, id`);
      return rows.map(toInfo);
    });
  }

  /** Returns the new key's record and its secret (shown once). */
  create(userId: string, input: CreateKeyInput): Promise<{ key: ApiKeyInfo; secret: string }> {
    if (input.expires_at && Date.parse(input.expires_at) <= Date.now()) {
      throw badRequest("expires_at must be in the future");
    }
    return asUser(this.db, userId, async (tx) => {
      const { key, record } = await createApiKey(tx, userId, {
        name: input.name,
        scopes: input.scopes,
        expiresAt: input.expires_at,
      });
      const [row] = await tx.query(`select ${COLUMNS} from api_keys where id = $1`, [record.id]);
      return { key: toInfo(row), secret: key };
    });
  }

  /** Revokes one of the user's keys; revoking twice is harmless. Someone else's key is a 404. */
  revoke(userId: string, id: string): Promise<ApiKeyInfo> {
    return asUser(this.db, userId, async (tx) => {
      const [row] = await tx.query(
        `update api_keys set revoked_at = coalesce(revoked_at, now()) where id = $1
         returning ${COLUMNS}`,
        [id],
      );
      if (!row) throw notFound(`API key ${id} not found`);
      return toInfo(row);
    });
  }
}
