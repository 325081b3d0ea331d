import { createHash } from "node:crypto";

/** Hex SHA-256 of a text (synchronous: cache keys are computed on every request). */
export const sha256Hex = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/** The query as it is embedded, matched and cached: NFC, whitespace collapsed, trimmed. */
export function normalizeQuery(query: string): string {
  return query.normalize("NFC").replace(/\s+/g, " ").trim();
}

/** Keys of a plain object in a stable order, so equal requests serialise identically. */
export function stableJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
        : v,
  );
}
