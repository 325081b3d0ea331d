const strict = new TextDecoder("utf-8", { fatal: true });

/**
 * Whether bytes are valid UTF-8. Request bodies are decoded leniently (bad bytes become U+FFFD),
 * which would store a changed text without a word; callers refuse such bodies instead.
 */
export function isUtf8(bytes: BufferSource): boolean {
  return utf8Text(bytes) !== null;
}

/** The text of bytes that are valid UTF-8 (a leading BOM dropped, as in Request.text()), else null. */
export function utf8Text(bytes: BufferSource): string | null {
  try {
    return strict.decode(bytes);
  } catch {
    return null;
  }
}
