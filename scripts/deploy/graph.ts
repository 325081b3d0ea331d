// What a function's module graph holds, as `deno info --json` reports it: the check Supabase's
// troubleshooting guide tells users to run before deploying. Its total is the size `deno info`
// prints: every module of the repository plus the whole folder of every npm package reached.
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { REPO_ROOT } from "./supabase_config.ts";

export interface PackageSize {
  /** e.g. "openai@7.57.0" (without deno's peer-dependency suffix). */
  name: string;
  bytes: number;
}

export interface FunctionGraph {
  /** Repository files in the graph, relative to the root (e.g. "shared/config.ts"). */
  files: string[];
  /** npm packages reached (directly or through other packages), largest first. */
  packages: PackageSize[];
  /** What `deno info <entry>` prints as "size". */
  totalBytes: number;
}

interface InfoModule {
  kind: string;
  specifier: string;
  size?: number;
  npmPackage?: string;
  dependencies?: { code?: unknown; npmPackage?: string }[];
}

interface Info {
  modules: InfoModule[];
  npmPackages: Record<
    string,
    { name: string; version: string; dependencies: string[]; localPath: string }
  >;
}

export async function functionGraph(entrypoint: string): Promise<FunctionGraph> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entrypoint],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`deno info ${entrypoint} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as Info;
  const local = info.modules.filter((m) => m.kind === "esm" && m.specifier.startsWith("file:"));
  const roots = info.modules.flatMap((m) => [
    ...(m.kind === "npm" && m.npmPackage ? [m.npmPackage] : []),
    ...(m.dependencies ?? []).flatMap((d) => d.npmPackage ? [d.npmPackage] : []),
  ]);
  const reached = new Set<string>();
  for (const id of roots) visit(id);
  function visit(id: string) {
    if (reached.has(id) || !info.npmPackages[id]) return;
    reached.add(id);
    for (const dep of info.npmPackages[id].dependencies) visit(dep);
  }
  const packages = await Promise.all([...reached].map(async (id) => {
    const p = info.npmPackages[id];
    return { name: `${p.name}@${p.version}`, bytes: await folderBytes(p.localPath) };
  }));
  packages.sort((a, b) => b.bytes - a.bytes);
  const moduleBytes = local.reduce((sum, m) => sum + (m.size ?? 0), 0);
  return {
    files: local.map((m) => relative(REPO_ROOT, fileURLToPath(m.specifier))).sort(),
    packages,
    totalBytes: moduleBytes + packages.reduce((sum, p) => sum + p.bytes, 0),
  };
}

async function folderBytes(dir: string): Promise<number> {
  let bytes = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) bytes += await folderBytes(path);
    else if (entry.isFile) bytes += (await Deno.stat(path)).size;
  }
  return bytes;
}

/** As `deno info` prints a size ("41.97MB", in units of 1024 × 1024 bytes). */
export const denoInfoSize = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)}MB`;
