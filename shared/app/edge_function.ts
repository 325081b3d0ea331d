import type { Config } from "../config.ts";
import type { Database } from "../db/types.ts";

export type Handler = (req: Request) => Promise<Response>;

/**
 * One Edge Function: the parts of the context it uses, and its request handler over them.
 * Deployed, a function builds only its own parts (serve.ts), so its module graph holds nothing
 * else; the embedded stack builds one full AppContext and hands it to every function.
 */
export interface EdgeFunction<Ctx> {
  context(config: Config, db: Database): Ctx;
  handler(ctx: Ctx): Handler;
}
