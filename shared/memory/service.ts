import { asUser } from "../db/as_user.ts";
import type { Database, Queryable } from "../db/types.ts";
import { badRequest, conflict, forbidden, notFound } from "../errors.ts";
import { DEFAULT_LIST_LIMIT } from "./limits.ts";
import * as projects from "./projects.ts";
import { MEMORY_COLUMNS, NOT_EXPIRED, toMemory } from "./rows.ts";
import type {
  CreateProjectInput,
  ListMemoriesInput,
  RestoreMemoryInput,
  SaveMemoryInput,
  UpdateMemoryInput,
} from "./schemas.ts";
import type { ListedProject, Memory, MemoryLinks, MemoryVersion, Page, Project } from "./types.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import {
  type DuplicateCheck,
  type DuplicateDetector,
  type NearDuplicate,
  NO_DUPLICATE_CHECK,
} from "./duplicates.ts";
import * as history from "./history.ts";

/** What a save did: inserted, found the identical memory, or merged into a near-duplicate. */
export interface SaveResult {
  memory: Memory;
  /** The identical content was already in the project: that memory, unchanged. */
  duplicate: boolean;
  /** on_duplicate 'merge' updated `memory` (the closest near-duplicate) instead of inserting. */
  merged: boolean;
  /** Memories of the project very close in meaning to the saved text, closest first. */
  near_duplicates: NearDuplicate[];
  duplicate_check: DuplicateCheck;
  /** The save created the project it names (a new name in the caller's own namespace). */
  project_created: boolean;
  notes: string[];
}

/** Something that wants to know a user's memories changed (cache invalidation, analytics). */
export type WriteListener = (event: {
  userId: string;
  projectIds: string[];
  action: "save" | "update" | "delete";
  memoryId: string;
}) => void | Promise<void>;

const FROM_MEMORIES = `from memories m join projects p on p.id = m.project_id`;

/**
 * Optional columns copied verbatim from input to row, by save and update alike: the only input
 * keys that ever become column names, so a new schema key can never name a column by accident.
 */
const FIELD_COLUMNS = [
  "title",
  "kind",
  "tags",
  "repo",
  "file_path",
  "language",
  "symbol",
  "commit_sha",
  "importance",
  "expires_at",
] as const;

/**
 * The memory service: every operation runs as the user (row level security decides access),
 * so a bug here cannot leak another user's data.
 */
export class MemoryService {
  #listeners: WriteListener[] = [];
  readonly #duplicates: DuplicateDetector;

  /** `duplicates` finds near-duplicates at save time (shared/search/duplicates.ts). */
  constructor(readonly db: Database, duplicates: DuplicateDetector = NO_DUPLICATE_CHECK) {
    this.#duplicates = duplicates;
  }

  onWrite(listener: WriteListener): void {
    this.#listeners.push(listener);
  }

  async #notify(event: Parameters<WriteListener>[0]): Promise<void> {
    for (const listener of this.#listeners) await listener(event);
  }

  /**
   * Saves a memory. The identical content in the same project returns the existing one; memories
   * very close in meaning are reported (or, with on_duplicate 'merge', the closest is updated
   * instead). A project name that does not exist yet becomes the caller's own project.
   */
  async save(userId: string, input: SaveMemoryInput): Promise<SaveResult> {
    const { on_duplicate, supersedes, ...fields } = input;
    if (supersedes !== undefined && on_duplicate === "merge") {
      throw badRequest("Pass either supersedes or on_duplicate 'merge', not both");
    }
    // Embedded before the transaction: no connection is held while a model runs.
    const prepared = await this.#duplicates.prepare(fields);
    const result = await asUser(this.db, userId, async (tx) => {
      const target = await projects.resolveWriteProject(tx, userId, fields.project);
      const { project } = target;
      if (project.role === "reader") throw readOnly(project.slug);
      const notes = target.note ? [target.note] : [];
      const done = (r: Omit<SaveResult, "duplicate_check" | "project_created" | "notes">) => ({
        ...r,
        duplicate_check: prepared.check,
        project_created: target.created,
        notes,
      });
      const [same] = await tx.query(
        `select ${MEMORY_COLUMNS} ${FROM_MEMORIES}
         where m.project_id = $1 and m.content_hash = private.sha256_hex($2)`,
        [project.id, fields.content],
      );
      if (same) {
        return done({
          memory: toMemory(same),
          duplicate: true,
          merged: false,
          near_duplicates: [],
        });
      }
      if (supersedes !== undefined) await checkSupersedes(tx, supersedes, project.id, null);
      const near = await this.#duplicates.find(tx, project.id, prepared);
      if (on_duplicate === "merge" && near.length > 0) {
        const { project: _, ...patch } = fields;
        const { after } = await applyUpdate(tx, near[0].id, patch);
        return done({ memory: after, duplicate: false, merged: true, near_duplicates: near });
      }
      const columns = ["user_id", "project_id", "content", "metadata"];
      const values: unknown[] = [userId, project.id, fields.content, fields.metadata ?? {}];
      for (const column of [...FIELD_COLUMNS, "supersedes"] as const) {
        const value = column === "supersedes" ? supersedes : fields[column];
        if (value !== undefined) {
          columns.push(column);
          values.push(value);
        }
      }
      const placeholders = columns.map((c, i) => `$${i + 1}${c === "metadata" ? "::jsonb" : ""}`);
      const inserted = await tx.query<{ id: string }>(
        `insert into memories (${columns.join(", ")}) values (${placeholders.join(", ")})
         on conflict (project_id, content_hash) do nothing returning id`,
        values,
      );
      const duplicate = inserted.length === 0; // an identical save committed meanwhile
      const [row] = duplicate
        ? await tx.query(
          `select ${MEMORY_COLUMNS} ${FROM_MEMORIES}
           where m.project_id = $1 and m.content_hash = private.sha256_hex($2)`,
          [project.id, fields.content],
        )
        : await tx.query(`select ${MEMORY_COLUMNS} ${FROM_MEMORIES} where m.id = $1`, [
          inserted[0].id,
        ]);
      const memory = toMemory(row);
      return done({
        memory,
        duplicate,
        merged: false,
        near_duplicates: near.filter((n) => n.id !== memory.id),
      });
    });
    if (!result.duplicate) {
      await this.#notify({
        userId,
        projectIds: [result.memory.project_id],
        action: result.merged ? "update" : "save",
        memoryId: result.memory.id,
      });
    }
    return result;
  }

  async get(userId: string, id: string): Promise<Memory> {
    return await asUser(this.db, userId, (tx) => findMemory(tx, id));
  }

  /** One memory with its links (supersedes / superseded_by) and, when asked, its history. */
  async getDetail(
    userId: string,
    id: string,
    opts: { history?: boolean } = {},
  ): Promise<{ memory: Memory; history?: MemoryVersion[] } & MemoryLinks> {
    return await asUser(this.db, userId, async (tx) => {
      const memory = await findMemory(tx, id);
      const detail = { memory, ...await history.links(tx, memory) };
      return opts.history ? { ...detail, history: await history.versions(tx, id) } : detail;
    });
  }

  async list(userId: string, filters: ListMemoriesInput): Promise<Page<Memory>> {
    return await asUser(this.db, userId, async (tx) => {
      const where = [NOT_EXPIRED];
      const params: unknown[] = [];
      const param = (v: unknown) => `$${params.push(v)}`;
      if (filters.project !== undefined) {
        const project = await projects.resolveProject(tx, userId, filters.project);
        where.push(`m.project_id = ${param(project.id)}`);
      }
      if (filters.kind) where.push(`m.kind = ${param(filters.kind)}`);
      if (filters.tags?.length) where.push(`m.tags @> ${param(filters.tags)}::text[]`);
      // Times are sent as text and cast by Postgres: postgres.js would turn a timestamptz
      // parameter into a JS Date, dropping the microseconds the cursor depends on.
      if (filters.since) where.push(`m.created_at >= ${param(filters.since)}::text::timestamptz`);
      if (filters.until) where.push(`m.created_at < ${param(filters.until)}::text::timestamptz`);
      if (filters.cursor) {
        const c = decodeCursor(filters.cursor);
        where.push(
          `(m.created_at, m.id) < (${param(c.t)}::text::timestamptz, ${param(c.id)}::uuid)`,
        );
      }
      const limit = filters.limit ?? DEFAULT_LIST_LIMIT;
      const rows = await tx.query(
        `select ${MEMORY_COLUMNS},
           to_char(m.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_t
         ${FROM_MEMORIES} where ${where.join(" and ")}
         order by m.created_at desc, m.id desc limit ${param(limit + 1)}`,
        params,
      );
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(({ cursor_t: _, ...row }) => toMemory(row)),
        next_cursor: rows.length > limit && last
          ? encodeCursor({ t: String(last.cursor_t), id: String(last.id) })
          : null,
      };
    });
  }

  async update(userId: string, id: string, patch: UpdateMemoryInput): Promise<Memory> {
    const { project, supersedes, ...fields } = patch;
    const memory = await asUser(this.db, userId, async (tx) => {
      let projectId: string | undefined;
      if (project !== undefined) {
        const { project: target } = await projects.resolveWriteProject(tx, userId, project);
        if (target.role === "reader") throw readOnly(target.slug);
        projectId = target.id;
      }
      if (supersedes) {
        const current = await findMemory(tx, id);
        await checkSupersedes(tx, supersedes, projectId ?? current.project_id, id);
      }
      return await applyUpdate(tx, id, { ...fields, project_id: projectId, supersedes });
    });
    await this.#notifyUpdate(userId, id, memory);
    return memory.after;
  }

  /** Brings back an earlier version's fields as a new version (the current one is kept too). */
  async restore(userId: string, id: string, input: RestoreMemoryInput): Promise<Memory> {
    const memory = await asUser(this.db, userId, async (tx) => {
      await findMemory(tx, id); // 404 first: another user's memory has no versions to list
      const old = await history.version(tx, id, input.version);
      return await applyUpdate(tx, id, {
        ...history.restorable(old),
        expected_version: input.expected_version,
      });
    });
    await this.#notifyUpdate(userId, id, memory);
    return memory.after;
  }

  async #notifyUpdate(userId: string, id: string, m: { before: Memory; after: Memory }) {
    await this.#notify({
      userId,
      projectIds: [...new Set([m.before.project_id, m.after.project_id])],
      action: "update",
      memoryId: id,
    });
  }

  /** Deletes a memory with its whole history: nothing of it is kept, by design. */
  async delete(
    userId: string,
    id: string,
  ): Promise<{ id: string; deleted: true; versions_deleted: number }> {
    const { projectId, versions } = await asUser(this.db, userId, async (tx) => {
      const current = await findMemory(tx, id);
      const [{ n }] = await tx.query<{ n: number }>(
        "select count(*)::int as n from memory_versions where memory_id = $1",
        [id],
      );
      const deleted = await tx.query(`delete from memories where id = $1 returning id`, [id]);
      if (deleted.length === 0) throw readOnly(current.project);
      return { projectId: current.project_id, versions: Number(n) };
    });
    await this.#notify({ userId, projectIds: [projectId], action: "delete", memoryId: id });
    return { id, deleted: true, versions_deleted: versions };
  }

  async listProjects(userId: string): Promise<ListedProject[]> {
    return await asUser(this.db, userId, async (tx) => {
      await projects.defaultProject(tx, userId);
      return await projects.listProjects(tx);
    });
  }

  async createProject(userId: string, input: CreateProjectInput): Promise<Project> {
    return await asUser(this.db, userId, (tx) => projects.createProject(tx, userId, input));
  }

  /** Runs fn as the user; for features built on this service (search, analytics). */
  asUser<T>(userId: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return asUser(this.db, userId, fn);
  }
}

/** Fields an update may change, by column (project and link resolved to ids by the caller). */
type UpdatePatch = { [C in typeof FIELD_COLUMNS[number]]?: unknown } & {
  content?: string;
  metadata?: Record<string, unknown>;
  expected_version?: number;
  project_id?: string;
  supersedes?: string | null;
};

/** Updates a memory in the caller's transaction; its previous version goes to the history. */
async function applyUpdate(
  tx: Queryable,
  id: string,
  patch: UpdatePatch,
): Promise<{ before: Memory; after: Memory }> {
  const { expected_version, metadata } = patch;
  const current = await findMemory(tx, id);
  if (expected_version !== undefined && current.version !== expected_version) {
    throw conflict(
      `Memory ${id} is at version ${current.version}, not ${expected_version}; reload and retry`,
      { version: current.version },
    );
  }
  const sets: string[] = [];
  const params: unknown[] = [id];
  const param = (v: unknown) => `$${params.push(v)}`;
  for (const column of ["content", ...FIELD_COLUMNS, "project_id", "supersedes"] as const) {
    if (patch[column] !== undefined) sets.push(`${column} = ${param(patch[column])}`);
  }
  if (metadata !== undefined) sets.push(`metadata = ${param(metadata)}::jsonb`);
  if (sets.length === 0) throw badRequest("Nothing to update: pass at least one field");
  const versionCheck = expected_version === undefined
    ? ""
    : ` and version = ${param(expected_version)}`;
  const updated = await tx.query(
    `update memories set ${sets.join(", ")} where id = $1${versionCheck} returning id`,
    params,
  ).catch((err) => {
    if (err?.code === "23505") {
      throw conflict("Another memory in that project already has exactly this content");
    }
    throw err;
  });
  if (updated.length === 0) {
    // Visible (findMemory succeeded) but not updatable: RLS says read-only, or a racing write.
    if (expected_version !== undefined) throw conflict(`Memory ${id} changed concurrently`);
    throw readOnly(current.project);
  }
  return { before: current, after: await findMemory(tx, id) };
}

/**
 * `oldId` may be superseded by a memory of `projectId` (`selfId`, or a new one when null): a
 * memory the caller can see, of the same project, and not a link back to itself (a cycle would
 * hide both from search).
 */
async function checkSupersedes(
  tx: Queryable,
  oldId: string,
  projectId: string,
  selfId: string | null,
): Promise<void> {
  if (oldId === selfId) throw badRequest("A memory cannot supersede itself");
  const old = await findMemory(tx, oldId).catch(() => {
    throw badRequest(`supersedes: memory ${oldId} not found`);
  });
  if (old.project_id !== projectId) {
    throw badRequest(
      `supersedes: memory ${oldId} is in project ${old.project}; a memory can only supersede one of its own project`,
    );
  }
  if (selfId === null) return;
  const [cycle] = await tx.query(
    `with recursive chain(id, depth) as (
       select m.supersedes, 1 from memories m where m.id = $1
       union all
       select m.supersedes, c.depth + 1 from chain c join memories m on m.id = c.id
       where c.depth < 100
     )
     select 1 from chain where id = $2 limit 1`,
    [oldId, selfId],
  );
  if (cycle) {
    throw badRequest(`supersedes: memory ${oldId} already supersedes ${selfId} (directly or not)`);
  }
}

/** A memory the user can see, or 404 (also for other users' memories: existence is not leaked). */
async function findMemory(tx: Queryable, id: string): Promise<Memory> {
  const [row] = await tx.query(
    `select ${MEMORY_COLUMNS} ${FROM_MEMORIES} where m.id = $1 and ${NOT_EXPIRED}`,
    [id],
  );
  if (!row) throw notFound(`Memory ${id} not found`);
  return toMemory(row);
}

const readOnly = (project: string) =>
  forbidden(`You have read-only access to project '${project}'`);
