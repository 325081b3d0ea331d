import * as z from "zod";
import { badRequest } from "../errors.ts";

/** Ids per request; the trigger and the sweep send at most this many. */
export const MAX_IDS_PER_REQUEST = 100;

/** Any 8-4-4-4-12 hex id, as the uuid column accepts (imported rows need not be v4). */
const ids = z.array(z.guid()).min(1).max(MAX_IDS_PER_REQUEST);

/**
 * What `embed` accepts: a Supabase Database Webhook body for one row
 * (`{ type, table, schema, record: { id, … }, old_record }`), the same envelope with `ids` for a
 * multi-row statement or a sweep, or just `{ ids: [...] }`.
 */
const schema = z.union([
  z.object({ ids, table: z.literal("memories").optional() }),
  z.object({
    type: z.enum(["INSERT", "UPDATE"]),
    table: z.literal("memories"),
    record: z.object({ id: z.guid() }),
  }),
]);

/** The distinct memory ids a webhook body asks for; 400 when the body is not one we accept. */
export function parseEmbedRequest(body: unknown): string[] {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw badRequest(
      `Expected a database webhook body for public.memories or { "ids": [...] } with 1 to ${MAX_IDS_PER_REQUEST} uuids`,
      parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    );
  }
  const data = parsed.data;
  return [...new Set("ids" in data ? data.ids : [data.record.id])];
}
