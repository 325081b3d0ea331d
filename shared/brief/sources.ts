import type { Queryable } from "../db/types.ts";
import { findProject, parseProjectRef, slugify } from "../memory/projects.ts";
import { NOT_EXPIRED, projectRefSql } from "../memory/rows.ts";
import type { Project } from "../memory/types.ts";
import type { BriefInput, BriefSection } from "./schemas.ts";

// Everything here runs inside asUser(): row level security limits it to the caller's memories.
// Each read is bounded (LIMIT) and served by an index of migration 20261207000200.

/** What the brief is about: a project, a repository (normalised), both, or neither (all). */
export interface BriefScope {
  project: Project | null;
  repo: string | null;
}

/** A memory as the brief shows it: its content cut to what a brief can use. */
export interface BriefMemory {
  id: string;
  kind: string;
  title: string | null;
  /** The first CONTENT_CHARS characters. */
  content: string;
  content_chars: number;
  project: string;
  file_path: string | null;
  symbol: string | null;
}

/** Enough content for any snippet the brief prints (shared/brief/compose.ts cuts shorter). */
const CONTENT_CHARS = 1000;
const COLUMNS = `m.id, m.kind, m.title, left(m.content, ${CONTENT_CHARS}) as content,
  char_length(m.content) as content_chars, ${projectRefSql("p")} as project, m.file_path,
  m.symbol`;

/** How many memories each section reads at most (the budget then decides what is shown). */
export const SECTION_LIMITS: Record<BriefSection, number> = {
  conventions: 20,
  files: 15,
  decisions: 8,
  task: 8,
};

/**
 * The scope the request names, or null when it names nothing the caller has: a project ref
 * that is none of theirs, or a repository no memory mentions and no project of theirs is
 * called after. Never creates anything (not even the default project).
 */
export async function resolveBriefScope(
  tx: Queryable,
  userId: string,
  input: BriefInput,
): Promise<BriefScope | null> {
  const repo = input.repo === undefined ? null : await normalizeRepo(tx, input.repo);
  if (input.project !== undefined) {
    const project = await findProject(tx, userId, parseProjectRef(input.project));
    return project ? { project, repo } : null;
  }
  if (repo === null) return { project: null, repo: null };
  // The project named after the repository ("github.com/acme/api" → your project "api").
  const name = repo.split("/").at(-1)!;
  const project = await findProject(tx, userId, { ownSlug: slugify(name) });
  if (project) return { project, repo };
  const [known] = await tx.query(
    "select 1 from memories m where m.repo_key = $1 limit 1",
    [repo],
  );
  return known ? { project: null, repo } : null;
}

/** The repository in the form memories.repo_key holds (one definition: the SQL function). */
async function normalizeRepo(tx: Queryable, repo: string): Promise<string | null> {
  const [row] = await tx.query<{ repo: string | null }>(
    "select private.normalize_repo($1) as repo",
    [repo],
  );
  return row.repo;
}

/** A file path as memories store it: relative to the repository root, no leading "./" or "/". */
export const normalizePath = (path: string) => path.replace(/^(\.\/|\/)+/, "");

/** The stored sections of a brief (the task's matches come from search). */
export async function readSections(
  tx: Queryable,
  scope: BriefScope,
  paths: string[],
): Promise<Record<Exclude<BriefSection, "task">, BriefMemory[]>> {
  const scoped = scope.project !== null || scope.repo !== null;
  return {
    conventions: scoped
      ? await read(tx, scope, {
        where: (param) => `m.kind = any (${param(["convention", "preference"])}::text[])`,
        order: "m.importance desc, m.updated_at desc, m.id",
        limit: SECTION_LIMITS.conventions,
      })
      : [],
    files: paths.length ? await readFiles(tx, scope, paths) : [],
    decisions: scoped
      ? await read(tx, scope, {
        where: () => `m.kind = 'decision'`,
        order: "m.created_at desc, m.id",
        limit: SECTION_LIMITS.decisions,
      })
      : [],
  };
}

/** Memories about the files (bugs and fixes first): exact paths, or under a directory "dir/". */
function readFiles(tx: Queryable, scope: BriefScope, paths: string[]): Promise<BriefMemory[]> {
  const normal = [...new Set(paths.map(normalizePath).filter(Boolean))];
  const files = normal.filter((p) => !p.endsWith("/"));
  const dirs = normal.filter((p) => p.endsWith("/"));
  return read(tx, scope, {
    where: (param) => {
      const match = [`m.file_path = any (${param(files)}::text[])`];
      for (const dir of dirs) match.push(`m.file_path like ${param(likePrefix(dir))}`);
      return `m.file_path is not null and (${match.join(" or ")})`;
    },
    order: `case m.kind when 'bug' then 0 when 'solution' then 1 else 2 end,
      m.importance desc, m.updated_at desc, m.id`,
    limit: SECTION_LIMITS.files,
  });
}

/** A LIKE pattern matching what starts with `prefix` (its own % _ \ taken literally). */
const likePrefix = (prefix: string) => `${prefix.replace(/[\\%_]/g, "\\$&")}%`;

async function read(
  tx: Queryable,
  scope: BriefScope,
  q: { where: (param: (v: unknown) => string) => string; order: string; limit: number },
): Promise<BriefMemory[]> {
  const params: unknown[] = [];
  const param = (v: unknown) => `$${params.push(v)}`;
  const within: string[] = [];
  if (scope.project) within.push(`m.project_id = ${param(scope.project.id)}`);
  if (scope.repo) {
    within.push(`m.repo_key = ${param(scope.repo)}`);
  }
  const where = [NOT_EXPIRED, q.where(param)];
  if (within.length) where.push(`(${within.join(" or ")})`);
  const rows = await tx.query<BriefMemory>(
    `select ${COLUMNS} from memories m join projects p on p.id = m.project_id
     where ${where.join(" and ")} order by ${q.order} limit ${param(q.limit)}`,
    params,
  );
  return rows.map((r) => ({ ...r, content_chars: Number(r.content_chars) }));
}
