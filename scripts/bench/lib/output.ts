/** Where benchmark results go: JSON under bench-results/ and a marked section of a doc. */

/** Writes `<outDir>/<name>-<timestamp>.json` and returns its path. */
export async function writeResults(outDir: string, name: string, data: unknown): Promise<string> {
  await Deno.mkdir(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const path = `${outDir}/${name}-${stamp}.json`;
  await Deno.writeTextFile(
    path,
    JSON.stringify({ date: new Date().toISOString(), ...data as object }, null, 2) + "\n",
  );
  console.log(`\nwrote ${path}`);
  return path;
}

/**
 * Replaces the `<!-- <name>-benchmark:start -->…end` section of a Markdown doc (appending it the
 * first time), so each benchmark refreshes its own figures without touching the others'.
 */
export async function updateDocSection(docPath: string, name: string, markdown: string) {
  const start = `<!-- ${name}-benchmark:start -->`;
  const end = `<!-- ${name}-benchmark:end -->`;
  const section = `${start}\n${markdown.trim()}\n${end}`;
  const existing = await Deno.readTextFile(docPath).catch(() => "# Benchmarks\n");
  const next = existing.includes(start)
    ? existing.replace(new RegExp(`${start}[\\s\\S]*?${end}`), () => section)
    : `${existing.trimEnd()}\n\n${section}\n`;
  await Deno.mkdir(docPath.replace(/\/[^/]*$/, ""), { recursive: true });
  await Deno.writeTextFile(docPath, next);
  // Formatted like every other file in the repository (deno fmt --check stays clean).
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", docPath] }).output();
  console.log(`updated ${docPath}`);
}
