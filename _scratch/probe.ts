import { openPglite, migrate } from "../shared/db/index.ts";
import { ensureUser } from "../shared/auth/api_keys.ts";
import { MemoryService } from "../shared/memory/service.ts";
import { LocalEmbeddingProvider } from "../shared/embeddings/local.ts";
import { embedMemories } from "../shared/embed/worker.ts";
import { searchRpc } from "../shared/search/rpc.ts";
import { CODE_MEMORIES, KEYWORD_QUERIES, PARAPHRASE_QUERIES } from "../tests/fixtures/code_memories.ts";
const extra = Deno.args;
const db = await openPglite(); await migrate(db);
const userId = await ensureUser(db, "probe@x");
const svc = new MemoryService(db);
for (const p of ["api","web","infra"]) await svc.createProject(userId, {name:p, slug:p});
const ids = new Map<string,string>(); const back = new Map<string,string>();
for (const {id, ...m} of CODE_MEMORIES) { const r = await svc.save(userId, m); ids.set(id, r.memory.id); back.set(r.memory.id, id); }
const emb = new LocalEmbeddingProvider();
let t = performance.now();
await embedMemories(db, emb, [...ids.values()]);
console.log("embed ms", performance.now()-t);
const queries = [...KEYWORD_QUERIES.map(q=>({...q,t:"kw"})), ...PARAPHRASE_QUERIES.map(q=>({...q,t:"para"})), ...extra.map(e => { const [query, expect] = e.split("=>"); return {query, expect, t:"extra"}; })];
const vecs = await emb.embed(queries.map(q=>q.query));
for (const [i,q] of queries.entries()) {
  const line: string[] = [];
  for (const mode of ["keyword","semantic","hybrid"] as const) {
    const hits = await svc.asUser(userId, tx => searchRpc(tx, { query_text: q.query, query_embedding: vecs[i], mode, embedding_model: emb.model, match_count: 5 }));
    const rank = hits.findIndex(h => back.get(h.id) === q.expect);
    line.push(`${mode}:${rank < 0 ? "-" : rank+1}(${hits.slice(0,3).map(h=>back.get(h.id)).join(",")})`);
  }
  console.log(q.t, JSON.stringify(q.query), q.expect, "|", line.join("  "));
}
await db.close();
