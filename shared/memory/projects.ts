import type { Queryable } from "../db/types.ts";
import { badRequest, conflict, notFound } from "../errors.ts";
import { DEFAULT_PROJECT_SLUG } from "./limits.ts";
import { PROJECT_COLUMNS, toProject } from "./rows.ts";
import type { ListedProject, Project } from "./types.ts";
import type { CreateProjectInput } from "./schemas.ts";

// All functions here run inside asUser(): row level security limits them to the user's projects.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const SELECT_PROJECTS = `select ${PROJECT_COLUMNS} from projects p
  join project_members pm on pm.project_id = p.id and pm.user_id = auth.uid()`;

export function slugify(name: string): string {
  const slug = name.normalize("NFKD").toLowerCase().replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "").slice(0, 63);
  return slug || "project";
}

export async function listProjects(tx: Queryable): Promise<ListedProject[]> {
  const rows = await tx.query(`${SELECT_PROJECTS} order by p.is_default desc, p.created_at, p.id`);
  const counts = await unembeddedCounts(tx);
  return rows.map(toProject).map((p) => ({
    ...p,
    pending_embeddings: counts.get(p.id)?.pending ?? 0,
    failed_embeddings: counts.get(p.id)?.failed ?? 0,
  }));
}

/**
 * Memories not (yet) embedded, per visible project. Reads only rows of the partial index on
 * embedding_status <> 'ready', so its cost follows the backlog, not the table.
 */
async function unembeddedCounts(
  tx: Queryable,
): Promise<Map<string, { pending: number; failed: number }>> {
  const rows = await tx.query<{ project_id: string; pending: number; failed: number }>(
    `select m.project_id,
            count(*) filter (where m.embedding_status = 'pending')::int as pending,
            count(*) filter (where m.embedding_status = 'failed')::int as failed
     from memories m
     where m.embedding_status <> 'ready'
     group by m.project_id`,
  );
  return new Map(rows.map((r) => [r.project_id, { pending: r.pending, failed: r.failed }]));
}

export async function createProject(
  tx: Queryable,
  userId: string,
  input: CreateProjectInput,
  isDefault = false,
): Promise<Project> {
  // The id is chosen here rather than RETURNING it: the new row only becomes visible to its
  // owner once the after-insert trigger has added the membership.
  const id = crypto.randomUUID();
  const slug = input.slug ?? slugify(input.name);
  const inserted = await tx.query(
    `insert into projects (id, owner_id, name, slug, description, is_default)
     values ($1, $2, $3, $4, $5, $6) on conflict do nothing returning 1`,
    [id, userId, input.name, slug, input.description ?? null, isDefault],
  );
  if (inserted.length === 0) {
    throw conflict(`You already have a project with slug '${slug}'`, { slug });
  }
  return await getProject(tx, id);
}

async function getProject(tx: Queryable, id: string): Promise<Project> {
  const [row] = await tx.query(`${SELECT_PROJECTS} where p.id = $1`, [id]);
  if (!row) throw notFound(`Project ${id} not found`);
  return toProject(row);
}

/** The user's default project, created on first use. */
export async function defaultProject(tx: Queryable, userId: string): Promise<Project> {
  const [row] = await tx.query(
    `${SELECT_PROJECTS} where p.owner_id = $1 and p.is_default`,
    [userId],
  );
  if (row) return toProject(row);
  return await createProject(
    tx,
    userId,
    { name: "Default", slug: DEFAULT_PROJECT_SLUG },
    true,
  ).catch(async (err) => {
    // Lost a race with a concurrent first save, or the slug is taken by a non-default project.
    const [again] = await tx.query(
      `${SELECT_PROJECTS} where p.owner_id = $1 and (p.is_default or p.slug = $2)
       order by p.is_default desc limit 1`,
      [userId, DEFAULT_PROJECT_SLUG],
    );
    if (again) return toProject(again);
    throw err;
  });
}

/**
 * Finds a project the user can see by id or slug. A slug names the user's own project first,
 * then a project shared with them; an ambiguous shared slug asks for the id.
 */
export async function resolveProject(
  tx: Queryable,
  userId: string,
  ref: string | undefined,
): Promise<Project> {
  if (ref === undefined) return await defaultProject(tx, userId);
  const rows = UUID.test(ref)
    ? await tx.query(`${SELECT_PROJECTS} where p.id = $1`, [ref])
    : await tx.query(
      `${SELECT_PROJECTS} where p.slug = $1 order by (p.owner_id = $2) desc, p.created_at`,
      [ref.toLowerCase(), userId],
    );
  if (rows.length === 0) {
    if (!UUID.test(ref) && ref.toLowerCase() === DEFAULT_PROJECT_SLUG) {
      return await defaultProject(tx, userId);
    }
    throw notFound(`Project '${ref}' not found. Call list_projects to see your projects.`);
  }
  const own = rows.filter((r) => r.owner_id === userId);
  if (own.length === 0 && rows.length > 1) {
    throw badRequest(`Several projects shared with you are called '${ref}'; use the project id`);
  }
  return toProject(own[0] ?? rows[0]);
}
