import { openPostgres } from "../../../shared/db/postgres.ts";

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh database `<DATABASE_URL's db>_<suffix>` on the same server, for a benchmark that must
 * not touch shared data. Dropped (with force) by `drop()`.
 */
export async function scratchDatabase(
  databaseUrl: string,
  suffix: string,
): Promise<ScratchDatabase> {
  const url = new URL(databaseUrl);
  const name = `${url.pathname.slice(1) || "postgres"}_${suffix}`;
  await adminExec(databaseUrl, `drop database if exists "${name}" with (force)`);
  await adminExec(databaseUrl, `create database "${name}"`);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    drop: () => adminExec(databaseUrl, `drop database if exists "${name}" with (force)`),
  };
}

async function adminExec(databaseUrl: string, sql: string) {
  const admin = openPostgres(databaseUrl, { max: 1 });
  try {
    await admin.exec(sql);
  } finally {
    await admin.close();
  }
}

/** The URL with its password masked, for commands printed in reports. */
export function redacted(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}
