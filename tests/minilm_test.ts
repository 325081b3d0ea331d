/**
 * The embedded stack's `local` provider: the real all-MiniLM-L6-v2 weights (a few tests only:
 * the model is ~300 MB of RSS and CPU-heavy), their verification, and the scheduling of passes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EmbeddingConfigError } from "../shared/embeddings/errors.ts";
import { MINILM_MODEL, MiniLMEmbeddingProvider } from "../scripts/local/embeddings/minilm.ts";
import { verifyModelFiles } from "../scripts/local/embeddings/minilm_model.ts";
import { PriorityQueue } from "../scripts/local/embeddings/priority_queue.ts";

/** One provider (one worker thread, one model load) for the tests below. */
const provider = new MiniLMEmbeddingProvider();

const dot = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i], 0);

Deno.test("minilm: verified offline model, unit 384-d vectors that capture meaning", async () => {
  await provider.ready();
  assert.equal(provider.name, "local");
  assert.equal(provider.model, MINILM_MODEL);
  assert.equal(provider.semantic, true);

  const [crash, paraphrase, unrelated] = await provider.embed([
    "The login page crashes when the password is empty",
    "Signing in with a blank password makes the app crash",
    "Use tabs for indentation in Makefiles",
  ]);
  for (const v of [crash, paraphrase, unrelated]) {
    assert.equal(v.length, 384);
    assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-6);
  }
  const similar = dot(crash, paraphrase);
  assert.ok(similar > 0.6, `paraphrase: ${similar}`);
  assert.ok(dot(crash, unrelated) < 0.2, `unrelated: ${dot(crash, unrelated)}`);
  assert.deepEqual(await provider.embed([]), []);
});

Deno.test("minilm: inference runs off the serving thread", async () => {
  // 64 long texts: seconds of inference. A 5 ms timer on this thread keeps firing meanwhile.
  const text = Array.from({ length: 200 }, (_, i) => `word${i % 50} context`).join(" ");
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  const started = performance.now();
  await provider.embed(Array.from({ length: 64 }, (_, i) => `${i} ${text}`));
  const elapsed = performance.now() - started;
  clearInterval(timer);
  // A blocked thread would fire the timer about once per forward pass (16 passes).
  assert.ok(ticks > Math.max(20, elapsed / 50), `${ticks} ticks in ${elapsed.toFixed(0)} ms`);
});

Deno.test("minilm: providers in one process share one model thread", async () => {
  // A second copy of the native runtime in another worker isolate would crash the process.
  const other = new MiniLMEmbeddingProvider();
  const [a, b] = await Promise.all([
    provider.embed(["shared model thread"]),
    other.embed(["shared model thread"]),
  ]);
  assert.deepEqual(a, b);
});

Deno.test("minilm: input is capped at 256 tokens, so only the head of a long text counts", async () => {
  // 300 words of one token each: the window ends long before the differing tails.
  const head = Array.from({ length: 300 }, () => "cache").join(" ");
  const [a, b] = await provider.embed([`${head} postgres deadlock`, `${head} kubernetes pods`]);
  assert.deepEqual(a, b);
  // Within the window the same tails do change the vector.
  const [c, d] = await provider.embed(["cache postgres deadlock", "cache kubernetes pods"]);
  assert.notDeepEqual(c, d);
});

Deno.test("minilm: a batch gives the same vectors as one text at a time, in order", async () => {
  const texts = Array.from({ length: 11 }, (_, i) => `memory number ${i} about topic ${i * 7}`);
  const batched = await provider.embed(texts);
  const single = await provider.embed([texts[9]]);
  const close = batched[9].every((x, i) => Math.abs(x - single[0][i]) < 1e-4);
  assert.ok(close, "padding in a batch does not change a text's vector");
});

Deno.test("minilm: altered or missing model files are refused, naming each", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "a.json"), "hello\n");
    await Deno.writeTextFile(join(dir, "b.json"), "tampered\n");
    // sha256 of "hello\n" and of "world\n" (coreutils sha256sum).
    const manifest = {
      "a.json": "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
      "b.json": "e258d248fda94c63753607f7c4494ee0fcbe92f1a76bfdac795c9d84101eb317",
      "c.json": "0000000000000000000000000000000000000000000000000000000000000000",
    };
    await assert.rejects(
      verifyModelFiles(dir, manifest),
      (err: unknown) => {
        assert.ok(err instanceof EmbeddingConfigError);
        assert.doesNotMatch(err.message, /a\.json/);
        assert.match(err.message, /b\.json: sha256 [0-9a-f]{64}, expected e258d248/);
        assert.match(err.message, /c\.json: missing/);
        return true;
      },
    );
    await verifyModelFiles(dir, { "a.json": manifest["a.json"] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("priority queue: one job at a time, urgent jobs before queued normal ones", async () => {
  const queue = new PriorityQueue();
  const order: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let running = 0;
  const job = (name: string, wait?: Promise<void>) => async () => {
    running++;
    assert.equal(running, 1, "never two at once");
    order.push(name);
    await wait;
    running--;
    return name;
  };
  const first = queue.run(false, job("bulk-1", gate));
  const rest = [
    queue.run(false, job("bulk-2")),
    queue.run(false, job("bulk-3")),
    queue.run(true, job("query")),
  ];
  assert.equal(queue.waiting, 3);
  release();
  assert.deepEqual(await Promise.all([first, ...rest]), ["bulk-1", "bulk-2", "bulk-3", "query"]);
  assert.deepEqual(order, ["bulk-1", "query", "bulk-2", "bulk-3"]);
  await assert.rejects(queue.run(true, () => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(await queue.run(false, () => Promise.resolve("after a failure")), "after a failure");
});
