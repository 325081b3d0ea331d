import { fileURLToPath } from "node:url";
import { log } from "../../shared/log.ts";

const ENTRY = fileURLToPath(new URL("./browser/supabase_js.ts", import.meta.url));
/** Where the dashboard imports it from (dashboard/api.js). */
export const SUPABASE_JS_PATH = "/dashboard/vendor/supabase-js.js";

/**
 * @supabase/supabase-js as one browser ES module, built with `deno bundle` from the package
 * version deno.lock pins: served by the stack itself, so the dashboard needs no CDN (the network
 * may be closed). Built once per process.
 */
export function createBrowserModules(): (req: Request) => Promise<Response | null> {
  // Built on first use (a fraction of a second), so stacks that never serve the dashboard, like
  // most test stacks, never pay for it; a failed build is retried on the next request.
  let built: Promise<Uint8Array<ArrayBuffer>> | undefined;
  return async (req) => {
    if (new URL(req.url).pathname !== SUPABASE_JS_PATH) return null;
    try {
      built ??= build().catch((err) => {
        built = undefined;
        log.warn("building supabase-js for the dashboard failed", err);
        throw err;
      });
      return new Response(await built, {
        headers: {
          "content-type": "text/javascript; charset=utf-8",
          "cache-control": "no-cache",
          "x-content-type-options": "nosniff",
        },
      });
    } catch (err) {
      return new Response(`supabase-js could not be built: ${(err as Error).message}`, {
        status: 500,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
  };
}

async function build(): Promise<Uint8Array<ArrayBuffer>> {
  const dir = await Deno.makeTempDir({ prefix: "codememory-browser-" });
  try {
    const output = `${dir}/supabase-js.js`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        "--format",
        "esm",
        "--minify",
        "--output",
        output,
        ENTRY,
      ],
      cwd: fileURLToPath(new URL("../../", import.meta.url)),
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr).trim());
    return await Deno.readFile(output);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
