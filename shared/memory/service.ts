import { asUser } from "../db/as_user.ts";
import type { Database, Queryable } from "../db/types.ts";
import { badRequest, conflict, forbidden, notFound } from "../errors.ts";
import { DEFAULT_LIST_LIMIT } from "./limits.ts";
import * as projects from "./projects.ts";
import { MEMORY_COLUMNS, NOT_EXPIRED, toMemory } from "./rows.ts";
import type {
  CreateProjectInput,
  ListMemoriesInput,
  SaveMemoryInput,
  UpdateMemoryInput,
} from "./schemas.ts";
import type { ListedProject, Memory, Page, Project } from "./types.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";

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

  constructor(readonly db: Database) {}

  onWrite(listener: WriteListener): void {
    this.#listeners.push(listener);
  }

  async #notify(event: Parameters<WriteListener>[0]): Promise<void> {
    for (const listener of this.#listeners) await listener(event);
  }

  /** Saves a memory; an exact duplicate in the same project returns the existing one. */
  async save(
    userId: string,
    input: SaveMemoryInput,
  ): Promise<{ memory: Memory; duplicate: boolean }> {
    const result = await asUser(this.db, userId, async (tx) => {
      const project = await projects.resolveProject(tx, userId, input.project);
      if (project.role === "reader") throw readOnly(project.slug);
      const columns = ["user_id", "project_id", "content", "metadata"];
      const values: unknown[] = [
        userId,
        project.id,
        input.content,
        input.metadata ?? {},
      ];
      for (const column of FIELD_COLUMNS) {
        if (input[column] !== undefined) {
          columns.push(column);
          values.push(input[column]);
        }
      }
      const placeholders = columns.map((c, i) => `$${i + 1}${c === "metadata" ? "::jsonb" : ""}`);
      const inserted = await tx.query<{ id: string }>(
        `insert into memories (${columns.join(", ")}) values (${placeholders.join(", ")})
         on conflict (project_id, content_hash) do nothing returning id`,
        values,
      );
      const duplicate = inserted.length === 0;
      const [row] = duplicate
        ? await tx.query(
          `select ${MEMORY_COLUMNS} ${FROM_MEMORIES}
           where m.project_id = $1 and m.content_hash = private.sha256_hex($2)`,
          [project.id, input.content],
        )
        : await tx.query(`select ${MEMORY_COLUMNS} ${FROM_MEMORIES} where m.id = $1`, [
          inserted[0].id,
        ]);
      return { memory: toMemory(row), duplicate };
    });
    if (!result.duplicate) {
      await this.#notify({
        userId,
        projectIds: [result.memory.project_id],
        action: "save",
        memoryId: result.memory.id,
      });
    }
    return result;
  }

  async get(userId: string, id: string): Promise<Memory> {
    return await asUser(this.db, userId, (tx) => findMemory(tx, id));
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
    const { expected_version, project, metadata } = patch;
    const memory = await asUser(this.db, userId, async (tx) => {
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
      for (const column of ["content", ...FIELD_COLUMNS] as const) {
        if (patch[column] !== undefined) sets.push(`${column} = ${param(patch[column])}`);
      }
      if (metadata !== undefined) sets.push(`metadata = ${param(metadata)}::jsonb`);
      if (project !== undefined) {
        const target = await projects.resolveProject(tx, userId, project);
        if (target.role === "reader") throw readOnly(target.slug);
        sets.push(`project_id = ${param(target.id)}`);
      }
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
    });
    await this.#notify({
      userId,
      projectIds: [...new Set([memory.before.project_id, memory.after.project_id])],
      action: "update",
      memoryId: id,
    });
    return memory.after;
  }

  async delete(userId: string, id: string): Promise<{ id: string; deleted: true }> {
    const projectId = await asUser(this.db, userId, async (tx) => {
      const current = await findMemory(tx, id);
      const deleted = await tx.query(`delete from memories where id = $1 returning id`, [id]);
      if (deleted.length === 0) throw readOnly(current.project);
      return current.project_id;
    });
    await this.#notify({ userId, projectIds: [projectId], action: "delete", memoryId: id });
    return { id, deleted: true };
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
