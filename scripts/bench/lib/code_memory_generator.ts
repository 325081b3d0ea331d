/**
 * Deterministic synthetic code memories (and queries about them) for benchmarks: bugs,
 * decisions, conventions, snippets, facts and solutions about made-up services, written from
 * templates over a shared vocabulary, so queries hit realistic numbers of rows on both the
 * keyword and the semantic side. The same seed always yields the same data.
 */
import type { MemoryKind } from "../../../shared/memory/limits.ts";

export interface GeneratedMemory {
  kind: MemoryKind;
  title: string;
  content: string;
  tags: string[];
  repo: string;
  file_path: string;
  language: string;
  symbol: string;
  /** Days before now. */
  age_days: number;
}

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COMPONENTS = [
  "auth middleware",
  "billing service",
  "search indexer",
  "job queue",
  "session store",
  "upload handler",
  "webhook receiver",
  "rate limiter",
  "feature flag client",
  "GraphQL gateway",
  "email worker",
  "invoice generator",
  "notification service",
  "cache layer",
  "export pipeline",
  "image resizer",
  "audit logger",
  "permissions checker",
  "checkout flow",
  "analytics collector",
];
const TECHS = [
  "postgres",
  "redis",
  "deno",
  "react",
  "kubernetes",
  "terraform",
  "stripe",
  "s3",
  "nginx",
  "kafka",
  "pgvector",
  "supabase",
  "docker",
  "graphql",
  "typescript",
];
const SYMPTOMS = [
  "timed out under load",
  "leaked database connections",
  "returned stale data",
  "charged customers twice",
  "crashed on empty input",
  "deadlocked during migrations",
  "dropped messages on restart",
  "used too much memory",
  "logged secrets in plain text",
  "rejected valid tokens after a deploy",
  "sent duplicate emails",
  "slowed down every request by a second",
];
const CAUSES = [
  "a missing index on the foreign key",
  "a retry loop without backoff",
  "clock skew between containers",
  "an unbounded in-memory map",
  "a race between two concurrent writers",
  "reading the config before it was loaded",
  "a transaction held open across an HTTP call",
  "the connection pool being smaller than the worker count",
  "an N+1 query in the serializer",
  "a cache key that ignored the tenant",
];
const FIXES = [
  "adding a composite index",
  "exponential backoff with jitter",
  "using the database clock",
  "an LRU with a size cap",
  "an advisory lock around the write",
  "lazy initialisation",
  "moving the HTTP call after commit",
  "sizing the pool from the worker count",
  "batching the query with a join",
  "putting the tenant id into every cache key",
];
const PURPOSES = [
  "background jobs",
  "full-text search",
  "session storage",
  "file uploads",
  "rate limiting",
  "feature flags",
  "payments",
  "metrics",
  "vector search",
  "infrastructure as code",
];
const REASONS = [
  "it is already in our stack",
  "the managed offering removes on-call work",
  "it keeps latency under 50 ms at p99",
  "the team knows it well",
  "it scales horizontally without coordination",
  "it has the best TypeScript types",
];
const RULES = [
  "never call external services inside a transaction",
  "every public function validates its input with zod",
  "timestamps are stored as timestamptz in UTC",
  "money is kept in integer cents",
  "each migration is backwards compatible for one release",
  "log lines are structured JSON",
  "feature flags are removed within two sprints",
  "errors carry a stable code and a human message",
];
const FILLER = [
  "This showed up first in staging.",
  "The on-call engineer found it from the error dashboard.",
  "Add a regression test whenever this area changes.",
  "See the incident review for the timeline.",
  "Benchmarks before and after are in the pull request.",
  "Customers on the enterprise plan were affected most.",
  "The same pattern exists in two other services.",
  "Documented in the runbook as well.",
];
const VERBS = ["load", "parse", "sync", "render", "verify", "retry", "flush", "resolve", "build"];
const NOUNS = ["Token", "Invoice", "Session", "Batch", "Webhook", "Cursor", "Tenant", "Upload"];
const LANGUAGES: [string, string][] = [["typescript", "ts"], ["go", "go"], ["python", "py"], [
  "sql",
  "sql",
]];
const REPOS = ["github.com/acme/api", "github.com/acme/web", "github.com/acme/infra"];

const cap = (s: string) => s[0].toUpperCase() + s.slice(1);
const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");

/** `count` memories from `seed`; memory i is the same for any count > i. */
export function generateMemories(count: number, seed = 42): GeneratedMemory[] {
  const out: GeneratedMemory[] = [];
  for (let i = 0; i < count; i++) out.push(generateMemory(i, seed));
  return out;
}

export function generateMemory(i: number, seed = 42): GeneratedMemory {
  const rand = prng(seed * 1_000_003 + i);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)];
  const component = pick(COMPONENTS);
  const tech = pick(TECHS);
  const [language, ext] = pick(LANGUAGES);
  const symbol = `${pick(VERBS)}${pick(NOUNS)}`;
  const file_path = `src/${slug(component)}/${symbol}.${ext}`;
  const ticket = `ENG-${1000 + i}`;
  const filler = Array.from({ length: Math.floor(rand() * 3) }, () => pick(FILLER)).join(" ");
  const base = {
    repo: pick(REPOS),
    file_path,
    language,
    symbol,
    age_days: Math.floor(rand() * 365),
  };
  switch (Math.floor(rand() * 6)) {
    case 0: {
      const symptom = pick(SYMPTOMS);
      return {
        ...base,
        kind: "bug",
        title: `${cap(component)} ${symptom}`,
        content: `The ${component} ${symptom} (${ticket}). Root cause: ${pick(CAUSES)}. Fixed by ${
          pick(FIXES)
        } in ${symbol}. ${filler}`.trim(),
        tags: [slug(component), tech, "bug"],
      };
    }
    case 1: {
      const purpose = pick(PURPOSES);
      return {
        ...base,
        kind: "decision",
        title: `Use ${tech} for ${purpose}`,
        content: `We chose ${tech} for ${purpose} in the ${component} because ${
          pick(REASONS)
        }. Decided in ${ticket}; revisit if traffic grows tenfold. ${filler}`.trim(),
        tags: [tech, slug(purpose), "architecture"],
      };
    }
    case 2: {
      const rule = pick(RULES);
      return {
        ...base,
        kind: "convention",
        title: cap(rule),
        content:
          `Convention for the ${component}: ${rule}. Reviewers block pull requests that break it (${ticket}). ${filler}`
            .trim(),
        tags: ["convention", slug(component)],
      };
    }
    case 3:
      return {
        ...base,
        kind: "snippet",
        title: `${symbol} helper for the ${component}`,
        content: `export async function ${symbol}(input: unknown) {\n  // ${
          pick(FIXES)
        }\n  return await ${tech}Client.${
          pick(VERBS)
        }(input);\n}\nUsed by the ${component} since ${ticket}.`,
        tags: ["snippet", tech, language],
      };
    case 4:
      return {
        ...base,
        kind: "fact",
        title: `The ${component} depends on ${tech}`,
        content: `The ${component} talks to ${tech} through ${symbol}; if ${tech} is down, it ${
          pick(SYMPTOMS)
        }. Owner: platform team (${ticket}). ${filler}`.trim(),
        tags: [tech, slug(component), "dependencies"],
      };
    default: {
      const cause = pick(CAUSES);
      return {
        ...base,
        kind: "solution",
        title: `Fix ${cause} with ${pick(FIXES)}`,
        content: `When the ${component} shows ${cause}, apply ${
          pick(FIXES)
        }. Worked for ${tech} in ${ticket}. ${filler}`
          .trim(),
        tags: [slug(component), tech, "how-to"],
      };
    }
  }
}

/** Distinct queries as agents ask them: keywords and longer descriptions, deterministic. */
export function generateQueries(count: number, seed = 7): string[] {
  const rand = prng(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)];
  const shapes = [
    () => `${pick(COMPONENTS)} ${pick(SYMPTOMS).split(" ").slice(0, 2).join(" ")}`,
    () => `${pick(TECHS)} ${pick(PURPOSES)}`,
    () => `why did we choose ${pick(TECHS)} for ${pick(PURPOSES)}`,
    () => `how to fix ${pick(CAUSES)}`,
    () => `${pick(VERBS)}${pick(NOUNS)}`,
    () => `convention ${pick(RULES).split(" ").slice(0, 4).join(" ")}`,
  ];
  const queries = new Set<string>();
  for (let i = 0; queries.size < count; i++) queries.add(shapes[i % shapes.length]());
  return [...queries];
}
