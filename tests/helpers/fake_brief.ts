/**
 * A real HTTP server on 127.0.0.1 that answers the session brief's contract
 * (POST /functions/v1/memories/brief, issue #15), for testing the Claude Code hook without the
 * stack: it records each request and answers with `reply` (default a two-item brief), or holds
 * the answer until `release()` (a server that hangs). Dispose it (`await using`) to stop it.
 */
export interface BriefRequest {
  path: string;
  authorization: string | null;
  body: Record<string, unknown>;
}

export interface FakeBrief extends AsyncDisposable {
  /** The deployment's base URL (the hook appends /functions/v1/memories/brief). */
  readonly url: string;
  readonly requests: BriefRequest[];
  /** Lets held requests answer (and stops holding new ones). */
  release(): void;
}

export const BRIEF_TEXT = "## Conventions\n- [m1] Tabs, not spaces\n## Recent decisions\n" +
  "- [m2] Deploy with deno task deploy";

export function startFakeBrief(
  opts: { status?: number; reply?: unknown; hold?: boolean } = {},
): FakeBrief {
  const requests: BriefRequest[] = [];
  let release!: () => void;
  let held = new Promise<void>((resolve) => (release = resolve));
  if (!opts.hold) held = Promise.resolve();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    // Recorded on arrival (the body filled in after), so a client that gives up is still seen.
    const request: BriefRequest = {
      path: new URL(req.url).pathname,
      authorization: req.headers.get("authorization"),
      body: {},
    };
    requests.push(request);
    request.body = await req.json().catch(() => ({}));
    await held;
    if (opts.status && opts.status !== 200) {
      return Response.json({ error: { code: "x", message: "refused" } }, { status: opts.status });
    }
    return Response.json(
      opts.reply ?? {
        project: "api",
        text: BRIEF_TEXT,
        tokens: 24,
        truncated: false,
        items: [
          { id: "m1", section: "conventions", kind: "convention", title: "Tabs, not spaces" },
          { id: "m2", section: "decisions", kind: "decision", title: "Deploy" },
        ],
      },
    );
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    release: () => release(),
    async [Symbol.asyncDispose]() {
      release();
      await server.shutdown();
    },
  };
}
