const strict = new TextDecoder("utf-8", { fatal: true });

/**
 * Whether bytes are valid UTF-8. Request bodies are decoded leniently (bad bytes become U+FFFD),
 * which would store a changed text without a word; callers refuse such bodies instead.
 */
export function isUtf8(bytes: BufferSource): boolean {
  try {
    strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
}
