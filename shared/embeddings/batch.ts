/**
 * Splits texts into consecutive batches of at most `maxItems` texts and at most `maxChars`
 * characters in total. A single text longer than `maxChars` still gets a batch of its own.
 * Order is preserved, so concatenating the batches' results lines up with the input.
 */
export function batches(texts: string[], maxItems: number, maxChars = Infinity): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let chars = 0;
  for (const text of texts) {
    if (current.length > 0 && (current.length >= maxItems || chars + text.length > maxChars)) {
      out.push(current);
      current = [];
      chars = 0;
    }
    current.push(text);
    chars += text.length;
  }
  if (current.length > 0) out.push(current);
  return out;
}
