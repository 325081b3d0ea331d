import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { auto_explain } from "@electric-sql/pglite/contrib/auto_explain";
const pg = await PGlite.create({ extensions: { vector, auto_explain } });
const notes: string[] = [];
const onNotice = (n: { message?: string }) => notes.push(n.message ?? "");
try { await pg.query("load 'auto_explain'", [], { onNotice }); } catch (e) { console.log("load failed", (e as Error).message); }
console.log(await pg.query("show shared_preload_libraries"), await pg.query("select current_setting('auto_explain.log_min_duration', true) v"));
await pg.query("set auto_explain.log_min_duration = 0", [], { onNotice });
await pg.query("set auto_explain.log_nested_statements = on", [], { onNotice });
await pg.query("set client_min_messages = log", [], { onNotice });
await pg.exec("create table t (a int); create function f() returns int language plpgsql as $$ begin return (select count(*) from t); end $$;");
await pg.query("select f()", [], { onNotice });
console.log(notes);
