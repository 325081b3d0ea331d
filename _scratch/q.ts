import { hashEmbed } from "../shared/embeddings/hash.ts";
import { generateQueries } from "../scripts/bench/lib/code_memory_generator.ts";
const qs = generateQueries(50);
console.log(JSON.stringify(qs.slice(0, 12)));
console.log(`[${hashEmbed(qs[0]).join(",")}]`);
