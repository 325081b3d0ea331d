import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";

/** The header our database webhook sends; `Authorization: Bearer <secret>` is accepted too. */
export const WEBHOOK_SECRET_HEADER = "x-webhook-secret";

/** What the caller presented as the secret, or null. */
export function presentedSecret(headers: Headers): string | null {
  const direct = headers.get(WEBHOOK_SECRET_HEADER);
  if (direct) return direct;
  const match = headers.get("authorization")?.match(/^Bearer\s+(.+)$/i);
  return match ? match[1].trim() : null;
}

/**
 * Constant-time comparison: both sides are hashed first, so neither the position of the first
 * wrong byte nor the secret's length shows in the timing.
 */
export function secretsMatch(given: string, expected: string): boolean {
  const digest = (s: string) => createHash("sha256").update(Buffer.from(s, "utf8")).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export function hasValidSecret(headers: Headers, expected: string): boolean {
  const given = presentedSecret(headers);
  return given !== null && secretsMatch(given, expected);
}

/** A new random secret (256 bits, base64url) for stacks that were not given one. */
export function generateWebhookSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}
