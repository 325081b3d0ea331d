// `deno task bench <name> [options]`: runs the benchmark scripts/bench/<name>.ts, which exports
// `main(args: string[]): Promise<void>`. Without a (known) name, lists the benchmarks. Helpers
// shared by benchmarks live in scripts/bench/lib/.
const dir = new URL("./bench/", import.meta.url);
const available = [...Deno.readDirSync(dir)]
  .filter((e) => e.isFile && e.name.endsWith(".ts"))
  .map((e) => e.name.slice(0, -3))
  .sort();

const [name, ...args] = Deno.args;
if (!name || !available.includes(name)) {
  console.error(`Usage: deno task bench <${available.join("|")}> [options]`);
  Deno.exit(name ? 2 : 0);
}
const bench = await import(new URL(`${name}.ts`, dir).href) as {
  main(args: string[]): Promise<void>;
};
await bench.main(args);
