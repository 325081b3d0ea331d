// What `deno task deploy` uploads for a function: one minified JavaScript file bundled here from
// functions/<name>/index.ts (npm packages inlined), measured and checked against its budget
// before anything reaches the project. Why a bundle and not the source graph: README, "Deploy".
import { decode } from "@jridgewell/sourcemap-codec";
import { dirname, join, relative, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import type { FunctionName } from "../../shared/app/functions.ts";
import { REPO_ROOT } from "./supabase_config.ts";

/** Where deploy builds: a Supabase workdir (supabase/config.toml + functions/<name>/index.js). */
export const BUILD_DIR = join(REPO_ROOT, ".build", "deploy");

export interface Budget {
  /** Minified bundle, bytes. */
  bytes: number;
  /** The same, gzipped (level 9), bytes. */
  gzipBytes: number;
}

/**
 * Per function, well inside Supabase's 5 MB server-side limit; mcp and memories carry the MCP SDK
 * or hono and the memory service, embed and analytics less (docs/benchmarks.md, "Edge bundles").
 */
export const BUDGETS = {
  mcp: { bytes: 1_600_000, gzipBytes: 420_000 },
  memories: { bytes: 1_600_000, gzipBytes: 420_000 },
  embed: { bytes: 1_000_000, gzipBytes: 260_000 },
  analytics: { bytes: 800_000, gzipBytes: 200_000 },
} satisfies Record<FunctionName, Budget>;

/** A package (`openai@7.57.0`) or repository file (`shared/config.ts`) and its bundled bytes. */
export interface ModuleShare {
  module: string;
  bytes: number;
}

export interface Artifact {
  name: string;
  /** The bundle: <outDir>/supabase/functions/<name>/index.js. */
  path: string;
  bytes: number;
  gzipBytes: number;
  /** What the bundle is made of, largest first (from its source map). */
  modules: ModuleShare[];
}

export const bundlePath = (outDir: string, name: string) =>
  join(outDir, "supabase", "functions", name, "index.js");

/** Bundles one function with `deno bundle --minify` and measures the result. */
export async function buildArtifact(
  fn: { name: string; entrypointPath: string },
  outDir: string = BUILD_DIR,
): Promise<Artifact> {
  const path = bundlePath(outDir, fn.name);
  await Deno.mkdir(dirname(path), { recursive: true });
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--minify",
      "--sourcemap=external",
      "--output",
      path,
      fn.entrypointPath,
    ],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `deno bundle ${fn.entrypointPath} failed:\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  const code = await Deno.readFile(path);
  const map = JSON.parse(await Deno.readTextFile(`${path}.map`));
  return {
    name: fn.name,
    path,
    bytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    modules: moduleShares(new TextDecoder().decode(code), map, dirname(path)),
  };
}

/**
 * Attributes every generated character to the source its source-map segment points at, summed
 * per npm package (`name@version`) or repository file. Unmapped code (the bundler's glue) is
 * left out.
 */
export function moduleShares(
  code: string,
  map: { sources: string[]; mappings: string },
  mapDir: string,
): ModuleShare[] {
  const lines = code.split("\n");
  const bySource = new Map<number, number>();
  decode(map.mappings).forEach((segments, line) => {
    const length = lines[line]?.length ?? 0;
    segments.forEach((segment, i) => {
      const end = segments[i + 1]?.[0] ?? length;
      if (segment.length > 1) {
        bySource.set(segment[1]!, (bySource.get(segment[1]!) ?? 0) + end - segment[0]);
      }
    });
  });
  const byModule = new Map<string, number>();
  for (const [source, bytes] of bySource) {
    const module = moduleOf(resolve(mapDir, map.sources[source]));
    byModule.set(module, (byModule.get(module) ?? 0) + bytes);
  }
  return [...byModule].map(([module, bytes]) => ({ module, bytes }))
    .sort((a, b) => b.bytes - a.bytes);
}

/** `/…/registry.npmjs.org/@scope/name/1.2.3/…` → `@scope/name@1.2.3`; else repo-relative. */
function moduleOf(path: string): string {
  const npm = path.match(/\/registry\.npmjs\.org\/((?:@[^/]+\/)?[^/]+)\/([^/]+)\//);
  return npm ? `${npm[1]}@${npm[2]}` : relative(REPO_ROOT, path);
}

export const kb = (bytes: number) => `${Math.round(bytes / 1000)} KB`;
export const mb = (bytes: number) => `${(bytes / 1_000_000).toFixed(2)} MB`;

/** Why this artifact may not be deployed, naming its largest modules; null when within budget. */
export function budgetProblem(
  artifact: Artifact,
  budget: Budget | undefined = (BUDGETS as Record<string, Budget>)[artifact.name],
): string | null {
  if (!budget) {
    return `${artifact.name} has no size budget: add one to BUDGETS in scripts/deploy/artifact.ts`;
  }
  const over = [
    artifact.bytes > budget.bytes &&
    `${mb(artifact.bytes)} minified (budget ${mb(budget.bytes)})`,
    artifact.gzipBytes > budget.gzipBytes &&
    `${kb(artifact.gzipBytes)} gzipped (budget ${kb(budget.gzipBytes)})`,
  ].filter(Boolean);
  if (over.length === 0) return null;
  const largest = artifact.modules.slice(0, 6).map((m) => `${m.module} ${kb(m.bytes)}`);
  return `${artifact.name} is over its size budget: ${over.join(", ")}.\n` +
    `  Largest modules in its bundle: ${largest.join(", ")}.\n` +
    `  Import less into functions/${artifact.name}/index.ts (deno info shows what it reaches).`;
}
