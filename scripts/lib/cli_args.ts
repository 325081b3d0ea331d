import { parseArgs, type ParseArgsConfig } from "node:util";

/**
 * `parseArgs` with positionals allowed, for commands whose bad usage exits 2: an unknown option
 * or a missing value prints the message and the usage, and gives null.
 */
export function parseCliArgs<T extends ParseArgsConfig["options"]>(
  argv: string[],
  options: T,
  usage: string,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true });
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    return null;
  }
}
