import { generateMemories } from "../scripts/bench/lib/code_memory_generator.ts";
const m = generateMemories(100000);
console.log(new Set(m.map(x => x.content)).size, new Set(m.map(x=>x.title)).size, m.reduce((s,x)=>s+x.content.length,0)/m.length);
console.log(m.slice(0,3));
