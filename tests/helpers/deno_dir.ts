/**
 * This process's Deno cache folder, for child `deno` processes run with HOME in a temp folder:
 * without it they would look for (and fetch) every npm package under the temp HOME.
 */
let cached: string | undefined;

export function denoDir(): string {
  if (!cached) {
    const out = new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped" })
      .outputSync();
    cached = JSON.parse(new TextDecoder().decode(out.stdout)).denoDir as string;
  }
  return cached;
}
