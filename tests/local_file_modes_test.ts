/**
 * The embedded stack's data files are private (security review, finding 5): PGlite's data
 * directory holds every memory in clear, its WAL included, so whatever the umask, directories
 * are 0700 and files 0600, also those of a data directory made before the rule.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { join } from "node:path";
import { openPglite } from "../scripts/local/pglite.ts";

/** Every entry under `dir` whose permission bits are not the private ones, with its mode. */
async function loose(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (path: string) => {
    const info = await Deno.lstat(path);
    const mode = info.mode! & 0o777;
    if (info.isDirectory) {
      if (mode !== 0o700) found.push(`${path} ${mode.toString(8)}`);
      for await (const entry of Deno.readDir(path)) await walk(join(path, entry.name));
    } else if (!info.isSymlink && mode !== 0o600) {
      found.push(`${path} ${mode.toString(8)}`);
    }
  };
  await walk(dir);
  return found;
}

Deno.test({
  name: "pglite data: 0700 directories and 0600 files, whatever the umask",
  ignore: Deno.build.os === "windows",
  async fn() {
    const root = await Deno.makeTempDir();
    const before = process.umask(0o000); // the loosest there is
    try {
      const dir = join(root, "pgdata");
      const db = await openPglite(dir);
      await db.query("create table notes (body text)");
      await db.query("insert into notes values ('a secret in the WAL')");
      await db.close();
      const files = (await loose(dir)).length;
      assert.deepEqual(await loose(dir), []);
      assert.equal(files, 0);

      // A data directory made before the rule (or copied in) is tightened when opened.
      await Deno.chmod(dir, 0o777);
      await Deno.chmod(join(dir, "PG_VERSION"), 0o666);
      process.umask(0o000);
      const again = await openPglite(dir);
      await again.query("insert into notes values ('another one')");
      await again.close();
      assert.deepEqual(await loose(dir), []);
    } finally {
      process.umask(before);
      await Deno.remove(root, { recursive: true });
    }
  },
});
