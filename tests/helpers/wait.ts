/**
 * Polls `probe` until it returns something other than undefined/false, or fails after
 * `timeoutMs` with the message and the last value seen. For asynchronous effects (webhooks,
 * sweeps) without fixed sleeps.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 20, message = "condition" } = opts;
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  while (true) {
    last = await probe();
    if (last !== undefined && last !== false) return last as T;
    if (performance.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${message}; last: ${JSON.stringify(last)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
