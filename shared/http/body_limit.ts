import { AppError } from "../errors.ts";

/**
 * Largest request body any function accepts. A memory is at most 32 KiB of content plus 16 KiB
 * of metadata; JSON escaping (\uXXXX) can grow that up to 6x, so 1 MiB leaves ample room while
 * keeping a flood of large bodies cheap to refuse.
 */
export const MAX_BODY_BYTES = 1024 * 1024;

export const payloadTooLarge = (max = MAX_BODY_BYTES) =>
  new AppError({
    status: 413,
    code: "payload_too_large",
    message: `Request body is larger than ${max} bytes`,
  });

/**
 * The request with its body read into memory, or a 413 as soon as it exceeds `max` bytes. A
 * declared Content-Length is checked before reading anything; a chunked body is counted as it
 * streams, so nothing beyond the limit is ever buffered.
 */
export async function limitBody(req: Request, max = MAX_BODY_BYTES): Promise<Request> {
  if (!req.body) return req;
  return new Request(req, { body: await readBody(req, max) });
}

/** The request's body (empty without one), read as limitBody reads it: at most `max` bytes. */
export async function readBody(
  req: Request,
  max = MAX_BODY_BYTES,
): Promise<Uint8Array<ArrayBuffer>> {
  if (!req.body) return new Uint8Array(0);
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > max) {
    await req.body.cancel().catch(() => {});
    throw payloadTooLarge(max);
  }
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw payloadTooLarge(max);
    }
    chunks.push(value as Uint8Array<ArrayBuffer>); // never a SharedArrayBuffer
  }
  if (chunks.length === 1) return chunks[0];
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
