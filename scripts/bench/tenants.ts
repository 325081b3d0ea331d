/**
 * Multi-tenant search benchmark (PostgreSQL only): `deno task bench tenants [--rows 100000]
 * [--users 1000] [--per-bucket 6] [--queries 20] [--keep] [--reuse] [--out bench-results]
 * [--doc docs/benchmarks.md]`. The full run is `--rows 1000000` (the better part of an hour on
 * 2 cores: mostly the HNSW build); it is a benchmark, not part of CI.
 *
 * Loads the tenants dataset (scripts/bench/lib/tenants_data.ts) into the scratch database
 * `<DATABASE_URL's db>_tenants_<rows>`, then searches as users of every size bucket (by the rows
 * they can read): `public.search_memories` per mode, in the user's asUser transaction, with
 * p50/p95 per bucket; plus index sizes and build times, and auto_explain plans (with buffers)
 * of a hybrid search by the smallest and the largest sampled user. `--keep` leaves the database
 * for more experiments and `--reuse` searches a kept one without loading it again (after
 * applying the migrations added since); with `--load-figures <the load run's JSON>` a reused run
 * writes docs/benchmarks.md too, its load figures taken from that file.
 */
import { parseArgs } from "node:util";
import { asUser } from "../../shared/db/as_user.ts";
import { migrate } from "../../shared/db/migrate.ts";
import { openPostgres } from "../../shared/db/postgres.ts";
import type { Database } from "../../shared/db/types.ts";
import { HASH_MODEL, hashEmbed } from "../../shared/embeddings/hash.ts";
import { searchRpc } from "../../shared/search/rpc.ts";
import { markdownTable, textTable } from "../lib/tables.ts";
import { generateQueries } from "./lib/code_memory_generator.ts";
import { explainSearch, noticeCollector } from "./lib/explain.ts";
import { updateDocSection, writeResults } from "./lib/output.ts";
import { commandLine, machineInfo, machineLine } from "./lib/search_report.ts";
import { type Latency, summarize } from "./lib/stats.ts";
import {
  DEFAULT_SHAPE,
  keptLoadFigures,
  loadTenants,
  type Tenant,
  type TenantsData,
} from "./lib/tenants_data.ts";

const MODES = ["hybrid", "keyword", "semantic"] as const;
/** Size buckets by the rows a user can read: [label, lower bound]. */
const BUCKETS: [string, number][] = [
  ["< 1k", 0],
  ["1k-10k", 1_000],
  ["10k-50k", 10_000],
  [">= 50k", 50_000],
];

interface BucketResult {
  bucket: string;
  users: number;
  /** Readable rows of the sampled users: smallest and largest. */
  visible: [number, number];
  modes: Record<string, Latency & { avg_hits: number }>;
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      rows: { type: "string", default: String(DEFAULT_SHAPE.rows) },
      users: { type: "string", default: String(DEFAULT_SHAPE.users) },
      "per-bucket": { type: "string", default: "6" },
      queries: { type: "string", default: "20" },
      keep: { type: "boolean", default: false },
      reuse: { type: "boolean", default: false },
      "load-figures": { type: "string" },
      out: { type: "string", default: "bench-results" },
      doc: { type: "string", default: "docs/benchmarks.md" },
    },
  });
  const databaseUrl = Deno.env.get("DATABASE_URL");
  if (!databaseUrl) throw new Error("the tenants benchmark runs on PostgreSQL: set DATABASE_URL");
  const shape = { ...DEFAULT_SHAPE, rows: Number(values.rows), users: Number(values.users) };
  const url = new URL(databaseUrl);
  const name = `${url.pathname.slice(1) || "postgres"}_tenants_${shape.rows}`;
  const admin = openPostgres(databaseUrl, { max: 1 });
  const exists = (await admin.query("select 1 from pg_database where datname = $1", [name]))
    .length > 0;
  if (!(values.reuse && exists)) {
    await admin.exec(`drop database if exists "${name}" with (force)`);
    await admin.exec(`create database "${name}"`);
  }
  await admin.close();
  url.pathname = `/${name}`;

  const db = openPostgres(url.href, { max: 2 });
  const notices = noticeCollector();
  const explainDb = openPostgres(url.href, { max: 1, onNotice: notices.push });
  try {
    let data: TenantsData | null = null;
    let tenants: Tenant[];
    if (values.reuse && exists) {
      // Migrations added since the load apply to the kept data (new indexes are built on it).
      const applied = await migrate(db);
      console.log(`reusing ${name}${applied.length ? `, migrated ${applied.join(", ")}` : ""}`);
      tenants = await readTenants(db);
      if (values["load-figures"]) data = await keptLoadFigures(db, values["load-figures"], tenants);
    } else {
      await migrate(db);
      data = await loadTenants(url.href, shape);
      tenants = data.tenants;
      console.log(
        `loaded ${shape.rows} rows: setup ${data.timings.setup_s.toFixed(1)} s, copy ${
          data.timings.copy_s.toFixed(1)
        } s, analyze ${data.timings.analyze_s.toFixed(1)} s`,
      );
    }

    const queries = generateQueries(Number(values.queries));
    const vectors = queries.map(hashEmbed);
    const search = (userId: string, q: number, mode: string) =>
      asUser(db, userId, (tx) =>
        searchRpc(tx, {
          query_text: queries[q],
          query_embedding: vectors[q],
          embedding_model: HASH_MODEL,
          match_count: 10,
          mode: mode as "hybrid",
        }));

    const buckets: BucketResult[] = [];
    const sampled = sampleBuckets(tenants, Number(values["per-bucket"]));
    for (const [bucket, users] of sampled) {
      if (users.length === 0) continue;
      const modes: BucketResult["modes"] = {};
      for (const mode of MODES) {
        const samples: number[] = [];
        let hits = 0;
        for (const user of users) {
          await search(user.userId, 0, mode); // warm this user's pages and plans
          for (let q = 0; q < queries.length; q++) {
            const started = performance.now();
            hits += (await search(user.userId, q, mode)).length;
            samples.push(performance.now() - started);
          }
        }
        modes[mode] = {
          ...summarize(samples),
          avg_hits: Math.round((hits / samples.length) * 10) / 10,
        };
      }
      const visible: [number, number] = [users[0].visible, users.at(-1)!.visible];
      buckets.push({ bucket, users: users.length, visible, modes });
      console.log(textTable(HEADER, bucketRows([buckets.at(-1)!])).split("\n").at(-1));
    }

    const all = sampled.flatMap(([, users]) => users);
    const explained: Record<string, string[]> = {};
    for (const [label, user] of [["smallest", all[0]], ["largest", all.at(-1)!]] as const) {
      const result = await explainSearch(
        explainDb,
        notices,
        () =>
          asUser(explainDb, user.userId, (tx) =>
            searchRpc(tx, {
              query_text: queries[0],
              query_embedding: vectors[0],
              embedding_model: HASH_MODEL,
              match_count: 10,
            })),
        { buffers: true },
      );
      explained[`${label} sampled user (${user.visible} readable rows)`] = result.plans;
    }

    console.log(`\n${textTable(HEADER, bucketRows(buckets))}`);
    const command = commandLine("tenants", args, databaseUrl);
    const machine = await machineInfo(databaseUrl);
    const json = await writeResults(values.out, "tenants", {
      command,
      machine,
      shape,
      load: data && { timings: data.timings, indexes: data.indexes, table_mb: data.table_mb },
      distribution: distribution(tenants),
      buckets,
      plans: explained,
    });
    if (data) {
      await updateDocSection(
        values.doc,
        "tenants",
        markdown({
          command,
          json,
          machine: machineLine(machine),
          shape,
          data,
          tenants,
          buckets,
          plans: explained,
        }),
      );
    } else {
      console.log("reused database: docs/benchmarks.md left alone (no --load-figures)");
    }
    console.log(
      values.keep ? `kept database ${name}` : `dropping ${name} (--keep leaves it for experiments)`,
    );
  } finally {
    await explainDb.close();
    await db.close();
    if (!values.keep) {
      const admin = openPostgres(databaseUrl, { max: 1 });
      await admin.exec(`drop database if exists "${name}" with (force)`);
      await admin.close();
    }
  }
}

/** The tenants of a kept database (no load figures). */
async function readTenants(db: Database): Promise<Tenant[]> {
  return await db.query<Tenant>(
    `select pm.user_id as "userId", count(m.id)::int as visible,
       count(m.id) filter (where m.user_id = pm.user_id)::int as own
     from public.project_members pm
     left join public.memories m on m.project_id = pm.project_id
     group by pm.user_id`,
  );
}

/** Up to `per` users of each bucket, spread evenly over it, smallest first. */
function sampleBuckets(tenants: Tenant[], per: number): [string, Tenant[]][] {
  const sorted = [...tenants].sort((a, b) => a.visible - b.visible);
  return BUCKETS.map(([label, lower], b) => {
    const upper = BUCKETS[b + 1]?.[1] ?? Infinity;
    const members = sorted.filter((t) => t.visible >= lower && t.visible < upper && t.visible);
    const step = members.length / Math.min(per, members.length);
    const picked = Array.from(
      { length: Math.min(per, members.length) },
      (_, i) => members[Math.floor(i * step + step / 2)],
    );
    return [label, picked];
  });
}

/** Users and rows per bucket. */
function distribution(tenants: Tenant[]) {
  return BUCKETS.map(([label, lower], b) => {
    const upper = BUCKETS[b + 1]?.[1] ?? Infinity;
    const members = tenants.filter((t) => t.visible >= lower && t.visible < upper);
    return {
      bucket: label,
      users: members.length,
      own_rows: members.reduce((s, t) => s + t.own, 0),
    };
  });
}

const HEADER = ["bucket", "users", "readable rows", ...MODES.flatMap((m) => [`${m} p50`, "p95"])];

function bucketRows(buckets: BucketResult[]) {
  return buckets.map((b) => [
    b.bucket,
    b.users,
    `${b.visible[0]}-${b.visible[1]}`,
    ...MODES.flatMap((m) => [b.modes[m].p50, b.modes[m].p95]),
  ]);
}

function markdown(r: {
  command: string;
  json: string;
  machine: string;
  shape: typeof DEFAULT_SHAPE;
  data: TenantsData;
  tenants: Tenant[];
  buckets: BucketResult[];
  plans: Record<string, string[]>;
}): string {
  const dist = distribution(r.tenants);
  return [
    "## Many tenants",
    "",
    r.machine,
    "",
    `Command: \`${r.command}\` (raw figures: \`${r.json}\`).`,
    "",
    `Data: ${r.shape.rows} generated code memories (hash-provider vectors) of ${r.shape.users}`,
    "users, sized by Zipf's law (user k writes ~1/k of the own rows: a few write tens of",
    `thousands, most a few hundred), ${r.shape.teamShare * 100}% of the rows in ${r.shape.teams}`,
    "team projects shared by 4-13 members each. Loaded with one COPY (vectors computed by the",
    "loader; the embed webhook fires once per statement and sends nothing for embedded rows), the",
    "full-text and vector indexes dropped during the load and rebuilt after it, then `VACUUM",
    "ANALYZE`.",
    "",
    markdownTable(
      ["bucket (readable rows)", "users", "own rows"],
      dist.map((d) => [d.bucket, d.users, d.own_rows]),
    ),
    "",
    `Load: setup ${r.data.timings.setup_s.toFixed(1)} s, COPY ${
      r.data.timings.copy_s.toFixed(1)
    } s, VACUUM ANALYZE ${r.data.timings.analyze_s.toFixed(1)} s; table ${r.data.table_mb} MB.`,
    "",
    markdownTable(
      ["index", "build s", "MB"],
      r.data.indexes.map((
        i,
      ) => [
        i.name,
        i.migrated
          ? "(by migration)"
          : Number.isNaN(i.seconds)
          ? "(during COPY)"
          : i.seconds.toFixed(1),
        i.mb,
      ]),
    ),
    "",
    "Search: `public.search_memories` as each sampled user (asUser transaction included), 10",
    "results, the same generated queries for everyone; latencies in ms (nearest rank) over all",
    "calls of the bucket's users.",
    "",
    markdownTable(HEADER, bucketRows(r.buckets)),
    "",
    ...Object.entries(r.plans).flatMap(([user, plans]) => [
      `<details><summary>Plans of a hybrid search by the ${user} (auto_explain, buffers)</summary>`,
      "",
      "```",
      ...plans.map((p) => p.trim()),
      "```",
      "",
      "</details>",
      "",
    ]),
  ].join("\n");
}
