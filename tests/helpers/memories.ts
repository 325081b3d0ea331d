/** Many memories at once, written by a privileged connection in one statement. */
import type { Queryable } from "../../shared/db/types.ts";

/**
 * `count` memories of one project whose content is `text` with # replaced by 1..count, inserted
 * in one statement; with `lastIds`, their ids sort after every random one (ffffffff-…).
 */
export async function insertNumbered(
  db: Queryable,
  userId: string,
  projectId: string,
  count: number,
  text: string,
  lastIds = false,
): Promise<void> {
  await db.query(
    `insert into public.memories (id, user_id, project_id, kind, title, content)
     select case when $5 then ('ffffffff-ffff-4fff-8fff-' || lpad(i::text, 12, '0'))::uuid
                 else gen_random_uuid() end,
       $1, $2, 'note', null, replace($4, '#', i::text)
     from generate_series(1, $3) i`,
    [userId, projectId, count, text, lastIds],
  );
}
