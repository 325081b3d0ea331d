import { openPostgres, migrate } from "../shared/db/index.ts";
import { loadBenchData } from "../scripts/bench/lib/load_memories.ts";
const db = openPostgres("postgres://postgres@127.0.0.1:5432/cm_search_scratch");
await migrate(db);
const d = await loadBenchData(db, Number(Deno.args[0] ?? 10000));
console.log(JSON.stringify(d));
await db.close();
