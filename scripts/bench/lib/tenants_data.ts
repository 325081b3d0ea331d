/**
 * The multi-tenant dataset of `deno task bench tenants`: `rows` generated code memories across
 * `users` users, sized like a real service (Zipf: a few users hold tens of thousands of memories,
 * most fewer than a thousand), plus team projects that several users share. Loaded the way one
 * restores a dump, straight into PostgreSQL: users and projects by set-based SQL, memories by one
 * COPY with their hash-provider vectors computed in the loader (the embed webhook fires once per
 * statement and sends nothing for rows that arrive embedded), the vector and full-text indexes
 * dropped during the load and rebuilt afterwards, timed and measured.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import postgres from "postgres";
import type { Database } from "../../../shared/db/types.ts";
import { embeddingText, toVectorLiteral } from "../../../shared/embed/worker.ts";
import { HASH_MODEL, hashEmbed } from "../../../shared/embeddings/hash.ts";
import { generateMemory, prng } from "./code_memory_generator.ts";

export interface TenantsShape {
  rows: number;
  users: number;
  /** Share of the rows written to team projects (the rest to the authors' own projects). */
  teamShare: number;
  teams: number;
  seed: number;
}

export const DEFAULT_SHAPE: TenantsShape = {
  rows: 100_000,
  users: 1_000,
  teamShare: 0.1,
  teams: 20,
  seed: 42,
};

export interface Tenant {
  userId: string;
  /** Rows the user can read: own projects plus the team projects they are a member of. */
  visible: number;
  own: number;
}

export interface IndexBuild {
  name: string;
  seconds: number;
  mb: number;
  /** Built by a migration applied to a kept database, after the load. */
  migrated?: boolean;
}

export interface TenantsData {
  tenants: Tenant[];
  model: string;
  timings: { setup_s: number; copy_s: number; analyze_s: number };
  indexes: IndexBuild[];
  table_mb: number;
}

/** Own memories per user rank: Zipf (s = 1) over the users, largest first, each at least 1. */
export function ownSizes(total: number, users: number): number[] {
  const weights = Array.from({ length: users }, (_, r) => 1 / (r + 1));
  const sum = weights.reduce((s, w) => s + w, 0);
  const sizes = weights.map((w) => Math.max(1, Math.floor((total * w) / sum)));
  // Hand the rounding remainder to the smallest users, one each.
  let rest = total - sizes.reduce((s, n) => s + n, 0);
  for (let r = users - 1; rest > 0; r = r === 0 ? users - 1 : r - 1, rest--) sizes[r]++;
  return sizes;
}

/** Own projects per user: 1, and one more per order of magnitude past 1k memories. */
const projectsFor = (size: number) => 1 + (size >= 1_000 ? 1 : 0) + (size >= 10_000 ? 2 : 0);

/** Indexes rebuilt after the load (their definitions come from the migrations). */
const REBUILT = ["memories_fts_idx", "memories_project_fts_idx", "memories_embedding_idx"];

/**
 * Creates the users, projects, team memberships and memories in the migrated, empty database at
 * `url` (a privileged connection), then rebuilds the indexes and runs VACUUM ANALYZE.
 */
export async function loadTenants(
  url: string,
  shape: TenantsShape,
  log: (line: string) => void = console.log,
): Promise<TenantsData> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { search_path: "" } });
  try {
    let started = performance.now();
    const sizes = ownSizes(Math.round(shape.rows * (1 - shape.teamShare)), shape.users);
    const userIds = (await sql<{ id: string }[]>`
      insert into auth.users (id, email)
      select gen_random_uuid(), 'tenant-' || i || '@bench.local'
      from generate_series(0, ${shape.users - 1}) i
      order by i
      returning id`).map((r) => r.id);

    // Own projects: (user rank, project number); the owner trigger adds each membership.
    const owners: number[] = [];
    sizes.forEach((size, r) => {
      for (let p = 0; p < projectsFor(size); p++) owners.push(r);
    });
    const projectIds = (await sql<{ id: string }[]>`
      insert into public.projects (owner_id, name, slug)
      select o, 'Service ' || n, 'svc-' || n
      from unnest(${owners.map((r) => userIds[r])}::uuid[], ${
      owners.map((r, i) => i - owners.indexOf(r))
    }::int[]) as x(o, n)
      returning id`).map((r) => r.id);
    const ownProjects: string[][] = userIds.map(() => []);
    owners.forEach((r, i) => ownProjects[r].push(projectIds[i]));

    // Team projects: owned by a mid-sized user, shared with 3-12 others as writers.
    const rand = prng(shape.seed);
    const teamMembers: number[][] = [];
    for (let t = 0; t < shape.teams; t++) {
      const members = new Set<number>([Math.floor(rand() * Math.min(200, shape.users))]);
      const count = 4 + Math.floor(rand() * 10);
      while (members.size < Math.min(count, shape.users)) {
        members.add(Math.floor(rand() * shape.users));
      }
      teamMembers.push([...members]);
    }
    const teamIds = (await sql<{ id: string }[]>`
      insert into public.projects (owner_id, name, slug)
      select o, 'Team ' || n, 'team-' || n
      from unnest(${teamMembers.map((m) => userIds[m[0]])}::uuid[],
        ${teamMembers.map((_, t) => t)}::int[]) as x(o, n)
      returning id`).map((r) => r.id);
    const memberships = teamMembers.flatMap((m, t) => m.slice(1).map((r) => [teamIds[t], r]));
    await sql`
      insert into public.project_members (project_id, user_id, role)
      select p, u, 'writer'
      from unnest(${memberships.map((m) => m[0] as string)}::uuid[],
        ${memberships.map((m) => userIds[m[1] as number])}::uuid[]) as x(p, u)`;

    // Who writes each memory: every user's own rows, then the team rows by random members.
    const authors: [number, string][] = [];
    sizes.forEach((size, r) => {
      for (let i = 0; i < size; i++) authors.push([r, ownProjects[r][i % ownProjects[r].length]]);
    });
    const teamRows = shape.rows - authors.length;
    for (let i = 0; i < teamRows; i++) {
      const t = i % shape.teams;
      const members = teamMembers[t];
      authors.push([members[Math.floor(rand() * members.length)], teamIds[t]]);
    }
    const setup_s = (performance.now() - started) / 1000;

    const definitions = await sql<{ indexname: string; indexdef: string }[]>`
      select indexname, indexdef from pg_catalog.pg_indexes
      where schemaname = 'public' and indexname = any (${REBUILT})`;
    for (const { indexname } of definitions) await sql.unsafe(`drop index public.${indexname}`);

    started = performance.now();
    const writable = await sql`
      copy public.memories (user_id, project_id, kind, title, content, tags, repo, file_path,
        language, symbol, embedding, embedding_model, embedding_status, embedded_at, created_at,
        updated_at)
      from stdin`.writable();
    await pipeline(
      Readable.from(copyLines(authors, userIds, shape.seed, log)),
      writable,
    );
    const copy_s = (performance.now() - started) / 1000;

    const indexes: IndexBuild[] = [];
    for (const { indexname, indexdef } of definitions) {
      started = performance.now();
      await sql.begin(async (tx) => {
        // The HNSW graph of 1M 512-d vectors needs ~3 GB to be built in memory, not on disk.
        await tx`select set_config('maintenance_work_mem', '3GB', true)`;
        await tx.unsafe(indexdef);
      });
      indexes.push({ name: indexname, seconds: (performance.now() - started) / 1000, mb: 0 });
      log(`built ${indexname} in ${indexes.at(-1)!.seconds.toFixed(1)} s`);
    }

    started = performance.now();
    await sql`vacuum analyze public.memories`;
    const analyze_s = (performance.now() - started) / 1000;

    const sizesMb = await indexSizes((q) => sql.unsafe(q));
    for (const build of indexes) build.mb = sizesMb.get(build.name) ?? 0;
    for (const [name, mb] of sizesMb) {
      if (!indexes.some((i) => i.name === name)) indexes.push({ name, seconds: NaN, mb });
    }
    const [{ mb: table_mb }] = await sql<{ mb: number }[]>`
      select round(pg_catalog.pg_table_size('public.memories') / 1048576.0)::int as mb`;

    const visible = new Map(
      (await sql<{ user_id: string; visible: number; own: number }[]>`
        select pm.user_id, count(*)::int as visible,
          count(*) filter (where m.user_id = pm.user_id)::int as own
        from public.project_members pm
        join public.memories m on m.project_id = pm.project_id
        group by pm.user_id`).map((r) => [r.user_id, r]),
    );
    const tenants = userIds.map((userId) => ({
      userId,
      visible: visible.get(userId)?.visible ?? 0,
      own: visible.get(userId)?.own ?? 0,
    }));
    return {
      tenants,
      model: HASH_MODEL,
      timings: { setup_s, copy_s, analyze_s },
      indexes,
      table_mb,
    };
  } finally {
    await sql.end();
  }
}

/**
 * Every index on memories with its size in MB, read through `query` (the loader's postgres.js
 * connection, or a kept database's pool).
 */
async function indexSizes(
  query: (sql: string) => Promise<{ name: string; mb: number }[]>,
): Promise<Map<string, number>> {
  const rows = await query(`
    select c.relname as name, round(pg_catalog.pg_relation_size(c.oid) / 1048576.0)::int as mb
    from pg_catalog.pg_index i join pg_catalog.pg_class c on c.oid = i.indexrelid
    where i.indrelid = 'public.memories'::regclass
    order by c.relname`);
  return new Map(rows.map((r) => [r.name, r.mb]));
}

/**
 * The load figures of a kept database: timings and table size from the load run's raw figures
 * (`loadRun`, the JSON `bench tenants` wrote), index sizes as they are now; an index the load
 * did not build (a later migration's) shows as built "by migration" (seconds: NaN, `migrated`).
 */
export async function keptLoadFigures(
  db: Database,
  loadRun: string,
  tenants: Tenant[],
): Promise<TenantsData> {
  const { load } = JSON.parse(await Deno.readTextFile(loadRun)) as {
    load: Omit<TenantsData, "tenants" | "model">;
  };
  const sizes = await indexSizes((sql) => db.query(sql));
  const indexes: IndexBuild[] = [...sizes].map(([name, mb]) => {
    const built = load.indexes.find((i) => i.name === name);
    return built
      ? { name, seconds: built.seconds ?? NaN, mb }
      : { name, seconds: NaN, mb, migrated: true };
  });
  return { tenants, model: HASH_MODEL, timings: load.timings, indexes, table_mb: load.table_mb };
}

/** COPY text format: backslash, tab, newline and carriage return escaped. */
const copyText = (s: string | null) =>
  s === null ? "\\N" : s.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n")
    .replace(/\r/g, "\\r");
const arrayLiteral = (items: string[]) =>
  `{${items.map((t) => `"${t.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`).join(",")}}`;

const CHUNK = 1_000;

/** The COPY input, a chunk of rows at a time (memory i is generator memory i). */
function* copyLines(
  authors: [number, string][],
  userIds: string[],
  seed: number,
  log: (line: string) => void,
): Generator<string> {
  const now = Date.now();
  for (let start = 0; start < authors.length; start += CHUNK) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(start + CHUNK, authors.length); i++) {
      const m = generateMemory(i, seed);
      const [rank, projectId] = authors[i];
      const at = new Date(now - m.age_days * 86_400_000).toISOString();
      lines.push(
        [
          userIds[rank],
          projectId,
          m.kind,
          m.title,
          m.content,
          arrayLiteral(m.tags),
          m.repo,
          m.file_path,
          m.language,
          m.symbol,
          toVectorLiteral(hashEmbed(embeddingText(m))),
          HASH_MODEL,
          "ready",
          at,
          at,
          at,
        ].map(copyText).join("\t") + "\n",
      );
    }
    if (start % 100_000 === 0) log(`copy: ${start} rows`);
    yield lines.join("");
  }
}
