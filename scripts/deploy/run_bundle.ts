// Runs a built function bundle the way Supabase's Edge Runtime does, for the bundle tests and
// the edge benchmark: its own process, permissions for network and environment only (no file
// reads, no FFI, no subprocesses), and nothing in its environment but what Supabase provides
// plus the secrets `deno task deploy` sets.
import { functionSecrets, publicUrl } from "./plan.ts";

export interface EdgeEnvOptions {
  projectRef: string;
  /** What Supabase passes as SUPABASE_DB_URL. */
  databaseUrl: string;
  webhookSecret: string;
  /** Local settings the deploy copies as secrets (EMBEDDING_PROVIDER, OPENAI_*, UPSTASH_*…). */
  settings?: Record<string, string | undefined>;
}

/**
 * A deployed function's environment: SUPABASE_URL and SUPABASE_DB_URL from the platform, and
 * exactly the secrets the deploy sets (PUBLIC_URL, WEBHOOK_SECRET, the optional ones).
 */
export function edgeEnvironment(opts: EdgeEnvOptions): Record<string, string> {
  const secrets = functionSecrets({
    projectRef: opts.projectRef,
    env: opts.settings ?? {},
    webhookSecret: opts.webhookSecret,
  });
  return {
    SUPABASE_URL: publicUrl(opts.projectRef),
    SUPABASE_DB_URL: opts.databaseUrl,
    ...Object.fromEntries(secrets),
  };
}

export interface BundleProcess extends AsyncDisposable {
  /** Where it listens, e.g. http://127.0.0.1:41234 (routes as on Supabase: /<name>/…). */
  readonly url: string;
  readonly pid: number;
  /** Everything it wrote to stdout and stderr so far (logs, for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

const LISTENING = /Listening on (http:\/\/[^\s/]+)\//;

/**
 * Starts `deno run --allow-net --allow-env <bundle>` with only `env` (plus DENO_DIR, which Deno
 * itself needs). Edge Runtime ignores the port Deno.serve asks for; here DENO_SERVE_ADDRESS puts
 * it on a free loopback port, read back from Deno's "Listening on" line.
 */
export async function startBundle(
  bundlePath: string,
  env: Record<string, string>,
): Promise<BundleProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--no-prompt", "--no-config", bundlePath],
    clearEnv: true,
    env: {
      ...env,
      DENO_SERVE_ADDRESS: "tcp:127.0.0.1:0",
      DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
      NO_COLOR: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  let announce: (url: string) => void;
  const listening = new Promise<string>((resolve) => (announce = resolve));
  const drain = (stream: ReadableStream<Uint8Array>) =>
    stream.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({
        write(chunk) {
          output += chunk;
          const match = output.match(LISTENING);
          if (match) announce(match[1]);
        },
      }),
    );
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already exited */ }
    await child.status;
    await drained;
  };
  const url = await Promise.race([
    listening,
    child.status.then((s) => {
      throw new Error(`${bundlePath} exited with ${s.code} before listening:\n${output}`);
    }),
  ]).catch(async (err) => {
    await stop();
    throw err;
  });
  return {
    url,
    pid: child.pid,
    output: () => output,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
