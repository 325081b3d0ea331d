// `deno task deploy --project-ref <ref> [--dry-run] [--yes]`: puts Code Memory on a Supabase
// project with the Supabase CLI. First it bundles every function in supabase/config.toml,
// measures the bundles and refuses to go on if one is over its budget (--dry-run too); then
// link, function secrets, Vault entries for the embedding webhook, migrations, and the bundles.
// Every step is idempotent: after a failure, fix the cause and run it again.
import { existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs, parseEnv } from "node:util";
import { loadConfig } from "../shared/config.ts";
import {
  type Artifact,
  budgetProblem,
  BUDGETS,
  BUILD_DIR,
  buildArtifact,
  kb,
  mb,
} from "./deploy/artifact.ts";
import { denoInfoSize, functionGraph } from "./deploy/graph.ts";
import { FILE_PLACEHOLDER, planDeploy, type Step } from "./deploy/plan.ts";
import {
  bundledConfigToml,
  readSupabaseConfig,
  REPO_ROOT,
  SUPABASE_CLI_VERSION,
  type SupabaseConfig,
} from "./deploy/supabase_config.ts";
import { textTable } from "./lib/tables.ts";
import { runMain } from "./lib/run_main.ts";

const USAGE = "usage: deno task deploy --project-ref <ref> [--dry-run] [--yes] " +
  "[--env-file .env] [--build-dir .build/deploy]";

/** `SUPABASE_CLI="supabase"` uses an installed CLI; by default the pinned one via npx. */
function cliCommand(env: Record<string, string | undefined>): string[] {
  const custom = env.SUPABASE_CLI?.trim();
  return custom ? custom.split(/\s+/) : ["npx", "-y", `supabase@${SUPABASE_CLI_VERSION}`];
}

/** The env file (if present) under the real environment: an exported variable wins. */
function loadEnv(file: string): Record<string, string | undefined> {
  const fromFile = existsSync(file) ? parseEnv(Deno.readTextFileSync(file)) : {};
  return { ...fromFile, ...Deno.env.toObject() };
}

const show = (cli: string[], step: Step) =>
  [...cli, ...step.args].join(" ").replace(FILE_PLACEHOLDER, `<${step.file?.name}>`);

/** What the Supabase CLI itself reads; from the env file too, for a newcomer's convenience. */
const CLI_ENV = ["SUPABASE_ACCESS_TOKEN", "SUPABASE_DB_PASSWORD"];

async function run(cli: string[], step: Step, env: Record<string, string>): Promise<void> {
  let path: string | undefined;
  try {
    if (step.file) {
      path = await Deno.makeTempFile({ prefix: "codememory-", suffix: `-${step.file.name}` });
      await Deno.chmod(path, 0o600);
      await Deno.writeTextFile(path, step.file.content);
    }
    const args = [...cli.slice(1), ...step.args].map((a) => a === FILE_PLACEHOLDER ? path! : a);
    const { code } = await new Deno.Command(cli[0], { args, cwd: REPO_ROOT, env }).spawn().status;
    if (code !== 0) throw new Error(`"${step.title}" failed (exit ${code}); fix it and re-run`);
  } finally {
    if (path) await Deno.remove(path).catch(() => {});
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      "project-ref": { type: "string" },
      "dry-run": { type: "boolean", default: false },
      yes: { type: "boolean", default: false },
      "env-file": { type: "string", default: join(REPO_ROOT, ".env") },
      "build-dir": { type: "string", default: BUILD_DIR },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const env = loadEnv(values["env-file"]);
  loadConfig(env); // a bad value fails here, before anything reaches the project
  let webhookSecret = env.WEBHOOK_SECRET?.trim();
  if (!webhookSecret) {
    webhookSecret = Array.from(
      crypto.getRandomValues(new Uint8Array(32)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    if (!values["dry-run"]) {
      console.error("WEBHOOK_SECRET is not set: generated one. Add it to .env to keep it stable:");
      console.error(`WEBHOOK_SECRET=${webhookSecret}`);
    }
  }
  const projectRef = values["project-ref"] ?? env.SUPABASE_PROJECT_REF ?? "";
  const buildDir = resolve(values["build-dir"]);
  const config = await readSupabaseConfig();
  await buildBundles(config, buildDir);
  const steps = planDeploy({
    projectRef,
    env,
    webhookSecret,
    functions: config.functions.map((f) => f.name),
    functionsWorkdir: relative(REPO_ROOT, buildDir),
    yes: values.yes,
  });
  const cli = cliCommand(env);
  const cliEnv = Object.fromEntries(CLI_ENV.flatMap((k) => (env[k] ? [[k, env[k]]] : [])));
  for (const [i, step] of steps.entries()) {
    console.log(`\n[${i + 1}/${steps.length}] ${step.title}`);
    console.log(`$ ${show(cli, step)}`);
    if (step.file) console.log(`  ${step.file.name}: ${step.file.summary} (values not shown)`);
    if (!values["dry-run"]) await run(cli, step, cliEnv);
  }
  if (values["dry-run"]) console.log("\nDry run: nothing was executed.");
  return 0;
}

/**
 * Bundles every function into buildDir (a Supabase workdir with its own config.toml), prints
 * their sizes and throws, naming the largest modules, when one is over its budget.
 */
async function buildBundles(config: SupabaseConfig, buildDir: string): Promise<Artifact[]> {
  const missing = config.functions.filter((f) => !existsSync(f.entrypointPath));
  if (missing.length) {
    throw new Error(
      `supabase/config.toml names code that does not exist: ${
        missing.map((f) => f.entrypoint).join(", ")
      }`,
    );
  }
  await Deno.remove(buildDir, { recursive: true }).catch(() => {});
  console.log(
    `Bundling ${config.functions.length} functions into ${relative(REPO_ROOT, buildDir)}/`,
  );
  const rows: string[][] = [];
  const artifacts: Artifact[] = [];
  for (const fn of config.functions) {
    const artifact = await buildArtifact(fn, buildDir);
    const budget = (BUDGETS as Record<string, { bytes: number; gzipBytes: number }>)[fn.name];
    const graph = await functionGraph(fn.entrypointPath);
    artifacts.push(artifact);
    rows.push([
      fn.name,
      mb(artifact.bytes),
      kb(artifact.gzipBytes),
      budget ? `${mb(budget.bytes)} / ${kb(budget.gzipBytes)}` : "none",
      denoInfoSize(graph.totalBytes),
    ]);
  }
  console.log(
    textTable(["function", "bundle", "gzipped", "budget", "deno info (source graph)"], rows),
  );
  const problems = artifacts.flatMap((a) => budgetProblem(a) ?? []);
  if (problems.length) throw new Error(`not deploying:\n${problems.join("\n")}`);
  await Deno.writeTextFile(join(buildDir, "supabase", "config.toml"), bundledConfigToml(config));
  return artifacts;
}

if (import.meta.main) await runMain(main, USAGE);
