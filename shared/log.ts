/** Structured one-line JSON logs (what Supabase's log explorer and local terminals both read). */
function write(level: "info" | "warn" | "error", msg: string, extra?: unknown) {
  const entry: Record<string, unknown> = { level, msg, time: new Date().toISOString() };
  if (extra instanceof Error) entry.error = { message: extra.message, stack: extra.stack };
  else if (extra !== undefined) entry.data = extra;
  (level === "error" ? console.error : console.log)(JSON.stringify(entry));
}

export const log = {
  info: (msg: string, extra?: unknown) => write("info", msg, extra),
  warn: (msg: string, extra?: unknown) => write("warn", msg, extra),
  error: (msg: string, extra?: unknown) => write("error", msg, extra),
};
