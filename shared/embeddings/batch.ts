/**
 * Splits items into consecutive batches of at most `maxItems` items whose weights add up to at
 * most `maxWeight`. A single item heavier than `maxWeight` still gets a batch of its own. Order
 * is preserved, so concatenating the batches' results lines up with the input.
 */
export function batchesBy<T>(
  items: T[],
  maxItems: number,
  weight: (item: T) => number,
  maxWeight = Infinity,
): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let total = 0;
  for (const item of items) {
    const w = weight(item);
    if (current.length > 0 && (current.length >= maxItems || total + w > maxWeight)) {
      out.push(current);
      current = [];
      total = 0;
    }
    current.push(item);
    total += w;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Texts in batches of at most `maxItems` texts and `maxChars` characters in total. */
export function batches(texts: string[], maxItems: number, maxChars = Infinity): string[][] {
  return batchesBy(texts, maxItems, (text) => text.length, maxChars);
}
