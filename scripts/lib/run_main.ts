/**
 * Runs a CLI's main(args) → exit code. An unexpected error prints one clean line (and the usage,
 * when given) instead of a stack trace, and exits 1.
 */
export async function runMain(main: (args: string[]) => Promise<number>, usage?: string) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    if (usage) console.error(usage);
    Deno.exit(1);
  }
}
