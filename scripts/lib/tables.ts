/** Tables for benchmark and eval output: plain text for the terminal, Markdown for docs. */

type Cell = string | number;

/** A left-aligned first column, right-aligned numbers, two spaces between columns. */
export function textTable(header: string[], rows: Cell[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (row: string[]) =>
    row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

/** A Markdown table; the first column left-aligned, the others right-aligned. */
export function markdownTable(header: string[], rows: Cell[][]): string {
  const line = (row: Cell[]) => `| ${row.join(" | ")} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? "---" : "---:"))), ...rows.map(line)]
    .join("\n");
}
