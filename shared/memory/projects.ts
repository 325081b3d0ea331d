import type { Queryable } from "../db/types.ts";
import { badRequest, conflict, notFound } from "../errors.ts";
import { DEFAULT_PROJECT_SLUG } from "./limits.ts";
import { PROJECT_COLUMNS, toProject } from "./rows.ts";
import type { ListedProject, Project } from "./types.ts";
import type { CreateProjectInput } from "./schemas.ts";
import { UUID } from "./uuid.ts";

// All functions here run inside asUser(): row level security limits them to the user's projects.

const SELECT_PROJECTS = `select ${PROJECT_COLUMNS} from projects p
  join project_members pm on pm.project_id = p.id and pm.user_id = auth.uid()`;

/** What projects.slug accepts (the table's check constraint). */
const SLUG = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function slugify(name: string): string {
  const slug = name.normalize("NFKD").toLowerCase().replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "").slice(0, 63);
  // A slug shaped like an id would be read as one (parseProjectRef).
  return !slug ? "project" : UUID.test(slug) ? `p-${slug}` : slug;
}

export async function listProjects(tx: Queryable): Promise<ListedProject[]> {
  const rows = await tx.query(`${SELECT_PROJECTS} order by p.is_default desc, p.created_at, p.id`);
  const counts = await unembeddedCounts(tx);
  const sizes = await memoryCounts(tx);
  return rows.map(toProject).map((p) => ({
    ...p,
    memory_count: sizes.get(p.id) ?? 0,
    pending_embeddings: counts.get(p.id)?.pending ?? 0,
    failed_embeddings: counts.get(p.id)?.failed ?? 0,
  }));
}

/** Memories (not expired) per visible project, from the (project_id, created_at) index. */
async function memoryCounts(tx: Queryable): Promise<Map<string, number>> {
  const rows = await tx.query<{ project_id: string; n: number }>(
    `select m.project_id, count(*)::int as n from memories m
     where m.expires_at is null or m.expires_at > now()
     group by m.project_id`,
  );
  return new Map(rows.map((r) => [r.project_id, r.n]));
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
  const slug = input.slug ?? projectSlug(input.name);
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
 * How a caller names a project. A bare slug is always the caller's OWN project, so nothing a
 * user writes or asks can land in someone else's project because of a name; a project shared
 * with them is named by its id (list_projects shows each project's `ref`).
 */
export type ProjectRef = { id: string } | { ownSlug: string };

export const parseProjectRef = (ref: string): ProjectRef =>
  UUID.test(ref) ? { id: ref.toLowerCase() } : { ownSlug: projectSlug(ref) };

/**
 * The slug a bare project name stands for: a valid slug as it is (lower-cased), else the name
 * normalised by slugify ("Backend API" → "backend-api", "Café" → "cafe"). A name without any
 * letter a-z or digit left after that has no slug: a 400 that says what to pass instead.
 */
export function projectSlug(name: string): string {
  const lower = name.trim().toLowerCase();
  if (SLUG.test(lower)) return lower;
  const slug = name.normalize("NFKD").toLowerCase().replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (!slug) {
    throw badRequest(
      `Project name '${
        name.slice(0, 100)
      }' has no letters a-z or digits to make a slug of; name it like 'my-app' (or pass a project's id)`,
    );
  }
  return slugify(name);
}

/** The project `ref` names for the user, or null when there is none. */
export async function findProject(
  tx: Queryable,
  userId: string,
  ref: ProjectRef,
): Promise<Project | null> {
  const [row] = "id" in ref
    ? await tx.query(`${SELECT_PROJECTS} where p.id = $1`, [ref.id])
    : await tx.query(`${SELECT_PROJECTS} where p.owner_id = $1 and p.slug = $2`, [
      userId,
      ref.ownSlug,
    ]);
  return row ? toProject(row) : null;
}

/**
 * The project `ref` names (see ProjectRef), the user's default project when it is omitted (or
 * "default", created on first use); else a 404 that says how to name a shared project.
 */
export async function resolveProject(
  tx: Queryable,
  userId: string,
  ref: string | undefined,
): Promise<Project> {
  if (ref === undefined) return await defaultProject(tx, userId);
  const parsed = parseProjectRef(ref);
  const found = await findProject(tx, userId, parsed);
  if (found) return found;
  if ("ownSlug" in parsed && parsed.ownSlug === DEFAULT_PROJECT_SLUG) {
    return await defaultProject(tx, userId);
  }
  throw notFound(`Project '${ref}' not found. ${await sharedHint(tx, parsed)}`);
}

/** A project a write lands in, and whether this write created it (with a note for the caller). */
export interface WriteTarget {
  project: Project;
  created: boolean;
  /** Set when the name also belongs to projects shared with the caller (named by id). */
  note?: string;
}

/**
 * The project a write (save, update's `project`) goes to: as resolveProject, except that a bare
 * name of no project is created as the caller's OWN project (named as typed, slug by
 * projectSlug). Never someone else's: a shared project is only ever named by its id, and an id
 * that names nothing stays a 404.
 */
export async function resolveWriteProject(
  tx: Queryable,
  userId: string,
  ref: string | undefined,
): Promise<WriteTarget> {
  if (ref === undefined) return { project: await defaultProject(tx, userId), created: false };
  const parsed = parseProjectRef(ref);
  const found = await findProject(tx, userId, parsed);
  if (found) return { project: found, created: false };
  if (!("ownSlug" in parsed)) {
    return { project: await resolveProject(tx, userId, ref), created: false };
  }
  if (parsed.ownSlug === DEFAULT_PROJECT_SLUG) {
    return { project: await defaultProject(tx, userId), created: false };
  }
  const project = await createProject(tx, userId, { name: ref.trim(), slug: parsed.ownSlug })
    .catch(async (err) => {
      // A concurrent first write created it a moment ago.
      const again = await findProject(tx, userId, parsed);
      if (again) return again;
      throw err;
    });
  const shared = await sharedNamed(tx, parsed.ownSlug);
  const note = shared.length
    ? `Created your own project '${parsed.ownSlug}'. Projects shared with you called '${parsed.ownSlug}' are named by id: ${
      shared.join(" or ")
    }.`
    : undefined;
  return { project, created: true, note };
}

/** Ids of projects of others, visible to the caller, whose slug is `slug`. */
async function sharedNamed(tx: Queryable, slug: string): Promise<string[]> {
  const rows = await tx.query<{ id: string }>(
    "select p.id from projects p where p.slug = $1 and p.owner_id <> auth.uid() order by p.id limit 3",
    [slug],
  );
  return rows.map((r) => r.id);
}

/** Points at shared projects called `slug`: they are named by id, never by their slug. */
async function sharedHint(tx: Queryable, ref: ProjectRef): Promise<string> {
  const listed = "Call list_projects to see your projects and the ref to pass for each.";
  if (!("ownSlug" in ref)) return listed;
  const shared = await sharedNamed(tx, ref.ownSlug);
  if (shared.length === 0) return listed;
  return `A project name means one of your own projects; to use a project shared with you ` +
    `called '${ref.ownSlug}', pass its id: ${shared.join(" or ")}.`;
}
