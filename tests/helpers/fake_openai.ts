/**
 * A real HTTP server on 127.0.0.1 that speaks the OpenAI embeddings API
 * (POST /v1/embeddings), for testing the openai provider without the internet.
 *
 * Scripted failures are served first, one per request; after that every request succeeds with
 * `fakeVector(text, dims)` for each input, returned in reverse order to prove that clients
 * order results by `index`. Dispose it (`await using`) to shut it down.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Headers;
  /** performance.now() when the request arrived, to check retry delays. */
  at: number;
  body: { model?: string; input?: string[]; dimensions?: number; encoding_format?: string };
}

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface FakeOpenAI extends AsyncDisposable {
  /** Base URL for the client, ending in /v1. */
  readonly baseURL: string;
  readonly requests: RecordedRequest[];
  shutdown(): Promise<void>;
}

/** Deterministic, non-normalised pseudo-random vector for a text (xorshift seeded by FNV-1a). */
export function fakeVector(text: string, dims: number): number[] {
  let state = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) state = Math.imul(state ^ text.charCodeAt(i), 0x01000193);
  state ||= 1;
  const out: number[] = [];
  for (let i = 0; i < dims; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out.push(((state >>> 0) / 0xffffffff) * 4 - 2);
  }
  return out;
}

export function startFakeOpenAI(
  options: {
    failures?: ScriptedResponse[];
    /** Consulted before the scripted failures: a response to serve instead (an outage the
     * test switches on and off), or undefined to carry on as usual. */
    override?: (req: RecordedRequest) => ScriptedResponse | undefined;
    /** Dimensions to return; by default `dimensions` from the request, else 1536 like OpenAI. */
    dims?: number;
    /** Awaited before each embeddings answer: a provider that hangs until the test says. */
    hold?: () => Promise<void>;
  } = {},
): FakeOpenAI {
  const failures = [...(options.failures ?? [])];
  const requests: RecordedRequest[] = [];

  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (req) => {
      const at = performance.now();
      const path = new URL(req.url).pathname;
      const body = req.method === "POST" ? await req.json() : {};
      requests.push({ method: req.method, path, headers: req.headers, at, body });

      const failure = options.override?.(requests.at(-1)!) ?? failures.shift();
      if (failure) {
        return Response.json(failure.body ?? { error: { message: "scripted failure" } }, {
          status: failure.status,
          headers: failure.headers,
        });
      }
      if (req.method !== "POST" || path !== "/v1/embeddings") {
        return Response.json({ error: { message: `no route ${req.method} ${path}` } }, {
          status: 404,
        });
      }
      await options.hold?.();
      const inputs: string[] = body.input;
      const data = inputs.map((text, index) => ({
        object: "embedding",
        index,
        embedding: fakeVector(text, options.dims ?? body.dimensions ?? 1536),
      }));
      return Response.json({
        object: "list",
        data: data.reverse(),
        model: body.model,
        usage: { prompt_tokens: 0, total_tokens: 0 },
      });
    },
  );

  const shutdown = () => server.shutdown();
  return {
    baseURL: `http://127.0.0.1:${server.addr.port}/v1`,
    requests,
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}
