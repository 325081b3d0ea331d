import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * The page may call any origin (a Supabase project), but loads code only from itself and
 * cannot be framed.
 */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; connect-src *; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  // Small, and edited in place during development: always revalidate.
  "cache-control": "no-cache",
};

/**
 * Serves the files under `root` at `mount` (e.g. /dashboard/app.js), index.html for the
 * directory itself; `mount` without the slash redirects so relative URLs resolve. Returns null
 * for paths outside `mount`. GET and HEAD only; nothing outside `root` is reachable.
 */
export function createStaticHandler(root: URL, mount: string) {
  const rootPath = fileURLToPath(root);
  return async (req: Request): Promise<Response | null> => {
    const url = new URL(req.url);
    if (url.pathname === mount) {
      return new Response(null, { status: 308, headers: { location: `${mount}/${url.search}` } });
    }
    if (!url.pathname.startsWith(`${mount}/`)) return null;
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("Method not allowed", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    let relative: string;
    try {
      relative = decodeURIComponent(url.pathname.slice(mount.length + 1)) || "index.html";
    } catch {
      return new Response("Bad request", { status: 400 });
    }
    const path = normalize(join(rootPath, relative));
    const type = TYPES[extname(path)];
    if (!path.startsWith(rootPath) || relative.includes("\0") || !type) return notFound();
    try {
      const body = await Deno.readFile(path);
      return new Response(req.method === "HEAD" ? null : body, {
        headers: { "content-type": type, ...SECURITY_HEADERS },
      });
    } catch {
      return notFound();
    }
  };
}

const notFound = () =>
  new Response("Not found", { status: 404, headers: { "content-type": "text/plain" } });
