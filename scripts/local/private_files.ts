import process from "node:process";

/**
 * Makes `dir`, a directory this program owns entirely (PGlite's data, which holds every memory
 * in clear, its WAL included), readable and writable by this user only: directories 0700,
 * files 0600, whatever the umask, also for files created later by this process (umask 077).
 * A no-op on Windows, which has no POSIX modes.
 */
export async function keepPrivate(dir: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  // Process-wide on purpose: PGlite creates files (WAL segments, relations) as it runs.
  process.umask(0o077);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await tighten(dir);
}

/** Existing entries, e.g. of a data directory made before this rule or with a loose umask. */
async function tighten(path: string): Promise<void> {
  const info = await Deno.lstat(path);
  if (info.isSymlink) return;
  if (info.isDirectory) {
    if ((info.mode! & 0o777) !== 0o700) await Deno.chmod(path, 0o700);
    for await (const entry of Deno.readDir(path)) await tighten(`${path}/${entry.name}`);
  } else if ((info.mode! & 0o777) !== 0o600) {
    await Deno.chmod(path, 0o600);
  }
}
